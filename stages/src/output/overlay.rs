//! `write_overlay`: writes a debug picture of what the digitizer saw.
//!
//! Inputs: `image` (the deskewed page), `layout`, `traces`, `signals`, and
//! optionally `original` (the image as loaded). Output: none; when the run
//! has an output folder and the `overlay` format is requested (`ecgdig
//! digitize --overlay`), writes `<stem>_overlay.png` atomically: the page
//! washed out, each panel's box (blue), its baseline (green), its lead name
//! and confidence, and the traced path (red) on top. When the signals were
//! judged (`lead_confidence`), the confidence shown is the calibrated one; a
//! lead under `doubt_below` gets a magenta box and label with a `?`, and the
//! page's verdict is written in its top-left corner.
//!
//! `frame` chooses the picture drawn on:
//! * `"auto"` (default): the original photo when the page was rectified
//!   (`dewarp`) and `original` is connected, else the page as the tracer saw
//!   it. A scan's overlay is the deskewed page, as before.
//! * `"original"`: always the input image (`original` must be connected);
//!   boxes, baselines and traces are mapped through the page's whole
//!   geometric history ([`PageImage::to_original`]: rotation, perspective,
//!   curl and grid lattice), so they bend with the sheet; labels stay upright.
//! * `"rectified"`: the page the leads were read on.
//!
//! ```
//! # let toml = r#"
//! [stages.overlay]
//! type = "write_overlay"
//! inputs = { image = "deskew", layout = "layout", traces = "trace", signals = "signals", original = "load" }
//! frame = "auto"
//! wash = 0.55
//! font_px = 22.0
//! doubt_below = 0.5
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use ecgdig_core::output::write_png;
use ecgdig_core::prelude::*;
use image::{Rgb, RgbImage};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WriteOverlayConfig {
    /// How much the page is faded towards white under the drawing (0..1).
    pub wash: f32,
    /// Height of the lead labels, pixels.
    pub font_px: f32,
    /// Judged leads under this confidence are marked as doubtful (magenta).
    pub doubt_below: f32,
    /// The picture drawn on.
    pub frame: OverlayFrame,
}

/// Which picture the overlay is drawn on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverlayFrame {
    /// The original photo when the page was rectified, else the page.
    #[default]
    Auto,
    /// The page the leads were read on.
    Rectified,
    /// The input image, with everything mapped back onto it.
    Original,
}

impl Default for WriteOverlayConfig {
    fn default() -> Self {
        Self {
            wash: 0.55,
            font_px: 22.0,
            doubt_below: 0.5,
            frame: OverlayFrame::Auto,
        }
    }
}

