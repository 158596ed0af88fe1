//! `ecgdig kaggle`: the Kaggle "PhysioNet - Digitization of ECG Images" I/O
//! (the work is done in [`ecgdig::kaggle`]).
//!
//! * `ecgdig kaggle submit --test-csv test.csv --images <dir> -o submission.csv [--config c.toml]`
//!   writes `id,value` rows, `{image}_{row}_{lead}`, exactly `number_of_rows`
//!   per (image, lead) at that line's `fs`, never NaN/inf; a missing or
//!   unreadable image gets a warning and the fallback value 0.0. A lead the
//!   pipeline's `lead_confidence` stage rates under `--blank-below` (0.1) is
//!   written as zeros (`--low-confidence blank`, the default): on the dev
//!   sets that scores as well as or better than keeping it, on the Kaggle
//!   metric and on the Challenge-2024 one (docs/confidence-model.md);
//!   `--low-confidence keep` writes every lead as traced.
//! * `ecgdig kaggle eval --train-dir <dir> --pred <dir>` scores page CSVs
//!   against the train layout with the competition metric.

use clap::{Args, Subcommand};
use ecgdig::{Digitizer, DigitizerOptions};
use ecgdig_core::prelude::RunOptions;
use ecgdig_eval::io::kaggle as kaggle_io;
use ecgdig_eval::{metric, report};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct KaggleArgs {
    #[command(subcommand)]
    pub command: KaggleCommand,
}

#[derive(Subcommand)]
pub enum KaggleCommand {
    /// Digitize the test images and write submission.csv.
    Submit(SubmitArgs),
    /// Score page CSVs against a Kaggle train folder.
    Eval(EvalArgs),
}

#[derive(Args)]
pub struct SubmitArgs {
    /// The competition's test.csv (id,lead,fs,number_of_rows).
    #[arg(long)]
    pub test_csv: PathBuf,
    /// Folder holding the test images (`<id>.png`, or `<id>/` with images).
    #[arg(long)]
    pub images: PathBuf,
    /// Output submission file.
    #[arg(short, long, default_value = "submission.csv")]
    pub output: PathBuf,
    /// Pipeline config (default: the embedded default pipeline).
    #[arg(short, long)]
    pub config: Option<PathBuf>,
    /// `stage.param=value` overrides.
    #[arg(long = "set", value_name = "STAGE.PARAM=VALUE")]
    pub set: Vec<String>,
    /// Sampling rate the pipeline runs at, Hz (leads are resampled to each line's fs).
    #[arg(long, default_value_t = 500.0, value_parser = super::parse_fs)]
    pub fs: f32,
    /// What to write for a lead the pipeline judges probably wrong: `blank`
    /// (zeros) or `keep` (as traced). Needs a `lead_confidence` stage; a
    /// pipeline without one keeps every lead.
    #[arg(long, value_enum, default_value_t = LowConfidencePolicy::Blank)]
    pub low_confidence: LowConfidencePolicy,
    /// `blank`: confidence (0..1) under which a lead is blanked.
    #[arg(long, default_value_t = 0.1)]
    pub blank_below: f64,
}

/// `--low-confidence` of `kaggle submit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LowConfidencePolicy {
    Blank,
    Keep,
}

/// The `--set` overrides that apply the policy to every `lead_confidence`
/// stage of the config (none when it has no such stage).
fn policy_overrides(args: &SubmitArgs) -> anyhow::Result<Vec<String>> {
    if args.low_confidence == LowConfidencePolicy::Keep {
        return Ok(Vec::new());
    }
    if !(0.0..=1.0).contains(&args.blank_below) {
        anyhow::bail!("--blank-below must lie in 0..1, got {}", args.blank_below);
    }
    let loaded = match ecgdig::load_config(args.config.as_deref(), &args.set) {
        Ok(l) => l,
        // the digitizer reports the config's problems with their locations
        Err(_) => return Ok(Vec::new()),
    };
    let ids: Vec<String> = loaded
        .compiled
        .nodes
        .iter()
        .filter(|n| n.type_name == "lead_confidence")
        .map(|n| n.id.clone())
        .collect();
    if ids.is_empty() {
        eprintln!("warning: the pipeline has no lead_confidence stage: every lead is kept");
    }
    Ok(ids
        .iter()
        .flat_map(|id| {
            [
                format!("{id}.low_confidence=\"blank\""),
                format!("{id}.blank_below={}", args.blank_below),
            ]
        })
        .collect())
}

