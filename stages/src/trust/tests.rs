//! Tests of the trust phase on literal masks, paths and signals.

use super::confidence::{LeadConfidenceConfig, LowConfidence};
use super::evidence::{beat_sync, page_evidence, panel_evidence, PageParts};
use ecgdig_core::prelude::*;
use image::{GrayImage, Luma};

fn panel(lead: Lead, y0: f32, y1: f32, x0: f32, x1: f32) -> Panel {
    Panel {
        lead,
        row: 0,
        col: 0,
        bbox: Rect { x0, y0, x1, y1 },
        baseline_y: 0.5 * (y0 + y1),
        x_start: x0,
        x_end: x1,
        t_start: 0.0,
        t_end: 2.5,
        rhythm: false,
        label_score: None,
        inverted: false,
    }
}

/// A mask with a wavy line of ink through rows around `y(x)`.
fn mask_with_line(w: u32, h: u32, y: impl Fn(f32) -> f32) -> GrayImage {
    let mut m = GrayImage::new(w, h);
    for x in 0..w {
        let yc = y(x as f32).round() as i64;
        for yy in yc - 1..=yc + 1 {
            if (0..h as i64).contains(&yy) {
                m.put_pixel(x, yy as u32, Luma([255]));
            }
        }
    }
    m
}

fn path(x0: u32, x1: u32, y: impl Fn(f32) -> f32) -> Vec<[f32; 2]> {
    (x0..=x1).map(|x| [x as f32, y(x as f32)]).collect()
}

#[test]
fn a_path_on_the_ink_explains_it_and_one_beside_it_does_not() {
    let wave = |x: f32| 50.0 + 8.0 * (x / 9.0).sin();
    let mask = mask_with_line(200, 100, wave);
    let p = panel(Lead::I, 20.0, 80.0, 0.0, 199.0);
    let on = Trace {
        panel: 0,
        lead: Lead::I,
        points: path(0, 199, wave),
        confidence: 1.0,
    };
    let good = panel_evidence(&p, Some(&on), Some(&mask), 8.0);
    assert!(good.on_ink > 0.95 && good.ink_explained > 0.95, "{good:?}");
    assert!(
        good.gaps < 0.01 && good.baseline_offset_mm < 1.0,
        "{good:?}"
    );
    // the tracer followed a flat line 15 px (about 2 mm) below the wave
    let off = Trace {
        points: path(0, 199, |_| 65.0),
        ..on.clone()
    };
    let bad = panel_evidence(&p, Some(&off), Some(&mask), 8.0);
    assert!(bad.on_ink < 0.3 && bad.ink_explained < 0.3, "{bad:?}");
    // half the panel untraced
    let half = Trace {
        points: path(0, 99, wave),
        ..on
    };
    let part = panel_evidence(&p, Some(&half), Some(&mask), 8.0);
    assert!((part.gaps - 0.5).abs() < 0.02, "{part:?}");
}

#[test]
fn a_path_pinned_to_the_panel_edge_is_seen() {
    let p = panel(Lead::I, 20.0, 80.0, 0.0, 99.0);
    let t = Trace {
        panel: 0,
        lead: Lead::I,
        points: path(0, 99, |_| 79.5),
        confidence: 1.0,
    };
    let e = panel_evidence(&p, Some(&t), None, 8.0);
    assert!(e.at_edge > 0.99, "{e:?}");
    assert!((e.baseline_offset_mm - 29.5 / 8.0).abs() < 0.1, "{e:?}");
}

/// A beat train: narrow spikes every `period` samples from `phase`.
fn beats(n: usize, period: usize, phase: usize, gain: f32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let d = (i + period - phase % period) % period;
            let d = d.min(period - d) as f32;
            gain * (-d * d / 8.0).exp()
        })
        .collect()
}

fn signals_of(leads: &[(Lead, Vec<f32>)]) -> Signals {
    let mut s = Signals::empty(100.0, 1000);
    for (l, v) in leads {
        s.set(
            *l,
            LeadSignal {
                start: 0,
                samples: v.clone(),
                confidence: 1.0,
            },
        );
    }
    s
}

