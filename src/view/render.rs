//! Drawing the viewer into a [`Canvas`]: pure, testable without a window.

use crate::canvas::{blend, rgb, Canvas, GLYPH};
use crate::pipeline::lines::TextLine;
use crate::pipeline::Layers;
use crate::plot::DensityPlot;
use crate::runtime::Processed;
use crate::view::font::TextFont;

/// What the main area shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// The chosen layer, white on black.
    #[default]
    Layer,
    /// The source, dimmed, with the chosen layer (and text features) tinted.
    Overlay,
    /// Every layer in its own colour.
    Labels,
    /// All layers side by side, the chosen one framed.
    Mosaic,
    /// The text-feature mask.
    Text,
}

impl View {
    /// All views in Tab order.
    pub const ALL: [View; 5] = [
        View::Layer,
        View::Overlay,
        View::Labels,
        View::Mosaic,
        View::Text,
    ];

    /// The next view (Tab).
    pub fn next(self) -> View {
        let i = Self::ALL.iter().position(|&v| v == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    /// Name as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            View::Layer => "layer",
            View::Overlay => "overlay",
            View::Labels => "labels",
            View::Mosaic => "mosaic",
            View::Text => "text",
        }
    }
}

impl std::str::FromStr for View {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        View::ALL
            .iter()
            .copied()
            .find(|v| v.name() == s)
            .ok_or_else(|| {
                format!("unknown view '{s}' (expected layer, overlay, labels, mosaic or text)")
            })
    }
}

/// Distinct colours for layers (by index, cycling).
pub const PALETTE: [u32; 12] = [
    rgb(230, 25, 75),
    rgb(60, 180, 75),
    rgb(255, 225, 25),
    rgb(0, 130, 200),
    rgb(245, 130, 48),
    rgb(145, 30, 180),
    rgb(70, 240, 240),
    rgb(240, 50, 230),
    rgb(210, 245, 60),
    rgb(250, 190, 212),
    rgb(0, 128, 128),
    rgb(170, 110, 40),
];

/// Tint of the chosen layer in the overlay.
pub const LAYER_TINT: u32 = rgb(255, 150, 0);
/// Tint of text features in the overlay.
pub const TEXT_TINT: u32 = rgb(0, 230, 255);
/// Colour of the text-line boxes.
pub const LINE_BOX: u32 = rgb(255, 0, 255);
/// Colour of a line's text, drawn on a dark box above the line.
pub const LINE_TEXT: u32 = rgb(255, 255, 0);
/// Frame colour of the chosen mosaic tile.
pub const CHOSEN_FRAME: u32 = rgb(255, 200, 0);

/// Everything the renderer needs besides the frame.
#[derive(Debug, Clone)]
pub struct Scene<'a> {
    /// The view.
    pub view: View,
    /// The chosen layer.
    pub layer: usize,
    /// Draw the density strip.
    pub density: bool,
    /// Height of the density strip.
    pub strip_height: usize,
    /// Lines of the on-screen information panel (top left).
    pub info: &'a [String],
    /// A status line in red (camera lost …), drawn when not empty.
    pub status: &'a str,
    /// Help text, drawn over everything when set.
    pub help: Option<&'a [&'a str]>,
    /// Text scale of the overlays.
    pub text_scale: i64,
    /// Text lines to box (in the layer, overlay and text views), if shown.
    pub lines: Option<&'a [TextLine]>,
    /// The lines' text, in the lines' order (empty: not read yet), drawn above each box
    /// when a font is given.
    pub texts: &'a [&'a str],
}

/// Layout of the window buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Width of the buffer.
    pub width: usize,
    /// Height of the frame area.
    pub content_height: usize,
    /// Height of the whole buffer (frame area + strip).
    pub height: usize,
}

impl Layout {
    /// The buffer layout for a frame of `w × h` shown at `scale`.
    pub fn new(w: usize, h: usize, scale: f64, strip: Option<usize>) -> Self {
        let width = ((w as f64 * scale).round() as usize).max(160);
        let content_height = ((h as f64 * scale).round() as usize).max(1);
        Self {
            width,
            content_height,
            height: content_height + strip.unwrap_or(0),
        }
    }
}

