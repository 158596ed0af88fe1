//! Synthetic ECGs and page rendering (see the crate README).
