//! Renders 10 s of a [`Record`] as a printed ECG page with exact ground truth.
//!
//! Input: a record (mV), a [`PageSpec`] (layout, resolution, paper speed,
//! gain, grid, trace, labels, header), [`Distortions`] and a seed. Output: a
//! [`RenderedPage`]: the RGB image, its [`PageTruth`] (ecg-image-kit
//! compatible JSON) and a per-lead label mask.
//!
//! # Pixel convention
//! Pixel centres sit on integer coordinates: pixel `(col, row)` covers
//! `[col-0.5, col+0.5) x [row-0.5, row+0.5)`, and the page's millimetre origin
//! is the centre of pixel (0, 0). Before distortions, sample `s` of a panel is
//! drawn (and annotated) at
//!
//! ```text
//! x = x0 + (s - page_start) / fs * speed_mm_per_s * px_per_mm
//! y = baseline - v_mV * gain_mm_per_mV * px_per_mm
//! ```
//!
//! with `x0 = 15 mm * px_per_mm` and `px_per_mm = dpi / 25.4`. The trace is
//! the anti-aliased union of capsules around the straight segments between
//! consecutive samples (see [`raster`]), so its centreline is exactly the
//! annotated path. Geometric distortions map every annotated point, box
//! corner and the mask through the same homography as the image.
//!
//! # Lead mask
//! `lead_mask` holds 0 for background and `Lead::index() + 1` (1 = I ... 12 =
//! V6) where a short lead's trace is (pixel centre within half the line width
//! of the centreline), and [`RHYTHM_LABEL`] (13) for a rhythm strip, whatever
//! its lead. Where traces overlap, the lead drawn later wins (rows top to
//! bottom, the rhythm strip last). Calibration pulses, separators and text are
//! ink but not labelled.

pub mod distort;
pub mod grid;
pub mod layout;
pub mod raster;
pub mod text;

use crate::truth::{round2, LeadTruth, PageTruth, Quad};
use distort::{BwMode, Distortions, Homography};
use ecgdig_core::error::{Error, ErrorClass};
use ecgdig_core::leads::Lead;
use ecgdig_core::record::Record;
use image::{GrayImage, RgbImage};
use layout::Panel;
use raster::Canvas;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Mask label of a rhythm strip.
pub const RHYTHM_LABEL: u8 = 13;

/// Page layouts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// 3 rows x 4 columns of 2.5 s plus a 10 s rhythm strip.
    #[default]
    #[serde(rename = "3x4r")]
    ThreeByFourRhythm,
    /// 3 rows x 4 columns of 2.5 s.
    #[serde(rename = "3x4")]
    ThreeByFour,
    /// 6 rows x 2 columns of 5 s.
    #[serde(rename = "6x2")]
    SixByTwo,
    /// 12 rows of 10 s.
    #[serde(rename = "12x1")]
    TwelveByOne,
}

impl Layout {
    /// Parses `3x4r`, `3x4`, `6x2`, `12x1`.
    pub fn from_name(s: &str) -> Option<Layout> {
        match s.trim().to_ascii_lowercase().as_str() {
            "3x4r" | "3x4+r" | "3x4+1" => Some(Layout::ThreeByFourRhythm),
            "3x4" => Some(Layout::ThreeByFour),
            "6x2" => Some(Layout::SixByTwo),
            "12x1" => Some(Layout::TwelveByOne),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Layout::ThreeByFourRhythm => "3x4r",
            Layout::ThreeByFour => "3x4",
            Layout::SixByTwo => "6x2",
            Layout::TwelveByOne => "12x1",
        }
    }
}

/// Grid colours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridColor {
    #[default]
    Red,
    Pink,
    Green,
    Blue,
    Grey,
    Black,
}

