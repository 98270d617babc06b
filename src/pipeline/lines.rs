//! Stage 7: text lines. The series' text localisation (method section 5), seed-exact:
//! from the text-feature mask `F` to text-line boxes.
//!
//! 1. `M` = `F` with each 8-connected component's bounding box filled.
//! 2. Horizontal integration: each component of `M` finds its nearest other component by
//!    the gap distance `D = gap_rows² + gap_cols²` (ties: the lowest); if `D ≤ (min(h,
//!    w) / 4)²` and that neighbour lies to the right (or left) — more columns than rows
//!    away — the box is extended by a quarter of its width that way.
//! 3. Trim(5): each component is replaced by the tight box of its `F` pixels, kept when at
//!    least 5 × 5 (edits apply as they go).
//! 4. Integration again, Trim(10).
//! 5. A box whose `F` has too little boundary (under 0.15 boundary pixels per set pixel,
//!    a solid block) is dropped; the others are the lines, in raster order.
//!
//! The published search for the nearest component is all pairs; here it only looks at the
//! components whose boxes come within the distance that could change anything (a uniform
//! grid), which gives the same boxes in about linear time. Buffers are kept between calls:
//! a frame allocates nothing once sizes have been seen.

use super::components::{Components, Connect};

/// A text-line box in label-map pixels: columns `[x, x + w)`, rows `[y, y + h)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineBox {
    /// First column.
    pub x: u32,
    /// First row.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

impl LineBox {
    /// The box in source pixels of a frame upscaled `zoom` times: `[floor(x0 / z),
    /// ceil(x1 / z))`, the same for rows.
    ///
    /// ```
    /// use layercam::pipeline::lines::LineBox;
    /// let b = LineBox { x: 5, y: 4, w: 10, h: 3 };
    /// assert_eq!(b.to_source(2), LineBox { x: 2, y: 2, w: 6, h: 2 });
    /// ```
    pub fn to_source(self, zoom: usize) -> LineBox {
        let z = zoom.max(1) as u32;
        let (x0, y0) = (self.x / z, self.y / z);
        let (x1, y1) = ((self.x + self.w).div_ceil(z), (self.y + self.h).div_ceil(z));
        LineBox {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        }
    }
}

/// Which text-line stage runs after the text features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinesMode {
    /// No lines.
    #[default]
    Off,
    /// The series' text localisation, seed-exact (method section 5).
    Seed,
    /// Lines grouped the way text is set, good enough to read from
    /// ([`super::textlines`]); what `--lines` gives without a mode.
    Text,
}

impl std::str::FromStr for LinesMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(Self::Text),
            "seed" => Ok(Self::Seed),
            "off" => Ok(Self::Off),
            _ => Err(format!(
                "unknown lines mode '{s}' (expected text, seed or off)"
            )),
        }
    }
}

/// A text line of a frame: its box in source pixels and the layer its text is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TextLine {
    /// First column (source pixels).
    pub x: u32,
    /// First row.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
    /// The layer most of the line's feature pixels are in (ties: the lower).
    pub layer: u8,
}

/// A component's bounding box, half-open: rows `[a, b)`, columns `[c, d)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bbox {
    a: u32,
    b: u32,
    c: u32,
    d: u32,
}

/// Side of a grid cell, in pixels, for the nearest-component search.
const CELL: u32 = 32;

/// The seed's text localisation, with its buffers.
#[derive(Debug, Default, Clone)]
pub struct SeedLines {
    /// `M` and its copy `M'` (0 or 1 per pixel).
    m: Vec<u8>,
    m2: Vec<u8>,
    comps: Components,
    boxes: Vec<Bbox>,
    /// Runs of each component, grouped: `order[first[k]..first[k + 1]]`.
    order: Vec<u32>,
    first: Vec<u32>,
    cursor: Vec<u32>,
    /// Grid cells → boxes overlapping them (CSR form), and a visit stamp per box.
    cell_first: Vec<u32>,
    cell_boxes: Vec<u32>,
    stamp: Vec<u32>,
    lines: Vec<LineBox>,
}

