//! Stage 1: ITU-R 601-2 luma in float, exactly as Pillow's `convert('F')`.
//!
//! `Y = (299 R + 587 G + 114 B) / 1000`: the numerator is an exact integer, the one division
//! is done in `f32`, so the result is bit-identical to Pillow. (The `image` crate's
//! `to_luma8` uses Rec.709 weights and rounds: it is *not* this.)

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

super::simd::avx2_dispatch! {
    /// Writes the luma of `rgb` (3 bytes a pixel) into `out` (one value a pixel), as `f64`
    /// values of the exact `f32` result (the zoom prefilter works in `f64`).
    pub fn luma_rgb8(rgb: &[u8], out: &mut [f64]) => luma_plain
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
        let rgb: Vec<u8> = (0..3 * 1001u32).map(|i| (i * 97 % 256) as u8).collect();
        let mut a = vec![0.0; 1001];
        let mut b = vec![0.0; 1001];
        luma_rgb8(&rgb, &mut a);
        luma_plain(&rgb, &mut b);
        for (i, px) in rgb.chunks_exact(3).enumerate() {
            assert_eq!(a[i], luma_pixel(px[0], px[1], px[2]) as f64);
            assert_eq!(b[i], a[i]);
        }
    }

    #[test]
    fn division_is_f32() {
        // (299*10 + 587*200 + 114*30) / 1000 = 123.81 rounded once to f32
        assert_eq!(luma_pixel(10, 200, 30), 123_810_f32 / 1000.0);
        assert_eq!(luma_pixel(10, 200, 30), 123.81_f32);
    }
}
