//! Off-paper areas: the scanner bed or desk around a sheet.
//!
//! A scan of a sheet laid at an angle, or a photo cropped loosely, keeps
//! bands of near-black bed at the image's borders. Where such a band meets
//! the paper, its edge is a long, nearly level dark line, and the segmenter
//! would keep it as ink (it is far darker than the paper beside it): the
//! layout then finds a "row" at the sheet's edge. Thick near-black areas are
//! off the paper; a trace is thin, and so is a crease's shadow.
//!
//! [`off_paper_zone`] keeps the near-black areas that hold a whole square of
//! `2·core + 1` pixels (at the image's border, `core + 1` pixels deep is
//! enough: the window is clamped there) and come near the image's border,
//! grown back to their dark pixels (a morphological opening); where such an
//! area thins out along the border (a wedge of bed beside a tilted sheet),
//! the dark pixels near the border joined to it; and a `margin` around all
//! of it, which covers the sheet's edge. A dark blot or deep shadow inside
//! the page, with paper all round it, is left to the segmenter's crowd rule.

/// Pixels on or within `margin` of a thick near-black area. `dark` is
/// non-zero where a pixel is near-black; `core` is the half-size of the
/// square an area must hold to count as off the paper. The zone is found on
/// a copy `factor` times smaller (a block is dark for the square test when
/// all its pixels are, and joins a wedge when any is): the bed is large, and
/// a page at full size costs sixteen times more at `factor` 4.
pub fn off_paper_zone(
    dark: &[u8],
    w: usize,
    h: usize,
    core: usize,
    margin: usize,
    factor: usize,
) -> OffPaperZone {
    let f = factor.max(1);
    let (sw, sh) = (w.div_ceil(f), h.div_ceil(f));
    let mut all = vec![false; sw * sh];
    let mut any = vec![false; sw * sh];
    // each band of f rows: the lowest and highest value per column, then
    // per block of f columns
    let (mut lo, mut hi) = (vec![0u8; w], vec![0u8; w]);
    for (sy, band) in dark.chunks(w.max(1) * f).take(sh).enumerate() {
        lo.fill(u8::MAX);
        hi.fill(0);
        for row in band.chunks_exact(w.max(1)) {
            for ((l, u), &d) in lo.iter_mut().zip(hi.iter_mut()).zip(row) {
                *l = (*l).min(d);
                *u = (*u).max(d);
            }
        }
        let base = sy * sw;
        for (sx, (l, u)) in lo.chunks(f).zip(hi.chunks(f)).enumerate() {
            all[base + sx] = l.iter().all(|&d| d != 0);
            any[base + sx] = u.iter().any(|&d| d != 0);
        }
    }
    let cells = zone(
        &all,
        &any,
        (sw, sh),
        ((core + f / 2) / f).max(1),
        margin.div_ceil(f),
    );
    OffPaperZone { cells, w, sw, f }
}

/// The off-paper zone of a page, kept at the scale it was found at.
pub struct OffPaperZone {
    cells: Vec<bool>,
    /// The page's width, px.
    w: usize,
    /// The zone's width, cells.
    sw: usize,
    /// Page pixels per cell, along each axis.
    f: usize,
}

impl OffPaperZone {
    /// Whether the page's pixel `(x, y)` is off the paper.
    pub fn contains(&self, x: usize, y: usize) -> bool {
        self.cells
            .get((y / self.f) * self.sw + x / self.f)
            .copied()
            .unwrap_or(false)
    }
}

/// The page's pixel at row-major index `i`.
impl std::ops::Index<usize> for OffPaperZone {
    type Output = bool;
    fn index(&self, i: usize) -> &bool {
        if self.contains(i % self.w, i / self.w) {
            &true
        } else {
            &false
        }
    }
}

/// [`off_paper_zone`] at one scale: `inner` is dark for the square test,
/// `set` for joining a wedge.
fn zone(
    inner_of: &[bool],
    set: &[bool],
    (w, h): (usize, usize),
    core: usize,
    margin: usize,
) -> Vec<bool> {
    let counts = Integral::new(inner_of, w, h);
    let mut inner = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let (n, area) = counts.window(x, y, core);
            inner[y * w + x] = n == area;
        }
    }
    // (`reach`, not the border itself: `deskew` fills the corners it
    // uncovers with paper colour, so a rotated bed band may stop short of it)
    let reach = core.max(w.min(h) / 20).min(w / 2).min(h / 2);
    let in_band = |i: usize| {
        let (x, y) = (i % w, i / w);
        x < reach || y < reach || x + reach >= w || y + reach >= h
    };
    let seeds: Vec<bool> = (0..w * h).map(|i| inner[i] && in_band(i)).collect();
    if !seeds.contains(&true) {
        return vec![false; w * h];
    }
    let bed = flood(&seeds, |i| inner[i], w, h);
    // the opening: the thick areas grown back to their dark pixels
    let grown = Integral::new(&bed, w, h);
    let mut opened = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            opened[y * w + x] = set[y * w + x] && grown.window(x, y, core).0 > 0;
        }
    }
    // where a wedge of bed thins out along the border, its dark pixels
    // there belong to it too
    let bed = Integral::new(&flood(&opened, |i| set[i] && in_band(i), w, h), w, h);
    let mut out = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] = bed.window(x, y, margin).0 > 0;
        }
    }
    out
}

