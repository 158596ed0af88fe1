//! Resolution stored in image files, in dots per inch.
//!
//! Read without decoding pixels: PNG `pHYs` (pixels per metre), JPEG JFIF
//! `APP0` density (dots per inch or per cm; unit 0 = aspect ratio only, no
//! resolution), BMP pixels per metre, TIFF `XResolution`/`ResolutionUnit`.
//! Values outside 10..=10000 dpi are treated as absent (garbage metadata).

use super::{sniff, DocKind};

const MIN_DPI: f32 = 10.0;
const MAX_DPI: f32 = 10_000.0;

fn plausible(dpi: f32) -> Option<f32> {
    (dpi.is_finite() && (MIN_DPI..=MAX_DPI).contains(&dpi)).then_some(dpi)
}

/// The horizontal resolution a file declares, if any.
pub fn file_dpi(bytes: &[u8]) -> Option<f32> {
    match sniff(bytes) {
        DocKind::Png => png_dpi(bytes),
        DocKind::Jpeg => jpeg_dpi(bytes),
        DocKind::Bmp => bmp_dpi(bytes),
        DocKind::Tiff => tiff_dpi(bytes, 0),
        _ => None,
    }
}

fn be32(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

/// PNG: walks the chunks up to the first `IDAT` looking for `pHYs`.
pub fn png_dpi(bytes: &[u8]) -> Option<f32> {
    let mut pos = 8usize;
    while pos + 8 <= bytes.len() {
        let len = be32(&bytes[pos..])? as usize;
        let kind = bytes.get(pos + 4..pos + 8)?;
        let data = bytes.get(pos + 8..pos.checked_add(8)?.checked_add(len)?)?;
        match kind {
            b"pHYs" if len >= 9 => {
                let ppu_x = be32(data)?;
                // unit 1 = metre; 0 = aspect ratio only
                return if data[8] == 1 {
                    plausible(ppu_x as f32 * 0.0254)
                } else {
                    None
                };
            }
            b"IDAT" | b"IEND" => return None,
            _ => {}
        }
        pos = pos.checked_add(12)?.checked_add(len)?;
    }
    None
}

/// JPEG: the JFIF `APP0` segment's density, when it is the first segment.
pub fn jpeg_dpi(bytes: &[u8]) -> Option<f32> {
    let mut pos = 2usize;
    // scan the header segments until start of scan
    for _ in 0..64 {
        if bytes.get(pos)? != &0xFF {
            return None;
        }
        let marker = *bytes.get(pos + 1)?;
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let len = u16::from_be_bytes([*bytes.get(pos + 2)?, *bytes.get(pos + 3)?]) as usize;
        if marker == 0xE0 {
            let seg = bytes.get(pos + 4..pos + 2 + len)?;
            if seg.len() >= 12 && &seg[..5] == b"JFIF\0" {
                let unit = seg[7];
                let x = u16::from_be_bytes([seg[8], seg[9]]) as f32;
                return match unit {
                    1 => plausible(x),
                    2 => plausible(x * 2.54),
                    _ => None,
                };
            }
        }
        pos = pos.checked_add(2)?.checked_add(len)?;
    }
    None
}

/// BMP: `biXPelsPerMeter` of a BITMAPINFOHEADER (or later).
pub fn bmp_dpi(bytes: &[u8]) -> Option<f32> {
    let header_size = u32::from_le_bytes(bytes.get(14..18)?.try_into().ok()?);
    if header_size < 40 {
        return None;
    }
    let ppm = i32::from_le_bytes(bytes.get(38..42)?.try_into().ok()?);
    plausible(ppm as f32 * 0.0254)
}

/// TIFF: `XResolution` of page `index` with its `ResolutionUnit`
/// (2 = inch, the default; 3 = centimetre; 1 = none).
pub fn tiff_dpi(bytes: &[u8], index: usize) -> Option<f32> {
    use tiff::decoder::Decoder;
    use tiff::tags::Tag;
    let mut d = Decoder::new(std::io::Cursor::new(bytes)).ok()?;
    if index > 0 {
        d.seek_to_image(index).ok()?;
    }
    let x = d.find_tag(Tag::XResolution).ok()??;
    let x = match x {
        tiff::decoder::ifd::Value::Rational(n, dd) if dd != 0 => n as f32 / dd as f32,
        other => other.into_f32().ok()?,
    };
    let unit = d
        .find_tag_unsigned::<u16>(Tag::ResolutionUnit)
        .ok()
        .flatten()
        .unwrap_or(2);
    match unit {
        2 => plausible(x),
        3 => plausible(x * 2.54),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_with_phys(ppm: u32, unit: u8) -> Vec<u8> {
        let img = image::RgbImage::new(4, 4);
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        // insert a pHYs chunk right after IHDR (8 + 25 bytes)
        let mut chunk = Vec::new();
        chunk.extend_from_slice(&9u32.to_be_bytes());
        chunk.extend_from_slice(b"pHYs");
        chunk.extend_from_slice(&ppm.to_be_bytes());
        chunk.extend_from_slice(&ppm.to_be_bytes());
        chunk.push(unit);
        chunk.extend_from_slice(&[0, 0, 0, 0]); // CRC (not checked here)
        out.splice(33..33, chunk);
        out
    }

    #[test]
    fn reads_png_phys() {
        let dpi = png_dpi(&png_with_phys(11811, 1)).unwrap();
        assert!((dpi - 300.0).abs() < 0.1, "{dpi}");
        assert_eq!(png_dpi(&png_with_phys(11811, 0)), None);
        assert_eq!(png_dpi(&png_with_phys(0, 1)), None);
    }

    #[test]
    fn reads_jfif_density() {
        let img = image::RgbImage::new(8, 8);
        let mut out = Vec::new();
        img.write_to(
            &mut std::io::Cursor::new(&mut out),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
        // image writes JFIF APP0 at offset 2; patch units=1 and density=150
        assert_eq!(&out[6..11], b"JFIF\0");
        out[13] = 1;
        out[14..16].copy_from_slice(&150u16.to_be_bytes());
        out[16..18].copy_from_slice(&150u16.to_be_bytes());
        assert_eq!(jpeg_dpi(&out), Some(150.0));
        out[13] = 0;
        assert_eq!(jpeg_dpi(&out), None);
    }

    #[test]
    fn garbage_gives_none() {
        assert_eq!(file_dpi(b""), None);
        assert_eq!(png_dpi(b"\x89PNG\r\n\x1a\n\xff\xff\xff\xffpHYs"), None);
        assert_eq!(jpeg_dpi(&[0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF]), None);
        assert_eq!(bmp_dpi(b"BM"), None);
        assert_eq!(tiff_dpi(b"II*\0\xff\xff\xff\xff", 0), None);
    }
}
