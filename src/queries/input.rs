//! Input as analysts type it: times, name patterns, ranges; and values quoted back.

use chrono::{DateTime, TimeZone, Utc};

use crate::error::{Error, Result};

/// A time as analysts write it: RFC 3339 (`2005-08-29T11:10:00Z`) or a plain date
/// (`2005-08-25`, meaning 00:00 UTC that day).
pub fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(t) {
        return Ok(time.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc())
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "time \"{t}\": expected a date such as 2005-08-25 or an RFC 3339 time such as \
                 2005-08-29T11:10:00Z"
            ))
        })
}

/// Longest name pattern a search accepts: an `ILIKE` pattern costs time with its
/// length on every row it is matched against.
pub const MAX_PATTERN_CHARS: usize = 64;

/// Turns a user pattern into ILIKE: `*` -> `%`, `?` -> `_`, and `%`, `_`, `\`
/// taken literally.
pub(super) fn like_pattern(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    for c in name.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

pub(super) fn year_start(year: i32) -> Result<DateTime<Utc>> {
    Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0)
        .single()
        .filter(|_| (1..=9998).contains(&year))
        .ok_or_else(|| Error::InvalidInput(format!("year \"{year}\": expected 1 to 9998")))
}

pub(super) fn check_range<T: PartialOrd + std::fmt::Display>(
    what: &str,
    lo: &Option<T>,
    hi: &Option<T>,
) -> Result<()> {
    if let (Some(lo), Some(hi)) = (lo, hi) {
        if lo > hi {
            return Err(Error::InvalidInput(format!(
                "{what}: lower bound {lo} is above upper bound {hi}"
            )));
        }
    }
    Ok(())
}
