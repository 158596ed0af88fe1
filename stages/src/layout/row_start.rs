//! Where a row's trace starts when no calibration pulse marks it: past the
//! sparse fragments a dark grid leaves along the baseline, past grid lines
//! kept at the page's edge, and past a lead name printed on the baseline
//! left of the trace.

use super::labels::words;
use image::GrayImage;

/// Ink runs with gaps up to this (mm) bridged count as solid...
pub(super) const SOLID_GAP_MM: f32 = 1.0;
/// ... when at least this long (mm).
pub(super) const SOLID_MIN_MM: f32 = 1.5;
/// A row's start moves past ink only this sparse (share of columns).
pub(super) const MAX_SKIPPED_DENSITY: f32 = 0.25;

/// ... and inked over at least this share of their columns, from their
/// first `min_len` columns to their last: a grid's crossings left along a
/// baseline, a millimetre apart, bridge into a run (or lead into a trace's)
/// but ink a column in four or five.
pub(super) const SOLID_MIN_DENSITY: f32 = 0.6;

/// `occ` keeping only the runs (gaps up to `max_gap` bridged) at least
/// `min_len` long, trimmed at both ends to where they are
/// [`SOLID_MIN_DENSITY`] inked over `min_len` columns.
pub(super) fn solid(occ: &[bool], max_gap: usize, min_len: usize) -> Vec<bool> {
    let min_len = min_len.max(1);
    let need = (SOLID_MIN_DENSITY * min_len as f32).ceil() as usize;
    let dense_from = |x: usize, b: usize| {
        occ[x..(x + min_len).min(b + 1)]
            .iter()
            .filter(|&&o| o)
            .count()
            >= need
    };
    let dense_to = |x: usize, a: usize| {
        occ[(x + 1).saturating_sub(min_len).max(a)..=x]
            .iter()
            .filter(|&&o| o)
            .count()
            >= need
    };
    let mut out = vec![false; occ.len()];
    for (a, b) in stretches(occ, max_gap) {
        if b - a + 1 < min_len {
            continue;
        }
        let Some(a) = (a..=b).find(|&x| occ[x] && dense_from(x, b)) else {
            continue;
        };
        let Some(b) = (a..=b).rev().find(|&x| occ[x] && dense_to(x, a)) else {
            continue;
        };
        if b - a + 1 >= min_len {
            out[a..=b].copy_from_slice(&occ[a..=b]);
        }
    }
    out
}

/// Ink this close to the page's left edge (mm) is not a trace's start.
pub(super) const EDGE_MM: f32 = 2.0;
/// A mask row inked over this share of the first 20 mm is a line (a
/// dashed one too).
const LINE_DENSITY: f32 = 0.25;

