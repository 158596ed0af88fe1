//! The rows as a time ruler: where the horizontal scale comes from the
//! calibration pulse's height, the length of the traced rows refines it.
//!
//! Why: without a confident grid, `calibration_pulse` takes the scale from
//! the pulse's height, 10 mm. On a coarse page that height is a few tens of
//! pixels, measured to a pixel: at 55 dpi (22 px) the scale is off by up to
//! 2–3 %, and 2 % of 10 s is 0.2 s at the row's end, where every beat is
//! misplaced. A row that shows the page's seconds (the layout's assumption)
//! is 250 mm long: measured to a pixel over hundreds, it gives the
//! horizontal scale ten times more precisely.
//!
//! How: for each row whose end is not a calibration pulse, the trace's end
//! is the last ink column within 12 mm of the baseline, near where the
//! layout ends the row (within [`SEARCH_SHARE`] of the row's length), after
//! which the band stays empty for [`CLEAR_MM`]. The row's length over its
//! seconds gives the scale; the median over rows is used when at least two
//! rows agree within [`MAX_SPREAD`] and it is within [`MAX_CORRECTION`] of
//! the pulse's scale (the ruler refines the pulse, it never overrules it).

use super::pulse::{find_pulse_in, RowEnd};
use ecgdig_core::prelude::*;

/// How far from the layout's row end the trace's end is looked for, as a
/// share of the row's length.
pub const SEARCH_SHARE: f32 = 0.08;
/// Empty band after a trace's end, mm.
pub const CLEAR_MM: f32 = 4.0;
/// Half-height of the band searched around the baseline, mm.
const BAND_MM: f32 = 12.0;
/// Largest relative spread of the rows' scales.
pub const MAX_SPREAD: f32 = 0.01;
/// Largest relative change to the pulse's scale.
pub const MAX_CORRECTION: f32 = 0.05;

/// The horizontal scale (px per mm) the rows' lengths give, read at `grid`;
/// `None` unless two rows agree and it is near `grid`'s.
pub fn row_scale(
    mask: &image::GrayImage,
    layout: &Layout,
    grid: &GridInfo,
    ink_level: u8,
) -> Option<f32> {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let m = mask.as_raw();
    let (ppx, ppy) = (grid.px_per_mm_x.max(0.5), grid.px_per_mm_y.max(0.5));
    let speed = grid.mm_per_second;
    if speed.is_nan() || speed <= 0.0 || w == 0 || h == 0 {
        return None;
    }
    let mut rows: Vec<usize> = layout.panels.iter().map(|p| p.row).collect();
    rows.sort_unstable();
    rows.dedup();
    let mut scales = Vec::new();
    for row in rows {
        let panels = || layout.panels.iter().filter(|p| p.row == row);
        let (Some(first), Some(last)) = (
            panels().min_by(|a, b| a.t_start.total_cmp(&b.t_start)),
            panels().max_by(|a, b| a.t_end.total_cmp(&b.t_end)),
        ) else {
            continue;
        };
        let seconds = last.t_end - first.t_start;
        let x0 = first.x_start;
        let length = last.x_end - x0;
        if seconds <= 0.0 || length <= 0.0 {
            continue;
        }
        let b = last.baseline_y;
        let pulse = find_pulse_in(
            m,
            w,
            h,
            ink_level,
            (last.x_end - 1.0 * ppx, last.x_end + 12.0 * ppx),
            RowEnd::Start,
            b,
            ppx,
            ppy,
        );
        if pulse.is_some() {
            continue;
        }
        let band = |x: usize| {
            let y0 = (b - BAND_MM * ppy).max(0.0) as usize;
            let y1 = ((b + BAND_MM * ppy).max(0.0) as usize).min(h - 1);
            (y0..=y1).any(|y| m[y * w + x] >= ink_level)
        };
        let lo = (last.x_end - SEARCH_SHARE * length).max(0.0) as usize;
        let hi = ((last.x_end + SEARCH_SHARE * length).max(0.0) as usize).min(w - 1);
        let clear = (CLEAR_MM * ppx).ceil() as usize;
        // the last ink column in the window followed by an empty band
        let end = (lo..=hi)
            .rev()
            .find(|&x| band(x) && x + clear < w && (x + 1..=x + clear).all(|xx| !band(xx)));
        let Some(end) = end else { continue };
        // the trace's last point stands one sample before the row's end
        scales.push((end as f32 + 1.0 - x0) / (seconds * speed));
    }
    if scales.len() < 2 {
        return None;
    }
    scales.sort_by(f32::total_cmp);
    let median = scales[scales.len() / 2];
    let agree = scales
        .iter()
        .filter(|&&s| (s / median - 1.0).abs() <= MAX_SPREAD)
        .count();
    let near = (median / ppx - 1.0).abs() <= MAX_CORRECTION;
    (agree >= 2 && 2 * agree > scales.len() && near).then_some(median)
}
