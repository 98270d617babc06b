//! The minifb window on the main thread: the only module that knows minifb.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use minifb::{Key as MKey, KeyRepeat, MouseMode, Scale, ScaleMode, Window, WindowOptions};

use super::font::TextFont;
use super::render::{line_under, probe, render, Layout, Scene};
use super::{Action, Key, ViewerState, HELP};
use crate::canvas::Canvas;
use crate::error::{Error, Result};
use crate::runtime::{Processed, Report, Reporter, Runtime};
use crate::sink::HeadlessSink;

/// Settings of the window.
#[derive(Debug, Clone)]
pub struct ViewerOptions {
    /// Display scale of the source frame (1 = source resolution).
    pub scale: f64,
    /// Layer to start with (else the second most populous).
    pub layer: Option<usize>,
    /// Where `s` writes snapshots.
    pub snapshot_dir: PathBuf,
    /// Where `r` records source frames.
    pub record_dir: PathBuf,
    /// Height of the density strip.
    pub strip_height: usize,
    /// Frame rate cap of the window loop.
    pub max_fps: usize,
    /// Tesseract languages `o` reads with (`+`-separated).
    pub ocr_lang: String,
    /// Where the viewer's messages (snapshots, recordings, reading text) go besides the
    /// screen.
    pub report: Reporter,
}

/// How the window loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowEnd {
    /// Esc, q or the window was closed.
    Closed,
    /// The stream ended (end of replay) or a thread stopped.
    StreamEnded,
    /// The stop flag was raised (Ctrl-C).
    Interrupted,
}

fn map_keys(w: &Window) -> Vec<Key> {
    let shift = w.is_key_down(MKey::LeftShift) || w.is_key_down(MKey::RightShift);
    w.get_keys_pressed(KeyRepeat::Yes)
        .into_iter()
        .filter_map(|k| {
            Some(match k {
                MKey::Left => Key::Left,
                MKey::Right => Key::Right,
                MKey::Key1 | MKey::NumPad1 => Key::Digit(1),
                MKey::Key2 | MKey::NumPad2 => Key::Digit(2),
                MKey::Key3 | MKey::NumPad3 => Key::Digit(3),
                MKey::Key4 | MKey::NumPad4 => Key::Digit(4),
                MKey::Key5 | MKey::NumPad5 => Key::Digit(5),
                MKey::Key6 | MKey::NumPad6 => Key::Digit(6),
                MKey::Key7 | MKey::NumPad7 => Key::Digit(7),
                MKey::Key8 | MKey::NumPad8 => Key::Digit(8),
                MKey::Key9 | MKey::NumPad9 => Key::Digit(9),
                MKey::Tab => Key::Tab,
                MKey::D => Key::D,
                MKey::Space => Key::Space,
                MKey::Period => Key::Period,
                MKey::S => Key::S,
                MKey::R => Key::R,
                MKey::Equal if shift => Key::Plus,
                MKey::Equal | MKey::NumPadPlus => Key::Plus,
                MKey::Minus | MKey::NumPadMinus => Key::Minus,
                MKey::B => Key::B,
                MKey::F => Key::F,
                MKey::T => Key::T,
                MKey::L => Key::L,
                MKey::O => Key::O,
                MKey::H => Key::H,
                MKey::Escape => Key::Escape,
                MKey::Q => Key::Q,
                _ => return None,
            })
        })
        .collect()
}

/// True when an X display is configured (minifb's backend here is X11).
pub fn display_available() -> bool {
    std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
}

