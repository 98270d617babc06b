//! The column pass: the prefilter run down the columns of a plane, a strip of columns
//! at a time, each recursion step one vector operation across the strip.

use super::*;

/// A pointer to a row-major plane that may cross threads, so that disjoint *column bands*
/// of the same rows can be prefiltered in parallel (bands interleave in memory, which
/// slices cannot express).
#[derive(Clone, Copy)]
pub(super) struct Plane {
    pub(super) base: *mut f64,
    pub(super) width: usize,
}

// SAFETY: a `Plane` is only used by `prefilter_column_band`, and the bands handed to
// different threads never overlap (see `Zoom::prefilter_columns_parallel`).
unsafe impl Send for Plane {}
// SAFETY: as for `Send`: shared references only hand out disjoint bands.
unsafe impl Sync for Plane {}

/// Rows ahead that the column prefilter asks the cache for: a strip's rows are a plane
/// width apart, too far for the hardware prefetcher to follow.
pub(super) const PREFETCH_ROWS: usize = 8;

impl Plane {
    /// Hints the cache to fetch columns `x0..x0+len` of row `r` (no effect on results).
    #[inline(always)]
    fn prefetch(&self, r: usize, x0: usize, len: usize) {
        let start = self.base.wrapping_add(r * self.width + x0);
        // eight values a cache line
        for at in (0..len).step_by(8) {
            crate::simd::prefetch(start.wrapping_add(at));
        }
    }

    /// Columns `x0..x0+len` of row `r`.
    ///
    /// # Safety
    /// The caller keeps at most one live slice per (row, band) and bands disjoint.
    #[allow(clippy::mut_from_ref)]
    unsafe fn row(&self, r: usize, x0: usize, len: usize) -> &mut [f64] {
        // SAFETY: the plane covers row `r`'s columns `x0..x0+len` (the caller's bands lie
        // inside it), and the caller keeps this slice the only live one on that region.
        unsafe { std::slice::from_raw_parts_mut(self.base.add(r * self.width + x0), len) }
    }
}

/// Prefilters the columns `x0..x0+acc.len()` of a `rows`-row plane, a row at a time (the
/// recursion runs down the rows; each step is a vector operation across the band). `acc`
/// is the band's scratch.
///
/// # Safety
/// `plane` covers `rows × width` values and no other thread touches this band.
pub(super) unsafe fn prefilter_column_band(
    isa: Isa,
    plane: Plane,
    rows: usize,
    x0: usize,
    acc: &mut [f64],
) {
    #[cfg(target_arch = "x86_64")]
    if isa.avx2() {
        // SAFETY: `isa` is a set this CPU has, and it includes AVX2; the caller upholds
        // the rest.
        return unsafe { prefilter_column_band_avx2(plane, rows, x0, acc) };
    }
    let _ = isa;
    // SAFETY: upheld by the caller.
    unsafe { prefilter_column_band_plain(plane, rows, x0, acc) }
}

/// The plain form of [`prefilter_column_band`].
///
/// # Safety
/// As [`prefilter_column_band`].
#[inline(always)]
pub(super) unsafe fn prefilter_column_band_plain(
    plane: Plane,
    rows: usize,
    x0: usize,
    acc: &mut [f64],
) {
    let n = rows;
    let len = acc.len();
    if n < 2 || len == 0 {
        return;
    }
    let z = pole();
    let g = gain(z);
    let z_n1 = z.powi(n as i32 - 1);
    // SAFETY: the caller guarantees the plane covers `rows × width` values and that no
    // other thread touches this band; each statement below borrows at most two rows of
    // the band at once, always different rows.
    unsafe {
        // the gain is applied as each value is first read (same products as a separate pass)
        {
            let first = plane.row(0, x0, len);
            let last = plane.row(n - 1, x0, len);
            for ((a, f), l) in acc.iter_mut().zip(first.iter()).zip(last.iter()) {
                *a = f * g + z_n1 * (l * g);
            }
        }
        let mut zi = z;
        for i in 1..(n - 1).min(INIT_TERMS) {
            if i + PREFETCH_ROWS < n {
                plane.prefetch(i + PREFETCH_ROWS, x0, len);
                plane.prefetch(n - 1 - i - PREFETCH_ROWS.min(n - 1 - i), x0, len);
            }
            let ri = plane.row(i, x0, len);
            let rm = plane.row(n - 1 - i, x0, len);
            for ((a, x), y) in acc.iter_mut().zip(ri.iter()).zip(rm.iter()) {
                *a += zi * (x * g + z_n1 * (y * g));
            }
            zi *= z;
        }
        let denom = 1.0 - z_n1 * z_n1;
        for (dst, a) in plane.row(0, x0, len).iter_mut().zip(acc.iter()) {
            *dst = a / denom;
        }
        for i in 1..n {
            if i + PREFETCH_ROWS < n {
                plane.prefetch(i + PREFETCH_ROWS, x0, len);
            }
            causal_step(plane.row(i, x0, len), plane.row(i - 1, x0, len), g, z);
        }
        {
            let prev = plane.row(n - 2, x0, len);
            let last = plane.row(n - 1, x0, len);
            for (x, p) in last.iter_mut().zip(prev.iter()) {
                *x = (z * p + *x) * z / (z * z - 1.0);
            }
        }
        for i in (0..n - 1).rev() {
            anticausal_step(plane.row(i, x0, len), plane.row(i + 1, x0, len), z);
        }
    }
}

/// One causal step of the column prefilter across a band: `cur = cur · g + z · prev`.
/// Written on four-lane arrays (each read whole, then written): one vector operation per
/// four columns. As a plain loop over two rows of one plane, the compiler's run-time
/// overlap check sent it to its scalar fallback.
#[inline(always)]
pub(super) fn causal_step(cur: &mut [f64], prev: &[f64], g: f64, z: f64) {
    let (c4, c_rest) = cur.as_chunks_mut::<4>();
    let (p4, p_rest) = prev.as_chunks::<4>();
    for (x, p) in c4.iter_mut().zip(p4) {
        let (v, q) = (*x, *p);
        *x = std::array::from_fn(|k| v[k] * g + z * q[k]);
    }
    for (x, p) in c_rest.iter_mut().zip(p_rest) {
        *x = *x * g + z * p;
    }
}

/// One anti-causal step of the column prefilter across a band: `cur = z · (next − cur)`
/// (see [`causal_step`]).
#[inline(always)]
pub(super) fn anticausal_step(cur: &mut [f64], next: &[f64], z: f64) {
    let (c4, c_rest) = cur.as_chunks_mut::<4>();
    let (n4, n_rest) = next.as_chunks::<4>();
    for (x, n) in c4.iter_mut().zip(n4) {
        let (v, q) = (*x, *n);
        *x = std::array::from_fn(|k| z * (q[k] - v[k]));
    }
    for (x, nx) in c_rest.iter_mut().zip(n_rest) {
        *x = z * (nx - *x);
    }
}

/// Prefilters every column of a row-major `rows × width` array (one band, this thread).
/// `acc` is scratch, resized to `width`.
pub fn prefilter_columns(isa: Isa, c: &mut [f64], width: usize, rows: usize, acc: &mut Vec<f64>) {
    assert_eq!(c.len(), width * rows);
    acc.resize(width, 0.0);
    let plane = Plane {
        base: c.as_mut_ptr(),
        width,
    };
    // SAFETY: one band covering the whole plane, which `c` borrows mutably.
    unsafe { prefilter_column_band(isa, plane, rows, 0, &mut acc[..]) }
}
