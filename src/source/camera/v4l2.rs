//! Linux cameras through V4L2 (the `v4l` crate for the device and its formats; the
//! memory-mapped buffer ring is driven here).
//!
//! What real drivers do, and what this module does about it:
//!
//! * A buffer holds `bytesused` bytes of frame in a mapping of `length` bytes (for MJPEG,
//!   a 40–400 KB JPEG in a `width × height × 2` mapping, followed by zeros or an older
//!   frame). Only `bytesused` bytes are handed on; the JPEG decoder then finds the image's
//!   real end by reading it, since some drivers report the whole buffer as used.
//! * A stalled camera: each wait is a `poll` with a timeout, so a stall becomes
//!   [`CaptureError::Timeout`] for the watchdog above, never a blocked thread.
//! * Unplugging: `ENODEV` from the device is [`CaptureError::Gone`].
//! * A webcam has more nodes than cameras (metadata, codecs): only nodes whose device
//!   capabilities include video capture and streaming are listed.
//! * The buffer being read stays dequeued until the next call, then goes back to the
//!   driver: frames are decoded straight from the mapping, nothing is copied or allocated
//!   per frame.

use std::io;
use std::os::raw::c_void;
use std::time::Duration;

use v4l::v4l2;
use v4l::v4l_sys::{
    v4l2_buf_type_V4L2_BUF_TYPE_VIDEO_CAPTURE as BUF_TYPE_CAPTURE, v4l2_buffer, v4l2_capability,
    v4l2_memory_V4L2_MEMORY_MMAP as MEMORY_MMAP, v4l2_requestbuffers, V4L2_BUF_FLAG_ERROR,
    V4L2_CAP_DEVICE_CAPS, V4L2_CAP_STREAMING, V4L2_CAP_VIDEO_CAPTURE,
};
use v4l::video::Capture;
use v4l::{Device, Format, FourCC, Fraction};

use super::{CameraSystem, CaptureDevice, CaptureError, Choice, DeviceInfo, Interval, Mode};
use crate::error::{Error, Result};
use crate::source::raw::{RawFormat, RawLayout};

/// Buffers in the driver's ring: enough that the driver always has one to fill while one is
/// read.
const BUFFERS: u32 = 4;

/// Frame sizes tried on a device that states a range instead of a list.
const COMMON_SIZES: [(u32, u32); 6] = [
    (640, 480),
    (800, 600),
    (1024, 768),
    (1280, 720),
    (1600, 1200),
    (1920, 1080),
];

/// The V4L2 camera system (`/dev/video*`).
#[derive(Debug, Default)]
pub struct V4l2System;

/// Name, bus, driver and device capabilities of a node (read with lossy UTF-8: some cards
/// have names that are not).
struct Caps {
    name: String,
    bus: String,
    driver: String,
    caps: u32,
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).trim().to_string()
}

fn query_caps(dev: &Device) -> io::Result<Caps> {
    // SAFETY: v4l2_capability is plain old data (integers and byte arrays), all-zero valid.
    let mut c: v4l2_capability = unsafe { std::mem::zeroed() };
    // SAFETY: VIDIOC_QUERYCAP writes one v4l2_capability through the pointer, which points
    // to a live, writable value of that type.
    unsafe {
        v4l2::ioctl(
            dev.handle().fd(),
            v4l2::vidioc::VIDIOC_QUERYCAP,
            &mut c as *mut v4l2_capability as *mut c_void,
        )?;
    }
    // the node's own capabilities, when the driver states them apart from the device's
    let caps = if c.capabilities & V4L2_CAP_DEVICE_CAPS != 0 {
        c.device_caps
    } else {
        c.capabilities
    };
    Ok(Caps {
        name: c_string(&c.card),
        bus: c_string(&c.bus_info),
        driver: c_string(&c.driver),
        caps,
    })
}

/// `/dev/videoN` nodes, by N.
fn video_nodes() -> Vec<(u32, String)> {
    let mut nodes: Vec<(u32, String)> = std::fs::read_dir("/dev")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = name.strip_prefix("video")?.parse::<u32>().ok()?;
            Some((n, format!("/dev/{name}")))
        })
        .collect();
    nodes.sort();
    nodes
}

