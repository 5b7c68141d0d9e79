//! Sort orders, pages and keyset cursors of a search.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::models::Hurricane;
use crate::schema::hurricanes;

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

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The results on this page, in the requested order.
    pub items: Vec<T>,
    /// Token for the next page, `None` on the last one.
    pub next_page: Option<String>,
}

/// Where the previous page ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Cursor {
    Time(DateTime<Utc>, i32),
    Wind(i16, i32),
    Pressure(Option<i16>, i32),
}

impl Cursor {
    pub(super) fn of(order: Order, h: &Hurricane) -> Cursor {
        match order {
            Order::TimeAsc | Order::TimeDesc => Cursor::Time(h.timestamp, h.fid),
            Order::WindAsc | Order::WindDesc => Cursor::Wind(h.wind_kts, h.fid),
            Order::PressureAsc | Order::PressureDesc => Cursor::Pressure(h.pressure, h.fid),
        }
    }

    pub(super) fn token(self, order: Order) -> String {
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

    pub(super) fn parse(token: &str, order: Order) -> Result<Cursor> {
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

pub(super) type BoxedSearch<'a> = hurricanes::BoxedQuery<
    'a,
    diesel::pg::Pg,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<Hurricane, diesel::pg::Pg>>,
>;

/// Keeps only rows after the cursor in the page order (ties broken by FID).
pub(super) fn after(q: BoxedSearch<'_>, cursor: Cursor, order: Order) -> BoxedSearch<'_> {
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
