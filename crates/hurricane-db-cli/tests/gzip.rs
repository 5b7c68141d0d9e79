//! Issue 16: `hurricane-db load FILE.gz` and `ingest::load_path` read gzip directly
//! (recognised by its magic bytes 1f 8b, whatever the name), streaming, with the same
//! rows, results and `file:line` numbers as the uncompressed file, messages naming the
//! file as given; corrupt or truncated gzip is a clear error and writes nothing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use flate2::write::GzEncoder;
use flate2::Compression;
use hurricane_db::ingest::{load_path, LoadOptions, LoadSummary, Progress};
use hurricane_db::Error;
use hurricane_db_testkit::TestDb;

mod common;
use common::cli;

const HEADER: &str =
    "FID,YEAR,MONTH,DAY,AD_TIME,BTID,NAME,LAT,LONG,WIND_KTS,PRESSURE,CAT,BASIN,Shape_Leng";
const ROW1: &str = "1,1851,6,25,0000Z,1,NOTNAMED,28.0,-94.8,80,0,H1,North Atlantic,0.600000";
const ROW2: &str = "2,1851,6,25,0600Z,1,NOTNAMED,28.0,-95.4,80,0,H1,North Atlantic,0.600000";
const ROW3: &str = "3,1851,6,25,1200Z,1,NOTNAMED,28.0,-96.0,80,0,H1,North Atlantic,0.608276";

fn bundled(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data")
            .join(name),
    )
    .unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A summary's counts, without the file name and time.
fn counts(s: &LoadSummary) -> [u64; 11] {
    [
        s.rows,
        s.inserted,
        s.updated,
        s.unchanged,
        s.rejected,
        s.not_in_file,
        s.storms,
        s.storms_added,
        s.storms_revised,
        s.storms_unchanged,
        s.storms_not_in_file,
    ]
}

#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct Contents {
    #[diesel(sql_type = Text)]
    hurricanes: String,
    #[diesel(sql_type = Text)]
    storms: String,
    #[diesel(sql_type = BigInt)]
    rows: i64,
    #[diesel(sql_type = BigInt)]
    edits: i64,
    #[diesel(sql_type = BigInt)]
    loads: i64,
}

/// Every stored value (md5 of the rows in id order) and how many rows, edits, loads.
fn contents(t: &TestDb) -> Contents {
    diesel::sql_query(
        "SELECT coalesce((SELECT md5(string_agg(h::text, '|' ORDER BY fid)) FROM hurricanes h), '') AS hurricanes, \
                coalesce((SELECT md5(string_agg(s::text, '|' ORDER BY btid)) FROM storms s), '') AS storms, \
                (SELECT count(*) FROM hurricanes) AS rows, \
                (SELECT count(*) FROM edits) AS edits, \
                (SELECT count(*) FROM loads) AS loads",
    )
    .get_result(&mut t.connect())
    .unwrap()
}

/// The summary line's counts: without `loaded NAME:` and the time.
fn cli_counts(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout.lines().last().unwrap_or_default();
    let line = line.rsplit_once(" in ").map_or(line, |(c, _)| c);
    line.split_once(": ").map_or(line, |(_, c)| c).to_string()
}

/// The sample as a plain file, as gzip, and as a two-member gzip named without `.gz`
/// (`gzip a; gzip b; cat a.gz b.gz`): three loads with the same rows, results and
/// stored values; a gzip reload over the plain load finds every row unchanged.
#[test]
fn a_gzip_csv_loads_exactly_as_the_plain_file() {
    let sample = bundled("storm_sample.csv");
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "storm_sample.csv", &sample);
    let gz = write(dir.path(), "storm_sample.csv.gz", &gzip(&sample));
    let cut = sample.len() / 2
        + sample[sample.len() / 2..]
            .iter()
            .position(|&b| b == b'\n')
            .unwrap()
        + 1;
    let mut members = gzip(&sample[..cut]);
    members.extend(gzip(&sample[cut..]));
    let unnamed = write(dir.path(), "storm_sample.dat", &members);

    let (p, g, m) = (TestDb::new(), TestDb::new(), TestDb::new());
    let from_plain = load_path(&p.db, &plain, &LoadOptions::new()).unwrap();
    let from_gz = load_path(&g.db, &gz, &LoadOptions::new()).unwrap();
    let from_members = load_path(&m.db, &unnamed, &LoadOptions::new()).unwrap();
    println!("{from_plain}\n{from_gz}\n{from_members}");
    assert_eq!(from_plain.rows, 3931);
    assert_eq!(counts(&from_gz), counts(&from_plain));
    assert_eq!(counts(&from_members), counts(&from_plain));
    // Messages and the audit trail name the file as given.
    assert_eq!(from_gz.source, "storm_sample.csv.gz");
    assert_eq!(from_members.source, "storm_sample.dat");
    let load = &g.db.loads().unwrap()[0];
    assert_eq!(load.file_name, "storm_sample.csv.gz");
    assert_eq!(load.app_user.as_deref(), Some("load:storm_sample.csv.gz"));
    assert_eq!(
        load.size_bytes,
        Some(std::fs::metadata(&gz).unwrap().len() as i64),
        "size_bytes: the file's own (compressed) size"
    );

    let stored = contents(&p);
    assert_eq!(stored.rows, 3931);
    let same = |c: &Contents| (c.hurricanes.clone(), c.storms.clone(), c.rows);
    assert_eq!(same(&contents(&g)), same(&stored));
    assert_eq!(same(&contents(&m)), same(&stored));

    // The gzip file over the plain file's load: identical values, nothing written.
    let again = load_path(&p.db, &gz, &LoadOptions::new()).unwrap();
    assert_eq!(
        (
            again.inserted,
            again.updated,
            again.unchanged,
            again.storms_revised
        ),
        (0, 0, 3931, 0),
        "{again}"
    );
    assert_eq!(contents(&p).edits, stored.edits);
}

