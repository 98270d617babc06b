//! Text lines good enough to read from (`--lines`, the default mode): the components of every
//! layer grouped into lines the way text is set.
//!
//! The seed's localisation ([`super::lines`]) works on the text-feature mask alone, which
//! loses bold and gradient titles, and joins boxes by distance alone, which splits words into
//! letters and boxes photo texture. This stage starts from every layer's 8-connected
//! components (the labelling the erosion filter has already made, so no pixel is visited
//! again) and uses only box geometry:
//!
//! 1. **Glyph candidates**: components at least [`MIN_GLYPH_PX`] source pixels high, at most
//!    a [`MAX_GLYPH_HEIGHT`] share of the frame's height and [`MAX_GLYPH_WIDTH`] of its width
//!    (backgrounds and panels are not glyphs), filling between [`MIN_FILL`] and [`MAX_FILL`]
//!    of their box (outlines of frames and solid blocks are not glyphs; bars may be), and
//!    made of strokes: the stroke width, `2 · area / (pixels lost to one erosion)`, is at
//!    most [`MAX_STROKE`] of the component's larger side (a letter's strokes are a tenth to a
//!    quarter of its size; a blob is its own stroke, half its size).
//! 2. **Glyphs**: pieces of one character (the radicals of 冬, the dot of an i) are joined:
//!    same layer, overlapping in columns by half the narrower, at most half the shorter's
//!    height apart, and the joined box no taller than [`GLYPH_ASPECT`] times its width (a
//!    character is about square; two lines stacked are not).
//! 3. **Lines**: glyphs of the same layer are chained left to right when they overlap in rows
//!    by half the shorter (a shared baseline band), differ in height by at most
//!    [`HEIGHT_RATIO`] (capitals and lower case, not a title and its caption), and the gap is
//!    at most [`GAP`] times the taller's height (letter and word spaces are fractions of an
//!    em; the space between columns of a layout is not). A flat glyph (一, a dash) joins the
//!    line whose middle it sits in.
//! 4. **Accepted lines** have at least [`MIN_GLYPHS`] glyphs, are at least as wide as high,
//!    their glyphs are mostly of the line's height, and their glyphs' tops or bottoms are
//!    aligned (a baseline, or CJK's em box) within [`ALIGN`] of the glyph height: texture
//!    makes chains of blobs too, but not aligned ones.
//!    Glyphs no line took are chained the same way top to bottom: a column of at least
//!    [`MIN_GLYPHS`] about square glyphs of one width, aligned on both sides, and
//!    [`COLUMN_ASPECT`] times as tall as wide, is a line too (CJK set vertically).
//! 5. **Across layers**: lines of different layers in one row band and of similar height,
//!    at most half a height apart, are one line (a gradient fill splits a title between two
//!    layers); the joined line's layer is the one with the most ink. Of lines overlapping by
//!    more than [`DUPLICATE_IOU`] (a glyph's fill and its anti-aliased rim make the same
//!    line twice), the one with the most ink (pixels) stays.
//!
//! Boxes are returned in source pixels in reading order (top to bottom, then left to right).
//! The measurement against the shared stills' text boxes is `examples/lines_quality.rs`.

use super::components::Components;
use super::lines::TextLine;

/// Smallest glyph height, in source pixels (smaller text is not readable anyway).
pub const MIN_GLYPH_PX: u32 = 5;
/// Largest glyph height, as a share of the frame's height.
pub const MAX_GLYPH_HEIGHT: f64 = 0.3;
/// Largest glyph width, as a share of the frame's width.
pub const MAX_GLYPH_WIDTH: f64 = 0.5;
/// Least share of its box a glyph fills.
pub const MIN_FILL: f64 = 0.08;
/// Most share of its box a glyph fills, unless it is a bar (one side under half the other).
pub const MAX_FILL: f64 = 0.92;
/// Largest stroke width of a glyph, as a share of its larger side.
pub const MAX_STROKE: f64 = 0.35;
/// A glyph is at most this many times as tall as wide once its pieces are joined.
pub const GLYPH_ASPECT: f64 = 1.5;
/// Glyphs of one line differ in height by at most this factor.
pub const HEIGHT_RATIO: f64 = 2.0;
/// The gap between neighbouring glyphs of a line, in heights of the taller.
pub const GAP: f64 = 1.0;
/// Least glyphs of a line.
pub const MIN_GLYPHS: usize = 3;
/// Largest median deviation of the glyphs' tops or bottoms, in glyph heights (plus a pixel).
pub const ALIGN: f64 = 0.05;
/// A column of glyphs is a line when it is at least this many times as tall as wide.
pub const COLUMN_ASPECT: f64 = 2.0;
/// Lines overlapping by more than this IoU are one.
pub const DUPLICATE_IOU: f64 = 0.3;
/// Lines of different layers are joined across gaps up to this many heights.
const CROSS_GAP: f64 = 0.5;

