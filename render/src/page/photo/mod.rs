//! Phone photos of a printed page: the sheet on a desk, in perspective,
//! curled, through a slightly distorting lens, unevenly lit.
//!
//! Input: the flat rendered page (RGB image and lead mask) and a [`Photo`],
//! the drawn camera settings. Every setting is relative (frame size as a
//! multiple of the page size, corners as fractions of the frame, curl as a
//! fraction of the page), so the same settings fit any dpi. Output: the
//! frame (RGB and lead mask, nearest-neighbour) and the [`PhotoWarp`] that
//! maps page points into it; the caller passes every ground-truth coordinate
//! through [`PhotoWarp::forward`], so `plotted_pixels` stay exact. The sheet
//! covers roughly 60 to 90 % of the frame and stays wholly inside it.
//!
//! The geometry is in [`warp`]; the desk and the light in [`scene`]. Order:
//! the page is sampled through the inverse map, bilinearly, with an
//! anti-aliased sheet edge and a soft contact shadow on the desk (the map is
//! evaluated exactly every 4 pixels along a row and linearly between, far
//! below 0.01 px off); then the light field multiplies the frame. Colour tint, defocus blur, sensor noise
//! and JPEG are the ordinary [`Distortions`](super::distort::Distortions)
//! fields, applied afterwards by the caller.
//!
//! [`draw`] picks the settings from a random generator.

pub mod scene;
pub mod warp;

use image::{GrayImage, RgbImage};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
pub use warp::PhotoWarp;

/// Kinds of paper curl.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurlKind {
    /// Bent about one axis, like a page that was rolled.
    #[default]
    Cylinder,
    /// Waves across the sheet.
    Wave,
}

/// Paper curl; see [`warp`] for the model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Curl {
    pub kind: CurlKind,
    /// Lift towards the camera as a fraction of the camera distance (the
    /// apparent magnification, about 0.01; negative bends the other way).
    pub lift: f64,
    /// Direction across the cylinder's axis, or of the wave, degrees.
    pub angle_degrees: f64,
    /// Wave length, fraction of the page width (wave only).
    pub wavelength: f64,
    /// Wave phase, radians (wave only).
    pub phase: f64,
    /// Stretch along the wave, fraction of the page width (wave only).
    pub stretch: f64,
}

/// A soft-edged shadow band across the frame.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShadowBand {
    /// Direction across the band, degrees.
    pub angle_degrees: f64,
    /// Band centre from the frame centre, fraction of the frame diagonal.
    pub offset: f64,
    /// Width and edge softness, fractions of the frame diagonal.
    pub width: f64,
    pub softness: f64,
    /// Darkening in the band, 0..1.
    pub depth: f64,
}

/// The light over the frame.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Light {
    /// Overall exposure factor (1 = paper white).
    pub exposure: f64,
    /// Darkening across the frame along `gradient_angle_degrees`, 0..1.
    pub gradient: f64,
    pub gradient_angle_degrees: f64,
    /// Darkening towards the frame corners, 0..1.
    pub vignette: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow_band: Option<ShadowBand>,
}

/// The desk under the sheet.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Desk {
    pub color: [u8; 3],
    /// Grain contrast, 0..1.
    pub grain: f32,
    pub grain_angle_degrees: f64,
    /// Grain period, fraction of the frame width.
    pub grain_period: f64,
}

impl Default for Desk {
    fn default() -> Self {
        Self {
            color: [118, 84, 56],
            grain: 0.12,
            grain_angle_degrees: 10.0,
            grain_period: 0.01,
        }
    }
}

/// One photo's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Photo {
    /// Frame size, multiples of the page's width and height.
    pub frame: [f64; 2],
    /// Where the page's corners (top-left, top-right, bottom-right,
    /// bottom-left) land before curl and lens, fractions of the frame's
    /// width and height.
    pub corners: [[f64; 2]; 4],
    /// The in-plane rotation drawn before the corners were jittered, degrees
    /// (for the record; `corners` hold it).
    pub rotation_degrees: f64,
    pub curl: Curl,
    /// Radial lens distortion; see [`warp`].
    pub lens_k1: f64,
    pub light: Light,
    pub desk: Desk,
}

impl Default for Photo {
    fn default() -> Self {
        Self {
            frame: [1.15, 1.2],
            corners: [[0.07, 0.08], [0.93, 0.06], [0.92, 0.93], [0.08, 0.92]],
            rotation_degrees: 0.0,
            curl: Curl::default(),
            lens_k1: 0.0,
            light: Light {
                exposure: 0.92,
                gradient: 0.15,
                gradient_angle_degrees: 30.0,
                vignette: 0.1,
                shadow_band: None,
            },
            desk: Desk::default(),
        }
    }
}

