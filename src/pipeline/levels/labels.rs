//! The label map: the level → layer table made from the bounds, and its application,
//! by compares against the bounds (SSE2, AVX2, AVX-512BW) when the table has few steps,
//! else by lookup.

use super::*;
use crate::pipeline::density::LEVELS;

/// Fills the level → layer lookup table from the bounds (`lut[v] = k` for
/// `bounds[k] ≤ v < bounds[k+1]`).
pub fn layer_lut(bounds: &[u16], lut: &mut [u8; LEVELS]) {
    for k in 0..bounds.len() - 1 {
        for v in bounds[k]..bounds[k + 1] {
            lut[v as usize] = k as u8;
        }
    }
}

/// How far ahead the label map prefetches the levels it reads and the labels it writes
/// (bytes).
#[cfg(target_arch = "x86_64")]
pub(super) const LABELS_PREFETCH: (usize, usize) = (4096, 1024);

/// Prefetches the label map's streams [`LABELS_PREFETCH`] ahead of the block of levels
/// at `v` and of labels at `o`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn prefetch_labels(v: &[u8], o: &[u8]) {
    let (ahead_in, ahead_out) = LABELS_PREFETCH;
    prefetch(v.as_ptr().wrapping_add(ahead_in));
    prefetch(o.as_ptr().wrapping_add(ahead_out));
}

/// Writes `lut[levels[i]]` into `labels[i]`, spread over the current rayon pool. A
/// layer table (non-decreasing, at most [`MAX_STEPS`] steps: the usual case) is applied
/// as a few vector compares per 32 pixels instead of one table lookup per pixel.
pub fn map_levels(isa: Isa, levels: &[u8], lut: &[u8; 256], labels: &mut [u8]) {
    let steps = lut_steps(lut);
    labels
        .par_chunks_mut(CHUNK)
        .zip(levels.par_chunks(CHUNK))
        .for_each(|(l, v)| match &steps {
            Some((base, thresholds, n)) => map_by_steps(isa, v, *base, &thresholds[..*n], l),
            None => {
                for (l, &v) in l.iter_mut().zip(v) {
                    *l = lut[v as usize];
                }
            }
        });
}

/// Most steps of a layer table that [`map_levels`] applies by compares.
pub const MAX_STEPS: usize = 16;

/// A non-decreasing table as `lut[0]` and the levels at which it steps up by one (a level
/// repeated for a step of several): `lut[v] = lut[0] + #{thresholds ≤ v}`. `None` when
/// the table decreases somewhere or has more than [`MAX_STEPS`] steps.
pub fn lut_steps(lut: &[u8; 256]) -> Option<(u8, [u8; MAX_STEPS], usize)> {
    let mut thresholds = [0u8; MAX_STEPS];
    let mut n = 0;
    for v in 1..256 {
        let step = lut[v].checked_sub(lut[v - 1])?;
        for _ in 0..step {
            *thresholds.get_mut(n)? = v as u8;
            n += 1;
        }
    }
    Some((lut[0], thresholds, n))
}

/// `out[i] = base + #{t in thresholds : t ≤ levels[i]}` (see [`lut_steps`]): one compare
/// per threshold on 64 pixels at a time with AVX-512BW, 32 with AVX2, 16 with SSE2;
/// else the plain form.
pub fn map_by_steps(isa: Isa, levels: &[u8], base: u8, thresholds: &[u8], out: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if isa.sse2() {
        let n = out.len().min(levels.len());
        // the vector forms from the labels' first cache line on, so that their stores
        // (and the loads of levels allocated alike) do not straddle two lines
        let head = out.as_ptr().align_offset(crate::simd::CACHE_LINE).min(n);
        map_by_steps_plain(&levels[..head], base, thresholds, &mut out[..head]);
        let (levels, out) = (&levels[head..n], &mut out[head..n]);
        let n = n - head;
        let done = if isa.avx512() {
            // SAFETY: `isa` is a set this CPU has, and it includes AVX-512BW.
            unsafe { map_by_steps_avx512(&levels[..n], base, thresholds, &mut out[..n]) }
        } else if isa.avx2() {
            // SAFETY: `isa` is a set this CPU has, and it includes AVX2.
            unsafe { map_by_steps_avx2(&levels[..n], base, thresholds, &mut out[..n]) }
        } else {
            0
        };
        map_by_steps_sse2(&levels[done..n], base, thresholds, &mut out[done..n]);
        return;
    }
    let _ = isa;
    map_by_steps_plain(levels, base, thresholds, out)
}

