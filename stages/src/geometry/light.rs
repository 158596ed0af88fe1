//! Light flattening for photographed sheets (part of `dewarp`): a shadow
//! band, a vignette or a colour cast would otherwise read as grid or ink
//! wherever the paper is darker, so the paper tone is divided out and the
//! paper becomes one white.
//!
//! The paper tone is estimated per channel as a high percentile in blocks,
//! smoothed ([`PaperTone::measure`]), and divided out with bilinear
//! interpolation between block centres ([`PaperTone::divide_out`]). The
//! tone varies over centimetres, so it may be measured on a half-size copy
//! of the page (`dewarp` has one for the lattice) and applied at full size.

use image::RgbImage;

/// Block side, pixels, at full size.
const BLOCK: usize = 24;
/// The paper's colour after flattening.
const WHITE: f32 = 250.0;

/// The paper's tone per block and channel.
#[derive(Clone, Debug)]
pub struct PaperTone {
    /// Block side in the pixels of the image it is applied to.
    block: f32,
    bw: usize,
    bh: usize,
    planes: [Vec<f32>; 3],
}

impl PaperTone {
    /// Measures the tone of `rgb` in blocks of `block` pixels; `None` on an
    /// image of fewer than 2x2 blocks.
    pub fn measure(rgb: &RgbImage, block: usize) -> Option<PaperTone> {
        let b = block.max(2);
        let (w, h) = (rgb.width() as usize, rgb.height() as usize);
        let (bw, bh) = (w.div_ceil(b), h.div_ceil(b));
        if bw < 2 || bh < 2 {
            return None;
        }
        let raw = rgb.as_raw();
        let mut planes = [
            vec![0f32; bw * bh],
            vec![0f32; bw * bh],
            vec![0f32; bw * bh],
        ];
        // every other pixel of a full-size block, every pixel of a small one
        let stride = if b >= 16 { 2 } else { 1 };
        let mut buf: [Vec<u8>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for by in 0..bh {
            for bx in 0..bw {
                for v in buf.iter_mut() {
                    v.clear();
                }
                for y in (by * b..(by * b + b).min(h)).step_by(stride) {
                    for x in (bx * b..(bx * b + b).min(w)).step_by(stride) {
                        let i = (y * w + x) * 3;
                        for k in 0..3 {
                            buf[k].push(raw[i + k]);
                        }
                    }
                }
                for k in 0..3 {
                    let n = buf[k].len();
                    let q = (n * 9 / 10).min(n - 1);
                    let (_, v, _) = buf[k].select_nth_unstable(q);
                    planes[k][by * bw + bx] = *v as f32;
                }
            }
        }
        // smooth the block map (3x3 box, twice)
        for plane in planes.iter_mut() {
            for _ in 0..2 {
                let src = plane.clone();
                for by in 0..bh {
                    for bx in 0..bw {
                        let (mut s, mut n) = (0f32, 0f32);
                        for yy in by.saturating_sub(1)..(by + 2).min(bh) {
                            for xx in bx.saturating_sub(1)..(bx + 2).min(bw) {
                                s += src[yy * bw + xx];
                                n += 1.0;
                            }
                        }
                        plane[by * bw + bx] = (s / n).max(16.0);
                    }
                }
            }
        }
        Some(PaperTone {
            block: b as f32,
            bw,
            bh,
            planes,
        })
    }

    /// The same tone for an image `factor` times larger.
    pub fn scaled(mut self, factor: f32) -> PaperTone {
        self.block *= factor;
        self
    }

    /// Divides the tone out of `rgb`: the paper becomes white.
    pub fn divide_out(&self, rgb: &mut RgbImage) {
        let (w, h) = (rgb.width() as usize, rgb.height() as usize);
        let (bw, bh, b) = (self.bw, self.bh, self.block);
        // each column's blocks and weight, the same on every row
        let cols: Vec<(usize, f32)> = (0..w)
            .map(|x| {
                let f = ((x as f32 + 0.5) / b - 0.5).clamp(0.0, (bw - 1) as f32);
                let i0 = (f as usize).min(bw - 2);
                (i0, f - i0 as f32)
            })
            .collect();
        let raw = rgb.as_mut();
        let mut gain_row = vec![[0f32; 3]; bw];
        for y in 0..h {
            let fyb = ((y as f32 + 0.5) / b - 0.5).clamp(0.0, (bh - 1) as f32);
            let j0 = (fyb as usize).min(bh - 2);
            let ay = fyb - j0 as f32;
            for (i, g) in gain_row.iter_mut().enumerate() {
                for (gk, p) in g.iter_mut().zip(&self.planes) {
                    let v = p[j0 * bw + i] * (1.0 - ay) + p[(j0 + 1) * bw + i] * ay;
                    *gk = WHITE / v;
                }
            }
            let row = &mut raw[y * w * 3..(y + 1) * w * 3];
            for (p, &(i0, ax)) in row.chunks_exact_mut(3).zip(&cols) {
                let (g0, g1) = (gain_row[i0], gain_row[i0 + 1]);
                for k in 0..3 {
                    let g = g0[k] + (g1[k] - g0[k]) * ax;
                    p[k] = (p[k] as f32 * g).min(255.0) as u8;
                }
            }
        }
    }
}

/// Divides out the paper tone of `rgb`, measured on `rgb` itself.
pub fn flatten_light(rgb: &mut RgbImage) {
    if let Some(tone) = PaperTone::measure(rgb, BLOCK) {
        tone.divide_out(rgb);
    }
}

/// [`flatten_light`] with the tone measured on `half`, a half-size copy of
/// `rgb` (the same frame): a quarter of the pixels to sort.
pub fn flatten_light_from_half(rgb: &mut RgbImage, half: &RgbImage) {
    match PaperTone::measure(half, BLOCK / 2) {
        Some(tone) => tone.scaled(2.0).divide_out(rgb),
        None => flatten_light(rgb),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// Paper lit from the left (tone 120 to 230), warm cast, with a dark
    /// line every 40 px.
    fn shaded_page() -> RgbImage {
        RgbImage::from_fn(480, 360, |x, y| {
            let tone = 120.0 + 110.0 * x as f32 / 479.0;
            if y % 40 == 20 {
                Rgb([30, 30, 30])
            } else {
                Rgb([tone as u8, (0.95 * tone) as u8, (0.85 * tone) as u8])
            }
        })
    }

    fn half_of(rgb: &RgbImage) -> RgbImage {
        RgbImage::from_fn(rgb.width() / 2, rgb.height() / 2, |x, y| {
            *rgb.get_pixel(2 * x, 2 * y)
        })
    }

    #[test]
    fn the_tone_measured_on_a_half_size_copy_whitens_the_full_page() {
        let page = shaded_page();
        let mut from_full = page.clone();
        flatten_light(&mut from_full);
        let mut from_half = page.clone();
        flatten_light_from_half(&mut from_half, &half_of(&page));
        // (inside the outer blocks: the smoothing flattens a steep edge there)
        for (x, y) in [(60, 65), (240, 105), (420, 305), (100, 305)] {
            let (a, b) = (from_full.get_pixel(x, y), from_half.get_pixel(x, y));
            for k in 0..3 {
                assert!((a[k] as i32 - 250).abs() <= 8, "full {a:?} at {x},{y}");
                assert!(
                    (b[k] as i32 - a[k] as i32).abs() <= 4,
                    "half {b:?}, full {a:?}"
                );
            }
        }
        // the ink stays dark
        assert!(from_half.get_pixel(400, 20)[0] < 80);
    }
}
