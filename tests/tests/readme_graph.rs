//! The README's pipeline diagram is the default pipeline's graph: its
//! fenced ```mermaid block must equal `ecgdig graph --format mermaid`.

#[test]
fn readme_mermaid_block_is_the_default_pipeline_graph() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let start = readme
        .find("```mermaid\n")
        .expect("README.md has a ```mermaid block")
        + "```mermaid\n".len();
    let len = readme[start..]
        .find("```")
        .expect("the mermaid block is closed");
    let block = &readme[start..start + len];
    let cfg = ecgdig::load_config(None, &[]).expect("the default pipeline loads");
    let want = ecgdig_core::config::graph::to_mermaid(&cfg.compiled);
    assert_eq!(
        block.trim_end(),
        want.trim_end(),
        "README.md's mermaid block differs from `ecgdig graph --format mermaid`: paste the command's output into it"
    );
}
