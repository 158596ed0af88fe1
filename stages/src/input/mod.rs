//! Input: decoding what a file holds (one image, a multi-page TIFF, a PDF),
//! and page-by-page decoding with limits.
//!
//! [`probe`] looks at a file's first bytes and, for multi-page formats, counts
//! its pages; [`for_each_page`] then decodes one page at a time, so a batch
//! never holds more than one decoded page of a document. Single images go
//! through [`crate::input::load::decode`], which also reads the first page of a TIFF
//! or PDF.
//!
//! * [`dpi`]: resolution from PNG `pHYs`, JPEG JFIF density, TIFF tags;
//! * [`tiff_pages`]: multi-page TIFF, any page, 8/16-bit grey, RGB, CMYK, alpha;
//! * [`pdf`]: PDF pages rasterised with `hayro` (pure Rust) at a chosen dpi.

pub mod dpi;
pub mod jpeg_end;
pub mod load;
pub mod pdf;
pub mod read;
pub mod tiff_pages;

pub use read::read_file;

use ecgdig_core::prelude::*;
use image::{DynamicImage, RgbImage};

/// Container format, from the first bytes of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocKind {
    Png,
    Jpeg,
    Tiff,
    Bmp,
    Pdf,
    /// Something else (the image crate may still know it; `load` says).
    Unknown,
}

/// Guesses the format from magic bytes.
pub fn sniff(head: &[u8]) -> DocKind {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        DocKind::Png
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        DocKind::Jpeg
    } else if head.starts_with(b"II*\0")
        || head.starts_with(b"MM\0*")
        || head.starts_with(b"II+\0")
        || head.starts_with(b"MM\0+")
    {
        DocKind::Tiff
    } else if head.starts_with(b"BM") {
        DocKind::Bmp
    } else if pdf::looks_like_pdf(head) {
        DocKind::Pdf
    } else {
        DocKind::Unknown
    }
}

/// Default pixel limit of a page: an A4 or Letter page scanned at 600 dpi
/// (35 MP) fits; it bounds a worker's memory (see the README).
pub const DEFAULT_MAX_PIXELS: u64 = 40_000_000;

/// Default size limit of an input file, MB (2^20 bytes).
pub const DEFAULT_MAX_FILE_MB: u64 = 256;

/// Limits for decoding pages (taken from the `load_image` stage's config).
#[derive(Clone, Copy, Debug)]
pub struct DecodeLimits {
    /// Largest accepted page, pixels.
    pub max_pixels: u64,
    /// Resolution at which PDF pages are rasterised, dots per inch.
    pub pdf_dpi: f32,
    /// Most pages read from one document.
    pub max_pages: usize,
    /// Largest accepted input file, bytes.
    pub max_file_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_pixels: DEFAULT_MAX_PIXELS,
            pdf_dpi: 200.0,
            max_pages: 1000,
            max_file_bytes: DEFAULT_MAX_FILE_MB << 20,
        }
    }
}

/// Number of pages of a document: 1 for single images and for files this
/// module cannot open (the loader then reports why), the page count for
/// TIFF and PDF.
pub fn page_count(bytes: &[u8], limits: &DecodeLimits) -> usize {
    match sniff(bytes) {
        DocKind::Tiff => tiff_pages::count(bytes, limits).unwrap_or(1),
        DocKind::Pdf => pdf::count(bytes).unwrap_or(1),
        _ => 1,
    }
    .clamp(1, limits.max_pages.max(1))
}

/// Decodes page `index` (0-based) of a document.
pub fn decode_page(bytes: &[u8], index: usize, limits: &DecodeLimits) -> Result<PageImage> {
    match sniff(bytes) {
        DocKind::Tiff => tiff_pages::decode(bytes, index, limits),
        DocKind::Pdf => {
            let doc = pdf::open(bytes)?;
            pdf::render_page(&doc, index, limits)
        }
        _ if index == 0 => Err(Error::new(
            ErrorClass::Decode,
            "decode_page is for TIFF and PDF; use load::decode for single images",
        )),
        _ => Err(Error::new(
            ErrorClass::Decode,
            format!("page {} requested from a single-page image", index + 1),
        )),
    }
}

