//! Writing output files so that a reader never sees a half-written file.

use crate::error::{Error, ErrorClass};
use std::io;
use std::path::Path;

/// Writes a file atomically: a temporary file in the same folder, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    match std::fs::rename(&tmp, path) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// [`write_atomic`] for stages: a failure is an [`ErrorClass::Output`] error
/// that names the file.
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomic(path, bytes).map_err(|e| {
        Error::new(
            ErrorClass::Output,
            format!("cannot write {}: {e}", path.display()),
        )
    })
}

/// Encodes `img` as PNG and writes it with [`write_output`]: the writers of
/// overlays, plots and masks share it.
pub fn write_png<P>(path: &Path, img: &image::ImageBuffer<P, Vec<P::Subpixel>>) -> Result<(), Error>
where
    P: image::PixelWithColorType,
    [P::Subpixel]: image::EncodableLayout,
{
    let mut png = Vec::new();
    img.write_to(&mut io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| {
            Error::new(
                ErrorClass::Output,
                format!("cannot encode {} as PNG: {e}", path.display()),
            )
        })?;
    write_output(path, &png)
}
