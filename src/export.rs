//! Writing the table back out: NOAA's HURDAT2 text or the IHW CSV layout.
//!
//! Both stream: rows are read in keyset pages of [`PAGE_ROWS`] (never the whole
//! table), formatted and written before the next page is read, so memory stays flat
//! for any size.
//!
//! **One snapshot.** Every page, and the storm counts, are read in one REPEATABLE
//! READ transaction, so the file is the database as of one moment: a load or an edit
//! that commits while an export runs is either wholly in the file (committed before
//! the export's first read) or not at all. Called on a connection outside a
//! transaction, an export opens its own (REPEATABLE READ, READ ONLY). Inside the
//! caller's transaction it uses that transaction's snapshot: at REPEATABLE READ or
//! SERIALIZABLE as it is; at READ COMMITTED (e.g. [`crate::Db::read`]) it first makes
//! the transaction REPEATABLE READ, which PostgreSQL allows only before its first
//! query, so an export in a READ COMMITTED transaction that has already read fails
//! ([`Error::InvalidInput`]) instead of writing pages of different moments.
//!
//! **HURDAT2** (`export_hurdat2`): storms in BTID order, each a header line
//! (`AL122005,            KATRINA,     34,`) and its observations in time order, in
//! NOAA's column layout (names right-aligned in 19 characters, counts in 7; data
//! fields `20050829, 1110, L, HU, 29.5N,  89.6W, 110,  920, ...`), CRLF line ends as
//! in NOAA's files, -999 for missing values, `NOTNAMED` written back as `UNNAMED`.
//! Positions are written with as many decimals as they need, at least one (NOAA
//! writes one). Only storms with an ATCF id (loaded from HURDAT2) are written; others
//! are counted as skipped. The radius of maximum wind (21st field) is written only for
//! storms that have one. The status written is the one of the observation's category
//! ([`Category::hurdat2_status`]: `HU` for `H1`..`H5`, `EX` for `E`,
//! ...), never one that contradicts it; the database keeps a stored status equal to it
//! (migration 000010). Exporting what was loaded from a NOAA file gives the file
//! back line for line, except GENEVIEVE 2014's misaligned `HU ,23.1N, 177.0E`, written
//! aligned (`  HU, 23.1N, 177.0E`).
//!
//! **IHW** (`export_ihw`): the CSV header and one line per row in FID order, as
//! storm_data.csv writes them (LF line ends, LAT/LONG with at least one decimal,
//! PRESSURE 0 when not measured, Shape_Leng with 6 decimals).

use std::io::Write;
use std::time::{Duration, Instant};

use bigdecimal::{BigDecimal, Signed};
use chrono::{DateTime, Datelike, Timelike, Utc};
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::codes::{Basin, Category};
use crate::error::{Error, Result};
use crate::models::{Hurdat2Fields, Hurricane};
use crate::schema::{hurricanes, storms};

/// Rows read per page.
pub const PAGE_ROWS: i64 = 5_000;

/// Which storms to export (whole storms: the filter is on the storm summary).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportFilter {
    /// Storms of this basin (`North Atlantic`, `Eastern Pacific`; any case).
    pub basin: Option<String>,
    /// First year included (year of the storm's first observation).
    pub year_from: Option<i32>,
    /// Last year included.
    pub year_to: Option<i32>,
}

/// What an export wrote. `Display` is the one-line summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// `hurdat2` or `ihw`.
    pub format: &'static str,
    /// Observation lines written.
    pub rows: u64,
    /// Storms written.
    pub storms: u64,
    /// Storms left out (HURDAT2: no ATCF id).
    pub skipped_storms: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl std::fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        write!(
            f,
            "exported {} rows of {} storms as {} ({} storms without ATCF id skipped) in {:.2} s ({:.0} rows/s)",
            self.rows,
            self.storms,
            self.format,
            self.skipped_storms,
            secs,
            self.rows as f64 / secs.max(1e-9)
        )
    }
}

