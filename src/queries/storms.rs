//! The storm summary: filtered lists and counts per basin, year and category.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde::{Deserialize, Serialize};

use crate::codes::Basin;
use crate::error::Result;
use crate::models::Storm;
use crate::schema::storms;

use super::input::{check_pattern, check_range, check_wind, check_year, like_pattern, page_size};

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

impl StormFilter {
    /// Checks what can be checked without the database (page size, years, basins,
    /// the name pattern), before a connection is taken; [`storms()`] calls it too.
    pub fn validate(&self) -> Result<()> {
        page_size(self.limit)?;
        check_year("year_from", self.year_from)?;
        check_year("year_to", self.year_to)?;
        check_range("year", &self.year_from, &self.year_to)?;
        check_wind("min_wind", self.min_wind)?;
        for b in &self.basins {
            b.parse::<Basin>()?;
        }
        if let Some(name) = &self.name {
            check_pattern(name)?;
        }
        Ok(())
    }
}

/// Storms matching `f`, strongest first (peak wind, then lowest pressure, then BTID).
pub fn storms(conn: &mut PgConnection, f: &StormFilter) -> Result<Vec<Storm>> {
    use storms::dsl as s;
    f.validate()?;
    let limit = page_size(f.limit)?;
    let basins = f
        .basins
        .iter()
        .map(|b| b.parse())
        .collect::<Result<Vec<Basin>>>()?;
    let mut q = s::storms.select(Storm::as_select()).into_boxed();
    if let Some(name) = &f.name {
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
