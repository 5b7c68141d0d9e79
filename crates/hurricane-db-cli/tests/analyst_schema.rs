//! Issue 11 point 3: a schema that explains itself. Every column is commented; CAT
//! and BASIN are closed sets (`categories`, `basins`) that the loader, the library
//! and the database each enforce; migration 000006 keeps a loaded database's rows and
//! reverts exactly; an analyst reads it from pandas as a reader login.

use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_migrations::MigrationHarness;
use hurricane_db::ingest::{load_path, LoadOptions};
use hurricane_db::queries;
use hurricane_db::roles::{self, Role};
use hurricane_db::MIGRATIONS;
use hurricane_db::{Db, Error, HurricaneChanges};
use hurricane_db_testkit::{data, sample_observation, unique_name, TestDb};

const PASSWORD: &str = "correct horse battery staple";
const CODES: &str = "DB, E, ET, H1, H2, H3, H4, H5, L, PT, SD, SS, ST, TD, TS, W";
/// The same codes in `Category::ALL` order (the scale, then the other statuses).
const CATEGORY_ORDER: &str = "TD, TS, H1, H2, H3, H4, H5, ST, SD, SS, E, ET, PT, L, W, DB";
const ROW1: &str = "1,1851,6,25,0000Z,1,NOTNAMED,28.0,-94.8,80,0,H1,North Atlantic,0.600000";
const ROW3: &str = "3,1851,6,25,1200Z,1,NOTNAMED,28.0,-96.0,80,0,H1,North Atlantic,0.600000";

fn sample_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/storm_sample.csv")
}

/// The whole IHW file (35,486 rows): from `HURRICANE_DB_DATA_DIR`, else the gzip
/// copy bundled in `data/ihw/` (the output says which).
fn big_file() -> PathBuf {
    data::file(data::STORM_DATA)
}

/// Rows in the whole IHW file.
const ALL_ROWS: u64 = 35_486;

fn login(t: &TestDb, prefix: &str, role: Role) -> (String, Db) {
    let name = unique_name(prefix);
    roles::add_user(&mut t.db.conn().unwrap(), &name, role, PASSWORD).unwrap();
    let db = Db::builder()
        .pool_size(2)
        .connect(&t.login_url(&name, PASSWORD))
        .unwrap();
    (name, db)
}

#[derive(QueryableByName, Debug)]
struct TableComments {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = BigInt)]
    columns: i64,
    #[diesel(sql_type = BigInt)]
    commented: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    table_comment: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    uncommented: Option<String>,
}

fn comment_counts(conn: &mut PgConnection) -> Vec<TableComments> {
    diesel::sql_query(
        "SELECT c.relname::text AS table_name, count(a.attnum) AS columns, \
                count(nullif(btrim(col_description(c.oid, a.attnum)), '')) AS commented, \
                obj_description(c.oid, 'pg_class') AS table_comment, \
                string_agg(a.attname::text, ', ' ORDER BY a.attnum) \
                    FILTER (WHERE coalesce(btrim(col_description(c.oid, a.attnum)), '') = '') AS uncommented \
         FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE c.relnamespace = 'public'::regnamespace \
           AND c.relname IN ('hurricanes', 'storms', 'edits', 'categories', 'basins', 'loads') \
         GROUP BY c.oid, c.relname ORDER BY c.relname",
    )
    .load(conn)
    .unwrap()
}

#[test]
fn every_table_and_column_has_a_comment() {
    let t = TestDb::new();
    let counts = comment_counts(&mut t.connect());
    assert_eq!(counts.len(), 6, "{counts:?}");
    println!("{:<12} {:>7} {:>9}", "table", "columns", "commented");
    for c in &counts {
        println!("{:<12} {:>7} {:>9}", c.table_name, c.columns, c.commented);
        assert_eq!(
            c.commented, c.columns,
            "{}: no comment on {:?}",
            c.table_name, c.uncommented
        );
        assert!(
            c.table_comment
                .as_deref()
                .is_some_and(|s| !s.trim().is_empty()),
            "{c:?}"
        );
    }
    let expected = [
        ("basins", 3),
        ("categories", 6),
        // 10 and load_id (migration 000008).
        ("edits", 11),
        // 11 IHW columns and 16 from HURDAT2 (migration 000007).
        ("hurricanes", 27),
        // Migration 000008: one row per load (release); 000013: its edits' id range.
        ("loads", 22),
        ("storms", 11),
    ];
    let got: Vec<(&str, i64)> = counts
        .iter()
        .map(|c| (c.table_name.as_str(), c.commented))
        .collect();
    assert_eq!(got, expected);

    // The comments say what the issue asked for.
    let long: Option<String> =
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Nullable<Text>>(
            "col_description('hurricanes'::regclass, 4 + 2)",
        ))
        .get_result(&mut t.connect())
        .unwrap();
    let long = long.unwrap();
    assert!(
        long.contains("positive east, negative west") && long.contains("date line"),
        "{long}"
    );
}

