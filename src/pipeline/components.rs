//! Connected-component labelling (8-connectivity), run based and linear in the image size.
//!
//! Rows are cut into runs; runs of adjacent rows that touch (diagonals included) are joined
//! with union–find; components are numbered in raster order of their first pixel (the
//! numbering `scipy.ndimage.label` gives). Area and bounding box of every component are
//! gathered in the same sweep. Buffers are kept between calls.

/// What joins pixels into one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connect {
    /// Pixels of the same value join; every value is foreground (a label map).
    SameValue,
    /// Non-zero pixels join whatever their value; 0 is background (a mask).
    NonZero,
}

/// A horizontal run of pixels `[start, end)` on one row.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Row.
    pub row: u32,
    /// First column.
    pub start: u32,
    /// One past the last column.
    pub end: u32,
    /// Value of the run's pixels (for `NonZero`, the value of its first pixel).
    pub value: u8,
}

/// Per-component statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentStats {
    /// Pixels.
    pub area: u64,
    /// First row of the bounding box.
    pub row0: u32,
    /// One past the last row.
    pub row1: u32,
    /// First column.
    pub col0: u32,
    /// One past the last column.
    pub col1: u32,
}

impl ComponentStats {
    /// Area of the bounding box.
    pub fn box_area(&self) -> u64 {
        (self.row1 - self.row0) as u64 * (self.col1 - self.col0) as u64
    }
}

/// Reusable labeller.
#[derive(Debug, Default, Clone)]
pub struct Components {
    /// Runs in raster order.
    pub runs: Vec<Run>,
    /// Component id of each run (after [`label`](Self::label)).
    pub run_component: Vec<u32>,
    /// Statistics per component, by id (raster order of first pixel).
    pub stats: Vec<ComponentStats>,
    parent: Vec<u32>,
    row_start: Vec<u32>,
    lower_runs: Vec<Run>,
    lower_row_start: Vec<u32>,
}

/// Cuts the rows of `map` (the image rows from `first_row` on) into runs, appending the
/// index of each row's first run to `starts` (both cleared first).
fn cut_runs(
    map: &[u8],
    width: usize,
    first_row: usize,
    connect: Connect,
    runs: &mut Vec<Run>,
    starts: &mut Vec<u32>,
) {
    runs.clear();
    starts.clear();
    for (y, row) in map.chunks_exact(width).enumerate() {
        starts.push(runs.len() as u32);
        let mut x = 0;
        while x < width {
            let v = row[x];
            if connect == Connect::NonZero && v == 0 {
                x = skip_while(row, x + 1, 0);
                continue;
            }
            let start = x;
            x = match connect {
                Connect::SameValue => skip_while(row, x + 1, v),
                Connect::NonZero => skip_nonzero(row, x + 1),
            };
            runs.push(Run {
                row: (first_row + y) as u32,
                start: start as u32,
                end: x as u32,
                value: v,
            });
        }
    }
}

/// Bytes per block of the run-end searches: one block is a couple of vector compares.
const BLOCK: usize = 32;

/// Bit `j` set where `block[j] == v` (`block` holds [`BLOCK`] bytes).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn eq_mask(block: &[u8], v: u8) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    assert!(block.len() >= BLOCK);
    // SAFETY: SSE2 is part of x86-64; both loads read 16 bytes inside `block` (checked
    // just above), unaligned loads being allowed.
    unsafe {
        let splat = _mm_set1_epi8(v as i8);
        let lo = _mm_loadu_si128(block.as_ptr() as *const __m128i);
        let hi = _mm_loadu_si128(block.as_ptr().add(16) as *const __m128i);
        let lo = _mm_movemask_epi8(_mm_cmpeq_epi8(lo, splat)) as u32;
        let hi = _mm_movemask_epi8(_mm_cmpeq_epi8(hi, splat)) as u32;
        lo | (hi << 16)
    }
}

/// Bit `j` set where `block[j] == v` (`block` holds [`BLOCK`] bytes).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn eq_mask(block: &[u8], v: u8) -> u32 {
    let mut m = 0u32;
    for (j, &b) in block.iter().enumerate().take(BLOCK) {
        m |= ((b == v) as u32) << j;
    }
    m
}

/// First index from `x` whose byte is not `v`, a block at a time.
#[inline]
fn skip_while(row: &[u8], mut x: usize, v: u8) -> usize {
    while let Some(block) = row.get(x..x + BLOCK) {
        let m = !eq_mask(block, v);
        if m != 0 {
            return x + m.trailing_zeros() as usize;
        }
        x += BLOCK;
    }
    while x < row.len() && row[x] == v {
        x += 1;
    }
    x
}

/// First index from `x` whose byte is 0, a block at a time.
#[inline]
fn skip_nonzero(row: &[u8], mut x: usize) -> usize {
    while let Some(block) = row.get(x..x + BLOCK) {
        let m = eq_mask(block, 0);
        if m != 0 {
            return x + m.trailing_zeros() as usize;
        }
        x += BLOCK;
    }
    while x < row.len() && row[x] != 0 {
        x += 1;
    }
    x
}

fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let p = parent[i as usize];
        parent[i as usize] = parent[p as usize];
        i = p;
    }
    i
}

fn union(parent: &mut [u32], a: u32, b: u32) {
    let ra = find(parent, a);
    let rb = find(parent, b);
    // the earlier run stays root
    if ra < rb {
        parent[rb as usize] = ra;
    } else if rb < ra {
        parent[ra as usize] = rb;
    }
}

/// Joins the touching runs of each row in `rows` with the row above. `parent` holds the
/// union–find parents of runs `base..base + parent.len()`, which include every run of the
/// rows involved.
fn join_rows(
    runs: &[Run],
    row_start: &[u32],
    rows: std::ops::Range<usize>,
    base: u32,
    parent: &mut [u32],
    connect: Connect,
) {
    for y in rows {
        let prev = row_start[y - 1] as usize..row_start[y] as usize;
        let cur = row_start[y] as usize..row_start[y + 1] as usize;
        let mut p = prev.start;
        for c in cur {
            let rc = runs[c];
            // skip previous-row runs that end before this run can touch them
            while p < prev.end && runs[p].end < rc.start {
                p += 1;
            }
            let mut q = p;
            while q < prev.end && runs[q].start <= rc.end {
                let rp = runs[q];
                if connect == Connect::NonZero || rp.value == rc.value {
                    union(parent, q as u32 - base, c as u32 - base);
                }
                q += 1;
            }
        }
    }
}

impl Components {
    /// Number of components found by the last call.
    pub fn len(&self) -> usize {
        self.stats.len()
    }

    /// True when the last call found no component.
    pub fn is_empty(&self) -> bool {
        self.stats.is_empty()
    }

    /// Runs of row `y`.
    pub fn row_runs(&self, y: usize) -> std::ops::Range<usize> {
        self.row_start[y] as usize..self.row_start[y + 1] as usize
    }

    /// Runs of rows `rows` (a contiguous range of the run list).
    pub fn runs_of_rows(&self, rows: std::ops::Range<usize>) -> std::ops::Range<usize> {
        self.row_start[rows.start] as usize..self.row_start[rows.end] as usize
    }

    /// Labels the `width × height` map.
    pub fn label(&mut self, map: &[u8], width: usize, height: usize, connect: Connect) {
        debug_assert_eq!(map.len(), width * height);
        // runs of the upper and lower half are cut in parallel (rows are independent),
        // then the lower half's runs are appended to the upper half's
        let split = height / 2;
        let (upper, lower) = map.split_at(split * width);
        let (mut runs, mut more) = (
            std::mem::take(&mut self.runs),
            std::mem::take(&mut self.lower_runs),
        );
        let (mut starts, mut more_starts) = (
            std::mem::take(&mut self.row_start),
            std::mem::take(&mut self.lower_row_start),
        );
        rayon::join(
            || cut_runs(upper, width, 0, connect, &mut runs, &mut starts),
            || cut_runs(lower, width, split, connect, &mut more, &mut more_starts),
        );
        let offset = runs.len() as u32;
        runs.extend_from_slice(&more);
        starts.extend(more_starts.iter().map(|&s| s + offset));
        starts.push(runs.len() as u32);
        self.runs = runs;
        self.row_start = starts;
        self.lower_runs = more;
        self.lower_row_start = more_starts;
        self.join_and_number(height, connect);
    }

    /// Clears the runs, for [`push_run`](Self::push_run) and
    /// [`label_runs`](Self::label_runs).
    pub fn clear_runs(&mut self) {
        self.runs.clear();
        self.row_start.clear();
    }

    /// Appends a run given by the caller. Runs must come in raster order (rows from 0,
    /// increasing `start` within a row) and not touch on their row.
    pub fn push_run(&mut self, run: Run) {
        let row = run.row as usize;
        while self.row_start.len() <= row {
            self.row_start.push(self.runs.len() as u32);
        }
        self.runs.push(run);
    }

    /// Extends the last pushed run to `end` (it must be on the same row).
    pub fn extend_last_run(&mut self, end: u32) {
        if let Some(last) = self.runs.last_mut() {
            last.end = end;
        }
    }

    /// The last pushed run.
    pub fn last_run(&self) -> Option<&Run> {
        self.runs.last()
    }

    /// Labels the runs given with [`push_run`](Self::push_run) for an image of `height`
    /// rows, as [`label`](Self::label) labels the runs it cuts from an image: same
    /// components, numbering and statistics.
    pub fn label_runs(&mut self, height: usize, connect: Connect) {
        while self.row_start.len() <= height {
            self.row_start.push(self.runs.len() as u32);
        }
        self.join_and_number(height, connect);
    }

