//! Printout conventions beyond the ecg-image-kit defaults: where the
//! calibration pulse goes, the lead order, how lead labels are printed, and
//! custom grid colours. Every default reproduces the original renderer.

use serde::{Deserialize, Serialize};

/// Where each row's calibration pulse is printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PulsePosition {
    /// Left of the row's first trace (ecg-image-kit).
    #[default]
    Start,
    /// Right of the row's last trace.
    End,
    /// Both ends of the row.
    Both,
}

impl PulsePosition {
    /// Parses `start`, `end`, `both`.
    pub fn from_name(s: &str) -> Option<PulsePosition> {
        match s.trim().to_ascii_lowercase().as_str() {
            "start" => Some(PulsePosition::Start),
            "end" => Some(PulsePosition::End),
            "both" => Some(PulsePosition::Both),
            _ => None,
        }
    }
    /// True when a pulse precedes the row.
    pub fn at_start(self) -> bool {
        matches!(self, PulsePosition::Start | PulsePosition::Both)
    }
    /// True when a pulse follows the row.
    pub fn at_end(self) -> bool {
        matches!(self, PulsePosition::End | PulsePosition::Both)
    }
}

/// Order of the limb leads on the page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadOrder {
    /// I, II, III, aVR, aVL, aVF.
    #[default]
    Standard,
    /// aVL, I, -aVR, II, aVF, III: aVR printed inverted.
    Cabrera,
}

impl LeadOrder {
    /// Parses `standard`, `cabrera`.
    pub fn from_name(s: &str) -> Option<LeadOrder> {
        match s.trim().to_ascii_lowercase().as_str() {
            "standard" => Some(LeadOrder::Standard),
            "cabrera" => Some(LeadOrder::Cabrera),
            _ => None,
        }
    }
}

/// Font of the lead labels (all DejaVu, from the `dejavu` crate).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelFont {
    #[default]
    Sans,
    SansBold,
    SansCondensed,
    SansMono,
    SansMonoBold,
    Serif,
    SerifBold,
    /// Oblique sans (also the handwritten-style notes' font).
    SansOblique,
}

impl LabelFont {
    /// All fonts.
    pub const ALL: [LabelFont; 8] = [
        LabelFont::Sans,
        LabelFont::SansBold,
        LabelFont::SansCondensed,
        LabelFont::SansMono,
        LabelFont::SansMonoBold,
        LabelFont::Serif,
        LabelFont::SerifBold,
        LabelFont::SansOblique,
    ];
    /// The TrueType bytes.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            LabelFont::Sans => dejavu::sans::regular(),
            LabelFont::SansBold => dejavu::sans::bold(),
            LabelFont::SansCondensed => dejavu::sans_condensed::regular(),
            LabelFont::SansMono => dejavu::sans_mono::regular(),
            LabelFont::SansMonoBold => dejavu::sans_mono::bold(),
            LabelFont::Serif => dejavu::serif::regular(),
            LabelFont::SerifBold => dejavu::serif::bold(),
            LabelFont::SansOblique => dejavu::sans::oblique(),
        }
    }
    /// Index into [`LabelFont::ALL`].
    pub fn index(self) -> usize {
        LabelFont::ALL.iter().position(|f| *f == self).unwrap_or(0)
    }
}

/// Where a panel's lead label sits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelPosition {
    /// Below the baseline at the panel's start (ecg-image-kit).
    #[default]
    Below,
    /// Above the baseline at the panel's start.
    Above,
    /// Left of the panel's first sample, centred on the baseline (left of the
    /// calibration pulse in the first column).
    Left,
}

impl LabelPosition {
    /// Parses `below`, `above`, `left`.
    pub fn from_name(s: &str) -> Option<LabelPosition> {
        match s.trim().to_ascii_lowercase().as_str() {
            "below" => Some(LabelPosition::Below),
            "above" => Some(LabelPosition::Above),
            "left" => Some(LabelPosition::Left),
            _ => None,
        }
    }
}

/// Explicit grid colours (overriding [`GridColor`](super::GridColor)'s palette).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridRgb {
    /// 1 mm lines (or dots).
    pub minor: [u8; 3],
    /// 5 mm lines (or dots).
    pub major: [u8; 3],
}
