//! `limb_order`: tells the standard order of the limb leads from the
//! Cabrera order by Einthoven's law, where the printed labels did not.
//!
//! Inputs: `layout`, `traces`, `grid`. Outputs: `layout` and `traces`, with
//! the limb panels renamed when the page is in Cabrera order.
//!
//! Why: a page printed in Cabrera order (aVL, I, -aVR, II, aVF, III) has the
//! same rows and separators as one in the standard order (I, II, III, aVR,
//! aVL, aVF). Without readable labels the layout names it in the standard
//! order, and all six limb leads are wrong.
//!
//! How: the six limb leads are all combinations of two (I and II: III =
//! II - I, aVR = -(I + II)/2, aVL = I - II/2, aVF = II - I/2), so any three
//! printed side by side (simultaneous samples: one column of a 3x4 or 6x2
//! page, the first six rows of a 12x1 page) obey a linear law that depends
//! on which leads they are: `I + III = II` for the standard column (I, II,
//! III), `aVL - aVR = 1.5 I` for the Cabrera one (aVL, I, -aVR), and so on.
//! Each panel's tracing is sampled ([`super::convert::sample_panel`]), its
//! median removed (each row has its own baseline), and at every instant the
//! two-lead model is fitted by least squares to the simultaneous panels
//! under each order; the relative residual (misfit power over signal
//! power, over all columns) measures how well an order explains the page.
//! The page is renamed to the Cabrera order when its residual is under
//! `max_residual` and under `max_ratio` of the standard order's.
//!
//! A page whose limb panels carry confirmed label reads (two or more) keeps
//! its names: the printed names are the truth. A -aVR panel is marked
//! `inverted`, so its samples are written as aVR.
//!
//! The same law tells six rows of limb leads over the whole page (6x1) from
//! a 6x2 page read without separators or second-column labels
//! ([`super::limb_rows`]): when the rows' second half obeys it too, as the
//! first half's leads carried on, each row becomes one panel.
//!
//! ```
//! # let toml = r#"
//! [stages.limbs]
//! type = "limb_order"
//! inputs = { layout = "layout", traces = "trace", grid = "calibrate" }
//! max_residual = 0.05
//! max_ratio = 0.2
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use super::convert::sample_panel;
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

/// Rate the tracings are compared at, Hz.
pub(crate) const FIT_FS: f32 = 250.0;
/// Smallest signal power (mV² per sample and lead) for a column to count:
/// flat tracings fit any law.
const MIN_POWER_MV2: f64 = 0.002;
/// Fewest simultaneous samples (over all columns) for a verdict.
const MIN_SAMPLES: usize = 200;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimbOrderConfig {
    /// Largest relative residual of the Cabrera order for a rename.
    pub max_residual: f32,
    /// The Cabrera order's residual must be under this fraction of the
    /// standard order's.
    pub max_ratio: f32,
}

impl Default for LimbOrderConfig {
    fn default() -> Self {
        Self {
            max_residual: 0.05,
            max_ratio: 0.2,
        }
    }
}

#[typetag::serde(name = "limb_order")]
impl StageConfig for LimbOrderConfig {
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
        let ok = |v: f32| v > 0.0 && v <= 1.0;
        if !ok(self.max_residual) || !ok(self.max_ratio) {
            return Err(Error::stage(
                "limb_order: max_residual and max_ratio must be in (0, 1]",
            ));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    LimbOrderConfig,
    "limb_order",
    summary = "Tells the Cabrera order of the limb leads from the standard one by Einthoven's law; renames the panels.",
    params = [
        (
            "max_residual",
            "largest relative Einthoven residual of the Cabrera order for a rename"
        ),
        (
            "max_ratio",
            "the Cabrera order's residual must be under this fraction of the standard order's"
        ),
    ],
    example = "[stages.limbs]\ntype = \"limb_order\"\ninputs = { layout = \"layout\", traces = \"trace\", grid = \"calibrate\" }\n"
);

impl Stage for LimbOrderConfig {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let mut layout = (*inputs.layout("layout")?).clone();
        let mut traces = (*inputs.traces("traces")?).clone();
        let grid = inputs.grid("grid")?;
        if self.is_cabrera(&layout, &traces, &grid) {
            to_cabrera(&mut layout, &mut traces);
        }
        if super::limb_rows::is_six_by_one(&layout, &traces, &grid, self.max_residual) {
            super::limb_rows::to_six_by_one(&mut layout, &mut traces);
        }
        Ok(StageOutputs::default()
            .with("layout", layout)
            .with("traces", traces))
    }
}