/// Desk colours: woods, laminates, felt, a light grey table.
const DESKS: [[u8; 3]; 8] = [
    [118, 84, 56],
    [82, 56, 40],
    [160, 125, 90],
    [58, 60, 64],
    [96, 100, 106],
    [70, 82, 98],
    [52, 78, 60],
    [172, 168, 160],
];

/// Draws one photo's settings for a page of aspect `page_aspect` (width /
/// height); the in-plane rotation is at most `max_rotation_degrees`.
pub fn draw(rng: &mut ChaCha8Rng, page_aspect: f64, max_rotation_degrees: f64) -> Photo {
    let zoom: f64 = rng.random_range(0.85..1.05);
    let cover: f64 = rng.random_range(0.6..0.9);
    let j: f64 = rng.random_range(0.94..1.06);
    let frame = [zoom * j / cover.sqrt(), zoom / (j * cover.sqrt())];
    // Work in frame pixels with the page height as the unit.
    let (pw, ph) = (zoom * page_aspect, zoom);
    let (fw, fh) = (frame[0] * page_aspect, frame[1]);
    let r = max_rotation_degrees.abs();
    let rot: f64 = if r > 0.0 {
        rng.random_range(-r..=r)
    } else {
        0.0
    };
    let (s, c) = rot.to_radians().sin_cos();
    let jitter: f64 = rng.random_range(0.02..0.08);
    let mut pts = [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)].map(|(u, v)| {
        let (x, y) = (u * pw, v * ph);
        (x * c - y * s, x * s + y * c)
    });
    for p in &mut pts {
        p.0 += rng.random_range(-jitter..=jitter) * pw;
        p.1 += rng.random_range(-jitter..=jitter) * ph;
    }
    // Fit inside the frame, leaving a margin for the curl and the lens.
    let margin = 0.04;
    let (x0, x1) = pts
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
    let (y0, y1) = pts
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    let (aw, ah) = (fw * (1.0 - 2.0 * margin), fh * (1.0 - 2.0 * margin));
    let k = (aw / (x1 - x0)).min(ah / (y1 - y0)).min(1.0);
    let (mx, my) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let (sx, sy) = ((aw - k * (x1 - x0)) / 2.0, (ah - k * (y1 - y0)) / 2.0);
    let ox = if sx > 1e-9 {
        rng.random_range(-sx..=sx)
    } else {
        0.0
    };
    let oy = if sy > 1e-9 {
        rng.random_range(-sy..=sy)
    } else {
        0.0
    };
    let corners = pts.map(|(x, y)| {
        [
            ((x - mx) * k + ox + fw / 2.0) / fw,
            ((y - my) * k + oy + fh / 2.0) / fh,
        ]
    });

    let sign = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
    let curl = if rng.random_bool(0.55) {
        let base = if rng.random_bool(0.5) { 0.0 } else { 90.0 };
        Curl {
            kind: CurlKind::Cylinder,
            lift: sign * rng.random_range(0.01..0.04),
            angle_degrees: base + rng.random_range(-15.0..15.0),
            ..Curl::default()
        }
    } else {
        Curl {
            kind: CurlKind::Wave,
            lift: sign * rng.random_range(0.004..0.015),
            angle_degrees: rng.random_range(0.0..180.0),
            wavelength: rng.random_range(0.5..1.4),
            phase: rng.random_range(0.0..std::f64::consts::TAU),
            stretch: rng.random_range(0.0005..0.002),
        }
    };
    let lens_k1 = rng.random_range(-0.015..0.025);
    let shadow_band = rng.random_bool(0.5).then(|| ShadowBand {
        angle_degrees: rng.random_range(0.0..360.0),
        offset: rng.random_range(-0.3..0.3),
        width: rng.random_range(0.05..0.3),
        softness: rng.random_range(0.01..0.06),
        depth: rng.random_range(0.15..0.4),
    });
    let light = Light {
        exposure: rng.random_range(0.85..1.0),
        gradient: rng.random_range(0.05..0.25),
        gradient_angle_degrees: rng.random_range(0.0..360.0),
        vignette: rng.random_range(0.0..0.2),
        shadow_band,
    };
    let base = DESKS[rng.random_range(0..DESKS.len())];
    let desk = Desk {
        color: base.map(|v| (v as i32 + rng.random_range(-15..=15)).clamp(0, 255) as u8),
        grain: rng.random_range(0.03..0.14),
        grain_angle_degrees: rng.random_range(0.0..180.0),
        grain_period: rng.random_range(0.008..0.04),
    };
    Photo {
        frame,
        corners,
        rotation_degrees: rot,
        curl,
        lens_k1,
        light,
        desk,
    }
}

