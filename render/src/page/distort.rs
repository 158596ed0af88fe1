//! Scan and photo distortions, each optional and deterministic per seed.
//!
//! Input: a rendered page (RGB image and lead mask) and [`Distortions`].
//! Output: the distorted image and mask, and the page-to-image
//! [`Homography`] that the caller applies to every ground-truth coordinate,
//! so that truth and pixels move together.
//!
//! Order, as on a real page: paper effects first (creases, wrinkles, a
//! black-and-white print), then geometry (rotation about the page centre,
//! positive = clockwise on screen, and perspective corner jitter; the page is
//! scaled down so that it stays inside the frame, and the area around it is
//! `background`), then camera and file effects (uneven lighting and shadows,
//! colour tint, Gaussian blur, Gaussian noise, JPEG round trip).

use image::{GrayImage, Luma, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How a black-and-white print looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BwMode {
    /// Greyscale print: grid in grey, traces black.
    Grey,
    /// Bilevel print: every pixel black or white (threshold at mid-grey).
    Threshold,
}

/// Distortions of a rendered page. `None` / `0` = off.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Distortions {
    /// Rotation about the page centre, degrees, positive = clockwise on screen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_degrees: Option<f32>,
    /// Perspective: each corner moves inwards by up to this fraction of the shorter side.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub perspective: Option<f32>,
    /// Gaussian blur sigma, pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blur_sigma_px: Option<f32>,
    /// Gaussian noise sigma, grey levels (0..255).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise_sigma: Option<f32>,
    /// JPEG quality of an encode / decode round trip (1..100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jpeg_quality: Option<u8>,
    /// Uneven lighting and soft shadows, strength 0..1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadows: Option<f32>,
    /// Number of straight paper creases (folds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creases: Option<u32>,
    /// Crumpled-paper shading, strength 0..1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wrinkles: Option<f32>,
    /// Black-and-white print.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bw: Option<BwMode>,
    /// Per-channel multiplier (colour temperature of the light), e.g. `[1.0, 0.75, 0.4]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tint: Option<[f32; 3]>,
    /// Colour around the page after a geometric distortion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background: Option<[u8; 3]>,
}

impl Distortions {
    /// True if any geometric distortion is on.
    pub fn is_geometric(&self) -> bool {
        self.rotation_degrees.is_some_and(|r| r != 0.0) || self.perspective.is_some_and(|p| p > 0.0)
    }
}

/// A projective map `[x', y', w'] = m [x, y, 1]` from page to image pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Homography {
    pub m: [[f64; 3]; 3],
}

impl Homography {
    pub fn identity() -> Self {
        Self {
            m: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        }
    }

    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let m = &self.m;
        let w = m[2][0] * x + m[2][1] * y + m[2][2];
        let w = if w.abs() < 1e-12 { 1e-12 } else { w };
        (
            (m[0][0] * x + m[0][1] * y + m[0][2]) / w,
            (m[1][0] * x + m[1][1] * y + m[1][2]) / w,
        )
    }

    pub fn then(&self, outer: &Homography) -> Homography {
        let mut m = [[0.0; 3]; 3];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, cell) in row.iter_mut().enumerate() {
                *cell = (0..3).map(|k| outer.m[i][k] * self.m[k][j]).sum();
            }
        }
        Homography { m }
    }

    pub fn inverse(&self) -> Option<Homography> {
        let a = &self.m;
        let det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
            - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
        if det.abs() < 1e-15 {
            return None;
        }
        let c = |i: usize, j: usize| {
            let (r0, r1) = ((i + 1) % 3, (i + 2) % 3);
            let (c0, c1) = ((j + 1) % 3, (j + 2) % 3);
            a[r0][c0] * a[r1][c1] - a[r0][c1] * a[r1][c0]
        };
        let mut m = [[0.0; 3]; 3];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, cell) in row.iter_mut().enumerate() {
                *cell = c(j, i) / det;
            }
        }
        Some(Homography { m })
    }

    /// The homography taking four points `src` to `dst`.
    pub fn from_points(src: [(f64, f64); 4], dst: [(f64, f64); 4]) -> Option<Homography> {
        let mut a = [[0.0f64; 9]; 8];
        for k in 0..4 {
            let ((x, y), (u, v)) = (src[k], dst[k]);
            a[2 * k] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
            a[2 * k + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
        }
        for col in 0..8 {
            let piv = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
            if a[piv][col].abs() < 1e-12 {
                return None;
            }
            a.swap(col, piv);
            for r in 0..8 {
                if r != col {
                    let f = a[r][col] / a[col][col];
                    let pivot_row = a[col];
                    for (dst, src) in a[r].iter_mut().zip(pivot_row).skip(col) {
                        *dst -= f * src;
                    }
                }
            }
        }
        let h: Vec<f64> = (0..8).map(|i| a[i][8] / a[i][i]).collect();
        Some(Homography {
            m: [[h[0], h[1], h[2]], [h[3], h[4], h[5]], [h[6], h[7], 1.0]],
        })
    }
}