fn intervals(dev: &Device, fourcc: FourCC, w: u32, h: u32) -> Vec<Interval> {
    let Ok(list) = dev.enum_frameintervals(fourcc, w, h) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for i in list {
        match i.interval {
            v4l::frameinterval::FrameIntervalEnum::Discrete(f) => out.push(Interval {
                num: f.numerator,
                den: f.denominator,
            }),
            v4l::frameinterval::FrameIntervalEnum::Stepwise(s) => {
                // a range of rates: the usual whole rates inside it, and its ends
                let fps = |f: Fraction| {
                    if f.numerator == 0 {
                        0.0
                    } else {
                        f64::from(f.denominator) / f64::from(f.numerator)
                    }
                };
                let (lo, hi) = (fps(s.max), fps(s.min));
                for r in [5, 10, 15, 20, 24, 25, 30, 50, 60] {
                    if f64::from(r) >= lo && f64::from(r) <= hi {
                        out.push(Interval::per_second(r));
                    }
                }
                for f in [s.min, s.max] {
                    if f.numerator > 0 && f.denominator > 0 {
                        out.push(Interval {
                            num: f.numerator,
                            den: f.denominator,
                        });
                    }
                }
            }
        }
    }
    out.dedup();
    out
}

fn modes(dev: &Device) -> (Vec<Mode>, Vec<String>) {
    let mut modes = Vec::new();
    let mut other = Vec::new();
    for desc in dev.enum_formats().unwrap_or_default() {
        let code = String::from_utf8_lossy(&desc.fourcc.repr).into_owned();
        let Some(format) = RawFormat::from_fourcc(&code) else {
            other.push(code);
            continue;
        };
        for size in dev.enum_framesizes(desc.fourcc).unwrap_or_default() {
            let sizes: Vec<(u32, u32)> = match size.size {
                v4l::framesize::FrameSizeEnum::Discrete(d) => vec![(d.width, d.height)],
                v4l::framesize::FrameSizeEnum::Stepwise(s) => COMMON_SIZES
                    .iter()
                    .copied()
                    .filter(|&(w, h)| {
                        (s.min_width..=s.max_width).contains(&w)
                            && (s.min_height..=s.max_height).contains(&h)
                    })
                    .chain([(s.max_width, s.max_height)])
                    .collect(),
            };
            for (w, h) in sizes {
                modes.push(Mode {
                    format,
                    width: w,
                    height: h,
                    intervals: intervals(dev, desc.fourcc, w, h),
                });
            }
        }
    }
    (modes, other)
}

impl V4l2System {
    /// Every `/dev/videoN` node with what it is: `Ok` for a node that captures video,
    /// `Err(why not)` for the others (a webcam's metadata node, a codec, a node that
    /// cannot be opened).
    pub fn probe(&self) -> Vec<(String, std::result::Result<DeviceInfo, String>)> {
        video_nodes()
            .into_iter()
            .map(|(index, path)| {
                // a driver's odd answer must not take the listing down
                let probed = std::panic::catch_unwind(|| probe_node(index, &path))
                    .unwrap_or_else(|_| Err("the driver's answers could not be read".into()));
                (path, probed)
            })
            .collect()
    }
}

fn probe_node(index: u32, path: &str) -> std::result::Result<DeviceInfo, String> {
    let dev = Device::with_path(path).map_err(|e| e.to_string())?;
    let caps = query_caps(&dev).map_err(|e| format!("not a V4L2 device ({e})"))?;
    if caps.caps & V4L2_CAP_VIDEO_CAPTURE == 0 {
        return Err(format!(
            "{} ({}) does not capture video (a metadata or output node)",
            caps.name, caps.driver
        ));
    }
    if caps.caps & V4L2_CAP_STREAMING == 0 {
        return Err(format!("{} cannot stream", caps.name));
    }
    let (modes, other_formats) = modes(&dev);
    Ok(DeviceInfo {
        index,
        path: path.to_string(),
        name: caps.name,
        bus: caps.bus,
        driver: caps.driver,
        modes,
        other_formats,
    })
}

impl CameraSystem for V4l2System {
    fn list(&mut self) -> Result<Vec<DeviceInfo>> {
        Ok(self
            .probe()
            .into_iter()
            .filter_map(|(_, d)| d.ok())
            .collect())
    }

    fn open(&mut self, device: &DeviceInfo, choice: &Choice) -> Result<Box<dyn CaptureDevice>> {
        V4l2Device::start(&device.path, choice)
            .map(|d| Box::new(d) as Box<dyn CaptureDevice>)
            .map_err(|e| Error::Camera(format!("{}: {e}", device.path)))
    }

    fn name(&self) -> &'static str {
        "v4l2"
    }

    fn left_out(&mut self) -> Vec<String> {
        self.probe()
            .into_iter()
            .filter_map(|(path, d)| d.err().map(|why| format!("{path}: {why}")))
            .collect()
    }
}

