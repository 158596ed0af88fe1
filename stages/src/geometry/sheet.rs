//! The photographed sheet: its four edges found against the desk, and the
//! map from the rectified frame into the photo (the corners' homography plus
//! the edges' curl as a Coons patch), used by [`super::dewarp`].
//!
//! * **Edges**: on a downscaled max-channel image, the paper is the bright
//!   class of an Otsu split and the desk the dark one. Every column is
//!   scanned from the top and the bottom, every row from the left and the
//!   right, for its first crossing from desk into paper, at the scan line's
//!   own level (see [`find_sheet`]).
//! * **Map**: [`Sheet::map`], evaluated on an 8 px mesh by
//!   [`Sheet::rectify_with`], which also folds in the grid's residual warp
//!   so that the photo is resampled once.

use super::lattice_warp::LatticeWarp;
use ecgdig_core::prelude::*;
use image::RgbImage;

/// A polynomial `v(u)` in a normalised variable.
#[derive(Clone, Debug)]
pub struct Poly {
    c: Vec<f64>,
    centre: f64,
    scale: f64,
}

impl Poly {
    pub fn at(&self, u: f64) -> f64 {
        let z = (u - self.centre) / self.scale;
        self.c.iter().rev().fold(0.0, |acc, &k| acc * z + k)
    }

    /// Least-squares fit of degree `deg`; None when under-determined.
    pub fn fit(pts: &[(f64, f64)], deg: usize) -> Option<Poly> {
        let n = deg + 1;
        if pts.len() < n + 2 {
            return None;
        }
        let lo = pts.iter().map(|p| p.0).fold(f64::MAX, f64::min);
        let hi = pts.iter().map(|p| p.0).fold(f64::MIN, f64::max);
        let centre = (lo + hi) / 2.0;
        let scale = ((hi - lo) / 2.0).max(1.0);
        let mut a = vec![vec![0.0f64; n + 1]; n];
        for &(u, v) in pts {
            let z = (u - centre) / scale;
            let mut pw = vec![1.0f64; n];
            for k in 1..n {
                pw[k] = pw[k - 1] * z;
            }
            for i in 0..n {
                for j in 0..n {
                    a[i][j] += pw[i] * pw[j];
                }
                a[i][n] += pw[i] * v;
            }
        }
        // Gaussian elimination with partial pivoting
        for col in 0..n {
            let piv = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
            if a[piv][col].abs() < 1e-12 {
                return None;
            }
            a.swap(col, piv);
            let pivot_row = a[col].clone();
            for (r, row) in a.iter_mut().enumerate() {
                if r != col {
                    let f = row[col] / pivot_row[col];
                    for (x, p) in row[col..=n].iter_mut().zip(&pivot_row[col..=n]) {
                        *x -= f * p;
                    }
                }
            }
        }
        let c = (0..n).map(|i| a[i][n] / a[i][i]).collect();
        Some(Poly { c, centre, scale })
    }

    /// Fit that drops points far from the curve and refits.
    pub fn fit_robust(pts: &[(f64, f64)], deg: usize, floor: f64) -> Option<Poly> {
        let mut keep: Vec<(f64, f64)> = pts.to_vec();
        let mut p = Poly::fit(&keep, 1)?;
        for it in 0..5 {
            let d = if it < 2 { deg.min(1) } else { deg };
            let mut res: Vec<f64> = keep.iter().map(|q| (q.1 - p.at(q.0)).abs()).collect();
            res.sort_by(f64::total_cmp);
            let mad = res[res.len() / 2];
            let lim = (3.0 * 1.4826 * mad).max(floor);
            let next: Vec<(f64, f64)> = pts
                .iter()
                .copied()
                .filter(|q| (q.1 - p.at(q.0)).abs() <= lim)
                .collect();
            p = Poly::fit(&next, d)?;
            keep = next;
        }
        Some(p)
    }
}

