//! Python bindings of layercam: [`Pipeline`] on numpy frames, files, and replays and cameras
//! as iterators over the streaming runtime. Built by maturin into `layercam._layercam`; the
//! Python package `layercam` re-exports it (see `python/layercam/__init__.pyi` for the
//! Python-side documentation).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;
use layercam::output::FrameRecord;
use layercam::output::LayerRecord;
use layercam::pipeline::lines::LinesMode;
use layercam::runtime::{Pacing, Policy, Processed, Recycler, Reporter, Runtime, RuntimeConfig};
use layercam::source::pollread::StopFlags;
use layercam::source::FrameSource;
use layercam::{Convention, Params, RgbView};
use numpy::{PyArray2, PyArray3, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyMemoryError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// The library's error as the Python exception a caller expects: bad input or parameters
/// are `ValueError`, files and devices `OSError`, exhausted memory `MemoryError`.
fn to_py(e: layercam::Error) -> PyErr {
    use layercam::Error as E;
    let msg = layercam::error::with_causes(&e);
    match e {
        E::EmptyFrame { .. }
        | E::BufferSize { .. }
        | E::TooLarge { .. }
        | E::InvalidParam { .. }
        | E::NothingToLoop(_)
        | E::Json(_) => PyValueError::new_err(msg),
        E::Image { ref source, .. } => match source {
            image::ImageError::IoError(_) => PyOSError::new_err(msg),
            _ => PyValueError::new_err(msg),
        },
        // a file that was read but holds no valid frame is bad input, not a failed read
        E::Io { ref source, .. }
            if matches!(
                source.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            ) =>
        {
            PyValueError::new_err(msg)
        }
        E::Io { .. } | E::Y4m(_) | E::Camera(_) => PyOSError::new_err(msg),
        E::OutOfMemory { .. } => PyMemoryError::new_err(msg),
        _ => PyRuntimeError::new_err(msg),
    }
}

/// The `lines` keyword: a bool (True: the default grouping) or a mode name.
fn lines_mode(lines: &Bound<'_, PyAny>) -> PyResult<LinesMode> {
    if let Ok(on) = lines.extract::<bool>() {
        Ok(if on { LinesMode::Text } else { LinesMode::Off })
    } else if let Ok(name) = lines.extract::<String>() {
        name.parse::<LinesMode>().map_err(PyValueError::new_err)
    } else {
        Err(PyValueError::new_err(
            "lines: expected True, False or a mode name (\"text\", \"seed\")",
        ))
    }
}

/// Pipeline parameters from Python keywords (the CLI's defaults).
#[allow(clippy::too_many_arguments)]
fn params(
    factor: f64,
    zoom: usize,
    power: u32,
    features: bool,
    lines: Option<&Bound<'_, PyAny>>,
    stable: bool,
    convention: &str,
    bandwidth_tolerance: f64,
    max_pixels: usize,
    threads: usize,
) -> PyResult<Params> {
    let lines = lines.map_or(Ok(LinesMode::Off), lines_mode)?;
    let convention = convention
        .parse::<Convention>()
        .map_err(PyValueError::new_err)?;
    let p = Params {
        factor,
        zoom,
        power,
        convention,
        bandwidth_tolerance,
        max_pixels,
        features: features || lines != LinesMode::Off,
        threads,
        stable,
        lines,
    };
    p.validate().map_err(to_py)?;
    Ok(p)
}

/// Where a result's buffers go when Python is done with it.
enum Home {
    /// Back to the [`Pipeline`] that made it (its next frame reuses them).
    Pool(Weak<Mutex<Vec<Processed>>>),
    /// Back to the stream's worker.
    Stream(Recycler),
    /// Nowhere (a one-off `analyze`).
    None,
}

/// One processed frame: the layers and everything the CLI's JSON reports, with the label
/// map and masks as numpy arrays over the result's own buffers (no copy).
#[pyclass(module = "layercam", name = "Result", frozen)]
struct PyLayersResult {
    p: Processed,
    /// A frame of a stream (`replay`, `camera`), which has a frame number and timing.
    stream: bool,
    home: Home,
}

impl Drop for PyLayersResult {
    fn drop(&mut self) {
        let p = std::mem::take(&mut self.p);
        match &self.home {
            Home::Pool(pool) => {
                if let Some(pool) = pool.upgrade() {
                    if let Ok(mut g) = pool.lock() {
                        // two results' buffers are all a process() loop ever needs
                        if g.len() < 2 {
                            g.push(p);
                        }
                    }
                }
            }
            Home::Stream(r) => r.recycle(p),
            Home::None => {}
        }
    }
}

impl PyLayersResult {
    fn record(&self) -> serde_json::Value {
        let value = if self.stream {
            serde_json::to_value(FrameRecord::new(&self.p))
        } else {
            let mut rec = LayerRecord::new(&self.p.origin, &self.p.layers);
            rec.features = self.p.features.clone();
            if self.p.params.is_some_and(|q| q.lines != LinesMode::Off) {
                rec.lines = Some(self.p.lines.iter().map(Into::into).collect());
            }
            serde_json::to_value(rec)
        };
        value.unwrap_or(serde_json::Value::Null)
    }

    fn lines_on(&self) -> bool {
        self.p.params.is_some_and(|q| q.lines != LinesMode::Off)
    }
}

/// A `rows × cols[ × channels]` numpy view of `buf`, a buffer of the result `owner`.
fn view<'py, D: numpy::ndarray::Dimension>(
    owner: &Bound<'py, PyLayersResult>,
    buf: &[u8],
    shape: impl numpy::ndarray::ShapeBuilder<Dim = D>,
) -> PyResult<Bound<'py, numpy::PyArray<u8, D>>> {
    let view = numpy::ndarray::ArrayView::from_shape(shape, buf)
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    // SAFETY: the array's base is `owner`, a frozen result that owns `buf` and never
    // changes or frees it while alive; the buffer goes back to the pipeline only in Drop.
    Ok(unsafe { numpy::PyArray::borrow_from_array(&view, owner.clone().into_any()) })
}

