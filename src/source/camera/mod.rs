//! Webcams: a device boundary, the choice of a mode, and a frame source that survives real
//! drivers (stalls, corrupt buffers, unplugging).
//!
//! ```text
//!   CameraSystem (list, open)          CameraSource (a FrameSource)
//!   ├─ v4l2::V4l2System   Linux        ├─ picks the device (index, path or name)
//!   ├─ nokhwa::NokhwaSystem elsewhere  ├─ tries modes best first (choose_modes)
//!   └─ scripted::ScriptedSystem tests  ├─ decodes each buffer (raw::decode_raw)
//!        │ open                        ├─ watchdog: 1.5 s without a good frame = lost
//!        ▼                             └─ reopens with backoff 0.25 s … 4 s, by name/bus
//!   CaptureDevice (next_buffer with a timeout, layout)
//! ```
//!
//! The boundary is two traits: [`CameraSystem`] lists devices that capture video and opens
//! one in a [`Choice`] of mode; [`CaptureDevice`] hands over one buffer at a time, exactly
//! as the driver filled it (up to its `bytesused`), waiting at most a given time. Everything
//! above it (mode choice, decoding, watchdog, reconnect) is the same for every backend and
//! is tested with the scripted one.

pub mod scripted;
mod select;

#[cfg(all(feature = "camera", target_os = "linux"))]
pub mod v4l2;

#[cfg(feature = "camera")]
pub mod nokhwa;

use std::time::{Duration, Instant};

pub use select::{choose_modes, Choice, DEFAULT_FPS, DEFAULT_SIZE};

use super::raw::{decode_raw, RawFormat, RawLayout};
use super::{FrameSource, Next, SourceKind};
use crate::error::{Error, Result};
use crate::frame::Frame;

/// A frame interval: `num / den` seconds per frame (V4L2 states rates this way: 1/30,
/// 1001/30000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interval {
    /// Numerator (seconds).
    pub num: u32,
    /// Denominator.
    pub den: u32,
}

impl Interval {
    /// `fps` frames a second.
    pub fn per_second(fps: u32) -> Self {
        Self {
            num: 1,
            den: fps.max(1),
        }
    }

    /// Frames per second.
    pub fn fps(self) -> f64 {
        if self.num == 0 {
            0.0
        } else {
            f64::from(self.den) / f64::from(self.num)
        }
    }
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fps = self.fps();
        if (fps - fps.round()).abs() < 1e-9 {
            write!(f, "{}", fps.round())
        } else {
            write!(f, "{fps:.2}")
        }
    }
}

/// A format and size a device offers, with its frame intervals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mode {
    /// Pixel format.
    pub format: RawFormat,
    /// Frame width.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// Frame intervals offered at this size (empty: not stated).
    pub intervals: Vec<Interval>,
}

impl Mode {
    /// A mode offering whole frame rates.
    pub fn new(format: RawFormat, width: u32, height: u32, fps: &[u32]) -> Self {
        Self {
            format,
            width,
            height,
            intervals: fps.iter().map(|&f| Interval::per_second(f)).collect(),
        }
    }
}

/// A device that captures video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Index to pass to `--camera` (the N of `/dev/videoN` on Linux).
    pub index: u32,
    /// Device path (`/dev/video0`), or the backend's identifier.
    pub path: String,
    /// Human-readable name (the card name).
    pub name: String,
    /// Where it is attached (`usb-0000:00:14.0-1`): with the name, it finds the camera again
    /// after a replug, whatever node it then gets.
    pub bus: String,
    /// Driver name.
    pub driver: String,
    /// Modes in formats layercam decodes.
    pub modes: Vec<Mode>,
    /// Formats offered that layercam does not decode (H264, NV12, …), for messages.
    pub other_formats: Vec<String>,
}

/// Why a device gave no buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureError {
    /// No buffer within the time asked (a stalled camera).
    Timeout,
    /// The read failed (the stream may recover).
    Failed(String),
    /// The device is gone (unplugged): it must be reopened.
    Gone(String),
}

impl std::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Timeout => f.write_str("no frame in time"),
            Self::Failed(e) => f.write_str(e),
            Self::Gone(e) => write!(f, "device gone: {e}"),
        }
    }
}