/// A generator for one effect: the same seed and effect always give the same stream.
pub fn effect_rng(seed: u64, effect: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(effect);
    r
}

/// The page-to-image homography for the geometric distortions (identity if none).
pub fn geometry(d: &Distortions, width: u32, height: u32, seed: u64) -> Homography {
    let (w, h) = (width as f64, height as f64);
    // Page corners in pixel-centre coordinates.
    let corners = [
        (-0.5, -0.5),
        (w - 0.5, -0.5),
        (w - 0.5, h - 0.5),
        (-0.5, h - 0.5),
    ];
    let (cx, cy) = ((w - 1.0) / 2.0, (h - 1.0) / 2.0);
    let theta = (d.rotation_degrees.unwrap_or(0.0) as f64).to_radians();
    let (s, c) = theta.sin_cos();
    // Scale so that the rotated page fits in the frame.
    let bw = w * c.abs() + h * s.abs();
    let bh = w * s.abs() + h * c.abs();
    let k = (w / bw).min(h / bh).min(1.0);
    let rot = Homography {
        m: [
            [k * c, -k * s, cx - k * (c * cx - s * cy)],
            [k * s, k * c, cy - k * (s * cx + c * cy)],
            [0.0, 0.0, 1.0],
        ],
    };
    let p = d.perspective.unwrap_or(0.0).clamp(0.0, 0.3) as f64;
    if p <= 0.0 {
        return rot;
    }
    let mut rng = effect_rng(seed, 1);
    let j = p * w.min(h);
    let mut dst = corners;
    for (i, pt) in dst.iter_mut().enumerate() {
        let sx = if i == 0 || i == 3 { 1.0 } else { -1.0 };
        let sy = if i < 2 { 1.0 } else { -1.0 };
        pt.0 += sx * rng.random_range(0.0..=j);
        pt.1 += sy * rng.random_range(0.0..=j);
    }
    match Homography::from_points(corners, dst) {
        Some(persp) => persp.then(&rot),
        None => rot,
    }
}

/// Warps an RGB page through `h` (bilinear), filling outside with `bg`.
pub fn warp_rgb(src: &RgbImage, h: &Homography, bg: [u8; 3]) -> RgbImage {
    let (w, hh) = (src.width() as usize, src.height() as usize);
    let inv = h.inverse().unwrap_or(Homography::identity());
    let mut out = RgbImage::new(w as u32, hh as u32);
    let data = src.as_raw();
    out.par_chunks_mut(w * 3).enumerate().for_each(|(y, row)| {
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let (sx, sy) = inv.apply(x as f64, y as f64);
            if !(sx > -0.5 && sy > -0.5 && sx < w as f64 - 0.5 && sy < hh as f64 - 0.5) {
                px.copy_from_slice(&bg);
                continue;
            }
            let x0 = sx.floor().clamp(0.0, (w - 1) as f64) as usize;
            let y0 = sy.floor().clamp(0.0, (hh - 1) as f64) as usize;
            let x1 = (x0 + 1).min(w - 1);
            let y1 = (y0 + 1).min(hh - 1);
            let fx = (sx - x0 as f64).clamp(0.0, 1.0) as f32;
            let fy = (sy - y0 as f64).clamp(0.0, 1.0) as f32;
            for ch in 0..3 {
                let g = |xx: usize, yy: usize| data[(yy * w + xx) * 3 + ch] as f32;
                let top = g(x0, y0) * (1.0 - fx) + g(x1, y0) * fx;
                let bot = g(x0, y1) * (1.0 - fx) + g(x1, y1) * fx;
                px[ch] = (top * (1.0 - fy) + bot * fy).round() as u8;
            }
        }
    });
    out
}

