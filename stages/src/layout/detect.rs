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
//!    rectangle at the row's start, as ecg-image-kit prints it) is
//!    recognised from its two vertical edges.
//!    The signal starts `pulse_seconds` (0.2 s) after the pulse starts: with
//!    the page `image` connected the rise is placed to a hundredth of a pixel
//!    from the image's shading ([`crate::layout::pulse_edge`]), and the pulse starts
//!    `rise_delay_steps` sample steps before its rise (ecg-image-kit plots it
//!    from samples `0, 0, 1, ..., 1, 0, 0`). A pulse of another width ends
//!    where its falling edge stands. Rows without a pulse start at their
//!    first solid ink (runs of 1.5 mm or more with gaps under 1 mm: the
//!    sparse fragments a dark grid line leaves along a baseline are
//!    skipped; ink from the page's very edge is a kept grid line, and the
//!    row starts at the first solid ink off the straight lines there: a
//!    trace that begins flat on such a line starts at its first wave) (or, when most rows have a pulse, at the rows' median start;
//!    always so between pulsed rows), and with two or more pulsed rows an
//!    unpulsed row needs `min_relative_waviness` of their median waviness.
//!    The same detector looks for a pulse at the row's end (some printers
//!    put it there, or at both ends): the signal stops `rise_delay_steps`
//!    sample steps and `end_pulse_clearance_mm` before that pulse rises,
//!    so the last panel's `x_end` never reaches into it. A pulse 5, 10 or
//!    20 mm tall and 1.6 to 7 mm (0.064 to 0.28 s at 25 mm/s) wide is recognised
//!    ([`crate::layout::pulse`]); the pulses of a page share one height, and
//!    one of another height than most is dropped.
//! 3. **Format**: the rows and the lead separators seen on each pick a
//!    layout template ([`crate::layout::templates`]: 3x4 with 0-3 rhythm
//!    strips, 6x2, 12x1, Cabrera orders, 6x1, 3x2, and the user's own in
//!    `templates`); a page none fits is named by its row count.
//!    A row of `C` columns shows seconds `[Sc/C, S(c+1)/C)` in column
//!    `c`, where `S` is the page's 10 s at 25 mm/s (5 s at 50 mm/s: the
//!    grid's `mm_per_second`, read from the printed text by `scale_text`);
//!    panel x positions follow from
//!    `x(t) = x_start + t * mm_per_second * px_per_mm_x`.
//! 4. **Labels** (`read_labels`): the lead names printed at the panels'
//!    starts are read ([`crate::layout::labels`]) for every template that
//!    fits the rows; one whose panels the reads clearly support better
//!    replaces the separators' choice, confirmed panels carry their
//!    `label_score`, and rhythm strips take distinctive reads
//!    ([`crate::layout::panels::apply_reads`]).
//! 5. **Scale the pulse will give**: where the grid's scale is not
//!    confident and the rows' calibration pulses (and lengths) say another
//!    (more than [`RESCALE_TOLERANCE`] apart; the rule of
//!    `calibration_pulse`, which converts the traces later, with its
//!    defaults), the layout is built again at that scale, twice at most,
//!    so that the panels' x positions and the conversion agree.
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

use super::calibration::CalibrationPulseConfig;
use super::labels;
use super::panels::{
    apply_reads, label_agreement, labels_confirm_rows, labels_support, layout_for, page_shapes,
    shown_seconds, LABEL_MARGIN,
};
use super::templates::{self, LayoutTemplate};
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