/// Runs the viewer until the user quits, the stream ends or the stop flag is raised.
/// Every result also goes to `sink` (JSON lines, PNGs) when given.
pub fn run_window<W: std::io::Write>(
    rt: &Runtime,
    state: &mut ViewerState,
    opts: &ViewerOptions,
    mut sink: Option<&mut HeadlessSink<W>>,
) -> Result<WindowEnd> {
    let win_err = |e: minifb::Error| Error::Window(e.to_string());
    // wait for the first frame (or the end) before sizing the window
    let mut current: Option<Processed> = None;
    let mut last_arrival = Instant::now();
    let mut fps_window: std::collections::VecDeque<Instant> = Default::default();
    while current.is_none() {
        if rt.stopping() {
            return Ok(WindowEnd::Interrupted);
        }
        match rt.results.recv_timeout(Duration::from_millis(50)) {
            Ok(p) => {
                if let Some(s) = sink.as_deref_mut() {
                    s.write(&p)?;
                }
                state.on_frame(&p, opts.layer);
                current = Some(p);
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                return Ok(WindowEnd::StreamEnded)
            }
        }
    }
    let first = current
        .as_ref()
        .ok_or_else(|| Error::Window("no frame to show".into()))?;
    let mut layout = Layout::new(
        first.frame_width,
        first.frame_height,
        opts.scale,
        Some(opts.strip_height),
    );
    let mut window = Window::new(
        "layercam",
        layout.width,
        layout.height,
        WindowOptions {
            resize: true,
            scale: Scale::X1,
            scale_mode: ScaleMode::AspectRatioStretch,
            ..WindowOptions::default()
        },
    )
    .map_err(win_err)?;
    window.set_target_fps(opts.max_fps);
    let mut canvas = Canvas::default();
    // the font for the lines' text, looked up the first time text is read
    let mut font: Option<TextFont> = None;
    let mut font_looked_up = false;
    let mut recorder: Option<Recorder> = None;
    let mut ended = false;
    loop {
        if !window.is_open() {
            return Ok(WindowEnd::Closed);
        }
        if rt.stopping() {
            return Ok(WindowEnd::Interrupted);
        }
        for key in map_keys(&window) {
            for action in state.on_key(key, current.as_ref()) {
                match action {
                    Action::Quit => return Ok(WindowEnd::Closed),
                    Action::Control(c) => rt.control(c),
                    Action::Snapshot => {
                        if let Some(p) = &current {
                            match crate::output::write_snapshot(&opts.snapshot_dir, p, state.layer)
                            {
                                Ok(files) => {
                                    let msg = format!(
                                        "snapshot: {} files in {}",
                                        files.len(),
                                        opts.snapshot_dir.display()
                                    );
                                    tell(&opts.report, state, msg);
                                }
                                Err(e) => {
                                    let msg = format!(
                                        "snapshot failed: {}",
                                        crate::error::with_causes(&e)
                                    );
                                    tell(&opts.report, state, msg);
                                }
                            }
                        }
                    }
                    Action::SetOcr(on) => {
                        if let Err(e) = set_ocr(sink.as_deref_mut(), on, &opts.ocr_lang) {
                            state.ocr = false;
                            let msg = format!("cannot read text: {e}");
                            tell(&opts.report, state, msg);
                        }
                    }
                    Action::ToggleRecording => {
                        let msg = match recorder.take() {
                            Some(r) => {
                                let (n, failed) = r.finish();
                                match failed {
                                    Some(e) => format!("recording stopped after {n}: {e}"),
                                    None => format!(
                                        "recording stopped: {n} in {}",
                                        opts.record_dir.display()
                                    ),
                                }
                            }
                            None => match Recorder::start(&opts.record_dir) {
                                Ok(r) => {
                                    recorder = Some(r);
                                    format!("recording into {}", opts.record_dir.display())
                                }
                                Err(e) => {
                                    format!("cannot record: {}", crate::error::with_causes(&e))
                                }
                            },
                        };
                        state.recording = recorder.is_some();
                        tell(&opts.report, state, msg);
                    }
                }
            }
        }
        // a recording whose writes fail (a full disk) stops; the session goes on
        if recorder.as_ref().is_some_and(Recorder::failed) {
            if let Some(r) = recorder.take() {
                let (n, e) = r.finish();
                let msg = format!("recording stopped after {n}: {}", e.unwrap_or_default());
                tell(&opts.report, state, msg);
            }
            state.recording = false;
        }
        // take new results unless paused (a step takes one)
        if !ended && (!state.paused || state.step) {
            loop {
                match rt.results.try_recv() {
                    Ok(p) => {
                        if let Some(s) = sink.as_deref_mut() {
                            s.write(&p)?;
                        }
                        if let Some(r) = recorder.as_mut() {
                            r.record(&p);
                        }
                        state.on_frame(&p, opts.layer);
                        last_arrival = Instant::now();
                        fps_window.push_back(last_arrival);
                        if let Some(old) = current.replace(p) {
                            rt.recycle(old);
                        }
                        if state.step {
                            state.step = false;
                            break;
                        }
                    }
                    Err(crossbeam_channel::TryRecvError::Empty) => break,
                    Err(crossbeam_channel::TryRecvError::Disconnected) => {
                        ended = true;
                        break;
                    }
                }
            }
        }
        if ended && !state.paused {
            return Ok(WindowEnd::StreamEnded);
        }
        while fps_window
            .front()
            .is_some_and(|t| t.elapsed() > Duration::from_secs(1))
        {
            fps_window.pop_front();
        }
        let Some(p) = current.as_ref() else { continue };
        let new_layout = Layout::new(
            p.frame_width,
            p.frame_height,
            opts.scale,
            state.density.then_some(opts.strip_height),
        );
        if new_layout != layout {
            layout = new_layout;
        }
        let l = &p.layers;
        let k = state.layer.min(l.len().saturating_sub(1));
        let fps = fps_window.len();
        let dropped = rt.stats.dropped.load(std::sync::atomic::Ordering::Relaxed);
        let mut info = vec![
            format!(
                "{}  layer {}/{}  peak {}  [{}..{})",
                state.view.name(),
                k + 1,
                l.len(),
                l.peaks.get(k).copied().unwrap_or(0),
                l.bounds.get(k).copied().unwrap_or(0),
                l.bounds.get(k + 1).copied().unwrap_or(0)
            ),
            format!(
                "{fps} fps  pipeline {:.1} ms  latency {:.1} ms  drops {dropped}",
                p.timings.total, p.latency_ms
            ),
            format!(
                "factor {:.2}  h {:.2}{}  cache {}  {}{}",
                state.factor,
                l.bandwidth,
                if l.bandwidth_reused { " (reused)" } else { "" },
                if state.cache { "on" } else { "off" },
                match l.stability {
                    Some(s) => format!("stable ({})", s.name()),
                    None => "per-frame".to_string(),
                },
                if state.recording { "  REC" } else { "" }
            ),
        ];
        let lines_on = p
            .params
            .is_some_and(|q| q.lines != crate::pipeline::lines::LinesMode::Off);
        if lines_on {
            info[0] += &format!("  lines {}", p.lines.len());
        }
        if let Some((mx, my)) = window.get_mouse_pos(MouseMode::Discard) {
            if let Some((level, layer)) = probe(l, layout, mx, my) {
                let mut at = format!("cursor: gray {level}, layer {}", layer + 1);
                if let Some((n, line)) = line_under(p, layout, mx, my).filter(|_| state.lines) {
                    at += &format!(
                        ", line {n} ({}x{} at {},{}, layer {})",
                        line.w,
                        line.h,
                        line.x,
                        line.y,
                        line.layer + 1
                    );
                }
                info.push(at);
            }
        }
        if let Some(m) = state.current_message() {
            info.push(m.to_string());
        }
        let mut status = rt.stats.status();
        if status.is_empty()
            && rt.stats.live.load(std::sync::atomic::Ordering::Relaxed)
            && last_arrival.elapsed() > Duration::from_secs(2)
            && !state.paused
        {
            status = "no frames from the camera for 2 s".into();
        }
        if state.ocr && !font_looked_up {
            font_looked_up = true;
            match TextFont::system_cjk() {
                Ok(f) => font = Some(f),
                Err(e) => {
                    let msg = format!(
                        "notice: {}; the lines' text is not drawn",
                        crate::error::with_causes(&e)
                    );
                    tell(&opts.report, state, msg);
                }
            }
        }
        let texts = line_texts(sink.as_deref(), state.ocr);
        let scene = Scene {
            view: state.view,
            layer: k,
            density: state.density,
            strip_height: opts.strip_height,
            info: &info,
            status: &status,
            help: state.help.then_some(HELP),
            text_scale: 1,
            lines: (state.lines && lines_on).then_some(&p.lines[..]),
            texts: &texts,
        };
        render(&mut canvas, layout, p, &scene, font.as_mut());
        window.set_title(&format!(
            "layercam - layer {}/{} peak {} - {fps} fps - {dropped} dropped{}",
            k + 1,
            l.len(),
            l.peaks.get(k).copied().unwrap_or(0),
            if state.paused { " - paused" } else { "" }
        ));
        window
            .update_with_buffer(&canvas.pixels, layout.width, layout.height)
            .map_err(win_err)?;
    }
}

