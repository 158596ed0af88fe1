//! The digitization scores, on arrays: alignment, per-lead powers, and the
//! per-image and overall figures.
//!
//! **Kaggle 2025** ("PhysioNet - Digitization of ECG Images"), as in the
//! reference scorer `ecg_score.py`:
//! * per lead: unpredicted samples are 0; both signals are centred and
//!   cross-correlated; the lag with the largest correlation within
//!   `±int(0.2 fs)` samples wins (ties: smallest |lag|, then the negative
//!   one); the prediction is shifted by it (samples shifted in are missing),
//!   the vertical offset that minimises the squared error over the finite
//!   overlap is removed, and missing samples count as 0;
//! * per image: `SNR = Σ_leads Σ label² / Σ_leads Σ (label - aligned)²`,
//!   `cap` when the noise is 0, 0 when the signal is 0, at most `cap`;
//! * overall: `10·log10(mean over images of the linear SNR)`.
//!
//! "Capped" uses Kaggle's cap of 384 (25.84 dB); "uncapped" uses
//! [`UNCAPPED_CAP`] = 1e6 (60 dB), as `ecg_score.py --cap 1e6` does, so a
//! perfect image stays finite.
//!
//! **Challenge 2024** (PhysioNet/CinC 2024 digitization): per lead
//! `10·log10(Σ label² / Σ (label - aligned)²)` on the same aligned
//! prediction, averaged over every (image, lead) pair. As in the Challenge's
//! `nanmean`, leads whose true signal power is 0 are skipped; unlike it, a
//! lead with zero noise scores 60 dB (linear 1e6) instead of +∞, and every
//! lead SNR is limited to 60 dB, so that one perfect lead cannot make the
//! mean infinite.

use ecgdig_core::leads::{Lead, N_LEADS};

/// Kaggle's per-image cap (25.84 dB).
pub const KAGGLE_CAP: f64 = 384.0;
/// The cap used for "uncapped" figures (60 dB).
pub const UNCAPPED_CAP: f64 = 1e6;
/// Largest time shift searched by the alignment, seconds.
pub const MAX_SHIFT_SECONDS: f64 = 0.2;

/// Largest lag searched at a sampling rate, `int(0.2 * fs)`.
pub fn max_shift(fs: f64) -> usize {
    (fs * MAX_SHIFT_SECONDS).max(0.0) as usize
}