/// Warps a label image through `h` (nearest neighbour), 0 outside.
pub fn warp_mask(src: &GrayImage, h: &Homography) -> GrayImage {
    let (w, hh) = (src.width() as usize, src.height() as usize);
    let inv = h.inverse().unwrap_or(Homography::identity());
    let mut out = GrayImage::new(w as u32, hh as u32);
    let data = src.as_raw();
    out.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        for (x, px) in row.iter_mut().enumerate() {
            let (sx, sy) = inv.apply(x as f64, y as f64);
            let (xi, yi) = (sx.round(), sy.round());
            if xi >= 0.0 && yi >= 0.0 && xi < w as f64 && yi < hh as f64 {
                *px = data[yi as usize * w + xi as usize];
            }
        }
    });
    out
}

/// A smooth field sampled on a coarse grid and bilinearly interpolated:
/// multiplies every pixel by `field(x, y)`.
fn multiply_smooth(img: &mut RgbImage, step: usize, field: impl Fn(f64, f64) -> f32 + Sync) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let gw = w / step + 2;
    let gh = h / step + 2;
    let grid: Vec<f32> = (0..gw * gh)
        .map(|i| field(((i % gw) * step) as f64, ((i / gw) * step) as f64))
        .collect();
    img.par_chunks_mut(w * 3).enumerate().for_each(|(y, row)| {
        let gy = y / step;
        let fy = (y % step) as f32 / step as f32;
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let gx = x / step;
            let fx = (x % step) as f32 / step as f32;
            let g = |a: usize, b: usize| grid[b * gw + a];
            let top = g(gx, gy) * (1.0 - fx) + g(gx + 1, gy) * fx;
            let bot = g(gx, gy + 1) * (1.0 - fx) + g(gx + 1, gy + 1) * fx;
            let f = top * (1.0 - fy) + bot * fy;
            for c in px.iter_mut() {
                *c = (*c as f32 * f).round().clamp(0.0, 255.0) as u8;
            }
        }
    });
}

/// Crumpled paper: a smooth random shading field of the given strength.
pub fn wrinkles(img: &mut RgbImage, strength: f32, seed: u64) {
    let mut rng = effect_rng(seed, 2);
    let (w, h) = (img.width() as f64, img.height() as f64);
    let waves: Vec<(f64, f64, f64, f64)> = (0..14)
        .map(|_| {
            let ang: f64 = rng.random_range(0.0..std::f64::consts::PI);
            let cycles: f64 = rng.random_range(1.5..9.0);
            let k = std::f64::consts::TAU * cycles / w.max(h);
            (
                k * ang.cos(),
                k * ang.sin(),
                rng.random_range(0.0..std::f64::consts::TAU),
                1.0 / cycles.sqrt(),
            )
        })
        .collect();
    let norm: f64 = waves.iter().map(|w| w.3).sum::<f64>().max(1e-9);
    let s = strength.clamp(0.0, 1.0) as f64 * 0.35;
    multiply_smooth(img, 4, |x, y| {
        let v: f64 = waves
            .iter()
            .map(|(kx, ky, ph, a)| a * (kx * x + ky * y + ph).sin())
            .sum();
        // Ridges: |sin| gives sharper folds than a smooth sine.
        (1.0 - s * (v / norm).abs()) as f32
    });
}

