//! PDF pages, rasterised with `hayro` (pure Rust, no system libraries).
//!
//! Each page is rendered on white at `pdf_dpi` (default 200) and handed on
//! as an RGB page whose `dpi` is that resolution. A page whose rendering
//! would exceed `max_pixels` (or the rasteriser's 65535-pixel side) is
//! refused as too large before anything is allocated. Encrypted PDFs are
//! refused with a clear message. The rasteriser runs under `catch_unwind`, so
//! a bug in it on a hostile file becomes an error for that file.

use super::{check_dimensions, DecodeLimits};
use ecgdig_core::prelude::*;
use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::{LoadPdfError, Pdf};
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{PixmapSettings, RenderCache, RenderSettings};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// True when the first kilobyte holds a `%PDF-` header.
pub fn looks_like_pdf(head: &[u8]) -> bool {
    let n = head.len().min(1024);
    head[..n].windows(5).any(|w| w == b"%PDF-")
}

/// True when the last 4 KiB hold the `%%EOF` end marker (a PDF cut short
/// by an interrupted download or copy lacks it).
pub fn has_end_marker(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(4096)..];
    tail.windows(5).any(|w| w == b"%%EOF")
}

/// Parses a PDF. A file without the `%%EOF` end marker is refused as
/// truncated: the parser would otherwise recover what it can and hand on a
/// blank or partial page.
pub fn open(bytes: &[u8]) -> Result<Pdf> {
    if !has_end_marker(bytes) {
        return Err(Error::new(
            ErrorClass::Decode,
            "truncated PDF (no %%EOF end marker)",
        ));
    }
    let data = bytes.to_vec();
    match catch_unwind(AssertUnwindSafe(|| Pdf::new(data))) {
        Ok(Ok(pdf)) => Ok(pdf),
        Ok(Err(LoadPdfError::Decryption(e))) => Err(Error::new(
            ErrorClass::Decode,
            format!("encrypted PDF cannot be opened: {e:?}"),
        )),
        Ok(Err(LoadPdfError::Invalid)) => Err(Error::new(
            ErrorClass::Decode,
            "corrupt or truncated PDF (cannot parse its structure)",
        )),
        Err(_) => Err(Error::new(
            ErrorClass::Decode,
            "corrupt PDF (the PDF parser failed on it)",
        )),
    }
}

/// Number of pages.
pub fn count(bytes: &[u8]) -> Result<usize> {
    let pdf = open(bytes)?;
    let n = pdf.pages().len();
    if n == 0 {
        return Err(Error::new(ErrorClass::Decode, "the PDF has no pages"));
    }
    Ok(n)
}

/// Renders page `index` (0-based) at `limits.pdf_dpi`.
pub fn render_page(pdf: &Pdf, index: usize, limits: &DecodeLimits) -> Result<PageImage> {
    let pages = pdf.pages();
    let page = pages.get(index).ok_or_else(|| {
        Error::new(
            ErrorClass::Decode,
            format!("the PDF has {} pages, no page {}", pages.len(), index + 1),
        )
    })?;
    let scale = limits.pdf_dpi / 72.0;
    let (wpt, hpt) = page.render_dimensions();
    let (w, h) = ((wpt * scale).round(), (hpt * scale).round());
    if !(w.is_finite() && h.is_finite()) || w < 1.0 || h < 1.0 {
        return Err(Error::new(
            ErrorClass::Decode,
            format!("PDF page {} has an invalid size", index + 1),
        ));
    }
    check_dimensions(w as u64, h as u64, limits)?;
    if w > u16::MAX as f32 || h > u16::MAX as f32 {
        return Err(Error::new(
            ErrorClass::TooLarge,
            format!(
                "PDF page {} would be {w}x{h} pixels at {} dpi, above the 65535-pixel side limit",
                index + 1,
                limits.pdf_dpi
            ),
        ));
    }
    let rendered = catch_unwind(AssertUnwindSafe(|| {
        let cache = RenderCache::new();
        let pix = hayro::render(
            page,
            &cache,
            &InterpreterSettings::default(),
            &RenderSettings::default(),
            // the rasteriser truncates size * scale: aim a quarter pixel
            // above the rounded size so float error cannot lose a pixel
            &PixmapSettings {
                x_scale: (w + 0.25) / wpt,
                y_scale: (h + 0.25) / hpt,
                bg_color: WHITE,
            },
        );
        let (pw, ph) = (pix.width() as u32, pix.height() as u32);
        let mut rgb = image::RgbImage::new(pw, ph);
        for (o, p) in rgb.pixels_mut().zip(pix.data()) {
            // premultiplied over white
            let a = p.a as u32;
            o.0 = [
                (p.r as u32 + (255 - a)).min(255) as u8,
                (p.g as u32 + (255 - a)).min(255) as u8,
                (p.b as u32 + (255 - a)).min(255) as u8,
            ];
        }
        rgb
    }))
    .map_err(|_| {
        Error::new(
            ErrorClass::Decode,
            format!(
                "PDF page {} could not be rendered (rasteriser failed)",
                index + 1
            ),
        )
    })?;
    let mut out = PageImage::new(rendered);
    out.dpi = Some(limits.pdf_dpi);
    Ok(out)
}

