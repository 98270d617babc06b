//! The runtime as a library: channel policies under a slow consumer, bounded memory, and
//! threads joined on every way out.

use std::time::{Duration, Instant};

use layercam::runtime::{Pacing, Policy, Runtime, RuntimeConfig, SourceOpener};
use layercam::source::{FrameSource, Next, SourceKind};
use layercam::{Frame, Params};

/// A source of `n` small synthetic frames, as fast as asked.
struct Synthetic {
    n: u64,
    i: u64,
    kind: SourceKind,
    fail_at: Option<u64>,
}

impl FrameSource for Synthetic {
    fn next(&mut self) -> layercam::Result<Next> {
        if Some(self.i) == self.fail_at {
            return Err(layercam::Error::Camera("device vanished".into()));
        }
        if self.i >= self.n {
            return Ok(Next::End);
        }
        let (w, h) = (32, 24);
        let rgb: Vec<u8> = (0..w * h * 3)
            .map(|p| ((p as u64 * 7 + self.i * 13) % 256) as u8)
            .collect();
        let f = Frame::new(self.i, w, h, rgb)?;
        self.i += 1;
        Ok(Next::Frame(f))
    }
    fn kind(&self) -> SourceKind {
        self.kind
    }
    fn len_hint(&self) -> Option<u64> {
        Some(self.n)
    }
    fn describe(&self) -> String {
        "synthetic".into()
    }
}

fn opener(n: u64, kind: SourceKind, fail_at: Option<u64>) -> SourceOpener {
    Box::new(move || {
        Ok(Box::new(Synthetic {
            n,
            i: 0,
            kind,
            fail_at,
        }) as Box<dyn FrameSource>)
    })
}

/// Tests here count the process's threads: they run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Threads of this process that layercam started (capture, worker, pipeline pool); the
/// harness's own threads come and go and are not counted.
fn threads() -> usize {
    names()
        .iter()
        .filter(|n| n.starts_with("layercam-"))
        .count()
}

/// Names of this process's threads.
fn names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
                .map(|c| c.trim().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Waits (up to half a second) for layercam's thread count to reach `before`: a pool
/// thread signals its exit (and is awaited) a moment before the kernel removes it. The
/// tests run one at a time, so outside a runtime no layercam thread exists.
fn settle(before: usize) -> usize {
    let t = Instant::now();
    while threads() != before && t.elapsed() < Duration::from_millis(500) {
        std::thread::sleep(Duration::from_millis(5));
    }
    threads()
}

fn config(policy: Policy) -> RuntimeConfig {
    RuntimeConfig {
        params: Params::default(),
        policy,
        pacing: Pacing::Fast,
        capacity: 1,
        ..RuntimeConfig::default()
    }
}

#[test]
fn slow_consumer_drops_stale_frames_and_sees_the_newest() {
    let _serial = serial();
    let rt = Runtime::start(
        opener(400, SourceKind::Live, None),
        config(Policy::LatestWins),
    )
    .unwrap();
    let mut seen = Vec::new();
    while let Ok(p) = rt.results.recv_timeout(Duration::from_secs(5)) {
        seen.push(p.index);
        std::thread::sleep(Duration::from_millis(5)); // slower than the source
                                                      // bounded memory: at most capacity frames wait in each channel
        assert!(rt.results.len() <= 1);
        rt.recycle(p);
    }
    let stats = rt.stats.clone();
    rt.join().unwrap();
    let frames_in = stats.frames_in.load(std::sync::atomic::Ordering::Relaxed);
    let dropped = stats.dropped.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(frames_in, 400);
    assert!(dropped > 0, "a slow consumer makes the policy drop");
    assert_eq!(
        seen.len() as u64 + dropped,
        frames_in,
        "every frame is seen or counted"
    );
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "order kept");
    assert_eq!(
        *seen.last().unwrap(),
        399,
        "the newest frame is the one processed last"
    );
}

#[test]
fn lossless_policy_processes_every_frame_in_order() {
    let _serial = serial();
    let rt = Runtime::start(
        opener(60, SourceKind::Replay, None),
        config(Policy::Lossless),
    )
    .unwrap();
    let mut seen = Vec::new();
    while let Ok(p) = rt.results.recv_timeout(Duration::from_secs(5)) {
        seen.push(p.index);
        std::thread::sleep(Duration::from_millis(2));
        rt.recycle(p);
    }
    rt.join().unwrap();
    assert_eq!(seen, (0..60).collect::<Vec<_>>());
}

#[test]
fn stop_joins_all_threads_within_a_second() {
    let _serial = serial();
    let rt = Runtime::start(
        opener(u64::MAX, SourceKind::Live, None),
        config(Policy::LatestWins),
    )
    .unwrap();
    // take a few results, then stop while the source still runs
    for _ in 0..3 {
        rt.results.recv_timeout(Duration::from_secs(5)).unwrap();
    }
    let t = Instant::now();
    rt.stop();
    rt.join().unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "joined in {:?}",
        t.elapsed()
    );
    assert_eq!(settle(0), 0, "layercam threads left: {:?}", names());
}

#[test]
fn a_failing_source_ends_the_stream_with_its_error() {
    let _serial = serial();
    let rt = Runtime::start(
        opener(100, SourceKind::Live, Some(5)),
        config(Policy::Lossless),
    )
    .unwrap();
    let mut n = 0;
    while rt.results.recv_timeout(Duration::from_secs(5)).is_ok() {
        n += 1;
    }
    let err = rt.join().unwrap_err().to_string();
    assert!(err.contains("device vanished"), "{err}");
    assert_eq!(n, 5, "frames before the failure are delivered");
    assert_eq!(settle(0), 0, "layercam threads left: {:?}", names());
}

