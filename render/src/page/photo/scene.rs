//! What surrounds the sheet in a photo and how it is lit: the desk's texture
//! and the light field over the frame.

use super::{Desk, Light};

/// Cheap per-pixel hash in `[-1, 1)`, deterministic per seed.
#[inline]
fn hash(x: i64, y: i64, seed: u64) -> f32 {
    let mut z = seed
        ^ (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z >> 40) as f32 / (1u64 << 23) as f32) - 1.0
}

/// The desk's colour at frame pixel `(x, y)`: the base colour with wood- or
/// fabric-like grain (stripes bent by a slow wave), broad blotches and fine
/// speckle.
pub(super) struct DeskTexture {
    base: [f32; 3],
    grain: f32,
    dir: (f64, f64),
    k: f64,
    bend_k: f64,
    seed: u64,
}

impl DeskTexture {
    pub(super) fn new(d: &Desk, frame_w: u32, seed: u64) -> Self {
        let a = d.grain_angle_degrees.to_radians();
        let period = (d.grain_period * frame_w as f64).max(2.0);
        Self {
            base: d.color.map(|v| v as f32),
            grain: d.grain,
            dir: (a.cos(), a.sin()),
            k: std::f64::consts::TAU / period,
            bend_k: std::f64::consts::TAU / (8.0 * period),
            seed,
        }
    }

    /// The smooth part of the texture at `(x, y)`: a factor around 0.
    #[inline]
    pub(super) fn smooth(&self, x: f64, y: f64) -> f32 {
        let along = x * self.dir.1 - y * self.dir.0;
        let across = x * self.dir.0 + y * self.dir.1;
        let stripes = (self.k * across + 2.5 * (self.bend_k * along).sin()).sin();
        let blotch = (0.21 * self.k * along).sin() * (0.13 * self.k * across + 1.0).sin();
        (0.5 * stripes + 0.4 * blotch) as f32
    }

    /// The colour at pixel `(x, y)` given its [`Self::smooth`] value.
    #[inline]
    pub(super) fn at(&self, x: usize, y: usize, smooth: f32) -> [f32; 3] {
        let speckle = hash(x as i64, y as i64, self.seed);
        let f = 1.0 + self.grain * (smooth + 0.25 * speckle);
        self.base.map(|c| c * f)
    }
}

/// The light over the frame at `(x, y)` (a factor, 1 = full exposure):
/// exposure times a linear gradient, a vignette and an optional soft-edged
/// shadow band.
pub(super) fn light_factor(l: &Light, frame: (u32, u32), x: f64, y: f64) -> f32 {
    let (w, h) = (frame.0 as f64, frame.1 as f64);
    let diag = (w * w + h * h).sqrt().max(1.0);
    let (dx, dy) = (x - w / 2.0, y - h / 2.0);
    let a = l.gradient_angle_degrees.to_radians();
    let t = ((dx * a.cos() + dy * a.sin()) / diag + 0.5).clamp(0.0, 1.0);
    let r2 = 4.0 * (dx * dx + dy * dy) / (diag * diag);
    let mut f = l.exposure * (1.0 - l.gradient * t) * (1.0 - l.vignette * r2);
    if let Some(b) = &l.shadow_band {
        let a = b.angle_degrees.to_radians();
        let d = (dx * a.cos() + dy * a.sin()) / diag - b.offset;
        let edge = (d.abs() - b.width / 2.0) / b.softness.max(1e-3);
        f *= 1.0 - b.depth / (1.0 + edge.clamp(-30.0, 30.0).exp());
    }
    f.max(0.02) as f32
}

#[cfg(test)]
mod tests {
    use super::super::ShadowBand;
    use super::*;

    #[test]
    fn the_shadow_band_darkens_its_middle_and_spares_the_rest() {
        let l = Light {
            exposure: 1.0,
            gradient: 0.0,
            gradient_angle_degrees: 0.0,
            vignette: 0.0,
            shadow_band: Some(ShadowBand {
                angle_degrees: 0.0,
                offset: 0.0,
                width: 0.1,
                depth: 0.4,
                softness: 0.01,
            }),
        };
        let inside = light_factor(&l, (1000, 800), 500.0, 100.0);
        let outside = light_factor(&l, (1000, 800), 950.0, 100.0);
        assert!((inside - 0.6).abs() < 0.01, "{inside}");
        assert!((outside - 1.0).abs() < 0.01, "{outside}");
    }

    #[test]
    fn the_desk_is_textured() {
        let d = DeskTexture::new(&Desk::default(), 1000, 3);
        let vals: Vec<f32> = (0..200)
            .map(|i| d.at(i * 3, 50, d.smooth(i as f64 * 3.0, 50.0))[0])
            .collect();
        let (lo, hi) = vals
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
        assert!(hi - lo > 10.0, "{lo}..{hi}");
    }
}
