//! Tests of `trace_viterbi`: the path search and the fit on small drawn masks.

use super::path::*;
use super::viterbi::*;
use ecgdig_core::prelude::*;
use image::{GrayImage, Luma};

/// The tracer for test images drawn with a pen that does not spread
/// into neighbouring columns (so the fit needs little smoothing).
pub(super) fn thin_pen() -> TraceViterbiConfig {
    TraceViterbiConfig {
        estimate_reach: false,
        fit_reach_px: 0.0,
        fit_smoothness: 0.02,
        ..TraceViterbiConfig::default()
    }
}

pub(super) fn panel(x0: f32, x1: f32, y0: f32, y1: f32, base: f32) -> Panel {
    Panel {
        lead: Lead::II,
        row: 0,
        col: 0,
        bbox: Rect { x0, y0, x1, y1 },
        baseline_y: base,
        x_start: x0,
        x_end: x1,
        t_start: 0.0,
        t_end: 1.0,
        rhythm: false,
        label_score: None,
        inverted: false,
    }
}

/// A layout of `panels` on one row whose baseline is `base`.
pub(super) fn one_row(base: f32, panels: Vec<Panel>) -> Layout {
    Layout {
        kind: LayoutKind::Other,
        page_seconds: 10.0,
        row_baselines: vec![base],
        template: None,
        panels,
    }
}

/// A layout of `panels` on one row whose baseline is y = 50.
pub(super) fn row_at_50(panels: Vec<Panel>) -> Layout {
    one_row(50.0, panels)
}

/// The first panel's traced points' y, folded by `pick` from `init`.
pub(super) fn traced_y(
    cfg: &TraceViterbiConfig,
    m: &GrayImage,
    layout: &Layout,
    grid: &GridInfo,
    (init, pick): (f32, fn(f32, f32) -> f32),
) -> f32 {
    let t = cfg.trace_all(m, layout, grid);
    t.traces[0].points.iter().map(|p| p[1]).fold(init, pick)
}

#[test]
fn a_gap_bridged_by_the_neighbouring_columns_leaves_its_longest_hole() {
    let run = |y0: u32, y1: u32| Run {
        y0,
        y1,
        yc: 0.5 * (y0 + y1) as f32,
        lo: f32::NAN,
        hi: f32::NAN,
        strength: 1.0,
    };
    // rows 10..40: column a covers 12..=15 and 30..=33, column b 14..=24
    let a = [run(0, 9), run(12, 15), run(30, 33)];
    let b = [run(14, 24), run(40, 50)];
    // holes 10..12 (2), 25..30 (5), 34..40 (6)
    assert_eq!(uncovered_stretch(10, 40, &a, &b), 6);
    assert_eq!(uncovered_stretch(10, 30, &a, &b), 5);
    assert_eq!(uncovered_stretch(10, 40, &[], &[]), 30);
}

#[test]
fn follows_the_trace_and_keeps_the_peak() {
    // baseline at y=50, pen 2 px, a spike up to y=20 at x=40, a text blob
    let mut m = columns_mask((100, 100), 5..95, |x| {
        // the tip at x = 40; the strokes to and from it cross columns
        // 40 and 41 (half-way at 40.5: y = 35)
        match x {
            40 => (20, 51),
            41 => (35, 51),
            _ => (50, 51),
        }
    });
    for x in 60..70 {
        for y in 70..80 {
            m.put_pixel(x, y, Luma([255])); // a label below the trace
        }
    }
    let grid = GridInfo::from_dpi(101.6, ScaleSource::Grid); // 4 px/mm
    let layout = single_panel(5.0, 94.0, 99.0, 50.0);
    let t = thin_pen().trace_all(&m, &layout, &grid);
    let pts = &t.traces[0].points;
    assert!(t.traces[0].confidence > 0.95);
    // strictly increasing x
    assert!(pts.windows(2).all(|p| p[1][0] > p[0][0]));
    // the spike tip is kept (within 5% of the spike's 30 px; a point
    // per column would put it at the run's centre, 35)
    let tip = pts.iter().map(|p| p[1]).fold(f32::MAX, f32::min);
    assert!((tip - 20.5).abs() <= 1.5, "tip {tip}");
    // one point per column keeps this tip too (its far end less half the pen)
    let per_column = TraceViterbiConfig {
        fit_polyline: false,
        ..thin_pen()
    };
    let t1 = per_column.trace_all(&m, &layout, &grid);
    let tip1 = t1.traces[0]
        .points
        .iter()
        .map(|p| p[1])
        .fold(f32::MAX, f32::min);
    assert!((tip1 - 20.5).abs() <= 1.0, "tip {tip1}");
    // the label is not followed
    assert!(pts
        .iter()
        .filter(|p| p[0] > 60.0 && p[0] < 70.0)
        .all(|p| p[1] < 55.0));
}

