//! `templates`: loads per-lead median-beat templates from a JSON file, and the
//! builder behind `ecgdig templates build`.
//!
//! Inputs: none. Output: `templates` ([`Templates`]: per lead a median and a
//! mean beat on a fixed grid from `pre_seconds` before to `post_seconds` after
//! the R peak, plus the median heart rate of the source records as a BPM
//! prior). The file is read once, when the pipeline is built; `path` is
//! relative to the config file's folder.
//!
//! Build a file from WFDB records or a Kaggle train folder with
//! `ecgdig templates build <records or folders…> -o templates.json`.
//!
//! How a file is built ([`build_templates`]): per record, R peaks are found on
//! lead II (or the first lead that gives at least two beats) with
//! [`crate::dsp::detect_r_peaks`] (5–25 Hz zero-phase Butterworth band-pass,
//! 60 ms energy envelope, prominence-based peaks with a 0.25 s refractory
//! period); every lead is high-passed at 0.5 Hz within each of its finite runs;
//! beats whose window is entirely finite are resampled onto the template grid
//! (at most `max_beats_per_record` per lead and record, so long records do not
//! dominate); the median and mean over all pooled beats form the templates.
//! Flat, short or missing leads contribute nothing; a lead with no beat at all
//! has no template.
//!
//! ```
//! # let toml = r#"
//! [stages.templates]
//! type = "templates"
//! path = "templates/seed-templates.json"
//! # "#;
//! # ecgdig_stages::link(); // keep the stage registrations in the doctest binary
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use crate::dsp::{self, RPeakParams};
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TemplatesConfig {
    /// Templates JSON file, relative to the config's folder.
    pub path: PathBuf,
}

impl Default for TemplatesConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("templates.json"),
        }
    }
}

#[typetag::serde(name = "templates")]
impl StageConfig for TemplatesConfig {
    fn inputs(&self) -> Vec<Port> {
        Vec::new()
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("templates", ArtifactKind::Templates)]
    }
    fn build(&self, ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        let path = ctx.resolve_path(&self.path);
        let templates = load(&path)?;
        Ok(Box::new(TemplatesStage {
            templates: Arc::new(templates),
        }))
    }
}

register_stage!(
    TemplatesConfig,
    "templates",
    summary = "Loads per-lead median/mean beat templates and a BPM prior (build them with `ecgdig templates build`).",
    params = [(
        "path",
        "templates JSON file, relative to the config's folder"
    )],
    example = "[stages.templates]\ntype = \"templates\"\npath = \"templates/seed-templates.json\"\n"
);

struct TemplatesStage {
    templates: Arc<Templates>,
}

impl Stage for TemplatesStage {
    fn run(&self, _inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        Ok(StageOutputs::one(self.templates.clone()))
    }
}

/// A templates file: the templates plus provenance (free text, ignored when loading).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TemplatesFile {
    /// What the file is and where its statistics come from (licences).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// Names of the source records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    #[serde(flatten)]
    pub templates: Templates,
}

/// Reads and validates a templates file.
pub fn load(path: &Path) -> Result<Templates> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::new(
                ErrorClass::Runtime,
                format!(
                    "templates file {} not found; build one with `ecgdig templates build <WFDB records or Kaggle train folder> -o {}`",
                    path.display(),
                    path.display()
                ),
            ))
        }
        Err(e) => {
            return Err(Error::new(
                ErrorClass::Io,
                format!("cannot read templates file {}: {e}", path.display()),
            ))
        }
    };
    let file: TemplatesFile = serde_json::from_str(&text).map_err(|e| {
        Error::new(
            ErrorClass::Runtime,
            format!("templates file {} is not valid: {e}", path.display()),
        )
    })?;
    validate(&file.templates)
        .map_err(|e| Error::new(ErrorClass::Runtime, format!("{}: {e}", path.display())))?;
    let mut t = file.templates;
    t.leads.resize(N_LEADS, None);
    Ok(t)
}

