//! The map a rectified page carries back to the photo
//! ([`PageImage::to_original`]): exact, curl and lattice included.

use super::tests::{lattice, photograph};
use super::*;
use std::sync::Arc;

/// Runs the stage on `photo` and returns its page.
fn dewarped(photo: &RgbImage, cfg: &DewarpConfig) -> Arc<PageImage> {
    let inputs = StageInputs::new().with("image", PageImage::new(photo.clone()));
    let ctx = RunContext::new(
        InputSource::Image(Arc::new(PageImage::new(photo.clone()))),
        "t",
        Default::default(),
    );
    let out = cfg.run(&inputs, &ctx).expect("dewarp runs");
    match out.get("") {
        Some(Artifact::Image(img)) => img.clone(),
        _ => panic!("no image"),
    }
}

/// Sub-pixel centres of the major (strong red) grid lines crossing a
/// profile of redness: narrow runs only, and none on a profile that runs
/// along or grazes a line.
fn line_centres(red: &[f32]) -> Vec<f64> {
    let mut out = Vec::new();
    let mut sorted = red.to_vec();
    sorted.sort_by(f32::total_cmp);
    if sorted[sorted.len() / 2] > 15.0 {
        return out;
    }
    let mut i = 0;
    while i < red.len() {
        if red[i] <= 100.0 {
            i += 1;
            continue;
        }
        let start = i;
        while i < red.len() && red[i] > 100.0 {
            i += 1;
        }
        if i - start > 5 || start < 3 || i + 3 > red.len() {
            continue;
        }
        let (mut sw, mut sx) = (0.0, 0.0);
        for (k, &r) in red.iter().enumerate().take(i + 2).skip(start - 2) {
            let w = (r as f64 - 30.0).max(0.0);
            sw += w;
            sx += w * k as f64;
        }
        out.push(sx / sw);
    }
    out
}

/// How far the page's major lines, found on the rectified image and mapped
/// into the photo by `map`, lie from where the photo has them: the photo
/// point's page coordinate is a multiple of 50 on a major line. Returns the
/// errors, in page pixels (about photo pixels here), sorted.
fn line_errors(
    img: &PageImage,
    back: &dyn Fn(f64, f64) -> (f64, f64),
    map: &dyn Fn(f64, f64) -> (f64, f64),
) -> Vec<f64> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let redness = |x: usize, y: usize| {
        let p = img.rgb.get_pixel(x as u32, y as u32);
        p[0] as f32 - p[1] as f32
    };
    let off = |v: f64| (v - 50.0 * (v / 50.0).round()).abs();
    let mut errs = Vec::new();
    for y in (15..h - 15).step_by(7) {
        let row: Vec<f32> = (0..w).map(|x| redness(x, y)).collect();
        for x in line_centres(&row).into_iter().filter(|&x| x > 15.0) {
            let (px, py) = map(x, y as f64);
            errs.push(off(back(px, py).0));
        }
    }
    for x in (15..w - 15).step_by(7) {
        let col: Vec<f32> = (0..h).map(|y| redness(x, y)).collect();
        for y in line_centres(&col).into_iter().filter(|&y| y > 15.0) {
            let (px, py) = map(x as f64, y);
            errs.push(off(back(px, py).1));
        }
    }
    errs.sort_by(f64::total_cmp);
    errs
}

#[test]
fn a_rectified_point_maps_back_onto_the_photo() {
    let page = lattice(800, 600);
    let quad = [(130.0, 95.0), (860.0, 120.0), (890.0, 700.0), (95.0, 660.0)];
    let (photo, back) = photograph(&page, quad, 14.0, (1000, 800));
    let img = dewarped(&photo, &DewarpConfig::default());
    let warp = img
        .warp
        .as_ref()
        .expect("a rectified page carries its warp");
    assert_eq!(warp.rectification.mesh.step(), 8);
    for (c, q) in warp.rectification.corners.iter().zip(&quad) {
        assert!(
            (c[0] - q.0).abs() < 6.0 && (c[1] - q.1).abs() < 6.0,
            "{c:?} {q:?}"
        );
    }

    let full = line_errors(&img, &back, &|x, y| img.to_original(x, y));
    let homography = line_errors(&img, &back, &|x, y| img.transform.apply(x, y));
    assert!(full.len() > 200, "{} line points", full.len());
    let q = |e: &[f64], f: f64| e[((e.len() - 1) as f64 * f) as usize];
    let (median, worst) = (q(&full, 0.5), q(&full, 1.0));
    assert!(
        median < 0.25 && worst < 0.5,
        "median {median:.2} worst {worst:.2} px"
    );
    // the homography alone misses the curl by several pixels
    assert!(q(&homography, 0.95) > 3.0, "{:.2}", q(&homography, 0.95));

    // the rectified pixels are the photo sampled at those points (light
    // left as it is)
    let cfg = DewarpConfig {
        flatten_light: false,
        ..DewarpConfig::default()
    };
    let img = dewarped(&photo, &cfg);
    let sample = |u: f64, v: f64| -> f64 {
        let (x0, y0) = (u.floor() as u32, v.floor() as u32);
        let (ax, ay) = (u - x0 as f64, v - y0 as f64);
        let p = |x: u32, y: u32| photo.get_pixel(x, y)[1] as f64;
        let top = p(x0, y0) * (1.0 - ax) + p(x0 + 1, y0) * ax;
        let bot = p(x0, y0 + 1) * (1.0 - ax) + p(x0 + 1, y0 + 1) * ax;
        top + (bot - top) * ay
    };
    let mut worst = 0.0f64;
    for y in (10..img.height() - 10).step_by(3) {
        for x in (10..img.width() - 10).step_by(3) {
            let (u, v) = img.to_original(x as f64, y as f64);
            let d = (sample(u, v) - img.rgb.get_pixel(x, y)[1] as f64).abs();
            worst = worst.max(d);
        }
    }
    assert!(worst <= 1.5, "largest difference {worst:.1} grey levels");
}

#[test]
fn a_later_rotation_composes_in_front_of_the_mesh() {
    let page = lattice(800, 600);
    let quad = [(130.0, 95.0), (860.0, 120.0), (890.0, 700.0), (95.0, 660.0)];
    let (photo, _) = photograph(&page, quad, 14.0, (1000, 800));
    let img = dewarped(&photo, &DewarpConfig::default());
    let (rgb, m) = crate::imaging::rotate_rgb(&img.rgb, 2.0, [255, 255, 255]);
    let t = PageTransform { to_original: m };
    let turned = img.derive(rgb, t);
    for &(x, y) in &[(100.0, 80.0), (420.5, 300.25), (700.0, 500.0)] {
        let (u, v) = t.apply(x, y);
        let want = img.to_original(u, v);
        let got = turned.to_original(x, y);
        assert!((want.0 - got.0).abs() < 1e-6 && (want.1 - got.1).abs() < 1e-6);
    }
    assert_eq!(turned.transform, t.then(&img.transform));
}

#[test]
fn a_flat_page_carries_no_warp() {
    let page = lattice(800, 600);
    let img = dewarped(&page, &DewarpConfig::default());
    assert!(img.warp.is_none());
    assert_eq!(img.to_original(12.5, 7.0), (12.5, 7.0));
}
