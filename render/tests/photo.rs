//! The `photo` preset end to end: the page is really photographed (a larger
//! frame, perspective, curl), and the truth follows the pixels.

use ecgdig_render::page::RHYTHM_LABEL;
use ecgdig_render::preset::{self, Preset};
use ecgdig_render::{render_page, synthesize, RenderedPage, SynthParams};

fn photo_page(seed: u64) -> RenderedPage {
    let rec = synthesize(&SynthParams::default(), 5);
    let (spec, d) = preset::draw(Preset::Photo, "p", seed, None);
    render_page(&rec, &spec, &d, seed).unwrap()
}

fn luma(img: &image::RgbImage, x: u32, y: u32) -> f32 {
    let p = img.get_pixel(x, y).0;
    (p[0] as f32 + p[1] as f32 + p[2] as f32) / 3.0
}

#[test]
fn photo_pages_are_deterministic_and_seed_dependent() {
    let a = photo_page(21);
    let b = photo_page(21);
    assert_eq!(a.image, b.image);
    assert_eq!(a.truth, b.truth);
    assert_ne!(a.image.dimensions(), photo_page(22).image.dimensions());
}

#[test]
fn the_photo_is_not_flat() {
    for seed in [1, 2, 3] {
        let p = photo_page(seed);
        let t = &p.truth;
        let (spec, _) = preset::draw(Preset::Photo, "p", seed, None);
        // The image is the camera's frame, not the page, and it says so.
        let (pw, ph) = spec.size_px();
        assert_eq!((t.width, t.height), p.image.dimensions());
        assert_ne!((t.width, t.height), (pw, ph));
        // Perspective: the homography is not affine, and the rhythm strip's
        // box (a rectangle on the page) has edges of different lengths.
        let m = t.homography;
        assert!(m[2][0].abs() + m[2][1].abs() > 1e-6, "{m:?}");
        let r = t.leads.iter().find(|l| l.rhythm).unwrap();
        let q = r.lead_bounding_box.corners();
        let len = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
        let (top, bottom) = (len(q[0], q[1]), len(q[3], q[2]));
        assert!((top - bottom).abs() > 2.0, "{top} vs {bottom}");
        // Curl and lens: the flat page's plotted pixels through the
        // homography alone miss the photo's by pixels, not hundreds.
        let rec = synthesize(&SynthParams::default(), 5);
        let (spec, mut d) = preset::draw(Preset::Photo, "p", seed, None);
        d.photo = None;
        let flat = render_page(&rec, &spec, &d, seed).unwrap().truth;
        let apply = |x: f64, y: f64| {
            let w = m[2][0] * x + m[2][1] * y + m[2][2];
            (
                (m[0][0] * x + m[0][1] * y + m[0][2]) / w,
                (m[1][0] * x + m[1][1] * y + m[1][2]) / w,
            )
        };
        let mut worst: f64 = 0.0;
        for (a, b) in flat.leads.iter().zip(&t.leads) {
            for (fp, pp) in a.plotted_pixels.iter().zip(&b.plotted_pixels) {
                let (x, y) = apply(fp[1], fp[0]);
                worst = worst.max((x - pp[1]).hypot(y - pp[0]));
            }
        }
        assert!(
            (2.0..150.0).contains(&worst),
            "curl and lens move points by {worst} px"
        );
    }
}

#[test]
fn truth_pixels_sit_on_the_drawn_ink_and_the_mask() {
    let p = photo_page(7);
    let (w, h) = p.image.dimensions();
    let mut paper = Vec::new();
    for y in (h / 4..3 * h / 4).step_by(37) {
        for x in (w / 4..3 * w / 4).step_by(41) {
            paper.push(luma(&p.image, x, y));
        }
    }
    paper.sort_by(f32::total_cmp);
    let paper = paper[paper.len() / 2];
    let (mut n, mut dark, mut labelled) = (0usize, 0usize, 0usize);
    for lt in &p.truth.leads {
        let label = if lt.rhythm {
            RHYTHM_LABEL
        } else {
            lt.lead_name.index() as u8 + 1
        };
        for px in lt.plotted_pixels.iter().step_by(7) {
            let (x, y) = (px[1].round() as u32, px[0].round() as u32);
            assert!(x < w && y < h, "{px:?} outside {w}x{h}");
            n += 1;
            dark += (luma(&p.image, x, y) < 0.75 * paper) as usize;
            labelled += (p.lead_mask.get_pixel(x, y).0[0] == label) as usize;
        }
    }
    assert!(n > 500);
    assert!(
        dark as f64 > 0.9 * n as f64,
        "{dark}/{n} dark (paper {paper})"
    );
    assert!(labelled as f64 > 0.9 * n as f64, "{labelled}/{n} labelled");
}
