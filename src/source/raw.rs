//! Raw camera buffers to RGB8: MJPEG (guarded libjpeg-turbo), YUYV 4:2:2, gray, RGB, BGR.
//! Pure functions, so the corrupt-frame handling is tested without a camera, and the same
//! code decodes a live buffer and a raw recording of one ([`super::rawdir`]).

/// Pixel formats a camera may deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

impl RawFormat {
    /// Every format, in the order a camera's formats are preferred.
    pub const ALL: [RawFormat; 5] = [Self::Mjpeg, Self::Yuyv, Self::Gray, Self::Rgb, Self::Bgr];

    /// The V4L2 four-character code (`MJPG`, `YUYV`, `GREY`, `RGB3`, `BGR3`).
    pub fn fourcc(self) -> &'static str {
        match self {
            Self::Mjpeg => "MJPG",
            Self::Yuyv => "YUYV",
            Self::Gray => "GREY",
            Self::Rgb => "RGB3",
            Self::Bgr => "BGR3",
        }
    }

    /// The format of a four-character code; `JPEG` is taken as MJPEG (some drivers say so).
    ///
    /// ```
    /// use layercam::source::raw::RawFormat;
    /// assert_eq!(RawFormat::from_fourcc("MJPG"), Some(RawFormat::Mjpeg));
    /// assert_eq!(RawFormat::from_fourcc("H264"), None);
    /// ```
    pub fn from_fourcc(code: &str) -> Option<Self> {
        match code {
            "JPEG" => Some(Self::Mjpeg),
            _ => Self::ALL.into_iter().find(|f| f.fourcc() == code),
        }
    }

    /// Bytes per pixel of an uncompressed format (`None` for MJPEG).
    pub fn bytes_per_pixel(self) -> Option<usize> {
        match self {
            Self::Mjpeg => None,
            Self::Yuyv => Some(2),
            Self::Gray => Some(1),
            Self::Rgb | Self::Bgr => Some(3),
        }
    }
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

/// How a camera's buffers are laid out: format, frame size and the bytes from one row to
/// the next (drivers may pad rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawLayout {
    /// Pixel format.
    pub format: RawFormat,
    /// Frame width in pixels.
    pub width: usize,
    /// Frame height in pixels.
    pub height: usize,
    /// Bytes per row; 0 means packed rows (`width × bytes per pixel`). Unused for MJPEG.
    pub stride: usize,
}

impl RawLayout {
    /// Packed rows of `width × height` in `format`.
    pub fn packed(format: RawFormat, width: usize, height: usize) -> Self {
        Self {
            format,
            width,
            height,
            stride: 0,
        }
    }

    /// Bytes per row (the stride, or the packed row length); 0 for MJPEG.
    pub fn row_bytes(&self) -> usize {
        let packed = self.width * self.format.bytes_per_pixel().unwrap_or(0);
        if self.stride == 0 {
            packed
        } else {
            self.stride
        }
    }
}

