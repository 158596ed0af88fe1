//! `to_signals`: converts traced paths into calibrated samples.
//!
//! Inputs: `traces`, `layout`, `grid`. Output: `signals` at the run's `fs`
//! over a page of `page_seconds`.
//!
//! Each panel shows seconds `[t_start, t_end)` of the page. For every output
//! sample `n` in that window the time `t = n / fs` maps to
//! `x = x_start + (t - t_start) * mm_per_second * px_per_mm_x`; the traced
//! path is interpolated linearly at that x (per sample, not per pixel column)
//! and converted with `mV = (baseline_y - y) / (px_per_mm_y * mm_per_mv)`
//! (negated for a lead printed inverted, Cabrera's -aVR).
//! Gaps inside the path are bridged linearly; the ends are held. A panel whose
//! trace is empty gives zeros with confidence 0, so that every lead on the
//! page has its window filled. Lead II takes the rhythm strip (full page)
//! when there is one; a lead shown twice otherwise keeps its longer panel.
//!
//! ```
//! # let toml = r#"
//! [stages.signals]
//! type = "to_signals"
//! inputs = { traces = "trace", layout = "layout", grid = "calibrate" }
//! remove_median = false
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ToSignalsConfig {
    /// Subtract each lead's median (baseline wander of the printed row).
    pub remove_median: bool,
    /// A lead drawn twice (lead II in its 3x4 panel and on the rhythm
    /// strip) is two tracings of the same samples: average them where
    /// they overlap, each at its own level, instead of keeping one.
    pub skip_repeats: bool,
}

#[typetag::serde(name = "to_signals")]
impl StageConfig for ToSignalsConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![
            Port::new("traces", ArtifactKind::Traces),
            Port::new("layout", ArtifactKind::Layout),
            Port::new("grid", ArtifactKind::Grid),
        ]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("signals", ArtifactKind::Signals)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    ToSignalsConfig,
    "to_signals",
    summary = "Samples each traced path at fs (per sample, sub-pixel) and converts pixels to mV.",
    params = [
        (
            "remove_median",
            "subtract each lead's median, for rows whose baseline is not the 0 mV line"
        ),
        (
            "skip_repeats",
            "keep only the longest panel of a lead drawn twice (default: average the tracings where they overlap)"
        )
    ],
    example = "[stages.signals]\ntype = \"to_signals\"\ninputs = { traces = \"trace\", layout = \"layout\", grid = \"calibrate\" }\n"
);

impl Stage for ToSignalsConfig {
    fn run(&self, inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
        let traces = inputs.traces("traces")?;
        let layout = inputs.layout("layout")?;
        let grid = inputs.grid("grid")?;
        let s = self.convert(
            &traces,
            &layout,
            &grid,
            ctx.options.fs,
            ctx.options.page_seconds,
        );
        Ok(StageOutputs::one(s))
    }
}

impl ToSignalsConfig {
    /// Converts all traces of a page.
    pub fn convert(
        &self,
        traces: &Traces,
        layout: &Layout,
        grid: &GridInfo,
        fs: f32,
        page_seconds: f32,
    ) -> Signals {
        let n_samples = (fs * page_seconds).round() as usize;
        let mut out = Signals::empty(fs, n_samples);
        let chosen = chosen_panels(layout);
        let sampled = |pi: usize| -> Option<(usize, Vec<f32>, f32)> {
            let trace = traces.traces.iter().find(|t| t.panel == pi);
            sample_panel(&layout.panels[pi], trace, grid, fs, n_samples)
        };
        for pi in chosen.iter().flatten() {
            let p = &layout.panels[*pi];
            let Some((n0, mut samples, conf)) = sampled(*pi) else {
                continue;
            };
            if !self.skip_repeats {
                // the lead's other panels inside this one's window, traced
                // with confidence: averaged in at their own level
                for (qi, q) in layout.panels.iter().enumerate() {
                    if qi == *pi || q.lead != p.lead {
                        continue;
                    }
                    let Some((m0, other, qconf)) = sampled(qi) else {
                        continue;
                    };
                    if m0 < n0 || m0 + other.len() > n0 + samples.len() || qconf < 0.9 || conf < 0.9
                    {
                        continue;
                    }
                    let mine = &mut samples[m0 - n0..m0 - n0 + other.len()];
                    // the two tracings' level difference where both have a value
                    let (mut n, mut diff) = (0usize, 0f64);
                    for (a, b) in mine.iter().zip(&other) {
                        if a.is_finite() && b.is_finite() {
                            n += 1;
                            diff += (a - b) as f64;
                        }
                    }
                    if n * 2 < other.len() {
                        continue;
                    }
                    let offset = diff / n as f64;
                    for (a, b) in mine.iter_mut().zip(&other) {
                        if a.is_finite() && b.is_finite() {
                            *a = 0.5 * (*a + b + offset as f32);
                        }
                    }
                }
            }
            fill_gaps(&mut samples);
            if self.remove_median {
                let med = crate::imaging::median(&samples);
                if med.is_finite() {
                    samples.iter_mut().for_each(|v| *v -= med);
                }
            }
            out.set(
                p.lead,
                LeadSignal {
                    start: n0,
                    samples,
                    confidence: conf,
                },
            );
        }
        out
    }
}

