//! Artifacts: the typed values that flow along the edges of a pipeline.
//!
//! Every stage output is one [`Artifact`]. Each variant has a field-less
//! [`ArtifactKind`], so that the config loader can check that a stage's input
//! port receives the kind it expects *before* any image is processed.
//!
//! Coordinates are always image pixels of the image the artifact refers to:
//! `x` grows to the right, `y` grows downwards, and pixel centres sit on
//! integer coordinates.

use crate::leads::{Lead, N_LEADS};
use crate::warp::PageWarp;
use image::{GrayImage, RgbImage};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The kind of an artifact, used to type-check ports at load time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    Image,
    Mask,
    Grid,
    Layout,
    Traces,
    Signals,
    Templates,
}

impl ArtifactKind {
    pub fn name(self) -> &'static str {
        match self {
            ArtifactKind::Image => "image",
            ArtifactKind::Mask => "mask",
            ArtifactKind::Grid => "grid",
            ArtifactKind::Layout => "layout",
            ArtifactKind::Traces => "traces",
            ArtifactKind::Signals => "signals",
            ArtifactKind::Templates => "templates",
        }
    }
}

impl fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A value passed between stages. Cheap to clone (reference counted).
#[derive(Clone, Debug)]
pub enum Artifact {
    Image(Arc<PageImage>),
    Mask(Arc<TraceMask>),
    Grid(Arc<GridInfo>),
    Layout(Arc<Layout>),
    Traces(Arc<Traces>),
    Signals(Arc<Signals>),
    Templates(Arc<Templates>),
}

impl Artifact {
    pub fn kind(&self) -> ArtifactKind {
        match self {
            Artifact::Image(_) => ArtifactKind::Image,
            Artifact::Mask(_) => ArtifactKind::Mask,
            Artifact::Grid(_) => ArtifactKind::Grid,
            Artifact::Layout(_) => ArtifactKind::Layout,
            Artifact::Traces(_) => ArtifactKind::Traces,
            Artifact::Signals(_) => ArtifactKind::Signals,
            Artifact::Templates(_) => ArtifactKind::Templates,
        }
    }
}

macro_rules! artifact_from {
    ($($variant:ident => $ty:ty),* $(,)?) => {
        $(
            impl From<$ty> for Artifact {
                fn from(v: $ty) -> Self { Artifact::$variant(Arc::new(v)) }
            }
            impl From<Arc<$ty>> for Artifact {
                fn from(v: Arc<$ty>) -> Self { Artifact::$variant(v) }
            }
        )*
    };
}
artifact_from!(
    Image => PageImage,
    Mask => TraceMask,
    Grid => GridInfo,
    Layout => Layout,
    Traces => Traces,
    Signals => Signals,
    Templates => Templates,
);

/// A decoded page, always 8-bit RGB.
#[derive(Clone, Debug)]
pub struct PageImage {
    pub rgb: RgbImage,
    /// Resolution from the file's metadata, if it had one.
    pub dpi: Option<f32>,
    /// Geometric history: how this image's pixels map back to the original
    /// input. For a rectified photo this is the projective part only (the
    /// sheet's homography and any later steps); [`PageImage::to_original`]
    /// adds the rest.
    pub transform: PageTransform,
    /// The non-projective part of the map back, when the page was
    /// rectified through a mesh (`dewarp`); None for a scan.
    pub warp: Option<PageWarp>,
}

impl PageImage {
    pub fn new(rgb: RgbImage) -> Self {
        Self {
            rgb,
            dpi: None,
            transform: PageTransform::identity(),
            warp: None,
        }
    }

    /// A new image made from this one: `rgb`, whose pixels map into this
    /// image's through `to_self`. The geometric history (matrix and warp)
    /// is carried over.
    pub fn derive(&self, rgb: RgbImage, to_self: PageTransform) -> Self {
        Self {
            rgb,
            dpi: self.dpi,
            transform: to_self.then(&self.transform),
            warp: self.warp.as_ref().map(|w| w.behind(&to_self)),
        }
    }

