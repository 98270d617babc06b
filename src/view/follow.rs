//! Layer identity across frames: follow the chosen layer by its peak gray level.
//!
//! Layer indices shift when a shallow peak appears or vanishes. The follower keeps a gray
//! level (set when the user chooses a layer) and shows, in every frame, the layer whose peak
//! is nearest to it — switching away from the layer it showed last only when another peak is
//! nearer by more than a margin (hysteresis), so it does not flicker between two peaks.
//! The level tracks slow drift (lighting) of the shown peak.

/// Gray levels by which a new candidate must be nearer before the follower switches.
pub const HYSTERESIS: f64 = 6.0;
/// Share of the shown peak's drift the followed level takes each frame.
pub const DRIFT: f64 = 0.2;

/// Follows one layer through a stream.
#[derive(Debug, Clone, Default)]
pub struct LayerFollower {
    level: Option<f64>,
    shown_peak: Option<f64>,
}

fn nearest(peaks: &[u16], level: f64) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (k, &p) in peaks.iter().enumerate() {
        let d = (p as f64 - level).abs();
        if best.is_none_or(|(_, bd)| d < bd) {
            best = Some((k, d));
        }
    }
    best.map(|(k, _)| k)
}

impl LayerFollower {
    /// The followed gray level, once set.
    pub fn level(&self) -> Option<f64> {
        self.level
    }

    /// Follows the layer with this peak from now on (a choice by hand).
    pub fn choose(&mut self, peak: u16) {
        self.level = Some(peak as f64);
        self.shown_peak = Some(peak as f64);
    }

    /// Picks the layer to show for a frame with these peaks; `default` is used when nothing
    /// is followed yet (and then becomes followed).
    pub fn pick(&mut self, peaks: &[u16], default: usize) -> usize {
        if peaks.is_empty() {
            return 0;
        }
        let Some(level) = self.level else {
            let k = default.min(peaks.len() - 1);
            self.choose(peaks[k]);
            return k;
        };
        let candidate = nearest(peaks, level).unwrap_or(0);
        let shown = self
            .shown_peak
            .and_then(|s| nearest(peaks, s))
            .unwrap_or(candidate);
        let dc = (peaks[candidate] as f64 - level).abs();
        let ds = (peaks[shown] as f64 - level).abs();
        let k = if candidate != shown && dc + HYSTERESIS < ds {
            candidate
        } else {
            shown
        };
        let p = peaks[k] as f64;
        self.shown_peak = Some(p);
        self.level = Some(level + DRIFT * (p - level));
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_peak_when_indices_shift() {
        let mut f = LayerFollower::default();
        assert_eq!(f.pick(&[10, 57, 97, 154], 2), 2); // follows 97
                                                      // a shallow peak appears at 123: indices after it shift, 97 keeps index 2
        assert_eq!(f.pick(&[10, 57, 97, 123, 154], 0), 2);
        // the 57 peak vanishes: 97 moves to index 1, still followed
        assert_eq!(f.pick(&[10, 97, 123, 154], 0), 1);
    }

    #[test]
    fn hysteresis_prevents_flicker() {
        let mut f = LayerFollower::default();
        f.choose(100);
        assert_eq!(f.pick(&[96, 150], 0), 0);
        // 103 is only slightly nearer to the level than 96: stay on the 96 layer
        assert_eq!(f.pick(&[96, 103, 150], 0), 0);
        assert_eq!(f.pick(&[96, 150], 0), 0);
    }

    #[test]
    fn empty_peaks() {
        let mut f = LayerFollower::default();
        assert_eq!(f.pick(&[], 3), 0);
        assert_eq!(f.pick(&[42], 3), 0);
    }
}
