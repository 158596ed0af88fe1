//! The calibration pulse: finding its two edges at either end of a row, and
//! where the row's signal starts after (or ends before) it.
//!
//! A pulse is a flat-topped rectangle standing on the row's baseline: 1 mV
//! high (5, 10 or 20 mm at the usual gains, each within a quarter) and
//! 1.6 to 7 mm wide (0.064 to 0.28 s at 25 mm/s). Printers put it left of a
//! row's first trace, right of its last one, at both ends, or nowhere; the
//! same detector ([`find_pulse_in`]) looks at both ends, preferring the pair
//! of edges nearest the row's end it searches from.

use super::detect::LayoutDetectConfig;
use super::rows::ink_coverage;
use ecgdig_core::prelude::*;

impl LayoutDetectConfig {
    /// A found pulse's edges `(rise, fall)` on the row at `baseline`, its
    /// rise placed from the image's shading when the image is at hand, and
    /// where the row's signal starts: a standard-width pulse (0.2 s, the
    /// falling edge touches the trace) is measured from its clear rising
    /// edge ([`Self::signal_start`]), another at its falling edge.
    pub(super) fn place_pulse(
        &self,
        (rise, fall): (f32, f32),
        image: Option<&image::RgbImage>,
        mask: &image::GrayImage,
        baseline: f32,
        fs: f32,
        grid: &GridInfo,
    ) -> ((f32, f32), f32) {
        let (ppx, ppy) = (grid.px_per_mm_x.max(0.5), grid.px_per_mm_y.max(0.5));
        let pps = grid.px_per_second();
        let edge = image.and_then(|im| {
            crate::layout::pulse_edge::measure_rising_edge(im, mask, rise, baseline, (ppx, ppy), 20)
                .filter(|e| (e.x_mid - rise).abs() < 1.5)
        });
        let rise = edge.map_or(rise, |e| e.x_mid);
        let standard = (fall - (rise + self.pulse_seconds * pps)).abs() <= 0.75 * ppx;
        let start = if standard {
            self.signal_start(rise, edge.map(|e| e.run_per_mv), pps, fs)
        } else {
            fall
        };
        ((rise, fall), start)
    }

    /// Where a row's signal stops before a pulse at its end that rises at
    /// `rise`: the pulse's start (`rise_delay_steps` output sample steps
    /// before its rise) less `end_pulse_clearance_mm`.
    pub(super) fn signal_stop(&self, rise: f32, grid: &GridInfo, fs: f32) -> f32 {
        let step = grid.px_per_second() / fs.max(1.0);
        rise - self.rise_delay_steps * step
            - self.end_pulse_clearance_mm * grid.px_per_mm_x.max(0.5)
    }

    /// Where a row's signal starts after its pulse rises at `rise`: the
    /// pulse's start plus `pulse_seconds`. The start is `rise_delay_steps`
    /// sample steps before the rise; the step is the output rate's, or
    /// (`step_from_rise`) the rise's own run when the image shows one
    /// unlike it.
    fn signal_start(&self, rise: f32, run_per_mv: Option<f32>, pps: f32, fs: f32) -> f32 {
        let nominal = pps / fs.max(1.0);
        let step = match run_per_mv {
            Some(r) if self.step_from_rise && (r - nominal).abs() > 0.35 * nominal => {
                r.clamp(0.0, pps / 50.0)
            }
            _ => nominal,
        };
        rise - self.rise_delay_steps * step + self.pulse_seconds * pps
    }
}

/// An edge whose ink runs on past the pulse at this fraction of its density
/// along the pulse (or more) is a longer line, not a pulse's edge.
const RUN_ON_DENSITY: f32 = 0.75;

/// Share of the rows of each third of its height that each edge of a
/// pulse of another than the standard height must ink (it rises from this
/// row's baseline to its top).
const MIN_EDGE_DENSITY: f32 = 0.7;

/// Pulse heights looked for, mm on the grid (1 mV at 10, 5 and 20 mm/mV),
/// the standard one first.
const PULSE_HEIGHTS_MM: [f32; 3] = [10.0, 5.0, 20.0];

/// Narrowest and widest pulse, mm between the edges' centres.
const PULSE_WIDTH_MM: (f32, f32) = (1.6, 7.0);

/// Share of the columns between a pulse's edges whose ink reaches its top
/// (a flat top; a wave's peak touches it in a column or two).
const FLAT_TOP_SHARE: f32 = 0.6;

/// Which end of a row a pulse is looked for at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowEnd {
    /// Left of the row's first trace.
    Start,
    /// Right of the row's last trace.
    End,
}

