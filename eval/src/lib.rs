//! Signal I/O and metrics.
