//! `beat_speed`: tells a page printed at 50 mm/s from one at 25 mm/s by the
//! timing of its beats, where no speed was printed.
//!
//! Inputs: `layout`, `traces`, `grid`. Outputs: `layout` (panel time windows
//! rescaled) and `grid` (`mm_per_second` and `speed_source = beats`), both
//! unchanged unless the page is read as faster.
//!
//! Why: a page at 50 mm/s looks like one at 25 mm/s: the same rows, the same
//! grid, the same pulses. Read at 25 mm/s every beat lasts twice as long and
//! every panel gets twice its time window, and the whole page fails. When
//! the page prints its speed (`scale_text`) the text decides; many pages
//! print nothing.
//!
//! How: each traced panel is sampled as read (at the assumed speed,
//! [`super::convert::sample_panel`], [`FS`] Hz) and band-passed to
//! 0.5–40 Hz. Two physiological timings are measured:
//! * the **RMS frequency of the slope**, `sqrt(Σ x''² / Σ x'²) · fs / 2π`:
//!   about 15–24 Hz on real 12-lead records read at the right speed, the
//!   QRS complexes' sharp slopes dominating; halved time stretches it to
//!   8–16 Hz;
//! * the **heart rate**: peaks of the smoothed absolute slope (the QRS
//!   complexes) on panels of at least [`MIN_RATE_SECONDS`]; 40–150 bpm on
//!   real records, half that read at half the speed.
//!
//! Their medians over the panels combine into one score, `ln(rms_hz) +
//! 0.5 ln(bpm)`, which the doubled time lowers by about 1.0. On the 75
//! records of `../shared/data/records` read at the right speed it is
//! 4.77–5.6; read at half speed, 3.9–5.3. A page is read at
//! `faster_speed` when its score is under `max_score` (4.65) **and** its
//! heart rate as read is under `max_bpm` (45). The score alone is not
//! enough: scans at 2–3 px/mm blur the QRS slopes (a real 25 mm/s page at
//! 80 bpm scores 4.56), and the rate alone is not either (bradycardia).
//! A page at 25 mm/s that is both slow and blunt (a complete heart block
//! with broad escape beats) could still be read as faster, so the choice
//! is recorded as `speed_source = "beats"` in the JSON. A printed speed, or a pipeline speed other than 25 mm/s,
//! is never overridden.
//!
//! When the page is read faster, every panel's time window is scaled by
//! `25 / faster_speed`: the same pixels now show half the seconds, as the
//! layout would have built them with the speed known.
//!
//! ```
//! # let toml = r#"
//! [stages.speed]
//! type = "beat_speed"
//! inputs = { layout = "layout", traces = "trace", grid = "calibrate" }
//! max_score = 4.7
//! faster_speed = 50.0
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use super::convert::sample_panel;
use crate::dsp;
use crate::layout::panels::STANDARD_SPEED;
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

/// Rate the panels are sampled at, Hz.
pub const FS: f32 = 500.0;
/// Shortest panel measured, seconds.
const MIN_SECONDS: f32 = 0.8;
/// Shortest panel whose heart rate is measured, seconds.
pub const MIN_RATE_SECONDS: f32 = 2.0;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BeatSpeedConfig {
    /// Pages scoring under this (`ln(rms_hz) + 0.5 ln(bpm)`) are read at
    /// `faster_speed`.
    pub max_score: f32,
    /// ... and whose heart rate, read at the assumed speed, is under this
    /// (beats per minute).
    pub max_bpm: f32,
    /// The speed a page read as faster is given, mm/s.
    pub faster_speed: f32,
}

impl Default for BeatSpeedConfig {
    fn default() -> Self {
        Self {
            max_score: 4.65,
            max_bpm: 45.0,
            faster_speed: 50.0,
        }
    }
}

#[typetag::serde(name = "beat_speed")]
impl StageConfig for BeatSpeedConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![
            Port::new("layout", ArtifactKind::Layout),
            Port::new("traces", ArtifactKind::Traces),
            Port::new("grid", ArtifactKind::Grid),
        ]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![
            Port::new("layout", ArtifactKind::Layout),
            Port::new("grid", ArtifactKind::Grid),
        ]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if !(self.faster_speed > STANDARD_SPEED && self.faster_speed <= 200.0) {
            return Err(Error::stage(
                "beat_speed: faster_speed must be above 25 and at most 200 mm/s",
            ));
        }
        if !(self.max_score.is_finite() && self.max_bpm > 0.0 && self.max_bpm < 200.0) {
            return Err(Error::stage(
                "beat_speed: max_score must be a number and max_bpm in (0, 200)",
            ));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    BeatSpeedConfig,
    "beat_speed",
    summary = "Reads an unprinted 50 mm/s page by its beats' timing (slope frequency and heart rate); rescales the panels' windows.",
    params = [
        (
            "max_score",
            "pages with ln(slope RMS Hz) + 0.5 ln(bpm) under this are read at faster_speed"
        ),
        (
            "max_bpm",
            "... and whose heart rate read at the assumed speed is under this, bpm"
        ),
        ("faster_speed", "the speed such a page is given, mm/s"),
    ],
    example = "[stages.speed]\ntype = \"beat_speed\"\ninputs = { layout = \"layout\", traces = \"trace\", grid = \"calibrate\" }\n"
);

