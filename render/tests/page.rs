//! End-to-end checks of the page renderer: determinism, the annotated pixel
//! path against the drawn ink and the lead mask, JSON round trips, layouts.

use ecgdig_core::leads::Lead;
use ecgdig_render::page::distort::{BwMode, Distortions};
use ecgdig_render::page::{GridStyle, Layout, PageSpec, RHYTHM_LABEL};
use ecgdig_render::truth::LeadTruth;
use ecgdig_render::{render_page, synthesize, PageTruth, SynthParams};

fn record() -> ecgdig_core::record::Record {
    synthesize(&SynthParams::default(), 11)
}

/// A smooth record (no white noise) for sub-pixel geometry checks.
fn smooth_record() -> ecgdig_core::record::Record {
    let p = SynthParams {
        noise_mv: 0.0,
        ..SynthParams::default()
    };
    synthesize(&p, 11)
}

/// A page with nothing but the traces, drawn in black.
fn bare_spec(width_mm: f32) -> PageSpec {
    PageSpec {
        grid_style: GridStyle::None,
        trace_color: [0, 0, 0],
        trace_width_mm: width_mm,
        calibration_pulse: false,
        separators: false,
        lead_labels: false,
        speed_gain_note: false,
        ..PageSpec::default()
    }
}

fn label_of(lt: &LeadTruth) -> u8 {
    if lt.rhythm {
        RHYTHM_LABEL
    } else {
        lt.lead_name.index() as u8 + 1
    }
}

#[test]
fn same_seed_same_page_and_seed_changes_distortions() {
    let rec = record();
    let d = Distortions {
        rotation_degrees: Some(2.0),
        perspective: Some(0.02),
        noise_sigma: Some(6.0),
        creases: Some(3),
        wrinkles: Some(0.5),
        shadows: Some(0.5),
        ..Distortions::default()
    };
    let spec = PageSpec {
        dpi: 100.0,
        ..PageSpec::default()
    };
    let a = render_page(&rec, &spec, &d, 5).unwrap();
    let b = render_page(&rec, &spec, &d, 5).unwrap();
    assert_eq!(a.image, b.image);
    assert_eq!(a.lead_mask, b.lead_mask);
    assert_eq!(a.truth, b.truth);
    let c = render_page(&rec, &spec, &d, 6).unwrap();
    assert_ne!(a.image, c.image);
    assert_ne!(
        a.truth.leads[0].plotted_pixels,
        c.truth.leads[0].plotted_pixels
    );
}

/// For every flat stretch of every trace, the ink-weighted centroid of the
/// image column lies within 0.5 px of the annotated path at that column.
#[test]
fn annotated_path_matches_drawn_ink_within_half_a_pixel() {
    let rec = smooth_record();
    let spec = bare_spec(0.15); // ~1.2 px at 200 dpi
    let page = render_page(&rec, &spec, &Distortions::default(), 0).unwrap();
    let img = &page.image;
    let (w, h) = (img.width() as i64, img.height() as i64);
    let mut checked = 0usize;
    let mut worst = 0f64;
    for lt in &page.truth.leads {
        let pp = &lt.plotted_pixels;
        assert_eq!(pp.len(), lt.end_sample - lt.start_sample);
        for i in 8..pp.len() - 8 {
            // Flat neighbourhood: the path stays within 1.5 px vertically over +-8 samples.
            let ys: Vec<f64> = pp[i - 8..=i + 8].iter().map(|p| p[0]).collect();
            let (lo, hi) = ys
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), y| (a.min(*y), b.max(*y)));
            if hi - lo > 1.5 {
                continue;
            }
            let (row, col) = (pp[i][0], pp[i][1]);
            let c = col.round();
            // Annotated path at x = c: linear interpolation between the samples around it.
            let j = if c >= col { i } else { i - 1 };
            let (a, b) = (pp[j], pp[j + 1]);
            let t = (c - a[1]) / (b[1] - a[1]);
            let y_path = a[0] + t * (b[0] - a[0]);
            let (mut m, mut s) = (0.0, 0.0);
            for r in (row.round() as i64 - 4)..=(row.round() as i64 + 4) {
                if r < 0 || r >= h || c < 0.0 || c as i64 >= w {
                    continue;
                }
                let px = img.get_pixel(c as u32, r as u32).0;
                let ink = 1.0 - px[0] as f64 / 255.0;
                m += ink;
                s += ink * r as f64;
            }
            assert!(m > 0.5, "{}: no ink at ({row}, {col})", lt.lead_name);
            let err = (s / m - y_path).abs();
            worst = worst.max(err);
            assert!(
                err < 0.5,
                "{} sample {i}: ink centroid {} vs path {y_path}",
                lt.lead_name,
                s / m
            );
            checked += 1;
        }
    }
    assert!(checked > 5000, "only {checked} points checked");
    eprintln!("checked {checked} points, worst centroid error {worst:.3} px");
}

