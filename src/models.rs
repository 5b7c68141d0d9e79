//! Rust types for rows of `hurricanes` (read, insert and partial update), of the
//! derived `storms` summary and of the reference tables `categories` and `basins`.

use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::codes::{Basin, Category};
use crate::decimal::ExactDecimal;
use crate::error::{Error, Result};
use crate::schema::{basins, categories, hurricanes, storms};

/// One observation as stored. Numerics stay exact `BigDecimal`s (1.140175 stays
/// 1.140175); `pressure` is `None` when it was not measured.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = hurricanes, primary_key(fid), check_for_backend(diesel::pg::Pg))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hurricane {
    /// IHW feature ID (`FID`), the primary key; it cannot be changed once stored.
    pub fid: i32,
    /// Time of the observation, UTC (the file's YEAR, MONTH, DAY and AD_TIME).
    pub timestamp: DateTime<Utc>,
    /// Storm ID (`BTID`): every observation of one storm shares it.
    pub btid: i16,
    /// Storm name, e.g. `KATRINA` (`NOTNAMED` in the IHW file when it has none).
    pub name: String,
    /// Latitude in decimal degrees, north positive (-90 to 90, up to 6 decimals).
    #[serde(deserialize_with = "bounded_decimal")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "25.500000"))]
    #[diesel(deserialize_as = ExactDecimal)]
    pub lat: BigDecimal,
    /// Longitude in decimal degrees, east positive (-180 to 180, up to 6 decimals).
    #[serde(deserialize_with = "bounded_decimal")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "25.500000"))]
    #[diesel(deserialize_as = ExactDecimal)]
    pub long: BigDecimal,
    /// Wind speed in knots (0 or more).
    pub wind_kts: i16,
    /// Central pressure in millibars (800 to 1100); `None` when not measured.
    pub pressure: Option<i16>,
    /// Category code: `H1`..`H5`, `TS`, `TD`, `E`, `L`, ...; one of the `categories`
    /// table. Text, so that a code added by a newer release still reads:
    /// [`Hurricane::category`] gives the [`Category`].
    pub cat: String,
    /// Ocean basin name, e.g. `North Atlantic`; one of the `basins` table
    /// ([`Hurricane::basin`] gives the [`Basin`]).
    pub basin: String,
    /// Degrees to the storm's next observation (0 at its last; `Shape_Leng`).
    #[serde(deserialize_with = "bounded_decimal")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "25.500000"))]
    #[diesel(deserialize_as = ExactDecimal)]
    pub shape_length: BigDecimal,
}

impl Hurricane {
    /// The category of [`Hurricane::cat`]; `None` for a code this crate does not know.
    pub fn category(&self) -> Option<Category> {
        Category::from_code(&self.cat)
    }

    /// The basin of [`Hurricane::basin`]; `None` for a name this crate does not know.
    pub fn basin(&self) -> Option<Basin> {
        Basin::from_name(&self.basin)
    }
}

/// A new observation. `pressure: None` is written as NULL (not measured).
#[derive(Debug, Clone, PartialEq, Insertable, Deserialize, Serialize)]
#[diesel(table_name = hurricanes, treat_none_as_default_value = false)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewHurricane {
    /// IHW feature ID (`FID`), the primary key; it cannot be changed once stored.
    pub fid: i32,
    /// Time of the observation, UTC (the file's YEAR, MONTH, DAY and AD_TIME).
    pub timestamp: DateTime<Utc>,
    /// Storm ID (`BTID`): every observation of one storm shares it.
    pub btid: i16,
    /// Storm name, e.g. `KATRINA` (`NOTNAMED` in the IHW file when it has none).
    pub name: String,
    /// Latitude in decimal degrees, north positive (-90 to 90, up to 6 decimals).
    #[serde(deserialize_with = "bounded_decimal")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "25.500000"))]
    pub lat: BigDecimal,
    /// Longitude in decimal degrees, east positive (-180 to 180, up to 6 decimals).
    #[serde(deserialize_with = "bounded_decimal")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "25.500000"))]
    pub long: BigDecimal,
    /// Wind speed in knots (0 or more).
    pub wind_kts: i16,
    /// Central pressure in millibars (800 to 1100); `None` when not measured.
    pub pressure: Option<i16>,
    /// Category code: `H1`..`H5`, `TS`, `TD`, `E`, `L`, ...; one of the `categories`
    /// table (anything else is [`Error::UnknownCode`]).
    pub cat: String,
    /// Ocean basin name, e.g. `North Atlantic`; one of the `basins` table.
    pub basin: String,
    /// Degrees to the storm's next observation (0 at its last; `Shape_Leng`).
    #[serde(deserialize_with = "bounded_decimal")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "25.500000"))]
    pub shape_length: BigDecimal,
}

