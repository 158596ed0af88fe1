//! Tests of calibration pulses at either end of a row, at both, or at
//! neither: the panels never reach into a pulse, and the pulse's height
//! gives the gain wherever it stands.

use super::calibration::{pulse_heights, CalibrationPulseConfig};
use super::detect::LayoutDetectConfig;
use super::pulse::{find_pulse, find_pulse_in, RowEnd};
use ecgdig_core::prelude::*;
use image::{GrayImage, Luma};

/// Where the synthetic page's pulses stand and how they look.
#[derive(Clone, Copy)]
struct Pulses {
    start: bool,
    end: bool,
    /// Width (mm between the edges) and height (mm).
    width_mm: f32,
    height_mm: f32,
    /// Gap (mm) between the trace's last point and the end pulse's rise.
    end_gap_mm: f32,
}

const PPMM: f32 = 4.0;
/// The traces start 15 mm from the left edge and run 250 mm (10 s).
const TRACE_X0_MM: f32 = 15.0;

/// Four rows (3x4 + rhythm strip), 30 mm apart, of a wavy trace with a
/// spike per beat (one at the trace's very start), with pulses as asked.
/// Returns the mask, the baselines, the trace's first and last x, and the
/// end pulses' rising edge x.
fn page(p: Pulses) -> (GrayImage, Vec<f32>, f32, f32, f32) {
    page_of_rows(p, 4, |_| true)
}

/// [`page`] with `rows` rows; on the rows `joined` rejects, the baseline
/// does not run on from the trace's end to the end pulse.
fn page_of_rows(
    p: Pulses,
    rows: usize,
    joined: impl Fn(usize) -> bool,
) -> (GrayImage, Vec<f32>, f32, f32, f32) {
    let w = (300.0 * PPMM) as u32;
    let h = ((rows + 1) as f32 * 30.0 * PPMM) as u32;
    let mut img = GrayImage::new(w, h);
    let x0 = TRACE_X0_MM * PPMM;
    let n = (250.0 * PPMM) as i32;
    let x1 = x0 + (n - 1) as f32;
    let end_rise = x1 + p.end_gap_mm * PPMM;
    let mut baselines = Vec::new();
    let put = |img: &mut GrayImage, x: f32, y: f32| {
        if x >= 0.0 && y >= 0.0 && (x as u32) < w && (y as u32) < h {
            img.put_pixel(x as u32, y as u32, Luma([255]));
        }
    };
    for r in 0..rows {
        let b = (r as f32 + 1.0) * 30.0 * PPMM;
        baselines.push(b);
        let rect = |img: &mut GrayImage, xa: f32| {
            let (top, wid) = (p.height_mm * PPMM, p.width_mm * PPMM);
            for k in 0..=top as i32 {
                put(img, xa, b - k as f32);
                put(img, xa + wid, b - k as f32);
            }
            for k in 0..=wid as i32 {
                put(img, xa + k as f32, b - top);
            }
        };
        if p.start {
            rect(&mut img, x0 - p.width_mm * PPMM);
        }
        if p.end {
            // the baseline from the trace's end to the pulse, then the
            // pulse and a little baseline after it
            for x in (x1 as i32..=end_rise as i32).filter(|_| joined(r)) {
                put(&mut img, x as f32, b);
            }
            rect(&mut img, end_rise);
            for k in 0..(0.5 * PPMM) as i32 {
                put(&mut img, end_rise + p.width_mm * PPMM + k as f32, b);
            }
        }
        let mut prev = b;
        for k in 0..n {
            let x = x0 + k as f32;
            let t = k as f32 / PPMM / 25.0;
            let phase = t % 0.8;
            let mut y = b;
            if (0.3..0.5).contains(&phase) {
                y -= 2.0 * PPMM * ((phase - 0.3) * std::f32::consts::PI / 0.2).sin();
            }
            if phase < 0.02 {
                y -= 10.0 * PPMM;
            }
            if k == n - 1 {
                y = b;
            }
            let (a, c) = if y < prev { (y, prev) } else { (prev, y) };
            let mut yy = a;
            while yy <= c {
                put(&mut img, x, yy);
                yy += 1.0;
            }
            prev = y;
        }
    }
    (img, baselines, x0, x1, end_rise)
}

fn grid() -> GridInfo {
    GridInfo {
        source: ScaleSource::Grid,
        confidence: 0.9,
        ..GridInfo::from_dpi(PPMM * 25.4, ScaleSource::Grid)
    }
}

