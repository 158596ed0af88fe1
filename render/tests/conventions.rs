//! Each printout convention draws what it says and the truth states it:
//! pulse placement, Cabrera order, label fonts / case / positions, uneven
//! printer scales, rhythm strips, 50 mm/s, and the variety preset.

use ecgdig_core::leads::Lead;
use ecgdig_render::page::style::{LabelFont, LabelPosition, LeadOrder, PulsePosition};
use ecgdig_render::page::{GridStyle, Layout, PageSpec};
use ecgdig_render::preset::{self, Preset};
use ecgdig_render::truth::{LeadTruth, Quad};
use ecgdig_render::{render_page, synthesize, Distortions, PageTruth, SynthParams};

fn record() -> ecgdig_core::record::Record {
    let p = SynthParams {
        noise_mv: 0.0,
        ..SynthParams::default()
    };
    synthesize(&p, 11)
}

/// Black traces on white, nothing else.
fn bare() -> PageSpec {
    PageSpec {
        dpi: 100.0,
        grid_style: GridStyle::None,
        trace_color: [0, 0, 0],
        calibration_pulse: false,
        separators: false,
        lead_labels: false,
        speed_gain_note: false,
        ..PageSpec::default()
    }
}

fn render(spec: &PageSpec) -> ecgdig_render::RenderedPage {
    render_page(&record(), spec, &Distortions::default(), 1).expect("renders")
}

fn dark(img: &image::RgbImage, x: f64, y: f64) -> bool {
    img.get_pixel(x.round() as u32, y.round() as u32).0[0] < 128
}

/// `(x0, y0, x1, y1)` of a quad.
fn bx(q: &Quad) -> (f64, f64, f64, f64) {
    (q.c0[1], q.c0[0], q.c2[1], q.c2[0])
}

fn row_leads(t: &PageTruth, row: usize) -> Vec<&LeadTruth> {
    t.leads.iter().filter(|l| l.row == Some(row)).collect()
}

#[test]
fn pulse_at_row_end_is_a_rectangle_of_gain_height() {
    let spec = PageSpec {
        calibration_pulse: true,
        pulse_position: PulsePosition::End,
        pulse_width_s: 0.12,
        gain_mm_per_mv: 20.0,
        layout: Layout::SixByTwo,
        ..bare()
    };
    let page = render(&spec);
    let t = &page.truth;
    assert_eq!(t.pulse_position, Some(PulsePosition::End));
    let ppy = spec.px_per_mm_y();
    for row in 0..6 {
        let leads = row_leads(t, row);
        assert!(leads[0].pulse_bounding_boxes.is_empty(), "no start pulse");
        let last = leads.last().unwrap();
        assert_eq!(last.pulse_bounding_boxes.len(), 1);
        let (x0, y0, x1, y1) = bx(&last.pulse_bounding_boxes[0]);
        // Gain height and the pulse's length.
        assert!((y1 - y0 - 20.0 * ppy).abs() < 0.011, "height {}", y1 - y0);
        let secs = (x1 - x0) / t.px_per_s;
        assert!((secs - 0.12).abs() < 1.01 / 500.0, "{secs} s");
        // Right of the row's last sample.
        let trace_end = bx(&last.lead_bounding_box).2;
        assert!(x0 > trace_end);
        // Ink: the rise and fall span the full height, the top is a line,
        // the inside is paper.
        let mid = (x0 + x1) / 2.0;
        for f in [0.2, 0.5, 0.8] {
            let y = y0 + f * (y1 - y0);
            assert!(
                dark(&page.image, x0, y) && dark(&page.image, x1, y),
                "edges at {f}"
            );
        }
        assert!(dark(&page.image, mid, y0));
        assert!(!dark(&page.image, mid, (y0 + y1) / 2.0));
        // Nothing left of the first trace.
        let (lx, ly, _, _) = bx(&leads[0].lead_bounding_box);
        assert!(!dark(&page.image, lx - 4.0, ly + 3.0));
    }
    let both = render(&PageSpec {
        pulse_position: PulsePosition::Both,
        ..spec.clone()
    });
    let pulses: usize = both
        .truth
        .leads
        .iter()
        .map(|l| l.pulse_bounding_boxes.len())
        .sum();
    assert_eq!(pulses, 12);
    let none = render(&PageSpec {
        calibration_pulse: false,
        ..spec
    });
    assert!(none.truth.pulse_position.is_none());
    assert!(none
        .truth
        .leads
        .iter()
        .all(|l| l.pulse_bounding_boxes.is_empty()));
}