/// A partial update: `None` leaves a column alone. For `pressure`, `Some(None)` sets
/// it to NULL (not measured).
#[derive(Debug, Clone, Default, PartialEq, AsChangeset, Deserialize)]
#[diesel(table_name = hurricanes)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HurricaneChanges {
    /// New time of the observation, UTC.
    pub timestamp: Option<DateTime<Utc>>,
    /// New storm ID (moves the observation to another storm).
    pub btid: Option<i16>,
    /// New storm name.
    pub name: Option<String>,
    /// New latitude in decimal degrees, north positive.
    #[serde(default, deserialize_with = "bounded_decimal_opt")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "25.500000"))]
    pub lat: Option<BigDecimal>,
    /// New longitude in decimal degrees, east positive.
    #[serde(default, deserialize_with = "bounded_decimal_opt")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "25.500000"))]
    pub long: Option<BigDecimal>,
    /// New wind speed in knots.
    pub wind_kts: Option<i16>,
    /// New central pressure in millibars; `Some(None)` for not measured.
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i16>, nullable = true))]
    pub pressure: Option<Option<i16>>,
    /// New category code (`H1`..`H5`, `TS`, ...).
    pub cat: Option<String>,
    /// New ocean basin name.
    pub basin: Option<String>,
    /// New degrees to the storm's next observation.
    #[serde(default, deserialize_with = "bounded_decimal_opt")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "25.500000"))]
    pub shape_length: Option<BigDecimal>,
}

impl HurricaneChanges {
    /// True when the changeset would change nothing (Diesel refuses an empty SET).
    pub fn is_empty(&self) -> bool {
        *self == HurricaneChanges::default()
    }

    /// Checks, before anything is sent, that the changeset changes something and that
    /// every given value fits the column it goes to: text without NUL bytes and within
    /// its length, decimals within their range and number of decimals.
    /// [`Error::InvalidInput`] names the field.
    pub fn validate(&self) -> Result<()> {
        if self.is_empty() {
            return Err(Error::InvalidInput(
                "changes: expected at least one field to change".into(),
            ));
        }
        if let Some(name) = &self.name {
            check_name("name", name)?;
        }
        if let Some(cat) = &self.cat {
            check_text("cat", cat, MAX_CAT_CHARS)?;
        }
        if let Some(basin) = &self.basin {
            check_text("basin", basin, MAX_BASIN_CHARS)?;
        }
        if let Some(lat) = &self.lat {
            check_decimal("lat", lat, -90, 90)?;
        }
        if let Some(long) = &self.long {
            check_decimal("long", long, -180, 180)?;
        }
        if let Some(len) = &self.shape_length {
            check_decimal("shape_length", len, 0, 99)?;
        }
        Ok(())
    }
}

impl NewHurricane {
    /// Checks every value against its column before anything is sent (see
    /// [`HurricaneChanges::validate`]).
    pub fn validate(&self) -> Result<()> {
        check_name("name", &self.name)?;
        check_text("cat", &self.cat, MAX_CAT_CHARS)?;
        check_text("basin", &self.basin, MAX_BASIN_CHARS)?;
        check_decimal("lat", &self.lat, -90, 90)?;
        check_decimal("long", &self.long, -180, 180)?;
        check_decimal("shape_length", &self.shape_length, 0, 99)
    }
}

