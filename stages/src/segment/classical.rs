//! `classical_segment`: separates the dark trace ink from the grid and the
//! paper.
//!
//! Inputs: `image` (deskewed) and `grid` (for the mm scale). Output: `mask`,
//! a soft ink map (0 = paper or grid, 255 = certainly trace ink) of the
//! image's size.
//!
//! Per pixel, the maximum of the three channels is compared with its local
//! background (a box mean over about `background_radius_mm`): coloured grid
//! lines stay bright in the maximum channel, while the black or dark-grey
//! trace stays dark, and dividing by the local background removes shadows,
//! wrinkles and colour casts. The ratio maps linearly to ink strength between
//! `ink_ratio` (full ink) and `paper_ratio` (no ink). Areas far darker than the
//! page (scanner borders, the black corners of a rotated photo) are excluded,
//! and so is a margin around thick near-black areas: the edge of a sheet on
//! a dark scanner bed is a long dark line, not a trace ([`super::off_paper`]).
//! A grid printed as dark as the trace is removed by its geometry
//! ([`remove_lattice`], module [`super::lattice`]): straight full-height mask
//! columns are grid lines, and so are full-width rows that repeat at the
//! grid period over many periods on a page whose columns form a lattice.
//! A dotted grid as dark as the trace can be removed the same way
//! (`remove_dots = true`; [`remove_dots`], module [`super::dots`]): specks
//! whose neighbours stand one grid period away.
//! Lead labels, text and the calibration pulse are left in the mask: the layout
//! and tracing stages know where the traces are and reject them.
//!
//! ```
//! # let toml = r#"
//! [stages.segment]
//! type = "classical_segment"
//! inputs = { image = "deskew", grid = "grid" }
//! background_radius_mm = 2.0
//! ink_ratio = 0.45
//! paper_ratio = 0.72
//! low_res_paper_ratio = 0.9
//! smooth_above_px_per_mm = 5.0
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use super::dots::remove_dots;
use super::lattice::remove_lattice;
use super::off_paper::off_paper_zone;
use crate::imaging;
use ecgdig_core::prelude::*;
use image::GrayImage;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassicalSegmentConfig {
    /// Radius of the local background window, mm.
    pub background_radius_mm: f32,
    /// Pixel / background ratio at or below which a pixel is full ink.
    pub ink_ratio: f32,
    /// Ratio at or above which a pixel is paper (or grid).
    pub paper_ratio: f32,
    /// `paper_ratio` below `smooth_above_px_per_mm` (thin strokes are faint there).
    pub low_res_paper_ratio: f32,
    /// At scales above this (px per mm), a directional 3-pixel mean removes pixel noise first.
    pub smooth_above_px_per_mm: f32,
    /// Backgrounds darker than this fraction of the page's paper level are not paper.
    pub min_background_fraction: f32,
    /// Pixels at or under this fraction of the page's paper level are
    /// near-black (scanner borders, deep shadows).
    pub black_fraction: f32,
    /// Pixels whose neighbourhood is more than this fraction near-black are
    /// not ink, unless their ratio to the background is at most
    /// `crowded_ink_ratio` (a trace drawn through a deep shadow).
    pub max_black_fraction: f32,
    pub crowded_ink_ratio: f32,
    /// Near-black areas holding a square of twice this size (mm; half that
    /// deep at the image's border) are off the paper (a scanner bed, a
    /// desk): they and `off_paper_margin_mm` around them hold no ink, so a
    /// sheet's edge is not read as a row ([`super::off_paper`]). 0 = off.
    pub off_paper_core_mm: f32,
    pub off_paper_margin_mm: f32,
    /// Most of the page (fraction of pixels) that may count as ink: on a
    /// page whose grid is dark (a deep teal or grey), `paper_ratio` is
    /// lowered until no more than this is ink, so the grid stays paper.
    pub max_ink_fraction: f32,
    /// Grid lines printed as dark as the trace: a column (row) of the mask
    /// inked over at least this fraction of the page's height (width) is a
    /// grid line (a row must also be one of a chain of lines at the grid
    /// period), and is cleared wherever no stroke crosses it. 0 turns
    /// lattice removal off.
    pub lattice_min_coverage: f32,
    /// Also remove horizontal grid lines, on pages whose vertical lines form
    /// a lattice and only rows chained at the grid period over 15 mm (a
    /// flat trace along its baseline covers a row too, but never chains).
    pub lattice_rows: bool,
    /// Remove a dotted grid printed as dark as the trace: specks at most
    /// 0.6 mm across with neighbours one grid period (1 or 5 mm) away
    /// ([`super::dots`]). Off by default: it reads a dark dotted page
    /// (-2.7 to 19.2 dB on one), but the crossings of a faint line grid
    /// look the same to it, and ecg-image-kit's distorted pages lose 0.08 dB.
    pub remove_dots: bool,
}

