//! Text in any script on the viewer's canvas: an outline font with CJK coverage, found
//! through fontconfig (Noto Sans CJK from `fonts-noto-cjk`, say), rasterised with
//! ab_glyph. Rasterised glyphs are cached per character and size, so a line's text costs
//! one blend per covered pixel once its glyphs are known.

use crate::canvas::{blend, Canvas};
use crate::error::{Error, Result};
use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A character every CJK font has: a font without it cannot draw Chinese text.
const CJK_PROBE: char = '中';

/// Glyphs kept before the cache starts over (a few screens of distinct characters).
const CACHE_LIMIT: usize = 4096;

/// One rasterised glyph: coverage (0–255) of a `w × h` box whose top left is `(left, top)`
/// from the pen position on the baseline.
#[derive(Debug, Clone, Default)]
struct Raster {
    left: i64,
    top: i64,
    w: usize,
    h: usize,
    advance: f32,
    coverage: Vec<u8>,
}

/// An outline font and its glyph cache.
///
/// # Examples
///
/// ```no_run
/// use layercam::canvas::{rgb, Canvas};
/// use layercam::view::font::TextFont;
///
/// let mut font = TextFont::system_cjk()?;
/// let mut canvas = Canvas::new(320, 40, 0);
/// let width = font.draw(&mut canvas, 4, 4, "限时优惠 50%", 24, rgb(255, 255, 0));
/// assert!(width > 0);
/// # Ok::<(), layercam::Error>(())
/// ```
pub struct TextFont {
    font: FontVec,
    path: PathBuf,
    cache: HashMap<(char, u16), Raster>,
}

impl std::fmt::Debug for TextFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextFont")
            .field("path", &self.path)
            .field("cached", &self.cache.len())
            .finish()
    }
}

/// Asks fontconfig (`fc-match`) for its best sans-serif font for simplified Chinese:
/// the font file and its index in a collection.
///
/// # Errors
///
/// [`Error::Font`] when `fc-match` cannot be run or names no file.
pub fn fontconfig_cjk() -> Result<(PathBuf, u32)> {
    let out = std::process::Command::new("fc-match")
        .args(["--format=%{file}\n%{index}\n", "sans-serif:lang=zh-cn"])
        .output()
        .map_err(|e| Error::Font(format!("cannot run fontconfig's fc-match: {e}")))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.lines();
    let file = parts.next().unwrap_or("").trim();
    if !out.status.success() || file.is_empty() {
        return Err(Error::Font(
            "fontconfig names no font; install fonts-noto-cjk".into(),
        ));
    }
    let index = parts
        .next()
        .and_then(|i| i.trim().parse().ok())
        .unwrap_or(0);
    Ok((PathBuf::from(file), index))
}

impl TextFont {
    /// Loads face `index` of the font file at `path` (TrueType, OpenType or a collection).
    ///
    /// # Errors
    ///
    /// [`Error::Font`] when the file cannot be read or holds no such face.
    pub fn load(path: &Path, index: u32) -> Result<Self> {
        let data = std::fs::read(path)
            .map_err(|e| Error::Font(format!("cannot read {}: {e}", path.display())))?;
        let font = FontVec::try_from_vec_and_index(data, index)
            .map_err(|_| Error::Font(format!("{} (face {index}) is not a font", path.display())))?;
        Ok(Self {
            font,
            path: path.to_path_buf(),
            cache: HashMap::new(),
        })
    }

    /// The font fontconfig chooses for Chinese, if it can draw Chinese.
    ///
    /// # Errors
    ///
    /// [`Error::Font`] when fontconfig finds no font, or only one without CJK characters
    /// (install `fonts-noto-cjk`).
    pub fn system_cjk() -> Result<Self> {
        let (path, index) = fontconfig_cjk()?;
        let font = Self::load(&path, index)?;
        if !font.covers(CJK_PROBE) {
            return Err(Error::Font(format!(
                "no CJK font found through fontconfig (it offers {}); install fonts-noto-cjk",
                path.display()
            )));
        }
        Ok(font)
    }

    /// The font file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the font has a glyph for `c`.
    pub fn covers(&self, c: char) -> bool {
        self.font.glyph_id(c).0 != 0
    }

    fn raster(&mut self, c: char, px: u16) -> &Raster {
        if self.cache.len() >= CACHE_LIMIT && !self.cache.contains_key(&(c, px)) {
            self.cache.clear();
        }
        let font = &self.font;
        self.cache.entry((c, px)).or_insert_with(|| {
            let scaled = font.as_scaled(PxScale::from(px as f32));
            let id = font.glyph_id(c);
            let advance = scaled.h_advance(id);
            let glyph = id.with_scale_and_position(px as f32, ab_glyph::point(0.0, 0.0));
            let Some(outline) = font.outline_glyph(glyph) else {
                return Raster {
                    advance,
                    ..Raster::default()
                };
            };
            let b = outline.px_bounds();
            let (w, h) = (b.width() as usize, b.height() as usize);
            let mut coverage = vec![0u8; w * h];
            outline.draw(|x, y, v| {
                if let Some(p) = coverage.get_mut(y as usize * w + x as usize) {
                    *p = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
                }
            });
            Raster {
                left: b.min.x as i64,
                top: b.min.y as i64,
                w,
                h,
                advance,
                coverage,
            }
        })
    }

