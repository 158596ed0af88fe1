//! `ecgdig ablate <configs…> --data <dir>`: runs several pipeline configs on
//! one dataset and compares their scores.
//!
//! For each config, every image of the data folder that has ground truth
//! (`<image>.json` next to it, plus its record) is digitized into
//! `<out>/<config-stem>/<image>.csv`, then scored with `ecgdig_eval`'s
//! metric. The result is a Markdown table (also written to
//! `<out>/ablation.md`): mean SNR capped and uncapped, the Challenge-2024
//! figure, the worst image, how many pages failed, and seconds per page.
//! Each config's full scores go to `<out>/<config-stem>/scores.json`.

use anyhow::Context as _;
use ecgdig::batch::{collect_inputs, run_batch, BatchOptions, CollectOptions};
use ecgdig::{Digitizer, DigitizerOptions};
use ecgdig_core::output::write_atomic;
use ecgdig_core::prelude::RunOptions;
use ecgdig_eval::metric::{self, KAGGLE_CAP};
use ecgdig_eval::report::{self, AblationRow};
use ecgdig_eval::{score, truth};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct AblateArgs {
    /// Pipeline configs (TOML files) to compare.
    #[arg(required = true)]
    pub configs: Vec<PathBuf>,
    /// Dataset folder: page images with their ground truth (`<image>.json` + `<rec>.hea/.dat`).
    #[arg(long)]
    pub data: PathBuf,
    /// Output sampling rate, Hz.
    #[arg(long, default_value_t = 500.0, value_parser = super::parse_fs)]
    pub fs: f32,
    /// Output folder; each config writes into `<out>/<config-stem>/`.
    #[arg(long, default_value = "ablate-out")]
    pub out: PathBuf,
    /// Use only the first N images (sorted by name).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Per-image SNR cap for the "capped" figure.
    #[arg(long, default_value_t = KAGGLE_CAP)]
    pub cap: f64,
}