/// An opened document whose pages are decoded one at a time.
pub enum Document<'a> {
    /// A single image (PNG, JPEG, BMP, one-page TIFF…): decode it with
    /// [`crate::input::load::decode`].
    Single,
    /// A multi-page TIFF, kept as bytes; each page is decoded on request.
    Tiff { bytes: &'a [u8], pages: usize },
    /// A parsed PDF; each page is rasterised on request.
    Pdf {
        pdf: Box<hayro::hayro_syntax::Pdf>,
        pages: usize,
    },
}

impl std::fmt::Debug for Document<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Document::Single => f.write_str("Single"),
            Document::Tiff { pages, .. } => write!(f, "Tiff({pages} pages)"),
            Document::Pdf { pages, .. } => write!(f, "Pdf({pages} pages)"),
        }
    }
}

impl<'a> Document<'a> {
    /// Opens a document: counts the pages of a TIFF or PDF. A PDF that cannot
    /// be parsed is an error; anything else that is not TIFF/PDF is `Single`.
    pub fn open(bytes: &'a [u8], limits: &DecodeLimits) -> Result<Self> {
        match sniff(bytes) {
            DocKind::Tiff => {
                let pages = tiff_pages::count(bytes, limits).unwrap_or(1);
                Ok(if pages > 1 {
                    Document::Tiff { bytes, pages }
                } else {
                    Document::Single
                })
            }
            DocKind::Pdf => {
                let pdf = pdf::open(bytes)?;
                let pages = pdf.pages().len().min(limits.max_pages.max(1));
                if pages == 0 {
                    return Err(Error::new(ErrorClass::Decode, "the PDF has no pages"));
                }
                Ok(Document::Pdf {
                    pdf: Box::new(pdf),
                    pages,
                })
            }
            _ => Ok(Document::Single),
        }
    }

    /// Number of pages (1 for a single image).
    pub fn pages(&self) -> usize {
        match self {
            Document::Single => 1,
            Document::Tiff { pages, .. } | Document::Pdf { pages, .. } => *pages,
        }
    }

    /// True when the document has several pages (or is a PDF, which the
    /// image loader could also read, but only its first page).
    pub fn is_multi_page(&self) -> bool {
        self.pages() > 1
    }

    /// Decodes page `index` (0-based) of a TIFF or PDF.
    pub fn page(&self, index: usize, limits: &DecodeLimits) -> Result<PageImage> {
        match self {
            Document::Single => Err(Error::new(
                ErrorClass::Decode,
                "a single image has no separately decoded pages",
            )),
            Document::Tiff { bytes, .. } => tiff_pages::decode(bytes, index, limits),
            Document::Pdf { pdf, .. } => pdf::render_page(pdf, index, limits),
        }
    }
}

/// Decodes every page of a multi-page document in order, one at a time,
/// calling `f(index, page)`; a page that fails is passed as an error and the
/// next page is still tried. A PDF is parsed once for all its pages.
pub fn for_each_page(
    bytes: &[u8],
    limits: &DecodeLimits,
    mut f: impl FnMut(usize, Result<PageImage>),
) {
    match Document::open(bytes, limits) {
        Ok(Document::Single) => f(
            0,
            crate::input::load::decode(
                bytes,
                &crate::input::load::LoadImageConfig {
                    max_pixels: limits.max_pixels,
                    pdf_dpi: limits.pdf_dpi,
                    max_file_mb: limits.max_file_bytes >> 20,
                    ..Default::default()
                },
            ),
        ),
        Ok(doc) => {
            for k in 0..doc.pages() {
                f(k, doc.page(k, limits));
            }
        }
        Err(e) => f(0, Err(e)),
    }
}