#[test]
fn leads_that_share_beats_are_in_sync_and_noise_is_not() {
    let noise: Vec<f32> = (0..1000u32)
        .map(|i| ((i.wrapping_mul(2_654_435_761) >> 16) % 1000) as f32 / 1000.0)
        .collect();
    let s = signals_of(&[
        (Lead::I, beats(1000, 80, 10, 1.0)),
        (Lead::II, beats(1000, 80, 10, 1.5)),
        (Lead::III, beats(1000, 80, 10, -0.5)),
        (Lead::V1, noise),
    ]);
    let sync = beat_sync(&s);
    for l in [Lead::I, Lead::II, Lead::III] {
        assert!(sync[l.index()].unwrap() > 0.8, "{l}: {sync:?}");
    }
    assert!(sync[Lead::V1.index()].unwrap() < 0.3, "{sync:?}");
    assert_eq!(sync[Lead::V2.index()], None);
}

/// A one-row page: four leads side by side, each traced exactly on its ink,
/// except the leads in `wrong`, traced along a flat line off the ink.
fn one_row_page(wrong: &[Lead]) -> (Layout, Traces, GridInfo, GrayImage, Signals) {
    let leads = [Lead::I, Lead::II, Lead::III, Lead::V1];
    let (w, h) = (800u32, 100u32);
    let period = 60.0;
    let wave = |x: f32| {
        let d = (x % period).min(period - x % period);
        50.0 - 25.0 * (-d * d / 6.0).exp()
    };
    let mask = mask_with_line(w, h, wave);
    let mut panels = Vec::new();
    let mut traces = Vec::new();
    let mut s = Signals::empty(100.0, 800);
    for (i, &lead) in leads.iter().enumerate() {
        let (x0, x1) = (i as u32 * 200, i as u32 * 200 + 199);
        let mut p = panel(lead, 10.0, 90.0, x0 as f32, x1 as f32);
        p.col = i;
        panels.push(p);
        let y: &dyn Fn(f32) -> f32 = if wrong.contains(&lead) {
            &|_| 80.0
        } else {
            &wave
        };
        traces.push(Trace {
            panel: i,
            lead,
            points: path(x0, x1, y),
            confidence: 1.0,
        });
        // every lead covers the whole page timeline, so all are simultaneous
        let samples: Vec<f32> = (0..800).map(|k| (50.0 - y(k as f32)) / 10.0).collect();
        s.set(
            lead,
            LeadSignal {
                start: 0,
                samples,
                confidence: 1.0,
            },
        );
    }
    let layout = Layout {
        kind: LayoutKind::ThreeByFour,
        page_seconds: 8.0,
        row_baselines: vec![50.0],
        template: None,
        panels,
    };
    let mut grid = GridInfo::from_dpi(25.4, ScaleSource::Grid);
    grid.confidence = 1.0;
    (layout, Traces { traces }, grid, mask, s)
}

fn stage(cfg: LeadConfidenceConfig) -> Box<dyn Stage> {
    cfg.build(&BuildContext { config_dir: None }).unwrap()
}

fn run(
    cfg: LeadConfidenceConfig,
    page: &(Layout, Traces, GridInfo, GrayImage, Signals),
) -> Result<Signals> {
    let (layout, traces, grid, mask, s) = page.clone();
    let inputs = StageInputs::new()
        .with("signals", s)
        .with("traces", traces)
        .with("layout", layout)
        .with("grid", grid)
        .with("mask", TraceMask::new(mask));
    let ctx = RunContext::new(
        InputSource::Path("page.png".into()),
        "page",
        std::sync::Arc::new(RunOptions::default()),
    );
    let out = stage(cfg).run(&inputs, &ctx)?;
    match out.get("") {
        Some(Artifact::Signals(s)) => Ok((**s).clone()),
        other => panic!("unexpected output {other:?}"),
    }
}

#[test]
fn a_lead_traced_off_its_ink_is_doubted_and_the_page_is_checked() {
    let good = run(LeadConfidenceConfig::default(), &one_row_page(&[])).unwrap();
    let a = good.assessment.as_ref().unwrap();
    assert_eq!(a.verdict, Verdict::Ok, "{a:?}");
    let page = one_row_page(&[Lead::V1]);
    let judged = run(LeadConfidenceConfig::default(), &page).unwrap();
    let conf = |l: Lead| judged.lead(l).unwrap().confidence;
    assert!(conf(Lead::V1) < 0.5, "V1 {}", conf(Lead::V1));
    for l in [Lead::I, Lead::II, Lead::III] {
        assert!(conf(l) > conf(Lead::V1) + 0.3, "{l} {} vs V1", conf(l));
    }
    let a = judged.assessment.as_ref().unwrap();
    assert_eq!(a.verdict, Verdict::Check, "{a:?}");
    assert!(a.reasons[0].contains("V1"), "{a:?}");
    assert!(a.evidence[Lead::V1.index()].is_some());
    assert!(a.evidence[Lead::V2.index()].is_none());
}