/// An open, streaming device.
pub trait CaptureDevice {
    /// How its buffers are laid out.
    fn layout(&self) -> RawLayout;
    /// Its frame rate.
    fn fps(&self) -> f64;
    /// The next buffer, exactly as the driver filled it (its used bytes only), waiting at
    /// most `timeout`. The slice is valid until the next call.
    fn next_buffer(&mut self, timeout: Duration) -> std::result::Result<&[u8], CaptureError>;
}

/// The cameras of a system: lists those that capture video, opens one.
pub trait CameraSystem: Send {
    /// Devices that capture video (metadata and codec nodes are left out).
    fn list(&mut self) -> Result<Vec<DeviceInfo>>;
    /// Opens `device` and starts it in mode `choice`.
    fn open(&mut self, device: &DeviceInfo, choice: &Choice) -> Result<Box<dyn CaptureDevice>>;
    /// The backend's name, for messages.
    fn name(&self) -> &'static str;
    /// Device nodes that [`CameraSystem::list`] leaves out, each with why (a webcam's
    /// metadata node, a node that cannot be opened), for `layercam cameras`.
    fn left_out(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// The camera system of this platform: V4L2 on Linux, nokhwa elsewhere.
/// `LAYERCAM_CAMERA_BACKEND=nokhwa` picks nokhwa on Linux too;
/// `LAYERCAM_FAKE_CAMERA=script.json` a scripted camera ([`scripted`]), for tests.
pub fn system() -> Result<Box<dyn CameraSystem>> {
    if let Some(script) = std::env::var_os("LAYERCAM_FAKE_CAMERA").filter(|s| !s.is_empty()) {
        return Ok(Box::new(scripted::ScriptedSystem::from_file(
            std::path::Path::new(&script),
        )?));
    }
    let backend = std::env::var("LAYERCAM_CAMERA_BACKEND").unwrap_or_default();
    match backend.as_str() {
        #[cfg(feature = "camera")]
        "nokhwa" => Ok(Box::new(nokhwa::NokhwaSystem)),
        #[cfg(all(feature = "camera", target_os = "linux"))]
        "" | "v4l2" => Ok(Box::new(v4l2::V4l2System)),
        #[cfg(all(feature = "camera", not(target_os = "linux")))]
        "" => Ok(Box::new(nokhwa::NokhwaSystem)),
        #[cfg(not(feature = "camera"))]
        "" => Err(Error::Camera(
            "this build has no camera support (built without the `camera` feature)".into(),
        )),
        other => Err(Error::Camera(format!(
            "unknown camera backend '{other}' in LAYERCAM_CAMERA_BACKEND (v4l2 or nokhwa)"
        ))),
    }
}

/// Which camera to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraSelector {
    /// The first device that captures video.
    First,
    /// The device of this index (`/dev/videoN`).
    Index(u32),
    /// The device at this path.
    Path(String),
    /// The first device whose name contains this text (case-insensitive).
    Name(String),
}

impl std::str::FromStr for CameraSelector {
    type Err = String;
    /// A number is an index, a text starting with `/` a path, anything else a name.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("expected a camera index, a device path or a name".into());
        }
        Ok(if let Ok(i) = s.parse::<u32>() {
            Self::Index(i)
        } else if s.starts_with('/') {
            Self::Path(s.into())
        } else {
            Self::Name(s.into())
        })
    }
}

impl std::fmt::Display for CameraSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::First => f.write_str("the first camera"),
            Self::Index(i) => write!(f, "camera {i}"),
            Self::Path(p) => write!(f, "camera {p}"),
            Self::Name(n) => write!(f, "camera '{n}'"),
        }
    }
}

impl CameraSelector {
    /// The device this selects among `devices`.
    pub fn find<'a>(&self, devices: &'a [DeviceInfo]) -> Option<&'a DeviceInfo> {
        match self {
            Self::First => devices.first(),
            Self::Index(i) => devices.iter().find(|d| d.index == *i),
            Self::Path(p) => devices.iter().find(|d| &d.path == p),
            Self::Name(n) => {
                let n = n.to_lowercase();
                devices.iter().find(|d| d.name.to_lowercase().contains(&n))
            }
        }
    }
}