/// Samples a map of the label-map size (`l.upscaled_width × l.upscaled_height`: the
/// labels or the text mask) over the area of display pixel (x, y) of a `cw × ch` area: the
/// share (0..=4 of 4 sub-samples) whose value satisfies `hit`. Downscaling the ×2 maps this
/// way keeps edges smooth.
#[inline]
fn coverage(
    map: &[u8],
    l: &Layers,
    (cw, ch): (usize, usize),
    (x, y): (usize, usize),
    hit: impl Fn(u8) -> bool,
) -> u32 {
    let (uw, uh) = (l.upscaled_width, l.upscaled_height);
    let mut n = 0;
    for (ox, oy) in [(1, 1), (3, 1), (1, 3), (3, 3)] {
        let lx = ((4 * x + ox) * uw / (4 * cw)).min(uw - 1);
        let ly = ((4 * y + oy) * uh / (4 * ch)).min(uh - 1);
        if hit(map[ly * uw + lx]) {
            n += 1;
        }
    }
    n
}

fn gray(v: u32) -> u32 {
    let v = v.min(255);
    (v << 16) | (v << 8) | v
}

/// Source pixel at display position (nearest).
#[inline]
fn source_px(p: &Processed, cw: usize, ch: usize, x: usize, y: usize) -> u32 {
    let sx = (x * p.frame_width / cw).min(p.frame_width - 1);
    let sy = (y * p.frame_height / ch).min(p.frame_height - 1);
    let o = (sy * p.frame_width + sx) * 3;
    rgb(p.rgb[o], p.rgb[o + 1], p.rgb[o + 2])
}

/// Draws one frame of the viewer into `c` (sized to `layout`).
///
/// With `font`, each line's text ([`Scene::texts`]) is drawn above its box (below it at
/// the top edge), on the same dark backdrop as the information panel.
pub fn render(
    c: &mut Canvas,
    layout: Layout,
    p: &Processed,
    scene: &Scene<'_>,
    font: Option<&mut TextFont>,
) {
    c.reset(layout.width, layout.height, 0);
    let l = &p.layers;
    let (cw, ch) = (layout.width, layout.content_height);
    let k_layers = l.len();
    let chosen = scene.layer.min(k_layers.saturating_sub(1));
    if k_layers > 0 && !l.labels.is_empty() && !p.rgb.is_empty() {
        match scene.view {
            View::Layer => {
                for y in 0..ch {
                    for x in 0..cw {
                        let n = coverage(&l.labels, l, (cw, ch), (x, y), |v| v as usize == chosen);
                        c.pixels[y * cw + x] = gray(n * 255 / 4);
                    }
                }
            }
            View::Overlay => {
                let text = p.features.is_some() && !p.text_mask.is_empty();
                for y in 0..ch {
                    for x in 0..cw {
                        let src = blend(source_px(p, cw, ch, x, y), 0, 150);
                        let n = coverage(&l.labels, l, (cw, ch), (x, y), |v| v as usize == chosen);
                        let mut px = blend(src, LAYER_TINT, (n * 220 / 4) as u8);
                        if text {
                            let t = coverage(&p.text_mask, l, (cw, ch), (x, y), |v| v != 0);
                            px = blend(px, TEXT_TINT, (t * 230 / 4) as u8);
                        }
                        c.pixels[y * cw + x] = px;
                    }
                }
            }
            View::Labels => {
                for y in 0..ch {
                    for x in 0..cw {
                        let lx =
                            ((2 * x + 1) * l.upscaled_width / (2 * cw)).min(l.upscaled_width - 1);
                        let ly =
                            ((2 * y + 1) * l.upscaled_height / (2 * ch)).min(l.upscaled_height - 1);
                        let k = l.labels[ly * l.upscaled_width + lx] as usize;
                        c.pixels[y * cw + x] = PALETTE[k % PALETTE.len()];
                    }
                }
            }
            View::Mosaic => draw_mosaic(c, l, cw, ch, chosen, scene.text_scale),
            View::Text => {
                if p.features.is_some() && !p.text_mask.is_empty() {
                    for y in 0..ch {
                        for x in 0..cw {
                            let n = coverage(&p.text_mask, l, (cw, ch), (x, y), |v| v != 0);
                            c.pixels[y * cw + x] = gray(n * 255 / 4);
                        }
                    }
                } else {
                    c.label(
                        8,
                        ch as i64 / 2,
                        "text features are off (press f)",
                        scene.text_scale,
                        rgb(255, 200, 0),
                    );
                }
            }
        }
    }
    if let (Some(lines), View::Layer | View::Overlay | View::Text) = (scene.lines, scene.view) {
        if p.frame_width > 0 && p.frame_height > 0 {
            for line in lines {
                let (x, y, w, h) = display_box(p, (cw, ch), line);
                c.stroke_rect(x - 2, y - 2, w + 4, h + 4, 2, LINE_BOX);
            }
            if let Some(font) = font {
                for (line, text) in lines.iter().zip(scene.texts) {
                    if !text.is_empty() {
                        draw_line_text(c, font, display_box(p, (cw, ch), line), text);
                    }
                }
            }
        }
    }
    if scene.density && layout.height > ch {
        let plot = DensityPlot {
            width: cw,
            height: layout.height - ch,
            highlight: Some(chosen),
            text_scale: 1,
        };
        plot.draw(c, 0, ch as i64, l);
    }
    let s = scene.text_scale;
    let line_h = (GLYPH as i64 + 4) * s;
    let mut y = 6;
    for line in scene.info {
        c.label(6, y, line, s, rgb(235, 235, 235));
        y += line_h;
    }
    if !scene.status.is_empty() {
        c.label(6, y, scene.status, s, rgb(255, 80, 80));
    }
    if let Some(help) = scene.help {
        let w = help.iter().map(|l| l.len()).max().unwrap_or(0) as i64 * 8 * s + 24;
        let h = help.len() as i64 * line_h + 20;
        let (x0, y0) = (((cw as i64) - w) / 2, ((ch as i64) - h) / 2);
        c.shade_rect(x0, y0, w, h, 0, 215);
        for (i, line) in help.iter().enumerate() {
            c.text(
                x0 + 12,
                y0 + 10 + i as i64 * line_h,
                line,
                s,
                rgb(255, 255, 255),
            );
        }
    }
}

