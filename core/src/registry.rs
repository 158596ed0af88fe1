//! The catalogue of registered stage types (filled by [`crate::register_stage!`]).
//!
//! A stage crate that is only *listed* as a dependency is dropped by the linker
//! together with its registrations: a binary or test that needs its stages
//! must reference it, e.g. `use ecgdig_stages as _;`.

use crate::stage::StageRegistration;

/// All registered stages, sorted by type name.
pub fn all() -> Vec<&'static StageRegistration> {
    let mut v: Vec<_> = inventory::iter::<StageRegistration>.into_iter().collect();
    v.sort_by_key(|r| r.type_name);
    v
}

/// The registration for a `type` name.
pub fn find(type_name: &str) -> Option<&'static StageRegistration> {
    inventory::iter::<StageRegistration>
        .into_iter()
        .find(|r| r.type_name == type_name)
}

/// Registered type names, sorted.
pub fn names() -> Vec<&'static str> {
    all().into_iter().map(|r| r.type_name).collect()
}

/// The parameters of a stage type with their default values (as TOML values),
/// in declaration order.
pub fn default_params(reg: &StageRegistration) -> toml::Table {
    let cfg = (reg.default_config)();
    match toml::Value::try_from(&cfg) {
        Ok(toml::Value::Table(mut t)) => {
            t.remove("type");
            t
        }
        _ => toml::Table::new(),
    }
}

/// The closest candidate to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(&str, f64)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&word.to_lowercase(), &c.to_lowercase());
        let lev = strsim::levenshtein(word, c);
        let close = score > 0.8 || lev <= 2 || (word.len() > 3 && c.contains(word));
        if close && best.is_none_or(|(_, s)| score > s) {
            best = Some((c, score));
        }
    }
    best.map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["grid_scale", "trace_viterbi", "einthoven"];
        assert_eq!(did_you_mean("grid_scal", names), Some("grid_scale"));
        assert_eq!(did_you_mean("einthofen", names), Some("einthoven"));
        assert_eq!(did_you_mean("zzz", names), None);
    }
}
