//! Pipeline configs: TOML files that compose stages into a DAG.
//!
//! ```toml
//! name = "my-pipeline"
//! extends = "default.toml"        # optional: start from another config
//!
//! [stages.load]
//! type = "load_image"
//!
//! [stages.grid]
//! type = "grid_scale"
//! inputs = ["load"]               # positional: fills the first input port
//!
//! [stages.trace]
//! type = "trace_viterbi"
//! inputs = { mask = "segment", layout = "layout.layout" }   # by port
//! enabled = true                  # false: removed, consumers use `bypass`
//! ```
//!
//! Loading runs in phases and reports every problem at once, each with its
//! line and column: parse ([`raw`]), follow `extends` and apply `--set`
//! ([`resolve`]), then type-check and build the graph ([`compile`]).

pub mod compile;
pub mod diagnostic;
pub mod graph;
pub mod raw;
pub mod resolve;
pub mod source;

pub use compile::{CompiledConfig, Edge, NodeSpec};
pub use diagnostic::{ConfigError, Diagnostic, Severity};
pub use resolve::{ConfigSource, LoadOptions};
pub use source::{Origin, Sources};

/// A config that passed every check.
#[derive(Debug)]
pub struct LoadedConfig {
    pub compiled: CompiledConfig,
    pub sources: Sources,
    /// Warnings (never errors).
    pub warnings: Vec<Diagnostic>,
}

impl LoadedConfig {
    /// The fully resolved config as TOML: every stage, explicit inputs, every
    /// parameter with its effective value. Loading it gives the same pipeline.
    pub fn resolved_toml(&self) -> String {
        resolved_toml(&self.compiled)
    }
    /// A stable hash of [`Self::resolved_toml`] (16 hex digits, FNV-1a 64).
    pub fn hash(&self) -> String {
        fnv1a_hex(&self.resolved_toml())
    }
    /// Warnings rendered for a terminal.
    pub fn render_warnings(&self) -> String {
        self.warnings
            .iter()
            .map(|d| d.render(&self.sources))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Loads, merges and checks a config.
pub fn load(source: &ConfigSource, options: &LoadOptions) -> Result<LoadedConfig, ConfigError> {
    let mut sources = Sources::default();
    let mut diags = Vec::new();
    let merged = resolve::load_merged(source, options, &mut sources, &mut diags);
    // a broken `extends` chain would only cause follow-on errors (stages without a type...)
    let extends_failed = diags.iter().any(|d| d.code == diagnostic::codes::EXTENDS);
    let compiled =
        if extends_failed || (diags.iter().any(|d| d.is_error()) && merged.stages.is_empty()) {
            None
        } else {
            compile::compile(merged, &mut diags)
        };
    match compiled {
        Some(compiled) if !diags.iter().any(|d| d.is_error()) => Ok(LoadedConfig {
            compiled,
            sources,
            warnings: diags,
        }),
        _ => Err(ConfigError {
            diagnostics: diags,
            sources,
        }),
    }
}

/// Loads config text held in memory (no `extends` relative paths).
pub fn load_str(
    name: &str,
    text: &str,
    options: &LoadOptions,
) -> Result<LoadedConfig, ConfigError> {
    load(
        &ConfigSource::Text {
            name: name.to_string(),
            text: text.to_string(),
        },
        options,
    )
}

/// Checks the TOML example of a stage's documentation: it must declare exactly
/// one stage whose type and parameters are valid. Inputs are not resolved.
pub fn check_stage_example(text: &str) -> Result<(), String> {
    let mut sources = Sources::default();
    let file = sources.add(source::SourceFile {
        name: "<example>".into(),
        path: None,
        text: text.to_string(),
    });
    let mut diags = Vec::new();
    let mut spec = raw::parse_file(&sources, file, &mut diags);
    if spec.stages.len() != 1 {
        diags.push(Diagnostic::error(
            diagnostic::codes::STRUCTURE,
            format!(
                "an example must declare exactly one stage, found {}",
                spec.stages.len()
            ),
            Origin::Generated,
        ));
    }
    for entry in spec.stages.values_mut() {
        entry.inputs = None;
        let merged = resolve::MergedConfig {
            stages: [(entry.id.value.clone(), entry.clone())]
                .into_iter()
                .collect(),
            ..Default::default()
        };
        let _ = compile::compile(merged, &mut diags);
    }
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error() && d.code != diagnostic::codes::MISSING_INPUT)
        .map(|d| d.render(&sources))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

fn resolved_toml(c: &CompiledConfig) -> String {
    let mut root = toml::Table::new();
    root.insert("name".into(), toml::Value::String(c.name.clone()));
    if let Some(d) = &c.description {
        root.insert("description".into(), toml::Value::String(d.clone()));
    }
    let mut stages = toml::Table::new();
    for n in &c.nodes {
        let mut t = toml::Table::new();
        t.insert("type".into(), toml::Value::String(n.type_name.clone()));
        if !n.inputs.is_empty() {
            let mut inputs = toml::Table::new();
            for e in &n.inputs {
                let src = &c.nodes[e.from];
                let first = src.outputs.first().map(|o| o.name) == Some(e.from_port);
                let r = if first {
                    src.id.clone()
                } else {
                    format!("{}.{}", src.id, e.from_port)
                };
                inputs.insert(e.port.to_string(), toml::Value::String(r));
            }
            t.insert("inputs".into(), toml::Value::Table(inputs));
        }
        for (k, v) in &n.params {
            t.insert(k.clone(), v.clone());
        }
        stages.insert(n.id.clone(), toml::Value::Table(t));
    }
    root.insert("stages".into(), toml::Value::Table(stages));
    let mut out = String::from("# Fully resolved ecgdig pipeline (defaults included).\n");
    out.push_str(&toml::to_string(&root).unwrap_or_default());
    out
}

/// FNV-1a 64-bit hash as 16 hex digits.
pub fn fnv1a_hex(text: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}
