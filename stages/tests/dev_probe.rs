//! Developer probe: prints what each classical stage measures on the pages
//! named in `ECGDIG_PROBE` (comma-separated paths), next to the generator's
//! annotations when a `.json` sits beside the image. Does nothing (and says
//! so) when the variable is unset.

use ecgdig_core::prelude::*;
use ecgdig_stages::geometry::{deskew, grid, orientation};
use ecgdig_stages::input::load;
use ecgdig_stages::layout::detect as layout;
use ecgdig_stages::segment::classical as segment;

#[test]
fn probe_pages() {
    let Ok(list) = std::env::var("ECGDIG_PROBE") else {
        eprintln!("ECGDIG_PROBE not set: nothing to probe");
        return;
    };
    for path in list.split(',').filter(|p| !p.is_empty()) {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("skip {path}: {e}");
                continue;
            }
        };
        let page = load::decode(&bytes, &load::LoadImageConfig::default()).unwrap();
        let t = std::time::Instant::now();
        let angle = deskew::estimate_angle(&page.rgb, 10.0, 1400);
        let t_angle = t.elapsed();
        let page = if angle.abs() > 0.05 {
            PageImage::new(
                ecgdig_stages::imaging::rotate_rgb(&page.rgb, angle as f64, [255, 255, 255]).0,
            )
        } else {
            page
        };
        let t_flip = std::time::Instant::now();
        let flip = orientation::detect_orientation(&page.rgb);
        let t_flip = t_flip.elapsed();
        println!(
            "{path}: orientation {flip:?} ({t_flip:?}), lead-name reads per orientation {:?}",
            orientation::orientation_votes(&page.rgb)
        );
        let t = std::time::Instant::now() - t_angle;
        let g = grid::GridScaleConfig::default().measure(&page);
        let t_grid = t.elapsed();
        let json = std::path::Path::new(path).with_extension("json");
        let truth = std::fs::read_to_string(&json)
            .ok()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok());
        let xg = truth
            .as_ref()
            .and_then(|j| j["x_grid"].as_f64())
            .unwrap_or(0.0)
            / 5.0;
        println!(
            "{path}: angle {angle:.3} ({:?}) | grid x {:.4} y {:.4} conf {:.2} src {:?} truth {:.4} ({:?})",
            t_angle, g.px_per_mm_x, g.px_per_mm_y, g.confidence, g.source, xg, t_grid - t_angle
        );
        let mask = segment::ClassicalSegmentConfig::default().segment(&page, &g);
        if let Ok(dir) = std::env::var("ECGDIG_PROBE_OUT") {
            let stem = std::path::Path::new(path)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .to_string();
            mask.save(format!("{dir}/{stem}_mask.png")).unwrap();
        }
        let rows = layout::LayoutDetectConfig::default().find_rows(&mask, &g);
        for r in &rows {
            println!(
                "  row y {:.1} ink {:.0}..{:.0} start {:.1} pulse {:?} dur {:.2}s waviness {:.2}",
                r.baseline_y,
                r.ink_x0,
                r.ink_x1,
                r.x_start,
                r.pulse,
                (r.ink_x1 - r.x_start) / g.px_per_second(),
                r.waviness
            );
        }
        if let Ok(xs) = std::env::var("ECGDIG_PROBE_X") {
            let layout = layout::LayoutDetectConfig::default()
                .detect(&mask, &g, 10.0)
                .unwrap();
            let tr = ecgdig_stages::trace::viterbi::TraceViterbiConfig::default()
                .trace_all(&mask, &layout, &g);
            let x: f32 = xs.parse().unwrap();
            for t in &tr.traces {
                let p = &layout.panels[t.panel];
                if x >= p.x_start && x <= p.x_end {
                    let near: Vec<String> = t
                        .points
                        .iter()
                        .filter(|q| (q[0] - x).abs() < 8.0)
                        .map(|q| format!("{:.1},{:.1}", q[0], q[1]))
                        .collect();
                    println!("  {} bbox {:?}: {}", p.lead.name(), p.bbox, near.join(" "));
                }
            }
        }
        if let Some(j) = &truth {
            for l in j["leads"].as_array().unwrap() {
                let pp = l["plotted_pixels"].as_array().unwrap();
                let first = &pp[0];
                let last = &pp[pp.len() - 1];
                println!(
                    "  truth {} start ({:.1},{:.1}) end ({:.1},{:.1}) samples {}..{}",
                    l["lead_name"],
                    first[1],
                    first[0],
                    last[1],
                    last[0],
                    l["start_sample"],
                    l["end_sample"]
                );
            }
        }
    }
}

/// On a real generated page (when the shared dev data is present): the grid
/// scale matches the generator's to 0.2 %, the four rows are found with their
/// calibration pulses, and the rows sit where the annotated leads are.
#[test]
fn dev_clean_page_scale_and_rows() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/dev/clean");
    let (img, json) = (dir.join("A0001-0.png"), dir.join("A0001-0.json"));
    let (Ok(bytes), Ok(text)) = (std::fs::read(&img), std::fs::read_to_string(&json)) else {
        eprintln!(
            "skipped: {} not found (shared dev data absent)",
            img.display()
        );
        return;
    };
    let truth: serde_json::Value = serde_json::from_str(&text).unwrap();
    let page = load::decode(&bytes, &load::LoadImageConfig::default()).unwrap();
    assert!(deskew::estimate_angle(&page.rgb, 10.0, 1400).abs() < 0.1);
    let g = grid::GridScaleConfig::default().measure(&page);
    let want = truth["x_grid"].as_f64().unwrap() as f32 / 5.0;
    assert!(
        ((g.px_per_mm_x - want) / want).abs() < 0.002,
        "{g:?} vs {want}"
    );
    assert!(
        ((g.px_per_mm_y - want) / want).abs() < 0.002,
        "{g:?} vs {want}"
    );
    let mask = segment::ClassicalSegmentConfig::default().segment(&page, &g);
    let rows = layout::LayoutDetectConfig::default().find_rows(&mask, &g);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.pulse.is_some()));
    // the first plotted sample of each row's first lead lies on the row
    for l in truth["leads"].as_array().unwrap() {
        let first = &l["plotted_pixels"][0];
        let (y, x) = (
            first[0].as_f64().unwrap() as f32,
            first[1].as_f64().unwrap() as f32,
        );
        if x > 200.0 {
            continue;
        }
        let near = rows
            .iter()
            .any(|r| (r.x_start - x).abs() < 2.0 && (r.baseline_y - y).abs() < 60.0);
        assert!(near, "no row starts near ({x}, {y}): {rows:?}");
    }
}
