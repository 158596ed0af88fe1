//! The [`Stage`] trait, its config side [`StageConfig`], and registration.
//!
//! A stage comes in two halves:
//! * a **config**: a serde struct with `#[serde(deny_unknown_fields, default)]`
//!   that implements [`StageConfig`]. It declares the stage's ports and builds
//!   the runtime object. It is registered for serialisation with typetag and
//!   for lookup by name with [`register_stage!`] (inventory);
//! * a **runtime** [`Stage`], built once per pipeline and shared by all images
//!   (it must be `Send + Sync`), that turns input artifacts into outputs.
//!
//! ```
//! use ecgdig_core::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! /// Multiplies every sample by a gain.
//! #[derive(Debug, Clone, Serialize, Deserialize)]
//! #[serde(deny_unknown_fields, default)]
//! pub struct ScaleConfig { pub gain: f32 }
//! impl Default for ScaleConfig { fn default() -> Self { Self { gain: 1.0 } } }
//!
//! #[typetag::serde(name = "doc_scale")]
//! impl StageConfig for ScaleConfig {
//!     fn inputs(&self) -> Vec<Port> { vec![Port::new("signals", ArtifactKind::Signals)] }
//!     fn outputs(&self) -> Vec<Port> { vec![Port::new("signals", ArtifactKind::Signals)] }
//!     fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
//!         Ok(Box::new(self.clone()))
//!     }
//! }
//! impl Stage for ScaleConfig {
//!     fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
//!         let mut s = (*inputs.signals("signals")?).clone();
//!         for lead in s.leads.iter_mut().flatten() {
//!             lead.samples.iter_mut().for_each(|v| *v *= self.gain);
//!         }
//!         Ok(StageOutputs::one(s))
//!     }
//! }
//! register_stage!(ScaleConfig, "doc_scale",
//!     summary = "Multiplies every sample by a gain.",
//!     params = [("gain", "factor applied to every sample")],
//!     example = "[stages.scale]\ntype = \"doc_scale\"\ninputs = [\"trace\"]\ngain = 2.0\n");
//! # fn main() { assert!(ecgdig_core::registry::find("doc_scale").is_some()); }
//! ```

use crate::artifact::*;
use crate::error::{Error, ErrorClass, Result};
use std::any::Any;
use std::collections::HashMap;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A named, typed input or output of a stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub name: &'static str,
    pub kind: ArtifactKind,
    /// An optional input may be left unconnected.
    pub optional: bool,
}

impl Port {
    pub fn new(name: &'static str, kind: ArtifactKind) -> Self {
        Self {
            name,
            kind,
            optional: false,
        }
    }
    pub fn optional(name: &'static str, kind: ArtifactKind) -> Self {
        Self {
            name,
            kind,
            optional: true,
        }
    }
}

/// The config half of a stage. See the module docs for a complete example.
#[typetag::serde(tag = "type")]
pub trait StageConfig: Debug + Send + Sync + Any {
    /// Input ports, in the order that a positional `inputs = [...]` list fills them.
    fn inputs(&self) -> Vec<Port>;
    /// Output ports; the first is the default output (`"stage"` means `"stage.<first>"`).
    fn outputs(&self) -> Vec<Port>;
    /// Builds the runtime stage (load models, precompute kernels...).
    fn build(&self, ctx: &BuildContext) -> Result<Box<dyn Stage>>;
    /// True for stages that write files and have no outputs.
    fn is_sink(&self) -> bool {
        self.outputs().is_empty()
    }
}

/// The runtime half of a stage.
pub trait Stage: Send + Sync {
    fn run(&self, inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs>;
}

/// What a stage may look at while it is built.
#[derive(Clone, Debug, Default)]
pub struct BuildContext {
    /// Folder of the config file; relative paths in parameters resolve against it.
    pub config_dir: Option<PathBuf>,
}

impl BuildContext {
    /// Resolves a path parameter relative to the config's folder.
    pub fn resolve_path(&self, p: &Path) -> PathBuf {
        match (&self.config_dir, p.is_absolute()) {
            (Some(dir), false) => dir.join(p),
            _ => p.to_path_buf(),
        }
    }
}

/// What goes into a pipeline for one page.
#[derive(Clone, Debug)]
pub enum InputSource {
    /// A file to decode.
    Path(PathBuf),
    /// An already decoded image (tests, PDF/TIFF pages, embedding).
    Image(Arc<PageImage>),
}

/// Run-time settings shared by all images of a batch.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Requested output sampling rate, Hz.
    pub fs: f32,
    /// Duration of a page, seconds.
    pub page_seconds: f32,
    /// Where writers put their files (`None`: writers do nothing).
    pub out_dir: Option<PathBuf>,
    /// Output formats requested on the command line; writer stages check it.
    pub formats: Vec<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            fs: 500.0,
            page_seconds: 10.0,
            out_dir: None,
            formats: vec!["csv".to_string()],
        }
    }
}

impl RunOptions {
    /// Number of samples on the page timeline.
    pub fn n_samples(&self) -> usize {
        (self.fs * self.page_seconds).round() as usize
    }
    /// True when `format` was requested.
    pub fn wants(&self, format: &str) -> bool {
        self.formats.iter().any(|f| f == format)
    }
}

