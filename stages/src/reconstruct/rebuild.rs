//! `reconstruct`: synthesises leads from per-lead beat templates.
//!
//! Inputs: `templates`, and optionally `signals` (digitized leads). Output:
//! `signals` at the run's rate (`ctx.options.fs`, or the input signals' rate).
//! Each lead covers the window it has in the input signals, or else its
//! standard 3x4 window (I, II, III: 0–2.5 s; aVR, aVL, aVF: 2.5–5 s;
//! V1–V3: 5–7.5 s; V4–V6: 7.5–10 s; II: the whole page, as the rhythm strip).
//! Leads without a template are left out. Output confidence is `confidence`.
//!
//! ## `mode = "rhythm"` (the real use: filling leads that could not be traced)
//! R-peak times are measured on the digitized `rhythm_lead` (by default II,
//! the rhythm strip; see [`crate::dsp::detect_r_peaks`]) and each lead's
//! median template is placed at those R times; before the first and after the
//! last detected beat the median RR interval is extrapolated. Between beats
//! the signal is interpolated from the end of one template to the start of the
//! next; where beats overlap (fast rates) the two templates cross-fade. Without
//! usable signals (fewer than two beats), beats fall back to the templates'
//! BPM prior with the first R at `pre_seconds`.
//!
//! ## `mode = "seed"` (the seed notebook's "BPM tiling" and micro-ensemble)
//! Templates are tiled at a regular rate from the start of the page (first R
//! at `pre_seconds`). The rate is chosen among `bpm_min..=bpm_max` (step
//! `bpm_step`) by the normalised autocorrelation of the digitized
//! `rhythm_lead` at the beat period (the shortest period within 90 % of the
//! best score, to avoid multiples); without signals it is the templates' prior.
//! The output is a micro-ensemble:
//! `weights[0]`·median template at the best BPM + `weights[1]`·median template
//! at the prior BPM + `weights[2]`·mean template at the best BPM
//! (default 0.5 / 0.3 / 0.2; the weights are normalised to sum to 1).
//!
//! ```
//! # let toml = r#"
//! [stages.reconstruct]
//! type = "reconstruct"
//! inputs = { templates = "templates", signals = "signals" }
//! mode = "rhythm"
//! rhythm_lead = "II"
//! bpm_min = 40.0
//! bpm_max = 150.0
//! bpm_step = 1.0
//! weights = [0.5, 0.3, 0.2]
//! confidence = 0.3
//! # "#;
//! # ecgdig_stages::link(); // keep the stage registrations in the doctest binary
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use crate::dsp::{self, RPeakParams};
use crate::reconstruct::templates::finite_runs;
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

/// How the beats are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconstructMode {
    /// Regular tiling at an autocorrelation-chosen BPM, micro-ensemble.
    Seed,
    /// Templates at the R peaks measured on the digitized rhythm lead.
    Rhythm,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReconstructConfig {
    /// `rhythm` or `seed`.
    pub mode: ReconstructMode,
    /// Lead whose digitized signal gives the rhythm (name, e.g. "II").
    pub rhythm_lead: String,
    /// seed: candidate heart rates, beats per minute.
    pub bpm_min: f64,
    pub bpm_max: f64,
    pub bpm_step: f64,
    /// seed: ensemble weights of [median @ best BPM, median @ prior BPM, mean @ best BPM].
    pub weights: [f64; 3],
    /// Confidence given to the reconstructed leads (0..1).
    pub confidence: f64,
}

impl Default for ReconstructConfig {
    fn default() -> Self {
        Self {
            mode: ReconstructMode::Rhythm,
            rhythm_lead: "II".into(),
            bpm_min: 40.0,
            bpm_max: 150.0,
            bpm_step: 1.0,
            weights: [0.5, 0.3, 0.2],
            confidence: 0.3,
        }
    }
}

