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
pub(crate) fn like_pattern(name: &str) -> String {
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

/// Years a filter may name: the IHW record starts in 1851 and no filter needs more than
/// this (also the bound of the storm explorer's forms). Outside, a plain-language 422.
pub const YEARS: std::ops::RangeInclusive<i32> = 1800..=2100;

/// Strongest wind a filter may name, knots (the record is 190 kt).
pub const MAX_WIND_KTS: i16 = 300;

/// Refuses a year outside [`YEARS`], saying what is accepted.
pub fn check_year(field: &str, year: Option<i32>) -> Result<()> {
    match year {
        Some(y) if !YEARS.contains(&y) => Err(Error::InvalidInput(format!(
            "{field} {y}: expected a year from {} to {}",
            YEARS.start(),
            YEARS.end()
        ))),
        _ => Ok(()),
    }
}

/// Refuses a negative or impossible wind speed, saying what is accepted.
pub fn check_wind(field: &str, wind: Option<i16>) -> Result<()> {
    match wind {
        Some(w) if w < 0 => Err(Error::InvalidInput(format!(
            "{field} {w}: a wind speed cannot be negative; expected 0 to {MAX_WIND_KTS} kt"
        ))),
        Some(w) if w > MAX_WIND_KTS => Err(Error::InvalidInput(format!(
            "{field} {w}: expected 0 to {MAX_WIND_KTS} kt"
        ))),
        _ => Ok(()),
    }
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