/// What to ask the camera for.
#[derive(Debug, Clone)]
pub struct CameraRequest {
    /// Which camera.
    pub selector: CameraSelector,
    /// Wanted frame size, if any (the nearest offered is used).
    pub size: Option<(u32, u32)>,
    /// Wanted frame rate, if any (the nearest offered for the chosen size is used).
    pub fps: Option<u32>,
    /// Fail the stream when the camera is lost, instead of reopening it.
    pub exit_on_loss: bool,
}

impl Default for CameraRequest {
    fn default() -> Self {
        Self {
            selector: CameraSelector::First,
            size: None,
            fps: None,
            exit_on_loss: false,
        }
    }
}

/// Time without a good frame after which the camera counts as lost.
pub const WATCHDOG: Duration = Duration::from_millis(1500);
/// Time a freshly started mode has to deliver its first frame before the next is tried.
pub const START_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest wait for one buffer, so that a stop request is seen in time.
pub const POLL: Duration = Duration::from_millis(100);
/// First wait before reopening a lost camera; doubled per failed attempt up to
/// [`BACKOFF_MAX`].
pub const BACKOFF_MIN: Duration = Duration::from_millis(250);
/// Longest wait between reopening attempts.
pub const BACKOFF_MAX: Duration = Duration::from_secs(4);
/// Modes tried at most when a camera starts.
pub const MAX_ATTEMPTS: usize = 4;

/// The wait before reopening attempt `n` (0-based): 0.25 s, 0.5 s, 1 s, 2 s, 4 s, 4 s, …
pub fn backoff(n: u32) -> Duration {
    BACKOFF_MIN.saturating_mul(1 << n.min(8)).min(BACKOFF_MAX)
}

enum State {
    /// Not open; the next attempt is due at this time.
    Closed { retry_at: Instant },
    /// Started in `choices[at]`, waiting for its first frame since `since`.
    Starting {
        device: Box<dyn CaptureDevice>,
        since: Instant,
    },
    /// Delivering frames.
    Streaming { device: Box<dyn CaptureDevice> },
}

/// Frames from a webcam, through any [`CameraSystem`]. Open it on the capture thread (some
/// backends' handles cannot move between threads).
///
/// * The first start tries the modes of [`choose_modes`] in turn (up to
///   [`MAX_ATTEMPTS`]): a mode that cannot be set or yields no frame within
///   [`START_TIMEOUT`] gives way to the next; when none works the error names every
///   attempt.
/// * A buffer that does not decode is skipped and counted. When no good frame came for
///   [`WATCHDOG`] (errors, undecodable buffers, a stall), the camera is lost: it is closed
///   and reopened with [`backoff`], found again by name and bus, whatever its index is
///   then; or, with `exit_on_loss`, the stream fails.
/// * Every wait is at most [`POLL`], so a stop request is honoured within a fraction of a
///   second even while the device stalls.
pub struct CameraSource {
    system: Box<dyn CameraSystem>,
    request: CameraRequest,
    /// The device in use (its name and bus find it again after a replug).
    device: Option<DeviceInfo>,
    state: State,
    choices: Vec<Choice>,
    /// Index in `choices` of the mode started or streaming.
    at: usize,
    /// Why each mode tried so far failed (the first start only).
    attempts: Vec<String>,
    /// A frame was delivered since the last (re)open.
    ever_streamed: bool,
    last_ok: Instant,
    failures: u32,
    frames: u64,
    /// The buffer the next frame is decoded into (a recycled one, or empty).
    rgb: Vec<u8>,
    /// A message for the user to pass on at the next call (mode chosen, reconnected).
    notice: Option<String>,
}

impl std::fmt::Debug for CameraSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraSource")
            .field("request", &self.request)
            .field("device", &self.device)
            .field("choice", &self.choices.get(self.at))
            .finish()
    }
}

