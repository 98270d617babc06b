//! Property tests: arbitrary small frames and parameters never panic, and the layers are
//! always a partition of the gray levels with one peak inside each layer.

use layercam::{Convention, Params, Pipeline, RgbView};
use proptest::prelude::*;

fn params() -> impl Strategy<Value = Params> {
    (
        0.001f64..3.0,
        1usize..=4,
        1u32..=4,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(factor, zoom, power, true_conv, features)| Params {
            factor,
            zoom,
            power,
            convention: if true_conv {
                Convention::True
            } else {
                Convention::Seed
            },
            features,
            threads: 1,
            ..Params::default()
        })
}

fn frame() -> impl Strategy<Value = (usize, usize, Vec<u8>)> {
    (1usize..=14, 1usize..=14, 0u8..4).prop_flat_map(|(w, h, kind)| {
        let n = w * h * 3;
        let pixels = match kind {
            // anything
            0 => proptest::collection::vec(any::<u8>(), n).boxed(),
            // two gray levels
            1 => proptest::collection::vec(prop_oneof![Just(20u8), Just(230u8)], n).boxed(),
            // constant
            2 => any::<u8>().prop_map(move |v| vec![v; n]).boxed(),
            // few colours (posters)
            _ => proptest::collection::vec(prop_oneof![Just(0u8), Just(128), Just(255)], n).boxed(),
        };
        pixels.prop_map(move |p| (w, h, p))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn layers_always_partition_the_frame((w, h, rgb) in frame(), p in params()) {
        let mut pipeline = Pipeline::new(p).unwrap();
        let l = pipeline.process(RgbView::new(w, h, &rgb).unwrap()).unwrap();
        let k = l.len();
        prop_assert!(k >= 1);
        prop_assert_eq!(l.bounds.len(), k + 1);
        prop_assert_eq!(l.bounds[0], 0);
        prop_assert_eq!(l.bounds[k], 256);
        prop_assert!(l.bounds.windows(2).all(|b| b[0] < b[1]), "bounds {:?}", l.bounds);
        for i in 0..k {
            prop_assert!(l.bounds[i] <= l.peaks[i] && l.peaks[i] < l.bounds[i + 1],
                "peak {} outside [{}, {})", l.peaks[i], l.bounds[i], l.bounds[i + 1]);
        }
        let n = (w * p.zoom * h * p.zoom) as u64;
        prop_assert_eq!(l.labels.len() as u64, n);
        prop_assert_eq!(l.counts.iter().sum::<u64>(), n);
        // every pixel in exactly one layer: the layer its level falls in
        for (&lab, &lev) in l.labels.iter().zip(&l.levels) {
            let lab = lab as usize;
            prop_assert!(lab < k);
            prop_assert!(l.bounds[lab] <= lev as u16 && (lev as u16) < l.bounds[lab + 1]);
        }
        if p.features {
            let f = pipeline.features().counts();
            prop_assert_eq!(f.kept_per_layer.len(), k);
            prop_assert!(f.pixels <= f.pooled && f.pooled <= n);
        }
    }
}

#[test]
fn zero_sized_frames_are_typed_errors() {
    assert!(matches!(
        RgbView::new(0, 5, &[]),
        Err(layercam::Error::EmptyFrame { .. })
    ));
    assert!(matches!(
        RgbView::new(3, 0, &[]),
        Err(layercam::Error::EmptyFrame { .. })
    ));
    assert!(matches!(
        RgbView::new(2, 2, &[0; 5]),
        Err(layercam::Error::BufferSize { .. })
    ));
}

#[test]
fn frames_over_the_pixel_limit_are_refused() {
    let mut p = Pipeline::new(Params {
        max_pixels: 100,
        ..Params::default()
    })
    .unwrap();
    let rgb = vec![0u8; 11 * 10 * 3];
    let e = p.process(RgbView::new(11, 10, &rgb).unwrap()).unwrap_err();
    assert!(e.to_string().contains("more than the limit of 100"), "{e}");
}

#[test]
fn extreme_aspect_frames_give_layers() {
    let mut p = Pipeline::new(Params::default()).unwrap();
    for (w, h) in [(2000, 1), (1, 2000), (3000, 2)] {
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
        let l = p.process(RgbView::new(w, h, &rgb).unwrap()).unwrap();
        assert_eq!(l.counts.iter().sum::<u64>(), (4 * w * h) as u64);
    }
}

#[test]
fn invalid_parameters_are_typed_errors() {
    for p in [
        Params {
            factor: 0.0,
            ..Params::default()
        },
        Params {
            factor: f64::NAN,
            ..Params::default()
        },
        Params {
            zoom: 0,
            ..Params::default()
        },
        Params {
            power: 9,
            ..Params::default()
        },
        Params {
            bandwidth_tolerance: -1.0,
            ..Params::default()
        },
    ] {
        assert!(matches!(
            Pipeline::new(p),
            Err(layercam::Error::InvalidParam { .. })
        ));
    }
}
