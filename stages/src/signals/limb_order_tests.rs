use super::*;
use crate::signals::test_pages;

/// 4 px/mm: 100 px per second, 40 px per mV.
fn grid() -> GridInfo {
    GridInfo::from_dpi(101.6, ScaleSource::Grid)
}

/// Leads I and II as two unrelated curves; the other limb leads follow
/// by Einthoven's law; chest leads are curves of their own (mV at `t`).
fn mv(lead: Lead, t: f32) -> f32 {
    let wave = |f: f32, p: f32| (std::f32::consts::TAU * f * t + p).sin();
    let i = 0.5 * wave(1.2, 0.3) + 0.2 * wave(6.1, 1.0);
    let ii = 0.7 * wave(0.9, 2.0) + 0.3 * wave(4.3, 0.4);
    match lead {
        Lead::I => i,
        Lead::II => ii,
        Lead::III => ii - i,
        Lead::AVR => -(i + ii) / 2.0,
        Lead::AVL => i - ii / 2.0,
        Lead::AVF => ii - i / 2.0,
        other => 0.4 * wave(1.0 + 0.3 * other.index() as f32, 0.0),
    }
}

/// A page whose panels are *named* `names` (rows of columns, each row
/// showing the page's 10 s split evenly) but show the signals of `shown`
/// (with a sign), traced with `noise` px of wobble.
fn page(names: &[Vec<Lead>], shown: &[Vec<(Lead, f32)>], noise: f32) -> (Layout, Traces) {
    let (x0, pps, ppmv) = (20.0f32, 100.0f32, 40.0f32);
    let mut panels = Vec::new();
    let mut traces = Vec::new();
    for (r, (row_names, row_shown)) in names.iter().zip(shown).enumerate() {
        let base = 100.0 + 150.0 * r as f32;
        let secs = 10.0 / row_names.len() as f32;
        for (c, (&lead, &(signal, sign))) in row_names.iter().zip(row_shown).enumerate() {
            let (t0, t1) = (secs * c as f32, secs * (c + 1) as f32);
            let (xs, xe) = (x0 + t0 * pps, x0 + t1 * pps);
            panels.push(test_pages::panel(
                lead,
                (r, c),
                base,
                (xs, xe),
                (t0, t1),
                false,
            ));
            traces.push(test_pages::traced(panels.len() - 1, lead, (xs, xe), |x| {
                let t = t0 + (x as f32 - xs) / pps;
                let wobble = noise * (((x * 7919 + r as i32 * 3571) % 13) as f32 / 6.0 - 1.0);
                // each row at its own level
                base - 3.0 * r as f32 - ppmv * sign * mv(signal, t) + wobble
            }));
        }
    }
    let layout = Layout {
        kind: LayoutKind::ThreeByFour,
        page_seconds: 10.0,
        row_baselines: (0..names.len()).map(|r| 100.0 + 150.0 * r as f32).collect(),
        template: Some("3x4".into()),
        panels,
    };
    (layout, Traces { traces })
}

fn standard_3x4() -> Vec<Vec<Lead>> {
    use Lead::*;
    vec![
        vec![I, AVR, V1, V4],
        vec![II, AVL, V2, V5],
        vec![III, AVF, V3, V6],
    ]
}

fn cabrera_3x4() -> Vec<Vec<(Lead, f32)>> {
    use Lead::*;
    vec![
        vec![(AVL, 1.0), (II, 1.0), (V1, 1.0), (V4, 1.0)],
        vec![(I, 1.0), (AVF, 1.0), (V2, 1.0), (V5, 1.0)],
        vec![(AVR, -1.0), (III, 1.0), (V3, 1.0), (V6, 1.0)],
    ]
}

fn plain(names: &[Vec<Lead>]) -> Vec<Vec<(Lead, f32)>> {
    names
        .iter()
        .map(|r| r.iter().map(|&l| (l, 1.0)).collect())
        .collect()
}

#[test]
fn a_cabrera_page_named_in_the_standard_order_is_renamed() {
    let (mut layout, mut traces) = page(&standard_3x4(), &cabrera_3x4(), 0.8);
    let stage = LimbOrderConfig::default();
    assert!(stage.is_cabrera(&layout, &traces, &grid()));
    to_cabrera(&mut layout, &mut traces);
    let names: Vec<(Lead, bool)> = layout.panels.iter().map(|p| (p.lead, p.inverted)).collect();
    use Lead::*;
    assert_eq!(&names[..2], &[(AVL, false), (II, false)]);
    assert_eq!(names[8], (AVR, true));
    assert_eq!(names[9], (III, false));
    assert!(traces
        .traces
        .iter()
        .zip(&layout.panels)
        .all(|(t, p)| t.lead == p.lead));
}

