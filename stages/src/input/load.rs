//! `load_image`: decodes the page to process.
//!
//! Inputs: none (reads the pipeline's input: a file, or an image handed over
//! in memory). Output: `image`, 8-bit RGB with the resolution from the file's
//! metadata when it has one (PNG `pHYs`, JPEG JFIF density, BMP, TIFF tags;
//! see [`crate::input::dpi`]).
//!
//! Formats: PNG, JPEG (including CMYK), TIFF and BMP, 8 or 16 bits, grey or
//! colour, with or without alpha (transparent pixels are laid on white); the
//! first page of a TIFF; the first page of a PDF, rasterised at `pdf_dpi`.
//! The batch runner splits multi-page TIFFs and PDFs into one input per page
//! (see [`crate::input`]) and hands them over already decoded.
//!
//! Guards against bad input: only regular files are read (a FIFO or a
//! device is refused before it is opened for reading), files above
//! `max_file_mb` are refused unread, the type and declared size are checked
//! from the first bytes before the rest is read; empty and truncated files,
//! files that are not images, images too large to decode safely (decompression bombs: the
//! declared size is checked before any pixel is allocated, and the decoder
//! runs under `image::Limits`) and images too small to hold an ECG each give a
//! clear, classified error. A JPEG cut short, which the decoder would fill
//! with grey, is refused too ([`crate::input::jpeg_end`]).
//!
//! ```
//! # let toml = r#"
//! [stages.load]
//! type = "load_image"
//! max_pixels = 40000000
//! max_file_mb = 256
//! min_side = 200
//! pdf_dpi = 200.0
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use crate::input::{self, DecodeLimits, DocKind};
use ecgdig_core::prelude::*;
use image::{ImageDecoder, ImageReader};
use serde::{Deserialize, Serialize};
use std::io::Cursor;
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoadImageConfig {
    /// Largest accepted image, in pixels (width x height).
    pub max_pixels: u64,
    /// Largest accepted input file, MB (2^20 bytes).
    pub max_file_mb: u64,
    /// Smallest accepted side, in pixels.
    pub min_side: u32,
    /// Resolution at which PDF pages are rasterised, dots per inch.
    pub pdf_dpi: f32,
}

impl LoadImageConfig {
    /// The decoding limits this config sets (also used by the batch runner
    /// when it splits multi-page documents).
    pub fn limits(&self) -> DecodeLimits {
        DecodeLimits {
            max_pixels: self.max_pixels,
            pdf_dpi: self.pdf_dpi,
            max_file_bytes: self.max_file_mb.saturating_mul(1 << 20),
            ..DecodeLimits::default()
        }
    }
}

