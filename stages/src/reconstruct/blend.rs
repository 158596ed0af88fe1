//! `blend`: combines two signal sets lead by lead.
//!
//! Inputs: `a` and `b` (signals at the same rate and page length; `b` is
//! resampled to `a`'s timeline otherwise). Output: `signals`. Each output lead
//! covers the union of its windows in `a` and `b`.
//!
//! * `mode = "fixed"` (the seed's hybrid blend): where both have a finite
//!   sample, `weight·a + (1-weight)·b` (default `weight = 0.6` on `a`); where
//!   only one has it, that one. Confidence: the same blend of confidences.
//! * `mode = "confidence"`: `a` wins. `b` only fills leads that `a` lacks,
//!   leads that `a` rates below `min_confidence` (then `b` replaces `a` where
//!   `b` is finite), and samples that are NaN in `a`. With `align_offset`,
//!   `b` is first shifted by the median of `a - b` over their common samples,
//!   so a filled gap joins `a` without a step.
//!
//! ```
//! # let toml = r#"
//! [stages.blend]
//! type = "blend"
//! inputs = { a = "signals", b = "reconstruct" }
//! mode = "confidence"
//! weight = 0.6
//! min_confidence = 0.2
//! align_offset = true
//! # "#;
//! # ecgdig_stages::link(); // keep the stage registrations in the doctest binary
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

/// How `a` and `b` are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlendMode {
    /// `weight·a + (1-weight)·b` wherever both exist.
    Fixed,
    /// `b` fills only what `a` lacks or marks low-confidence.
    Confidence,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlendConfig {
    /// `fixed` or `confidence`.
    pub mode: BlendMode,
    /// fixed: weight of `a` (0..1).
    pub weight: f64,
    /// confidence: a lead of `a` below this confidence is replaced by `b`.
    pub min_confidence: f64,
    /// confidence: shift `b` onto `a`'s offset before filling.
    pub align_offset: bool,
}

impl Default for BlendConfig {
    fn default() -> Self {
        Self {
            mode: BlendMode::Fixed,
            weight: 0.6,
            min_confidence: 0.2,
            align_offset: true,
        }
    }
}

#[typetag::serde(name = "blend")]
impl StageConfig for BlendConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![
            Port::new("a", ArtifactKind::Signals),
            Port::new("b", ArtifactKind::Signals),
        ]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("signals", ArtifactKind::Signals)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if !(0.0..=1.0).contains(&self.weight) {
            return Err(Error::stage(format!(
                "blend: `weight` ({}) must lie in 0..1",
                self.weight
            )));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    BlendConfig,
    "blend",
    summary = "Blends two signal sets per lead: fixed weights, or `b` filling what `a` lacks.",
    params = [
        ("mode", "`fixed` (weight*a + (1-weight)*b) or `confidence` (b fills leads/samples a lacks or rates low)"),
        ("weight", "fixed: weight of input `a`, 0..1 (the seed used 0.6)"),
        ("min_confidence", "confidence: leads of `a` below this confidence are replaced by `b`"),
        ("align_offset", "confidence: shift `b` by the median of a - b over common samples before filling"),
    ],
    example = "[stages.blend]\ntype = \"blend\"\ninputs = { a = \"signals\", b = \"reconstruct\" }\nmode = \"fixed\"\nweight = 0.6\n"
);

impl Stage for BlendConfig {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let a = inputs.signals("a")?;
        let b = inputs.signals("b")?;
        Ok(StageOutputs::one(blend(&a, &b, self)))
    }
}

/// Blends `b` into `a` per the config (see the module docs).
pub fn blend(a: &Signals, b: &Signals, cfg: &BlendConfig) -> Signals {
    let mut out = Signals::empty(a.fs, a.n_samples);
    for lead in Lead::ALL {
        let la = a.lead(lead);
        let lb = b.lead(lead).map(|l| on_timeline(l, b, a));
        let (w, min_conf) = (cfg.weight as f32, cfg.min_confidence as f32);
        let merged = match (la, lb) {
            (None, None) => continue,
            (Some(x), None) => x.clone(),
            (None, Some(y)) => y,
            (Some(x), Some(y)) => match cfg.mode {
                BlendMode::Fixed => combine(x, &y, x.confidence, |p, q| match (p, q) {
                    (Some(p), Some(q)) => Some(w * p + (1.0 - w) * q),
                    (p, q) => p.or(q),
                })
                .with_confidence(w * x.confidence + (1.0 - w) * y.confidence),
                BlendMode::Confidence => {
                    let shift = if cfg.align_offset { offset(x, &y) } else { 0.0 };
                    if x.confidence < min_conf {
                        combine(x, &y, y.confidence, |p, q| q.map(|q| q + shift).or(p))
                    } else {
                        combine(x, &y, x.confidence, |p, q| p.or(q.map(|q| q + shift)))
                    }
                }
            },
        };
        out.set(lead, merged);
    }
    // the page's verdict and evidence stay with the leads judged
    out.assessment = a.assessment.clone();
    out
}

trait WithConfidence {
    fn with_confidence(self, c: f32) -> Self;
}
impl WithConfidence for LeadSignal {
    fn with_confidence(mut self, c: f32) -> Self {
        self.confidence = c;
        self
    }
}

