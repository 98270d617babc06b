//! The live viewer: state and key handling ([`ViewerState`]), layer following
//! ([`follow`]), drawing ([`render`]) — all pure — and the minifb window (`window`, the only
//! module that knows minifb).

pub mod follow;
pub mod font;
pub mod render;
#[cfg(feature = "window")]
pub mod window;

use crate::runtime::{Control, Processed};
pub use render::View;

/// Keys the viewer understands (independent of the window library).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Previous layer.
    Left,
    /// Next layer.
    Right,
    /// Layer by number (1–9 → index 0–8).
    Digit(u8),
    /// Next view.
    Tab,
    /// Toggle the density strip.
    D,
    /// Pause / resume.
    Space,
    /// Step one frame while paused.
    Period,
    /// Snapshot.
    S,
    /// Start / stop recording.
    R,
    /// Raise the smoothing factor.
    Plus,
    /// Lower the smoothing factor.
    Minus,
    /// Toggle the bandwidth cache.
    B,
    /// Toggle text features.
    F,
    /// Toggle stable layers.
    T,
    /// Toggle text lines.
    L,
    /// Toggle reading the lines' text (OCR).
    O,
    /// Help overlay.
    H,
    /// Quit.
    Escape,
    /// Quit.
    Q,
}

/// What a key asks the window loop to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Close the viewer.
    Quit,
    /// Send a control message to the worker.
    Control(Control),
    /// Save a snapshot of the current frame.
    Snapshot,
    /// Start or stop recording source frames.
    ToggleRecording,
    /// Start (true) or stop reading the text lines' text.
    SetOcr(bool),
}

/// Step of the smoothing factor per `+`/`-` press.
pub const FACTOR_STEP: f64 = 0.01;

/// The help overlay text.
pub const HELP: &[&str] = &[
    "layercam viewer keys",
    "",
    "<- / ->    previous / next layer",
    "1 .. 9     choose layer by number",
    "Tab        next view (layer, overlay, labels, mosaic, text)",
    "d          density strip on / off",
    "Space      pause / resume;  .  step one frame",
    "s          snapshot (source, labels, layer, density, JSON)",
    "r          start / stop recording source frames",
    "+ / -      smoothing factor up / down",
    "b          bandwidth cache on / off",
    "f          text features on / off",
    "t          stable layers on / off (per-frame: seed-exact)",
    "l          text lines on / off (boxes in layer, overlay, text)",
    "o          read the lines' text (OCR) on / off",
    "h          this help",
    "Esc / q    quit",
];

/// Viewer state, independent of any window.
#[derive(Debug, Clone)]
pub struct ViewerState {
    /// Current view.
    pub view: View,
    /// Layer shown in the current frame.
    pub layer: usize,
    /// Follows the chosen layer by peak level.
    pub follower: follow::LayerFollower,
    /// Density strip on.
    pub density: bool,
    /// Paused.
    pub paused: bool,
    /// One step requested while paused.
    pub step: bool,
    /// Help overlay on.
    pub help: bool,
    /// Smoothing factor in force.
    pub factor: f64,
    /// Bandwidth tolerance when the cache is on.
    pub tolerance: f64,
    /// Bandwidth cache on.
    pub cache: bool,
    /// Text features on.
    pub features: bool,
    /// Stable layers on.
    pub stable: bool,
    /// Text lines on (computed and drawn).
    pub lines: bool,
    /// The lines mode `l` switches on (`--lines seed` keeps the seed's).
    pub lines_mode: crate::pipeline::lines::LinesMode,
    /// Reading the lines' text (OCR); turning it on turns the lines on.
    pub ocr: bool,
    /// Recording source frames.
    pub recording: bool,
    /// A transient message and when it was set.
    pub message: Option<(String, std::time::Instant)>,
}

impl ViewerState {
    /// Initial state.
    pub fn new(view: View, factor: f64, tolerance: f64, features: bool) -> Self {
        Self {
            view,
            layer: 0,
            follower: Default::default(),
            density: true,
            paused: false,
            step: false,
            help: false,
            factor,
            tolerance: if tolerance > 0.0 { tolerance } else { 0.05 },
            cache: tolerance > 0.0,
            features,
            stable: false,
            lines: false,
            lines_mode: crate::pipeline::lines::LinesMode::Text,
            ocr: false,
            recording: false,
            message: None,
        }
    }

    /// Shows a message for a few seconds.
    pub fn say(&mut self, msg: impl Into<String>) {
        self.message = Some((msg.into(), std::time::Instant::now()));
    }

    /// The message, while it is fresh.
    pub fn current_message(&self) -> Option<&str> {
        self.message
            .as_ref()
            .filter(|(_, t)| t.elapsed().as_secs_f64() < 4.0)
            .map(|(m, _)| m.as_str())
    }