/// A JSON value as the Python object `json.loads` would give.
fn json_to_py<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value as V;
    Ok(match v {
        V::Null => py.None().into_bound(py),
        V::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        V::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        V::String(s) => s.into_pyobject(py)?.into_any(),
        V::Array(a) => {
            let list = PyList::empty(py);
            for x in a {
                list.append(json_to_py(py, x)?)?;
            }
            list.into_any()
        }
        V::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o {
                d.set_item(k, json_to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

#[pymethods]
impl PyLayersResult {
    /// Source width.
    #[getter]
    fn width(&self) -> usize {
        self.p.layers.width
    }
    /// Source height.
    #[getter]
    fn height(&self) -> usize {
        self.p.layers.height
    }
    /// Width of the label map (source width × zoom).
    #[getter]
    fn upscaled_width(&self) -> usize {
        self.p.layers.upscaled_width
    }
    /// Height of the label map.
    #[getter]
    fn upscaled_height(&self) -> usize {
        self.p.layers.upscaled_height
    }
    /// Sample standard deviation of the gray levels.
    #[getter]
    fn sigma(&self) -> f64 {
        self.p.layers.sigma
    }
    /// Kernel bandwidth h.
    #[getter]
    fn bandwidth(&self) -> f64 {
        self.p.layers.bandwidth
    }
    /// Whether h came from the bandwidth cache.
    #[getter]
    fn bandwidth_reused(&self) -> bool {
        self.p.layers.bandwidth_reused
    }
    /// Density minima.
    #[getter]
    fn minima(&self) -> Vec<u16> {
        self.p.layers.minima.clone()
    }
    /// Density maxima.
    #[getter]
    fn maxima(&self) -> Vec<u16> {
        self.p.layers.maxima.clone()
    }
    /// Layer bounds (K + 1 values from 0 to 256).
    #[getter]
    fn bounds(&self) -> Vec<u16> {
        self.p.layers.bounds.clone()
    }
    /// Peak gray level of each layer.
    #[getter]
    fn peaks(&self) -> Vec<u16> {
        self.p.layers.peaks.clone()
    }
    /// Each layer as a dict: index, peak, lo, hi, pixels.
    #[getter]
    fn layers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.record()["layers"])
    }
    /// Text-feature counts (kept_per_layer, pooled, pixels), or None without features.
    #[getter]
    fn features<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.p.features {
            Some(f) => json_to_py(py, &serde_json::to_value(f).unwrap_or_default()),
            None => Ok(py.None().into_bound(py)),
        }
    }
    /// Text lines as dicts x, y, w, h, layer (source pixels, reading order), or None
    /// without lines.
    #[getter]
    fn lines<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if !self.lines_on() {
            return Ok(py.None().into_bound(py));
        }
        let list = PyList::empty(py);
        for l in &self.p.lines {
            let d = PyDict::new(py);
            d.set_item("x", l.x)?;
            d.set_item("y", l.y)?;
            d.set_item("w", l.w)?;
            d.set_item("h", l.h)?;
            d.set_item("layer", l.layer)?;
            list.append(d)?;
        }
        Ok(list.into_any())
    }
    /// With stable layers: "carried", "updated" or "reset"; else None.
    #[getter]
    fn stability(&self) -> Option<&'static str> {
        self.p.layers.stability.map(|s| s.name())
    }
    /// Layer index of each upscaled pixel: an `upscaled_height × upscaled_width` uint8 array
    /// over this result's buffer (no copy; it keeps the result alive).
    #[getter]
    fn labels<'py>(this: Bound<'py, Self>) -> PyResult<Bound<'py, PyArray2<u8>>> {
        let l = &this.get().p.layers;
        view(&this, &l.labels, (l.upscaled_height, l.upscaled_width))
    }
    /// Gray level (0–255, after the power transform) of each upscaled pixel, shaped like
    /// `labels` (no copy).
    #[getter]
    fn levels<'py>(this: Bound<'py, Self>) -> PyResult<Bound<'py, PyArray2<u8>>> {
        let l = &this.get().p.layers;
        view(&this, &l.levels, (l.upscaled_height, l.upscaled_width))
    }
    /// The text-feature mask (255 = text feature), shaped like `labels`, or None without
    /// features (no copy).
    #[getter]
    fn text_mask<'py>(this: Bound<'py, Self>) -> PyResult<Option<Bound<'py, PyArray2<u8>>>> {
        let p = &this.get().p;
        if p.features.is_none() {
            return Ok(None);
        }
        let shape = (p.layers.upscaled_height, p.layers.upscaled_width);
        view(&this, &p.text_mask, shape).map(Some)
    }
    /// The source frame, `height × width × 3` RGB, for a frame of a stream (no copy); None
    /// for `Pipeline.process` (the caller has the frame).
    #[getter]
    fn image<'py>(this: Bound<'py, Self>) -> PyResult<Option<Bound<'py, PyArray3<u8>>>> {
        let p = &this.get().p;
        if p.rgb.is_empty() {
            return Ok(None);
        }
        view(&this, &p.rgb, (p.frame_height, p.frame_width, 3)).map(Some)
    }
    /// Where the frame came from: the file name, `frame N` of a y4m stream, ….
    #[getter]
    fn file(&self) -> &str {
        &self.p.origin
    }
    /// The frame's number in the stream (0, 1, …), None outside a stream.
    #[getter]
    fn frame(&self) -> Option<u64> {
        self.stream.then_some(self.p.index)
    }
    /// Capture time, ms since the stream started (streams).
    #[getter]
    fn timestamp_ms(&self) -> Option<f64> {
        self.stream.then_some(self.p.timestamp_ms)
    }
    /// Capture → result latency, ms (streams).
    #[getter]
    fn latency_ms(&self) -> Option<f64> {
        self.stream.then_some(self.p.latency_ms)
    }
    /// Frames dropped so far by a latest-wins stream (streams).
    #[getter]
    fn dropped(&self) -> Option<u64> {
        self.stream.then_some(self.p.dropped)
    }
    /// Time per stage and in total, ms.
    #[getter]
    fn timings_ms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(
            py,
            &serde_json::to_value(self.p.timings).unwrap_or_default(),
        )
    }
    /// The record the CLI prints with `--json` for this frame, as one line of JSON
    /// (`analyze`'s for files and `process`, `replay`'s for frames of a stream).
    fn to_json(&self) -> String {
        self.record().to_string()
    }
    /// [`to_json`](Self::to_json) as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.record())
    }
    fn __repr__(&self) -> String {
        let l = &self.p.layers;
        format!(
            "<layercam.Result {}x{}, {} layers, bounds {:?}{}>",
            l.width,
            l.height,
            l.peaks.len(),
            l.bounds,
            if self.lines_on() {
                format!(", {} lines", self.p.lines.len())
            } else {
                String::new()
            }
        )
    }
}

