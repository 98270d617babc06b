//! Stage 1: ITU-R 601-2 luma in float, exactly as Pillow's `convert('F')`.
//!
//! `Y = (299 R + 587 G + 114 B) / 1000`: the numerator is an exact integer, the one division
//! is done in `f32`, so the result is bit-identical to Pillow. (The `image` crate's
//! `to_luma8` uses Rec.709 weights and rounds: it is *not* this.)

#[cfg(target_arch = "x86_64")]
use crate::simd::{prefetch, Isa};

/// Red weight (per mille).
pub const WEIGHT_R: u32 = 299;
/// Green weight (per mille).
pub const WEIGHT_G: u32 = 587;
/// Blue weight (per mille).
pub const WEIGHT_B: u32 = 114;

/// Luma of one RGB8 pixel.
#[inline]
pub fn luma_pixel(r: u8, g: u8, b: u8) -> f32 {
    (WEIGHT_R * r as u32 + WEIGHT_G * g as u32 + WEIGHT_B * b as u32) as f32 / 1000.0
}

/// Writes the luma of `rgb` (3 bytes a pixel) into `out` (one value a pixel), as `f64`
/// values of the exact `f32` result (the zoom prefilter works in `f64`). With AVX2, 16
/// pixels at a time: the channels are separated by byte shuffles, the numerators made in
/// 32-bit lanes and divided in `f32` (the same IEEE division as [`luma_pixel`]).
pub fn luma_rgb8(isa: Isa, rgb: &[u8], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if isa.avx2() {
        // SAFETY: `isa` is a set this CPU has, and it includes AVX2.
        return unsafe { luma_avx2(rgb, out) };
    }
    let _ = isa;
    luma_plain(rgb, out)
}

/// Byte shuffles that gather channel `ch` of 16 RGB pixels from the `src`-th 16 bytes of
/// their 48 (lanes from other loads get 0x80, which `pshufb` turns into 0).
const fn channel_shuffle(ch: usize, src: usize) -> [u8; 16] {
    let mut m = [0x80u8; 16];
    let mut j = 0;
    while j < 16 {
        let p = 3 * j + ch;
        if p / 16 == src {
            m[j] = (p % 16) as u8;
        }
        j += 1;
    }
    m
}

/// `CHANNEL_SHUFFLES[ch][src]`, see [`channel_shuffle`].
const CHANNEL_SHUFFLES: [[[u8; 16]; 3]; 3] = {
    let mut t = [[[0u8; 16]; 3]; 3];
    let mut ch = 0;
    while ch < 3 {
        let mut src = 0;
        while src < 3 {
            t[ch][src] = channel_shuffle(ch, src);
            src += 1;
        }
        ch += 1;
    }
    t
};

/// How far ahead [`luma_avx2`] prefetches the RGB bytes it reads (3 KiB) and the luma
/// values it writes (512 values, 4 KiB).
#[cfg(target_arch = "x86_64")]
const LUMA_PREFETCH: (usize, usize) = (3072, 512);

/// [`luma_rgb8`] with AVX2 (see there), both streams prefetched ([`LUMA_PREFETCH`]); the
/// tail of fewer than 16 pixels by [`luma_plain`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn luma_avx2(rgb: &[u8], out: &mut [f64]) {
    use std::arch::x86_64::*;
    let n = out.len().min(rgb.len() / 3);
    let blocks = n / 16;
    let masks = CHANNEL_SHUFFLES.map(|m| {
        // SAFETY: each mask is 16 bytes (an unaligned load is allowed).
        m.map(|m| unsafe { _mm_loadu_si128(m.as_ptr() as *const __m128i) })
    });
    let weights = [
        _mm256_set1_epi32(WEIGHT_R as i32),
        _mm256_set1_epi32(WEIGHT_G as i32),
        _mm256_set1_epi32(WEIGHT_B as i32),
    ];
    let thousand = _mm256_set1_ps(1000.0);
    let (px, _) = rgb[..blocks * 48].as_chunks::<48>();
    let (ys, _) = out[..blocks * 16].as_chunks_mut::<16>();
    for (px, y) in px.iter().zip(ys) {
        // 48 bytes in, 128 out (two cache lines) per block
        prefetch(px.as_ptr().wrapping_add(LUMA_PREFETCH.0));
        prefetch(y.as_ptr().wrapping_add(LUMA_PREFETCH.1));
        prefetch(y.as_ptr().wrapping_add(LUMA_PREFETCH.1 + 8));
        // SAFETY: the loads read the 48 bytes of `px`, the stores write the 16 values of
        // `y` (unaligned access is allowed).
        unsafe {
            let src = [
                _mm_loadu_si128(px.as_ptr() as *const __m128i),
                _mm_loadu_si128(px.as_ptr().add(16) as *const __m128i),
                _mm_loadu_si128(px.as_ptr().add(32) as *const __m128i),
            ];
            let channel = |ch: usize| {
                _mm_or_si128(
                    _mm_or_si128(
                        _mm_shuffle_epi8(src[0], masks[ch][0]),
                        _mm_shuffle_epi8(src[1], masks[ch][1]),
                    ),
                    _mm_shuffle_epi8(src[2], masks[ch][2]),
                )
            };
            let rgb = [channel(0), channel(1), channel(2)];
            for half in 0..2 {
                let mut num = _mm256_setzero_si256();
                for ch in 0..3 {
                    let bytes = if half == 0 {
                        rgb[ch]
                    } else {
                        _mm_srli_si128::<8>(rgb[ch])
                    };
                    let wide = _mm256_cvtepu8_epi32(bytes);
                    num = _mm256_add_epi32(num, _mm256_mullo_epi32(wide, weights[ch]));
                }
                // numerators below 2^24 convert exactly; then one IEEE f32 division
                let q = _mm256_div_ps(_mm256_cvtepi32_ps(num), thousand);
                let dst = y.as_mut_ptr().add(8 * half);
                _mm256_storeu_pd(dst, _mm256_cvtps_pd(_mm256_castps256_ps128(q)));
                _mm256_storeu_pd(dst.add(4), _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(q)));
            }
        }
    }
    luma_plain(&rgb[blocks * 48..n * 3], &mut out[blocks * 16..n]);
}