#[test]
fn on_a_coarse_page_a_thin_stroke_beats_a_wider_fainter_band() {
    // 4 px/mm (100 dpi), baseline y=100: the trace is one pixel of full
    // ink with faint antialiased rows above and below (mean strength
    // 0.52); a band of three mid-grey rows (mean 0.63: a label, a grid
    // line) runs 3 mm under it for 30 columns, joined to it at both ends
    let mut m = GrayImage::new(300, 200);
    for x in 10..290u32 {
        m.put_pixel(x, 99, Luma([70]));
        m.put_pixel(x, 100, Luma([255]));
        m.put_pixel(x, 101, Luma([70]));
    }
    for x in 60..90u32 {
        for y in 111..114 {
            m.put_pixel(x, y, Luma([160]));
        }
    }
    for x in [60u32, 89] {
        for y in 101..111 {
            m.put_pixel(x, y, Luma([160]));
        }
    }
    let grid = GridInfo::from_dpi(101.6, ScaleSource::Grid);
    let layout = single_panel(10.0, 289.0, 199.0, 100.0);
    let lowest = |t: &TraceViterbiConfig| {
        t.trace_all(&m, &layout, &grid).traces[0]
            .points
            .iter()
            .filter(|p| p[0] > 65.0 && p[0] < 85.0)
            .map(|p| p[1])
            .fold(f32::MIN, f32::max)
    };
    assert!(
        lowest(&thin_pen()) < 102.0,
        "the band was followed: {}",
        lowest(&thin_pen())
    );
    let mean = TraceViterbiConfig {
        low_res_strength_from_peak: false,
        ..thin_pen()
    };
    assert!(lowest(&mean) > 108.0, "{}", lowest(&mean));
}

/// A layout of one panel, `x0..=x1` by `0..=y1`, on a row whose baseline
/// is `base`.
pub(super) fn single_panel(x0: f32, x1: f32, y1: f32, base: f32) -> Layout {
    one_row(base, vec![panel(x0, x1, 0.0, y1, base)])
}

/// Inks column `x` of `m` from row `a` to row `b`.
pub(super) fn ink_column(m: &mut GrayImage, x: u32, a: u32, b: u32) {
    for y in a..=b {
        m.put_pixel(x, y, Luma([255]));
    }
}

/// A `w` x `h` mask inked, in every column `x` in `xs`, over the rows
/// `run(x)` gives (first, last).
pub(super) fn columns_mask(
    (w, h): (u32, u32),
    xs: std::ops::Range<u32>,
    run: impl Fn(u32) -> (u32, u32),
) -> GrayImage {
    let mut m = GrayImage::new(w, h);
    for x in xs {
        let (a, b) = run(x);
        ink_column(&mut m, x, a, b);
    }
    m
}

/// A mask with one flat trace at y = 100..=101 from `x0` to `x1`, the
/// pulse's falling edge (rows `top..=101`) in column `edge_x`, and the
/// one-panel layout over it starting at `start`.
pub(super) fn trace_after_pulse_edge(
    size: (u32, u32),
    edge_x: u32,
    top: u32,
    (x0, x1): (u32, u32),
    start: f32,
) -> (GrayImage, Layout) {
    let mut m = columns_mask(size, x0..x1, |_| (100, 101));
    ink_column(&mut m, edge_x, top, 101);
    let layout = single_panel(start, (x1 - 1) as f32, (size.1 - 1) as f32, 100.0);
    (m, layout)
}