/// The sheet's four edges in input pixels: top and bottom as `y(x)`, left
/// and right as `x(y)`.
#[derive(Clone, Debug)]
pub struct Sheet {
    pub top: Poly,
    pub bottom: Poly,
    pub left: Poly,
    pub right: Poly,
    /// Corners: top-left, top-right, bottom-right, bottom-left.
    pub corners: [(f64, f64); 4],
}

/// Smallest share of the scan lines between two corners whose crossing
/// lies on the fitted edge.
const MIN_EDGE_AGREEMENT: f64 = 0.7;

/// Finds the sheet on a darker background, or None (no background all
/// round: a scan, or a photo cropped inside the sheet).
pub fn find_sheet(rgb: &RgbImage, analysis_size: u32, min_fraction: f32) -> Option<Sheet> {
    let (w0, h0) = (rgb.width() as usize, rgb.height() as usize);
    let f = w0.max(h0).div_ceil(analysis_size.max(64) as usize).max(1);
    let (w, h) = (w0 / f, h0 / f);
    if w < 32 || h < 32 {
        return None;
    }
    // block means of the max channel, sampled on every other pixel
    let raw = rgb.as_raw();
    let step = if f >= 4 { 2 } else { 1 };
    let mut g = vec![0u8; w * h];
    for by in 0..h {
        for bx in 0..w {
            let (mut s, mut n) = (0u32, 0u32);
            for y in (by * f..by * f + f).step_by(step) {
                let row = y * w0 * 3;
                for x in (bx * f..bx * f + f).step_by(step) {
                    let i = row + x * 3;
                    s += raw[i].max(raw[i + 1]).max(raw[i + 2]) as u32;
                    n += 1;
                }
            }
            g[by * w + bx] = (s / n.max(1)) as u8;
        }
    }
    // cheap exit: the image border must be mostly background
    let thr = otsu(&g);
    let mut ring = 0usize;
    let mut dark = 0usize;
    for x in 0..w {
        for y in [0, h - 1] {
            ring += 1;
            dark += (g[y * w + x] < thr) as usize;
        }
    }
    for y in 0..h {
        for x in [0, w - 1] {
            ring += 1;
            dark += (g[y * w + x] < thr) as usize;
        }
    }
    if dark * 10 < ring * 8 {
        return None;
    }
    let (mut lo, mut nlo, mut hi, mut nhi) = (0u64, 0u64, 0u64, 0u64);
    for &v in &g {
        if v < thr {
            lo += v as u64;
            nlo += 1;
        } else {
            hi += v as u64;
            nhi += 1;
        }
    }
    if nlo == 0 || nhi == 0 || (nhi as f32) < min_fraction * (w * h) as f32 {
        return None;
    }
    if (hi / nhi) as i32 - (lo / nlo) as i32 <= 20 {
        return None;
    }
    let thr = thr as f64;
    let gv = |x: usize, y: usize| g[y * w + x] as f64;
    let to_full = |v: f64| (v + 0.5) * f as f64 - 0.5;
    // first crossing into paper along a scan line, requiring 3 paper
    // samples. The level is the line's own: halfway between the desk where
    // the line starts and the paper it reaches (light falls off across a
    // photo, so one page-wide threshold cuts a dim corner of the sheet off)
    let crossing = |vals: &dyn Fn(usize) -> f64, n: usize| -> Option<f64> {
        if vals(0) >= thr {
            return None;
        }
        let reach = n * 45 / 100;
        let mut seen: Vec<f64> = (0..reach + 2).map(vals).collect();
        let desk = {
            let mut d = [seen[0], seen[1], seen[2]];
            d.sort_by(f64::total_cmp);
            d[1]
        };
        let k = seen.len() * 9 / 10;
        let paper = *seen.select_nth_unstable_by(k, f64::total_cmp).1;
        if paper - desk <= 20.0 {
            return None;
        }
        let thr = thr.min((desk + paper) / 2.0);
        let first =
            (1..reach).find(|&i| vals(i) >= thr && vals(i + 1) >= thr && vals(i + 2) >= thr)?;
        // a shaded margin of the sheet can stay under that level well past
        // the edge: the edge is the steepest rise up to the crossing
        let edge = (1..=first)
            .max_by(|&i, &j| {
                let step = |k: usize| vals(k + 1) - vals(k - 1);
                step(i).total_cmp(&step(j)).then(j.cmp(&i))
            })
            .unwrap_or(first);
        if edge + 3 >= first {
            let (a, b) = (vals(first - 1), vals(first));
            return Some(first as f64 - 1.0 + (thr - a) / (b - a).max(1e-6));
        }
        let (lo, hi) = (edge - 1, edge + 1);
        let level = (vals(edge.saturating_sub(2)) + vals(edge + 2)) / 2.0;
        let at = (lo..hi)
            .find(|&k| vals(k) < level && vals(k + 1) >= level)
            .map(|k| k as f64 + (level - vals(k)) / (vals(k + 1) - vals(k)).max(1e-6))
            .unwrap_or(edge as f64);
        Some(at)
    };
    let mut top = Vec::new();
    let mut bottom = Vec::new();
    for x in 0..w {
        if let Some(c) = crossing(&|i| gv(x, i), h) {
            top.push((to_full(x as f64), to_full(c)));
        }
        if let Some(c) = crossing(&|i| gv(x, h - 1 - i), h) {
            bottom.push((to_full(x as f64), to_full((h - 1) as f64 - c)));
        }
    }
    let mut left = Vec::new();
    let mut right = Vec::new();
    for y in 0..h {
        if let Some(c) = crossing(&|i| gv(i, y), w) {
            left.push((to_full(y as f64), to_full(c)));
        }
        if let Some(c) = crossing(&|i| gv(w - 1 - i, y), w) {
            right.push((to_full(y as f64), to_full((w - 1) as f64 - c)));
        }
    }
    if top.len() < w / 3 || bottom.len() < w / 3 || left.len() < h / 3 || right.len() < h / 3 {
        return None;
    }
    let floor = 1.5 * f as f64;
    let fit = |p: &[(f64, f64)]| Poly::fit_robust(p, 3, floor);
    let mut sheet = Sheet {
        top: fit(&top)?,
        bottom: fit(&bottom)?,
        left: fit(&left)?,
        right: fit(&right)?,
        corners: [(0.0, 0.0); 4],
    };
    // refit each edge between its corners (scan lines past a corner meet
    // the neighbouring edge)
    for _ in 0..2 {
        sheet.corners = sheet.find_corners();
        let [tl, tr, br, bl] = sheet.corners;
        let inside = |p: &[(f64, f64)], a: f64, b: f64| -> Vec<(f64, f64)> {
            let m = 0.02 * (b - a).abs() + 2.0 * f as f64;
            p.iter()
                .copied()
                .filter(|q| q.0 > a.min(b) + m && q.0 < a.max(b) - m)
                .collect()
        };
        sheet.top = fit(&inside(&top, tl.0, tr.0))?;
        sheet.bottom = fit(&inside(&bottom, bl.0, br.0))?;
        sheet.left = fit(&inside(&left, tl.1, bl.1))?;
        sheet.right = fit(&inside(&right, tr.1, br.1))?;
    }
    sheet.corners = sheet.find_corners();
    let [tl, tr, br, bl] = sheet.corners;
    // a sheet's edge is where nearly every scan line between its corners
    // meets paper; crossings scattered over a stained or dark scan are no
    // edge
    let agree = |edge: &Poly, p: &[(f64, f64)], a: f64, b: f64| -> bool {
        let span: Vec<&(f64, f64)> = p
            .iter()
            .filter(|q| q.0 > a.min(b) && q.0 < a.max(b))
            .collect();
        let near = span
            .iter()
            .filter(|q| (edge.at(q.0) - q.1).abs() < 3.0 * f as f64)
            .count();
        span.len() >= 8 && near as f64 >= MIN_EDGE_AGREEMENT * span.len() as f64
    };
    if !(agree(&sheet.top, &top, tl.0, tr.0)
        && agree(&sheet.bottom, &bottom, bl.0, br.0)
        && agree(&sheet.left, &left, tl.1, bl.1)
        && agree(&sheet.right, &right, tr.1, br.1))
    {
        return None;
    }
    let area = 0.5
        * ((tl.0 * tr.1 - tr.0 * tl.1)
            + (tr.0 * br.1 - br.0 * tr.1)
            + (br.0 * bl.1 - bl.0 * br.1)
            + (bl.0 * tl.1 - tl.0 * bl.1))
            .abs();
    if area < (min_fraction as f64) * (w0 * h0) as f64
        || !sheet
            .corners
            .iter()
            .all(|c| c.0.is_finite() && c.1.is_finite())
    {
        return None;
    }
    Some(sheet)
}

