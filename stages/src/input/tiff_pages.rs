//! Multi-page TIFF: counting pages and decoding any one of them.
//!
//! Each page (image file directory) is one ECG page. Pages are decoded one
//! at a time with the `tiff` crate under a buffer limit derived from
//! `max_pixels`; 8- and 16-bit grey, grey+alpha, RGB, RGBA and CMYK pages
//! become 8-bit RGB (alpha laid on white).

use super::{check_dimensions, to_rgb_on_white, DecodeLimits};
use ecgdig_core::prelude::*;
use image::{DynamicImage, ImageBuffer};
use std::io::Cursor;
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::ColorType;

fn decoder<'a>(bytes: &'a [u8], limits: &DecodeLimits) -> Result<Decoder<Cursor<&'a [u8]>>> {
    let mut l = Limits::default();
    // 16-bit RGBA = 8 bytes per pixel
    l.decoding_buffer_size =
        usize::try_from(limits.max_pixels.saturating_mul(8)).unwrap_or(usize::MAX);
    l.intermediate_buffer_size = l.decoding_buffer_size;
    Decoder::new(Cursor::new(bytes))
        .map(|d| d.with_limits(l))
        .map_err(|e| classify(e, limits))
}

fn classify(e: tiff::TiffError, limits: &DecodeLimits) -> Error {
    match e {
        tiff::TiffError::LimitsExceeded => Error::new(
            ErrorClass::TooLarge,
            format!(
                "TIFF page exceeds the decoding limits ({} pixels)",
                limits.max_pixels
            ),
        ),
        tiff::TiffError::UnsupportedError(u) => {
            Error::new(ErrorClass::Decode, format!("unsupported TIFF: {u}"))
        }
        other => Error::new(
            ErrorClass::Decode,
            format!("corrupt or truncated TIFF: {other}"),
        ),
    }
}

/// Number of pages (image file directories), at most `limits.max_pages`.
pub fn count(bytes: &[u8], limits: &DecodeLimits) -> Result<usize> {
    let mut d = decoder(bytes, limits)?;
    let mut n = 1;
    while d.more_images() && n < limits.max_pages {
        if d.next_image().is_err() {
            break;
        }
        n += 1;
    }
    Ok(n)
}

/// Decodes page `index` (0-based) to 8-bit RGB, with its resolution.
pub fn decode(bytes: &[u8], index: usize, limits: &DecodeLimits) -> Result<PageImage> {
    let mut d = decoder(bytes, limits)?;
    if index > 0 {
        d.seek_to_image(index).map_err(|e| classify(e, limits))?;
    }
    let (w, h) = d.dimensions().map_err(|e| classify(e, limits))?;
    check_dimensions(w as u64, h as u64, limits)?;
    let color = d.colortype().map_err(|e| classify(e, limits))?;
    let data = d.read_image().map_err(|e| classify(e, limits))?;
    let img = to_dynamic(w, h, color, data)?;
    let mut page = PageImage::new(to_rgb_on_white(img));
    page.dpi = super::dpi::tiff_dpi(bytes, index);
    Ok(page)
}

fn short() -> Error {
    Error::new(
        ErrorClass::Decode,
        "TIFF page has fewer samples than its size",
    )
}

