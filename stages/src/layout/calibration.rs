//! `calibration_pulse`: measures the 1 mV calibration pulse and reconciles
//! it with the grid scale.
//!
//! Inputs: `mask`, `grid`, `layout`. Output: `grid`, the scale to convert
//! traces with.
//!
//! At the start of each row, left of where the signal begins, or at its end,
//! right of where the signal stops (or at both), the pulse is a rectangle
//! standing on the baseline: 1 mV high (10 mm at the standard gain) and
//! 1.6 to 7 mm wide (5 mm at 0.2 s and 25 mm/s). At a row's end it is
//! measured where the pulse detector ([`crate::layout::pulse`]) finds one.
//! Its height is the span of the tallest ink column at its edges, less the
//! pen width; the median over rows and ends is used.
//!
//! * With a confident grid, the pulse height in grid millimetres gives the
//!   gain: about 10 mm keeps 10 mm/mV; about 5 or 20 mm (half or double
//!   standard gain) sets `mm_per_mv` accordingly. Otherwise the grid is kept.
//! * Without a grid, the pulse height defines the vertical scale
//!   (`px_per_mm_y = height / 10`), the horizontal scale follows it (square
//!   pixels) and `source` becomes `calibration_pulse`. Where two or more
//!   rows' traced lengths agree on a horizontal scale within 5 % of that,
//!   it is taken instead ([`super::row_ruler`]: a 250 mm row measures the
//!   scale more precisely than a 10 mm pulse).
//!
//! ```
//! # let toml = r#"
//! [stages.calibrate]
//! type = "calibration_pulse"
//! inputs = { mask = "segment", grid = "grid", layout = "layout" }
//! min_grid_confidence = 0.3
//! gain_tolerance = 0.15
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use super::pulse::{find_pulse_in, FoundPulse, RowEnd};
use super::row_ruler::row_scale;
use crate::imaging;
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalibrationPulseConfig {
    /// A grid at least this confident keeps its scale.
    pub min_grid_confidence: f32,
    /// Relative tolerance when matching the pulse height to 5, 10 or 20 mm.
    pub gain_tolerance: f32,
    /// Mask level counted as ink (0..255).
    pub ink_level: u8,
}

impl Default for CalibrationPulseConfig {
    fn default() -> Self {
        Self {
            min_grid_confidence: 0.3,
            gain_tolerance: 0.15,
            ink_level: 128,
        }
    }
}

#[typetag::serde(name = "calibration_pulse")]
impl StageConfig for CalibrationPulseConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![
            Port::new("mask", ArtifactKind::Mask),
            Port::new("grid", ArtifactKind::Grid),
            Port::new("layout", ArtifactKind::Layout),
        ]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("grid", ArtifactKind::Grid)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if !(0.0..1.0).contains(&self.gain_tolerance) {
            return Err(Error::stage(
                "calibration_pulse: gain_tolerance must be in 0..1",
            ));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    CalibrationPulseConfig,
    "calibration_pulse",
    summary = "Measures the 1 mV calibration pulse; sets the gain, or the scale when there is no grid.",
    params = [
        (
            "min_grid_confidence",
            "a grid at least this confident keeps its scale; the pulse then only sets the gain"
        ),
        (
            "gain_tolerance",
            "relative tolerance when matching the pulse height to 5, 10 or 20 mm"
        ),
        ("ink_level", "mask value (0..255) counted as ink"),
    ],
    example = "[stages.calibrate]\ntype = \"calibration_pulse\"\ninputs = { mask = \"segment\", grid = \"grid\", layout = \"layout\" }\n"
);

impl Stage for CalibrationPulseConfig {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let mask = inputs.mask("mask")?;
        let grid = inputs.grid("grid")?;
        let layout = inputs.layout("layout")?;
        Ok(StageOutputs::one(
            self.page_scale(&mask.mask, &layout, &grid),
        ))
    }
}

impl CalibrationPulseConfig {
    /// The scale to convert with: [`Self::reconcile`] on the pulses'
    /// heights, the horizontal scale refined by the rows' lengths where it
    /// came from the pulse ([`super::row_ruler`]).
    pub fn page_scale(
        &self,
        mask: &image::GrayImage,
        layout: &Layout,
        grid: &GridInfo,
    ) -> GridInfo {
        let heights = pulse_heights(mask, layout, grid, self.ink_level);
        let mut out = self.reconcile(grid, &heights);
        if out.source == ScaleSource::CalibrationPulse
            && grid.source != ScaleSource::CalibrationPulse
        {
            if let Some(ppx) = row_scale(mask, layout, &out, self.ink_level) {
                out.px_per_mm_x = ppx;
            }
        }
        out
    }

