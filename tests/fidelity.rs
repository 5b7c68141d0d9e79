//! Issue 19: data fidelity.
//!
//! 1. A storm's year is the UTC year of its first observation, whatever the TimeZone
//!    of the login that wrote it (migration 000009).
//! 2. An export is the database as of one moment, even while loads and edits commit.
//! 3. An observation's HURDAT2 status agrees with its category after any write, and
//!    migration 000010 repairs (and counts) the rows that did not.
//!
//! Real PostgreSQL, real writer logins over TCP; the NOAA and IHW files come from
//! `hurricane_db_testkit::data` (the bundled copies, or `$HURRICANE_DB_DATA_DIR`).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_migrations::MigrationHarness;
use hurricane_db::export::{export_hurdat2, export_ihw, ExportFilter, ExportSummary};
use hurricane_db::ingest::{load_path, load_reader, LoadOptions};
use hurricane_db::Category;
use hurricane_db::MIGRATIONS;

/// The Rust side of migration 000010's `status_of_category`: the enum's HURDAT2 status.
fn status_of_category(cat: &str) -> Option<&'static str> {
    Category::from_code(cat).map(Category::hurdat2_status)
}
use hurricane_db::roles::{self, Role};
use hurricane_db::{Db, Error, HurricaneChanges};
use hurricane_db_testkit::{cluster, data, sample_observation, unique_name, TestDb};

const PASSWORD: &str = "Fidelity-Secret-19";
const REPAIR_APP_USER: &str = "migration:2026-12-05-000010_status_follows_category";

/// The NOAA and IHW files: `$HURRICANE_DB_DATA_DIR`, else the bundled copies (gzip,
/// which the loader reads as they are).
fn atlantic() -> PathBuf {
    data::file(data::ATLANTIC)
}

fn pacific() -> PathBuf {
    data::file(data::PACIFIC)
}

fn storm_data() -> PathBuf {
    data::file(data::STORM_DATA)
}

/// A writer login (optionally with its own TimeZone, `ALTER ROLE ... SET timezone`)
/// and a pool connected as it over TCP.
fn writer(t: &TestDb, prefix: &str, time_zone: Option<&str>) -> (String, Db) {
    let name = unique_name(prefix);
    let mut conn = t.db.conn().unwrap();
    roles::add_user(&mut conn, &name, Role::Writer, PASSWORD).unwrap();
    if let Some(tz) = time_zone {
        diesel::sql_query(format!("ALTER ROLE {name} SET timezone = '{tz}'"))
            .execute(&mut conn)
            .unwrap();
    }
    let db = Db::builder()
        .pool_size(2)
        .connect(&t.login_url(&name, PASSWORD))
        .unwrap();
    (name, db)
}