impl GridColor {
    pub const ALL: [GridColor; 6] = [
        GridColor::Red,
        GridColor::Pink,
        GridColor::Green,
        GridColor::Blue,
        GridColor::Grey,
        GridColor::Black,
    ];
    pub fn from_name(s: &str) -> Option<GridColor> {
        match s.trim().to_ascii_lowercase().as_str() {
            "red" => Some(GridColor::Red),
            "pink" => Some(GridColor::Pink),
            "green" => Some(GridColor::Green),
            "blue" => Some(GridColor::Blue),
            "grey" | "gray" => Some(GridColor::Grey),
            "black" => Some(GridColor::Black),
            _ => None,
        }
    }
}

/// Grid styles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridStyle {
    #[default]
    Lines,
    Dots,
    None,
}

impl GridStyle {
    pub fn from_name(s: &str) -> Option<GridStyle> {
        match s.trim().to_ascii_lowercase().as_str() {
            "lines" => Some(GridStyle::Lines),
            "dots" => Some(GridStyle::Dots),
            "none" => Some(GridStyle::None),
            _ => None,
        }
    }
}

/// What to print and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PageSpec {
    pub layout: Layout,
    /// Lead of the rhythm strip (3x4r only).
    pub rhythm_lead: Lead,
    /// Resolution, dots per inch (50..1200; 100..600 is the tested range).
    pub dpi: f32,
    /// Paper size, mm (default US letter, landscape: 2200x1700 px at 200 dpi).
    pub width_mm: f32,
    pub height_mm: f32,
    pub paper_speed_mm_per_s: f32,
    pub gain_mm_per_mv: f32,
    /// Seconds of record on the page.
    pub page_seconds: f32,
    /// First sample of the page in the record.
    pub start_sample: usize,
    pub grid_color: GridColor,
    pub grid_style: GridStyle,
    /// Trace (and text) ink colour.
    pub trace_color: [u8; 3],
    /// Trace line width, mm (0.35 mm ~ 2.8 px at 200 dpi, like ecg-image-kit).
    pub trace_width_mm: f32,
    pub calibration_pulse: bool,
    /// Short vertical bars where a row's lead changes.
    pub separators: bool,
    pub lead_labels: bool,
    /// "25mm/s  10mm/mV" at the bottom.
    pub speed_gain_note: bool,
    /// Header text printed at the top; `\n` separates lines.
    pub header: Option<String>,
}

impl Default for PageSpec {
    fn default() -> Self {
        Self {
            layout: Layout::ThreeByFourRhythm,
            rhythm_lead: Lead::II,
            dpi: 200.0,
            width_mm: 279.4,
            height_mm: 215.9,
            paper_speed_mm_per_s: 25.0,
            gain_mm_per_mv: 10.0,
            page_seconds: 10.0,
            start_sample: 0,
            grid_color: GridColor::Red,
            grid_style: GridStyle::Lines,
            trace_color: [25, 25, 25],
            trace_width_mm: 0.35,
            calibration_pulse: true,
            separators: true,
            lead_labels: true,
            speed_gain_note: true,
            header: None,
        }
    }
}

impl PageSpec {
    pub fn px_per_mm(&self) -> f64 {
        self.dpi as f64 / 25.4
    }
    /// Image size in pixels.
    pub fn size_px(&self) -> (u32, u32) {
        let p = self.px_per_mm();
        (
            (self.width_mm as f64 * p).round() as u32,
            (self.height_mm as f64 * p).round() as u32,
        )
    }
    fn validate(&self) -> Result<(), Error> {
        let bad = |m: String| Err(Error::new(ErrorClass::Stage, m));
        if !(50.0..=1200.0).contains(&self.dpi) {
            return bad(format!("dpi {} is outside 50..1200", self.dpi));
        }
        if !(self.paper_speed_mm_per_s > 0.0
            && self.gain_mm_per_mv > 0.0
            && self.page_seconds > 0.0)
        {
            return bad("paper speed, gain and page seconds must be positive".into());
        }
        if !(self.width_mm >= 50.0
            && self.height_mm >= 50.0
            && self.width_mm <= 2000.0
            && self.height_mm <= 2000.0)
        {
            return bad(format!(
                "page size {}x{} mm is out of range",
                self.width_mm, self.height_mm
            ));
        }
        Ok(())
    }
}

