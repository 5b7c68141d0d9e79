//! Writing the table back out: NOAA's HURDAT2 text, the IHW CSV layout or GeoJSON.
//!
//! All three stream: rows are read in keyset pages of [`PAGE_ROWS`] (never the whole
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
//! **GeoJSON** (`export_geojson`): one RFC 7946 FeatureCollection in WGS 84
//! longitude/latitude (no `crs` member), for QGIS, GeoPandas or ArcGIS. Per storm, one
//! feature per observation (`kind` `observation`, a Point: `fid`, `btid`, `name`,
//! `basin`, `time` in UTC, `wind_kts`, `pressure_mb`, `cat`, `status`, `record_id`,
//! `atcf_id`) and then one track feature (`kind` `track`: `btid`, `name`, `year`,
//! `basin`, `atcf_id`, `peak_wind_kts`, `peak_cat`, `min_pressure_mb`, `first_time`,
//! `last_time`, `observations`), a LineString, or a MultiLineString split at the
//! antimeridian (RFC 7946 section 3.1.9) when the track crosses 180 degrees, so every
//! longitude stays within -180..180. A storm of one observation has a track feature
//! with a null geometry (a LineString needs two positions). Memory holds one storm.
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
use crate::models::{Hurdat2Fields, Hurricane, Storm};
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
    /// Only these storms (BTIDs); all storms when empty.
    pub btids: Vec<i16>,
    /// Storm name, case-insensitive, `*` and `?` wildcards (as `queries::storms`).
    pub name: Option<String>,
    /// Storms whose peak wind reached this many knots.
    pub min_wind: Option<i16>,
}

/// What an export wrote. `Display` is the one-line summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// `hurdat2`, `ihw` or `geojson`.
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
    crate::queries::check_year("year_from", f.year_from)?;
    crate::queries::check_year("year_to", f.year_to)?;
    crate::queries::check_wind("min_wind", f.min_wind)?;
    if let Some(name) = &f.name {
        if name.trim().is_empty() {
            return Err(Error::InvalidInput(
                "name \"\": expected a name or pattern".into(),
            ));
        }
        crate::models::check_text("name", name, crate::queries::MAX_PATTERN_CHARS)?;
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
        if !$f.btids.is_empty() {
            q = q.filter(s::btid.eq_any(&$f.btids));
        }
        if let Some(name) = &$f.name {
            q = q.filter(s::name.ilike(crate::queries::like_pattern(name.trim())));
        }
        if let Some(w) = $f.min_wind {
            q = q.filter(s::peak_wind_kts.ge(w));
        }
        q
    }};
}

/// Keyset paging in track order: the rows after `last`, a `(btid, timestamp, fid)` key
/// (the HURDAT2 and GeoJSON exports page storm by storm, each in time order).
macro_rules! after_in_track_order {
    ($q:expr, $last:expr) => {
        match $last {
            Some((b, t, fid)) => $q.filter(
                h::btid.gt(b).or(h::btid.eq(b).and(
                    h::timestamp
                        .gt(t)
                        .or(h::timestamp.eq(t).and(h::fid.gt(fid))),
                )),
            ),
            None => $q,
        }
    };
}

