//! Stage 3: power transform, normalisation to integer gray levels, histogram.
//!
//! Exactly the seed's numpy arithmetic in `f32`: `p = x**power`, then
//! `round((p - min) / (max - min) * 255)` with ties to even. The division is kept a division
//! (a multiplication by the reciprocal rounds differently).
//!
//! `quantise` normalises, `histogram` counts the levels, `labels` makes the level → layer
//! table and the label map from it; here, the power transform, the minimum and maximum,
//! and the fused normalise-and-count pass the pipeline runs.

mod histogram;
mod labels;
mod quantise;

pub use histogram::*;
pub use labels::*;
pub use quantise::*;

use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
use crate::simd::prefetch;
use crate::simd::Isa;

/// `2^23`: adding and subtracting it rounds a float in `[0, 2^23)` to an integer, ties to
/// even (IEEE default rounding), with plain SSE2 arithmetic instead of a libm call.
const ROUNDER: f32 = 8_388_608.0;

/// `round_ties_even` for `0 ≤ q < 2^23`, vectorisable (the fast path of [`quantise_one`]).
#[inline(always)]
pub fn round_even_small(q: f32) -> f32 {
    (q + ROUNDER) - ROUNDER
}

/// Raises every value to an integer power in place. Powers 1 and 2 are exact (numpy's fast
/// paths); higher powers use `powi`.
pub fn apply_power(values: &mut [f32], power: u32) {
    match power {
        1 => {}
        2 => values.iter_mut().for_each(|v| *v *= *v),
        p => values.iter_mut().for_each(|v| *v = v.powi(p as i32)),
    }
}

/// Minimum and maximum of a non-empty slice (of finite values).
#[inline]
pub fn min_max(isa: Isa, values: &[f32]) -> (f32, f32) {
    #[cfg(target_arch = "x86_64")]
    if isa.avx2() {
        // SAFETY: `isa` is a set this CPU has, and it includes AVX2.
        return unsafe { min_max_avx2(values) };
    }
    let _ = isa;
    min_max_plain(values)
}

/// [`min_max`] with AVX2 min/max instructions (eight lanes).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn min_max_avx2(values: &[f32]) -> (f32, f32) {
    use std::arch::x86_64::{
        _mm256_loadu_ps, _mm256_max_ps, _mm256_min_ps, _mm256_set1_ps, _mm256_storeu_ps,
    };
    let mut lo = _mm256_set1_ps(f32::INFINITY);
    let mut hi = _mm256_set1_ps(f32::NEG_INFINITY);
    let chunks = values.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        // SAFETY: `c` holds exactly 8 f32 (an unaligned load is allowed).
        let v = unsafe { _mm256_loadu_ps(c.as_ptr()) };
        lo = _mm256_min_ps(lo, v);
        hi = _mm256_max_ps(hi, v);
    }
    let (mut l8, mut h8) = ([0f32; 8], [0f32; 8]);
    // SAFETY: both arrays hold 8 f32.
    unsafe {
        _mm256_storeu_ps(l8.as_mut_ptr(), lo);
        _mm256_storeu_ps(h8.as_mut_ptr(), hi);
    }
    let mut l = l8.iter().copied().fold(f32::INFINITY, f32::min);
    let mut h = h8.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for &v in rest {
        l = l.min(v);
        h = h.max(v);
    }
    (l, h)
}

/// The plain form of [`min_max`].
pub fn min_max_plain(values: &[f32]) -> (f32, f32) {
    let mut lo = [f32::INFINITY; 8];
    let mut hi = [f32::NEG_INFINITY; 8];
    let chunks = values.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            // compare-and-select vectorises (minps/maxps); NaN never occurs here
            lo[k] = if c[k] < lo[k] { c[k] } else { lo[k] };
            hi[k] = if c[k] > hi[k] { c[k] } else { hi[k] };
        }
    }
    let mut l = lo.iter().copied().fold(f32::INFINITY, f32::min);
    let mut h = hi.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for &v in rest {
        l = l.min(v);
        h = h.max(v);
    }
    (l, h)
}

/// Pixels per parallel task of [`quantise_histogram`].
const CHUNK: usize = 1 << 16;