/// Checks shapes and values of templates.
pub fn validate(t: &Templates) -> std::result::Result<(), String> {
    if t.length < 2 {
        return Err(format!("template length {} is below 2", t.length));
    }
    if !(t.pre_seconds >= 0.0 && t.post_seconds > 0.0 && t.pre_seconds + t.post_seconds <= 5.0) {
        return Err(format!(
            "pre/post seconds ({}, {}) are out of range",
            t.pre_seconds, t.post_seconds
        ));
    }
    if !(t.bpm_prior.is_finite() && (20.0..=300.0).contains(&t.bpm_prior)) {
        return Err(format!("bpm_prior {} is out of 20..300", t.bpm_prior));
    }
    if t.leads.len() > N_LEADS {
        return Err(format!("{} leads, more than {N_LEADS}", t.leads.len()));
    }
    for (k, l) in t.leads.iter().enumerate() {
        let Some(l) = l else { continue };
        let name = Lead::from_index(k).map(|l| l.name()).unwrap_or("?");
        if l.median.len() != t.length || l.mean.len() != t.length {
            return Err(format!(
                "lead {name}: templates have {} / {} samples, expected {}",
                l.median.len(),
                l.mean.len(),
                t.length
            ));
        }
        if l.median.iter().chain(&l.mean).any(|v| !v.is_finite()) {
            return Err(format!("lead {name}: non-finite template value"));
        }
    }
    Ok(())
}

/// Parameters of [`build_templates`].
#[derive(Clone, Debug)]
pub struct BuildParams {
    /// Samples per template.
    pub length: usize,
    pub pre_seconds: f32,
    pub post_seconds: f32,
    /// Baseline-wander high-pass, Hz.
    pub highpass_hz: f32,
    /// Most beats taken per lead and record.
    pub max_beats_per_record: usize,
    pub r_peaks: RPeakParams,
}

impl Default for BuildParams {
    fn default() -> Self {
        Self {
            length: 200,
            pre_seconds: 0.2,
            post_seconds: 0.4,
            highpass_hz: 0.5,
            max_beats_per_record: 20,
            r_peaks: RPeakParams::default(),
        }
    }
}

/// R peaks of a record: lead II first, then the other leads in order; the
/// first lead giving at least two beats wins.
pub fn record_r_peaks(rec: &Record, p: &RPeakParams) -> Vec<usize> {
    let order = std::iter::once(Lead::II).chain(Lead::ALL.into_iter().filter(|l| *l != Lead::II));
    for lead in order {
        let Some(x) = rec.lead(lead) else { continue };
        // detect on the longest finite run (Kaggle train CSVs hold windows)
        let Some((a, b)) = finite_runs(x).into_iter().max_by_key(|(a, b)| b - a) else {
            continue;
        };
        let peaks = dsp::detect_r_peaks(&x[a..b], rec.fs, p);
        if peaks.len() >= 2 {
            return peaks.into_iter().map(|i| i + a).collect();
        }
    }
    Vec::new()
}

/// Builds templates from records (any rates). Errors when no beat is found at all.
pub fn build_templates(
    records: &[Record],
    p: &BuildParams,
) -> std::result::Result<Templates, String> {
    if p.length < 2 {
        return Err("template length must be at least 2".into());
    }
    let mut beats: Vec<Vec<Vec<f32>>> = vec![Vec::new(); N_LEADS];
    let mut rates = Vec::new();
    for rec in records {
        if rec.fs <= 0.0 {
            continue;
        }
        let peaks = record_r_peaks(rec, &p.r_peaks);
        if let Some(bpm) = dsp::heart_rate_bpm(&peaks, rec.fs) {
            rates.push(bpm);
        }
        for lead in Lead::ALL {
            let Some(x) = rec.lead(lead) else { continue };
            let hp = highpass_runs(x, rec.fs, p.highpass_hz, rec.fs);
            let mut taken = 0;
            for &r in &peaks {
                if taken >= p.max_beats_per_record {
                    break;
                }
                if let Some(b) = extract_beat(&hp, r as f32, rec.fs, p) {
                    beats[lead.index()].push(b);
                    taken += 1;
                }
            }
        }
    }
    if beats.iter().all(|b| b.is_empty()) {
        return Err(format!(
            "no beat found in {} record(s): are they ECGs of at least a few seconds?",
            records.len()
        ));
    }
    let leads = beats
        .iter()
        .map(|bs| {
            if bs.is_empty() {
                return None;
            }
            let mut median = Vec::with_capacity(p.length);
            let mut mean = Vec::with_capacity(p.length);
            let mut col = Vec::with_capacity(bs.len());
            for k in 0..p.length {
                col.clear();
                col.extend(bs.iter().map(|b| b[k]));
                mean.push(round4(col.iter().sum::<f32>() / col.len() as f32));
                median.push(round4(
                    crate::signals::einthoven::median(&mut col).unwrap_or(0.0),
                ));
            }
            Some(LeadTemplate {
                median,
                mean,
                n_beats: bs.len(),
            })
        })
        .collect();
    let bpm_prior = crate::signals::einthoven::median(&mut rates).unwrap_or(72.0);
    Ok(Templates {
        length: p.length,
        pre_seconds: p.pre_seconds,
        post_seconds: p.post_seconds,
        bpm_prior: round4(bpm_prior),
        leads,
    })
}

