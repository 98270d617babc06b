//! The row pass: lines prefiltered [`LINE_BLOCK`] or [`PAIR_BLOCK`] at a time while
//! interleaved, then evaluated at the horizontal taps; and the one-line forms for the last
//! rows of a plane.

use super::*;

/// Lines prefiltered together by [`prefilter_interpolate_lines`]: independent recursions
/// interleaved, so the multiply–add latency of one line hides behind the others.
pub const LINE_BLOCK: usize = 8;

avx512_dispatch! {
    /// Prefilters [`LINE_BLOCK`] lines (`block`, `width` values each) and evaluates them at
    /// the horizontal taps into `out` ([`LINE_BLOCK`] rows of `taps.m` values), without
    /// writing the coefficients back: while the lines are still interleaved in `scratch`,
    /// each output is one vector operation over the lines. Bit-identical to
    /// [`prefilter_line`] followed by [`interpolate_row`] on each line.
    pub fn prefilter_interpolate_lines(isa: Isa, block: &[f64], taps: &AxisTaps, out: &mut [f64], scratch: &mut Vec<f64>) => prefilter_interpolate_lines_with
}

/// The plain form of [`prefilter_interpolate_lines`].
pub fn prefilter_interpolate_lines_plain(
    block: &[f64],
    taps: &AxisTaps,
    out: &mut [f64],
    scratch: &mut Vec<f64>,
) {
    prefilter_interpolate_lines_with(Isa::plain(), block, taps, out, scratch)
}

/// [`prefilter_interpolate_lines`]'s body, its helpers in the forms `isa` allows.
#[inline(always)]
pub(super) fn prefilter_interpolate_lines_with(
    isa: Isa,
    block: &[f64],
    taps: &AxisTaps,
    out: &mut [f64],
    scratch: &mut Vec<f64>,
) {
    const L: usize = LINE_BLOCK;
    let n = taps.n;
    let m = taps.m;
    assert!(block.len() == n * L && out.len() == m * L && n >= 4);
    // one mirrored group in front, two behind: the taps of output i are groups s..s+4;
    // then the interleaved outputs
    let need = (n + 3) * L + m * L;
    scratch.resize(need + align_slack::<f64>(), 0.0);
    let (lanes, interleaved) = cache_aligned(scratch, need).split_at_mut((n + 3) * L);
    prefilter_group::<L>(isa, block, n, lanes);
    taps_to_rows(isa, lanes, L, 0, taps, out, interleaved);
}

/// Lines prefiltered together by [`prefilter_interpolate_line_pairs`]: two groups of
/// [`LINE_BLOCK`], so that the recursions (a multiply and an add per step, each waiting
/// for the last) have twice the independent work per step.
pub const PAIR_BLOCK: usize = 2 * LINE_BLOCK;

avx512_dispatch! {
    /// [`prefilter_interpolate_lines`] on [`PAIR_BLOCK`] lines at once: the first
    /// [`LINE_BLOCK`] lines' outputs go to `out_a`, the others' to `out_b`. The same bits
    /// as two calls of [`prefilter_interpolate_lines`].
    pub fn prefilter_interpolate_line_pairs(isa: Isa, block: &[f64], taps: &AxisTaps, out_a: &mut [f64], out_b: &mut [f64], scratch: &mut Vec<f64>) => prefilter_interpolate_line_pairs_with
}

/// The plain form of [`prefilter_interpolate_line_pairs`].
pub fn prefilter_interpolate_line_pairs_plain(
    block: &[f64],
    taps: &AxisTaps,
    out_a: &mut [f64],
    out_b: &mut [f64],
    scratch: &mut Vec<f64>,
) {
    prefilter_interpolate_line_pairs_with(Isa::plain(), block, taps, out_a, out_b, scratch)
}

/// [`prefilter_interpolate_line_pairs`]'s body, its helpers in the forms `isa` allows.
#[inline(always)]
pub(super) fn prefilter_interpolate_line_pairs_with(
    isa: Isa,
    block: &[f64],
    taps: &AxisTaps,
    out_a: &mut [f64],
    out_b: &mut [f64],
    scratch: &mut Vec<f64>,
) {
    const P: usize = PAIR_BLOCK;
    const L: usize = LINE_BLOCK;
    let n = taps.n;
    let m = taps.m;
    assert!(block.len() == n * P && out_a.len() == m * L && out_b.len() == m * L && n >= 4);
    let need = (n + 3) * P + m * L;
    scratch.resize(need + align_slack::<f64>(), 0.0);
    let (lanes, interleaved) = cache_aligned(scratch, need).split_at_mut((n + 3) * P);
    prefilter_group::<P>(isa, block, n, lanes);
    taps_to_rows(isa, lanes, P, 0, taps, out_a, interleaved);
    taps_to_rows(isa, lanes, P, L, taps, out_b, interleaved);
}

