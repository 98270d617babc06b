//! The program's progress display for headless runs of a known length: an indicatif bar on
//! a terminal, a line every 10 % when stderr is a file or pipe, nothing when JSON goes to
//! stdout and stderr is not a terminal (scripts read stdout and keep stderr quiet).

use std::io::IsTerminal;
use std::sync::atomic::Ordering;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use layercam::runtime::Stats;

/// How progress is shown.
pub enum Progress {
    /// Not at all.
    Hidden,
    /// An indicatif bar on stderr (made at the first frame, once the length is known).
    Bar(Option<ProgressBar>),
    /// A line every 10 %.
    Lines,
}

impl Progress {
    /// The right kind for this process: a bar on a terminal; lines otherwise, unless JSON
    /// goes to stdout.
    pub fn detect(json: bool) -> Self {
        if std::io::stderr().is_terminal() {
            Progress::Bar(None)
        } else if json {
            Progress::Hidden
        } else {
            Progress::Lines
        }
    }

    /// Shows `frames_out` frames written of the run's expected total (from `stats`); runs
    /// of unknown length show nothing.
    pub fn update(&mut self, stats: &Stats, frames_out: u64) {
        let total = stats.len_hint.load(Ordering::Relaxed);
        if total == 0 {
            return;
        }
        let done = (frames_out + stats.skipped.load(Ordering::Relaxed)).min(total);
        match self {
            Progress::Hidden => {}
            Progress::Bar(bar) => {
                let bar = bar.get_or_insert_with(|| {
                    let b =
                        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
                    if let Ok(style) = ProgressStyle::with_template(
                        "[{bar:30}] {pos}/{len} frames {per_sec:.1} {elapsed}",
                    ) {
                        b.set_style(style.progress_chars("=> "));
                    }
                    b
                });
                bar.set_position(done);
            }
            Progress::Lines => {
                let step = (total / 10).max(1);
                if done.is_multiple_of(step) || done == total {
                    let secs = stats.started.elapsed().as_secs_f64().max(1e-9);
                    eprintln!(
                        "progress: {done}/{total} frames ({:.1} fps)",
                        frames_out as f64 / secs
                    );
                }
            }
        }
    }

    /// Leaves the bar (if any) drawn as it ended, so the summary starts on a line of its
    /// own.
    pub fn finish(&mut self) {
        if let Progress::Bar(Some(bar)) = self {
            bar.abandon();
        }
    }
}
