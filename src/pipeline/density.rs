//! Stage 4: bandwidth and the kernel density of the gray levels.
//!
//! `h = factor · σ`, σ the sample standard deviation (ddof = 1) of the levels; this is what
//! `scipy.stats.gaussian_kde(levels, bw_method=factor)` does (a scalar `bw_method` *is* the
//! factor). The density at `x = 0..255` is `Σ_v c[v] · exp(−(x − v)² / 2h²)` over the
//! histogram `c`, equal (up to a constant) to the KDE over every raw pixel.

/// Number of gray levels.
pub const LEVELS: usize = 256;

/// Sample standard deviation (ddof = 1) of the levels counted in `hist`, from exact integer
/// sums. Fewer than two samples give 0.
pub fn sigma_from_histogram(hist: &[u64; LEVELS]) -> f64 {
    let mut n: u128 = 0;
    let mut s1: u128 = 0;
    let mut s2: u128 = 0;
    for (v, &c) in hist.iter().enumerate() {
        let c = c as u128;
        let v = v as u128;
        n += c;
        s1 += c * v;
        s2 += c * v * v;
    }
    if n < 2 {
        return 0.0;
    }
    // Σ(v − mean)² = (n·s2 − s1²) / n, exact in integers
    let num = n * s2 - s1 * s1;
    let var = num as f64 / n as f64 / (n - 1) as f64;
    var.sqrt()
}

/// Gaussian kernel weights `w[d] = exp(−d² / 2h²)` for distances `d = 0..255`; with `h = 0`
/// the kernel is a unit spike (the density is then the histogram itself).
pub fn gaussian_weights(h: f64, w: &mut [f64; LEVELS]) {
    if h > 0.0 {
        for (d, w) in w.iter_mut().enumerate() {
            let d = d as f64;
            *w = (-(d * d) / (2.0 * h * h)).exp();
        }
    } else {
        w.fill(0.0);
        w[0] = 1.0;
    }
}

/// The density at every gray level from the histogram and the kernel weights.
///
/// Each `out[x]` is summed over the occupied levels `v` in ascending order, exactly as
/// [`density_plain`] does, but level by level across all `x` at once (a vector loop over a
/// mirrored copy of the weights) instead of `x` by `x` with a branch per level.
pub fn density(hist: &[u64; LEVELS], w: &[f64; LEVELS], out: &mut [f64; LEVELS]) {
    // mirrored[LEVELS - 1 + d] = w[|d|] for d = −255..=255
    let mut mirrored = [0.0; 2 * LEVELS - 1];
    for (d, &wd) in w.iter().enumerate() {
        mirrored[LEVELS - 1 + d] = wd;
        mirrored[LEVELS - 1 - d] = wd;
    }
    out.fill(0.0);
    for (v, &c) in hist.iter().enumerate() {
        if c != 0 {
            let c = c as f64;
            // x − v + 255 for x = 0..255
            let row = &mirrored[LEVELS - 1 - v..2 * LEVELS - 1 - v];
            for (o, &wd) in out.iter_mut().zip(row) {
                *o += c * wd;
            }
        }
    }
}

/// The plain form of [`density`]: `out[x] = Σ_v c[v] · w[|x − v|]`, `x` by `x`.
pub fn density_plain(hist: &[u64; LEVELS], w: &[f64; LEVELS], out: &mut [f64; LEVELS]) {
    for (x, o) in out.iter_mut().enumerate() {
        let mut s = 0.0;
        for (v, &c) in hist.iter().enumerate() {
            if c != 0 {
                s += c as f64 * w[x.abs_diff(v)];
            }
        }
        *o = s;
    }
}

/// Keeps the bandwidth and its kernel weights from frame to frame while σ stays within a
/// relative tolerance of the σ they were computed for, and the frame size is unchanged.
/// A tolerance of 0 recomputes every frame (seed-exact per frame).
#[derive(Debug, Clone)]
pub struct BandwidthCache {
    /// σ the cached bandwidth was computed from.
    sigma: f64,
    /// The factor it was computed with.
    factor: f64,
    /// The cached bandwidth.
    h: f64,
    /// Kernel weights for `h`.
    weights: [f64; LEVELS],
    /// Frame size (upscaled pixels) the cache belongs to, `None` when empty.
    key: Option<(usize, usize)>,
}