/// Longest storm name accepted (characters). IHW names are at most 10-odd letters;
/// the bound keeps a runaway value out of the table, the summary and the audit trail.
pub(crate) const MAX_NAME_CHARS: usize = 64;
/// Longest category code (`varchar(2)`).
pub(crate) const MAX_CAT_CHARS: usize = 2;
/// Longest basin name (`varchar(16)`).
pub(crate) const MAX_BASIN_CHARS: usize = 16;
/// Longest decimal text accepted before parsing (a latitude, a longitude, a shape
/// length, in a body or a search bound): parsing and comparing a decimal costs time
/// with its length, and no stored value needs more than a few digits.
pub const MAX_DECIMAL_CHARS: usize = 32;
/// Decimals stored for positions and shape lengths (`numeric(_, 6)`).
pub(crate) const DECIMAL_SCALE: i64 = 6;

/// A text value for a column: no NUL byte (PostgreSQL text cannot hold one) and at
/// most `max` characters.
pub(crate) fn check_text(field: &str, value: &str, max: usize) -> Result<()> {
    if value.contains('\0') {
        return Err(Error::InvalidInput(format!(
            "{field}: expected text without NUL bytes"
        )));
    }
    let n = value.chars().count();
    if n > max {
        return Err(Error::InvalidInput(format!(
            "{field}: {n} characters, expected at most {max}"
        )));
    }
    Ok(())
}

/// A storm name as every writer must give it (the loader, POST and PATCH share this
/// rule): some visible character, no control character (a carriage return, a tab, an
/// escape sequence that would drive a terminal), at most [`MAX_NAME_CHARS`].
pub(crate) fn check_name(field: &str, value: &str) -> Result<()> {
    name_problem(value).map_or(Ok(()), |why| {
        Err(Error::InvalidInput(format!(
            "{field} \"{}\": {why}",
            printable(&crate::codes::shown(value))
        )))
    })
}

/// Why `value` is not a valid storm name, or `None`: the one rule behind
/// [`check_name`], also used by the loader for its per-line errors.
pub(crate) fn name_problem(value: &str) -> Option<String> {
    if value.trim().is_empty() {
        return Some("expected a name with a visible character".into());
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Some(format!(
            "expected no control characters (found {})",
            c.escape_debug()
        ));
    }
    let n = value.chars().count();
    if n > MAX_NAME_CHARS {
        return Some(format!("{n} characters, expected at most {MAX_NAME_CHARS}"));
    }
    None
}

/// `text` with control characters written as escapes (`\x1b`, `\r`, `\u{9b}`), so
/// that printing a stored value on a terminal cannot clear the screen, move the
/// cursor or retitle the window. Other characters (accents, CJK) stay as they are.
/// The library's own messages quote values through it; a program that prints stored
/// text on a terminal (the CLI) should too.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A decimal for a `numeric(_, 6)` column within `lo..=hi`, at most 6 decimals.
pub(crate) fn check_decimal(field: &str, value: &BigDecimal, lo: i64, hi: i64) -> Result<()> {
    match decimal_problem(value, lo, hi) {
        None => Ok(()),
        Some(DecimalProblem::Range) => Err(Error::InvalidInput(format!(
            "{field} \"{}\": expected {lo} to {hi}",
            short(value)
        ))),
        Some(DecimalProblem::Scale) => Err(Error::InvalidInput(format!(
            "{field} \"{}\": expected at most {DECIMAL_SCALE} decimals",
            short(value)
        ))),
    }
}

/// Why a decimal does not fit a `numeric(_, 6)` column bounded by `lo..=hi`.
pub(crate) enum DecimalProblem {
    Range,
    Scale,
}

/// What keeps `value` out of a `numeric(_, 6)` column bounded by `lo..=hi`. The
/// exponent is looked at before any comparison: comparing 1e131000 or 1e-16384 with
/// 90 would first build a number of that many digits.
pub(crate) fn decimal_problem(value: &BigDecimal, lo: i64, hi: i64) -> Option<DecimalProblem> {
    let (digits, scale) = value.as_bigint_and_exponent();
    if digits.sign() == bigdecimal::num_bigint::Sign::NoSign {
        return (!(lo..=hi).contains(&0)).then_some(DecimalProblem::Range);
    }
    // |value| >= 10^(digits - 1 - scale): a magnitude of 10^4 or more is out of every
    // range used here (at most 180), whatever the digits.
    let magnitude = digits.bits() as f64 * std::f64::consts::LOG10_2 - scale as f64;
    if magnitude > 5.0 {
        return Some(DecimalProblem::Range);
    }
    // Trailing zeros do not count as decimals (25.500000000 is 25.5); normalizing is
    // cheap now that the number is small.
    let (_, scale) = value.normalized().as_bigint_and_exponent();
    if scale > DECIMAL_SCALE {
        return Some(DecimalProblem::Scale);
    }
    let (lo_d, hi_d) = (BigDecimal::from(lo), BigDecimal::from(hi));
    (!(&lo_d..=&hi_d).contains(&value)).then_some(DecimalProblem::Range)
}

