//! Tests of `write_overlay`.

use super::*;

fn one_panel() -> (Layout, Traces) {
    let layout = Layout {
        kind: LayoutKind::Other,
        page_seconds: 10.0,
        row_baselines: vec![50.0],
        template: None,
        panels: vec![Panel {
            lead: Lead::AVR,
            row: 0,
            col: 0,
            bbox: Rect {
                x0: 10.0,
                y0: 10.0,
                x1: 190.0,
                y1: 90.0,
            },
            baseline_y: 50.0,
            x_start: 10.0,
            x_end: 190.0,
            t_start: 0.0,
            t_end: 2.5,
            rhythm: false,
            label_score: None,
            inverted: false,
        }],
    };
    let traces = Traces {
        traces: vec![Trace {
            panel: 0,
            lead: Lead::AVR,
            points: vec![[20.0, 85.0], [180.0, 85.0]],
            confidence: 1.0,
        }],
    };
    (layout, traces)
}

#[test]
fn draws_boxes_paths_and_labels() {
    let page = PageImage::new(RgbImage::from_pixel(200, 100, Rgb([255, 255, 255])));
    let (layout, traces) = one_panel();
    let img = WriteOverlayConfig::default().draw(&page, &layout, &traces, None);
    assert_eq!(img.get_pixel(150, 85).0, [230, 20, 20]);
    assert_eq!(img.get_pixel(10, 70).0, [40, 80, 230]);
    assert_eq!(img.get_pixel(100, 50).0, [0, 170, 60]);
    // some label pixels were drawn just under the baseline, at the left
    let drawn = (14..60)
        .flat_map(|x| (54..80).map(move |y| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0 == [40, 80, 230])
        .count();
    assert!(drawn > 20);
    // judged as doubtful: the box turns magenta, and the verdict is written
    let mut s = Signals::empty(100.0, 1000);
    s.set(
        Lead::AVR,
        LeadSignal {
            start: 0,
            samples: vec![0.0; 250],
            confidence: 0.2,
        },
    );
    s.assessment = Some(PageAssessment {
        verdict: Verdict::Check,
        reasons: vec!["probably wrong: aVR 0.20".into()],
        evidence: vec![None; N_LEADS],
    });
    let img = WriteOverlayConfig::default().draw(&page, &layout, &traces, Some(&s));
    assert_eq!(img.get_pixel(10, 70).0, [210, 0, 170]);
    assert_eq!(img.get_pixel(11, 70).0, [210, 0, 170]);
    let top = (0..200)
        .flat_map(|x| (0..10).map(move |y| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0 == [210, 0, 170])
        .count();
    assert!(top > 20, "verdict text drawn: {top}");
}

/// A 200x100 page rectified out of a 420x170 photo by the map
/// `x' = 2x + 10`, `y' = 1.5y + 5` (a mesh every 8 px).
fn rectified_page() -> (PageImage, RgbImage) {
    let (nx, ny) = (27, 14);
    let nodes = (0..ny)
        .flat_map(|j| (0..nx).map(move |i| [16.0 * i as f32 + 10.0, 12.0 * j as f32 + 5.0]))
        .collect();
    let mesh = WarpMesh::new(8, nx, ny, nodes).unwrap();
    let mut page = PageImage::new(RgbImage::from_pixel(200, 100, Rgb([255, 255, 255])));
    page.warp = Some(PageWarp::new(Rectification {
        corners: [[10.0, 5.0], [410.0, 5.0], [410.0, 155.0], [10.0, 155.0]],
        lattice: None,
        mesh,
    }));
    (page, RgbImage::from_pixel(420, 170, Rgb([200, 200, 200])))
}

#[test]
fn on_the_original_the_drawing_follows_the_warp() {
    let (page, photo) = rectified_page();
    let (layout, traces) = one_panel();
    let cfg = WriteOverlayConfig::default();
    let img = cfg.draw_on_original(&photo, &page, &layout, &traces, None);
    assert_eq!(img.dimensions(), photo.dimensions());
    // the trace at y = 85 is at y = 132.5 in the photo, x 50..370
    let red = |x: u32| (131..=134).any(|y| img.get_pixel(x, y).0 == [230, 20, 20]);
    assert!((60..360).all(red));
    assert!(!red(20) && !red(380));
    // the box's left side (x = 10) is at x = 30, from y = 20 to 140
    // (the baseline starts on it)
    assert!((25..135)
        .filter(|&y| y != 80)
        .all(|y| img.get_pixel(30, y).0 == [40, 80, 230]));
    // the baseline (y = 50) at y = 80
    assert_eq!(img.get_pixel(200, 80).0, [0, 170, 60]);
}

#[test]
fn the_frame_follows_the_setting_and_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions {
        out_dir: Some(dir.path().to_path_buf()),
        formats: vec!["overlay".into()],
        ..RunOptions::default()
    };
    let ctx = RunContext::new(
        InputSource::Path("p.png".into()),
        "p",
        std::sync::Arc::new(opts),
    );
    let (warped, photo) = rectified_page();
    let flat = PageImage::new(warped.rgb.clone());
    let (layout, traces) = one_panel();
    let size = |cfg: &WriteOverlayConfig, page: &PageImage, original: bool| {
        let mut inputs = StageInputs::new()
            .with("image", page.clone())
            .with("layout", layout.clone())
            .with("traces", traces.clone());
        if original {
            inputs = inputs.with("original", PageImage::new(photo.clone()));
        }
        cfg.run(&inputs, &ctx)
            .map(|_| image::image_dimensions(dir.path().join("p_overlay.png")).unwrap())
    };
    let auto = WriteOverlayConfig::default();
    assert_eq!(size(&auto, &warped, true).unwrap(), (420, 170));
    assert_eq!(size(&auto, &warped, false).unwrap(), (200, 100));
    assert_eq!(size(&auto, &flat, true).unwrap(), (200, 100));
    let rectified = WriteOverlayConfig {
        frame: OverlayFrame::Rectified,
        ..WriteOverlayConfig::default()
    };
    assert_eq!(size(&rectified, &warped, true).unwrap(), (200, 100));
    let original = WriteOverlayConfig {
        frame: OverlayFrame::Original,
        ..WriteOverlayConfig::default()
    };
    assert_eq!(size(&original, &flat, true).unwrap(), (420, 170));
    assert!(size(&original, &warped, false).is_err());
}
