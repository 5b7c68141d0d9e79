//! Query parameters: one typed definition per route that both parses the query string
//! (serde, through `serde_html_form`, which collects a repeated key into a `Vec`) and
//! documents it in `/openapi.json` (`utoipa::IntoParams`). An unknown or repeated
//! parameter, or a value that is not of its type, is 400 with a message naming it;
//! values of the right type that the library refuses are 422 later.

use std::fmt;
use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use hurricane_db::export::ExportFilter;
use hurricane_db::queries::{self, Filter, LandfallFilter, Order, StormFilter};
use hurricane_db::{shown, Basin, Category, MAX_DECIMAL_CHARS};
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::Deserialize;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};

use super::{bad, ApiError};

/// The query string of a request as `T`. Rejections are JSON 400s.
pub(crate) struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parse(parts.uri.query().unwrap_or("")).map(Params)
    }
}

/// A query string as `T`, or the 400 that names what is wrong with it.
pub(crate) fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_html_form::Deserializer::from_bytes(query.as_bytes());
    serde_path_to_error::deserialize(de)
        .map_err(|e| bad(message(&e.path().to_string(), &e.into_inner().to_string())))
}

/// Marks a scalar parameter given more than once.
const REPEATED: &str = "\u{0}repeated";

/// The one-line message for a query that does not deserialize.
fn message(path: &str, inner: &str) -> String {
    let quoted = |rest: &str| rest.split('`').next().unwrap_or("").to_string();
    if let Some(rest) = inner.strip_prefix("unknown field `") {
        format!("unknown parameter \"{}\"", quoted(rest))
    } else if let Some(rest) = inner.strip_prefix("missing field `") {
        format!("{}: required", quoted(rest))
    } else if inner == REPEATED {
        format!("{path}: expected at most once")
    } else {
        format!("{path} {inner}")
    }
}

/// A single-valued parameter read with [`Param`]: its error says what was expected,
/// and a second value for it is refused rather than silently taken.
#[derive(Debug, Clone)]
pub(crate) struct One<T>(pub T);

impl<'de, T: Param> Deserialize<'de> for One<T> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Param> Visitor<'de> for V<T> {
            type Value = One<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<One<T>, E> {
                T::parse(v)
                    .map(One)
                    .ok_or_else(|| E::custom(format!("\"{}\": {}", shown(v), T::EXPECTED)))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<One<T>, A::Error> {
                Err(de::Error::custom(REPEATED))
            }
        }
        de.deserialize_any(V(PhantomData))
    }
}

/// A type a query or path parameter is read as, and what its text must look like.
pub(crate) trait Param: Sized {
    const EXPECTED: &'static str;
    fn parse(text: &str) -> Option<Self>;
}

macro_rules! from_str_params {
    ($($t:ty => $expected:literal,)*) => {$(
        impl Param for $t {
            const EXPECTED: &'static str = $expected;
            fn parse(text: &str) -> Option<Self> {
                text.parse().ok()
            }
        }
    )*};
}

from_str_params! {
    String => "expected text",
    i16 => "expected a whole number from -32768 to 32767",
    i32 => "expected a whole number from -2147483648 to 2147483647",
    i64 => "expected a whole number",
    f64 => "expected a number",
}

impl Param for BigDecimal {
    const EXPECTED: &'static str = "expected a decimal number of at most 32 characters";
    /// Refused by length before parsing, as decimals in bodies are.
    fn parse(text: &str) -> Option<Self> {
        (text.len() <= MAX_DECIMAL_CHARS)
            .then(|| text.trim().parse().ok())
            .flatten()
    }
}

impl Param for DateTime<Utc> {
    const EXPECTED: &'static str =
        "expected a date such as 2005-08-25 or an RFC 3339 time such as 2005-08-29T11:10:00Z";
    fn parse(text: &str) -> Option<Self> {
        queries::parse_time(text).ok()
    }
}

impl Param for Order {
    const EXPECTED: &'static str =
        "expected time_asc, time_desc, wind_asc, wind_desc, pressure_asc or pressure_desc";
    /// By the library's own serde names, which page tokens use too.
    fn parse(text: &str) -> Option<Self> {
        let text = serde::de::value::StrDeserializer::<serde::de::value::Error>::new(text);
        Order::deserialize(text).ok()
    }
}

/// The codes and names a parameter takes, as `/openapi.json` lists them (an `enum`),
/// so that a client or a generated test knows them; the server also takes any case.
/// From the library's [`Category`] and [`Basin`], the one place that knows them.
fn one_of(values: impl IntoIterator<Item = &'static str>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
}

fn many(one: ObjectBuilder) -> Schema {
    ArrayBuilder::new().items(one).into()
}

/// Basin names, then the ATCF prefixes (AL, EP, CP).
fn basin_spellings() -> ObjectBuilder {
    one_of(Basin::names().chain(Basin::prefixes()))
}

fn categories() -> Schema {
    many(one_of(Category::codes()))
}

fn basins() -> Schema {
    many(basin_spellings())
}

fn basin() -> Schema {
    basin_spellings().into()
}

