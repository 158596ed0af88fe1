//! Writes a rendered page in the ecg-image-kit folder convention.
//!
//! Input: a folder, a page number `k`, the record and a [`RenderedPage`].
//! Output files (`<rec>` = the record's name):
//! - `<rec>-<k>.png`, or `<rec>-<k>.jpg` when a JPEG round trip was applied
//!   (the exact bytes the page's image was decoded from);
//! - `<rec>-<k>.json`: the [`PageTruth`](crate::truth::PageTruth);
//! - `<rec>-<k>_mask.png`: the lead mask (8-bit labels, see [`crate::page`]);
//! - `<rec>.csv`: the whole record as a page CSV (header `I..V6`, one row
//!   per sample at the record's rate, 4 decimals), which `ecg_score.py` reads
//!   as ground truth when there is no `<rec>.hea`.

use crate::page::RenderedPage;
use ecgdig_core::artifact::{LeadSignal, Signals};
use ecgdig_core::error::{Error, ErrorClass};
use ecgdig_core::leads::Lead;
use ecgdig_core::page_csv;
use ecgdig_core::record::Record;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};
use std::path::{Path, PathBuf};

/// The record as page signals covering all of it.
pub fn record_signals(record: &Record) -> Signals {
    let mut s = Signals::empty(record.fs, record.n_samples);
    for lead in Lead::ALL {
        if let Some(v) = record.lead(lead) {
            s.set(
                lead,
                LeadSignal {
                    start: 0,
                    samples: v.to_vec(),
                    confidence: 1.0,
                },
            );
        }
    }
    s
}

/// Encodes a PNG (zlib level 6, adaptive filters: about half the size of the
/// fast default for grid paper) and writes it atomically.
fn save_png(
    p: &Path,
    data: &[u8],
    (w, h): (u32, u32),
    color: ExtendedColorType,
) -> Result<(), Error> {
    let mut buf = Vec::new();
    let enc =
        PngEncoder::new_with_quality(&mut buf, CompressionType::Level(6), FilterType::Adaptive);
    enc.write_image(data, w, h, color)
        .map_err(|e| out_err(p, e))?;
    ecgdig_core::output::write_atomic(p, &buf).map_err(|e| out_err(p, e))
}

/// Writes the record CSV `<dir>/<rec>.csv`.
pub fn write_record_csv(dir: &Path, record: &Record) -> Result<PathBuf, Error> {
    let p = dir.join(format!("{}.csv", record.name));
    page_csv::write(&p, &record_signals(record)).map_err(|e| out_err(&p, e))?;
    Ok(p)
}

fn out_err(p: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorClass::Output, format!("{}: {e}", p.display()))
}

/// Writes page `k` of `record` (image, JSON, mask) and the record CSV.
/// Returns the image path.
pub fn write_page(
    dir: &Path,
    k: usize,
    record: &Record,
    page: &RenderedPage,
) -> Result<PathBuf, Error> {
    let p = write_page_files(dir, k, &record.name, page)?;
    write_record_csv(dir, record)?;
    Ok(p)
}

/// Writes page `k` of record `record_name` (image, JSON, mask) without the
/// record CSV; for writing several pages of one record in parallel (write the
/// CSV once with [`write_record_csv`]). Returns the image path.
pub fn write_page_files(
    dir: &Path,
    k: usize,
    record_name: &str,
    page: &RenderedPage,
) -> Result<PathBuf, Error> {
    std::fs::create_dir_all(dir).map_err(|e| out_err(dir, e))?;
    let stem = format!("{record_name}-{k}");
    let img_path = match &page.jpeg {
        Some(bytes) => {
            let p = dir.join(format!("{stem}.jpg"));
            ecgdig_core::output::write_atomic(&p, bytes).map_err(|e| out_err(&p, e))?;
            p
        }
        None => {
            let p = dir.join(format!("{stem}.png"));
            save_png(
                &p,
                page.image.as_raw(),
                page.image.dimensions(),
                ExtendedColorType::Rgb8,
            )?;
            p
        }
    };
    let mask = dir.join(format!("{stem}_mask.png"));
    save_png(
        &mask,
        page.lead_mask.as_raw(),
        page.lead_mask.dimensions(),
        ExtendedColorType::L8,
    )?;
    let json = dir.join(format!("{stem}.json"));
    ecgdig_core::output::write_atomic(&json, page.truth.to_json().as_bytes())
        .map_err(|e| out_err(&json, e))?;
    Ok(img_path)
}
