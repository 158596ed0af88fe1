//! A synthetic 12-lead ECG: an ECGSYN-style (McSharry et al. 2003) Gaussian-wave
//! model of the cardiac dipole, projected onto the twelve standard leads.
//!
//! Input: [`SynthParams`] and a seed. Output: a [`Record`] in millivolts.
//!
//! Model:
//! - **Rhythm.** A beat train whose RR intervals follow the mean heart rate, with
//!   respiratory sinus arrhythmia (~0.25 Hz), a Mayer wave (~0.1 Hz) and a small
//!   random part (`hr_variability` is the relative standard deviation of RR).
//!   Each sample gets a cardiac phase: its time relative to the surrounding R peaks.
//! - **Heart vector.** `d(t) = sum_i a_i * u_i * g_i(t - tau_i)`: Gaussian waves
//!   P, Q, R, S, T (T asymmetric), each with a 3-D direction `u_i`. P and T
//!   centres scale with `sqrt(RR)` (Bazett), QRS does not, so QRS stays ~90 ms.
//!   Directions follow the frontal-plane `axis_degrees`; per-seed jitter of
//!   amplitudes, timings and directions is set by `morphology_jitter`.
//! - **Leads.** Electrode potentials, not leads, carry the baseline wander
//!   (respiration-rate sinusoids) and white noise, so the limb leads satisfy
//!   Einthoven's and Goldberger's relations exactly:
//!   `III = II - I`, `aVR = -(I+II)/2`, `aVL = I - II/2`, `aVF = II - I/2`.
//!   Precordial leads project the vector on transverse-plane directions
//!   (V1 at 115° ... V6 at 0°, measured from the patient's left toward anterior).
//!
//! Frame: x = patient's left, y = inferior (feet), z = anterior. Lead I sees
//! `x`, lead II sees `cos60 x + sin60 y`.
//!
//! Everything is deterministic for a given `(params, seed)` (ChaCha8).

use ecgdig_core::leads::Lead;
use ecgdig_core::record::Record;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

/// Parameters of the synthetic ECG.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SynthParams {
    /// Record name.
    pub name: String,
    /// Length of the record, seconds.
    pub duration_seconds: f32,
    /// Sampling rate, Hz.
    pub fs_hz: f32,
    /// Mean heart rate, beats per minute.
    pub heart_rate_bpm: f32,
    /// Relative standard deviation of the RR interval (0.03 = 3 %).
    pub hr_variability: f32,
    /// Mean frontal-plane QRS axis, degrees (0 = lead I, 90 = aVF).
    pub axis_degrees: f32,
    /// Scale of the QRS complex (R peak of the main vector ~1.3 mV at 1).
    pub qrs_scale: f32,
    /// Scale of the P wave.
    pub p_scale: f32,
    /// Scale of the T wave.
    pub t_scale: f32,
    /// Peak amplitude of the per-electrode baseline wander, mV.
    pub baseline_wander_mv: f32,
    /// Standard deviation of the per-electrode white noise, mV.
    pub noise_mv: f32,
    /// 0..1: how much the seed perturbs wave amplitudes, timings and directions.
    pub morphology_jitter: f32,
}

impl Default for SynthParams {
    fn default() -> Self {
        Self {
            name: "synthetic".to_string(),
            duration_seconds: 10.0,
            fs_hz: 500.0,
            heart_rate_bpm: 72.0,
            hr_variability: 0.03,
            axis_degrees: 55.0,
            qrs_scale: 1.0,
            p_scale: 1.0,
            t_scale: 1.0,
            baseline_wander_mv: 0.05,
            noise_mv: 0.005,
            morphology_jitter: 0.3,
        }
    }
}

impl SynthParams {
    /// Plausible random parameters (a varied population), deterministic per seed:
    /// heart rate 50..110 bpm, axis -20..90°, scales 0.6..1.4.
    pub fn random(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0005_EED0_FEC6);
        Self {
            heart_rate_bpm: rng.random_range(50.0..110.0),
            hr_variability: rng.random_range(0.01..0.06),
            axis_degrees: rng.random_range(-20.0..90.0),
            qrs_scale: rng.random_range(0.6..1.4),
            p_scale: rng.random_range(0.6..1.3),
            t_scale: rng.random_range(0.5..1.4),
            baseline_wander_mv: rng.random_range(0.0..0.15),
            noise_mv: rng.random_range(0.0..0.015),
            morphology_jitter: 0.5,
            ..Self::default()
        }
    }
}

/// One Gaussian wave of the heart vector.
#[derive(Clone, Copy, Debug)]
struct Wave {
    /// Centre relative to the R peak at RR = 1 s, seconds.
    centre_s: f64,
    /// Width before / after the centre, seconds.
    sigma_before_s: f64,
    sigma_after_s: f64,
    /// Amplitude, mV.
    amplitude: f64,
    /// Unit direction (x left, y inferior, z anterior).
    dir: [f64; 3],
    /// Whether the centre scales with sqrt(RR).
    rate_scaled: bool,
}

