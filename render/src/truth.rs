//! Ground truth of a rendered page, as JSON compatible with ecg-image-kit.
//!
//! The schema is a superset of ecg-image-kit's annotation file, so that
//! ecg-image-kit tooling (and `ecg_score.py`) reads ours unchanged and
//! [`PageTruth::from_json`] also reads ecg-image-kit's files (our extra fields
//! default when absent). Shared fields: `sampling_frequency`, `width`,
//! `height`, `resolution` (dpi), `x_grid` / `y_grid` (pixels per 5 mm),
//! `rotate` (absolute angle, degrees), `dc_pulse`, `bw`, `gridlines`,
//! `printed_text`, `number_of_columns_in_image`, `full_mode_lead`, and
//! `leads[]` with `lead_name`, `start_sample` / `end_sample` (absolute sample
//! window `[start, end)` into the record), `lead_bounding_box` and
//! `text_bounding_box` (corners `"0"`..`"3"` = top-left, top-right,
//! bottom-right, bottom-left of the unrotated box, each `[row, col]`) and
//! `plotted_pixels` (one `[row, col]` per plotted sample, final image
//! coordinates, 2 decimals; NaN samples are not plotted and not listed).
//!
//! Extras: `layout`, `px_per_mm`, `paper_speed_mm_per_s`, `gain_mm_per_mv`,
//! `rotation_degrees` (signed, clockwise positive), `distortions`, `seed`,
//! `record_name`, `page_start_sample`, `grid_color`, `grid_style`,
//! `trace_width_px`, `homography` (page to image, row-major `[x, y, 1]`) and
//! per lead `rhythm`. A photo page (`distortions.photo`) is a larger frame
//! (`width`, `height`) and its page-to-image map also bends (curl, lens):
//! `plotted_pixels` and every box corner go through that full map (the box
//! edges between the corners are curved in the photo, so a quad only
//! approximates them, by at most a few pixels), while `homography` holds its
//! projective part only.
//!
//! Printout conventions (all optional when reading): page scales
//! `px_per_mm_x` / `px_per_mm_y` (pixels per grid millimetre), `px_per_s`,
//! `px_per_mv`, the printer's `scale_x` / `scale_y` and the resulting
//! `physical_speed_mm_per_s` / `physical_gain_mm_per_mv` (e.g. 25.4 mm/s and
//! 9.45 mm/mV), `page_seconds`, `pulse_position` (`start`, `end`, `both`;
//! absent without pulses), `pulse_width_s`, `lead_order` (`standard`,
//! `cabrera`), `rhythm_leads`, `label_font`, `label_size_mm`, `label_upper`,
//! `label_position` (`below`, `above`, `left`), `grid_rgb` (`minor`, `major`)
//! and `clutter[]` (`kind` = `scribble` / `note`, `text`, `bounding_box`).
//! Per lead: `printed_name` (the label as printed, e.g. `-AVR`; absent
//! without labels), `sign` (-1 when the panel shows the lead inverted:
//! `lead_name` and the sample window name the recorded lead, the trace shows
//! `sign` times it), `row` / `column` (position in the layout, rhythm strips
//! are rows below the grid) and `pulse_bounding_boxes` (the centreline
//! rectangle of each calibration pulse of the panel's row drawn next to it:
//! the first panel of a row holds the start pulse, the last the end pulse).

use crate::page::distort::{Distortions, Homography};
use crate::page::style::{GridRgb, LabelFont, LabelPosition, LeadOrder, PulsePosition};
use crate::page::{GridColor, GridStyle, Layout};
use ecgdig_core::artifact::{LeadSignal, Signals};
use ecgdig_core::leads::Lead;
use ecgdig_core::record::Record;
use serde::{Deserialize, Serialize};

/// Rounds to 2 decimals (the precision ecg-image-kit writes).
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Four corners, each `[row, col]`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quad {
    #[serde(rename = "0")]
    pub c0: [f64; 2],
    #[serde(rename = "1")]
    pub c1: [f64; 2],
    #[serde(rename = "2")]
    pub c2: [f64; 2],
    #[serde(rename = "3")]
    pub c3: [f64; 2],
}

