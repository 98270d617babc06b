//! YUV4MPEG2 (`.y4m`) streams from a file or stdin, as `ffmpeg -f yuv4mpegpipe` writes them.
//!
//! Supported colourspaces: `420jpeg`, `420mpeg2`, `420paldv`, `420` (4:2:0, 8 bit), `422`,
//! `444` and `mono`. YUV is turned into RGB with the BT.601 matrix, limited range unless the
//! header says `XCOLORRANGE=FULL`. A stream that ends inside a frame yields every complete
//! frame and then a clear error.

use std::io::{BufRead, BufReader, Read};

use super::pollread::{PollReader, StopFlags};
use super::yuv::{block_to_rgb, Bt601, BLOCK};
use super::{FrameSource, Next, SourceKind};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::simd::Isa;

/// Chroma layout of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chroma {
    /// 4:2:0, chroma halved both ways.
    C420,
    /// 4:2:2, chroma halved horizontally.
    C422,
    /// 4:4:4.
    C444,
    /// Luma only.
    Mono,
}

/// A parsed stream header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Width.
    pub width: usize,
    /// Height.
    pub height: usize,
    /// Frame rate, if given.
    pub fps: Option<f64>,
    /// Chroma layout.
    pub chroma: Chroma,
    /// Full-range (0–255) YUV rather than limited (16–235).
    pub full_range: bool,
}

impl Header {
    /// Parses the header line (without the newline).
    pub fn parse(line: &str) -> Result<Self> {
        let mut parts = line.split(' ');
        if parts.next() != Some("YUV4MPEG2") {
            return Err(Error::Y4m("not a YUV4MPEG2 stream (bad magic)".into()));
        }
        let (mut w, mut h, mut fps) = (None, None, None);
        let mut chroma = Chroma::C420;
        let mut full_range = false;
        for p in parts.filter(|p| !p.is_empty()) {
            let (tag, val) = p.split_at(1);
            match tag {
                "W" => w = val.parse::<usize>().ok(),
                "H" => h = val.parse::<usize>().ok(),
                "F" => {
                    let mut it = val.split(':');
                    let n: f64 = it.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
                    let d: f64 = it.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
                    if n > 0.0 && d > 0.0 {
                        fps = Some(n / d);
                    }
                }
                "C" => {
                    chroma = match val {
                        "420jpeg" | "420mpeg2" | "420paldv" | "420" => Chroma::C420,
                        "422" => Chroma::C422,
                        "444" => Chroma::C444,
                        "mono" => Chroma::Mono,
                        other => {
                            return Err(Error::Y4m(format!(
                                "unsupported colourspace C{other} (supported: 420jpeg, 420mpeg2, 420paldv, 420, 422, 444, mono; 8 bit)"
                            )))
                        }
                    }
                }
                "X" if val.eq_ignore_ascii_case("COLORRANGE=FULL") => full_range = true,
                "I" if !matches!(val, "p" | "?") => {
                    return Err(Error::Y4m(format!(
                        "unsupported interlacing I{val} (only progressive)"
                    )));
                }
                _ => {}
            }
        }
        let header = match (w, h) {
            (Some(width), Some(height)) if width > 0 && height > 0 => Self {
                width,
                height,
                fps,
                chroma,
                full_range,
            },
            _ => {
                return Err(Error::Y4m(
                    "header lacks a valid size (W and H must be positive)".into(),
                ))
            }
        };
        if header.checked_frame_bytes().is_none() {
            return Err(Error::Y4m(format!(
                "frame size {}x{} is too large for this machine's address space",
                header.width, header.height
            )));
        }
        Ok(header)
    }

    /// Bytes of one frame's planes (saturating: [`Header::parse`] refuses sizes whose
    /// planes overflow).
    pub fn frame_bytes(&self) -> usize {
        self.checked_frame_bytes().unwrap_or(usize::MAX)
    }

    fn checked_frame_bytes(&self) -> Option<usize> {
        let (cw, ch) = self.chroma_size();
        let chroma = cw.checked_mul(ch)?.checked_mul(2)?;
        self.width.checked_mul(self.height)?.checked_add(chroma)
    }

