//! The vertical taps: four interpolated rows combined into an output row, with the power
//! transform and the minimum and maximum fused; the vector skeleton the AVX-512 and AVX2
//! forms share.

use super::*;

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
pub(super) fn common_len<const N: usize>(rows: &[&[f64]; 4], out: &[&mut [f32]; N]) -> usize {
    let outs = out.iter().map(|o| o.len());
    rows.iter().map(|r| r.len()).chain(outs).min().unwrap_or(0)
}

/// The eight lanes of a vector, in order.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn lanes(v: std::arch::x86_64::__m256) -> [f32; 8] {
    // SAFETY: `__m256` is 32 bytes of eight `f32` lanes, in order.
    unsafe { std::mem::transmute(v) }
}

/// Finishes a vector form of [`combine_rows_power`] for `N` outputs: the columns from
/// `done` on by the plain form, then the minimum and maximum over those and the vector
/// part's eight-lane `lo` and `hi`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn combine_tail<const N: usize>(
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
pub(super) const OUTPUT_PREFETCH: usize = 1024;

/// Eight outputs of the vertical taps from eight columns of the four rows: what
/// [`combine_rows_power_with`] needs of a vector instruction set. Every method needs that
/// set on the CPU (hence `unsafe`); they are inlined into a function compiled for it.
#[cfg(target_arch = "x86_64")]
pub(super) trait VerticalTaps {
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
pub(super) fn column_starts(rows: &[&[f64]; 4], at: usize) -> [*const f64; 4] {
    debug_assert!(rows.iter().all(|r| r.len() >= at + 8));
    let start = |k: usize| rows[k].as_ptr().wrapping_add(at);
    [start(0), start(1), start(2), start(3)]
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
pub(super) unsafe fn combine_rows_power_with<T: VerticalTaps, const N: usize>(
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
pub(super) fn combine_power<const P: u32>(
    rows: [&[f64]; 4],
    w: &[f64; 4],
    out: &mut [f32],
) -> (f32, f32) {
    // three simple loops over a row in L1 vectorise where one fused loop does not
    combine_rows_plain(rows, w, out);
    if P == 2 {
        for v in out.iter_mut() {
            *v *= *v;
        }
    }
    crate::pipeline::levels::min_max_plain(out)
}
