"""layercam: gray-level layers, text features and text lines of camera frames."""

from os import PathLike
from typing import Any, Iterator, Literal, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

LinesArg = Union[bool, Literal["text", "seed"], None]

class Result:
    """One processed frame.

    The scalar fields carry the names of the program's ``--json`` record; the arrays are
    numpy views over the result's own buffers (no copy). An array keeps its result alive;
    once both are gone, the buffers go back to the pipeline or stream for a later frame.
    """

    width: int
    """Source width."""
    height: int
    """Source height."""
    upscaled_width: int
    """Width of the label map (width × zoom)."""
    upscaled_height: int
    """Height of the label map."""
    sigma: float
    """Sample standard deviation of the gray levels."""
    bandwidth: float
    """Kernel bandwidth h (factor × sigma)."""
    bandwidth_reused: bool
    """Whether h came from the bandwidth cache."""
    minima: list[int]
    """Density minima."""
    maxima: list[int]
    """Density maxima."""
    bounds: list[int]
    """Layer bounds: K + 1 gray levels from 0 to 256."""
    peaks: list[int]
    """Peak gray level of each of the K layers."""
    layers: list[dict[str, int]]
    """Each layer: ``index``, ``peak``, ``lo`` (inclusive), ``hi`` (exclusive), ``pixels``."""
    features: Optional[dict[str, Any]]
    """Text-feature counts (``kept_per_layer``, ``pooled``, ``pixels``), None without features."""
    lines: Optional[list[dict[str, int]]]
    """Text lines ``x, y, w, h, layer`` in source pixels, reading order; None without lines."""
    stability: Optional[str]
    """With stable layers: ``"carried"``, ``"updated"`` or ``"reset"``; else None."""
    labels: npt.NDArray[np.uint8]
    """Layer index of each upscaled pixel, ``upscaled_height × upscaled_width`` (no copy)."""
    levels: npt.NDArray[np.uint8]
    """Gray level of each upscaled pixel after the power transform, shaped like ``labels``."""
    text_mask: Optional[npt.NDArray[np.uint8]]
    """Text-feature mask (255 = feature) shaped like ``labels``; None without features."""
    image: Optional[npt.NDArray[np.uint8]]
    """A stream frame's source pixels, ``height × width × 3`` RGB; None for ``process``."""
    file: str
    """Where the frame came from (file name, ``frame N`` of a y4m stream, …); empty for ``process``."""
    frame: Optional[int]
    """Frame number in a stream (0, 1, …); None outside a stream."""
    timestamp_ms: Optional[float]
    """Capture time in a stream, ms since it started."""
    latency_ms: Optional[float]
    """Capture-to-result latency in a stream, ms."""
    dropped: Optional[int]
    """Frames a latest-wins stream has dropped so far."""
    timings_ms: dict[str, float]
    """Time per stage (``luma``, ``zoom``, ``levels``, ``density``, ``labels``, ``features``,
    ``lines``) and ``total``, ms."""

    def to_json(self) -> str:
        """The program's ``--json`` record of this frame, one line (``analyze``'s schema for
        files and ``process``, ``replay``'s for stream frames)."""
    def to_dict(self) -> dict[str, Any]:
        """``to_json()`` as a dict."""

class Pipeline:
    """The layercam pipeline, reused across frames (its buffers are kept).

    >>> import numpy as np, layercam
    >>> p = layercam.Pipeline(features=True)
    >>> frame = np.zeros((480, 640, 3), np.uint8); frame[200:260, 100:500] = 255
    >>> r = p.process(frame)
    >>> r.labels.shape
    (960, 1280)

    Parameters (the program's defaults, the seed's method):

    * ``factor``: bandwidth factor, h = factor × sigma (0.001–10).
    * ``zoom``: integer upscale (1–4).
    * ``power``: power transform exponent (1–4).
    * ``features``: run the text-feature stage (``text_mask``, ``features``).
    * ``lines``: text lines: ``True`` or ``"text"``, lines grouped the way text is set (one
      box per line, good enough to read from); ``"seed"``, the series' localisation,
      seed-exact. Implies ``features``.
    * ``stable``: stable layers on video (layers from the scene's recent frames).
    * ``convention``: ``"seed"`` or ``"true"`` extrema numbers.
    * ``bandwidth_tolerance``: relative sigma drift within which h is reused (0 = never).
    * ``max_pixels``: largest frame accepted.
    * ``threads``: threads of the pipeline's pool (0 = one per core). Several pipelines in
      one process each have their own pool; give each ``threads=1`` to run one per core.

    Raises ``ValueError`` for a parameter out of range.
    """

    def __init__(
        self,
        factor: float = 0.2,
        zoom: int = 2,
        power: int = 2,
        features: bool = False,
        lines: LinesArg = None,
        stable: bool = False,
        convention: Literal["seed", "true"] = "seed",
        bandwidth_tolerance: float = 0.0,
        max_pixels: int = 16_000_000,
        threads: int = 0,
    ) -> None: ...
    def process(self, frame: npt.NDArray[np.uint8], bgr: bool = False) -> Result:
        """Processes one frame, ``height × width × 3`` uint8, with the GIL released.

        The frame is RGB; OpenCV's frames are BGR: pass ``bgr=True`` (one channel swap
        into a buffer the pipeline keeps) rather than ``cv2.cvtColor``. A C-contiguous
        frame is read in place; any other is packed first.

        Raises ``ValueError`` for a wrong shape, an empty frame or one over ``max_pixels``,
        ``TypeError`` for an array that is not uint8, ``MemoryError`` when its buffers
        cannot be allocated.
        """
    def analyze(self, path: Union[str, PathLike[str]]) -> Result:
        """Reads an image file (PNG or JPEG) and processes it with this pipeline, reusing
        its buffers: ``layercam.analyze`` for many files. Raises as ``layercam.analyze``."""
    def reset(self) -> None:
        """Forgets the cached bandwidth and the stable layers' history (a new scene)."""
    @property
    def params(self) -> dict[str, Any]:
        """The parameters in force."""