impl Default for BandwidthCache {
    fn default() -> Self {
        Self {
            sigma: 0.0,
            factor: 0.0,
            h: 0.0,
            weights: [0.0; LEVELS],
            key: None,
        }
    }
}

impl BandwidthCache {
    /// Forgets the cached bandwidth.
    pub fn clear(&mut self) {
        self.key = None;
    }

    /// Returns `(h, reused)` for a frame of `size` with standard deviation `sigma`, updating
    /// the cache when σ drifted beyond `tolerance` (relative), the size or factor changed.
    pub fn bandwidth(
        &mut self,
        sigma: f64,
        factor: f64,
        tolerance: f64,
        size: (usize, usize),
    ) -> (f64, bool) {
        let reusable = tolerance > 0.0
            && self.key == Some(size)
            && self.factor == factor
            && if self.sigma > 0.0 {
                ((sigma - self.sigma) / self.sigma).abs() <= tolerance
            } else {
                sigma == 0.0
            };
        if reusable {
            return (self.h, true);
        }
        self.sigma = sigma;
        self.factor = factor;
        self.h = factor * sigma;
        self.key = Some(size);
        gaussian_weights(self.h, &mut self.weights);
        (self.h, false)
    }

    /// Kernel weights of the current bandwidth.
    pub fn weights(&self) -> &[f64; LEVELS] {
        &self.weights
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigma_matches_direct_formula() {
        let mut h = [0u64; LEVELS];
        h[10] = 3;
        h[20] = 1;
        h[200] = 2;
        let xs = [10.0, 10.0, 10.0, 20.0, 200.0, 200.0];
        let m: f64 = xs.iter().sum::<f64>() / 6.0;
        let v: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / 5.0;
        assert!((sigma_from_histogram(&h) - v.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn degenerate_sigma() {
        let mut h = [0u64; LEVELS];
        assert_eq!(sigma_from_histogram(&h), 0.0);
        h[5] = 1;
        assert_eq!(sigma_from_histogram(&h), 0.0);
        h[5] = 100;
        assert_eq!(sigma_from_histogram(&h), 0.0);
    }

    #[test]
    fn zero_bandwidth_density_is_histogram() {
        let mut h = [0u64; LEVELS];
        h[3] = 7;
        h[9] = 2;
        let mut w = [0.0; LEVELS];
        gaussian_weights(0.0, &mut w);
        let mut d = [0.0; LEVELS];
        density(&h, &w, &mut d);
        assert_eq!(d[3], 7.0);
        assert_eq!(d[9], 2.0);
        assert_eq!(d.iter().sum::<f64>(), 9.0);
    }

    #[test]
    fn level_by_level_density_equals_the_plain_sum_bit_for_bit() {
        for seed in 0..20u64 {
            let mut h = [0u64; LEVELS];
            for (v, c) in h.iter_mut().enumerate() {
                let r = (v as u64 + 1).wrapping_mul(6364136223846793005 ^ seed) >> 40;
                // sparse and spiky, like a document frame
                *c = if r.is_multiple_of(3) { r % 100_000 } else { 0 };
            }
            h[(seed * 37 % 256) as usize] = 2_000_000;
            for bw in [0.0, 0.7, 5.76, 40.0] {
                let mut w = [0.0; LEVELS];
                gaussian_weights(bw, &mut w);
                let (mut a, mut b) = ([0.0; LEVELS], [0.0; LEVELS]);
                density(&h, &w, &mut a);
                density_plain(&h, &w, &mut b);
                assert_eq!(a, b, "seed {seed}, h {bw}");
            }
        }
    }

    #[test]
    fn cache_reuses_within_tolerance_only() {
        let mut c = BandwidthCache::default();
        assert_eq!(c.bandwidth(10.0, 0.2, 0.05, (4, 4)), (2.0, false));
        assert!(c.bandwidth(10.4, 0.2, 0.05, (4, 4)).1);
        assert!(!c.bandwidth(10.6, 0.2, 0.05, (4, 4)).1);
        assert!(!c.bandwidth(10.6, 0.2, 0.05, (4, 6)).1);
        assert!(!c.bandwidth(10.6, 0.2, 0.0, (4, 6)).1);
        assert!(!c.bandwidth(10.6, 0.3, 0.05, (4, 6)).1);
    }
}
