//! Webcam capture through `nokhwa` (V4L2 on Linux). Only this file knows nokhwa.
//!
//! The [`CameraSource`] owns a `nokhwa::Camera` on the capture thread (not
//! `CallbackCamera`). It prefers MJPEG and falls back to YUYV, and decodes buffers itself
//! ([`super::raw`]): nokhwa's MJPEG decoder panics on non-JPEG bytes, ours checks the start
//! marker and contains libjpeg errors, so a corrupt frame is dropped and counted.
//! When frames stop coming (errors for longer than the watchdog period), the camera is
//! closed and reopened with backoff, or the stream fails with `exit_on_loss`.

use std::time::{Duration, Instant};

use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
    Resolution,
};
use nokhwa::Camera;

use super::raw::{decode_raw, RawFormat};
use super::{FrameSource, Next, SourceKind};
use crate::error::{Error, Result};
use crate::frame::Frame;

/// A camera known to the system, with the formats it offers.
#[derive(Debug, Clone)]
pub struct CameraDescription {
    /// Index to pass to `--camera`.
    pub index: u32,
    /// Human-readable name.
    pub name: String,
    /// Backend description (device path, driver).
    pub detail: String,
    /// Supported formats as `FORMAT WxH@FPS`, or why they could not be read.
    pub formats: Vec<String>,
}

/// Lists cameras and their formats. An empty list means none was found.
pub fn list_cameras() -> Result<Vec<CameraDescription>> {
    let infos = nokhwa::query(ApiBackend::Auto).map_err(|e| Error::Camera(e.to_string()))?;
    let mut out = Vec::new();
    for info in infos {
        let index = match info.index() {
            CameraIndex::Index(i) => *i,
            CameraIndex::String(s) => s.parse().unwrap_or(0),
        };
        let formats = match Camera::new(
            info.index().clone(),
            RequestedFormat::new::<RgbFormat>(RequestedFormatType::None),
        )
        .and_then(|mut c| c.compatible_camera_formats())
        {
            Ok(mut f) => {
                f.sort_by_key(|f| (f.format(), f.width(), f.height(), f.frame_rate()));
                f.iter()
                    .map(|f| {
                        format!(
                            "{} {}x{}@{}",
                            f.format(),
                            f.width(),
                            f.height(),
                            f.frame_rate()
                        )
                    })
                    .collect()
            }
            Err(e) => vec![format!("(formats unavailable: {e})")],
        };
        out.push(CameraDescription {
            index,
            name: info.human_name(),
            detail: info.description().to_string(),
            formats,
        });
    }
    Ok(out)
}

/// What to ask the camera for.
#[derive(Debug, Clone, Copy)]
pub struct CameraRequest {
    /// Device index.
    pub index: u32,
    /// Wanted frame size, if any.
    pub size: Option<(u32, u32)>,
    /// Wanted frame rate, if any.
    pub fps: Option<u32>,
    /// Fail the stream when the camera is lost, instead of reopening it.
    pub exit_on_loss: bool,
}

/// Frames from a webcam. Not `Send` (nokhwa's camera is not): open it on the capture
/// thread.
pub struct CameraSource {
    request: CameraRequest,
    camera: Option<Camera>,
    format: Option<CameraFormat>,
    index: u64,
    last_ok: Instant,
    backoff: Duration,
    next_attempt: Instant,
    /// The buffer the next frame is decoded into (a recycled one, or empty).
    rgb: Vec<u8>,
}

impl std::fmt::Debug for CameraSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraSource")
            .field("request", &self.request)
            .field("format", &self.format)
            .finish()
    }
}

/// Time without a good frame after which the camera counts as lost.
pub const WATCHDOG: Duration = Duration::from_millis(1500);

fn open(req: &CameraRequest) -> Result<(Camera, CameraFormat)> {
    let (w, h) = req.size.unwrap_or((1280, 720));
    let fps = req.fps.unwrap_or(30);
    let mut last_err = String::new();
    for fmt in [FrameFormat::MJPEG, FrameFormat::YUYV] {
        let wanted = CameraFormat::new(Resolution::new(w, h), fmt, fps);
        let only = [fmt];
        let request = RequestedFormat::with_formats(RequestedFormatType::Closest(wanted), &only);
        match Camera::new(CameraIndex::Index(req.index), request) {
            Ok(mut cam) => match cam.open_stream() {
                Ok(()) => {
                    let f = cam.camera_format();
                    return Ok((cam, f));
                }
                Err(e) => last_err = format!("{fmt}: {e}"),
            },
            Err(e) => last_err = format!("{fmt}: {e}"),
        }
    }
    let offered = list_cameras()
        .ok()
        .and_then(|l| l.into_iter().find(|c| c.index == req.index))
        .map(|c| format!("; it offers: {}", c.formats.join(", ")))
        .unwrap_or_else(|| "; `layercam cameras` lists what exists".into());
    Err(Error::Camera(format!(
        "cannot open camera {} as MJPEG or YUYV ({last_err}){offered}",
        req.index
    )))
}