#[test]
fn start_pulse_width_and_height_follow_the_settings() {
    for (width, gain) in [(0.1, 5.0), (0.2, 10.0)] {
        let spec = PageSpec {
            calibration_pulse: true,
            pulse_width_s: width,
            gain_mm_per_mv: gain,
            ..bare()
        };
        let t = render(&spec).truth;
        let first = &row_leads(&t, 0)[0];
        let (x0, y0, x1, y1) = bx(&first.pulse_bounding_boxes[0]);
        assert!((y1 - y0 - gain as f64 * spec.px_per_mm_y()).abs() < 0.011);
        assert!(((x1 - x0) / t.px_per_s - width).abs() < 1.01 / 500.0);
        assert!(x1 <= bx(&first.lead_bounding_box).0 + 2.0);
    }
}

#[test]
fn cabrera_order_prints_inverted_avr_and_says_so() {
    let rec = record();
    let spec = PageSpec {
        layout: Layout::SixByTwo,
        lead_order: LeadOrder::Cabrera,
        lead_labels: true,
        ..bare()
    };
    let t = render(&spec).truth;
    assert_eq!(t.lead_order, LeadOrder::Cabrera);
    let col0: Vec<(Lead, i8, String)> = t
        .leads
        .iter()
        .filter(|l| l.column == Some(0))
        .map(|l| (l.lead_name, l.sign, l.printed_name.clone().unwrap()))
        .collect();
    let names: Vec<&str> = col0.iter().map(|c| c.2.as_str()).collect();
    assert_eq!(names, ["aVL", "I", "-aVR", "II", "aVF", "III"]);
    assert_eq!((col0[2].0, col0[2].1), (Lead::AVR, -1));
    assert!(col0.iter().filter(|c| c.1 == -1).count() == 1);
    // The plotted trace is -aVR: y grows with aVR (down on the page).
    let avr = t.leads.iter().find(|l| l.sign == -1).unwrap();
    let v = rec.lead(Lead::AVR).unwrap();
    let (a, b) = (avr.start_sample, avr.start_sample + 200);
    let mpx = t.px_per_mv;
    let dy = avr.plotted_pixels[200][0] - avr.plotted_pixels[0][0];
    let dv = (v[b] - v[a]) as f64;
    assert!((dy - dv * mpx).abs() < 0.02, "{dy} vs {}", dv * mpx);
    // The truth JSON round-trips with the new fields.
    let back = PageTruth::from_json(&t.to_json()).unwrap();
    assert_eq!(back, t);
}

