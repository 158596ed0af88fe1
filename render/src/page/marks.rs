//! Calibration pulses and lead labels.
//!
//! Input: a [`Canvas`], the row or panel geometry (pixels) and the spec's
//! conventions. Output: ink on the canvas and the boxes `(x0, y0, x1, y1)`
//! (pixels, before distortions) that the truth reports.

use super::layout::Panel;
use super::raster::Canvas;
use super::style::{LabelFont, LabelPosition};
use super::text;
use super::PageSpec;
use crate::truth::{LeadTruth, Quad};
use ab_glyph::PxScale;
use ecgdig_core::leads::Lead;

/// A box `(x0, y0, x1, y1)` in pixels.
pub type PxBox = (f64, f64, f64, f64);

/// A drawn panel: its truth, its plotted points (pixels, before
/// distortions) and its baseline y.
pub type DrawnPanel = (LeadTruth, Vec<(f64, f64)>, f64);

/// The scales a pulse is drawn at.
#[derive(Clone, Copy, Debug)]
pub struct PulseScale {
    /// Pixels per record sample along x.
    pub px_per_sample: f64,
    /// The record's sampling rate, Hz.
    pub fs: f64,
    /// Pixels per mV along y.
    pub px_per_mv: f64,
    /// Trace pen width, pixels (the pulse's pen is half as wide again).
    pub pen_px: f64,
}

/// Draws a 1 mV pulse `width_s` long as ecg-image-kit draws it: a polyline
/// through samples of the record's rate valued `0, 0, 1, ..., 1, 0, 0` from
/// `x0` (so it rises between its second and third samples, 1.5 steps after
/// `x0`, and falls 1.5 steps before its last sample), with a pen half as wide
/// again as the trace's. Returns its centreline rectangle: from the middle of
/// the rise to the middle of the fall, from 1 mV down to the baseline.
pub fn pulse(canvas: &mut Canvas, x0: f64, baseline: f64, width_s: f64, s: &PulseScale) -> PxBox {
    let n = (width_s * s.fs).round() as usize + 4;
    let pts: Vec<(f64, f64)> = (0..n)
        .map(|k| {
            let up = k >= 2 && k + 2 < n;
            (
                x0 + k as f64 * s.px_per_sample,
                if up { baseline - s.px_per_mv } else { baseline },
            )
        })
        .collect();
    canvas.polyline(&pts, 1.5 * s.pen_px, 0);
    (
        x0 + 1.5 * s.px_per_sample,
        baseline - s.px_per_mv,
        x0 + (n as f64 - 2.5) * s.px_per_sample,
        baseline,
    )
}

/// x of the first point of a start-of-row pulse that ends where the row's
/// trace begins (`width_s` before the page's time origin).
pub fn start_pulse_x0(page_x0_px: f64, width_s: f64, s: &PulseScale) -> f64 {
    page_x0_px - width_s * s.fs * s.px_per_sample
}

/// How lead labels are printed.
#[derive(Clone, Copy, Debug)]
pub struct LabelStyle {
    pub font: LabelFont,
    /// Em size, pixels, per axis.
    pub scale: PxScale,
    pub upper: bool,
    pub position: LabelPosition,
    /// Pixels per mm along x and y.
    pub px_per_mm: (f64, f64),
}

/// The label text of a lead: `aVR`, `-aVR` when inverted, `AVR` / `-AVR`
/// in upper case.
pub fn label_text(lead: Lead, inverted: bool, upper: bool) -> String {
    let name = if upper {
        lead.name().to_ascii_uppercase()
    } else {
        lead.name().to_string()
    };
    if inverted {
        format!("-{name}")
    } else {
        name
    }
}

/// Draws a panel's label. `left_limit_px` is where ink to the left of the
/// panel must stop (the panel start, or its calibration pulse). Returns the
/// ink box.
pub fn label(
    canvas: &mut Canvas,
    text: &str,
    p: &Panel,
    left_limit_px: f64,
    st: &LabelStyle,
) -> Option<PxBox> {
    let (ppx, ppy) = st.px_per_mm;
    let em_y = st.scale.y as f64;
    let (tx, ty) = match st.position {
        LabelPosition::Below => (p.x_start_px + 0.5 * ppx, p.baseline_px + 3.5 * ppy),
        LabelPosition::Above => (p.x_start_px + 0.5 * ppx, p.baseline_px - 4.0 * ppy - em_y),
        LabelPosition::Left => {
            let w = text::text_width(text, st.scale, st.font) as f64;
            let x = (left_limit_px - 1.0 * ppx - w).max(0.5 * ppx);
            (x, p.baseline_px - 0.565 * em_y)
        }
    };
    text::draw_text_with(canvas, text, (tx as f32, ty as f32), st.scale, st.font)
        .map(|(x0, y0, x1, y1)| (x0 as f64, y0 as f64, x1 as f64, y1 as f64))
}

/// Draws a pulse right of each row's last trace (1 mm after its last
/// sample) and adds its box to that panel's truth.
pub fn end_pulses(canvas: &mut Canvas, truths: &mut [DrawnPanel], spec: &PageSpec, s: &PulseScale) {
    let gap = spec.px_per_mm_x();
    let rows: Vec<usize> = truths.iter().filter_map(|t| t.0.row).collect();
    for row in rows
        .iter()
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
    {
        let last = truths
            .iter_mut()
            .filter(|t| t.0.row == Some(row))
            .max_by(|a, b| {
                a.0.end_sample
                    .cmp(&b.0.end_sample)
                    .then(a.0.column.cmp(&b.0.column))
            });
        let Some((lt, pts, baseline)) = last else {
            continue;
        };
        let Some(&(x_end, _)) = pts.last() else {
            continue;
        };
        let b = pulse(canvas, x_end + gap, *baseline, spec.pulse_width_s, s);
        lt.pulse_bounding_boxes.push(Quad::from_box(b));
    }
}
