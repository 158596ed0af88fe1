//! `ecgdig digitize <images or folders…> -o <dir>`: the main job.

use clap::Args;
use ecgdig::batch::{collect_inputs, run_batch};
use ecgdig::{Digitizer, DigitizerOptions};
use ecgdig_core::prelude::RunOptions;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct DigitizeArgs {
    /// Image files or folders (searched recursively).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output folder.
    #[arg(short, long, default_value = "out")]
    pub output: PathBuf,
    /// Pipeline config (default: the embedded default pipeline).
    #[arg(short, long)]
    pub config: Option<PathBuf>,
    /// Output sampling rate, Hz.
    #[arg(long, default_value_t = 500.0)]
    pub fs: f32,
    /// `stage.param=value` overrides.
    #[arg(long = "set", value_name = "STAGE.PARAM=VALUE")]
    pub set: Vec<String>,
    /// Also write a debug overlay PNG per image.
    #[arg(long)]
    pub overlay: bool,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Print a per-stage timing table at the end.
    #[arg(long)]
    pub profile: bool,
}

pub fn run(args: DigitizeArgs) -> anyhow::Result<ExitCode> {
    if let Some(j) = args.jobs {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(j.max(1))
            .build_global();
    }
    std::fs::create_dir_all(&args.output).map_err(|e| {
        anyhow::anyhow!("cannot create output folder {}: {e}", args.output.display())
    })?;
    let mut formats = vec!["csv".to_string()];
    if args.overlay {
        formats.push("overlay".to_string());
    }
    let opts = DigitizerOptions {
        config: args.config.clone(),
        overrides: args.set.clone(),
        run: RunOptions {
            fs: args.fs,
            out_dir: Some(args.output.clone()),
            formats,
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
    let warnings = d.pipeline.config.render_warnings();
    if !warnings.is_empty() {
        eprintln!("{warnings}");
    }
    // provenance: the fully resolved config and its hash, next to the outputs
    let resolved = format!(
        "# hash: {}\n{}",
        d.pipeline.hash(),
        d.pipeline.resolved_toml()
    );
    ecgdig_core::page_csv::write_atomic(
        &args.output.join("pipeline.resolved.toml"),
        resolved.as_bytes(),
    )?;

    let (inputs, missing) = collect_inputs(&args.inputs);
    for (p, why) in &missing {
        eprintln!("error: {}: {why}", p.display());
    }
    let report = run_batch(&d, &inputs, &|o| match &o.result {
        Ok(t) => eprintln!("ok     {} ({:.2} s)", o.path.display(), t.as_secs_f64()),
        Err(e) => eprintln!("failed {}: {e}", o.path.display()),
    });
    eprintln!(
        "\n{} ok, {} failed, {} missing; {:.3} s/page; wall {:.1} s; config hash {}",
        report.ok(),
        report.failed(),
        missing.len(),
        report.seconds_per_page(),
        report.wall.as_secs_f64(),
        d.pipeline.hash()
    );
    if args.profile {
        eprintln!("(per-stage profile: run one image with --profile)");
        for p in inputs.iter().take(1) {
            if let Ok(r) = d.digitize_path(p) {
                for (stage, t) in &r.timings {
                    eprintln!("  {stage:<12} {:>8.1} ms", t.as_secs_f64() * 1000.0);
                }
            }
        }
    }
    Ok(if report.failed() + missing.len() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