/// A box in label-map pixels, half-open (rows `[a, b)`, columns `[c, d)`), with its pixels,
/// layer and the number of glyphs in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Item {
    a: u32,
    b: u32,
    c: u32,
    d: u32,
    area: u64,
    layer: u8,
    glyphs: u32,
}

impl Item {
    fn h(&self) -> u32 {
        self.b - self.a
    }
    fn w(&self) -> u32 {
        self.d - self.c
    }
    /// The box mirrored across the diagonal (rows become columns).
    fn transposed(&self) -> Item {
        Item {
            a: self.c,
            b: self.d,
            c: self.a,
            d: self.b,
            ..*self
        }
    }
    fn join(&self, o: &Item) -> Item {
        Item {
            a: self.a.min(o.a),
            b: self.b.max(o.b),
            c: self.c.min(o.c),
            d: self.d.max(o.d),
            area: self.area + o.area,
            // the layer with the most ink: a glyph's fill rather than its anti-aliased rim
            layer: if o.area > self.area {
                o.layer
            } else {
                self.layer
            },
            glyphs: self.glyphs + o.glyphs,
        }
    }
    /// Rows shared with `o` (negative: the gap between them).
    fn row_overlap(&self, o: &Item) -> i64 {
        self.b.min(o.b) as i64 - self.a.max(o.a) as i64
    }
    /// Columns between `self` and `o` (negative: their overlap).
    fn col_gap(&self, o: &Item) -> i64 {
        (o.c as i64 - self.d as i64).max(self.c as i64 - o.d as i64)
    }
    fn iou(&self, o: &Item) -> f64 {
        let iw = (self.d.min(o.d) as i64 - self.c.max(o.c) as i64).max(0);
        let ih = self.row_overlap(o).max(0);
        let inter = (iw * ih) as f64;
        let union =
            (self.w() as u64 * self.h() as u64 + o.w() as u64 * o.h() as u64) as f64 - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
}

fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let up = parent[parent[i as usize] as usize];
        parent[i as usize] = up;
        i = up;
    }
    i
}

fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb) as usize] = ra.min(rb);
    }
}

/// Joins items pairwise by `rule`, visiting each item's right-hand neighbours in column
/// order up to `reach(item)` (the first column a partner may start at, at most).
fn link(
    items: &[Item],
    order: &mut Vec<u32>,
    parent: &mut Vec<u32>,
    reach: impl Fn(&Item) -> i64,
    rule: impl Fn(&Item, &Item) -> bool,
) {
    order.clear();
    order.extend(0..items.len() as u32);
    order.sort_unstable_by_key(|&i| (items[i as usize].c, i));
    parent.clear();
    parent.extend(0..items.len() as u32);
    for (k, &i) in order.iter().enumerate() {
        let it = &items[i as usize];
        let limit = reach(it);
        for &j in &order[k + 1..] {
            let jt = &items[j as usize];
            if jt.c as i64 > limit {
                break;
            }
            if rule(it, jt) {
                union(parent, i, j);
            }
        }
    }
}

/// The groups `parent` describes, as runs of `members` (item indices in column order).
/// `starts` receives each group's first index into `members`, plus the end.
fn groups(items: &[Item], parent: &mut [u32], members: &mut Vec<u32>, starts: &mut Vec<u32>) {
    members.clear();
    members.extend(0..items.len() as u32);
    for i in 0..items.len() as u32 {
        find(parent, i);
    }
    members.sort_unstable_by_key(|&i| (parent[i as usize], items[i as usize].c));
    starts.clear();
    for (k, &i) in members.iter().enumerate() {
        if k == 0 || parent[i as usize] != parent[members[k - 1] as usize] {
            starts.push(k as u32);
        }
    }
    starts.push(members.len() as u32);
}

/// The items of `group` (indices into `items`, at least one) joined into one box.
fn joined(items: &[Item], group: &[u32]) -> Item {
    group[1..].iter().fold(items[group[0] as usize], |acc, &m| {
        acc.join(&items[m as usize])
    })
}

