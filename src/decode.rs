//! Image decoding: JPEG through libjpeg-turbo (the `mozjpeg` crate), everything else through
//! `image`.
//!
//! The seed read its images with Pillow, which decodes JPEG with libjpeg(-turbo): integer
//! IDCT and "fancy" chroma upsampling. Other decoders differ by ±1 in some channel values,
//! which is enough to move a shallow density minimum by one level on `cn.jpg`; so JPEG goes
//! through the same library. The decoder is called inside `catch_unwind`: libjpeg errors
//! surface as panics in the binding and must never reach the user.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Largest decoded image accepted, in bytes of RGB8: 512 MiB, the `image` crate's default
/// allocation limit, which guards every other format. A JPEG header can claim up to
/// 65 535 × 65 535 pixels (12.9 GB) in a file of a few hundred bytes; the size is checked
/// before anything is allocated.
pub const MAX_DECODED_BYTES: usize = 512 << 20;

/// Why a JPEG was not decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JpegError {
    /// Not decodable by libjpeg: not a JPEG, truncated, corrupt, or a flavour it cannot
    /// turn into RGB.
    #[error("{0}")]
    Undecodable(String),
    /// The header announces more than [`MAX_DECODED_BYTES`] of RGB.
    #[error("JPEG of {width}x{height} is too large to decode (more than {} MiB of RGB)", MAX_DECODED_BYTES >> 20)]
    TooLarge {
        /// Width the header announces.
        width: usize,
        /// Height the header announces.
        height: usize,
    },
}

/// True when `bytes` start with the JPEG start-of-image marker `FF D8 FF`.
pub fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.len() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
}

/// Where a JPEG ends: the byte just past its end-of-image marker (`FF D9`), found by reading
/// the JPEG, not by looking at the buffer's tail.
///
/// Camera drivers hand over whole buffers in which the JPEG is followed by zeros or by the
/// rest of an older, larger frame, and some report the whole buffer as used. So the marker
/// segments are walked by their lengths up to each scan, and each scan's entropy-coded data
/// is searched for the next marker (stuffed `FF 00`, fill bytes and restart markers are part
/// of the data). Bytes after the end-of-image marker are not part of the image. `None` when
/// the buffer holds no complete JPEG: not one, or cut off before its end (libjpeg would
/// decode such a JPEG with its missing part painted gray).
///
/// ```
/// use layercam::decode::jpeg_end;
/// let jpeg = [0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD9];
/// let mut buffer = jpeg.to_vec();
/// buffer.resize(64, 0); // what a driver's buffer looks like
/// assert_eq!(jpeg_end(&buffer), Some(jpeg.len()));
/// assert_eq!(jpeg_end(&jpeg[..9]), None);
/// ```
pub fn jpeg_end(bytes: &[u8]) -> Option<usize> {
    if !is_jpeg(bytes) {
        return None;
    }
    let mut p = 2; // past SOI
    loop {
        // a marker: FF, any number of FF fill bytes, then the marker code
        if *bytes.get(p)? != 0xFF {
            return None;
        }
        while *bytes.get(p)? == 0xFF {
            p += 1;
        }
        let code = bytes[p];
        p += 1;
        match code {
            // EOI before any scan: no image in it
            0xD9 => return None,
            // markers without a length: TEM, RST0-7, and a stray SOI
            0x01 | 0xD0..=0xD8 => continue,
            // a stuffed zero cannot start a marker segment
            0x00 => return None,
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*bytes.get(p)?, *bytes.get(p + 1)?]));
        if len < 2 {
            return None;
        }
        p += len;
        if code != 0xDA {
            continue;
        }
        // entropy-coded data of a scan, up to the next marker that is not a restart
        loop {
            let ff = p + bytes.get(p..)?.iter().position(|&b| b == 0xFF)?;
            let mut q = ff + 1;
            while *bytes.get(q)? == 0xFF {
                q += 1;
            }
            match bytes[q] {
                0x00 | 0xD0..=0xD7 => p = q + 1,
                0xD9 => return Some(q + 1),
                // another marker segment (tables between the scans of a progressive JPEG)
                _ => {
                    p = q - 1;
                    break;
                }
            }
        }
    }
}

/// Decodes a JPEG into RGB8 `(width, height, pixels)` with libjpeg-turbo, into `out`
/// (resized, its old contents overwritten). Never panics; the size is checked before
/// `out` grows. Bytes after the JPEG's end ([`jpeg_end`]) are ignored; a JPEG without one
/// is refused.
pub fn decode_jpeg_into(bytes: &[u8], out: &mut Vec<u8>) -> Result<(usize, usize), JpegError> {
    let undecodable = |m: &str| Err(JpegError::Undecodable(m.into()));
    if !is_jpeg(bytes) {
        return undecodable("not a JPEG (no start-of-image marker)");
    }
    // libjpeg only warns and pads a truncated image with gray: refuse it instead; what
    // follows the end (a driver's padding, an older frame) is not given to the decoder
    let Some(end) = jpeg_end(bytes) else {
        return undecodable("truncated JPEG (no end-of-image marker after its scan)");
    };
    let bytes = &bytes[..end];
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<(usize, usize), JpegError> {
        let corrupt = |e: std::io::Error| JpegError::Undecodable(format!("corrupt JPEG: {e}"));
        let d = mozjpeg::Decompress::new_mem(bytes).map_err(corrupt)?;
        let mut started = d.rgb().map_err(corrupt)?;
        let (w, h) = (started.width(), started.height());
        let size = w.checked_mul(h).and_then(|p| p.checked_mul(3));
        if size.is_none_or(|b| b > MAX_DECODED_BYTES) {
            return Err(JpegError::TooLarge {
                width: w,
                height: h,
            });
        }
        // every byte is written, or the frame is refused: no need to clear a recycled buffer
        resize_for_overwrite(out, w * h * 3);
        started.read_scanlines_into(&mut out[..]).map_err(corrupt)?;
        started.finish().map_err(corrupt)?;
        Ok((w, h))
    }));
    match result {
        Ok(Ok((w, h))) if w > 0 && h > 0 => Ok((w, h)),
        Ok(Ok((w, h))) => undecodable(&format!("JPEG has no pixels ({w}x{h})")),
        Ok(Err(e)) => Err(e),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("decoder failed");
            undecodable(&format!("corrupt JPEG: {msg}"))
        }
    }
}

