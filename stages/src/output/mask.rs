//! `write_mask`: writes the trace-ink mask the layout and tracer worked on.
//!
//! Input: `mask` (from `classical_segment`, `fallback_segment`, an ONNX
//! segmenter or `mask_file`). Output: none; when the run has an output folder
//! and the `mask` format is requested (`--format mask`), writes
//! `<out>/<stem>_mask.png` atomically: an 8-bit greyscale PNG, 0 where there
//! is no ink and 255 where there certainly is, in the frame the downstream
//! stages see (the deskewed and, for photos, rectified page: the same frame
//! as the JSON's panel boxes and `--set overlay.frame=rectified`).
//!
//! What it is for: seeing why rows were missed (a dark grid left in the
//! mask, a faint trace dropped from it), comparing segmenters side by side
//! in an ablation, and producing masks an external tool can refine and feed
//! back through `mask_file`. `invert = true` writes ink black on white,
//! which is easier to look at.
//!
//! ```
//! # let toml = r#"
//! [stages.mask]
//! type = "write_mask"
//! inputs = ["segment"]
//! invert = false
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use ecgdig_core::output::write_png;
use ecgdig_core::prelude::*;
use image::GrayImage;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WriteMaskConfig {
    /// Write ink dark on a white background instead of bright on black.
    pub invert: bool,
}

#[typetag::serde(name = "write_mask")]
impl StageConfig for WriteMaskConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("mask", ArtifactKind::Mask)]
    }
    fn outputs(&self) -> Vec<Port> {
        Vec::new()
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    WriteMaskConfig,
    "write_mask",
    summary = "Writes <stem>_mask.png, the trace-ink mask the layout and tracer used, when --format mask.",
    params = [(
        "invert",
        "write ink dark on white instead of bright on black"
    )],
    example = "[stages.mask]\ntype = \"write_mask\"\ninputs = [\"segment\"]\n"
);

/// The mask as written: `invert` turns it into dark ink on white.
pub fn picture(mask: &GrayImage, invert: bool) -> GrayImage {
    let mut out = mask.clone();
    if invert {
        out.iter_mut().for_each(|v| *v = 255 - *v);
    }
    out
}

impl Stage for WriteMaskConfig {
    fn run(&self, inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
        let mask = inputs.mask("mask")?;
        if !ctx.options.wants("mask") {
            return Ok(StageOutputs::none());
        }
        let Some(path) = ctx.output_path("_mask.png") else {
            return Ok(StageOutputs::none());
        };
        let img = picture(&mask.mask, self.invert);
        write_png(&path, &img)?;
        Ok(StageOutputs::none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn inverting_turns_bright_ink_dark() {
        let mut m = GrayImage::new(3, 1);
        m.put_pixel(1, 0, Luma([200]));
        let plain = picture(&m, false);
        let inverted = picture(&m, true);
        assert_eq!(plain.as_raw(), &vec![0, 200, 0]);
        assert_eq!(inverted.as_raw(), &vec![255, 55, 255]);
    }
}
