//! Batch digitization: many inputs, in parallel, with a per-file account.
//!
//! * [`collect_inputs`] expands files, folders (searched recursively, with
//!   optional glob filters) and list files into a sorted list of paths;
//!   [`assign_stems`] gives each one a unique output name.
//! * [`run_batch`] processes the inputs on the rayon pool. It streams: each
//!   worker reads one file, and a multi-page TIFF or PDF is decoded page by
//!   page (`<stem>-p<k>`, k from 1), so memory stays bounded by the number of
//!   workers, whatever the size of the batch. A failure (error or panic)
//!   never stops the others.
//! * [`BatchReport`] counts what happened and writes `failures.csv`.

use crate::Digitizer;
use ecgdig_core::output::write_atomic;
use ecgdig_core::prelude::*;
use ecgdig_stages::input::load::LoadImageConfig;
use ecgdig_stages::input::{sniff, DecodeLimits, DocKind, Document};
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// File extensions picked up when a folder is given (case-insensitive).
pub const IMAGE_EXTENSIONS: [&str; 8] = ["png", "jpg", "jpeg", "bmp", "tif", "tiff", "pdf", "jfif"];

/// How folders are searched.
#[derive(Clone, Debug, Default)]
pub struct CollectOptions {
    /// Glob patterns (`*.png`, `scans/**/*.tif`) a file found in a folder
    /// must match: patterns without `/` are matched against the file name,
    /// others against the path relative to the folder given. Empty: every
    /// file with an image extension. Files named explicitly are always taken.
    pub globs: Vec<String>,
}

/// A path that could not be used, and why.
pub type Problem = (PathBuf, String);

/// Reads a list file: one path per line; blank lines and lines starting
/// with `#` are skipped; relative paths are relative to the list file's folder.
pub fn read_list(list: &Path) -> std::result::Result<Vec<PathBuf>, String> {
    let text = std::fs::read_to_string(list)
        .map_err(|e| format!("cannot read list file {}: {e}", list.display()))?;
    let base = list.parent().unwrap_or(Path::new(""));
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let p = PathBuf::from(l);
            if p.is_absolute() {
                p
            } else {
                base.join(p)
            }
        })
        .collect())
}

/// Expands files and folders (searched recursively) into a sorted,
/// de-duplicated list of inputs, plus the paths that could not be used.
pub fn collect_inputs(paths: &[PathBuf], opts: &CollectOptions) -> (Vec<PathBuf>, Vec<Problem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut patterns = Vec::new();
    for g in &opts.globs {
        match glob::Pattern::new(g) {
            Ok(p) => patterns.push((g.contains('/'), p)),
            Err(e) => problems.push((PathBuf::from(g), format!("invalid glob pattern: {e}"))),
        }
    }
    for p in paths {
        if p.is_dir() {
            walk(p, p, &patterns, &mut files, &mut problems);
        } else if p.exists() {
            files.push(p.clone());
        } else {
            problems.push((p.clone(), "no such file or folder".to_string()));
        }
    }
    files.sort();
    files.dedup();
    (files, problems)
}

fn walk(
    root: &Path,
    dir: &Path,
    patterns: &[(bool, glob::Pattern)],
    files: &mut Vec<PathBuf>,
    problems: &mut Vec<Problem>,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push((dir.to_path_buf(), format!("cannot list folder: {e}")));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let opts = glob::MatchOptions {
        case_sensitive: false,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    for p in paths {
        if p.is_dir() {
            walk(root, &p, patterns, files, problems);
            continue;
        }
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue; // hidden files, our own temporary files
        }
        let keep = if patterns.is_empty() {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        } else {
            let rel = p.strip_prefix(root).unwrap_or(&p);
            patterns.iter().any(|(with_dir, pat)| {
                if *with_dir {
                    pat.matches_path_with(rel, opts)
                } else {
                    pat.matches_with(name, opts)
                }
            })
        };
        if keep {
            files.push(p);
        }
    }
}

