//! Small image utilities shared by the classical stages: channel extraction,
//! box filters, bilinear rotation, 1-D signal helpers.
//!
//! Everything works on plain `Vec`s of `u8`/`f32` with an explicit width, so
//! that the hot loops stay simple and allocation-aware.

use image::{GrayImage, RgbImage};

/// Per-pixel maximum of the three channels (the HSV "value"). Coloured grid
/// lines stay bright in it while the dark trace stays dark.
pub fn max_channel(rgb: &RgbImage) -> GrayImage {
    let (w, h) = rgb.dimensions();
    let mut out = Vec::with_capacity((w * h) as usize);
    out.extend(
        rgb.as_raw()
            .chunks_exact(3)
            .map(|p| p[0].max(p[1]).max(p[2])),
    );
    GrayImage::from_raw(w, h, out).unwrap_or_else(|| GrayImage::new(w, h))
}

/// Per-pixel minimum of the three channels: coloured grid lines are dark in it.
pub fn min_channel(rgb: &RgbImage) -> GrayImage {
    let (w, h) = rgb.dimensions();
    let mut out = Vec::with_capacity((w * h) as usize);
    out.extend(
        rgb.as_raw()
            .chunks_exact(3)
            .map(|p| p[0].min(p[1]).min(p[2])),
    );
    GrayImage::from_raw(w, h, out).unwrap_or_else(|| GrayImage::new(w, h))
}

/// Luma (ITU-R 601 weights, integer arithmetic).
pub fn luma(rgb: &RgbImage) -> GrayImage {
    let (w, h) = rgb.dimensions();
    let mut out = Vec::with_capacity((w * h) as usize);
    out.extend(
        rgb.as_raw()
            .chunks_exact(3)
            .map(|p| ((p[0] as u32 * 77 + p[1] as u32 * 150 + p[2] as u32 * 29) >> 8) as u8),
    );
    GrayImage::from_raw(w, h, out).unwrap_or_else(|| GrayImage::new(w, h))
}

/// Mean over a `(2r+1) x (2r+1)` window (clamped at the borders), as `u8`.
/// Two running-sum passes: O(pixels) whatever the radius.
pub fn box_mean(src: &[u8], w: usize, h: usize, r: usize) -> Vec<u8> {
    let mut out = vec![0u8; w * h];
    if w == 0 || h == 0 {
        return out;
    }
    // horizontal running sums (raw)
    let mut tmp = vec![0u32; w * h];
    let inv_w: Vec<f32> = (0..w)
        .map(|x| 1.0 / ((x + r).min(w - 1) - x.saturating_sub(r) + 1) as f32)
        .collect();
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        let trow = &mut tmp[y * w..(y + 1) * w];
        let mut acc: u32 = 0;
        for &v in &row[..=r.min(w - 1)] {
            acc += v as u32;
        }
        for x in 0..w {
            trow[x] = acc;
            if x + r + 1 < w {
                acc += row[x + r + 1] as u32;
            }
            if x >= r {
                acc -= row[x - r] as u32;
            }
        }
    }
    // vertical running sums, normalised on output
    let mut acc = vec![0u32; w];
    for y in 0..=r.min(h - 1) {
        for (a, &t) in acc.iter_mut().zip(&tmp[y * w..(y + 1) * w]) {
            *a += t;
        }
    }
    for y in 0..h {
        let n = ((y + r).min(h - 1) - y.saturating_sub(r) + 1) as f32;
        let inv_h = 1.0 / n;
        let orow = &mut out[y * w..(y + 1) * w];
        for ((o, &a), &iw) in orow.iter_mut().zip(acc.iter()).zip(&inv_w) {
            *o = (a as f32 * iw * inv_h + 0.5).min(255.0) as u8;
        }
        if y + r + 1 < h {
            let add = &tmp[(y + r + 1) * w..(y + r + 2) * w];
            for (a, &t) in acc.iter_mut().zip(add) {
                *a += t;
            }
        }
        if y >= r {
            let sub = &tmp[(y - r) * w..(y - r + 1) * w];
            for (a, &t) in acc.iter_mut().zip(sub) {
                *a -= t;
            }
        }
    }
    out
}

/// Area-average downscale by an integer factor.
pub fn downscale(src: &[u8], w: usize, h: usize, f: usize) -> (Vec<u8>, usize, usize) {
    let f = f.max(1);
    if f == 1 {
        return (src.to_vec(), w, h);
    }
    let (dw, dh) = (w / f, h / f);
    let mut acc = vec![0u32; dw];
    let mut out = vec![0u8; dw * dh];
    let n = (f * f) as u32;
    for dy in 0..dh {
        acc.iter_mut().for_each(|a| *a = 0);
        for y in dy * f..dy * f + f {
            let row = &src[y * w..y * w + dw * f];
            for (a, chunk) in acc.iter_mut().zip(row.chunks_exact(f)) {
                *a += chunk.iter().map(|&v| v as u32).sum::<u32>();
            }
        }
        for (o, &a) in out[dy * dw..(dy + 1) * dw].iter_mut().zip(&acc) {
            *o = (a / n) as u8;
        }
    }
    (out, dw, dh)
}

