//! Batch digitization: many inputs, in parallel, with a per-file account.

use crate::Digitizer;
use ecgdig_core::prelude::*;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Image file extensions picked up when a folder is given.
pub const IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "bmp", "tif", "tiff"];

/// Expands files and folders (searched recursively) into a sorted list of images.
pub fn collect_inputs(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut files, &mut problems);
        } else if p.exists() {
            files.push(p.clone());
        } else {
            problems.push((p.clone(), "no such file or folder".to_string()));
        }
    }
    files.sort();
    files.dedup();
    (files, problems)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, problems: &mut Vec<(PathBuf, String)>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push((dir.to_path_buf(), format!("cannot list folder: {e}")));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, files, problems);
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            files.push(p);
        }
    }
}

/// Outcome for one input.
pub struct FileOutcome {
    pub path: PathBuf,
    pub result: std::result::Result<Duration, Error>,
}

/// What a batch did.
pub struct BatchReport {
    pub outcomes: Vec<FileOutcome>,
    pub wall: Duration,
}

impl BatchReport {
    pub fn ok(&self) -> usize {
        self.outcomes.iter().filter(|o| o.result.is_ok()).count()
    }
    pub fn failed(&self) -> usize {
        self.outcomes.len() - self.ok()
    }
    /// Mean processing seconds per successful page (CPU time of one worker).
    pub fn seconds_per_page(&self) -> f64 {
        let ok: Vec<f64> = self
            .outcomes
            .iter()
            .filter_map(|o| o.result.as_ref().ok().map(|d| d.as_secs_f64()))
            .collect();
        if ok.is_empty() {
            0.0
        } else {
            ok.iter().sum::<f64>() / ok.len() as f64
        }
    }
}

/// Digitizes every input in parallel; one failure never stops the others.
pub fn run_batch(
    d: &Digitizer,
    inputs: &[PathBuf],
    on_done: &(dyn Fn(&FileOutcome) + Sync),
) -> BatchReport {
    let t0 = Instant::now();
    let outcomes: Vec<FileOutcome> = inputs
        .par_iter()
        .map(|p| {
            let t = Instant::now();
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| d.digitize_path(p)))
                    .unwrap_or_else(|_| {
                        Err(Error::stage(
                            "internal error (panic) while processing this file",
                        ))
                    })
                    .map(|_| t.elapsed());
            let o = FileOutcome {
                path: p.clone(),
                result,
            };
            on_done(&o);
            o
        })
        .collect();
    BatchReport {
        outcomes,
        wall: t0.elapsed(),
    }
}
