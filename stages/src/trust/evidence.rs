//! Evidence that a traced lead is real and right, measured on what the
//! pipeline already made: the traced path against the ink mask, the samples
//! against the lead's simultaneous neighbours, and the page's geometry.
//!
//! Every value is a plain number, named in [`FEATURES`], so that a model
//! ([`super::model`]) can weigh them and a user can read them in the JSON:
//!
//! | name | what it measures |
//! |---|---|
//! | `traced` | the tracer's own share of columns followed on clear ink |
//! | `gaps` | share of the panel's columns the path does not cover |
//! | `on_ink` | share of path columns that lie on ink in the mask |
//! | `ink_explained` | share of the panel's ink pixels within reach of the path |
//! | `baseline_offset_mm` | distance of the path's median from the panel's 0 mV line |
//! | `at_edge` | share of path columns pinned to the panel's top or bottom |
//! | `log_amplitude` | ln(0.05 + robust peak-to-peak in mV) |
//! | `is_limb` | 1 for I, II, III, aVR, aVL, aVF |
//! | `einthoven_change` | how far the Einthoven projection moved the lead, relative to its size |
//! | `beat_sync` | correlation of the lead's slope envelope with its simultaneous neighbours' (before the Einthoven projection) |
//! | `has_repeat` | 1 when the lead is drawn twice (a short panel and a rhythm strip) |
//! | `repeat_agreement` | correlation of the two tracings over their common time (NaN without a repeat) |
//! | `pulse_like` | 1 when the lead starts or ends with a flat 0.6–2.5 mV plateau of 0.05–0.3 s: a calibration pulse traced as signal |
//! | `layout_known` | 1 when the layout is one of the named formats (3x4, 3x4 + rhythm, 6x2, 12x1) |
//! | `page_traced` | mean `traced` over the page's leads |
//! | `page_log_amplitude` | median `log_amplitude` of the page's leads (a gain read wrong moves all of them) |
//! | `rate_deviation` | \|ln(heart rate / 72 bpm)\| on the page's longest lead (a paper speed read wrong halves or doubles the rate); NaN under two beats |
//! | `page_sync` | median `beat_sync` over the page's leads |
//! | `grid_confidence` | how clearly the page's scale was measured |
//! | `scale_measured` | 1 when the scale came from the grid or a calibration pulse |
//!
//! A lead shown twice is judged on the panel its samples come from (the
//! longest, as in `to_signals`).

use ecgdig_core::prelude::*;
use image::GrayImage;

/// Names of the evidence values, in the order of [`Evidence::values`].
pub const FEATURES: [&str; 20] = [
    "traced",
    "gaps",
    "on_ink",
    "ink_explained",
    "baseline_offset_mm",
    "at_edge",
    "log_amplitude",
    "is_limb",
    "einthoven_change",
    "beat_sync",
    "has_repeat",
    "repeat_agreement",
    "pulse_like",
    "layout_known",
    "page_traced",
    "page_sync",
    "page_log_amplitude",
    "rate_deviation",
    "grid_confidence",
    "scale_measured",
];

/// Number of evidence values per lead.
pub const N_FEATURES: usize = FEATURES.len();

/// The evidence about one lead.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evidence {
    pub values: [f32; N_FEATURES],
}

impl Evidence {
    /// The value named `name`, if it is one of [`FEATURES`].
    pub fn get(&self, name: &str) -> Option<f32> {
        FEATURES
            .iter()
            .position(|f| *f == name)
            .map(|i| self.values[i])
    }
    /// `(name, value)` pairs, for the JSON.
    pub fn named(&self) -> Vec<(String, f32)> {
        FEATURES
            .iter()
            .zip(self.values)
            .map(|(n, v)| (n.to_string(), v))
            .collect()
    }
}

/// What the evidence is measured on.
pub struct PageParts<'a> {
    pub layout: &'a Layout,
    pub traces: &'a Traces,
    pub grid: &'a GridInfo,
    /// The ink mask the tracer followed, if connected.
    pub mask: Option<&'a GrayImage>,
    /// The signals as judged (after every correction).
    pub signals: &'a Signals,
    /// The signals before the Einthoven projection, if connected.
    pub raw: Option<&'a Signals>,
}

/// Mask values above this are ink.
const INK: u8 = 127;
/// A path farther than this from its panel's 0 mV line is counted at this.
const MAX_OFFSET_MM: f32 = 20.0;