/// The synthetic traces wave less than real ones.
fn config() -> LayoutDetectConfig {
    LayoutDetectConfig {
        min_waviness: 0.5,
        ..LayoutDetectConfig::default()
    }
}

/// The gain the calibration stage reads from the page's pulses.
fn gain(mask: &GrayImage, layout: &Layout) -> (f32, usize) {
    let hs = pulse_heights(mask, layout, &grid(), 128);
    (
        CalibrationPulseConfig::default()
            .reconcile(&grid(), &hs)
            .mm_per_mv,
        hs.len(),
    )
}

/// Each row's last panel (the largest `x_end`).
fn last_panels(layout: &Layout) -> Vec<&Panel> {
    (0..4)
        .filter_map(|r| {
            layout
                .panels
                .iter()
                .filter(|p| p.row == r)
                .max_by(|a, b| a.x_end.total_cmp(&b.x_end))
        })
        .collect()
}

#[test]
fn a_pulse_at_the_rows_end_stays_out_of_the_last_panel_and_gives_the_gain() {
    // the trace runs straight into a 20 mm (20 mm/mV) pulse, 0.2 s wide
    let (mask, _, x0, _, rise) = page(Pulses {
        start: false,
        end: true,
        width_mm: 5.0,
        height_mm: 20.0,
        end_gap_mm: 0.0,
    });
    let rows = config().find_rows(&mask, &grid());
    assert_eq!(rows.len(), 4, "{rows:?}");
    for r in &rows {
        assert!(r.pulse.is_none(), "{r:?}");
        let (er, _) = r.end_pulse.expect("end pulse");
        assert!((er - rise).abs() < 1.5, "{er} vs {rise}");
    }
    let layout = config().detect(&mask, &grid(), 10.0).unwrap();
    assert_eq!(layout.kind, LayoutKind::ThreeByFourRhythm);
    let lasts = last_panels(&layout);
    assert_eq!(lasts.len(), 4);
    for p in lasts {
        // before the pulse's rise (and its pen), losing under 1 mm
        assert!(p.x_end < rise - 0.5, "{} vs {rise}", p.x_end);
        assert!(p.x_end > rise - 1.0 * PPMM, "{} vs {rise}", p.x_end);
    }
    for p in layout.panels.iter().filter(|p| p.col == 0) {
        assert!((p.x_start - x0).abs() < 1.0, "{} vs {x0}", p.x_start);
    }
    // the spike at the trace's start is no pulse: the gain is the end
    // pulses' alone
    assert_eq!(gain(&mask, &layout), (20.0, 4));
}

#[test]
fn narrow_pulses_at_both_ends_are_both_found() {
    // 0.08 s (2 mm) pulses at both ends at 5 mm/mV, 1 mm after the trace
    let (mask, _, x0, _, rise) = page(Pulses {
        start: true,
        end: true,
        width_mm: 2.0,
        height_mm: 5.0,
        end_gap_mm: 1.0,
    });
    let rows = config().find_rows(&mask, &grid());
    assert_eq!(rows.len(), 4, "{rows:?}");
    for r in &rows {
        let (sr, sf) = r.pulse.expect("start pulse");
        assert!((sr - (x0 - 2.0 * PPMM)).abs() < 1.5 && (sf - x0).abs() < 1.5);
        assert!(r.end_pulse.is_some(), "{r:?}");
        // a pulse of another width than 0.2 s: the signal starts at its fall
        assert!((r.x_start - x0).abs() < 1.0, "{} vs {x0}", r.x_start);
    }
    let layout = config().detect(&mask, &grid(), 10.0).unwrap();
    for p in last_panels(&layout) {
        assert!(p.x_end < rise - 0.5, "{} vs {rise}", p.x_end);
    }
    assert_eq!(gain(&mask, &layout), (5.0, 8));
}