/// A small valid PDF with `n_pages` pages of `w_pt` x `h_pt` points, each with
/// a black diagonal line and a frame (for tests and examples).
#[doc(hidden)]
pub fn sample_pdf(n_pages: usize, w_pt: f32, h_pt: f32) -> Vec<u8> {
    let mut objs: Vec<String> = Vec::new();
    let kids: Vec<String> = (0..n_pages).map(|k| format!("{} 0 R", 3 + 2 * k)).collect();
    objs.push("<< /Type /Catalog /Pages 2 0 R >>".to_string());
    objs.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {n_pages} >>",
        kids.join(" ")
    ));
    for k in 0..n_pages {
        objs.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w_pt} {h_pt}] /Contents {} 0 R >>",
            4 + 2 * k
        ));
        let content = format!(
            "2 w 10 10 {} {} re S 0 0 m {w_pt} {h_pt} l S {} w 20 {} m {} {} l S",
            w_pt - 20.0,
            h_pt - 20.0,
            1 + k,
            h_pt / 2.0,
            w_pt - 20.0,
            h_pt / 2.0
        );
        objs.push(format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ));
    }
    let objs: Vec<Vec<u8>> = objs.into_iter().map(String::into_bytes).collect();
    assemble_pdf(&objs)
}

/// Lays out numbered objects (`1 0 obj` … in order, object 1 the catalog)
/// with a cross-reference table and trailer: a minimal valid PDF file (for
/// tests and examples).
#[doc(hidden)]
pub fn assemble_pdf(objs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(objs.len());
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objs.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_each_page_at_the_requested_dpi() {
        let bytes = sample_pdf(2, 144.0, 72.0);
        assert_eq!(count(&bytes).unwrap(), 2);
        let pdf = open(&bytes).unwrap();
        let lim = DecodeLimits {
            pdf_dpi: 144.0,
            ..DecodeLimits::default()
        };
        let p = render_page(&pdf, 1, &lim).unwrap();
        assert_eq!((p.width(), p.height()), (288, 144));
        assert_eq!(p.dpi, Some(144.0));
        // white paper, black ink on the middle line
        assert_eq!(p.rgb.get_pixel(5, 30).0, [255, 255, 255]);
        let mid = p.rgb.get_pixel(144, 72).0;
        assert!(mid[0] < 128, "{mid:?}");
        assert!(render_page(&pdf, 2, &lim).is_err());
    }

    #[test]
    fn huge_pages_are_refused_before_rendering() {
        let bytes = sample_pdf(1, 14400.0, 14400.0);
        let pdf = open(&bytes).unwrap();
        let err = render_page(&pdf, 0, &DecodeLimits::default()).unwrap_err();
        assert_eq!(err.class, ErrorClass::TooLarge);
    }

    #[test]
    fn garbage_is_a_decode_error() {
        match open(b"%PDF-1.4\ngarbage") {
            Err(e) => assert_eq!(e.class, ErrorClass::Decode),
            Ok(_) => panic!("garbage parsed as a PDF"),
        }
        let bytes = sample_pdf(1, 100.0, 100.0);
        let _ = open(&bytes[..bytes.len() / 2]); // must not panic
    }
}