/// Per-panel measurements on the path and the mask.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PanelEvidence {
    pub traced: f32,
    pub gaps: f32,
    pub on_ink: f32,
    pub ink_explained: f32,
    pub baseline_offset_mm: f32,
    pub at_edge: f32,
}

/// The path's y at every integer column of `[x0, x1]` (NaN where it has none).
fn path_columns(points: &[[f32; 2]], x0: i64, x1: i64) -> Vec<f32> {
    let mut out = Vec::with_capacity((x1 - x0 + 1).max(0) as usize);
    let mut j = 0usize;
    for x in x0..=x1 {
        let xf = x as f32;
        while j + 1 < points.len() && points[j + 1][0] < xf {
            j += 1;
        }
        let y = match (points.get(j), points.get(j + 1)) {
            (Some(a), _) if (a[0] - xf).abs() <= 0.5 && a[0] >= xf => a[1],
            (Some(a), Some(b)) if a[0] <= xf && b[0] >= xf => {
                let span = b[0] - a[0];
                if span > 3.0 {
                    f32::NAN // a bridged gap, not a followed stroke
                } else if span <= 0.0 {
                    a[1]
                } else {
                    a[1] + (b[1] - a[1]) * (xf - a[0]) / span
                }
            }
            (Some(a), None) if (a[0] - xf).abs() <= 0.5 => a[1],
            _ => f32::NAN,
        };
        out.push(y);
    }
    out
}

/// Measures one panel's path against the mask.
pub fn panel_evidence(
    panel: &Panel,
    trace: Option<&Trace>,
    mask: Option<&GrayImage>,
    px_per_mm: f32,
) -> PanelEvidence {
    let points = trace.map(|t| t.points.as_slice()).unwrap_or(&[]);
    let x0 = panel.x_start.ceil() as i64;
    let x1 = panel.x_end.floor() as i64;
    if x1 <= x0 || points.is_empty() {
        return PanelEvidence {
            gaps: 1.0,
            baseline_offset_mm: MAX_OFFSET_MM,
            ..Default::default()
        };
    }
    let ys = path_columns(points, x0, x1);
    let n_cols = ys.len() as f32;
    let followed: Vec<f32> = ys.iter().copied().filter(|y| y.is_finite()).collect();
    let gaps = 1.0 - followed.len() as f32 / n_cols;
    let mm = px_per_mm.max(1e-3);
    let baseline_offset_mm = if followed.is_empty() {
        MAX_OFFSET_MM
    } else {
        ((crate::imaging::median(&followed) - panel.baseline_y).abs() / mm).min(MAX_OFFSET_MM)
    };
    let edge = 0.5 * mm;
    let at_edge = followed
        .iter()
        .filter(|&&y| y <= panel.bbox.y0 + edge || y >= panel.bbox.y1 - edge)
        .count() as f32
        / followed.len().max(1) as f32;
    let (on_ink, ink_explained) = match mask {
        Some(m) => ink_measures(m, panel, &ys, x0, (0.4 * mm).max(2.0)),
        None => (0.0, 0.0),
    };
    PanelEvidence {
        traced: trace.map_or(0.0, |t| t.confidence),
        gaps,
        on_ink,
        ink_explained,
        baseline_offset_mm,
        at_edge,
    }
}

/// `(on_ink, ink_explained)` of a path sampled at columns `x0..`.
fn ink_measures(mask: &GrayImage, panel: &Panel, ys: &[f32], x0: i64, tol: f32) -> (f32, f32) {
    let (w, h) = (mask.width() as i64, mask.height() as i64);
    let ink = |x: i64, y: i64| {
        x >= 0 && y >= 0 && x < w && y < h && mask.get_pixel(x as u32, y as u32)[0] > INK
    };
    let top = (panel.bbox.y0.floor() as i64).max(0);
    let bottom = (panel.bbox.y1.ceil() as i64).min(h - 1);
    let (mut on, mut followed, mut total, mut explained) = (0usize, 0usize, 0usize, 0usize);
    for (i, &y) in ys.iter().enumerate() {
        let x = x0 + i as i64;
        if y.is_finite() {
            followed += 1;
            let yi = y.round() as i64;
            if (yi - 1..=yi + 1).any(|yy| ink(x, yy)) {
                on += 1;
            }
        }
        // the band the path sweeps through this column (its neighbours too:
        // a steep stroke crosses many rows between two columns)
        let near = [
            i.checked_sub(1),
            Some(i),
            (i + 1 < ys.len()).then_some(i + 1),
        ];
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for v in near
            .into_iter()
            .flatten()
            .map(|k| ys[k])
            .filter(|v| v.is_finite())
        {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        for yy in top..=bottom {
            if ink(x, yy) {
                total += 1;
                let yf = yy as f32;
                if yf >= lo - tol && yf <= hi + tol {
                    explained += 1;
                }
            }
        }
    }
    let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f32 / b as f32 };
    (share(on, followed), share(explained, total))
}