/// Gives `buf` the length `len` for a writer that overwrites every byte: a recycled
/// buffer of the right length keeps its old contents instead of being zero-filled again
/// (6 MB a 1080p frame), and a buffer of another length is resized (zero-filled).
pub(crate) fn resize_for_overwrite(buf: &mut Vec<u8>, len: usize) {
    if buf.len() != len {
        buf.clear();
        buf.resize(len, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_jpeg_without_panicking() {
        let mut out = Vec::new();
        assert!(decode_jpeg_into(b"hello", &mut out).is_err());
        assert!(decode_jpeg_into(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 1, 2, 3], &mut out).is_err());
        assert!(decode_jpeg_into(&[], &mut out).is_err());
    }

    fn jpeg(progressive: bool) -> Vec<u8> {
        let (w, h) = (40, 24);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 7 % 253) as u8).collect();
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        c.set_size(w, h);
        c.set_quality(90.0);
        if progressive {
            c.set_progressive_mode();
        }
        let mut started = c.start_compress(Vec::new()).unwrap();
        started.write_scanlines(&rgb).unwrap();
        started.finish().unwrap()
    }

    #[test]
    fn jpeg_end_is_read_from_the_jpeg() {
        for progressive in [false, true] {
            let j = jpeg(progressive);
            assert_eq!(jpeg_end(&j), Some(j.len()), "progressive {progressive}");
            // zero padding, and an older frame's tail with an end marker of its own
            let mut padded = j.clone();
            padded.resize(j.len() * 3, 0);
            assert_eq!(jpeg_end(&padded), Some(j.len()));
            let mut over = j.clone();
            over.extend_from_slice(&j[j.len() / 2..]);
            assert_eq!(jpeg_end(&over), Some(j.len()));
            // cut anywhere before the end: no end found, also when zero-padded
            for cut in [3, 20, j.len() / 2, j.len() - 2, j.len() - 1] {
                assert_eq!(jpeg_end(&j[..cut]), None, "cut at {cut}");
                let mut z = j[..cut].to_vec();
                z.resize(j.len() * 2, 0);
                assert_eq!(jpeg_end(&z), None, "cut at {cut}, zero-padded");
            }
        }
    }

    #[test]
    fn jpeg_end_skips_stuffing_fill_and_restarts() {
        let scan = [0xFF, 0xDA, 0, 2];
        let mut j = vec![0xFF, 0xD8];
        // an APP segment whose payload holds an end marker (a thumbnail) is skipped by length
        j.extend_from_slice(&[0xFF, 0xE1, 0, 6, 0xFF, 0xD9, 0xFF, 0xD9]);
        j.extend_from_slice(&scan);
        j.extend_from_slice(&[1, 0xFF, 0x00, 2, 0xFF, 0xD0, 3, 0xFF, 0xFF, 0xD7, 4]);
        j.extend_from_slice(&[0xFF, 0xC4, 0, 3, 9]); // tables between two scans
        j.extend_from_slice(&scan);
        j.extend_from_slice(&[5, 0xFF, 0xFF, 0xD9]);
        assert_eq!(jpeg_end(&j), Some(j.len()));
        // no scan before the end: no image
        assert_eq!(jpeg_end(&[0xFF, 0xD8, 0xFF, 0xD9]), None);
        // a segment length running past the buffer
        assert_eq!(jpeg_end(&[0xFF, 0xD8, 0xFF, 0xE0, 0x40, 0, 1]), None);
        assert_eq!(jpeg_end(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 1, 1]), None);
    }

    #[test]
    fn trailing_bytes_do_not_change_the_image() {
        let j = jpeg(false);
        let mut alone = Vec::new();
        assert_eq!(decode_jpeg_into(&j, &mut alone), Ok((40, 24)));
        let mut with_tail = j.clone();
        with_tail.extend(std::iter::repeat_n(0x5A, 1000));
        let mut out = Vec::new();
        assert_eq!(decode_jpeg_into(&with_tail, &mut out), Ok((40, 24)));
        assert_eq!(out, alone);
    }

    proptest::proptest! {
        #[test]
        fn jpeg_end_never_panics_and_stays_in_bounds(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let mut b = vec![0xFF, 0xD8, 0xFF];
            b.extend_from_slice(&bytes);
            if let Some(end) = jpeg_end(&b) {
                proptest::prop_assert!(end <= b.len());
                proptest::prop_assert_eq!(&b[end - 2..end], &[0xFF, 0xD9]);
            }
        }
    }
}
