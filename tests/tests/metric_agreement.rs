//! The Rust metric agrees with the reference scorer `ecg_score.py` within
//! 0.01 dB, per image and on the mean, capped (384) and uncapped (1e6).
//!
//! Three prediction sets are built from the truth of `dev/clean` itself:
//! * `perfect`: the true windows, at full precision;
//! * `noisy`: plus deterministic Gaussian noise (σ = 0.05 mV), one file left out;
//! * `shifted`: every lead shifted in time (up to 0.3 s, beyond the 0.2 s
//!   search) and lifted by a vertical offset, lead V3 missing, and every
//!   other page written at 250 Hz instead of the truth's rate.
//!
//! Needs `../shared` (or `$ECGDIG_SHARED`) and python3 with numpy and wfdb;
//! skips with a printed reason otherwise. Run with `--nocapture` to see the
//! measured differences.

use ecgdig_core::leads::{Lead, LEAD_NAMES};
use ecgdig_eval::metric::{mean_snr_db, KAGGLE_CAP, UNCAPPED_CAP};
use ecgdig_eval::score::score_folder;
use ecgdig_eval::truth::{list_images, read_truth, ImageTruth};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn shared_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("ECGDIG_SHARED") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    dir.is_dir().then_some(dir)
}

fn python_ok() -> bool {
    Command::new("python3")
        .args(["-c", "import numpy, wfdb"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Deterministic standard normal numbers (splitmix64 + Box-Muller).
struct Gauss(u64);
impl Gauss {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn next(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// A page: per lead, its samples on the page timeline at `fs` (NaN = empty).
struct PageOut {
    fs: f64,
    leads: BTreeMap<usize, Vec<f64>>,
}

impl PageOut {
    fn write(&self, path: &Path) {
        let rows = (self.fs * 10.0).round() as usize;
        let mut s = LEAD_NAMES.join(",");
        s.push('\n');
        for r in 0..rows {
            for k in 0..12 {
                if k > 0 {
                    s.push(',');
                }
                if let Some(v) = self.leads.get(&k).and_then(|c| c.get(r)) {
                    if v.is_finite() {
                        s.push_str(&format!("{v}"));
                    }
                }
            }
            s.push('\n');
        }
        std::fs::write(path, s).unwrap();
    }
}

/// Places each true window (transformed by `f(lead, samples)`) on a page at
/// the truth's rate, or at `fs_page` by linear interpolation in time.
fn page_from_truth(
    t: &ImageTruth,
    fs_page: Option<f64>,
    mut f: impl FnMut(Lead, &[f64]) -> Option<Vec<f64>>,
) -> PageOut {
    let fs = fs_page.unwrap_or(t.fs);
    let rows = (fs * 10.0).round() as usize;
    let mut leads = BTreeMap::new();
    for tl in &t.leads {
        let Some(v) = f(tl.lead, &tl.samples) else {
            continue;
        };
        let mut col = vec![f64::NAN; rows];
        for (r, c) in col.iter_mut().enumerate() {
            // position of this row in the window, in truth samples
            let x = if fs == t.fs {
                r as f64 - tl.offset as f64
            } else {
                r as f64 / fs * t.fs - tl.offset as f64
            };
            if x < 0.0 || x > (v.len() - 1) as f64 {
                continue;
            }
            let j = (x.floor() as usize).min(v.len().saturating_sub(2));
            let frac = x - j as f64;
            *c = if v.len() == 1 {
                v[0]
            } else {
                v[j] + (v[j + 1] - v[j]) * frac
            };
        }
        leads.insert(tl.lead.index(), col);
    }
    PageOut { fs, leads }
}

/// Runs the reference scorer; returns (mean dB, per-image dB).
fn python_scores(
    script: &Path,
    truth: &Path,
    pred: &Path,
    cap: f64,
) -> (f64, BTreeMap<String, f64>) {
    let json = pred.with_extension(format!("py-{cap}.json"));
    let out = Command::new("python3")
        .arg(script)
        .arg(truth)
        .arg(pred)
        .args(["--cap", &cap.to_string(), "--json"])
        .arg(&json)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "ecg_score.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let per = v["per_image_db"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_f64().unwrap()))
        .collect();
    (v["mean_snr_db"].as_f64().unwrap(), per)
}

#[test]
fn rust_metric_agrees_with_ecg_score_py() {
    let Some(shared) = shared_dir() else {
        println!("skipped: ../shared (or $ECGDIG_SHARED) is not available");
        return;
    };
    if !python_ok() {
        println!("skipped: python3 with numpy and wfdb is not available");
        return;
    }
    let truth_dir = shared.join("data/dev/clean");
    let script = shared.join("tools/ecg_score.py");
    if !truth_dir.is_dir() || !script.is_file() {
        println!(
            "skipped: {} or {} is missing",
            truth_dir.display(),
            script.display()
        );
        return;
    }
    let images = list_images(&truth_dir).unwrap();
    assert!(!images.is_empty());
    let truths: Vec<ImageTruth> = images
        .iter()
        .map(|im| read_truth(&truth_dir, im).unwrap())
        .collect();

    let tmp = std::env::temp_dir().join(format!("ecgdig-agreement-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let mut rng = Gauss(20251125);
    let mut sets: Vec<(&str, PathBuf)> = Vec::new();
    for set in ["perfect", "noisy", "shifted"] {
        let dir = tmp.join(set);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, t) in truths.iter().enumerate() {
            let page = match set {
                "perfect" => page_from_truth(t, None, |_, v| Some(v.to_vec())),
                "noisy" => {
                    if i == 3 {
                        continue; // a missing prediction file scores as zeros
                    }
                    page_from_truth(t, None, |_, v| {
                        Some(v.iter().map(|x| x + 0.05 * rng.next()).collect())
                    })
                }
                _ => {
                    let fs_page = (i % 2 == 0).then_some(250.0);
                    page_from_truth(t, fs_page, |lead, v| {
                        if lead == Lead::V3 {
                            return None;
                        }
                        // -0.3 s .. +0.25 s, different per lead and image
                        let s_sec = -0.3 + 0.05 * ((lead.index() + i) % 12) as f64;
                        let s = (s_sec * t.fs).round() as i64;
                        let lift = 0.2 + 0.1 * lead.index() as f64;
                        Some(
                            (0..v.len() as i64)
                                .map(|n| {
                                    let src = n - s;
                                    if src >= 0 && (src as usize) < v.len() {
                                        v[src as usize] + lift
                                    } else {
                                        f64::NAN
                                    }
                                })
                                .collect(),
                        )
                    })
                }
            };
            page.write(&dir.join(format!("{}.csv", t.image)));
        }
        sets.push((set, dir));
    }

    let mut worst = 0.0f64;
    for (set, dir) in &sets {
        let ours = score_folder(&truth_dir, dir, None).unwrap();
        for cap in [KAGGLE_CAP, UNCAPPED_CAP] {
            let (py_mean, py_per) = python_scores(&script, &truth_dir, dir, cap);
            let rs_mean = mean_snr_db(&ours, cap);
            assert_eq!(py_per.len(), ours.len(), "{set}: image count");
            let mut max_img = 0.0f64;
            for s in &ours {
                let py = py_per[&s.image];
                let d = (s.snr_db(cap) - py).abs();
                assert!(
                    d < 0.01,
                    "{set} cap {cap}: {} python {py:.4} dB, rust {:.4} dB",
                    s.image,
                    s.snr_db(cap)
                );
                max_img = max_img.max(d);
            }
            let d_mean = (rs_mean - py_mean).abs();
            assert!(
                d_mean < 0.01,
                "{set} cap {cap}: mean python {py_mean:.4}, rust {rs_mean:.4}"
            );
            worst = worst.max(d_mean).max(max_img);
            println!(
                "{set:<8} cap {cap:>9}: python {py_mean:8.4} dB, rust {rs_mean:8.4} dB, \
                 |mean diff| {d_mean:.2e}, max |image diff| {max_img:.2e} ({} images)",
                ours.len()
            );
        }
    }
    println!("largest difference: {worst:.2e} dB");
    let _ = std::fs::remove_dir_all(&tmp);
}