/// Robust peak-to-peak (2nd to 98th percentile) of the finite samples, mV.
fn robust_range(samples: &[f32]) -> f32 {
    let mut v: Vec<f32> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 2 {
        return 0.0;
    }
    v.sort_by(f32::total_cmp);
    let at = |q: f32| v[((v.len() - 1) as f32 * q).round() as usize];
    at(0.98) - at(0.02)
}

/// Root mean square around the median.
fn rms_about_median(v: &[f32]) -> f32 {
    let finite: Vec<f32> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if finite.is_empty() {
        return 0.0;
    }
    let m = crate::imaging::median(&finite);
    (finite.iter().map(|x| (x - m) * (x - m)).sum::<f32>() / finite.len() as f32).sqrt()
}

/// How far the projection moved a lead, relative to the lead's size.
fn einthoven_change(judged: &LeadSignal, raw: Option<&LeadSignal>) -> f32 {
    let Some(raw) = raw else { return 0.0 };
    if raw.start != judged.start || raw.samples.len() != judged.samples.len() {
        return 0.0;
    }
    let diff: Vec<f32> = judged
        .samples
        .iter()
        .zip(&raw.samples)
        .map(|(a, b)| a - b)
        .collect();
    (rms_about_median(&diff) / rms_about_median(&raw.samples).max(0.05)).min(4.0)
}

/// The slope envelope of a lead on the page timeline: |Δx| averaged over
/// about 40 ms, divided by its mean (so leads of any size compare).
fn slope_envelope(s: &LeadSignal, fs: f32) -> Vec<f32> {
    let n = s.samples.len();
    let mut d = vec![0f32; n];
    for (di, w) in d.iter_mut().skip(1).zip(s.samples.windows(2)) {
        let v = w[1] - w[0];
        *di = if v.is_finite() { v.abs() } else { 0.0 };
    }
    let r = ((0.02 * fs).round() as usize).max(1);
    let env = crate::imaging::smooth(&d, r);
    let mean = env.iter().sum::<f32>() / n.max(1) as f32;
    if mean > 1e-9 {
        env.iter().map(|v| v / mean).collect()
    } else {
        vec![0.0; n]
    }
}

/// Pearson correlation; 0 when either side is constant.
fn correlation(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    if n < 3 {
        return 0.0;
    }
    let (ma, mb) = (
        a[..n].iter().sum::<f32>() / n as f32,
        b[..n].iter().sum::<f32>() / n as f32,
    );
    let (mut sab, mut saa, mut sbb) = (0f32, 0f32, 0f32);
    for (x, y) in a[..n].iter().zip(&b[..n]) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa <= 1e-12 || sbb <= 1e-12 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// Correlation of each lead's slope envelope with the median envelope of
/// its simultaneous neighbours: the leads that share at least 80 % of the
/// shorter of the two windows (a rhythm strip's neighbours are the short
/// leads, each over its own window). Beats are shared by every lead of a page, so a lead that
/// traced a grid line, a neighbour's row or noise does not follow them.
/// `None` where a lead has no neighbour.
pub fn beat_sync(signals: &Signals) -> [Option<f32>; N_LEADS] {
    let env: Vec<Option<(usize, Vec<f32>)>> = signals
        .leads
        .iter()
        .map(|l| l.as_ref().map(|s| (s.start, slope_envelope(s, signals.fs))))
        .collect();
    let mut out = [None; N_LEADS];
    for (li, me) in env.iter().enumerate() {
        let Some((s0, mine)) = me else { continue };
        let s1 = s0 + mine.len();
        let peers: Vec<&(usize, Vec<f32>)> = env
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != li)
            .filter_map(|(_, e)| e.as_ref())
            .filter(|(p0, pe)| {
                let overlap = (p0 + pe.len()).min(s1).saturating_sub(*p0.max(s0));
                overlap * 5 >= mine.len().min(pe.len()) * 4
            })
            .collect();
        if peers.is_empty() || mine.len() < 3 {
            continue;
        }
        let mut consensus = Vec::with_capacity(mine.len());
        let mut mine_kept = Vec::with_capacity(mine.len());
        let mut vals = Vec::with_capacity(peers.len());
        for (i, &m) in mine.iter().enumerate() {
            let t = s0 + i;
            vals.clear();
            vals.extend(
                peers
                    .iter()
                    .filter_map(|(p0, pe)| t.checked_sub(*p0).and_then(|k| pe.get(k)).copied()),
            );
            if vals.is_empty() {
                continue;
            }
            consensus.push(crate::imaging::median(&vals));
            mine_kept.push(m);
        }
        out[li] = Some(correlation(&mine_kept, &consensus));
    }
    out
}

