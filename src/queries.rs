//! Typed questions analysts and services ask of the data.
//!
//! Every value reaches PostgreSQL as a bind parameter (Diesel's boxed queries), so a
//! name like `O'Brien'; DROP TABLE hurricanes; --` is only a name that matches nothing.

use bigdecimal::BigDecimal;
use chrono::{DateTime, TimeZone, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Int2, Int4, Text};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::{Basin, Category, Hurricane, Storm};
use crate::schema::{basins, categories, hurricanes, storms};

pub use crate::landfalls::{landfalls, Landfall, LandfallFilter, StormLandfalls};

/// Largest page a search returns.
pub const MAX_LIMIT: i64 = 10_000;
/// Page size when none is given.
pub const DEFAULT_LIMIT: i64 = 100;

/// Sort order of a search; FID breaks ties so paging is stable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Order {
    /// Earliest first.
    #[default]
    TimeAsc,
    /// Latest first.
    TimeDesc,
    /// Weakest wind first.
    WindAsc,
    /// Strongest wind first.
    WindDesc,
    /// Lowest pressure first; unmeasured (NULL) last.
    PressureAsc,
    /// Highest pressure first; unmeasured (NULL) last.
    PressureDesc,
}

impl Order {
    fn name(self) -> &'static str {
        match self {
            Order::TimeAsc => "time_asc",
            Order::TimeDesc => "time_desc",
            Order::WindAsc => "wind_asc",
            Order::WindDesc => "wind_desc",
            Order::PressureAsc => "pressure_asc",
            Order::PressureDesc => "pressure_desc",
        }
    }
}

/// A search over observations. Every part is optional; parts combine with AND, the
/// values within `basins` and `cats` with OR. Also the `hurricane-db query` flags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filter {
    /// Storm name, case-insensitive; `*` matches any run of characters, `?` one.
    pub name: Option<String>,
    /// Observations at or after this time: RFC 3339 (2005-08-25T06:00:00Z) or a plain
    /// date (2005-08-25, meaning 00:00 UTC).
    pub time_from: Option<DateTime<Utc>>,
    /// Observations at or before this time (same forms).
    pub time_to: Option<DateTime<Utc>>,
    /// First year included.
    pub year_from: Option<i32>,
    /// Last year included.
    pub year_to: Option<i32>,
    /// Any of these basins (repeat --basin for several).
    pub basins: Vec<String>,
    /// Any of these categories: H1..H5, TS, TD, ... (repeat --cat for several).
    pub cats: Vec<String>,
    /// Lowest wind speed included, knots.
    pub min_wind: Option<i16>,
    /// Highest wind speed included, knots.
    pub max_wind: Option<i16>,
    /// Lowest pressure included, millibars; excludes unmeasured observations.
    pub min_pressure: Option<i16>,
    /// Highest pressure included, millibars; excludes unmeasured observations.
    pub max_pressure: Option<i16>,
    /// Latitude/longitude box (inclusive). `lon_min > lon_max` crosses the date line.
    pub lat_min: Option<BigDecimal>,
    /// Northern edge of the box, decimal degrees (north positive).
    pub lat_max: Option<BigDecimal>,
    /// Western edge of the box, decimal degrees (east positive).
    pub lon_min: Option<BigDecimal>,
    /// Eastern edge of the box, decimal degrees (east positive).
    pub lon_max: Option<BigDecimal>,
    /// One storm.
    pub btid: Option<i16>,
    /// Sort order of the results.
    pub order: Order,
    /// Page size (default 100, at most 10,000).
    pub limit: Option<i64>,
    /// Rows to skip (simple paging); prefer `page_token` for deep pages.
    pub offset: Option<i64>,
    /// Keyset paging: the `next_page` of the previous page (same filter and order).
    pub page_token: Option<String>,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The results on this page, in the requested order.
    pub items: Vec<T>,
    /// Token for the next page, `None` on the last one.
    pub next_page: Option<String>,
}

