//! The streaming runtime: capture thread → bounded channel → worker thread → results.
//!
//! ```text
//!  capture thread            worker thread                     caller (main thread)
//!  FrameSource::next ──▶ [frames, cap 1–2] ──▶ Pipeline ──▶ [results] ──▶ sink or viewer
//!        policy: LatestWins drops the stale frame / Lossless blocks     recycle ◀──┘
//! ```
//!
//! * Each thread returns `Result`; [`Runtime::join`] joins both and reports the first error.
//! * Dropping a sender ends the stream: the capture thread ends at the end of the input, the
//!   worker when the frame channel is empty and closed, the caller when results close.
//! * [`Runtime::stop`] (Esc, Ctrl-C) sets one shared flag that every blocking wait checks at
//!   least every 50 ms, so all threads stop within a second.
//! * Results carry their buffers back through a recycle channel, so a steady stream does not
//!   allocate a label map per frame.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{
    bounded, Receiver, RecvTimeoutError, SendTimeoutError, Sender, TrySendError,
};

use crate::error::{Error, Result};
use crate::features::FeatureCounts;
use crate::frame::Frame;
use crate::pipeline::{Layers, Params, Pipeline, StageTimings};
use crate::source::{FrameSource, Next, SourceKind};

/// Opens the source on the capture thread (a camera handle cannot cross threads).
pub type SourceOpener = Box<dyn FnOnce() -> Result<Box<dyn FrameSource>> + Send>;

/// What happens when the worker is slower than the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Every frame is processed in order; the capture thread waits (replay default).
    Lossless,
    /// The newest frame wins: a stale frame waiting in the channel is dropped and counted
    /// (live default, `--drop` for replay).
    LatestWins,
}

/// How the capture thread paces a replay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pacing {
    /// As fast as the pipeline goes (`--fast`).
    Fast,
    /// The source's own rate (y4m header, demo), else 30 fps.
    Source,
    /// A fixed rate (`--fps N`).
    Fixed(f64),
}

/// Frame rate used when a replay states none.
pub const DEFAULT_FPS: f64 = 30.0;

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Pipeline parameters.
    pub params: Params,
    /// Channel policy.
    pub policy: Policy,
    /// Pacing of the capture thread.
    pub pacing: Pacing,
    /// Start again at the end of a replay.
    pub looping: bool,
    /// Stop at the first skipped input instead of counting it.
    pub strict: bool,
    /// Stop after this many frames from the source.
    pub max_frames: Option<u64>,
    /// Frames the channel holds (1–2 is sensible for live).
    pub capacity: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            params: Params::default(),
            policy: Policy::Lossless,
            pacing: Pacing::Source,
            looping: false,
            strict: false,
            max_frames: None,
            capacity: 2,
        }
    }
}

/// Counters shared by the threads (read at any time by the caller).
#[derive(Debug)]
pub struct Stats {
    /// When the stream started.
    pub started: Instant,
    /// Frames delivered by the source.
    pub frames_in: AtomicU64,
    /// Frames processed by the worker.
    pub frames_processed: AtomicU64,
    /// Frames or results dropped by the latest-wins policy.
    pub dropped: AtomicU64,
    /// Inputs skipped (unreadable files, corrupt camera frames, refused frames).
    pub skipped: AtomicU64,
    /// Number of frames the source will deliver, 0 when unknown.
    pub len_hint: AtomicU64,
    /// Milliseconds since `started` of the last frame from the source.
    pub last_frame_ms: AtomicU64,
    /// A status to show (camera lost …), empty when all is well.
    pub status: Mutex<String>,
    /// Description of the source.
    pub source: Mutex<String>,
    /// Live device or recording.
    pub live: AtomicBool,
    /// The source came to its end (rather than being stopped).
    pub ended: AtomicBool,
}

