//! The `variety` preset: every printout convention the renderer knows,
//! drawn per page from a seed.
//!
//! Input: the record name (for the header) and a seed. Output: a
//! [`PageSpec`] and mild [`Distortions`]. Each page draws independently:
//! - resolution 50..300 dpi; paper letter or A4 (widened when the traces
//!   need it); paper speed 25 mm/s (10 s) or 50 mm/s (5 s); gain 5, 10 or
//!   20 mm/mV (smaller on pages with many rows); on 30 % of pages an uneven
//!   printer scale of 0.94..1.06 per axis (e.g. 25.4 mm/s with 9.45 mm/mV);
//! - layouts 3x4 with 0..3 rhythm strips, 6x2 with 0..1, 12x1, 6x1 (limb)
//!   and 3x2 (chest); rhythm strips of II, V1, V5, I, III, aVF or V2;
//!   Cabrera order (-aVR) on 20 % of the pages;
//! - calibration pulse at row start, row end, both or none, 0.08..0.24 s;
//! - lead labels in eight DejaVu fonts, 1.5..6 mm, upper case on 30 %,
//!   below, above or left of the trace;
//! - grids as lines, 1 mm dots, 5 mm dots, 5 mm lines only or none; preset
//!   colours or explicit ones, some as dark as the trace;
//! - header text on half the pages, pen scribbles and notes on half;
//! - light noise, blur, small rotation and JPEG on some pages.

use crate::page::distort::Distortions;
use crate::page::style::{GridRgb, LabelFont, LabelPosition, LeadOrder, PulsePosition};
use crate::page::{Clutter, GridColor, GridStyle, Layout, PageSpec};
use ecgdig_core::leads::Lead;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Picks one item by weight.
fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|i| i.1).sum();
    let mut r = rng.random_range(0..total.max(1));
    for &(v, w) in items {
        if r < w {
            return v;
        }
        r -= w;
    }
    items[0].0
}

/// Lead layout, rhythm strips and order.
fn draw_layout(rng: &mut ChaCha8Rng, spec: &mut PageSpec) {
    let base = pick(
        rng,
        &[
            (Layout::ThreeByFour, 45),
            (Layout::SixByTwo, 20),
            (Layout::TwelveByOne, 13),
            (Layout::SixByOneLimb, 11),
            (Layout::ThreeByTwoChest, 11),
        ],
    );
    let n_rhythm = match base {
        Layout::ThreeByFour => pick(rng, &[(0usize, 20), (1, 50), (2, 20), (3, 10)]),
        Layout::SixByTwo => pick(rng, &[(0usize, 60), (1, 40)]),
        _ => 0,
    };
    let mut pool = vec![
        Lead::II,
        Lead::V1,
        Lead::V5,
        Lead::I,
        Lead::III,
        Lead::AVF,
        Lead::V2,
    ];
    let mut rhythm = Vec::new();
    for k in 0..n_rhythm {
        // Lead II first most often, as printers do.
        let i = if k == 0 && rng.random_bool(0.5) {
            0
        } else {
            rng.random_range(0..pool.len())
        };
        rhythm.push(pool.remove(i));
    }
    spec.layout = if base == Layout::ThreeByFour && n_rhythm == 1 {
        Layout::ThreeByFourRhythm
    } else {
        base
    };
    if let Some(&l) = rhythm.first() {
        spec.rhythm_lead = l;
    }
    spec.rhythm_leads = Some(rhythm);
    if base != Layout::ThreeByTwoChest && rng.random_bool(0.2) {
        spec.lead_order = LeadOrder::Cabrera;
    }
}

/// Grid style and colours.
fn draw_grid(rng: &mut ChaCha8Rng, spec: &mut PageSpec) {
    spec.grid_style = pick(
        rng,
        &[
            (GridStyle::Lines, 60),
            (GridStyle::Dots, 13),
            (GridStyle::Dots5, 10),
            (GridStyle::Major, 12),
            (GridStyle::None, 5),
        ],
    );
    spec.grid_color = GridColor::ALL[rng.random_range(0..GridColor::ALL.len())];
    if rng.random_bool(0.4) {
        let kind = rng.random_range(0..3);
        let k = rng.random_range(0..3);
        let mut chan = |lo: u8, hi: u8| rng.random_range(lo..=hi);
        spec.grid_rgb = Some(match kind {
            // As dark as the trace.
            0 => {
                let g = chan(20, 70);
                let m = chan(80, 160);
                GridRgb {
                    minor: [m, m, m],
                    major: [g, g, g],
                }
            }
            // A dark colour.
            1 => {
                let c = [chan(60, 200), chan(20, 120), chan(20, 120)];
                let mut major = c;
                major.rotate_left(k);
                GridRgb {
                    minor: major.map(|v| v / 2 + 110),
                    major,
                }
            }
            // Any light colour.
            _ => {
                let major = [chan(100, 250), chan(100, 250), chan(100, 250)];
                GridRgb {
                    minor: major.map(|v| v / 3 + 170),
                    major,
                }
            }
        });
    }
}

