//! `mask_file`: reads each page's trace mask from a file instead of
//! computing it, so any external segmenter (an nnU-Net, a Python model, a
//! hand-painted mask) can feed ecgdig's layout, tracing and conversion
//! stages. It is also how an oracle study runs: masks drawn from a
//! generator's truth show how far a perfect segmenter would go
//! (`scripts/oracle-mask-bound.sh`).
//!
//! Input: `image` (usually the deskewed page). Output: `mask`, the same
//! artifact as `classical_segment` writes (0 = no ink, 255 = certainly ink),
//! in the input image's frame.
//!
//! The file for a page is `dir/pattern`, where `{stem}` in `pattern` is the
//! page's output stem (`A0001-0` for `A0001-0.png`). It is a greyscale (or
//! colour, read as luma) image **of the original input's size**, 0 where
//! there is no ink. The stage carries it through the page's recorded
//! geometry ([`PageImage::to_original`]: the deskew rotation, a dewarp's
//! mesh) with bilinear sampling, so it lines up with the image the
//! downstream stages see. Grey levels are ink strength; `binary = true`
//! reads any non-zero value as full ink (label maps that store the trace
//! as 1).
//!
//! A missing, unreadable or wrongly sized mask is that page's error; the
//! batch goes on.
//!
//! ```
//! # let toml = r#"
//! [stages.segment]
//! type = "mask_file"
//! inputs = ["deskew"]
//! dir = "masks"
//! pattern = "{stem}_mask.png"
//! binary = false
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use ecgdig_core::prelude::*;
use image::{GrayImage, Luma};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaskFileConfig {
    /// Folder of the mask files, relative to the config file's folder.
    pub dir: String,
    /// File name of a page's mask; `{stem}` is replaced by the page's stem.
    pub pattern: String,
    /// Read any non-zero value as full ink (label maps storing 1 for trace).
    pub binary: bool,
}

impl Default for MaskFileConfig {
    fn default() -> Self {
        Self {
            dir: "masks".into(),
            pattern: "{stem}.png".into(),
            binary: false,
        }
    }
}

register_stage!(MaskFileConfig, "mask_file",
    summary = "Trace mask read from a file per page (an external segmenter's output, or an oracle), mapped into the page's frame.",
    params = [
        ("dir", "folder of the mask files, relative to the config file's folder"),
        ("pattern", "file name of a page's mask; {stem} is the page's output stem"),
        ("binary", "read any non-zero value as full ink (label maps that store 1)"),
    ],
    example = "[stages.segment]\ntype = \"mask_file\"\ninputs = [\"deskew\"]\ndir = \"masks\"\n");

#[typetag::serde(name = "mask_file")]
impl StageConfig for MaskFileConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("image", ArtifactKind::Image)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("mask", ArtifactKind::Mask)]
    }
    fn build(&self, ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if !self.pattern.contains("{stem}") {
            return Err(Error::stage(format!(
                "mask_file: pattern {:?} must contain {{stem}}, or every page would read the same mask",
                self.pattern
            )));
        }
        let dir = ctx.resolve_path(Path::new(&self.dir));
        if !dir.is_dir() {
            return Err(Error::new(
                ErrorClass::Io,
                format!(
                    "mask_file: mask folder {} does not exist (set `dir`, relative to the config's folder)",
                    dir.display()
                ),
            ));
        }
        Ok(Box::new(MaskFile {
            dir,
            pattern: self.pattern.clone(),
            binary: self.binary,
        }))
    }
}

struct MaskFile {
    dir: PathBuf,
    pattern: String,
    binary: bool,
}

impl Stage for MaskFile {
    fn run(&self, inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
        let page = inputs.image("image")?;
        let path = self.dir.join(self.pattern.replace("{stem}", &ctx.stem));
        let file = image::open(&path)
            .map_err(|e| Error::cannot_read(&path, e).context("mask_file"))?
            .to_luma8();
        if let InputSource::Path(original) = &ctx.input {
            if let Ok((w, h)) = image::image_dimensions(original) {
                if (w, h) != file.dimensions() {
                    return Err(Error::stage(format!(
                        "mask_file: {} is {}x{} but the input image is {w}x{h}; a mask must have the original image's size",
                        path.display(),
                        file.width(),
                        file.height()
                    )));
                }
            }
        }
        let ink = if self.binary { binarize(file) } else { file };
        Ok(StageOutputs::one(TraceMask::new(to_page_frame(
            &ink, &page,
        ))))
    }
}

fn binarize(mut m: GrayImage) -> GrayImage {
    for p in m.pixels_mut() {
        if p[0] > 0 {
            p[0] = 255;
        }
    }
    m
}

