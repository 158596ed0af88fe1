//! Property tests over geometry and resampling: `PageTransform` composition
//! (core) and the linear resamplers (`ecgdig_stages::dsp`).

use ecgdig_core::artifact::PageTransform;
use ecgdig_stages::dsp::{resample_linear, resample_rate};
use proptest::prelude::*;

/// A similarity-plus-shear affine map with a well-conditioned matrix.
fn affine() -> impl Strategy<Value = PageTransform> {
    (
        -3.2f64..3.2,
        0.25f64..4.0,
        -0.3f64..0.3,
        -500.0f64..500.0,
        -500.0f64..500.0,
    )
        .prop_map(|(angle, scale, shear, tx, ty)| {
            let (s, c) = angle.sin_cos();
            PageTransform {
                to_original: [
                    [scale * c, scale * (shear - s), tx],
                    [scale * s, scale * c, ty],
                    [0.0, 0.0, 1.0],
                ],
            }
        })
}

/// A mild perspective (small bottom row), like a photographed page.
fn projective() -> impl Strategy<Value = PageTransform> {
    (affine(), -1e-4f64..1e-4, -1e-4f64..1e-4).prop_map(|(mut t, g, h)| {
        t.to_original[2] = [g, h, 1.0];
        t
    })
}

fn point() -> impl Strategy<Value = (f64, f64)> {
    (0.0f64..2000.0, 0.0f64..2000.0)
}

fn close(a: (f64, f64), b: (f64, f64), tol: f64) -> bool {
    let scale = 1.0 + a.0.abs().max(a.1.abs()).max(b.0.abs()).max(b.1.abs());
    (a.0 - b.0).abs() <= tol * scale && (a.1 - b.1).abs() <= tol * scale
}

/// Inverse of an affine transform (bottom row 0 0 1).
fn inverse_affine(t: &PageTransform) -> PageTransform {
    let m = &t.to_original;
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    let (a, b, c, d) = (m[1][1] / det, -m[0][1] / det, -m[1][0] / det, m[0][0] / det);
    PageTransform {
        to_original: [
            [a, b, -(a * m[0][2] + b * m[1][2])],
            [c, d, -(c * m[0][2] + d * m[1][2])],
            [0.0, 0.0, 1.0],
        ],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn then_applies_inner_first(a in projective(), b in projective(), p in point()) {
        let composed = a.then(&b).apply(p.0, p.1);
        let (x, y) = a.apply(p.0, p.1);
        let stepwise = b.apply(x, y);
        prop_assert!(close(composed, stepwise, 1e-9), "{composed:?} vs {stepwise:?}");
    }

    #[test]
    fn identity_is_neutral(a in projective(), p in point()) {
        let id = PageTransform::identity();
        let direct = a.apply(p.0, p.1);
        prop_assert!(close(id.then(&a).apply(p.0, p.1), direct, 1e-12));
        prop_assert!(close(a.then(&id).apply(p.0, p.1), direct, 1e-12));
    }

    #[test]
    fn composition_is_associative(a in projective(), b in projective(), c in projective(), p in point()) {
        let left = a.then(&b).then(&c).apply(p.0, p.1);
        let right = a.then(&b.then(&c)).apply(p.0, p.1);
        prop_assert!(close(left, right, 1e-9), "{left:?} vs {right:?}");
    }

    #[test]
    fn affine_then_inverse_is_identity(a in affine(), p in point()) {
        let back = a.then(&inverse_affine(&a)).apply(p.0, p.1);
        prop_assert!(close(back, p, 1e-9), "{back:?} vs {p:?}");
    }

    #[test]
    fn resample_linear_keeps_ends_length_and_range(
        x in prop::collection::vec(-5.0f32..5.0, 1..400),
        n in 1usize..1000,
    ) {
        let y = resample_linear(&x, n);
        prop_assert_eq!(y.len(), n);
        prop_assert_eq!(y[0], x[0]);
        if n > 1 {
            let last = *x.last().unwrap();
            prop_assert!((y[n - 1] - last).abs() <= 1e-4 * (1.0 + last.abs()));
        }
        let (lo, hi) = x.iter().fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
        prop_assert!(y.iter().all(|&v| v >= lo - 1e-4 && v <= hi + 1e-4));
    }

    #[test]
    fn resample_rate_preserves_duration_and_lines(
        len in 2usize..2000,
        fs_in in 50.0f32..1000.0,
        fs_out in 50.0f32..1000.0,
        slope in -0.01f32..0.01,
        offset in -2.0f32..2.0,
    ) {
        let x: Vec<f32> = (0..len).map(|i| offset + slope * i as f32).collect();
        let y = resample_rate(&x, fs_in, fs_out);
        let want = (len as f64 * fs_out as f64 / fs_in as f64).round() as usize;
        prop_assert_eq!(y.len(), want);
        // a straight line stays on the line where no end is held
        for (i, &v) in y.iter().enumerate() {
            let t = i as f32 * fs_in / fs_out;
            if t <= (len - 1) as f32 {
                let exact = offset + slope * t;
                prop_assert!((v - exact).abs() <= 1e-3, "y[{}] = {} vs {}", i, v, exact);
            }
        }
    }
}