/// The median of `v` (the lower middle for an even count), reordering `v`.
fn median(v: &mut [u32]) -> u32 {
    let mid = (v.len() - 1) / 2;
    *v.select_nth_unstable(mid).1
}

/// The median absolute deviation of `v` from its median, reordering `v` and using `dev`.
fn median_deviation(v: &mut [u32], dev: &mut Vec<u32>) -> u32 {
    let m = median(v);
    dev.clear();
    dev.extend(v.iter().map(|&x| x.abs_diff(m)));
    median(dev)
}

/// The text-line grouping with its buffers (nothing is allocated once they have grown).
#[derive(Debug, Default, Clone)]
pub struct TextLines {
    layer_of: Vec<u8>,
    parts: Vec<Item>,
    glyphs: Vec<Item>,
    lines: Vec<Item>,
    merged: Vec<Item>,
    order: Vec<u32>,
    parent: Vec<u32>,
    members: Vec<u32>,
    starts: Vec<u32>,
    scratch: [Vec<u32>; 4],
    /// Per glyph (then per turned glyph): taken by a line.
    used: Vec<bool>,
    /// Free glyphs transposed, and the columns found among them (transposed).
    turned: Vec<Item>,
    turned_lines: Vec<Item>,
}

const NO_LAYER: u8 = u8::MAX;

impl TextLines {
    /// Groups the components of a `width × height` label map (labelled with
    /// `Connect::SameValue`, the run values being layers; `eroded[i]`: component `i`'s pixels
    /// surviving one erosion with the 3×3 cross) made at `zoom` into text lines, written to
    /// `out` in source pixels and reading order.
    pub fn run(
        &mut self,
        comps: &Components,
        eroded: &[u64],
        width: usize,
        height: usize,
        zoom: usize,
        out: &mut Vec<TextLine>,
    ) {
        out.clear();
        self.candidates(comps, eroded, width, height, zoom);
        self.join_glyphs();
        self.chain_lines();
        self.join_across_layers();
        self.keep_distinct(out, zoom, width, height);
    }

    /// Step 1: the components that may be glyphs or pieces of glyphs.
    fn candidates(
        &mut self,
        comps: &Components,
        eroded: &[u64],
        width: usize,
        height: usize,
        zoom: usize,
    ) {
        let min_h = MIN_GLYPH_PX * zoom as u32;
        let max_h = (MAX_GLYPH_HEIGHT * height as f64) as u32;
        let max_w = (MAX_GLYPH_WIDTH * width as f64) as u32;
        // each component's layer: the value of its first run
        self.layer_of.clear();
        self.layer_of.resize(comps.stats.len(), NO_LAYER);
        for (run, &id) in comps.runs.iter().zip(&comps.run_component) {
            let l = &mut self.layer_of[id as usize];
            if *l == NO_LAYER {
                *l = run.value;
            }
        }
        self.parts.clear();
        for ((s, &layer), &kept) in comps.stats.iter().zip(&self.layer_of).zip(eroded) {
            let (h, w) = (s.row1 - s.row0, s.col1 - s.col0);
            if h < min_h || h > max_h || w > max_w {
                continue;
            }
            let fill = s.area as f64 / s.box_area() as f64;
            let bar = 2 * w < h || 2 * h < w;
            if fill < MIN_FILL || (fill > MAX_FILL && !bar) {
                continue;
            }
            // stroke width 2·area/lost > MAX_STROKE · larger side (nothing lost: a blob)
            let lost = s.area - kept.min(s.area);
            if 2.0 * s.area as f64 > MAX_STROKE * h.max(w) as f64 * lost as f64 {
                continue;
            }
            self.parts.push(Item {
                a: s.row0,
                b: s.row1,
                c: s.col0,
                d: s.col1,
                area: s.area,
                layer,
                glyphs: 1,
            });
        }
    }

