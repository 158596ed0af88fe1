//! Tests of `layout_detect`: rows, pulses and formats on synthetic masks.

use super::detect::*;
use super::pulse::*;
use ecgdig_core::prelude::*;
use image::{GrayImage, Luma};

/// A synthetic mask: `rows` rows with a pulse and a wavy trace of 10 s.
pub(crate) fn synthetic_mask(rows: usize, ppmm: f32) -> (GrayImage, Vec<f32>, f32) {
    let w = (280.0 * ppmm) as u32;
    let h = ((rows as f32 + 1.0) * 30.0 * ppmm) as u32;
    let mut img = GrayImage::new(w, h);
    let x_pulse = 10.0 * ppmm;
    let x_start = x_pulse + 5.0 * ppmm;
    let mut baselines = Vec::new();
    for r in 0..rows {
        let b = (r as f32 + 1.0) * 30.0 * ppmm;
        baselines.push(b);
        let mut put = |x: f32, y: f32| {
            if x >= 0.0 && y >= 0.0 && (x as u32) < w && (y as u32) < h {
                img.put_pixel(x as u32, y as u32, Luma([255]));
            }
        };
        // pulse
        for k in 0..(10.0 * ppmm) as i32 {
            put(x_pulse, b - k as f32);
            put(x_start, b - k as f32);
        }
        for k in 0..(5.0 * ppmm) as i32 {
            put(x_pulse + k as f32, b - 10.0 * ppmm);
        }
        // trace: 250 mm of a gentle wave with spikes
        let n = (250.0 * ppmm) as i32;
        let mut prev = b;
        for k in 0..n {
            let x = x_start + k as f32;
            let t = k as f32 / ppmm / 25.0;
            // flat isoelectric line, a T wave and a spike per beat
            let phase = t % 0.8;
            let mut y = b;
            if (0.3..0.5).contains(&phase) {
                y -= 2.0 * ppmm * ((phase - 0.3) * std::f32::consts::PI / 0.2).sin();
            }
            if phase < 0.02 {
                y -= 10.0 * ppmm;
            }
            let (a, c) = if y < prev { (y, prev) } else { (prev, y) };
            let mut yy = a;
            while yy <= c {
                put(x, yy);
                yy += 1.0;
            }
            prev = y;
        }
    }
    (img, baselines, x_start)
}

#[test]
fn with_the_image_a_signal_starts_a_pulse_length_after_the_pulses_start() {
    let ppmm = 4.0;
    let (mask, baselines, x_fall) = synthetic_mask(4, ppmm);
    // the page: the mask's ink, dark on white, with the rising edges'
    // ink spilling 60% into the next column (the mask saturates and
    // does not see it: its edge is x = 40, the image's 40.375)
    let rise = x_fall - 5.0 * ppmm;
    let mut img = image::RgbImage::from_fn(mask.width(), mask.height(), |x, y| {
        let v = 255 - mask.get_pixel(x, y).0[0];
        image::Rgb([v, v, v])
    });
    for &b in &baselines {
        for k in 1..(10.0 * ppmm) as u32 - 1 {
            let y = b as u32 - k;
            img.put_pixel(rise as u32 + 1, y, image::Rgb([102, 102, 102]));
        }
    }
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    let pps = grid.px_per_second();
    let config = LayoutDetectConfig::default();
    let edge = rise + 0.375;
    for fs in [500.0f32, 250.0] {
        let layout = config
            .detect_in(&mask, Some(&img), &grid, 10.0, fs)
            .unwrap();
        // the pulse starts 1.5 sample steps before its rise
        let want = edge + 0.2 * pps - 1.5 * pps / fs;
        for p in layout.panels.iter().filter(|p| p.col == 0) {
            assert!(
                (p.x_start - want).abs() < 0.03,
                "fs {fs}: {} vs {want}",
                p.x_start
            );
        }
        let v1 = layout.panels.iter().find(|p| p.lead == Lead::V1).unwrap();
        assert!(
            (v1.x_start - (want + 5.0 * pps)).abs() < 0.03,
            "{}",
            v1.x_start
        );
    }
    // from the mask alone the edge is the mask's
    let layout = config.detect(&mask, &grid, 10.0).unwrap();
    let want = rise + 0.2 * pps - 1.5 * pps / 500.0;
    assert!(
        (layout.panels[0].x_start - want).abs() < 0.03,
        "{}",
        layout.panels[0].x_start
    );
}

