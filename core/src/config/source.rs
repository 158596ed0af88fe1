//! Source files of a config and positions inside them.

use std::ops::Range;
use std::path::PathBuf;

/// One config file's text, kept so diagnostics can quote it.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path as the user gave it (or `<embedded default>`).
    pub name: String,
    /// Absolute or relative path on disk, if the text came from a file.
    pub path: Option<PathBuf>,
    pub text: String,
}

impl SourceFile {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = self.text[line_start..offset].chars().count() + 1;
        (line, col)
    }

    /// The full text of a 1-based line, without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        self.text.lines().nth(line.saturating_sub(1)).unwrap_or("")
    }
}

/// Where a value of the resolved config came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A byte range of one of the loaded files (index into [`Sources`]).
    File { file: usize, span: Range<usize> },
    /// A `--set` argument on the command line.
    CommandLine(String),
    /// Filled in by the loader (defaults, bypass rewiring).
    Generated,
}

/// All files read while loading a config (the file and what it extends).
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, file: SourceFile) -> usize {
        self.files.push(file);
        self.files.len() - 1
    }
    pub fn get(&self, i: usize) -> Option<&SourceFile> {
        self.files.get(i)
    }
}

/// A value with its origin.
#[derive(Clone, Debug)]
pub struct Located<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Located<T> {
    pub fn new(value: T, origin: Origin) -> Self {
        Self { value, origin }
    }
    pub fn generated(value: T) -> Self {
        Self {
            value,
            origin: Origin::Generated,
        }
    }
}
