//! Issue 3: the IHW CSV loader against a real PostgreSQL: exact messages for every
//! kind of bad input, all-or-nothing, quarantine, idempotent refresh, exact round trip.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use bigdecimal::BigDecimal;
use diesel::prelude::*;
use diesel::sql_types::Text;
use hurricane_db::ingest::{load_path, CopyFormat, LoadOptions, LoadSummary};
use hurricane_db::schema::hurricanes;
use hurricane_db::{Error, Hurricane};
use hurricane_db_testkit::TestDb;

const HEADER: &str =
    "FID,YEAR,MONTH,DAY,AD_TIME,BTID,NAME,LAT,LONG,WIND_KTS,PRESSURE,CAT,BASIN,Shape_Leng";
const ROW1: &str = "1,1851,6,25,0000Z,1,NOTNAMED,28.0,-94.8,80,0,H1,North Atlantic,0.600000";
const ROW2: &str = "2,1851,6,25,0600Z,1,NOTNAMED,28.0,-95.4,80,0,H1,North Atlantic,0.600000";
const ROW3: &str = "3,1851,6,25,1200Z,1,NOTNAMED,28.0,-96.0,80,0,H1,North Atlantic,0.608276";

fn sample_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/storm_sample.csv")
}

/// Writes `content` to `<tmp>/storm_data.csv`, so messages read `storm_data.csv:LINE`.
fn file_with(content: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("storm_data.csv");
    std::fs::write(&path, content).unwrap();
    (dir, path)
}

fn load(t: &TestDb, content: &str) -> hurricane_db::Result<LoadSummary> {
    load_bytes(t, content.as_bytes())
}

fn load_bytes(t: &TestDb, content: &[u8]) -> hurricane_db::Result<LoadSummary> {
    let (_dir, path) = file_with(content);
    load_path(&t.db, &path, &LoadOptions::new())
}

/// The messages of a rejected load, one per bad row.
fn rejected(t: &TestDb, content: &str) -> Vec<String> {
    match load(t, content) {
        Err(Error::Rejected(r)) => r.errors.iter().map(|e| e.display_in(&r.source)).collect(),
        other => panic!("expected a rejected load, got {other:?}"),
    }
}

fn one_bad_row(row: &str) -> String {
    let t = TestDb::new();
    let messages = rejected(&t, &format!("{HEADER}\n{ROW1}\n{row}\n"));
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(count(&t), 0, "nothing written");
    messages.into_iter().next().unwrap()
}

fn count(t: &TestDb) -> i64 {
    t.db.read(|c| Ok::<_, hurricane_db::Error>(hurricanes::table.count().get_result(c)?))
        .unwrap()
}

#[derive(QueryableByName)]
struct Checksum {
    #[diesel(sql_type = Text)]
    sum: String,
}

/// A checksum over every column and the physical position and version of every row.
fn checksum(t: &TestDb) -> String {
    t.db.read(|c| {
        Ok::<_, hurricane_db::Error>(diesel::sql_query(
            "SELECT coalesce(md5(string_agg(h::text || ctid::text || xmin::text, '|' ORDER BY fid)), '') \
             AS sum FROM hurricanes h",
        )
        .get_result::<Checksum>(c)?
        .sum)
    })
    .unwrap()
}

#[test]
fn wrong_column_count() {
    assert_eq!(
        one_bad_row("2,1851,6,25,0600Z,1,NOTNAMED,28.0,-95.4,80,0,H1,North Atlantic"),
        "storm_data.csv:3: expected 14 columns, found 13"
    );
}

#[test]
fn non_numeric_numbers() {
    assert_eq!(
        one_bad_row("2,1851,6,25,0600Z,1,NOTNAMED,28.0,-95.4,fast,0,H1,North Atlantic,0.6"),
        "storm_data.csv:3: WIND_KTS \"fast\": expected a whole number from 0 to 32767"
    );
    assert_eq!(
        one_bad_row("2,1851,6,25,0600Z,1,NOTNAMED,28.0,1e2,80,0,H1,North Atlantic,0.6"),
        "storm_data.csv:3: LONG \"1e2\": expected a decimal from -180 to 180 with at most 6 decimals"
    );
    assert_eq!(
        one_bad_row("x2,1851,6,25,0600Z,1,NOTNAMED,28.0,-95.4,80,0,H1,North Atlantic,0.6"),
        "storm_data.csv:3: FID \"x2\": expected a whole number from 1 to 2147483647"
    );
}

