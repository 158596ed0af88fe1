//! `seed_split_trace`: the seed notebook's digitizer, kept as a baseline.
//!
//! Input: `image`. Output: `signals`. Deliberately naive, and faithful to the
//! notebook this project descends from:
//! 1. the page (optionally only the band between `top_fraction` and
//!    `bottom_fraction` of its height) is split into `rows` x `cols` equal
//!    panels, ignoring the real layout (no grid, no layout detection);
//! 2. in each panel, every pixel column's trace height is the median row of
//!    its dark pixels (grey level below `dark_threshold`); columns without
//!    dark pixels are interpolated;
//! 3. each panel's trace is min-max scaled to `0..scale_mv` (0.09 in the
//!    seed: *not* a calibrated millivolt scale) and resampled onto its lead's
//!    window of the page timeline (standard 3x4 order: rows I/II/III, columns
//!    limb, augmented, V1–V3, V4–V6; column `c` covers `c/cols..(c+1)/cols` of
//!    the page).
//!
//! Use `configs/seed.toml` for the whole seed pipeline (this stage, templates,
//! `reconstruct` in seed mode, a fixed 0.6 blend and `einthoven` in seed mode).
//!
//! ```
//! # let toml = r#"
//! [stages.seed]
//! type = "seed_split_trace"
//! inputs = ["load"]
//! rows = 3
//! cols = 4
//! dark_threshold = 100
//! scale_mv = 0.09
//! top_fraction = 0.0
//! bottom_fraction = 1.0
//! # "#;
//! # ecgdig_stages::link(); // keep the stage registrations in the doctest binary
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use crate::dsp;
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

