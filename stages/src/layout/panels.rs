//! Panels: the page format from the rows found, and each panel's lead,
//! box and time window.
//!
//! The rows, with the lead separators seen on each, pick a layout template
//! ([`crate::layout::templates`]), which names every panel's lead (the
//! *prior*); a page no template fits is named by its row count
//! ([`fallback_rows`]). Printed labels, where they were read
//! ([`crate::layout::labels`]), override it ([`assign_read_names`]): a
//! panel read with enough confidence takes the read name, so a rhythm
//! strip labelled V1 is V1 whatever the row count implies, and a Cabrera
//! or 6x2 page whose rows were taken for another format is named as
//! printed. Two panels of the short (non-rhythm) rows read as the same
//! lead cannot both be right: the better read keeps it and the other
//! returns to its prior name. A name read as inverted (`-aVR`) is not
//! applied, since the signal would need its sign flipped.

use super::detect::Row;
use super::templates::{self, LayoutTemplate, Shape};
use crate::imaging;
use ecgdig_core::prelude::*;

/// The paper speed at which a full-width row shows the whole page, mm/s.
pub const STANDARD_SPEED: f32 = 25.0;

/// Seconds a full-width row shows: the output page's at 25 mm/s, half of
/// them at 50 mm/s (never more than the page holds).
pub fn shown_seconds(page_seconds: f32, grid: &GridInfo) -> f32 {
    let v = grid.mm_per_second;
    if v.is_finite() && v > 0.0 {
        (page_seconds * STANDARD_SPEED / v).min(page_seconds)
    } else {
        page_seconds
    }
}

#[allow(clippy::too_many_arguments)]
fn panel(
    lead: Lead,
    row: usize,
    col: usize,
    bbox: Rect,
    baseline_y: f32,
    (x_start, x_end): (f32, f32),
    (t_start, t_end): (f32, f32),
    rhythm: bool,
    inverted: bool,
) -> Panel {
    Panel {
        lead,
        row,
        col,
        bbox,
        baseline_y,
        x_start,
        x_end,
        t_start,
        t_end,
        rhythm,
        label_score: None,
        inverted,
    }
}

/// Builds panels for the detected rows, in the template their lead
/// separators pick.
pub fn build_layout(
    rows: &[Row],
    grid: &GridInfo,
    page_seconds: f32,
    mask: &image::GrayImage,
    library: &[LayoutTemplate],
) -> Layout {
    let shapes = page_shapes(rows, mask, grid, page_seconds);
    let plan = templates::choose(library, &shapes);
    layout_for(rows, grid, page_seconds, mask, plan)
}

/// The separator probes of every row ([`row_shape`]).
pub fn page_shapes(
    rows: &[Row],
    mask: &image::GrayImage,
    grid: &GridInfo,
    page_seconds: f32,
) -> Vec<Shape> {
    let pps = grid.px_per_second();
    rows.iter()
        .map(|r| row_shape(r, mask, grid, pps, page_seconds))
        .collect()
}

