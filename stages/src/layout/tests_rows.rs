//! Tests of the rules that complete a page's rows from their spacing.

use super::detect::Row;
use super::rows::{fill_gaps, row_spacing};

fn row(y: f32, x0: f32, x1: f32) -> Row {
    Row {
        baseline_y: y,
        ink_x0: x0,
        ink_x1: x1,
        x_start: x0,
        pulse: None,
        end_pulse: Some((x1 + 5.0, x1 + 25.0)),
        x_stop: None,
        waviness: 0.5,
    }
}

/// Twelve rows 60 px apart, the tenth missing.
fn rows_but_one() -> Vec<Row> {
    (0..12)
        .filter(|&k| k != 9)
        .map(|k| row(100.0 + 60.0 * k as f32, 60.0, 1100.0))
        .collect()
}

#[test]
fn spacing_counts_a_gap_over_a_missed_row_as_two_spacings() {
    assert!((row_spacing(&[0.0, 230.0, 920.0, 1150.0]) - 230.0).abs() < 1.0);
    assert!(row_spacing(&[5.0]).is_nan());
}

#[test]
fn a_quiet_row_where_the_spacing_leaves_a_gap_is_a_row() {
    let mut rows = rows_but_one();
    // the missing flat lead, its ink stopping short of the others; a quiet
    // run of grid fragments elsewhere, off the beat
    let quiet = vec![
        row(100.0 + 60.0 * 9.0 + 3.0, 60.0, 1000.0),
        row(100.0 + 60.0 * 4.0 + 30.0, 60.0, 1100.0),
    ];
    fill_gaps(&mut rows, quiet);
    let ys: Vec<f32> = rows.iter().map(|r| r.baseline_y).collect();
    assert_eq!(rows.len(), 12, "{ys:?}");
    assert!((ys[9] - 643.0).abs() < 0.5, "{ys:?}");
}

#[test]
fn short_quiet_rows_and_irregular_pages_are_not_filled() {
    // a quiet row too short to be a lead (a line of header text)
    let mut rows = rows_but_one();
    fill_gaps(&mut rows, vec![row(640.0, 60.0, 400.0)]);
    assert_eq!(rows.len(), 11);
    // rows without a regular spacing: nothing is inferred between them
    let mut rows = vec![
        row(100.0, 60.0, 1100.0),
        row(150.0, 60.0, 1100.0),
        row(400.0, 60.0, 1100.0),
        row(620.0, 60.0, 1100.0),
    ];
    fill_gaps(&mut rows, vec![row(510.0, 60.0, 1100.0), row(300.0, 60.0, 1100.0)]);
    assert_eq!(rows.len(), 4);
}
