//! Running a compiled pipeline on one input.
//!
//! Stages run in topological order. Each stage's outputs are kept until the
//! last consumer has run, then dropped, so a page holds few images at once.
//! The pipeline is `Send + Sync`: one instance serves all rayon workers.

use crate::artifact::Artifact;
use crate::config::{CompiledConfig, LoadedConfig};
use crate::error::{Error, Result};
use crate::stage::{BuildContext, RunContext, Stage, StageInputs};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A runnable pipeline: the checked graph plus each stage's runtime object.
pub struct Pipeline {
    pub config: LoadedConfig,
    stages: Vec<Box<dyn Stage>>,
    /// For each node, the index of the last node that consumes it.
    last_use: Vec<usize>,
    resolved: String,
    hash: String,
}

/// What one run produced.
pub struct RunOutput {
    /// Outputs of every stage that no other stage consumes, keyed by `stage.port`.
    pub terminal: HashMap<String, Artifact>,
    /// Wall time per stage, in execution order.
    pub timings: Vec<(String, Duration)>,
    /// The last signals produced in execution order (what the writers saw).
    pub signals: Option<std::sync::Arc<crate::artifact::Signals>>,
}

impl RunOutput {
    /// The output of `stage` (its default port) if it was terminal.
    pub fn get(&self, stage: &str) -> Option<&Artifact> {
        self.terminal.get(stage).or_else(|| {
            self.terminal
                .iter()
                .find(|(k, _)| k.split('.').next() == Some(stage))
                .map(|(_, v)| v)
        })
    }
}

impl Pipeline {
    /// Builds every stage's runtime object.
    pub fn build(config: LoadedConfig) -> Result<Self> {
        let ctx = BuildContext {
            config_dir: config.compiled.config_dir.clone(),
        };
        let mut stages = Vec::with_capacity(config.compiled.nodes.len());
        for n in &config.compiled.nodes {
            let s = n
                .config
                .build(&ctx)
                .map_err(|e| e.context(format!("building stage `{}` ({})", n.id, n.type_name)))?;
            stages.push(s);
        }
        let nodes = &config.compiled.nodes;
        let mut last_use: Vec<usize> = (0..nodes.len()).collect();
        for (i, n) in nodes.iter().enumerate() {
            for e in &n.inputs {
                last_use[e.from] = last_use[e.from].max(i);
            }
        }
        let resolved = config.resolved_toml();
        let hash = crate::config::fnv1a_hex(&resolved);
        Ok(Self {
            config,
            stages,
            last_use,
            resolved,
            hash,
        })
    }

    pub fn compiled(&self) -> &CompiledConfig {
        &self.config.compiled
    }
    /// The fully resolved config text (saved next to outputs).
    pub fn resolved_toml(&self) -> &str {
        &self.resolved
    }
    /// Hash of the resolved config.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Runs every stage on one input.
    pub fn run(&self, ctx: &RunContext) -> Result<RunOutput> {
        let nodes = &self.config.compiled.nodes;
        let mut produced: Vec<Option<Vec<(&'static str, Artifact)>>> = vec![None; nodes.len()];
        let mut consumed = vec![false; nodes.len()];
        let mut timings = Vec::with_capacity(nodes.len());
        let mut terminal = HashMap::new();
        let mut last_signals = None;
        let mut ctx = ctx.clone();
        ctx.config_hash = self.hash.clone();
        for (i, (node, stage)) in nodes.iter().zip(&self.stages).enumerate() {
            let mut inputs = StageInputs::new();
            for e in &node.inputs {
                consumed[e.from] = true;
                let art = produced[e.from]
                    .as_ref()
                    .and_then(|outs| outs.iter().find(|(p, _)| *p == e.from_port))
                    .map(|(_, a)| a.clone())
                    .ok_or_else(|| {
                        Error::stage(format!(
                            "internal: output `{}.{}` missing",
                            nodes[e.from].id, e.from_port
                        ))
                    })?;
                inputs.values.insert(e.port, art);
            }
            let t0 = Instant::now();
            let out = stage
                .run(&inputs, &ctx)
                .map_err(|e| e.context(format!("stage `{}` ({})", node.id, node.type_name)))?;
            timings.push((node.id.clone(), t0.elapsed()));
            drop(inputs);
            let mut named = Vec::with_capacity(out.values.len());
            if let Some((_, Artifact::Signals(s))) = out.values.first() {
                last_signals = Some(s.clone());
            }
            for (k, (port, art)) in out.values.into_iter().enumerate() {
                let declared = node.outputs.get(k).map(|p| p.name).unwrap_or("");
                let name = if port.is_empty() { declared } else { port };
                if let Some(p) = node.outputs.iter().find(|p| p.name == name) {
                    if p.kind != art.kind() {
                        return Err(Error::stage(format!(
                            "stage `{}` produced {} on port `{}`, which is declared as {}",
                            node.id,
                            art.kind(),
                            name,
                            p.kind
                        )));
                    }
                }
                named.push((name, art));
            }
            produced[i] = Some(named);
            // free what no later stage needs
            for j in 0..i {
                if self.last_use[j] == i && consumed[j] && self.last_use[j] != j {
                    produced[j] = None;
                }
            }
        }
        for (i, node) in nodes.iter().enumerate() {
            if self.last_use[i] == i {
                if let Some(outs) = produced[i].take() {
                    for (port, art) in outs {
                        terminal.insert(format!("{}.{}", node.id, port), art);
                    }
                }
            }
        }
        Ok(RunOutput {
            terminal,
            timings,
            signals: last_signals,
        })
    }
}
