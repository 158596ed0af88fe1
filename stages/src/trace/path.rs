//! The path search of `trace_viterbi`: per pixel column the vertical runs of
//! ink inside a panel, and the one continuous path through them that the
//! Viterbi pass finds cheapest (see [`super::viterbi`] for the costs).

use super::evidence::{column_shading, row_crossings, CrossingSearch, RowCrossing};
use super::fit::ColumnExtent;
use super::viterbi::TraceViterbiConfig;
use crate::imaging;
use ecgdig_core::prelude::*;

/// A vertical run of ink in one column.
#[derive(Clone, Copy, Debug)]
pub(super) struct Run {
    pub(super) y0: u32,
    pub(super) y1: u32,
    /// Intensity-weighted centre.
    pub(super) yc: f32,
    /// The centre line's sub-pixel top and bottom in this column, from the
    /// image's shading (NaN: from the run's ends).
    pub(super) lo: f32,
    pub(super) hi: f32,
    /// Mean ink strength 0..1.
    pub(super) strength: f32,
}

impl TraceViterbiConfig {
    pub(super) fn trace_panel(
        &self,
        mask: &image::GrayImage,
        image: Option<&image::RgbImage>,
        p: &Panel,
        grid: &GridInfo,
        guard_right_end: bool,
        cols: &mut Vec<Vec<Run>>,
    ) -> PanelPath {
        let (w, h) = (mask.width() as i64, mask.height() as i64);
        let m = mask.as_raw();
        // a panel's first columns also hold the end of the lead before it
        // (its last sample a step left of the start, and its pen's spread)
        let x0 =
            ((p.x_start + self.start_inset_mm * grid.px_per_mm_x).round() as i64).clamp(0, w - 1);
        let x1 = (p.x_end.round() as i64).clamp(0, w - 1);
        let y0 = (p.bbox.y0.floor() as i64).clamp(0, h - 1);
        let y1 = (p.bbox.y1.ceil() as i64).clamp(0, h - 1);
        if x1 <= x0 || y1 <= y0 {
            return PanelPath::default();
        }
        let ncol = (x1 - x0 + 1) as usize;
        let wu = w as usize;
        let merge = (self.merge_gap_mm * grid.px_per_mm_y).round().max(0.0) as usize;
        // coarse pages: thin strokes are faint and grid lines read as ink
        let low_res = grid.px_per_mm_y < self.low_res_px_per_mm;
        let ink_level = if low_res {
            self.low_res_ink_level
        } else {
            self.ink_level
        };
        // candidate runs per column
        cols.resize_with(ncol, Vec::new);
        for (ci, runs) in cols.iter_mut().enumerate().take(ncol) {
            runs.clear();
            let x = x0 as usize + ci;
            let mut next_y = y0 as usize;
            while next_y <= y1 as usize {
                let mut y = next_y;
                if m[y * wu + x] < ink_level {
                    next_y += 1;
                    continue;
                }
                let s = y;
                let mut sum = 0f32;
                let mut wsum = 0f32;
                let mut peak = 0u8;
                let mut last = y;
                // follow the run, bridging breaks of up to `merge` pixels
                // (faint, thin strokes of steep waves)
                while y <= y1 as usize && y <= last + merge {
                    let v = m[y * wu + x];
                    if v >= ink_level {
                        peak = peak.max(v);
                        let v = v as f32;
                        sum += v;
                        wsum += v * y as f32;
                        last = y;
                    }
                    y += 1;
                }
                let y = last + 1;
                runs.push(Run {
                    y0: s as u32,
                    y1: (y - 1) as u32,
                    yc: wsum / sum.max(1.0),
                    lo: f32::NAN,
                    hi: f32::NAN,
                    strength: if low_res && self.low_res_strength_from_peak {
                        0.5 * (peak as f32 / 255.0 + sum / ((y - s) as f32 * 255.0))
                    } else {
                        sum / ((y - s) as f32 * 255.0)
                    },
                });
                next_y = y;
            }
        }
        // The calibration pulse's falling edge and lead separator bars stand
        // at a panel's ends. They are vertical lines: a tall run repeated,
        // same top and bottom, in the next column; a steep wave's runs shift
        // from column to column. Those runs are not the trace.
        let guard_px = self.edge_guard_mm * grid.px_per_mm_x;
        let tall = 1.5 * grid.px_per_mm_y;
        let in_guard = |ci: usize| -> bool {
            let edge = if guard_right_end {
                ci.min(ncol - 1 - ci)
            } else {
                ci
            };
            (edge as f32) < guard_px
        };
        let is_tall = |r: &Run| ((r.y1 - r.y0 + 1) as f32) >= tall;
        let pulse_edge_cols = (self.pulse_edge_mm * grid.px_per_mm_x).round();
        let tol = (0.4 * grid.px_per_mm_y).round().max(2.0) as u32;
        let same_line = |a: &Run, b: &Run| a.y0.abs_diff(b.y0) <= tol && a.y1.abs_diff(b.y1) <= tol;
        let straddles_baseline = |r: &Run| {
            (r.y0 as f32) < p.baseline_y - 1.0 * grid.px_per_mm_y
                && (r.y1 as f32) > p.baseline_y + 1.0 * grid.px_per_mm_y
        };
        // runs at most `bar_gap` apart, as index ranges
        let bar_gap = (0.75 * grid.px_per_mm_y).round().max(2.0) as u32;
        let groups = |runs: &[Run]| -> Vec<(usize, usize)> {
            let mut out: Vec<(usize, usize)> = Vec::new();
            for (k, r) in runs.iter().enumerate() {
                match out.last_mut() {
                    Some(g) if r.y0 <= runs[g.1].y1 + bar_gap => g.1 = k,
                    _ => out.push((k, k)),
                }
            }
            out
        };
        // no ink in either neighbouring column within `tol` of `y`: a
        // stroke's end there is loose (a vertical line's ends are; a wave's
        // tall run joins the next column's at its tip or its foot)
        let loose_end = |ci: usize, y: u32| -> bool {
            [ci.wrapping_sub(1), ci + 1]
                .into_iter()
                .filter(|&n| n < ncol)
                .all(|n| !cols[n].iter().any(|q| q.y0 <= y + tol && q.y1 + tol >= y))
        };
        let mut bars: Vec<(usize, usize)> = Vec::new();
        for ci in (0..ncol).filter(|&ci| in_guard(ci)) {
            for (k, r) in cols[ci].iter().enumerate() {
                if !is_tall(r) {
                    continue;
                }
                // (a separator stands across the baseline; a lead's first
                // R wave, its strokes merged into one run, rises from it)
                let straddles = p.col == 0 || !self.bars_straddle_baseline || straddles_baseline(r);
                let repeated = straddles
                    && [ci.wrapping_sub(1), ci + 1]
                        .into_iter()
                        .filter(|&n| n < ncol)
                        .any(|n| cols[n].iter().any(|q| is_tall(q) && same_line(q, r)));
                // at a row's start the pulse's falling edge comes down from
                // the pulse's top (10 mm at standard gain), its wide pen
                // spilling a few columns into the signal, and cut short
                // there by antialiasing: few waves in the signal's first
                // half mm rise that fast
                let pulse_edge = p.col == 0
                    && (ci as f32) < pulse_edge_cols
                    && p.baseline_y - r.y0 as f32
                        > self.pulse_edge_min_height_mm * grid.px_per_mm_y;
                if repeated || pulse_edge {
                    bars.push((ci, k));
                }
            }
            // a bar one pixel wide (on a rotated page) is not repeated in
            // the next column, but both its ends are loose; noise may
            // break it into pieces, judged together (not at a row's start,
            // where the calibration pulse stands)
            if !self.lone_bars || (p.col == 0 && ci < ncol / 2) {
                continue;
            }
            for (first, last) in groups(&cols[ci]) {
                let (y0, y1) = (cols[ci][first].y0, cols[ci][last].y1);
                let whole = Run {
                    y0,
                    y1,
                    ..cols[ci][first]
                };
                if is_tall(&whole)
                    && straddles_baseline(&whole)
                    && loose_end(ci, y0)
                    && loose_end(ci, y1)
                {
                    bars.extend((first..=last).map(|k| (ci, k)));
                }
            }
        }
        bars.sort_unstable();
        bars.dedup();
        for &(ci, k) in bars.iter().rev() {
            cols[ci].remove(k);
        }
        for runs in cols.iter_mut().take(ncol) {
            if runs.len() > self.max_runs_per_column {
                runs.sort_by(|a, b| {
                    let la = (a.y1 - a.y0 + 1) as f32 * a.strength;
                    let lb = (b.y1 - b.y0 + 1) as f32 * b.strength;
                    lb.total_cmp(&la)
                });
                runs.truncate(self.max_runs_per_column);
                runs.sort_by_key(|r| r.y0);
            }
        }
        let cols = &cols[..ncol];
        let ppy = grid.px_per_mm_y.max(0.5);
        let max_skip = ((self.max_skip_mm * grid.px_per_mm_x).round() as usize).max(1);
        // Viterbi with look-back over skipped columns
        // the baseline cost only ranks a column's runs against each other:
        // measured from the column's nearest run, so a tall wave's only run
        // costs no more than a run on the baseline (else skipping it wins)
        // where a lead's label is printed: below the baseline at the
        // panel's start (its bold glyphs would lure a path that has no past)
        let label_cols = (self.label_band_width_mm * grid.px_per_mm_x).max(0.0) as usize;
        let (band0, band1) = (
            p.baseline_y + self.label_band_mm[0] * ppy,
            p.baseline_y + self.label_band_mm[1] * ppy,
        );
        // a run much thinner than the panel's pen (a grid dot, a speck)
        // is rarely the trace: inside a steep wave's span it would cut the
        // tip, since the tall runs either side cover it as well as the tip
        let short_run_cost = if low_res {
            self.low_res_short_run_cost
        } else {
            self.short_run_cost
        };
        let short_len = self.short_run_pens * typical_stroke_px(cols, p.baseline_y);
        let node_cost = |r: &Run, nearest: f32, ci: usize| -> f32 {
            let in_label = ci < label_cols && r.yc >= band0 && r.yc <= band1;
            let len = (r.y1 - r.y0 + 1) as f32;
            short_run_cost * (1.0 - len / short_len).max(0.0)
                + (if in_label { self.label_band_cost } else { 0.0 })
                + self.weak_ink_cost * (1.0 - r.strength)
                + self.baseline_cost_per_mm * ((r.yc - p.baseline_y).abs() - nearest) / ppy
                + self.far_cost_per_mm * (r.yc - p.baseline_y).abs() / ppy
        };
        // the vertical gap from run a to run b; with `bridge` (the two
        // columns' runs), only its longest stretch they leave uncovered (a
        // steep stroke broken by noise still climbs piece by piece)
        let jump = |a: &Run, b: &Run, bridge: Option<(&[Run], &[Run])>| -> f32 {
            let (lo, hi) = if b.y0 > a.y1 {
                (a.y1 + 1, b.y0)
            } else if a.y0 > b.y1 {
                (b.y1 + 1, a.y0)
            } else {
                (0, 0)
            };
            let gap = match bridge {
                Some((ca, cb)) if hi > lo + 1 => uncovered_stretch(lo, hi, ca, cb),
                _ => hi.saturating_sub(lo),
            } as f32;
            let mm = gap / ppy;
            self.jump_cost_per_mm * (mm + mm * mm)
        };
        // the cheapest path through columns lo..hi (it may start late and
        // end early, paying skip_cost per column left out)
        let over_reach = (self.skip_over_ink_reach_mm * ppy).round().max(0.0) as u32;
        // beyond the line only strokes count, not grid dots
        let counts_over = |q: &Run| over_reach == 0 || ((q.y1 - q.y0 + 1) as f32) >= short_len;
        let viterbi = |lo: usize, hi: usize| -> Vec<(usize, Run)> {
            let n = hi - lo;
            // cost[i][k], back[i][k] = (column offset, run)
            let mut cost: Vec<Vec<f32>> = Vec::with_capacity(n);
            let mut back: Vec<Vec<(u32, u32)>> = Vec::with_capacity(n);
            const NONE: u32 = u32::MAX;
            for i in 0..n {
                let here = &cols[lo + i];
                let mut cc = Vec::with_capacity(here.len());
                let mut bb = Vec::with_capacity(here.len());
                let nearest = here
                    .iter()
                    .map(|r| (r.yc - p.baseline_y).abs())
                    .fold(f32::INFINITY, f32::min);
                for r in here {
                    // start here: skipping the columns before
                    let mut best = (self.skip_cost * i as f32, (NONE, NONE));
                    for d in 1..=max_skip.min(i) {
                        let pi = i - d;
                        let skip = self.skip_cost * (d - 1) as f32;
                        let bridge = (self.bridge_jumps && d == 1)
                            .then(|| (cols[lo + pi].as_slice(), here.as_slice()));
                        for (k, pr) in cols[lo + pi].iter().enumerate() {
                            // skipping a column whose ink lies where the
                            // line would pass: the trace was there (a
                            // tall wave), not missing
                            let over_ink = if d > 1 && !low_res {
                                // (or within skip_over_ink_reach_mm of it: a
                                // wave's first broken stroke rising from the
                                // line)
                                let (a, b) = (
                                    pr.y0.min(r.y0).saturating_sub(over_reach),
                                    pr.y1.max(r.y1) + over_reach,
                                );
                                if cols[lo + pi + 1]
                                    .iter()
                                    .any(|q| q.y0 <= b && q.y1 >= a && counts_over(q))
                                {
                                    self.skip_over_ink_cost
                                } else {
                                    0.0
                                }
                            } else {
                                0.0
                            };
                            let c = cost[pi][k] + skip + over_ink + jump(pr, r, bridge);
                            if c < best.0 {
                                best = (c, (pi as u32, k as u32));
                            }
                        }
                    }
                    cc.push(best.0 + node_cost(r, nearest, lo + i));
                    bb.push(best.1);
                }
                cost.push(cc);
                back.push(bb);
            }
            // best end: allow ending early with a skip penalty
            let mut end: Option<(usize, usize, f32)> = None;
            for (i, cc) in cost.iter().enumerate() {
                for (k, &c) in cc.iter().enumerate() {
                    let total = c + self.skip_cost * (n - 1 - i) as f32;
                    if end.is_none_or(|e| total < e.2) {
                        end = Some((i, k, total));
                    }
                }
            }
            let Some((mut i, mut k, _)) = end else {
                return Vec::new();
            };
            let mut seg: Vec<(usize, Run)> = Vec::new();
            loop {
                seg.push((lo + i, cols[lo + i][k]));
                let (pi, pk) = back[i][k];
                if pi == NONE {
                    break;
                }
                i = pi as usize;
                k = pk as usize;
            }
            seg.reverse();
            seg
        };
        // A stretch without ink longer than max_skip_mm (a shadow, a faded
        // stroke) ends a path: the columns it leaves out before or after are
        // traced again on their own, and kept when they hold a path of at
        // least resume_mm.
        let min_rest = ((self.resume_mm * grid.px_per_mm_x).round() as usize).max(max_skip + 1);
        let mut path: Vec<(usize, Run)> = Vec::new();
        let mut todo: Vec<(usize, usize, bool)> = vec![(0, ncol, true)];
        while let Some((lo, hi, first)) = todo.pop() {
            let seg = viterbi(lo, hi);
            let (Some(&(a, _)), Some(&(b, _))) = (seg.first(), seg.last()) else {
                continue;
            };
            if !first {
                // a picked-up piece must look like a trace: long, nearly
                // unbroken, and centred on the row's baseline (not text, a
                // shadow's edge or a neighbour's wave)
                let offs: Vec<f32> = seg
                    .iter()
                    .map(|(_, r)| (r.yc - p.baseline_y).abs())
                    .collect();
                let dense = seg.len() as f32 >= 0.85 * (b - a + 1) as f32;
                let centred = imaging::median(&offs) <= self.resume_max_offset_mm * ppy;
                if b - a + 1 < min_rest || !dense || !centred {
                    continue;
                }
            }
            if self.resume_mm > 0.0 {
                if a - lo >= min_rest {
                    todo.push((lo, a, false));
                }
                if hi - 1 - b >= min_rest {
                    todo.push((b + 1, hi, false));
                }
            }
            path.extend(seg);
        }
        path.sort_by_key(|(c, _)| *c);
        if path.is_empty() {
            return PanelPath::default();
        }
        // pen width: median length of the chosen runs
        let lens: Vec<f32> = path.iter().map(|(_, r)| (r.y1 - r.y0 + 1) as f32).collect();
        let pen = imaging::median(&lens).max(1.0);
        if let (Some(im), true) = (image, self.subpixel_centres) {
            // flat strokes: the run's centre from the image's shading; its
            // thickness measures the pen
            let mut thick = Vec::new();
            for (c, r) in path.iter_mut() {
                if ((r.y1 - r.y0 + 1) as f32) <= pen + 0.5 {
                    if let Some(shade) = column_shading(im, (x0 as usize + *c) as u32, r.y0, r.y1) {
                        if let Some(yc) = shade.centre {
                            r.yc = yc;
                        }
                        if shade.edges.is_some() {
                            thick.push(shade.thickness);
                        }
                    }
                }
            }
            // taller runs: the centre line's ends half the pen's shaded
            // thickness inside the ink's sub-pixel edges
            if self.subpixel_ends && thick.len() >= 16 {
                let half = 0.5 * imaging::median(&thick);
                for (c, r) in path.iter_mut() {
                    if ((r.y1 - r.y0 + 1) as f32) > pen + 0.5 {
                        let shade = column_shading(im, (x0 as usize + *c) as u32, r.y0, r.y1);
                        if let Some((top, bottom)) = shade.and_then(|s| s.edges) {
                            if bottom - top > 2.0 * half {
                                r.lo = top + half;
                                r.hi = bottom - half;
                            }
                        }
                    }
                }
            }
        }
        let crossings = if self.fit_polyline
            && self.row_crossings
            && grid.px_per_mm_x >= self.crossing_min_px_per_mm
        {
            let runs: Vec<(u32, u32, u32)> = path
                .iter()
                .map(|(c, r)| ((x0 as usize + c) as u32, r.y0, r.y1))
                .collect();
            let search = CrossingSearch {
                pen_px: pen,
                min_extra_px: 2.0,
                max_width_pens: self.crossing_max_width_pens,
                max_merged_pens: self.crossing_max_merged_pens,
                ink_floor: 0,
            };
            row_crossings(mask, image, &runs, &search)
        } else {
            Vec::new()
        };
        PanelPath {
            x0: x0 as usize,
            pen,
            confidence: (path.len() as f32 / ncol as f32).clamp(0.0, 1.0),
            path,
            crossings,
        }
    }
}