/// A rendered page with its ground truth.
#[derive(Clone, Debug)]
pub struct RenderedPage {
    pub image: RgbImage,
    pub truth: PageTruth,
    /// Per-lead labels; see the module docs.
    pub lead_mask: GrayImage,
    /// The JPEG bytes when a JPEG round trip was applied (what `image` decodes from).
    pub jpeg: Option<Vec<u8>>,
}

/// Renders 10 s of `record` from `spec.start_sample`.
pub fn render_page(
    record: &Record,
    spec: &PageSpec,
    distortions: &Distortions,
    seed: u64,
) -> Result<RenderedPage, Error> {
    spec.validate()?;
    let fs = record.fs as f64;
    if fs.is_nan() || fs <= 0.0 {
        return Err(Error::stage(format!(
            "record `{}` has no valid sampling rate",
            record.name
        )));
    }
    if spec.start_sample >= record.n_samples {
        return Err(Error::stage(format!(
            "page start sample {} is past the end of record `{}` ({} samples)",
            spec.start_sample, record.name, record.n_samples
        )));
    }
    let ppmm = spec.px_per_mm();
    let (w, h) = spec.size_px();
    let bw = distortions.bw.is_some();
    let palette = if bw {
        // A black-and-white printer prints the grid grey.
        GridColor::Grey.palette()
    } else {
        spec.grid_color.palette()
    };
    let mut image = grid::paper(w, h, ppmm, palette, spec.grid_style);
    let mut canvas = Canvas::new(w as usize, h as usize);
    let width_px = spec.trace_width_mm as f64 * ppmm;
    let half = width_px / 2.0;
    let mv = spec.gain_mm_per_mv as f64 * ppmm;
    let px_per_sample = spec.paper_speed_mm_per_s as f64 * ppmm / fs;

    let panels = layout::panels(spec, fs, record.n_samples);
    let font_px = 4.2 * ppmm as f32;
    let mut truths: Vec<(LeadTruth, Vec<(f64, f64)>)> = Vec::new();
    let mut rows_seen: Vec<f64> = Vec::new();
    for p in &panels {
        let Some(samples) = record.lead(p.lead) else {
            continue;
        };
        if !rows_seen.contains(&p.baseline_px) {
            rows_seen.push(p.baseline_px);
            if spec.calibration_pulse {
                calibration_pulse(&mut canvas, p, (px_per_sample, fs), mv, width_px);
            }
        }
        let pts: Vec<(f64, f64)> = (p.start_sample..p.end_sample)
            .map(|s| {
                let v = samples.get(s).copied().unwrap_or(f32::NAN) as f64;
                let x = p.page_x0_px + (s - spec.start_sample) as f64 * px_per_sample;
                (x, p.baseline_px - v * mv)
            })
            .collect();
        let label = if p.rhythm {
            RHYTHM_LABEL
        } else {
            p.lead.index() as u8 + 1
        };
        canvas.polyline(&pts, width_px, label);
        if spec.separators && p.column > 0 {
            let x = p.x_start_px;
            canvas.polyline(
                &[
                    (x, p.baseline_px - 3.0 * ppmm),
                    (x, p.baseline_px + 3.0 * ppmm),
                ],
                2.0 * width_px,
                0,
            );
        }
        let text_box = if spec.lead_labels {
            let tx = p.x_start_px + 0.5 * ppmm;
            let ty = p.baseline_px + 3.5 * ppmm;
            text::draw_text(&mut canvas, p.lead.name(), tx as f32, ty as f32, font_px)
                .map(|(x0, y0, x1, y1)| (x0 as f64, y0 as f64, x1 as f64, y1 as f64))
        } else {
            None
        };
        let finite: Vec<&(f64, f64)> = pts.iter().filter(|q| q.1.is_finite()).collect();
        let (ymin, ymax) = finite
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), q| (a.min(q.1), b.max(q.1)));
        let (ymin, ymax) = if finite.is_empty() {
            (p.baseline_px, p.baseline_px)
        } else {
            (ymin, ymax)
        };
        let x_last = p.page_x0_px + (p.end_sample - 1 - spec.start_sample) as f64 * px_per_sample;
        let lead_box = (p.x_start_px, ymin - half, x_last, ymax + half);
        let lt = LeadTruth {
            lead_name: p.lead,
            start_sample: p.start_sample,
            end_sample: p.end_sample,
            lead_bounding_box: Quad::from_box(lead_box),
            text_bounding_box: text_box.map(Quad::from_box),
            plotted_pixels: Vec::new(),
            rhythm: p.rhythm,
        };
        truths.push((lt, pts));
    }
    let footer_y = (spec.height_mm as f64 - 10.0) * ppmm;
    if spec.speed_gain_note {
        let speed = format!("{}mm/s", spec.paper_speed_mm_per_s);
        let gain = format!("{}mm/mV", spec.gain_mm_per_mv);
        text::draw_text(
            &mut canvas,
            &speed,
            (40.0 * ppmm) as f32,
            footer_y as f32,
            font_px,
        );
        text::draw_text(
            &mut canvas,
            &gain,
            (80.0 * ppmm) as f32,
            footer_y as f32,
            font_px,
        );
    }
    if let Some(hdr) = spec.header.as_deref() {
        let lines: Vec<&str> = hdr.split('\n').flat_map(|l| l.split("\\n")).collect();
        for (i, line) in lines.iter().enumerate() {
            let y = (6.0 + 5.5 * i as f64) * ppmm;
            text::draw_text(&mut canvas, line, (10.0 * ppmm) as f32, y as f32, font_px);
        }
    }
    composite(&mut image, &canvas, spec.trace_color);
    let mut lead_mask =
        GrayImage::from_raw(w, h, canvas.label).unwrap_or_else(|| GrayImage::new(w, h));

    // Paper effects.
    if let Some(s) = distortions.wrinkles.filter(|s| *s > 0.0) {
        distort::wrinkles(&mut image, s, seed);
    }
    if let Some(n) = distortions.creases.filter(|n| *n > 0) {
        distort::creases(&mut image, n, seed);
    }
    if let Some(mode) = distortions.bw {
        distort::bw_print(&mut image, mode);
    }
    // Geometry.
    let hom = if distortions.is_geometric() {
        let hm = distort::geometry(distortions, w, h, seed);
        let bg = distortions.background.unwrap_or([28, 30, 34]);
        image = distort::warp_rgb(&image, &hm, bg);
        lead_mask = distort::warp_mask(&lead_mask, &hm);
        hm
    } else {
        Homography::identity()
    };
    // Camera and file.
    if let Some(s) = distortions.shadows.filter(|s| *s > 0.0) {
        distort::shadows(&mut image, s, seed);
    }
    if let Some(t) = distortions.tint {
        distort::tint(&mut image, t);
    }
    if let Some(s) = distortions.blur_sigma_px.filter(|s| *s > 0.0) {
        image = distort::blur(&image, s);
    }
    if let Some(s) = distortions.noise_sigma.filter(|s| *s > 0.0) {
        distort::noise(&mut image, s, seed);
    }
    if distortions.bw == Some(BwMode::Grey) && distortions.tint.is_none() {
        // Keep a grey print grey after colour noise.
        distort::bw_print(&mut image, BwMode::Grey);
    }
    let mut jpeg = None;
    if let Some(q) = distortions.jpeg_quality {
        let (img, bytes) = distort::jpeg_round_trip(&image, q)
            .map_err(|e| Error::new(ErrorClass::Output, format!("JPEG encoding failed: {e}")))?;
        image = img;
        jpeg = Some(bytes);
    }

    let leads: Vec<LeadTruth> = truths
        .into_par_iter()
        .map(|(mut lt, pts)| {
            lt.plotted_pixels = pts
                .iter()
                .filter(|q| q.1.is_finite())
                .map(|&(x, y)| {
                    let (u, v) = hom.apply(x, y);
                    [round2(v), round2(u)]
                })
                .collect();
            lt.lead_bounding_box = lt.lead_bounding_box.mapped(&hom);
            lt.text_bounding_box = lt.text_bounding_box.map(|q| q.mapped(&hom));
            lt
        })
        .collect();
    let rotation = distortions.rotation_degrees.unwrap_or(0.0);
    let truth = PageTruth {
        sampling_frequency: record.fs,
        width: w,
        height: h,
        resolution: spec.dpi,
        x_grid: round2(5.0 * ppmm),
        y_grid: round2(5.0 * ppmm),
        rotate: rotation.abs(),
        layout: spec.layout,
        px_per_mm: ppmm,
        paper_speed_mm_per_s: spec.paper_speed_mm_per_s,
        gain_mm_per_mv: spec.gain_mm_per_mv,
        rotation_degrees: rotation,
        distortions: distortions.clone(),
        seed,
        record_name: record.name.clone(),
        page_start_sample: spec.start_sample,
        dc_pulse: spec.calibration_pulse,
        bw,
        gridlines: spec.grid_style != GridStyle::None,
        grid_color: spec.grid_color,
        grid_style: spec.grid_style,
        printed_text: spec.header.is_some(),
        number_of_columns_in_image: spec.layout.columns(),
        full_mode_lead: if spec.layout == Layout::ThreeByFourRhythm {
            spec.rhythm_lead.name().to_string()
        } else {
            "None".to_string()
        },
        trace_width_px: width_px,
        homography: hom.m,
        leads,
    };
    Ok(RenderedPage {
        image,
        truth,
        lead_mask,
        jpeg,
    })
}