/// The panels of `rows` in the template `plan` (with its number of strips);
/// by the row count alone ([`fallback_rows`]) without one.
pub fn layout_for(
    rows: &[Row],
    grid: &GridInfo,
    page_seconds: f32,
    mask: &image::GrayImage,
    plan: Option<(&LayoutTemplate, usize)>,
) -> Layout {
    let n = rows.len();
    let (w, h) = (mask.width() as f32, mask.height() as f32);
    let pps = grid.px_per_second();
    let spacing: Vec<f32> = rows
        .windows(2)
        .map(|p| p[1].baseline_y - p[0].baseline_y)
        .collect();
    let typical = if spacing.is_empty() {
        30.0 * grid.px_per_mm_y
    } else {
        imaging::median(&spacing)
    };
    // vertical reach of each row: up to the neighbouring baselines
    let bbox_y = |i: usize| -> (f32, f32) {
        let up = if i > 0 {
            rows[i].baseline_y - rows[i - 1].baseline_y
        } else {
            typical
        };
        let down = if i + 1 < n {
            rows[i + 1].baseline_y - rows[i].baseline_y
        } else {
            typical
        };
        // the outer rows reach the page's edges; inner ones reach a bit
        // beyond their neighbours' baselines, for tall waves
        let y0 = if i == 0 {
            0.0
        } else {
            (rows[i].baseline_y - 1.3 * up).max(0.0)
        };
        let y1 = if i + 1 == n {
            h - 1.0
        } else {
            (rows[i].baseline_y + 1.3 * down).min(h - 1.0)
        };
        (y0, y1)
    };
    // (never into a pulse at the row's end)
    let x_end_of = |r: &Row, secs: f32| -> f32 {
        (r.x_start + secs * pps)
            .min(r.x_stop.unwrap_or(f32::INFINITY))
            .min(w - 1.0)
    };
    let (kind, grid_rows, short_rows, template) = match plan {
        Some((t, strips)) => {
            let mut leads = t.rows.clone();
            leads.extend((0..strips).map(|k| vec![(t.strip_lead(k), false)]));
            let name = match strips {
                0 => t.name.clone(),
                1 => format!("{} + 1 rhythm strip", t.name),
                k => format!("{} + {k} rhythm strips", t.name),
            };
            (t.kind_with(strips), leads, t.rows.len(), Some(name))
        }
        None => {
            let (kind, leads) = fallback_rows(n);
            let short = if kind == LayoutKind::TwelveByOne {
                n
            } else {
                leads.iter().take_while(|r| r.len() > 1).count()
            };
            let plain = leads
                .into_iter()
                .map(|r| r.into_iter().map(|l| (l, false)).collect())
                .collect();
            (kind, plain, short.max(1), None)
        }
    };
    let mut panels = Vec::new();
    for (ri, leads) in grid_rows.iter().enumerate().take(n) {
        let r = &rows[ri];
        let (y0, y1) = bbox_y(ri);
        let cols = leads.len();
        let secs = page_seconds / cols as f32;
        let rhythm = ri >= short_rows;
        for (ci, &(lead, inverted)) in leads.iter().enumerate() {
            let t0 = secs * ci as f32;
            let t1 = t0 + secs;
            let xs = r.x_start + t0 * pps;
            let xe = x_end_of(r, t1);
            if xs >= w - 1.0 || xe <= xs {
                continue;
            }
            panels.push(panel(
                lead,
                ri,
                ci,
                Rect {
                    x0: xs,
                    y0,
                    x1: xe,
                    y1,
                },
                r.baseline_y,
                (xs, xe),
                (t0, t1),
                rhythm,
                inverted,
            ));
        }
    }
    Layout {
        kind,
        page_seconds,
        row_baselines: rows.iter().map(|r| r.baseline_y).collect(),
        template,
        panels,
    }
}

/// Which separator probes ([`templates::PROBES`]) a row hits: at each, a
/// column within 1 mm holding at least 4 mm of strong ink within 3 mm of
/// the baseline (a lead separator bar, or a steep wave that happens to be
/// there).
fn row_shape(
    r: &Row,
    mask: &image::GrayImage,
    grid: &GridInfo,
    pps: f32,
    page_seconds: f32,
) -> Shape {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let m = mask.as_raw();
    let ppy = grid.px_per_mm_y;
    let mut shape = [false; 5];
    for (hit, f) in shape.iter_mut().zip(templates::PROBES) {
        let xc = r.x_start + f * page_seconds * pps;
        if xc < 0.0 || xc >= w as f32 {
            continue;
        }
        let lo = (xc - grid.px_per_mm_x).max(0.0) as usize;
        let hi = ((xc + grid.px_per_mm_x) as usize).min(w.saturating_sub(1));
        let y0 = (r.baseline_y - 3.0 * ppy).max(0.0) as usize;
        let y1 = ((r.baseline_y + 3.0 * ppy) as usize).min(h.saturating_sub(1));
        *hit = (lo..=hi)
            .any(|x| (y0..=y1).filter(|&y| m[y * w + x] >= 128).count() as f32 >= 4.0 * ppy);
    }
    shape
}

/// Names by the row count alone, for a page no template fits (1, 2, or 9
/// and more rows): 3x4 rows and then rhythm strips as far as they go.
fn fallback_rows(n: usize) -> (LayoutKind, Vec<Vec<Lead>>) {
    use Lead::*;
    match n {
        12.. => (
            LayoutKind::TwelveByOne,
            Lead::ALL.iter().map(|&l| vec![l]).collect(),
        ),
        1 => (LayoutKind::Other, vec![vec![II]]),
        2 => (LayoutKind::Other, vec![vec![I, AVR, V1, V4], vec![II]]),
        _ => {
            let mut v = vec![
                vec![I, AVR, V1, V4],
                vec![II, AVL, V2, V5],
                vec![III, AVF, V3, V6],
            ];
            for l in [II, V1, V5, I, AVF, V2, V3, V4] {
                if v.len() < n {
                    v.push(vec![l]);
                }
            }
            (LayoutKind::Other, v)
        }
    }
}

/// Label reads must agree this much better (in summed read scores, about
/// two clear reads) with another template for it to replace the one the
/// separators picked.
pub const LABEL_MARGIN: f32 = 1.5;
/// Agreeing read scores (about four clear reads) another template needs.
pub const LABEL_MIN_SUPPORT: f32 = 3.5;
/// Share of the read scores that must agree with another template.
pub const LABEL_MIN_SHARE: f32 = 0.7;

/// How well a layout's short panels agree with their read labels: the sum
/// of the scores of reads naming the panel's lead, less those naming
/// another.
pub fn label_agreement(layout: &Layout, reads: &[Option<super::labels::WordRead>]) -> f32 {
    let (agree, disagree) = label_votes(layout, reads);
    agree - disagree
}