/// The pipeline, reused across frames.
#[pyclass(module = "layercam", name = "Pipeline")]
struct PyPipeline {
    inner: layercam::Pipeline,
    /// Buffers of results Python has let go of, for the next frames.
    pool: Arc<Mutex<Vec<Processed>>>,
    /// Channel-swapped copy of a BGR frame.
    swapped: Vec<u8>,
    /// Copy of a frame that is not C-contiguous.
    packed: Vec<u8>,
}

impl PyPipeline {
    fn result(&self, py: Python<'_>, p: Processed) -> PyResult<Py<PyLayersResult>> {
        Py::new(
            py,
            PyLayersResult {
                p,
                stream: false,
                home: Home::Pool(Arc::downgrade(&self.pool)),
            },
        )
    }
}

/// A path's file name, as the program's records name files.
fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Processes `frame` into the buffers of a result Python let go of (if any) and hands the
/// result over without copying.
fn run_pipeline(
    inner: &mut layercam::Pipeline,
    pool: &Mutex<Vec<Processed>>,
    frame: RgbView<'_>,
) -> layercam::Result<Processed> {
    let (width, height) = (frame.width, frame.height);
    let mut out = pool
        .lock()
        .ok()
        .and_then(|mut g| g.pop())
        .unwrap_or_default();
    // the recycled buffers go in before the frame, so this frame reuses them
    inner.swap_layers(&mut out.layers);
    let processed = inner.process(frame).map(|_| ());
    inner.swap_layers(&mut out.layers);
    processed?;
    out.frame_width = width;
    out.frame_height = height;
    out.origin.clear();
    out.lines.clear();
    out.lines.extend_from_slice(inner.lines());
    out.params = Some(*inner.params());
    if inner.params().features {
        out.features = Some(inner.features().counts().clone());
        inner.swap_text_mask(&mut out.text_mask);
    } else {
        out.features = None;
    }
    out.timings = *inner.timings();
    out.rgb.clear();
    Ok(out)
}

