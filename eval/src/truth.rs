//! Ground truth for one image, loaded exactly as the reference scorer
//! (`ecg_score.py`, `read_truth`) loads it.
//!
//! A truth folder holds records (`<rec>.hea`/`.dat` in WFDB, or `<rec>.csv`
//! in the page-CSV format covering the whole record) and, optionally, one
//! `<image>.json` per page (ecg-image-kit annotations, also written by our
//! renderer) where `rec` is the image name minus its last `-k`.
//!
//! With a JSON, each entry of `leads[]` cuts `[start_sample, end_sample)` of
//! its lead out of the record (indices clamped to the record); a lead that
//! appears twice keeps its longest window (the first of equal ones), NaN
//! becomes 0, and each window's offset on the page timeline is its start
//! minus the smallest start kept. The rate is the record's (WFDB) or the
//! JSON's `sampling_frequency` (CSV truth).
//!
//! Without a JSON the image *is* the record: each lead's window is its run
//! from the first to the last finite sample (NaN inside the run becomes 0),
//! its offset the index of that first finite sample; the rate is the WFDB
//! header's, or `rows of lead II / 10` (integer division) for a CSV.

use crate::io::{page, wfdb};
use ecgdig_core::leads::{Lead, N_LEADS};
use std::path::Path;

/// One lead's true window.
#[derive(Clone, Debug, PartialEq)]
pub struct TruthLead {
    pub lead: Lead,
    /// Start of the window on the page timeline, in samples at `fs`.
    pub offset: usize,
    /// Finite samples in mV.
    pub samples: Vec<f64>,
}

/// The ground truth of one image.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageTruth {
    pub image: String,
    pub fs: f64,
    /// In the order the reference scorer visits them.
    pub leads: Vec<TruthLead>,
}

/// The images a truth folder defines: the stems of its `.json` files, or,
/// when it has none, the stems of its `.csv` files, or else of its `.hea`
/// files. Sorted.
pub fn list_images(dir: &Path) -> Result<Vec<String>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list truth folder {}: {e}", dir.display()))?;
    let names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    for ext in [".json", ".csv", ".hea"] {
        let mut v: Vec<String> = names
            .iter()
            .filter_map(|n| n.strip_suffix(ext).map(str::to_string))
            .filter(|s| !s.is_empty())
            .collect();
        if !v.is_empty() {
            v.sort();
            return Ok(v);
        }
    }
    Ok(Vec::new())
}

/// The record an image belongs to when it has a JSON: the name minus its last `-k`.
pub fn record_of(image: &str) -> &str {
    image.rsplit_once('-').map_or(image, |(rec, _)| rec)
}

/// Record signals by lead, with the record's rate (`None` for CSV truth).
struct Signals {
    fs: Option<f64>,
    leads: Vec<Option<Vec<f64>>>,
    rows: usize,
}

fn read_signals(dir: &Path, rec: &str) -> Result<Signals, String> {
    let hea = dir.join(format!("{rec}.hea"));
    if hea.exists() {
        let p = wfdb::read_physical(&hea)?;
        let mut leads = vec![None; N_LEADS];
        for (spec, col) in p.header.signals.iter().zip(p.signals) {
            if let Some(l) = Lead::from_name(&spec.description) {
                leads[l.index()] = Some(col);
            }
        }
        return Ok(Signals {
            fs: Some(p.header.fs),
            leads,
            rows: p.n_samples,
        });
    }
    let csv = dir.join(format!("{rec}.csv"));
    if !csv.exists() {
        return Err(format!(
            "no ground truth for record {rec}: neither {} nor {} exists",
            hea.display(),
            csv.display()
        ));
    }
    let p = page::read(&csv)?;
    Ok(Signals {
        fs: None,
        rows: p.lead(Lead::II).map_or(p.rows, <[f64]>::len),
        leads: p.leads,
    })
}

/// Loads the truth of `image` from `dir`.
pub fn read_truth(dir: &Path, image: &str) -> Result<ImageTruth, String> {
    let json_path = dir.join(format!("{image}.json"));
    if !json_path.exists() {
        return truth_without_json(dir, image);
    }
    let text =
        std::fs::read_to_string(&json_path).map_err(|e| format!("{}: {e}", json_path.display()))?;
    let meta: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not valid JSON: {e}", json_path.display()))?;
    let bad = |what: &str| format!("{}: {what}", json_path.display());
    let entries = meta
        .get("leads")
        .and_then(|l| l.as_array())
        .ok_or_else(|| bad("no `leads` array"))?;
    let sig = read_signals(dir, record_of(image))?;
    let fs = match sig.fs {
        Some(fs) => fs,
        None => meta
            .get("sampling_frequency")
            .and_then(|v| v.as_f64())
            .ok_or_else(|| bad("no `sampling_frequency` (needed with CSV truth)"))?,
    };
    // (lead, absolute start, window), first-appearance order
    let mut kept: Vec<(Lead, usize, Vec<f64>)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let name = e
            .get("lead_name")
            .and_then(|v| v.as_str())
            .ok_or_else(|| bad(&format!("leads[{i}] has no `lead_name`")))?;
        let lead = Lead::from_name(name)
            .ok_or_else(|| bad(&format!("leads[{i}]: `{name}` is not a lead name")))?;
        let int = |key: &str| {
            e.get(key)
                .and_then(|v| v.as_f64())
                .map(|v| v.max(0.0) as usize)
                .ok_or_else(|| bad(&format!("leads[{i}] ({name}) has no numeric `{key}`")))
        };
        let (a, b) = (int("start_sample")?, int("end_sample")?);
        let col = sig.leads[lead.index()].as_ref().ok_or_else(|| {
            bad(&format!(
                "names lead {name}, which record {} does not have",
                record_of(image)
            ))
        })?;
        let (a0, b0) = (a.min(col.len()), b.min(col.len()).max(a.min(col.len())));
        let seg: Vec<f64> = col[a0..b0]
            .iter()
            .map(|v| if v.is_nan() { 0.0 } else { *v })
            .collect();
        match kept.iter_mut().find(|k| k.0 == lead) {
            Some(k) if k.2.len() >= seg.len() => {}
            Some(k) => {
                k.1 = a;
                k.2 = seg;
            }
            None => kept.push((lead, a, seg)),
        }
    }
    let base = kept.iter().map(|k| k.1).min().unwrap_or(0);
    Ok(ImageTruth {
        image: image.to_string(),
        fs,
        leads: kept
            .into_iter()
            .map(|(lead, a, samples)| TruthLead {
                lead,
                offset: a - base,
                samples,
            })
            .collect(),
    })
}

