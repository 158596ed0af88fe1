//! Phase 3: type-check the merged config and turn it into a DAG.
//!
//! Checks, every error reported at once: known `type`, known and well-typed
//! parameters, inputs that resolve to existing stages and ports, port kinds
//! that match, required inputs connected, no cycles. Disabled stages are
//! removed and their consumers rewired to the bypass.

use super::diagnostic::{codes, Diagnostic};
use super::raw::{InputsSpec, StageEntry, RESERVED_STAGE_KEYS};
use super::resolve::MergedConfig;
use super::source::{Located, Origin};
use crate::artifact::ArtifactKind;
use crate::registry::{self, did_you_mean};
use crate::stage::{Port, StageConfig};
use std::collections::HashMap;

/// A connection into one input port.
#[derive(Clone, Debug)]
pub struct Edge {
    /// The consuming port.
    pub port: &'static str,
    pub kind: ArtifactKind,
    /// Producing node (index into [`CompiledConfig::nodes`]) and its port.
    pub from: usize,
    pub from_port: &'static str,
}

/// One enabled stage, type-checked.
#[derive(Debug)]
pub struct NodeSpec {
    pub id: String,
    pub type_name: String,
    pub config: Box<dyn StageConfig>,
    /// Every parameter, defaults included, as TOML.
    pub params: toml::Table,
    pub inputs: Vec<Edge>,
    pub outputs: Vec<Port>,
}

/// A valid pipeline: nodes in a topological order (ties keep declaration order).
#[derive(Debug)]
pub struct CompiledConfig {
    pub name: String,
    pub description: Option<String>,
    pub nodes: Vec<NodeSpec>,
    pub config_dir: Option<std::path::PathBuf>,
    /// Ids of disabled stages, for the record.
    pub disabled: Vec<String>,
}

struct Checked {
    entry: StageEntry,
    type_name: String,
    config: Box<dyn StageConfig>,
    params: toml::Table,
    inputs: Vec<Port>,
    outputs: Vec<Port>,
}

fn describe_value(v: &toml::Value) -> String {
    let s = v.to_string();
    if s.len() > 40 {
        format!("{}…", &s[..40])
    } else {
        s
    }
}

