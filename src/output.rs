//! Outputs: JSON records, whole-file PNG writes (temp file + rename), density plots.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::pipeline::lines::TextLine;
use crate::pipeline::{LayerInfo, Layers, StageTimings};
use crate::runtime::Processed;

/// The per-image record of `layercam analyze --json` (one JSON object per line).
#[derive(Debug, Clone, Serialize)]
pub struct LayerRecord {
    /// Source file (or frame origin).
    pub file: String,
    /// Source width.
    pub width: usize,
    /// Source height.
    pub height: usize,
    /// Width of the label map.
    pub upscaled_width: usize,
    /// Height of the label map.
    pub upscaled_height: usize,
    /// Standard deviation of the gray levels.
    pub sigma: f64,
    /// Kernel bandwidth h.
    pub bandwidth: f64,
    /// Density minima.
    pub minima: Vec<u16>,
    /// Density maxima.
    pub maxima: Vec<u16>,
    /// Layer bounds (K + 1 values).
    pub bounds: Vec<u16>,
    /// Layer peaks (K values).
    pub peaks: Vec<u16>,
    /// Each layer: index, peak, lo (inclusive), hi (exclusive), pixels.
    pub layers: Vec<LayerInfo>,
    /// Text features (with `--features`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<crate::features::FeatureCounts>,
    /// With `--stable`: `carried` (same bounds as the previous frame), `updated` or `reset`
    /// (a scene change).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stability: Option<crate::pipeline::stable::Stability>,
    /// With `--lines`: text lines in source pixels, in reading order, with their layer (and
    /// their text with `--ocr`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<LineRecord>>,
}

/// A text line of a record: its box and layer, and what the recogniser read in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineRecord {
    /// Box (source pixels) and layer.
    #[serde(flatten)]
    pub line: TextLine,
    /// The text read (with OCR, when it read any).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The recogniser's confidence in it, 0–100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    /// In a stream, the frame the reading came from (a line is read once and again only
    /// when its crop changes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_frame: Option<u64>,
    /// `"page"` for a line the recogniser found by itself outside layercam's lines; absent
    /// for layercam's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'static str>,
}

impl From<&TextLine> for LineRecord {
    fn from(line: &TextLine) -> Self {
        Self {
            line: *line,
            text: None,
            confidence: None,
            text_frame: None,
            source: None,
        }
    }
}

impl LayerRecord {
    /// Builds the record of one result.
    pub fn new(file: &str, l: &Layers) -> Self {
        Self {
            file: file.to_string(),
            width: l.width,
            height: l.height,
            upscaled_width: l.upscaled_width,
            upscaled_height: l.upscaled_height,
            sigma: l.sigma,
            bandwidth: l.bandwidth,
            minima: l.minima.clone(),
            maxima: l.maxima.clone(),
            bounds: l.bounds.clone(),
            peaks: l.peaks.clone(),
            layers: l.infos().collect(),
            features: None,
            stability: l.stability,
            lines: None,
        }
    }

    /// A readable multi-line summary.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{}: {}x{} -> {}x{}, sigma {:.5}, h {:.5}\n  minima {:?}\n  maxima {:?}\n",
            self.file,
            self.width,
            self.height,
            self.upscaled_width,
            self.upscaled_height,
            self.sigma,
            self.bandwidth,
            self.minima,
            self.maxima
        );
        let total: u64 = self.layers.iter().map(|l| l.pixels).sum::<u64>().max(1);
        for l in &self.layers {
            s += &format!(
                "  layer {:>2}: peak {:>3}, levels {:>3}..{:<3} {:>9} px ({:5.1} %)\n",
                l.index,
                l.peak,
                l.lo,
                l.hi,
                l.pixels,
                100.0 * l.pixels as f64 / total as f64
            );
        }
        if let Some(f) = &self.features {
            s += &format!(
                "  text features: kept per layer {:?}, pooled {}, final {} px\n",
                f.kept_per_layer, f.pooled, f.pixels
            );
        }
        if let Some(lines) = &self.lines {
            s += &format!("  text lines: {}\n", lines.len());
            for r in lines {
                let l = &r.line;
                s += &format!(
                    "    at {:>4},{:<4} {:>4}x{:<4} layer {}",
                    l.x, l.y, l.w, l.h, l.layer
                );
                if let (Some(t), Some(c)) = (&r.text, r.confidence) {
                    s += &format!("  \"{t}\" ({c:.0})");
                }
                s += "\n";
            }
        }
        s
    }
}

/// A sibling temp file name for `path` (same folder, so the rename is atomic).
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    path.with_file_name(name)
}