impl Quad {
    /// From an axis-aligned box `(x0, y0, x1, y1)` in pixels.
    pub fn from_box((x0, y0, x1, y1): (f64, f64, f64, f64)) -> Quad {
        Quad {
            c0: [y0, x0],
            c1: [y0, x1],
            c2: [y1, x1],
            c3: [y1, x0],
        }
    }
    /// Each corner through a page-to-image homography, rounded to 2 decimals.
    pub fn mapped(&self, h: &Homography) -> Quad {
        self.mapped_by(|x, y| h.apply(x, y))
    }
    /// Each corner through a page-to-image map `(x, y) -> (x', y')`,
    /// rounded to 2 decimals.
    pub fn mapped_by(&self, map: impl Fn(f64, f64) -> (f64, f64)) -> Quad {
        let f = |c: [f64; 2]| {
            let (x, y) = map(c[1], c[0]);
            [round2(y), round2(x)]
        };
        Quad {
            c0: f(self.c0),
            c1: f(self.c1),
            c2: f(self.c2),
            c3: f(self.c3),
        }
    }
    pub fn corners(&self) -> [[f64; 2]; 4] {
        [self.c0, self.c1, self.c2, self.c3]
    }
}

/// One plotted lead window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeadTruth {
    pub lead_name: Lead,
    pub start_sample: usize,
    pub end_sample: usize,
    pub lead_bounding_box: Quad,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_bounding_box: Option<Quad>,
    /// `[row, col]` per plotted sample.
    #[serde(default)]
    pub plotted_pixels: Vec<[f64; 2]>,
    /// True for a full-width rhythm strip.
    #[serde(default)]
    pub rhythm: bool,
    /// The lead label as printed (`-aVR`, `AVR`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printed_name: Option<String>,
    /// 1, or -1 when the panel shows `-lead_name`.
    #[serde(default = "plus_one")]
    pub sign: i8,
    /// Row of the layout (rhythm strips below the grid rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// Column of the layout (0 for a rhythm strip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Calibration pulses drawn next to this panel (see the module docs).
    #[serde(default)]
    pub pulse_bounding_boxes: Vec<Quad>,
}

fn plus_one() -> i8 {
    1
}

fn one() -> f64 {
    1.0
}

/// A handwritten-style mark on the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClutterTruth {
    /// `scribble` or `note`.
    pub kind: String,
    /// A note's text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    pub bounding_box: Quad,
}

fn default_fullmode() -> String {
    "None".to_string()
}

