//! Where each lead goes on the page: rows, columns, time windows, baselines.
//!
//! Input: a [`PageSpec`](super::PageSpec), the record's sampling rate and
//! length. Output: one [`Panel`] per plotted lead window.
//!
//! Geometry (millimetres on the page, origin at the top-left pixel centre):
//! traces start at `x = 15 mm` (the 0.2 s calibration pulse sits just left of
//! it, at 10..15 mm) and the page timeline runs left to right without gaps, so
//! column `c` of `n` shows seconds `[c*10/n, (c+1)*10/n)` of the page and
//! sample `s` is drawn at `x = x0 + (s - page_start) / fs * speed * px_per_mm`.
//! Rows are spread evenly between a top margin (larger with a header) and a
//! 15 mm bottom margin; a row's baseline is 60 % down its slot. Rhythm strips
//! (any number, any lead) are rows below the short-lead grid. The trace start
//! (`PageSpec::trace_x0_mm`, 15 mm by default) and the per-axis printer scale
//! are the spec's; millimetres here are the page's (grid) millimetres.

use super::style::LeadOrder;
use super::{Layout, PageSpec};
use ecgdig_core::leads::Lead;

/// One lead window on the page.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub lead: Lead,
    /// True when the panel shows the lead inverted (Cabrera's -aVR).
    pub inverted: bool,
    /// True for a full-width rhythm strip.
    pub rhythm: bool,
    pub row: usize,
    pub column: usize,
    /// Absolute sample window `[start, end)` into the record.
    pub start_sample: usize,
    pub end_sample: usize,
    /// Baseline (0 mV) y, pixels.
    pub baseline_px: f64,
    /// x of the page's first sample (time origin of the timeline), pixels.
    pub page_x0_px: f64,
    /// x where this panel's window starts, pixels.
    pub x_start_px: f64,
}

/// Default left edge of the trace area, mm.
pub const TRACE_X0_MM: f64 = 15.0;

/// A lead as printed: the lead and whether it is shown inverted.
pub type SignedLead = (Lead, bool);

impl Layout {
    /// The short-lead grid in `order`, without rhythm strips. Cabrera order
    /// puts aVL, I, -aVR, II, aVF, III where the standard order has I, II,
    /// III, aVR, aVL, aVF (column-major in 3x4, row-major elsewhere).
    pub fn grid_rows(self, order: LeadOrder) -> Vec<Vec<SignedLead>> {
        let plain = |rows: Vec<Vec<Lead>>| -> Vec<Vec<SignedLead>> {
            rows.into_iter()
                .map(|r| r.into_iter().map(|l| (l, false)).collect())
                .collect()
        };
        let base = match self {
            Layout::ThreeByFourRhythm => Layout::ThreeByFour.rows(Lead::II),
            l => l.rows(Lead::II),
        };
        if order == LeadOrder::Standard {
            return plain(base);
        }
        // Cabrera: replace the limb sequence, keeping every position.
        let standard = [
            Lead::I,
            Lead::II,
            Lead::III,
            Lead::AVR,
            Lead::AVL,
            Lead::AVF,
        ];
        let cabrera = [
            (Lead::AVL, false),
            (Lead::I, false),
            (Lead::AVR, true),
            (Lead::II, false),
            (Lead::AVF, false),
            (Lead::III, false),
        ];
        base.into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|l| match standard.iter().position(|s| *s == l) {
                        Some(i) => cabrera[i],
                        None => (l, false),
                    })
                    .collect()
            })
            .collect()
    }

    /// Rows of leads; a row with one lead spanning all columns is a rhythm strip.
    pub fn rows(self, rhythm: Lead) -> Vec<Vec<Lead>> {
        use Lead::*;
        match self {
            Layout::ThreeByFourRhythm => vec![
                vec![I, AVR, V1, V4],
                vec![II, AVL, V2, V5],
                vec![III, AVF, V3, V6],
                vec![rhythm],
            ],
            Layout::ThreeByFour => vec![
                vec![I, AVR, V1, V4],
                vec![II, AVL, V2, V5],
                vec![III, AVF, V3, V6],
            ],
            Layout::SixByTwo => vec![
                vec![I, V1],
                vec![II, V2],
                vec![III, V3],
                vec![AVR, V4],
                vec![AVL, V5],
                vec![AVF, V6],
            ],
            Layout::TwelveByOne => Lead::ALL.iter().map(|l| vec![*l]).collect(),
            Layout::SixByOneLimb => Lead::ALL[..6].iter().map(|l| vec![*l]).collect(),
            Layout::ThreeByTwoChest => vec![vec![V1, V4], vec![V2, V5], vec![V3, V6]],
        }
    }

    /// Columns of the short-lead grid.
    pub fn columns(self) -> usize {
        match self {
            Layout::ThreeByFourRhythm | Layout::ThreeByFour => 4,
            Layout::SixByTwo | Layout::ThreeByTwoChest => 2,
            Layout::TwelveByOne | Layout::SixByOneLimb => 1,
        }
    }
}

impl PageSpec {
    /// The rhythm strips, top to bottom: `rhythm_leads` when set, else the
    /// layout's own (`rhythm_lead` for 3x4r, none otherwise).
    pub fn rhythm_strips(&self) -> Vec<Lead> {
        match &self.rhythm_leads {
            Some(v) => v.clone(),
            None if self.layout == Layout::ThreeByFourRhythm => vec![self.rhythm_lead],
            None => Vec::new(),
        }
    }
}

