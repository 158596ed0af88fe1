//! `grid_scale`: measures the paper scale (pixels per millimetre on both
//! axes) from the periodicity of the printed grid.
//!
//! Input: `image` (deskewed). Output: `grid` ([`GridInfo`]).
//!
//! The darkness of the per-pixel *minimum* channel (coloured grid lines are
//! dark in it, whatever their hue; grey and black grids too) is projected on
//! x in horizontal bands and on y in vertical bands. Each band's profile is
//! high-passed and autocorrelated; the band autocorrelations are summed
//! (phase-free, so residual rotation and wrinkles do not blur them). A comb
//! score over candidate periods finds the fundamental period; the 5 mm major
//! lines (a stronger peak at five times the minor period) or, for grids whose
//! minor lines do not show, the page size tell 1 mm from 5 mm. The period is
//! then refined to a small fraction of a pixel on a far multiple of it.
//!
//! A scale within `whole_dpi_tolerance` (relative) of a whole number of dots
//! per inch is taken to be exactly that: scanners and renderers work at
//! whole resolutions, and the grid cannot say it better. A plotter snaps
//! each grid line to whole pixels, so a measured period carries the
//! rounding of the few dozen lines it spans, some 7e-5 of the scale at
//! 200 dpi, which is a third of a sample at the end of a 10 s strip. A
//! photo's arbitrary scale lands that close to a whole dpi rarely, and then
//! moves by less than the tolerance.
//!
//! Without a usable grid the scale falls back to the file's resolution
//! (`source = "file_dpi"`), else to `assumed_dpi` (`source = "assumed"`), with
//! confidence 0; the `calibration_pulse` stage can then replace it.
//!
//! ```
//! # let toml = r#"
//! [stages.grid]
//! type = "grid_scale"
//! inputs = ["deskew"]
//! min_px_per_mm = 1.5
//! max_px_per_mm = 24.0
//! min_confidence = 0.15
//! assumed_dpi = 200.0
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use crate::imaging;
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GridScaleConfig {
    /// Smallest plausible scale, pixels per mm (about 38 dpi).
    pub min_px_per_mm: f32,
    /// Largest plausible scale, pixels per mm (about 610 dpi).
    pub max_px_per_mm: f32,
    /// Below this confidence the grid is not trusted and a fallback is used.
    pub min_confidence: f32,
    /// Resolution assumed when there is neither a grid nor a file resolution.
    pub assumed_dpi: f32,
    /// Typical paper width, mm; decides 1 mm vs 5 mm when only one period shows.
    pub typical_page_width_mm: f32,
    /// A measured scale this close (relative) to a whole dpi is taken to be
    /// that dpi; 0 keeps the measurement as it is.
    pub whole_dpi_tolerance: f32,
}

impl Default for GridScaleConfig {
    fn default() -> Self {
        Self {
            min_px_per_mm: 1.5,
            max_px_per_mm: 24.0,
            min_confidence: 0.15,
            assumed_dpi: 200.0,
            typical_page_width_mm: 260.0,
            whole_dpi_tolerance: 2e-4,
        }
    }
}

#[typetag::serde(name = "grid_scale")]
impl StageConfig for GridScaleConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("image", ArtifactKind::Image)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("grid", ArtifactKind::Grid)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if !(self.min_px_per_mm > 0.5 && self.max_px_per_mm > self.min_px_per_mm) {
            return Err(Error::stage(
                "grid_scale: need 0.5 < min_px_per_mm < max_px_per_mm",
            ));
        }
        if self.assumed_dpi <= 0.0 {
            return Err(Error::stage("grid_scale: assumed_dpi must be positive"));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    GridScaleConfig,
    "grid_scale",
    summary = "Pixels per mm on both axes from the grid's periodicity (autocorrelation of band projections).",
    params = [
        (
            "whole_dpi_tolerance",
            "a measured scale this close (relative) to a whole dpi is taken to be that dpi; 0: off"
        ),
        ("min_px_per_mm", "smallest plausible scale, pixels per mm"),
        ("max_px_per_mm", "largest plausible scale, pixels per mm"),
        (
            "min_confidence",
            "0..1; a weaker grid is ignored and the scale falls back to the file dpi or assumed_dpi"
        ),
        (
            "assumed_dpi",
            "resolution assumed without grid and file resolution, dots per inch"
        ),
        (
            "typical_page_width_mm",
            "paper width used to tell a 1 mm period from a 5 mm one when only one shows"
        ),
    ],
    example = "[stages.grid]\ntype = \"grid_scale\"\ninputs = [\"deskew\"]\nmin_confidence = 0.15\n"
);