    /// Size of one chroma plane (0×0 for mono).
    pub fn chroma_size(&self) -> (usize, usize) {
        let (w, h) = (self.width, self.height);
        match self.chroma {
            Chroma::C420 => (w.div_ceil(2), h.div_ceil(2)),
            Chroma::C422 => (w.div_ceil(2), h),
            Chroma::C444 => (w, h),
            Chroma::Mono => (0, 0),
        }
    }
}

/// Converts one frame's planes to RGB8 (BT.601; integer arithmetic, 16-bit fixed point)
/// into `rgb`, overwriting every byte (a recycled buffer is not cleared first). Row by
/// row, in blocks whose arithmetic is vectorised (the capture thread shares the two cores
/// with the pipeline).
pub fn yuv_to_rgb(h: &Header, planes: &[u8], rgb: &mut Vec<u8>) {
    let (w, ht) = (h.width, h.height);
    let (cw, ch) = h.chroma_size();
    let y_plane = &planes[..w * ht];
    let u_plane = &planes[w * ht..w * ht + cw * ch];
    let v_plane = &planes[w * ht + cw * ch..w * ht + 2 * cw * ch];
    crate::decode::resize_for_overwrite(rgb, w * ht * 3);
    let isa = Isa::detect();
    let k = if h.full_range {
        Bt601::FULL
    } else {
        Bt601::LIMITED
    };
    for (y, (out, yrow)) in rgb
        .chunks_exact_mut(w * 3)
        .zip(y_plane.chunks_exact(w))
        .enumerate()
    {
        let (urow, vrow, shift): (&[u8], &[u8], u32) = match h.chroma {
            Chroma::Mono => (&[], &[], 0),
            Chroma::C444 => (&u_plane[y * cw..][..cw], &v_plane[y * cw..][..cw], 0),
            Chroma::C422 => (&u_plane[y * cw..][..cw], &v_plane[y * cw..][..cw], 1),
            Chroma::C420 => (
                &u_plane[y / 2 * cw..][..cw],
                &v_plane[y / 2 * cw..][..cw],
                1,
            ),
        };
        convert_row(isa, yrow, urow, vrow, shift, &k, out);
    }
}

crate::simd::avx2_dispatch! {
    /// One row: luma `yrow`, chroma rows `urow`/`vrow` (empty for gray) sampled at
    /// `x >> shift`, into `out` (3 bytes a pixel).
    fn convert_row(isa: Isa, yrow: &[u8], urow: &[u8], vrow: &[u8], shift: u32, k: &Bt601, out: &mut [u8]) => convert_row_with
}

/// [`convert_row`]'s body, its block stores in the forms `isa` allows.
#[inline(always)]
fn convert_row_with(
    isa: Isa,
    yrow: &[u8],
    urow: &[u8],
    vrow: &[u8],
    shift: u32,
    k: &Bt601,
    out: &mut [u8],
) {
    const C: usize = BLOCK;
    let mono = urow.is_empty();
    for (x0, (ys, o)) in yrow
        .chunks(C)
        .zip(out.chunks_mut(3 * C))
        .enumerate()
        .map(|(b, p)| (b * C, p))
    {
        let (mut y, mut u, mut v) = ([0i32; C], [0i32; C], [0i32; C]);
        for (d, &yv) in y.iter_mut().zip(ys) {
            *d = yv as i32;
        }
        if !mono {
            // a block starts at an even pixel: chroma sample x0 >> shift onwards
            let c0 = x0 >> shift;
            for (dst, src) in [(&mut u, &urow[c0..]), (&mut v, &vrow[c0..])] {
                if shift == 0 {
                    for (d, &c) in dst.iter_mut().zip(src) {
                        *d = c as i32 - 128;
                    }
                } else {
                    for (d, &c) in dst.chunks_exact_mut(2).zip(src) {
                        d[0] = c as i32 - 128;
                        d[1] = c as i32 - 128;
                    }
                }
            }
        }
        block_to_rgb(isa, k, &y, &u, &v, o);
    }
}

