//! The demo sequence bundled into the binary: 16 frames of a synthetic poster clip (a camera
//! pan with a scene cut), replayed when no camera is found.

use super::{FrameSource, Next, SourceKind};
use crate::error::Result;
use crate::frame::decode_image;

macro_rules! demo_frames {
    ($($n:literal),*) => {
        [$(include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo/demo_", $n, ".jpg")).as_slice()),*]
    };
}

/// The encoded demo frames (JPEG).
pub static DEMO_FRAMES: [&[u8]; 16] = demo_frames!(
    "00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15"
);

/// Frame rate of the demo clip.
pub const DEMO_FPS: f64 = 10.0;

/// Replays the bundled demo frames.
#[derive(Debug, Default)]
pub struct DemoSource {
    pos: usize,
}

impl DemoSource {
    /// A demo source at its first frame.
    pub fn new() -> Self {
        Self::default()
    }
}

impl FrameSource for DemoSource {
    fn next(&mut self) -> Result<Next> {
        let Some(bytes) = DEMO_FRAMES.get(self.pos) else {
            return Ok(Next::End);
        };
        let mut f = decode_image(bytes, self.pos as u64)?;
        f.origin = format!("demo#{}", self.pos);
        self.pos += 1;
        Ok(Next::Frame(f))
    }

    fn kind(&self) -> SourceKind {
        SourceKind::Replay
    }

    fn fps(&self) -> Option<f64> {
        Some(DEMO_FPS)
    }

    fn len_hint(&self) -> Option<u64> {
        Some(DEMO_FRAMES.len() as u64)
    }

    fn rewind(&mut self) -> Result<bool> {
        self.pos = 0;
        Ok(true)
    }

    fn describe(&self) -> String {
        format!("bundled demo ({} frames)", DEMO_FRAMES.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_demo_frames_decode() {
        let mut s = DemoSource::new();
        let mut n = 0;
        while let Next::Frame(f) = s.next().unwrap() {
            assert_eq!((f.width, f.height), (640, 480));
            n += 1;
        }
        assert_eq!(n, 16);
    }
}