/// One axis' measurement.
#[derive(Clone, Copy, Debug)]
pub struct AxisScale {
    pub px_per_mm: f32,
    pub confidence: f32,
    /// Position of a major (5 mm) line, pixels.
    pub major_phase: Option<f32>,
}

impl Stage for GridScaleConfig {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let page = inputs.image("image")?;
        Ok(StageOutputs::one(self.measure(&page)))
    }
}

impl GridScaleConfig {
    /// Measures the grid of a page (with fallbacks).
    pub fn measure(&self, page: &PageImage) -> GridInfo {
        let m = imaging::min_channel(&page.rgb);
        let (w, h) = (m.width() as usize, m.height() as usize);
        let (px, py) = band_profiles(m.as_raw(), w, h);
        let (sx, peaks_x) = self.axis(&px, w, None).unzip();
        let (sy, peaks_y) = self.axis(&py, w, None).unzip();
        let ok = |s: &Option<AxisScale>| s.filter(|a| a.confidence >= self.min_confidence);
        let (sx, sy) = (ok(&sx), ok(&sy));
        let (ax, ay) = match (sx, sy) {
            (Some(a), Some(b)) => {
                // square pixels are the rule: a large disagreement means one
                // axis locked on something else; trust the clearer one
                let r = a.px_per_mm / b.px_per_mm;
                if (r - 1.0).abs() > 0.08 {
                    if a.confidence >= b.confidence {
                        (
                            a,
                            AxisScale {
                                major_phase: None,
                                ..a
                            },
                        )
                    } else {
                        (
                            AxisScale {
                                major_phase: None,
                                ..b
                            },
                            b,
                        )
                    }
                } else {
                    (a, b)
                }
            }
            (Some(a), None) => (
                a,
                AxisScale {
                    major_phase: None,
                    ..a
                },
            ),
            (None, Some(b)) => (
                AxisScale {
                    major_phase: None,
                    ..b
                },
                b,
            ),
            (None, None) => {
                let (dpi, source) = match page.dpi {
                    Some(d) if d > 20.0 => (d, ScaleSource::FileDpi),
                    _ => (self.assumed_dpi, ScaleSource::Assumed),
                };
                return GridInfo::from_dpi(dpi, source);
            }
        };
        // a scale that makes the sheet implausibly small or large locked
        // on the rows or the beats: the period both axes' combs support
        // best among plausible ones replaces it
        let implausible = !plausible_size(w, h, ax.px_per_mm, ay.px_per_mm);
        let peaks = [peaks_x.unwrap_or_default(), peaks_y.unwrap_or_default()];
        let (ax, ay) = match implausible
            .then(|| plausible_period(&peaks, w, h))
            .flatten()
        {
            Some((p1, support)) => {
                let forced = |prof: &[Vec<f32>]| {
                    self.axis(prof, w, Some(p1))
                        .map(|a| a.0)
                        .unwrap_or(AxisScale {
                            px_per_mm: p1,
                            confidence: 0.0,
                            major_phase: None,
                        })
                };
                // (a scale chosen by the sheet's size is as sure as the
                // combs support it: the square of its share of the four
                // supports, 1 and 5 mm on both axes)
                let sure = (support / 4.0).min(1.0).powi(2);
                let doubt = |a: AxisScale| AxisScale {
                    confidence: a.confidence.min(sure),
                    ..a
                };
                (doubt(forced(&px)), doubt(forced(&py)))
            }
            None => (ax, ay),
        };
        GridInfo {
            px_per_mm_x: self.whole_dpi(ax.px_per_mm),
            px_per_mm_y: self.whole_dpi(ay.px_per_mm),
            mm_per_second: 25.0,
            mm_per_mv: 10.0,
            rotation_degrees: 0.0,
            major_offset_px: match (ax.major_phase, ay.major_phase) {
                (Some(x), Some(y)) => Some([x, y]),
                _ => None,
            },
            source: ScaleSource::Grid,
            confidence: ax.confidence.min(ay.confidence),
            speed_source: SpeedSource::Assumed,
        }
    }

