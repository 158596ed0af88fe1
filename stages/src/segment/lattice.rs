//! Removal of a grid printed as dark as the trace from an ink mask.
//!
//! When the grid's colour is as dark as the trace (black, grey, navy), the
//! segmenter's colour and contrast tests keep it, and the mask holds a
//! lattice. Layout then finds rows in empty areas and tracing follows grid
//! lines. The grid is told apart by its geometry: it is straight, it
//! crosses the whole page (margins and the gaps between trace rows
//! included) and it repeats at the grid period, while a trace is confined
//! to its own row and interrupted by waves every beat.
//!
//! * Vertical lines: a mask column inked in most height bands of the page
//!   is a grid line (no trace covers that much of a column).
//! * Horizontal lines: a flat trace along its baseline covers most of a row
//!   too, so a mask row is a grid line only when it is one of a chain of
//!   such rows at consecutive grid periods that spans many periods (a trace
//!   row is alone), and only on a page that shows a vertical lattice too.
//!
//! Line pixels are cleared except where a stroke crosses the line (ink on
//! both sides) or where the mask is much stronger than the line's own
//! strength (a stroke drawn over it).

/// Mask level counted as ink where a stroke crosses a grid line.
const LATTICE_INK: u8 = 64;
/// Mask level counted towards a line's coverage: a dark grid's lines are
/// often faint in the mask (below the trace's strength) yet still
/// continuous, and a faint lattice still makes rows out of its lines.
const LATTICE_COVER: [u8; 3] = [32, 64, 128];
/// At most this share of the columns (rows) may be grid lines: more is a
/// texture (a coarse page's blurred lattice), where a higher level is tried.
const LATTICE_MAX_SHARE: f32 = 0.4;
/// Ink this much stronger than a line's median strength is drawn over it.
const LATTICE_OVERDRAWN: u8 = 64;
/// A grid line is at most this wide (mm; two pixels at least).
const LATTICE_MAX_WIDTH_MM: f32 = 0.4;
/// Per band of one column (row), its pixels at each `LATTICE_COVER` level.
type BandCounts = [[u32; 3]; BANDS];
/// On a dark lattice, ink drawn over a line counts only in stretches at
/// least this long (mm): longer than the line's strong stretches between
/// crossings with the minor lines.
const LATTICE_OVERDRAWN_MM: f32 = 1.5;
/// Bands per page axis: a grid line crosses the whole page, a column of
/// pulses or a row's flat trace only part of it.
const BANDS: usize = 8;
/// A horizontal line belongs to a chain of lines at consecutive grid
/// periods spanning at least this many mm (a trace row never chains: the
/// next row is 15 mm or more away and nothing lies between).
const LATTICE_CHAIN_MM: f32 = 15.0;
/// Horizontal lines are removed only on a page whose vertical lines form a
/// lattice too: at least this share of the expected major (5 mm) lines
/// across the width found as vertical lines.
const LATTICE_GATE_SHARE: f32 = 0.5;

/// Removes grid lines left in the mask `m` (`w` x `h`, `pp` the scale in px
/// per mm along x and y): vertical lines always, horizontal ones when
/// `rows` is set and the page shows a dark lattice (see the module doc).
/// `min_cov` is the share of a band's length a line must ink.
pub fn remove_lattice(
    m: &mut [u8],
    w: usize,
    h: usize,
    (ppx, ppy): (f32, f32),
    min_cov: f32,
    rows: bool,
) {
    if w < 8 || h < 8 || m.len() < w * h {
        return;
    }
    let (ppx, ppy) = (ppx.max(0.5), ppy.max(0.5));
    let (col, row) = band_coverage(m, w, h);
    let vlines = line_candidates(&col, h, ppx, min_cov);
    let lattice = vertical_lattice(&vlines, ppx);
    let hlines = if rows && lattice {
        let hcand = line_candidates(&row, w, ppy, min_cov);
        chained(&hcand, ppy)
    } else {
        vec![false; h]
    };
    if !vlines.contains(&true) && !hlines.contains(&true) {
        return;
    }
    let src = m.to_vec();
    // on a dark lattice a vertical line is often patchy in the mask (the
    // local background darkens near each crossing), so its median strength
    // is low and its own strong stretches between crossings look drawn
    // over it; only a long stretch is (a pulse edge, a stroke along it)
    let over_y = if lattice {
        (LATTICE_OVERDRAWN_MM * ppy).round().max(1.0) as usize
    } else {
        1
    };
    clear_vertical(m, &src, (w, h), &vlines, &hlines, over_y);
    clear_horizontal(m, &src, (w, h), &vlines, &hlines, (ppx, ppy));
}