#[test]
fn out_of_range_values() {
    let cases = [
        (
            "2,1851,6,25,0600Z,1,NOTNAMED,90.5,-95.4,80,0,H1,North Atlantic,0.6",
            "LAT \"90.5\": expected a decimal from -90 to 90 with at most 6 decimals",
        ),
        (
            "2,1851,6,25,0600Z,1,NOTNAMED,28.0,-180.1,80,0,H1,North Atlantic,0.6",
            "LONG \"-180.1\": expected a decimal from -180 to 180 with at most 6 decimals",
        ),
        (
            "2,1851,6,25,0600Z,1,NOTNAMED,28.0,-95.4,-5,0,H1,North Atlantic,0.6",
            "WIND_KTS \"-5\": expected a whole number from 0 to 32767",
        ),
        (
            "2,1851,6,25,0600Z,1,NOTNAMED,28.0,-95.4,80,700,H1,North Atlantic,0.6",
            "PRESSURE \"700\": expected 0 (not measured) or millibars from 800 to 1100",
        ),
        (
            "2,1851,6,25,0600Z,1,NOTNAMED,28.0,-95.4,80,1200,H1,North Atlantic,0.6",
            "PRESSURE \"1200\": expected 0 (not measured) or millibars from 800 to 1100",
        ),
        (
            "2,1851,6,25,0600Z,1,NOTNAMED,28.0,-95.4,80,0,H1,North Atlantic,-0.5",
            "Shape_Leng \"-0.5\": expected a distance from 0 to below 100 degrees with at most 6 decimals",
        ),
        (
            "2,1851,6,25,0600Z,1,NOTNAMED,28.1234567,-95.4,80,0,H1,North Atlantic,0.6",
            "LAT \"28.1234567\": expected at most 6 digits after the decimal point",
        ),
        (
            "2,1851,6,25,0600Z,1,NOTNAMED,28.0,-95.4,80,0,H11,North Atlantic,0.6",
            "CAT \"H11\": expected at most 2 characters",
        ),
        (
            "2,1851,6,25,0600Z,1,NOTNAMED,28.0,-95.4,80,0,H1,North Atlantic Ocean,0.6",
            "BASIN \"North Atlantic Ocean\": expected at most 16 characters",
        ),
        (
            "2,1851,6,25,0600Z,1,,28.0,-95.4,80,0,H1,North Atlantic,0.6",
            "NAME \"\": expected a non-empty value",
        ),
    ];
    for (row, reason) in cases {
        assert_eq!(one_bad_row(row), format!("storm_data.csv:3: {reason}"));
    }
}

#[test]
fn impossible_dates_and_times() {
    let cases = [
        ("2,1957,9,31,0600Z", "DAY \"31\": 1957-09 has 30 days"),
        ("2,1957,2,29,0600Z", "DAY \"29\": 1957-02 has 28 days"),
        (
            "2,1957,13,1,0600Z",
            "MONTH \"13\": expected a whole number from 1 to 12",
        ),
        (
            "2,1957,1,0,0600Z",
            "DAY \"0\": expected a whole number from 1 to 31",
        ),
        (
            "2,1957,1,1,2400Z",
            "AD_TIME \"2400Z\": expected HHMMZ, hour 00-23 and minute 00-59 (e.g. 1800Z)",
        ),
        (
            "2,1957,1,1,1260Z",
            "AD_TIME \"1260Z\": expected HHMMZ, hour 00-23 and minute 00-59 (e.g. 1800Z)",
        ),
        (
            "2,1957,1,1,1800",
            "AD_TIME \"1800\": expected HHMMZ, hour 00-23 and minute 00-59 (e.g. 1800Z)",
        ),
        (
            "2,1957,1,1,18:00Z",
            "AD_TIME \"18:00Z\": expected HHMMZ, hour 00-23 and minute 00-59 (e.g. 1800Z)",
        ),
    ];
    for (start, reason) in cases {
        let row = format!("{start},1,NOTNAMED,28.0,-95.4,80,0,H1,North Atlantic,0.6");
        assert_eq!(one_bad_row(&row), format!("storm_data.csv:3: {reason}"));
    }
    // 1956 was a leap year: Feb 29 is fine.
    let t = TestDb::new();
    let leap = "2,1956,2,29,0600Z,1,NOTNAMED,28.0,-95.4,80,0,H1,North Atlantic,0.6";
    load(&t, &format!("{HEADER}\n{leap}\n")).expect("leap day");
}

