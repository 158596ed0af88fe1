//! Errors raised while processing one input. Each carries a class, so that a
//! batch can report *why* a file failed and tests can assert the class.

use std::fmt;

/// Broad reason for a failure, stable enough to assert on in tests and to
/// group in batch reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The file could not be read (missing, permission, I/O).
    Io,
    /// The bytes are not a decodable image (empty, truncated, corrupt, unknown format).
    Decode,
    /// The image is too large to process safely.
    TooLarge,
    /// The image is too small to hold an ECG.
    TooSmall,
    /// The image decoded but holds no ECG grid or traces.
    NotEcg,
    /// A model or runtime library is missing or unusable.
    Runtime,
    /// Writing an output failed.
    Output,
    /// A stage failed for another reason.
    Stage,
    /// Digitized, but most of the page's leads are probably wrong (its
    /// verdict is `failed`; the outputs are written for inspection).
    LowConfidence,
}

impl ErrorClass {
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Io => "io",
            ErrorClass::Decode => "decode",
            ErrorClass::TooLarge => "too_large",
            ErrorClass::TooSmall => "too_small",
            ErrorClass::NotEcg => "not_ecg",
            ErrorClass::Runtime => "runtime",
            ErrorClass::Output => "output",
            ErrorClass::Stage => "stage",
            ErrorClass::LowConfidence => "low_confidence",
        }
    }
}

/// An error while running a pipeline on one input.
#[derive(Debug, Clone)]
pub struct Error {
    pub class: ErrorClass,
    pub message: String,
    /// Outer context, innermost first ("stage `grid` (grid_scale)").
    pub context: Vec<String>,
}

impl Error {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
            context: Vec::new(),
        }
    }
    pub fn stage(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Stage, message)
    }
    pub fn not_ecg(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::NotEcg, message)
    }
    /// An I/O failure reading an input file, naming the file.
    pub fn cannot_read(path: &std::path::Path, e: impl fmt::Display) -> Self {
        Self::new(
            ErrorClass::Io,
            format!("cannot read {}: {e}", path.display()),
        )
    }
    /// Adds an outer context line.
    pub fn context(mut self, ctx: impl Into<String>) -> Self {
        self.context.push(ctx.into());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.context.iter().rev() {
            write!(f, "{c}: ")?;
        }
        write!(f, "{} [{}]", self.message, self.class.name())
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorClass::Io, e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