/// Gives every input a unique output stem: the file stem, or, where two
/// inputs share one (`a/1.png`, `b/1.png`, `1.jpg`), a longer name built from
/// the extension and then the parent folders, so no output is overwritten.
pub fn assign_stems(inputs: &[PathBuf]) -> Vec<String> {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c == '/' || c == '\\' { '_' } else { c })
            .collect()
    };
    let base = |p: &Path| {
        p.file_stem()
            .and_then(|s| s.to_str())
            .map(clean)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "page".to_string())
    };
    let with_ext = |p: &Path| match p.extension().and_then(|e| e.to_str()) {
        Some(e) => format!("{}_{}", base(p), e.to_ascii_lowercase()),
        None => base(p),
    };
    let with_dirs = |p: &Path, depth: usize| {
        let mut parts: Vec<String> = p
            .parent()
            .into_iter()
            .flat_map(|d| d.components().rev().take(depth))
            .filter_map(|c| c.as_os_str().to_str().map(clean))
            .filter(|c| !c.is_empty() && c != "." && c != "..")
            .collect();
        parts.reverse();
        parts.push(with_ext(p));
        parts.join("__")
    };
    let mut stems: Vec<String> = inputs.iter().map(|p| base(p)).collect();
    let levels: [&dyn Fn(&Path) -> String; 4] = [
        &|p| with_ext(p),
        &|p| with_dirs(p, 1),
        &|p| with_dirs(p, 3),
        &|p| with_dirs(p, 64),
    ];
    for level in levels {
        let mut count: HashMap<&str, usize> = HashMap::new();
        for s in &stems {
            *count.entry(s.as_str()).or_default() += 1;
        }
        let dup: Vec<bool> = stems.iter().map(|s| count[s.as_str()] > 1).collect();
        if !dup.iter().any(|&d| d) {
            return stems;
        }
        for (i, p) in inputs.iter().enumerate() {
            if dup[i] {
                stems[i] = level(p);
            }
        }
    }
    // still equal (same path listed twice in different spellings): number them
    let mut seen: HashMap<String, usize> = HashMap::new();
    for s in stems.iter_mut() {
        let n = seen.entry(s.clone()).or_default();
        *n += 1;
        if *n > 1 {
            *s = format!("{s}-{n}");
        }
    }
    stems
}

/// What happened to one page.
#[derive(Clone, Debug)]
pub enum Status {
    /// Digitized; processing time of this page.
    Ok(Duration),
    /// Not processed because its outputs already exist (`--skip-existing`).
    Skipped,
    Failed(Error),
}

/// Outcome for one page of an input (single images have one page).
#[derive(Clone, Debug)]
pub struct FileOutcome {
    pub path: PathBuf,
    /// 1-based page of a multi-page document; `None` for a single image.
    pub page: Option<usize>,
    /// Output stem of this page.
    pub stem: String,
    pub status: Status,
}

