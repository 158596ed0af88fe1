//! Handwritten-style clutter: pen scribbles and short notes over the margins
//! or across the grid, as people mark printed ECGs.
//!
//! Input: a [`Clutter`] setting, the page size and scale, and a seed. Output:
//! ink on a separate [`Canvas`] (composited in the pen colour, not labelled
//! in the lead mask) and one [`ClutterMark`] per stroke or note with its box
//! in pixels (before distortions).

use super::marks::PxBox;
use super::raster::Canvas;
use super::style::LabelFont;
use super::text;
use ab_glyph::PxScale;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// How much clutter to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clutter {
    /// Free pen strokes (curls, underlines, check marks).
    pub scribbles: u32,
    /// Handwritten-style words ("NSR?", "repeat", dates...).
    pub notes: u32,
    /// Pen colour.
    pub pen_color: [u8; 3],
}

/// What was drawn where.
#[derive(Clone, Debug, PartialEq)]
pub struct ClutterMark {
    /// `scribble` or `note`.
    pub kind: &'static str,
    /// The note's text (empty for a scribble).
    pub text: String,
    /// Ink box, pixels.
    pub bbox: PxBox,
}

const WORDS: [&str; 14] = [
    "NSR",
    "AF?",
    "repeat",
    "ok",
    "see prev",
    "STEMI?",
    "12/03",
    "Dr K",
    "LBBB?",
    "copy",
    "bed 4",
    "T inv",
    "urgent",
    "no change",
];

/// A point near the page's edge (70 %) or anywhere on it.
fn spot(rng: &mut ChaCha8Rng, w: f64, h: f64) -> (f64, f64) {
    if rng.random_bool(0.7) {
        let (x, y) = (rng.random_range(0.0..w), rng.random_range(0.0..h));
        match rng.random_range(0..4) {
            0 => (x, rng.random_range(0.0..0.08 * h)),
            1 => (x, rng.random_range(0.9 * h..h)),
            2 => (rng.random_range(0.0..0.06 * w), y),
            _ => (rng.random_range(0.94 * w..w), y),
        }
    } else {
        (
            rng.random_range(0.1 * w..0.9 * w),
            rng.random_range(0.1 * h..0.9 * h),
        )
    }
}

fn bbox(pts: &[(f64, f64)], pad: f64) -> PxBox {
    pts.iter().fold(
        (f64::MAX, f64::MAX, f64::MIN, f64::MIN),
        |(a, b, c, d), &(x, y)| {
            (
                a.min(x - pad),
                b.min(y - pad),
                c.max(x + pad),
                d.max(y + pad),
            )
        },
    )
}

/// Draws the clutter of a `w` x `h` pixel page at `(px_per_mm_x, px_per_mm_y)`.
pub fn draw(
    canvas: &mut Canvas,
    c: &Clutter,
    (px_per_mm_x, px_per_mm_y): (f64, f64),
    seed: u64,
) -> Vec<ClutterMark> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5C21_BB1E);
    let (w, h) = (canvas.width as f64, canvas.height as f64);
    let mm = px_per_mm_x.min(px_per_mm_y);
    let mut out = Vec::new();
    for _ in 0..c.scribbles {
        let (mut x, mut y) = spot(&mut rng, w, h);
        let mut heading: f64 = rng.random_range(0.0..std::f64::consts::TAU);
        let mut turn: f64 = rng.random_range(-0.3..0.3);
        let steps = rng.random_range(20..80);
        let step = rng.random_range(0.6..1.4) * mm;
        let mut pts = vec![(x, y)];
        for _ in 0..steps {
            turn = (turn + rng.random_range(-0.15..0.15)).clamp(-0.6, 0.6);
            heading += turn;
            x = (x + heading.cos() * step).clamp(0.0, w - 1.0);
            y = (y + heading.sin() * step).clamp(0.0, h - 1.0);
            pts.push((x, y));
        }
        let pen = rng.random_range(0.25..0.6) * mm;
        canvas.polyline(&pts, pen, 0);
        out.push(ClutterMark {
            kind: "scribble",
            text: String::new(),
            bbox: bbox(&pts, pen / 2.0 + 1.0),
        });
    }
    for _ in 0..c.notes {
        let word = WORDS[rng.random_range(0..WORDS.len())];
        let size = rng.random_range(3.5..7.0);
        let (x, y) = spot(&mut rng, w * 0.9, h * 0.95);
        let scale = PxScale {
            x: (size * px_per_mm_x) as f32,
            y: (size * px_per_mm_y) as f32,
        };
        // Letter by letter on a wobbly baseline, as a hand writes.
        let mut pen = x;
        let mut b: Option<PxBox> = None;
        for ch in word.chars() {
            let s = ch.to_string();
            let dy = rng.random_range(-0.5..0.5) * mm;
            let drawn = text::draw_text_with(
                canvas,
                &s,
                (pen as f32, (y + dy) as f32),
                scale,
                LabelFont::SansOblique,
            );
            if let Some((x0, y0, x1, y1)) = drawn {
                let (x0, y0, x1, y1) = (x0 as f64, y0 as f64, x1 as f64, y1 as f64);
                b = Some(match b {
                    None => (x0, y0, x1, y1),
                    Some((a, bb, cc, d)) => (a.min(x0), bb.min(y0), cc.max(x1), d.max(y1)),
                });
            }
            pen += text::text_width(&s, scale, LabelFont::SansOblique) as f64
                * rng.random_range(0.85..1.05);
        }
        if let Some(bbox) = b {
            out.push(ClutterMark {
                kind: "note",
                text: word.to_string(),
                bbox,
            });
        }
    }
    out
}