impl Default for ClassicalSegmentConfig {
    fn default() -> Self {
        Self {
            background_radius_mm: 2.0,
            ink_ratio: 0.45,
            paper_ratio: 0.72,
            low_res_paper_ratio: 0.9,
            smooth_above_px_per_mm: 5.0,
            min_background_fraction: 0.3,
            black_fraction: 0.3,
            max_black_fraction: 0.4,
            crowded_ink_ratio: 0.3,
            off_paper_core_mm: 2.0,
            off_paper_margin_mm: 1.0,
            max_ink_fraction: 0.05,
            lattice_min_coverage: 0.4,
            lattice_rows: true,
            remove_dots: false,
        }
    }
}

#[typetag::serde(name = "classical_segment")]
impl StageConfig for ClassicalSegmentConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![
            Port::new("image", ArtifactKind::Image),
            Port::new("grid", ArtifactKind::Grid),
        ]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("mask", ArtifactKind::Mask)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if !(0.0..1.5).contains(&self.ink_ratio) || self.paper_ratio <= self.ink_ratio {
            return Err(Error::stage(
                "classical_segment: need 0 <= ink_ratio < paper_ratio",
            ));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    ClassicalSegmentConfig,
    "classical_segment",
    summary = "Soft trace-ink mask: maximum channel against its local background (grid colour and shadows removed).",
    params = [
        ("background_radius_mm", "radius of the local background window, mm"),
        (
            "ink_ratio",
            "pixel/background ratio at or below which a pixel is full ink"
        ),
        (
            "paper_ratio",
            "ratio at or above which a pixel is paper or grid (no ink)"
        ),
        (
            "low_res_paper_ratio",
            "paper_ratio used below smooth_above_px_per_mm, where thin strokes are faint"
        ),
        (
            "smooth_above_px_per_mm",
            "above this scale a directional 3-pixel mean (keeps thin lines) removes pixel noise before thresholding"
        ),
        (
            "min_background_fraction",
            "backgrounds darker than this fraction of the paper level (borders, black corners) hold no ink"
        ),
        (
            "black_fraction",
            "pixels at or under this fraction of the paper level are near-black (borders, deep shadows)"
        ),
        (
            "max_black_fraction",
            "pixels whose neighbourhood is more than this fraction near-black (borders) are not ink, unless far darker than it"
        ),
        (
            "crowded_ink_ratio",
            "in a near-black neighbourhood a pixel is ink only at most this ratio to its background (a trace through a deep shadow)"
        ),
        (
            "off_paper_core_mm",
            "near-black areas holding a square of twice this size (mm) are off the paper (scanner bed, desk) and hold no ink; 0 = off"
        ),
        (
            "off_paper_margin_mm",
            "how far around an off-paper area (its edge against the sheet) no ink is kept, mm"
        ),
        (
            "max_ink_fraction",
            "most of the page that may be ink: paper_ratio is lowered on dark-grid pages until no more is"
        ),
        (
            "lattice_min_coverage",
            "a mask column (row) inked over this fraction of the page is a grid line (rows must repeat at the grid period) and is cleared where no stroke crosses it; 0 = off"
        ),
        (
            "lattice_rows",
            "also remove horizontal grid lines: on a page whose columns form a lattice, rows chained at the grid period over 15 mm (a flat trace never chains)"
        ),
        (
            "remove_dots",
            "remove a dotted grid as dark as the trace: specks up to 0.6 mm with neighbours one grid period (1 or 5 mm) away (off by default; for printers with dotted grids)"
        ),
    ],
    example = "[stages.segment]\ntype = \"classical_segment\"\ninputs = { image = \"deskew\", grid = \"grid\" }\n"
);