/// `hurricane-db load FILE.gz` of a HURDAT2 file: the same summary as the plain file.
#[test]
fn a_gzip_hurdat2_file_loads_exactly_as_the_plain_file_through_the_cli() {
    let text = bundled("hurdat2_sample_2005.txt");
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "hurdat2_sample_2005.txt", &text);
    let gz = write(dir.path(), "hurdat2_sample_2005.txt.gz", &gzip(&text));
    let (p, g) = (TestDb::new(), TestDb::new());
    let out_plain = cli(&p, &["load", plain.to_str().unwrap()]);
    let out_gz = cli(&g, &["load", gz.to_str().unwrap()]);
    println!("{}", String::from_utf8_lossy(&out_gz.stdout).trim_end());
    assert!(String::from_utf8_lossy(&out_gz.stdout).contains("loaded hurdat2_sample_2005.txt.gz: "));
    assert_eq!(
        cli_counts(&out_gz),
        "935 rows, 935 inserted, 0 updated, 0 unchanged, 0 rejected, 0 not in file; \
         31 storms: 31 added, 0 revised, 0 unchanged, 0 not in file; load 1"
    );
    assert_eq!(cli_counts(&out_gz), cli_counts(&out_plain));
    let (a, b) = (contents(&p), contents(&g));
    assert_eq!(
        (&a.hurricanes, &a.storms, a.rows),
        (&b.hurricanes, &b.storms, b.rows)
    );
}

/// The rejected load's messages, one per bad row.
fn messages(t: &TestDb, path: &Path) -> Vec<String> {
    match load_path(&t.db, path, &LoadOptions::new().max_errors(None)) {
        Err(Error::Rejected(r)) => r.errors.iter().map(|e| e.display_in(&r.source)).collect(),
        other => panic!("expected a rejected load, got {other:?}"),
    }
}

/// Bad rows in a gzip file are named at the same lines as in the plain file, under
/// the name given (a duplicate FID still points at its first line: a second read of
/// the file, decompressed too); nothing is written.
#[test]
fn bad_rows_in_a_gzip_file_are_named_at_the_same_lines() {
    let dir = tempfile::tempdir().unwrap();
    // Line 3: a bad DAY; line 5: an unknown CAT; line 6: FID 1 again.
    let csv = format!(
        "{HEADER}\n{ROW1}\n{}\n{ROW2}\n{}\n{ROW1}\n",
        ROW2.replace(",6,25,", ",6,31,"),
        ROW3.replace("H1", "Q9"),
    );
    let plain = write(dir.path(), "storm_data.csv", csv.as_bytes());
    let gz = write(dir.path(), "storm_data.csv.gz", &gzip(csv.as_bytes()));
    let t = TestDb::new();
    let expected = messages(&t, &plain);
    assert_eq!(expected.len(), 3, "{expected:?}");
    assert!(
        expected
            .iter()
            .any(|m| m.contains("FID already used on line 2")),
        "{expected:?}"
    );
    let got = messages(&t, &gz);
    println!("{}", got.join("\n"));
    let renamed: Vec<String> = expected
        .iter()
        .map(|m| m.replacen("storm_data.csv:", "storm_data.csv.gz:", 1))
        .collect();
    assert_eq!(got, renamed);
    assert!(
        got[0].starts_with("storm_data.csv.gz:3: DAY \"31\""),
        "{got:?}"
    );

    // HURDAT2: a bad latitude on line 3.
    let h2 = "AL011851,            UNNAMED,      2,\r\n\
              18510625, 0000,  , HU, 28.0N,  94.8W,  80, -999, -999, -999, -999, -999, -999, -999, -999, -999, -999, -999, -999, -999,\r\n\
              18510625, 0600,  , HU, 28.0X,  95.4W,  80, -999, -999, -999, -999, -999, -999, -999, -999, -999, -999, -999, -999, -999,\r\n";
    let plain = write(dir.path(), "hurdat2.txt", h2.as_bytes());
    let gz = write(dir.path(), "hurdat2.txt.gz", &gzip(h2.as_bytes()));
    let expected = messages(&t, &plain);
    let got = messages(&t, &gz);
    println!("{}", got.join("\n"));
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0],
        expected[0].replacen("hurdat2.txt:", "hurdat2.txt.gz:", 1)
    );
    assert!(
        got[0].starts_with("hurdat2.txt.gz:3: LAT \"28.0X\""),
        "{got:?}"
    );
    let c = contents(&t);
    assert_eq!((c.rows, c.edits, c.loads), (0, 0, 0), "nothing written");
}