fn unit(v: [f64; 3]) -> [f64; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt().max(1e-12);
    [v[0] / n, v[1] / n, v[2] / n]
}

/// Direction at a frontal angle (degrees) with an anterior component `z`.
fn frontal(angle_deg: f64, z: f64) -> [f64; 3] {
    let a = angle_deg.to_radians();
    unit([a.cos(), a.sin(), z])
}

fn waves(p: &SynthParams, rng: &mut ChaCha8Rng) -> Vec<Wave> {
    let j = p.morphology_jitter.clamp(0.0, 1.0) as f64;
    let mut jit = |scale: f64| -> f64 { 1.0 + j * scale * rng.random_range(-1.0..1.0) };
    let axis = p.axis_degrees as f64;
    let (qs, ps, ts) = (p.qrs_scale as f64, p.p_scale as f64, p.t_scale as f64);
    let a_r = 1.35 * qs * jit(0.25);
    let z_r = -0.3 * jit(0.6);
    let mut w = vec![
        // P: atrial depolarisation, frontal axis ~50°, slightly anterior.
        Wave {
            centre_s: -0.165 * jit(0.1),
            sigma_before_s: 0.024,
            sigma_after_s: 0.022,
            amplitude: 0.16 * ps * jit(0.3),
            dir: frontal(50.0 + 10.0 * jit(1.0) - 10.0, 0.25),
            rate_scaled: true,
        },
        // Q: septal depolarisation, rightward and anterior.
        Wave {
            centre_s: -0.028,
            sigma_before_s: 0.009,
            sigma_after_s: 0.009,
            amplitude: 0.18 * qs * jit(0.4),
            dir: unit([-0.7, -0.1, 0.7]),
            rate_scaled: false,
        },
        // R: main ventricular vector along the axis, leftward and posterior.
        Wave {
            centre_s: 0.0,
            sigma_before_s: 0.0115 * jit(0.1),
            sigma_after_s: 0.0115 * jit(0.1),
            amplitude: a_r,
            dir: frontal(axis, z_r),
            rate_scaled: false,
        },
        // S: terminal forces, superior, rightward and posterior.
        Wave {
            centre_s: 0.032,
            sigma_before_s: 0.011,
            sigma_after_s: 0.011,
            amplitude: 0.45 * qs * jit(0.4),
            dir: unit([-0.35, -0.45, -0.8]),
            rate_scaled: false,
        },
        // Early anterior-leftward QRS force: the r in V1-V2 and the R-wave
        // progression across V2-V4.
        Wave {
            centre_s: -0.012,
            sigma_before_s: 0.011,
            sigma_after_s: 0.011,
            amplitude: 0.45 * qs * jit(0.3),
            dir: unit([0.3, 0.2, 0.9]),
            rate_scaled: false,
        },
        // T: repolarisation, concordant with the QRS axis, anterior.
        Wave {
            centre_s: 0.30 * jit(0.08),
            sigma_before_s: 0.062,
            sigma_after_s: 0.042,
            amplitude: 0.32 * ts * jit(0.3),
            dir: frontal(axis.clamp(-10.0, 70.0) + 5.0, 0.45),
            rate_scaled: true,
        },
    ];
    // Keep the Q / S directions physiological whatever the axis: rotate them
    // with the axis in the frontal plane.
    let rot = (axis - 55.0).to_radians();
    for wave in w.iter_mut().skip(1).take(1) {
        let [x, y, z] = wave.dir;
        wave.dir = [
            x * rot.cos() - y * rot.sin(),
            x * rot.sin() + y * rot.cos(),
            z,
        ];
    }
    w
}

/// Lead directions of the precordial leads V1..V6 in the transverse plane
/// (angle from the patient's left toward anterior, degrees) and their gains.
const PRECORDIAL: [(f64, f64); 6] = [
    (115.0, 1.1),
    (94.0, 1.5),
    (75.0, 1.5),
    (60.0, 1.35),
    (30.0, 1.15),
    (0.0, 1.0),
];

