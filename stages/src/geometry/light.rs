//! Light flattening for photographed sheets (part of `dewarp`): a shadow
//! band, a vignette or a colour cast would otherwise read as grid or ink
//! wherever the paper is darker, so the paper tone is divided out and the
//! paper becomes one white.

use image::RgbImage;

/// Divides out the paper tone, estimated per channel as a high percentile in
/// blocks, smoothed, and interpolated bilinearly; the paper becomes white.
pub fn flatten_light(rgb: &mut RgbImage) {
    const B: usize = 24;
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let (bw, bh) = (w.div_ceil(B), h.div_ceil(B));
    if bw < 2 || bh < 2 {
        return;
    }
    let raw = rgb.as_mut();
    let mut bg = [
        vec![0f32; bw * bh],
        vec![0f32; bw * bh],
        vec![0f32; bw * bh],
    ];
    let mut buf: [Vec<u8>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for by in 0..bh {
        for bx in 0..bw {
            for b in buf.iter_mut() {
                b.clear();
            }
            for y in (by * B..(by * B + B).min(h)).step_by(2) {
                for x in (bx * B..(bx * B + B).min(w)).step_by(2) {
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
                bg[k][by * bw + bx] = *v as f32;
            }
        }
    }
    // smooth the block map (3x3 median-free box, twice)
    for plane in bg.iter_mut() {
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
    const WHITE: f32 = 250.0;
    let mut gain_row = vec![[0f32; 3]; bw];
    for y in 0..h {
        let fyb = ((y as f32 + 0.5) / B as f32 - 0.5).clamp(0.0, (bh - 1) as f32);
        let j0 = (fyb as usize).min(bh - 2);
        let ay = fyb - j0 as f32;
        for (i, g) in gain_row.iter_mut().enumerate() {
            for k in 0..3 {
                let v = bg[k][j0 * bw + i] * (1.0 - ay) + bg[k][(j0 + 1) * bw + i] * ay;
                g[k] = WHITE / v;
            }
        }
        let row = &mut raw[y * w * 3..(y + 1) * w * 3];
        for (x, p) in row.chunks_exact_mut(3).enumerate() {
            let fxb = ((x as f32 + 0.5) / B as f32 - 0.5).clamp(0.0, (bw - 1) as f32);
            let i0 = (fxb as usize).min(bw - 2);
            let ax = fxb - i0 as f32;
            for k in 0..3 {
                let g = gain_row[i0][k] * (1.0 - ax) + gain_row[i0 + 1][k] * ax;
                p[k] = (p[k] as f32 * g).min(255.0) as u8;
            }
        }
    }
}
