//! The reader on fonts its templates were not rendered from: Debian's
//! Liberation fonts (`apt-get install fonts-liberation`), metric clones of
//! Arial, Times and Courier, at several sizes and resolutions, with noise.
//! Skips, saying so, when the font files are absent.

use super::read_window;
use super::tests::{add_noise, draw_text};
use super::words::NAMES;
use ab_glyph::FontRef;
use ecgdig_core::prelude::*;
use image::GrayImage;

const DIRS: [&str; 2] = [
    "/usr/share/fonts/truetype/liberation",
    "/usr/share/fonts/truetype/liberation2",
];
const FILES: [&str; 6] = [
    "LiberationSans-Regular.ttf",
    "LiberationSans-Bold.ttf",
    "LiberationSerif-Regular.ttf",
    "LiberationSerif-Bold.ttf",
    "LiberationMono-Regular.ttf",
    "LiberationMono-Bold.ttf",
];

#[test]
fn liberation_fonts_are_read() {
    let fonts: Vec<(String, Vec<u8>)> = FILES
        .iter()
        .filter_map(|f| {
            DIRS.iter()
                .find_map(|d| std::fs::read(format!("{d}/{f}")).ok())
                .map(|b| (f.to_string(), b))
        })
        .collect();
    if fonts.is_empty() {
        eprintln!("skipped: no Liberation fonts under {DIRS:?} (apt-get install fonts-liberation)");
        return;
    }
    let (mut right, mut total) = (0usize, 0usize);
    let mut misses = Vec::new();
    for (fi, (name, bytes)) in fonts.iter().enumerate() {
        let Ok(font) = FontRef::try_from_slice(bytes) else {
            continue;
        };
        // 100, 200 and 300 dpi; labels 2.5 and 4 mm tall (em ~ 1.4 x caps)
        for dpi in [100.0f32, 200.0, 300.0] {
            let ppmm = dpi / 25.4;
            for cap_mm in [2.5f32, 4.0] {
                let px = cap_mm * 1.4 * ppmm;
                for (k, &(text, lead, inverted)) in NAMES.iter().enumerate() {
                    let mut m = GrayImage::new((px * 4.0) as u32 + 20, (px * 2.0) as u32 + 20);
                    draw_text(&mut m, &font, text, px, 10.0, 10.0);
                    add_noise(&mut m, 0.005, (fi * 1000 + k) as u64 + dpi as u64);
                    let win = Rect {
                        x0: 0.0,
                        y0: 0.0,
                        x1: m.width() as f32,
                        y1: m.height() as f32,
                    };
                    total += 1;
                    match read_window(&m, win, (10.0, 10.0), ppmm, 100) {
                        Some(r) if r.lead == lead && r.inverted == inverted => right += 1,
                        other => misses.push(format!(
                            "{name} {dpi} dpi {cap_mm} mm {text}->{:?}",
                            other.map(|r| r.text)
                        )),
                    }
                }
            }
        }
    }
    let rate = right as f32 / total.max(1) as f32;
    eprintln!(
        "Liberation fonts: {right}/{total} read ({:.1} %)",
        100.0 * rate
    );
    misses.truncate(20);
    assert!(rate >= 0.95, "only {:.1} % read: {misses:?}", 100.0 * rate);
}
