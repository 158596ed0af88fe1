//! `dewarp`: rectifies a photographed printout (perspective, paper curl,
//! uneven light) into a flat, axis-aligned page.
//!
//! Input: `image`. Output: `image`, the sheet resampled once (bilinear) into
//! a rectangle about as large as the sheet was in the photo;
//! [`PageImage::transform`] records the fitted homography (its projective
//! part), and [`PageImage::warp`] the whole map (curl and grid lattice
//! included) as the mesh the photo was resampled through, with the sheet's
//! corners and the lattice fit for reports ([`PageImage::to_original`]).
//!
//! * **Sheet** ([`super::sheet`]): on a downscaled max-channel image, the paper is the bright
//!   class of an Otsu split and the desk the dark one. Scanning every column
//!   from the top and the bottom, and every row from the left and the right,
//!   the first crossing from desk into paper (sub-pixel, by interpolation)
//!   gives points on the four sheet edges. The level crossed is the scan
//!   line's own (halfway between its desk and its paper, where that is below
//!   the page-wide split: light falls off across a photo), and where a shaded
//!   margin stays under it well past the edge, the steepest rise before the
//!   crossing is the edge. Each edge is a robust cubic (`y(x)` for top and
//!   bottom, `x(y)` for left and right), refitted between its corners; a
//!   sheet is only taken when at least 70 % of the scan lines between each
//!   pair of corners meet paper on the fitted edge (crossings scattered over
//!   a stained scan are no sheet).
//! * **Warp**: a homography takes the unit square to the four corners; the
//!   edges' departures from that homography's straight sides (the curl) are
//!   blended across the page as a Coons patch. The map is evaluated on an
//!   8 px mesh and interpolated in between.
//! * **Flat pages pass through**: when the border of the image is paper (a
//!   scan, or a photo cropped to the sheet), or the sheet's edges are
//!   straight and form a parallelogram within `flat_tolerance_px` (or a
//!   thousandth of the image's long side, if more), the input
//!   is returned as it is (a rotation is left to `deskew`).
//! * **Grid lattice** (`lattice_warp`, [`super::lattice_warp`]): the curl
//!   also foreshortens the page unevenly *inside* the edges; a first
//!   half-size rectification is measured for the printed grid's major lines,
//!   and a smooth map that makes them straight and evenly spaced is folded
//!   into the sheet map before the one full-size resample.
//! * **Light** (`flatten_light`): the paper tone per channel (a high
//!   percentile per block, smoothed) is divided out, so a shadow band or a
//!   colour cast leaves one paper tone; it is measured on the half-size
//!   copy the lattice is measured on ([`super::light`]).
//!
//! Not handled yet: photos cropped inside the sheet (they
//! pass through), and pages upside down (`deskew` turns pages on their side
//! only; a 180-degree check from the calibration pulses' side is to come).
//!
//! ```
//! # let toml = r#"
//! [stages.dewarp]
//! type = "dewarp"
//! inputs = ["load"]
//! analysis_size_px = 640
//! flat_tolerance_px = 0.5
//! flatten_light = true
//! lattice_warp = true
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use super::lattice_warp;
use super::light::{flatten_light, flatten_light_from_half};
#[cfg(test)]
use super::sheet::apply_h;
pub use super::sheet::{find_sheet, square_to_quad, Poly, Sheet};
use ecgdig_core::prelude::*;
#[cfg(test)]
use image::RgbImage;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DewarpConfig {
    /// Longest side of the image the sheet is looked for on, pixels.
    pub analysis_size_px: u32,
    /// A sheet whose edges are straight and parallel within this many pixels
    /// is left as it is.
    pub flat_tolerance_px: f32,
    /// Divide out uneven illumination after rectifying.
    pub flatten_light: bool,
    /// Smallest part of the image the sheet must cover (0..1).
    pub min_sheet_fraction: f32,
    /// Straighten and even out the printed grid inside the sheet.
    pub lattice_warp: bool,
}

impl Default for DewarpConfig {
    fn default() -> Self {
        Self {
            analysis_size_px: 640,
            flat_tolerance_px: 0.5,
            flatten_light: true,
            min_sheet_fraction: 0.25,
            lattice_warp: true,
        }
    }
}