/// A y4m stream.
pub struct Y4mSource {
    reader: Box<dyn BufRead + Send>,
    header: Header,
    planes: Vec<u8>,
    /// A frame buffer handed back by the stream ([`FrameSource::recycle`]), filled next.
    spare: Vec<u8>,
    index: u64,
    what: String,
    frame_count: Option<u64>,
    reopen: Option<std::path::PathBuf>,
    max_pixels: usize,
    /// Stop flags a pipe's reads watch.
    stops: StopFlags,
    /// The clamped frame rate was reported.
    rate_said: bool,
}

impl std::fmt::Debug for Y4mSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Y4mSource")
            .field("header", &self.header)
            .field("what", &self.what)
            .finish()
    }
}

/// Longest header or `FRAME` line accepted, newline included. ffmpeg writes lines of about
/// 80 bytes; parameters beyond this are refused rather than read as pixels.
pub const MAX_LINE: usize = 64 << 10;

/// A line of the stream, or why there is none.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// A whole line (without its newline).
    Whole(String),
    /// The stream ended before any byte.
    End,
    /// The stream ended inside a line (these bytes, no newline).
    Cut(String),
    /// No newline within [`MAX_LINE`] bytes.
    TooLong,
}

fn read_line(r: &mut dyn BufRead) -> std::io::Result<Line> {
    let mut buf = Vec::new();
    let n = r.take(MAX_LINE as u64).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(Line::End);
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match buf.last() {
        Some(b'\n') => Ok(Line::Whole(text(&buf[..buf.len() - 1]))),
        _ if n >= MAX_LINE => Ok(Line::TooLong),
        _ => Ok(Line::Cut(text(&buf))),
    }
}

/// True for the error a [`PollReader`] returns once a stop flag is raised.
fn is_stopped(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::Other && e.to_string() == super::pollread::STOPPED
}

/// A short, escaped excerpt of a line for a message.
fn excerpt(line: &str) -> String {
    format!("{:?}", line.chars().take(16).collect::<String>())
}

/// Frame rates paced as given; a header's rate outside is clamped (and said).
pub const FPS_RANGE: (f64, f64) = (0.1, 1000.0);

impl Y4mSource {
    /// Reads the header of a stream.
    pub fn new(reader: Box<dyn BufRead + Send>, what: &str) -> Result<Self> {
        Self::with_stops(reader, what, StopFlags::default())
    }

    fn with_stops(reader: Box<dyn BufRead + Send>, what: &str, stops: StopFlags) -> Result<Self> {
        let mut reader = reader;
        let line = match read_line(&mut *reader).map_err(|e| {
            if is_stopped(&e) {
                return Error::Stopped;
            }
            Error::Y4m(format!("{what}: cannot read header: {e}"))
        })? {
            Line::Whole(l) => l,
            Line::End => return Err(Error::Y4m(format!("{what}: empty stream (no header)"))),
            Line::Cut(l) => {
                return Err(Error::Y4m(format!(
                    "{what}: the stream ends inside its header {} (no newline)",
                    excerpt(&l)
                )))
            }
            Line::TooLong => {
                return Err(Error::Y4m(format!(
                    "{what}: header line too long (no newline within {MAX_LINE} bytes)"
                )))
            }
        };
        let header = Header::parse(&line).map_err(|e| match e {
            Error::Y4m(m) => Error::Y4m(format!("{what}: {m}")),
            other => other,
        })?;
        Ok(Self {
            reader,
            header,
            planes: Vec::new(),
            spare: Vec::new(),
            index: 0,
            what: what.to_string(),
            frame_count: None,
            reopen: None,
            max_pixels: crate::pipeline::DEFAULT_MAX_PIXELS,
            stops,
            rate_said: false,
        })
    }

