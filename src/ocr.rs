//! Reading text lines with Tesseract 5 (libtesseract, through `tesseract-plumbing`): one
//! engine per thread, made once (loading the language data takes a few hundred
//! milliseconds) and reused for every line.
//!
//! [`LineReader::read_line`] recognises one line: the crop it is given is read as a single
//! line of text (page segmentation mode 7). What to give it is the caller's choice;
//! [`line_input`] builds the input layercam uses (see the README's OCR table for why), and
//! [`read_lines`] reads every line of a frame.

use std::ffi::CString;

use tesseract_plumbing::tesseract_sys::{
    TessPageSegMode_PSM_AUTO, TessPageSegMode_PSM_SINGLE_LINE,
};
use tesseract_plumbing::TessBaseApi;

use crate::error::{Error, Result};
use crate::pipeline::lines::TextLine;

/// The languages `--ocr-lang` defaults to: simplified Chinese and English.
pub const DEFAULT_LANGUAGES: &str = "chi_sim+eng";

/// `pixels` (of `from` size) scaled to `to` (triangle filter).
fn resized<P: image::Pixel<Subpixel = u8> + 'static>(
    pixels: &[u8],
    from: (usize, usize),
    to: (usize, usize),
) -> Result<Vec<u8>> {
    let img =
        image::ImageBuffer::<P, Vec<u8>>::from_raw(from.0 as u32, from.1 as u32, pixels.to_vec())
            .ok_or_else(|| Error::Ocr("crop size does not match its pixels".into()))?;
    Ok(image::imageops::resize(
        &img,
        to.0 as u32,
        to.1 as u32,
        image::imageops::FilterType::Triangle,
    )
    .into_raw())
}

/// Line crops taller than this are scaled down to it before reading.
pub const MAX_READ_HEIGHT: usize = 48;

/// What Tesseract read in a crop.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Reading {
    /// The text, trimmed, lines joined by a space.
    pub text: String,
    /// Tesseract's mean word confidence, 0–100.
    pub confidence: f32,
}

/// A line of Tesseract's page segmentation being gathered: (block, paragraph, line)
/// numbers, box, words, word confidences.
type PageLine = ((u32, u32, u32), TextLine, Vec<String>, Vec<f32>);

/// A Tesseract engine for one thread.
pub struct LineReader {
    api: TessBaseApi,
    languages: String,
}

// SAFETY: a TessBaseAPI may move between threads; it is used from one at a time (`&mut`).
unsafe impl Send for LineReader {}

impl std::fmt::Debug for LineReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineReader")
            .field("languages", &self.languages)
            .finish()
    }
}

/// Where Tesseract looks for language data: `TESSDATA_PREFIX`, else the first of the
/// usual install folders that exists.
pub fn tessdata_dir() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("TESSDATA_PREFIX") {
        return Some(p.into());
    }
    [
        "/usr/share/tesseract-ocr/5/tessdata",
        "/usr/share/tesseract-ocr/4.00/tessdata",
        "/usr/local/share/tessdata",
        "/usr/share/tessdata",
    ]
    .iter()
    .map(std::path::PathBuf::from)
    .find(|p| p.is_dir())
}

/// The Debian package holding a Tesseract language's data.
pub fn language_package(lang: &str) -> String {
    format!("tesseract-ocr-{}", lang.replace('_', "-").to_lowercase())
}