/// The panel each lead's samples come from: its longest (a rhythm strip
/// over a short panel of the same lead); the first of equal ones.
pub fn chosen_panels(layout: &Layout) -> [Option<usize>; N_LEADS] {
    let mut chosen: [Option<usize>; N_LEADS] = [None; N_LEADS];
    for (i, p) in layout.panels.iter().enumerate() {
        let dur = p.t_end - p.t_start;
        let slot = &mut chosen[p.lead.index()];
        let longer = slot.is_none_or(|j| {
            let q = &layout.panels[j];
            dur > q.t_end - q.t_start + 1e-3
        });
        if longer {
            *slot = Some(i);
        }
    }
    chosen
}

/// One panel's samples over its window, in mV (NaN where the path has no
/// value; negated for a lead printed inverted, so that they are the lead's): the first sample's index on the page, the samples, and the
/// trace's confidence (0 without a trace). `None` when the window holds no
/// sample of the page.
pub fn sample_panel(
    p: &Panel,
    trace: Option<&Trace>,
    grid: &GridInfo,
    fs: f32,
    n_samples: usize,
) -> Option<(usize, Vec<f32>, f32)> {
    let pps = grid.px_per_second();
    let px_per_mv = grid.px_per_mv();
    let n0 = (p.t_start * fs).round().max(0.0) as usize;
    let n1 = ((p.t_end * fs).round() as usize).min(n_samples);
    if n1 <= n0 {
        return None;
    }
    let pts: &[[f32; 2]] = trace.map(|t| t.points.as_slice()).unwrap_or(&[]);
    let conf = trace.map(|t| t.confidence).unwrap_or(0.0);
    let mut samples = Vec::with_capacity(n1 - n0);
    let mut j = 0usize;
    for n in n0..n1 {
        let t = n as f32 / fs;
        let x = p.x_start + (t - p.t_start) * pps;
        let sign = if p.inverted { -1.0 } else { 1.0 };
        samples.push(match interp(pts, x, &mut j) {
            Some(y) => sign * (p.baseline_y - y) / px_per_mv,
            None => f32::NAN,
        });
    }
    Some((n0, samples, conf))
}

/// Linear interpolation of a path (x strictly increasing) at `x`; `j` is a
/// cursor for monotone queries. Points with NaN y are gaps. Outside the path
/// there is no value.
fn interp(pts: &[[f32; 2]], x: f32, j: &mut usize) -> Option<f32> {
    if pts.is_empty() || x < pts[0][0] - 0.5 || x > pts[pts.len() - 1][0] + 0.5 {
        return None;
    }
    while *j + 1 < pts.len() && pts[*j + 1][0] <= x {
        *j += 1;
    }
    let a = pts[*j];
    if *j + 1 >= pts.len() || x <= a[0] {
        return a[1].is_finite().then_some(a[1]);
    }
    let b = pts[*j + 1];
    let f = (x - a[0]) / (b[0] - a[0]);
    let y = a[1] + f * (b[1] - a[1]);
    y.is_finite().then_some(y)
}

