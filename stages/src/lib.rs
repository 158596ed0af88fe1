//! # ecgdig-stages
//!
//! The built-in stages. Each module is one stage (config, runtime and tests
//! together) and registers itself; `ecgdig stages` lists them.
//!
//! A binary or test that uses these stages must reference the crate
//! (`use ecgdig_stages as _;`), or the linker drops the registrations.

pub mod blend;
pub mod calibration;
pub mod deskew;
pub mod dsp;
pub mod einthoven;
pub mod fallback_segment;
pub mod grid;
pub mod imaging;
pub mod input;
pub mod layout;
pub mod load;
pub mod mask_file;
pub mod onnx_segment;
pub mod overlay;
pub mod pulse_edge;
pub mod reconstruct;
pub mod seed;
pub mod segment;
pub mod signals;
pub mod templates;
pub mod trace;
pub mod trace_fit;
pub mod trace_rows;
pub mod write_csv;
pub mod write_json;
pub mod write_plot;
pub mod write_wfdb;

/// Call from a binary to make sure this crate is linked (and its stages registered).
pub fn link() {}
