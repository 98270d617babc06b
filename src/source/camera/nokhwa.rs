//! Cameras through `nokhwa`: the backend on platforms other than Linux (AVFoundation,
//! Media Foundation), and on Linux when `LAYERCAM_CAMERA_BACKEND=nokhwa`.
//!
//! Limits that come from nokhwa and that the V4L2 backend does not have: a read has no
//! timeout (a stalled camera blocks the capture thread until it delivers again), and each
//! frame is copied out of the driver's buffer by nokhwa.

use std::time::Duration;

use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
    Resolution,
};
use nokhwa::Camera;

use super::{CameraSystem, CaptureDevice, CaptureError, Choice, DeviceInfo, Interval, Mode};
use crate::error::{Error, Result};
use crate::source::raw::{RawFormat, RawLayout};

/// The nokhwa camera system.
#[derive(Debug, Default)]
pub struct NokhwaSystem;

fn raw_format(f: FrameFormat) -> Option<RawFormat> {
    match f {
        FrameFormat::MJPEG => Some(RawFormat::Mjpeg),
        FrameFormat::YUYV => Some(RawFormat::Yuyv),
        FrameFormat::GRAY => Some(RawFormat::Gray),
        FrameFormat::RAWRGB => Some(RawFormat::Rgb),
        FrameFormat::RAWBGR => Some(RawFormat::Bgr),
        FrameFormat::NV12 => None,
    }
}

fn frame_format(f: RawFormat) -> FrameFormat {
    match f {
        RawFormat::Mjpeg => FrameFormat::MJPEG,
        RawFormat::Yuyv => FrameFormat::YUYV,
        RawFormat::Gray => FrameFormat::GRAY,
        RawFormat::Rgb => FrameFormat::RAWRGB,
        RawFormat::Bgr => FrameFormat::RAWBGR,
    }
}

fn camera_error(e: impl std::fmt::Display) -> Error {
    Error::Camera(e.to_string())
}

impl CameraSystem for NokhwaSystem {
    fn list(&mut self) -> Result<Vec<DeviceInfo>> {
        let infos = nokhwa::query(ApiBackend::Auto).map_err(camera_error)?;
        let mut out = Vec::new();
        for info in infos {
            let index = match info.index() {
                CameraIndex::Index(i) => *i,
                CameraIndex::String(s) => s.parse().unwrap_or(0),
            };
            let formats = Camera::new(
                info.index().clone(),
                RequestedFormat::new::<RgbFormat>(RequestedFormatType::None),
            )
            .and_then(|mut c| c.compatible_camera_formats());
            // a node whose formats cannot be read does not capture video
            let Ok(formats) = formats else { continue };
            let mut modes = Vec::new();
            let mut other_formats = Vec::new();
            for f in formats {
                match raw_format(f.format()) {
                    Some(format) => modes.push(Mode {
                        format,
                        width: f.width(),
                        height: f.height(),
                        intervals: vec![Interval::per_second(f.frame_rate())],
                    }),
                    None => other_formats.push(f.format().to_string()),
                }
            }
            other_formats.dedup();
            out.push(DeviceInfo {
                index,
                path: info.description().to_string(),
                name: info.human_name(),
                bus: info.misc(),
                driver: "nokhwa".into(),
                modes,
                other_formats,
            });
        }
        Ok(out)
    }

    fn open(&mut self, device: &DeviceInfo, choice: &Choice) -> Result<Box<dyn CaptureDevice>> {
        let fps = choice.interval.fps().round().max(1.0) as u32;
        let wanted = CameraFormat::new(
            Resolution::new(choice.width, choice.height),
            frame_format(choice.format),
            fps,
        );
        let request = RequestedFormat::new::<RgbFormat>(RequestedFormatType::Exact(wanted));
        let mut camera =
            Camera::new(CameraIndex::Index(device.index), request).map_err(camera_error)?;
        camera.open_stream().map_err(camera_error)?;
        let f = camera.camera_format();
        Ok(Box::new(NokhwaDevice {
            camera,
            layout: RawLayout::packed(choice.format, f.width() as usize, f.height() as usize),
            fps: f64::from(f.frame_rate()),
            buffer: Vec::new(),
        }))
    }

    fn name(&self) -> &'static str {
        "nokhwa"
    }
}

struct NokhwaDevice {
    camera: Camera,
    layout: RawLayout,
    fps: f64,
    buffer: Vec<u8>,
}

impl CaptureDevice for NokhwaDevice {
    fn layout(&self) -> RawLayout {
        self.layout
    }

    fn fps(&self) -> f64 {
        self.fps
    }

    fn next_buffer(&mut self, _timeout: Duration) -> std::result::Result<&[u8], CaptureError> {
        let buf = self
            .camera
            .frame()
            .map_err(|e| CaptureError::Failed(e.to_string()))?;
        self.buffer.clear();
        self.buffer.extend_from_slice(buf.buffer());
        Ok(&self.buffer)
    }
}