/// Otsu's threshold of a grey sample.
fn otsu(g: &[u8]) -> u8 {
    let mut hist = [0u64; 256];
    for &v in g {
        hist[v as usize] += 1;
    }
    let total = g.len() as f64;
    let sum: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut wb, mut sb, mut best, mut thr) = (0.0f64, 0.0f64, -1.0f64, 128u8);
    for (t, &c) in hist.iter().enumerate() {
        wb += c as f64;
        if wb == 0.0 {
            continue;
        }
        let wf = total - wb;
        if wf == 0.0 {
            break;
        }
        sb += t as f64 * c as f64;
        let (mb, mf) = (sb / wb, (sum - sb) / wf);
        let between = wb * wf * (mb - mf) * (mb - mf);
        if between > best {
            best = between;
            thr = (t + 1).min(255) as u8;
        }
    }
    thr
}

/// Unit-square-to-quad homography (Heckbert): (0,0), (1,0), (1,1), (0,1) go
/// to the four points in order. Row-major 3x3.
pub fn square_to_quad(q: &[(f64, f64); 4]) -> [[f64; 3]; 3] {
    let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = *q;
    let (sx, sy) = (x0 - x1 + x2 - x3, y0 - y1 + y2 - y3);
    let (g, h) = if sx.abs() < 1e-12 && sy.abs() < 1e-12 {
        (0.0, 0.0)
    } else {
        let (dx1, dx2, dy1, dy2) = (x1 - x2, x3 - x2, y1 - y2, y3 - y2);
        let den = dx1 * dy2 - dx2 * dy1;
        ((sx * dy2 - dx2 * sy) / den, (dx1 * sy - sx * dy1) / den)
    };
    [
        [x1 - x0 + g * x1, x3 - x0 + h * x3, x0],
        [y1 - y0 + g * y1, y3 - y0 + h * y3, y0],
        [g, h, 1.0],
    ]
}

