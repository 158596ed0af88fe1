//! Page CSVs read at full precision, for scoring.
//!
//! Same file format as [`ecgdig_core::page_csv`] (header naming the leads,
//! one row per sample, empty cells where nothing was predicted), but values
//! are kept as `f64` and rows are counted exactly as the reference scorer's
//! `read_csv_leads` counts them: every line after the header is a row, a
//! blank line included (all its cells missing). Empty cells and `nan` are
//! NaN; any other cell must parse as a number.

use super::csv_line::split_line;
use ecgdig_core::leads::{Lead, N_LEADS};
use std::path::Path;

/// A page of predicted (or true) samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// Number of rows (samples on the page timeline).
    pub rows: usize,
    /// Indexed by [`Lead::index`]; `None` when the header lacks the lead.
    pub leads: Vec<Option<Vec<f64>>>,
}

impl Page {
    pub fn lead(&self, lead: Lead) -> Option<&[f64]> {
        self.leads.get(lead.index()).and_then(|l| l.as_deref())
    }
}

/// Parses page-CSV text; `origin` names the file in error messages.
pub fn parse(text: &str, origin: &str) -> Result<Page, String> {
    let mut lines = text.lines();
    let header = lines
        .next()
        .ok_or_else(|| format!("{origin}: empty file (no header)"))?;
    let cols: Vec<Option<Lead>> = split_line(header)
        .iter()
        .map(|h| Lead::from_name(h))
        .collect();
    if cols.iter().all(Option::is_none) {
        return Err(format!(
            "{origin}: no lead column in header `{header}` (expected names like I,II,...,V6)"
        ));
    }
    let mut leads: Vec<Option<Vec<f64>>> = vec![None; N_LEADS];
    for lead in cols.iter().flatten() {
        leads[lead.index()] = Some(Vec::new());
    }
    let mut rows = 0usize;
    for (i, line) in lines.enumerate() {
        let cells = split_line(line);
        for (j, col) in cols.iter().enumerate() {
            let Some(lead) = col else { continue };
            let cell = cells.get(j).map(|c| c.trim()).unwrap_or("");
            let v = if cell.is_empty() || cell == "nan" || cell == "NaN" {
                f64::NAN
            } else {
                cell.parse::<f64>().map_err(|_| {
                    format!(
                        "{origin}: line {}, column {}: `{cell}` is not a number",
                        i + 2,
                        lead
                    )
                })?
            };
            if let Some(v_col) = leads[lead.index()].as_mut() {
                // a duplicated column: the last one wins, like a dict would
                v_col.truncate(rows);
                v_col.push(v);
            }
        }
        rows += 1;
    }
    Ok(Page { rows, leads })
}

/// Reads a page CSV from disk.
pub fn read(path: &Path) -> Result<Page, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_columns_by_name_with_missing_cells() {
        let p = parse("V1,I,extra\n1.5,,x\n,2,y\nnan,-0.25,z\n", "t").unwrap();
        assert_eq!(p.rows, 3);
        let v1 = p.lead(Lead::V1).unwrap();
        assert_eq!(v1[0], 1.5);
        assert!(v1[1].is_nan() && v1[2].is_nan());
        let i = p.lead(Lead::I).unwrap();
        assert!(i[0].is_nan());
        assert_eq!(&i[1..], &[2.0, -0.25]);
        assert!(p.lead(Lead::II).is_none());
    }

    #[test]
    fn counts_blank_lines_as_rows_and_reports_bad_cells() {
        let p = parse("I\n1\n\n2\n", "t").unwrap();
        assert_eq!(p.rows, 3);
        assert!(p.lead(Lead::I).unwrap()[1].is_nan());
        let e = parse("I,II\n1,zz\n", "f.csv").unwrap_err();
        assert!(
            e.contains("f.csv") && e.contains("line 2") && e.contains("zz"),
            "{e}"
        );
        assert!(parse("a,b\n1,2\n", "t").is_err());
        assert!(parse("", "t").is_err());
    }
}
