//! The worker thread: runs the pipeline on each frame, takes control messages between
//! frames, and hands results over with their buffers.

use super::*;

#[allow(clippy::too_many_arguments)]
pub(super) fn worker_loop(
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
pub(super) fn worker_steps(
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
    let mut warnings = WarnLimiter::new(true, cfg.report.clone());
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
                warnings.warn(&format!(
                    "skipped {}: {}",
                    frame.origin,
                    crate::error::with_causes(&e)
                ));
                continue;
            }
            stats.frames_processed.fetch_add(1, Ordering::Relaxed);
            // A recycled result's buffers are exchanged, not copied: its pixel buffer goes back
            // to the capture thread, and the pipeline keeps its layer buffers for the next
            // frame (a copy of a 1080p frame's levels and labels would cost milliseconds).
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
