//! Batch digitization: many inputs, in parallel, with a per-file account.
//!
//! * [`collect`] expands files, folders (searched recursively, with
//!   optional glob filters, each folder and file once) and list files into a
//!   sorted list of paths; [`assign_outputs`] names each one's outputs
//!   (see [`crate::inputs`]).
//! * [`run_batch`] processes the inputs on the rayon pool. It streams: each
//!   worker reads one file, and a multi-page TIFF or PDF is decoded page by
//!   page (`<stem>-p<k>`, k from 1), so memory stays bounded by the number of
//!   workers, whatever the size of the batch. Only regular files within the
//!   size limit are read (`load_image`'s `max_file_mb`), their type checked
//!   from the first bytes. A failure (error or panic) never stops the others.
//! * [`BatchReport`] counts what happened and writes `failures.csv`.

use crate::Digitizer;
use ecgdig_core::output::write_atomic;
use ecgdig_core::prelude::*;
use ecgdig_stages::input::load::LoadImageConfig;
use ecgdig_stages::input::read::probe_file;
use ecgdig_stages::input::{read_file, DecodeLimits, DocKind, Document};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::inputs::{
    assign_outputs, collect, collect_inputs, read_list, CollectOptions, Collected, Layout,
    OutputName, Problem, IMAGE_EXTENSIONS,
};

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
    /// Folder of its outputs under the output folder (empty: the folder itself).
    pub dir: PathBuf,
    pub status: Status,
    /// How far the digitized page can be trusted, when the pipeline judged it.
    pub review: Option<Review>,
    /// Time each stage took on this page (empty when it was not digitized).
    pub stage_times: Vec<(String, Duration)>,
}

/// A digitized page's verdict, for `review.csv` and the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct Review {
    pub verdict: Verdict,
    /// Mean confidence of the page's leads.
    pub mean_confidence: f32,
    /// The least trusted lead.
    pub weakest: Option<(Lead, f32)>,
    pub reasons: String,
}