#[test]
fn a_row_between_pulsed_rows_that_lost_its_first_strokes_starts_with_them() {
    let ppmm = 4.0;
    let (mut mask, baselines, x_fall) = synthetic_mask(4, ppmm);
    // the third row's pulse and first 25 mm of trace are too faint to see
    let b = baselines[2];
    for x in 0..(x_fall + 25.0 * ppmm) as u32 {
        for y in (b - 12.0 * ppmm) as u32..=(b + 3.0 * ppmm) as u32 {
            mask.put_pixel(x, y, Luma([0]));
        }
    }
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    let rows = lenient().find_rows(&mask, &grid);
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows[2].pulse.is_none());
    assert!(
        (rows[2].x_start - rows[1].x_start).abs() < 0.01,
        "{} vs {}",
        rows[2].x_start,
        rows[1].x_start
    );
}

#[test]
fn a_ghost_row_of_grid_fragments_above_the_pulsed_rows_is_not_a_row() {
    let ppmm = 4.0;
    let (mut mask, baselines, _) = synthetic_mask(4, ppmm);
    // mask height leaves room above the first row: shift nothing, draw
    // a ruled line with short ticks (grid fragments through a crease)
    // one row spacing above the first row, as long as the rows
    let y0 = (baselines[0] - 30.0 * ppmm).max(10.0) as u32;
    let mut taller = GrayImage::new(mask.width(), mask.height() + 120);
    image::imageops::replace(&mut taller, &mask, 0, 120);
    mask = taller;
    let y0 = y0 + 120;
    for x in (10.0 * ppmm) as u32..(260.0 * ppmm) as u32 {
        mask.put_pixel(x, y0, Luma([255]));
        if x % 20 == 0 {
            for dy in 1..8 {
                mask.put_pixel(x, y0 - dy, Luma([255]));
            }
        }
    }
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    // (the synthetic rows wave little: the absolute bar is lowered so
    // that only the relative one can tell the ghost row)
    // (nor the missed pulse's edge: this rule alone)
    let low_bar = LayoutDetectConfig {
        min_waviness: 0.2,
        missed_pulse_min_density: 0.0,
        ..LayoutDetectConfig::default()
    };
    let all = LayoutDetectConfig {
        min_relative_waviness: 0.0,
        ..low_bar.clone()
    }
    .find_rows(&mask, &grid);
    assert_eq!(all.len(), 5, "{all:?}");
    let rows = low_bar.find_rows(&mask, &grid);
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows.iter().all(|r| r.pulse.is_some()));
}

#[test]
fn a_wavy_line_crowded_between_pulsed_rows_is_not_a_row() {
    let ppmm = 4.0;
    let (mut mask, baselines, _) = synthetic_mask(4, ppmm);
    // a wavy line without a pulse 8 mm under the second row (spacing
    // 30 mm), as dark grid lines or text leave on black-and-white pages
    let y0 = baselines[1] + 8.0 * ppmm;
    for x in (20.0 * ppmm) as u32..(260.0 * ppmm) as u32 {
        let y = y0 + 2.0 * ppmm * ((x as f32 / (3.0 * ppmm)).sin());
        for dy in 0..2 {
            mask.put_pixel(x, y as u32 + dy, Luma([255]));
        }
    }
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    let layout = LayoutDetectConfig::default()
        .detect(&mask, &grid, 10.0)
        .unwrap();
    assert_eq!(layout.row_baselines.len(), 4, "{:?}", layout.row_baselines);
    assert_eq!(layout.kind, LayoutKind::ThreeByFourRhythm);
}

#[test]
fn a_rhythm_strip_whose_pulse_is_missed_is_still_a_row() {
    let ppmm = 4.0;
    let (mut mask, baselines, x_start) = synthetic_mask(4, ppmm);
    // rub out the last row's pulse
    let b = baselines[3];
    for x in 0..(x_start + 1.0) as u32 {
        for y in (b - 12.0 * ppmm) as u32..=(b + 1.0) as u32 {
            mask.put_pixel(x, y, Luma([0]));
        }
    }
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    // the synthetic trace waves less than a real one: without its pulse
    // the row needs a lower waviness bar
    let config = LayoutDetectConfig {
        min_waviness: 0.5,
        ..LayoutDetectConfig::default()
    };
    let layout = config.detect(&mask, &grid, 10.0).unwrap();
    assert_eq!(layout.row_baselines.len(), 4, "{:?}", layout.row_baselines);
    assert_eq!(layout.kind, LayoutKind::ThreeByFourRhythm);
}

