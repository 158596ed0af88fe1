use super::*;
use crate::signals::convert::ToSignalsConfig;
use crate::signals::test_pages;
use ecgdig_render::{synthesize, SynthParams};

/// 4 px/mm, read as 25 mm/s and 10 mm/mV.
fn grid() -> GridInfo {
    GridInfo::from_dpi(101.6, ScaleSource::Grid)
}

const X0: f32 = 40.0;
const PX_PER_MM: f32 = 4.0;

/// A 3x4 page with a lead II rhythm strip, built as a 25 mm/s layout (each
/// row 250 mm, columns of 2.5 s), whose ink was printed at `true_speed`:
/// pixel `x` shows the record at `(x - X0) / (PX_PER_MM * true_speed)` s.
fn page(record: &Record, true_speed: f32) -> (Layout, Traces) {
    use Lead::*;
    let rows = [
        vec![I, AVR, V1, V4],
        vec![II, AVL, V2, V5],
        vec![III, AVF, V3, V6],
        vec![II],
    ];
    let (pps_read, pps_true, ppmv) = (PX_PER_MM * 25.0, PX_PER_MM * true_speed, 40.0);
    let mut panels = Vec::new();
    let mut traces = Vec::new();
    for (r, leads) in rows.iter().enumerate() {
        let base = 100.0 + 150.0 * r as f32;
        let secs = 10.0 / leads.len() as f32;
        for (c, &lead) in leads.iter().enumerate() {
            let (t0, t1) = (secs * c as f32, secs * (c + 1) as f32);
            let (xs, xe) = (X0 + t0 * pps_read, X0 + t1 * pps_read);
            panels.push(test_pages::panel(
                lead,
                (r, c),
                base,
                (xs, xe),
                (t0, t1),
                leads.len() == 1,
            ));
            let Some(samples) = record.leads[lead.index()].as_ref() else {
                continue;
            };
            traces.push(test_pages::traced(panels.len() - 1, lead, (xs, xe), |x| {
                let t = (x as f32 - X0) / pps_true;
                base - ppmv * dsp::sample_at(samples, t * record.fs)
            }));
        }
    }
    let layout = Layout {
        kind: LayoutKind::ThreeByFourRhythm,
        page_seconds: 10.0,
        row_baselines: (0..rows.len()).map(|r| 100.0 + 150.0 * r as f32).collect(),
        template: Some("3x4+1".into()),
        panels,
    };
    (layout, Traces { traces })
}

fn record(bpm: f32, seed: u64) -> Record {
    let params = SynthParams {
        heart_rate_bpm: bpm,
        ..SynthParams::random(seed)
    };
    synthesize(&params, seed)
}

#[test]
fn a_page_at_the_assumed_speed_stays_there() {
    let stage = BeatSpeedConfig::default();
    for (bpm, seed) in [(55.0, 1), (72.0, 2), (95.0, 3), (130.0, 4)] {
        let (layout, traces) = page(&record(bpm, seed), 25.0);
        let timing = beat_timing(&layout, &traces, &grid()).expect("timing");
        assert!(
            (timing.bpm - bpm).abs() < 0.15 * bpm,
            "{bpm} bpm read as {timing:?}"
        );
        assert!(
            !stage.is_faster(&layout, &traces, &grid()),
            "{bpm} bpm at 25 mm/s read as faster: {timing:?} score {}",
            timing.score()
        );
    }
}

#[test]
fn a_page_at_50_mm_s_is_read_at_50() {
    let stage = BeatSpeedConfig::default();
    for (bpm, seed) in [(60.0, 5), (75.0, 6), (85.0, 7)] {
        let rec = record(bpm, seed);
        let (mut layout, traces) = page(&rec, 50.0);
        let mut g = grid();
        let timing = beat_timing(&layout, &traces, &g).expect("timing");
        assert!(
            (timing.bpm - bpm / 2.0).abs() < 0.15 * bpm,
            "{bpm} bpm at 50 mm/s read at 25 as {timing:?}"
        );
        assert!(
            stage.is_faster(&layout, &traces, &g),
            "{bpm} bpm at 50 mm/s not read as faster: score {}",
            timing.score()
        );
        speed_up(&mut layout, &mut g, 50.0);
        assert_eq!(g.mm_per_second, 50.0);
        assert_eq!(g.speed_source, SpeedSource::Beats);
        // the rhythm strip now shows 5 s, the short panels 1.25 s each
        assert_eq!(layout.panels[12].t_end, 5.0);
        assert_eq!(layout.panels[1].t_start, 1.25);
        // and the samples are the record's, where before they were stretched
        let sig = ToSignalsConfig::default().convert(&traces, &layout, &g, 500.0, 10.0);
        let ii = sig.leads[Lead::II.index()]
            .clone()
            .expect("lead II")
            .samples;
        let truth = rec.leads[Lead::II.index()].clone().expect("lead II");
        let err: f32 = (100..2400).map(|n| (ii[n] - truth[n]).powi(2)).sum::<f32>() / 2300.0;
        assert!(
            err < 1e-3,
            "lead II after rescaling: mean square error {err}"
        );
    }
}

#[test]
fn a_printed_or_chosen_speed_is_never_overridden() {
    let stage = BeatSpeedConfig::default();
    let (layout, traces) = page(&record(75.0, 8), 50.0);
    let printed = GridInfo {
        speed_source: SpeedSource::Printed,
        ..grid()
    };
    assert!(!stage.is_faster(&layout, &traces, &printed));
    let chosen = GridInfo {
        mm_per_second: 12.5,
        ..grid()
    };
    assert!(!stage.is_faster(&layout, &traces, &chosen));
}

#[test]
fn a_page_without_long_traces_has_no_timing() {
    let (mut layout, mut traces) = page(&record(75.0, 9), 25.0);
    layout.panels.truncate(4);
    traces.traces.truncate(1);
    layout
        .panels
        .iter_mut()
        .for_each(|p| p.t_end = p.t_start + 0.5);
    assert_eq!(beat_timing(&layout, &traces, &grid()), None);
}

#[test]
fn bad_settings_are_refused() {
    let ctx = BuildContext::default();
    let slow = BeatSpeedConfig {
        faster_speed: 20.0,
        ..Default::default()
    };
    assert!(slow.build(&ctx).is_err());
}

/// A blurred page (a low-resolution scan smooths every QRS) at a normal
/// rate looks blunt but not slow: the rate keeps it at 25 mm/s.
#[test]
fn a_blunt_page_at_a_normal_rate_stays() {
    let mut rec = record(80.0, 10);
    for lead in rec.leads.iter_mut().flatten() {
        let k = 25; // 50 ms moving mean at 500 Hz
        let src = lead.clone();
        for (i, v) in lead.iter_mut().enumerate() {
            let (a, b) = (i.saturating_sub(k / 2), (i + k / 2).min(src.len() - 1));
            *v = src[a..=b].iter().sum::<f32>() / (b - a + 1) as f32;
        }
    }
    let (layout, traces) = page(&rec, 25.0);
    let stage = BeatSpeedConfig::default();
    let timing = beat_timing(&layout, &traces, &grid()).expect("timing");
    assert!(
        timing.score() < stage.max_score,
        "the blur should make the page look blunt: {timing:?}"
    );
    assert!(!stage.is_faster(&layout, &traces, &grid()));
}