/// Top margin, mm.
pub fn top_margin_mm(spec: &PageSpec) -> f64 {
    if spec.header.as_deref().is_some_and(|h| !h.trim().is_empty()) {
        32.0
    } else {
        20.0
    }
}

/// Bottom margin, mm (room for the speed / gain note).
pub const BOTTOM_MARGIN_MM: f64 = 15.0;

/// Baseline of each row, mm.
pub fn row_baselines_mm(spec: &PageSpec, n_rows: usize) -> Vec<f64> {
    let top = top_margin_mm(spec);
    let pitch = (spec.height_mm as f64 - top - BOTTOM_MARGIN_MM) / n_rows.max(1) as f64;
    (0..n_rows)
        .map(|r| top + pitch * (r as f64 + 0.6))
        .collect()
}

/// The panels of a page. `n_samples` bounds the windows to the record.
pub fn panels(spec: &PageSpec, fs: f64, n_samples: usize) -> Vec<Panel> {
    let (ppx, ppy) = (spec.px_per_mm_x(), spec.px_per_mm_y());
    let grid = spec.layout.grid_rows(spec.lead_order);
    let n_grid = grid.len();
    let mut rows = grid;
    rows.extend(spec.rhythm_strips().into_iter().map(|l| vec![(l, false)]));
    let n_cols = spec.layout.columns();
    let baselines = row_baselines_mm(spec, rows.len());
    let page_samples = (spec.page_seconds as f64 * fs).round() as usize;
    let start = spec.start_sample;
    let at = |frac: f64| start + (frac * page_samples as f64).round() as usize;
    let x0 = spec.trace_x0_mm * ppx;
    let px_per_sample = spec.paper_speed_mm_per_s as f64 * ppx / fs;
    let mut out = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        let rhythm = r >= n_grid;
        for (c, &(lead, inverted)) in row.iter().enumerate() {
            let (a, b) = if rhythm {
                (start, at(1.0))
            } else {
                (
                    at(c as f64 / n_cols as f64),
                    at((c + 1) as f64 / n_cols as f64),
                )
            };
            let (a, b) = (a.min(n_samples), b.min(n_samples));
            if a >= b {
                continue;
            }
            out.push(Panel {
                lead,
                inverted,
                rhythm,
                row: r,
                column: if rhythm { 0 } else { c },
                start_sample: a,
                end_sample: b,
                baseline_px: baselines[r] * ppy,
                page_x0_px: x0,
                x_start_px: x0 + (a - start) as f64 * px_per_sample,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_by_four_windows_tile_the_page() {
        let spec = PageSpec::default();
        let p = panels(&spec, 500.0, 5000);
        assert_eq!(p.len(), 13);
        let v4 = p.iter().find(|p| p.lead == Lead::V4).unwrap();
        assert_eq!((v4.start_sample, v4.end_sample), (3750, 5000));
        let rh = p.iter().find(|p| p.rhythm).unwrap();
        assert_eq!(
            (rh.lead, rh.start_sample, rh.end_sample),
            (Lead::II, 0, 5000)
        );
        // Column 3 starts 7.5 s = 187.5 mm after the time origin.
        let ppmm = spec.px_per_mm();
        assert!((v4.x_start_px - (15.0 + 187.5) * ppmm).abs() < 1e-9);
        let six = PageSpec {
            layout: Layout::SixByTwo,
            start_sample: 100,
            ..PageSpec::default()
        };
        let p = panels(&six, 500.0, 5100);
        assert_eq!(p.len(), 12);
        let v6 = p.iter().find(|p| p.lead == Lead::V6).unwrap();
        assert_eq!((v6.start_sample, v6.end_sample, v6.row), (2600, 5100, 5));
    }

    #[test]
    fn cabrera_order_inverts_avr_and_rhythm_strips_stack() {
        let spec = PageSpec {
            layout: Layout::ThreeByFour,
            lead_order: LeadOrder::Cabrera,
            rhythm_leads: Some(vec![Lead::V1, Lead::II, Lead::V5]),
            ..PageSpec::default()
        };
        let p = panels(&spec, 500.0, 5000);
        assert_eq!(p.len(), 15);
        let col0: Vec<(Lead, bool)> = p
            .iter()
            .filter(|p| p.column == 0 && !p.rhythm)
            .map(|p| (p.lead, p.inverted))
            .collect();
        assert_eq!(
            col0,
            vec![(Lead::AVL, false), (Lead::I, false), (Lead::AVR, true)]
        );
        let col1: Vec<Lead> = p.iter().filter(|p| p.column == 1).map(|p| p.lead).collect();
        assert_eq!(col1, vec![Lead::II, Lead::AVF, Lead::III]);
        let strips: Vec<(Lead, usize)> = p
            .iter()
            .filter(|p| p.rhythm)
            .map(|p| (p.lead, p.row))
            .collect();
        assert_eq!(strips, vec![(Lead::V1, 3), (Lead::II, 4), (Lead::V5, 5)]);
        assert_eq!(p.iter().filter(|p| p.inverted).count(), 1);
        let twelve = PageSpec {
            layout: Layout::TwelveByOne,
            lead_order: LeadOrder::Cabrera,
            ..PageSpec::default()
        };
        let order: Vec<Lead> = panels(&twelve, 500.0, 5000)
            .iter()
            .map(|p| p.lead)
            .collect();
        assert_eq!(&order[..3], &[Lead::AVL, Lead::I, Lead::AVR]);
        let limb = PageSpec {
            layout: Layout::SixByOneLimb,
            ..PageSpec::default()
        };
        assert_eq!(panels(&limb, 500.0, 5000).len(), 6);
    }
}
