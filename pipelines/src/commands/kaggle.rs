//! `ecgdig kaggle`: the Kaggle "PhysioNet - Digitization of ECG Images" I/O
//! (the work is done in [`ecgdig::kaggle`]).
//!
//! * `ecgdig kaggle submit --test-csv test.csv --images <dir> -o submission.csv [--config c.toml]`
//!   writes `id,value` rows, `{image}_{row}_{lead}`, exactly `number_of_rows`
//!   per (image, lead) at that line's `fs`, never NaN/inf; a missing or
//!   unreadable image gets a warning and the fallback value 0.0. A lead the
//!   pipeline judges probably wrong is written as traced: the default
//!   pipeline's `low_confidence = "keep"`, which scores best on the Kaggle
//!   metric on every dev set (docs/confidence-model.md); `--set
//!   confidence.low_confidence=blank` writes such leads as zeros instead.
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
    let opts = DigitizerOptions {
        config: args.config.clone(),
        overrides: args.set.clone(),
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