    /// Maps a point of this image to the original input, through the whole
    /// geometric history (the warp's mesh included).
    pub fn to_original(&self, x: f64, y: f64) -> (f64, f64) {
        match &self.warp {
            Some(w) => w.apply(x, y),
            None => self.transform.apply(x, y),
        }
    }

    pub fn width(&self) -> u32 {
        self.rgb.width()
    }
    pub fn height(&self) -> u32 {
        self.rgb.height()
    }
}

/// A 3x3 projective transform from *this* image's pixel coordinates back to the
/// original input's pixel coordinates (row-major, `[x', y', w'] = H [x, y, 1]`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageTransform {
    pub to_original: [[f64; 3]; 3],
}

impl PageTransform {
    pub fn identity() -> Self {
        Self {
            to_original: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        }
    }

    /// Maps a point of this image to the original input.
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let h = &self.to_original;
        let w = h[2][0] * x + h[2][1] * y + h[2][2];
        let w = if w.abs() < 1e-12 { 1e-12 } else { w };
        (
            (h[0][0] * x + h[0][1] * y + h[0][2]) / w,
            (h[1][0] * x + h[1][1] * y + h[1][2]) / w,
        )
    }

    /// `self` followed by `outer`: maps through `self` first, then `outer`.
    pub fn then(&self, outer: &PageTransform) -> PageTransform {
        let a = &outer.to_original;
        let b = &self.to_original;
        let mut m = [[0.0; 3]; 3];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, cell) in row.iter_mut().enumerate() {
                *cell = (0..3).map(|k| a[i][k] * b[k][j]).sum();
            }
        }
        PageTransform { to_original: m }
    }
}

/// Where a trace is likely to be: 0 = background, 255 = certainly ink of a trace.
///
/// Produced by a segmentation stage (classical or learned); same size as the
/// image it was computed from.
#[derive(Clone, Debug)]
pub struct TraceMask {
    pub mask: GrayImage,
    /// Optional per-lead probability channels from a learned segmenter.
    pub lead_channels: Vec<(Lead, GrayImage)>,
}

impl TraceMask {
    pub fn new(mask: GrayImage) -> Self {
        Self {
            mask,
            lead_channels: Vec::new(),
        }
    }
}

/// How the scale was determined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleSource {
    /// Periodicity of the printed grid.
    Grid,
    /// Height and width of the 1 mV calibration pulse.
    CalibrationPulse,
    /// Resolution stored in the image file.
    FileDpi,
    /// Nothing was found; an assumed resolution.
    Assumed,
}

/// How the paper speed was determined.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeedSource {
    /// Nothing said otherwise: the usual 25 mm/s (or a pipeline's setting).
    #[default]
    Assumed,
    /// Read from the text printed on the page (`50mm/s`).
    Printed,
    /// Inferred from the traced beats' timing (no speed printed).
    Beats,
}

/// Paper geometry: pixels per millimetre, paper speed and gain.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GridInfo {
    /// Horizontal scale (time axis).
    pub px_per_mm_x: f32,
    /// Vertical scale (voltage axis).
    pub px_per_mm_y: f32,
    /// Paper speed, normally 25 mm/s.
    pub mm_per_second: f32,
    /// Gain, normally 10 mm/mV.
    pub mm_per_mv: f32,
    /// Angle of the grid's horizontal lines, degrees, positive = clockwise.
    pub rotation_degrees: f32,
    /// Phase of the major (5 mm) grid lines, pixels, if a grid was seen.
    pub major_offset_px: Option<[f32; 2]>,
    pub source: ScaleSource,
    /// 0..1: how clearly the scale was measured.
    pub confidence: f32,
    /// Where `mm_per_second` came from.
    #[serde(default)]
    pub speed_source: SpeedSource,
}

