//! Layout templates: the arrangements of the twelve leads that printers use,
//! as data, and the choice of the one a page shows.
//!
//! The shipped library is `configs/layouts/standard.toml` (3x4 and 6x2 in
//! standard and Cabrera order, 12x1 in both orders, 6x1 limb or chest, 3x2
//! limb or chest, each with the number of rhythm strips it may carry); a
//! user adds their printer's layouts with `layout_detect.templates`, a TOML
//! file of the same form whose templates are tried first.
//!
//! A page's rows are matched to a template by their **lead separators**:
//! printers mark where one lead's window ends and the next begins with a
//! short vertical bar (or a gap, or a tick). At each fifth of the columns
//! that 2-, 3- and 4-column rows would split at (1/4, 1/3, 1/2, 2/3, 3/4 of
//! the page time) a row is probed for such a bar ([`Shape`]). Each template
//! with as many rows as the page (its short rows plus an allowed number of
//! strips) predicts which probes hit. The *prior* is the fitting template
//! with the fewest strips, the first listed on a tie, so that 4 rows read
//! as 3x4 and a strip, 6 as 6x2 and 12 as 12x1; it is what a page with
//! fewer than two probes hit (a printer that marks nothing) gets. Otherwise
//! the template whose prediction is most likely (a printed bar seen with
//! the page's own chance, see [`P_SEEN`], and a wave taken for one at
//! [`P_FALSE`]) replaces the prior when it explains the probes
//! [`MIN_EVIDENCE`] better.

use ecgdig_core::prelude::*;
use serde::Deserialize;
use std::sync::OnceLock;

/// The shipped template library.
pub const STANDARD_TOML: &str = include_str!("../../../configs/layouts/standard.toml");

/// Fractions of the page time where a 2-, 3- or 4-column row has a
/// separator.
pub const PROBES: [f32; 5] = [0.25, 1.0 / 3.0, 0.5, 2.0 / 3.0, 0.75];
/// Bounds of the chance that a printed separator is seen (fitted per page
/// and template: thin grey bars of coarse pages are often missed, while a
/// wave is seldom taken for one at the very place a separator would be).
pub const P_SEEN: (f64, f64) = (0.05, 0.95);
/// Chance that a wave is taken for a separator where none is printed.
pub const P_FALSE: f64 = 0.1;
/// A template other than the prior must explain the separators this much
/// better (natural log of the likelihood ratio, about 20 times).
pub const MIN_EVIDENCE: f64 = 3.0;

/// One arrangement of leads.
#[derive(Clone, Debug, PartialEq)]
pub struct LayoutTemplate {
    pub name: String,
    /// What the JSON reports as the layout's kind without rhythm strips.
    pub kind: LayoutKind,
    /// The short rows, top to bottom: each lead with `true` where it is
    /// printed inverted (`-aVR`).
    pub rows: Vec<Vec<(Lead, bool)>>,
    /// Fewest and most rhythm strips below the short rows.
    pub rhythm_strips: (usize, usize),
    /// Names given to the strips, top to bottom, before `rhythm_leads`
    /// checks them against the short panels (II past the list's end).
    pub rhythm_leads: Vec<Lead>,
}

impl LayoutTemplate {
    /// The page's kind with `strips` rhythm strips.
    pub fn kind_with(&self, strips: usize) -> LayoutKind {
        match (self.kind, strips) {
            (k, 0) => k,
            (LayoutKind::ThreeByFour, 1) => LayoutKind::ThreeByFourRhythm,
            _ => LayoutKind::Other,
        }
    }

    /// The lead of the `k`-th strip.
    pub fn strip_lead(&self, k: usize) -> Lead {
        self.rhythm_leads.get(k).copied().unwrap_or(Lead::II)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLibrary {
    template: Vec<RawTemplate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    name: String,
    #[serde(default)]
    kind: Option<String>,
    rows: Vec<Vec<String>>,
    #[serde(default)]
    rhythm_strips: [usize; 2],
    #[serde(default)]
    rhythm_leads: Vec<String>,
}

/// Parses a template library; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<Vec<LayoutTemplate>> {
    let raw: RawLibrary = toml::from_str(text)
        .map_err(|e| Error::stage(format!("layout templates {origin}: {e}")))?;
    let bad = |name: &str, what: String| {
        Error::stage(format!(
            "layout templates {origin}: template `{name}`: {what}"
        ))
    };
    let lead = |name: &str, s: &str| -> Result<(Lead, bool)> {
        let (inv, plain) = match s.trim().strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.trim()),
        };
        Lead::from_name(plain).map(|l| (l, inv)).ok_or_else(|| {
            bad(
                name,
                format!("unknown lead `{s}` (I, II, III, aVR, aVL, aVF, V1..V6, or -aVR)"),
            )
        })
    };
    raw.template
        .into_iter()
        .map(|t| {
            let kind = match t.kind.as_deref().unwrap_or("other") {
                "three_by_four" => LayoutKind::ThreeByFour,
                "six_by_two" => LayoutKind::SixByTwo,
                "twelve_by_one" => LayoutKind::TwelveByOne,
                "other" => LayoutKind::Other,
                k => {
                    return Err(bad(
                        &t.name,
                        format!(
                            "unknown kind `{k}` (three_by_four, six_by_two, twelve_by_one, other)"
                        ),
                    ))
                }
            };
            if t.rows.is_empty() || t.rows.iter().any(|r| r.is_empty()) {
                return Err(bad(&t.name, "every row needs at least one lead".into()));
            }
            if let Some(r) = t.rows.iter().find(|r| r.len() > 6) {
                return Err(bad(
                    &t.name,
                    format!("a row of {} columns (at most 6)", r.len()),
                ));
            }
            if t.rhythm_strips[0] > t.rhythm_strips[1] {
                return Err(bad(&t.name, "rhythm_strips is [fewest, most]".into()));
            }
            let rows = t
                .rows
                .iter()
                .map(|r| r.iter().map(|s| lead(&t.name, s)).collect())
                .collect::<Result<Vec<Vec<_>>>>()?;
            let rhythm_leads = t
                .rhythm_leads
                .iter()
                .map(|s| lead(&t.name, s).map(|l| l.0))
                .collect::<Result<Vec<_>>>()?;
            Ok(LayoutTemplate {
                name: t.name,
                kind,
                rows,
                rhythm_strips: (t.rhythm_strips[0], t.rhythm_strips[1]),
                rhythm_leads,
            })
        })
        .collect()
}

