//! `layout_detect`: finds the rows of traces and maps each plotted lead to
//! its place on the page and its time window.
//!
//! Inputs: `mask` (trace ink), `grid` (mm scale) and optionally `image`
//! (the deskewed page, for sub-pixel pulse edges). Output: `layout`.
//!
//! 1. **Rows**: the horizontal projection of the ink peaks at each row's
//!    isoelectric baseline. Peaks at least `min_row_gap_mm` apart and strong
//!    enough are kept when ink runs along them for at least `min_row_length_mm`.
//! 2. **Row extent**: the longest stretch of ink along the baseline (gaps up
//!    to a few mm bridged). A calibration pulse (a 10 mm tall, 5 mm wide
//!    rectangle at the row's start) is recognised from its two vertical edges.
//!    The signal starts `pulse_seconds` (0.2 s) after the pulse starts: with
//!    the page `image` connected the rise is placed to a hundredth of a pixel
//!    from the image's shading ([`crate::pulse_edge`]), and the pulse starts
//!    `rise_delay_steps` sample steps before its rise (ecg-image-kit plots it
//!    from samples `0, 0, 1, ..., 1, 0, 0`). A pulse of another width ends
//!    where its falling edge stands. Rows without a pulse start at their
//!    first ink (or, when most rows have a pulse, at the rows' median start;
//!    always so between pulsed rows), and with two or more pulsed rows an
//!    unpulsed row needs `min_relative_waviness` of their median waviness.
//! 3. **Format**: from the number of rows: 3 rows = 3x4, 4 = 3x4 + a lead II
//!    rhythm strip, 5 = 3x4 + II, V1 rhythm strips, 6 = 6x2 (or 3x4 + three
//!    rhythm strips when the first three rows show lead separators at a
//!    quarter and three quarters of their length), 12 = 12x1.
//!    A 3x4 row shows seconds `[2.5c, 2.5c + 2.5)` in column `c`; panel x
//!    positions follow from `x(t) = x_start + t * 25 mm/s * px_per_mm_x`.
//!
//! ```
//! # let toml = r#"
//! [stages.layout]
//! type = "layout_detect"
//! inputs = { mask = "segment", grid = "grid", image = "deskew" }
//! min_row_gap_mm = 8.0
//! min_row_length_mm = 40.0
//! min_peak_fraction = 0.25
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use crate::imaging;
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LayoutDetectConfig {
    /// Smallest distance between two row baselines, mm.
    pub min_row_gap_mm: f32,
    /// Shortest stretch of ink along a baseline that makes a row, mm.
    pub min_row_length_mm: f32,
    /// A row's projection peak must reach this fraction of the strongest one.
    pub min_peak_fraction: f32,
    /// Mask level counted as ink (0..255).
    pub ink_level: u8,
    /// Ink pixels per column away from the baseline a row needs (ruled lines have none).
    pub min_waviness: f32,
    /// `min_waviness` holds at this scale (px per mm) or finer; a coarser
    /// page, which draws the same wave with fewer pixels, needs it in
    /// proportion; 0: the same everywhere.
    pub waviness_px_per_mm: f32,
    /// A pulse further than this (mm) from the page's column of pulses is
    /// not taken for one.
    pub pulse_column_tolerance_mm: f32,
    /// The signal starts this long after the calibration pulse starts, s.
    pub pulse_seconds: f32,
    /// The pulse's rising edge lies this many sample steps after the
    /// pulse's start (a pulse plotted from samples `0, 0, 1, ...` rises
    /// half way between its second and third samples).
    pub rise_delay_steps: f32,
    /// Take the sample step from the rising edge's measured slant when it
    /// disagrees with the output rate (a record plotted at another rate).
    /// Off by default: a page rotated by a tenth of a degree slants the
    /// edge as much as a 500 Hz step does.
    pub step_from_rise: bool,
    /// With two or more pulsed rows, a row without a pulse needs at least
    /// this fraction of their median waviness.
    pub min_relative_waviness: f32,
    /// With three or more pulsed rows, a row without a pulse above them
    /// (in the header) is kept only when, within `missed_pulse_search_mm`
    /// of the line through their rising edges, three neighbouring columns
    /// hold ink on at least this fraction of the rows 1..9 mm above its
    /// baseline (the missed pulse's edge); 0: no such check.
    pub missed_pulse_min_density: f32,
    pub missed_pulse_search_mm: f32,
    /// With three or more rows, an unpulsed row above the first one as
    /// wide as most (0.8 of their median width) whose ink spans less than
    /// this fraction of that width is a header's text line; 0: keep it.
    pub min_header_row_fraction: f32,
}

impl Default for LayoutDetectConfig {
    fn default() -> Self {
        Self {
            min_row_gap_mm: 8.0,
            min_row_length_mm: 40.0,
            min_peak_fraction: 0.25,
            ink_level: 100,
            min_waviness: 1.0,
            waviness_px_per_mm: 7.874,
            pulse_column_tolerance_mm: 3.5,
            pulse_seconds: 0.2,
            rise_delay_steps: 1.5,
            step_from_rise: false,
            min_relative_waviness: 0.5,
            missed_pulse_min_density: 0.8,
            missed_pulse_search_mm: 1.5,
            min_header_row_fraction: 0.7,
        }
    }
}

#[typetag::serde(name = "layout_detect")]
impl StageConfig for LayoutDetectConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![
            Port::new("mask", ArtifactKind::Mask),
            Port::new("grid", ArtifactKind::Grid),
            Port::optional("image", ArtifactKind::Image),
        ]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("layout", ArtifactKind::Layout)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if self.min_row_gap_mm <= 0.0 || self.min_row_length_mm <= 0.0 {
            return Err(Error::stage(
                "layout_detect: min_row_gap_mm and min_row_length_mm must be positive",
            ));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    LayoutDetectConfig,
    "layout_detect",
    summary = "Rows, calibration-pulse ends and lead panels (3x4+rhythm, 3x4, 6x2, 12x1) from the ink mask.",
    params = [
        ("min_row_gap_mm", "smallest distance between two row baselines, mm"),
        (
            "min_row_length_mm",
            "shortest stretch of ink along a baseline that makes a row, mm"
        ),
        (
            "min_peak_fraction",
            "a row's ink projection peak must reach this fraction of the strongest row's"
        ),
        ("ink_level", "mask value (0..255) counted as ink"),
        (
            "min_waviness",
            "ink pixels per column away from the baseline that a row needs (ruled lines and borders have none)"
        ),
        (
            "waviness_px_per_mm",
            "min_waviness holds at this scale (px per mm) or finer; coarser pages need it in proportion; 0: the same everywhere"
        ),
        (
            "pulse_column_tolerance_mm",
            "a pulse further than this (mm) from the page's column of pulses is not taken for one"
        ),
        (
            "pulse_seconds",
            "the signal starts this long (s) after the calibration pulse starts"
        ),
        (
            "rise_delay_steps",
            "sample steps from the pulse's start to the middle of its rising edge (ecg-image-kit: 1.5)"
        ),
        (
            "step_from_rise",
            "take the sample step from the rising edge's slant when it disagrees with the output rate"
        ),
        (
            "min_relative_waviness",
            "with two or more pulsed rows, a row without a pulse needs this fraction of their median waviness"
        ),
        (
            "missed_pulse_min_density",
            "an unpulsed row above three or more pulsed rows needs an edge covering this fraction of 1..9 mm above its baseline where they rise; 0: no check"
        ),
        (
            "missed_pulse_search_mm",
            "how far (mm) from the pulsed rows' rising edges that column is looked for"
        ),
        (
            "min_header_row_fraction",
            "an unpulsed row above the first full-width row spanning less than this fraction of the rows' median width is header text; 0: kept"
        ),
    ],
    example = "[stages.layout]\ntype = \"layout_detect\"\ninputs = { mask = \"segment\", grid = \"grid\", image = \"deskew\" }\n"
);

