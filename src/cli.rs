//! Command-line interface (clap): subcommands, flags and their valid ranges.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use layercam::pipeline::lines::LinesMode;
use layercam::pipeline::{Convention, Params, DEFAULT_MAX_PIXELS};
use layercam::source::camera::CameraSelector;
use layercam::view::View;

/// Split camera frames into gray-level layers so that text of any colour ends up alone in
/// one layer.
///
/// With no subcommand: the first camera that captures video, otherwise the bundled demo
/// replay; a window
/// when a display is available, headless otherwise.
#[derive(Debug, Parser)]
#[command(
    name = "layercam",
    version,
    about,
    long_about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of the default run (no subcommand).
    #[command(flatten)]
    pub stream: StreamArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Layer image files and print (or write) the result.
    Analyze(AnalyzeArgs),
    /// Layer a webcam live.
    Live(LiveArgs),
    /// Replay recorded frames: an image, a folder of images, a raw camera recording, a .y4m
    /// file, or - (y4m on stdin).
    Replay(ReplayArgs),
    /// Save camera frames that `replay` plays back: numbered PNGs, or with --raw each buffer
    /// exactly as the camera delivered it.
    Record(RecordArgs),
    /// List cameras and their formats.
    Cameras,
}

/// Method parameters (shared by every command).
#[derive(Debug, Clone, Args)]
pub struct MethodArgs {
    /// Bandwidth factor: h = factor · σ (0.001–10).
    #[arg(long, default_value_t = 0.2, value_parser = parse_factor, allow_negative_numbers = true)]
    pub factor: f64,
    /// Upscale factor before layering (1–4; 1 = none).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=4))]
    pub zoom: u8,
    /// Power transform exponent (1–4).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=4))]
    pub power: u8,
    /// How extrema are reported: `seed` (index − 1, the published numbers) or `true`.
    #[arg(long, default_value = "seed")]
    pub convention: Convention,
    /// Also extract text features (the seed's feature extraction (2)).
    #[arg(long)]
    pub features: bool,
    /// Largest frame accepted, in source pixels (1 to 100000000; the pipeline holds about 35
    /// bytes a pixel at zoom 2). Larger images are refused from their headers, before
    /// decoding.
    #[arg(long, default_value_t = DEFAULT_MAX_PIXELS, value_parser = parse_max_pixels)]
    pub max_pixels: usize,
    /// Stable layers on video: layers from the recent frames of a scene, reset at a scene
    /// change (default: on in `live`, off elsewhere: seed-exact per frame). `--stable=false`
    /// turns it off.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub stable: Option<bool>,
    /// Text lines after the text features. `--lines` alone (or `text`): lines grouped the
    /// way text is set, one box per line of text; `seed`: the series' text localisation,
    /// seed-exact. JSON gains "lines" (boxes in source pixels with their layer, reading
    /// order).
    #[arg(long, value_name = "MODE", num_args = 0..=1, default_missing_value = "text")]
    pub lines: Option<LinesMode>,
    /// Threads of the layering pipeline (0 = one per core, up to 64).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=64))]
    pub threads: u8,
}

impl MethodArgs {
    /// The pipeline parameters; `crops`: line crops are wanted, so lines are on (the
    /// default grouping unless a mode is given).
    pub fn params_for(&self, tolerance: f64, crops: bool) -> Params {
        let mut p = self.params(tolerance);
        if crops && self.lines.is_none() {
            p.lines = LinesMode::Text;
        }
        p
    }

    /// The pipeline parameters.
    pub fn params(&self, tolerance: f64) -> Params {
        Params {
            factor: self.factor,
            zoom: self.zoom as usize,
            power: self.power as u32,
            convention: self.convention,
            bandwidth_tolerance: tolerance,
            max_pixels: self.max_pixels,
            features: self.features,
            threads: self.threads as usize,
            stable: self.stable.unwrap_or(false),
            lines: self.lines.unwrap_or_default(),
        }
    }
}