pub(crate) fn apply_h(m: &[[f64; 3]; 3], s: f64, t: f64) -> (f64, f64) {
    let d = m[2][0] * s + m[2][1] * t + m[2][2];
    (
        (m[0][0] * s + m[0][1] * t + m[0][2]) / d,
        (m[1][0] * s + m[1][1] * t + m[1][2]) / d,
    )
}

impl Sheet {
    fn find_corners(&self) -> [(f64, f64); 4] {
        // fixed point of x = side(edge(x)): edges are nearly perpendicular
        let meet = |horiz: &Poly, vert: &Poly| -> (f64, f64) {
            let mut x = vert.at(horiz.at(vert.centre));
            for _ in 0..30 {
                x = vert.at(horiz.at(x));
            }
            (x, horiz.at(x))
        };
        [
            meet(&self.top, &self.left),
            meet(&self.top, &self.right),
            meet(&self.bottom, &self.right),
            meet(&self.bottom, &self.left),
        ]
    }

    /// Largest distance of an edge from its chord, pixels.
    pub(crate) fn bow(&self) -> f64 {
        let [tl, tr, br, bl] = self.corners;
        let dev = |p: &Poly, a: (f64, f64), b: (f64, f64), horiz: bool| -> f64 {
            (1..20)
                .map(|k| {
                    let s = k as f64 / 20.0;
                    let (u, v) = if horiz {
                        (a.0 + s * (b.0 - a.0), a.1 + s * (b.1 - a.1))
                    } else {
                        (a.1 + s * (b.1 - a.1), a.0 + s * (b.0 - a.0))
                    };
                    (p.at(u) - v).abs()
                })
                .fold(0.0, f64::max)
        };
        dev(&self.top, tl, tr, true)
            .max(dev(&self.bottom, bl, br, true))
            .max(dev(&self.left, tl, bl, false))
            .max(dev(&self.right, tr, br, false))
    }