/// A detected row of traces.
#[derive(Clone, Debug)]
pub struct Row {
    pub baseline_y: f32,
    /// First and last ink of the row, pixels.
    pub ink_x0: f32,
    pub ink_x1: f32,
    /// Where the signal starts (after the calibration pulse), pixels.
    pub x_start: f32,
    /// The calibration pulse's rising and falling edges, if one was seen.
    pub pulse: Option<(f32, f32)>,
    /// Ink pixels per column away from the baseline (how much the trace
    /// waves; a ruled line or a row of grid fragments hardly does).
    pub waviness: f32,
}

impl Stage for LayoutDetectConfig {
    fn run(&self, inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
        let mask = inputs.mask("mask")?;
        let grid = inputs.grid("grid")?;
        let image = inputs.image_opt("image");
        let layout = self.detect_in(
            &mask.mask,
            image.as_ref().map(|p| &p.rgb),
            &grid,
            ctx.options.page_seconds,
            ctx.options.fs,
        )?;
        Ok(StageOutputs::one(layout))
    }
}

impl LayoutDetectConfig {
    /// Detects the layout of a page from its mask alone (pulse edges as the
    /// mask places them; signals at 500 Hz).
    pub fn detect(
        &self,
        mask: &image::GrayImage,
        grid: &GridInfo,
        page_seconds: f32,
    ) -> Result<Layout> {
        self.detect_in(mask, None, grid, page_seconds, 500.0)
    }

    /// Detects the layout of a page; with the page `image`, pulse edges are
    /// placed from its shading ([`crate::pulse_edge`]). `fs` is the output
    /// sampling rate, the step assumed for a pulse plotted from samples.
    pub fn detect_in(
        &self,
        mask: &image::GrayImage,
        image: Option<&image::RgbImage>,
        grid: &GridInfo,
        page_seconds: f32,
        fs: f32,
    ) -> Result<Layout> {
        let rows = self.find_rows_in(mask, image, grid, fs);
        if rows.is_empty() {
            return Err(Error::not_ecg("no ECG grid or traces found"));
        }
        Ok(build_layout(&rows, grid, page_seconds, mask))
    }

    /// Row baselines with their extents and pulses, top to bottom, from the
    /// mask alone.
    pub fn find_rows(&self, mask: &image::GrayImage, grid: &GridInfo) -> Vec<Row> {
        self.find_rows_in(mask, None, grid, 500.0)
    }

    /// A found pulse's edges `(rise, fall)` on the row at `baseline`, its
    /// rise placed from the image's shading when the image is at hand, and
    /// where the row's signal starts: a standard-width pulse (0.2 s, the
    /// falling edge touches the trace) is measured from its clear rising
    /// edge ([`Self::signal_start`]), another at its falling edge.
    fn place_pulse(
        &self,
        (rise, fall): (f32, f32),
        image: Option<&image::RgbImage>,
        mask: &image::GrayImage,
        baseline: f32,
        fs: f32,
        grid: &GridInfo,
    ) -> ((f32, f32), f32) {
        let (ppx, ppy) = (grid.px_per_mm_x.max(0.5), grid.px_per_mm_y.max(0.5));
        let pps = grid.px_per_second();
        let edge = image.and_then(|im| {
            crate::pulse_edge::measure_rising_edge(im, mask, rise, baseline, (ppx, ppy), 20)
                .filter(|e| (e.x_mid - rise).abs() < 1.5)
        });
        let rise = edge.map_or(rise, |e| e.x_mid);
        let standard = (fall - (rise + self.pulse_seconds * pps)).abs() <= 0.75 * ppx;
        let start = if standard {
            self.signal_start(rise, edge.map(|e| e.run_per_mv), pps, fs)
        } else {
            fall
        };
        ((rise, fall), start)
    }

    /// Where a row's signal starts after its pulse rises at `rise`: the
    /// pulse's start plus `pulse_seconds`. The start is `rise_delay_steps`
    /// sample steps before the rise; the step is the output rate's, or
    /// (`step_from_rise`) the rise's own run when the image shows one
    /// unlike it.
    fn signal_start(&self, rise: f32, run_per_mv: Option<f32>, pps: f32, fs: f32) -> f32 {
        let nominal = pps / fs.max(1.0);
        let step = match run_per_mv {
            Some(r) if self.step_from_rise && (r - nominal).abs() > 0.35 * nominal => {
                r.clamp(0.0, pps / 50.0)
            }
            _ => nominal,
        };
        rise - self.rise_delay_steps * step + self.pulse_seconds * pps
    }

