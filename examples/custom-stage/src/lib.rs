//! # An ecgdig stage defined outside the ecgdig workspace's `stages/` crate
//!
//! `median_smooth` replaces each sample by the median of a small window,
//! which removes one- or two-sample spikes left by tracing errors while
//! keeping QRS peaks wider than the window.
//!
//! Input: `signals`. Output: `signals` (same windows, same rate).
//!
//! ```
//! # ecgdig_example_stage::link();
//! # let toml = r#"
//! [stages.smooth]
//! type = "median_smooth"
//! inputs = ["signals"]
//! width_samples = 5
//! # "#;
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```
//!
//! To use it from a binary, depend on this crate and reference it
//! (`use ecgdig_example_stage as _;` or call [`link`]), or the linker drops
//! the registration and the config loader reports `unknown stage type`.

use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

/// Configuration of `median_smooth`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MedianSmoothConfig {
    /// Window length in samples (odd; even values are rounded up).
    pub width_samples: usize,
}

impl Default for MedianSmoothConfig {
    fn default() -> Self {
        Self { width_samples: 3 }
    }
}

#[typetag::serde(name = "median_smooth")]
impl StageConfig for MedianSmoothConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("signals", ArtifactKind::Signals)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("signals", ArtifactKind::Signals)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if self.width_samples == 0 || self.width_samples > 101 {
            return Err(Error::stage(format!(
                "width_samples must be between 1 and 101, got {}",
                self.width_samples
            )));
        }
        Ok(Box::new(MedianSmooth {
            half: self.width_samples / 2,
        }))
    }
}

register_stage!(
    MedianSmoothConfig,
    "median_smooth",
    summary = "Moving median over each lead (example stage from an outside crate).",
    params = [("width_samples", "window length in samples (odd)")],
    example =
        "[stages.smooth]\ntype = \"median_smooth\"\ninputs = [\"signals\"]\nwidth_samples = 5\n"
);

/// The runtime half: holds the half-width.
struct MedianSmooth {
    half: usize,
}

impl Stage for MedianSmooth {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let mut signals = (*inputs.signals("signals")?).clone();
        let mut window = Vec::with_capacity(2 * self.half + 1);
        for lead in signals.leads.iter_mut().flatten() {
            lead.samples = median_filter(&lead.samples, self.half, &mut window);
        }
        Ok(StageOutputs::one(signals))
    }
}

/// Moving median (the upper median where the window is even, at the edges);
/// NaN samples are skipped and stay NaN.
pub fn median_filter(x: &[f32], half: usize, window: &mut Vec<f32>) -> Vec<f32> {
    (0..x.len())
        .map(|i| {
            if !x[i].is_finite() {
                return x[i];
            }
            window.clear();
            let lo = i.saturating_sub(half);
            let hi = (i + half + 1).min(x.len());
            window.extend(x[lo..hi].iter().copied().filter(|v| v.is_finite()));
            window.sort_by(f32::total_cmp);
            window[window.len() / 2]
        })
        .collect()
}

/// Call from a binary or test to keep this crate (and its registration) linked.
pub fn link() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_a_spike_and_keeps_a_plateau() {
        let x = [0.0, 0.0, 5.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0];
        let y = median_filter(&x, 1, &mut Vec::new());
        // at the edge the window is shorter; its upper median is taken
        assert_eq!(y, vec![0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
    }
}
