//! Settings presets that roughly match the ecg-image-kit dev sets, drawn at
//! random per page from a seed.
//!
//! Input: a [`Preset`], the record name (for the printed header), a seed and
//! the largest rotation. Output: a [`PageSpec`] and [`Distortions`].
//! - `clean`: 200 dpi, red grid, no distortion.
//! - `distorted`: 200 dpi, printed header, random grid colour, wrinkles and
//!   0..9 creases, rotation up to ±5°, noise, slight blur, colour tint, JPEG q90.
//! - `bw`: 100 dpi greyscale print, wrinkles, creases, shadows, rotation up
//!   to ±10°, noise, strong tint, JPEG q90.
//! - `variety`: every printout convention (layouts, rhythm strips, Cabrera,
//!   pulse placement, gains, speeds, uneven printer scales, label fonts,
//!   grids, clutter); see [`crate::variety`].
//! - `photo`: a clean-like page (160..220 dpi, mostly red or pink grid, light
//!   wrinkles on some) photographed on a desk by a hand-held phone:
//!   perspective, cylindrical or wavy curl, mild lens distortion, uneven
//!   light with a shadow band on half the pages, colour tint, slight defocus,
//!   sensor noise, JPEG q78..92; see [`crate::page::photo`]. The largest
//!   rotation bounds the in-plane rotation (default ±6°).

use crate::page::distort::{BwMode, Distortions};
use crate::page::{GridColor, PageSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A named family of page settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    Clean,
    Distorted,
    Bw,
    Variety,
    Photo,
}

impl Preset {
    pub fn from_name(s: &str) -> Option<Preset> {
        match s.trim().to_ascii_lowercase().as_str() {
            "clean" => Some(Preset::Clean),
            "distorted" => Some(Preset::Distorted),
            "bw" => Some(Preset::Bw),
            "variety" => Some(Preset::Variety),
            "photo" => Some(Preset::Photo),
            _ => None,
        }
    }
}

/// A colour-temperature-like tint: warm (orange) or cool (blue).
fn random_tint(rng: &mut ChaCha8Rng, strength: f32) -> [f32; 3] {
    let t: f32 = rng.random_range(-1.0..1.0) * strength;
    if t < 0.0 {
        let a = -t;
        [1.0, 1.0 - 0.3 * a, 1.0 - 0.65 * a]
    } else {
        [1.0 - 0.4 * t, 1.0 - 0.25 * t, 1.0]
    }
}

