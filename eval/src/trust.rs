//! How far a digitizer's per-lead confidence can be trusted.
//!
//! A lead *failed* when its SNR is under [`FAILED_DB`] (5 dB): a user would
//! have to redo it. Three figures say whether the confidence a digitizer
//! reports points at those leads:
//! * the **failed share**: failed leads over scored leads (leads whose true
//!   signal has power);
//! * the **AUROC** of `1 − confidence` for failure: the chance that a failed
//!   lead claims less confidence than a good one (1 = perfect ranking,
//!   0.5 = chance; ties count half);
//! * the **overconfident failures**: failed leads that claimed at least
//!   [`OVERCONFIDENT`] (0.9).
//!
//! The confidences come from the `leads.<name>.confidence` fields of the
//! `write_json` output (`<image>.json` beside the page CSV); a lead without
//! one (no JSON, or a lead not plotted) counts as confidence 0.

use crate::metric::ImageScore;
use ecgdig_core::leads::Lead;
use serde_json::Value;
use std::path::Path;

/// A lead under this SNR (dB) failed.
pub const FAILED_DB: f64 = 5.0;
/// A failed lead claiming at least this confidence was overconfident.
pub const OVERCONFIDENT: f64 = 0.9;

/// One scored lead: its SNR and the confidence the digitizer claimed.
#[derive(Clone, Debug, PartialEq)]
pub struct LeadOutcome {
    pub image: String,
    pub lead: Lead,
    pub snr_db: f64,
    pub confidence: f64,
}

impl LeadOutcome {
    pub fn failed(&self) -> bool {
        self.snr_db < FAILED_DB
    }
}

/// The trust figures of a set of leads.
#[derive(Clone, Debug, PartialEq)]
pub struct TrustReport {
    /// Scored leads.
    pub leads: usize,
    /// Leads under [`FAILED_DB`].
    pub failed: usize,
    /// AUROC of `1 − confidence` for failure; `None` when every lead failed
    /// or none did.
    pub auroc: Option<f64>,
    /// Failed leads that claimed at least [`OVERCONFIDENT`].
    pub overconfident: usize,
}

impl TrustReport {
    /// Failed leads as a fraction of scored leads (0 without leads).
    pub fn failed_share(&self) -> f64 {
        if self.leads == 0 {
            0.0
        } else {
            self.failed as f64 / self.leads as f64
        }
    }

    /// Overconfident failures as a fraction of the failed (0 without failures).
    pub fn overconfident_share(&self) -> f64 {
        if self.failed == 0 {
            0.0
        } else {
            self.overconfident as f64 / self.failed as f64
        }
    }

    /// One line for scripts:
    /// `leads=N failed_leads=K failed_share=0.123 auroc=0.912 overconfident_failed=M`.
    pub fn line(&self) -> String {
        format!(
            "leads={} failed_leads={} failed_share={:.4} auroc={} overconfident_failed={}",
            self.leads,
            self.failed,
            self.failed_share(),
            self.auroc.map_or("n/a".to_string(), |a| format!("{a:.3}")),
            self.overconfident
        )
    }
}

/// The scored leads of `images` (leads whose truth has power), each with the
/// confidence `confidence(image, lead)` returns (missing: 0).
pub fn outcomes(
    images: &[ImageScore],
    mut confidence: impl FnMut(&str, Lead) -> Option<f64>,
) -> Vec<LeadOutcome> {
    let mut out = Vec::new();
    for im in images {
        for l in &im.leads {
            let Some(snr_db) = l.snr_db() else { continue };
            let c = confidence(&im.image, l.lead).filter(|c| c.is_finite());
            out.push(LeadOutcome {
                image: im.image.clone(),
                lead: l.lead,
                snr_db,
                confidence: c.unwrap_or(0.0),
            });
        }
    }
    out
}

/// The trust figures of a set of outcomes.
pub fn report(outcomes: &[LeadOutcome]) -> TrustReport {
    let failed = outcomes.iter().filter(|o| o.failed()).count();
    let overconfident = outcomes
        .iter()
        .filter(|o| o.failed() && o.confidence >= OVERCONFIDENT)
        .count();
    let risks: Vec<(f64, bool)> = outcomes
        .iter()
        .map(|o| (1.0 - o.confidence, o.failed()))
        .collect();
    TrustReport {
        leads: outcomes.len(),
        failed,
        auroc: auroc(&risks),
        overconfident,
    }
}

/// AUROC of `risk` for `positive`: the probability that a positive's risk
/// exceeds a negative's, ties counting half (the Mann–Whitney statistic).
/// `None` without both classes.
pub fn auroc(scored: &[(f64, bool)]) -> Option<f64> {
    let mut v: Vec<(f64, bool)> = scored.iter().copied().filter(|s| s.0.is_finite()).collect();
    let pos = v.iter().filter(|s| s.1).count();
    let neg = v.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    // average ranks over ties, summed over the positives
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1].0 == v[i].0 {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += mean_rank * v[i..=j].iter().filter(|s| s.1).count() as f64;
        i = j + 1;
    }
    let u = rank_sum - (pos * (pos + 1)) as f64 / 2.0;
    Some(u / (pos * neg) as f64)
}