/// The 1 mV x 0.2 s pulse left of a row's first trace (x 10..15 mm), drawn
/// as ecg-image-kit draws it: a polyline through samples of the record's
/// rate valued `0, 0, 1, ..., 1, 0, 0` from 0.2 s before the signal starts
/// (so it rises between its second and third samples, 1.5 steps into the
/// pulse, and falls 1.5 steps after the signal's start), with a pen half
/// as wide again as the trace's.
fn calibration_pulse(
    canvas: &mut Canvas,
    p: &Panel,
    (px_per_sample, fs): (f64, f64),
    mv: f64,
    width_px: f64,
) {
    let b = p.baseline_px;
    let x0 = p.page_x0_px - 0.2 * fs * px_per_sample;
    let n = (0.2 * fs).round() as usize + 4;
    let pts: Vec<(f64, f64)> = (0..n)
        .map(|k| {
            let up = k >= 2 && k + 2 < n;
            (x0 + k as f64 * px_per_sample, if up { b - mv } else { b })
        })
        .collect();
    canvas.polyline(&pts, 1.5 * width_px, 0);
}

/// Blends ink of one colour over the page.
fn composite(image: &mut RgbImage, canvas: &Canvas, ink: [u8; 3]) {
    let w = canvas.width;
    let ink = ink.map(|v| v as f32);
    image
        .par_chunks_mut(w * 3)
        .zip(canvas.ink.par_chunks(w))
        .for_each(|(row, cov)| {
            for (px, a) in row.chunks_exact_mut(3).zip(cov) {
                if *a <= 0.0 {
                    continue;
                }
                for (c, k) in px.iter_mut().zip(ink) {
                    *c = (*c as f32 * (1.0 - a) + k * a).round() as u8;
                }
            }
        });
}
