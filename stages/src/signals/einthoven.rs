//! `einthoven`: makes the six limb leads consistent with Einthoven's and
//! Goldberger's laws.
//!
//! The six limb leads are linear combinations of two independent potentials,
//! which we take as I and II:
//!
//! | lead | I | II |
//! |------|---|----|
//! | I    | 1 | 0 |
//! | II   | 0 | 1 |
//! | III  | -1 | 1 |
//! | aVR  | -½ | -½ |
//! | aVL  | 1 | -½ |
//! | aVF  | -½ | 1 |
//!
//! These relations hold only between *simultaneous* samples. On a 3x4 page,
//! I, II and III share 0–2.5 s, and aVR, aVL, aVF share 2.5–5 s with the lead
//! II rhythm strip.
//!
//! Input: `signals`. Output: `signals`, with the same leads and the same time
//! windows (no sample outside a lead's window is ever filled).
//!
//! ## `mode = "least_squares"` (default)
//! At every sample where at least `min_leads` limb leads are present, the
//! 2-D model (I, II) is fitted to the observed limb leads by weighted least
//! squares (weight of a lead = its confidence, floored at `min_weight`); the
//! observation moves towards the fitted projection by `blend` (0 = unchanged,
//! 1 = replaced by the projection).
//!
//! Vertical offsets are arbitrary on paper, so they must not leak from one lead
//! into another. For each set of simultaneously present leads (a "pattern",
//! e.g. {I, II, III}), the per-lead **median of the residual** over the samples
//! with that pattern is the offset inconsistency; only the residual *around*
//! that median is corrected. Each lead keeps its own offset, and a consistent
//! input with arbitrary per-lead offsets comes out unchanged (removing each
//! lead's median before fitting would not give that: the median of a sum is
//! not the sum of medians).
//!
//! With `robust = true`, the leads of every pattern of 4+ leads (e.g. the
//! II rhythm strip with aVR, aVL, aVF) are re-weighted by iteratively
//! re-weighted least squares (weight / robust residual variance), so one badly
//! traced lead is corrected instead of spreading its error. Off by default: on
//! the dev pages it gave +0.07 dB (clean), -0.06 dB (distorted), -0.10 dB (bw).
//!
//! ## `mode = "seed"`
//! The seed notebook's rule: III, aVR, aVL and aVF are derived from I and II
//! and blended in with weight `weight` (`out = (1-weight)·obs + weight·derived`),
//! at samples where I, II and the target are all present.
//!
//! ```
//! # let toml = r#"
//! [stages.einthoven]
//! type = "einthoven"
//! inputs = ["signals"]
//! mode = "least_squares"
//! blend = 1.0
//! min_leads = 3
//! min_weight = 0.05
//! robust = false
//! # "#;
//! # ecgdig_stages::link(); // keep the stage registrations in the doctest binary
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Rows of the limb-lead model: lead = a·I + b·II, in canonical order.
pub const LIMB_MODEL: [[f32; 2]; 6] = [
    [1.0, 0.0],
    [0.0, 1.0],
    [-1.0, 1.0],
    [-0.5, -0.5],
    [1.0, -0.5],
    [-0.5, 1.0],
];

/// How the limb leads are made consistent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EinthovenMode {
    /// Weighted least-squares projection of all present limb leads.
    LeastSquares,
    /// The seed notebook's rule: derive III, aVR, aVL, aVF from I and II.
    Seed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EinthovenConfig {
    /// `least_squares` or `seed`.
    pub mode: EinthovenMode,
    /// least_squares: fraction of the projection that replaces the observation (0..1).
    pub blend: f64,
    /// least_squares: fewest present limb leads at a sample for a fit (3..6).
    pub min_leads: usize,
    /// least_squares: lower bound of a lead's weight (its confidence).
    pub min_weight: f64,
    /// least_squares: re-weight leads by their robust residual scale (patterns of 4+ leads).
    pub robust: bool,
    /// seed: weight of the derived lead in the blend (0..1).
    pub weight: f64,
}

