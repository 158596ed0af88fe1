//! The model that turns a lead's [evidence](super::evidence) into a
//! calibrated confidence: logistic regression on standardised evidence,
//! `p = 1 / (1 + exp(-(bias + Σ wᵢ·clip((xᵢ - meanᵢ) / scaleᵢ))))`, where
//! `p` is the probability that the lead scores at least 5 dB against the
//! truth and `clip` limits each standardised value to ±[`CLIP`].
//!
//! The shipped coefficients (`lead_confidence_model.json` beside this file)
//! are fitted by `scripts/fit-confidence.sh` on rendered pages with exact
//! truth; `docs/confidence-model.md` is their card (data, fit, calibration).
//! A user refits on their own pages with the same script and points the
//! stage's `model` parameter at the file it writes.

use super::evidence::{Evidence, FEATURES, N_FEATURES};
use serde::Deserialize;

/// A standardised value is clipped to ±CLIP before it is weighed, so that
/// evidence far outside what the model was fitted on (a page unlike any
/// rendered one) cannot dominate the sum.
pub const CLIP: f32 = 4.0;

/// The shipped model, as JSON.
pub const SHIPPED: &str = include_str!("lead_confidence_model.json");

/// Logistic-regression coefficients over the evidence values.
#[derive(Clone, Debug, PartialEq)]
pub struct LeadModel {
    pub bias: f32,
    pub mean: [f32; N_FEATURES],
    pub scale: [f32; N_FEATURES],
    pub weights: [f32; N_FEATURES],
}

#[derive(Deserialize)]
struct ModelFile {
    format: String,
    features: Vec<String>,
    mean: Vec<f32>,
    scale: Vec<f32>,
    weights: Vec<f32>,
    bias: f32,
}

impl LeadModel {
    /// Reads a model file. Every feature it names must be one of
    /// [`FEATURES`]; a feature it leaves out gets weight 0.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let f: ModelFile =
            serde_json::from_str(text).map_err(|e| format!("not a lead-confidence model: {e}"))?;
        if f.format != "ecgdig-lead-confidence/1" {
            return Err(format!(
                "unknown model format {:?} (expected \"ecgdig-lead-confidence/1\")",
                f.format
            ));
        }
        let n = f.features.len();
        if f.mean.len() != n || f.scale.len() != n || f.weights.len() != n {
            return Err(format!(
                "the model names {n} features but has {} means, {} scales and {} weights",
                f.mean.len(),
                f.scale.len(),
                f.weights.len()
            ));
        }
        let mut m = LeadModel {
            bias: f.bias,
            mean: [0.0; N_FEATURES],
            scale: [1.0; N_FEATURES],
            weights: [0.0; N_FEATURES],
        };
        for (k, name) in f.features.iter().enumerate() {
            let i = FEATURES.iter().position(|x| x == name).ok_or_else(|| {
                format!(
                    "the model uses feature {name:?}, which is not measured (known: {})",
                    FEATURES.join(", ")
                )
            })?;
            if !(f.scale[k].is_finite() && f.scale[k] > 0.0) {
                return Err(format!("feature {name:?}: scale must be positive"));
            }
            m.mean[i] = f.mean[k];
            m.scale[i] = f.scale[k];
            m.weights[i] = f.weights[k];
        }
        if !(m.bias.is_finite() && m.weights.iter().chain(&m.mean).all(|v| v.is_finite())) {
            return Err("the model has a non-finite coefficient".into());
        }
        Ok(m)
    }

    /// The shipped model.
    pub fn shipped() -> Self {
        // checked by the unit test `shipped_model_reads`
        Self::from_json(SHIPPED).unwrap_or_else(|e| panic!("shipped lead model: {e}"))
    }

    /// Probability that the lead is right (SNR of at least 5 dB).
    pub fn probability(&self, ev: &Evidence) -> f32 {
        let mut z = self.bias;
        for i in 0..N_FEATURES {
            let x = ev.values[i];
            let x = if x.is_finite() { x } else { self.mean[i] };
            let zi = ((x - self.mean[i]) / self.scale[i]).clamp(-CLIP, CLIP);
            z += self.weights[i] * zi;
        }
        1.0 / (1.0 + (-z).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_model_reads() {
        let m = LeadModel::from_json(SHIPPED).unwrap();
        assert!(m.weights.iter().any(|w| *w != 0.0));
    }

    #[test]
    fn a_path_on_the_ink_means_more_confidence() {
        let m = LeadModel::shipped();
        let mut good = Evidence { values: m.mean };
        let mut bad = good;
        let i = FEATURES.iter().position(|f| *f == "on_ink").unwrap();
        good.values[i] = 1.0;
        bad.values[i] = 0.3;
        assert!(m.probability(&good) > m.probability(&bad));
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let e = LeadModel::from_json(
            r#"{"format":"x","features":[],"mean":[],"scale":[],"weights":[],"bias":0}"#,
        )
        .unwrap_err();
        assert!(e.contains("unknown model format"), "{e}");
        let e = LeadModel::from_json(
            r#"{"format":"ecgdig-lead-confidence/1","features":["colour"],"mean":[0],"scale":[1],"weights":[1],"bias":0}"#,
        )
        .unwrap_err();
        assert!(e.contains("\"colour\""), "{e}");
        let e = LeadModel::from_json(
            r#"{"format":"ecgdig-lead-confidence/1","features":["traced"],"mean":[0],"scale":[0],"weights":[1],"bias":0}"#,
        )
        .unwrap_err();
        assert!(e.contains("scale must be positive"), "{e}");
    }
}
