//! Six rows of limb leads printed over the whole page (6x1) or over its
//! first half with the chest leads after them (6x2): part of `limb_order`.
//!
//! The two look alike when no separator is printed and no label is read
//! in the middle of the rows. The six limb leads are combinations of two,
//! so six simultaneous limb tracings obey Einthoven's law (a two-lead fit
//! leaves only tracing noise) and six chest leads do not. When the second
//! half of the six rows obeys the law as the first half's leads carried on,
//! each row is one lead over the whole page: its two panels become one.

use super::limb_order::{centred_samples, residual, FIT_FS};
use ecgdig_core::prelude::*;

/// The second half must obey the law about as well as the first: its
/// residual at most this multiple of the first half's...
const SAME_LAW_RATIO: f64 = 2.0;
/// ... plus this (six chest leads of a quiet, noisy record can come within
/// 0.04 of a limb-lead fit; six limb leads come within a few thousandths).
const SAME_LAW_SLACK: f64 = 0.005;

/// The panel indices of a six-row, two-column page (`[row] = (first,
/// second)`), when its first column holds limb leads and its second chest
/// leads none of which was confirmed by a read label.
fn six_by_two(layout: &Layout) -> Option<Vec<(usize, usize)>> {
    let short: Vec<(usize, &Panel)> = layout
        .panels
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.rhythm)
        .collect();
    let rows = short.iter().map(|(_, p)| p.row).max()? + 1;
    if rows != 6 || short.len() != 12 {
        return None;
    }
    let mut out = Vec::with_capacity(6);
    for r in 0..6 {
        let at = |c: usize| {
            short
                .iter()
                .find(|(_, p)| p.row == r && p.col == c)
                .map(|(i, _)| *i)
        };
        let (a, b) = (at(0)?, at(1)?);
        let (pa, pb) = (&layout.panels[a], &layout.panels[b]);
        let limb = matches!(
            pa.lead,
            Lead::I | Lead::II | Lead::III | Lead::AVR | Lead::AVL | Lead::AVF
        );
        if !limb || pb.label_score.is_some() || pb.t_start < pa.t_end - 1e-3 {
            return None;
        }
        out.push((a, b));
    }
    Some(out)
}

/// Whether a page read as 6x2 shows the six limb leads over the whole
/// page: both halves obey Einthoven's law with the first column's names
/// (relative residual under `max_residual`), the second about as well as
/// the first.
pub fn is_six_by_one(layout: &Layout, traces: &Traces, grid: &GridInfo, max_residual: f32) -> bool {
    let Some(pairs) = six_by_two(layout) else {
        return false;
    };
    let n = (layout.page_seconds * FIT_FS).round() as usize;
    let trace = |pi: usize| traces.traces.iter().find(|t| t.panel == pi);
    let mut first = Vec::new();
    let mut second = Vec::new();
    for &(a, b) in &pairs {
        let pa = &layout.panels[a];
        let (Some(sa), Some(sb)) = (
            centred_samples(pa, trace(a), grid, n),
            centred_samples(&layout.panels[b], trace(b), grid, n),
        ) else {
            return false;
        };
        first.push((pa.lead, pa.inverted, sa));
        // the second half read as the same lead carried on
        second.push((pa.lead, pa.inverted, sb));
    }
    let same = |l: Lead, inv: bool| Some((l, inv));
    match (residual(&vec![first], same), residual(&vec![second], same)) {
        (Some(r0), Some(r1)) => {
            r0 <= max_residual as f64
                && r1 <= max_residual as f64
                && r1 <= SAME_LAW_RATIO * r0 + SAME_LAW_SLACK
        }
        _ => false,
    }
}

/// Joins each row's two panels (and their traces) into one over the whole
/// page, named as its first.
pub fn to_six_by_one(layout: &mut Layout, traces: &mut Traces) {
    let Some(pairs) = six_by_two(layout) else {
        return;
    };
    for &(a, b) in &pairs {
        let pb = layout.panels[b].clone();
        let pa = &mut layout.panels[a];
        pa.x_end = pb.x_end;
        pa.t_end = pb.t_end;
        pa.bbox.x1 = pa.bbox.x1.max(pb.bbox.x1);
        let tail: Vec<[f32; 2]> = traces
            .traces
            .iter()
            .find(|t| t.panel == b)
            .map(|t| t.points.clone())
            .unwrap_or_default();
        if let Some(t) = traces.traces.iter_mut().find(|t| t.panel == a) {
            let last = t.points.last().map_or(f32::MIN, |p| p[0]);
            t.points.extend(tail.into_iter().filter(|p| p[0] > last));
        }
    }
    // drop the second panels and renumber the rest
    let gone: Vec<usize> = pairs.iter().map(|&(_, b)| b).collect();
    let mut new_index = vec![None; layout.panels.len()];
    let mut k = 0;
    for (i, slot) in new_index.iter_mut().enumerate() {
        if !gone.contains(&i) {
            *slot = Some(k);
            k += 1;
        }
    }
    let mut i = 0;
    layout.panels.retain(|_| {
        let keep = new_index[i].is_some();
        i += 1;
        keep
    });
    traces
        .traces
        .retain_mut(|t| match new_index.get(t.panel).copied().flatten() {
            Some(j) => {
                t.panel = j;
                true
            }
            None => false,
        });
    layout.kind = LayoutKind::Other;
    layout.template = Some("6x1 limb (Einthoven)".into());
}
