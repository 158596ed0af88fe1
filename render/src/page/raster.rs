//! A coverage-based anti-aliased rasteriser for thick polylines.
//!
//! Input: polylines in pixel coordinates (pixel centres on integers, see the
//! crate docs), a line width in pixels and a mask label. Output: an ink
//! coverage buffer (0..1, the maximum over everything drawn, so that joins and
//! crossings never darken twice) and a label buffer.
//!
//! Each segment is a capsule (a rectangle with round caps) around the exact
//! segment between consecutive samples; a pixel's coverage is
//! `clamp(w/2 + 0.5 - d, 0, min(1, w))` with `d` the distance from the pixel
//! centre to the segment: a one-pixel box-filter approximation that is exact
//! for straight edges and keeps the drawn centreline on the geometric one.

/// Ink coverage and lead labels over a page.
pub struct Canvas {
    pub width: usize,
    pub height: usize,
    /// Ink coverage, 0..1, row-major.
    pub ink: Vec<f32>,
    /// Lead label per pixel (0 = none), row-major.
    pub label: Vec<u8>,
}

impl Canvas {
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            ink: vec![0.0; width * height],
            label: vec![0; width * height],
        }
    }

    /// Draws a polyline of width `width_px`. Pixels whose centre lies within
    /// half the width of the line (coverage >= 0.5) get `label` unless it is 0.
    /// A non-finite point breaks the line.
    pub fn polyline(&mut self, pts: &[(f64, f64)], width_px: f64, label: u8) {
        let h = (width_px * 0.5).max(0.05);
        let cap = width_px.clamp(0.0, 1.0) as f32;
        if pts.len() == 1 {
            self.segment(pts[0], pts[0], h, cap, label);
        }
        for w in pts.windows(2) {
            let (a, b) = (w[0], w[1]);
            if a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite() {
                self.segment(a, b, h, cap, label);
            }
        }
    }

    fn segment(&mut self, a: (f64, f64), b: (f64, f64), h: f64, cap: f32, label: u8) {
        let r = h + 1.0;
        let x0 = (a.0.min(b.0) - r).floor().max(0.0) as i64;
        let x1 = (a.0.max(b.0) + r).ceil().min(self.width as f64 - 1.0) as i64;
        let y0 = (a.1.min(b.1) - r).floor().max(0.0) as i64;
        let y1 = (a.1.max(b.1) + r).ceil().min(self.height as f64 - 1.0) as i64;
        if x0 > x1 || y0 > y1 {
            return;
        }
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len2 = dx * dx + dy * dy;
        for y in y0..=y1 {
            let row = y as usize * self.width;
            let py = y as f64 - a.1;
            for x in x0..=x1 {
                let px = x as f64 - a.0;
                let t = if len2 > 0.0 {
                    ((px * dx + py * dy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let (ex, ey) = (px - t * dx, py - t * dy);
                let d = (ex * ex + ey * ey).sqrt();
                let c = ((h + 0.5 - d) as f32).clamp(0.0, cap);
                if c <= 0.0 {
                    continue;
                }
                let i = row + x as usize;
                if c > self.ink[i] {
                    self.ink[i] = c;
                }
                if label != 0 && d <= h.max(0.5) {
                    self.label[i] = label;
                }
            }
        }
    }

    /// Adds coverage at one pixel (used by the text rasteriser).
    pub fn add(&mut self, x: i64, y: i64, c: f32) {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return;
        }
        let i = y as usize * self.width + x as usize;
        self.ink[i] = self.ink[i].max(c.clamp(0.0, 1.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horizontal_line_centre_is_exact_at_subpixel_offsets() {
        for off in [0.0, 0.25, 0.5, 0.8] {
            let mut c = Canvas::new(20, 20);
            let y = 10.0 + off;
            c.polyline(&[(2.0, y), (17.0, y)], 2.0, 3);
            let col: Vec<f32> = (0..20).map(|r| c.ink[r * 20 + 10]).collect();
            let m: f32 = col.iter().sum();
            let centroid: f32 = col
                .iter()
                .enumerate()
                .map(|(r, v)| r as f32 * v)
                .sum::<f32>()
                / m;
            assert!((centroid as f64 - y).abs() < 0.02, "{centroid} vs {y}");
            assert!((m - 2.0).abs() < 0.05, "total ink {m}");
            assert_eq!(c.label[10 * 20 + 10], 3);
            assert_eq!(c.label[5 * 20 + 10], 0);
        }
    }

    #[test]
    fn nan_breaks_the_line_and_out_of_bounds_is_clipped() {
        let mut c = Canvas::new(10, 10);
        c.polyline(
            &[
                (-5.0, 5.0),
                (2.0, 5.0),
                (f64::NAN, 5.0),
                (8.0, 5.0),
                (30.0, 5.0),
            ],
            1.0,
            1,
        );
        assert!(c.ink[5 * 10 + 1] > 0.9);
        assert_eq!(c.ink[5 * 10 + 5], 0.0);
        assert!(c.ink[5 * 10 + 9] > 0.9);
    }
}
