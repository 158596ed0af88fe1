//! End-to-end seconds per page: decode, every stage of the default pipeline,
//! and the page CSV, on the shipped 200-dpi sample (2200x1700), one thread.
//!
//! `cargo bench -p ecgdig --bench end_to_end`

use criterion::{criterion_group, criterion_main, Criterion};
use ecgdig::{Digitizer, DigitizerOptions};
use ecgdig_core::prelude::RunOptions;
use std::path::PathBuf;

fn end_to_end(c: &mut Criterion) {
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples/synthetic-0.png");
    let out = std::env::temp_dir().join("ecgdig-bench-e2e");
    let _ = std::fs::create_dir_all(&out);
    let opts = DigitizerOptions {
        run: RunOptions {
            out_dir: Some(out),
            ..RunOptions::default()
        },
        ..Default::default()
    };
    let d = match Digitizer::new(&opts) {
        Ok(d) => d,
        Err(e) => panic!("default pipeline: {e}"),
    };
    let mut group = c.benchmark_group("end_to_end");
    group.sample_size(10);
    group.bench_function("default_pipeline_200dpi_page", |b| {
        b.iter(|| {
            d.digitize_path(&sample)
                .map(|r| r.signals.n_samples)
                .unwrap_or(0)
        })
    });
    group.finish();
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);