impl Stats {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            frames_in: AtomicU64::new(0),
            frames_processed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            len_hint: AtomicU64::new(0),
            last_frame_ms: AtomicU64::new(0),
            status: Mutex::new(String::new()),
            source: Mutex::new(String::new()),
            live: AtomicBool::new(false),
            ended: AtomicBool::new(false),
        }
    }

    fn set_status(&self, s: &str) {
        if let Ok(mut g) = self.status.lock() {
            if *g != s {
                g.clear();
                g.push_str(s);
            }
        }
    }

    /// The current status text (empty when all is well).
    pub fn status(&self) -> String {
        self.status.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// Milliseconds since the stream started.
    pub fn now_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1e3
    }
}

/// A message from the caller to the worker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Control {
    /// Change the bandwidth factor.
    SetFactor(f64),
    /// Change the bandwidth tolerance (0 = recompute every frame).
    SetTolerance(f64),
    /// Switch the text-feature stage on or off.
    SetFeatures(bool),
    /// Switch stable layers on or off (off: seed-exact per frame).
    SetStable(bool),
    /// Text lines: off, the default grouping, or the seed's localisation.
    SetLines(crate::pipeline::lines::LinesMode),
}

/// One processed frame, as delivered to the caller.
#[derive(Debug, Clone, Default)]
pub struct Processed {
    /// Sequence number in the stream (0, 1, … across loops).
    pub index: u64,
    /// Where the frame came from.
    pub origin: String,
    /// Capture time, ms since the stream started.
    pub timestamp_ms: f64,
    /// Capture → result latency, ms.
    pub latency_ms: f64,
    /// Frames dropped so far (cumulative).
    pub dropped: u64,
    /// Width of the source frame.
    pub frame_width: usize,
    /// Height of the source frame.
    pub frame_height: usize,
    /// Source pixels, RGB8.
    pub rgb: Vec<u8>,
    /// The layers.
    pub layers: Layers,
    /// Text features, when the stage ran.
    pub features: Option<FeatureCounts>,
    /// Text-feature mask (255 = feature), when the stage ran.
    pub text_mask: Vec<u8>,
    /// Text lines (with [`Params::lines`]), source pixels.
    pub lines: Vec<crate::pipeline::lines::TextLine>,
    /// The parameters the frame was processed with.
    pub params: Option<Params>,
    /// Stage timings.
    pub timings: StageTimings,
}

/// Gives results back to a [`Runtime`]'s worker, whose next frames then reuse their buffers;
/// see [`Runtime::recycler`]. Results offered when the worker holds enough, or after the
/// stream has ended, are dropped.
#[derive(Debug, Clone)]
pub struct Recycler(Sender<Processed>);

impl Recycler {
    /// Offers `p`'s buffers to the worker.
    pub fn recycle(&self, p: Processed) {
        let _ = self.0.try_send(p);
    }
}

/// A running stream.
pub struct Runtime {
    /// Processed frames, in order.
    pub results: Receiver<Processed>,
    recycle: Sender<Processed>,
    control: Sender<Control>,
    /// Shared counters.
    pub stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
    capture: Option<JoinHandle<Result<()>>>,
    worker: Option<JoinHandle<Result<()>>>,
}

/// How long a blocked thread waits before it checks the stop flag again.
const TICK: Duration = Duration::from_millis(50);

fn sleep_until(deadline: Instant, stop: &AtomicBool) {
    loop {
        let now = Instant::now();
        if now >= deadline || stop.load(Ordering::Relaxed) {
            return;
        }
        std::thread::sleep((deadline - now).min(TICK));
    }
}

/// Prints warnings to stderr, for a live source at most one line a second: a warning
/// within a second of the last one printed is counted instead, and the count goes with the
/// next line printed (or with [`WarnLimiter::finish`]). A camera sending corrupt frames at
/// 30 a second gives one line a second, not thirty. A replay names every skipped input.
#[derive(Debug, Default)]
pub struct WarnLimiter {
    last: Option<Instant>,
    held: u64,
    /// Every warning is printed (a replay).
    all: bool,
}

impl WarnLimiter {
    /// The shortest time between two printed lines.
    pub const PERIOD: Duration = Duration::from_secs(1);

    /// A limiter for a live source, or (`live` false) one that prints every warning.
    pub fn new(live: bool) -> Self {
        Self {
            all: !live,
            ..Self::default()
        }
    }