#[test]
fn duplicate_fid_names_the_first_line() {
    let t = TestDb::new();
    let dup = ROW2.replacen("2,", "1,", 1);
    let messages = rejected(&t, &format!("{HEADER}\n{ROW1}\n{ROW3}\n{dup}\n"));
    assert_eq!(
        messages,
        vec!["storm_data.csv:4: FID \"1\": duplicate: FID already used on line 2"]
    );
}

#[test]
fn header_problems() {
    let t = TestDb::new();
    let misspelt = HEADER.replace("MONTH", "MONHT");
    let err = load(&t, &format!("{misspelt}\n{ROW1}\n")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("invalid input: storm_data.csv:1: header column 3 is \"MONHT\", expected \"MONTH\" (the header must be {HEADER})")
    );
    let err = load(&t, &format!("{ROW1}\n{ROW2}\n")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("invalid input: storm_data.csv:1: header column 1 is \"1\", expected \"FID\" (the header must be {HEADER})")
    );
    let short = HEADER.rsplit_once(',').unwrap().0;
    let err = load(&t, &format!("{short}\n{ROW1}\n")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("invalid input: storm_data.csv:1: header has 13 columns, expected 14: {HEADER}")
    );
    let err = load(&t, "").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("invalid input: storm_data.csv: empty file: expected the header {HEADER}")
    );
    assert_eq!(count(&t), 0);
}

