//! `ecgdig eval` (being written; see the issue tracker).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct EvalArgs {}

pub fn run(_args: EvalArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`ecgdig eval` is not available in this build yet")
}