#[test]
fn the_reference_tables_hold_every_code_of_the_ihw_file() {
    let t = TestDb::new();
    let mut conn = t.db.conn().unwrap();
    let cats = queries::categories(&mut conn).unwrap();
    let codes: Vec<&str> = cats.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes.join(", "), CODES);
    let h3 = cats.iter().find(|c| c.code == "H3").unwrap();
    assert_eq!(h3.saffir_simpson, Some(3));
    assert_eq!((h3.wind_min_kts, h3.wind_max_kts), (Some(96), Some(112)));
    assert!(cats.iter().all(|c| !c.meaning.is_empty()));
    let basins = queries::basins(&mut conn).unwrap();
    let names: Vec<(&str, &str)> = basins
        .iter()
        .map(|b| (b.name.as_str(), b.code.as_str()))
        .collect();
    assert_eq!(names, [("Eastern Pacific", "EP"), ("North Atlantic", "AL")]);
    // The filters' closed sets are these tables (tests/reference_codes.rs of the
    // library checks every column).
    let mut enum_codes: Vec<&str> = hurricane_db::Category::codes().collect();
    enum_codes.sort();
    assert_eq!(codes, enum_codes);
    let mut filter_basins: Vec<(&str, &str)> = hurricane_db::Basin::ALL
        .iter()
        .map(|b| (b.name(), b.code()))
        .collect();
    filter_basins.sort();
    assert_eq!(filter_basins, names);
    drop(conn);
    // The whole IHW file loads: every code it uses is listed.
    let summary = load_path(&t.db, big_file(), &LoadOptions::new()).unwrap();
    assert_eq!(
        (summary.rows, summary.inserted, summary.rejected),
        (ALL_ROWS, ALL_ROWS, 0),
        "{summary}"
    );
}

fn write_csv(dir: &Path, rows: &[&str]) -> PathBuf {
    let path = dir.join("storm_data.csv");
    let mut text = hurricane_db::ingest::HEADER.join(",");
    for r in rows {
        text.push('\n');
        text.push_str(r);
    }
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    path
}

fn count(t: &TestDb) -> i64 {
    t.db.read(|c| {
        Ok::<_, Error>(
            hurricane_db::schema::hurricanes::table
                .count()
                .get_result(c)?,
        )
    })
    .unwrap()
}

#[test]
fn the_loader_refuses_an_unknown_cat_at_its_line_with_the_code_list() {
    let t = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let q9 = "2,1851,6,25,0600Z,1,NOTNAMED,28.0,-95.4,80,0,Q9,North Atlantic,0.600000";
    let path = write_csv(dir.path(), &[ROW1, q9, ROW3]);
    let out = Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .arg("load")
        .arg(&path)
        .env("DATABASE_URL", &t.url)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let expected =
        format!("storm_data.csv:3: CAT \"Q9\": expected one of {CODES} (the categories table)");
    assert!(stderr.contains(&expected), "{stderr}");
    assert_eq!(count(&t), 0, "nothing loaded");

    // Lower case is refused too, with a hint; an unknown basin likewise.
    let h5 = "2,1851,6,25,0600Z,1,NOTNAMED,28.0,-95.4,80,0,h5,North Atlantic,0.600000";
    let wp = "3,1851,6,25,1200Z,1,NOTNAMED,28.0,-96.0,80,0,H1,Western Pacific,0.600000";
    let path = write_csv(dir.path(), &[ROW1, h5, wp]);
    let err = load_path(&t.db, &path, &LoadOptions::new()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "storm_data.csv:3: CAT \"h5\": expected one of {CODES} (the categories table; codes are case-sensitive: \"H5\"?)"
        )),
        "{text}"
    );
    assert!(
        text.contains("storm_data.csv:4: BASIN \"Western Pacific\": expected one of Eastern Pacific, North Atlantic (the basins table)"),
        "{text}"
    );

    // With a quarantine the good rows load and the Q9 row goes to the file.
    let path = write_csv(dir.path(), &[ROW1, q9, ROW3]);
    let quarantine = dir.path().join("rejected.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .arg("load")
        .arg(&path)
        .arg("--quarantine")
        .arg(&quarantine)
        .env("DATABASE_URL", &t.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&t), 2);
    let rejected = std::fs::read_to_string(&quarantine).unwrap();
    assert!(
        rejected.contains("3,\"CAT \"\"Q9\"\": expected one of"),
        "{rejected}"
    );
}