/// Per-lead confidences from `<pred_dir>/<image>.json` (the `write_json`
/// output); `None` when the file is absent or unreadable.
pub fn read_confidences(pred_dir: &Path, image: &str) -> Option<[Option<f64>; 12]> {
    let text = std::fs::read_to_string(pred_dir.join(format!("{image}.json"))).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let leads = v.get("leads")?;
    let mut out = [None; 12];
    for lead in Lead::ALL {
        out[lead.index()] = leads
            .get(lead.name())
            .and_then(|l| l.get("confidence"))
            .and_then(Value::as_f64);
    }
    Some(out)
}

/// The trust figures of a scored folder, with confidences from the
/// prediction folder's JSON files. Without any JSON (the digitizer ran
/// without `--format json`) there is nothing to rank: no AUROC, and no
/// failure counts as overconfident.
pub fn report_folder(images: &[ImageScore], pred_dir: &Path) -> TrustReport {
    let mut cache: Option<(String, Option<[Option<f64>; 12]>)> = None;
    let mut with_json = 0usize;
    let outs = outcomes(images, |image, lead| {
        if cache.as_ref().map(|c| c.0.as_str()) != Some(image) {
            let c = read_confidences(pred_dir, image);
            with_json += usize::from(c.is_some());
            cache = Some((image.to_string(), c));
        }
        cache
            .as_ref()
            .and_then(|c| c.1)
            .and_then(|c| c[lead.index()])
    });
    let mut r = report(&outs);
    if with_json == 0 {
        r.auroc = None;
        r.overconfident = 0;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::LeadScore;

    fn lead(lead: Lead, snr_db: f64) -> LeadScore {
        // signal 1, noise chosen for the SNR
        LeadScore {
            lead,
            signal: 1.0,
            noise: 10f64.powf(-snr_db / 10.0),
            lag: 0,
            predicted: true,
        }
    }

    #[test]
    fn auroc_counts_ranked_pairs_and_ties_half() {
        // perfect: every positive riskier than every negative
        assert_eq!(auroc(&[(0.9, true), (0.8, true), (0.1, false)]), Some(1.0));
        // reversed
        assert_eq!(auroc(&[(0.1, true), (0.9, false)]), Some(0.0));
        // all tied: chance
        assert_eq!(auroc(&[(0.5, true), (0.5, false), (0.5, false)]), Some(0.5));
        // 2 positives x 2 negatives: pairs (0.7>0.2, 0.7>0.6, 0.4>0.2, 0.4<0.6) = 3/4
        let a = auroc(&[(0.7, true), (0.4, true), (0.2, false), (0.6, false)]).unwrap();
        assert!((a - 0.75).abs() < 1e-12);
        // one class only
        assert_eq!(auroc(&[(0.3, true)]), None);
        assert_eq!(auroc(&[]), None);
    }

    #[test]
    fn a_report_counts_failed_and_overconfident_leads() {
        let images = vec![ImageScore {
            image: "p".into(),
            missing: false,
            leads: vec![
                lead(Lead::I, 20.0),
                lead(Lead::II, 2.0),
                lead(Lead::III, -3.0),
                LeadScore {
                    lead: Lead::V1,
                    signal: 0.0,
                    noise: 0.0,
                    lag: 0,
                    predicted: false,
                },
            ],
        }];
        let conf = |_: &str, l: Lead| match l {
            Lead::I => Some(0.8),
            Lead::II => Some(0.95),
            _ => None,
        };
        let r = report(&outcomes(&images, conf));
        // V1 has no true signal: not scored
        assert_eq!((r.leads, r.failed, r.overconfident), (2 + 1, 2, 1));
        assert!((r.failed_share() - 2.0 / 3.0).abs() < 1e-12);
        assert!((r.overconfident_share() - 0.5).abs() < 1e-12);
        // risks: I 0.2 (good), II 0.05 (failed), III 1.0 (failed): 1 of 2 pairs
        assert_eq!(r.auroc, Some(0.5));
        assert!(r
            .line()
            .starts_with("leads=3 failed_leads=2 failed_share=0.6667 auroc=0.500"));
    }

    #[test]
    fn confidences_are_read_from_the_json_output() {
        let dir = std::env::temp_dir().join(format!("ecgdig-trust-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("p.json"),
            r#"{"leads": {"I": {"confidence": 0.25}, "II": null}}"#,
        )
        .unwrap();
        let c = read_confidences(&dir, "p").unwrap();
        assert_eq!(c[Lead::I.index()], Some(0.25));
        assert_eq!(c[Lead::II.index()], None);
        assert!(read_confidences(&dir, "absent").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