/// The typical vertical length (px) of the trace's stroke in a panel: the
/// median over columns of the run nearest the baseline, which on most
/// columns is the flat trace itself. 1 when no column holds ink.
pub(super) fn typical_stroke_px(cols: &[Vec<Run>], baseline_y: f32) -> f32 {
    let lens: Vec<f32> = cols
        .iter()
        .filter_map(|runs| {
            runs.iter()
                .min_by(|a, b| {
                    (a.yc - baseline_y)
                        .abs()
                        .total_cmp(&(b.yc - baseline_y).abs())
                })
                .map(|r| (r.y1 - r.y0 + 1) as f32)
        })
        .collect();
    if lens.is_empty() {
        1.0
    } else {
        imaging::median(&lens).max(1.0)
    }
}

/// The longest stretch of rows `lo..hi` that no run of `a` or `b` covers
/// (both sorted by top and disjoint, as a column's runs are): what is left
/// of a jump between neighbouring columns once their ink bridges it.
pub(super) fn uncovered_stretch(lo: u32, hi: u32, a: &[Run], b: &[Run]) -> u32 {
    let (mut i, mut j) = (
        a.partition_point(|q| q.y1 < lo),
        b.partition_point(|q| q.y1 < lo),
    );
    let (mut at, mut longest) = (lo, 0u32);
    while at < hi {
        // the next run by top, from either column
        let q = match (a.get(i), b.get(j)) {
            (Some(p), Some(q)) if p.y0 <= q.y0 => {
                i += 1;
                p
            }
            (Some(p), None) => {
                i += 1;
                p
            }
            (_, Some(q)) => {
                j += 1;
                q
            }
            (None, None) => break,
        };
        if q.y0 >= hi {
            break;
        }
        if q.y1 < at {
            continue;
        }
        if q.y0 > at {
            longest = longest.max(q.y0 - at);
        }
        at = at.max(q.y1 + 1);
    }
    longest.max(hi.saturating_sub(at))
}