/// The Saffir-Simpson order's codes, weakest first (TD, TS, H1..H5).
fn scale_category() -> Schema {
    one_of(Category::SCALE.iter().map(|c| c.code())).into()
}

fn get<T>(p: Option<One<T>>) -> Option<T> {
    p.map(|One(v)| v)
}

/// `GET /hurricanes`: a search. Parts combine with AND; repeated `basin` or `cat`
/// values with OR.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchParams {
    /// Storm name; * and ? are wildcards; case ignored; at most 64 characters
    #[param(value_type = Option<String>)]
    name: Option<One<String>>,
    /// First year included
    #[param(value_type = Option<i32>)]
    year_from: Option<One<i32>>,
    /// Last year included
    #[param(value_type = Option<i32>)]
    year_to: Option<One<i32>>,
    /// A date (2005-08-25, 00:00 UTC) or an RFC 3339 time
    #[param(value_type = Option<String>)]
    time_from: Option<One<DateTime<Utc>>>,
    /// A date (2005-08-25, 00:00 UTC) or an RFC 3339 time
    #[param(value_type = Option<String>)]
    time_to: Option<One<DateTime<Utc>>>,
    /// A basin name or ATCF prefix (AL, EP, CP), any case; repeat for any of several
    #[serde(default)]
    #[param(explode = true, schema_with = basins)]
    basin: Vec<String>,
    /// A category code (H1..H5, TS, TD, ...), any case; repeat for any of several
    #[serde(default)]
    #[param(explode = true, schema_with = categories)]
    cat: Vec<String>,
    /// Lowest wind speed included, knots
    #[param(value_type = Option<i16>)]
    min_wind: Option<One<i16>>,
    /// Highest wind speed included, knots
    #[param(value_type = Option<i16>)]
    max_wind: Option<One<i16>>,
    /// Lowest pressure included, millibars
    #[param(value_type = Option<i16>)]
    min_pressure: Option<One<i16>>,
    /// Highest pressure included, millibars
    #[param(value_type = Option<i16>)]
    max_pressure: Option<One<i16>>,
    /// Southern edge of a box: degrees from -90 to 90, at most 6 decimals
    #[param(value_type = Option<String>)]
    lat_min: Option<One<BigDecimal>>,
    /// Northern edge of the box: degrees from -90 to 90, at most 6 decimals
    #[param(value_type = Option<String>)]
    lat_max: Option<One<BigDecimal>>,
    /// Western edge of the box: degrees from -180 to 180 (east positive), at most 6 decimals; above lon_max crosses the date line
    #[param(value_type = Option<String>)]
    lon_min: Option<One<BigDecimal>>,
    /// Eastern edge of the box: degrees from -180 to 180, at most 6 decimals
    #[param(value_type = Option<String>)]
    lon_max: Option<One<BigDecimal>>,
    /// One storm
    #[param(value_type = Option<i16>)]
    btid: Option<One<i16>>,
    /// Sort order (default time_asc)
    #[param(value_type = Option<Order>)]
    order: Option<One<Order>>,
    /// 1 to 10000, default 100
    #[param(value_type = Option<i64>)]
    limit: Option<One<i64>>,
    /// Rows to skip (0 or more); not with page_token
    #[param(value_type = Option<i64>)]
    offset: Option<One<i64>>,
    /// The previous page's next_page
    #[param(value_type = Option<String>)]
    page_token: Option<One<String>>,
}

impl From<SearchParams> for Filter {
    fn from(p: SearchParams) -> Filter {
        Filter {
            name: get(p.name),
            time_from: get(p.time_from),
            time_to: get(p.time_to),
            year_from: get(p.year_from),
            year_to: get(p.year_to),
            basins: p.basin,
            cats: p.cat,
            min_wind: get(p.min_wind),
            max_wind: get(p.max_wind),
            min_pressure: get(p.min_pressure),
            max_pressure: get(p.max_pressure),
            lat_min: get(p.lat_min),
            lat_max: get(p.lat_max),
            lon_min: get(p.lon_min),
            lon_max: get(p.lon_max),
            btid: get(p.btid),
            order: get(p.order).unwrap_or_default(),
            limit: get(p.limit),
            offset: get(p.offset),
            page_token: get(p.page_token),
        }
    }
}

/// `GET /storms`: the storm summary, strongest first.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct StormParams {
    /// Storm name; * and ? are wildcards; case ignored
    #[param(value_type = Option<String>)]
    name: Option<One<String>>,
    /// First year included (of the storm's first observation)
    #[param(value_type = Option<i32>)]
    year_from: Option<One<i32>>,
    /// Last year included
    #[param(value_type = Option<i32>)]
    year_to: Option<One<i32>>,
    /// A basin name or ATCF prefix, any case; repeat for any of several
    #[serde(default)]
    #[param(explode = true, schema_with = basins)]
    basin: Vec<String>,
    /// Storms whose peak wind reached this many knots
    #[param(value_type = Option<i16>)]
    min_wind: Option<One<i16>>,
    /// 1 to 10000, default 100
    #[param(value_type = Option<i64>)]
    limit: Option<One<i64>>,
    /// Storms to skip
    #[param(value_type = Option<i64>)]
    offset: Option<One<i64>>,
}

