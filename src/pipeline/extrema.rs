//! Stage 5: density extrema, layer bounds and peaks.
//!
//! Strict sign changes of `Δ[i] = D[i+1] − D[i]`: minima `Δ[i] < 0 < Δ[i+1]`, maxima
//! `Δ[i] > 0 > Δ[i+1]`. The seed reports `i`, one less than the true grid extremum; that is
//! [`Convention::Seed`] (the default). Bounds are `[0] + minima + [256]`, peaks the maxima,
//! with 0 prepended / 255 appended when the first / last interval has no maximum.

use super::density::LEVELS;

/// How an extremum is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Convention {
    /// Index `i` of the difference (one less than the true extremum): the seed's numbers.
    #[default]
    Seed,
    /// The true grid extremum `i + 1`.
    True,
}

impl std::str::FromStr for Convention {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "seed" => Ok(Self::Seed),
            "true" => Ok(Self::True),
            _ => Err(format!(
                "unknown extremum convention '{s}' (expected seed or true)"
            )),
        }
    }
}

/// Finds the strict minima and maxima of `density`, reported in `convention`.
pub fn find_extrema(
    density: &[f64; LEVELS],
    convention: Convention,
    minima: &mut Vec<u16>,
    maxima: &mut Vec<u16>,
) {
    minima.clear();
    maxima.clear();
    let shift = match convention {
        Convention::Seed => 0,
        Convention::True => 1,
    };
    for i in 0..LEVELS - 2 {
        let a = density[i + 1] - density[i];
        let b = density[i + 2] - density[i + 1];
        if a < 0.0 && b > 0.0 {
            minima.push(i as u16 + shift);
        } else if a > 0.0 && b < 0.0 {
            maxima.push(i as u16 + shift);
        }
    }
}

/// Index of the largest density in `lo..hi` (the first one on ties).
fn argmax(density: &[f64; LEVELS], lo: usize, hi: usize) -> u16 {
    let mut best = lo;
    for x in lo..hi {
        if density[x] > density[best] {
            best = x;
        }
    }
    best as u16
}