/// Writes `bytes` to `path` whole: into a temp file in the same folder, synced, then renamed
/// over `path`. A reader never sees a partial file, even if the process is killed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Encodes an image as PNG into memory.
fn encode_png(
    buf: &[u8],
    width: usize,
    height: usize,
    color: image::ExtendedColorType,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let enc = image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    );
    image::ImageEncoder::write_image(enc, buf, width as u32, height as u32, color).map_err(
        |source| Error::Image {
            path: PathBuf::new(),
            source,
        },
    )?;
    Ok(out)
}

/// Writes an 8-bit gray PNG whole (temp file + rename).
pub fn write_gray_png(path: &Path, width: usize, height: usize, gray: &[u8]) -> Result<()> {
    let png = encode_png(gray, width, height, image::ExtendedColorType::L8)?;
    write_atomic(path, &png)
}

/// Writes an RGB8 PNG whole (temp file + rename).
pub fn write_rgb_png(path: &Path, width: usize, height: usize, rgb: &[u8]) -> Result<()> {
    let png = encode_png(rgb, width, height, image::ExtendedColorType::Rgb8)?;
    write_atomic(path, &png)
}

/// Writes the label map (value = layer index) as a gray PNG.
pub fn write_labels(path: &Path, l: &Layers) -> Result<()> {
    write_gray_png(path, l.upscaled_width, l.upscaled_height, &l.labels)
}

/// Fills `mask` with 255 where the label is `k`, 0 elsewhere.
pub fn layer_mask(l: &Layers, k: usize, mask: &mut Vec<u8>) {
    mask.clear();
    mask.extend(
        l.labels
            .iter()
            .map(|&v| if v as usize == k { 255 } else { 0 }),
    );
}

/// Writes every layer `k` as `<stem>.layer<k>.png` (white = pixels of layer k), the label
/// map as `<stem>.labels.png` and the density plot as `<stem>.density.png` into `dir`.
pub fn write_layer_files(dir: &Path, stem: &str, l: &Layers) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let p = dir.join(format!("{stem}.labels.png"));
    write_labels(&p, l)?;
    written.push(p);
    let mut mask = Vec::new();
    for k in 0..l.len() {
        layer_mask(l, k, &mut mask);
        let p = dir.join(format!("{stem}.layer{k}.png"));
        write_gray_png(&p, l.upscaled_width, l.upscaled_height, &mask)?;
        written.push(p);
    }
    let plot = crate::plot::DensityPlot::default().render(l);
    let p = dir.join(format!("{stem}.density.png"));
    write_rgb_png(&p, plot.width, plot.height, &plot.rgb)?;
    written.push(p);
    Ok(written)
}

/// Creates an output folder (and its parents) with a clear error.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    let io_error = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    if dir.exists() && !dir.is_dir() {
        return Err(io_error(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "exists and is not a folder",
        )));
    }
    std::fs::create_dir_all(dir).map_err(io_error)
}

/// Writes a snapshot of a processed frame into `dir`: source PNG, label map, the chosen
/// layer, the density plot and the frame's JSON record. Returns the files written.
pub fn write_snapshot(
    dir: &Path,
    p: &crate::runtime::Processed,
    layer: usize,
) -> Result<Vec<PathBuf>> {
    ensure_dir(dir)?;
    let stem = format!("snapshot_{:06}", p.index);
    let l = &p.layers;
    let mut files = Vec::new();
    let path = dir.join(format!("{stem}.source.png"));
    write_rgb_png(&path, p.frame_width, p.frame_height, &p.rgb)?;
    files.push(path);
    let path = dir.join(format!("{stem}.labels.png"));
    write_labels(&path, l)?;
    files.push(path);
    let mut mask = Vec::new();
    layer_mask(l, layer, &mut mask);
    let path = dir.join(format!("{stem}.layer{layer}.png"));
    write_gray_png(&path, l.upscaled_width, l.upscaled_height, &mask)?;
    files.push(path);
    let plot = crate::plot::DensityPlot {
        highlight: Some(layer),
        ..Default::default()
    }
    .render(l);
    let path = dir.join(format!("{stem}.density.png"));
    write_rgb_png(&path, plot.width, plot.height, &plot.rgb)?;
    files.push(path);
    if p.features.is_some() {
        let path = dir.join(format!("{stem}.text.png"));
        write_gray_png(&path, l.upscaled_width, l.upscaled_height, &p.text_mask)?;
        files.push(path);
    }
    let json = serde_json::to_string_pretty(&FrameRecord::new(p))?;
    let path = dir.join(format!("{stem}.json"));
    write_atomic(&path, json.as_bytes())?;
    files.push(path);
    Ok(files)
}

/// Colour of the line boxes drawn into `<stem>.lines.png`.
pub const LINE_BOX_RGB: [u8; 3] = [255, 0, 255];