impl From<StormParams> for StormFilter {
    fn from(p: StormParams) -> StormFilter {
        StormFilter {
            name: get(p.name),
            year_from: get(p.year_from),
            year_to: get(p.year_to),
            basins: p.basin,
            min_wind: get(p.min_wind),
            limit: get(p.limit),
            offset: get(p.offset),
        }
    }
}

/// `GET /storms/near`: a place and a radius.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct NearParams {
    /// Latitude, degrees north (-90 to 90)
    #[param(value_type = f64, minimum = -90, maximum = 90)]
    pub lat: One<f64>,
    /// Longitude, degrees east (-180 to 180)
    #[param(value_type = f64, minimum = -180, maximum = 180)]
    pub lon: One<f64>,
    /// More than 0, at most 2000
    #[param(value_type = f64, exclusive_minimum = 0, maximum = 2000)]
    pub km: One<f64>,
}

/// `GET /landfalls`: storms with landfalls.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct LandfallParams {
    /// Storms of this year (of their first observation)
    #[param(value_type = Option<i32>)]
    year: Option<One<i32>>,
    /// Storms of this basin, any case
    #[param(schema_with = basin)]
    basin: Option<One<String>>,
    /// Landfalls at this category or stronger: TD, TS, H1..H5 (any case)
    #[param(schema_with = scale_category)]
    min_cat: Option<One<String>>,
}

impl From<LandfallParams> for LandfallFilter {
    fn from(p: LandfallParams) -> LandfallFilter {
        LandfallFilter {
            year: get(p.year),
            basin: get(p.basin),
            min_cat: get(p.min_cat),
        }
    }
}

/// `GET /seasons/{year}.svg`: one basin or all.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SeasonParams {
    /// One basin (case ignored); all when absent
    #[param(schema_with = basin)]
    basin: Option<One<String>>,
}

impl SeasonParams {
    pub(crate) fn basin(self) -> Option<String> {
        get(self.basin)
    }
}

/// A year in a download's query: read as a whole number, explained as a year.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Year(i32);

impl Param for Year {
    const EXPECTED: &'static str = "expected a year such as 2005";
    fn parse(text: &str) -> Option<Self> {
        text.trim().parse().ok().map(Year)
    }
}

/// Most storms one download may name by BTID (a query string of a few KB).
pub(crate) const MAX_BTIDS: usize = 1000;

/// `GET /export.geojson`, `/export.csv`, `/export.hurdat2`: the storms a download
/// holds; all storms when none of these is given.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportParams {
    /// These storms (repeat); at most 1000
    #[serde(default)]
    #[param(explode = true, value_type = Option<Vec<i16>>)]
    btid: Vec<One<i16>>,
    /// One season (not with year_from or year_to)
    #[param(value_type = Option<i32>, minimum = 1800, maximum = 2100)]
    year: Option<One<Year>>,
    /// First year included (of the storm's first observation)
    #[param(value_type = Option<i32>, minimum = 1800, maximum = 2100)]
    year_from: Option<One<Year>>,
    /// Last year included
    #[param(value_type = Option<i32>, minimum = 1800, maximum = 2100)]
    year_to: Option<One<Year>>,
    /// North Atlantic, Eastern Pacific, or AL, EP, CP; any case
    #[param(schema_with = basin)]
    basin: Option<One<String>>,
    /// Storm name; * and ? are wildcards; case ignored
    #[param(value_type = Option<String>)]
    name: Option<One<String>>,
    /// Storms whose peak wind reached this many knots
    #[param(value_type = Option<i16>, minimum = 0, maximum = 300)]
    min_wind: Option<One<i16>>,
}

impl TryFrom<ExportParams> for ExportFilter {
    type Error = ApiError;

    /// `year` is shorthand for `year_from` = `year_to`; the library checks the rest.
    fn try_from(p: ExportParams) -> Result<ExportFilter, ApiError> {
        if p.btid.len() > MAX_BTIDS {
            return Err(bad(format!("btid: expected at most {MAX_BTIDS} storms")));
        }
        let year = get(p.year).map(|Year(y)| y);
        let (year_from, year_to) = (get(p.year_from), get(p.year_to));
        if year.is_some() && (year_from.is_some() || year_to.is_some()) {
            return Err(bad("year: expected either year or year_from/year_to"));
        }
        Ok(ExportFilter {
            basin: get(p.basin),
            year_from: year.or(year_from.map(|Year(y)| y)),
            year_to: year.or(year_to.map(|Year(y)| y)),
            btids: p.btid.into_iter().map(|One(b)| b).collect(),
            name: get(p.name),
            min_wind: get(p.min_wind),
        })
    }
}

/// Parses a path segment as `T`; 400 naming the parameter otherwise.
pub(crate) fn path<T: Param>(key: &str, value: &str) -> Result<T, ApiError> {
    T::parse(value).ok_or_else(|| bad(format!("{key} \"{}\": {}", shown(value), T::EXPECTED)))
}