/// Turns a user pattern into ILIKE: `*` -> `%`, `?` -> `_`, and `%`, `_`, `\`
/// taken literally.
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

/// Longest name pattern a search accepts: an `ILIKE` pattern costs time with its
/// length on every row it is matched against.
pub const MAX_PATTERN_CHARS: usize = 64;

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

/// A value as quoted back in an error message: at most 40 characters.
pub(crate) fn shown(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        out.push_str("...");
    }
    out
}

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

fn year_start(year: i32) -> Result<DateTime<Utc>> {
    Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0)
        .single()
        .filter(|_| (1..=9998).contains(&year))
        .ok_or_else(|| Error::InvalidInput(format!("year \"{year}\": expected 1 to 9998")))
}

/// Years a filter may name: the IHW record starts in 1851 and no filter needs more than
/// this (also the bound of the storm browser's form). Outside, a plain-language 422.
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

fn check_range<T: PartialOrd + std::fmt::Display>(
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

/// Where the previous page ended.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cursor {
    Time(DateTime<Utc>, i32),
    Wind(i16, i32),
    Pressure(Option<i16>, i32),
}

impl Cursor {
    fn of(order: Order, h: &Hurricane) -> Cursor {
        match order {
            Order::TimeAsc | Order::TimeDesc => Cursor::Time(h.timestamp, h.fid),
            Order::WindAsc | Order::WindDesc => Cursor::Wind(h.wind_kts, h.fid),
            Order::PressureAsc | Order::PressureDesc => Cursor::Pressure(h.pressure, h.fid),
        }
    }

    fn token(self, order: Order) -> String {
        let key = match self {
            Cursor::Time(t, _) => t.timestamp_micros().to_string(),
            Cursor::Wind(w, _) => w.to_string(),
            Cursor::Pressure(p, _) => p.map_or("null".into(), |p| p.to_string()),
        };
        let fid = match self {
            Cursor::Time(_, f) | Cursor::Wind(_, f) | Cursor::Pressure(_, f) => f,
        };
        format!("{}.{key}.{fid}", order.name())
    }

