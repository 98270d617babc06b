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

mod capture;
mod stats;
mod worker;

pub use capture::*;
pub use stats::*;
use worker::*;

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
    /// Where warnings (a skipped input, a corrupt camera buffer) and notices (a camera
    /// lost, found again) go; by default nowhere (they also reach [`Stats::status`]).
    pub report: Reporter,
}

/// What the runtime has to say while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// Something was skipped or went wrong, and the run goes on. A live source's warnings
    /// come at most once a second, with a count of those held back.
    Warning(String),
    /// A change of state worth telling (a camera lost, reconnected).
    Notice(String),
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Report::Warning(m) => write!(f, "warning: {m}"),
            Report::Notice(m) => f.write_str(m),
        }
    }
}

/// Where a runtime's [`Report`]s go: a function called on the thread that has something
/// to say (the program prints them on stderr).
///
/// # Examples
///
/// ```
/// use layercam::runtime::{Report, Reporter, RuntimeConfig};
///
/// let cfg = RuntimeConfig {
///     report: Reporter::new(|r: Report| eprintln!("{r}")),
///     ..RuntimeConfig::default()
/// };
/// # let _ = cfg;
/// ```
#[derive(Clone, Default)]
pub struct Reporter(Option<Arc<dyn Fn(Report) + Send + Sync>>);

impl Reporter {
    /// Reports go to `f`.
    pub fn new(f: impl Fn(Report) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(f)))
    }

    /// Hands `r` to the function, if any.
    pub fn report(&self, r: Report) {
        if let Some(f) = &self.0 {
            f(r)
        }
    }
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Reporter(..)"
        } else {
            "Reporter(none)"
        })
    }
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
            report: Reporter::default(),
        }
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
    /// Starts the capture and worker threads; results arrive on
    /// [`results`](Self::results) until the source ends or [`stop`](Self::stop) is
    /// called. [`join`](Self::join) joins both threads and returns the first error.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParam`] for bad pipeline parameters; [`Error::Thread`] when a
    /// thread cannot start. The source is opened on the capture thread: failing to open
    /// it ends the stream, and [`join`](Self::join) returns why.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use layercam::runtime::{Runtime, RuntimeConfig, SourceOpener};
    /// use layercam::source::{open_replay, pollread::StopFlags, FrameSource};
    ///
    /// let opener: SourceOpener = Box::new(|| {
    ///     let s = open_replay("recording.y4m".as_ref(), None, 8_000_000, StopFlags::default())?;
    ///     Ok(s as Box<dyn FrameSource>)
    /// });
    /// let rt = Runtime::start(opener, RuntimeConfig::default())?;
    /// for p in rt.results.iter() {
    ///     println!("frame {}: {} layers", p.index, p.layers.len());
    ///     rt.recycle(p);
    /// }
    /// rt.join()?;
    /// # Ok::<(), layercam::Error>(())
    /// ```
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_of_a_live_source_are_limited_to_one_line_a_second() {
        let mut w = WarnLimiter::new(true, Reporter::default());
        w.warn("a");
        w.warn("b");
        w.warn("c");
        assert_eq!(w.held, 2);
        w.last = w.last.map(|t| t - WarnLimiter::PERIOD);
        w.warn("d");
        assert_eq!(w.held, 0);
        let mut r = WarnLimiter::new(false, Reporter::default());
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