    /// [`Self::find_rows`], with pulse edges placed from the page image when
    /// it is given.
    pub fn find_rows_in(
        &self,
        mask: &image::GrayImage,
        image: Option<&image::RgbImage>,
        grid: &GridInfo,
        fs: f32,
    ) -> Vec<Row> {
        let (w, h) = (mask.width() as usize, mask.height() as usize);
        let m = mask.as_raw();
        let lvl = self.ink_level;
        let ppy = grid.px_per_mm_y.max(0.5);
        let ppx = grid.px_per_mm_x.max(0.5);
        let mut proj = vec![0f32; h];
        for (y, p) in proj.iter_mut().enumerate() {
            *p = m[y * w..(y + 1) * w].iter().filter(|&&v| v >= lvl).count() as f32;
        }
        let sm = imaging::smooth(&proj, ((0.4 * ppy) as usize).max(1));
        let gap = (self.min_row_gap_mm * ppy) as usize;
        // local maxima, strongest first, with non-maximum suppression
        let mut peaks: Vec<usize> = (1..h.saturating_sub(1))
            .filter(|&y| sm[y] > 0.0 && sm[y] >= sm[y - 1] && sm[y] > sm[y + 1])
            .collect();
        peaks.sort_by(|&a, &b| sm[b].total_cmp(&sm[a]));
        let mut kept: Vec<usize> = Vec::new();
        for p in peaks {
            if kept.iter().all(|&k| k.abs_diff(p) >= gap) {
                kept.push(p);
            }
        }
        // (a coarse page draws the same wave with fewer pixels)
        let min_waviness = if self.waviness_px_per_mm > 0.0 {
            self.min_waviness * (ppy / self.waviness_px_per_mm).min(1.0)
        } else {
            self.min_waviness
        };
        // (projection peak, passes the waviness bar on its own, row)
        let mut cands: Vec<(f32, bool, Row)> = Vec::new();
        for &y in &kept {
            let yb = imaging::parabolic_peak(&sm, y);
            // ink along the baseline: column occupancy within +-3 mm
            let half = (3.0 * ppy) as usize;
            let (y0, y1) = (y.saturating_sub(half), (y + half).min(h - 1));
            let occ: Vec<bool> = (0..w)
                .map(|x| (y0..=y1).any(|yy| m[yy * w + x] >= lvl))
                .collect();
            // stretches of ink with gaps up to 4 mm bridged; the row spans
            // from the first to the last stretch of at least 3 mm
            let stretches = stretches(&occ, (4.0 * ppx) as usize);
            let min_len = (3.0 * ppx) as usize;
            let long: Vec<&(usize, usize)> =
                stretches.iter().filter(|s| s.1 - s.0 >= min_len).collect();
            let (Some(first), Some(last)) = (long.first(), long.last()) else {
                continue;
            };
            let covered: usize = long.iter().map(|s| s.1 - s.0 + 1).sum();
            if (covered as f32) < self.min_row_length_mm * ppx {
                continue;
            }
            let (x0, x1) = (first.0, last.1);
            // a trace waves: ink away from the baseline (not a ruled line)
            let core = (0.6 * ppy).max(1.0) as usize;
            let reach = (8.0 * ppy) as usize;
            let (r0, r1) = (y.saturating_sub(reach), (y + reach).min(h - 1));
            let mut off = 0usize;
            for yy in (r0..=r1).filter(|&yy| yy.abs_diff(y) > core) {
                off += m[yy * w + x0..=yy * w + x1]
                    .iter()
                    .filter(|&&v| v >= lvl)
                    .count();
            }
            let waviness = off as f32 / (x1 - x0 + 1) as f32;
            // a row that starts with a calibration pulse is a row however
            // quiet its trace (a low-voltage rhythm strip)
            let pulse = find_pulse(m, w, h, lvl, x0, yb, ppx, ppy);
            if waviness < min_waviness && pulse.is_none() {
                continue;
            }
            let (pulse, x_start) = match pulse {
                Some(edges) => {
                    let (pulse, start) = self.place_pulse(edges, image, mask, yb, fs, grid);
                    (Some(pulse), start)
                }
                None => (None, x0 as f32),
            };
            cands.push((
                sm[y],
                waviness >= min_waviness,
                Row {
                    baseline_y: yb,
                    ink_x0: x0 as f32,
                    ink_x1: x1 as f32,
                    x_start,
                    pulse,
                    waviness,
                },
            ));
        }
        let top = cands.iter().map(|c| c.0).fold(0.0, f32::max);
        let kept: Vec<(bool, Row)> = cands
            .into_iter()
            .filter(|c| c.0 >= self.min_peak_fraction * top || c.2.pulse.is_some())
            .map(|c| (c.0 >= self.min_peak_fraction * top && c.1, c.2))
            .collect();
        // rows kept for their pulse alone prop a layout up but cannot make
        // one: a page where no row passes on its own ink is not read (its
        // traces were lost to segmentation, say), rather than half read
        if !kept.iter().any(|(own, _)| *own) {
            return Vec::new();
        }
        let mut rows: Vec<Row> = kept.into_iter().map(|(_, r)| r).collect();
        rows.sort_by(|a, b| a.baseline_y.total_cmp(&b.baseline_y));
        // the pulses of a page stand in one column: a "pulse" well off it
        // (a grid line and a steep stroke, a neighbouring row's pulse seen
        // through a shadow) is not one
        let rises: Vec<f32> = rows.iter().filter_map(|r| r.pulse.map(|p| p.0)).collect();
        if rises.len() >= 3 {
            let column = imaging::median(&rises);
            for r in rows.iter_mut() {
                if r.pulse
                    .is_some_and(|p| (p.0 - column).abs() > self.pulse_column_tolerance_mm * ppx)
                {
                    r.pulse = None;
                    r.x_start = r.ink_x0;
                }
            }
        }
        // with two or more pulsed rows to compare with, a row without a
        // pulse whose ink hardly waves next to theirs is grid fragments or
        // a crease picked up off the traces (a header area's ghost rows)
        let pulsed_waviness: Vec<f32> = rows
            .iter()
            .filter(|r| r.pulse.is_some())
            .map(|r| r.waviness)
            .collect();
        if pulsed_waviness.len() >= 2 {
            let bar = self.min_relative_waviness * imaging::median(&pulsed_waviness);
            rows.retain(|r| r.pulse.is_some() || r.waviness >= bar);
        }
        // rows without a pulse start where the others do when most have one
        let starts: Vec<f32> = rows
            .iter()
            .filter(|r| r.pulse.is_some())
            .map(|r| r.x_start)
            .collect();
        // when three or more rows start with a calibration pulse, rows
        // without one outside them are text lines, shadows or page edges
        // (above the first or below the last row with a pulse)
        if starts.len() >= 3 {
            let first = rows.iter().position(|r| r.pulse.is_some()).unwrap_or(0);
            let last = rows.iter().rposition(|r| r.pulse.is_some()).unwrap_or(0);
            // ...unless the row ends where the pulsed rows end and stands
            // one row spacing beyond them: a noisy rhythm strip whose
            // pulse was missed
            let pulsed: Vec<&Row> = rows.iter().filter(|r| r.pulse.is_some()).collect();
            let end = imaging::median(&pulsed.iter().map(|r| r.ink_x1).collect::<Vec<_>>());
            let gaps: Vec<f32> = pulsed
                .windows(2)
                .map(|p| p[1].baseline_y - p[0].baseline_y)
                .collect();
            let spacing = imaging::median(&gaps);
            // a row one spacing on from the last kept one continues the
            // layout (several rhythm strips without pulses chain on)
            let continues = |r: &Row, from: f32| {
                let d = (r.baseline_y - from).abs();
                let ends_with_them = (r.ink_x1 - end).abs() < 2.0 * ppx;
                // ...or, cut by the page's edge (a rotated photo), stands
                // right where the next row would
                let on_the_beat = d > 0.85 * spacing && d < 1.2 * spacing;
                (ends_with_them || on_the_beat) && d > 0.7 * spacing && d < 1.4 * spacing
            };
            let mut keep: Vec<bool> = (0..rows.len())
                .map(|i| rows[i].pulse.is_some() || (i > first && i < last))
                .collect();
            let mut from = rows[last].baseline_y;
            for i in last + 1..rows.len() {
                if continues(&rows[i], from) {
                    keep[i] = true;
                    from = rows[i].baseline_y;
                }
            }
            // above them lies the header, where grid fragments and text
            // lines make rows too: a real row there whose pulse was missed
            // still shows the pulse's rising edge, solid ink where the
            // others rise
            // (a skewed photo's pulses stand on a slanted line)
            let rise_at = rise_line(&pulsed);
            let reach = (self.missed_pulse_search_mm * ppx).round() as isize;
            let shows_rise = |r: &Row| {
                let rise = rise_at(r.baseline_y).round() as isize;
                self.missed_pulse_min_density <= 0.0
                    || ink_coverage(
                        m,
                        w,
                        h,
                        lvl,
                        rise - reach..=rise + reach,
                        r.baseline_y - 9.0 * ppy,
                        r.baseline_y - 1.0 * ppy,
                        3,
                    ) >= self.missed_pulse_min_density
            };
            let mut from = rows[first].baseline_y;
            for i in (0..first).rev() {
                if continues(&rows[i], from) && shows_rise(&rows[i]) {
                    keep[i] = true;
                    from = rows[i].baseline_y;
                }
            }
            retain_indexed(&mut rows, |i, _| keep[i]);
        }
        // rows without a pulse crowded between rows with one (ruled lines,
        // a neighbour's tall waves) are not rows either: real rows keep the
        // spacing of the pulsed ones
        if starts.len() >= 3 {
            let pulsed: Vec<f32> = rows
                .iter()
                .filter(|r| r.pulse.is_some())
                .map(|r| r.baseline_y)
                .collect();
            let gaps: Vec<f32> = pulsed.windows(2).map(|p| p[1] - p[0]).collect();
            let spacing = imaging::median(&gaps);
            if spacing.is_finite() && spacing > 0.0 {
                rows.retain(|r| {
                    r.pulse.is_some()
                        || pulsed
                            .iter()
                            .all(|&b| (b - r.baseline_y).abs() > 0.6 * spacing)
                });
            }
        }
        // a header's text lines stand above the traces and stop short of
        // their width: rows above the first full-width one that span less
        // than `min_header_row_fraction` of the rows' median width (and
        // start without a pulse) are text
        if rows.len() >= 3 && self.min_header_row_fraction > 0.0 {
            let widths: Vec<f32> = rows.iter().map(|r| r.ink_x1 - r.ink_x0).collect();
            let typical = imaging::median(&widths);
            if let Some(first_full) = widths.iter().position(|&w| w >= 0.8 * typical) {
                retain_indexed(&mut rows, |i, r| {
                    i >= first_full
                        || r.pulse.is_some()
                        || widths[i] >= self.min_header_row_fraction * typical
                });
            }
        }
        if starts.len() * 2 > rows.len() {
            let med = imaging::median(&starts);
            let first = rows.iter().position(|r| r.pulse.is_some()).unwrap_or(0);
            let last = rows.iter().rposition(|r| r.pulse.is_some()).unwrap_or(0);
            // (a row whose ink begins further left took a page edge or a
            // shadow for its start; one between pulsed rows whose ink begins
            // further right lost its first strokes to faint ink)
            for (i, r) in rows.iter_mut().enumerate() {
                if r.pulse.is_none() && (r.x_start - med < 15.0 * ppx || (i > first && i < last)) {
                    r.x_start = med;
                }
            }
        }
        rows
    }
}

