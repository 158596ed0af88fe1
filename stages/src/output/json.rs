//! `write_json`: writes the digitized signals and what was measured on the
//! page as one JSON document.
//!
//! Inputs: `signals`, and optionally `grid` (the paper geometry), `layout`
//! (panel positions) and `image` (the page the leads were read on, for its
//! geometric history). Output: none; when the run has an output
//! folder and the `json` format is requested (`--format json`), writes
//! `<out>/<stem>.json` atomically:
//!
//! ```text
//! { "format": "ecgdig-signals/1", "stem": "...", "config_hash": "...",
//!   "fs": 500.0, "n_samples": 5000, "page_seconds": 10.0, "units": "mV",
//!   "grid": { "px_per_mm_x": .., "px_per_mm_y": .., "mm_per_second": 25.0,
//!             "speed_source": "assumed" | "printed" | "beats",
//!             "mm_per_mv": 10.0, "rotation_degrees": .., "source": "grid",
//!             "confidence": .. } | null,
//!   "layout": { "kind": "three_by_four_rhythm", "panels": [..] } | null,
//!   "geometry": { "rectified": true, "corners": [[x, y], ..4],
//!                 "lattice_warp": true, "grid_residual_mm": 0.05,
//!                 "correction_mm": 0.21, "mesh_step_px": 8 }
//!             | { "rectified": false } | null,
//!   "verdict": "ok" | "check" | "failed" | null,
//!   "reasons": ["probably wrong: V1 0.21"] | null,
//!   "leads": { "I": { "start": 0, "end": 1250, "t_start": 0.0,
//!                     "t_end": 2.5, "confidence": 0.93,
//!                     "evidence": { "traced": 0.98, .. },
//!                     "samples": [0.01, null, ...] } | null, ... } }
//! ```
//!
//! `samples` cover the lead's window `[start, end)` on the page timeline
//! (`t = index / fs`), `null` where the value is unknown; all twelve leads
//! are keys, `null` for a lead not on the page. Values are rounded to 0.1 µV.
//! `verdict`, `reasons` and each lead's `evidence` come from the
//! `lead_confidence` stage (null or absent without it); `confidence` is then
//! the probability that the lead scores at least 5 dB.
//!
//! `geometry` says how the page was rectified (`dewarp`): `rectified` is
//! false for a page that was not (a scan: the object has no other field),
//! and `null` when the `image` port is not connected. For a rectified photo,
//! `corners` are the sheet's corners in the input image (top-left,
//! top-right, bottom-right, bottom-left, pixels), `lattice_warp` whether the
//! printed grid's residual warp was folded in, `grid_residual_mm` the RMS
//! distance of the measured grid lines from that fitted map and
//! `correction_mm` the RMS size of the correction (both `null` without it),
//! and `mesh_step_px` the spacing of the mesh the photo was resampled
//! through (rectified-page pixels).
//!
//! ```
//! # let toml = r#"
//! [stages.json]
//! type = "write_json"
//! inputs = { signals = "einthoven", grid = "calibrate", image = "deskew" }
//! include_layout = true
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use ecgdig_core::output::write_output;
use ecgdig_core::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WriteJsonConfig {
    /// Include the detected layout (panels, baselines) when connected.
    pub include_layout: bool,
    /// Indent the JSON (bigger files, easier to read).
    pub pretty: bool,
}

impl Default for WriteJsonConfig {
    fn default() -> Self {
        Self {
            include_layout: true,
            pretty: false,
        }
    }
}

#[typetag::serde(name = "write_json")]
impl StageConfig for WriteJsonConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![
            Port::new("signals", ArtifactKind::Signals),
            Port::optional("grid", ArtifactKind::Grid),
            Port::optional("layout", ArtifactKind::Layout),
            Port::optional("image", ArtifactKind::Image),
        ]
    }
    fn outputs(&self) -> Vec<Port> {
        Vec::new()
    }
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        Ok(Box::new(self.clone()))
    }
}