/// A frame array's shape as (height, width), checked.
fn frame_shape(frame: &PyReadonlyArrayDyn<'_, u8>) -> PyResult<(usize, usize)> {
    match frame.shape() {
        [h, w, 3] => Ok((*h, *w)),
        other => Err(PyValueError::new_err(format!(
            "frame: expected a height × width × 3 uint8 array, got shape {other:?}"
        ))),
    }
}

#[pymethods]
impl PyPipeline {
    #[new]
    #[pyo3(signature = (factor=0.2, zoom=2, power=2, features=false, lines=None, stable=false,
        convention="seed", bandwidth_tolerance=0.0, max_pixels=layercam::pipeline::DEFAULT_MAX_PIXELS,
        threads=0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        factor: f64,
        zoom: usize,
        power: u32,
        features: bool,
        lines: Option<&Bound<'_, PyAny>>,
        stable: bool,
        convention: &str,
        bandwidth_tolerance: f64,
        max_pixels: usize,
        threads: usize,
    ) -> PyResult<Self> {
        let p = params(
            factor,
            zoom,
            power,
            features,
            lines,
            stable,
            convention,
            bandwidth_tolerance,
            max_pixels,
            threads,
        )?;
        Ok(Self {
            inner: layercam::Pipeline::new(p).map_err(to_py)?,
            pool: Arc::new(Mutex::new(Vec::new())),
            swapped: Vec::new(),
            packed: Vec::new(),
        })
    }

    /// Processes one frame (height × width × 3 uint8; RGB, or BGR with `bgr=True`) with the
    /// GIL released.
    #[pyo3(signature = (frame, bgr=false))]
    fn process(
        mut slf: PyRefMut<'_, Self>,
        py: Python<'_>,
        frame: PyReadonlyArrayDyn<'_, u8>,
        bgr: bool,
    ) -> PyResult<Py<PyLayersResult>> {
        let (h, w) = frame_shape(&frame)?;
        let this = &mut *slf;
        let contiguous = frame.as_slice().ok();
        let data: &[u8] = match contiguous {
            Some(d) => d,
            None => {
                this.packed.clear();
                this.packed.extend(frame.as_array().iter().copied());
                &this.packed
            }
        };
        let (inner, swapped, pool) = (&mut this.inner, &mut this.swapped, &this.pool);
        let out = py
            .detach(|| {
                let data = if bgr {
                    swapped.clear();
                    swapped.extend(data.chunks_exact(3).flat_map(|p| [p[2], p[1], p[0]]));
                    &swapped[..]
                } else {
                    data
                };
                run_pipeline(inner, pool, RgbView::new(w, h, data)?)
            })
            .map_err(to_py)?;
        this.result(py, out)
    }

    /// Reads an image file and processes it with this pipeline (its buffers reused), as
    /// `layercam.analyze` does with a pipeline of its own.
    fn analyze(
        mut slf: PyRefMut<'_, Self>,
        py: Python<'_>,
        path: PathBuf,
    ) -> PyResult<Py<PyLayersResult>> {
        let this = &mut *slf;
        let (inner, pool) = (&mut this.inner, &this.pool);
        let mut out = py
            .detach(|| {
                let frame = layercam::read_image_limited(&path, 0, inner.params().max_pixels)?;
                run_pipeline(inner, pool, frame.view())
            })
            .map_err(to_py)?;
        out.origin = file_name(&path);
        this.result(py, out)
    }

    /// Forgets the cached bandwidth and the stable layers' history (a new scene).
    fn reset(&mut self) {
        self.inner.reset_bandwidth();
        let p = *self.inner.params();
        if p.stable {
            let _ = self.inner.set_params(Params { stable: false, ..p });
            let _ = self.inner.set_params(p);
        }
    }

    /// The parameters, as keywords for `Pipeline(...)`.
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let p = self.inner.params();
        let mut v = serde_json::to_value(p).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("features".into(), p.features.into());
        }
        json_to_py(py, &v)
    }

    fn __repr__(&self) -> String {
        let p = self.inner.params();
        format!(
            "layercam.Pipeline(factor={}, zoom={}, power={}, features={}, lines={:?}, stable={})",
            p.factor,
            p.zoom,
            p.power,
            if p.features { "True" } else { "False" },
            format!("{:?}", p.lines).to_lowercase(),
            if p.stable { "True" } else { "False" },
        )
    }
}