#[derive(Args)]
pub struct EvalArgs {
    /// Kaggle train folder: `train.csv` and `train/<id>/<id>.csv`.
    #[arg(long)]
    pub train_dir: PathBuf,
    /// Folder of predicted page CSVs (`<id>.csv` or `<id>-<k>.csv`).
    #[arg(long)]
    pub pred: PathBuf,
    /// Score only records that have a prediction (default: a missing one scores as all zeros).
    #[arg(long)]
    pub only_predicted: bool,
    /// Per-image SNR cap (linear); Kaggle's is 384.
    #[arg(long, default_value_t = 384.0)]
    pub cap: f64,
}

pub fn run(args: KaggleArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        KaggleCommand::Submit(a) => submit(a),
        KaggleCommand::Eval(a) => eval(a),
    }
}

fn submit(args: SubmitArgs) -> anyhow::Result<ExitCode> {
    let rows = kaggle_io::read_test_csv(&args.test_csv).map_err(anyhow::Error::msg)?;
    let mut overrides = args.set.clone();
    overrides.extend(policy_overrides(&args)?);
    let opts = DigitizerOptions {
        config: args.config.clone(),
        overrides,
        run: RunOptions {
            fs: args.fs,
            out_dir: None,
            formats: Vec::new(),
            ..RunOptions::default()
        },
    };
    let d = match Digitizer::new(&opts) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(2));
        }
    };
    let r = ecgdig::kaggle::submit(&d, rows, &args.images, &args.output)?;
    eprintln!(
        "wrote {}: {} rows for {} images ({} used the fallback {})",
        args.output.display(),
        r.rows,
        r.images,
        r.fallback_images,
        ecgdig::kaggle::FALLBACK_VALUE
    );
    Ok(ExitCode::SUCCESS)
}

fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let (scores, problems) =
        ecgdig::kaggle::score_train(&args.train_dir, &args.pred, args.only_predicted)?;
    for p in &problems {
        eprintln!("error: {p}");
    }
    if scores.is_empty() {
        anyhow::bail!("nothing to score: no train record matched a prediction");
    }
    for s in &scores {
        println!("{}", report::image_line(s, args.cap));
    }
    println!(
        "{}",
        report::summary_line(&metric::summarize(&scores, args.cap))
    );
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(policy: LowConfidencePolicy, config: Option<&str>) -> SubmitArgs {
        SubmitArgs {
            test_csv: PathBuf::from("test.csv"),
            images: PathBuf::from("images"),
            output: PathBuf::from("submission.csv"),
            config: config.map(|c| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(c)),
            set: Vec::new(),
            fs: 500.0,
            low_confidence: policy,
            blank_below: 0.1,
        }
    }

    #[test]
    fn blank_is_applied_to_the_confidence_stage_and_builds() {
        let a = args(LowConfidencePolicy::Blank, None);
        let o = policy_overrides(&a).unwrap();
        assert_eq!(
            o,
            vec![
                "confidence.low_confidence=\"blank\"".to_string(),
                "confidence.blank_below=0.1".to_string()
            ]
        );
        let d = Digitizer::new(&DigitizerOptions {
            config: None,
            overrides: o,
            run: RunOptions::default(),
        });
        assert!(d.is_ok(), "the overrides must build");
        assert!(policy_overrides(&args(LowConfidencePolicy::Keep, None))
            .unwrap()
            .is_empty());
        // a pipeline without the stage keeps every lead (and still builds)
        let seed = args(
            LowConfidencePolicy::Blank,
            Some("configs/ablations/seed.toml"),
        );
        assert!(policy_overrides(&seed).unwrap().is_empty());
        let bad = SubmitArgs {
            blank_below: 1.5,
            ..args(LowConfidencePolicy::Blank, None)
        };
        assert!(policy_overrides(&bad).is_err());
    }
}
