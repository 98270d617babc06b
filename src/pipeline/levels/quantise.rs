//! Normalisation to gray levels: the exact division of the seed, and the fast form that
//! multiplies by the reciprocal and redoes only the values near a rounding boundary
//! (plain, AVX2 and AVX-512 forms, bit-identical).

use super::*;

/// One normalised gray level, `round_ties_even((v - lo) / (hi - lo) * 255)`; 0 when the
/// range is empty.
#[inline]
pub fn quantise_one(v: f32, lo: f32, range: f32) -> u8 {
    if range > 0.0 {
        (((v - lo) / range) * 255.0).round_ties_even() as u8
    } else {
        0
    }
}

/// Normalises `values` into gray levels `out`, given their minimum and maximum.
pub fn quantise(values: &[f32], lo: f32, hi: f32, out: &mut [u8]) {
    let range = hi - lo;
    if range > 0.0 {
        for (o, &v) in out.iter_mut().zip(values) {
            *o = (((v - lo) / range) * 255.0).round_ties_even() as u8;
        }
    } else {
        out.fill(0);
    }
}

/// Half-width of the band around a half-integer in which the fast path's scaled value is
/// not trusted. The fast value `(v − lo)·fl(255/range)` and the exact
/// `fl(fl((v − lo)/range)·255)` differ by at most 4 units in the last place of a value
/// below 256, about 6.1e-5: outside this band (three times wider) both round to the same
/// level.
pub const GUARD: f32 = 2e-4;

/// Normalises `values` into levels like [`quantise()`] — bit-identical — without a division
/// per pixel: a vectorised multiply by the reciprocal, then the exact division only for
/// the few pixels whose scaled value lies within [`GUARD`] of a rounding boundary. With
/// AVX2, 32 pixels at a time with the boundary test as a lane mask, so that only the
/// flagged pixels are redone.
pub fn quantise_fast(isa: Isa, values: &[f32], lo: f32, range: f32, out: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    {
        if isa.avx512() {
            // SAFETY: `isa` is a set this CPU has, and it includes AVX-512F.
            return unsafe { quantise_fast_avx512(values, lo, range, out) };
        }
        if isa.avx2() {
            // SAFETY: `isa` is a set this CPU has, and it includes AVX2.
            return unsafe { quantise_fast_avx2(values, lo, range, out) };
        }
    }
    let _ = isa;
    quantise_fast_plain(values, lo, range, out)
}

/// How far ahead the quantiser prefetches its input (values, 8 KiB) and its output
/// (levels, 512 bytes); see [`prefetch`].
#[cfg(target_arch = "x86_64")]
pub(super) const QUANTISE_PREFETCH: (usize, usize) = (2048, 512);

/// Prefetches the quantiser's streams [`QUANTISE_PREFETCH`] ahead of a block of 32 values
/// (two cache lines) and its 32 levels (half of one).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn prefetch_quantise(x: &[f32; 32], o: &[u8; 32]) {
    let (ahead_in, ahead_out) = QUANTISE_PREFETCH;
    prefetch(x.as_ptr().wrapping_add(ahead_in));
    prefetch(x.as_ptr().wrapping_add(ahead_in + 16));
    prefetch(o.as_ptr().wrapping_add(ahead_out));
}

/// [`quantise_fast`] with AVX-512: as [`quantise_fast_avx2`] on 16 lanes, the boundary
/// test in a mask register and the levels narrowed to bytes by one instruction, the
/// input and output streams prefetched ([`QUANTISE_PREFETCH`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(super) fn quantise_fast_avx512(values: &[f32], lo: f32, range: f32, out: &mut [u8]) {
    use std::arch::x86_64::*;
    let n = values.len().min(out.len());
    let blocks = n / 32;
    let inv = 255.0f32 / range;
    let (v_lo, v_inv) = (_mm512_set1_ps(lo), _mm512_set1_ps(inv));
    let rounder = _mm512_set1_ps(ROUNDER);
    let limit = _mm512_set1_ps(0.5 - GUARD);
    let exponent = _mm512_set1_epi32(ROUNDER.to_bits() as i32);
    let (xs, _) = values[..blocks * 32].as_chunks::<32>();
    let (os, _) = out[..blocks * 32].as_chunks_mut::<32>();
    for (x, o) in xs.iter().zip(os) {
        let mut near = 0u32;
        prefetch_quantise(x, o);
        for half in 0..2 {
            // SAFETY: reads 16 of the 32 values of `x` and writes 16 of the 32 bytes of
            // `o` (unaligned access is allowed).
            unsafe {
                let v = _mm512_loadu_ps(x.as_ptr().add(16 * half));
                let a = _mm512_mul_ps(_mm512_sub_ps(v, v_lo), v_inv);
                let t = _mm512_add_ps(a, rounder);
                let r = _mm512_sub_ps(t, rounder);
                let d = _mm512_abs_ps(_mm512_sub_ps(a, r));
                let m = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(d, limit);
                near |= (m as u32) << (16 * half);
                // t = 2^23 + level: the level is the low mantissa bits
                let level = _mm512_sub_epi32(_mm512_castps_si512(t), exponent);
                let bytes = _mm512_cvtepi32_epi8(level);
                _mm_storeu_si128(o.as_mut_ptr().add(16 * half) as *mut __m128i, bytes);
            }
        }
        while near != 0 {
            let k = near.trailing_zeros() as usize;
            near &= near - 1;
            o[k] = round_even_small(((x[k] - lo) / range) * 255.0) as u8;
        }
    }
    quantise_fast_plain(&values[blocks * 32..n], lo, range, &mut out[blocks * 32..n]);
}

