use super::*;
use crate::layout::labels::tests::{add_noise, draw_text};
use ab_glyph::FontRef;
use image::GrayImage;

fn grid(ppmm: f32) -> GridInfo {
    GridInfo {
        px_per_mm_x: ppmm,
        px_per_mm_y: ppmm,
        confidence: 1.0,
        source: ScaleSource::Grid,
        ..GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid)
    }
}

/// A page-sized mask with `texts` printed at `(x_mm, y_mm)`, each `cap_mm`
/// tall (an em of about 1.4 capitals).
fn page(font: &FontRef<'_>, texts: &[(&str, f32, f32)], ppmm: f32, cap_mm: f32) -> GrayImage {
    let mut m = GrayImage::new((180.0 * ppmm) as u32, (60.0 * ppmm) as u32);
    for &(t, x, y) in texts {
        draw_text(&mut m, font, t, cap_mm * 1.4 * ppmm, x * ppmm, y * ppmm);
    }
    m
}

fn sans() -> FontRef<'static> {
    FontRef::try_from_slice(dejavu::sans::regular()).expect("bundled font")
}

fn read(m: &GrayImage, ppmm: f32) -> (Option<f32>, Option<f32>) {
    let r = ScaleTextConfig::default().read(m, &grid(ppmm));
    (r.speed.map(|s| s.value), r.gain.map(|g| g.value))
}

#[test]
fn reads_speed_and_gain_at_several_resolutions_and_sizes() {
    let font = sans();
    for dpi in [100.0f32, 200.0, 300.0] {
        let ppmm = dpi / 25.4;
        // glyphs 8 px tall touch each other at 100 dpi: 3 mm there
        for cap in [2.0f32, 3.0, 4.5]
            .into_iter()
            .filter(|&c| dpi > 100.0 || c >= 3.0)
        {
            for (speed, gain) in [
                ("50mm/s", "5mm/mV"),
                ("25 mm/s", "20 mm/mV"),
                ("25mm/s", "10mm/mV"),
            ] {
                let m = page(&font, &[(speed, 20.0, 40.0), (gain, 80.0, 40.0)], ppmm, cap);
                let want_speed = if speed.starts_with("50") { 50.0 } else { 25.0 };
                let want_gain = gain
                    .split("mm")
                    .next()
                    .map(|g| g.trim().parse::<f32>().ok());
                assert_eq!(
                    read(&m, ppmm),
                    (Some(want_speed), want_gain.flatten()),
                    "{speed} {gain} at {dpi} dpi, {cap} mm"
                );
            }
        }
    }
}

#[test]
fn header_text_and_lead_names_are_not_a_scale() {
    let font = sans();
    let ppmm = 200.0 / 25.4;
    let m = page(
        &font,
        &[
            ("HR 94 bpm", 10.0, 5.0),
            ("PR 140 ms", 50.0, 5.0),
            ("QRS 75 ms", 90.0, 5.0),
            ("0.5-150 Hz", 130.0, 5.0),
            ("aVR", 10.0, 25.0),
            ("V5", 40.0, 25.0),
            ("ID: 1982 55 yrs", 60.0, 40.0),
        ],
        ppmm,
        3.0,
    );
    assert_eq!(read(&m, ppmm), (None, None));
}

#[test]
fn two_different_speeds_printed_alike_leave_the_default() {
    let font = sans();
    let ppmm = 200.0 / 25.4;
    let m = page(
        &font,
        &[("25mm/s", 20.0, 20.0), ("50mm/s", 90.0, 20.0)],
        ppmm,
        3.0,
    );
    let g = ScaleTextConfig::default().apply(&m, &grid(ppmm));
    assert_eq!(g.mm_per_second, 25.0);
    // one clear read sets it
    let m = page(&font, &[("50mm/s", 90.0, 20.0)], ppmm, 3.0);
    let mut noisy = m.clone();
    add_noise(&mut noisy, 0.002, 7);
    let g = ScaleTextConfig::default().apply(&noisy, &grid(ppmm));
    assert_eq!((g.mm_per_second, g.mm_per_mv), (50.0, 10.0));
}

/// Fonts the templates were not rendered from (Debian's Liberation fonts,
/// `apt-get install fonts-liberation`); skips, saying so, when absent.
#[test]
fn unseen_fonts_are_read() {
    let dirs = [
        "/usr/share/fonts/truetype/liberation",
        "/usr/share/fonts/truetype/liberation2",
    ];
    let files = [
        "LiberationSans-Regular.ttf",
        "LiberationSans-Bold.ttf",
        "LiberationSerif-Regular.ttf",
        "LiberationMono-Regular.ttf",
    ];
    let fonts: Vec<Vec<u8>> = files
        .iter()
        .filter_map(|f| {
            dirs.iter()
                .find_map(|d| std::fs::read(format!("{d}/{f}")).ok())
        })
        .collect();
    if fonts.is_empty() {
        eprintln!("skipped: no Liberation fonts under {dirs:?} (apt-get install fonts-liberation)");
        return;
    }
    let (mut right, mut total) = (0, 0);
    for bytes in &fonts {
        let Ok(font) = FontRef::try_from_slice(bytes) else {
            continue;
        };
        for dpi in [150.0f32, 300.0] {
            let ppmm = dpi / 25.4;
            for (speed, gain, want) in [
                ("50mm/s", "5mm/mV", (Some(50.0), Some(5.0))),
                ("25mm/s", "20mm/mV", (Some(25.0), Some(20.0))),
            ] {
                let m = page(&font, &[(speed, 20.0, 40.0), (gain, 80.0, 40.0)], ppmm, 3.0);
                total += 1;
                right += usize::from(read(&m, ppmm) == want);
            }
        }
    }
    eprintln!("Liberation fonts: {right}/{total} scale texts read");
    assert!(right * 10 >= total * 9, "only {right}/{total} read");
}

#[test]
fn the_layout_takes_half_the_seconds_at_50_mm_per_second() {
    use crate::layout::panels::shown_seconds;
    let mut g = grid(8.0);
    assert_eq!(shown_seconds(10.0, &g), 10.0);
    g.mm_per_second = 50.0;
    assert_eq!(shown_seconds(10.0, &g), 5.0);
    // a slower paper cannot show more than the page holds
    g.mm_per_second = 12.5;
    assert_eq!(shown_seconds(10.0, &g), 10.0);
}