#[typetag::serde(name = "reconstruct")]
impl StageConfig for ReconstructConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![
            Port::new("templates", ArtifactKind::Templates),
            Port::optional("signals", ArtifactKind::Signals),
        ]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("signals", ArtifactKind::Signals)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        let lead = Lead::from_name(&self.rhythm_lead).ok_or_else(|| {
            Error::stage(format!(
                "reconstruct: `rhythm_lead` = {:?} is not a lead name (I, II, ..., V6)",
                self.rhythm_lead
            ))
        })?;
        if !(self.bpm_min > 0.0 && self.bpm_max >= self.bpm_min && self.bpm_step > 0.0) {
            return Err(Error::stage(
                "reconstruct: need 0 < bpm_min <= bpm_max and bpm_step > 0",
            ));
        }
        let sum: f64 = self.weights.iter().sum();
        if self.weights.iter().any(|w| *w < 0.0) || sum <= 0.0 {
            return Err(Error::stage(
                "reconstruct: `weights` must be non-negative with a positive sum",
            ));
        }
        Ok(Box::new(Reconstruct {
            cfg: self.clone(),
            lead,
        }))
    }
}

register_stage!(
    ReconstructConfig,
    "reconstruct",
    summary = "Synthesises leads from beat templates: at R peaks of the digitized rhythm strip, or by the seed's BPM tiling.",
    params = [
        ("mode", "`rhythm` (templates at R peaks measured on `rhythm_lead`) or `seed` (regular tiling + micro-ensemble)"),
        ("rhythm_lead", "lead whose digitized signal gives the rhythm, e.g. \"II\""),
        ("bpm_min", "seed: lowest candidate heart rate, beats per minute"),
        ("bpm_max", "seed: highest candidate heart rate, beats per minute"),
        ("bpm_step", "seed: step between candidate heart rates, beats per minute"),
        ("weights", "seed: ensemble weights of [median @ best BPM, median @ prior BPM, mean @ best BPM]"),
        ("confidence", "confidence (0..1) given to the reconstructed leads"),
    ],
    example = "[stages.reconstruct]\ntype = \"reconstruct\"\ninputs = { templates = \"templates\", signals = \"signals\" }\nmode = \"rhythm\"\n"
);

struct Reconstruct {
    cfg: ReconstructConfig,
    lead: Lead,
}

impl Stage for Reconstruct {
    fn run(&self, inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
        let templates = inputs.templates("templates")?;
        let signals = inputs.signals_opt("signals");
        let (fs, n) = match &signals {
            Some(s) => (s.fs, s.n_samples),
            None => (ctx.options.fs, ctx.options.n_samples()),
        };
        let rhythm = signals.as_ref().and_then(|s| rhythm_signal(s, self.lead));
        let windows = lead_windows(signals.as_deref(), n);
        let mut out = Signals::empty(fs, n);
        let page_seconds = n as f32 / fs;
        match self.cfg.mode {
            ReconstructMode::Rhythm => {
                let r_times = rhythm
                    .as_ref()
                    .map(|(start, x)| {
                        dsp::detect_r_peaks(x, fs, &RPeakParams::default())
                            .into_iter()
                            .map(|i| (start + i) as f32 / fs)
                            .collect::<Vec<_>>()
                    })
                    .filter(|r| r.len() >= 2)
                    .map(|r| extrapolate(&r, page_seconds, templates.bpm_prior))
                    .unwrap_or_else(|| {
                        regular_beats(templates.bpm_prior, templates.pre_seconds, page_seconds)
                    });
                for (lead, (start, len)) in &windows {
                    let Some(t) = templates.leads.get(lead.index()).and_then(|t| t.as_ref()) else {
                        continue;
                    };
                    let samples = place_beats(&t.median, &templates, &r_times, *start, *len, fs);
                    out.set(*lead, self.lead_signal(*start, samples));
                }
            }
            ReconstructMode::Seed => {
                let prior = templates.bpm_prior;
                let best = rhythm
                    .as_ref()
                    .and_then(|(_, x)| {
                        best_bpm(
                            x,
                            fs,
                            self.cfg.bpm_min as f32,
                            self.cfg.bpm_max as f32,
                            self.cfg.bpm_step as f32,
                        )
                    })
                    .unwrap_or(prior);
                let pre = templates.pre_seconds;
                let r_best = regular_beats(best, pre, page_seconds);
                let r_prior = regular_beats(prior, pre, page_seconds);
                let sum: f64 = self.cfg.weights.iter().sum();
                let w = self.cfg.weights.map(|w| (w / sum) as f32);
                for (lead, (start, len)) in &windows {
                    let Some(t) = templates.leads.get(lead.index()).and_then(|t| t.as_ref()) else {
                        continue;
                    };
                    let a = place_beats(&t.median, &templates, &r_best, *start, *len, fs);
                    let b = place_beats(&t.median, &templates, &r_prior, *start, *len, fs);
                    let c = place_beats(&t.mean, &templates, &r_best, *start, *len, fs);
                    let samples = (0..*len)
                        .map(|i| w[0] * a[i] + w[1] * b[i] + w[2] * c[i])
                        .collect();
                    out.set(*lead, self.lead_signal(*start, samples));
                }
            }
        }
        Ok(StageOutputs::one(out))
    }
}

