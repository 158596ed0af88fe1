//! Rows of traces: baselines from the ink's horizontal projection, each
//! row's extent and pulse, and the rules that tell a row from header text,
//! grid fragments and ruled lines.

use super::detect::{LayoutDetectConfig, Row};
use super::pulse::{find_row_pulse, RowEnd};
use super::row_start::{
    past_label, solid, start_along_stroke, start_past_lines, stretches, EDGE_MM,
    MAX_SKIPPED_DENSITY, SOLID_GAP_MM, SOLID_MIN_MM,
};
use super::row_strokes::{stroke_columns, BRIDGE_PX, MIN_STROKE_SHARE, STROKE_MIN_MM};
use crate::imaging;
use ecgdig_core::prelude::*;

impl LayoutDetectConfig {
    /// [`Self::find_rows`], with pulse edges placed from the page image when
    /// it is given.
    pub fn find_rows_in(
        &self,
        mask: &image::GrayImage,
        image: Option<&image::RgbImage>,
        grid: &GridInfo,
        fs: f32,
    ) -> Vec<Row> {
        let (w, h) = (mask.width() as usize, mask.height() as usize);
        let m = mask.as_raw();
        let lvl = self.ink_level;
        let ppy = grid.px_per_mm_y.max(0.5);
        let ppx = grid.px_per_mm_x.max(0.5);
        let mut proj = vec![0f32; h];
        for (y, p) in proj.iter_mut().enumerate() {
            *p = m[y * w..(y + 1) * w].iter().filter(|&&v| v >= lvl).count() as f32;
        }
        let sm = imaging::smooth(&proj, ((0.4 * ppy) as usize).max(1));
        let gap = (self.min_row_gap_mm * ppy) as usize;
        // local maxima, strongest first, with non-maximum suppression
        let mut peaks: Vec<usize> = (1..h.saturating_sub(1))
            .filter(|&y| sm[y] > 0.0 && sm[y] >= sm[y - 1] && sm[y] > sm[y + 1])
            .collect();
        peaks.sort_by(|&a, &b| sm[b].total_cmp(&sm[a]));
        let mut kept: Vec<usize> = Vec::new();
        for p in peaks {
            if kept.iter().all(|&k| k.abs_diff(p) >= gap) {
                kept.push(p);
            }
        }
        // (a coarse page draws the same wave with fewer pixels)
        let min_waviness = if self.waviness_px_per_mm > 0.0 {
            self.min_waviness * (ppy / self.waviness_px_per_mm).min(1.0)
        } else {
            self.min_waviness
        };
        // (projection peak, passes the waviness bar on its own, the heights
        // (mm) of its pulses at its start and end, row)
        let mut cands: Vec<(f32, bool, [Option<f32>; 2], Row)> = Vec::new();
        // rows that neither wave enough nor show a pulse: a flat lead of a
        // 12x1 page, or grid fragments; only a gap in the rows' spacing
        // takes them back
        let mut quiet: Vec<Row> = Vec::new();
        for &y in &kept {
            let yb = imaging::parabolic_peak(&sm, y);
            // ink along the baseline: column occupancy within +-3 mm
            let half = (3.0 * ppy) as usize;
            let (y0, y1) = (y.saturating_sub(half), (y + half).min(h - 1));
            let occ: Vec<bool> = (0..w)
                .map(|x| (y0..=y1).any(|yy| m[yy * w + x] >= lvl))
                .collect();
            // stretches of ink with gaps up to 4 mm bridged; the row spans
            // from the first to the last stretch of at least 3 mm
            let runs = stretches(&occ, (4.0 * ppx) as usize);
            let min_len = (3.0 * ppx) as usize;
            let long: Vec<&(usize, usize)> = runs.iter().filter(|s| s.1 - s.0 >= min_len).collect();
            let (Some(first), Some(last)) = (long.first(), long.last()) else {
                continue;
            };
            let covered: usize = long.iter().map(|s| s.1 - s.0 + 1).sum();
            if (covered as f32) < self.min_row_length_mm * ppx {
                continue;
            }
            let (x0, x1) = (first.0, last.1);
            // specks a grid left behind are no trace: a trace is strokes
            let min_stroke = (STROKE_MIN_MM * ppx).round() as usize;
            let strokes = stroke_columns(m, w, lvl, (y0, y1), (x0, x1), (min_stroke, BRIDGE_PX));
            // the row starts at solid ink: a grid line's fragments left in
            // the mask along the baseline are sparse, a trace is not
            let solid_occ = solid(
                &occ,
                (SOLID_GAP_MM * ppx) as usize,
                (SOLID_MIN_MM * ppx) as usize,
            );
            let start = stretches(&solid_occ, (4.0 * ppx) as usize)
                .into_iter()
                .find(|s| s.1 - s.0 >= min_len)
                .map_or(x0, |s| s.0.max(x0));
            // (only when what it skips is sparse: a faint trace broken by
            // the segmenter is denser than a grid line's fragments)
            let skipped = occ[x0..start].iter().filter(|&&o| o).count();
            let start = if (skipped as f32) < MAX_SKIPPED_DENSITY * (start - x0) as f32 {
                start
            } else {
                x0
            };
            // ink from the page's very edge is a grid line the segmenter
            // kept (a trace has a margin): the row starts past such lines
            let start = if (x0 as f32) < EDGE_MM * ppx {
                start_past_lines(m, w, lvl, (y0, y1), yb, x0, ppx).map_or(start, |s| s.max(start))
            } else {
                start
            };
            // (and at a stroke: specks before the first one are a grid's)
            let start = strokes.first_stroke().map_or(start, |s| s.max(start));
            // a first stroke that comes from above or below the band
            let start = if (x0 as f32) < EDGE_MM * ppx {
                start
            } else {
                start_along_stroke(m, (w, h), lvl, (y0, y1), yb, start, ppx, ppy)
            };
            // a lead name printed on the baseline before the trace
            let start = past_label(mask, lvl, &occ, (y0, y1), yb, start, ppx, ppy).unwrap_or(start);
            // a trace waves: ink away from the baseline (not a ruled line)
            let core = (0.6 * ppy).max(1.0) as usize;
            let reach = (8.0 * ppy) as usize;
            let (r0, r1) = (y.saturating_sub(reach), (y + reach).min(h - 1));
            let mut off = 0usize;
            for yy in (r0..=r1).filter(|&yy| yy.abs_diff(y) > core) {
                off += m[yy * w + x0..=yy * w + x1]
                    .iter()
                    .filter(|&&v| v >= lvl)
                    .count();
            }
            let waviness = off as f32 / (x1 - x0 + 1) as f32;
            // a straight slanted line (a sheet's edge or a fold on a
            // scan) is no trace: the page is level, its traces wave
            if slanted_line(m, w, lvl, (y0, y1), (x0, x1), ppy) {
                continue;
            }
            // a row that starts with a calibration pulse is a row however
            // quiet its trace (a low-voltage rhythm strip)
            let found = find_row_pulse(RowEnd::Start, m, w, h, lvl, x0, yb, ppx, ppy);
            // ...or ends with one (a pulse right of the last trace)
            let found_end = find_row_pulse(RowEnd::End, m, w, h, lvl, x1, yb, ppx, ppy)
                .filter(|e| found.is_none_or(|p| e.rise > p.fall + ppx));
            // (a pulse shields a quiet row: a dotted low-voltage line)
            if strokes.share() < MIN_STROKE_SHARE && found.is_none() && found_end.is_none() {
                continue;
            }
            let (pulse, x_start) = match found {
                Some(p) => {
                    let edges = (p.rise, p.fall);
                    let (pulse, start) = self.place_pulse(edges, image, mask, yb, fs, grid);
                    (Some(pulse), start)
                }
                None => (None, start as f32),
            };
            let end_pulse = found_end.map(|e| (e.rise, e.fall));
            let row = Row {
                baseline_y: yb,
                ink_x0: if found.is_some() { x0 } else { start } as f32,
                ink_x1: x1 as f32,
                x_start,
                pulse,
                end_pulse,
                x_stop: end_pulse.map(|e| self.signal_stop(e.0, grid, fs)),
                waviness,
            };
            if waviness < min_waviness && !row.has_pulse() {
                quiet.push(row);
                continue;
            }
            cands.push((
                sm[y],
                waviness >= min_waviness,
                [found, found_end].map(|p| p.map(|p| p.height_mm)),
                row,
            ));
        }
        // the pulses of a page show one gain: a pulse of another height
        // than most (a neighbour's pulse or a wave seen from an odd
        // baseline) is not one, nor is a row that had only it to show
        let heights: Vec<f32> = cands.iter().flat_map(|c| c.2).flatten().collect();
        let count = |mm: f32| heights.iter().filter(|&&h| h == mm).count();
        let most = heights.iter().copied().max_by_key(|&h| count(h));
        if let Some(most) = most.filter(|&m| 2 * count(m) > heights.len()) {
            for (_, _, classes, r) in cands.iter_mut() {
                if classes[0].is_some_and(|h| h != most) {
                    r.pulse = None;
                    r.x_start = r.ink_x0;
                }
                if classes[1].is_some_and(|h| h != most) {
                    r.end_pulse = None;
                    r.x_stop = None;
                }
            }
            cands.retain(|c| c.1 || c.3.has_pulse());
        }
        // a page places its pulses one way: where rows start with pulses
        // and fewer than half of them also end with one, the pulses stand at
        // the starts, and a "pulse" at a row's end is a grid cell or a
        // crease running into a neighbour's spikes; it must neither shield
        // a quiet row from the rules below nor cut a row short
        let starts = cands.iter().filter(|c| c.3.pulse.is_some()).count();
        let both = cands
            .iter()
            .filter(|c| c.3.pulse.is_some() && c.3.end_pulse.is_some())
            .count();
        if starts >= 2 && 2 * both < starts {
            for c in cands.iter_mut() {
                c.3.end_pulse = None;
                c.3.x_stop = None;
            }
        }
        let top = cands.iter().map(|c| c.0).fold(0.0, f32::max);
        let kept: Vec<(bool, Row)> = cands
            .into_iter()
            .filter(|c| c.0 >= self.min_peak_fraction * top || c.3.has_pulse())
            .map(|c| (c.0 >= self.min_peak_fraction * top && c.1, c.3))
            .collect();
        // rows kept for their pulse alone prop a layout up but cannot make
        // one: a page where no row passes on its own ink is not read (its
        // traces were lost to segmentation, say), rather than half read
        if !kept.iter().any(|(own, _)| *own) {
            return Vec::new();
        }
        let mut rows: Vec<Row> = kept.into_iter().map(|(_, r)| r).collect();
        rows.sort_by(|a, b| a.baseline_y.total_cmp(&b.baseline_y));
        // the pulses of a page stand in one column: a "pulse" well off it
        // (a grid line and a steep stroke, a neighbouring row's pulse seen
        // through a shadow) is not one
        let rises: Vec<f32> = rows.iter().filter_map(|r| r.pulse.map(|p| p.0)).collect();
        if rises.len() >= 3 {
            let column = imaging::median(&rises);
            for r in rows.iter_mut() {
                if r.pulse
                    .is_some_and(|p| (p.0 - column).abs() > self.pulse_column_tolerance_mm * ppx)
                {
                    r.pulse = None;
                    r.x_start = r.ink_x0;
                }
            }
        }
        // (so do the pulses at the rows' ends)
        let ends: Vec<f32> = rows
            .iter()
            .filter_map(|r| r.end_pulse.map(|p| p.0))
            .collect();
        if ends.len() >= 3 {
            let column = imaging::median(&ends);
            for r in rows.iter_mut() {
                if r.end_pulse
                    .is_some_and(|p| (p.0 - column).abs() > self.pulse_column_tolerance_mm * ppx)
                {
                    r.end_pulse = None;
                    r.x_stop = None;
                }
            }
        }
        // with two or more pulsed rows to compare with, a row without a
        // pulse whose ink hardly waves next to theirs is grid fragments or
        // a crease picked up off the traces (a header area's ghost rows)
        let pulsed_waviness: Vec<f32> = rows
            .iter()
            .filter(|r| r.has_pulse())
            .map(|r| r.waviness)
            .collect();
        if pulsed_waviness.len() >= 2 {
            let bar = self.min_relative_waviness * imaging::median(&pulsed_waviness);
            rows.retain(|r| r.has_pulse() || r.waviness >= bar);
        }
        // rows without a pulse start where the others do when most have one
        let starts: Vec<f32> = rows
            .iter()
            .filter(|r| r.pulse.is_some())
            .map(|r| r.x_start)
            .collect();
        // when three or more rows start (or end) with a calibration pulse,
        // rows without one outside them are text lines, shadows or page
        // edges (above the first or below the last row with a pulse)
        let n_pulsed = rows.iter().filter(|r| r.has_pulse()).count();
        if n_pulsed >= 3 {
            let first = rows.iter().position(|r| r.has_pulse()).unwrap_or(0);
            let last = rows.iter().rposition(|r| r.has_pulse()).unwrap_or(0);
            // ...unless the row ends where the pulsed rows end and stands
            // one row spacing beyond them: a noisy rhythm strip whose
            // pulse was missed
            let pulsed: Vec<&Row> = rows.iter().filter(|r| r.has_pulse()).collect();
            let end = imaging::median(&pulsed.iter().map(|r| r.ink_x1).collect::<Vec<_>>());
            let spacing = row_spacing(&pulsed.iter().map(|r| r.baseline_y).collect::<Vec<_>>());
            // a row one spacing on from the last kept one continues the
            // layout (several rhythm strips without pulses chain on)
            let continues = |r: &Row, from: f32| {
                let d = (r.baseline_y - from).abs();
                let ends_with_them = (r.ink_x1 - end).abs() < 2.0 * ppx;
                // ...or, cut by the page's edge (a rotated photo), stands
                // right where the next row would
                let on_the_beat = d > 0.85 * spacing && d < 1.2 * spacing;
                (ends_with_them || on_the_beat) && d > 0.7 * spacing && d < 1.4 * spacing
            };
            let mut keep: Vec<bool> = (0..rows.len())
                .map(|i| rows[i].has_pulse() || (i > first && i < last))
                .collect();
            let mut from = rows[last].baseline_y;
            for i in last + 1..rows.len() {
                if continues(&rows[i], from) {
                    keep[i] = true;
                    from = rows[i].baseline_y;
                }
            }
            // above them lies the header, where grid fragments and text
            // lines make rows too: a real row there whose pulse was missed
            // still shows the pulse's rising edge, solid ink where the
            // others rise
            // (a skewed photo's pulses stand on a slanted line)
            let rise_at = rise_line(&pulsed);
            let reach = (self.missed_pulse_search_mm * ppx).round() as isize;
            let shows_rise = |r: &Row| {
                let rise = rise_at(r.baseline_y).round() as isize;
                self.missed_pulse_min_density <= 0.0
                    || ink_coverage(
                        m,
                        w,
                        h,
                        lvl,
                        rise - reach..=rise + reach,
                        r.baseline_y - 9.0 * ppy,
                        r.baseline_y - 1.0 * ppy,
                        3,
                    ) >= self.missed_pulse_min_density
            };
            let mut from = rows[first].baseline_y;
            for i in (0..first).rev() {
                if continues(&rows[i], from) && shows_rise(&rows[i]) {
                    keep[i] = true;
                    from = rows[i].baseline_y;
                }
            }
            retain_indexed(&mut rows, |i, _| keep[i]);
        }
        // rows without a pulse crowded between rows with one (ruled lines,
        // a neighbour's tall waves) are not rows either: real rows keep the
        // spacing of the pulsed ones
        if n_pulsed >= 3 {
            let pulsed: Vec<f32> = rows
                .iter()
                .filter(|r| r.has_pulse())
                .map(|r| r.baseline_y)
                .collect();
            let spacing = row_spacing(&pulsed);
            if spacing.is_finite() && spacing > 0.0 {
                rows.retain(|r| {
                    r.has_pulse()
                        || pulsed
                            .iter()
                            .all(|&b| (b - r.baseline_y).abs() > 0.6 * spacing)
                });
            }
        }
        // a header's text lines stand above the traces and stop short of
        // their width: rows above the first full-width one that span less
        // than `min_header_row_fraction` of the rows' median width (and
        // start without a pulse) are text
        // (a pulse shields such a row only when another row shows one too:
        // the stacked left edges of a header's text lines make a lone
        // "pulse" on a cropped page whose own pulses were cut off)
        if rows.len() >= 3 && self.min_header_row_fraction > 0.0 {
            let widths: Vec<f32> = rows.iter().map(|r| r.ink_x1 - r.ink_x0).collect();
            let typical = imaging::median(&widths);
            let shielded = rows.iter().filter(|r| r.has_pulse()).count() >= 2;
            if let Some(first_full) = widths.iter().position(|&w| w >= 0.8 * typical) {
                retain_indexed(&mut rows, |i, r| {
                    i >= first_full
                        || (shielded && r.has_pulse())
                        || widths[i] >= self.min_header_row_fraction * typical
                });
            }
        }
        fill_gaps(&mut rows, quiet);
        if starts.len() * 2 > rows.len() {
            let med = imaging::median(&starts);
            let first = rows.iter().position(|r| r.pulse.is_some()).unwrap_or(0);
            let last = rows.iter().rposition(|r| r.pulse.is_some()).unwrap_or(0);
            // (a row whose ink begins further left took a page edge or a
            // shadow for its start; one between pulsed rows whose ink begins
            // further right lost its first strokes to faint ink)
            for (i, r) in rows.iter_mut().enumerate() {
                if r.pulse.is_none() && (r.x_start - med < 15.0 * ppx || (i > first && i < last)) {
                    r.x_start = med;
                }
            }
        } else if starts.is_empty() && rows.len() >= 3 && self.margin_outlier_mm > 0.0 {
            // no pulses: the rows of a page share a left margin, so a row
            // whose ink begins well left of the others' took a page edge,
            // a grid fragment or a margin note for its start
            let med = imaging::median(&rows.iter().map(|r| r.x_start).collect::<Vec<_>>());
            for r in rows.iter_mut() {
                if med - r.x_start > self.margin_outlier_mm * ppx {
                    r.x_start = med;
                }
            }
        }
        // rows without a pulse at their end stop where the others' signals
        // stop when most rows end with one (their pulse was missed)
        let stops: Vec<f32> = rows.iter().filter_map(|r| r.x_stop).collect();
        if stops.len() * 2 > rows.len() {
            let med = imaging::median(&stops);
            for r in rows.iter_mut().filter(|r| r.end_pulse.is_none()) {
                if r.ink_x1 > med {
                    r.x_stop = Some(med);
                }
            }
        }
        rows
    }
}