impl Default for EinthovenConfig {
    fn default() -> Self {
        Self {
            mode: EinthovenMode::LeastSquares,
            blend: 1.0,
            min_leads: 3,
            min_weight: 0.05,
            robust: false,
            weight: 0.5,
        }
    }
}

#[typetag::serde(name = "einthoven")]
impl StageConfig for EinthovenConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("signals", ArtifactKind::Signals)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("signals", ArtifactKind::Signals)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if !(0.0..=1.0).contains(&self.blend) || !(0.0..=1.0).contains(&self.weight) {
            return Err(Error::stage(format!(
                "einthoven: `blend` ({}) and `weight` ({}) must lie in 0..1",
                self.blend, self.weight
            )));
        }
        if !(3..=6).contains(&self.min_leads) {
            return Err(Error::stage(format!(
                "einthoven: `min_leads` ({}) must be 3 to 6 (two leads fit the model exactly)",
                self.min_leads
            )));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    EinthovenConfig,
    "einthoven",
    summary = "Makes the limb leads consistent (II = I + III, Goldberger) by weighted least squares between simultaneous samples.",
    params = [
        ("mode", "`least_squares` (fit I, II to all present limb leads) or `seed` (derive III, aVR, aVL, aVF from I and II)"),
        ("blend", "least_squares: 0..1, how much of the projection replaces the observation (1 = all)"),
        ("min_leads", "least_squares: fewest simultaneously present limb leads for a fit, 3..6"),
        ("min_weight", "least_squares: floor of a lead's weight; weights are lead confidences"),
        ("robust", "least_squares: re-weight the leads of each 4+ lead pattern by their robust residual scale"),
        ("weight", "seed: 0..1 weight of the derived lead (out = (1-weight)*obs + weight*derived)"),
    ],
    example = "[stages.einthoven]\ntype = \"einthoven\"\ninputs = [\"signals\"]\nmode = \"least_squares\"\nblend = 1.0\n"
);

impl Stage for EinthovenConfig {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let mut s = (*inputs.signals("signals")?).clone();
        match self.mode {
            EinthovenMode::LeastSquares => project_least_squares_with(
                &mut s,
                self.blend as f32,
                self.min_leads,
                self.min_weight as f32,
                self.robust,
            ),
            EinthovenMode::Seed => derive_seed(&mut s, self.weight as f32),
        }
        Ok(StageOutputs::one(s))
    }
}

/// Weighted least-squares projection of the limb leads onto the (I, II) model,
/// in place. See the module docs for how offsets are kept.
pub fn project_least_squares(s: &mut Signals, blend: f32, min_leads: usize, min_weight: f32) {
    project_least_squares_with(s, blend, min_leads, min_weight, false)
}

