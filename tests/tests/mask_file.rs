//! The `mask_file` stage end to end: a rotated page drawn by our renderer,
//! traced from the renderer's own lead mask (in the original image's frame,
//! so the deskew rotation must be carried over), against the same page traced
//! from an empty mask and from a mask that is not there.

use ecgdig::{Digitizer, DigitizerOptions};
use ecgdig_core::prelude::RunOptions;
use ecgdig_eval::metric::{summarize, KAGGLE_CAP};
use ecgdig_eval::score::score_folder;
use ecgdig_render::{page, render_page, synth, write, Distortions};
use image::GrayImage;
use std::path::{Path, PathBuf};

use ecgdig_stages as _;

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ecgdig-maskfile-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A rotated 150 dpi page with its truth and `<stem>_mask.png`; returns the image path.
fn rotated_page(dir: &Path) -> PathBuf {
    let record = synth::synthesize(
        &synth::SynthParams {
            name: "mf".into(),
            ..Default::default()
        },
        11,
    );
    let spec = page::PageSpec {
        dpi: 150.0,
        ..Default::default()
    };
    let distortions = Distortions {
        rotation_degrees: Some(2.5),
        ..Default::default()
    };
    let rendered = render_page(&record, &spec, &distortions, 3).unwrap();
    write::write_page(dir, 0, &record, &rendered).unwrap()
}

/// Digitizes `image` with the default pipeline whose tracer reads
/// `dir/pattern`; returns the output folder, or the page's error.
fn trace_from_file(image: &Path, pattern: &str, tag: &str) -> Result<PathBuf, String> {
    let work = temp_dir(&format!("run-{tag}"));
    let masks = image.parent().unwrap();
    let config = work.join("mask-file.toml");
    std::fs::write(
        &config,
        format!(
            r#"extends = "builtin:default"
name = "mask-file-test"

[stages.truth_mask]
type = "mask_file"
inputs = ["deskew"]
dir = "{}"
pattern = "{pattern}"
binary = true

[stages.trace]
type = "trace_viterbi"
inputs = {{ mask = "truth_mask", layout = "layout", grid = "calibrate", image = "deskew" }}
"#,
            masks.display()
        ),
    )
    .unwrap();
    let out = work.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let opts = DigitizerOptions {
        config: Some(config),
        run: RunOptions {
            out_dir: Some(out.clone()),
            ..RunOptions::default()
        },
        ..Default::default()
    };
    let d = Digitizer::new(&opts).map_err(|e| e.to_string())?;
    d.digitize_path(image).map_err(|e| e.to_string())?;
    Ok(out)
}

fn snr_db(truth: &Path, pred: &Path) -> f64 {
    let scores = score_folder(truth, pred, Some(&["mf-0".to_string()])).unwrap();
    summarize(&scores, KAGGLE_CAP).mean_db_uncapped
}

#[test]
fn the_tracer_follows_the_mask_file_through_the_deskew_rotation() {
    let pages = temp_dir("pages");
    let image = rotated_page(&pages);
    let traced = trace_from_file(&image, "{stem}_mask.png", "truth").unwrap();
    let with_truth = snr_db(&pages, &traced);

    let (w, h) = image::image_dimensions(&image).unwrap();
    GrayImage::new(w, h)
        .save(pages.join("mf-0_blank.png"))
        .unwrap();
    let blank = trace_from_file(&image, "{stem}_blank.png", "blank").unwrap();
    let with_blank = snr_db(&pages, &blank);

    eprintln!("truth mask {with_truth:.2} dB, blank mask {with_blank:.2} dB");
    assert!(
        with_truth >= 15.0,
        "traced from the renderer's own mask: {with_truth:.2} dB"
    );
    assert!(
        with_blank < with_truth - 10.0,
        "the mask file must drive the tracer: blank {with_blank:.2} dB vs truth {with_truth:.2} dB"
    );
}

#[test]
fn a_page_without_its_mask_file_fails_with_the_path() {
    let pages = temp_dir("missing");
    let image = rotated_page(&pages);
    let err = trace_from_file(&image, "{stem}_absent.png", "missing").unwrap_err();
    assert!(err.contains("mf-0_absent.png"), "{err}");
}