    /// `px_per_mm`, or the whole dpi within `whole_dpi_tolerance` of it.
    pub fn whole_dpi(&self, px_per_mm: f32) -> f32 {
        let whole = (px_per_mm * 25.4).round() / 25.4;
        if whole > 0.0 && ((px_per_mm - whole) / whole).abs() <= self.whole_dpi_tolerance {
            whole
        } else {
            px_per_mm
        }
    }

    /// Scale along one axis from its band profiles (`page_w` = page width,
    /// px), with the comb's local maxima (period in px, score relative to
    /// the best). With `forced`, that is the 1 mm period to refine, instead
    /// of the comb's choice.
    fn axis(
        &self,
        profiles: &[Vec<f32>],
        page_w: usize,
        forced: Option<f32>,
    ) -> Option<(AxisScale, Vec<(f32, f32)>)> {
        let n = profiles.first()?.len();
        if n < 64 {
            return None;
        }
        let pmin = self.min_px_per_mm;
        let pmax = self.max_px_per_mm.min(n as f32 / 12.0);
        if pmax <= pmin {
            return None;
        }
        // whiten each profile (3-tap low-pass against pixel-level patterns,
        // then the first difference against shading), autocorrelate, sum
        let lc = ((pmax * 5.0 * 6.0) as usize).min(n / 2);
        let hps: Vec<Vec<f32>> = profiles
            .iter()
            .map(|p| {
                let s: Vec<f32> = (0..n)
                    .map(|i| {
                        0.25 * p[i.saturating_sub(1)] + 0.5 * p[i] + 0.25 * p[(i + 1).min(n - 1)]
                    })
                    .collect();
                let mut d: Vec<f32> = s.windows(2).map(|w| w[1] - w[0]).collect();
                d.push(0.0);
                d
            })
            .collect();
        let mut ac = vec![0f32; lc + 1];
        for q in &hps {
            for (lag, a) in ac.iter_mut().enumerate() {
                *a += dot(&q[..n - lag], &q[lag..]);
            }
        }
        let a0 = ac[0];
        if a0 <= 0.0 {
            return None;
        }
        ac.iter_mut().for_each(|v| *v /= a0);
        let at = |x: f32| -> f32 {
            if x < 0.0 || x >= lc as f32 {
                return 0.0;
            }
            let i = x as usize;
            let f = x - i as f32;
            ac[i] * (1.0 - f) + ac[(i + 1).min(lc)] * f
        };
        // comb score over candidate periods
        let mut cands: Vec<(f32, f32)> = Vec::new();
        let mut p = pmin;
        while p <= pmax * 5.0 && p * 2.0 <= lc as f32 {
            let k_max = ((lc as f32 / p) as usize).clamp(1, 10);
            let mut s = 0.0;
            for k in 1..=k_max {
                let k = k as f32;
                s += at(k * p) - at((k - 0.5) * p);
            }
            cands.push((p, s / k_max as f32));
            p *= 1.004;
        }
        let best = cands.iter().map(|c| c.1).fold(f32::MIN, f32::max);
        if best <= 0.0 {
            return None;
        }
        let peaks: Vec<(f32, f32)> = (1..cands.len().saturating_sub(1))
            .filter(|&i| cands[i].1 > 0.0)
            .filter(|&i| cands[i].1 >= cands[i - 1].1 && cands[i].1 >= cands[i + 1].1)
            .map(|i| (cands[i].0, cands[i].1 / best))
            .collect();
        if let Some(p1) = forced {
            let score = best * support(&peaks, p1).max(support(&peaks, 5.0 * p1));
            // (the profile's strongest periods are the rows' or the beats'
            // here: a refinement that wanders off the period is not taken)
            let axis = self.refined(&hps, a0, n, (p1, score), true);
            let axis = if (axis.px_per_mm / p1 - 1.0).abs() <= MAX_FORCED_REFINEMENT {
                axis
            } else {
                self.refined(&hps, a0, n, (p1, score), false)
            };
            return Some((axis, peaks));
        }
        // smallest local maximum close to the best: the fundamental
        let mut fund = None;
        for i in 1..cands.len().saturating_sub(1) {
            let (pp, s) = cands[i];
            if s >= 0.7 * best && s >= cands[i - 1].1 && s >= cands[i + 1].1 && at(pp) > 0.1 {
                fund = Some((pp, s));
                break;
            }
        }
        let (p0, score) = fund?;
        // is p0 the 1 mm period or the 5 mm one?
        let local_max = |x: f32| -> f32 {
            let mut m = f32::MIN;
            let mut d = -1.0;
            while d <= 1.0 {
                m = m.max(at(x + d));
                d += 0.25;
            }
            m
        };
        let mut p1 = p0;
        let five_fits = p0 * 6.0 < lc as f32;
        let major_contrast = if five_fits {
            local_max(5.0 * p0) - local_max(4.0 * p0).max(local_max(6.0 * p0))
        } else {
            0.0
        };
        let minor_ok = p0 >= pmin && p0 <= pmax;
        let as_major_ok = p0 / 5.0 >= pmin;
        if !(minor_ok && major_contrast > 0.03) {
            // page-size plausibility
            let w_mm_minor = page_w as f32 / p0;
            let w_mm_major = page_w as f32 * 5.0 / p0;
            let err = |wmm: f32| (wmm / self.typical_page_width_mm).ln().abs();
            let prefer_major = as_major_ok && (!minor_ok || err(w_mm_major) < err(w_mm_minor));
            if prefer_major {
                p1 = p0 / 5.0;
            } else if !minor_ok {
                return None;
            }
        }
        Some((self.refined(&hps, a0, n, (p1, score), true), peaks))
    }

