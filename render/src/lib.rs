//! # ecgdig-render
//!
//! The ground-truth generator: a synthetic 12-lead ECG model ([`synth`]), a
//! page renderer with scan / photo distortions ([`page`]), the ground truth as
//! ecg-image-kit-compatible JSON ([`truth`]) and a writer for the usual folder
//! layout ([`write`]); [`preset`] and [`variety`] draw page settings per seed.
//!
//! ```
//! use ecgdig_render::{synth, page, write};
//! let record = synth::synthesize(&synth::SynthParams::default(), 42);
//! let spec = page::PageSpec { dpi: 100.0, ..Default::default() };
//! let p = page::render_page(&record, &spec, &page::distort::Distortions::default(), 42).unwrap();
//! assert_eq!(p.truth.leads.len(), 13);
//! assert_eq!(p.image.dimensions(), (1100, 850));
//! ```
//!
//! Pixel convention (see [`page`]): pixel centres on integer coordinates;
//! `x = x0 + (t - t0) * 25 mm/s * px_per_mm`, `y = baseline - v * 10 mm/mV * px_per_mm`.

pub mod page;
pub mod preset;
pub mod synth;
pub mod truth;
pub mod variety;
pub mod write;

pub use page::distort::Distortions;
pub use page::{render_page, Layout, PageSpec, RenderedPage};
pub use synth::{synthesize, SynthParams};
pub use truth::PageTruth;
