//! Words of ink in a search window, and their decoding to lead names.
//!
//! 1. **Components**: 8-connected components of the ink (`>= ink_level`)
//!    inside the window. A component touching the window's edge belongs to
//!    something larger (a trace) and is dropped, as are those taller or
//!    wider than [`MAX_GLYPH_MM`] and specks; a dash (`-`) is kept when it
//!    is wider than tall.
//! 2. **Words**: components left to right, a component joining the word to
//!    its left when the gap is under [`MAX_GAP`] of the word's height and it
//!    overlaps the word vertically with a compatible height (a lower-case
//!    `a` is about 0.75 of a capital).
//! 3. **Decoding**: each glyph is scored against every character
//!    ([`super::glyphs::char_scores`]); a word of `n` glyphs is scored
//!    against each lead name of `n` characters ([`NAMES`]) as the mean of
//!    its glyphs' scores for the name's characters, less a penalty where a
//!    glyph's height does not suit its character (a capital drawn at
//!    x-height). A word with one stray glyph at either end is also tried
//!    without it, at a small cost. The best name is the read, its mean
//!    score the confidence.

use super::glyphs::{char_index, char_scores, Glyph, ALPHABET};
use ecgdig_core::prelude::*;

/// Largest glyph height or width, mm.
pub const MAX_GLYPH_MM: f32 = 7.5;
/// Smallest glyph height (a dash excepted), mm.
pub const MIN_GLYPH_MM: f32 = 0.9;
/// Largest gap between glyphs of a word, as a fraction of its height.
pub const MAX_GAP: f32 = 0.55;
/// Score cost of leaving out a stray glyph at a word's end.
const DROP_COST: f32 = 0.08;

/// The printed names a lead may carry, with whether the name shows the
/// lead inverted (`-aVR`, Cabrera).
pub const NAMES: [(&str, Lead, bool); 16] = [
    ("I", Lead::I, false),
    ("II", Lead::II, false),
    ("III", Lead::III, false),
    ("aVR", Lead::AVR, false),
    ("aVL", Lead::AVL, false),
    ("aVF", Lead::AVF, false),
    ("AVR", Lead::AVR, false),
    ("AVL", Lead::AVL, false),
    ("AVF", Lead::AVF, false),
    ("-aVR", Lead::AVR, true),
    ("V1", Lead::V1, false),
    ("V2", Lead::V2, false),
    ("V3", Lead::V3, false),
    ("V4", Lead::V4, false),
    ("V5", Lead::V5, false),
    ("V6", Lead::V6, false),
];

/// A connected component of ink.
#[derive(Clone, Debug)]
pub struct Component {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
    /// Ink strength (0..1) of this component's pixels within its box.
    pub ink: Vec<f32>,
}

impl Component {
    pub fn w(&self) -> usize {
        self.x1 - self.x0 + 1
    }
    pub fn h(&self) -> usize {
        self.y1 - self.y0 + 1
    }
    fn is_dash(&self) -> bool {
        self.w() as f32 >= 1.6 * self.h() as f32
    }
}

/// A word read as a lead name.
#[derive(Clone, Debug)]
pub struct WordRead {
    pub text: &'static str,
    pub lead: Lead,
    pub inverted: bool,
    /// Mean glyph score for the name (about 0.9 for clean print).
    pub score: f32,
    /// The word's box, pixels.
    pub bbox: Rect,
}

