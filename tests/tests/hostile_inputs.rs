//! Hostile inputs: no file, folder or option may stall, starve or abort a
//! batch. Each case runs under a deadline (a thread with a timeout, or a
//! subprocess killed after N seconds), so a hang fails the test instead of
//! stalling the suite. The subprocess cases need an up-to-date `ecgdig`
//! binary in the target folder (`cargo build -p ecgdig`); they are skipped,
//! with a message, without one.

use ecgdig::batch::{collect, run_batch, BatchOptions, CollectOptions, Status};
use ecgdig::{Digitizer, DigitizerOptions};
use ecgdig_core::prelude::*;
use ecgdig_render::{page, synth};
use ecgdig_tests::cli::{fresh_binary, output_within, wait_within, within};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

fn good_png(seed: u64) -> Vec<u8> {
    let record = synth::synthesize(&synth::SynthParams::default(), seed);
    let spec = page::PageSpec {
        dpi: 100.0,
        ..Default::default()
    };
    let img = page::render_page(&record, &spec, &page::distort::Distortions::default(), seed)
        .expect("render a good page")
        .image;
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A PNG whose header declares `w` x `h` (no valid pixel data).
fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let mut b = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::new(8, 8))
        .write_to(&mut Cursor::new(&mut b), image::ImageFormat::Png)
        .unwrap();
    b[16..20].copy_from_slice(&w.to_be_bytes());
    b[20..24].copy_from_slice(&h.to_be_bytes());
    b
}

fn digitizer(out: &Path) -> Digitizer {
    ecgdig_stages::link();
    Digitizer::new(&DigitizerOptions {
        run: RunOptions {
            out_dir: Some(out.to_path_buf()),
            ..RunOptions::default()
        },
        ..DigitizerOptions::default()
    })
    .unwrap()
}

fn ecgdig(bin: &Path, args: &[&str]) -> std::process::Output {
    output_within(Command::new(bin).args(args), LIMIT)
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[cfg(unix)]
fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status();
    assert!(ok.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
}

/// `loopdir` holding `page.png`, `self -> .` and `up -> ../loopdir`.
#[cfg(unix)]
fn loop_folder(root: &Path, png: &[u8]) -> PathBuf {
    let d = root.join("loopdir");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("page.png"), png).unwrap();
    symlink(".", d.join("self"));
    symlink("../loopdir", d.join("up"));
    d
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_a_warning_and_each_file_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let looped = loop_folder(dir.path(), b"x");
    let only_self = dir.path().join("selfonly");
    std::fs::create_dir_all(&only_self).unwrap();
    std::fs::write(only_self.join("page.png"), b"x").unwrap();
    symlink(".", only_self.join("self"));
    let found = within(Duration::from_secs(10), "the folder walk", move || {
        (
            collect(&[looped], &CollectOptions::default()),
            collect(&[only_self], &CollectOptions::default()),
        )
    });
    for c in [&found.0, &found.1] {
        assert_eq!(c.files.len(), 1, "each file once: {:?}", c.files);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert!(
            c.warnings.iter().any(|w| w.contains("already searched")),
            "{:?}",
            c.warnings
        );
    }
}

#[test]
fn fs_outside_its_range_is_refused_before_any_work() {
    ecgdig_stages::link();
    for fs in [0.0, -5.0, f32::NAN, f32::INFINITY, 1e12, 49.0, 10_001.0] {
        let r = Digitizer::new(&DigitizerOptions {
            run: RunOptions {
                fs,
                ..RunOptions::default()
            },
            ..DigitizerOptions::default()
        });
        assert!(r.is_err(), "fs = {fs} accepted");
    }
    let Some(bin) = fresh_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("page.png"), good_png(1)).unwrap();
    let input = dir.path().join("page.png");
    for fs in ["0", "-5", "NaN", "inf", "1e12", "ten"] {
        let out = dir.path().join(format!("out-{fs}"));
        let o = ecgdig(
            &bin,
            &[
                "digitize",
                "-q",
                &format!("--fs={fs}"),
                "-o",
                out.to_str().unwrap(),
                input.to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(2), "--fs {fs}: {}", stderr(&o));
        assert!(stderr(&o).contains("--fs"), "--fs {fs}: {}", stderr(&o));
        assert!(!out.exists(), "--fs {fs}: work was done");
    }
}

/// The special files of a hostile batch, each with the class of its error.
#[cfg(unix)]
fn special_files(root: &Path) -> Vec<(PathBuf, ErrorClass)> {
    let junk = root.join("huge-junk.jpg");
    std::fs::File::create(&junk)
        .unwrap()
        .set_len(3 << 30) // sparse: 3 GB that cost nothing
        .unwrap();
    let zero = root.join("zero.png");
    symlink("/dev/zero", &zero);
    let fifo = root.join("fifo.png");
    mkfifo(&fifo);
    let big = root.join("blank-99mp.png");
    std::fs::write(&big, png_declaring(11_000, 9_000)).unwrap();
    vec![
        (junk, ErrorClass::TooLarge),
        (zero, ErrorClass::Io),
        (fifo, ErrorClass::Io),
        (big, ErrorClass::TooLarge),
    ]
}

