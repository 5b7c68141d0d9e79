//! IHW CSV rows to validated observations, with an exact reason for every rejection.
//!
//! Nothing here allocates per row on the good path: fields are borrowed from the csv
//! crate's record buffer and numbers are checked as text, so decimals reach PostgreSQL
//! exactly as written (no float on the way).

use chrono::{Datelike, NaiveDate};

pub(crate) use crate::error::RowError;

/// The IHW header, in order.
pub const HEADER: [&str; 14] = [
    "FID",
    "YEAR",
    "MONTH",
    "DAY",
    "AD_TIME",
    "BTID",
    "NAME",
    "LAT",
    "LONG",
    "WIND_KTS",
    "PRESSURE",
    "CAT",
    "BASIN",
    "Shape_Leng",
];

/// A decimal as written in the file, checked to fit its column exactly.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decimal<'a> {
    pub negative: bool,
    /// Digits before the point, without leading zeros (may be empty).
    pub int: &'a [u8],
    /// Digits after the point, without trailing zeros (may be empty).
    pub frac: &'a [u8],
    /// The text as written.
    pub text: &'a [u8],
}

/// One validated observation, borrowing its text from the record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Observation<'a> {
    pub fid: i32,
    pub date: NaiveDate,
    pub hour: u32,
    pub minute: u32,
    pub btid: i16,
    pub name: &'a str,
    pub lat: Decimal<'a>,
    pub long: Decimal<'a>,
    pub wind_kts: i16,
    pub pressure: Option<i16>,
    pub cat: &'a str,
    pub basin: &'a str,
    pub shape_length: Decimal<'a>,
}

/// The closed sets CAT and BASIN draw from, read from the database at the start of
/// a load (the `categories` and `basins` tables), so the database stays the
/// authority and the loader refuses an unknown code at its line, before COPY.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Codes {
    /// `categories.code`, sorted.
    pub cats: Vec<String>,
    /// `basins.name`, sorted.
    pub basins: Vec<String>,
}

impl Codes {
    /// Checks CAT and BASIN of a parsed row. Codes are compared exactly: the IHW
    /// file writes them upper case, and a `h5` is refused (with a hint), not guessed.
    pub(crate) fn check(
        &self,
        line: u64,
        record: &csv::ByteRecord,
        o: &Observation<'_>,
    ) -> Result<(), RowError> {
        for (column, index, value, set, table) in [
            ("CAT", 11, o.cat, &self.cats, "categories"),
            ("BASIN", 12, o.basin, &self.basins, "basins"),
        ] {
            if set.binary_search_by(|c| c.as_str().cmp(value)).is_err() {
                let mut expected = format!("expected one of {} (the {table} table", set.join(", "));
                if let Some(near) = set.iter().find(|c| c.eq_ignore_ascii_case(value.trim())) {
                    expected.push_str(&format!("; codes are case-sensitive: \"{near}\"?"));
                }
                expected.push(')');
                return Err(RowError::field(line, column, &record[index], expected));
            }
        }
        Ok(())
    }
}

/// Checks the header line (after a BOM was stripped): names first, so a misspelt
/// column is named even when the count is also off.
pub(crate) fn check_header(fields: &[&[u8]]) -> Result<(), RowError> {
    let header = HEADER.join(",");
    for (i, (got, expected)) in fields.iter().zip(HEADER).enumerate() {
        if trim(got) != expected.as_bytes() {
            return Err(RowError::line(
                1,
                format!(
                    "header column {} is \"{}\", expected \"{expected}\" (the header must be {header})",
                    i + 1,
                    String::from_utf8_lossy(got),
                ),
            ));
        }
    }
    if fields.len() != HEADER.len() {
        return Err(RowError::line(
            1,
            format!(
                "header has {} columns, expected {}: {header}",
                fields.len(),
                HEADER.len()
            ),
        ));
    }
    Ok(())
}

/// Validates one data line.
pub(crate) fn parse_record(
    line: u64,
    record: &csv::ByteRecord,
) -> Result<Observation<'_>, RowError> {
    if record.len() != HEADER.len() {
        return Err(RowError::line(
            line,
            format!("expected {} columns, found {}", HEADER.len(), record.len()),
        ));
    }
    let f: [&[u8]; 14] = std::array::from_fn(|i| &record[i]);
    parse_row(line, &f)
}