    /// Combines the grid with measured pulse heights (pixels).
    pub fn reconcile(&self, grid: &GridInfo, heights: &[f32]) -> GridInfo {
        let mut out = grid.clone();
        if heights.is_empty() {
            return out;
        }
        let hpx = imaging::median(heights);
        if !hpx.is_finite() || hpx <= 0.0 {
            return out;
        }
        let grid_ok =
            grid.source == ScaleSource::Grid && grid.confidence >= self.min_grid_confidence;
        if grid_ok {
            let mm = hpx / grid.px_per_mm_y;
            for gain in [10.0f32, 5.0, 20.0] {
                if ((mm - gain) / gain).abs() <= self.gain_tolerance {
                    out.mm_per_mv = gain;
                    break;
                }
            }
        } else {
            let ppy = hpx / 10.0;
            let aspect = if grid.px_per_mm_y > 0.0 {
                grid.px_per_mm_x / grid.px_per_mm_y
            } else {
                1.0
            };
            out.px_per_mm_y = ppy;
            out.px_per_mm_x = ppy * aspect;
            out.mm_per_mv = 10.0;
            out.source = ScaleSource::CalibrationPulse;
            out.confidence = 0.5;
        }
        out
    }
}

/// Heights in pixels of the calibration pulses of each row, at its start
/// (left of its first panel's start) and its end (right of its last
/// panel's end). Where the pulse detector ([`find_pulse_in`]) finds one, it
/// is measured on its own columns; a row without one at either end is
/// measured on the 8 mm before its start; a row with one at its end only
/// is not measured at its start (lead labels stand there on such pages).
/// Found pulses of another height class than most of the page's are left
/// out.
pub fn pulse_heights(
    mask: &image::GrayImage,
    layout: &Layout,
    grid: &GridInfo,
    ink_level: u8,
) -> Vec<f32> {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let m = mask.as_raw();
    let (ppx, ppy) = (grid.px_per_mm_x.max(0.5), grid.px_per_mm_y.max(0.5));
    let mut rows: Vec<usize> = layout.panels.iter().map(|p| p.row).collect();
    rows.sort_unstable();
    rows.dedup();
    let mut out = Vec::new();
    // (heights of the pulses the detector found, with their height class)
    let mut found: Vec<(f32, f32)> = Vec::new();
    for row in rows {
        let panels = || layout.panels.iter().filter(|p| p.row == row);
        let Some(first) = panels().min_by(|a, b| a.x_start.total_cmp(&b.x_start)) else {
            continue;
        };
        let Some(last) = panels().max_by(|a, b| a.x_end.total_cmp(&b.x_end)) else {
            continue;
        };
        let b = last.baseline_y;
        let detect = |xs: f32, xe: f32| {
            find_pulse_in(m, w, h, ink_level, (xs, xe), RowEnd::Start, b, ppx, ppy)
        };
        let end = detect(last.x_end - 1.0 * ppx, last.x_end + 12.0 * ppx);
        let at_start = detect(first.x_start - 12.0 * ppx, first.x_start + 1.0 * ppx);
        // a pulse the detector found is measured on its own columns, on
        // runs of about its height (not a wave's stroke beside it)
        let measure = |p: &FoundPulse| {
            let runs = (0.7 * p.height_mm * ppy, 1.3 * p.height_mm * ppy + 1.0 * ppy);
            let cols = (p.rise - 0.75 * ppx, p.fall + 0.75 * ppx);
            pulse_height(m, w, h, cols, b, grid, ink_level, runs)
        };
        if let Some(p) = &at_start {
            found.extend(measure(p).map(|hpx| (p.height_mm, hpx)));
        } else if first.col == 0 && end.is_none() {
            // columns from 8 mm before the signal start to just past it
            // (the pulse's falling edge can stand a pen's width after the
            // start)
            let xs = first.x_start - 8.0 * grid.px_per_mm_x;
            let xe = first.x_start + 0.5 * grid.px_per_mm_x;
            let any = (0.0, f32::INFINITY);
            out.extend(pulse_height(
                m,
                w,
                h,
                (xs, xe),
                first.baseline_y,
                grid,
                ink_level,
                any,
            ));
        }
        if let Some(p) = &end {
            found.extend(measure(p).map(|hpx| (p.height_mm, hpx)));
        }
    }
    // the pulses of a page show one gain: those of another height class
    // than most are not pulses
    let count = |mm: f32| found.iter().filter(|f| f.0 == mm).count();
    let most = found.iter().map(|f| f.0).max_by_key(|&mm| count(mm));
    let most = most.filter(|&mm| 2 * count(mm) > found.len());
    out.extend(
        found
            .iter()
            .filter(|f| most.is_none_or(|mm| f.0 == mm))
            .map(|f| f.1),
    );
    out
}