/// The least-squares line through the pulsed rows' rising edges, as x
/// against the baseline's y (flat when they share a y): the pulses at the
/// rows' starts, or at their ends when fewer than two rows start with one.
fn rise_line(rows: &[&Row]) -> impl Fn(f32) -> f32 {
    let at_start = rows.iter().filter(|r| r.pulse.is_some()).count() >= 2;
    let pts: Vec<(f32, f32)> = rows
        .iter()
        .filter_map(|r| {
            let p = if at_start { r.pulse } else { r.end_pulse };
            p.map(|p| (r.baseline_y, p.0))
        })
        .collect();
    let line = imaging::fit_line(&pts);
    move |y| line.map_or(0.0, |l| l.at(y))
}

/// Share of a row's inked columns that must lie on one straight line for
/// it to be a line rather than a trace.
const STRAIGHT_SHARE: f32 = 0.95;
/// A straight line is a sheet's edge rather than a flat trace when it
/// climbs or falls at least this much over its length, mm (a deskewed
/// page's rows are level to a fraction of a millimetre).
const MIN_SLANT_MM: f32 = 1.5;

/// Whether the ink between columns `x0..=x1` and rows `y0..=y1` of the
/// mask is one straight line slanted by [`MIN_SLANT_MM`] or more: each
/// inked column's ink centre lies within 0.25 mm (a pixel at least) of the
/// least-squares line for [`STRAIGHT_SHARE`] of the columns.
pub(super) fn slanted_line(
    m: &[u8],
    w: usize,
    lvl: u8,
    (y0, y1): (usize, usize),
    (x0, x1): (usize, usize),
    ppy: f32,
) -> bool {
    let mut pts: Vec<(f32, f32)> = Vec::new();
    for x in x0..=x1.min(w.saturating_sub(1)) {
        let (mut sum, mut n) = (0.0f32, 0usize);
        for y in y0..=y1 {
            if m[y * w + x] >= lvl {
                sum += y as f32;
                n += 1;
            }
        }
        if n > 0 {
            pts.push((x as f32, sum / n as f32));
        }
    }
    let Some(line) = imaging::fit_line(&pts).filter(|_| pts.len() >= 20) else {
        return false;
    };
    let (first, last) = (pts[0].0, pts[pts.len() - 1].0);
    if (line.at(last) - line.at(first)).abs() < MIN_SLANT_MM * ppy {
        return false;
    }
    let tol = (0.25 * ppy).max(1.0);
    let on = pts
        .iter()
        .filter(|&&(x, y)| (y - line.at(x)).abs() <= tol)
        .count();
    on as f32 >= STRAIGHT_SHARE * pts.len() as f32
}