fn parse_row<'a>(line: u64, f: &[&'a [u8]; 14]) -> Result<Observation<'a>, RowError> {
    let fid = int_in(line, "FID", f[0], 1, i32::MAX as i64)? as i32;
    let year = int_in(line, "YEAR", f[1], 1, 9999)? as i32;
    let month = int_in(line, "MONTH", f[2], 1, 12)? as u32;
    let day_value = int_in(line, "DAY", f[3], 1, 31)? as u32;
    let date = NaiveDate::from_ymd_opt(year, month, day_value).ok_or_else(|| {
        RowError::field(
            line,
            "DAY",
            f[3],
            format!(
                "{year:04}-{month:02} has {} days",
                days_in_month(year, month)
            ),
        )
    })?;
    let (hour, minute) = ad_time(line, f[4])?;
    let btid = int_in(line, "BTID", f[5], 1, i16::MAX as i64)? as i16;
    let name = text(line, "NAME", f[6], crate::models::MAX_NAME_CHARS)?;
    let lat = decimal(line, "LAT", f[7], Bound::UpTo(90))?;
    let long = decimal(line, "LONG", f[8], Bound::UpTo(180))?;
    let wind_kts = int_in(line, "WIND_KTS", f[9], 0, i16::MAX as i64)? as i16;
    let pressure = match trim(f[10]) {
        b"0" => None,
        _ => Some(
            int_in(line, "PRESSURE", f[10], 800, 1100).map_err(|e| RowError {
                expected: "expected 0 (not measured) or millibars from 800 to 1100".into(),
                ..e
            })? as i16,
        ),
    };
    let cat = text(line, "CAT", f[11], 2)?;
    let basin = text(line, "BASIN", f[12], 16)?;
    let shape_length = decimal(line, "Shape_Leng", f[13], Bound::Below(100))?;
    if shape_length.negative && !is_zero(&shape_length) {
        return Err(RowError::field(
            line,
            "Shape_Leng",
            f[13],
            "expected a distance from 0 to below 100 degrees with at most 6 decimals",
        ));
    }
    Ok(Observation {
        fid,
        date,
        hour,
        minute,
        btid,
        name,
        lat,
        long,
        wind_kts,
        pressure,
        cat,
        basin,
        shape_length,
    })
}

pub(super) fn days_in_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(ny, nm, 1)
        .and_then(|d| d.pred_opt())
        .map_or(31, |d| d.day())
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

pub(super) fn int_in(
    line: u64,
    column: &'static str,
    raw: &[u8],
    min: i64,
    max: i64,
) -> Result<i64, RowError> {
    let s = trim(raw);
    let expected = || format!("expected a whole number from {min} to {max}");
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(RowError::field(line, column, raw, expected()));
    }
    let mut value: i64 = 0;
    for d in digits {
        value = value * 10 + i64::from(d - b'0');
    }
    if s.len() != digits.len() {
        value = -value;
    }
    if value < min || value > max {
        return Err(RowError::field(line, column, raw, expected()));
    }
    Ok(value)
}

fn ad_time(line: u64, raw: &[u8]) -> Result<(u32, u32), RowError> {
    let s = trim(raw);
    let bad = || {
        RowError::field(
            line,
            "AD_TIME",
            raw,
            "expected HHMMZ, hour 00-23 and minute 00-59 (e.g. 1800Z)",
        )
    };
    if s.len() != 5 || s[4] != b'Z' || !s[..4].iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let hour = u32::from((s[0] - b'0') * 10 + (s[1] - b'0'));
    let minute = u32::from((s[2] - b'0') * 10 + (s[3] - b'0'));
    if hour > 23 || minute > 59 {
        return Err(bad());
    }
    Ok((hour, minute))
}

