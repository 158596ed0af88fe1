//! Trust: how far each lead and the page can be believed.
//!
//! * [`evidence`]: what is measured about a traced lead (path on ink, ink
//!   explained, beats shared with its simultaneous leads, ...);
//! * [`model`]: the fitted logistic model that turns evidence into the
//!   probability that a lead is right;
//! * [`confidence`] (`lead_confidence`): sets every lead's confidence, gives
//!   the page its verdict (`ok`, `check`, `failed`) and refuses pages with
//!   no ECG on them.

pub mod confidence;
pub mod evidence;
pub mod model;

#[cfg(test)]
mod tests;