/// Runs of `true` with gaps up to `max_gap` bridged, as (first, last).
fn stretches(occ: &[bool], max_gap: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (x, &o) in occ.iter().enumerate() {
        if !o {
            continue;
        }
        match out.last_mut() {
            Some(last) if x - last.1 <= max_gap + 1 => last.1 = x,
            _ => out.push((x, x)),
        }
    }
    out
}

/// The least-squares line through the pulsed rows' rising edges, as x
/// against the baseline's y (flat when they share a y).
fn rise_line(rows: &[&Row]) -> impl Fn(f32) -> f32 {
    let pts: Vec<(f32, f32)> = rows
        .iter()
        .filter_map(|r| r.pulse.map(|p| (r.baseline_y, p.0)))
        .collect();
    let line = imaging::fit_line(&pts);
    move |y| line.map_or(0.0, |l| l.at(y))
}

/// Keeps the items of `v` for which `keep(index, item)` holds.
fn retain_indexed<T>(v: &mut Vec<T>, mut keep: impl FnMut(usize, &T) -> bool) {
    let mut i = 0;
    v.retain(|item| {
        i += 1;
        keep(i - 1, item)
    });
}

/// How much of the rows `from..=to` the mask's ink covers among columns
/// `xs` (columns off the page are skipped): the best fraction of rows
/// holding ink in any of `group` neighbouring columns. With `group = 1`
/// that is the densest column; with 3, a slightly slanted edge that steps
/// across columns still covers its rows, while a dotted line leaves gaps in
/// all of them.
#[allow(clippy::too_many_arguments)]
fn ink_coverage(
    m: &[u8],
    w: usize,
    h: usize,
    lvl: u8,
    xs: std::ops::RangeInclusive<isize>,
    from: f32,
    to: f32,
    group: usize,
) -> f32 {
    let (ya, yb) = (from.max(0.0) as usize, (to.max(0.0) as usize).min(h - 1));
    let cols: Vec<usize> = xs
        .filter(|&x| x >= 0 && (x as usize) < w)
        .map(|x| x as usize)
        .collect();
    cols.windows(group.min(cols.len()).max(1))
        .map(|g| {
            let n = (ya..=yb)
                .filter(|&y| g.iter().any(|&x| m[y * w + x] >= lvl))
                .count();
            n as f32 / (yb.saturating_sub(ya) + 1) as f32
        })
        .fold(0.0, f32::max)
}

/// An edge whose ink runs on past the pulse at this fraction of its density
/// along the pulse (or more) is a longer line, not a pulse's edge.
const RUN_ON_DENSITY: f32 = 0.75;

/// Looks for the calibration pulse near the start of a row: two vertical
/// edges (each at least 6 mm of ink above the baseline) 3 to 7 mm apart.
/// Returns the x of the rising and falling edges.
#[allow(clippy::too_many_arguments)]
pub fn find_pulse(
    m: &[u8],
    w: usize,
    h: usize,
    lvl: u8,
    x0: usize,
    baseline: f32,
    ppx: f32,
    ppy: f32,
) -> Option<(f32, f32)> {
    let ytop = (baseline - 14.0 * ppy).max(0.0) as usize;
    let ybot = ((baseline + 2.0 * ppy) as usize).min(h - 1);
    let xs = x0.saturating_sub((10.0 * ppx) as usize);
    let xe = (x0 + (30.0 * ppx) as usize).min(w - 1);
    if xe <= xs || ybot <= ytop {
        return None;
    }
    let need = (6.0 * ppy) as usize;
    let tall: Vec<bool> = (xs..=xe)
        .map(|x| (ytop..=ybot).filter(|&y| m[y * w + x] >= lvl).count() >= need)
        .collect();
    // groups of consecutive tall columns -> centre x
    let mut edges: Vec<f32> = Vec::new();
    let mut i = 0;
    while i < tall.len() {
        if tall[i] {
            let s = i;
            while i < tall.len() && tall[i] {
                i += 1;
            }
            // sub-pixel centre: ink-weighted centroid of the group and its
            // neighbours over the edge's middle (clear of the baseline and
            // of the pulse's top)
            let ya = (baseline - 8.0 * ppy).max(0.0) as usize;
            let yb = ((baseline - 2.0 * ppy).max(0.0) as usize).min(h - 1);
            let (mut sw, mut sx) = (0f64, 0f64);
            for k in s.saturating_sub(1)..(i + 1).min(tall.len()) {
                let x = xs + k;
                let wgt: f64 = (ya..=yb).map(|y| m[y * w + x] as f64).sum();
                sw += wgt;
                sx += wgt * x as f64;
            }
            let centre = if sw > 0.0 {
                (sx / sw) as f32
            } else {
                xs as f32 + (s + i - 1) as f32 / 2.0
            };
            edges.push(centre);
        } else {
            i += 1;
        }
    }
    for (a, &e0) in edges.iter().enumerate() {
        for &e1 in &edges[a + 1..] {
            let d = (e1 - e0) / ppx;
            if (3.0..=7.0).contains(&d) {
                // the top of the pulse: ink near baseline - 10 mm between the edges
                let yt = baseline - 10.0 * ppy;
                let xm = ((e0 + e1) / 2.0) as usize;
                let band = (2.5 * ppy) as isize;
                let has_top = (-band..=band).any(|dy| {
                    let y = yt as isize + dy;
                    y >= 0 && (y as usize) < h && m[y as usize * w + xm] >= lvl
                });
                // the edges end at the pulse's top and at the baseline: a
                // neighbouring row's pulse, or grid lines, run on past them
                let ink_in = |x: f32, from: f32, to: f32| -> f32 {
                    let xr = x.round() as isize;
                    ink_coverage(m, w, h, lvl, xr - 1..=xr + 1, from, to, 1)
                };
                // (a grid line left in the mask may run through an edge:
                // the pulse's own ink is then still much denser than the
                // line's run-on)
                let runs_on = [e0, e1].into_iter().any(|e| {
                    let along = ink_in(e, baseline - 9.0 * ppy, baseline - 1.0 * ppy);
                    [
                        ink_in(e, yt - 6.0 * ppy, yt - 1.5 * ppy),
                        ink_in(e, baseline + 1.5 * ppy, baseline + 6.0 * ppy),
                    ]
                    .into_iter()
                    .any(|beyond| beyond > 0.5 && beyond > RUN_ON_DENSITY * along)
                });
                if has_top && !runs_on {
                    return Some((e0, e1));
                }
            }
        }
    }
    None
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
    }
}

