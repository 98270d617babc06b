//! The cubic B-spline's maths: its pole and gain, the mirror boundary, the taps of an
//! axis, and the prefilter of one line (the reference every blocked form is tested against).

/// The single pole of the cubic B-spline prefilter, `√3 − 2` (as scipy computes it).
pub(super) fn pole() -> f64 {
    3.0_f64.sqrt() - 2.0
}

/// Mirrors an index into `0..n` with whole-sample symmetry (`c[-k] = c[k]`,
/// `c[n-1+k] = c[n-1-k]`), repeating for indices more than one period away.
#[inline]
pub fn mirror(i: isize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n as isize - 1);
    let mut k = i.rem_euclid(period);
    if k > n as isize - 1 {
        k = period - k;
    }
    k as usize
}

/// Interpolation taps of one axis: for each output index, four input indices (already
/// mirrored) and their cubic B-spline weights. Depends only on the axis length and zoom,
/// so it is computed once per frame size.
#[derive(Debug, Clone, Default)]
pub struct AxisTaps {
    /// Input length.
    pub n: usize,
    /// Output length.
    pub m: usize,
    /// Input indices of the four taps, per output index.
    pub index: Vec<[u32; 4]>,
    /// Weights of the four taps, per output index.
    pub weight: Vec<[f64; 4]>,
    /// `f = floor(x)` per output index: the taps are `f − 1 … f + 2` (mirrored), which is
    /// `f … f + 3` in a row padded with one mirrored value in front.
    pub start: Vec<u32>,
}

impl AxisTaps {
    /// Taps for an axis of `n` samples zoomed to `m` samples.
    pub fn new(n: usize, m: usize) -> Self {
        let mut taps = Self::default();
        taps.rebuild(n, m);
        taps
    }

    /// Recomputes the taps in place (keeps the allocations).
    pub fn rebuild(&mut self, n: usize, m: usize) {
        self.n = n;
        self.m = m;
        self.index.clear();
        self.weight.clear();
        self.start.clear();
        let ratio = if m > 1 {
            (n as f64 - 1.0) / (m as f64 - 1.0)
        } else {
            0.0
        };
        for i in 0..m {
            let x = i as f64 * ratio;
            let f = x.floor();
            let t = x - f;
            let z = 1.0 - t;
            let w = [
                z * z * z / 6.0,
                (t * t * (t - 2.0) * 3.0 + 4.0) / 6.0,
                (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0,
                t * t * t / 6.0,
            ];
            let f = f as isize;
            let idx = [
                mirror(f - 1, n) as u32,
                mirror(f, n) as u32,
                mirror(f + 1, n) as u32,
                mirror(f + 2, n) as u32,
            ];
            self.index.push(idx);
            self.weight.push(w);
            self.start.push(f.min(n as isize - 1) as u32);
        }
    }
}

/// The prefilter gain `(1 − z)(1 − 1/z)`, computed as scipy does (≈ 6).
pub(super) fn gain(z: f64) -> f64 {
    (1.0 - z) * (1.0 - 1.0 / z)
}

/// Terms of the causal initialisation sum kept: `|z|^64 ≈ 1e-37`, so later terms are far
/// below the last bit of the sum (scipy sums every term; the result is the same number).
pub const INIT_TERMS: usize = 64;

/// Prefilters one contiguous line in place (gain, causal and anti-causal recursion with
/// mirror initialisation). A line of one sample is left unchanged.
pub fn prefilter_line(c: &mut [f64]) {
    let n = c.len();
    if n < 2 {
        return;
    }
    let z = pole();
    let g = gain(z);
    for v in c.iter_mut() {
        *v *= g;
    }
    // causal initialisation (mirror)
    let z_n1 = z.powi(n as i32 - 1);
    let mut c0 = c[0] + z_n1 * c[n - 1];
    let mut zi = z;
    for i in 1..(n - 1).min(INIT_TERMS) {
        c0 += zi * (c[i] + z_n1 * c[n - 1 - i]);
        zi *= z;
    }
    c[0] = c0 / (1.0 - z_n1 * z_n1);
    for i in 1..n {
        c[i] += z * c[i - 1];
    }
    // anti-causal initialisation (mirror)
    c[n - 1] = (z * c[n - 2] + c[n - 1]) * z / (z * z - 1.0);
    for i in (0..n - 1).rev() {
        c[i] = z * (c[i + 1] - c[i]);
    }
}