/// `layercam analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Image files (PNG, JPEG; RGB, RGBA, gray or palette).
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    /// One JSON object per line instead of the readable summary.
    #[arg(long)]
    pub json: bool,
    /// Write <stem>.labels.png, <stem>.layer<k>.png and <stem>.density.png here, with
    /// --features <stem>.text.png, with --lines <stem>.lines.png (the image with the lines'
    /// boxes).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write each text line's crops here: <stem>.line<NN>.png (the source with a margin)
    /// and <stem>.line<NN>.mask.png (the line's layer as black text on white, at the label
    /// map's scale). Turns on --lines unless a mode is given.
    #[arg(long, value_name = "DIR")]
    pub crops: Option<PathBuf>,
    /// Reading the text.
    #[command(flatten)]
    pub ocr: OcrArgs,
    /// Method parameters.
    #[command(flatten)]
    pub method: MethodArgs,
}

/// Options of the recogniser.
#[derive(Debug, Clone, Args)]
pub struct OcrArgs {
    /// Read each text line with Tesseract: JSON lines gain "text" and "confidence"
    /// (0–100), the summary shows the text. Turns on --lines unless a mode is given.
    #[arg(long)]
    pub ocr: bool,
    /// Tesseract languages, `+`-separated (each needs its tesseract-ocr-<lang> package).
    #[arg(long, default_value = "chi_sim+eng", value_name = "LANGS")]
    pub ocr_lang: String,
}

/// Options of every streaming command.
#[derive(Debug, Clone, Args)]
pub struct StreamArgs {
    /// No window: results go to --json / --out and the summary.
    #[arg(long, conflicts_with = "window")]
    pub headless: bool,
    /// Demand a window (error if no display is available).
    #[arg(long)]
    pub window: bool,
    /// One JSON line per frame on stdout, then a summary line.
    #[arg(long)]
    pub json: bool,
    /// Write frame_NNNNNN.labels.png per frame here (and .text.png with --features,
    /// .lines.png with --lines).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write each frame's text-line crops here: frame_NNNNNN.line<NN>.png and
    /// frame_NNNNNN.line<NN>.mask.png (see `analyze --crops`). Turns on --lines unless a
    /// mode is given.
    #[arg(long, value_name = "DIR")]
    pub crops: Option<PathBuf>,
    /// Reading the text (on a thread of its own: the pipeline keeps its frame rate).
    #[command(flatten)]
    pub ocr: OcrArgs,
    /// Layer to show first (0–15; later followed by its peak level).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=15))]
    pub layer: Option<u8>,
    /// View to start with: layer, overlay, labels, mosaic, text.
    #[arg(long, default_value = "layer")]
    pub view: View,
    /// Display scale of the source frame (0.25–4).
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale, allow_negative_numbers = true)]
    pub scale: f64,
    /// Reuse h until σ drifts by more than this (relative, 0–1; 0 = every frame, seed-exact).
    #[arg(long, default_value_t = 0.05, value_parser = parse_tolerance, allow_negative_numbers = true)]
    pub bandwidth_tolerance: f64,
    /// Where `s` in the viewer writes snapshots.
    #[arg(long, default_value = ".")]
    pub snapshot_dir: PathBuf,
    /// Where `r` in the viewer records source frames.
    #[arg(long, default_value = "recording")]
    pub record_dir: PathBuf,
    /// Stop after this many frames.
    #[arg(long)]
    pub max_frames: Option<u64>,
    /// Method parameters.
    #[command(flatten)]
    pub method: MethodArgs,
}

/// Camera selection.
#[derive(Debug, Clone, Args)]
pub struct CameraArgs {
    /// Camera: an index (see `layercam cameras`), a device path (/dev/video2) or part of
    /// its name; default: the first camera that captures video.
    #[arg(long)]
    pub camera: Option<CameraSelector>,
    /// Requested frame size, WxH (the nearest the camera offers is used).
    #[arg(long, value_parser = parse_size)]
    pub size: Option<(u32, u32)>,
    /// Requested frame rate (1–240; the nearest the camera offers at the chosen size).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=240))]
    pub fps: Option<u32>,
    /// Exit with an error when the camera is lost instead of reconnecting.
    #[arg(long)]
    pub exit_on_camera_loss: bool,
}

/// `layercam live`.
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Camera.
    #[command(flatten)]
    pub camera: CameraArgs,
    /// Output and method options.
    #[command(flatten)]
    pub stream: StreamArgs,
}