#[typetag::serde(name = "write_overlay")]
impl StageConfig for WriteOverlayConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![
            Port::new("image", ArtifactKind::Image),
            Port::new("layout", ArtifactKind::Layout),
            Port::new("traces", ArtifactKind::Traces),
            Port::optional("signals", ArtifactKind::Signals),
            Port::optional("original", ArtifactKind::Image),
        ]
    }
    fn outputs(&self) -> Vec<Port> {
        Vec::new()
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if !(0.0..=1.0).contains(&self.wash) {
            return Err(Error::stage("write_overlay: wash must be in 0..=1"));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    WriteOverlayConfig,
    "write_overlay",
    summary = "Writes <stem>_overlay.png (with --overlay): panels, baselines, lead names and traced paths over the page.",
    params = [
        (
            "wash",
            "how much the page is faded towards white under the drawing, 0..1"
        ),
        ("font_px", "height of the lead labels, pixels"),
        ("doubt_below", "judged leads under this confidence get a magenta box and label"),
        (
            "frame",
            "picture drawn on: \"auto\" (the original photo when the page was dewarped), \"original\" (the input, `original` port), \"rectified\""
        ),
    ],
    example = "[stages.overlay]\ntype = \"write_overlay\"\ninputs = { image = \"deskew\", layout = \"layout\", traces = \"trace\" }\n"
);

impl Stage for WriteOverlayConfig {
    fn run(&self, inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
        if !ctx.options.wants("overlay") {
            return Ok(StageOutputs::none());
        }
        let Some(path) = ctx.output_path("_overlay.png") else {
            return Ok(StageOutputs::none());
        };
        let page = inputs.image("image")?;
        let layout = inputs.layout("layout")?;
        let traces = inputs.traces("traces")?;
        let original = inputs.image_opt("original");
        let on_original = match self.frame {
            OverlayFrame::Rectified => None,
            OverlayFrame::Auto => original.filter(|_| page.warp.is_some()),
            OverlayFrame::Original => Some(original.ok_or_else(|| {
                Error::stage(
                    "write_overlay: frame = \"original\" needs the `original` input (the loaded image)",
                )
            })?),
        };
        let signals = inputs.signals_opt("signals");
        let img = match on_original {
            Some(base) => {
                self.draw_on_original(&base.rgb, &page, &layout, &traces, signals.as_deref())
            }
            None => self.draw(&page, &layout, &traces, signals.as_deref()),
        };
        write_png(&path, &img)?;
        Ok(StageOutputs::none())
    }
}

impl WriteOverlayConfig {
    /// Draws the overlay picture on the page.
    pub fn draw(
        &self,
        page: &PageImage,
        layout: &Layout,
        traces: &Traces,
        signals: Option<&Signals>,
    ) -> RgbImage {
        self.paint(&page.rgb, &Frame::Same, layout, traces, signals)
    }

    /// Draws the overlay picture on `original`, the input image `page` was
    /// made from: every point is mapped through [`PageImage::to_original`].
    pub fn draw_on_original(
        &self,
        original: &RgbImage,
        page: &PageImage,
        layout: &Layout,
        traces: &Traces,
        signals: Option<&Signals>,
    ) -> RgbImage {
        self.paint(original, &Frame::Through(page), layout, traces, signals)
    }

    fn paint(
        &self,
        base: &RgbImage,
        frame: &Frame,
        layout: &Layout,
        traces: &Traces,
        signals: Option<&Signals>,
    ) -> RgbImage {
        let mut img = base.clone();
        let k = self.wash;
        for p in img.pixels_mut() {
            for c in p.0.iter_mut() {
                *c = (*c as f32 * (1.0 - k) + 255.0 * k) as u8;
            }
        }
        let blue = Rgb([40, 80, 230]);
        let green = Rgb([0, 170, 60]);
        let red = Rgb([230, 20, 20]);
        let magenta = Rgb([210, 0, 170]);
        let judged = signals.and_then(|s| s.assessment.as_ref().map(|a| (s, a)));
        // the calibrated confidence when judged, else the tracer's own
        let confidence = |i: usize, p: &Panel| -> f32 {
            match judged {
                Some((s, _)) => s.lead(p.lead).map_or(0.0, |l| l.confidence),
                None => traces
                    .traces
                    .iter()
                    .find(|t| t.panel == i)
                    .map(|t| t.confidence)
                    .or_else(|| signals.and_then(|s| s.lead(p.lead)).map(|l| l.confidence))
                    .unwrap_or(0.0),
            }
        };
        let doubtful =
            |i: usize, p: &Panel| judged.is_some() && confidence(i, p) < self.doubt_below;
        for (i, p) in layout.panels.iter().enumerate() {
            if doubtful(i, p) {
                frame.rect(&mut img, &p.bbox, magenta);
                let inner = Rect {
                    x0: p.bbox.x0 + 1.0,
                    y0: p.bbox.y0 + 1.0,
                    x1: p.bbox.x1 - 1.0,
                    y1: p.bbox.y1 - 1.0,
                };
                frame.rect(&mut img, &inner, magenta);
            } else {
                frame.rect(&mut img, &p.bbox, blue);
            }
            frame.hline(&mut img, p.x_start, p.x_end, p.baseline_y, green);
        }
        for t in &traces.traces {
            for pair in t.points.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                if a[1].is_finite() && b[1].is_finite() {
                    line(&mut img, frame.at(a), frame.at(b), red);
                }
            }
        }
        if let Ok(font) = FontRef::try_from_slice(dejavu::sans::bold()) {
            for (i, p) in layout.panels.iter().enumerate() {
                let conf = confidence(i, p);
                let (label, colour) = if doubtful(i, p) {
                    (format!("{} {:.2} ?", p.lead.name(), conf), magenta)
                } else {
                    (format!("{} {:.2}", p.lead.name(), conf), blue)
                };
                let [x, y] = frame.at([p.x_start + 4.0, p.baseline_y + 4.0]);
                text(&mut img, &font, self.font_px, x, y, &label, colour);
            }
            if let Some((_, a)) = judged {
                let mut line = format!("verdict: {}", a.verdict);
                if let Some(r) = a.reasons.first() {
                    line.push_str(&format!(" ({r})"));
                }
                let colour = if a.verdict == Verdict::Ok {
                    blue
                } else {
                    magenta
                };
                text(&mut img, &font, self.font_px, 6.0, 4.0, &line, colour);
            }
        }
        img
    }
}

