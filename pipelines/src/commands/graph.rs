//! `ecgdig graph <config>`: the DAG as DOT or Mermaid.

use clap::{Args, ValueEnum};
use ecgdig_core::config::graph;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Args)]
pub struct GraphArgs {
    /// Config file (none: the embedded default).
    pub config: Option<PathBuf>,
    /// Output format: Mermaid (as in the README) or Graphviz DOT.
    #[arg(long, value_enum, default_value = "mermaid")]
    pub format: GraphFormat,
    /// `stage.param=value` overrides applied before drawing (e.g. to disable a stage).
    #[arg(long = "set", value_name = "STAGE.PARAM=VALUE")]
    pub set: Vec<String>,
}

pub fn run(args: GraphArgs) -> anyhow::Result<ExitCode> {
    match ecgdig::load_config(args.config.as_deref(), &args.set) {
        Ok(cfg) => {
            let text = match args.format {
                GraphFormat::Dot => graph::to_dot(&cfg.compiled),
                GraphFormat::Mermaid => graph::to_mermaid(&cfg.compiled),
            };
            super::print_out(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::from(1))
        }
    }
}