fn fill(map: &mut [u8], width: usize, rows: std::ops::Range<u32>, cols: std::ops::Range<u32>) {
    for r in rows {
        let row = r as usize * width;
        map[row + cols.start as usize..row + cols.end as usize].fill(1);
    }
}

/// Eight bytes of `v` from `at`, as one word.
#[inline(always)]
fn word(v: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&v[at..at + 8]);
    u64::from_le_bytes(b)
}

/// `0x80` in each byte of `x` that is not zero, `0` in the others (no carries cross
/// bytes: `(b & 0x7f) + 0x7f` stays under `0x100`).
#[inline(always)]
fn nonzero_bytes(x: u64) -> u64 {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    (((x & LOW) + LOW) | x) & !LOW
}

/// Non-zero bytes of `row`, eight at a time.
fn count_set(row: &[u8]) -> u64 {
    let mut n = 0u64;
    let mut x = 0;
    while x + 8 <= row.len() {
        n += u64::from(nonzero_bytes(word(row, x)).count_ones());
        x += 8;
    }
    n + row[x..].iter().filter(|&&v| v != 0).count() as u64
}

/// Positions `x < len − 1` where `row[x]` (zero or not) differs from `row[x + 1]`,
/// `below[x]` or `below[x + 1]`: the published boundary count, eight at a time.
fn count_edges(row: &[u8], below: &[u8]) -> u64 {
    let len = row.len();
    let mut n = 0u64;
    let mut x = 0;
    while x + 9 <= len {
        let a = nonzero_bytes(word(row, x));
        let diff = (a ^ nonzero_bytes(word(row, x + 1)))
            | (a ^ nonzero_bytes(word(below, x)))
            | (a ^ nonzero_bytes(word(below, x + 1)));
        n += u64::from(diff.count_ones());
        x += 8;
    }
    while x + 1 < len {
        let v = row[x] != 0;
        if v != (row[x + 1] != 0) || v != (below[x] != 0) || v != (below[x + 1] != 0) {
            n += 1;
        }
        x += 1;
    }
    n
}

impl SeedLines {
    /// The lines of the last call.
    pub fn lines(&self) -> &[LineBox] {
        &self.lines
    }

    /// Finds the text lines of the `width × height` feature mask `f` (non-zero = feature).
    pub fn run(&mut self, f: &[u8], width: usize, height: usize) -> &[LineBox] {
        debug_assert_eq!(f.len(), width * height);
        self.lines.clear();
        if width == 0 || height == 0 {
            return &self.lines;
        }
        let n = width * height;
        // 1. areas
        self.comps.label(f, width, height, Connect::NonZero);
        self.m.clear();
        self.m.resize(n, 0);
        for s in &self.comps.stats {
            fill(&mut self.m, width, s.row0..s.row1, s.col0..s.col1);
        }
        // 2–4. integrate, trim 5, integrate, trim 10
        for p in [5, 10] {
            self.integrate(width, height);
            self.trim(f, width, height, p);
        }
        // 5. boundary test, 6. boxes
        self.comps.label(&self.m, width, height, Connect::NonZero);
        for s in &self.comps.stats {
            let (mut set, mut edge) = (0u64, 0u64);
            let (c0, c1) = (s.col0 as usize, s.col1 as usize);
            for r in s.row0..s.row1 {
                let row = &f[r as usize * width..][c0..c1];
                set += count_set(row);
                if r + 1 < s.row1 {
                    let below = &f[(r as usize + 1) * width..][c0..c1];
                    edge += count_edges(row, below);
                }
            }
            // an empty box is kept (0/0 in the published code)
            if set > 0 && (edge as f64) / (set as f64) < 0.15 {
                continue;
            }
            self.lines.push(LineBox {
                x: s.col0,
                y: s.row0,
                w: s.col1 - s.col0,
                h: s.row1 - s.row0,
            });
        }
        &self.lines
    }

