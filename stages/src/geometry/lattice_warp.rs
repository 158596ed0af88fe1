//! The residual warp inside a photographed sheet, measured on its printed
//! grid (part of `dewarp`).
//!
//! Why: the sheet-edge rectification in [`super::dewarp`] fixes the
//! perspective and the curl *of the edges*, but a curled page is also
//! foreshortened non-uniformly inside: where it lifts towards the camera it
//! looks larger, so time is stretched differently along a row and rows bow
//! a little. The edges cannot see that; the grid can, because its lines are
//! printed straight and evenly spaced.
//!
//! How, on a first (half-size) rectification of the sheet:
//! * **Grid-ness**: per pixel `max - min` of the channels. A coloured grid
//!   is bright in it; white paper is dark. Ink (the trace, labels: dark and
//!   colourless) takes its block's typical grid-ness, so a trace crossing
//!   the lines reads neither as line nor as a gap in the grid.
//! * **Pitch**: [`GridScaleConfig::measure`] gives the page's mean pitch; the
//!   5 mm major lines are followed (their period is long enough that a local
//!   stretch of several percent moves a line by well under half a period
//!   between neighbouring measurements).
//! * **Local phase**: in overlapping bands two major periods tall, the
//!   column profile of the grid-ness is demodulated at the major frequency
//!   under a Hann window four periods wide, every period along the band. The
//!   phase says where the major lines are near that point relative to an
//!   ideal lattice of the mean pitch. Windows where the modulation is weak
//!   against the level above the window's floor (no grid, desk; a tinted
//!   paper's own colour is not counted) are left out. The same on the transposed
//!   image gives the horizontal lines.
//! * **Unwrapping**: phases are known modulo one period; along each band
//!   they are unwrapped outwards from its middle (a window that jumps by
//!   over a third of a period is dropped, not followed), and bands are brought to
//!   a common branch by the median of their differences with the band
//!   before, outwards from the best-filled band.
//! * **Fit**: a low-order tensor polynomial of the displacement (degree
//!   3 to [`MAX_DEG`] in x and y: one per five major periods across the
//!   shorter side, so a small or coarse page gets a stiffer fit), fitted robustly (residuals past 3 MADs dropped). It
//!   is smooth and cannot follow a single bad window; it is evaluated with
//!   its coordinates clamped to the measured area, so it does not run away
//!   over the desk. Its mean is removed, so the page does not move as a
//!   whole.
//! * **Use**: the displacements are filed under their lines' ideal
//!   positions, so the fit is directly the map output pixel `(X, Y)` to
//!   rectified pixel `(X + dx(X, Y), Y + dy(X, Y))`, which makes the major
//!   lines straight and evenly spaced at the mean pitch; `dewarp` composes
//!   it with the sheet map and resamples the photo once. A correction below [`MIN_CORRECTION_PX`] (RMS) or a
//!   map that is not clearly monotone is not applied.
//!
//! [`LatticeWarp::residual_mm`] is the RMS distance, in millimetres, of the
//! measured lines from the fitted map (how straight and even the grid is
//! after the warp); [`LatticeWarp::correction_mm`] the RMS size of the
//! correction.

use super::grid::GridScaleConfig;
use super::grid_channels::{grid_channel, GridInk};
use ecgdig_core::prelude::*;
use image::RgbImage;

/// Degree of the displacement polynomial along each axis.
pub const MAX_DEG: usize = 6;
/// Corrections smaller than this (RMS over the measured area, pixels of the
/// measured image) are not worth a resample.
pub const MIN_CORRECTION_PX: f64 = 0.15;
/// Shortest and longest plausible long side of a sheet, mm.
const SHEET_MIN_MM: f32 = 140.0;
const SHEET_MAX_MM: f32 = 420.0;
/// Smallest slope of an applied map along its axis.
const MIN_SLOPE: f64 = 0.8;
/// Smallest relative modulation at the major frequency for a window to count.
const MIN_MODULATION: f64 = 0.06;
/// Smallest share of windows with a usable grid.
const MIN_VALID_SHARE: f64 = 0.2;

