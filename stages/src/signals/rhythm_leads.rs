//! `rhythm_leads`: names each rhythm strip by the lead it repeats.
//!
//! Inputs: `layout`, `traces`, `grid`. Outputs: `layout` and `traces`, with
//! rhythm strips renamed where the signal says so.
//!
//! A rhythm strip shows one lead over the whole page, and that lead's short
//! panel shows a few seconds of the same samples: where the strip covers the
//! short panel's window, the two tracings are the same curve up to a level
//! (each row has its own baseline) and the tracing error. Any other lead in
//! that window is a different curve. So each strip is compared with every
//! short panel inside its window: the relative error of the difference
//! (after the best level and a lag of up to `max_lag_s`, for a row that
//! starts a pixel or two off) is a few percent for the lead it repeats and
//! tens of percent or more for the others.
//!
//! Printers put lead II on the strip most often, but also V1, V5, I or any
//! other lead, and the layout names the strip II unless its printed label was
//! read. A strip is renamed to its best-matching lead when that match is
//! close (error under `max_error`) and clearly the best: under `max_ratio` of
//! the next lead's error and of the error of the name it has (or, when the
//! strip's samples refute the name it has, under `max_ratio` of that name's
//! error alone: II and aVF can be near twins). Otherwise the
//! name stays, so a page whose strip is II, or whose traces are too poor to
//! tell, is left as it was; so is a strip that matches its own name's short
//! panel closely (relative error under 0.1), however close a near twin. A renamed strip's name no longer comes from a
//! printed label (`label_score` is cleared).
//!
//! ```
//! # let toml = r#"
//! [stages.rhythm]
//! type = "rhythm_leads"
//! inputs = { layout = "layout", traces = "trace", grid = "calibrate" }
//! max_error = 0.25
//! max_ratio = 0.5
//! max_lag_s = 0.04
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use super::convert::sample_panel;
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

/// Rate the tracings are compared at, Hz (enough for the shape of a QRS).
const MATCH_FS: f32 = 250.0;
/// Smallest variance (mV²) of either tracing for a comparison to count: a
/// flat stretch matches any other flat stretch.
const MIN_VARIANCE_MV2: f64 = 0.0025;
/// A strip whose present name's short panel differs from it by this
/// relative error (or more) is surely not that lead: it takes its best
/// match even when a second lead matches nearly as well (II and aVF).
const REFUTED_ERROR: f64 = 0.6;
/// A strip that matches the short panel of the name it has this closely
/// keeps that name: a near twin (II and aVF on a page whose lead I is
/// small) matching a little closer still is tracing noise, not evidence.
const KEPT_ERROR: f64 = 0.1;
/// Smallest share of the short panel's samples both tracings must cover.
const MIN_OVERLAP: f32 = 0.6;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RhythmLeadsConfig {
    /// A strip is renamed only when its best match's relative error (the
    /// difference's variance over the tracings' mean variance) is under this.
    pub max_error: f32,
    /// ... and under this fraction of the next lead's error and of the
    /// error of the strip's present name.
    pub max_ratio: f32,
    /// Largest lag tried between the strip and a short panel, seconds.
    pub max_lag_s: f32,
}

impl Default for RhythmLeadsConfig {
    fn default() -> Self {
        Self {
            max_error: 0.25,
            max_ratio: 0.5,
            max_lag_s: 0.04,
        }
    }
}

#[typetag::serde(name = "rhythm_leads")]
impl StageConfig for RhythmLeadsConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![
            Port::new("layout", ArtifactKind::Layout),
            Port::new("traces", ArtifactKind::Traces),
            Port::new("grid", ArtifactKind::Grid),
        ]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![
            Port::new("layout", ArtifactKind::Layout),
            Port::new("traces", ArtifactKind::Traces),
        ]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if !(self.max_error > 0.0 && self.max_ratio > 0.0 && self.max_lag_s >= 0.0) {
            return Err(Error::stage(
                "rhythm_leads: max_error and max_ratio must be positive, max_lag_s not negative",
            ));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    RhythmLeadsConfig,
    "rhythm_leads",
    summary = "Names each rhythm strip by the short panel whose samples it repeats (a strip of V1, V5 or I, not only II).",
    params = [
        (
            "max_error",
            "largest relative error of the best match for a strip to be renamed"
        ),
        (
            "max_ratio",
            "the best match's error must be under this fraction of the next lead's and of the present name's"
        ),
        (
            "max_lag_s",
            "largest lag tried between a strip and a short panel, seconds"
        ),
    ],
    example = "[stages.rhythm]\ntype = \"rhythm_leads\"\ninputs = { layout = \"layout\", traces = \"trace\", grid = \"calibrate\" }\n"
);

