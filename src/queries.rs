//! Typed questions analysts and services ask of the data.

use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Int2, Int4, Nullable, Text, Timestamptz};
use serde::Serialize;

use crate::error::Result;
use crate::schema::hurricanes;

/// Observations in the table.
pub fn count(conn: &mut PgConnection) -> Result<i64> {
    Ok(hurricanes::table.count().get_result(conn)?)
}

/// Storms (distinct BTIDs) and observations per basin.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName, Serialize)]
pub struct BasinCount {
    #[diesel(sql_type = Text)]
    pub basin: String,
    #[diesel(sql_type = BigInt)]
    pub storms: i64,
    #[diesel(sql_type = BigInt)]
    pub observations: i64,
}

/// Storms and observations per basin, largest first.
pub fn storms_per_basin(conn: &mut PgConnection) -> Result<Vec<BasinCount>> {
    Ok(diesel::sql_query(
        "SELECT basin, count(DISTINCT btid) AS storms, count(*) AS observations \
         FROM hurricanes GROUP BY basin ORDER BY storms DESC, basin",
    )
    .load(conn)?)
}

/// A storm at its strongest.
#[derive(Debug, Clone, PartialEq, QueryableByName, Serialize)]
pub struct StrongStorm {
    #[diesel(sql_type = Int2)]
    pub btid: i16,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Int4)]
    pub year: i32,
    #[diesel(sql_type = Text)]
    pub basin: String,
    #[diesel(sql_type = Int2)]
    pub peak_wind_kts: i16,
    #[diesel(sql_type = Nullable<Int2>)]
    pub min_pressure: Option<i16>,
    #[diesel(sql_type = Timestamptz)]
    pub first_seen: DateTime<Utc>,
}

/// The `n` strongest storms by peak wind (lowest pressure breaks ties).
pub fn strongest_storms(conn: &mut PgConnection, n: i64) -> Result<Vec<StrongStorm>> {
    Ok(diesel::sql_query(
        "SELECT btid, min(name) AS name, \
                extract(year FROM min(\"timestamp\"))::int AS year, min(basin) AS basin, \
                max(wind_kts) AS peak_wind_kts, min(pressure) AS min_pressure, \
                min(\"timestamp\") AS first_seen \
         FROM hurricanes GROUP BY btid \
         ORDER BY peak_wind_kts DESC, min_pressure ASC NULLS LAST, btid LIMIT $1",
    )
    .bind::<BigInt, _>(n)
    .load(conn)?)
}

/// Exact decimal helper for reports: trims trailing zeros of a stored numeric(p,6).
pub fn trim_decimal(d: &BigDecimal) -> String {
    d.normalized().to_string()
}