#[test]
fn a_pulse_is_not_found_in_a_neighbours_pulse_or_in_grid_lines() {
    let ppmm = 4.0;
    let (mut mask, baselines, x_start) = synthetic_mask(2, ppmm);
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let find = |m: &GrayImage, b: f32| {
        find_pulse(
            m.as_raw(),
            w,
            h,
            100,
            (x_start - 5.0 * ppmm) as usize,
            b,
            ppmm,
            ppmm,
        )
    };
    assert!(find(&mask, baselines[0]).is_some());
    // 10.5 mm under the first row, its pulse and trace look like a pulse
    // standing on that line
    assert!(find(&mask, baselines[0] + 10.5 * ppmm).is_none());
    // dark vertical grid lines 5 mm apart, the whole page tall, and a
    // horizontal one 10 mm over a would-be baseline
    let xg = (200.0 * ppmm) as u32;
    for y in 0..h as u32 {
        mask.put_pixel(xg, y, Luma([255]));
        mask.put_pixel(xg + (5.0 * ppmm) as u32, y, Luma([255]));
    }
    let b = baselines[1] - 15.0 * ppmm;
    for x in xg - 40..xg + 60 {
        mask.put_pixel(x, (b - 10.0 * ppmm) as u32, Luma([255]));
    }
    let at_grid = find_pulse(mask.as_raw(), w, h, 100, xg as usize, b, ppmm, ppmm);
    assert!(at_grid.is_none(), "{at_grid:?}");
}

#[test]
fn a_pulse_whose_edges_lie_on_dotted_grid_lines_is_found() {
    // a grid the segmenter left in the mask: vertical lines every 5 mm,
    // two pixels in three inked, through both edges of the pulse
    let ppmm = 8.0;
    let (mut mask, baselines, x_start) = synthetic_mask(1, ppmm);
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let x_pulse = x_start - 5.0 * ppmm;
    for x in [x_pulse - 5.0 * ppmm, x_pulse, x_start, x_start + 5.0 * ppmm] {
        for y in (0..h as u32).filter(|y| y % 3 != 0) {
            mask.put_pixel(x as u32, y, Luma([255]));
        }
    }
    let found = find_pulse(
        mask.as_raw(),
        w,
        h,
        100,
        (x_start - 5.0 * ppmm) as usize,
        baselines[0],
        ppmm,
        ppmm,
    );
    let (rise, fall) = found.expect("the pulse");
    assert!(
        (rise - x_pulse).abs() < 1.0 && (fall - x_start).abs() < 1.0,
        "{rise} {fall}"
    );
}

#[test]
fn lines_above_and_below_the_pulsed_rows_are_not_rows() {
    let ppmm = 4.0;
    let (mut mask, baselines, _) = synthetic_mask(4, ppmm);
    // header text and shadow edges: wavy lines without a pulse above the
    // first row and below the last, too many for a "most rows" rule
    let mut wavy = |y0: f32| {
        for x in (20.0 * ppmm) as u32..(260.0 * ppmm) as u32 {
            let y = y0 + 2.0 * ppmm * ((x as f32 / (3.0 * ppmm)).sin());
            for dy in 0..2 {
                mask.put_pixel(x, (y as u32 + dy).min(mask.height() - 1), Luma([255]));
            }
        }
    };
    wavy(3.0 * ppmm);
    wavy(11.0 * ppmm);
    wavy(baselines[3] + 20.0 * ppmm);
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    let rows = LayoutDetectConfig::default().find_rows(&mask, &grid);
    let ys: Vec<f32> = rows.iter().map(|r| r.baseline_y).collect();
    assert_eq!(rows.len(), 4, "{ys:?}");
    for (a, b) in ys.iter().zip(&baselines) {
        assert!((a - b).abs() < 1.5, "{ys:?}");
    }
}