impl GridInfo {
    /// Pixels per second along x.
    pub fn px_per_second(&self) -> f32 {
        self.px_per_mm_x * self.mm_per_second
    }
    /// Pixels per millivolt along y.
    pub fn px_per_mv(&self) -> f32 {
        self.px_per_mm_y * self.mm_per_mv
    }
    /// A grid assumed from a resolution in dots per inch.
    pub fn from_dpi(dpi: f32, source: ScaleSource) -> Self {
        let ppmm = dpi / 25.4;
        Self {
            px_per_mm_x: ppmm,
            px_per_mm_y: ppmm,
            mm_per_second: 25.0,
            mm_per_mv: 10.0,
            rotation_degrees: 0.0,
            major_offset_px: None,
            source,
            confidence: 0.0,
            speed_source: SpeedSource::Assumed,
        }
    }
}

/// An axis-aligned rectangle in pixels, `x0 <= x1`, `y0 <= y1`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl Rect {
    pub fn width(&self) -> f32 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> f32 {
        self.y1 - self.y0
    }
    pub fn contains(&self, x: f32, y: f32) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }
}

/// Page layouts we recognise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayoutKind {
    /// 3 rows of 4 leads plus one lead-II rhythm strip (the default printout).
    ThreeByFourRhythm,
    /// 3 rows of 4 leads, no rhythm strip.
    ThreeByFour,
    /// 6 rows of 2 leads (5 s each).
    SixByTwo,
    /// 12 rows of one lead (10 s each).
    TwelveByOne,
    /// Something else; panels are still listed.
    Other,
}

/// One plotted lead: where it is on the page and which time window it shows.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Panel {
    pub lead: Lead,
    /// Row index (0 = top) and column index (0 = left).
    pub row: usize,
    pub col: usize,
    /// Region that may contain this lead's trace (can overlap neighbours).
    pub bbox: Rect,
    /// y of the 0 mV line, pixels.
    pub baseline_y: f32,
    /// x of the first and last plotted instants, pixels.
    pub x_start: f32,
    pub x_end: f32,
    /// Time window shown, seconds from the start of the page.
    pub t_start: f32,
    pub t_end: f32,
    /// True for a long (rhythm) strip.
    pub rhythm: bool,
    /// True when the lead is printed upside down (Cabrera's -aVR): its
    /// samples are the negated trace.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inverted: bool,
    /// How the lead was named: `Some(score)` when its printed label was
    /// read (the read's template-match score, about 0.9 for clean print),
    /// `None` when the name follows from the layout alone.
    #[serde(default)]
    pub label_score: Option<f32>,
}

/// The page layout: rows and panels.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Layout {
    pub kind: LayoutKind,
    /// Duration of the page, seconds (normally 10).
    pub page_seconds: f32,
    /// Baselines of the detected rows, top to bottom.
    pub row_baselines: Vec<f32>,
    /// The layout template the page was matched to (`3x4`, `6x2 Cabrera`,
    /// ...), with its number of rhythm strips; `None` when none fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    pub panels: Vec<Panel>,
}

/// A traced lead: a sub-pixel path through the image.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Trace {
    /// Index into [`Layout::panels`].
    pub panel: usize,
    pub lead: Lead,
    /// Points `[x, y]` in pixels, strictly increasing in x. A gap where the
    /// trace could not be followed is a NaN y.
    pub points: Vec<[f32; 2]>,
    /// 0..1: fraction of the panel that was traced with clear evidence.
    pub confidence: f32,
}

/// All traced leads of a page.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Traces {
    pub traces: Vec<Trace>,
}

/// One lead's digitized samples on the page timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeadSignal {
    /// Index of the first sample on the page timeline (sample 0 = page start).
    pub start: usize,
    /// Samples in millivolts; NaN where unknown.
    pub samples: Vec<f32>,
    /// 0..1 confidence of this lead.
    pub confidence: f32,
}