/// Shows `msg` on screen for a few seconds and hands it to `report`.
fn tell(report: &Reporter, state: &mut ViewerState, msg: String) {
    report.report(Report::Notice(msg.clone()));
    state.say(msg);
}

/// Starts or pauses reading text in the sink.
fn set_ocr<W: std::io::Write>(
    sink: Option<&mut HeadlessSink<W>>,
    on: bool,
    languages: &str,
) -> std::result::Result<(), String> {
    #[cfg(feature = "ocr")]
    {
        match sink {
            Some(s) => s
                .set_ocr(on, languages)
                .map_err(|e| crate::error::with_causes(&e)),
            None => Err("this viewer has no output to read into".into()),
        }
    }
    #[cfg(not(feature = "ocr"))]
    {
        let _ = (sink, on, languages);
        Err("this build has no OCR (built without the ocr feature)".into())
    }
}

/// The text of the last frame's lines as the renderer takes it (empty: not read).
fn line_texts<W: std::io::Write>(sink: Option<&HeadlessSink<W>>, reading: bool) -> Vec<&str> {
    #[cfg(feature = "ocr")]
    if let (Some(s), true) = (sink, reading) {
        return s
            .line_texts()
            .iter()
            .map(|t| t.as_ref().map_or("", |t| t.text.as_str()))
            .collect();
    }
    let _ = (sink, reading);
    Vec::new()
}

