//! Scoring predicted page CSVs (`<pred>/<image>.csv`) against a truth folder.
//!
//! A predicted page covers 10 s; its rate is `rows / 10`. Each true lead's
//! window is cut out of it at the truth's rate by linear interpolation in
//! time over the lead's finite predicted samples, exactly as the reference
//! scorer's `predicted_windows`: times more than half a predicted sample
//! outside the finite run stay missing (scored as 0). A missing prediction
//! file scores as an all-zero prediction.

use crate::io::page::{self, Page};
use crate::metric::{score_lead, ImageScore};
use crate::truth::{self, ImageTruth};
use rayon::prelude::*;
use std::path::Path;

/// Duration of a predicted page, seconds.
pub const PAGE_SECONDS: f64 = 10.0;

/// `np.interp` for increasing `x`: clamps outside `xp`, linear inside.
fn interp_sorted(x: &[f64], xp: &[f64], fp: &[f64]) -> Vec<f64> {
    let last = xp.len() - 1;
    let mut j = 0usize;
    x.iter()
        .map(|&t| {
            if t >= xp[last] {
                return fp[last];
            }
            if t <= xp[0] {
                return fp[0];
            }
            while j + 1 < last && xp[j + 1] <= t {
                j += 1;
            }
            if xp[j] == t {
                return fp[j];
            }
            let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
            slope * (t - xp[j]) + fp[j]
        })
        .collect()
}

/// Cuts each true lead's window out of a predicted page, at the truth's
/// rate. Parallel to `truth.leads`; `None` where the page has no finite
/// sample of that lead.
pub fn predicted_windows(page: &Page, truth: &ImageTruth) -> Vec<Option<Vec<f64>>> {
    let fs_pred = page.rows as f64 / PAGE_SECONDS;
    truth
        .leads
        .iter()
        .map(|tl| {
            let v = page.lead(tl.lead)?;
            let fin: Vec<usize> = (0..v.len()).filter(|&i| v[i].is_finite()).collect();
            if fin.is_empty() {
                return None;
            }
            let t_have: Vec<f64> = fin.iter().map(|&i| i as f64 / fs_pred).collect();
            let f_have: Vec<f64> = fin.iter().map(|&i| v[i]).collect();
            let t_want: Vec<f64> = (0..tl.samples.len())
                .map(|j| (tl.offset + j) as f64 / truth.fs)
                .collect();
            let mut out = interp_sorted(&t_want, &t_have, &f_have);
            let (lo, hi) = (
                t_have[0] - 0.5 / fs_pred,
                t_have[t_have.len() - 1] + 0.5 / fs_pred,
            );
            for (o, t) in out.iter_mut().zip(&t_want) {
                if *t < lo || *t > hi {
                    *o = f64::NAN;
                }
            }
            Some(out)
        })
        .collect()
}

/// Scores one image; `page` is `None` when the prediction file is missing.
pub fn score_image(truth: &ImageTruth, page: Option<&Page>) -> ImageScore {
    let windows = match page {
        Some(p) => predicted_windows(p, truth),
        None => vec![None; truth.leads.len()],
    };
    ImageScore {
        image: truth.image.clone(),
        missing: page.is_none(),
        leads: truth
            .leads
            .iter()
            .zip(&windows)
            .map(|(tl, w)| score_lead(tl.lead, &tl.samples, w.as_deref(), truth.fs))
            .collect(),
    }
}

/// Loads the truth of `image` and its prediction `<pred_dir>/<image>.csv`, and scores it.
pub fn score_file(truth_dir: &Path, pred_dir: &Path, image: &str) -> Result<ImageScore, String> {
    let t = truth::read_truth(truth_dir, image)?;
    let path = pred_dir.join(format!("{image}.csv"));
    let page = if path.exists() {
        Some(page::read(&path)?)
    } else {
        None
    };
    Ok(score_image(&t, page.as_ref()))
}

