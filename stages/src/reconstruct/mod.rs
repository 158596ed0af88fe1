//! Reconstruction: leads synthesised from beat templates, and the seed
//! notebook's baseline digitizer.
//!
//! * [`templates`] (`templates`): per-lead median-beat templates;
//! * [`rebuild`] (`reconstruct`): leads synthesised from templates at the
//!   page's heart rate;
//! * [`blend`] (`blend`): two signal sets combined lead by lead;
//! * [`seed`] (`seed_split_trace`): the seed's naive digitizer, a baseline.

pub mod blend;
pub mod rebuild;
pub mod seed;
pub mod templates;