    /// Straight edges forming a parallelogram: nothing for a dewarp to do.
    pub fn is_flat(&self, tol: f32) -> bool {
        let [a, b, c, d] = self.corners;
        let gap = ((a.0 - b.0 + c.0 - d.0).powi(2) + (a.1 - b.1 + c.1 - d.1).powi(2)).sqrt();
        gap < 2.0 * tol as f64 && self.bow() < tol as f64
    }

    /// Maps the rectified frame (s, t in 0..1) into the input: the corners'
    /// homography plus the edges' departures from it, blended as a Coons patch.
    pub fn map(&self, hm: &[[f64; 3]; 3], s: f64, t: f64) -> (f64, f64) {
        let (x, y) = apply_h(hm, s, t);
        let (tx, ty) = apply_h(hm, s, 0.0);
        let (bx, by) = apply_h(hm, s, 1.0);
        let (lx, ly) = apply_h(hm, 0.0, t);
        let (rx, ry) = apply_h(hm, 1.0, t);
        let dt = self.top.at(tx) - ty;
        let db = self.bottom.at(bx) - by;
        let dl = self.left.at(ly) - lx;
        let dr = self.right.at(ry) - rx;
        (x + (1.0 - s) * dl + s * dr, y + (1.0 - t) * dt + t * db)
    }

    /// Size of the rectified page: the longer of each pair of opposite edges.
    pub fn output_size(&self) -> (usize, usize) {
        let [tl, tr, br, bl] = self.corners;
        let d = |a: (f64, f64), b: (f64, f64)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
        let w = d(tl, tr).max(d(bl, br)).round().max(2.0) as usize;
        let h = d(tl, bl).max(d(tr, br)).round().max(2.0) as usize;
        (w, h)
    }

    /// Resamples the sheet into its rectified frame (bilinear). Returns the
    /// image and the homography from its pixels to the input's.
    pub fn rectify(&self, rgb: &RgbImage) -> (RgbImage, [[f64; 3]; 3]) {
        self.rectify_with(rgb, 1, None)
    }

    /// [`Sheet::rectify`] at `1/shrink` of the size, and with output pixels
    /// first moved by `lattice` (the grid's residual warp), so that the photo
    /// is resampled once whatever the corrections.
    pub fn rectify_with(
        &self,
        rgb: &RgbImage,
        shrink: usize,
        lattice: Option<&LatticeWarp>,
    ) -> (RgbImage, [[f64; 3]; 3]) {
        let (img, m, _) = self.rectify_meshed(rgb, shrink, lattice);
        (img, m)
    }