/// Generates beat (R-peak) times covering `[-1, duration + 1]` seconds.
fn beat_times(p: &SynthParams, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let rr0 = 60.0 / p.heart_rate_bpm.clamp(20.0, 250.0) as f64;
    let hrv = p.hr_variability.clamp(0.0, 0.3) as f64;
    let (f_rsa, f_mayer) = (rng.random_range(0.2..0.33), rng.random_range(0.08..0.12));
    let (ph1, ph2): (f64, f64) = (
        rng.random_range(0.0..std::f64::consts::TAU),
        rng.random_range(0.0..std::f64::consts::TAU),
    );
    let white = Normal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!());
    let mut t = -1.0 - rng.random_range(0.0..rr0);
    let end = p.duration_seconds as f64 + 1.0;
    let mut out = Vec::with_capacity(((end + 2.0) / rr0) as usize + 4);
    while t <= end + rr0 {
        out.push(t);
        let modulation = 0.6 * (std::f64::consts::TAU * f_rsa * t + ph1).sin()
            + 0.4 * (std::f64::consts::TAU * f_mayer * t + ph2).sin();
        let noise: f64 = white.sample(rng);
        let rr = rr0 * (1.0 + hrv * (1.2 * modulation + 0.5 * noise));
        t += rr.max(0.25);
    }
    out
}

fn gauss2(dt: f64, sb: f64, sa: f64) -> f64 {
    let s = if dt < 0.0 { sb } else { sa };
    (-0.5 * (dt / s) * (dt / s)).exp()
}

/// Electrode-level baseline wander plus white noise, one series per electrode.
fn electrode_noise(p: &SynthParams, n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let fs = p.fs_hz as f64;
    let amp = p.baseline_wander_mv.max(0.0) as f64;
    let sd = p.noise_mv.max(0.0) as f64;
    let white = Normal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!());
    let comps: Vec<(f64, f64, f64)> = (0..3)
        .map(|k| {
            (
                rng.random_range(0.05..0.45) / (1 + k) as f64,
                rng.random_range(0.0..std::f64::consts::TAU),
                amp * rng.random_range(0.3..1.0) / (1 + k) as f64,
            )
        })
        .collect();
    (0..n)
        .map(|i| {
            let t = i as f64 / fs;
            let w: f64 = comps
                .iter()
                .map(|(f, ph, a)| a * (std::f64::consts::TAU * f * t + ph).sin())
                .sum();
            let e: f64 = white.sample(rng);
            w + sd * e
        })
        .collect()
}