/// Draws `text` above the display box `(x, y, w, h)` of its line, or below it when there
/// is no room above; the size follows the box's height within 16–28 px.
fn draw_line_text(
    c: &mut Canvas,
    font: &mut TextFont,
    (x, y, w, h): (i64, i64, i64, i64),
    text: &str,
) {
    let short = w.min(h);
    let px = (short as f64 * 0.6).round().clamp(16.0, 28.0) as u16;
    let height = font.line_height(px) + 4;
    let top = if y - 4 - height >= 0 {
        y - 4 - height
    } else {
        y + h + 4
    };
    font.label(c, x - 2, top, text, px, LINE_TEXT);
}

/// Grid of `k` tiles: (columns, rows).
pub fn mosaic_grid(k: usize) -> (usize, usize) {
    let cols = (k as f64).sqrt().ceil().max(1.0) as usize;
    let rows = k.div_ceil(cols).max(1);
    (cols, rows)
}

fn draw_mosaic(c: &mut Canvas, l: &Layers, cw: usize, ch: usize, chosen: usize, s: i64) {
    let k_layers = l.len();
    let (cols, rows) = mosaic_grid(k_layers);
    let gap = 4;
    let tw = (cw.saturating_sub(gap * (cols + 1))) / cols;
    let th = (ch.saturating_sub(gap * (rows + 1))) / rows;
    if tw == 0 || th == 0 {
        return;
    }
    c.fill_rect(0, 0, cw as i64, ch as i64, rgb(40, 40, 48));
    for k in 0..k_layers {
        let (col, row) = (k % cols, k / cols);
        let x0 = gap + col * (tw + gap);
        let y0 = gap + row * (th + gap);
        for y in 0..th {
            for x in 0..tw {
                let n = coverage(&l.labels, l, (tw, th), (x, y), |v| v as usize == k);
                c.pixels[(y0 + y) * cw + x0 + x] = gray(n * 255 / 4);
            }
        }
        if k == chosen {
            c.stroke_rect(
                x0 as i64 - 3,
                y0 as i64 - 3,
                tw as i64 + 6,
                th as i64 + 6,
                3,
                CHOSEN_FRAME,
            );
        }
        c.label(
            x0 as i64 + 4,
            y0 as i64 + 4,
            &format!("{k}: peak {}", l.peaks[k]),
            s,
            PALETTE[k % PALETTE.len()],
        );
    }
}

/// A line's box (source pixels) in display pixels of a `cw × ch` frame area.
fn display_box(p: &Processed, (cw, ch): (usize, usize), l: &TextLine) -> (i64, i64, i64, i64) {
    let sx = |v: u32| (v as usize * cw / p.frame_width) as i64;
    let sy = |v: u32| (v as usize * ch / p.frame_height) as i64;
    let (x0, y0) = (sx(l.x), sy(l.y));
    (x0, y0, sx(l.x + l.w) - x0, sy(l.y + l.h) - y0)
}