    /// The scale from the 1 mm period `p1` (px), with `refine` refined on
    /// far multiples of the 5 mm period of the whitened profiles `hps`
    /// (length `n`, lag-0 autocorrelation `a0`), with the major lines'
    /// phase; `score` is the comb's score of the period.
    fn refined(
        &self,
        hps: &[Vec<f32>],
        a0: f32,
        n: usize,
        (p1, score): (f32, f32),
        refine: bool,
    ) -> AxisScale {
        // refine on far multiples of the 5 mm period
        let mut p5 = p1 * 5.0;
        let mut k = 1usize;
        let n_max_lag = (n as f32 * 0.6) as usize;
        loop {
            if !refine {
                break;
            }
            let lag = p5 * k as f32;
            if lag + 3.0 > n_max_lag as f32 {
                break;
            }
            let c = lag.round() as isize;
            let mut vals = [0f32; 7];
            for (j, v) in vals.iter_mut().enumerate() {
                let l = c + j as isize - 3;
                *v = if l > 0 {
                    let l = l as usize;
                    hps.iter().map(|q| dot(&q[..n - l], &q[l..])).sum::<f32>() / a0
                } else {
                    f32::MIN
                };
            }
            let (bi, _) =
                vals.iter()
                    .enumerate()
                    .skip(1)
                    .take(5)
                    .fold(
                        (3usize, f32::MIN),
                        |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                    );
            let sub = imaging::parabolic_peak(&vals, bi);
            let found = (c - 3) as f32 + sub;
            if (found - lag).abs() > 0.4 * p1 {
                break;
            }
            p5 = found / k as f32;
            k *= 2;
        }
        let px_per_mm = p5 / 5.0;
        let confidence = (score / 0.15).clamp(0.0, 1.0);
        // phase of the major lines from the summed profile
        let sum: Vec<f32> = (0..n).map(|i| hps.iter().map(|q| q[i]).sum()).collect();
        let mut best_phase = (0.0f32, f32::MIN);
        let mut ph = 0.0;
        while ph < p5 {
            let mut s = 0.0;
            let mut x = ph;
            while x < (n - 1) as f32 {
                let i = x as usize;
                let f = x - i as f32;
                s += sum[i] * (1.0 - f) + sum[i + 1] * f;
                x += p5;
            }
            if s > best_phase.1 {
                best_phase = (ph, s);
            }
            ph += 0.25;
        }
        AxisScale {
            px_per_mm,
            confidence,
            major_phase: Some(best_phase.0),
        }
    }
}