/// Straight creases: a dark fold line with a bright edge beside it.
pub fn creases(img: &mut RgbImage, n: u32, seed: u64) {
    let mut rng = effect_rng(seed, 3);
    let (w, h) = (img.width() as f64, img.height() as f64);
    let scale = w.max(h) / 2200.0;
    let lines: Vec<(f64, f64, f64, f64)> = (0..n)
        .map(|_| {
            // Mostly horizontal or vertical folds, tilted a little.
            let base = if rng.random_bool(0.5) {
                0.0
            } else {
                std::f64::consts::FRAC_PI_2
            };
            let ang = base + rng.random_range(-0.35..0.35);
            let (px, py) = (
                rng.random_range(0.1..0.9) * w,
                rng.random_range(0.1..0.9) * h,
            );
            (
                ang.sin(),
                -ang.cos(),
                -(ang.sin() * px - ang.cos() * py),
                rng.random_range(0.08..0.2),
            )
        })
        .collect();
    let width = (2.5 * scale).max(1.0);
    let wi = img.width() as usize;
    img.par_chunks_mut(wi * 3).enumerate().for_each(|(y, row)| {
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let mut f = 1.0f64;
            for (nx, ny, c, depth) in &lines {
                let d = nx * x as f64 + ny * y as f64 + c;
                if d.abs() > 8.0 * width {
                    continue;
                }
                let dark = depth * (-(d / width).powi(2)).exp();
                let bright = 0.6 * depth * (-((d - 2.5 * width) / (1.5 * width)).powi(2)).exp();
                f *= 1.0 - dark + bright;
            }
            if f != 1.0 {
                for c in px.iter_mut() {
                    *c = (*c as f64 * f).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    });
}

/// A black-and-white print of a colour page.
pub fn bw_print(img: &mut RgbImage, mode: BwMode) {
    img.par_chunks_mut(3).for_each(|px| {
        let l = 0.299 * px[0] as f32 + 0.587 * px[1] as f32 + 0.114 * px[2] as f32;
        let v = match mode {
            BwMode::Grey => l.round() as u8,
            BwMode::Threshold => {
                if l < 160.0 {
                    0
                } else {
                    255
                }
            }
        };
        px.fill(v);
    });
}

/// Uneven lighting (a linear gradient) and a few soft shadows.
pub fn shadows(img: &mut RgbImage, strength: f32, seed: u64) {
    let mut rng = effect_rng(seed, 4);
    let (w, h) = (img.width() as f64, img.height() as f64);
    let s = strength.clamp(0.0, 1.0) as f64;
    let ang: f64 = rng.random_range(0.0..std::f64::consts::TAU);
    let (gx, gy) = (ang.cos(), ang.sin());
    let grad = 0.35 * s;
    let blobs: Vec<(f64, f64, f64, f64, f64, f64)> = (0..rng.random_range(1..4))
        .map(|_| {
            (
                rng.random_range(0.0..w),
                rng.random_range(0.0..h),
                rng.random_range(0.15..0.5) * w,
                rng.random_range(0.1..0.4) * h,
                rng.random_range(0.0..std::f64::consts::PI),
                rng.random_range(0.25..0.6) * s,
            )
        })
        .collect();
    let diag = (w * w + h * h).sqrt();
    multiply_smooth(img, 8, |x, y| {
        let t = ((x - w / 2.0) * gx + (y - h / 2.0) * gy) / diag + 0.5;
        let mut f = 1.0 - grad * t.clamp(0.0, 1.0);
        for (bx, by, rx, ry, a, depth) in &blobs {
            let (dx, dy) = (x - bx, y - by);
            let (u, v) = (dx * a.cos() + dy * a.sin(), -dx * a.sin() + dy * a.cos());
            let r = (u / rx).powi(2) + (v / ry).powi(2);
            // Soft-edged shadow: 1 inside, falling off over ~20 % of its size.
            let inside = 1.0 / (1.0 + ((r.sqrt() - 1.0) / 0.12).exp());
            f *= 1.0 - depth * inside;
        }
        f.max(0.05) as f32
    });
}

/// Multiplies each channel.
pub fn tint(img: &mut RgbImage, t: [f32; 3]) {
    img.par_chunks_mut(3).for_each(|px| {
        for (c, m) in px.iter_mut().zip(t) {
            *c = (*c as f32 * m).round().clamp(0.0, 255.0) as u8;
        }
    });
}

/// Gaussian blur.
pub fn blur(img: &RgbImage, sigma: f32) -> RgbImage {
    if sigma <= 0.0 {
        return img.clone();
    }
    imageproc::filter::gaussian_blur_f32(img, sigma)
}

/// Additive Gaussian noise, per pixel and channel.
pub fn noise(img: &mut RgbImage, sigma: f32, seed: u64) {
    if sigma <= 0.0 {
        return;
    }
    let w = img.width() as usize;
    let Ok(normal) = Normal::new(0.0f32, sigma) else {
        return;
    };
    img.par_chunks_mut(w * 3).enumerate().for_each(|(y, row)| {
        let mut rng = effect_rng(seed ^ (y as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15), 5);
        for c in row.iter_mut() {
            let v = *c as f32 + normal.sample(&mut rng);
            *c = v.round().clamp(0.0, 255.0) as u8;
        }
    });
}

/// JPEG encode / decode round trip; returns the decoded image and the bytes.
pub fn jpeg_round_trip(img: &RgbImage, quality: u8) -> Result<(RgbImage, Vec<u8>), String> {
    let mut buf = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality.clamp(1, 100));
    img.write_with_encoder(enc).map_err(|e| e.to_string())?;
    let dec = image::load_from_memory_with_format(&buf, image::ImageFormat::Jpeg)
        .map_err(|e| e.to_string())?
        .to_rgb8();
    Ok((dec, buf))
}

/// Keeps only labels present in a mask (for tests and tools).
pub fn labels_present(mask: &GrayImage) -> Vec<u8> {
    let mut seen = [false; 256];
    for Luma([v]) in mask.pixels() {
        seen[*v as usize] = true;
    }
    (1..=255u8).filter(|v| seen[*v as usize]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homography_from_points_maps_corners_and_inverts() {
        let src = [(0.0, 0.0), (100.0, 0.0), (100.0, 50.0), (0.0, 50.0)];
        let dst = [(3.0, 4.0), (96.0, 1.0), (99.0, 47.0), (2.0, 45.0)];
        let h = Homography::from_points(src, dst).unwrap();
        for (s, d) in src.iter().zip(dst) {
            let p = h.apply(s.0, s.1);
            assert!((p.0 - d.0).abs() < 1e-9 && (p.1 - d.1).abs() < 1e-9);
        }
        let inv = h.inverse().unwrap();
        let q = inv.apply(h.apply(37.0, 21.0).0, h.apply(37.0, 21.0).1);
        assert!((q.0 - 37.0).abs() < 1e-9 && (q.1 - 21.0).abs() < 1e-9);
    }

    #[test]
    fn rotation_is_clockwise_and_keeps_the_page_in_frame() {
        let d = Distortions {
            rotation_degrees: Some(10.0),
            ..Distortions::default()
        };
        let h = geometry(&d, 200, 100, 0);
        // A point right of the centre moves down (clockwise on screen).
        let (_, y) = h.apply(149.5, 49.5);
        assert!(y > 49.5);
        for (x, y) in [(-0.5, -0.5), (199.5, -0.5), (199.5, 99.5), (-0.5, 99.5)] {
            let (u, v) = h.apply(x, y);
            assert!(
                (-0.6..=199.6).contains(&u) && (-0.6..=99.6).contains(&v),
                "{u},{v}"
            );
        }
    }

    #[test]
    fn effects_are_deterministic_per_seed() {
        let base = RgbImage::from_pixel(64, 48, image::Rgb([200, 180, 160]));
        let run = |seed| {
            let mut a = base.clone();
            wrinkles(&mut a, 0.8, seed);
            creases(&mut a, 3, seed);
            shadows(&mut a, 0.8, seed);
            noise(&mut a, 8.0, seed);
            a
        };
        assert_eq!(run(4), run(4));
        assert_ne!(run(4), run(5));
        assert_ne!(run(4), base);
    }
}
