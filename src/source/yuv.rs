//! BT.601 YUV → RGB8 in integer arithmetic (16-bit fixed point), shared by the y4m reader
//! and the camera's YUYV buffers. Pixels are converted in blocks of [`BLOCK`]: the
//! arithmetic runs on whole arrays of `i32` lanes (vectorised), then each block is
//! interleaved into RGB.

/// Fixed-point BT.601 coefficients (×65536).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bt601 {
    /// Luma scale.
    pub ky: i32,
    /// V → R.
    pub kr: i32,
    /// U → G (subtracted).
    pub kgu: i32,
    /// V → G (subtracted).
    pub kgv: i32,
    /// U → B.
    pub kb: i32,
    /// Luma offset (16 in limited range).
    pub yoff: i32,
}

impl Bt601 {
    /// Limited range (Y 16–235, chroma 16–240), the usual video range.
    pub const LIMITED: Self = Self {
        ky: 76309,
        kr: 104597,
        kgu: 25675,
        kgv: 53279,
        kb: 132201,
        yoff: 16,
    };
    /// Full range (Y and chroma 0–255).
    pub const FULL: Self = Self {
        ky: 65536,
        kr: 91881,
        kgu: 22554,
        kgv: 46802,
        kb: 116130,
        yoff: 0,
    };

    /// One pixel: luma `y`, chroma `u`, `v` centred on 0 (`c − 128`).
    #[inline(always)]
    pub fn pixel(&self, y: u8, u: i32, v: i32) -> [u8; 3] {
        let yy = (y as i32 - self.yoff) * self.ky;
        [
            clamp_u8((yy + self.kr * v + 32768) >> 16),
            clamp_u8((yy - self.kgu * u - self.kgv * v + 32768) >> 16),
            clamp_u8((yy + self.kb * u + 32768) >> 16),
        ]
    }
}

#[inline(always)]
fn clamp_u8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// Pixels per block.
pub const BLOCK: usize = 64;

/// One block: luma `y`, centred chroma `u`, `v` per pixel, into `out` (3 bytes a pixel,
/// at most [`BLOCK`] pixels; lanes beyond `out` are computed and dropped). Same bits as
/// [`Bt601::pixel`] on each pixel.
#[inline(always)]
pub fn block_to_rgb(
    k: &Bt601,
    y: &[i32; BLOCK],
    u: &[i32; BLOCK],
    v: &[i32; BLOCK],
    out: &mut [u8],
) {
    let (mut r, mut g, mut b) = ([0u8; BLOCK], [0u8; BLOCK], [0u8; BLOCK]);
    for j in 0..BLOCK {
        let yy = (y[j] - k.yoff) * k.ky;
        r[j] = clamp_u8((yy + k.kr * v[j] + 32768) >> 16);
        g[j] = clamp_u8((yy - k.kgu * u[j] - k.kgv * v[j] + 32768) >> 16);
        b[j] = clamp_u8((yy + k.kb * u[j] + 32768) >> 16);
    }
    for (j, px) in out.chunks_exact_mut(3).enumerate().take(BLOCK) {
        px[0] = r[j];
        px[1] = g[j];
        px[2] = b[j];
    }
}

crate::pipeline::simd::avx2_dispatch! {
    /// One row of packed YUYV 4:2:2 (`Y0 U Y1 V`, an even number of pixels) into RGB8.
    pub fn yuyv_row(k: &Bt601, packed: &[u8], out: &mut [u8]) => yuyv_row_plain
}

/// The plain form of [`yuyv_row`].
#[inline(always)]
pub fn yuyv_row_plain(k: &Bt601, packed: &[u8], out: &mut [u8]) {
    for (src, dst) in packed.chunks(2 * BLOCK).zip(out.chunks_mut(3 * BLOCK)) {
        let (mut y, mut u, mut v) = ([0i32; BLOCK], [0i32; BLOCK], [0i32; BLOCK]);
        for (p, quad) in src.chunks_exact(4).enumerate() {
            y[2 * p] = quad[0] as i32;
            y[2 * p + 1] = quad[2] as i32;
            u[2 * p] = quad[1] as i32 - 128;
            u[2 * p + 1] = quad[1] as i32 - 128;
            v[2 * p] = quad[3] as i32 - 128;
            v[2 * p + 1] = quad[3] as i32 - 128;
        }
        block_to_rgb(k, &y, &u, &v, dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuyv_rows_equal_the_pixel_formula() {
        for pixels in [2usize, 64, 130, 200] {
            let packed: Vec<u8> = (0..2 * pixels).map(|i| (i * 7919 % 256) as u8).collect();
            for k in [Bt601::LIMITED, Bt601::FULL] {
                let mut expect = Vec::new();
                for quad in packed.chunks_exact(4) {
                    let (u, v) = (quad[1] as i32 - 128, quad[3] as i32 - 128);
                    expect.extend(k.pixel(quad[0], u, v));
                    expect.extend(k.pixel(quad[2], u, v));
                }
                let mut got = vec![0u8; 3 * pixels];
                yuyv_row(&k, &packed, &mut got);
                assert_eq!(got, expect, "{pixels}");
                let mut plain = vec![0u8; 3 * pixels];
                yuyv_row_plain(&k, &packed, &mut plain);
                assert_eq!(plain, expect, "plain, {pixels}");
            }
        }
    }
}
