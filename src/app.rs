//! The commands behind the CLI (binary side: `anyhow` errors, exit codes).

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::{bail, Context, Result};
use layercam::output::{write_layer_files, LayerRecord};
use layercam::runtime::{Pacing, Policy, Reporter, Runtime, RuntimeConfig, SourceOpener};
use layercam::sink::HeadlessSink;

use crate::progress::Progress;
use layercam::source::demo::DemoSource;
use layercam::source::pollread::StopFlags;
use layercam::source::FrameSource;
use layercam::{read_image_limited, Pipeline};

use crate::cli::{AnalyzeArgs, CameraArgs, LiveArgs, RecordArgs, ReplayArgs, StreamArgs};

/// Exit code of a normal end.
pub const EXIT_OK: u8 = 0;
/// Exit code of an error (bad input, failing stage, lost camera).
pub const EXIT_ERROR: u8 = 1;
/// Exit code when interrupted by Ctrl-C or SIGTERM (the summary is still printed).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Raised by Ctrl-C / SIGTERM; every runtime polls it.
fn interrupt_flag() -> &'static Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        // a second handler cannot be installed; the flag works without it (tests)
        let _ = ctrlc::set_handler(move || f.store(true, Ordering::SeqCst));
        flag
    })
}

/// `layercam analyze`.
pub fn analyze(args: &AnalyzeArgs) -> Result<u8> {
    let params = args
        .method
        .params_for(0.0, args.crops.is_some() || args.ocr.ocr);
    let mut pipeline = Pipeline::new(params)?;
    #[cfg(not(feature = "ocr"))]
    if args.ocr.ocr {
        bail!("--ocr: this layercam was built without the ocr feature (cargo build --features ocr, with libtesseract-dev)");
    }
    #[cfg(feature = "ocr")]
    let mut reader = match args.ocr.ocr {
        true => Some(layercam::ocr::LineReader::new(&args.ocr.ocr_lang)?),
        false => None,
    };
    for dir in [&args.out, &args.crops].into_iter().flatten() {
        layercam::output::ensure_dir(dir)?;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failed = 0;
    let stems = output_stems(&args.images, args.out.as_deref().or(args.crops.as_deref()));
    // Ctrl-C and SIGTERM end the run between two images, with the interrupted code
    let flag = interrupt_flag();
    flag.store(false, Ordering::SeqCst);
    for (path, stem) in args.images.iter().zip(&stems) {
        if flag.load(Ordering::SeqCst) {
            out.flush()?;
            eprintln!("interrupted");
            return Ok(EXIT_INTERRUPTED);
        }
        match analyze_one(
            &mut pipeline,
            #[cfg(feature = "ocr")]
            reader.as_mut(),
            path,
            stem,
            args,
            &mut out,
        ) {
            Ok(()) => {}
            // the reader went away (`| head`): stop; `main` ends quietly
            Err(e) if is_broken_pipe(&e) => return Err(e),
            Err(e) => {
                failed += 1;
                eprintln!("error: {}", error_line(&e));
            }
        }
    }
    out.flush()?;
    if failed > 0 {
        bail!("{failed} of {} images failed", args.images.len());
    }
    Ok(EXIT_OK)
}

/// The file stem of an input (`image` when it has none).
fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "image".into())
}

/// The names of the `inputs` that lie in the folder `out` (canonical paths compared): the
/// files an output there could overwrite.
fn inputs_in(out: &Path, inputs: &[std::path::PathBuf]) -> Vec<String> {
    let Ok(out) = out.canonicalize() else {
        return Vec::new();
    };
    inputs
        .iter()
        .filter_map(|p| p.canonicalize().ok())
        .filter(|p| p.parent() == Some(out.as_path()))
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect()
}