#[test]
fn the_pulses_falling_edge_at_a_rows_start_is_not_the_signal() {
    // (a) 4 px/mm: the edge, one column wide and 10 mm tall, in the
    // panel's first column, a rule without the pulse edge traces it;
    // (b) 8 px/mm: the wide pen's edge reaches three columns past the
    // panel's start (x = 10), where antialiasing leaves only its lower
    // 4.5 mm, which the earlier rule (two columns, 6 mm tall) traced
    let cases = [
        ((200, 200), 10, 60, (10, 190), 101.6, 0.0, 6.0, 70.0),
        ((300, 200), 13, 64, (14, 290), 203.2, 0.25, 6.0, 80.0),
    ];
    for (size, edge_x, top_y, trace, dpi, width_mm, height_mm, below) in cases {
        let (m, layout) = trace_after_pulse_edge(size, edge_x, top_y, trace, 10.0);
        let grid = GridInfo::from_dpi(dpi, ScaleSource::Grid);
        let top = |t: &TraceViterbiConfig| traced_y(t, &m, &layout, &grid, (f32::MAX, f32::min));
        assert!(
            top(&thin_pen()) > 98.0,
            "{dpi} dpi: the edge was traced: {}",
            top(&thin_pen())
        );
        let other_rule = TraceViterbiConfig {
            pulse_edge_mm: width_mm,
            pulse_edge_min_height_mm: height_mm,
            ..thin_pen()
        };
        assert!(top(&other_rule) < below, "{dpi} dpi: {}", top(&other_rule));
    }
}

#[test]
fn a_tall_narrow_wave_is_climbed_not_skipped_for_a_neighbours_stroke() {
    // 8 px/mm, baseline y=300; a 33 mm QRS: up from the baseline over
    // columns 60..63 to a tip at y=36, down over 64..67; the neighbour
    // row's tall R wave rises into this panel at columns 62..65, to
    // y=290, close to this baseline
    let mut m = GrayImage::new(200, 500);
    let mut vline = |x: u32, a: u32, b: u32| ink_column(&mut m, x, a, b);
    for x in 5..195u32 {
        match x {
            60..=63 => {
                let top = 300 - 66 * (x - 59);
                vline(x, top, top + 68);
            }
            64..=67 => {
                let bot = 36 + 66 * (x - 63);
                vline(x, bot - 68, bot.min(301));
            }
            _ => vline(x, 299, 301),
        }
    }
    for x in 62..=65u32 {
        vline(x, 290, 450);
    }
    let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
    let layout = single_panel(5.0, 194.0, 499.0, 300.0);
    let tip = |t: &TraceViterbiConfig| {
        t.trace_all(&m, &layout, &grid).traces[0]
            .points
            .iter()
            .map(|p| p[1])
            .fold(f32::MAX, f32::min)
    };
    assert!(tip(&thin_pen()) < 60.0, "tip at {}", tip(&thin_pen()));
    // where skipping is cheap, only the ink under the skip keeps it
    let cheap_skips = TraceViterbiConfig {
        skip_cost: 0.6,
        ..thin_pen()
    };
    assert!(tip(&cheap_skips) < 60.0, "tip at {}", tip(&cheap_skips));
    let careless = TraceViterbiConfig {
        skip_over_ink_cost: 0.0,
        ..cheap_skips
    };
    assert!(tip(&careless) > 100.0, "tip at {}", tip(&careless));
}

#[test]
fn a_faint_wave_starting_just_off_the_line_is_climbed_not_skipped() {
    // 8 px/mm, baseline y=300; a faint S wave (mask 80 of 255) over
    // columns 60..=66, down to y=380: its first stroke starts 4 px
    // below the flat trace, so it does not lie on the line a skip
    // would draw
    let mut m = GrayImage::new(140, 500);
    let runs = [
        (305, 320),
        (318, 340),
        (338, 360),
        (358, 380),
        (340, 362),
        (320, 342),
        (304, 322),
    ];
    for x in 5..135u32 {
        match x {
            60..=66 => {
                let (a, b) = runs[(x - 60) as usize];
                for y in a..=b {
                    m.put_pixel(x, y, Luma([80]));
                }
            }
            _ => ink_column(&mut m, x, 299, 301),
        }
    }
    let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
    let layout = single_panel(5.0, 134.0, 499.0, 300.0);
    let deepest = |t: &TraceViterbiConfig| traced_y(t, &m, &layout, &grid, (f32::MIN, f32::max));
    assert!(deepest(&thin_pen()) > 370.0, "{}", deepest(&thin_pen()));
    let on_the_line_only = TraceViterbiConfig {
        skip_over_ink_reach_mm: 0.0,
        ..thin_pen()
    };
    assert!(
        deepest(&on_the_line_only) < 310.0,
        "{}",
        deepest(&on_the_line_only)
    );
}