fn to_dynamic(w: u32, h: u32, color: ColorType, data: DecodingResult) -> Result<DynamicImage> {
    let unsupported = || {
        Error::new(
            ErrorClass::Decode,
            format!("unsupported TIFF colour type {color:?}"),
        )
    };
    let img = match (color, data) {
        (ColorType::Gray(8), DecodingResult::U8(v)) => {
            DynamicImage::ImageLuma8(ImageBuffer::from_raw(w, h, v).ok_or_else(short)?)
        }
        (ColorType::Gray(16), DecodingResult::U16(v)) => {
            DynamicImage::ImageLuma16(ImageBuffer::from_raw(w, h, v).ok_or_else(short)?)
        }
        (ColorType::GrayA(8), DecodingResult::U8(v)) => {
            DynamicImage::ImageLumaA8(ImageBuffer::from_raw(w, h, v).ok_or_else(short)?)
        }
        (ColorType::GrayA(16), DecodingResult::U16(v)) => {
            DynamicImage::ImageLumaA16(ImageBuffer::from_raw(w, h, v).ok_or_else(short)?)
        }
        (ColorType::RGB(8), DecodingResult::U8(v)) => {
            DynamicImage::ImageRgb8(ImageBuffer::from_raw(w, h, v).ok_or_else(short)?)
        }
        (ColorType::RGB(16), DecodingResult::U16(v)) => {
            DynamicImage::ImageRgb16(ImageBuffer::from_raw(w, h, v).ok_or_else(short)?)
        }
        (ColorType::RGBA(8), DecodingResult::U8(v)) => {
            DynamicImage::ImageRgba8(ImageBuffer::from_raw(w, h, v).ok_or_else(short)?)
        }
        (ColorType::RGBA(16), DecodingResult::U16(v)) => {
            DynamicImage::ImageRgba16(ImageBuffer::from_raw(w, h, v).ok_or_else(short)?)
        }
        (ColorType::CMYK(8), DecodingResult::U8(v)) => {
            let n = (w as usize) * (h as usize);
            if v.len() < n * 4 {
                return Err(short());
            }
            let mut rgb = Vec::with_capacity(n * 3);
            for p in v.chunks_exact(4).take(n) {
                let k = 255 - p[3] as u32;
                for &c in &p[..3] {
                    rgb.push(((255 - c as u32) * k / 255) as u8);
                }
            }
            DynamicImage::ImageRgb8(ImageBuffer::from_raw(w, h, rgb).ok_or_else(short)?)
        }
        _ => return Err(unsupported()),
    };
    Ok(img)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tiff::encoder::{colortype, TiffEncoder};

    /// A TIFF with pages of the given grey levels, 8-bit grey and 16-bit RGB.
    pub(crate) fn multipage(levels: &[u8], w: u32, h: u32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut enc = TiffEncoder::new(&mut out).unwrap();
        for (k, &lv) in levels.iter().enumerate() {
            if k % 2 == 0 {
                let data = vec![lv; (w * h) as usize];
                enc.write_image::<colortype::Gray8>(w, h, &data).unwrap();
            } else {
                let data = vec![lv as u16 * 257; (w * h * 3) as usize];
                enc.write_image::<colortype::RGB16>(w, h, &data).unwrap();
            }
        }
        out.into_inner()
    }

    #[test]
    fn counts_and_decodes_each_page() {
        let bytes = multipage(&[10, 120, 250], 30, 20);
        let lim = DecodeLimits::default();
        assert_eq!(count(&bytes, &lim).unwrap(), 3);
        for (k, lv) in [10u8, 120, 250].into_iter().enumerate() {
            let p = decode(&bytes, k, &lim).unwrap();
            assert_eq!((p.width(), p.height()), (30, 20));
            assert_eq!(p.rgb.get_pixel(5, 5).0, [lv, lv, lv], "page {k}");
        }
        assert!(decode(&bytes, 3, &lim).is_err());
    }

    #[test]
    fn refuses_pages_above_the_limit() {
        let bytes = multipage(&[1], 100, 100);
        let lim = DecodeLimits {
            max_pixels: 5000,
            ..DecodeLimits::default()
        };
        assert_eq!(
            decode(&bytes, 0, &lim).unwrap_err().class,
            ErrorClass::TooLarge
        );
    }

    #[test]
    fn truncated_tiff_is_a_decode_error() {
        let bytes = multipage(&[1, 2], 50, 50);
        let lim = DecodeLimits::default();
        for cut in [12, 100, bytes.len() - 200] {
            // never a panic; cut inside the header is a decode error
            let r = decode(&bytes[..cut], 1, &lim);
            if cut == 12 {
                assert!(matches!(r, Err(ref e) if e.class == ErrorClass::Decode));
            }
        }
    }
}
