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

/// True when the end-of-image marker `FF D9` stands in the last 4 KiB (cameras and some
/// encoders pad after it).
pub fn has_end_marker(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(4096)..];
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

/// Decodes a JPEG into RGB8 `(width, height, pixels)` with libjpeg-turbo, into `out`
/// (resized, its old contents overwritten). Never panics; the size is checked before
/// `out` grows.
pub fn decode_jpeg_into(bytes: &[u8], out: &mut Vec<u8>) -> Result<(usize, usize), JpegError> {
    let undecodable = |m: &str| Err(JpegError::Undecodable(m.into()));
    if !is_jpeg(bytes) {
        return undecodable("not a JPEG (no start-of-image marker)");
    }
    if !has_end_marker(bytes) {
        // libjpeg only warns and pads a truncated image with gray: refuse it instead
        return undecodable("truncated JPEG (no end-of-image marker)");
    }
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
        crate::frame::resize_for_overwrite(out, w * h * 3);
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
}