impl CameraSource {
    /// Finds the requested camera and starts it in its best mode. Fails when the camera is
    /// not there or offers no mode layercam decodes; a mode that then yields no frame is
    /// replaced by the next while frames are read.
    pub fn open(mut system: Box<dyn CameraSystem>, request: CameraRequest) -> Result<Self> {
        let devices = system.list()?;
        let Some(device) = request.selector.find(&devices).cloned() else {
            let have: Vec<String> = devices
                .iter()
                .map(|d| format!("{} ({}, {})", d.index, d.name, d.path))
                .collect();
            return Err(Error::Camera(if have.is_empty() {
                format!(
                    "{} not found: no camera that captures video",
                    request.selector
                )
            } else {
                format!(
                    "{} not found; cameras: {}",
                    request.selector,
                    have.join(", ")
                )
            }));
        };
        let choices = choose_modes(&device.modes, request.size, request.fps);
        if choices.is_empty() {
            return Err(Error::Camera(format!(
                "{} ({}) offers no format layercam decodes (MJPEG, YUYV, GREY, RGB3, BGR3); it offers {}",
                device.name,
                device.path,
                if device.other_formats.is_empty() {
                    "none".to_string()
                } else {
                    device.other_formats.join(", ")
                }
            )));
        }
        let mut source = Self {
            system,
            request,
            device: Some(device),
            state: State::Closed {
                retry_at: Instant::now(),
            },
            choices,
            at: 0,
            attempts: Vec::new(),
            ever_streamed: false,
            last_ok: Instant::now(),
            failures: 0,
            frames: 0,
            rgb: Vec::new(),
            notice: None,
        };
        source.start_from(0)?;
        Ok(source)
    }

    /// The mode in use.
    pub fn choice(&self) -> Option<Choice> {
        self.choices.get(self.at).copied()
    }

    /// The device in use.
    pub fn device(&self) -> Option<&DeviceInfo> {
        self.device.as_ref()
    }

    /// Starts the first mode from `from` on that opens; an error naming every attempt when
    /// none does (then the camera cannot be used at all).
    fn start_from(&mut self, from: usize) -> Result<()> {
        let Some(device) = self.device.clone() else {
            return Err(Error::Camera("no device".into()));
        };
        let last = self.choices.len().min(MAX_ATTEMPTS);
        for at in from..last {
            let choice = self.choices[at];
            match self.system.open(&device, &choice) {
                Ok(dev) => {
                    self.at = at;
                    self.state = State::Starting {
                        device: dev,
                        since: Instant::now(),
                    };
                    return Ok(());
                }
                Err(e) => self.attempts.push(format!("{choice}: {e}")),
            }
        }
        Err(self.start_failed(&device))
    }

    fn start_failed(&self, device: &DeviceInfo) -> Error {
        Error::Camera(format!(
            "cannot start {} ({}); tried {}",
            device.name,
            device.path,
            self.attempts.join("; ")
        ))
    }

    /// The camera is lost: closes it, then reopens with backoff, or fails with
    /// `exit_on_loss`.
    fn lost(&mut self, why: String) -> Result<Next> {
        self.state = State::Closed {
            retry_at: Instant::now() + backoff(self.failures),
        };
        let name = self.describe();
        if self.request.exit_on_loss {
            return Err(Error::Camera(format!("{name} lost: {why}")));
        }
        let wait = backoff(self.failures);
        self.failures = self.failures.saturating_add(1);
        Ok(Next::Stalled(format!(
            "{name} lost ({why}); retrying in {:.2} s",
            wait.as_secs_f64()
        )))
    }

    /// Finds the camera again (by name and bus, then by name alone) and starts it in the
    /// mode it streamed in before, else in the best it offers now.
    fn reopen(&mut self) -> Result<Next> {
        let devices = match self.system.list() {
            Ok(d) => d,
            Err(e) => return self.lost(e.to_string()),
        };
        let old = self.device.clone();
        let found = old.as_ref().and_then(|o| {
            devices
                .iter()
                .find(|d| d.name == o.name && d.bus == o.bus)
                .or_else(|| devices.iter().find(|d| d.name == o.name))
                .cloned()
        });
        let Some(device) = found else {
            return self.lost("not connected".into());
        };
        let previous = self.choice();
        let mut choices = choose_modes(&device.modes, self.request.size, self.request.fps);
        if let Some(p) = previous.filter(|p| choices.contains(p)) {
            choices.retain(|c| c != &p);
            choices.insert(0, p);
        }
        if choices.is_empty() {
            return self.lost("it offers no format layercam decodes".into());
        }
        let moved = match &old {
            Some(o) if o.path != device.path => format!(" (now {})", device.path),
            _ => String::new(),
        };
        self.device = Some(device.clone());
        self.choices = choices;
        self.attempts.clear();
        for at in 0..self.choices.len().min(MAX_ATTEMPTS) {
            let choice = self.choices[at];
            if let Ok(dev) = self.system.open(&device, &choice) {
                self.at = at;
                self.state = State::Starting {
                    device: dev,
                    since: Instant::now(),
                };
                self.notice = Some(format!("{} reconnected{moved}", self.describe()));
                return Ok(Next::Stalled(format!(
                    "{} reopened, starting",
                    self.describe()
                )));
            }
        }
        self.lost("cannot open it again".into())
    }