#[test]
fn a_page_of_wrong_leads_fails_and_blank_writes_them_as_unknown() {
    let page = one_row_page(&[Lead::I, Lead::II, Lead::III, Lead::V1]);
    let cfg = LeadConfidenceConfig {
        not_ecg_below: 0.0,
        ..Default::default()
    };
    let judged = run(cfg.clone(), &page).unwrap();
    assert_eq!(judged.assessment.unwrap().verdict, Verdict::Failed);
    let blanked = run(
        LeadConfidenceConfig {
            low_confidence: LowConfidence::Blank,
            blank_below: 0.5,
            ..cfg
        },
        &page,
    )
    .unwrap();
    let v1 = blanked.lead(Lead::V1).unwrap();
    assert!(v1.samples.iter().all(|v| v.is_nan()));
}

#[test]
fn a_page_with_no_ink_on_its_paths_and_no_shared_beats_is_not_an_ecg() {
    let (layout, traces, _, _, s) = one_row_page(&[]);
    // no grid found: the scale is assumed
    let grid = GridInfo::from_dpi(25.4, ScaleSource::Assumed);
    // scribbles: each lead its own unrelated curve, none on the (empty) mask
    let mut s2 = s.clone();
    for (k, lead) in [Lead::I, Lead::II, Lead::III, Lead::V1]
        .into_iter()
        .enumerate()
    {
        let v: Vec<f32> = (0..800u32)
            .map(|i| {
                let h = (i.wrapping_add(k as u32 * 977)).wrapping_mul(2_654_435_761) >> 20;
                (h % 100) as f32 / 100.0
            })
            .collect();
        s2.lead_mut(lead).unwrap().samples = v;
    }
    let empty = GrayImage::new(800, 100);
    let err = run(
        LeadConfidenceConfig::default(),
        &(layout, traces, grid, empty, s2),
    )
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::NotEcg, "{err}");
}

#[test]
fn every_lead_on_the_page_gets_evidence() {
    let (layout, traces, grid, mask, s) = one_row_page(&[]);
    let ev = page_evidence(&PageParts {
        layout: &layout,
        traces: &traces,
        grid: &grid,
        mask: Some(&mask),
        signals: &s,
        raw: None,
    });
    assert_eq!(ev.iter().flatten().count(), 4);
    let e = ev[Lead::II.index()].unwrap();
    assert_eq!(e.get("is_limb"), Some(1.0));
    assert_eq!(e.get("scale_measured"), Some(1.0));
    assert!(e.get("beat_sync").unwrap() > 0.8, "{e:?}");
}

#[test]
fn thresholds_outside_zero_to_one_are_refused() {
    let err = LeadConfidenceConfig {
        check_below: 1.5,
        ..Default::default()
    }
    .build(&BuildContext { config_dir: None })
    .err()
    .unwrap();
    assert!(err.to_string().contains("check_below"), "{err}");
}

#[test]
fn a_page_traced_on_no_clear_ink_without_a_grid_is_not_an_ecg_even_in_step() {
    // the leads share their beats (as noise traced through a shared
    // smoothing may), but the tracer found clear ink on a tenth of columns
    let (layout, mut traces, _, _, s) = one_row_page(&[]);
    for t in &mut traces.traces {
        t.confidence = 0.1;
    }
    let grid = GridInfo::from_dpi(25.4, ScaleSource::Assumed);
    let empty = GrayImage::new(800, 100);
    let page = (layout, traces, grid, empty, s);
    let err = run(LeadConfidenceConfig::default(), &page).unwrap_err();
    assert_eq!(err.class, ErrorClass::NotEcg, "{err}");
    assert!(err.message.contains("traced on clear ink 10 %"), "{err}");
    // with the traced-share criterion off, the same page is only failed
    let lenient = LeadConfidenceConfig {
        not_ecg_traced: 0.0,
        ..Default::default()
    };
    let judged = run(lenient, &page).unwrap();
    assert_eq!(judged.assessment.unwrap().verdict, Verdict::Failed);
}