/// Decodes one camera buffer into `rgb` (resized, every byte overwritten). Returns the
/// decoded size (an MJPEG frame carries its own), or a reason to drop the frame. Never
/// panics. The buffer may be longer than the frame (drivers round buffers up to whole
/// pages, and a JPEG is followed by whatever the buffer held before); a shorter one is
/// refused.
///
/// ```
/// use layercam::source::raw::{decode_raw, RawFormat, RawLayout};
/// let mut rgb = Vec::new();
/// // two YUYV pixels, black and white, in a buffer padded to 8 bytes
/// let buffer = [16, 128, 235, 128, 0, 0, 0, 0];
/// let size = decode_raw(&RawLayout::packed(RawFormat::Yuyv, 2, 1), &buffer, &mut rgb);
/// assert_eq!(size, Ok((2, 1)));
/// assert_eq!(rgb, [0, 0, 0, 255, 255, 255]);
/// ```
pub fn decode_raw(
    layout: &RawLayout,
    bytes: &[u8],
    rgb: &mut Vec<u8>,
) -> Result<(usize, usize), String> {
    let RawLayout {
        format,
        width,
        height,
        ..
    } = *layout;
    if format == RawFormat::Mjpeg {
        return crate::decode::decode_jpeg_into(bytes, rgb).map_err(|e| e.to_string());
    }
    let bpp = format.bytes_per_pixel().unwrap_or(1);
    let row = layout.row_bytes();
    if width == 0 || height == 0 {
        return Err(format!("{format} frame of {width}x{height} has no pixels"));
    }
    if row < width * bpp {
        return Err(format!(
            "{format} row of {row} bytes is shorter than {width} pixels"
        ));
    }
    if format == RawFormat::Yuyv && !width.is_multiple_of(2) {
        return Err(format!("YUYV needs an even width, got {width}"));
    }
    // the last row needs only its pixels, not the padding after them
    let need = row * (height - 1) + width * bpp;
    if bytes.len() < need {
        return Err(format!(
            "short {format} buffer: {} of {need} bytes for {width}x{height}",
            bytes.len()
        ));
    }
    crate::decode::resize_for_overwrite(rgb, width * height * 3);
    let isa = crate::simd::Isa::detect();
    let rows = bytes.chunks(row).zip(rgb.chunks_exact_mut(3 * width));
    match format {
        RawFormat::Yuyv => {
            for (src, out) in rows {
                super::yuv::yuyv_row(isa, &super::yuv::Bt601::LIMITED, &src[..2 * width], out);
            }
        }
        RawFormat::Gray => {
            for (src, out) in rows {
                for (&g, px) in src[..width].iter().zip(out.chunks_exact_mut(3)) {
                    px.fill(g);
                }
            }
        }
        RawFormat::Rgb => {
            for (src, out) in rows {
                out.copy_from_slice(&src[..3 * width]);
            }
        }
        RawFormat::Bgr => {
            for (src, out) in rows {
                for (p, px) in src[..3 * width]
                    .chunks_exact(3)
                    .zip(out.chunks_exact_mut(3))
                {
                    px.copy_from_slice(&[p[2], p[1], p[0]]);
                }
            }
        }
        RawFormat::Mjpeg => unreachable!("handled above"),
    }
    Ok((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_buffers_are_reasons_not_panics() {
        let mut rgb = Vec::new();
        assert!(decode_raw(
            &RawLayout::packed(RawFormat::Mjpeg, 4, 4),
            b"garbage",
            &mut rgb
        )
        .is_err());
        assert!(decode_raw(
            &RawLayout::packed(RawFormat::Mjpeg, 4, 4),
            &[0xFF, 0xD8, 0xFF, 0, 1],
            &mut rgb
        )
        .is_err());
        let e = decode_raw(
            &RawLayout::packed(RawFormat::Yuyv, 4, 4),
            &[0; 10],
            &mut rgb,
        )
        .unwrap_err();
        assert!(e.contains("short YUYV"), "{e}");
        assert!(decode_raw(&RawLayout::packed(RawFormat::Rgb, 4, 4), &[0; 47], &mut rgb).is_err());
    }

    #[test]
    fn yuyv_gray_levels() {
        let mut rgb = Vec::new();
        let buf = [16, 128, 235, 128];
        assert_eq!(
            decode_raw(&RawLayout::packed(RawFormat::Yuyv, 2, 1), &buf, &mut rgb),
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
            assert_eq!(
                decode_raw(&RawLayout::packed(format, w, h), input, &mut fresh),
                Ok((w, h))
            );
            // the same length (kept, not cleared), a longer and a shorter buffer
            for len in [fresh.len(), fresh.len() + 100, 7] {
                let mut dirty = vec![0xAA; len];
                assert_eq!(
                    decode_raw(&RawLayout::packed(format, w, h), input, &mut dirty),
                    Ok((w, h))
                );
                assert_eq!(dirty, fresh, "{format}, recycled buffer of {len} bytes");
            }
        }
    }

    #[test]
    fn mjpeg_round_trip() {
        let jpg = jpeg_16x8();
        let mut rgb = Vec::new();
        assert_eq!(
            decode_raw(&RawLayout::packed(RawFormat::Mjpeg, 0, 0), &jpg, &mut rgb),
            Ok((16, 8))
        );
        assert_eq!(rgb.len(), 16 * 8 * 3);
    }

    #[test]
    fn padded_rows_and_buffers() {
        let (w, h) = (6, 3);
        let packed: Vec<u8> = (0..w * h * 3).map(|i| (i * 11 % 256) as u8).collect();
        for format in [
            RawFormat::Yuyv,
            RawFormat::Gray,
            RawFormat::Rgb,
            RawFormat::Bgr,
        ] {
            let bpp = format.bytes_per_pixel().unwrap();
            let src = &packed[..w * h * bpp];
            let mut want = Vec::new();
            decode_raw(&RawLayout::packed(format, w, h), src, &mut want).unwrap();
            // rows padded to 32 bytes, the buffer rounded up past the last row
            let stride = 32;
            let mut padded = vec![0xEE; stride * h + 100];
            for y in 0..h {
                padded[y * stride..y * stride + w * bpp]
                    .copy_from_slice(&src[y * w * bpp..(y + 1) * w * bpp]);
            }
            let layout = RawLayout {
                format,
                width: w,
                height: h,
                stride,
            };
            let mut got = vec![1; 5];
            assert_eq!(decode_raw(&layout, &padded, &mut got), Ok((w, h)));
            assert_eq!(got, want, "{format}");
            // the last row's padding is not needed; one byte less than its pixels is refused
            let need = stride * (h - 1) + w * bpp;
            assert!(decode_raw(&layout, &padded[..need], &mut got).is_ok());
            let e = decode_raw(&layout, &padded[..need - 1], &mut got).unwrap_err();
            assert!(e.contains("short"), "{e}");
        }
    }

    #[test]
    fn fourcc_round_trip() {
        for f in RawFormat::ALL {
            assert_eq!(RawFormat::from_fourcc(f.fourcc()), Some(f));
        }
    }
}