/// The run chosen in each traced column of a panel.
#[derive(Default)]
pub(super) struct PanelPath {
    /// Page x of the panel's first column.
    pub(super) x0: usize,
    /// `(column, run)`, columns increasing; skipped columns are missing.
    pub(super) path: Vec<(usize, Run)>,
    /// Pen width: the median length of the chosen runs, px.
    pub(super) pen: f32,
    /// Fraction of the panel's columns traced.
    pub(super) confidence: f32,
    /// Where the path's steep strokes cross pixel rows.
    pub(super) crossings: Vec<RowCrossing>,
}

impl PanelPath {
    /// The centre line's extent in every traced column: the run less half
    /// the pen at both ends (a run no longer than the pen: its centre).
    pub(super) fn extents(&self) -> Vec<ColumnExtent> {
        let (pen, half) = (self.pen, 0.5 * (self.pen - 1.0));
        self.path
            .iter()
            .map(|(c, r)| {
                let x = (self.x0 + c) as f32;
                let len = (r.y1 - r.y0 + 1) as f32;
                if len <= pen + 0.5 {
                    ColumnExtent {
                        x,
                        lo: r.yc,
                        hi: r.yc,
                    }
                } else if r.lo.is_finite() && r.hi.is_finite() {
                    ColumnExtent {
                        x,
                        lo: r.lo,
                        hi: r.hi,
                    }
                } else {
                    ColumnExtent {
                        x,
                        lo: r.y0 as f32 + half,
                        hi: r.y1 as f32 - half,
                    }
                }
            })
            .collect()
    }

