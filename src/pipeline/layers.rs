//! Stage 6: layers — the label map and per-layer statistics.

use super::density::LEVELS;

/// Pixels per layer, from the histogram.
pub fn layer_counts(hist: &[u64; LEVELS], bounds: &[u16], counts: &mut Vec<u64>) {
    counts.clear();
    for k in 0..bounds.len() - 1 {
        counts.push(
            hist[bounds[k] as usize..bounds[k + 1] as usize]
                .iter()
                .sum(),
        );
    }
}

/// One layer's description, as reported in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerInfo {
    /// Layer index, 0..K-1 in ascending gray order.
    pub index: usize,
    /// Peak gray level of the layer.
    pub peak: u16,
    /// Lowest gray level of the layer (inclusive).
    pub lo: u16,
    /// Upper gray level bound (exclusive).
    pub hi: u16,
    /// Pixels of the (upscaled) frame in the layer.
    pub pixels: u64,
}

/// The result of layering one frame. Owned by the [`Pipeline`](super::Pipeline) and
/// overwritten by each frame (its buffers are reused).
#[derive(Debug, Clone)]
pub struct Layers {
    /// Source width.
    pub width: usize,
    /// Source height.
    pub height: usize,
    /// Width of the upscaled frame (label map).
    pub upscaled_width: usize,
    /// Height of the upscaled frame (label map).
    pub upscaled_height: usize,
    /// Sample standard deviation of the gray levels.
    pub sigma: f64,
    /// Kernel bandwidth `h` in gray levels.
    pub bandwidth: f64,
    /// Whether `h` came from the bandwidth cache rather than this frame's σ.
    pub bandwidth_reused: bool,
    /// Histogram of the gray levels.
    pub histogram: [u64; LEVELS],
    /// Density at each gray level (unnormalised).
    pub density: [f64; LEVELS],
    /// Density minima (in the configured convention).
    pub minima: Vec<u16>,
    /// Density maxima (in the configured convention).
    pub maxima: Vec<u16>,
    /// Layer bounds, `K + 1` values from 0 to 256.
    pub bounds: Vec<u16>,
    /// Peak gray level of each layer, `K` values.
    pub peaks: Vec<u16>,
    /// Pixels in each layer, `K` values.
    pub counts: Vec<u64>,
    /// Gray level (0..=255) of each upscaled pixel, row-major.
    pub levels: Vec<u8>,
    /// Layer index of each upscaled pixel, row-major.
    pub labels: Vec<u8>,
    /// Level → layer lookup table.
    pub lut: [u8; LEVELS],
    /// In stable mode, how this frame's layers came about; `None` per frame (seed-exact).
    pub stability: Option<super::stable::Stability>,
}

impl Default for Layers {
    fn default() -> Self {
        Self {
            width: 0,
            height: 0,
            upscaled_width: 0,
            upscaled_height: 0,
            sigma: 0.0,
            bandwidth: 0.0,
            bandwidth_reused: false,
            histogram: [0; LEVELS],
            density: [0.0; LEVELS],
            minima: Vec::new(),
            maxima: Vec::new(),
            bounds: Vec::new(),
            peaks: Vec::new(),
            counts: Vec::new(),
            levels: Vec::new(),
            labels: Vec::new(),
            lut: [0; LEVELS],
            stability: None,
        }
    }
}

impl Layers {
    /// Number of layers K.
    pub fn len(&self) -> usize {
        self.peaks.len()
    }

    /// True when there are no layers (only before the first frame).
    pub fn is_empty(&self) -> bool {
        self.peaks.is_empty()
    }

    /// Description of layer `k`.
    pub fn info(&self, k: usize) -> LayerInfo {
        LayerInfo {
            index: k,
            peak: self.peaks[k],
            lo: self.bounds[k],
            hi: self.bounds[k + 1],
            pixels: self.counts[k],
        }
    }

    /// Descriptions of all layers.
    pub fn infos(&self) -> impl Iterator<Item = LayerInfo> + '_ {
        (0..self.len()).map(|k| self.info(k))
    }

    /// Layer indices ordered by pixel count, most populous first.
    pub fn by_population(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.len()).collect();
        idx.sort_by(|&a, &b| self.counts[b].cmp(&self.counts[a]).then(a.cmp(&b)));
        idx
    }

    /// The default layer to show: the second most populous (the most populous is usually the
    /// background), or the only one.
    pub fn default_layer(&self) -> usize {
        let order = self.by_population();
        order.get(1).or(order.first()).copied().unwrap_or(0)
    }
}