/// Draws the settings of one variety page.
pub fn draw(record_name: &str, seed: u64) -> (PageSpec, Distortions) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7A81_E7E1);
    let mut spec = PageSpec {
        dpi: rng.random_range(50..=300) as f32,
        ..PageSpec::default()
    };
    if rng.random_bool(0.4) {
        (spec.width_mm, spec.height_mm) = (297.0, 210.0);
    }
    if rng.random_bool(0.15) {
        spec.paper_speed_mm_per_s = 50.0;
        spec.page_seconds = 5.0;
    }
    draw_layout(&mut rng, &mut spec);
    let rows = spec.layout.grid_rows(spec.lead_order).len() + spec.rhythm_strips().len();
    spec.gain_mm_per_mv = if rows >= 12 {
        pick(&mut rng, &[(5.0, 70), (10.0, 30)])
    } else if rows >= 6 {
        pick(&mut rng, &[(5.0, 35), (10.0, 65)])
    } else {
        pick(&mut rng, &[(5.0, 20), (10.0, 60), (20.0, 20)])
    };
    if rng.random_bool(0.3) {
        spec.scale_x = (rng.random_range(0.94..1.06f64) * 1000.0).round() / 1000.0;
        spec.scale_y = (rng.random_range(0.94..1.06f64) * 1000.0).round() / 1000.0;
    }
    spec.calibration_pulse = rng.random_bool(0.8);
    spec.pulse_position = pick(
        &mut rng,
        &[
            (PulsePosition::Start, 50),
            (PulsePosition::End, 30),
            (PulsePosition::Both, 20),
        ],
    );
    spec.pulse_width_s = [0.08, 0.1, 0.12, 0.16, 0.2, 0.2, 0.24][rng.random_range(0..7)];
    spec.lead_labels = rng.random_bool(0.92);
    spec.label_font = LabelFont::ALL[rng.random_range(0..LabelFont::ALL.len())];
    spec.label_size_mm = (rng.random_range(1.5..6.0f32) * 10.0).round() / 10.0;
    spec.label_upper = rng.random_bool(0.3);
    spec.label_position = pick(
        &mut rng,
        &[
            (LabelPosition::Below, 50),
            (LabelPosition::Above, 30),
            (LabelPosition::Left, 20),
        ],
    );
    // Room left of the traces for a start pulse and left labels.
    let speed = spec.paper_speed_mm_per_s as f64;
    let pulse_mm = spec.pulse_width_s * speed;
    let start_pulse = spec.calibration_pulse && spec.pulse_position.at_start();
    let mut x0 = 5.0 + if start_pulse { pulse_mm } else { 0.0 };
    if spec.lead_labels && spec.label_position == LabelPosition::Left {
        x0 += 2.0 + 2.8 * spec.label_size_mm as f64;
    }
    spec.trace_x0_mm = x0.max(15.0).round();
    let end_room = if spec.calibration_pulse && spec.pulse_position.at_end() {
        pulse_mm + 4.0
    } else {
        0.0
    };
    let need = spec.trace_x0_mm + speed * spec.page_seconds as f64 + end_room + 5.0;
    spec.width_mm = spec.width_mm.max(need.ceil() as f32);
    draw_grid(&mut rng, &mut spec);
    let k = rng.random_range(5..45);
    spec.trace_color = if rng.random_bool(0.85) {
        [k, k, k]
    } else {
        [k, k, k + 60]
    };
    spec.trace_width_mm = rng.random_range(0.2..0.5);
    spec.separators = rng.random_bool(0.5);
    spec.speed_gain_note = rng.random_bool(0.6);
    if rng.random_bool(0.5) {
        let sex = if rng.random_bool(0.5) { "M" } else { "F" };
        spec.header = Some(format!(
            "ID: {record_name}   {sex}   {} yrs\nHR {} bpm   PR {} ms   QRS {} ms",
            rng.random_range(20..90),
            rng.random_range(50..110),
            rng.random_range(120..200),
            rng.random_range(70..120)
        ));
    }
    if rng.random_bool(0.5) {
        let pens = [[25, 45, 150], [20, 20, 20], [170, 30, 30], [30, 90, 40]];
        spec.clutter = Some(Clutter {
            scribbles: rng.random_range(0..=4),
            notes: rng.random_range(0..=4),
            pen_color: pens[rng.random_range(0..pens.len())],
        });
    }
    let mut d = Distortions::default();
    if rng.random_bool(0.5) {
        d.noise_sigma = Some(rng.random_range(1.0..8.0));
    }
    if rng.random_bool(0.3) {
        d.blur_sigma_px = Some(rng.random_range(0.2..0.8));
    }
    if rng.random_bool(0.25) {
        d.rotation_degrees = Some(rng.random_range(-1.5..1.5));
    }
    if rng.random_bool(0.7) {
        d.jpeg_quality = Some(rng.random_range(75..=95));
    }
    (spec, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variety_is_deterministic_and_covers_the_conventions() {
        assert_eq!(draw("r", 5), draw("r", 5));
        let specs: Vec<PageSpec> = (0..400).map(|s| draw("r", s).0).collect();
        let any = |f: &dyn Fn(&PageSpec) -> bool| specs.iter().any(f);
        assert!(any(&|s| s.lead_order == LeadOrder::Cabrera));
        assert!(any(
            &|s| s.pulse_position == PulsePosition::End && s.calibration_pulse
        ));
        assert!(any(&|s| !s.calibration_pulse));
        assert!(any(&|s| s.rhythm_strips().len() == 3));
        assert!(any(&|s| s.layout == Layout::ThreeByTwoChest));
        assert!(any(&|s| s.paper_speed_mm_per_s == 50.0));
        assert!(any(&|s| s.gain_mm_per_mv == 20.0));
        assert!(any(&|s| s.scale_x != 1.0));
        assert!(any(&|s| s.grid_style == GridStyle::Dots5));
        assert!(any(&|s| s.clutter.is_some()));
        for s in &specs {
            assert!((50.0..=300.0).contains(&s.dpi));
            assert!((1.5..=6.0).contains(&s.label_size_mm));
            let right = s.trace_x0_mm + (s.paper_speed_mm_per_s * s.page_seconds) as f64;
            assert!(right < s.width_mm as f64, "traces fit the page");
        }
    }
}
