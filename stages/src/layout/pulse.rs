//! The calibration pulse: finding its two edges at a row's start, and where
//! the row's signal starts after it.

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

/// Looks for the calibration pulse near the start of a row: two vertical
/// edges (each at least 6 mm of ink above the baseline) 3 to 7 mm apart.
/// Returns the x of the rising and falling edges.
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
    let ytop = (baseline - 14.0 * ppy).max(0.0) as usize;
    let ybot = ((baseline + 2.0 * ppy) as usize).min(h - 1);
    let xs = x0.saturating_sub((10.0 * ppx) as usize);
    let xe = (x0 + (30.0 * ppx) as usize).min(w - 1);
    if xe <= xs || ybot <= ytop {
        return None;
    }
    let need = (6.0 * ppy) as usize;
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
            let ya = (baseline - 8.0 * ppy).max(0.0) as usize;
            let yb = ((baseline - 2.0 * ppy).max(0.0) as usize).min(h - 1);
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
    for (a, &e0) in edges.iter().enumerate() {
        for &e1 in &edges[a + 1..] {
            let d = (e1 - e0) / ppx;
            if (3.0..=7.0).contains(&d) {
                // the top of the pulse: ink near baseline - 10 mm between the edges
                let yt = baseline - 10.0 * ppy;
                let xm = ((e0 + e1) / 2.0) as usize;
                let band = (2.5 * ppy) as isize;
                let has_top = (-band..=band).any(|dy| {
                    let y = yt as isize + dy;
                    y >= 0 && (y as usize) < h && m[y as usize * w + xm] >= lvl
                });
                // the edges end at the pulse's top and at the baseline: a
                // neighbouring row's pulse, or grid lines, run on past them
                let ink_in = |x: f32, from: f32, to: f32| -> f32 {
                    let xr = x.round() as isize;
                    ink_coverage(m, w, h, lvl, xr - 1..=xr + 1, from, to, 1)
                };
                // (a grid line left in the mask may run through an edge:
                // the pulse's own ink is then still much denser than the
                // line's run-on)
                let runs_on = [e0, e1].into_iter().any(|e| {
                    let along = ink_in(e, baseline - 9.0 * ppy, baseline - 1.0 * ppy);
                    [
                        ink_in(e, yt - 6.0 * ppy, yt - 1.5 * ppy),
                        ink_in(e, baseline + 1.5 * ppy, baseline + 6.0 * ppy),
                    ]
                    .into_iter()
                    .any(|beyond| beyond > 0.5 && beyond > RUN_ON_DENSITY * along)
                });
                if has_top && !runs_on {
                    return Some((e0, e1));
                }
            }
        }
    }
    None
}
