//! Config loading: the invalid-config corpus (snapshotted diagnostics),
//! `extends`, type swaps, bypasses, `--set`, resolved configs and graphs.

use ecgdig_core::config::{self, graph, ConfigSource, LoadOptions};
use ecgdig_core::leads::Lead;
use ecgdig_core::pipeline::Pipeline;
use ecgdig_core::stage::{InputSource, RunContext, RunOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn link() {
    ecgdig_tests::link();
    ecgdig_stages::link();
}

fn load(path: &str, overrides: &[&str]) -> Result<config::LoadedConfig, config::ConfigError> {
    link();
    let options = LoadOptions {
        overrides: overrides.iter().map(|s| s.to_string()).collect(),
        builtins: Vec::new(),
    };
    config::load(&ConfigSource::File(PathBuf::from(path)), &options)
}

fn invalid_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("configs/invalid")
        .expect("tests/configs/invalid exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn invalid_corpus_has_at_least_eight_distinct_mistakes() {
    let files = invalid_files();
    assert!(files.len() >= 8, "only {} invalid configs", files.len());
    let mut codes = std::collections::BTreeSet::new();
    for f in &files {
        let err = load(&f.display().to_string(), &[]).expect_err("config must be rejected");
        for d in err.errors() {
            codes.insert(d.code);
        }
    }
    assert!(codes.len() >= 8, "distinct error codes: {codes:?}");
}

#[test]
fn invalid_configs_give_snapshotted_diagnostics_with_line_and_column() {
    for f in invalid_files() {
        let rel = f.display().to_string();
        let err = load(&rel, &[]).expect_err("config must be rejected");
        let text = err.render();
        let name = f
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name")
            .to_string();
        // every error that points into a file names it with line:column
        for d in err.errors() {
            if let Some(loc) = d.location(&err.sources) {
                let parts: Vec<&str> = loc.rsplitn(3, ':').collect();
                assert!(
                    parts.len() == 3
                        && parts[0].parse::<usize>().is_ok()
                        && parts[1].parse::<usize>().is_ok(),
                    "{loc}"
                );
            }
        }
        assert!(
            text.contains(&format!("{rel}:")) || name == "extends_missing",
            "{name}: no location in\n{text}"
        );
        insta::assert_snapshot!(name, text);
    }
}

#[test]
fn all_errors_are_reported_at_once() {
    let err = load("configs/invalid/many_errors.toml", &[]).expect_err("rejected");
    let codes: Vec<&str> = err.errors().map(|d| d.code).collect();
    assert!(codes.contains(&"E012"), "{codes:?}");
    assert!(codes.contains(&"E013"), "{codes:?}");
    assert!(codes.contains(&"E014"), "{codes:?}");
    assert!(codes.contains(&"E015"), "{codes:?}");
}

fn run(cfg: config::LoadedConfig) -> ecgdig_core::artifact::Signals {
    let p = Pipeline::build(cfg).expect("builds");
    let opts = Arc::new(RunOptions {
        fs: 100.0,
        ..RunOptions::default()
    });
    let img = ecgdig_core::artifact::PageImage::new(image::RgbImage::new(1, 1));
    let ctx = RunContext::new(InputSource::Image(Arc::new(img)), "t", opts);
    let out = p.run(&ctx).expect("runs");
    (*out.signals.expect("signals")).clone()
}

fn peak(s: &ecgdig_core::artifact::Signals) -> f32 {
    s.lead(Lead::I)
        .expect("lead I")
        .samples
        .iter()
        .fold(0.0f32, |m, v| m.max(v.abs()))
}

#[test]
fn base_config_runs_end_to_end() {
    let s = run(load("configs/valid/base.toml", &[]).expect("valid"));
    assert_eq!(s.n_samples, 1000);
    assert!(
        (peak(&s) - 20.0).abs() < 1e-3,
        "1 mV * 2 * 10 = 20, got {}",
        peak(&s)
    );
}

#[test]
fn extends_overrides_a_parameter_and_bypasses_a_disabled_stage() {
    let cfg = load("configs/valid/ablation.toml", &[]).expect("valid");
    assert_eq!(cfg.compiled.name, "ablation");
    assert_eq!(cfg.compiled.disabled, vec!["boost".to_string()]);
    let csv = cfg
        .compiled
        .nodes
        .iter()
        .find(|n| n.id == "csv")
        .expect("csv");
    assert_eq!(cfg.compiled.nodes[csv.inputs[0].from].id, "gain");
    let s = run(cfg);
    assert!(
        (peak(&s) - 3.0).abs() < 1e-3,
        "gain 3, boost bypassed: {}",
        peak(&s)
    );
}

#[test]
fn swapping_a_type_drops_old_parameters_and_keeps_inputs() {
    let cfg = load("configs/valid/swap_type.toml", &[]).expect("valid");
    let boost = cfg
        .compiled
        .nodes
        .iter()
        .find(|n| n.id == "boost")
        .expect("boost");
    assert_eq!(boost.type_name, "fixture_sum");
    assert!(boost.params.is_empty());
    assert_eq!(cfg.compiled.nodes[boost.inputs[0].from].id, "gain");
    assert!((peak(&run(cfg)) - 2.0).abs() < 1e-3);
}

#[test]
fn set_overrides_parameters_and_rejects_unknown_keys() {
    let cfg = load(
        "configs/valid/base.toml",
        &["gain.gain=5", "boost.enabled=false"],
    )
    .expect("valid");
    assert!((peak(&run(cfg)) - 5.0).abs() < 1e-3);

    let err = load("configs/valid/base.toml", &["gain.gian=5"]).expect_err("unknown key");
    let text = err.render();
    assert!(
        text.contains("E020") && text.contains("did you mean `gain`?"),
        "{text}"
    );
    assert!(text.contains("--set gain.gian=5"), "{text}");

    let err = load("configs/valid/base.toml", &["gian.gain=5"]).expect_err("unknown stage");
    assert!(err.render().contains("did you mean `gain`?"));

    let err = load("configs/valid/base.toml", &["gain.gain=loud"]).expect_err("bad value");
    assert!(err.render().contains("E014"), "{}", err.render());
}

#[test]
fn resolved_config_reloads_to_the_same_pipeline_and_hash() {
    let cfg = load("configs/valid/ablation.toml", &["gain.gain=4"]).expect("valid");
    let text = cfg.resolved_toml();
    assert!(text.contains("gain = 4"), "{text}");
    assert!(
        text.contains("amplitude_mv = 1.0") && text.contains("frequency_hz = 1.0"),
        "defaults included:\n{text}"
    );
    let again = config::load_str("resolved", &text, &LoadOptions::default())
        .expect("resolved config loads");
    assert_eq!(again.hash(), cfg.hash());
    let other = load("configs/valid/ablation.toml", &["gain.gain=5"]).expect("valid");
    assert_ne!(other.hash(), cfg.hash());
}

#[test]
fn graphs_show_every_edge() {
    let cfg = load("configs/valid/base.toml", &[]).expect("valid");
    let dot = graph::to_dot(&cfg.compiled);
    assert!(
        dot.contains("\"source\" -> \"gain\"") && dot.contains("\"boost\" -> \"csv\""),
        "{dot}"
    );
    let mm = graph::to_mermaid(&cfg.compiled);
    assert!(
        mm.starts_with("flowchart TD") && mm.contains("gain -->|signals| boost"),
        "{mm}"
    );
}

#[test]
fn unused_output_is_a_warning_not_an_error() {
    link();
    let text = "[stages.source]\ntype = \"fixture_source\"\n[stages.lonely]\ntype = \"fixture_gain\"\ninputs = [\"source\"]\n";
    let cfg = config::load_str("w.toml", text, &LoadOptions::default()).expect("warnings only");
    assert!(cfg
        .warnings
        .iter()
        .any(|d| d.code == "W001" && d.message.contains("lonely")));
}

#[test]
fn every_registered_stage_example_is_valid_and_documented() {
    link();
    let all = ecgdig_core::registry::all();
    assert!(all.len() >= 5);
    for reg in all {
        config::check_stage_example(reg.example)
            .unwrap_or_else(|e| panic!("example of `{}` is invalid:\n{e}", reg.type_name));
        let params = ecgdig_core::registry::default_params(reg);
        for k in params.keys() {
            assert!(
                reg.params.iter().any(|(n, d)| n == k && !d.is_empty()),
                "parameter `{k}` of `{}` is not documented in register_stage!",
                reg.type_name
            );
        }
        for (n, _) in reg.params {
            assert!(
                params.contains_key(*n),
                "`{}` documents unknown parameter `{n}`",
                reg.type_name
            );
        }
    }
}

#[test]
fn relative_paths_resolve_against_the_config_folder() {
    let ctx = ecgdig_core::stage::BuildContext {
        config_dir: Some(PathBuf::from("configs/valid")),
    };
    assert_eq!(
        ctx.resolve_path(Path::new("m.onnx")),
        PathBuf::from("configs/valid/m.onnx")
    );
    assert_eq!(
        ctx.resolve_path(Path::new("/abs/m.onnx")),
        PathBuf::from("/abs/m.onnx")
    );
}

#[test]
fn a_disabled_stage_with_two_outputs_is_bypassed_port_by_port() {
    // `rhythm` passes on a layout and traces; disabled, each consumer reads
    // the input of the same name instead (`limbs`' outputs)
    let cfg = load("../configs/ablations/no-rhythm-match.toml", &[]).expect("valid");
    assert_eq!(cfg.compiled.disabled, vec!["rhythm".to_string()]);
    let nodes = &cfg.compiled.nodes;
    for consumer in ["signals", "confidence", "overlay"] {
        let node = nodes.iter().find(|n| n.id == consumer).expect("consumer");
        for (port, producer) in [("layout", "limbs"), ("traces", "limbs")] {
            let edge = node
                .inputs
                .iter()
                .find(|e| e.port == port)
                .expect("connected");
            assert_eq!(nodes[edge.from].id, producer, "{consumer}.{port}");
        }
    }
    assert!(
        !cfg.warnings
            .iter()
            .any(|d| d.message.contains("never used")),
        "no unused-output warning for the bypassed stage's inputs"
    );
}