#[cfg(unix)]
#[test]
fn huge_special_and_pixel_heavy_files_fail_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let files = special_files(dir.path());
    let out = dir.path().join("out");
    let inputs: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    let report = within(Duration::from_secs(20), "the batch", move || {
        let d = digitizer(&out);
        run_batch(&d, &inputs, &BatchOptions::default(), &|_| {})
    });
    for ((path, class), o) in files.iter().zip(&report.outcomes) {
        assert_eq!(&o.path, path);
        let e = o
            .error()
            .unwrap_or_else(|| panic!("{}: no error", path.display()));
        assert_eq!(e.class, *class, "{}: {e}", path.display());
    }
    // a sub-limit file that is not an image is refused from its first bytes
    let junk = dir.path().join("junk.jpg");
    std::fs::File::create(&junk)
        .unwrap()
        .set_len(200 << 20)
        .unwrap();
    let e = ecgdig_stages::input::read_file(&junk, &Default::default()).unwrap_err();
    assert_eq!(e.class, ErrorClass::Decode, "{e}");
}

#[test]
fn too_many_jobs_are_clamped_with_a_warning() {
    let Some(bin) = fresh_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = dir.path().join("out");
    let o = output_within(
        Command::new(&bin)
            .args(["digitize", "-q", "-j", "100000", "-o"])
            .arg(&out)
            .arg(&empty),
        Duration::from_secs(20),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: -j 100000"), "{}", stderr(&o));
}

#[test]
fn an_invalid_glob_or_list_file_is_a_usage_error() {
    let Some(bin) = fresh_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("page.png"), b"x").unwrap();
    let out = dir.path().join("out");
    let o = output_within(
        Command::new(&bin)
            .args(["digitize", "-q", "--glob", "[", "-o"])
            .arg(&out)
            .arg(dir.path()),
        LIMIT,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("invalid glob pattern"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists(), "the folder was processed");
    // a list file that never ends
    #[cfg(unix)]
    {
        let o = output_within(
            Command::new(&bin)
                .args(["digitize", "-q", "--list", "/dev/zero", "-o"])
                .arg(&out),
            Duration::from_secs(20),
        );
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        // ...and a config that never ends
        let o = output_within(
            Command::new(&bin)
                .args(["digitize", "-q", "--config", "/dev/zero", "-o"])
                .arg(&out)
                .arg("page.png"),
            Duration::from_secs(20),
        );
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    }
}

#[test]
fn a_closed_stdout_pipe_exits_quietly() {
    let Some(bin) = fresh_binary() else { return };
    for args in [&["stages"][..], &["graph"], &["check", "--resolved"]] {
        // stdout is a pipe whose reader is gone, as after `| head`
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = wait_within(
            Command::new(&bin).args(args).stdout(writer),
            Duration::from_secs(20),
        );
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
    }
}

#[test]
fn shared_stems_mirror_the_input_folders_and_eval_notices_missing_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let png = good_png(3);
    let inputs: Vec<PathBuf> = ["a", "b"]
        .iter()
        .map(|f| {
            let p = dir.path().join("in").join(f).join("x.png");
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, &png).unwrap();
            p
        })
        .collect();
    let out = dir.path().join("out");
    let d = digitizer(&out);
    let report = run_batch(&d, &inputs, &BatchOptions::default(), &|_| {});
    assert!(
        report
            .outcomes
            .iter()
            .all(|o| matches!(o.status, Status::Ok(_))),
        "{:?}",
        report.outcomes
    );
    assert!(out.join("a/x.csv").exists() && out.join("b/x.csv").exists());
    assert!(
        report.summary().contains("mirror the input folders"),
        "{}",
        report.summary()
    );
    let Some(bin) = fresh_binary() else { return };
    // truth: the predictions themselves, under a/
    let truth = dir.path().join("truth");
    std::fs::create_dir_all(&truth).unwrap();
    std::fs::copy(out.join("a/x.csv"), truth.join("x.csv")).unwrap();
    let eval = |pred: &Path, extra: &[&str]| {
        let mut c = Command::new(&bin);
        c.arg("eval").args(extra).arg("--truth").arg(&truth);
        c.arg("--pred").arg(pred);
        output_within(&mut c, LIMIT)
    };
    let o = eval(&out, &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "missing predictions: {}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("missing"), "{}", stderr(&o));
    assert_eq!(eval(&out, &["--missing-as-zero"]).status.code(), Some(0));
    let o = eval(&out.join("a"), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Every hostile input at once, with good pages: the batch finishes in
/// seconds, writes the good pages' outputs, `failures.csv` and the summary,
/// and exits 1. Memory is capped (`ulimit -v`) so a runaway read fails fast.
#[cfg(unix)]
#[test]
fn a_batch_of_every_hostile_input_finishes_and_reports() {
    let Some(bin) = fresh_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("in");
    std::fs::create_dir_all(root.join("a")).unwrap();
    std::fs::create_dir_all(root.join("b")).unwrap();
    let png = good_png(5);
    std::fs::write(root.join("good.png"), &png).unwrap();
    std::fs::write(root.join("a/x.png"), &png).unwrap();
    std::fs::write(root.join("b/x.png"), &png).unwrap();
    loop_folder(&root, &png);
    let bad = special_files(&root);
    let out = dir.path().join("out");
    let o = output_within(
        Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 8000000 && exec \"$0\" \"$@\"")
            .arg(&bin)
            .args(["digitize", "-q", "-j", "2", "-o"])
            .arg(&out)
            .arg(&root),
        LIMIT,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("pages ok"), "no summary: {err}");
    assert!(err.contains("already searched"), "no loop warning: {err}");
    for good in ["good.csv", "a/x.csv", "b/x.csv", "loopdir/page.csv"] {
        assert!(out.join(good).exists(), "{good} missing: {err}");
    }
    let failures = std::fs::read_to_string(out.join("failures.csv")).unwrap();
    assert_eq!(failures.lines().count(), 1 + bad.len(), "{failures}");
    for (p, class) in &bad {
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(
            failures
                .lines()
                .any(|l| l.contains(name) && l.contains(class.name())),
            "{name} ({}) not in failures.csv:\n{failures}",
            class.name()
        );
    }
}
