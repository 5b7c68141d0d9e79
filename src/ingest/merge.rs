//! The database side of a load: where the COPY goes and the set-based merge after it.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::encode::CopyFormat;
use crate::error::{Error, Result};
use crate::schema::hurricanes;

// Same columns as `hurricanes`; a temporary table, so not in schema.rs.
diesel::table! {
    hurricanes_staging (fid) {
        fid -> Int4,
        timestamp -> Timestamptz,
        btid -> Int2,
        name -> Varchar,
        lat -> Numeric,
        long -> Numeric,
        wind_kts -> Int2,
        pressure -> Nullable<Int2>,
        cat -> Varchar,
        basin -> Varchar,
        shape_length -> Numeric,
    }
}

/// Where this load's COPY goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// The table was empty: rows go straight in, nothing to merge.
    Direct,
    /// Rows go to a temporary staging table and are merged afterwards.
    Staging,
}

/// Counts from the merge.
pub(super) struct Counts {
    pub inserted: u64,
    pub updated: u64,
    pub not_in_file: u64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str) -> Result<u64> {
    let row: Count = diesel::sql_query(sql).get_result(conn)?;
    Ok(row.n as u64)
}

/// Locks out other writers for the load and picks the target.
pub(super) fn prepare(conn: &mut PgConnection) -> Result<Target> {
    // One load at a time, and no other writes while the table's state is compared;
    // readers are not blocked. Needs only UPDATE privilege (a writer login has it).
    diesel::sql_query("LOCK TABLE hurricanes IN SHARE ROW EXCLUSIVE MODE").execute(conn)?;
    let any: bool = diesel::select(diesel::dsl::exists(
        hurricanes::table.select(hurricanes::fid),
    ))
    .get_result(conn)?;
    if !any {
        return Ok(Target::Direct);
    }
    diesel::sql_query(
        "CREATE TEMP TABLE hurricanes_staging (LIKE hurricanes INCLUDING DEFAULTS) ON COMMIT DROP",
    )
    .execute(conn)?;
    Ok(Target::Staging)
}

/// Runs the COPY, with `write` producing the data while it streams.
pub(super) fn copy<F>(
    conn: &mut PgConnection,
    target: Target,
    format: CopyFormat,
    write: F,
) -> Result<()>
where
    F: Fn(&mut dyn std::io::Write) -> Result<()>,
{
    match target {
        Target::Direct => diesel::copy_from(hurricanes::table)
            .from_raw_data(hurricanes::table, write)
            .with_format(format.diesel())
            .execute(conn)?,
        Target::Staging => diesel::copy_from(hurricanes_staging::table)
            .from_raw_data(hurricanes_staging::table, write)
            .with_format(format.diesel())
            .execute(conn)?,
    };
    Ok(())
}

/// Merges staged rows (if any) and counts what happened. `rows` is the number copied.
pub(super) fn finish(conn: &mut PgConnection, target: Target, rows: u64) -> Result<Counts> {
    if target == Target::Direct {
        return Ok(Counts {
            inserted: rows,
            updated: 0,
            not_in_file: 0,
        });
    }
    // Temp tables get no autovacuum statistics; the join plan needs them.
    diesel::sql_query("ANALYZE hurricanes_staging").execute(conn)?;
    let updated = count(conn, UPDATE_CHANGED)?;
    let inserted = count(conn, INSERT_NEW)?;
    let total = count(conn, "SELECT count(*) AS n FROM hurricanes")?;
    let not_in_file = total.checked_sub(rows).ok_or_else(|| Error::Database {
        message: format!("merge left {total} rows for {rows} staged"),
    })?;
    Ok(Counts {
        inserted,
        updated,
        not_in_file,
    })
}

/// Updates only rows whose values differ: an unchanged row is never written.
const UPDATE_CHANGED: &str = r#"
WITH changed AS (
    UPDATE hurricanes AS h
    SET "timestamp" = s."timestamp", btid = s.btid, name = s.name, lat = s.lat,
        long = s.long, wind_kts = s.wind_kts, pressure = s.pressure, cat = s.cat,
        basin = s.basin, shape_length = s.shape_length
    FROM hurricanes_staging AS s
    WHERE h.fid = s.fid
      AND (h."timestamp", h.btid, h.name, h.lat, h.long, h.wind_kts, h.pressure, h.cat,
           h.basin, h.shape_length)
          IS DISTINCT FROM
          (s."timestamp", s.btid, s.name, s.lat, s.long, s.wind_kts, s.pressure, s.cat,
           s.basin, s.shape_length)
    RETURNING 1
)
SELECT count(*) AS n FROM changed
"#;

/// Inserts FIDs the table does not have yet.
const INSERT_NEW: &str = r#"
WITH added AS (
    INSERT INTO hurricanes
    SELECT s.* FROM hurricanes_staging AS s
    WHERE NOT EXISTS (SELECT 1 FROM hurricanes AS h WHERE h.fid = s.fid)
    RETURNING 1
)
SELECT count(*) AS n FROM added
"#;