    /// Horizontal integration: `m2` = `m` with the extensions; components and boxes from
    /// `m`.
    fn integrate(&mut self, width: usize, height: usize) {
        self.comps.label(&self.m, width, height, Connect::NonZero);
        self.m2.clone_from(&self.m);
        self.boxes.clear();
        self.boxes.extend(self.comps.stats.iter().map(|s| Bbox {
            a: s.row0,
            b: s.row1,
            c: s.col0,
            d: s.col1,
        }));
        let nb = self.boxes.len();
        if nb < 2 {
            return;
        }
        self.build_grid(width, height);
        self.stamp.clear();
        self.stamp.resize(nb, u32::MAX);
        let (gw, gh) = (
            width.div_ceil(CELL as usize),
            height.div_ceil(CELL as usize),
        );
        for i in 0..nb {
            let bi = self.boxes[i];
            let (h, w) = (bi.b - bi.a, bi.d - bi.c);
            let r = h.min(w) / 4;
            let limit = u64::from(r) * u64::from(r);
            // only boxes within r rows and r columns can have D <= r²; the nearest of all
            // matters only when its D is that small
            // (a box ending at row a − r − 1 is r rows away: [a − r − 1, b + r] is searched)
            let (q0, q1) = (
                bi.a.saturating_sub(r + 1),
                (bi.b + r + 1).min(height as u32),
            );
            let (p0, p1) = (bi.c.saturating_sub(r + 1), (bi.d + r + 1).min(width as u32));
            let mut best: Option<(u64, usize)> = None;
            for cy in (q0 / CELL) as usize..((q1.div_ceil(CELL)) as usize).min(gh) {
                for cx in (p0 / CELL) as usize..((p1.div_ceil(CELL)) as usize).min(gw) {
                    let cell = cy * gw + cx;
                    for k in self.cell_first[cell]..self.cell_first[cell + 1] {
                        let j = self.cell_boxes[k as usize] as usize;
                        if j == i || self.stamp[j] == i as u32 {
                            continue;
                        }
                        self.stamp[j] = i as u32;
                        let bj = self.boxes[j];
                        let gy = (i64::from(bj.a) - i64::from(bi.b))
                            .max(i64::from(bi.a) - i64::from(bj.b))
                            .max(0) as u64;
                        let gx = (i64::from(bj.c) - i64::from(bi.d))
                            .max(i64::from(bi.c) - i64::from(bj.d))
                            .max(0) as u64;
                        let dist = gy * gy + gx * gx;
                        if best.is_none_or(|(bd, bj)| dist < bd || (dist == bd && j < bj)) {
                            best = Some((dist, j));
                        }
                    }
                }
            }
            let Some((dist, j)) = best else { continue };
            if dist > limit {
                continue;
            }
            let bj = self.boxes[j];
            // centres doubled: the direction is right when more columns than rows away
            let dc = i64::from(bj.c + bj.d) - i64::from(bi.c + bi.d);
            let dr = i64::from(bj.a + bj.b) - i64::from(bi.a + bi.b);
            if dc > dr.abs() {
                let end = (bi.d + w / 4).min(width as u32);
                fill(&mut self.m2, width, bi.a..bi.b, bi.c..end);
            } else if -dc > dr.abs() {
                let start = bi.c.saturating_sub(w / 4);
                fill(&mut self.m2, width, bi.a..bi.b, start..bi.d);
            }
        }
    }

    /// Lists, per grid cell, the boxes that overlap it.
    fn build_grid(&mut self, width: usize, height: usize) {
        let (gw, gh) = (
            width.div_ceil(CELL as usize),
            height.div_ceil(CELL as usize),
        );
        self.cell_first.clear();
        self.cell_first.resize(gw * gh + 1, 0);
        let cells = |b: &Bbox| {
            let ys = (b.a / CELL) as usize..((b.b - 1) / CELL) as usize + 1;
            let xs = (b.c / CELL) as usize..((b.d - 1) / CELL) as usize + 1;
            ys.flat_map(move |y| xs.clone().map(move |x| y * gw + x))
        };
        for b in &self.boxes {
            for c in cells(b) {
                self.cell_first[c + 1] += 1;
            }
        }
        for c in 0..gw * gh {
            self.cell_first[c + 1] += self.cell_first[c];
        }
        self.cell_boxes.clear();
        self.cell_boxes.resize(self.cell_first[gw * gh] as usize, 0);
        // fill: a cursor per cell (reusing `first` as scratch)
        self.first.clear();
        self.first.extend_from_slice(&self.cell_first[..gw * gh]);
        for (i, b) in self.boxes.iter().enumerate() {
            for c in cells(b) {
                let at = &mut self.first[c];
                self.cell_boxes[*at as usize] = i as u32;
                *at += 1;
            }
        }
    }

