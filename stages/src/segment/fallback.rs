//! `fallback_segment`: the classical mask, and the learned one only where
//! the classical mask gives an implausible page.
//!
//! Inputs: `image` (deskewed) and `grid`. Output: `mask`, the same artifact
//! as `classical_segment` and `onnx_segment` write.
//!
//! The `primary` segmenter (`classical_segment`'s parameters) runs first.
//! Its mask's rows are found as `layout_detect` would find them; printed
//! ECG rows stand at least a trace's swing apart, so rows closer than
//! `min_row_gap_mm` mean the mask holds something else: a dark grid read as
//! ink (each grid line a ghost row), or the rows of a scan's text. Only then
//! does the `fallback` segmenter (`onnx_segment`'s parameters) run, and its
//! mask is taken if its rows are plausible; otherwise the primary mask
//! stands. So pages the classical mask reads well cost nothing extra, and
//! dark-grid scans get the model's mask (real-unlabeled: 8 of 52 pages).
//! The default `primary` is `classical_segment` without its grid-lattice
//! removal (`lattice_min_coverage = 0`): with the vertical grid lines
//! cleared, a dark grid's horizontal lines no longer pass as rows, so such a
//! page would not be judged implausible, yet it would still be misread.
//! A `primary` or `fallback` table replaces the default one whole:
//! parameters it leaves out take `classical_segment`'s or `onnx_segment`'s
//! defaults.
//!
//! ```
//! # let toml = r#"
//! [stages.segment]
//! type = "fallback_segment"
//! inputs = { image = "deskew", grid = "grid" }
//! min_row_gap_mm = 12.0
//!
//! [stages.segment.primary]
//! ink_ratio = 0.45
//!
//! [stages.segment.fallback]
//! model_path = "../models/segmenter.onnx"
//! threshold = 0.3
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use crate::layout::detect::{LayoutDetectConfig, Row};
use crate::segment::classical::ClassicalSegmentConfig;
use crate::segment::onnx::OnnxSegmentConfig;
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FallbackSegmentConfig {
    /// Rows of the primary mask closer than this (mm) make it implausible.
    pub min_row_gap_mm: f32,
    /// The segmenter tried first.
    pub primary: ClassicalSegmentConfig,
    /// The segmenter tried when the primary's rows are implausible.
    pub fallback: OnnxSegmentConfig,
    /// How rows are found to judge a mask (as the `layout` stage does).
    pub rows: LayoutDetectConfig,
}

impl Default for FallbackSegmentConfig {
    fn default() -> Self {
        Self {
            min_row_gap_mm: 12.0,
            // without the grid-lattice removal: the judgement needs the
            // grid lines a dark grid leaves in the mask, and the removal
            // clears only the vertical ones, which would hide such a page
            primary: ClassicalSegmentConfig {
                lattice_min_coverage: 0.0,
                ..ClassicalSegmentConfig::default()
            },
            fallback: OnnxSegmentConfig::default(),
            rows: LayoutDetectConfig::default(),
        }
    }
}

register_stage!(FallbackSegmentConfig, "fallback_segment",
    summary = "Classical trace mask; the learned (ONNX) one only where the classical mask's rows are implausibly close (dark grids, text).",
    params = [
        ("min_row_gap_mm", "rows of the primary mask closer than this (mm) make it implausible, and the fallback runs"),
        ("primary", "table: classical_segment's parameters"),
        ("fallback", "table: onnx_segment's parameters (model_path relative to the config's folder)"),
        ("rows", "table: layout_detect's parameters, used to find the rows a mask holds"),
    ],
    example = "[stages.segment]\ntype = \"fallback_segment\"\ninputs = { image = \"deskew\", grid = \"grid\" }\n\n[stages.segment.fallback]\nmodel_path = \"../models/segmenter.onnx\"\n");

#[typetag::serde(name = "fallback_segment")]
impl StageConfig for FallbackSegmentConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![
            Port::new("image", ArtifactKind::Image),
            Port::new("grid", ArtifactKind::Grid),
        ]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("mask", ArtifactKind::Mask)]
    }
    fn build(&self, ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if self.min_row_gap_mm.is_nan() || self.min_row_gap_mm < 0.0 {
            return Err(Error::stage(format!(
                "fallback_segment: min_row_gap_mm must be 0 or more (got {})",
                self.min_row_gap_mm
            )));
        }
        Ok(Box::new(FallbackSegment {
            min_row_gap_mm: self.min_row_gap_mm,
            primary: self
                .primary
                .build(ctx)
                .map_err(|e| e.context("fallback_segment.primary"))?,
            fallback: self
                .fallback
                .build(ctx)
                .map_err(|e| e.context("fallback_segment.fallback"))?,
            rows: self.rows.clone(),
        }))
    }
}

struct FallbackSegment {
    min_row_gap_mm: f32,
    primary: Box<dyn Stage>,
    fallback: Box<dyn Stage>,
    rows: LayoutDetectConfig,
}

/// The smallest gap between consecutive rows' baselines, in mm; `None`
/// with fewer than two rows.
pub fn min_row_gap_mm(rows: &[Row], px_per_mm_y: f32) -> Option<f32> {
    let mut ys: Vec<f32> = rows.iter().map(|r| r.baseline_y).collect();
    ys.sort_by(f32::total_cmp);
    ys.windows(2)
        .map(|w| (w[1] - w[0]) / px_per_mm_y.max(1e-3))
        .min_by(f32::total_cmp)
}

fn mask_of(outputs: StageOutputs) -> Result<Arc<TraceMask>> {
    match outputs.get("mask").or_else(|| outputs.get("")) {
        Some(Artifact::Mask(m)) => Ok(m.clone()),
        _ => Err(Error::stage("fallback_segment: a segmenter wrote no mask")),
    }
}

impl FallbackSegment {
    /// A mask is plausible when it holds rows, none closer than the bar.
    fn plausible(&self, mask: &TraceMask, grid: &GridInfo) -> bool {
        let rows = self.rows.find_rows(&mask.mask, grid);
        !rows.is_empty()
            && min_row_gap_mm(&rows, grid.px_per_mm_y).is_none_or(|g| g >= self.min_row_gap_mm)
    }
}

impl Stage for FallbackSegment {
    fn run(&self, inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
        let grid = inputs.grid("grid")?;
        let primary = mask_of(self.primary.run(inputs, ctx)?)?;
        if self.plausible(&primary, &grid) {
            return Ok(StageOutputs::one(primary));
        }
        let fallback = mask_of(self.fallback.run(inputs, ctx)?)?;
        if self.plausible(&fallback, &grid) {
            Ok(StageOutputs::one(fallback))
        } else {
            Ok(StageOutputs::one(primary))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(y: f32) -> Row {
        Row {
            baseline_y: y,
            ink_x0: 0.0,
            ink_x1: 100.0,
            x_start: 0.0,
            pulse: None,
            end_pulse: None,
            x_stop: None,
            waviness: 1.0,
        }
    }

    #[test]
    fn the_row_gap_is_the_closest_pair_in_mm() {
        let rows = [row(300.0), row(100.0), row(180.0)];
        assert_eq!(min_row_gap_mm(&rows, 8.0), Some(10.0));
        assert_eq!(min_row_gap_mm(&rows[..1], 8.0), None);
    }

    #[test]
    fn bad_settings_are_refused_with_their_name() {
        let cfg = FallbackSegmentConfig {
            min_row_gap_mm: -1.0,
            ..Default::default()
        };
        let e = cfg
            .build(&BuildContext { config_dir: None })
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("min_row_gap_mm"), "{e}");
    }
}