/// Builds the layer bounds (`K + 1` values, strictly increasing from 0 to 256) and peaks
/// (`K` values, each inside its layer) with the seed's rule.
///
/// Where the seed's rule does not give one peak inside each interval (no maximum at all, a
/// plateau that hides an extremum), every bound interval is a layer and its peak is the
/// level of the largest density inside it: the seed would crash or leave pixels unlabelled.
/// A minimum at 0 (possible in the seed convention) would make an empty first interval; it
/// is dropped, which leaves every pixel's layer and peak as the seed has them.
pub fn bounds_and_peaks(
    density: &[f64; LEVELS],
    minima: &[u16],
    maxima: &[u16],
    bounds: &mut Vec<u16>,
    peaks: &mut Vec<u16>,
) {
    bounds.clear();
    peaks.clear();
    bounds.push(0);
    bounds.extend(minima.iter().copied().filter(|&m| m > 0));
    bounds.push(LEVELS as u16);
    peaks.extend_from_slice(maxima);
    if !peaks.is_empty() {
        if bounds[1] < peaks[0] {
            peaks.insert(0, 0);
        }
        if bounds[bounds.len() - 2] > peaks[peaks.len() - 1] {
            peaks.push(LEVELS as u16 - 1);
        }
    }
    let rule_holds = peaks.len() + 1 == bounds.len()
        && peaks
            .iter()
            .enumerate()
            .all(|(k, &p)| bounds[k] <= p && p < bounds[k + 1]);
    if !rule_holds {
        peaks.clear();
        for k in 0..bounds.len() - 1 {
            let p = argmax(density, bounds[k] as usize, bounds[k + 1] as usize);
            peaks.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dens(f: impl Fn(f64) -> f64) -> [f64; LEVELS] {
        let mut d = [0.0; LEVELS];
        for (i, v) in d.iter_mut().enumerate() {
            *v = f(i as f64);
        }
        d
    }

    fn gauss(x: f64, m: f64, s: f64) -> f64 {
        (-(x - m) * (x - m) / (2.0 * s * s)).exp()
    }

    #[test]
    fn bimodal_seed_convention() {
        let d = dens(|x| gauss(x, 50.0, 10.0) + gauss(x, 200.0, 10.0));
        let (mut mi, mut ma) = (vec![], vec![]);
        find_extrema(&d, Convention::Seed, &mut mi, &mut ma);
        assert_eq!(ma, vec![49, 199]);
        assert_eq!(mi, vec![124]);
        find_extrema(&d, Convention::True, &mut mi, &mut ma);
        assert_eq!(ma, vec![50, 200]);
        assert_eq!(mi, vec![125]);
        let (mut b, mut p) = (vec![], vec![]);
        bounds_and_peaks(&d, &mi, &ma, &mut b, &mut p);
        assert_eq!(b, vec![0, 125, 256]);
        assert_eq!(p, vec![50, 200]);
    }

    #[test]
    fn edge_peaks_are_added() {
        // decreasing from 0, a minimum, a maximum, a minimum, increasing to 255
        let d = dens(|x| gauss(x, 0.0, 20.0) + gauss(x, 128.0, 15.0) + gauss(x, 255.0, 20.0));
        let (mut mi, mut ma) = (vec![], vec![]);
        find_extrema(&d, Convention::Seed, &mut mi, &mut ma);
        assert_eq!(ma.len(), 1);
        assert_eq!(mi.len(), 2);
        let (mut b, mut p) = (vec![], vec![]);
        bounds_and_peaks(&d, &mi, &ma, &mut b, &mut p);
        assert_eq!(p, vec![0, ma[0], 255]);
        assert_eq!(b.len(), 4);
    }

    #[test]
    fn monotone_density_is_one_layer() {
        let d = dens(|x| 1000.0 - x);
        let (mut mi, mut ma) = (vec![], vec![]);
        find_extrema(&d, Convention::Seed, &mut mi, &mut ma);
        assert!(mi.is_empty() && ma.is_empty());
        let (mut b, mut p) = (vec![], vec![]);
        bounds_and_peaks(&d, &mi, &ma, &mut b, &mut p);
        assert_eq!(b, vec![0, 256]);
        assert_eq!(p, vec![0]);
    }

    #[test]
    fn plateau_falls_back_to_interval_argmax() {
        // two maxima, the minimum between them hidden by a flat stretch
        let mut d = dens(|x| gauss(x, 60.0, 10.0) + gauss(x, 180.0, 10.0));
        for v in d.iter_mut().take(131).skip(100) {
            *v = 0.01;
        }
        let (mut mi, mut ma) = (vec![], vec![]);
        find_extrema(&d, Convention::Seed, &mut mi, &mut ma);
        let (mut b, mut p) = (vec![], vec![]);
        bounds_and_peaks(&d, &mi, &ma, &mut b, &mut p);
        assert_eq!(p.len() + 1, b.len());
        for k in 0..p.len() {
            assert!(b[k] <= p[k] && p[k] < b[k + 1]);
        }
    }

    #[test]
    fn minimum_at_zero_is_dropped() {
        let mut d = [0.0; LEVELS];
        d[0] = 5.0;
        d[1] = 1.0;
        for (i, v) in d.iter_mut().enumerate().skip(2) {
            *v = gauss(i as f64, 100.0, 30.0) * 10.0 + 1.0;
        }
        let (mut mi, mut ma) = (vec![], vec![]);
        find_extrema(&d, Convention::Seed, &mut mi, &mut ma);
        assert_eq!(mi[0], 0);
        let (mut b, mut p) = (vec![], vec![]);
        bounds_and_peaks(&d, &mi, &ma, &mut b, &mut p);
        assert!(b.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(p.len() + 1, b.len());
    }
}