/// [`project_least_squares`], optionally re-weighting the leads of every
/// pattern of at least 4 leads by the inverse of their robust (MAD,
/// leverage-corrected) residual variance after a first fit.
pub fn project_least_squares_with(
    s: &mut Signals,
    blend: f32,
    min_leads: usize,
    min_weight: f32,
    robust: bool,
) {
    let weights: Vec<f64> = (0..6)
        .map(|k| {
            s.leads
                .get(k)
                .and_then(|l| l.as_ref())
                .map(|l| l.confidence.clamp(min_weight.max(1e-6), 1.0) as f64)
                .unwrap_or(0.0)
        })
        .collect();
    // residuals of the fit, per sample, grouped by the pattern of present leads
    let mut residuals: Vec<(usize, u8, [f32; 6])> = Vec::new();
    for t in 0..s.n_samples {
        let mut y = [f32::NAN; 6];
        let mut mask = 0u8;
        for (k, yk) in y.iter_mut().enumerate() {
            if let Some(v) = s
                .leads
                .get(k)
                .and_then(|l| l.as_ref())
                .and_then(|l| l.at(t))
            {
                *yk = v;
                mask |= 1 << k;
            }
        }
        if (mask.count_ones() as usize) < min_leads {
            continue;
        }
        let Some(fit) = weighted_fit(&y, mask, &weights) else {
            continue;
        };
        let mut r = [0.0f32; 6];
        for k in 0..6 {
            if mask & (1 << k) != 0 {
                r[k] = y[k] - fit[k];
            }
        }
        residuals.push((t, mask, r));
    }
    if residuals.is_empty() {
        return;
    }
    if robust {
        reweight(s, &mut residuals, &weights);
    }
    // per pattern and lead: the median residual is the offset inconsistency
    let mut by_pattern: HashMap<u8, Vec<Vec<f32>>> = HashMap::new();
    for (_, mask, r) in &residuals {
        let e = by_pattern
            .entry(*mask)
            .or_insert_with(|| vec![Vec::new(); 6]);
        for k in 0..6 {
            if mask & (1 << k) != 0 {
                e[k].push(r[k]);
            }
        }
    }
    let medians: HashMap<u8, [f32; 6]> = by_pattern
        .into_iter()
        .map(|(mask, mut cols)| {
            let mut m = [0.0f32; 6];
            for (k, c) in cols.iter_mut().enumerate() {
                m[k] = median(c).unwrap_or(0.0);
            }
            (mask, m)
        })
        .collect();
    for (t, mask, r) in residuals {
        let m = medians.get(&mask).copied().unwrap_or([0.0; 6]);
        for k in 0..6 {
            if mask & (1 << k) == 0 {
                continue;
            }
            if let Some(l) = s.leads[k].as_mut() {
                let i = t - l.start;
                l.samples[i] -= blend * (r[k] - m[k]);
            }
        }
    }
}

/// Re-fits the samples of every pattern of 4+ leads by iteratively
/// re-weighted least squares: weights `w_k / sigma_k^2`, `sigma_k` the
/// robust (MAD) scale of lead k's leverage-corrected residual.
fn reweight(s: &Signals, residuals: &mut [(usize, u8, [f32; 6])], w: &[f64]) {
    let mut weights: HashMap<u8, Vec<f64>> = HashMap::new();
    for _ in 0..5 {
        let mut cols: HashMap<u8, Vec<Vec<f32>>> = HashMap::new();
        for (_, mask, r) in residuals.iter() {
            if mask.count_ones() < 4 {
                continue;
            }
            let e = cols.entry(*mask).or_insert_with(|| vec![Vec::new(); 6]);
            for k in 0..6 {
                if mask & (1 << k) != 0 {
                    e[k].push(r[k]);
                }
            }
        }
        for (mask, mut c) in cols {
            let cur = weights.get(&mask).cloned().unwrap_or_else(|| w.to_vec());
            let (mut a11, mut a12, mut a22) = (0.0f64, 0.0, 0.0);
            for k in 0..6 {
                if mask & (1 << k) != 0 {
                    let [p, q] = LIMB_MODEL[k].map(f64::from);
                    a11 += cur[k] * p * p;
                    a12 += cur[k] * p * q;
                    a22 += cur[k] * q * q;
                }
            }
            let det = a11 * a22 - a12 * a12;
            if det.abs() < 1e-12 {
                continue;
            }
            let mut nw = w.to_vec();
            for k in 0..6 {
                if mask & (1 << k) == 0 {
                    continue;
                }
                let [p, q] = LIMB_MODEL[k].map(f64::from);
                let h = cur[k] * (a22 * p * p - 2.0 * a12 * p * q + a11 * q * q) / det;
                let m = median(&mut c[k]).unwrap_or(0.0);
                let mut dev: Vec<f32> = c[k].iter().map(|v| (v - m).abs()).collect();
                let mad = median(&mut dev).unwrap_or(0.0) as f64 * 1.4826;
                let sigma = mad / (1.0 - h).max(0.05).sqrt();
                nw[k] = w[k] / sigma.max(1e-3).powi(2);
            }
            weights.insert(mask, nw);
        }
        for (t, mask, r) in residuals.iter_mut() {
            let Some(nw) = weights.get(mask) else {
                continue;
            };
            let mut y = [f32::NAN; 6];
            for (k, yk) in y.iter_mut().enumerate() {
                if *mask & (1 << k) != 0 {
                    *yk = s.leads[k]
                        .as_ref()
                        .and_then(|l| l.at(*t))
                        .unwrap_or(f32::NAN);
                }
            }
            if let Some(fit) = weighted_fit(&y, *mask, nw) {
                for k in 0..6 {
                    if *mask & (1 << k) != 0 {
                        r[k] = y[k] - fit[k];
                    }
                }
            }
        }
    }
}

