//! Stage 7 (optional): the seed's feature extraction (2) — text features from the layers.
//!
//! 1. **Erosion-resistance filter**, every layer: 8-connected components of the layer; the
//!    share `r` of a component's pixels that survive one erosion with the 3×3 cross (pixels
//!    outside the image count as background); components with `r > 0.9` (solid blobs) or
//!    `r < 0.1` (thin lines, speckle) are dropped.
//! 2. **Pooling**: 8-connected components of the union of the filtered layers; each keeps
//!    only the pixels of the layer contributing most to it (ties: the lowest layer).
//! 3. **Post-processing**, components of the pooled mask in raster order, editing the mask
//!    as it goes: too sparse or too dense components are removed; isolated solid blocks
//!    (nothing else in the box grown ×3, fill > 0.75) are cleared.
//!
//! All three steps use the run-based labeller ([`super::components`]): linear time, one
//! sweep for the statistics, buffers kept between frames.

use super::components::{Components, Connect};
use super::layers::Layers;

/// Counts reported for the text features of one frame.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FeatureCounts {
    /// Pixels kept by the erosion-resistance filter, per layer.
    pub kept_per_layer: Vec<u64>,
    /// Pixels after pooling.
    pub pooled: u64,
    /// Pixels of the final text-feature mask.
    pub pixels: u64,
}

/// Drop threshold above which a component is a solid blob.
pub const SOLID: f64 = 0.9;
/// Drop threshold below which a component is a thin line or speckle.
pub const THIN: f64 = 0.1;

/// Reusable feature extractor (owns its scratch buffers).
#[derive(Debug, Default, Clone)]
pub struct TextFeatures {
    components: Components,
    eroded: Vec<u64>,
    /// Filtered layers: layer index + 1 where kept, 0 elsewhere.
    kept: Vec<u8>,
    first_layer: Vec<u8>,
    mixed_slot: Vec<u32>,
    mixed_counts: Vec<u64>,
    chosen: Vec<u8>,
    /// The final mask: 255 = text feature, 0 elsewhere (upscaled size).
    mask: Vec<u8>,
    counts: FeatureCounts,
    width: usize,
    height: usize,
}

const NO_LAYER: u8 = u8::MAX;
const NOT_MIXED: u32 = u32::MAX;

impl TextFeatures {
    /// The final mask of the last frame (255 = feature), `width × height` of the label map.
    pub fn mask(&self) -> &[u8] {
        &self.mask
    }

    /// Size of the mask.
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// Counts of the last frame.
    pub fn counts(&self) -> &FeatureCounts {
        &self.counts
    }

    /// Runs the three steps on a frame's layers.
    pub fn run(&mut self, layers: &Layers) -> &FeatureCounts {
        let (w, h) = (layers.upscaled_width, layers.upscaled_height);
        self.width = w;
        self.height = h;
        self.erosion_filter(&layers.labels, layers.len(), w, h);
        self.pool(layers.len(), w, h);
        self.post_process(w, h);
        &self.counts
    }

    fn erosion_filter(&mut self, labels: &[u8], k_layers: usize, w: usize, h: usize) {
        let c = &mut self.components;
        c.label(labels, w, h, Connect::SameValue);
        self.eroded.clear();
        self.eroded.resize(c.len(), 0);
        for (run, &id) in c.runs.iter().zip(&c.run_component) {
            let y = run.row as usize;
            if y == 0 || y + 1 == h || run.end - run.start < 3 {
                continue;
            }
            let v = run.value;
            let up = &labels[(y - 1) * w..y * w];
            let down = &labels[(y + 1) * w..(y + 2) * w];
            // interior of the run: left and right neighbours are in the run
            let (a, b) = (run.start as usize + 1, run.end as usize - 1);
            // branch-free so that it vectorises
            let n: u32 = up[a..b]
                .iter()
                .zip(&down[a..b])
                .map(|(&u, &d)| (u == v) as u32 & (d == v) as u32)
                .sum();
            self.eroded[id as usize] += n as u64;
        }
        // the runs of a label map cover every pixel: each run writes its value or 0
        self.kept.resize(w * h, 0);
        self.counts.kept_per_layer.clear();
        self.counts.kept_per_layer.resize(k_layers, 0);
        for (run, &id) in c.runs.iter().zip(&c.run_component) {
            let area = c.stats[id as usize].area;
            let r = self.eroded[id as usize] as f64 / area as f64;
            let keep = (THIN..=SOLID).contains(&r);
            let y = run.row as usize;
            let span = &mut self.kept[y * w + run.start as usize..y * w + run.end as usize];
            if keep {
                span.fill(run.value + 1);
                self.counts.kept_per_layer[run.value as usize] += (run.end - run.start) as u64;
            } else {
                span.fill(0);
            }
        }
    }

