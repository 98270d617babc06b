"""layercam: gray-level layers, text features and text lines of camera frames.

The pipeline of the layercam program on numpy arrays: ``Pipeline(...).process(frame)`` for
frames you already have (an OpenCV capture loop, a notebook), ``analyze(path)`` for an image
file, and ``replay(path)`` / ``camera(index)`` for streams, run by the same threads and
bounded channel as ``layercam replay`` and ``layercam live``. Every result carries the fields
of the program's ``--json`` record under the same names.
"""

from ._layercam import Pipeline, Result, Stream, __version__, analyze, replay

try:  # built without webcam support
    from ._layercam import camera
except ImportError:  # pragma: no cover
    pass

__all__ = ["Pipeline", "Result", "Stream", "analyze", "replay", "camera", "__version__"]
