//! `trace_viterbi`: follows each lead's trace through its panel as one
//! continuous path.
//!
//! Inputs: `mask` (ink), `layout` (panels), `grid` (scale), optionally `image`
//! (the page, for sub-pixel shading and row crossings). Output: `traces`,
//! one sub-pixel path per panel.
//!
//! Per pixel column of a panel, the candidate positions are the vertical
//! runs of ink (mask at or above `ink_level`) inside the panel's box, which
//! reaches up to the neighbouring rows' baselines so that tall waves crossing
//! into them are kept. A Viterbi pass chooses one run per column minimising
//! * the vertical gap between consecutive runs (`jump_cost_per_mm`, squared
//!   beyond one mm), so the path stays on one continuous stroke; with
//!   `bridge_jumps`, only the part of the gap that neither column's ink
//!   covers counts, so a faint stroke that noise broke is still climbed;
//! * weak ink (`weak_ink_cost`), and the distance from the panel's baseline
//!   (`baseline_cost_per_mm`, small: it only breaks ties between a lead and
//!   its neighbour's wave that crosses into the panel);
//! * columns skipped without ink (`skip_cost`), up to `max_skip_mm`;
//! * runs in the *label band* at a panel's start (`label_band_cost`: the
//!   first `label_band_width_mm`, `label_band_mm` below the baseline, where
//!   ecg-image-kit prints the lead's name), so a path without a past starts
//!   on the lead's first QRS, not on the bold glyphs beside it;
//! * runs much thinner than the panel's stroke (`short_run_cost`): grid
//!   dots inside a steep wave's span, which the tall runs either side
//!   cover as well as the wave's tip.
//!
//! Tracing starts `start_inset_mm` into a panel, clear of the previous
//! lead's last stroke and of a separator bar straddling the boundary.
//!
//! The chosen runs become the signal by inverse rendering (`trace_fit`):
//! the polyline, three vertices per pixel, whose drawing with the page's pen
//! gives back every column's ink from top to bottom. That keeps QRS tips
//! and steep strokes that one point per column cuts (dev/clean: 20.1 dB
//! against 17.5 dB). `fit_reach_px` is how far a steep stroke's ink spreads
//! into the neighbouring column; `fit_polyline = false` restores one point
//! per column: a short run its centre, the tip of a wave its far end less
//! half the pen, a steep stroke its centre.
//!
//! ```
//! # let toml = r#"
//! [stages.trace]
//! type = "trace_viterbi"
//! inputs = { mask = "segment", layout = "layout", grid = "calibrate" }
//! ink_level = 60
//! low_res_ink_level = 40
//! jump_cost_per_mm = 0.4
//! weak_ink_cost = 1.0
//! baseline_cost_per_mm = 0.02
//! skip_cost = 0.7
//! max_skip_mm = 2.0
//! max_runs_per_column = 12
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use crate::imaging;
use crate::trace_fit::{estimate_reach, fit_polyline_through, ColumnExtent, PolylineFit};
use crate::trace_rows::{column_shading, row_crossings, CrossingSearch, RowCrossing};
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TraceViterbiConfig {
    /// Mask level counted as ink (0..255).
    pub ink_level: u8,
    /// `ink_level` below `low_res_px_per_mm`, where thin strokes are faint.
    pub low_res_ink_level: u8,
    /// Scale (px per mm) under which `low_res_ink_level` applies.
    pub low_res_px_per_mm: f32,
    /// Cost of a vertical gap between the runs of consecutive columns, per mm.
    pub jump_cost_per_mm: f32,
    /// Cost of a run with the faintest accepted ink (0 for full ink).
    pub weak_ink_cost: f32,
    /// On coarse pages (under `low_res_px_per_mm`) a run's ink strength
    /// counts its darkest pixel half: a one-pixel stroke is mostly
    /// antialiased edge there, and its mean would lose to a bold label
    /// glyph or a grid line; `false`: the mean everywhere.
    pub low_res_strength_from_peak: bool,
    /// Cost per mm of distance from the panel's baseline.
    pub baseline_cost_per_mm: f32,
    /// Cost per mm of distance from the baseline, absolute (small: it
    /// must stay under `skip_cost` for the tallest waves).
    pub far_cost_per_mm: f32,
    /// Cost per column skipped without ink.
    pub skip_cost: f32,
    /// Extra cost of skipping over a column whose ink lies where the line
    /// would pass (the trace is there: a tall wave, not a gap); not on
    /// coarse pages (under `low_res_px_per_mm`), where grid lines are ink.
    pub skip_over_ink_cost: f32,
    /// A skipped column's ink counts for `skip_over_ink_cost` also this far
    /// (mm) beyond the line, when it is a stroke (not thinner than
    /// `short_run_pens` typical strokes): a faint wave's first broken
    /// stroke, rising from where the path left the baseline.
    pub skip_over_ink_reach_mm: f32,
    /// Longest stretch without ink bridged, mm.
    pub max_skip_mm: f32,
    /// Past a longer stretch the trace is picked up again when at least this
    /// much of it (mm) follows; 0 ends the path at the first such stretch.
    pub resume_mm: f32,
    /// A picked-up piece's median distance from the baseline, at most (mm).
    pub resume_max_offset_mm: f32,
    /// Most candidate runs kept per column (the strongest).
    pub max_runs_per_column: usize,
    /// Near a panel's ends (mm), tall runs repeated unchanged in the next
    /// column (pulse edges, separator bars: vertical lines) are ignored.
    pub edge_guard_mm: f32,
    /// At a row's start, runs in the first `pulse_edge_mm` that rise more
    /// than `pulse_edge_min_height_mm` above the baseline are the
    /// calibration pulse's falling edge (drawn with a wide pen, it spills
    /// a few columns into the signal).
    pub pulse_edge_mm: f32,
    pub pulse_edge_min_height_mm: f32,
    /// Breaks up to this long (mm) inside a column's ink are bridged.
    pub merge_gap_mm: f32,
    /// Turn the chosen runs into the signal by inverse rendering (the
    /// polyline whose drawing gives back every column's ink, see
    /// `trace_fit`); `false`: one point per column.
    pub fit_polyline: bool,
    /// Polyline vertices per pixel of width.
    pub vertices_per_px: usize,
    /// Weight of the polyline's squared second differences.
    pub fit_smoothness: f32,
    /// Measure the pen's spread (`fit_reach_px`) on the page's steep
    /// strokes; the configured value stays the fallback.
    pub estimate_reach: bool,
    /// The measured spread is scaled by this before the fit uses it. The
    /// steep columns' extents it is measured on already end at the ink's
    /// sub-pixel edges less half the pen (`subpixel_ends`), and on the dev
    /// pages the fit does best with a quarter of it (clean +0.2 dB, bw
    /// +0.26 dB against the full estimate).
    pub reach_scale: f32,
    /// How far past its edges a column's ink may come from, px.
    pub fit_reach_px: f32,
    /// Most active-set rounds of the polyline fit.
    pub fit_iterations: usize,
    /// Also fit where steep strokes cross pixel rows (their horizontal ink
    /// centroids, see `trace_rows`).
    pub row_crossings: bool,
    /// Weight of a row crossing against a column end's.
    pub crossing_weight: f32,
    /// Widest row run taken as one stroke, in pens.
    pub crossing_max_width_pens: f32,
    /// Widest row run (in pens) read as two touching strokes (the wedge
    /// of a narrow R wave), each placed half a pen inside its outer edge.
    pub crossing_max_merged_pens: f32,
    /// Row crossings only at this scale or finer (px per mm): on coarse
    /// pages a steep stroke spans too few pixels to place.
    pub crossing_min_px_per_mm: f32,
    /// With the page image connected, place flat strokes by the image's
    /// shading (sub-pixel) rather than by the mask.
    pub subpixel_centres: bool,
    /// With `subpixel_centres`, also end taller runs at the image's
    /// sub-pixel ink edges (less half the pen).
    pub subpixel_ends: bool,
    /// A row crossing counts only while the fit passes within this many
    /// pixels of it.
    pub crossing_gate_px: f32,
    /// Tracing starts this far (mm) right of a panel's start, clear of the
    /// previous lead's last stroke (the signal before it is held).
    pub start_inset_mm: f32,
    /// Between neighbouring columns, a jump costs only its longest stretch
    /// that neither column's ink covers: a steep stroke that noise broke
    /// into pieces is climbed piece by piece.
    pub bridge_jumps: bool,
    /// Extra cost per column for a run in the label band: the first
    /// `label_band_width_mm` of a panel, `label_band_mm` (from, to) below
    /// the baseline, where ecg-image-kit prints the lead's name. A deep S
    /// wave there pays it for a few columns; a path along the glyphs pays
    /// it all the way.
    pub label_band_cost: f32,
    pub label_band_width_mm: f32,
    pub label_band_mm: [f32; 2],
    /// A separator bar at a panel's boundary reaches a mm above and below
    /// the baseline; a repeated tall run that does not (a lead's first R
    /// wave rising from it) is kept. Off: every repeated tall run there is
    /// taken for a bar.
    pub bars_straddle_baseline: bool,
    /// Near the ends of a panel that has a neighbour, a tall run across the
    /// baseline whose top and bottom both touch no ink in the next columns
    /// is a one-pixel separator bar, dropped like a wider one.
    pub lone_bars: bool,
    /// Cost of a run thinner than `short_run_pens` times the panel's
    /// typical stroke (a grid dot, a speck), scaled by how much thinner: a
    /// steep wave's tall runs cover such a dot as well as the wave's tip,
    /// so without it the path cuts through the dot.
    pub short_run_cost: f32,
    /// `short_run_cost` on coarse pages (under `low_res_px_per_mm`), where
    /// a one-pixel run is often the thin trace itself.
    pub low_res_short_run_cost: f32,
    /// A run is short under this many typical strokes.
    pub short_run_pens: f32,
}