/// The pixels connected (4-neighbours) to a seed through pixels that pass:
/// the bed lies around the sheet, while a deep shadow or a dark blot inside
/// the page is surrounded by paper.
fn flood(seeds: &[bool], pass: impl Fn(usize) -> bool, w: usize, h: usize) -> Vec<bool> {
    let mut keep = vec![false; w * h];
    let mut stack: Vec<usize> = (0..w * h).filter(|&i| seeds[i]).collect();
    while let Some(i) = stack.pop() {
        if keep[i] {
            continue;
        }
        keep[i] = true;
        let (x, y) = (i % w, i / w);
        let mut push = |j: usize| {
            if !keep[j] && pass(j) {
                stack.push(j);
            }
        };
        if x > 0 {
            push(i - 1);
        }
        if x + 1 < w {
            push(i + 1);
        }
        if y > 0 {
            push(i - w);
        }
        if y + 1 < h {
            push(i + w);
        }
    }
    keep
}

/// Summed-area table of a boolean image.
struct Integral {
    sums: Vec<u32>,
    w: usize,
    h: usize,
}

impl Integral {
    fn new(set: &[bool], w: usize, h: usize) -> Self {
        let mut sums = vec![0u32; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row = 0u32;
            for x in 0..w {
                row += set[y * w + x] as u32;
                sums[(y + 1) * (w + 1) + x + 1] = sums[y * (w + 1) + x + 1] + row;
            }
        }
        Self { sums, w, h }
    }

    /// Set pixels and all pixels in the `(2r+1)²` window around `(x, y)`,
    /// clamped to the image.
    fn window(&self, x: usize, y: usize, r: usize) -> (u32, u32) {
        let (x0, y0) = (x.saturating_sub(r), y.saturating_sub(r));
        let (x1, y1) = ((x + r + 1).min(self.w), (y + r + 1).min(self.h));
        let s = |xx: usize, yy: usize| self.sums[yy * (self.w + 1) + xx];
        let n = s(x1, y1) + s(x0, y0) - s(x0, y1) - s(x1, y0);
        (n, ((x1 - x0) * (y1 - y0)) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(w: usize, h: usize, dark: impl Fn(usize, usize) -> bool) -> Vec<u8> {
        (0..w * h)
            .map(|i| if dark(i % w, i / w) { 255 } else { 0 })
            .collect()
    }

    #[test]
    fn a_border_band_and_its_edge_are_off_paper() {
        // a bed band 6 px deep along the top, as a scan at an angle leaves it
        let (w, h) = (80, 60);
        let dark = page(w, h, |_, y| y < 6);
        let zone = off_paper_zone(&dark, w, h, 4, 2, 1);
        assert!(zone[3 * w + 40], "inside the band");
        assert!(zone[7 * w + 40], "the band's edge, within the margin");
        assert!(!zone[20 * w + 40], "the paper below it");
    }

    #[test]
    fn a_dark_blot_inside_the_page_stays_on_paper() {
        // a thick shadow blot with paper all round it (a trace may cross it)
        let (w, h) = (80, 60);
        let dark = page(w, h, |x, y| (20..50).contains(&x) && (25..45).contains(&y));
        let zone = off_paper_zone(&dark, w, h, 4, 2, 1);
        assert!((0..w * h).all(|i| !zone[i]));
    }

    #[test]
    fn a_bed_band_a_rotation_moved_off_the_border_is_off_paper() {
        // deskew filled a 3 px wedge of paper between the band and the border
        let (w, h) = (200, 160);
        let dark = page(w, h, |_, y| (3..14).contains(&y));
        let zone = off_paper_zone(&dark, w, h, 4, 2, 1);
        assert!(zone[8 * w + 100] && zone[15 * w + 100]);
        assert!(!zone[30 * w + 100]);
    }

    #[test]
    fn a_wedge_of_bed_is_off_paper_where_it_thins_out() {
        // a tilted sheet: the bed along the top is 12 px deep at the left
        // and thins to nothing at the right
        let (w, h) = (200, 160);
        let dark = page(w, h, |x, y| y < 12 - x * 12 / w);
        let zone = off_paper_zone(&dark, w, h, 4, 2, 1);
        assert!(zone[3 * w + 20], "the thick end");
        assert!(
            zone[w + 180] && zone[3 * w + 180],
            "the thin end and its edge"
        );
        assert!(!zone[30 * w + 180]);
    }

    #[test]
    fn the_zone_found_at_a_quarter_size_matches_the_full_size_one() {
        let (w, h) = (200, 160);
        let dark = page(w, h, |x, y| y < 16 - x * 16 / w || x > 188);
        let full = off_paper_zone(&dark, w, h, 8, 4, 1);
        let small = off_paper_zone(&dark, w, h, 8, 4, 4);
        let differ = (0..w * h).filter(|&i| full[i] != small[i]).count();
        // (the boundary moves by up to a block: about 2 % of this page)
        assert!(differ * 25 < w * h, "{differ} pixels differ");
        assert!(small[5 * w + 20] && small[80 * w + 195] && !small[80 * w + 100]);
    }

    #[test]
    fn a_thin_stroke_and_a_narrow_shadow_stay_on_paper() {
        // a 2 px trace across the page and a 6 px shadow down it: neither
        // holds a 9 px square
        let (w, h) = (80, 60);
        let dark = page(w, h, |x, y| (30..32).contains(&y) || (40..46).contains(&x));
        let zone = off_paper_zone(&dark, w, h, 4, 2, 1);
        assert!((0..w * h).all(|i| !zone[i]));
    }
}