impl Reconstruct {
    fn lead_signal(&self, start: usize, samples: Vec<f32>) -> LeadSignal {
        LeadSignal {
            start,
            samples,
            confidence: self.cfg.confidence.clamp(0.0, 1.0) as f32,
        }
    }
}

/// Standard 3x4 + rhythm-strip window `(start, len)` of a lead on a page of `n` samples.
pub fn standard_window(lead: Lead, n: usize) -> (usize, usize) {
    if lead == Lead::II {
        return (0, n);
    }
    let col = match lead {
        Lead::I | Lead::II | Lead::III => 0,
        Lead::AVR | Lead::AVL | Lead::AVF => 1,
        Lead::V1 | Lead::V2 | Lead::V3 => 2,
        Lead::V4 | Lead::V5 | Lead::V6 => 3,
    };
    let a = col * n / 4;
    let b = (col + 1) * n / 4;
    (a, b - a)
}

/// Windows of all twelve leads: the input's where it has the lead, else standard.
fn lead_windows(signals: Option<&Signals>, n: usize) -> Vec<(Lead, (usize, usize))> {
    Lead::ALL
        .iter()
        .map(|&lead| {
            let w = signals
                .and_then(|s| s.lead(lead))
                .filter(|l| !l.samples.is_empty() && l.end() <= n)
                .map(|l| (l.start, l.samples.len()))
                .unwrap_or_else(|| standard_window(lead, n));
            (lead, w)
        })
        .collect()
}

/// The longest finite run of the rhythm lead (or, lacking it, of the lead
/// with the longest finite run): `(page index of its start, samples)`.
fn rhythm_signal(s: &Signals, lead: Lead) -> Option<(usize, Vec<f32>)> {
    let longest = |l: &LeadSignal| {
        finite_runs(&l.samples)
            .into_iter()
            .max_by_key(|(a, b)| b - a)
            .map(|(a, b)| (l.start + a, l.samples[a..b].to_vec()))
    };
    s.lead(lead).and_then(longest).or_else(|| {
        s.leads
            .iter()
            .flatten()
            .filter_map(longest)
            .max_by_key(|(_, x)| x.len())
    })
}

/// R times (seconds) of a regular rhythm at `bpm`, first R at `first`, over the page.
pub fn regular_beats(bpm: f32, first: f32, page_seconds: f32) -> Vec<f32> {
    let rr = 60.0 / bpm.clamp(20.0, 300.0);
    let mut r = Vec::new();
    let mut t = first;
    while t < page_seconds + rr {
        r.push(t);
        t += rr;
    }
    r
}