/// Writes the source frames of a recording (`r`) as `frame_NNNNN.png` on a thread of its
/// own: encoding and syncing a PNG per frame on the window's thread made it miss key
/// presses. Frames go over a short queue (a frame is dropped, and counted, when the disk
/// falls behind); buffers come back for reuse. A failed write stops the recording.
struct Recorder {
    frames: Option<crossbeam_channel::Sender<(usize, usize, Vec<u8>)>>,
    spare: crossbeam_channel::Receiver<Vec<u8>>,
    thread: Option<std::thread::JoinHandle<(u64, Option<String>)>>,
    failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Frames not queued because the writer was behind.
    dropped: u64,
}

impl Recorder {
    fn start(dir: &std::path::Path) -> Result<Self> {
        crate::output::ensure_dir(dir)?;
        let (tx, rx) = crossbeam_channel::bounded::<(usize, usize, Vec<u8>)>(4);
        let (spare_tx, spare) = crossbeam_channel::bounded::<Vec<u8>>(4);
        let failed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = failed.clone();
        let dir = dir.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("layercam-recorder".into())
            .spawn(move || {
                let mut n = 0u64;
                for (w, h, rgb) in rx {
                    let path = dir.join(format!("frame_{n:05}.png"));
                    if let Err(e) = crate::output::write_rgb_png(&path, w, h, &rgb) {
                        flag.store(true, std::sync::atomic::Ordering::Relaxed);
                        return (n, Some(crate::error::with_causes(&e)));
                    }
                    n += 1;
                    let _ = spare_tx.try_send(rgb);
                }
                (n, None)
            })
            .map_err(|e| Error::Window(format!("cannot start the recorder: {e}")))?;
        Ok(Self {
            frames: Some(tx),
            spare,
            thread: Some(thread),
            failed,
            dropped: 0,
        })
    }

    /// Queues a frame's source pixels.
    fn record(&mut self, p: &Processed) {
        let mut buf = self.spare.try_recv().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(&p.rgb);
        if let Some(tx) = &self.frames {
            if tx.try_send((p.frame_width, p.frame_height, buf)).is_err() {
                self.dropped += 1;
            }
        }
    }

    fn failed(&self) -> bool {
        self.failed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Ends the recording: the queued frames are written, the thread joined. Returns the
    /// frames written and the write error that stopped it, if any.
    /// `("N frames", error)`.
    fn finish(mut self) -> (String, Option<String>) {
        self.frames = None;
        let (n, e) = match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => (0, Some("the recorder failed".into())),
            None => (0, None),
        };
        let dropped = match self.dropped {
            0 => String::new(),
            d => format!(" ({d} more not written: the disk was behind)"),
        };
        (format!("{n} frames{dropped}"), e)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.frames = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
