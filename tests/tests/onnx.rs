//! The `onnx_segment` stage against ONNX Runtime: exact numbers from a tiny
//! model with known weights, tiled over an odd-sized image.
//!
//! Needs the runtime library (`scripts/setup-onnxruntime.sh`; `scripts/test.sh`
//! runs it). Outside CI the tests skip, saying why, when it is absent; in CI
//! (`CI=true`) they fail instead, so they never silently stop running.

use ecgdig_core::prelude::*;
use ecgdig_stages::onnx_segment::{find_runtime_library, OnnxSegmentConfig};
use std::path::PathBuf;
use std::sync::Arc;

fn runtime_available() -> bool {
    match find_runtime_library() {
        Ok(_) => true,
        Err(why) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI must run the ONNX tests, but: {why}");
            }
            eprintln!("skipping ONNX test: {why}");
            false
        }
    }
}

fn tiny_model() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/tiny_segmenter.onnx")
}

fn expected(p: image::Rgb<u8>) -> u8 {
    let s: f32 = p.0.iter().map(|&c| c as f32 / 255.0).sum();
    let prob = 1.0 / (1.0 + (-(6.0 - 4.0 * s)).exp());
    (prob * 255.0).round() as u8
}

#[test]
fn tiny_model_gives_the_closed_form_probabilities_across_tiles() {
    if !runtime_available() {
        return;
    }
    let (w, h) = (150u32, 97u32);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 17 % 256) as u8,
            (y * 29 % 256) as u8,
            ((x + y) * 7 % 256) as u8,
        ])
    });
    let cfg = OnnxSegmentConfig {
        model_path: tiny_model().display().to_string(),
        tile_size_px: 64,
        overlap_px: 16,
        size_multiple: 8,
        threshold: 0.0,
        intra_threads: 1,
    };
    let stage = cfg
        .build(&BuildContext::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let page = PageImage::new(img.clone());
    let inputs = StageInputs::new().with("image", page);
    let ctx = RunContext::new(
        InputSource::Image(Arc::new(PageImage::new(img.clone()))),
        "t",
        Arc::new(RunOptions::default()),
    );
    let out = stage.run(&inputs, &ctx).unwrap_or_else(|e| panic!("{e}"));
    let Some(Artifact::Mask(mask)) = out.get("") else {
        panic!("no mask")
    };
    assert_eq!(mask.mask.dimensions(), (w, h));
    let mut worst = 0i32;
    for (x, y, p) in img.enumerate_pixels() {
        let got = mask.mask.get_pixel(x, y)[0] as i32;
        worst = worst.max((got - expected(*p) as i32).abs());
    }
    assert!(
        worst <= 1,
        "largest difference from the closed form: {worst}/255"
    );
    // the probability port carries the same map when no threshold is set
    let Some(Artifact::Mask(prob)) = out.get("probability") else {
        panic!("no probability")
    };
    assert_eq!(prob.mask, mask.mask);
}

#[test]
fn threshold_makes_a_binary_mask() {
    if !runtime_available() {
        return;
    }
    let img = image::RgbImage::from_fn(80, 40, |x, _| {
        if x < 40 {
            image::Rgb([20, 20, 20])
        } else {
            image::Rgb([250, 240, 240])
        }
    });
    let cfg = OnnxSegmentConfig {
        model_path: tiny_model().display().to_string(),
        tile_size_px: 64,
        overlap_px: 8,
        size_multiple: 1,
        threshold: 0.5,
        intra_threads: 1,
    };
    let stage = cfg
        .build(&BuildContext::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let inputs = StageInputs::new().with("image", PageImage::new(img.clone()));
    let ctx = RunContext::new(
        InputSource::Image(Arc::new(PageImage::new(img))),
        "t",
        Arc::new(RunOptions::default()),
    );
    let out = stage.run(&inputs, &ctx).unwrap_or_else(|e| panic!("{e}"));
    let Some(Artifact::Mask(mask)) = out.get("") else {
        panic!("no mask")
    };
    assert_eq!(mask.mask.get_pixel(10, 10)[0], 255, "dark ink is trace");
    assert_eq!(mask.mask.get_pixel(70, 10)[0], 0, "paper is background");
}