/// Draws each line's box (2 pixels wide, just outside the box where there is room) in
/// [`LINE_BOX_RGB`] on a copy of the `width × height` RGB8 source.
pub fn draw_line_boxes(rgb: &[u8], width: usize, height: usize, lines: &[TextLine]) -> Vec<u8> {
    let mut out = rgb.to_vec();
    let mut put = |x: i64, y: i64| {
        if x >= 0 && y >= 0 && (x as usize) < width && (y as usize) < height {
            let i = (y as usize * width + x as usize) * 3;
            out[i..i + 3].copy_from_slice(&LINE_BOX_RGB);
        }
    };
    for l in lines {
        let (x0, y0) = (l.x as i64, l.y as i64);
        let (x1, y1) = (x0 + l.w as i64, y0 + l.h as i64);
        for t in 1..=2 {
            for x in x0 - t..x1 + t {
                put(x, y0 - t);
                put(x, y1 - 1 + t);
            }
            for y in y0 - t..y1 + t {
                put(x0 - t, y);
                put(x1 - 1 + t, y);
            }
        }
    }
    out
}

/// The crop of a line with its margin, in source pixels, clipped to the frame: a tenth of
/// the line's height on each side, at least 2 pixels (recognisers want a little space
/// around the text).
pub fn line_crop(l: &TextLine, width: usize, height: usize) -> (usize, usize, usize, usize) {
    let m = (l.h as usize / 10).max(2);
    let x0 = (l.x as usize).saturating_sub(m);
    let y0 = (l.y as usize).saturating_sub(m);
    let x1 = (l.x as usize + l.w as usize + m).min(width);
    let y1 = (l.y as usize + l.h as usize + m).min(height);
    (x0, y0, x1 - x0, y1 - y0)
}

/// Writes, for every line `NN` (two digits, reading order), `<stem>.line<NN>.png`, the
/// source crop with its margin ([`line_crop`]), and `<stem>.line<NN>.mask.png`: the same
/// region of the label map (so `zoom` times the size) with the pixels of the line's layer
/// black on white, as recognisers expect text. Each file is written whole.
///
/// # Errors
///
/// A file cannot be written.
pub fn write_line_crops(
    dir: &Path,
    stem: &str,
    rgb: &[u8],
    layers: &Layers,
    lines: &[TextLine],
) -> Result<Vec<PathBuf>> {
    let (w, h) = (layers.width, layers.height);
    let zoom = layers.upscaled_width / w.max(1);
    let mut written = Vec::with_capacity(2 * lines.len());
    let mut crop = Vec::new();
    for (n, l) in lines.iter().enumerate() {
        let (x0, y0, cw, ch) = line_crop(l, w, h);
        crop.clear();
        for y in y0..y0 + ch {
            crop.extend_from_slice(&rgb[(y * w + x0) * 3..(y * w + x0 + cw) * 3]);
        }
        let p = dir.join(format!("{stem}.line{n:02}.png"));
        write_rgb_png(&p, cw, ch, &crop)?;
        written.push(p);
        let (mx0, my0, mw, mh) = (x0 * zoom, y0 * zoom, cw * zoom, ch * zoom);
        let uw = layers.upscaled_width;
        crop.clear();
        for y in my0..(my0 + mh).min(layers.upscaled_height) {
            let row = &layers.labels[y * uw + mx0..y * uw + (mx0 + mw).min(uw)];
            crop.extend(row.iter().map(|&v| if v == l.layer { 0 } else { 255 }));
        }
        let p = dir.join(format!("{stem}.line{n:02}.mask.png"));
        write_gray_png(&p, mw, crop.len() / mw.max(1), &crop)?;
        written.push(p);
    }
    Ok(written)
}

/// The per-frame JSON record: the `analyze` schema plus stream fields.
#[derive(Debug, Serialize)]
pub struct FrameRecord<'a> {
    /// Sequence number in the stream.
    pub frame: u64,
    /// The `analyze` fields.
    #[serde(flatten)]
    pub layers: LayerRecord,
    /// Capture time, ms since the stream started.
    pub timestamp_ms: f64,
    /// Capture → result latency, ms.
    pub latency_ms: f64,
    /// Whether the bandwidth came from the cache.
    pub bandwidth_reused: bool,
    /// Frames dropped so far.
    pub dropped: u64,
    /// Worker time per stage and `total`, ms.
    pub timings_ms: &'a StageTimings,
}

impl<'a> FrameRecord<'a> {
    /// The record of one processed frame.
    pub fn new(p: &'a Processed) -> Self {
        let mut layers = LayerRecord::new(&p.origin, &p.layers);
        layers.features = p.features.clone();
        if p.params
            .is_some_and(|q| q.lines != crate::pipeline::lines::LinesMode::Off)
        {
            layers.lines = Some(p.lines.iter().map(Into::into).collect());
        }
        Self {
            frame: p.index,
            layers,
            timestamp_ms: p.timestamp_ms,
            latency_ms: p.latency_ms,
            bandwidth_reused: p.layers.bandwidth_reused,
            dropped: p.dropped,
            timings_ms: &p.timings,
        }
    }
}
