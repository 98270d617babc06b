//! The per-frame path allocates nothing in steady state: a counting global allocator
//! watches `Pipeline::process` (layers and text features) after a warm-up frame, and a
//! whole y4m replay through the runtime (capture, worker and consumer threads) for
//! frame-sized buffers.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use layercam::runtime::{Pacing, Policy, Runtime, RuntimeConfig, SourceOpener};
use layercam::source::{y4m::Y4mSource, FrameSource};
use layercam::{read_image, Params, Pipeline};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);
/// Allocations of at least [`LARGE`] bytes, counted while [`COUNTING_LARGE`] is set.
static LARGE_ALLOCS: AtomicU64 = AtomicU64::new(0);
static COUNTING_LARGE: AtomicBool = AtomicBool::new(false);
/// Smaller than every frame-sized buffer of the replay test (its smallest, the y4m planes
/// of a 320×240 frame, are 115 KB).
const LARGE: usize = 64 << 10;

/// The counters are process-wide: the tests take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn count(size: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
    if size >= LARGE && COUNTING_LARGE.load(Ordering::Relaxed) {
        LARGE_ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call goes to the system allocator with the caller's arguments unchanged;
// counting touches only atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: the caller's contract for `realloc`, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_per_frame(
    features: bool,
    threads: usize,
    stable: bool,
    lines: layercam::pipeline::lines::LinesMode,
) -> u64 {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let a = read_image(&root.join("fixtures/poster_00.png"), 0).unwrap();
    let b = read_image(&root.join("fixtures/demo/demo_03.jpg"), 1).unwrap();
    let mut p = Pipeline::new(Params {
        features,
        threads,
        stable,
        lines,
        ..Params::default()
    })
    .unwrap();
    p.in_pool(|p| {
        // warm-up: buffers grow to their size (both frames, so both layer counts are seen)
        for f in [&a, &b, &a, &b] {
            p.process(f.view()).unwrap();
        }
        ALLOCS.store(0, Ordering::SeqCst);
        COUNTING.store(true, Ordering::SeqCst);
        for _ in 0..5 {
            for f in [&a, &b] {
                p.process(f.view()).unwrap();
            }
        }
        COUNTING.store(false, Ordering::SeqCst);
        ALLOCS.load(Ordering::SeqCst)
    })
}

#[test]
fn steady_state_frames_allocate_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    use layercam::pipeline::lines::LinesMode::{Off, Seed, Text};
    for (features, threads, stable, lines) in [
        (false, 1, false, Off),
        (false, 2, false, Off),
        (true, 2, false, Off),
        (true, 2, true, Off),
        (true, 2, false, Seed),
        (true, 2, false, Text),
        (true, 1, true, Text),
    ] {
        let n = allocations_per_frame(features, threads, stable, lines);
        assert_eq!(
            n, 0,
            "{n} allocations in 10 frames (features {features}, threads {threads}, stable {stable}, lines {lines:?})"
        );
    }
}

/// A 320×240 4:2:0 y4m stream of `n` frames whose content moves from frame to frame.
fn y4m_stream(n: usize) -> Vec<u8> {
    let (w, h) = (320, 240);
    let mut data = format!("YUV4MPEG2 W{w} H{h} F30:1 C420jpeg\n").into_bytes();
    for i in 0..n {
        data.extend_from_slice(b"FRAME\n");
        data.extend((0..w * h).map(|p| {
            let (x, y) = (p % w, p / w);
            if (x + 3 * i) % 40 < 12 && y % 30 < 18 {
                40
            } else {
                (100 + (x + y) % 120) as u8
            }
        }));
        data.extend((0..2 * (w / 2) * (h / 2)).map(|p| (128 + (p + i) % 40) as u8));
    }
    data
}

#[test]
fn a_replay_allocates_no_frame_buffers_in_steady_state() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let n = 48;
    let opener: SourceOpener = Box::new(move || {
        let bytes = std::io::Cursor::new(y4m_stream(n));
        Ok(Box::new(Y4mSource::new(Box::new(bytes), "test")?) as Box<dyn FrameSource>)
    });
    let cfg = RuntimeConfig {
        params: Params {
            features: true,
            ..Params::default()
        },
        policy: Policy::Lossless,
        pacing: Pacing::Fast,
        ..RuntimeConfig::default()
    };
    let rt = Runtime::start(opener, cfg).unwrap();
    let (warm_up, measured) = (12, 30);
    let mut seen = 0;
    while let Ok(p) = rt.results.recv_timeout(Duration::from_secs(10)) {
        seen += 1;
        if seen == warm_up {
            LARGE_ALLOCS.store(0, Ordering::SeqCst);
            COUNTING_LARGE.store(true, Ordering::SeqCst);
        } else if seen == warm_up + measured {
            COUNTING_LARGE.store(false, Ordering::SeqCst);
        }
        // a consumer gives every result back, as the headless sink and the window do
        rt.recycle(p);
    }
    COUNTING_LARGE.store(false, Ordering::SeqCst);
    rt.join().unwrap();
    assert_eq!(seen, n);
    // each frame has five frame-sized buffers (pixels, levels, labels, text mask, y4m
    // planes): allocating them anew would be 150 here; the buffers go round instead
    let large = LARGE_ALLOCS.load(Ordering::SeqCst);
    assert!(
        large <= 2,
        "{large} allocations of {LARGE} bytes or more in {measured} frames"
    );
}

#[test]
fn a_camera_decodes_into_recycled_buffers() {
    use layercam::source::camera::scripted::{mjpeg_device, ScriptedDevice, ScriptedSystem, Step};
    use layercam::source::camera::{CameraRequest, CameraSource};
    use layercam::source::Next;
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut jpeg = std::fs::read(root.join("fixtures/demo/demo_00.jpg")).unwrap();
    jpeg.resize(640 * 480 * 2, 0); // as a driver delivers it
    let sys = ScriptedSystem::new(vec![ScriptedDevice {
        info: mjpeg_device(0, "Scripted Cam", "usb-1", 640, 480, 1000),
        dead_modes: vec![],
        script: vec![Step::Frames {
            count: 1000,
            buffers: vec![std::sync::Arc::new(jpeg)],
        }],
        repeat: false,
    }]);
    let mut cam = CameraSource::open(Box::new(sys), CameraRequest::default()).unwrap();
    let (mut frames, mut large) = (0, 0);
    while frames < 40 {
        if frames == 10 {
            LARGE_ALLOCS.store(0, Ordering::SeqCst);
            COUNTING_LARGE.store(true, Ordering::SeqCst);
        }
        if let Next::Frame(f) = cam.next().unwrap() {
            frames += 1;
            cam.recycle(f.rgb);
        }
        if frames == 40 {
            COUNTING_LARGE.store(false, Ordering::SeqCst);
            large = LARGE_ALLOCS.load(Ordering::SeqCst);
        }
    }
    assert_eq!(
        large, 0,
        "{large} frame-sized allocations in 30 camera frames"
    );
}