/// The height in pixels of a pulse standing on `baseline` among the columns
/// `xs..=xe`: the longest vertical run of ink in any of them (of the runs
/// `lo..=hi` pixels long), less the pen width (the median run); `None`
/// unless 3 to 25 mm at the grid's scale.
#[allow(clippy::too_many_arguments)]
fn pulse_height(
    m: &[u8],
    w: usize,
    h: usize,
    (xs, xe): (f32, f32),
    baseline: f32,
    grid: &GridInfo,
    ink_level: u8,
    (lo, hi): (f32, f32),
) -> Option<f32> {
    let xs = xs.max(0.0) as usize;
    let xe = (xe.max(0.0) as usize).min(w.saturating_sub(1));
    let ytop = (baseline - 25.0 * grid.px_per_mm_y).max(0.0) as usize;
    let ybot = ((baseline + 3.0 * grid.px_per_mm_y).max(0.0) as usize).min(h.saturating_sub(1));
    if xe <= xs || ybot <= ytop {
        return None;
    }
    // per column: longest vertical run of ink touching the baseline region
    let mut best = 0usize;
    let mut pen = Vec::new();
    for x in xs..=xe {
        let mut run = 0usize;
        let mut longest = 0usize;
        for y in ytop..=ybot {
            if m[y * w + x] >= ink_level {
                run += 1;
            } else {
                if run > 0 {
                    pen.push(run);
                    if (lo..=hi).contains(&(run as f32)) {
                        longest = longest.max(run);
                    }
                }
                run = 0;
            }
        }
        if (lo..=hi).contains(&(run as f32)) {
            longest = longest.max(run);
        }
        best = best.max(longest);
    }
    let pen_w = if pen.is_empty() {
        0.0
    } else {
        pen.sort_unstable();
        pen[pen.len() / 2] as f32
    };
    let hpx = best as f32 - pen_w.min(best as f32 * 0.2);
    // plausible pulse: 3..25 mm at the current scale
    let mm = hpx / grid.px_per_mm_y;
    (3.0..=25.0).contains(&mm).then_some(hpx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{detect::LayoutDetectConfig, tests::synthetic_mask};

    fn confident_grid(ppmm: f32) -> GridInfo {
        GridInfo {
            source: ScaleSource::Grid,
            confidence: 0.9,
            ..GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid)
        }
    }

    #[test]
    fn measures_pulse_and_keeps_standard_gain() {
        let ppmm = 4.0;
        let (mask, _, _) = synthetic_mask(3, ppmm);
        let grid = confident_grid(ppmm);
        let layout = LayoutDetectConfig::default()
            .detect(&mask, &grid, 10.0)
            .unwrap();
        let hs = pulse_heights(&mask, &layout, &grid, 128);
        assert_eq!(hs.len(), 3);
        for h in &hs {
            assert!((h - 40.0).abs() <= 2.0, "{h}");
        }
        let cfg = CalibrationPulseConfig::default();
        assert_eq!(cfg.reconcile(&grid, &hs).mm_per_mv, 10.0);
        // a half-height pulse means 5 mm/mV
        let half: Vec<f32> = hs.iter().map(|h| h / 2.0).collect();
        assert_eq!(cfg.reconcile(&grid, &half).mm_per_mv, 5.0);
    }

    #[test]
    fn a_pulse_is_measured_on_its_falling_edge_just_past_the_signals_start() {
        let ppmm = 4.0;
        let (mut mask, baselines, x_fall) = synthetic_mask(3, ppmm);
        // break each rising edge half way up: only the falling edge, which
        // stands a fraction of a pixel past the signal's start, is whole
        let rise = (x_fall - 5.0 * ppmm) as u32;
        for &b in &baselines {
            for y in (b - 6.0 * ppmm) as u32..(b - 4.0 * ppmm) as u32 {
                mask.put_pixel(rise, y, image::Luma([0]));
            }
        }
        let grid = confident_grid(ppmm);
        let layout = LayoutDetectConfig::default()
            .detect(&mask, &grid, 10.0)
            .unwrap();
        assert!(
            layout.panels[0].x_start < x_fall,
            "{}",
            layout.panels[0].x_start
        );
        let hs = pulse_heights(&mask, &layout, &grid, 128);
        assert_eq!(hs.len(), 3);
        for h in &hs {
            assert!((h - 40.0).abs() <= 2.0, "{h}");
        }
    }

    #[test]
    fn without_grid_the_pulse_sets_the_scale() {
        let grid = GridInfo::from_dpi(200.0, ScaleSource::Assumed);
        let out = CalibrationPulseConfig::default().reconcile(&grid, &[60.0, 59.0, 61.0]);
        assert_eq!(out.source, ScaleSource::CalibrationPulse);
        assert!((out.px_per_mm_y - 6.0).abs() < 1e-6);
        assert!((out.px_per_mm_x - 6.0).abs() < 1e-6);
    }
}