/// The sheet's longer side, in mm, that a scale may imply: a landscape
/// letter or A4 page is 279 to 297 mm, a photo with some desk around it
/// more, a cut-out strip less.
pub const PLAUSIBLE_SHEET_MM: (f32, f32) = (150.0, 450.0);
/// Largest relative change refining may make to a replacement period.
const MAX_FORCED_REFINEMENT: f32 = 0.01;
/// Smallest summed support (relative comb scores of the 1 mm and 5 mm
/// periods, both axes) a replacement period needs.
const MIN_PERIOD_SUPPORT: f32 = 0.5;

/// Whether a `w x h` image at these scales (px per mm) is a plausible
/// sheet ([`PLAUSIBLE_SHEET_MM`] along its longer side).
pub fn plausible_size(w: usize, h: usize, ppx: f32, ppy: f32) -> bool {
    let long = (w as f32 / ppx.max(1e-3)).max(h as f32 / ppy.max(1e-3));
    (PLAUSIBLE_SHEET_MM.0..=PLAUSIBLE_SHEET_MM.1).contains(&long)
}

/// Relative comb score of the local maximum within 2 % of `period` (0
/// without one).
fn support(peaks: &[(f32, f32)], period: f32) -> f32 {
    peaks
        .iter()
        .filter(|(p, _)| (p / period - 1.0).abs() <= 0.02)
        .map(|(_, s)| *s)
        .fold(0.0, f32::max)
}

/// The 1 mm period (px) of a `w x h` page best supported by the combs'
/// local maxima of both axes (`peaks`, period and relative score): each
/// maximum is tried as the 1 mm and as the 5 mm period; a candidate that
/// makes a plausible sheet scores the support of its 1 mm and its 5 mm
/// period on each axis. Returns the period and its support (0 to 4);
/// `None` when none reaches [`MIN_PERIOD_SUPPORT`].
pub fn plausible_period(peaks: &[Vec<(f32, f32)>; 2], w: usize, h: usize) -> Option<(f32, f32)> {
    let mut best: Option<(f32, f32)> = None;
    for &(p, _) in peaks.iter().flatten() {
        for p1 in [p, p / 5.0] {
            if !plausible_size(w, h, p1, p1) {
                continue;
            }
            let s: f32 = peaks
                .iter()
                .map(|axis| support(axis, p1) + support(axis, 5.0 * p1))
                .sum();
            if s >= MIN_PERIOD_SUPPORT && best.is_none_or(|b| s > b.1) {
                best = Some((p1, s));
            }
        }
    }
    best
}

