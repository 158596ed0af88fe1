//! `lead_confidence`: judges every lead and the page. Each lead's
//! `confidence` becomes the calibrated probability that it scores at least
//! 5 dB against the truth; the page gets a verdict, `ok`, `check` or
//! `failed`, with its reasons; a page with no ECG on it is refused.
//!
//! Inputs: `signals` (the leads to judge, normally after `einthoven`),
//! `traces`, `layout`, `grid`, and optionally `mask` (the ink the tracer
//! followed) and `raw` (the signals before the Einthoven projection). Output:
//! `signals`, the same samples (unless `low_confidence = "blank"`) with new
//! confidences and a [`PageAssessment`] holding the verdict and each lead's
//! evidence (written to the JSON by `write_json`).
//!
//! * **Confidence:** the [evidence](super::evidence) about each lead, weighed
//!   by a logistic [model](super::model) fitted on rendered pages
//!   (`docs/confidence-model.md`); `model` names another fitted file.
//! * **Verdict:** `failed` when the mean confidence of the page's leads is
//!   under `failed_below`; else `check` when any lead is under `check_below`;
//!   else `ok`. The batch summary, `review.csv` and the exit code follow it.
//! * **Not an ECG:** when no grid or calibration pulse gave the scale, the
//!   mean confidence is under `not_ecg_below`, and either the leads' beats
//!   do not line up (median `beat_sync` under `not_ecg_sync`) or the tracer
//!   followed clear ink on less than `not_ecg_traced` of the columns, the
//!   stage fails with `not_ecg` and nothing is written.
//! * **Probably wrong leads** (`low_confidence`): `keep` writes them as
//!   traced (their confidence says what they are worth); `blank` writes
//!   leads under `blank_below` as unknown (empty CSV cells, WFDB's invalid
//!   value, zeros in a Kaggle submission). To fill them from beat templates
//!   instead, put a `blend` stage after this one (see
//!   `configs/low-confidence-reconstruct.toml`).
//!
//! ```
//! # let toml = r#"
//! [stages.confidence]
//! type = "lead_confidence"
//! inputs = { signals = "einthoven", raw = "signals", traces = "trace", layout = "layout", grid = "calibrate", mask = "segment" }
//! check_below = 0.5
//! failed_below = 0.35
//! not_ecg_below = 0.15
//! not_ecg_sync = 0.4
//! not_ecg_traced = 0.5
//! low_confidence = "keep"
//! blank_below = 0.3
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use super::evidence::{page_evidence, PageParts};
use super::model::LeadModel;
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What to write for a lead that is probably wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LowConfidence {
    /// Write it as traced.
    Keep,
    /// Write it as unknown.
    Blank,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LeadConfidenceConfig {
    /// A fitted model file (`scripts/fit-confidence.sh`); empty: the shipped one.
    pub model: String,
    /// A lead under this confidence makes the page `check`.
    pub check_below: f64,
    /// A page whose mean lead confidence is under this is `failed`.
    pub failed_below: f64,
    /// Mean lead confidence under which a page without shared beats is not an ECG.
    pub not_ecg_below: f64,
    /// Median beat synchrony under which a page may be refused as not an ECG.
    pub not_ecg_sync: f64,
    /// Share of columns traced on clear ink under which a page may be refused as not an ECG.
    pub not_ecg_traced: f64,
    /// `keep` or `blank` for leads under `blank_below`.
    pub low_confidence: LowConfidence,
    /// Confidence under which `low_confidence = "blank"` blanks a lead.
    pub blank_below: f64,
}

impl Default for LeadConfidenceConfig {
    fn default() -> Self {
        Self {
            model: String::new(),
            check_below: 0.5,
            failed_below: 0.35,
            not_ecg_below: 0.15,
            not_ecg_sync: 0.4,
            not_ecg_traced: 0.5,
            low_confidence: LowConfidence::Keep,
            blank_below: 0.3,
        }
    }
}

#[typetag::serde(name = "lead_confidence")]
impl StageConfig for LeadConfidenceConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![
            Port::new("signals", ArtifactKind::Signals),
            Port::new("traces", ArtifactKind::Traces),
            Port::new("layout", ArtifactKind::Layout),
            Port::new("grid", ArtifactKind::Grid),
            Port::optional("mask", ArtifactKind::Mask),
            Port::optional("raw", ArtifactKind::Signals),
        ]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("signals", ArtifactKind::Signals)]
    }
    fn build(&self, ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        for (name, v) in [
            ("check_below", self.check_below),
            ("failed_below", self.failed_below),
            ("not_ecg_below", self.not_ecg_below),
            ("blank_below", self.blank_below),
            ("not_ecg_traced", self.not_ecg_traced),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::stage(format!(
                    "lead_confidence: `{name}` ({v}) must lie in 0..1 (it is a probability)"
                )));
            }
        }
        if !(-1.0..=1.0).contains(&self.not_ecg_sync) {
            return Err(Error::stage(format!(
                "lead_confidence: `not_ecg_sync` ({}) must lie in -1..1 (it is a correlation)",
                self.not_ecg_sync
            )));
        }
        let model = match self.model.as_str() {
            "" => LeadModel::shipped(),
            p => {
                let path = ctx.resolve_path(&PathBuf::from(p));
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    Error::stage(format!(
                        "lead_confidence: cannot read model {}: {e}",
                        path.display()
                    ))
                })?;
                LeadModel::from_json(&text).map_err(|e| {
                    Error::stage(format!("lead_confidence: {}: {e}", path.display()))
                })?
            }
        };
        Ok(Box::new(LeadConfidence {
            cfg: self.clone(),
            model,
        }))
    }
}