    /// Prints `msg` as a warning, or counts it.
    pub fn warn(&mut self, msg: &str) {
        let now = Instant::now();
        if !self.all
            && self
                .last
                .is_some_and(|t| now.duration_since(t) < Self::PERIOD)
        {
            self.held += 1;
            return;
        }
        let msg = crate::error::printable(msg);
        match std::mem::take(&mut self.held) {
            0 => eprintln!("warning: {msg}"),
            n => eprintln!("warning: {msg} ({n} more warnings in the last second not shown)"),
        }
        self.last = Some(now);
    }

    /// Prints the count of warnings not shown yet, if any.
    pub fn finish(&mut self) {
        match std::mem::take(&mut self.held) {
            0 => {}
            n => eprintln!("warning: {n} more warnings not shown"),
        }
    }
}

/// Sends with the policy; returns false when the stream should end (receiver gone or stop).
fn send_with_policy<T>(
    tx: &Sender<T>,
    stale: &Receiver<T>,
    item: T,
    policy: Policy,
    stop: &AtomicBool,
    dropped: &AtomicU64,
    mut on_drop: impl FnMut(T),
) -> bool {
    match policy {
        Policy::Lossless => {
            let mut item = item;
            loop {
                if stop.load(Ordering::Relaxed) {
                    return false;
                }
                match tx.send_timeout(item, TICK) {
                    Ok(()) => return true,
                    Err(SendTimeoutError::Timeout(back)) => item = back,
                    Err(SendTimeoutError::Disconnected(_)) => return false,
                }
            }
        }
        Policy::LatestWins => {
            let mut item = item;
            loop {
                match tx.try_send(item) {
                    Ok(()) => return true,
                    Err(TrySendError::Disconnected(_)) => return false,
                    Err(TrySendError::Full(back)) => {
                        item = back;
                        if let Ok(old) = stale.try_recv() {
                            dropped.fetch_add(1, Ordering::Relaxed);
                            on_drop(old);
                        }
                    }
                }
            }
        }
    }
}

fn capture_loop(
    opener: SourceOpener,
    cfg: RuntimeConfig,
    tx: Sender<Frame>,
    stale: Receiver<Frame>,
    spare: Receiver<Vec<u8>>,
    stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
) -> Result<()> {
    let mut source = opener()?;
    source.watch_stop(stop.clone());
    let live = source.kind() == SourceKind::Live;
    stats.live.store(live, Ordering::Relaxed);
    if let Ok(mut s) = stats.source.lock() {
        *s = source.describe();
    }
    // frames to expect, for a progress bar: unknown when looping unless capped
    let expected = match (source.len_hint(), cfg.looping, cfg.max_frames) {
        (_, true, cap) => cap,
        (Some(n), false, Some(cap)) => Some(n.min(cap)),
        (n, false, cap) => n.or(cap),
    };
    if let Some(n) = expected {
        stats.len_hint.store(n, Ordering::Relaxed);
    }
    let fps = match cfg.pacing {
        Pacing::Fast => None,
        Pacing::Fixed(f) => Some(f),
        Pacing::Source => Some(source.fps().unwrap_or(DEFAULT_FPS)),
    };
    let period = fps
        .filter(|_| !live)
        .map(|f| Duration::from_secs_f64(1.0 / f));
    let mut t0 = Instant::now();
    // the frame count at t0
    let mut paced_from: u64 = 0;
    let mut emitted: u64 = 0;
    // frames of the current pass over a looped replay
    let mut in_pass: u64 = 0;
    let mut warnings = WarnLimiter::new(live);
    let result = (|| {
        while !stop.load(Ordering::Relaxed) {
            if cfg.max_frames.is_some_and(|m| emitted >= m) {
                break;
            }
            // a buffer the stream is done with, for the source to fill
            if let Ok(buf) = spare.try_recv() {
                source.recycle(buf);
            }
            let next = match source.next() {
                // a read cut short by the stop request (stdin, a pipe) is no error
                Err(_) if stop.load(Ordering::Relaxed) => break,
                Err(Error::Stopped) => break,
                r => r?,
            };
            match next {
                Next::End => {
                    if cfg.looping && in_pass == 0 {
                        return Err(Error::NothingToLoop(source.describe()));
                    }
                    if cfg.looping && source.rewind()? {
                        in_pass = 0;
                        continue;
                    }
                    stats.ended.store(true, Ordering::Relaxed);
                    break;
                }
                Next::Stalled(msg) => {
                    stats.set_status(&msg);
                    continue;
                }
                Next::Notice(msg) => {
                    eprintln!("{}", crate::error::printable(&msg));
                    stats.set_status(&msg);
                    if let Ok(mut s) = stats.source.lock() {
                        *s = source.describe();
                    }
                    continue;
                }
                Next::Skipped { origin, reason } => {
                    if cfg.strict {
                        return Err(Error::Io {
                            path: origin.into(),
                            source: std::io::Error::new(std::io::ErrorKind::InvalidData, reason),
                        });
                    }
                    stats.skipped.fetch_add(1, Ordering::Relaxed);
                    warnings.warn(&format!("skipped {origin}: {reason}"));
                    continue;
                }
                Next::Frame(mut frame) => {
                    if let Some(p) = period {
                        let due = t0 + p * (emitted - paced_from) as u32;
                        if Instant::now() > due + p {
                            // more than a frame late (the process was stopped, the disk
                            // stalled): pace from now on instead of catching up in a burst
                            t0 = Instant::now();
                            paced_from = emitted;
                        } else {
                            sleep_until(due, &stop);
                        }
                    }
                    stats.set_status("");
                    frame.index = emitted;
                    frame.captured = Instant::now();
                    emitted += 1;
                    in_pass += 1;
                    stats.frames_in.fetch_add(1, Ordering::Relaxed);
                    stats
                        .last_frame_ms
                        .store(stats.now_ms() as u64, Ordering::Relaxed);
                    let reuse = |old: Frame| source.recycle(old.rgb);
                    if !send_with_policy(
                        &tx,
                        &stale,
                        frame,
                        cfg.policy,
                        &stop,
                        &stats.dropped,
                        reuse,
                    ) {
                        break;
                    }
                }
            }
        }
        Ok(())
    })();
    warnings.finish();
    result
}