/// A tensor polynomial `f(u, v) = sum c[i][j] u^i v^j` in coordinates
/// normalised to the measured area (`u, v` in -1..1, clamped).
#[derive(Clone, Debug)]
struct Poly2 {
    deg: usize,
    c: Vec<f64>,
    centre: (f64, f64),
    half: (f64, f64),
}

impl Poly2 {
    /// No displacement anywhere.
    fn zero() -> Poly2 {
        Poly2 {
            deg: 0,
            c: vec![0.0],
            centre: (0.0, 0.0),
            half: (1.0, 1.0),
        }
    }

    fn norm(&self, x: f64, y: f64) -> (f64, f64) {
        (
            ((x - self.centre.0) / self.half.0).clamp(-1.0, 1.0),
            ((y - self.centre.1) / self.half.1).clamp(-1.0, 1.0),
        )
    }

    fn basis(u: f64, v: f64, deg: usize, out: &mut [f64]) {
        let mut pu = [1.0f64; MAX_DEG + 1];
        let mut pv = [1.0f64; MAX_DEG + 1];
        for k in 1..=deg {
            pu[k] = pu[k - 1] * u;
            pv[k] = pv[k - 1] * v;
        }
        for i in 0..=deg {
            for j in 0..=deg {
                out[i * (deg + 1) + j] = pu[i] * pv[j];
            }
        }
    }

    fn at(&self, x: f64, y: f64) -> f64 {
        let (u, v) = self.norm(x, y);
        let mut b = [0f64; (MAX_DEG + 1) * (MAX_DEG + 1)];
        Self::basis(u, v, self.deg, &mut b);
        b.iter().zip(&self.c).map(|(a, c)| a * c).sum()
    }

    /// Robust least squares over `(x, y, d)`; None when under-determined.
    fn fit(pts: &[(f64, f64, f64)], deg: usize) -> Option<(Poly2, Vec<bool>)> {
        let deg = deg.min(MAX_DEG);
        let n = (deg + 1) * (deg + 1);
        if pts.len() < 3 * n {
            return None;
        }
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in pts {
            x0 = x0.min(p.0);
            x1 = x1.max(p.0);
            y0 = y0.min(p.1);
            y1 = y1.max(p.1);
        }
        let mut poly = Poly2 {
            deg,
            c: vec![0.0; n],
            centre: ((x0 + x1) / 2.0, (y0 + y1) / 2.0),
            half: (((x1 - x0) / 2.0).max(1.0), ((y1 - y0) / 2.0).max(1.0)),
        };
        let mut keep = vec![true; pts.len()];
        let mut b = vec![0f64; n];
        for round in 0..4 {
            let mut a = vec![vec![0f64; n + 1]; n];
            let mut used = 0;
            for (p, _) in pts.iter().zip(&keep).filter(|(_, &k)| k) {
                let (u, v) = poly.norm(p.0, p.1);
                Self::basis(u, v, deg, &mut b);
                for i in 0..n {
                    for j in i..n {
                        a[i][j] += b[i] * b[j];
                    }
                    a[i][n] += b[i] * p.2;
                }
                used += 1;
            }
            if used < 2 * n {
                return None;
            }
            // mirror the upper triangle; a whisper of ridge keeps a sparse
            // corner from blowing up
            for i in 0..n {
                let (upper, lower) = a.split_at_mut(i);
                let row = &mut lower[0];
                for (j, u) in upper.iter().enumerate() {
                    row[j] = u[i];
                }
                row[i] += 1e-6 * used as f64;
            }
            poly.c = solve(a)?;
            if round == 3 {
                break;
            }
            let mut res: Vec<f64> = pts
                .iter()
                .map(|p| (p.2 - poly.at(p.0, p.1)).abs())
                .collect();
            let mut sorted: Vec<f64> = res
                .iter()
                .zip(&keep)
                .filter(|(_, &k)| k)
                .map(|(r, _)| *r)
                .collect();
            sorted.sort_by(f64::total_cmp);
            let mad = sorted[sorted.len() / 2];
            let lim = (3.0 * 1.4826 * mad).max(0.3);
            for (k, r) in keep.iter_mut().zip(res.iter_mut()) {
                *k = *r <= lim;
            }
        }
        Some((poly, keep))
    }
}