/// A pulse found on a row: its edges' x (left, right: the rise and the
/// fall) and its height class, mm at the grid's scale (5, 10 or 20).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FoundPulse {
    pub rise: f32,
    pub fall: f32,
    pub height_mm: f32,
}

/// Looks for the calibration pulse near the start of a row (first ink at
/// `x0`): [`find_pulse_in`] from 10 mm before to 30 mm after it, the
/// leftmost pulse. Returns the x of the rising and falling edges.
#[allow(clippy::too_many_arguments)]
pub fn find_pulse(
    m: &[u8],
    w: usize,
    h: usize,
    lvl: u8,
    x0: usize,
    baseline: f32,
    ppx: f32,
    ppy: f32,
) -> Option<(f32, f32)> {
    find_row_pulse(RowEnd::Start, m, w, h, lvl, x0, baseline, ppx, ppy).map(|p| (p.rise, p.fall))
}

/// Looks for the calibration pulse at one end of a row with [`find_pulse_in`]:
/// at its start (first ink at `x`), from 10 mm before to 30 mm after it,
/// the leftmost pulse; at its end (last ink at `x`), from 14 mm before to
/// 10 mm after it (a wide pulse's falling edge stands too far from its rise
/// to extend the row's ink), the rightmost pulse.
#[allow(clippy::too_many_arguments)]
pub fn find_row_pulse(
    end: RowEnd,
    m: &[u8],
    w: usize,
    h: usize,
    lvl: u8,
    x: usize,
    baseline: f32,
    ppx: f32,
    ppy: f32,
) -> Option<FoundPulse> {
    let (before_mm, after_mm) = match end {
        RowEnd::Start => (10.0, 30.0),
        RowEnd::End => (14.0, 10.0),
    };
    let window = (x as f32 - before_mm * ppx, x as f32 + after_mm * ppx);
    find_pulse_in(m, w, h, lvl, window, end, baseline, ppx, ppy)
}

/// Looks for a calibration pulse on the row at `baseline` among the columns
/// `xs..=xe` (clipped to the page): two vertical edges `PULSE_WIDTH_MM`
/// apart, each with at least 0.6 of the pulse's height in ink, joined by a
/// flat top at 5, 10 or 20 mm above the baseline (within a quarter), and
/// neither running on above the top or below the baseline. `from` says
/// which pulse wins when there are several: the leftmost at a row's start,
/// the rightmost at its end.
#[allow(clippy::too_many_arguments)]
pub fn find_pulse_in(
    m: &[u8],
    w: usize,
    h: usize,
    lvl: u8,
    (xs, xe): (f32, f32),
    from: RowEnd,
    baseline: f32,
    ppx: f32,
    ppy: f32,
) -> Option<FoundPulse> {
    if w == 0 || h == 0 || !xs.is_finite() || !xe.is_finite() || !baseline.is_finite() {
        return None;
    }
    let xs = xs.max(0.0) as usize;
    let xe = (xe.max(0.0) as usize).min(w - 1);
    if xe <= xs {
        return None;
    }
    PULSE_HEIGHTS_MM.iter().find_map(|&height| {
        pulse_of_height(m, w, h, lvl, (xs, xe), from, baseline, (ppx, ppy), height)
    })
}

