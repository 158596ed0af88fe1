//! # ecgdig-eval
//!
//! Signal I/O and the digitization metrics:
//! * [`io`]: WFDB records (read and write), the Kaggle CSV layout, page CSVs;
//! * [`truth`]: the ground truth of one image (record + ecg-image-kit JSON);
//! * [`metric`]: the Kaggle 2025 SNR (capped and uncapped) and the
//!   PhysioNet Challenge 2024 SNR, on arrays;
//! * [`score`]: scoring a folder of predicted page CSVs against a truth folder;
//! * [`report`]: the text, JSON and Markdown renderings used by `ecgdig eval`
//!   and `ecgdig ablate`;
//! * [`trust`]: failed leads (under 5 dB) and how well the reported
//!   per-lead confidence points at them (AUROC, overconfident failures).

pub mod io;
pub mod metric;
pub mod report;
pub mod score;
pub mod trust;
pub mod truth;

#[cfg(test)]
mod testutil;
