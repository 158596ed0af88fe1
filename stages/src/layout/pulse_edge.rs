//! Where exactly a calibration pulse rises: the sub-pixel position and the
//! slant of its rising edge, read from the page image.
//!
//! The signal's time origin hangs on this edge. The scorer forgives a whole
//! number of samples but not a fraction, and a fraction of a sample is a
//! tenth of a pixel at 200 dpi: on a QRS stroke that is a few hundredths of
//! a mV everywhere the trace is steep. The ink mask is a poor ruler for
//! that (it saturates, so its centroid leans towards pixel centres and
//! moves with the page's ink colour by ±0.1 px); the image's shading is
//! linear in the pen's coverage.
//!
//! Each pixel row across the edge's middle (2 to 8 mm above the baseline,
//! clear of the pulse's corners) gives one centroid: the darkness against
//! the paper just outside the mask's run there, darkness taken from the
//! brightest channel so a coloured grid line next to the edge stays paper.
//! A straight line through those centroids (outliers trimmed) gives the
//! edge's x half way up the pulse and its horizontal run per mV. A pulse
//! plotted from samples, as ecg-image-kit draws it, rises between two
//! samples, so that run is one sample step of the plotted record: the page
//! itself says how far apart its samples were. An edge drawn upright has no
//! run.
//!
//! Used by `layout_detect` when it is given the page image.

use crate::imaging;
use image::{GrayImage, RgbImage};

/// A measured rising edge.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RisingEdge {
    /// The edge's x half way up the pulse (5 mm above the baseline), px.
    pub x_mid: f32,
    /// How far right the edge moves from the baseline to the pulse's top
    /// (1 mV up), px: one sample step for a pulse plotted from samples.
    pub run_per_mv: f32,
    /// Pixel rows that gave a centroid.
    pub rows: usize,
}