impl FileOutcome {
    pub fn is_ok(&self) -> bool {
        matches!(self.status, Status::Ok(_))
    }
    pub fn error(&self) -> Option<&Error> {
        match &self.status {
            Status::Failed(e) => Some(e),
            _ => None,
        }
    }
    /// `path` or `path#page=k`.
    pub fn label(&self) -> String {
        match self.page {
            Some(k) => format!("{}#page={k}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }
}

/// Settings of a batch run.
#[derive(Clone, Debug, Default)]
pub struct BatchOptions {
    /// Skip a page whose `<stem>.csv` already exists in the output folder.
    pub skip_existing: bool,
}

/// What a batch did.
#[derive(Debug, Default)]
pub struct BatchReport {
    pub outcomes: Vec<FileOutcome>,
    /// Inputs that could not be used at all (missing files, unreadable folders).
    pub problems: Vec<Problem>,
    pub wall: Duration,
}

impl BatchReport {
    pub fn ok(&self) -> usize {
        self.outcomes.iter().filter(|o| o.is_ok()).count()
    }
    pub fn skipped(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, Status::Skipped))
            .count()
    }
    /// Failed pages plus unusable inputs.
    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.error().is_some()).count() + self.problems.len()
    }
    /// Mean processing seconds per digitized page (time of one worker).
    pub fn seconds_per_page(&self) -> f64 {
        let ok: Vec<f64> = self
            .outcomes
            .iter()
            .filter_map(|o| match o.status {
                Status::Ok(d) => Some(d.as_secs_f64()),
                _ => None,
            })
            .collect();
        if ok.is_empty() {
            0.0
        } else {
            ok.iter().sum::<f64>() / ok.len() as f64
        }
    }
    /// Digitized pages per second of wall time.
    pub fn pages_per_second(&self) -> f64 {
        let w = self.wall.as_secs_f64();
        if w > 0.0 {
            self.ok() as f64 / w
        } else {
            0.0
        }
    }
    /// Failures grouped by error class, most frequent first.
    pub fn failures_by_class(&self) -> Vec<(&'static str, usize)> {
        let mut m: HashMap<&'static str, usize> = HashMap::new();
        for o in &self.outcomes {
            if let Some(e) = o.error() {
                *m.entry(e.class.name()).or_default() += 1;
            }
        }
        if !self.problems.is_empty() {
            *m.entry(ErrorClass::Io.name()).or_default() += self.problems.len();
        }
        let mut v: Vec<_> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v
    }

    /// `failures.csv`: header `input,page,error_class,reason`, one row per
    /// failed page or unusable input, in input order.
    pub fn failures_csv(&self) -> String {
        let mut out = String::from("input,page,error_class,reason\n");
        let row = |out: &mut String, input: &str, page: &str, class: &str, reason: &str| {
            out.push_str(&format!(
                "{},{},{},{}\n",
                csv_field(input),
                page,
                class,
                csv_field(reason)
            ));
        };
        for (p, why) in &self.problems {
            row(&mut out, &p.display().to_string(), "", "io", why);
        }
        for o in &self.outcomes {
            if let Some(e) = o.error() {
                let page = o.page.map(|k| k.to_string()).unwrap_or_default();
                row(
                    &mut out,
                    &o.path.display().to_string(),
                    &page,
                    e.class.name(),
                    &reason(e),
                );
            }
        }
        out
    }

    /// Writes `failures.csv` (always, header only when nothing failed, so a
    /// stale report from an earlier run never survives) atomically.
    pub fn write_failures(&self, out_dir: &Path) -> std::io::Result<PathBuf> {
        let path = out_dir.join("failures.csv");
        write_atomic(&path, self.failures_csv().as_bytes())?;
        Ok(path)
    }

    /// The end-of-run summary table.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let n_inputs = {
            let mut paths: Vec<&Path> = self.outcomes.iter().map(|o| o.path.as_path()).collect();
            paths.dedup();
            paths.len() + self.problems.len()
        };
        s.push_str(&format!("{:<22}{:>8}\n", "inputs", n_inputs));
        s.push_str(&format!("{:<22}{:>8}\n", "pages ok", self.ok()));
        s.push_str(&format!("{:<22}{:>8}\n", "pages failed", self.failed()));
        for (class, n) in self.failures_by_class() {
            s.push_str(&format!("{:<22}{:>8}\n", format!("  {class}"), n));
        }
        s.push_str(&format!("{:<22}{:>8}\n", "pages skipped", self.skipped()));
        s.push_str(&format!(
            "{:<22}{:>8.3}\n",
            "seconds per page",
            self.seconds_per_page()
        ));
        s.push_str(&format!(
            "{:<22}{:>8.2}\n",
            "pages per second",
            self.pages_per_second()
        ));
        s.push_str(&format!(
            "{:<22}{:>8.1}\n",
            "wall seconds",
            self.wall.as_secs_f64()
        ));
        s
    }
}