impl Stage for ClassicalSegmentConfig {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let page = inputs.image("image")?;
        let grid = inputs.grid("grid")?;
        Ok(StageOutputs::one(TraceMask::new(
            self.segment(&page, &grid),
        )))
    }
}

impl ClassicalSegmentConfig {
    /// The soft ink mask of a page.
    pub fn segment(&self, page: &PageImage, grid: &GridInfo) -> GrayImage {
        let v = imaging::max_channel(&page.rgb);
        let (w, h) = (v.width() as usize, v.height() as usize);
        let ppmm = 0.5 * (grid.px_per_mm_x + grid.px_per_mm_y);
        let vs = if ppmm >= self.smooth_above_px_per_mm {
            directional_smooth(v.as_raw(), w, h)
        } else {
            v.into_raw()
        };
        let r = ((self.background_radius_mm * ppmm).round() as usize).max(2);
        let bg = imaging::box_mean(&vs, w, h, r);
        // paper level: 90th percentile of the background
        let mut hist = [0u32; 256];
        for &b in bg.iter().step_by(7) {
            hist[b as usize] += 1;
        }
        let total: u32 = hist.iter().sum();
        let mut acc = 0;
        let mut paper = 255u32;
        for (i, &c) in hist.iter().enumerate() {
            acc += c;
            if acc * 10 >= total * 9 {
                paper = i as u32;
                break;
            }
        }
        let min_bg = (paper as f32 * self.min_background_fraction).max(8.0) as u16;
        // areas crowded with near-black pixels (scanner borders, the black
        // corners of a rotated photo) hold no trace: a trace is thin
        let black = (paper as f32 * self.black_fraction) as u8;
        let dark: Vec<u8> = vs
            .iter()
            .map(|&p| if p <= black { 255 } else { 0 })
            .collect();
        let n_dark = dark.iter().filter(|&&d| d != 0).count();
        // a page without any sizeable dark area needs no crowd map
        let crowd = if n_dark * 200 > w * h {
            Some(imaging::box_mean(&dark, w, h, r))
        } else {
            None
        };
        let off_paper = match &crowd {
            Some(_) if self.off_paper_core_mm > 0.0 => Some(off_paper_zone(
                &dark,
                w,
                h,
                ((self.off_paper_core_mm * ppmm).round() as usize).max(1),
                (self.off_paper_margin_mm.max(0.0) * ppmm).round() as usize,
                // about 2.5 px per mm is fine enough for the bed
                ((ppmm / 2.5) as usize).clamp(1, 4),
            )),
            _ => None,
        };
        let max_crowd = (self.max_black_fraction.clamp(0.0, 1.0) * 255.0) as u8;
        let lo = self.ink_ratio;
        // at low resolution thin strokes lose contrast to their neighbours
        let hi = if ppmm >= self.smooth_above_px_per_mm {
            self.paper_ratio
        } else {
            self.low_res_paper_ratio.max(lo + 0.01)
        };
        // (at low resolution a thick trace and grey grid share the page's
        // darkest pixels, so the cap would eat the trace)
        let hi = if ppmm >= self.smooth_above_px_per_mm {
            cap_ink_fraction(&vs, &bg, min_bg, hi, lo, self.max_ink_fraction)
        } else {
            hi
        };
        // ink strength for every (pixel, background) pair
        let mut lut = vec![0u8; 256 * 256];
        for b in min_bg.max(1) as usize..256 {
            for p in 0..256usize {
                let ratio = p as f32 / b as f32;
                let s = (hi - ratio) / (hi - lo);
                lut[b * 256 + p] = (s.clamp(0.0, 1.0) * 255.0) as u8;
            }
        }
        let mut out = vec![0u8; w * h];
        for (i, ((o, &p), &b)) in out.iter_mut().zip(&vs).zip(&bg).enumerate() {
            *o = lut[(b as usize) << 8 | p as usize];
            if *o != 0 {
                if let Some(c) = &crowd {
                    // in a dark area only a stroke far darker than its
                    // surroundings is ink (a trace through a deep shadow,
                    // not the edge of a scanner border)
                    if c[i] > max_crowd && p as f32 > self.crowded_ink_ratio * b as f32 {
                        *o = 0;
                    }
                }
                if off_paper.as_ref().is_some_and(|z| z.contains(i % w, i / w)) {
                    *o = 0;
                }
            }
        }
        if self.lattice_min_coverage > 0.0 {
            remove_lattice(
                &mut out,
                w,
                h,
                (grid.px_per_mm_x, grid.px_per_mm_y),
                self.lattice_min_coverage,
                self.lattice_rows,
            );
        }
        if self.remove_dots {
            remove_dots(
                &mut out,
                w,
                h,
                (grid.px_per_mm_x, grid.px_per_mm_y),
                DOT_LEVEL,
            );
        }
        GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| GrayImage::new(1, 1))
    }
}