/// `layercam replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// An image file, a folder of images (natural order), a raw camera recording (a folder
    /// with camera.json), a .y4m file, or - for y4m on stdin.
    pub path: PathBuf,
    /// Frame rate of the replay (default: the y4m header's, else 30).
    #[arg(long, value_parser = parse_fps, conflicts_with = "fast")]
    pub fps: Option<f64>,
    /// As fast as possible.
    #[arg(long)]
    pub fast: bool,
    /// Start again at the end.
    #[arg(long = "loop")]
    pub looping: bool,
    /// Live behaviour: drop stale frames instead of processing every frame.
    #[arg(long)]
    pub drop: bool,
    /// Stop with an error at the first unreadable input instead of skipping it.
    #[arg(long)]
    pub strict: bool,
    /// In a folder, only files whose name matches this glob (e.g. 'frame_*', 'f_[0-4]*.png', '*.{png,jpg}').
    #[arg(long)]
    pub pattern: Option<String>,
    /// Output and method options.
    #[command(flatten)]
    pub stream: StreamArgs,
}

/// `layercam record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Camera.
    #[command(flatten)]
    pub camera: CameraArgs,
    /// Folder for frame_NNNNN.png (or camera.json and frame_NNNNNN.raw with --raw).
    #[arg(long)]
    pub out: PathBuf,
    /// Write each buffer exactly as the camera delivered it (frame_NNNNNN.raw) and its
    /// format (camera.json), undecoded: for bug reports and tests of camera handling.
    #[arg(long)]
    pub raw: bool,
    /// Stop after this many frames (default: until Ctrl-C).
    #[arg(long)]
    pub frames: Option<u64>,
}

fn parse_f64_in(s: &str, lo: f64, hi: f64, what: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number; {what}"))?;
    if v.is_finite() && v >= lo && v <= hi {
        Ok(v)
    } else {
        Err(format!("{v} is out of range; {what}"))
    }
}

fn parse_factor(s: &str) -> Result<f64, String> {
    parse_f64_in(s, 0.001, 10.0, "expected a number from 0.001 to 10")
}

fn parse_tolerance(s: &str) -> Result<f64, String> {
    parse_f64_in(s, 0.0, 1.0, "expected a number from 0 to 1")
}

fn parse_scale(s: &str) -> Result<f64, String> {
    parse_f64_in(s, 0.25, 4.0, "expected a number from 0.25 to 4")
}

fn parse_fps(s: &str) -> Result<f64, String> {
    parse_f64_in(
        s,
        0.1,
        1000.0,
        "expected frames per second from 0.1 to 1000",
    )
}

/// The largest `--max-pixels`: a 10000×10000 frame, about 3.5 GB of pipeline buffers at
/// zoom 2 (larger values only let a hostile header ask for more memory than a machine has).
const MAX_PIXELS_LIMIT: usize = 100_000_000;

fn parse_max_pixels(s: &str) -> Result<usize, String> {
    let v: usize = s
        .parse()
        .map_err(|_| format!("'{s}' is not a whole number of pixels"))?;
    if (1..=MAX_PIXELS_LIMIT).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "{v} is out of range; expected 1 to {MAX_PIXELS_LIMIT} pixels"
        ))
    }
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("'{s}' is not WxH (e.g. 1280x720)"))?;
    let w: u32 = w.parse().map_err(|_| format!("bad width in '{s}'"))?;
    let h: u32 = h.parse().map_err(|_| format!("bad height in '{s}'"))?;
    if (1..=8192).contains(&w) && (1..=8192).contains(&h) {
        Ok((w, h))
    } else {
        Err(format!(
            "{w}x{h} is out of range; width and height from 1 to 8192"
        ))
    }
}

/// The command line with a bare `--lines` followed by something that is not a mode (an
/// input path: `analyze --lines poster.png`) written `--lines=text`, so that the path is not
/// taken for the mode.
pub fn lines_flag_alone(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = args.into_iter().collect();
    for i in 0..args.len() {
        let next_is_mode = args
            .get(i + 1)
            .and_then(|a| a.to_str())
            .is_some_and(|a| a.parse::<LinesMode>().is_ok());
        if args[i] == "--lines" && !next_is_mode {
            args[i] = "--lines=text".into();
        }
    }
    args
}
