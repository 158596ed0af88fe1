//! `deskew`: straightens a page that was scanned or photographed at a small
//! angle, and turns pages that lie on their side.
//!
//! Input: `image`. Output: `image`, rotated so that the grid and the traces
//! are horizontal; [`PageImage::transform`] records the rotation so that
//! coordinates can be mapped back to the input.
//!
//! * **Small angles** (up to `max_angle_degrees`): histogram of gradient
//!   orientations modulo 90 degrees on a downscaled grey image, weighted by
//!   gradient strength. Grid lines, trace baselines and text all vote for the
//!   page's axes; the peak is located to a fraction of a bin.
//! * **Quarter turns** (`detect_quarter_turns`): an ECG's ink is organised in
//!   long horizontal rows; when the horizontal projection of dark ink is much
//!   less structured than the vertical one, the page lies on its side and is
//!   turned by 90 degrees (the direction is chosen so that the calibration
//!   pulses, which start each row, end up on the left).
//! * **Flips** (`detect_flips`): a page turned by 180 degrees or mirrored
//!   is recognised by its printed lead names, which read well only the
//!   right way up ([`super::orientation`]), and flipped back.
//!
//! ```
//! # let toml = r#"
//! [stages.deskew]
//! type = "deskew"
//! inputs = ["load"]
//! max_angle_degrees = 10.0
//! min_angle_degrees = 0.05
//! detect_quarter_turns = true
//! detect_flips = true
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use super::orientation::{self, Orientation};
use crate::imaging;
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeskewConfig {
    /// Largest rotation searched, degrees either way.
    pub max_angle_degrees: f32,
    /// Rotations smaller than this are left alone (no resampling).
    pub min_angle_degrees: f32,
    /// Detect and undo pages turned by 90 degrees.
    pub detect_quarter_turns: bool,
    /// Detect and undo pages turned by 180 degrees or mirrored.
    pub detect_flips: bool,
    /// Longest side of the image the angle is measured on, pixels.
    pub analysis_size_px: u32,
}

impl Default for DeskewConfig {
    fn default() -> Self {
        Self {
            max_angle_degrees: 10.0,
            min_angle_degrees: 0.05,
            detect_quarter_turns: true,
            detect_flips: true,
            analysis_size_px: 1400,
        }
    }
}

#[typetag::serde(name = "deskew")]
impl StageConfig for DeskewConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("image", ArtifactKind::Image)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("image", ArtifactKind::Image)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if !(0.0..=45.0).contains(&self.max_angle_degrees) {
            return Err(Error::stage("deskew: max_angle_degrees must be in 0..=45"));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    DeskewConfig,
    "deskew",
    summary =
        "Straightens a rotated page (gradient-orientation histogram) and undoes quarter turns, 180-degree turns and mirroring.",
    params = [
        (
            "max_angle_degrees",
            "largest rotation searched, degrees either way"
        ),
        (
            "min_angle_degrees",
            "rotations smaller than this are not corrected (saves a resampling)"
        ),
        (
            "detect_quarter_turns",
            "detect pages lying on their side and turn them upright"
        ),
        (
            "detect_flips",
            "detect pages turned upside down or mirrored (from their printed lead names) and flip them back"
        ),
        (
            "analysis_size_px",
            "longest side of the downscaled image the angle is measured on"
        ),
    ],
    example = "[stages.deskew]\ntype = \"deskew\"\ninputs = [\"load\"]\nmax_angle_degrees = 10.0\n"
);

impl Stage for DeskewConfig {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let page = inputs.image("image")?;
        // each step that moves pixels replaces the page, its map composed
        let mut moved: Option<PageImage> = None;
        // a page on its side is taller than wide; landscape pages are upright
        let turns = if self.detect_quarter_turns && page.height() > page.width() {
            quarter_turns(&page.rgb)
        } else {
            0
        };
        if turns != 0 {
            let (rgb, m) = imaging::rotate_quarter(&page.rgb, turns);
            moved = Some(moved_page(&page, rgb, m));
        }
        let current = moved.as_ref().unwrap_or(&page);
        let angle = estimate_angle(&current.rgb, self.max_angle_degrees, self.analysis_size_px);
        if angle.abs() >= self.min_angle_degrees {
            let fill = paper_colour(&current.rgb);
            let (rgb, m) = imaging::rotate_rgb(&current.rgb, angle as f64, fill);
            moved = Some(moved_page(current, rgb, m));
        }
        if self.detect_flips {
            let current = moved.as_ref().unwrap_or(&page);
            let flip = orientation::detect_orientation(&current.rgb);
            if flip != Orientation::Upright {
                let (rgb, m) = flip.undo(&current.rgb);
                moved = Some(moved_page(current, rgb, m));
            }
        }
        Ok(match moved {
            Some(p) => StageOutputs::one(p),
            None => StageOutputs::one(page),
        })
    }
}

