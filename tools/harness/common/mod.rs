//! Test frames shared by the benches and the timing examples (included with
//! `#[path]`/`mod common;`; not an example of its own).

/// `fixtures/poster_02.png` (a still of ../shared/data) resized to `w × h` (RGB8), the
/// benches' frame.
#[allow(dead_code)]
pub fn poster_frame(w: usize, h: usize) -> Vec<u8> {
    let src = layercam::read_image(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/poster_02.png"),
        0,
    )
    .expect("fixtures/poster_02.png");
    let img = image::RgbImage::from_raw(src.width as u32, src.height as u32, src.rgb)
        .expect("an RGB8 buffer of the image's size");
    image::imageops::resize(
        &img,
        w as u32,
        h as u32,
        image::imageops::FilterType::Triangle,
    )
    .into_raw()
}

/// A synthetic `w × h` RGB8 pattern (gradients and stripes), no file needed.
#[allow(dead_code)]
pub fn synthetic_frame(w: usize, h: usize) -> Vec<u8> {
    (0..w * h * 3)
        .map(|i| (((i / 3) % w * 255 / w) ^ ((i / 3 / w) * 7 % 64) ^ (i % 3 * 40)) as u8)
        .collect()
}

/// Pixel counts of a mask against the truth.
#[allow(dead_code)]
#[derive(Default, Clone, Copy)]
pub struct Counts {
    pub tp: u64,
    pub fp: u64,
    pub fn_: u64,
}

#[allow(dead_code)]
impl Counts {
    pub fn add(&mut self, o: Counts) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }
    pub fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
    pub fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_).max(1) as f64
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// Compares a predicate on the label map (upscaled `z` times) against a source-resolution
/// truth mask (a source pixel is predicted when at least half of its `z × z` upscaled
/// pixels are).
#[allow(dead_code)]
pub fn score(w: usize, h: usize, z: usize, truth: &[u8], hit: impl Fn(usize) -> bool) -> Counts {
    let uw = z * w;
    let mut c = Counts::default();
    for y in 0..h {
        for x in 0..w {
            let i = z * y * uw + z * x;
            let n = (0..z * z)
                .filter(|&k| hit(i + (k / z) * uw + k % z))
                .count();
            let pred = 2 * n >= z * z;
            let t = truth[y * w + x] > 127;
            match (pred, t) {
                (true, true) => c.tp += 1,
                (true, false) => c.fp += 1,
                (false, true) => c.fn_ += 1,
                _ => {}
            }
        }
    }
    c
}

/// A box `[x, y, w, h]`.
pub type Rect = [f64; 4];

/// Intersection over union of two boxes.
#[allow(dead_code)]
pub fn iou(a: &Rect, b: &Rect) -> f64 {
    let ix = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
    let iy = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
    if ix <= 0.0 || iy <= 0.0 {
        return 0.0;
    }
    let inter = ix * iy;
    inter / (a[2] * a[3] + b[2] * b[3] - inter)
}

/// Found boxes matched one to one to the true ones, greedily by IoU (the best pair first),
/// a match needing IoU ≥ 0.5: the number of matches.
#[allow(dead_code)]
pub fn matches(found: &[Rect], truth: &[Rect]) -> usize {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, f) in found.iter().enumerate() {
        for (j, t) in truth.iter().enumerate() {
            let v = iou(f, t);
            if v >= 0.5 {
                pairs.push((v, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut used_f, mut used_t) = (vec![false; found.len()], vec![false; truth.len()]);
    let mut n = 0;
    for (_, i, j) in pairs {
        if !used_f[i] && !used_t[j] {
            used_f[i] = true;
            used_t[j] = true;
            n += 1;
        }
    }
    n
}

/// Precision, recall and F of `m` matches among `found` boxes and `truth` texts.
#[allow(dead_code)]
pub fn prf(m: usize, found: usize, truth: usize) -> (f64, f64, f64) {
    let p = m as f64 / found.max(1) as f64;
    let r = m as f64 / truth.max(1) as f64;
    let f = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    (p, r, f)
}

/// The texts' boxes of a stills JSON (`texts[].bbox_xywh`).
#[allow(dead_code)]
pub fn text_boxes(meta: &serde_json::Value) -> Vec<Rect> {
    meta["texts"]
        .as_array()
        .expect("texts")
        .iter()
        .map(|t| {
            let b = &t["bbox_xywh"];
            [0, 1, 2, 3].map(|k| b[k].as_f64().expect("number"))
        })
        .collect()
}

/// The `poster_NN.json` files of `dir`, in name order.
#[allow(dead_code)]
pub fn poster_metas(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut metas: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .expect("folder")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("poster_"))
        })
        .collect();
    metas.sort();
    metas
}
