//! The database side of a load: where the COPY goes and the set-based merge after it.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, SmallInt, Text};

use super::encode::{Columns, CopyFormat};
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
    pub storms: StormCounts,
}

/// What a load did to storms (BTIDs, after matching).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct StormCounts {
    pub in_file: u64,
    pub added: u64,
    pub revised: u64,
    pub not_in_file: u64,
}

#[derive(QueryableByName)]
struct Touched {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Array<SmallInt>)]
    btids: Vec<i16>,
}

/// Runs a merge statement that returns `n` (rows written) and `btids` (their storms).
fn touched(
    conn: &mut PgConnection,
    sql: &str,
    storms: &mut std::collections::HashSet<i16>,
) -> Result<u64> {
    let row: Touched = diesel::sql_query(sql).get_result(conn)?;
    storms.extend(row.btids);
    Ok(row.n as u64)
}

#[derive(QueryableByName)]
struct StagedStorms {
    #[diesel(sql_type = BigInt)]
    in_file: i64,
    #[diesel(sql_type = BigInt)]
    added: i64,
    #[diesel(sql_type = BigInt)]
    stored: i64,
}

/// The staged file's storms against the stored ones (before the merge writes).
fn staged_storms(conn: &mut PgConnection) -> Result<StagedStorms> {
    Ok(diesel::sql_query(
        "SELECT count(*) AS in_file, count(*) FILTER (WHERE st.btid IS NULL) AS added, \
         (SELECT count(*) FROM storms) AS stored \
         FROM (SELECT DISTINCT btid FROM hurricanes_staging) s LEFT JOIN storms st USING (btid)",
    )
    .get_result(conn)?)
}

/// Merges staged rows: updates changed ones, inserts new ones, counts rows and storms.
fn merge_staged(conn: &mut PgConnection, update: &str, rows: u64) -> Result<Counts> {
    let before = staged_storms(conn)?;
    let mut storms = std::collections::HashSet::new();
    let updated = touched(conn, update, &mut storms)?;
    let inserted = touched(conn, INSERT_NEW, &mut storms)?;
    let total = count(conn, "SELECT count(*) AS n FROM hurricanes")?;
    let not_in_file = total.checked_sub(rows).ok_or_else(|| Error::Database {
        message: format!("merge left {total} rows for {rows} staged"),
        source: None,
    })?;
    let (in_file, added) = (before.in_file as u64, before.added as u64);
    Ok(Counts {
        inserted,
        updated,
        not_in_file,
        storms: StormCounts {
            in_file,
            added,
            // Every added storm had rows inserted; the other storms written were stored.
            revised: (storms.len() as u64).saturating_sub(added),
            not_in_file: (before.stored as u64).saturating_sub(in_file - added),
        },
    })
}

/// Records the start of a load in `loads` (migration 000008) and returns its id, which
/// the audit trigger then writes into every edit of this transaction; `None` on a
/// database without the table (the load is then not recorded).
pub(super) fn begin_load(
    conn: &mut PgConnection,
    file_name: &str,
    format: &str,
    size: u64,
) -> Result<Option<i64>> {
    let exists: Flag = diesel::sql_query(
        "SELECT to_regprocedure('public.loads_begin(text,text,bigint)') IS NOT NULL AS flag",
    )
    .get_result(conn)?;
    if !exists.flag {
        return Ok(None);
    }
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let id: Id = diesel::sql_query("SELECT public.loads_begin($1, $2, $3) AS id")
        .bind::<Text, _>(file_name)
        .bind::<Text, _>(format)
        .bind::<BigInt, _>(i64::try_from(size).unwrap_or(0))
        .get_result(conn)?;
    Ok(Some(id.id))
}

