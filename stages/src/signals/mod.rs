//! Signals: traced paths become calibrated samples in mV.
//!
//! * [`rhythm_leads`] (`rhythm_leads`): names each rhythm strip by the short
//!   panel whose samples it repeats;
//! * [`convert`] (`to_signals`): pixel paths to samples at the run's rate;
//! * [`einthoven`] (`einthoven`): makes the six limb leads consistent with
//!   Einthoven's and Goldberger's laws.

pub mod convert;
pub mod einthoven;
pub mod rhythm_leads;
