//! `ecgdig digitize <images, folders…> [-o <dir>]`: the main job.
//!
//! Exit status: 0 when every input was digitized (or skipped), 1 when some
//! inputs failed (listed in `<out>/failures.csv`; a page the pipeline judged
//! `failed` counts, class `low_confidence`, with its outputs written), 2 for
//! a usage error (bad
//! option, invalid config, output folder not writable), found before any
//! input is read.
//!
//! [`run`] goes through named steps: [`resolve_formats`], [`start_workers`],
//! [`build_digitizer`], [`gather_inputs`], [`run_with_progress`] and
//! [`report_outcome`].

use clap::Args;
use ecgdig::batch::Problem;
use ecgdig::batch::{
    collect, read_list, reason, run_batch, BatchOptions, BatchReport, CollectOptions, FileOutcome,
    Status,
};
use ecgdig::{Digitizer, DigitizerOptions};
use ecgdig_core::prelude::{RunOptions, Verdict};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Output formats and the writer stage type that produces each.
pub const FORMATS: [(&str, &str); 6] = [
    ("csv", "write_page_csv"),
    ("wfdb", "write_wfdb"),
    ("json", "write_json"),
    ("plot", "write_plot"),
    ("overlay", "write_overlay"),
    ("mask", "write_mask"),
];

