//! Tracing: one continuous sub-pixel path per panel, through the ink.
//!
//! * [`viterbi`] (`trace_viterbi`): the stage and its parameters;
//! * [`path`]: the Viterbi search over each column's ink runs;
//! * [`fit`]: inverse rendering of the chosen runs into a polyline;
//! * [`evidence`]: sub-pixel evidence from the page image (column shading,
//!   where steep strokes cross pixel rows).

pub mod evidence;
pub mod fit;
pub mod path;
pub mod viterbi;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_panel_ends;
