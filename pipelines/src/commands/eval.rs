//! `ecgdig eval --truth <dir> --pred <dir>`: scores predicted page CSVs.
//!
//! Prints one line per image (capped and uncapped dB), the mean lead SNR per
//! lead, optionally a per-image x per-lead matrix, the failed leads (SNR
//! under 5 dB) with how well the digitizer's per-lead confidence ranks them
//! (`ecgdig_eval::trust`; the confidences come from the `<image>.json` files
//! beside the CSVs, when the digitizer wrote them), and as its last line
//! `mean_snr_db_capped=X mean_snr_db_uncapped=Y challenge2024_db=Z images=N missing=M`.
//!
//! Exit status: 0, or 1 when some predictions are missing (a pairing
//! mistake, e.g. `--pred` naming the wrong folder) unless
//! `--missing-as-zero` says to score them as zeros; 2 for a usage error.
//! The metric is described in `ecgdig_eval::metric`; it agrees with the
//! reference scorer `ecg_score.py` (see tests/tests/metric_agreement.rs).

use anyhow::Context as _;
use ecgdig_eval::{metric, report, score, trust};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Ground-truth folder: records (`.hea`/`.dat` or `.csv`) and optional per-image `.json`.
    #[arg(long)]
    pub truth: PathBuf,
    /// Folder of predicted page CSVs, `<image>.csv`.
    #[arg(long)]
    pub pred: PathBuf,
    /// Also write every score as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Per-image SNR cap for the "capped" figure (Kaggle: 384 = 25.84 dB).
    #[arg(long, default_value_t = metric::KAGGLE_CAP)]
    pub cap: f64,
    /// Also print the SNR of every lead of every image.
    #[arg(long)]
    pub per_lead: bool,
    /// Score a missing prediction as zeros and exit 0 (default: exit 1 when
    /// any prediction is missing).
    #[arg(long)]
    pub missing_as_zero: bool,
}

pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    if args.cap.is_nan() || args.cap <= 0.0 {
        anyhow::bail!("--cap must be a positive number, got {}", args.cap);
    }
    if !args.truth.is_dir() {
        anyhow::bail!("truth folder {} does not exist", args.truth.display());
    }
    if !args.pred.is_dir() {
        anyhow::bail!(
            "prediction folder {} does not exist (every image would score as missing)",
            args.pred.display()
        );
    }
    let images = ecgdig_eval::truth::list_images(&args.truth).map_err(anyhow::Error::msg)?;
    if images.is_empty() {
        anyhow::bail!(
            "no images in truth folder {} (expected <image>.json, or <rec>.csv / <rec>.hea)",
            args.truth.display()
        );
    }
    let scores =
        score::score_folder(&args.truth, &args.pred, Some(&images)).map_err(anyhow::Error::msg)?;
    let summary = metric::summarize(&scores, args.cap);
    for s in &scores {
        println!("{}", report::image_line(s, args.cap));
    }
    println!();
    print!("{}", report::per_lead_table(&summary));
    if args.per_lead {
        println!();
        print!("{}", report::per_image_lead_table(&scores));
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report::to_json(&scores, &summary))?;
        ecgdig_core::output::write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let trust = trust::report_folder(&scores, &args.pred);
    println!(
        "failed leads (under {} dB): {} of {} ({:.1} %); confidence AUROC {}; failed leads claiming >= {}: {}",
        trust::FAILED_DB,
        trust.failed,
        trust.leads,
        100.0 * trust.failed_share(),
        trust.auroc.map_or("n/a (no JSON)".to_string(), |a| format!("{a:.3}")),
        trust::OVERCONFIDENT,
        trust.overconfident
    );
    println!("{}", trust.line());
    println!("{}", report::summary_line(&summary));
    if summary.missing > 0 && !args.missing_as_zero {
        eprintln!(
            "error: {} of {} predictions missing in {} (scored as zeros above); \
             check that --pred is the folder holding <image>.csv, or pass --missing-as-zero",
            summary.missing,
            scores.len(),
            args.pred.display()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecgdig_core::leads::Lead;
    use ecgdig_core::record::Record;

    #[test]
    fn scores_a_folder_and_writes_json() {
        let tmp = std::env::temp_dir().join(format!("ecgdig-evalcmd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let (truth, pred) = (tmp.join("truth"), tmp.join("pred"));
        std::fs::create_dir_all(&pred).unwrap();
        let mut rec = Record::new("r", 100.0, 1000);
        let ii: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.05).sin()).collect();
        rec.set(Lead::II, ii.clone());
        ecgdig_eval::io::wfdb::write_record(&truth, "r", &rec).unwrap();
        let json = r#"{"sampling_frequency": 100, "leads": [
            {"lead_name": "II", "start_sample": 0, "end_sample": 1000}]}"#;
        for k in 0..2 {
            std::fs::write(truth.join(format!("r-{k}.json")), json).unwrap();
        }
        // r-0: perfect (values as stored: 3 decimals); r-1: no prediction
        let mut csv = String::from("I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6\n");
        for v in &ii {
            csv.push_str(&format!(",{:.3},,,,,,,,,,\n", v));
        }
        std::fs::write(pred.join("r-0.csv"), csv).unwrap();
        let out = tmp.join("scores.json");
        let code = run(EvalArgs {
            truth: truth.clone(),
            pred: pred.clone(),
            json: Some(out.clone()),
            cap: metric::KAGGLE_CAP,
            per_lead: true,
            missing_as_zero: false,
        })
        .unwrap();
        assert_eq!(code, ExitCode::from(1), "a missing prediction fails");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!(
            (v["images"].as_u64(), v["missing"].as_u64()),
            (Some(2), Some(1))
        );
        assert_eq!(v["per_image"][0]["image"], "r-0");
        assert!(v["per_image"][0]["snr_db_capped"].as_f64().unwrap() > 25.8);
        assert!(v["per_image"][1]["snr_db_capped"].as_f64().unwrap() < 1.0);
        let zeros = run(EvalArgs {
            truth: truth.clone(),
            pred: pred.clone(),
            json: None,
            cap: metric::KAGGLE_CAP,
            per_lead: false,
            missing_as_zero: true,
        });
        assert_eq!(zeros.unwrap(), ExitCode::SUCCESS);
        let bad = run(EvalArgs {
            truth: tmp.join("nope"),
            pred,
            json: None,
            cap: metric::KAGGLE_CAP,
            per_lead: false,
            missing_as_zero: false,
        });
        assert!(bad.unwrap_err().to_string().contains("does not exist"));
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