impl LineReader {
    /// An engine for `languages` (`+`-separated Tesseract names, e.g. `chi_sim+eng`).
    ///
    /// # Errors
    ///
    /// [`Error::Ocr`] naming the package to install when a language's data is missing.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let mut reader = layercam::ocr::LineReader::new("eng")?;
    /// let white = vec![255u8; 40 * 20];
    /// let reading = reader.read_line(&white, 40, 20, 1)?;
    /// assert!(reading.text.is_empty());
    /// # Ok::<(), layercam::Error>(())
    /// ```
    pub fn new(languages: &str) -> Result<Self> {
        let langs: Vec<&str> = languages.split('+').filter(|l| !l.is_empty()).collect();
        if langs.is_empty() {
            return Err(Error::Ocr("no OCR language given".into()));
        }
        // Tesseract goes on without a language it cannot load: refuse that here instead
        if let Some(dir) = tessdata_dir() {
            let missing: Vec<String> = langs
                .iter()
                .filter(|l| !dir.join(format!("{l}.traineddata")).is_file())
                .map(|l| format!("{l} (package {})", language_package(l)))
                .collect();
            if !missing.is_empty() {
                return Err(Error::Ocr(format!(
                    "Tesseract has no language data for {} in {}: install it (scripts/setup-system run does)",
                    missing.join(", "),
                    dir.display()
                )));
            }
        }
        let c = CString::new(languages)
            .map_err(|_| Error::Ocr(format!("bad OCR language list {languages:?}")))?;
        let mut api = TessBaseApi::create();
        if api.init_2(None, Some(&c)).is_err() {
            // which of them: each alone (only on this failure path)
            let missing: Vec<String> = langs
                .iter()
                .filter(|l| {
                    let one = CString::new(**l).unwrap_or_default();
                    TessBaseApi::create().init_2(None, Some(&one)).is_err()
                })
                .map(|l| format!("{l} (package {})", language_package(l)))
                .collect();
            return Err(Error::Ocr(format!(
                "Tesseract has no language data for {}: install it (scripts/setup-system run does)",
                if missing.is_empty() {
                    languages.to_string()
                } else {
                    missing.join(", ")
                }
            )));
        }
        Ok(Self {
            api,
            languages: languages.to_string(),
        })
    }

    /// The languages the engine reads.
    pub fn languages(&self) -> &str {
        &self.languages
    }

    /// Reads a `width × height` image of `channels` bytes a pixel (1 gray, 3 RGB) as one
    /// line of text.
    ///
    /// # Errors
    ///
    /// [`Error::Ocr`] when the engine refuses the image (empty, or too small to hold
    /// text) or fails to recognise it.
    pub fn read_line(
        &mut self,
        image: &[u8],
        width: usize,
        height: usize,
        channels: usize,
    ) -> Result<Reading> {
        // Tesseract's line recogniser works at about 36 pixels of height: a taller crop
        // only costs time
        if height > MAX_READ_HEIGHT && (channels == 1 || channels == 3) && width >= 3 {
            let to = (((width * MAX_READ_HEIGHT) / height).max(3), MAX_READ_HEIGHT);
            let small = if channels == 3 {
                resized::<image::Rgb<u8>>(image, (width, height), to)?
            } else {
                resized::<image::Luma<u8>>(image, (width, height), to)?
            };
            return self.read(
                &small,
                to.0,
                to.1,
                channels,
                TessPageSegMode_PSM_SINGLE_LINE,
            );
        }
        self.read(
            image,
            width,
            height,
            channels,
            TessPageSegMode_PSM_SINGLE_LINE,
        )
    }

    /// Reads a whole image (Tesseract's automatic page segmentation): the baseline
    /// layercam's lines are measured against.
    ///
    /// # Errors
    ///
    /// As [`read_line`](Self::read_line).
    pub fn read_page(
        &mut self,
        image: &[u8],
        width: usize,
        height: usize,
        channels: usize,
    ) -> Result<Reading> {
        self.read(image, width, height, channels, TessPageSegMode_PSM_AUTO)
    }