register_stage!(
    LeadConfidenceConfig,
    "lead_confidence",
    summary = "Calibrated per-lead confidence (P(SNR >= 5 dB)) from trace, ink and beat evidence; page verdict ok/check/failed; refuses pages with no ECG.",
    params = [
        ("model", "fitted model file (scripts/fit-confidence.sh), relative to the config's folder; empty: the shipped model"),
        ("check_below", "a lead under this confidence makes the page `check`"),
        ("failed_below", "a page whose mean lead confidence is under this is `failed`"),
        ("not_ecg_below", "mean lead confidence under which a page whose beats do not line up is refused as not an ECG"),
        ("not_ecg_sync", "median beat synchrony (-1..1) under which such a page is refused"),
        ("not_ecg_traced", "or the share of columns traced on clear ink under which it is refused"),
        ("low_confidence", "`keep` (write probably wrong leads as traced) or `blank` (write them as unknown)"),
        ("blank_below", "confidence under which `blank` blanks a lead"),
    ],
    example = "[stages.confidence]\ntype = \"lead_confidence\"\ninputs = { signals = \"einthoven\", raw = \"signals\", traces = \"trace\", layout = \"layout\", grid = \"calibrate\", mask = \"segment\" }\n"
);

/// The built stage.
pub struct LeadConfidence {
    cfg: LeadConfidenceConfig,
    model: LeadModel,
}

impl Stage for LeadConfidence {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let signals = inputs.signals("signals")?;
        let traces = inputs.traces("traces")?;
        let layout = inputs.layout("layout")?;
        let grid = inputs.grid("grid")?;
        let mask = inputs.mask_opt("mask");
        let raw = inputs.signals_opt("raw");
        let parts = PageParts {
            layout: &layout,
            traces: &traces,
            grid: &grid,
            mask: mask.as_deref().map(|m| &m.mask),
            signals: &signals,
            raw: raw.as_deref(),
        };
        let out = self.judge(&parts)?;
        Ok(StageOutputs::one(out))
    }
}

impl LeadConfidence {
    /// The judged signals, or a `not_ecg` error.
    pub fn judge(&self, parts: &PageParts) -> Result<Signals> {
        let evidence = page_evidence(parts);
        let mut out = parts.signals.clone();
        let mut confs: Vec<(Lead, f32)> = Vec::new();
        for lead in Lead::ALL {
            let (Some(ev), Some(sig)) = (evidence[lead.index()], out.lead_mut(lead)) else {
                continue;
            };
            sig.confidence = self.model.probability(&ev);
            confs.push((lead, sig.confidence));
        }
        let mean = confs.iter().map(|c| c.1).sum::<f32>() / confs.len().max(1) as f32;
        let page_sync = evidence
            .iter()
            .flatten()
            .find_map(|e| e.get("page_sync"))
            .unwrap_or(0.0);
        let scale_measured = matches!(
            parts.grid.source,
            ScaleSource::Grid | ScaleSource::CalibrationPulse
        );
        let page_traced = evidence
            .iter()
            .flatten()
            .find_map(|e| e.get("page_traced"))
            .unwrap_or(0.0);
        if confs.is_empty()
            || (mean < self.cfg.not_ecg_below as f32
                && !scale_measured
                && (page_sync < self.cfg.not_ecg_sync as f32
                    || page_traced < self.cfg.not_ecg_traced as f32))
        {
            return Err(Error::not_ecg(format!(
                "no ECG found: no grid or calibration pulse, mean lead confidence {mean:.2}, \
                 traced on clear ink {:.0} %, beat synchrony {page_sync:.2}",
                100.0 * page_traced
            )));
        }
        let weak: Vec<String> = confs
            .iter()
            .filter(|c| c.1 < self.cfg.check_below as f32)
            .map(|c| format!("{} {:.2}", c.0, c.1))
            .collect();
        let (verdict, reasons) = if mean < self.cfg.failed_below as f32 {
            (
                Verdict::Failed,
                vec![format!(
                    "mean lead confidence {mean:.2} is under {}; {} of {} leads probably wrong",
                    self.cfg.failed_below,
                    weak.len(),
                    confs.len()
                )],
            )
        } else if !weak.is_empty() {
            (
                Verdict::Check,
                vec![format!("probably wrong: {}", weak.join(", "))],
            )
        } else {
            (Verdict::Ok, Vec::new())
        };
        if self.cfg.low_confidence == LowConfidence::Blank {
            for (lead, c) in &confs {
                if *c < self.cfg.blank_below as f32 {
                    if let Some(s) = out.lead_mut(*lead) {
                        s.samples.iter_mut().for_each(|v| *v = f32::NAN);
                    }
                }
            }
        }
        out.assessment = Some(PageAssessment {
            verdict,
            reasons,
            evidence: evidence.iter().map(|e| e.map(|e| e.named())).collect(),
        });
        Ok(out)
    }
}
