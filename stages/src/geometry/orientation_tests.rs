//! Tests of the orientation detector: the flip maps, the decision rule, and
//! rendered pages turned, mirrored or left upright.

use super::*;
use crate::geometry::deskew::DeskewConfig;
use ecgdig_core::prelude::*;
use ecgdig_render::{page, render_page, synth, variety, Distortions};
use image::Rgb;

/// A rendered 100 dpi page of the synthetic record `seed`.
fn rendered(seed: u64, spec: page::PageSpec, distortions: &Distortions) -> RgbImage {
    let record = synth::synthesize(&synth::SynthParams::default(), seed);
    render_page(&record, &spec, distortions, seed)
        .expect("rendered page")
        .image
}

fn plain_page(seed: u64, lead_labels: bool) -> RgbImage {
    let spec = page::PageSpec {
        dpi: 100.0,
        lead_labels,
        ..Default::default()
    };
    rendered(seed, spec, &Distortions::default())
}

/// Runs the `deskew` stage (flips detected by default) on an image.
fn deskewed(rgb: &RgbImage) -> PageImage {
    let cfg = DeskewConfig::default();
    let inputs = StageInputs::new().with("image", PageImage::new(rgb.clone()));
    let ctx = RunContext::new(
        InputSource::Image(std::sync::Arc::new(PageImage::new(rgb.clone()))),
        "t",
        Default::default(),
    );
    let out = cfg.run(&inputs, &ctx).expect("deskew runs");
    let Some(Artifact::Image(img)) = out.get("") else {
        panic!("no image")
    };
    (**img).clone()
}

fn mean_abs_difference(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| x.abs_diff(y) as u64)
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

#[test]
fn undoing_a_flip_maps_each_output_pixel_to_its_input_pixel() {
    let (w, h) = (7u32, 4u32);
    let img = RgbImage::from_fn(w, h, |x, y| Rgb([x as u8 * 30, y as u8 * 60, 7]));
    for o in Orientation::ALL {
        let (out, m) = o.undo(&img);
        assert_eq!(out.dimensions(), (w, h));
        let t = PageTransform { to_original: m };
        for (x, y, p) in out.enumerate_pixels() {
            let (sx, sy) = t.apply(x as f64, y as f64);
            assert_eq!(
                *p,
                *img.get_pixel(sx as u32, sy as u32),
                "{o:?} at ({x}, {y})"
            );
        }
        // every flip is its own inverse
        assert_eq!(o.undo(&out).0, img, "{o:?}");
    }
}

#[test]
fn the_rule_keeps_upright_on_ties_and_small_margins() {
    use Orientation::*;
    assert_eq!(choose(&[0, 0, 0, 0]), Upright);
    assert_eq!(choose(&[0, 2, 0, 0]), Upright, "too few reads");
    assert_eq!(choose(&[2, 4, 0, 0]), Upright, "margin under three");
    assert_eq!(
        choose(&[4, 7, 0, 0]),
        Upright,
        "not twice the upright reads"
    );
    assert_eq!(choose(&[0, 5, 5, 0]), Upright, "two flips tie");
    assert_eq!(choose(&[0, 3, 0, 0]), Rotated180);
    assert_eq!(choose(&[3, 0, 6, 1]), MirroredLeftRight);
    assert_eq!(choose(&[1, 0, 0, 8]), MirroredTopBottom);
}

#[test]
fn turned_and_mirrored_pages_are_detected_and_restored() {
    let upright = plain_page(5, true);
    let reference = deskewed(&upright);
    assert_eq!(detect_orientation(&upright), Orientation::Upright);
    for o in [
        Orientation::Rotated180,
        Orientation::MirroredLeftRight,
        Orientation::MirroredTopBottom,
    ] {
        let (flipped, _) = o.undo(&upright);
        let votes = orientation_votes(&flipped);
        assert_eq!(detect_orientation(&flipped), o, "votes {votes:?}");
        let restored = deskewed(&flipped);
        let diff = mean_abs_difference(&restored.rgb, &reference.rgb);
        assert!(diff < 1.0, "{o:?}: mean difference {diff}");
        // the recorded map leads each output pixel back to the flipped input
        let t = restored.transform;
        let (w, h) = restored.rgb.dimensions();
        let mut agree = 0;
        for k in 0..100u32 {
            let (x, y) = ((k * 37 + 5) % w, (k * 53 + 3) % h);
            let (sx, sy) = t.apply(x as f64, y as f64);
            let src = flipped.get_pixel(sx.round() as u32, sy.round() as u32);
            let out = restored.rgb.get_pixel(x, y);
            if src.0.iter().zip(out.0).all(|(&a, b)| a.abs_diff(b) <= 30) {
                agree += 1;
            }
        }
        assert!(agree >= 95, "{o:?}: {agree} of 100 pixels");
    }
}

#[test]
fn upright_pages_are_never_flipped() {
    // plain pages and the variety renderer's printouts (other fonts, sizes,
    // positions, grids, header text, scribbles)
    let mut pages: Vec<RgbImage> = (1..=3).map(|s| plain_page(s, true)).collect();
    for seed in [11u64, 12, 13, 14] {
        let (mut spec, mut distortions) = variety::draw("orient", seed);
        spec.dpi = spec.dpi.min(120.0);
        distortions.rotation_degrees = None;
        distortions.perspective = None;
        pages.push(rendered(seed, spec, &distortions));
    }
    for (k, p) in pages.iter().enumerate() {
        let votes = orientation_votes(p);
        assert_eq!(
            detect_orientation(p),
            Orientation::Upright,
            "page {k}: {votes:?}"
        );
    }
}

#[test]
fn pages_without_labels_stay_as_they_are() {
    for seed in [2u64, 3] {
        let page = plain_page(seed, false);
        for o in Orientation::ALL {
            let (seen, _) = o.undo(&page);
            assert_eq!(detect_orientation(&seen), Orientation::Upright, "{o:?}");
            let out = deskewed(&seen);
            assert_eq!(out.transform, PageTransform::identity(), "{o:?}");
        }
    }
}
