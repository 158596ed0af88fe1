//! ECG paper: background, 1 mm minor and 5 mm major grid, as lines or dots.
//!
//! Input: page size in pixels, pixels per mm, colours, style. Output: an RGB
//! image. Grid lines sit at `x = k * px_per_mm` (pixel-centre coordinates, the
//! page's mm origin at the centre of pixel (0, 0)); their anti-aliasing is the
//! exact overlap of each pixel with the line (box filter), computed once per
//! column and per row.

use super::{GridColor, GridStyle};
use image::{Rgb, RgbImage};
use rayon::prelude::*;

/// Colours of one paper: background, minor lines, major lines.
#[derive(Clone, Copy, Debug)]
pub struct Palette {
    pub paper: [u8; 3],
    pub minor: [u8; 3],
    pub major: [u8; 3],
}

impl GridColor {
    pub fn palette(self) -> Palette {
        let (minor, major) = match self {
            GridColor::Red => ([252, 205, 200], [238, 80, 75]),
            GridColor::Pink => ([252, 220, 228], [240, 150, 170]),
            GridColor::Green => ([205, 235, 210], [70, 165, 100]),
            GridColor::Blue => ([208, 222, 245], [80, 120, 205]),
            GridColor::Grey => ([215, 215, 215], [140, 140, 140]),
            GridColor::Black => ([175, 175, 175], [50, 50, 50]),
        };
        Palette {
            paper: [255, 255, 255],
            minor,
            major,
        }
    }
}

/// Overlap of pixel `[x-0.5, x+0.5]` with `[c-w/2, c+w/2]` for the nearest `c = k*step`.
fn line_profile(n: usize, step: f64, width: f64, every: usize, offset: usize) -> Vec<f32> {
    (0..n)
        .map(|x| {
            let xf = x as f64;
            let k = (xf / step).round() as i64;
            let mut best = 0f64;
            for kk in [k - 1, k, k + 1] {
                if kk < 0 || (every > 1 && !(kk as usize + offset).is_multiple_of(every)) {
                    continue;
                }
                let c = kk as f64 * step;
                let lo = (c - width / 2.0).max(xf - 0.5);
                let hi = (c + width / 2.0).min(xf + 0.5);
                best = best.max((hi - lo).max(0.0));
            }
            best as f32
        })
        .collect()
}

fn lerp(a: [f32; 3], b: [u8; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] as f32 - a[0]) * t,
        a[1] + (b[1] as f32 - a[1]) * t,
        a[2] + (b[2] as f32 - a[2]) * t,
    ]
}

/// Widths (pixels) of the minor and major marks along one axis.
fn mark_widths(style: GridStyle, px_per_mm: f64) -> (f64, f64) {
    match style {
        GridStyle::Dots | GridStyle::Dots5 => {
            ((0.25 * px_per_mm).max(1.2), (0.45 * px_per_mm).max(1.8))
        }
        _ => ((0.1 * px_per_mm).max(0.6), (0.2 * px_per_mm).max(1.0)),
    }
}

