//! Second-order Butterworth sections (RBJ cookbook, Q = 1/√2) applied
//! forward and backward (zero phase, squared magnitude response), with odd
//! reflection padding against edge transients.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// A normalised biquad: `y = b0 x + b1 x1 + b2 x2 - a1 y1 - a2 y2`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Biquad {
    pub b: [f64; 3],
    pub a: [f64; 2],
}

impl Biquad {
    /// 2nd-order Butterworth low-pass at `fc` Hz for a rate of `fs` Hz.
    pub fn lowpass(fc: f32, fs: f32) -> Self {
        let (cos, alpha) = Self::warp(fc, fs);
        let a0 = 1.0 + alpha;
        Self {
            b: [
                (1.0 - cos) / 2.0 / a0,
                (1.0 - cos) / a0,
                (1.0 - cos) / 2.0 / a0,
            ],
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
        }
    }

    /// 2nd-order Butterworth high-pass at `fc` Hz for a rate of `fs` Hz.
    pub fn highpass(fc: f32, fs: f32) -> Self {
        let (cos, alpha) = Self::warp(fc, fs);
        let a0 = 1.0 + alpha;
        Self {
            b: [
                (1.0 + cos) / 2.0 / a0,
                -(1.0 + cos) / a0,
                (1.0 + cos) / 2.0 / a0,
            ],
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
        }
    }

    fn warp(fc: f32, fs: f32) -> (f64, f64) {
        // keep the cut-off strictly inside (0, Nyquist)
        let f = (fc as f64).clamp(1e-3, 0.49 * fs as f64);
        let w0 = 2.0 * PI * f / fs as f64;
        (w0.cos(), w0.sin() / (2.0 * FRAC_1_SQRT_2))
    }

    /// Runs the section over `x` in place (direct form II transposed), with
    /// the state initialised to the steady state of the first sample.
    pub fn run(&self, x: &mut [f64]) {
        let Some(&x0) = x.first() else { return };
        let [b0, b1, b2] = self.b;
        let [a1, a2] = self.a;
        // steady state for a constant input x0: y = gain * x0
        let gain = (b0 + b1 + b2) / (1.0 + a1 + a2);
        let y0 = gain * x0;
        let mut z1 = y0 - b0 * x0;
        let mut z2 = b2 * x0 - a2 * y0;
        for v in x.iter_mut() {
            let xi = *v;
            let y = b0 * xi + z1;
            z1 = b1 * xi - a1 * y + z2;
            z2 = b2 * xi - a2 * y;
            *v = y;
        }
    }
}

/// Applies the sections forward then backward (zero phase) to a finite signal.
/// `pad` samples of odd reflection are added at both ends.
pub fn filtfilt(sections: &[Biquad], x: &[f32], pad: usize) -> Vec<f32> {
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    let pad = pad.min(n - 1);
    let mut buf: Vec<f64> = Vec::with_capacity(n + 2 * pad);
    let (first, last) = (x[0] as f64, x[n - 1] as f64);
    for i in (1..=pad).rev() {
        buf.push(2.0 * first - x[i] as f64);
    }
    buf.extend(x.iter().map(|&v| v as f64));
    for i in 1..=pad {
        buf.push(2.0 * last - x[n - 1 - i] as f64);
    }
    for s in sections {
        s.run(&mut buf);
    }
    buf.reverse();
    for s in sections {
        s.run(&mut buf);
    }
    buf.reverse();
    buf[pad..pad + n].iter().map(|&v| v as f32).collect()
}

/// Zero-phase band-pass `lo..hi` Hz (2nd-order high-pass and low-pass
/// sections, each applied twice). `hi` is clamped below Nyquist.
pub fn bandpass(x: &[f32], fs: f32, lo: f32, hi: f32) -> Vec<f32> {
    let sections = [Biquad::highpass(lo, fs), Biquad::lowpass(hi, fs)];
    filtfilt(&sections, x, (2.0 * fs / lo.max(0.1)) as usize)
}

/// Zero-phase 2nd-order (applied twice) high-pass at `fc` Hz: removes baseline wander.
pub fn highpass(x: &[f32], fs: f32, fc: f32) -> Vec<f32> {
    filtfilt(
        &[Biquad::highpass(fc, fs)],
        x,
        (2.0 * fs / fc.max(0.1)) as usize,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(f: f32, fs: f32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * f * i as f32 / fs).sin())
            .collect()
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn bandpass_passes_the_band_and_stops_the_rest() {
        let fs = 500.0;
        let n = 5000;
        let mid = bandpass(&sine(12.0, fs, n), fs, 5.0, 25.0);
        let low = bandpass(&sine(0.5, fs, n), fs, 5.0, 25.0);
        let high = bandpass(&sine(100.0, fs, n), fs, 5.0, 25.0);
        let core = 500..4500;
        assert!(rms(&mid[core.clone()]) > 0.6, "{}", rms(&mid[core.clone()]));
        assert!(
            rms(&low[core.clone()]) < 0.01,
            "{}",
            rms(&low[core.clone()])
        );
        assert!(rms(&high[core.clone()]) < 0.03, "{}", rms(&high[core]));
    }

    #[test]
    fn zero_phase_keeps_a_peak_in_place() {
        let fs = 500.0;
        let mut x = vec![0.0f32; 1000];
        for (i, v) in x.iter_mut().enumerate() {
            let d = (i as f32 - 500.0) / 8.0;
            *v = (-d * d).exp();
        }
        let y = bandpass(&x, fs, 5.0, 25.0);
        let argmax = (0..y.len()).max_by(|&a, &b| y[a].total_cmp(&y[b])).unwrap();
        assert_eq!(argmax, 500);
    }

    #[test]
    fn highpass_removes_offset_and_drift() {
        let fs = 100.0;
        let x: Vec<f32> = (0..2000).map(|i| 3.0 + 0.001 * i as f32).collect();
        let y = highpass(&x, fs, 0.5);
        assert!(y[200..1800].iter().all(|v| v.abs() < 0.02));
        assert!(highpass(&[], fs, 0.5).is_empty());
        assert_eq!(highpass(&[1.0], fs, 0.5).len(), 1);
    }
}