#[test]
fn invalid_utf8_is_reported() {
    let t = TestDb::new();
    let mut content = format!("{HEADER}\n{ROW1}\n").into_bytes();
    content.extend_from_slice(
        b"2,1851,6,25,0600Z,1,AN\xffREW,28.0,-95.4,80,0,H1,North Atlantic,0.6\n",
    );
    match load_bytes(&t, &content) {
        Err(Error::Rejected(r)) => assert_eq!(
            r.errors[0].display_in(&r.source),
            "storm_data.csv:3: NAME \"AN\u{FFFD}REW\": invalid UTF-8 at byte 3"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bom_crlf_and_quoted_fields_are_accepted() {
    let t = TestDb::new();
    let quoted =
        "2,1851,6,25,0600Z,1,\"O'BRIEN, \"\"BIG\"\" ONE\",28.0,-95.4,80,0,H1,North Atlantic,0.6";
    let content = format!("\u{FEFF}{HEADER}\r\n{ROW1}\r\n{quoted}\r\n{ROW3}\r\n");
    let summary = load(&t, &content).expect("BOM, CRLF and quotes load");
    assert_eq!((summary.rows, summary.inserted), (3, 3));
    let names: Vec<String> =
        t.db.read(|c| {
            Ok::<_, hurricane_db::Error>(
                hurricanes::table
                    .select(hurricanes::name)
                    .order(hurricanes::fid)
                    .load(c)?,
            )
        })
        .unwrap();
    assert_eq!(names, vec!["NOTNAMED", "O'BRIEN, \"BIG\" ONE", "NOTNAMED"]);
}

#[test]
fn a_failed_load_leaves_the_table_byte_identical() {
    let t = TestDb::new();
    load_path(&t.db, sample_path(), &LoadOptions::new()).unwrap();
    let before = checksum(&t);
    // A changed row, a new row and one bad row: all or nothing.
    let changed = ROW1.replace(",80,0,", ",85,0,");
    let new = "999999,2020,1,1,0000Z,9,NEW,10.0,10.0,10,0,TD,North Atlantic,0";
    let bad = "1000000,2020,1,1,0000Z,9,NEW,10.0,10.0,10,0,TD,North Atlantic,x";
    let messages = rejected(&t, &format!("{HEADER}\n{changed}\n{new}\n{bad}\n"));
    assert_eq!(
        messages,
        vec!["storm_data.csv:4: Shape_Leng \"x\": expected a decimal from 0 to below 100 with at most 6 decimals"]
    );
    assert_eq!(checksum(&t), before);
    assert_eq!(count(&t), 3931);
}

#[test]
fn more_than_ten_errors_are_summarised() {
    let t = TestDb::new();
    let mut content = format!("{HEADER}\n");
    for fid in 1..=25 {
        content.push_str(&format!(
            "{fid},1851,6,25,0000Z,1,X,28.0,-94.8,80,0,H1,North Atlantic,bad\n"
        ));
    }
    let err = load(&t, &content).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "storm_data.csv: 25 bad rows, nothing loaded\n  storm_data.csv:2: Shape_Leng"
        ),
        "{text}"
    );
    assert_eq!(text.lines().count(), 12, "{text}");
    assert!(
        text.ends_with("... and 15 more (--all-errors lists them all)"),
        "{text}"
    );

    let (_dir, path) = file_with(content.as_bytes());
    let all = LoadOptions::new().max_errors(None);
    match load_path(&t.db, &path, &all) {
        Err(Error::Rejected(r)) => assert_eq!((r.total, r.errors.len()), (25, 25)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn quarantine_loads_good_rows_and_keeps_bad_ones() {
    let t = TestDb::new();
    let bad_day = "2,1957,9,31,0600Z,1,NOTNAMED,28.0,-95.4,80,0,H1,North Atlantic,0.6";
    let short = "4,1851,6,25";
    let (dir, path) =
        file_with(format!("{HEADER}\n{ROW1}\n{bad_day}\n{ROW3}\n{short}\n").as_bytes());
    let qfile = dir.path().join("rejected.csv");
    let options = LoadOptions::new().quarantine(&qfile);
    let summary = load_path(&t.db, &path, &options).unwrap();
    assert_eq!(
        summary.to_string().rsplit_once(" in ").unwrap().0,
        "loaded storm_data.csv: 2 rows, 2 inserted, 0 updated, 0 unchanged, 2 rejected, 0 not in file; \
         1 storms: 1 added, 0 revised, 0 unchanged, 0 not in file; load 1"
    );
    let quarantined = std::fs::read_to_string(&qfile).unwrap();
    assert_eq!(
        quarantined,
        format!(
            "LINE,ERROR,{HEADER}\n\
             3,\"DAY \"\"31\"\": 1957-09 has 30 days\",{bad_day}\n\
             5,\"expected 14 columns, found 4\",{short}\n"
        )
    );
    assert_eq!(count(&t), 2);
    assert!(!dir.path().join("rejected.csv.partial").exists());
}

#[test]
fn refresh_counts_inserted_updated_unchanged_and_missing() {
    let t = TestDb::new();
    let first = load(&t, &format!("{HEADER}\n{ROW1}\n{ROW2}\n{ROW3}\n")).unwrap();
    assert_eq!((first.inserted, first.updated, first.unchanged), (3, 0, 0));

    let before = checksum(&t);
    let same = load(&t, &format!("{HEADER}\n{ROW1}\n{ROW2}\n{ROW3}\n")).unwrap();
    assert_eq!(
        (
            same.rows,
            same.inserted,
            same.updated,
            same.unchanged,
            same.not_in_file
        ),
        (3, 0, 0, 3, 0)
    );
    assert_eq!(checksum(&t), before, "an unchanged reload touches no row");

    // Row 1 unchanged, row 2 changed (wind and pressure), row 3 missing, row 4 new.
    let changed = ROW2.replace(",80,0,", ",85,990,");
    let new = "4,1851,6,25,1800Z,1,NOTNAMED,28.1,-96.5,80,0,H1,North Atlantic,0";
    let next = load(&t, &format!("{HEADER}\n{ROW1}\n{changed}\n{new}\n")).unwrap();
    assert_eq!(
        (
            next.rows,
            next.inserted,
            next.updated,
            next.unchanged,
            next.rejected,
            next.not_in_file
        ),
        (3, 1, 1, 1, 0, 1)
    );
    let row2: Hurricane =
        t.db.read(|c| {
            Ok::<_, hurricane_db::Error>(
                hurricanes::table
                    .find(2)
                    .select(Hurricane::as_select())
                    .first(c)?,
            )
        })
        .unwrap();
    assert_eq!((row2.wind_kts, row2.pressure), (85, Some(990)));
    assert_eq!(count(&t), 4, "the missing row is left alone");
}

#[test]
fn the_real_sample_round_trips_field_by_field() {
    round_trip(CopyFormat::Binary);
}

#[test]
fn the_real_sample_round_trips_field_by_field_through_text_copy() {
    round_trip(CopyFormat::Text);
}

fn round_trip(format: CopyFormat) {
    let t = TestDb::new();
    let summary = load_path(&t.db, sample_path(), &LoadOptions::new().format(format)).unwrap();
    assert_eq!((summary.rows, summary.inserted), (3931, 3931));
    let rows: Vec<Hurricane> =
        t.db.read(|c| {
            Ok::<_, hurricane_db::Error>(
                hurricanes::table
                    .select(Hurricane::as_select())
                    .order(hurricanes::fid)
                    .load(c)?,
            )
        })
        .unwrap();
    let text = std::fs::read_to_string(sample_path()).unwrap();
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), lines.len());
    let dec = |s: &str| BigDecimal::from_str(s).unwrap();
    for (h, line) in rows.iter().zip(&lines) {
        let f: Vec<&str> = line.split(',').collect();
        let at = format!(
            "{:04}-{:02}-{:02} {}:{}",
            f[1].parse::<i32>().unwrap(),
            f[2].parse::<u32>().unwrap(),
            f[3].parse::<u32>().unwrap(),
            &f[4][..2],
            &f[4][2..4]
        );
        assert_eq!(h.fid.to_string(), f[0], "{line}");
        assert_eq!(
            h.timestamp.format("%Y-%m-%d %H:%M").to_string(),
            at,
            "{line}"
        );
        assert_eq!(h.btid.to_string(), f[5], "{line}");
        assert_eq!(h.name, f[6], "{line}");
        assert_eq!(h.lat, dec(f[7]), "{line}");
        assert_eq!(h.long, dec(f[8]), "{line}");
        assert_eq!(h.wind_kts.to_string(), f[9], "{line}");
        match h.pressure {
            None => assert_eq!(f[10], "0", "{line}"),
            Some(p) => assert_eq!(p.to_string(), f[10], "{line}"),
        }
        assert_eq!(h.cat, f[11], "{line}");
        assert_eq!(h.basin, f[12], "{line}");
        assert_eq!(h.shape_length, dec(f[13]), "{line}");
        // Stored with the column's scale, digit for digit.
        assert_eq!(
            format!("{:.6}", h.shape_length),
            format!("{:.6}", dec(f[13])),
            "{line}"
        );
    }
}

#[test]
fn cli_load_reports_and_exits_non_zero_on_bad_rows() {
    let t = TestDb::new();
    let bad = "2,1957,9,31,0600Z,1,NOTNAMED,28.0,-95.4,80,0,H1,North Atlantic,0.6";
    let (_dir, path) = file_with(format!("{HEADER}\n{ROW1}\n{bad}\n").as_bytes());
    let out = Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .arg("load")
        .arg(&path)
        .env("DATABASE_URL", &t.url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("storm_data.csv:3: DAY \"31\": 1957-09 has 30 days"),
        "{stderr}"
    );
    assert!(
        stdout.starts_with("rejected storm_data.csv: 2 rows, 0 inserted, 0 updated, 0 unchanged, 1 rejected, nothing written in "),
        "{stdout}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "no progress bar when piped: {stderr}"
    );

    let ok = Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .arg("load")
        .arg(sample_path())
        .env("DATABASE_URL", &t.url)
        .output()
        .unwrap();
    assert!(ok.status.success());
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    // The refused load above used up load id 1 (identities are not rolled back).
    assert!(
        stdout.starts_with(
            "loaded storm_sample.csv: 3931 rows, 3931 inserted, 0 updated, 0 unchanged, 0 rejected, \
             0 not in file; 123 storms: 123 added, 0 revised, 0 unchanged, 0 not in file; load 2 in "
        ),
        "{stdout}"
    );
}

#[test]
fn names_are_bounded_and_a_runaway_line_is_refused_with_flat_memory() {
    let t = TestDb::new();
    let long_name = "A".repeat(65);
    let row = format!("2,1851,6,25,0600Z,1,{long_name},28.0,-95.4,80,0,H1,North Atlantic,0.6");
    assert_eq!(
        one_bad_row(&row),
        format!(
            "storm_data.csv:3: NAME \"{}... (65 bytes)\": expected at most 64 characters",
            "A".repeat(40)
        )
    );

    // A 10 MB NAME: refused at its line, nothing loaded, and the loader's memory does
    // not grow with the line (it never holds it whole).
    let huge = format!(
        "{HEADER}\n{ROW1}\n2,1851,6,25,0600Z,1,{},28.0,-95.4,80,0,H1,North Atlantic,0.6\n",
        "N".repeat(10 * 1024 * 1024)
    );
    let (_dir, huge_path) = file_with(huge.as_bytes());
    let (_dir2, small_path) = file_with(format!("{HEADER}\n{ROW1}\n").as_bytes());
    let (small, small_rss) = cli_load(&t, &small_path);
    assert!(
        small.status.success(),
        "{}",
        String::from_utf8_lossy(&small.stderr)
    );
    let (out, huge_rss) = cli_load(&t, &huge_path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("storm_data.csv:3: line longer than 65536 bytes"),
        "{stderr}"
    );
    println!("peak RSS: {small_rss} KiB for a 2-line file, {huge_rss} KiB for a 10 MB line");
    assert!(
        huge_rss < small_rss + 4 * 1024,
        "memory grew with the line: {small_rss} KiB -> {huge_rss} KiB"
    );
    // Only the first, small load's row is there.
    assert_eq!(count(&t), 1);
}

/// Runs `hurricane-db load PATH` and returns its output and its own peak RSS (KiB).
/// The child is reaped with `wait4` (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn cli_load(t: &TestDb, path: &Path) -> (std::process::Output, i64) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .arg("load")
        .arg(path)
        .env("DATABASE_URL", &t.url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter; wait4 reaps our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    use std::os::unix::process::ExitStatusExt;
    let output = std::process::Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout,
        stderr,
    };
    (output, usage.ru_maxrss)
}

/// Issue 9 point 5: a loader killed while its session waits (here for the load lock,
/// held by another session) leaves no server session behind for long: the server
/// notices the dead client within about a second, so a rerun does not wait for it.
#[test]
fn a_killed_loader_leaves_no_session_behind() {
    let t = TestDb::new();
    let mut holder = t.connect();
    diesel::sql_query("BEGIN").execute(&mut holder).unwrap();
    diesel::sql_query("LOCK TABLE hurricanes IN EXCLUSIVE MODE")
        .execute(&mut holder)
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .arg("load")
        .arg(sample_path())
        .env("DATABASE_URL", &t.url)
        .env("HURRICANE_DB_APPLICATION_NAME", "killed-loader")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut observer = t.connect();
    let sessions = |observer: &mut PgConnection| -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'killed-loader'",
        )
        .get_result::<N>(observer)
        .unwrap()
        .n
    };
    // Wait until the loader waits for the lock.
    let started = std::time::Instant::now();
    while sessions(&mut observer) == 0 && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        sessions(&mut observer),
        1,
        "the loader is connected and waiting"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = std::time::Instant::now();
    while sessions(&mut observer) > 0 && killed.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let gone_after = killed.elapsed();
    println!(
        "the killed loader's session ended {:.2} s after the kill",
        gone_after.as_secs_f64()
    );
    assert_eq!(sessions(&mut observer), 0);
    assert!(
        gone_after < std::time::Duration::from_secs(3),
        "{gone_after:?}"
    );
    diesel::sql_query("ROLLBACK").execute(&mut holder).unwrap();
}
