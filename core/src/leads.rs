//! The twelve standard leads, their names and canonical order.
//!
//! The canonical order is the Kaggle / page-CSV column order:
//! `I, II, III, aVR, aVL, aVF, V1, V2, V3, V4, V5, V6`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One of the twelve standard ECG leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Lead {
    I,
    II,
    III,
    #[serde(rename = "aVR")]
    AVR,
    #[serde(rename = "aVL")]
    AVL,
    #[serde(rename = "aVF")]
    AVF,
    V1,
    V2,
    V3,
    V4,
    V5,
    V6,
}

/// Number of standard leads.
pub const N_LEADS: usize = 12;

impl Lead {
    /// All leads in canonical (page-CSV) order.
    pub const ALL: [Lead; N_LEADS] = [
        Lead::I,
        Lead::II,
        Lead::III,
        Lead::AVR,
        Lead::AVL,
        Lead::AVF,
        Lead::V1,
        Lead::V2,
        Lead::V3,
        Lead::V4,
        Lead::V5,
        Lead::V6,
    ];

    /// The lead's conventional name (`"aVR"`, `"V1"`, ...).
    pub fn name(self) -> &'static str {
        LEAD_NAMES[self.index()]
    }

    /// Position in canonical order (0 for I, 11 for V6).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Lead at a canonical position.
    pub fn from_index(i: usize) -> Option<Lead> {
        Lead::ALL.get(i).copied()
    }

    /// Parses a lead name; accepts the usual spellings (`AVR`, `avr`, `aVR`).
    pub fn from_name(name: &str) -> Option<Lead> {
        let t = name.trim();
        LEAD_NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(t))
            .map(|i| Lead::ALL[i])
    }

    /// True for the six limb leads (I, II, III, aVR, aVL, aVF).
    pub fn is_limb(self) -> bool {
        self.index() < 6
    }
}

/// Lead names in canonical order; this is also the page-CSV header.
pub const LEAD_NAMES: [&str; N_LEADS] = [
    "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
];

impl fmt::Display for Lead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_canonical_order() {
        for (i, lead) in Lead::ALL.iter().enumerate() {
            assert_eq!(lead.index(), i);
            assert_eq!(Lead::from_name(lead.name()), Some(*lead));
        }
        assert_eq!(Lead::from_name("AVR"), Some(Lead::AVR));
        assert_eq!(Lead::from_name("v6 "), Some(Lead::V6));
        assert_eq!(Lead::from_name("V7"), None);
    }

    #[test]
    fn serde_uses_conventional_names() {
        let s = serde_json::to_string(&Lead::AVL).unwrap();
        assert_eq!(s, "\"aVL\"");
        let back: Lead = serde_json::from_str("\"aVF\"").unwrap();
        assert_eq!(back, Lead::AVF);
    }
}
