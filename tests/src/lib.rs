//! Fixture stages for the workspace's integration tests.
//!
//! They are tiny and stable on purpose: config-diagnostic snapshots quote
//! their names and parameters, so they must not change when the real stages
//! evolve.

pub mod cli;

use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

/// Makes a sine on every lead (no inputs -> signals).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FixtureSource {
    pub amplitude_mv: f32,
    pub frequency_hz: f32,
}
impl Default for FixtureSource {
    fn default() -> Self {
        Self {
            amplitude_mv: 1.0,
            frequency_hz: 1.0,
        }
    }
}
#[typetag::serde(name = "fixture_source")]
impl StageConfig for FixtureSource {
    fn inputs(&self) -> Vec<Port> {
        Vec::new()
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("signals", ArtifactKind::Signals)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        Ok(Box::new(self.clone()))
    }
}
impl Stage for FixtureSource {
    fn run(&self, _inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
        let n = ctx.options.n_samples();
        let mut s = Signals::empty(ctx.options.fs, n);
        for lead in Lead::ALL {
            let samples = (0..n)
                .map(|i| {
                    self.amplitude_mv
                        * (std::f32::consts::TAU * self.frequency_hz * i as f32 / ctx.options.fs)
                            .sin()
                })
                .collect();
            s.set(
                lead,
                LeadSignal {
                    start: 0,
                    samples,
                    confidence: 1.0,
                },
            );
        }
        Ok(StageOutputs::one(s))
    }
}
register_stage!(
    FixtureSource,
    "fixture_source",
    summary = "Test fixture: a sine on every lead.",
    params = [
        ("amplitude_mv", "sine amplitude"),
        ("frequency_hz", "sine frequency")
    ],
    example = "[stages.source]\ntype = \"fixture_source\"\namplitude_mv = 2.0\n"
);

/// Multiplies signals by a gain (signals -> signals).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FixtureGain {
    pub gain: f32,
}
impl Default for FixtureGain {
    fn default() -> Self {
        Self { gain: 1.0 }
    }
}
#[typetag::serde(name = "fixture_gain")]
impl StageConfig for FixtureGain {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("signals", ArtifactKind::Signals)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("signals", ArtifactKind::Signals)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        Ok(Box::new(self.clone()))
    }
}
impl Stage for FixtureGain {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let mut s = (*inputs.signals("signals")?).clone();
        for l in s.leads.iter_mut().flatten() {
            l.samples.iter_mut().for_each(|v| *v *= self.gain);
        }
        Ok(StageOutputs::one(s))
    }
}
register_stage!(
    FixtureGain,
    "fixture_gain",
    summary = "Test fixture: multiplies every sample by `gain`.",
    params = [("gain", "factor")],
    example = "[stages.gain]\ntype = \"fixture_gain\"\ninputs = [\"source\"]\ngain = 2.0\n"
);

/// Adds two signal sets (signals a, optional signals b -> signals).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FixtureSum {}
#[typetag::serde(name = "fixture_sum")]
impl StageConfig for FixtureSum {
    fn inputs(&self) -> Vec<Port> {
        vec![
            Port::new("a", ArtifactKind::Signals),
            Port::optional("b", ArtifactKind::Signals),
        ]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("signals", ArtifactKind::Signals)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        Ok(Box::new(self.clone()))
    }
}
impl Stage for FixtureSum {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let mut a = (*inputs.signals("a")?).clone();
        if let Some(b) = inputs.signals_opt("b") {
            for (la, lb) in a.leads.iter_mut().zip(&b.leads) {
                if let (Some(la), Some(lb)) = (la.as_mut(), lb.as_ref()) {
                    la.samples
                        .iter_mut()
                        .zip(&lb.samples)
                        .for_each(|(x, y)| *x += y);
                }
            }
        }
        Ok(StageOutputs::one(a))
    }
}
register_stage!(
    FixtureSum,
    "fixture_sum",
    summary = "Test fixture: adds input `b` (optional) to input `a`.",
    params = [],
    example = "[stages.sum]\ntype = \"fixture_sum\"\ninputs = { a = \"source\" }\n"
);

/// Call to make sure this crate is linked into a test binary.
pub fn link() {}
