//! A scripted camera system: devices that deliver what a script says (frames, stalls, read
//! errors, undecodable buffers, unplugging and coming back under another index), in real
//! time, through the same [`CameraSystem`] boundary as a real camera. It is how the
//! camera's failure handling is tested without one.
//!
//! Built in code ([`ScriptedSystem::new`]) or read from a JSON file named by the
//! `LAYERCAM_FAKE_CAMERA` environment variable, so that the binary can be driven too:
//!
//! ```json
//! {"devices": [{
//!    "index": 0, "name": "Scripted Cam", "bus": "usb-1",
//!    "modes": [{"format": "MJPG", "width": 64, "height": 48, "fps": [30]}],
//!    "dead_modes": [],
//!    "script": [
//!      {"frames": 30, "jpeg": "frame.jpg"},
//!      {"stall_ms": 3000},
//!      {"stall": "forever"},
//!      {"errors_ms": 500},
//!      {"garbage_ms": 500},
//!      {"unplug_ms": 1000, "replug_index": 3},
//!      {"frames": 30, "raw_dir": "recording"}
//!    ],
//!    "then": "stall"}]}
//! ```
//!
//! `jpeg` frames are delivered zero-padded to `width × height × 2` bytes, as drivers hand
//! them over; `raw` is one buffer delivered as it is; `raw_dir` cycles through the
//! `frame_*.raw` files of a raw recording. A device in one of its `dead_modes` opens but
//! delivers nothing. After the script, the device stalls (`"then": "stall"`) or starts the
//! script again (`"repeat"`). Relative paths are relative to the script file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{CameraSystem, CaptureDevice, CaptureError, Choice, DeviceInfo, Interval, Mode};
use crate::error::{Error, Result};
use crate::source::raw::{RawFormat, RawLayout};

/// One step of a device's script.
#[derive(Debug, Clone)]
pub enum Step {
    /// `count` buffers, cycling through `buffers`, at the mode's frame rate.
    Frames {
        /// How many buffers.
        count: u64,
        /// Their bytes.
        buffers: Vec<Arc<Vec<u8>>>,
    },
    /// No buffer for this long (`None`: for ever).
    Stall(Option<Duration>),
    /// Every read fails for this long.
    Errors(Duration),
    /// Undecodable buffers for this long, at the frame rate.
    Garbage(Duration),
    /// The device disappears for this long, then comes back (under `replug_index`, if
    /// given).
    Unplug {
        /// How long it is away.
        away: Duration,
        /// Its index when it comes back.
        replug_index: Option<u32>,
    },
}

/// What a scripted device did, for tests to check.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Opened in a mode.
    Opened {
        /// When.
        at: Instant,
        /// Index the device had.
        index: u32,
        /// Mode asked for.
        choice: Choice,
    },
    /// An open failed (the device was away).
    OpenFailed {
        /// When.
        at: Instant,
    },
}

/// A scripted device: what it lists and what it delivers.
#[derive(Debug, Clone)]
pub struct ScriptedDevice {
    /// What `list` says of it.
    pub info: DeviceInfo,
    /// Modes that open but never deliver a frame.
    pub dead_modes: Vec<(RawFormat, u32, u32)>,
    /// What it delivers, in order.
    pub script: Vec<Step>,
    /// After the script: start it again (`true`) or stall for ever.
    pub repeat: bool,
}

struct DeviceState {
    dev: ScriptedDevice,
    /// Step in progress, and when it started.
    step: usize,
    step_started: Option<Instant>,
    /// Buffers delivered in the current frames step.
    delivered: u64,
    /// When the device next delivers a frame.
    next_due: Option<Instant>,
    /// Away until then.
    away_until: Option<Instant>,
    /// Bumped on unplug: handles opened before are dead.
    generation: u64,
}

struct Shared {
    devices: Vec<DeviceState>,
    log: Vec<Event>,
}

/// A [`CameraSystem`] of scripted devices. Cloning shares the devices (a test keeps a clone
/// to read the [`Event`] log).
#[derive(Clone)]
pub struct ScriptedSystem {
    shared: Arc<Mutex<Shared>>,
}

fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ScriptedSystem {
    /// A system with these devices.
    pub fn new(devices: Vec<ScriptedDevice>) -> Self {
        let devices = devices
            .into_iter()
            .map(|dev| DeviceState {
                dev,
                step: 0,
                step_started: None,
                delivered: 0,
                next_due: None,
                away_until: None,
                generation: 0,
            })
            .collect();
        Self {
            shared: Arc::new(Mutex::new(Shared {
                devices,
                log: Vec::new(),
            })),
        }
    }

    /// What the devices did so far.
    pub fn events(&self) -> Vec<Event> {
        lock(&self.shared).log.clone()
    }

    /// Reads a JSON script (see the module documentation).
    pub fn from_file(path: &Path) -> Result<Self> {
        let err = |m: String| Error::Camera(format!("camera script {}: {m}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let file: ScriptFile = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut devices = Vec::new();
        for d in file.devices {
            devices.push(d.build(base).map_err(err)?);
        }
        Ok(Self::new(devices))
    }
}

impl DeviceState {
    fn present(&mut self, now: Instant) -> bool {
        match self.away_until {
            Some(t) if now < t => false,
            Some(_) => {
                self.away_until = None;
                true
            }
            None => true,
        }
    }

    fn advance(&mut self) {
        self.step += 1;
        self.step_started = None;
        self.delivered = 0;
        if self.step >= self.dev.script.len() && self.dev.repeat {
            self.step = 0;
        }
    }
}

impl CameraSystem for ScriptedSystem {
    fn list(&mut self) -> Result<Vec<DeviceInfo>> {
        let now = Instant::now();
        let mut s = lock(&self.shared);
        Ok(s.devices
            .iter_mut()
            .filter_map(|d| d.present(now).then(|| d.dev.info.clone()))
            .collect())
    }

    fn open(&mut self, device: &DeviceInfo, choice: &Choice) -> Result<Box<dyn CaptureDevice>> {
        let now = Instant::now();
        let mut s = lock(&self.shared);
        let Some(slot) = s
            .devices
            .iter()
            .position(|d| d.dev.info.name == device.name && d.dev.info.bus == device.bus)
        else {
            return Err(Error::Camera(format!("no such device: {}", device.path)));
        };
        if !s.devices[slot].present(now) || s.devices[slot].dev.info.index != device.index {
            s.log.push(Event::OpenFailed { at: now });
            return Err(Error::Camera(format!("{}: No such device", device.path)));
        }
        let offered =
            s.devices[slot].dev.info.modes.iter().any(|m| {
                (m.format, m.width, m.height) == (choice.format, choice.width, choice.height)
            });
        if !offered {
            return Err(Error::Camera(format!("{choice} is not offered")));
        }
        let dead =
            s.devices[slot]
                .dev
                .dead_modes
                .contains(&(choice.format, choice.width, choice.height));
        let index = s.devices[slot].dev.info.index;
        s.devices[slot].next_due = None;
        let generation = s.devices[slot].generation;
        s.log.push(Event::Opened {
            at: now,
            index,
            choice: *choice,
        });
        Ok(Box::new(ScriptedHandle {
            shared: self.shared.clone(),
            slot,
            generation,
            choice: *choice,
            dead,
            buffer: Vec::new(),
        }))
    }

    fn name(&self) -> &'static str {
        "scripted"
    }
}

struct ScriptedHandle {
    shared: Arc<Mutex<Shared>>,
    slot: usize,
    generation: u64,
    choice: Choice,
    dead: bool,
    buffer: Vec<u8>,
}

/// What a read comes to, decided under the lock, carried out after it.
enum Outcome {
    Buffer(Arc<Vec<u8>>),
    Garbage,
    Wait(Duration, bool),
    Fail(CaptureError),
}

/// The frame rate of a device that delivers: a wait until its next frame is due, or `None`
/// (deliver now; the one after is due a period later).
fn pace(d: &mut DeviceState, now: Instant, period: Duration, timeout: Duration) -> Option<Outcome> {
    let due = *d.next_due.get_or_insert(now);
    if due > now {
        return Some(Outcome::Wait((due - now).min(timeout), due - now > timeout));
    }
    d.next_due = Some(due.max(now - period) + period);
    None
}

impl ScriptedHandle {
    fn period(&self) -> Duration {
        let fps = self.choice.interval.fps();
        Duration::from_secs_f64(if fps > 0.0 { 1.0 / fps } else { 1.0 / 30.0 })
    }

    fn decide(&self, timeout: Duration) -> Outcome {
        let now = Instant::now();
        let period = self.period();
        let mut s = lock(&self.shared);
        let d = &mut s.devices[self.slot];
        if d.generation != self.generation || !d.present(now) {
            return Outcome::Fail(CaptureError::Gone("No such device".into()));
        }
        if self.dead {
            return Outcome::Wait(timeout, true);
        }
        loop {
            let Some(step) = d.dev.script.get(d.step).cloned() else {
                return Outcome::Wait(timeout, true);
            };
            let started = *d.step_started.get_or_insert(now);
            let over = |len: Duration| now >= started + len;
            match step {
                Step::Frames { count, buffers } => {
                    if d.delivered >= count || buffers.is_empty() {
                        d.advance();
                        continue;
                    }
                    if let Some(wait) = pace(d, now, period, timeout) {
                        return wait;
                    }
                    let b = buffers[(d.delivered % buffers.len() as u64) as usize].clone();
                    d.delivered += 1;
                    return Outcome::Buffer(b);
                }
                Step::Stall(len) => match len {
                    Some(len) if over(len) => {
                        d.advance();
                        d.next_due = None;
                        continue;
                    }
                    Some(len) => {
                        let left = started + len - now;
                        return Outcome::Wait(left.min(timeout), left > timeout);
                    }
                    None => return Outcome::Wait(timeout, true),
                },
                Step::Errors(len) => {
                    if over(len) {
                        d.advance();
                        continue;
                    }
                    return Outcome::Fail(CaptureError::Failed(
                        "VIDIOC_DQBUF: Input/output error (os error 5)".into(),
                    ));
                }
                Step::Garbage(len) => {
                    if over(len) {
                        d.advance();
                        continue;
                    }
                    if let Some(wait) = pace(d, now, period, timeout) {
                        return wait;
                    }
                    return Outcome::Garbage;
                }
                Step::Unplug { away, replug_index } => {
                    d.advance();
                    d.away_until = Some(now + away);
                    d.generation += 1;
                    if let Some(i) = replug_index {
                        d.dev.info.index = i;
                        d.dev.info.path = format!("/dev/video{i}");
                    }
                    return Outcome::Fail(CaptureError::Gone("No such device".into()));
                }
            }
        }
    }
}

impl CaptureDevice for ScriptedHandle {
    fn layout(&self) -> RawLayout {
        RawLayout::packed(
            self.choice.format,
            self.choice.width as usize,
            self.choice.height as usize,
        )
    }

    fn fps(&self) -> f64 {
        self.choice.interval.fps()
    }

    fn next_buffer(&mut self, timeout: Duration) -> std::result::Result<&[u8], CaptureError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.decide(left) {
                Outcome::Buffer(b) => {
                    self.buffer.clear();
                    self.buffer.extend_from_slice(&b);
                    return Ok(&self.buffer);
                }
                Outcome::Garbage => {
                    self.buffer.clear();
                    self.buffer.resize(4096, 0x5A);
                    return Ok(&self.buffer);
                }
                Outcome::Fail(e) => return Err(e),
                Outcome::Wait(d, gives_up) => {
                    std::thread::sleep(d);
                    if gives_up || Instant::now() >= deadline {
                        return Err(CaptureError::Timeout);
                    }
                }
            }
        }
    }
}