/// Plans every page's query for its own values. The page queries are prepared once
/// per connection; after five runs PostgreSQL may switch to a generic plan, and for
/// `ORDER BY fid LIMIT n` filtered by storm that plan walks the whole table by FID
/// (a 2005-season IHW export went from 12 ms to 170 ms on the sixth call). `SET
/// LOCAL`: for the export's transaction only, and (a SET, not a query) it takes no
/// snapshot.
fn plan_each_page(conn: &mut PgConnection) -> Result<()> {
    diesel::sql_query("SET LOCAL plan_cache_mode = force_custom_plan").execute(conn)?;
    Ok(())
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
    plan_each_page(conn)?;
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
        q = after_in_track_order!(q, last);
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
    plan_each_page(conn)?;
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

/// The storm being written: its summary, ATCF id and positions so far (lon, lat).
type OpenTrack = (Storm, Option<String>, Vec<(f64, f64)>);

type GeoRow = (
    Hurricane,
    Option<String>,
    Option<String>,
    Storm,
    Option<String>,
);

/// Writes the selected storms as a GeoJSON FeatureCollection to `out`, from one
/// snapshot (see the module docs).
pub fn export_geojson(
    conn: &mut PgConnection,
    f: &ExportFilter,
    out: &mut dyn Write,
) -> Result<ExportSummary> {
    check(f)?;
    in_one_snapshot(conn, |conn| geojson_pages(conn, f, out))
}

fn geojson_pages(
    conn: &mut PgConnection,
    f: &ExportFilter,
    out: &mut dyn Write,
) -> Result<ExportSummary> {
    use hurricanes::dsl as h;
    use storms::dsl as s;
    let started = Instant::now();
    let mut summary = ExportSummary {
        format: "geojson",
        ..ExportSummary::default()
    };
    plan_each_page(conn)?;
    let mut buf = Vec::with_capacity(1 << 16);
    buf.extend_from_slice(b"{\"type\":\"FeatureCollection\",\"features\":[");
    let mut features = 0u64;
    let mut last: Option<(i16, DateTime<Utc>, i32)> = None;
    let mut current: Option<OpenTrack> = None;
    loop {
        let mut q = storm_filter!(
            h::hurricanes
                .inner_join(s::storms.on(s::btid.eq(h::btid)))
                .select((
                    Hurricane::as_select(),
                    h::record_id,
                    h::status,
                    Storm::as_select(),
                    s::atcf_id,
                ))
                .into_boxed(),
            f
        );
        q = after_in_track_order!(q, last);
        let page: Vec<GeoRow> = q
            .order((h::btid, h::timestamp, h::fid))
            .limit(PAGE_ROWS)
            .load(conn)?;
        for (o, record_id, status, storm, atcf_id) in &page {
            if current.as_ref().map(|c| c.0.btid) != Some(o.btid) {
                if let Some((storm, atcf_id, coords)) = current.take() {
                    track_feature(&storm, atcf_id.as_deref(), &coords, features, &mut buf);
                    features += 1;
                }
                current = Some((storm.clone(), atcf_id.clone(), Vec::new()));
                summary.storms += 1;
            }
            if let Some((_, _, coords)) = current.as_mut() {
                coords.push((to_f64(&o.long), to_f64(&o.lat)));
            }
            point_feature(
                o,
                record_id.as_deref(),
                status.as_deref(),
                atcf_id.as_deref(),
                features,
                &mut buf,
            );
            features += 1;
            summary.rows += 1;
        }
        out.write_all(&buf).map_err(io)?;
        buf.clear();
        match page.last() {
            Some((o, ..)) if page.len() as i64 == PAGE_ROWS => {
                last = Some((o.btid, o.timestamp, o.fid))
            }
            _ => break,
        }
    }
    if let Some((storm, atcf_id, coords)) = current.take() {
        track_feature(&storm, atcf_id.as_deref(), &coords, features, &mut buf);
    }
    buf.extend_from_slice(b"\n]}\n");
    out.write_all(&buf).map_err(io)?;
    out.flush().map_err(io)?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

fn to_f64(d: &BigDecimal) -> f64 {
    use bigdecimal::ToPrimitive;
    d.to_f64().unwrap_or(f64::NAN)
}

/// A coordinate as JSON: the stored decimal, trailing zeros dropped (`-89.6`).
fn coordinate(d: &BigDecimal) -> String {
    format!("{}{}", if d.is_negative() { "-" } else { "" }, degrees(d))
}

/// `2005-08-29T11:10:00Z`.
fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The separator before feature number `n` (none before the first).
fn separator(n: u64, buf: &mut Vec<u8>) {
    buf.extend_from_slice(if n == 0 { b"\n" } else { b",\n" });
}

#[derive(Serialize)]
struct ObservationProps<'a> {
    kind: &'static str,
    fid: i32,
    btid: i16,
    name: &'a str,
    basin: &'a str,
    time: String,
    wind_kts: i16,
    pressure_mb: Option<i16>,
    cat: &'a str,
    status: Option<&'a str>,
    record_id: Option<&'a str>,
    atcf_id: Option<&'a str>,
}

fn point_feature(
    o: &Hurricane,
    record_id: Option<&str>,
    status: Option<&str>,
    atcf_id: Option<&str>,
    n: u64,
    buf: &mut Vec<u8>,
) {
    separator(n, buf);
    let _ = write!(
        buf,
        "{{\"type\":\"Feature\",\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{},{}]}},\"properties\":",
        coordinate(&o.long),
        coordinate(&o.lat)
    );
    let props = ObservationProps {
        kind: "observation",
        fid: o.fid,
        btid: o.btid,
        name: &o.name,
        basin: &o.basin,
        time: utc(o.timestamp),
        wind_kts: o.wind_kts,
        pressure_mb: o.pressure,
        cat: &o.cat,
        status: status.map(str::trim).filter(|s| !s.is_empty()),
        record_id: record_id.map(str::trim).filter(|s| !s.is_empty()),
        atcf_id,
    };
    let _ = serde_json::to_writer(&mut *buf, &props);
    buf.push(b'}');
}

#[derive(Serialize)]
struct TrackProps<'a> {
    kind: &'static str,
    btid: i16,
    name: &'a str,
    year: i32,
    basin: &'a str,
    atcf_id: Option<&'a str>,
    peak_wind_kts: i16,
    peak_cat: &'a str,
    min_pressure_mb: Option<i16>,
    first_time: String,
    last_time: String,
    observations: i32,
}