pub(super) fn text<'a>(
    line: u64,
    column: &'static str,
    raw: &'a [u8],
    max_chars: usize,
) -> Result<&'a str, RowError> {
    let s = std::str::from_utf8(raw).map_err(|e| {
        RowError::field(
            line,
            column,
            raw,
            format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1),
        )
    })?;
    if s.is_empty() {
        return Err(RowError::field(
            line,
            column,
            raw,
            "expected a non-empty value",
        ));
    }
    if max_chars != usize::MAX && s.chars().count() > max_chars {
        return Err(RowError::field(
            line,
            column,
            raw,
            format!("expected at most {max_chars} characters"),
        ));
    }
    if s.contains('\0') {
        return Err(RowError::field(
            line,
            column,
            raw,
            "expected no NUL characters",
        ));
    }
    Ok(s)
}

/// How large a decimal's magnitude may be.
#[derive(Clone, Copy)]
pub(super) enum Bound {
    /// |value| <= n (the table's CHECK range).
    UpTo(u64),
    /// |value| < n (the column's precision).
    Below(u64),
}

/// A decimal within its bound with at most 6 digits after the point (the columns
/// are numeric(p,6): more digits would be rounded, and not stay exact).
pub(super) fn decimal<'a>(
    line: u64,
    column: &'static str,
    raw: &'a [u8],
    bound: Bound,
) -> Result<Decimal<'a>, RowError> {
    let s = trim(raw);
    let range = || match bound {
        Bound::UpTo(n) => format!("expected a decimal from -{n} to {n} with at most 6 decimals"),
        Bound::Below(n) => {
            format!("expected a decimal from 0 to below {n} with at most 6 decimals")
        }
    };
    let (negative, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = match body.iter().position(|&b| b == b'.') {
        Some(dot) => (&body[..dot], &body[dot + 1..]),
        None => (body, &body[body.len()..]),
    };
    if (int.is_empty() && frac.is_empty())
        || !int.iter().all(u8::is_ascii_digit)
        || !frac.iter().all(u8::is_ascii_digit)
    {
        return Err(RowError::field(line, column, raw, range()));
    }
    let int = &int[int.iter().position(|&b| b != b'0').unwrap_or(int.len())..];
    let frac = &frac[..frac.iter().rposition(|&b| b != b'0').map_or(0, |p| p + 1)];
    if frac.len() > 6 {
        return Err(RowError::field(
            line,
            column,
            raw,
            "expected at most 6 digits after the decimal point",
        ));
    }
    // Compare |value| with limit: integer part above it, or equal to it with a fraction.
    let int_value = if int.len() > 9 {
        u64::MAX
    } else {
        int.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0'))
    };
    let too_big = match bound {
        Bound::UpTo(n) => int_value > n || (int_value == n && !frac.is_empty()),
        Bound::Below(n) => int_value >= n,
    };
    if too_big {
        return Err(RowError::field(line, column, raw, range()));
    }
    Ok(Decimal {
        negative,
        int,
        frac,
        text: s,
    })
}

fn is_zero(d: &Decimal<'_>) -> bool {
    d.int.is_empty() && d.frac.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_row_parses() {
        let record = csv::ByteRecord::from(
            "1,1851,6,25,0000Z,1,NOTNAMED,28.0,-94.8,80,0,H1,North Atlantic,0.600000"
                .split(',')
                .collect::<Vec<_>>(),
        );
        let o = parse_record(2, &record).unwrap();
        assert_eq!(o.fid, 1);
        assert_eq!(o.pressure, None);
        assert_eq!(o.long.text, b"-94.8");
        assert_eq!(o.shape_length.frac, b"6");
    }

    #[test]
    fn decimals_are_checked_as_text() {
        let lat = Bound::UpTo(90);
        assert!(decimal(1, "LAT", b"90", lat).is_ok());
        assert!(decimal(1, "LAT", b"90.000000", lat).is_ok());
        assert!(decimal(1, "LAT", b"90.0000001", lat).is_err());
        assert!(decimal(1, "LAT", b"90.1", lat).is_err());
        assert!(decimal(1, "LAT", b"1e5", lat).is_err());
        assert!(decimal(1, "LAT", b".5", lat).is_ok());
        assert!(decimal(1, "LAT", b"-", lat).is_err());
        assert!(decimal(1, "LAT", b"1.1234567", lat).is_err());
        assert!(decimal(1, "Shape_Leng", b"99.999999", Bound::Below(100)).is_ok());
        assert!(decimal(1, "Shape_Leng", b"100", Bound::Below(100)).is_err());
    }
}
