//! BT.601 YUV → RGB8 in integer arithmetic (16-bit fixed point), shared by the y4m reader
//! and the camera's YUYV buffers. Pixels are converted in blocks of [`BLOCK`]: the
//! arithmetic runs on whole arrays of `i32` lanes (vectorised), then each block is
//! interleaved into RGB.

use crate::simd::Isa;

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
    isa: Isa,
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
    store_rgb(isa, &r, &g, &b, out);
}

/// Interleaves a block's channels into `out` (3 bytes a pixel, at most [`BLOCK`] pixels).
/// A whole block goes through byte shuffles with AVX2 (byte-by-byte stores would be most
/// of the conversion's time), a partial one byte by byte.
#[inline(always)]
fn store_rgb(isa: Isa, r: &[u8; BLOCK], g: &[u8; BLOCK], b: &[u8; BLOCK], out: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if out.len() == 3 * BLOCK && isa.avx2() {
        // SAFETY: `isa` is a set this CPU has, and it includes AVX2.
        unsafe { store_rgb_avx2(r, g, b, out) };
        return;
    }
    let _ = isa;
    store_rgb_plain(r, g, b, out)
}

/// The plain form of [`store_rgb`].
#[inline(always)]
fn store_rgb_plain(r: &[u8; BLOCK], g: &[u8; BLOCK], b: &[u8; BLOCK], out: &mut [u8]) {
    for (j, px) in out.chunks_exact_mut(3).enumerate().take(BLOCK) {
        px[0] = r[j];
        px[1] = g[j];
        px[2] = b[j];
    }
}

/// Shuffle masks of [`store_rgb_avx2`]: byte `p` of output chunk `k` (of three 16-byte
/// chunks per 16 pixels) is byte `(16k + p) / 3` of channel `(16k + p) % 3`; the other two
/// channels' masks zero that byte (high bit set).
#[cfg(target_arch = "x86_64")]
const RGB_MASKS: [[[i8; 16]; 3]; 3] = {
    let mut m = [[[-128i8; 16]; 3]; 3];
    let mut k = 0;
    while k < 3 {
        let mut p = 0;
        while p < 16 {
            let q = 16 * k + p;
            m[k][q % 3][p] = (q / 3) as i8;
            p += 1;
        }
        k += 1;
    }
    m
};

/// [`store_rgb`] for a whole block with SSSE3 byte shuffles (enabled with AVX2): per 16
/// pixels, each 16-byte output chunk is three shuffles (one per channel) or-ed together.
/// Only moves bytes: the same output as [`store_rgb_plain`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn store_rgb_avx2(r: &[u8; BLOCK], g: &[u8; BLOCK], b: &[u8; BLOCK], out: &mut [u8]) {
    use std::arch::x86_64::*;
    assert!(out.len() >= 3 * BLOCK);
    let mask = |k: usize, c: usize| {
        // SAFETY: reads the 16 bytes of one mask.
        unsafe { _mm_loadu_si128(RGB_MASKS[k][c].as_ptr().cast()) }
    };
    for group in 0..BLOCK / 16 {
        // SAFETY: bytes 16·group .. +16 of each channel, and 48 bytes of `out` from
        // 48·group, are in bounds (BLOCK is a multiple of 16; asserted above).
        unsafe {
            let at = 16 * group;
            let ch = [
                _mm_loadu_si128(r.as_ptr().add(at).cast()),
                _mm_loadu_si128(g.as_ptr().add(at).cast()),
                _mm_loadu_si128(b.as_ptr().add(at).cast()),
            ];
            for k in 0..3 {
                let v = _mm_or_si128(
                    _mm_or_si128(
                        _mm_shuffle_epi8(ch[0], mask(k, 0)),
                        _mm_shuffle_epi8(ch[1], mask(k, 1)),
                    ),
                    _mm_shuffle_epi8(ch[2], mask(k, 2)),
                );
                _mm_storeu_si128(out.as_mut_ptr().add(3 * at + 16 * k).cast(), v);
            }
        }
    }
}

crate::simd::avx2_dispatch! {
    /// One row of packed YUYV 4:2:2 (`Y0 U Y1 V`, an even number of pixels) into RGB8.
    pub fn yuyv_row(isa: Isa, k: &Bt601, packed: &[u8], out: &mut [u8]) => yuyv_row_with
}

/// The plain form of [`yuyv_row`].
pub fn yuyv_row_plain(k: &Bt601, packed: &[u8], out: &mut [u8]) {
    yuyv_row_with(Isa::plain(), k, packed, out)
}

/// [`yuyv_row`]'s body, its block stores in the forms `isa` allows.
#[inline(always)]
fn yuyv_row_with(isa: Isa, k: &Bt601, packed: &[u8], out: &mut [u8]) {
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
        block_to_rgb(isa, k, &y, &u, &v, dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffled_interleave_equals_the_plain_one() {
        let ch = |seed: usize| -> [u8; BLOCK] { std::array::from_fn(|i| (i * seed % 256) as u8) };
        let (r, g, b) = (ch(7), ch(13), ch(251));
        let mut plain = vec![0u8; 3 * BLOCK];
        store_rgb_plain(&r, &g, &b, &mut plain);
        assert_eq!(&plain[..6], &[r[0], g[0], b[0], r[1], g[1], b[1]]);
        let mut chosen = vec![0xAAu8; 3 * BLOCK];
        store_rgb(Isa::detect(), &r, &g, &b, &mut chosen);
        assert_eq!(chosen, plain);
        #[cfg(target_arch = "x86_64")]
        if Isa::detect().avx2() {
            let mut shuffled = vec![0xAAu8; 3 * BLOCK];
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe { store_rgb_avx2(&r, &g, &b, &mut shuffled) };
            assert_eq!(shuffled, plain);
        }
        // a partial block: only its pixels are written
        let mut part = vec![0xAAu8; 3 * 5 + 2];
        store_rgb(Isa::detect(), &r, &g, &b, &mut part);
        assert_eq!(&part[..15], &plain[..15]);
        assert_eq!(&part[15..], &[0xAA, 0xAA]);
    }

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
                yuyv_row(Isa::detect(), &k, &packed, &mut got);
                assert_eq!(got, expect, "{pixels}");
                let mut plain = vec![0u8; 3 * pixels];
                yuyv_row_plain(&k, &packed, &mut plain);
                assert_eq!(plain, expect, "plain, {pixels}");
            }
        }
    }
}