impl Default for LoadImageConfig {
    fn default() -> Self {
        Self {
            max_pixels: input::DEFAULT_MAX_PIXELS,
            max_file_mb: input::DEFAULT_MAX_FILE_MB,
            min_side: 200,
            pdf_dpi: 200.0,
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
        if !(self.pdf_dpi.is_finite() && (20.0..=1200.0).contains(&self.pdf_dpi)) {
            return Err(Error::stage(format!(
                "pdf_dpi = {} is outside 20..=1200",
                self.pdf_dpi
            )));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    LoadImageConfig,
    "load_image",
    summary = "Decodes the input image (PNG, JPEG, TIFF, BMP, PDF page) with size limits and clear errors.",
    params = [
        (
            "max_pixels",
            "largest accepted image in pixels; larger files are refused as too large (bounds a worker's memory)"
        ),
        (
            "max_file_mb",
            "largest accepted input file in MB; larger files are refused unread"
        ),
        ("min_side", "smallest accepted width or height in pixels"),
        (
            "pdf_dpi",
            "resolution at which PDF pages are rasterised, dots per inch (20..=1200)"
        ),
    ],
    example = "[stages.load]\ntype = \"load_image\"\nmax_pixels = 40000000\nmax_file_mb = 256\n"
);

impl Stage for LoadImageConfig {
    fn run(&self, _inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
        let page = match &ctx.input {
            InputSource::Image(img) => img.clone(),
            InputSource::Path(p) => {
                let bytes = input::read_file(p, &self.limits())?;
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
///
/// PDFs are rasterised (first page); everything else goes through the
/// `image` crate, whose declared dimensions are checked against
/// `max_pixels` before any pixel is allocated.
pub fn decode(bytes: &[u8], cfg: &LoadImageConfig) -> Result<PageImage> {
    if bytes.is_empty() {
        return Err(Error::new(ErrorClass::Decode, "the file is empty"));
    }
    let limits = cfg.limits();
    input::read::check_file_size(bytes.len() as u64, &limits)?;
    if input::sniff(bytes) == DocKind::Pdf {
        let pdf = input::pdf::open(bytes)?;
        return input::pdf::render_page(&pdf, 0, &limits);
    }
    if input::sniff(bytes) == DocKind::Jpeg {
        // a cut JPEG decodes with its missing rows grey: refuse it instead
        input::jpeg_end::check_complete(bytes)
            .map_err(|e| Error::new(ErrorClass::Decode, format!("incomplete JPEG: {e}")))?;
    }
    if let Some((w, h)) = input::declared_size(bytes) {
        if w.saturating_mul(h) > limits.max_pixels {
            input::check_dimensions(w, h, &limits)?;
        }
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::new(ErrorClass::Decode, format!("cannot read image: {e}")))?;
    if reader.format().is_none() {
        return Err(Error::new(
            ErrorClass::Decode,
            "not an image file (unknown format)",
        ));
    }
    let mut img_limits = image::Limits::default();
    img_limits.max_alloc = Some(cfg.max_pixels.saturating_mul(8));
    let mut reader = reader;
    reader.limits(img_limits);
    let decoder = reader.into_decoder().map_err(|e| classify(e, cfg))?;
    let (w, h) = decoder.dimensions();
    input::check_dimensions(w as u64, h as u64, &limits)?;
    let dpi = input::dpi::file_dpi(bytes);
    let img = image::DynamicImage::from_decoder(decoder).map_err(|e| classify(e, cfg))?;
    let mut page = PageImage::new(input::to_rgb_on_white(img));
    page.dpi = dpi;
    Ok(page)
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

    fn encode(img: image::DynamicImage, fmt: image::ImageFormat) -> Vec<u8> {
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), fmt).unwrap();
        out
    }

    /// A 240x220 page: white with a dark square at (100..140, 100..140).
    fn page_rgb() -> image::RgbImage {
        image::RgbImage::from_fn(240, 220, |x, y| {
            if (100..140).contains(&x) && (100..140).contains(&y) {
                image::Rgb([20, 30, 40])
            } else {
                image::Rgb([255, 255, 255])
            }
        })
    }

    fn assert_page(p: &PageImage, what: &str) {
        assert_eq!((p.width(), p.height()), (240, 220), "{what}");
        let ink = p.rgb.get_pixel(120, 120).0;
        let paper = p.rgb.get_pixel(10, 10).0;
        assert!(ink.iter().all(|&c| c < 80), "{what}: ink {ink:?}");
        assert!(paper.iter().all(|&c| c > 230), "{what}: paper {paper:?}");
    }

    #[test]
    fn decodes_every_supported_depth_and_colour_model() {
        use image::DynamicImage as D;
        use image::ImageFormat as F;
        let rgb = D::ImageRgb8(page_rgb());
        let cfg = LoadImageConfig::default();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("png rgb8", encode(rgb.clone(), F::Png)),
            ("png grey8", encode(D::ImageLuma8(rgb.to_luma8()), F::Png)),
            (
                "png grey16",
                encode(D::ImageLuma16(rgb.to_luma16()), F::Png),
            ),
            ("png rgb16", encode(D::ImageRgb16(rgb.to_rgb16()), F::Png)),
            ("png rgba8", encode(D::ImageRgba8(rgb.to_rgba8()), F::Png)),
            (
                "png rgba16",
                encode(D::ImageRgba16(rgb.to_rgba16()), F::Png),
            ),
            (
                "png grey+alpha16",
                encode(D::ImageLumaA16(rgb.to_luma_alpha16()), F::Png),
            ),
            ("jpeg rgb", encode(rgb.clone(), F::Jpeg)),
            ("jpeg grey", encode(D::ImageLuma8(rgb.to_luma8()), F::Jpeg)),
            ("tiff rgb8", encode(rgb.clone(), F::Tiff)),
            (
                "tiff grey16",
                encode(D::ImageLuma16(rgb.to_luma16()), F::Tiff),
            ),
            (
                "tiff rgba16",
                encode(D::ImageRgba16(rgb.to_rgba16()), F::Tiff),
            ),
            ("bmp rgb", encode(rgb.clone(), F::Bmp)),
            ("bmp rgba", encode(D::ImageRgba8(rgb.to_rgba8()), F::Bmp)),
            ("bmp grey", encode(D::ImageLuma8(rgb.to_luma8()), F::Bmp)),
            ("pdf", {
                // the PDF sample draws lines, not our page: checked separately
                Vec::new()
            }),
        ];
        for (what, bytes) in cases.into_iter().filter(|(_, b)| !b.is_empty()) {
            let p = decode(&bytes, &cfg).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_page(&p, what);
        }
    }

    #[test]
    fn decodes_cmyk_jpeg() {
        let rgb = page_rgb();
        let mut cmyk = Vec::new();
        for p in rgb.pixels() {
            let [r, g, b] = p.0;
            let k = 255 - r.max(g).max(b);
            let f = |c: u8| {
                if k == 255 {
                    0
                } else {
                    ((255 - c as u32 - k as u32) * 255 / (255 - k as u32)) as u8
                }
            };
            cmyk.extend_from_slice(&[f(r), f(g), f(b), k]);
        }
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 95)
            .encode(&cmyk, 240, 220, jpeg_encoder::ColorType::Cmyk)
            .unwrap();
        let p = decode(&out, &LoadImageConfig::default()).unwrap();
        assert_page(&p, "cmyk jpeg");
    }

    #[test]
    fn transparent_pixels_become_paper() {
        let mut rgba = image::DynamicImage::ImageRgb8(page_rgb()).to_rgba8();
        for p in rgba.pixels_mut() {
            if p.0[0] > 200 {
                *p = image::Rgba([0, 0, 0, 0]); // transparent black "paper"
            }
        }
        let bytes = encode(
            image::DynamicImage::ImageRgba8(rgba),
            image::ImageFormat::Png,
        );
        assert_page(
            &decode(&bytes, &LoadImageConfig::default()).unwrap(),
            "alpha",
        );
    }

    #[test]
    fn pdf_first_page_is_rasterised_at_pdf_dpi() {
        let bytes = crate::input::pdf::sample_pdf(2, 360.0, 288.0);
        let cfg = LoadImageConfig {
            pdf_dpi: 100.0,
            ..LoadImageConfig::default()
        };
        let p = decode(&bytes, &cfg).unwrap();
        assert_eq!((p.width(), p.height()), (500, 400));
        assert_eq!(p.dpi, Some(100.0));
    }

    #[test]
    fn bmp_bombs_are_too_large_not_corrupt() {
        let mut b = encode(
            image::DynamicImage::ImageRgb8(page_rgb()),
            image::ImageFormat::Bmp,
        );
        b[18..22].copy_from_slice(&100_000i32.to_le_bytes());
        b[22..26].copy_from_slice(&(-100_000i32).to_le_bytes());
        let e = decode(&b, &LoadImageConfig::default()).unwrap_err();
        assert_eq!(e.class, ErrorClass::TooLarge, "{e}");
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
