//! Peak finding by prominence with a refractory distance, and an R-peak
//! detector built on it (band-pass, energy envelope, prominent peaks).

use super::filter::{bandpass, highpass};
use super::{fill_gaps, quantile};

/// Local maxima of `x` whose prominence is at least `min_prominence`, at
/// least `min_distance` samples apart (the higher peak wins, as in SciPy's
/// `find_peaks`). Returned in increasing order.
pub fn find_peaks(x: &[f32], min_distance: usize, min_prominence: f32) -> Vec<usize> {
    let n = x.len();
    let mut cands = Vec::new();
    let mut i = 1;
    while i + 1 < n {
        if x[i] > x[i - 1] {
            // walk over a plateau
            let mut j = i;
            while j + 1 < n && x[j + 1] == x[i] {
                j += 1;
            }
            if j + 1 < n && x[j + 1] < x[i] {
                cands.push((i + j) / 2);
            }
            i = j + 1;
        } else {
            i += 1;
        }
    }
    let prominent: Vec<usize> = cands
        .into_iter()
        .filter(|&p| prominence(x, p) >= min_prominence)
        .collect();
    // refractory distance: keep the highest peaks first
    let mut order = prominent.clone();
    order.sort_by(|&a, &b| x[b].total_cmp(&x[a]));
    let mut kept: Vec<usize> = Vec::new();
    for p in order {
        if kept.iter().all(|&k| k.abs_diff(p) >= min_distance) {
            kept.push(p);
        }
    }
    kept.sort_unstable();
    kept
}

/// Prominence of the peak at `p`: its height above the higher of the two
/// lowest points between it and a higher sample (or the signal's end) on
/// either side.
pub fn prominence(x: &[f32], p: usize) -> f32 {
    let h = x[p];
    let mut left_min = h;
    for &v in x[..p].iter().rev() {
        if v > h {
            break;
        }
        left_min = left_min.min(v);
    }
    let mut right_min = h;
    for &v in &x[p + 1..] {
        if v > h {
            break;
        }
        right_min = right_min.min(v);
    }
    h - left_min.max(right_min)
}

/// Parameters of [`detect_r_peaks`].
#[derive(Clone, Copy, Debug)]
pub struct RPeakParams {
    /// Band-pass edges, Hz (QRS energy).
    pub band_hz: [f32; 2],
    /// Smallest interval between two beats, seconds (refractory period).
    pub refractory_seconds: f32,
    /// Minimum prominence as a fraction of the envelope's 99th percentile.
    pub rel_prominence: f32,
}

impl Default for RPeakParams {
    fn default() -> Self {
        Self {
            band_hz: [5.0, 25.0],
            refractory_seconds: 0.25,
            rel_prominence: 0.3,
        }
    }
}

/// R-peak sample indices of one lead: band-pass, squared and smoothed over
/// 60 ms into a QRS energy envelope, then prominent peaks at least the
/// refractory period apart. Empty for a signal shorter than 0.5 s, all-NaN
/// or flat.
pub fn detect_r_peaks(x: &[f32], fs: f32, p: &RPeakParams) -> Vec<usize> {
    if fs <= 0.0 || (x.len() as f32) < 0.5 * fs {
        return Vec::new();
    }
    let Some(x) = fill_gaps(x) else {
        return Vec::new();
    };
    let hi = p.band_hz[1].min(0.45 * fs);
    let bp = bandpass(&x, fs, p.band_hz[0], hi);
    let env = moving_average(&bp.iter().map(|v| v * v).collect::<Vec<_>>(), 0.06 * fs);
    let Some(top) = quantile(&env, 0.99) else {
        return Vec::new();
    };
    if top <= 1e-12 {
        return Vec::new();
    }
    let dist = (p.refractory_seconds * fs).round().max(1.0) as usize;
    let coarse = find_peaks(&env, dist, p.rel_prominence * top);
    // refine: the largest deviation from the baseline within 60 ms (either polarity)
    let hp = highpass(&x, fs, 0.5);
    let reach = (0.06 * fs).round() as usize;
    let mut refined: Vec<usize> = coarse
        .iter()
        .map(|&c| {
            let a = c.saturating_sub(reach);
            let b = (c + reach + 1).min(hp.len());
            (a..b)
                .max_by(|&i, &j| hp[i].abs().total_cmp(&hp[j].abs()))
                .unwrap_or(c)
        })
        .collect();
    refined.dedup();
    refined
}