    /// Reads a whole `width × height` image (RGB8) and returns Tesseract's own text lines:
    /// their boxes (image pixels), text and mean word confidence, in reading order.
    ///
    /// # Errors
    ///
    /// As [`read_line`](Self::read_line).
    pub fn read_page_lines(
        &mut self,
        rgb: &[u8],
        width: usize,
        height: usize,
    ) -> Result<Vec<(TextLine, Reading)>> {
        self.read(rgb, width, height, 3, TessPageSegMode_PSM_AUTO)?;
        let tsv = self
            .api
            .get_tsv_text(0)
            .map_err(|_| Error::Ocr("no text from the engine".into()))?;
        let tsv = tsv.as_ref().to_string_lossy().into_owned();
        // level 5 rows are words; their block/paragraph/line numbers group them into lines
        let mut lines: Vec<PageLine> = Vec::new();
        for row in tsv.lines() {
            let f: Vec<&str> = row.split('\t').collect();
            if f.len() < 12 || f[0] != "5" {
                continue;
            }
            let num = |i: usize| f[i].trim().parse::<i64>().unwrap_or(-1);
            let (x, y, w, h, conf) = (
                num(6),
                num(7),
                num(8),
                num(9),
                f[10].trim().parse::<f32>().unwrap_or(-1.0),
            );
            let word = f[11].trim();
            if word.is_empty() || x < 0 || y < 0 || w <= 0 || h <= 0 || conf < 0.0 {
                continue;
            }
            let key = (num(2) as u32, num(3) as u32, num(4) as u32);
            let b = TextLine {
                x: x as u32,
                y: y as u32,
                w: w as u32,
                h: h as u32,
                layer: 0,
            };
            match lines.iter_mut().find(|l| l.0 == key) {
                Some(l) => {
                    let (x0, y0) = (l.1.x.min(b.x), l.1.y.min(b.y));
                    let (x1, y1) = (
                        (l.1.x + l.1.w).max(b.x + b.w),
                        (l.1.y + l.1.h).max(b.y + b.h),
                    );
                    l.1 = TextLine {
                        x: x0,
                        y: y0,
                        w: x1 - x0,
                        h: y1 - y0,
                        layer: 0,
                    };
                    l.2.push(word.to_string());
                    l.3.push(conf);
                }
                None => lines.push((key, b, vec![word.to_string()], vec![conf])),
            }
        }
        Ok(lines
            .into_iter()
            .map(|(_, b, words, confs)| {
                let confidence = confs.iter().sum::<f32>() / confs.len().max(1) as f32;
                (
                    b,
                    Reading {
                        text: words.join(" "),
                        confidence,
                    },
                )
            })
            .collect())
    }

    fn read(
        &mut self,
        image: &[u8],
        width: usize,
        height: usize,
        channels: usize,
        mode: tesseract_plumbing::tesseract_sys::TessPageSegMode,
    ) -> Result<Reading> {
        if width < 3 || height < 3 {
            return Err(Error::Ocr(format!("{width}x{height} is too small to read")));
        }
        let int = |v: usize| i32::try_from(v).map_err(|_| Error::Ocr("image too large".into()));
        self.api.set_page_seg_mode(mode);
        self.api
            .set_image(
                image,
                int(width)?,
                int(height)?,
                int(channels)?,
                int(width * channels)?,
            )
            .map_err(|e| {
                Error::Ocr(format!(
                    "the engine refused a {width}x{height} image: {e:?}"
                ))
            })?;
        self.api
            .recognize()
            .map_err(|_| Error::Ocr("recognition failed".into()))?;
        let text = self
            .api
            .get_utf8_text()
            .map_err(|_| Error::Ocr("no text from the engine".into()))?;
        let text = text.as_ref().to_string_lossy();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let confidence = self.api.mean_text_conf().clamp(0, 100) as f32;
        Ok(Reading { text, confidence })
    }
}

/// The input for reading `line` of a `width × height` RGB8 frame: the source crop with the
/// margin of [`crate::output::line_crop`], RGB, written into `out`; returns its width and
/// height. Measured on the shared stills, Tesseract reads this better than the line's layer
/// (black on white, at the label map's scale or scaled up further) or the source scaled up:
/// see the README's OCR table.
pub fn line_input(
    rgb: &[u8],
    width: usize,
    height: usize,
    line: &TextLine,
    out: &mut Vec<u8>,
) -> (usize, usize) {
    let (x0, y0, cw, ch) = crate::output::line_crop(line, width, height);
    out.clear();
    for y in y0..y0 + ch {
        out.extend_from_slice(&rgb[(y * width + x0) * 3..(y * width + x0 + cw) * 3]);
    }
    (cw, ch)
}

/// Share of a line Tesseract found by itself that layercam's lines may cover before it is
/// taken for text they already hold.
pub const PAGE_LINE_COVERED: f64 = 0.3;

/// Pixels two boxes share.
fn overlap(a: &TextLine, b: &TextLine) -> u64 {
    let w = (a.x + a.w).min(b.x + b.w).saturating_sub(a.x.max(b.x));
    let h = (a.y + a.h).min(b.y + b.h).saturating_sub(a.y.max(b.y));
    w as u64 * h as u64
}

/// Least confidence of a line Tesseract found by itself outside layercam's lines for it to
/// be reported (its lines in texture or noise come with low confidence).
pub const PAGE_LINE_CONFIDENCE: f32 = 60.0;

