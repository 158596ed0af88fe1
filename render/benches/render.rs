//! Page rendering speed: one clean 200-dpi 3x4+rhythm page, one with the
//! "distorted" preset's effects, and one photographed ("photo" preset).

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
    // A 200-dpi page photographed (preset settings), and the photo step
    // alone (warp, desk, light) on the flat page.
    let (mut pspec, pd) =
        ecgdig_render::preset::draw(ecgdig_render::preset::Preset::Photo, "b", 1, None);
    pspec.dpi = 200.0;
    g.bench_function("photo_200dpi", |b| {
        b.iter(|| render_page(black_box(&rec), &pspec, &pd, 1))
    });
    let flat = render_page(&rec, &spec, &Distortions::default(), 1).expect("flat page");
    let photo = pd.photo.clone().expect("photo settings");
    g.bench_function("photo_warp_200dpi", |b| {
        b.iter(|| {
            ecgdig_render::page::photo::apply(black_box(&flat.image), &flat.lead_mask, &photo, 1)
        })
    });
    g.bench_function("synthesize_10s_500hz", |b| {
        b.iter(|| synthesize(black_box(&SynthParams::default()), 1))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
