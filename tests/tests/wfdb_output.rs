//! The `write_wfdb` stage's records, read back by Python's `wfdb` package
//! (the reference reader researchers use). Skips, saying why, when python3
//! or its `wfdb` package is missing (`scripts/setup-python.sh` installs it).

use ecgdig_core::prelude::*;
use ecgdig_stages::output::wfdb::WriteWfdbConfig;
use std::process::Command;
use std::sync::Arc;

fn python_with_wfdb() -> Option<String> {
    for py in ["python3", "python"] {
        let ok = Command::new(py)
            .args(["-c", "import wfdb, numpy"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(py.to_string());
        }
    }
    None
}

#[test]
fn python_wfdb_reads_back_fs_units_and_values() {
    let Some(py) = python_with_wfdb() else {
        eprintln!("SKIPPED: python3 with the `wfdb` package not found (run scripts/setup-python.sh and put .venv/bin on PATH)");
        return;
    };
    let fs = 250.0;
    let n = 2500;
    let mut s = Signals::empty(fs, n);
    // lead II over the whole page, V1 only in 5..7.5 s, with a gap
    let ii: Vec<f32> = (0..n)
        .map(|i| (i as f32 / fs * 7.0).sin() * 1.2345 - 0.3)
        .collect();
    s.set(
        Lead::II,
        LeadSignal {
            start: 0,
            samples: ii.clone(),
            confidence: 1.0,
        },
    );
    let mut v1: Vec<f32> = (0..625).map(|i| i as f32 * 0.004 - 1.0).collect();
    v1[100] = f32::NAN;
    s.set(
        Lead::V1,
        LeadSignal {
            start: 1250,
            samples: v1.clone(),
            confidence: 0.5,
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        fs,
        out_dir: Some(dir.path().to_path_buf()),
        formats: vec!["wfdb".into()],
        ..RunOptions::default()
    };
    let ctx = RunContext::new(InputSource::Path("page.png".into()), "page", Arc::new(opts));
    let inputs = StageInputs::new().with("signals", s);
    WriteWfdbConfig::default().run(&inputs, &ctx).unwrap();

    let script = r#"
import sys, json, math, wfdb
r = wfdb.rdrecord(sys.argv[1])
out = {"fs": r.fs, "units": r.units, "names": r.sig_name, "n": r.sig_len,
       "fmt": r.fmt, "cols": {}}
for k, name in enumerate(r.sig_name):
    out["cols"][name] = [None if math.isnan(v) else float(v) for v in r.p_signal[:, k]]
print(json.dumps(out))
"#;
    let out = Command::new(&py)
        .arg("-c")
        .arg(script)
        .arg(dir.path().join("page"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "wfdb.rdrecord failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["fs"], 250.0);
    assert_eq!(v["n"], 2500);
    let names: Vec<&str> = v["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert_eq!(names, LEAD_NAMES.to_vec());
    assert!(v["units"].as_array().unwrap().iter().all(|u| u == "mV"));
    assert!(v["fmt"].as_array().unwrap().iter().all(|f| f == "16"));
    let col = |name: &str| -> Vec<Option<f64>> {
        v["cols"][name]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64())
            .collect()
    };
    // values within quantisation (1 µV at gain 1000/mV)
    let got_ii = col("II");
    for (i, (&want, got)) in ii.iter().zip(&got_ii).enumerate() {
        let got = got.unwrap_or_else(|| panic!("II[{i}] is NaN"));
        assert!(
            (got - want as f64).abs() <= 0.0005 + 1e-9,
            "II[{i}]: {got} vs {want}"
        );
    }
    let got_v1 = col("V1");
    assert!(
        got_v1[..1250].iter().all(Option::is_none),
        "V1 before its window"
    );
    assert!(
        got_v1[1875..].iter().all(Option::is_none),
        "V1 after its window"
    );
    assert!(got_v1[1350].is_none(), "V1 gap");
    for (k, &want) in v1.iter().enumerate().filter(|(_, v)| v.is_finite()) {
        let got = got_v1[1250 + k].unwrap();
        assert!((got - want as f64).abs() <= 0.0005 + 1e-9, "V1[{k}]");
    }
    // absent leads are all invalid
    assert!(col("aVL").iter().all(Option::is_none));
}
