//! Phase 1: parse one TOML file into located stage entries.
//!
//! Every key and value keeps its byte span, so that later phases can point at
//! the exact line and column of a mistake, even after `extends` merging.

use super::diagnostic::{codes, Diagnostic};
use super::source::{Located, Origin, SourceFile, Sources};
use crate::registry::did_you_mean;
use indexmap::IndexMap;
use serde::Deserialize;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

/// A stage's `inputs`: positional (`["a", "b"]`) or by port (`{ image = "a" }`).
#[derive(Clone, Debug)]
pub enum InputsSpec {
    List(Vec<Located<String>>),
    Map(Vec<(Located<String>, Located<String>)>),
}

/// One parameter as written: the key's position and the value.
#[derive(Clone, Debug)]
pub struct Param {
    pub key_origin: Origin,
    pub value: Located<toml::Value>,
}

/// One `[stages.<id>]` table.
#[derive(Clone, Debug)]
pub struct StageEntry {
    pub id: Located<String>,
    pub type_name: Option<Located<String>>,
    pub inputs: Option<Located<InputsSpec>>,
    pub enabled: Option<Located<bool>>,
    pub bypass: Option<Located<String>>,
    pub params: IndexMap<String, Param>,
}

/// One parsed file.
#[derive(Clone, Debug, Default)]
pub struct FileSpec {
    pub file: usize,
    pub extends: Option<Located<String>>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub stages: IndexMap<String, StageEntry>,
}

/// Keys a stage table reserves for wiring; everything else is a parameter.
pub const RESERVED_STAGE_KEYS: [&str; 4] = ["type", "inputs", "enabled", "bypass"];
const TOP_LEVEL_KEYS: [&str; 4] = ["extends", "name", "description", "stages"];

fn origin(file: usize, span: std::ops::Range<usize>) -> Origin {
    Origin::File { file, span }
}

fn to_value(v: &Spanned<DeValue<'_>>) -> Option<toml::Value> {
    toml::Value::deserialize(ValueDeserializer::from(v.clone())).ok()
}

fn describe(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Parses one file. Problems are pushed to `diags`; the spec holds what could be read.
pub fn parse_file(sources: &Sources, file: usize, diags: &mut Vec<Diagnostic>) -> FileSpec {
    let src: &SourceFile = match sources.get(file) {
        Some(s) => s,
        None => return FileSpec::default(),
    };
    let mut spec = FileSpec {
        file,
        ..Default::default()
    };
    let doc = match DeTable::parse(&src.text) {
        Ok(d) => d,
        Err(e) => {
            diags.push(syntax_error(file, &e, &src.text));
            return spec;
        }
    };
    for (key, value) in doc.get_ref().iter() {
        let kspan = key.span();
        match key.get_ref().as_ref() {
            "extends" => match value.get_ref().as_str() {
                Some(s) => {
                    spec.extends = Some(Located::new(s.to_string(), origin(file, value.span())))
                }
                None => diags.push(type_error(
                    file,
                    value,
                    "`extends` must be a file path string",
                )),
            },
            "name" => spec.name = value.get_ref().as_str().map(str::to_string),
            "description" => spec.description = value.get_ref().as_str().map(str::to_string),
            "stages" => match value.get_ref() {
                DeValue::Table(t) => {
                    for (id, body) in t.iter() {
                        if let Some(entry) = parse_stage(file, id, body, diags) {
                            spec.stages.insert(entry.id.value.clone(), entry);
                        }
                    }
                }
                other => diags.push(
                    Diagnostic::error(
                        codes::STRUCTURE,
                        format!("`stages` must be a table, found {}", describe(other)),
                        origin(file, value.span()),
                    )
                    .help("declare each stage as `[stages.<id>]` followed by `type = \"...\"`"),
                ),
            },
            other => {
                let mut d = Diagnostic::error(
                    codes::STRUCTURE,
                    format!("unknown top-level key `{other}`"),
                    origin(file, kspan),
                )
                .label("not a pipeline setting");
                d = match did_you_mean(other, TOP_LEVEL_KEYS) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!(
                        "top-level keys are {}; stages go under `[stages.<id>]`",
                        TOP_LEVEL_KEYS.map(|k| format!("`{k}`")).join(", ")
                    )),
                };
                diags.push(d);
            }
        }
    }
    spec
}

fn type_error(file: usize, value: &Spanned<DeValue<'_>>, msg: &str) -> Diagnostic {
    Diagnostic::error(
        codes::STRUCTURE,
        msg.to_string(),
        origin(file, value.span()),
    )
    .label(format!("found {}", describe(value.get_ref())))
}

