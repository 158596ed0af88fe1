//! Per-stage timings of the classical digitizer on a synthetic 200 dpi page
//! (2200 x 1700, red grid, 3x4 + rhythm layout with calibration pulses).
//! `cargo bench -p ecgdig-stages --bench classical`

use criterion::{criterion_group, criterion_main, Criterion};
use ecgdig_core::prelude::*;
use ecgdig_stages::geometry::{deskew, grid};
use ecgdig_stages::layout::{calibration, detect as layout};
use ecgdig_stages::segment::classical as segment;
use ecgdig_stages::signals::convert as signals;
use ecgdig_stages::trace::viterbi as trace;
use image::{Rgb, RgbImage};
use std::hint::black_box;

/// A 200 dpi page: 1 mm minor / 5 mm major red grid, four rows of a
/// synthetic ECG (flat line, T wave, QRS spike) after a 1 mV pulse.
fn synthetic_page() -> RgbImage {
    let ppmm = 200.0 / 25.4;
    let (w, h) = (2200u32, 1700u32);
    let mut img = RgbImage::from_pixel(w, h, Rgb([255, 250, 250]));
    for y in 0..h {
        for x in 0..w {
            let near =
                |v: u32, period: f32| (v as f32 / ppmm / period).fract() * period * ppmm < 1.0;
            if near(x, 5.0) || near(y, 5.0) {
                img.put_pixel(x, y, Rgb([240, 60, 60]));
            } else if near(x, 1.0) || near(y, 1.0) {
                img.put_pixel(x, y, Rgb([250, 215, 215]));
            }
        }
    }
    let ink = Rgb([40, 40, 40]);
    for row in 0..4 {
        let b = 700.0 + row as f32 * 280.0;
        let x0 = 80.0;
        for k in 0..(10.0 * ppmm) as i32 {
            for dx in 0..2 {
                img.put_pixel(x0 as u32 + dx, (b - k as f32) as u32, ink);
                img.put_pixel((x0 + 5.0 * ppmm) as u32 + dx, (b - k as f32) as u32, ink);
            }
        }
        for k in 0..(5.0 * ppmm) as u32 {
            img.put_pixel(x0 as u32 + k, (b - 10.0 * ppmm) as u32, ink);
        }
        let start = x0 + 5.0 * ppmm;
        let mut prev = b;
        for k in 0..(250.0 * ppmm) as i32 {
            let x = start + k as f32;
            let t = k as f32 / ppmm / 25.0;
            let phase = t % 0.8;
            let mut y = b;
            if (0.3..0.5).contains(&phase) {
                y -= 2.0 * ppmm * ((phase - 0.3) * std::f32::consts::PI / 0.2).sin();
            }
            if phase < 0.03 {
                y -= 12.0 * ppmm * (1.0 - (phase - 0.015).abs() / 0.015);
            }
            let (a, c) = if y < prev { (y, prev) } else { (prev, y) };
            let mut yy = a - 1.0;
            while yy <= c + 1.0 {
                if (x as u32) < w && (yy as u32) < h {
                    img.put_pixel(x as u32, yy as u32, ink);
                }
                yy += 1.0;
            }
            prev = y;
        }
    }
    img
}

fn bench(c: &mut Criterion) {
    let page = PageImage::new(synthetic_page());
    let g = grid::GridScaleConfig::default().measure(&page);
    let seg = segment::ClassicalSegmentConfig::default();
    let mask = seg.segment(&page, &g);
    let lay = layout::LayoutDetectConfig::default();
    let l = lay
        .detect(&mask, &g, 10.0)
        .expect("synthetic page has rows");
    let tr = trace::TraceViterbiConfig::default();
    let traces = tr.trace_all(&mask, &l, &g);
    c.bench_function("deskew_estimate_angle", |b| {
        b.iter(|| deskew::estimate_angle(black_box(&page.rgb), 10.0, 1400))
    });
    c.bench_function("deskew_rotate_3deg", |b| {
        b.iter(|| ecgdig_stages::imaging::rotate_rgb(black_box(&page.rgb), 3.0, [255, 255, 255]))
    });
    c.bench_function("grid_scale", |b| {
        b.iter(|| grid::GridScaleConfig::default().measure(black_box(&page)))
    });
    c.bench_function("classical_segment", |b| {
        b.iter(|| seg.segment(black_box(&page), &g))
    });
    c.bench_function("layout_detect", |b| {
        b.iter(|| lay.detect(black_box(&mask), &g, 10.0))
    });
    c.bench_function("calibration_pulse", |b| {
        b.iter(|| calibration::pulse_heights(black_box(&mask), &l, &g, 128))
    });
    // as in the default pipeline: sub-pixel evidence from the page image
    c.bench_function("trace_viterbi", |b| {
        b.iter(|| tr.trace_all_with_image(black_box(&mask), Some(&page.rgb), &l, &g))
    });
    c.bench_function("trace_viterbi_mask_only", |b| {
        b.iter(|| tr.trace_all(black_box(&mask), &l, &g))
    });
    c.bench_function("to_signals", |b| {
        b.iter(|| {
            signals::ToSignalsConfig::default().convert(black_box(&traces), &l, &g, 500.0, 10.0)
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