/// Relative difference between the grid's and the pulse's horizontal scale
/// beyond which the layout is built again at the pulse's.
pub const RESCALE_TOLERANCE: f32 = 0.005;

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
    /// Read the printed lead labels: they choose among the templates that
    /// fit the rows and name the rhythm strips ([`crate::layout::labels`]).
    pub read_labels: bool,
    /// Smallest template-match score (0..1) a label read needs to name a panel.
    pub label_min_score: f32,
    /// A row's signal stops this far (mm) before the rise of a pulse at
    /// its end, besides `rise_delay_steps` (the pulse's pen spreads left of
    /// its edge).
    pub end_pulse_clearance_mm: f32,
    /// On a page without pulses (three or more rows), a row whose ink
    /// begins more than this (mm) left of the rows' median start starts
    /// there instead (it took a page edge or a margin mark for its first
    /// ink); 0 or less: every row keeps its own first ink.
    pub margin_outlier_mm: f32,
    /// A TOML file of the user's own layout templates, tried before the
    /// shipped ones ([`crate::layout::templates`]); empty: the shipped only.
    pub templates: String,
    /// The user's templates, read when the stage is built.
    #[serde(skip)]
    pub user_templates: Vec<super::templates::LayoutTemplate>,
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
            read_labels: true,
            label_min_score: 0.7,
            margin_outlier_mm: 2.0,
            end_pulse_clearance_mm: 0.35,
            templates: String::new(),
            user_templates: Vec::new(),
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
    fn build(&self, ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if self.min_row_gap_mm <= 0.0 || self.min_row_length_mm <= 0.0 {
            return Err(Error::stage(
                "layout_detect: min_row_gap_mm and min_row_length_mm must be positive",
            ));
        }
        let mut built = self.clone();
        if !self.templates.is_empty() {
            let path = ctx.resolve_path(std::path::Path::new(&self.templates));
            built.user_templates = super::templates::load_file(&path)
                .map_err(|e| Error::stage(format!("layout_detect: {e}")))?;
        }
        Ok(Box::new(built))
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
        (
            "read_labels",
            "read the printed lead labels: they choose among the layout templates that fit and name the rhythm strips"
        ),
        (
            "label_min_score",
            "smallest template-match score (0..1) a label read needs to name a panel"
        ),
        (
            "end_pulse_clearance_mm",
            "a row's signal stops this far (mm) before the rise of a pulse at its end, besides rise_delay_steps"
        ),
        (
            "templates",
            "a TOML file of your own layout templates, tried before the shipped ones (configs/layouts/standard.toml)"
        ),
        (
            "margin_outlier_mm",
            "without pulses, a row whose ink begins more than this (mm) left of the rows' median start starts at that median"
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
    /// The calibration pulse's rising and falling edges, if one was seen
    /// at the row's start.
    pub pulse: Option<(f32, f32)>,
    /// The edges of a calibration pulse seen at the row's end.
    pub end_pulse: Option<(f32, f32)>,
    /// Where the signal must stop (before the end pulse), pixels; `None`:
    /// where its time window ends.
    pub x_stop: Option<f32>,
    /// Ink pixels per column away from the baseline (how much the trace
    /// waves; a ruled line or a row of grid fragments hardly does).
    pub waviness: f32,
}

impl Row {
    /// True when a calibration pulse was seen at either end.
    pub fn has_pulse(&self) -> bool {
        self.pulse.is_some() || self.end_pulse.is_some()
    }
}

impl Stage for LayoutDetectConfig {
    fn run(&self, inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
        let mask = inputs.mask("mask")?;
        let grid = inputs.grid("grid")?;
        let image = inputs.image_opt("image");
        let layout = self.detect_at_pulse_scale(
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

    /// [`Self::detect_in`], built again at the calibration pulse's scale
    /// where `calibration_pulse` will replace the grid's with it.
    pub fn detect_at_pulse_scale(
        &self,
        mask: &image::GrayImage,
        image: Option<&image::RgbImage>,
        grid: &GridInfo,
        page_seconds: f32,
        fs: f32,
    ) -> Result<Layout> {
        let mut layout = self.detect_in(mask, image, grid, page_seconds, fs)?;
        let pulse = CalibrationPulseConfig::default();
        let mut used = grid.px_per_mm_x.max(1e-3);
        // the pulse's scale, then the rows' lengths at it
        for _ in 0..2 {
            let scale = pulse.page_scale(mask, &layout, grid);
            if (scale.px_per_mm_x / used - 1.0).abs() <= RESCALE_TOLERANCE {
                break;
            }
            match self.detect_in(mask, image, &scale, page_seconds, fs) {
                Ok(l) => (layout, used) = (l, scale.px_per_mm_x),
                Err(_) => break,
            }
        }
        Ok(layout)
    }

    /// Detects the layout of a page; with the page `image`, pulse edges are
    /// placed from its shading ([`crate::layout::pulse_edge`]). `fs` is the output
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
        // at 50 mm/s a full-width row shows half the page's seconds
        let page_seconds = shown_seconds(page_seconds, grid);
        let library: Vec<LayoutTemplate> = self
            .user_templates
            .iter()
            .chain(templates::standard())
            .cloned()
            .collect();
        let shapes = page_shapes(&rows, mask, grid, page_seconds);
        let by_separators = templates::choose(&library, &shapes);
        let mut layout = layout_for(&rows, grid, page_seconds, mask, by_separators);
        if self.read_labels {
            let read = |l: &Layout| {
                labels::read_panels(l, mask, grid, self.ink_level, self.label_min_score)
            };
            let mut reads = read(&layout);
            let mut best = label_agreement(&layout, &reads);
            // another template whose panels' labels agree clearly better
            for plan in templates::fitting(&library, rows.len()) {
                let same =
                    by_separators.is_some_and(|(t, s)| std::ptr::eq(t, plan.0) && s == plan.1);
                if same {
                    continue;
                }
                let other = layout_for(&rows, grid, page_seconds, mask, Some(plan));
                let other_reads = read(&other);
                let agreement = label_agreement(&other, &other_reads);
                let supported = labels_support(&other, &other_reads)
                    || (best < 0.0 && labels_confirm_rows(&other, &other_reads));
                if agreement > best + LABEL_MARGIN && supported {
                    (layout, reads, best) = (other, other_reads, agreement);
                }
            }
            apply_reads(&mut layout, &reads);
        }
        Ok(layout)
    }

    /// Row baselines with their extents and pulses, top to bottom, from the
    /// mask alone.
    pub fn find_rows(&self, mask: &image::GrayImage, grid: &GridInfo) -> Vec<Row> {
        self.find_rows_in(mask, None, grid, 500.0)
    }
}
