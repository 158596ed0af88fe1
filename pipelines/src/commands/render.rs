//! `ecgdig render`: ECG pages with exact ground truth, from the synthetic
//! model or a recorded signal (`.hea` WFDB or `.csv` page CSV).
//!
//! Writes, per page, `<rec>-<k>.png|.jpg`, `<rec>-<k>.json` (ecg-image-kit
//! compatible truth), `<rec>-<k>_mask.png` (lead labels) and once per record
//! `<rec>.csv` (the signals), so `ecg_score.py <dir> <pred>` scores against it.
//! Page `k` shows seconds `[10k, 10k+10)` of its record.
//!
//! A `--preset` (clean, distorted, bw: roughly the ecg-image-kit dev sets;
//! variety: every printout convention the renderer knows; photo: a phone
//! photo of the sheet on a desk) draws each page's settings from the seed;
//! explicit flags override it.

use anyhow::{bail, Context};
use ecgdig_render::page::distort::{BwMode, Distortions};
use ecgdig_render::page::style::PulsePosition;
use ecgdig_render::page::{GridColor, GridStyle, Layout, PageSpec};
use ecgdig_render::synth::{synthesize, SynthParams};
use ecgdig_render::{preset, render_page, write};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Settings presets, roughly matching the ecg-image-kit dev sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// 200 dpi colour, no distortion.
    Clean,
    /// 200 dpi, header text, random grid colour, wrinkles and creases,
    /// rotation up to ±5°, noise, colour tint, JPEG q90.
    Distorted,
    /// 100 dpi greyscale print, tint, wrinkles and shadows, rotation up to ±10°,
    /// noise, JPEG q90.
    Bw,
    /// Every printout convention: 50..300 dpi, layouts 3x4 (+0..3 rhythm
    /// strips of any lead), 6x2, 12x1, 6x1, 3x2, Cabrera order, pulses at row
    /// start / end / both / none, gains 5/10/20, 25 or 50 mm/s, uneven printer
    /// scales, label fonts / sizes / positions, dotted / coarse / dark grids,
    /// header and handwritten clutter.
    Variety,
    /// A phone photo of a clean-like page (160..220 dpi) on a desk:
    /// perspective, cylindrical or wavy curl, lens distortion, uneven light
    /// and shadow bands, defocus, noise, JPEG q78..92; the image is the
    /// camera frame and the truth follows the warp. --rotate: the largest
    /// in-plane rotation (default 6°).
    Photo,
}

impl From<Preset> for preset::Preset {
    fn from(p: Preset) -> Self {
        match p {
            Preset::Clean => preset::Preset::Clean,
            Preset::Distorted => preset::Preset::Distorted,
            Preset::Bw => preset::Preset::Bw,
            Preset::Variety => preset::Preset::Variety,
            Preset::Photo => preset::Preset::Photo,
        }
    }
}

