//! `onnx_segment`: a learned trace segmenter run through ONNX Runtime.
//!
//! Produces the same `mask` artifact as `classical_segment`, so every
//! downstream stage works unchanged: swap the segmenter by editing the
//! pipeline TOML (see `configs/onnx.toml`).
//!
//! Inputs: `image`. Outputs: `mask` (255 where the probability is at least
//! `threshold`, else 0... scaled probabilities when `threshold = 0`), and
//! `probability` (the probability map as 0..255). A model with more than one
//! output channel is read as channel 0 = any trace, channels 1..=12 = the
//! leads in canonical order; those fill [`TraceMask::lead_channels`].
//!
//! The model takes `float32 [1, 3, H, W]` RGB in 0..1 and returns
//! `float32 [1, C, H, W]` probabilities (apply the sigmoid inside the model).
//! The page is processed in overlapping tiles, so any page size works.
//!
//! The runtime library is loaded at run time (`ort`'s `load-dynamic`): set
//! `ORT_DYLIB_PATH` (printed by `scripts/setup-onnxruntime.sh`), or keep the
//! project's `.venv` where that script installs it.
//!
//! ```
//! # let toml = r#"
//! [stages.segment]
//! type = "onnx_segment"
//! inputs = ["deskew"]
//! model_path = "../models/segmenter.onnx"
//! tile_size_px = 512
//! overlap_px = 64
//! threshold = 0.5
//! # "#;
//! # ecgdig_stages::link();
//! # ecgdig_core::config::check_stage_example(toml).unwrap();
//! ```

use ecgdig_core::prelude::*;
use image::GrayImage;
use ndarray::Array4;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OnnxSegmentConfig {
    /// Path of the `.onnx` model, relative to the config file's folder.
    pub model_path: String,
    /// Side of the square tiles fed to the model, pixels.
    pub tile_size_px: u32,
    /// Overlap between neighbouring tiles, pixels.
    pub overlap_px: u32,
    /// Pad tiles so both sides are multiples of this (the model's stride).
    pub size_multiple: u32,
    /// Probability at or above which a pixel is trace (0 keeps probabilities).
    pub threshold: f32,
    /// Threads ONNX Runtime may use inside one inference.
    pub intra_threads: usize,
}

impl Default for OnnxSegmentConfig {
    fn default() -> Self {
        Self {
            // the settings the committed model was measured with
            model_path: "../models/segmenter.onnx".into(),
            tile_size_px: 512,
            overlap_px: 32,
            size_multiple: 8,
            threshold: 0.3,
            intra_threads: 1,
        }
    }
}

register_stage!(OnnxSegmentConfig, "onnx_segment",
    summary = "Trace mask from a learned segmentation model (ONNX Runtime), tiled over the page.",
    params = [
        ("model_path", "path of the .onnx model, relative to the config file's folder"),
        ("tile_size_px", "side of the square tiles fed to the model, pixels"),
        ("overlap_px", "overlap between neighbouring tiles, pixels"),
        ("size_multiple", "tiles are padded to multiples of this (the model's stride)"),
        ("threshold", "probability at or above which a pixel counts as trace; 0 keeps probabilities"),
        ("intra_threads", "threads ONNX Runtime may use inside one inference"),
    ],
    example = "[stages.segment]\ntype = \"onnx_segment\"\ninputs = [\"deskew\"]\nmodel_path = \"../models/segmenter.onnx\"\n");

#[typetag::serde(name = "onnx_segment")]
impl StageConfig for OnnxSegmentConfig {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("image", ArtifactKind::Image)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![
            Port::new("mask", ArtifactKind::Mask),
            Port::new("probability", ArtifactKind::Mask),
        ]
    }
    fn build(&self, ctx: &BuildContext) -> Result<Box<dyn Stage>> {
        if self.tile_size_px < 32 || self.overlap_px * 2 >= self.tile_size_px {
            return Err(Error::stage(format!(
                "tile_size_px must be at least 32 and more than twice overlap_px (got {} and {})",
                self.tile_size_px, self.overlap_px
            )));
        }
        let model = ctx.resolve_path(Path::new(&self.model_path));
        let session = OnnxSession::open(&model, self.intra_threads.max(1))?;
        Ok(Box::new(OnnxSegment {
            cfg: self.clone(),
            session: Mutex::new(session),
        }))
    }
}

/// An ONNX model session with its input and output names.
pub struct OnnxSession {
    session: ort::session::Session,
    input: String,
    output: String,
}

static ENVIRONMENT: OnceLock<std::result::Result<ort::environment::Environment, String>> =
    OnceLock::new();

/// How to install the runtime, appended to every "not found" error.
const INSTALL_HINT: &str =
    "install it with `scripts/setup-onnxruntime.sh` and set the ORT_DYLIB_PATH it prints \
     (the library comes from the PyPI `onnxruntime` wheel)";