/// The detector with a waviness bar the synthetic traces pass (they
/// wave less than real ones) without their pulses.
fn lenient() -> LayoutDetectConfig {
    LayoutDetectConfig {
        min_waviness: 0.5,
        ..LayoutDetectConfig::default()
    }
}

/// Erases the calibration pulse of the row at baseline `b`.
fn rub_out_pulse(mask: &mut GrayImage, b: f32, x_start: f32, ppmm: f32) {
    for x in 0..(x_start + 1.0) as u32 {
        for y in (b - 12.0 * ppmm) as u32..=(b + 1.0) as u32 {
            mask.put_pixel(x, y, Luma([0]));
        }
    }
}

/// Replaces a row's trace after its pulse by a dotted flat line at the
/// baseline `b` (a low-voltage trace that neither waves nor stands out
/// in the projection).
fn flatten_after_pulse(mask: &mut GrayImage, b: f32, x_start: f32, ppmm: f32) {
    for x in (x_start + 2.0) as u32..mask.width() {
        for y in (b - 12.0 * ppmm) as u32..=((b + 3.0 * ppmm) as u32).min(mask.height() - 1) {
            mask.put_pixel(x, y, Luma([0]));
        }
        if x % 3 == 0 {
            mask.put_pixel(x, b as u32, Luma([255]));
        }
    }
}

#[test]
fn a_page_whose_only_row_is_a_bare_pulse_is_not_read() {
    // one row: a pulse and a dotted flat line, no wave at all (the rest
    // of the page lost to segmentation)
    let ppmm = 4.0;
    let (mut mask, baselines, x_start) = synthetic_mask(1, ppmm);
    let b = baselines[0];
    flatten_after_pulse(&mut mask, b, x_start, ppmm);
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    let config = LayoutDetectConfig::default();
    assert!(config.find_rows(&mask, &grid).is_empty());
    assert!(config.detect(&mask, &grid, 10.0).is_err());
}

#[test]
fn several_rhythm_strips_without_pulses_chain_on() {
    let ppmm = 4.0;
    let (mut mask, baselines, x_start) = synthetic_mask(5, ppmm);
    // the last two rows (two rhythm strips) have no pulse
    for &b in &baselines[3..] {
        rub_out_pulse(&mut mask, b, x_start, ppmm);
    }
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    let rows = lenient().find_rows(&mask, &grid);
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert!(rows[3].pulse.is_none() && rows[4].pulse.is_none());
}

#[test]
fn a_header_row_above_the_pulsed_rows_needs_its_missed_pulses_edge() {
    let ppmm = 4.0;
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    // the first of five rows has no pulse at all: grid fragments and
    // text in a header, one row spacing above the pulsed rows, look so
    let (mut ghost, baselines, x_start) = synthetic_mask(5, ppmm);
    rub_out_pulse(&mut ghost, baselines[0], x_start, ppmm);
    let unchecked = LayoutDetectConfig {
        missed_pulse_min_density: 0.0,
        ..lenient()
    };
    assert_eq!(unchecked.find_rows(&ghost, &grid).len(), 5);
    let rows = lenient().find_rows(&ghost, &grid);
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows.iter().all(|r| r.pulse.is_some()));
    // a real first row whose pulse was missed (its top cut off by the
    // page's edge) still shows the rising edge, and stays
    let (mut cut, baselines, x_start) = synthetic_mask(5, ppmm);
    let top = (baselines[0] - 10.0 * ppmm) as u32;
    for x in (x_start - 4.0 * ppmm) as u32..(x_start - 1.0 * ppmm) as u32 {
        for y in top - 2..=top + 2 {
            cut.put_pixel(x, y, Luma([0]));
        }
    }
    let rows = lenient().find_rows(&cut, &grid);
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert!(rows[0].pulse.is_none());
}

