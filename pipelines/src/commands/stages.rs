//! `ecgdig stages`: the catalogue of registered stages.

use clap::Args;
use ecgdig_core::registry;
use std::fmt::Write as _;
use std::process::ExitCode;

#[derive(Args)]
pub struct StagesArgs {
    /// Show only this stage type.
    pub name: Option<String>,
}

pub fn run(args: StagesArgs) -> anyhow::Result<ExitCode> {
    let all = registry::all();
    let shown: Vec<_> = all
        .iter()
        .filter(|r| args.name.as_deref().is_none_or(|n| r.type_name == n))
        .collect();
    if shown.is_empty() {
        let name = args.name.unwrap_or_default();
        let hint = registry::did_you_mean(&name, registry::names())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        eprintln!("error: no stage type `{name}`{hint}");
        return Ok(ExitCode::from(1));
    }
    let mut out = String::new();
    for reg in shown {
        let cfg = (reg.default_config)();
        writeln!(out, "## {}\n{}\n", reg.type_name, reg.summary)?;
        let ports = |ps: Vec<ecgdig_core::stage::Port>| {
            if ps.is_empty() {
                "none".to_string()
            } else {
                ps.iter()
                    .map(|p| {
                        format!(
                            "{} ({}{})",
                            p.name,
                            p.kind,
                            if p.optional { ", optional" } else { "" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        writeln!(out, "inputs:  {}", ports(cfg.inputs()))?;
        writeln!(out, "outputs: {}", ports(cfg.outputs()))?;
        let defaults = registry::default_params(reg);
        if defaults.is_empty() {
            writeln!(out, "parameters: none")?;
        } else {
            writeln!(out, "parameters:")?;
            for (k, v) in &defaults {
                let doc = reg
                    .params
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, d)| *d)
                    .unwrap_or("");
                writeln!(out, "  {k} = {v}    # {doc}")?;
            }
        }
        writeln!(out, "example:\n{}", indent(reg.example))?;
    }
    super::print_out(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