#[allow(clippy::too_many_arguments)]
fn worker_loop(
    cfg: RuntimeConfig,
    rx: Receiver<Frame>,
    tx: Sender<Processed>,
    stale: Receiver<Processed>,
    recycle_rx: Receiver<Processed>,
    recycle_tx: Sender<Processed>,
    spare: Sender<Vec<u8>>,
    control: Receiver<Control>,
    stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
) -> Result<()> {
    let mut pipeline = Pipeline::new(cfg.params)?;
    // the whole loop runs on a pool thread: per-frame work needs no injection into the pool
    pipeline.in_pool(move |pipeline| {
        worker_steps(
            pipeline,
            &cfg,
            &rx,
            &tx,
            &stale,
            &recycle_rx,
            &recycle_tx,
            &spare,
            &control,
            &stats,
            &stop,
        )
    })
}

#[allow(clippy::too_many_arguments)]
fn worker_steps(
    pipeline: &mut Pipeline,
    cfg: &RuntimeConfig,
    rx: &Receiver<Frame>,
    tx: &Sender<Processed>,
    stale: &Receiver<Processed>,
    recycle_rx: &Receiver<Processed>,
    recycle_tx: &Sender<Processed>,
    spare: &Sender<Vec<u8>>,
    control: &Receiver<Control>,
    stats: &Stats,
    stop: &AtomicBool,
) -> Result<()> {
    let mut last_size = (0, 0);
    let mut warnings = WarnLimiter::new(true);
    let result = (|| -> Result<()> {
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            while let Ok(c) = control.try_recv() {
                let mut p = *pipeline.params();
                match c {
                    Control::SetFactor(f) => p.factor = f,
                    Control::SetTolerance(t) => p.bandwidth_tolerance = t,
                    Control::SetFeatures(on) => p.features = on,
                    Control::SetStable(on) => p.stable = on,
                    Control::SetLines(mode) => p.lines = mode,
                }
                pipeline.set_params(p)?;
            }
            let frame = match rx.recv_timeout(TICK) {
                Ok(f) => f,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            };
            if (frame.width, frame.height) != last_size {
                // a new frame size: nothing cached from the old one applies
                pipeline.reset_bandwidth();
                last_size = (frame.width, frame.height);
            }
            if let Err(e) = pipeline.process(frame.view()) {
                if cfg.strict {
                    return Err(e);
                }
                stats.skipped.fetch_add(1, Ordering::Relaxed);
                // known once the source is open, which it is before any frame arrives
                warnings.all = !stats.live.load(Ordering::Relaxed);
                warnings.warn(&format!("skipped {}: {e}", frame.origin));
                continue;
            }
            stats.frames_processed.fetch_add(1, Ordering::Relaxed);
            // A recycled result's buffers are exchanged, not copied: its pixel buffer goes back
            // to the capture thread, and the pipeline keeps its layer buffers for the next
            // frame (copying a 1080p frame's levels and labels took 3 ms a frame).
            let mut out = recycle_rx.try_recv().unwrap_or_default();
            out.index = frame.index;
            out.origin.clone_from(&frame.origin);
            out.timestamp_ms = (frame.captured - stats.started).as_secs_f64() * 1e3;
            out.frame_width = frame.width;
            out.frame_height = frame.height;
            let old = std::mem::replace(&mut out.rgb, frame.rgb);
            if old.capacity() > 0 {
                let _ = spare.try_send(old);
            }
            pipeline.swap_layers(&mut out.layers);
            out.lines.clear();
            out.lines.extend_from_slice(pipeline.lines());
            out.params = Some(*pipeline.params());
            if pipeline.params().features {
                out.features = Some(pipeline.features().counts().clone());
                pipeline.swap_text_mask(&mut out.text_mask);
            } else {
                out.features = None;
                out.text_mask.clear();
            }
            out.timings = *pipeline.timings();
            out.latency_ms = frame.captured.elapsed().as_secs_f64() * 1e3;
            out.dropped = stats.dropped.load(Ordering::Relaxed);
            let recycle = |old: Processed| {
                let _ = recycle_tx.try_send(old);
            };
            if !send_with_policy(tx, stale, out, cfg.policy, stop, &stats.dropped, recycle) {
                return Ok(());
            }
        }
    })();
    warnings.finish();
    result
}

