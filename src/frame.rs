//! Frames: RGB8 pixels with their size, sequence index and capture time.

use std::time::Instant;

use crate::error::{Error, Result};

/// A borrowed RGB8 image (row-major, 3 bytes a pixel, no padding).
#[derive(Debug, Clone, Copy)]
pub struct RgbView<'a> {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height * 3` bytes.
    pub data: &'a [u8],
}

impl<'a> RgbView<'a> {
    /// Wraps a buffer, checking that it matches the size and is not empty.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyFrame`] for a zero size; [`Error::BufferSize`] when `data` is not
    /// `width × height × 3` bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use layercam::RgbView;
    ///
    /// let rgb = vec![0u8; 4 * 3 * 3];
    /// assert!(RgbView::new(4, 3, &rgb).is_ok());
    /// assert!(RgbView::new(4, 4, &rgb).is_err());
    /// ```
    pub fn new(width: usize, height: usize, data: &'a [u8]) -> Result<Self> {
        if width == 0 || height == 0 {
            return Err(Error::EmptyFrame { width, height });
        }
        let expected = width
            .checked_mul(height)
            .and_then(|p| p.checked_mul(3))
            .unwrap_or(usize::MAX);
        if data.len() != expected {
            return Err(Error::BufferSize {
                width,
                height,
                expected,
                actual: data.len(),
            });
        }
        Ok(Self {
            width,
            height,
            data,
        })
    }
}

/// An owned frame as it travels from a source to the worker.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Sequence number given by the source, from 0.
    pub index: u64,
    /// When the frame was captured (or read, for replay).
    pub captured: Instant,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// RGB8 pixels, `width * height * 3` bytes.
    pub rgb: Vec<u8>,
    /// Where the frame came from (file name, or `camera`, `stdin`), for messages and output.
    pub origin: String,
}

impl Frame {
    /// Builds a frame from an RGB8 buffer, checking its size.
    pub fn new(index: u64, width: usize, height: usize, rgb: Vec<u8>) -> Result<Self> {
        RgbView::new(width, height, &rgb)?;
        Ok(Self {
            index,
            captured: Instant::now(),
            width,
            height,
            rgb,
            origin: String::new(),
        })
    }

    /// A borrowed view of the pixels.
    pub fn view(&self) -> RgbView<'_> {
        RgbView {
            width: self.width,
            height: self.height,
            data: &self.rgb,
        }
    }
}

/// Converts a decoded image of any colour type to an RGB8 frame.
///
/// Gray stays gray (R = G = B, so the 601 luma gives the gray value back exactly), alpha is
/// dropped without compositing (as Pillow's `convert('F')` does), 16-bit channels are scaled
/// to 8 bits.
pub fn frame_from_image(index: u64, img: image::DynamicImage) -> Result<Frame> {
    let rgb = img.to_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    Frame::new(index, w, h, rgb.into_raw())
}

/// Reads an image file (any format the enabled `image` features decode) into a frame.
///
/// JPEG files are decoded by libjpeg-turbo, like the seed's Pillow (see [`crate::decode`]).
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read; [`Error::Image`] when it holds no image
/// the decoders take; [`Error::TooLarge`] over the default pixel limit.
///
/// # Examples
///
/// ```no_run
/// let frame = layercam::read_image("fixtures/poster_00.png".as_ref(), 0)?;
/// assert_eq!(frame.rgb.len(), frame.width * frame.height * 3);
/// # Ok::<(), layercam::Error>(())
/// ```
pub fn read_image(path: &std::path::Path, index: u64) -> Result<Frame> {
    read_image_limited(path, index, crate::pipeline::DEFAULT_MAX_PIXELS)
}

/// [`read_image`], refusing an image of more than `max_pixels` pixels before decoding it
/// (its header says its size: a file of a few kilobytes can claim gigapixels).
///
/// # Errors
///
/// As [`read_image`], with [`Error::TooLarge`] over `max_pixels`.
pub fn read_image_limited(path: &std::path::Path, index: u64, max_pixels: usize) -> Result<Frame> {
    let io_err = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(path).map_err(io_err)?;
    let mut frame = decode_image_limited(&bytes, index, max_pixels).map_err(|e| match e {
        // the size is refused from the header: the message names the file
        e @ Error::TooLarge { .. } => Error::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
        },
        Error::Image { source, .. } => Error::Image {
            path: path.to_path_buf(),
            source,
        },
        other => other,
    })?;
    frame.origin = path.display().to_string();
    Ok(frame)
}

/// Decodes an encoded image held in memory into a frame.
pub fn decode_image(bytes: &[u8], index: u64) -> Result<Frame> {
    decode_image_limited(bytes, index, crate::pipeline::DEFAULT_MAX_PIXELS)
}

/// Bytes a decoder may allocate per pixel: 16-bit RGBA.
const DECODE_BYTES_PER_PIXEL: u64 = 8;

/// [`decode_image`], refusing an image of more than `max_pixels` pixels from its header,
/// before anything is decoded; the `image` crate's allocation limit is then set to what
/// such an image needs, as a second guard.
pub fn decode_image_limited(bytes: &[u8], index: u64, max_pixels: usize) -> Result<Frame> {
    let reader = || {
        image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| Error::Image {
                path: std::path::PathBuf::new(),
                source: image::ImageError::IoError(e),
            })
    };
    // the size the header claims; a header that cannot be read is the decoder's to report
    if let Ok((w, h)) = reader()?.into_dimensions() {
        crate::pipeline::check_pixels(w as usize, h as usize, max_pixels)?;
    }
    if crate::decode::is_jpeg(bytes) {
        let jpeg_error = |e: crate::decode::JpegError| Error::Image {
            path: std::path::PathBuf::new(),
            source: image::ImageError::Decoding(image::error::DecodingError::new(
                image::error::ImageFormatHint::Exact(image::ImageFormat::Jpeg),
                e.to_string(),
            )),
        };
        let mut rgb = Vec::new();
        match crate::decode::decode_jpeg_into(bytes, &mut rgb) {
            Ok((w, h)) => return Frame::new(index, w, h, rgb),
            Err(e @ crate::decode::JpegError::TooLarge { .. }) => return Err(jpeg_error(e)),
            Err(e) if crate::decode::jpeg_end(bytes).is_none() => return Err(jpeg_error(e)),
            // CMYK and other JPEG flavours libjpeg cannot turn into RGB: let `image` try
            Err(_) => {}
        }
    }
    let mut reader = reader()?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some((max_pixels as u64).saturating_mul(DECODE_BYTES_PER_PIXEL) + (1 << 20));
    reader.limits(limits);
    let img = reader.decode().map_err(|source| Error::Image {
        path: std::path::PathBuf::new(),
        source,
    })?;
    frame_from_image(index, img)
}
