//! Geometry: puts the page into a frame where time runs along x and voltage
//! along y, and measures that frame's scale.
//!
//! * [`deskew`] (`deskew`): undoes a small rotation and turns pages lying on
//!   their side;
//!   * [`orientation`]: its detection of pages turned by 180 degrees or
//!     mirrored, from the printed lead names;
//! * [`dewarp`] (`dewarp`): rectifies a photographed sheet (perspective,
//!   curl, uneven light); flat pages pass through;
//!   * [`lattice_warp`]: its residual warp inside the sheet, measured on the
//!     printed grid's major lines and folded into its one resample;
//!   * [`light`]: its light flattening;
//! * [`grid`] (`grid_scale`): pixels per millimetre on both axes, from the
//!   printed grid's periodicity.

pub mod deskew;
pub mod dewarp;
pub mod grid;
pub mod grid_channels;
pub mod lattice_warp;
pub mod light;
pub mod orientation;
pub mod sheet;
