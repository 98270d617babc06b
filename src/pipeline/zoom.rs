//! Stage 2: integer upscale with a cubic B-spline, exactly like `scipy.ndimage.zoom(y, z)`
//! (order 3, prefilter on, `grid_mode=False`, mirror boundaries).
//!
//! The prefilter and the interpolation run in `f64` (as scipy does), the result is stored as
//! `f32` and not clamped: ringing overshoots around sharp edges, and that overshoot sets the
//! normalisation of the next stage. Output index `i` of an axis of length `n` samples the
//! input at `x = i·(n−1)/(m−1)` (`m = z·n`, corners aligned).

use rayon::prelude::*;

use crate::simd::{align_slack, avx2_dispatch, avx512_dispatch, cache_aligned, Isa};
#[cfg(target_arch = "x86_64")]
use crate::simd::{prefetch, transpose4};

/// The single pole of the cubic B-spline prefilter, `√3 − 2` (as scipy computes it).
fn pole() -> f64 {
    3.0_f64.sqrt() - 2.0
}

/// Mirrors an index into `0..n` with whole-sample symmetry (`c[-k] = c[k]`,
/// `c[n-1+k] = c[n-1-k]`), repeating for indices more than one period away.
#[inline]
pub fn mirror(i: isize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n as isize - 1);
    let mut k = i.rem_euclid(period);
    if k > n as isize - 1 {
        k = period - k;
    }
    k as usize
}

/// Interpolation taps of one axis: for each output index, four input indices (already
/// mirrored) and their cubic B-spline weights. Depends only on the axis length and zoom,
/// so it is computed once per frame size.
#[derive(Debug, Clone, Default)]
pub struct AxisTaps {
    /// Input length.
    pub n: usize,
    /// Output length.
    pub m: usize,
    /// Input indices of the four taps, per output index.
    pub index: Vec<[u32; 4]>,
    /// Weights of the four taps, per output index.
    pub weight: Vec<[f64; 4]>,
    /// `f = floor(x)` per output index: the taps are `f − 1 … f + 2` (mirrored), which is
    /// `f … f + 3` in a row padded with one mirrored value in front.
    pub start: Vec<u32>,
}

impl AxisTaps {
    /// Taps for an axis of `n` samples zoomed to `m` samples.
    pub fn new(n: usize, m: usize) -> Self {
        let mut taps = Self::default();
        taps.rebuild(n, m);
        taps
    }

