//! Configs embedded in the binary, reachable as `extends = "builtin:<name>"`.

/// The default pipeline (`configs/default.toml`).
pub const DEFAULT: &str = include_str!("../../configs/default.toml");

/// `(name, text)` of every embedded config.
pub fn builtins() -> Vec<(String, String)> {
    vec![("default".to_string(), DEFAULT.to_string())]
}