/// The mask (in the original input's frame) resampled into `page`'s frame
/// through its recorded transform, bilinearly; outside the mask is no ink.
pub fn to_page_frame(mask: &GrayImage, page: &PageImage) -> GrayImage {
    let (w, h) = (page.width(), page.height());
    if page.transform == PageTransform::identity()
        && page.warp.is_none()
        && mask.dimensions() == (w, h)
    {
        return mask.clone();
    }
    let (mw, mh) = (mask.width() as i64, mask.height() as i64);
    let at = |x: i64, y: i64| -> f32 {
        if x < 0 || y < 0 || x >= mw || y >= mh {
            0.0
        } else {
            mask.get_pixel(x as u32, y as u32)[0] as f32
        }
    };
    let mut out = GrayImage::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let (u, v) = page.to_original(x as f64, y as f64);
            let (u0, v0) = (u.floor(), v.floor());
            let (fu, fv) = ((u - u0) as f32, (v - v0) as f32);
            let (iu, iv) = (u0 as i64, v0 as i64);
            let top = at(iu, iv) * (1.0 - fu) + at(iu + 1, iv) * fu;
            let bottom = at(iu, iv + 1) * (1.0 - fu) + at(iu + 1, iv + 1) * fu;
            let value = top * (1.0 - fv) + bottom * fv;
            out.put_pixel(x, y, Luma([value.round().clamp(0.0, 255.0) as u8]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::rotate_rgb;
    use image::RgbImage;
    use std::sync::Arc;

    fn options() -> Arc<RunOptions> {
        Arc::new(RunOptions::default())
    }

    fn horizontal_line_mask(w: u32, h: u32, y: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |_, yy| Luma([if yy == y { 255 } else { 0 }]))
    }

    #[test]
    fn identity_page_takes_the_mask_as_is() {
        let mask = horizontal_line_mask(40, 30, 12);
        let page = PageImage::new(RgbImage::new(40, 30));
        assert_eq!(to_page_frame(&mask, &page), mask);
    }

    #[test]
    fn rotated_page_gets_the_mask_rotated_with_it() {
        // a dark line drawn along the mask's line, then the page rotated as
        // deskew would: the warped mask must sit on the rotated line
        let (w, h, y) = (200, 120, 60);
        let rgb = RgbImage::from_fn(w, h, |_, yy| {
            image::Rgb(if yy == y { [0, 0, 0] } else { [255; 3] })
        });
        let (rotated, to_original) = rotate_rgb(&rgb, 3.0, [255, 255, 255]);
        let mut page = PageImage::new(rotated);
        page.transform = PageTransform { to_original };
        let warped = to_page_frame(&horizontal_line_mask(w, h, y), &page);
        let (mut agree, mut mask_ink) = (0, 0);
        for (x, yy, p) in warped.enumerate_pixels() {
            if p[0] > 128 {
                mask_ink += 1;
                if page.rgb.get_pixel(x, yy)[0] < 128 {
                    agree += 1;
                }
            }
        }
        assert!(mask_ink > 150, "the line survives the warp ({mask_ink} px)");
        assert!(
            agree as f32 >= 0.9 * mask_ink as f32,
            "warped mask on the rotated ink: {agree} of {mask_ink}"
        );
    }

    fn stage(dir: &Path, binary: bool) -> Box<dyn Stage> {
        let cfg = MaskFileConfig {
            dir: dir.to_string_lossy().into(),
            pattern: "{stem}_m.png".into(),
            binary,
        };
        cfg.build(&BuildContext { config_dir: None }).unwrap()
    }

    fn run_on(stage: &dyn Stage, stem: &str, page: PageImage) -> Result<GrayImage> {
        let inputs = StageInputs::new().with("image", page);
        let ctx = RunContext::new(
            InputSource::Image(Arc::new(PageImage::new(RgbImage::new(1, 1)))),
            stem,
            options(),
        );
        match stage.run(&inputs, &ctx)?.get("") {
            Some(Artifact::Mask(m)) => Ok(m.mask.clone()),
            other => panic!("mask_file wrote {other:?}, not a mask"),
        }
    }

    #[test]
    fn reads_the_pages_file_and_binarizes_label_maps() {
        let dir = tempfile::tempdir().unwrap();
        let labels = GrayImage::from_fn(20, 10, |x, _| Luma([u8::from(x == 5)]));
        labels.save(dir.path().join("p1_m.png")).unwrap();
        let page = || PageImage::new(RgbImage::new(20, 10));
        let grey = run_on(stage(dir.path(), false).as_ref(), "p1", page()).unwrap();
        assert_eq!(grey.get_pixel(5, 3)[0], 1, "grey levels are kept");
        let bin = run_on(stage(dir.path(), true).as_ref(), "p1", page()).unwrap();
        assert_eq!(bin.get_pixel(5, 3)[0], 255);
        assert_eq!(bin.get_pixel(6, 3)[0], 0);
    }

    #[test]
    fn a_missing_mask_is_that_pages_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = run_on(
            stage(dir.path(), false).as_ref(),
            "absent",
            PageImage::new(RgbImage::new(8, 8)),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("absent_m.png"), "{text}");
    }

    #[test]
    fn a_mask_of_the_wrong_size_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let original = dir.path().join("page.png");
        RgbImage::new(30, 20).save(&original).unwrap();
        GrayImage::new(10, 10)
            .save(dir.path().join("page_m.png"))
            .unwrap();
        let inputs = StageInputs::new().with("image", PageImage::new(RgbImage::new(30, 20)));
        let ctx = RunContext::new(InputSource::Path(original), "page", options());
        let err = match stage(dir.path(), false).run(&inputs, &ctx) {
            Ok(_) => panic!("a 10x10 mask for a 30x20 page was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("10x10") && err.contains("30x20"), "{err}");
    }

    #[test]
    fn config_errors_say_what_to_fix() {
        let build_error = |cfg: MaskFileConfig| -> String {
            cfg.build(&BuildContext { config_dir: None })
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let e = build_error(MaskFileConfig {
            pattern: "mask.png".into(),
            ..Default::default()
        });
        assert!(e.contains("{stem}"), "{e}");
        let e = build_error(MaskFileConfig {
            dir: "/nonexistent/ecgdig-masks".into(),
            ..Default::default()
        });
        assert!(e.contains("does not exist"), "{e}");
    }
}
