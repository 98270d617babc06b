//! What a run counts: the shared counters and the latency histogram.

use super::*;

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
    pub(crate) fn new() -> Self {
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

    pub(crate) fn set_status(&self, s: &str) {
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

/// Latency histogram with ~1 % relative resolution and a fixed size (memory stays flat over
/// long runs).
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    buckets: Vec<u64>,
    count: u64,
}

pub(super) const LAT_MIN_MS: f64 = 0.01;
pub(super) const LAT_STEP: f64 = 1.01;
pub(super) const LAT_BUCKETS: usize = 1400; // 0.01 ms · 1.01^1400 ≈ 11 h

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