#[test]
fn a_grid_dot_inside_a_steep_waves_span_does_not_cut_its_tip() {
    // 8 px/mm, baseline y=300, pen 3 px; a deep S wave: down over
    // columns 60..61, its tip (y 360..374) in columns 62..63, back up
    // over 64..65. A one-pixel grid dot at y=331 in the tip's columns
    // lies inside both neighbours' tall runs, so reaching it costs no
    // jump and it sits nearer the baseline than the tip.
    let mut m = GrayImage::new(140, 500);
    let mut vline = |x: u32, a: u32, b: u32| ink_column(&mut m, x, a, b);
    for x in 5..135u32 {
        match x {
            60 => vline(x, 299, 322),
            61 => vline(x, 320, 368),
            62 | 63 => {
                vline(x, 331, 331);
                vline(x, 360, 374);
            }
            64 => vline(x, 328, 374),
            65 => vline(x, 299, 330),
            _ => vline(x, 299, 301),
        }
    }
    let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
    let layout = single_panel(5.0, 134.0, 499.0, 300.0);
    // the shallowest point traced in the tip's columns
    let tip_top = |t: &TraceViterbiConfig| {
        t.trace_all(&m, &layout, &grid).traces[0]
            .points
            .iter()
            .filter(|p| (61.8..63.2).contains(&p[0]))
            .map(|p| p[1])
            .fold(f32::MAX, f32::min)
    };
    assert!(
        tip_top(&thin_pen()) > 355.0,
        "tip columns at {}",
        tip_top(&thin_pen())
    );
    let dot_friendly = TraceViterbiConfig {
        short_run_cost: 0.0,
        ..thin_pen()
    };
    assert!(
        tip_top(&dot_friendly) < 340.0,
        "tip columns at {}",
        tip_top(&dot_friendly)
    );
}

#[test]
fn the_stroke_is_typically_the_run_nearest_the_baseline() {
    let run = |y0: u32, y1: u32| Run {
        y0,
        y1,
        yc: 0.5 * (y0 + y1) as f32,
        lo: f32::NAN,
        hi: f32::NAN,
        strength: 1.0,
    };
    // three flat columns with a 3 px stroke, one steep column, grid dots
    let cols = vec![
        vec![run(10, 10), run(49, 51)],
        vec![run(50, 52), run(80, 80)],
        vec![run(20, 60)],
        vec![run(48, 50), run(70, 70)],
    ];
    assert_eq!(typical_stroke_px(&cols, 50.0), 3.0);
    assert_eq!(typical_stroke_px(&[], 50.0), 1.0);
}

#[test]
fn the_trace_is_picked_up_again_after_a_long_faded_stretch() {
    // 4 px/mm: a baseline at y=50 with a wave, faded out over 40 px
    // (10 mm, far past max_skip_mm) in the middle of the panel, and a
    // text line (y=10) that must not be picked up instead
    let mut m = GrayImage::new(300, 100);
    let wave = |x: u32| 50 + ((x as f32 / 6.0).sin() * 4.0).round() as i32;
    for x in 5..295u32 {
        if (120..160).contains(&x) {
            continue;
        }
        let y = wave(x) as u32;
        m.put_pixel(x, y, Luma([255]));
        m.put_pixel(x, y + 1, Luma([255]));
    }
    for x in 130..150u32 {
        m.put_pixel(x, 10, Luma([255]));
        m.put_pixel(x, 11, Luma([255]));
    }
    let grid = GridInfo::from_dpi(101.6, ScaleSource::Grid);
    let layout = single_panel(5.0, 294.0, 99.0, 50.0);
    // points on the wave before and after the gap, and whether any is on the text
    let on_wave = |t: &TraceViterbiConfig| {
        let tr = t.trace_all(&m, &layout, &grid);
        let pts = &tr.traces[0].points;
        let good = |keep: &dyn Fn(f32) -> bool| {
            pts.iter()
                .filter(|p| keep(p[0]))
                .filter(|p| (p[1] - wave(p[0].round() as u32) as f32 - 0.5).abs() < 1.5)
                .count()
        };
        (
            good(&|x| x < 110.0),
            good(&|x| x > 170.0),
            pts.iter().any(|p| p[1] < 20.0),
        )
    };
    let (before, after, text) = on_wave(&thin_pen());
    assert!(
        before > 200 && after > 200,
        "{before} and {after} points on the wave"
    );
    assert!(!text, "the text line was followed");
    // without picking up, one path keeps one side of the gap only
    let (before, after, _) = on_wave(&TraceViterbiConfig {
        resume_mm: 0.0,
        ..thin_pen()
    });
    assert!(before == 0 || after == 0, "{before} and {after}");
}

