//! Signals: traced paths become calibrated samples in mV.
//!
//! * [`beat_speed`] (`beat_speed`): reads a page printed at 50 mm/s without
//!   saying so by the timing of its beats;
//! * [`limb_order`] (`limb_order`): tells a page in Cabrera order from one
//!   in the standard order by Einthoven's law, where no label said;
//! * [`rhythm_leads`] (`rhythm_leads`): names each rhythm strip by the short
//!   panel whose samples it repeats;
//! * [`convert`] (`to_signals`): pixel paths to samples at the run's rate;
//! * [`einthoven`] (`einthoven`): makes the six limb leads consistent with
//!   Einthoven's and Goldberger's laws.

pub mod beat_speed;
pub mod convert;
pub mod einthoven;
pub mod limb_order;
pub mod limb_rows;
pub mod rhythm_leads;
#[cfg(test)]
mod test_pages;
