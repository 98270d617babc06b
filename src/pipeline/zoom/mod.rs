//! Stage 2: integer upscale with a cubic B-spline, exactly like `scipy.ndimage.zoom(y, z)`
//! (order 3, prefilter on, `grid_mode=False`, mirror boundaries).
//!
//! The prefilter and the interpolation run in `f64` (as scipy does), the result is stored as
//! `f32` and not clamped: ringing overshoots around sharp edges, and that overshoot sets the
//! normalisation of the next stage. Output index `i` of an axis of length `n` samples the
//! input at `x = i·(n−1)/(m−1)` (`m = z·n`, corners aligned).
//!
//! One file per pass and per instruction set: `spline` (the spline's maths and the
//! one-line prefilter), `columns` (the column pass), `rows` (the row pass), `vertical`
//! (the vertical taps, with the vector skeleton), `avx2` and `avx512` (the vector forms);
//! here, [`Zoom`] drives them over bands of output rows on the pipeline's pool.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod columns;
mod rows;
mod spline;
mod vertical;

#[cfg(target_arch = "x86_64")]
use avx2::*;
#[cfg(target_arch = "x86_64")]
use avx512::*;
pub use columns::*;
pub use rows::*;
pub use spline::*;
pub use vertical::*;

use rayon::prelude::*;

use crate::simd::{align_slack, avx2_dispatch, avx512_dispatch, cache_aligned, Isa};
#[cfg(target_arch = "x86_64")]
use crate::simd::{prefetch, transpose4};

/// Columns per strip of the parallel column prefilter.
pub const COLUMN_STRIP: usize = 64;

/// A reusable ×z cubic B-spline zoom: owns the taps (rebuilt only when the size changes)
/// and the `f64` scratch planes.
#[derive(Debug, Default)]
pub struct Zoom {
    rows: AxisTaps,
    cols: AxisTaps,
    acc: Vec<f64>,
    /// Per pool thread: scratch of the row passes.
    scratch: Vec<std::sync::Mutex<ThreadScratch>>,
}

/// Scratch of one pool thread.
#[derive(Debug, Default)]
struct ThreadScratch {
    /// Interleaved lines of the row prefilter.
    lanes: Vec<f64>,
    /// A padded coefficient row of the horizontal interpolation.
    padded: Vec<f64>,
    /// One coefficient line, prefiltered alone (the last lines of a plane).
    line: Vec<f64>,
    /// The last [`RING_ROWS`] horizontally interpolated rows of a band.
    ring: Vec<f64>,
}

/// Horizontally interpolated rows kept per band: the vertical taps of one output row span
/// at most four consecutive rows, and rows are made up to [`PAIR_BLOCK`] at a time, so
/// three blocks of [`LINE_BLOCK`] always hold them. The ring stays in L2 (24 × 3840 × 8
/// bytes at 1080p).
pub const RING_ROWS: usize = 3 * LINE_BLOCK;

/// Two disjoint `len`-value regions of `buf`, at offsets `a` and `b`.
fn two_regions(buf: &mut [f64], a: usize, b: usize, len: usize) -> (&mut [f64], &mut [f64]) {
    assert!(a + len <= b || b + len <= a);
    if a < b {
        let (x, y) = buf.split_at_mut(b);
        (&mut x[a..a + len], &mut y[..len])
    } else {
        let (x, y) = buf.split_at_mut(a);
        let (rb, ra) = (&mut x[b..b + len], &mut y[..len]);
        (ra, rb)
    }
}

/// Output-row bands per pool thread in the zoom's last pass (a band recomputes up to
/// a block of interpolated rows at its start and end).
const BANDS_PER_THREAD: usize = 2;