    /// Recomputes the taps in place (keeps the allocations).
    pub fn rebuild(&mut self, n: usize, m: usize) {
        self.n = n;
        self.m = m;
        self.index.clear();
        self.weight.clear();
        self.start.clear();
        let ratio = if m > 1 {
            (n as f64 - 1.0) / (m as f64 - 1.0)
        } else {
            0.0
        };
        for i in 0..m {
            let x = i as f64 * ratio;
            let f = x.floor();
            let t = x - f;
            let z = 1.0 - t;
            let w = [
                z * z * z / 6.0,
                (t * t * (t - 2.0) * 3.0 + 4.0) / 6.0,
                (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0,
                t * t * t / 6.0,
            ];
            let f = f as isize;
            let idx = [
                mirror(f - 1, n) as u32,
                mirror(f, n) as u32,
                mirror(f + 1, n) as u32,
                mirror(f + 2, n) as u32,
            ];
            self.index.push(idx);
            self.weight.push(w);
            self.start.push(f.min(n as isize - 1) as u32);
        }
    }
}

/// The prefilter gain `(1 − z)(1 − 1/z)`, computed as scipy does (≈ 6).
fn gain(z: f64) -> f64 {
    (1.0 - z) * (1.0 - 1.0 / z)
}

/// Terms of the causal initialisation sum kept: `|z|^64 ≈ 1e-37`, so later terms are far
/// below the last bit of the sum (scipy sums every term; the result is the same number).
pub const INIT_TERMS: usize = 64;

/// Prefilters one contiguous line in place (gain, causal and anti-causal recursion with
/// mirror initialisation). A line of one sample is left unchanged.
pub fn prefilter_line(c: &mut [f64]) {
    let n = c.len();
    if n < 2 {
        return;
    }
    let z = pole();
    let g = gain(z);
    for v in c.iter_mut() {
        *v *= g;
    }
    // causal initialisation (mirror)
    let z_n1 = z.powi(n as i32 - 1);
    let mut c0 = c[0] + z_n1 * c[n - 1];
    let mut zi = z;
    for i in 1..(n - 1).min(INIT_TERMS) {
        c0 += zi * (c[i] + z_n1 * c[n - 1 - i]);
        zi *= z;
    }
    c[0] = c0 / (1.0 - z_n1 * z_n1);
    for i in 1..n {
        c[i] += z * c[i - 1];
    }
    // anti-causal initialisation (mirror)
    c[n - 1] = (z * c[n - 2] + c[n - 1]) * z / (z * z - 1.0);
    for i in (0..n - 1).rev() {
        c[i] = z * (c[i + 1] - c[i]);
    }
}

/// Lines prefiltered together by [`prefilter_interpolate_lines`]: independent recursions
/// interleaved, so the multiply–add latency of one line hides behind the others.
pub const LINE_BLOCK: usize = 8;

avx512_dispatch! {
    /// Prefilters [`LINE_BLOCK`] lines (`block`, `width` values each) and evaluates them at
    /// the horizontal taps into `out` ([`LINE_BLOCK`] rows of `taps.m` values), without
    /// writing the coefficients back: while the lines are still interleaved in `scratch`,
    /// each output is one vector operation over the lines. Bit-identical to
    /// [`prefilter_line`] followed by [`interpolate_row`] on each line.
    pub fn prefilter_interpolate_lines(isa: Isa, block: &[f64], taps: &AxisTaps, out: &mut [f64], scratch: &mut Vec<f64>) => prefilter_interpolate_lines_with
}

/// The plain form of [`prefilter_interpolate_lines`].
pub fn prefilter_interpolate_lines_plain(
    block: &[f64],
    taps: &AxisTaps,
    out: &mut [f64],
    scratch: &mut Vec<f64>,
) {
    prefilter_interpolate_lines_with(Isa::plain(), block, taps, out, scratch)
}

/// [`prefilter_interpolate_lines`]'s body, its helpers in the forms `isa` allows.
#[inline(always)]
fn prefilter_interpolate_lines_with(
    isa: Isa,
    block: &[f64],
    taps: &AxisTaps,
    out: &mut [f64],
    scratch: &mut Vec<f64>,
) {
    const L: usize = LINE_BLOCK;
    let n = taps.n;
    let m = taps.m;
    assert!(block.len() == n * L && out.len() == m * L && n >= 4);
    // one mirrored group in front, two behind: the taps of output i are groups s..s+4;
    // then the interleaved outputs
    let need = (n + 3) * L + m * L;
    scratch.resize(need + align_slack::<f64>(), 0.0);
    let (lanes, interleaved) = cache_aligned(scratch, need).split_at_mut((n + 3) * L);
    prefilter_group::<L>(isa, block, n, lanes);
    taps_to_rows(isa, lanes, L, 0, taps, out, interleaved);
}

/// Lines prefiltered together by [`prefilter_interpolate_line_pairs`]: two groups of
/// [`LINE_BLOCK`], so that the recursions (a multiply and an add per step, each waiting
/// for the last) have twice the independent work per step.
pub const PAIR_BLOCK: usize = 2 * LINE_BLOCK;

avx512_dispatch! {
    /// [`prefilter_interpolate_lines`] on [`PAIR_BLOCK`] lines at once: the first
    /// [`LINE_BLOCK`] lines' outputs go to `out_a`, the others' to `out_b`. The same bits
    /// as two calls of [`prefilter_interpolate_lines`].
    pub fn prefilter_interpolate_line_pairs(isa: Isa, block: &[f64], taps: &AxisTaps, out_a: &mut [f64], out_b: &mut [f64], scratch: &mut Vec<f64>) => prefilter_interpolate_line_pairs_with
}

/// The plain form of [`prefilter_interpolate_line_pairs`].
pub fn prefilter_interpolate_line_pairs_plain(
    block: &[f64],
    taps: &AxisTaps,
    out_a: &mut [f64],
    out_b: &mut [f64],
    scratch: &mut Vec<f64>,
) {
    prefilter_interpolate_line_pairs_with(Isa::plain(), block, taps, out_a, out_b, scratch)
}

/// [`prefilter_interpolate_line_pairs`]'s body, its helpers in the forms `isa` allows.
#[inline(always)]
fn prefilter_interpolate_line_pairs_with(
    isa: Isa,
    block: &[f64],
    taps: &AxisTaps,
    out_a: &mut [f64],
    out_b: &mut [f64],
    scratch: &mut Vec<f64>,
) {
    const P: usize = PAIR_BLOCK;
    const L: usize = LINE_BLOCK;
    let n = taps.n;
    let m = taps.m;
    assert!(block.len() == n * P && out_a.len() == m * L && out_b.len() == m * L && n >= 4);
    let need = (n + 3) * P + m * L;
    scratch.resize(need + align_slack::<f64>(), 0.0);
    let (lanes, interleaved) = cache_aligned(scratch, need).split_at_mut((n + 3) * P);
    prefilter_group::<P>(isa, block, n, lanes);
    taps_to_rows(isa, lanes, P, 0, taps, out_a, interleaved);
    taps_to_rows(isa, lanes, P, L, taps, out_b, interleaved);
}

/// Interleaves the `L` lines of `block` (`n ≥ 4` values each) times the gain into
/// `padded` (`(n + 3) · L` values) as `padded[p][line]` at padded position `p = column +
/// 1`, prefilters them there, and fills the mirrored neighbours (`p = 0`, `n + 1`,
/// `n + 2`): the four taps of every output are then four consecutive groups.
#[inline(always)]
fn prefilter_group<const L: usize>(isa: Isa, block: &[f64], n: usize, padded: &mut [f64]) {
    let z = pole();
    interleave::<L>(isa, block, n, &mut padded[L..(n + 1) * L], gain(z));
    let (lanes, _) = padded.as_chunks_mut::<L>();
    prefilter_lanes::<L>(&mut lanes[1..n + 1], z);
    lanes[0] = lanes[2];
    lanes[n + 1] = lanes[n - 1];
    lanes[n + 2] = lanes[n - 2];
}

/// Evaluates [`LINE_BLOCK`] interleaved, padded coefficient lines at the horizontal taps
/// into `out` ([`LINE_BLOCK`] rows of `taps.m` values). The lines are lanes `offset ..
/// offset + LINE_BLOCK` of `padded`, `stride` values a position (as [`prefilter_group`]
/// leaves them). With AVX2 by [`taps_to_rows_avx2`], else through the interleaved scratch
/// `interleaved`.
#[inline(always)]
fn taps_to_rows(
    isa: Isa,
    padded: &[f64],
    stride: usize,
    offset: usize,
    taps: &AxisTaps,
    out: &mut [f64],
    interleaved: &mut [f64],
) {
    assert!(offset + LINE_BLOCK <= stride);
    #[cfg(target_arch = "x86_64")]
    if isa.avx2() {
        // SAFETY: `isa` is a set this CPU has, and it includes AVX2.
        return unsafe { taps_to_rows_avx2(padded, stride, offset, taps, out) };
    }
    let _ = isa;
    taps_to_rows_plain(padded, stride, offset, taps, out, interleaved)
}

/// The plain form of [`taps_to_rows`]: each output as one 8-lane array expression into
/// `interleaved`, then [`deinterleave`].
#[inline(always)]
fn taps_to_rows_plain(
    padded: &[f64],
    stride: usize,
    offset: usize,
    taps: &AxisTaps,
    out: &mut [f64],
    interleaved: &mut [f64],
) {
    const L: usize = LINE_BLOCK;
    let m = taps.m;
    let group = |p: usize| -> Option<[f64; L]> {
        padded
            .get(p * stride + offset..p * stride + offset + L)
            .and_then(|g| g.try_into().ok())
    };
    let outputs: &mut [[f64; L]] = as_lanes(&mut interleaved[..m * L]);
    for ((v, &s), w) in outputs.iter_mut().zip(&taps.start).zip(&taps.weight) {
        let s = s as usize;
        if let (Some(c0), Some(c1), Some(c2), Some(c3)) =
            (group(s), group(s + 1), group(s + 2), group(s + 3))
        {
            let [w0, w1, w2, w3] = *w;
            // whole-array form: the compiler keeps the eight lanes in vector registers
            *v = std::array::from_fn(|k| w0 * c0[k] + w1 * c1[k] + w2 * c2[k] + w3 * c3[k]);
        }
    }
    deinterleave(interleaved, m, out);
}

/// The horizontal taps of [`prefilter_interpolate_lines`] with AVX2, written straight
/// into the [`LINE_BLOCK`] output rows: four outputs (of all eight lines) are made in
/// registers, then turned into four values of each line by two 4 × 4 transposes, with
/// no interleaved buffer in between. The same products and sums, in the same order, as
/// the plain form.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn taps_to_rows_avx2(
    padded: &[f64],
    stride: usize,
    offset: usize,
    taps: &AxisTaps,
    out: &mut [f64],
) {
    use std::arch::x86_64::*;
    const L: usize = LINE_BLOCK;
    let m = taps.m;
    assert!(out.len() >= m * L && taps.start.len() >= m && taps.weight.len() >= m);
    // the starts never decrease: the last output's taps are the furthest right
    assert!(offset + L <= stride);
    assert!(m == 0 || (taps.start[m - 1] as usize + 4) * stride <= padded.len());
    let base = padded.as_ptr().wrapping_add(offset);
    // one output of all lines: lines 0–3 and 4–7
    let output = |j: usize| {
        let s = taps.start[j] as usize;
        let w = taps.weight[j];
        // SAFETY: (s + 4) · stride ≤ padded.len() (asserted above for the largest s) and
        // offset + 8 ≤ stride: the eight lanes of each of the four positions are inside
        // `padded`, loaded as two halves (unaligned access is allowed).
        unsafe {
            let c = |t: usize, half: usize| _mm256_loadu_pd(base.add((s + t) * stride + 4 * half));
            let half = |h: usize| {
                let mut v = _mm256_mul_pd(_mm256_set1_pd(w[0]), c(0, h));
                v = _mm256_add_pd(v, _mm256_mul_pd(_mm256_set1_pd(w[1]), c(1, h)));
                v = _mm256_add_pd(v, _mm256_mul_pd(_mm256_set1_pd(w[2]), c(2, h)));
                _mm256_add_pd(v, _mm256_mul_pd(_mm256_set1_pd(w[3]), c(3, h)))
            };
            (half(0), half(1))
        }
    };
    let quads = m / 4;
    for q in 0..quads {
        let x = 4 * q;
        let (a0, b0) = output(x);
        let (a1, b1) = output(x + 1);
        let (a2, b2) = output(x + 2);
        let (a3, b3) = output(x + 3);
        for (h, rows) in [transpose4([a0, a1, a2, a3]), transpose4([b0, b1, b2, b3])]
            .into_iter()
            .enumerate()
        {
            for (k, v) in rows.into_iter().enumerate() {
                // SAFETY: line 4h + k, positions x..x+4 ≤ m, within `out` (asserted).
                unsafe { _mm256_storeu_pd(out.as_mut_ptr().add((4 * h + k) * m + x), v) };
            }
        }
    }
    for j in quads * 4..m {
        let (a, b) = output(j);
        let mut v = [0f64; L];
        // SAFETY: `v` holds 8 values.
        unsafe {
            _mm256_storeu_pd(v.as_mut_ptr(), a);
            _mm256_storeu_pd(v.as_mut_ptr().add(4), b);
        }
        for (k, v) in v.into_iter().enumerate() {
            out[k * m + j] = v;
        }
    }
}

/// The prefilter recursions (mirror initialisation, causal, anti-causal) on `L`
/// interleaved lines at once, `cols[x][line]`, the gain already applied: the same
/// operations as [`prefilter_line`] on each line.
#[inline(always)]
fn prefilter_lanes<const L: usize>(cols: &mut [[f64; L]], z: f64) {
    let n = cols.len();
    let z_n1 = z.powi(n as i32 - 1);
    let mut c0 = [0.0f64; L];
    for k in 0..L {
        c0[k] = cols[0][k] + z_n1 * cols[n - 1][k];
    }
    let mut zi = z;
    for i in 1..(n - 1).min(INIT_TERMS) {
        let (a, b) = (cols[i], cols[n - 1 - i]);
        for k in 0..L {
            c0[k] += zi * (a[k] + z_n1 * b[k]);
        }
        zi *= z;
    }
    let denom = 1.0 - z_n1 * z_n1;
    for k in 0..L {
        cols[0][k] = c0[k] / denom;
    }
    for i in 1..n {
        let prev = cols[i - 1];
        let cur = &mut cols[i];
        for k in 0..L {
            cur[k] += z * prev[k];
        }
    }
    let prev = cols[n - 2];
    let last = &mut cols[n - 1];
    for k in 0..L {
        last[k] = (z * prev[k] + last[k]) * z / (z * z - 1.0);
    }
    for i in (0..n - 1).rev() {
        let next = cols[i + 1];
        let cur = &mut cols[i];
        for k in 0..L {
            cur[k] = z * (next[k] - cur[k]);
        }
    }
}