/// An error's message with its context, without the `[class]` suffix.
pub fn reason(e: &Error) -> String {
    let mut s = String::new();
    for c in e.context.iter().rev() {
        s.push_str(c);
        s.push_str(": ");
    }
    s.push_str(&e.message);
    s
}

fn csv_field(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Decoding limits of the pipeline's `load_image` stage (defaults if it has
/// none), used to split multi-page documents the way the loader would.
pub fn decode_limits(d: &Digitizer) -> DecodeLimits {
    d.pipeline
        .compiled()
        .nodes
        .iter()
        .find_map(|n| {
            let any: &dyn std::any::Any = n.config.as_ref();
            any.downcast_ref::<LoadImageConfig>().map(|c| c.limits())
        })
        .unwrap_or_default()
}

fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let what = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Error::stage(format!(
            "internal error (panic) while processing this file: {what}"
        )))
    })
}

fn exists_output(d: &Digitizer, stem: &str) -> bool {
    d.options
        .out_dir
        .as_ref()
        .is_some_and(|dir| dir.join(format!("{stem}.csv")).exists())
}

/// Processes one input file (all its pages), calling `emit` per page.
fn process_file(
    d: &Digitizer,
    path: &Path,
    stem: &str,
    limits: &DecodeLimits,
    opts: &BatchOptions,
    emit: &mut dyn FnMut(FileOutcome),
) {
    let single = |status| FileOutcome {
        path: path.to_path_buf(),
        page: None,
        stem: stem.to_string(),
        status,
    };
    let run_path = || {
        let t = Instant::now();
        match guarded(|| d.digitize(InputSource::Path(path.to_path_buf()), stem)) {
            Ok(_) => Status::Ok(t.elapsed()),
            Err(e) => Status::Failed(e),
        }
    };
    // sniff the first bytes: only TIFF and PDF can hold several pages
    let mut head = [0u8; 1024];
    let n = match std::fs::File::open(path).and_then(|mut f| read_up_to(&mut f, &mut head)) {
        Ok(n) => n,
        Err(e) => {
            let err = Error::cannot_read(path, e);
            emit(single(Status::Failed(err)));
            return;
        }
    };
    if !matches!(sniff(&head[..n]), DocKind::Tiff | DocKind::Pdf) {
        if opts.skip_existing && exists_output(d, stem) {
            emit(single(Status::Skipped));
        } else {
            emit(single(run_path()));
        }
        return;
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let err = Error::cannot_read(path, e);
            emit(single(Status::Failed(err)));
            return;
        }
    };
    let doc = match guarded(|| Document::open(&bytes, limits)) {
        Ok(doc) if doc.is_multi_page() => doc,
        // one page (or not openable as a document): the loader decodes it
        // and classifies any error like for any other file
        _ => {
            drop(bytes);
            if opts.skip_existing && exists_output(d, stem) {
                emit(single(Status::Skipped));
            } else {
                emit(single(run_path()));
            }
            return;
        }
    };
    for k in 0..doc.pages() {
        let page_stem = format!("{stem}-p{}", k + 1);
        let status = if opts.skip_existing && exists_output(d, &page_stem) {
            Status::Skipped
        } else {
            let t = Instant::now();
            let r = guarded(|| {
                let page = doc
                    .page(k, limits)
                    .map_err(|e| e.context(format!("page {}", k + 1)))?;
                d.digitize(InputSource::Image(Arc::new(page)), &page_stem)
            });
            match r {
                Ok(_) => Status::Ok(t.elapsed()),
                Err(e) => Status::Failed(e),
            }
        };
        emit(FileOutcome {
            path: path.to_path_buf(),
            page: Some(k + 1),
            stem: page_stem,
            status,
        });
    }
}

