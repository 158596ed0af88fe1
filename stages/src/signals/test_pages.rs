//! Test helpers shared by the signal stages' tests: a panel of a synthetic
//! page, its box 70 px above and below its baseline.

use ecgdig_core::prelude::*;

/// A panel of `lead` at `row`, `col`, its baseline at `base`, drawn over
/// pixels `xs..xe` and showing seconds `t0..t1`.
pub(crate) fn panel(
    lead: Lead,
    (row, col): (usize, usize),
    base: f32,
    (xs, xe): (f32, f32),
    (t0, t1): (f32, f32),
    rhythm: bool,
) -> Panel {
    Panel {
        lead,
        row,
        col,
        bbox: Rect {
            x0: xs,
            y0: base - 70.0,
            x1: xe,
            y1: base + 70.0,
        },
        baseline_y: base,
        x_start: xs,
        x_end: xe,
        t_start: t0,
        t_end: t1,
        rhythm,
        label_score: None,
        inverted: false,
    }
}

/// The tracing of panel `panel` (of `lead`): one point per pixel column of
/// `xs..=xe`, at height `y(x)`.
pub(crate) fn traced(
    panel: usize,
    lead: Lead,
    (xs, xe): (f32, f32),
    y: impl Fn(i32) -> f32,
) -> Trace {
    Trace {
        panel,
        lead,
        points: (xs as i32..=xe as i32).map(|x| [x as f32, y(x)]).collect(),
        confidence: 1.0,
    }
}