/// Scores `images` (default: every image of the truth folder) in parallel.
/// Fails with every problem found (one per line) if any image cannot be
/// scored (unreadable truth, malformed prediction).
pub fn score_folder(
    truth_dir: &Path,
    pred_dir: &Path,
    images: Option<&[String]>,
) -> Result<Vec<ImageScore>, String> {
    let listed;
    let images = match images {
        Some(v) => v,
        None => {
            listed = truth::list_images(truth_dir)?;
            &listed[..]
        }
    };
    let results: Vec<Result<ImageScore, String>> = images
        .par_iter()
        .map(|im| score_file(truth_dir, pred_dir, im))
        .collect();
    let errors: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err().cloned())
        .collect();
    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }
    Ok(results.into_iter().filter_map(Result::ok).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::KAGGLE_CAP;
    use crate::truth::TruthLead;
    use ecgdig_core::leads::{Lead, N_LEADS};

    fn truth(fs: f64, offset: usize, samples: Vec<f64>) -> ImageTruth {
        ImageTruth {
            image: "im".into(),
            fs,
            leads: vec![TruthLead {
                lead: Lead::II,
                offset,
                samples,
            }],
        }
    }

    fn page_with(lead: Lead, v: Vec<f64>) -> Page {
        let mut leads = vec![None; N_LEADS];
        let rows = v.len();
        leads[lead.index()] = Some(v);
        Page { rows, leads }
    }

    #[test]
    fn interp_matches_numpy_semantics() {
        let xp = [0.0, 1.0, 3.0];
        let fp = [0.0, 10.0, 30.0];
        assert_eq!(
            interp_sorted(&[-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 4.0], &xp, &fp),
            vec![0.0, 0.0, 5.0, 10.0, 20.0, 30.0, 30.0]
        );
        assert_eq!(interp_sorted(&[-1.0, 5.0], &[2.0], &[7.0]), vec![7.0, 7.0]);
    }

    #[test]
    fn a_page_at_half_the_rate_is_interpolated_in_time() {
        // truth at 8 Hz from page sample 4; prediction page at 4 Hz (40 rows / 10 s)
        let t = truth(8.0, 4, vec![0.0; 6]);
        let mut v = vec![f64::NAN; 40];
        for (i, x) in v.iter_mut().enumerate().skip(2).take(3) {
            *x = i as f64; // finite at rows 2, 3, 4 -> t = 0.5, 0.75, 1.0 s
        }
        let w = predicted_windows(&page_with(Lead::II, v), &t);
        let w = w[0].as_ref().unwrap();
        // wanted times 0.5, 0.625, ..., 1.125 s; the last is past 1.0 + 0.125 -> missing
        assert_eq!(&w[..5], &[2.0, 2.5, 3.0, 3.5, 4.0]);
        assert_eq!(w[5], 4.0); // exactly at the half-sample edge: kept (clamped)
                               // before the finite run: 0.25 s is more than half a sample (0.125 s) early
        let t2 = truth(8.0, 2, vec![0.0; 3]);
        let mut v2 = vec![f64::NAN; 40];
        v2[2..5].copy_from_slice(&[2.0, 3.0, 4.0]);
        let w2 = predicted_windows(&page_with(Lead::II, v2), &t2);
        let w2 = w2[0].as_ref().unwrap();
        assert!(w2[0].is_nan());
        assert_eq!(&w2[1..], &[2.0, 2.0]);
    }

    #[test]
    fn missing_leads_and_files_score_as_zeros() {
        let samples: Vec<f64> = (0..50).map(|i| ((i * 7) % 11) as f64 - 5.0).collect();
        let t = truth(5.0, 0, samples.clone());
        let other = page_with(Lead::V6, vec![1.0; 50]);
        let s = score_image(&t, Some(&other));
        assert!(!s.missing && !s.leads[0].predicted);
        let none = score_image(&t, None);
        assert!(none.missing);
        assert_eq!(s.noise(), none.noise());
        let perfect = score_image(&t, Some(&page_with(Lead::II, samples)));
        assert_eq!(perfect.snr(KAGGLE_CAP), KAGGLE_CAP);
    }
}
