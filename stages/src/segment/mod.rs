//! Segmentation: which pixels are trace ink. Every segmenter produces the
//! same `mask` artifact (0 = paper, 255 = ink), so they are interchangeable
//! in a pipeline.
//!
//! * [`classical`] (`classical_segment`): colour and local contrast, the
//!   default;
//! * [`onnx`] (`onnx_segment`): a learned segmenter through ONNX Runtime;
//! * [`fallback`] (`fallback_segment`): the classical mask, and the learned
//!   one only where the classical mask gives an implausible page;
//! * [`mask_file`] (`mask_file`): a mask read from a file (an external
//!   segmenter's output, or an oracle).

pub mod classical;
pub mod dots;
pub mod fallback;
pub mod lattice;
pub mod mask_file;
pub mod off_paper;
pub mod onnx;
