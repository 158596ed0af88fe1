//! Phase 2: follow `extends`, merge overrides, apply `--set`.
//!
//! Merge rules, applied from the base outwards:
//! * a stage id that is new is appended;
//! * a stage id that exists is merged key by key: `inputs`, `enabled` and
//!   `bypass` replace the base's; each parameter replaces the base's value;
//! * changing a stage's `type` drops the base's parameters (they belong to the
//!   old type) but keeps its inputs.

use super::diagnostic::{codes, Diagnostic};
use super::raw::{parse_file, FileSpec, InputsSpec, Param, StageEntry};
use super::source::{Located, Origin, SourceFile, Sources};
use crate::registry::did_you_mean;
use std::path::{Path, PathBuf};

/// Where a config comes from.
#[derive(Clone, Debug)]
pub enum ConfigSource {
    /// A file on disk.
    File(PathBuf),
    /// Text held in memory (the embedded default), with a display name.
    Text { name: String, text: String },
}

/// Options for loading a config.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `stage.key=value` overrides, applied after `extends` merging.
    pub overrides: Vec<String>,
    /// Configs reachable as `extends = "builtin:<name>"`.
    pub builtins: Vec<(String, String)>,
}

/// The merged, not yet type-checked config.
#[derive(Clone, Debug, Default)]
pub struct MergedConfig {
    pub name: Option<String>,
    pub description: Option<String>,
    pub stages: indexmap::IndexMap<String, StageEntry>,
    /// Folder of the outermost file, for relative paths in parameters.
    pub config_dir: Option<PathBuf>,
}

const MAX_EXTENDS_DEPTH: usize = 16;

/// Reads a config and everything it extends, then applies overrides.
pub fn load_merged(
    source: &ConfigSource,
    options: &LoadOptions,
    sources: &mut Sources,
    diags: &mut Vec<Diagnostic>,
) -> MergedConfig {
    let mut chain: Vec<FileSpec> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut next: Option<(ConfigSource, Origin)> = Some((source.clone(), Origin::Generated));
    let mut config_dir = None;
    while let Some((src, from)) = next.take() {
        let (file, dir, key) = match read_source(&src, options, from.clone(), sources, diags) {
            Some(x) => x,
            None => break,
        };
        if config_dir.is_none() {
            config_dir = dir.clone();
        }
        if seen.contains(&key) || chain.len() >= MAX_EXTENDS_DEPTH {
            let mut names = seen.clone();
            names.push(key);
            diags.push(
                Diagnostic::error(codes::EXTENDS, "`extends` forms a cycle", from)
                    .label("this file is already being extended")
                    .help(format!("chain: {}", names.join(" -> "))),
            );
            break;
        }
        seen.push(key);
        let spec = parse_file(sources, file, diags);
        if let Some(ext) = &spec.extends {
            let target = resolve_extends(&ext.value, dir.as_deref());
            next = Some((target, ext.origin.clone()));
        }
        chain.push(spec);
    }
    let mut merged = MergedConfig {
        config_dir,
        ..Default::default()
    };
    for spec in chain.into_iter().rev() {
        merge_file(&mut merged, spec);
    }
    for o in &options.overrides {
        apply_override(&mut merged, o, diags);
    }
    merged
}

fn resolve_extends(target: &str, dir: Option<&Path>) -> ConfigSource {
    if target.starts_with("builtin:") {
        return ConfigSource::Text {
            name: target.to_string(),
            text: String::new(),
        };
    }
    let p = Path::new(target);
    ConfigSource::File(match dir {
        Some(d) if p.is_relative() => d.join(p),
        _ => p.to_path_buf(),
    })
}

/// Largest config file read; a pipeline config is a few kilobytes.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Reads a config file: a regular file of at most [`MAX_CONFIG_BYTES`]
/// (`--config /dev/zero` or a FIFO is refused instead of read forever).
pub fn read_config_file(path: &Path) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read};
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a folder"
        } else {
            "not a regular file (a device, FIFO or socket)"
        };
        return Err(Error::new(ErrorKind::InvalidInput, format!("it is {what}")));
    }
    let too_big = || {
        Error::new(
            ErrorKind::InvalidData,
            format!(
                "it is larger than {} KiB; a pipeline config is a few kilobytes",
                MAX_CONFIG_BYTES / 1024
            ),
        )
    };
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(too_big());
    }
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_CONFIG_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_big());
    }
    Ok(text)
}

fn read_source(
    src: &ConfigSource,
    options: &LoadOptions,
    from: Origin,
    sources: &mut Sources,
    diags: &mut Vec<Diagnostic>,
) -> Option<(usize, Option<PathBuf>, String)> {
    match src {
        ConfigSource::File(path) => match read_config_file(path) {
            Ok(text) => {
                let dir = path.parent().map(Path::to_path_buf);
                let key = std::fs::canonicalize(path)
                    .unwrap_or_else(|_| path.clone())
                    .display()
                    .to_string();
                let name = path.display().to_string();
                let idx = sources.add(SourceFile {
                    name,
                    path: Some(path.clone()),
                    text,
                });
                Some((idx, dir, key))
            }
            Err(e) => {
                diags.push(
                    Diagnostic::error(
                        codes::EXTENDS,
                        format!("cannot read config `{}`: {e}", path.display()),
                        from,
                    )
                    .label("this file could not be read"),
                );
                None
            }
        },
        ConfigSource::Text { name, text } => {
            let text = if let Some(b) = name.strip_prefix("builtin:") {
                match options.builtins.iter().find(|(n, _)| n == b) {
                    Some((_, t)) => t.clone(),
                    None => {
                        let names: Vec<&str> =
                            options.builtins.iter().map(|(n, _)| n.as_str()).collect();
                        let mut d = Diagnostic::error(
                            codes::EXTENDS,
                            format!("unknown built-in config `{b}`"),
                            from,
                        );
                        if let Some(s) = did_you_mean(b, names.iter().copied()) {
                            d = d.help(format!("did you mean `builtin:{s}`?"));
                        }
                        diags.push(d.help(format!("built-in configs: {}", names.join(", "))));
                        return None;
                    }
                }
            } else {
                text.clone()
            };
            let idx = sources.add(SourceFile {
                name: name.clone(),
                path: None,
                text,
            });
            Some((idx, None, name.clone()))
        }
    }
}