/// Finds the ONNX Runtime shared library: `ORT_DYLIB_PATH`, else the
/// project's `.venv` (current folder or a parent).
pub fn find_runtime_library() -> std::result::Result<PathBuf, String> {
    if let Ok(p) = std::env::var("ORT_DYLIB_PATH") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "ORT_DYLIB_PATH points to {}, which is not a file; {INSTALL_HINT}",
                p.display()
            ))
        };
    }
    let mut dir = std::env::current_dir().ok();
    while let Some(d) = dir {
        let lib = d.join(".venv/lib");
        if let Ok(entries) = std::fs::read_dir(&lib) {
            for py in entries.flatten() {
                let capi = py.path().join("site-packages/onnxruntime/capi");
                if let Ok(files) = std::fs::read_dir(&capi) {
                    let mut libs: Vec<PathBuf> = files
                        .flatten()
                        .map(|f| f.path())
                        .filter(|p| {
                            p.file_name()
                                .and_then(|n| n.to_str())
                                .is_some_and(|n| n.starts_with("libonnxruntime.so"))
                        })
                        .collect();
                    libs.sort();
                    if let Some(l) = libs.into_iter().next() {
                        return Ok(l);
                    }
                }
            }
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    Err(format!("ONNX Runtime library not found; {INSTALL_HINT}"))
}

fn environment() -> Result<&'static ort::environment::Environment> {
    let env = ENVIRONMENT.get_or_init(|| {
        let lib = find_runtime_library()?;
        ort::init_from(&lib)
            .map_err(|e| {
                format!(
                    "cannot load ONNX Runtime from {}: {e}; {INSTALL_HINT}",
                    lib.display()
                )
            })?
            .with_name("ecgdig")
            .build()
            .map_err(|e| format!("cannot start ONNX Runtime: {e}"))
    });
    env.as_ref()
        .map_err(|e| Error::new(ErrorClass::Runtime, e.clone()))
}

impl OnnxSession {
    /// Loads a model; a missing runtime or model gives a Runtime-class error
    /// that says how to fix it.
    pub fn open(model: &Path, intra_threads: usize) -> Result<Self> {
        if !model.is_file() {
            return Err(Error::new(
                ErrorClass::Runtime,
                format!(
                    "ONNX model {} not found; train one with `training/train_segmenter.py` (see models/README.md) or fix `model_path`",
                    model.display()
                ),
            ));
        }
        let env = environment()?;
        let rt = |e: ort::Error| Error::new(ErrorClass::Runtime, format!("ONNX Runtime: {e}"));
        let session = ort::session::Session::builder(env)
            .map_err(rt)?
            .with_intra_threads(intra_threads)
            .map_err(|e| Error::new(ErrorClass::Runtime, format!("ONNX Runtime: {e}")))?
            .commit_from_file(model)
            .map_err(|e| {
                Error::new(
                    ErrorClass::Runtime,
                    format!("cannot load model {}: {e}", model.display()),
                )
            })?;
        let input = session
            .inputs()
            .first()
            .map(|o| o.name().to_string())
            .ok_or_else(|| Error::new(ErrorClass::Runtime, "the model has no input"))?;
        let output = session
            .outputs()
            .first()
            .map(|o| o.name().to_string())
            .ok_or_else(|| Error::new(ErrorClass::Runtime, "the model has no output"))?;
        Ok(Self {
            session,
            input,
            output,
        })
    }

    /// Runs the model on one `[1, 3, H, W]` tile; returns `[C, H, W]` as (channels, data).
    pub fn infer(&mut self, x: &Array4<f32>) -> Result<(usize, Vec<f32>)> {
        let rt =
            |e: ort::Error| Error::new(ErrorClass::Runtime, format!("ONNX inference failed: {e}"));
        let tensor = ort::value::TensorRef::from_array_view(x).map_err(rt)?;
        let outputs = self
            .session
            .run(ort::inputs![self.input.as_str() => tensor])
            .map_err(rt)?;
        let (shape, data) = outputs[self.output.as_str()]
            .try_extract_tensor::<f32>()
            .map_err(rt)?;
        let dims: Vec<i64> = shape.iter().copied().collect();
        let (h, w) = (x.shape()[2], x.shape()[3]);
        if dims.len() != 4 || dims[2] as usize != h || dims[3] as usize != w {
            return Err(Error::new(
                ErrorClass::Runtime,
                format!("model output shape {dims:?} does not match the tile [1, C, {h}, {w}]"),
            ));
        }
        Ok((dims[1] as usize, data.to_vec()))
    }
}

struct OnnxSegment {
    cfg: OnnxSegmentConfig,
    session: Mutex<OnnxSession>,
}

