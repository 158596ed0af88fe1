//! Tests of the rules that find and complete a page's rows, and of the
//! layout their labels pick.

use super::detect::Row;
use super::rows::{fill_gaps, row_spacing, slanted_line};

fn row(y: f32, x0: f32, x1: f32) -> Row {
    Row {
        baseline_y: y,
        ink_x0: x0,
        ink_x1: x1,
        x_start: x0,
        pulse: None,
        end_pulse: Some((x1 + 5.0, x1 + 25.0)),
        x_stop: None,
        waviness: 0.5,
    }
}

/// Twelve rows 60 px apart, the tenth missing.
fn rows_but_one() -> Vec<Row> {
    (0..12)
        .filter(|&k| k != 9)
        .map(|k| row(100.0 + 60.0 * k as f32, 60.0, 1100.0))
        .collect()
}

#[test]
fn spacing_counts_a_gap_over_a_missed_row_as_two_spacings() {
    assert!((row_spacing(&[0.0, 230.0, 920.0, 1150.0]) - 230.0).abs() < 1.0);
    assert!(row_spacing(&[5.0]).is_nan());
}

#[test]
fn a_quiet_row_where_the_spacing_leaves_a_gap_is_a_row() {
    let mut rows = rows_but_one();
    // the missing flat lead, its ink stopping short of the others; a quiet
    // run of grid fragments elsewhere, off the beat
    let quiet = vec![
        row(100.0 + 60.0 * 9.0 + 3.0, 60.0, 1000.0),
        row(100.0 + 60.0 * 4.0 + 30.0, 60.0, 1100.0),
    ];
    fill_gaps(&mut rows, quiet);
    let ys: Vec<f32> = rows.iter().map(|r| r.baseline_y).collect();
    assert_eq!(rows.len(), 12, "{ys:?}");
    assert!((ys[9] - 643.0).abs() < 0.5, "{ys:?}");
}

#[test]
fn short_quiet_rows_and_irregular_pages_are_not_filled() {
    // a quiet row too short to be a lead (a line of header text)
    let mut rows = rows_but_one();
    fill_gaps(&mut rows, vec![row(640.0, 60.0, 400.0)]);
    assert_eq!(rows.len(), 11);
    // rows without a regular spacing: nothing is inferred between them
    let mut rows = vec![
        row(100.0, 60.0, 1100.0),
        row(150.0, 60.0, 1100.0),
        row(400.0, 60.0, 1100.0),
        row(620.0, 60.0, 1100.0),
    ];
    fill_gaps(
        &mut rows,
        vec![row(510.0, 60.0, 1100.0), row(300.0, 60.0, 1100.0)],
    );
    assert_eq!(rows.len(), 4);
}

/// A `w x h` mask with `line(x)` drawn as one-pixel ink for each column.
fn draw(mask: &mut [u8], w: usize, xs: std::ops::Range<usize>, line: impl Fn(usize) -> f32) {
    for x in xs {
        let y = line(x).round() as usize;
        mask[y * w + x] = 255;
    }
}

#[test]
fn a_slanted_straight_line_is_a_line_and_a_level_one_or_a_trace_is_not() {
    let (w, h, ppy) = (1200usize, 200usize, 4.0f32);
    let mut m = vec![0u8; w * h];
    // falls 10 px (2.5 mm) over 1000 px
    draw(&mut m, w, 100..1100, |x| 80.0 + 0.01 * x as f32);
    assert!(slanted_line(&m, w, 128, (60, 110), (100, 1099), ppy));
    let mut m = vec![0u8; w * h];
    draw(&mut m, w, 100..1100, |_| 90.0);
    assert!(!slanted_line(&m, w, 128, (70, 110), (100, 1099), ppy));
    // the same slant with a beat every 80 px: a tilted trace waves
    let mut m = vec![0u8; w * h];
    draw(&mut m, w, 100..1100, |x| {
        80.0 + 0.01 * x as f32 - if x % 80 < 10 { 8.0 } else { 0.0 }
    });
    assert!(!slanted_line(&m, w, 128, (60, 110), (100, 1099), ppy));
}

