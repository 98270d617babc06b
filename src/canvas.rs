//! A small software canvas of `0x00RRGGBB` pixels (minifb's format): rectangles, lines and
//! 8×8 bitmap text. Pure: no window, testable on its buffer, exportable as PNG.

use font8x8::legacy::BASIC_LEGACY;

/// Packs an RGB colour.
pub const fn rgb(r: u8, g: u8, b: u8) -> u32 {
    ((r as u32) << 16) | ((g as u32) << 8) | b as u32
}

/// Unpacks an RGB colour.
pub const fn unpack(c: u32) -> [u8; 3] {
    [(c >> 16) as u8, (c >> 8) as u8, c as u8]
}

/// Width and height of one glyph cell at scale 1.
pub const GLYPH: usize = 8;

/// A `width × height` buffer of packed RGB pixels.
#[derive(Debug, Clone, Default)]
pub struct Canvas {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Pixels, row-major.
    pub pixels: Vec<u32>,
}

impl Canvas {
    /// A canvas filled with `color`.
    pub fn new(width: usize, height: usize, color: u32) -> Self {
        Self {
            width,
            height,
            pixels: vec![color; width * height],
        }
    }

    /// Resizes (keeping the allocation when it is large enough) and fills with `color`.
    pub fn reset(&mut self, width: usize, height: usize, color: u32) {
        self.width = width;
        self.height = height;
        self.pixels.clear();
        self.pixels.resize(width * height, color);
    }

    /// The pixel at (x, y), if inside.
    pub fn get(&self, x: usize, y: usize) -> Option<u32> {
        (x < self.width && y < self.height).then(|| self.pixels[y * self.width + x])
    }

    /// Sets one pixel, ignoring points outside.
    #[inline]
    pub fn put(&mut self, x: i64, y: i64, color: u32) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            self.pixels[y as usize * self.width + x as usize] = color;
        }
    }

    /// Fills a rectangle, clipped to the canvas.
    pub fn fill_rect(&mut self, x: i64, y: i64, w: i64, h: i64, color: u32) {
        let x0 = x.clamp(0, self.width as i64) as usize;
        let x1 = (x + w).clamp(0, self.width as i64) as usize;
        let y0 = y.clamp(0, self.height as i64) as usize;
        let y1 = (y + h).clamp(0, self.height as i64) as usize;
        for row in y0..y1 {
            self.pixels[row * self.width + x0..row * self.width + x1].fill(color);
        }
    }

    /// Blends a rectangle towards `color` by `alpha` (0..=255), for translucent panels.
    pub fn shade_rect(&mut self, x: i64, y: i64, w: i64, h: i64, color: u32, alpha: u8) {
        let x0 = x.clamp(0, self.width as i64) as usize;
        let x1 = (x + w).clamp(0, self.width as i64) as usize;
        let y0 = y.clamp(0, self.height as i64) as usize;
        let y1 = (y + h).clamp(0, self.height as i64) as usize;
        for row in y0..y1 {
            for p in &mut self.pixels[row * self.width + x0..row * self.width + x1] {
                *p = blend(*p, color, alpha);
            }
        }
    }

    /// Draws a rectangle outline `t` pixels thick.
    pub fn stroke_rect(&mut self, x: i64, y: i64, w: i64, h: i64, t: i64, color: u32) {
        self.fill_rect(x, y, w, t, color);
        self.fill_rect(x, y + h - t, w, t, color);
        self.fill_rect(x, y, t, h, color);
        self.fill_rect(x + w - t, y, t, h, color);
    }

    /// Draws a line (Bresenham), clipped per pixel.
    pub fn line(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, color: u32) {
        let (mut x, mut y) = (x0, y0);
        let dx = (x1 - x0).abs();
        let dy = -(y1 - y0).abs();
        let sx = if x0 < x1 { 1 } else { -1 };
        let sy = if y0 < y1 { 1 } else { -1 };
        let mut err = dx + dy;
        loop {
            self.put(x, y, color);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// Draws ASCII `text` with the 8×8 font at integer `scale`; returns the width drawn.
    /// Characters outside ASCII are drawn as `?`.
    pub fn text(&mut self, x: i64, y: i64, text: &str, scale: i64, color: u32) -> i64 {
        let mut cx = x;
        for ch in text.chars() {
            let code = if ch.is_ascii() {
                ch as usize
            } else {
                b'?' as usize
            };
            let glyph = BASIC_LEGACY[code];
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits >> col & 1 == 1 {
                        self.fill_rect(
                            cx + col * scale,
                            y + row as i64 * scale,
                            scale,
                            scale,
                            color,
                        );
                    }
                }
            }
            cx += GLYPH as i64 * scale;
        }
        cx - x
    }

    /// Text on a dark translucent box, for overlays readable over any frame.
    pub fn label(&mut self, x: i64, y: i64, text: &str, scale: i64, color: u32) -> i64 {
        let w = text.chars().count() as i64 * GLYPH as i64 * scale;
        self.shade_rect(x - 2, y - 2, w + 4, GLYPH as i64 * scale + 4, 0, 170);
        self.text(x, y, text, scale, color)
    }

    /// The canvas as RGB8 bytes (for PNG).
    pub fn to_rgb8(&self) -> Vec<u8> {
        self.pixels.iter().flat_map(|&p| unpack(p)).collect()
    }
}

/// Mixes `top` over `base` with opacity `alpha` (0..=255).
#[inline]
pub fn blend(base: u32, top: u32, alpha: u8) -> u32 {
    let a = alpha as u32;
    let mix = |s: u32| {
        let b = (base >> s) & 0xFF;
        let t = (top >> s) & 0xFF;
        ((b * (255 - a) + t * a + 127) / 255) << s
    };
    mix(16) | mix(8) | mix(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_clipped() {
        let mut c = Canvas::new(10, 10, 0);
        c.fill_rect(-5, -5, 8, 8, 7);
        assert_eq!(c.get(0, 0), Some(7));
        assert_eq!(c.get(2, 2), Some(7));
        assert_eq!(c.get(3, 3), Some(0));
        c.line(0, 9, 9, 0, 5);
        assert_eq!(c.get(9, 0), Some(5));
        c.put(-1, 100, 9);
        let w = c.text(0, 0, "A", 1, 1);
        assert_eq!(w, 8);
        assert!(c.pixels.contains(&1));
    }

    #[test]
    fn blend_ends() {
        assert_eq!(blend(rgb(10, 20, 30), rgb(200, 100, 0), 0), rgb(10, 20, 30));
        assert_eq!(
            blend(rgb(10, 20, 30), rgb(200, 100, 0), 255),
            rgb(200, 100, 0)
        );
    }
}
