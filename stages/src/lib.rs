//! # ecgdig-stages
//!
//! The built-in stages, grouped by the pipeline phase they belong to. Each
//! stage is one module (config, runtime, doc with ports and a TOML example,
//! and tests) and registers itself; `ecgdig stages` lists them.
//!
//! | phase | stages |
//! |---|---|
//! | [`input`] | `load_image` |
//! | [`geometry`] | `dewarp`, `deskew`, `grid_scale` |
//! | [`segment`] | `classical_segment`, `onnx_segment`, `fallback_segment`, `mask_file` |
//! | [`layout`] | `layout_detect`, `calibration_pulse` |
//! | [`trace`] | `trace_viterbi` |
//! | [`signals`] | `to_signals`, `einthoven` |
//! | [`trust`] | `lead_confidence` |
//! | [`reconstruct`] | `templates`, `reconstruct`, `blend`, `seed_split_trace` |
//! | [`output`] | `write_page_csv`, `write_wfdb`, `write_json`, `write_plot`, `write_overlay`, `write_mask` |
//!
//! [`imaging`] and [`dsp`] are helpers every phase uses.
//!
//! A binary or test that uses these stages must reference the crate
//! (`use ecgdig_stages as _;`), or the linker drops the registrations.

pub mod dsp;
pub mod geometry;
pub mod imaging;
pub mod input;
pub mod layout;
pub mod output;
pub mod reconstruct;
pub mod segment;
pub mod signals;
pub mod trace;
pub mod trust;

/// Call from a binary to make sure this crate is linked (and its stages registered).
pub fn link() {}