    fn parse(token: &str, order: Order) -> Result<Cursor> {
        let bad = || {
            Error::InvalidInput(format!(
                "page_token \"{token}\": expected the next_page of a previous page with order {}",
                order.name()
            ))
        };
        let mut parts = token.split('.');
        let (Some(o), Some(key), Some(fid), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if o != order.name() {
            return Err(bad());
        }
        let fid: i32 = fid.parse().map_err(|_| bad())?;
        Ok(match order {
            Order::TimeAsc | Order::TimeDesc => {
                let micros: i64 = key.parse().map_err(|_| bad())?;
                Cursor::Time(
                    DateTime::from_timestamp_micros(micros).ok_or_else(bad)?,
                    fid,
                )
            }
            Order::WindAsc | Order::WindDesc => Cursor::Wind(key.parse().map_err(|_| bad())?, fid),
            Order::PressureAsc | Order::PressureDesc => Cursor::Pressure(
                match key {
                    "null" => None,
                    k => Some(k.parse().map_err(|_| bad())?),
                },
                fid,
            ),
        })
    }
}

type BoxedSearch<'a> = hurricanes::BoxedQuery<
    'a,
    diesel::pg::Pg,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<Hurricane, diesel::pg::Pg>>,
>;

/// Runs a search and returns one page.
pub fn search(conn: &mut PgConnection, f: &Filter) -> Result<Page<Hurricane>> {
    use hurricanes::dsl as h;
    let limit = f.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::InvalidInput(format!(
            "limit \"{limit}\": expected 1 to {MAX_LIMIT}"
        )));
    }
    if f.offset.is_some() && f.page_token.is_some() {
        return Err(Error::InvalidInput(
            "offset and page_token: expected one way of paging, not both".into(),
        ));
    }
    check_range("time", &f.time_from, &f.time_to)?;
    check_year("year_from", f.year_from)?;
    check_year("year_to", f.year_to)?;
    check_range("year", &f.year_from, &f.year_to)?;
    check_wind("min_wind", f.min_wind)?;
    check_wind("max_wind", f.max_wind)?;
    let basins = f
        .basins
        .iter()
        .map(|b| basin(b))
        .collect::<Result<Vec<_>>>()?;
    let cats = f
        .cats
        .iter()
        .map(|c| category(c))
        .collect::<Result<Vec<_>>>()?;
    check_range("wind", &f.min_wind, &f.max_wind)?;
    check_range("pressure", &f.min_pressure, &f.max_pressure)?;
    check_range("latitude", &f.lat_min, &f.lat_max)?;

    let mut q: BoxedSearch<'_> = h::hurricanes.select(Hurricane::as_select()).into_boxed();
    if let Some(name) = &f.name {
        if name.trim().is_empty() {
            return Err(Error::InvalidInput(
                "name \"\": expected a name or pattern".into(),
            ));
        }
        crate::models::check_text("name", name, MAX_PATTERN_CHARS)?;
        q = q.filter(h::name.ilike(like_pattern(name.trim())));
    }
    if let Some(t) = f.time_from {
        q = q.filter(h::timestamp.ge(t));
    }
    if let Some(t) = f.time_to {
        q = q.filter(h::timestamp.le(t));
    }
    if let Some(y) = f.year_from {
        q = q.filter(h::timestamp.ge(year_start(y)?));
    }
    if let Some(y) = f.year_to {
        // The end of year y is the start of y + 1; year_start(y) bounds y first, so
        // the addition cannot overflow.
        year_start(y)?;
        q = q.filter(h::timestamp.lt(year_start(y + 1)?));
    }
    if !f.basins.is_empty() {
        q = q.filter(h::basin.eq_any(basins));
    }
    if !f.cats.is_empty() {
        q = q.filter(h::cat.eq_any(cats));
    }
    if let Some(w) = f.min_wind {
        q = q.filter(h::wind_kts.ge(w));
    }
    if let Some(w) = f.max_wind {
        q = q.filter(h::wind_kts.le(w));
    }
    if let Some(p) = f.min_pressure {
        q = q.filter(h::pressure.ge(p));
    }
    if let Some(p) = f.max_pressure {
        q = q.filter(h::pressure.le(p));
    }
    if let Some(v) = &f.lat_min {
        q = q.filter(h::lat.ge(v.clone()));
    }
    if let Some(v) = &f.lat_max {
        q = q.filter(h::lat.le(v.clone()));
    }
    match (&f.lon_min, &f.lon_max) {
        (Some(lo), Some(hi)) if lo > hi => {
            // The box crosses the date line.
            q = q.filter(h::long.ge(lo.clone()).or(h::long.le(hi.clone())));
        }
        (lo, hi) => {
            if let Some(lo) = lo {
                q = q.filter(h::long.ge(lo.clone()));
            }
            if let Some(hi) = hi {
                q = q.filter(h::long.le(hi.clone()));
            }
        }
    }
    if let Some(b) = f.btid {
        q = q.filter(h::btid.eq(b));
    }
    if let Some(token) = &f.page_token {
        q = after(q, Cursor::parse(token, f.order)?, f.order);
    }
    q = match f.order {
        Order::TimeAsc => q.order((h::timestamp.asc(), h::fid.asc())),
        Order::TimeDesc => q.order((h::timestamp.desc(), h::fid.desc())),
        Order::WindAsc => q.order((h::wind_kts.asc(), h::fid.asc())),
        Order::WindDesc => q.order((h::wind_kts.desc(), h::fid.desc())),
        Order::PressureAsc => q.order((h::pressure.asc().nulls_last(), h::fid.asc())),
        Order::PressureDesc => q.order((h::pressure.desc().nulls_last(), h::fid.desc())),
    };
    if let Some(offset) = f.offset {
        if offset < 0 {
            return Err(Error::InvalidInput(format!(
                "offset \"{offset}\": expected 0 or more"
            )));
        }
        q = q.offset(offset);
    }
    let mut items: Vec<Hurricane> = q.limit(limit + 1).load(conn)?;
    let next_page = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items
            .last()
            .map(|last| Cursor::of(f.order, last).token(f.order))
    } else {
        None
    };
    Ok(Page { items, next_page })
}