/// The images to digitize: files of the data folder whose stem has ground truth.
fn dataset(data: &Path, limit: Option<usize>) -> anyhow::Result<Vec<(PathBuf, String)>> {
    if !data.is_dir() {
        anyhow::bail!("data folder {} does not exist", data.display());
    }
    let truth: HashSet<String> = truth::list_images(data)
        .map_err(anyhow::Error::msg)?
        .into_iter()
        .collect();
    let (files, problems) = collect_inputs(&[data.to_path_buf()], &CollectOptions::default());
    for (p, why) in problems {
        eprintln!("warning: {}: {why}", p.display());
    }
    let mut out: Vec<(PathBuf, String)> = files
        .into_iter()
        .filter(|p| p.parent() == Some(data))
        .filter_map(|p| {
            let stem = p.file_stem()?.to_str()?.to_string();
            truth.contains(&stem).then_some((p, stem))
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out.dedup_by(|a, b| a.1 == b.1);
    if let Some(n) = limit {
        out.truncate(n);
    }
    if out.is_empty() {
        anyhow::bail!(
            "no images with ground truth in {} (expected <image>.png/.jpg next to <image>.json)",
            data.display()
        );
    }
    Ok(out)
}

/// Output folder names: config file stems, made unique.
fn config_names(configs: &[PathBuf]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for c in configs {
        let base = c
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("config")
            .to_string();
        let mut name = base.clone();
        let mut k = 2;
        while seen.contains(&name) {
            name = format!("{base}-{k}");
            k += 1;
        }
        seen.push(name);
    }
    seen
}

fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Digitizes and scores the dataset with one config.
fn ablate_one(
    config: &Path,
    name: &str,
    args: &AblateArgs,
    inputs: &[(PathBuf, String)],
) -> anyhow::Result<AblationRow> {
    let out_dir = args.out.join(name);
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create output folder {}", out_dir.display()))?;
    // a stale CSV from an earlier run must not be scored for a page that fails now
    for (_, stem) in inputs {
        let _ = std::fs::remove_file(out_dir.join(format!("{stem}.csv")));
    }
    let failed_row = |note: String| AblationRow {
        config: name.to_string(),
        summary: None,
        worst: None,
        failed: inputs.len(),
        seconds_per_page: 0.0,
        note,
    };
    let opts = DigitizerOptions {
        config: Some(config.to_path_buf()),
        overrides: Vec::new(),
        run: RunOptions {
            fs: args.fs,
            out_dir: Some(out_dir.clone()),
            formats: vec!["csv".to_string()],
            ..RunOptions::default()
        },
    };
    let d = match Digitizer::new(&opts) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{}: {e}", config.display());
            return Ok(failed_row(format!(
                "config did not load: {}",
                first_line(&e.to_string())
            )));
        }
    };
    let paths: Vec<PathBuf> = inputs.iter().map(|(p, _)| p.clone()).collect();
    let batch = run_batch(&d, &paths, &BatchOptions::default(), &|o| {
        if let Some(e) = o.error() {
            eprintln!("[{name}] failed {}: {e}", o.label());
        }
    });
    let images: Vec<String> = inputs.iter().map(|(_, s)| s.clone()).collect();
    let scores = match score::score_folder(&args.data, &out_dir, Some(&images)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("[{name}] cannot score:\n{e}");
            return Ok(failed_row(format!("scoring failed: {}", first_line(&e))));
        }
    };
    let summary = metric::summarize(&scores, args.cap);
    let json = serde_json::to_string_pretty(&report::to_json(&scores, &summary))?;
    write_atomic(&out_dir.join("scores.json"), json.as_bytes())
        .with_context(|| format!("cannot write {}", out_dir.join("scores.json").display()))?;
    let mut row = AblationRow::from_scores(
        name,
        &scores,
        summary,
        batch.failed(),
        batch.seconds_per_page(),
    );
    let unwritten = scores.iter().filter(|s| s.missing).count();
    if batch.ok() > 0 && unwritten >= batch.ok() + batch.failed() {
        row.note = "the config wrote no page CSV (add a write_page_csv stage)".to_string();
        eprintln!("[{name}] {}", row.note);
    }
    eprintln!(
        "[{name}] {} ok, {} failed, wall {:.1} s",
        batch.ok(),
        batch.failed(),
        batch.wall.as_secs_f64()
    );
    Ok(row)
}

/// Runs every config; one row per config, in order.
pub fn ablate(args: &AblateArgs) -> anyhow::Result<Vec<AblationRow>> {
    if args.fs.is_nan() || args.fs <= 0.0 {
        anyhow::bail!("--fs must be a positive rate in Hz, got {}", args.fs);
    }
    if args.cap.is_nan() || args.cap <= 0.0 {
        anyhow::bail!("--cap must be a positive number, got {}", args.cap);
    }
    let inputs = dataset(&args.data, args.limit)?;
    eprintln!(
        "{} images from {}, {} configs",
        inputs.len(),
        args.data.display(),
        args.configs.len()
    );
    let names = config_names(&args.configs);
    args.configs
        .iter()
        .zip(&names)
        .map(|(c, n)| ablate_one(c, n, args, &inputs))
        .collect()
}