/// `psql` as login `user` over TCP (libpq, as an analyst's or operator's client):
/// runs `sql`, returns its unaligned output.
fn psql_as(t: &TestDb, user: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .arg(cluster().tcp_url(user, &t.name))
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .env("PGPASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
}

#[derive(QueryableByName)]
struct S {
    #[diesel(sql_type = Text)]
    s: String,
}

fn text(conn: &mut PgConnection, sql: &str) -> String {
    diesel::sql_query(sql).get_result::<S>(conn).unwrap().s
}

/// A HURDAT2 storm: header and one data line per (date, time, status, lat, long, wind).
fn hurdat2_storm(id: &str, name: &str, lines: &[(&str, &str, &str, &str, &str, u16)]) -> String {
    let mut s = format!("{id},{name:>19},{:>7},\r\n", lines.len());
    for (date, time, status, lat, long, wind) in lines {
        s.push_str(&format!(
            "{date}, {time},  , {status}, {lat:>5}, {long:>6}, {wind:>3}, -999,"
        ));
        s.push_str(&" -999,".repeat(12));
        s.push_str("\r\n");
    }
    s
}

/// Reverts migrations, newest first, up to and including the one whose version
/// contains `number` (e.g. `000010`).
fn revert_through(t: &TestDb, number: &str) {
    loop {
        let v = t.db.revert_last_migration().unwrap();
        if v.contains(number) {
            return;
        }
        assert!(
            v.replace('-', "").as_str() > "20261205",
            "reverted {v} before reaching {number}"
        );
    }
}

// ---------------------------------------------------------------------------------
// 1. Storm years in UTC
// ---------------------------------------------------------------------------------

#[derive(QueryableByName, Debug)]
struct Year {
    #[diesel(sql_type = Text)]
    atcf_id: String,
    #[diesel(sql_type = Text)]
    first: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    year: i32,
}

fn years(t: &TestDb) -> Vec<(String, i32)> {
    let rows: Vec<Year> = diesel::sql_query(
        "SELECT atcf_id::text AS atcf_id, \
         to_char(first_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI\"Z\"') AS first, year \
         FROM storms ORDER BY btid",
    )
    .load(&mut t.connect())
    .unwrap();
    rows.into_iter()
        .map(|y| {
            println!("  {} first {} year {}", y.atcf_id, y.first, y.year);
            (y.atcf_id, y.year)
        })
        .collect()
}

/// The two storms of the test with these years.
fn filed(nye: i32, janus: i32) -> Vec<(String, i32)> {
    vec![("AL302004".into(), nye), ("AL012005".into(), janus)]
}

#[test]
fn storm_years_are_utc_whatever_the_writers_time_zone() {
    let t = TestDb::new();
    // (login TimeZone, storm, its observations: the first at 2004-12-31 18:00Z, which
    // is 2005-01-01 08:00 in Kiritimati, and at 2005-01-01 03:00Z, 2004-12-31 17:00 in
    // Adak).
    let storms = [
        (
            "Pacific/Kiritimati",
            "AL302004",
            hurdat2_storm(
                "AL302004",
                "NYE",
                &[
                    ("20041231", "1800", "TS", "25.0N", "50.0W", 40),
                    ("20050101", "0000", "TS", "25.5N", "50.5W", 45),
                ],
            ),
        ),
        (
            "America/Adak",
            "AL012005",
            hurdat2_storm(
                "AL012005",
                "JANUS",
                &[
                    ("20050101", "0300", "TD", "15.0N", "40.0W", 30),
                    ("20050101", "0900", "TS", "15.5N", "41.0W", 35),
                ],
            ),
        ),
    ];
    let mut logins = Vec::new();
    for (tz, id, text_) in &storms {
        let (name, db) = writer(&t, "tz_writer", Some(tz));
        // The login really has that TimeZone: a libpq client (psql) gets it.
        assert_eq!(psql_as(&t, &name, "SHOW timezone"), *tz);
        // Diesel sets TimeZone UTC on every connection it makes, so the crate's own
        // sessions start in UTC; the load runs with the login's TimeZone restored
        // (SET LOCAL ... TO DEFAULT is the role's value), as a session of any other
        // client would have it.
        let at_connect = text(
            &mut db.conn().unwrap(),
            "SELECT current_setting('TimeZone') AS s",
        );
        let summary = db
            .transaction_as("fidelity", |c| {
                diesel::sql_query("SET LOCAL TimeZone TO DEFAULT").execute(c)?;
                let during = text(c, "SELECT current_setting('TimeZone') AS s");
                assert_eq!(during, *tz);
                load_reader(
                    c,
                    text_.as_bytes(),
                    &format!("{id}.txt"),
                    0,
                    &LoadOptions::new(),
                )
            })
            .unwrap();
        println!(
            "{id} loaded by {name} (TimeZone {tz}; the crate's connection starts in {at_connect}): {summary}"
        );
        logins.push((name, *id, db));
    }
    println!("after the loads:");
    assert_eq!(years(&t), filed(2004, 2005));

    // A plain client's edit as each login (psql: its session is in the login's
    // TimeZone) refreshes the storm in that TimeZone: still the UTC year.
    let edit = |login: &str, id: &str| {
        psql_as(
            &t,
            login,
            &format!("UPDATE hurricanes SET wind_kts = wind_kts + 5 WHERE atcf_id = '{id}'"),
        )
    };
    for (login, id, _) in &logins {
        edit(login, id);
    }
    println!("after an edit through psql as each login:");
    assert_eq!(years(&t), filed(2004, 2005));

    // Without 000009 an edit files the storm under the login's local year: the bug,
    // through the library (Kiritimati) as through psql (Adak).
    revert_through(&t, "000009");
    let (_, kiritimati, db) = &logins[0];
    db.transaction_as("fidelity", |c| {
        diesel::sql_query("SET LOCAL TimeZone TO DEFAULT").execute(c)?;
        diesel::sql_query(format!(
            "UPDATE hurricanes SET wind_kts = wind_kts + 5 WHERE atcf_id = '{kiritimati}'"
        ))
        .execute(c)
        .map_err(Error::from)
    })
    .unwrap();
    let (login, adak, _) = &logins[1];
    edit(login, adak);
    println!("the same kind of edits before migration 000009:");
    assert_eq!(years(&t), filed(2005, 2004));
    let local_years = "SELECT count(*) AS n FROM storms \
                       WHERE year <> extract(year FROM first_time AT TIME ZONE 'UTC')";
    let wrong = count(&mut t.connect(), local_years);
    assert_eq!(wrong, 2);

    // Migration 000009 recomputes the existing rows.
    let applied = t.db.run_pending_migrations().unwrap();
    println!(
        "applied {applied:?}: {wrong} storms had a local year, now {}",
        count(&mut t.connect(), local_years)
    );
    assert!(applied.iter().any(|v| v.contains("000009")), "{applied:?}");
    assert_eq!(count(&mut t.connect(), local_years), 0);
    println!("after migration 000009:");
    assert_eq!(years(&t), filed(2004, 2005));
}

// ---------------------------------------------------------------------------------
// 2. One snapshot per export
// ---------------------------------------------------------------------------------

/// An export's output that stops the export after its first write (its first page)
/// until the test says go.
struct Gate {
    out: Vec<u8>,
    first_page: Option<(mpsc::Sender<usize>, mpsc::Receiver<()>)>,
}

impl Write for Gate {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.out.extend_from_slice(data);
        if let Some((written, resume)) = self.first_page.take() {
            let _ = written.send(self.out.len());
            let _ = resume.recv_timeout(Duration::from_secs(60));
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Clone, Copy, Debug)]
enum Format {
    /// `export_hurdat2` inside `Db::read` (a READ ONLY, READ COMMITTED transaction,
    /// as the CLI runs it).
    Hurdat2InDbRead,
    /// `export_ihw` on a connection outside any transaction.
    IhwOnItsOwn,
}

fn export_now(t: &TestDb, format: Format, out: &mut dyn Write) -> ExportSummary {
    let f = ExportFilter::default();
    match format {
        Format::Hurdat2InDbRead => t.db.read(|c| export_hurdat2(c, &f, out)).unwrap(),
        Format::IhwOnItsOwn => export_ihw(&mut t.connect(), &f, out).unwrap(),
    }
}

/// Commits, from another login, a load of a new storm (in the export's last page) and
/// an edit of the first and the last stored storms (first and last pages).
fn commit_a_load_and_an_edit(writer: &Db, dir: &Path, round: u32) {
    let id = format!("AL9{round}2016");
    let path = dir.join(format!("{id}.txt"));
    std::fs::write(
        &path,
        hurdat2_storm(
            &id,
            "LATECOMER",
            &[
                ("20161230", "0000", "LO", "30.0N", "40.0W", 25),
                ("20161230", "0600", "TD", "30.5N", "40.5W", 30),
                ("20161230", "1200", "TS", "31.0N", "41.0W", 35),
            ],
        ),
    )
    .unwrap();
    let summary = load_path(writer, &path, &LoadOptions::new()).unwrap();
    println!("  committed during the export: {summary}");
    let edited = writer
        .transaction_as("editor", |c| {
            diesel::sql_query(
                "UPDATE hurricanes SET wind_kts = wind_kts + 5 WHERE btid IN (1, 290)",
            )
            .execute(c)
            .map_err(Error::from)
        })
        .unwrap();
    println!(
        "  committed during the export: wind +5 kt on {edited} observations of BTIDs 1 and 290"
    );
}

#[test]
fn an_export_is_one_snapshot_while_loads_and_edits_commit() {
    let t = TestDb::new();
    let summary = load_path(&t.db, atlantic(), &LoadOptions::new()).unwrap();
    assert_eq!(summary.rows, 8618, "two pages of 5000");
    let (_, writer) = writer(&t, "snapshot_writer", None);
    let dir = tempfile::tempdir().unwrap();
    for (round, format) in [Format::Hurdat2InDbRead, Format::IhwOnItsOwn]
        .into_iter()
        .enumerate()
    {
        let mut before = Vec::new();
        let before_summary = export_now(&t, format, &mut before);
        let (page_tx, page_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel();
        let (during, first_page, during_summary) = std::thread::scope(|s| {
            let export = s.spawn(|| {
                let mut gate = Gate {
                    out: Vec::new(),
                    first_page: Some((page_tx, go_rx)),
                };
                let summary = export_now(&t, format, &mut gate);
                (gate.out, summary)
            });
            let first_page = page_rx.recv_timeout(Duration::from_secs(60)).unwrap();
            // The export has written its first page and waits: commit now.
            commit_a_load_and_an_edit(&writer, dir.path(), round as u32 + 1);
            go_tx.send(()).unwrap();
            let (out, summary) = export.join().unwrap();
            (out, first_page, summary)
        });
        let mut after = Vec::new();
        let after_summary = export_now(&t, format, &mut after);
        let same = |a: &[u8], b: &[u8]| if a == b { "same" } else { "differs" };
        println!(
            "{format:?}: first page {first_page} bytes; before the commits {} bytes ({before_summary}); \
             during {} bytes ({during_summary}); after {} bytes ({after_summary}); \
             during vs before: {}, during vs after: {}",
            before.len(),
            during.len(),
            after.len(),
            same(&during, &before),
            same(&during, &after),
        );
        // Streamed: the first page went out before the rest was read.
        assert!(first_page < during.len());
        // The commits changed the page already written and the pages still to read...
        assert!(before[..first_page] != after[..first_page]);
        assert!(before[first_page..] != after[first_page..]);
        assert_eq!(after_summary.rows, before_summary.rows + 3);
        // ...and the export is the database as it was when it began, byte for byte
        // (page by page in separate snapshots it would match neither state).
        assert!(
            during != after,
            "the export saw commits made after it began"
        );
        assert!(
            during == before,
            "the export mixes two states of the database"
        );
        assert_eq!(
            (during_summary.rows, during_summary.storms),
            (before_summary.rows, before_summary.storms)
        );
    }

    // Inside a caller's transaction: REPEATABLE READ is used as it is; a READ
    // COMMITTED transaction that has already read cannot give one snapshot: refused.
    let mut c = t.connect();
    let n = c
        .build_transaction()
        .repeatable_read()
        .run(|c| {
            count(c, "SELECT count(*) AS n FROM hurricanes");
            export_ihw(c, &ExportFilter::default(), &mut std::io::sink()).map(|s| s.rows)
        })
        .unwrap();
    assert_eq!(n, 8618 + 6);
    let refused = t.db.read(|c| {
        count(c, "SELECT count(*) AS n FROM hurricanes");
        export_ihw(c, &ExportFilter::default(), &mut std::io::sink())
    });
    println!("export in a READ COMMITTED transaction after a read: {refused:?}");
    assert!(
        matches!(&refused, Err(Error::InvalidInput(m)) if m.contains("one snapshot")),
        "{refused:?}"
    );
}

// ---------------------------------------------------------------------------------
// 3. Status agrees with category
// ---------------------------------------------------------------------------------

#[derive(QueryableByName, Debug)]
struct CodeStatus {
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql_status: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    table_status: Option<String>,
}

#[test]
fn rust_and_sql_agree_on_the_status_of_every_category() {
    let t = TestDb::new();
    let rows: Vec<CodeStatus> = diesel::sql_query(
        "SELECT code::text AS code, status_of_category(code)::text AS sql_status, \
                hurdat2_status::text AS table_status FROM categories \
         UNION ALL SELECT x, status_of_category(x)::text, NULL \
         FROM unnest(ARRAY['HU', 'EX', 'LO', 'WV', 'Q9', 'h1', '']) AS x ORDER BY 1",
    )
    .load(&mut t.connect())
    .unwrap();
    assert_eq!(rows.len(), 16 + 7);
    for r in &rows {
        println!(
            "  {:>2}: sql {:?}, categories.hurdat2_status {:?}, rust {:?}",
            r.code,
            r.sql_status,
            r.table_status,
            status_of_category(&r.code)
        );
        assert_eq!(
            r.sql_status.as_deref(),
            status_of_category(&r.code),
            "{r:?}"
        );
    }
    // Every category has a status (ET, PT and ST as themselves); categories says so too.
    for r in rows
        .iter()
        .filter(|r| r.code.len() <= 2 && r.table_status.is_some())
    {
        assert_eq!(r.table_status, r.sql_status);
    }
    assert_eq!(rows.iter().filter(|r| r.sql_status.is_some()).count(), 16);
}

#[derive(QueryableByName, Debug, Clone)]
struct Obs {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    fid: i32,
    #[diesel(sql_type = Text)]
    cat: String,
    #[diesel(sql_type = Nullable<Text>)]
    status: Option<String>,
}

fn observations(conn: &mut PgConnection) -> Vec<Obs> {
    diesel::sql_query(
        "SELECT fid, cat::text AS cat, status::text AS status FROM hurricanes ORDER BY fid",
    )
    .load(conn)
    .unwrap()
}

/// Rows whose stored status is not their category's (by the Rust table, so this
/// also works where migration 000010 is not applied).
fn contradictions(rows: &[Obs]) -> Vec<&Obs> {
    rows.iter()
        .filter(|o| o.status.is_some() && o.status.as_deref() != status_of_category(&o.cat))
        .collect()
}

/// A new category for an edited row: one with another status where there is one
/// (TS <-> TD, H1 -> TS, E <-> L, ...), and a few that keep the status (H2 -> H1,
/// H3 <-> H4).
fn recategorized(cat: &str) -> &'static str {
    match cat {
        "H1" => "TS",
        "H2" => "H1",
        "H3" => "H4",
        "H4" => "H3",
        "H5" => "ST",
        "TS" => "TD",
        "TD" => "TS",
        "E" => "L",
        "L" => "E",
        "W" => "DB",
        "DB" => "W",
        "SS" => "SD",
        "SD" => "SS",
        "ET" => "PT",
        "PT" => "ET",
        _ => "H5",
    }
}

/// An IHW CSV with the CAT of every row whose FID `pick`s changed by
/// [`recategorized`]; returns the file and the (fid, old cat, new cat) changed.
fn with_categories_changed(
    csv: &[u8],
    path: &Path,
    pick: impl Fn(i32) -> bool,
) -> Vec<(i32, String, String)> {
    let text = std::str::from_utf8(csv).unwrap();
    let mut out = String::with_capacity(text.len());
    let mut changed = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut f: Vec<String> = line.split(',').map(str::to_string).collect();
        assert_eq!(f.len(), 14, "{line}");
        if i > 0 {
            let fid: i32 = f[0].parse().unwrap();
            if pick(fid) {
                let new = recategorized(&f[11]).to_string();
                changed.push((fid, std::mem::replace(&mut f[11], new.clone()), new));
            }
        }
        out.push_str(&f.join(","));
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
    changed
}

#[test]
fn status_follows_category_through_a_csv_load_an_edit_and_plain_sql() {
    let t = TestDb::new();
    load_path(&t.db, atlantic(), &LoadOptions::new()).unwrap();
    let (login, w) = writer(&t, "status_writer", None);
    let dir = tempfile::tempdir().unwrap();

    // A CSV load (the IHW file of the same data, some categories changed) as a writer.
    let mut csv = Vec::new();
    export_ihw(&mut t.connect(), &ExportFilter::default(), &mut csv).unwrap();
    let edited = dir.path().join("storm_data_edited.csv");
    let changed = with_categories_changed(&csv, &edited, |fid| fid % 250 == 0);
    let summary = load_path(&w, &edited, &LoadOptions::new()).unwrap();
    println!("{summary}");
    assert_eq!(summary.updated as usize, changed.len());
    let rows: HashMap<i32, Obs> = observations(&mut t.connect())
        .into_iter()
        .map(|o| (o.fid, o))
        .collect();
    let mut moved = 0;
    for (fid, old, new) in &changed {
        let o = &rows[fid];
        let old_status = status_of_category(old);
        println!(
            "  FID {fid}: cat {old} -> {new}, status {} -> {}",
            old_status.unwrap_or("NULL"),
            o.status.as_deref().unwrap_or("NULL")
        );
        assert_eq!(o.cat, *new);
        assert_eq!(o.status.as_deref(), status_of_category(new), "FID {fid}");
        moved += usize::from(old_status != status_of_category(new));
    }
    let all = observations(&mut t.connect());
    println!(
        "CSV load: {} categories changed, {moved} statuses moved along, {} contradictions in {} rows",
        changed.len(),
        contradictions(&all).len(),
        all.len()
    );
    assert!(moved > 10 && moved < changed.len(), "some keep HU");
    assert!(contradictions(&all).is_empty());
    // The audit trail shows the status moving with the category.
    let (fid, ..) = changed
        .iter()
        .find(|(_, o, n)| (o.as_str(), n.as_str()) == ("H1", "TS"))
        .unwrap();
    let trail = text(
        &mut t.connect(),
        &format!(
            "SELECT concat_ws(' ', old_row->>'cat', old_row->>'status', '->', new_row->>'cat', \
             new_row->>'status', 'by', db_user) AS s FROM edits WHERE row_id = {fid} AND action = 'U'"
        ),
    );
    assert_eq!(trail, format!("H1 HU -> TS TS by {login}"));

    // A HURDAT2 export writes every observation with its category's status.
    let mut h2 = Vec::new();
    export_hurdat2(&mut t.connect(), &ExportFilter::default(), &mut h2).unwrap();
    #[derive(QueryableByName)]
    struct Key {
        #[diesel(sql_type = Text)]
        key: String,
        #[diesel(sql_type = Text)]
        cat: String,
    }
    let cats: HashMap<String, String> = diesel::sql_query(
        "SELECT concat(atcf_id, ' ', to_char(\"timestamp\" AT TIME ZONE 'UTC', 'YYYYMMDD, HH24MI')) AS key, \
         cat::text AS cat FROM hurricanes",
    )
    .load::<Key>(&mut t.connect())
    .unwrap()
    .into_iter()
    .map(|k| (k.key, k.cat))
    .collect();
    let (mut storm, mut lines) = (String::new(), 0);
    for line in String::from_utf8(h2)
        .unwrap()
        .split("\r\n")
        .filter(|l| !l.is_empty())
    {
        if !line.starts_with(|c: char| c.is_ascii_digit()) {
            storm = line[..8].to_string();
            continue;
        }
        let status = line.split(',').nth(3).unwrap().trim();
        let cat = &cats[&format!("{storm} {}", &line[..14])];
        assert_eq!(Some(status), status_of_category(cat), "{storm} {line}");
        lines += 1;
    }
    println!("HURDAT2 export: {lines} observation lines, each status its category's");
    assert_eq!(lines, 8618);

    // Plain SQL as the writer login.
    let sql = |s: &str| w.transaction(|c| diesel::sql_query(s).execute(c).map_err(Error::from));
    let status_of = |fid: i32| rows_status(&t, fid);
    let hu = rows
        .values()
        .filter(|o| o.cat == "H1" && !changed.iter().any(|c| c.0 == o.fid))
        .map(|o| o.fid)
        .min()
        .unwrap();
    let ts = rows
        .values()
        .filter(|o| o.cat == "TS" && !changed.iter().any(|c| c.0 == o.fid))
        .map(|o| o.fid)
        .min()
        .unwrap();
    sql(&format!("UPDATE hurricanes SET cat = 'E' WHERE fid = {hu}")).unwrap();
    println!(
        "UPDATE SET cat = 'E' (was H1, HU): status {}",
        status_of(hu)
    );
    assert_eq!(status_of(hu), "EX");
    for cat in ["PT", "ST", "ET", "H3"] {
        sql(&format!(
            "UPDATE hurricanes SET cat = '{cat}' WHERE fid = {hu}"
        ))
        .unwrap();
        println!("UPDATE SET cat = '{cat}': status {}", status_of(hu));
        assert_eq!(Some(status_of(hu).as_str()), status_of_category(cat));
    }
    let refused = [
        format!("UPDATE hurricanes SET status = 'HU' WHERE fid = {ts}"),
        format!("UPDATE hurricanes SET cat = 'H1', status = 'EX' WHERE fid = {ts}"),
        "INSERT INTO hurricanes (fid, \"timestamp\", btid, name, lat, long, wind_kts, cat, basin, \
         shape_length, status) VALUES (99001, '2016-12-31 00:00Z', 999, 'X', 10, -40, 40, 'TS', \
         'North Atlantic', 0, 'HU')"
            .to_string(),
    ];
    for s in &refused {
        let r = sql(s);
        println!(
            "{s}: {}",
            match &r {
                Err(Error::CheckViolation { constraint, .. }) => format!("refused by {constraint}"),
                other => format!("{other:?}"),
            }
        );
        assert!(
            matches!(&r, Err(Error::CheckViolation { constraint, .. }) if constraint == "hurricanes_status_matches_cat"),
            "{r:?}"
        );
    }
    assert_eq!(status_of(ts), "TS");

    // The library's edit path.
    let updated = w
        .update_observation(
            "editor",
            ts,
            &HurricaneChanges {
                cat: Some("SD".into()),
                ..Default::default()
            },
        )
        .unwrap();
    println!(
        "update_observation cat SD (was TS): status {}",
        status_of(ts)
    );
    assert_eq!((updated.cat.as_str(), status_of(ts).as_str()), ("SD", "SD"));

    // A row with no HURDAT2 status (as the IHW CSV inserts it) keeps none.
    let mut csv_row = sample_observation(99002);
    csv_row.btid = 999;
    w.transaction(|c| {
        diesel::insert_into(hurricane_db::schema::hurricanes::table)
            .values(&csv_row)
            .execute(c)
            .map_err(Error::from)
    })
    .unwrap();
    sql("UPDATE hurricanes SET cat = 'TS' WHERE fid = 99002").unwrap();
    assert_eq!(status_of(99002), "NULL");
    println!("a row without status, cat H5 -> TS: status NULL");
    assert!(contradictions(&observations(&mut t.connect())).is_empty());
}

fn rows_status(t: &TestDb, fid: i32) -> String {
    text(
        &mut t.connect(),
        &format!("SELECT coalesce(status::text, 'NULL') AS s FROM hurricanes WHERE fid = {fid}"),
    )
}

/// Observations the repair migration recorded in the audit trail.
fn repaired(t: &TestDb) -> i64 {
    count(
        &mut t.connect(),
        &format!("SELECT count(*) AS n FROM edits WHERE app_user = '{REPAIR_APP_USER}'"),
    )
}

#[test]
fn the_repair_migration_counts_what_it_changes() {
    let t = TestDb::new();
    revert_through(&t, "000010");

    // Both NOAA files, then the IHW CSV, loaded before 000010.
    for path in [atlantic(), pacific(), storm_data()] {
        println!("{}", load_path(&t.db, path, &LoadOptions::new()).unwrap());
    }
    let before = observations(&mut t.connect());
    let found = contradictions(&before).len();
    let applied = t
        .connect()
        .run_next_migration(MIGRATIONS)
        .unwrap()
        .to_string();
    assert!(applied.contains("000010"), "{applied}");
    println!(
        "both NOAA files then storm_data.csv: {} rows, {found} contradictions; migration {applied} repaired {}",
        before.len(),
        repaired(&t)
    );
    assert_eq!(repaired(&t) as usize, found);
    assert_eq!(observations(&mut t.connect()).len(), before.len());

    // The same database after an IHW file with other categories was loaded before
    // 000010 (statuses left as they were), repaired by the migration applied as a DBA
    // would with psql, which shows its NOTICE.
    revert_through(&t, "000010");
    let dir = tempfile::tempdir().unwrap();
    let edited = dir.path().join("storm_data_edited.csv");
    let csv = data::read(&storm_data()).unwrap();
    let changed = with_categories_changed(&csv, &edited, |fid| fid % 100 == 0);
    println!(
        "{}",
        load_path(&t.db, &edited, &LoadOptions::new()).unwrap()
    );
    let before = observations(&mut t.connect());
    let found = contradictions(&before).len();
    let expected = changed
        .iter()
        .filter(|(_, old, new)| status_of_category(old) != status_of_category(new))
        .count();
    assert_eq!(found, expected);
    let up = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations/2026-12-05-000010_status_follows_category/up.sql");
    let out = Command::new("psql")
        .arg(&t.url)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f"])
        .arg(&up)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ('20261205000010')")
        .execute(&mut t.connect())
        .unwrap();
    // The migrations after 000010, as `hurricane-db migrate` would then apply them.
    t.db.run_pending_migrations().unwrap();
    assert_eq!(
        t.db.migration_status().unwrap(),
        hurricane_db::MigrationStatus::Current
    );
    let notice = stderr
        .lines()
        .find(|l| l.contains("NOTICE"))
        .unwrap_or_default();
    println!(
        "{} categories changed by the edited CSV, {found} contradictions; {notice}; {} edits by {REPAIR_APP_USER}",
        changed.len(),
        repaired(&t)
    );
    assert!(
        notice.ends_with(&format!("status_follows_category: {found} observations repaired (status set to their category's)")),
        "{stderr}"
    );
    assert_eq!(repaired(&t) as usize, found);
    let after = observations(&mut t.connect());
    assert!(contradictions(&after).is_empty());
    assert_eq!(after.len(), before.len());
    // Only statuses changed, each to its category's.
    for (b, a) in before.iter().zip(&after) {
        assert_eq!((b.fid, &b.cat), (a.fid, &a.cat));
        if b.status != a.status {
            assert_eq!(a.status.as_deref(), status_of_category(&a.cat));
        }
    }
}
