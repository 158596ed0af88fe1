//! `scale_text`: reads the paper speed and gain printed on the page
//! (`25mm/s`, `50 mm/s`, `10mm/mV`, `5 mm/mV`, ...).
//!
//! Inputs: `mask` (ink), `grid` (mm scale). Output: `grid` with
//! `mm_per_second` and `mm_per_mv` set from what is printed; unchanged where
//! nothing is read.
//!
//! Why: most printers write the speed and gain in a footer or header, and
//! a page printed at 50 mm/s shows half the time per millimetre: read as
//! 25 mm/s, every panel gets the wrong window and every beat twice its
//! length. The gain text matters where no calibration pulse is printed
//! (`calibration_pulse`, later, measures a printed pulse and overrides
//! it).
//!
//! How:
//! 1. **Glyphs**: the mask's connected components of glyph size
//!    ([`crate::layout::labels::words::components`], 0.9 to 7.5 mm) over
//!    the whole page, grouped left to right into phrases: the next glyph
//!    on the same line within [`PHRASE_GAP`] of the height (`25 mm/s` is
//!    one phrase). Only phrases of 5 to [`MAX_PHRASE`] glyphs with an
//!    `m`-like one (as wide as tall, lower than the tallest) are decoded.
//! 2. **Decoding**: each glyph is scored against templates of the digits,
//!    `m`, `s`, `V`, `M` and `/` rendered from eight bundled fonts
//!    ([`crate::layout::labels::glyphs`]). A phrase is matched against
//!    each known text ([`SPEEDS`], [`GAINS`]; a decimal point is too small
//!    to be a glyph and is not counted) anywhere along it, each character
//!    read from one to [`MAX_PIECES`] consecutive components (a glyph that
//!    the segmenter cut where grid lines crossed it comes in pieces): the
//!    best split by dynamic programming, scored as the mean of its
//!    characters' template scores less a penalty where a glyph's height
//!    does not suit its character (`m` and `s` are lower case). Every
//!    character must be read as itself or nearly ([`MAX_GLYPH_DEFICIT`]),
//!    so `75 ms` or `HR 94 bpm` never pass for a scale.
//! 3. **Decision**: the best read of each kind at or above `min_score`
//!    sets the speed or the gain; two different values read about as well
//!    ([`CONFLICT_MARGIN`]) leave the default.
//!
//! Cost: about 10 ms on a clean page, 25 ms on one with a header and
//! handwriting (`ecgdig digitize --profile`).
//!
//! Speeds of 25 and 50 mm/s and gains of 5, 10 and 20 mm/mV are known; a
//! page at another speed keeps 25 mm/s.
//!
//! ```
//! # let toml = r#"
//! [stages.scale]
//! type = "scale_text"
//! inputs = { mask = "segment", grid = "grid" }
//! min_score = 0.6
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use super::labels::glyphs::{best_scores, render_templates, CharTemplates, Glyph};
use super::labels::words::{self, Component};
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Paper speeds read, as printed (without spaces) and in mm/s.
pub const SPEEDS: [(&str, f32); 2] = [("25mm/s", 25.0), ("50mm/s", 50.0)];
/// Gains read, as printed and in mm/mV.
pub const GAINS: [(&str, f32); 3] = [("5mm/mV", 5.0), ("10mm/mV", 10.0), ("20mm/mV", 20.0)];
/// The characters scale texts are spelled with, and the digits they could
/// be mistaken for.
const CHARS: [char; 15] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'm', 's', 'V', 'M', '/',
];
/// A word joins the phrase to its left when the gap is under this
/// fraction of their height.
pub const PHRASE_GAP: f32 = 1.2;
/// A glyph may score at most this much below its best character.
pub const MAX_GLYPH_DEFICIT: f32 = 0.2;
/// Two reads of different values this close in score cancel out.
pub const CONFLICT_MARGIN: f32 = 0.05;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScaleTextConfig {
    /// Smallest mean glyph score (0..1) of a read.
    pub min_score: f32,
    /// Mask level counted as ink (0..255).
    pub ink_level: u8,
}