/// Fitted limb leads `A x` for the weighted least-squares `x = (I, II)`.
fn weighted_fit(y: &[f32; 6], mask: u8, w: &[f64]) -> Option<[f32; 6]> {
    let (mut a11, mut a12, mut a22, mut b1, mut b2) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
    for k in 0..6 {
        if mask & (1 << k) == 0 {
            continue;
        }
        let [p, q] = LIMB_MODEL[k];
        let (p, q, wk, yk) = (p as f64, q as f64, w[k], y[k] as f64);
        a11 += wk * p * p;
        a12 += wk * p * q;
        a22 += wk * q * q;
        b1 += wk * p * yk;
        b2 += wk * q * yk;
    }
    let det = a11 * a22 - a12 * a12;
    if det.abs() < 1e-12 {
        return None;
    }
    let x1 = (a22 * b1 - a12 * b2) / det;
    let x2 = (a11 * b2 - a12 * b1) / det;
    let mut out = [0.0f32; 6];
    for (k, o) in out.iter_mut().enumerate() {
        let [p, q] = LIMB_MODEL[k];
        *o = (p as f64 * x1 + q as f64 * x2) as f32;
    }
    Some(out)
}

/// The seed rule, in place: `III, aVR, aVL, aVF = (1-w)·obs + w·derived(I, II)`.
pub fn derive_seed(s: &mut Signals, weight: f32) {
    let (Some(i), Some(ii)) = (s.lead(Lead::I).cloned(), s.lead(Lead::II).cloned()) else {
        return;
    };
    for lead in [Lead::III, Lead::AVR, Lead::AVL, Lead::AVF] {
        let [p, q] = LIMB_MODEL[lead.index()];
        let Some(l) = s.lead_mut(lead) else {
            continue;
        };
        let start = l.start;
        for (j, v) in l.samples.iter_mut().enumerate() {
            let t = start + j;
            if let (Some(a), Some(b)) = (i.at(t), ii.at(t)) {
                if v.is_finite() {
                    *v = (1.0 - weight) * *v + weight * (p * a + q * b);
                }
            }
        }
    }
}