/// Analyses one image file (PNG or JPEG), as `layercam analyze FILE --json` does.
#[pyfunction]
#[pyo3(signature = (path, factor=0.2, zoom=2, power=2, features=false, lines=None,
    convention="seed", max_pixels=layercam::pipeline::DEFAULT_MAX_PIXELS, threads=0))]
#[allow(clippy::too_many_arguments)]
fn analyze(
    py: Python<'_>,
    path: PathBuf,
    factor: f64,
    zoom: usize,
    power: u32,
    features: bool,
    lines: Option<&Bound<'_, PyAny>>,
    convention: &str,
    max_pixels: usize,
    threads: usize,
) -> PyResult<Py<PyLayersResult>> {
    let p = params(
        factor, zoom, power, features, lines, false, convention, 0.0, max_pixels, threads,
    )?;
    let out = py
        .detach(|| -> layercam::Result<Processed> {
            let frame = layercam::read_image_limited(&path, 0, p.max_pixels)?;
            let mut pipeline = layercam::Pipeline::new(p)?;
            pipeline.process(frame.view())?;
            let mut out = Processed::default();
            pipeline.swap_layers(&mut out.layers);
            out.origin = file_name(&path);
            out.frame_width = frame.width;
            out.frame_height = frame.height;
            out.lines = pipeline.lines().to_vec();
            out.params = Some(p);
            if p.features {
                out.features = Some(pipeline.features().counts().clone());
                pipeline.swap_text_mask(&mut out.text_mask);
            }
            out.timings = *pipeline.timings();
            Ok(out)
        })
        .map_err(to_py)?;
    Py::new(
        py,
        PyLayersResult {
            p: out,
            stream: false,
            home: Home::None,
        },
    )
}

/// A running stream (`replay`, `camera`): iterate for its results.
#[pyclass(module = "layercam", name = "Stream")]
struct PyStream {
    runtime: Option<Runtime>,
    /// The counters, kept after the stream has ended.
    stats: Arc<layercam::runtime::Stats>,
}

