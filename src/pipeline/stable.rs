//! Stable layers on video: the layering of a frame from the evidence of the recent frames of
//! the same scene, so that layers do not flicker without a cause (docs/stable.md).
//!
//! Per frame, the seed's method is exact but restless: a shallow density minimum comes and
//! goes with sensor noise and small camera motion, and the bounds move by a level or two.
//! Stable mode changes three things, and nothing else (the histogram, the label map and
//! the features are computed as in the seed, from the bounds it chooses):
//!
//! 1. **Accumulation.** The normalised histogram is averaged over frames (exponentially,
//!    weight [`ALPHA`] for the new frame), σ and the density come from the average. A
//!    **scene change** — the new frame's histogram is more than [`SCENE_CHANGE`] levels
//!    from the average (earth mover's distance) — restarts the average from that frame
//!    alone.
//! 2. **Prominence.** A density minimum whose depth below the lower of its two neighbouring
//!    peaks is less than [`MIN_PROMINENCE`] of that peak does not separate layers (the
//!    shallowest such minimum is removed first, then the rule is applied again).
//! 3. **Hysteresis and identity.** The bounds of the previous frame are matched to this
//!    frame's minima (nearest within [`MATCH_LEVELS`]). A matched bound stays where it was
//!    while the minimum is within [`DEADBAND`] levels of it, and follows it otherwise (slow
//!    lighting changes). A new minimum becomes a bound once it was seen in [`PERSIST`]
//!    frames in a row, in the average and in the frame's own density (an event of one
//!    frame lingers in the average, not in the frames after it); a bound disappears once its minimum was missing [`PERSIST`] frames
//!    in a row. After a scene change the bounds are the minima of the new frame at once,
//!    and for [`SETTLE`] frames they follow the minima without waiting.

use super::density::{gaussian_weights, LEVELS};
use super::extrema::Convention;

/// Weight of the new frame in the histogram average (a time constant of about 3 frames:
/// noise averages out, a real change shows within a few frames).
pub const ALPHA: f64 = 0.3;
/// Earth mover's distance (in gray levels) between the frame's histogram and the average
/// above which the scene counts as changed. Levels are normalised per frame (min to max),
/// so one bright pixel more shifts every level a little: a shift-tolerant distance is
/// needed. Within a scene of the shared sequences (pan, noise, light drift) it stays under
/// 5 levels; at their cuts it is 43–53.
pub const SCENE_CHANGE: f64 = 12.0;
/// Smallest relative depth of a minimum that separates layers.
pub const MIN_PROMINENCE: f64 = 0.05;
/// A minimum within this many levels of a bound is that bound.
pub const MATCH_LEVELS: u16 = 12;
/// A bound stays where it is while its minimum is within this many levels.
pub const DEADBAND: u16 = 5;
/// Frames in a row a minimum must be seen (or missed) to add (or remove) a bound.
pub const PERSIST: u8 = 4;
/// Frames after a scene change during which bounds follow the minima at once (the average
/// is still forming): the layers of a new scene settle within these frames.
pub const SETTLE: u8 = 3;

/// How a frame's layers came about in stable mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stability {
    /// Same bounds as the previous frame.
    Carried,
    /// Bounds moved, appeared or vanished (the evidence persisted).
    Updated,
    /// A scene change (or the first frame): layers from this frame alone.
    Reset,
}