/// Median of the finite values (sorts in place); `None` when there are none.
pub fn median(v: &mut [f32]) -> Option<f32> {
    let mut n = 0;
    for i in 0..v.len() {
        if v[i].is_finite() {
            v.swap(n, i);
            n += 1;
        }
    }
    if n == 0 {
        return None;
    }
    let v = &mut v[..n];
    let mid = n / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f32::total_cmp);
    let m = *m;
    if n % 2 == 1 {
        Some(m)
    } else {
        let lower = v[..mid].iter().copied().fold(f32::NEG_INFINITY, f32::max);
        Some(0.5 * (lower + m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FS: f32 = 100.0;
    const N: usize = 1000;

    /// Smooth, consistent I and II potentials over the page.
    fn truth_i_ii(t: usize) -> (f32, f32) {
        let x = t as f32 / FS;
        (
            0.6 * (2.0 * std::f32::consts::PI * 1.2 * x).sin() + 0.2 * (7.0 * x).cos(),
            1.0 * (2.0 * std::f32::consts::PI * 1.2 * x + 0.4).sin() - 0.3 * (3.0 * x).sin(),
        )
    }

    fn truth(lead: usize, t: usize) -> f32 {
        let (a, b) = truth_i_ii(t);
        LIMB_MODEL[lead][0] * a + LIMB_MODEL[lead][1] * b
    }

    /// Deterministic pseudo-noise in -1..1.
    fn noise(seed: u64) -> f32 {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51afd7ed558ccd);
        x ^= x >> 33;
        (x % 20001) as f32 / 10000.0 - 1.0
    }

    /// A 3x4-style page: I, III in 0..250, aVR/aVL/aVF in 250..500, II over 0..1000.
    fn page(offsets: [f32; 6], noise_mv: f32) -> Signals {
        let mut s = Signals::empty(FS, N);
        let windows = [
            (0, 250),
            (0, 1000),
            (0, 250),
            (250, 500),
            (250, 500),
            (250, 500),
        ];
        for (k, (a, b)) in windows.iter().enumerate() {
            let samples = (*a..*b)
                .map(|t| truth(k, t) + offsets[k] + noise_mv * noise((k * 100_000 + t) as u64))
                .collect();
            s.leads[k] = Some(LeadSignal {
                start: *a,
                samples,
                confidence: 1.0,
            });
        }
        s
    }

    fn rms_error(s: &Signals, offsets: [f32; 6]) -> f32 {
        let (mut e, mut n) = (0.0f64, 0usize);
        for (k, offset) in offsets.iter().enumerate() {
            let l = s.leads[k].as_ref().unwrap();
            // only where a fit happens (II alone after 5 s is never changed)
            for (j, v) in l.samples.iter().enumerate() {
                let t = l.start + j;
                if t < 500 {
                    let d = (v - offset - truth(k, t)) as f64;
                    e += d * d;
                    n += 1;
                }
            }
        }
        (e / n as f64).sqrt() as f32
    }

    #[test]
    fn projection_lowers_error_of_noisy_leads() {
        let offsets = [0.0; 6];
        let mut s = page(offsets, 0.1);
        let before = rms_error(&s, offsets);
        project_least_squares(&mut s, 1.0, 3, 0.05);
        let after = rms_error(&s, offsets);
        // 3 leads, 2 unknowns: error variance drops to 2/3; 4 leads: to 1/2
        assert!(after < 0.85 * before, "before {before}, after {after}");
    }

    #[test]
    fn consistent_input_with_offsets_is_unchanged() {
        let offsets = [0.3, -0.2, 0.7, 1.1, -0.9, 0.05];
        let s0 = page(offsets, 0.0);
        let mut s = s0.clone();
        project_least_squares(&mut s, 1.0, 3, 0.05);
        for k in 0..6 {
            let (a, b) = (s0.leads[k].as_ref().unwrap(), s.leads[k].as_ref().unwrap());
            assert_eq!(a.start, b.start);
            assert_eq!(a.samples.len(), b.samples.len());
            for (x, y) in a.samples.iter().zip(&b.samples) {
                assert!((x - y).abs() < 1e-4, "lead {k}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn offsets_do_not_leak_and_noise_still_drops() {
        let offsets = [0.3, -0.2, 0.7, 1.1, -0.9, 0.05];
        let mut s = page(offsets, 0.1);
        let before = rms_error(&s, offsets);
        project_least_squares(&mut s, 1.0, 3, 0.05);
        let after = rms_error(&s, offsets);
        assert!(after < 0.85 * before, "before {before}, after {after}");
    }

    #[test]
    fn windows_preserved_and_nothing_filled() {
        let mut s = page([0.0; 6], 0.1);
        s.leads[Lead::AVL.index()] = None;
        let before = s.clone();
        project_least_squares(&mut s, 1.0, 3, 0.05);
        assert!(s.leads[Lead::AVL.index()].is_none());
        for (a, b) in before.leads.iter().zip(&s.leads) {
            let (Some(a), Some(b)) = (a, b) else { continue };
            assert_eq!((a.start, a.samples.len()), (b.start, b.samples.len()));
        }
        // II after 5 s has no simultaneous partner: untouched
        let ii0 = before.lead(Lead::II).unwrap();
        let ii1 = s.lead(Lead::II).unwrap();
        assert_eq!(ii0.samples[500..], ii1.samples[500..]);
    }

    #[test]
    fn low_confidence_lead_takes_the_correction() {
        let mut s = page([0.0; 6], 0.0);
        // corrupt III with a wave, mark it unreliable: the fit must follow I and II
        let iii = s.lead_mut(Lead::III).unwrap();
        iii.confidence = 0.05;
        for (j, v) in iii.samples.iter_mut().enumerate() {
            *v += 0.5 * (j as f32 / 10.0).sin();
        }
        let rms = |s: &Signals, lead: Lead| {
            let l = s.lead(lead).unwrap();
            ((0..250)
                .map(|t| (l.at(t).unwrap() - truth(lead.index(), t)).powi(2))
                .sum::<f32>()
                / 250.0)
                .sqrt()
        };
        let before = rms(&s, Lead::III);
        project_least_squares(&mut s, 1.0, 3, 0.05);
        assert!(
            rms(&s, Lead::III) < 0.15 * before,
            "III {}",
            rms(&s, Lead::III)
        );
        // the reliable leads barely move (weights 1 vs 0.05)
        assert!(rms(&s, Lead::I) < 0.15 * before, "I {}", rms(&s, Lead::I));
        assert!(
            rms(&s, Lead::II) < 0.15 * before,
            "II {}",
            rms(&s, Lead::II)
        );
    }

    #[test]
    fn robust_reweighting_isolates_a_noisy_lead() {
        // aVL is very noisy in the 4-lead pattern (II, aVR, aVL, aVF); the
        // others are exact. Robust weights keep the noise out of them.
        let mut s = page([0.0; 6], 0.0);
        for (j, v) in s
            .lead_mut(Lead::AVL)
            .unwrap()
            .samples
            .iter_mut()
            .enumerate()
        {
            *v += 0.5 * noise(j as u64 + 7);
        }
        let err_avf = |s: &Signals| {
            let l = s.lead(Lead::AVF).unwrap();
            (250..500)
                .map(|t| (l.at(t).unwrap() - truth(Lead::AVF.index(), t)).powi(2))
                .sum::<f32>()
        };
        let mut plain = s.clone();
        project_least_squares_with(&mut plain, 1.0, 3, 0.05, false);
        project_least_squares_with(&mut s, 1.0, 3, 0.05, true);
        assert!(
            err_avf(&s) < 0.1 * err_avf(&plain),
            "{} vs {}",
            err_avf(&s),
            err_avf(&plain)
        );
    }

    #[test]
    fn seed_mode_derives_from_i_and_ii() {
        let mut s = page([0.0; 6], 0.0);
        // replace aVF by zeros; weight 1 must rebuild it exactly where I and II exist
        for v in s.lead_mut(Lead::AVF).unwrap().samples.iter_mut() {
            *v = 0.0;
        }
        let mut full = s.clone();
        derive_seed(&mut full, 1.0);
        let avf = full.lead(Lead::AVF).unwrap();
        // I only covers 0..250, aVF covers 250..500: nothing simultaneous, untouched
        assert!(avf.samples.iter().all(|v| *v == 0.0));
        // give I the whole page: now aVF is rebuilt
        let i_full: Vec<f32> = (0..N).map(|t| truth(0, t)).collect();
        s.set(
            Lead::I,
            LeadSignal {
                start: 0,
                samples: i_full,
                confidence: 1.0,
            },
        );
        derive_seed(&mut s, 0.5);
        let avf = s.lead(Lead::AVF).unwrap();
        for t in 250..500 {
            let want = 0.5 * truth(Lead::AVF.index(), t);
            assert!((avf.at(t).unwrap() - want).abs() < 1e-5);
        }
    }

    #[test]
    fn median_handles_even_odd_and_nan() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, f32::NAN, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut [f32::NAN]), None);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let cfg = EinthovenConfig {
            blend: 1.5,
            ..Default::default()
        };
        assert!(cfg.build(&BuildContext::default()).is_err());
        let cfg = EinthovenConfig {
            min_leads: 2,
            ..Default::default()
        };
        assert!(cfg.build(&BuildContext::default()).is_err());
    }
}
