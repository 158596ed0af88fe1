//! Where a traced stroke crosses pixel rows: horizontal evidence for steep
//! strokes.
//!
//! A column's ink run says how high and how low the trace goes inside that
//! column, which pins a flat wave well but a steep one (a QRS stroke of 20
//! px per px) only loosely: its horizontal position then rests on the pen's
//! modelled spread, and a 0.3 px error there is a 6 px error in height. A
//! steep stroke crosses every pixel row it spans as a short horizontal run of
//! ink whose soft-mask centroid is its centre line, to a few hundredths of a
//! pixel, whatever the pen. [`row_crossings`] measures those centroids
//! inside the chosen runs of a traced panel; [`super::fit`] adds them to the
//! polyline fit as points the line passes through.
//!
//! The mask is a poor ruler here: it saturates well below full pen
//! coverage, so a stroke two pixels wide reads as two equal pixels wherever
//! it sits between them. When the page image is at hand the centroid weighs
//! each pixel of the run by its darkness against the paper beside the run
//! (the brightest channel, so a coloured grid stays paper), which is linear
//! in the pen's coverage; otherwise by the mask.
//!
//! Rows where the stroke's run merges with another one (the wedge below a
//! sharp R tip, where the up- and down-strokes touch) are wider than a
//! single pen and are skipped: their centroid would lie between the strokes.

use image::{GrayImage, RgbImage};

/// A point where the trace's centre line crosses the middle of a pixel row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowCrossing {
    /// Sub-pixel x of the centre line (pixel centres at integers).
    pub x: f32,
    /// The row, px.
    pub y: f32,
}

/// What [`row_crossings`] looks at.
#[derive(Clone, Copy, Debug)]
pub struct CrossingSearch {
    /// Pen thickness of flat strokes, px.
    pub pen_px: f32,
    /// A column run counts as a steep stroke when it is this much longer
    /// than the pen, px.
    pub min_extra_px: f32,
    /// Widest horizontal run accepted (its ink summed, in full-ink
    /// pixels), in pens.
    pub max_width_pens: f32,
    /// Widest run (in pens) read as two touching strokes, each placed from
    /// its outer edge (needs the page image).
    pub max_merged_pens: f32,
    /// Mask level above which a pixel belongs to a horizontal run.
    pub ink_floor: u8,
}