    /// Sets the largest frame accepted, in pixels (default
    /// [`DEFAULT_MAX_PIXELS`](crate::pipeline::DEFAULT_MAX_PIXELS), the pipeline's own
    /// default), and checks the stream's frames against it now: a header that announces
    /// larger frames fails here, before any frame buffer is allocated.
    pub fn with_max_pixels(mut self, limit: usize) -> Result<Self> {
        self.max_pixels = limit;
        self.check_size()?;
        Ok(self)
    }

    /// [`Error::TooLarge`] when the frames have more pixels than allowed.
    fn check_size(&self) -> Result<()> {
        crate::pipeline::check_pixels(self.header.width, self.header.height, self.max_pixels)
    }

    /// Opens a `.y4m` file (its frame count is known from its size), or a named pipe
    /// (read without blocking a stop request).
    pub fn open(path: &std::path::Path) -> Result<Self> {
        Self::open_watching(path, StopFlags::default())
    }

    /// [`Y4mSource::open`], with stop flags a pipe's reads watch from the start (the
    /// header is read before the stream's own flag exists).
    pub fn open_watching(path: &std::path::Path, stops: StopFlags) -> Result<Self> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let regular = std::fs::metadata(path).map_err(io)?.is_file();
        if !regular {
            let reader = PollReader::open(path, stops.clone()).map_err(io)?;
            return Self::with_stops(
                Box::new(BufReader::with_capacity(1 << 20, reader)),
                &path.display().to_string(),
                stops,
            );
        }
        let file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map(|m| m.len()).ok();
        let mut s = Self::new(
            Box::new(BufReader::with_capacity(1 << 20, file)),
            &path.display().to_string(),
        )?;
        if let Some(size) = size {
            // header line + per frame "FRAME\n" + planes (frame parameters are rare)
            let per = (s.header.frame_bytes() + 6) as u64;
            s.frame_count = Some(size / per);
        }
        s.reopen = Some(path.to_path_buf());
        Ok(s)
    }

    /// Reads a stream from standard input; its reads watch `stops` (and the stream's own
    /// stop flag once it runs), so a stdin that stays open but sends nothing does not hold
    /// up a stop request.
    pub fn stdin(stops: StopFlags) -> Result<Self> {
        let reader = PollReader::stdin(stops.clone());
        Self::with_stops(
            Box::new(BufReader::with_capacity(1 << 20, reader)),
            "stdin",
            stops,
        )
    }

    /// The stream header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The header's frame rate, clamped to [`FPS_RANGE`].
    fn clamped_fps(&self) -> Option<f64> {
        self.header.fps.map(|f| f.clamp(FPS_RANGE.0, FPS_RANGE.1))
    }
}

