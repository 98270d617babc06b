//! The per-frame path allocates nothing in steady state: a counting global allocator
//! watches `Pipeline::process` (layers and text features) after a warm-up frame.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use layercam::{read_image, Params, Pipeline};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_per_frame(features: bool, threads: usize) -> u64 {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let a = read_image(&root.join("fixtures/poster_00.png"), 0).unwrap();
    let b = read_image(&root.join("fixtures/demo/demo_03.jpg"), 1).unwrap();
    let mut p = Pipeline::new(Params {
        features,
        threads,
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
    // one test function: the counter is process-wide
    for (features, threads) in [(false, 1), (false, 2), (true, 2)] {
        let n = allocations_per_frame(features, threads);
        assert_eq!(
            n, 0,
            "{n} allocations in 10 frames (features {features}, threads {threads})"
        );
    }
}
