//! Removal of a dotted grid printed as dark as the trace from an ink mask.
//!
//! Some printers draw the grid as dots (at every millimetre, or only at the
//! 5 mm crossings). When the dots are as dark as the trace, the mask keeps
//! them: tens of thousands of specks that make rows out of dot lines and
//! pull the tracer off the trace. [`super::lattice`] does not see them: a
//! dot column covers a small share of the page's height.
//!
//! A dot is told apart by its size and its neighbours: a speck at most
//! [`DOT_MAX_MM`] across with specks one grid period (1 or 5 mm, within
//! [`PITCH_TOLERANCE`]) away and level with it (within
//! [`LEVEL_TOLERANCE_MM`]), in at least two of the four directions. A
//! trace's loose specks (noise, a broken faint stroke) have no such
//! neighbours. The fragments of a dashed or broken grid line do, but lie
//! closer than [`ISOLATION_MM`] to other ink: a page whose lattice specks
//! are not [`MIN_ISOLATED_SHARE`] alone keeps them. Dots are cleared only on a page that shows at least
//! [`MIN_DOTS`] of them, filling [`MIN_NODE_SHARE`] of the lattice's nodes
//! over the page (a dotted grid, not the breaks of a faint line grid on a
//! black-and-white scan), and a dot a stroke passes through is part of the
//! stroke's component and stays.

/// A dot stands alone: no other ink within this of it, mm (the breaks of
/// a dashed or faint grid line leave fragments closer together)...
pub const ISOLATION_MM: f32 = 0.3;
/// ... and a dotted grid's dots nearly all do.
pub const MIN_ISOLATED_SHARE: f32 = 0.8;
/// Largest dot, mm across.
pub const DOT_MAX_MM: f32 = 0.6;
/// A neighbour one period away stands within this share of the period of
/// where the lattice puts it along the line of dots...
pub const PITCH_TOLERANCE: f32 = 0.1;
/// ... and within this (mm, 1.5 px at least) across it: the dots of a row
/// are level.
pub const LEVEL_TOLERANCE_MM: f32 = 0.1;
/// Fewest lattice dots that make a dotted grid...
pub const MIN_DOTS: usize = 200;
/// ... and the share of the lattice's nodes over the page they must fill.
pub const MIN_NODE_SHARE: f32 = 0.25;

/// A small component of the mask: its centre and its pixels.
struct Speck {
    cx: f32,
    cy: f32,
    pixels: Vec<usize>,
}

/// Clears a dotted grid from the mask `m` (`w` x `h`, `pp` the scale in px
/// per mm along x and y; pixels at `level` or more are ink). Returns the
/// number of dots cleared.
pub fn remove_dots(m: &mut [u8], w: usize, h: usize, (ppx, ppy): (f32, f32), level: u8) -> usize {
    if w < 8 || h < 8 || m.len() < w * h {
        return 0;
    }
    let max_w = (DOT_MAX_MM * ppx).max(2.0) as usize;
    let max_h = (DOT_MAX_MM * ppy).max(2.0) as usize;
    let ring = ((ISOLATION_MM * ppx.min(ppy)).round() as usize).max(1);
    let specks = small_components(m, w, h, level, (max_w, max_h));
    if specks.len() < MIN_DOTS {
        return 0;
    }
    let on_lattice: Vec<bool> = [1.0f32, 5.0]
        .iter()
        .map(|&mm| {
            let level = (LEVEL_TOLERANCE_MM * ppx, LEVEL_TOLERANCE_MM * ppy);
            (
                mm,
                lattice_members(&specks, (mm * ppx, mm * ppy), level, w, h),
            )
        })
        .filter(|(mm, members)| {
            let (px, py) = (mm * ppx, mm * ppy);
            let nodes = (w as f32 / px) * (h as f32 / py);
            // (nodes, not dots: a line of 1 mm specks has neighbours 5 mm
            // away too, but fills one row of the 5 mm lattice)
            let filled: std::collections::HashSet<(u32, u32)> = specks
                .iter()
                .zip(members)
                .filter(|(_, &d)| d)
                .map(|(s, _)| ((s.cx / px).round() as u32, (s.cy / py).round() as u32))
                .collect();
            filled.len() as f32 >= MIN_NODE_SHARE * nodes
        })
        .fold(vec![false; specks.len()], |acc, (_, m)| {
            acc.iter().zip(&m).map(|(a, b)| *a || *b).collect()
        });
    let n = on_lattice.iter().filter(|&&d| d).count();
    if n < MIN_DOTS {
        return 0;
    }
    // printed dots stand alone; a broken line's fragments mostly do not
    let alone = specks
        .iter()
        .zip(&on_lattice)
        .filter(|(s, &d)| d && isolated(m, w, h, level, s, ring))
        .count();
    if (alone as f32) < MIN_ISOLATED_SHARE * n as f32 {
        return 0;
    }
    for (s, _) in specks.iter().zip(&on_lattice).filter(|(_, &d)| d) {
        for &i in &s.pixels {
            m[i] = 0;
        }
    }
    n
}