/// Writes the `L` lines of `block` (`n` values each, `L` a multiple of 4) times `g` into
/// `lanes` interleaved (`[x][line]`), by 4 × 4 transposes (AVX2 shuffles when the CPU has
/// them).
#[inline(always)]
fn interleave<const L: usize>(isa: Isa, block: &[f64], n: usize, lanes: &mut [f64], g: f64) {
    #[cfg(target_arch = "x86_64")]
    if isa.avx2() {
        // SAFETY: `isa` is a set this CPU has, and it includes AVX2.
        return unsafe { interleave_avx2::<L>(block, n, lanes, g) };
    }
    let _ = isa;
    interleave_plain::<L>(block, n, lanes, g)
}

/// How far ahead (values, 2 KiB) the interleaving prefetches each coefficient line.
#[cfg(target_arch = "x86_64")]
const LINE_PREFETCH: usize = 256;

/// [`interleave`] with explicit AVX2 4 × 4 transposes (unpack, then swap 128-bit
/// halves); the same products, only moved. Each line is prefetched [`LINE_PREFETCH`]
/// values ahead.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn interleave_avx2<const L: usize>(block: &[f64], n: usize, lanes: &mut [f64], g: f64) {
    use std::arch::x86_64::*;
    assert!(block.len() >= n * L && lanes.len() >= n * L);
    let quads = n / 4;
    let gv = _mm256_set1_pd(g);
    for half in 0..L / 4 {
        for q in 0..quads {
            let x = 4 * q;
            if q % 2 == 0 {
                // one cache line of each of the four lines per two quads
                for k in 0..4 {
                    prefetch(
                        block
                            .as_ptr()
                            .wrapping_add((half * 4 + k) * n + x + LINE_PREFETCH),
                    );
                }
            }
            // SAFETY: reads positions x..x+4 of lines 4·half..4·half+4 (x + 4 ≤ n) and
            // writes lanes (x+j)·L + 4·half .. +4 (within n·L), unaligned access allowed.
            unsafe {
                let r = |k: usize| _mm256_loadu_pd(block.as_ptr().add((half * 4 + k) * n + x));
                let o = transpose4([r(0), r(1), r(2), r(3)]);
                for (j, o) in o.into_iter().enumerate() {
                    let dst = lanes.as_mut_ptr().add((x + j) * L + half * 4);
                    _mm256_storeu_pd(dst, _mm256_mul_pd(o, gv));
                }
            }
        }
        for x in quads * 4..n {
            for k in 0..4 {
                lanes[x * L + half * 4 + k] = block[(half * 4 + k) * n + x] * g;
            }
        }
    }
}

/// The plain form of [`interleave`].
#[inline(always)]
fn interleave_plain<const L: usize>(block: &[f64], n: usize, lanes: &mut [f64], g: f64) {
    let quads = n / 4;
    for half in 0..L / 4 {
        let line = |k: usize| &block[(half * 4 + k) * n..(half * 4 + k + 1) * n];
        let (l0, l1, l2, l3) = (line(0), line(1), line(2), line(3));
        for q in 0..quads {
            let x = 4 * q;
            let r = [&l0[x..x + 4], &l1[x..x + 4], &l2[x..x + 4], &l3[x..x + 4]];
            for j in 0..4 {
                let dst = &mut lanes[(x + j) * L + half * 4..(x + j) * L + half * 4 + 4];
                for k in 0..4 {
                    dst[k] = r[k][j] * g;
                }
            }
        }
        for x in quads * 4..n {
            for (k, l) in [l0, l1, l2, l3].iter().enumerate() {
                lanes[x * L + half * 4 + k] = l[x] * g;
            }
        }
    }
}

/// The inverse of [`interleave`] (without the factor): `[x][line]` into
/// [`LINE_BLOCK`] lines of `m` values (the plain path's; with AVX2 the taps write the
/// lines directly, see [`taps_to_rows_avx2`]).
#[inline(always)]
fn deinterleave(lanes: &[f64], m: usize, out: &mut [f64]) {
    const L: usize = LINE_BLOCK;
    let quads = m / 4;
    for half in 0..L / 4 {
        let (l0, rest) = out[half * 4 * m..].split_at_mut(m);
        let (l1, rest) = rest.split_at_mut(m);
        let (l2, rest) = rest.split_at_mut(m);
        let l3 = &mut rest[..m];
        for q in 0..quads {
            let x = 4 * q;
            let src = |j: usize| &lanes[(x + j) * L + half * 4..(x + j) * L + half * 4 + 4];
            let r = [src(0), src(1), src(2), src(3)];
            for (k, dst) in [&mut *l0, &mut *l1, &mut *l2, &mut *l3]
                .into_iter()
                .enumerate()
            {
                let d = &mut dst[x..x + 4];
                for j in 0..4 {
                    d[j] = r[j][k];
                }
            }
        }
        for x in quads * 4..m {
            for (k, dst) in [&mut *l0, &mut *l1, &mut *l2, &mut *l3]
                .into_iter()
                .enumerate()
            {
                dst[x] = lanes[x * L + half * 4 + k];
            }
        }
    }
}

/// Views a buffer of `n · LINE_BLOCK` values as `n` groups of lanes.
fn as_lanes(buf: &mut [f64]) -> &mut [[f64; LINE_BLOCK]] {
    let (lanes, _) = buf.as_chunks_mut::<LINE_BLOCK>();
    lanes
}

/// A pointer to a row-major plane that may cross threads, so that disjoint *column bands*
/// of the same rows can be prefiltered in parallel (bands interleave in memory, which
/// slices cannot express).
#[derive(Clone, Copy)]
struct Plane {
    base: *mut f64,
    width: usize,
}

// SAFETY: a `Plane` is only used by `prefilter_column_band`, and the bands handed to
// different threads never overlap (see `Zoom::prefilter_columns_parallel`).
unsafe impl Send for Plane {}
// SAFETY: as for `Send`: shared references only hand out disjoint bands.
unsafe impl Sync for Plane {}

/// Rows ahead that the column prefilter asks the cache for: a strip's rows are a plane
/// width apart, too far for the hardware prefetcher to follow.
const PREFETCH_ROWS: usize = 8;

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
unsafe fn prefilter_column_band(isa: Isa, plane: Plane, rows: usize, x0: usize, acc: &mut [f64]) {
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

/// [`prefilter_column_band_plain`] compiled with AVX2 (same bits: no fused operations).
///
/// # Safety
/// As [`prefilter_column_band`], and the CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn prefilter_column_band_avx2(plane: Plane, rows: usize, x0: usize, acc: &mut [f64]) {
    // SAFETY: upheld by the caller.
    unsafe { prefilter_column_band_plain(plane, rows, x0, acc) }
}

