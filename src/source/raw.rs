//! Raw camera buffers to RGB8: MJPEG (guarded libjpeg-turbo), YUYV 4:2:2, gray, RGB, BGR.
//! Pure functions, so the corrupt-frame handling is tested without a camera.

/// Pixel formats a camera may deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawFormat {
    /// Motion JPEG: every buffer a JPEG image.
    Mjpeg,
    /// Packed YUYV 4:2:2 (Y0 U Y1 V), BT.601 limited range.
    Yuyv,
    /// 8-bit gray.
    Gray,
    /// Packed RGB888.
    Rgb,
    /// Packed BGR888.
    Bgr,
}

impl std::fmt::Display for RawFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Mjpeg => "MJPEG",
            Self::Yuyv => "YUYV",
            Self::Gray => "GRAY",
            Self::Rgb => "RGB",
            Self::Bgr => "BGR",
        })
    }
}

/// Decodes one camera buffer of `width × height` into `rgb`. Returns the decoded size (an
/// MJPEG frame carries its own), or a reason to drop the frame. Never panics.
pub fn decode_raw(
    format: RawFormat,
    width: usize,
    height: usize,
    bytes: &[u8],
    rgb: &mut Vec<u8>,
) -> Result<(usize, usize), String> {
    let need = |per: usize| -> Result<(), String> {
        let n = width * height * per;
        if bytes.len() < n {
            Err(format!(
                "short {format} buffer: {} of {n} bytes for {width}x{height}",
                bytes.len()
            ))
        } else {
            Ok(())
        }
    };
    match format {
        RawFormat::Mjpeg => crate::decode::decode_jpeg_into(bytes, rgb).map_err(|e| e.to_string()),
        RawFormat::Yuyv => {
            if !width.is_multiple_of(2) {
                return Err(format!("YUYV needs an even width, got {width}"));
            }
            need(2)?;
            crate::frame::resize_for_overwrite(rgb, width * height * 3);
            for (row, out) in bytes[..width * height * 2]
                .chunks_exact(2 * width)
                .zip(rgb.chunks_exact_mut(3 * width))
            {
                super::yuv::yuyv_row(&super::yuv::Bt601::LIMITED, row, out);
            }
            Ok((width, height))
        }
        RawFormat::Gray => {
            need(1)?;
            rgb.clear();
            rgb.extend(bytes[..width * height].iter().flat_map(|&g| [g, g, g]));
            Ok((width, height))
        }
        RawFormat::Rgb => {
            need(3)?;
            rgb.clear();
            rgb.extend_from_slice(&bytes[..width * height * 3]);
            Ok((width, height))
        }
        RawFormat::Bgr => {
            need(3)?;
            rgb.clear();
            rgb.extend(
                bytes[..width * height * 3]
                    .chunks_exact(3)
                    .flat_map(|p| [p[2], p[1], p[0]]),
            );
            Ok((width, height))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_buffers_are_reasons_not_panics() {
        let mut rgb = Vec::new();
        assert!(decode_raw(RawFormat::Mjpeg, 4, 4, b"garbage", &mut rgb).is_err());
        assert!(decode_raw(RawFormat::Mjpeg, 4, 4, &[0xFF, 0xD8, 0xFF, 0, 1], &mut rgb).is_err());
        let e = decode_raw(RawFormat::Yuyv, 4, 4, &[0; 10], &mut rgb).unwrap_err();
        assert!(e.contains("short YUYV"), "{e}");
        assert!(decode_raw(RawFormat::Rgb, 4, 4, &[0; 47], &mut rgb).is_err());
    }

    #[test]
    fn yuyv_gray_levels() {
        let mut rgb = Vec::new();
        let buf = [16, 128, 235, 128];
        assert_eq!(
            decode_raw(RawFormat::Yuyv, 2, 1, &buf, &mut rgb),
            Ok((2, 1))
        );
        assert_eq!(rgb, vec![0, 0, 0, 255, 255, 255]);
    }

    fn jpeg_16x8() -> Vec<u8> {
        let img =
            image::RgbImage::from_fn(16, 8, |x, y| image::Rgb([x as u8 * 16, y as u8 * 30, 90]));
        let mut jpg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpg, 95)
            .encode_image(&img)
            .unwrap();
        jpg
    }

    #[test]
    fn recycled_buffers_are_overwritten_whole() {
        let (w, h) = (16, 8);
        let bytes: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
        let jpg = jpeg_16x8();
        for format in [
            RawFormat::Yuyv,
            RawFormat::Gray,
            RawFormat::Rgb,
            RawFormat::Bgr,
            RawFormat::Mjpeg,
        ] {
            let input = if format == RawFormat::Mjpeg {
                &jpg
            } else {
                &bytes
            };
            let mut fresh = Vec::new();
            assert_eq!(decode_raw(format, w, h, input, &mut fresh), Ok((w, h)));
            // the same length (kept, not cleared), a longer and a shorter buffer
            for len in [fresh.len(), fresh.len() + 100, 7] {
                let mut dirty = vec![0xAA; len];
                assert_eq!(decode_raw(format, w, h, input, &mut dirty), Ok((w, h)));
                assert_eq!(dirty, fresh, "{format}, recycled buffer of {len} bytes");
            }
        }
    }

    #[test]
    fn mjpeg_round_trip() {
        let jpg = jpeg_16x8();
        let mut rgb = Vec::new();
        assert_eq!(
            decode_raw(RawFormat::Mjpeg, 0, 0, &jpg, &mut rgb),
            Ok((16, 8))
        );
        assert_eq!(rgb.len(), 16 * 8 * 3);
    }
}
