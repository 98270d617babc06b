//! Stage 3: power transform, normalisation to integer gray levels, histogram.
//!
//! Exactly the seed's numpy arithmetic in `f32`: `p = x**power`, then
//! `round((p - min) / (max - min) * 255)` with ties to even. The division is kept a division
//! (a multiplication by the reciprocal rounds differently).

/// Raises every value to an integer power in place. Powers 1 and 2 are exact (numpy's fast
/// paths); higher powers use `powi`.
pub fn apply_power(values: &mut [f32], power: u32) {
    match power {
        1 => {}
        2 => values.iter_mut().for_each(|v| *v *= *v),
        p => values.iter_mut().for_each(|v| *v = v.powi(p as i32)),
    }
}

/// Minimum and maximum of a non-empty slice.
pub fn min_max(values: &[f32]) -> (f32, f32) {
    let mut lo = [f32::INFINITY; 8];
    let mut hi = [f32::NEG_INFINITY; 8];
    let chunks = values.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            lo[k] = lo[k].min(c[k]);
            hi[k] = hi[k].max(c[k]);
        }
    }
    let mut l = lo.iter().copied().fold(f32::INFINITY, f32::min);
    let mut h = hi.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for &v in rest {
        l = l.min(v);
        h = h.max(v);
    }
    (l, h)
}

/// One normalised gray level, `round_ties_even((v - lo) / (hi - lo) * 255)`; 0 when the
/// range is empty.
#[inline]
pub fn quantise_one(v: f32, lo: f32, range: f32) -> u8 {
    if range > 0.0 {
        (((v - lo) / range) * 255.0).round_ties_even() as u8
    } else {
        0
    }
}

/// Normalises `values` into gray levels `out`, given their minimum and maximum.
pub fn quantise(values: &[f32], lo: f32, hi: f32, out: &mut [u8]) {
    let range = hi - lo;
    if range > 0.0 {
        for (o, &v) in out.iter_mut().zip(values) {
            *o = (((v - lo) / range) * 255.0).round_ties_even() as u8;
        }
    } else {
        out.fill(0);
    }
}

/// Histogram of gray levels, counted into four interleaved sub-histograms (a document-like
/// frame is dominated by one level; one table would serialise on that counter).
pub fn histogram(levels: &[u8], hist: &mut [u64; 256]) {
    let mut sub = [[0u32; 256]; 4];
    let flush = |sub: &mut [[u32; 256]; 4], hist: &mut [u64; 256]| {
        for s in sub.iter_mut() {
            for (h, c) in hist.iter_mut().zip(s.iter_mut()) {
                *h += *c as u64;
                *c = 0;
            }
        }
    };
    hist.fill(0);
    // u32 counters: flush well before 2^32 per sub-histogram
    for block in levels.chunks(1 << 30) {
        let quads = block.chunks_exact(4);
        let rest = quads.remainder();
        for q in quads {
            sub[0][q[0] as usize] += 1;
            sub[1][q[1] as usize] += 1;
            sub[2][q[2] as usize] += 1;
            sub[3][q[3] as usize] += 1;
        }
        for &v in rest {
            sub[0][v as usize] += 1;
        }
        flush(&mut sub, hist);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_to_even() {
        // 0.5 -> 0, 1.5 -> 2, 2.5 -> 2 (numpy's round)
        assert_eq!(quantise_one(0.5, 0.0, 255.0), 0);
        assert_eq!(quantise_one(1.5, 0.0, 255.0), 2);
        assert_eq!(quantise_one(2.5, 0.0, 255.0), 2);
        assert_eq!(quantise_one(255.0, 0.0, 255.0), 255);
        assert_eq!(quantise_one(3.0, 3.0, 0.0), 0);
    }

    #[test]
    fn histogram_counts_everything() {
        let levels: Vec<u8> = (0..1003u32).map(|i| (i * 7 % 256) as u8).collect();
        let mut h = [0u64; 256];
        histogram(&levels, &mut h);
        assert_eq!(h.iter().sum::<u64>(), 1003);
        let mut naive = [0u64; 256];
        for &v in &levels {
            naive[v as usize] += 1;
        }
        assert_eq!(h, naive);
    }

    #[test]
    fn min_max_with_remainder() {
        let v: Vec<f32> = (0..19).map(|i| (i as f32 - 7.0) * 1.5).collect();
        assert_eq!(min_max(&v), (-10.5, 16.5));
    }
}