/// After rotation and perspective, the annotated pixels land on their own
/// lead's mask label, and every labelled mask pixel is near its lead's path.
#[test]
fn annotated_path_matches_lead_mask_after_geometric_distortion() {
    let rec = record();
    let spec = PageSpec {
        lead_labels: false,
        ..bare_spec(0.35)
    };
    for (rot, persp) in [(4.0, None), (-7.5, Some(0.03))] {
        let d = Distortions {
            rotation_degrees: Some(rot),
            perspective: persp,
            ..Distortions::default()
        };
        let page = render_page(&rec, &spec, &d, 3).unwrap();
        let mask = &page.lead_mask;
        let (w, h) = mask.dimensions();
        let mut hits = 0usize;
        let mut total = 0usize;
        // Bucketed path points per label for the reverse check.
        let cell = 4.0;
        let mut buckets: std::collections::HashMap<(u8, i64, i64), Vec<(f64, f64)>> =
            Default::default();
        for lt in &page.truth.leads {
            let label = label_of(lt);
            let pp = &lt.plotted_pixels;
            for (k, p) in pp.iter().enumerate() {
                let (r, c) = (p[0], p[1]);
                // The path between samples, densified to 0.2 px steps.
                let next = pp.get(k + 1).copied().unwrap_or(*p);
                let steps = (((next[0] - r).powi(2) + (next[1] - c).powi(2)).sqrt() / 0.2)
                    .ceil()
                    .max(1.0) as usize;
                for s in 0..steps {
                    let t = s as f64 / steps as f64;
                    let (x, y) = (c + t * (next[1] - c), r + t * (next[0] - r));
                    buckets
                        .entry((label, (x / cell).floor() as i64, (y / cell).floor() as i64))
                        .or_default()
                        .push((x, y));
                }
                if k < 3 || k + 3 >= pp.len() {
                    continue;
                }
                let (x, y) = (c.round(), r.round());
                if x < 0.0 || y < 0.0 || x >= w as f64 || y >= h as f64 {
                    continue;
                }
                total += 1;
                if mask.get_pixel(x as u32, y as u32).0[0] == label {
                    hits += 1;
                }
            }
        }
        assert!(
            hits as f64 >= 0.99 * total as f64,
            "rotation {rot}: {hits}/{total} annotated pixels on their lead's mask"
        );
        // Reverse: every labelled pixel lies within half the width + 1 px of its path.
        let reach = page.truth.trace_width_px / 2.0 + 1.0;
        for (x, y, p) in mask.enumerate_pixels() {
            let label = p.0[0];
            if label == 0 {
                continue;
            }
            let (xf, yf) = (x as f64, y as f64);
            let (cx, cy) = ((xf / cell).floor() as i64, (yf / cell).floor() as i64);
            let mut best = f64::MAX;
            for dx in -1..=1 {
                for dy in -1..=1 {
                    if let Some(v) = buckets.get(&(label, cx + dx, cy + dy)) {
                        for (px, py) in v {
                            best = best.min(((px - xf).powi(2) + (py - yf).powi(2)).sqrt());
                        }
                    }
                }
            }
            assert!(
                best <= reach,
                "mask pixel ({x},{y}) label {label} is {best} px from its path"
            );
        }
    }
}

