//! Diagnostics: what went wrong in a config, where, and what to do about it.
//!
//! Rendered like a compiler message, so that a user can jump to the line:
//!
//! ```text
//! error[E012]: unknown stage type `grid_scal`
//!   --> configs/bad.toml:5:8
//!    |
//!  5 | type = "grid_scal"
//!    |        ^^^^^^^^^^^ not a registered stage type
//!    = help: did you mean `grid_scale`?
//! ```

use super::source::{Origin, Sources};
use std::fmt::Write;

/// Severity of a diagnostic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// Stable diagnostic codes. The numbers never change meaning.
pub mod codes {
    pub const SYNTAX: &str = "E001";
    pub const STRUCTURE: &str = "E002";
    pub const EXTENDS: &str = "E003";
    pub const DUPLICATE_ID: &str = "E010";
    pub const MISSING_TYPE: &str = "E011";
    pub const UNKNOWN_TYPE: &str = "E012";
    pub const UNKNOWN_PARAM: &str = "E013";
    pub const INVALID_PARAM: &str = "E014";
    pub const UNKNOWN_INPUT: &str = "E015";
    pub const UNKNOWN_PORT: &str = "E016";
    pub const MISSING_INPUT: &str = "E017";
    pub const KIND_MISMATCH: &str = "E018";
    pub const CYCLE: &str = "E019";
    pub const UNKNOWN_OVERRIDE: &str = "E020";
    pub const BAD_BYPASS: &str = "E021";
    pub const EMPTY: &str = "E022";
    pub const UNUSED_OUTPUT: &str = "W001";
}

/// One message about a config.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    /// Where the problem is, if known.
    pub origin: Origin,
    /// Short text under the caret.
    pub label: String,
    /// Notes and suggestions (`= help: ...`).
    pub help: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>, origin: Origin) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            origin,
            label: String::new(),
            help: Vec::new(),
        }
    }
    pub fn warning(code: &'static str, message: impl Into<String>, origin: Origin) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, message, origin)
        }
    }
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help.push(help.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:col` of the diagnostic, if it points into a file.
    pub fn location(&self, sources: &Sources) -> Option<String> {
        if let Origin::File { file, span } = &self.origin {
            let f = sources.get(*file)?;
            let (l, c) = f.line_col(span.start);
            return Some(format!("{}:{}:{}", f.name, l, c));
        }
        None
    }

    /// Renders the diagnostic with a quoted source line and caret.
    pub fn render(&self, sources: &Sources) -> String {
        let mut out = String::new();
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{sev}[{}]: {}", self.code, self.message);
        match &self.origin {
            Origin::File { file, span } => {
                if let Some(f) = sources.get(*file) {
                    let (line, col) = f.line_col(span.start);
                    let text = f.line_text(line);
                    let width = line.to_string().len();
                    let pad = " ".repeat(width);
                    // caret length: the span on this line, at least one char
                    let (end_line, end_col) = f.line_col(span.end.max(span.start + 1));
                    let caret_len = if end_line == line {
                        end_col.saturating_sub(col).max(1)
                    } else {
                        text.chars().count().saturating_sub(col - 1).max(1)
                    };
                    let _ = writeln!(out, "{pad}--> {}:{line}:{col}", f.name);
                    let _ = writeln!(out, "{pad} |");
                    let _ = writeln!(out, "{line} | {text}");
                    let caret = format!(
                        "{}{} {}",
                        " ".repeat(col - 1),
                        "^".repeat(caret_len),
                        self.label
                    );
                    let _ = writeln!(out, "{pad} | {}", caret.trim_end());
                    if !self.help.is_empty() {
                        let _ = writeln!(out, "{pad} |");
                    }
                    for h in &self.help {
                        let _ = writeln!(out, "{pad} = help: {h}");
                    }
                    return out;
                }
            }
            Origin::CommandLine(arg) => {
                let _ = writeln!(out, "  --> command line: --set {arg}");
                if !self.label.is_empty() {
                    let _ = writeln!(out, "   = note: {}", self.label);
                }
            }
            Origin::Generated => {
                if !self.label.is_empty() {
                    let _ = writeln!(out, "   = note: {}", self.label);
                }
            }
        }
        for h in &self.help {
            let _ = writeln!(out, "   = help: {h}");
        }
        out
    }
}

/// Every problem found while loading a config, errors and warnings alike.
#[derive(Clone, Debug)]
pub struct ConfigError {
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Sources,
}

impl ConfigError {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
    /// All diagnostics rendered, followed by a one-line count.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            out.push_str(&d.render(&self.sources));
            out.push('\n');
        }
        let n = self.errors().count();
        let _ = write!(
            out,
            "{} error{} found in the pipeline config",
            n,
            if n == 1 { "" } else { "s" }
        );
        out
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for ConfigError {}