impl Default for ScaleTextConfig {
    fn default() -> Self {
        Self {
            min_score: 0.6,
            ink_level: 100,
        }
    }
}

#[typetag::serde(name = "scale_text")]
impl StageConfig for ScaleTextConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![
            Port::new("mask", ArtifactKind::Mask),
            Port::new("grid", ArtifactKind::Grid),
        ]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("grid", ArtifactKind::Grid)]
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if !(0.0..=1.0).contains(&self.min_score) {
            return Err(Error::stage("scale_text: min_score must be in 0..1"));
        }
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    ScaleTextConfig,
    "scale_text",
    summary = "Reads the printed paper speed and gain (25mm/s, 10mm/mV); sets them on the grid.",
    params = [
        ("min_score", "smallest mean glyph score (0..1) a read needs"),
        ("ink_level", "mask value (0..255) counted as ink"),
    ],
    example =
        "[stages.scale]\ntype = \"scale_text\"\ninputs = { mask = \"segment\", grid = \"grid\" }\n"
);

impl Stage for ScaleTextConfig {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let mask = inputs.mask("mask")?;
        let grid = inputs.grid("grid")?;
        Ok(StageOutputs::one(self.apply(&mask.mask, &grid)))
    }
}

/// One read of a printed scale.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleRead {
    pub text: &'static str,
    pub value: f32,
    pub score: f32,
    /// The phrase's box, pixels.
    pub bbox: Rect,
}

/// What a page says about its speed and gain.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PrintedScale {
    pub speed: Option<ScaleRead>,
    pub gain: Option<ScaleRead>,
}

impl ScaleTextConfig {
    /// The grid with the printed speed and gain, where read.
    pub fn apply(&self, mask: &image::GrayImage, grid: &GridInfo) -> GridInfo {
        let printed = self.read(mask, grid);
        let mut out = grid.clone();
        if let Some(s) = printed.speed {
            out.mm_per_second = s.value;
            out.speed_source = SpeedSource::Printed;
        }
        if let Some(g) = printed.gain {
            out.mm_per_mv = g.value;
        }
        out
    }

    /// Reads the page's printed speed and gain.
    pub fn read(&self, mask: &image::GrayImage, grid: &GridInfo) -> PrintedScale {
        let ppm = 0.5 * (grid.px_per_mm_x + grid.px_per_mm_y).max(1.0);
        let bounds = (0, 0, mask.width() as usize, mask.height() as usize);
        let comps = words::components(mask, bounds, self.ink_level, ppm);
        let mut speeds = Vec::new();
        let mut gains = Vec::new();
        for phrase in phrases(comps) {
            if !could_be_scale(&phrase) {
                continue;
            }
            let spans = Spans::score(&phrase);
            speeds.extend(decode(&phrase, &spans, &SPEEDS));
            gains.extend(decode(&phrase, &spans, &GAINS));
        }
        PrintedScale {
            speed: decide(speeds, self.min_score),
            gain: decide(gains, self.min_score),
        }
    }
}

/// Templates of [`CHARS`], rendered once.
fn templates() -> &'static [CharTemplates] {
    static T: OnceLock<Vec<CharTemplates>> = OnceLock::new();
    T.get_or_init(|| render_templates(&CHARS))
}