#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    // 4 accumulators so the compiler vectorises
    let mut acc = [0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Darkness projections: on x per horizontal band, on y per vertical band.
pub fn band_profiles(m: &[u8], w: usize, h: usize) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let nb = 6usize;
    let bh = h.div_ceil(nb).max(1);
    let bw = w.div_ceil(nb).max(1);
    let mut px = vec![vec![0f32; w]; h.div_ceil(bh)];
    let mut py = vec![vec![0f32; h]; w.div_ceil(bw)];
    let mut rowacc = vec![0u32; w.div_ceil(bw)];
    for y in 0..h {
        let row = &m[y * w..(y + 1) * w];
        let bx = &mut px[y / bh];
        rowacc.iter_mut().for_each(|a| *a = 0);
        for (x, &v) in row.iter().enumerate() {
            let d = 255 - v as u32;
            bx[x] += d as f32;
            rowacc[x / bw] += d;
        }
        for (b, &a) in rowacc.iter().enumerate() {
            py[b][y] = a as f32;
        }
    }
    (px, py)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    /// A grid with minor lines every `ppmm` px and major lines every 5 mm.
    fn grid_image(w: u32, h: u32, ppmm: f32, minor: bool, colour: [u8; 3]) -> RgbImage {
        let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
        let on = |v: u32| -> (bool, bool) {
            let mm = v as f32 / ppmm;
            let near = |period: f32| {
                let r = (mm / period).fract();
                r * period * ppmm < 1.0
            };
            (near(5.0), near(1.0))
        };
        for y in 0..h {
            for x in 0..w {
                let (mx, nx) = on(x);
                let (my, ny) = on(y);
                if mx || my {
                    img.put_pixel(x, y, Rgb(colour));
                } else if minor && (nx || ny) {
                    img.put_pixel(x, y, Rgb([255, 200, 200]));
                }
            }
        }
        img
    }

    #[test]
    fn a_sheet_size_tells_the_grid_period_from_a_row_or_beat_period() {
        // a 1254 x 969 page at 4.49 px per mm whose combs peak at 3 mm
        // (beats) as strongly as at 1 and 5 mm: 3 mm as the 5 mm period
        // would make the sheet 466 mm wide
        assert!(plausible_size(1254, 969, 4.49, 4.49));
        assert!(!plausible_size(1254, 969, 13.48 / 5.0, 13.48 / 5.0));
        assert!(!plausible_size(1254, 969, 12.5, 12.5));
        let x = vec![(4.496, 0.88), (13.48, 1.0), (22.47, 0.95), (31.4, 0.88)];
        let y = vec![(4.496, 0.83), (22.47, 0.72), (31.42, 1.0)];
        let (p, support) = plausible_period(&[x, y], 1254, 969).expect("a plausible period");
        assert!(support > 3.0, "{support}");
        assert!((p - 4.496).abs() < 0.02, "{p}");
        // nothing plausible and well supported: no replacement
        assert_eq!(
            plausible_period(&[vec![(400.0, 1.0)], vec![]], 1254, 969),
            None
        );
    }

    #[test]
    fn a_coarse_page_whose_minor_lines_blur_away_is_read_at_its_size() {
        for (ppmm, colour) in [(2.48f32, [240, 150, 170]), (2.6, [120, 120, 120])] {
            let img = grid_image(702, 535, ppmm, true, colour);
            let g = GridScaleConfig::default().measure(&PageImage::new(img));
            assert!((g.px_per_mm_x / ppmm - 1.0).abs() < 0.02, "{ppmm}: {g:?}");
        }
    }

    #[test]
    fn measures_red_grid_scale_subpixel() {
        let img = grid_image(1100, 850, 3.937, true, [230, 40, 40]);
        let g = GridScaleConfig::default().measure(&PageImage::new(img));
        assert_eq!(g.source, ScaleSource::Grid);
        assert!((g.px_per_mm_x - 3.937).abs() < 0.01, "{g:?}");
        assert!((g.px_per_mm_y - 3.937).abs() < 0.01, "{g:?}");
    }

    #[test]
    fn a_scale_next_to_a_whole_dpi_is_that_dpi() {
        let cfg = GridScaleConfig::default();
        let exact = 200.0 / 25.4;
        // 7e-5 off (what pixel-snapped grid lines leave): 200 dpi
        assert_eq!(cfg.whole_dpi(exact * (1.0 + 7e-5)), exact);
        // a photo's 200.6 dpi stays as measured
        let photo = 200.6 / 25.4;
        assert_eq!(cfg.whole_dpi(photo), photo);
        let off = GridScaleConfig {
            whole_dpi_tolerance: 0.0,
            ..GridScaleConfig::default()
        };
        assert_eq!(off.whole_dpi(exact * (1.0 + 7e-5)), exact * (1.0 + 7e-5));
        // a 200 dpi page whose grid lines sit on whole pixels is read as
        // exactly 200 dpi
        let img = grid_image(2200, 1700, exact, true, [230, 40, 40]);
        let g = cfg.measure(&PageImage::new(img));
        assert!((g.px_per_mm_x - exact).abs() < 1e-6, "{g:?}");
        assert!((g.px_per_mm_y - exact).abs() < 1e-6, "{g:?}");
    }

    #[test]
    fn major_only_grid_is_read_as_5_mm() {
        let img = grid_image(1100, 850, 3.937, false, [120, 120, 120]);
        let g = GridScaleConfig::default().measure(&PageImage::new(img));
        assert!((g.px_per_mm_x - 3.937).abs() < 0.02, "{g:?}");
    }

    #[test]
    fn blank_page_falls_back_to_dpi() {
        let img = RgbImage::from_pixel(800, 600, Rgb([250, 250, 250]));
        let mut page = PageImage::new(img);
        let g = GridScaleConfig::default().measure(&page);
        assert_eq!(g.source, ScaleSource::Assumed);
        assert!((g.px_per_mm_x - 200.0 / 25.4).abs() < 1e-4);
        page.dpi = Some(300.0);
        let g = GridScaleConfig::default().measure(&page);
        assert_eq!(g.source, ScaleSource::FileDpi);
    }
}