    /// Trim(p): each component of `m2` becomes the tight box of its `F` pixels when that is
    /// at least `p × p`, written into `m` (a copy of `m2` edited component by component).
    fn trim(&mut self, f: &[u8], width: usize, height: usize, p: u32) {
        self.comps.label(&self.m2, width, height, Connect::NonZero);
        self.m.clone_from(&self.m2);
        let nc = self.comps.len();
        // runs grouped by component (counting sort; raster order within each)
        self.first.clear();
        self.first.resize(nc + 1, 0);
        for &k in &self.comps.run_component {
            self.first[k as usize + 1] += 1;
        }
        for k in 0..nc {
            self.first[k + 1] += self.first[k];
        }
        self.order.clear();
        self.order.resize(self.comps.runs.len(), 0);
        self.cursor.clone_from(&self.first);
        for (r, &k) in self.comps.run_component.iter().enumerate() {
            self.order[self.cursor[k as usize] as usize] = r as u32;
            self.cursor[k as usize] += 1;
        }
        for k in 0..nc {
            let runs = self.first[k] as usize..self.first[k + 1] as usize;
            // the tight box of F within the component
            let (mut r0, mut r1, mut c0, mut c1) = (u32::MAX, 0u32, u32::MAX, 0u32);
            for &ri in &self.order[runs.clone()] {
                let run = self.comps.runs[ri as usize];
                let row = &f[run.row as usize * width..][run.start as usize..run.end as usize];
                if let Some(x0) = row.iter().position(|&v| v != 0) {
                    let x1 = row.iter().rposition(|&v| v != 0).unwrap_or(x0);
                    r0 = r0.min(run.row);
                    r1 = r1.max(run.row + 1);
                    c0 = c0.min(run.start + x0 as u32);
                    c1 = c1.max(run.start + x1 as u32 + 1);
                }
            }
            for &ri in &self.order[runs] {
                let run = self.comps.runs[ri as usize];
                let row = run.row as usize * width;
                self.m[row + run.start as usize..row + run.end as usize].fill(0);
            }
            if r0 == u32::MAX {
                continue; // an empty crop counts as 1 × 1: too small
            }
            let (h, w) = (r1 - r0, c1 - c0);
            if h >= p && w >= p && u64::from(h) * u64::from(w) >= u64::from(p) * u64::from(p) {
                fill(&mut self.m, width, r0..r1, c0..c1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published integration: every pair, as the method states it.
    fn integrate_all_pairs(m: &[u8], width: usize, height: usize) -> Vec<u8> {
        let mut comps = Components::default();
        comps.label(m, width, height, Connect::NonZero);
        let mut out = m.to_vec();
        let b: Vec<_> = comps.stats.clone();
        if b.len() < 2 {
            return out;
        }
        for (i, s) in b.iter().enumerate() {
            let (h, w) = (s.row1 - s.row0, s.col1 - s.col0);
            let (ci, cj) = (
                (s.row0 + s.row1) as f64 / 2.0,
                (s.col0 + s.col1) as f64 / 2.0,
            );
            let mut best: Option<(f64, f64, f64)> = None;
            for (j, t) in b.iter().enumerate() {
                if j == i {
                    continue;
                }
                let dr = (t.row0 + t.row1) as f64 / 2.0 - ci;
                let dc = (t.col0 + t.col1) as f64 / 2.0 - cj;
                let gy = (dr.abs() - (h + t.row1 - t.row0) as f64 / 2.0).max(0.0);
                let gx = (dc.abs() - (w + t.col1 - t.col0) as f64 / 2.0).max(0.0);
                let d = gy * gy + gx * gx;
                if best.is_none_or(|(bd, _, _)| d < bd) {
                    best = Some((d, dr, dc));
                }
            }
            let (d, dr, dc) = best.unwrap();
            let theta = dc.atan2(dr);
            let q = std::f64::consts::FRAC_PI_4;
            if d <= f64::from((h.min(w) / 4).pow(2)) {
                if q < theta && theta < 3.0 * q {
                    fill(
                        &mut out,
                        width,
                        s.row0..s.row1,
                        s.col0..(s.col1 + w / 4).min(width as u32),
                    );
                } else if -3.0 * q < theta && theta < -q {
                    fill(
                        &mut out,
                        width,
                        s.row0..s.row1,
                        s.col0.saturating_sub(w / 4)..s.col1,
                    );
                }
            }
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
        #[test]
        fn the_grid_search_integrates_as_all_pairs_do(
            rects in proptest::collection::vec((0u32..80, 0u32..70, 1u32..30, 1u32..30), 2..40)
        ) {
            // boxes from 1 to 30 px, many at a gap equal to their reach, across grid cells
            let (w, h) = (90usize, 80usize);
            let mut m = vec![0u8; w * h];
            for (x, y, rw, rh) in rects {
                fill(&mut m, w, y.min(h as u32 - 1)..(y + rh).min(h as u32), x.min(w as u32 - 1)..(x + rw).min(w as u32));
            }
            let mut s = SeedLines {
                m: m.clone(),
                ..SeedLines::default()
            };
            s.integrate(w, h);
            proptest::prop_assert_eq!(&s.m2, &integrate_all_pairs(&m, w, h));
        }
    }

    #[test]
    fn a_neighbour_exactly_its_reach_above_is_found() {
        // box i: rows 34..42, columns 10..50 (reach min(8, 40) / 4 = 2); box j two rows
        // above, across a grid cell's edge, and to the right (15 columns, 7 rows between
        // centres): i grows to the right
        let (w, h) = (100usize, 60usize);
        let mut m = vec![0u8; w * h];
        fill(&mut m, w, 34..42, 10..50);
        fill(&mut m, w, 30..32, 25..65);
        let mut s = SeedLines {
            m: m.clone(),
            ..SeedLines::default()
        };
        s.integrate(w, h);
        let want = integrate_all_pairs(&m, w, h);
        assert_eq!(want[36 * w + 55], 1, "the published rule extends i");
        assert_eq!(s.m2, want);
    }

    proptest::proptest! {
        #[test]
        fn word_counts_equal_byte_counts(
            row in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            seed in proptest::prelude::any::<u64>(),
        ) {
            let below: Vec<u8> = row.iter().enumerate()
                .map(|(i, &v)| if (seed >> (i % 64)) & 1 == 1 { v } else { 0 }).collect();
            let plain_set = row.iter().filter(|&&v| v != 0).count() as u64;
            let nz = |v: u8| v != 0;
            let plain_edges = (0..row.len().saturating_sub(1))
                .filter(|&x| nz(row[x]) != nz(row[x + 1]) || nz(row[x]) != nz(below[x]) || nz(row[x]) != nz(below[x + 1]))
                .count() as u64;
            proptest::prop_assert_eq!(count_set(&row), plain_set);
            proptest::prop_assert_eq!(count_edges(&row, &below), plain_edges);
        }
    }

    #[test]
    fn source_boxes_cover_their_label_map_boxes() {
        let b = LineBox {
            x: 7,
            y: 0,
            w: 1,
            h: 9,
        };
        assert_eq!(
            b.to_source(2),
            LineBox {
                x: 3,
                y: 0,
                w: 1,
                h: 5
            }
        );
        assert_eq!(b.to_source(1), b);
    }
}
