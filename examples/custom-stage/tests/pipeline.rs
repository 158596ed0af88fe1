//! Loads a TOML pipeline that uses the outside stage, and runs it.

use ecgdig::{Digitizer, DigitizerOptions};
use ecgdig_core::leads::Lead;
use std::path::PathBuf;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_outside_stage_is_registered() {
    ecgdig_example_stage::link();
    assert!(ecgdig_core::registry::find("median_smooth").is_some());
}

#[test]
fn a_config_extending_the_default_runs_the_outside_stage() {
    ecgdig_example_stage::link();
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("smoothed.toml");
    let opts = DigitizerOptions {
        config: Some(config),
        ..Default::default()
    };
    let d = Digitizer::new(&opts).unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<&str> = d
        .pipeline
        .compiled()
        .nodes
        .iter()
        .map(|n| n.id.as_str())
        .collect();
    assert!(ids.contains(&"smooth"), "{ids:?}");
    let sample = workspace().join("samples/synthetic-0.png");
    let page = d.digitize_path(&sample).unwrap_or_else(|e| panic!("{e}"));
    let ii = page.signals.lead(Lead::II).expect("lead II");
    let finite: Vec<f32> = ii
        .samples
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    assert!(finite.len() > 1000);
    let range = finite.iter().fold(f32::MIN, |a, &b| a.max(b))
        - finite.iter().fold(f32::MAX, |a, &b| a.min(b));
    assert!(
        range > 0.3,
        "lead II should show QRS complexes, range {range} mV"
    );
}