/// Gaussian elimination with partial pivoting on an augmented `n x (n+1)`.
fn solve(mut a: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let n = a.len();
    for col in 0..n {
        let piv = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, piv);
        let pr = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pr[col];
                if f != 0.0 {
                    for (x, p) in row[col..=n].iter_mut().zip(&pr[col..=n]) {
                        *x -= f * p;
                    }
                }
            }
        }
    }
    let x: Vec<f64> = (0..n).map(|i| a[i][n] / a[i][i]).collect();
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The fitted residual warp: output pixel to measured-image pixel.
#[derive(Clone, Debug)]
pub struct LatticeWarp {
    dx: Poly2,
    dy: Poly2,
    /// Mean of each fit over the measured nodes (removed when applied).
    mean: (f64, f64),
    /// Output pixels per measured-image pixel.
    pub scale: f64,
    /// Major-line pitch the lines are made even at, measured-image pixels.
    pub pitch_px: (f64, f64),
    /// RMS departure of the measured grid lines from the fitted map, mm.
    pub residual_mm: f64,
    /// RMS size of the correction over the measured nodes, mm.
    pub correction_mm: f64,
    /// Nodes the fit kept (vertical lines, horizontal lines).
    pub nodes: (usize, usize),
}

impl LatticeWarp {
    /// Where output pixel `(x, y)` lies in the frame the lattice was
    /// measured in, scaled to output pixels.
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let (u, v) = (x / self.scale, y / self.scale);
        // the fits are in the ideal lattice's coordinates: no fixed point
        let du = self.dx.at(u, v) - self.mean.0;
        let dv = self.dy.at(u, v) - self.mean.1;
        (x + du * self.scale, y + dv * self.scale)
    }

    /// The smallest slope of the map along x (`along_x`) or y over the
    /// measured area: a fold (slope near or below 0) means the fit went
    /// wrong.
    fn min_slope(&self, w: f64, h: f64, along_x: bool) -> f64 {
        let mut worst = f64::MAX;
        let step = 0.05;
        for j in 0..=20 {
            for i in 0..=20 {
                let (x, y) = (i as f64 * step * w, j as f64 * step * h);
                let e = 1.0;
                let s = if along_x {
                    (self.dx.at(x + e, y) - self.dx.at(x - e, y)) / (2.0 * e) + 1.0
                } else {
                    (self.dy.at(x, y + e) - self.dy.at(x, y - e)) / (2.0 * e) + 1.0
                };
                worst = worst.min(s);
            }
        }
        worst
    }
}

/// One measurement: where the major lines crossing near `(x, y)` are,
/// relative to the ideal lattice (`d` pixels along the axis).
#[derive(Clone, Copy, Debug)]
struct Node {
    along: f64,
    across: f64,
    d: f64,
}

