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
//! corner and the mask through the same homography as the image; a photo
//! ([`photo`]) maps them through its full warp (perspective, curl, lens), so
//! the image grows to the photo's frame and a box's four corners are exact
//! while its edges, curved in the photo, are only approximated by the quad.
//!
//! # Lead mask
//! `lead_mask` holds 0 for background and `Lead::index() + 1` (1 = I ... 12 =
//! V6) where a short lead's trace is (pixel centre within half the line width
//! of the centreline), and [`RHYTHM_LABEL`] (13) for a rhythm strip, whatever
//! its lead. Where traces overlap, the lead drawn later wins (rows top to
//! bottom, the rhythm strip last). Calibration pulses, separators and text are
//! ink but not labelled.

pub mod clutter;
pub mod distort;
pub mod grid;
pub mod layout;
pub mod marks;
pub mod photo;
pub mod raster;
pub mod style;
pub mod text;

use crate::truth::{round2, ClutterTruth, LeadTruth, PageTruth, Quad};
use ab_glyph::PxScale;
pub use clutter::Clutter;
use distort::{BwMode, Distortions, Homography};
use ecgdig_core::error::{Error, ErrorClass};
use ecgdig_core::leads::Lead;
use ecgdig_core::record::Record;
use image::{GrayImage, RgbImage};
use raster::Canvas;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use style::{GridRgb, LabelFont, LabelPosition, LeadOrder, PulsePosition};

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
    /// The six limb leads, one row each (a partial page).
    #[serde(rename = "6x1")]
    SixByOneLimb,
    /// The six chest leads, 3 rows x 2 columns (a partial page).
    #[serde(rename = "3x2")]
    ThreeByTwoChest,
}