#[test]
fn without_pulses_the_rows_keep_their_whole_window() {
    let (mask, _, x0, _, _) = page(Pulses {
        start: false,
        end: false,
        width_mm: 5.0,
        height_mm: 10.0,
        end_gap_mm: 0.0,
    });
    let rows = config().find_rows(&mask, &grid());
    assert_eq!(rows.len(), 4, "{rows:?}");
    for r in &rows {
        assert!(r.pulse.is_none() && r.end_pulse.is_none() && r.x_stop.is_none());
    }
    let layout = config().detect(&mask, &grid(), 10.0).unwrap();
    let pps = grid().px_per_second();
    for p in last_panels(&layout) {
        assert!((p.x_end - (p.x_start - (p.t_start) * pps + 10.0 * pps)).abs() < 0.01);
        assert!((p.x_start - p.t_start * pps - x0).abs() < 1.0);
    }
    // no pulse: the gain stays standard
    assert_eq!(gain(&mask, &layout).0, 10.0);
}

#[test]
fn a_wave_peaking_between_two_spikes_is_not_a_pulse() {
    // two 10 mm spikes 4 mm apart with a rounded wave between them whose
    // peak, under the middle, stands 9 mm high: no flat top
    let (w, h) = ((60.0 * PPMM) as u32, (40.0 * PPMM) as u32);
    let mut m = GrayImage::new(w, h);
    let b = 30.0 * PPMM;
    let (xa, xb) = (10.0 * PPMM, 14.0 * PPMM);
    for k in 0..=(10.0 * PPMM) as u32 {
        m.put_pixel(xa as u32, b as u32 - k, Luma([255]));
        m.put_pixel(xb as u32, b as u32 - k, Luma([255]));
    }
    for x in xa as u32..=xb as u32 {
        let u = (x as f32 - xa) / (xb - xa);
        let y = b - 9.0 * PPMM * (u * std::f32::consts::PI).sin().powi(4);
        m.put_pixel(x, y as u32, Luma([255]));
    }
    for x in xb as u32..(50.0 * PPMM) as u32 {
        m.put_pixel(x, b as u32, Luma([255]));
    }
    let found = find_pulse(
        m.as_raw(),
        w as usize,
        h as usize,
        100,
        xa as usize,
        b,
        PPMM,
        PPMM,
    );
    assert!(found.is_none(), "{found:?}");
    // the same shape with a flat top is one, found from either end
    for x in xa as u32..=xb as u32 {
        m.put_pixel(x, (b - 10.0 * PPMM) as u32, Luma([255]));
    }
    for from in [RowEnd::Start, RowEnd::End] {
        let p = find_pulse_in(
            m.as_raw(),
            w as usize,
            h as usize,
            100,
            (0.0, 30.0 * PPMM),
            from,
            b,
            PPMM,
            PPMM,
        )
        .expect("a pulse");
        assert!(
            (p.rise - xa).abs() < 1.0 && (p.fall - xb).abs() < 1.0,
            "{p:?}"
        );
        assert_eq!(p.height_mm, 10.0);
    }
}

#[test]
fn a_pulse_of_another_height_than_the_pages_others_is_dropped() {
    // 10 mm pulses at the rows' ends; the second row also shows a 5 mm
    // "pulse" before its start (a printer's mark, or a neighbour's pulse
    // seen from an odd baseline): the page's pulses show one gain
    let (mut mask, bs, x0, _, _) = page(Pulses {
        start: false,
        end: true,
        width_mm: 5.0,
        height_mm: 10.0,
        end_gap_mm: 1.0,
    });
    let (xa, xb) = (x0 - 6.0 * PPMM, x0 - 3.0 * PPMM);
    let b = bs[1];
    for k in 0..=(5.0 * PPMM) as u32 {
        mask.put_pixel(xa as u32, b as u32 - k, Luma([255]));
        mask.put_pixel(xb as u32, b as u32 - k, Luma([255]));
    }
    for x in xa as u32..=xb as u32 {
        mask.put_pixel(x, (b - 5.0 * PPMM) as u32, Luma([255]));
    }
    for x in xb as u32..x0 as u32 {
        mask.put_pixel(x, b as u32, Luma([255]));
    }
    // on its own, the mark is a 5 mm pulse
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let alone = find_pulse(mask.as_raw(), w, h, 100, xa as usize, b, PPMM, PPMM);
    assert!(alone.is_some_and(|(r, f)| (r - xa).abs() < 1.0 && (f - xb).abs() < 1.0));
    let rows = config().find_rows(&mask, &grid());
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows
        .iter()
        .all(|r| r.pulse.is_none() && r.end_pulse.is_some()));
    let layout = config().detect(&mask, &grid(), 10.0).unwrap();
    assert_eq!(gain(&mask, &layout), (10.0, 4));
}

