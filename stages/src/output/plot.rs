//! `write_plot`: draws the digitized signals as a clean 12-lead report PNG on
//! ECG paper.
//!
//! Input: `signals`. Output: none; when the run has an output folder and the
//! `plot` format is requested (`--format plot`), writes `<out>/<stem>.plot.png`
//! atomically. The report is the standard printout: three rows of four leads
//! (`I aVR V1 V4` / `II aVL V2 V5` / `III aVF V3 V6`, 2.5 s each) and a
//! lead II rhythm strip over the whole page, on pink paper with 1 mm and 5 mm
//! lines at 25 mm/s and 10 mm/mV. Each panel shows the lead over its
//! column's time window when the lead has samples there, otherwise the first
//! 2.5 s of the lead's own window (pages laid out 6x2 or 12x1). Unknown
//! samples leave gaps. Drawn with `plotters` and the DejaVu Sans font shipped
//! in the `dejavu` crate (no system fonts).
//!
//! ```
//! # let toml = r#"
//! [stages.plot]
//! type = "write_plot"
//! inputs = ["einthoven"]
//! px_per_mm = 4.0
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use ecgdig_core::output::write_png;
use ecgdig_core::prelude::*;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WritePlotConfig {
    /// Pixels per millimetre of paper (4 = about 100 dpi).
    pub px_per_mm: f32,
    /// Paper speed, mm/s.
    pub mm_per_second: f32,
    /// Gain, mm/mV.
    pub mm_per_mv: f32,
}

impl Default for WritePlotConfig {
    fn default() -> Self {
        Self {
            px_per_mm: 4.0,
            mm_per_second: 25.0,
            mm_per_mv: 10.0,
        }
    }
}

#[typetag::serde(name = "write_plot")]
impl StageConfig for WritePlotConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("signals", ArtifactKind::Signals)]
    }
    fn outputs(&self) -> Vec<Port> {
        Vec::new()
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        let ok = |v: f32, lo: f32, hi: f32| v.is_finite() && (lo..=hi).contains(&v);
        if !ok(self.px_per_mm, 1.0, 20.0)
            || !ok(self.mm_per_second, 5.0, 100.0)
            || !ok(self.mm_per_mv, 1.0, 40.0)
        {
            return Err(Error::stage(
                "write_plot: px_per_mm must be in 1..=20, mm_per_second in 5..=100, mm_per_mv in 1..=40",
            ));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    WritePlotConfig,
    "write_plot",
    summary = "Writes <stem>.plot.png: a 12-lead report (3x4 + lead II rhythm) of the digitized signals on ECG paper, when --format plot.",
    params = [
        ("px_per_mm", "pixels per millimetre of paper, 1..=20 (4 is about 100 dpi)"),
        ("mm_per_second", "paper speed of the report, mm/s"),
        ("mm_per_mv", "gain of the report, mm/mV"),
    ],
    example = "[stages.plot]\ntype = \"write_plot\"\ninputs = [\"einthoven\"]\n"
);

const FONT: &str = "ecgdig-dejavu-sans";

fn font_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok())
}

/// Rows of the 3x4 part of the report.
pub const REPORT_ROWS: [[Lead; 4]; 3] = [
    [Lead::I, Lead::AVR, Lead::V1, Lead::V4],
    [Lead::II, Lead::AVL, Lead::V2, Lead::V5],
    [Lead::III, Lead::AVF, Lead::V3, Lead::V6],
];

const MARGIN_MM: f32 = 10.0;
const HEADER_MM: f32 = 14.0;
const ROW_MM: f32 = 35.0;

