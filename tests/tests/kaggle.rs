//! Kaggle I/O end to end on a small generated fixture: 10 rendered test
//! images (one missing, one unreadable), a `test.csv` with mixed sampling
//! rates, the submission checked by a format checker; and `score_train` on a
//! train-layout fixture.

use ecgdig::kaggle::{score_train, submit, FALLBACK_VALUE};
use ecgdig::{Digitizer, DigitizerOptions};
use ecgdig_core::artifact::{LeadSignal, Signals};
use ecgdig_core::leads::Lead;
use ecgdig_core::page_csv;
use ecgdig_core::prelude::RunOptions;
use ecgdig_eval::io::kaggle::read_test_csv;
use ecgdig_render::{page, render_page, synth, Distortions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ecgdig_stages as _;

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ecgdig-kaggle-it-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn record(i: usize) -> ecgdig_core::record::Record {
    let params = synth::SynthParams {
        name: format!("{}", 1001 + i),
        heart_rate_bpm: 55.0 + 6.0 * i as f32,
        ..Default::default()
    };
    synth::synthesize(&params, 7 + i as u64)
}

/// Writes `test.csv` and the images; returns the expected rows per (image, lead).
fn fixture(dir: &Path) -> HashMap<(String, Lead), usize> {
    let images = dir.join("test");
    std::fs::create_dir_all(&images).unwrap();
    let mut csv = String::from("id,lead,fs,number_of_rows\n");
    let mut expected = HashMap::new();
    for i in 0..10 {
        let id = format!("{}", 1001 + i);
        let fs = if i % 2 == 0 { 500 } else { 250 };
        for lead in Lead::ALL {
            let rows = if lead == Lead::II {
                fs * 10
            } else {
                fs * 10 / 4
            };
            csv.push_str(&format!("{id},{lead},{fs},{rows}\n"));
            expected.insert((id.clone(), lead), rows);
        }
        match i {
            8 => {} // missing image
            9 => std::fs::write(images.join(format!("{id}.png")), b"not an image").unwrap(),
            _ => {
                let spec = page::PageSpec {
                    dpi: 100.0,
                    ..Default::default()
                };
                let p = render_page(&record(i), &spec, &Distortions::default(), i as u64).unwrap();
                p.image.save(images.join(format!("{id}.png"))).unwrap();
            }
        }
    }
    std::fs::write(dir.join("test.csv"), csv).unwrap();
    expected
}

/// The format checker: header, id pattern `{image}_{row}_{lead}`, rows
/// 0..n-1 in order per (image, lead), exactly the expected counts, finite
/// values. Returns the values per (image, lead).
fn check_submission(
    text: &str,
    expected: &HashMap<(String, Lead), usize>,
) -> HashMap<(String, Lead), Vec<f64>> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id,value"));
    let mut got: HashMap<(String, Lead), Vec<f64>> = HashMap::new();
    for (n, line) in lines.enumerate() {
        let (id, value) = line
            .split_once(',')
            .unwrap_or_else(|| panic!("line {}: no comma: {line}", n + 2));
        let mut parts = id.rsplitn(3, '_');
        let (lead, row, image) = (
            parts.next().unwrap(),
            parts.next().unwrap_or_else(|| panic!("bad id {id}")),
            parts.next().unwrap_or_else(|| panic!("bad id {id}")),
        );
        let lead = Lead::from_name(lead).unwrap_or_else(|| panic!("bad lead in {id}"));
        assert_eq!(lead.name(), id.rsplit('_').next().unwrap(), "lead spelling");
        assert!(image.chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
        let row: usize = row.parse().unwrap_or_else(|_| panic!("bad row in {id}"));
        let v: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value {value}"));
        assert!(v.is_finite(), "{line}");
        let e = got.entry((image.to_string(), lead)).or_default();
        assert_eq!(row, e.len(), "rows out of order at {id}");
        e.push(v);
    }
    assert_eq!(got.len(), expected.len());
    for (k, n) in expected {
        assert_eq!(got.get(k).map(Vec::len), Some(*n), "{k:?}");
    }
    got
}

#[test]
fn submission_has_the_exact_shape_and_survives_bad_images() {
    let dir = temp_dir("submit");
    let expected = fixture(&dir);
    let d = Digitizer::new(&DigitizerOptions {
        run: RunOptions {
            fs: 500.0,
            out_dir: None,
            formats: Vec::new(),
            ..RunOptions::default()
        },
        ..Default::default()
    })
    .unwrap();
    let rows = read_test_csv(&dir.join("test.csv")).unwrap();
    let out = dir.join("out").join("submission.csv");
    let report = submit(&d, rows, &dir.join("test"), &out).unwrap();
    assert_eq!(report.images, 10);
    assert_eq!(report.rows, expected.values().sum::<usize>());
    assert!(report.fallback_images >= 2, "{report:?}");
    let text = std::fs::read_to_string(&out).unwrap();
    let got = check_submission(&text, &expected);
    // missing and unreadable images: the fallback everywhere
    for id in ["1009", "1010"] {
        for lead in Lead::ALL {
            assert!(got[&(id.to_string(), lead)]
                .iter()
                .all(|v| *v == FALLBACK_VALUE as f64));
        }
    }
    // rendered images were digitized: lead II varies on most of them
    let varied = (1001..=1008)
        .filter(|i| {
            let v = &got[&(i.to_string(), Lead::II)];
            let (lo, hi) = v
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(*x), b.max(*x)));
            hi - lo > 0.3
        })
        .count();
    assert!(
        varied >= 6,
        "only {varied} of 8 images gave a lead II signal"
    );
    // written atomically: no temporary file left next to it
    let names: Vec<_> = std::fs::read_dir(dir.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");

    // the same with the seed pipeline (`--config configs/seed.toml`)
    let seed = Digitizer::new(&DigitizerOptions {
        config: Some(repo().join("configs/seed.toml")),
        ..Default::default()
    })
    .unwrap();
    let rows = read_test_csv(&dir.join("test.csv")).unwrap();
    let out = dir.join("seed.csv");
    submit(&seed, rows, &dir.join("test"), &out).unwrap();
    check_submission(&std::fs::read_to_string(&out).unwrap(), &expected);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The seed and ablation configs build (their templates files resolve).
#[test]
fn seed_and_ablation_configs_build() {
    let mut files = vec![repo().join("configs/seed.toml")];
    for e in std::fs::read_dir(repo().join("configs/ablations")).unwrap() {
        files.push(e.unwrap().path());
    }
    for f in files {
        if let Err(e) = Digitizer::new(&DigitizerOptions {
            config: Some(f.clone()),
            ..Default::default()
        }) {
            panic!("{}: {e}", f.display());
        }
    }
}

#[test]
fn score_train_rewards_the_truth_and_counts_missing() {
    let dir = temp_dir("train");
    let pred = dir.join("pred");
    std::fs::create_dir_all(&pred).unwrap();
    let mut train_csv = String::from("id,fs,sig_len\n");
    for i in 0..3 {
        let rec = record(i);
        let id = rec.name.clone();
        let n = rec.n_samples.min(5000);
        train_csv.push_str(&format!("{id},{},{n}\n", rec.fs));
        // a train CSV holds each lead over its plotted window only
        let mut s = Signals::empty(rec.fs, n);
        for lead in Lead::ALL {
            let (a, len) = ecgdig_stages::reconstruct::rebuild::standard_window(lead, n);
            s.set(
                lead,
                LeadSignal {
                    start: a,
                    samples: rec.lead(lead).unwrap()[a..a + len].to_vec(),
                    confidence: 1.0,
                },
            );
        }
        let text = page_csv::to_string(&s);
        std::fs::create_dir_all(dir.join("train").join(&id)).unwrap();
        std::fs::write(dir.join("train").join(&id).join(format!("{id}.csv")), &text).unwrap();
        match i {
            0 => std::fs::write(pred.join(format!("{id}-0001.csv")), &text).unwrap(),
            1 => std::fs::write(
                pred.join(format!("{id}.csv")),
                page_csv::to_string(&Signals::empty(rec.fs, n)),
            )
            .unwrap(),
            _ => {} // no prediction
        }
    }
    std::fs::write(dir.join("train.csv"), train_csv).unwrap();
    let (scores, problems) = score_train(&dir, &pred, false).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(scores.len(), 3);
    let perfect = scores.iter().find(|s| s.image == "1001-0001").unwrap();
    assert!(perfect.snr_db(384.0) > 25.0, "{}", perfect.snr_db(384.0));
    let empty = scores.iter().find(|s| s.image == "1002").unwrap();
    // zeros score near 0 dB (the metric removes the offset, hence not exactly 0)
    assert!(empty.snr_db(384.0) < 3.0, "{}", empty.snr_db(384.0));
    assert!(scores.iter().any(|s| s.missing));
    let (only, _) = score_train(&dir, &pred, true).unwrap();
    assert_eq!(only.len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}
