//! Kaggle "PhysioNet - Digitization of ECG Images" I/O behind `ecgdig kaggle`.
//!
//! * [`submit`] digitizes every image listed in `test.csv` and streams
//!   `id,value` rows with ids `{image}_{row}_{lead}`: exactly
//!   `number_of_rows` rows per (image, lead), sampled at that line's `fs`,
//!   never NaN or infinite. Gaps inside a lead are filled by linear
//!   interpolation (edges hold the nearest value); a lead that was not
//!   digitized, and every lead of an image that is missing or cannot be
//!   processed, gets [`FALLBACK_VALUE`] (0.0) with a warning on stderr. The
//!   file is written atomically (temporary file in the same folder, then
//!   rename): a reader never sees half a submission.
//! * [`score_train`] scores page CSVs (`<pred>/<id>.csv` or
//!   `<pred>/<id>-<k>.csv`) against the train layout (`train.csv`,
//!   `train/<id>/<id>.csv`) with the competition metric of
//!   [`ecgdig_eval::metric`].

use crate::batch::IMAGE_EXTENSIONS;
use crate::Digitizer;
use anyhow::Context;
use ecgdig_core::prelude::*;
use ecgdig_eval::io::kaggle::{self, TestRow};
use ecgdig_eval::metric::ImageScore;
use ecgdig_eval::score::score_image;
use ecgdig_eval::truth::{record_of, ImageTruth, TruthLead};
use rayon::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Value submitted where nothing was digitized.
pub const FALLBACK_VALUE: f32 = 0.0;

/// What [`submit`] wrote.
#[derive(Clone, Debug, Default)]
pub struct SubmitReport {
    pub images: usize,
    pub rows: usize,
    /// Images that were missing or failed, submitted with the fallback value.
    pub fallback_images: usize,
}

/// Groups `test.csv` lines by image, in order of first appearance.
pub fn group_by_image(rows: Vec<TestRow>) -> Vec<(String, Vec<TestRow>)> {
    let mut images: Vec<(String, Vec<TestRow>)> = Vec::new();
    for r in rows {
        match images.iter_mut().find(|(id, _)| *id == r.id) {
            Some((_, v)) => v.push(r),
            None => images.push((r.id.clone(), vec![r])),
        }
    }
    images
}

/// Digitizes the images of `test.csv` lines and writes `output` atomically.
pub fn submit(
    d: &Digitizer,
    rows: Vec<TestRow>,
    image_dir: &Path,
    output: &Path,
) -> anyhow::Result<SubmitReport> {
    let images = group_by_image(rows);
    let dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = output
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("submission.csv");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = write_submission(d, &images, image_dir, &tmp).and_then(|r| {
        std::fs::rename(&tmp, output)
            .with_context(|| format!("cannot write {}", output.display()))?;
        Ok(r)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    let (rows, fallback_images) = written?;
    Ok(SubmitReport {
        images: images.len(),
        rows,
        fallback_images,
    })
}

/// Streams the submission to `path`; returns (rows written, images that fell back).
fn write_submission(
    d: &Digitizer,
    images: &[(String, Vec<TestRow>)],
    image_dir: &Path,
    path: &Path,
) -> anyhow::Result<(usize, usize)> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    writeln!(w, "id,value")?;
    let (mut n_rows, mut n_fallback) = (0usize, 0usize);
    // digitize a few images at a time in parallel, write them in order
    let chunk = (rayon::current_num_threads() * 2).max(1);
    for group in images.chunks(chunk) {
        let results: Vec<Option<Arc<Signals>>> = group
            .par_iter()
            .map(|(id, _)| digitize_one(d, image_dir, id))
            .collect();
        for ((id, lines), signals) in group.iter().zip(results) {
            if signals.is_none() {
                n_fallback += 1;
            }
            for line in lines {
                let values =
                    lead_values(signals.as_deref(), line.lead, line.fs, line.number_of_rows);
                for (i, v) in values.iter().enumerate() {
                    writeln!(w, "{},{v:.5}", kaggle::submission_id(id, i, line.lead))?;
                }
                n_rows += values.len();
            }
        }
    }
    w.flush()?;
    w.into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?
        .sync_all()?;
    Ok((n_rows, n_fallback))
}

/// Digitizes one test image; `None` (with a warning) when it is missing or fails.
fn digitize_one(d: &Digitizer, image_dir: &Path, id: &str) -> Option<Arc<Signals>> {
    let Some(path) = find_image(image_dir, id) else {
        eprintln!(
            "warning: {id}: no image found in {}; submitting {FALLBACK_VALUE}",
            image_dir.display()
        );
        return None;
    };
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        d.digitize(InputSource::Path(path.clone()), id)
    }));
    match r {
        Ok(Ok(page)) => Some(page.signals),
        Ok(Err(e)) => {
            eprintln!(
                "warning: {id}: {}: {e}; submitting {FALLBACK_VALUE}",
                path.display()
            );
            None
        }
        Err(_) => {
            eprintln!(
                "warning: {id}: {}: internal error (panic); submitting {FALLBACK_VALUE}",
                path.display()
            );
            None
        }
    }
}