#[test]
fn the_library_and_the_database_refuse_an_unknown_cat() {
    let t = TestDb::new();
    // Through the library: a 422-class error that lists the codes.
    let mut bad = sample_observation(1);
    bad.cat = "Q9".into();
    let err = t.db.insert_observation("alice", &bad).unwrap_err();
    println!("insert: {err}");
    assert!(matches!(err, Error::UnknownCode { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("cat \"Q9\": expected one of {CATEGORY_ORDER} (the categories table)")
    );
    t.db.insert_observation("alice", &sample_observation(1))
        .unwrap();
    let changes = HurricaneChanges {
        basin: Some("Atlantis".into()),
        ..Default::default()
    };
    let err = t.db.update_observation("alice", 1, &changes).unwrap_err();
    assert_eq!(
        err.to_string(),
        "basin \"Atlantis\": expected one of North Atlantic, Eastern Pacific (the basins table)"
    );
    // Inside a caller's transaction too: the crate's `Category` lists the codes.
    let err =
        t.db.transaction(|c| {
            hurricane_db::observations::insert(c, &{
                let mut b = sample_observation(2);
                b.cat = "Q9".into();
                b
            })
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("cat \"Q9\": expected one of {CATEGORY_ORDER} (the categories table)")
    );

    // A writer login's raw SQL: refused by the database (23503 on hurricanes_cat_fkey).
    let (_, writer) = login(&t, "schema_writer", Role::Writer);
    let raw = writer.transaction(|c| {
        diesel::sql_query(
            "INSERT INTO hurricanes VALUES (5, '2005-08-29 12:00Z', 9, 'X', 30, -90, 100, NULL, 'Q9', 'North Atlantic', 0)",
        )
        .execute(c)?;
        Ok::<_, Error>(())
    });
    match raw {
        Err(Error::UnknownCode {
            column,
            ref value,
            table,
            ref source,
            ..
        }) => {
            assert_eq!((column, value.as_str(), table), ("cat", "Q9", "categories"));
            let diesel::result::Error::DatabaseError(kind, info) = &**source else {
                panic!("{source:?}")
            };
            assert!(matches!(
                kind,
                diesel::result::DatabaseErrorKind::ForeignKeyViolation
            ));
            assert_eq!(info.constraint_name(), Some("hurricanes_cat_fkey"));
        }
        other => panic!("{other:?}"),
    }
    // The writer's good insert still works: triggers (storms, audit) run for it.
    writer
        .insert_observation("bob", &sample_observation(6))
        .unwrap();
    // ...but it may not add a category or change one.
    for sql in [
        "INSERT INTO categories (code, meaning) VALUES ('Q9', 'made up')",
        "UPDATE categories SET meaning = 'x' WHERE code = 'H5'",
        "DELETE FROM basins",
    ] {
        let r = writer.transaction(|c| Ok::<_, Error>(diesel::sql_query(sql).execute(c)?));
        assert!(
            matches!(r, Err(Error::PermissionDenied { .. })),
            "{sql}: {r:?}"
        );
    }
    // A reader may read both reference tables, and write none.
    let (_, reader) = login(&t, "schema_reader", Role::Reader);
    let cats = reader.read(queries::categories).unwrap();
    assert_eq!(cats.len(), 16);
    assert_eq!(reader.read(queries::basins).unwrap().len(), 2);
    let r = reader.transaction(|c| {
        Ok::<_, Error>(
            diesel::sql_query("INSERT INTO basins VALUES ('Mars', 'MA', 'red')").execute(c)?,
        )
    });
    assert!(matches!(r, Err(Error::PermissionDenied { .. })), "{r:?}");
}

#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct Checksum {
    #[diesel(sql_type = Text)]
    hurricanes: String,
    #[diesel(sql_type = Text)]
    storms: String,
    #[diesel(sql_type = BigInt)]
    rows: i64,
    #[diesel(sql_type = BigInt)]
    edits: i64,
}

fn checksum(t: &TestDb) -> Checksum {
    diesel::sql_query(
        "SELECT (SELECT md5(string_agg(h::text, ',' ORDER BY fid)) FROM hurricanes h) AS hurricanes, \
                (SELECT md5(string_agg(s::text, ',' ORDER BY btid)) FROM storms s) AS storms, \
                (SELECT count(*) FROM hurricanes) AS rows, \
                (SELECT count(*) FROM edits) AS edits",
    )
    .get_result(&mut t.connect())
    .unwrap()
}

/// Reverts migrations until 000006 is undone: the database is then at 000005.
fn back_to_000005(t: &TestDb) {
    loop {
        let v = t.db.revert_last_migration().unwrap();
        if v.contains("000006") {
            return;
        }
        assert!(
            v.as_str() > "2026-11-27-000006",
            "reverted {v} before reaching 000006"
        );
    }
}

fn apply_000006(t: &TestDb) -> String {
    let mut conn = t.connect();
    conn.run_next_migration(MIGRATIONS).unwrap().to_string()
}

#[test]
fn migration_000006_keeps_every_row_of_a_loaded_database_and_reverts_exactly() {
    // Loaded with today's loader (which writes today's columns), then taken back to
    // 000005: a database loaded before 000006 existed.
    let t = TestDb::new();
    let summary = load_path(&t.db, big_file(), &LoadOptions::new()).unwrap();
    println!("{summary}");
    assert_eq!(summary.rows, ALL_ROWS, "{summary}");
    // Some later edits too, so the audit trail and storms are not just the load.
    t.db.update_observation(
        "alice",
        1,
        &HurricaneChanges {
            wind_kts: Some(81),
            ..Default::default()
        },
    )
    .unwrap();
    back_to_000005(&t);
    let before = checksum(&t);
    println!("at 000005: {before:?}");
    assert_eq!(before.rows as u64, summary.rows);

    let applied = apply_000006(&t);
    assert!(applied.contains("000006"), "{applied}");
    assert_eq!(checksum(&t), before, "after up");
    // The rows just checked all reference existing codes.
    let orphans: i64 = diesel::sql_query(
        "SELECT count(*) AS n FROM hurricanes h WHERE NOT EXISTS (SELECT FROM categories c WHERE c.code = h.cat)",
    )
    .get_result::<N>(&mut t.connect())
    .unwrap()
    .n;
    assert_eq!(orphans, 0);

    // Redo: down then up, rows unchanged at each step.
    back_to_000005(&t);
    assert_eq!(checksum(&t), before, "after down");
    apply_000006(&t);
    assert_eq!(checksum(&t), before, "after redo");
    let counts = comment_counts(&mut t.connect());
    assert!(
        counts.iter().all(|c| c.commented == c.columns),
        "{counts:?}"
    );
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[test]
fn migration_000006_stops_on_unknown_codes_naming_them_and_changes_nothing() {
    let t = TestDb::new();
    load_path(&t.db, sample_path(), &LoadOptions::new()).unwrap();
    back_to_000005(&t);
    diesel::sql_query(
        "UPDATE hurricanes SET cat = CASE WHEN fid <= 3 THEN 'Q9' ELSE 'X' END WHERE fid <= 4",
    )
    .execute(&mut t.connect())
    .unwrap();
    diesel::sql_query("UPDATE hurricanes SET basin = 'Western Pacific' WHERE fid = 10")
        .execute(&mut t.connect())
        .unwrap();
    let before = checksum(&t);
    let err = t
        .connect()
        .run_next_migration(MIGRATIONS)
        .unwrap_err()
        .to_string();
    println!("{err}");
    assert!(
        err.contains(
            "hurricanes has codes that are not in the new reference tables: CAT not in categories: \
             \"Q9\" (3 rows), \"X\" (1 row); BASIN not in basins: \"Western Pacific\" (1 row)"
        ),
        "{err}"
    );
    assert_eq!(checksum(&t), before);
    let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
        "to_regclass('categories') IS NOT NULL",
    ))
    .get_result(&mut t.connect())
    .unwrap();
    assert!(!exists, "the failed migration left nothing behind");
}

/// `examples/analyst.py` as a reader login: pandas over SQLAlchemy and psycopg2.
/// Without the modules it fails, naming the packages to install.
#[test]
fn the_pandas_example_reads_as_a_reader_login() {
    let modules = Command::new("python3")
        .args(["-c", "import pandas, sqlalchemy, psycopg2"])
        .output();
    let have = modules.as_ref().is_ok_and(|o| o.status.success());
    if !have {
        let why = match &modules {
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
            Err(e) => format!("python3: {e}"),
        };
        panic!(
            "examples/analyst.py needs pandas, sqlalchemy and psycopg2 ({why}): install them \
             with `python3 -m pip install pandas sqlalchemy psycopg2-binary`"
        );
    }
    let t = TestDb::new();
    load_path(&t.db, sample_path(), &LoadOptions::new()).unwrap();
    let (name, _) = login(&t, "ana", Role::Reader);
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/analyst.py"))
        .env("HURRICANE_DB_URL", t.login_url(&name, PASSWORD))
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        format!("login: {name} (may insert into hurricanes: False)"),
        format!("categories: 16 codes: {CODES}"),
        "H5 means: major hurricane, Saffir-Simpson category 5, 137 kt or more".to_string(),
        "rows: 12; storms: EMILY, KATRINA, RITA, WILMA".to_string(),
        "default read_sql: lat float64, timestamp datetime64[us, UTC]".to_string(),
        "coerce_float=False: lat object, values decimal.Decimal (Decimal('17.100000'))".to_string(),
        "astype(float): lat float64".to_string(),
        "stored: 17.100000; as float64 it is 17.10000000000000142108547152020037174224853515625"
            .to_string(),
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "missing {line:?} in\n{stdout}"
        );
    }
}
