//! One module per subcommand: its clap arguments and its `run`.

pub mod ablate;
pub mod check;
pub mod digitize;
pub mod eval;
pub mod graph;
pub mod kaggle;
pub mod render;
pub mod stages;
pub mod templates;

/// Clap parser for `--fs`: a number within [`ecgdig::FS_RANGE`].
pub fn parse_fs(s: &str) -> Result<f32, String> {
    let fs: f32 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    ecgdig::check_fs(fs)
}

/// Writes to standard output; a closed pipe (`ecgdig stages | head`) comes
/// back as an error that `main` turns into a quiet exit.
pub fn print_out(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}