impl Default for TraceViterbiConfig {
    fn default() -> Self {
        Self {
            ink_level: 60,
            low_res_ink_level: 40,
            low_res_px_per_mm: 5.0,
            jump_cost_per_mm: 0.4,
            weak_ink_cost: 1.0,
            low_res_strength_from_peak: true,
            baseline_cost_per_mm: 0.02,
            far_cost_per_mm: 0.0,
            skip_cost: 0.7,
            skip_over_ink_cost: 2.0,
            skip_over_ink_reach_mm: 2.0,
            max_skip_mm: 2.0,
            resume_mm: 5.0,
            resume_max_offset_mm: 2.0,
            max_runs_per_column: 12,
            edge_guard_mm: 0.8,
            pulse_edge_mm: 0.5,
            pulse_edge_min_height_mm: 2.0,
            merge_gap_mm: 0.5,
            fit_polyline: true,
            vertices_per_px: 3,
            fit_smoothness: 0.5,
            estimate_reach: true,
            reach_scale: 0.25,
            fit_reach_px: 0.45,
            fit_iterations: 8,
            row_crossings: true,
            crossing_weight: 8.0,
            crossing_max_width_pens: 0.75,
            crossing_min_px_per_mm: 5.0,
            crossing_max_merged_pens: 3.0,
            subpixel_centres: true,
            subpixel_ends: true,
            crossing_gate_px: 2.5,
            start_inset_mm: 0.08,
            bridge_jumps: true,
            label_band_cost: 0.3,
            label_band_width_mm: 7.0,
            label_band_mm: [3.5, 8.5],
            bars_straddle_baseline: true,
            lone_bars: true,
            short_run_cost: 1.0,
            low_res_short_run_cost: 0.0,
            short_run_pens: 0.8,
        }
    }
}

