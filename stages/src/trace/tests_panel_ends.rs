//! Tests of `trace_viterbi` at a panel's ends: separator bars, labels and
//! the first and last strokes next to another lead.

use super::tests::*;
use super::viterbi::*;
use ecgdig_core::prelude::*;
use image::{GrayImage, Luma};

#[test]
fn a_leads_first_r_wave_beside_the_boundary_is_not_taken_for_a_separator() {
    // 8 px/mm, baseline y = 50, a panel from x = 100: an R wave right at
    // its start, up- and down-strokes merged, so columns 101 and 102
    // hold the same tall run from the tip (y = 10) down to the baseline
    let m = columns_mask((220, 100), 0..220, |x| match x {
        101 | 102 => (10, 51),
        _ => (50, 51),
    });
    let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
    let second = Panel {
        col: 1,
        ..panel(100.0, 219.0, 0.0, 99.0, 50.0)
    };
    let layout = row_at_50(vec![second]);
    let tip = |cfg: &TraceViterbiConfig| traced_y(cfg, &m, &layout, &grid, (f32::MAX, f32::min));
    assert!(tip(&thin_pen()) < 15.0, "{}", tip(&thin_pen()));
    let any_bar = TraceViterbiConfig {
        bars_straddle_baseline: false,
        ..thin_pen()
    };
    assert!(tip(&any_bar) > 40.0, "{}", tip(&any_bar));
}

#[test]
fn a_panel_starts_on_its_trace_not_on_its_label() {
    // 8 px/mm, baseline y = 50, a panel from x = 100: the lead starts
    // with an R wave (up to y = 12 at x = 106, back at x = 112); its
    // label's bold glyph, 5 mm below the baseline (y = 88..=91), runs
    // from the panel's start to x = 112, where a stroke joins it to
    // the trace
    let mut m = GrayImage::new(220, 120);
    // (the wave's thin strokes are fainter than the glyph)
    let mut ink = |x: u32, a: u32, b: u32, v: u8| {
        for y in a.min(b)..=a.max(b) {
            m.put_pixel(x, y, Luma([v]));
        }
    };
    for x in 100..220u32 {
        match x {
            100..=105 => ink(x, 50 - (x - 100) * 6, 50 - (x - 99) * 6 - 2, 190),
            106..=111 => ink(x, 14 + (x - 106) * 6, 14 + (x - 105) * 6, 190),
            _ => ink(x, 50, 51, 255),
        }
        if x <= 112 {
            ink(x, 88, 91, 255);
        }
        if x == 112 {
            ink(x, 52, 88, 255);
        }
    }
    let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
    let second = Panel {
        col: 1,
        ..panel(100.0, 219.0, 0.0, 119.0, 50.0)
    };
    let layout = row_at_50(vec![second]);
    let at = |cfg: &TraceViterbiConfig, x: f32| -> f32 {
        let t = cfg.trace_all(&m, &layout, &grid);
        t.traces[0]
            .points
            .iter()
            .min_by(|a, b| (a[0] - x).abs().total_cmp(&(b[0] - x).abs()))
            .map_or(f32::NAN, |p| p[1])
    };
    let unpriced = TraceViterbiConfig {
        label_band_cost: 0.0,
        ..thin_pen()
    };
    assert!(at(&unpriced, 103.0) > 80.0, "{}", at(&unpriced, 103.0));
    assert!(at(&thin_pen(), 103.0) < 40.0, "{}", at(&thin_pen(), 103.0));
}