#[test]
fn a_sheets_slanted_edge_above_the_traces_is_not_a_row() {
    use super::detect::LayoutDetectConfig;
    use ecgdig_core::prelude::*;
    let (w, h) = (1200usize, 600usize);
    let mut m = vec![0u8; w * h];
    // the sheet's top edge (a shadow 4 px thick, falling 3 mm across the
    // page), then three wavy rows
    for k in 0..4 {
        draw(&mut m, w, 40..1160, |x| {
            30.0 + k as f32 + 12.0 * x as f32 / 1120.0
        });
    }
    for b in [180.0f32, 320.0, 460.0] {
        for x in 100..1100usize {
            let phase = (x % 80) as f32;
            let y =
                b - if phase < 6.0 {
                    40.0 * (phase / 6.0)
                } else {
                    0.0
                } - 6.0 * (x as f32 * 0.05).sin();
            let (top, bottom) = (y.min(b) as usize, y.max(b) as usize);
            for yy in top..=bottom {
                m[yy * w + x] = 255;
            }
        }
    }
    let mask = image::GrayImage::from_raw(w as u32, h as u32, m).expect("mask size");
    let grid = GridInfo::from_dpi(4.0 * 25.4, ScaleSource::Grid);
    let rows = LayoutDetectConfig::default().find_rows(&mask, &grid);
    let ys: Vec<f32> = rows.iter().map(|r| r.baseline_y).collect();
    assert_eq!(rows.len(), 3, "{ys:?}");
    assert!(ys[0] > 150.0, "{ys:?}");
}

/// Three rows of a wavy trace from x = 120 (8 px per mm), each with `label`
/// drawn by `put_label(mask, baseline)`.
fn labelled_rows(put_label: impl Fn(&mut image::GrayImage, f32)) -> image::GrayImage {
    let (w, h) = (2200u32, 700u32);
    let mut mask = image::GrayImage::new(w, h);
    for b in [180.0f32, 380.0, 580.0] {
        for x in 120..2120u32 {
            let phase = (x % 160) as f32;
            let spike = if phase < 10.0 {
                60.0 * (phase / 10.0)
            } else {
                0.0
            };
            let y = b - spike - 8.0 * (x as f32 * 0.03).sin();
            let (top, bottom) = (y.min(b) as u32, y.max(b) as u32);
            for yy in top..=bottom {
                mask.put_pixel(x, yy, image::Luma([255]));
            }
        }
        put_label(&mut mask, b);
    }
    mask
}

fn starts(mask: &image::GrayImage) -> Vec<f32> {
    use super::detect::LayoutDetectConfig;
    use ecgdig_core::prelude::*;
    let grid = GridInfo::from_dpi(8.0 * 25.4, ScaleSource::Grid);
    let cfg = LayoutDetectConfig {
        min_waviness: 0.5,
        ..LayoutDetectConfig::default()
    };
    cfg.find_rows(mask, &grid)
        .iter()
        .map(|r| r.x_start)
        .collect()
}

#[test]
fn a_lead_name_printed_on_the_baseline_before_the_trace_does_not_start_the_row() {
    let font = ab_glyph::FontRef::try_from_slice(dejavu::sans::regular()).expect("bundled font");
    // `aVR` 3 mm tall, its right end 1.5 mm before the trace, centred on
    // the baseline
    let left = labelled_rows(|m, b| {
        super::labels::tests::draw_text(m, &font, "aVR", 32.0, 62.0, b - 16.0)
    });
    let s = starts(&left);
    assert_eq!(s.len(), 3, "{s:?}");
    assert!(s.iter().all(|&x| (x - 120.0).abs() <= 2.0), "{s:?}");
    // a label under the trace's first strokes (ecg-image-kit) leaves the
    // start where the ink starts
    let under = labelled_rows(|m, b| {
        super::labels::tests::draw_text(m, &font, "aVR", 32.0, 121.0, b + 12.0)
    });
    let s = starts(&under);
    assert!(s.iter().all(|&x| (x - 120.0).abs() <= 2.0), "{s:?}");
}

#[test]
fn a_lone_pulse_does_not_keep_a_short_row_above_the_traces() {
    // three full-width rows without pulses (a cropped page) under a short
    // header row that starts with a pulse-like box (stacked text edges)
    let mut mask = labelled_rows(|_, _| {});
    let (x0, top, wid, b) = (400u32, 80u32, 40u32, 90u32);
    for k in 0..=top {
        mask.put_pixel(x0, b - k + 5, image::Luma([255]));
        mask.put_pixel(x0 + wid, b - k + 5, image::Luma([255]));
    }
    for k in 0..=wid {
        mask.put_pixel(x0 + k, b + 5 - top, image::Luma([255]));
    }
    for x in x0 + wid..1000 {
        let y = b + 5 - ((x % 23) * 2).min(30);
        for yy in y..=b + 5 {
            mask.put_pixel(x, yy, image::Luma([255]));
        }
    }
    for x in x0 - 20..=x0 {
        mask.put_pixel(x, b + 5, image::Luma([255]));
    }
    let s = starts(&mask);
    assert_eq!(s.len(), 3, "{s:?}");
}

