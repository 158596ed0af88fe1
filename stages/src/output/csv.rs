//! `write_page_csv`: writes the digitized signals as a page CSV.
//!
//! Input: `signals`. Output: none; writes `<out>/<stem>.csv` atomically
//! (temporary file, then rename) when the run has an output folder and the
//! `csv` format is requested. Header `I,II,III,aVR,aVL,aVF,V1,...,V6`, one row
//! per sample over the page, empty cells outside each lead's window.
//!
//! ```
//! # let toml = r#"
//! [stages.csv]
//! type = "write_page_csv"
//! inputs = ["einthoven"]
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use ecgdig_core::output::write_output;
use ecgdig_core::page_csv;
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WritePageCsvConfig {}

#[typetag::serde(name = "write_page_csv")]
impl StageConfig for WritePageCsvConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("signals", ArtifactKind::Signals)]
    }
    fn outputs(&self) -> Vec<Port> {
        Vec::new()
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    WritePageCsvConfig,
    "write_page_csv",
    summary = "Writes <stem>.csv: 12 lead columns over the page, empty outside each lead's window.",
    params = [],
    example = "[stages.csv]\ntype = \"write_page_csv\"\ninputs = [\"signals\"]\n"
);

impl Stage for WritePageCsvConfig {
    fn run(&self, inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
        let signals = inputs.signals("signals")?;
        if ctx.options.wants("csv") {
            if let Some(path) = ctx.output_path(".csv") {
                write_output(&path, page_csv::to_string(&signals).as_bytes())?;
            }
        }
        Ok(StageOutputs::none())
    }
}
