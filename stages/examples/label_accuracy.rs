//! Lead-label reader accuracy on the dev pages: reads every printed label
//! in the region its JSON's `text_bounding_box` gives (widened by the box's
//! height on each side) from the classical ink mask, and reports the share
//! read as the right lead.
//!
//! `cargo run --release -p ecgdig-stages --example label_accuracy [set ...]`
//! (sets under `../shared/data/dev`, default `clean bw variety`). Skips,
//! saying so, when the data is absent.

use ecgdig_core::prelude::*;
use ecgdig_stages::layout::labels::read_window;
use ecgdig_stages::segment::classical::ClassicalSegmentConfig;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/dev");
    if !root.is_dir() {
        println!(
            "skipped: {} is absent (the shared dev data)",
            root.display()
        );
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sets: Vec<String> = if args.is_empty() {
        vec!["clean".into(), "bw".into(), "variety".into()]
    } else {
        args
    };
    for set in sets {
        let dir = root.join(&set);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            println!("{set}: skipped, {} unreadable", dir.display());
            continue;
        };
        let mut jsons: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        jsons.sort();
        let (mut total, mut right, mut read) = (0usize, 0usize, 0usize);
        let mut confusions: Vec<String> = Vec::new();
        let t0 = std::time::Instant::now();
        for j in &jsons {
            let Some((correct, n, got, conf)) = page(j) else {
                continue;
            };
            right += correct;
            total += n;
            read += got;
            confusions.extend(conf);
        }
        println!(
            "{set}: {right}/{total} labels read correctly ({:.1} %), {read} read at all, {} pages, {:.1} s",
            100.0 * right as f32 / total.max(1) as f32,
            jsons.len(),
            t0.elapsed().as_secs_f32()
        );
        confusions.truncate(12);
        if !confusions.is_empty() {
            println!("  e.g. {}", confusions.join(", "));
        }
    }
}

/// (correct, labels, read at all, confusions) for one page.
fn page(json: &Path) -> Option<(usize, usize, usize, Vec<String>)> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(json).ok()?).ok()?;
    let stem = json.file_stem()?.to_str()?;
    let dir = json.parent()?;
    let img = ["png", "jpg"]
        .iter()
        .map(|e| dir.join(format!("{stem}.{e}")))
        .find(|p| p.is_file())?;
    let rgb = image::open(&img).ok()?.to_rgb8();
    let ppmm = v["x_grid"].as_f64()? as f32 / 5.0;
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    let mask = ClassicalSegmentConfig::default().segment(&PageImage::new(rgb), &grid);
    let (mut right, mut n, mut got) = (0, 0, 0);
    let mut conf = Vec::new();
    for lead in v["leads"].as_array()? {
        let Some(name) = lead["lead_name"].as_str() else {
            continue;
        };
        let Some(truth) = Lead::from_name(name) else {
            continue;
        };
        let Some(bx) = lead["text_bounding_box"].as_object() else {
            continue;
        };
        let pts: Vec<(f32, f32)> = bx
            .values()
            .filter_map(|c| Some((c[0].as_f64()? as f32, c[1].as_f64()? as f32)))
            .collect();
        if pts.is_empty() {
            continue;
        }
        let r0 = pts.iter().map(|p| p.0).fold(f32::MAX, f32::min);
        let r1 = pts.iter().map(|p| p.0).fold(f32::MIN, f32::max);
        let c0 = pts.iter().map(|p| p.1).fold(f32::MAX, f32::min);
        let c1 = pts.iter().map(|p| p.1).fold(f32::MIN, f32::max);
        let pad = r1 - r0;
        let win = Rect {
            x0: c0 - pad,
            y0: r0 - pad,
            x1: c1 + pad,
            y1: r1 + pad,
        };
        n += 1;
        match read_window(&mask, win, (c0, r0), ppmm, 100) {
            Some(r) => {
                got += 1;
                if r.lead == truth && !r.inverted {
                    right += 1;
                } else {
                    conf.push(format!("{stem} {name}->{} ({:.2})", r.text, r.score));
                }
            }
            None => conf.push(format!("{stem} {name}->none")),
        }
    }
    Some((right, n, got, conf))
}