/// The leads `detect` names on three rows labelled `names` at their left.
fn leads_named(names: [&'static str; 3]) -> Vec<ecgdig_core::prelude::Lead> {
    use super::detect::LayoutDetectConfig;
    use ecgdig_core::prelude::*;
    let font = ab_glyph::FontRef::try_from_slice(dejavu::sans::regular()).expect("bundled font");
    let k = std::cell::Cell::new(0usize);
    let mask = labelled_rows(|m, b| {
        let text = names[k.get().min(2)];
        k.set(k.get() + 1);
        super::labels::tests::draw_text(m, &font, text, 32.0, 80.0, b - 16.0)
    });
    let grid = GridInfo::from_dpi(8.0 * 25.4, ScaleSource::Grid);
    let cfg = LayoutDetectConfig {
        min_waviness: 0.5,
        ..LayoutDetectConfig::default()
    };
    let layout = cfg.detect(&mask, &grid, 10.0).expect("a layout");
    layout.panels.iter().map(|p| p.lead).collect()
}

#[test]
fn a_first_column_that_fits_the_prior_keeps_it() {
    use ecgdig_core::prelude::Lead;
    // I, II, III read the same under 3x4 and 3x2 limb: the prior stays
    let leads = leads_named(["I", "II", "III"]);
    assert_eq!(leads.len(), 12, "{leads:?}");
    assert_eq!(&leads[..4], &[Lead::I, Lead::AVR, Lead::V1, Lead::V4]);
}

#[test]
fn a_page_naming_only_its_first_column_picks_the_layout_its_names_fit() {
    use ecgdig_core::prelude::Lead;
    // three rows labelled V1, V2 and V3 at their left only: a 3x2 chest
    // page, not the 3x4 the row count suggests
    assert_eq!(
        leads_named(["V1", "V2", "V3"]),
        vec![Lead::V1, Lead::V4, Lead::V2, Lead::V5, Lead::V3, Lead::V6]
    );
}

#[test]
fn specks_a_grid_left_are_neither_rows_nor_a_rows_start() {
    use super::detect::LayoutDetectConfig;
    use ecgdig_core::prelude::*;
    // three traces (2 px pen, a beat every 20 mm) from x = 120 at 8 px
    // per mm, and what a dark grid leaves after its removal: 3 px stubs
    // 5 px apart along every line of its 1 mm lattice, over the whole page
    let (w, h) = (2200u32, 700u32);
    let mut mask = image::GrayImage::new(w, h);
    for y in (4..h).step_by(8) {
        for x in (0..w - 2).step_by(5) {
            for dx in 0..3 {
                mask.put_pixel(x + dx, y, image::Luma([255]));
            }
        }
    }
    for b in [180.0f32, 380.0, 580.0] {
        let trace = |x: u32| {
            let phase = (x % 160) as f32;
            let spike = if phase < 10.0 {
                60.0 * (phase / 10.0)
            } else {
                0.0
            };
            b - spike - 8.0 * (x as f32 * 0.03).sin()
        };
        for x in 120..2120u32 {
            let (a, c) = (trace(x), trace(x + 1));
            for yy in a.min(c) as u32..=a.max(c) as u32 + 1 {
                mask.put_pixel(x, yy, image::Luma([255]));
            }
        }
    }
    let grid = GridInfo::from_dpi(8.0 * 25.4, ScaleSource::Grid);
    let cfg = LayoutDetectConfig {
        min_waviness: 0.5,
        ..LayoutDetectConfig::default()
    };
    let rows = cfg.find_rows(&mask, &grid);
    let found: Vec<(f32, f32)> = rows.iter().map(|r| (r.baseline_y, r.x_start)).collect();
    assert_eq!(rows.len(), 3, "{found:?}");
    for (_, x) in found {
        assert!((x - 120.0).abs() <= 2.0, "row starts at {x}");
    }
}