#[typetag::serde(name = "trace_viterbi")]
impl StageConfig for TraceViterbiConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![
            Port::new("mask", ArtifactKind::Mask),
            Port::new("layout", ArtifactKind::Layout),
            Port::new("grid", ArtifactKind::Grid),
            Port::optional("image", ArtifactKind::Image),
        ]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("traces", ArtifactKind::Traces)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if self.max_runs_per_column == 0 {
            return Err(Error::stage(
                "trace_viterbi: max_runs_per_column must be at least 1",
            ));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    TraceViterbiConfig,
    "trace_viterbi",
    summary = "One continuous sub-pixel path per panel: Viterbi over the ink runs of each column.",
    params = [
        ("ink_level", "mask value (0..255) counted as ink"),
        (
            "low_res_ink_level",
            "ink_level used below low_res_px_per_mm, where thin strokes are faint"
        ),
        (
            "low_res_px_per_mm",
            "scale (px per mm) under which low_res_ink_level applies"
        ),
        (
            "jump_cost_per_mm",
            "cost of a vertical gap between consecutive columns' runs, per mm"
        ),
        ("weak_ink_cost", "cost of a run of the faintest ink (0 for full ink)"),
        (
            "low_res_strength_from_peak",
            "on coarse pages a run's ink strength counts its darkest pixel half (true) or is its mean (false)"
        ),
        (
            "baseline_cost_per_mm",
            "cost per mm of distance from the panel's baseline (tie breaker between rows)"
        ),
        (
            "far_cost_per_mm",
            "cost per mm from the baseline, absolute (small: under skip_cost for the tallest waves)"
        ),
        ("skip_cost", "cost per column bridged without ink"),
        (
            "skip_over_ink_cost",
            "extra cost of skipping a column whose ink lies where the line would pass (a tall wave, not a gap)"
        ),
        (
            "skip_over_ink_reach_mm",
            "a skipped column's stroke also counts for skip_over_ink_cost this far (mm) beyond the line"
        ),
        ("max_skip_mm", "longest stretch without ink that is bridged, mm"),
        (
            "resume_mm",
            "past a longer stretch without ink the trace is picked up again when this much (mm) follows; 0: never"
        ),
        (
            "resume_max_offset_mm",
            "a picked-up piece's median distance from the baseline, at most (mm)"
        ),
        (
            "max_runs_per_column",
            "most candidate runs per column (the strongest are kept)"
        ),
        (
            "edge_guard_mm",
            "near a panel's ends (mm), tall runs repeated unchanged in the next column (pulse edges, separator bars) are ignored"
        ),
        (
            "pulse_edge_mm",
            "at a row's start, runs this far (mm) into the signal rising over pulse_edge_min_height_mm above the baseline are the pulse's falling edge"
        ),
        (
            "pulse_edge_min_height_mm",
            "how far above the baseline (mm) a run at a row's start must reach to be the pulse's falling edge"
        ),
        (
            "merge_gap_mm",
            "breaks up to this long (mm) in a column's ink are bridged (faint steep strokes)"
        ),
        (
            "fit_polyline",
            "true: the polyline whose drawing gives back each column's ink (inverse rendering); false: one point per column"
        ),
        ("vertices_per_px", "polyline vertices per pixel of width"),
        ("fit_smoothness", "weight of the polyline's squared second differences"),
        (
            "estimate_reach",
            "measure fit_reach_px on the page's steep strokes (the configured value is the fallback)"
        ),
        (
            "reach_scale",
            "the measured spread (estimate_reach) is scaled by this before the fit uses it"
        ),
        ("fit_reach_px", "how far past its edges a column's ink may come from, px"),
        ("fit_iterations", "most active-set rounds of the polyline fit"),
        (
            "row_crossings",
            "also fit where steep strokes cross pixel rows (their horizontal ink centroids)"
        ),
        ("crossing_weight", "weight of a row crossing against a column end's"),
        (
            "crossing_max_width_pens",
            "widest row run (in pens) taken as a single stroke"
        ),
        (
            "crossing_max_merged_pens",
            "widest row run (in pens) read as two touching strokes, each placed half a pen inside its outer edge"
        ),
        (
            "crossing_min_px_per_mm",
            "row crossings only at this scale or finer (px per mm)"
        ),
        (
            "subpixel_centres",
            "with the page image connected, place flat strokes by its shading (sub-pixel)"
        ),
        (
            "subpixel_ends",
            "with subpixel_centres, end taller runs at the image's sub-pixel ink edges less half the pen"
        ),
        (
            "crossing_gate_px",
            "a row crossing counts only while the fit passes within this many pixels of it"
        ),
        (
            "start_inset_mm",
            "tracing starts this far (mm) right of a panel's start, clear of the previous lead's last stroke"
        ),
        (
            "bridge_jumps",
            "a jump between neighbouring columns costs only its longest stretch that neither column's ink covers"
        ),
        (
            "label_band_cost",
            "extra cost per column for a run in the label band (where ecg-image-kit prints the lead's name); 0: none"
        ),
        (
            "label_band_width_mm",
            "the label band spans this much (mm) of a panel's start"
        ),
        (
            "bars_straddle_baseline",
            "a separator bar reaches a mm above and below the baseline; a repeated tall run that does not is kept"
        ),
        (
            "lone_bars",
            "near a panel's ends next to another panel, a tall run across the baseline whose ends touch no ink in the next columns is a one-pixel separator bar, dropped"
        ),
        (
            "label_band_mm",
            "the label band's reach below the baseline, mm: [from, to]"
        ),
        (
            "short_run_cost",
            "cost of a run thinner than short_run_pens typical strokes (a grid dot), scaled by how much thinner"
        ),
        (
            "low_res_short_run_cost",
            "short_run_cost on coarse pages (under low_res_px_per_mm), where a one-pixel run is often the trace"
        ),
        ("short_run_pens", "a run is short under this many typical strokes"),
    ],
    example = "[stages.trace]\ntype = \"trace_viterbi\"\ninputs = { mask = \"segment\", layout = \"layout\", grid = \"calibrate\" }\n"
);

/// A vertical run of ink in one column.
#[derive(Clone, Copy, Debug)]
struct Run {
    y0: u32,
    y1: u32,
    /// Intensity-weighted centre.
    yc: f32,
    /// The centre line's sub-pixel top and bottom in this column, from the
    /// image's shading (NaN: from the run's ends).
    lo: f32,
    hi: f32,
    /// Mean ink strength 0..1.
    strength: f32,
}

impl Stage for TraceViterbiConfig {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let mask = inputs.mask("mask")?;
        let layout = inputs.layout("layout")?;
        let grid = inputs.grid("grid")?;
        let image = inputs.image_opt("image");
        let traces =
            self.trace_all_with_image(&mask.mask, image.as_ref().map(|i| &i.rgb), &layout, &grid);
        Ok(StageOutputs::one(traces))
    }
}

impl TraceViterbiConfig {
    /// Traces every panel of a layout.
    pub fn trace_all(&self, mask: &image::GrayImage, layout: &Layout, grid: &GridInfo) -> Traces {
        self.trace_all_with_image(mask, None, layout, grid)
    }

