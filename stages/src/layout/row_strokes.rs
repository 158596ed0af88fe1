//! Whether a row candidate's ink is drawn in strokes: a trace is a line
//! that runs on for millimetres, while what a grid leaves in the mask
//! after its removal (its crossings, the stubs of its lines, dots) is
//! specks, each a fraction of a millimetre wide. A row of such specks
//! still projects a peak and still "waves" (the specks of the lines above
//! and below it), and a page of them reads as twelve rows of nothing.

/// Ink with this many pixels between it still joins one stroke: a faint
/// trace's breaks, a thin grid line cleared across a steep stroke. (Two
/// would join the stubs a dark grid leaves at 5 to 6 px per mm.)
pub(super) const BRIDGE_PX: usize = 1;
/// A stroke spans at least this much across or up the page, mm (a
/// separator bar or a first upstroke is one too).
pub(super) const STROKE_MIN_MM: f32 = 1.5;
/// A row's ink must lie in strokes over at least this share of its inked
/// columns.
pub(super) const MIN_STROKE_SHARE: f32 = 0.3;

/// The inked columns of a window of a mask, and those inked by strokes.
pub(super) struct StrokeColumns {
    /// First column of the window.
    pub x0: usize,
    /// Per column of the window: holds ink.
    pub inked: Vec<bool>,
    /// Per column of the window: holds a pixel of a stroke.
    pub in_stroke: Vec<bool>,
}

impl StrokeColumns {
    /// Share of the inked columns that hold a stroke's pixel (0 without ink).
    pub fn share(&self) -> f32 {
        let n = self.inked.iter().filter(|&&v| v).count();
        if n == 0 {
            return 0.0;
        }
        self.in_stroke.iter().filter(|&&v| v).count() as f32 / n as f32
    }

    /// The first column (of the mask) holding a stroke's pixel.
    pub fn first_stroke(&self) -> Option<usize> {
        self.in_stroke.iter().position(|&v| v).map(|x| x + self.x0)
    }
}

/// The columns of rows `y0..=y1`, columns `x0..=x1` of the mask `m` (`w`
/// wide, ink at `lvl` or more) that hold ink, and those that hold a pixel
/// of a connected component of that window (a stroke) spanning at least
/// `min_width` columns or rows; pixels with up to `bridge` pixels between them
/// are connected.
pub(super) fn stroke_columns(
    m: &[u8],
    w: usize,
    lvl: u8,
    (y0, y1): (usize, usize),
    (x0, x1): (usize, usize),
    (min_width, bridge): (usize, usize),
) -> StrokeColumns {
    if x1 < x0 || y1 < y0 || x1 >= w || (y1 + 1) * w > m.len() {
        return StrokeColumns {
            x0,
            inked: Vec::new(),
            in_stroke: Vec::new(),
        };
    }
    let (ww, wh) = (x1 - x0 + 1, y1 - y0 + 1);
    let ink = |x: usize, y: usize| m[(y0 + y) * w + x0 + x] >= lvl;
    let mut label = vec![u32::MAX; ww * wh];
    let mut inked = vec![false; ww];
    let mut in_stroke = vec![false; ww];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut members: Vec<(usize, usize)> = Vec::new();
    let mut next = 0u32;
    for y in 0..wh {
        for x in 0..ww {
            if label[y * ww + x] != u32::MAX || !ink(x, y) {
                continue;
            }
            label[y * ww + x] = next;
            stack.push((x, y));
            members.clear();
            let (mut lo, mut hi) = (x, x);
            let (mut top, mut bottom) = (y, y);
            while let Some((cx, cy)) = stack.pop() {
                members.push((cx, cy));
                lo = lo.min(cx);
                hi = hi.max(cx);
                top = top.min(cy);
                bottom = bottom.max(cy);
                for ny in cy.saturating_sub(bridge + 1)..=(cy + bridge + 1).min(wh - 1) {
                    for nx in cx.saturating_sub(bridge + 1)..=(cx + bridge + 1).min(ww - 1) {
                        let k = ny * ww + nx;
                        if label[k] == u32::MAX && ink(nx, ny) {
                            label[k] = next;
                            stack.push((nx, ny));
                        }
                    }
                }
            }
            let long = (hi - lo + 1).max(bottom - top + 1) >= min_width.max(1);
            for &(cx, _) in &members {
                inked[cx] = true;
                in_stroke[cx] |= long;
            }
            next += 1;
        }
    }
    StrokeColumns {
        x0,
        inked,
        in_stroke,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_is_strokes_and_a_grids_remnants_are_specks() {
        let (w, h) = (200usize, 30usize);
        // a wavy trace, one pixel thick, through the window
        let mut trace = vec![0u8; w * h];
        for x in 0..w {
            let y = 15.0 + 6.0 * (x as f32 * 0.2).sin();
            trace[y.round() as usize * w + x] = 255;
        }
        let cols = stroke_columns(&trace, w, 128, (0, h - 1), (0, w - 1), (6, 1));
        assert!(cols.share() > 0.95);
        assert_eq!(cols.first_stroke(), Some(0));
        // crossings of a 1 mm grid (4 px): 2 px stubs on every line and
        // dots where the lines cross, none joined to another
        let mut specks = vec![0u8; w * h];
        for y in (2..h).step_by(4) {
            for x in (0..w - 1).step_by(4) {
                specks[y * w + x] = 255;
                specks[y * w + x + 1] = 255;
            }
        }
        let cols = stroke_columns(&specks, w, 128, (0, h - 1), (0, w - 1), (6, 1));
        assert_eq!(cols.share(), 0.0);
        assert_eq!(cols.first_stroke(), None);
        let empty = stroke_columns(&vec![0u8; w * h], w, 128, (0, h - 1), (0, w - 1), (6, 1));
        assert_eq!(empty.share(), 0.0);
    }

    #[test]
    fn a_trace_cut_by_a_cleared_grid_line_is_one_stroke() {
        // a steep stroke (3 px a column) with a cleared row every 4 px: its
        // pieces, each 1 or 2 columns wide, are one stroke
        let (w, h) = (40usize, 80usize);
        let mut m = vec![0u8; w * h];
        for x in 5..25 {
            for y in 3 * x - 10..3 * x - 7 {
                if y % 4 != 0 {
                    m[y * w + x] = 255;
                }
            }
        }
        let cols = stroke_columns(&m, w, 128, (0, h - 1), (0, w - 1), (6, 1));
        assert!(cols.share() > 0.95, "{}", cols.share());
        assert_eq!(cols.first_stroke(), Some(5));
    }

    #[test]
    fn a_tall_thin_line_is_a_stroke() {
        // a vertical bar 1 px wide and 20 px tall (a separator, a row's
        // first upstroke): a stroke, unlike a grid's stubs
        let (w, h) = (30usize, 30usize);
        let mut m = vec![0u8; w * h];
        for y in 5..25 {
            m[y * w + 10] = 255;
        }
        let cols = stroke_columns(&m, w, 128, (0, h - 1), (0, w - 1), (6, 1));
        assert_eq!(cols.first_stroke(), Some(10));
    }
}