/// Waits for a thread for at most `limit`; `None` when it did not finish in time.
fn join_within(handle: JoinHandle<Result<()>>, limit: Duration) -> Option<Result<()>> {
    let deadline = Instant::now() + limit;
    while !handle.is_finished() {
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Some(match handle.join() {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(Error::Thread(format!(
                "internal error in a stream thread: {msg}"
            )))
        }
    })
}

impl Runtime {
    /// Starts the capture and worker threads.
    pub fn start(opener: SourceOpener, cfg: RuntimeConfig) -> Result<Self> {
        cfg.params.validate()?;
        let cap = cfg.capacity.max(1);
        let (ftx, frx) = bounded::<Frame>(cap);
        let (rtx, rrx) = bounded::<Processed>(cap);
        let (ytx, yrx) = bounded::<Processed>(cap + 2);
        // frame buffers on their way back to the source (about one a frame)
        let (stx, srx) = bounded::<Vec<u8>>(2);
        let (ctx, crx) = bounded::<Control>(16);
        let stats = Arc::new(Stats::new());
        let stop = Arc::new(AtomicBool::new(false));

        let capture = {
            let (cfg, stats, stop, stale) = (cfg.clone(), stats.clone(), stop.clone(), frx.clone());
            std::thread::Builder::new()
                .name("layercam-capture".into())
                .spawn(move || capture_loop(opener, cfg, ftx, stale, srx, stats, stop))
                .map_err(|e| Error::Thread(format!("cannot start capture thread: {e}")))?
        };
        let worker = {
            let (stats, stop, stale, ytx2) =
                (stats.clone(), stop.clone(), rrx.clone(), ytx.clone());
            std::thread::Builder::new()
                .name("layercam-worker".into())
                .spawn(move || worker_loop(cfg, frx, rtx, stale, yrx, ytx2, stx, crx, stats, stop))
                .map_err(|e| Error::Thread(format!("cannot start worker thread: {e}")))?
        };
        Ok(Self {
            results: rrx,
            recycle: ytx,
            control: ctx,
            stats,
            stop,
            capture: Some(capture),
            worker: Some(worker),
        })
    }

