//! Every config shipped in `configs/` loads and type-checks, and the stage
//! registry holds the stages the default pipeline needs.

use std::path::{Path, PathBuf};

fn configs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../configs")
}

/// The pipeline configs under `dir` (`configs/layouts/` holds layout
/// templates, not pipelines).
fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("configs/ exists").flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "layouts") {
                continue;
            }
            toml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

#[test]
fn registry_holds_the_default_pipeline_stages() {
    ecgdig_stages::link();
    let names = ecgdig_core::registry::names();
    for expected in [
        "load_image",
        "deskew",
        "grid_scale",
        "classical_segment",
        "layout_detect",
        "calibration_pulse",
        "trace_viterbi",
        "to_signals",
        "einthoven",
        "write_page_csv",
        "write_overlay",
    ] {
        assert!(
            names.contains(&expected),
            "stage `{expected}` is not registered; registry: {names:?}"
        );
    }
}

#[test]
fn every_shipped_config_passes_check() {
    let mut files = Vec::new();
    toml_files(&configs_dir(), &mut files);
    files.sort();
    assert!(!files.is_empty());
    let mut failures = Vec::new();
    for f in &files {
        if let Err(e) = ecgdig::load_config(Some(f), &[]) {
            failures.push(format!("{}:\n{e}", f.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_embedded_default_is_the_shipped_default() {
    let on_disk =
        std::fs::read_to_string(configs_dir().join("default.toml")).expect("default.toml");
    assert_eq!(on_disk, ecgdig::configs::DEFAULT);
    let cfg = ecgdig::load_config(None, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.compiled.name, "default");
}

#[test]
fn every_shipped_layout_library_parses() {
    let dir = configs_dir().join("layouts");
    let mut n = 0;
    for e in std::fs::read_dir(&dir)
        .expect("configs/layouts exists")
        .flatten()
    {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "toml") {
            let templates = ecgdig_stages::layout::templates::load_file(&p)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            assert!(!templates.is_empty(), "{}", p.display());
            n += 1;
        }
    }
    assert!(n >= 1, "no layout library in {}", dir.display());
}
