//! The reference scorer reads our files unchanged: a perfect prediction built
//! from our truth scores the cap, a damaged one scores less. Skips (with a
//! message) when python3 + numpy or the scorer script are not available.

use ecgdig_core::leads::Lead;
use ecgdig_core::page_csv;
use ecgdig_render::page::distort::Distortions;
use ecgdig_render::{render_page, synthesize, write, PageSpec, SynthParams};
use std::path::{Path, PathBuf};
use std::process::Command;

fn scorer() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/ecg_score.py");
    if !p.exists() {
        eprintln!("skipping: {} not found", p.display());
        return None;
    }
    let ok = Command::new("python3")
        .args(["-c", "import numpy"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("skipping: python3 with numpy is not available");
        return None;
    }
    Some(p)
}

fn score(script: &Path, gt: &Path, pred: &Path) -> f64 {
    let out = Command::new("python3")
        .arg(script)
        .arg(gt)
        .arg(pred)
        .output()
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "scorer failed: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text.lines().last().unwrap_or("");
    let v = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("mean_snr_db="))
        .unwrap_or_else(|| panic!("no score in `{text}`"));
    assert!(line.contains("images=2 missing=0"), "{line}");
    v.parse().unwrap()
}

#[test]
fn ecg_score_gives_the_cap_for_a_perfect_prediction() {
    let Some(script) = scorer() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (gt, pred, bad) = (
        tmp.path().join("gt"),
        tmp.path().join("pred"),
        tmp.path().join("bad"),
    );
    for d in [&gt, &pred, &bad] {
        std::fs::create_dir_all(d).unwrap();
    }
    let params = SynthParams {
        duration_seconds: 20.0,
        ..SynthParams::default()
    };
    let rec = synthesize(&params, 4);
    for k in 0..2 {
        let spec = PageSpec {
            dpi: 100.0,
            start_sample: k * 5000,
            ..PageSpec::default()
        };
        let d = Distortions {
            rotation_degrees: Some(2.0),
            ..Distortions::default()
        };
        let page = render_page(&rec, &spec, &d, k as u64).unwrap();
        write::write_page(&gt, k, &rec, &page).unwrap();
        let stem = format!("{}-{k}", rec.name);
        for ext in ["png", "json"] {
            assert!(gt.join(format!("{stem}.{ext}")).exists());
        }
        assert!(gt.join(format!("{stem}_mask.png")).exists());
        let mut sig = page.truth.page_signals(&rec);
        page_csv::write(&pred.join(format!("{stem}.csv")), &sig).unwrap();
        // Damage: lead V1 predicted as zeros.
        if let Some(v1) = sig.lead_mut(Lead::V1) {
            v1.samples.iter_mut().for_each(|v| *v = 0.0);
        }
        page_csv::write(&bad.join(format!("{stem}.csv")), &sig).unwrap();
    }
    assert!(gt.join(format!("{}.csv", rec.name)).exists());
    let perfect = score(&script, &gt, &pred);
    let cap = 10.0 * 384f64.log10();
    assert!(
        (perfect - cap).abs() < 0.01,
        "perfect prediction scored {perfect} dB, cap {cap}"
    );
    let damaged = score(&script, &gt, &bad);
    assert!(
        damaged < perfect - 3.0,
        "damaged prediction scored {damaged} dB"
    );
}
