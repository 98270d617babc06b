//! Character F1 of Tesseract on posters: on the whole image, on the text-feature mask, on
//! layercam's text lines (each way of feeding a line), and on the true text boxes (README,
//! "Reading the text").
//!
//!     cargo run --release --example ocr_quality -- DIR [--lang chi_sim+eng] [--feeds]
//!
//! `DIR` holds `poster_NN.png` with `poster_NN.json` (texts with `text` and `bbox_xywh`).
//! The character F1 of a frame compares the multiset of the non-space characters read over
//! the whole frame with those of its true texts: precision = matched / read, recall =
//! matched / true. Prints a markdown table, a row per poster and the total. `--feeds` adds
//! a column per way of feeding a line to the engine (the source crop, scaled ×2, the line's
//! layer black on white at the label map's scale, readings of confidence ≥ 60 only).

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use layercam::ocr::{line_input, LineReader, Reading};
use layercam::output::line_crop;
use layercam::pipeline::lines::LinesMode;
use layercam::{read_image, Frame, Params, Pipeline};

/// Matched, read and true character counts.
#[derive(Default, Clone, Copy)]
struct Chars {
    matched: usize,
    read: usize,
    truth: usize,
}

impl Chars {
    fn of(read: &str, truth: &str) -> Chars {
        let count = |s: &str| {
            let mut m: HashMap<char, usize> = HashMap::new();
            for c in s.chars().filter(|c| !c.is_whitespace()) {
                *m.entry(c).or_default() += 1;
            }
            m
        };
        let (r, t) = (count(read), count(truth));
        Chars {
            matched: r
                .iter()
                .map(|(c, n)| (*n).min(*t.get(c).unwrap_or(&0)))
                .sum(),
            read: r.values().sum(),
            truth: t.values().sum(),
        }
    }
    fn add(&mut self, o: Chars) {
        self.matched += o.matched;
        self.read += o.read;
        self.truth += o.truth;
    }
    fn f1(&self) -> f64 {
        common::prf(self.matched, self.read, self.truth).2
    }
}

/// The source crop of `(x, y, w, h)`, scaled up by `up` (nearest), RGB.
fn source_crop(f: &Frame, (x0, y0, w, h): (usize, usize, usize, usize), up: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(w * h * 3 * up * up);
    for y in 0..h * up {
        for x in 0..w * up {
            let i = ((y0 + y / up) * f.width + x0 + x / up) * 3;
            out.extend_from_slice(&f.rgb[i..i + 3]);
        }
    }
    out
}

fn text_of(r: layercam::Result<Reading>) -> String {
    r.map(|r| r.text).unwrap_or_default()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data/stills"));
    let mut lang = layercam::ocr::DEFAULT_LANGUAGES.to_string();
    let mut feeds = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lang" => lang = args.next().expect("languages"),
            "--feeds" => feeds = true,
            other => panic!("unknown option {other}"),
        }
    }
    let mut reader = LineReader::new(&lang).expect("Tesseract");
    let mut p = Pipeline::new(Params {
        features: true,
        lines: LinesMode::Text,
        ..Params::default()
    })
    .expect("pipeline");
    let metas = common::poster_metas(&dir);
    let names = [
        "image",
        "text mask",
        "lines only (source crop)",
        "source crop",
        "source crop ×2",
        "layer crop (label-map scale)",
        "true boxes",
        "--ocr, confidence ≥ 60",
        "--ocr (lines + the page's lines outside them)",
    ];
    let shown: Vec<usize> = if feeds {
        vec![0, 1, 8, 2, 4, 5, 7, 6]
    } else {
        vec![0, 1, 8, 2, 6]
    };
    print!("| poster |");
    for &k in &shown {
        print!(" {} |", names[k]);
    }
    println!();
    println!("|---|{}", "---|".repeat(shown.len()));
    let mut totals = vec![Chars::default(); names.len()];
    let mut input = Vec::new();
    for meta in &metas {
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(meta).expect("json")).expect("JSON");
        let image = dir.join(m["image"].as_str().expect("image"));
        let truth: String = m["texts"]
            .as_array()
            .expect("texts")
            .iter()
            .map(|t| t["text"].as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
            .join(" ");
        let frame = read_image(&image, 0).expect("image");
        p.process(frame.view()).expect("pipeline");
        let (w, h) = (frame.width, frame.height);
        let mut read = vec![String::new(); names.len()];
        read[0] = text_of(reader.read_page(&frame.rgb, w, h, 3));
        let (mw, mh) = p.features().size();
        let ink: Vec<u8> = p.features().mask().iter().map(|&v| 255 - v).collect();
        read[1] = text_of(reader.read_page(&ink, mw, mh, 1));
        let lines = p.lines().to_vec();
        let mut read_lines = Vec::new();
        for l in &lines {
            let (iw, ih) = line_input(&frame.rgb, w, h, l, &mut input);
            let r = reader.read_line(&input, iw, ih, 3);
            if let Ok(r) = &r {
                if r.confidence >= 60.0 {
                    read[7] += &(r.text.clone() + " ");
                }
                if !r.text.is_empty() {
                    read_lines.push(*l);
                }
            }
            read[2] += &(text_of(r) + " ");
            if feeds {
                let c = line_crop(l, w, h);
                let s1 = source_crop(&frame, c, 1);
                read[3] += &(text_of(reader.read_line(&s1, c.2, c.3, 3)) + " ");
                let s2 = source_crop(&frame, c, 2);
                read[4] += &(text_of(reader.read_line(&s2, 2 * c.2, 2 * c.3, 3)) + " ");
                // the layer at the label map's scale without further upscaling
                let z = p.layers().upscaled_width / w;
                let (mx, my, cw, ch) = (c.0 * z, c.1 * z, c.2 * z, c.3 * z);
                let uw = p.layers().upscaled_width;
                let crop: Vec<u8> = (my..my + ch)
                    .flat_map(|y| {
                        p.layers().labels[y * uw + mx..y * uw + mx + cw]
                            .iter()
                            .map(|&v| if v == l.layer { 0 } else { 255 })
                            .collect::<Vec<u8>>()
                    })
                    .collect();
                read[5] += &(text_of(reader.read_line(&crop, cw, ch, 1)) + " ");
            }
        }
        // the page's own lines where layercam found none
        read[8] = read[2].clone();
        if let Ok(found) =
            layercam::ocr::read_outside_lines(&mut reader, &frame.rgb, w, h, &read_lines)
        {
            for (_, r) in found {
                read[8] += &(r.text + " ");
            }
        }
        for t in m["texts"].as_array().expect("texts") {
            let b = &t["bbox_xywh"];
            let [x, y, bw, bh] = [0, 1, 2, 3].map(|k| b[k].as_u64().unwrap_or(0) as u32);
            let line = layercam::pipeline::lines::TextLine {
                x,
                y,
                w: bw,
                h: bh,
                layer: 0,
            };
            let c = line_crop(&line, w, h);
            let s = source_crop(&frame, c, 1);
            read[6] += &(text_of(reader.read_line(&s, c.2, c.3, 3)) + " ");
        }
        print!("| {} |", image.file_name().unwrap().to_string_lossy());
        for &k in &shown {
            let c = Chars::of(&read[k], &truth);
            totals[k].add(c);
            print!(" {:.2} |", c.f1());
        }
        println!();
    }
    print!("| **all** |");
    for &k in &shown {
        print!(" **{:.2}** |", totals[k].f1());
    }
    println!();
}
