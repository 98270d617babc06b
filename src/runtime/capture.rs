//! The capture thread: opens the source, paces it, applies the channel policy, and
//! rate-limits its warnings.

use super::*;

pub(super) fn sleep_until(deadline: Instant, stop: &AtomicBool) {
    loop {
        let now = Instant::now();
        if now >= deadline || stop.load(Ordering::Relaxed) {
            return;
        }
        std::thread::sleep((deadline - now).min(TICK));
    }
}

/// Reports warnings, for a live source at most one a second: a warning within a second of
/// the last one reported is counted instead, and the count goes with the next one
/// reported (or with [`WarnLimiter::finish`]). A camera sending corrupt frames at 30 a
/// second gives one line a second, not thirty. A replay names every skipped input.
#[derive(Debug, Default)]
pub struct WarnLimiter {
    pub(super) last: Option<Instant>,
    pub(super) held: u64,
    /// Every warning is reported (a replay).
    pub(super) all: bool,
    report: Reporter,
}

impl WarnLimiter {
    /// The shortest time between two printed lines.
    pub const PERIOD: Duration = Duration::from_secs(1);

    /// A limiter for a live source, or (`live` false) one that reports every warning, to
    /// `report`.
    pub fn new(live: bool, report: Reporter) -> Self {
        Self {
            all: !live,
            report,
            ..Self::default()
        }
    }

    /// Reports `msg` as a warning, or counts it.
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
        let line = match std::mem::take(&mut self.held) {
            0 => msg.into_owned(),
            n => format!("{msg} ({n} more warnings in the last second not shown)"),
        };
        self.report.report(Report::Warning(line));
        self.last = Some(now);
    }

    /// Reports the count of warnings not shown yet, if any.
    pub fn finish(&mut self) {
        match std::mem::take(&mut self.held) {
            0 => {}
            n => self
                .report
                .report(Report::Warning(format!("{n} more warnings not shown"))),
        }
    }
}

/// Sends with the policy; returns false when the stream should end (receiver gone or stop).
pub(super) fn send_with_policy<T>(
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

pub(super) fn capture_loop(
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
    let mut warnings = WarnLimiter::new(live, cfg.report.clone());
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
                    cfg.report
                        .report(Report::Notice(crate::error::printable(&msg).into_owned()));
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