/// The text line under display position (x, y) of the frame area, with its number in
/// reading order (the smallest box when boxes nest).
pub fn line_under(p: &Processed, layout: Layout, x: f32, y: f32) -> Option<(usize, TextLine)> {
    if x < 0.0 || y < 0.0 || p.frame_width == 0 || p.frame_height == 0 {
        return None;
    }
    let (x, y) = (x as i64, y as i64);
    p.lines
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            let (bx, by, bw, bh) = display_box(p, (layout.width, layout.content_height), l);
            x >= bx && x < bx + bw && y >= by && y < by + bh
        })
        .min_by_key(|(_, l)| l.w as u64 * l.h as u64)
        .map(|(n, l)| (n, *l))
}

/// Gray level and layer under display position (x, y) of the frame area, if inside.
pub fn probe(l: &Layers, layout: Layout, x: f32, y: f32) -> Option<(u8, usize)> {
    if x < 0.0 || y < 0.0 || l.levels.is_empty() {
        return None;
    }
    let (x, y) = (x as usize, y as usize);
    if x >= layout.width || y >= layout.content_height {
        return None;
    }
    let lx = ((2 * x + 1) * l.upscaled_width / (2 * layout.width)).min(l.upscaled_width - 1);
    let ly =
        ((2 * y + 1) * l.upscaled_height / (2 * layout.content_height)).min(l.upscaled_height - 1);
    let i = ly * l.upscaled_width + lx;
    Some((l.levels[i], l.labels[i] as usize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Params, Pipeline, RgbView};

    /// A frame with three flat bands (dark, mid, light) processed by the pipeline.
    fn processed() -> Processed {
        let (w, h) = (60, 30);
        let mut rgb = Vec::new();
        for _y in 0..h {
            for x in 0..w {
                let v = match x / 20 {
                    0 => 20,
                    1 => 120,
                    _ => 230,
                };
                rgb.extend_from_slice(&[v, v, v]);
            }
        }
        let mut p = Pipeline::new(Params::default()).unwrap();
        let layers = p
            .process(RgbView::new(w, h, &rgb).unwrap())
            .unwrap()
            .clone();
        Processed {
            frame_width: w,
            frame_height: h,
            rgb,
            layers,
            ..Processed::default()
        }
    }

    fn scene(view: View, layer: usize, density: bool) -> Scene<'static> {
        Scene {
            view,
            layer,
            density,
            strip_height: 40,
            info: &[],
            status: "",
            help: None,
            text_scale: 1,
            lines: None,
            texts: &[],
        }
    }

    #[test]
    fn layer_view_is_white_exactly_on_the_chosen_band() {
        let p = processed();
        assert_eq!(p.layers.len(), 3);
        let layout = Layout::new(60, 30, 4.0, None);
        let mut c = Canvas::default();
        render(&mut c, layout, &p, &scene(View::Layer, 1, false), None);
        // the middle band (x 80..160 at scale 4) is white, the others black, away from edges
        for y in [10, 60, 110] {
            assert_eq!(c.get(40, y), Some(0));
            assert_eq!(c.get(120, y), Some(rgb(255, 255, 255)));
            assert_eq!(c.get(200, y), Some(0));
        }
    }

    #[test]
    fn mosaic_has_one_tile_per_layer_and_frames_the_chosen_one() {
        let p = processed();
        let layout = Layout::new(60, 30, 4.0, None);
        let mut c = Canvas::default();
        render(&mut c, layout, &p, &scene(View::Mosaic, 2, false), None);
        assert_eq!(mosaic_grid(3), (2, 2));
        // each of the three tiles shows white where its band is, the fourth cell is empty
        let tile_w = (240 - 4 * 3) / 2;
        let tile_h = (120 - 4 * 3) / 2;
        let white = |x0: usize, y0: usize| {
            (0..tile_h)
                .flat_map(|y| (0..tile_w).map(move |x| (x0 + x, y0 + y)))
                .filter(|&(x, y)| c.get(x, y) == Some(rgb(255, 255, 255)))
                .count()
        };
        let cells = [
            (4, 4),
            (8 + tile_w, 4),
            (4, 8 + tile_h),
            (8 + tile_w, 8 + tile_h),
        ];
        let counts: Vec<usize> = cells.iter().map(|&(x, y)| white(x, y)).collect();
        assert!(counts[..3].iter().all(|&n| n > 100), "{counts:?}");
        assert_eq!(counts[3], 0);
        let framed = c.pixels.iter().filter(|&&px| px == CHOSEN_FRAME).count();
        assert!(framed > 2 * (tile_w + tile_h), "{framed}");
    }

    #[test]
    fn density_strip_is_drawn_below_the_frame_when_on() {
        let p = processed();
        let mut c = Canvas::default();
        let on = Layout::new(60, 30, 4.0, Some(40));
        render(&mut c, on, &p, &scene(View::Layer, 0, true), None);
        assert_eq!(c.height, 160);
        let strip = &c.pixels[120 * c.width..];
        assert!(strip.contains(&crate::plot::CURVE), "curve drawn");
        assert!(strip.contains(&crate::plot::MINIMUM), "bounds drawn");
        assert!(
            strip.contains(&rgb(150, 110, 20)),
            "chosen band highlighted"
        );
        let off = Layout::new(60, 30, 4.0, None);
        render(&mut c, off, &p, &scene(View::Layer, 0, false), None);
        assert_eq!(c.height, 120);
    }

    /// [`processed`] with one 30×10 line of layer 1 at (10, `y`).
    fn processed_with_line(y: u32) -> (Processed, TextLine) {
        let mut p = processed();
        let line = TextLine {
            x: 10,
            y,
            w: 30,
            h: 10,
            layer: 1,
        };
        p.lines = vec![line];
        (p, line)
    }

    #[test]
    fn line_boxes_are_drawn_around_the_line_in_the_box_views_only() {
        let (p, line) = processed_with_line(5);
        let layout = Layout::new(60, 30, 4.0, None);
        let mut c = Canvas::default();
        let lines = [line];
        for view in [View::Layer, View::Overlay, View::Text, View::Labels] {
            let s = Scene {
                lines: Some(&lines),
                ..scene(view, 1, false)
            };
            render(&mut c, layout, &p, &s, None);
            // the box (40..160 x 20..60 at scale 4) is framed 2 pixels outside
            let framed = [(38, 30), (159 + 2, 30), (100, 18), (100, 60 + 1)]
                .iter()
                .all(|&(x, y)| c.get(x, y) == Some(LINE_BOX));
            assert_eq!(framed, view != View::Labels, "{view:?}");
            assert_ne!(c.get(100, 40), Some(LINE_BOX), "inside stays clear");
        }
        let (n, got) = line_under(&p, layout, 100.0, 40.0).unwrap();
        assert_eq!((n, got), (0, line));
        assert!(line_under(&p, layout, 10.0, 10.0).is_none());
    }

    #[test]
    fn line_text_is_drawn_above_its_box_when_a_font_is_given() {
        let Ok(mut font) = TextFont::system_cjk() else {
            eprintln!("skipped: no CJK font through fontconfig");
            return;
        };
        let (p, line) = processed_with_line(15);
        let layout = Layout::new(60, 30, 4.0, None);
        let mut c = Canvas::default();
        let lines = [line];
        let texts = ["SALE 五折"];
        let s = Scene {
            lines: Some(&lines),
            texts: &texts,
            ..scene(View::Layer, 1, false)
        };
        let text_rows = |c: &Canvas| -> Vec<usize> {
            (0..c.height)
                .filter(|&y| (0..c.width).any(|x| c.get(x, y) == Some(LINE_TEXT)))
                .collect()
        };
        render(&mut c, layout, &p, &s, None);
        assert!(text_rows(&c).is_empty(), "no font, no text");
        render(&mut c, layout, &p, &s, Some(&mut font));
        let rows = text_rows(&c);
        assert!(!rows.is_empty(), "text drawn");
        // the box's top is at 15 * 4 = 60: the text sits above it
        assert!(*rows.last().unwrap() < 58, "rows {rows:?}");
        // unread lines (empty text) get no label
        let s = Scene { texts: &[""], ..s };
        render(&mut c, layout, &p, &s, Some(&mut font));
        assert!(text_rows(&c).is_empty());
    }

    #[test]
    fn probe_reports_level_and_layer_under_the_cursor() {
        let p = processed();
        let layout = Layout::new(60, 30, 4.0, None);
        let (_, k) = probe(&p.layers, layout, 200.0, 60.0).unwrap();
        assert_eq!(k, 2);
        assert!(probe(&p.layers, layout, 500.0, 60.0).is_none());
    }
}