/// Draws the paper with its grid. `(px_per_mm_x, px_per_mm_y)` are the grid
/// pitches per millimetre along each axis (equal unless a printer scaled the
/// page unevenly).
pub fn paper(
    width: u32,
    height: u32,
    (px_per_mm_x, px_per_mm_y): (f64, f64),
    palette: Palette,
    style: GridStyle,
) -> RgbImage {
    let (w, h) = (width as usize, height as usize);
    let mut img = RgbImage::from_pixel(width, height, Rgb(palette.paper));
    if style == GridStyle::None {
        return img;
    }
    let (minor_wx, major_wx) = mark_widths(style, px_per_mm_x);
    let (minor_wy, major_wy) = mark_widths(style, px_per_mm_y);
    let minor_x = line_profile(w, px_per_mm_x, minor_wx, 1, 0);
    let minor_y = line_profile(h, px_per_mm_y, minor_wy, 1, 0);
    let major_x = line_profile(w, px_per_mm_x * 5.0, major_wx, 1, 0);
    let major_y = line_profile(h, px_per_mm_y * 5.0, major_wy, 1, 0);
    let paper_f = palette.paper.map(|v| v as f32);
    img.par_chunks_mut(w * 3).enumerate().for_each(|(y, row)| {
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let (a_minor, a_major) = match style {
                // Dots print in the major colour: small every 1 mm, large every 5 mm.
                GridStyle::Dots => (
                    0.0,
                    (0.7 * minor_x[x] * minor_y[y]).max(major_x[x] * major_y[y]),
                ),
                // Dots at the 5 mm intersections only.
                GridStyle::Dots5 => (0.0, major_x[x] * major_y[y]),
                // A coarse grid: 5 mm lines only.
                GridStyle::Major => (0.0, major_x[x].max(major_y[y])),
                _ => (minor_x[x].max(minor_y[y]), major_x[x].max(major_y[y])),
            };
            if a_minor == 0.0 && a_major == 0.0 {
                continue;
            }
            let c = lerp(
                lerp(paper_f, palette.minor, a_minor),
                palette.major,
                a_major,
            );
            px[0] = c[0].round() as u8;
            px[1] = c[1].round() as u8;
            px[2] = c[2].round() as u8;
        }
    });
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_lines_every_five_millimetres() {
        let ppmm = 8.0;
        let img = paper(
            200,
            100,
            (ppmm, ppmm),
            GridColor::Red.palette(),
            GridStyle::Lines,
        );
        // Column 40 = 5 mm: a major line (full red); column 44 is between lines.
        let p = img.get_pixel(40, 50).0;
        assert_eq!(p, GridColor::Red.palette().major);
        assert_eq!(img.get_pixel(44, 52).0, [255, 255, 255]);
        // Column 8 = 1 mm: a minor line, lighter than major.
        let m = img.get_pixel(8, 52).0;
        assert!(m[1] > p[1] && m[1] < 255, "{m:?}");
        let none = paper(
            50,
            50,
            (ppmm, ppmm),
            GridColor::Red.palette(),
            GridStyle::None,
        );
        assert!(none.pixels().all(|p| p.0 == [255, 255, 255]));
    }

    /// True when some image row or column is inked over at least `frac` of its length.
    fn has_long_line(img: &RgbImage, frac: f64) -> bool {
        let (w, h) = img.dimensions();
        let inked = |x: u32, y: u32| img.get_pixel(x, y).0 != [255, 255, 255];
        let rows =
            (0..h).any(|y| (0..w).filter(|&x| inked(x, y)).count() as f64 >= frac * w as f64);
        let cols =
            (0..w).any(|x| (0..h).filter(|&y| inked(x, y)).count() as f64 >= frac * h as f64);
        rows || cols
    }

    #[test]
    fn dotted_grids_have_no_continuous_lines() {
        let pal = GridColor::Black.palette();
        for style in [GridStyle::Dots, GridStyle::Dots5] {
            let img = paper(240, 160, (8.0, 8.0), pal, style);
            assert!(!has_long_line(&img, 0.6), "{style:?}");
            // A dot at the 5 mm intersection (40, 40), paper between.
            assert_ne!(img.get_pixel(40, 40).0, [255, 255, 255]);
            assert_eq!(img.get_pixel(44, 40).0, [255, 255, 255]);
        }
        // 1 mm dots only in `Dots`.
        let d1 = paper(240, 160, (8.0, 8.0), pal, GridStyle::Dots);
        let d5 = paper(240, 160, (8.0, 8.0), pal, GridStyle::Dots5);
        assert_ne!(d1.get_pixel(8, 8).0, [255, 255, 255]);
        assert_eq!(d5.get_pixel(8, 8).0, [255, 255, 255]);
        // Lines and coarse lines are continuous; coarse ones only every 5 mm.
        assert!(has_long_line(
            &paper(240, 160, (8.0, 8.0), pal, GridStyle::Lines),
            0.99
        ));
        let coarse = paper(240, 160, (8.0, 8.0), pal, GridStyle::Major);
        assert!(has_long_line(&coarse, 0.99));
        assert_eq!(coarse.get_pixel(8, 12).0, [255, 255, 255]);
    }

    #[test]
    fn uneven_scale_spaces_lines_per_axis() {
        let pal = GridColor::Black.palette();
        let img = paper(200, 200, (8.0, 6.0), pal, GridStyle::Major);
        // Vertical major lines every 40 px, horizontal ones every 30 px.
        assert_eq!(img.get_pixel(40, 13).0, pal.major);
        assert_eq!(img.get_pixel(13, 30).0, pal.major);
        assert_eq!(img.get_pixel(13, 40).0, [255, 255, 255]);
    }
}