#[derive(Args)]
pub struct DigitizeArgs {
    /// Image files (PNG, JPEG, TIFF, BMP, PDF) or folders (searched recursively).
    #[arg(required_unless_present = "list")]
    pub inputs: Vec<PathBuf>,
    /// A file listing inputs, one path per line (`#` comments; relative paths
    /// are relative to the list file's folder).
    #[arg(long, value_name = "FILE")]
    pub list: Option<PathBuf>,
    /// Only take files in folders that match this glob (repeatable), e.g.
    /// `--glob '*.png'`; a pattern with `/` matches the path under the folder.
    #[arg(long = "glob", value_name = "PATTERN", value_parser = parse_glob)]
    pub globs: Vec<String>,
    /// Output folder. Outputs are `<DIR>/<stem>.*`; when two inputs share a
    /// file stem, every output mirrors its input's folder instead
    /// (`a/x.png`, `b/x.png` -> `<DIR>/a/x.csv`, `<DIR>/b/x.csv`).
    #[arg(short, long, value_name = "DIR", default_value = "out")]
    pub output: PathBuf,
    /// Output formats, comma-separated: csv (page CSV), wfdb (.hea/.dat),
    /// json, plot (report PNG), overlay (debug overlay PNG), mask (the trace
    /// mask PNG).
    #[arg(long, value_delimiter = ',', default_value = "csv")]
    pub format: Vec<String>,
    /// Pipeline config (default: the embedded default pipeline).
    #[arg(short, long)]
    pub config: Option<PathBuf>,
    /// Output sampling rate, Hz (50 to 10000).
    #[arg(long, default_value_t = 500.0, value_parser = super::parse_fs)]
    pub fs: f32,
    /// `stage.param=value` overrides.
    #[arg(long = "set", value_name = "STAGE.PARAM=VALUE")]
    pub set: Vec<String>,
    /// Also write a debug overlay PNG per image (same as adding `overlay` to --format).
    #[arg(long)]
    pub overlay: bool,
    /// Skip inputs whose `<stem>.csv` already exists in the output folder.
    #[arg(long)]
    pub skip_existing: bool,
    /// Worker threads (default: all cores; at most twice the cores). Each
    /// holds one page: see the README for the memory per worker.
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Print a per-stage timing table at the end.
    #[arg(long)]
    pub profile: bool,
    /// No per-file lines and no progress bar; only the summary.
    #[arg(short, long)]
    pub quiet: bool,
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

/// Clap parser for `--glob`: a valid pattern.
fn parse_glob(s: &str) -> Result<String, String> {
    glob::Pattern::new(s)
        .map(|_| s.to_string())
        .map_err(|e| format!("invalid glob pattern `{s}`: {e}"))
}

/// Checks that `dir` exists (creating it) and that a file can be created in it.
fn check_writable(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create output folder {}: {e}", dir.display()))?;
    let probe = dir.join(format!(".ecgdig-write-test.{}", std::process::id()));
    std::fs::write(&probe, b"")
        .map_err(|e| format!("output folder {} is not writable: {e}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

pub fn run(args: DigitizeArgs) -> anyhow::Result<ExitCode> {
    let formats = match resolve_formats(&args) {
        Ok(f) => f,
        Err(e) => return Ok(usage(e)),
    };
    if let Err(e) = start_workers(args.jobs) {
        return Ok(usage(e));
    }
    if let Err(e) = check_writable(&args.output) {
        return Ok(usage(e));
    }
    let d = match build_digitizer(&args, &formats)? {
        Ok(d) => d,
        Err(code) => return Ok(code),
    };
    let (inputs, problems) = match gather_inputs(&args) {
        Ok(v) => v,
        Err(e) => return Ok(usage(e)),
    };
    let mut report = run_with_progress(&d, &inputs, &args);
    report.problems = problems;
    report_outcome(&d, &report, &args);
    Ok(if report.failed() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--format` and `--overlay` as a list of known formats.
fn resolve_formats(args: &DigitizeArgs) -> Result<Vec<String>, String> {
    let mut formats: Vec<String> = Vec::new();
    for f in args.format.iter().map(|f| f.trim().to_ascii_lowercase()) {
        if f.is_empty() {
            continue;
        }
        if !FORMATS.iter().any(|(name, _)| *name == f) {
            let known: Vec<&str> = FORMATS.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "unknown format `{f}` (known: {})",
                known.join(", ")
            ));
        }
        if !formats.contains(&f) {
            formats.push(f);
        }
    }
    if args.overlay && !formats.iter().any(|f| f == "overlay") {
        formats.push("overlay".to_string());
    }
    if formats.is_empty() {
        return Err("--format lists no format".to_string());
    }
    Ok(formats)
}

/// Most worker threads: twice the cores (more only add memory).
pub fn max_jobs() -> usize {
    std::thread::available_parallelism().map_or(8, |n| n.get()) * 2
}

/// Sizes the worker pool from `-j`, clamped to [`max_jobs`] with a warning.
fn start_workers(jobs: Option<usize>) -> Result<(), String> {
    let Some(j) = jobs else {
        return Ok(());
    };
    if j == 0 {
        return Err("-j must be at least 1".to_string());
    }
    let max = max_jobs();
    let n = if j > max {
        eprintln!("warning: -j {j} is more than twice the cores; using {max} workers");
        max
    } else {
        j
    };
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global();
    Ok(())
}

/// Loads the config, builds the pipeline, warns about formats it cannot
/// write and writes `pipeline.resolved.toml`. `Err(exit code)` when the
/// config is invalid.
fn build_digitizer(
    args: &DigitizeArgs,
    formats: &[String],
) -> anyhow::Result<Result<Digitizer, ExitCode>> {
    let opts = DigitizerOptions {
        config: args.config.clone(),
        overrides: args.set.clone(),
        run: RunOptions {
            fs: args.fs,
            out_dir: Some(args.output.clone()),
            formats: formats.to_vec(),
            ..RunOptions::default()
        },
    };
    let d = match Digitizer::new(&opts) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return Ok(Err(ExitCode::from(2)));
        }
    };
    let warnings = d.pipeline.config.render_warnings();
    if !warnings.is_empty() {
        eprintln!("{warnings}");
    }
    for f in formats {
        let ty = FORMATS.iter().find(|(n, _)| n == f).map(|(_, t)| *t);
        let has = d
            .pipeline
            .compiled()
            .nodes
            .iter()
            .any(|n| Some(n.type_name.as_str()) == ty);
        if !has {
            eprintln!(
                "warning: format `{f}` was requested but the pipeline has no `{}` stage; nothing will be written for it",
                ty.unwrap_or("?")
            );
        }
    }
    // provenance: the fully resolved config and its hash, next to the outputs
    let resolved = format!(
        "# hash: {}\n{}",
        d.pipeline.hash(),
        d.pipeline.resolved_toml()
    );
    ecgdig_core::output::write_atomic(
        &args.output.join("pipeline.resolved.toml"),
        resolved.as_bytes(),
    )?;
    Ok(Ok(d))
}

/// The input files (from the arguments, `--list` and `--glob`) and the paths
/// that cannot be used; warnings (link loops) are printed.
fn gather_inputs(args: &DigitizeArgs) -> Result<(Vec<PathBuf>, Vec<Problem>), String> {
    let mut paths = args.inputs.clone();
    if let Some(list) = &args.list {
        paths.extend(read_list(list)?);
    }
    let found = collect(
        &paths,
        &CollectOptions {
            globs: args.globs.clone(),
        },
    );
    for w in &found.warnings {
        eprintln!("warning: {w}");
    }
    for (p, why) in &found.problems {
        eprintln!("error: {}: {why}", p.display());
    }
    if found.files.is_empty() && found.problems.is_empty() {
        eprintln!("warning: no input images found");
    }
    Ok((found.files, found.problems))
}

/// Runs the batch: a progress bar on a terminal, one line per page otherwise.
fn run_with_progress(d: &Digitizer, inputs: &[PathBuf], args: &DigitizeArgs) -> BatchReport {
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let pb = ProgressBar::new(inputs.len() as u64);
        pb.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} files  {per_sec}  ETA {eta}  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb.enable_steady_tick(std::time::Duration::from_millis(250));
        pb
    });
    let quiet = args.quiet;
    let on_done = |o: &FileOutcome| {
        let line = match &o.status {
            Status::Ok(t) => match o.review.as_ref().filter(|r| r.verdict == Verdict::Check) {
                Some(r) => format!(
                    "check   {} ({:.2} s): {}",
                    o.label(),
                    t.as_secs_f64(),
                    r.reasons
                ),
                None => format!("ok      {} ({:.2} s)", o.label(), t.as_secs_f64()),
            },
            Status::Skipped => format!("skipped {} (output exists)", o.label()),
            Status::Failed(e) => {
                format!("failed  {}: {} [{}]", o.label(), reason(e), e.class.name())
            }
        };
        match &bar {
            Some(pb) => {
                if o.error().is_some() {
                    pb.println(line);
                }
                pb.set_message(o.stem.clone());
            }
            None if !quiet => eprintln!("{line}"),
            None => {}
        }
    };
    let batch_opts = BatchOptions {
        skip_existing: args.skip_existing,
    };
    match &bar {
        Some(pb) => {
            // the bar counts files: it advances on a file's first page
            let done = std::sync::Mutex::new(std::collections::HashSet::new());
            let r = run_batch(d, inputs, &batch_opts, &|o| {
                on_done(o);
                if let Ok(mut set) = done.lock() {
                    if set.insert(o.path.clone()) {
                        pb.inc(1);
                    }
                }
            });
            pb.finish_and_clear();
            r
        }
        None => run_batch(d, inputs, &batch_opts, &on_done),
    }
}

/// Writes `failures.csv`, prints the summary and, with `--profile`, each
/// stage's mean time per page.
fn report_outcome(d: &Digitizer, report: &BatchReport, args: &DigitizeArgs) {
    match report.write_failures(&args.output) {
        Ok(p) if report.failed() > 0 => eprintln!("failures listed in {}", p.display()),
        Ok(_) => {}
        Err(e) => eprintln!("error: cannot write failures.csv: {e}"),
    }
    match report.write_review(&args.output) {
        Ok(p) if report.to_check() > 0 => eprintln!(
            "{} pages to check, listed with every page's verdict in {}",
            report.to_check(),
            p.display()
        ),
        Ok(_) => {}
        Err(e) => eprintln!("error: cannot write review.csv: {e}"),
    }
    eprintln!("\n{}config hash {}", report.summary(), d.pipeline.hash());
    if args.profile {
        eprintln!("(mean milliseconds per page, by stage)");
        for (stage, ms) in report.stage_profile() {
            eprintln!("  {stage:<12} {ms:>8.1} ms");
        }
    }
}