/// Builds panels for the detected rows.
pub fn build_layout(
    rows: &[Row],
    grid: &GridInfo,
    page_seconds: f32,
    mask: &image::GrayImage,
) -> Layout {
    use Lead::*;
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
    let x_end_of = |r: &Row, secs: f32| -> f32 { (r.x_start + secs * pps).min(w - 1.0) };
    let seps = separators_at_quarters(rows, mask, grid, pps, page_seconds);
    let (kind, grid_rows): (LayoutKind, Vec<Vec<Lead>>) = match n {
        3 => (
            LayoutKind::ThreeByFour,
            vec![
                vec![I, AVR, V1, V4],
                vec![II, AVL, V2, V5],
                vec![III, AVF, V3, V6],
            ],
        ),
        4 => (
            LayoutKind::ThreeByFourRhythm,
            vec![
                vec![I, AVR, V1, V4],
                vec![II, AVL, V2, V5],
                vec![III, AVF, V3, V6],
                vec![II],
            ],
        ),
        5 => (
            LayoutKind::Other,
            vec![
                vec![I, AVR, V1, V4],
                vec![II, AVL, V2, V5],
                vec![III, AVF, V3, V6],
                vec![II],
                vec![V1],
            ],
        ),
        6 if seps => (
            LayoutKind::Other,
            vec![
                vec![I, AVR, V1, V4],
                vec![II, AVL, V2, V5],
                vec![III, AVF, V3, V6],
                vec![V1],
                vec![II],
                vec![V5],
            ],
        ),
        6 => (
            LayoutKind::SixByTwo,
            vec![
                vec![I, V1],
                vec![II, V2],
                vec![III, V3],
                vec![AVR, V4],
                vec![AVL, V5],
                vec![AVF, V6],
            ],
        ),
        12.. => (
            LayoutKind::TwelveByOne,
            Lead::ALL.iter().map(|&l| vec![l]).collect(),
        ),
        1 => (LayoutKind::Other, vec![vec![II]]),
        2 => (LayoutKind::Other, vec![vec![I, AVR, V1, V4], vec![II]]),
        _ => {
            // 7..11 rows: 3x4 plus rhythm strips, as far as they go
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
    };
    let mut panels = Vec::new();
    for (ri, leads) in grid_rows.iter().enumerate().take(n) {
        let r = &rows[ri];
        let (y0, y1) = bbox_y(ri);
        let cols = leads.len();
        let secs = page_seconds / cols as f32;
        let rhythm = cols == 1 && n > 1 && kind != LayoutKind::TwelveByOne;
        for (ci, &lead) in leads.iter().enumerate() {
            let t0 = secs * ci as f32;
            let t1 = t0 + secs;
            let xs = r.x_start + t0 * pps;
            let xe = x_end_of(r, t1);
            if xs >= w - 1.0 {
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
            ));
        }
    }
    Layout {
        kind,
        page_seconds,
        row_baselines: rows.iter().map(|r| r.baseline_y).collect(),
        panels,
    }
}