/// Local positions of the lines that cross the `along` axis (vertical lines
/// when `along` is x) on a `w x h` row-major grid-ness image, unwrapped to
/// one branch. `pitch`: the major period along that axis, pixels.
fn measure_axis(g: &[f32], w: usize, h: usize, pitch: f64) -> Vec<Node> {
    let step = pitch.round().max(4.0) as usize;
    let band = 2 * step;
    let half = 2.0 * pitch;
    let hw = half.ceil() as usize;
    if w < 2 * hw + step || h < band {
        return Vec::new();
    }
    let k = std::f64::consts::TAU / pitch;
    let (cs, sn): (Vec<f64>, Vec<f64>) = (0..w)
        .map(|x| ((k * x as f64).cos(), (k * x as f64).sin()))
        .unzip();
    let win: Vec<f64> = (0..=2 * hw)
        .map(|i| {
            let t = (i as f64 - hw as f64) / half;
            if t.abs() >= 1.0 {
                0.0
            } else {
                0.5 + 0.5 * (std::f64::consts::PI * t).cos()
            }
        })
        .collect();
    let wsum: f64 = win.iter().sum();
    let centres: Vec<usize> = (hw..w - hw).step_by(step).collect();
    let mut rows: Vec<(f64, Vec<Option<f64>>)> = Vec::new();
    let mut prof = vec![0f64; w];
    let mut y0 = 0;
    while y0 + band <= h {
        prof.iter_mut().for_each(|p| *p = 0.0);
        for y in y0..y0 + band {
            for (p, &v) in prof.iter_mut().zip(&g[y * w..(y + 1) * w]) {
                *p += v as f64;
            }
        }
        let mut ds = Vec::with_capacity(centres.len());
        for &c in &centres {
            let lo = c - hw;
            let seg = &prof[lo..=c + hw];
            let mean: f64 = seg.iter().zip(&win).map(|(p, q)| p * q).sum::<f64>() / wsum;
            // the paper's own level (a tint, a grey) is not grid: modulation
            // is measured against the level above the window's floor
            let floor = seg.iter().copied().fold(f64::MAX, f64::min);
            let (mut re, mut im) = (0.0, 0.0);
            for (i, (p, q)) in seg.iter().zip(&win).enumerate() {
                let v = (p - mean) * q;
                re += v * cs[lo + i];
                im += v * sn[lo + i];
            }
            // a line at a gives phase +k a; modulation relative to the mean
            let amp = 2.0 * (re * re + im * im).sqrt() / wsum;
            let above = mean - floor;
            if above > 1e-6 && amp / above >= MIN_MODULATION && amp >= 0.5 * band as f64 {
                ds.push(Some(im.atan2(re) / k));
            } else {
                ds.push(None);
            }
        }
        rows.push((y0 as f64 + band as f64 / 2.0 - 0.5, ds));
        y0 += step;
    }
    // unwrap along each band from its middle
    let unwrap = |v: f64, near: f64| v + pitch * ((near - v) / pitch).round();
    for (_, ds) in rows.iter_mut() {
        let mid = ds.len() / 2;
        let Some(start) = (0..ds.len())
            .filter(|&i| ds[i].is_some())
            .min_by_key(|&i| i.abs_diff(mid))
        else {
            continue;
        };
        // a window that jumps by more than a third of a period from the
        // last kept one is noise (a dense trace, a label): dropped, so one bad
        // window cannot move the rest of the band to another branch
        let follow = |it: &mut dyn Iterator<Item = &mut Option<f64>>, mut prev: f64| {
            for slot in it {
                if let Some(d) = slot {
                    let u = unwrap(*d, prev);
                    if (u - prev).abs() > pitch / 3.0 {
                        *slot = None;
                    } else {
                        *d = u;
                        prev = u;
                    }
                }
            }
        };
        let s0 = ds[start].unwrap_or(0.0);
        follow(&mut ds[start + 1..].iter_mut(), s0);
        follow(&mut ds[..start].iter_mut().rev(), s0);
    }
    // bring bands to one branch, outwards from the best-filled band
    let filled = |r: &Vec<Option<f64>>| r.iter().filter(|d| d.is_some()).count();
    let Some(best) = (0..rows.len()).max_by_key(|&j| filled(&rows[j].1)) else {
        return Vec::new();
    };
    let mut ok = vec![false; rows.len()];
    ok[best] = true;
    let order: Vec<(usize, Vec<usize>)> = (best + 1..rows.len())
        .map(|j| (j, (best..j).rev().collect()))
        .chain((0..best).rev().map(|j| (j, (j + 1..=best).collect())))
        .collect();
    for (j, towards) in order {
        // the nearest band already on the common branch (`best` always is)
        let Some(r) = towards.into_iter().find(|&r| ok[r]) else {
            continue;
        };
        let mut diffs: Vec<f64> = rows[j]
            .1
            .iter()
            .zip(&rows[r].1)
            .filter_map(|(a, b)| Some(*a.as_ref()? - *b.as_ref()?))
            .collect();
        if diffs.len() < 3 {
            continue;
        }
        diffs.sort_by(f64::total_cmp);
        let shift = pitch * (diffs[diffs.len() / 2] / pitch).round();
        for d in rows[j].1.iter_mut().flatten() {
            *d -= shift;
        }
        ok[j] = true;
    }
    let mut out = Vec::new();
    for ((across, ds), _) in rows.iter().zip(&ok).filter(|(_, &o)| o) {
        for (&c, d) in centres.iter().zip(ds) {
            if let Some(d) = d {
                out.push(Node {
                    along: c as f64,
                    across: *across,
                    d: *d,
                });
            }
        }
    }
    out
}