#[test]
fn a_separator_bar_straddling_a_panels_start_is_not_its_first_sample() {
    // 8 px/mm; a lead separator bar, two columns wide, stands across
    // the boundary of two panels (x = 99..=100, from above the baseline
    // to well below it); the second panel starts at x = 100.0 on the
    // baseline (y = 50), where its first column is all bar
    let m = columns_mask((200, 100), 0..200, |x| match x {
        99 | 100 => (40, 90),
        _ => (50, 51),
    });
    let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
    let second = Panel {
        col: 1,
        ..panel(100.0, 199.0, 0.0, 99.0, 50.0)
    };
    let layout = row_at_50(vec![second]);
    let worst_start = |cfg: &TraceViterbiConfig| -> f32 {
        let t = cfg.trace_all(&m, &layout, &grid);
        t.traces[0]
            .points
            .iter()
            .filter(|p| p[0] < 103.0)
            .map(|p| (p[1] - 50.5).abs())
            .fold(0.0f32, f32::max)
    };
    // (the bar's one column inside the panel also passes for a lone bar)
    let no_inset = TraceViterbiConfig {
        start_inset_mm: 0.0,
        lone_bars: false,
        ..thin_pen()
    };
    assert!(worst_start(&no_inset) > 3.0, "{}", worst_start(&no_inset));
    assert!(
        worst_start(&thin_pen()) < 0.75,
        "{}",
        worst_start(&thin_pen())
    );
}

#[test]
fn a_one_pixel_separator_bar_broken_by_noise_is_not_followed() {
    // 8 px/mm; the first of two panels ends at x = 99, and a separator
    // bar one column wide (a rotated page's) stands at x = 96, across
    // the baseline (y = 50) from y = 25 to 80 but broken at 46..=49;
    // the trace is flat on the baseline through it
    let m = columns_mask((200, 100), 0..200, |x| match x {
        96 => (25, 80),
        _ => (50, 51),
    });
    let mut m = m;
    for y in 46..=49 {
        m.put_pixel(96, y, Luma([0]));
    }
    let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
    let first = panel(0.0, 99.0, 0.0, 99.0, 50.0);
    let second = Panel {
        col: 1,
        ..panel(100.0, 199.0, 0.0, 99.0, 50.0)
    };
    let layout = row_at_50(vec![first, second]);
    let worst_end = |cfg: &TraceViterbiConfig| -> f32 {
        let t = cfg.trace_all(&m, &layout, &grid);
        t.traces[0]
            .points
            .iter()
            .filter(|p| p[0] > 90.0)
            .map(|p| (p[1] - 50.5).abs())
            .fold(0.0f32, f32::max)
    };
    let without = TraceViterbiConfig {
        lone_bars: false,
        ..thin_pen()
    };
    assert!(worst_end(&without) > 5.0, "{}", worst_end(&without));
    assert!(worst_end(&thin_pen()) < 1.0, "{}", worst_end(&thin_pen()));
}

#[test]
fn strokes_at_panel_ends_are_kept_but_a_separator_is_not() {
    // two panels in one row, baseline y=50; a separator bar, 3 px wide,
    // at the end of the first panel (x=96..98) and a QRS downstroke at
    // the very end of the row (x=198), both from y=20 to y=51; a QRS
    // spike just after the separator, at the second panel's start
    let m = columns_mask((200, 100), 0..200, |x| match x {
        96..=98 | 198 => (20, 51),
        101 => (30, 51),
        102 => (15, 35),
        103 => (15, 51),
        _ => (50, 51),
    });
    let grid = GridInfo::from_dpi(101.6, ScaleSource::Grid); // 4 px/mm
    let first = panel(0.0, 99.0, 0.0, 99.0, 50.0);
    let second = Panel {
        col: 1,
        ..panel(100.0, 199.0, 0.0, 99.0, 50.0)
    };
    let layout = row_at_50(vec![first, second]);
    let t = thin_pen().trace_all(&m, &layout, &grid);
    let top = |i: usize| {
        t.traces[i]
            .points
            .iter()
            .map(|p| p[1])
            .fold(f32::MAX, f32::min)
    };
    assert!(
        top(0) > 45.0,
        "the separator bar was followed: top {}",
        top(0)
    );
    let end_top = t.traces[1]
        .points
        .iter()
        .filter(|p| p[0] > 190.0)
        .map(|p| p[1])
        .fold(f32::MAX, f32::min);
    assert!(
        end_top < 30.0,
        "the stroke at the row's end was dropped: top {end_top}"
    );
    let start_top = t.traces[1]
        .points
        .iter()
        .filter(|p| p[0] < 110.0)
        .map(|p| p[1])
        .fold(f32::MAX, f32::min);
    assert!(
        start_top < 22.0,
        "the spike after the separator was dropped: top {start_top}"
    );
}