/// Text of the frame outside `lines` (give it the lines that were read): Tesseract's own lines of the whole frame of which
/// `lines` cover less than [`PAGE_LINE_COVERED`] of the area, read with confidence of at
/// least [`PAGE_LINE_CONFIDENCE`]. Text whose
/// gray level shares its background's layer is in no layer of its own, so no line finds it;
/// the recogniser's page segmentation on the colour frame does. (About a second a frame at
/// 720p: for files, and the live reader's occasional sweep.)
///
/// # Errors
///
/// As [`LineReader::read_page`].
pub fn read_outside_lines(
    reader: &mut LineReader,
    rgb: &[u8],
    width: usize,
    height: usize,
    lines: &[TextLine],
) -> Result<Vec<(TextLine, Reading)>> {
    let page = reader.read_page_lines(rgb, width, height)?;
    Ok(page
        .into_iter()
        .filter(|(b, r)| {
            let covered: u64 = lines.iter().map(|l| overlap(b, l)).sum();
            r.confidence >= PAGE_LINE_CONFIDENCE
                && (covered as f64) < PAGE_LINE_COVERED * (b.w as u64 * b.h as u64) as f64
        })
        .collect())
}

/// Reads every line of a `width × height` RGB8 frame: a reading per line, `None` where the
/// engine refused the crop (counted in the second value, never an error: one bad crop does
/// not lose the frame's other lines). Readings with no text are `None` too.
pub fn read_lines(
    reader: &mut LineReader,
    rgb: &[u8],
    width: usize,
    height: usize,
    lines: &[TextLine],
    scratch: &mut Vec<u8>,
) -> (Vec<Option<Reading>>, usize) {
    let mut refused = 0;
    let readings = lines
        .iter()
        .map(|l| {
            let (w, h) = line_input(rgb, width, height, l, scratch);
            match reader.read_line(scratch, w, h, 3) {
                Ok(r) if !r.text.is_empty() => Some(r),
                Ok(_) => None,
                Err(_) => {
                    refused += 1;
                    None
                }
            }
        })
        .collect();
    (readings, refused)
}

/// What the live reader knows of a line: its best reading so far and the frame it came
/// from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LineText {
    /// The text.
    pub text: String,
    /// Confidence, 0–100.
    pub confidence: f32,
    /// The frame whose crop gave it.
    pub frame: u64,
}

/// Cells of a crop's signature: a coarse gray thumbnail (4 rows × 16 columns) telling
/// whether a line's content changed since it was read.
const SIG_ROWS: usize = 4;
const SIG_COLS: usize = 16;
type Signature = [u8; SIG_ROWS * SIG_COLS];

/// Mean absolute difference of two signatures above which a line is read again.
pub const CHANGED: u32 = 12;
/// Frames a track survives without being seen.
pub const TRACK_TTL: u64 = 60;

fn signature(rgb: &[u8], w: usize, h: usize) -> Signature {
    let mut sum = [0u32; SIG_ROWS * SIG_COLS];
    let mut n = [0u32; SIG_ROWS * SIG_COLS];
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) * 3;
            let g =
                (rgb[i] as u32 * 299 + rgb[i + 1] as u32 * 587 + rgb[i + 2] as u32 * 114) / 1000;
            let c = (y * SIG_ROWS / h.max(1)) * SIG_COLS + x * SIG_COLS / w.max(1);
            sum[c] += g;
            n[c] += 1;
        }
    }
    let mut s = [0u8; SIG_ROWS * SIG_COLS];
    for c in 0..s.len() {
        s[c] = (sum[c] / n[c].max(1)) as u8;
    }
    s
}

fn differs(a: &Signature, b: &Signature) -> bool {
    let d: u32 = a.iter().zip(b).map(|(x, y)| x.abs_diff(*y) as u32).sum();
    d / a.len() as u32 > CHANGED
}

#[derive(Debug)]
struct Track {
    id: u64,
    line: TextLine,
    seen: u64,
    born: std::time::Instant,
    sig: Signature,
    /// Signature of the crop the best reading came from.
    read_sig: Option<Signature>,
    best: Option<LineText>,
    pending: bool,
}

/// One crop to read: track, frame, image (RGB8), size, signature.
type Item = (u64, u64, Vec<u8>, usize, usize, Signature);
/// What became of a crop sent to the reading thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Read (possibly finding no text).
    Read,
    /// The engine refused it.
    Refused,
    /// Replaced by newer crops before its turn: not read.
    Skipped,
}