/// Rounds to 0.1 µV (keeps JSON files small; far below any plotting resolution).
fn round4(v: f32) -> f32 {
    (v * 1e4).round() / 1e4
}

/// `[start, end)` of the maximal runs of finite samples.
pub fn finite_runs(x: &[f32]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, v) in x.iter().enumerate() {
        match (v.is_finite(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s, x.len()));
    }
    runs
}

/// High-pass of every finite run of at least `min_len` samples; NaN elsewhere
/// and over flat runs (standard deviation below 1 µV).
fn highpass_runs(x: &[f32], fs: f32, fc: f32, min_len: f32) -> Vec<f32> {
    let mut out = vec![f32::NAN; x.len()];
    for (a, b) in finite_runs(x) {
        if ((b - a) as f32) < min_len {
            continue;
        }
        let run = &x[a..b];
        let mean = run.iter().sum::<f32>() / run.len() as f32;
        let var = run.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / run.len() as f32;
        if var.sqrt() < 1e-3 {
            continue;
        }
        out[a..b].copy_from_slice(&dsp::highpass(run, fs, fc));
    }
    out
}

/// One beat around R (sample index `r` at rate `fs`) on the template grid;
/// `None` when the window leaves the finite samples.
fn extract_beat(x: &[f32], r: f32, fs: f32, p: &BuildParams) -> Option<Vec<f32>> {
    let span = p.pre_seconds + p.post_seconds;
    let first = r - p.pre_seconds * fs;
    let last = r + p.post_seconds * fs;
    if first < 0.0 || last.ceil() as usize >= x.len() {
        return None;
    }
    let (a, b) = (first.floor() as usize, last.ceil() as usize);
    if x[a..=b].iter().any(|v| !v.is_finite()) {
        return None;
    }
    let step = span * fs / (p.length - 1) as f32;
    Some(
        (0..p.length)
            .map(|k| dsp::sample_at(x, first + k as f32 * step))
            .collect(),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A synthetic 12-lead record: lead k has a QRS of amplitude (k+1)/6 mV
    /// (alternating sign), a T wave, and baseline wander; R every 60/bpm s.
    pub fn synthetic_record(bpm: f32, fs: f32, seconds: f32) -> Record {
        let n = (fs * seconds) as usize;
        let mut rec = Record::new("synthetic", fs, n);
        let rr = 60.0 / bpm;
        for lead in Lead::ALL {
            let k = lead.index() as f32;
            let amp = (k + 1.0) / 6.0 * if lead.index() % 2 == 0 { 1.0 } else { -1.0 };
            let x = (0..n)
                .map(|i| {
                    let t = i as f32 / fs;
                    let phase = (t - 0.3).rem_euclid(rr);
                    let d = if phase > rr / 2.0 { phase - rr } else { phase };
                    amp * (-(d / 0.015).powi(2)).exp()
                        + 0.2 * amp.abs() * (-((d - 0.25) / 0.05).powi(2)).exp()
                        + 0.2 * (2.0 * std::f32::consts::PI * 0.15 * t + k).sin()
                })
                .collect();
            rec.set(lead, x);
        }
        rec
    }

    #[test]
    fn recovers_72_bpm_and_the_qrs_amplitude() {
        let rec = synthetic_record(72.0, 500.0, 10.0);
        let t = build_templates(&[rec], &BuildParams::default()).unwrap();
        assert!((t.bpm_prior - 72.0).abs() < 1.0, "{}", t.bpm_prior);
        validate(&t).unwrap();
        for lead in Lead::ALL {
            let l = t.leads[lead.index()].as_ref().unwrap();
            assert!(l.n_beats >= 10, "{}", l.n_beats);
            // the R peak sits at pre / (pre + post) of the template
            let at_r = ((t.length - 1) as f32 * 0.2 / 0.6).round() as usize;
            let k = lead.index() as f32;
            let amp = (k + 1.0) / 6.0 * if lead.index() % 2 == 0 { 1.0 } else { -1.0 };
            let extreme = (0..t.length)
                .max_by(|&a, &b| l.median[a].abs().total_cmp(&l.median[b].abs()))
                .unwrap();
            assert!(extreme.abs_diff(at_r) <= 2, "{lead}: {extreme} vs {at_r}");
            assert!(
                (l.median[at_r] - amp).abs() < 0.15 * amp.abs() + 0.03,
                "{lead}: {} vs {amp}",
                l.median[at_r]
            );
        }
    }

    #[test]
    fn flat_short_and_windowed_leads_are_handled() {
        let mut rec = synthetic_record(60.0, 250.0, 10.0);
        rec.set(Lead::V1, vec![0.3; rec.n_samples]); // flat
        rec.leads[Lead::V2.index()] = None; // missing
                                            // windowed like a Kaggle train CSV: only 2.5..5 s of aVR
        let avr = rec.leads[Lead::AVR.index()].as_mut().unwrap();
        for (i, v) in avr.iter_mut().enumerate() {
            if !(625..1250).contains(&i) {
                *v = f32::NAN;
            }
        }
        let short = synthetic_record(60.0, 250.0, 0.3);
        let t = build_templates(&[rec, short], &BuildParams::default()).unwrap();
        assert!(t.leads[Lead::V1.index()].is_none());
        assert!(t.leads[Lead::V2.index()].is_none());
        let avr = t.leads[Lead::AVR.index()].as_ref().unwrap();
        assert!((1..=3).contains(&avr.n_beats), "{}", avr.n_beats);
        assert!((t.bpm_prior - 60.0).abs() < 1.0);
    }

    #[test]
    fn no_beat_is_an_error() {
        let mut rec = Record::new("flat", 500.0, 5000);
        rec.set(Lead::II, vec![0.0; 5000]);
        assert!(build_templates(&[rec], &BuildParams::default()).is_err());
        assert!(build_templates(&[], &BuildParams::default()).is_err());
    }

    #[test]
    fn file_round_trip_and_missing_file_message() {
        let rec = synthetic_record(72.0, 500.0, 10.0);
        let t = build_templates(&[rec], &BuildParams::default()).unwrap();
        let dir = std::env::temp_dir().join(format!("ecgdig-templates-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = TemplatesFile {
            about: Some("test".into()),
            sources: vec!["synthetic".into()],
            templates: t.clone(),
        };
        std::fs::write(dir.join("t.json"), serde_json::to_string(&file).unwrap()).unwrap();
        let cfg = TemplatesConfig {
            path: "t.json".into(),
        };
        let ctx = BuildContext {
            config_dir: Some(dir.clone()),
        };
        let stage = cfg.build(&ctx).unwrap();
        let run = RunContext::new(
            InputSource::Path("x.png".into()),
            "x",
            Arc::new(RunOptions::default()),
        );
        let out = stage.run(&StageInputs::new(), &run).unwrap();
        let Some(Artifact::Templates(got)) = out.get("") else {
            panic!("no templates")
        };
        assert_eq!(got.length, t.length);
        assert_eq!(
            got.leads[0].as_ref().unwrap().median,
            t.leads[0].as_ref().unwrap().median
        );
        let missing = TemplatesConfig {
            path: "nope.json".into(),
        };
        let err = missing.build(&ctx).err().unwrap();
        assert!(err.message.contains("ecgdig templates build"), "{err}");
        std::fs::write(dir.join("bad.json"), "{\"length\": 1}").unwrap();
        let bad = TemplatesConfig {
            path: "bad.json".into(),
        };
        assert!(bad.build(&ctx).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