/// Draws the settings of one page. `max_rotation_degrees` overrides the
/// preset's largest rotation.
pub fn draw(
    preset: Preset,
    record_name: &str,
    seed: u64,
    max_rotation_degrees: Option<f32>,
) -> (PageSpec, Distortions) {
    if preset == Preset::Variety {
        let (spec, mut d) = crate::variety::draw(record_name, seed);
        if let (Some(r), Some(max)) = (d.rotation_degrees, max_rotation_degrees) {
            d.rotation_degrees = Some(r.clamp(-max.abs(), max.abs()));
        }
        return (spec, d);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x00C0_FFEE);
    let mut spec = PageSpec::default();
    let mut d = Distortions::default();
    match preset {
        Preset::Clean => {}
        Preset::Distorted => {
            spec.grid_color = GridColor::ALL[rng.random_range(0..GridColor::ALL.len())];
            let sex = if rng.random_bool(0.5) {
                "Male"
            } else {
                "Female"
            };
            spec.header = Some(format!(
                "ID: {record_name}    Name:    Date:\nSex: {sex}    Age: {} yrs",
                rng.random_range(20..90)
            ));
            d.wrinkles = Some(rng.random_range(0.2..0.8));
            d.creases = Some(rng.random_range(0..10));
            let r = max_rotation_degrees.unwrap_or(5.0).abs();
            d.rotation_degrees = Some(rng.random_range(-r..=r));
            d.noise_sigma = Some(rng.random_range(3.0..15.0));
            d.blur_sigma_px = Some(rng.random_range(0.0..0.8));
            d.tint = Some(random_tint(&mut rng, 0.6));
            d.jpeg_quality = Some(90);
        }
        Preset::Bw => {
            spec.dpi = 100.0;
            spec.trace_width_mm = 0.4;
            d.bw = Some(BwMode::Grey);
            d.wrinkles = Some(rng.random_range(0.3..0.9));
            d.creases = Some(rng.random_range(0..6));
            d.shadows = Some(rng.random_range(0.3..0.9));
            let r = max_rotation_degrees.unwrap_or(10.0).abs();
            d.rotation_degrees = Some(rng.random_range(-r..=r));
            d.noise_sigma = Some(rng.random_range(3.0..12.0));
            d.tint = Some(random_tint(&mut rng, 1.0));
            d.jpeg_quality = Some(90);
        }
        Preset::Variety => {}
        Preset::Photo => {
            const GRIDS: [GridColor; 8] = [
                GridColor::Red,
                GridColor::Red,
                GridColor::Red,
                GridColor::Pink,
                GridColor::Pink,
                GridColor::Green,
                GridColor::Blue,
                GridColor::Grey,
            ];
            spec.grid_color = GRIDS[rng.random_range(0..GRIDS.len())];
            spec.dpi = rng.random_range(160..=220) as f32;
            if rng.random_bool(0.3) {
                d.wrinkles = Some(rng.random_range(0.1..0.35));
            }
            let (w, h) = spec.size_px();
            let aspect = w as f64 / h.max(1) as f64;
            let r = max_rotation_degrees.unwrap_or(6.0) as f64;
            d.photo = Some(crate::page::photo::draw(&mut rng, aspect, r));
            d.tint = Some(random_tint(&mut rng, 0.35));
            d.blur_sigma_px = Some(rng.random_range(0.3..1.1));
            d.noise_sigma = Some(rng.random_range(2.0..7.0));
            d.jpeg_quality = Some(rng.random_range(78..=92));
        }
    }
    (spec, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_deterministic_and_vary_with_the_seed() {
        let a = draw(Preset::Distorted, "r", 1, None);
        assert_eq!(a, draw(Preset::Distorted, "r", 1, None));
        assert_ne!(a.1, draw(Preset::Distorted, "r", 2, None).1);
        let r = a.1.rotation_degrees.unwrap();
        assert!(r.abs() <= 5.0);
        let (spec, d) = draw(Preset::Bw, "r", 3, Some(2.0));
        assert_eq!(spec.dpi, 100.0);
        assert!(d.rotation_degrees.unwrap().abs() <= 2.0 && d.bw.is_some());
        assert_eq!(draw(Preset::Clean, "r", 9, None).1, Distortions::default());
    }

    #[test]
    fn photo_settings_vary_over_a_seed_range() {
        use crate::page::photo::CurlKind;
        assert_eq!(
            draw(Preset::Photo, "r", 5, None),
            draw(Preset::Photo, "r", 5, None)
        );
        let photos: Vec<_> = (0..40)
            .map(|s| draw(Preset::Photo, "r", s, Some(4.0)))
            .collect();
        let ph: Vec<_> = photos.iter().filter_map(|(_, d)| d.photo.clone()).collect();
        assert_eq!(ph.len(), 40);
        let cyl = ph
            .iter()
            .filter(|p| p.curl.kind == CurlKind::Cylinder)
            .count();
        assert!((8..=32).contains(&cyl), "{cyl} cylinders");
        let bands = ph.iter().filter(|p| p.light.shadow_band.is_some()).count();
        assert!((8..=32).contains(&bands), "{bands} shadow bands");
        assert!(ph.iter().any(|p| p.lens_k1 > 0.005) && ph.iter().any(|p| p.lens_k1 < -0.005));
        assert!(ph.iter().all(|p| p.rotation_degrees.abs() <= 4.0));
        let dpis: std::collections::BTreeSet<u32> =
            photos.iter().map(|(s, _)| s.dpi as u32).collect();
        assert!(dpis.len() > 10, "{dpis:?}");
        // The sheet (the corners' quad, by the shoelace formula) covers
        // about 60 to 90 % of the frame, and its corners stay inside.
        let cover: Vec<f64> = ph
            .iter()
            .map(|p| {
                let c = &p.corners;
                (0..4)
                    .map(|i| {
                        let (a, b) = (c[i], c[(i + 1) % 4]);
                        a[0] * b[1] - b[0] * a[1]
                    })
                    .sum::<f64>()
                    .abs()
                    / 2.0
            })
            .collect();
        let mean = cover.iter().sum::<f64>() / cover.len() as f64;
        assert!((0.6..0.85).contains(&mean), "mean cover {mean}");
        assert!(cover.iter().all(|c| (0.4..0.93).contains(c)), "{cover:?}");
        let lo = cover.iter().cloned().fold(1.0, f64::min);
        let hi = cover.iter().cloned().fold(0.0, f64::max);
        assert!(hi - lo > 0.15, "{lo}..{hi}");
        // The whole sheet, curl and lens included, stays inside the frame.
        for ((spec, _), p) in photos.iter().zip(&ph) {
            let (w, h) = spec.size_px();
            let warp = crate::page::photo::PhotoWarp::new(p, (w, h)).unwrap();
            let (fw, fh) = (warp.frame.0 as f64, warp.frame.1 as f64);
            let (wf, hf) = (w as f64 - 0.5, h as f64 - 0.5);
            for i in 0..=20 {
                let t = i as f64 / 20.0;
                for (x, y) in [(t * wf, -0.5), (t * wf, hf), (-0.5, t * hf), (wf, t * hf)] {
                    let (u, v) = warp.forward(x, y);
                    assert!(
                        u > 2.0 && v > 2.0 && u < fw - 3.0 && v < fh - 3.0,
                        "{u},{v}"
                    );
                }
            }
        }
    }
}