#[test]
fn label_font_case_and_position_change_what_is_drawn() {
    let base = PageSpec {
        lead_labels: true,
        label_size_mm: 5.0,
        ..bare()
    };
    let sans = render(&base);
    let serif = render(&PageSpec {
        label_font: LabelFont::SerifBold,
        ..base.clone()
    });
    assert_ne!(sans.image, serif.image);
    let a = sans.truth.leads[0].text_bounding_box.unwrap();
    let b = serif.truth.leads[0].text_bounding_box.unwrap();
    assert_ne!(a, b, "bold serif glyphs have other extents");
    // Only label pixels differ: outside every text box the pages agree.
    let boxes: Vec<_> = sans
        .truth
        .leads
        .iter()
        .chain(&serif.truth.leads)
        .filter_map(|l| l.text_bounding_box.map(|q| bx(&q)))
        .collect();
    for (x, y, p) in sans.image.enumerate_pixels() {
        let inside = boxes.iter().any(|&(x0, y0, x1, y1)| {
            (x as f64) >= x0 - 2.0
                && (x as f64) <= x1 + 2.0
                && (y as f64) >= y0 - 2.0
                && (y as f64) <= y1 + 2.0
        });
        if !inside {
            assert_eq!(p, serif.image.get_pixel(x, y), "({x}, {y})");
        }
    }
    // Bigger labels, bigger boxes.
    let big = render(&PageSpec {
        label_size_mm: 6.0,
        ..base.clone()
    });
    let h = |q: Quad| bx(&q).3 - bx(&q).1;
    assert!(h(big.truth.leads[0].text_bounding_box.unwrap()) > h(a));
    let upper = render(&PageSpec {
        label_upper: true,
        ..base.clone()
    });
    let avr = upper
        .truth
        .leads
        .iter()
        .find(|l| l.lead_name == Lead::AVR)
        .unwrap();
    assert_eq!(avr.printed_name.as_deref(), Some("AVR"));
    for pos in [
        LabelPosition::Below,
        LabelPosition::Above,
        LabelPosition::Left,
    ] {
        let t = render(&PageSpec {
            label_position: pos,
            calibration_pulse: true,
            ..base.clone()
        })
        .truth;
        // Panels with a start pulse: its bottom edge is the baseline.
        for l in t
            .leads
            .iter()
            .filter(|l| !l.pulse_bounding_boxes.is_empty())
        {
            let (tx0, ty0, tx1, ty1) = bx(&l.text_bounding_box.unwrap());
            let (lx0, _, _, _) = bx(&l.lead_bounding_box);
            let (px0, _, _, baseline) = bx(&l.pulse_bounding_boxes[0]);
            match pos {
                LabelPosition::Below => assert!(ty0 > baseline && tx0 >= lx0),
                LabelPosition::Above => assert!(ty1 < baseline && tx0 >= lx0),
                LabelPosition::Left => {
                    assert!(tx1 < px0, "{:?}: {tx1} vs {px0}", l.lead_name);
                    assert!(ty0 < baseline && ty1 > baseline, "centred on the baseline");
                }
            }
        }
    }
}

#[test]
fn uneven_printer_scale_matches_the_truth_scales() {
    let spec = PageSpec {
        dpi: 150.0,
        scale_x: 1.016,
        scale_y: 0.945,
        grid_style: GridStyle::Major,
        grid_color: ecgdig_render::page::GridColor::Black,
        calibration_pulse: true,
        ..bare()
    };
    let page = render(&spec);
    let t = &page.truth;
    let ppmm = 150.0 / 25.4;
    assert!((t.px_per_mm_x - ppmm * 1.016).abs() < 1e-9);
    assert!((t.px_per_mm_y - ppmm * 0.945).abs() < 1e-9);
    assert!((t.physical_speed_mm_per_s - 25.4).abs() < 1e-4);
    assert!((t.physical_gain_mm_per_mv - 9.45).abs() < 1e-4);
    assert!((t.x_grid - (5.0 * t.px_per_mm_x * 100.0).round() / 100.0).abs() < 1e-9);
    // Major grid lines in the image: measure their pitch along a paper row
    // and column (top-left corner, no trace there).
    let centres = |v: Vec<bool>| -> Vec<f64> {
        let mut out = Vec::new();
        let mut run: Vec<usize> = Vec::new();
        for (i, d) in v.iter().enumerate() {
            if *d {
                run.push(i);
            } else if !run.is_empty() {
                out.push(run.iter().sum::<usize>() as f64 / run.len() as f64);
                run.clear();
            }
        }
        out
    };
    let (w, h) = page.image.dimensions();
    let row: Vec<bool> = (0..w)
        .map(|x| page.image.get_pixel(x, 3).0[0] < 150)
        .collect();
    let col: Vec<bool> = (0..h)
        .map(|y| page.image.get_pixel(3, y).0[0] < 150)
        .collect();
    for (c, want) in [
        (centres(row), 5.0 * t.px_per_mm_x),
        (centres(col), 5.0 * t.px_per_mm_y),
    ] {
        let pitch = (c[c.len() - 1] - c[1]) / (c.len() - 2) as f64;
        assert!((pitch - want).abs() < 0.02, "pitch {pitch} vs {want}");
    }
    // Plotted samples advance px_per_s / fs; the pulse is 1 mV = px_per_mv tall.
    let l = &t.leads[0];
    let dx = l.plotted_pixels[100][1] - l.plotted_pixels[0][1];
    assert!((dx - 100.0 * t.px_per_s / 500.0).abs() < 0.01);
    let (_, y0, _, y1) = bx(&l.pulse_bounding_boxes[0]);
    assert!((y1 - y0 - 10.0 * t.px_per_mm_y).abs() < 0.011);
    assert_eq!(
        page.image.dimensions().0,
        (279.4 * t.px_per_mm_x).round() as u32
    );
}