/// Mask level counted as a dot's ink: a dotted grid as dark as the trace
/// (a faint grid's crossings, weaker in the mask, are left to the tracer).
const DOT_LEVEL: u8 = 64;

/// The paper ratio that keeps at most `max_fraction` of the page's pixels
/// (on real paper, background at least `min_bg`) darker than it: `hi`
/// itself on an ordinary page, where trace and text are a few per cent,
/// lower on a page whose dark grid would otherwise count as ink. Never
/// below `lo + 0.05`.
fn cap_ink_fraction(vs: &[u8], bg: &[u8], min_bg: u16, hi: f32, lo: f32, max_fraction: f32) -> f32 {
    if !(0.0..1.0).contains(&max_fraction) {
        return hi;
    }
    // ratio histogram in hundredths, over every third pixel
    let mut hist = [0u32; 101];
    let mut total = 0u32;
    for (&p, &b) in vs.iter().zip(bg).step_by(3) {
        if (b as u16) < min_bg.max(1) {
            continue;
        }
        let r = ((p as f32 / b as f32) * 100.0).min(100.0) as usize;
        hist[r] += 1;
        total += 1;
    }
    let allowed = (max_fraction * total as f32) as u32;
    let mut acc = 0u32;
    for (i, &c) in hist.iter().enumerate() {
        acc += c;
        if acc > allowed {
            let r = i as f32 / 100.0;
            return hi.min(r).max(lo + 0.05);
        }
    }
    hi
}