type Row = (Hurricane, Hurdat2Fields, i32);

/// Checks the filter's values before any query.
fn check(f: &ExportFilter) -> Result<()> {
    if let Some(b) = &f.basin {
        b.parse::<Basin>()?;
    }
    if let (Some(a), Some(b)) = (f.year_from, f.year_to) {
        if a > b {
            return Err(Error::InvalidInput(format!(
                "year_from {a} is after year_to {b}"
            )));
        }
    }
    Ok(())
}

/// Applies the filter to a boxed query over `storms` (joined or not); needs
/// `storms::dsl as s` in scope.
macro_rules! storm_filter {
    ($q:expr, $f:expr) => {{
        let mut q = $q;
        if let Some(basin) = &$f.basin {
            q = q.filter(s::basin.eq(basin.parse::<Basin>()?));
        }
        if let Some(y) = $f.year_from {
            q = q.filter(s::year.ge(y));
        }
        if let Some(y) = $f.year_to {
            q = q.filter(s::year.le(y));
        }
        q
    }};
}

fn io(e: std::io::Error) -> Error {
    Error::io("export output", e)
}

#[derive(QueryableByName)]
struct Isolation {
    #[diesel(sql_type = diesel::sql_types::Text)]
    transaction_isolation: String,
}

/// Runs `f` in one snapshot (see the module docs): its own REPEATABLE READ READ ONLY
/// transaction, or the caller's transaction made (or found) REPEATABLE READ.
fn in_one_snapshot<T>(
    conn: &mut PgConnection,
    f: impl FnOnce(&mut PgConnection) -> Result<T>,
) -> Result<T> {
    let depth = AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth()?;
    if depth.is_none() {
        return conn
            .build_transaction()
            .repeatable_read()
            .read_only()
            .run(f);
    }
    // SHOW takes no snapshot (PostgreSQL lets SET and SHOW run before the first query
    // of a REPEATABLE READ transaction), so the SET below may still follow it.
    let level: Isolation = diesel::sql_query("SHOW transaction_isolation").get_result(conn)?;
    if !matches!(
        level.transaction_isolation.as_str(),
        "repeatable read" | "serializable"
    ) {
        diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute(conn)
            .map_err(|e| {
                Error::InvalidInput(format!(
                    "an export reads one snapshot: run it outside a transaction, first in one, \
                     or in a REPEATABLE READ or SERIALIZABLE transaction; this {} transaction \
                     cannot become REPEATABLE READ ({e})",
                    level.transaction_isolation.to_uppercase()
                ))
            })?;
    }
    f(conn)
}

/// Writes the selected storms as HURDAT2 text to `out`, from one snapshot (see the
/// module docs).
pub fn export_hurdat2(
    conn: &mut PgConnection,
    f: &ExportFilter,
    out: &mut dyn Write,
) -> Result<ExportSummary> {
    check(f)?;
    in_one_snapshot(conn, |conn| hurdat2_pages(conn, f, out))
}

