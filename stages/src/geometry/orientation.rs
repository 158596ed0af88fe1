//! Page orientation: detects a page turned by 180 degrees or mirrored (a
//! scan of the sheet's back through the paper, a photo taken in a mirror)
//! and says how to undo it.
//!
//! Quarter turns and small angles are [`super::deskew`]'s; what is left is
//! one of four orientations ([`Orientation`]): upright, turned by 180
//! degrees, mirrored left-right, mirrored top-bottom.
//!
//! The evidence is the printed lead names (`aVR`, `V1`, ...): read as text
//! they score well only the right way up and unmirrored.
//!
//! 1. **Ink**: the page's value channel (coloured grids stay bright in it),
//!    downscaled so that its longest side is about [`ANALYSIS_SIZE_PX`];
//!    ink is how much darker a pixel is than its neighbourhood.
//! 2. **Words**: glyph-sized components of the ink over the whole page
//!    (the [`MAX_CANDIDATES`] darkest: print is solid black, a dark grid
//!    breaks into pieces of lighter ink), grouped into words of two to
//!    four glyphs
//!    ([`crate::layout::labels::words`]). Single glyphs and names made of
//!    `I` only read the same in every orientation and are not counted.
//! 3. **Reads**: each word is decoded as a lead name as printed and as it
//!    would look after undoing each flip (glyphs and their order mirrored);
//!    an orientation's vote is its number of reads scoring at least
//!    [`MIN_READ_SCORE`].
//! 4. **Decision** ([`choose`]): an orientation other than upright is
//!    chosen only when its votes exceed the upright votes by
//!    [`MIN_VOTE_MARGIN`] and are at least [`MIN_VOTE_RATIO`] times as
//!    many; otherwise the page is left as it is: ties go to upright, two
//!    flips with the same votes leave the page upright, and a page without
//!    readable labels is never flipped. A page with
//!    [`TRUSTED_UPRIGHT_VOTES`] upright reads is not read in the other
//!    orientations at all.
//!
//! Cost: one pass over the page, then labelling and decoding on about a
//! million pixels; at 200 dpi on one thread about 17 to 25 ms for an
//! upright page with labels, up to 40 ms when all four orientations are
//! read. Most of it is the downscaled value channel.

use crate::imaging;
use crate::layout::labels::words::{self, Component};
use image::{GrayImage, RgbImage};

/// Longest side of the image the labels are read on, pixels.
pub const ANALYSIS_SIZE_PX: usize = 1100;
/// Smallest read score that counts as a vote.
pub const MIN_READ_SCORE: f32 = 0.7;
/// Votes a flip needs beyond the upright votes.
pub const MIN_VOTE_MARGIN: usize = 3;
/// A flip's votes must be at least this multiple of the upright votes.
pub const MIN_VOTE_RATIO: usize = 2;
/// Upright reads that settle the question: a flip would need twice as
/// many, more distinctive lead names than a page prints (nine, plus a
/// rhythm strip or two).
pub const TRUSTED_UPRIGHT_VOTES: usize = 6;
/// Most glyph-sized components read (the darkest); a dark grid breaks
/// into thousands of glyph-sized pieces.
pub const MAX_CANDIDATES: usize = 300;
/// Width of the sheet assumed when converting pixels to mm, mm (a landscape
/// letter or A4 page is 279 to 297 mm wide).
const SHEET_WIDTH_MM: f32 = 280.0;
/// Radius of the neighbourhood ink is measured against, mm.
const BACKGROUND_RADIUS_MM: f32 = 3.0;
/// Ink strength (0..255, relative darkness) a glyph's pixels reach.
const INK_LEVEL: u8 = 110;

/// How a page lies, up to quarter turns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Orientation {
    Upright,
    Rotated180,
    MirroredLeftRight,
    MirroredTopBottom,
}

impl Orientation {
    /// Every orientation, upright first.
    pub const ALL: [Orientation; 4] = [
        Orientation::Upright,
        Orientation::Rotated180,
        Orientation::MirroredLeftRight,
        Orientation::MirroredTopBottom,
    ];

    fn flips_x(self) -> bool {
        matches!(
            self,
            Orientation::Rotated180 | Orientation::MirroredLeftRight
        )
    }