fn syntax_error(file: usize, e: &toml::de::Error, text: &str) -> Diagnostic {
    let span = e.span().unwrap_or(0..0);
    let msg = e.message().trim().to_string();
    if msg.contains("duplicate") {
        let line_start = text[..span.start.min(text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line = text[line_start..].lines().next().unwrap_or("");
        if line.trim_start().starts_with("[stages.") {
            return Diagnostic::error(codes::DUPLICATE_ID, "duplicate stage id", origin(file, span))
                .label("this stage id is already declared above")
                .help("give each stage a unique id; to change a stage of an extended config, declare it once and set only what changes");
        }
    }
    Diagnostic::error(
        codes::SYNTAX,
        format!("invalid TOML: {msg}"),
        origin(file, span),
    )
}

fn parse_stage(
    file: usize,
    id: &Spanned<std::borrow::Cow<'_, str>>,
    body: &Spanned<DeValue<'_>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<StageEntry> {
    let id_loc = Located::new(id.get_ref().to_string(), origin(file, id.span()));
    let table = match body.get_ref() {
        DeValue::Table(t) => t,
        other => {
            diags.push(
                Diagnostic::error(
                    codes::STRUCTURE,
                    format!(
                        "stage `{}` must be a table, found {}",
                        id_loc.value,
                        describe(other)
                    ),
                    origin(file, body.span()),
                )
                .help(format!(
                    "write it as `[stages.{}]` with `type = \"...\"` below",
                    id_loc.value
                )),
            );
            return None;
        }
    };
    if !valid_id(&id_loc.value) {
        diags.push(
            Diagnostic::error(
                codes::STRUCTURE,
                format!("invalid stage id `{}`", id_loc.value),
                id_loc.origin.clone(),
            )
            .help("stage ids use letters, digits, `_` and `-` (a `.` separates a stage from its output port)"),
        );
    }
    let mut entry = StageEntry {
        id: id_loc,
        type_name: None,
        inputs: None,
        enabled: None,
        bypass: None,
        params: IndexMap::new(),
    };
    for (key, value) in table.iter() {
        let vo = origin(file, value.span());
        match key.get_ref().as_ref() {
            "type" => match value.get_ref().as_str() {
                Some(s) => entry.type_name = Some(Located::new(s.to_string(), vo)),
                None => diags.push(type_error(
                    file,
                    value,
                    "`type` must be a string naming a stage type",
                )),
            },
            "enabled" => match value.get_ref().as_bool() {
                Some(b) => entry.enabled = Some(Located::new(b, vo)),
                None => diags.push(type_error(file, value, "`enabled` must be true or false")),
            },
            "bypass" => match value.get_ref().as_str() {
                Some(s) => entry.bypass = Some(Located::new(s.to_string(), vo)),
                None => diags.push(type_error(
                    file,
                    value,
                    "`bypass` must name a stage (or `stage.port`)",
                )),
            },
            "inputs" => {
                if let Some(i) = parse_inputs(file, value, diags) {
                    entry.inputs = Some(Located::new(i, vo));
                }
            }
            name => {
                if let Some(v) = to_value(value) {
                    entry.params.insert(
                        name.to_string(),
                        Param {
                            key_origin: origin(file, key.span()),
                            value: Located::new(v, vo),
                        },
                    );
                }
            }
        }
    }
    Some(entry)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn parse_inputs(
    file: usize,
    value: &Spanned<DeValue<'_>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<InputsSpec> {
    let bad = |diags: &mut Vec<Diagnostic>, v: &Spanned<DeValue<'_>>| {
        diags.push(
            type_error(file, v, "`inputs` must be a list of stage names or a table of port = \"stage\"")
                .help("examples: `inputs = [\"grid\"]` or `inputs = { image = \"deskew\", mask = \"segment.mask\" }`"),
        );
    };
    match value.get_ref() {
        DeValue::Array(items) => {
            let mut out = Vec::new();
            for it in items.iter() {
                match it.get_ref().as_str() {
                    Some(s) => out.push(Located::new(s.to_string(), origin(file, it.span()))),
                    None => bad(diags, it),
                }
            }
            Some(InputsSpec::List(out))
        }
        DeValue::String(s) => Some(InputsSpec::List(vec![Located::new(
            s.to_string(),
            origin(file, value.span()),
        )])),
        DeValue::Table(t) => {
            let mut out = Vec::new();
            for (k, v) in t.iter() {
                match v.get_ref().as_str() {
                    Some(s) => out.push((
                        Located::new(k.get_ref().to_string(), origin(file, k.span())),
                        Located::new(s.to_string(), origin(file, v.span())),
                    )),
                    None => bad(diags, v),
                }
            }
            Some(InputsSpec::Map(out))
        }
        _ => {
            bad(diags, value);
            None
        }
    }
}