/// Where the drawing goes: the page itself, or the input image a page was
/// made from (points mapped through its geometric history).
enum Frame<'a> {
    Same,
    Through(&'a PageImage),
}

/// Longest piece of a straight page line drawn as one straight piece in
/// the original frame, page pixels.
const BEND_STEP_PX: f32 = 4.0;

impl Frame<'_> {
    fn at(&self, p: [f32; 2]) -> [f32; 2] {
        match self {
            Frame::Same => p,
            Frame::Through(page) => {
                let (x, y) = page.to_original(p[0] as f64, p[1] as f64);
                [x as f32, y as f32]
            }
        }
    }

    /// A straight line of the page, bent as the map bends it.
    fn segment(&self, img: &mut RgbImage, a: [f32; 2], b: [f32; 2], c: Rgb<u8>) {
        let len = (b[0] - a[0]).abs().max((b[1] - a[1]).abs());
        let n = ((len / BEND_STEP_PX).ceil() as usize).clamp(1, 10_000);
        let mut prev = self.at(a);
        for i in 1..=n {
            let f = i as f32 / n as f32;
            let next = self.at([a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])]);
            line(img, prev, next, c);
            prev = next;
        }
    }

    fn hline(&self, img: &mut RgbImage, x0: f32, x1: f32, y: f32, c: Rgb<u8>) {
        match self {
            Frame::Same => hline(img, x0, x1, y, c),
            Frame::Through(_) => self.segment(img, [x0, y], [x1, y], c),
        }
    }

    fn rect(&self, img: &mut RgbImage, r: &Rect, c: Rgb<u8>) {
        match self {
            Frame::Same => rect(img, r, c),
            Frame::Through(_) => {
                let corners = [[r.x0, r.y0], [r.x1, r.y0], [r.x1, r.y1], [r.x0, r.y1]];
                for k in 0..4 {
                    self.segment(img, corners[k], corners[(k + 1) % 4], c);
                }
            }
        }
    }
}

fn put(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, c);
    }
}

fn hline(img: &mut RgbImage, x0: f32, x1: f32, y: f32, c: Rgb<u8>) {
    for x in x0.round() as i64..=x1.round() as i64 {
        put(img, x, y.round() as i64, c);
    }
}

fn rect(img: &mut RgbImage, r: &Rect, c: Rgb<u8>) {
    hline(img, r.x0, r.x1, r.y0, c);
    hline(img, r.x0, r.x1, r.y1, c);
    for y in r.y0.round() as i64..=r.y1.round() as i64 {
        put(img, r.x0.round() as i64, y, c);
        put(img, r.x1.round() as i64, y, c);
    }
}

fn line(img: &mut RgbImage, a: [f32; 2], b: [f32; 2], c: Rgb<u8>) {
    let n = ((b[0] - a[0]).abs().max((b[1] - a[1]).abs()).ceil() as i64).clamp(1, 100_000);
    for i in 0..=n {
        let f = i as f32 / n as f32;
        let x = a[0] + f * (b[0] - a[0]);
        let y = a[1] + f * (b[1] - a[1]);
        put(img, x.round() as i64, y.round() as i64, c);
    }
}

fn text(img: &mut RgbImage, font: &FontRef, px: f32, x: f32, y: f32, s: &str, c: Rgb<u8>) {
    let scaled = font.as_scaled(PxScale::from(px));
    let mut caret = x;
    let base = y + scaled.ascent();
    for ch in s.chars() {
        let id = scaled.glyph_id(ch);
        let g = id.with_scale_and_position(PxScale::from(px), ab_glyph::point(caret, base));
        caret += scaled.h_advance(id);
        if let Some(o) = font.outline_glyph(g) {
            let bb = o.px_bounds();
            o.draw(|gx, gy, cov| {
                if cov > 0.4 {
                    put(
                        img,
                        bb.min.x as i64 + gx as i64,
                        bb.min.y as i64 + gy as i64,
                        c,
                    );
                }
            });
        }
    }
}

#[cfg(test)]
#[path = "overlay_tests.rs"]
mod tests;