    fn flips_y(self) -> bool {
        matches!(
            self,
            Orientation::Rotated180 | Orientation::MirroredTopBottom
        )
    }

    /// Undoes this orientation on an image of a page lying so. Every flip is
    /// its own inverse. Returns the image and the 3x3 map from output
    /// pixels to input pixels.
    pub fn undo(self, rgb: &RgbImage) -> (RgbImage, [[f64; 3]; 3]) {
        let (w, h) = (rgb.width() as f64, rgb.height() as f64);
        let (sx, tx) = if self.flips_x() {
            (-1.0, w - 1.0)
        } else {
            (1.0, 0.0)
        };
        let (sy, ty) = if self.flips_y() {
            (-1.0, h - 1.0)
        } else {
            (1.0, 0.0)
        };
        let img = match self {
            Orientation::Upright => rgb.clone(),
            Orientation::Rotated180 => image::imageops::rotate180(rgb),
            Orientation::MirroredLeftRight => image::imageops::flip_horizontal(rgb),
            Orientation::MirroredTopBottom => image::imageops::flip_vertical(rgb),
        };
        (img, [[sx, 0.0, tx], [0.0, sy, ty], [0.0, 0.0, 1.0]])
    }
}

/// Glyph-sized components of a page's ink, ready to be read in any
/// orientation.
pub struct Candidates {
    comps: Vec<Component>,
    width: usize,
    height: usize,
}

impl Candidates {
    /// Finds the candidate glyphs of a page.
    pub fn find(rgb: &RgbImage) -> Candidates {
        let (mask, px_per_mm) = ink_mask(rgb);
        let (width, height) = (mask.width() as usize, mask.height() as usize);
        let comps = words::components(&mask, (0, 0, width, height), INK_LEVEL, px_per_mm);
        Candidates {
            comps: darkest(comps),
            width,
            height,
        }
    }

    /// Confident reads of lead names that tell orientations apart, once
    /// orientation `o` is undone.
    pub fn votes(&self, o: Orientation) -> usize {
        let seen: Vec<Component> = self
            .comps
            .iter()
            .map(|c| undo_component(c, o, self.width, self.height))
            .collect();
        words::words(seen)
            .iter()
            .filter(|word| (2..=4).contains(&word.len()))
            .filter_map(|word| words::decode(word))
            .filter(|read| read.score >= MIN_READ_SCORE && read.text.chars().any(|c| c != 'I'))
            .count()
    }
}

/// Votes of every orientation, in [`Orientation::ALL`]'s order.
pub fn orientation_votes(rgb: &RgbImage) -> [usize; 4] {
    let cands = Candidates::find(rgb);
    Orientation::ALL.map(|o| cands.votes(o))
}

/// The orientation the page lies in: upright unless another one's votes
/// are clearly better ([`choose`]). A page with [`TRUSTED_UPRIGHT_VOTES`]
/// upright reads is upright without reading the others.
pub fn detect_orientation(rgb: &RgbImage) -> Orientation {
    let cands = Candidates::find(rgb);
    let upright = cands.votes(Orientation::Upright);
    if upright >= TRUSTED_UPRIGHT_VOTES {
        return Orientation::Upright;
    }
    let mut votes = [upright, 0, 0, 0];
    for (v, o) in votes.iter_mut().zip(Orientation::ALL).skip(1) {
        *v = cands.votes(o);
    }
    choose(&votes)
}

/// The decision rule on the votes (see the module documentation).
pub fn choose(votes: &[usize; 4]) -> Orientation {
    let upright = votes[0];
    let flips = &votes[1..];
    let Some((k, &best)) = flips.iter().enumerate().max_by_key(|&(_, v)| *v) else {
        return Orientation::Upright;
    };
    let unique = flips.iter().filter(|&&v| v == best).count() == 1;
    if unique && best >= upright + MIN_VOTE_MARGIN && best >= MIN_VOTE_RATIO * upright {
        Orientation::ALL[k + 1]
    } else {
        Orientation::Upright
    }
}