/// Interleaves the `L` lines of `block` (`n ≥ 4` values each) times the gain into
/// `padded` (`(n + 3) · L` values) as `padded[p][line]` at padded position `p = column +
/// 1`, prefilters them there, and fills the mirrored neighbours (`p = 0`, `n + 1`,
/// `n + 2`): the four taps of every output are then four consecutive groups.
#[inline(always)]
pub(super) fn prefilter_group<const L: usize>(
    isa: Isa,
    block: &[f64],
    n: usize,
    padded: &mut [f64],
) {
    let z = pole();
    interleave::<L>(isa, block, n, &mut padded[L..(n + 1) * L], gain(z));
    let (lanes, _) = padded.as_chunks_mut::<L>();
    prefilter_lanes::<L>(&mut lanes[1..n + 1], z);
    lanes[0] = lanes[2];
    lanes[n + 1] = lanes[n - 1];
    lanes[n + 2] = lanes[n - 2];
}

/// Evaluates [`LINE_BLOCK`] interleaved, padded coefficient lines at the horizontal taps
/// into `out` ([`LINE_BLOCK`] rows of `taps.m` values). The lines are lanes `offset ..
/// offset + LINE_BLOCK` of `padded`, `stride` values a position (as [`prefilter_group`]
/// leaves them). With AVX2 by [`taps_to_rows_avx2`], else through the interleaved scratch
/// `interleaved`.
#[inline(always)]
pub(super) fn taps_to_rows(
    isa: Isa,
    padded: &[f64],
    stride: usize,
    offset: usize,
    taps: &AxisTaps,
    out: &mut [f64],
    interleaved: &mut [f64],
) {
    assert!(offset + LINE_BLOCK <= stride);
    #[cfg(target_arch = "x86_64")]
    if isa.avx2() {
        // SAFETY: `isa` is a set this CPU has, and it includes AVX2.
        return unsafe { taps_to_rows_avx2(padded, stride, offset, taps, out) };
    }
    let _ = isa;
    taps_to_rows_plain(padded, stride, offset, taps, out, interleaved)
}

/// The plain form of [`taps_to_rows`]: each output as one 8-lane array expression into
/// `interleaved`, then [`deinterleave`].
#[inline(always)]
pub(super) fn taps_to_rows_plain(
    padded: &[f64],
    stride: usize,
    offset: usize,
    taps: &AxisTaps,
    out: &mut [f64],
    interleaved: &mut [f64],
) {
    const L: usize = LINE_BLOCK;
    let m = taps.m;
    let group = |p: usize| -> Option<[f64; L]> {
        padded
            .get(p * stride + offset..p * stride + offset + L)
            .and_then(|g| g.try_into().ok())
    };
    let outputs: &mut [[f64; L]] = as_lanes(&mut interleaved[..m * L]);
    for ((v, &s), w) in outputs.iter_mut().zip(&taps.start).zip(&taps.weight) {
        let s = s as usize;
        if let (Some(c0), Some(c1), Some(c2), Some(c3)) =
            (group(s), group(s + 1), group(s + 2), group(s + 3))
        {
            let [w0, w1, w2, w3] = *w;
            // whole-array form: the compiler keeps the eight lanes in vector registers
            *v = std::array::from_fn(|k| w0 * c0[k] + w1 * c1[k] + w2 * c2[k] + w3 * c3[k]);
        }
    }
    deinterleave(interleaved, m, out);
}

/// The prefilter recursions (mirror initialisation, causal, anti-causal) on `L`
/// interleaved lines at once, `cols[x][line]`, the gain already applied: the same
/// operations as [`prefilter_line`] on each line.
#[inline(always)]
pub(super) fn prefilter_lanes<const L: usize>(cols: &mut [[f64; L]], z: f64) {
    let n = cols.len();
    let z_n1 = z.powi(n as i32 - 1);
    let mut c0 = [0.0f64; L];
    for k in 0..L {
        c0[k] = cols[0][k] + z_n1 * cols[n - 1][k];
    }
    let mut zi = z;
    for i in 1..(n - 1).min(INIT_TERMS) {
        let (a, b) = (cols[i], cols[n - 1 - i]);
        for k in 0..L {
            c0[k] += zi * (a[k] + z_n1 * b[k]);
        }
        zi *= z;
    }
    let denom = 1.0 - z_n1 * z_n1;
    for k in 0..L {
        cols[0][k] = c0[k] / denom;
    }
    for i in 1..n {
        let prev = cols[i - 1];
        let cur = &mut cols[i];
        for k in 0..L {
            cur[k] += z * prev[k];
        }
    }
    let prev = cols[n - 2];
    let last = &mut cols[n - 1];
    for k in 0..L {
        last[k] = (z * prev[k] + last[k]) * z / (z * z - 1.0);
    }
    for i in (0..n - 1).rev() {
        let next = cols[i + 1];
        let cur = &mut cols[i];
        for k in 0..L {
            cur[k] = z * (next[k] - cur[k]);
        }
    }
}