/// Reads a user's template library (a small regular TOML file).
pub fn load_file(path: &std::path::Path) -> Result<Vec<LayoutTemplate>> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::stage(format!("layout templates {}: {e}", path.display())))?;
    if !meta.is_file() || meta.len() > 1 << 20 {
        return Err(Error::stage(format!(
            "layout templates {}: not a regular file of at most 1 MiB",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::stage(format!("layout templates {}: {e}", path.display())))?;
    parse(&text, &path.display().to_string())
}

/// The shipped library, parsed once.
pub fn standard() -> &'static [LayoutTemplate] {
    static LIB: OnceLock<Vec<LayoutTemplate>> = OnceLock::new();
    LIB.get_or_init(|| {
        // the shipped file is checked by a unit test; a broken one leaves
        // layouts to the fallback instead of failing every page
        parse(STANDARD_TOML, "configs/layouts/standard.toml").unwrap_or_default()
    })
}

/// Which separator probes ([`PROBES`]) hit on one row.
pub type Shape = [bool; 5];

/// The separator probes a row of `columns` columns hits.
pub fn expected_shape(columns: usize) -> Shape {
    let mut s = [false; 5];
    for k in 1..columns {
        let f = k as f32 / columns as f32;
        if let Some(i) = PROBES.iter().position(|p| (p - f).abs() < 1e-3) {
            s[i] = true;
        }
    }
    s
}

/// The templates that a page of `n` rows can show, each with its number of
/// strips, in the library's order.
pub fn fitting(templates: &[LayoutTemplate], n: usize) -> Vec<(&LayoutTemplate, usize)> {
    templates
        .iter()
        .filter(|t| n >= t.rows.len())
        .map(|t| (t, n - t.rows.len()))
        .filter(|(t, strips)| (t.rhythm_strips.0..=t.rhythm_strips.1).contains(strips))
        .collect()
}

/// The best template for rows of the observed `shapes` (top to bottom),
/// with its number of strips; `None` when no template has as many rows.
pub fn choose<'a>(
    templates: &'a [LayoutTemplate],
    shapes: &[Shape],
) -> Option<(&'a LayoutTemplate, usize)> {
    let fitting = fitting(templates, shapes.len());
    // the prior: fewest strips, the first listed on a tie
    let prior = *fitting.iter().min_by_key(|(_, strips)| *strips)?;
    let hits = shapes.iter().flatten().filter(|&&h| h).count();
    if hits < 2 {
        return Some(prior);
    }
    let mut best = (log_likelihood(prior.0, shapes), prior);
    for &(t, strips) in &fitting {
        let ll = log_likelihood(t, shapes);
        if ll > best.0 + 1e-9 {
            best = (ll, (t, strips));
        }
    }
    // leave the prior only on clear evidence
    if best.0 > log_likelihood(prior.0, shapes) + MIN_EVIDENCE {
        Some(best.1)
    } else {
        Some(prior)
    }
}

/// Log-likelihood of the separators seen if the page were `t` (rows past
/// its short rows are strips, which have none). How often a printed
/// separator is seen depends on the page (thin grey bars on a coarse scan
/// are mostly missed), so that chance is the page's own under `t`: the share
/// of `t`'s separators that were seen, within [`P_SEEN`].
fn log_likelihood(t: &LayoutTemplate, shapes: &[Shape]) -> f64 {
    let (mut expected, mut seen, mut stray, mut quiet) = (0usize, 0usize, 0usize, 0usize);
    for (i, probes) in shapes.iter().enumerate() {
        let want = expected_shape(t.rows.get(i).map_or(1, |r| r.len()));
        for (&s, w) in probes.iter().zip(want) {
            match (w, s) {
                (true, true) => {
                    expected += 1;
                    seen += 1;
                }
                (true, false) => expected += 1,
                (false, true) => stray += 1,
                (false, false) => quiet += 1,
            }
        }
    }
    let mut ll = stray as f64 * P_FALSE.ln() + quiet as f64 * (1.0 - P_FALSE).ln();
    if expected > 0 {
        let p = (seen as f64 / expected as f64).clamp(P_SEEN.0, P_SEEN.1);
        ll += seen as f64 * p.ln() + (expected - seen) as f64 * (1.0 - p).ln();
    }
    ll
}

#[cfg(test)]
#[path = "templates_tests.rs"]
mod tests;
