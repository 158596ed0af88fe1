//! # ecgdig-core
//!
//! The framework under ecgdig: the [`stage::Stage`] trait and its config half
//! [`stage::StageConfig`], the typed [`artifact::Artifact`]s that flow between
//! stages, the stage [`registry`], TOML pipeline [`config`]s with actionable
//! diagnostics, and the [`pipeline::Pipeline`] runner.

pub mod artifact;
pub mod config;
pub mod error;
pub mod leads;
pub mod output;
pub mod page_csv;
pub mod pipeline;
pub mod record;
pub mod registry;
pub mod stage;
pub mod warp;

pub use inventory;
pub use serde;
pub use toml;
pub use typetag;

/// Everything a stage implementation usually needs.
pub mod prelude {
    pub use crate::artifact::*;
    pub use crate::error::{Error, ErrorClass, Result};
    pub use crate::leads::{Lead, LEAD_NAMES, N_LEADS};
    pub use crate::record::Record;
    pub use crate::register_stage;
    pub use crate::stage::{
        BuildContext, InputSource, Port, RunContext, RunOptions, Stage, StageConfig, StageInputs,
        StageOutputs,
    };
    pub use crate::warp::{LatticeFit, PageWarp, Rectification, WarpMesh};
}