/// Computes the output rows `o0..` of `dst` (whole rows of `rt.m` values): interpolated
/// rows are made on demand from the prefiltered coefficient plane `coeff` (`rt.n ×
/// ct.n`) into the scratch's ring, and each output row combines four of them with the
/// power and min/max fused. Returns the band's minimum and maximum.
#[allow(clippy::too_many_arguments)]
fn zoom_band(
    isa: Isa,
    coeff: &[f64],
    rt: &AxisTaps,
    ct: &AxisTaps,
    o0: usize,
    dst: &mut [f32],
    power: u32,
    s: &mut ThreadScratch,
) -> (f32, f32) {
    let (width, height, ow) = (rt.n, ct.n, rt.m);
    let ThreadScratch {
        lanes,
        padded,
        line,
        ring,
    } = s;
    ring.resize(RING_ROWS * ow + align_slack::<f64>(), 0.0);
    let ring = cache_aligned(ring, RING_ROWS * ow);
    let first = (o0..o0 + dst.len() / ow)
        .flat_map(|i| ct.index[i])
        .min()
        .unwrap_or(0) as usize;
    // one past the last interpolated row this band needs
    let end = (o0..o0 + dst.len() / ow)
        .flat_map(|i| ct.index[i])
        .max()
        .map_or(0, |r| r as usize + 1);
    let slot_of = |r: usize| (r - first) % RING_ROWS;
    let mut next = first;
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    let out_rows = dst.len() / ow;
    let mut k = 0;
    while k < out_rows {
        let i = o0 + k;
        let idx = ct.index[i];
        // two output rows on the same four interpolated rows (every other row of a ×2
        // zoom) are combined in one pass, which reads those rows once
        let paired = k + 1 < out_rows && ct.index[i + 1] == idx;
        let need = idx.iter().max().map_or(0, |&r| r as usize + 1);
        while next < need {
            let at = slot_of(next) * ow;
            if next + PAIR_BLOCK <= end && width >= 4 {
                // two blocks at once (both needed by this band): twice the independent
                // work per recursion step
                let block = &coeff[next * width..(next + PAIR_BLOCK) * width];
                let bt = slot_of(next + LINE_BLOCK) * ow;
                let (a, b) = two_regions(ring, at, bt, LINE_BLOCK * ow);
                prefilter_interpolate_line_pairs(isa, block, rt, a, b, lanes);
                next += PAIR_BLOCK;
            } else if next + LINE_BLOCK <= height && width >= 4 {
                let block = &coeff[next * width..(next + LINE_BLOCK) * width];
                prefilter_interpolate_lines(
                    isa,
                    block,
                    rt,
                    &mut ring[at..at + LINE_BLOCK * ow],
                    lanes,
                );
                next += LINE_BLOCK;
            } else {
                line.clear();
                line.extend_from_slice(&coeff[next * width..(next + 1) * width]);
                prefilter_line(line);
                interpolate_row(isa, line, rt, &mut ring[at..at + ow], padded);
                next += 1;
            }
        }
        let ring = &ring[..];
        let rows = idx.map(|r| {
            let r = r as usize;
            debug_assert!(r >= first && r + RING_ROWS >= next && r < next);
            &ring[slot_of(r) * ow..(slot_of(r) + 1) * ow]
        });
        let row = &mut dst[k * ow..(k + 1 + paired as usize) * ow];
        let (l, h) = if paired {
            let (a, b) = row.split_at_mut(ow);
            combine_rows_power_pair(isa, rows, [&ct.weight[i], &ct.weight[i + 1]], [a, b], power)
        } else {
            combine_rows_power(isa, rows, &ct.weight[i], row, power)
        };
        lo = lo.min(l);
        hi = hi.max(h);
        k += 1 + paired as usize;
    }
    (lo, hi)
}