/// Decibels of a linear ratio, floored at -120 dB like the reference.
pub fn db(linear: f64) -> f64 {
    10.0 * linear.max(1e-12).log10()
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Dot product with four accumulators (vectorises well).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    let (ac, bc) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f64 = ar.iter().zip(br).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The lag maximising `Σ_n lc[n + lag] · pc[n]` over `|lag| <= max_shift`
/// (and lags where the signals overlap); ties go to the smallest |lag|,
/// then to the negative lag.
pub fn best_lag(lc: &[f64], pc: &[f64], max_shift: usize) -> i64 {
    let (nl, np, m) = (lc.len() as i64, pc.len() as i64, max_shift as i64);
    if nl == 0 || np == 0 {
        return 0;
    }
    let (lo, hi) = ((-(np - 1)).max(-m), (nl - 1).min(m));
    let mut best = (f64::NEG_INFINITY, 0i64);
    for lag in lo..=hi {
        let n0 = (-lag).max(0);
        let n1 = np.min(nl - lag);
        let c = if n1 > n0 {
            dot(
                &lc[(n0 + lag) as usize..(n1 + lag) as usize],
                &pc[n0 as usize..n1 as usize],
            )
        } else {
            0.0
        };
        if c > best.0 || (c == best.0 && lag.abs() < best.1.abs()) {
            best = (c, lag);
        }
    }
    best.1
}

/// A prediction aligned to its label.
#[derive(Clone, Debug, PartialEq)]
pub struct Alignment {
    /// `aligned[n + lag] = pred[n]`.
    pub lag: i64,
    /// Vertical offset removed (mean of prediction minus label over the overlap).
    pub offset: f64,
    /// Shifted, offset-corrected prediction; samples shifted in are 0.
    pub aligned: Vec<f64>,
}

/// Aligns a finite prediction to a finite label (see the module docs).
pub fn align(label: &[f64], pred: &[f64], max_shift: usize) -> Alignment {
    let lm = mean(label);
    let lc: Vec<f64> = label.iter().map(|v| v - lm).collect();
    let pm = mean(pred);
    let pc: Vec<f64> = pred.iter().map(|v| v - pm).collect();
    let lag = best_lag(&lc, &pc, max_shift);
    let (nl, np) = (label.len() as i64, pred.len() as i64);
    let (s0, s1) = ((-lag).max(0), (nl - lag).min(np));
    let mut aligned = vec![0.0; label.len()];
    let mut offset = 0.0;
    if s1 > s0 {
        let (d0, d1) = ((s0 + lag) as usize, (s1 + lag) as usize);
        let src = &pred[s0 as usize..s1 as usize];
        offset = src
            .iter()
            .zip(&label[d0..d1])
            .map(|(p, l)| p - l)
            .sum::<f64>()
            / src.len() as f64;
        for (o, p) in aligned[d0..d1].iter_mut().zip(src) {
            *o = p - offset;
        }
    }
    Alignment {
        lag,
        offset,
        aligned,
    }
}

/// Resamples `p` to `n` samples by linear interpolation over the same span
/// (the reference's fallback when a prediction has another length).
fn stretch(p: &[f64], n: usize) -> Vec<f64> {
    match p.len() {
        0 => vec![0.0; n],
        1 => vec![p[0]; n],
        len => (0..n)
            .map(|i| {
                let x = if n > 1 {
                    i as f64 / (n - 1) as f64 * (len - 1) as f64
                } else {
                    0.0
                };
                let j = (x.floor() as usize).min(len - 2);
                p[j] + (p[j + 1] - p[j]) * (x - j as f64)
            })
            .collect(),
    }
}

/// Signal and noise power of one lead.
#[derive(Clone, Debug, PartialEq)]
pub struct LeadScore {
    pub lead: Lead,
    /// `Σ label²`.
    pub signal: f64,
    /// `Σ (label - aligned)²`.
    pub noise: f64,
    /// Lag chosen by the alignment, samples.
    pub lag: i64,
    /// False when the prediction had nothing for this lead (scored as zeros).
    pub predicted: bool,
}

impl LeadScore {
    /// Lead SNR in dB for the Challenge-2024 figure and the per-lead table;
    /// `None` when the true signal power is 0; at most 60 dB.
    pub fn snr_db(&self) -> Option<f64> {
        if self.signal <= 0.0 {
            None
        } else if self.noise <= 0.0 {
            Some(db(UNCAPPED_CAP))
        } else {
            Some(db((self.signal / self.noise).min(UNCAPPED_CAP)))
        }
    }
}

/// Scores one lead. `pred` is `None` when nothing was predicted; NaN and
/// infinite predicted samples count as 0.
pub fn score_lead(lead: Lead, label: &[f64], pred: Option<&[f64]>, fs: f64) -> LeadScore {
    let clean = |v: &f64| if v.is_finite() { *v } else { 0.0 };
    let p: Vec<f64> = match pred {
        Some(p) if p.len() == label.len() => p.iter().map(clean).collect(),
        Some(p) => stretch(p, label.len()).iter().map(clean).collect(),
        None => vec![0.0; label.len()],
    };
    let signal: f64 = label.iter().map(|v| v * v).sum();
    if label.is_empty() {
        return LeadScore {
            lead,
            signal,
            noise: 0.0,
            lag: 0,
            predicted: pred.is_some(),
        };
    }
    let a = align(label, &p, max_shift(fs));
    let noise = label
        .iter()
        .zip(&a.aligned)
        .map(|(l, x)| (l - x) * (l - x))
        .sum();
    LeadScore {
        lead,
        signal,
        noise,
        lag: a.lag,
        predicted: pred.is_some(),
    }
}

/// The scores of one image.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageScore {
    pub image: String,
    /// True when there was no prediction file (scored as all zeros).
    pub missing: bool,
    pub leads: Vec<LeadScore>,
}

impl ImageScore {
    pub fn signal(&self) -> f64 {
        self.leads.iter().map(|l| l.signal).sum()
    }
    pub fn noise(&self) -> f64 {
        self.leads.iter().map(|l| l.noise).sum()
    }
    /// Linear per-image SNR, limited to `cap`.
    pub fn snr(&self, cap: f64) -> f64 {
        let (s, n) = (self.signal(), self.noise());
        if n == 0.0 {
            cap
        } else if s == 0.0 {
            0.0
        } else {
            (s / n).min(cap)
        }
    }
    pub fn snr_db(&self, cap: f64) -> f64 {
        db(self.snr(cap))
    }
    pub fn lead(&self, lead: Lead) -> Option<&LeadScore> {
        self.leads.iter().find(|l| l.lead == lead)
    }
}