fn track_feature(
    storm: &Storm,
    atcf_id: Option<&str>,
    coords: &[(f64, f64)],
    n: u64,
    buf: &mut Vec<u8>,
) {
    separator(n, buf);
    buf.extend_from_slice(b"{\"type\":\"Feature\",\"geometry\":");
    let parts = split_at_antimeridian(coords);
    let line = |part: &[(f64, f64)], buf: &mut Vec<u8>| {
        buf.push(b'[');
        for (i, (lon, lat)) in part.iter().enumerate() {
            let _ = write!(buf, "{}[{lon},{lat}]", if i == 0 { "" } else { "," });
        }
        buf.push(b']');
    };
    match parts.as_slice() {
        [] => buf.extend_from_slice(b"null"),
        [one] => {
            buf.extend_from_slice(b"{\"type\":\"LineString\",\"coordinates\":");
            line(one, buf);
            buf.push(b'}');
        }
        many => {
            buf.extend_from_slice(b"{\"type\":\"MultiLineString\",\"coordinates\":[");
            for (i, part) in many.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                line(part, buf);
            }
            buf.extend_from_slice(b"]}");
        }
    }
    buf.extend_from_slice(b",\"properties\":");
    let props = TrackProps {
        kind: "track",
        btid: storm.btid,
        name: &storm.name,
        year: storm.year,
        basin: &storm.basin,
        atcf_id,
        peak_wind_kts: storm.peak_wind_kts,
        peak_cat: &storm.peak_cat,
        min_pressure_mb: storm.min_pressure,
        first_time: utc(storm.first_time),
        last_time: utc(storm.last_time),
        observations: storm.observations,
    };
    let _ = serde_json::to_writer(&mut *buf, &props);
    buf.push(b'}');
}

/// A track's positions (lon, lat) as the parts RFC 7946 section 3.1.9 asks for: a
/// step of more than 180 degrees of longitude crosses the antimeridian, so the line
/// ends at 180 (or -180) at the latitude interpolated there and the next part starts
/// on the other side. Parts of fewer than two distinct positions are dropped.
pub fn split_at_antimeridian(coords: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let round = |v: f64| (v * 1e6).round() / 1e6;
    let mut parts: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut part: Vec<(f64, f64)> = Vec::new();
    let push = |part: &mut Vec<(f64, f64)>, p: (f64, f64)| {
        if part.last() != Some(&p) {
            part.push(p);
        }
    };
    for (i, &(lon, lat)) in coords.iter().enumerate() {
        if i > 0 {
            let (plon, plat) = coords[i - 1];
            let step = lon - plon;
            if step.abs() > 180.0 {
                // Eastward across 180 when the raw step is negative (179 -> -179).
                let edge = if step < 0.0 { 180.0 } else { -180.0 };
                let unwrapped = if step < 0.0 { lon + 360.0 } else { lon - 360.0 };
                let t = (edge - plon) / (unwrapped - plon);
                let at = round(plat + t * (lat - plat));
                push(&mut part, (edge, at));
                parts.push(std::mem::take(&mut part));
                push(&mut part, (-edge, at));
            }
        }
        push(&mut part, (lon, lat));
    }
    parts.push(part);
    parts.retain(|p| p.len() >= 2);
    parts
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
    fn tracks_are_split_at_the_antimeridian() {
        // Eastward across 180: 179 E -> 179 W crosses at 180.
        let parts = split_at_antimeridian(&[(178.0, 20.0), (179.0, 21.0), (-179.0, 23.0)]);
        assert_eq!(
            parts,
            vec![
                vec![(178.0, 20.0), (179.0, 21.0), (180.0, 22.0)],
                vec![(-180.0, 22.0), (-179.0, 23.0)]
            ]
        );
        // Westward: -179 -> 179 crosses at -180.
        let parts = split_at_antimeridian(&[(-179.0, 10.0), (179.0, 12.0), (178.0, 13.0)]);
        assert_eq!(parts[0], vec![(-179.0, 10.0), (-180.0, 11.0)]);
        assert_eq!(parts[1], vec![(180.0, 11.0), (179.0, 12.0), (178.0, 13.0)]);
        // No crossing: one part; a point on the edge does not leave a one-point part.
        assert_eq!(
            split_at_antimeridian(&[(-90.0, 25.0), (-91.0, 26.0)]).len(),
            1
        );
        let parts = split_at_antimeridian(&[(179.0, 5.0), (-180.0, 5.0), (-179.0, 5.0)]);
        assert!(parts.iter().all(|p| p.len() >= 2), "{parts:?}");
        assert!(parts
            .iter()
            .flatten()
            .all(|(lon, _)| (-180.0..=180.0).contains(lon)));
        // One observation: no line at all.
        assert!(split_at_antimeridian(&[(10.0, 10.0)]).is_empty());
    }

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