fn truth_without_json(dir: &Path, image: &str) -> Result<ImageTruth, String> {
    let sig = read_signals(dir, image)?;
    let fs = sig.fs.unwrap_or((sig.rows / 10) as f64);
    let mut leads = Vec::new();
    for lead in Lead::ALL {
        let Some(col) = sig.leads[lead.index()].as_ref() else {
            continue;
        };
        let Some(first) = col.iter().position(|v| v.is_finite()) else {
            continue;
        };
        let last = col.iter().rposition(|v| v.is_finite()).unwrap_or(first);
        leads.push(TruthLead {
            lead,
            offset: first,
            samples: col[first..=last]
                .iter()
                .map(|v| if v.is_finite() { *v } else { 0.0 })
                .collect(),
        });
    }
    Ok(ImageTruth {
        image: image.to_string(),
        fs,
        leads,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ecgdig-truth-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn record_csv(n: usize) -> String {
        let mut s = String::from("I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6\n");
        for i in 0..n {
            let i_cell = if (3..7).contains(&i) {
                format!("{i}")
            } else {
                String::new()
            };
            s.push_str(&format!("{i_cell},{},,,,,,,,,,\n", i as f64 / 10.0));
        }
        s
    }

    #[test]
    fn json_windows_keep_the_longest_repeat_and_page_offsets() {
        let d = temp_dir("json");
        std::fs::write(d.join("rec.csv"), record_csv(40)).unwrap();
        let json = r#"{"sampling_frequency": 4, "leads": [
            {"lead_name": "II", "start_sample": 12, "end_sample": 16},
            {"lead_name": "I", "start_sample": 16, "end_sample": 20},
            {"lead_name": "II", "start_sample": 10, "end_sample": 50}]}"#;
        std::fs::write(d.join("rec-0.json"), json).unwrap();
        assert_eq!(list_images(&d).unwrap(), vec!["rec-0"]);
        let t = read_truth(&d, "rec-0").unwrap();
        assert_eq!(t.fs, 4.0);
        assert_eq!(t.leads.len(), 2);
        assert_eq!(t.leads[0].lead, Lead::II);
        // the long window (clamped to the 40-sample record) replaced the short one
        assert_eq!(t.leads[0].samples.len(), 30);
        assert_eq!(t.leads[0].offset, 0);
        assert_eq!(t.leads[0].samples[0], 1.0);
        // lead I is NaN there in the record: zeros, offset relative to the smallest start
        assert_eq!(t.leads[1].offset, 6);
        assert!(t.leads[1].samples.iter().all(|v| *v == 0.0));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn without_json_each_lead_keeps_its_finite_run() {
        let d = temp_dir("nojson");
        std::fs::write(d.join("r.csv"), record_csv(30)).unwrap();
        assert_eq!(list_images(&d).unwrap(), vec!["r"]);
        let t = read_truth(&d, "r").unwrap();
        assert_eq!(t.fs, 3.0);
        let i = t.leads.iter().find(|l| l.lead == Lead::I).unwrap();
        assert_eq!((i.offset, i.samples.clone()), (3, vec![3.0, 4.0, 5.0, 6.0]));
        assert_eq!(t.leads.len(), 2);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let d = temp_dir("err");
        std::fs::write(d.join("x-1.json"), r#"{"leads": []}"#).unwrap();
        let e = read_truth(&d, "x-1").unwrap_err();
        assert!(e.contains("no ground truth for record x"), "{e}");
        std::fs::write(d.join("x.csv"), record_csv(10)).unwrap();
        std::fs::write(
            d.join("x-1.json"),
            r#"{"sampling_frequency": 1, "leads": [{"lead_name": "V9"}]}"#,
        )
        .unwrap();
        let e = read_truth(&d, "x-1").unwrap_err();
        assert!(e.contains("x-1.json") && e.contains("V9"), "{e}");
        assert_eq!(record_of("A0001-3"), "A0001");
        assert_eq!(record_of("00001_lr-0"), "00001_lr");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