/// The [`MAX_CANDIDATES`] darkest components (mean ink strength over
/// their pixels): printed text is solid black, fragments of a dark grid
/// are lighter.
fn darkest(mut comps: Vec<Component>) -> Vec<Component> {
    if comps.len() <= MAX_CANDIDATES {
        return comps;
    }
    let strength = |c: &Component| {
        let (sum, n) = c
            .ink
            .iter()
            .filter(|&&v| v > 0.0)
            .fold((0.0f32, 0usize), |(s, n), &v| (s + v, n + 1));
        sum / n.max(1) as f32
    };
    let mut ranked: Vec<(f32, Component)> = comps.drain(..).map(|c| (strength(&c), c)).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked.truncate(MAX_CANDIDATES);
    ranked.into_iter().map(|(_, c)| c).collect()
}

/// A component as it lies once orientation `o` is undone on a `w x h` page.
fn undo_component(c: &Component, o: Orientation, w: usize, h: usize) -> Component {
    let (cw, ch) = (c.w(), c.h());
    let (mut x0, mut x1, mut y0, mut y1) = (c.x0, c.x1, c.y0, c.y1);
    if o.flips_x() {
        (x0, x1) = (w - 1 - c.x1, w - 1 - c.x0);
    }
    if o.flips_y() {
        (y0, y1) = (h - 1 - c.y1, h - 1 - c.y0);
    }
    let mut ink = vec![0f32; cw * ch];
    for y in 0..ch {
        let sy = if o.flips_y() { ch - 1 - y } else { y };
        for x in 0..cw {
            let sx = if o.flips_x() { cw - 1 - x } else { x };
            ink[y * cw + x] = c.ink[sy * cw + sx];
        }
    }
    Component {
        x0,
        y0,
        x1,
        y1,
        ink,
    }
}

/// Ink strength (relative darkness against the neighbourhood, 0..255) of
/// the downscaled value channel, and its pixels per mm.
fn ink_mask(rgb: &RgbImage) -> (GrayImage, f32) {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let f = ((w.max(h) as f32 / ANALYSIS_SIZE_PX as f32).round() as usize).max(1);
    let (g, w, h) = downscaled_value(rgb, f);
    let px_per_mm = w.max(h) as f32 / SHEET_WIDTH_MM;
    let r = ((BACKGROUND_RADIUS_MM * px_per_mm).round() as usize).max(2);
    let bg = imaging::box_mean(&g, w, h, r);
    let ink: Vec<u8> = g
        .iter()
        .zip(&bg)
        .map(|(&v, &b)| {
            if b < 40 || v >= b {
                0
            } else {
                ((b - v) as u32 * 255 / b as u32) as u8
            }
        })
        .collect();
    let mask = GrayImage::from_raw(w as u32, h as u32, ink)
        .unwrap_or_else(|| GrayImage::new(w as u32, h as u32));
    (mask, px_per_mm)
}

/// The value channel (largest of R, G, B: coloured grids stay bright in
/// it) averaged over `f x f` blocks, in one pass over the page.
fn downscaled_value(rgb: &RgbImage, f: usize) -> (Vec<u8>, usize, usize) {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let (dw, dh) = (w / f, h / f);
    let raw = rgb.as_raw();
    let mut out = vec![0u8; dw * dh];
    let mut acc = vec![0u32; dw];
    let mut values = vec![0u8; dw * f];
    let n = (f * f) as u32;
    for (dy, orow) in out.chunks_exact_mut(dw.max(1)).enumerate().take(dh) {
        acc.iter_mut().for_each(|a| *a = 0);
        for y in dy * f..dy * f + f {
            let row = &raw[y * w * 3..(y * w + dw * f) * 3];
            for (v, p) in values.iter_mut().zip(row.chunks_exact(3)) {
                *v = p[0].max(p[1]).max(p[2]);
            }
            for (a, block) in acc.iter_mut().zip(values.chunks_exact(f)) {
                *a += block.iter().map(|&v| v as u32).sum::<u32>();
            }
        }
        for (o, &a) in orow.iter_mut().zip(&acc) {
            *o = (a / n) as u8;
        }
    }
    (out, dw, dh)
}

#[cfg(test)]
#[path = "orientation_tests.rs"]
mod tests;