fn check_stage(
    entry: &StageEntry,
    diags: &mut Vec<Diagnostic>,
) -> Option<(String, Box<dyn StageConfig>, toml::Table)> {
    let Some(t) = &entry.type_name else {
        diags.push(
            Diagnostic::error(
                codes::MISSING_TYPE,
                format!("stage `{}` has no `type`", entry.id.value),
                entry.id.origin.clone(),
            )
            .label("declared here")
            .help("add `type = \"<stage type>\"`; `ecgdig stages` lists the types"),
        );
        return None;
    };
    let Some(reg) = registry::find(&t.value) else {
        let names = registry::names();
        let mut d = Diagnostic::error(
            codes::UNKNOWN_TYPE,
            format!("unknown stage type `{}`", t.value),
            t.origin.clone(),
        )
        .label("not a registered stage type");
        d = match did_you_mean(&t.value, names.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help("run `ecgdig stages` to list the registered types"),
        };
        d = d.help("a stage from another crate is registered only if the binary references that crate (`use my_stages as _;`)");
        diags.push(d);
        return None;
    };
    let defaults = registry::default_params(reg);
    let mut ok = true;
    for (key, p) in &entry.params {
        if !defaults.contains_key(key) {
            ok = false;
            let known: Vec<&str> = defaults.keys().map(String::as_str).collect();
            let from_cli = matches!(p.key_origin, Origin::CommandLine(_));
            let (code, msg) = if from_cli {
                (
                    codes::UNKNOWN_OVERRIDE,
                    format!(
                        "override of unknown parameter `{key}` for stage `{}` (type `{}`)",
                        entry.id.value, t.value
                    ),
                )
            } else {
                (
                    codes::UNKNOWN_PARAM,
                    format!(
                        "unknown parameter `{key}` for stage `{}` (type `{}`)",
                        entry.id.value, t.value
                    ),
                )
            };
            let mut d = Diagnostic::error(code, msg, p.key_origin.clone())
                .label("not a parameter of this stage type");
            if let Some(s) = did_you_mean(key, known.iter().copied().chain(RESERVED_STAGE_KEYS)) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            d = if known.is_empty() {
                d.help(format!("`{}` takes no parameters", t.value))
            } else {
                d.help(format!("parameters of `{}`: {}", t.value, known.join(", ")))
            };
            diags.push(d);
            continue;
        }
        let mut one = defaults.clone();
        one.insert(key.clone(), p.value.value.clone());
        if let Err(e) = (reg.parse)(toml::Value::Table(one)) {
            ok = false;
            let default = defaults.get(key).map(describe_value).unwrap_or_default();
            diags.push(
                Diagnostic::error(
                    codes::INVALID_PARAM,
                    format!(
                        "invalid value for parameter `{key}` of stage `{}`",
                        entry.id.value
                    ),
                    p.value.origin.clone(),
                )
                .label(first_line(&e))
                .help(format!("the default is `{key} = {default}`")),
            );
        }
    }
    if !ok {
        return None;
    }
    let mut full = defaults;
    for (k, p) in &entry.params {
        full.insert(k.clone(), p.value.value.clone());
    }
    match (reg.parse)(toml::Value::Table(full.clone())) {
        Ok(cfg) => Some((t.value.clone(), cfg, full)),
        Err(e) => {
            diags.push(Diagnostic::error(
                codes::INVALID_PARAM,
                format!(
                    "invalid parameters for stage `{}`: {}",
                    entry.id.value,
                    first_line(&e)
                ),
                entry.id.origin.clone(),
            ));
            None
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

/// A reference `stage` or `stage.port`.
fn split_ref(r: &str) -> (&str, Option<&str>) {
    match r.split_once('.') {
        Some((s, p)) => (s, Some(p)),
        None => (r, None),
    }
}

/// Type-checks a merged config. Returns the compiled graph, or `None` when
/// `diags` holds at least one error.
pub fn compile(merged: MergedConfig, diags: &mut Vec<Diagnostic>) -> Option<CompiledConfig> {
    if merged.stages.is_empty() {
        diags.push(
            Diagnostic::error(
                codes::EMPTY,
                "the pipeline has no stages",
                Origin::Generated,
            )
            .help("declare stages as `[stages.<id>]` tables, or `extends = \"builtin:default\"`"),
        );
        return None;
    }
    // 1. stage types and parameters
    let mut checked: Vec<Option<Checked>> = Vec::new();
    for entry in merged.stages.values() {
        checked.push(
            check_stage(entry, diags).map(|(type_name, config, params)| Checked {
                entry: entry.clone(),
                type_name,
                inputs: config.inputs(),
                outputs: config.outputs(),
                config,
                params,
            }),
        );
    }
    let ids: Vec<&str> = merged.stages.keys().map(String::as_str).collect();
    let index: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, s)| (*s, i)).collect();

    // 2. resolve every input reference to (node, port)
    // raw_edges[i] = (consumer port, producer index, producer port, origin of the reference)
    let mut raw_edges: Vec<Vec<(Port, usize, &'static str, Origin)>> = vec![Vec::new(); ids.len()];
    for (i, c) in checked.iter().enumerate() {
        let Some(c) = c else { continue };
        let pairs = input_pairs(c, diags);
        let listed: Vec<&'static str> = pairs.iter().map(|(p, _)| p.name).collect();
        for (port, src) in pairs {
            let (sid, sport) = split_ref(&src.value);
            let Some(&j) = index.get(sid) else {
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_INPUT,
                    format!(
                        "stage `{}` takes input from unknown stage `{sid}`",
                        c.entry.id.value
                    ),
                    src.origin.clone(),
                )
                .label("no stage with this id");
                if let Some(s) = did_you_mean(sid, ids.iter().copied()) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                diags.push(d);
                continue;
            };
            let Some(producer) = &checked[j] else {
                continue;
            };
            let out = match sport {
                None => producer.outputs.first(),
                Some(p) => producer.outputs.iter().find(|o| o.name == p),
            };
            let Some(out) = out else {
                let names: Vec<&str> = producer.outputs.iter().map(|o| o.name).collect();
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_PORT,
                    match sport {
                        Some(p) => format!(
                            "stage `{sid}` (type `{}`) has no output `{p}`",
                            producer.type_name
                        ),
                        None => format!(
                            "stage `{sid}` (type `{}`) has no outputs",
                            producer.type_name
                        ),
                    },
                    src.origin.clone(),
                )
                .label("no such output port");
                if let Some(s) = sport.and_then(|p| did_you_mean(p, names.iter().copied())) {
                    d = d.help(format!("did you mean `{sid}.{s}`?"));
                }
                if !names.is_empty() {
                    d = d.help(format!(
                        "outputs of `{}`: {}",
                        producer.type_name,
                        names.join(", ")
                    ));
                }
                diags.push(d);
                continue;
            };
            if out.kind != port.kind {
                diags.push(
                    Diagnostic::error(
                        codes::KIND_MISMATCH,
                        format!(
                            "input `{}` of stage `{}` expects {}, but `{}` produces {}",
                            port.name, c.entry.id.value, port.kind, src.value, out.kind
                        ),
                        src.origin.clone(),
                    )
                    .label(format!("this is {}, not {}", out.kind, port.kind))
                    .help(producers_help(&checked, port.kind, i)),
                );
                continue;
            }
            raw_edges[i].push((port, j, out.name, src.origin.clone()));
        }
        for p in &c.inputs {
            if !p.optional
                && !raw_edges[i].iter().any(|(q, ..)| q.name == p.name)
                && !listed.contains(&p.name)
            {
                diags.push(
                    Diagnostic::error(
                        codes::MISSING_INPUT,
                        format!(
                            "stage `{}` (type `{}`) is missing its input `{}` ({})",
                            c.entry.id.value, c.type_name, p.name, p.kind
                        ),
                        c.entry
                            .inputs
                            .as_ref()
                            .map(|x| x.origin.clone())
                            .unwrap_or(c.entry.id.origin.clone()),
                    )
                    .label("required input not connected")
                    .help(producers_help(&checked, p.kind, i)),
                );
            }
        }
    }

    // 3. disabled stages: rewire consumers to the bypass
    let enabled: Vec<bool> = checked
        .iter()
        .map(|c| {
            c.as_ref()
                .map(|c| c.entry.enabled.as_ref().map(|e| e.value).unwrap_or(true))
                .unwrap_or(true)
        })
        .collect();
    // per disabled stage, what stands in for each of its output ports
    let mut bypass: Vec<Vec<(&'static str, usize, &'static str)>> = vec![Vec::new(); ids.len()];
    for (i, c) in checked.iter().enumerate() {
        let Some(c) = c else { continue };
        if enabled[i] {
            continue;
        }
        let out_kind = c.outputs.first().map(|o| o.kind);
        let kind_of = |j: usize, port: &str| {
            checked[j]
                .as_ref()
                .and_then(|p| p.outputs.iter().find(|o| o.name == port))
                .map(|o| o.kind)
        };
        let mut chosen: Vec<(&'static str, usize, &'static str)> = Vec::new();
        match &c.entry.bypass {
            Some(b) => {
                let (sid, sport) = split_ref(&b.value);
                let found = index.get(sid).and_then(|&j| {
                    checked[j].as_ref().and_then(|p| {
                        let o = match sport {
                            None => p.outputs.first(),
                            Some(n) => p.outputs.iter().find(|o| o.name == n),
                        };
                        o.map(|o| (j, o.name, o.kind))
                    })
                });
                match found {
                    Some((j, port, kind)) if Some(kind) == out_kind || out_kind.is_none() => {
                        // the named output stands in for every output of its kind
                        for o in c.outputs.iter().filter(|o| Some(o.kind) == Some(kind)) {
                            chosen.push((o.name, j, port));
                        }
                    }
                    _ => {
                        diags.push(
                            Diagnostic::error(
                                codes::BAD_BYPASS,
                                format!("bypass `{}` of disabled stage `{}` is not a stage producing {}", b.value, c.entry.id.value, out_kind.map(|k| k.name()).unwrap_or("anything")),
                                b.origin.clone(),
                            )
                            .label("cannot stand in for this stage's output")
                            .help("name a stage (or `stage.port`) whose output has the same kind as this stage's output"),
                        );
                    }
                }
            }
            None => {
                // each output: the input of the same name, else the first of its kind
                for o in &c.outputs {
                    let same_kind = |e: &&(Port, usize, &'static str, Origin)| {
                        kind_of(e.1, e.2) == Some(o.kind)
                    };
                    let edge = raw_edges[i]
                        .iter()
                        .filter(same_kind)
                        .find(|e| e.0.name == o.name)
                        .or_else(|| raw_edges[i].iter().find(same_kind));
                    if let Some((_, j, port, _)) = edge {
                        chosen.push((o.name, *j, *port));
                    }
                }
            }
        }
        if chosen.is_empty() && out_kind.is_some() && c.entry.bypass.is_none() {
            diags.push(
                Diagnostic::error(
                    codes::BAD_BYPASS,
                    format!(
                        "stage `{}` is disabled but no input can stand in for its output",
                        c.entry.id.value
                    ),
                    c.entry
                        .enabled
                        .as_ref()
                        .map(|e| e.origin.clone())
                        .unwrap_or(c.entry.id.origin.clone()),
                )
                .help(format!(
                    "add `bypass = \"<stage>\"` naming a stage that produces {}",
                    out_kind.map(|k| k.name()).unwrap_or("?")
                )),
            );
        }
        bypass[i] = chosen;
    }
    let follow = |mut j: usize, mut port: &'static str| -> Option<(usize, &'static str)> {
        for _ in 0..ids.len() + 1 {
            if enabled[j] {
                return Some((j, port));
            }
            // "" is the first output
            let first = checked[j]
                .as_ref()
                .and_then(|c| c.outputs.first())
                .map(|o| o.name);
            let (_, k, p) = bypass[j]
                .iter()
                .find(|(o, ..)| *o == port || (port.is_empty() && Some(*o) == first))
                .copied()?;
            j = k;
            port = p;
        }
        None
    };

    // 4. cycles among enabled stages
    let adjacency: Vec<Vec<usize>> = (0..ids.len())
        .map(|i| raw_edges[i].iter().map(|(_, j, _, _)| *j).collect())
        .collect();
    for cycle in find_cycles(&adjacency) {
        let chain: Vec<&str> = cycle.iter().chain(cycle.first()).map(|&i| ids[i]).collect();
        let first = cycle[0];
        let origin = raw_edges[first]
            .iter()
            .find(|(_, j, _, _)| cycle.contains(j))
            .map(|(_, _, _, o)| o.clone())
            .unwrap_or_else(|| merged.stages[first].id.origin.clone());
        diags.push(
            Diagnostic::error(
                codes::CYCLE,
                format!("stages form a cycle: {}", chain.join(" -> ")),
                origin,
            )
            .label("this input closes the cycle")
            .help("a pipeline must be acyclic: remove one of these inputs"),
        );
    }
    if diags.iter().any(|d| d.is_error()) {
        return None;
    }

    // 5. topological order over enabled stages
    let live: Vec<usize> = (0..ids.len()).filter(|&i| enabled[i]).collect();
    let mut edges: Vec<Vec<(Port, usize, &'static str)>> = vec![Vec::new(); ids.len()];
    for &i in &live {
        for (port, j, p, _) in &raw_edges[i] {
            if let Some((k, q)) = follow(*j, p) {
                edges[i].push((port.clone(), k, q));
            }
        }
    }
    let order = topo_order(&live, &edges);
    let pos: HashMap<usize, usize> = order.iter().enumerate().map(|(n, &i)| (i, n)).collect();

    // 6. unused outputs
    for &i in &live {
        let c = checked[i].as_ref()?;
        let used = live
            .iter()
            .any(|&k| edges[k].iter().any(|(_, j, _)| *j == i));
        if !used && !c.config.is_sink() {
            diags.push(
                Diagnostic::warning(
                    codes::UNUSED_OUTPUT,
                    format!("the output of stage `{}` is never used", ids[i]),
                    c.entry.id.origin.clone(),
                )
                .label("no stage takes this as input"),
            );
        }
    }

    let disabled = (0..ids.len())
        .filter(|&i| !enabled[i])
        .map(|i| ids[i].to_string())
        .collect();
    let mut slots: Vec<Option<Checked>> = checked;
    let nodes = order
        .iter()
        .map(|&i| {
            let c = slots[i].take().expect("checked stage");
            NodeSpec {
                id: ids[i].to_string(),
                type_name: c.type_name,
                params: c.params,
                outputs: c.outputs,
                inputs: edges[i]
                    .iter()
                    .map(|(port, j, p)| Edge {
                        port: port.name,
                        kind: port.kind,
                        from: pos[j],
                        from_port: p,
                    })
                    .collect(),
                config: c.config,
            }
        })
        .collect();
    Some(CompiledConfig {
        name: merged.name.unwrap_or_else(|| "pipeline".to_string()),
        description: merged.description,
        nodes,
        config_dir: merged.config_dir,
        disabled,
    })
}