    fn index(&self) -> u32 {
        self.device.as_ref().map_or(0, |d| d.index)
    }
}

impl FrameSource for CameraSource {
    fn recycle(&mut self, buf: Vec<u8>) {
        super::keep_spare(&mut self.rgb, buf);
    }

    fn next(&mut self) -> Result<Next> {
        let mut rgb = std::mem::take(&mut self.rgb);
        // decoded straight from the driver's buffer (no copy)
        let polled = self.with_buffer(|layout, bytes| decode_raw(layout, bytes, &mut rgb));
        self.rgb = rgb;
        match polled? {
            Polled::Other(next) => Ok(next),
            Polled::Buffer(Ok((w, h))) => {
                self.good_frame();
                let rgb = std::mem::take(&mut self.rgb);
                let mut f = Frame::new(self.frames, w, h, rgb)?;
                f.origin = format!("camera{}#{}", self.index(), self.frames);
                self.frames += 1;
                Ok(Next::Frame(f))
            }
            Polled::Buffer(Err(reason)) => self.bad_frame(reason),
        }
    }

    fn kind(&self) -> SourceKind {
        SourceKind::Live
    }

    fn fps(&self) -> Option<f64> {
        self.choice().map(|c| c.interval.fps())
    }

    fn describe(&self) -> String {
        let dev = match &self.device {
            Some(d) => format!("camera {} '{}' ({})", d.index, d.name, d.path),
            None => self.request.selector.to_string(),
        };
        match self.choice() {
            Some(c) => format!("{dev} {c}"),
            None => dev,
        }
    }
}

/// What [`CameraSource::with_buffer`] came to.
#[derive(Debug)]
pub enum Polled<R> {
    /// A buffer arrived; what the closure made of it.
    Buffer(R),
    /// No buffer: what to pass on instead (a status, a notice).
    Other(Next),
}

impl CameraSource {
    /// Waits (at most [`POLL`]) for the camera's next buffer and hands it, exactly as the
    /// driver delivered it, with its layout to `f`. Opening, mode fallback, the watchdog
    /// and reconnecting happen here; a caller that finds the buffer good calls
    /// [`CameraSource::good_frame`], one that finds it bad [`CameraSource::bad_frame`].
    /// `layercam record --raw` writes buffers through this; [`FrameSource::next`] decodes
    /// them.
    pub fn with_buffer<R>(&mut self, f: impl FnOnce(&RawLayout, &[u8]) -> R) -> Result<Polled<R>> {
        if let Some(n) = self.notice.take() {
            return Ok(Polled::Other(Next::Notice(n)));
        }
        if let State::Closed { retry_at } = self.state {
            let now = Instant::now();
            if now < retry_at {
                std::thread::sleep((retry_at - now).min(POLL));
                let msg = format!("{} lost; retrying", self.describe());
                return Ok(Polled::Other(Next::Stalled(msg)));
            }
            return self.reopen().map(Polled::Other);
        }
        let (device, starting_since) = match &mut self.state {
            State::Starting { device, since } => (device, Some(*since)),
            State::Streaming { device } => (device, None),
            State::Closed { .. } => unreachable!("handled above"),
        };
        let layout = device.layout();
        let e = match device.next_buffer(POLL) {
            Ok(bytes) => return Ok(Polled::Buffer(f(&layout, bytes))),
            Err(e) => e,
        };
        if let CaptureError::Gone(why) = e {
            if !self.ever_streamed {
                return Err(Error::Camera(format!("{}: {why}", self.describe())));
            }
            return self.lost(why).map(Polled::Other);
        }
        let why = e.to_string();
        if let Some(r) = self.stall_check(starting_since, &why) {
            return r.map(Polled::Other);
        }
        if matches!(e, CaptureError::Failed(_)) {
            // an error straight away again would spin: pace the retries
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Polled::Other(Next::Stalled(format!(
            "{}: {why}",
            self.describe()
        ))))
    }

