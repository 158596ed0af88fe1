//! Text, JSON and Markdown renderings of scores (used by `ecgdig eval` and
//! `ecgdig ablate`).

use crate::metric::{ImageScore, Summary, UNCAPPED_CAP};
use ecgdig_core::leads::Lead;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;

/// One line per image: name, capped and uncapped dB, and a flag when the
/// prediction file was missing.
pub fn image_line(s: &ImageScore, cap: f64) -> String {
    format!(
        "{}\t{:.2} dB\t{:.2} dB uncapped{}",
        s.image,
        s.snr_db(cap),
        s.snr_db(UNCAPPED_CAP),
        if s.missing { "\t(no prediction)" } else { "" }
    )
}

/// The mean lead SNR (dB) per lead, one row per lead.
pub fn per_lead_table(summary: &Summary) -> String {
    let mut out = String::from("lead  mean SNR dB\n");
    for lead in Lead::ALL {
        match summary.per_lead_db[lead.index()] {
            Some(v) => {
                let _ = writeln!(out, "{:<4}  {v:>8.2}", lead.name());
            }
            None => {
                let _ = writeln!(out, "{:<4}  {:>8}", lead.name(), "-");
            }
        }
    }
    out
}

/// A matrix of lead SNR (dB) per image and lead, `-` where the image has no
/// such lead (or its true signal is flat).
pub fn per_image_lead_table(images: &[ImageScore]) -> String {
    let width = images
        .iter()
        .map(|i| i.image.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!("{:<width$}", "image");
    for lead in Lead::ALL {
        let _ = write!(out, " {:>6}", lead.name());
    }
    out.push('\n');
    for im in images {
        let _ = write!(out, "{:<width$}", im.image);
        for lead in Lead::ALL {
            match im.lead(lead).and_then(|l| l.snr_db()) {
                Some(v) => {
                    let _ = write!(out, " {v:>6.1}");
                }
                None => {
                    let _ = write!(out, " {:>6}", "-");
                }
            }
        }
        out.push('\n');
    }
    out
}

/// The machine-readable last line of `ecgdig eval`.
pub fn summary_line(s: &Summary) -> String {
    format!(
        "mean_snr_db_capped={:.3} mean_snr_db_uncapped={:.3} challenge2024_db={:.3} images={} missing={}",
        s.mean_db_capped, s.mean_db_uncapped, s.challenge2024_db, s.images, s.missing
    )
}

fn num(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

/// Everything as JSON: the summary, per-lead means and per-image details.
pub fn to_json(images: &[ImageScore], s: &Summary) -> Value {
    let mut per_lead = Map::new();
    for lead in Lead::ALL {
        per_lead.insert(
            lead.name().into(),
            s.per_lead_db[lead.index()].map_or(Value::Null, num),
        );
    }
    let per_image: Vec<Value> = images
        .iter()
        .map(|im| {
            let mut leads = Map::new();
            for l in &im.leads {
                leads.insert(
                    l.lead.name().into(),
                    json!({
                        "snr_db": l.snr_db().map_or(Value::Null, num),
                        "signal": num(l.signal),
                        "noise": num(l.noise),
                        "lag": l.lag,
                        "predicted": l.predicted,
                    }),
                );
            }
            json!({
                "image": im.image,
                "snr_db_capped": num(im.snr_db(s.cap)),
                "snr_db_uncapped": num(im.snr_db(UNCAPPED_CAP)),
                "missing": im.missing,
                "leads": leads,
            })
        })
        .collect();
    json!({
        "cap": s.cap,
        "mean_snr_db_capped": num(s.mean_db_capped),
        "mean_snr_db_uncapped": num(s.mean_db_uncapped),
        "challenge2024_db": num(s.challenge2024_db),
        "images": s.images,
        "missing": s.missing,
        "per_lead_mean_db": per_lead,
        "per_image": per_image,
    })
}

/// One config's line of an ablation.
#[derive(Clone, Debug)]
pub struct AblationRow {
    pub config: String,
    /// `None` when the config did not load (then `note` says why).
    pub summary: Option<Summary>,
    /// The image with the lowest capped SNR, and that SNR in dB.
    pub worst: Option<(String, f64)>,
    pub failed: usize,
    pub seconds_per_page: f64,
    pub note: String,
}

impl AblationRow {
    /// Builds a row from a config's scores; `failed` counts pages the digitizer failed.
    pub fn from_scores(
        config: &str,
        images: &[ImageScore],
        summary: Summary,
        failed: usize,
        seconds_per_page: f64,
    ) -> Self {
        let worst = images
            .iter()
            .map(|i| (i.image.clone(), i.snr_db(summary.cap)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        Self {
            config: config.to_string(),
            summary: Some(summary),
            worst,
            failed,
            seconds_per_page,
            note: String::new(),
        }
    }
}

fn cell(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        "-".into()
    }
}

/// The ablation as a Markdown table, one row per config, in the given order.
pub fn ablation_table(rows: &[AblationRow]) -> String {
    let mut out = String::from(
        "| config | mean SNR dB (capped) | mean SNR dB (uncapped) | Challenge 2024 dB | worst image | failed | s/page |\n\
         |---|---:|---:|---:|---|---:|---:|\n",
    );
    for r in rows {
        let (c, u, ch) = match &r.summary {
            Some(s) => (
                cell(s.mean_db_capped),
                cell(s.mean_db_uncapped),
                cell(s.challenge2024_db),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let worst = match &r.worst {
            Some((name, v)) => format!("{name} ({v:.2} dB)"),
            None if r.note.is_empty() => "-".into(),
            None => r.note.replace('|', "/"),
        };
        let _ = writeln!(
            out,
            "| {} | {c} | {u} | {ch} | {worst} | {} | {:.3} |",
            r.config.replace('|', "/"),
            r.failed,
            r.seconds_per_page
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::{summarize, LeadScore, KAGGLE_CAP};

    fn img(name: &str, signal: f64, noise: f64, missing: bool) -> ImageScore {
        ImageScore {
            image: name.into(),
            missing,
            leads: vec![LeadScore {
                lead: Lead::II,
                signal,
                noise,
                lag: 0,
                predicted: !missing,
            }],
        }
    }

    #[test]
    fn summary_line_has_the_exact_format() {
        let ims = [img("a", 100.0, 1.0, false), img("b", 1.0, 1.0, true)];
        let s = summarize(&ims, KAGGLE_CAP);
        assert_eq!(
            summary_line(&s),
            "mean_snr_db_capped=17.033 mean_snr_db_uncapped=17.033 challenge2024_db=10.000 images=2 missing=1"
        );
        assert_eq!(
            image_line(&ims[1], KAGGLE_CAP),
            "b\t0.00 dB\t0.00 dB uncapped\t(no prediction)"
        );
        let t = per_lead_table(&s);
        assert!(
            t.contains("II       10.00") && t.contains("V6           -"),
            "{t}"
        );
        let m = per_image_lead_table(&ims);
        assert!(m.lines().nth(1).unwrap().contains("20.0"), "{m}");
        let j = to_json(&ims, &s);
        assert_eq!(j["images"], 2);
        assert_eq!(j["per_image"][0]["leads"]["II"]["snr_db"], 20.0);
    }

    #[test]
    fn ablation_table_lists_scores_worst_image_and_failures() {
        let ims = [img("good", 100.0, 1.0, false), img("bad", 1.0, 2.0, false)];
        let s = summarize(&ims, KAGGLE_CAP);
        let rows = [
            AblationRow::from_scores("fast", &ims, s, 1, 0.25),
            AblationRow {
                config: "broken".into(),
                summary: None,
                worst: None,
                failed: 2,
                seconds_per_page: 0.0,
                note: "config did not load".into(),
            },
        ];
        let t = ablation_table(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("| config | mean SNR dB (capped)"));
        assert_eq!(
            lines[2],
            "| fast | 17.011 | 17.011 | 8.495 | bad (-3.01 dB) | 1 | 0.250 |"
        );
        assert_eq!(
            lines[3],
            "| broken | - | - | - | config did not load | 2 | 0.000 |"
        );
    }
}
