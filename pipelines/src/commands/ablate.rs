//! `ecgdig ablate` (being written; see the issue tracker).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct AblateArgs {}

pub fn run(_args: AblateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`ecgdig ablate` is not available in this build yet")
}