register_stage!(
    WriteJsonConfig,
    "write_json",
    summary = "Writes <stem>.json: per-lead samples (null if unknown), windows, fs, scale, geometry, confidence, when --format json.",
    params = [
        (
            "include_layout",
            "include the detected layout (panels, baselines) when the `layout` port is connected"
        ),
        ("pretty", "indent the JSON"),
    ],
    example = "[stages.json]\ntype = \"write_json\"\ninputs = { signals = \"einthoven\", grid = \"calibrate\" }\n"
);

fn round4(v: f32) -> Value {
    if v.is_finite() {
        json!(((v as f64) * 1e4).round() / 1e4)
    } else {
        Value::Null
    }
}

fn round2(v: f64) -> Value {
    if v.is_finite() {
        json!((v * 100.0).round() / 100.0)
    } else {
        Value::Null
    }
}

/// The `geometry` object: how the page was rectified.
pub fn geometry(page: &PageImage) -> Value {
    let Some(warp) = &page.warp else {
        return json!({ "rectified": false });
    };
    let r = &warp.rectification;
    json!({
        "rectified": true,
        "corners": r.corners.iter().map(|c| json!([round2(c[0]), round2(c[1])])).collect::<Vec<_>>(),
        "lattice_warp": r.lattice.is_some(),
        "grid_residual_mm": r.lattice.map_or(Value::Null, |l| round4(l.residual_mm as f32)),
        "correction_mm": r.lattice.map_or(Value::Null, |l| round4(l.correction_mm as f32)),
        "mesh_step_px": r.mesh.step(),
    })
}

/// The JSON document for one page.
pub fn to_json(
    stem: &str,
    config_hash: &str,
    s: &Signals,
    grid: Option<&GridInfo>,
    layout: Option<&Layout>,
    page: Option<&PageImage>,
) -> Value {
    let fs = s.fs as f64;
    let mut leads = Map::new();
    for lead in Lead::ALL {
        let v = match s.lead(lead) {
            Some(sig) => {
                let mut v = json!({
                    "start": sig.start,
                    "end": sig.end(),
                    "t_start": sig.start as f64 / fs,
                    "t_end": sig.end() as f64 / fs,
                    "confidence": round4(sig.confidence),
                    "samples": sig.samples.iter().map(|&v| round4(v)).collect::<Vec<_>>(),
                });
                let evidence = s
                    .assessment
                    .as_ref()
                    .and_then(|a| a.evidence.get(lead.index()))
                    .and_then(|e| e.as_ref());
                if let Some(ev) = evidence {
                    let named: Map<String, Value> =
                        ev.iter().map(|(k, x)| (k.clone(), round4(*x))).collect();
                    v["evidence"] = Value::Object(named);
                }
                v
            }
            None => Value::Null,
        };
        leads.insert(lead.to_string(), v);
    }
    json!({
        "format": "ecgdig-signals/1",
        "stem": stem,
        "config_hash": config_hash,
        "fs": s.fs,
        "n_samples": s.n_samples,
        "page_seconds": s.n_samples as f64 / fs,
        "units": "mV",
        "grid": grid.map(|g| json!({
            "px_per_mm_x": g.px_per_mm_x,
            "px_per_mm_y": g.px_per_mm_y,
            "mm_per_second": g.mm_per_second,
            "speed_source": g.speed_source,
            "mm_per_mv": g.mm_per_mv,
            "px_per_second": g.px_per_second(),
            "px_per_mv": g.px_per_mv(),
            "rotation_degrees": g.rotation_degrees,
            "major_offset_px": g.major_offset_px,
            "source": g.source,
            "confidence": g.confidence,
        })),
        "layout": layout.map(|l| serde_json::to_value(l).unwrap_or(Value::Null)),
        "geometry": page.map(geometry),
        "verdict": s.assessment.as_ref().map(|a| a.verdict.name()),
        "reasons": s.assessment.as_ref().map(|a| a.reasons.clone()),
        "leads": leads,
    })
}