/// Lead of the panel at (row, col) in the standard 3x4 printout.
pub const STANDARD_3X4: [[Lead; 4]; 3] = [
    [Lead::I, Lead::AVR, Lead::V1, Lead::V4],
    [Lead::II, Lead::AVL, Lead::V2, Lead::V5],
    [Lead::III, Lead::AVF, Lead::V3, Lead::V6],
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SeedSplitTraceConfig {
    /// Panel rows (at most 3: leads follow the standard 3x4 order).
    pub rows: usize,
    /// Panel columns (at most 4).
    pub cols: usize,
    /// Grey level (0..255) below which a pixel is trace ink.
    pub dark_threshold: u8,
    /// Height of the min-max scaled trace, "millivolts" (0.09 in the seed).
    pub scale_mv: f64,
    /// Part of the page height that is split, as fractions from the top.
    pub top_fraction: f64,
    pub bottom_fraction: f64,
    /// Confidence given to every traced lead.
    pub confidence: f64,
}

impl Default for SeedSplitTraceConfig {
    fn default() -> Self {
        Self {
            rows: 3,
            cols: 4,
            dark_threshold: 100,
            scale_mv: 0.09,
            top_fraction: 0.0,
            bottom_fraction: 1.0,
            confidence: 0.5,
        }
    }
}

#[typetag::serde(name = "seed_split_trace")]
impl StageConfig for SeedSplitTraceConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("image", ArtifactKind::Image)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("signals", ArtifactKind::Signals)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if !(1..=3).contains(&self.rows) || !(1..=4).contains(&self.cols) {
            return Err(Error::stage(format!(
                "seed_split_trace: rows ({}) must be 1..3 and cols ({}) 1..4",
                self.rows, self.cols
            )));
        }
        if !(0.0 <= self.top_fraction
            && self.top_fraction < self.bottom_fraction
            && self.bottom_fraction <= 1.0)
        {
            return Err(Error::stage(
                "seed_split_trace: need 0 <= top_fraction < bottom_fraction <= 1",
            ));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    SeedSplitTraceConfig,
    "seed_split_trace",
    summary = "The seed notebook's digitizer: equal 3x4 panels, column-median of dark pixels, min-max scaled to 0..0.09.",
    params = [
        ("rows", "panel rows, 1..3 (leads follow the standard 3x4 order)"),
        ("cols", "panel columns, 1..4"),
        ("dark_threshold", "grey level 0..255 below which a pixel counts as trace ink"),
        ("scale_mv", "each panel's trace is min-max scaled to 0..scale_mv (0.09 in the seed; not calibrated)"),
        ("top_fraction", "top of the split band, fraction of the page height (0 = top edge)"),
        ("bottom_fraction", "bottom of the split band, fraction of the page height (1 = bottom edge)"),
        ("confidence", "confidence (0..1) given to every traced lead"),
    ],
    example = "[stages.seed]\ntype = \"seed_split_trace\"\ninputs = [\"load\"]\ndark_threshold = 100\n"
);

impl Stage for SeedSplitTraceConfig {
    fn run(&self, inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
        let page = inputs.image("image")?;
        let (fs, n) = (ctx.options.fs, ctx.options.n_samples());
        let mut out = Signals::empty(fs, n);
        let (w, h) = (page.width() as usize, page.height() as usize);
        let y_top = (self.top_fraction * h as f64) as usize;
        let y_bottom = ((self.bottom_fraction * h as f64) as usize).min(h);
        let band = y_bottom.saturating_sub(y_top);
        if w < self.cols || band < self.rows {
            return Err(Error::new(
                ErrorClass::TooSmall,
                "seed_split_trace: the image is too small to split into panels",
            ));
        }
        for (r, row) in STANDARD_3X4.iter().enumerate().take(self.rows) {
            for (c, &lead) in row.iter().enumerate().take(self.cols) {
                let (x0, x1) = (c * w / self.cols, (c + 1) * w / self.cols);
                let (y0, y1) = (
                    y_top + r * band / self.rows,
                    y_top + (r + 1) * band / self.rows,
                );
                let trace = column_median_trace(&page.rgb, x0, x1, y0, y1, self.dark_threshold);
                let (a, b) = (c * n / self.cols, (c + 1) * n / self.cols);
                let samples = match dsp::fill_gaps(&trace) {
                    Some(t) => min_max(&dsp::resample_linear(&t, b - a), self.scale_mv as f32),
                    None => vec![f32::NAN; b - a],
                };
                out.set(
                    lead,
                    LeadSignal {
                        start: a,
                        samples,
                        confidence: self.confidence as f32,
                    },
                );
            }
        }
        Ok(StageOutputs::one(out))
    }
}

/// Per pixel column of the panel, minus the median row of its dark pixels
/// (up is positive); NaN for a column without dark pixels.
pub fn column_median_trace(
    img: &image::RgbImage,
    x0: usize,
    x1: usize,
    y0: usize,
    y1: usize,
    dark_threshold: u8,
) -> Vec<f32> {
    let mut rows = Vec::new();
    (x0..x1)
        .map(|x| {
            rows.clear();
            for y in y0..y1 {
                let p = img.get_pixel(x as u32, y as u32).0;
                let grey = (p[0] as u32 * 299 + p[1] as u32 * 587 + p[2] as u32 * 114) / 1000;
                if grey < dark_threshold as u32 {
                    rows.push(y as f32);
                }
            }
            crate::signals::einthoven::median(&mut rows).map_or(f32::NAN, |m| -m)
        })
        .collect()
}

/// Min-max scaling to `0..scale` (a flat trace becomes 0).
fn min_max(x: &[f32], scale: f32) -> Vec<f32> {
    let lo = x.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if hi.is_nan() || lo.is_nan() || hi <= lo {
        return vec![0.0; x.len()];
    }
    x.iter().map(|v| (v - lo) / (hi - lo) * scale).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A 400x300 white page; in every panel (100x100) a dark line whose height
    /// rises linearly across the panel by `rise` pixels.
    fn page(rise: f32) -> PageImage {
        let mut img = image::RgbImage::from_pixel(400, 300, image::Rgb([255, 255, 255]));
        for r in 0..3u32 {
            for x in 0..400u32 {
                let f = (x % 100) as f32 / 99.0;
                let y = r * 100 + 70 - (f * rise) as u32;
                for dy in 0..3 {
                    img.put_pixel(x, y + dy, image::Rgb([20, 20, 20]));
                }
                // pink grid noise that must be ignored
                img.put_pixel(x, r * 100 + 5, image::Rgb([250, 180, 180]));
            }
        }
        PageImage::new(img)
    }

    #[test]
    fn splits_traces_and_scales_each_panel() {
        let cfg = SeedSplitTraceConfig::default();
        let stage = cfg.build(&BuildContext::default()).unwrap();
        let ctx = RunContext::new(
            InputSource::Path("x.png".into()),
            "x",
            Arc::new(RunOptions {
                fs: 100.0,
                ..RunOptions::default()
            }),
        );
        let out = stage
            .run(&StageInputs::new().with("image", page(40.0)), &ctx)
            .unwrap();
        let Some(Artifact::Signals(s)) = out.get("") else {
            panic!("no signals")
        };
        assert_eq!(s.n_samples, 1000);
        for (c, lead) in [Lead::III, Lead::AVF, Lead::V3, Lead::V6]
            .iter()
            .enumerate()
        {
            let l = s.lead(*lead).unwrap();
            assert_eq!((l.start, l.samples.len()), (c * 250, 250));
            // a ramp from 0 to 0.09
            assert!(l.samples[0].abs() < 0.005, "{}", l.samples[0]);
            assert!((l.samples[249] - 0.09).abs() < 0.005);
            assert!(l.samples[125] > 0.03 && l.samples[125] < 0.06);
        }
    }

    #[test]
    fn blank_panels_give_nan_and_bad_params_are_refused() {
        let blank = image::RgbImage::from_pixel(400, 300, image::Rgb([255, 255, 255]));
        let trace = column_median_trace(&blank, 0, 10, 0, 10, 100);
        assert!(trace.iter().all(|v| v.is_nan()));
        assert_eq!(min_max(&[2.0, 2.0], 0.09), vec![0.0, 0.0]);
        let cfg = SeedSplitTraceConfig {
            rows: 4,
            ..Default::default()
        };
        assert!(cfg.build(&BuildContext::default()).is_err());
    }
}