/// Bilinear sample of `img` at `(x, y)`, clamped to the image.
#[inline]
fn bilinear(img: &RgbImage, x: f64, y: f64) -> [f32; 3] {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let x = x.clamp(0.0, (w - 1) as f64);
    let y = y.clamp(0.0, (h - 1) as f64);
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
    let d = img.as_raw();
    let px = |xx: usize, yy: usize| (yy * w + xx) * 3;
    let (a, b, c, e) = (px(x0, y0), px(x1, y0), px(x0, y1), px(x1, y1));
    std::array::from_fn(|ch| {
        let top = d[a + ch] as f32 * (1.0 - fx) + d[b + ch] as f32 * fx;
        let bot = d[c + ch] as f32 * (1.0 - fx) + d[e + ch] as f32 * fx;
        top * (1.0 - fy) + bot * fy
    })
}

/// Photographs `page` (and warps its `mask` alike). `None` when the settings
/// are degenerate (the corners define no homography) or the page is empty.
pub fn apply(
    page: &RgbImage,
    mask: &GrayImage,
    photo: &Photo,
    seed: u64,
) -> Option<(RgbImage, GrayImage, PhotoWarp)> {
    let (w, h) = page.dimensions();
    if w == 0 || h == 0 || mask.dimensions() != (w, h) {
        return None;
    }
    let warp = PhotoWarp::new(photo, (w, h))?;
    let (fw, fh) = warp.frame;
    let desk = scene::DeskTexture::new(&photo.desk, fw, seed);
    let (wf, hf) = (w as f64, h as f64);
    let mut out = RgbImage::new(fw, fh);
    let mut out_mask = GrayImage::new(fw, fh);
    let mdata = mask.as_raw();
    // The map and the desk's smooth part are evaluated every STEP pixels
    // along a row and interpolated linearly between (both are smooth: the
    // map's error is far below 0.01 px).
    const STEP: usize = 4;
    let knots_n = fw as usize / STEP + 2;
    out.par_chunks_mut(fw as usize * 3)
        .zip(out_mask.par_chunks_mut(fw as usize))
        .enumerate()
        .for_each_init(
            || Vec::with_capacity(knots_n),
            |knots, (y, (row, mrow))| {
                let yf = y as f64;
                knots.clear();
                knots.extend((0..knots_n).map(|i| {
                    let x = (i * STEP) as f64;
                    let (sx, sy) = warp.inverse(x, yf);
                    (sx, sy, desk.smooth(x, yf))
                }));
                for (x, (px, m)) in row.chunks_exact_mut(3).zip(mrow.iter_mut()).enumerate() {
                    let (a, b) = (knots[x / STEP], knots[x / STEP + 1]);
                    let t = (x % STEP) as f64 / STEP as f64;
                    let sx = a.0 + (b.0 - a.0) * t;
                    let sy = a.1 + (b.1 - a.1) * t;
                    // Signed distance into the sheet, page pixels.
                    let d = (sx + 0.5)
                        .min(wf - 0.5 - sx)
                        .min(sy + 0.5)
                        .min(hf - 0.5 - sy);
                    let alpha = (d + 0.5).clamp(0.0, 1.0) as f32;
                    let sheet = if alpha > 0.0 {
                        bilinear(page, sx, sy)
                    } else {
                        [0.0; 3]
                    };
                    let ground = if alpha < 1.0 {
                        // A soft contact shadow along the sheet's edge.
                        let shade = 1.0 - 0.35 * (d.min(0.0) / 6.0).exp() as f32;
                        let smooth = a.2 + (b.2 - a.2) * t as f32;
                        desk.at(x, y, smooth).map(|c| c * shade)
                    } else {
                        [0.0; 3]
                    };
                    for ((o, s), g) in px.iter_mut().zip(sheet).zip(ground) {
                        *o = (alpha * s + (1.0 - alpha) * g).round().clamp(0.0, 255.0) as u8;
                    }
                    let (mx, my) = (sx.round(), sy.round());
                    if mx >= 0.0 && my >= 0.0 && mx < wf && my < hf {
                        *m = mdata[my as usize * w as usize + mx as usize];
                    }
                }
            },
        );
    let light = photo.light;
    crate::page::distort::multiply_smooth(&mut out, 8, |x, y| {
        scene::light_factor(&light, (fw, fh), x, y)
    });
    Some((out, out_mask, warp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A white page with black 9x9 markers centred at `marks`.
    fn marked_page(w: u32, h: u32, marks: &[(u32, u32)]) -> (RgbImage, GrayImage) {
        let mut img = RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
        let mut mask = GrayImage::new(w, h);
        for &(cx, cy) in marks {
            for y in cy - 4..=cy + 4 {
                for x in cx - 4..=cx + 4 {
                    img.put_pixel(x, y, image::Rgb([0, 0, 0]));
                    mask.put_pixel(x, y, image::Luma([7]));
                }
            }
        }
        (img, mask)
    }

    fn flat_light(p: &mut Photo) {
        p.light = Light {
            exposure: 1.0,
            gradient: 0.0,
            gradient_angle_degrees: 0.0,
            vignette: 0.0,
            shadow_band: None,
        };
    }

    fn luma(img: &RgbImage, x: f64, y: f64) -> f32 {
        let p = img.get_pixel(x.round() as u32, y.round() as u32).0;
        (p[0] as f32 + p[1] as f32 + p[2] as f32) / 3.0
    }

    #[test]
    fn the_sheet_corners_land_on_the_drawn_corners() {
        let mut p = Photo {
            corners: [[0.1, 0.15], [0.88, 0.06], [0.95, 0.9], [0.05, 0.8]],
            ..Photo::default()
        };
        flat_light(&mut p);
        p.curl.lift = 0.0;
        let (page, mask) = marked_page(400, 300, &[]);
        let (img, _, warp) = apply(&page, &mask, &p, 1).unwrap();
        let (fw, fh) = (warp.frame.0 as f64, warp.frame.1 as f64);
        let centre = (fw / 2.0, fh / 2.0);
        for c in p.corners {
            let (x, y) = (c[0] * fw - 0.5, c[1] * fh - 0.5);
            // 4 px towards the frame centre is paper; 4 px away is desk.
            let (dx, dy) = (centre.0 - x, centre.1 - y);
            let n = dx.hypot(dy);
            let (ux, uy) = (4.0 * dx / n, 4.0 * dy / n);
            assert!(luma(&img, x + ux, y + uy) > 240.0, "paper at {x},{y}");
            assert!(luma(&img, x - ux, y - uy) < 200.0, "desk at {x},{y}");
        }
    }

    #[test]
    fn markers_land_where_the_forward_map_says() {
        let marks = [(25, 25), (374, 25), (374, 274), (25, 274), (200, 150)];
        let (page, mask) = marked_page(400, 300, &marks);
        let mut p = Photo::default();
        flat_light(&mut p);
        p.curl = Curl {
            kind: CurlKind::Wave,
            lift: 0.012,
            angle_degrees: 30.0,
            wavelength: 0.6,
            phase: 1.0,
            stretch: 0.004,
        };
        p.lens_k1 = 0.02;
        let (img, out_mask, warp) = apply(&page, &mask, &p, 1).unwrap();
        for &(mx, my) in &marks {
            let (ex, ey) = warp.forward(mx as f64, my as f64);
            // Darkness-weighted centroid in a window around the prediction.
            let (mut sx, mut sy, mut sw, mut labelled) = (0.0, 0.0, 0.0, 0);
            for y in (ey as i64 - 10)..=(ey as i64 + 10) {
                for x in (ex as i64 - 10)..=(ex as i64 + 10) {
                    let v = 255.0 - luma(&img, x as f64, y as f64) as f64;
                    let v = if v > 60.0 { v } else { 0.0 };
                    sx += v * x as f64;
                    sy += v * y as f64;
                    sw += v;
                    labelled += (out_mask.get_pixel(x as u32, y as u32).0[0] == 7) as usize;
                }
            }
            let (cx, cy) = (sx / sw, sy / sw);
            assert!(
                (cx - ex).hypot(cy - ey) < 0.5,
                "{mx},{my}: {cx},{cy} vs {ex},{ey}"
            );
            assert!(labelled > 50, "{labelled} mask pixels");
        }
    }

    #[test]
    fn settings_and_pixels_are_deterministic_per_seed() {
        let draw_at = |s: u64| draw(&mut ChaCha8Rng::seed_from_u64(s), 1.3, 5.0);
        assert_eq!(draw_at(3), draw_at(3));
        assert_ne!(draw_at(3), draw_at(4));
        let (page, mask) = marked_page(200, 150, &[(100, 75)]);
        let a = apply(&page, &mask, &draw_at(3), 3).unwrap().0;
        assert_eq!(a, apply(&page, &mask, &draw_at(3), 3).unwrap().0);
        assert_ne!(a, apply(&page, &mask, &draw_at(4), 4).unwrap().0);
    }
}