    /// Ascent of the font at `px` pixels: the baseline's distance below the text's top.
    fn ascent(&self, px: u16) -> i64 {
        self.font
            .as_scaled(PxScale::from(px as f32))
            .ascent()
            .ceil() as i64
    }

    /// Height of a line of text at `px` pixels (ascent + descent).
    pub fn line_height(&self, px: u16) -> i64 {
        let s = self.font.as_scaled(PxScale::from(px as f32));
        (s.ascent() - s.descent()).ceil() as i64
    }

    /// Width of `text` at `px` pixels.
    pub fn measure(&mut self, text: &str, px: u16) -> i64 {
        text.chars()
            .map(|c| self.raster(c, px).advance)
            .sum::<f32>()
            .ceil() as i64
    }

    /// Draws `text` at `px` pixels with its top left at `(x, y)`, anti-aliased over the
    /// canvas; returns the width drawn. Characters the font lacks are drawn as its
    /// missing-glyph box.
    pub fn draw(&mut self, c: &mut Canvas, x: i64, y: i64, text: &str, px: u16, color: u32) -> i64 {
        let baseline = y + self.ascent(px);
        let mut pen = x as f32;
        for ch in text.chars() {
            let r = self.raster(ch, px);
            let (gx, gy) = (pen.round() as i64 + r.left, baseline + r.top);
            for row in 0..r.h {
                for col in 0..r.w {
                    let a = r.coverage[row * r.w + col];
                    if a == 0 {
                        continue;
                    }
                    let (px, py) = (gx + col as i64, gy + row as i64);
                    if px < 0 || py < 0 {
                        continue;
                    }
                    if let Some(under) = c.get(px as usize, py as usize) {
                        c.put(px, py, blend(under, color, a));
                    }
                }
            }
            pen += r.advance;
        }
        (pen - x as f32).ceil() as i64
    }

    /// Draws `text` on a dark translucent box (the viewer's label style); returns the box's
    /// width and height.
    pub fn label(
        &mut self,
        c: &mut Canvas,
        x: i64,
        y: i64,
        text: &str,
        px: u16,
        color: u32,
    ) -> (i64, i64) {
        let (w, h) = (self.measure(text, px) + 8, self.line_height(px) + 4);
        c.shade_rect(x, y, w, h, 0, 190);
        self.draw(c, x + 4, y + 2, text, px, color);
        (w, h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canvas::rgb;

    fn font() -> Option<TextFont> {
        match TextFont::system_cjk() {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("skipped: {e}");
                None
            }
        }
    }

    #[test]
    fn draws_chinese_and_latin_inside_the_measured_width() {
        let Some(mut f) = font() else { return };
        for text in ["限时优惠", "Open 9-18"] {
            let mut c = Canvas::new(300, 60, 0);
            let px = 24;
            let w = f.measure(text, px);
            let drawn = f.draw(&mut c, 10, 10, text, px, rgb(255, 255, 255));
            assert_eq!(drawn, w);
            let lit: Vec<(usize, usize)> = (0..c.height)
                .flat_map(|y| (0..c.width).map(move |x| (x, y)))
                .filter(|&(x, y)| c.get(x, y).is_some_and(|p| p != 0))
                .collect();
            assert!(lit.len() > 100, "{text}: {} pixels", lit.len());
            let (x0, x1) = (
                lit.iter().map(|p| p.0).min().unwrap(),
                lit.iter().map(|p| p.0).max().unwrap(),
            );
            let (y0, y1) = (
                lit.iter().map(|p| p.1).min().unwrap(),
                lit.iter().map(|p| p.1).max().unwrap(),
            );
            assert!(
                x0 >= 10 && x1 <= 10 + w as usize + 1,
                "{text}: x {x0}..{x1}, w {w}"
            );
            assert!(
                y0 >= 10 && y1 < 10 + f.line_height(px) as usize,
                "{text}: y {y0}..{y1}"
            );
        }
    }

    #[test]
    fn labels_draw_full_coverage_pixels_in_the_exact_colour() {
        let Some(mut f) = font() else { return };
        let mut c = Canvas::new(200, 50, rgb(200, 200, 200));
        let colour = rgb(255, 230, 0);
        let (w, h) = f.label(&mut c, 0, 0, "Sale 中文", 20, colour);
        assert!(w > 40 && h >= 20, "{w}x{h}");
        assert!(c.pixels.contains(&colour));
        // the backdrop darkens what is under the text
        assert!(c.get(1, 1).unwrap() < rgb(100, 100, 100));
    }

    #[test]
    fn the_cache_stays_bounded() {
        let Some(mut f) = font() else { return };
        for c in (0x4e00u32..0x4e00 + CACHE_LIMIT as u32 + 10).filter_map(char::from_u32) {
            f.raster(c, 12);
        }
        assert!(f.cache.len() <= CACHE_LIMIT);
    }

    #[test]
    fn a_missing_file_is_a_font_error() {
        let e = TextFont::load(Path::new("/nonexistent/font.ttc"), 0).unwrap_err();
        assert!(matches!(e, Error::Font(_)), "{e}");
    }
}
