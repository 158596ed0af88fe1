//! Small signal-processing helpers shared by the template and reconstruction
//! stages: gap filling, zero-phase Butterworth filters, prominence-based peak
//! finding, R-peak detection and linear resampling.
//!
//! Everything works on `f32` slices of one lead at one sampling rate and is
//! robust to short, flat or partly missing (NaN) input: functions return an
//! empty result rather than failing.

pub mod filter;
pub mod peaks;

pub use filter::{bandpass, highpass, Biquad};
pub use peaks::{detect_r_peaks, find_peaks, heart_rate_bpm, RPeakParams};

/// Linearly interpolates over NaN/inf gaps; values before the first and after
/// the last finite sample hold those samples. `None` when nothing is finite.
pub fn fill_gaps(x: &[f32]) -> Option<Vec<f32>> {
    let finite: Vec<usize> = (0..x.len()).filter(|&i| x[i].is_finite()).collect();
    let (&first, &last) = (finite.first()?, finite.last()?);
    let mut out = x.to_vec();
    out[..first].fill(x[first]);
    out[last..].fill(x[last]);
    for w in finite.windows(2) {
        let (a, b) = (w[0], w[1]);
        if b > a + 1 {
            let (va, vb) = (x[a], x[b]);
            for (i, o) in out.iter_mut().enumerate().take(b).skip(a + 1) {
                let f = (i - a) as f32 / (b - a) as f32;
                *o = va + f * (vb - va);
            }
        }
    }
    Some(out)
}

/// Value of `x` at fractional index `pos` (linear interpolation, clamped).
pub fn sample_at(x: &[f32], pos: f32) -> f32 {
    if x.is_empty() {
        return f32::NAN;
    }
    if pos <= 0.0 {
        return x[0];
    }
    let last = x.len() - 1;
    if pos >= last as f32 {
        return x[last];
    }
    let i = pos.floor() as usize;
    let f = pos - i as f32;
    x[i] + f * (x[i + 1] - x[i])
}

/// Resamples `x` to `n` samples so that the first and last samples map onto
/// each other (linear interpolation).
pub fn resample_linear(x: &[f32], n: usize) -> Vec<f32> {
    if n == 0 || x.is_empty() {
        return Vec::new();
    }
    if n == 1 {
        return vec![x[0]];
    }
    // Positions in f64 so that rounding cannot move the ends: the last
    // output sample is the last input sample exactly.
    let last = x.len() - 1;
    let scale = last as f64 / (n - 1) as f64;
    (0..n)
        .map(|i| {
            if i == n - 1 {
                x[last]
            } else {
                sample_at(x, (i as f64 * scale) as f32)
            }
        })
        .collect()
}

/// Resamples a signal from rate `fs_in` to `fs_out` over the same duration
/// (`round(len * fs_out / fs_in)` samples, sample `i` at time `i / fs_out`).
pub fn resample_rate(x: &[f32], fs_in: f32, fs_out: f32) -> Vec<f32> {
    if x.is_empty() || fs_in <= 0.0 || fs_out <= 0.0 {
        return Vec::new();
    }
    let n = (x.len() as f64 * fs_out as f64 / fs_in as f64).round() as usize;
    let r = fs_in / fs_out;
    (0..n).map(|i| sample_at(x, i as f32 * r)).collect()
}

/// The `q`-quantile (0..1) of the finite values, `None` when there are none.
pub fn quantile(x: &[f32], q: f32) -> Option<f32> {
    let mut v: Vec<f32> = x.iter().copied().filter(|v| v.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let k = ((v.len() - 1) as f32 * q.clamp(0.0, 1.0)).round() as usize;
    let (_, m, _) = v.select_nth_unstable_by(k, f32::total_cmp);
    Some(*m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resample_linear_ends_on_the_last_sample_exactly() {
        // A step at the very end: any rounding of the final position below
        // `len - 1` would blend in the previous sample.
        for len in [3usize, 97, 251, 399] {
            let mut x = vec![0.0f32; len];
            x[len - 1] = 4.9;
            for n in [2usize, 333, 777, 998, 999] {
                let y = resample_linear(&x, n);
                assert_eq!(y[n - 1], 4.9, "len {len}, n {n}");
            }
        }
    }

    #[test]
    fn fill_gaps_interpolates_and_holds_edges() {
        let x = [f32::NAN, 1.0, f32::NAN, f32::NAN, 4.0, f32::INFINITY];
        assert_eq!(fill_gaps(&x).unwrap(), vec![1.0, 1.0, 2.0, 3.0, 4.0, 4.0]);
        assert!(fill_gaps(&[f32::NAN, f32::NAN]).is_none());
        assert!(fill_gaps(&[]).is_none());
    }

    #[test]
    fn resampling_keeps_a_ramp_a_ramp() {
        let x: Vec<f32> = (0..11).map(|i| i as f32).collect();
        let y = resample_linear(&x, 21);
        assert_eq!(y.len(), 21);
        assert!((y[1] - 0.5).abs() < 1e-6 && (y[20] - 10.0).abs() < 1e-6);
        let z = resample_rate(&x, 10.0, 20.0);
        assert_eq!(z.len(), 22);
        assert!((z[3] - 1.5).abs() < 1e-6);
        assert!(resample_linear(&[], 5).is_empty());
    }

    #[test]
    fn quantile_of_a_ramp() {
        let x: Vec<f32> = (0..101).map(|i| i as f32).collect();
        assert_eq!(quantile(&x, 0.9), Some(90.0));
        assert_eq!(quantile(&[f32::NAN], 0.5), None);
    }
}
