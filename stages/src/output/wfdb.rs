//! `write_wfdb`: writes the digitized signals as a WFDB record.
//!
//! Input: `signals`. Output: none; when the run has an output folder and the
//! `wfdb` format is requested (`ecgdig digitize --format wfdb`), writes
//! `<out>/<stem>.hea` and `<out>/<stem>.dat`: format 16, physical unit mV
//! (gain 1000 ADC units per mV, baseline 0, so 1 µV quantisation), sampled at
//! the run's rate over the whole page, one signal per lead in canonical
//! order (`I, II, III, aVR, …, V6`). Samples where a lead was not plotted are
//! stored as the WFDB invalid value (-32768), which `wfdb.rdrecord` reads as
//! NaN. Values beyond ±32.767 mV are clipped. Both files are written
//! atomically (temporary file, then rename). The record name is the stem
//! with characters WFDB does not allow in names (space, `/`, `\`) replaced by
//! `_`. The writing itself is `ecgdig_eval::io::wfdb::write_record`.
//!
//! ```
//! # let toml = r#"
//! [stages.wfdb]
//! type = "write_wfdb"
//! inputs = ["einthoven"]
//! all_leads = true
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WriteWfdbConfig {
    /// Write all twelve leads (absent ones as invalid samples) rather than
    /// only the leads found on the page.
    pub all_leads: bool,
}

impl Default for WriteWfdbConfig {
    fn default() -> Self {
        Self { all_leads: true }
    }
}

#[typetag::serde(name = "write_wfdb")]
impl StageConfig for WriteWfdbConfig {
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
    WriteWfdbConfig,
    "write_wfdb",
    summary = "Writes <stem>.hea + <stem>.dat (WFDB format 16, mV, invalid value where unplotted) when --format wfdb.",
    params = [(
        "all_leads",
        "write all twelve leads, absent ones as invalid samples (false: only leads found on the page)"
    )],
    example = "[stages.wfdb]\ntype = \"write_wfdb\"\ninputs = [\"einthoven\"]\n"
);

/// A WFDB-safe record name for an output stem.
pub fn record_name(stem: &str) -> String {
    let s: String = stem
        .chars()
        .map(|c| {
            if c.is_whitespace() || c == '/' || c == '\\' {
                '_'
            } else {
                c
            }
        })
        .collect();
    if s.is_empty() {
        "page".to_string()
    } else {
        s
    }
}

/// The page timeline of every lead as a [`Record`] (NaN outside windows).
pub fn to_record(name: &str, s: &Signals, all_leads: bool) -> Record {
    let mut rec = Record::new(name, s.fs, s.n_samples);
    for lead in Lead::ALL {
        match s.lead(lead) {
            Some(sig) => {
                let col = (0..s.n_samples)
                    .map(|i| sig.at(i).unwrap_or(f32::NAN))
                    .collect();
                rec.set(lead, col);
            }
            None if all_leads => rec.set(lead, vec![f32::NAN; s.n_samples]),
            None => {}
        }
    }
    rec
}

impl Stage for WriteWfdbConfig {
    fn run(&self, inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
        let signals = inputs.signals("signals")?;
        if !ctx.options.wants("wfdb") {
            return Ok(StageOutputs::none());
        }
        let Some(dir) = ctx.options.out_dir.as_deref() else {
            return Ok(StageOutputs::none());
        };
        let name = record_name(&ctx.stem);
        let rec = to_record(&name, &signals, self.all_leads);
        ecgdig_eval::io::wfdb::write_record(dir, &name, &rec).map_err(|e| {
            Error::new(
                ErrorClass::Output,
                format!("cannot write WFDB record {name}: {e}"),
            )
        })?;
        Ok(StageOutputs::none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn signals() -> Signals {
        let mut s = Signals::empty(100.0, 50);
        s.set(
            Lead::II,
            LeadSignal {
                start: 10,
                samples: vec![0.5, -1.25, f32::NAN, 2.0],
                confidence: 0.8,
            },
        );
        s
    }

    #[test]
    fn writes_a_readable_record_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = RunOptions {
            out_dir: Some(dir.path().to_path_buf()),
            ..RunOptions::default()
        };
        let stage = WriteWfdbConfig::default();
        let inputs = StageInputs::new().with("signals", signals());
        let ctx = RunContext::new(
            InputSource::Path("x.png".into()),
            "my page",
            Arc::new(opts.clone()),
        );
        stage.run(&inputs, &ctx).unwrap();
        assert!(!dir.path().join("my_page.hea").exists());

        opts.formats = vec!["wfdb".into()];
        let ctx = RunContext::new(InputSource::Path("x.png".into()), "my page", Arc::new(opts));
        stage.run(&inputs, &ctx).unwrap();
        let rec = ecgdig_eval::io::wfdb::read_record(&dir.path().join("my_page.hea")).unwrap();
        assert_eq!(rec.fs, 100.0);
        assert_eq!(rec.n_samples, 50);
        let ii = rec.lead(Lead::II).unwrap();
        assert!(ii[9].is_nan());
        assert_eq!(ii[10], 0.5);
        assert_eq!(ii[11], -1.25);
        assert!(ii[12].is_nan());
        assert_eq!(ii[13], 2.0);
        assert!(rec.lead(Lead::V6).unwrap().iter().all(|v| v.is_nan()));
    }

    #[test]
    fn record_names_are_sanitised() {
        assert_eq!(record_name("a b/c"), "a_b_c");
        assert_eq!(record_name(""), "page");
        assert_eq!(record_name("scan-p2"), "scan-p2");
    }
}