/// `<dir>/<id>.<ext>` for a known image extension, else the first image in `<dir>/<id>/`.
pub fn find_image(dir: &Path, id: &str) -> Option<PathBuf> {
    for ext in IMAGE_EXTENSIONS {
        for e in [ext.to_string(), ext.to_ascii_uppercase()] {
            let p = dir.join(format!("{id}.{e}"));
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let sub = dir.join(id);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&sub)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    files.sort();
    files.into_iter().next()
}

/// Exactly `rows` finite values of `lead` at `fs`: the lead's own window when
/// its length matches, the whole page for a full-length request, else the
/// lead's standard 3x4 window; gaps interpolated; [`FALLBACK_VALUE`] where
/// nothing is known.
pub fn lead_values(s: Option<&Signals>, lead: Lead, fs: f32, rows: usize) -> Vec<f32> {
    let fallback = vec![FALLBACK_VALUE; rows];
    let Some(s) = s.filter(|s| s.fs > 0.0 && s.n_samples > 0) else {
        return fallback;
    };
    let Some(l) = s.lead(lead) else {
        return fallback;
    };
    let Some(filled) = ecgdig_stages::dsp::fill_gaps(&l.samples) else {
        return fallback;
    };
    if fs.is_nan() || fs <= 0.0 {
        return fallback;
    }
    let page_s = s.n_samples as f32 / s.fs;
    let want_s = rows as f32 / fs;
    let have_s = l.samples.len() as f32 / s.fs;
    let t0 = if (want_s - have_s).abs() <= 0.05 * want_s.max(1e-3) {
        l.start as f32 / s.fs
    } else if want_s >= 0.95 * page_s {
        0.0
    } else {
        let (a, _) = ecgdig_stages::reconstruct::rebuild::standard_window(lead, s.n_samples);
        (a as f32 / s.fs).min((page_s - want_s).max(0.0))
    };
    (0..rows)
        .map(|i| {
            let t = t0 + i as f32 / fs;
            let pos = t * s.fs - l.start as f32;
            let v = ecgdig_stages::dsp::sample_at(&filled, pos);
            if v.is_finite() {
                v
            } else {
                FALLBACK_VALUE
            }
        })
        .collect()
}

/// Scores the predictions in `pred_dir` against the Kaggle train folder
/// `train_dir`. A train record without prediction scores as all zeros
/// unless `only_predicted`. Returns the scores and the problems met
/// (unreadable files), which do not stop the others.
pub fn score_train(
    train_dir: &Path,
    pred_dir: &Path,
    only_predicted: bool,
) -> anyhow::Result<(Vec<ImageScore>, Vec<String>)> {
    let rows = kaggle::read_train_csv(&train_dir.join("train.csv")).map_err(anyhow::Error::msg)?;
    let mut preds: Vec<(String, PathBuf)> = std::fs::read_dir(pred_dir)
        .with_context(|| format!("cannot list {}", pred_dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("csv"))
        .filter_map(|p| Some((p.file_stem()?.to_str()?.to_string(), p.clone())))
        .collect();
    preds.sort();
    let mut scores = Vec::new();
    let mut problems = Vec::new();
    for row in &rows {
        let mine: Vec<&(String, PathBuf)> = preds
            .iter()
            .filter(|(stem, _)| stem == &row.id || record_of(stem) == row.id)
            .collect();
        if mine.is_empty() && only_predicted {
            continue;
        }
        let rec = match kaggle::read_train_record(train_dir, row) {
            Ok(r) => r,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let truth = truth_of(&rec);
        if mine.is_empty() {
            scores.push(score_image(&truth, None));
        }
        for (stem, path) in mine {
            match ecgdig_eval::io::page::read(path) {
                Ok(page) => {
                    let mut t = truth.clone();
                    t.image = stem.clone();
                    scores.push(score_image(&t, Some(&page)));
                }
                Err(e) => problems.push(e),
            }
        }
    }
    Ok((scores, problems))
}

/// Ground truth of a Kaggle train record: each lead from its first to its
/// last finite sample (NaN inside scored as 0, as the reference scorer does).
pub fn truth_of(rec: &Record) -> ImageTruth {
    let leads = Lead::ALL
        .iter()
        .filter_map(|&lead| {
            let x = rec.lead(lead)?;
            let first = x.iter().position(|v| v.is_finite())?;
            let last = x.iter().rposition(|v| v.is_finite())?;
            Some(TruthLead {
                lead,
                offset: first,
                samples: x[first..=last]
                    .iter()
                    .map(|&v| if v.is_finite() { v as f64 } else { 0.0 })
                    .collect(),
            })
        })
        .collect();
    ImageTruth {
        image: rec.name.clone(),
        fs: rec.fs as f64,
        leads,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_values_fill_gaps_and_fall_back() {
        let mut s = Signals::empty(100.0, 1000);
        s.set(
            Lead::V1,
            LeadSignal {
                start: 500,
                samples: (0..250)
                    .map(|i| if i == 10 { f32::NAN } else { i as f32 })
                    .collect(),
                confidence: 1.0,
            },
        );
        // same window at twice the rate
        let v = lead_values(Some(&s), Lead::V1, 200.0, 500);
        assert_eq!(v.len(), 500);
        assert!(v.iter().all(|x| x.is_finite()));
        assert!((v[20] - 10.0).abs() < 1e-4); // the gap, interpolated
        assert!((v[21] - 10.5).abs() < 1e-4);
        // a lead that is absent, and no signals at all
        assert_eq!(lead_values(Some(&s), Lead::V2, 100.0, 7), vec![0.0; 7]);
        assert_eq!(lead_values(None, Lead::II, 100.0, 3), vec![0.0; 3]);
        // a full-page request of a windowed lead holds the edges
        let full = lead_values(Some(&s), Lead::V1, 100.0, 1000);
        assert_eq!(full[0], 0.0);
        assert_eq!(full[999], 249.0);
    }
}