/// True when the first three rows carry short vertical lead separators near a
/// quarter and three quarters of the page time (3x4 rows), rather than only
/// in the middle (6x2 rows).
fn separators_at_quarters(
    rows: &[Row],
    mask: &image::GrayImage,
    grid: &GridInfo,
    pps: f32,
    page_seconds: f32,
) -> bool {
    if rows.len() < 3 {
        return false;
    }
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let m = mask.as_raw();
    let ppy = grid.px_per_mm_y;
    let mut hits = 0;
    for r in &rows[..3] {
        for q in [0.25f32, 0.75] {
            let xc = r.x_start + q * page_seconds * pps;
            let lo = (xc - 1.0 * grid.px_per_mm_x).max(0.0) as usize;
            let hi = ((xc + 1.0 * grid.px_per_mm_x) as usize).min(w.saturating_sub(1));
            let y0 = (r.baseline_y - 3.0 * ppy).max(0.0) as usize;
            let y1 = ((r.baseline_y + 3.0 * ppy) as usize).min(h.saturating_sub(1));
            let found = (lo..=hi)
                .any(|x| (y0..=y1).filter(|&y| m[y * w + x] >= 128).count() as f32 >= 4.0 * ppy);
            if found {
                hits += 1;
            }
        }
    }
    hits >= 4
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use image::{GrayImage, Luma};

    /// A synthetic mask: `rows` rows with a pulse and a wavy trace of 10 s.
    pub(crate) fn synthetic_mask(rows: usize, ppmm: f32) -> (GrayImage, Vec<f32>, f32) {
        let w = (280.0 * ppmm) as u32;
        let h = ((rows as f32 + 1.0) * 30.0 * ppmm) as u32;
        let mut img = GrayImage::new(w, h);
        let x_pulse = 10.0 * ppmm;
        let x_start = x_pulse + 5.0 * ppmm;
        let mut baselines = Vec::new();
        for r in 0..rows {
            let b = (r as f32 + 1.0) * 30.0 * ppmm;
            baselines.push(b);
            let mut put = |x: f32, y: f32| {
                if x >= 0.0 && y >= 0.0 && (x as u32) < w && (y as u32) < h {
                    img.put_pixel(x as u32, y as u32, Luma([255]));
                }
            };
            // pulse
            for k in 0..(10.0 * ppmm) as i32 {
                put(x_pulse, b - k as f32);
                put(x_start, b - k as f32);
            }
            for k in 0..(5.0 * ppmm) as i32 {
                put(x_pulse + k as f32, b - 10.0 * ppmm);
            }
            // trace: 250 mm of a gentle wave with spikes
            let n = (250.0 * ppmm) as i32;
            let mut prev = b;
            for k in 0..n {
                let x = x_start + k as f32;
                let t = k as f32 / ppmm / 25.0;
                // flat isoelectric line, a T wave and a spike per beat
                let phase = t % 0.8;
                let mut y = b;
                if (0.3..0.5).contains(&phase) {
                    y -= 2.0 * ppmm * ((phase - 0.3) * std::f32::consts::PI / 0.2).sin();
                }
                if phase < 0.02 {
                    y -= 10.0 * ppmm;
                }
                let (a, c) = if y < prev { (y, prev) } else { (prev, y) };
                let mut yy = a;
                while yy <= c {
                    put(x, yy);
                    yy += 1.0;
                }
                prev = y;
            }
        }
        (img, baselines, x_start)
    }

    #[test]
    fn with_the_image_a_signal_starts_a_pulse_length_after_the_pulses_start() {
        let ppmm = 4.0;
        let (mask, baselines, x_fall) = synthetic_mask(4, ppmm);
        // the page: the mask's ink, dark on white, with the rising edges'
        // ink spilling 60% into the next column (the mask saturates and
        // does not see it: its edge is x = 40, the image's 40.375)
        let rise = x_fall - 5.0 * ppmm;
        let mut img = image::RgbImage::from_fn(mask.width(), mask.height(), |x, y| {
            let v = 255 - mask.get_pixel(x, y).0[0];
            image::Rgb([v, v, v])
        });
        for &b in &baselines {
            for k in 1..(10.0 * ppmm) as u32 - 1 {
                let y = b as u32 - k;
                img.put_pixel(rise as u32 + 1, y, image::Rgb([102, 102, 102]));
            }
        }
        let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
        let pps = grid.px_per_second();
        let config = LayoutDetectConfig::default();
        let edge = rise + 0.375;
        for fs in [500.0f32, 250.0] {
            let layout = config
                .detect_in(&mask, Some(&img), &grid, 10.0, fs)
                .unwrap();
            // the pulse starts 1.5 sample steps before its rise
            let want = edge + 0.2 * pps - 1.5 * pps / fs;
            for p in layout.panels.iter().filter(|p| p.col == 0) {
                assert!(
                    (p.x_start - want).abs() < 0.03,
                    "fs {fs}: {} vs {want}",
                    p.x_start
                );
            }
            let v1 = layout.panels.iter().find(|p| p.lead == Lead::V1).unwrap();
            assert!(
                (v1.x_start - (want + 5.0 * pps)).abs() < 0.03,
                "{}",
                v1.x_start
            );
        }
        // from the mask alone the edge is the mask's
        let layout = config.detect(&mask, &grid, 10.0).unwrap();
        let want = rise + 0.2 * pps - 1.5 * pps / 500.0;
        assert!(
            (layout.panels[0].x_start - want).abs() < 0.03,
            "{}",
            layout.panels[0].x_start
        );
    }

    #[test]
    fn a_row_between_pulsed_rows_that_lost_its_first_strokes_starts_with_them() {
        let ppmm = 4.0;
        let (mut mask, baselines, x_fall) = synthetic_mask(4, ppmm);
        // the third row's pulse and first 25 mm of trace are too faint to see
        let b = baselines[2];
        for x in 0..(x_fall + 25.0 * ppmm) as u32 {
            for y in (b - 12.0 * ppmm) as u32..=(b + 3.0 * ppmm) as u32 {
                mask.put_pixel(x, y, Luma([0]));
            }
        }
        let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
        let rows = lenient().find_rows(&mask, &grid);
        assert_eq!(rows.len(), 4, "{rows:?}");
        assert!(rows[2].pulse.is_none());
        assert!(
            (rows[2].x_start - rows[1].x_start).abs() < 0.01,
            "{} vs {}",
            rows[2].x_start,
            rows[1].x_start
        );
    }

    #[test]
    fn a_ghost_row_of_grid_fragments_above_the_pulsed_rows_is_not_a_row() {
        let ppmm = 4.0;
        let (mut mask, baselines, _) = synthetic_mask(4, ppmm);
        // mask height leaves room above the first row: shift nothing, draw
        // a ruled line with short ticks (grid fragments through a crease)
        // one row spacing above the first row, as long as the rows
        let y0 = (baselines[0] - 30.0 * ppmm).max(10.0) as u32;
        let mut taller = GrayImage::new(mask.width(), mask.height() + 120);
        image::imageops::replace(&mut taller, &mask, 0, 120);
        mask = taller;
        let y0 = y0 + 120;
        for x in (10.0 * ppmm) as u32..(260.0 * ppmm) as u32 {
            mask.put_pixel(x, y0, Luma([255]));
            if x % 20 == 0 {
                for dy in 1..8 {
                    mask.put_pixel(x, y0 - dy, Luma([255]));
                }
            }
        }
        let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
        // (the synthetic rows wave little: the absolute bar is lowered so
        // that only the relative one can tell the ghost row)
        // (nor the missed pulse's edge: this rule alone)
        let low_bar = LayoutDetectConfig {
            min_waviness: 0.2,
            missed_pulse_min_density: 0.0,
            ..LayoutDetectConfig::default()
        };
        let all = LayoutDetectConfig {
            min_relative_waviness: 0.0,
            ..low_bar.clone()
        }
        .find_rows(&mask, &grid);
        assert_eq!(all.len(), 5, "{all:?}");
        let rows = low_bar.find_rows(&mask, &grid);
        assert_eq!(rows.len(), 4, "{rows:?}");
        assert!(rows.iter().all(|r| r.pulse.is_some()));
    }

    #[test]
    fn a_wavy_line_crowded_between_pulsed_rows_is_not_a_row() {
        let ppmm = 4.0;
        let (mut mask, baselines, _) = synthetic_mask(4, ppmm);
        // a wavy line without a pulse 8 mm under the second row (spacing
        // 30 mm), as dark grid lines or text leave on black-and-white pages
        let y0 = baselines[1] + 8.0 * ppmm;
        for x in (20.0 * ppmm) as u32..(260.0 * ppmm) as u32 {
            let y = y0 + 2.0 * ppmm * ((x as f32 / (3.0 * ppmm)).sin());
            for dy in 0..2 {
                mask.put_pixel(x, y as u32 + dy, Luma([255]));
            }
        }
        let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
        let layout = LayoutDetectConfig::default()
            .detect(&mask, &grid, 10.0)
            .unwrap();
        assert_eq!(layout.row_baselines.len(), 4, "{:?}", layout.row_baselines);
        assert_eq!(layout.kind, LayoutKind::ThreeByFourRhythm);
    }

    #[test]
    fn a_rhythm_strip_whose_pulse_is_missed_is_still_a_row() {
        let ppmm = 4.0;
        let (mut mask, baselines, x_start) = synthetic_mask(4, ppmm);
        // rub out the last row's pulse
        let b = baselines[3];
        for x in 0..(x_start + 1.0) as u32 {
            for y in (b - 12.0 * ppmm) as u32..=(b + 1.0) as u32 {
                mask.put_pixel(x, y, Luma([0]));
            }
        }
        let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
        // the synthetic trace waves less than a real one: without its pulse
        // the row needs a lower waviness bar
        let config = LayoutDetectConfig {
            min_waviness: 0.5,
            ..LayoutDetectConfig::default()
        };
        let layout = config.detect(&mask, &grid, 10.0).unwrap();
        assert_eq!(layout.row_baselines.len(), 4, "{:?}", layout.row_baselines);
        assert_eq!(layout.kind, LayoutKind::ThreeByFourRhythm);
    }

    #[test]
    fn a_pulse_is_not_found_in_a_neighbours_pulse_or_in_grid_lines() {
        let ppmm = 4.0;
        let (mut mask, baselines, x_start) = synthetic_mask(2, ppmm);
        let (w, h) = (mask.width() as usize, mask.height() as usize);
        let find = |m: &GrayImage, b: f32| {
            find_pulse(
                m.as_raw(),
                w,
                h,
                100,
                (x_start - 5.0 * ppmm) as usize,
                b,
                ppmm,
                ppmm,
            )
        };
        assert!(find(&mask, baselines[0]).is_some());
        // 10.5 mm under the first row, its pulse and trace look like a pulse
        // standing on that line
        assert!(find(&mask, baselines[0] + 10.5 * ppmm).is_none());
        // dark vertical grid lines 5 mm apart, the whole page tall, and a
        // horizontal one 10 mm over a would-be baseline
        let xg = (200.0 * ppmm) as u32;
        for y in 0..h as u32 {
            mask.put_pixel(xg, y, Luma([255]));
            mask.put_pixel(xg + (5.0 * ppmm) as u32, y, Luma([255]));
        }
        let b = baselines[1] - 15.0 * ppmm;
        for x in xg - 40..xg + 60 {
            mask.put_pixel(x, (b - 10.0 * ppmm) as u32, Luma([255]));
        }
        let at_grid = find_pulse(mask.as_raw(), w, h, 100, xg as usize, b, ppmm, ppmm);
        assert!(at_grid.is_none(), "{at_grid:?}");
    }

    #[test]
    fn a_pulse_whose_edges_lie_on_dotted_grid_lines_is_found() {
        // a grid the segmenter left in the mask: vertical lines every 5 mm,
        // two pixels in three inked, through both edges of the pulse
        let ppmm = 8.0;
        let (mut mask, baselines, x_start) = synthetic_mask(1, ppmm);
        let (w, h) = (mask.width() as usize, mask.height() as usize);
        let x_pulse = x_start - 5.0 * ppmm;
        for x in [x_pulse - 5.0 * ppmm, x_pulse, x_start, x_start + 5.0 * ppmm] {
            for y in (0..h as u32).filter(|y| y % 3 != 0) {
                mask.put_pixel(x as u32, y, Luma([255]));
            }
        }
        let found = find_pulse(
            mask.as_raw(),
            w,
            h,
            100,
            (x_start - 5.0 * ppmm) as usize,
            baselines[0],
            ppmm,
            ppmm,
        );
        let (rise, fall) = found.expect("the pulse");
        assert!(
            (rise - x_pulse).abs() < 1.0 && (fall - x_start).abs() < 1.0,
            "{rise} {fall}"
        );
    }

    #[test]
    fn lines_above_and_below_the_pulsed_rows_are_not_rows() {
        let ppmm = 4.0;
        let (mut mask, baselines, _) = synthetic_mask(4, ppmm);
        // header text and shadow edges: wavy lines without a pulse above the
        // first row and below the last, too many for a "most rows" rule
        let mut wavy = |y0: f32| {
            for x in (20.0 * ppmm) as u32..(260.0 * ppmm) as u32 {
                let y = y0 + 2.0 * ppmm * ((x as f32 / (3.0 * ppmm)).sin());
                for dy in 0..2 {
                    mask.put_pixel(x, (y as u32 + dy).min(mask.height() - 1), Luma([255]));
                }
            }
        };
        wavy(3.0 * ppmm);
        wavy(11.0 * ppmm);
        wavy(baselines[3] + 20.0 * ppmm);
        let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
        let rows = LayoutDetectConfig::default().find_rows(&mask, &grid);
        let ys: Vec<f32> = rows.iter().map(|r| r.baseline_y).collect();
        assert_eq!(rows.len(), 4, "{ys:?}");
        for (a, b) in ys.iter().zip(&baselines) {
            assert!((a - b).abs() < 1.5, "{ys:?}");
        }
    }

    /// The detector with a waviness bar the synthetic traces pass (they
    /// wave less than real ones) without their pulses.
    fn lenient() -> LayoutDetectConfig {
        LayoutDetectConfig {
            min_waviness: 0.5,
            ..LayoutDetectConfig::default()
        }
    }

    /// Erases the calibration pulse of the row at baseline `b`.
    fn rub_out_pulse(mask: &mut GrayImage, b: f32, x_start: f32, ppmm: f32) {
        for x in 0..(x_start + 1.0) as u32 {
            for y in (b - 12.0 * ppmm) as u32..=(b + 1.0) as u32 {
                mask.put_pixel(x, y, Luma([0]));
            }
        }
    }

    /// Replaces a row's trace after its pulse by a dotted flat line at the
    /// baseline `b` (a low-voltage trace that neither waves nor stands out
    /// in the projection).
    fn flatten_after_pulse(mask: &mut GrayImage, b: f32, x_start: f32, ppmm: f32) {
        for x in (x_start + 2.0) as u32..mask.width() {
            for y in (b - 12.0 * ppmm) as u32..=((b + 3.0 * ppmm) as u32).min(mask.height() - 1) {
                mask.put_pixel(x, y, Luma([0]));
            }
            if x % 3 == 0 {
                mask.put_pixel(x, b as u32, Luma([255]));
            }
        }
    }

    #[test]
    fn a_page_whose_only_row_is_a_bare_pulse_is_not_read() {
        // one row: a pulse and a dotted flat line, no wave at all (the rest
        // of the page lost to segmentation)
        let ppmm = 4.0;
        let (mut mask, baselines, x_start) = synthetic_mask(1, ppmm);
        let b = baselines[0];
        flatten_after_pulse(&mut mask, b, x_start, ppmm);
        let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
        let config = LayoutDetectConfig::default();
        assert!(config.find_rows(&mask, &grid).is_empty());
        assert!(config.detect(&mask, &grid, 10.0).is_err());
    }

    #[test]
    fn several_rhythm_strips_without_pulses_chain_on() {
        let ppmm = 4.0;
        let (mut mask, baselines, x_start) = synthetic_mask(5, ppmm);
        // the last two rows (two rhythm strips) have no pulse
        for &b in &baselines[3..] {
            rub_out_pulse(&mut mask, b, x_start, ppmm);
        }
        let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
        let rows = lenient().find_rows(&mask, &grid);
        assert_eq!(rows.len(), 5, "{rows:?}");
        assert!(rows[3].pulse.is_none() && rows[4].pulse.is_none());
    }

    #[test]
    fn a_header_row_above_the_pulsed_rows_needs_its_missed_pulses_edge() {
        let ppmm = 4.0;
        let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
        // the first of five rows has no pulse at all: grid fragments and
        // text in a header, one row spacing above the pulsed rows, look so
        let (mut ghost, baselines, x_start) = synthetic_mask(5, ppmm);
        rub_out_pulse(&mut ghost, baselines[0], x_start, ppmm);
        let unchecked = LayoutDetectConfig {
            missed_pulse_min_density: 0.0,
            ..lenient()
        };
        assert_eq!(unchecked.find_rows(&ghost, &grid).len(), 5);
        let rows = lenient().find_rows(&ghost, &grid);
        assert_eq!(rows.len(), 4, "{rows:?}");
        assert!(rows.iter().all(|r| r.pulse.is_some()));
        // a real first row whose pulse was missed (its top cut off by the
        // page's edge) still shows the rising edge, and stays
        let (mut cut, baselines, x_start) = synthetic_mask(5, ppmm);
        let top = (baselines[0] - 10.0 * ppmm) as u32;
        for x in (x_start - 4.0 * ppmm) as u32..(x_start - 1.0 * ppmm) as u32 {
            for y in top - 2..=top + 2 {
                cut.put_pixel(x, y, Luma([0]));
            }
        }
        let rows = lenient().find_rows(&cut, &grid);
        assert_eq!(rows.len(), 5, "{rows:?}");
        assert!(rows[0].pulse.is_none());
    }

    #[test]
    fn a_header_text_line_above_the_rows_is_not_a_row() {
        // three rows whose pulses the crop cut off, and 20 mm over the
        // first a line of header text: 100 mm of glyph strokes
        let ppmm = 4.0;
        let (mut mask, baselines, x_start) = synthetic_mask(3, ppmm);
        for &b in &baselines {
            rub_out_pulse(&mut mask, b, x_start, ppmm);
        }
        let y = (baselines[0] - 20.0 * ppmm) as u32;
        for x in (60.0 * ppmm) as u32..(160.0 * ppmm) as u32 {
            mask.put_pixel(x, y, Luma([255]));
            if x % 4 == 0 {
                for dy in 1..(2.5 * ppmm) as u32 {
                    mask.put_pixel(x, y - dy, Luma([255]));
                }
            }
        }
        let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
        let keep_text = LayoutDetectConfig {
            min_header_row_fraction: 0.0,
            ..lenient()
        };
        assert_eq!(keep_text.find_rows(&mask, &grid).len(), 4);
        let rows = lenient().find_rows(&mask, &grid);
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert!((rows[0].baseline_y - baselines[0]).abs() < 1.5);
    }

    #[test]
    fn on_a_coarse_page_the_waviness_bar_is_lowered_in_proportion() {
        // three rows without pulses on a 3.5 px/mm page: the bar is set a
        // half over what their traces show, which the coarse page's
        // proportional bar (3.5 / 7.874 of it) lets through
        let ppmm = 3.5;
        let (mut mask, baselines, x_start) = synthetic_mask(3, ppmm);
        for &b in &baselines {
            rub_out_pulse(&mut mask, b, x_start, ppmm);
        }
        let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
        let found = lenient().find_rows(&mask, &grid);
        assert_eq!(found.len(), 3, "{found:?}");
        let wave = found.iter().map(|r| r.waviness).fold(f32::MAX, f32::min);
        let high_bar = LayoutDetectConfig {
            min_waviness: 1.5 * wave,
            ..lenient()
        };
        assert_eq!(high_bar.find_rows(&mask, &grid).len(), 3);
        let unscaled = LayoutDetectConfig {
            waviness_px_per_mm: 0.0,
            ..high_bar
        };
        assert!(unscaled.find_rows(&mask, &grid).is_empty());
    }

    #[test]
    fn a_rhythm_strip_cut_by_the_pages_edge_is_still_a_row() {
        let ppmm = 4.0;
        let (mut mask, baselines, x_start) = synthetic_mask(4, ppmm);
        // a rotated photo's edge cuts off the last row's pulse and its last
        // 60 mm: it neither has a pulse nor ends where the others do
        let b = baselines[3];
        let cut = x_start + 190.0 * ppmm;
        for x in 0..mask.width() {
            if (x as f32) <= x_start + 1.0 || (x as f32) >= cut {
                for y in (b - 12.0 * ppmm) as u32..=((b + 3.0 * ppmm) as u32).min(mask.height() - 1)
                {
                    mask.put_pixel(x, y, Luma([0]));
                }
            }
        }
        let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
        let rows = lenient().find_rows(&mask, &grid);
        assert_eq!(rows.len(), 4, "{rows:?}");
        assert!(rows[3].pulse.is_none());
        assert!((rows[3].baseline_y - b).abs() < 1.5);
    }

    #[test]
    fn a_quiet_rhythm_strip_with_its_pulse_is_a_row() {
        let ppmm = 4.0;
        let (mut mask, baselines, x_start) = synthetic_mask(4, ppmm);
        // flatten the last row's trace to a low-voltage line (its pulse
        // stays): it neither waves nor stands out in the projection
        let b = baselines[3];
        flatten_after_pulse(&mut mask, b, x_start, ppmm);
        let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
        // (the synthetic waves pass a 0.5 waviness bar, the flat line none)
        let strict = LayoutDetectConfig {
            min_waviness: 0.5,
            ..LayoutDetectConfig::default()
        };
        let rows = strict.find_rows(&mask, &grid);
        assert_eq!(rows.len(), 4, "{rows:?}");
        assert!((rows[3].baseline_y - b).abs() < 1.5);
    }

    #[test]
    fn finds_four_rows_with_pulses() {
        let ppmm = 4.0;
        let (mask, baselines, x_start) = synthetic_mask(4, ppmm);
        let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
        let layout = LayoutDetectConfig::default()
            .detect(&mask, &grid, 10.0)
            .unwrap();
        assert_eq!(layout.kind, LayoutKind::ThreeByFourRhythm);
        assert_eq!(layout.row_baselines.len(), 4);
        for (a, b) in layout.row_baselines.iter().zip(&baselines) {
            assert!((a - b).abs() < 1.5, "{a} vs {b}");
        }
        assert_eq!(layout.panels.len(), 13);
        let rhythm = layout.panels.iter().find(|p| p.rhythm).unwrap();
        assert_eq!(rhythm.lead, Lead::II);
        assert!((rhythm.x_start - x_start).abs() < 2.0, "{}", rhythm.x_start);
        let v1 = layout.panels.iter().find(|p| p.lead == Lead::V1).unwrap();
        assert_eq!((v1.row, v1.col), (0, 2));
        assert!((v1.t_start - 5.0).abs() < 1e-6);
        assert!((v1.x_start - (x_start + 5.0 * 25.0 * ppmm)).abs() < 2.0);
    }

    #[test]
    fn blank_mask_is_not_an_ecg() {
        let mask = GrayImage::new(400, 300);
        let grid = GridInfo::from_dpi(100.0, ScaleSource::Assumed);
        let err = LayoutDetectConfig::default()
            .detect(&mask, &grid, 10.0)
            .unwrap_err();
        assert_eq!(err.class, ErrorClass::NotEcg);
    }
}