/// Rows of a regular page whose spacing shows a gap of two or more
/// spacings: a quiet row (too flat to pass on its own, see `quiet`) where
/// a missing row should stand, spanning at least half the width of its
/// neighbours, is a row (a nearly flat lead of a 12x1 page, whose pulse was
/// missed). Needs [`MIN_REGULAR_GAPS`] gaps of one spacing (within 10 %),
/// so grid fragments between irregular rows are never taken.
pub(super) fn fill_gaps(rows: &mut Vec<Row>, quiet: Vec<Row>) {
    if rows.len() < 3 || quiet.is_empty() {
        return;
    }
    let ys: Vec<f32> = rows.iter().map(|r| r.baseline_y).collect();
    let spacing = row_spacing(&ys);
    if !spacing.is_finite() || spacing <= 0.0 {
        return;
    }
    let gaps: Vec<f32> = ys.windows(2).map(|p| p[1] - p[0]).collect();
    let regular = gaps
        .iter()
        .filter(|&&g| (g - spacing).abs() < 0.1 * spacing)
        .count();
    if regular < MIN_REGULAR_GAPS {
        return;
    }
    let mut added = Vec::new();
    for (pair, &gap) in rows.windows(2).zip(&gaps) {
        let k = (gap / spacing).round();
        if k < 2.0 || (gap - k * spacing).abs() > 0.1 * spacing {
            continue;
        }
        let width = 0.5 * ((pair[0].ink_x1 - pair[0].ink_x0) + (pair[1].ink_x1 - pair[1].ink_x0));
        for j in 1..k as usize {
            let want = pair[0].baseline_y + j as f32 * gap / k;
            let found = quiet
                .iter()
                .filter(|q| (q.baseline_y - want).abs() < 0.2 * spacing)
                .filter(|q| q.ink_x1 - q.ink_x0 >= 0.5 * width)
                .min_by(|a, b| {
                    (a.baseline_y - want)
                        .abs()
                        .total_cmp(&(b.baseline_y - want).abs())
                });
            if let Some(q) = found {
                added.push(q.clone());
            }
        }
    }
    rows.extend(added);
    rows.sort_by(|a, b| a.baseline_y.total_cmp(&b.baseline_y));
}