/// One memory-mapped driver buffer.
struct Mapped {
    ptr: *mut u8,
    len: usize,
}

/// A streaming V4L2 device.
struct V4l2Device {
    /// The open device (its descriptor: [`V4l2Device::fd`]).
    dev: Device,
    bufs: Vec<Mapped>,
    /// The buffer being read (dequeued): it goes back to the driver at the next call.
    held: Option<u32>,
    layout: RawLayout,
    fps: f64,
    streaming: bool,
}

fn is_gone(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENODEV) | Some(libc::ENXIO) | Some(libc::EBADF)
    )
}

fn capture_error(what: &str, e: io::Error) -> CaptureError {
    if is_gone(&e) {
        CaptureError::Gone(format!("{what}: {e}"))
    } else {
        CaptureError::Failed(format!("{what}: {e}"))
    }
}

/// An ioctl on `fd`, retried when a signal interrupts it.
///
/// # Safety
///
/// `arg` must point to a live, writable value of the type `request` reads and writes.
unsafe fn ioctl<T>(fd: i32, request: v4l2::vidioc::_IOC_TYPE, arg: *mut T) -> io::Result<()> {
    loop {
        // SAFETY: the caller's contract.
        match unsafe { v4l2::ioctl(fd, request, arg as *mut c_void) } {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

fn buffer_desc(index: u32) -> v4l2_buffer {
    // SAFETY: v4l2_buffer is plain old data (integers, a union of integers and a pointer,
    // timeval); all-zero is a valid value.
    let mut b: v4l2_buffer = unsafe { std::mem::zeroed() };
    b.type_ = BUF_TYPE_CAPTURE;
    b.memory = MEMORY_MMAP;
    b.index = index;
    b
}

impl V4l2Device {
    fn fd(&self) -> i32 {
        self.dev.handle().fd()
    }

    fn start(path: &str, choice: &Choice) -> io::Result<Self> {
        let dev = Device::with_path(path)?;
        let mut code = [0u8; 4];
        code.copy_from_slice(choice.format.fourcc().as_bytes());
        let fmt = dev.set_format(&Format::new(
            choice.width,
            choice.height,
            FourCC::new(&code),
        ))?;
        if fmt.fourcc.repr != code {
            return Err(io::Error::other(format!(
                "the driver gave {} instead of {}",
                String::from_utf8_lossy(&fmt.fourcc.repr),
                choice.format.fourcc()
            )));
        }
        // a driver may not let the rate be set; the rate it runs at is read back
        let params = dev
            .set_params(&v4l::video::capture::Parameters::new(Fraction::new(
                choice.interval.num,
                choice.interval.den,
            )))
            .or_else(|_| dev.params());
        let fps = params
            .ok()
            .filter(|p| p.interval.numerator > 0)
            .map_or(choice.interval.fps(), |p| {
                f64::from(p.interval.denominator) / f64::from(p.interval.numerator)
            });
        let fd = dev.handle().fd();
        let mut this = Self {
            dev,
            bufs: Vec::new(),
            held: None,
            layout: RawLayout {
                format: choice.format,
                width: fmt.width as usize,
                height: fmt.height as usize,
                stride: fmt.stride as usize,
            },
            fps,
            streaming: false,
        };
        this.map_buffers()?;
        for i in 0..this.bufs.len() as u32 {
            let mut b = buffer_desc(i);
            // SAFETY: b is a live v4l2_buffer, the type VIDIOC_QBUF takes.
            unsafe { ioctl(fd, v4l2::vidioc::VIDIOC_QBUF, &mut b)? };
        }
        let mut typ = BUF_TYPE_CAPTURE as i32;
        // SAFETY: VIDIOC_STREAMON reads one int, the buffer type.
        unsafe { ioctl(fd, v4l2::vidioc::VIDIOC_STREAMON, &mut typ)? };
        this.streaming = true;
        Ok(this)
    }

    fn map_buffers(&mut self) -> io::Result<()> {
        // SAFETY: v4l2_requestbuffers is plain old data; all-zero is valid.
        let mut req: v4l2_requestbuffers = unsafe { std::mem::zeroed() };
        req.count = BUFFERS;
        req.type_ = BUF_TYPE_CAPTURE;
        req.memory = MEMORY_MMAP;
        // SAFETY: req is a live v4l2_requestbuffers, the type VIDIOC_REQBUFS takes.
        unsafe { ioctl(self.fd(), v4l2::vidioc::VIDIOC_REQBUFS, &mut req)? };
        if req.count == 0 {
            return Err(io::Error::other("the driver gave no buffers"));
        }
        for i in 0..req.count {
            let mut b = buffer_desc(i);
            // SAFETY: b is a live v4l2_buffer, the type VIDIOC_QUERYBUF takes.
            unsafe { ioctl(self.fd(), v4l2::vidioc::VIDIOC_QUERYBUF, &mut b)? };
            let len = b.length as usize;
            // SAFETY: maps `len` bytes of the device at the offset the driver gave for this
            // buffer (the offset member of the union is the one set for MMAP buffers); the
            // mapping is checked, and unmapped in Drop.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ,
                    libc::MAP_SHARED,
                    self.fd(),
                    b.m.offset as libc::off_t,
                )
            };
            if ptr == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            self.bufs.push(Mapped {
                ptr: ptr as *mut u8,
                len,
            });
        }
        Ok(())
    }
}

impl CaptureDevice for V4l2Device {
    fn layout(&self) -> RawLayout {
        self.layout
    }

    fn fps(&self) -> f64 {
        self.fps
    }

    fn next_buffer(&mut self, timeout: Duration) -> std::result::Result<&[u8], CaptureError> {
        if let Some(i) = self.held.take() {
            let mut b = buffer_desc(i);
            // SAFETY: b is a live v4l2_buffer, the type VIDIOC_QBUF takes.
            unsafe { ioctl(self.fd(), v4l2::vidioc::VIDIOC_QBUF, &mut b) }
                .map_err(|e| capture_error("VIDIOC_QBUF", e))?;
        }
        let mut pfd = libc::pollfd {
            fd: self.fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one live pollfd.
        match unsafe { libc::poll(&mut pfd, 1, ms) } {
            0 => return Err(CaptureError::Timeout),
            -1 => {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    return Err(CaptureError::Timeout);
                }
                return Err(capture_error("poll", e));
            }
            _ => {}
        }
        let mut b = buffer_desc(0);
        // SAFETY: b is a live v4l2_buffer, the type VIDIOC_DQBUF takes.
        if let Err(e) = unsafe { ioctl(self.fd(), v4l2::vidioc::VIDIOC_DQBUF, &mut b) } {
            if e.kind() == io::ErrorKind::WouldBlock {
                return Err(CaptureError::Timeout);
            }
            return Err(capture_error("VIDIOC_DQBUF", e));
        }
        let Some(m) = self.bufs.get(b.index as usize) else {
            return Err(CaptureError::Failed(format!(
                "the driver returned buffer {} of {}",
                b.index,
                self.bufs.len()
            )));
        };
        self.held = Some(b.index);
        if b.flags & V4L2_BUF_FLAG_ERROR != 0 {
            return Err(CaptureError::Failed(
                "the driver marked the frame as corrupt".into(),
            ));
        }
        // what the driver filled; a driver that reports nothing used gives the whole buffer
        let used = match b.bytesused as usize {
            0 => m.len,
            n => n.min(m.len),
        };
        // SAFETY: the mapping is `len` bytes long and stays mapped while self lives; the
        // buffer is dequeued (the driver does not write it) until the next call, which the
        // returned borrow of self outlives.
        Ok(unsafe { std::slice::from_raw_parts(m.ptr, used) })
    }
}

impl Drop for V4l2Device {
    fn drop(&mut self) {
        if self.streaming {
            let mut typ = BUF_TYPE_CAPTURE as i32;
            // SAFETY: VIDIOC_STREAMOFF reads one int, the buffer type. Errors (an unplugged
            // device) change nothing here.
            let _ = unsafe { ioctl(self.fd(), v4l2::vidioc::VIDIOC_STREAMOFF, &mut typ) };
        }
        for m in self.bufs.drain(..) {
            // SAFETY: each mapping was made by mmap with this length and is unmapped once.
            unsafe { libc::munmap(m.ptr as *mut c_void, m.len) };
        }
        // SAFETY: v4l2_requestbuffers is plain old data; all-zero is valid.
        let mut req: v4l2_requestbuffers = unsafe { std::mem::zeroed() };
        req.type_ = BUF_TYPE_CAPTURE;
        req.memory = MEMORY_MMAP;
        // SAFETY: frees the driver's buffers (count 0); req is a live v4l2_requestbuffers.
        let _ = unsafe { ioctl(self.fd(), v4l2::vidioc::VIDIOC_REQBUFS, &mut req) };
    }
}
