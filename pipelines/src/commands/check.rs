//! `ecgdig check <config>`: validate a config without running it
//! (`--resolved` also prints its fully resolved form).

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct CheckArgs {
    /// Config files to check (none: the embedded default).
    pub configs: Vec<PathBuf>,
    /// `stage.param=value` overrides applied before checking.
    #[arg(long = "set", value_name = "STAGE.PARAM=VALUE")]
    pub set: Vec<String>,
    /// Print the fully resolved config.
    #[arg(long)]
    pub resolved: bool,
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let targets: Vec<Option<PathBuf>> = if args.configs.is_empty() {
        vec![None]
    } else {
        args.configs.into_iter().map(Some).collect()
    };
    let mut failed = false;
    for t in targets {
        let name = t
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or("builtin:default".into());
        match ecgdig::load_config(t.as_deref(), &args.set) {
            Ok(cfg) => {
                if !cfg.warnings.is_empty() {
                    eprintln!("{}", cfg.render_warnings());
                }
                let mut out = String::new();
                if args.resolved {
                    out.push_str(&cfg.resolved_toml());
                    out.push('\n');
                }
                out.push_str(&format!(
                    "ok: {name} ({} stages, hash {})\n",
                    cfg.compiled.nodes.len(),
                    cfg.hash()
                ));
                super::print_out(&out)?;
            }
            Err(e) => {
                failed = true;
                eprintln!("{e}");
                eprintln!("failed: {name}");
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