/// Keeps only rows after the cursor in the page order (ties broken by FID).
fn after(q: BoxedSearch<'_>, cursor: Cursor, order: Order) -> BoxedSearch<'_> {
    use hurricanes::dsl as h;
    let asc = matches!(order, Order::TimeAsc | Order::WindAsc | Order::PressureAsc);
    match (cursor, asc) {
        (Cursor::Time(t, f), true) => {
            q.filter(h::timestamp.gt(t).or(h::timestamp.eq(t).and(h::fid.gt(f))))
        }
        (Cursor::Time(t, f), false) => {
            q.filter(h::timestamp.lt(t).or(h::timestamp.eq(t).and(h::fid.lt(f))))
        }
        (Cursor::Wind(w, f), true) => {
            q.filter(h::wind_kts.gt(w).or(h::wind_kts.eq(w).and(h::fid.gt(f))))
        }
        (Cursor::Wind(w, f), false) => {
            q.filter(h::wind_kts.lt(w).or(h::wind_kts.eq(w).and(h::fid.lt(f))))
        }
        // NULLs come last in both directions.
        (Cursor::Pressure(None, f), true) => q.filter(h::pressure.is_null().and(h::fid.gt(f))),
        (Cursor::Pressure(None, f), false) => q.filter(h::pressure.is_null().and(h::fid.lt(f))),
        (Cursor::Pressure(Some(p), f), true) => q.filter(
            h::pressure
                .gt(p)
                .or(h::pressure.eq(p).and(h::fid.gt(f)))
                .or(h::pressure.is_null()),
        ),
        (Cursor::Pressure(Some(p), f), false) => q.filter(
            h::pressure
                .lt(p)
                .or(h::pressure.eq(p).and(h::fid.lt(f)))
                .or(h::pressure.is_null()),
        ),
    }
}

/// One observation by FID (one round trip, no transaction needed).
pub fn by_fid(conn: &mut PgConnection, fid: i32) -> Result<Hurricane> {
    hurricanes::table
        .find(fid)
        .select(Hurricane::as_select())
        .get_result(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("observation with FID {fid}")))
}

/// A storm's observations in time order.
pub fn track(conn: &mut PgConnection, btid: i16) -> Result<Vec<Hurricane>> {
    let rows: Vec<Hurricane> = hurricanes::table
        .filter(hurricanes::btid.eq(btid))
        .order((hurricanes::timestamp.asc(), hurricanes::fid.asc()))
        .select(Hurricane::as_select())
        .load(conn)?;
    if rows.is_empty() {
        return Err(Error::NotFound(format!("storm with BTID {btid}")));
    }
    Ok(rows)
}

/// Observations in the table.
pub fn count(conn: &mut PgConnection) -> Result<i64> {
    Ok(hurricanes::table.count().get_result(conn)?)
}

/// A filter over the storm summary. Also the `hurricane-db storms` flags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StormFilter {
    /// Storm name, case-insensitive, `*` and `?` wildcards.
    pub name: Option<String>,
    /// First year included (year of the storm's first observation).
    pub year_from: Option<i32>,
    /// Last year included.
    pub year_to: Option<i32>,
    /// Any of these basins (repeat --basin for several).
    pub basins: Vec<String>,
    /// Storms whose peak wind reached this many knots.
    pub min_wind: Option<i16>,
    /// How many storms (default 100, at most 10,000).
    pub limit: Option<i64>,
    /// Storms to skip (paging).
    pub offset: Option<i64>,
}