    /// [`Self::trace_all`], measuring steep strokes' row crossings on the
    /// page image (the mask saturates too early to place them sub-pixel).
    pub fn trace_all_with_image(
        &self,
        mask: &image::GrayImage,
        image: Option<&image::RgbImage>,
        layout: &Layout,
        grid: &GridInfo,
    ) -> Traces {
        let mut runs_buf = Vec::new();
        let paths: Vec<PanelPath> = layout
            .panels
            .iter()
            .map(|p| {
                // a separator bar stands at the right end only where another
                // panel follows in the same row; a row's last panel has none
                let followed = layout
                    .panels
                    .iter()
                    .any(|q| q.row == p.row && q.col > p.col);
                self.trace_panel(mask, image, p, grid, followed, &mut runs_buf)
            })
            .collect();
        let points: Vec<Vec<[f32; 2]>> = if self.fit_polyline {
            let extents: Vec<Vec<ColumnExtent>> = paths.iter().map(PanelPath::extents).collect();
            // the pen's spread, measured on the page's steep strokes
            let reach = if self.estimate_reach {
                estimate_reach(&extents)
                    .map(|r| r * self.reach_scale)
                    .unwrap_or(self.fit_reach_px)
            } else {
                self.fit_reach_px
            };
            let fit = PolylineFit {
                vertices_per_px: self.vertices_per_px,
                smoothness: self.fit_smoothness,
                reach_px: reach,
                iterations: self.fit_iterations,
                crossing_weight: self.crossing_weight,
                crossing_gate_px: self.crossing_gate_px,
            };
            extents
                .iter()
                .zip(&paths)
                .map(|(e, p)| fit_polyline_through(e, &p.crossings, &fit))
                .collect()
        } else {
            paths.iter().map(PanelPath::column_points).collect()
        };
        let traces = layout
            .panels
            .iter()
            .zip(points)
            .zip(&paths)
            .enumerate()
            .map(|(i, ((p, points), path))| Trace {
                panel: i,
                lead: p.lead,
                points,
                confidence: path.confidence,
            })
            .collect();
        Traces { traces }
    }