/// Per-image context passed to [`Stage::run`].
#[derive(Clone, Debug)]
pub struct RunContext {
    pub input: InputSource,
    /// File stem used to name outputs (`<stem>.csv`).
    pub stem: String,
    pub options: Arc<RunOptions>,
    /// Resolved config text and hash, for writers that record provenance.
    pub config_hash: String,
}

impl RunContext {
    pub fn new(input: InputSource, stem: impl Into<String>, options: Arc<RunOptions>) -> Self {
        Self {
            input,
            stem: stem.into(),
            options,
            config_hash: String::new(),
        }
    }
    /// Path of an output file named `<stem><suffix>` in the output folder.
    pub fn output_path(&self, suffix: &str) -> Option<PathBuf> {
        self.options
            .out_dir
            .as_ref()
            .map(|d| d.join(format!("{}{}", self.stem, suffix)))
    }
}

/// The artifacts connected to a stage's input ports, by port name.
#[derive(Default, Debug)]
pub struct StageInputs {
    pub(crate) values: HashMap<&'static str, Artifact>,
}

macro_rules! typed_getters {
    ($($fn:ident, $opt:ident => $variant:ident, $ty:ty);* $(;)?) => {
        $(
            /// The input on port `name`, which must be connected and of this kind.
            pub fn $fn(&self, name: &str) -> Result<Arc<$ty>> {
                self.$opt(name).ok_or_else(|| Error::new(ErrorClass::Stage,
                    format!("input port `{name}` is not connected")))
            }
            /// The input on port `name`, if connected.
            pub fn $opt(&self, name: &str) -> Option<Arc<$ty>> {
                match self.values.get(name) {
                    Some(Artifact::$variant(v)) => Some(v.clone()),
                    _ => None,
                }
            }
        )*
    };
}

impl StageInputs {
    pub fn new() -> Self {
        Self::default()
    }
    /// Connects an artifact (used by the runner and by stage unit tests).
    pub fn with(mut self, port: &'static str, artifact: impl Into<Artifact>) -> Self {
        self.values.insert(port, artifact.into());
        self
    }
    pub fn get(&self, name: &str) -> Option<&Artifact> {
        self.values.get(name)
    }
    typed_getters!(
        image, image_opt => Image, PageImage;
        mask, mask_opt => Mask, TraceMask;
        grid, grid_opt => Grid, GridInfo;
        layout, layout_opt => Layout, Layout;
        traces, traces_opt => Traces, Traces;
        signals, signals_opt => Signals, Signals;
        templates, templates_opt => Templates, Templates;
    );
}

/// A stage's outputs, in the order of [`StageConfig::outputs`].
#[derive(Default, Debug)]
pub struct StageOutputs {
    pub values: Vec<(&'static str, Artifact)>,
}

impl StageOutputs {
    /// No outputs (sinks).
    pub fn none() -> Self {
        Self::default()
    }
    /// A single output on the default port.
    pub fn one(a: impl Into<Artifact>) -> Self {
        Self {
            values: vec![("", a.into())],
        }
    }
    /// Adds a named output.
    pub fn with(mut self, port: &'static str, a: impl Into<Artifact>) -> Self {
        self.values.push((port, a.into()));
        self
    }
    /// The output on a port ("" = the first).
    pub fn get(&self, port: &str) -> Option<&Artifact> {
        if port.is_empty() {
            return self.values.first().map(|(_, a)| a);
        }
        self.values.iter().find(|(p, _)| *p == port).map(|(_, a)| a)
    }
}

/// Documentation of one parameter, shown by `ecgdig stages`.
pub type ParamDoc = (&'static str, &'static str);

/// Registry entry for one stage type. Created by [`register_stage!`].
pub struct StageRegistration {
    pub type_name: &'static str,
    /// One line: what the stage does.
    pub summary: &'static str,
    /// Parameter names and descriptions.
    pub params: &'static [ParamDoc],
    /// A TOML example, `[stages.<id>]` table included.
    pub example: &'static str,
    /// The default config, used for parameter checks and documentation.
    pub default_config: fn() -> Box<dyn StageConfig>,
    /// Deserialises the parameters (without `type`/`inputs`) into a config.
    pub parse: fn(toml::Value) -> std::result::Result<Box<dyn StageConfig>, String>,
}

inventory::collect!(StageRegistration);

/// Registers a stage config type under a `type` name.
///
/// ```text
/// register_stage!(MyConfig, "my_stage",
///     summary = "What it does.",
///     params = [("threshold", "what it means")],
///     example = "[stages.x]\ntype = \"my_stage\"\n");
/// ```
/// The config must implement `Default`, `Serialize`, `DeserializeOwned` and
/// [`StageConfig`] (with `#[typetag::serde(name = "my_stage")]`).
#[macro_export]
macro_rules! register_stage {
    ($ty:ty, $name:literal, summary = $summary:expr, params = [$(($p:literal, $pd:expr)),* $(,)?], example = $example:expr $(,)?) => {
        $crate::inventory::submit! {
            $crate::stage::StageRegistration {
                type_name: $name,
                summary: $summary,
                params: &[$(($p, $pd)),*],
                example: $example,
                default_config: || ::std::boxed::Box::new(<$ty as ::std::default::Default>::default()),
                parse: |v| {
                    <$ty as $crate::serde::Deserialize>::deserialize(v)
                        .map(|c| ::std::boxed::Box::new(c) as ::std::boxed::Box<dyn $crate::stage::StageConfig>)
                        .map_err(|e| e.to_string())
                },
            }
        }
    };
}
