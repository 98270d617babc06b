//! Helpers shared by the integration tests: fixture paths and golden files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// `../shared/seed/cn.jpg`, the published demo image (not committed).
pub fn seed_image() -> PathBuf {
    root().join("..").join("shared").join("seed").join("cn.jpg")
}

/// `../shared/data`, the project's test data (not committed).
pub fn shared_data() -> PathBuf {
    root().join("..").join("shared").join("data")
}

/// Reads a golden JSON file from `fixtures/golden/`.
pub fn golden(name: &str) -> serde_json::Value {
    let path = fixture(&format!("golden/{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read golden {}: {e}", path.display()));
    serde_json::from_str(&text).expect("golden is JSON")
}

/// Reads an 8-bit gray PNG into (width, height, bytes).
pub fn gray_png(path: &Path) -> (usize, usize, Vec<u8>) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .to_luma8();
    (img.width() as usize, img.height() as usize, img.into_raw())
}

/// The golden value as a Vec<u64>.
pub fn u64s(v: &serde_json::Value) -> Vec<u64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("integer"))
        .collect()
}

/// Says loudly that a test input is missing and whether that is allowed.
///
/// On CI (`CI=true`) a missing seed image is an error: the parity proof must run there.
pub fn require_or_skip(path: &Path, what: &str) -> bool {
    if path.exists() {
        return true;
    }
    let msg = format!(
        "\n\n*** {what} NOT FOUND at {} ***\n*** this test did NOT check anything; put the file there to run it ***\n",
        path.display()
    );
    if std::env::var("LAYERCAM_REQUIRE_SEED").is_ok_and(|v| v == "1") {
        panic!("{msg}(LAYERCAM_REQUIRE_SEED=1 makes this an error)");
    }
    eprintln!("{msg}");
    false
}

/// A valid 16×16 JPEG whose frame header then claims `width` × `height` pixels.
pub fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(16, 16, image::Rgb([200, 10, 10]));
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut bytes)
        .encode_image(&img)
        .unwrap();
    // baseline frame header: FF C0, length (2), precision (1), height (2), width (2)
    let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}