    /// [`Sheet::rectify_with`], also returning the mesh the photo was
    /// resampled through (output pixel to input pixel): the exact map, curl
    /// and lattice included, of which the homography is the projective part.
    pub fn rectify_meshed(
        &self,
        rgb: &RgbImage,
        shrink: usize,
        lattice: Option<&LatticeWarp>,
    ) -> (RgbImage, [[f64; 3]; 3], WarpMesh) {
        let hm = square_to_quad(&self.corners);
        let (fw, fh) = self.output_size();
        let shrink = shrink.max(1);
        let (ow, oh) = ((fw / shrink).max(2), (fh / shrink).max(2));
        // leave out a thin rim where the sheet's edge blends with the desk
        let (ex, ey) = (2.0 / fw as f64, 2.0 / fh as f64);
        let (ks, kt) = (
            (1.0 - 2.0 * ex) / (fw - 1) as f64,
            (1.0 - 2.0 * ey) / (fh - 1) as f64,
        );
        let sf = shrink as f64;
        const STEP: usize = 8;
        let (nx, ny) = ((ow - 1) / STEP + 2, (oh - 1) / STEP + 2);
        let mut mesh = vec![(0f32, 0f32); nx * ny];
        for j in 0..ny {
            for i in 0..nx {
                let (mut x, mut y) = ((i * STEP) as f64 * sf, (j * STEP) as f64 * sf);
                if let Some(l) = lattice {
                    (x, y) = l.apply(x, y);
                }
                let (u, v) = self.map(&hm, ex + x * ks, ey + y * kt);
                mesh[j * nx + i] = (u as f32, v as f32);
            }
        }
        let (w0, h0) = (rgb.width() as usize, rgb.height() as usize);
        let src = rgb.as_raw();
        let mut out = vec![255u8; ow * oh * 3];
        let mut rx = vec![0f32; nx];
        let mut ry = vec![0f32; nx];
        for y in 0..oh {
            let j = y / STEP;
            let fy = (y % STEP) as f32 / STEP as f32;
            for i in 0..nx {
                let (a, b) = (mesh[j * nx + i], mesh[(j + 1) * nx + i]);
                rx[i] = a.0 + (b.0 - a.0) * fy;
                ry[i] = a.1 + (b.1 - a.1) * fy;
            }
            let orow = &mut out[y * ow * 3..(y + 1) * ow * 3];
            for (x, o) in orow.chunks_exact_mut(3).enumerate() {
                let i = x / STEP;
                let fx = (x % STEP) as f32 / STEP as f32;
                let sx = rx[i] + (rx[i + 1] - rx[i]) * fx;
                let sy = ry[i] + (ry[i + 1] - ry[i]) * fx;
                let sx = sx.clamp(0.0, (w0 - 1) as f32 - 1e-3);
                let sy = sy.clamp(0.0, (h0 - 1) as f32 - 1e-3);
                let (x0, y0) = (sx as usize, sy as usize);
                let (ax, ay) = (sx - x0 as f32, sy - y0 as f32);
                let x1 = (x0 + 1).min(w0 - 1);
                let y1 = (y0 + 1).min(h0 - 1);
                let (i00, i10) = ((y0 * w0 + x0) * 3, (y0 * w0 + x1) * 3);
                let (i01, i11) = ((y1 * w0 + x0) * 3, (y1 * w0 + x1) * 3);
                for k in 0..3 {
                    let top = src[i00 + k] as f32 * (1.0 - ax) + src[i10 + k] as f32 * ax;
                    let bot = src[i01 + k] as f32 * (1.0 - ax) + src[i11 + k] as f32 * ax;
                    o[k] = (top + (bot - top) * ay + 0.5) as u8;
                }
            }
        }
        let img = RgbImage::from_raw(ow as u32, oh as u32, out)
            .unwrap_or_else(|| RgbImage::new(ow as u32, oh as u32));
        // output pixel -> unit square -> input
        let sc = [[ks * sf, 0.0, ex], [0.0, kt * sf, ey], [0.0, 0.0, 1.0]];
        let mut m = [[0.0; 3]; 3];
        for (r, row) in m.iter_mut().enumerate() {
            for (c, cell) in row.iter_mut().enumerate() {
                *cell = (0..3).map(|k| hm[r][k] * sc[k][c]).sum();
            }
        }
        let nodes = mesh.iter().map(|&(u, v)| [u, v]).collect();
        let mesh = WarpMesh::new(STEP as u32, nx, ny, nodes)
            .expect("the mesh has nx * ny nodes, at least 2x2");
        (img, m, mesh)
    }
}