/// Start offsets of tiles of `tile` pixels with `overlap` covering `len`.
pub fn tile_starts(len: u32, tile: u32, overlap: u32) -> Vec<u32> {
    if len <= tile {
        return vec![0];
    }
    let step = tile - overlap;
    let mut v: Vec<u32> = (0..)
        .map(|k| k * step)
        .take_while(|&s| s + tile < len)
        .collect();
    v.push(len - tile);
    v.dedup();
    v
}

impl Stage for OnnxSegment {
    fn run(&self, inputs: &StageInputs, _ctx: &RunContext) -> Result<StageOutputs> {
        let page = inputs.image("image")?;
        let (w, h) = (page.width(), page.height());
        let tile = self.cfg.tile_size_px;
        let m = self.cfg.size_multiple.max(1);
        let mut sum = vec![0f32; (w * h) as usize];
        let mut count = vec![0u16; (w * h) as usize];
        let mut lead_sum: Vec<Vec<f32>> = Vec::new();
        for ty in tile_starts(h, tile, self.cfg.overlap_px) {
            for tx in tile_starts(w, tile, self.cfg.overlap_px) {
                let tw = tile.min(w - tx);
                let th = tile.min(h - ty);
                let pw = tw.div_ceil(m) * m;
                let ph = th.div_ceil(m) * m;
                // white padding, RGB in 0..1
                let mut x = Array4::<f32>::ones((1, 3, ph as usize, pw as usize));
                for yy in 0..th {
                    for xx in 0..tw {
                        let p = page.rgb.get_pixel(tx + xx, ty + yy);
                        for c in 0..3 {
                            x[[0, c, yy as usize, xx as usize]] = p[c] as f32 / 255.0;
                        }
                    }
                }
                let (channels, data) = self
                    .session
                    .lock()
                    .map_err(|_| {
                        Error::new(
                            ErrorClass::Runtime,
                            "ONNX session poisoned by an earlier panic",
                        )
                    })?
                    .infer(&x)?;
                if channels > 1 && lead_sum.is_empty() {
                    lead_sum = vec![vec![0f32; (w * h) as usize]; (channels - 1).min(N_LEADS)];
                }
                let plane = (pw * ph) as usize;
                for yy in 0..th {
                    for xx in 0..tw {
                        let src = (yy * pw + xx) as usize;
                        let dst = ((ty + yy) * w + tx + xx) as usize;
                        sum[dst] += data[src];
                        count[dst] += 1;
                        for (k, ls) in lead_sum.iter_mut().enumerate() {
                            ls[dst] += data[(k + 1) * plane + src];
                        }
                    }
                }
            }
        }
        let to_u8 = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        let prob: Vec<u8> = sum
            .iter()
            .zip(&count)
            .map(|(s, &c)| to_u8(s / c.max(1) as f32))
            .collect();
        let mask: Vec<u8> = if self.cfg.threshold > 0.0 {
            let t = to_u8(self.cfg.threshold);
            prob.iter().map(|&p| if p >= t { 255 } else { 0 }).collect()
        } else {
            prob.clone()
        };
        let gray = |v: Vec<u8>| {
            GrayImage::from_raw(w, h, v).ok_or_else(|| Error::stage("internal: mask size"))
        };
        let mut trace_mask = TraceMask::new(gray(mask)?);
        for (k, ls) in lead_sum.into_iter().enumerate() {
            let v = ls
                .iter()
                .zip(&count)
                .map(|(s, &c)| to_u8(s / c.max(1) as f32))
                .collect();
            if let Some(lead) = Lead::from_index(k) {
                trace_mask.lead_channels.push((lead, gray(v)?));
            }
        }
        Ok(StageOutputs::one(trace_mask).with("probability", TraceMask::new(gray(prob)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_whole_length_with_overlap() {
        assert_eq!(tile_starts(100, 512, 64), vec![0]);
        assert_eq!(tile_starts(512, 512, 64), vec![0]);
        let s = tile_starts(1700, 512, 64);
        assert_eq!(s.first(), Some(&0));
        assert_eq!(s.last(), Some(&(1700 - 512)));
        for pair in s.windows(2) {
            assert!(pair[1] - pair[0] <= 512 - 64, "{s:?}");
        }
    }

    #[test]
    fn a_missing_model_is_a_runtime_error_that_says_what_to_do() {
        let cfg = OnnxSegmentConfig {
            model_path: "/nonexistent/model.onnx".into(),
            ..Default::default()
        };
        let err = cfg
            .build(&BuildContext::default())
            .err()
            .expect("must fail");
        assert_eq!(err.class, ErrorClass::Runtime);
        assert!(err.message.contains("not found"), "{}", err.message);
    }
}