/// Storms matching `f`, strongest first (peak wind, then lowest pressure, then BTID).
pub fn storms(conn: &mut PgConnection, f: &StormFilter) -> Result<Vec<Storm>> {
    use storms::dsl as s;
    let limit = f.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::InvalidInput(format!(
            "limit \"{limit}\": expected 1 to {MAX_LIMIT}"
        )));
    }
    check_year("year_from", f.year_from)?;
    check_year("year_to", f.year_to)?;
    check_range("year", &f.year_from, &f.year_to)?;
    check_wind("min_wind", f.min_wind)?;
    let basins = f
        .basins
        .iter()
        .map(|b| basin(b))
        .collect::<Result<Vec<_>>>()?;
    let mut q = s::storms.select(Storm::as_select()).into_boxed();
    if let Some(name) = &f.name {
        crate::models::check_text("name", name, MAX_PATTERN_CHARS)?;
        q = q.filter(s::name.ilike(like_pattern(name.trim())));
    }
    if let Some(y) = f.year_from {
        q = q.filter(s::year.ge(y));
    }
    if let Some(y) = f.year_to {
        q = q.filter(s::year.le(y));
    }
    if !f.basins.is_empty() {
        q = q.filter(s::basin.eq_any(basins));
    }
    if let Some(w) = f.min_wind {
        q = q.filter(s::peak_wind_kts.ge(w));
    }
    if let Some(offset) = f.offset {
        q = q.offset(offset.max(0));
    }
    Ok(q.order((
        s::peak_wind_kts.desc(),
        s::min_pressure.asc().nulls_last(),
        s::btid.asc(),
    ))
    .limit(limit)
    .load(conn)?)
}

/// The `n` strongest storms (peak wind, then lowest pressure).
pub fn strongest_storms(conn: &mut PgConnection, n: i64) -> Result<Vec<Storm>> {
    storms(
        conn,
        &StormFilter {
            limit: Some(n),
            ..Default::default()
        },
    )
}

/// Storms and observations per basin.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName, Serialize)]
pub struct BasinCount {
    /// Ocean basin name.
    #[diesel(sql_type = Text)]
    pub basin: String,
    /// Storms in the basin.
    #[diesel(sql_type = BigInt)]
    pub storms: i64,
    /// Observations of those storms.
    #[diesel(sql_type = BigInt)]
    pub observations: i64,
}

/// Storms and observations per basin, most storms first.
pub fn storms_per_basin(conn: &mut PgConnection) -> Result<Vec<BasinCount>> {
    Ok(diesel::sql_query(
        "SELECT basin, count(*) AS storms, sum(observations)::bigint AS observations \
         FROM storms GROUP BY basin ORDER BY storms DESC, basin",
    )
    .load(conn)?)
}

/// Storms per year and basin.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Serialize)]
pub struct YearBasinCount {
    /// Year of the storms' first observation.
    pub year: i32,
    /// Ocean basin name.
    pub basin: String,
    /// Storms in that year and basin.
    pub storms: i64,
}

/// Storms per year per basin, in year order.
pub fn storms_per_year(conn: &mut PgConnection) -> Result<Vec<YearBasinCount>> {
    use storms::dsl as s;
    Ok(s::storms
        .group_by((s::year, s::basin))
        .select((s::year, s::basin, diesel::dsl::count_star()))
        .order((s::year.asc(), s::basin.asc()))
        .load(conn)?)
}

/// Storms per peak category per basin.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Serialize)]
pub struct CategoryCount {
    /// Ocean basin name.
    pub basin: String,
    /// Category at peak wind (`H1`..`H5`, `TS`, ...).
    pub peak_cat: String,
    /// Storms in that basin that peaked at that category.
    pub storms: i64,
}

/// How many storms peaked at each category, per basin.
pub fn category_counts(conn: &mut PgConnection) -> Result<Vec<CategoryCount>> {
    use storms::dsl as s;
    Ok(s::storms
        .group_by((s::basin, s::peak_cat))
        .select((s::basin, s::peak_cat, diesel::dsl::count_star()))
        .order((s::basin.asc(), s::peak_cat.asc()))
        .load(conn)?)
}

