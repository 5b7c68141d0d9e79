//! The observation search, and observations by FID and by storm.

use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::codes::{Basin, Category};
use crate::error::{Error, Result};
use crate::models::Hurricane;
use crate::schema::hurricanes;

use super::input::{
    check_degrees, check_pattern, check_range, check_wind, check_year, like_pattern, page_size,
    year_start,
};
use super::page::{after, BoxedSearch, Cursor, Order, Page};

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

impl Filter {
    /// Checks every part that can be checked without the database, before a
    /// connection is taken: page size and paging, ranges, basins and categories, the
    /// name pattern, and the box bounds with the stored columns' range and decimals
    /// (`lat_min` -90 to 90, `lon_min` -180 to 180, at most 6 decimals). [`search`]
    /// calls it too; callers that take a connection first call it before.
    pub fn validate(&self) -> Result<()> {
        page_size(self.limit)?;
        if let Some(offset) = self.offset {
            if offset < 0 {
                return Err(Error::InvalidInput(format!(
                    "offset \"{offset}\": expected 0 or more"
                )));
            }
        }
        if self.offset.is_some() && self.page_token.is_some() {
            return Err(Error::InvalidInput(
                "offset and page_token: expected one way of paging, not both".into(),
            ));
        }
        if let Some(name) = &self.name {
            if name.trim().is_empty() {
                return Err(Error::InvalidInput(
                    "name \"\": expected a name or pattern".into(),
                ));
            }
            check_pattern(name)?;
        }
        for (field, value) in [("lat_min", &self.lat_min), ("lat_max", &self.lat_max)] {
            if let Some(v) = value {
                check_degrees(field, v, -90, 90)?;
            }
        }
        for (field, value) in [("lon_min", &self.lon_min), ("lon_max", &self.lon_max)] {
            if let Some(v) = value {
                check_degrees(field, v, -180, 180)?;
            }
        }
        check_year("year_from", self.year_from)?;
        check_year("year_to", self.year_to)?;
        for y in [self.year_from, self.year_to].into_iter().flatten() {
            year_start(y)?;
        }
        check_wind("min_wind", self.min_wind)?;
        check_wind("max_wind", self.max_wind)?;
        check_range("time", &self.time_from, &self.time_to)?;
        check_range("year", &self.year_from, &self.year_to)?;
        check_range("wind", &self.min_wind, &self.max_wind)?;
        check_range("pressure", &self.min_pressure, &self.max_pressure)?;
        check_range("latitude", &self.lat_min, &self.lat_max)?;
        for b in &self.basins {
            b.parse::<Basin>()?;
        }
        for c in &self.cats {
            c.parse::<Category>()?;
        }
        if let Some(token) = &self.page_token {
            Cursor::parse(token, self.order)?;
        }
        Ok(())
    }
}

/// Runs a search and returns one page.
pub fn search(conn: &mut PgConnection, f: &Filter) -> Result<Page<Hurricane>> {
    use hurricanes::dsl as h;
    f.validate()?;
    let limit = page_size(f.limit)?;
    let basins = f
        .basins
        .iter()
        .map(|b| b.parse())
        .collect::<Result<Vec<Basin>>>()?;
    let cats = f
        .cats
        .iter()
        .map(|c| c.parse())
        .collect::<Result<Vec<Category>>>()?;

    let mut q: BoxedSearch<'_> = h::hurricanes.select(Hurricane::as_select()).into_boxed();
    if let Some(name) = &f.name {
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

/// One observation by FID (one round trip, no transaction needed).
pub fn by_fid(conn: &mut PgConnection, fid: i32) -> Result<Hurricane> {
    hurricanes::table
        .find(fid)
        .select(Hurricane::as_select())
        .get_result(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("observation with FID {fid}")))
}

/// A storm's observations in time order ([`crate::Db::track`] on a pooled connection).
pub fn by_btid(conn: &mut PgConnection, btid: i16) -> Result<Vec<Hurricane>> {
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