/// Heart rate from R-peak indices: 60 / median RR, beats per minute.
/// RR intervals outside 0.25..2.5 s are ignored; `None` with fewer than 2 beats.
pub fn heart_rate_bpm(peaks: &[usize], fs: f32) -> Option<f32> {
    let mut rr: Vec<f32> = peaks
        .windows(2)
        .map(|w| (w[1] - w[0]) as f32 / fs)
        .filter(|r| (0.25..=2.5).contains(r))
        .collect();
    crate::signals::einthoven::median(&mut rr).map(|m| 60.0 / m)
}

/// Centred moving average over `width` samples (at least 1).
fn moving_average(x: &[f32], width: f32) -> Vec<f32> {
    let w = (width.round() as usize).max(1);
    let half = w / 2;
    let mut prefix = Vec::with_capacity(x.len() + 1);
    prefix.push(0.0f64);
    for &v in x {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + v as f64);
    }
    (0..x.len())
        .map(|i| {
            let a = i.saturating_sub(half);
            let b = (i + w - half).min(x.len());
            ((prefix[b] - prefix[a]) / (b - a) as f64) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A crude ECG: Gaussian QRS spikes at `bpm`, a small T wave, baseline drift.
    pub fn synthetic_ecg(bpm: f32, fs: f32, seconds: f32) -> (Vec<f32>, Vec<usize>) {
        let n = (fs * seconds) as usize;
        let rr = 60.0 / bpm;
        let mut r_idx = Vec::new();
        let mut t = 0.4;
        while ((t * fs).round() as usize) < n {
            r_idx.push((t * fs).round() as usize);
            t += rr;
        }
        let x = (0..n)
            .map(|i| {
                let ti = i as f32 / fs;
                let mut v = 0.3 * (2.0 * std::f32::consts::PI * 0.2 * ti).sin();
                for &r in &r_idx {
                    let d = ti - r as f32 / fs;
                    v += 1.2 * (-(d / 0.012).powi(2)).exp();
                    v += 0.3 * (-((d - 0.28) / 0.06).powi(2)).exp();
                }
                v
            })
            .collect();
        (x, r_idx)
    }

    #[test]
    fn find_peaks_uses_prominence_and_distance() {
        let x = [0.0, 1.0, 0.0, 5.0, 4.5, 4.9, 0.0, 0.2, 0.1, 3.0, 0.0];
        assert_eq!(find_peaks(&x, 1, 0.5), vec![1, 3, 9]);
        assert_eq!(find_peaks(&x, 4, 0.5), vec![3, 9]);
        assert_eq!(find_peaks(&x, 1, 2.0), vec![3, 9]);
        assert!(find_peaks(&[1.0, 1.0, 1.0], 1, 0.0).is_empty());
        assert_eq!(find_peaks(&[0.0, 2.0, 2.0, 2.0, 0.0], 1, 1.0), vec![2]);
    }

    #[test]
    fn detects_r_peaks_at_72_bpm() {
        let fs = 500.0;
        let (x, truth) = synthetic_ecg(72.0, fs, 10.0);
        let peaks = detect_r_peaks(&x, fs, &RPeakParams::default());
        assert_eq!(peaks.len(), truth.len(), "{peaks:?} vs {truth:?}");
        for (p, t) in peaks.iter().zip(&truth) {
            assert!(p.abs_diff(*t) <= 3, "{p} vs {t}");
        }
        let bpm = heart_rate_bpm(&peaks, fs).unwrap();
        assert!((bpm - 72.0).abs() < 1.0, "{bpm}");
    }

    #[test]
    fn inverted_lead_and_low_rate_work() {
        let fs = 100.0;
        let (x, truth) = synthetic_ecg(50.0, fs, 10.0);
        let neg: Vec<f32> = x.iter().map(|v| -v).collect();
        let peaks = detect_r_peaks(&neg, fs, &RPeakParams::default());
        assert_eq!(peaks, truth);
    }

    #[test]
    fn flat_short_and_missing_give_nothing() {
        let p = RPeakParams::default();
        assert!(detect_r_peaks(&vec![0.5; 5000], 500.0, &p).is_empty());
        assert!(detect_r_peaks(&[1.0, 2.0], 500.0, &p).is_empty());
        assert!(detect_r_peaks(&vec![f32::NAN; 5000], 500.0, &p).is_empty());
        assert_eq!(heart_rate_bpm(&[10], 500.0), None);
    }
}