/// The plain form of [`prefilter_column_band`].
///
/// # Safety
/// As [`prefilter_column_band`].
#[inline(always)]
unsafe fn prefilter_column_band_plain(plane: Plane, rows: usize, x0: usize, acc: &mut [f64]) {
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
fn causal_step(cur: &mut [f64], prev: &[f64], g: f64, z: f64) {
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
fn anticausal_step(cur: &mut [f64], next: &[f64], z: f64) {
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

/// Evaluates one row of coefficients at the horizontal taps. `padded` is scratch: the row
/// with its mirrored neighbours (one before, two after), so that every output's four taps
/// are consecutive and the loop needs no index table.
pub fn interpolate_row(
    isa: Isa,
    coeff: &[f64],
    taps: &AxisTaps,
    out: &mut [f64],
    padded: &mut Vec<f64>,
) {
    let n = coeff.len();
    padded.clear();
    padded.push(coeff[mirror(-1, n)]);
    padded.extend_from_slice(coeff);
    padded.push(coeff[mirror(n as isize, n)]);
    padded.push(coeff[mirror(n as isize + 1, n)]);
    eval_taps(isa, padded, &taps.start, &taps.weight, out)
}

/// Evaluates the taps on a padded row (plain form; the AVX2 form gives the same bits).
#[inline(always)]
pub fn eval_taps_plain(padded: &[f64], start: &[u32], weight: &[[f64; 4]], out: &mut [f64]) {
    for ((o, &s), w) in out.iter_mut().zip(start).zip(weight) {
        // taps f-1 .. f+2 sit at padded[f .. f+4]
        if let Some(c) = padded.get(s as usize..s as usize + 4) {
            *o = w[0] * c[0] + w[1] * c[1] + w[2] * c[2] + w[3] * c[3];
        }
    }
}

avx2_dispatch! {
    /// Evaluates the taps on a padded row (see [`interpolate_row`]).
    pub fn eval_taps(isa: Isa, padded: &[f64], start: &[u32], weight: &[[f64; 4]], out: &mut [f64]) => plain eval_taps_plain
}

/// Combines four horizontally interpolated rows with vertical weights into one output row.
#[inline(always)]
pub fn combine_rows_plain(rows: [&[f64]; 4], w: &[f64; 4], out: &mut [f32]) {
    let [r0, r1, r2, r3] = rows;
    for ((((o, a), b), c), d) in out.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
        *o = (w[0] * a + w[1] * b + w[2] * c + w[3] * d) as f32;
    }
}

/// Combines four rows like [`combine_rows_plain`], raises each result to `power` (as
/// [`apply_power`](crate::pipeline::levels::apply_power) does) and returns the row's
/// minimum and maximum. With AVX-512 or AVX2 (powers 1 and 2), one pass of 16 outputs
/// at a time; else the plain form. Same bits either way.
pub fn combine_rows_power(
    isa: Isa,
    rows: [&[f64]; 4],
    w: &[f64; 4],
    out: &mut [f32],
    power: u32,
) -> (f32, f32) {
    #[cfg(target_arch = "x86_64")]
    {
        if isa.avx512() && (power == 1 || power == 2) {
            // SAFETY: `isa` is a set this CPU has, and it includes AVX-512F.
            return unsafe { combine_rows_power_avx512::<1>(rows, [w], [out], power) };
        }
        if isa.avx2() {
            // SAFETY: `isa` is a set this CPU has, and it includes AVX2.
            return unsafe { combine_rows_power_avx2::<1>(rows, [w], [out], power) };
        }
    }
    let _ = isa;
    combine_rows_power_plain(rows, w, out, power)
}

/// Columns that the four rows and every output all have.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn common_len<const N: usize>(rows: &[&[f64]; 4], out: &[&mut [f32]; N]) -> usize {
    let outs = out.iter().map(|o| o.len());
    rows.iter().map(|r| r.len()).chain(outs).min().unwrap_or(0)
}

/// The eight lanes of a vector, in order.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn lanes(v: std::arch::x86_64::__m256) -> [f32; 8] {
    // SAFETY: `__m256` is 32 bytes of eight `f32` lanes, in order.
    unsafe { std::mem::transmute(v) }
}

/// Finishes a vector form of [`combine_rows_power`] for `N` outputs: the columns from
/// `done` on by the plain form, then the minimum and maximum over those and the vector
/// part's eight-lane `lo` and `hi`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn combine_tail<const N: usize>(
    rows: [&[f64]; 4],
    w: [&[f64; 4]; N],
    out: [&mut [f32]; N],
    power: u32,
    done: usize,
    (lo, hi): ([f32; 8], [f32; 8]),
) -> (f32, f32) {
    let n = common_len(&rows, &out);
    let (mut l, mut h) = (f32::INFINITY, f32::NEG_INFINITY);
    if done < n {
        let tail: [&[f64]; 4] = rows.map(|r| &r[done..n]);
        for (o, w) in out.into_iter().zip(w) {
            let (tl, th) = combine_rows_power_plain(tail, w, &mut o[done..n], power);
            (l, h) = (l.min(tl), h.max(th));
        }
    }
    (
        lo.iter().copied().fold(l, f32::min),
        hi.iter().copied().fold(h, f32::max),
    )
}

/// How far ahead (values, 4 KiB) the vertical taps prefetch the output plane for writing.
#[cfg(target_arch = "x86_64")]
const OUTPUT_PREFETCH: usize = 1024;

/// Eight outputs of the vertical taps from eight columns of the four rows: what
/// [`combine_rows_power_with`] needs of a vector instruction set. Every method needs that
/// set on the CPU (hence `unsafe`); they are inlined into a function compiled for it.
#[cfg(target_arch = "x86_64")]
trait VerticalTaps {
    /// One output row's four weights, broadcast.
    type Weights: Copy;
    /// Eight columns of the four rows.
    type Columns: Copy;
    /// Broadcasts the weights `w`.
    unsafe fn weights(w: &[f64; 4]) -> Self::Weights;
    /// Columns `at..at + 8` of `rows` (each row holds at least `at + 8` values).
    unsafe fn columns(rows: &[&[f64]; 4], at: usize) -> Self::Columns;
    /// The eight weighted sums in [`combine_rows_plain`]'s order (separate multiplies
    /// and adds, no fused multiply–add), rounded to `f32`.
    unsafe fn combine(c: Self::Columns, w: Self::Weights) -> std::arch::x86_64::__m256;
}

/// Where columns `at..at + 8` of the four rows start (each row holds at least `at + 8`
/// values: the caller's contract, checked in debug builds).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn column_starts(rows: &[&[f64]; 4], at: usize) -> [*const f64; 4] {
    debug_assert!(rows.iter().all(|r| r.len() >= at + 8));
    let start = |k: usize| rows[k].as_ptr().wrapping_add(at);
    [start(0), start(1), start(2), start(3)]
}

/// [`VerticalTaps`] with AVX-512F: eight `f64` lanes, one register per row.
#[cfg(target_arch = "x86_64")]
struct Avx512Taps;

#[cfg(target_arch = "x86_64")]
impl VerticalTaps for Avx512Taps {
    type Weights = [std::arch::x86_64::__m512d; 4];
    type Columns = [std::arch::x86_64::__m512d; 4];

    // (no closures here: a closure is not compiled for the caller's instruction set, so
    // the intrinsics in it would become calls)
    #[inline(always)]
    unsafe fn weights(w: &[f64; 4]) -> Self::Weights {
        use std::arch::x86_64::_mm512_set1_pd as set1;
        // SAFETY: AVX-512F by the caller.
        unsafe { [set1(w[0]), set1(w[1]), set1(w[2]), set1(w[3])] }
    }

    #[inline(always)]
    unsafe fn columns(rows: &[&[f64]; 4], at: usize) -> Self::Columns {
        use std::arch::x86_64::_mm512_loadu_pd as load;
        let [a, b, c, d] = column_starts(rows, at);
        // SAFETY: each pointer starts 8 values of a row (by the caller; unaligned loads
        // are allowed); AVX-512F by the caller.
        unsafe { [load(a), load(b), load(c), load(d)] }
    }

    #[inline(always)]
    unsafe fn combine(
        [r0, r1, r2, r3]: Self::Columns,
        [w0, w1, w2, w3]: Self::Weights,
    ) -> std::arch::x86_64::__m256 {
        use std::arch::x86_64::*;
        // SAFETY: AVX-512F by the caller.
        unsafe {
            _mm512_cvtpd_ps(_mm512_add_pd(
                _mm512_add_pd(
                    _mm512_add_pd(_mm512_mul_pd(w0, r0), _mm512_mul_pd(w1, r1)),
                    _mm512_mul_pd(w2, r2),
                ),
                _mm512_mul_pd(w3, r3),
            ))
        }
    }
}

/// [`VerticalTaps`] with AVX2: four `f64` lanes, two registers per row.
#[cfg(target_arch = "x86_64")]
struct Avx2Taps;

#[cfg(target_arch = "x86_64")]
impl VerticalTaps for Avx2Taps {
    type Weights = [std::arch::x86_64::__m256d; 4];
    type Columns = [[std::arch::x86_64::__m256d; 4]; 2];

    // (no closures around intrinsics: see `Avx512Taps`)
    #[inline(always)]
    unsafe fn weights(w: &[f64; 4]) -> Self::Weights {
        use std::arch::x86_64::_mm256_set1_pd as set1;
        // SAFETY: AVX2 by the caller.
        unsafe { [set1(w[0]), set1(w[1]), set1(w[2]), set1(w[3])] }
    }

    #[inline(always)]
    unsafe fn columns(rows: &[&[f64]; 4], at: usize) -> Self::Columns {
        use std::arch::x86_64::_mm256_loadu_pd as load;
        let [a, b, c, d] = column_starts(rows, at);
        // SAFETY: each pointer starts 8 values of a row (by the caller; unaligned loads
        // are allowed); AVX2 by the caller.
        unsafe {
            [
                [load(a), load(b), load(c), load(d)],
                [
                    load(a.add(4)),
                    load(b.add(4)),
                    load(c.add(4)),
                    load(d.add(4)),
                ],
            ]
        }
    }