/// Components grouped into phrases, left to right: a component joins the
/// phrase on its line (overlapping it by half the height, of a compatible
/// height) whose end is within [`PHRASE_GAP`] of the height (`25 mm/s` is
/// one phrase). Phrases that ended well left of the next component are
/// closed, so a page of many glyphs costs little.
fn phrases(mut comps: Vec<Component>) -> Vec<Vec<Component>> {
    comps.sort_by_key(|c| (c.x0, c.y0));
    let mut done: Vec<Vec<Component>> = Vec::new();
    let mut open: Vec<Vec<Component>> = Vec::new();
    for c in comps {
        let (cy0, cy1) = (c.y0, c.y1);
        let ch = c.h() as f32;
        // close the phrases that can no longer grow
        let mut k = 0;
        while k < open.len() {
            let (py0, py1) = span_y(&open[k]);
            let h = (py1 - py0 + 1) as f32;
            let end = open[k].iter().map(|g| g.x1).max().unwrap_or(0) as f32;
            if (c.x0 as f32) - end > PHRASE_GAP * h.max(ch) + 1.0 {
                done.push(open.swap_remove(k));
            } else {
                k += 1;
            }
        }
        let joined = open.iter_mut().find(|ph| {
            let (py0, py1) = span_y(ph);
            let h = (py1 - py0 + 1) as f32;
            let overlap = (py1.min(cy1) as f32 - py0.max(cy0) as f32 + 1.0) / h.min(ch);
            let end = ph.iter().map(|g| g.x1).max().unwrap_or(0) as f32;
            let gap = c.x0 as f32 - end - 1.0;
            overlap > 0.5
                && (0.4..=2.5).contains(&(ch / h))
                && gap >= -0.3 * h
                && gap <= PHRASE_GAP * h.max(ch)
        });
        match joined {
            Some(ph) => ph.push(c),
            None => open.push(vec![c]),
        }
    }
    done.extend(open);
    done
}

fn span_y(cs: &[Component]) -> (usize, usize) {
    let y0 = cs.iter().map(|c| c.y0).min().unwrap_or(0);
    let y1 = cs.iter().map(|c| c.y1).max().unwrap_or(0);
    (y0, y1)
}

/// Whether a phrase is worth decoding: 5 to [`MAX_PHRASE`] components
/// (the shortest text has 5 glyphs, some may be cut in pieces), one of
/// them as wide as tall and lower than the tallest (an `m`).
fn could_be_scale(phrase: &[Component]) -> bool {
    if phrase.len() < 5 || phrase.len() > MAX_PHRASE {
        return false;
    }
    let tall = phrase.iter().map(|c| c.h()).max().unwrap_or(1) as f32;
    phrase
        .iter()
        .any(|c| 10 * c.w() >= 9 * c.h() && (c.h() as f32) <= 0.9 * tall)
}

/// Most components a phrase may have to be read.
const MAX_PHRASE: usize = 16;

/// Most components one glyph is read from (a glyph that removed grid
/// lines cut apart).
const MAX_PIECES: usize = 3;

/// Every run of up to [`MAX_PIECES`] consecutive components of a phrase,
/// merged into one glyph and scored against each character: `at[j][t-1]`
/// is the run of `t` components from `j` (`None` when it is wider than a
/// glyph can be), with its height.
struct Spans {
    at: Vec<[Option<RunScore>; MAX_PIECES]>,
}

/// A run's score per character of [`CHARS`], and its height in pixels.
type RunScore = ([f32; CHARS.len()], usize);

impl Spans {
    fn score(phrase: &[Component]) -> Spans {
        let tall = phrase.iter().map(|c| c.h()).max().unwrap_or(1);
        let at = (0..phrase.len())
            .map(|j| {
                let mut row = [None; MAX_PIECES];
                for (t, slot) in row.iter_mut().enumerate() {
                    let Some(run) = phrase.get(j..j + t + 1) else {
                        break;
                    };
                    let m = words::merge(&run.iter().collect::<Vec<_>>());
                    // `m` is the widest character, about 1.5 of a capital's height
                    if t > 0 && m.w() as f32 > 1.8 * tall as f32 {
                        break;
                    }
                    *slot = Some((char_scores(&m), m.h()));
                }
                row
            })
            .collect();
        Spans { at }
    }
}

