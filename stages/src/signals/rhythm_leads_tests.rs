use super::*;
use crate::signals::test_pages;

/// 4 px/mm: 100 px per second, 40 px per mV.
fn grid() -> GridInfo {
    GridInfo::from_dpi(101.6, ScaleSource::Grid)
}

/// A distinct curve per lead, mV at `t` seconds.
fn mv(lead: Lead, t: f32) -> f32 {
    let k = lead.index() as f32;
    0.6 * (std::f32::consts::TAU * (1.1 + 0.17 * k) * t + k).sin()
        + 0.3 * (std::f32::consts::TAU * (5.3 + 0.41 * k) * t + 0.7 * k).sin()
}

/// A 3x4 page plus one rhythm strip named `strip_name` that shows the
/// samples of `strip_lead`, its tracing offset by `noise` px in a
/// pseudo-random pattern.
fn page(strip_name: Lead, strip_lead: Lead, noise: f32) -> (Layout, Traces) {
    use Lead::*;
    let rows = [[I, AVR, V1, V4], [II, AVL, V2, V5], [III, AVF, V3, V6]];
    let (x0, pps, ppmv) = (20.0f32, 100.0f32, 40.0f32);
    let mut panels = Vec::new();
    let mut traces = Vec::new();
    let mut add =
        |lead: Lead, shown: Lead, row: usize, col: usize, t0: f32, t1: f32, noise: f32| {
            let base = 100.0 + 150.0 * row as f32;
            let (xs, xe) = (x0 + t0 * pps, x0 + t1 * pps);
            panels.push(test_pages::panel(
                lead,
                (row, col),
                base,
                (xs, xe),
                (t0, t1),
                t1 - t0 > 5.0,
            ));
            traces.push(test_pages::traced(panels.len() - 1, lead, (xs, xe), |x| {
                let t = t0 + (x as f32 - xs) / pps;
                let wobble = noise * ((x * 7919 % 13) as f32 / 6.0 - 1.0);
                // each row drawn at its own level
                base - 0.1 * ppmv * row as f32 - ppmv * mv(shown, t) + wobble
            }));
        };
    for (r, leads) in rows.iter().enumerate() {
        for (c, &l) in leads.iter().enumerate() {
            add(l, l, r, c, 2.5 * c as f32, 2.5 * (c + 1) as f32, 0.5);
        }
    }
    add(strip_name, strip_lead, 3, 0, 0.0, 10.0, noise);
    let layout = Layout {
        kind: LayoutKind::ThreeByFourRhythm,
        page_seconds: 10.0,
        row_baselines: vec![100.0, 250.0, 400.0, 550.0],
        template: None,
        panels,
    };
    (layout, Traces { traces })
}

#[test]
fn a_strip_of_v1_named_ii_by_the_layout_is_renamed_v1() {
    for shown in [Lead::V1, Lead::V5, Lead::I, Lead::AVF] {
        let (layout, traces) = page(Lead::II, shown, 0.5);
        let renames = RhythmLeadsConfig::default().renames(&layout, &traces, &grid());
        assert_eq!(renames, vec![(12, shown)], "strip of {shown:?}");
    }
}

#[test]
fn a_strip_that_is_what_it_is_named_keeps_its_name() {
    let (layout, traces) = page(Lead::II, Lead::II, 0.5);
    assert!(RhythmLeadsConfig::default()
        .renames(&layout, &traces, &grid())
        .is_empty());
}

#[test]
fn a_strip_traced_too_poorly_to_tell_keeps_its_name() {
    // up to 40 px of tracing error (1 mV) buries every match
    let (layout, traces) = page(Lead::II, Lead::V1, 40.0);
    assert!(RhythmLeadsConfig::default()
        .renames(&layout, &traces, &grid())
        .is_empty());
}