    /// One point per column: a short run its centre, the tip of a wave its
    /// far end less half the pen, a steep stroke its centre.
    pub(super) fn column_points(&self) -> Vec<[f32; 2]> {
        let (path, pen, x0) = (&self.path, self.pen, self.x0);
        let mut pts: Vec<[f32; 2]> = Vec::with_capacity(path.len());
        for i in 0..path.len() {
            let (c, r) = path[i];
            let x = (x0 + c) as f32;
            let len = (r.y1 - r.y0 + 1) as f32;
            if len <= pen + 1.5 {
                pts.push([x, r.yc]);
                continue;
            }
            let top = r.y0 as f32 + 0.5 * (pen - 1.0);
            let bot = r.y1 as f32 - 0.5 * (pen - 1.0);
            let mid = 0.5 * (r.y0 + r.y1) as f32;
            let prev = if i > 0 { Some(path[i - 1].1) } else { None };
            let next = path.get(i + 1).map(|n| n.1);
            // how far this run's end stands out from a neighbour's:
            // 2 = beyond it, 1 = level with it (within a pixel), 0 = short of it
            let beyond = |mine: f32, theirs: Option<f32>, down: bool| -> u32 {
                match theirs {
                    None => 1,
                    Some(t) => {
                        let d = if down { mine - t } else { t - mine };
                        if d > 1.0 {
                            2
                        } else if d >= -1.0 {
                            1
                        } else {
                            0
                        }
                    }
                }
            };
            let bd = |n: Option<Run>| beyond(r.y1 as f32, n.map(|n| n.y1 as f32), true);
            let bu = |n: Option<Run>| beyond(r.y0 as f32, n.map(|n| n.y0 as f32), false);
            let (dp, dn, up_p, up_n) = (bd(prev), bd(next), bu(prev), bu(next));
            let (down, up) = (dp.min(dn), up_p.min(up_n));
            let (sum_d, sum_u) = (dp + dn, up_p + up_n);
            // the tip of a wave: the run reaches past (or level with) both
            // neighbours on one side; level with one neighbour and past the
            // other means the tip lies near the column's edge
            let y = if down >= 1 && (up == 0 || sum_d > sum_u + 1) {
                if sum_d == 3 {
                    0.5 * (mid + bot)
                } else {
                    bot
                }
            } else if up >= 1 && (down == 0 || sum_u > sum_d + 1) {
                if sum_u == 3 {
                    0.5 * (mid + top)
                } else {
                    top
                }
            } else {
                // a steep monotone stroke crosses the column's centre
                // half-way between its entry and exit
                mid
            };
            pts.push([x, y]);
        }
        pts
    }
}