    #[inline(always)]
    unsafe fn combine([x, y]: Self::Columns, w: Self::Weights) -> std::arch::x86_64::__m256 {
        /// Four weighted sums, rounded to `f32`.
        #[inline(always)]
        unsafe fn four(
            [r0, r1, r2, r3]: [std::arch::x86_64::__m256d; 4],
            [w0, w1, w2, w3]: [std::arch::x86_64::__m256d; 4],
        ) -> std::arch::x86_64::__m128 {
            use std::arch::x86_64::*;
            // SAFETY: AVX by the caller.
            unsafe {
                _mm256_cvtpd_ps(_mm256_add_pd(
                    _mm256_add_pd(
                        _mm256_add_pd(_mm256_mul_pd(w0, r0), _mm256_mul_pd(w1, r1)),
                        _mm256_mul_pd(w2, r2),
                    ),
                    _mm256_mul_pd(w3, r3),
                ))
            }
        }
        // SAFETY: AVX2 by the caller.
        unsafe { std::arch::x86_64::_mm256_set_m128(four(y, w), four(x, w)) }
    }
}

/// [`combine_rows_power`] for `N` output rows made from the same four rows (`w[k]` into
/// `out[k]`), for powers 1 and 2 with the vector set `T` (other powers: the plain form).
/// Per 16 columns (one cache line of the output) the input vectors are loaded once for
/// all outputs; each output gets [`VerticalTaps::combine`], squared, its minimum and
/// maximum kept, and each output line is prefetched [`OUTPUT_PREFETCH`] values ahead;
/// the tails by the plain form. Returns the minimum and maximum over all `N` rows.
///
/// # Safety
/// The CPU has `T`'s instruction set.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn combine_rows_power_with<T: VerticalTaps, const N: usize>(
    rows: [&[f64]; 4],
    w: [&[f64; 4]; N],
    mut out: [&mut [f32]; N],
    power: u32,
) -> (f32, f32) {
    use std::arch::x86_64::*;
    if power != 1 && power != 2 {
        let none = ([f32::INFINITY; 8], [f32::NEG_INFINITY; 8]);
        return combine_tail(rows, w, out, power, 0, none);
    }
    let n = common_len(&rows, &out);
    let blocks = n / 16;
    // SAFETY: for every block below, `T`'s set by the caller; the loads read 8 values from
    // `at` with `at + 8 ≤ n` in every row, the stores write 8 values from `at` of every
    // output (unaligned access is allowed).
    let mut weights = [unsafe { T::weights(w[0]) }; N];
    for (k, w) in w.iter().enumerate().skip(1) {
        // SAFETY: as above.
        weights[k] = unsafe { T::weights(w) };
    }
    // SAFETY: as above (no memory access).
    let (mut lo, mut hi) = unsafe {
        (
            _mm256_set1_ps(f32::INFINITY),
            _mm256_set1_ps(f32::NEG_INFINITY),
        )
    };
    let square = power == 2;
    for b in 0..blocks {
        for o in out.iter() {
            prefetch(o.as_ptr().wrapping_add(16 * b + OUTPUT_PREFETCH));
        }
        for half in 0..2 {
            let at = 16 * b + 8 * half;
            // SAFETY: as above.
            unsafe {
                let columns = T::columns(&rows, at);
                for (o, &w) in out.iter_mut().zip(&weights) {
                    let y = T::combine(columns, w);
                    let p = if square { _mm256_mul_ps(y, y) } else { y };
                    lo = _mm256_min_ps(lo, p);
                    hi = _mm256_max_ps(hi, p);
                    _mm256_storeu_ps(o.as_mut_ptr().add(at), p);
                }
            }
        }
    }
    combine_tail(rows, w, out, power, blocks * 16, (lanes(lo), lanes(hi)))
}

/// [`combine_rows_power_with`] for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn combine_rows_power_avx2<const N: usize>(
    rows: [&[f64]; 4],
    w: [&[f64; 4]; N],
    out: [&mut [f32]; N],
    power: u32,
) -> (f32, f32) {
    // SAFETY: this function is compiled for AVX2, so the CPU has it.
    unsafe { combine_rows_power_with::<Avx2Taps, N>(rows, w, out, power) }
}

/// [`combine_rows_power_with`] for AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn combine_rows_power_avx512<const N: usize>(
    rows: [&[f64]; 4],
    w: [&[f64; 4]; N],
    out: [&mut [f32]; N],
    power: u32,
) -> (f32, f32) {
    // SAFETY: this function is compiled for AVX-512F, so the CPU has it.
    unsafe { combine_rows_power_with::<Avx512Taps, N>(rows, w, out, power) }
}

/// [`combine_rows_power`] for two output rows made from the same four rows with their
/// own weights (`w[0]` into `out[0]`, `w[1]` into `out[1]`); returns the minimum and
/// maximum over both. With AVX-512 or AVX2 (powers 1 and 2) one pass that loads each
/// input vector once for both outputs (`combine_rows_power_avx512`,
/// `combine_rows_power_avx2`); else two [`combine_rows_power`] calls. The same bits as
/// two calls either way.
pub fn combine_rows_power_pair(
    isa: Isa,
    rows: [&[f64]; 4],
    w: [&[f64; 4]; 2],
    out: [&mut [f32]; 2],
    power: u32,
) -> (f32, f32) {
    #[cfg(target_arch = "x86_64")]
    {
        if isa.avx512() && (power == 1 || power == 2) {
            // SAFETY: `isa` is a set this CPU has, and it includes AVX-512F.
            return unsafe { combine_rows_power_avx512::<2>(rows, w, out, power) };
        }
        if isa.avx2() && (power == 1 || power == 2) {
            // SAFETY: `isa` is a set this CPU has, and it includes AVX2.
            return unsafe { combine_rows_power_avx2::<2>(rows, w, out, power) };
        }
    }
    let _ = isa;
    combine_rows_power_pair_plain(rows, w, out, power)
}

/// The plain form of [`combine_rows_power_pair`]: one [`combine_rows_power_plain`] per
/// output.
pub fn combine_rows_power_pair_plain(
    rows: [&[f64]; 4],
    w: [&[f64; 4]; 2],
    out: [&mut [f32]; 2],
    power: u32,
) -> (f32, f32) {
    let [a, b] = out;
    let (la, ha) = combine_rows_power_plain(rows, w[0], a, power);
    let (lb, hb) = combine_rows_power_plain(rows, w[1], b, power);
    (la.min(lb), ha.max(hb))
}

/// The plain form of [`combine_rows_power`].
#[inline(always)]
pub fn combine_rows_power_plain(
    rows: [&[f64]; 4],
    w: &[f64; 4],
    out: &mut [f32],
    power: u32,
) -> (f32, f32) {
    match power {
        1 => combine_power::<1>(rows, w, out),
        2 => combine_power::<2>(rows, w, out),
        p => {
            combine_rows_plain(rows, w, out);
            crate::pipeline::levels::apply_power(out, p);
            crate::pipeline::levels::min_max_plain(out)
        }
    }
}

#[inline(always)]
fn combine_power<const P: u32>(rows: [&[f64]; 4], w: &[f64; 4], out: &mut [f32]) -> (f32, f32) {
    // three simple loops over a row in L1 vectorise where one fused loop does not
    combine_rows_plain(rows, w, out);
    if P == 2 {
        for v in out.iter_mut() {
            *v *= *v;
        }
    }
    crate::pipeline::levels::min_max_plain(out)
}

/// Columns per strip of the parallel column prefilter.
pub const COLUMN_STRIP: usize = 64;

/// A reusable ×z cubic B-spline zoom: owns the taps (rebuilt only when the size changes)
/// and the `f64` scratch planes.
#[derive(Debug, Default)]
pub struct Zoom {
    rows: AxisTaps,
    cols: AxisTaps,
    acc: Vec<f64>,
    /// Per pool thread: scratch of the row passes.
    scratch: Vec<std::sync::Mutex<ThreadScratch>>,
}

/// Scratch of one pool thread.
#[derive(Debug, Default)]
struct ThreadScratch {
    /// Interleaved lines of the row prefilter.
    lanes: Vec<f64>,
    /// A padded coefficient row of the horizontal interpolation.
    padded: Vec<f64>,
    /// One coefficient line, prefiltered alone (the last lines of a plane).
    line: Vec<f64>,
    /// The last [`RING_ROWS`] horizontally interpolated rows of a band.
    ring: Vec<f64>,
}