#[typetag::serde(name = "dewarp")]
impl StageConfig for DewarpConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("image", ArtifactKind::Image)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("image", ArtifactKind::Image)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if self.analysis_size_px < 64 {
            return Err(Error::stage("dewarp: analysis_size_px must be at least 64"));
        }
        if !(0.0..1.0).contains(&self.min_sheet_fraction) {
            return Err(Error::stage("dewarp: min_sheet_fraction must be in 0..1"));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    DewarpConfig,
    "dewarp",
    summary = "Rectifies a photographed sheet (perspective, curl) and flattens its light; flat pages pass through.",
    params = [
        (
            "analysis_size_px",
            "longest side of the downscaled image the sheet is found on"
        ),
        (
            "flat_tolerance_px",
            "a sheet straight and parallel within this many pixels is left as it is"
        ),
        (
            "flatten_light",
            "divide out uneven illumination and colour cast after rectifying"
        ),
        (
            "min_sheet_fraction",
            "smallest part of the image the sheet must cover"
        ),
        (
            "lattice_warp",
            "straighten and even out the printed grid inside the sheet (the curl's foreshortening)"
        ),
    ],
    example = "[stages.dewarp]\ntype = \"dewarp\"\ninputs = [\"load\"]\n"
);

impl Stage for DewarpConfig {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let page = inputs.image("image")?;
        let Some(sheet) = find_sheet(&page.rgb, self.analysis_size_px, self.min_sheet_fraction)
        else {
            return Ok(StageOutputs::one(page));
        };
        // a flat scan turned a little on a dark ground is the deskew's; its
        // edges wander by a pixel or two on a large page
        let long = page.width().max(page.height()) as f32;
        if sheet.is_flat(self.flat_tolerance_px.max(FLAT_SHARE * long)) {
            return Ok(StageOutputs::one(page));
        }
        let half = self
            .lattice_warp
            .then(|| sheet.rectify_with(&page.rgb, 2, None).0);
        let lattice = half.as_ref().and_then(|h| lattice_warp::measure(h, 2.0));
        let (mut rgb, to_input, mesh) = sheet.rectify_meshed(&page.rgb, 1, lattice.as_ref());
        if self.flatten_light {
            match &half {
                Some(h) => flatten_light_from_half(&mut rgb, h),
                None => flatten_light(&mut rgb),
            }
        }
        let t = PageTransform {
            to_original: to_input,
        };
        let (mesh, corners) = if page.warp.is_none() && page.transform == PageTransform::identity()
        {
            (mesh, sheet.corners.map(|(x, y)| [x, y]))
        } else {
            (
                mesh.map_nodes(|x, y| page.to_original(x, y)),
                sheet.corners.map(|(x, y)| {
                    let (u, v) = page.to_original(x, y);
                    [u, v]
                }),
            )
        };
        let rectification = Rectification {
            corners,
            lattice: lattice.as_ref().map(|l| LatticeFit {
                residual_mm: l.residual_mm,
                correction_mm: l.correction_mm,
            }),
            mesh,
        };
        Ok(StageOutputs::one(PageImage {
            rgb,
            dpi: page.dpi,
            transform: t.then(&page.transform),
            warp: Some(PageWarp::new(rectification)),
        }))
    }
}

/// Edges within this share of the image's long side of a straight
/// parallelogram are flat, whatever `flat_tolerance_px` says.
const FLAT_SHARE: f32 = 0.001;

