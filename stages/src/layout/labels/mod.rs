//! Lead labels: reads the lead names printed beside each panel.
//!
//! Printers write each lead's name near the start of its panel:
//! ecg-image-kit just below (or above) the baseline where the panel
//! starts, others above, below or to the left of the trace. For every
//! panel a search window around its start (`x_start`, `baseline_y`) is
//! read from the ink mask:
//!
//! * the window spans [`LEFT_MM`] (the first column: [`LEFT_FIRST_MM`],
//!   for names printed in the margin before the pulse) to [`RIGHT_MM`]
//!   about `x_start`, and vertically half way to the neighbouring rows'
//!   baselines, at most [`REACH_MM`];
//! * its ink is cut into glyph-sized components and words, and each word
//!   is decoded to the nearest lead name by template matching
//!   ([`words`], [`glyphs`]); the window's read is the best-scoring word,
//!   nearer words preferred a little ([`DISTANCE_COST_PER_MM`]);
//! * **page consistency**: a printer sets every label in one size at one
//!   offset from its baseline, so with three or more confident reads,
//!   one whose height differs from their median by more than
//!   [`HEIGHT_TOLERANCE`] or whose vertical offset from the baseline
//!   differs by more than [`OFFSET_TOLERANCE_MM`] (a wave's fragment, a
//!   separator bar read as `I`) is dropped.
//!
//! How reads rename panels is decided in [`crate::layout::panels`].
//! Templates are rendered once per process; a page costs a few ms.

pub mod glyphs;
pub mod words;

use ecgdig_core::prelude::*;
pub use words::WordRead;

/// The search window reaches this far left of a panel's start, mm.
pub const LEFT_MM: f32 = 6.0;
/// ... and for a row's first panel (names printed in the margin), mm.
pub const LEFT_FIRST_MM: f32 = 20.0;
/// The search window reaches this far right of a panel's start, mm.
pub const RIGHT_MM: f32 = 14.0;
/// The search window reaches at most this far above and below the baseline, mm.
pub const REACH_MM: f32 = 15.0;
/// Score lost per mm between a word and the panel's start.
pub const DISTANCE_COST_PER_MM: f32 = 0.003;
/// Largest relative difference of a read's height from the page's median.
pub const HEIGHT_TOLERANCE: f32 = 0.35;
/// Largest difference of a read's vertical offset from the page's median, mm.
pub const OFFSET_TOLERANCE_MM: f32 = 3.0;

/// Reads the word nearest in meaning to a lead name inside `window`
/// (pixels) of the mask; `anchor` is the point reads are preferred near.
pub fn read_window(
    mask: &image::GrayImage,
    window: Rect,
    anchor: (f32, f32),
    px_per_mm: f32,
    ink_level: u8,
) -> Option<WordRead> {
    let clamp = |v: f32, hi: u32| v.max(0.0).min(hi as f32) as usize;
    let bounds = (
        clamp(window.x0, mask.width()),
        clamp(window.y0, mask.height()),
        clamp(window.x1, mask.width()),
        clamp(window.y1, mask.height()),
    );
    let comps = words::components(mask, bounds, ink_level, px_per_mm);
    let mut best: Option<(f32, WordRead)> = None;
    for wd in words::words(comps) {
        let Some(read) = words::decode(&wd) else {
            continue;
        };
        let cx = read.bbox.x0.max(anchor.0.min(read.bbox.x1));
        let cy = read.bbox.y0.max(anchor.1.min(read.bbox.y1));
        let dist = ((cx - anchor.0).hypot(cy - anchor.1)) / px_per_mm.max(1e-3);
        let rank = read.score - DISTANCE_COST_PER_MM * dist;
        if best.as_ref().is_none_or(|(r, _)| rank > *r) {
            best = Some((rank, read));
        }
    }
    best.map(|(_, r)| r)
}

/// Reads every panel's label; `None` where no word reached `min_score` or
/// the read disagreed with the page's other reads.
pub fn read_panels(
    layout: &Layout,
    mask: &image::GrayImage,
    grid: &GridInfo,
    ink_level: u8,
    min_score: f32,
) -> Vec<Option<WordRead>> {
    let ppx = grid.px_per_mm_x.max(0.5);
    let ppy = grid.px_per_mm_y.max(0.5);
    let ppm = 0.5 * (ppx + ppy);
    let bases = &layout.row_baselines;
    let mut reads: Vec<Option<WordRead>> = layout
        .panels
        .iter()
        .map(|p| {
            let up = p
                .row
                .checked_sub(1)
                .and_then(|r| bases.get(r))
                .map_or(REACH_MM * ppy, |b| 0.5 * (p.baseline_y - b));
            let down = bases
                .get(p.row + 1)
                .map_or(REACH_MM * ppy, |b| 0.5 * (b - p.baseline_y));
            let left = if p.col == 0 { LEFT_FIRST_MM } else { LEFT_MM };
            let window = Rect {
                x0: p.x_start - left * ppx,
                x1: p.x_start + RIGHT_MM * ppx,
                y0: p.baseline_y - up.min(REACH_MM * ppy),
                y1: p.baseline_y + down.min(REACH_MM * ppy),
            };
            read_window(mask, window, (p.x_start, p.baseline_y), ppm, ink_level)
                .filter(|r| r.score >= min_score)
        })
        .collect();
    let ok: Vec<(f32, f32)> = layout
        .panels
        .iter()
        .zip(&reads)
        .filter_map(|(p, r)| r.as_ref().map(|r| (height(r), offset(r, p))))
        .collect();
    if ok.len() >= 3 {
        let hs: Vec<f32> = ok.iter().map(|o| o.0).collect();
        let ds: Vec<f32> = ok.iter().map(|o| o.1).collect();
        let (h_med, d_med) = (crate::imaging::median(&hs), crate::imaging::median(&ds));
        for (p, r) in layout.panels.iter().zip(reads.iter_mut()) {
            let bad = r.as_ref().is_some_and(|r| {
                (height(r) - h_med).abs() > HEIGHT_TOLERANCE * h_med
                    || (offset(r, p) - d_med).abs() > OFFSET_TOLERANCE_MM * ppy
            });
            if bad {
                *r = None;
            }
        }
    }
    reads
}

fn height(r: &WordRead) -> f32 {
    r.bbox.y1 - r.bbox.y0
}

/// The word's vertical offset from its panel's baseline: from its bottom
/// when above the baseline, from its top when below (a word's height
/// differs with its letters, `aVR` against `V1`, but not its base line).
fn offset(r: &WordRead, p: &Panel) -> f32 {
    if r.bbox.y1 <= p.baseline_y {
        r.bbox.y1 - p.baseline_y
    } else {
        r.bbox.y0 - p.baseline_y
    }
}

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_unseen;