/// Per column and per row, how many pixels reach each `LATTICE_COVER`
/// level, counted separately in each of `BANDS` bands along the line.
#[allow(clippy::type_complexity)]
fn band_coverage(m: &[u8], w: usize, h: usize) -> (Vec<[[u32; 3]; BANDS]>, Vec<[[u32; 3]; BANDS]>) {
    let mut col = vec![[[0u32; 3]; BANDS]; w];
    let mut row = vec![[[0u32; 3]; BANDS]; h];
    for y in 0..h {
        let by = y * BANDS / h;
        for (x, &v) in m[y * w..(y + 1) * w].iter().enumerate() {
            let bx = x * BANDS / w;
            for (k, &l) in LATTICE_COVER.iter().enumerate() {
                if v >= l {
                    col[x][by][k] += 1;
                    row[y][bx][k] += 1;
                }
            }
        }
    }
    (col, row)
}

/// Lines along one axis: at least `min_cov` inked in three quarters of the
/// bands, no wider than a grid line, at the lowest coverage level at which
/// lines stay sparse (a lattice, not a texture).
fn line_candidates(counts: &[BandCounts], len: usize, pp: f32, min_cov: f32) -> Vec<bool> {
    let max_width = (LATTICE_MAX_WIDTH_MM * pp).ceil().max(2.0) as usize;
    for k in 0..3 {
        let mut on: Vec<bool> = counts
            .iter()
            .map(|c| {
                c.iter()
                    .filter(|band| band[k] as f32 * BANDS as f32 >= min_cov * len as f32)
                    .count()
                    * 4
                    >= BANDS * 3
            })
            .collect();
        if on.iter().filter(|&&o| o).count() as f32 > LATTICE_MAX_SHARE * on.len() as f32 {
            continue;
        }
        // a run wider than a grid line is not one
        for (a, b) in runs(&on) {
            if b - a > max_width {
                on[a..b].iter_mut().for_each(|o| *o = false);
            }
        }
        return on;
    }
    vec![false; counts.len()]
}

/// The runs of set entries, as half-open ranges.
fn runs(on: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < on.len() {
        if !on[i] {
            i += 1;
            continue;
        }
        let a = i;
        while i < on.len() && on[i] {
            i += 1;
        }
        out.push((a, i));
    }
    out
}

/// Whether the vertical lines found make a lattice across the page: at
/// least `LATTICE_GATE_SHARE` of the major lines the width holds.
fn vertical_lattice(vlines: &[bool], ppx: f32) -> bool {
    let majors = vlines.len() as f32 / (5.0 * ppx);
    majors >= 2.0 && runs(vlines).len() as f32 >= LATTICE_GATE_SHARE * majors
}

/// The candidate lines that belong to a chain of lines at consecutive
/// minor (1 mm) or major (5 mm) periods spanning `LATTICE_CHAIN_MM`; one
/// missing line within a chain is bridged.
fn chained(cand: &[bool], pp: f32) -> Vec<bool> {
    let lines = runs(cand);
    let centres: Vec<f32> = lines
        .iter()
        .map(|&(a, b)| 0.5 * (a + b - 1) as f32)
        .collect();
    let mut out = vec![false; cand.len()];
    let mut member = vec![false; lines.len()];
    for mm in [1.0f32, 5.0] {
        let p = mm * pp;
        if p < 3.0 {
            continue;
        }
        // (at most a fifth of a mm either way: at the major period, any
        // position within half a mm lies on some minor line)
        let tol = (0.2 * pp).max(1.0);
        // nearest line centre to `at` within the tolerance
        let find = |at: f32| -> Option<usize> {
            let i = centres.partition_point(|&c| c < at - tol);
            (i < centres.len() && (centres[i] - at).abs() <= tol).then_some(i)
        };
        for i in 0..lines.len() {
            let mut span = 0.0f32;
            for dir in [-1.0f32, 1.0] {
                let mut c = centres[i];
                let mut missed = 0;
                loop {
                    match find(c + dir * p * (1 + missed) as f32) {
                        Some(j) => {
                            span += (centres[j] - c).abs();
                            c = centres[j];
                            missed = 0;
                        }
                        None if missed == 0 => missed = 1,
                        None => break,
                    }
                }
            }
            if span >= LATTICE_CHAIN_MM * pp {
                member[i] = true;
            }
        }
    }
    for (&(a, b), _) in lines.iter().zip(&member).filter(|(_, &m)| m) {
        out[a..b].iter_mut().for_each(|o| *o = true);
    }
    out
}

/// The mask level above which ink on a line is drawn over it rather than
/// the line itself: `LATTICE_OVERDRAWN` above the line's median strength.
fn overdrawn_level(strength: impl Iterator<Item = u8>) -> u8 {
    let mut s: Vec<u8> = strength.collect();
    if s.is_empty() {
        return 255;
    }
    let mid = s.len() / 2;
    s.select_nth_unstable(mid);
    s[mid].saturating_add(LATTICE_OVERDRAWN)
}