/// Writes the `L` lines of `block` (`n` values each, `L` a multiple of 4) times `g` into
/// `lanes` interleaved (`[x][line]`), by 4 × 4 transposes (AVX2 shuffles when the CPU has
/// them).
#[inline(always)]
pub(super) fn interleave<const L: usize>(
    isa: Isa,
    block: &[f64],
    n: usize,
    lanes: &mut [f64],
    g: f64,
) {
    #[cfg(target_arch = "x86_64")]
    if isa.avx2() {
        // SAFETY: `isa` is a set this CPU has, and it includes AVX2.
        return unsafe { interleave_avx2::<L>(block, n, lanes, g) };
    }
    let _ = isa;
    interleave_plain::<L>(block, n, lanes, g)
}

/// The plain form of [`interleave`].
#[inline(always)]
pub(super) fn interleave_plain<const L: usize>(block: &[f64], n: usize, lanes: &mut [f64], g: f64) {
    let quads = n / 4;
    for half in 0..L / 4 {
        let line = |k: usize| &block[(half * 4 + k) * n..(half * 4 + k + 1) * n];
        let (l0, l1, l2, l3) = (line(0), line(1), line(2), line(3));
        for q in 0..quads {
            let x = 4 * q;
            let r = [&l0[x..x + 4], &l1[x..x + 4], &l2[x..x + 4], &l3[x..x + 4]];
            for j in 0..4 {
                let dst = &mut lanes[(x + j) * L + half * 4..(x + j) * L + half * 4 + 4];
                for k in 0..4 {
                    dst[k] = r[k][j] * g;
                }
            }
        }
        for x in quads * 4..n {
            for (k, l) in [l0, l1, l2, l3].iter().enumerate() {
                lanes[x * L + half * 4 + k] = l[x] * g;
            }
        }
    }
}

/// The inverse of [`interleave`] (without the factor): `[x][line]` into
/// [`LINE_BLOCK`] lines of `m` values (the plain path's; with AVX2 the taps write the
/// lines directly, see [`taps_to_rows_avx2`]).
#[inline(always)]
pub(super) fn deinterleave(lanes: &[f64], m: usize, out: &mut [f64]) {
    const L: usize = LINE_BLOCK;
    let quads = m / 4;
    for half in 0..L / 4 {
        let (l0, rest) = out[half * 4 * m..].split_at_mut(m);
        let (l1, rest) = rest.split_at_mut(m);
        let (l2, rest) = rest.split_at_mut(m);
        let l3 = &mut rest[..m];
        for q in 0..quads {
            let x = 4 * q;
            let src = |j: usize| &lanes[(x + j) * L + half * 4..(x + j) * L + half * 4 + 4];
            let r = [src(0), src(1), src(2), src(3)];
            for (k, dst) in [&mut *l0, &mut *l1, &mut *l2, &mut *l3]
                .into_iter()
                .enumerate()
            {
                let d = &mut dst[x..x + 4];
                for j in 0..4 {
                    d[j] = r[j][k];
                }
            }
        }
        for x in quads * 4..m {
            for (k, dst) in [&mut *l0, &mut *l1, &mut *l2, &mut *l3]
                .into_iter()
                .enumerate()
            {
                dst[x] = lanes[x * L + half * 4 + k];
            }
        }
    }
}

/// Views a buffer of `n · LINE_BLOCK` values as `n` groups of lanes.
pub(super) fn as_lanes(buf: &mut [f64]) -> &mut [[f64; LINE_BLOCK]] {
    let (lanes, _) = buf.as_chunks_mut::<LINE_BLOCK>();
    lanes
}

/// Evaluates one row of coefficients at the horizontal taps. `padded` is scratch: the row
/// with its mirrored neighbours (one before, two after), so that every output's four taps
/// are consecutive and the loop needs no index table.
pub fn interpolate_row(
    isa: Isa,
    coeff: &[f64],
    taps: &AxisTaps,
    out: &mut [f64],
    padded: &mut Vec<f64>,
) {
    let n = coeff.len();
    padded.clear();
    padded.push(coeff[mirror(-1, n)]);
    padded.extend_from_slice(coeff);
    padded.push(coeff[mirror(n as isize, n)]);
    padded.push(coeff[mirror(n as isize + 1, n)]);
    eval_taps(isa, padded, &taps.start, &taps.weight, out)
}

/// Evaluates the taps on a padded row (plain form; the AVX2 form gives the same bits).
#[inline(always)]
pub fn eval_taps_plain(padded: &[f64], start: &[u32], weight: &[[f64; 4]], out: &mut [f64]) {
    for ((o, &s), w) in out.iter_mut().zip(start).zip(weight) {
        // taps f-1 .. f+2 sit at padded[f .. f+4]
        if let Some(c) = padded.get(s as usize..s as usize + 4) {
            *o = w[0] * c[0] + w[1] * c[1] + w[2] * c[2] + w[3] * c[3];
        }
    }
}

avx2_dispatch! {
    /// Evaluates the taps on a padded row (see [`interpolate_row`]).
    pub fn eval_taps(isa: Isa, padded: &[f64], start: &[u32], weight: &[[f64; 4]], out: &mut [f64]) => plain eval_taps_plain
}