/// [`map_by_steps`] on the whole 32-pixel blocks of `levels` with AVX2 (both streams
/// prefetched as in the AVX-512 form); returns the pixels done.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) fn map_by_steps_avx2(
    levels: &[u8],
    base: u8,
    thresholds: &[u8],
    out: &mut [u8],
) -> usize {
    use std::arch::x86_64::*;
    let (blocks, _) = levels.as_chunks::<32>();
    let (out_blocks, _) = out.as_chunks_mut::<32>();
    let base = _mm256_set1_epi8(base as i8);
    for (o, v) in out_blocks.iter_mut().zip(blocks) {
        prefetch_labels(v, o);
        // SAFETY: the load and the store cover exactly the 32 bytes of `v` and `o`
        // (unaligned access is allowed).
        unsafe {
            let x = _mm256_loadu_si256(v.as_ptr() as *const __m256i);
            let mut acc = base;
            for &t in thresholds {
                let t = _mm256_set1_epi8(t as i8);
                // x ≥ t ⇔ max(x, t) = x (unsigned); the all-ones lane subtracts as +1
                acc = _mm256_sub_epi8(acc, _mm256_cmpeq_epi8(_mm256_max_epu8(x, t), x));
            }
            _mm256_storeu_si256(o.as_mut_ptr() as *mut __m256i, acc);
        }
    }
    blocks.len().min(out_blocks.len()) * 32
}

/// [`map_by_steps`] on the whole 64-pixel blocks of `levels` with AVX-512BW (a compare
/// into a mask and a masked add per threshold, both streams prefetched
/// ([`LABELS_PREFETCH`])); returns the pixels done.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw")]
pub(super) fn map_by_steps_avx512(
    levels: &[u8],
    base: u8,
    thresholds: &[u8],
    out: &mut [u8],
) -> usize {
    use std::arch::x86_64::*;
    let (blocks, _) = levels.as_chunks::<64>();
    let (out_blocks, _) = out.as_chunks_mut::<64>();
    let base = _mm512_set1_epi8(base as i8);
    let one = _mm512_set1_epi8(1);
    for (o, v) in out_blocks.iter_mut().zip(blocks) {
        prefetch_labels(v, o);
        // SAFETY: the load and the store cover exactly the 64 bytes of `v` and `o`
        // (unaligned access is allowed).
        unsafe {
            let x = _mm512_loadu_si512(v.as_ptr() as *const __m512i);
            let mut acc = base;
            for &t in thresholds {
                let ge = _mm512_cmpge_epu8_mask(x, _mm512_set1_epi8(t as i8));
                acc = _mm512_mask_add_epi8(acc, ge, acc, one);
            }
            _mm512_storeu_si512(o.as_mut_ptr() as *mut __m512i, acc);
        }
    }
    blocks.len().min(out_blocks.len()) * 64
}

/// [`map_by_steps`] with SSE2, 16 pixels at a time, the rest by the plain form.
#[cfg(target_arch = "x86_64")]
pub(super) fn map_by_steps_sse2(levels: &[u8], base: u8, thresholds: &[u8], out: &mut [u8]) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_set1_epi8, _mm_storeu_si128,
        _mm_sub_epi8,
    };
    let n = out.len().min(levels.len());
    let (blocks, rest) = levels[..n].as_chunks::<16>();
    let (out_blocks, out_rest) = out[..n].as_chunks_mut::<16>();
    for (o, v) in out_blocks.iter_mut().zip(blocks) {
        // SAFETY: SSE2 is part of x86-64; the load and the store cover exactly the 16
        // bytes of `v` and `o` (unaligned access is allowed).
        unsafe {
            let x = _mm_loadu_si128(v.as_ptr() as *const __m128i);
            let mut acc = _mm_set1_epi8(base as i8);
            for &t in thresholds {
                let t = _mm_set1_epi8(t as i8);
                let ge = _mm_cmpeq_epi8(_mm_max_epu8(x, t), x);
                acc = _mm_sub_epi8(acc, ge);
            }
            _mm_storeu_si128(o.as_mut_ptr() as *mut __m128i, acc);
        }
    }
    map_by_steps_plain(rest, base, thresholds, out_rest);
}

/// The plain form of [`map_by_steps`].
pub fn map_by_steps_plain(levels: &[u8], base: u8, thresholds: &[u8], out: &mut [u8]) {
    for (o, &x) in out.iter_mut().zip(levels) {
        *o = base + thresholds.iter().filter(|&&t| x >= t).count() as u8;
    }
}
