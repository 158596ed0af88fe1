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
//! The chosen runs become the signal by inverse rendering ([`super::fit`]):
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

use super::fit::{estimate_reach, fit_polyline_through, ColumnExtent, PolylineFit};
use super::path::PanelPath;
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
    /// [`super::fit`]); `false`: one point per column.
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
    /// centroids, see [`super::evidence`]).
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
}
