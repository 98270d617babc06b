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
use crate::simd::Isa;

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
    /// Components of the label map (erosion filter).
    components: Components,
    /// Components of the filtered layers' union (pooling), built from the kept runs.
    pooled_components: Components,
    /// Components of the pooled mask (post-processing), built from the pooled runs.
    mask_components: Components,
    /// Per run of the label map: interior pixels surviving the erosion.
    run_value: Vec<u32>,
    eroded: Vec<u64>,
    /// Per component of the erosion filter: kept.
    keep: Vec<bool>,
    /// Per pooling run: the label-map runs it covers (`first..end`).
    covers: Vec<(u32, u32)>,
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

/// Rows per task of [`paint_runs`] (bands of rows are disjoint in the image and in the
/// run list, so they are painted in parallel).
const BAND_ROWS: usize = 32;

/// Writes the runs of `c` into `image` (`w` pixels a row) as 1 on 0, in bands of
/// [`BAND_ROWS`] rows on the current rayon pool (each band cleared by its own task).
fn paint_runs(c: &Components, image: &mut [u8], w: usize) {
    if w == 0 {
        return;
    }
    image
        .par_chunks_mut(w * BAND_ROWS)
        .enumerate()
        .for_each(|(b, band)| {
            let y0 = b * BAND_ROWS;
            band.fill(0);
            for run in &c.runs[c.runs_of_rows(y0..y0 + band.len() / w)] {
                let at = (run.row as usize - y0) * w;
                band[at + run.start as usize..at + run.end as usize].fill(1);
            }
        });
}

/// Runs per task of the per-run passes.
const RUN_CHUNK: usize = 4096;

