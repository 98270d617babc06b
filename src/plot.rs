//! The density plot: the kernel density over gray levels with the minima and maxima marked
//! and the layer bands shaded (the post's figure 6). Drawn on a [`Canvas`], so the same code
//! makes the `<stem>.density.png` file and the viewer's live density strip.

use crate::canvas::{blend, rgb, Canvas};
use crate::pipeline::Layers;

/// Colour of a minimum marker (layer bound).
pub const MINIMUM: u32 = rgb(230, 60, 60);
/// Colour of a maximum marker (peak).
pub const MAXIMUM: u32 = rgb(70, 140, 255);
/// Colour of the density curve.
pub const CURVE: u32 = rgb(240, 240, 240);

/// Settings of a density plot.
#[derive(Debug, Clone, Copy)]
pub struct DensityPlot {
    /// Width of the image.
    pub width: usize,
    /// Height of the image.
    pub height: usize,
    /// Layer to highlight, if any.
    pub highlight: Option<usize>,
    /// Scale of the text.
    pub text_scale: i64,
}

impl Default for DensityPlot {
    fn default() -> Self {
        Self {
            width: 768,
            height: 320,
            highlight: None,
            text_scale: 1,
        }
    }
}

/// An RGB image of a plot.
#[derive(Debug, Clone)]
pub struct PlotImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// RGB8 pixels.
    pub rgb: Vec<u8>,
}

impl DensityPlot {
    /// Renders the plot of `layers` as an RGB image.
    pub fn render(&self, layers: &Layers) -> PlotImage {
        let mut c = Canvas::new(self.width, self.height, rgb(24, 24, 28));
        self.draw(&mut c, 0, 0, layers);
        PlotImage {
            width: self.width,
            height: self.height,
            rgb: c.to_rgb8(),
        }
    }

    /// Draws the plot into `c` at (x0, y0), `self.width × self.height`.
    pub fn draw(&self, c: &mut Canvas, x0: i64, y0: i64, l: &Layers) {
        let (w, h) = (self.width as i64, self.height as i64);
        let s = self.text_scale;
        let text_h = 8 * s + 4;
        let (left, right, top, bottom) = (4, 4, text_h + 2, text_h + 2);
        let pw = (w - left - right).max(1);
        let ph = (h - top - bottom).max(1);
        let px = |level: f64| x0 + left + (level / 255.0 * (pw - 1) as f64).round() as i64;
        c.shade_rect(x0, y0, w, h, rgb(16, 16, 20), 200);
        if l.is_empty() {
            return;
        }
        // layer bands, alternating shades, the highlighted one brighter
        for k in 0..l.len() {
            let (lo, hi) = (l.bounds[k] as f64, l.bounds[k + 1] as f64 - 1.0);
            let band = if Some(k) == self.highlight {
                rgb(150, 110, 20)
            } else if k % 2 == 0 {
                rgb(40, 40, 48)
            } else {
                rgb(52, 52, 62)
            };
            let xa = px(lo);
            let xb = px(hi.max(lo)) + 1;
            c.fill_rect(xa, y0 + top, (xb - xa).max(1), ph, band);
        }
        let max = l.density.iter().copied().fold(0.0, f64::max);
        let py = |d: f64| {
            let f = if max > 0.0 { d / max } else { 0.0 };
            y0 + top + ph - 1 - (f * (ph - 1) as f64).round() as i64
        };
        for &b in &l.bounds[1..l.bounds.len() - 1] {
            let x = px(b as f64);
            c.line(x, y0 + top, x, y0 + top + ph - 1, MINIMUM);
        }
        for &p in &l.maxima {
            let x = px(p as f64);
            let y = py(l.density[p as usize]);
            c.fill_rect(x - 2, y - 2, 5, 5, MAXIMUM);
        }
        for &m in &l.minima {
            let x = px(m as f64);
            let y = py(l.density[m as usize]);
            c.fill_rect(x - 2, y - 2, 5, 5, MINIMUM);
        }
        let mut prev = (px(0.0), py(l.density[0]));
        for x in 1..256 {
            let p = (px(x as f64), py(l.density[x]));
            c.line(prev.0, prev.1, p.0, p.1, CURVE);
            prev = p;
        }
        // fill under the curve lightly, every pixel column (density interpolated)
        let (xa, xb) = (px(0.0), px(255.0));
        for cx in xa..=xb {
            let level = (cx - xa) as f64 / (xb - xa).max(1) as f64 * 255.0;
            let (i, t) = (level.floor() as usize, level.fract());
            let d = l.density[i.min(255)] * (1.0 - t) + l.density[(i + 1).min(255)] * t;
            for y in py(d) + 1..y0 + top + ph {
                if let Some(v) = c.get(cx as usize, y as usize) {
                    c.put(cx, y, blend(v, CURVE, 40));
                }
            }
        }
        let title = format!(
            "density  h={:.3}  sigma={:.3}  K={}  minima {:?}  maxima {:?}",
            l.bandwidth,
            l.sigma,
            l.len(),
            l.minima,
            l.maxima
        );
        c.text(x0 + left, y0 + 2, &title, s, CURVE);
        for v in [0u32, 64, 128, 192, 255] {
            let x = px(v as f64);
            c.text(
                x - 4 * s,
                y0 + h - text_h + 2,
                &v.to_string(),
                s,
                rgb(170, 170, 170),
            );
        }
    }
}