    /// Union–find over the runs (rows `row_start`), then numbering and statistics.
    fn join_and_number(&mut self, height: usize, connect: Connect) {
        let split = height / 2;
        let offset = self.row_start.get(split).copied().unwrap_or(0);
        // unions within each half in parallel (a half's runs only touch runs of the same
        // half), then across the seam; the root of a component is always its first run
        // (the lower half's parents are indices relative to its first run until joined)
        self.parent.clear();
        self.parent.extend(0..offset);
        self.parent.extend(0..self.runs.len() as u32 - offset);
        let (runs, starts) = (&self.runs[..], &self.row_start[..]);
        let (upper_parent, lower_parent) = self.parent.split_at_mut(offset as usize);
        rayon::join(
            || join_rows(runs, starts, 1..split, 0, upper_parent, connect),
            || {
                join_rows(
                    runs,
                    starts,
                    split + 1..height,
                    offset,
                    lower_parent,
                    connect,
                );
                for p in lower_parent.iter_mut() {
                    *p += offset;
                }
            },
        );
        if split > 0 && split < height {
            join_rows(runs, starts, split..split + 1, 0, &mut self.parent, connect);
        }

        // number components in raster order of their first run; gather statistics
        self.run_component.clear();
        self.stats.clear();
        const NONE: u32 = u32::MAX;
        for i in 0..self.runs.len() {
            let root = find(&mut self.parent, i as u32) as usize;
            let r = self.runs[i];
            let id = if root == i {
                self.stats.push(ComponentStats {
                    area: 0,
                    row0: r.row,
                    row1: r.row + 1,
                    col0: r.start,
                    col1: r.end,
                });
                (self.stats.len() - 1) as u32
            } else {
                self.run_component[root]
            };
            debug_assert_ne!(id, NONE);
            self.run_component.push(id);
            let s = &mut self.stats[id as usize];
            s.area += (r.end - r.start) as u64;
            s.row1 = s.row1.max(r.row + 1);
            s.col0 = s.col0.min(r.start);
            s.col1 = s.col1.max(r.end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(map: &[u8], w: usize, h: usize, connect: Connect) -> Vec<u32> {
        // flood fill in raster order
        let mut lab = vec![u32::MAX; w * h];
        let mut next = 0;
        for start in 0..w * h {
            if lab[start] != u32::MAX || (connect == Connect::NonZero && map[start] == 0) {
                continue;
            }
            let mut stack = vec![start];
            lab[start] = next;
            while let Some(p) = stack.pop() {
                let (x, y) = ((p % w) as i64, (p / w) as i64);
                for dy in -1..=1 {
                    for dx in -1..=1 {
                        let (nx, ny) = (x + dx, y + dy);
                        if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                            continue;
                        }
                        let q = ny as usize * w + nx as usize;
                        let joins = match connect {
                            Connect::SameValue => map[q] == map[p],
                            Connect::NonZero => map[q] != 0,
                        };
                        if joins && lab[q] == u32::MAX {
                            lab[q] = next;
                            stack.push(q);
                        }
                    }
                }
            }
            next += 1;
        }
        lab
    }

    fn per_pixel(c: &Components, w: usize, h: usize) -> Vec<u32> {
        let mut lab = vec![u32::MAX; w * h];
        for (r, &id) in c.runs.iter().zip(&c.run_component) {
            for x in r.start..r.end {
                lab[r.row as usize * w + x as usize] = id;
            }
        }
        lab
    }

    #[test]
    fn matches_flood_fill() {
        let (w, h) = (23, 17);
        let mut seed = 12345u64;
        for levels in [2u64, 3, 5] {
            let map: Vec<u8> = (0..w * h)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((seed >> 33) % levels) as u8
                })
                .collect();
            for connect in [Connect::SameValue, Connect::NonZero] {
                let mut c = Components::default();
                c.label(&map, w, h, connect);
                assert_eq!(per_pixel(&c, w, h), naive(&map, w, h, connect));
                let total: u64 = c.stats.iter().map(|s| s.area).sum();
                let expect = match connect {
                    Connect::SameValue => (w * h) as u64,
                    Connect::NonZero => map.iter().filter(|&&v| v != 0).count() as u64,
                };
                assert_eq!(total, expect);
            }
        }
    }

    #[test]
    fn long_runs_and_the_seam_match_flood_fill() {
        // rows wider than a search block, runs of 1 to 80 pixels, an odd height so the
        // two halves differ in size
        let (w, h) = (157, 13);
        let mut seed = 99u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let mut map = Vec::with_capacity(w * h);
        while map.len() < w * h {
            let (v, len) = ((next() % 3) as u8, 1 + next() % 80);
            map.extend(std::iter::repeat_n(v, len.min(w * h - map.len())));
        }
        for connect in [Connect::SameValue, Connect::NonZero] {
            let mut c = Components::default();
            c.label(&map, w, h, connect);
            assert_eq!(
                per_pixel(&c, w, h),
                naive(&map, w, h, connect),
                "{connect:?}"
            );
        }
    }

    #[test]
    fn diagonal_touch_joins() {
        let map = [1, 0, 0, 1];
        let mut c = Components::default();
        c.label(&map, 2, 2, Connect::NonZero);
        assert_eq!(c.len(), 1);
        assert_eq!(
            c.stats[0],
            ComponentStats {
                area: 2,
                row0: 0,
                row1: 2,
                col0: 0,
                col1: 2
            }
        );
    }
}