/// Bridges NaN gaps linearly and holds the ends; all-NaN becomes zeros.
fn fill_gaps(v: &mut [f32]) {
    let finite: Vec<usize> = (0..v.len()).filter(|&i| v[i].is_finite()).collect();
    let (Some(&first), Some(&last)) = (finite.first(), finite.last()) else {
        v.iter_mut().for_each(|s| *s = 0.0);
        return;
    };
    let (fv, lv) = (v[first], v[last]);
    v[..first].iter_mut().for_each(|s| *s = fv);
    v[last + 1..].iter_mut().for_each(|s| *s = lv);
    for pair in finite.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if b > a + 1 {
            let (va, vb) = (v[a], v[b]);
            for (k, s) in v[a + 1..b].iter_mut().enumerate() {
                *s = va + (vb - va) * (k + 1) as f32 / (b - a) as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_per_sample_and_converts_to_millivolts() {
        // 4 px/mm: 100 px per second, 40 px per mV
        let grid = GridInfo::from_dpi(101.6, ScaleSource::Grid);
        let panel = Panel {
            lead: Lead::V1,
            row: 0,
            col: 2,
            bbox: Rect {
                x0: 10.0,
                y0: 0.0,
                x1: 260.0,
                y1: 100.0,
            },
            baseline_y: 50.0,
            x_start: 10.0,
            x_end: 260.0,
            t_start: 5.0,
            t_end: 7.5,
            rhythm: false,
            label_score: None,
            inverted: false,
        };
        let layout = Layout {
            kind: LayoutKind::Other,
            page_seconds: 10.0,
            row_baselines: vec![50.0],
            template: None,
            panels: vec![panel],
        };
        // a ramp: y = 50 - (x - 10) * 0.4  => 1 mV per 100 px = per second
        let points: Vec<[f32; 2]> = (10..=260)
            .map(|x| [x as f32, 50.0 - (x as f32 - 10.0) * 0.4])
            .collect();
        let traces = Traces {
            traces: vec![Trace {
                panel: 0,
                lead: Lead::V1,
                points,
                confidence: 1.0,
            }],
        };
        let s = ToSignalsConfig::default().convert(&traces, &layout, &grid, 500.0, 10.0);
        let v1 = s.lead(Lead::V1).unwrap();
        assert_eq!(v1.start, 2500);
        assert_eq!(v1.samples.len(), 1250);
        // sample 2500 + 250 is 0.5 s into the panel: 0.5 mV
        assert!((v1.samples[250] - 0.5).abs() < 1e-4, "{}", v1.samples[250]);
        // between pixel columns too (sample 251 = x 60.2)
        assert!((v1.samples[251] - 0.502).abs() < 1e-4);
        assert!(s.lead(Lead::I).is_none());
    }

    #[test]
    fn fills_gaps_and_ends() {
        let mut v = vec![f32::NAN, 1.0, f32::NAN, 3.0, f32::NAN];
        fill_gaps(&mut v);
        assert_eq!(v, vec![1.0, 1.0, 2.0, 3.0, 3.0]);
    }

    #[test]
    fn a_lead_drawn_twice_averages_its_two_tracings() {
        // lead II at 4 px/mm: a 2.5 s panel in row 1 and the 10 s rhythm
        // strip in row 2, the same sine traced with opposite errors
        let grid = GridInfo::from_dpi(101.6, ScaleSource::Grid);
        let panel = |row: usize, base: f32, secs: f32, rhythm: bool| Panel {
            lead: Lead::II,
            row,
            col: 0,
            bbox: Rect {
                x0: 10.0,
                y0: base - 40.0,
                x1: 10.0 + 100.0 * secs,
                y1: base + 40.0,
            },
            baseline_y: base,
            x_start: 10.0,
            x_end: 10.0 + 100.0 * secs,
            t_start: 0.0,
            t_end: secs,
            rhythm,
            label_score: None,
            inverted: false,
        };
        let layout = Layout {
            kind: LayoutKind::ThreeByFourRhythm,
            page_seconds: 10.0,
            row_baselines: vec![100.0, 300.0],
            template: None,
            panels: vec![panel(0, 100.0, 2.5, false), panel(1, 300.0, 10.0, true)],
        };
        let mv = |x: f32| (x / 17.0).sin();
        let trace = |i: usize, base: f32, len: f32, err: f32| Trace {
            panel: i,
            lead: Lead::II,
            points: (0..=(len as i32))
                .map(|k| {
                    let x = 10.0 + k as f32;
                    let wobble = err * if k % 2 == 0 { 1.0 } else { -1.0 };
                    [x, base - 40.0 * mv(x) + wobble]
                })
                .collect(),
            confidence: 1.0,
        };
        // opposite wobbles in the two drawings; a level offset in one
        let traces = Traces {
            traces: vec![
                trace(0, 100.0 + 3.0, 250.0, 2.0),
                trace(1, 300.0, 1000.0, -2.0),
            ],
        };
        let err = |cfg: &ToSignalsConfig| {
            let s = cfg.convert(&traces, &layout, &grid, 100.0, 10.0);
            let ii = s.lead(Lead::II).unwrap();
            assert_eq!(ii.samples.len(), 1000);
            (0..250)
                .map(|n| (ii.samples[n] - mv(10.0 + n as f32)).abs())
                .fold(0.0f32, f32::max)
        };
        let kept = err(&ToSignalsConfig {
            skip_repeats: true,
            ..ToSignalsConfig::default()
        });
        let averaged = err(&ToSignalsConfig::default());
        assert!(kept > 0.04, "{kept}");
        assert!(averaged < 0.01, "{averaged}");
    }
}