#[test]
fn a_deep_wave_drawn_in_broken_strokes_is_followed_not_cut_across() {
    // 8 px/mm, baseline y = 50; an S wave 5 mm deep (to y = 90) over
    // columns 100..=107 whose faint strokes break every few pixels, as
    // noise leaves them: each column holds pieces 6 px apart
    let mut m = GrayImage::new(200, 140);
    for x in 0..200u32 {
        let (a, b) = match x {
            100..=103 => (50 + (x - 100) * 10, 50 + (x - 99) * 10),
            104..=107 => (90 - (x - 104) * 10, 90 - x.saturating_sub(105).min(3) * 10),
            _ => (50, 51),
        };
        let (a, b) = (a.min(b), a.max(b));
        for yy in a..=b {
            // pieces of 4 px ink, 6 px gaps (wider than the merge gap)
            if !(100..=107).contains(&x) || (yy - a) % 10 < 4 {
                m.put_pixel(x, yy, Luma([255]));
            }
        }
    }
    let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
    let layout = row_at_50(vec![panel(5.0, 194.0, 0.0, 139.0, 50.0)]);
    let depth = |cfg: &TraceViterbiConfig| traced_y(cfg, &m, &layout, &grid, (0.0, f32::max));
    assert!(depth(&thin_pen()) > 80.0, "{}", depth(&thin_pen()));
    let stiff = TraceViterbiConfig {
        jump_cost_per_mm: 2.0,
        ..thin_pen()
    };
    assert!(depth(&stiff) < 70.0, "{}", depth(&stiff));
}

#[test]
fn a_steep_stroke_broken_in_staggered_pieces_is_climbed_through_its_neighbours() {
    // 8 px/mm, baseline y = 50; an R wave 5 mm tall (up to y = 10) over
    // columns 100..=107, each column's stroke broken into 5 px pieces
    // with 5 px gaps, staggered so that neighbouring columns together
    // cover the stroke (noise breaking a faint stroke)
    let mut m = GrayImage::new(200, 100);
    for x in 0..200u32 {
        let (a, b) = match x {
            100..=103 => (50 - (x - 99) * 10, 50 - (x - 100) * 10),
            104..=107 => (10 + (x - 104) * 10, 10 + (x - 103) * 10),
            _ => (50, 51),
        };
        for yy in a..=b {
            if !(100..=107).contains(&x) || (yy + 5 * (x % 2)) % 10 < 5 {
                m.put_pixel(x, yy, Luma([255]));
            }
        }
    }
    let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
    let layout = row_at_50(vec![panel(5.0, 194.0, 0.0, 99.0, 50.0)]);
    let tip = |cfg: &TraceViterbiConfig| traced_y(cfg, &m, &layout, &grid, (f32::MAX, f32::min));
    // with a pull towards the baseline and cheap skips that only ink
    // on the line makes dear, too, only bridging climbs it
    let pulled = TraceViterbiConfig {
        far_cost_per_mm: 0.01,
        skip_cost: 0.6,
        skip_over_ink_reach_mm: 0.0,
        ..thin_pen()
    };
    assert!(tip(&thin_pen()) < 20.0, "{}", tip(&thin_pen()));
    assert!(tip(&pulled) < 20.0, "{}", tip(&pulled));
    let unbridged = TraceViterbiConfig {
        bridge_jumps: false,
        ..pulled
    };
    assert!(tip(&unbridged) > 30.0, "{}", tip(&unbridged));
}