/// Horizontally interpolated rows kept per band: the vertical taps of one output row span
/// at most four consecutive rows, and rows are made up to [`PAIR_BLOCK`] at a time, so
/// three blocks of [`LINE_BLOCK`] always hold them. The ring stays in L2 (24 × 3840 × 8
/// bytes at 1080p).
pub const RING_ROWS: usize = 3 * LINE_BLOCK;

/// Two disjoint `len`-value regions of `buf`, at offsets `a` and `b`.
fn two_regions(buf: &mut [f64], a: usize, b: usize, len: usize) -> (&mut [f64], &mut [f64]) {
    assert!(a + len <= b || b + len <= a);
    if a < b {
        let (x, y) = buf.split_at_mut(b);
        (&mut x[a..a + len], &mut y[..len])
    } else {
        let (x, y) = buf.split_at_mut(a);
        let (rb, ra) = (&mut x[b..b + len], &mut y[..len]);
        (ra, rb)
    }
}

/// Output-row bands per pool thread in the zoom's last pass (a band recomputes up to
/// a block of interpolated rows at its start and end).
const BANDS_PER_THREAD: usize = 2;

/// Computes the output rows `o0..` of `dst` (whole rows of `rt.m` values): interpolated
/// rows are made on demand from the prefiltered coefficient plane `coeff` (`rt.n ×
/// ct.n`) into the scratch's ring, and each output row combines four of them with the
/// power and min/max fused. Returns the band's minimum and maximum.
#[allow(clippy::too_many_arguments)]
fn zoom_band(
    isa: Isa,
    coeff: &[f64],
    rt: &AxisTaps,
    ct: &AxisTaps,
    o0: usize,
    dst: &mut [f32],
    power: u32,
    s: &mut ThreadScratch,
) -> (f32, f32) {
    let (width, height, ow) = (rt.n, ct.n, rt.m);
    let ThreadScratch {
        lanes,
        padded,
        line,
        ring,
    } = s;
    ring.resize(RING_ROWS * ow + align_slack::<f64>(), 0.0);
    let ring = cache_aligned(ring, RING_ROWS * ow);
    let first = (o0..o0 + dst.len() / ow)
        .flat_map(|i| ct.index[i])
        .min()
        .unwrap_or(0) as usize;
    // one past the last interpolated row this band needs
    let end = (o0..o0 + dst.len() / ow)
        .flat_map(|i| ct.index[i])
        .max()
        .map_or(0, |r| r as usize + 1);
    let slot_of = |r: usize| (r - first) % RING_ROWS;
    let mut next = first;
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    let out_rows = dst.len() / ow;
    let mut k = 0;
    while k < out_rows {
        let i = o0 + k;
        let idx = ct.index[i];
        // two output rows on the same four interpolated rows (every other row of a ×2
        // zoom) are combined in one pass, which reads those rows once
        let paired = k + 1 < out_rows && ct.index[i + 1] == idx;
        let need = idx.iter().max().map_or(0, |&r| r as usize + 1);
        while next < need {
            let at = slot_of(next) * ow;
            if next + PAIR_BLOCK <= end && width >= 4 {
                // two blocks at once (both needed by this band): twice the independent
                // work per recursion step
                let block = &coeff[next * width..(next + PAIR_BLOCK) * width];
                let bt = slot_of(next + LINE_BLOCK) * ow;
                let (a, b) = two_regions(ring, at, bt, LINE_BLOCK * ow);
                prefilter_interpolate_line_pairs(isa, block, rt, a, b, lanes);
                next += PAIR_BLOCK;
            } else if next + LINE_BLOCK <= height && width >= 4 {
                let block = &coeff[next * width..(next + LINE_BLOCK) * width];
                prefilter_interpolate_lines(
                    isa,
                    block,
                    rt,
                    &mut ring[at..at + LINE_BLOCK * ow],
                    lanes,
                );
                next += LINE_BLOCK;
            } else {
                line.clear();
                line.extend_from_slice(&coeff[next * width..(next + 1) * width]);
                prefilter_line(line);
                interpolate_row(isa, line, rt, &mut ring[at..at + ow], padded);
                next += 1;
            }
        }
        let ring = &ring[..];
        let rows = idx.map(|r| {
            let r = r as usize;
            debug_assert!(r >= first && r + RING_ROWS >= next && r < next);
            &ring[slot_of(r) * ow..(slot_of(r) + 1) * ow]
        });
        let row = &mut dst[k * ow..(k + 1 + paired as usize) * ow];
        let (l, h) = if paired {
            let (a, b) = row.split_at_mut(ow);
            combine_rows_power_pair(isa, rows, [&ct.weight[i], &ct.weight[i + 1]], [a, b], power)
        } else {
            combine_rows_power(isa, rows, &ct.weight[i], row, power)
        };
        lo = lo.min(l);
        hi = hi.max(h);
        k += 1 + paired as usize;
    }
    (lo, hi)
}