/// Locks this pool thread's scratch slot (uncontended: one slot per thread).
fn slot(slots: &[std::sync::Mutex<ThreadScratch>]) -> std::sync::MutexGuard<'_, ThreadScratch> {
    let i = rayon::current_thread_index().unwrap_or(0) % slots.len().max(1);
    match slots[i].lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Zoom {
    /// A zoom with no buffers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Output size of a `width × height` input at zoom `z`.
    pub fn output_size(width: usize, height: usize, z: usize) -> (usize, usize) {
        (width * z, height * z)
    }

    /// Zooms the luma plane `coeff` (`width × height`, consumed as scratch: it holds the
    /// spline coefficients afterwards) into `out` (`z·width × z·height`), with the
    /// kernels' forms that `isa` allows (the same bits for every `isa`).
    pub fn run(
        &mut self,
        isa: Isa,
        coeff: &mut [f64],
        width: usize,
        height: usize,
        z: usize,
        out: &mut [f32],
    ) {
        self.run_with(isa, coeff, width, height, z, out, 1);
    }

    /// Like [`run`](Self::run), and raises every output to `power` in the same pass (the
    /// pipeline's power transform); returns the minimum and maximum of the result. Rows
    /// are spread over the current rayon pool.
    ///
    /// # Panics
    /// When `coeff` is not `width × height` or `out` not the output size (a caller's bug;
    /// [`Pipeline`](super::Pipeline) sizes both).
    #[allow(clippy::too_many_arguments)]
    pub fn run_with(
        &mut self,
        isa: Isa,
        coeff: &mut [f64],
        width: usize,
        height: usize,
        z: usize,
        out: &mut [f32],
        power: u32,
    ) -> (f32, f32) {
        let (ow, oh) = Self::output_size(width, height, z);
        assert_eq!(coeff.len(), width * height);
        assert_eq!(out.len(), ow * oh);
        if self.rows.n != width || self.rows.m != ow {
            self.rows.rebuild(width, ow);
        }
        if self.cols.n != height || self.cols.m != oh {
            self.cols.rebuild(height, oh);
        }
        // prefilter: axis 0 (down the columns) then axis 1 (along the rows), as scipy
        self.prefilter_columns_parallel(isa, coeff, width, height);
        let threads = rayon::current_num_threads().max(1);
        if self.scratch.len() < threads {
            self.scratch.resize_with(threads, Default::default);
        }
        // every slot sized up front: which thread runs which band varies between frames
        for s in self.scratch.iter_mut() {
            let s = s.get_mut().unwrap_or_else(|p| p.into_inner());
            s.lanes.resize(
                (width + 3) * PAIR_BLOCK + ow * LINE_BLOCK + align_slack::<f64>(),
                0.0,
            );
            // (`reserve` counts from the length: clear first, both are refilled before use)
            s.padded.clear();
            s.padded.reserve(width + 3);
            s.line.clear();
            s.line.reserve(width);
            s.ring.resize(RING_ROWS * ow + align_slack::<f64>(), 0.0);
        }
        let slots = &self.scratch;
        let coeff: &[f64] = coeff;
        let (rows, cols) = (&self.rows, &self.cols);
        let band_rows = oh.div_ceil(threads * BANDS_PER_THREAD).max(1);
        out.par_chunks_mut(band_rows * ow)
            .enumerate()
            .map(|(b, dst)| {
                zoom_band(
                    isa,
                    coeff,
                    rows,
                    cols,
                    b * band_rows,
                    dst,
                    power,
                    &mut slot(slots),
                )
            })
            .reduce(
                || (f32::INFINITY, f32::NEG_INFINITY),
                |a, b| (a.0.min(b.0), a.1.max(b.1)),
            )
    }

    /// Prefilters the columns in strips of [`COLUMN_STRIP`] columns spread over the pool.
    fn prefilter_columns_parallel(
        &mut self,
        isa: Isa,
        coeff: &mut [f64],
        width: usize,
        height: usize,
    ) {
        self.acc.resize(width, 0.0);
        let plane = Plane {
            base: coeff.as_mut_ptr(),
            width,
        };
        // narrow strips: a strip's rows (rows × 512 bytes) stay in L2 between the init,
        // causal and anti-causal sweeps
        let band_w = COLUMN_STRIP;
        self.acc
            .par_chunks_mut(band_w)
            .enumerate()
            .for_each(|(b, acc)| {
                // SAFETY: band b covers columns b·band_w .. b·band_w + acc.len(), disjoint
                // from every other band; `coeff` is borrowed mutably for the whole call.
                unsafe { prefilter_column_band(isa, plane, height, b * band_w, acc) }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_folds() {
        assert_eq!(mirror(-1, 5), 1);
        assert_eq!(mirror(-2, 5), 2);
        assert_eq!(mirror(5, 5), 3);
        assert_eq!(mirror(6, 5), 2);
        assert_eq!(mirror(-1, 2), 1);
        assert_eq!(mirror(3, 2), 1);
        assert_eq!(mirror(2, 2), 0);
        assert_eq!(mirror(7, 1), 0);
    }

    #[test]
    fn weights_sum_to_one_and_corners_align() {
        let t = AxisTaps::new(7, 14);
        for w in &t.weight {
            assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        // output 0 samples input 0: taps -1,0,1,2 with t = 0
        assert_eq!(t.index[0], [1, 0, 1, 2]);
        assert!((t.weight[0][1] - 4.0 / 6.0).abs() < 1e-15);
    }

    #[test]
    fn column_prefilter_equals_line_prefilter() {
        let (w, h) = (5, 9);
        let data: Vec<f64> = (0..w * h).map(|i| ((i * 37) % 101) as f64).collect();
        let mut cols = data.clone();
        prefilter_columns(Isa::plain(), &mut cols, w, h, &mut Vec::new());
        for x in 0..w {
            let mut line: Vec<f64> = (0..h).map(|y| data[y * w + x]).collect();
            prefilter_line(&mut line);
            for y in 0..h {
                assert!((line[y] - cols[y * w + x]).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn column_prefilter_vector_form_equals_plain_form() {
        let (w, h) = (37, 29);
        let data: Vec<f64> = (0..w * h)
            .map(|i| ((i * 7919) % 263) as f64 * 0.37)
            .collect();
        let mut b = data.clone();
        let plane = Plane {
            base: b.as_mut_ptr(),
            width: w,
        };
        // SAFETY: one band over the whole plane, which `b` owns.
        unsafe { prefilter_column_band_plain(plane, h, 0, &mut vec![0.0; w]) };
        for isa in Isa::available() {
            let mut a = data.clone();
            prefilter_columns(isa, &mut a, w, h, &mut Vec::new());
            assert_eq!(a, b, "{isa:?}");
        }
    }

    #[test]
    fn truncated_init_changes_nothing_on_long_lines() {
        // a long line: the full sum and the truncated one give the same bits
        let n = 500;
        let data: Vec<f64> = (0..n).map(|i| ((i * 31) % 255) as f64 * 36.0).collect();
        let z = pole();
        let z_n1 = z.powi(n as i32 - 1);
        let mut full = data[0] + z_n1 * data[n - 1];
        let mut trunc = full;
        let mut zi = z;
        for i in 1..n - 1 {
            let t = zi * (data[i] + z_n1 * data[n - 1 - i]);
            full += t;
            if i < INIT_TERMS {
                trunc += t;
            }
            zi *= z;
        }
        assert_eq!(full, trunc);
    }

    /// A vertical-taps kernel for `N` output rows.
    #[cfg(target_arch = "x86_64")]
    type TapsKernel<const N: usize> =
        unsafe fn([&[f64]; 4], [&[f64; 4]; N], [&mut [f32]; N], u32) -> (f32, f32);

    /// The vertical-taps kernels for `N` rows that this CPU can run, by name.
    #[cfg(target_arch = "x86_64")]
    fn taps_kernels<const N: usize>() -> Vec<(&'static str, TapsKernel<N>)> {
        let mut kernels: Vec<(&str, TapsKernel<N>)> = Vec::new();
        if Isa::detect().avx2() {
            kernels.push(("AVX2", combine_rows_power_avx2::<N>));
        }
        if Isa::detect().avx512() {
            kernels.push(("AVX-512", combine_rows_power_avx512::<N>));
        }
        kernels
    }

    #[test]
    fn vector_forms_equal_the_plain_form() {
        let n = 1003;
        let rows: Vec<Vec<f64>> = (0..4)
            .map(|k| {
                (0..n)
                    .map(|i| ((i * 7919 + k * 31) % 1009) as f64 * 0.731 - 40.0)
                    .collect()
            })
            .collect();
        let w = [0.0123, 0.61, 0.3699, 0.0078];
        let mut a = vec![0f32; n];
        combine_rows_plain([&rows[0], &rows[1], &rows[2], &rows[3]], &w, &mut a);
        // fused power and min/max, both forms, against the separate passes
        for power in 1..=3 {
            let mut c = a.clone();
            crate::pipeline::levels::apply_power(&mut c, power);
            let expect = crate::pipeline::levels::min_max_plain(&c);
            let mut d = vec![0f32; n];
            for isa in Isa::available() {
                let rows4 = [&rows[0][..], &rows[1], &rows[2], &rows[3]];
                let got = combine_rows_power(isa, rows4, &w, &mut d, power);
                assert_eq!(
                    (d.as_slice(), got),
                    (c.as_slice(), expect),
                    "{isa:?}, power {power}"
                );
            }
            let got = combine_rows_power_plain(
                [&rows[0], &rows[1], &rows[2], &rows[3]],
                &w,
                &mut d,
                power,
            );
            assert_eq!(
                (d.as_slice(), got),
                (c.as_slice(), expect),
                "plain, power {power}"
            );
            #[cfg(target_arch = "x86_64")]
            for (name, kernel) in taps_kernels::<1>() {
                let rows4 = [&rows[0][..], &rows[1], &rows[2], &rows[3]];
                // SAFETY: `taps_kernels` lists only kernels the CPU can run.
                let got = unsafe { kernel(rows4, [&w], [&mut d], power) };
                assert_eq!(
                    (d.as_slice(), got),
                    (c.as_slice(), expect),
                    "{name}, power {power}"
                );
            }
        }
        // two output rows from the same four rows: the pair form against two calls
        let w2 = [0.0411, 0.5, 0.4511, 0.0078];
        for power in 1..=3 {
            let rows4 = [&rows[0][..], &rows[1], &rows[2], &rows[3]];
            let (mut ea, mut eb) = (vec![0f32; n], vec![0f32; n]);
            let (la, ha) = combine_rows_power_plain(rows4, &w, &mut ea, power);
            let (lb, hb) = combine_rows_power_plain(rows4, &w2, &mut eb, power);
            let expect = (la.min(lb), ha.max(hb));
            let (mut a2, mut b2) = (vec![0f32; n], vec![0f32; n]);
            for isa in Isa::available() {
                let got = combine_rows_power_pair(isa, rows4, [&w, &w2], [&mut a2, &mut b2], power);
                assert_eq!(
                    (&a2, &b2, got),
                    (&ea, &eb, expect),
                    "{isa:?} pair, power {power}"
                );
            }
            let got = combine_rows_power_pair_plain(rows4, [&w, &w2], [&mut a2, &mut b2], power);
            assert_eq!(
                (&a2, &b2, got),
                (&ea, &eb, expect),
                "plain pair, power {power}"
            );
            // each vector kernel this CPU has, called directly, with every tail length
            #[cfg(target_arch = "x86_64")]
            for (name, kernel) in taps_kernels::<2>() {
                for len in [n, n - 1, n - 8, n - 15, 16, 15, 1, 0] {
                    let short = rows4.map(|r| &r[..len]);
                    let (mut ea, mut eb) = (vec![0f32; len], vec![0f32; len]);
                    let (la, ha) = combine_rows_power_plain(short, &w, &mut ea, power);
                    let (lb, hb) = combine_rows_power_plain(short, &w2, &mut eb, power);
                    let (mut a3, mut b3) = (vec![0f32; len], vec![0f32; len]);
                    // SAFETY: `taps_kernels` lists only kernels the CPU can run.
                    let got = unsafe { kernel(short, [&w, &w2], [&mut a3, &mut b3], power) };
                    let expect = (la.min(lb), ha.max(hb));
                    assert_eq!((&a3, &b3, got), (&ea, &eb, expect), "{name}, len {len}");
                }
            }
        }
        // row prefilter and horizontal taps
        let (width, lines) = (517, 19);
        let data: Vec<f64> = (0..width * lines)
            .map(|i| ((i * 104729) % 9973) as f64 * 0.01)
            .collect();
        let mut p = data.clone();
        for line in p.chunks_exact_mut(width) {
            prefilter_line(line);
        }
        let taps = AxisTaps::new(width, 2 * width);
        let (mut x, mut y) = (vec![0.0; 2 * width], vec![0.0; 2 * width]);
        let mut padded = vec![p[1]];
        padded.extend_from_slice(&p[..width]);
        padded.extend_from_slice(&[p[width - 2], p[width - 3]]);
        eval_taps_plain(&padded, &taps.start, &taps.weight, &mut y);
        for isa in Isa::available() {
            interpolate_row(isa, &p[..width], &taps, &mut x, &mut Vec::new());
            assert_eq!(x, y, "{isa:?}");
        }
    }

    #[test]
    fn vector_taps_equal_plain_taps() {
        for width in [4usize, 5, 37, 301] {
            let taps = AxisTaps::new(width, 2 * width);
            // lanes of a pair layout (stride 16): both halves, vector and plain
            let padded: Vec<f64> = (0..(width + 3) * PAIR_BLOCK)
                .map(|i| ((i * 7919 + 104729) % 9973) as f64 - 4000.5)
                .collect();
            for offset in [0, LINE_BLOCK] {
                let mut plain = vec![0.0; 2 * width * LINE_BLOCK];
                let mut scratch = vec![0.0; 2 * width * LINE_BLOCK];
                taps_to_rows_plain(&padded, PAIR_BLOCK, offset, &taps, &mut plain, &mut scratch);
                for isa in Isa::available() {
                    let mut got = vec![0.0; plain.len()];
                    taps_to_rows(
                        isa,
                        &padded,
                        PAIR_BLOCK,
                        offset,
                        &taps,
                        &mut got,
                        &mut scratch,
                    );
                    assert_eq!(got, plain, "{isa:?}, width {width}, offset {offset}");
                }
            }
        }
    }

    #[test]
    fn transposes_equal_plain_moves() {
        for n in [4usize, 7, 64, 301] {
            let block: Vec<f64> = (0..n * LINE_BLOCK).map(|i| i as f64 * 0.5 - 3.0).collect();
            let (mut a, mut b) = (vec![0.0; n * LINE_BLOCK], vec![0.0; n * LINE_BLOCK]);
            interleave_plain::<LINE_BLOCK>(&block, n, &mut b, 6.0);
            let wide: Vec<f64> = (0..n * PAIR_BLOCK).map(|i| i as f64 - 7.0).collect();
            let (mut c, mut d) = (vec![0.0; n * PAIR_BLOCK], vec![0.0; n * PAIR_BLOCK]);
            interleave_plain::<PAIR_BLOCK>(&wide, n, &mut d, 6.0);
            for isa in Isa::available() {
                interleave::<LINE_BLOCK>(isa, &block, n, &mut a, 6.0);
                assert_eq!(a, b, "{isa:?} interleave {n}");
                interleave::<PAIR_BLOCK>(isa, &wide, n, &mut c, 6.0);
                assert_eq!(c, d, "{isa:?} interleave pairs {n}");
            }
            let mut c = vec![0.0; n * LINE_BLOCK];
            deinterleave(&a, n, &mut c);
            let scaled: Vec<f64> = block.iter().map(|v| v * 6.0).collect();
            assert_eq!(c, scaled, "round trip {n}");
        }
    }

    #[test]
    fn line_pairs_equal_two_line_blocks() {
        for width in [4usize, 5, 37, 300] {
            let data: Vec<f64> = (0..width * PAIR_BLOCK)
                .map(|i| ((i * 104729) % 9973) as f64 * 0.01 - 30.0)
                .collect();
            let taps = AxisTaps::new(width, 2 * width);
            let m = taps.m * LINE_BLOCK;
            let mut expect = vec![0.0; 2 * m];
            let (ea, eb) = expect.split_at_mut(m);
            prefilter_interpolate_lines_plain(
                &data[..width * LINE_BLOCK],
                &taps,
                ea,
                &mut Vec::new(),
            );
            prefilter_interpolate_lines_plain(
                &data[width * LINE_BLOCK..],
                &taps,
                eb,
                &mut Vec::new(),
            );
            let mut got = vec![0.0; 2 * m];
            let (a, b) = got.split_at_mut(m);
            prefilter_interpolate_line_pairs_plain(&data, &taps, a, b, &mut Vec::new());
            assert_eq!(got, expect, "plain, width {width}");
            for isa in Isa::available() {
                let mut got = vec![0.0; 2 * m];
                let (a, b) = got.split_at_mut(m);
                prefilter_interpolate_line_pairs(isa, &data, &taps, a, b, &mut Vec::new());
                assert_eq!(got, expect, "{isa:?}, width {width}");
            }
        }
    }

    #[test]
    fn fused_row_pass_equals_prefilter_then_interpolate() {
        for width in [4usize, 5, 37, 300] {
            let data: Vec<f64> = (0..width * LINE_BLOCK)
                .map(|i| ((i * 104729) % 9973) as f64 * 0.01)
                .collect();
            let taps = AxisTaps::new(width, 2 * width);
            let mut expect = vec![0.0; 2 * width * LINE_BLOCK];
            let mut lines = data.clone();
            for (line, out) in lines
                .chunks_exact_mut(width)
                .zip(expect.chunks_exact_mut(2 * width))
            {
                prefilter_line(line);
                interpolate_row(Isa::plain(), line, &taps, out, &mut Vec::new());
            }
            for isa in Isa::available() {
                let mut got = vec![0.0; expect.len()];
                prefilter_interpolate_lines(isa, &data, &taps, &mut got, &mut Vec::new());
                assert_eq!(got, expect, "{isa:?}, width {width}");
            }
            let mut plain = vec![0.0; expect.len()];
            prefilter_interpolate_lines_plain(&data, &taps, &mut plain, &mut Vec::new());
            assert_eq!(plain, expect, "plain, width {width}");
        }
    }

    /// The zoom one pass after another over whole planes, with the plain kernels.
    fn zoom_by_passes(data: &[f64], w: usize, h: usize, z: usize, power: u32) -> Vec<f32> {
        let (ow, oh) = (z * w, z * h);
        let (rt, ct) = (AxisTaps::new(w, ow), AxisTaps::new(h, oh));
        let mut c = data.to_vec();
        prefilter_columns(Isa::plain(), &mut c, w, h, &mut Vec::new());
        let mut tmp = vec![0.0; h * ow];
        for (line, out) in c.chunks_exact_mut(w).zip(tmp.chunks_exact_mut(ow)) {
            prefilter_line(line);
            interpolate_row(Isa::plain(), line, &rt, out, &mut Vec::new());
        }
        let mut out = vec![0f32; ow * oh];
        for (i, row) in out.chunks_exact_mut(ow).enumerate() {
            let rows = ct.index[i].map(|r| &tmp[r as usize * ow..(r as usize + 1) * ow]);
            combine_rows_power_plain(rows, &ct.weight[i], row, power);
        }
        out
    }

    #[test]
    fn banded_zoom_equals_whole_plane_passes() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        for (w, h, z) in [(37, 29, 2), (5, 3, 2), (64, 41, 3), (9, 100, 2), (3, 17, 4)] {
            let data: Vec<f64> = (0..w * h)
                .map(|i| ((i * 7919) % 263) as f64 * 0.37)
                .collect();
            let expect = zoom_by_passes(&data, w, h, z, 2);
            for isa in Isa::available() {
                let mut got = vec![0f32; expect.len()];
                let mut c = data.clone();
                let (lo, hi) =
                    pool.install(|| Zoom::new().run_with(isa, &mut c, w, h, z, &mut got, 2));
                assert_eq!(got, expect, "{isa:?}, {w}x{h} x{z}");
                assert_eq!((lo, hi), crate::pipeline::levels::min_max_plain(&expect));
            }
        }
    }

    #[test]
    fn constant_stays_constant() {
        let (w, h) = (6, 4);
        let mut c = vec![42.0; w * h];
        let mut out = vec![0.0f32; 4 * w * h];
        Zoom::new().run(Isa::detect(), &mut c, w, h, 2, &mut out);
        for v in out {
            assert!((v - 42.0).abs() < 1e-4);
        }
    }
}
