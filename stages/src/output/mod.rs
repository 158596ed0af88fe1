//! Output: writers. Each writes its files atomically (a temporary file, then
//! a rename) into the run's output folder.
//!
//! * [`csv`] (`write_page_csv`): the page CSV;
//! * [`wfdb`] (`write_wfdb`): a WFDB record;
//! * [`json`] (`write_json`): signals and everything measured on the page;
//! * [`plot`] (`write_plot`): a clean 12-lead report on ECG paper;
//! * [`overlay`] (`write_overlay`): a debug picture of what was seen;
//! * [`mask`] (`write_mask`): the trace-ink mask the layout and tracer used.

pub mod csv;
pub mod json;
pub mod mask;
pub mod overlay;
pub mod plot;
pub mod wfdb;