    /// Gives a result's buffers back to the worker for reuse.
    pub fn recycle(&self, p: Processed) {
        let _ = self.recycle.try_send(p);
    }

    /// A handle that gives results back to the worker from anywhere (a result may outlive
    /// the loop that received it, as it does in the Python bindings).
    pub fn recycler(&self) -> Recycler {
        Recycler(self.recycle.clone())
    }

    /// Sends a control message to the worker.
    pub fn control(&self, c: Control) {
        let _ = self.control.try_send(c);
    }

    /// Asks every thread to stop (they do within about 50 ms).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// The stop flag, for a Ctrl-C handler.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// True once stop was requested.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Ends the stream: stops the threads, joins them (each within a second) and returns the
    /// first error (capture first, then worker).
    pub fn join(mut self) -> Result<()> {
        self.stop();
        // dropping our receiver unblocks a worker waiting to deliver
        let (dummy_tx, dummy_rx) = bounded(0);
        drop(dummy_tx);
        self.results = dummy_rx;
        let limit = Duration::from_secs(1);
        let mut first: Option<Error> = None;
        for (name, h) in [
            ("capture", self.capture.take()),
            ("worker", self.worker.take()),
        ] {
            let Some(h) = h else { continue };
            match join_within(h, limit) {
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    first.get_or_insert(e);
                }
                None => {
                    first.get_or_insert(Error::Thread(format!(
                        "the {name} thread did not stop within {limit:?} (blocked in a device read?)"
                    )));
                }
            }
        }
        first.map_or(Ok(()), Err)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for h in [self.capture.take(), self.worker.take()]
            .into_iter()
            .flatten()
        {
            let _ = join_within(h, Duration::from_secs(1));
        }
    }
}

/// Latency histogram with ~1 % relative resolution and a fixed size (memory stays flat over
/// long runs).
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    buckets: Vec<u64>,
    count: u64,
}

const LAT_MIN_MS: f64 = 0.01;
const LAT_STEP: f64 = 1.01;
const LAT_BUCKETS: usize = 1400; // 0.01 ms · 1.01^1400 ≈ 11 h

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            buckets: vec![0; LAT_BUCKETS],
            count: 0,
        }
    }
}

impl LatencyHistogram {
    /// Records one latency.
    pub fn record(&mut self, ms: f64) {
        let k = if ms <= LAT_MIN_MS {
            0
        } else {
            ((ms / LAT_MIN_MS).ln() / LAT_STEP.ln()).ceil() as usize
        };
        self.buckets[k.min(LAT_BUCKETS - 1)] += 1;
        self.count += 1;
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The `q` quantile (0..=1), upper edge of its bucket; 0 when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (k, &c) in self.buckets.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return LAT_MIN_MS * LAT_STEP.powi(k as i32);
            }
        }
        LAT_MIN_MS * LAT_STEP.powi(LAT_BUCKETS as i32 - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_of_a_live_source_are_limited_to_one_line_a_second() {
        let mut w = WarnLimiter::new(true);
        w.warn("a");
        w.warn("b");
        w.warn("c");
        assert_eq!(w.held, 2);
        w.last = w.last.map(|t| t - WarnLimiter::PERIOD);
        w.warn("d");
        assert_eq!(w.held, 0);
        let mut r = WarnLimiter::new(false);
        r.warn("a");
        r.warn("b");
        assert_eq!(r.held, 0);
    }

    #[test]
    fn latency_quantiles() {
        let mut h = LatencyHistogram::default();
        for i in 1..=100 {
            h.record(i as f64);
        }
        assert!((h.quantile(0.5) - 50.0).abs() / 50.0 < 0.011);
        assert!((h.quantile(0.99) - 99.0).abs() / 99.0 < 0.011);
        assert_eq!(LatencyHistogram::default().quantile(0.5), 0.0);
    }
}