/// A finished crop: track, frame, reading (None: no text, refused or skipped), signature.
type Done = (u64, u64, Option<Reading>, Signature, Outcome);

/// Reads the text lines of a stream on a thread of its own, so that the pipeline and the
/// window keep their frame rate.
///
/// Lines are tracked across frames (a line matches the track whose box it overlaps most,
/// IoU ≥ 0.5). A track is read once, and again only when its crop changes (its coarse
/// thumbnail moves by more than [`CHANGED`] gray levels on average); what a line shows is
/// its track's best reading so far (the most confident, or the newest after a change).
/// Crops go to the reading thread behind a latest-wins queue: while it reads, newer crops
/// replace the ones still waiting, down to the crop (the lines in view now are read
/// first; the ones replaced are sent again while they stay in view). Tracks unseen for [`TRACK_TTL`] frames are dropped, so
/// memory stays flat however long the stream.
pub struct LiveReader {
    jobs: crossbeam_channel::Sender<Vec<Item>>,
    stale: crossbeam_channel::Receiver<Vec<Item>>,
    done: crossbeam_channel::Receiver<Done>,
    thread: Option<std::thread::JoinHandle<()>>,
    tracks: Vec<Track>,
    next_id: u64,
    scratch: Vec<u8>,
    /// Milliseconds from a track's first sighting to its first text.
    pub first_text_ms: Vec<f64>,
    /// Readings made.
    pub readings: u64,
    /// Crops the engine refused.
    pub refused: u64,
}

impl std::fmt::Debug for LiveReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveReader")
            .field("tracks", &self.tracks.len())
            .finish()
    }
}

fn iou(a: &TextLine, b: &TextLine) -> f64 {
    let i = overlap(a, b) as f64;
    let u = (a.w as u64 * a.h as u64 + b.w as u64 * b.h as u64) as f64 - i;
    if u > 0.0 {
        i / u
    } else {
        0.0
    }
}

