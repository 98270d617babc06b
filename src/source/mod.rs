//! Frame sources: camera, image files (one file or a folder), raw camera recordings,
//! YUV4MPEG2 (file or stdin), and the bundled demo sequence. A source runs on the capture thread.

pub mod camera;
pub mod demo;
pub mod files;
pub mod pollread;
pub mod raw;
pub mod rawdir;
pub mod y4m;
pub mod yuv;

use std::path::Path;

use crate::error::Result;
use crate::frame::Frame;

/// Opens a recording for replay: `-` (YUV4MPEG2 on stdin), a `.y4m` file or named pipe, a
/// raw camera recording (a folder with `camera.json`), or image files (one file, or a
/// folder's images in name order, those matching the glob `pattern` if given). Frames over
/// `max_pixels` are refused: a y4m stream's header is checked here, each image as it is
/// read. `stops` ends a wait for a pipe's header (Ctrl-C before the writer starts).
///
/// # Errors
///
/// The path cannot be opened, a y4m header is malformed or states a frame over
/// `max_pixels`, or a folder holds no image.
///
/// # Examples
///
/// ```no_run
/// use layercam::source::{open_replay, pollread::StopFlags, Next};
/// let mut source = open_replay("recording.y4m".as_ref(), None, 8_000_000, StopFlags::default())?;
/// while let Next::Frame(frame) = source.next()? {
///     println!("{}x{}", frame.width, frame.height);
/// }
/// # Ok::<(), layercam::Error>(())
/// ```
pub fn open_replay(
    path: &Path,
    pattern: Option<&str>,
    max_pixels: usize,
    stops: pollread::StopFlags,
) -> Result<Box<dyn FrameSource + Send>> {
    if path == Path::new("-") {
        return Ok(Box::new(
            y4m::Y4mSource::stdin(stops)?.with_max_pixels(max_pixels)?,
        ));
    }
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("y4m"))
    {
        return Ok(Box::new(
            y4m::Y4mSource::open_watching(path, stops)?.with_max_pixels(max_pixels)?,
        ));
    }
    if rawdir::is_raw_recording(path) {
        return Ok(Box::new(rawdir::RawRecordingSource::open(path)?));
    }
    Ok(Box::new(
        files::ImageFiles::open(path, pattern)?.with_max_pixels(max_pixels),
    ))
}

/// What a source yields next.
#[derive(Debug)]
pub enum Next {
    /// A frame.
    Frame(Frame),
    /// An input that could not be turned into a frame and was skipped (an unreadable file,
    /// a corrupt camera frame). Counted; fatal only in strict mode.
    Skipped {
        /// What was skipped (file name, or `camera frame N`).
        origin: String,
        /// Why.
        reason: String,
    },
    /// No frame this time, with a status to show (camera lost, reconnecting). The capture
    /// loop calls again.
    Stalled(String),
    /// No frame this time, and a message for the user (the camera's mode, a reconnect).
    /// The capture loop passes it on and calls again.
    Notice(String),
    /// The end of the stream.
    End,
}

/// Keeps `buf` as a source's spare frame buffer unless the spare already holds one at
/// least as large (one spare is enough: one buffer comes back per frame).
pub(crate) fn keep_spare(spare: &mut Vec<u8>, buf: Vec<u8>) {
    if buf.capacity() > spare.capacity() {
        *spare = buf;
    }
}

/// Whether a source is a live device (stale frames may be dropped) or a recording (every
/// frame matters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A camera.
    Live,
    /// Recorded frames.
    Replay,
}

/// A stream of frames, read on the capture thread. Sources are opened on that thread (a
/// camera handle cannot move between threads), see [`crate::runtime::SourceOpener`].
pub trait FrameSource {
    /// The next frame, a skipped input, or the end. `Err` is fatal for the stream.
    fn next(&mut self) -> Result<Next>;
    /// Live device or recording.
    fn kind(&self) -> SourceKind;
    /// Native frame rate, if the source knows it (y4m header, camera format).
    fn fps(&self) -> Option<f64> {
        None
    }
    /// Number of frames, if known in advance (for a progress bar).
    fn len_hint(&self) -> Option<u64> {
        None
    }
    /// Takes back the pixel buffer of a frame the stream is done with, to fill with a later
    /// frame instead of allocating one (a 1080p frame is 6 MB). The streaming worker hands
    /// back one buffer per frame. Sources that decode into buffers of their own drop it
    /// (the default).
    fn recycle(&mut self, buf: Vec<u8>) {
        drop(buf);
    }
    /// Starts again from the first frame (for `--loop`); false if the source cannot.
    fn rewind(&mut self) -> Result<bool> {
        Ok(false)
    }
    /// A short description for messages.
    fn describe(&self) -> String;
    /// The stream's stop flag: a source that can block in a read (stdin, a pipe) checks it
    /// while it waits, so that a stop request ends the wait. Called once the stream runs.
    fn watch_stop(&mut self, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        drop(stop);
    }
}