/// Sample-wise combination over the union of both windows.
fn combine(
    x: &LeadSignal,
    y: &LeadSignal,
    confidence: f32,
    f: impl Fn(Option<f32>, Option<f32>) -> Option<f32>,
) -> LeadSignal {
    let start = x.start.min(y.start);
    let end = x.end().max(y.end());
    LeadSignal {
        start,
        samples: (start..end)
            .map(|t| f(x.at(t), y.at(t)).unwrap_or(f32::NAN))
            .collect(),
        confidence,
    }
}

/// Median of `a - b` over common finite samples (0 when none).
fn offset(x: &LeadSignal, y: &LeadSignal) -> f32 {
    let mut d: Vec<f32> = (x.start.max(y.start)..x.end().min(y.end()))
        .filter_map(|t| Some(x.at(t)? - y.at(t)?))
        .collect();
    crate::signals::einthoven::median(&mut d).unwrap_or(0.0)
}

/// `l` (a lead of `from`) on `to`'s timeline (rate and page length).
fn on_timeline(l: &LeadSignal, from: &Signals, to: &Signals) -> LeadSignal {
    if (from.fs - to.fs).abs() < 1e-3 {
        return l.clone();
    }
    let r = to.fs / from.fs;
    let start = (l.start as f32 * r).round() as usize;
    let samples: Vec<f32> = crate::dsp::resample_rate(&l.samples, from.fs, to.fs);
    let len = samples.len().min(to.n_samples.saturating_sub(start));
    LeadSignal {
        start,
        samples: samples[..len].to_vec(),
        confidence: l.confidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(start: usize, samples: Vec<f32>, confidence: f32) -> LeadSignal {
        LeadSignal {
            start,
            samples,
            confidence,
        }
    }

    fn pair() -> (Signals, Signals) {
        let mut a = Signals::empty(10.0, 20);
        let mut b = Signals::empty(10.0, 20);
        a.set(Lead::I, lead(0, vec![1.0, 1.0, f32::NAN, 1.0], 0.9));
        b.set(Lead::I, lead(0, vec![2.0, 2.0, 2.0, 2.0, 2.0, 2.0], 0.3));
        b.set(Lead::V1, lead(10, vec![5.0; 5], 0.3));
        a.set(Lead::V2, lead(5, vec![1.0; 5], 0.1));
        b.set(Lead::V2, lead(5, vec![3.0; 5], 0.3));
        (a, b)
    }

    #[test]
    fn fixed_blend_weights_a_and_takes_the_union() {
        let (a, b) = pair();
        let cfg = BlendConfig::default();
        let s = blend(&a, &b, &cfg);
        let i = s.lead(Lead::I).unwrap();
        assert_eq!((i.start, i.samples.len()), (0, 6));
        assert!((i.samples[0] - 1.4).abs() < 1e-6); // 0.6*1 + 0.4*2
        assert_eq!(i.samples[2], 2.0); // only b
        assert_eq!(i.samples[5], 2.0);
        assert_eq!(s.lead(Lead::V1).unwrap().samples, vec![5.0; 5]);
        assert!((i.confidence - (0.6 * 0.9 + 0.4 * 0.3)).abs() < 1e-6);
    }

    #[test]
    fn confidence_mode_only_fills() {
        let (a, b) = pair();
        let cfg = BlendConfig {
            mode: BlendMode::Confidence,
            align_offset: false,
            ..Default::default()
        };
        let s = blend(&a, &b, &cfg);
        let i = s.lead(Lead::I).unwrap();
        assert_eq!(i.samples, vec![1.0, 1.0, 2.0, 1.0, 2.0, 2.0]);
        assert_eq!(i.confidence, 0.9);
        // a lacks V1: b fills it
        assert_eq!(s.lead(Lead::V1).unwrap().samples, vec![5.0; 5]);
        // a's V2 is below min_confidence: replaced
        assert_eq!(s.lead(Lead::V2).unwrap().samples, vec![3.0; 5]);
        // nothing where neither has a lead
        assert!(s.lead(Lead::V6).is_none());
    }

    #[test]
    fn confidence_mode_aligns_the_offset_of_filled_gaps() {
        let (a, b) = pair();
        let cfg = BlendConfig {
            mode: BlendMode::Confidence,
            ..Default::default()
        };
        let s = blend(&a, &b, &cfg);
        // b is 1 above a over the common samples: the gap is filled with 2 - 1
        assert_eq!(
            s.lead(Lead::I).unwrap().samples,
            vec![1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
        );
    }

    #[test]
    fn b_at_another_rate_is_resampled() {
        let mut a = Signals::empty(10.0, 20);
        a.set(Lead::I, lead(0, vec![0.0; 20], 1.0));
        let mut b = Signals::empty(20.0, 40);
        b.set(Lead::II, lead(20, (0..20).map(|i| i as f32).collect(), 1.0));
        let s = blend(&a, &b, &BlendConfig::default());
        let ii = s.lead(Lead::II).unwrap();
        assert_eq!((ii.start, ii.samples.len()), (10, 10));
        assert!((ii.samples[3] - 6.0).abs() < 1e-5);
    }
}