#[test]
fn a_header_text_line_above_the_rows_is_not_a_row() {
    // three rows whose pulses the crop cut off, and 20 mm over the
    // first a line of header text: 100 mm of glyph strokes
    let ppmm = 4.0;
    let (mut mask, baselines, x_start) = synthetic_mask(3, ppmm);
    for &b in &baselines {
        rub_out_pulse(&mut mask, b, x_start, ppmm);
    }
    let y = (baselines[0] - 20.0 * ppmm) as u32;
    for x in (60.0 * ppmm) as u32..(160.0 * ppmm) as u32 {
        mask.put_pixel(x, y, Luma([255]));
        if x % 4 == 0 {
            for dy in 1..(2.5 * ppmm) as u32 {
                mask.put_pixel(x, y - dy, Luma([255]));
            }
        }
    }
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    let keep_text = LayoutDetectConfig {
        min_header_row_fraction: 0.0,
        ..lenient()
    };
    assert_eq!(keep_text.find_rows(&mask, &grid).len(), 4);
    let rows = lenient().find_rows(&mask, &grid);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!((rows[0].baseline_y - baselines[0]).abs() < 1.5);
}

#[test]
fn on_a_coarse_page_the_waviness_bar_is_lowered_in_proportion() {
    // three rows without pulses on a 3.5 px/mm page: the bar is set a
    // half over what their traces show, which the coarse page's
    // proportional bar (3.5 / 7.874 of it) lets through
    let ppmm = 3.5;
    let (mut mask, baselines, x_start) = synthetic_mask(3, ppmm);
    for &b in &baselines {
        rub_out_pulse(&mut mask, b, x_start, ppmm);
    }
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    let found = lenient().find_rows(&mask, &grid);
    assert_eq!(found.len(), 3, "{found:?}");
    let wave = found.iter().map(|r| r.waviness).fold(f32::MAX, f32::min);
    let high_bar = LayoutDetectConfig {
        min_waviness: 1.5 * wave,
        ..lenient()
    };
    assert_eq!(high_bar.find_rows(&mask, &grid).len(), 3);
    let unscaled = LayoutDetectConfig {
        waviness_px_per_mm: 0.0,
        ..high_bar
    };
    assert!(unscaled.find_rows(&mask, &grid).is_empty());
}

#[test]
fn a_rhythm_strip_cut_by_the_pages_edge_is_still_a_row() {
    let ppmm = 4.0;
    let (mut mask, baselines, x_start) = synthetic_mask(4, ppmm);
    // a rotated photo's edge cuts off the last row's pulse and its last
    // 60 mm: it neither has a pulse nor ends where the others do
    let b = baselines[3];
    let cut = x_start + 190.0 * ppmm;
    for x in 0..mask.width() {
        if (x as f32) <= x_start + 1.0 || (x as f32) >= cut {
            for y in (b - 12.0 * ppmm) as u32..=((b + 3.0 * ppmm) as u32).min(mask.height() - 1) {
                mask.put_pixel(x, y, Luma([0]));
            }
        }
    }
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    let rows = lenient().find_rows(&mask, &grid);
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows[3].pulse.is_none());
    assert!((rows[3].baseline_y - b).abs() < 1.5);
}

#[test]
fn a_quiet_rhythm_strip_with_its_pulse_is_a_row() {
    let ppmm = 4.0;
    let (mut mask, baselines, x_start) = synthetic_mask(4, ppmm);
    // flatten the last row's trace to a low-voltage line (its pulse
    // stays): it neither waves nor stands out in the projection
    let b = baselines[3];
    flatten_after_pulse(&mut mask, b, x_start, ppmm);
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    // (the synthetic waves pass a 0.5 waviness bar, the flat line none)
    let strict = LayoutDetectConfig {
        min_waviness: 0.5,
        ..LayoutDetectConfig::default()
    };
    let rows = strict.find_rows(&mask, &grid);
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!((rows[3].baseline_y - b).abs() < 1.5);
}

#[test]
fn finds_four_rows_with_pulses() {
    let ppmm = 4.0;
    let (mask, baselines, x_start) = synthetic_mask(4, ppmm);
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    let layout = LayoutDetectConfig::default()
        .detect(&mask, &grid, 10.0)
        .unwrap();
    assert_eq!(layout.kind, LayoutKind::ThreeByFourRhythm);
    assert_eq!(layout.row_baselines.len(), 4);
    for (a, b) in layout.row_baselines.iter().zip(&baselines) {
        assert!((a - b).abs() < 1.5, "{a} vs {b}");
    }
    assert_eq!(layout.panels.len(), 13);
    let rhythm = layout.panels.iter().find(|p| p.rhythm).unwrap();
    assert_eq!(rhythm.lead, Lead::II);
    assert!((rhythm.x_start - x_start).abs() < 2.0, "{}", rhythm.x_start);
    let v1 = layout.panels.iter().find(|p| p.lead == Lead::V1).unwrap();
    assert_eq!((v1.row, v1.col), (0, 2));
    assert!((v1.t_start - 5.0).abs() < 1e-6);
    assert!((v1.x_start - (x_start + 5.0 * 25.0 * ppmm)).abs() < 2.0);
}