fn hurdat2_pages(
    conn: &mut PgConnection,
    f: &ExportFilter,
    out: &mut dyn Write,
) -> Result<ExportSummary> {
    use hurricanes::dsl as h;
    use storms::dsl as s;
    let started = Instant::now();
    let mut summary = ExportSummary {
        format: "hurdat2",
        ..ExportSummary::default()
    };
    // Storms without ATCF id are not written: count them.
    let skipped = storm_filter!(s::storms.filter(s::atcf_id.is_null()).into_boxed(), f);
    summary.skipped_storms = skipped.count().get_result::<i64>(conn)? as u64;
    let mut last: Option<(i16, DateTime<Utc>, i32)> = None;
    let mut current: Option<i16> = None;
    let mut buf = Vec::with_capacity(1 << 16);
    loop {
        let mut q = storm_filter!(
            h::hurricanes
                .inner_join(s::storms.on(s::btid.eq(h::btid)))
                .filter(s::atcf_id.is_not_null())
                .select((
                    Hurricane::as_select(),
                    Hurdat2Fields::as_select(),
                    s::observations
                ))
                .into_boxed(),
            f
        );
        if let Some((b, t, fid)) = last {
            q = q.filter(
                h::btid.gt(b).or(h::btid.eq(b).and(
                    h::timestamp
                        .gt(t)
                        .or(h::timestamp.eq(t).and(h::fid.gt(fid))),
                )),
            );
        }
        let page: Vec<Row> = q
            .order((h::btid, h::timestamp, h::fid))
            .limit(PAGE_ROWS)
            .load(conn)?;
        for (o, x, count) in &page {
            if current != Some(o.btid) {
                current = Some(o.btid);
                summary.storms += 1;
                let name = if o.name == "NOTNAMED" {
                    "UNNAMED"
                } else {
                    &o.name
                };
                let id = x.atcf_id.as_deref().unwrap_or("");
                let _ = write!(buf, "{id},{name:>19},{count:>7},\r\n");
            }
            hurdat2_line(o, x, &mut buf)?;
            summary.rows += 1;
        }
        out.write_all(&buf).map_err(io)?;
        buf.clear();
        match page.last() {
            Some((o, _, _)) if page.len() as i64 == PAGE_ROWS => {
                last = Some((o.btid, o.timestamp, o.fid))
            }
            _ => break,
        }
    }
    out.flush().map_err(io)?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// `28.000000` -> `28.0`; `28.250000` -> `28.25`.
fn degrees(d: &BigDecimal) -> String {
    let text = d.abs().to_string();
    match text.split_once('.') {
        Some((int, frac)) => {
            let frac = frac.trim_end_matches('0');
            format!("{int}.{}", if frac.is_empty() { "0" } else { frac })
        }
        None => format!("{text}.0"),
    }
}

/// The status of the observation's category ([`Category::hurdat2_status`]); the
/// stored status only for a code the enum does not know (the database keeps status
/// and category paired, migration 000010).
fn status_of(o: &Hurricane, x: &Hurdat2Fields) -> Result<String> {
    match (Category::from_code(&o.cat), x.status.as_deref()) {
        (Some(c), _) => Ok(c.hurdat2_status().to_string()),
        (None, Some(stored)) => Ok(stored.to_string()),
        (None, None) => Err(Error::InvalidInput(format!(
            "FID {}: category {:?} has no HURDAT2 status, so the observation cannot be \
             written as HURDAT2 (export it with --format ihw)",
            o.fid, o.cat
        ))),
    }
}

fn hurdat2_line(o: &Hurricane, x: &Hurdat2Fields, buf: &mut Vec<u8>) -> Result<()> {
    let t = o.timestamp;
    // 0.0 of longitude is written W, as NOAA does (the Atlantic file has two).
    let lat = format!(
        "{}{}",
        degrees(&o.lat),
        if o.lat.is_negative() { 'S' } else { 'N' }
    );
    let long = format!(
        "{}{}",
        degrees(&o.long),
        if o.long.is_positive() { 'E' } else { 'W' }
    );
    let record = x.record_id.as_deref().unwrap_or(" ");
    let _ = write!(
        buf,
        "{:04}{:02}{:02}, {:02}{:02}, {record}, {:>2}, {lat:>5}, {long:>6}, {:>3}, {:>4},",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        status_of(o, x)?,
        o.wind_kts,
        o.pressure.unwrap_or(-999),
    );
    let radii = [
        x.r34_ne, x.r34_se, x.r34_sw, x.r34_nw, x.r50_ne, x.r50_se, x.r50_sw, x.r50_nw, x.r64_ne,
        x.r64_se, x.r64_sw, x.r64_nw,
    ];
    for r in radii {
        let _ = write!(buf, " {:>4},", r.unwrap_or(-999));
    }
    if let Some(rmw) = x.rmw {
        let _ = write!(buf, " {rmw:>4},");
    }
    buf.extend_from_slice(b"\r\n");
    Ok(())
}

/// Writes the selected storms' rows as the IHW CSV (header first, FID order), from one
/// snapshot (see the module docs).
pub fn export_ihw(
    conn: &mut PgConnection,
    f: &ExportFilter,
    out: &mut dyn Write,
) -> Result<ExportSummary> {
    check(f)?;
    in_one_snapshot(conn, |conn| ihw_pages(conn, f, out))
}

fn ihw_pages(
    conn: &mut PgConnection,
    f: &ExportFilter,
    out: &mut dyn Write,
) -> Result<ExportSummary> {
    use hurricanes::dsl as h;
    use storms::dsl as s;
    let started = Instant::now();
    let mut summary = ExportSummary {
        format: "ihw",
        ..ExportSummary::default()
    };
    summary.storms = storm_filter!(s::storms.into_boxed(), f)
        .count()
        .get_result::<i64>(conn)? as u64;
    // The csv crate quotes a field only when it must (a comma, a quote or a line end
    // in a name), as storm_data.csv does; LF line ends as in that file.
    let mut csv = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(1 << 16)
        .from_writer(out);
    csv.write_record(crate::ingest::HEADER).map_err(csv_io)?;
    let mut last: Option<i32> = None;
    loop {
        let mut q = storm_filter!(
            h::hurricanes
                .inner_join(s::storms.on(s::btid.eq(h::btid)))
                .select(Hurricane::as_select())
                .into_boxed(),
            f
        );
        if let Some(fid) = last {
            q = q.filter(h::fid.gt(fid));
        }
        let page: Vec<Hurricane> = q.order(h::fid).limit(PAGE_ROWS).load(conn)?;
        for o in &page {
            let t = o.timestamp;
            let sign = |d: &BigDecimal| if d.is_negative() { "-" } else { "" };
            csv.write_record([
                o.fid.to_string().as_str(),
                &t.year().to_string(),
                &t.month().to_string(),
                &t.day().to_string(),
                &format!("{:02}{:02}Z", t.hour(), t.minute()),
                &o.btid.to_string(),
                &o.name,
                &format!("{}{}", sign(&o.lat), degrees(&o.lat)),
                // storm_data.csv writes 0.0W as -0.0.
                &format!(
                    "{}{}",
                    if !o.long.is_positive() { "-" } else { "" },
                    degrees(&o.long)
                ),
                &o.wind_kts.to_string(),
                &o.pressure.unwrap_or(0).to_string(),
                &o.cat,
                &o.basin,
                &fixed6(&o.shape_length),
            ])
            .map_err(csv_io)?;
            summary.rows += 1;
        }
        match page.last() {
            Some(o) if page.len() as i64 == PAGE_ROWS => last = Some(o.fid),
            _ => break,
        }
    }
    csv.flush().map_err(io)?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// A csv writer's failure: its I/O error, named like the others.
fn csv_io(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => io(e),
        other => io(std::io::Error::other(format!("{other:?}"))),
    }
}

/// `0.6` -> `0.600000`, `0` -> `0.000000` (storm_data.csv's Shape_Leng).
fn fixed6(d: &BigDecimal) -> String {
    let text = d.with_scale(6).to_string();
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    format!("{int}.{frac:0<6}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn degrees_keep_at_least_one_decimal() {
        let d = |s| degrees(&BigDecimal::from_str(s).unwrap());
        assert_eq!(d("28.000000"), "28.0");
        assert_eq!(d("-94.800000"), "94.8");
        assert_eq!(d("28.250000"), "28.25");
        assert_eq!(d("0.000000"), "0.0");
        assert_eq!(d("7"), "7.0");
        let f = |s| fixed6(&BigDecimal::from_str(s).unwrap());
        assert_eq!(f("0"), "0.000000");
        assert_eq!(f("0.6"), "0.600000");
        assert_eq!(f("1.140175"), "1.140175");
    }
}