/// The path's y at `x` (linear between points; `None` in a gap or outside).
fn path_at(points: &[[f32; 2]], x: f32) -> Option<f32> {
    let k = points.partition_point(|p| p[0] < x);
    let b = points.get(k)?;
    if (b[0] - x).abs() < 1e-3 {
        return b[1].is_finite().then_some(b[1]);
    }
    let a = points.get(k.checked_sub(1)?)?;
    if b[0] - a[0] > 3.0 || !a[1].is_finite() || !b[1].is_finite() {
        return None;
    }
    Some(a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0]))
}

/// Correlation of the lead's two tracings (panels `pi` and `qi`) over
/// their common time, sampled at `fs`; `None` without a common second.
fn repeat_agreement(parts: &PageParts, pi: usize, qi: usize, fs: f32) -> Option<f32> {
    let (p, q) = (&parts.layout.panels[pi], &parts.layout.panels[qi]);
    let (t0, t1) = (p.t_start.max(q.t_start), p.t_end.min(q.t_end));
    if t1 - t0 < 1.0 {
        return None;
    }
    let path = |i: usize| {
        parts
            .traces
            .traces
            .iter()
            .find(|t| t.panel == i)
            .map(|t| t.points.as_slice())
    };
    let (pp, qp) = (path(pi)?, path(qi)?);
    let pps = parts.grid.px_per_second();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let n = ((t1 - t0) * fs) as usize;
    for k in 0..n {
        let t = t0 + k as f32 / fs;
        let ya = path_at(pp, p.x_start + (t - p.t_start) * pps);
        let yb = path_at(qp, q.x_start + (t - q.t_start) * pps);
        if let (Some(ya), Some(yb)) = (ya, yb) {
            a.push(p.baseline_y - ya);
            b.push(q.baseline_y - yb);
        }
    }
    (a.len() * 2 >= n).then(|| correlation(&a, &b))
}

/// 1 when the lead starts or ends with a calibration pulse traced as
/// signal: within 0.35 s of an end, a run of 0.05–0.3 s whose samples sit
/// 0.6–2.5 mV above the lead's median and within 0.1 mV of each other.
fn pulse_like(samples: &[f32], fs: f32) -> f32 {
    let finite: Vec<f32> = samples.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.len() < (0.5 * fs) as usize {
        return 0.0;
    }
    let base = crate::imaging::median(&finite);
    let (min_run, max_run) = ((0.05 * fs) as usize, (0.3 * fs) as usize);
    let reach = (0.35 * fs) as usize;
    let n = samples.len();
    let found = |range: std::ops::Range<usize>| -> bool {
        let mut i = range.start;
        while i < range.end {
            let lift = samples[i] - base;
            if !(0.6..=2.5).contains(&lift) {
                i += 1;
                continue;
            }
            let level = samples[i];
            let mut j = i;
            while j < n && (samples[j] - level).abs() <= 0.1 {
                j += 1;
            }
            if (min_run..=max_run).contains(&(j - i)) {
                return true;
            }
            i = j.max(i + 1);
        }
        false
    };
    let head = found(0..reach.min(n));
    let tail = found(n.saturating_sub(reach + max_run)..n);
    if head || tail {
        1.0
    } else {
        0.0
    }
}