/// Where a row's trace starts when the mask holds straight lines from
/// `start` on: rows `y0..=y1` inked over [`LINE_DENSITY`] of the 20 mm
/// from `start` are lines, except near the `baseline` (where a flat trace
/// lies); the first solid stretch (3 mm, 1 mm gaps) of the ink off them
/// (a pixel's margin) is the trace. `None` without lines or without such
/// ink.
pub(super) fn start_past_lines(
    m: &[u8],
    w: usize,
    lvl: u8,
    (y0, y1): (usize, usize),
    baseline: f32,
    start: usize,
    ppx: f32,
) -> Option<usize> {
    let near_base = (0.3 * ppx).max(2.0);
    let end = (start + (20.0 * ppx) as usize).min(w);
    if end <= start {
        return None;
    }
    let lines: Vec<usize> = (y0..=y1)
        .filter(|&yy| (yy as f32 - baseline).abs() > near_base)
        .filter(|&yy| {
            let inked = m[yy * w + start..yy * w + end]
                .iter()
                .filter(|&&v| v >= lvl)
                .count();
            // (and begins at `start`, where the row's ink does: a flat
            // trace's rows further right are no line from the page's edge)
            let lead_in = (start + (EDGE_MM * ppx).ceil() as usize).min(end);
            let begins = m[yy * w + start..yy * w + lead_in]
                .iter()
                .any(|&v| v >= lvl);
            begins && inked as f32 >= LINE_DENSITY * (end - start) as f32
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    let off_line = |yy: usize| lines.iter().all(|&l| l.abs_diff(yy) > 1);
    let occ: Vec<bool> = (0..w)
        .map(|x| x >= start && (y0..=y1).any(|yy| off_line(yy) && m[yy * w + x] >= lvl))
        .collect();
    let occ = solid(
        &occ,
        (SOLID_GAP_MM * ppx) as usize,
        (SOLID_MIN_MM * ppx) as usize,
    );
    stretches(&occ, (4.0 * ppx) as usize)
        .into_iter()
        .find(|s| (s.1 - s.0) as f32 >= 3.0 * ppx)
        .map(|s| s.0)
}

/// Runs of `true` with gaps up to `max_gap` bridged, as (first, last).
pub(super) fn stretches(occ: &[bool], max_gap: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (x, &o) in occ.iter().enumerate() {
        if !o {
            continue;
        }
        match out.last_mut() {
            Some(last) if x - last.1 <= max_gap + 1 => last.1 = x,
            _ => out.push((x, x)),
        }
    }
    out
}

/// A row's first stroke is followed this far left of where its ink in the
/// baseline's band begins, mm...
const STROKE_BACK_MM: f32 = 5.0;
/// ... within this of the baseline, mm.
const STROKE_REACH_MM: f32 = 8.0;

/// Where the row starts when its ink in the band `y0..=y1` begins at
/// `start` with a stroke that comes from further left, out of the band (a
/// first wave taller than the band, a baseline that wanders from the
/// row's start): the leftmost column of the ink 8-connected to the band's
/// ink in column `start`, looked for within [`STROKE_BACK_MM`] left of it
/// and [`STROKE_REACH_MM`] of the baseline `yb`.
#[allow(clippy::too_many_arguments)]
pub(super) fn start_along_stroke(
    m: &[u8],
    (w, h): (usize, usize),
    lvl: u8,
    (y0, y1): (usize, usize),
    yb: f32,
    start: usize,
    ppx: f32,
    ppy: f32,
) -> usize {
    if start >= w || h == 0 {
        return start;
    }
    let left = start.saturating_sub((STROKE_BACK_MM * ppx) as usize);
    let top = (yb - STROKE_REACH_MM * ppy).max(0.0) as usize;
    let bottom = ((yb + STROKE_REACH_MM * ppy).max(0.0) as usize).min(h - 1);
    if top > bottom {
        return start;
    }
    let (ww, wh) = (start - left + 1, bottom - top + 1);
    let mut seen = vec![false; ww * wh];
    let mut stack: Vec<(usize, usize)> = (y0.max(top)..=y1.min(bottom))
        .filter(|&y| m[y * w + start] >= lvl)
        .map(|y| (start, y))
        .collect();
    for &(x, y) in &stack {
        seen[(y - top) * ww + x - left] = true;
    }
    let mut leftmost = start;
    while let Some((x, y)) = stack.pop() {
        leftmost = leftmost.min(x);
        for (dx, dy) in [
            (-1, -1),
            (-1, 0),
            (-1, 1),
            (0, -1),
            (0, 1),
            (1, -1),
            (1, 0),
            (1, 1),
        ] {
            let (nx, ny) = (x as isize + dx, y as isize + dy);
            if nx < left as isize
                || nx > start as isize
                || ny < top as isize
                || ny > bottom as isize
            {
                continue;
            }
            let (nx, ny) = (nx as usize, ny as usize);
            let k = (ny - top) * ww + nx - left;
            if !seen[k] && m[ny * w + nx] >= lvl {
                seen[k] = true;
                stack.push((nx, ny));
            }
        }
    }
    leftmost
}

/// A label is looked for from this far left of the row's first ink, mm...
const LABEL_BEFORE_MM: f32 = 1.0;
/// ... to this far right of it, mm.
const LABEL_AFTER_MM: f32 = 14.0;
/// ... and this far above and below the baseline, mm.
const LABEL_REACH_MM: f32 = 5.0;
/// A word must begin within this of the row's first ink, mm.
const LABEL_AT_START_MM: f32 = 1.0;
/// The trace must resume within this of the word's end, mm.
const LABEL_GAP_MM: f32 = 4.0;
/// Smallest read score of a lead name that moves a row's start.
const LABEL_MIN_SCORE: f32 = 0.7;

/// Where the trace starts when the row's ink begins with a lead name
/// printed on its baseline, left of the trace (`I ~~~`, `aVR ~~~`): a word
/// that reads as a lead name with [`LABEL_MIN_SCORE`], begins at `start`
/// and straddles the baseline `yb`, with no other ink in its columns of
/// the row's band `y0..=y1` (a label printed under or over the trace's
/// first strokes shares their columns) and the row's ink (`occ`, one flag
/// per column) resuming within [`LABEL_GAP_MM`] after it. `None` otherwise.
#[allow(clippy::too_many_arguments)]
pub(super) fn past_label(
    mask: &GrayImage,
    lvl: u8,
    occ: &[bool],
    (y0, y1): (usize, usize),
    yb: f32,
    start: usize,
    ppx: f32,
    ppy: f32,
) -> Option<usize> {
    let w = mask.width() as usize;
    let window = (
        start.saturating_sub((LABEL_BEFORE_MM * ppx) as usize),
        (yb - LABEL_REACH_MM * ppy).max(0.0) as usize,
        (start + (LABEL_AFTER_MM * ppx) as usize).min(w),
        (yb + LABEL_REACH_MM * ppy).max(0.0) as usize + 1,
    );
    let comps = words::components(mask, window, lvl, 0.5 * (ppx + ppy));
    let read = words::words(comps)
        .iter()
        .filter_map(|word| words::decode(word))
        .filter(|r| r.score >= LABEL_MIN_SCORE)
        .filter(|r| (r.bbox.x0 - start as f32).abs() <= LABEL_AT_START_MM * ppx)
        .find(|r| r.bbox.y0 <= yb && r.bbox.y1 >= yb)?;
    let (lx0, lx1) = (r_col(read.bbox.x0), r_col(read.bbox.x1));
    let (ly0, ly1) = (r_col(read.bbox.y0), r_col(read.bbox.y1));
    let m = mask.as_raw();
    let alone = (lx0..=lx1.min(w - 1)).all(|x| {
        (y0..=y1)
            .filter(|&y| y + 1 < ly0 || y > ly1 + 1)
            .all(|y| m[y * w + x] < lvl)
    });
    if !alone {
        return None;
    }
    let resume = (lx1 + 1..occ.len()).find(|&x| occ[x])?;
    ((resume - lx1) as f32 <= LABEL_GAP_MM * ppx).then_some(resume)
}

/// A pixel coordinate as a column or row index.
fn r_col(v: f32) -> usize {
    v.max(0.0).round() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Grid crossings a millimetre (4 px) apart from the page's edge, then
    /// a trace from column 36.
    fn crossings_then_trace() -> Vec<bool> {
        (0..120)
            .map(|x| if x < 36 { x % 4 == 1 } else { true })
            .collect()
    }

    #[test]
    fn a_grids_crossings_leading_into_a_trace_are_not_solid() {
        let s = solid(&crossings_then_trace(), 4, 6);
        // (the last crossing, within a window of the trace, may join it)
        let first = s.iter().position(|&o| o);
        assert!(first.is_some_and(|x| (33..=36).contains(&x)), "{first:?}");
        assert!(s[36..].iter().all(|&o| o));
        // crossings alone are no solid ink
        let crossings: Vec<bool> = (0..120).map(|x| x % 4 == 1).collect();
        assert!(!solid(&crossings, 4, 6).iter().any(|&o| o));
    }

    #[test]
    fn a_flat_trace_off_the_baseline_is_no_line_from_the_pages_edge() {
        // a dotted grid row from the edge 3 px under the baseline, and a
        // flat trace three pixels thick from column 36 whose middle lies
        // 2.5 px above the baseline found for the row (a thick low-resolution
        // line)
        let (w, h, ppx) = (400usize, 40usize, 3.7f32);
        let mut m = vec![0u8; w * h];
        for x in (1..w).step_by(4) {
            m[25 * w + x] = 255;
        }
        for y in 18..=20 {
            for x in 36..w {
                m[y * w + x] = 255;
            }
        }
        let start = start_past_lines(&m, w, 128, (10, 33), 21.9, 1, ppx);
        assert_eq!(start, Some(36));
    }

    #[test]
    fn a_first_wave_above_the_band_starts_the_row() {
        // 4 px/mm; baseline at y 60, band +-12 px; the trace starts at
        // x 40, 20 px above the baseline, and comes down to it at x 60;
        // a lead name under the start, not touching the trace
        let (w, h, pp) = (300usize, 120usize, 4.0f32);
        let mut m = vec![0u8; w * h];
        for x in 40..w {
            let y = if x < 60 {
                60.0 - 20.0 * ((x - 40) as f32 * std::f32::consts::PI / 40.0).cos()
            } else {
                60.0
            };
            let y = y.round() as usize;
            for yy in y.saturating_sub(1)..=y + 1 {
                m[yy * w + x] = 255;
            }
        }
        for y in 75..85 {
            m[y * w + 30] = 255;
        }
        // the band's ink begins where the wave comes back into it
        let band_start = (40..w)
            .find(|&x| (48..=72).any(|y| m[y * w + x] > 0))
            .expect("ink in the band");
        assert!(band_start > 45, "{band_start}");
        let s = start_along_stroke(&m, (w, h), 128, (48, 72), 60.0, band_start, pp, pp);
        assert_eq!(s, 40);
    }
}