    fn pool(&mut self, k_layers: usize, w: usize, h: usize) {
        let c = &mut self.components;
        c.label(&self.kept, w, h, Connect::NonZero);
        let n = c.len();
        self.first_layer.clear();
        self.first_layer.resize(n, NO_LAYER);
        self.mixed_slot.clear();
        self.mixed_slot.resize(n, NOT_MIXED);
        let mut n_mixed = 0u32;
        for (run, &id) in c.runs.iter().zip(&c.run_component) {
            let y = run.row as usize;
            let row = &self.kept[y * w + run.start as usize..y * w + run.end as usize];
            let id = id as usize;
            if self.mixed_slot[id] != NOT_MIXED {
                continue;
            }
            for &v in row {
                let layer = v - 1;
                if self.first_layer[id] == NO_LAYER {
                    self.first_layer[id] = layer;
                } else if self.first_layer[id] != layer {
                    self.mixed_slot[id] = n_mixed;
                    n_mixed += 1;
                    break;
                }
            }
        }
        // components with pixels of several layers: count per layer, keep the largest
        self.mixed_counts.clear();
        self.mixed_counts.resize(n_mixed as usize * k_layers, 0);
        for (run, &id) in c.runs.iter().zip(&c.run_component) {
            let slot = self.mixed_slot[id as usize];
            if slot == NOT_MIXED {
                continue;
            }
            let y = run.row as usize;
            let row = &self.kept[y * w + run.start as usize..y * w + run.end as usize];
            let base = slot as usize * k_layers;
            for &v in row {
                self.mixed_counts[base + (v - 1) as usize] += 1;
            }
        }
        self.chosen.clear();
        self.chosen.extend_from_slice(&self.first_layer);
        for id in 0..n {
            let slot = self.mixed_slot[id];
            if slot == NOT_MIXED {
                continue;
            }
            let counts =
                &self.mixed_counts[slot as usize * k_layers..(slot as usize + 1) * k_layers];
            let mut best = 0;
            for (k, &cnt) in counts.iter().enumerate() {
                if cnt > counts[best] {
                    best = k;
                }
            }
            self.chosen[id] = best as u8;
        }
        // the pooled mask, as 1/0 in `mask`
        self.mask.clear();
        self.mask.resize(self.kept.len(), 0);
        let mut pooled = 0u64;
        for (run, &id) in c.runs.iter().zip(&c.run_component) {
            let y = run.row as usize;
            let keep = self.chosen[id as usize] + 1;
            let range = y * w + run.start as usize..y * w + run.end as usize;
            for (m, &v) in self.mask[range.clone()].iter_mut().zip(&self.kept[range]) {
                if v == keep {
                    *m = 1;
                    pooled += 1;
                }
            }
        }
        self.counts.pooled = pooled;
    }

    fn post_process(&mut self, w: usize, h: usize) {
        let c = &mut self.components;
        c.label(&self.mask, w, h, Connect::NonZero);
        let total = (w * h) as f64;
        let mask = &mut self.mask;
        // removal walks the rows of the component's box and clears the runs with its id
        for id in 0..c.stats.len() {
            let s = c.stats[id];
            let area = s.area as f64;
            let boxa = s.box_area() as f64;
            let ss = total / (boxa * boxa);
            if area * ss < 16.0 || (1.0 + boxa - area) * ss < 16.0 {
                for y in s.row0 as usize..s.row1 as usize {
                    for r in c.row_runs(y) {
                        if c.run_component[r] as usize == id {
                            let run = c.runs[r];
                            mask[y * w + run.start as usize..y * w + run.end as usize].fill(0);
                        }
                    }
                }
                continue;
            }
            let (a, b) = (s.row0 as i64, s.row1 as i64);
            let (cc, d) = (s.col0 as i64, s.col1 as i64);
            let r0 = (2 * a - b).max(0) as usize;
            let r1 = (2 * b - a).min(h as i64) as usize;
            let c0 = (2 * cc - d).max(0) as usize;
            let c1 = (2 * d - cc).min(w as i64) as usize;
            let mut set = 0u64;
            for y in r0..r1 {
                set += mask[y * w + c0..y * w + c1]
                    .iter()
                    .map(|&v| v as u64)
                    .sum::<u64>();
            }
            if set == s.area && area / boxa > 0.75 {
                for y in a as usize..b as usize {
                    mask[y * w + cc as usize..y * w + d as usize].fill(0);
                }
            }
        }
        // 0/1 → 0/255, counting; branch-free so that both loops vectorise
        let pixels: u64 = mask
            .chunks(1 << 16)
            .map(|c| c.iter().map(|&m| m as u32).sum::<u32>() as u64)
            .sum();
        for m in mask.iter_mut() {
            *m = 0u8.wrapping_sub(*m);
        }
        self.counts.pixels = pixels;
    }
}