#[derive(clap::Args)]
pub struct RenderArgs {
    /// Render synthetic ECGs (the ECGSYN-style model).
    #[arg(long, conflicts_with = "record", required_unless_present = "record")]
    pub synthetic: bool,
    /// Render a recorded signal: a WFDB header (`.hea`) or a CSV (`I..V6`, see --fs).
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Output folder.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Seed of everything random (signals, settings, distortions).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Pages per record (page k shows seconds [10k, 10k+10)).
    #[arg(long, default_value_t = 1)]
    pub count: usize,
    /// Number of synthetic records (named `<name>`, or `<name>0000`... when > 1).
    #[arg(long, default_value_t = 1)]
    pub records: usize,
    /// Name of the synthetic record.
    #[arg(long, default_value = "synthetic")]
    pub name: String,
    /// Synthetic heart rate, bpm (default: random per record, 50..110).
    #[arg(long)]
    pub hr: Option<f32>,
    /// Sampling rate: of synthetic records, or of a --record CSV (default
    /// 500 Hz; 50 to 10000).
    #[arg(long, value_parser = super::parse_fs)]
    pub fs: Option<f32>,
    /// Layout: 3x4r (3x4 + lead II rhythm strip), 3x4, 6x2, 12x1, 6x1 (limb), 3x2 (chest).
    #[arg(long)]
    pub layout: Option<String>,
    /// Resolution, dpi (100..600).
    #[arg(long)]
    pub dpi: Option<f32>,
    /// Grid colour: red, pink, green, blue, grey, black.
    #[arg(long)]
    pub grid_color: Option<String>,
    /// Grid style: lines, dots, dots5 (5 mm dots only), major (5 mm lines only), none.
    #[arg(long)]
    pub grid_style: Option<String>,
    /// Trace line width, mm.
    #[arg(long)]
    pub line_width: Option<f32>,
    /// Rotation, degrees (clockwise positive). With a preset: the maximum.
    #[arg(long, allow_hyphen_values = true)]
    pub rotate: Option<f32>,
    /// Perspective corner jitter, fraction of the shorter side (e.g. 0.03).
    #[arg(long)]
    pub perspective: Option<f32>,
    /// Gaussian blur sigma, pixels.
    #[arg(long)]
    pub blur: Option<f32>,
    /// Gaussian noise sigma, grey levels.
    #[arg(long)]
    pub noise: Option<f32>,
    /// Save as JPEG with this quality (encode / decode round trip).
    #[arg(long)]
    pub jpeg: Option<u8>,
    /// Uneven lighting and soft shadows.
    #[arg(long)]
    pub shadows: bool,
    /// Number of paper creases.
    #[arg(long)]
    pub creases: Option<u32>,
    /// Crumpled-paper shading strength, 0..1.
    #[arg(long)]
    pub wrinkles: Option<f32>,
    /// Black-and-white (greyscale) print.
    #[arg(long)]
    pub bw: bool,
    /// Header text (`\n` separates lines).
    #[arg(long)]
    pub header: Option<String>,
    /// Calibration pulse: start (left of each row, ecg-image-kit), end
    /// (right of each row), both, or none.
    #[arg(long)]
    pub pulse: Option<String>,
    /// Calibration pulse width, seconds (0.02..1).
    #[arg(long)]
    pub pulse_width: Option<f64>,
    /// Gain, mm/mV (2..40; 10 is standard, 5 and 20 are common).
    #[arg(long)]
    pub gain: Option<f32>,
    /// Settings preset, randomised per page from the seed.
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
}

/// One page to render.
struct Job {
    record: usize,
    page: usize,
}

