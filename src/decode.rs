//! Image decoding: JPEG through libjpeg-turbo (the `mozjpeg` crate), everything else through
//! `image`.
//!
//! The seed read its images with Pillow, which decodes JPEG with libjpeg(-turbo): integer
//! IDCT and "fancy" chroma upsampling. Other decoders differ by ±1 in some channel values,
//! which is enough to move a shallow density minimum by one level on `cn.jpg`; so JPEG goes
//! through the same library. The decoder is called inside `catch_unwind`: libjpeg errors
//! surface as panics in the binding and must never reach the user.

use std::panic::{catch_unwind, AssertUnwindSafe};

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

/// Decodes a JPEG into RGB8 `(width, height, pixels)` with libjpeg-turbo, appending to
/// `out` (cleared first). Returns a message on any failure, never panics.
pub fn decode_jpeg_into(bytes: &[u8], out: &mut Vec<u8>) -> Result<(usize, usize), String> {
    if !is_jpeg(bytes) {
        return Err("not a JPEG (no start-of-image marker)".into());
    }
    if !has_end_marker(bytes) {
        // libjpeg only warns and pads a truncated image with gray: refuse it instead
        return Err("truncated JPEG (no end-of-image marker)".into());
    }
    let result = catch_unwind(AssertUnwindSafe(|| -> std::io::Result<(usize, usize)> {
        let d = mozjpeg::Decompress::new_mem(bytes)?;
        let mut started = d.rgb()?;
        let (w, h) = (started.width(), started.height());
        out.clear();
        out.resize(w * h * 3, 0);
        started.read_scanlines_into(&mut out[..])?;
        started.finish()?;
        Ok((w, h))
    }));
    match result {
        Ok(Ok((w, h))) if w > 0 && h > 0 => Ok((w, h)),
        Ok(Ok((w, h))) => Err(format!("JPEG has no pixels ({w}x{h})")),
        Ok(Err(e)) => Err(format!("corrupt JPEG: {e}")),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("decoder failed");
            Err(format!("corrupt JPEG: {msg}"))
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