/// [`find_pulse_in`] for one pulse height (mm).
#[allow(clippy::too_many_arguments)]
fn pulse_of_height(
    m: &[u8],
    w: usize,
    h: usize,
    lvl: u8,
    (xs, xe): (usize, usize),
    from: RowEnd,
    baseline: f32,
    (ppx, ppy): (f32, f32),
    height_mm: f32,
) -> Option<FoundPulse> {
    let ytop = (baseline - (height_mm + 4.0) * ppy).max(0.0) as usize;
    let ybot = ((baseline + 2.0 * ppy).max(0.0) as usize).min(h - 1);
    if ybot <= ytop {
        return None;
    }
    let need = (0.6 * height_mm * ppy) as usize;
    let tall: Vec<bool> = (xs..=xe)
        .map(|x| (ytop..=ybot).filter(|&y| m[y * w + x] >= lvl).count() >= need)
        .collect();
    // groups of consecutive tall columns -> centre x
    let mut edges: Vec<f32> = Vec::new();
    let mut i = 0;
    while i < tall.len() {
        if tall[i] {
            let s = i;
            while i < tall.len() && tall[i] {
                i += 1;
            }
            // sub-pixel centre: ink-weighted centroid of the group and its
            // neighbours over the edge's middle (clear of the baseline and
            // of the pulse's top)
            let ya = (baseline - 0.8 * height_mm * ppy).max(0.0) as usize;
            let yb = ((baseline - 0.2 * height_mm * ppy).max(0.0) as usize).min(h - 1);
            let (mut sw, mut sx) = (0f64, 0f64);
            for k in s.saturating_sub(1)..(i + 1).min(tall.len()) {
                let x = xs + k;
                let wgt: f64 = (ya..=yb).map(|y| m[y * w + x] as f64).sum();
                sw += wgt;
                sx += wgt * x as f64;
            }
            let centre = if sw > 0.0 {
                (sx / sw) as f32
            } else {
                xs as f32 + (s + i - 1) as f32 / 2.0
            };
            edges.push(centre);
        } else {
            i += 1;
        }
    }
    let mut pairs: Vec<(f32, f32)> = Vec::new();
    for (a, &e0) in edges.iter().enumerate() {
        for &e1 in &edges[a + 1..] {
            let d = (e1 - e0) / ppx;
            if (PULSE_WIDTH_MM.0..=PULSE_WIDTH_MM.1).contains(&d) {
                pairs.push((e0, e1));
            }
        }
    }
    if from == RowEnd::End {
        // the rightmost fall first, then the narrowest pulse ending there
        // (as the leftmost rise, then the narrowest, at a row's start)
        pairs.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.total_cmp(&a.0)));
    }
    let ink = |x: usize, y: isize| y >= 0 && (y as usize) < h && m[y as usize * w + x] >= lvl;
    pairs.into_iter().find_map(|(e0, e1)| {
        // the top of the pulse: ink near baseline - height between the edges
        let yt = baseline - height_mm * ppy;
        let xm = ((e0 + e1) / 2.0) as usize;
        let band = (0.25 * height_mm * ppy) as isize;
        if !(-band..=band).any(|dy| ink(xm, yt as isize + dy)) {
            return None;
        }
        // a flat top: at some height in that band, the columns between the
        // edges (clear of their pens) hold ink
        let pen = (0.6 * ppx).max(2.0);
        let (ca, cb) = ((e0 + pen).ceil() as usize, (e1 - pen).floor() as usize);
        if cb > ca {
            let tol = (0.6 * ppy).max(2.0) as isize;
            let best = (-band..=band)
                .map(|dy| {
                    let top = yt as isize + dy;
                    (ca..=cb)
                        .filter(|&x| (top - tol..=top + tol).any(|y| ink(x, y)))
                        .count()
                })
                .max()
                .unwrap_or(0);
            if (best as f32) < FLAT_TOP_SHARE * (cb - ca + 1) as f32 {
                return None;
            }
        }
        // the edges end at the pulse's top and at the baseline: a
        // neighbouring row's pulse, or grid lines, run on past them
        let ink_in = |x: f32, from: f32, to: f32| -> f32 {
            let xr = x.round() as isize;
            ink_coverage(m, w, h, lvl, xr - 1..=xr + 1, from, to, 1)
        };
        // (a grid line left in the mask may run through an edge: the
        // pulse's own ink is then still much denser than the line's run-on)
        let along = |e: f32| {
            ink_in(
                e,
                baseline - 0.9 * height_mm * ppy,
                baseline - 0.1 * height_mm * ppy,
            )
        };
        // a pulse of another height than the standard one could be a
        // neighbouring row's pulse seen from below, or letters: both its
        // edges stand on this row's baseline, inked in each third of the way
        // up
        let thirds = |e: f32| {
            (0..3)
                .map(|k| {
                    let lo = baseline - (0.05 + 0.3 * k as f32) * height_mm * ppy;
                    ink_in(e, lo - 0.3 * height_mm * ppy, lo)
                })
                .fold(1.0, f32::min)
        };
        if height_mm != PULSE_HEIGHTS_MM[0] && thirds(e0).min(thirds(e1)) < MIN_EDGE_DENSITY {
            return None;
        }
        let runs_on = [e0, e1].into_iter().any(|e| {
            [
                ink_in(e, yt - 6.0 * ppy, yt - 1.5 * ppy),
                ink_in(e, baseline + 1.5 * ppy, baseline + 6.0 * ppy),
            ]
            .into_iter()
            .any(|beyond| beyond > 0.5 && beyond > RUN_ON_DENSITY * along(e))
        });
        (!runs_on).then_some(FoundPulse {
            rise: e0,
            fall: e1,
            height_mm,
        })
    })
}
