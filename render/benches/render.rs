//! Page rendering speed: one clean 200-dpi 3x4+rhythm page, and one with
//! the "distorted" preset's effects.

use criterion::{criterion_group, criterion_main, Criterion};
use ecgdig_render::{render_page, synthesize, Distortions, PageSpec, SynthParams};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let rec = synthesize(&SynthParams::default(), 1);
    let spec = PageSpec::default();
    let mut g = c.benchmark_group("render");
    g.sample_size(10);
    g.bench_function("clean_200dpi", |b| {
        b.iter(|| render_page(black_box(&rec), &spec, &Distortions::default(), 1))
    });
    let d = Distortions {
        rotation_degrees: Some(3.0),
        perspective: Some(0.03),
        blur_sigma_px: Some(0.8),
        noise_sigma: Some(8.0),
        jpeg_quality: Some(90),
        shadows: Some(0.5),
        creases: Some(4),
        wrinkles: Some(0.5),
        ..Distortions::default()
    };
    g.bench_function("distorted_200dpi", |b| {
        b.iter(|| render_page(black_box(&rec), &spec, &d, 1))
    });
    g.bench_function("synthesize_10s_500hz", |b| {
        b.iter(|| synthesize(black_box(&SynthParams::default()), 1))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