impl Stage for RhythmLeadsConfig {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let mut layout = (*inputs.layout("layout")?).clone();
        let mut traces = (*inputs.traces("traces")?).clone();
        let grid = inputs.grid("grid")?;
        for (pi, lead) in self.renames(&layout, &traces, &grid) {
            layout.panels[pi].lead = lead;
            layout.panels[pi].label_score = None;
            for t in traces.traces.iter_mut().filter(|t| t.panel == pi) {
                t.lead = lead;
            }
        }
        Ok(StageOutputs::default()
            .with("layout", layout)
            .with("traces", traces))
    }
}

impl RhythmLeadsConfig {
    /// The strips to rename: (panel index, its lead).
    pub fn renames(&self, layout: &Layout, traces: &Traces, grid: &GridInfo) -> Vec<(usize, Lead)> {
        let n_samples = (layout.page_seconds * MATCH_FS).round() as usize;
        let sampled = |pi: usize| {
            let trace = traces.traces.iter().find(|t| t.panel == pi);
            sample_panel(&layout.panels[pi], trace, grid, MATCH_FS, n_samples)
        };
        let max_lag = (self.max_lag_s * MATCH_FS).round() as usize;
        let mut out = Vec::new();
        for (ri, strip) in layout.panels.iter().enumerate() {
            if !strip.rhythm {
                continue;
            }
            let Some((m0, r, _)) = sampled(ri) else {
                continue;
            };
            // the best error per lead over its short panels
            let mut err = [f64::INFINITY; N_LEADS];
            for (si, short) in layout.panels.iter().enumerate() {
                if short.rhythm {
                    continue;
                }
                let Some((n0, s, _)) = sampled(si) else {
                    continue;
                };
                if n0 < m0 || n0 + s.len() > m0 + r.len() {
                    continue;
                }
                if let Some(e) = match_error(&r[n0 - m0..], &s, max_lag) {
                    let slot = &mut err[short.lead.index()];
                    *slot = slot.min(e);
                }
            }
            let mut ranked: Vec<(f64, Lead)> = Lead::ALL
                .iter()
                .map(|&l| (err[l.index()], l))
                .filter(|(e, _)| e.is_finite())
                .collect();
            ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
            let Some(&(best, lead)) = ranked.first() else {
                continue;
            };
            let next = ranked.get(1).map_or(f64::INFINITY, |r| r.0);
            let present = err[strip.lead.index()];
            let ratio = self.max_ratio as f64;
            // clearly the best, or at least far better than a name the
            // strip's samples refute
            let refuted = present >= REFUTED_ERROR;
            if lead != strip.lead
                && present >= KEPT_ERROR
                && best <= self.max_error as f64
                && best <= ratio * present
                && (best <= ratio * next || refuted)
            {
                out.push((ri, lead));
            }
        }
        out
    }
}

/// Relative error between a strip's samples `r` (starting where the short
/// panel `s` starts) and `s`: the variance of their difference over the
/// mean of their variances, at the best lag within `max_lag` samples.
/// `None` when they overlap too little or either is flat.
fn match_error(r: &[f32], s: &[f32], max_lag: usize) -> Option<f64> {
    let mut best: Option<f64> = None;
    for lag in -(max_lag as isize)..=max_lag as isize {
        let (mut n, mut sr, mut ss, mut srr, mut sss, mut srs) = (0usize, 0.0, 0.0, 0.0, 0.0, 0.0);
        for (i, &b) in s.iter().enumerate() {
            let j = i as isize + lag;
            if j < 0 || j as usize >= r.len() {
                continue;
            }
            let a = r[j as usize];
            if !(a.is_finite() && b.is_finite()) {
                continue;
            }
            let (a, b) = (a as f64, b as f64);
            n += 1;
            sr += a;
            ss += b;
            srr += a * a;
            sss += b * b;
            srs += a * b;
        }
        if (n as f32) < MIN_OVERLAP * s.len() as f32 || n < 2 {
            continue;
        }
        let nf = n as f64;
        let var_r = srr / nf - (sr / nf).powi(2);
        let var_s = sss / nf - (ss / nf).powi(2);
        if var_r < MIN_VARIANCE_MV2 || var_s < MIN_VARIANCE_MV2 {
            continue;
        }
        let cov = srs / nf - (sr / nf) * (ss / nf);
        let e = (var_r + var_s - 2.0 * cov) / (0.5 * (var_r + var_s));
        if best.is_none_or(|b| e < b) {
            best = Some(e);
        }
    }
    best
}

#[cfg(test)]
#[path = "rhythm_leads_tests.rs"]
mod tests;