/// The summed scores of the short panels' reads that name the panel's lead,
/// and of those that name another.
pub fn label_votes(layout: &Layout, reads: &[Option<super::labels::WordRead>]) -> (f32, f32) {
    let mut votes = (0.0, 0.0);
    for (p, r) in layout.panels.iter().zip(reads) {
        let Some(r) = r.as_ref().filter(|_| !p.rhythm) else {
            continue;
        };
        if r.lead == p.lead {
            votes.0 += r.score;
        } else {
            votes.1 += r.score;
        }
    }
    votes
}

/// Whether reads support a layout enough to replace the one the
/// separators picked: at least [`LABEL_MIN_SUPPORT`] in agreeing scores, and
/// at least [`LABEL_MIN_SHARE`] of all the short panels' read scores.
pub fn labels_support(layout: &Layout, reads: &[Option<super::labels::WordRead>]) -> bool {
    let (agree, disagree) = label_votes(layout, reads);
    agree >= LABEL_MIN_SUPPORT && agree >= LABEL_MIN_SHARE * (agree + disagree)
}

/// Whether reads confirm a panel on each of three or more rows and
/// contradict none: a page that labels only its first column (a 3x2 page
/// naming `V1`, `V2`, `V3`) has fewer reads than [`labels_support`] asks.
/// It replaces only a layout whose own reads contradict it (a 3x4 page's
/// first column reads the same under 3x2 limb).
pub fn labels_confirm_rows(layout: &Layout, reads: &[Option<super::labels::WordRead>]) -> bool {
    let (_, disagree) = label_votes(layout, reads);
    let rows: std::collections::BTreeSet<usize> = layout
        .panels
        .iter()
        .filter(|p| !p.rhythm)
        .map(|p| p.row)
        .collect();
    let confirmed: std::collections::BTreeSet<usize> = layout
        .panels
        .iter()
        .zip(reads)
        .filter(|(p, r)| !p.rhythm && r.as_ref().is_some_and(|r| r.lead == p.lead))
        .map(|(p, _)| p.row)
        .collect();
    rows.len() >= 3 && confirmed == rows && disagree == 0.0
}

/// Names panels from their reads. A layout matched to a template that the reads
/// support keeps its short panels' names (a misread `III` as `II` cannot
/// break a 3x4 page) and marks the confirmed ones; its rhythm strips take
/// their read names when the short panels' reads support the template
/// ([`labels_support`]; `rhythm_leads` checks them against the short panels
/// later). A page without a template is named panel by panel
/// ([`assign_read_names`]). (The reader misreads a lone stroke as `I` and
/// `III` as `II` often enough on coarse pages that reads alone never
/// overrule a template.)
pub fn apply_reads(layout: &mut Layout, reads: &[Option<super::labels::WordRead>]) {
    if layout.template.is_none() {
        assign_read_names(layout, reads);
        return;
    }
    // strips are renamed by reads only where the short panels' reads show
    // the reader works on this page
    let trusted = labels_support(layout, reads);
    for (p, r) in layout.panels.iter_mut().zip(reads) {
        let Some(r) = r.as_ref().filter(|r| !r.inverted) else {
            continue;
        };
        // a lone stroke read as `I` is too common a misread to rename a
        // strip by (a strip of lead I is found by `rhythm_leads`)
        let distinctive = r.text.len() > 1;
        if (p.rhythm && trusted && distinctive) || r.lead == p.lead {
            p.lead = r.lead;
            p.label_score = Some(r.score);
        }
    }
}

/// Renames panels from their read labels (one entry per panel; `None`
/// where no label was read), marking each renamed or confirmed panel's
/// `label_score`.
pub fn assign_read_names(layout: &mut Layout, reads: &[Option<super::labels::WordRead>]) {
    let prior: Vec<Lead> = layout.panels.iter().map(|p| p.lead).collect();
    for (p, r) in layout.panels.iter_mut().zip(reads) {
        if let Some(r) = r.as_ref().filter(|r| !r.inverted) {
            p.lead = r.lead;
            p.label_score = Some(r.score);
        }
    }
    // a lead read on two short panels: the better read keeps it
    let n = layout.panels.len();
    for (i, &prior_lead) in prior.iter().enumerate().take(n) {
        let pi = &layout.panels[i];
        let Some(si) = pi.label_score else { continue };
        if pi.rhythm {
            continue;
        }
        let beaten = (0..n).any(|j| {
            let pj = &layout.panels[j];
            j != i
                && !pj.rhythm
                && pj.lead == pi.lead
                && pj
                    .label_score
                    .is_some_and(|sj| sj > si || (sj == si && j < i))
        });
        if beaten {
            layout.panels[i].lead = prior_lead;
            layout.panels[i].label_score = None;
        }
    }
}