pub fn run(args: AblateArgs) -> anyhow::Result<ExitCode> {
    let rows = ablate(&args)?;
    let table = report::ablation_table(&rows);
    let md = args.out.join("ablation.md");
    write_atomic(&md, table.as_bytes())
        .with_context(|| format!("cannot write {}", md.display()))?;
    print!("{table}");
    Ok(if rows.iter().any(|r| r.summary.is_none()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecgdig_core::prelude::*;
    use ecgdig_core::record::Record;
    use serde::{Deserialize, Serialize};

    /// Test stage: a flat 0.1 mV lead II over the whole page.
    #[derive(Debug, Clone, Default, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct AblateTestFlat {}

    #[typetag::serde(name = "ablate_test_flat")]
    impl StageConfig for AblateTestFlat {
        fn inputs(&self) -> Vec<Port> {
            vec![Port::new("image", ArtifactKind::Image)]
        }
        fn outputs(&self) -> Vec<Port> {
            vec![Port::new("signals", ArtifactKind::Signals)]
        }
        fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
            Ok(Box::new(self.clone()))
        }
    }
    impl Stage for AblateTestFlat {
        fn run(&self, _inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
            let n = ctx.options.n_samples();
            let mut s = Signals::empty(ctx.options.fs, n);
            s.set(
                Lead::II,
                LeadSignal {
                    start: 0,
                    samples: vec![0.1; n],
                    confidence: 1.0,
                },
            );
            Ok(StageOutputs::one(s))
        }
    }
    register_stage!(
        AblateTestFlat,
        "ablate_test_flat",
        summary = "Test only: a flat lead II.",
        params = [],
        example = "[stages.flat]\ntype = \"ablate_test_flat\"\ninputs = [\"load\"]\n"
    );

    #[test]
    fn ablates_a_working_and_a_broken_config() {
        let tmp = std::env::temp_dir().join(format!("ecgdig-ablate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let data = tmp.join("data");
        std::fs::create_dir_all(&data).unwrap();
        // two pages of one 500 Hz record, plus an image without truth
        let mut rec = Record::new("rec", 500.0, 5000);
        let ii: Vec<f32> = (0..5000).map(|i| (i as f32 * 0.02).sin()).collect();
        rec.set(Lead::II, ii);
        ecgdig_eval::io::wfdb::write_record(&data, "rec", &rec).unwrap();
        let img = image::RgbImage::from_pixel(300, 240, image::Rgb([255, 255, 255]));
        for stem in ["rec-0", "rec-1", "stray"] {
            img.save(data.join(format!("{stem}.png"))).unwrap();
        }
        let json = r#"{"sampling_frequency": 500, "leads": [
            {"lead_name": "II", "start_sample": 0, "end_sample": 5000}]}"#;
        std::fs::write(data.join("rec-0.json"), json).unwrap();
        std::fs::write(data.join("rec-1.json"), json).unwrap();
        let good = tmp.join("flat.toml");
        std::fs::write(
            &good,
            "[stages.load]\ntype = \"load_image\"\n\n[stages.flat]\ntype = \"ablate_test_flat\"\n\
             inputs = [\"load\"]\n\n[stages.csv]\ntype = \"write_page_csv\"\ninputs = [\"flat\"]\n",
        )
        .unwrap();
        let bad = tmp.join("broken.toml");
        std::fs::write(&bad, "[stages.load]\ntype = \"no_such_stage\"\n").unwrap();
        let args = AblateArgs {
            configs: vec![good, bad],
            data: data.clone(),
            fs: 250.0,
            out: tmp.join("out"),
            limit: Some(1),
            cap: KAGGLE_CAP,
        };
        let rows = ablate(&args).unwrap();
        assert_eq!(rows.len(), 2);
        let s = rows[0].summary.as_ref().expect("the flat config scored");
        assert_eq!((s.images, s.missing, rows[0].failed), (1, 0, 0));
        assert!(s.mean_db_capped.is_finite() && s.mean_db_capped < 1.0);
        assert_eq!(rows[0].worst.as_ref().unwrap().0, "rec-0");
        assert!(tmp.join("out/flat/rec-0.csv").exists());
        assert!(!tmp.join("out/flat/rec-1.csv").exists(), "--limit 1");
        assert!(tmp.join("out/flat/scores.json").exists());
        assert!(rows[1].summary.is_none() && rows[1].note.contains("did not load"));
        let table = report::ablation_table(&rows);
        assert!(
            table.contains("| flat |") && table.contains("| broken |"),
            "{table}"
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn config_names_are_unique_stems() {
        let names = config_names(&[
            PathBuf::from("a/fast.toml"),
            PathBuf::from("b/fast.toml"),
            PathBuf::from("slow.toml"),
        ]);
        assert_eq!(names, vec!["fast", "fast-2", "slow"]);
    }
}