/// A storm that passed near a place, with its closest observation.
#[derive(Debug, Clone, PartialEq, QueryableByName, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NearStorm {
    /// Storm ID.
    #[diesel(sql_type = Int2)]
    pub btid: i16,
    /// Storm name at its peak observation.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Year of the storm's first observation.
    #[diesel(sql_type = Int4)]
    pub year: i32,
    /// Ocean basin name.
    #[diesel(sql_type = Text)]
    pub basin: String,
    /// Great-circle distance of the closest observation, km.
    #[diesel(sql_type = Double)]
    pub closest_km: f64,
    /// FID of that observation.
    #[diesel(sql_type = Int4)]
    pub fid: i32,
    /// Time of that observation (the closest approach), UTC.
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub time: DateTime<Utc>,
    /// Wind speed at that observation, knots.
    #[diesel(sql_type = Int2)]
    pub wind_kts: i16,
}

const EARTH_RADIUS_KM: f64 = 6371.0088;
const KM_PER_DEGREE: f64 = std::f64::consts::PI * EARTH_RADIUS_KM / 180.0;

/// Storms with an observation within `km` of (`lat`, `lon`), closest first.
///
/// A bounding box around the place (two boxes across the date line) is matched by the
/// GiST index on the observation's position; the haversine distance then keeps only
/// the observations truly within `km`.
pub fn storms_near(
    conn: &mut PgConnection,
    place: Place,
    radius: Radius,
) -> Result<Vec<NearStorm>> {
    Ok(near_query("", place, radius).load(conn)?)
}

/// A point on the globe, checked: latitude -90..=90, longitude -180..=180 (east
/// positive), in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    lat: f64,
    lon: f64,
}

impl Place {
    /// The place at `lat`, `lon`; [`Error::InvalidInput`] outside the globe.
    pub fn new(lat: f64, lon: f64) -> Result<Place> {
        if !(-90.0..=90.0).contains(&lat) {
            return Err(Error::InvalidInput(format!(
                "lat \"{lat}\": expected -90 to 90"
            )));
        }
        if !(-180.0..=180.0).contains(&lon) {
            return Err(Error::InvalidInput(format!(
                "lon \"{lon}\": expected -180 to 180"
            )));
        }
        Ok(Place { lat, lon })
    }

    /// Latitude, degrees north.
    pub fn lat(self) -> f64 {
        self.lat
    }

    /// Longitude, degrees east.
    pub fn lon(self) -> f64 {
        self.lon
    }
}

/// A search radius, checked: more than 0 and at most 2000 km.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Radius(f64);

impl Radius {
    /// `km` kilometres; [`Error::InvalidInput`] outside (0, 2000].
    pub fn km(km: f64) -> Result<Radius> {
        if !(km > 0.0 && km <= 2000.0) {
            return Err(Error::InvalidInput(format!(
                "km \"{km}\": expected more than 0 and at most 2000"
            )));
        }
        Ok(Radius(km))
    }

    /// The radius in kilometres.
    pub fn as_km(self) -> f64 {
        self.0
    }
}

/// PostgreSQL's plan for [`storms_near`] with these arguments, one line per row:
/// shows whether the position index serves the box prefilter.
pub fn explain_storms_near(
    conn: &mut PgConnection,
    place: Place,
    radius: Radius,
) -> Result<Vec<String>> {
    #[derive(QueryableByName)]
    struct Plan {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }
    let plan: Vec<Plan> = near_query("EXPLAIN ", place, radius).load(conn)?;
    Ok(plan.into_iter().map(|p| p.line).collect())
}