fn read_up_to(f: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Digitizes every input on the current rayon pool; one failure never stops
/// the others. `on_done` is called once per page as soon as it is finished
/// (from worker threads). Outcomes are returned in input order.
pub fn run_batch(
    d: &Digitizer,
    inputs: &[PathBuf],
    opts: &BatchOptions,
    on_done: &(dyn Fn(&FileOutcome) + Sync),
) -> BatchReport {
    let t0 = Instant::now();
    let stems = assign_stems(inputs);
    let limits = decode_limits(d);
    let per_file: Vec<Vec<FileOutcome>> = inputs
        .par_iter()
        .zip(stems.par_iter())
        .map(|(p, stem)| {
            let mut v = Vec::new();
            process_file(d, p, stem, &limits, opts, &mut |o| {
                on_done(&o);
                v.push(o);
            });
            v
        })
        .collect();
    BatchReport {
        outcomes: per_file.into_iter().flatten().collect(),
        problems: Vec::new(),
        wall: t0.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_unique() {
        let inputs: Vec<PathBuf> = ["a/1.png", "b/1.png", "c/2.png", "c/2.jpg", "c/3.tif"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let stems = assign_stems(&inputs);
        assert_eq!(stems, vec!["a__1_png", "b__1_png", "2_png", "2_jpg", "3"]);
        let same = vec![PathBuf::from("x/1.png"), PathBuf::from("x/1.png")];
        let s = assign_stems(&same);
        assert_ne!(s[0], s[1]);
    }

    #[test]
    fn list_files_skip_comments_and_resolve_relative_paths() {
        let dir = std::env::temp_dir().join(format!("ecgdig-list-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let list = dir.join("files.txt");
        std::fs::write(
            &list,
            "# scans\n\n a.png \n/abs/b.jpg\n  # indented comment\n",
        )
        .unwrap();
        let v = read_list(&list).unwrap();
        assert_eq!(v, vec![dir.join("a.png"), PathBuf::from("/abs/b.jpg")]);
        assert!(read_list(&dir.join("missing.txt")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn folders_are_searched_with_globs() {
        let dir = std::env::temp_dir().join(format!("ecgdig-glob-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
        for f in [
            "a.png",
            "b.JPG",
            "notes.txt",
            "sub/c.png",
            "sub/deeper/d.tif",
            ".hidden.png",
        ] {
            std::fs::write(dir.join(f), b"x").unwrap();
        }
        let (all, problems) =
            collect_inputs(std::slice::from_ref(&dir), &CollectOptions::default());
        assert!(problems.is_empty());
        let names: Vec<String> = all
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            vec!["a.png", "b.JPG", "sub/c.png", "sub/deeper/d.tif"]
        );
        let png = CollectOptions {
            globs: vec!["*.png".into()],
        };
        let (v, _) = collect_inputs(std::slice::from_ref(&dir), &png);
        assert_eq!(v, vec![dir.join("a.png"), dir.join("sub/c.png")]);
        let deep = CollectOptions {
            globs: vec!["sub/**/*.tif".into()],
        };
        let (v, _) = collect_inputs(std::slice::from_ref(&dir), &deep);
        assert_eq!(v, vec![dir.join("sub/deeper/d.tif")]);
        let (_, problems) = collect_inputs(&[dir.join("nope")], &png);
        assert_eq!(problems.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failures_csv_quotes_fields() {
        let report = BatchReport {
            outcomes: vec![FileOutcome {
                path: PathBuf::from("a,b.png"),
                page: Some(2),
                stem: "x".into(),
                status: Status::Failed(Error::new(ErrorClass::Decode, "bad \"bytes\"\nhere")),
            }],
            problems: vec![(PathBuf::from("gone.png"), "no such file".into())],
            wall: Duration::from_secs(1),
        };
        let csv = report.failures_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "input,page,error_class,reason");
        assert_eq!(lines[1], "gone.png,,io,no such file");
        assert_eq!(lines[2], "\"a,b.png\",2,decode,\"bad \"\"bytes\"\" here\"");
        assert_eq!(report.failed(), 2);
    }
}