fn page_seed(seed: u64, record: usize, page: usize) -> u64 {
    let mut z = seed
        .wrapping_add((record as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add((page as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Page settings for one page: the preset's random draw, then explicit flags.
fn settings(
    args: &RenderArgs,
    rec_name: &str,
    seed: u64,
) -> anyhow::Result<(PageSpec, Distortions)> {
    let (mut spec, mut d) = match args.preset {
        Some(p) => preset::draw(p.into(), rec_name, seed, args.rotate),
        None => (PageSpec::default(), Distortions::default()),
    };
    if let Some(l) = &args.layout {
        spec.layout = Layout::from_name(l).with_context(|| {
            format!("unknown layout `{l}` (expected 3x4r, 3x4, 6x2, 12x1, 6x1, 3x2)")
        })?;
    }
    if let Some(v) = args.dpi {
        if !(100.0..=600.0).contains(&v) {
            bail!("--dpi {v} is outside 100..600");
        }
        spec.dpi = v;
    }
    if let Some(c) = &args.grid_color {
        spec.grid_color = GridColor::from_name(c).with_context(|| {
            format!("unknown grid colour `{c}` (red, pink, green, blue, grey, black)")
        })?;
    }
    if let Some(s) = &args.grid_style {
        spec.grid_style = GridStyle::from_name(s).with_context(|| {
            format!("unknown grid style `{s}` (lines, dots, dots5, major, none)")
        })?;
    }
    if let Some(w) = args.line_width {
        if !(w > 0.0 && w < 3.0) {
            bail!("--line-width {w} mm is outside (0, 3)");
        }
        spec.trace_width_mm = w;
    }
    if args.header.is_some() {
        spec.header = args.header.clone();
    }
    if let Some(p) = &args.pulse {
        if p.trim().eq_ignore_ascii_case("none") {
            spec.calibration_pulse = false;
        } else {
            spec.calibration_pulse = true;
            spec.pulse_position = PulsePosition::from_name(p).with_context(|| {
                format!("unknown pulse position `{p}` (start, end, both, none)")
            })?;
        }
    }
    if let Some(v) = args.pulse_width {
        if !(0.02..=1.0).contains(&v) {
            bail!("--pulse-width {v} s is outside 0.02..1");
        }
        spec.pulse_width_s = v;
    }
    if let Some(g) = args.gain {
        if !(2.0..=40.0).contains(&g) {
            bail!("--gain {g} mm/mV is outside 2..40");
        }
        spec.gain_mm_per_mv = g;
    }
    if args.preset.is_none() {
        d.rotation_degrees = args.rotate;
    }
    if let Some(p) = args.perspective {
        if d.photo.is_some() {
            bail!("--perspective does not combine with --preset photo (the photo draws its own)");
        }
        d.perspective = Some(p);
    }
    if let Some(b) = args.blur {
        d.blur_sigma_px = Some(b);
    }
    if let Some(n) = args.noise {
        d.noise_sigma = Some(n);
    }
    if let Some(q) = args.jpeg {
        if !(1..=100).contains(&q) {
            bail!("--jpeg {q} is outside 1..100");
        }
        d.jpeg_quality = Some(q);
    }
    if args.shadows && d.shadows.is_none() {
        d.shadows = Some(0.6);
    }
    if let Some(n) = args.creases {
        d.creases = Some(n);
    }
    if let Some(w) = args.wrinkles {
        d.wrinkles = Some(w);
    }
    if args.bw && d.bw.is_none() {
        d.bw = Some(BwMode::Grey);
    }
    Ok((spec, d))
}

fn load_record(path: &Path, fs: Option<f32>) -> anyhow::Result<ecgdig_core::record::Record> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let rec = match ext.as_str() {
        "csv" => {
            let mut r = ecgdig_core::page_csv::read(path, 1.0).map_err(anyhow::Error::msg)?;
            r.fs = fs.unwrap_or(500.0);
            r
        }
        _ => ecgdig_eval::io::wfdb::read_record(path).map_err(anyhow::Error::msg)?,
    };
    if rec.n_samples == 0 || rec.fs.is_nan() || rec.fs <= 0.0 {
        bail!("{}: no samples", path.display());
    }
    Ok(rec)
}

pub fn run(args: RenderArgs) -> anyhow::Result<ExitCode> {
    if args.count == 0 || args.records == 0 {
        bail!("--count and --records must be at least 1");
    }
    // Check the flags once, before any work.
    settings(&args, "check", 0)?;
    let mut records = Vec::new();
    if let Some(path) = &args.record {
        let rec = load_record(path, args.fs)?;
        records.push(rec);
    } else {
        for i in 0..args.records {
            let rseed = page_seed(args.seed, i, usize::MAX - 1);
            let mut p = SynthParams::random(rseed);
            p.name = if args.records == 1 {
                args.name.clone()
            } else {
                format!("{}{i:04}", args.name)
            };
            p.duration_seconds = 10.0 * args.count as f32;
            if let Some(hr) = args.hr {
                p.heart_rate_bpm = hr;
            }
            if let Some(fs) = args.fs {
                p.fs_hz = fs;
            }
            records.push(synthesize(&p, rseed));
        }
    }
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("creating {}", args.output.display()))?;
    let mut jobs = Vec::new();
    for (r, rec) in records.iter().enumerate() {
        let per_page = (10.0 * rec.fs).round() as usize;
        let pages = if args.record.is_some() {
            let full = rec.n_samples / per_page.max(1);
            if full < args.count {
                eprintln!(
                    "note: {} holds {} full 10 s page(s); rendering {}",
                    rec.name,
                    full,
                    full.max(1)
                );
            }
            args.count.min(full.max(1))
        } else {
            args.count
        };
        jobs.extend((0..pages).map(|page| Job { record: r, page }));
    }
    for rec in &records {
        write::write_record_csv(&args.output, rec).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let results: Vec<anyhow::Result<PathBuf>> = jobs
        .par_iter()
        .map(|job| {
            let rec = &records[job.record];
            let seed = page_seed(args.seed, job.record, job.page);
            let (mut spec, d) = settings(&args, &rec.name, seed)?;
            spec.start_sample = job.page * (10.0 * rec.fs).round() as usize;
            let page = render_page(rec, &spec, &d, seed)
                .map_err(|e| anyhow::anyhow!("{}-{}: {e}", rec.name, job.page))?;
            write::write_page_files(&args.output, job.page, &rec.name, &page)
                .map_err(|e| anyhow::anyhow!("{e}"))
        })
        .collect();
    let mut failed = 0;
    for r in &results {
        match r {
            Ok(p) => println!("{}", p.display()),
            Err(e) => {
                failed += 1;
                eprintln!("error: {e:#}");
            }
        }
    }
    eprintln!(
        "rendered {} page(s) into {}{}",
        results.len() - failed,
        args.output.display(),
        if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        }
    );
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
