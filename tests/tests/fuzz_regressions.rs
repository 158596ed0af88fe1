//! Inputs that the fuzz targets in `fuzz/` once crashed on (or that exercise
//! the same paths), kept as regression tests: every file in
//! `fuzz/regressions/decode_pipeline/` must go through decoding and the default
//! pipeline without a panic, and every file in `fuzz/regressions/config_load/`
//! through the config loader.

use ecgdig_core::prelude::*;
use ecgdig_stages::input::load::{decode, LoadImageConfig};
use ecgdig_stages::input::{DecodeLimits, Document};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn files(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(kind);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.is_file() && p.extension().is_none_or(|e| e != "md"));
    v.sort();
    v
}

#[test]
fn decode_pipeline_regressions_do_not_panic() {
    ecgdig_stages::link();
    let d = ecgdig::Digitizer::new(&ecgdig::DigitizerOptions::default()).unwrap();
    let cfg = LoadImageConfig {
        max_pixels: 4_000_000,
        pdf_dpi: 50.0,
        ..LoadImageConfig::default()
    };
    let limits = DecodeLimits {
        max_pages: 3,
        ..cfg.limits()
    };
    let inputs = files("decode_pipeline");
    for path in &inputs {
        let data = std::fs::read(path).unwrap();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut pages = Vec::new();
            match Document::open(&data, &limits) {
                Ok(Document::Single) | Err(_) => pages.extend(decode(&data, &cfg).ok()),
                Ok(doc) => {
                    for k in 0..doc.pages() {
                        pages.extend(doc.page(k, &limits).ok());
                    }
                }
            }
            for p in pages {
                let _ = d.digitize(InputSource::Image(Arc::new(p)), "fuzz");
            }
        }));
        assert!(r.is_ok(), "panic on {}", path.display());
    }
    eprintln!("{} decode_pipeline regression inputs", inputs.len());
}

#[test]
fn config_load_regressions_do_not_panic() {
    ecgdig_stages::link();
    let options = ecgdig_core::config::LoadOptions {
        overrides: Vec::new(),
        builtins: ecgdig::configs::builtins(),
    };
    let inputs = files("config_load");
    for path in &inputs {
        let bytes = std::fs::read(path).unwrap();
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if let Ok(l) = ecgdig_core::config::load_str("fuzz.toml", text, &options) {
                let _ = ecgdig_core::pipeline::Pipeline::build(l);
            }
        }));
        assert!(r.is_ok(), "panic on {}", path.display());
    }
    eprintln!("{} config_load regression inputs", inputs.len());
}
