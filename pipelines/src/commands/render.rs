//! `ecgdig render` (being written; see the issue tracker).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct RenderArgs {}

pub fn run(_args: RenderArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`ecgdig render` is not available in this build yet")
}