/// The centre-line crossings of pixel rows inside the steep column runs of a
/// traced path. `runs` are `(page x, first row, last row)` of each chosen
/// run; rows within half a pen of a run's ends are not used (the stroke
/// turns there). Each row is reported once, by the column holding its
/// centroid.
pub fn row_crossings(
    mask: &GrayImage,
    image: Option<&RgbImage>,
    runs: &[(u32, u32, u32)],
    search: &CrossingSearch,
) -> Vec<RowCrossing> {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let image = image.filter(|im| im.width() as usize == w && im.height() as usize == h);
    let m = mask.as_raw();
    let pen = search.pen_px.max(1.0);
    let margin = (0.5 * pen).ceil() as u32;
    let max_width = search.max_width_pens * pen;
    let max_merged = search.max_merged_pens * pen;
    let reach = max_width.max(max_merged).ceil() as usize + 1;
    let mut out = Vec::new();
    // rows where two strokes touch: (y, darkness profile from x = start)
    let mut merged: Vec<(usize, usize, Vec<f32>)> = Vec::new();
    let mut single_widths: Vec<f32> = Vec::new();
    for &(x, y0, y1) in runs {
        let x = x as usize;
        if x >= w || ((y1 - y0 + 1) as f32) < pen + search.min_extra_px {
            continue;
        }
        for y in (y0 + margin)..=(y1.saturating_sub(margin)) {
            let y = y as usize;
            if y >= h {
                break;
            }
            let row = &m[y * w..(y + 1) * w];
            if row[x] <= search.ink_floor {
                continue;
            }
            let mut a = x;
            while a > 0 && x - a < reach && row[a - 1] > search.ink_floor {
                a -= 1;
            }
            let mut b = x;
            while b + 1 < w && b - x < reach && row[b + 1] > search.ink_floor {
                b += 1;
            }
            // the run's width in full-ink pixels
            let width = row[a..=b].iter().map(|&v| v as f32).sum::<f32>() / 255.0;
            if width <= 0.0 {
                continue;
            }
            let single = width <= max_width;
            if !single && (image.is_none() || width > max_merged) {
                continue;
            }
            let cx = match image {
                Some(im) => {
                    let Some((from, dark)) = row_darkness(im, y, a, b) else {
                        continue;
                    };
                    let sum: f32 = dark.iter().sum();
                    if !single {
                        // each wedge row once: from the column at its centre
                        let centre = dark
                            .iter()
                            .enumerate()
                            .map(|(i, d)| d * (from + i) as f32)
                            .sum::<f32>()
                            / sum.max(1e-6);
                        if centre.round() as usize == x {
                            merged.push((y, from, dark));
                        }
                        continue;
                    }
                    single_widths.push(sum);
                    dark.iter()
                        .enumerate()
                        .map(|(i, d)| d * (from + i) as f32)
                        .sum::<f32>()
                        / sum.max(1e-6)
                }
                None => {
                    let (mut sum, mut moment) = (0f32, 0f32);
                    for (i, &v) in row[a..=b].iter().enumerate() {
                        sum += v as f32;
                        moment += v as f32 * (a + i) as f32;
                    }
                    moment / sum
                }
            };
            if (cx.round() as usize) != x {
                continue;
            }
            out.push(RowCrossing { x: cx, y: y as f32 });
        }
    }
    // Where the up- and down-strokes of a narrow wave touch, each stroke
    // still owns one outer edge of the row's ink: its centre lies half a
    // pen inside that edge (the pen's width measured on this path's
    // single-stroke rows).
    if single_widths.len() >= 8 && !merged.is_empty() {
        let half = 0.5 * crate::imaging::median(&single_widths);
        for (y, from, dark) in merged {
            let Some((lo, hi)) = ink_edges(&dark) else {
                continue;
            };
            let (left, right) = (from as f32 + lo, from as f32 + hi);
            if right - left < 2.0 * half {
                continue;
            }
            out.push(RowCrossing {
                x: left + half,
                y: y as f32,
            });
            out.push(RowCrossing {
                x: right - half,
                y: y as f32,
            });
        }
    }
    out.sort_by(|p, q| p.x.total_cmp(&q.x));
    out
}

/// The darkness along one line of `len` pixels (`brightest(i)`: pixel
/// `i`'s brightest channel, so a coloured grid stays paper) across the ink
/// run `a..=b` and one pixel either side, returned with that first index:
/// 0 is the paper in the two pixels beyond each end of the run, 1 the run's
/// darkest ink, linear in the pen's coverage between. `None` when the run
/// does not stand out from the paper.
fn darkness_profile(
    len: usize,
    a: usize,
    b: usize,
    brightest: impl Fn(usize) -> f32,
) -> Option<(usize, Vec<f32>)> {
    if b >= len || a > b {
        return None;
    }
    let before = a.saturating_sub(2)..a;
    let after = (b + 1).min(len - 1)..(b + 3).min(len);
    let paper = before.chain(after).map(&brightest).fold(0.0f32, f32::max);
    let ink = (a..=b).map(&brightest).fold(255.0f32, f32::min);
    if paper - ink < 16.0 {
        return None;
    }
    let from = a.saturating_sub(1);
    let dark = (from..=(b + 1).min(len - 1))
        .map(|i| ((paper - brightest(i)) / (paper - ink)).clamp(0.0, 1.0))
        .collect();
    Some((from, dark))
}

fn brightest_channel(image: &RgbImage, x: u32, y: u32) -> f32 {
    let p = image.get_pixel(x, y).0;
    p[0].max(p[1]).max(p[2]) as f32
}