/// Locks this pool thread's scratch slot (uncontended: one slot per thread).
fn slot(slots: &[std::sync::Mutex<ThreadScratch>]) -> std::sync::MutexGuard<'_, ThreadScratch> {
    let i = rayon::current_thread_index().unwrap_or(0) % slots.len().max(1);
    match slots[i].lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Zoom {
    /// A zoom with no buffers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Output size of a `width × height` input at zoom `z`.
    pub fn output_size(width: usize, height: usize, z: usize) -> (usize, usize) {
        (width * z, height * z)
    }

    /// Zooms the luma plane `coeff` (`width × height`, consumed as scratch: it holds the
    /// spline coefficients afterwards) into `out` (`z·width × z·height`), with the
    /// kernels' forms that `isa` allows (the same bits for every `isa`).
    pub fn run(
        &mut self,
        isa: Isa,
        coeff: &mut [f64],
        width: usize,
        height: usize,
        z: usize,
        out: &mut [f32],
    ) {
        self.run_with(isa, coeff, width, height, z, out, 1);
    }

    /// Like [`run`](Self::run), and raises every output to `power` in the same pass (the
    /// pipeline's power transform); returns the minimum and maximum of the result. Rows
    /// are spread over the current rayon pool.
    ///
    /// # Panics
    /// When `coeff` is not `width × height` or `out` not the output size (a caller's bug;
    /// [`Pipeline`](super::Pipeline) sizes both).
    #[allow(clippy::too_many_arguments)]
    pub fn run_with(
        &mut self,
        isa: Isa,
        coeff: &mut [f64],
        width: usize,
        height: usize,
        z: usize,
        out: &mut [f32],
        power: u32,
    ) -> (f32, f32) {
        let (ow, oh) = Self::output_size(width, height, z);
        assert_eq!(coeff.len(), width * height);
        assert_eq!(out.len(), ow * oh);
        if self.rows.n != width || self.rows.m != ow {
            self.rows.rebuild(width, ow);
        }
        if self.cols.n != height || self.cols.m != oh {
            self.cols.rebuild(height, oh);
        }
        // prefilter: axis 0 (down the columns) then axis 1 (along the rows), as scipy
        self.prefilter_columns_parallel(isa, coeff, width, height);
        let threads = rayon::current_num_threads().max(1);
        if self.scratch.len() < threads {
            self.scratch.resize_with(threads, Default::default);
        }
        // every slot sized up front: which thread runs which band varies between frames
        for s in self.scratch.iter_mut() {
            let s = s.get_mut().unwrap_or_else(|p| p.into_inner());
            s.lanes.resize(
                (width + 3) * PAIR_BLOCK + ow * LINE_BLOCK + align_slack::<f64>(),
                0.0,
            );
            // (`reserve` counts from the length: clear first, both are refilled before use)
            s.padded.clear();
            s.padded.reserve(width + 3);
            s.line.clear();
            s.line.reserve(width);
            s.ring.resize(RING_ROWS * ow + align_slack::<f64>(), 0.0);
        }
        let slots = &self.scratch;
        let coeff: &[f64] = coeff;
        let (rows, cols) = (&self.rows, &self.cols);
        let band_rows = oh.div_ceil(threads * BANDS_PER_THREAD).max(1);
        out.par_chunks_mut(band_rows * ow)
            .enumerate()
            .map(|(b, dst)| {
                zoom_band(
                    isa,
                    coeff,
                    rows,
                    cols,
                    b * band_rows,
                    dst,
                    power,
                    &mut slot(slots),
                )
            })
            .reduce(
                || (f32::INFINITY, f32::NEG_INFINITY),
                |a, b| (a.0.min(b.0), a.1.max(b.1)),
            )
    }

    /// Prefilters the columns in strips of [`COLUMN_STRIP`] columns spread over the pool.
    fn prefilter_columns_parallel(
        &mut self,
        isa: Isa,
        coeff: &mut [f64],
        width: usize,
        height: usize,
    ) {
        self.acc.resize(width, 0.0);
        let plane = Plane {
            base: coeff.as_mut_ptr(),
            width,
        };
        // narrow strips: a strip's rows (rows × 512 bytes) stay in L2 between the init,
        // causal and anti-causal sweeps
        let band_w = COLUMN_STRIP;
        self.acc
            .par_chunks_mut(band_w)
            .enumerate()
            .for_each(|(b, acc)| {
                // SAFETY: band b covers columns b·band_w .. b·band_w + acc.len(), disjoint
                // from every other band; `coeff` is borrowed mutably for the whole call.
                unsafe { prefilter_column_band(isa, plane, height, b * band_w, acc) }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_folds() {
        assert_eq!(mirror(-1, 5), 1);
        assert_eq!(mirror(-2, 5), 2);
        assert_eq!(mirror(5, 5), 3);
        assert_eq!(mirror(6, 5), 2);
        assert_eq!(mirror(-1, 2), 1);
        assert_eq!(mirror(3, 2), 1);
        assert_eq!(mirror(2, 2), 0);
        assert_eq!(mirror(7, 1), 0);
    }

    #[test]
    fn weights_sum_to_one_and_corners_align() {
        let t = AxisTaps::new(7, 14);
        for w in &t.weight {
            assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        // output 0 samples input 0: taps -1,0,1,2 with t = 0
        assert_eq!(t.index[0], [1, 0, 1, 2]);
        assert!((t.weight[0][1] - 4.0 / 6.0).abs() < 1e-15);
    }

    #[test]
    fn column_prefilter_equals_line_prefilter() {
        let (w, h) = (5, 9);
        let data: Vec<f64> = (0..w * h).map(|i| ((i * 37) % 101) as f64).collect();
        let mut cols = data.clone();
        prefilter_columns(Isa::plain(), &mut cols, w, h, &mut Vec::new());
        for x in 0..w {
            let mut line: Vec<f64> = (0..h).map(|y| data[y * w + x]).collect();
            prefilter_line(&mut line);
            for y in 0..h {
                assert!((line[y] - cols[y * w + x]).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn column_prefilter_vector_form_equals_plain_form() {
        let (w, h) = (37, 29);
        let data: Vec<f64> = (0..w * h)
            .map(|i| ((i * 7919) % 263) as f64 * 0.37)
            .collect();
        let mut b = data.clone();
        let plane = Plane {
            base: b.as_mut_ptr(),
            width: w,
        };
        // SAFETY: one band over the whole plane, which `b` owns.
        unsafe { prefilter_column_band_plain(plane, h, 0, &mut vec![0.0; w]) };
        for isa in Isa::available() {
            let mut a = data.clone();
            prefilter_columns(isa, &mut a, w, h, &mut Vec::new());
            assert_eq!(a, b, "{isa:?}");
        }
    }

    #[test]
    fn truncated_init_changes_nothing_on_long_lines() {
        // a long line: the full sum and the truncated one give the same bits
        let n = 500;
        let data: Vec<f64> = (0..n).map(|i| ((i * 31) % 255) as f64 * 36.0).collect();
        let z = pole();
        let z_n1 = z.powi(n as i32 - 1);
        let mut full = data[0] + z_n1 * data[n - 1];
        let mut trunc = full;
        let mut zi = z;
        for i in 1..n - 1 {
            let t = zi * (data[i] + z_n1 * data[n - 1 - i]);
            full += t;
            if i < INIT_TERMS {
                trunc += t;
            }
            zi *= z;
        }
        assert_eq!(full, trunc);
    }

    /// A vertical-taps kernel for `N` output rows.
    #[cfg(target_arch = "x86_64")]
    type TapsKernel<const N: usize> =
        unsafe fn([&[f64]; 4], [&[f64; 4]; N], [&mut [f32]; N], u32) -> (f32, f32);

    /// The vertical-taps kernels for `N` rows that this CPU can run, by name.
    #[cfg(target_arch = "x86_64")]
    fn taps_kernels<const N: usize>() -> Vec<(&'static str, TapsKernel<N>)> {
        let mut kernels: Vec<(&str, TapsKernel<N>)> = Vec::new();
        if Isa::detect().avx2() {
            kernels.push(("AVX2", combine_rows_power_avx2::<N>));
        }
        if Isa::detect().avx512() {
            kernels.push(("AVX-512", combine_rows_power_avx512::<N>));
        }
        kernels
    }

    #[test]
    fn vector_forms_equal_the_plain_form() {
        let n = 1003;
        let rows: Vec<Vec<f64>> = (0..4)
            .map(|k| {
                (0..n)
                    .map(|i| ((i * 7919 + k * 31) % 1009) as f64 * 0.731 - 40.0)
                    .collect()
            })
            .collect();
        let w = [0.0123, 0.61, 0.3699, 0.0078];
        let mut a = vec![0f32; n];
        combine_rows_plain([&rows[0], &rows[1], &rows[2], &rows[3]], &w, &mut a);
        // fused power and min/max, both forms, against the separate passes
        for power in 1..=3 {
            let mut c = a.clone();
            crate::pipeline::levels::apply_power(&mut c, power);
            let expect = crate::pipeline::levels::min_max_plain(&c);
            let mut d = vec![0f32; n];
            for isa in Isa::available() {
                let rows4 = [&rows[0][..], &rows[1], &rows[2], &rows[3]];
                let got = combine_rows_power(isa, rows4, &w, &mut d, power);
                assert_eq!(
                    (d.as_slice(), got),
                    (c.as_slice(), expect),
                    "{isa:?}, power {power}"
                );
            }
            let got = combine_rows_power_plain(
                [&rows[0], &rows[1], &rows[2], &rows[3]],
                &w,
                &mut d,
                power,
            );
            assert_eq!(
                (d.as_slice(), got),
                (c.as_slice(), expect),
                "plain, power {power}"
            );
            #[cfg(target_arch = "x86_64")]
            for (name, kernel) in taps_kernels::<1>() {
                let rows4 = [&rows[0][..], &rows[1], &rows[2], &rows[3]];
                // SAFETY: `taps_kernels` lists only kernels the CPU can run.
                let got = unsafe { kernel(rows4, [&w], [&mut d], power) };
                assert_eq!(
                    (d.as_slice(), got),
                    (c.as_slice(), expect),
                    "{name}, power {power}"
                );
            }
        }
        // two output rows from the same four rows: the pair form against two calls
        let w2 = [0.0411, 0.5, 0.4511, 0.0078];
        for power in 1..=3 {
            let rows4 = [&rows[0][..], &rows[1], &rows[2], &rows[3]];
            let (mut ea, mut eb) = (vec![0f32; n], vec![0f32; n]);
            let (la, ha) = combine_rows_power_plain(rows4, &w, &mut ea, power);
            let (lb, hb) = combine_rows_power_plain(rows4, &w2, &mut eb, power);
            let expect = (la.min(lb), ha.max(hb));
            let (mut a2, mut b2) = (vec![0f32; n], vec![0f32; n]);
            for isa in Isa::available() {
                let got = combine_rows_power_pair(isa, rows4, [&w, &w2], [&mut a2, &mut b2], power);
                assert_eq!(
                    (&a2, &b2, got),
                    (&ea, &eb, expect),
                    "{isa:?} pair, power {power}"
                );
            }
            let got = combine_rows_power_pair_plain(rows4, [&w, &w2], [&mut a2, &mut b2], power);
            assert_eq!(
                (&a2, &b2, got),
                (&ea, &eb, expect),
                "plain pair, power {power}"
            );
            // each vector kernel this CPU has, called directly, with every tail length
            #[cfg(target_arch = "x86_64")]
            for (name, kernel) in taps_kernels::<2>() {
                for len in [n, n - 1, n - 8, n - 15, 16, 15, 1, 0] {
                    let short = rows4.map(|r| &r[..len]);
                    let (mut ea, mut eb) = (vec![0f32; len], vec![0f32; len]);
                    let (la, ha) = combine_rows_power_plain(short, &w, &mut ea, power);
                    let (lb, hb) = combine_rows_power_plain(short, &w2, &mut eb, power);
                    let (mut a3, mut b3) = (vec![0f32; len], vec![0f32; len]);
                    // SAFETY: `taps_kernels` lists only kernels the CPU can run.
                    let got = unsafe { kernel(short, [&w, &w2], [&mut a3, &mut b3], power) };
                    let expect = (la.min(lb), ha.max(hb));
                    assert_eq!((&a3, &b3, got), (&ea, &eb, expect), "{name}, len {len}");
                }
            }
        }
        // row prefilter and horizontal taps
        let (width, lines) = (517, 19);
        let data: Vec<f64> = (0..width * lines)
            .map(|i| ((i * 104729) % 9973) as f64 * 0.01)
            .collect();
        let mut p = data.clone();
        for line in p.chunks_exact_mut(width) {
            prefilter_line(line);
        }
        let taps = AxisTaps::new(width, 2 * width);
        let (mut x, mut y) = (vec![0.0; 2 * width], vec![0.0; 2 * width]);
        let mut padded = vec![p[1]];
        padded.extend_from_slice(&p[..width]);
        padded.extend_from_slice(&[p[width - 2], p[width - 3]]);
        eval_taps_plain(&padded, &taps.start, &taps.weight, &mut y);
        for isa in Isa::available() {
            interpolate_row(isa, &p[..width], &taps, &mut x, &mut Vec::new());
            assert_eq!(x, y, "{isa:?}");
        }
    }

    #[test]
    fn vector_taps_equal_plain_taps() {
        for width in [4usize, 5, 37, 301] {
            let taps = AxisTaps::new(width, 2 * width);
            // lanes of a pair layout (stride 16): both halves, vector and plain
            let padded: Vec<f64> = (0..(width + 3) * PAIR_BLOCK)
                .map(|i| ((i * 7919 + 104729) % 9973) as f64 - 4000.5)
                .collect();
            for offset in [0, LINE_BLOCK] {
                let mut plain = vec![0.0; 2 * width * LINE_BLOCK];
                let mut scratch = vec![0.0; 2 * width * LINE_BLOCK];
                taps_to_rows_plain(&padded, PAIR_BLOCK, offset, &taps, &mut plain, &mut scratch);
                for isa in Isa::available() {
                    let mut got = vec![0.0; plain.len()];
                    taps_to_rows(
                        isa,
                        &padded,
                        PAIR_BLOCK,
                        offset,
                        &taps,
                        &mut got,
                        &mut scratch,
                    );
                    assert_eq!(got, plain, "{isa:?}, width {width}, offset {offset}");
                }
            }
        }
    }

    #[test]
    fn transposes_equal_plain_moves() {
        for n in [4usize, 7, 64, 301] {
            let block: Vec<f64> = (0..n * LINE_BLOCK).map(|i| i as f64 * 0.5 - 3.0).collect();
            let (mut a, mut b) = (vec![0.0; n * LINE_BLOCK], vec![0.0; n * LINE_BLOCK]);
            interleave_plain::<LINE_BLOCK>(&block, n, &mut b, 6.0);
            let wide: Vec<f64> = (0..n * PAIR_BLOCK).map(|i| i as f64 - 7.0).collect();
            let (mut c, mut d) = (vec![0.0; n * PAIR_BLOCK], vec![0.0; n * PAIR_BLOCK]);
            interleave_plain::<PAIR_BLOCK>(&wide, n, &mut d, 6.0);
            for isa in Isa::available() {
                interleave::<LINE_BLOCK>(isa, &block, n, &mut a, 6.0);
                assert_eq!(a, b, "{isa:?} interleave {n}");
                interleave::<PAIR_BLOCK>(isa, &wide, n, &mut c, 6.0);
                assert_eq!(c, d, "{isa:?} interleave pairs {n}");
            }
            let mut c = vec![0.0; n * LINE_BLOCK];
            deinterleave(&a, n, &mut c);
            let scaled: Vec<f64> = block.iter().map(|v| v * 6.0).collect();
            assert_eq!(c, scaled, "round trip {n}");
        }
    }

    #[test]
    fn line_pairs_equal_two_line_blocks() {
        for width in [4usize, 5, 37, 300] {
            let data: Vec<f64> = (0..width * PAIR_BLOCK)
                .map(|i| ((i * 104729) % 9973) as f64 * 0.01 - 30.0)
                .collect();
            let taps = AxisTaps::new(width, 2 * width);
            let m = taps.m * LINE_BLOCK;
            let mut expect = vec![0.0; 2 * m];
            let (ea, eb) = expect.split_at_mut(m);
            prefilter_interpolate_lines_plain(
                &data[..width * LINE_BLOCK],
                &taps,
                ea,
                &mut Vec::new(),
            );
            prefilter_interpolate_lines_plain(
                &data[width * LINE_BLOCK..],
                &taps,
                eb,
                &mut Vec::new(),
            );
            let mut got = vec![0.0; 2 * m];
            let (a, b) = got.split_at_mut(m);
            prefilter_interpolate_line_pairs_plain(&data, &taps, a, b, &mut Vec::new());
            assert_eq!(got, expect, "plain, width {width}");
            for isa in Isa::available() {
                let mut got = vec![0.0; 2 * m];
                let (a, b) = got.split_at_mut(m);
                prefilter_interpolate_line_pairs(isa, &data, &taps, a, b, &mut Vec::new());
                assert_eq!(got, expect, "{isa:?}, width {width}");
            }
        }
    }

    #[test]
    fn fused_row_pass_equals_prefilter_then_interpolate() {
        for width in [4usize, 5, 37, 300] {
            let data: Vec<f64> = (0..width * LINE_BLOCK)
                .map(|i| ((i * 104729) % 9973) as f64 * 0.01)
                .collect();
            let taps = AxisTaps::new(width, 2 * width);
            let mut expect = vec![0.0; 2 * width * LINE_BLOCK];
            let mut lines = data.clone();
            for (line, out) in lines
                .chunks_exact_mut(width)
                .zip(expect.chunks_exact_mut(2 * width))
            {
                prefilter_line(line);
                interpolate_row(Isa::plain(), line, &taps, out, &mut Vec::new());
            }
            for isa in Isa::available() {
                let mut got = vec![0.0; expect.len()];
                prefilter_interpolate_lines(isa, &data, &taps, &mut got, &mut Vec::new());
                assert_eq!(got, expect, "{isa:?}, width {width}");
            }
            let mut plain = vec![0.0; expect.len()];
            prefilter_interpolate_lines_plain(&data, &taps, &mut plain, &mut Vec::new());
            assert_eq!(plain, expect, "plain, width {width}");
        }
    }

    /// The zoom one pass after another over whole planes, with the plain kernels.
    fn zoom_by_passes(data: &[f64], w: usize, h: usize, z: usize, power: u32) -> Vec<f32> {
        let (ow, oh) = (z * w, z * h);
        let (rt, ct) = (AxisTaps::new(w, ow), AxisTaps::new(h, oh));
        let mut c = data.to_vec();
        prefilter_columns(Isa::plain(), &mut c, w, h, &mut Vec::new());
        let mut tmp = vec![0.0; h * ow];
        for (line, out) in c.chunks_exact_mut(w).zip(tmp.chunks_exact_mut(ow)) {
            prefilter_line(line);
            interpolate_row(Isa::plain(), line, &rt, out, &mut Vec::new());
        }
        let mut out = vec![0f32; ow * oh];
        for (i, row) in out.chunks_exact_mut(ow).enumerate() {
            let rows = ct.index[i].map(|r| &tmp[r as usize * ow..(r as usize + 1) * ow]);
            combine_rows_power_plain(rows, &ct.weight[i], row, power);
        }
        out
    }

    #[test]
    fn banded_zoom_equals_whole_plane_passes() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        for (w, h, z) in [(37, 29, 2), (5, 3, 2), (64, 41, 3), (9, 100, 2), (3, 17, 4)] {
            let data: Vec<f64> = (0..w * h)
                .map(|i| ((i * 7919) % 263) as f64 * 0.37)
                .collect();
            let expect = zoom_by_passes(&data, w, h, z, 2);
            for isa in Isa::available() {
                let mut got = vec![0f32; expect.len()];
                let mut c = data.clone();
                let (lo, hi) =
                    pool.install(|| Zoom::new().run_with(isa, &mut c, w, h, z, &mut got, 2));
                assert_eq!(got, expect, "{isa:?}, {w}x{h} x{z}");
                assert_eq!((lo, hi), crate::pipeline::levels::min_max_plain(&expect));
            }
        }
    }

    #[test]
    fn constant_stays_constant() {
        let (w, h) = (6, 4);
        let mut c = vec![42.0; w * h];
        let mut out = vec![0.0f32; 4 * w * h];
        Zoom::new().run(Isa::detect(), &mut c, w, h, 2, &mut out);
        for v in out {
            assert!((v - 42.0).abs() < 1e-4);
        }
    }
}