    /// Picks the layer for a new frame (following the chosen peak).
    pub fn on_frame(&mut self, p: &Processed, requested: Option<usize>) {
        let l = &p.layers;
        if self.follower.level().is_none() {
            if let Some(k) = requested.filter(|&k| k < l.len()) {
                self.follower.choose(l.peaks[k]);
            }
        }
        self.layer = self.follower.pick(&l.peaks, l.default_layer());
    }

    fn choose(&mut self, k: usize, p: Option<&Processed>) {
        if let Some(p) = p {
            let n = p.layers.len();
            if n == 0 {
                return;
            }
            let k = k.min(n - 1);
            self.layer = k;
            self.follower.choose(p.layers.peaks[k]);
        }
    }

    /// Handles one key press.
    pub fn on_key(&mut self, key: Key, current: Option<&Processed>) -> Vec<Action> {
        let n = current.map_or(0, |p| p.layers.len());
        match key {
            Key::Escape | Key::Q => return vec![Action::Quit],
            Key::Left => {
                if n > 0 {
                    self.choose((self.layer + n - 1) % n, current)
                }
            }
            Key::Right => {
                if n > 0 {
                    self.choose((self.layer + 1) % n, current)
                }
            }
            Key::Digit(d) => {
                let k = (d as usize).saturating_sub(1);
                if k < n {
                    self.choose(k, current)
                } else {
                    self.say(format!("no layer {d}: this frame has {n}"));
                }
            }
            Key::Tab => self.view = self.view.next(),
            Key::D => self.density = !self.density,
            Key::Space => {
                self.paused = !self.paused;
                self.say(if self.paused {
                    "paused (. steps)"
                } else {
                    "resumed"
                });
            }
            Key::Period => {
                if self.paused {
                    self.step = true;
                }
            }
            Key::S => return vec![Action::Snapshot],
            Key::R => return vec![Action::ToggleRecording],
            Key::Plus | Key::Minus => {
                let f = if key == Key::Plus {
                    self.factor + FACTOR_STEP
                } else {
                    self.factor - FACTOR_STEP
                };
                let f = (f * 100.0).round() / 100.0;
                if (crate::pipeline::FACTOR_RANGE.0..=crate::pipeline::FACTOR_RANGE.1).contains(&f)
                    && f > 0.0
                {
                    self.factor = f;
                    self.say(format!("smoothing factor {f:.2}"));
                    return vec![Action::Control(Control::SetFactor(f))];
                }
            }
            Key::B => {
                self.cache = !self.cache;
                let t = if self.cache { self.tolerance } else { 0.0 };
                self.say(if self.cache {
                    format!("bandwidth cache on (tolerance {t})")
                } else {
                    "bandwidth cache off (seed-exact every frame)".to_string()
                });
                return vec![Action::Control(Control::SetTolerance(t))];
            }
            Key::F => {
                self.features = !self.features;
                self.say(if self.features {
                    "text features on"
                } else {
                    "text features off"
                });
                return vec![Action::Control(Control::SetFeatures(self.features))];
            }
            Key::T => {
                self.stable = !self.stable;
                self.say(if self.stable {
                    "stable layers on"
                } else {
                    "stable layers off (seed-exact every frame)"
                });
                return vec![Action::Control(Control::SetStable(self.stable))];
            }
            Key::L => {
                self.lines = !self.lines;
                self.say(if self.lines {
                    "text lines on"
                } else {
                    "text lines off"
                });
                let mode = if self.lines {
                    self.lines_mode
                } else {
                    crate::pipeline::lines::LinesMode::Off
                };
                return vec![Action::Control(Control::SetLines(mode))];
            }
            Key::O => {
                self.ocr = !self.ocr;
                let mut actions = Vec::new();
                if self.ocr && !self.lines {
                    self.lines = true;
                    actions.push(Action::Control(Control::SetLines(self.lines_mode)));
                }
                self.say(if self.ocr {
                    "reading text on"
                } else {
                    "reading text off"
                });
                actions.push(Action::SetOcr(self.ocr));
                return actions;
            }
            Key::H => self.help = !self.help,
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::lines::LinesMode;

    #[test]
    fn o_reads_text_and_turns_the_lines_on_first() {
        let mut s = ViewerState::new(View::Layer, 0.2, 0.0, true);
        assert_eq!(
            s.on_key(Key::O, None),
            vec![
                Action::Control(Control::SetLines(LinesMode::Text)),
                Action::SetOcr(true)
            ]
        );
        assert!(s.ocr && s.lines);
        // off again: the lines stay
        assert_eq!(s.on_key(Key::O, None), vec![Action::SetOcr(false)]);
        assert!(!s.ocr && s.lines);
        // on with the lines already on: nothing else to switch
        assert_eq!(s.on_key(Key::O, None), vec![Action::SetOcr(true)]);
    }
}
