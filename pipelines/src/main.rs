//! The `ecgdig` command-line tool.

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Digitize paper 12-lead ECGs into calibrated signals.
#[derive(Parser)]
#[command(name = "ecgdig", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Digitize images (files or folders) into page CSVs.
    Digitize(commands::digitize::DigitizeArgs),
    /// Validate a pipeline config (`--resolved`: also print its resolved form).
    Check(commands::check::CheckArgs),
    /// List the registered stages with their parameters and an example.
    Stages(commands::stages::StagesArgs),
    /// Print a pipeline's DAG as Graphviz DOT or Mermaid.
    Graph(commands::graph::GraphArgs),
    /// Render ECG pages (from a record, a CSV or the synthetic model) with ground truth.
    Render(commands::render::RenderArgs),
    /// Score predicted page CSVs against ground truth.
    Eval(commands::eval::EvalArgs),
    /// Run several configs on one dataset and compare them.
    Ablate(commands::ablate::AblateArgs),
    /// Build beat templates (`templates build`) for the `templates` stage.
    Templates(commands::templates::TemplatesArgs),
    /// Kaggle competition I/O: `kaggle submit` and `kaggle eval`.
    Kaggle(commands::kaggle::KaggleArgs),
}

/// True for a write to a closed pipe (`ecgdig stages | head`).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `println!` panics when standard output is a closed pipe; like other Unix
/// tools, exit quietly instead.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    ecgdig::ecgdig_stages::link();
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Digitize(a) => commands::digitize::run(a),
        Command::Check(a) => commands::check::run(a),
        Command::Stages(a) => commands::stages::run(a),
        Command::Graph(a) => commands::graph::run(a),
        Command::Render(a) => commands::render::run(a),
        Command::Eval(a) => commands::eval::run(a),
        Command::Ablate(a) => commands::ablate::run(a),
        Command::Templates(a) => commands::templates::run(a),
        Command::Kaggle(a) => commands::kaggle::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
