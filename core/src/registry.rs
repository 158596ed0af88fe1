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
            for (_, v) in t.iter_mut() {
                shortest_floats(v);
            }
            t
        }
        _ => toml::Table::new(),
    }
}

/// Rewrites floats that are exactly an `f32` as that `f32`'s shortest
/// decimal form: an `f32` default of 0.3 serializes through `f64` as
/// 0.30000001192092896, which reads back as the same `f32` as 0.3 does, so
/// `ecgdig stages` and `pipeline.resolved.toml` show `0.3`.
pub fn shortest_floats(v: &mut toml::Value) {
    match v {
        toml::Value::Float(f) => {
            let single = *f as f32;
            if single.is_finite() && single as f64 == *f {
                if let Ok(short) = single.to_string().parse::<f64>() {
                    *f = short;
                }
            }
        }
        toml::Value::Table(t) => t.iter_mut().for_each(|(_, v)| shortest_floats(v)),
        toml::Value::Array(a) => a.iter_mut().for_each(shortest_floats),
        _ => {}
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
    fn f32_floats_print_as_written() {
        let mut v = toml::Value::try_from(vec![0.3f32, 0.05, 7.874, 2.0]).unwrap();
        shortest_floats(&mut v);
        assert_eq!(v.to_string(), "[0.3, 0.05, 7.874, 2.0]");
        let mut exact = toml::Value::Float(0.1f64);
        shortest_floats(&mut exact);
        assert_eq!(exact.as_float(), Some(0.1));
        let back: f32 = toml::Value::Float(0.3).try_into().unwrap();
        assert_eq!(back, 0.3f32);
    }

    #[test]
    fn suggests_close_names_only() {
        let names = ["grid_scale", "trace_viterbi", "einthoven"];
        assert_eq!(did_you_mean("grid_scal", names), Some("grid_scale"));
        assert_eq!(did_you_mean("einthofen", names), Some("einthoven"));
        assert_eq!(did_you_mean("zzz", names), None);
    }
}
