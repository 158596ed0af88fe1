//! The photo's geometry: a smooth, invertible map between the flat page and
//! the camera frame.
//!
//! It is defined as an inverse map, frame point `q` to page point `p`, which
//! rendering evaluates once per output pixel:
//! 1. lens: `u = c + (q - c) (1 + k1 r^2)`, `c` the frame centre and `r` the
//!    distance to it over the half diagonal (`k1 > 0`: barrel, straight lines
//!    bow outwards; `k1 < 0`: pincushion);
//! 2. perspective: `s = H^-1 u`, `H` the homography taking the page corners
//!    to the drawn frame corners;
//! 3. curl: `p = s + D(s)`. Where the sheet lifts towards the camera by `z`
//!    (relative to its distance) it looks larger by `1 + z` about the page
//!    centre, so `D = -(s - m) z(s)`: a cylinder has `z` quadratic across its
//!    axis (`+`: both edges lifted, `-`: the middle), a wave has `z`
//!    sinusoidal. A wave also stretches and squeezes the sheet a little
//!    along its direction (its slopes seen at an angle): `D += n a cos(...)`.
//!
//! [`PhotoWarp::forward`] (page to frame, for the ground truth) inverts this
//! by Newton iterations; tests check the round trip to 1e-6 px.

use super::{Curl, CurlKind, Photo};
use crate::page::distort::Homography;

/// The resolved geometry of one photo, in pixels (pixel-centre coordinates).
#[derive(Clone, Debug)]
pub struct PhotoWarp {
    /// Frame size, pixels.
    pub frame: (u32, u32),
    /// Page size, pixels.
    pub page: (u32, u32),
    /// Perspective part: page to (undistorted) frame.
    pub homography: Homography,
    inv: Homography,
    k1: f64,
    centre: (f64, f64),
    half_diag: f64,
    curl: ResolvedCurl,
}

#[derive(Clone, Copy, Debug)]
struct ResolvedCurl {
    kind: CurlKind,
    /// Page centre.
    m: (f64, f64),
    /// Unit vector across the axis (cylinder) or along the wave.
    n: (f64, f64),
    /// Extent of the page along `n` from its centre, pixels.
    extent: f64,
    lift: f64,
    /// Wave number (radians per pixel) and phase.
    k: f64,
    phase: f64,
    /// Stretch amplitude along `n`, pixels.
    stretch: f64,
}

impl ResolvedCurl {
    fn new(c: &Curl, w: f64, h: f64) -> Self {
        let a = c.angle_degrees.to_radians();
        let n = (a.cos(), a.sin());
        let extent = (0.5 * w * n.0.abs() + 0.5 * h * n.1.abs()).max(1.0);
        Self {
            kind: c.kind,
            m: ((w - 1.0) / 2.0, (h - 1.0) / 2.0),
            n,
            extent,
            lift: c.lift,
            k: std::f64::consts::TAU / (c.wavelength * w).max(1.0),
            phase: c.phase,
            stretch: c.stretch * w,
        }
    }

    /// `D(s)`, the displacement from the perspective frame to the page.
    fn displacement(&self, x: f64, y: f64) -> (f64, f64) {
        let (dx, dy) = (x - self.m.0, y - self.m.1);
        let t = dx * self.n.0 + dy * self.n.1;
        let (z, along) = match self.kind {
            CurlKind::Cylinder => {
                let u = t / self.extent;
                (self.lift * (u * u - 1.0 / 3.0), 0.0)
            }
            CurlKind::Wave => {
                let (sn, cs) = (self.k * t + self.phase).sin_cos();
                (self.lift * sn, self.stretch * cs)
            }
        };
        (-dx * z + along * self.n.0, -dy * z + along * self.n.1)
    }
}

impl PhotoWarp {
    /// Resolves `photo` for a page of `page` pixels. `None` when the drawn
    /// corners do not define a homography (degenerate settings).
    pub fn new(photo: &Photo, page: (u32, u32)) -> Option<Self> {
        let (w, h) = (page.0 as f64, page.1 as f64);
        let fw = (photo.frame[0] * w).round().clamp(16.0, 60000.0);
        let fh = (photo.frame[1] * h).round().clamp(16.0, 60000.0);
        let src = [
            (-0.5, -0.5),
            (w - 0.5, -0.5),
            (w - 0.5, h - 0.5),
            (-0.5, h - 0.5),
        ];
        let dst = photo.corners.map(|c| (c[0] * fw - 0.5, c[1] * fh - 0.5));
        let homography = Homography::from_points(src, dst)?;
        let inv = homography.inverse()?;
        let centre = ((fw - 1.0) / 2.0, (fh - 1.0) / 2.0);
        Some(Self {
            frame: (fw as u32, fh as u32),
            page,
            homography,
            inv,
            k1: photo.lens_k1,
            centre,
            half_diag: (0.5 * (fw * fw + fh * fh).sqrt()).max(1.0),
            curl: ResolvedCurl::new(&photo.curl, w, h),
        })
    }

