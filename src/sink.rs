//! Headless output of a stream: one JSON line per frame, PNGs per frame, line crops, the
//! text read live, and the closing summary record.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::output::{
    draw_line_boxes, write_gray_png, write_line_crops, write_rgb_png, FrameRecord,
};
use crate::runtime::{LatencyHistogram, Processed, Stats};

/// Totals of a run, printed at the end.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Frames delivered by the source.
    pub frames_in: u64,
    /// Frames that reached the output.
    pub frames_out: u64,
    /// Frames dropped by the latest-wins policy.
    pub dropped: u64,
    /// Inputs skipped (unreadable, corrupt, refused).
    pub skipped: u64,
    /// Output frames per second over the run.
    pub fps: f64,
    /// Median capture → result latency, ms.
    pub latency_ms_p50: f64,
    /// 99th percentile latency, ms.
    pub latency_ms_p99: f64,
    /// With OCR: readings made, crops refused, and the time from a line's first sighting to
    /// its first text (median and worst, ms, over the lines that got one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocr: Option<OcrSummary>,
}

/// The OCR part of a run's [`Summary`].
#[derive(Debug, Clone, Serialize)]
pub struct OcrSummary {
    /// Readings made.
    pub readings: u64,
    /// Crops the engine refused.
    pub refused: u64,
    /// Lines that got a text.
    pub lines_read: usize,
    /// Median time from a line's first sighting to its first text, ms.
    pub first_text_ms_p50: f64,
    /// Worst such time, ms.
    pub first_text_ms_max: f64,
}

impl Summary {
    /// Builds the summary from the shared counters and the latencies seen by the output.
    pub fn new(stats: &Stats, frames_out: u64, lat: &LatencyHistogram) -> Self {
        let secs = stats.started.elapsed().as_secs_f64().max(1e-9);
        Self {
            frames_in: stats.frames_in.load(Ordering::Relaxed),
            frames_out,
            dropped: stats.dropped.load(Ordering::Relaxed),
            skipped: stats.skipped.load(Ordering::Relaxed),
            fps: frames_out as f64 / secs,
            latency_ms_p50: lat.quantile(0.5),
            latency_ms_p99: lat.quantile(0.99),
            ocr: None,
        }
    }

    /// The readable form (stderr without `--json`).
    pub fn readable(&self) -> String {
        format!(
            "{} frames in, {} out, {} dropped, {} skipped; {:.1} fps; latency p50 {:.1} ms, p99 {:.1} ms",
            self.frames_in,
            self.frames_out,
            self.dropped,
            self.skipped,
            self.fps,
            self.latency_ms_p50,
            self.latency_ms_p99
        ) + &self.ocr.as_ref().map_or(String::new(), |o| {
            format!(
                "; OCR: {} readings, {} lines read, first text after {:.0} ms (median), {:.0} ms (worst)",
                o.readings, o.lines_read, o.first_text_ms_p50, o.first_text_ms_max
            )
        })
    }

    /// The JSON line `{"summary": {...}}`.
    pub fn json_line(&self) -> String {
        #[derive(Serialize)]
        struct Wrap<'a> {
            summary: &'a Summary,
        }
        serde_json::to_string(&Wrap { summary: self }).unwrap_or_default()
    }
}

/// Where headless results go.
pub struct HeadlessSink<W: Write> {
    json: Option<W>,
    out_dir: Option<PathBuf>,
    /// Latencies of the frames written.
    pub latency: LatencyHistogram,
    /// Frames written.
    pub frames_out: u64,
    line: Vec<u8>,
    crops: Option<PathBuf>,
    #[cfg(feature = "ocr")]
    ocr: Option<crate::ocr::LiveReader>,
    /// Whether the reader is fed (the viewer's `o` pauses it without unloading it).
    #[cfg(feature = "ocr")]
    ocr_on: bool,
    /// What the reader knew of the last frame's lines, in the lines' order.
    #[cfg(feature = "ocr")]
    texts: Vec<Option<crate::ocr::LineText>>,
}

/// Whether `p` was processed with text lines on.
fn lines_on(p: &Processed) -> bool {
    p.params
        .is_some_and(|q| q.lines != crate::pipeline::lines::LinesMode::Off)
}

impl<W: Write> HeadlessSink<W> {
    /// A sink writing JSON lines to `json` (if any) and PNGs into `out_dir` (if any).
    pub fn new(json: Option<W>, out_dir: Option<PathBuf>) -> Result<Self> {
        if let Some(d) = &out_dir {
            crate::output::ensure_dir(d)?;
        }
        Ok(Self {
            json,
            out_dir,
            latency: LatencyHistogram::default(),
            frames_out: 0,
            line: Vec::new(),
            crops: None,
            #[cfg(feature = "ocr")]
            ocr: None,
            #[cfg(feature = "ocr")]
            ocr_on: false,
            #[cfg(feature = "ocr")]
            texts: Vec::new(),
        })
    }

    /// Reads the text lines of the frames with `reader` (on its own thread); JSON lines
    /// gain `"text"`, `"confidence"` and `"text_frame"` (the frame the reading came from)
    /// once a line has been read.
    #[cfg(feature = "ocr")]
    pub fn with_ocr(mut self, reader: Option<crate::ocr::LiveReader>) -> Self {
        self.ocr_on = reader.is_some();
        self.ocr = reader;
        self
    }

