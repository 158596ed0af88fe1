//! Inverse rendering of a traced stroke: the polyline whose drawing gives
//! back the ink seen in every pixel column.
//!
//! A pen that draws a signal leaves, in each pixel column, ink from the
//! polyline's highest to its lowest point inside that column (thickened by
//! the pen). One point per column (the run's centre) cuts every QRS tip and
//! blurs steep strokes: on ecg-image-kit pages that caps a lead near 22 dB
//! even with perfect ink. Here the signal is a polyline with a few vertices
//! per pixel, and the fit minimises
//!
//! ```text
//!   Σ_columns (highest polyline point − hi)² + (lowest point − lo)²
//!     + smoothness · Σ_vertices (second difference)²
//! ```
//!
//! where `lo..hi` is the column's centre-line extent (the ink run less half
//! the pen width at both ends). The highest and lowest points of a column
//! are taken among its vertices and the polyline's crossings of the column's
//! edges; which ones they are is fixed from the current estimate, the banded
//! linear least-squares problem is solved, and that repeats until the
//! choice settles (active set). The smoothness term only decides vertices
//! that no column constrains (the middle of a steep stroke), so it can stay
//! small.

pub use crate::trace::evidence::RowCrossing;

/// The centre-line extent of the trace in one pixel column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColumnExtent {
    /// Centre of the column, px (the column covers `x - 0.5 .. x + 0.5`).
    pub x: f32,
    /// Highest point on the page (smallest y), px.
    pub lo: f32,
    /// Lowest point on the page (largest y), px; `lo <= hi`.
    pub hi: f32,
}

/// Settings of [`fit_polyline`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolylineFit {
    /// Vertices per pixel of width (2 to 4 keeps up with 500 Hz at 200 dpi).
    pub vertices_per_px: usize,
    /// Weight of the squared second differences (px units).
    pub smoothness: f32,
    /// Most active-set rounds.
    pub iterations: usize,
    /// How far past its edges a column sees the polyline, px: a thick pen
    /// leaves ink of a steep stroke in the neighbouring column too.
    pub reach_px: f32,
    /// Weight of each row crossing against a column end's weight of 1.
    pub crossing_weight: f32,
    /// A row crossing counts only while the fit passes within this many
    /// pixels of it (vertically).
    pub crossing_gate_px: f32,
}

impl Default for PolylineFit {
    fn default() -> Self {
        Self {
            vertices_per_px: 3,
            smoothness: 0.5,
            iterations: 8,
            reach_px: 0.0,
            crossing_weight: 1.0,
            crossing_gate_px: 3.0,
        }
    }
}

/// Fewest steep strokes [`estimate_reach`] needs.
const MIN_STEEP_COLUMNS: usize = 20;

/// Measures how far a steep stroke's ink spreads past a column's edges
/// (the pen's horizontal half-width, px), from the page's traced columns.
///
/// On a steep monotone stroke of slope `s` px per column, a column's
/// centre-line extent is `s * (1 + 2 * reach)`; the median over the page's
/// steep columns (slope over 4 px per column) is the estimate. `None` when
/// the page has fewer than 20 such columns.
pub fn estimate_reach(panels: &[Vec<ColumnExtent>]) -> Option<f32> {
    let mut found = Vec::new();
    for cols in panels {
        for w in cols.windows(3) {
            let (a, b, c) = (w[0], w[1], w[2]);
            if b.x - a.x != 1.0 || c.x - b.x != 1.0 {
                continue;
            }
            let mid = |e: ColumnExtent| 0.5 * (e.lo + e.hi);
            let (ma, mb, mc) = (mid(a), mid(b), mid(c));
            let slope = 0.5 * (mc - ma).abs();
            if slope > 4.0 && (mc - mb) * (mb - ma) > 0.0 {
                found.push(0.5 * ((b.hi - b.lo) / slope - 1.0));
            }
        }
    }
    if found.len() < MIN_STEEP_COLUMNS {
        return None;
    }
    let median = crate::imaging::median(&found);
    median.is_finite().then(|| median.clamp(0.0, 1.5))
}

/// A point of the polyline as a blend of two neighbouring vertices:
/// `(1 - t) * y[j] + t * y[j + 1]`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Blend {
    j: u32,
    t: f32,
}

impl Blend {
    fn eval(self, y: &[f64]) -> f64 {
        let j = self.j as usize;
        let t = self.t as f64;
        if t == 0.0 {
            y[j]
        } else {
            (1.0 - t) * y[j] + t * y[j + 1]
        }
    }
}

