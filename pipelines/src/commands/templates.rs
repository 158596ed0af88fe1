//! `ecgdig templates build <WFDB records or Kaggle train folders…> -o templates.json`:
//! per-lead median and mean beat templates plus a heart-rate prior, for the
//! `templates` stage (see `ecgdig_stages::reconstruct::templates` for the method).
//!
//! Inputs may be WFDB records (`rec.hea`, `rec.dat` or `rec`), folders of
//! WFDB records (searched recursively), or Kaggle train folders (a folder
//! holding `train.csv` and `train/<id>/<id>.csv`).

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use ecgdig_core::prelude::Record;
use ecgdig_eval::io::{kaggle, wfdb};
use ecgdig_stages::reconstruct::templates::{build_templates, BuildParams, TemplatesFile};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct TemplatesArgs {
    #[command(subcommand)]
    pub command: TemplatesCommand,
}

#[derive(Subcommand)]
pub enum TemplatesCommand {
    /// Build a templates JSON from WFDB records or Kaggle train folders.
    Build(BuildArgs),
}

#[derive(Args)]
pub struct BuildArgs {
    /// WFDB records (.hea/.dat or base path), folders of records, or Kaggle train folders.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output JSON file.
    #[arg(short, long, default_value = "templates.json")]
    pub output: PathBuf,
    /// Samples per template.
    #[arg(long, default_value_t = 200)]
    pub length: usize,
    /// Seconds before the R peak covered by a template.
    #[arg(long, default_value_t = 0.2)]
    pub pre_seconds: f32,
    /// Seconds after the R peak covered by a template.
    #[arg(long, default_value_t = 0.4)]
    pub post_seconds: f32,
    /// Most beats taken per lead and record.
    #[arg(long, default_value_t = 20)]
    pub max_beats_per_record: usize,
    /// Provenance text stored in the file's `about` field.
    #[arg(long)]
    pub about: Option<String>,
}

pub fn run(args: TemplatesArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        TemplatesCommand::Build(a) => build(a),
    }
}

fn build(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let mut records: Vec<Record> = Vec::new();
    let mut failed = 0usize;
    for input in &args.inputs {
        match read_input(input, &mut records) {
            Ok(0) => eprintln!("warning: {}: no record found", input.display()),
            Ok(_) => {}
            Err(e) => {
                failed += 1;
                eprintln!("warning: {}: {e}", input.display());
            }
        }
    }
    if records.is_empty() {
        bail!("no readable record among the inputs");
    }
    let params = BuildParams {
        length: args.length,
        pre_seconds: args.pre_seconds,
        post_seconds: args.post_seconds,
        max_beats_per_record: args.max_beats_per_record,
        ..BuildParams::default()
    };
    let templates = build_templates(&records, &params).map_err(anyhow::Error::msg)?;
    let mut sources: Vec<String> = records.iter().map(|r| r.name.clone()).collect();
    sources.sort();
    let about = args.about.unwrap_or_else(|| {
        format!(
            "Per-lead median/mean beat templates (R-aligned, {} s before to {} s after R) and the median heart rate, \
             built by `ecgdig templates build` from {} record(s). Derived statistics of the source records: \
             their licences apply to this derived data.",
            params.pre_seconds,
            params.post_seconds,
            records.len()
        )
    });
    let file = TemplatesFile {
        about: Some(about),
        sources,
        templates,
    };
    let json = serde_json::to_string(&file)?;
    if let Some(dir) = args.output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create folder {}", dir.display()))?;
    }
    ecgdig_core::output::write_atomic(&args.output, json.as_bytes())
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let t = &file.templates;
    let leads = t.leads.iter().flatten().count();
    let beats: usize = t.leads.iter().flatten().map(|l| l.n_beats).sum();
    eprintln!(
        "wrote {}: {} records ({} unreadable), {} lead templates from {} beats, bpm prior {:.1}",
        args.output.display(),
        records.len(),
        failed,
        leads,
        beats,
        t.bpm_prior
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads one input into `out`; returns how many records it gave.
fn read_input(p: &Path, out: &mut Vec<Record>) -> Result<usize, String> {
    if p.is_dir() {
        if p.join("train.csv").is_file() {
            let recs = kaggle::read_train(p)?;
            let n = recs.len();
            out.extend(recs);
            return Ok(n);
        }
        let mut headers = Vec::new();
        find_headers(p, &mut headers);
        headers.sort();
        let mut n = 0;
        for h in headers {
            match wfdb::read_record(&h) {
                Ok(r) => {
                    out.push(r);
                    n += 1;
                }
                Err(e) => eprintln!("warning: {}: {e}", h.display()),
            }
        }
        return Ok(n);
    }
    out.push(wfdb::read_record(p)?);
    Ok(1)
}

fn find_headers(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            find_headers(&p, out);
        } else if p.extension().and_then(|e| e.to_str()) == Some("hea") {
            out.push(p);
        }
    }
}
