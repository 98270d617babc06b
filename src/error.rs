//! Typed errors of the library.

use std::path::PathBuf;

/// Everything that can go wrong inside the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A frame with no pixels (width or height 0).
    #[error("frame is empty ({width}x{height}): nothing to layer")]
    EmptyFrame {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
    },
    /// The pixel buffer does not match the stated size.
    #[error("frame buffer holds {actual} bytes, {width}x{height} RGB needs {expected}")]
    BufferSize {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
        /// Bytes needed.
        expected: usize,
        /// Bytes given.
        actual: usize,
    },
    /// A frame larger than the configured pixel limit.
    #[error("frame {width}x{height} has {pixels} pixels, more than the limit of {limit}")]
    TooLarge {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
        /// width × height.
        pixels: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A parameter outside its valid range.
    #[error("invalid parameter {name} = {value}: {expected}")]
    InvalidParam {
        /// Parameter name as the CLI spells it.
        name: &'static str,
        /// The rejected value, printed.
        value: String,
        /// The valid range, in words.
        expected: &'static str,
    },
    /// An image file that could not be read or decoded.
    #[error("cannot read image {path}")]
    Image {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        #[source]
        source: image::ImageError,
    },
    /// Any other I/O failure, with the path it concerns.
    #[error("{path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A malformed or unsupported YUV4MPEG2 stream.
    #[error("y4m: {0}")]
    Y4m(String),
    /// A failure of the camera backend.
    #[error("camera: {0}")]
    Camera(String),
    /// A stream thread that could not start, stop or finish.
    #[error("{0}")]
    Thread(String),
    /// The window could not be opened or updated.
    #[error("window: {0}")]
    Window(String),
    /// A read ended by a stop request (Ctrl-C, a closed window) while it waited for data:
    /// the end of the stream, not a failure.
    #[error("stopped")]
    Stopped,
    /// A looped replay whose whole pass gave no frame (nothing decodes): looping would spin.
    #[error("{0}: a whole pass gave no frame, nothing to loop")]
    NothingToLoop(String),
    /// A buffer the size of a frame could not be allocated.
    #[error("cannot allocate {bytes} bytes for a {width}x{height} frame (out of memory)")]
    OutOfMemory {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
        /// Bytes asked for.
        bytes: usize,
    },
    /// The recogniser: missing language data, an image it refused, a failed recognition.
    #[error("OCR: {0}")]
    Ocr(String),
    /// Something this machine or build cannot do (an instruction set the CPU lacks).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// No font to draw text with: fontconfig finds none, or the file is not a font.
    #[error("font: {0}")]
    Font(String),
    /// A record could not be serialised.
    #[error("cannot write JSON")]
    Json(#[from] serde_json::Error),
}

/// `text` with its control characters escaped (`\n`, `\u{1b}`, …), for a message that
/// quotes an input (a file name, a header): what reaches a terminal is never a control
/// sequence from the input.
///
/// ```
/// assert_eq!(layercam::error::printable("a\x1b[2Jb\tc"), "a\\u{1b}[2Jb\\tc");
/// ```
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Result alias of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `e` and its causes on one line (`outer: cause: cause`), control characters escaped:
/// how a library error is shown inside another message (a warning, a status line).
///
/// # Examples
///
/// ```
/// let e = layercam::Error::Io {
///     path: "frames/a.png".into(),
///     source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
/// };
/// assert_eq!(layercam::error::with_causes(&e), "frames/a.png: no such file");
/// ```
pub fn with_causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut line = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        line.push_str(": ");
        line.push_str(&c.to_string());
        cause = c.source();
    }
    printable(&line).into_owned()
}