    fn trace_panel(
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
fn typical_stroke_px(cols: &[Vec<Run>], baseline_y: f32) -> f32 {
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
fn uncovered_stretch(lo: u32, hi: u32, a: &[Run], b: &[Run]) -> u32 {
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
struct PanelPath {
    /// Page x of the panel's first column.
    x0: usize,
    /// `(column, run)`, columns increasing; skipped columns are missing.
    path: Vec<(usize, Run)>,
    /// Pen width: the median length of the chosen runs, px.
    pen: f32,
    /// Fraction of the panel's columns traced.
    confidence: f32,
    /// Where the path's steep strokes cross pixel rows.
    crossings: Vec<RowCrossing>,
}

impl PanelPath {
    /// The centre line's extent in every traced column: the run less half
    /// the pen at both ends (a run no longer than the pen: its centre).
    fn extents(&self) -> Vec<ColumnExtent> {
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
    fn column_points(&self) -> Vec<[f32; 2]> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma};

    /// The tracer for test images drawn with a pen that does not spread
    /// into neighbouring columns (so the fit needs little smoothing).
    fn thin_pen() -> TraceViterbiConfig {
        TraceViterbiConfig {
            estimate_reach: false,
            fit_reach_px: 0.0,
            fit_smoothness: 0.02,
            ..TraceViterbiConfig::default()
        }
    }

    fn panel(x0: f32, x1: f32, y0: f32, y1: f32, base: f32) -> Panel {
        Panel {
            lead: Lead::II,
            row: 0,
            col: 0,
            bbox: Rect { x0, y0, x1, y1 },
            baseline_y: base,
            x_start: x0,
            x_end: x1,
            t_start: 0.0,
            t_end: 1.0,
            rhythm: false,
        }
    }

    /// A layout of `panels` on one row whose baseline is `base`.
    fn one_row(base: f32, panels: Vec<Panel>) -> Layout {
        Layout {
            kind: LayoutKind::Other,
            page_seconds: 10.0,
            row_baselines: vec![base],
            panels,
        }
    }

    /// A layout of `panels` on one row whose baseline is y = 50.
    fn row_at_50(panels: Vec<Panel>) -> Layout {
        one_row(50.0, panels)
    }

    /// The first panel's traced points' y, folded by `pick` from `init`.
    fn traced_y(
        cfg: &TraceViterbiConfig,
        m: &GrayImage,
        layout: &Layout,
        grid: &GridInfo,
        (init, pick): (f32, fn(f32, f32) -> f32),
    ) -> f32 {
        let t = cfg.trace_all(m, layout, grid);
        t.traces[0].points.iter().map(|p| p[1]).fold(init, pick)
    }

    #[test]
    fn a_gap_bridged_by_the_neighbouring_columns_leaves_its_longest_hole() {
        let run = |y0: u32, y1: u32| Run {
            y0,
            y1,
            yc: 0.5 * (y0 + y1) as f32,
            lo: f32::NAN,
            hi: f32::NAN,
            strength: 1.0,
        };
        // rows 10..40: column a covers 12..=15 and 30..=33, column b 14..=24
        let a = [run(0, 9), run(12, 15), run(30, 33)];
        let b = [run(14, 24), run(40, 50)];
        // holes 10..12 (2), 25..30 (5), 34..40 (6)
        assert_eq!(uncovered_stretch(10, 40, &a, &b), 6);
        assert_eq!(uncovered_stretch(10, 30, &a, &b), 5);
        assert_eq!(uncovered_stretch(10, 40, &[], &[]), 30);
    }

    #[test]
    fn follows_the_trace_and_keeps_the_peak() {
        // baseline at y=50, pen 2 px, a spike up to y=20 at x=40, a text blob
        let mut m = columns_mask((100, 100), 5..95, |x| {
            // the tip at x = 40; the strokes to and from it cross columns
            // 40 and 41 (half-way at 40.5: y = 35)
            match x {
                40 => (20, 51),
                41 => (35, 51),
                _ => (50, 51),
            }
        });
        for x in 60..70 {
            for y in 70..80 {
                m.put_pixel(x, y, Luma([255])); // a label below the trace
            }
        }
        let grid = GridInfo::from_dpi(101.6, ScaleSource::Grid); // 4 px/mm
        let layout = single_panel(5.0, 94.0, 99.0, 50.0);
        let t = thin_pen().trace_all(&m, &layout, &grid);
        let pts = &t.traces[0].points;
        assert!(t.traces[0].confidence > 0.95);
        // strictly increasing x
        assert!(pts.windows(2).all(|p| p[1][0] > p[0][0]));
        // the spike tip is kept (within 5% of the spike's 30 px; a point
        // per column would put it at the run's centre, 35)
        let tip = pts.iter().map(|p| p[1]).fold(f32::MAX, f32::min);
        assert!((tip - 20.5).abs() <= 1.5, "tip {tip}");
        // one point per column keeps this tip too (its far end less half the pen)
        let per_column = TraceViterbiConfig {
            fit_polyline: false,
            ..thin_pen()
        };
        let t1 = per_column.trace_all(&m, &layout, &grid);
        let tip1 = t1.traces[0]
            .points
            .iter()
            .map(|p| p[1])
            .fold(f32::MAX, f32::min);
        assert!((tip1 - 20.5).abs() <= 1.0, "tip {tip1}");
        // the label is not followed
        assert!(pts
            .iter()
            .filter(|p| p[0] > 60.0 && p[0] < 70.0)
            .all(|p| p[1] < 55.0));
    }

    #[test]
    fn on_a_coarse_page_a_thin_stroke_beats_a_wider_fainter_band() {
        // 4 px/mm (100 dpi), baseline y=100: the trace is one pixel of full
        // ink with faint antialiased rows above and below (mean strength
        // 0.52); a band of three mid-grey rows (mean 0.63: a label, a grid
        // line) runs 3 mm under it for 30 columns, joined to it at both ends
        let mut m = GrayImage::new(300, 200);
        for x in 10..290u32 {
            m.put_pixel(x, 99, Luma([70]));
            m.put_pixel(x, 100, Luma([255]));
            m.put_pixel(x, 101, Luma([70]));
        }
        for x in 60..90u32 {
            for y in 111..114 {
                m.put_pixel(x, y, Luma([160]));
            }
        }
        for x in [60u32, 89] {
            for y in 101..111 {
                m.put_pixel(x, y, Luma([160]));
            }
        }
        let grid = GridInfo::from_dpi(101.6, ScaleSource::Grid);
        let layout = single_panel(10.0, 289.0, 199.0, 100.0);
        let lowest = |t: &TraceViterbiConfig| {
            t.trace_all(&m, &layout, &grid).traces[0]
                .points
                .iter()
                .filter(|p| p[0] > 65.0 && p[0] < 85.0)
                .map(|p| p[1])
                .fold(f32::MIN, f32::max)
        };
        assert!(
            lowest(&thin_pen()) < 102.0,
            "the band was followed: {}",
            lowest(&thin_pen())
        );
        let mean = TraceViterbiConfig {
            low_res_strength_from_peak: false,
            ..thin_pen()
        };
        assert!(lowest(&mean) > 108.0, "{}", lowest(&mean));
    }

    /// A layout of one panel, `x0..=x1` by `0..=y1`, on a row whose baseline
    /// is `base`.
    fn single_panel(x0: f32, x1: f32, y1: f32, base: f32) -> Layout {
        one_row(base, vec![panel(x0, x1, 0.0, y1, base)])
    }

    /// Inks column `x` of `m` from row `a` to row `b`.
    fn ink_column(m: &mut GrayImage, x: u32, a: u32, b: u32) {
        for y in a..=b {
            m.put_pixel(x, y, Luma([255]));
        }
    }

    /// A `w` x `h` mask inked, in every column `x` in `xs`, over the rows
    /// `run(x)` gives (first, last).
    fn columns_mask(
        (w, h): (u32, u32),
        xs: std::ops::Range<u32>,
        run: impl Fn(u32) -> (u32, u32),
    ) -> GrayImage {
        let mut m = GrayImage::new(w, h);
        for x in xs {
            let (a, b) = run(x);
            ink_column(&mut m, x, a, b);
        }
        m
    }

    /// A mask with one flat trace at y = 100..=101 from `x0` to `x1`, the
    /// pulse's falling edge (rows `top..=101`) in column `edge_x`, and the
    /// one-panel layout over it starting at `start`.
    fn trace_after_pulse_edge(
        size: (u32, u32),
        edge_x: u32,
        top: u32,
        (x0, x1): (u32, u32),
        start: f32,
    ) -> (GrayImage, Layout) {
        let mut m = columns_mask(size, x0..x1, |_| (100, 101));
        ink_column(&mut m, edge_x, top, 101);
        let layout = single_panel(start, (x1 - 1) as f32, (size.1 - 1) as f32, 100.0);
        (m, layout)
    }

    #[test]
    fn the_pulses_falling_edge_at_a_rows_start_is_not_the_signal() {
        // (a) 4 px/mm: the edge, one column wide and 10 mm tall, in the
        // panel's first column, a rule without the pulse edge traces it;
        // (b) 8 px/mm: the wide pen's edge reaches three columns past the
        // panel's start (x = 10), where antialiasing leaves only its lower
        // 4.5 mm, which the earlier rule (two columns, 6 mm tall) traced
        let cases = [
            ((200, 200), 10, 60, (10, 190), 101.6, 0.0, 6.0, 70.0),
            ((300, 200), 13, 64, (14, 290), 203.2, 0.25, 6.0, 80.0),
        ];
        for (size, edge_x, top_y, trace, dpi, width_mm, height_mm, below) in cases {
            let (m, layout) = trace_after_pulse_edge(size, edge_x, top_y, trace, 10.0);
            let grid = GridInfo::from_dpi(dpi, ScaleSource::Grid);
            let top =
                |t: &TraceViterbiConfig| traced_y(t, &m, &layout, &grid, (f32::MAX, f32::min));
            assert!(
                top(&thin_pen()) > 98.0,
                "{dpi} dpi: the edge was traced: {}",
                top(&thin_pen())
            );
            let other_rule = TraceViterbiConfig {
                pulse_edge_mm: width_mm,
                pulse_edge_min_height_mm: height_mm,
                ..thin_pen()
            };
            assert!(top(&other_rule) < below, "{dpi} dpi: {}", top(&other_rule));
        }
    }

    #[test]
    fn a_tall_narrow_wave_is_climbed_not_skipped_for_a_neighbours_stroke() {
        // 8 px/mm, baseline y=300; a 33 mm QRS: up from the baseline over
        // columns 60..63 to a tip at y=36, down over 64..67; the neighbour
        // row's tall R wave rises into this panel at columns 62..65, to
        // y=290, close to this baseline
        let mut m = GrayImage::new(200, 500);
        let mut vline = |x: u32, a: u32, b: u32| ink_column(&mut m, x, a, b);
        for x in 5..195u32 {
            match x {
                60..=63 => {
                    let top = 300 - 66 * (x - 59);
                    vline(x, top, top + 68);
                }
                64..=67 => {
                    let bot = 36 + 66 * (x - 63);
                    vline(x, bot - 68, bot.min(301));
                }
                _ => vline(x, 299, 301),
            }
        }
        for x in 62..=65u32 {
            vline(x, 290, 450);
        }
        let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
        let layout = single_panel(5.0, 194.0, 499.0, 300.0);
        let tip = |t: &TraceViterbiConfig| {
            t.trace_all(&m, &layout, &grid).traces[0]
                .points
                .iter()
                .map(|p| p[1])
                .fold(f32::MAX, f32::min)
        };
        assert!(tip(&thin_pen()) < 60.0, "tip at {}", tip(&thin_pen()));
        // where skipping is cheap, only the ink under the skip keeps it
        let cheap_skips = TraceViterbiConfig {
            skip_cost: 0.6,
            ..thin_pen()
        };
        assert!(tip(&cheap_skips) < 60.0, "tip at {}", tip(&cheap_skips));
        let careless = TraceViterbiConfig {
            skip_over_ink_cost: 0.0,
            ..cheap_skips
        };
        assert!(tip(&careless) > 100.0, "tip at {}", tip(&careless));
    }

    #[test]
    fn a_faint_wave_starting_just_off_the_line_is_climbed_not_skipped() {
        // 8 px/mm, baseline y=300; a faint S wave (mask 80 of 255) over
        // columns 60..=66, down to y=380: its first stroke starts 4 px
        // below the flat trace, so it does not lie on the line a skip
        // would draw
        let mut m = GrayImage::new(140, 500);
        let runs = [
            (305, 320),
            (318, 340),
            (338, 360),
            (358, 380),
            (340, 362),
            (320, 342),
            (304, 322),
        ];
        for x in 5..135u32 {
            match x {
                60..=66 => {
                    let (a, b) = runs[(x - 60) as usize];
                    for y in a..=b {
                        m.put_pixel(x, y, Luma([80]));
                    }
                }
                _ => ink_column(&mut m, x, 299, 301),
            }
        }
        let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
        let layout = single_panel(5.0, 134.0, 499.0, 300.0);
        let deepest =
            |t: &TraceViterbiConfig| traced_y(t, &m, &layout, &grid, (f32::MIN, f32::max));
        assert!(deepest(&thin_pen()) > 370.0, "{}", deepest(&thin_pen()));
        let on_the_line_only = TraceViterbiConfig {
            skip_over_ink_reach_mm: 0.0,
            ..thin_pen()
        };
        assert!(
            deepest(&on_the_line_only) < 310.0,
            "{}",
            deepest(&on_the_line_only)
        );
    }

    #[test]
    fn a_grid_dot_inside_a_steep_waves_span_does_not_cut_its_tip() {
        // 8 px/mm, baseline y=300, pen 3 px; a deep S wave: down over
        // columns 60..61, its tip (y 360..374) in columns 62..63, back up
        // over 64..65. A one-pixel grid dot at y=331 in the tip's columns
        // lies inside both neighbours' tall runs, so reaching it costs no
        // jump and it sits nearer the baseline than the tip.
        let mut m = GrayImage::new(140, 500);
        let mut vline = |x: u32, a: u32, b: u32| ink_column(&mut m, x, a, b);
        for x in 5..135u32 {
            match x {
                60 => vline(x, 299, 322),
                61 => vline(x, 320, 368),
                62 | 63 => {
                    vline(x, 331, 331);
                    vline(x, 360, 374);
                }
                64 => vline(x, 328, 374),
                65 => vline(x, 299, 330),
                _ => vline(x, 299, 301),
            }
        }
        let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
        let layout = single_panel(5.0, 134.0, 499.0, 300.0);
        // the shallowest point traced in the tip's columns
        let tip_top = |t: &TraceViterbiConfig| {
            t.trace_all(&m, &layout, &grid).traces[0]
                .points
                .iter()
                .filter(|p| (61.8..63.2).contains(&p[0]))
                .map(|p| p[1])
                .fold(f32::MAX, f32::min)
        };
        assert!(
            tip_top(&thin_pen()) > 355.0,
            "tip columns at {}",
            tip_top(&thin_pen())
        );
        let dot_friendly = TraceViterbiConfig {
            short_run_cost: 0.0,
            ..thin_pen()
        };
        assert!(
            tip_top(&dot_friendly) < 340.0,
            "tip columns at {}",
            tip_top(&dot_friendly)
        );
    }

    #[test]
    fn the_stroke_is_typically_the_run_nearest_the_baseline() {
        let run = |y0: u32, y1: u32| Run {
            y0,
            y1,
            yc: 0.5 * (y0 + y1) as f32,
            lo: f32::NAN,
            hi: f32::NAN,
            strength: 1.0,
        };
        // three flat columns with a 3 px stroke, one steep column, grid dots
        let cols = vec![
            vec![run(10, 10), run(49, 51)],
            vec![run(50, 52), run(80, 80)],
            vec![run(20, 60)],
            vec![run(48, 50), run(70, 70)],
        ];
        assert_eq!(typical_stroke_px(&cols, 50.0), 3.0);
        assert_eq!(typical_stroke_px(&[], 50.0), 1.0);
    }

    #[test]
    fn the_trace_is_picked_up_again_after_a_long_faded_stretch() {
        // 4 px/mm: a baseline at y=50 with a wave, faded out over 40 px
        // (10 mm, far past max_skip_mm) in the middle of the panel, and a
        // text line (y=10) that must not be picked up instead
        let mut m = GrayImage::new(300, 100);
        let wave = |x: u32| 50 + ((x as f32 / 6.0).sin() * 4.0).round() as i32;
        for x in 5..295u32 {
            if (120..160).contains(&x) {
                continue;
            }
            let y = wave(x) as u32;
            m.put_pixel(x, y, Luma([255]));
            m.put_pixel(x, y + 1, Luma([255]));
        }
        for x in 130..150u32 {
            m.put_pixel(x, 10, Luma([255]));
            m.put_pixel(x, 11, Luma([255]));
        }
        let grid = GridInfo::from_dpi(101.6, ScaleSource::Grid);
        let layout = single_panel(5.0, 294.0, 99.0, 50.0);
        // points on the wave before and after the gap, and whether any is on the text
        let on_wave = |t: &TraceViterbiConfig| {
            let tr = t.trace_all(&m, &layout, &grid);
            let pts = &tr.traces[0].points;
            let good = |keep: &dyn Fn(f32) -> bool| {
                pts.iter()
                    .filter(|p| keep(p[0]))
                    .filter(|p| (p[1] - wave(p[0].round() as u32) as f32 - 0.5).abs() < 1.5)
                    .count()
            };
            (
                good(&|x| x < 110.0),
                good(&|x| x > 170.0),
                pts.iter().any(|p| p[1] < 20.0),
            )
        };
        let (before, after, text) = on_wave(&thin_pen());
        assert!(
            before > 200 && after > 200,
            "{before} and {after} points on the wave"
        );
        assert!(!text, "the text line was followed");
        // without picking up, one path keeps one side of the gap only
        let (before, after, _) = on_wave(&TraceViterbiConfig {
            resume_mm: 0.0,
            ..thin_pen()
        });
        assert!(before == 0 || after == 0, "{before} and {after}");
    }

    #[test]
    fn a_deep_wave_drawn_in_broken_strokes_is_followed_not_cut_across() {
        // 8 px/mm, baseline y = 50; an S wave 5 mm deep (to y = 90) over
        // columns 100..=107 whose faint strokes break every few pixels, as
        // noise leaves them: each column holds pieces 6 px apart
        let mut m = GrayImage::new(200, 140);
        for x in 0..200u32 {
            let (a, b) = match x {
                100..=103 => (50 + (x - 100) * 10, 50 + (x - 99) * 10),
                104..=107 => (90 - (x - 104) * 10, 90 - x.saturating_sub(105).min(3) * 10),
                _ => (50, 51),
            };
            let (a, b) = (a.min(b), a.max(b));
            for yy in a..=b {
                // pieces of 4 px ink, 6 px gaps (wider than the merge gap)
                if !(100..=107).contains(&x) || (yy - a) % 10 < 4 {
                    m.put_pixel(x, yy, Luma([255]));
                }
            }
        }
        let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
        let layout = row_at_50(vec![panel(5.0, 194.0, 0.0, 139.0, 50.0)]);
        let depth = |cfg: &TraceViterbiConfig| traced_y(cfg, &m, &layout, &grid, (0.0, f32::max));
        assert!(depth(&thin_pen()) > 80.0, "{}", depth(&thin_pen()));
        let stiff = TraceViterbiConfig {
            jump_cost_per_mm: 2.0,
            ..thin_pen()
        };
        assert!(depth(&stiff) < 70.0, "{}", depth(&stiff));
    }

    #[test]
    fn a_steep_stroke_broken_in_staggered_pieces_is_climbed_through_its_neighbours() {
        // 8 px/mm, baseline y = 50; an R wave 5 mm tall (up to y = 10) over
        // columns 100..=107, each column's stroke broken into 5 px pieces
        // with 5 px gaps, staggered so that neighbouring columns together
        // cover the stroke (noise breaking a faint stroke)
        let mut m = GrayImage::new(200, 100);
        for x in 0..200u32 {
            let (a, b) = match x {
                100..=103 => (50 - (x - 99) * 10, 50 - (x - 100) * 10),
                104..=107 => (10 + (x - 104) * 10, 10 + (x - 103) * 10),
                _ => (50, 51),
            };
            for yy in a..=b {
                if !(100..=107).contains(&x) || (yy + 5 * (x % 2)) % 10 < 5 {
                    m.put_pixel(x, yy, Luma([255]));
                }
            }
        }
        let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
        let layout = row_at_50(vec![panel(5.0, 194.0, 0.0, 99.0, 50.0)]);
        let tip =
            |cfg: &TraceViterbiConfig| traced_y(cfg, &m, &layout, &grid, (f32::MAX, f32::min));
        // with a pull towards the baseline and cheap skips that only ink
        // on the line makes dear, too, only bridging climbs it
        let pulled = TraceViterbiConfig {
            far_cost_per_mm: 0.01,
            skip_cost: 0.6,
            skip_over_ink_reach_mm: 0.0,
            ..thin_pen()
        };
        assert!(tip(&thin_pen()) < 20.0, "{}", tip(&thin_pen()));
        assert!(tip(&pulled) < 20.0, "{}", tip(&pulled));
        let unbridged = TraceViterbiConfig {
            bridge_jumps: false,
            ..pulled
        };
        assert!(tip(&unbridged) > 30.0, "{}", tip(&unbridged));
    }

    #[test]
    fn a_leads_first_r_wave_beside_the_boundary_is_not_taken_for_a_separator() {
        // 8 px/mm, baseline y = 50, a panel from x = 100: an R wave right at
        // its start, up- and down-strokes merged, so columns 101 and 102
        // hold the same tall run from the tip (y = 10) down to the baseline
        let m = columns_mask((220, 100), 0..220, |x| match x {
            101 | 102 => (10, 51),
            _ => (50, 51),
        });
        let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
        let second = Panel {
            col: 1,
            ..panel(100.0, 219.0, 0.0, 99.0, 50.0)
        };
        let layout = row_at_50(vec![second]);
        let tip =
            |cfg: &TraceViterbiConfig| traced_y(cfg, &m, &layout, &grid, (f32::MAX, f32::min));
        assert!(tip(&thin_pen()) < 15.0, "{}", tip(&thin_pen()));
        let any_bar = TraceViterbiConfig {
            bars_straddle_baseline: false,
            ..thin_pen()
        };
        assert!(tip(&any_bar) > 40.0, "{}", tip(&any_bar));
    }

    #[test]
    fn a_panel_starts_on_its_trace_not_on_its_label() {
        // 8 px/mm, baseline y = 50, a panel from x = 100: the lead starts
        // with an R wave (up to y = 12 at x = 106, back at x = 112); its
        // label's bold glyph, 5 mm below the baseline (y = 88..=91), runs
        // from the panel's start to x = 112, where a stroke joins it to
        // the trace
        let mut m = GrayImage::new(220, 120);
        // (the wave's thin strokes are fainter than the glyph)
        let mut ink = |x: u32, a: u32, b: u32, v: u8| {
            for y in a.min(b)..=a.max(b) {
                m.put_pixel(x, y, Luma([v]));
            }
        };
        for x in 100..220u32 {
            match x {
                100..=105 => ink(x, 50 - (x - 100) * 6, 50 - (x - 99) * 6 - 2, 190),
                106..=111 => ink(x, 14 + (x - 106) * 6, 14 + (x - 105) * 6, 190),
                _ => ink(x, 50, 51, 255),
            }
            if x <= 112 {
                ink(x, 88, 91, 255);
            }
            if x == 112 {
                ink(x, 52, 88, 255);
            }
        }
        let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
        let second = Panel {
            col: 1,
            ..panel(100.0, 219.0, 0.0, 119.0, 50.0)
        };
        let layout = row_at_50(vec![second]);
        let at = |cfg: &TraceViterbiConfig, x: f32| -> f32 {
            let t = cfg.trace_all(&m, &layout, &grid);
            t.traces[0]
                .points
                .iter()
                .min_by(|a, b| (a[0] - x).abs().total_cmp(&(b[0] - x).abs()))
                .map_or(f32::NAN, |p| p[1])
        };
        let unpriced = TraceViterbiConfig {
            label_band_cost: 0.0,
            ..thin_pen()
        };
        assert!(at(&unpriced, 103.0) > 80.0, "{}", at(&unpriced, 103.0));
        assert!(at(&thin_pen(), 103.0) < 40.0, "{}", at(&thin_pen(), 103.0));
    }

    #[test]
    fn a_separator_bar_straddling_a_panels_start_is_not_its_first_sample() {
        // 8 px/mm; a lead separator bar, two columns wide, stands across
        // the boundary of two panels (x = 99..=100, from above the baseline
        // to well below it); the second panel starts at x = 100.0 on the
        // baseline (y = 50), where its first column is all bar
        let m = columns_mask((200, 100), 0..200, |x| match x {
            99 | 100 => (40, 90),
            _ => (50, 51),
        });
        let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
        let second = Panel {
            col: 1,
            ..panel(100.0, 199.0, 0.0, 99.0, 50.0)
        };
        let layout = row_at_50(vec![second]);
        let worst_start = |cfg: &TraceViterbiConfig| -> f32 {
            let t = cfg.trace_all(&m, &layout, &grid);
            t.traces[0]
                .points
                .iter()
                .filter(|p| p[0] < 103.0)
                .map(|p| (p[1] - 50.5).abs())
                .fold(0.0f32, f32::max)
        };
        // (the bar's one column inside the panel also passes for a lone bar)
        let no_inset = TraceViterbiConfig {
            start_inset_mm: 0.0,
            lone_bars: false,
            ..thin_pen()
        };
        assert!(worst_start(&no_inset) > 3.0, "{}", worst_start(&no_inset));
        assert!(
            worst_start(&thin_pen()) < 0.75,
            "{}",
            worst_start(&thin_pen())
        );
    }

    #[test]
    fn a_one_pixel_separator_bar_broken_by_noise_is_not_followed() {
        // 8 px/mm; the first of two panels ends at x = 99, and a separator
        // bar one column wide (a rotated page's) stands at x = 96, across
        // the baseline (y = 50) from y = 25 to 80 but broken at 46..=49;
        // the trace is flat on the baseline through it
        let m = columns_mask((200, 100), 0..200, |x| match x {
            96 => (25, 80),
            _ => (50, 51),
        });
        let mut m = m;
        for y in 46..=49 {
            m.put_pixel(96, y, Luma([0]));
        }
        let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
        let first = panel(0.0, 99.0, 0.0, 99.0, 50.0);
        let second = Panel {
            col: 1,
            ..panel(100.0, 199.0, 0.0, 99.0, 50.0)
        };
        let layout = row_at_50(vec![first, second]);
        let worst_end = |cfg: &TraceViterbiConfig| -> f32 {
            let t = cfg.trace_all(&m, &layout, &grid);
            t.traces[0]
                .points
                .iter()
                .filter(|p| p[0] > 90.0)
                .map(|p| (p[1] - 50.5).abs())
                .fold(0.0f32, f32::max)
        };
        let without = TraceViterbiConfig {
            lone_bars: false,
            ..thin_pen()
        };
        assert!(worst_end(&without) > 5.0, "{}", worst_end(&without));
        assert!(worst_end(&thin_pen()) < 1.0, "{}", worst_end(&thin_pen()));
    }

    #[test]
    fn strokes_at_panel_ends_are_kept_but_a_separator_is_not() {
        // two panels in one row, baseline y=50; a separator bar, 3 px wide,
        // at the end of the first panel (x=96..98) and a QRS downstroke at
        // the very end of the row (x=198), both from y=20 to y=51; a QRS
        // spike just after the separator, at the second panel's start
        let m = columns_mask((200, 100), 0..200, |x| match x {
            96..=98 | 198 => (20, 51),
            101 => (30, 51),
            102 => (15, 35),
            103 => (15, 51),
            _ => (50, 51),
        });
        let grid = GridInfo::from_dpi(101.6, ScaleSource::Grid); // 4 px/mm
        let first = panel(0.0, 99.0, 0.0, 99.0, 50.0);
        let second = Panel {
            col: 1,
            ..panel(100.0, 199.0, 0.0, 99.0, 50.0)
        };
        let layout = row_at_50(vec![first, second]);
        let t = thin_pen().trace_all(&m, &layout, &grid);
        let top = |i: usize| {
            t.traces[i]
                .points
                .iter()
                .map(|p| p[1])
                .fold(f32::MAX, f32::min)
        };
        assert!(
            top(0) > 45.0,
            "the separator bar was followed: top {}",
            top(0)
        );
        let end_top = t.traces[1]
            .points
            .iter()
            .filter(|p| p[0] > 190.0)
            .map(|p| p[1])
            .fold(f32::MAX, f32::min);
        assert!(
            end_top < 30.0,
            "the stroke at the row's end was dropped: top {end_top}"
        );
        let start_top = t.traces[1]
            .points
            .iter()
            .filter(|p| p[0] < 110.0)
            .map(|p| p[1])
            .fold(f32::MAX, f32::min);
        assert!(
            start_top < 22.0,
            "the spike after the separator was dropped: top {start_top}"
        );
    }
}
