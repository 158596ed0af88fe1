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
//! colour tint, Gaussian blur, Gaussian noise, JPEG round trip). A phone
//! photo ([`super::photo`]) takes the place of the geometry step.

use image::{GrayImage, Luma, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
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
    /// A phone photo of the sheet on a desk (see [`super::photo`]); it
    /// replaces `rotation_degrees`, `perspective` and `background`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo: Option<super::photo::Photo>,
}

impl Distortions {
    /// True if any geometric distortion of the flat page (rotation,
    /// perspective) is on; a photo is not counted here.
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

/// Source coordinates of row `y` under the inverse map, computed
/// incrementally (numerators and denominator are affine in x).
fn row_sources(inv: &Homography, y: usize, w: usize, out: &mut Vec<(f32, f32)>) {
    let m = &inv.m;
    let yf = y as f64;
    let (mut nx, mut ny, mut d) = (
        m[0][1] * yf + m[0][2],
        m[1][1] * yf + m[1][2],
        m[2][1] * yf + m[2][2],
    );
    out.clear();
    for _ in 0..w {
        let dd = if d.abs() < 1e-12 { 1e-12 } else { d };
        out.push(((nx / dd) as f32, (ny / dd) as f32));
        nx += m[0][0];
        ny += m[1][0];
        d += m[2][0];
    }
}

/// Warps an RGB page through `h` (bilinear), filling outside with `bg`.
pub fn warp_rgb(src: &RgbImage, h: &Homography, bg: [u8; 3]) -> RgbImage {
    let (w, hh) = (src.width() as usize, src.height() as usize);
    let inv = h.inverse().unwrap_or(Homography::identity());
    let mut out = RgbImage::new(w as u32, hh as u32);
    let data = src.as_raw();
    let (wf, hf) = (w as f32 - 0.5, hh as f32 - 0.5);
    out.par_chunks_mut(w * 3)
        .enumerate()
        .for_each_init(Vec::new, |xy, (y, row)| {
            row_sources(&inv, y, w, xy);
            for (px, &(sx, sy)) in row.chunks_exact_mut(3).zip(xy.iter()) {
                if !(sx > -0.5 && sy > -0.5 && sx < wf && sy < hf) {
                    px.copy_from_slice(&bg);
                    continue;
                }
                let (fx0, fy0) = (sx.floor(), sy.floor());
                let x0 = (fx0.max(0.0) as usize).min(w - 1);
                let y0 = (fy0.max(0.0) as usize).min(hh - 1);
                let x1 = (x0 + 1).min(w - 1);
                let y1 = (y0 + 1).min(hh - 1);
                // 8-bit fixed-point weights.
                let fx = ((sx - fx0).clamp(0.0, 1.0) * 256.0) as u32;
                let fy = ((sy - fy0).clamp(0.0, 1.0) * 256.0) as u32;
                let (a, b) = ((y0 * w + x0) * 3, (y0 * w + x1) * 3);
                let (c, d) = ((y1 * w + x0) * 3, (y1 * w + x1) * 3);
                for ch in 0..3 {
                    let top = data[a + ch] as u32 * (256 - fx) + data[b + ch] as u32 * fx;
                    let bot = data[c + ch] as u32 * (256 - fx) + data[d + ch] as u32 * fx;
                    px[ch] = ((top * (256 - fy) + bot * fy + 32768) >> 16) as u8;
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
    out.par_chunks_mut(w)
        .enumerate()
        .for_each_init(Vec::new, |xy, (y, row)| {
            row_sources(&inv, y, w, xy);
            for (px, &(sx, sy)) in row.iter_mut().zip(xy.iter()) {
                let (xi, yi) = (sx.round(), sy.round());
                if xi >= 0.0 && yi >= 0.0 && xi < w as f32 && yi < hh as f32 {
                    *px = data[yi as usize * w + xi as usize];
                }
            }
        });
    out
}

/// A smooth field sampled on a coarse grid and bilinearly interpolated:
/// multiplies every pixel by `field(x, y)`.
pub(crate) fn multiply_smooth(
    img: &mut RgbImage,
    step: usize,
    field: impl Fn(f64, f64) -> f32 + Sync,
) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let gw = w / step + 2;
    let gh = h / step + 2;
    let grid: Vec<f32> = (0..gw * gh)
        .into_par_iter()
        .map(|i| field(((i % gw) * step) as f64, ((i / gw) * step) as f64))
        .collect();
    img.par_chunks_mut(w * 3).enumerate().for_each_init(
        || vec![0u32; w],
        |line, (y, row)| {
            let gy = y / step;
            let fy = (y % step) as f32 / step as f32;
            // Vertical interpolation once per grid column, then horizontal per pixel.
            let col = |gx: usize| grid[gy * gw + gx] * (1.0 - fy) + grid[(gy + 1) * gw + gx] * fy;
            for (gx, chunk) in line.chunks_mut(step).enumerate() {
                let (a, b) = (col(gx), col(gx + 1));
                for (k, v) in chunk.iter_mut().enumerate() {
                    let t = k as f32 / step as f32;
                    // 16.16 fixed point factor.
                    *v = ((a + (b - a) * t).clamp(0.0, 4.0) * 65536.0) as u32;
                }
            }
            for (px, f) in row.chunks_exact_mut(3).zip(line.iter()) {
                for c in px.iter_mut() {
                    *c = ((*c as u32 * f + 32768) >> 16).min(255) as u8;
                }
            }
        },
    );
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
    multiply_smooth(img, 8, |x, y| {
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

/// Gaussian blur (separable, radius ceil(3 sigma), clamped edges).
pub fn blur(img: &RgbImage, sigma: f32) -> RgbImage {
    if sigma <= 0.0 {
        return img.clone();
    }
    let r = (3.0 * sigma).ceil().max(1.0) as usize;
    let mut k: Vec<f32> = (0..=2 * r)
        .map(|i| {
            let d = i as f32 - r as f32;
            (-0.5 * d * d / (sigma * sigma)).exp()
        })
        .collect();
    let sum: f32 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= sum);
    let (w, h) = (img.width() as usize, img.height() as usize);
    let src = img.as_raw();
    // Horizontal pass into f32, over an edge-padded copy of each row.
    let mut tmp = vec![0f32; w * h * 3];
    tmp.par_chunks_mut(w * 3).enumerate().for_each_init(
        || vec![0f32; (w + 2 * r) * 3],
        |pad, (y, out)| {
            let row = &src[y * w * 3..(y + 1) * w * 3];
            for (x, p) in pad.chunks_exact_mut(3).enumerate() {
                let xx = x.saturating_sub(r).min(w - 1) * 3;
                p[0] = row[xx] as f32;
                p[1] = row[xx + 1] as f32;
                p[2] = row[xx + 2] as f32;
            }
            out.fill(0.0);
            for (i, kv) in k.iter().enumerate() {
                for (o, s) in out.iter_mut().zip(&pad[i * 3..i * 3 + w * 3]) {
                    *o += kv * s;
                }
            }
        },
    );
    // Vertical pass, row by row (contiguous, vectorisable).
    let mut out = RgbImage::new(w as u32, h as u32);
    out.par_chunks_mut(w * 3).enumerate().for_each_init(
        || vec![0f32; w * 3],
        |acc, (y, dst)| {
            acc.fill(0.0);
            for (i, kv) in k.iter().enumerate() {
                let yy = (y + i).saturating_sub(r).min(h - 1);
                let srow = &tmp[yy * w * 3..(yy + 1) * w * 3];
                for (a, s) in acc.iter_mut().zip(srow) {
                    *a += kv * s;
                }
            }
            for (d, a) in dst.iter_mut().zip(acc.iter()) {
                *d = a.round().clamp(0.0, 255.0) as u8;
            }
        },
    );
    out
}

/// SplitMix64: a tiny, fast, well-mixed generator for per-pixel noise.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Additive Gaussian noise, per pixel and channel (Irwin-Hall approximation:
/// the sum of four 16-bit uniforms, scaled to unit variance).
pub fn noise(img: &mut RgbImage, sigma: f32, seed: u64) {
    if sigma.is_nan() || sigma <= 0.0 {
        return;
    }
    let w = img.width() as usize;
    // Sum of 4 U(0,1) has mean 2 and variance 1/3.
    let scale = sigma * 3f32.sqrt() / 65536.0;
    img.par_chunks_mut(w * 3).enumerate().for_each(|(y, row)| {
        let mut st = seed ^ (y as u64 + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93);
        for c in row.iter_mut() {
            let u = splitmix(&mut st);
            let s = (u & 0xFFFF) + ((u >> 16) & 0xFFFF) + ((u >> 32) & 0xFFFF) + (u >> 48);
            let n = (s as f32 - 2.0 * 65536.0) * scale;
            *c = (*c as f32 + n).round().clamp(0.0, 255.0) as u8;
        }
    });
}

/// JPEG encode / decode round trip; returns the decoded image and the bytes.
pub fn jpeg_round_trip(img: &RgbImage, quality: u8) -> Result<(RgbImage, Vec<u8>), String> {
    let (w, h) = img.dimensions();
    if w > u16::MAX as u32 || h > u16::MAX as u32 {
        return Err(format!("{w}x{h} is too large for JPEG"));
    }
    let mut buf = Vec::new();
    let enc = jpeg_encoder::Encoder::new(&mut buf, quality.clamp(1, 100));
    enc.encode(
        img.as_raw(),
        w as u16,
        h as u16,
        jpeg_encoder::ColorType::Rgb,
    )
    .map_err(|e| e.to_string())?;
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
    fn noise_has_the_requested_sigma_and_blur_keeps_flat_areas() {
        let mut a = RgbImage::from_pixel(200, 100, image::Rgb([128, 128, 128]));
        noise(&mut a, 10.0, 1);
        let n = a.as_raw().len() as f64;
        let mean = a.as_raw().iter().map(|v| *v as f64).sum::<f64>() / n;
        let var = a
            .as_raw()
            .iter()
            .map(|v| (*v as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        assert!((mean - 128.0).abs() < 0.3, "mean {mean}");
        assert!((var.sqrt() - 10.0).abs() < 0.3, "sd {}", var.sqrt());
        let flat = RgbImage::from_pixel(30, 20, image::Rgb([10, 200, 90]));
        assert_eq!(blur(&flat, 1.5), flat);
        let mut dot = RgbImage::new(21, 21);
        dot.put_pixel(10, 10, image::Rgb([255, 255, 255]));
        let b = blur(&dot, 1.0);
        assert!(b.get_pixel(10, 10).0[0] < 255 && b.get_pixel(11, 10).0[0] > 0);
        assert_eq!(b.get_pixel(11, 10), b.get_pixel(9, 10));
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