fn merge_file(merged: &mut MergedConfig, spec: FileSpec) {
    if spec.name.is_some() {
        merged.name = spec.name;
    }
    if spec.description.is_some() {
        merged.description = spec.description;
    }
    for (id, entry) in spec.stages {
        match merged.stages.get_mut(&id) {
            None => {
                merged.stages.insert(id, entry);
            }
            Some(base) => {
                if let Some(t) = entry.type_name {
                    let changed = base
                        .type_name
                        .as_ref()
                        .map(|b| b.value != t.value)
                        .unwrap_or(true);
                    if changed {
                        base.params.clear();
                    }
                    base.type_name = Some(t);
                }
                if entry.inputs.is_some() {
                    base.inputs = entry.inputs;
                }
                if entry.enabled.is_some() {
                    base.enabled = entry.enabled;
                }
                if entry.bypass.is_some() {
                    base.bypass = entry.bypass;
                }
                for (k, p) in entry.params {
                    base.params.insert(k, p);
                }
            }
        }
    }
}

/// Applies one `stage.key=value` override.
pub fn apply_override(merged: &mut MergedConfig, arg: &str, diags: &mut Vec<Diagnostic>) {
    let origin = Origin::CommandLine(arg.to_string());
    let Some((lhs, rhs)) = arg.split_once('=') else {
        diags.push(
            Diagnostic::error(
                codes::UNKNOWN_OVERRIDE,
                "an override must look like `stage.param=value`",
                origin,
            )
            .help("example: --set trace.jump_cost_per_mm=0.5"),
        );
        return;
    };
    let Some((stage, key)) = lhs.trim().split_once('.') else {
        diags.push(
            Diagnostic::error(
                codes::UNKNOWN_OVERRIDE,
                format!("`{}` names no parameter: use `stage.param`", lhs.trim()),
                origin,
            )
            .help("example: --set trace.jump_cost_per_mm=0.5"),
        );
        return;
    };
    let Some(entry) = merged.stages.get_mut(stage) else {
        let mut d = Diagnostic::error(
            codes::UNKNOWN_OVERRIDE,
            format!("override names unknown stage `{stage}`"),
            origin,
        );
        if let Some(s) = did_you_mean(stage, merged.stages.keys().map(String::as_str)) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        diags.push(d.help(format!(
            "stages in this config: {}",
            merged.stages.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
        return;
    };
    let rhs = rhs.trim();
    let value: toml::Value = parse_value(rhs);
    match key {
        "type" => {
            if let Some(s) = value.as_str() {
                if entry.type_name.as_ref().map(|t| t.value.as_str()) != Some(s) {
                    entry.params.clear();
                }
                entry.type_name = Some(Located::new(s.to_string(), origin));
            }
        }
        "enabled" => match value.as_bool() {
            Some(b) => entry.enabled = Some(Located::new(b, origin)),
            None => diags.push(Diagnostic::error(
                codes::INVALID_PARAM,
                "`enabled` must be true or false",
                origin,
            )),
        },
        "bypass" => entry.bypass = Some(Located::new(rhs.trim_matches('"').to_string(), origin)),
        "inputs" => {
            let list = match &value {
                toml::Value::Array(a) => a
                    .iter()
                    .filter_map(|v| v.as_str())
                    .map(str::to_string)
                    .collect(),
                toml::Value::String(s) => vec![s.clone()],
                _ => Vec::new(),
            };
            entry.inputs = Some(Located::new(
                InputsSpec::List(
                    list.into_iter()
                        .map(|s| Located::new(s, origin.clone()))
                        .collect(),
                ),
                origin,
            ));
        }
        _ => {
            entry.params.insert(
                key.to_string(),
                Param {
                    key_origin: origin.clone(),
                    value: Located::new(value, origin),
                },
            );
        }
    }
}

/// Parses an override's right-hand side as a TOML value; bare words become strings.
fn parse_value(rhs: &str) -> toml::Value {
    let doc = format!("v = {rhs}");
    match doc.parse::<toml::Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or(toml::Value::String(rhs.to_string())),
        Err(_) => toml::Value::String(rhs.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_files_must_be_small_regular_files() {
        let dir = std::env::temp_dir().join(format!("ecgdig-cfgread-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = dir.join("ok.toml");
        std::fs::write(&ok, "name = \"x\"\n").unwrap();
        assert_eq!(read_config_file(&ok).unwrap(), "name = \"x\"\n");
        let big = dir.join("big.toml");
        std::fs::write(&big, vec![b'#'; (MAX_CONFIG_BYTES + 1) as usize]).unwrap();
        let e = read_config_file(&big).unwrap_err().to_string();
        assert!(e.contains("larger than 1024 KiB"), "{e}");
        let e = read_config_file(&dir).unwrap_err().to_string();
        assert!(e.contains("a folder"), "{e}");
        #[cfg(unix)]
        {
            let e = read_config_file(Path::new("/dev/zero"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("not a regular file"), "{e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