/// [`darkness_profile`] along row `y` of the page image, across the run
/// `a..=b`.
pub(crate) fn row_darkness(
    image: &RgbImage,
    y: usize,
    a: usize,
    b: usize,
) -> Option<(usize, Vec<f32>)> {
    if y >= image.height() as usize {
        return None;
    }
    darkness_profile(image.width() as usize, a, b, |x| {
        brightest_channel(image, x as u32, y as u32)
    })
}

/// [`darkness_profile`] down column `x` of the page image, across the run
/// `y0..=y1`.
fn column_darkness(image: &RgbImage, x: u32, y0: u32, y1: u32) -> Option<(u32, Vec<f32>)> {
    if x >= image.width() {
        return None;
    }
    darkness_profile(image.height() as usize, y0 as usize, y1 as usize, |y| {
        brightest_channel(image, x, y as u32)
    })
    .map(|(from, dark)| (from as u32, dark))
}

/// The sub-pixel edges of the ink in a darkness profile, as positions in
/// its own index units (pixel `i` covers `i - 0.5 .. i + 0.5`): an edge
/// inside its pixel sits where that pixel's coverage says.
fn ink_edges(dark: &[f32]) -> Option<(f32, f32)> {
    let first = dark.iter().position(|&d| d > 0.05)?;
    let last = dark.iter().rposition(|&d| d > 0.05)?;
    let mut lo = first as f32 - 0.5;
    for &d in dark[first..].iter().take_while(|&&d| d < 0.95) {
        lo += 1.0 - d;
    }
    let mut hi = last as f32 + 0.5;
    for &d in dark[..=last].iter().rev().take_while(|&&d| d < 0.95) {
        hi -= 1.0 - d;
    }
    Some((lo, hi.max(lo)))
}

/// What the page image's shading says about one column's ink run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColumnShading {
    /// The darkness-weighted centre row: a flat stroke placed to a fraction
    /// of a pixel, where a saturated mask gives whole rows.
    pub centre: Option<f32>,
    /// The ink's sub-pixel top and bottom edges.
    pub edges: Option<(f32, f32)>,
    /// The darkness summed: the pen's thickness when the run is one flat
    /// stroke.
    pub thickness: f32,
}

