//! The AVX2 forms of the zoom's kernels (each tested bit for bit against its plain form).

use super::*;

/// The horizontal taps of [`prefilter_interpolate_lines`] with AVX2, written straight
/// into the [`LINE_BLOCK`] output rows: four outputs (of all eight lines) are made in
/// registers, then turned into four values of each line by two 4 × 4 transposes, with
/// no interleaved buffer in between. The same products and sums, in the same order, as
/// the plain form.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) fn taps_to_rows_avx2(
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

/// How far ahead (values, 2 KiB) the interleaving prefetches each coefficient line.
#[cfg(target_arch = "x86_64")]
pub(super) const LINE_PREFETCH: usize = 256;

/// [`interleave`] with explicit AVX2 4 × 4 transposes (unpack, then swap 128-bit
/// halves); the same products, only moved. Each line is prefetched [`LINE_PREFETCH`]
/// values ahead.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) fn interleave_avx2<const L: usize>(block: &[f64], n: usize, lanes: &mut [f64], g: f64) {
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

/// [`prefilter_column_band_plain`] compiled with AVX2 (same bits: no fused operations).
///
/// # Safety
/// As [`prefilter_column_band`], and the CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn prefilter_column_band_avx2(
    plane: Plane,
    rows: usize,
    x0: usize,
    acc: &mut [f64],
) {
    // SAFETY: upheld by the caller.
    unsafe { prefilter_column_band_plain(plane, rows, x0, acc) }
}

/// [`VerticalTaps`] with AVX2: four `f64` lanes, two registers per row.
#[cfg(target_arch = "x86_64")]
pub(super) struct Avx2Taps;

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

/// [`combine_rows_power_with`] for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) fn combine_rows_power_avx2<const N: usize>(
    rows: [&[f64]; 4],
    w: [&[f64; 4]; N],
    out: [&mut [f32]; N],
    power: u32,
) -> (f32, f32) {
    // SAFETY: this function is compiled for AVX2, so the CPU has it.
    unsafe { combine_rows_power_with::<Avx2Taps, N>(rows, w, out, power) }
}