/// True when writing `stem`'s outputs (`<stem>.labels.png`, `<stem>.layer<k>.png`,
/// `<stem>.density.png`, `<stem>.text.png`) would overwrite a file named in `names`.
fn overwrites_an_input(stem: &str, names: &[String]) -> bool {
    names.iter().any(|name| {
        let Some(rest) = name.strip_prefix(stem).and_then(|r| r.strip_prefix('.')) else {
            return false;
        };
        matches!(rest, "labels.png" | "density.png" | "text.png")
            || rest
                .strip_prefix("layer")
                .and_then(|r| r.strip_suffix(".png"))
                .is_some_and(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// The stem each input's `--out` files are named by, in input order: its file stem, or for
/// a later input whose stem an earlier one has (`a/x.png`, `b/x.jpg`), or whose outputs
/// would overwrite an input (`x.png` with `x.labels.png` given too, into the same folder),
/// the first free `stem-2`, `stem-3`, … (never another input's own stem), so no output
/// overwrites another or an input.
fn output_stems(paths: &[std::path::PathBuf], out: Option<&Path>) -> Vec<String> {
    let own: std::collections::HashSet<String> = paths.iter().map(|p| file_stem(p)).collect();
    let names = out.map(|o| inputs_in(o, paths)).unwrap_or_default();
    let clobbers = |stem: &str| overwrites_an_input(stem, &names);
    let mut taken = std::collections::HashSet::new();
    paths
        .iter()
        .map(|p| {
            let stem = file_stem(p);
            if !clobbers(&stem) && taken.insert(stem.clone()) {
                return stem;
            }
            let free = (2..)
                .map(|k| format!("{stem}-{k}"))
                .find(|c| !own.contains(c) && !taken.contains(c) && !clobbers(c))
                .unwrap_or_default();
            taken.insert(free.clone());
            free
        })
        .collect()
}

fn analyze_one(
    pipeline: &mut Pipeline,
    #[cfg(feature = "ocr")] ocr: Option<&mut layercam::ocr::LineReader>,
    path: &Path,
    stem: &str,
    args: &AnalyzeArgs,
    out: &mut impl Write,
) -> Result<()> {
    let frame = read_image_limited(path, 0, args.method.max_pixels)?;
    let lines_on = pipeline.params().lines != layercam::pipeline::lines::LinesMode::Off;
    let layers = pipeline
        .process(frame.view())
        .with_context(|| format!("{}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut rec = LayerRecord::new(&name, layers);
    if args.method.features {
        rec.features = Some(pipeline.features().counts().clone());
    }
    if lines_on {
        rec.lines = Some(pipeline.lines().iter().map(Into::into).collect());
    }
    #[cfg(feature = "ocr")]
    if let (Some(reader), Some(lines)) = (ocr, rec.lines.as_mut()) {
        let mut scratch = Vec::new();
        let (readings, refused) = layercam::ocr::read_lines(
            reader,
            &frame.rgb,
            frame.width,
            frame.height,
            pipeline.lines(),
            &mut scratch,
        );
        for (l, r) in lines.iter_mut().zip(readings) {
            if let Some(r) = r {
                l.text = Some(r.text);
                l.confidence = Some(r.confidence);
            }
        }
        if refused > 0 {
            eprintln!("{name}: the recogniser refused {refused} line crops (skipped)");
        }
        // what the page holds outside the lines that were read
        let read: Vec<layercam::pipeline::lines::TextLine> = lines
            .iter()
            .filter(|l| l.text.is_some())
            .map(|l| l.line)
            .collect();
        match layercam::ocr::read_outside_lines(
            reader,
            &frame.rgb,
            frame.width,
            frame.height,
            &read,
        ) {
            Ok(found) => lines.extend(found.into_iter().map(|(line, r)| {
                let layer = majority_layer(pipeline.layers(), &line);
                layercam::output::LineRecord {
                    line: layercam::pipeline::lines::TextLine { layer, ..line },
                    text: Some(r.text),
                    confidence: Some(r.confidence),
                    text_frame: None,
                    source: Some("page"),
                }
            })),
            Err(e) => eprintln!("{name}: reading outside the lines failed: {e}"),
        }
        lines.sort_by_key(|r| (r.line.y, r.line.x));
    }
    if args.json {
        serde_json::to_writer(&mut *out, &rec)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", rec.summary())?;
    }
    if let Some(dir) = &args.out {
        let mut files = write_layer_files(dir, stem, pipeline.layers())?;
        if args.method.features {
            let (w, h) = pipeline.features().size();
            let p = dir.join(format!("{stem}.text.png"));
            layercam::output::write_gray_png(&p, w, h, pipeline.features().mask())?;
            files.push(p);
        }
        if lines_on {
            let p = dir.join(format!("{stem}.lines.png"));
            let boxed = layercam::output::draw_line_boxes(
                &frame.rgb,
                frame.width,
                frame.height,
                pipeline.lines(),
            );
            layercam::output::write_rgb_png(&p, frame.width, frame.height, &boxed)?;
            files.push(p);
        }
        if !args.json {
            let own = file_stem(path);
            let renamed = if stem == own {
                String::new()
            } else if overwrites_an_input(&own, &inputs_in(dir, &args.images)) {
                format!(" as {stem}.* ({own}.* would overwrite an input)")
            } else {
                format!(" as {stem}.* (an earlier input is also named {own})")
            };
            writeln!(
                out,
                "  wrote {} files into {}{renamed}",
                files.len(),
                dir.display()
            )?;
        }
    }
    if let Some(dir) = &args.crops {
        let files = layercam::output::write_line_crops(
            dir,
            stem,
            &frame.rgb,
            pipeline.layers(),
            pipeline.lines(),
        )?;
        if !args.json {
            writeln!(
                out,
                "  wrote {} line crops into {}",
                files.len() / 2,
                dir.display()
            )?;
        }
    }
    Ok(())
}

/// The layer most of a box's label-map pixels are in (ties: the lower).
#[cfg(feature = "ocr")]
fn majority_layer(l: &layercam::Layers, b: &layercam::pipeline::lines::TextLine) -> u8 {
    let z = l.upscaled_width / l.width.max(1);
    let mut count = [0u32; 256];
    for y in (b.y as usize * z)..((b.y + b.h) as usize * z).min(l.upscaled_height) {
        let row = &l.labels[y * l.upscaled_width..(y + 1) * l.upscaled_width];
        for &v in &row[(b.x as usize * z).min(row.len())..((b.x + b.w) as usize * z).min(row.len())]
        {
            count[v as usize] += 1;
        }
    }
    (0..256).rev().max_by_key(|&k| count[k]).unwrap_or(0) as u8
}

/// `layercam cameras`.
pub fn cameras() -> Result<u8> {
    use layercam::source::camera;
    // written with `?`, not `println!`, which panics when the reader has gone (`| head`)
    let mut out = std::io::stdout().lock();
    let mut system = match camera::system() {
        Ok(s) => s,
        Err(e) => {
            writeln!(out, "No camera support: {e}")?;
            return Ok(EXIT_OK);
        }
    };
    let list = system.list()?;
    if list.is_empty() {
        writeln!(
            out,
            "No camera found. Replay recorded frames instead: layercam replay PATH"
        )?;
    }
    for c in &list {
        writeln!(
            out,
            "camera {}: {} ({}, {})",
            c.index, c.name, c.path, c.bus
        )?;
        let best = camera::choose_modes(&c.modes, None, None);
        if let Some(b) = best.first() {
            writeln!(out, "    default mode: {b}")?;
        }
        for m in &c.modes {
            let rates: Vec<String> = m.intervals.iter().map(|i| i.to_string()).collect();
            writeln!(
                out,
                "    {} {}x{} @ {}",
                m.format.fourcc(),
                m.width,
                m.height,
                if rates.is_empty() {
                    "?".to_string()
                } else {
                    rates.join(", ")
                }
            )?;
        }
        if !c.other_formats.is_empty() {
            writeln!(out, "    not decoded: {}", c.other_formats.join(", "))?;
        }
    }
    for why in system.left_out() {
        writeln!(out, "not a camera: {why}")?;
    }
    Ok(EXIT_OK)
}

fn camera_request(cam: &CameraArgs) -> layercam::source::camera::CameraRequest {
    layercam::source::camera::CameraRequest {
        selector: cam
            .camera
            .clone()
            .unwrap_or(layercam::source::camera::CameraSelector::First),
        size: cam.size,
        fps: cam.fps,
        exit_on_loss: cam.exit_on_camera_loss,
    }
}

/// Checks on this thread that the camera exists (a clear error before any thread starts),
/// then opens it on the capture thread.
fn camera_opener(cam: &CameraArgs) -> Result<SourceOpener> {
    let list = layercam::source::camera::system()?.list()?;
    camera_opener_among(cam, &list)
}

/// [`camera_opener`] with the cameras already listed.
fn camera_opener_among(
    cam: &CameraArgs,
    list: &[layercam::source::camera::DeviceInfo],
) -> Result<SourceOpener> {
    use layercam::source::camera::{system, CameraSource};
    let req = camera_request(cam);
    if list.is_empty() {
        bail!("no camera found; replay recorded frames instead: layercam replay PATH");
    }
    if req.selector.find(list).is_none() {
        let have: Vec<String> = list
            .iter()
            .map(|c| format!("{} ({}, {})", c.index, c.name, c.path))
            .collect();
        bail!("{} not found; cameras: {}", req.selector, have.join(", "));
    }
    Ok(Box::new(move || {
        Ok(Box::new(CameraSource::open(system()?, req)?) as Box<dyn FrameSource>)
    }))
}

/// True when stdout is a pipe whose reader has gone (`layercam … --json | head -1`), seen
/// without writing to it: the pipe reports an error condition.
fn stdout_reader_gone() -> bool {
    #[cfg(unix)]
    {
        let mut pfd = libc::pollfd {
            fd: 1,
            events: 0,
            revents: 0,
        };
        // SAFETY: one live pollfd; a zero timeout only looks.
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        n > 0 && pfd.revents & (libc::POLLERR | libc::POLLHUP) != 0
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// True when the error comes from writing into a pipe whose reader has gone (`layercam …
/// | head`): a normal end for a command-line tool, not a failure.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error with its causes on one line (`{:#}`), control characters escaped, and for a
/// frame over the pixel limit the option that raises it.
pub fn error_line(e: &anyhow::Error) -> String {
    let mut line = format!("{e:#}");
    let too_large = e
        .chain()
        .any(|c| matches!(c.downcast_ref(), Some(layercam::Error::TooLarge { .. })));
    if too_large {
        line.push_str(" (raise --max-pixels)");
    }
    layercam::error::printable(&line).into_owned()
}

/// Opens a replay source for PATH (checked here, so errors come before any thread starts;
/// a y4m stream whose frames exceed `max_pixels` fails before any frame is read).
fn replay_source(
    path: &Path,
    pattern: Option<&str>,
    max_pixels: usize,
) -> Result<Box<dyn FrameSource + Send>> {
    // a pipe's header is read here: Ctrl-C must end that wait too
    let stops = StopFlags::default();
    stops.add(interrupt_flag().clone());
    let source = layercam::source::open_replay(path, pattern, max_pixels, stops);
    let y4m = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("y4m"));
    // a y4m header's size refusal does not name the stream by itself (its other errors do)
    let name = if path == Path::new("-") {
        "stdin".to_string()
    } else {
        path.display().to_string()
    };
    source.map_err(|e| match e {
        e @ layercam::Error::TooLarge { .. } if y4m || path == Path::new("-") => {
            anyhow::Error::from(e).context(name)
        }
        e => anyhow::Error::from(e),
    })
}

/// Where results go.
enum Display {
    /// The minifb viewer (never chosen in a build without the `window` feature).
    #[cfg_attr(not(feature = "window"), allow(dead_code))]
    Window,
    /// JSON, files and the summary only.
    Headless,
}

fn choose_display(s: &StreamArgs) -> Result<Display> {
    if s.headless {
        return Ok(Display::Headless);
    }
    #[cfg(feature = "window")]
    {
        if layercam::view::window::display_available() {
            return Ok(Display::Window);
        }
        if s.window {
            bail!("--window was given but no display is available (DISPLAY is not set)");
        }
        eprintln!("notice: no display available; running headless");
        Ok(Display::Headless)
    }
    #[cfg(not(feature = "window"))]
    {
        if s.window {
            bail!("--window was given but this build has no window support");
        }
        Ok(Display::Headless)
    }
}

/// Runs a stream to its end with the chosen display; returns the exit code.
fn run_stream(opener: SourceOpener, cfg: RuntimeConfig, s: &StreamArgs) -> Result<u8> {
    let display = choose_display(s)?;
    #[cfg(not(feature = "ocr"))]
    if s.ocr.ocr {
        bail!("--ocr: this layercam was built without the ocr feature (cargo build --features ocr, with libtesseract-dev)");
    }
    // the engine is made before the stream starts: a missing language fails at once
    #[cfg(feature = "ocr")]
    let live_reader = match s.ocr.ocr {
        true => Some(layercam::ocr::LiveReader::start(&s.ocr.ocr_lang)?),
        false => None,
    };
    let flag = interrupt_flag();
    flag.store(false, Ordering::SeqCst);
    let rt = Runtime::start(opener, cfg.clone())?;
    let stop = rt.stop_flag();
    let relay = {
        let flag = flag.clone();
        std::thread::Builder::new()
            .name("layercam-signal".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if flag.load(Ordering::Relaxed) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            })?
    };
    let mut progress = match display {
        Display::Window => Progress::Hidden,
        Display::Headless => Progress::detect(s.json),
    };
    let stdout = std::io::stdout();
    let json = s.json.then(|| std::io::BufWriter::new(stdout.lock()));
    let sink = HeadlessSink::new(json, s.out.clone())?.with_crops(s.crops.clone())?;
    #[cfg(feature = "ocr")]
    let sink = sink.with_ocr(live_reader);
    let mut sink = sink;
    let mut reader_gone = false;
    let outcome: Result<()> = match display {
        Display::Headless => (|| {
            loop {
                if rt.stopping() {
                    break;
                }
                if s.json && stdout_reader_gone() {
                    // `| head -1` with no frame coming: end as a write would have
                    rt.stop();
                    reader_gone = true;
                    break;
                }
                match rt
                    .results
                    .recv_timeout(std::time::Duration::from_millis(50))
                {
                    Ok(p) => {
                        sink.write(&p)?;
                        progress.update(&rt.stats, sink.frames_out);
                        rt.recycle(p);
                    }
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                    Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
                }
            }
            Ok(())
        })(),
        Display::Window => {
            #[cfg(feature = "window")]
            {
                use layercam::view::window::{run_window, ViewerOptions};
                use layercam::view::ViewerState;
                let mut state = ViewerState::new(
                    s.view,
                    cfg.params.factor,
                    cfg.params.bandwidth_tolerance,
                    cfg.params.features,
                );
                state.stable = cfg.params.stable;
                if cfg.params.lines != layercam::pipeline::lines::LinesMode::Off {
                    state.lines = true;
                    state.lines_mode = cfg.params.lines;
                }
                state.ocr = s.ocr.ocr;
                let opts = ViewerOptions {
                    scale: s.scale,
                    layer: s.layer.map(|l| l as usize),
                    snapshot_dir: s.snapshot_dir.clone(),
                    record_dir: s.record_dir.clone(),
                    strip_height: 140,
                    max_fps: 60,
                    ocr_lang: s.ocr.ocr_lang.clone(),
                    report: stderr_reporter(),
                };
                run_window(&rt, &mut state, &opts, Some(&mut sink))
                    .map(|_| ())
                    .map_err(anyhow::Error::from)
            }
            #[cfg(not(feature = "window"))]
            {
                Ok(())
            }
        }
    };
    let interrupted = flag.load(Ordering::SeqCst);
    let stats = rt.stats.clone();
    let joined = rt.join();
    let _ = relay.join();
    if reader_gone {
        return Ok(EXIT_OK);
    }
    progress.finish();
    let summary = sink.summary(&stats);
    if let (Ok(s), false) = (&summary, s.json) {
        eprintln!("{}", s.readable());
    }
    outcome?;
    joined?;
    summary?;
    let frames_in = stats.frames_in.load(Ordering::Relaxed);
    if !interrupted && frames_in == 0 && stats.ended.load(Ordering::Relaxed) {
        let skipped = stats.skipped.load(Ordering::Relaxed);
        let source = stats.source.lock().map(|s| s.clone()).unwrap_or_default();
        if skipped > 0 {
            bail!("no frame was processed: every input of {source} was skipped ({skipped})");
        }
        bail!("no frame was processed: {source} holds no frames");
    }
    Ok(if interrupted {
        EXIT_INTERRUPTED
    } else {
        EXIT_OK
    })
}

/// The runtime's warnings and notices, one line each on stderr.
fn stderr_reporter() -> Reporter {
    Reporter::new(|r| eprintln!("{r}"))
}

fn stream_config(s: &StreamArgs, policy: Policy, pacing: Pacing) -> RuntimeConfig {
    RuntimeConfig {
        params: s
            .method
            .params_for(s.bandwidth_tolerance, s.crops.is_some() || s.ocr.ocr),
        policy,
        pacing,
        max_frames: s.max_frames,
        capacity: if policy == Policy::LatestWins { 1 } else { 2 },
        report: stderr_reporter(),
        ..RuntimeConfig::default()
    }
}

/// `layercam live`.
pub fn live(args: &LiveArgs) -> Result<u8> {
    let opener = camera_opener(&args.camera)?;
    let mut cfg = stream_config(&args.stream, Policy::LatestWins, Pacing::Fast);
    // a camera's layers are stable unless asked otherwise
    cfg.params.stable = args.stream.method.stable.unwrap_or(true);
    run_stream(opener, cfg, &args.stream)
}

/// `layercam replay`.
pub fn replay(args: &ReplayArgs) -> Result<u8> {
    if let Some(out) = &args.stream.out {
        let same = |a: &Path, b: &Path| {
            a.canonicalize()
                .is_ok_and(|a| b.canonicalize().is_ok_and(|b| a == b))
        };
        if args.path.is_dir() && same(out, &args.path) {
            bail!(
                "--out {} is the folder being replayed: its outputs could overwrite inputs; choose another folder",
                out.display()
            );
        }
    }
    // opened here, so a bad path fails before any thread starts; moved to the capture thread
    let flag = interrupt_flag();
    flag.store(false, Ordering::SeqCst);
    let source = match replay_source(
        &args.path,
        args.pattern.as_deref(),
        args.stream.method.max_pixels,
    ) {
        Ok(s) => s,
        // Ctrl-C while waiting for a pipe's header
        Err(_) if flag.load(Ordering::SeqCst) => return Ok(EXIT_INTERRUPTED),
        Err(e) => return Err(e),
    };
    let opener: SourceOpener = Box::new(move || Ok(source as Box<dyn FrameSource>));
    let policy = if args.drop {
        Policy::LatestWins
    } else {
        Policy::Lossless
    };
    let pacing = if args.fast {
        Pacing::Fast
    } else if let Some(f) = args.fps {
        Pacing::Fixed(f)
    } else {
        Pacing::Source
    };
    let mut cfg = stream_config(&args.stream, policy, pacing);
    cfg.looping = args.looping;
    cfg.strict = args.strict;
    run_stream(opener, cfg, &args.stream)
}

/// `layercam` with no subcommand: camera 0, or the demo replay.
pub fn default_run(s: &StreamArgs) -> Result<u8> {
    let cameras = layercam::source::camera::system()
        .and_then(|mut s| s.list())
        .unwrap_or_default();
    if !cameras.is_empty() {
        eprintln!("camera found: running live (layercam live)");
        let default = CameraArgs {
            camera: None,
            size: None,
            fps: None,
            exit_on_camera_loss: false,
        };
        let opener = camera_opener_among(&default, &cameras)?;
        let mut cfg = stream_config(s, Policy::LatestWins, Pacing::Fast);
        cfg.params.stable = s.method.stable.unwrap_or(true);
        return run_stream(opener, cfg, s);
    }
    eprintln!("No camera found: replaying the bundled demo sequence (layercam replay PATH plays your own frames)");
    let opener: SourceOpener = Box::new(|| Ok(Box::new(DemoSource::new()) as Box<dyn FrameSource>));
    let mut cfg = stream_config(s, Policy::Lossless, Pacing::Source);
    // in a window the demo loops until closed; headless it plays once
    cfg.looping = matches!(choose_display_quiet(s), Display::Window);
    run_stream(opener, cfg, s)
}

fn choose_display_quiet(s: &StreamArgs) -> Display {
    #[cfg(feature = "window")]
    {
        if !s.headless && layercam::view::window::display_available() {
            return Display::Window;
        }
    }
    let _ = s;
    Display::Headless
}

/// `layercam record`.
pub fn record(args: &RecordArgs) -> Result<u8> {
    if args.raw {
        return record_raw(args);
    }
    let opener = camera_opener(&args.camera)?;
    layercam::output::ensure_dir(&args.out)?;
    let flag = interrupt_flag();
    flag.store(false, Ordering::SeqCst);
    let mut cfg = RuntimeConfig {
        policy: Policy::Lossless,
        pacing: Pacing::Fast,
        max_frames: args.frames,
        report: stderr_reporter(),
        ..RuntimeConfig::default()
    };
    // recording needs no layers: the smallest pipeline work is zoom 1
    cfg.params.zoom = 1;
    let rt = Runtime::start(opener, cfg)?;
    let mut n = 0u64;
    let written: Result<()> = (|| {
        loop {
            if flag.load(Ordering::Relaxed) {
                rt.stop();
                break;
            }
            match rt
                .results
                .recv_timeout(std::time::Duration::from_millis(50))
            {
                Ok(p) => {
                    let path = args.out.join(format!("frame_{n:05}.png"));
                    layercam::output::write_rgb_png(&path, p.frame_width, p.frame_height, &p.rgb)?;
                    n += 1;
                    rt.recycle(p);
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            }
        }
        Ok(())
    })();
    let interrupted = flag.load(Ordering::Relaxed);
    let joined = rt.join();
    eprintln!(
        "recorded {n} frames into {} (replay with: layercam replay {})",
        args.out.display(),
        args.out.display()
    );
    written?;
    joined?;
    Ok(if interrupted {
        EXIT_INTERRUPTED
    } else {
        EXIT_OK
    })
}

/// `layercam record --raw`: each buffer as the camera delivered it, undecoded, with the
/// camera's format in camera.json. Runs on this thread (no pipeline); the camera's
/// watchdog and reconnecting work as in `live`.
fn record_raw(args: &RecordArgs) -> Result<u8> {
    use layercam::source::camera::{system, CameraSource, Polled};
    use layercam::source::rawdir::{CameraJson, RawRecorder};
    use layercam::source::Next;
    let flag = interrupt_flag();
    flag.store(false, Ordering::SeqCst);
    let mut cam = CameraSource::open(system()?, camera_request(&args.camera))?;
    let mut recorder: Option<RawRecorder> = None;
    let result: Result<()> = (|| {
        while !flag.load(Ordering::Relaxed) {
            let written = recorder.as_ref().map_or(0, |r| r.written());
            if args.frames.is_some_and(|n| written >= n) {
                break;
            }
            // what camera.json will say, until the first buffer is written
            let mut about = recorder.is_none().then(|| {
                let dev = cam.device();
                (
                    cam.fps().unwrap_or(0.0),
                    dev.map(|d| d.path.clone()).unwrap_or_default(),
                    dev.map(|d| d.name.clone()).unwrap_or_default(),
                )
            });
            let mut write = |layout: &layercam::source::raw::RawLayout, bytes: &[u8]| {
                if let Some((fps, device, name)) = about.take() {
                    let json = CameraJson {
                        format: layout.format.fourcc().into(),
                        width: layout.width,
                        height: layout.height,
                        fps,
                        stride: layout.stride,
                        device,
                        name,
                    };
                    recorder = Some(RawRecorder::create(&args.out, &json)?);
                }
                match recorder.as_mut() {
                    Some(r) => r.write(bytes).map(|_| ()),
                    None => Ok(()),
                }
            };
            match cam.with_buffer(&mut write)? {
                Polled::Buffer(written) => {
                    written?;
                    cam.good_frame();
                }
                Polled::Other(Next::Notice(m)) => eprintln!("{m}"),
                Polled::Other(_) => {}
            }
        }
        Ok(())
    })();
    let n = recorder.as_ref().map_or(0, |r| r.written());
    eprintln!(
        "recorded {n} raw buffers into {} (replay with: layercam replay {})",
        args.out.display(),
        args.out.display()
    );
    result?;
    Ok(if flag.load(Ordering::Relaxed) {
        EXIT_INTERRUPTED
    } else {
        EXIT_OK
    })
}