/// Whether the speck `s` has no other ink within `ring` pixels of its box.
fn isolated(m: &[u8], w: usize, h: usize, level: u8, s: &Speck, ring: usize) -> bool {
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for &i in &s.pixels {
        let (x, y) = (i % w, i / w);
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    let (xa, xb) = (x0.saturating_sub(ring), (x1 + ring).min(w - 1));
    let (ya, yb) = (y0.saturating_sub(ring), (y1 + ring).min(h - 1));
    let ink = (ya..=yb)
        .map(|y| (xa..=xb).filter(|&x| m[y * w + x] >= level).count())
        .sum::<usize>();
    ink <= s.pixels.len()
}

/// 8-connected components of ink no larger than `max` (w, h) pixels.
fn small_components(m: &[u8], w: usize, h: usize, level: u8, max: (usize, usize)) -> Vec<Speck> {
    let mut seen = vec![false; w * h];
    let mut stack = Vec::new();
    let mut pixels = Vec::new();
    let mut out = Vec::new();
    for start in 0..w * h {
        if seen[start] || m[start] < level {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        pixels.clear();
        let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
        while let Some(i) = stack.pop() {
            pixels.push(i);
            let (x, y) = (i % w, i / w);
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
            for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    let j = ny * w + nx;
                    if !seen[j] && m[j] >= level {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        if x1 - x0 < max.0 && y1 - y0 < max.1 {
            let n = pixels.len() as f32;
            let cx = pixels.iter().map(|&i| (i % w) as f32).sum::<f32>() / n;
            let cy = pixels.iter().map(|&i| (i / w) as f32).sum::<f32>() / n;
            out.push(Speck {
                cx,
                cy,
                pixels: pixels.clone(),
            });
        }
    }
    out
}

/// Which specks have a neighbour one `pitch` (px along x, y) away, level
/// with them (within `level` px across the line of dots), in at least two
/// of the four directions.
fn lattice_members(
    specks: &[Speck],
    pitch: (f32, f32),
    level: (f32, f32),
    w: usize,
    h: usize,
) -> Vec<bool> {
    let cell = pitch.0.max(pitch.1).max(2.0);
    let (gw, gh) = (
        (w as f32 / cell) as usize + 1,
        (h as f32 / cell) as usize + 1,
    );
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); gw * gh];
    let bucket = |x: f32, y: f32| {
        let (bx, by) = ((x / cell) as usize, (y / cell) as usize);
        by.min(gh - 1) * gw + bx.min(gw - 1)
    };
    for (k, s) in specks.iter().enumerate() {
        buckets[bucket(s.cx, s.cy)].push(k);
    }
    let near = |x: f32, y: f32, tol: (f32, f32)| -> bool {
        if x < 0.0 || y < 0.0 {
            return false;
        }
        let (bx, by) = ((x / cell) as isize, (y / cell) as isize);
        (by - 1..=by + 1).any(|yy| {
            (bx - 1..=bx + 1).any(|xx| {
                if xx < 0 || yy < 0 || xx as usize >= gw || yy as usize >= gh {
                    return false;
                }
                buckets[yy as usize * gw + xx as usize].iter().any(|&k| {
                    (specks[k].cx - x).abs() <= tol.0 && (specks[k].cy - y).abs() <= tol.1
                })
            })
        })
    };
    specks
        .iter()
        .map(|s| {
            let (px, py) = pitch;
            let along = (PITCH_TOLERANCE * px, PITCH_TOLERANCE * py);
            let level = (level.0.max(1.5), level.1.max(1.5));
            let found = [
                near(s.cx + px, s.cy, (along.0, level.1)),
                near(s.cx - px, s.cy, (along.0, level.1)),
                near(s.cx, s.cy + py, (level.0, along.1)),
                near(s.cx, s.cy - py, (level.0, along.1)),
            ];
            found.iter().filter(|&&f| f).count() >= 2
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w x h` mask with 2x2 dots every `pitch` px and a wavy trace.
    fn dotted(w: usize, h: usize, pitch: usize) -> Vec<u8> {
        let mut m = vec![0u8; w * h];
        for y in (pitch / 2..h - 1).step_by(pitch) {
            for x in (pitch / 2..w - 1).step_by(pitch) {
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    m[(y + dy) * w + x + dx] = 255;
                }
            }
        }
        for x in 20..w - 20 {
            let y = (h / 2) as f32 + 15.0 * (x as f32 * 0.05).sin();
            m[y as usize * w + x] = 255;
            m[(y as usize + 1) * w + x] = 255;
        }
        m
    }

    /// Ink pixels farther than `d` rows from the middle row, and columns
    /// of the trace's span with any ink.
    fn census(m: &[u8], w: usize, h: usize, d: usize) -> (usize, usize) {
        let far = (0..w * h)
            .filter(|&i| m[i] != 0 && (i / w).abs_diff(h / 2) > d)
            .count();
        let cols = (20..w - 20)
            .filter(|&x| (0..h).any(|y| m[y * w + x] != 0))
            .count();
        (far, cols)
    }

    #[test]
    fn a_dotted_lattice_goes_and_the_trace_stays() {
        // dots every millimetre at 10 px per mm, and every 5 mm
        for (w, h, pitch) in [(600usize, 300usize, 10usize), (1500, 1000, 50)] {
            let mut m = dotted(w, h, pitch);
            let n = remove_dots(&mut m, w, h, (10.0, 10.0), 128);
            assert!(n >= MIN_DOTS, "{pitch}: {n}");
            let (far, cols) = census(&m, w, h, 17);
            assert_eq!(far, 0, "{pitch}: dots left");
            assert_eq!(cols, w - 40, "{pitch}: the trace broken");
        }
    }

    #[test]
    fn a_few_lines_of_specks_are_not_a_dotted_grid() {
        // the breaks of two faint grid lines: regular, but a sliver of the
        // page's lattice
        let (w, h) = (1200, 800);
        let mut m = vec![0u8; w * h];
        for x in (5..w - 5).step_by(10) {
            m[200 * w + x] = 255;
            m[210 * w + x] = 255;
        }
        assert_eq!(remove_dots(&mut m, w, h, (10.0, 10.0), 128), 0);
    }

    #[test]
    fn scattered_specks_are_not_a_lattice() {
        let (w, h) = (600, 300);
        let mut m = vec![0u8; w * h];
        // 400 specks at pseudo-random places
        let mut s = 12345u64;
        for _ in 0..400 {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = (s >> 33) as usize % (w - 2);
            let y = (s >> 13) as usize % (h - 2);
            m[y * w + x] = 255;
        }
        let before = m.clone();
        assert_eq!(remove_dots(&mut m, w, h, (10.0, 10.0), 128), 0);
        assert_eq!(m, before);
    }
}
