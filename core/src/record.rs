//! A multi-lead recording: the ground-truth side of digitization.

use crate::leads::{Lead, N_LEADS};
use serde::{Deserialize, Serialize};

/// Twelve-lead samples in millivolts at one sampling rate. NaN marks a
/// sample that is not known (not plotted, not recorded).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub name: String,
    pub fs: f32,
    pub n_samples: usize,
    /// Indexed by [`Lead::index`]; `None` for a lead the record lacks.
    pub leads: Vec<Option<Vec<f32>>>,
}

impl Record {
    pub fn new(name: impl Into<String>, fs: f32, n_samples: usize) -> Self {
        Self {
            name: name.into(),
            fs,
            n_samples,
            leads: vec![None; N_LEADS],
        }
    }
    pub fn lead(&self, lead: Lead) -> Option<&[f32]> {
        self.leads.get(lead.index()).and_then(|l| l.as_deref())
    }
    pub fn set(&mut self, lead: Lead, samples: Vec<f32>) {
        if self.leads.len() < N_LEADS {
            self.leads.resize(N_LEADS, None);
        }
        self.leads[lead.index()] = Some(samples);
    }
    /// Duration in seconds.
    pub fn seconds(&self) -> f32 {
        self.n_samples as f32 / self.fs
    }
}