#[test]
fn a_flat_line_with_a_pulse_at_its_end_is_no_row_when_the_pages_pulses_start_rows() {
    // four rows with their pulses at the start; between the first two, a
    // crease (a flat line) that ends in a pulse-like box: the crease must
    // not become a row for that box alone
    let (mut mask, _, x0, x1, _) = page(Pulses {
        start: true,
        end: false,
        width_mm: 5.0,
        height_mm: 10.0,
        end_gap_mm: 0.0,
    });
    let y = (45.0 * PPMM) as u32;
    for x in x0 as u32..=x1 as u32 {
        mask.put_pixel(x, y, Luma([255]));
    }
    let (xa, wid, top) = (x1 as u32 + 4, (5.0 * PPMM) as u32, (10.0 * PPMM) as u32);
    for k in 0..=top {
        mask.put_pixel(xa, y - k, Luma([255]));
        mask.put_pixel(xa + wid, y - k, Luma([255]));
    }
    for k in 0..=wid {
        mask.put_pixel(xa + k, y - top, Luma([255]));
    }
    for x in x1 as u32..xa {
        mask.put_pixel(x, y, Luma([255]));
    }
    let rows = config().find_rows(&mask, &grid());
    let ys: Vec<f32> = rows.iter().map(|r| r.baseline_y / PPMM).collect();
    assert_eq!(rows.len(), 4, "rows at {ys:?} mm: {rows:?}");
    assert!(rows.iter().all(|r| r.pulse.is_some()), "{rows:?}");
}

#[test]
fn rows_between_and_beside_pulsed_rows_stay_when_some_pulses_were_missed() {
    // six rows with pulses at their ends, 6 mm past the traces; on rows 1,
    // 4 and 5 the baseline runs on to the pulse, on the others it stops
    // with the trace, too far for the pulse to be taken as the row's end.
    // The pulsed rows' gaps span one and three rows; the rows without a
    // pulse keep the spacing, the first (above them all) for the pulse's
    // rise standing where the others' do
    let (mask, baselines, ..) = page_of_rows(
        Pulses {
            start: false,
            end: true,
            width_mm: 5.0,
            height_mm: 10.0,
            end_gap_mm: 6.0,
        },
        6,
        |r| [1, 4, 5].contains(&r),
    );
    let rows = config().find_rows(&mask, &grid());
    let ys: Vec<f32> = rows.iter().map(|r| r.baseline_y).collect();
    assert_eq!(rows.len(), 6, "rows at {ys:?}, drawn at {baselines:?}");
    for (r, b) in rows.iter().zip(&baselines) {
        assert!((r.baseline_y - b).abs() < 2.0, "{ys:?} vs {baselines:?}");
    }
}

/// A pulse drawn 4 % too tall (a coarse page measures it to a pixel) on a
/// page without a confident grid: the rows' 250 mm give the horizontal
/// scale, the pulse only the vertical one, and the panels are placed at it.
#[test]
fn the_rows_length_refines_the_pulse_scale() {
    let (mask, _, x0, _, _) = page(Pulses {
        start: true,
        end: false,
        width_mm: 5.0,
        height_mm: 10.4,
        end_gap_mm: 0.0,
    });
    let assumed = GridInfo::from_dpi(90.0, ScaleSource::Assumed);
    let layout = config()
        .detect_at_pulse_scale(&mask, None, &assumed, 10.0, 500.0)
        .expect("layout");
    let scale = CalibrationPulseConfig::default().page_scale(&mask, &layout, &assumed);
    assert_eq!(scale.source, ScaleSource::CalibrationPulse);
    let pulse_ppy = scale.px_per_mm_y / (1.04 * PPMM);
    assert!(
        (pulse_ppy - 1.0).abs() < 0.02,
        "vertical {}",
        scale.px_per_mm_y
    );
    assert!(
        (scale.px_per_mm_x / PPMM - 1.0).abs() < 0.003,
        "horizontal {} px/mm, truth {PPMM}",
        scale.px_per_mm_x
    );
    // the layout stands at that scale: column 1 starts 2.5 s in
    let col1 = layout
        .panels
        .iter()
        .find(|p| p.row == 0 && p.col == 1)
        .expect("column 1");
    assert!(
        (col1.x_start - (x0 + 2.5 * 25.0 * PPMM)).abs() < 1.5,
        "column 1 at {}, truth {}",
        col1.x_start,
        x0 + 250.0
    );
}