/// The plain form of [`luma_rgb8`]: eight pixels at a time (integer numerators first,
/// then one vector division), so that the compiler vectorises it; same bits as
/// [`luma_pixel`].
#[inline(always)]
pub fn luma_plain(rgb: &[u8], out: &mut [f64]) {
    debug_assert_eq!(rgb.len(), out.len() * 3);
    let blocks = rgb.chunks_exact(24).zip(out.chunks_exact_mut(8));
    for (px, y) in blocks {
        let mut n = [0u32; 8];
        for (k, n) in n.iter_mut().enumerate() {
            *n = WEIGHT_R * px[3 * k] as u32
                + WEIGHT_G * px[3 * k + 1] as u32
                + WEIGHT_B * px[3 * k + 2] as u32;
        }
        for (y, &n) in y.iter_mut().zip(&n) {
            *y = (n as f32 / 1000.0) as f64;
        }
    }
    let done = out.len() / 8 * 8;
    for (px, y) in rgb[done * 3..].chunks_exact(3).zip(out[done..].iter_mut()) {
        *y = luma_pixel(px[0], px[1], px[2]) as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_601() {
        assert_eq!(WEIGHT_R + WEIGHT_G + WEIGHT_B, 1000);
        assert_eq!(luma_pixel(255, 255, 255), 255.0);
        assert_eq!(luma_pixel(0, 0, 0), 0.0);
        assert_eq!(luma_pixel(255, 0, 0), 76.245);
        assert_eq!(luma_pixel(0, 255, 0), 149.685);
        assert_eq!(luma_pixel(0, 0, 255), 29.07);
        // gray in, gray out, exactly
        for v in 0..=255u8 {
            assert_eq!(luma_pixel(v, v, v), v as f32);
        }
    }

    #[test]
    fn block_forms_equal_the_pixel_formula() {
        let rgb: Vec<u8> = (0..3 * 1001u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let mut b = vec![0.0; 1001];
        luma_plain(&rgb, &mut b);
        for (i, px) in rgb.chunks_exact(3).enumerate() {
            assert_eq!(b[i], luma_pixel(px[0], px[1], px[2]) as f64);
        }
        for isa in Isa::available() {
            let mut a = vec![0.0; 1001];
            luma_rgb8(isa, &rgb, &mut a);
            assert_eq!(a, b, "{isa:?}");
        }
    }

    #[test]
    fn vector_form_equals_the_pixel_formula_for_every_channel_value() {
        // every value in every channel position of a 16-pixel block, and short tails
        for ch in 0..3 {
            let mut rgb = vec![0u8; 3 * 256 + 3 * 5];
            for v in 0..256 {
                rgb[3 * v + ch] = v as u8;
                rgb[3 * v + (ch + 1) % 3] = (255 - v) as u8;
            }
            for (len, isa) in [256 + 5, 256, 17, 15, 1]
                .into_iter()
                .flat_map(|len| Isa::available().into_iter().map(move |isa| (len, isa)))
            {
                let mut y = vec![0.0; len];
                luma_rgb8(isa, &rgb[..3 * len], &mut y);
                for (i, px) in rgb[..3 * len].chunks_exact(3).enumerate() {
                    assert_eq!(
                        y[i],
                        luma_pixel(px[0], px[1], px[2]) as f64,
                        "{isa:?} {ch} {len} {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn division_is_f32() {
        // (299*10 + 587*200 + 114*30) / 1000 = 123.81 rounded once to f32
        assert_eq!(luma_pixel(10, 200, 30), 123_810_f32 / 1000.0);
        assert_eq!(luma_pixel(10, 200, 30), 123.81_f32);
    }
}