impl Stage for BeatSpeedConfig {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let mut layout = (*inputs.layout("layout")?).clone();
        let traces = inputs.traces("traces")?;
        let mut grid = (*inputs.grid("grid")?).clone();
        if self.is_faster(&layout, &traces, &grid) {
            speed_up(&mut layout, &mut grid, self.faster_speed);
        }
        Ok(StageOutputs::default()
            .with("layout", layout)
            .with("grid", grid))
    }
}

impl BeatSpeedConfig {
    /// Whether the page reads as printed at `faster_speed`.
    pub fn is_faster(&self, layout: &Layout, traces: &Traces, grid: &GridInfo) -> bool {
        let assumed = grid.speed_source == SpeedSource::Assumed
            && (grid.mm_per_second - STANDARD_SPEED).abs() < 0.5;
        assumed
            && beat_timing(layout, traces, grid)
                .is_some_and(|t| t.score() < self.max_score && t.bpm < self.max_bpm)
    }
}

/// A page's beat timing, read at its current speed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BeatTiming {
    /// Median over panels of the slope's RMS frequency, Hz.
    pub slope_hz: f32,
    /// Median over long panels of the heart rate, beats per minute.
    pub bpm: f32,
}

impl BeatTiming {
    /// `ln(slope_hz) + 0.5 ln(bpm)`: lower for slower-looking beats.
    pub fn score(&self) -> f32 {
        self.slope_hz.ln() + 0.5 * self.bpm.ln()
    }
}

/// The page's beat timing; `None` without a long enough traced panel.
pub fn beat_timing(layout: &Layout, traces: &Traces, grid: &GridInfo) -> Option<BeatTiming> {
    let n_samples = (layout.page_seconds * FS).round() as usize;
    let mut slopes = Vec::new();
    let mut rates = Vec::new();
    for (pi, p) in layout.panels.iter().enumerate() {
        let Some(trace) = traces.traces.iter().find(|t| t.panel == pi) else {
            continue;
        };
        let Some((_, samples, _)) = sample_panel(p, Some(trace), grid, FS, n_samples) else {
            continue;
        };
        if (samples.len() as f32) < MIN_SECONDS * FS {
            continue;
        }
        let Some(filled) = dsp::fill_gaps(&samples) else {
            continue;
        };
        let x = dsp::bandpass(&filled, FS, 0.5, 40.0);
        if let Some(hz) = slope_hz(&x) {
            slopes.push(hz);
        }
        if samples.len() as f32 >= MIN_RATE_SECONDS * FS {
            if let Some(bpm) = heart_rate(&x) {
                rates.push(bpm);
            }
        }
    }
    Some(BeatTiming {
        slope_hz: dsp::quantile(&slopes, 0.5)?,
        bpm: dsp::quantile(&rates, 0.5)?,
    })
}

/// RMS frequency of the slope, Hz: `sqrt(Σ x''² / Σ x'²) · FS / 2π`.
fn slope_hz(x: &[f32]) -> Option<f32> {
    let (mut d1, mut d2) = (0f64, 0f64);
    for w in x.windows(3) {
        let a = (w[1] - w[0]) as f64;
        let b = (w[2] - w[1]) as f64;
        d1 += a * a;
        d2 += (b - a) * (b - a);
    }
    (d1 > 1e-12).then(|| ((d2 / d1).sqrt() * FS as f64 / std::f64::consts::TAU) as f32)
}

/// Heart rate from the peaks of the absolute slope smoothed over 40 ms:
/// peaks at least 40 % of the highest, 0.25 s apart (the higher kept).
fn heart_rate(x: &[f32]) -> Option<f32> {
    let slope: Vec<f32> = x.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let k = (0.04 * FS) as usize;
    let env = moving_mean(&slope, k);
    let top = env.iter().cloned().fold(0.0f32, f32::max);
    if top <= 0.0 {
        return None;
    }
    let mut cands: Vec<usize> = (1..env.len().saturating_sub(1))
        .filter(|&i| env[i] >= 0.4 * top && env[i] >= env[i - 1] && env[i] > env[i + 1])
        .collect();
    cands.sort_by(|&a, &b| env[b].total_cmp(&env[a]));
    let gap = (0.25 * FS) as usize;
    let mut kept: Vec<usize> = Vec::new();
    for c in cands {
        if kept.iter().all(|&k| k.abs_diff(c) >= gap) {
            kept.push(c);
        }
    }
    kept.sort_unstable();
    let rr: Vec<f32> = kept.windows(2).map(|w| (w[1] - w[0]) as f32).collect();
    let med = dsp::quantile(&rr, 0.5)?;
    Some(60.0 * FS / med)
}

/// Centred moving mean over `k` samples (shorter at the ends).
fn moving_mean(x: &[f32], k: usize) -> Vec<f32> {
    let n = x.len();
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0f64);
    for v in x {
        prefix.push(prefix[prefix.len() - 1] + *v as f64);
    }
    (0..n)
        .map(|i| {
            let a = i.saturating_sub(k / 2);
            let b = (i + k - k / 2).min(n);
            ((prefix[b] - prefix[a]) / (b - a).max(1) as f64) as f32
        })
        .collect()
}

/// Gives the page `speed` mm/s: every panel's window scaled by the ratio
/// of the old speed to the new.
pub fn speed_up(layout: &mut Layout, grid: &mut GridInfo, speed: f32) {
    let k = grid.mm_per_second / speed;
    for p in &mut layout.panels {
        p.t_start *= k;
        p.t_end *= k;
    }
    grid.mm_per_second = speed;
    grid.speed_source = SpeedSource::Beats;
}

#[cfg(test)]
#[path = "beat_speed_tests.rs"]
mod tests;
