//! The *page CSV*: the Kaggle `train/<id>/<id>.csv` convention and ecgdig's
//! main output.
//!
//! Header `I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6`, one row per sample over
//! the page at the page's rate, and an empty cell where a lead was not
//! plotted at that instant.

use crate::artifact::Signals;
use crate::leads::{Lead, LEAD_NAMES, N_LEADS};
use crate::record::Record;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// Formats signals as page-CSV text. Values are written with 4 decimals (0.1 µV).
pub fn to_string(s: &Signals) -> String {
    let mut out = String::with_capacity(s.n_samples * 12 * 8 + 64);
    out.push_str(&LEAD_NAMES.join(","));
    out.push('\n');
    for i in 0..s.n_samples {
        for (k, lead) in Lead::ALL.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            if let Some(v) = s.lead(*lead).and_then(|l| l.at(i)) {
                let _ = write!(out, "{v:.4}");
            }
        }
        out.push('\n');
    }
    out
}

/// Writes signals as a page CSV, atomically.
pub fn write(path: &Path, s: &Signals) -> io::Result<()> {
    crate::output::write_atomic(path, to_string(s).as_bytes())
}

/// Parses page-CSV text. Columns are matched by header name (any order,
/// unknown columns ignored); empty cells and `nan` become NaN. The sampling
/// rate is `rows / page_seconds`.
pub fn parse(text: &str, name: &str, page_seconds: f32) -> Result<Record, String> {
    let mut lines = text.lines();
    let header = lines.next().ok_or_else(|| "empty CSV".to_string())?;
    let cols: Vec<Option<Lead>> = header
        .split(',')
        .map(|h| Lead::from_name(h.trim().trim_matches('"')))
        .collect();
    if cols.iter().all(Option::is_none) {
        return Err(format!("no lead columns in header `{header}`"));
    }
    let mut data: Vec<Vec<f32>> = vec![Vec::new(); N_LEADS];
    let mut n = 0usize;
    for (row, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        for (j, cell) in line.split(',').enumerate() {
            let Some(Some(lead)) = cols.get(j) else {
                continue;
            };
            let c = cell.trim();
            let v = if c.is_empty() || c.eq_ignore_ascii_case("nan") {
                f32::NAN
            } else {
                c.parse::<f32>()
                    .map_err(|_| format!("row {}: `{c}` is not a number", row + 2))?
            };
            let col = &mut data[lead.index()];
            col.resize(n, f32::NAN);
            col.push(v);
        }
        n += 1;
    }
    let mut rec = Record::new(name, n as f32 / page_seconds, n);
    for (k, col) in data.into_iter().enumerate() {
        if cols.iter().any(|c| c.map(|l| l.index()) == Some(k)) {
            let mut col = col;
            col.resize(n, f32::NAN);
            rec.leads[k] = Some(col);
        }
    }
    Ok(rec)
}

/// Reads a page CSV from disk.
pub fn read(path: &Path, page_seconds: f32) -> Result<Record, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("page");
    parse(&text, name, page_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::LeadSignal;

    #[test]
    fn round_trip_keeps_windows_empty_outside() {
        let mut s = Signals::empty(10.0, 20);
        s.set(
            Lead::AVR,
            LeadSignal {
                start: 5,
                samples: vec![0.5, -0.25, 1.0],
                confidence: 1.0,
            },
        );
        let text = to_string(&s);
        assert_eq!(
            text.lines().next().unwrap(),
            "I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6"
        );
        assert_eq!(text.lines().count(), 21);
        assert_eq!(text.lines().nth(6).unwrap(), ",,,0.5000,,,,,,,,");
        let rec = parse(&text, "x", 2.0).unwrap();
        assert_eq!(rec.fs, 10.0);
        let avr = rec.lead(Lead::AVR).unwrap();
        assert!(avr[4].is_nan());
        assert_eq!(avr[6], -0.25);
        assert!(rec.lead(Lead::I).unwrap().iter().all(|v| v.is_nan()));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse("", "x", 10.0).is_err());
        assert!(parse("a,b\n1,2\n", "x", 10.0).is_err());
        assert!(parse("I,II\n1,zz\n", "x", 10.0).is_err());
    }

    #[test]
    fn atomic_write_leaves_no_temp_file() {
        use crate::output::write_atomic;
        let dir = std::env::temp_dir().join(format!("ecgdig-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.csv");
        write_atomic(&p, b"hello").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"hello");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
