//! Using layercam as a library: layer an image, keep its text lines, and read them with
//! Tesseract when the `ocr` feature is on.
//!
//!     cargo run --release --example usage [IMAGE]

use layercam::pipeline::lines::LinesMode;
use layercam::{Params, Pipeline};

fn main() -> Result<(), layercam::Error> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fixtures/poster_00.png".into());
    let frame = layercam::read_image(path.as_ref(), 0)?;
    let mut pipeline = Pipeline::new(Params {
        features: true,
        lines: LinesMode::Text,
        ..Params::default()
    })?;
    let layers = pipeline.process(frame.view())?;
    println!(
        "{path}: {} layers, bounds {:?}",
        layers.len(),
        layers.bounds
    );
    let lines = pipeline.lines().to_vec();
    #[cfg(feature = "ocr")]
    {
        let mut reader = layercam::ocr::LineReader::new("chi_sim+eng")?;
        let mut scratch = Vec::new();
        let (readings, _refused) = layercam::ocr::read_lines(
            &mut reader,
            &frame.rgb,
            frame.width,
            frame.height,
            &lines,
            &mut scratch,
        );
        for (line, reading) in lines.iter().zip(readings) {
            let text = reading.map(|r| r.text).unwrap_or_default();
            println!("  {}x{} at {},{}: {text}", line.w, line.h, line.x, line.y);
        }
    }
    #[cfg(not(feature = "ocr"))]
    for line in &lines {
        println!("  {}x{} at {},{}", line.w, line.h, line.x, line.y);
    }
    Ok(())
}
