//! The Kaggle "PhysioNet - Digitization of ECG Images" (2025) data layout.
//!
//! * `train.csv`: `id,fs,sig_len`, one line per record;
//! * `train/<id>/<id>.csv`: the record's signals, 12 lead columns, one row
//!   per sample, empty where the lead was not plotted (a page CSV);
//! * `test.csv`: `id,lead,fs,number_of_rows`, one line per lead to predict;
//! * `submission.csv`: `id,value` where id is `{image}_{row}_{lead}`.

use super::csv_line::Table;
use ecgdig_core::leads::Lead;
use ecgdig_core::page_csv;
use ecgdig_core::record::Record;
use std::path::Path;

/// One line of `train.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainRow {
    pub id: String,
    pub fs: f32,
    pub sig_len: usize,
}

/// Highest `fs` accepted in `test.csv`, Hz.
pub const MAX_TEST_FS: f32 = 10_000.0;
/// Longest lead accepted in `test.csv`, seconds (a page shows 10).
pub const MAX_TEST_SECONDS: f64 = 60.0;

/// One line of `test.csv`: a lead of a test image and how many rows to submit.
#[derive(Clone, Debug, PartialEq)]
pub struct TestRow {
    pub id: String,
    pub lead: Lead,
    pub fs: f32,
    pub number_of_rows: usize,
}

/// Reads `train.csv`.
pub fn read_train_csv(path: &Path) -> Result<Vec<TrainRow>, String> {
    let t = Table::read(path)?;
    let (id, fs, len) = (t.column("id")?, t.column("fs")?, t.column("sig_len")?);
    t.rows
        .iter()
        .map(|r| {
            Ok(TrainRow {
                id: t.get(r, id)?,
                fs: t.get(r, fs)?,
                sig_len: t.get(r, len)?,
            })
        })
        .collect()
}

/// Reads `test.csv`.
pub fn read_test_csv(path: &Path) -> Result<Vec<TestRow>, String> {
    let t = Table::read(path)?;
    let (id, lead, fs, rows) = (
        t.column("id")?,
        t.column("lead")?,
        t.column("fs")?,
        t.column("number_of_rows")?,
    );
    t.rows
        .iter()
        .map(|r| {
            let name: String = t.get(r, lead)?;
            let row = TestRow {
                id: t.get(r, id)?,
                lead: Lead::from_name(&name).ok_or_else(|| {
                    format!("{}: line {}: `{name}` is not a lead name", t.origin, r.0)
                })?,
                fs: t.get(r, fs)?,
                number_of_rows: t.get(r, rows)?,
            };
            // every row is allocated: refuse sizes no 10-s page can need
            if !(row.fs.is_finite() && row.fs > 0.0 && row.fs <= MAX_TEST_FS) {
                return Err(format!(
                    "{}: line {}: fs {} is outside 0..={MAX_TEST_FS} Hz",
                    t.origin, r.0, row.fs
                ));
            }
            if row.number_of_rows as f64 > row.fs as f64 * MAX_TEST_SECONDS {
                return Err(format!(
                    "{}: line {}: number_of_rows {} is more than {MAX_TEST_SECONDS} s at {} Hz",
                    t.origin, r.0, row.number_of_rows, row.fs
                ));
            }
            Ok(row)
        })
        .collect()
}

/// Reads `train/<id>/<id>.csv` under `root` as a record at the row's rate.
pub fn read_train_record(root: &Path, row: &TrainRow) -> Result<Record, String> {
    let path = root
        .join("train")
        .join(&row.id)
        .join(format!("{}.csv", row.id));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rec =
        page_csv::parse(&text, &row.id, 1.0).map_err(|e| format!("{}: {e}", path.display()))?;
    if rec.n_samples != row.sig_len {
        return Err(format!(
            "{}: {} rows, but train.csv gives sig_len {}",
            path.display(),
            rec.n_samples,
            row.sig_len
        ));
    }
    rec.fs = row.fs;
    Ok(rec)
}

/// Reads every record listed in `<root>/train.csv`.
pub fn read_train(root: &Path) -> Result<Vec<Record>, String> {
    read_train_csv(&root.join("train.csv"))?
        .iter()
        .map(|row| read_train_record(root, row))
        .collect()
}

/// The submission row id `{image}_{row}_{lead}`.
pub fn submission_id(image: &str, row: usize, lead: Lead) -> String {
    format!("{image}_{row}_{lead}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ecgdig-kaggle-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn reads_train_layout() {
        let root = temp_dir("train");
        std::fs::write(root.join("train.csv"), "id,fs,sig_len\n42,4,8\n").unwrap();
        std::fs::create_dir_all(root.join("train/42")).unwrap();
        let mut csv = String::from("I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6\n");
        for i in 0..8 {
            let lead_i = if i < 4 {
                format!("{}", i as f32 * 0.5)
            } else {
                String::new()
            };
            csv.push_str(&format!("{lead_i},{i},,,,,,,,,,\n"));
        }
        std::fs::write(root.join("train/42/42.csv"), csv).unwrap();
        let recs = read_train(&root).unwrap();
        assert_eq!(recs.len(), 1);
        let r = &recs[0];
        assert_eq!((r.name.as_str(), r.fs, r.n_samples), ("42", 4.0, 8));
        assert_eq!(r.lead(Lead::II).unwrap()[7], 7.0);
        assert_eq!(r.lead(Lead::I).unwrap()[3], 1.5);
        assert!(r.lead(Lead::I).unwrap()[4].is_nan());

        std::fs::write(root.join("train.csv"), "id,fs,sig_len\n42,4,9\n").unwrap();
        let e = read_train(&root).unwrap_err();
        assert!(e.contains("42.csv") && e.contains("sig_len 9"), "{e}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn reads_test_rows_and_formats_submission_ids() {
        let root = temp_dir("test");
        let p = root.join("test.csv");
        std::fs::write(
            &p,
            "id,lead,fs,number_of_rows\n1053922973,aVR,500,1250\n1053922973,II,500,5000\n",
        )
        .unwrap();
        let rows = read_test_csv(&p).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].lead, Lead::AVR);
        assert_eq!(rows[1].number_of_rows, 5000);
        assert_eq!(
            submission_id(&rows[0].id, 12, rows[0].lead),
            "1053922973_12_aVR"
        );
        std::fs::write(&p, "id,lead,fs,number_of_rows\n1,II,500,999999999999\n").unwrap();
        assert!(read_test_csv(&p).unwrap_err().contains("number_of_rows"));
        std::fs::write(&p, "id,lead,fs,number_of_rows\n1,II,inf,10\n").unwrap();
        assert!(read_test_csv(&p).unwrap_err().contains("fs"));
        std::fs::write(&p, "id,lead,fs,number_of_rows\n1,V9,500,1\n").unwrap();
        assert!(read_test_csv(&p)
            .unwrap_err()
            .contains("`V9` is not a lead"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