/// Damaged gzip: cut in half, missing only its 8-byte trailer (every row decodes;
/// the end does not check), a wrong CRC (every row decodes; the check fails), a
/// flipped byte in the compressed data, a header with the magic bytes but nothing
/// valid after them. Each is an error naming the file and saying what is wrong;
/// nothing is written (no rows, edits or loads; no quarantine file).
#[test]
fn a_corrupt_or_truncated_gzip_file_is_refused_and_writes_nothing() {
    let sample = bundled("storm_sample.csv");
    let good = gzip(&sample);
    let n = good.len();
    let mut bad_crc = good.clone();
    bad_crc[n - 8] ^= 0xff;
    let mut flipped = good.clone();
    flipped[n / 2] ^= 0x55;
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "half",
            good[..n / 2].to_vec(),
            "gzip data ends early: the file is truncated",
        ),
        (
            "no trailer",
            good[..n - 8].to_vec(),
            "gzip data ends early: the file is truncated",
        ),
        ("bad crc", bad_crc, "corrupt gzip data"),
        ("flipped byte", flipped, "corrupt gzip data"),
        (
            "bad header",
            b"\x1f\x8bnot really gzip".to_vec(),
            "corrupt gzip data",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let t = TestDb::new();
    for (what, bytes, says) in cases {
        let path = write(dir.path(), "storm_sample.csv.gz", &bytes);
        let quarantine = dir.path().join("rejected.csv");
        let options = LoadOptions::new().quarantine(&quarantine);
        let err = load_path(&t.db, &path, &options).unwrap_err();
        // The error and its sources, each once, as the command prints them.
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        println!("{what}: {message}");
        assert!(matches!(err, Error::Io { .. }), "{what}: {err:?}");
        assert!(
            message.starts_with("storm_sample.csv.gz: ") && message.contains(says),
            "{what}: {message}"
        );
        let c = contents(&t);
        assert_eq!(
            (c.rows, c.edits, c.loads),
            (0, 0, 0),
            "{what}: nothing written"
        );
        assert!(!quarantine.exists(), "{what}: no quarantine file");
        assert!(
            std::fs::read_dir(dir.path()).unwrap().count() == 1,
            "{what}: no leftovers"
        );
    }

    // The command: exit 1, the message on stderr, no summary line.
    let path = write(dir.path(), "storm_sample.csv.gz", &good[..n / 2]);
    let out = cli(&t, &["load", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{}", stderr.trim_end());
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: storm_sample.csv.gz: gzip data ends early: the file is truncated"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("loaded"));
    assert_eq!(contents(&t).rows, 0);
}

#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<(String, u64)>>,
}

impl Progress for Recorder {
    fn start(&self, total_bytes: u64) {
        self.calls
            .lock()
            .unwrap()
            .push(("start".into(), total_bytes));
    }
    fn advance(&self, bytes_read: u64, _rows: u64) {
        self.calls
            .lock()
            .unwrap()
            .push(("advance".into(), bytes_read));
    }
}

/// Progress of a gzip load runs in compressed bytes, up to the file's size.
#[test]
fn a_gzip_load_reports_progress_in_compressed_bytes() {
    let sample = bundled("storm_sample.csv");
    let dir = tempfile::tempdir().unwrap();
    let gz = write(dir.path(), "storm_sample.csv.gz", &gzip(&sample));
    let size = std::fs::metadata(&gz).unwrap().len();
    let recorder = Arc::new(Recorder::default());
    let t = TestDb::new();
    load_path(&t.db, &gz, &LoadOptions::new().progress(recorder.clone())).unwrap();
    let calls = recorder.calls.lock().unwrap();
    assert_eq!(calls[0], ("start".to_string(), size));
    assert!(
        calls[1..].iter().all(|(_, bytes)| *bytes <= size),
        "{calls:?}"
    );
}