/// Renders the report to an RGB image.
pub fn render(cfg: &WritePlotConfig, title: &str, s: &Signals) -> Result<image::RgbImage> {
    let fs = s.fs.max(1e-3);
    let page_s = s.n_samples as f32 / fs;
    let page_s = if page_s > 0.0 { page_s } else { 10.0 };
    let ppmm = cfg.px_per_mm;
    let paper_w_mm = page_s * cfg.mm_per_second;
    let w_mm = 2.0 * MARGIN_MM + paper_w_mm;
    let h_mm = HEADER_MM + 4.0 * ROW_MM + MARGIN_MM / 2.0;
    let (w, h) = ((w_mm * ppmm).round() as u32, (h_mm * ppmm).round() as u32);
    if w as u64 * h as u64 > 60_000_000 {
        return Err(Error::new(
            ErrorClass::Output,
            format!("report would be {w}x{h} pixels; lower px_per_mm"),
        ));
    }
    let mut buf = vec![255u8; (w as usize) * (h as usize) * 3];
    let draw_err = |e: String| Error::new(ErrorClass::Output, format!("cannot draw report: {e}"));
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        let px = |mm: f32| (mm * ppmm).round() as i32;
        let (x0, y0) = (MARGIN_MM, HEADER_MM);
        let (x1, y1) = (MARGIN_MM + paper_w_mm, HEADER_MM + 4.0 * ROW_MM);
        let minor = RGBColor(250, 214, 214);
        let major = RGBColor(236, 150, 150);
        // paper: minor then major lines
        for (step, color) in [(1.0f32, minor), (5.0, major)] {
            let n_x = ((x1 - x0) / step).round() as i32;
            for k in 0..=n_x {
                let x = px(x0 + k as f32 * step);
                root.draw(&PathElement::new(vec![(x, px(y0)), (x, px(y1))], color))
                    .map_err(|e| draw_err(e.to_string()))?;
            }
            let n_y = ((y1 - y0) / step).round() as i32;
            for k in 0..=n_y {
                let y = px(y0 + k as f32 * step);
                root.draw(&PathElement::new(vec![(px(x0), y), (px(x1), y)], color))
                    .map_err(|e| draw_err(e.to_string()))?;
            }
        }
        let ink = ShapeStyle {
            color: BLACK.to_rgba(),
            filled: false,
            stroke_width: ((ppmm / 3.0).round() as u32).max(1),
        };
        let label = |size: f32| {
            (FONT, (size * ppmm) as f64)
                .into_font()
                .color(&RGBColor(20, 20, 20))
        };
        let have_font = font_ready();
        if have_font {
            root.draw(&Text::new(
                format!(
                    "{title}   {} Hz   {:.0} mm/s   {:.0} mm/mV   (digitized by ecgdig)",
                    s.fs, cfg.mm_per_second, cfg.mm_per_mv
                ),
                (px(MARGIN_MM), px(4.0)),
                label(4.0),
            ))
            .map_err(|e| draw_err(e.to_string()))?;
        }
        let col_s = page_s / 4.0;
        let mut panels: Vec<(Lead, usize, f32, f32, f32)> = Vec::new(); // lead, row, x_mm, t0, dur
        for (r, row) in REPORT_ROWS.iter().enumerate() {
            for (c, &lead) in row.iter().enumerate() {
                panels.push((
                    lead,
                    r,
                    x0 + c as f32 * col_s * cfg.mm_per_second,
                    c as f32 * col_s,
                    col_s,
                ));
            }
        }
        panels.push((Lead::II, 3, x0, 0.0, page_s));
        for (lead, r, x_mm, t_col, dur) in panels {
            let baseline_mm = y0 + r as f32 * ROW_MM + ROW_MM * 0.6;
            let (band_top, band_bot) = (y0 + r as f32 * ROW_MM, y0 + (r + 1) as f32 * ROW_MM);
            if have_font {
                root.draw(&Text::new(
                    lead.name(),
                    (px(x_mm + 1.5), px(band_top + 1.5)),
                    label(3.5),
                ))
                .map_err(|e| draw_err(e.to_string()))?;
            }
            let Some(sig) = s.lead(lead) else { continue };
            let i_col = (t_col * fs).round() as usize;
            let n = (dur * fs).round() as usize;
            let has_in_col = (i_col..i_col + n).any(|i| sig.at(i).is_some());
            let i0 = if has_in_col { i_col } else { sig.start };
            let mut segment: Vec<(i32, i32)> = Vec::new();
            let mut segments = Vec::new();
            for k in 0..n {
                match sig.at(i0 + k) {
                    Some(v) => {
                        let x = x_mm + k as f32 / fs * cfg.mm_per_second;
                        let y = (baseline_mm - v * cfg.mm_per_mv).clamp(band_top, band_bot);
                        segment.push((px(x), px(y)));
                    }
                    None if !segment.is_empty() => segments.push(std::mem::take(&mut segment)),
                    None => {}
                }
            }
            segments.push(segment);
            for seg in segments.into_iter().filter(|s| s.len() > 1) {
                root.draw(&PathElement::new(seg, ink))
                    .map_err(|e| draw_err(e.to_string()))?;
            }
        }
        root.present().map_err(|e| draw_err(e.to_string()))?;
    }
    image::RgbImage::from_raw(w, h, buf)
        .ok_or_else(|| Error::new(ErrorClass::Output, "report buffer has the wrong size"))
}

impl Stage for WritePlotConfig {
    fn run(&self, inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
        let signals = inputs.signals("signals")?;
        if !ctx.options.wants("plot") {
            return Ok(StageOutputs::none());
        }
        let Some(path) = ctx.output_path(".plot.png") else {
            return Ok(StageOutputs::none());
        };
        let img = render(self, &ctx.stem, &signals)?;
        write_png(&path, &img)?;
        Ok(StageOutputs::none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine_page() -> Signals {
        let fs = 100.0;
        let mut s = Signals::empty(fs, 1000);
        for (r, row) in REPORT_ROWS.iter().enumerate() {
            for (c, &lead) in row.iter().enumerate() {
                let start = c * 250;
                let samples = (0..250)
                    .map(|i| {
                        ((i as f32) / fs * std::f32::consts::TAU).sin() * (r as f32 + 1.0) * 0.5
                    })
                    .collect();
                s.set(
                    lead,
                    LeadSignal {
                        start,
                        samples,
                        confidence: 1.0,
                    },
                );
            }
        }
        s
    }

    #[test]
    fn draws_ink_on_paper() {
        let cfg = WritePlotConfig::default();
        let img = render(&cfg, "test", &sine_page()).unwrap();
        assert_eq!(img.width(), (270.0 * 4.0) as u32);
        let dark = img.pixels().filter(|p| p.0.iter().all(|&c| c < 80)).count();
        let pink = img
            .pixels()
            .filter(|p| p.0[0] > 200 && p.0[1] < 225 && p.0[2] < 225)
            .count();
        assert!(dark > 2000, "ink pixels: {dark}");
        assert!(pink > 10000, "grid pixels: {pink}");
        // the empty rhythm row (lead II only in its 2.5 s column) still has
        // ink: lead II falls back to its own window
        let row4_top = ((14.0 + 3.0 * 35.0) * 4.0) as u32;
        let ink_row4 = (row4_top..img.height())
            .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0[1] < 80)
            .count();
        assert!(ink_row4 > 100);
    }

    #[test]
    fn empty_signals_still_give_a_page() {
        let img = render(
            &WritePlotConfig::default(),
            "x",
            &Signals::empty(500.0, 5000),
        )
        .unwrap();
        assert!(img.width() > 1000);
    }
}