/// `10·log10` of the mean linear per-image SNR; NaN without images.
pub fn mean_snr_db(images: &[ImageScore], cap: f64) -> f64 {
    if images.is_empty() {
        return f64::NAN;
    }
    db(images.iter().map(|i| i.snr(cap)).sum::<f64>() / images.len() as f64)
}

/// The Challenge-2024 figure: mean lead SNR in dB over all (image, lead) pairs.
pub fn challenge2024_db(images: &[ImageScore]) -> f64 {
    let v: Vec<f64> = images
        .iter()
        .flat_map(|i| i.leads.iter().filter_map(LeadScore::snr_db))
        .collect();
    if v.is_empty() {
        f64::NAN
    } else {
        mean(&v)
    }
}

/// Mean lead SNR in dB per lead over the images that have it, by [`Lead::index`].
pub fn per_lead_mean_db(images: &[ImageScore]) -> [Option<f64>; N_LEADS] {
    let mut out = [None; N_LEADS];
    for lead in Lead::ALL {
        let v: Vec<f64> = images
            .iter()
            .filter_map(|i| i.lead(lead).and_then(LeadScore::snr_db))
            .collect();
        if !v.is_empty() {
            out[lead.index()] = Some(mean(&v));
        }
    }
    out
}

/// The headline figures of a set of images.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub cap: f64,
    pub mean_db_capped: f64,
    pub mean_db_uncapped: f64,
    pub challenge2024_db: f64,
    pub images: usize,
    pub missing: usize,
    pub per_lead_db: [Option<f64>; N_LEADS],
}

