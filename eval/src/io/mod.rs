//! Reading and writing signals: WFDB records, the Kaggle CSV layout, and
//! page CSVs at full precision for scoring.

pub mod csv_line;
pub mod kaggle;
pub mod page;
pub mod wfdb;