#[test]
fn truth_json_round_trips_and_has_the_ecg_image_kit_fields() {
    let rec = record();
    let d = Distortions {
        rotation_degrees: Some(-3.0),
        tint: Some([1.0, 0.8, 0.6]),
        bw: Some(BwMode::Grey),
        ..Distortions::default()
    };
    let spec = PageSpec {
        dpi: 100.0,
        header: Some("ID: test".into()),
        ..PageSpec::default()
    };
    let page = render_page(&rec, &spec, &d, 9).unwrap();
    let text = page.truth.to_json();
    let back = PageTruth::from_json(&text).unwrap();
    assert_eq!(back, page.truth);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in [
        "sampling_frequency",
        "width",
        "height",
        "resolution",
        "x_grid",
        "y_grid",
        "rotate",
        "layout",
        "px_per_mm",
        "paper_speed_mm_per_s",
        "gain_mm_per_mv",
        "rotation_degrees",
        "distortions",
        "seed",
        "leads",
    ] {
        assert!(v.get(key).is_some(), "missing `{key}`");
    }
    assert_eq!(v["rotate"], 3.0);
    assert_eq!(v["layout"], "3x4r");
    let l0 = &v["leads"][0];
    assert_eq!(l0["lead_name"], "I");
    assert!(l0["lead_bounding_box"]["3"].is_array());
    assert!(l0["text_bounding_box"]["0"].is_array());
    assert_eq!(l0["plotted_pixels"][0].as_array().unwrap().len(), 2);
    assert!((v["x_grid"].as_f64().unwrap() - 19.69).abs() < 1e-9);
}

#[test]
fn layouts_place_every_lead_and_label_the_mask() {
    let rec = record();
    for (layout, n, rhythm) in [
        (Layout::ThreeByFourRhythm, 13, true),
        (Layout::ThreeByFour, 12, false),
        (Layout::SixByTwo, 12, false),
        (Layout::TwelveByOne, 12, false),
    ] {
        let spec = PageSpec {
            layout,
            dpi: 100.0,
            ..PageSpec::default()
        };
        let page = render_page(&rec, &spec, &Distortions::default(), 0).unwrap();
        assert_eq!(page.truth.leads.len(), n, "{layout:?}");
        let labels = ecgdig_render::page::distort::labels_present(&page.lead_mask);
        let mut want: Vec<u8> = (1..=12).collect();
        if rhythm {
            want.push(RHYTHM_LABEL);
        }
        assert_eq!(labels, want, "{layout:?}");
        let fs = rec.fs as usize;
        for lt in &page.truth.leads {
            let len = lt.end_sample - lt.start_sample;
            let expect = match (layout, lt.rhythm) {
                (_, true) | (Layout::TwelveByOne, _) => 10 * fs,
                (Layout::SixByTwo, _) => 5 * fs,
                _ => 5 * fs / 2,
            };
            assert_eq!(len, expect, "{layout:?} {}", lt.lead_name);
        }
    }
}

#[test]
fn nan_samples_are_not_plotted_and_geometry_follows_the_formula() {
    let mut rec = record();
    if let Some(Some(v)) = rec.leads.get_mut(Lead::I.index()) {
        for s in &mut v[100..200] {
            *s = f32::NAN;
        }
    }
    let spec = PageSpec {
        start_sample: 0,
        ..PageSpec::default()
    };
    let page = render_page(&rec, &spec, &Distortions::default(), 0).unwrap();
    let i = page
        .truth
        .leads
        .iter()
        .find(|l| l.lead_name == Lead::I)
        .unwrap();
    assert_eq!(i.plotted_pixels.len(), 1250 - 100);
    // x of sample s = 15 mm + s / fs * 25 mm/s, in pixels.
    let ppmm = 200.0 / 25.4;
    let v4 = page
        .truth
        .leads
        .iter()
        .find(|l| l.lead_name == Lead::V4)
        .unwrap();
    let x = v4.plotted_pixels[10][1];
    let want = (15.0 + (3750.0 + 10.0) / 500.0 * 25.0) * ppmm;
    assert!((x - want).abs() <= 0.005, "{x} vs {want}");
    // y = baseline - v * 10 mm/mV; baselines equal across a row.
    let v = rec.lead(Lead::V4).unwrap()[3760] as f64;
    let base = v4.plotted_pixels[10][0] + v * 10.0 * ppmm;
    let v1 = page
        .truth
        .leads
        .iter()
        .find(|l| l.lead_name == Lead::V1)
        .unwrap();
    let base1 = v1.plotted_pixels[0][0] + rec.lead(Lead::V1).unwrap()[2500] as f64 * 10.0 * ppmm;
    assert!((base - base1).abs() < 0.02, "{base} vs {base1}");
}

#[test]
fn rejects_bad_specs_with_a_message() {
    let rec = record();
    let bad = PageSpec {
        dpi: 5.0,
        ..PageSpec::default()
    };
    let e = render_page(&rec, &bad, &Distortions::default(), 0).unwrap_err();
    assert!(e.message.contains("dpi"), "{e}");
    let past = PageSpec {
        start_sample: 10_000_000,
        ..PageSpec::default()
    };
    assert!(render_page(&rec, &past, &Distortions::default(), 0).is_err());
}