/// Gaps of one row spacing a page needs before a gap of several spacings
/// is filled.
const MIN_REGULAR_GAPS: usize = 3;

/// The spacing of rows from the baselines `ys` (sorted) of some of them:
/// where rows between two were not among them (their pulses were missed),
/// the gap spans several rows, so each gap counts as its whole multiple of
/// the smallest gap. NaN with fewer than two baselines.
pub(super) fn row_spacing(ys: &[f32]) -> f32 {
    let gaps: Vec<f32> = ys
        .windows(2)
        .map(|p| p[1] - p[0])
        .filter(|&g| g > 0.0)
        .collect();
    let Some(smallest) = gaps.iter().copied().reduce(f32::min) else {
        return f32::NAN;
    };
    let per_row: Vec<f32> = gaps
        .iter()
        .map(|&g| g / (g / smallest).round().max(1.0))
        .collect();
    imaging::median(&per_row)
}

/// Keeps the items of `v` for which `keep(index, item)` holds.
fn retain_indexed<T>(v: &mut Vec<T>, mut keep: impl FnMut(usize, &T) -> bool) {
    let mut i = 0;
    v.retain(|item| {
        i += 1;
        keep(i - 1, item)
    });
}

/// How much of the rows `from..=to` the mask's ink covers among columns
/// `xs` (columns off the page are skipped): the best fraction of rows
/// holding ink in any of `group` neighbouring columns. With `group = 1`
/// that is the densest column; with 3, a slightly slanted edge that steps
/// across columns still covers its rows, while a dotted line leaves gaps in
/// all of them.
#[allow(clippy::too_many_arguments)]
pub(super) fn ink_coverage(
    m: &[u8],
    w: usize,
    h: usize,
    lvl: u8,
    xs: std::ops::RangeInclusive<isize>,
    from: f32,
    to: f32,
    group: usize,
) -> f32 {
    let (ya, yb) = (from.max(0.0) as usize, (to.max(0.0) as usize).min(h - 1));
    let cols: Vec<usize> = xs
        .filter(|&x| x >= 0 && (x as usize) < w)
        .map(|x| x as usize)
        .collect();
    cols.windows(group.min(cols.len()).max(1))
        .map(|g| {
            let n = (ya..=yb)
                .filter(|&y| g.iter().any(|&x| m[y * w + x] >= lvl))
                .count();
            n as f32 / (yb.saturating_sub(ya) + 1) as f32
        })
        .fold(0.0, f32::max)
}