/// Extends detected R times (seconds) before the first and after the last
/// beat by the median RR interval, to cover the page.
fn extrapolate(r: &[f32], page_seconds: f32, bpm_prior: f32) -> Vec<f32> {
    let mut rr: Vec<f32> = r.windows(2).map(|w| w[1] - w[0]).collect();
    let med = crate::signals::einthoven::median(&mut rr)
        .filter(|m| *m > 0.2)
        .unwrap_or(60.0 / bpm_prior.clamp(20.0, 300.0));
    let mut before = Vec::new();
    let mut t = r[0] - med;
    while t > -med {
        before.push(t);
        t -= med;
    }
    before.reverse();
    let mut out = before;
    out.extend_from_slice(r);
    let mut t = r[r.len() - 1] + med;
    while t < page_seconds + med {
        out.push(t);
        t += med;
    }
    out
}

/// Template value `d` seconds from its R peak (clamped to the template).
fn template_at(t: &[f32], tpl: &Templates, d: f32) -> f32 {
    let span = tpl.pre_seconds + tpl.post_seconds;
    let pos = (d + tpl.pre_seconds) / span * (t.len().saturating_sub(1)) as f32;
    dsp::sample_at(t, pos)
}

/// Places `template` at the R times (seconds, sorted) over the window
/// `start..start+len` (page samples at `fs`). See the module docs.
pub fn place_beats(
    template: &[f32],
    tpl: &Templates,
    r_times: &[f32],
    start: usize,
    len: usize,
    fs: f32,
) -> Vec<f32> {
    let (pre, post) = (tpl.pre_seconds, tpl.post_seconds);
    let head = template_at(template, tpl, -pre);
    let tail = template_at(template, tpl, post);
    let mut next_i = 0usize;
    (0..len)
        .map(|i| {
            let t = (start + i) as f32 / fs;
            while next_i < r_times.len() && r_times[next_i] <= t {
                next_i += 1;
            }
            let prev = next_i.checked_sub(1).map(|k| r_times[k]);
            let next = r_times.get(next_i).copied();
            let a = prev.map(|p| t - p);
            let b = next.map(|n| n - t);
            let in_prev = a.filter(|a| *a <= post);
            let in_next = b.filter(|b| *b <= pre);
            match (in_prev, in_next) {
                (Some(a), Some(b)) => {
                    let w = a / (a + b).max(1e-6);
                    (1.0 - w) * template_at(template, tpl, a) + w * template_at(template, tpl, -b)
                }
                (Some(a), None) => template_at(template, tpl, a),
                (None, Some(b)) => template_at(template, tpl, -b),
                (None, None) => match (a, b) {
                    (Some(a), Some(b)) => {
                        // between the end of one beat and the start of the next
                        let gap = (a - post) + (b - pre);
                        let f = ((a - post) / gap.max(1e-6)).clamp(0.0, 1.0);
                        tail + f * (head - tail)
                    }
                    (Some(_), None) => tail,
                    _ => head,
                },
            }
        })
        .collect()
}