/// Fits the polyline to the columns' extents (sorted by `x`; columns may be
/// missing, the fit bridges them smoothly). Returns the vertices `[x, y]`.
pub fn fit_polyline(cols: &[ColumnExtent], fit: &PolylineFit) -> Vec<[f32; 2]> {
    fit_polyline_through(cols, &[], fit)
}

/// [`fit_polyline`], with points the line passes through besides: where
/// it crosses pixel rows on steep strokes ([`super::evidence`]), each added as
/// `crossing_weight · (polyline(x) − y)²`.
pub fn fit_polyline_through(
    cols: &[ColumnExtent],
    crossings: &[RowCrossing],
    fit: &PolylineFit,
) -> Vec<[f32; 2]> {
    let (Some(first), Some(last)) = (cols.first(), cols.last()) else {
        return Vec::new();
    };
    let k = fit.vertices_per_px.max(1) as f64;
    let x_lo = first.x as f64 - 0.5;
    let span = last.x as f64 + 0.5 - x_lo;
    let nv = (span * k).round() as usize;
    if nv < 3 || cols.len() < 2 {
        return cols.iter().map(|c| [c.x, 0.5 * (c.lo + c.hi)]).collect();
    }
    let vx = |j: usize| x_lo + (j as f64 + 0.5) / k;
    // the polyline at x as a blend of vertices
    let blend_at = |x: f64| -> Blend {
        let f = ((x - x_lo) * k - 0.5).clamp(0.0, (nv - 1) as f64);
        let j = (f.floor() as usize).min(nv - 2);
        Blend {
            j: j as u32,
            t: (f - j as f64) as f32,
        }
    };
    // candidates for each column's extremes: its edges and inner vertices
    let reach = fit.reach_px.max(0.0) as f64;
    let mut cands: Vec<Blend> = Vec::with_capacity(cols.len() * (fit.vertices_per_px + 2));
    let mut starts: Vec<usize> = Vec::with_capacity(cols.len() + 1);
    for c in cols {
        starts.push(cands.len());
        let (a, b) = (c.x as f64 - 0.5 - reach, c.x as f64 + 0.5 + reach);
        cands.push(blend_at(a));
        let j0 = ((a - x_lo) * k - 0.5).ceil().max(0.0) as usize;
        let mut j = j0;
        while j < nv && vx(j) < b {
            cands.push(Blend {
                j: j as u32,
                t: 0.0,
            });
            j += 1;
        }
        cands.push(blend_at(b));
    }
    starts.push(cands.len());

    // start from the columns' centres, linearly between them
    let mut y: Vec<f64> = Vec::with_capacity(nv);
    let mut ci = 0usize;
    for j in 0..nv {
        let x = vx(j);
        while ci + 1 < cols.len() && (cols[ci + 1].x as f64) <= x {
            ci += 1;
        }
        let a = &cols[ci];
        let ya = 0.5 * (a.lo + a.hi) as f64;
        let v = match cols.get(ci + 1) {
            Some(b) if x > a.x as f64 => {
                let yb = 0.5 * (b.lo + b.hi) as f64;
                let f = (x - a.x as f64) / (b.x - a.x) as f64;
                ya + f.clamp(0.0, 1.0) * (yb - ya)
            }
            _ => ya,
        };
        y.push(v);
    }

    // row crossings inside the fitted span, as fixed blends of vertices
    let x_hi = x_lo + span;
    let through: Vec<(Blend, f64)> = crossings
        .iter()
        .filter(|c| (c.x as f64) > x_lo && (c.x as f64) < x_hi && c.y.is_finite())
        .map(|c| (blend_at(c.x as f64), c.y as f64))
        .collect();
    let w_cross = fit.crossing_weight.max(0.0) as f64;
    let lambda = fit.smoothness.max(1e-6) as f64;
    let mut band = Band::new(nv);
    let mut rhs = vec![0.0f64; nv];
    let mut active: Vec<(u32, u32)> = vec![(u32::MAX, u32::MAX); cols.len()];
    // a crossing joins once the fit without it passes near it, and stays
    // while it does: a crossing from another stroke is never let in
    let mut using: Vec<bool> = vec![false; through.len()];
    for round in 0..fit.iterations.max(1) + usize::from(!through.is_empty()) {
        let mut changed = false;
        if round > 0 {
            for (u, &(b, target)) in using.iter_mut().zip(&through) {
                let ok = (b.eval(&y) - target).abs() <= fit.crossing_gate_px as f64;
                if *u != ok {
                    *u = ok;
                    changed = true;
                }
            }
        }
        for ci in 0..cols.len() {
            let own = &cands[starts[ci]..starts[ci + 1]];
            let (mut top, mut bottom) = (0usize, 0usize);
            let (mut vmin, mut vmax) = (f64::INFINITY, f64::NEG_INFINITY);
            for (i, b) in own.iter().enumerate() {
                let v = b.eval(&y);
                if v < vmin {
                    vmin = v;
                    top = i;
                }
                if v > vmax {
                    vmax = v;
                    bottom = i;
                }
            }
            let pick = (top as u32, bottom as u32);
            if active[ci] != pick {
                active[ci] = pick;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        band.clear();
        rhs.iter_mut().for_each(|v| *v = 0.0);
        for j in 1..nv - 1 {
            band.add_outer(&[(j - 1, 1.0), (j, -2.0), (j + 1, 1.0)], lambda);
        }
        for (ci, c) in cols.iter().enumerate() {
            let own = &cands[starts[ci]..starts[ci + 1]];
            let (top, bottom) = active[ci];
            for (b, target) in [(own[top as usize], c.lo), (own[bottom as usize], c.hi)] {
                let j = b.j as usize;
                let t = b.t as f64;
                if t == 0.0 {
                    band.add_outer(&[(j, 1.0)], 1.0);
                    rhs[j] += target as f64;
                } else {
                    band.add_outer(&[(j, 1.0 - t), (j + 1, t)], 1.0);
                    rhs[j] += (1.0 - t) * target as f64;
                    rhs[j + 1] += t * target as f64;
                }
            }
        }
        for (_, &(b, target)) in using.iter().zip(&through).filter(|(u, _)| **u) {
            let j = b.j as usize;
            let t = b.t as f64;
            band.add_outer(&[(j, 1.0 - t), (j + 1, t)], w_cross);
            rhs[j] += w_cross * (1.0 - t) * target;
            rhs[j + 1] += w_cross * t * target;
        }
        match band.solve(&rhs) {
            Some(sol) => y = sol,
            None => break,
        }
    }
    (0..nv).map(|j| [vx(j) as f32, y[j] as f32]).collect()
}

/// A symmetric positive definite matrix with two off-diagonals.
struct Band {
    d: Vec<f64>,
    e1: Vec<f64>,
    e2: Vec<f64>,
}

impl Band {
    fn new(n: usize) -> Self {
        Self {
            d: vec![0.0; n],
            e1: vec![0.0; n.saturating_sub(1)],
            e2: vec![0.0; n.saturating_sub(2)],
        }
    }

    fn clear(&mut self) {
        self.d.iter_mut().for_each(|v| *v = 0.0);
        self.e1.iter_mut().for_each(|v| *v = 0.0);
        self.e2.iter_mut().for_each(|v| *v = 0.0);
    }

    /// Adds `w * r rᵀ` for a sparse row `r` whose indices lie within 2.
    fn add_outer(&mut self, r: &[(usize, f64)], w: f64) {
        for &(i, a) in r {
            for &(j, b) in r {
                match j as isize - i as isize {
                    0 => self.d[i] += w * a * b,
                    1 => self.e1[i] += w * a * b,
                    2 => self.e2[i] += w * a * b,
                    _ => {}
                }
            }
        }
    }

    /// Solves `A x = b` by banded Cholesky; `None` when not positive definite.
    fn solve(&self, b: &[f64]) -> Option<Vec<f64>> {
        let n = self.d.len();
        // L: diagonal l0, first and second sub-diagonals l1[i] = L[i][i-1],
        // l2[i] = L[i][i-2]
        let mut l0 = vec![0.0f64; n];
        let mut l1 = vec![0.0f64; n];
        let mut l2 = vec![0.0f64; n];
        for i in 0..n {
            if i >= 2 {
                l2[i] = self.e2[i - 2] / l0[i - 2];
            }
            if i >= 1 {
                let cross = if i >= 2 { l2[i] * l1[i - 1] } else { 0.0 };
                l1[i] = (self.e1[i - 1] - cross) / l0[i - 1];
            }
            let p = self.d[i] - l1[i] * l1[i] - l2[i] * l2[i];
            if p <= 1e-12 || !p.is_finite() {
                return None;
            }
            l0[i] = p.sqrt();
        }
        let mut z = vec![0.0f64; n];
        for i in 0..n {
            let mut s = b[i];
            if i >= 1 {
                s -= l1[i] * z[i - 1];
            }
            if i >= 2 {
                s -= l2[i] * z[i - 2];
            }
            z[i] = s / l0[i];
        }
        let mut x = vec![0.0f64; n];
        for i in (0..n).rev() {
            let mut s = z[i];
            if i + 1 < n {
                s -= l1[i + 1] * x[i + 1];
            }
            if i + 2 < n {
                s -= l2[i + 2] * x[i + 2];
            }
            x[i] = s / l0[i];
        }
        Some(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Extents of a polyline drawn with an infinitely thin pen.
    fn extents(f: impl Fn(f64) -> f64, x0: i32, x1: i32) -> Vec<ColumnExtent> {
        (x0..=x1)
            .map(|c| {
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                for s in 0..=200 {
                    let v = f(c as f64 - 0.5 + s as f64 / 200.0);
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                ColumnExtent {
                    x: c as f32,
                    lo: lo as f32,
                    hi: hi as f32,
                }
            })
            .collect()
    }

    fn value_at(pts: &[[f32; 2]], x: f32) -> f32 {
        let i = pts.partition_point(|p| p[0] <= x).clamp(1, pts.len() - 1);
        let (a, b) = (pts[i - 1], pts[i]);
        a[1] + (x - a[0]) / (b[0] - a[0]) * (b[1] - a[1])
    }

    #[test]
    fn band_solver_matches_a_dense_solution() {
        let mut band = Band::new(5);
        for j in 1..4 {
            band.add_outer(&[(j - 1, 1.0), (j, -2.0), (j + 1, 1.0)], 0.5);
        }
        for j in 0..5 {
            band.add_outer(&[(j, 1.0)], 1.0 + j as f64);
        }
        let x_true = [1.0, -2.0, 0.5, 3.0, -1.0];
        // b = A x, A rebuilt densely from the band
        let mut a = [[0.0f64; 5]; 5];
        for i in 0..5 {
            a[i][i] = band.d[i];
            if i + 1 < 5 {
                a[i][i + 1] = band.e1[i];
                a[i + 1][i] = band.e1[i];
            }
            if i + 2 < 5 {
                a[i][i + 2] = band.e2[i];
                a[i + 2][i] = band.e2[i];
            }
        }
        let b: Vec<f64> = (0..5)
            .map(|i| (0..5).map(|j| a[i][j] * x_true[j]).sum())
            .collect();
        let x = band.solve(&b).expect("positive definite");
        for (got, want) in x.iter().zip(x_true) {
            assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        }
    }

    #[test]
    fn recovers_a_sharp_peak_that_a_column_centre_cuts() {
        // a 40 px tall spike, 3 px wide at its base, tip between columns
        let spike = |x: f64| 100.0 - (40.0 - 26.0 * (x - 20.3).abs()).max(0.0);
        let cols = extents(spike, 5, 35);
        // the pen is modelled exactly: little smoothing needed
        let fit = PolylineFit {
            smoothness: 0.01,
            ..PolylineFit::default()
        };
        let pts = fit_polyline(&cols, &fit);
        let tip = pts.iter().map(|p| p[1]).fold(f32::INFINITY, f32::min);
        assert!((tip - 60.0).abs() < 2.0, "tip at {tip}, drawn at 60");
        // the column-centre estimate of the tip column is far short of it
        let centre_tip = cols
            .iter()
            .map(|c| 0.5 * (c.lo + c.hi))
            .fold(f32::INFINITY, f32::min);
        assert!(centre_tip > 70.0, "{centre_tip}");
        // away from the spike the line stays on the baseline
        assert!((value_at(&pts, 10.0) - 100.0).abs() < 0.05);
        assert!((value_at(&pts, 30.0) - 100.0).abs() < 0.05);
    }

    #[test]
    fn follows_a_smooth_wave_closely() {
        let wave = |x: f64| 200.0 + 30.0 * (x / 9.0).sin();
        let cols = extents(wave, 0, 120);
        let pts = fit_polyline(&cols, &PolylineFit::default());
        let mut worst = 0.0f32;
        for i in 20..1000 {
            let x = i as f32 * 0.1 + 1.0;
            let err = (value_at(&pts, x) - wave(x as f64) as f32).abs();
            worst = worst.max(err);
        }
        assert!(worst < 0.5, "worst error {worst} px");
    }

    #[test]
    fn bridges_missing_columns() {
        let line = |x: f64| 50.0 + 0.5 * x;
        let mut cols = extents(line, 0, 40);
        cols.retain(|c| !(15.0..=19.0).contains(&c.x));
        let pts = fit_polyline(&cols, &PolylineFit::default());
        assert!((value_at(&pts, 17.0) - 58.5).abs() < 0.3);
    }

    /// Extents of a polyline drawn with a pen that spreads `reach` px past
    /// each column's edges.
    fn thick_extents(f: impl Fn(f64) -> f64, x0: i32, x1: i32, reach: f64) -> Vec<ColumnExtent> {
        (x0..=x1)
            .map(|c| {
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                for s in 0..=400 {
                    let v = f(c as f64 - 0.5 - reach + (1.0 + 2.0 * reach) * s as f64 / 400.0);
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                ColumnExtent {
                    x: c as f32,
                    lo: lo as f32,
                    hi: hi as f32,
                }
            })
            .collect()
    }

    /// QRS-like spikes: 12 px/px strokes up to 80 px, every 25 px.
    fn spikes(x: f64) -> f64 {
        let d = (x.rem_euclid(25.0) - 12.4).abs();
        300.0 - (80.0 - 12.0 * d).max(0.0)
    }

    #[test]
    fn measures_the_pens_spread_on_steep_strokes() {
        for reach in [0.0, 0.3, 0.6] {
            let cols = thick_extents(spikes, 0, 400, reach);
            let got = estimate_reach(&[cols]).expect("enough steep strokes");
            assert!((got as f64 - reach).abs() < 0.12, "{got} vs {reach}");
        }
        // a flat line has no steep strokes to measure
        let flat = thick_extents(|_| 10.0, 0, 400, 0.5);
        assert_eq!(estimate_reach(&[flat]), None);
    }

    #[test]
    fn a_thick_pen_with_its_reach_gives_back_the_tips() {
        let cols = thick_extents(spikes, 0, 200, 0.5);
        let fit = PolylineFit {
            reach_px: 0.5,
            ..PolylineFit::default()
        };
        let pts = fit_polyline(&cols, &fit);
        // every spike's tip (220 on the page) within 3 px of 80 px
        for k in 1..7 {
            let tip = pts
                .iter()
                .filter(|p| (p[0] as f64 - (25.0 * k as f64 + 12.4)).abs() < 3.0)
                .map(|p| p[1])
                .fold(f32::INFINITY, f32::min);
            assert!((tip - 220.0).abs() < 3.0, "spike {k}: tip {tip}");
        }
    }

    #[test]
    fn empty_and_tiny_inputs() {
        assert!(fit_polyline(&[], &PolylineFit::default()).is_empty());
        let one = [ColumnExtent {
            x: 3.0,
            lo: 10.0,
            hi: 12.0,
        }];
        assert_eq!(
            fit_polyline(&one, &PolylineFit::default()),
            vec![[3.0, 11.0]]
        );
    }

    #[test]
    fn row_crossings_place_a_steep_stroke_and_an_outlier_is_kept_out() {
        // a steep stroke, 18 px per px, whose column extents are read with
        // the wrong pen spread (a real pen's is never known exactly)
        let stroke = |x: f64| 200.0 - 18.0 * (x - 20.0).clamp(0.0, 4.0);
        let cols = thick_extents(stroke, 10, 30, 0.5);
        let fit = PolylineFit {
            reach_px: 0.0,
            crossing_weight: 4.0,
            crossing_gate_px: 1.5,
            ..PolylineFit::default()
        };
        let err = |pts: &[[f32; 2]]| {
            (0..40)
                .map(|i| {
                    let x = 20.2 + 0.09 * i as f32;
                    (value_at(pts, x) - stroke(x as f64) as f32).abs()
                })
                .fold(0.0f32, f32::max)
        };
        let plain = fit_polyline(&cols, &fit);
        // the centre line's crossing of every row the stroke spans, and one
        // from another stroke, 1.5 px off to the side
        let mut crossings: Vec<RowCrossing> = (130..198)
            .map(|y| RowCrossing {
                x: 20.0 + (200.0 - y as f32) / 18.0,
                y: y as f32,
            })
            .collect();
        crossings.push(RowCrossing { x: 21.0, y: 140.0 });
        crossings.sort_by(|a, b| a.x.total_cmp(&b.x));
        let through = fit_polyline_through(&cols, &crossings, &fit);
        assert!(
            err(&through) < 0.5 * err(&plain),
            "{} vs {}",
            err(&through),
            err(&plain)
        );
        assert!(err(&through) < 2.0, "{}", err(&through));
    }
}