/// Components of ink inside `[x0, x1) x [y0, y1)` of the mask, glyph-sized
/// at `px_per_mm`.
pub fn components(
    mask: &image::GrayImage,
    (x0, y0, x1, y1): (usize, usize, usize, usize),
    ink_level: u8,
    px_per_mm: f32,
) -> Vec<Component> {
    let (mw, mh) = (mask.width() as usize, mask.height() as usize);
    let (x1, y1) = (x1.min(mw), y1.min(mh));
    if x0 >= x1 || y0 >= y1 {
        return Vec::new();
    }
    let (w, h) = (x1 - x0, y1 - y0);
    let m = mask.as_raw();
    let at = |x: usize, y: usize| m[(y0 + y) * mw + x0 + x];
    let mut seen = vec![false; w * h];
    let max_px = MAX_GLYPH_MM * px_per_mm;
    let min_px = (MIN_GLYPH_MM * px_per_mm).max(2.0);
    let mut out = Vec::new();
    let mut stack = Vec::new();
    let mut pixels = Vec::new();
    for sy in 0..h {
        for sx in 0..w {
            if seen[sy * w + sx] || at(sx, sy) < ink_level {
                continue;
            }
            seen[sy * w + sx] = true;
            stack.push((sx, sy));
            pixels.clear();
            let (mut bx0, mut by0, mut bx1, mut by1) = (sx, sy, sx, sy);
            let mut touches = false;
            while let Some((x, y)) = stack.pop() {
                pixels.push((x, y));
                bx0 = bx0.min(x);
                bx1 = bx1.max(x);
                by0 = by0.min(y);
                by1 = by1.max(y);
                touches |= x == 0 || y == 0 || x + 1 == w || y + 1 == h;
                for dy in -1i32..=1 {
                    for dx in -1i32..=1 {
                        let (nx, ny) = (x as i32 + dx, y as i32 + dy);
                        if nx < 0 || ny < 0 || nx >= w as i32 || ny >= h as i32 {
                            continue;
                        }
                        let (nx, ny) = (nx as usize, ny as usize);
                        if !seen[ny * w + nx] && at(nx, ny) >= ink_level {
                            seen[ny * w + nx] = true;
                            stack.push((nx, ny));
                        }
                    }
                }
            }
            out.push(None);
            let (cw, ch) = ((bx1 - bx0 + 1) as f32, (by1 - by0 + 1) as f32);
            let dash = cw >= 1.6 * ch && cw >= min_px * 0.6;
            if touches || cw > max_px || ch > max_px || (ch < min_px && !dash) || pixels.len() < 3 {
                continue;
            }
            let (bw, bh) = (bx1 - bx0 + 1, by1 - by0 + 1);
            let mut ink = vec![0f32; bw * bh];
            for &(x, y) in &pixels {
                ink[(y - by0) * bw + (x - bx0)] = at(x, y) as f32 / 255.0;
            }
            *out.last_mut().expect("pushed above") = Some(Component {
                x0: x0 + bx0,
                y0: y0 + by0,
                x1: x0 + bx1,
                y1: y0 + by1,
                ink,
            });
        }
    }
    out.into_iter().flatten().collect()
}

/// Groups components into words, left to right.
pub fn words(mut comps: Vec<Component>) -> Vec<Vec<Component>> {
    comps.sort_by_key(|c| (c.x0, c.y0));
    let mut words: Vec<Vec<Component>> = Vec::new();
    for c in comps {
        let joined = words.iter_mut().rev().find(|wd| fits(wd, &c));
        match joined {
            Some(wd) => wd.push(c),
            None => words.push(vec![c]),
        }
    }
    words
}

/// Whether component `c` continues word `wd`.
fn fits(wd: &[Component], c: &Component) -> bool {
    let Some(last) = wd.last() else {
        return false;
    };
    let letters: Vec<&Component> = wd.iter().filter(|g| !g.is_dash()).collect();
    let wh = letters
        .iter()
        .map(|g| g.h())
        .max()
        .unwrap_or(last.h())
        .max(c.h()) as f32;
    let gap = c.x0 as f32 - last.x1 as f32 - 1.0;
    if gap > MAX_GAP * wh + 1.0 || gap < -0.3 * wh {
        return false;
    }
    let (wy0, wy1) = (
        wd.iter().map(|g| g.y0).min().unwrap_or(last.y0) as f32,
        wd.iter().map(|g| g.y1).max().unwrap_or(last.y1) as f32,
    );
    let cy = (c.y0 + c.y1) as f32 / 2.0;
    if c.is_dash() {
        return letters.is_empty() || (cy > wy0 && cy < wy1);
    }
    if letters.is_empty() {
        // after a dash: the dash must sit within the letter's height
        let ly = (last.y0 + last.y1) as f32 / 2.0;
        return ly > c.y0 as f32 && ly < c.y1 as f32;
    }
    let lh = letters.iter().map(|g| g.h()).max().unwrap_or(1) as f32;
    let ratio = c.h() as f32 / lh;
    let overlap = (wy1.min(c.y1 as f32) - wy0.max(c.y0 as f32) + 1.0) / c.h() as f32;
    (0.55..=1.8).contains(&ratio) && overlap > 0.6
}

/// Expected height of a character relative to the word's tallest letter.
fn expected_height(ch: char) -> f32 {
    if ch == 'a' {
        0.75
    } else {
        1.0
    }
}