    /// Step 2: pieces of one character joined into glyphs.
    fn join_glyphs(&mut self) {
        link(
            &self.parts,
            &mut self.order,
            &mut self.parent,
            |p| p.d as i64 - 1,
            |p, q| {
                if p.layer != q.layer {
                    return false;
                }
                let overlap = -p.col_gap(q);
                if (overlap as f64) < 0.5 * p.w().min(q.w()) as f64 {
                    return false;
                }
                if (-p.row_overlap(q)) as f64 > 0.5 * p.h().min(q.h()) as f64 {
                    return false;
                }
                let j = p.join(q);
                j.h() as f64 <= GLYPH_ASPECT * j.w() as f64
            },
        );
        groups(
            &self.parts,
            &mut self.parent,
            &mut self.members,
            &mut self.starts,
        );
        self.glyphs.clear();
        for g in self.starts.windows(2) {
            let group = &self.members[g[0] as usize..g[1] as usize];
            // a glyph counts once however many pieces it has
            self.glyphs.push(Item {
                glyphs: 1,
                ..joined(&self.parts, group)
            });
        }
    }

    /// Steps 3 and 4: glyphs chained into lines; the lines set like text kept. Then the same
    /// for columns (CJK set vertically), on the glyphs no line took, by chaining their
    /// transposed boxes: a column is kept when it is clearly one (at least
    /// [`COLUMN_ASPECT`] times as tall as wide, its glyphs about square).
    fn chain_lines(&mut self) {
        self.lines.clear();
        self.used.clear();
        self.used.resize(self.glyphs.len(), false);
        chain(
            &self.glyphs,
            &mut self.order,
            &mut self.parent,
            &mut self.members,
            &mut self.starts,
            &mut self.scratch,
            &mut self.used,
            1.0,
            true,
            false,
            &mut self.lines,
        );
        // columns: the free glyphs turned on their side, so a column is a row
        self.turned.clear();
        self.turned.extend(
            self.glyphs
                .iter()
                .zip(&self.used)
                .filter(|(g, &used)| !used && 2 * g.w() >= g.h() && 2 * g.h() >= g.w())
                .map(|(g, _)| g.transposed()),
        );
        self.turned_lines.clear();
        self.used.clear();
        self.used.resize(self.turned.len(), false);
        chain(
            &self.turned,
            &mut self.order,
            &mut self.parent,
            &mut self.members,
            &mut self.starts,
            &mut self.scratch,
            &mut self.used,
            COLUMN_ASPECT,
            false,
            true,
            &mut self.turned_lines,
        );
        self.lines
            .extend(self.turned_lines.iter().map(Item::transposed));
    }

    /// Step 5, first half: collinear lines of different layers joined.
    fn join_across_layers(&mut self) {
        let tallest = self.lines.iter().map(Item::h).max().unwrap_or(0) as f64;
        link(
            &self.lines,
            &mut self.order,
            &mut self.parent,
            |l| l.d as i64 + (CROSS_GAP * tallest) as i64,
            |p, q| same_line(p, q, CROSS_GAP, false),
        );
        groups(
            &self.lines,
            &mut self.parent,
            &mut self.members,
            &mut self.starts,
        );
        self.merged.clear();
        for g in self.starts.windows(2) {
            let group = &self.members[g[0] as usize..g[1] as usize];
            self.merged.push(joined(&self.lines, group));
        }
    }

    /// Step 5, second half: of overlapping lines the one with the most ink, in source
    /// pixels and reading order.
    fn keep_distinct(&mut self, out: &mut Vec<TextLine>, zoom: usize, width: usize, height: usize) {
        self.merged.sort_unstable_by(|p, q| {
            (q.area, q.glyphs, p.a, p.c).cmp(&(p.area, p.glyphs, q.a, q.c))
        });
        self.lines.clear();
        for m in &self.merged {
            if self.lines.iter().all(|k| k.iou(m) <= DUPLICATE_IOU) {
                self.lines.push(*m);
            }
        }
        let z = zoom.max(1) as u32;
        let (sw, sh) = ((width as u32).div_ceil(z), (height as u32).div_ceil(z));
        out.extend(self.lines.iter().map(|l| {
            let (x0, y0) = (l.c / z, l.a / z);
            let (x1, y1) = (l.d.div_ceil(z).min(sw), l.b.div_ceil(z).min(sh));
            TextLine {
                x: x0,
                y: y0,
                w: x1 - x0,
                h: y1 - y0,
                layer: l.layer,
            }
        }));
        out.sort_unstable_by_key(|t| (t.y, t.x));
    }
}

