//! Raw camera recordings: a folder with `camera.json` (the camera's format, size, rate) and
//! each buffer exactly as the device delivered it, `frame_000000.raw`, `frame_000001.raw`, ….
//!
//! `layercam record --raw` writes one ([`RawRecorder`]); `layercam replay DIR` reads it
//! ([`RawRecordingSource`]) and decodes each buffer through the same code as a live camera
//! ([`super::raw::decode_raw`]). It is how a camera's behaviour is sent in as a bug report,
//! and how tests reproduce what real drivers deliver without one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::files::natural_cmp;
use super::raw::{decode_raw, RawFormat, RawLayout};
use super::{FrameSource, Next, SourceKind};
use crate::error::{Error, Result};
use crate::frame::Frame;

/// The name of a raw recording's description file.
pub const CAMERA_JSON: &str = "camera.json";

/// `camera.json`: what the buffers are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CameraJson {
    /// Four-character code: `MJPG`, `YUYV` (also `GREY`, `RGB3`, `BGR3`).
    pub format: String,
    /// Frame width.
    pub width: usize,
    /// Frame height.
    pub height: usize,
    /// Frame rate.
    pub fps: f64,
    /// Bytes per row when the driver pads rows (0 or absent: packed).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stride: usize,
    /// The device it came from, for the reader.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub device: String,
    /// The device's name, for the reader.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

fn is_zero(v: &usize) -> bool {
    *v == 0
}

impl CameraJson {
    /// The buffer layout it describes.
    pub fn layout(&self) -> Result<RawLayout> {
        let format = RawFormat::from_fourcc(&self.format).ok_or_else(|| {
            Error::Camera(format!(
                "{CAMERA_JSON}: unknown format '{}' (MJPG, YUYV, GREY, RGB3 or BGR3)",
                self.format
            ))
        })?;
        Ok(RawLayout {
            format,
            width: self.width,
            height: self.height,
            stride: self.stride,
        })
    }
}

/// True when `dir` is a raw recording (holds a `camera.json`).
pub fn is_raw_recording(dir: &Path) -> bool {
    dir.is_dir() && dir.join(CAMERA_JSON).is_file()
}

/// A raw recording read from disk: its description and its buffer files in order.
#[derive(Debug, Clone)]
pub struct RawRecording {
    /// What `camera.json` says.
    pub camera: CameraJson,
    layout: RawLayout,
    files: Vec<PathBuf>,
    dir: PathBuf,
}

impl RawRecording {
    /// Reads `dir/camera.json` and lists `dir/frame_*.raw` in natural order.
    pub fn open(dir: &Path) -> Result<Self> {
        let io = |path: PathBuf| move |source| Error::Io { path, source };
        let json_path = dir.join(CAMERA_JSON);
        let text = std::fs::read_to_string(&json_path).map_err(io(json_path.clone()))?;
        let camera: CameraJson = serde_json::from_str(&text).map_err(|e| Error::Io {
            path: json_path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        let layout = camera.layout()?;
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for e in std::fs::read_dir(dir).map_err(io(dir.to_path_buf()))? {
            let e = e.map_err(io(dir.to_path_buf()))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("frame_") && name.ends_with(".raw") {
                files.push((name, e.path()));
            }
        }
        files.sort_by(|a, b| natural_cmp(&a.0, &b.0));
        if files.is_empty() {
            return Err(Error::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "raw recording without frame_*.raw files",
                ),
            });
        }
        Ok(Self {
            camera,
            layout,
            files: files.into_iter().map(|(_, p)| p).collect(),
            dir: dir.to_path_buf(),
        })
    }

    /// The buffer files, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The buffers' layout.
    pub fn layout(&self) -> RawLayout {
        self.layout
    }
}

/// Frames of a raw recording, each buffer decoded as the live camera decodes it.
/// Undecodable buffers are skipped and counted, like broken image files.
#[derive(Debug)]
pub struct RawRecordingSource {
    rec: RawRecording,
    pos: usize,
    frame_index: u64,
    /// The file just read (reused: a buffer is read into it, not allocated).
    bytes: Vec<u8>,
    rgb: Vec<u8>,
}

impl RawRecordingSource {
    /// Opens the recording in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        Ok(Self {
            rec: RawRecording::open(dir)?,
            pos: 0,
            frame_index: 0,
            bytes: Vec::new(),
            rgb: Vec::new(),
        })
    }
}

impl FrameSource for RawRecordingSource {
    fn next(&mut self) -> Result<Next> {
        use std::io::Read;
        let Some(path) = self.rec.files.get(self.pos).cloned() else {
            return Ok(Next::End);
        };
        self.pos += 1;
        let origin = path.display().to_string();
        self.bytes.clear();
        let read = std::fs::File::open(&path).and_then(|mut f| f.read_to_end(&mut self.bytes));
        if let Err(e) = read {
            return Ok(Next::Skipped {
                origin,
                reason: e.to_string(),
            });
        }
        let mut rgb = std::mem::take(&mut self.rgb);
        match decode_raw(&self.rec.layout, &self.bytes, &mut rgb) {
            Ok((w, h)) => {
                let mut f = Frame::new(self.frame_index, w, h, rgb)?;
                f.origin = origin;
                self.frame_index += 1;
                Ok(Next::Frame(f))
            }
            Err(reason) => {
                self.rgb = rgb;
                Ok(Next::Skipped { origin, reason })
            }
        }
    }

    fn recycle(&mut self, buf: Vec<u8>) {
        super::keep_spare(&mut self.rgb, buf);
    }

    fn kind(&self) -> SourceKind {
        SourceKind::Replay
    }

    fn fps(&self) -> Option<f64> {
        Some(self.rec.camera.fps).filter(|f| f.is_finite() && *f > 0.0)
    }

    fn len_hint(&self) -> Option<u64> {
        Some(self.rec.files.len() as u64)
    }

    fn rewind(&mut self) -> Result<bool> {
        self.pos = 0;
        Ok(true)
    }

    fn describe(&self) -> String {
        format!(
            "{} (raw {} {}x{}, {} buffers)",
            self.rec.dir.display(),
            self.rec.camera.format,
            self.rec.camera.width,
            self.rec.camera.height,
            self.rec.files.len()
        )
    }
}

/// Writes a raw recording: `camera.json` first, then one file per buffer, each whole
/// (temp file + rename).
#[derive(Debug)]
pub struct RawRecorder {
    dir: PathBuf,
    written: u64,
}

impl RawRecorder {
    /// Creates `dir` if needed and writes its `camera.json`.
    pub fn create(dir: &Path, camera: &CameraJson) -> Result<Self> {
        crate::output::ensure_dir(dir)?;
        let json = serde_json::to_vec_pretty(camera).map_err(|e| Error::Io {
            path: dir.join(CAMERA_JSON),
            source: std::io::Error::other(e),
        })?;
        crate::output::write_atomic(&dir.join(CAMERA_JSON), &json)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            written: 0,
        })
    }

    /// Writes the next buffer as `frame_NNNNNN.raw`; returns its path.
    pub fn write(&mut self, buffer: &[u8]) -> Result<PathBuf> {
        let path = self.dir.join(format!("frame_{:06}.raw", self.written));
        crate::output::write_atomic(&path, buffer)?;
        self.written += 1;
        Ok(path)
    }

    /// Buffers written so far.
    pub fn written(&self) -> u64 {
        self.written
    }
}