impl Layout {
    /// Parses `3x4r`, `3x4`, `6x2`, `12x1`, `6x1`, `3x2`.
    pub fn from_name(s: &str) -> Option<Layout> {
        match s.trim().to_ascii_lowercase().as_str() {
            "3x4r" | "3x4+r" | "3x4+1" => Some(Layout::ThreeByFourRhythm),
            "3x4" => Some(Layout::ThreeByFour),
            "6x2" => Some(Layout::SixByTwo),
            "12x1" => Some(Layout::TwelveByOne),
            "6x1" => Some(Layout::SixByOneLimb),
            "3x2" => Some(Layout::ThreeByTwoChest),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Layout::ThreeByFourRhythm => "3x4r",
            Layout::ThreeByFour => "3x4",
            Layout::SixByTwo => "6x2",
            Layout::TwelveByOne => "12x1",
            Layout::SixByOneLimb => "6x1",
            Layout::ThreeByTwoChest => "3x2",
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
    /// 1 mm minor and 5 mm major lines.
    #[default]
    Lines,
    /// Dots at every 1 mm intersection, larger ones every 5 mm.
    Dots,
    /// No grid.
    None,
    /// Dots at the 5 mm intersections only.
    Dots5,
    /// A coarse grid: 5 mm lines only.
    Major,
}

impl GridStyle {
    pub fn from_name(s: &str) -> Option<GridStyle> {
        match s.trim().to_ascii_lowercase().as_str() {
            "lines" => Some(GridStyle::Lines),
            "dots" => Some(GridStyle::Dots),
            "none" => Some(GridStyle::None),
            "dots5" => Some(GridStyle::Dots5),
            "major" | "coarse" => Some(GridStyle::Major),
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
    /// Rhythm strips below the grid, any number and lead (`None`: the
    /// layout's own, `rhythm_lead` for 3x4r and none otherwise).
    pub rhythm_leads: Option<Vec<Lead>>,
    /// Limb lead order (Cabrera prints -aVR).
    pub lead_order: LeadOrder,
    /// Where each row's calibration pulse goes (with `calibration_pulse`).
    pub pulse_position: PulsePosition,
    /// Calibration pulse length, seconds.
    pub pulse_width_s: f64,
    /// Printer scale along x and y: the whole page (grid, traces, text) is
    /// stretched by these factors, so one grid millimetre is `scale` mm.
    pub scale_x: f64,
    pub scale_y: f64,
    /// Where the traces' time origin sits, mm from the left edge.
    pub trace_x0_mm: f64,
    pub label_font: LabelFont,
    /// Lead label em size, mm.
    pub label_size_mm: f32,
    /// Lead labels in upper case (`AVR`).
    pub label_upper: bool,
    pub label_position: LabelPosition,
    /// Explicit grid colours (overrides `grid_color`).
    pub grid_rgb: Option<GridRgb>,
    /// Handwritten-style scribbles and notes.
    pub clutter: Option<Clutter>,
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
            rhythm_leads: None,
            lead_order: LeadOrder::Standard,
            pulse_position: PulsePosition::Start,
            pulse_width_s: 0.2,
            scale_x: 1.0,
            scale_y: 1.0,
            trace_x0_mm: layout::TRACE_X0_MM,
            label_font: LabelFont::Sans,
            label_size_mm: 4.2,
            label_upper: false,
            label_position: LabelPosition::Below,
            grid_rgb: None,
            clutter: None,
        }
    }
}

impl PageSpec {
    /// Pixels per physical millimetre (`dpi / 25.4`).
    pub fn px_per_mm(&self) -> f64 {
        self.dpi as f64 / 25.4
    }
    /// Pixels per grid millimetre along x (the printer's x scale included).
    pub fn px_per_mm_x(&self) -> f64 {
        self.px_per_mm() * self.scale_x
    }
    /// Pixels per grid millimetre along y (the printer's y scale included).
    pub fn px_per_mm_y(&self) -> f64 {
        self.px_per_mm() * self.scale_y
    }
    /// Image size in pixels.
    pub fn size_px(&self) -> (u32, u32) {
        (
            (self.width_mm as f64 * self.px_per_mm_x()).round() as u32,
            (self.height_mm as f64 * self.px_per_mm_y()).round() as u32,
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
        if !((0.5..=2.0).contains(&self.scale_x) && (0.5..=2.0).contains(&self.scale_y)) {
            return bad(format!(
                "printer scale {}x{} is outside 0.5..2",
                self.scale_x, self.scale_y
            ));
        }
        if !(0.02..=1.0).contains(&self.pulse_width_s) {
            return bad(format!(
                "pulse width {} s is outside 0.02..1",
                self.pulse_width_s
            ));
        }
        if !(0.5..=20.0).contains(&self.label_size_mm) || !(0.0..=100.0).contains(&self.trace_x0_mm)
        {
            return bad("label size or trace start out of range".into());
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
    let (ppx, ppy) = (spec.px_per_mm_x(), spec.px_per_mm_y());
    let (w, h) = spec.size_px();
    let bw = distortions.bw.is_some();
    let palette = match spec.grid_rgb {
        Some(g) => grid::Palette {
            paper: [255, 255, 255],
            minor: g.minor,
            major: g.major,
        },
        // A black-and-white printer prints the grid grey.
        None if bw => GridColor::Grey.palette(),
        None => spec.grid_color.palette(),
    };
    let mut image = grid::paper(w, h, (ppx, ppy), palette, spec.grid_style);
    let mut canvas = Canvas::new(w as usize, h as usize);
    let width_px = spec.trace_width_mm as f64 * ppmm;
    let half = width_px / 2.0;
    let mv = spec.gain_mm_per_mv as f64 * ppy;
    let px_per_sample = spec.paper_speed_mm_per_s as f64 * ppx / fs;
    let pulse_scale = marks::PulseScale {
        px_per_sample,
        fs,
        px_per_mv: mv,
        pen_px: width_px,
    };
    let pulses_at = spec.calibration_pulse.then_some(spec.pulse_position);

    let panels = layout::panels(spec, fs, record.n_samples);
    let label_style = marks::LabelStyle {
        font: spec.label_font,
        scale: PxScale {
            x: (spec.label_size_mm * ppx as f32).max(1.0),
            y: (spec.label_size_mm * ppy as f32).max(1.0),
        },
        upper: spec.label_upper,
        position: spec.label_position,
        px_per_mm: (ppx, ppy),
    };
    let mut truths: Vec<marks::DrawnPanel> = Vec::new();
    let mut rows_seen: Vec<usize> = Vec::new();
    for p in &panels {
        let Some(samples) = record.lead(p.lead) else {
            continue;
        };
        let mut pulse_boxes = Vec::new();
        let mut left_limit = p.x_start_px;
        if !rows_seen.contains(&p.row) {
            rows_seen.push(p.row);
            if pulses_at.is_some_and(|at| at.at_start()) {
                let x0 = marks::start_pulse_x0(p.page_x0_px, spec.pulse_width_s, &pulse_scale);
                let b = marks::pulse(
                    &mut canvas,
                    x0,
                    p.baseline_px,
                    spec.pulse_width_s,
                    &pulse_scale,
                );
                pulse_boxes.push(Quad::from_box(b));
                left_limit = x0;
            }
        }
        let sign = if p.inverted { -1.0 } else { 1.0 };
        let pts: Vec<(f64, f64)> = (p.start_sample..p.end_sample)
            .map(|s| {
                let v = samples.get(s).copied().unwrap_or(f32::NAN) as f64;
                let v = if p.inverted { -v } else { v };
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
                    (x, p.baseline_px - 3.0 * ppy),
                    (x, p.baseline_px + 3.0 * ppy),
                ],
                2.0 * width_px,
                0,
            );
        }
        let printed = spec
            .lead_labels
            .then(|| marks::label_text(p.lead, p.inverted, spec.label_upper));
        let text_box = printed
            .as_deref()
            .and_then(|t| marks::label(&mut canvas, t, p, left_limit, &label_style));
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
            printed_name: printed,
            sign: sign as i8,
            row: Some(p.row),
            column: Some(p.column),
            pulse_bounding_boxes: pulse_boxes,
        };
        truths.push((lt, pts, p.baseline_px));
    }
    if pulses_at.is_some_and(|at| at.at_end()) {
        marks::end_pulses(&mut canvas, &mut truths, spec, &pulse_scale);
    }
    let font_px = 4.2 * ppy as f32;
    let note_scale = PxScale {
        x: (4.2 * ppx as f32).max(1.0),
        y: font_px.max(1.0),
    };
    let note = |canvas: &mut Canvas, t: &str, x: f64, y: f64| {
        text::draw_text_with(canvas, t, (x as f32, y as f32), note_scale, LabelFont::Sans);
    };
    let footer_y = (spec.height_mm as f64 - 10.0) * ppy;
    if spec.speed_gain_note {
        let speed = format!("{}mm/s", spec.paper_speed_mm_per_s);
        let gain = format!("{}mm/mV", spec.gain_mm_per_mv);
        note(&mut canvas, &speed, 40.0 * ppx, footer_y);
        note(&mut canvas, &gain, 80.0 * ppx, footer_y);
    }
    if let Some(hdr) = spec.header.as_deref() {
        let lines: Vec<&str> = hdr.split('\n').flat_map(|l| l.split("\\n")).collect();
        for (i, line) in lines.iter().enumerate() {
            let y = (6.0 + 5.5 * i as f64) * ppy;
            note(&mut canvas, line, 10.0 * ppx, y);
        }
    }
    composite(&mut image, &canvas, spec.trace_color);
    let clutter_marks = match &spec.clutter {
        Some(c) => {
            let mut pen = Canvas::new(w as usize, h as usize);
            let m = clutter::draw(&mut pen, c, (ppx, ppy), seed);
            composite(&mut image, &pen, c.pen_color);
            m
        }
        None => Vec::new(),
    };
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
    let hom = if let Some(ph) = &distortions.photo {
        let (img, mask, warp) = photo::apply(&image, &lead_mask, ph, seed)
            .ok_or_else(|| Error::stage("the photo settings define no valid warp"))?;
        image = img;
        lead_mask = mask;
        PageToImage::Photo(warp)
    } else if distortions.is_geometric() {
        let hm = distort::geometry(distortions, w, h, seed);
        let bg = distortions.background.unwrap_or([28, 30, 34]);
        image = distort::warp_rgb(&image, &hm, bg);
        lead_mask = distort::warp_mask(&lead_mask, &hm);
        PageToImage::Flat(hm)
    } else {
        PageToImage::Flat(Homography::identity())
    };
    let map = |x: f64, y: f64| hom.apply(x, y);
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
        .map(|(mut lt, pts, _)| {
            lt.plotted_pixels = pts
                .iter()
                .filter(|q| q.1.is_finite())
                .map(|&(x, y)| {
                    let (u, v) = map(x, y);
                    [round2(v), round2(u)]
                })
                .collect();
            lt.lead_bounding_box = lt.lead_bounding_box.mapped_by(map);
            lt.text_bounding_box = lt.text_bounding_box.map(|q| q.mapped_by(map));
            for q in &mut lt.pulse_bounding_boxes {
                *q = q.mapped_by(map);
            }
            lt
        })
        .collect();
    let rotation = distortions.rotation_degrees.unwrap_or(0.0);
    let rhythm = spec.rhythm_strips();
    let truth = PageTruth {
        sampling_frequency: record.fs,
        width: image.width(),
        height: image.height(),
        resolution: spec.dpi,
        x_grid: round2(5.0 * ppx),
        y_grid: round2(5.0 * ppy),
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
        full_mode_lead: rhythm
            .first()
            .map_or_else(|| "None".to_string(), |l| l.name().to_string()),
        trace_width_px: width_px,
        homography: hom.homography().m,
        px_per_mm_x: ppx,
        px_per_mm_y: ppy,
        px_per_s: spec.paper_speed_mm_per_s as f64 * ppx,
        px_per_mv: mv,
        scale_x: spec.scale_x,
        scale_y: spec.scale_y,
        physical_speed_mm_per_s: spec.paper_speed_mm_per_s as f64 * spec.scale_x,
        physical_gain_mm_per_mv: spec.gain_mm_per_mv as f64 * spec.scale_y,
        page_seconds: spec.page_seconds,
        pulse_position: pulses_at,
        pulse_width_s: spec.pulse_width_s,
        lead_order: spec.lead_order,
        rhythm_leads: rhythm,
        label_font: spec.label_font,
        label_size_mm: spec.label_size_mm,
        label_upper: spec.label_upper,
        label_position: spec.label_position,
        grid_rgb: spec.grid_rgb,
        clutter: clutter_marks
            .into_iter()
            .map(|m| ClutterTruth {
                kind: m.kind.to_string(),
                text: m.text,
                bounding_box: Quad::from_box(m.bbox).mapped_by(map),
            })
            .collect(),
        leads,
    };
    Ok(RenderedPage {
        image,
        truth,
        lead_mask,
        jpeg,
    })
}

/// Where a page point lands in the final image.
enum PageToImage {
    /// A flat page through a homography (identity without distortion).
    Flat(Homography),
    Photo(photo::PhotoWarp),
}

impl PageToImage {
    fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        match self {
            PageToImage::Flat(h) => h.apply(x, y),
            PageToImage::Photo(w) => w.forward(x, y),
        }
    }
    /// The projective part (all of it for a flat page).
    fn homography(&self) -> Homography {
        match self {
            PageToImage::Flat(h) => *h,
            PageToImage::Photo(w) => w.homography,
        }
    }
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
