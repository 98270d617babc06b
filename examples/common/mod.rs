//! Test frames shared by the benches and the timing examples (included with
//! `#[path]`/`mod common;`; not an example of its own).

/// `fixtures/poster_02.png` (a still of ../shared/data) resized to `w × h` (RGB8), the
/// benches' frame.
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
