//! # ecgdig-stages
//!
//! The built-in stages. Each module is one stage (config, runtime and tests
//! together) and registers itself; `ecgdig stages` lists them.
//!
//! A binary or test that uses these stages must reference the crate
//! (`use ecgdig_stages as _;`), or the linker drops the registrations.

pub mod load;
pub mod write_csv;

/// Call from a binary to make sure this crate is linked (and its stages registered).
pub fn link() {}