    /// The last buffer was good: the camera is streaming.
    pub fn good_frame(&mut self) {
        if matches!(self.state, State::Starting { .. }) {
            let old = std::mem::replace(
                &mut self.state,
                State::Closed {
                    retry_at: Instant::now(),
                },
            );
            if let State::Starting { device, .. } = old {
                self.state = State::Streaming { device };
            }
            if !self.ever_streamed {
                self.notice = Some(format!("{} streaming", self.describe()));
            }
            self.ever_streamed = true;
        }
        self.last_ok = Instant::now();
        self.failures = 0;
    }

    /// The last buffer was bad (`reason`): skipped, or after [`WATCHDOG`] of bad buffers the
    /// camera is lost (or, while starting, the next mode is tried).
    pub fn bad_frame(&mut self, reason: String) -> Result<Next> {
        let starting_since = match self.state {
            State::Starting { since, .. } => Some(since),
            _ => None,
        };
        if starting_since.is_none() && self.last_ok.elapsed() > WATCHDOG {
            return self.lost(format!(
                "no decodable frame for {:.1} s; last: {reason}",
                WATCHDOG.as_secs_f64()
            ));
        }
        if let Some(r) = self.stall_check(starting_since, &reason) {
            return r;
        }
        Ok(Next::Skipped {
            origin: format!("{} frame {}", self.describe(), self.frames),
            reason,
        })
    }

    /// While starting: the next mode after [`START_TIMEOUT`] without a frame. While
    /// streaming: lost after [`WATCHDOG`] without a good frame. `None` while there is time.
    fn stall_check(&mut self, starting_since: Option<Instant>, why: &str) -> Option<Result<Next>> {
        match starting_since {
            Some(since) if since.elapsed() > START_TIMEOUT => {
                let choice = self.choices[self.at];
                let what = if why == CaptureError::Timeout.to_string() {
                    format!("no frame within {:.0} s", START_TIMEOUT.as_secs_f64())
                } else {
                    format!(
                        "no good frame within {:.0} s ({why})",
                        START_TIMEOUT.as_secs_f64()
                    )
                };
                self.attempts.push(format!("{choice}: {what}"));
                self.state = State::Closed {
                    retry_at: Instant::now(),
                };
                let next = self.at + 1;
                match self.start_from(next) {
                    Ok(()) => Some(Ok(Next::Notice(format!(
                        "{choice} gave {what}; trying {}",
                        self.choices[self.at]
                    )))),
                    Err(e) if !self.ever_streamed => Some(Err(e)),
                    Err(e) => Some(self.lost(e.to_string())),
                }
            }
            Some(_) => None,
            None if self.last_ok.elapsed() > WATCHDOG => Some(self.lost(format!(
                "no frame for {:.1} s: {why}",
                WATCHDOG.as_secs_f64()
            ))),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_four_seconds() {
        let ms: Vec<u128> = (0..7).map(|n| backoff(n).as_millis()).collect();
        assert_eq!(ms, [250, 500, 1000, 2000, 4000, 4000, 4000]);
        assert_eq!(backoff(u32::MAX), BACKOFF_MAX);
    }

    #[test]
    fn selectors() {
        let d = |i: u32, name: &str| DeviceInfo {
            index: i,
            path: format!("/dev/video{i}"),
            name: name.into(),
            bus: String::new(),
            driver: String::new(),
            modes: vec![],
            other_formats: vec![],
        };
        let devs = [d(0, "Integrated Camera"), d(2, "HD Pro Webcam C920")];
        let pick = |s: &str| {
            s.parse::<CameraSelector>()
                .unwrap()
                .find(&devs)
                .map(|d| d.index)
        };
        assert_eq!(pick("2"), Some(2));
        assert_eq!(pick("1"), None);
        assert_eq!(pick("/dev/video0"), Some(0));
        assert_eq!(pick("c920"), Some(2));
        assert_eq!(CameraSelector::First.find(&devs).map(|d| d.index), Some(0));
        assert!("".parse::<CameraSelector>().is_err());
    }
}
