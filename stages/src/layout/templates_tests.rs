use super::*;

fn shapes(cols: &[usize]) -> Vec<Shape> {
    cols.iter().map(|&c| expected_shape(c)).collect()
}

#[test]
fn the_shipped_library_parses_with_every_template() {
    let lib = parse(STANDARD_TOML, "standard").expect("shipped templates parse");
    assert_eq!(lib.len(), 10);
    assert_eq!(standard().len(), 10);
    let cabrera = lib
        .iter()
        .find(|t| t.name == "3x4 Cabrera")
        .expect("cabrera");
    assert_eq!(cabrera.rows[2][0], (Lead::AVR, true));
    for t in &lib {
        // every template shows each lead at most once among its short rows
        let mut seen = [false; N_LEADS];
        for &(l, _) in t.rows.iter().flatten() {
            assert!(!seen[l.index()], "{}: {l:?} twice", t.name);
            seen[l.index()] = true;
        }
    }
}

#[test]
fn separators_pick_the_layout_among_pages_of_as_many_rows() {
    let lib = standard();
    let pick = |cols: &[usize]| {
        let (t, strips) = choose(lib, &shapes(cols)).expect("a template fits");
        (t.name.as_str(), strips)
    };
    assert_eq!(pick(&[4, 4, 4, 1]), ("3x4", 1));
    assert_eq!(pick(&[4, 4, 4]), ("3x4", 0));
    // six rows: three 3x4 rows and three strips, or 6x2, by the separators
    assert_eq!(pick(&[4, 4, 4, 1, 1, 1]), ("3x4", 3));
    assert_eq!(pick(&[2, 2, 2, 2, 2, 2]), ("6x2", 0));
    assert_eq!(pick(&[2, 2, 2, 2, 2, 2, 1]), ("6x2", 1));
    assert_eq!(pick(&[2, 2, 2, 1]), ("3x2 chest", 1));
    // one separator missed and a QRS taken for one elsewhere change nothing
    let mut noisy = shapes(&[4, 4, 4, 1, 1]);
    noisy[1][4] = false;
    noisy[3][2] = true;
    assert_eq!(
        choose(lib, &noisy).map(|(t, s)| (t.name.as_str(), s)),
        Some(("3x4", 2))
    );
}

#[test]
fn a_page_without_separators_takes_the_template_with_fewest_strips() {
    let lib = standard();
    let pick = |n: usize| {
        let (t, strips) = choose(lib, &vec![[false; 5]; n]).expect("a template fits");
        (t.name.as_str(), strips)
    };
    assert_eq!(pick(3), ("3x4", 0));
    assert_eq!(pick(4), ("3x4", 1));
    assert_eq!(pick(6), ("6x2", 0));
    assert_eq!(pick(7), ("6x2", 1));
    assert_eq!(pick(12), ("12x1", 0));
    assert!(choose(lib, &[[false; 5]; 10]).is_none());
}

#[test]
fn a_users_template_comes_first_and_bad_ones_say_why() {
    let mine = parse(
        r#"
[[template]]
name = "my printer"
rows = [["V1", "V2", "V3", "V4"], ["V5", "V6", "I", "II"], ["III", "aVR", "aVL", "aVF"]]
rhythm_strips = [1, 1]
rhythm_leads = ["V1"]
"#,
        "mine.toml",
    )
    .expect("valid");
    let lib: Vec<LayoutTemplate> = mine.iter().chain(standard()).cloned().collect();
    let (t, strips) = choose(&lib, &shapes(&[4, 4, 4, 1])).expect("fits");
    assert_eq!(
        (t.name.as_str(), strips, t.strip_lead(0)),
        ("my printer", 1, Lead::V1)
    );

    let err = parse(
        "[[template]]\nname = \"x\"\nrows = [[\"V7\"]]\n",
        "bad.toml",
    )
    .expect_err("unknown lead");
    assert!(err.to_string().contains("unknown lead `V7`"), "{err}");
    let err = parse(
        "[[template]]\nname = \"x\"\nrows = [[\"I\"]]\nstrips = 2\n",
        "bad.toml",
    )
    .expect_err("unknown key");
    assert!(err.to_string().contains("bad.toml"), "{err}");
    assert!(
        err.to_string().contains("line"),
        "points at the line: {err}"
    );
}

#[test]
fn separator_bars_on_the_page_make_six_rows_3x4_and_three_strips() {
    use crate::layout::detect::LayoutDetectConfig;
    let ppmm = 4.0;
    let grid = GridInfo::from_dpi(ppmm * 25.4, ScaleSource::Grid);
    let (mut mask, baselines, x_start) = crate::layout::tests::synthetic_mask(6, ppmm);
    let config = LayoutDetectConfig::default();
    // no bars: six rows are 6x2
    let plain = config.detect(&mask, &grid, 10.0).expect("layout");
    assert_eq!(plain.template.as_deref(), Some("6x2"));
    // bars 8 mm tall across the baseline at each quarter of the first three rows
    for &b in &baselines[..3] {
        for q in [0.25f32, 0.5, 0.75] {
            let x = (x_start + q * 250.0 * ppmm) as u32;
            for y in (b - 4.0 * ppmm) as u32..(b + 4.0 * ppmm) as u32 {
                mask.put_pixel(x, y, image::Luma([255]));
            }
        }
    }
    let barred = config.detect(&mask, &grid, 10.0).expect("layout");
    assert_eq!(barred.template.as_deref(), Some("3x4 + 3 rhythm strips"));
    let strips: Vec<Lead> = barred
        .panels
        .iter()
        .filter(|p| p.rhythm)
        .map(|p| p.lead)
        .collect();
    assert_eq!(strips, vec![Lead::II, Lead::V1, Lead::V5]);
    assert_eq!(barred.panels.iter().filter(|p| !p.rhythm).count(), 12);
}