#[test]
fn the_stage_renames_the_panel_and_its_trace() {
    let (layout, traces) = page(Lead::II, Lead::V5, 0.5);
    let inputs = StageInputs::new()
        .with("layout", layout)
        .with("traces", traces)
        .with("grid", grid());
    let ctx = RunContext::new(
        InputSource::Path("page.png".into()),
        "page",
        std::sync::Arc::new(RunOptions::default()),
    );
    let out = RhythmLeadsConfig::default().run(&inputs, &ctx).unwrap();
    let Some(Artifact::Layout(l)) = out.get("layout") else {
        panic!("no layout output");
    };
    let Some(Artifact::Traces(t)) = out.get("traces") else {
        panic!("no traces output");
    };
    assert_eq!(l.panels[12].lead, Lead::V5);
    assert_eq!(t.traces[12].lead, Lead::V5);
    assert_eq!(l.panels[1].lead, Lead::AVR);
}

#[test]
fn match_error_is_small_for_the_same_curve_and_large_for_another() {
    let a: Vec<f32> = (0..500).map(|n| mv(Lead::V2, n as f32 / 250.0)).collect();
    let b: Vec<f32> = (0..500).map(|n| mv(Lead::V3, n as f32 / 250.0)).collect();
    // the same curve two samples late and 0.3 mV higher
    let late: Vec<f32> = (0..500)
        .map(|n| 0.3 + mv(Lead::V2, (n as f32 - 2.0) / 250.0))
        .collect();
    assert!(match_error(&late, &a, 5).unwrap() < 1e-3);
    assert!(match_error(&b, &a, 5).unwrap() > 0.5);
    // a flat line matches nothing
    assert!(match_error(&vec![0.1; 500], &a, 5).is_none());
}

#[test]
fn a_strip_misnamed_i_takes_its_best_match_even_beside_a_near_twin() {
    // the strip shows II, its label was misread as I; aVF's short panel is
    // drawn as a near copy of II, so II is not clearly the best match, yet
    // I is refuted
    let (mut layout, mut traces) = page(Lead::I, Lead::II, 0.5);
    let avf = layout
        .panels
        .iter()
        .position(|p| p.lead == Lead::AVF)
        .expect("aVF");
    let ii = layout
        .panels
        .iter()
        .position(|p| p.lead == Lead::II)
        .expect("II");
    let (p_ii, p_avf) = (layout.panels[ii].clone(), layout.panels[avf].clone());
    // aVF's panel shows II's curve at its own time window
    traces.traces[avf].points = traces.traces[avf]
        .points
        .iter()
        .map(|&[x, _]| {
            let t = p_avf.t_start + (x - p_avf.x_start) / 100.0;
            [x, p_avf.baseline_y - 40.0 * 1.05 * mv(Lead::II, t)]
        })
        .collect();
    layout.panels[ii] = p_ii;
    let renames = RhythmLeadsConfig::default().renames(&layout, &traces, &grid());
    assert_eq!(renames.len(), 1, "{renames:?}");
    assert!(matches!(renames[0].1, Lead::II | Lead::AVF), "{renames:?}");
}

#[test]
fn a_strip_that_matches_its_name_closely_keeps_it_beside_a_closer_twin() {
    // the strip is II and matches II's short panel (traced with a pixel of
    // noise) closely; aVF's short panel is drawn as an exact copy of II's
    // curve in its window, so it matches closer still
    let (mut layout, mut traces) = page(Lead::II, Lead::II, 0.0);
    let ii = layout
        .panels
        .iter()
        .position(|p| p.lead == Lead::II)
        .expect("II");
    let avf = layout
        .panels
        .iter()
        .position(|p| p.lead == Lead::AVF)
        .expect("aVF");
    let p_avf = layout.panels[avf].clone();
    traces.traces[avf].points = traces.traces[avf]
        .points
        .iter()
        .map(|&[x, _]| {
            let t = p_avf.t_start + (x - p_avf.x_start) / 100.0;
            [x, p_avf.baseline_y - 40.0 * mv(Lead::II, t)]
        })
        .collect();
    for (k, pt) in traces.traces[ii].points.iter_mut().enumerate() {
        pt[1] += if k % 3 == 0 { 1.5 } else { -0.75 };
    }
    layout.panels[ii].label_score = None;
    let renames = RhythmLeadsConfig::default().renames(&layout, &traces, &grid());
    assert!(renames.is_empty(), "{renames:?}");
}
