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
}

impl Preset {
    pub fn from_name(s: &str) -> Option<Preset> {
        match s.trim().to_ascii_lowercase().as_str() {
            "clean" => Some(Preset::Clean),
            "distorted" => Some(Preset::Distorted),
            "bw" => Some(Preset::Bw),
            "variety" => Some(Preset::Variety),
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
}