/// Normalises `values` into `out` and counts the levels into `hist`, in one pass spread
/// over the current rayon pool (each task keeps its own sub-histograms). Bit-identical to
/// [`quantise()`] followed by [`histogram()`].
pub fn quantise_histogram(
    isa: Isa,
    values: &[f32],
    lo: f32,
    hi: f32,
    out: &mut [u8],
    hist: &mut [u64; 256],
) {
    let range = hi - lo;
    if range.is_nan() || range <= 0.0 {
        out.fill(0);
        hist.fill(0);
        hist[0] = values.len() as u64;
        return;
    }
    *hist = out
        .par_chunks_mut(CHUNK)
        .zip(values.par_chunks(CHUNK))
        .map(|(o, v)| {
            quantise_fast(isa, v, lo, range, o);
            let mut h = [0u64; 256];
            histogram(isa, o, &mut h);
            h
        })
        .reduce(
            || [0u64; 256],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b.iter()) {
                    *x += y;
                }
                a
            },
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_to_even() {
        // 0.5 -> 0, 1.5 -> 2, 2.5 -> 2 (numpy's round)
        assert_eq!(quantise_one(0.5, 0.0, 255.0), 0);
        assert_eq!(quantise_one(1.5, 0.0, 255.0), 2);
        assert_eq!(quantise_one(2.5, 0.0, 255.0), 2);
        assert_eq!(quantise_one(255.0, 0.0, 255.0), 255);
        assert_eq!(quantise_one(3.0, 3.0, 0.0), 0);
    }

    #[test]
    fn fast_rounding_equals_round_ties_even() {
        // every half, and a dense sweep, over the whole range of levels
        for i in 0..=510u32 {
            let q = i as f32 * 0.5;
            assert_eq!(round_even_small(q), q.round_ties_even(), "{q}");
        }
        let mut q = 0.0f32;
        while q < 255.5 {
            assert_eq!(round_even_small(q), q.round_ties_even(), "{q}");
            q = f32::from_bits(q.to_bits() + 997);
        }
    }

    #[test]
    fn fused_pass_equals_plain_passes() {
        let values: Vec<f32> = (0..200_003u32)
            .map(|i| ((i as f32 * 0.7311).sin() * 3000.0 + 3000.0).powi(2))
            .collect();
        let (lo, hi) = min_max_plain(&values);
        let mut a = vec![0u8; values.len()];
        let mut ha = [0u64; 256];
        quantise(&values, lo, hi, &mut a);
        histogram_plain(&a, &mut ha);
        for isa in Isa::available() {
            let mut b = vec![0u8; values.len()];
            let mut hb = [0u64; 256];
            quantise_histogram(isa, &values, lo, hi, &mut b, &mut hb);
            assert_eq!(a, b, "{isa:?}");
            assert_eq!(ha, hb, "{isa:?}");
            let lut: [u8; 256] = std::array::from_fn(|i| (i / 50) as u8);
            let mut la = vec![0u8; b.len()];
            map_levels(isa, &b, &lut, &mut la);
            assert!(la.iter().zip(&b).all(|(&l, &v)| l == lut[v as usize]));
        }
    }

    #[test]
    fn compare_mapping_equals_the_table() {
        let levels: Vec<u8> = (0..10_007u32).map(|i| (i * 7919 % 256) as u8).collect();
        let bound_sets: [&[u16]; 5] = [
            &[0, 256],
            &[0, 25, 71, 121, 142, 256],
            &[0, 1, 2, 255, 256],
            &[0, 10, 10, 200, 256],
            &[
                0, 3, 9, 20, 31, 40, 52, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 256,
            ],
        ];
        for bounds in bound_sets {
            let mut lut = [0u8; 256];
            layer_lut(bounds, &mut lut);
            let expect: Vec<u8> = levels.iter().map(|&v| lut[v as usize]).collect();
            for isa in Isa::available() {
                let mut got = vec![0u8; levels.len()];
                map_levels(isa, &levels, &lut, &mut got);
                assert_eq!(got, expect, "{isa:?}, {bounds:?}");
            }
            if let Some((base, t, n)) = lut_steps(&lut) {
                let mut plain = vec![0u8; levels.len()];
                map_by_steps_plain(&levels, base, &t[..n], &mut plain);
                assert_eq!(plain, expect, "plain, {bounds:?}");
                // each form this CPU has, from a misaligned start too
                for isa in Isa::available() {
                    for skip in [0, 1, 37] {
                        let mut got = vec![0u8; levels.len() - skip];
                        map_by_steps(isa, &levels[skip..], base, &t[..n], &mut got);
                        assert_eq!(got, expect[skip..], "{isa:?}, {bounds:?}, skip {skip}");
                    }
                }
            }
        }
        // more steps than compares pay for, and a decreasing table: the lookup path
        let many: Vec<u16> = (0..=256).step_by(8).collect();
        let mut lut = [0u8; 256];
        layer_lut(&many, &mut lut);
        assert!(lut_steps(&lut).is_none());
        let mut rev = [0u8; 256];
        rev[200] = 1;
        assert!(lut_steps(&rev).is_none());
        let mut got = vec![0u8; levels.len()];
        map_levels(Isa::detect(), &levels, &rev, &mut got);
        assert!(got.iter().zip(&levels).all(|(&g, &v)| g == rev[v as usize]));
    }

    #[test]
    fn fast_quantise_equals_exact_division() {
        // ranges of several magnitudes, values dense near every rounding boundary
        for (lo, hi) in [
            (0.0f32, 65025.0),
            (-3.5, 81726.1),
            (12.0, 13.0),
            (0.0, 255.0),
            (1e-3, 7.7e4),
        ] {
            let range = hi - lo;
            let mut values = Vec::new();
            for k in 0..=255 {
                let center = lo + (k as f32 + 0.5) / 255.0 * range;
                let mut x = center;
                for _ in 0..40 {
                    values.push(x.clamp(lo, hi));
                    x = f32::from_bits(x.to_bits() + 1);
                }
                let mut x = center;
                for _ in 0..40 {
                    values.push(x.clamp(lo, hi));
                    x = f32::from_bits(x.to_bits().saturating_sub(1));
                }
            }
            for i in 0..20_000 {
                values.push(lo + (i as f32 / 20_000.0) * range);
            }
            let mut a = vec![0u8; values.len()];
            let mut b = vec![0u8; values.len()];
            quantise(&values, lo, hi, &mut a);
            quantise_fast_plain(&values, lo, range, &mut b);
            assert_eq!(a, b, "plain form, range {lo}..{hi}");
            // each form this CPU has (AVX-512 and AVX2 alike)
            for isa in Isa::available() {
                b.fill(0);
                quantise_fast(isa, &values, lo, range, &mut b);
                assert_eq!(a, b, "{isa:?}, range {lo}..{hi}");
            }
            #[cfg(target_arch = "x86_64")]
            if Isa::detect().avx512() {
                // the AVX2 form on a CPU that would pick AVX-512
                // SAFETY: the CPU has AVX-512, so AVX2 too.
                unsafe { quantise_fast_avx2(&values, lo, range, &mut b) };
                assert_eq!(a, b, "AVX2 form, range {lo}..{hi}");
            }
        }
    }

    #[test]
    fn histogram_counts_everything() {
        let levels: Vec<u8> = (0..1003u32).map(|i| (i * 7 % 256) as u8).collect();
        let mut h = [0u64; 256];
        histogram(Isa::detect(), &levels, &mut h);
        assert_eq!(h.iter().sum::<u64>(), 1003);
        let mut naive = [0u64; 256];
        for &v in &levels {
            naive[v as usize] += 1;
        }
        assert_eq!(h, naive);
    }

    #[test]
    fn block_histogram_equals_level_by_level_counting() {
        // flat stretches, narrow and wide blocks, levels near 0 and 255 (windows clamped
        // at both ends), runs across block edges, and lengths around the 64-level blocks
        let mut rng = 0x2545_f491u32;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            rng
        };
        let mut data = Vec::new();
        while data.len() < 200_000 {
            let r = next();
            let centre = [0i32, 3, 5, 9, 128, 246, 250, 252, 255][(r % 9) as usize];
            let spread = [0i32, 1, 4, 8, 12, 20, 256][(r >> 4) as usize % 7];
            let len = (r >> 8) as usize % 300 + 1;
            for _ in 0..len {
                let d = if spread == 0 {
                    0
                } else {
                    (next() % (2 * spread as u32 + 1)) as i32 - spread
                };
                data.push((centre + d).clamp(0, 255) as u8);
            }
        }
        // the way each set this CPU has counts (the dispatched `histogram` is checked
        // below too)
        for way in Isa::available().into_iter().map(Counting::of) {
            for cut in 0..70 {
                let levels = &data[cut..data.len() - 3 * cut];
                let (mut a, mut b) = ([0u64; 256], [0u64; 256]);
                count_into(levels, &mut a, way);
                histogram_plain(levels, &mut b);
                assert_eq!(a, b, "{way:?}, offset {cut}");
                assert_eq!(a.iter().sum::<u64>(), levels.len() as u64);
            }
            for len in [0usize, 1, 63, 64, 65, 127, 128, 129] {
                let (mut a, mut b) = ([0u64; 256], [0u64; 256]);
                count_into(&data[..len], &mut a, way);
                histogram_plain(&data[..len], &mut b);
                assert_eq!(a, b, "{way:?}, {len} levels");
            }
        }
        for isa in Isa::available() {
            let (mut a, mut b) = ([0u64; 256], [0u64; 256]);
            histogram(isa, &data, &mut a);
            histogram_plain(&data, &mut b);
            assert_eq!(a, b, "{isa:?}");
        }
    }

    #[test]
    fn min_max_with_remainder() {
        let v: Vec<f32> = (0..19).map(|i| (i as f32 - 7.0) * 1.5).collect();
        assert_eq!(min_max_plain(&v), (-10.5, 16.5));
        let w: Vec<f32> = (0..1003)
            .map(|i| ((i * 7919) % 1009) as f32 * 0.37 - 99.0)
            .collect();
        for isa in Isa::available() {
            assert_eq!(min_max(isa, &v), (-10.5, 16.5), "{isa:?}");
            assert_eq!(min_max(isa, &w), min_max_plain(&w), "{isa:?}");
        }
    }
}
