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