/// A value for a message, cut if long.
pub(crate) fn short(value: &BigDecimal) -> String {
    let text = value.to_string();
    if text.len() > 40 {
        format!("{}...", &text[..40])
    } else {
        text
    }
}

/// A decimal from JSON (a string, or a number as written), refused by length before
/// it is parsed: a megabyte of digits must not cost seconds of CPU.
fn bounded_decimal<'de, D>(de: D) -> Result<BigDecimal, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error as _;
    let text = DecimalText::deserialize(de)?.0;
    if text.len() > MAX_DECIMAL_CHARS {
        return Err(D::Error::custom(format!(
            "a decimal of {} characters, expected at most {MAX_DECIMAL_CHARS}",
            text.len()
        )));
    }
    text.trim()
        .parse::<BigDecimal>()
        .map_err(|_| D::Error::custom("expected a decimal number such as \"25.500000\""))
}

fn bounded_decimal_opt<'de, D>(de: D) -> Result<Option<BigDecimal>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    bounded_decimal(de).map(Some)
}

/// The text of a JSON string or number, without converting it to a float.
struct DecimalText(String);

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = DecimalText;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a decimal as a string or a number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<DecimalText, E> {
                Ok(DecimalText(v.to_string()))
            }
        }
        de.deserialize_any(V)
    }
}

/// Distinguishes an absent field (`None`) from an explicit JSON `null` (`Some(None)`).
fn double_option<'de, D>(de: D) -> Result<Option<Option<i16>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<i16>::deserialize(de).map(Some)
}

impl From<Hurricane> for NewHurricane {
    fn from(h: Hurricane) -> Self {
        NewHurricane {
            fid: h.fid,
            timestamp: h.timestamp,
            btid: h.btid,
            name: h.name,
            lat: h.lat,
            long: h.long,
            wind_kts: h.wind_kts,
            pressure: h.pressure,
            cat: h.cat,
            basin: h.basin,
            shape_length: h.shape_length,
        }
    }
}

/// One storm (all observations with one BTID), summarised. Kept current by triggers
/// on `hurricanes`, so it is right after every write.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = storms, primary_key(btid), check_for_backend(diesel::pg::Pg))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Storm {
    /// Storm ID, as in [`Hurricane::btid`].
    pub btid: i16,
    /// Name at the peak observation.
    pub name: String,
    /// Ocean basin name.
    pub basin: String,
    /// Year of the first observation.
    pub year: i32,
    /// Time of the first observation, UTC.
    pub first_time: DateTime<Utc>,
    /// Time of the last observation, UTC.
    pub last_time: DateTime<Utc>,
    /// Number of observations (rows in `hurricanes`).
    pub observations: i32,
    /// Highest wind speed of any observation, in knots.
    pub peak_wind_kts: i16,
    /// Lowest measured pressure, `None` if never measured.
    pub min_pressure: Option<i16>,
    /// Category at peak wind.
    pub peak_cat: String,
}

/// One row of the reference table `categories`, as the database holds it: the closed
/// set `hurricanes.cat` and `storms.peak_cat` draw from. Read-only for every login;
/// changed by migrations. [`Category`] is the same set as a Rust type.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = categories, primary_key(code), check_for_backend(diesel::pg::Pg))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryRow {
    /// The code as written in the IHW file's CAT column, e.g. `H3`, `TS`, `E`.
    pub code: String,
    /// What the code means, e.g. "major hurricane, Saffir-Simpson category 3, 96-112 kt".
    pub meaning: String,
    /// Saffir-Simpson category 1..5 for `H1`..`H5`; `None` for the other codes.
    pub saffir_simpson: Option<i16>,
    /// Lowest sustained wind by definition, knots; `None` without a lower bound or
    /// for codes not defined by wind (a definition, not a constraint on rows).
    pub wind_min_kts: Option<i16>,
    /// Highest sustained wind by definition, knots; `None` without an upper bound.
    pub wind_max_kts: Option<i16>,
    /// The NOAA HURDAT2 status the code comes from (`HU` for `H1`..`H5`, `EX` for `E`, ...).
    pub hurdat2_status: Option<String>,
}