class Stream:
    """A running stream: an iterator of ``Result``, ending with the source.

    Capture and processing run on their own threads behind a bounded channel, as in the
    program. Use it in a ``with`` block, or call ``close()``, to stop early; leaving the loop
    by an exception closes it too when the stream is collected. The error that ended a
    stream (an unreadable recording, a lost camera with ``exit_on_loss``) is raised by the
    iteration that reaches it. Ctrl-C raises ``KeyboardInterrupt`` within 0.1 s.
    """

    def __iter__(self) -> Iterator[Result]: ...
    def __next__(self) -> Result: ...
    def close(self) -> None:
        """Stops the stream and joins its threads; raises the error that ended it, if any."""
    def __enter__(self) -> "Stream": ...
    def __exit__(self, *exc: object) -> bool: ...
    @property
    def stats(self) -> dict[str, int]:
        """``frames_in``, ``frames_processed``, ``dropped``, ``skipped`` so far."""

def analyze(
    path: Union[str, PathLike[str]],
    factor: float = 0.2,
    zoom: int = 2,
    power: int = 2,
    features: bool = False,
    lines: LinesArg = None,
    convention: Literal["seed", "true"] = "seed",
    max_pixels: int = 16_000_000,
    threads: int = 0,
) -> Result:
    """Analyses one image file (PNG or JPEG) as ``layercam analyze FILE --json`` does.

    Raises ``OSError`` for a file that cannot be read, ``ValueError`` for one that is not
    a readable image or is over ``max_pixels`` (checked from the header, before decoding).
    """

def replay(
    path: Union[str, PathLike[str]],
    factor: float = 0.2,
    zoom: int = 2,
    power: int = 2,
    features: bool = False,
    lines: LinesArg = None,
    stable: bool = False,
    pattern: Optional[str] = None,
    fps: Optional[float] = None,
    realtime: bool = False,
    drop: bool = False,
    loop: bool = False,
    strict: bool = False,
    max_frames: Optional[int] = None,
    bandwidth_tolerance: float = 0.05,
    max_pixels: int = 16_000_000,
    threads: int = 0,
) -> Stream:
    """Replays a recording: a ``.y4m`` file, a raw camera recording (folder with
    ``camera.json``), an image file or a folder of images (``pattern``: a glob on names).

    As fast as the pipeline goes by default; ``realtime=True`` paces at the recording's
    rate, ``fps`` at a fixed rate. Every frame is processed in order unless ``drop=True``
    (latest wins, as a live camera). As in the program's streams, a frame whose sigma is
    within ``bandwidth_tolerance`` (relative) of the cached one reuses its bandwidth; 0
    gives every frame the seed's own. Unreadable frames are skipped and counted in
    ``stats`` (with a warning on stderr) unless ``strict=True``.

    Raises ``OSError`` when the path cannot be opened, ``ValueError`` for bad parameters.
    """

def camera(
    index: Union[int, str, None] = None,
    factor: float = 0.2,
    zoom: int = 2,
    power: int = 2,
    features: bool = False,
    lines: LinesArg = None,
    stable: bool = True,
    size: Optional[Tuple[int, int]] = None,
    fps: Optional[int] = None,
    exit_on_loss: bool = False,
    max_frames: Optional[int] = None,
    bandwidth_tolerance: float = 0.05,
    threads: int = 0,
) -> Stream:
    """Frames of a webcam: ``index`` is its number, device path or part of its name
    (default: the first camera that captures video). The newest frame wins: a slow loop
    sees fresh frames, never a backlog. A camera that stops delivering is reopened (or,
    with ``exit_on_loss``, ends the stream with ``OSError``). Stable layers are on, as in
    ``layercam live``.

    Raises ``OSError`` when no such camera exists.
    """