crate::simd::avx2_dispatch! {
    /// [`eroded_in_run`] for each of `runs`, into `counts`.
    fn eroded_in_runs(isa: Isa, labels: &[u8], w: usize, h: usize, runs: &[Run], counts: &mut [u32]) => plain eroded_in_runs_plain
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

    /// Exchanges the last frame's mask with `spare`, without copying: `spare` receives
    /// the mask, and its old buffer is reused (resized and overwritten) by the next frame.
    /// Until then [`mask`](Self::mask) returns the old contents of `spare`.
    pub fn swap_mask(&mut self, spare: &mut Vec<u8>) {
        std::mem::swap(&mut self.mask, spare);
    }

    /// Size of the mask.
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// The 8-connected components of the last frame's label map (every layer; a run's
    /// value is its layer), as the erosion filter labelled them.
    pub fn layer_components(&self) -> &Components {
        &self.components
    }

    /// Per component of [`layer_components`](Self::layer_components): its pixels that
    /// survive one erosion with the 3×3 cross.
    pub fn layer_eroded(&self) -> &[u64] {
        &self.eroded
    }

    /// Counts of the last frame.
    pub fn counts(&self) -> &FeatureCounts {
        &self.counts
    }

    /// Runs the three steps on a frame's layers, with the kernels' forms that `isa`
    /// allows (the same result for every `isa`).
    pub fn run(&mut self, layers: &Layers, isa: Isa) -> &FeatureCounts {
        let (w, h) = (layers.upscaled_width, layers.upscaled_height);
        self.width = w;
        self.height = h;
        self.erosion_filter(isa, &layers.labels, layers.len(), w, h);
        self.pool(layers.len(), w, h);
        self.post_process(w, h);
        &self.counts
    }

    fn erosion_filter(&mut self, isa: Isa, labels: &[u8], k_layers: usize, w: usize, h: usize) {
        let c = &mut self.components;
        c.label(labels, w, h, Connect::SameValue);
        let c = &*c;
        // interior pixels of each run that survive the erosion, runs in parallel
        self.run_value.resize(c.runs.len(), 0);
        self.run_value
            .par_chunks_mut(RUN_CHUNK)
            .zip(c.runs.par_chunks(RUN_CHUNK))
            .for_each(|(counts, runs)| {
                eroded_in_runs(isa, labels, w, h, runs, counts);
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
        self.counts.kept_per_layer.clear();
        self.counts.kept_per_layer.resize(k_layers, 0);
        // kept pixels per layer; the kept runs, merged where they touch on their row, are
        // the runs of the filtered layers' union (nothing is written to an image)
        let p = &mut self.pooled_components;
        p.clear_runs();
        self.covers.clear();
        for (r, (run, &id)) in c.runs.iter().zip(&c.run_component).enumerate() {
            if !self.keep[id as usize] {
                continue;
            }
            self.counts.kept_per_layer[run.value as usize] += (run.end - run.start) as u64;
            match (p.last_run(), self.covers.last_mut()) {
                (Some(last), Some(cover)) if last.row == run.row && last.end == run.start => {
                    cover.1 = r as u32 + 1;
                    p.extend_last_run(run.end);
                }
                _ => {
                    p.push_run(Run {
                        value: run.value + 1,
                        ..*run
                    });
                    self.covers.push((r as u32, r as u32 + 1));
                }
            }
        }
        p.label_runs(h, Connect::NonZero);
    }

    fn pool(&mut self, k_layers: usize, w: usize, h: usize) {
        let (layer_map, c) = (&self.components, &self.pooled_components);
        let n = c.len();
        self.first_layer.clear();
        self.first_layer.resize(n, NO_LAYER);
        self.mixed_slot.clear();
        self.mixed_slot.resize(n, NOT_MIXED);
        // a component is mixed when the label-map runs it covers come from several layers
        let mut n_mixed = 0u32;
        for (&id, &(first, end)) in c.run_component.iter().zip(&self.covers) {
            let id = id as usize;
            for run in &layer_map.runs[first as usize..end as usize] {
                if self.mixed_slot[id] != NOT_MIXED {
                    break;
                }
                if self.first_layer[id] == NO_LAYER {
                    self.first_layer[id] = run.value;
                } else if self.first_layer[id] != run.value {
                    self.mixed_slot[id] = n_mixed;
                    n_mixed += 1;
                }
            }
        }
        // components with pixels of several layers: count per layer, keep the largest
        self.mixed_counts.clear();
        self.mixed_counts.resize(n_mixed as usize * k_layers, 0);
        for (&id, &(first, end)) in c.run_component.iter().zip(&self.covers) {
            let slot = self.mixed_slot[id as usize];
            if slot == NOT_MIXED {
                continue;
            }
            let base = slot as usize * k_layers;
            for run in &layer_map.runs[first as usize..end as usize] {
                self.mixed_counts[base + run.value as usize] += (run.end - run.start) as u64;
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
        // the pooled runs: label-map runs of each component's chosen layer, merged where
        // they touch on their row
        let m = &mut self.mask_components;
        m.clear_runs();
        let mut pooled = 0u64;
        for (&id, &(first, end)) in c.run_component.iter().zip(&self.covers) {
            let keep = self.chosen[id as usize];
            for run in &layer_map.runs[first as usize..end as usize] {
                if run.value != keep {
                    continue;
                }
                pooled += (run.end - run.start) as u64;
                match m.last_run() {
                    Some(last) if last.row == run.row && last.end == run.start => {
                        m.extend_last_run(run.end)
                    }
                    _ => m.push_run(Run { value: 1, ..*run }),
                }
            }
        }
        self.counts.pooled = pooled;
        m.label_runs(h, Connect::NonZero);
        // the pooled mask as 1/0
        self.mask.resize(w * h, 0);
        paint_runs(&self.mask_components, &mut self.mask, w);
    }

    fn post_process(&mut self, w: usize, h: usize) {
        let c = &self.mask_components;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// 8-connected flood-fill labels of the pixels where `member` holds, in raster order
    /// of first pixel (`u32::MAX` elsewhere), and the number of components.
    fn flood(w: usize, h: usize, member: impl Fn(usize, usize) -> bool) -> (Vec<u32>, u32) {
        let mut lab = vec![u32::MAX; w * h];
        let mut next = 0;
        for start in 0..w * h {
            if lab[start] != u32::MAX || !member(start, start) {
                continue;
            }
            lab[start] = next;
            let mut stack = vec![start];
            while let Some(p) = stack.pop() {
                let (x, y) = ((p % w) as i64, (p / w) as i64);
                for (dx, dy) in (-1..=1).flat_map(|dx| (-1..=1).map(move |dy| (dx, dy))) {
                    let (nx, ny) = (x + dx, y + dy);
                    if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                        continue;
                    }
                    let q = ny as usize * w + nx as usize;
                    if lab[q] == u32::MAX && member(q, p) {
                        lab[q] = next;
                        stack.push(q);
                    }
                }
            }
            next += 1;
        }
        (lab, next)
    }

    /// The three steps pixel by pixel, straight from the specification.
    fn naive(labels: &[u8], k: usize, w: usize, h: usize) -> (Vec<u64>, u64, Vec<u8>) {
        let mut kept = vec![0u8; w * h];
        let mut kept_per_layer = vec![0u64; k];
        for layer in 0..k as u8 {
            let inside = |i: usize| labels[i] == layer;
            let (lab, n) = flood(w, h, |q, _| inside(q));
            let mut area = vec![0u64; n as usize];
            let mut eroded = vec![0u64; n as usize];
            for i in (0..w * h).filter(|&i| inside(i)) {
                area[lab[i] as usize] += 1;
                let (x, y) = (i % w, i / w);
                let cross = x > 0
                    && y > 0
                    && x + 1 < w
                    && y + 1 < h
                    && inside(i - 1)
                    && inside(i + 1)
                    && inside(i - w)
                    && inside(i + w);
                eroded[lab[i] as usize] += cross as u64;
            }
            for i in (0..w * h).filter(|&i| inside(i)) {
                let c = lab[i] as usize;
                let r = eroded[c] as f64 / area[c] as f64;
                if (THIN..=SOLID).contains(&r) {
                    kept[i] = layer + 1;
                    kept_per_layer[layer as usize] += 1;
                }
            }
        }
        let (lab, n) = flood(w, h, |q, _| kept[q] != 0);
        let mut per = vec![vec![0u64; k]; n as usize];
        for i in (0..w * h).filter(|&i| kept[i] != 0) {
            per[lab[i] as usize][kept[i] as usize - 1] += 1;
        }
        let mut mask = vec![0u8; w * h];
        for i in (0..w * h).filter(|&i| kept[i] != 0) {
            let counts = &per[lab[i] as usize];
            let best = (0..k).fold(0, |b, j| if counts[j] > counts[b] { j } else { b });
            mask[i] = (kept[i] as usize - 1 == best) as u8;
        }
        let pooled = mask.iter().map(|&m| m as u64).sum();
        let (lab, n) = flood(w, h, |q, _| mask[q] != 0);
        let total = (w * h) as f64;
        for id in 0..n {
            let pixels: Vec<usize> = (0..w * h).filter(|&i| lab[i] == id).collect();
            let area = pixels.len() as f64;
            let (r0, r1) = (
                pixels[0] / w,
                pixels.iter().map(|&i| i / w).max().unwrap() + 1,
            );
            let c0 = pixels.iter().map(|&i| i % w).min().unwrap();
            let c1 = pixels.iter().map(|&i| i % w).max().unwrap() + 1;
            let boxa = ((r1 - r0) * (c1 - c0)) as f64;
            let ss = total / (boxa * boxa);
            if area * ss < 16.0 || (1.0 + boxa - area) * ss < 16.0 {
                pixels.iter().for_each(|&i| mask[i] = 0);
                continue;
            }
            let (a, b, c, d) = (r0 as i64, r1 as i64, c0 as i64, c1 as i64);
            let rows = (2 * a - b).max(0) as usize..(2 * b - a).min(h as i64) as usize;
            let cols = (2 * c - d).max(0) as usize..(2 * d - c).min(w as i64) as usize;
            let set: f64 = rows
                .flat_map(|y| cols.clone().map(move |x| y * w + x))
                .map(|i| mask[i] as f64)
                .sum();
            if set == area && area / boxa > 0.75 {
                for y in r0..r1 {
                    mask[y * w + c0..y * w + c1].fill(0);
                }
            }
        }
        (kept_per_layer, pooled, mask)
    }

    #[test]
    fn runs_based_stage_equals_the_pixel_by_pixel_specification() {
        let mut seed = 7u64;
        let mut rand = move |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut features = TextFeatures::default();
        let mut nonempty = 0;
        for case in 0..40 {
            // a solid background (dropped: too solid) under shapes of the other layers:
            // hollow frames with 3-pixel strokes (kept, pooled, often overlapping in
            // different layers), small solid blocks (isolated ones are cleared) and
            // 1-pixel lines (dropped: too thin), sized so that post-processing keeps some
            let (w, h, k) = (
                110 + rand(30) as usize,
                100 + rand(20) as usize,
                2 + rand(3) as usize,
            );
            let mut labels = vec![0u8; w * h];
            for _ in 0..10 + rand(15) {
                let v = 1 + rand(k as u64 - 1) as u8;
                let kind = rand(10);
                let (bw, bh, stroke) = match kind {
                    0..=5 => (9 + rand(7) as usize, 9 + rand(7) as usize, 3),
                    6..=7 => (4 + rand(3) as usize, 4 + rand(3) as usize, 99),
                    _ => (5 + rand(20) as usize, 1, 1),
                };
                let (x0, y0) = (
                    rand((w - bw) as u64) as usize,
                    rand((h - bh) as u64) as usize,
                );
                for y in y0..y0 + bh {
                    for x in x0..x0 + bw {
                        let edge = x - x0 < stroke
                            || y - y0 < stroke
                            || x0 + bw - x <= stroke
                            || y0 + bh - y <= stroke;
                        if edge {
                            labels[y * w + x] = v;
                        }
                    }
                }
            }
            let layers = Layers {
                upscaled_width: w,
                upscaled_height: h,
                labels: labels.clone(),
                peaks: (0..k as u16).collect(),
                ..Layers::default()
            };
            let (kept, pooled, mask) = naive(&labels, k, w, h);
            let mask: Vec<u8> = mask.iter().map(|&m| m * 255).collect();
            for isa in Isa::available() {
                let got = features.run(&layers, isa).clone();
                assert_eq!(got.kept_per_layer, kept, "{isa:?}, case {case}");
                assert_eq!(got.pooled, pooled, "{isa:?}, case {case}");
                assert_eq!(features.mask(), &mask[..], "{isa:?}, case {case}");
                assert_eq!(got.pixels, mask.iter().filter(|&&m| m != 0).count() as u64);
            }
            let got = features.counts();
            nonempty += (got.pixels > 0 && got.pooled > got.pixels) as usize;
        }
        // the cases exercise every step: most keep some text and remove some
        assert!(
            nonempty >= 20,
            "{nonempty} of 40 cases keep and remove pixels"
        );
    }
}