pub fn summarize(images: &[ImageScore], cap: f64) -> Summary {
    Summary {
        cap,
        mean_db_capped: mean_snr_db(images, cap),
        mean_db_uncapped: mean_snr_db(images, UNCAPPED_CAP),
        challenge2024_db: challenge2024_db(images),
        images: images.len(),
        missing: images.iter().filter(|i| i.missing).count(),
        per_lead_db: per_lead_mean_db(images),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic, non-periodic ECG-like test signal.
    fn wave(n: usize, fs: f64) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let t = i as f64 / fs;
                (2.0 * std::f64::consts::PI * 1.1 * t).sin()
                    + 0.5 * (2.0 * std::f64::consts::PI * 3.7 * t).sin()
                    + 0.3 * (t * t * 0.7).cos()
            })
            .collect()
    }

    fn delayed(x: &[f64], s: usize) -> Vec<f64> {
        (0..x.len())
            .map(|i| if i >= s { x[i - s] } else { 0.0 })
            .collect()
    }

    fn image(leads: Vec<LeadScore>) -> ImageScore {
        ImageScore {
            image: "t".into(),
            missing: false,
            leads,
        }
    }

    #[test]
    fn max_shift_matches_int_of_point_two_fs() {
        assert_eq!(max_shift(500.0), 100);
        assert_eq!(max_shift(1000.0), 200);
        assert_eq!(max_shift(100.0), 20);
        assert_eq!(max_shift(257.0), 51);
    }

    #[test]
    fn shift_of_0_19_s_is_recovered_and_0_3_s_is_not() {
        let fs = 500.0;
        let label = wave(2500, fs);
        let near = delayed(&label, 95);
        let s = score_lead(Lead::II, &label, Some(&near), fs);
        assert_eq!(s.lag, -95);
        // the overlap is exact; only the 95 samples shifted in remain as noise
        let tail: f64 = label[2405..].iter().map(|v| v * v).sum();
        assert!(
            (s.noise - tail).abs() < 1e-9 * tail,
            "{} vs {tail}",
            s.noise
        );
        let far = delayed(&label, 150);
        let f = score_lead(Lead::II, &label, Some(&far), fs);
        assert!(f.lag.abs() <= 100);
        assert!(db(f.signal / f.noise) < db(s.signal / s.noise) - 10.0);
    }

    #[test]
    fn ties_go_to_the_smallest_lag_then_the_negative_one() {
        // integer samples with zero means: correlations are exact, lags +-3 tie
        let label = [-1.0, 2.0, -1.0, 0.0, 0.0, 0.0, -1.0, 2.0, -1.0];
        let pred = [0.0, 0.0, 0.0, -1.0, 2.0, -1.0, 0.0, 0.0, 0.0];
        assert_eq!(best_lag(&label, &pred, 4), -3);
        // an all-zero prediction correlates 0 everywhere: lag 0
        assert_eq!(best_lag(&label, &[0.0; 9], 4), 0);
        // within +-2 the best correlations (1) tie again at +-1
        assert_eq!(best_lag(&label, &pred, 2), -1);
    }

    #[test]
    fn vertical_offset_is_removed_and_perfect_hits_the_cap() {
        let label = wave(1250, 500.0);
        let lifted: Vec<f64> = label.iter().map(|v| v + 3.25).collect();
        let s = score_lead(Lead::I, &label, Some(&lifted), 500.0);
        assert_eq!(s.lag, 0);
        let im = image(vec![s]);
        assert_eq!(im.snr(KAGGLE_CAP), KAGGLE_CAP);
        assert!((im.snr_db(KAGGLE_CAP) - 25.843).abs() < 1e-3);
        assert!(im.snr_db(UNCAPPED_CAP) > 59.0);
        let exact = image(vec![score_lead(Lead::I, &label, Some(&label), 500.0)]);
        assert_eq!(exact.noise(), 0.0);
        assert_eq!(exact.snr(KAGGLE_CAP), KAGGLE_CAP);
        assert_eq!(exact.snr(UNCAPPED_CAP), UNCAPPED_CAP);
        assert_eq!(exact.leads[0].snr_db(), Some(60.0));
    }

    #[test]
    fn zero_and_missing_predictions_leave_only_the_mean_matched() {
        let label: Vec<f64> = wave(1000, 500.0).iter().map(|v| v + 0.5).collect();
        let m = mean(&label);
        let centred: f64 = label.iter().map(|v| (v - m) * (v - m)).sum();
        let zero = score_lead(Lead::V1, &label, Some(&vec![0.0; 1000]), 500.0);
        assert_eq!(zero.lag, 0);
        assert!((zero.noise - centred).abs() < 1e-9 * centred);
        let missing = score_lead(Lead::V1, &label, None, 500.0);
        assert_eq!((missing.noise, missing.predicted), (zero.noise, false));
        // NaN predictions count as 0
        let nan = score_lead(Lead::V1, &label, Some(&vec![f64::NAN; 1000]), 500.0);
        assert_eq!(nan.noise, zero.noise);
    }

    #[test]
    fn image_snr_sums_powers_over_leads() {
        let a = LeadScore {
            lead: Lead::I,
            signal: 10.0,
            noise: 1.0,
            lag: 0,
            predicted: true,
        };
        let b = LeadScore {
            lead: Lead::II,
            signal: 30.0,
            noise: 3.0,
            ..a.clone()
        };
        let im = image(vec![a.clone(), b]);
        assert_eq!(im.snr(KAGGLE_CAP), 10.0);
        let silent = LeadScore {
            signal: 0.0,
            noise: 2.0,
            ..a.clone()
        };
        assert_eq!(image(vec![silent.clone()]).snr(KAGGLE_CAP), 0.0);
        assert_eq!(silent.snr_db(), None);
        // mean of linear SNRs, not of dB
        let low = image(vec![LeadScore {
            signal: 1.0,
            noise: 1.0,
            ..a.clone()
        }]);
        let two = [im.clone(), low];
        assert!((mean_snr_db(&two, KAGGLE_CAP) - db(5.5)).abs() < 1e-12);
        // the Challenge figure averages lead dB values
        let c = challenge2024_db(&two);
        assert!((c - (10.0 + 10.0 + 0.0) / 3.0).abs() < 1e-9, "{c}");
        let s = summarize(&two, KAGGLE_CAP);
        assert_eq!((s.images, s.missing), (2, 0));
        assert!((s.per_lead_db[0].unwrap() - 5.0).abs() < 1e-9);
        assert!(mean_snr_db(&[], KAGGLE_CAP).is_nan());
    }

    #[test]
    fn a_short_prediction_is_stretched_over_the_label() {
        assert_eq!(stretch(&[0.0, 2.0], 3), vec![0.0, 1.0, 2.0]);
        assert_eq!(stretch(&[4.0], 2), vec![4.0, 4.0]);
    }
}