/// The columns where a flat trace lies along the horizontal line `(ya, ye)`
/// (rows): on a lattice as dark as the trace, a trace lying on a line is as
/// strong as the line, so strength cannot tell them apart, but the line is
/// then thicker than the lattice's lines: the columns whose ink in the
/// line's rows is thicker than nine lines in ten of the page, over stretches
/// of `LATTICE_OVERDRAWN_MM` at least. None where the line is no thicker.
fn overdrawn_thickness(
    src: &[u8],
    w: usize,
    lines: &[(usize, usize)],
    (ya, ye): (usize, usize),
    ppx: f32,
) -> Vec<bool> {
    // the lattice's thick lines (a line's height in pixels depends on where
    // it falls between pixel rows), less the few a trace lies on
    let mut heights: Vec<usize> = lines
        .iter()
        .filter(|&&l| l != (ya, ye))
        .map(|&(a, e)| e - a)
        .collect();
    if heights.len() < 4 {
        return vec![false; w];
    }
    let k = heights.len() * 9 / 10;
    let t = *heights.select_nth_unstable(k).1;
    if ye - ya <= t {
        return vec![false; w];
    }
    let count = |x: usize| (ya..ye).filter(|&y| src[y * w + x] >= LATTICE_INK).count();
    let thicker = (0..w).map(|x| count(x) > t).collect();
    drop_short(
        thicker,
        (LATTICE_OVERDRAWN_MM * ppx).round().max(1.0) as usize,
    )
}

/// `over` with its runs shorter than `min_len` unset.
fn drop_short(mut over: Vec<bool>, min_len: usize) -> Vec<bool> {
    for (a, b) in runs(&over) {
        if b - a < min_len {
            over[a..b].iter_mut().for_each(|o| *o = false);
        }
    }
    over
}

/// Clears vertical line pixels, except where a stroke crosses the line or
/// the mask is far stronger than the line itself. Rows on horizontal lines
/// are left to [`clear_horizontal`].
fn clear_vertical(
    m: &mut [u8],
    src: &[u8],
    (w, h): (usize, usize),
    vlines: &[bool],
    hlines: &[bool],
    min_over: usize,
) {
    let ink = |x: usize, y: usize| src[y * w + x] >= LATTICE_INK;
    for (xa, xe) in runs(vlines) {
        let xb = xe - 1;
        // the line's own strength in the mask: ink well above it on the
        // line is something drawn over the line (a pulse's edge standing on
        // a grid line, a stroke along it), not the line
        let keep_above = overdrawn_level((0..h).map(|y| {
            src[y * w + xa..=y * w + xb]
                .iter()
                .copied()
                .max()
                .unwrap_or(0)
        }));
        let over = drop_short(
            (0..h)
                .map(|y| src[y * w + xa..=y * w + xb].iter().any(|&v| v > keep_above))
                .collect(),
            min_over,
        );
        for y in 0..h {
            if hlines[y] || over[y] {
                continue;
            }
            let side = |xs: Option<usize>| -> bool {
                xs.is_some_and(|xs| {
                    (y.saturating_sub(1)..=(y + 1).min(h - 1)).any(|yy| ink(xs, yy) && !hlines[yy])
                })
            };
            let left = side(xa.checked_sub(1));
            let right = side((xb + 1 < w).then_some(xb + 1));
            if !(left && right) {
                for xx in xa..=xb {
                    m[y * w + xx] = 0;
                }
            }
        }
    }
}