/// Measures the residual warp of a rectified sheet (`rgb`, whose pixels are
/// `scale` output pixels each). None when there is no clear coloured grid,
/// when the grid is already straight and even, or when the fit is not a
/// plausible smooth map.
pub fn measure(rgb: &RgbImage, scale: f64) -> Option<LatticeWarp> {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let page = PageImage::new(rgb.clone());
    // the image is one whole sheet, whose long side is between an A5
    // page's short side and a legal page's long side: that bounds the
    // scale, so a grid seen at a multiple of its period is not taken
    let long = w.max(h) as f32;
    let info = GridScaleConfig {
        min_px_per_mm: long / SHEET_MAX_MM,
        max_px_per_mm: long / SHEET_MIN_MM,
        ..GridScaleConfig::default()
    }
    .measure(&page);
    if info.source != ScaleSource::Grid || info.confidence < 0.2 {
        return None;
    }
    let (px, py) = (5.0 * info.px_per_mm_x as f64, 5.0 * info.px_per_mm_y as f64);
    if px < 8.0 || py < 8.0 {
        return None;
    }
    let total_x = ((w as f64 / px) * (h as f64 / py)).max(1.0);
    let enough = |n: usize| n as f64 >= MIN_VALID_SHARE * total_x;
    // a coloured grid is seen in its colour; a grey or black one, where the
    // colour shows too little of it, in its darkness
    let mut found = None;
    for ink in [GridInk::Colour, GridInk::Grey] {
        let g = grid_channel(rgb, ink);
        let mut gt = vec![0f32; w * h];
        for y in 0..h {
            for x in 0..w {
                gt[x * h + y] = g[y * w + x];
            }
        }
        let vx = measure_axis(&g, w, h, px);
        let vy = measure_axis(&gt, h, w, py);
        if enough(vx.len()) && enough(vy.len()) {
            found = Some((vx, vy));
            break;
        }
    }
    let (vx, vy) = found?;
    // each displacement is filed under the ideal position of its line
    // (`along - d`), so the fitted map goes straight from the even lattice
    // to the photo and needs no inverting
    let ptsx: Vec<(f64, f64, f64)> = vx.iter().map(|n| (n.along - n.d, n.across, n.d)).collect();
    let ptsy: Vec<(f64, f64, f64)> = vy.iter().map(|n| (n.across, n.along - n.d, n.d)).collect();
    let periods = (w as f64 / px).min(h as f64 / py);
    let deg = ((periods / 5.0) as usize).clamp(3, MAX_DEG);
    let (fx, kx) = Poly2::fit(&ptsx, deg)?;
    let (fy, ky) = Poly2::fit(&ptsy, deg)?;
    let stats = |f: &Poly2, pts: &[(f64, f64, f64)], keep: &[bool]| -> (f64, f64, f64, usize) {
        let (mut n, mut s, mut r2) = (0usize, 0.0, 0.0);
        for (p, _) in pts.iter().zip(keep).filter(|(_, &k)| k) {
            let v = f.at(p.0, p.1);
            s += v;
            r2 += (p.2 - v).powi(2);
            n += 1;
        }
        let n1 = n.max(1) as f64;
        let mean = s / n1;
        let c2: f64 = pts
            .iter()
            .zip(keep)
            .filter(|(_, &k)| k)
            .map(|(p, _)| (f.at(p.0, p.1) - mean).powi(2))
            .sum::<f64>()
            / n1;
        (mean, (r2 / n1).sqrt(), c2.sqrt(), n)
    };
    let (mx, rx, cx, nx) = stats(&fx, &ptsx, &kx);
    let (my, ry, cy, ny) = stats(&fy, &ptsy, &ky);
    let ppmm = (info.px_per_mm_x as f64 + info.px_per_mm_y as f64) / 2.0;
    let mut warp = LatticeWarp {
        dx: fx,
        dy: fy,
        mean: (mx, my),
        scale,
        pitch_px: (px, py),
        residual_mm: ((rx * rx + ry * ry) / 2.0).sqrt() / ppmm,
        correction_mm: 0.0,
        nodes: (nx, ny),
    };
    // each axis is used only where its map is smooth and clearly monotone
    // (a fold means a wrong branch or a trace read as a line): time along
    // the rows gains from the vertical lines even when the horizontal ones
    // cannot be trusted
    let (w, h) = (w as f64, h as f64);
    let use_x = warp.min_slope(w, h, true) >= MIN_SLOPE;
    let use_y = warp.min_slope(w, h, false) >= MIN_SLOPE;
    if (!use_x && !use_y) || cx.max(cy) < MIN_CORRECTION_PX {
        return None;
    }
    if !use_x {
        warp.dx = Poly2::zero();
        warp.mean.0 = 0.0;
    }
    if !use_y {
        warp.dy = Poly2::zero();
        warp.mean.1 = 0.0;
    }
    let (cx, cy) = (if use_x { cx } else { 0.0 }, if use_y { cy } else { 0.0 });
    warp.correction_mm = ((cx * cx + cy * cy) / 2.0).sqrt() / ppmm;
    Some(warp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    type Map = dyn Fn(f64, f64) -> (f64, f64);

    /// A grid page seen through `fwd` (page point to image point): minor
    /// lines every 8 px, major every 40 px in `line` colours, and a black
    /// trace row. Rendered by inverting `fwd` per pixel (fixed point).
    fn warped_lattice(w: u32, h: u32, fwd: &Map, major: [u8; 3], minor: [u8; 3]) -> RgbImage {
        let mid = h as f64 / 2.0;
        let trace = move |u: f64, v: f64| (v - (mid + 30.0 * (u * 0.05).sin())).abs() < 1.5;
        warped_page(w, h, fwd, [252, 250, 248], major, minor, &trace)
    }

    /// [`warped_lattice`] on `paper`, with ink wherever `trace(u, v)` (page
    /// coordinates).
    fn warped_page(
        w: u32,
        h: u32,
        fwd: &Map,
        paper: [u8; 3],
        major: [u8; 3],
        minor: [u8; 3],
        trace: &dyn Fn(f64, f64) -> bool,
    ) -> RgbImage {
        let mut img = RgbImage::from_pixel(w, h, Rgb(paper));
        for y in 0..h {
            for x in 0..w {
                let (xf, yf) = (x as f64, y as f64);
                let (mut u, mut v) = (xf, yf);
                for _ in 0..8 {
                    let (a, b) = fwd(u, v);
                    u -= a - xf;
                    v -= b - yf;
                }
                let near = |p: f64, per: f64| (p - per * (p / per).round()).abs();
                let dmaj = near(u, 40.0).min(near(v, 40.0));
                let dmin = near(u, 8.0).min(near(v, 8.0));
                let c = if trace(u, v) {
                    [20, 20, 20]
                } else if dmaj < 1.0 {
                    major
                } else if dmin < 0.6 {
                    minor
                } else {
                    continue;
                };
                img.put_pixel(x, y, Rgb(c));
            }
        }
        img
    }

    const RED: [u8; 3] = [230, 70, 70];
    const PINK: [u8; 3] = [248, 196, 196];

    /// Largest departure of `back(apply(X, Y))` from an axis-aligned affine
    /// map, pixels, over the interior: what is left of the warp.
    fn leftover(warp: &LatticeWarp, back: &Map, w: f64, h: f64) -> f64 {
        let mut pts = Vec::new();
        for j in 2..19 {
            for i in 2..19 {
                let (x, y) = (i as f64 / 20.0 * w, j as f64 / 20.0 * h);
                let (a, b) = warp.apply(x, y);
                let (u, v) = back(a, b);
                pts.push((x, y, u, v));
            }
        }
        let fit = |k: usize| {
            let n = pts.len() as f64;
            let (mx, mu) = pts.iter().fold((0.0, 0.0), |acc, p| {
                let (s, t) = if k == 0 { (p.0, p.2) } else { (p.1, p.3) };
                (acc.0 + s / n, acc.1 + t / n)
            });
            let (mut sxx, mut sxu) = (0.0, 0.0);
            for p in &pts {
                let (s, t) = if k == 0 { (p.0, p.2) } else { (p.1, p.3) };
                sxx += (s - mx) * (s - mx);
                sxu += (s - mx) * (t - mu);
            }
            let b = sxu / sxx;
            pts.iter()
                .map(|p| {
                    let (s, t) = if k == 0 { (p.0, p.2) } else { (p.1, p.3) };
                    (t - mu - b * (s - mx)).abs()
                })
                .fold(0.0, f64::max)
        };
        fit(0).max(fit(1))
    }

    /// Inverse of `fwd` by fixed-point iteration.
    fn inverse(fwd: &'static Map) -> Box<Map> {
        Box::new(move |x, y| {
            let (mut u, mut v) = (x, y);
            for _ in 0..12 {
                let (a, b) = fwd(u, v);
                u -= a - x;
                v -= b - y;
            }
            (u, v)
        })
    }

    /// A cylinder's tangential stretch along x (cubic: the middle squeezed,
    /// the ends stretched by about 5 %) and rows bowed by up to 8 px.
    fn curl(x: f64, y: f64) -> (f64, f64) {
        let u = (x - 600.0) / 600.0;
        let v = (y - 450.0) / 450.0;
        (
            x + 12.0 * u.powi(3) + 1.5 * u * v,
            y + 8.0 * (1.0 - u * u) + 1.0 * v,
        )
    }

    #[test]
    fn recovers_a_curl_stretch_and_bow() {
        let img = warped_lattice(1200, 900, &curl, RED, PINK);
        let warp = measure(&img, 1.0).expect("a warp is measured");
        let back = inverse(&curl);
        let none = LatticeWarp {
            dx: Poly2 {
                deg: 0,
                c: vec![0.0],
                centre: (0.0, 0.0),
                half: (1.0, 1.0),
            },
            mean: (0.0, 0.0),
            ..warp.clone()
        };
        let none = LatticeWarp {
            dy: none.dx.clone(),
            ..none
        };
        let before = leftover(&none, &back, 1200.0, 900.0);
        let after = leftover(&warp, &back, 1200.0, 900.0);
        // the warp is over 3 px; after it the grid is even within 0.5 px
        // (0.06 mm at 8 px/mm; the test lines are drawn without
        // anti-aliasing, so each sits on whole pixels)
        assert!(before > 3.0, "before {before:.2}");
        assert!(after < 0.5, "after {after:.2} px (before {before:.2})");
        assert!(warp.residual_mm < 0.05, "residual {} mm", warp.residual_mm);
        assert!(
            warp.correction_mm > 0.1,
            "correction {} mm",
            warp.correction_mm
        );
    }

    /// Displacements well past half a major period (up to 28 px against a
    /// 40 px period): recovered only if the phases are unwrapped.
    #[test]
    fn unwraps_a_stretch_past_half_a_period() {
        fn big(x: f64, y: f64) -> (f64, f64) {
            let u = (x - 600.0) / 600.0;
            (x + 28.0 * u.powi(3), y)
        }
        let img = warped_lattice(1200, 900, &big, RED, PINK);
        let warp = measure(&img, 1.0).expect("a warp is measured");
        let after = leftover(&warp, &inverse(&big), 1200.0, 900.0);
        // (a degree-4 fit of a 28 px cubic seen from the other side leaves
        // under a pixel; a wrong branch would leave 40)
        assert!(after < 1.0, "after {after:.2} px");
    }

    /// Sand-tinted paper (its own colour is half a line's: a relative
    /// modulation measured against the whole level misses the lines) and
    /// four rows of tall, spiky black traces ten pixels wide: the ink is
    /// not read as missing grid and the tint does not hide the lines.
    #[test]
    fn dense_traces_on_tinted_paper_do_not_pull_the_lines() {
        let spiky = |u: f64, v: f64| {
            (1..5).any(|row| {
                let base = row as f64 * 180.0;
                let phase = (u / 37.0).fract();
                let tooth = 120.0 * (1.0 - (2.0 * phase - 1.0).abs()).powi(6);
                (v - (base - tooth + 6.0 * (u * 0.11).sin())).abs() < 5.0
            })
        };
        let (paper, major, minor) = ([250, 222, 180], [225, 160, 140], [245, 212, 180]);
        let img = warped_page(1200, 900, &curl, paper, major, minor, &spiky);
        let warp = measure(&img, 1.0).expect("a warp is measured");
        let after = leftover(&warp, &inverse(&curl), 1200.0, 900.0);
        assert!(after < 0.6, "after {after:.2} px");
    }

    #[test]
    fn a_straight_even_grid_needs_no_warp() {
        fn flat(x: f64, y: f64) -> (f64, f64) {
            (x, y)
        }
        let img = warped_lattice(1200, 900, &flat, RED, PINK);
        assert!(measure(&img, 1.0).is_none());
    }

    /// A grey grid has no colour: it is measured in its darkness, and the
    /// black trace crossing it is left out.
    #[test]
    fn a_grey_grid_is_measured_in_its_darkness() {
        let img = warped_lattice(1200, 900, &curl, [140, 140, 140], [215, 215, 215]);
        let warp = measure(&img, 1.0).expect("a warp is measured");
        let after = leftover(&warp, &inverse(&curl), 1200.0, 900.0);
        assert!(after < 0.6, "after {after:.2} px");
    }

    /// A tenth of the nodes far off (bad windows, a wrong branch) do not
    /// pull the fit: the robust refit drops them.
    #[test]
    fn outlying_nodes_do_not_pull_the_fit() {
        let mut pts = Vec::new();
        for j in 0..20 {
            for i in 0..30 {
                let (x, y) = (i as f64 * 40.0, j as f64 * 40.0);
                let u = (x - 600.0) / 600.0;
                let mut d = 4.0 * u.powi(3);
                if (i * 7 + j * 3) % 10 == 0 {
                    d += 20.0;
                }
                pts.push((x, y, d));
            }
        }
        let (f, keep) = Poly2::fit(&pts, 4).expect("fit");
        let worst = (0..30)
            .map(|i| {
                let x = i as f64 * 40.0;
                (f.at(x, 400.0) - 4.0 * ((x - 600.0) / 600.0).powi(3)).abs()
            })
            .fold(0.0, f64::max);
        assert!(worst < 0.05, "worst {worst}");
        assert_eq!(keep.iter().filter(|k| !**k).count(), 60);
    }
}