    /// Frame point to page point (the map rendering samples with).
    #[inline]
    pub fn inverse(&self, qx: f64, qy: f64) -> (f64, f64) {
        let (dx, dy) = (qx - self.centre.0, qy - self.centre.1);
        let r2 = (dx * dx + dy * dy) / (self.half_diag * self.half_diag);
        let f = 1.0 + self.k1 * r2;
        let (ux, uy) = (self.centre.0 + dx * f, self.centre.1 + dy * f);
        let (sx, sy) = self.inv.apply(ux, uy);
        let (ddx, ddy) = self.curl.displacement(sx, sy);
        (sx + ddx, sy + ddy)
    }

    /// Page point to frame point: Newton iterations on [`Self::inverse`],
    /// started from the perspective part alone.
    pub fn forward(&self, x: f64, y: f64) -> (f64, f64) {
        let mut q = self.homography.apply(x, y);
        let e = 0.25;
        for _ in 0..20 {
            let g = self.inverse(q.0, q.1);
            let (rx, ry) = (g.0 - x, g.1 - y);
            if rx.abs() + ry.abs() < 1e-9 {
                break;
            }
            let (ax, ay) = self.inverse(q.0 + e, q.1);
            let (bx, by) = self.inverse(q.0 - e, q.1);
            let (cx, cy) = self.inverse(q.0, q.1 + e);
            let (dx, dy) = self.inverse(q.0, q.1 - e);
            // Jacobian d(page)/d(frame), central differences.
            let (j00, j10) = ((ax - bx) / (2.0 * e), (ay - by) / (2.0 * e));
            let (j01, j11) = ((cx - dx) / (2.0 * e), (cy - dy) / (2.0 * e));
            let det = j00 * j11 - j01 * j10;
            if det.abs() < 1e-12 {
                break;
            }
            q.0 -= (j11 * rx - j01 * ry) / det;
            q.1 -= (-j10 * rx + j00 * ry) / det;
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Curl, CurlKind, Photo};
    use super::*;

    fn photo(kind: CurlKind, lift: f64, k1: f64) -> Photo {
        Photo {
            frame: [1.2, 1.25],
            corners: [[0.08, 0.12], [0.9, 0.05], [0.93, 0.9], [0.1, 0.95]],
            curl: Curl {
                kind,
                lift,
                angle_degrees: 80.0,
                wavelength: 0.9,
                phase: 0.4,
                stretch: 0.004,
            },
            lens_k1: k1,
            ..Photo::default()
        }
    }

    #[test]
    fn forward_inverts_the_inverse_map() {
        for kind in [CurlKind::Cylinder, CurlKind::Wave] {
            let w = PhotoWarp::new(&photo(kind, 0.03, 0.03), (1100, 850)).unwrap();
            for &(x, y) in &[(0.0, 0.0), (550.0, 425.0), (1099.0, 3.0), (17.0, 840.0)] {
                let q = w.forward(x, y);
                let p = w.inverse(q.0, q.1);
                assert!((p.0 - x).abs() < 1e-6 && (p.1 - y).abs() < 1e-6, "{p:?}");
            }
        }
    }

    #[test]
    fn without_curl_and_lens_the_map_is_the_homography() {
        let w = PhotoWarp::new(&photo(CurlKind::Cylinder, 0.0, 0.0), (1100, 850)).unwrap();
        for &(x, y) in &[(-0.5, -0.5), (300.0, 200.0), (1099.5, 849.5)] {
            let a = w.forward(x, y);
            let b = w.homography.apply(x, y);
            assert!((a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6);
        }
        // The page's top-left corner lands on the drawn frame corner.
        let (fw, fh) = (w.frame.0 as f64, w.frame.1 as f64);
        let c = w.forward(-0.5, -0.5);
        assert!((c.0 - (0.08 * fw - 0.5)).abs() < 1e-6 && (c.1 - (0.12 * fh - 0.5)).abs() < 1e-6);
    }

    #[test]
    fn curl_and_lens_bend_straight_page_lines() {
        // The page's left edge: straight under the homography, bent by the curl.
        let bend = |lift: f64, k1: f64| {
            let w = PhotoWarp::new(&photo(CurlKind::Cylinder, lift, k1), (1100, 850)).unwrap();
            let a = w.forward(0.0, 0.0);
            let b = w.forward(0.0, 849.0);
            let m = w.forward(0.0, 424.5);
            let (vx, vy) = (b.0 - a.0, b.1 - a.1);
            ((m.0 - a.0) * vy - (m.1 - a.1) * vx).abs() / vx.hypot(vy)
        };
        assert!(bend(0.0, 0.0) < 0.5, "{}", bend(0.0, 0.0));
        assert!(bend(0.03, 0.0) > 3.0, "{}", bend(0.03, 0.0));
        assert!(bend(0.0, 0.04) > 3.0, "{}", bend(0.0, 0.04));
    }
}