    /// Starts (`on`) or pauses reading text. The first start makes the engine for
    /// `languages`; a pause keeps it, so reading again starts at once.
    ///
    /// # Errors
    ///
    /// As [`crate::ocr::LiveReader::start`]: a missing language, no thread.
    #[cfg(feature = "ocr")]
    pub fn set_ocr(&mut self, on: bool, languages: &str) -> Result<()> {
        if on && self.ocr.is_none() {
            self.ocr = Some(crate::ocr::LiveReader::start(languages)?);
        }
        self.ocr_on = on;
        if !on {
            self.texts.clear();
        }
        Ok(())
    }

    /// What is known of the text of the last frame's lines, in the lines' order (empty
    /// when text is not being read).
    #[cfg(feature = "ocr")]
    pub fn line_texts(&self) -> &[Option<crate::ocr::LineText>] {
        &self.texts
    }

    /// Also writes each frame's text-line crops into `dir` (if any):
    /// `frame_NNNNNN.line<NN>.png` and `.mask.png` (see [`crate::output::write_line_crops`]).
    ///
    /// # Errors
    ///
    /// The folder cannot be made.
    pub fn with_crops(mut self, dir: Option<PathBuf>) -> Result<Self> {
        if let Some(d) = &dir {
            crate::output::ensure_dir(d)?;
        }
        self.crops = dir;
        Ok(self)
    }

    /// Writes one processed frame.
    pub fn write(&mut self, p: &Processed) -> Result<()> {
        if let Some(dir) = &self.out_dir {
            let l = &p.layers;
            let path = dir.join(format!("frame_{:06}.labels.png", p.index));
            write_gray_png(&path, l.upscaled_width, l.upscaled_height, &l.labels)?;
            if p.features.is_some() {
                let path = dir.join(format!("frame_{:06}.text.png", p.index));
                write_gray_png(&path, l.upscaled_width, l.upscaled_height, &p.text_mask)?;
            }
            if lines_on(p) {
                let path = dir.join(format!("frame_{:06}.lines.png", p.index));
                let boxed = draw_line_boxes(&p.rgb, l.width, l.height, &p.lines);
                write_rgb_png(&path, l.width, l.height, &boxed)?;
            }
        }
        if let (Some(dir), true) = (&self.crops, lines_on(p)) {
            let stem = format!("frame_{:06}", p.index);
            write_line_crops(dir, &stem, &p.rgb, &p.layers, &p.lines)?;
        }
        #[cfg(feature = "ocr")]
        {
            self.texts = match self.ocr.as_mut() {
                Some(r) if self.ocr_on && lines_on(p) => {
                    r.observe(p.index, &p.rgb, p.frame_width, p.frame_height, &p.lines)
                }
                _ => Vec::new(),
            };
        }
        if let Some(w) = self.json.as_mut() {
            self.line.clear();
            #[allow(unused_mut)]
            let mut rec = FrameRecord::new(p);
            #[cfg(feature = "ocr")]
            if let Some(lines) = rec.layers.lines.as_mut() {
                for (l, t) in lines.iter_mut().zip(&self.texts) {
                    if let Some(t) = t {
                        l.text = Some(t.text.clone());
                        l.confidence = Some(t.confidence);
                        l.text_frame = Some(t.frame);
                    }
                }
            }
            serde_json::to_writer(&mut self.line, &rec)?;
            self.line.push(b'\n');
            // one whole line at a time, flushed: JSON Lines readers read line by line
            w.write_all(&self.line)
                .and_then(|()| w.flush())
                .map_err(|source| Error::Io {
                    path: "stdout".into(),
                    source,
                })?;
        }
        self.latency.record(p.latency_ms);
        self.frames_out += 1;
        Ok(())
    }

    /// Flushes JSON output.
    pub fn flush(&mut self) -> Result<()> {
        if let Some(w) = self.json.as_mut() {
            w.flush().map_err(|source| Error::Io {
                path: "stdout".into(),
                source,
            })?;
        }
        Ok(())
    }

    /// The closing summary, also written to the JSON writer (if any) as its last line.
    pub fn summary(&mut self, stats: &Stats) -> Result<Summary> {
        #[allow(unused_mut)]
        let mut s = Summary::new(stats, self.frames_out, &self.latency);
        #[cfg(feature = "ocr")]
        if let Some(r) = &self.ocr {
            let mut t = r.first_text_ms.clone();
            t.sort_by(f64::total_cmp);
            s.ocr = Some(OcrSummary {
                readings: r.readings,
                refused: r.refused,
                lines_read: t.len(),
                first_text_ms_p50: t.get(t.len() / 2).copied().unwrap_or(0.0),
                first_text_ms_max: t.last().copied().unwrap_or(0.0),
            });
        }
        if let Some(w) = self.json.as_mut() {
            writeln!(w, "{}", s.json_line()).map_err(|source| Error::Io {
                path: "stdout".into(),
                source,
            })?;
        }
        self.flush()?;
        Ok(s)
    }
}