/// Heart rate whose beat period maximises the normalised autocorrelation of
/// `x` (the shortest period within 90 % of the best score). `None` when `x`
/// is too short or flat.
pub fn best_bpm(x: &[f32], fs: f32, bpm_min: f32, bpm_max: f32, step: f32) -> Option<f32> {
    let x = dsp::fill_gaps(x)?;
    let mean = x.iter().sum::<f32>() / x.len() as f32;
    let x: Vec<f32> = x.iter().map(|v| v - mean).collect();
    let min_overlap = (0.8 * fs) as usize;
    let mut scores = Vec::new();
    let mut bpm = bpm_min;
    while bpm <= bpm_max + 1e-3 {
        let lag = (60.0 / bpm * fs).round() as usize;
        if lag > 0 && lag + min_overlap <= x.len() {
            let (a, b) = (&x[..x.len() - lag], &x[lag..]);
            let dot: f32 = a.iter().zip(b).map(|(p, q)| p * q).sum();
            let na: f32 = a.iter().map(|v| v * v).sum();
            let nb: f32 = b.iter().map(|v| v * v).sum();
            if na > 1e-12 && nb > 1e-12 {
                scores.push((bpm, dot / (na * nb).sqrt()));
            }
        }
        bpm += step;
    }
    let top = scores.iter().map(|s| s.1).fold(f32::NEG_INFINITY, f32::max);
    if top.is_nan() || top <= 0.0 {
        return None;
    }
    // the highest BPM (shortest period) close to the best score
    scores
        .iter()
        .filter(|s| s.1 >= 0.9 * top)
        .map(|s| s.0)
        .fold(None, |acc: Option<f32>, b| {
            Some(acc.map_or(b, |a| a.max(b)))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconstruct::templates::{build_templates, tests::synthetic_record, BuildParams};
    use std::sync::Arc;

    fn templates() -> Templates {
        build_templates(
            &[synthetic_record(72.0, 500.0, 10.0)],
            &BuildParams::default(),
        )
        .unwrap()
    }

    fn ctx(fs: f32) -> RunContext {
        RunContext::new(
            InputSource::Path("x.png".into()),
            "x",
            Arc::new(RunOptions {
                fs,
                ..RunOptions::default()
            }),
        )
    }

    fn run(cfg: &ReconstructConfig, inputs: StageInputs, fs: f32) -> Signals {
        let stage = cfg.build(&BuildContext::default()).unwrap();
        let out = stage.run(&inputs, &ctx(fs)).unwrap();
        match out.get("") {
            Some(Artifact::Signals(s)) => (**s).clone(),
            _ => panic!("no signals"),
        }
    }

    #[test]
    fn standard_windows_cover_the_3x4_page() {
        assert_eq!(standard_window(Lead::I, 5000), (0, 1250));
        assert_eq!(standard_window(Lead::AVF, 5000), (1250, 1250));
        assert_eq!(standard_window(Lead::V3, 5000), (2500, 1250));
        assert_eq!(standard_window(Lead::V6, 5000), (3750, 1250));
        assert_eq!(standard_window(Lead::II, 5000), (0, 5000));
    }

    #[test]
    fn seed_mode_without_signals_tiles_at_the_prior() {
        let t = templates();
        let cfg = ReconstructConfig {
            mode: ReconstructMode::Seed,
            ..Default::default()
        };
        let s = run(&cfg, StageInputs::new().with("templates", t.clone()), 250.0);
        assert_eq!(s.n_samples, 2500);
        let ii = s.lead(Lead::II).unwrap();
        assert_eq!((ii.start, ii.samples.len()), (0, 2500));
        let v6 = s.lead(Lead::V6).unwrap();
        assert_eq!((v6.start, v6.samples.len()), (1875, 625));
        // beats of II at the prior: R peaks at 0.2 s + k * 60/72 s
        let peaks = dsp::detect_r_peaks(&ii.samples, 250.0, &RPeakParams::default());
        let bpm = dsp::heart_rate_bpm(&peaks, 250.0).unwrap();
        assert!((bpm - t.bpm_prior).abs() < 1.5, "{bpm}");
        assert!(ii.samples.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn seed_mode_picks_the_bpm_of_the_digitized_strip() {
        let t = templates();
        // digitized II at 90 bpm, 2.5 s only (as the seed's panels give)
        let rec = synthetic_record(90.0, 500.0, 10.0);
        let mut sig = Signals::empty(500.0, 5000);
        sig.set(
            Lead::II,
            LeadSignal {
                start: 0,
                samples: rec.lead(Lead::II).unwrap()[..1250].to_vec(),
                confidence: 1.0,
            },
        );
        assert!(
            (best_bpm(
                &sig.lead(Lead::II).unwrap().samples,
                500.0,
                40.0,
                150.0,
                1.0
            )
            .unwrap()
                - 90.0)
                .abs()
                <= 1.0
        );
        let cfg = ReconstructConfig {
            mode: ReconstructMode::Seed,
            weights: [1.0, 0.0, 0.0],
            ..Default::default()
        };
        let s = run(
            &cfg,
            StageInputs::new().with("templates", t).with("signals", sig),
            500.0,
        );
        // II keeps the input's 2.5 s window
        let ii = s.lead(Lead::II).unwrap();
        assert_eq!(ii.samples.len(), 1250);
        let i = s.lead(Lead::I).unwrap();
        let peaks = dsp::detect_r_peaks(&i.samples, 500.0, &RPeakParams::default());
        let bpm = dsp::heart_rate_bpm(&peaks, 500.0).unwrap();
        assert!((bpm - 90.0).abs() < 2.0, "{bpm}");
    }

    #[test]
    fn rhythm_mode_places_beats_at_the_measured_r_peaks() {
        let t = templates();
        let truth = synthetic_record(65.0, 500.0, 10.0);
        let mut sig = Signals::empty(500.0, 5000);
        sig.set(
            Lead::II,
            LeadSignal {
                start: 0,
                samples: truth.lead(Lead::II).unwrap().to_vec(),
                confidence: 1.0,
            },
        );
        let s = run(
            &ReconstructConfig::default(),
            StageInputs::new().with("templates", t).with("signals", sig),
            500.0,
        );
        // V1 is reconstructed in 5..7.5 s with R where the truth has them
        let v1 = s.lead(Lead::V1).unwrap();
        assert_eq!((v1.start, v1.samples.len()), (2500, 1250));
        let x_true = &truth.lead(Lead::V1).unwrap()[2500..3750];
        let p_rec = dsp::detect_r_peaks(&v1.samples, 500.0, &RPeakParams::default());
        let p_true = dsp::detect_r_peaks(x_true, 500.0, &RPeakParams::default());
        assert_eq!(p_rec.len(), p_true.len(), "{p_rec:?} vs {p_true:?}");
        for (a, b) in p_rec.iter().zip(&p_true) {
            assert!(a.abs_diff(*b) <= 5, "{a} vs {b}");
        }
        // and the reconstruction correlates with the truth
        let m1 = v1.samples.iter().sum::<f32>() / 1250.0;
        let m2 = x_true.iter().sum::<f32>() / 1250.0;
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (a, b) in v1.samples.iter().zip(x_true) {
            sxy += (a - m1) * (b - m2);
            sxx += (a - m1) * (a - m1);
            syy += (b - m2) * (b - m2);
        }
        let corr = sxy / (sxx * syy).sqrt();
        assert!(corr > 0.8, "{corr}");
    }

    #[test]
    fn place_beats_interpolates_gaps_and_crossfades_overlaps() {
        let tpl = Templates {
            length: 7,
            pre_seconds: 0.2,
            post_seconds: 0.4,
            bpm_prior: 60.0,
            leads: vec![],
        };
        // template: 1 at the start, 0 at R... 2 at the end (ramp over 0.6 s)
        let t = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0];
        let x = place_beats(&t, &tpl, &[1.0, 2.0], 0, 30, 10.0);
        assert_eq!(x.len(), 30);
        assert!((x[10]).abs() < 1e-4); // at R
        assert!((x[14] - 2.0).abs() < 1e-4); // template end
        assert!((x[16] - 1.5).abs() < 1e-4); // halfway through the gap, 2 -> 1
        assert!((x[18] - 1.0).abs() < 1e-4); // next template start

        // overlapping beats never produce non-finite values
        let y = place_beats(&t, &tpl, &[1.0, 1.3, 1.6], 0, 30, 10.0);
        assert!(y.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn bad_parameters_are_refused() {
        let cfg = ReconstructConfig {
            rhythm_lead: "V9".into(),
            ..Default::default()
        };
        assert!(cfg.build(&BuildContext::default()).is_err());
        let cfg = ReconstructConfig {
            weights: [0.0, 0.0, 0.0],
            ..Default::default()
        };
        assert!(cfg.build(&BuildContext::default()).is_err());
    }
}