/// Chains `items` into lines (step 3) and appends those set like text (step 4) to `out`,
/// marking their items in `used`: at least [`MIN_GLYPHS`] items, at least `min_aspect`
/// times as wide as high, items mostly of the line's height, tops or bottoms aligned (with
/// `both`: tops, bottoms and heights).
#[allow(clippy::too_many_arguments)]
fn chain(
    items: &[Item],
    order: &mut Vec<u32>,
    parent: &mut Vec<u32>,
    members: &mut Vec<u32>,
    starts: &mut Vec<u32>,
    scratch: &mut [Vec<u32>; 4],
    used: &mut [bool],
    min_aspect: f64,
    flat: bool,
    both: bool,
    out: &mut Vec<Item>,
) {
    let tallest = items.iter().map(Item::h).max().unwrap_or(0) as f64;
    link(
        items,
        order,
        parent,
        |g| g.d as i64 + (GAP * tallest) as i64,
        |p, q| p.layer == q.layer && same_line(p, q, GAP, flat),
    );
    groups(items, parent, members, starts);
    let [heights, tops, bottoms, dev] = scratch;
    for g in starts.windows(2) {
        let group = &members[g[0] as usize..g[1] as usize];
        if group.len() < MIN_GLYPHS {
            continue;
        }
        let line = joined(items, group);
        if (line.w() as f64) < min_aspect * line.h() as f64 {
            continue;
        }
        heights.clear();
        tops.clear();
        bottoms.clear();
        for &m in group {
            let it = &items[m as usize];
            heights.push(it.h());
            tops.push(it.a);
            bottoms.push(it.b);
        }
        let typical = median(heights) as f64;
        if typical < 0.5 * line.h() as f64 {
            continue;
        }
        let (top, bottom) = (median_deviation(tops, dev), median_deviation(bottoms, dev));
        // a line aligns on its baseline or its cap line; a CJK column (`both`) on both sides,
        // its glyphs of one size
        let aligned = if both {
            top.max(bottom).max(median_deviation(heights, dev))
        } else {
            top.min(bottom)
        };
        if aligned as f64 > ALIGN * typical + 1.0 {
            continue;
        }
        for &m in group {
            used[m as usize] = true;
        }
        out.push(line);
    }
}