#[test]
fn a_standard_page_keeps_its_names() {
    let names = standard_3x4();
    let (layout, traces) = page(&names, &plain(&names), 0.8);
    assert!(!LimbOrderConfig::default().is_cabrera(&layout, &traces, &grid()));
}

#[test]
fn six_by_two_pages_are_told_apart_too() {
    use Lead::*;
    let names = vec![
        vec![I, V1],
        vec![II, V2],
        vec![III, V3],
        vec![AVR, V4],
        vec![AVL, V5],
        vec![AVF, V6],
    ];
    let cab = [
        (AVL, 1.0),
        (I, 1.0),
        (AVR, -1.0),
        (II, 1.0),
        (AVF, 1.0),
        (III, 1.0),
    ];
    let shown: Vec<Vec<(Lead, f32)>> = names
        .iter()
        .zip(cab)
        .map(|(r, c)| vec![c, (r[1], 1.0)])
        .collect();
    let stage = LimbOrderConfig::default();
    let (layout, traces) = page(&names, &shown, 0.8);
    assert!(stage.is_cabrera(&layout, &traces, &grid()));
    let (layout, traces) = page(&names, &plain(&names), 0.8);
    assert!(!stage.is_cabrera(&layout, &traces, &grid()));
}

#[test]
fn printed_names_and_flat_or_missing_tracings_keep_the_names() {
    let stage = LimbOrderConfig::default();
    // two limb labels read: the printed names are the truth
    let (mut layout, traces) = page(&standard_3x4(), &cabrera_3x4(), 0.8);
    layout.panels[0].label_score = Some(0.9);
    layout.panels[4].label_score = Some(0.9);
    assert!(!stage.is_cabrera(&layout, &traces, &grid()));
    // no tracings at all: nothing to judge by
    let (layout, _) = page(&standard_3x4(), &cabrera_3x4(), 0.8);
    assert!(!stage.is_cabrera(&layout, &Traces::default(), &grid()));
    // tracings too poor to tell: wobble as large as the waves
    let (layout, traces) = page(&standard_3x4(), &cabrera_3x4(), 30.0);
    assert!(!stage.is_cabrera(&layout, &traces, &grid()));
}

/// Six rows named as 6x2 (limb leads, then chest leads), showing `second`
/// in each row's second half.
fn six_rows(second: impl Fn(Lead, usize) -> Lead) -> (Layout, Traces) {
    use Lead::*;
    let limb = [I, II, III, AVR, AVL, AVF];
    let chest = [V1, V2, V3, V4, V5, V6];
    let names: Vec<Vec<Lead>> = (0..6).map(|r| vec![limb[r], chest[r]]).collect();
    let shown: Vec<Vec<(Lead, f32)>> = (0..6)
        .map(|r| vec![(limb[r], 1.0), (second(limb[r], r), 1.0)])
        .collect();
    page(&names, &shown, 0.8)
}

#[test]
fn six_rows_of_limb_leads_over_the_whole_page_become_one_panel_each() {
    let (mut layout, mut traces) = six_rows(|limb, _| limb);
    assert!(super::super::limb_rows::is_six_by_one(
        &layout,
        &traces,
        &grid(),
        0.05
    ));
    super::super::limb_rows::to_six_by_one(&mut layout, &mut traces);
    assert_eq!(layout.panels.len(), 6);
    assert_eq!(traces.traces.len(), 6);
    for (i, (p, t)) in layout.panels.iter().zip(&traces.traces).enumerate() {
        assert_eq!((p.t_start, p.t_end), (0.0, 10.0), "panel {i}");
        assert_eq!(t.panel, i);
        assert_eq!(t.lead, p.lead);
        // one path over the whole row, x increasing
        assert!(t.points.windows(2).all(|w| w[1][0] > w[0][0]));
        assert!(t.points.last().map(|q| q[0]) >= Some(p.x_end - 1.0));
    }
}

#[test]
fn a_six_by_two_page_keeps_its_two_columns() {
    use Lead::*;
    let chest = [V1, V2, V3, V4, V5, V6];
    let (layout, traces) = six_rows(|_, r| chest[r]);
    assert!(!super::super::limb_rows::is_six_by_one(
        &layout,
        &traces,
        &grid(),
        0.05
    ));
    // a read label in the second column says 6x2 whatever the traces
    let (mut layout, traces) = six_rows(|limb, _| limb);
    layout.panels[1].label_score = Some(0.9);
    assert!(!super::super::limb_rows::is_six_by_one(
        &layout,
        &traces,
        &grid(),
        0.05
    ));
}