/// Measures the rising edge found near `x_guess` (the mask's estimate) of a
/// pulse standing on `baseline`. `ppx`/`ppy` are pixels per mm; `ink_floor`
/// is the mask level above which a pixel belongs to the edge's run.
pub fn measure_rising_edge(
    image: &RgbImage,
    mask: &GrayImage,
    x_guess: f32,
    baseline: f32,
    (ppx, ppy): (f32, f32),
    ink_floor: u8,
) -> Option<RisingEdge> {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    if image.dimensions() != mask.dimensions() || w < 8 || !x_guess.is_finite() {
        return None;
    }
    let xg = x_guess.round();
    if xg < 3.0 || xg as usize + 3 >= w {
        return None;
    }
    let xg = xg as usize;
    let m = mask.as_raw();
    // a run wider than this is the edge merged with something else
    let max_run = (1.2 * ppx).max(3.0) as usize;
    let y_top = (baseline - 8.0 * ppy).max(0.0) as usize;
    let y_bot = ((baseline - 2.0 * ppy).max(0.0) as usize).min(h - 1);
    let mut pts: Vec<(f32, f32)> = Vec::new();
    for y in y_top..=y_bot {
        let row = &m[y * w..(y + 1) * w];
        // the run through (or right beside) the guessed column
        let Some(x) = [xg, xg - 1, xg + 1]
            .into_iter()
            .find(|&x| row[x] > ink_floor)
        else {
            continue;
        };
        let (mut a, mut b) = (x, x);
        while a > 2 && row[a - 1] > ink_floor && x - a < max_run {
            a -= 1;
        }
        while b + 3 < w && row[b + 1] > ink_floor && b - x < max_run {
            b += 1;
        }
        if b - a + 1 > max_run {
            continue;
        }
        let Some((from, dark)) = crate::trace::evidence::row_darkness(image, y, a, b) else {
            continue;
        };
        let sum: f32 = dark.iter().sum();
        let moment: f32 = dark
            .iter()
            .enumerate()
            .map(|(i, d)| d * (from + i) as f32)
            .sum();
        if sum > 0.0 {
            pts.push((y as f32, moment / sum));
        }
    }
    let y_mid = baseline - 5.0 * ppy;
    // (x at the edge's middle, x per row of rise)
    let fit = |pts: &[(f32, f32)]| -> Option<(f32, f32)> {
        let line = crate::imaging::fit_line(pts).filter(|_| pts.len() >= 4)?;
        Some((line.at(y_mid), line.slope))
    };
    let (c0, c1) = fit(&pts)?;
    // trim rows that stray from the line (a grid dot, a touching stroke)
    let resid: Vec<f32> = pts
        .iter()
        .map(|p| (p.1 - (c0 + c1 * (p.0 - y_mid))).abs())
        .collect();
    let tol = (3.0 * 1.4826 * imaging::median(&resid)).max(0.05);
    let kept: Vec<(f32, f32)> = pts
        .iter()
        .zip(&resid)
        .filter(|(_, &r)| r <= tol)
        .map(|(p, _)| *p)
        .collect();
    let (c0, c1) = fit(&kept)?;
    // the minimum: a third of the rows across the edge's middle
    if (kept.len() as f32) < 2.0 * ppy {
        return None;
    }
    Some(RisingEdge {
        x_mid: c0,
        // y grows downwards: the edge moving right on the way up is a
        // negative slope
        run_per_mv: -c1 * 10.0 * ppy,
        rows: kept.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgb};

    /// A pulse edge drawn by area coverage: a pen `pen` px wide whose centre
    /// runs from `x0` at the baseline to `x0 + run` 10 mm higher, dark ink
    /// on white with a red grid line `grid_dx` px to its left.
    fn edge_page(x0: f32, run: f32, pen: f32, grid_dx: f32) -> (RgbImage, GrayImage, f32) {
        let ppmm = 7.874f32;
        let (w, h) = (60u32, 160u32);
        let baseline = 130.0f32;
        let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
        let mut mask = GrayImage::new(w, h);
        for y in 0..h {
            // pixel centres at whole coordinates, as everywhere in ecgdig
            let yc = y as f32;
            let up = ((baseline - yc) / (10.0 * ppmm)).clamp(0.0, 1.0);
            let cx = x0 + run * up;
            for x in 0..w {
                // coverage of pixel [x - 1/2, x + 1/2) by the pen
                let lo = (cx - pen / 2.0).max(x as f32 - 0.5);
                let hi = (cx + pen / 2.0).min(x as f32 + 0.5);
                let cov = (hi - lo).clamp(0.0, 1.0);
                let on_pulse = yc <= baseline && yc >= baseline - 10.0 * ppmm;
                let cov = if on_pulse { cov } else { 0.0 };
                let g = (x as f32 - (x0 + grid_dx)).abs() < 0.7;
                let paper = if g { [255.0, 60.0, 60.0] } else { [255.0; 3] };
                let ink = 20.0;
                let px: [u8; 3] =
                    std::array::from_fn(|c| (paper[c] * (1.0 - cov) + ink * cov).round() as u8);
                img.put_pixel(x, y, Rgb(px));
                // the mask saturates: half a pixel of ink is full ink
                mask.put_pixel(x, y, Luma([((cov * 2.0).min(1.0) * 255.0) as u8]));
            }
        }
        (img, mask, baseline)
    }

    #[test]
    fn the_edges_middle_is_found_to_a_twentieth_of_a_pixel_beside_a_red_grid_line() {
        for x0 in [20.0f32, 20.25, 20.5, 20.8] {
            let (img, mask, b) = edge_page(x0, 0.0, 2.6, -2.0);
            let e = measure_rising_edge(&img, &mask, x0, b, (7.874, 7.874), 20).unwrap();
            // (an area-sampled pen's centroid leans a few hundredths of a
            // pixel with its sub-pixel phase)
            assert!((e.x_mid - x0).abs() < 0.05, "x0 {x0}: {e:?}");
            assert!(e.run_per_mv.abs() < 0.03, "{e:?}");
        }
    }

    #[test]
    fn a_slanted_edge_gives_its_run_per_mv() {
        // a 500 Hz record at 200 dpi: one sample step is 0.394 px
        let (img, mask, b) = edge_page(20.3, 0.394, 2.6, -2.0);
        let e = measure_rising_edge(&img, &mask, 20.5, b, (7.874, 7.874), 20).unwrap();
        assert!((e.run_per_mv - 0.394).abs() < 0.08, "{e:?}");
        assert!((e.x_mid - (20.3 + 0.197)).abs() < 0.03, "{e:?}");
    }

    #[test]
    fn no_ink_at_the_guess_gives_nothing() {
        let (img, mask, b) = edge_page(20.0, 0.0, 2.6, -2.0);
        assert!(measure_rising_edge(&img, &mask, 45.0, b, (7.874, 7.874), 20).is_none());
    }
}