fn near_query(
    prefix: &str,
    place: Place,
    radius: Radius,
) -> diesel::query_builder::BoxedSqlQuery<'static, diesel::pg::Pg, diesel::query_builder::SqlQuery>
{
    let (lat, lon, km) = (place.lat, place.lon, radius.0);
    let dlat = km / KM_PER_DEGREE;
    let (lat_lo, lat_hi) = ((lat - dlat).max(-90.0), (lat + dlat).min(90.0));
    let widest = lat_lo.abs().max(lat_hi.abs());
    let dlon = if widest >= 89.9 {
        180.0
    } else {
        (km / (KM_PER_DEGREE * widest.to_radians().cos())).min(180.0)
    };
    // Up to two boxes: (lon_lo, lon_hi) and, across the date line, its wrapped part.
    let (mut a, mut b) = ((lon - dlon, lon + dlon), (1.0, -1.0));
    if dlon >= 180.0 {
        a = (-180.0, 180.0);
    } else if a.0 < -180.0 {
        b = (a.0 + 360.0, 180.0);
        a.0 = -180.0;
    } else if a.1 > 180.0 {
        b = (-180.0, a.1 - 360.0);
        a.1 = 180.0;
    }
    diesel::sql_query(format!("{prefix}{NEAR_SQL}"))
        .into_boxed()
        .bind::<Double, _>(lat)
        .bind::<Double, _>(lon)
        .bind::<Double, _>(km)
        .bind::<Double, _>(lat_lo)
        .bind::<Double, _>(lat_hi)
        .bind::<Double, _>(a.0)
        .bind::<Double, _>(a.1)
        .bind::<Double, _>(b.0)
        .bind::<Double, _>(b.1)
}

/// $1 lat, $2 lon, $3 km, $4/$5 latitude band, $6/$7 first box, $8/$9 second box
/// (empty when $8 > $9).
const NEAR_SQL: &str = r#"
WITH candidates AS (
    SELECT h.fid, h.btid, h.wind_kts, h.timestamp,
           2 * 6371.0088 * asin(sqrt(
               sin(radians(h.lat::float8 - $1) / 2) ^ 2
             + cos(radians($1)) * cos(radians(h.lat::float8))
             * sin(radians(h.long::float8 - $2) / 2) ^ 2)) AS km
    FROM hurricanes h
    WHERE point(h.long::float8, h.lat::float8) <@ box(point($6, $4), point($7, $5))
       OR ($8 <= $9 AND point(h.long::float8, h.lat::float8) <@ box(point($8, $4), point($9, $5)))
), closest AS (
    SELECT DISTINCT ON (btid) btid, fid, wind_kts, timestamp, km
    FROM candidates WHERE km <= $3
    ORDER BY btid, km, fid
)
SELECT c.btid, s.name::text AS name, s.year, s.basin::text AS basin, c.km AS closest_km,
       c.fid, c.timestamp AS time, c.wind_kts
FROM closest c JOIN storms s USING (btid)
ORDER BY c.km, c.btid
"#;

impl crate::db::Db {
    /// One observation by FID: a single round trip on a pooled connection (no
    /// BEGIN/COMMIT around one statement, no test query on checkout, and Diesel's
    /// prepared-statement cache skips the parse after the first call). A connection
    /// lost since its last use (a server restart) is replaced and the read runs again.
    pub fn observation(&self, fid: i32) -> Result<Hurricane> {
        self.read_one(|conn| by_fid(conn, fid))
    }

    /// A storm's observations in time order (one round trip).
    pub fn track(&self, btid: i16) -> Result<Vec<Hurricane>> {
        self.read_one(|conn| track(conn, btid))
    }
}

/// Every category code with its meaning (the `categories` table), by code. Readers
/// and writers may read it; the codes are the only values `hurricanes.cat` accepts.
pub fn categories(conn: &mut PgConnection) -> Result<Vec<Category>> {
    Ok(categories::table
        .order(categories::code)
        .select(Category::as_select())
        .load(conn)?)
}

/// Every basin (the `basins` table), by name: the only values `hurricanes.basin` accepts.
pub fn basins(conn: &mut PgConnection) -> Result<Vec<Basin>> {
    Ok(basins::table
        .order(basins::name)
        .select(Basin::as_select())
        .load(conn)?)
}