/// Everything known about a rendered page. See the module docs for the schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageTruth {
    pub sampling_frequency: f32,
    pub width: u32,
    pub height: u32,
    /// Dots per inch.
    pub resolution: f32,
    /// Pixels per 5 mm, horizontally and vertically.
    pub x_grid: f64,
    pub y_grid: f64,
    /// Absolute rotation, degrees.
    #[serde(default)]
    pub rotate: f32,
    #[serde(default)]
    pub dc_pulse: bool,
    #[serde(default)]
    pub bw: bool,
    #[serde(default)]
    pub gridlines: bool,
    #[serde(default)]
    pub printed_text: bool,
    #[serde(default)]
    pub number_of_columns_in_image: usize,
    #[serde(default = "default_fullmode")]
    pub full_mode_lead: String,
    // --- ecgdig extras ---
    #[serde(default)]
    pub layout: Layout,
    #[serde(default)]
    pub px_per_mm: f64,
    #[serde(default)]
    pub paper_speed_mm_per_s: f32,
    #[serde(default)]
    pub gain_mm_per_mv: f32,
    /// Signed rotation, degrees, clockwise positive.
    #[serde(default)]
    pub rotation_degrees: f32,
    #[serde(default)]
    pub distortions: Distortions,
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub record_name: String,
    /// First record sample of the page.
    #[serde(default)]
    pub page_start_sample: usize,
    #[serde(default)]
    pub grid_color: GridColor,
    #[serde(default)]
    pub grid_style: GridStyle,
    #[serde(default)]
    pub trace_width_px: f64,
    /// Page-to-image homography (identity without geometric distortion; a
    /// photo's projective part only).
    #[serde(default = "identity")]
    pub homography: [[f64; 3]; 3],
    /// Pixels per grid millimetre along x and y (before distortions).
    #[serde(default)]
    pub px_per_mm_x: f64,
    #[serde(default)]
    pub px_per_mm_y: f64,
    /// Pixels per second of signal along x and per mV along y.
    #[serde(default)]
    pub px_per_s: f64,
    #[serde(default)]
    pub px_per_mv: f64,
    /// The printer's scale factors (one grid mm is `scale` physical mm).
    #[serde(default = "one")]
    pub scale_x: f64,
    #[serde(default = "one")]
    pub scale_y: f64,
    /// Paper speed and gain in physical millimetres (with the printer scale).
    #[serde(default)]
    pub physical_speed_mm_per_s: f64,
    #[serde(default)]
    pub physical_gain_mm_per_mv: f64,
    /// Seconds of record on the page.
    #[serde(default)]
    pub page_seconds: f32,
    /// Where calibration pulses are (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pulse_position: Option<PulsePosition>,
    #[serde(default)]
    pub pulse_width_s: f64,
    #[serde(default)]
    pub lead_order: LeadOrder,
    /// Rhythm strip leads, top to bottom.
    #[serde(default)]
    pub rhythm_leads: Vec<Lead>,
    #[serde(default)]
    pub label_font: LabelFont,
    #[serde(default)]
    pub label_size_mm: f32,
    #[serde(default)]
    pub label_upper: bool,
    #[serde(default)]
    pub label_position: LabelPosition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_rgb: Option<GridRgb>,
    /// Handwritten-style marks.
    #[serde(default)]
    pub clutter: Vec<ClutterTruth>,
    pub leads: Vec<LeadTruth>,
}

fn identity() -> [[f64; 3]; 3] {
    Homography::identity().m
}

impl PageTruth {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
    pub fn from_json(text: &str) -> Result<PageTruth, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    /// The page's samples of `record` as page signals: what a perfect
    /// digitizer outputs (page timeline of `round(10 s * fs)` samples from the
    /// first plotted sample; a lead plotted twice keeps its longest window).
    pub fn page_signals(&self, record: &Record) -> Signals {
        let fs = record.fs;
        let base = self
            .leads
            .iter()
            .map(|l| l.start_sample)
            .min()
            .unwrap_or(self.page_start_sample);
        let n = (10.0 * fs).round() as usize;
        let mut s = Signals::empty(fs, n);
        for lt in &self.leads {
            let Some(src) = record.lead(lt.lead_name) else {
                continue;
            };
            let len = lt.end_sample.saturating_sub(lt.start_sample);
            if s.lead(lt.lead_name).is_some_and(|e| e.samples.len() >= len) {
                continue;
            }
            let end = lt.end_sample.min(src.len());
            let samples = src.get(lt.start_sample..end).unwrap_or(&[]).to_vec();
            s.set(
                lt.lead_name,
                LeadSignal {
                    start: lt.start_sample - base,
                    samples,
                    confidence: 1.0,
                },
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_ecg_image_kit_file_when_present() {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data/dev/clean/A0001-0.json");
        let Ok(text) = std::fs::read_to_string(&p) else {
            eprintln!("skipping: {} not found", p.display());
            return;
        };
        let t = PageTruth::from_json(&text).expect("ecg-image-kit JSON parses");
        assert_eq!(t.leads.len(), 13);
        assert_eq!((t.width, t.height), (2200, 1700));
        assert_eq!(t.leads[0].plotted_pixels.len(), 1250);
        assert_eq!(t.full_mode_lead, "II");
    }

    #[test]
    fn quad_corner_order_matches_ecg_image_kit() {
        let q = Quad::from_box((10.0, 20.0, 30.0, 40.0));
        let j = serde_json::to_string(&q).unwrap();
        assert_eq!(
            j,
            r#"{"0":[20.0,10.0],"1":[20.0,30.0],"2":[40.0,30.0],"3":[40.0,10.0]}"#
        );
    }
}