fn producers_help(checked: &[Option<Checked>], kind: ArtifactKind, except: usize) -> String {
    let names: Vec<String> = checked
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != except)
        .filter_map(|(_, c)| c.as_ref())
        .flat_map(|c| {
            c.outputs
                .iter()
                .enumerate()
                .filter(|(_, o)| o.kind == kind)
                .map(move |(n, o)| {
                    if n == 0 {
                        format!("`{}`", c.entry.id.value)
                    } else {
                        format!("`{}.{}`", c.entry.id.value, o.name)
                    }
                })
        })
        .collect();
    if names.is_empty() {
        format!("no stage in this config produces {kind}")
    } else {
        format!("stages that produce {kind}: {}", names.join(", "))
    }
}

/// Pairs each declared input with the port it fills.
fn input_pairs(c: &Checked, diags: &mut Vec<Diagnostic>) -> Vec<(Port, Located<String>)> {
    let mut out = Vec::new();
    let Some(inputs) = &c.entry.inputs else {
        return out;
    };
    match &inputs.value {
        InputsSpec::List(list) => {
            for (n, src) in list.iter().enumerate() {
                match c.inputs.get(n) {
                    Some(p) => out.push((p.clone(), src.clone())),
                    None => diags.push(
                        Diagnostic::error(
                            codes::UNKNOWN_PORT,
                            format!(
                                "stage `{}` (type `{}`) takes {} input{}, but {} are listed",
                                c.entry.id.value,
                                c.type_name,
                                c.inputs.len(),
                                if c.inputs.len() == 1 { "" } else { "s" },
                                list.len()
                            ),
                            src.origin.clone(),
                        )
                        .label("extra input")
                        .help(format!(
                            "inputs of `{}`, in order: {}",
                            c.type_name,
                            c.inputs
                                .iter()
                                .map(|p| format!("{} ({})", p.name, p.kind))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    ),
                }
            }
        }
        InputsSpec::Map(pairs) => {
            for (port, src) in pairs {
                match c.inputs.iter().find(|p| p.name == port.value) {
                    Some(p) => out.push((p.clone(), src.clone())),
                    None => {
                        let names: Vec<&str> = c.inputs.iter().map(|p| p.name).collect();
                        let mut d = Diagnostic::error(
                            codes::UNKNOWN_PORT,
                            format!(
                                "stage type `{}` has no input port `{}`",
                                c.type_name, port.value
                            ),
                            port.origin.clone(),
                        )
                        .label("unknown input port");
                        if let Some(s) = did_you_mean(&port.value, names.iter().copied()) {
                            d = d.help(format!("did you mean `{s}`?"));
                        }
                        diags.push(d.help(format!(
                            "input ports of `{}`: {}",
                            c.type_name,
                            names.join(", ")
                        )));
                    }
                }
            }
        }
    }
    out
}

/// Every elementary cycle found by a DFS, one per strongly connected group,
/// each as the list of nodes in order.
fn find_cycles(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    // adj[i] lists the producers of i; a cycle is the same in either direction.
    let n = adj.len();
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let mut stack: Vec<usize> = Vec::new();
    let mut cycles: Vec<Vec<usize>> = Vec::new();
    let mut in_cycle = vec![false; n];
    fn dfs(
        v: usize,
        adj: &[Vec<usize>],
        state: &mut [u8],
        stack: &mut Vec<usize>,
        cycles: &mut Vec<Vec<usize>>,
        in_cycle: &mut [bool],
    ) {
        state[v] = 1;
        stack.push(v);
        for &w in &adj[v] {
            if state[w] == 1 {
                let start = stack.iter().position(|&x| x == w).unwrap_or(0);
                let mut cyc: Vec<usize> = stack[start..].to_vec();
                if !cyc.iter().any(|&x| in_cycle[x]) {
                    // print in data-flow order: producer -> consumer
                    cyc.reverse();
                    let min = cyc
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, &x)| x)
                        .map(|(k, _)| k)
                        .unwrap_or(0);
                    cyc.rotate_left(min);
                    for &x in &cyc {
                        in_cycle[x] = true;
                    }
                    cycles.push(cyc);
                }
            } else if state[w] == 0 {
                dfs(w, adj, state, stack, cycles, in_cycle);
            }
        }
        stack.pop();
        state[v] = 2;
    }
    for v in 0..n {
        if state[v] == 0 {
            dfs(v, adj, &mut state, &mut stack, &mut cycles, &mut in_cycle);
        }
    }
    cycles
}

/// Kahn's algorithm; among ready nodes the earliest declared goes first.
fn topo_order(live: &[usize], edges: &[Vec<(Port, usize, &'static str)>]) -> Vec<usize> {
    let mut indeg: HashMap<usize, usize> = live.iter().map(|&i| (i, 0)).collect();
    for &i in live {
        let mut producers: Vec<usize> = edges[i].iter().map(|(_, j, _)| *j).collect();
        producers.sort_unstable();
        producers.dedup();
        *indeg.entry(i).or_default() = producers.len();
    }
    let mut order = Vec::new();
    let mut done: Vec<bool> = vec![false; edges.len()];
    while order.len() < live.len() {
        let Some(&next) = live.iter().find(|&&i| !done[i] && indeg[&i] == 0) else {
            break;
        };
        done[next] = true;
        order.push(next);
        for &i in live {
            if !done[i] && edges[i].iter().any(|(_, j, _)| *j == next) {
                *indeg.get_mut(&i).expect("live node") -= 1;
            }
        }
    }
    order
}