#[test]
fn rhythm_strips_fifty_mm_per_s_and_partial_layouts() {
    let spec = PageSpec {
        layout: Layout::ThreeByFour,
        rhythm_leads: Some(vec![Lead::V1, Lead::II, Lead::V5]),
        paper_speed_mm_per_s: 50.0,
        page_seconds: 5.0,
        ..bare()
    };
    let t = render(&spec).truth;
    let strips: Vec<(Lead, Option<usize>, usize)> = t
        .leads
        .iter()
        .filter(|l| l.rhythm)
        .map(|l| (l.lead_name, l.row, l.end_sample - l.start_sample))
        .collect();
    assert_eq!(
        strips,
        vec![
            (Lead::V1, Some(3), 2500),
            (Lead::II, Some(4), 2500),
            (Lead::V5, Some(5), 2500)
        ]
    );
    assert_eq!(t.full_mode_lead, "V1");
    assert_eq!(t.rhythm_leads, vec![Lead::V1, Lead::II, Lead::V5]);
    let short = t.leads.iter().find(|l| l.lead_name == Lead::V4).unwrap();
    assert_eq!((short.start_sample, short.end_sample), (1875, 2500));
    assert!((t.px_per_s - 50.0 * spec.px_per_mm_x()).abs() < 1e-9);
    for (layout, n) in [(Layout::SixByOneLimb, 6), (Layout::ThreeByTwoChest, 6)] {
        let t = render(&PageSpec { layout, ..bare() }).truth;
        assert_eq!(t.leads.len(), n);
    }
}

#[test]
fn variety_pages_render_with_consistent_truth() {
    let rec = record();
    for seed in 0..6u64 {
        let (mut spec, d) = preset::draw(Preset::Variety, "synthetic", seed, None);
        spec.dpi = spec.dpi.min(120.0); // keep the test quick
        let page = render_page(&rec, &spec, &d, seed).expect("variety page renders");
        let t = &page.truth;
        assert_eq!((t.width, t.height), page.image.dimensions());
        for l in &t.leads {
            assert!(l.row.is_some() && l.column.is_some());
            assert!(l.sign == 1 || (l.sign == -1 && l.lead_name == Lead::AVR));
            assert_eq!(l.plotted_pixels.len(), l.end_sample - l.start_sample);
            if let Some(name) = &l.printed_name {
                assert!(name
                    .to_lowercase()
                    .ends_with(&l.lead_name.name().to_lowercase()));
            }
        }
        assert_eq!(PageTruth::from_json(&t.to_json()).unwrap(), *t);
    }
}