/// Whether `p` and `q` are neighbours on one line: sharing half the shorter's rows, of
/// similar height (or, with `flat`, the shorter a flat glyph in the other's middle), at most
/// `gap` of the taller's height apart.
fn same_line(p: &Item, q: &Item, gap: f64, flat: bool) -> bool {
    let overlap = p.row_overlap(q) as f64;
    let (short, tall) = if p.h() <= q.h() { (p, q) } else { (q, p) };
    let (hm, h) = (short.h() as f64, tall.h() as f64);
    if overlap < 0.5 * hm {
        return false;
    }
    if h > HEIGHT_RATIO * hm {
        // 一 or a dash: flat, as wide as half the line is high, across its middle
        let offset = (short.a + short.b) as f64 / 2.0 - (tall.a + tall.b) as f64 / 2.0;
        let w = short.w() as f64;
        if !(flat
            && overlap >= 0.9 * hm
            && w >= 0.5 * h
            && hm <= 0.35 * w
            && offset.abs() <= 0.2 * h)
        {
            return false;
        }
    }
    p.col_gap(q) as f64 <= gap * h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::components::Connect;

    /// A label map of `w × h` (value 0) with filled rectangles `(row, col, height, width)`
    /// of value 1.
    fn map(w: usize, h: usize, rects: &[(usize, usize, usize, usize)]) -> Vec<u8> {
        let mut m = vec![0u8; w * h];
        for &(r, c, rh, rw) in rects {
            for y in r..r + rh {
                m[y * w + c..y * w + c + rw].fill(1);
            }
        }
        m
    }

    /// Ring-shaped "letters" (a frame of stroke 3 inside a box), like O or 口.
    fn letters(
        row: usize,
        col: usize,
        size: usize,
        n: usize,
        advance: usize,
    ) -> Vec<(usize, usize, usize, usize)> {
        let mut r = Vec::new();
        for k in 0..n {
            let c = col + k * advance;
            r.push((row, c, 3, size));
            r.push((row + size - 3, c, 3, size));
            r.push((row, c, size, 3));
            r.push((row, c + size - 3, size, 3));
        }
        r
    }

    fn lines_of(m: &[u8], w: usize, h: usize, zoom: usize) -> Vec<TextLine> {
        let mut comps = Components::default();
        comps.label(m, w, h, Connect::SameValue);
        // pixels surviving the erosion with the cross, per component
        let mut eroded = vec![0u64; comps.stats.len()];
        for (run, &id) in comps.runs.iter().zip(&comps.run_component) {
            let y = run.row as usize;
            for x in run.start as usize..run.end as usize {
                let v = m[y * w + x];
                let same = |yy: Option<usize>, xx: Option<usize>| match (yy, xx) {
                    (Some(yy), Some(xx)) if yy < h && xx < w => m[yy * w + xx] == v,
                    _ => false,
                };
                if same(y.checked_sub(1), Some(x))
                    && same(Some(y + 1), Some(x))
                    && same(Some(y), x.checked_sub(1))
                    && same(Some(y), Some(x + 1))
                {
                    eroded[id as usize] += 1;
                }
            }
        }
        let mut t = TextLines::default();
        let mut out = Vec::new();
        t.run(&comps, &eroded, w, h, zoom, &mut out);
        out
    }

    #[test]
    fn a_row_of_letters_is_one_line_and_two_rows_are_two() {
        let (w, h) = (400, 200);
        let mut rects = letters(20, 20, 20, 8, 26);
        rects.extend(letters(80, 20, 20, 5, 26));
        let got = lines_of(&map(w, h, &rects), w, h, 1);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(
            (got[0].x, got[0].y, got[0].w, got[0].h),
            (20, 20, 7 * 26 + 20, 20)
        );
        assert_eq!(
            (got[1].x, got[1].y, got[1].w, got[1].h),
            (20, 80, 4 * 26 + 20, 20)
        );
        assert!(got.iter().all(|l| l.layer == 1));
    }

    #[test]
    fn word_spaces_stay_inside_a_line_and_column_gaps_split_it() {
        let (w, h) = (600, 100);
        // two words, a space of half a height between them; a third far to the right
        let mut rects = letters(20, 10, 20, 3, 24);
        rects.extend(letters(20, 10 + 3 * 24 + 10, 20, 3, 24));
        rects.extend(letters(20, 450, 20, 3, 24));
        let got = lines_of(&map(w, h, &rects), w, h, 1);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].x, 10);
        assert_eq!(got[0].w, 3 * 24 + 10 + 2 * 24 + 20);
        assert_eq!(got[1].x, 450);
    }

    #[test]
    fn unaligned_blobs_and_pairs_are_not_lines() {
        let (w, h) = (400, 200);
        // rings at staggered heights (texture), and a line of two letters only
        let mut rects = Vec::new();
        for (k, dy) in [0usize, 9, 3, 12, 6].iter().enumerate() {
            rects.extend(letters(20 + dy, 20 + k * 26, 20, 1, 0));
        }
        rects.extend(letters(120, 20, 20, 2, 26));
        let got = lines_of(&map(w, h, &rects), w, h, 1);
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn boxes_come_back_in_source_pixels() {
        let (w, h) = (400, 120);
        let rects = letters(21, 11, 20, 4, 26);
        let got = lines_of(&map(w, h, &rects), w, h, 2);
        // label-map box [11, 11 + 3*26 + 20) x [21, 41) -> source floor/ceil halves
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].x, got[0].y), (5, 10));
        assert_eq!(
            (got[0].x + got[0].w, got[0].y + got[0].h),
            ((11 + 3 * 26 + 20u32).div_ceil(2), 21)
        );
    }

    #[test]
    fn a_column_of_square_glyphs_is_a_line() {
        let (w, h) = (300, 400);
        let mut rects = Vec::new();
        for k in 0..4 {
            rects.extend(letters(20 + k * 46, 100, 40, 1, 0));
        }
        // and a row beside it stays a row
        rects.extend(letters(340, 150, 24, 4, 30));
        let got = lines_of(&map(w, h, &rects), w, h, 1);
        let column = got.iter().find(|l| l.h > l.w).expect("a column");
        assert_eq!(
            (column.x, column.y, column.w, column.h),
            (100, 20, 40, 3 * 46 + 40)
        );
        assert_eq!(got.len(), 2, "{got:?}");
    }

    #[test]
    fn a_flat_glyph_in_the_middle_joins_its_line() {
        let (w, h) = (400, 200);
        // ring, ring, a bar across the middle (一), ring, ring
        let mut rects = letters(20, 10, 40, 2, 50);
        rects.push((38, 110, 5, 40));
        rects.extend(letters(20, 160, 40, 2, 50));
        let got = lines_of(&map(w, h, &rects), w, h, 1);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!((got[0].x, got[0].w), (10, 160 + 50 + 40 - 10));
    }
}