/// One row of the reference table `basins`, as the database holds it: the closed set
/// `hurricanes.basin` and `storms.basin` draw from. Read-only for every login; changed
/// by migrations. [`Basin`] is the same set as a Rust type.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = basins, primary_key(name), check_for_backend(diesel::pg::Pg))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BasinRow {
    /// The name as written in the IHW file's BASIN column, e.g. `North Atlantic`.
    pub name: String,
    /// Two-letter NOAA code, the prefix of HURDAT2 storm ids (`AL`, `EP`).
    pub code: String,
    /// The waters the basin covers and who tracks them.
    pub description: String,
}

/// What a HURDAT2 observation carries beyond the IHW columns (all `None` for rows
/// loaded from the IHW CSV). Read it beside [`Hurricane`]:
/// `hurricanes::table.select((Hurricane::as_select(), Hurdat2Fields::as_select()))`.
/// Radii are nautical miles, `None` where HURDAT2 writes -999.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Serialize)]
#[diesel(table_name = hurricanes, check_for_backend(diesel::pg::Pg))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hurdat2Fields {
    /// ATCF storm id, e.g. `AL122005` (basin, number in the season, year).
    pub atcf_id: Option<String>,
    /// Record identifier: `L` landfall, `W` max wind, `P` min pressure, `I` intensity
    /// peak, `C` closest approach, `S` status change, `G` genesis, `T` extra track
    /// detail, `R` rapid-change detail; `None` when blank.
    pub record_id: Option<String>,
    /// System status: `HU`, `TS`, `TD`, `EX`, `SD`, `SS`, `LO`, `WV`, `DB` (and `ET`,
    /// `PT`, `ST` in the Pacific file).
    pub status: Option<String>,
    /// 34-kt wind radius, northeast quadrant (nautical miles).
    pub r34_ne: Option<i16>,
    /// 34-kt wind radius, southeast quadrant.
    pub r34_se: Option<i16>,
    /// 34-kt wind radius, southwest quadrant.
    pub r34_sw: Option<i16>,
    /// 34-kt wind radius, northwest quadrant.
    pub r34_nw: Option<i16>,
    /// 50-kt wind radius, northeast quadrant.
    pub r50_ne: Option<i16>,
    /// 50-kt wind radius, southeast quadrant.
    pub r50_se: Option<i16>,
    /// 50-kt wind radius, southwest quadrant.
    pub r50_sw: Option<i16>,
    /// 50-kt wind radius, northwest quadrant.
    pub r50_nw: Option<i16>,
    /// 64-kt wind radius, northeast quadrant.
    pub r64_ne: Option<i16>,
    /// 64-kt wind radius, southeast quadrant.
    pub r64_se: Option<i16>,
    /// 64-kt wind radius, southwest quadrant.
    pub r64_sw: Option<i16>,
    /// 64-kt wind radius, northwest quadrant.
    pub r64_nw: Option<i16>,
    /// Radius of maximum wind (nautical miles): only in the newer HURDAT2 format's
    /// 21st field; `None` when absent or -999.
    pub rmw: Option<i16>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_a_name() {
        for bad in [
            "",
            "   ",
            "\r",
            "KAT\rRINA",
            "\u{1b}[2J\u{1b}]0;pwned\u{7}X",
            "A\tB",
            "\u{9b}2J",
        ] {
            let err = check_name("name", bad).unwrap_err().to_string();
            assert!(!err.contains('\u{1b}') && !err.contains('\r'), "{err:?}");
        }
        check_name("name", "KATRINA").unwrap();
        check_name("name", "São Tomé").unwrap();
        assert!(check_name("name", &"X".repeat(65)).is_err());
        assert_eq!(printable("\u{1b}[2J\u{7}X\r\n"), "\\x1b[2J\\x07X\\r\\n");
        assert_eq!(printable("\u{9b}ü"), "\\u{9b}ü");
        assert_eq!(printable("KATRINA"), "KATRINA");
    }
}
