//! Images in which a printed grid is bright and everything else is level:
//! what the grid-lattice measurement ([`super::lattice_warp`]) demodulates.
//!
//! * [`GridInk::Colour`]: per pixel `max - min` of the channels. A red,
//!   green or blue grid is bright in it; white or tinted paper is a level.
//! * [`GridInk::Grey`]: how much darker than its block's paper a pixel is.
//!   A grey or black grid is bright in it, and so is the trace; that is why
//!   ink is handled apart.
//!
//! In both, ink (the trace, labels: far darker than the paper, and with
//! little colour for that darkness) is not grid and not a gap in it: ink
//! pixels take their block's typical value, so a trace crossing the lines
//! does not pull their phase. The paper level is a high percentile of
//! luminance per block, so shadows and light fall-off follow.

use image::RgbImage;

/// Side of the blocks the paper level is estimated in, pixels.
const PAPER_BLOCK: usize = 32;

/// Which property of the grid's lines to look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GridInk {
    /// Coloured lines: the channels' spread.
    Colour,
    /// Grey or black lines: darkness below the paper.
    Grey,
}

impl GridInk {
    /// Share of the paper level under which a colourless pixel is ink: a
    /// grey grid's major lines reach about half the paper's level, the
    /// trace far less.
    fn ink_share(self) -> f32 {
        match self {
            GridInk::Colour => 0.55,
            GridInk::Grey => 0.4,
        }
    }
}

/// The grid channel of `rgb` (row-major, one value per pixel).
pub fn grid_channel(rgb: &RgbImage, ink: GridInk) -> Vec<f32> {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let raw = rgb.as_raw();
    let spread = |i: usize| {
        let p = &raw[3 * i..3 * i + 3];
        (p[0].max(p[1]).max(p[2]) - p[0].min(p[1]).min(p[2])) as f32
    };
    let luma = |i: usize| (raw[3 * i] as f32 + raw[3 * i + 1] as f32 + raw[3 * i + 2] as f32) / 3.0;
    let mut g = vec![0f32; w * h];
    let mut is_ink = vec![false; w * h];
    let mut lum = Vec::with_capacity(PAPER_BLOCK * PAPER_BLOCK);
    let blocks = |n: usize| (0..n).step_by(PAPER_BLOCK);
    for by in blocks(h) {
        for bx in blocks(w) {
            let (y1, x1) = ((by + PAPER_BLOCK).min(h), (bx + PAPER_BLOCK).min(w));
            lum.clear();
            for y in by..y1 {
                lum.extend((bx..x1).map(|x| luma(y * w + x)));
            }
            let k = lum.len() * 9 / 10;
            let paper = *lum.select_nth_unstable_by(k, f32::total_cmp).1;
            let dark = ink.ink_share() * paper;
            for y in by..y1 {
                for x in bx..x1 {
                    let i = y * w + x;
                    let l = luma(i);
                    is_ink[i] = l < dark && 3.0 * spread(i) < paper - l;
                    g[i] = match ink {
                        GridInk::Colour => spread(i),
                        GridInk::Grey => (paper - l).max(0.0),
                    };
                }
            }
        }
    }
    if ink == GridInk::Grey {
        // the trace's soft edges are as dark as a grey line: one pixel
        // round the ink goes with it
        let core = is_ink.clone();
        for y in 0..h {
            for x in 0..w {
                if core[y * w + x] {
                    for yy in y.saturating_sub(1)..(y + 2).min(h) {
                        for xx in x.saturating_sub(1)..(x + 2).min(w) {
                            is_ink[yy * w + xx] = true;
                        }
                    }
                }
            }
        }
    }
    let mut kept = Vec::with_capacity(PAPER_BLOCK * PAPER_BLOCK);
    for by in blocks(h) {
        for bx in blocks(w) {
            let (y1, x1) = ((by + PAPER_BLOCK).min(h), (bx + PAPER_BLOCK).min(w));
            kept.clear();
            for y in by..y1 {
                kept.extend(
                    (bx..x1)
                        .filter(|&x| !is_ink[y * w + x])
                        .map(|x| g[y * w + x]),
                );
            }
            if kept.is_empty() {
                continue;
            }
            let m = kept.len() / 2;
            let typical = *kept.select_nth_unstable_by(m, f32::total_cmp).1;
            for y in by..y1 {
                for x in bx..x1 {
                    if is_ink[y * w + x] {
                        g[y * w + x] = typical;
                    }
                }
            }
        }
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// Paper, a grid line every 10 px and a black trace row.
    fn page(line: [u8; 3]) -> RgbImage {
        let mut img = RgbImage::from_pixel(64, 64, Rgb([250, 246, 240]));
        for y in 0..64 {
            for x in 0..64 {
                if x % 10 == 0 {
                    img.put_pixel(x, y, Rgb(line));
                }
                if y == 30 {
                    img.put_pixel(x, y, Rgb([20, 20, 20]));
                }
            }
        }
        img
    }

    #[test]
    fn a_coloured_line_is_bright_and_ink_is_level() {
        let g = grid_channel(&page([235, 90, 90]), GridInk::Colour);
        let (line, paper, ink) = (g[10 * 64 + 20], g[10 * 64 + 25], g[30 * 64 + 25]);
        assert!(line > paper + 100.0, "line {line} paper {paper}");
        assert!((ink - paper).abs() < 5.0, "ink {ink} paper {paper}");
    }

    #[test]
    fn a_grey_line_is_bright_in_darkness_and_ink_is_level() {
        let img = page([140, 140, 140]);
        let colour = grid_channel(&img, GridInk::Colour);
        assert!(colour[10 * 64 + 20] < 5.0, "a grey line has no colour");
        let g = grid_channel(&img, GridInk::Grey);
        let (line, paper, ink) = (g[10 * 64 + 20], g[10 * 64 + 25], g[30 * 64 + 25]);
        assert!(line > paper + 80.0, "line {line} paper {paper}");
        assert!((ink - paper).abs() < 5.0, "ink {ink} paper {paper}");
    }
}