/// |ln(rate / 72 bpm)| of the heart rate on the page's longest lead; NaN
/// when fewer than two beats are found.
fn page_rate_deviation(signals: &Signals) -> f32 {
    let Some(longest) = signals
        .leads
        .iter()
        .flatten()
        .max_by_key(|l| l.samples.iter().filter(|v| v.is_finite()).count())
    else {
        return f32::NAN;
    };
    let x: Vec<f32> = longest
        .samples
        .iter()
        .map(|v| if v.is_finite() { *v } else { 0.0 })
        .collect();
    let peaks = crate::dsp::detect_r_peaks(&x, signals.fs, &crate::dsp::RPeakParams::default());
    match crate::dsp::heart_rate_bpm(&peaks, signals.fs) {
        Some(bpm) if bpm > 0.0 => (bpm / 72.0).ln().abs(),
        _ => f32::NAN,
    }
}

/// The evidence about every lead on the page, by [`Lead::index`].
pub fn page_evidence(parts: &PageParts) -> [Option<Evidence>; N_LEADS] {
    let chosen = crate::signals::convert::chosen_panels(parts.layout);
    // on the leads as traced: the Einthoven projection mixes the limb leads,
    // which would make any six curves look in step
    let sync = beat_sync(parts.raw.unwrap_or(parts.signals));
    let mut panel_ev: [Option<PanelEvidence>; N_LEADS] = [None; N_LEADS];
    for lead in Lead::ALL {
        if parts.signals.lead(lead).is_none() {
            continue;
        }
        panel_ev[lead.index()] = Some(match chosen[lead.index()] {
            Some(pi) => {
                let trace = parts.traces.traces.iter().find(|t| t.panel == pi);
                panel_evidence(
                    &parts.layout.panels[pi],
                    trace,
                    parts.mask,
                    parts.grid.px_per_mm_y,
                )
            }
            None => PanelEvidence {
                gaps: 1.0,
                baseline_offset_mm: MAX_OFFSET_MM,
                ..Default::default()
            },
        });
    }
    let present: Vec<usize> = (0..N_LEADS).filter(|&i| panel_ev[i].is_some()).collect();
    let page_traced = present
        .iter()
        .filter_map(|&i| panel_ev[i].map(|p| p.traced))
        .sum::<f32>()
        / present.len().max(1) as f32;
    let syncs: Vec<f32> = present.iter().map(|&i| sync[i].unwrap_or(0.0)).collect();
    let page_sync = if syncs.is_empty() {
        0.0
    } else {
        crate::imaging::median(&syncs)
    };
    let layout_known = !matches!(parts.layout.kind, LayoutKind::Other);
    let mut amplitudes: Vec<f32> = present
        .iter()
        .filter_map(|&i| parts.signals.leads[i].as_ref())
        .map(|l| (0.05 + robust_range(&l.samples)).ln())
        .collect();
    let page_log_amplitude = if amplitudes.is_empty() {
        0.0
    } else {
        amplitudes.sort_by(f32::total_cmp);
        amplitudes[amplitudes.len() / 2]
    };
    let rate_deviation = page_rate_deviation(parts.raw.unwrap_or(parts.signals));
    let scale_measured = matches!(
        parts.grid.source,
        ScaleSource::Grid | ScaleSource::CalibrationPulse
    );
    let mut out = [None; N_LEADS];
    for lead in Lead::ALL {
        let (Some(p), Some(sig)) = (panel_ev[lead.index()], parts.signals.lead(lead)) else {
            continue;
        };
        let raw = parts.raw.and_then(|r| r.lead(lead));
        // the lead's other panel, if it is drawn twice
        let repeat = chosen[lead.index()].and_then(|pi| {
            let qi = parts
                .layout
                .panels
                .iter()
                .enumerate()
                .position(|(qi, q)| qi != pi && q.lead == lead)?;
            Some(repeat_agreement(parts, pi, qi, parts.signals.fs).unwrap_or(0.0))
        });
        out[lead.index()] = Some(Evidence {
            values: [
                p.traced,
                p.gaps,
                p.on_ink,
                p.ink_explained,
                p.baseline_offset_mm,
                p.at_edge,
                (0.05 + robust_range(&sig.samples)).ln(),
                if lead.is_limb() { 1.0 } else { 0.0 },
                einthoven_change(sig, raw),
                sync[lead.index()].unwrap_or(0.0),
                if repeat.is_some() { 1.0 } else { 0.0 },
                repeat.unwrap_or(f32::NAN),
                pulse_like(raw.unwrap_or(sig).samples.as_slice(), parts.signals.fs),
                if layout_known { 1.0 } else { 0.0 },
                page_traced,
                page_sync,
                page_log_amplitude,
                rate_deviation,
                parts.grid.confidence,
                if scale_measured { 1.0 } else { 0.0 },
            ],
        });
    }
    out
}