/// Decodes a word to the best lead name, or `None` when it has no glyph
/// or more than five. A glyph may come in two pieces (a grid line cleared
/// through a letter, a thin serif stroke too faint for the mask): each pair
/// of neighbouring pieces closer than [`MAX_SPLIT_GAP`] of the word's
/// height is also tried as one glyph, at a small cost.
pub fn decode(word: &[Component]) -> Option<WordRead> {
    let mut best = decode_glyphs(word);
    let tall = tallest(word);
    for i in 1..word.len() {
        let (a, b) = (&word[i - 1], &word[i]);
        let gap = b.x0 as f32 - a.x1 as f32 - 1.0;
        if a.is_dash() || b.is_dash() || gap > MAX_SPLIT_GAP * tall {
            continue;
        }
        let mut joined = word.to_vec();
        joined.splice(i - 1..=i, [merge(&[a, b])]);
        if let Some(mut read) = decode_glyphs(&joined) {
            read.score -= MERGE_COST;
            if best.as_ref().is_none_or(|r| read.score > r.score) {
                best = Some(read);
            }
        }
    }
    best
}

/// The height of a word's tallest letter (dashes aside), px.
fn tallest(word: &[Component]) -> f32 {
    word.iter()
        .filter(|c| !c.is_dash())
        .map(|c| c.h())
        .max()
        .unwrap_or(1) as f32
}

/// Largest gap (fraction of the word's height) between two pieces tried
/// as one glyph.
const MAX_SPLIT_GAP: f32 = 0.2;
/// Score cost of reading two pieces as one glyph.
const MERGE_COST: f32 = 0.03;

/// One component holding the pixels of all `parts` (where they overlap,
/// the stronger ink).
pub fn merge(parts: &[&Component]) -> Component {
    let x0 = parts.iter().map(|c| c.x0).min().unwrap_or(0);
    let y0 = parts.iter().map(|c| c.y0).min().unwrap_or(0);
    let x1 = parts.iter().map(|c| c.x1).max().unwrap_or(0);
    let y1 = parts.iter().map(|c| c.y1).max().unwrap_or(0);
    let bw = x1 - x0 + 1;
    let mut ink = vec![0f32; bw * (y1 - y0 + 1)];
    for c in parts {
        for (k, &v) in c.ink.iter().enumerate() {
            let (x, y) = (c.x0 + k % c.w(), c.y0 + k / c.w());
            let o = &mut ink[(y - y0) * bw + (x - x0)];
            *o = o.max(v);
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

/// [`decode`] of one split of the word into glyphs.
fn decode_glyphs(word: &[Component]) -> Option<WordRead> {
    if word.is_empty() || word.len() > 5 {
        return None;
    }
    let glyphs: Vec<Option<Glyph>> = word
        .iter()
        .map(|c| Glyph::from_ink(&c.ink, c.w(), c.h()))
        .collect();
    let scores: Vec<[f32; ALPHABET.len()]> = glyphs
        .iter()
        .map(|g| match g {
            Some(g) => char_scores(g),
            None => [-1.0; ALPHABET.len()],
        })
        .collect();
    let n = word.len();
    let mut spans = vec![(0, n, 0.0)];
    if n >= 2 {
        spans.push((1, n, DROP_COST));
        spans.push((0, n - 1, DROP_COST));
    }
    let mut best: Option<WordRead> = None;
    for (a, b, cost) in spans {
        let part = &word[a..b];
        let tall = tallest(part);
        for &(text, lead, inverted) in NAMES.iter() {
            if text.chars().count() != part.len() {
                continue;
            }
            let mut total = 0.0;
            for (k, ch) in text.chars().enumerate() {
                let Some(ci) = char_index(ch) else { continue };
                let g = &part[k];
                let mut s = scores[a + k][ci];
                if ch != '-' {
                    let rel = g.h() as f32 / tall;
                    s -= 1.5 * ((rel - expected_height(ch)).abs() - 0.12).max(0.0);
                }
                total += s;
            }
            let score = total / part.len() as f32 - cost;
            if best.as_ref().is_none_or(|b| score > b.score) {
                best = Some(WordRead {
                    text,
                    lead,
                    inverted,
                    score,
                    bbox: Rect {
                        x0: part[0].x0 as f32,
                        y0: part.iter().map(|c| c.y0).min().unwrap_or(0) as f32,
                        x1: part[part.len() - 1].x1 as f32 + 1.0,
                        y1: part.iter().map(|c| c.y1).max().unwrap_or(0) as f32 + 1.0,
                    },
                });
            }
        }
    }
    best
}