impl LiveReader {
    /// Starts the reading thread with an engine for `languages` (made here, so that a
    /// missing language is an error before the stream starts).
    ///
    /// # Errors
    ///
    /// As [`LineReader::new`]; [`Error::Thread`] when the thread cannot start.
    pub fn start(languages: &str) -> Result<Self> {
        let mut reader = LineReader::new(languages)?;
        let (jtx, jrx) = crossbeam_channel::bounded::<Vec<Item>>(1);
        let (dtx, drx) = crossbeam_channel::unbounded::<Done>();
        let stale = jrx.clone();
        let thread = std::thread::Builder::new()
            .name("layercam-ocr".into())
            .spawn(move || {
                // ends when the reader (the sender's owner) is dropped
                let mut queue: std::collections::VecDeque<Item> = Default::default();
                loop {
                    if queue.is_empty() {
                        match jrx.recv() {
                            Ok(items) => queue.extend(items),
                            Err(_) => return,
                        }
                    }
                    // newer crops replace the ones not read yet: those go back unread
                    if let Ok(newer) = jrx.try_recv() {
                        for (track, frame, _, _, _, sig) in queue.drain(..) {
                            if dtx
                                .send((track, frame, None, sig, Outcome::Skipped))
                                .is_err()
                            {
                                return;
                            }
                        }
                        queue.extend(newer);
                    }
                    let Some((track, frame, img, w, h, sig)) = queue.pop_front() else {
                        continue;
                    };
                    let (r, outcome) = match reader.read_line(&img, w, h, 3) {
                        Ok(r) if !r.text.is_empty() => (Some(r), Outcome::Read),
                        Ok(_) => (None, Outcome::Read),
                        Err(_) => (None, Outcome::Refused),
                    };
                    if dtx.send((track, frame, r, sig, outcome)).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| Error::Thread(format!("cannot start the OCR thread: {e}")))?;
        Ok(Self {
            jobs: jtx,
            stale,
            done: drx,
            thread: Some(thread),
            tracks: Vec::new(),
            next_id: 0,
            scratch: Vec::new(),
            first_text_ms: Vec::new(),
            readings: 0,
            refused: 0,
        })
    }

    /// Takes in frame `frame`'s lines (of its `width × height` RGB8 pixels): matches them to
    /// tracks, queues the crops that need reading, takes the readings that are done, and
    /// returns what is known of each line, in the lines' order.
    pub fn observe(
        &mut self,
        frame: u64,
        rgb: &[u8],
        width: usize,
        height: usize,
        lines: &[TextLine],
    ) -> Vec<Option<LineText>> {
        self.collect();
        let mut matched = Vec::with_capacity(lines.len());
        let mut items = Vec::new();
        let mut order = Vec::new();
        for l in lines {
            let best = self
                .tracks
                .iter()
                .enumerate()
                .filter(|(_, t)| t.seen != frame || t.line == *l)
                .map(|(k, t)| (k, iou(&t.line, l)))
                .filter(|&(_, v)| v >= 0.5)
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(k, _)| k);
            let (w, h) = line_input(rgb, width, height, l, &mut self.scratch);
            let sig = signature(&self.scratch, w, h);
            let k = match best {
                Some(k) => k,
                None => {
                    self.next_id += 1;
                    self.tracks.push(Track {
                        id: self.next_id,
                        line: *l,
                        seen: frame,
                        born: std::time::Instant::now(),
                        sig,
                        read_sig: None,
                        best: None,
                        pending: false,
                    });
                    self.tracks.len() - 1
                }
            };
            let t = &mut self.tracks[k];
            t.line = *l;
            t.seen = frame;
            t.sig = sig;
            let changed = t.read_sig.is_some_and(|r| differs(&r, &sig));
            if !t.pending && (t.read_sig.is_none() || changed) && w >= 3 && h >= 3 {
                t.pending = true;
                items.push((t.id, frame, self.scratch.clone(), w, h, sig));
                order.push((t.read_sig.is_some(), t.id));
            }
            matched.push(k);
        }
        if !items.is_empty() {
            // lines never read first, oldest first; re-reads of changed lines after them
            let mut keyed: Vec<_> = order.into_iter().zip(items).collect();
            keyed.sort_by_key(|(k, _)| *k);
            let items: Vec<Item> = keyed.into_iter().map(|(_, it)| it).collect();
            // latest wins: crops still waiting are replaced (their tracks become free again)
            if let Ok(old) = self.stale.try_recv() {
                for (id, ..) in old {
                    if let Some(t) = self.tracks.iter_mut().find(|t| t.id == id) {
                        t.pending = false;
                    }
                }
            }
            let _ = self.jobs.try_send(items);
        }
        let texts = matched
            .iter()
            .map(|&k| self.tracks[k].best.clone())
            .collect();
        self.tracks
            .retain(|t| frame.saturating_sub(t.seen) <= TRACK_TTL);
        texts
    }

    /// Takes the finished readings into their tracks.
    fn collect(&mut self) {
        while let Ok((id, frame, reading, sig, outcome)) = self.done.try_recv() {
            let track = self.tracks.iter_mut().find(|t| t.id == id);
            if outcome == Outcome::Skipped {
                // sent again with the next frame that shows it
                if let Some(t) = track {
                    t.pending = false;
                }
                continue;
            }
            self.readings += 1;
            self.refused += (outcome == Outcome::Refused) as u64;
            let Some(t) = track else {
                continue;
            };
            t.pending = false;
            let changed = t.read_sig.is_some_and(|r| differs(&r, &sig));
            t.read_sig = Some(sig);
            let Some(r) = reading else { continue };
            let better = match &t.best {
                None => true,
                Some(b) => changed || r.confidence >= b.confidence,
            };
            if t.best.is_none() {
                self.first_text_ms
                    .push(t.born.elapsed().as_secs_f64() * 1e3);
            }
            if better {
                t.best = Some(LineText {
                    text: r.text,
                    confidence: r.confidence,
                    frame,
                });
            }
        }
    }

    /// Lines tracked now.
    pub fn tracks(&self) -> usize {
        self.tracks.len()
    }
}

impl Drop for LiveReader {
    fn drop(&mut self) {
        // closing the queue ends the thread after the read in progress
        let (tx, _) = crossbeam_channel::bounded(1);
        drop(std::mem::replace(&mut self.jobs, tx));
        while self.stale.try_recv().is_ok() {}
        if let Some(h) = self.thread.take() {
            let _ = h.join();
        }
    }
}
