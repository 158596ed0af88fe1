//! The non-projective part of a page's geometric history.
//!
//! [`PageTransform`] is one 3x3 matrix; a rectified photo (perspective, paper
//! curl, the printed grid's own stretch) is not projective. A stage that
//! resamples through such a map records it as a [`WarpMesh`]: where every
//! `step`-th pixel of its output lies in the original input, bilinear in
//! between (the same mesh the pixels were resampled through, so the map is
//! exact, not a fit of it). Later projective steps (a rotation) are kept in
//! front of it in [`PageWarp::to_mesh`]; [`PageImage::to_original`] applies
//! both.
//!
//! [`PageImage::to_original`]: crate::artifact::PageImage::to_original

use crate::artifact::PageTransform;
use std::sync::Arc;

/// A map sampled on a regular mesh: node `(i, j)` holds where pixel
/// `(i * step, j * step)` of the mesh's frame lies in the original input.
/// Points between nodes are interpolated bilinearly; points past the last
/// nodes are extrapolated from the outermost cell.
#[derive(Clone, Debug, PartialEq)]
pub struct WarpMesh {
    step: u32,
    nx: usize,
    ny: usize,
    nodes: Vec<[f32; 2]>,
}

impl WarpMesh {
    /// A mesh of `nx * ny` nodes (row by row), `step` pixels apart; None
    /// when the sizes disagree, or the mesh has under 2x2 nodes or a zero
    /// step.
    pub fn new(step: u32, nx: usize, ny: usize, nodes: Vec<[f32; 2]>) -> Option<Self> {
        (step > 0 && nx >= 2 && ny >= 2 && nodes.len() == nx.checked_mul(ny)?).then_some(Self {
            step,
            nx,
            ny,
            nodes,
        })
    }

    /// Distance between nodes, pixels of the mesh's frame.
    pub fn step(&self) -> u32 {
        self.step
    }

    /// Nodes across and down.
    pub fn size(&self) -> (usize, usize) {
        (self.nx, self.ny)
    }

    /// The nodes, row by row.
    pub fn nodes(&self) -> &[[f32; 2]] {
        &self.nodes
    }

    /// The same mesh with every node moved by `f` (to express it in another
    /// frame).
    pub fn map_nodes(&self, f: impl Fn(f64, f64) -> (f64, f64)) -> Self {
        let nodes = self
            .nodes
            .iter()
            .map(|p| {
                let (u, v) = f(p[0] as f64, p[1] as f64);
                [u as f32, v as f32]
            })
            .collect();
        Self { nodes, ..*self }
    }

    /// Maps a point of the mesh's frame to the original input.
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let s = self.step as f64;
        let cell = |v: f64, n: usize| -> (usize, f64) {
            let c = (v / s).floor();
            let c = if c.is_finite() {
                c.clamp(0.0, (n - 2) as f64)
            } else {
                0.0
            };
            (c as usize, v / s - c)
        };
        let (i, fx) = cell(x, self.nx);
        let (j, fy) = cell(y, self.ny);
        let at = |i: usize, j: usize| {
            let p = self.nodes[j * self.nx + i];
            (p[0] as f64, p[1] as f64)
        };
        let (a, b) = (at(i, j), at(i + 1, j));
        let (c, d) = (at(i, j + 1), at(i + 1, j + 1));
        let top = (a.0 + (b.0 - a.0) * fx, a.1 + (b.1 - a.1) * fx);
        let bot = (c.0 + (d.0 - c.0) * fx, c.1 + (d.1 - c.1) * fx);
        (top.0 + (bot.0 - top.0) * fy, top.1 + (bot.1 - top.1) * fy)
    }
}

/// The grid-lattice correction a rectification folded in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatticeFit {
    /// RMS distance of the measured grid lines from the fitted map, mm.
    pub residual_mm: f64,
    /// RMS size of the correction, mm.
    pub correction_mm: f64,
}

/// A photographed sheet rectified into a flat page: what was found, and the
/// exact map from the rectified page back to the original input.
#[derive(Clone, Debug, PartialEq)]
pub struct Rectification {
    /// The sheet's corners in the original input: top-left, top-right,
    /// bottom-right, bottom-left.
    pub corners: [[f64; 2]; 4],
    /// The grid-lattice correction, when one was applied.
    pub lattice: Option<LatticeFit>,
    /// Rectified page pixel to original input pixel.
    pub mesh: WarpMesh,
}

/// The non-projective part of a page's map back to the original input: the
/// projective steps taken since the rectification, then its mesh.
#[derive(Clone, Debug, PartialEq)]
pub struct PageWarp {
    /// From the current image's pixels into the rectified page's (identity
    /// right after the rectification; a later rotation composes here).
    pub to_mesh: PageTransform,
    pub rectification: Arc<Rectification>,
}

impl PageWarp {
    /// A warp whose mesh frame is the current image.
    pub fn new(rectification: Rectification) -> Self {
        Self {
            to_mesh: PageTransform::identity(),
            rectification: Arc::new(rectification),
        }
    }

    /// Maps a point of the current image to the original input.
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let (u, v) = self.to_mesh.apply(x, y);
        self.rectification.mesh.apply(u, v)
    }

    /// The same warp seen from an image whose pixels map into the current
    /// one through `to_current`.
    pub fn behind(&self, to_current: &PageTransform) -> Self {
        Self {
            to_mesh: to_current.then(&self.to_mesh),
            rectification: Arc::clone(&self.rectification),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affine_mesh() -> WarpMesh {
        // x' = 2x + 1, y' = 3y - 2 sampled every 4 px
        let (nx, ny) = (5, 4);
        let nodes = (0..ny)
            .flat_map(|j| (0..nx).map(move |i| [(8 * i + 1) as f32, (12 * j) as f32 - 2.0]))
            .collect();
        WarpMesh::new(4, nx, ny, nodes).unwrap()
    }

    #[test]
    fn mesh_interpolates_and_extrapolates_an_affine_map_exactly() {
        let m = affine_mesh();
        for &(x, y) in &[(0.0, 0.0), (5.5, 3.25), (16.0, 12.0), (-3.0, 20.0)] {
            let (u, v) = m.apply(x, y);
            assert!((u - (2.0 * x + 1.0)).abs() < 1e-9, "{x} {y}: {u}");
            assert!((v - (3.0 * y - 2.0)).abs() < 1e-9, "{x} {y}: {v}");
        }
        assert!(WarpMesh::new(4, 5, 4, vec![[0.0; 2]; 19]).is_none());
        assert!(WarpMesh::new(0, 2, 2, vec![[0.0; 2]; 4]).is_none());
    }

    #[test]
    fn a_later_step_is_applied_before_the_mesh() {
        let warp = PageWarp::new(Rectification {
            corners: [[0.0; 2]; 4],
            lattice: None,
            mesh: affine_mesh(),
        });
        let shift = PageTransform {
            to_original: [[1.0, 0.0, 10.0], [0.0, 1.0, 5.0], [0.0, 0.0, 1.0]],
        };
        let moved = warp.behind(&shift);
        let (u, v) = moved.apply(1.0, 1.0);
        assert!(
            (u - 23.0).abs() < 1e-9 && (v - 16.0).abs() < 1e-9,
            "{u} {v}"
        );
    }
}
