//! Glyph templates and glyph matching.
//!
//! A glyph (one connected component of ink, or a template rendered from a
//! font) is reduced to a fixed-size [`Glyph`]: its ink strength resampled
//! into an `N x N` cell, aspect preserved (the longer side fills the cell,
//! the shorter one is centred), then made zero-mean and unit-norm, so that
//! the dot product of two glyphs is their normalized correlation. The
//! aspect ratio is kept because it tells `I` from `L` and `-` from `1`.
//!
//! Templates are rendered once per process ([`templates`], a `OnceLock`)
//! with `ab_glyph` from the DejaVu fonts the `dejavu` crate bundles: Sans,
//! Sans Bold, Sans Oblique, Sans Condensed, Sans Mono (regular and bold),
//! Serif and Serif Bold, for the characters lead names use
//! ([`ALPHABET`]). A glyph's score for a character is its best correlation
//! with any of that character's templates.

use ab_glyph::{Font, FontRef, PxScale};
use std::sync::OnceLock;

/// Side of the normalized glyph cell, pixels.
pub const N: usize = 16;

/// The characters lead names are spelled with.
pub const ALPHABET: [char; 14] = [
    'I', 'V', 'a', 'A', 'R', 'L', 'F', '1', '2', '3', '4', '5', '6', '-',
];

/// A glyph resampled into the `N x N` cell, zero-mean and unit-norm, with
/// its aspect ratio (width / height).
#[derive(Clone, Debug)]
pub struct Glyph {
    pub cells: Vec<f32>,
    pub aspect: f32,
}

impl Glyph {
    /// Normalizes a glyph given as ink strength (`0..1`, row-major `w x h`).
    /// `None` for an empty or uniform glyph.
    pub fn from_ink(ink: &[f32], w: usize, h: usize) -> Option<Glyph> {
        if w == 0 || h == 0 || ink.len() != w * h {
            return None;
        }
        let side = w.max(h) as f32;
        let scale = side / N as f32; // source pixels per cell
                                     // offsets centre the shorter side in the cell
        let ox = (side - w as f32) / 2.0;
        let oy = (side - h as f32) / 2.0;
        let mut cells = vec![0f32; N * N];
        // area sampling: each cell averages sub-samples of the source
        let sub = (scale.ceil() as usize).clamp(2, 8);
        for cy in 0..N {
            for cx in 0..N {
                let mut acc = 0.0;
                for sy in 0..sub {
                    let y = (cy as f32 + (sy as f32 + 0.5) / sub as f32) * scale - oy;
                    for sx in 0..sub {
                        let x = (cx as f32 + (sx as f32 + 0.5) / sub as f32) * scale - ox;
                        acc += sample(ink, w, h, x, y);
                    }
                }
                cells[cy * N + cx] = acc / (sub * sub) as f32;
            }
        }
        let mean = cells.iter().sum::<f32>() / cells.len() as f32;
        let mut norm = 0.0;
        for c in cells.iter_mut() {
            *c -= mean;
            norm += *c * *c;
        }
        if norm <= 1e-9 {
            return None;
        }
        let inv = 1.0 / norm.sqrt();
        cells.iter_mut().for_each(|c| *c *= inv);
        Some(Glyph {
            cells,
            aspect: w as f32 / h as f32,
        })
    }

    /// Normalized correlation with another glyph, lowered when their aspect
    /// ratios differ by more than a third.
    pub fn similarity(&self, other: &Glyph) -> f32 {
        let corr: f32 = self
            .cells
            .iter()
            .zip(&other.cells)
            .map(|(a, b)| a * b)
            .sum();
        let ratio = (self.aspect / other.aspect).ln().abs();
        corr - 0.5 * (ratio - 0.29).max(0.0)
    }
}

/// Bilinear sample of the ink at a (fractional) pixel position; 0 outside.
fn sample(ink: &[f32], w: usize, h: usize, x: f32, y: f32) -> f32 {
    let (x, y) = (x - 0.5, y - 0.5);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |xi: f32, yi: f32| -> f32 {
        if xi < 0.0 || yi < 0.0 || xi >= w as f32 || yi >= h as f32 {
            0.0
        } else {
            ink[yi as usize * w + xi as usize]
        }
    };
    at(x0, y0) * (1.0 - fx) * (1.0 - fy)
        + at(x0 + 1.0, y0) * fx * (1.0 - fy)
        + at(x0, y0 + 1.0) * (1.0 - fx) * fy
        + at(x0 + 1.0, y0 + 1.0) * fx * fy
}

/// One character's templates, one per font that has it.
pub struct CharTemplates {
    pub ch: char,
    pub glyphs: Vec<Glyph>,
}

/// The fonts templates are rendered from.
fn font_bytes() -> [&'static [u8]; 8] {
    [
        dejavu::sans::regular(),
        dejavu::sans::bold(),
        dejavu::sans::oblique(),
        dejavu::sans_condensed::regular(),
        dejavu::sans_mono::regular(),
        dejavu::sans_mono::bold(),
        dejavu::serif::regular(),
        dejavu::serif::bold(),
    ]
}

/// Renders one character of a font at `px` pixels per em into a tight
/// ink buffer `(ink, w, h)`.
pub fn render_char(font: &FontRef<'_>, ch: char, px: f32) -> Option<(Vec<f32>, usize, usize)> {
    let g = font.glyph_id(ch).with_scale(PxScale::from(px));
    let og = font.outline_glyph(g)?;
    let b = og.px_bounds();
    let (w, h) = (b.width() as usize, b.height() as usize);
    if w == 0 || h == 0 {
        return None;
    }
    let mut buf = vec![0f32; w * h];
    og.draw(|x, y, c| {
        let (x, y) = (x as usize, y as usize);
        if x < w && y < h {
            buf[y * w + x] = c.min(1.0);
        }
    });
    Some((buf, w, h))
}

/// The templates of every character of [`ALPHABET`], rendered once.
pub fn templates() -> &'static [CharTemplates] {
    static T: OnceLock<Vec<CharTemplates>> = OnceLock::new();
    T.get_or_init(|| render_templates(&ALPHABET))
}

/// Renders the templates of `chars` from every bundled font that has them
/// (other readers, such as the printed scale's, keep their own alphabet).
pub fn render_templates(chars: &[char]) -> Vec<CharTemplates> {
    let fonts: Vec<FontRef<'static>> = font_bytes()
        .iter()
        .filter_map(|b| FontRef::try_from_slice(b).ok())
        .collect();
    chars
        .iter()
        .map(|&ch| CharTemplates {
            ch,
            glyphs: fonts
                .iter()
                .filter_map(|f| render_char(f, ch, 64.0))
                .filter_map(|(ink, w, h)| Glyph::from_ink(&ink, w, h))
                .collect(),
        })
        .collect()
}

/// The glyph's best score for each character of [`ALPHABET`], in order.
pub fn char_scores(g: &Glyph) -> [f32; ALPHABET.len()] {
    best_scores(g, templates())
}

/// The glyph's best score against each character's templates, in order
/// (other readers pass their own alphabet's templates).
pub fn best_scores<const K: usize>(g: &Glyph, templates: &[CharTemplates]) -> [f32; K] {
    let mut out = [f32::NEG_INFINITY; K];
    for (o, t) in out.iter_mut().zip(templates) {
        for tg in &t.glyphs {
            *o = o.max(g.similarity(tg));
        }
    }
    out
}

/// Index of a character in [`ALPHABET`].
pub fn char_index(ch: char) -> Option<usize> {
    ALPHABET.iter().position(|&c| c == ch)
}
