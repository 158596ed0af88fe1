//! The compiled DAG as Graphviz DOT or Mermaid text.

use super::CompiledConfig;
use std::fmt::Write;

/// DOT (`dot -Tpng`): one box per stage, edges labelled with port names.
pub fn to_dot(c: &CompiledConfig) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "digraph \"{}\" {{", c.name.replace('"', "'"));
    let _ = writeln!(
        s,
        "  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];"
    );
    for n in &c.nodes {
        let _ = writeln!(
            s,
            "  \"{}\" [label=\"{}\\n({})\"];",
            n.id, n.id, n.type_name
        );
    }
    for n in &c.nodes {
        for e in &n.inputs {
            let from = &c.nodes[e.from];
            let _ = writeln!(
                s,
                "  \"{}\" -> \"{}\" [label=\"{}\"];",
                from.id,
                n.id,
                edge_label(from, e)
            );
        }
    }
    s.push_str("}\n");
    s
}

/// Mermaid flowchart text (renders on GitHub).
pub fn to_mermaid(c: &CompiledConfig) -> String {
    let mut s = String::from("flowchart TD\n");
    for n in &c.nodes {
        let _ = writeln!(
            s,
            "  {}[\"{}<br/><i>{}</i>\"]",
            mermaid_id(&n.id),
            n.id,
            n.type_name
        );
    }
    for n in &c.nodes {
        for e in &n.inputs {
            let from = &c.nodes[e.from];
            let _ = writeln!(
                s,
                "  {} -->|{}| {}",
                mermaid_id(&from.id),
                edge_label(from, e),
                mermaid_id(&n.id)
            );
        }
    }
    s
}

fn edge_label(from: &super::NodeSpec, e: &super::Edge) -> String {
    let default = from.outputs.first().map(|o| o.name) == Some(e.from_port);
    if default || e.from_port == e.port {
        format!("{}", e.kind)
    } else {
        format!("{}: {}", e.from_port, e.kind)
    }
}

fn mermaid_id(id: &str) -> String {
    id.replace('-', "_")
}