/// Clears horizontal line pixels (their crossings with vertical lines
/// always), except where a stroke crosses the line, the mask is far
/// stronger than the line itself, or the ink is thicker than the line (a
/// flat trace lying on it, [`overdrawn_thickness`]).
fn clear_horizontal(
    m: &mut [u8],
    src: &[u8],
    (w, h): (usize, usize),
    vlines: &[bool],
    hlines: &[bool],
    pp: (f32, f32),
) {
    let ink = |x: usize, y: usize| src[y * w + x] >= LATTICE_INK;
    let lines = runs(hlines);
    for &(ya, ye) in &lines {
        let yb = ye - 1;
        let keep_above =
            overdrawn_level((0..w).map(|x| (ya..=yb).map(|y| src[y * w + x]).max().unwrap_or(0)));
        let thick = overdrawn_thickness(src, w, &lines, (ya, ye), pp.0);
        for x in 0..w {
            if vlines[x] {
                for yy in ya..=yb {
                    m[yy * w + x] = 0;
                }
                continue;
            }
            if thick[x] || (ya..=yb).any(|y| src[y * w + x] > keep_above) {
                continue;
            }
            let side = |ys: Option<usize>| -> bool {
                ys.is_some_and(|ys| {
                    (x.saturating_sub(1)..=(x + 1).min(w - 1)).any(|xx| ink(xx, ys) && !vlines[xx])
                })
            };
            let above = side(ya.checked_sub(1));
            let below = side((yb + 1 < h).then_some(yb + 1));
            if !(above && below) {
                for yy in ya..=yb {
                    m[yy * w + x] = 0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: usize = 240;
    const H: usize = 200;
    /// 4 px per mm, the scale of a 100 dpi scan.
    const PP: (f32, f32) = (4.0, 4.0);

    /// A mask with a 1 mm lattice: one-pixel lines at x % 4 == 2 when
    /// `vertical`, at y % 4 == 0 when `horizontal`.
    fn lattice(vertical: bool, horizontal: bool) -> Vec<u8> {
        let mut m = vec![0u8; W * H];
        for y in 0..H {
            for x in 0..W {
                if (vertical && x % 4 == 2) || (horizontal && y % 4 == 0) {
                    m[y * W + x] = 255;
                }
            }
        }
        m
    }

    fn at(m: &[u8], x: usize, y: usize) -> u8 {
        m[y * W + x]
    }

    #[test]
    fn horizontal_lattice_lines_go_while_a_flat_trace_beside_one_stays() {
        // a flat trace at y = 102 (between the lines at 100 and 104) with
        // a QRS at x = 121 rising from it
        let mut m = lattice(true, true);
        for x in 10..230 {
            m[102 * W + x] = 255;
        }
        for y in 80..102 {
            m[y * W + 121] = 255;
        }
        let mut off = m.clone();
        remove_lattice(&mut off, W, H, PP, 0.4, false);
        assert_eq!(at(&off, 49, 40), 255, "rows off: the line stays");
        remove_lattice(&mut m, W, H, PP, 0.4, true);
        assert_eq!(at(&m, 49, 40), 0, "horizontal line");
        assert_eq!(at(&m, 50, 30), 0, "vertical line");
        assert_eq!(at(&m, 49, 102), 255, "flat trace");
        assert_eq!(at(&m, 121, 90), 255, "QRS");
    }

    #[test]
    fn full_width_trace_rows_do_not_chain_into_a_lattice() {
        // a vertical lattice and three flat traces across the whole width,
        // 15 mm apart: each covers its row like a grid line, but no line
        // lies a grid period from any of them
        let mut m = lattice(true, false);
        for y in [41, 101, 161] {
            for x in 0..W {
                m[y * W + x] = 255;
            }
        }
        remove_lattice(&mut m, W, H, PP, 0.4, true);
        for y in [41, 101, 161] {
            assert_eq!(at(&m, 49, y), 255, "trace row {y}");
        }
        assert_eq!(at(&m, 50, 30), 0, "vertical line");
    }

    #[test]
    fn a_flat_trace_lying_on_a_lattice_line_stays() {
        // a one-pixel lattice as dark as the trace, with a two-pixel flat
        // trace lying on the line at y = 100 (rows 100 and 101) from x = 10
        let mut m = lattice(true, true);
        for x in 10..230 {
            m[100 * W + x] = 255;
            m[101 * W + x] = 255;
        }
        remove_lattice(&mut m, W, H, PP, 0.4, true);
        assert_eq!(at(&m, 49, 40), 0, "horizontal line");
        assert_eq!(at(&m, 49, 101), 255, "flat trace on a line");
        assert_eq!(at(&m, 5, 100), 0, "the line beside the trace");
    }

    #[test]
    fn horizontal_lines_stay_without_a_vertical_lattice() {
        // ruled rows alone are not a grid printed as dark as the trace
        let mut m = lattice(false, true);
        remove_lattice(&mut m, W, H, PP, 0.4, true);
        assert_eq!(at(&m, 49, 40), 255);
    }

    #[test]
    fn a_patchy_vertical_line_goes_but_a_pulse_edge_on_it_stays() {
        // on a dark lattice the line at x = 50 is faint (60) in the mask
        // except for short strong stretches (y % 16 == 2) between crossings;
        // a 10 mm pulse edge stands on it at y 60..100
        let mut m = lattice(true, true);
        for y in 0..H {
            if y % 4 != 0 {
                m[y * W + 50] = if y % 16 == 2 { 255 } else { 60 };
            }
        }
        for y in 60..100 {
            m[y * W + 50] = 255;
        }
        remove_lattice(&mut m, W, H, PP, 0.4, true);
        assert_eq!(at(&m, 50, 146), 0, "short strong stretch of the line");
        assert_eq!(at(&m, 50, 147), 0, "faint stretch of the line");
        assert_eq!(at(&m, 50, 81), 255, "pulse edge");
    }
}