#[test]
fn blank_mask_is_not_an_ecg() {
    let mask = GrayImage::new(400, 300);
    let grid = GridInfo::from_dpi(100.0, ScaleSource::Assumed);
    let err = LayoutDetectConfig::default()
        .detect(&mask, &grid, 10.0)
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::NotEcg);
}

#[test]
fn without_pulses_a_row_that_took_the_page_edge_for_its_start_keeps_the_margin() {
    // four rows, pulses rubbed out; one row's ink reaches back to the
    // page's edge (a stub of grid line at x 0..3 on its baseline)
    let ppmm = 4.0;
    let (mut mask, baselines, x_start) = synthetic_mask(4, ppmm);
    for &b in &baselines {
        rub_out_pulse(&mut mask, b, x_start, ppmm);
    }
    let b = baselines[1] as u32;
    for x in 0..(x_start as u32) {
        mask.put_pixel(x, b, Luma([255]));
    }
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    let rows = lenient().find_rows(&mask, &grid);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.pulse.is_none()));
    assert!(
        (rows[1].x_start - rows[0].x_start).abs() < 2.0,
        "{} vs {}",
        rows[1].x_start,
        rows[0].x_start
    );
    let own = LayoutDetectConfig {
        margin_outlier_mm: 0.0,
        ..lenient()
    };
    assert!(own.find_rows(&mask, &grid)[1].x_start < 1.0);
}

#[test]
fn without_pulses_rows_start_at_their_trace_not_at_grid_fragments_before_it() {
    // every row's baseline carries what a dark grid line left in the mask
    // left of its trace (a pixel every 1.5 mm, bridged by the 4 mm gap
    // rule); no row has a pulse, so no other row can lend its start
    let ppmm = 6.0;
    let (mut mask, baselines, x_start) = synthetic_mask(4, ppmm);
    for &b in &baselines {
        rub_out_pulse(&mut mask, b, x_start, ppmm);
        for x in (0..(x_start as u32).saturating_sub(2)).step_by(9) {
            mask.put_pixel(x, b as u32, Luma([255]));
        }
    }
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    let rows = lenient().find_rows(&mask, &grid);
    assert_eq!(rows.len(), 4);
    for r in &rows {
        assert!(r.pulse.is_none());
        assert!(
            // (the rubbing-out took the trace's first pixels)
            (r.x_start - x_start).abs() <= 0.5 * ppmm,
            "row at {} starts at {} (trace at {x_start})",
            r.baseline_y,
            r.x_start
        );
    }
}

#[test]
fn rows_whose_ink_reaches_the_page_edge_start_past_the_grid_lines_there() {
    // a dark grid's horizontal lines survive in the mask from the page's
    // edge to past the trace's start, dashed, one of them 1 mm above the
    // baseline and one 1 mm below: solid enough to pass for ink, but
    // straight; no pulses
    let ppmm = 6.0;
    let (mut mask, baselines, x_start) = synthetic_mask(4, ppmm);
    for &b in &baselines {
        rub_out_pulse(&mut mask, b, x_start, ppmm);
        for dy in [-ppmm, ppmm] {
            let y = (b + dy) as u32;
            for x in 0..(x_start + 30.0 * ppmm) as u32 {
                if x % 10 < 7 {
                    mask.put_pixel(x, y, Luma([255]));
                }
            }
        }
    }
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    let rows = lenient().find_rows(&mask, &grid);
    assert_eq!(rows.len(), 4);
    for r in &rows {
        assert!(
            (r.x_start - x_start).abs() <= 0.5 * ppmm,
            "row at {} starts at {} (trace at {x_start})",
            r.baseline_y,
            r.x_start
        );
    }
}