impl FrameSource for Y4mSource {
    fn next(&mut self) -> Result<Next> {
        if !self.rate_said {
            self.rate_said = true;
            if let Some(f) = self
                .header
                .fps
                .filter(|&f| f != self.clamped_fps().unwrap_or(f))
            {
                return Ok(Next::Notice(format!(
                    "{}: the header's frame rate {f} is outside {} to {} frames/s: paced at {} (--fps N or --fast to choose)",
                    self.what,
                    FPS_RANGE.0,
                    FPS_RANGE.1,
                    self.clamped_fps().unwrap_or(f)
                )));
            }
        }
        let line = read_line(&mut *self.reader).map_err(|e| {
            if is_stopped(&e) {
                return Error::Stopped;
            }
            Error::Y4m(format!(
                "{}: read error before frame {}: {e}",
                self.what, self.index
            ))
        })?;
        let line = match line {
            Line::Whole(l) => l,
            Line::End => return Ok(Next::End),
            Line::Cut(l) => {
                return Err(Error::Y4m(format!(
                    "{}: truncated: the stream ends inside frame {}'s marker line {}",
                    self.what,
                    self.index,
                    excerpt(&l)
                )))
            }
            Line::TooLong => {
                return Err(Error::Y4m(format!(
                    "{}: frame {}: line too long (no newline within {MAX_LINE} bytes)",
                    self.what, self.index
                )))
            }
        };
        if line != "FRAME" && !line.starts_with("FRAME ") {
            return Err(Error::Y4m(format!(
                "{}: frame {}: expected FRAME marker, found {}",
                self.what,
                self.index,
                excerpt(&line)
            )));
        }
        self.check_size()?;
        let need = self.header.frame_bytes();
        self.planes.resize(need, 0);
        let mut got = 0;
        while got < need {
            match self.reader.read(&mut self.planes[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if is_stopped(&e) => return Err(Error::Stopped),
                Err(e) => {
                    return Err(Error::Y4m(format!(
                        "{}: read error in frame {}: {e}",
                        self.what, self.index
                    )))
                }
            }
        }
        if got < need {
            return Err(Error::Y4m(format!(
                "{}: truncated: frame {} has {got} of {need} bytes (the {} complete frames before it were processed)",
                self.what, self.index, self.index
            )));
        }
        let mut rgb = std::mem::take(&mut self.spare);
        yuv_to_rgb(&self.header, &self.planes, &mut rgb);
        let mut f = Frame::new(self.index, self.header.width, self.header.height, rgb)?;
        f.origin = format!("{}#{}", self.what, self.index);
        self.index += 1;
        Ok(Next::Frame(f))
    }

    fn kind(&self) -> SourceKind {
        SourceKind::Replay
    }

    fn recycle(&mut self, buf: Vec<u8>) {
        super::keep_spare(&mut self.spare, buf);
    }

    fn fps(&self) -> Option<f64> {
        self.clamped_fps()
    }

    fn watch_stop(&mut self, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) {
        self.stops.add(stop);
    }

    fn len_hint(&self) -> Option<u64> {
        self.frame_count
    }

    fn rewind(&mut self) -> Result<bool> {
        let Some(path) = self.reopen.clone() else {
            return Ok(false);
        };
        let fresh =
            Self::open_watching(&path, self.stops.clone())?.with_max_pixels(self.max_pixels)?;
        self.reader = fresh.reader;
        self.index = 0;
        Ok(true)
    }

    fn describe(&self) -> String {
        format!(
            "{} (y4m {}x{}{})",
            self.what,
            self.header.width,
            self.header.height,
            self.header
                .fps
                .map(|f| format!(" @ {f} fps"))
                .unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ffmpeg_header() {
        let h = Header::parse(
            "YUV4MPEG2 W640 H480 F30:1 Ip A0:0 C420jpeg XYSCSS=420JPEG XCOLORRANGE=LIMITED",
        )
        .unwrap();
        assert_eq!((h.width, h.height, h.fps), (640, 480, Some(30.0)));
        assert_eq!(h.chroma, Chroma::C420);
        assert!(!h.full_range);
        assert_eq!(h.frame_bytes(), 640 * 480 * 3 / 2);
    }

    #[test]
    fn rejects_bad_headers() {
        assert!(Header::parse("YUV4MPEG W4 H4").is_err());
        assert!(Header::parse("YUV4MPEG2 W4").is_err());
        assert!(Header::parse("YUV4MPEG2 W0 H4").is_err());
        let e = Header::parse("YUV4MPEG2 W4 H4 C420p10")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unsupported colourspace"), "{e}");
        // sizes whose planes overflow the address space
        for line in [
            "YUV4MPEG2 W18446744073709551615 H2",
            "YUV4MPEG2 W4294967296 H4294967296 C444",
        ] {
            let e = Header::parse(line).unwrap_err().to_string();
            assert!(e.contains("too large"), "{line}: {e}");
        }
    }

    fn stream(text: &'static [u8]) -> Y4mSource {
        Y4mSource::new(Box::new(std::io::Cursor::new(text)), "test").unwrap()
    }

    #[test]
    fn frames_over_the_pixel_limit_fail_before_allocating() {
        // 99 999² pixels would be 15 GB of planes: refused when the limit is set...
        let big = b"YUV4MPEG2 W99999 H99999 F30:1\nFRAME\n";
        let e = stream(big).with_max_pixels(16_000_000).unwrap_err();
        assert!(
            matches!(
                e,
                Error::TooLarge {
                    width: 99999,
                    height: 99999,
                    limit: 16_000_000,
                    ..
                }
            ),
            "{e}"
        );
        // ...and by the default limit when it is not, at the first frame
        let mut s = stream(big);
        assert!(matches!(s.next(), Err(Error::TooLarge { .. })));
        assert_eq!(s.planes.capacity(), 0, "no frame buffer was allocated");
        // a raised limit lets the frames through (this one then ends early)
        let mut s = stream(b"YUV4MPEG2 W5000 H4000\nFRAME\n")
            .with_max_pixels(20_000_000)
            .unwrap();
        let e = s.next().unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn gray_round_trip_limited_range() {
        let h = Header::parse("YUV4MPEG2 W2 H2 C444").unwrap();
        let planes = [16, 235, 126, 126, 128, 128, 128, 128, 128, 128, 128, 128];
        let mut rgb = Vec::new();
        yuv_to_rgb(&h, &planes, &mut rgb);
        assert_eq!(&rgb[0..3], &[0, 0, 0]);
        assert_eq!(&rgb[3..6], &[255, 255, 255]);
        assert_eq!(rgb[6], rgb[7]);
    }

    /// The conversion pixel by pixel, indices computed per pixel (the specification).
    fn reference(h: &Header, planes: &[u8]) -> Vec<u8> {
        let (w, ht) = (h.width, h.height);
        let (cw, ch) = h.chroma_size();
        let k = if h.full_range {
            Bt601::FULL
        } else {
            Bt601::LIMITED
        };
        let mut rgb = Vec::with_capacity(w * ht * 3);
        for y in 0..ht {
            for x in 0..w {
                let (cx, cy) = match h.chroma {
                    Chroma::C420 => (x / 2, y / 2),
                    Chroma::C422 => (x / 2, y),
                    _ => (x, y),
                };
                let (u, v) = if h.chroma == Chroma::Mono {
                    (0, 0)
                } else {
                    let at = w * ht + cy * cw + cx;
                    (planes[at] as i32 - 128, planes[at + cw * ch] as i32 - 128)
                };
                rgb.extend(k.pixel(planes[y * w + x], u, v));
            }
        }
        rgb
    }

    #[test]
    fn row_conversion_equals_the_pixel_formula() {
        for chroma in ["C420jpeg", "C422", "C444", "Cmono"] {
            for range in ["XCOLORRANGE=LIMITED", "XCOLORRANGE=FULL"] {
                for (w, ht) in [(7, 5), (8, 4), (1, 1), (33, 3), (64, 2), (131, 3)] {
                    let line = format!("YUV4MPEG2 W{w} H{ht} {chroma} {range}");
                    let h = Header::parse(&line).unwrap();
                    let planes: Vec<u8> = (0..h.frame_bytes())
                        .map(|i| (i * 7919 % 256) as u8)
                        .collect();
                    let mut rgb = Vec::new();
                    yuv_to_rgb(&h, &planes, &mut rgb);
                    assert_eq!(rgb, reference(&h, &planes), "{line}");
                    // a recycled buffer of the right length is overwritten, not cleared
                    let mut dirty = vec![0xAA; w * ht * 3];
                    yuv_to_rgb(&h, &planes, &mut dirty);
                    assert_eq!(dirty, rgb, "{line}, recycled buffer");
                }
            }
        }
    }

    #[test]
    fn truncated_stream_reports_after_complete_frames() {
        let mut data = b"YUV4MPEG2 W2 H2 F25:1 C444\n".to_vec();
        data.extend_from_slice(b"FRAME\n");
        data.extend_from_slice(&[100; 12]);
        data.extend_from_slice(b"FRAME\n");
        data.extend_from_slice(&[100; 5]);
        let mut s = Y4mSource::new(Box::new(std::io::Cursor::new(data)), "t").unwrap();
        assert!(matches!(s.next().unwrap(), Next::Frame(_)));
        let e = s.next().unwrap_err().to_string();
        assert!(e.contains("truncated") && e.contains("5 of 12"), "{e}");
    }
}