#[test]
fn dropping_the_runtime_joins_its_threads() {
    let _serial = serial();
    {
        let rt = Runtime::start(
            opener(u64::MAX, SourceKind::Live, None),
            config(Policy::LatestWins),
        )
        .unwrap();
        rt.results.recv_timeout(Duration::from_secs(5)).unwrap();
    }
    assert_eq!(settle(0), 0, "layercam threads left: {:?}", names());
}

#[test]
fn bandwidth_cache_is_reused_and_reported() {
    let _serial = serial();
    let mut cfg = config(Policy::Lossless);
    cfg.params.bandwidth_tolerance = 0.5;
    let rt = Runtime::start(opener(10, SourceKind::Replay, None), cfg).unwrap();
    let mut reused = Vec::new();
    while let Ok(p) = rt.results.recv_timeout(Duration::from_secs(5)) {
        reused.push(p.layers.bandwidth_reused);
        rt.recycle(p);
    }
    rt.join().unwrap();
    assert!(!reused[0], "the first frame computes h");
    assert!(
        reused[1..].iter().all(|&r| r),
        "similar frames reuse it: {reused:?}"
    );
}

/// A source whose frames change size every few frames and that fills the buffers the
/// stream hands back (as the y4m and camera sources do), counting them.
struct Recycling {
    n: u64,
    i: u64,
    spare: Vec<u8>,
    returned: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Frame `i` of [`Recycling`]: two sizes, content that differs from frame to frame.
fn recycling_frame(i: u64) -> (usize, usize, Vec<u8>) {
    let (w, h) = if (i / 3).is_multiple_of(2) {
        (48, 32)
    } else {
        (40, 36)
    };
    let rgb = (0..w * h * 3)
        .map(|p| {
            let (x, y) = ((p / 3) % w, (p / 3) / w);
            // text-like blocks on a gradient, moving with i
            if (x + i as usize) % 12 < 4 && y % 10 < 6 {
                (20 + i * 3) as u8
            } else {
                (120 + (x + y) % 90) as u8
            }
        })
        .collect();
    (w, h, rgb)
}

impl FrameSource for Recycling {
    fn next(&mut self) -> layercam::Result<Next> {
        if self.i >= self.n {
            return Ok(Next::End);
        }
        let (w, h, pixels) = recycling_frame(self.i);
        // fill the recycled buffer without clearing it first, as the real sources do
        let mut rgb = std::mem::take(&mut self.spare);
        if rgb.len() != pixels.len() {
            rgb.resize(pixels.len(), 0xAA);
        }
        rgb.copy_from_slice(&pixels);
        let f = Frame::new(self.i, w, h, rgb)?;
        self.i += 1;
        Ok(Next::Frame(f))
    }
    fn recycle(&mut self, buf: Vec<u8>) {
        self.returned
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.spare = buf;
    }
    fn kind(&self) -> SourceKind {
        SourceKind::Replay
    }
    fn describe(&self) -> String {
        "recycling".into()
    }
}

#[test]
fn recycled_buffers_carry_nothing_from_earlier_frames() {
    let _serial = serial();
    let returned = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let n = 24;
    let opener: SourceOpener = {
        let returned = returned.clone();
        Box::new(move || {
            Ok(Box::new(Recycling {
                n,
                i: 0,
                spare: Vec::new(),
                returned,
            }) as Box<dyn FrameSource>)
        })
    };
    let mut cfg = config(Policy::Lossless);
    cfg.params.features = true;
    cfg.capacity = 2;
    let rt = Runtime::start(opener, cfg).unwrap();
    // each frame against a pipeline of its own, which never saw another frame
    let mut seen = 0;
    while let Ok(p) = rt.results.recv_timeout(Duration::from_secs(10)) {
        let (w, h, rgb) = recycling_frame(p.index);
        assert_eq!(p.rgb, rgb, "frame {}: the source pixels", p.index);
        let mut alone = layercam::Pipeline::new(Params {
            features: true,
            ..Params::default()
        })
        .unwrap();
        let want = alone
            .process(layercam::RgbView::new(w, h, &rgb).unwrap())
            .unwrap()
            .clone();
        let got = &p.layers;
        assert_eq!(
            (got.upscaled_width, got.upscaled_height),
            (want.upscaled_width, want.upscaled_height)
        );
        assert_eq!(got.histogram, want.histogram, "frame {}", p.index);
        assert_eq!(got.bounds, want.bounds, "frame {}", p.index);
        assert_eq!(got.counts, want.counts, "frame {}", p.index);
        assert!(got.levels == want.levels, "frame {}: levels", p.index);
        assert!(got.labels == want.labels, "frame {}: labels", p.index);
        assert!(
            p.text_mask == alone.features().mask(),
            "frame {}: text mask",
            p.index
        );
        seen += 1;
        rt.recycle(p);
    }
    rt.join().unwrap();
    assert_eq!(seen, n);
    // the buffers did go round: frames were filled into buffers handed back
    assert!(
        returned.load(std::sync::atomic::Ordering::Relaxed) >= n / 2,
        "only {} buffers came back",
        returned.load(std::sync::atomic::Ordering::Relaxed)
    );
}
