//! Issue 11 point 4: the analyst CLI and the library's filters forgive case where
//! values are codes or names, take a plain date, and treat an unknown FID in
//! `history` like an unknown storm in `track`. Run as an analyst would: the release
//! binary's commands against a loaded database.

use std::path::Path;
use std::process::Output;

use hurricane_db::ingest::{load_path, LoadOptions};
use hurricane_db::queries::{self, parse_time, Filter, StormFilter};
use hurricane_db::{Basin, Category};
use hurricane_db_testkit::TestDb;

mod common;
use common::cli;

fn loaded() -> TestDb {
    let t = TestDb::new();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/storm_sample.csv");
    load_path(&t.db, sample, &LoadOptions::new()).unwrap();
    t
}

/// The summary line: `query: N rows, next page ...`.
fn rows(out: &Output) -> usize {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default();
    last.strip_prefix("query: ")
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary line: {stdout}"))
}

#[test]
fn codes_and_names_ignore_case_and_a_plain_date_means_midnight_utc() {
    let t = loaded();
    let exact = rows(&cli(
        &t,
        &[
            "query",
            "--basin",
            "North Atlantic",
            "--cat",
            "H5",
            "--limit",
            "10000",
        ],
    ));
    let typed = rows(&cli(
        &t,
        &[
            "query",
            "--basin",
            "north atlantic",
            "--cat",
            "h5",
            "--limit",
            "10000",
        ],
    ));
    println!("--basin 'North Atlantic' --cat H5: {exact} rows; 'north atlantic' h5: {typed} rows");
    assert!(exact > 0);
    assert_eq!(typed, exact);

    let date = rows(&cli(
        &t,
        &[
            "query",
            "--time-from",
            "2005-08-25",
            "--time-to",
            "2005-08-31",
            "--limit",
            "10000",
        ],
    ));
    let rfc = rows(&cli(
        &t,
        &[
            "query",
            "--time-from",
            "2005-08-25T00:00:00Z",
            "--time-to",
            "2005-08-31T00:00:00Z",
            "--limit",
            "10000",
        ],
    ));
    println!("--time-from 2005-08-25 --time-to 2005-08-31: {date} rows (RFC 3339: {rfc})");
    assert!(date > 0);
    assert_eq!(date, rfc);
    let bad = cli(&t, &["query", "--time-from", "2005-13-01"]);
    assert_eq!(bad.status.code(), Some(2), "clap refuses the value");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected a date such as 2005-08-25"));

    // The library does the same for every caller (the service included).
    let f = Filter {
        basins: vec!["EASTERN PACIFIC".into()],
        limit: Some(10_000),
        ..Filter::default()
    };
    let lib =
        t.db.read_statement(|c| queries::search(c, &f))
            .unwrap()
            .items
            .len();
    assert!(lib > 0);
    let storms = StormFilter {
        basins: vec!["eastern pacific".into()],
        ..StormFilter::default()
    };
    assert!(!t
        .db
        .read_statement(|c| queries::storms(c, &storms))
        .unwrap()
        .is_empty());
    assert_eq!(
        " north   ATLANTIC ".parse::<Basin>().unwrap().name(),
        "North Atlantic"
    );
    assert_eq!("ts".parse::<Category>().unwrap().code(), "TS");
    assert_eq!(
        parse_time("2005-08-25").unwrap().to_rfc3339(),
        "2005-08-25T00:00:00+00:00"
    );
}

#[test]
fn history_of_an_unknown_fid_is_not_found_like_track_of_an_unknown_storm() {
    let t = loaded();
    let history = cli(&t, &["history", "999999"]);
    let track = cli(&t, &["track", "9999"]);
    let (h, k) = (
        String::from_utf8_lossy(&history.stderr),
        String::from_utf8_lossy(&track.stderr),
    );
    println!(
        "history 999999: exit {:?}: {}",
        history.status.code(),
        h.trim()
    );
    println!("track 9999: exit {:?}: {}", track.status.code(), k.trim());
    assert_eq!(history.status.code(), Some(1));
    assert_eq!(track.status.code(), Some(1));
    assert!(h.contains("not found"), "{h}");
    assert!(k.contains("not found"), "{k}");
    // A deleted observation still has its history.
    t.db.delete_observation("analyst-test", 1).unwrap();
    let deleted = cli(&t, &["history", "1"]);
    assert!(deleted.status.success());
    assert!(String::from_utf8_lossy(&deleted.stdout).contains("history: fid 1, 2 edits"));
}

/// Basins and categories are closed sets (the `basins` and `categories` tables): a
/// filter naming one that does not exist is refused, saying what exists, instead of
/// answering 0 rows; a basin may also be named by its ATCF prefix.
#[test]
fn an_unknown_basin_or_category_is_refused_not_answered_with_nothing() {
    let t = loaded();
    let by_name = rows(&cli(
        &t,
        &["query", "--basin", "north atlantic", "--limit", "10000"],
    ));
    let by_code = rows(&cli(&t, &["query", "--basin", "al", "--limit", "10000"]));
    assert!(by_name > 0);
    assert_eq!(by_code, by_name);
    let pacific = rows(&cli(&t, &["query", "--basin", "CP", "--limit", "10000"]));
    assert_eq!(
        pacific,
        rows(&cli(
            &t,
            &["query", "--basin", "Eastern Pacific", "--limit", "10000"]
        ))
    );

    for (args, expected) in [
        (
            &["query", "--basin", "atlantis"][..],
            "error: invalid input: basin \"atlantis\": expected North Atlantic or Eastern Pacific, or AL, EP or CP (any case)",
        ),
        (
            &["storms", "--basin", "Western Pacific"][..],
            "error: invalid input: basin \"Western Pacific\": expected North Atlantic or Eastern Pacific, or AL, EP or CP (any case)",
        ),
        (
            &["query", "--cat", "q9"][..],
            "error: invalid input: cat \"q9\": expected one of TD, TS, H1, H2, H3, H4, H5, ST, SD, SS, E, ET, PT, L, W, DB (any case; see the categories table)",
        ),
        (
            &["plot", "season", "2005", "--basin", "atlantis", "--out", "/nonexistent/x.svg"][..],
            "error: invalid input: basin \"atlantis\"",
        ),
    ] {
        let out = cli(&t, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.lines().any(|l| l.starts_with(expected)),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }

    // The library says the same, before any query.
    let mut conn = t.connect();
    let err = queries::storms(
        &mut conn,
        &StormFilter {
            basins: vec!["x".repeat(5000)],
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, hurricane_db::Error::InvalidInput(_)));
    assert!(err.to_string().len() < 200, "long values are cut: {err}");
    assert_eq!("ep".parse::<Basin>().unwrap(), Basin::EasternPacific);
    assert_eq!(" h5 ".parse::<Category>().unwrap(), Category::Hurricane5);
}
