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

use rayon::prelude::*;

use super::components::{Components, Connect, Run};
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
    /// Per run: interior pixels surviving the erosion (erosion filter), or its layer /
    /// [`MIXED_RUN`] (pooling).
    run_value: Vec<u32>,
    eroded: Vec<u64>,
    /// Per component of the erosion filter: kept.
    keep: Vec<bool>,
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
/// A pooling run whose pixels come from more than one layer.
const MIXED_RUN: u32 = u32::MAX;

/// Rows per task of the run-wise passes that write the image (bands of rows are disjoint
/// in the image and in the run list, so they run in parallel).
const BAND_ROWS: usize = 32;

/// Runs `f(band, first_row, runs of the band)` over bands of [`BAND_ROWS`] rows of `image`
/// (`w` pixels a row) on the current rayon pool and adds up what the calls return.
fn par_row_bands<F>(c: &Components, image: &mut [u8], w: usize, f: F) -> u64
where
    F: Fn(&mut [u8], usize, std::ops::Range<usize>) -> u64 + Sync,
{
    if w == 0 {
        return 0;
    }
    image
        .par_chunks_mut(w * BAND_ROWS)
        .enumerate()
        .map(|(b, band)| {
            let y0 = b * BAND_ROWS;
            let y1 = y0 + band.len() / w;
            f(band, y0, c.runs_of_rows(y0..y1))
        })
        .sum()
}

/// Runs per task of the per-run passes.
const RUN_CHUNK: usize = 4096;

super::simd::avx2_dispatch! {
    /// [`eroded_in_run`] for each of `runs`, into `counts`.
    fn eroded_in_runs(labels: &[u8], w: usize, h: usize, runs: &[Run], counts: &mut [u32]) => eroded_in_runs_plain
}

/// The plain form of [`eroded_in_runs`].
#[inline(always)]
fn eroded_in_runs_plain(labels: &[u8], w: usize, h: usize, runs: &[Run], counts: &mut [u32]) {
    for (n, run) in counts.iter_mut().zip(runs) {
        *n = eroded_in_run(labels, w, h, run);
    }
}

