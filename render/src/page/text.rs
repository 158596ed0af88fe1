//! Text drawing with the DejaVu fonts shipped in the `dejavu` crate.
//!
//! Input: a string, a top-left position, an em size in pixels (optionally
//! different along x and y, for a printer that scales the page unevenly) and
//! a [`LabelFont`]. Output: glyph coverage added to a [`Canvas`] and the ink
//! bounding box `(x0, y0, x1, y1)` in pixels.

use super::raster::Canvas;
use super::style::LabelFont;
use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use std::sync::OnceLock;

fn font(which: LabelFont) -> Option<&'static FontRef<'static>> {
    static FONTS: OnceLock<Vec<Option<FontRef<'static>>>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            LabelFont::ALL
                .iter()
                .map(|f| FontRef::try_from_slice(f.bytes()).ok())
                .collect()
        })
        .get(which.index())?
        .as_ref()
}

/// Draws `text` in DejaVu Sans with its top-left corner at `(x, y)`. Returns
/// the ink box, if anything was drawn.
pub fn draw_text(
    canvas: &mut Canvas,
    text: &str,
    x: f32,
    y: f32,
    size_px: f32,
) -> Option<(f32, f32, f32, f32)> {
    draw_text_with(
        canvas,
        text,
        (x, y),
        PxScale::from(size_px.max(1.0)),
        LabelFont::Sans,
    )
}

/// The advance width of `text` in pixels (pen travel, kerning included).
pub fn text_width(text: &str, scale: PxScale, which: LabelFont) -> f32 {
    let Some(font) = font(which) else {
        return 0.0;
    };
    let scaled = font.as_scaled(scale);
    let mut pen = 0.0;
    let mut prev = None;
    for ch in text.chars() {
        let gid = font.glyph_id(ch);
        if let Some(p) = prev {
            pen += scaled.kern(p, gid);
        }
        prev = Some(gid);
        pen += scaled.h_advance(gid);
    }
    pen
}

/// Draws `text` in `which` font at `scale` with its top-left corner at
/// `(x, y)` (the top of the font's ascent). Returns the ink box, if anything
/// was drawn.
pub fn draw_text_with(
    canvas: &mut Canvas,
    text: &str,
    (x, y): (f32, f32),
    scale: PxScale,
    which: LabelFont,
) -> Option<(f32, f32, f32, f32)> {
    let font = font(which)?;
    let scaled = font.as_scaled(scale);
    let baseline = y + scaled.ascent();
    let mut pen = x;
    let mut prev = None;
    let mut bbox: Option<(f32, f32, f32, f32)> = None;
    for ch in text.chars() {
        let gid = font.glyph_id(ch);
        if let Some(p) = prev {
            pen += scaled.kern(p, gid);
        }
        prev = Some(gid);
        let glyph = gid.with_scale_and_position(scale, point(pen, baseline));
        pen += scaled.h_advance(gid);
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let b = outline.px_bounds();
        let (bx, by) = (b.min.x as i64, b.min.y as i64);
        outline.draw(|gx, gy, c| {
            if c > 0.02 {
                canvas.add(bx + gx as i64, by + gy as i64, c);
            }
        });
        bbox = Some(match bbox {
            None => (b.min.x, b.min.y, b.max.x, b.max.y),
            Some((a, bb, c, d)) => (
                a.min(b.min.x),
                bb.min(b.min.y),
                c.max(b.max.x),
                d.max(b.max.y),
            ),
        });
    }
    bbox
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_ink_inside_its_box() {
        let mut c = Canvas::new(120, 40);
        let b = draw_text(&mut c, "aVR", 5.0, 5.0, 20.0).expect("font renders");
        assert!(
            b.0 >= 4.0 && b.1 >= 4.0 && b.2 < 80.0 && b.3 < 35.0,
            "{b:?}"
        );
        let ink: f32 = c.ink.iter().sum();
        assert!(ink > 30.0, "ink {ink}");
        // Nothing far outside the box.
        for y in 0..40 {
            for x in 0..120 {
                if c.ink[y * 120 + x] > 0.0 {
                    assert!(x as f32 >= b.0 - 1.0 && x as f32 <= b.2 + 1.0);
                    assert!(y as f32 >= b.1 - 1.0 && y as f32 <= b.3 + 1.0);
                }
            }
        }
    }
}