impl Stage for WriteJsonConfig {
    fn run(&self, inputs: &StageInputs, ctx: &RunContext) -> Result<StageOutputs> {
        let signals = inputs.signals("signals")?;
        if !ctx.options.wants("json") {
            return Ok(StageOutputs::none());
        }
        let Some(path) = ctx.output_path(".json") else {
            return Ok(StageOutputs::none());
        };
        let grid = inputs.grid_opt("grid");
        let layout = inputs.layout_opt("layout").filter(|_| self.include_layout);
        let page = inputs.image_opt("image");
        let doc = to_json(
            &ctx.stem,
            &ctx.config_hash,
            &signals,
            grid.as_deref(),
            layout.as_deref(),
            page.as_deref(),
        );
        let text = if self.pretty {
            serde_json::to_string_pretty(&doc)
        } else {
            serde_json::to_string(&doc)
        }
        .map_err(|e| Error::new(ErrorClass::Output, format!("cannot encode JSON: {e}")))?;
        write_output(&path, text.as_bytes())?;
        Ok(StageOutputs::none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn json_has_windows_nulls_and_geometry() {
        let mut s = Signals::empty(100.0, 1000);
        s.set(
            Lead::V2,
            LeadSignal {
                start: 250,
                samples: vec![0.123456, f32::NAN, -1.0],
                confidence: 0.75,
            },
        );
        let dir = tempfile::tempdir().unwrap();
        let opts = RunOptions {
            out_dir: Some(dir.path().to_path_buf()),
            formats: vec!["json".into()],
            ..RunOptions::default()
        };
        let ctx = RunContext::new(InputSource::Path("p.png".into()), "p", Arc::new(opts));
        let grid = GridInfo::from_dpi(254.0, ScaleSource::FileDpi);
        let inputs = StageInputs::new().with("signals", s).with("grid", grid);
        WriteJsonConfig::default().run(&inputs, &ctx).unwrap();
        let text = std::fs::read_to_string(dir.path().join("p.json")).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["fs"], 100.0);
        assert_eq!(v["n_samples"], 1000);
        let v2 = &v["leads"]["V2"];
        assert_eq!(v2["start"], 250);
        assert_eq!(v2["end"], 253);
        assert_eq!(v2["t_start"], 2.5);
        assert_eq!(v2["confidence"], 0.75);
        assert_eq!(v2["samples"], json!([0.1235, null, -1.0]));
        assert!(v["leads"]["I"].is_null());
        assert_eq!(v["leads"].as_object().unwrap().len(), 12);
        assert_eq!(v["grid"]["px_per_mm_x"], 10.0);
        assert_eq!(v["grid"]["source"], "file_dpi");
        assert!(v["layout"].is_null());
        assert!(v["geometry"].is_null());
    }

    fn document(page: PageImage) -> Value {
        let s = Signals::empty(100.0, 1000);
        to_json("p", "", &s, None, None, Some(&page))
    }

    #[test]
    fn a_rectified_page_reports_its_geometry() {
        let mesh = WarpMesh::new(
            8,
            2,
            2,
            vec![[10.0, 20.0], [18.0, 20.5], [9.5, 28.0], [18.0, 28.0]],
        )
        .unwrap();
        let mut page = PageImage::new(image::RgbImage::new(9, 9));
        page.warp = Some(PageWarp::new(Rectification {
            corners: [[10.0, 20.0], [18.004, 20.5], [18.0, 28.0], [9.5, 28.0]],
            lattice: Some(LatticeFit {
                residual_mm: 0.04321,
                correction_mm: 0.25,
            }),
            mesh,
        }));
        let g = &document(page.clone())["geometry"];
        assert_eq!(g["rectified"], true);
        assert_eq!(g["corners"][1], json!([18.0, 20.5]));
        assert_eq!(g["corners"].as_array().map(Vec::len), Some(4));
        assert_eq!(g["lattice_warp"], true);
        assert_eq!(g["grid_residual_mm"], 0.0432);
        assert_eq!(g["correction_mm"], 0.25);
        assert_eq!(g["mesh_step_px"], 8);
        // rectified from the sheet's edges alone
        if let Some(w) = page.warp.as_mut() {
            Arc::make_mut(&mut w.rectification).lattice = None;
        }
        let g = &document(page)["geometry"];
        assert_eq!(g["lattice_warp"], false);
        assert!(g["grid_residual_mm"].is_null() && g["correction_mm"].is_null());
    }

    #[test]
    fn a_page_not_rectified_says_so() {
        let page = PageImage::new(image::RgbImage::new(9, 9));
        assert_eq!(document(page)["geometry"], json!({ "rectified": false }));
    }
}