/// Noise reduction that keeps thin lines of any direction: per pixel, the
/// darker of the horizontal and the vertical 3-pixel means. A thin vertical
/// stroke stays dark in its vertical mean, a thin horizontal one in its
/// horizontal mean, while isolated noise is diluted in both.
pub fn directional_smooth(src: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut out = src.to_vec();
    if w < 3 || h < 3 {
        return out;
    }
    for y in 1..h - 1 {
        let (up, row, down) = (
            &src[(y - 1) * w..y * w],
            &src[y * w..(y + 1) * w],
            &src[(y + 1) * w..(y + 2) * w],
        );
        let o = &mut out[y * w..(y + 1) * w];
        for x in 1..w - 1 {
            let hm = row[x - 1] as u16 + row[x] as u16 + row[x + 1] as u16;
            let vm = up[x] as u16 + row[x] as u16 + down[x] as u16;
            o[x] = (hm.min(vm) / 3) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    #[test]
    fn keeps_dark_trace_and_drops_red_grid_and_shadow() {
        let mut img = RgbImage::from_pixel(200, 120, Rgb([250, 245, 245]));
        for y in 0..120 {
            for x in 0..200 {
                if x % 8 == 0 || y % 8 == 0 {
                    img.put_pixel(x, y, Rgb([230, 30, 30]));
                }
                if x >= 100 {
                    // a shadow over the right half
                    let p = img.get_pixel(x, y).0;
                    img.put_pixel(x, y, Rgb(p.map(|c| c / 2)));
                }
            }
        }
        for x in 10..190 {
            let c = if x >= 100 { 20 } else { 40 };
            img.put_pixel(x, 60, Rgb([c, c, c]));
            img.put_pixel(x, 61, Rgb([c, c, c]));
        }
        let grid = GridInfo::from_dpi(100.0, ScaleSource::Assumed);
        let mask = ClassicalSegmentConfig::default().segment(&PageImage::new(img), &grid);
        assert!(mask.get_pixel(50, 60)[0] > 200);
        assert!(mask.get_pixel(150, 61)[0] > 200);
        assert_eq!(mask.get_pixel(48, 30)[0], 0, "grid line");
        assert_eq!(mask.get_pixel(150, 30)[0], 0, "shadowed paper");
    }

    #[test]
    fn a_trace_through_a_deep_shadow_is_ink_but_a_dark_borders_edge_is_not() {
        // 4 px/mm page: a deep crease shadow (a quarter of the paper's
        // brightness, 3 mm wide) over x 74..86 with the trace drawn through
        // it; a grey scanner border (the same darkness) from x = 150
        let paper = 240u8;
        let mut img = RgbImage::from_pixel(200, 120, Rgb([paper; 3]));
        for y in 0..120 {
            for x in 0..200u32 {
                if (74..86).contains(&x) || x >= 150 {
                    img.put_pixel(x, y, Rgb([60; 3]));
                }
            }
        }
        for x in 10..140 {
            let c = if (74..86).contains(&x) { 8 } else { 30 };
            img.put_pixel(x, 60, Rgb([c; 3]));
            img.put_pixel(x, 61, Rgb([c; 3]));
        }
        let grid = GridInfo::from_dpi(101.6, ScaleSource::Assumed);
        let seg = ClassicalSegmentConfig::default();
        let mask = seg.segment(&PageImage::new(img.clone()), &grid);
        assert!(mask.get_pixel(30, 60)[0] > 200, "trace on paper");
        assert!(mask.get_pixel(80, 60)[0] > 200, "trace in the shadow");
        assert_eq!(mask.get_pixel(80, 30)[0], 0, "shadowed paper");
        assert_eq!(mask.get_pixel(151, 30)[0], 0, "the border's edge");
        let strict = ClassicalSegmentConfig {
            crowded_ink_ratio: 0.0,
            ..seg
        };
        let mask = strict.segment(&PageImage::new(img), &grid);
        assert_eq!(mask.get_pixel(80, 60)[0], 0, "every dark area dropped");
    }

    #[test]
    fn a_dark_teal_grid_stays_paper_while_the_trace_is_ink() {
        // 8 px/mm page, a deep teal grid every 4 px (a quarter of the page)
        // that a fixed paper ratio would take for ink, a black trace
        let mut img = RgbImage::from_pixel(240, 160, Rgb([225, 230, 235]));
        for y in 0..160 {
            for x in 0..240 {
                if x % 4 == 0 || y % 4 == 0 {
                    img.put_pixel(x, y, Rgb([20, 85, 75]));
                }
            }
        }
        for x in 10..230 {
            for y in 80..82 {
                img.put_pixel(x, y, Rgb([12, 12, 12]));
            }
        }
        let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
        let page = PageImage::new(img);
        let capped = ClassicalSegmentConfig::default().segment(&page, &grid);
        assert!(capped.get_pixel(50, 80)[0] > 200, "trace");
        assert_eq!(capped.get_pixel(48, 30)[0], 0, "grid line");
        let uncapped = ClassicalSegmentConfig {
            max_ink_fraction: 1.0,
            lattice_min_coverage: 0.0,
            ..ClassicalSegmentConfig::default()
        }
        .segment(&page, &grid);
        assert!(
            uncapped.get_pixel(48, 30)[0] > 80,
            "without the cap the grid is ink: {} (capped {})",
            uncapped.get_pixel(48, 30)[0],
            capped.get_pixel(48, 30)[0]
        );
    }

    #[test]
    fn a_grid_as_dark_as_the_trace_is_removed_but_the_trace_kept() {
        // 8 px/mm page, grid lines every mm in the trace's own grey (no
        // colour tells them apart), a flat trace at y 83..84 and a vertical
        // stroke at x 101 from y 40 to 84
        let mut img = RgbImage::from_pixel(240, 160, Rgb([235, 235, 235]));
        for y in 0..160 {
            for x in 0..240 {
                if x % 8 == 0 || y % 8 == 0 {
                    img.put_pixel(x, y, Rgb([40, 40, 40]));
                }
            }
        }
        for x in 10..230 {
            for y in 83..85 {
                img.put_pixel(x, y, Rgb([40, 40, 40]));
            }
        }
        for y in 40..85 {
            img.put_pixel(101, y, Rgb([40, 40, 40]));
        }
        let grid = GridInfo::from_dpi(203.2, ScaleSource::Grid);
        let page = PageImage::new(img);
        let mask = ClassicalSegmentConfig::default().segment(&page, &grid);
        assert_eq!(mask.get_pixel(48, 30)[0], 0, "vertical grid line");
        assert!(mask.get_pixel(50, 83)[0] > 100, "flat trace");
        assert!(mask.get_pixel(48, 83)[0] > 100, "trace across a line");
        assert!(mask.get_pixel(101, 60)[0] > 100, "vertical stroke");
        let kept = ClassicalSegmentConfig {
            lattice_min_coverage: 0.0,
            ..ClassicalSegmentConfig::default()
        }
        .segment(&page, &grid);
        assert!(
            kept.get_pixel(48, 30)[0] > 100,
            "without removal the grid is ink"
        );
    }

    #[test]
    fn a_pulse_edge_printed_on_a_grid_line_is_kept_while_the_line_goes() {
        // 4 px/mm page, grey grid lines every 4 px; a black 10 mm pulse
        // edge stands on the line at x = 48, as ecg-image-kit draws it
        let mut img = RgbImage::from_pixel(240, 200, Rgb([235, 235, 235]));
        for y in 0..200 {
            for x in (0..240).step_by(4) {
                img.put_pixel(x, y, Rgb([150, 150, 150]));
            }
        }
        for y in 60..100 {
            img.put_pixel(48, y, Rgb([20, 20, 20]));
        }
        let grid = GridInfo::from_dpi(101.6, ScaleSource::Grid);
        let page = PageImage::new(img);
        let off = ClassicalSegmentConfig {
            lattice_min_coverage: 0.0,
            ..ClassicalSegmentConfig::default()
        }
        .segment(&page, &grid);
        assert!(off.get_pixel(52, 150)[0] >= 32, "the line is in the mask");
        let mask = ClassicalSegmentConfig::default().segment(&page, &grid);
        assert_eq!(mask.get_pixel(52, 150)[0], 0, "grid line removed");
        assert!(mask.get_pixel(48, 80)[0] > 200, "pulse edge kept");
    }
}