/// Rotates an RGB image by `angle_degrees` (positive = the content turns
/// counter-clockwise on screen, i.e. a line going down to the right by that
/// angle becomes horizontal) with bilinear interpolation onto a canvas large
/// enough for the whole page. Returns the image and the 3x3 map from output
/// pixels to input pixels.
pub fn rotate_rgb(rgb: &RgbImage, angle_degrees: f64, fill: [u8; 3]) -> (RgbImage, [[f64; 3]; 3]) {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let a = angle_degrees.to_radians();
    let (s, c) = a.sin_cos();
    let nw = (w as f64 * c.abs() + h as f64 * s.abs()).ceil() as usize;
    let nh = (w as f64 * s.abs() + h as f64 * c.abs()).ceil() as usize;
    let (cx, cy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
    let (ncx, ncy) = ((nw as f64 - 1.0) / 2.0, (nh as f64 - 1.0) / 2.0);
    // in = c + R (out - nc), R = [[c, -s], [s, c]]
    let m = [
        [c, -s, cx - c * ncx + s * ncy],
        [s, c, cy - s * ncx - c * ncy],
        [0.0, 0.0, 1.0],
    ];
    let src = rgb.as_raw();
    let mut out = vec![0u8; nw * nh * 3];
    const FP: i64 = 1 << 16;
    let (m00, m01, m02) = (m[0][0], m[0][1], m[0][2]);
    let (m10, m11, m12) = (m[1][0], m[1][1], m[1][2]);
    for oy in 0..nh {
        let fy = oy as f64;
        // fixed-point walk along the row
        let mut xi = ((m01 * fy + m02) * FP as f64) as i64;
        let mut yi = ((m11 * fy + m12) * FP as f64) as i64;
        let dx = (m00 * FP as f64) as i64;
        let dy = (m10 * FP as f64) as i64;
        let orow = &mut out[oy * nw * 3..(oy + 1) * nw * 3];
        for o in orow.chunks_exact_mut(3) {
            let x0 = xi >> 16;
            let y0 = yi >> 16;
            if x0 >= 0 && y0 >= 0 && (x0 as usize) + 1 < w && (y0 as usize) + 1 < h {
                let ax = (xi & (FP - 1)) as u32 >> 8; // 0..255
                let ay = (yi & (FP - 1)) as u32 >> 8;
                let i00 = (y0 as usize * w + x0 as usize) * 3;
                let i10 = i00 + 3;
                let i01 = i00 + w * 3;
                let i11 = i01 + 3;
                for k in 0..3 {
                    let top = src[i00 + k] as u32 * (256 - ax) + src[i10 + k] as u32 * ax;
                    let bot = src[i01 + k] as u32 * (256 - ax) + src[i11 + k] as u32 * ax;
                    o[k] = ((top * (256 - ay) + bot * ay + (1 << 15)) >> 16) as u8;
                }
            } else {
                o.copy_from_slice(&fill);
            }
            xi += dx;
            yi += dy;
        }
    }
    let img = RgbImage::from_raw(nw as u32, nh as u32, out)
        .unwrap_or_else(|| RgbImage::new(nw as u32, nh as u32));
    (img, m)
}

/// Rotates by a multiple of 90 degrees clockwise (`quarter_turns` in 0..4).
/// Returns the image and the map from output pixels to input pixels.
pub fn rotate_quarter(rgb: &RgbImage, quarter_turns: u32) -> (RgbImage, [[f64; 3]; 3]) {
    let (w, h) = (rgb.width() as f64, rgb.height() as f64);
    match quarter_turns % 4 {
        1 => (
            image::imageops::rotate90(rgb),
            // out (x, y) <- in (y, h-1-x)
            [[0.0, 1.0, 0.0], [-1.0, 0.0, h - 1.0], [0.0, 0.0, 1.0]],
        ),
        2 => (
            image::imageops::rotate180(rgb),
            [[-1.0, 0.0, w - 1.0], [0.0, -1.0, h - 1.0], [0.0, 0.0, 1.0]],
        ),
        3 => (
            image::imageops::rotate270(rgb),
            // out (x, y) <- in (w-1-y, x)
            [[0.0, -1.0, w - 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]],
        ),
        _ => (
            rgb.clone(),
            [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        ),
    }
}

/// Median of a slice (sorts a copy); NaN for an empty slice.
pub fn median(v: &[f32]) -> f32 {
    let mut s: Vec<f32> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return f32::NAN;
    }
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// A straight line `v = v0 + slope * (u - u0)` through the centroid
/// `(u0, v0)` of the points it was fitted to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Line {
    pub u0: f32,
    pub v0: f32,
    pub slope: f32,
}

impl Line {
    /// The line's `v` at `u`.
    pub fn at(&self, u: f32) -> f32 {
        self.v0 + self.slope * (u - self.u0)
    }
}

/// The least-squares line through points `(u, v)` (flat when every `u` is
/// the same); `None` without points.
pub fn fit_line(pts: &[(f32, f32)]) -> Option<Line> {
    if pts.is_empty() {
        return None;
    }
    let n = pts.len() as f32;
    let u0 = pts.iter().map(|p| p.0).sum::<f32>() / n;
    let v0 = pts.iter().map(|p| p.1).sum::<f32>() / n;
    let suu: f32 = pts.iter().map(|p| (p.0 - u0) * (p.0 - u0)).sum();
    let suv: f32 = pts.iter().map(|p| (p.0 - u0) * (p.1 - v0)).sum();
    let slope = if suu > 0.0 { suv / suu } else { 0.0 };
    Some(Line { u0, v0, slope })
}

/// Moving average with a window of `2r+1` (clamped at the ends).
pub fn smooth(v: &[f32], r: usize) -> Vec<f32> {
    let n = v.len();
    let mut pre = Vec::with_capacity(n + 1);
    pre.push(0.0f64);
    for &x in v {
        let last = *pre.last().unwrap_or(&0.0);
        pre.push(last + x as f64);
    }
    (0..n)
        .map(|i| {
            let lo = i.saturating_sub(r);
            let hi = (i + r + 1).min(n);
            ((pre[hi] - pre[lo]) / (hi - lo) as f64) as f32
        })
        .collect()
}

/// Sub-sample position of a peak at index `i` by parabolic interpolation.
pub fn parabolic_peak(v: &[f32], i: usize) -> f32 {
    if i == 0 || i + 1 >= v.len() {
        return i as f32;
    }
    let (a, b, c) = (v[i - 1], v[i], v[i + 1]);
    let d = a - 2.0 * b + c;
    if d.abs() < 1e-12 {
        return i as f32;
    }
    let off = 0.5 * (a - c) / d;
    i as f32 + off.clamp(-0.5, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_mean_of_constant_is_constant_and_spreads_a_dot() {
        let (w, h) = (9, 7);
        let mut src = vec![100u8; w * h];
        let out = box_mean(&src, w, h, 2);
        assert!(out.iter().all(|&v| v == 100));
        src.iter_mut().for_each(|v| *v = 0);
        src[3 * w + 4] = 250;
        let out = box_mean(&src, w, h, 1);
        assert_eq!(out[3 * w + 4], 28); // 250 / 9 rounded
        assert_eq!(out[3 * w + 6], 0);
    }

    #[test]
    fn a_line_is_fitted_through_its_points() {
        let pts = [(10.0, 3.0), (20.0, 5.0), (30.0, 7.0)];
        let line = fit_line(&pts).expect("points");
        assert!((line.slope - 0.2).abs() < 1e-6 && (line.at(0.0) - 1.0).abs() < 1e-5);
        let flat = fit_line(&[(5.0, 1.0), (5.0, 3.0)]).expect("points");
        assert_eq!((flat.slope, flat.at(100.0)), (0.0, 2.0));
        assert_eq!(fit_line(&[]), None);
    }

    #[test]
    fn rotation_maps_centre_and_line() {
        let mut img = RgbImage::from_pixel(101, 61, image::Rgb([255, 255, 255]));
        img.put_pixel(50, 30, image::Rgb([0, 0, 0]));
        let (out, m) = rotate_rgb(&img, 0.0, [255, 255, 255]);
        assert_eq!(out.dimensions(), (101, 61));
        assert_eq!(out.get_pixel(50, 30)[0], 0);
        assert!((m[0][2]).abs() < 1e-9);
        let (out, m) = rotate_rgb(&img, 10.0, [255, 255, 255]);
        // the output centre maps to the input centre
        let (nx, ny) = (
            (out.width() as f64 - 1.0) / 2.0,
            (out.height() as f64 - 1.0) / 2.0,
        );
        let ix = m[0][0] * nx + m[0][1] * ny + m[0][2];
        let iy = m[1][0] * nx + m[1][1] * ny + m[1][2];
        assert!((ix - 50.0).abs() < 1e-9 && (iy - 30.0).abs() < 1e-9);
    }

    #[test]
    fn parabolic_peak_is_subpixel() {
        let v = [0.0, 1.0, 3.0, 2.0, 0.0];
        let p = parabolic_peak(&v, 2);
        assert!(p > 2.0 && p < 2.5);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(smooth(&[0.0, 3.0, 0.0], 1), vec![1.5, 1.0, 1.5]);
    }
}