/// A glyph's best score for each character of [`CHARS`].
fn char_scores(c: &Component) -> [f32; CHARS.len()] {
    match Glyph::from_ink(&c.ink, c.w(), c.h()) {
        Some(g) => best_scores(&g, templates()),
        None => [-1.0; CHARS.len()],
    }
}

/// Height of a character relative to the phrase's tallest glyph.
fn expected_height(ch: char) -> f32 {
    match ch {
        'm' | 's' => 0.73,
        _ => 1.0,
    }
}

/// A run's score for character `ch`: its template score less the height
/// penalty, or `None` when another character suits the run clearly better.
fn char_score(scores: &[f32; CHARS.len()], h: usize, tall: f32, ch: char) -> Option<f32> {
    let ci = CHARS.iter().position(|&c| c == ch)?;
    let best = scores.iter().copied().fold(f32::MIN, f32::max);
    if scores[ci] < best - MAX_GLYPH_DEFICIT {
        return None;
    }
    let rel = h as f32 / tall;
    // `/` reaches below the line in many fonts
    let slack = if ch == '/' { 0.3 } else { 0.12 };
    Some(scores[ci] - 1.5 * ((rel - expected_height(ch)).abs() - slack).max(0.0))
}

/// The phrase read as each of `known` (texts without their decimal
/// points), anywhere along it, each character from one to
/// [`MAX_PIECES`] consecutive components: the best split by dynamic
/// programming. Only reads whose every character is read as itself or
/// nearly.
fn decode(phrase: &[Component], spans: &Spans, known: &[(&'static str, f32)]) -> Vec<ScaleRead> {
    let n = phrase.len();
    let tall = phrase.iter().map(|c| c.h()).max().unwrap_or(1) as f32;
    let mut out = Vec::new();
    for &(text, value) in known {
        let chars: Vec<char> = text.chars().filter(|&c| c != '.').collect();
        let k = chars.len();
        // best[i][j]: best total for the first i characters ending before component j
        let mut best: Option<(f32, usize, usize)> = None;
        for start in 0..n {
            let mut dp = vec![vec![None::<f32>; n + 1]; k + 1];
            dp[0][start] = Some(0.0);
            for i in 0..k {
                for j in start..n {
                    let Some(acc) = dp[i][j] else { continue };
                    for t in 1..=MAX_PIECES {
                        let Some(Some((sc, h))) = spans.at[j].get(t - 1) else {
                            break;
                        };
                        let Some(s) = char_score(sc, *h, tall, chars[i]) else {
                            continue;
                        };
                        let slot = &mut dp[i + 1][j + t];
                        if slot.is_none_or(|v| acc + s > v) {
                            *slot = Some(acc + s);
                        }
                    }
                }
            }
            for (end, v) in dp[k].iter().enumerate() {
                if let Some(v) = *v {
                    if best.is_none_or(|b| v > b.0) {
                        best = Some((v, start, end));
                    }
                }
            }
        }
        let Some((total, start, end)) = best else {
            continue;
        };
        let run = &phrase[start..end];
        out.push(ScaleRead {
            text,
            value,
            score: total / k as f32,
            bbox: Rect {
                x0: run[0].x0 as f32,
                y0: span_y(run).0 as f32,
                x1: run[run.len() - 1].x1 as f32 + 1.0,
                y1: span_y(run).1 as f32 + 1.0,
            },
        });
    }
    out
}

/// The best read at or above `min_score`, unless a read of another value
/// comes within [`CONFLICT_MARGIN`] of it.
fn decide(mut reads: Vec<ScaleRead>, min_score: f32) -> Option<ScaleRead> {
    reads.retain(|r| r.score >= min_score);
    reads.sort_by(|a, b| b.score.total_cmp(&a.score));
    let best = reads.first()?.clone();
    let rival = reads
        .iter()
        .find(|r| r.value != best.value)
        .is_some_and(|r| r.score > best.score - CONFLICT_MARGIN);
    (!rival).then_some(best)
}

#[cfg(test)]
#[path = "scale_text_tests.rs"]
mod tests;
