//! Layout: where each lead is printed on the page, the time window it shows,
//! and the calibration pulse that fixes the voltage scale.
//!
//! * [`detect`] (`layout_detect`): the stage; finds rows ([`rows`]), their
//!   calibration pulses at either end ([`pulse`], placed to a hundredth of a pixel by
//!   [`pulse_edge`]) and maps rows to panels and lead names ([`panels`]),
//!   matching the rows to a layout template ([`templates`]) and reading
//!   the printed lead labels ([`labels`]);
//! * [`scale_text`] (`scale_text`): the printed paper speed and gain
//!   (`25mm/s`, `10mm/mV`), read before the layout, which takes its time
//!   windows from the speed;
//! * [`calibration`] (`calibration_pulse`): the pulse's height, reconciled
//!   with the grid, gives the gain.

pub mod calibration;
pub mod detect;
pub mod labels;
pub mod panels;
pub mod pulse;
pub mod pulse_edge;
pub mod row_ruler;
mod row_start;
mod row_strokes;
pub mod rows;
pub mod scale_text;
pub mod templates;

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_pulse_ends;
#[cfg(test)]
mod tests_rows;
