//! Reading an input file without trusting it.
//!
//! [`read_file`] refuses what is not a regular file (FIFOs, devices, sockets:
//! reading them can block forever or never end) and files above the size
//! limit, then reads only the first bytes: a file whose type is not an image
//! or whose header declares more pixels than allowed is refused before the
//! rest is read.

use super::{check_dimensions, declared_size, sniff, DecodeLimits, DocKind};
use ecgdig_core::prelude::*;
use std::io::Read;
use std::path::Path;

/// How many bytes are read before the type and declared size are checked.
pub const HEAD_BYTES: usize = 64 * 1024;

/// Reads an input file: regular files only, at most `limits.max_file_bytes`,
/// with the type sniffed and the declared size checked from the first
/// [`HEAD_BYTES`] before the rest is read.
pub fn read_file(path: &Path, limits: &DecodeLimits) -> Result<Vec<u8>> {
    let (file, len, head) = open_checked(path, limits)?;
    let cap = limits.max_file_bytes.saturating_add(1);
    let mut bytes = head;
    bytes.reserve(len.min(limits.max_file_bytes) as usize);
    file.take(cap.saturating_sub(bytes.len() as u64))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::cannot_read(path, e))?;
    check_file_size(bytes.len() as u64, limits)?;
    Ok(bytes)
}

/// The checks of [`read_file`] without reading past the first bytes: the
/// file's type, from its first bytes, when it passes them.
pub fn probe_file(path: &Path, limits: &DecodeLimits) -> Result<DocKind> {
    let (_, _, head) = open_checked(path, limits)?;
    Ok(sniff(&head))
}

/// Opens a regular file within the size limit and checks its first bytes;
/// returns the file (positioned after them), its length and the bytes.
fn open_checked(path: &Path, limits: &DecodeLimits) -> Result<(std::fs::File, u64, Vec<u8>)> {
    let meta = std::fs::metadata(path).map_err(|e| Error::cannot_read(path, e))?;
    check_regular(path, &meta)?;
    check_file_size(meta.len(), limits)?;
    let mut file = std::fs::File::open(path).map_err(|e| Error::cannot_read(path, e))?;
    // the path may have been swapped between the two calls
    let meta = file.metadata().map_err(|e| Error::cannot_read(path, e))?;
    check_regular(path, &meta)?;
    check_file_size(meta.len(), limits)?;
    let len = meta.len();
    let mut head = vec![0u8; HEAD_BYTES.min(len as usize + 1)];
    let n = read_up_to(&mut file, &mut head).map_err(|e| Error::cannot_read(path, e))?;
    head.truncate(n);
    check_head(&head, limits)?;
    Ok((file, len, head))
}

/// Refuses anything but a regular file.
pub fn check_regular(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    let what = file_kind(meta);
    Err(Error::new(
        ErrorClass::Io,
        format!(
            "{} is {what}, not a regular file: only regular files are read",
            path.display()
        ),
    ))
}

fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

/// Refuses a file larger than the limit.
pub fn check_file_size(len: u64, limits: &DecodeLimits) -> Result<()> {
    if len > limits.max_file_bytes {
        return Err(Error::new(
            ErrorClass::TooLarge,
            format!(
                "the file is {}, above the limit of {} (load_image `max_file_mb`)",
                mb(len),
                mb(limits.max_file_bytes)
            ),
        ));
    }
    Ok(())
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

/// Checks the first bytes of a file: an image type, and a declared size
/// within the pixel limit when the header states one.
pub fn check_head(head: &[u8], limits: &DecodeLimits) -> Result<()> {
    if head.is_empty() {
        return Err(Error::new(ErrorClass::Decode, "the file is empty"));
    }
    if sniff(head) == DocKind::Unknown && image::guess_format(head).is_err() {
        return Err(Error::new(
            ErrorClass::Decode,
            "not an image file (unknown format)",
        ));
    }
    if let Some((w, h)) = header_size(head) {
        if w.saturating_mul(h) > limits.max_pixels {
            check_dimensions(w, h, limits)?;
        }
    }
    Ok(())
}

/// The size a PNG, JPEG or BMP header declares, when the first bytes hold it.
pub fn header_size(head: &[u8]) -> Option<(u64, u64)> {
    match sniff(head) {
        DocKind::Png => {
            if head.get(12..16)? != b"IHDR" {
                return None;
            }
            let w = u32::from_be_bytes(head.get(16..20)?.try_into().ok()?);
            let h = u32::from_be_bytes(head.get(20..24)?.try_into().ok()?);
            Some((w as u64, h as u64))
        }
        DocKind::Jpeg => jpeg_size(head),
        DocKind::Bmp => declared_size(head),
        _ => None,
    }
}

/// Walks JPEG markers up to the first start-of-frame.
fn jpeg_size(b: &[u8]) -> Option<(u64, u64)> {
    let mut i = 2;
    loop {
        if *b.get(i)? != 0xFF {
            return None;
        }
        let marker = *b.get(i + 1)?;
        match marker {
            0xFF => i += 1, // fill byte
            0xD8 | 0x01 | 0xD0..=0xD7 => i += 2,
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let h = u16::from_be_bytes(b.get(i + 5..i + 7)?.try_into().ok()?);
                let w = u16::from_be_bytes(b.get(i + 7..i + 9)?.try_into().ok()?);
                return Some((w as u64, h as u64));
            }
            _ => {
                let len = u16::from_be_bytes(b.get(i + 2..i + 4)?.try_into().ok()?) as usize;
                i += 2 + len;
            }
        }
    }
}

/// Reads until `buf` is full or the end of the input.
pub fn read_up_to(f: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ecgdig-read-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    #[test]
    fn refuses_large_junk_and_special_files_without_reading_them() {
        let lim = DecodeLimits::default();
        let big = tmp("big.jpg");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(lim.max_file_bytes + 1).unwrap(); // sparse: costs nothing
        let e = read_file(&big, &lim).unwrap_err();
        assert_eq!(e.class, ErrorClass::TooLarge, "{e}");
        f.set_len(lim.max_file_bytes / 2).unwrap();
        let e = read_file(&big, &lim).unwrap_err();
        assert_eq!(e.class, ErrorClass::Decode, "{e}");
        std::fs::remove_file(&big).unwrap();
        #[cfg(unix)]
        {
            let e = read_file(Path::new("/dev/zero"), &lim).unwrap_err();
            assert_eq!(e.class, ErrorClass::Io, "{e}");
            assert!(e.message.contains("device"), "{e}");
        }
    }

    #[test]
    fn reads_jpeg_and_png_header_sizes() {
        let img = image::DynamicImage::ImageRgb8(image::RgbImage::new(31, 17));
        for fmt in [image::ImageFormat::Png, image::ImageFormat::Jpeg] {
            let mut b = Vec::new();
            img.write_to(&mut std::io::Cursor::new(&mut b), fmt)
                .unwrap();
            assert_eq!(header_size(&b), Some((31, 17)), "{fmt:?}");
        }
        assert_eq!(header_size(b"\xFF\xD8\xFF"), None);
    }
}