impl CameraSource {
    /// Opens the camera (MJPEG preferred, YUYV fallback).
    pub fn open(request: CameraRequest) -> Result<Self> {
        let (camera, format) = open(&request)?;
        Ok(Self {
            request,
            camera: Some(camera),
            format: Some(format),
            index: 0,
            last_ok: Instant::now(),
            backoff: Duration::from_millis(250),
            next_attempt: Instant::now(),
            rgb: Vec::new(),
        })
    }

    fn lost(&mut self, why: String) -> Result<Next> {
        self.camera = None;
        if self.request.exit_on_loss {
            return Err(Error::Camera(format!(
                "camera {} lost: {why}",
                self.request.index
            )));
        }
        self.next_attempt = Instant::now() + self.backoff;
        self.backoff = (self.backoff * 2).min(Duration::from_secs(4));
        Ok(Next::Stalled(format!("camera lost ({why}); retrying")))
    }
}

impl FrameSource for CameraSource {
    fn recycle(&mut self, buf: Vec<u8>) {
        super::keep_spare(&mut self.rgb, buf);
    }

    fn next(&mut self) -> Result<Next> {
        if self.camera.is_none() {
            let now = Instant::now();
            if now < self.next_attempt {
                std::thread::sleep((self.next_attempt - now).min(Duration::from_millis(100)));
                return Ok(Next::Stalled("camera lost; retrying".into()));
            }
            match open(&self.request) {
                Ok((c, f)) => {
                    self.camera = Some(c);
                    self.format = Some(f);
                    self.last_ok = Instant::now();
                    self.backoff = Duration::from_millis(250);
                }
                Err(e) => return self.lost(e.to_string()),
            }
        }
        let Some(cam) = self.camera.as_mut() else {
            return Ok(Next::Stalled("camera lost; retrying".into()));
        };
        match cam.frame() {
            Ok(buf) => {
                let res = buf.resolution();
                let fmt = match buf.source_frame_format() {
                    FrameFormat::MJPEG => RawFormat::Mjpeg,
                    FrameFormat::YUYV => RawFormat::Yuyv,
                    FrameFormat::GRAY => RawFormat::Gray,
                    FrameFormat::RAWRGB => RawFormat::Rgb,
                    FrameFormat::RAWBGR => RawFormat::Bgr,
                    FrameFormat::NV12 => {
                        return Ok(Next::Skipped {
                            origin: format!("camera frame {}", self.index),
                            reason: "NV12 frames are not supported".into(),
                        })
                    }
                };
                let mut rgb = std::mem::take(&mut self.rgb);
                match decode_raw(
                    fmt,
                    res.width() as usize,
                    res.height() as usize,
                    buf.buffer(),
                    &mut rgb,
                ) {
                    Ok((w, h)) => {
                        self.last_ok = Instant::now();
                        let mut f = Frame::new(self.index, w, h, rgb)?;
                        f.origin = format!("camera{}#{}", self.request.index, self.index);
                        self.index += 1;
                        Ok(Next::Frame(f))
                    }
                    Err(reason) => {
                        self.rgb = rgb;
                        Ok(Next::Skipped {
                            origin: format!("camera frame {}", self.index),
                            reason,
                        })
                    }
                }
            }
            Err(e) => {
                if self.last_ok.elapsed() > WATCHDOG {
                    self.lost(e.to_string())
                } else {
                    std::thread::sleep(Duration::from_millis(20));
                    Ok(Next::Stalled(format!("camera error: {e}")))
                }
            }
        }
    }

    fn kind(&self) -> SourceKind {
        SourceKind::Live
    }

    fn fps(&self) -> Option<f64> {
        self.format.map(|f| f.frame_rate() as f64)
    }

    fn describe(&self) -> String {
        match self.format {
            Some(f) => format!(
                "camera {} ({} {}x{}@{})",
                self.request.index,
                f.format(),
                f.width(),
                f.height(),
                f.frame_rate()
            ),
            None => format!("camera {}", self.request.index),
        }
    }
}