/// `from`'s pixels moved into `rgb`, where `to_from` maps `rgb`'s pixels
/// to `from`'s.
fn moved_page(from: &PageImage, rgb: image::RgbImage, to_from: [[f64; 3]; 3]) -> PageImage {
    let t = PageTransform {
        to_original: to_from,
    };
    from.derive(rgb, t)
}

/// Bright colour of the page (per-channel 90th percentile of a sparse sample),
/// used to fill the corners uncovered by a rotation.
fn paper_colour(rgb: &image::RgbImage) -> [u8; 3] {
    let mut hist = [[0u32; 256]; 3];
    let raw = rgb.as_raw();
    let mut n = 0u32;
    for p in raw.chunks_exact(3).step_by(97) {
        for k in 0..3 {
            hist[k][p[k] as usize] += 1;
        }
        n += 1;
    }
    let mut out = [255u8; 3];
    for k in 0..3 {
        let target = (n as f32 * 0.9) as u32;
        let mut acc = 0;
        for (v, &c) in hist[k].iter().enumerate() {
            acc += c;
            if acc >= target {
                out[k] = v as u8;
                break;
            }
        }
    }
    out
}

/// Every how many structure points the coarse angle scan (0.2° steps)
/// projects: a page has tens of thousands, a few thousand find the peak.
const COARSE_STRIDE: usize = 6;
/// Every how many points the fine scan (0.02° steps) projects.
const FINE_STRIDE: usize = 1;

/// Angle of the page's horizontal axis, degrees (positive: lines go down to
/// the right). Rotating by this angle with [`imaging::rotate_rgb`] levels the page.
///
/// Projection-profile sharpness: thin dark structures (grid lines, trace
/// baselines) are projected across and along each candidate angle; the
/// angle at which the projections are sharpest (largest sum of squares) is
/// the page's. A coarse scan is refined around its best angle.
pub fn estimate_angle(rgb: &image::RgbImage, max_angle: f32, analysis_size: u32) -> f32 {
    let m = imaging::min_channel(rgb);
    let (w, h) = (m.width() as usize, m.height() as usize);
    let f = ((w.max(h) as f32 / analysis_size.max(64) as f32).round() as usize).max(1);
    let (g, w, h) = imaging::downscale(m.as_raw(), w, h, f);
    if w < 16 || h < 16 {
        return 0.0;
    }
    // thin dark structure: darker than the local mean
    let bg = imaging::box_mean(&g, w, h, 3);
    let mut hist = [0u32; 256];
    for (&v, &b) in g.iter().zip(&bg) {
        hist[b.saturating_sub(v) as usize] += 1;
    }
    let total: u32 = hist.iter().sum();
    let mut acc = 0;
    let mut thr = 255usize;
    for i in (0..256).rev() {
        acc += hist[i];
        if acc * 10 >= total {
            thr = i;
            break;
        }
    }
    let thr = thr.max(6) as u8;
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let mut pts: Vec<(f32, f32, f32)> = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let d = bg[i].saturating_sub(g[i]);
            if d >= thr {
                pts.push((x as f32 - cx, y as f32 - cy, d as f32));
            }
        }
    }
    if pts.len() < 100 {
        return 0.0;
    }
    let diag = ((w * w + h * h) as f32).sqrt().ceil() as usize + 4;
    let mut py = vec![0f32; diag];
    let mut px = vec![0f32; diag];
    let off = diag as f32 / 2.0;
    let mut score = |theta: f32, stride: usize| -> f64 {
        let (s, c) = theta.to_radians().sin_cos();
        py.iter_mut().for_each(|v| *v = 0.0);
        px.iter_mut().for_each(|v| *v = 0.0);
        for &(x, y, wgt) in pts.iter().step_by(stride) {
            let u = (y * c - x * s + off) as usize;
            let v = (x * c + y * s + off) as usize;
            if u < diag {
                py[u] += wgt;
            }
            if v < diag {
                px[v] += wgt;
            }
        }
        py.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>()
            + px.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>()
    };
    let step = 0.2f32;
    let n = (max_angle / step).ceil() as i32;
    let mut best = (0.0f32, f64::MIN);
    for k in -n..=n {
        let t = k as f32 * step;
        // the coarse scan on a sixth of the points
        let sc = score(t, COARSE_STRIDE);
        if sc > best.1 {
            best = (t, sc);
        }
    }
    let fine = 0.02f32;
    let centre = best.0;
    let mut vals = Vec::new();
    for k in -10..=10 {
        let t = centre + k as f32 * fine;
        vals.push((t, score(t, FINE_STRIDE) as f32));
    }
    let (bi, _) =
        vals.iter().enumerate().fold(
            (10usize, f32::MIN),
            |b, (i, v)| if v.1 > b.1 { (i, v.1) } else { b },
        );
    let ys: Vec<f32> = vals.iter().map(|v| v.1).collect();
    let sub = imaging::parabolic_peak(&ys, bi);
    centre + (sub - 10.0) * fine
}