/// How long a wait for the next result runs without the GIL before Python's signal
/// handlers (Ctrl-C) get a look.
const WAIT_SLICE: Duration = Duration::from_millis(100);

impl PyStream {
    fn start(opener: layercam::runtime::SourceOpener, cfg: RuntimeConfig) -> PyResult<Py<PyAny>> {
        let runtime = Runtime::start(opener, cfg).map_err(to_py)?;
        let stats = runtime.stats.clone();
        Python::attach(|py| {
            Ok(Py::new(
                py,
                Self {
                    runtime: Some(runtime),
                    stats,
                },
            )?
            .into_any())
        })
    }

    /// Stops and joins the threads; the first error they met.
    fn finish(&mut self) -> PyResult<()> {
        match self.runtime.take() {
            Some(rt) => rt.join().map_err(to_py),
            None => Ok(()),
        }
    }
}

#[pymethods]
impl PyStream {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyLayersResult>>> {
        loop {
            let Some(rt) = &self.runtime else {
                return Ok(None);
            };
            let got = py.detach(|| rt.results.recv_timeout(WAIT_SLICE));
            match got {
                Ok(p) => {
                    let home = Home::Stream(rt.recycler());
                    return Py::new(
                        py,
                        PyLayersResult {
                            p,
                            stream: true,
                            home,
                        },
                    )
                    .map(Some);
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(e) = py.check_signals() {
                        let _ = py.detach(|| self.finish());
                        return Err(e);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    // the end, or an error: joining says which
                    py.detach(|| self.finish())?;
                    return Ok(None);
                }
            }
        }
    }

    /// Stops the stream and joins its threads (within a second each). Raises the error
    /// that ended the stream, if one did.
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.finish())
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __exit__(
        &mut self,
        py: Python<'_>,
        _exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    /// Counters of the run so far (or of the whole run, once it has ended): frames_in,
    /// frames_processed, dropped, skipped.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        use std::sync::atomic::Ordering::Relaxed;
        let d = PyDict::new(py);
        let s = &self.stats;
        d.set_item("frames_in", s.frames_in.load(Relaxed))?;
        d.set_item("frames_processed", s.frames_processed.load(Relaxed))?;
        d.set_item("dropped", s.dropped.load(Relaxed))?;
        d.set_item("skipped", s.skipped.load(Relaxed))?;
        Ok(d)
    }
}

/// The bandwidth tolerance of streams, as the program's `replay` and `live` default to: a
/// frame whose σ is within 5 % of the cached one reuses its bandwidth.
const STREAM_TOLERANCE: f64 = 0.05;

/// Stream settings from Python keywords.
#[allow(clippy::too_many_arguments)]
fn stream_config(
    p: Params,
    policy: Policy,
    pacing: Pacing,
    looping: bool,
    strict: bool,
    max_frames: Option<u64>,
) -> RuntimeConfig {
    RuntimeConfig {
        params: p,
        policy,
        pacing,
        looping,
        strict,
        max_frames,
        capacity: 2,
        // as the program does: Python's stderr shows them
        report: Reporter::new(|r| eprintln!("{r}")),
    }
}

/// Replays a recording (y4m file, raw camera recording, image file or folder) through the
/// streaming runtime; an iterator of results.
#[pyfunction]
#[pyo3(signature = (path, factor=0.2, zoom=2, power=2, features=false, lines=None,
    stable=false, pattern=None, fps=None, realtime=false, drop=false, r#loop=false,
    strict=false, max_frames=None, bandwidth_tolerance=STREAM_TOLERANCE,
    max_pixels=layercam::pipeline::DEFAULT_MAX_PIXELS, threads=0))]
