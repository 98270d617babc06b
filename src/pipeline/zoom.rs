//! Stage 2: integer upscale with a cubic B-spline, exactly like `scipy.ndimage.zoom(y, z)`
//! (order 3, prefilter on, `grid_mode=False`, mirror boundaries).
//!
//! The prefilter and the interpolation run in `f64` (as scipy does), the result is stored as
//! `f32` and not clamped: ringing overshoots around sharp edges, and that overshoot sets the
//! normalisation of the next stage. Output index `i` of an axis of length `n` samples the
//! input at `x = i·(n−1)/(m−1)` (`m = z·n`, corners aligned).

/// The single pole of the cubic B-spline prefilter, `√3 − 2` (as scipy computes it).
fn pole() -> f64 {
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
        }
    }
}

/// The prefilter gain `(1 − z)(1 − 1/z)`, computed as scipy does (≈ 6).
fn gain(z: f64) -> f64 {
    (1.0 - z) * (1.0 - 1.0 / z)
}

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
    for i in 1..n - 1 {
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

/// Prefilters every column of a row-major `rows × width` array, working a row at a time
/// (the recursion runs down the rows, each step a vector operation over the width).
/// `acc` is scratch of at least `width` values.
pub fn prefilter_columns(c: &mut [f64], width: usize, rows: usize, acc: &mut Vec<f64>) {
    let n = rows;
    if n < 2 {
        return;
    }
    let z = pole();
    let g = gain(z);
    for v in c.iter_mut() {
        *v *= g;
    }
    let z_n1 = z.powi(n as i32 - 1);
    acc.clear();
    acc.extend_from_slice(&c[..width]);
    {
        let last = &c[(n - 1) * width..n * width];
        for (a, l) in acc.iter_mut().zip(last) {
            *a += z_n1 * l;
        }
    }
    let mut zi = z;
    for i in 1..n - 1 {
        let ri = &c[i * width..(i + 1) * width];
        let rm = &c[(n - 1 - i) * width..(n - i) * width];
        for ((a, x), y) in acc.iter_mut().zip(ri).zip(rm) {
            *a += zi * (x + z_n1 * y);
        }
        zi *= z;
    }
    let denom = 1.0 - z_n1 * z_n1;
    for (dst, a) in c[..width].iter_mut().zip(acc.iter()) {
        *dst = a / denom;
    }
    for i in 1..n {
        let (head, tail) = c.split_at_mut(i * width);
        let prev = &head[(i - 1) * width..];
        for (x, p) in tail[..width].iter_mut().zip(prev) {
            *x += z * p;
        }
    }
    {
        let (head, tail) = c.split_at_mut((n - 1) * width);
        let prev = &head[(n - 2) * width..];
        for (x, p) in tail.iter_mut().zip(prev) {
            *x = (z * p + *x) * z / (z * z - 1.0);
        }
    }
    for i in (0..n - 1).rev() {
        let (head, tail) = c.split_at_mut((i + 1) * width);
        let cur = &mut head[i * width..];
        let next = &tail[..width];
        for (x, nx) in cur.iter_mut().zip(next) {
            *x = z * (nx - *x);
        }
    }
}

/// Evaluates one row of coefficients at the horizontal taps.
#[inline]
pub fn interpolate_row(coeff: &[f64], taps: &AxisTaps, out: &mut [f64]) {
    for ((o, idx), w) in out.iter_mut().zip(&taps.index).zip(&taps.weight) {
        *o = w[0] * coeff[idx[0] as usize]
            + w[1] * coeff[idx[1] as usize]
            + w[2] * coeff[idx[2] as usize]
            + w[3] * coeff[idx[3] as usize];
    }
}

/// Combines four horizontally interpolated rows with vertical weights into one output row.
#[inline]
pub fn combine_rows(rows: [&[f64]; 4], w: &[f64; 4], out: &mut [f32]) {
    let [r0, r1, r2, r3] = rows;
    for ((((o, a), b), c), d) in out.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
        *o = (w[0] * a + w[1] * b + w[2] * c + w[3] * d) as f32;
    }
}

/// A reusable ×z cubic B-spline zoom: owns the taps (rebuilt only when the size changes)
/// and the `f64` scratch planes.
#[derive(Debug, Default)]
pub struct Zoom {
    rows: AxisTaps,
    cols: AxisTaps,
    acc: Vec<f64>,
    tmp: Vec<f64>,
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
    /// spline coefficients afterwards) into `out` (`z·width × z·height`).
    pub fn run(
        &mut self,
        coeff: &mut [f64],
        width: usize,
        height: usize,
        z: usize,
        out: &mut [f32],
    ) {
        let (ow, oh) = Self::output_size(width, height, z);
        debug_assert_eq!(coeff.len(), width * height);
        debug_assert_eq!(out.len(), ow * oh);
        if self.rows.n != width || self.rows.m != ow {
            self.rows.rebuild(width, ow);
        }
        if self.cols.n != height || self.cols.m != oh {
            self.cols.rebuild(height, oh);
        }
        // prefilter: axis 0 (down the columns) then axis 1 (along the rows), as scipy
        prefilter_columns(coeff, width, height, &mut self.acc);
        for row in coeff.chunks_exact_mut(width) {
            prefilter_line(row);
        }
        self.tmp.resize(height * ow, 0.0);
        for (src, dst) in coeff.chunks_exact(width).zip(self.tmp.chunks_exact_mut(ow)) {
            interpolate_row(src, &self.rows, dst);
        }
        let tmp = &self.tmp;
        for ((dst, idx), w) in out
            .chunks_exact_mut(ow)
            .zip(&self.cols.index)
            .zip(&self.cols.weight)
        {
            let row = |k: usize| &tmp[idx[k] as usize * ow..(idx[k] as usize + 1) * ow];
            combine_rows([row(0), row(1), row(2), row(3)], w, dst);
        }
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
        prefilter_columns(&mut cols, w, h, &mut Vec::new());
        for x in 0..w {
            let mut line: Vec<f64> = (0..h).map(|y| data[y * w + x]).collect();
            prefilter_line(&mut line);
            for y in 0..h {
                assert!((line[y] - cols[y * w + x]).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn constant_stays_constant() {
        let (w, h) = (6, 4);
        let mut c = vec![42.0; w * h];
        let mut out = vec![0.0f32; 4 * w * h];
        Zoom::new().run(&mut c, w, h, 2, &mut out);
        for v in out {
            assert!((v - 42.0).abs() < 1e-4);
        }
    }
}
