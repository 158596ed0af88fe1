//! # ecgdig
//!
//! The runner behind the `ecgdig` command, usable as a library to embed a
//! digitizer:
//!
//! ```no_run
//! use ecgdig::{Digitizer, DigitizerOptions};
//! let d = Digitizer::new(&DigitizerOptions::default()).expect("valid default pipeline");
//! let page = d.digitize_path(std::path::Path::new("page.png")).expect("digitized");
//! let lead_ii = page.signals.lead(ecgdig_core::leads::Lead::II);
//! ```

pub mod batch;
pub mod configs;
pub mod inputs;
pub mod kaggle;

use ecgdig_core::config::{self, ConfigError, ConfigSource, LoadOptions, LoadedConfig};
use ecgdig_core::pipeline::Pipeline;
use ecgdig_core::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

// Referencing the stage crate keeps its registrations in the binary.
pub use ecgdig_stages;

/// How to build a [`Digitizer`].
#[derive(Clone, Debug, Default)]
pub struct DigitizerOptions {
    /// Pipeline config; `None` = the embedded default.
    pub config: Option<PathBuf>,
    /// `stage.param=value` overrides.
    pub overrides: Vec<String>,
    pub run: RunOptions,
}

/// Loads a config (or the embedded default) with overrides; all diagnostics at once.
pub fn load_config(
    config: Option<&Path>,
    overrides: &[String],
) -> Result<LoadedConfig, ConfigError> {
    ecgdig_stages::link();
    let options = LoadOptions {
        overrides: overrides.to_vec(),
        builtins: configs::builtins(),
    };
    let source = match config {
        Some(p) => ConfigSource::File(p.to_path_buf()),
        None => ConfigSource::Text {
            name: "builtin:default".to_string(),
            text: configs::DEFAULT.to_string(),
        },
    };
    config::load(&source, &options)
}

/// Accepted output sampling rates, Hz.
pub const FS_RANGE: std::ops::RangeInclusive<f32> = 50.0..=10_000.0;

/// Checks an output sampling rate against [`FS_RANGE`] (every buffer of a
/// page is sized from it).
pub fn check_fs(fs: f32) -> std::result::Result<f32, String> {
    if fs.is_finite() && FS_RANGE.contains(&fs) {
        Ok(fs)
    } else {
        Err(format!(
            "the sampling rate must be between {} and {} Hz, got {fs}",
            FS_RANGE.start(),
            FS_RANGE.end()
        ))
    }
}

/// A digitizer result for one page.
pub struct PageResult {
    pub signals: Arc<Signals>,
    pub timings: Vec<(String, Duration)>,
}

/// A built pipeline plus run options: digitizes pages, in parallel if asked.
pub struct Digitizer {
    pub pipeline: Pipeline,
    pub options: Arc<RunOptions>,
}

/// A config that failed to load, or a stage that failed to build.
#[derive(Debug)]
pub enum SetupError {
    Config(ConfigError),
    Build(Error),
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetupError::Config(e) => write!(f, "{e}"),
            SetupError::Build(e) => write!(f, "error: {e}"),
        }
    }
}
impl std::error::Error for SetupError {}

impl Digitizer {
    pub fn new(opts: &DigitizerOptions) -> std::result::Result<Self, SetupError> {
        check_fs(opts.run.fs).map_err(|e| SetupError::Build(Error::stage(e)))?;
        let loaded =
            load_config(opts.config.as_deref(), &opts.overrides).map_err(SetupError::Config)?;
        let pipeline = Pipeline::build(loaded).map_err(SetupError::Build)?;
        Ok(Self {
            pipeline,
            options: Arc::new(opts.run.clone()),
        })
    }

    /// Runs the pipeline on one input, named `stem` for outputs.
    pub fn digitize(&self, input: InputSource, stem: &str) -> Result<PageResult> {
        self.digitize_into(input, stem, None)
    }

    /// [`Self::digitize`], with the outputs written to `out_dir` instead of
    /// the options' output folder (`None`: the options' folder).
    pub fn digitize_into(
        &self,
        input: InputSource,
        stem: &str,
        out_dir: Option<&Path>,
    ) -> Result<PageResult> {
        let options = match out_dir {
            Some(dir) if self.options.out_dir.as_deref() != Some(dir) => Arc::new(RunOptions {
                out_dir: Some(dir.to_path_buf()),
                ..(*self.options).clone()
            }),
            _ => self.options.clone(),
        };
        let ctx = RunContext::new(input, stem, options);
        let out = self.pipeline.run(&ctx)?;
        let signals = out
            .signals
            .ok_or_else(|| Error::stage("the pipeline produced no signals"))?;
        Ok(PageResult {
            signals,
            timings: out.timings,
        })
    }

    /// Runs the pipeline on an image file.
    pub fn digitize_path(&self, path: &Path) -> Result<PageResult> {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("page")
            .to_string();
        self.digitize(InputSource::Path(path.to_path_buf()), &stem)
    }
}
