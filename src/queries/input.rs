//! Input as analysts type it: times, name patterns, ranges; and values quoted back.

use bigdecimal::BigDecimal;
use chrono::{DateTime, TimeZone, Utc};

use crate::error::{Error, Result};
use crate::models::{check_text, decimal_problem, short, DECIMAL_SCALE};

use super::page::{DEFAULT_LIMIT, MAX_LIMIT};

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

/// A name pattern: no NUL byte, at most [`MAX_PATTERN_CHARS`].
pub(super) fn check_pattern(name: &str) -> Result<()> {
    check_text("name", name, MAX_PATTERN_CHARS)
}

/// The page size `limit` asks for (the default when absent), 1 to [`MAX_LIMIT`].
pub(super) fn page_size(limit: Option<i64>) -> Result<i64> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::InvalidInput(format!(
            "limit \"{limit}\": expected 1 to {MAX_LIMIT}"
        )));
    }
    Ok(limit)
}

/// A coordinate given as a search bound (`lat_min`, `lon_max`, ...): the same range and
/// decimals as the stored column, so no bound makes PostgreSQL compare every row with
/// a number of 131,000 digits, nor sends it a scale it cannot take (`1e-16384`).
pub(super) fn check_degrees(field: &str, value: &BigDecimal, lo: i64, hi: i64) -> Result<()> {
    match decimal_problem(value, lo, hi) {
        None => Ok(()),
        Some(_) => Err(Error::InvalidInput(format!(
            "{field} {}: expected degrees from {lo} to {hi} with at most {DECIMAL_SCALE} decimals",
            short(value)
        ))),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::check_decimal;
    use std::str::FromStr;

    #[test]
    fn extreme_decimals_are_refused_at_once() {
        for text in [
            "1e131000",
            "-1e131000",
            "1e-16384",
            "-1e-16384",
            "5e-16390",
            "1e-999999999",
            "1e999999999",
            "90.0000001",
            "90.000001",
            "-90.5",
        ] {
            let value = BigDecimal::from_str(text).unwrap();
            let started = std::time::Instant::now();
            let err = check_degrees("lat_min", &value, -90, 90).unwrap_err();
            let took = started.elapsed();
            println!("{text}: {err} in {took:?}");
            assert!(
                took < std::time::Duration::from_millis(50),
                "{text}: {took:?}"
            );
            assert!(
                err.to_string()
                    .contains("expected degrees from -90 to 90 with at most 6 decimals"),
                "{err}"
            );
        }
        for text in ["90", "-90", "25.123456", "25.5000000000", "0", "-0.000001"] {
            let value = BigDecimal::from_str(text).unwrap();
            check_degrees("lat_min", &value, -90, 90).unwrap();
            check_decimal("lat", &value, -90, 90).unwrap();
        }
        let value = BigDecimal::from_str("1e-16384").unwrap();
        assert!(check_decimal("lat", &value, -90, 90)
            .unwrap_err()
            .to_string()
            .contains("at most 6 decimals"));
    }
}