/// [`quantise_fast`] with AVX2 intrinsics: the same operations as
/// [`quantise_fast_plain`] lane by lane, the levels packed from the rounded values' low
/// bytes, both streams prefetched as in the AVX-512 form; the tail of fewer than 32
/// pixels by the plain form.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) fn quantise_fast_avx2(values: &[f32], lo: f32, range: f32, out: &mut [u8]) {
    use std::arch::x86_64::*;
    let n = values.len().min(out.len());
    let blocks = n / 32;
    let inv = 255.0f32 / range;
    let (v_lo, v_inv) = (_mm256_set1_ps(lo), _mm256_set1_ps(inv));
    let rounder = _mm256_set1_ps(ROUNDER);
    let limit = _mm256_set1_ps(0.5 - GUARD);
    let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(i32::MAX));
    let exponent = _mm256_set1_epi32(ROUNDER.to_bits() as i32);
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    let (xs, _) = values[..blocks * 32].as_chunks::<32>();
    let (os, _) = out[..blocks * 32].as_chunks_mut::<32>();
    for (x, o) in xs.iter().zip(os) {
        prefetch_quantise(x, o);
        let mut level = [_mm256_setzero_si256(); 4];
        let mut near = 0u32;
        for (q, level) in level.iter_mut().enumerate() {
            // SAFETY: reads 8 of the 32 values of `x` (an unaligned load is allowed).
            let v = unsafe { _mm256_loadu_ps(x.as_ptr().add(8 * q)) };
            let a = _mm256_mul_ps(_mm256_sub_ps(v, v_lo), v_inv);
            let t = _mm256_add_ps(a, rounder);
            let r = _mm256_sub_ps(t, rounder);
            let d = _mm256_and_ps(_mm256_sub_ps(a, r), abs_mask);
            let m = _mm256_cmp_ps::<_CMP_GT_OQ>(d, limit);
            near |= (_mm256_movemask_ps(m) as u32) << (8 * q);
            // t = 2^23 + level: the level is the low mantissa bits
            *level = _mm256_sub_epi32(_mm256_castps_si256(t), exponent);
        }
        let words01 = _mm256_packus_epi32(level[0], level[1]);
        let words23 = _mm256_packus_epi32(level[2], level[3]);
        let bytes = _mm256_packus_epi16(words01, words23);
        let bytes = _mm256_permutevar8x32_epi32(bytes, order);
        // SAFETY: writes the 32 bytes of `o` (an unaligned store is allowed).
        unsafe { _mm256_storeu_si256(o.as_mut_ptr() as *mut __m256i, bytes) };
        while near != 0 {
            let k = near.trailing_zeros() as usize;
            near &= near - 1;
            o[k] = round_even_small(((x[k] - lo) / range) * 255.0) as u8;
        }
    }
    quantise_fast_plain(&values[blocks * 32..n], lo, range, &mut out[blocks * 32..n]);
}

/// The plain form of [`quantise_fast`] (the AVX2 form compiles this same code).
#[inline(always)]
pub fn quantise_fast_plain(values: &[f32], lo: f32, range: f32, out: &mut [u8]) {
    const SUB: usize = 256;
    let inv = 255.0f32 / range;
    for (o, v) in out.chunks_mut(SUB).zip(values.chunks(SUB)) {
        let mut near = 0u32;
        for (o, &x) in o.iter_mut().zip(v) {
            let a = (x - lo) * inv;
            // a + 2^23 holds round_ties_even(a) in its low mantissa bits (0 ≤ a < 256)
            let t = a + ROUNDER;
            let r = t - ROUNDER;
            near |= ((a - r).abs() > 0.5 - GUARD) as u32;
            *o = t.to_bits() as u8;
        }
        if near != 0 {
            for (o, &x) in o.iter_mut().zip(v) {
                let a = (x - lo) * inv;
                if (a - round_even_small(a)).abs() > 0.5 - GUARD {
                    *o = round_even_small(((x - lo) / range) * 255.0) as u8;
                }
            }
        }
    }
}
