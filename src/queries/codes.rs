//! The closed sets of basin names and category codes, and their spellings.

use crate::error::{Error, Result};

use super::input::shown;

/// A basin as stored (`North Atlantic`), whatever the case it was typed in.
pub fn basin_name(text: &str) -> String {
    text.split_whitespace()
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_uppercase()
                    .chain(chars.flat_map(char::to_lowercase))
                    .collect()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A category code as stored (`H5`, `TS`), whatever the case it was typed in.
pub fn cat_code(text: &str) -> String {
    text.trim().to_uppercase()
}

/// The ocean basins of the `basins` table (migration 000006), each with the ATCF id
/// prefixes that stand for it. Filters take a name or a prefix in any case and refuse
/// anything else, rather than answer it with nothing. `tests/analyst_schema.rs` checks
/// this list against the table.
pub const BASINS: [(&str, &[&str]); 2] = [
    ("North Atlantic", &["AL"]),
    ("Eastern Pacific", &["EP", "CP"]),
];

/// The category codes of the `categories` table (migration 000006), in code order.
/// `tests/analyst_schema.rs` checks this list against the table.
pub const CATEGORIES: [&str; 16] = [
    "DB", "E", "ET", "H1", "H2", "H3", "H4", "H5", "L", "PT", "SD", "SS", "ST", "TD", "TS", "W",
];

/// The basin `text` names, as stored: a basin name or an ATCF prefix, in any case
/// (`north atlantic`, `AL`, `cp`). [`Error::InvalidInput`] naming what is accepted
/// for anything else.
pub fn basin(text: &str) -> Result<&'static str> {
    let (name, code) = (basin_name(text), text.trim());
    BASINS
        .iter()
        .find(|(b, codes)| *b == name || codes.iter().any(|c| c.eq_ignore_ascii_case(code)))
        .map(|(b, _)| *b)
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "basin \"{}\": expected North Atlantic or Eastern Pacific, or AL, EP or CP (any case)",
                shown(text)
            ))
        })
}

/// The category code `text` names, as stored (`h5` is `H5`). [`Error::InvalidInput`]
/// listing the codes for anything else.
pub fn category(text: &str) -> Result<&'static str> {
    let code = cat_code(text);
    CATEGORIES
        .iter()
        .find(|c| **c == code)
        .copied()
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "cat \"{}\": expected one of {} (any case; see the categories table)",
                shown(text),
                CATEGORIES.join(", ")
            ))
        })
}