impl Stability {
    /// `carried`, `updated` or `reset`, as the JSON says.
    pub fn name(self) -> &'static str {
        match self {
            Self::Carried => "carried",
            Self::Updated => "updated",
            Self::Reset => "reset",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Track {
    /// The bound (in the configured convention).
    level: u16,
    /// Consecutive frames its minimum was missing.
    missing: u8,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    level: u16,
    /// Consecutive frames it was seen.
    seen: u8,
}

/// The state of stable mode: the histogram average and the tracked bounds. Buffers are
/// kept, so a frame allocates nothing once the number of bounds has been seen.
#[derive(Debug, Clone)]
pub struct StableLayers {
    average: [f64; LEVELS],
    started: bool,
    /// Frames since the last reset (saturating).
    since_reset: u8,
    tracks: Vec<Track>,
    candidates: Vec<Candidate>,
    /// The average's minima after the prominence rule.
    minima: Vec<u16>,
    /// The frame's own minima after the prominence rule (the evidence a new bound needs).
    frame_minima: Vec<u16>,
    frame_density: [f64; LEVELS],
    /// The average as whole counts.
    counts: [u64; LEVELS],
    maxima: Vec<u16>,
    /// The previous frame's bounds.
    previous: Vec<u16>,
    weights: [f64; LEVELS],
}

impl Default for StableLayers {
    fn default() -> Self {
        Self {
            average: [0.0; LEVELS],
            started: false,
            since_reset: 0,
            tracks: Vec::new(),
            candidates: Vec::new(),
            minima: Vec::new(),
            frame_minima: Vec::new(),
            frame_density: [0.0; LEVELS],
            counts: [0; LEVELS],
            maxima: Vec::new(),
            previous: Vec::new(),
            weights: [0.0; LEVELS],
        }
    }
}

/// σ of a normalised histogram (the population form; the seed's n − 1 makes no difference
/// at frame sizes).
fn sigma(p: &[f64; LEVELS]) -> f64 {
    let (mut m, mut s2) = (0.0, 0.0);
    for (v, &w) in p.iter().enumerate() {
        m += w * v as f64;
        s2 += w * (v * v) as f64;
    }
    (s2 - m * m).max(0.0).sqrt()
}

/// Removes, shallowest first, the minima less than [`MIN_PROMINENCE`] deep below the lower
/// of the two density maxima around them (the density's edges count as maxima of their
/// value there).
fn apply_prominence(density: &[f64; LEVELS], minima: &mut Vec<u16>) {
    loop {
        // one pass over the levels per removal: the largest density of each stretch
        // between minima, then each minimum's depth below the lower stretch beside it
        let mut worst: Option<(usize, f64)> = None;

        let mut left = f64::MIN;
        for (k, &m) in minima.iter().enumerate() {
            let m = m as usize;
            if k == 0 {
                left = density[..m.min(LEVELS)]
                    .iter()
                    .copied()
                    .fold(f64::MIN, f64::max);
            }
            let hi = minima.get(k + 1).map_or(LEVELS, |&n| n as usize);
            let right = density[(m + 1).min(LEVELS)..hi]
                .iter()
                .copied()
                .fold(f64::MIN, f64::max);
            let top = left.min(right);
            let at = density[m.min(LEVELS - 1)];
            let depth = if top > 0.0 { (top - at) / top } else { 0.0 };
            if depth < MIN_PROMINENCE && worst.is_none_or(|(_, d)| depth < d) {
                worst = Some((k, depth));
            }
            left = right;
        }

        match worst {
            Some((k, _)) => {
                minima.remove(k);
            }
            None => break,
        }
    }
}

impl StableLayers {
    /// Forgets everything: the next frame is a scene of its own.
    pub fn reset(&mut self) {
        self.started = false;
        self.tracks.clear();
        self.candidates.clear();
    }

    /// One frame: the average histogram's σ, bandwidth and density (into `density`), and
    /// the stable minima (into `minima`, ascending: the interior layer bounds). Returns
    /// (σ, h, what happened).
    pub fn step(
        &mut self,
        histogram: &[u64; LEVELS],
        factor: f64,
        convention: Convention,
        density: &mut [f64; LEVELS],
        minima: &mut Vec<u16>,
    ) -> (f64, f64, Stability) {
        let n: u64 = histogram.iter().sum();
        let inv = if n > 0 { 1.0 / n as f64 } else { 0.0 };
        // the earth mover's distance between the frame's and the average's histograms, in
        // levels: a shift of every level by d costs d, a different picture far more
        let moved: f64 = if self.started {
            let (mut cf, mut ca, mut w1) = (0.0, 0.0, 0.0);
            for (&c, &a) in histogram.iter().zip(&self.average) {
                cf += c as f64 * inv;
                ca += a;
                w1 += (cf - ca).abs();
            }
            w1
        } else {
            f64::INFINITY
        };
        let reset = moved > SCENE_CHANGE;
        if reset {
            for (a, &c) in self.average.iter_mut().zip(histogram) {
                *a = c as f64 * inv;
            }
            self.started = true;
        } else {
            for (a, &c) in self.average.iter_mut().zip(histogram) {
                *a += ALPHA * (c as f64 * inv - *a);
            }
        }
        // density of the average, scaled to the frame's pixel count like the seed's
        let s = sigma(&self.average);
        let h = factor * s;
        gaussian_weights(h, &mut self.weights);
        // the average as counts of the frame's size (rounding moves a count by at most
        // half a pixel), so the seed's vectorised density serves
        for (c, &a) in self.counts.iter_mut().zip(&self.average) {
            *c = (a * n as f64).round() as u64;
        }
        super::density::density(&self.counts, &self.weights, density);
        super::extrema::find_extrema(density, convention, &mut self.minima, &mut self.maxima);
        self.minima.retain(|&m| m > 0);
        apply_prominence(density, &mut self.minima);
        // the frame's own density, with the same kernel: a one-frame event lingers in the
        // average for a few frames, but shows in one frame only
        if !reset {
            super::density::density(histogram, &self.weights, &mut self.frame_density);
            super::extrema::find_extrema(
                &self.frame_density,
                convention,
                &mut self.frame_minima,
                &mut self.maxima,
            );
            self.frame_minima.retain(|&m| m > 0);
            apply_prominence(&self.frame_density, &mut self.frame_minima);
        }

        self.previous.clear();
        self.previous.extend(self.tracks.iter().map(|t| t.level));
        if reset {
            self.since_reset = 0;
            self.tracks.clear();
            self.candidates.clear();
            self.tracks
                .extend(self.minima.iter().map(|&level| Track { level, missing: 0 }));
        } else {
            self.since_reset = self.since_reset.saturating_add(1);
            let persist = if self.since_reset <= SETTLE {
                1
            } else {
                PERSIST
            };
            self.follow(persist);
        }
        minima.clear();
        minima.extend(self.tracks.iter().map(|t| t.level));
        let state = if reset {
            Stability::Reset
        } else if *minima == self.previous {
            Stability::Carried
        } else {
            Stability::Updated
        };
        (s, h, state)
    }

    /// Matches this frame's minima to the tracked bounds and applies the hysteresis.
    fn follow(&mut self, persist: u8) {
        let minima = &self.minima;
        // each minimum to its nearest track within MATCH_LEVELS (tracks are ascending and
        // far apart, so a greedy nearest match is one to one in practice; a minimum
        // claimed twice goes to the nearer track)
        let mut claimed = [false; LEVELS];
        for t in self.tracks.iter_mut() {
            let nearest = minima
                .iter()
                .filter(|&&m| !claimed[m as usize])
                .min_by_key(|&&m| m.abs_diff(t.level))
                .copied()
                .filter(|&m| m.abs_diff(t.level) <= MATCH_LEVELS);
            match nearest {
                Some(m) => {
                    claimed[m as usize] = true;
                    t.missing = 0;
                    if m.abs_diff(t.level) > DEADBAND {
                        t.level = m;
                    }
                }
                None => t.missing = t.missing.saturating_add(1),
            }
        }
        self.tracks.retain(|t| t.missing < persist);
        // unclaimed minima: candidates that must persist
        let mut next = 0;
        let frame = &self.frame_minima;
        for &m in minima.iter().filter(|&&m| !claimed[m as usize]) {
            // a new bound needs the frame's own evidence too
            if !frame.iter().any(|&f| f.abs_diff(m) <= MATCH_LEVELS) {
                continue;
            }
            let seen = self
                .candidates
                .iter()
                .find(|c| c.level.abs_diff(m) <= MATCH_LEVELS)
                .map_or(1, |c| c.seen.saturating_add(1));
            if seen >= persist {
                self.tracks.push(Track {
                    level: m,
                    missing: 0,
                });
            } else {
                self.candidates.push(Candidate { level: m, seen });
                next += 1;
            }
        }
        // keep only this frame's candidates (the last `next` pushed)
        let keep_from = self.candidates.len() - next;
        self.candidates.drain(..keep_from);
        self.tracks.sort_by_key(|t| t.level);
        // two tracks that met: keep the first
        self.tracks
            .dedup_by(|b, a| b.level.abs_diff(a.level) < DEADBAND);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A histogram of `n` pixels from a sum of Gaussian modes (centre, width, weight).
    fn hist(modes: &[(f64, f64, f64)], n: f64) -> [u64; LEVELS] {
        let mut h = [0u64; LEVELS];
        let mut w = [0.0; LEVELS];
        for (v, x) in w.iter_mut().enumerate() {
            for &(c, s, a) in modes {
                *x += a * (-(v as f64 - c).powi(2) / (2.0 * s * s)).exp();
            }
        }
        let total: f64 = w.iter().sum();
        for (o, x) in h.iter_mut().zip(w) {
            *o = (x / total * n).round() as u64;
        }
        h
    }

    fn step(s: &mut StableLayers, h: &[u64; LEVELS]) -> (Vec<u16>, Stability) {
        let mut d = [0.0; LEVELS];
        let mut m = Vec::new();
        let (_, _, st) = s.step(h, 0.2, Convention::Seed, &mut d, &mut m);
        (m, st)
    }

    #[test]
    fn a_still_scene_keeps_its_bounds_through_noise() {
        let mut s = StableLayers::default();
        let (first, st) = step(&mut s, &hist(&[(50.0, 12.0, 1.0), (190.0, 15.0, 1.0)], 1e6));
        assert_eq!(st, Stability::Reset);
        assert_eq!(first.len(), 1);
        for k in 0..20 {
            // the modes wobble by a level or two, as sensor noise and small motion do
            let j = (k % 3) as f64 - 1.0;
            let h = hist(
                &[(50.0 + j, 12.0, 1.0), (190.0 - j, 15.0 + j, 1.0 + 0.05 * j)],
                1e6,
            );
            let (b, st) = step(&mut s, &h);
            assert_eq!(b, first, "frame {k}");
            assert_eq!(st, Stability::Carried);
        }
    }

    #[test]
    fn a_flickering_shallow_mode_does_not_flicker_a_layer() {
        let mut s = StableLayers::default();
        let base = [(40.0, 10.0, 1.0), (200.0, 10.0, 1.0)];
        let with = [(40.0, 10.0, 1.0), (120.0, 6.0, 0.15), (200.0, 10.0, 1.0)];
        let (b0, _) = step(&mut s, &hist(&base, 1e6));
        for _ in 0..SETTLE + 1 {
            step(&mut s, &hist(&base, 1e6));
        }
        // present one frame in four (a reflection, a passing shadow): never persists
        for k in 0..16 {
            let h = hist(if k % 4 == 0 { &with } else { &base }, 1e6);
            // (the bound may move: the average's valley does)
            assert_eq!(step(&mut s, &h).0.len(), b0.len(), "frame {k}");
        }
        // present for good: a layer of its own after PERSIST frames (two bounds for one)
        let mut got = Vec::new();
        for _ in 0..PERSIST + 2 {
            got = step(&mut s, &hist(&with, 1e6)).0;
        }
        assert_eq!(got.len(), b0.len() + 1, "a third layer: {got:?}");
    }

    #[test]
    fn a_scene_change_resets_and_slow_light_is_followed() {
        let mut s = StableLayers::default();
        step(&mut s, &hist(&[(50.0, 10.0, 1.0), (190.0, 10.0, 1.0)], 1e6));
        let (b, st) = step(&mut s, &hist(&[(120.0, 8.0, 1.0), (230.0, 8.0, 1.0)], 1e6));
        assert_eq!(st, Stability::Reset);
        assert_eq!(b.len(), 1);
        assert!(b[0] > 150, "{b:?}");
        // the picture brightens by a level a frame: the bound follows, in steps
        let mut last = b[0];
        let mut moves = 0;
        for k in 1..=30 {
            let shift = k as f64;
            let h = hist(&[(120.0 + shift * 0.5, 8.0, 1.0), (230.0, 8.0, 1.0)], 1e6);
            let (b, st) = step(&mut s, &h);
            assert_ne!(st, Stability::Reset, "slow change is no scene change");
            if b[0] != last {
                moves += 1;
                last = b[0];
            }
        }
        assert!((1..=5).contains(&moves), "{moves} moves");
        assert!(last > b[0], "followed the light: {} -> {last}", b[0]);
    }

    #[test]
    fn prominence_removes_the_shallowest_minimum_first() {
        let mut d = [0.0; LEVELS];
        for (v, x) in d.iter_mut().enumerate() {
            let v = v as f64;
            // σ 15; the middle two modes 32 levels apart: a dip of about 1 %
            *x = (-(v - 40.0f64).powi(2) / 450.0).exp()
                + (-(v - 120.0f64).powi(2) / 450.0).exp()
                + (-(v - 152.0f64).powi(2) / 450.0).exp()
                + (-(v - 230.0f64).powi(2) / 450.0).exp();
        }
        let mut m = Vec::new();
        let mut x = Vec::new();
        super::super::extrema::find_extrema(&d, Convention::True, &mut m, &mut x);
        assert_eq!(m.len(), 3);
        apply_prominence(&d, &mut m);
        assert_eq!(m.len(), 2, "{m:?}");
    }
}