/// Number of clockwise quarter turns that make the page upright (0 or 1 or 3).
///
/// Works on dark ink: the rows of an ECG make the horizontal projection
/// (ink per image row) strongly modulated, while the projection on x is flat.
/// A page on its side shows the opposite.
#[allow(clippy::needless_range_loop)]
pub fn quarter_turns(rgb: &image::RgbImage) -> u32 {
    let v = imaging::max_channel(rgb);
    let (w, h) = (v.width() as usize, v.height() as usize);
    let f = (w.max(h) / 700).max(1);
    let (g, w, h) = imaging::downscale(v.as_raw(), w, h, f);
    if w < 16 || h < 16 {
        return 0;
    }
    let bg = imaging::box_mean(&g, w, h, 8);
    let mut rows = vec![0f32; h];
    let mut cols = vec![0f32; w];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if (g[i] as u32) * 2 < bg[i] as u32 && bg[i] > 60 {
                rows[y] += 1.0;
                cols[x] += 1.0;
            }
        }
    }
    let total: f32 = rows.iter().sum();
    if total < 50.0 {
        return 0;
    }
    let structure = |p: &[f32], other_len: usize| -> f32 {
        // coefficient of variation of the smoothed profile, normalised per pixel
        let s = imaging::smooth(p, 2);
        let n = s.len() as f32;
        let mean = s.iter().sum::<f32>() / n;
        let var = s.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
        let _ = other_len;
        var.sqrt() / mean.max(1e-6)
    };
    let sy = structure(&rows, w);
    let sx = structure(&cols, h);
    // a landscape ECG row structure is unmistakable: require a clear margin
    if sx > 1.6 * sy && w < h {
        // on its side: decide the direction from where the ink starts. The
        // calibration pulses and the start of each row sit at the left of an
        // upright page; after a clockwise turn that side is the top.
        let top: f32 = rows[..h / 8].iter().sum();
        let bottom: f32 = rows[h - h / 8..].iter().sum();
        if top >= bottom {
            3
        } else {
            1
        }
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    /// A synthetic grid page: red lines every 8 px, black wavy traces in rows.
    pub(crate) fn grid_page(w: u32, h: u32) -> RgbImage {
        let mut img = RgbImage::from_pixel(w, h, Rgb([255, 250, 250]));
        for y in 0..h {
            for x in 0..w {
                if x % 8 == 0 || y % 8 == 0 {
                    img.put_pixel(x, y, Rgb([240, 80, 80]));
                }
            }
        }
        for row in 1..4 {
            let base = (row * h / 4) as f32;
            for x in 20..w - 20 {
                let y = base + 6.0 * ((x as f32) * 0.05).sin();
                for dy in 0..2 {
                    img.put_pixel(x, (y as u32) + dy, Rgb([20, 20, 20]));
                }
            }
        }
        img
    }

    #[test]
    fn measures_a_known_rotation() {
        let page = grid_page(600, 400);
        assert!(estimate_angle(&page, 10.0, 1400).abs() < 0.15);
        for angle in [3.0f64, -4.5] {
            // sampling the page along lines at -angle draws its lines at +angle
            let (rot, _) = imaging::rotate_rgb(&page, -angle, [255, 250, 250]);
            let est = estimate_angle(&rot, 10.0, 1400) as f64;
            assert!((est - angle).abs() < 0.2, "angle {angle}: estimated {est}");
        }
    }

    #[test]
    fn stage_levels_a_rotated_page_and_records_the_transform() {
        let page = grid_page(600, 400);
        let (rot, _) = imaging::rotate_rgb(&page, 4.0, [255, 250, 250]);
        let cfg = DeskewConfig::default();
        let inputs = StageInputs::new().with("image", PageImage::new(rot));
        let ctx = RunContext::new(
            InputSource::Image(std::sync::Arc::new(PageImage::new(page.clone()))),
            "t",
            Default::default(),
        );
        let out = cfg.run(&inputs, &ctx).unwrap();
        let Some(Artifact::Image(img)) = out.get("") else {
            panic!("no image")
        };
        assert!(estimate_angle(&img.rgb, 10.0, 1400).abs() < 0.15);
        assert_ne!(img.transform, PageTransform::identity());
    }

    #[test]
    fn detects_a_page_on_its_side() {
        let page = grid_page(600, 400);
        assert_eq!(quarter_turns(&page), 0);
        let side = image::imageops::rotate90(&page);
        let t = quarter_turns(&side);
        assert!(t == 1 || t == 3, "got {t}");
    }
}