/// Converts any decoded image to 8-bit RGB; transparent pixels are laid on
/// white paper (not black, which a plain channel drop would give).
pub fn to_rgb_on_white(img: DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.into_rgb8();
    }
    let rgba = img.into_rgba8();
    let (w, h) = rgba.dimensions();
    let mut out = RgbImage::new(w, h);
    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
        let a = p[3] as u32;
        for c in 0..3 {
            o[c] = ((p[c] as u32 * a + 255 * (255 - a) + 127) / 255) as u8;
        }
    }
    out
}

/// The size a file's header declares, for formats whose decoder might
/// reject a huge size with a generic error before we can classify it (BMP).
pub fn declared_size(bytes: &[u8]) -> Option<(u64, u64)> {
    match sniff(bytes) {
        DocKind::Bmp => {
            let header = u32::from_le_bytes(bytes.get(14..18)?.try_into().ok()?);
            if header < 40 {
                return None;
            }
            let w = i32::from_le_bytes(bytes.get(18..22)?.try_into().ok()?);
            let h = i32::from_le_bytes(bytes.get(22..26)?.try_into().ok()?);
            Some((w.unsigned_abs() as u64, h.unsigned_abs() as u64))
        }
        _ => None,
    }
}

/// Checks declared dimensions against the pixel limit before allocating.
pub fn check_dimensions(w: u64, h: u64, limits: &DecodeLimits) -> Result<()> {
    if w == 0 || h == 0 {
        return Err(Error::new(
            ErrorClass::Decode,
            format!("image declares an empty size ({w}x{h})"),
        ));
    }
    if w.saturating_mul(h) > limits.max_pixels {
        return Err(Error::new(
            ErrorClass::TooLarge,
            format!(
                "image is {w}x{h} pixels, above the limit of {} pixels",
                limits.max_pixels
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magic_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nxxxx"), DocKind::Png);
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), DocKind::Jpeg);
        assert_eq!(sniff(b"II*\0...."), DocKind::Tiff);
        assert_eq!(sniff(b"MM\0*...."), DocKind::Tiff);
        assert_eq!(sniff(b"%PDF-1.7\n"), DocKind::Pdf);
        assert_eq!(sniff(b"BM......"), DocKind::Bmp);
        assert_eq!(sniff(b"hello"), DocKind::Unknown);
        assert_eq!(sniff(b""), DocKind::Unknown);
    }

    #[test]
    fn alpha_is_laid_on_white() {
        let mut img = image::RgbaImage::new(2, 1);
        img.put_pixel(0, 0, image::Rgba([0, 0, 0, 0]));
        img.put_pixel(1, 0, image::Rgba([10, 20, 30, 255]));
        let rgb = to_rgb_on_white(DynamicImage::ImageRgba8(img));
        assert_eq!(rgb.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(rgb.get_pixel(1, 0).0, [10, 20, 30]);
    }

    #[test]
    fn single_images_have_one_page() {
        assert_eq!(page_count(b"not an image", &DecodeLimits::default()), 1);
        let lim = DecodeLimits::default();
        assert!(matches!(Document::open(b"xx", &lim), Ok(Document::Single)));
    }

    #[test]
    fn documents_decode_page_by_page() {
        let lim = DecodeLimits {
            pdf_dpi: 72.0,
            ..DecodeLimits::default()
        };
        let bytes = pdf::sample_pdf(3, 100.0, 50.0);
        let doc = Document::open(&bytes, &lim).unwrap();
        assert_eq!(doc.pages(), 3);
        let mut seen = Vec::new();
        for_each_page(&bytes, &lim, |k, p| seen.push((k, p.unwrap().width())));
        assert_eq!(seen, vec![(0, 100), (1, 100), (2, 100)]);
        let tif = tiff_pages::tests::multipage(&[1, 2], 40, 30);
        let doc = Document::open(&tif, &lim).unwrap();
        assert_eq!(doc.pages(), 2);
        assert_eq!(doc.page(1, &lim).unwrap().height(), 30);
    }
}
