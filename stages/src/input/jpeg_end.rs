//! Is a JPEG file whole? A JPEG cut short (an interrupted download or copy)
//! still decodes: the decoder fills the missing rows with grey, and the
//! page's lower part silently vanishes. A whole file ends its last scan with
//! the end-of-image marker (FF D9); this walks the markers to find it.
//!
//! Segments before a scan carry their length and are skipped whole (so an
//! EXIF thumbnail's own markers, inside APP1, are never mistaken for the
//! image's). Inside a scan's entropy-coded data a 0xFF byte is always
//! followed by 0x00 (stuffing) or a restart marker (D0–D7); any other byte
//! after 0xFF is the next marker. Progressive files have several scans.

/// `Ok(())` when the JPEG's marker sequence reaches end-of-image; otherwise
/// what is missing, in words.
pub fn check_complete(b: &[u8]) -> Result<(), String> {
    if b.len() < 4 || b[0] != 0xFF || b[1] != 0xD8 {
        return Err("no JPEG start-of-image marker".into());
    }
    let mut i = 2usize;
    let mut scans = 0usize;
    loop {
        // find the next marker (skip fill bytes)
        if i >= b.len() {
            return Err(truncated(scans));
        }
        if b[i] != 0xFF {
            return Err(format!(
                "stray byte at offset {i} where a marker was expected"
            ));
        }
        while i < b.len() && b[i] == 0xFF {
            i += 1;
        }
        let Some(&marker) = b.get(i) else {
            return Err(truncated(scans));
        };
        i += 1;
        match marker {
            0xD9 => return Ok(()),
            0x01 | 0xD0..=0xD7 => {}
            _ => {
                let Some(len) = b
                    .get(i..i + 2)
                    .map(|s| u16::from_be_bytes([s[0], s[1]]) as usize)
                else {
                    return Err(truncated(scans));
                };
                if len < 2 {
                    return Err(format!("bad segment length at offset {i}"));
                }
                i += len;
                if i > b.len() {
                    return Err(truncated(scans));
                }
                if marker == 0xDA {
                    scans += 1;
                    i = skip_entropy_data(b, i);
                }
            }
        }
    }
}

/// Index of the first marker after a scan's entropy-coded data (or the end).
fn skip_entropy_data(b: &[u8], mut i: usize) -> usize {
    while i + 1 < b.len() {
        if b[i] == 0xFF && !matches!(b[i + 1], 0x00 | 0xD0..=0xD7 | 0xFF) {
            return i;
        }
        i += 1;
    }
    b.len()
}

fn truncated(scans: usize) -> String {
    if scans == 0 {
        "the file ends before the image data".into()
    } else {
        "the file ends inside the image data (no end-of-image marker): it was cut short".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(progressive_like_restart: bool) -> Vec<u8> {
        let mut img = image::RgbImage::new(64, 48);
        for (x, y, p) in img.enumerate_pixels_mut() {
            *p = image::Rgb([(x * 4) as u8, (y * 5) as u8, ((x ^ y) * 3) as u8]);
        }
        let mut out = Vec::new();
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
        enc.encode_image(&img).unwrap();
        if progressive_like_restart {
            // trailing bytes after EOI (some cameras append data) are fine
            out.extend_from_slice(b"trailer");
        }
        out
    }

    #[test]
    fn a_whole_jpeg_is_complete_and_a_cut_one_is_not() {
        let whole = jpeg(false);
        assert_eq!(check_complete(&whole), Ok(()));
        assert_eq!(check_complete(&jpeg(true)), Ok(()));
        for cut in [whole.len() / 2, whole.len() - 2, whole.len() - 1] {
            let e = check_complete(&whole[..cut]).unwrap_err();
            assert!(e.contains("cut short"), "{cut}: {e}");
        }
        let e = check_complete(&whole[..20]).unwrap_err();
        assert!(e.contains("before the image data"), "{e}");
    }

    #[test]
    fn a_thumbnail_inside_app1_does_not_end_the_walk() {
        let main = jpeg(false);
        let thumb = jpeg(false);
        // SOI, APP1 holding a complete JPEG (its own SOS and EOI), then the rest
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE1];
        let len = (thumb.len() + 2) as u16;
        b.extend_from_slice(&len.to_be_bytes());
        b.extend_from_slice(&thumb);
        b.extend_from_slice(&main[2..]);
        assert_eq!(check_complete(&b), Ok(()));
        let cut = &b[..b.len() - 200];
        assert!(check_complete(cut).is_err());
    }
}