/// The lead and sign the Cabrera order prints where the standard order
/// prints `lead` (the k-th limb lead of one is the k-th of the other).
pub fn cabrera_of(lead: Lead) -> Option<(Lead, bool)> {
    use Lead::*;
    Some(match lead {
        I => (AVL, false),
        II => (I, false),
        III => (AVR, true),
        AVR => (II, false),
        AVL => (AVF, false),
        AVF => (III, false),
        _ => return None,
    })
}

/// A limb lead as a combination `(a, b)` of leads I and II.
fn in_i_ii(lead: Lead) -> Option<(f64, f64)> {
    use Lead::*;
    Some(match lead {
        I => (1.0, 0.0),
        II => (0.0, 1.0),
        III => (-1.0, 1.0),
        AVR => (-0.5, -0.5),
        AVL => (1.0, -0.5),
        AVF => (-0.5, 1.0),
        _ => return None,
    })
}

/// Renames the limb panels (and their traces) to the Cabrera order.
pub fn to_cabrera(layout: &mut Layout, traces: &mut Traces) {
    for p in layout.panels.iter_mut().filter(|p| !p.rhythm) {
        if let Some((lead, inverted)) = cabrera_of(p.lead) {
            p.lead = lead;
            p.inverted = inverted;
            p.label_score = None;
        }
    }
    for t in traces.traces.iter_mut() {
        if let Some(p) = layout.panels.get(t.panel) {
            t.lead = p.lead;
        }
    }
    if let Some(name) = layout.template.as_mut() {
        name.push_str(", limb leads in Cabrera order (Einthoven)");
    }
}

/// Per-panel samples (median removed), grouped by the time window they show.
pub(crate) type Columns = Vec<Vec<(Lead, bool, Vec<f32>)>>;

impl LimbOrderConfig {
    /// Whether the page's limb panels, named in the standard order, are in
    /// fact in the Cabrera order.
    pub fn is_cabrera(&self, layout: &Layout, traces: &Traces, grid: &GridInfo) -> bool {
        let limb: Vec<&Panel> = layout
            .panels
            .iter()
            .filter(|p| !p.rhythm && in_i_ii(p.lead).is_some())
            .collect();
        // already Cabrera, or the printed names say which leads these are
        let confirmed = limb.iter().filter(|p| p.label_score.is_some()).count();
        if limb.iter().any(|p| p.inverted) || confirmed >= 2 {
            return false;
        }
        let columns = columns(layout, traces, grid);
        let standard = residual(&columns, |l, inv| Some((l, inv)));
        let cabrera = residual(&columns, |l, _| cabrera_of(l));
        match (standard, cabrera) {
            (Some(s), Some(c)) => c <= self.max_residual as f64 && c <= self.max_ratio as f64 * s,
            _ => false,
        }
    }
}

/// A panel's samples as the standard order reads them (no sign flip),
/// its median removed (each row has its own baseline); `None` when under
/// half of it was traced.
pub(crate) fn centred_samples(
    p: &Panel,
    trace: Option<&Trace>,
    grid: &GridInfo,
    n: usize,
) -> Option<Vec<f32>> {
    let plain = Panel {
        inverted: false,
        ..p.clone()
    };
    let (_, mut s, _) = sample_panel(&plain, trace, grid, FIT_FS, n)?;
    let mut finite: Vec<f32> = s.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.len() < s.len() / 2 {
        return None;
    }
    finite.sort_by(f32::total_cmp);
    let med = finite[finite.len() / 2];
    s.iter_mut().for_each(|v| *v -= med);
    Some(s)
}

