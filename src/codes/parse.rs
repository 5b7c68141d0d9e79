//! Codes as people type them: any case, and ATCF prefixes for basins. `FromStr` says
//! what is accepted when nothing matches.

use std::str::FromStr;

use super::{Basin, Category};
use crate::error::Error;

/// The category `text` names, in any case, surrounding space ignored.
pub(super) fn category(text: &str) -> Option<Category> {
    let code = text.trim().to_ascii_uppercase();
    Category::from_code(&code)
}

/// The basin `text` names: a name in any case and spacing, or an ATCF prefix.
pub(super) fn basin(text: &str) -> Option<Basin> {
    let name = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let code = text.trim();
    Basin::ALL.into_iter().find(|b| {
        b.name().eq_ignore_ascii_case(&name)
            || b.atcf_prefixes()
                .iter()
                .any(|p| p.eq_ignore_ascii_case(code))
    })
}

pub(super) fn category_expected(text: &str) -> String {
    format!(
        "cat \"{}\": expected one of {} (any case; see the categories table)",
        shown(text),
        Category::codes().collect::<Vec<_>>().join(", ")
    )
}

pub(super) fn basin_expected(text: &str) -> String {
    let names: Vec<&str> = Basin::names().collect();
    let prefixes: Vec<&str> = Basin::ALL
        .iter()
        .flat_map(|b| b.atcf_prefixes().iter().copied())
        .collect();
    format!(
        "basin \"{}\": expected {}, or {} (any case)",
        shown(text),
        names.join(" or "),
        or_list(&prefixes)
    )
}

/// `AL, EP or CP`.
fn or_list(items: &[&str]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => items.join(""),
    }
}

/// A value as quoted back in an error message: at most 40 characters.
pub(crate) fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        out.push_str("...");
    }
    out
}

impl FromStr for Category {
    type Err = Error;

    /// `h5`, ` TS `: [`Error::InvalidInput`] listing the codes for anything else.
    fn from_str(text: &str) -> Result<Self, Error> {
        category(text).ok_or_else(|| Error::InvalidInput(category_expected(text)))
    }
}

impl FromStr for Basin {
    type Err = Error;

    /// `north atlantic`, `AL`, `cp`: [`Error::InvalidInput`] naming what is accepted
    /// for anything else.
    fn from_str(text: &str) -> Result<Self, Error> {
        basin(text).ok_or_else(|| Error::InvalidInput(basin_expected(text)))
    }
}