/// Interior pixels of `run` (a run of the label map `labels`, `w × h`) that survive one
/// erosion with the 3×3 cross: the run's own neighbours left and right are in the run, so
/// only the pixels above and below are tested. Rows on the border erode away entirely.
#[inline(always)]
fn eroded_in_run(labels: &[u8], w: usize, h: usize, run: &Run) -> u32 {
    let y = run.row as usize;
    if y == 0 || y + 1 == h || run.end - run.start < 3 {
        return 0;
    }
    let v = run.value;
    let up = &labels[(y - 1) * w..y * w];
    let down = &labels[(y + 1) * w..(y + 2) * w];
    let (a, b) = (run.start as usize + 1, run.end as usize - 1);
    // branch-free so that it vectorises
    up[a..b]
        .iter()
        .zip(&down[a..b])
        .map(|(&u, &d)| (u == v) as u32 & (d == v) as u32)
        .sum()
}

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
        let c = &*c;
        // interior pixels of each run that survive the erosion, runs in parallel
        self.run_value.resize(c.runs.len(), 0);
        self.run_value
            .par_chunks_mut(RUN_CHUNK)
            .zip(c.runs.par_chunks(RUN_CHUNK))
            .for_each(|(counts, runs)| {
                eroded_in_runs(labels, w, h, runs, counts);
            });
        self.eroded.clear();
        self.eroded.resize(c.len(), 0);
        for (&id, &n) in c.run_component.iter().zip(&self.run_value) {
            self.eroded[id as usize] += n as u64;
        }
        self.keep.clear();
        self.keep.extend(
            self.eroded
                .iter()
                .zip(&c.stats)
                .map(|(&e, s)| (THIN..=SOLID).contains(&(e as f64 / s.area as f64))),
        );
        // the runs of a label map cover every pixel: each run writes its value + 1 or 0
        self.kept.resize(w * h, 0);
        self.counts.kept_per_layer.clear();
        self.counts.kept_per_layer.resize(k_layers, 0);
        let keep = &self.keep;
        par_row_bands(c, &mut self.kept, w, |band, y0, runs| {
            for r in runs {
                let run = c.runs[r];
                let at = (run.row as usize - y0) * w;
                let span = &mut band[at + run.start as usize..at + run.end as usize];
                let kept = keep[c.run_component[r] as usize];
                span.fill(if kept { run.value + 1 } else { 0 });
            }
            0
        });
        // kept pixels per layer, from the runs (in order, so no per-band arrays)
        for (run, &id) in c.runs.iter().zip(&c.run_component) {
            if self.keep[id as usize] {
                self.counts.kept_per_layer[run.value as usize] += (run.end - run.start) as u64;
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
        // each run's layer (or MIXED_RUN), runs in parallel
        let kept = &self.kept;
        self.run_value.resize(c.runs.len(), 0);
        self.run_value
            .par_chunks_mut(RUN_CHUNK)
            .zip(c.runs.par_chunks(RUN_CHUNK))
            .for_each(|(values, runs)| {
                for (v, run) in values.iter_mut().zip(runs) {
                    let y = run.row as usize;
                    let row = &kept[y * w + run.start as usize..y * w + run.end as usize];
                    *v = if row.iter().all(|&p| p == run.value) {
                        (run.value - 1) as u32
                    } else {
                        MIXED_RUN
                    };
                }
            });
        // a component is mixed when its runs disagree or one of them is mixed
        let mut n_mixed = 0u32;
        for (&id, &v) in c.run_component.iter().zip(&self.run_value) {
            let id = id as usize;
            if self.mixed_slot[id] != NOT_MIXED {
                continue;
            }
            if v != MIXED_RUN && self.first_layer[id] == NO_LAYER {
                self.first_layer[id] = v as u8;
            } else if v == MIXED_RUN || self.first_layer[id] as u32 != v {
                self.mixed_slot[id] = n_mixed;
                n_mixed += 1;
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
        // every band is cleared by its own task (no serial memset of the whole mask)
        self.mask.resize(self.kept.len(), 0);
        let (kept, chosen) = (&self.kept, &self.chosen);
        let c = &*c;
        self.counts.pooled = par_row_bands(c, &mut self.mask, w, |band, y0, runs| {
            band.fill(0);
            let mut pooled = 0u64;
            for r in runs {
                let run = c.runs[r];
                let keep = chosen[c.run_component[r] as usize] + 1;
                let at = (run.row as usize - y0) * w;
                let src = &kept[run.row as usize * w..][run.start as usize..run.end as usize];
                let dst = &mut band[at + run.start as usize..at + run.end as usize];
                for (m, &v) in dst.iter_mut().zip(src) {
                    *m = (v == keep) as u8;
                }
                pooled += dst.iter().map(|&m| m as u32).sum::<u32>() as u64;
            }
            pooled
        });
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
            // only a solid block (fill > 0.75) can be cleared: count its grown box only
            // then, and stop counting once anything beyond the component is seen
            if area / boxa <= 0.75 {
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
                    .map(|&v| v as u32)
                    .sum::<u32>() as u64;
                if set > s.area {
                    break;
                }
            }
            if set == s.area {
                for y in a as usize..b as usize {
                    mask[y * w + cc as usize..y * w + d as usize].fill(0);
                }
            }
        }
        // 0/1 → 0/255, counting; branch-free so that both loops vectorise
        let pixels: u64 = mask
            .par_chunks_mut(1 << 16)
            .map(|c| {
                let n = c.iter().map(|&m| m as u32).sum::<u32>() as u64;
                for m in c.iter_mut() {
                    *m = 0u8.wrapping_sub(*m);
                }
                n
            })
            .sum();
        self.counts.pixels = pixels;
    }
}