/// The shading of the ink run `y0..=y1` in column `x` of the page image
/// ([`column_darkness`]); `None` when the run does not stand out from the
/// paper.
pub fn column_shading(image: &RgbImage, x: u32, y0: u32, y1: u32) -> Option<ColumnShading> {
    let (from, dark) = column_darkness(image, x, y0, y1)?;
    let sum: f32 = dark.iter().sum();
    let moment: f32 = dark
        .iter()
        .enumerate()
        .map(|(i, d)| d * (from as usize + i) as f32)
        .sum();
    Some(ColumnShading {
        centre: (sum > 0.0).then(|| moment / sum),
        edges: ink_edges(&dark).map(|(lo, hi)| (from as f32 + lo, from as f32 + hi)),
        thickness: sum,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn a_columns_ink_edges_are_found_inside_their_pixels() {
        // ink from y = 20.3 to y = 31.6 (coverage-drawn), on white
        let mut im = RgbImage::from_pixel(5, 50, image::Rgb([250, 250, 250]));
        for y in 0..50u32 {
            let c = ((y as f32 + 0.5).min(31.6) - (y as f32 - 0.5).max(20.3)).clamp(0.0, 1.0);
            let v = (250.0 - 230.0 * c).round() as u8;
            im.put_pixel(2, y, image::Rgb([v, v, v]));
        }
        let shade = column_shading(&im, 2, 21, 31).expect("ink");
        let ((top, bottom), thick) = (shade.edges.expect("edges"), shade.thickness);
        assert!((top - 20.3).abs() < 0.05, "{top}");
        assert!((bottom - 31.6).abs() < 0.05, "{bottom}");
        assert!((thick - 11.3).abs() < 0.1, "{thick}");
        assert_eq!(column_shading(&im, 0, 21, 31), None);
    }

    /// A soft line of slope `s` (px per px) through `(x0, y0)`, `pen` px
    /// wide horizontally, drawn by area coverage.
    fn steep_line(w: u32, h: u32, x0: f32, y0: f32, s: f32, pen: f32) -> GrayImage {
        let mut m = GrayImage::new(w, h);
        for y in 0..h {
            let xc = x0 + (y as f32 - y0) / s;
            for x in 0..w {
                // coverage of [x-0.5, x+0.5] by [xc - pen/2, xc + pen/2]
                let lo = (x as f32 - 0.5).max(xc - 0.5 * pen);
                let hi = (x as f32 + 0.5).min(xc + 0.5 * pen);
                let c = (hi - lo).clamp(0.0, 1.0);
                m.put_pixel(x, y, Luma([(c * 255.0).round() as u8]));
            }
        }
        m
    }

    fn search() -> CrossingSearch {
        CrossingSearch {
            pen_px: 2.0,
            min_extra_px: 2.0,
            max_width_pens: 1.4,
            max_merged_pens: 0.0,
            ink_floor: 0,
        }
    }

    #[test]
    fn centroids_find_a_steep_strokes_centre_line_to_a_few_hundredths() {
        let (x0, y0, s) = (20.3, 40.0, 12.0);
        let m = steep_line(40, 80, x0, y0, s, 2.0);
        // the chosen runs: every column the stroke covers, rows 10..70
        let runs: Vec<(u32, u32, u32)> = (17..24).map(|x| (x, 10, 70)).collect();
        let got = row_crossings(&m, None, &runs, &search());
        assert!(got.len() > 40, "{} crossings", got.len());
        for c in &got {
            let want = x0 + (c.y - y0) / s;
            assert!((c.x - want).abs() < 0.03, "row {}: {} vs {want}", c.y, c.x);
        }
        // each row once
        let mut rows: Vec<i32> = got.iter().map(|c| c.y as i32).collect();
        rows.sort();
        rows.dedup();
        assert_eq!(rows.len(), got.len());
    }

    #[test]
    fn short_runs_and_merged_strokes_give_nothing() {
        // two strokes side by side (a wedge): each row's ink is two pens wide
        let mut m = steep_line(40, 60, 18.0, 30.0, 1e6, 2.0);
        let right = steep_line(40, 60, 20.0, 30.0, 1e6, 2.0);
        for (p, q) in m.pixels_mut().zip(right.pixels()) {
            p.0[0] = p.0[0].saturating_add(q.0[0]);
        }
        let runs = [(18, 5, 55), (19, 5, 55), (20, 5, 55)];
        assert!(row_crossings(&m, None, &runs, &search()).is_empty());
        // a run no longer than the pen (a flat stroke) is not steep
        let single = steep_line(40, 60, 18.0, 30.0, 1e6, 2.0);
        assert!(row_crossings(&single, None, &[(18, 29, 31)], &search()).is_empty());
    }

    #[test]
    fn a_flat_strokes_centre_comes_from_the_images_shading() {
        // a horizontal pen 2 px thick centred at y = 30.3, drawn by
        // coverage in black on white paper, on a red grid row far away
        let mut im = RgbImage::from_pixel(10, 60, image::Rgb([255, 255, 255]));
        for y in 0..60u32 {
            let lo = (y as f32 - 0.5).max(30.3 - 1.0);
            let hi = (y as f32 + 0.5).min(30.3 + 1.0);
            let c = (hi - lo).clamp(0.0, 1.0);
            let v = (255.0 * (1.0 - c)).round() as u8;
            for x in 0..10 {
                im.put_pixel(x, y, image::Rgb([v, v, v]));
            }
        }
        for x in 0..10 {
            im.put_pixel(x, 10, image::Rgb([255, 0, 0]));
        }
        let yc = column_shading(&im, 4, 29, 31)
            .and_then(|s| s.centre)
            .expect("the run stands out");
        assert!((yc - 30.3).abs() < 0.03, "{yc}");
        // plain paper has no stroke to centre
        assert_eq!(column_shading(&im, 4, 45, 47), None);
        // out of the image
        assert_eq!(column_shading(&im, 40, 29, 31), None);
    }

    #[test]
    fn image_shading_places_a_steep_stroke_that_the_mask_saturates() {
        // the image: a dark pen; the mask: the same stroke saturated (any
        // coverage over 40 % is full ink), as a classical mask reads it
        let (x0, y0, s) = (20.3, 40.0, 15.0);
        let soft = steep_line(40, 80, x0, y0, s, 2.0);
        let mut mask = soft.clone();
        for p in mask.pixels_mut() {
            p.0[0] = if p.0[0] > 100 {
                255
            } else {
                (p.0[0] as f32 * 2.5) as u8
            };
        }
        let mut im = RgbImage::new(40, 80);
        for (x, y, p) in soft.enumerate_pixels() {
            let v = 255 - p.0[0];
            im.put_pixel(x, y, image::Rgb([v, v, v]));
        }
        let runs: Vec<(u32, u32, u32)> = (17..24).map(|x| (x, 10, 70)).collect();
        let worst = |got: &[RowCrossing]| {
            got.iter()
                .map(|c| (c.x - (x0 + (c.y - y0) / s)).abs())
                .fold(0.0f32, f32::max)
        };
        // the saturated mask is thicker: its flat strokes measure 3 px
        let wide = CrossingSearch {
            pen_px: 3.0,
            ..search()
        };
        let from_image = row_crossings(&mask, Some(&im), &runs, &wide);
        let from_mask = row_crossings(&mask, None, &runs, &wide);
        assert!(
            from_image.len() > 40,
            "{} {}",
            from_image.len(),
            from_mask.len()
        );
        assert!(worst(&from_image) < 0.05, "{}", worst(&from_image));
        assert!(worst(&from_mask) > 2.0 * worst(&from_image));
    }

    #[test]
    fn touching_strokes_are_each_placed_from_their_outer_edge() {
        // a narrow spike: an up-stroke and a down-stroke 1.6 px apart at
        // the top, 2 px pens, so their ink merges in every row near the tip;
        // a separate steep stroke further right gives the pen's width
        let pen = 2.0;
        let up = |y: f32| 20.0 - (y - 10.0) / 12.0;
        let down = |y: f32| 22.0 + (y - 10.0) / 12.0;
        let mut im = RgbImage::from_pixel(60, 80, image::Rgb([255, 255, 255]));
        let mut mask = GrayImage::new(60, 80);
        for y in 0..80u32 {
            let yf = y as f32;
            for x in 0..60u32 {
                let xf = x as f32;
                let cover = |c: f32| {
                    ((xf + 0.5).min(c + 0.5 * pen) - (xf - 0.5).max(c - 0.5 * pen)).max(0.0)
                };
                let mut c = cover(40.3 + (yf - 40.0) / 20.0);
                if (10.0..60.0).contains(&yf) {
                    c += cover(up(yf)) + cover(down(yf));
                }
                let c = c.min(1.0);
                let v = (255.0 * (1.0 - c)).round() as u8;
                im.put_pixel(x, y, image::Rgb([v, v, v]));
                mask.put_pixel(x, y, Luma([if c > 0.4 { 255 } else { (c * 600.0) as u8 }]));
            }
        }
        let runs: Vec<(u32, u32, u32)> = (16..26)
            .map(|x| (x, 10, 58))
            .chain((38..43).map(|x| (x, 5, 75)))
            .collect();
        let s = CrossingSearch {
            pen_px: 3.0,
            max_merged_pens: 3.0,
            ..search()
        };
        let got = row_crossings(&mask, Some(&im), &runs, &s);
        let near = |want: f32, y: f32| got.iter().any(|c| c.y == y && (c.x - want).abs() < 0.15);
        for y in [12.0f32, 13.0, 14.0] {
            assert!(near(up(y), y), "up-stroke at row {y}: {got:?}");
            assert!(near(down(y), y), "down-stroke at row {y}: {got:?}");
        }
        // without merged reading, the wedge rows give nothing
        let none = CrossingSearch {
            max_merged_pens: 0.0,
            ..s
        };
        let plain = row_crossings(&mask, Some(&im), &runs, &none);
        assert!(!plain.iter().any(|c| c.x < 30.0 && c.y < 15.0), "{plain:?}");
    }
}