/// The limb panels' samples, grouped by their time window.
fn columns(layout: &Layout, traces: &Traces, grid: &GridInfo) -> Columns {
    let n_samples = (layout.page_seconds * FIT_FS).round() as usize;
    let mut keys: Vec<(i64, i64)> = Vec::new();
    let mut out: Columns = Vec::new();
    for (pi, p) in layout.panels.iter().enumerate() {
        if p.rhythm || in_i_ii(p.lead).is_none() {
            continue;
        }
        let trace = traces.traces.iter().find(|t| t.panel == pi);
        let Some(s) = centred_samples(p, trace, grid, n_samples) else {
            continue;
        };
        let key = (
            (p.t_start * 100.0).round() as i64,
            (p.t_end * 100.0).round() as i64,
        );
        match keys.iter().position(|k| *k == key) {
            Some(i) => out[i].push((p.lead, p.inverted, s)),
            None => {
                keys.push(key);
                out.push(vec![(p.lead, p.inverted, s)]);
            }
        }
    }
    out
}

/// Relative residual of the two-lead model over all columns of three or
/// more limb panels, with each panel's lead and sign given by `name`
/// (from its standard-order name); `None` when too little was measured.
pub(crate) fn residual(
    columns: &Columns,
    name: impl Fn(Lead, bool) -> Option<(Lead, bool)>,
) -> Option<f64> {
    let (mut misfit, mut power, mut count) = (0.0f64, 0.0f64, 0usize);
    for col in columns.iter().filter(|c| c.len() >= 3) {
        let model: Vec<(f64, f64, f64)> = col
            .iter()
            .filter_map(|(l, inv, _)| {
                let (lead, flip) = name(*l, *inv)?;
                let (a, b) = in_i_ii(lead)?;
                Some((a, b, if flip { -1.0 } else { 1.0 }))
            })
            .collect();
        if model.len() != col.len() {
            continue;
        }
        // normal equations of the fit of (I, II) to the column's leads
        let (mut saa, mut sab, mut sbb) = (0.0, 0.0, 0.0);
        for &(a, b, _) in &model {
            saa += a * a;
            sab += a * b;
            sbb += b * b;
        }
        let det = saa * sbb - sab * sab;
        if det.abs() < 1e-9 {
            continue;
        }
        let n = col.iter().map(|c| c.2.len()).min().unwrap_or(0);
        let (mut col_misfit, mut col_power, mut col_count) = (0.0, 0.0, 0usize);
        for k in 0..n {
            let v: Vec<f64> = col
                .iter()
                .zip(&model)
                .map(|(c, m)| m.2 * c.2[k] as f64)
                .collect();
            if v.iter().any(|x| !x.is_finite()) {
                continue;
            }
            let (mut ra, mut rb) = (0.0, 0.0);
            for (x, m) in v.iter().zip(&model) {
                ra += m.0 * x;
                rb += m.1 * x;
            }
            let i = (sbb * ra - sab * rb) / det;
            let ii = (saa * rb - sab * ra) / det;
            for (x, m) in v.iter().zip(&model) {
                col_misfit += (x - m.0 * i - m.1 * ii).powi(2);
                col_power += x * x;
            }
            col_count += 1;
        }
        if col_count == 0 || col_power / ((col_count * col.len()) as f64) < MIN_POWER_MV2 {
            continue;
        }
        misfit += col_misfit;
        power += col_power;
        count += col_count;
    }
    (count >= MIN_SAMPLES && power > 0.0).then(|| misfit / power)
}

#[cfg(test)]
#[path = "limb_order_tests.rs"]
mod tests;