impl Review {
    /// The review of a page whose signals carry an assessment.
    pub fn of(s: &Signals) -> Option<Review> {
        let a = s.assessment.as_ref()?;
        let confs: Vec<(Lead, f32)> = Lead::ALL
            .iter()
            .filter_map(|&l| s.lead(l).map(|x| (l, x.confidence)))
            .collect();
        let mean = confs.iter().map(|c| c.1).sum::<f32>() / confs.len().max(1) as f32;
        let weakest = confs.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1));
        Some(Review {
            verdict: a.verdict,
            mean_confidence: mean,
            weakest,
            reasons: a.reasons.join("; "),
        })
    }
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
    /// Said in the summary when outputs are not flat (see [`Layout`]).
    pub layout_note: Option<String>,
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
    /// Mean milliseconds each stage took per digitized page, in pipeline
    /// order, over every page that ran the pipeline to its end.
    pub fn stage_profile(&self) -> Vec<(String, f64)> {
        let mut sums: Vec<(String, f64)> = Vec::new();
        let mut pages = 0usize;
        for o in self.outcomes.iter().filter(|o| !o.stage_times.is_empty()) {
            pages += 1;
            for (stage, t) in &o.stage_times {
                let ms = t.as_secs_f64() * 1000.0;
                match sums.iter_mut().find(|(s, _)| s == stage) {
                    Some(entry) => entry.1 += ms,
                    None => sums.push((stage.clone(), ms)),
                }
            }
        }
        for entry in &mut sums {
            entry.1 /= pages.max(1) as f64;
        }
        sums
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

    /// Digitized pages the pipeline judged `check`.
    pub fn to_check(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| {
                o.is_ok()
                    && o.review
                        .as_ref()
                        .is_some_and(|r| r.verdict == Verdict::Check)
            })
            .count()
    }

    /// `review.csv`: header
    /// `input,page,stem,verdict,mean_confidence,weakest_lead,weakest_confidence,reasons`,
    /// one row per page that was processed (skipped pages are left out), in
    /// input order. A page that could not be digitized is `failed` with its
    /// error as the reason; sort by `verdict` or `mean_confidence` to see
    /// what to look at first.
    pub fn review_csv(&self) -> String {
        let mut out = String::from(
            "input,page,stem,verdict,mean_confidence,weakest_lead,weakest_confidence,reasons\n",
        );
        for o in &self.outcomes {
            let page = o.page.map(|k| k.to_string()).unwrap_or_default();
            let (verdict, mean, weak_lead, weak_conf, why) = match (&o.review, &o.status) {
                (_, Status::Skipped) => continue,
                (Some(r), status) => (
                    r.verdict.name().to_string(),
                    format!("{:.3}", r.mean_confidence),
                    r.weakest.map(|w| w.0.to_string()).unwrap_or_default(),
                    r.weakest.map(|w| format!("{:.3}", w.1)).unwrap_or_default(),
                    match status {
                        Status::Failed(e) if e.class != ErrorClass::LowConfidence => reason(e),
                        _ => r.reasons.clone(),
                    },
                ),
                (None, Status::Failed(e)) => (
                    "failed".to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                    format!("{}: {}", e.class.name(), reason(e)),
                ),
                (None, Status::Ok(_)) => (
                    "unjudged".to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                    "the pipeline has no lead_confidence stage".to_string(),
                ),
            };
            out.push_str(&format!(
                "{},{page},{},{verdict},{mean},{weak_lead},{weak_conf},{}\n",
                csv_field(&o.path.display().to_string()),
                csv_field(&o.stem),
                csv_field(&why)
            ));
        }
        out
    }

    /// Writes `review.csv` atomically.
    pub fn write_review(&self, out_dir: &Path) -> std::io::Result<PathBuf> {
        let path = out_dir.join("review.csv");
        write_atomic(&path, self.review_csv().as_bytes())?;
        Ok(path)
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
        s.push_str(&format!("{:<22}{:>8}\n", "  to check", self.to_check()));
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
        if let Some(note) = &self.layout_note {
            s.push_str(note);
            s.push('\n');
        }
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

fn out_dir(d: &Digitizer, name: &OutputName) -> Option<PathBuf> {
    d.options.out_dir.as_ref().map(|dir| dir.join(&name.dir))
}

fn exists_output(d: &Digitizer, name: &OutputName, stem: &str) -> bool {
    out_dir(d, name).is_some_and(|dir| dir.join(format!("{stem}.csv")).exists())
}

/// A page's status and review from its result: a page the pipeline judged
/// `failed` counts as failed (class `low_confidence`), its outputs written.
fn judged(r: Result<crate::PageResult>, t: Instant) -> Judged {
    match r {
        Ok(page) => {
            let review = Review::of(&page.signals);
            let status = match &review {
                Some(rv) if rv.verdict == Verdict::Failed => Status::Failed(Error::new(
                    ErrorClass::LowConfidence,
                    format!("{} (outputs written: check them)", rv.reasons),
                )),
                _ => Status::Ok(t.elapsed()),
            };
            (status, review, page.timings)
        }
        Err(e) => (Status::Failed(e), None, Vec::new()),
    }
}

/// A page's status, review and per-stage times.
type Judged = (Status, Option<Review>, Vec<(String, Duration)>);

/// Processes one input file (all its pages), calling `emit` per page.
fn process_file(
    d: &Digitizer,
    path: &Path,
    name: &OutputName,
    limits: &DecodeLimits,
    opts: &BatchOptions,
    emit: &mut dyn FnMut(FileOutcome),
) {
    let outcome = |page, stem: &str, (status, review, stage_times): Judged| FileOutcome {
        path: path.to_path_buf(),
        page,
        stem: stem.to_string(),
        dir: name.dir.clone(),
        status,
        review,
        stage_times,
    };
    let dir = out_dir(d, name);
    if let Some(dir) = dir.as_ref().filter(|_| !name.dir.as_os_str().is_empty()) {
        if let Err(e) = std::fs::create_dir_all(dir) {
            let err = Error::new(
                ErrorClass::Output,
                format!("cannot create output folder {}: {e}", dir.display()),
            );
            emit(outcome(
                None,
                &name.stem,
                (Status::Failed(err), None, Vec::new()),
            ));
            return;
        }
    }
    let run = |input: InputSource, stem: &str| {
        let t = Instant::now();
        judged(guarded(|| d.digitize_into(input, stem, dir.as_deref())), t)
    };
    let single = |emit: &mut dyn FnMut(FileOutcome)| {
        let status = if opts.skip_existing && exists_output(d, name, &name.stem) {
            (Status::Skipped, None, Vec::new())
        } else {
            run(InputSource::Path(path.to_path_buf()), &name.stem)
        };
        emit(outcome(None, &name.stem, status));
    };
    // regular file, size limit, type and declared size from the first bytes:
    // only TIFF and PDF can hold several pages
    match probe_file(path, limits) {
        Ok(DocKind::Tiff | DocKind::Pdf) => {}
        Ok(_) => return single(emit),
        Err(e) => {
            return emit(outcome(
                None,
                &name.stem,
                (Status::Failed(e), None, Vec::new()),
            ))
        }
    }
    let bytes = match read_file(path, limits) {
        Ok(b) => b,
        Err(e) => {
            return emit(outcome(
                None,
                &name.stem,
                (Status::Failed(e), None, Vec::new()),
            ))
        }
    };
    let doc = match guarded(|| Document::open(&bytes, limits)) {
        Ok(doc) if doc.is_multi_page() => doc,
        // one page (or not openable as a document): the loader decodes it
        // and classifies any error like for any other file
        _ => {
            drop(bytes);
            return single(emit);
        }
    };
    for k in 0..doc.pages() {
        let page_stem = format!("{}-p{}", name.stem, k + 1);
        let status = if opts.skip_existing && exists_output(d, name, &page_stem) {
            (Status::Skipped, None, Vec::new())
        } else {
            let t = Instant::now();
            let r = guarded(|| {
                let page = doc
                    .page(k, limits)
                    .map_err(|e| e.context(format!("page {}", k + 1)))?;
                d.digitize_into(
                    InputSource::Image(Arc::new(page)),
                    &page_stem,
                    dir.as_deref(),
                )
            });
            judged(r, t)
        };
        emit(outcome(Some(k + 1), &page_stem, status));
    }
}

/// Digitizes every input on the current rayon pool; one failure never stops
/// the others. Outputs are named by [`assign_outputs`]. `on_done` is called
/// once per page as soon as it is finished (from worker threads). Outcomes
/// are returned in input order.
pub fn run_batch(
    d: &Digitizer,
    inputs: &[PathBuf],
    opts: &BatchOptions,
    on_done: &(dyn Fn(&FileOutcome) + Sync),
) -> BatchReport {
    let t0 = Instant::now();
    let layout = assign_outputs(inputs);
    let limits = decode_limits(d);
    let per_file: Vec<Vec<FileOutcome>> = inputs
        .par_iter()
        .zip(layout.names.par_iter())
        .map(|(p, name)| {
            let mut v = Vec::new();
            process_file(d, p, name, &limits, opts, &mut |o| {
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
        layout_note: layout.note(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_csv_quotes_fields() {
        let report = BatchReport {
            outcomes: vec![FileOutcome {
                path: PathBuf::from("a,b.png"),
                page: Some(2),
                stem: "x".into(),
                dir: PathBuf::new(),
                status: Status::Failed(Error::new(ErrorClass::Decode, "bad \"bytes\"\nhere")),
                review: None,
                stage_times: Vec::new(),
            }],
            problems: vec![(PathBuf::from("gone.png"), "no such file".into())],
            wall: Duration::from_secs(1),
            layout_note: None,
        };
        let csv = report.failures_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "input,page,error_class,reason");
        assert_eq!(lines[1], "gone.png,,io,no such file");
        assert_eq!(lines[2], "\"a,b.png\",2,decode,\"bad \"\"bytes\"\" here\"");
        assert_eq!(report.failed(), 2);
    }

    fn judged_page(confs: &[(Lead, f32)], verdict: Verdict) -> Signals {
        let mut s = Signals::empty(100.0, 100);
        for &(l, c) in confs {
            s.set(
                l,
                LeadSignal {
                    start: 0,
                    samples: vec![0.0; 100],
                    confidence: c,
                },
            );
        }
        s.assessment = Some(PageAssessment {
            verdict,
            reasons: vec![format!("because {verdict}")],
            evidence: vec![None; N_LEADS],
        });
        s
    }

    #[test]
    fn a_failed_verdict_fails_the_page_and_review_csv_lists_every_page() {
        let page = |s: Signals| crate::PageResult {
            signals: Arc::new(s),
            timings: Vec::new(),
        };
        let t = Instant::now();
        let ok = judged(
            Ok(page(judged_page(
                &[(Lead::I, 0.9), (Lead::V1, 0.7)],
                Verdict::Check,
            ))),
            t,
        );
        assert!(matches!(ok.0, Status::Ok(_)));
        let bad = judged(
            Ok(page(judged_page(
                &[(Lead::I, 0.1), (Lead::V1, 0.2)],
                Verdict::Failed,
            ))),
            t,
        );
        assert!(matches!(&bad.0, Status::Failed(e) if e.class == ErrorClass::LowConfidence));
        let outcome = |stem: &str, (status, review, stage_times): Judged| FileOutcome {
            path: PathBuf::from(format!("{stem}.png")),
            page: None,
            stem: stem.into(),
            dir: PathBuf::new(),
            status,
            review,
            stage_times,
        };
        let report = BatchReport {
            outcomes: vec![
                outcome("a", ok),
                outcome("b", bad),
                outcome(
                    "c",
                    (Status::Failed(Error::not_ecg("no grid")), None, Vec::new()),
                ),
            ],
            problems: Vec::new(),
            wall: Duration::from_secs(1),
            layout_note: None,
        };
        assert_eq!((report.ok(), report.to_check(), report.failed()), (1, 1, 2));
        let csv = report.review_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4, "{csv}");
        assert_eq!(lines[1], "a.png,,a,check,0.800,V1,0.700,because check");
        assert_eq!(lines[2], "b.png,,b,failed,0.150,I,0.100,because failed");
        assert_eq!(lines[3], "c.png,,c,failed,,,,not_ecg: no grid");
        assert!(report.summary().contains("to check"));
    }

    #[test]
    fn stage_profile_averages_over_the_pages_that_ran() {
        let times = |a: u64, b: u64| {
            vec![
                ("load".to_string(), Duration::from_millis(a)),
                ("trace".to_string(), Duration::from_millis(b)),
            ]
        };
        let outcome = |stage_times| FileOutcome {
            path: PathBuf::from("p.png"),
            page: None,
            stem: "p".into(),
            dir: PathBuf::new(),
            status: Status::Ok(Duration::from_millis(1)),
            review: None,
            stage_times,
        };
        let report = BatchReport {
            outcomes: vec![
                outcome(times(10, 30)),
                outcome(times(20, 50)),
                outcome(Vec::new()),
            ],
            ..Default::default()
        };
        let p = report.stage_profile();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].0, "load");
        assert!(
            (p[0].1 - 15.0).abs() < 1e-9 && (p[1].1 - 40.0).abs() < 1e-9,
            "{p:?}"
        );
    }
}