/// Synthesises a 12-lead record (mV). Deterministic for `(params, seed)`.
pub fn synthesize(params: &SynthParams, seed: u64) -> Record {
    let fs = if params.fs_hz.is_finite() && params.fs_hz > 0.0 {
        params.fs_hz
    } else {
        500.0
    };
    let p = SynthParams {
        fs_hz: fs,
        ..params.clone()
    };
    let n = (p.duration_seconds.max(0.0) as f64 * fs as f64).round() as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let waves = waves(&p, &mut rng);
    let beats = beat_times(&p, &mut rng);

    // Heart vector per sample.
    let mut dip = vec![[0.0f64; 3]; n];
    let mut b = 0usize;
    for (i, d) in dip.iter_mut().enumerate() {
        let t = i as f64 / fs as f64;
        while b + 1 < beats.len() && beats[b + 1] <= t {
            b += 1;
        }
        // Contributions of the beat before, this one and the next two.
        for k in b.saturating_sub(1)..(b + 3).min(beats.len()) {
            let tr = beats[k];
            let rr = if k + 1 < beats.len() {
                beats[k + 1] - tr
            } else {
                beats[k] - beats[k.saturating_sub(1)]
            };
            let rr_prev = if k > 0 { tr - beats[k - 1] } else { rr };
            for w in &waves {
                let c = if w.rate_scaled {
                    // P scales with the preceding interval, T with the current one.
                    let rr_use = if w.centre_s < 0.0 { rr_prev } else { rr };
                    w.centre_s * rr_use.clamp(0.3, 2.0).sqrt()
                } else {
                    w.centre_s
                };
                let dt = t - (tr + c);
                if dt.abs() > 6.0 * w.sigma_before_s.max(w.sigma_after_s) {
                    continue;
                }
                let g = w.amplitude * gauss2(dt, w.sigma_before_s, w.sigma_after_s);
                d[0] += g * w.dir[0];
                d[1] += g * w.dir[1];
                d[2] += g * w.dir[2];
            }
        }
    }

    // Electrodes: RA, LA, LL, V1..V6.
    let noise: Vec<Vec<f64>> = (0..9).map(|_| electrode_noise(&p, n, &mut rng)).collect();
    let (s60, c60) = (60f64.to_radians().sin(), 60f64.to_radians().cos());
    let mut leads: Vec<Vec<f32>> = (0..12).map(|_| Vec::with_capacity(n)).collect();
    for (i, d) in dip.iter().enumerate() {
        let lead_i = d[0] + noise[1][i] - noise[0][i];
        let lead_ii = c60 * d[0] + s60 * d[1] + noise[2][i] - noise[0][i];
        let limb = [
            lead_i,
            lead_ii,
            lead_ii - lead_i,
            -(lead_i + lead_ii) / 2.0,
            lead_i - lead_ii / 2.0,
            lead_ii - lead_i / 2.0,
        ];
        for (k, v) in limb.iter().enumerate() {
            leads[k].push(*v as f32);
        }
        let wct = (noise[0][i] + noise[1][i] + noise[2][i]) / 3.0;
        for (k, (ang, gain)) in PRECORDIAL.iter().enumerate() {
            let a = ang.to_radians();
            let v = gain * (a.cos() * d[0] + a.sin() * d[2] + 0.15 * d[1]) + noise[3 + k][i] - wct;
            leads[6 + k].push(v as f32);
        }
    }
    let mut rec = Record::new(p.name.clone(), fs, n);
    for (k, l) in leads.into_iter().enumerate() {
        if let Some(lead) = Lead::from_index(k) {
            rec.set(lead, l);
        }
    }
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r_peaks(x: &[f32], fs: f32) -> usize {
        let max = x.iter().fold(0f32, |m, v| m.max(*v));
        let thr = 0.5 * max;
        let refractory = (0.25 * fs) as usize;
        let mut count = 0;
        let mut last: Option<usize> = None;
        for i in 1..x.len() - 1 {
            if x[i] > thr
                && x[i] >= x[i - 1]
                && x[i] > x[i + 1]
                && last.is_none_or(|l| i - l > refractory)
            {
                count += 1;
                last = Some(i);
            }
        }
        count
    }

    #[test]
    fn deterministic_per_seed_and_seed_matters() {
        let p = SynthParams::default();
        assert_eq!(synthesize(&p, 7), synthesize(&p, 7));
        assert_ne!(synthesize(&p, 7), synthesize(&p, 8));
    }

    #[test]
    fn limb_leads_satisfy_einthoven_and_goldberger() {
        for seed in 0..4 {
            let r = synthesize(&SynthParams::random(seed), seed);
            let g = |l: Lead| r.lead(l).unwrap();
            let (i, ii) = (g(Lead::I), g(Lead::II));
            for s in 0..r.n_samples {
                assert!((g(Lead::III)[s] - (ii[s] - i[s])).abs() < 1e-5);
                assert!((g(Lead::AVR)[s] + (i[s] + ii[s]) / 2.0).abs() < 1e-5);
                assert!((g(Lead::AVL)[s] - (i[s] - ii[s] / 2.0)).abs() < 1e-5);
                assert!((g(Lead::AVF)[s] - (ii[s] - i[s] / 2.0)).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn seventy_two_bpm_gives_about_seventy_two_beats_a_minute() {
        let p = SynthParams {
            duration_seconds: 60.0,
            heart_rate_bpm: 72.0,
            ..SynthParams::default()
        };
        let r = synthesize(&p, 3);
        let n = r_peaks(r.lead(Lead::II).unwrap(), r.fs);
        assert!((70..=74).contains(&n), "{n} beats in 60 s");
    }

    #[test]
    fn amplitudes_and_qrs_width_are_physiological() {
        let p = SynthParams {
            noise_mv: 0.0,
            baseline_wander_mv: 0.0,
            morphology_jitter: 0.0,
            ..SynthParams::default()
        };
        let r = synthesize(&p, 1);
        let ii = r.lead(Lead::II).unwrap();
        let max = ii.iter().fold(f32::MIN, |m, v| m.max(*v));
        assert!((0.5..2.0).contains(&max), "R in II = {max} mV");
        // QRS duration: time around an R peak where a spatial magnitude
        // (leads I, aVF and V2, ~orthogonal) exceeds 10 % of its peak.
        let (i1, avf, v2) = (
            r.lead(Lead::I).unwrap(),
            r.lead(Lead::AVF).unwrap(),
            r.lead(Lead::V2).unwrap(),
        );
        let mag: Vec<f32> = (0..r.n_samples)
            .map(|s| (i1[s] * i1[s] + avf[s] * avf[s] + v2[s] * v2[s]).sqrt())
            .collect();
        let peak = mag
            .iter()
            .enumerate()
            .fold((0, 0f32), |b, (k, v)| if *v > b.1 { (k, *v) } else { b })
            .0;
        let thr = 0.1 * mag[peak];
        let mut a = peak;
        while a > 0 && mag[a] > thr {
            a -= 1;
        }
        let mut b = peak;
        while b + 1 < mag.len() && mag[b] > thr {
            b += 1;
        }
        let ms = (b - a) as f32 / r.fs * 1000.0;
        assert!((60.0..120.0).contains(&ms), "QRS {ms} ms");
        for l in Lead::ALL {
            let v = r.lead(l).unwrap();
            let pp = v.iter().fold(f32::MIN, |m, x| m.max(*x))
                - v.iter().fold(f32::MAX, |m, x| m.min(*x));
            assert!((0.2..4.0).contains(&pp), "{l}: peak-to-peak {pp} mV");
        }
    }
}
