//! How fast the host is right now: the cores' effective clock, memory read and write
//! bandwidth over 64 MiB per thread, and `f64` multiply–add throughput, on every core at
//! once. The project's VM swings by half or more within minutes (README, "Performance"),
//! so `tools/bench-report.sh` prints this line before and after its measurements: a
//! benchmark run is only comparable with another taken at a similar probe reading.
//!
//! `cargo run --release --example hostprobe`
use std::time::Instant;

/// Bytes per thread of each memory test: well past the last-level cache.
const BYTES: usize = 64 << 20;
/// Repetitions; the best is reported (the least disturbed).
const REPS: usize = 5;

/// Sum of the buffer (wrapping), so that the reads cannot be skipped.
fn read(buf: &[u64]) -> u64 {
    let (chunks, rest) = buf.as_chunks::<8>();
    let mut acc = [0u64; 8];
    for c in chunks {
        for (a, x) in acc.iter_mut().zip(c) {
            *a = a.wrapping_add(*x);
        }
    }
    rest.iter()
        .chain(acc.iter())
        .fold(0u64, |s, x| s.wrapping_add(*x))
}

/// Ordinary stores (each line read for ownership first, as the pipeline's stores are).
fn write(buf: &mut [u64], seed: u64) {
    for (i, x) in buf.iter_mut().enumerate() {
        *x = seed ^ i as u64;
    }
}

/// Sixteen independent multiply–add chains, `steps` long; returns a value
/// that depends on all of them.
fn compute(steps: usize, seed: f64) -> f64 {
    let mut acc = [seed; 16];
    for (k, a) in acc.iter_mut().enumerate() {
        *a += k as f64;
    }
    for _ in 0..steps {
        for a in acc.iter_mut() {
            *a = *a * 0.999_999_9 + 1e-9;
        }
    }
    acc.iter().sum()
}

/// A chain of dependent one-cycle integer additions, eight per iteration, `iters`
/// iterations long: it takes `8 · iters` core cycles, so its time gives the clock the
/// core runs at (the VM reports only the nominal one).
#[cfg(target_arch = "x86_64")]
fn add_chain(iters: u64) -> u64 {
    let mut x = 0u64;
    // SAFETY: register arithmetic only; no memory, no stack.
    unsafe {
        std::arch::asm!(
            "2:",
            "add {x}, 1",
            "add {x}, 1",
            "add {x}, 1",
            "add {x}, 1",
            "add {x}, 1",
            "add {x}, 1",
            "add {x}, 1",
            "add {x}, 1",
            "dec {n}",
            "jnz 2b",
            x = inout(reg) x,
            n = inout(reg) iters => _,
            options(nomem, nostack),
        );
    }
    x
}

/// Best time over [`REPS`] of `f` run on `threads` threads at once, in seconds.
fn best_of(threads: usize, f: impl Fn(usize) + Sync) -> f64 {
    (0..REPS)
        .map(|_| {
            let t = Instant::now();
            std::thread::scope(|s| {
                for k in 0..threads {
                    let f = &f;
                    s.spawn(move || f(k));
                }
            });
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let words = BYTES / 8;
    let bufs: Vec<std::sync::Mutex<Vec<u64>>> = (0..threads)
        .map(|k| std::sync::Mutex::new((0..words as u64).map(|i| i ^ k as u64).collect()))
        .collect();
    let sink = std::sync::atomic::AtomicU64::new(0);
    let lock = |k: usize| bufs[k].lock().unwrap_or_else(|p| p.into_inner());
    let t_read = best_of(threads, |k| {
        let s = read(&lock(k));
        sink.fetch_xor(s, std::sync::atomic::Ordering::Relaxed);
    });
    let t_write = best_of(threads, |k| write(&mut lock(k), k as u64));
    const STEPS: usize = 20_000_000;
    let t_compute = best_of(threads, |k| {
        let s = compute(STEPS, k as f64);
        sink.fetch_xor(s.to_bits(), std::sync::atomic::Ordering::Relaxed);
    });
    #[cfg(target_arch = "x86_64")]
    let clock = {
        const ITERS: u64 = 50_000_000;
        let t = best_of(threads, |_| {
            sink.fetch_xor(add_chain(ITERS), std::sync::atomic::Ordering::Relaxed);
        });
        format!("clock {:.2} GHz, ", (8 * ITERS) as f64 / t / 1e9)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let clock = String::new();
    let gb = (threads * BYTES) as f64 / 1e9;
    let gops = (threads * STEPS * 16 * 2) as f64 / 1e9;
    println!(
        "host probe ({threads} threads): {clock}read {:.1} GB/s, write {:.1} GB/s, f64 mul+add {:.1} Gop/s (checksum {:02x})",
        gb / t_read,
        gb / t_write,
        gops / t_compute,
        sink.load(std::sync::atomic::Ordering::Relaxed) & 0xff
    );
}