/// Records a load's counts and end time (same transaction as [`begin_load`]).
pub(super) fn finish_load(conn: &mut PgConnection, id: i64, s: &super::LoadSummary) -> Result<()> {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    diesel::sql_query(
        "SELECT public.loads_finish($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind::<BigInt, _>(id)
    .bind::<BigInt, _>(n(s.rows))
    .bind::<BigInt, _>(n(s.inserted))
    .bind::<BigInt, _>(n(s.updated))
    .bind::<BigInt, _>(n(s.unchanged))
    .bind::<BigInt, _>(n(s.rejected))
    .bind::<BigInt, _>(n(s.not_in_file))
    .bind::<BigInt, _>(n(s.storms))
    .bind::<BigInt, _>(n(s.storms_added))
    .bind::<BigInt, _>(n(s.storms_revised))
    .bind::<BigInt, _>(n(s.storms_unchanged))
    .bind::<BigInt, _>(n(s.storms_not_in_file))
    .execute(conn)?;
    Ok(())
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
    // A loader killed mid-load must not leave its server session running (and holding
    // or waiting for the load lock) until its statement ends: the server checks every
    // second that the client is still there (PG 14+). Set first, so the wait for the
    // lock below is covered too.
    diesel::sql_query("SET LOCAL client_connection_check_interval = '1s'").execute(conn)?;
    diesel::sql_query("LOCK TABLE hurricanes IN SHARE ROW EXCLUSIVE MODE").execute(conn)?;
    // For this transaction only: the triggers' transition tables (every loaded row) and
    // the storm summary's sort stay in memory instead of spilling to temp files.
    diesel::sql_query("SET LOCAL work_mem = '256MB'").execute(conn)?;
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

#[derive(QueryableByName)]
struct Code {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    value: String,
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

/// The valid CAT and BASIN values, in one query on the reference tables; `None` on
/// a database migrated only up to 000005 (no reference tables, nothing to check).
pub(super) fn codes(conn: &mut PgConnection) -> Result<Option<super::parse::Codes>> {
    let exists: Flag = diesel::sql_query(
        "SELECT to_regclass('public.categories') IS NOT NULL \
         AND to_regclass('public.basins') IS NOT NULL AS flag",
    )
    .get_result(conn)?;
    if !exists.flag {
        return Ok(None);
    }
    let rows: Vec<Code> = diesel::sql_query(
        "SELECT 'cat' AS kind, code::text AS value FROM public.categories \
         UNION ALL SELECT 'basin', name::text FROM public.basins",
    )
    .load(conn)?;
    let mut codes = super::parse::Codes::default();
    for row in rows {
        match row.kind.as_str() {
            "cat" => codes.cats.push(row.value),
            _ => codes.basins.push(row.value),
        }
    }
    // Bytewise, for binary search (and the same order in every message).
    codes.cats.sort();
    codes.basins.sort();
    Ok(Some(codes))
}

/// Runs the COPY of `columns`, with `write` producing the data while it streams.
pub(super) fn copy<F>(
    conn: &mut PgConnection,
    target: Target,
    columns: Columns,
    format: CopyFormat,
    write: F,
) -> Result<()>
where
    F: Fn(&mut dyn std::io::Write) -> Result<()>,
{
    use hurricanes::table as live;
    use hurricanes_staging::table as staging;
    match (target, columns) {
        (Target::Direct, Columns::Ihw) => copy_into::<true, _, _>(conn, live, format, write),
        (Target::Direct, Columns::All) => copy_into::<false, _, _>(conn, live, format, write),
        (Target::Staging, Columns::Ihw) => copy_into::<true, _, _>(conn, staging, format, write),
        (Target::Staging, Columns::All) => copy_into::<false, _, _>(conn, staging, format, write),
    }
}

/// COPY into `table`, naming it (and with `IHW_ONLY` its IHW columns) as [`Named`] does.
fn copy_into<const IHW_ONLY: bool, T, F>(
    conn: &mut PgConnection,
    table: T,
    format: CopyFormat,
    write: F,
) -> Result<()>
where
    T: diesel::Table + SqlName + diesel::pg::CopyTarget<Table = T> + Copy,
    F: Fn(&mut dyn std::io::Write) -> Result<()>,
{
    diesel::copy_from(table)
        .from_raw_data(Named::<T, IHW_ONLY>(table), write)
        .with_format(format.diesel())
        .execute(conn)?;
    Ok(())
}

/// A COPY target written compactly: `COPY hurricanes FROM STDIN ...` for every
/// column, `COPY hurricanes(fid,...,shape_length) FROM STDIN ...` for the IHW ones
/// (`IHW_ONLY`), instead of Diesel's schema-qualified, quoted list of every column:
/// the audit trail stores the statement text with every row it records, so 100 bytes
/// saved here are 100 MB saved on a million-row load.
struct Named<T, const IHW_ONLY: bool>(T);

/// The IHW columns in table order, as [`CopyFormat::ihw_row`] writes them
/// (`ihw_columns_name_the_encoders_fields_in_order` checks them against schema.rs).
const IHW_COLUMN_LIST: &str =
    "(fid,\"timestamp\",btid,name,lat,long,wind_kts,pressure,cat,basin,shape_length)";

/// The SQL name of a table we COPY into.
trait SqlName {
    const NAME: &'static str;
}

impl SqlName for hurricanes::table {
    const NAME: &'static str = "hurricanes";
}

impl SqlName for hurricanes_staging::table {
    const NAME: &'static str = "hurricanes_staging";
}

impl<T, const IHW_ONLY: bool> diesel::pg::CopyTarget for Named<T, IHW_ONLY>
where
    T: SqlName + diesel::pg::CopyTarget,
{
    type Table = <T as diesel::pg::CopyTarget>::Table;
    type SqlType = <T as diesel::pg::CopyTarget>::SqlType;

    fn walk_target(
        mut pass: diesel::query_builder::AstPass<'_, '_, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        pass.push_sql(T::NAME);
        if IHW_ONLY {
            pass.push_sql(IHW_COLUMN_LIST);
        }
        Ok(())
    }
}

/// Merges staged rows (if any) and counts what happened. `rows` is the number copied.
pub(super) fn finish(conn: &mut PgConnection, target: Target, rows: u64) -> Result<Counts> {
    if target == Target::Direct {
        // Into an empty table: every storm of the file is new.
        let storms = count(conn, "SELECT count(DISTINCT btid) AS n FROM hurricanes")?;
        return Ok(Counts {
            inserted: rows,
            updated: 0,
            not_in_file: 0,
            storms: StormCounts {
                in_file: storms,
                added: storms,
                ..StormCounts::default()
            },
        });
    }
    // Temp tables get no autovacuum statistics; the join plan needs them.
    diesel::sql_query("ANALYZE hurricanes_staging").execute(conn)?;
    merge_staged(conn, UPDATE_CHANGED, rows)
}

/// Updates only rows whose IHW values differ: an unchanged row is never written, and
/// the HURDAT2 columns (which the IHW CSV does not carry) are left as they are. Kept
/// short: the audit trail stores this text with every row it changes.
const UPDATE_CHANGED: &str = "WITH c AS (UPDATE hurricanes h SET \
    \"timestamp\"=s.\"timestamp\",btid=s.btid,name=s.name,lat=s.lat,long=s.long,\
    wind_kts=s.wind_kts,pressure=s.pressure,cat=s.cat,basin=s.basin,shape_length=s.shape_length \
    FROM hurricanes_staging s WHERE h.fid=s.fid AND (h.\"timestamp\",h.btid,h.name,h.lat,h.long,\
    h.wind_kts,h.pressure,h.cat,h.basin,h.shape_length) IS DISTINCT FROM (s.\"timestamp\",s.btid,\
    s.name,s.lat,s.long,s.wind_kts,s.pressure,s.cat,s.basin,s.shape_length) RETURNING s.btid) \
    SELECT count(*) AS n,coalesce(array_agg(DISTINCT btid),'{}') AS btids FROM c";

/// Inserts FIDs the table does not have yet (short, for the same reason).
const INSERT_NEW: &str = "WITH a AS (INSERT INTO hurricanes SELECT s.* FROM hurricanes_staging s \
    WHERE NOT EXISTS (SELECT FROM hurricanes h WHERE h.fid=s.fid) RETURNING btid) \
    SELECT count(*) AS n,coalesce(array_agg(DISTINCT btid),'{}') AS btids FROM a";

/// The highest FID and BTID stored (0 when none): a HURDAT2 file's rows are numbered
/// after them while they stream, so a file of new storms needs no renumbering.
pub(super) fn highest_ids(conn: &mut PgConnection) -> Result<(i32, i16)> {
    #[derive(QueryableByName)]
    struct Highest {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        fid: i32,
        #[diesel(sql_type = diesel::sql_types::SmallInt)]
        btid: i16,
    }
    let h: Highest = diesel::sql_query(
        "SELECT coalesce(max(fid), 0) AS fid, coalesce(max(btid), 0)::smallint AS btid FROM hurricanes",
    )
    .get_result(conn)?;
    Ok((h.fid, h.btid))
}

/// Merges a staged HURDAT2 file (if staged) and counts what happened.
///
/// The COPY gave every staged row a provisional FID (the highest stored FID plus its
/// rank in the file) and BTID (the highest stored BTID plus its storm's rank). Here
/// they become final, in two statements on the staging table that only touch rows
/// whose number changes:
///
/// 1. each storm's BTID is the one of the stored storm with its ATCF id, else of a
///    stored storm without ATCF id with the same basin, first time and name (a
///    database loaded from the IHW CSV gets its ids attached instead of duplicated
///    storms), else a new one after the highest BTID, in file order;
/// 2. each observation's FID is the one of the stored observation with that BTID and
///    time, else a new one after the highest FID, in file order.
///
/// Step 2 is skipped when no staged storm was stored before (a file of new storms).
/// Then, as for the CSV, rows that differ in any column are updated and new FIDs
/// inserted; identical rows are not written. Into an empty table the provisional
/// numbers are final (FID = rank in the file, BTID = storm rank), which is how
/// storm_data.csv numbers the two NOAA files loaded Atlantic first.
pub(super) fn finish_hurdat2(conn: &mut PgConnection, target: Target, rows: u64) -> Result<Counts> {
    if target == Target::Direct {
        return finish(conn, target, rows);
    }
    diesel::sql_query("ANALYZE hurricanes_staging").execute(conn)?;
    diesel::sql_query(ASSIGN_BTIDS).execute(conn)?;
    // Observations can only match in storms that were already stored.
    let in_stored_storms = count(
        conn,
        "SELECT count(*) AS n FROM hurricanes_staging s \
         WHERE EXISTS (SELECT FROM storms st WHERE st.btid = s.btid)",
    )?;
    if in_stored_storms > 0 {
        diesel::sql_query(ASSIGN_FIDS).execute(conn)?;
    }
    merge_staged(conn, UPDATE_CHANGED_ALL, rows)
}

/// Step 1 of [`finish_hurdat2`] (on the temporary table: not audited). Storms without
/// ATCF id that share basin, name and first time (two unnamed storms may start
/// together) are paired with the staged ones in order: BTID order with file order.
const ASSIGN_BTIDS: &str = "WITH f AS (\
    SELECT atcf_id, min(fid) AS seq, min(\"timestamp\") AS t0, min(basin) AS basin, min(name) AS name \
    FROM hurricanes_staging GROUP BY atcf_id), \
byid AS (SELECT f.atcf_id, st.btid FROM f JOIN storms st ON st.atcf_id = f.atcf_id), \
fr AS (SELECT f.*, row_number() OVER (PARTITION BY basin, name, t0 ORDER BY seq) AS r FROM f \
    WHERE NOT EXISTS (SELECT FROM byid WHERE byid.atcf_id = f.atcf_id)), \
sr AS (SELECT btid, basin, name, first_time, \
    row_number() OVER (PARTITION BY basin, name, first_time ORDER BY btid) AS r \
    FROM storms WHERE atcf_id IS NULL), \
bykey AS (SELECT fr.atcf_id, sr.btid FROM fr JOIN sr ON sr.basin = fr.basin AND sr.name = fr.name \
    AND sr.first_time = fr.t0 AND sr.r = fr.r), \
k AS (SELECT f.atcf_id, f.seq, coalesce(byid.btid, bykey.btid) AS old \
    FROM f LEFT JOIN byid USING (atcf_id) LEFT JOIN bykey USING (atcf_id)), \
n AS (SELECT atcf_id, coalesce(old, ((SELECT coalesce(max(btid), 0) FROM hurricanes) \
    + row_number() OVER (PARTITION BY old IS NULL ORDER BY seq))::smallint) AS btid FROM k) \
UPDATE hurricanes_staging s SET btid = n.btid FROM n WHERE s.atcf_id = n.atcf_id AND s.btid <> n.btid";

/// Step 2 of [`finish_hurdat2`] (on the temporary table: not audited).
const ASSIGN_FIDS: &str = "WITH m AS (\
    SELECT s.fid AS seq, (SELECT min(h.fid) FROM hurricanes h \
       WHERE h.btid = s.btid AND h.\"timestamp\" = s.\"timestamp\") AS old \
    FROM hurricanes_staging s), \
n AS (SELECT seq, coalesce(old, (SELECT coalesce(max(fid), 0) FROM hurricanes) \
    + row_number() OVER (PARTITION BY old IS NULL ORDER BY seq))::integer AS fid FROM m) \
UPDATE hurricanes_staging s SET fid = n.fid FROM n WHERE s.fid = n.seq AND s.fid <> n.fid";

/// Updates rows that differ in any column, HURDAT2 ones included (short: audited).
const UPDATE_CHANGED_ALL: &str = "WITH c AS (UPDATE hurricanes h SET \
    \"timestamp\"=s.\"timestamp\",btid=s.btid,name=s.name,lat=s.lat,long=s.long,\
    wind_kts=s.wind_kts,pressure=s.pressure,cat=s.cat,basin=s.basin,shape_length=s.shape_length,\
    atcf_id=s.atcf_id,record_id=s.record_id,status=s.status,r34_ne=s.r34_ne,r34_se=s.r34_se,\
    r34_sw=s.r34_sw,r34_nw=s.r34_nw,r50_ne=s.r50_ne,r50_se=s.r50_se,r50_sw=s.r50_sw,\
    r50_nw=s.r50_nw,r64_ne=s.r64_ne,r64_se=s.r64_se,r64_sw=s.r64_sw,r64_nw=s.r64_nw,rmw=s.rmw \
    FROM hurricanes_staging s WHERE h.fid=s.fid AND ROW(h.*) IS DISTINCT FROM ROW(s.*) \
    RETURNING s.btid) SELECT count(*) AS n,coalesce(array_agg(DISTINCT btid),'{}') AS btids FROM c";

#[cfg(test)]
mod tests {
    use diesel::Column;

    use super::*;

    /// The list names schema.rs's columns in the order the encoder writes them.
    #[test]
    fn ihw_columns_name_the_encoders_fields_in_order() {
        use hurricanes::*;
        let encoder_order = [
            fid::NAME,
            timestamp::NAME,
            btid::NAME,
            name::NAME,
            lat::NAME,
            long::NAME,
            wind_kts::NAME,
            pressure::NAME,
            cat::NAME,
            basin::NAME,
            shape_length::NAME,
        ];
        let listed: Vec<&str> = IHW_COLUMN_LIST
            .trim_matches(['(', ')'])
            .split(',')
            .map(|c| c.trim_matches('"'))
            .collect();
        assert_eq!(listed, encoder_order);
    }
}