#[cfg(test)]
#[path = "dewarp_map_tests.rs"]
mod map_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// The stage's output image for `page` with the default settings.
    fn dewarped(page: &RgbImage) -> PageImage {
        let inputs = StageInputs::new().with("image", PageImage::new(page.clone()));
        let ctx = RunContext::new(
            InputSource::Image(std::sync::Arc::new(PageImage::new(page.clone()))),
            "t",
            Default::default(),
        );
        let out = DewarpConfig::default().run(&inputs, &ctx).unwrap();
        match out.get("") {
            Some(Artifact::Image(img)) => (**img).clone(),
            _ => panic!("no image"),
        }
    }

    /// A grid page: red lines every 10 px, darker every 50, three trace rows.
    pub(super) fn lattice(w: u32, h: u32) -> RgbImage {
        let mut img = RgbImage::from_pixel(w, h, Rgb([252, 248, 246]));
        for y in 0..h {
            for x in 0..w {
                if x % 50 == 0 || y % 50 == 0 {
                    img.put_pixel(x, y, Rgb([235, 60, 60]));
                } else if x % 10 == 0 || y % 10 == 0 {
                    img.put_pixel(x, y, Rgb([250, 200, 200]));
                }
            }
        }
        for row in 1..4 {
            let base = (row * h / 4) as f32;
            for x in 40..w - 40 {
                let y = base + 8.0 * ((x as f32) * 0.07).sin();
                img.put_pixel(x, y as u32, Rgb([30, 30, 30]));
                img.put_pixel(x, y as u32 + 1, Rgb([30, 30, 30]));
            }
        }
        img
    }

    /// Photographs `page` on a desk: page point (s, t) in 0..1 goes to
    /// H(s, t) plus a vertical bow `bow(x)`. Returns the photo and the
    /// inverse map (photo pixel -> page pixel).
    #[allow(clippy::type_complexity)]
    pub(super) fn photograph(
        page: &RgbImage,
        quad: [(f64, f64); 4],
        amp: f64,
        size: (u32, u32),
    ) -> (RgbImage, Box<dyn Fn(f64, f64) -> (f64, f64)>) {
        let hm = square_to_quad(&quad);
        let inv = invert(&hm);
        let (pw, ph) = (page.width() as f64, page.height() as f64);
        let (xc, half) = ((quad[0].0 + quad[1].0) / 2.0, (quad[1].0 - quad[0].0) / 2.0);
        let back = move |x: f64, y: f64| -> (f64, f64) {
            let bow = amp * (1.0 - ((x - xc) / half).powi(2));
            let (s, t) = apply_h(&inv, x, y - bow);
            (s * pw, t * ph)
        };
        let mut img = RgbImage::from_pixel(size.0, size.1, Rgb([90, 120, 100]));
        for y in 0..size.1 {
            for x in 0..size.0 {
                let (u, v) = back(x as f64, y as f64);
                if u >= 0.0 && v >= 0.0 && u < pw - 1.0 && v < ph - 1.0 {
                    // bilinear
                    let (x0, y0) = (u as u32, v as u32);
                    let (ax, ay) = (u - x0 as f64, v - y0 as f64);
                    let mut c = [0u8; 3];
                    for (k, ck) in c.iter_mut().enumerate() {
                        let p = |xx: u32, yy: u32| page.get_pixel(xx, yy)[k] as f64;
                        let top = p(x0, y0) * (1.0 - ax) + p(x0 + 1, y0) * ax;
                        let bot = p(x0, y0 + 1) * (1.0 - ax) + p(x0 + 1, y0 + 1) * ax;
                        *ck = (top + (bot - top) * ay).round() as u8;
                    }
                    img.put_pixel(x, y, Rgb(c));
                }
            }
        }
        (img, Box::new(back))
    }

    fn invert(m: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
        let [[a, b, c], [d, e, f], [g, h, i]] = *m;
        let det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
        [
            [
                (e * i - f * h) / det,
                (c * h - b * i) / det,
                (b * f - c * e) / det,
            ],
            [
                (f * g - d * i) / det,
                (a * i - c * g) / det,
                (c * d - a * f) / det,
            ],
            [
                (d * h - e * g) / det,
                (b * g - a * h) / det,
                (a * e - b * d) / det,
            ],
        ]
    }

    #[test]
    fn recovers_a_homography_and_a_curl() {
        let page = lattice(800, 600);
        let quad = [(130.0, 95.0), (860.0, 120.0), (890.0, 700.0), (95.0, 660.0)];
        let (photo, back) = photograph(&page, quad, 14.0, (1000, 800));
        let sheet = find_sheet(&photo, 640, 0.25).expect("sheet found");
        assert!(!sheet.is_flat(0.5));
        let hm = square_to_quad(&sheet.corners);
        // rectified (s, t) should be an axis-aligned scaling of the page
        let mut pts = Vec::new();
        for j in 1..20 {
            for i in 1..20 {
                let (s, t) = (i as f64 / 20.0, j as f64 / 20.0);
                let (x, y) = sheet.map(&hm, s, t);
                let (u, v) = back(x, y);
                pts.push((s, t, u, v));
            }
        }
        let fit_u = Poly::fit(&pts.iter().map(|p| (p.0, p.2)).collect::<Vec<_>>(), 1).unwrap();
        let fit_v = Poly::fit(&pts.iter().map(|p| (p.1, p.3)).collect::<Vec<_>>(), 1).unwrap();
        let worst = pts
            .iter()
            .map(|p| (p.2 - fit_u.at(p.0)).abs().max((p.3 - fit_v.at(p.1)).abs()))
            .fold(0.0, f64::max);
        // grid lines straight and evenly spaced within a pixel of the page
        assert!(worst < 1.0, "largest departure {worst:.2} px");
        let (u0, u1) = (fit_u.at(0.0), fit_u.at(1.0));
        assert!(u0.abs() < 3.0 && (u1 - 800.0).abs() < 3.0, "{u0} {u1}");

        // the stage's image: the lattice is upright (deskew finds no angle)
        let img = dewarped(&photo);
        let angle = crate::geometry::deskew::estimate_angle(&img.rgb, 10.0, 1400);
        assert!(angle.abs() < 0.1, "angle {angle}");
        assert_ne!(img.transform, PageTransform::identity());
    }

    /// Light falling off across the photo (the far side of the sheet darker
    /// than the near desk): one page-wide threshold would cut the dim side
    /// of the sheet off; each scan line's own levels find the whole sheet.
    #[test]
    fn a_sheet_dimmed_towards_one_side_is_found_whole() {
        let page = lattice(800, 600);
        let quad = [(130.0, 95.0), (860.0, 120.0), (890.0, 700.0), (95.0, 660.0)];
        let (mut photo, _) = photograph(&page, quad, 6.0, (1000, 800));
        for (x, _, p) in photo.enumerate_pixels_mut() {
            let f = 1.15 - 0.6 * x as f32 / 1000.0;
            for c in p.0.iter_mut() {
                *c = (*c as f32 * f).min(255.0) as u8;
            }
        }
        let sheet = find_sheet(&photo, 640, 0.25).expect("sheet found");
        for (found, truth) in sheet.corners.iter().zip(&quad) {
            let d = ((found.0 - truth.0).powi(2) + (found.1 - truth.1).powi(2)).sqrt();
            assert!(d < 6.0, "corner {found:?} is {d:.1} px from {truth:?}");
        }
    }

    #[test]
    fn a_flat_page_passes_through() {
        let page = lattice(800, 600);
        let img = dewarped(&page);
        assert_eq!(img.rgb.as_raw(), page.as_raw());
        assert_eq!(img.transform, PageTransform::identity());
    }

    #[test]
    fn a_straight_sheet_on_a_desk_is_left_to_deskew() {
        let page = lattice(800, 600);
        let quad = [
            (100.0, 100.0),
            (900.0, 100.0),
            (900.0, 700.0),
            (100.0, 700.0),
        ];
        let (photo, _) = photograph(&page, quad, 0.0, (1000, 800));
        let sheet = find_sheet(&photo, 640, 0.25).expect("sheet found");
        assert!(sheet.bow() < 1.0, "bow {}", sheet.bow());
    }

    /// A scan turned by half a degree, its edges wandering by a pixel over
    /// 1600 (the dark ground is the scanner's fill): the stage passes it on
    /// untouched, for deskew to turn.
    #[test]
    fn a_scan_turned_a_little_on_a_dark_ground_passes_through() {
        let page = lattice(1600, 1200);
        let a = 0.5f64.to_radians();
        let (c, s) = (a.cos(), a.sin());
        let corner = |x: f64, y: f64| (860.0 + c * x - s * y, 650.0 + s * x + c * y);
        let quad = [
            corner(-800.0, -600.0),
            corner(800.0, -600.0),
            corner(800.0, 600.0),
            corner(-800.0, 600.0),
        ];
        let (photo, _) = photograph(&page, quad, 1.2, (1720, 1300));
        let sheet = find_sheet(&photo, 640, 0.25).expect("sheet found");
        assert!(!sheet.is_flat(DewarpConfig::default().flat_tolerance_px));
        let img = dewarped(&photo);
        assert_eq!(img.rgb.as_raw(), photo.as_raw());
    }
}