impl LeadSignal {
    /// One past the last sample on the page timeline.
    pub fn end(&self) -> usize {
        self.start + self.samples.len()
    }
    /// Sample at a page index, if inside the window and finite.
    pub fn at(&self, page_index: usize) -> Option<f32> {
        page_index
            .checked_sub(self.start)
            .and_then(|i| self.samples.get(i))
            .copied()
            .filter(|v| v.is_finite())
    }
}

/// What a user should do with a page: use it, look at it, or redo it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every lead is probably right.
    Ok,
    /// Some leads are probably wrong: look at the overlay.
    Check,
    /// Most of the page is probably wrong.
    Failed,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Check => "check",
            Verdict::Failed => "failed",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How far a page's leads can be trusted, and the evidence behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageAssessment {
    pub verdict: Verdict,
    /// Why the verdict is not `ok`, in words (empty when it is).
    pub reasons: Vec<String>,
    /// Per lead ([`Lead::index`]), the named evidence values its confidence
    /// was computed from; `None` for a lead not on the page.
    pub evidence: Vec<Option<Vec<(String, f32)>>>,
}

/// Twelve leads sampled at `fs` over a page of `n_samples` samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Signals {
    pub fs: f32,
    /// Length of the page timeline in samples (10 s * fs for a standard page).
    pub n_samples: usize,
    /// Indexed by [`Lead::index`]; `None` where the lead is not on the page.
    pub leads: Vec<Option<LeadSignal>>,
    /// Set by a stage that judges the leads (`lead_confidence`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<PageAssessment>,
}

impl Signals {
    pub fn empty(fs: f32, n_samples: usize) -> Self {
        Self {
            fs,
            n_samples,
            leads: vec![None; N_LEADS],
            assessment: None,
        }
    }
    pub fn lead(&self, lead: Lead) -> Option<&LeadSignal> {
        self.leads.get(lead.index()).and_then(|l| l.as_ref())
    }
    pub fn lead_mut(&mut self, lead: Lead) -> Option<&mut LeadSignal> {
        self.leads.get_mut(lead.index()).and_then(|l| l.as_mut())
    }
    pub fn set(&mut self, lead: Lead, signal: LeadSignal) {
        if self.leads.len() < N_LEADS {
            self.leads.resize(N_LEADS, None);
        }
        self.leads[lead.index()] = Some(signal);
    }
}

/// Per-lead beat template.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LeadTemplate {
    /// Median beat, `Templates::length` samples from `pre_seconds` before R.
    pub median: Vec<f32>,
    /// Mean beat, same grid.
    pub mean: Vec<f32>,
    /// Number of beats used.
    pub n_beats: usize,
}

/// Median and mean beat templates per lead, with a heart-rate prior.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Templates {
    /// Samples per template.
    pub length: usize,
    /// Seconds before / after the R peak covered by a template.
    pub pre_seconds: f32,
    pub post_seconds: f32,
    /// Median heart rate of the source records, beats per minute.
    pub bpm_prior: f32,
    /// Indexed by [`Lead::index`].
    pub leads: Vec<Option<LeadTemplate>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_composition_applies_inner_first() {
        let shift = PageTransform {
            to_original: [[1.0, 0.0, 10.0], [0.0, 1.0, 5.0], [0.0, 0.0, 1.0]],
        };
        let scale = PageTransform {
            to_original: [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 1.0]],
        };
        let both = shift.then(&scale);
        assert_eq!(both.apply(1.0, 1.0), (22.0, 12.0));
    }

    #[test]
    fn lead_signal_indexing_respects_window() {
        let s = LeadSignal {
            start: 10,
            samples: vec![1.0, f32::NAN, 3.0],
            confidence: 1.0,
        };
        assert_eq!(s.at(9), None);
        assert_eq!(s.at(10), Some(1.0));
        assert_eq!(s.at(11), None);
        assert_eq!(s.at(12), Some(3.0));
        assert_eq!(s.end(), 13);
    }
}