// ---- the JSON form ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptFile {
    devices: Vec<DeviceSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModeSpec {
    format: String,
    width: u32,
    height: u32,
    #[serde(default)]
    fps: Vec<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceSpec {
    index: u32,
    name: String,
    #[serde(default)]
    bus: String,
    modes: Vec<ModeSpec>,
    #[serde(default)]
    dead_modes: Vec<ModeSpec>,
    #[serde(default)]
    script: Vec<StepSpec>,
    #[serde(default)]
    then: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct StepSpec {
    frames: Option<u64>,
    jpeg: Option<PathBuf>,
    raw: Option<PathBuf>,
    raw_dir: Option<PathBuf>,
    stall_ms: Option<u64>,
    stall: Option<String>,
    errors_ms: Option<u64>,
    garbage_ms: Option<u64>,
    unplug_ms: Option<u64>,
    replug_index: Option<u32>,
}

fn format_of(code: &str) -> std::result::Result<RawFormat, String> {
    RawFormat::from_fourcc(code).ok_or_else(|| format!("unknown format '{code}'"))
}

impl DeviceSpec {
    fn build(self, base: &Path) -> std::result::Result<ScriptedDevice, String> {
        let mut modes = Vec::new();
        for m in &self.modes {
            modes.push(Mode::new(format_of(&m.format)?, m.width, m.height, &m.fps));
        }
        let mut dead_modes = Vec::new();
        for m in &self.dead_modes {
            dead_modes.push((format_of(&m.format)?, m.width, m.height));
        }
        let pad_to = modes
            .first()
            .map_or(0, |m| m.width as usize * m.height as usize * 2);
        let mut script = Vec::new();
        for st in self.script {
            script.push(st.build(base, pad_to)?);
        }
        let repeat = match self.then.as_deref() {
            None | Some("stall") => false,
            Some("repeat") => true,
            Some(o) => return Err(format!("'then' is 'stall' or 'repeat', not '{o}'")),
        };
        Ok(ScriptedDevice {
            info: DeviceInfo {
                index: self.index,
                path: format!("/dev/video{}", self.index),
                name: self.name,
                bus: self.bus,
                driver: "scripted".into(),
                modes,
                other_formats: Vec::new(),
            },
            dead_modes,
            script,
            repeat,
        })
    }
}

impl StepSpec {
    fn build(self, base: &Path, pad_to: usize) -> std::result::Result<Step, String> {
        let read = |p: &Path| {
            let p = base.join(p);
            std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))
        };
        let ms = Duration::from_millis;
        if let Some(count) = self.frames {
            let buffers = if let Some(j) = &self.jpeg {
                let mut b = read(j)?;
                if b.len() < pad_to {
                    b.resize(pad_to, 0);
                }
                vec![b]
            } else if let Some(r) = &self.raw {
                vec![read(r)?]
            } else if let Some(d) = &self.raw_dir {
                let rec = crate::source::rawdir::RawRecording::open(&base.join(d))
                    .map_err(|e| e.to_string())?;
                let mut v = Vec::new();
                for p in rec.files() {
                    v.push(read(p)?);
                }
                v
            } else {
                return Err("a frames step needs jpeg, raw or raw_dir".into());
            };
            return Ok(Step::Frames {
                count,
                buffers: buffers.into_iter().map(Arc::new).collect(),
            });
        }
        if let Some(s) = self.stall_ms {
            return Ok(Step::Stall(Some(ms(s))));
        }
        match self.stall.as_deref() {
            Some("forever") => return Ok(Step::Stall(None)),
            Some(o) => return Err(format!("'stall' is 'forever', not '{o}'")),
            None => {}
        }
        if let Some(e) = self.errors_ms {
            return Ok(Step::Errors(ms(e)));
        }
        if let Some(g) = self.garbage_ms {
            return Ok(Step::Garbage(ms(g)));
        }
        if let Some(u) = self.unplug_ms {
            return Ok(Step::Unplug {
                away: ms(u),
                replug_index: self.replug_index,
            });
        }
        Err("a step is one of frames, stall_ms, errors_ms, garbage_ms, unplug_ms".into())
    }
}

/// A scripted MJPEG device of `width × height` at `fps`, with `index`, name and bus.
pub fn mjpeg_device(
    index: u32,
    name: &str,
    bus: &str,
    width: u32,
    height: u32,
    fps: u32,
) -> DeviceInfo {
    DeviceInfo {
        index,
        path: format!("/dev/video{index}"),
        name: name.into(),
        bus: bus.into(),
        driver: "scripted".into(),
        modes: vec![Mode {
            format: RawFormat::Mjpeg,
            width,
            height,
            intervals: vec![Interval::per_second(fps)],
        }],
        other_formats: Vec::new(),
    }
}
