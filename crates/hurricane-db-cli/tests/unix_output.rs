//! Issue 16 point 2: the command behaves as a Unix tool in a pipeline. A reader that
//! closes the pipe early (`| head -5`) ends the command quietly with status 0, and
//! coordinates print the same way in every command.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use hurricane_db::ingest::{load_path, LoadOptions};
use hurricane_db_testkit::TestDb;

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(name)
}

fn loaded() -> TestDb {
    let t = TestDb::new();
    load_path(&t.db, data("storm_sample.csv"), &LoadOptions::new()).unwrap();
    t
}

/// Runs `hurricane-db ARGS` with stdout to a pipe, reads `lines` lines and closes the
/// pipe, as `| head -N` does; returns the exit status and stderr.
fn head(t: &TestDb, args: &[&str], lines: usize) -> (Option<i32>, String, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .args(args)
        .env("DATABASE_URL", &t.url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut got = Vec::new();
    for _ in 0..lines {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        got.push(line.trim_end().to_string());
    }
    drop(reader); // the reader goes away with most of the output unread
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        got,
    )
}

#[test]
fn a_reader_that_closes_the_pipe_ends_every_listing_quietly_with_status_0() {
    let t = loaded();
    // Each writes far more than a pipe buffer (64 KiB), so the write really fails.
    let commands: [&[&str]; 5] = [
        &["export", "--format", "ihw"],
        &["query", "--limit", "10000"],
        &["query", "--limit", "10000", "--csv"],
        &["query", "--limit", "10000", "--json"],
        &["storms", "--top", "10000"],
    ];
    for args in commands {
        let (status, stderr, lines) = head(&t, args, 2);
        println!(
            "hurricane-db {} | head -2: status {status:?}, stderr {:?}, first line {:?}",
            args.join(" "),
            stderr.trim(),
            lines[0]
        );
        assert_eq!(status, Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

fn cli(t: &TestDb, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .args(args)
        .env("DATABASE_URL", &t.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The row of a table whose first cells are `key`; its cells split on runs of spaces.
fn cells_of_row_with(stdout: &[u8], needle: &str) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no row with {needle}"))
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn coordinates_print_the_same_way_in_track_query_and_landfalls() {
    let t = TestDb::new();
    load_path(&t.db, data("hurdat2_sample_2005.txt"), &LoadOptions::new()).unwrap();
    // KATRINA's first landfall, 2005-08-25 22:30 UTC at 26.0N 80.1W (Florida).
    let landfalls = cli(&t, &["landfalls", "--year", "2005", "--min-cat", "h1"]);
    let row = cells_of_row_with(&landfalls.stdout, "2005-08-25");
    println!("landfalls: {}", row.join(" "));
    let btid = row[0].clone();
    let track = cli(&t, &["track", &btid]);
    let track_row = cells_of_row_with(&track.stdout, "2005-08-25 22:30");
    println!("track:     {}", track_row.join(" "));
    let query = cli(
        &t,
        &[
            "query",
            "--btid",
            &btid,
            "--time-from",
            "2005-08-25T22:30:00Z",
            "--limit",
            "1",
        ],
    );
    let query_row = cells_of_row_with(&query.stdout, "2005-08-25 22:30");
    println!("query:     {}", query_row.join(" "));
    for (lat, long) in [("26.0", "-80.1")] {
        for r in [&row, &track_row, &query_row] {
            assert!(r.contains(&lat.to_string()), "{r:?}");
            assert!(r.contains(&long.to_string()), "{r:?}");
        }
    }
    assert!(
        !String::from_utf8_lossy(&landfalls.stdout).contains(".000000"),
        "landfalls prints the numeric scale"
    );
}