#[allow(clippy::too_many_arguments)]
fn replay(
    py: Python<'_>,
    path: PathBuf,
    factor: f64,
    zoom: usize,
    power: u32,
    features: bool,
    lines: Option<&Bound<'_, PyAny>>,
    stable: bool,
    pattern: Option<String>,
    fps: Option<f64>,
    realtime: bool,
    drop: bool,
    r#loop: bool,
    strict: bool,
    max_frames: Option<u64>,
    bandwidth_tolerance: f64,
    max_pixels: usize,
    threads: usize,
) -> PyResult<Py<PyAny>> {
    let p = params(
        factor,
        zoom,
        power,
        features,
        lines,
        stable,
        "seed",
        bandwidth_tolerance,
        max_pixels,
        threads,
    )?;
    if let Some(f) = fps {
        if !(f.is_finite() && f > 0.0) {
            return Err(PyValueError::new_err(format!(
                "fps = {f}: expected a positive number"
            )));
        }
    }
    let source = py
        .detach(|| {
            layercam::source::open_replay(
                &path,
                pattern.as_deref(),
                max_pixels,
                StopFlags::default(),
            )
        })
        .map_err(to_py)?;
    let pacing = match (fps, realtime) {
        (Some(f), _) => Pacing::Fixed(f),
        (None, true) => Pacing::Source,
        (None, false) => Pacing::Fast,
    };
    let policy = if drop {
        Policy::LatestWins
    } else {
        Policy::Lossless
    };
    let opener: layercam::runtime::SourceOpener =
        Box::new(move || Ok(source as Box<dyn FrameSource>));
    PyStream::start(
        opener,
        stream_config(p, policy, pacing, r#loop, strict, max_frames),
    )
}

/// Frames of a webcam through the streaming runtime (latest wins: a slow consumer sees the
/// newest frame, never a backlog); an iterator of results.
#[cfg(feature = "camera")]
#[pyfunction]
#[pyo3(signature = (index=None, factor=0.2, zoom=2, power=2, features=false, lines=None,
    stable=true, size=None, fps=None, exit_on_loss=false, max_frames=None,
    bandwidth_tolerance=STREAM_TOLERANCE, threads=0))]
#[allow(clippy::too_many_arguments)]
fn camera(
    py: Python<'_>,
    index: Option<&Bound<'_, PyAny>>,
    factor: f64,
    zoom: usize,
    power: u32,
    features: bool,
    lines: Option<&Bound<'_, PyAny>>,
    stable: bool,
    size: Option<(u32, u32)>,
    fps: Option<u32>,
    exit_on_loss: bool,
    max_frames: Option<u64>,
    bandwidth_tolerance: f64,
    threads: usize,
) -> PyResult<Py<PyAny>> {
    use layercam::source::camera::{system, CameraRequest, CameraSelector, CameraSource};
    let p = params(
        factor,
        zoom,
        power,
        features,
        lines,
        stable,
        "seed",
        bandwidth_tolerance,
        layercam::pipeline::DEFAULT_MAX_PIXELS,
        threads,
    )?;
    let selector = match index {
        None => CameraSelector::First,
        Some(i) => {
            let text = match i.extract::<u32>() {
                Ok(n) => n.to_string(),
                Err(_) => i.extract::<String>().map_err(|_| {
                    PyValueError::new_err("index: expected a camera number, path or name")
                })?,
            };
            text.parse::<CameraSelector>()
                .map_err(PyValueError::new_err)?
        }
    };
    // a missing camera is an error here, before any thread starts
    let list = py
        .detach(|| system().and_then(|mut s| s.list()))
        .map_err(to_py)?;
    if list.is_empty() {
        return Err(PyOSError::new_err("no camera found"));
    }
    if selector.find(&list).is_none() {
        let have: Vec<String> = list
            .iter()
            .map(|c| format!("{} ({}, {})", c.index, c.name, c.path))
            .collect();
        return Err(PyOSError::new_err(format!(
            "{selector} not found; cameras: {}",
            have.join(", ")
        )));
    }
    let req = CameraRequest {
        selector,
        size,
        fps,
        exit_on_loss,
    };
    let opener: layercam::runtime::SourceOpener =
        Box::new(move || Ok(Box::new(CameraSource::open(system()?, req)?) as Box<dyn FrameSource>));
    PyStream::start(
        opener,
        stream_config(
            p,
            Policy::LatestWins,
            Pacing::Source,
            false,
            false,
            max_frames,
        ),
    )
}

/// The compiled part of the `layercam` Python package.
#[pymodule]
fn _layercam(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPipeline>()?;
    m.add_class::<PyLayersResult>()?;
    m.add_class::<PyStream>()?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(replay, m)?)?;
    #[cfg(feature = "camera")]
    m.add_function(wrap_pyfunction!(camera, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
