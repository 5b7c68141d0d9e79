//! Issue 12 point 3: releases. A newer HURDAT2 release loaded over an older one reports
//! per observation inserted / updated / unchanged and per storm added / revised; the
//! load is recorded in `loads`, its edits name it (`edits.load_id`) and its app user
//! (`load:FILE_NAME` by default); `hurricane-db changes` lists what it changed, storm by
//! storm, field by field. The "next release" is fabricated from NOAA's Atlantic file
//! (`hurricane_db_testkit::data`: `HURRICANE_DB_DATA_DIR`, else the bundled gzip copy):
//! one track moved, one wind changed, one storm added, one season added.

use std::path::{Path, PathBuf};

use diesel::prelude::*;
use hurricane_db::audit::{LoadSelection, StormChange};
use hurricane_db::schema::{edits, loads};
use hurricane_db_testkit::{data, TestDb};

mod common;
use common::cli;

const RELEASE: &str = "hurdat2-1851-2017-next.txt";

fn atlantic() -> PathBuf {
    data::file(data::ATLANTIC)
}

/// The Atlantic file's text (decompressed when it is the bundled gzip copy).
fn atlantic_text() -> String {
    data::read_to_string(&atlantic()).unwrap()
}

/// Runs the binary, expects success, returns stdout.
fn ok(t: &TestDb, args: &[&str]) -> String {
    let out = cli(t, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The summary line without its time.
fn counts(stdout: &str) -> &str {
    let line = stdout.lines().last().unwrap_or_default();
    line.rsplit_once(" in ").map_or(line, |(c, _)| c)
}

/// Storms appended to the release: one more of 2016, and a new season (2017).
const NEW_STORMS: &[&str] = &[
    "AL172016,              PAULA,      3,",
    "20161210, 0000,  , TD, 14.0N,  50.0W,  30, 1008, -999, -999, -999, -999, -999, -999, -999, -999, -999, -999, -999, -999,",
    "20161210, 0600,  , TS, 14.5N,  51.0W,  35, 1005,   40,   40,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,",
    "20161210, 1200,  , TS, 15.0N,  52.0W,  40, 1002,   50,   50,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,",
    "AL012017,             ARLENE,      2,",
    "20170419, 1200,  , SD, 36.7N,  45.7W,  30, 1002, -999, -999, -999, -999, -999, -999, -999, -999, -999, -999, -999, -999,",
    "20170420, 0000,  , TS, 38.0N,  45.0W,  45,  993,   70,   70,   40,   40,    0,    0,    0,    0,    0,    0,    0,    0,",
    "AL022017,               BRET,      3,",
    "20170619, 1200,  , TS,  9.0N,  56.4W,  40, 1008,   40,    0,    0,   30,    0,    0,    0,    0,    0,    0,    0,    0,",
    "20170619, 1800,  , TS,  9.7N,  58.4W,  40, 1008,   40,    0,    0,   30,    0,    0,    0,    0,    0,    0,    0,    0,",
    "20170620, 0000,  , TS, 10.1N,  60.5W,  45, 1007,   50,   30,    0,   40,    0,    0,    0,    0,    0,    0,    0,    0,",
];

/// NOAA's Atlantic file as its next release might have it: ARLENE 2005
/// (AL012005, 26 observations) moved 0.5 degrees north, KATRINA's (AL122005) wind at
/// 2005-08-28 18:00Z 150 -> 155 kt, PAULA (AL172016) added to 2016, and a 2017 season
/// (AL012017 ARLENE, AL022017 BRET). CRLF as NOAA writes it.
fn next_release(dir: &Path) -> PathBuf {
    let text = atlantic_text();
    let mut out: Vec<String> = Vec::new();
    let mut storm = String::new();
    let (mut moved, mut winds) = (0, 0);
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        let mut f: Vec<String> = line.split(',').map(String::from).collect();
        if !f[0].trim_start().starts_with(|c: char| c.is_ascii_digit()) {
            storm = f[0].trim().to_string();
            out.push(line.to_string());
            continue;
        }
        if storm == "AL012005" {
            let lat = f[4].trim();
            let (deg, hemi) = lat.split_at(lat.len() - 1);
            let deg: f64 = deg.parse().unwrap();
            f[4] = format!(
                "{:>width$}",
                format!("{:.1}{hemi}", deg + 0.5),
                width = f[4].len()
            );
            moved += 1;
        }
        if storm == "AL122005" && f[0] == "20050828" && f[1].trim() == "1800" {
            assert_eq!(f[6].trim(), "150");
            f[6] = "  155".to_string();
            winds += 1;
        }
        out.push(f.join(","));
    }
    assert_eq!((moved, winds), (26, 1));
    out.extend(NEW_STORMS.iter().map(|s| s.to_string()));
    let path = dir.join(RELEASE);
    std::fs::write(&path, out.join("\r\n") + "\r\n").unwrap();
    path
}

#[test]
fn a_fabricated_next_release_is_reported_storm_by_storm_and_field_by_field() {
    let t = TestDb::new();
    let atlantic = atlantic();
    let first = ok(&t, &["load", atlantic.to_str().unwrap()]);
    let name = atlantic.file_name().unwrap().to_string_lossy();
    assert_eq!(
        counts(&first),
        format!(
            "loaded {name}: 8618 rows, 8618 inserted, 0 updated, \
             0 unchanged, 0 rejected, 0 not in file; 290 storms: 290 added, 0 revised, 0 unchanged, \
             0 not in file; load 1"
        )
    );

    let dir = tempfile::tempdir().unwrap();
    let release = next_release(dir.path());
    let second = ok(&t, &["load", release.to_str().unwrap()]);
    println!("{}", second.trim_end());
    // 26 moved + 1 wind = 27 updated; 3 + 2 + 3 new observations; 290 + 3 storms.
    assert_eq!(
        counts(&second),
        "loaded hurdat2-1851-2017-next.txt: 8626 rows, 8 inserted, 27 updated, 8591 unchanged, \
         0 rejected, 0 not in file; 293 storms: 3 added, 2 revised, 288 unchanged, \
         0 not in file; load 2"
    );

    let changes = ok(&t, &["changes", "--since-load", "1"]);
    println!("{}", changes.trim_end());
    let lines: Vec<&str> = changes.lines().collect();
    assert_eq!(lines.len(), 1 + 1 + 26 + 2 + 3 + 1, "{changes}");
    assert!(
        lines[0].starts_with("load 2  ")
            && lines[0].contains("  hurdat2  hurdat2-1851-2017-next.txt  app user load:hurdat2-1851-2017-next.txt, db user ")
            && lines[0].ends_with(
                ": 8626 rows, 8 inserted, 27 updated, 8591 unchanged, 0 rejected, 0 not in file; \
                 293 storms: 3 added, 2 revised, 288 unchanged, 0 not in file"
            ),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        "AL012005 ARLENE 2005: revised, 0 inserted, 26 updated"
    );
    assert_eq!(
        lines[2],
        "  AL012005 ARLENE 2005-06-08 18:00Z: lat 16.9 -> 17.4"
    );
    assert_eq!(
        lines[12],
        "  AL012005 ARLENE 2005-06-11 00:00Z: lat 26.5 -> 27.0"
    );
    assert_eq!(
        lines[27],
        "  AL012005 ARLENE 2005-06-14 06:00Z: lat 44.8 -> 45.3"
    );
    assert_eq!(
        &lines[28..],
        [
            "AL122005 KATRINA 2005: revised, 0 inserted, 1 updated",
            "  AL122005 KATRINA 2005-08-28 18:00Z: wind_kts 150 -> 155",
            "AL172016 PAULA 2016: added, 3 observations inserted",
            "AL012017 ARLENE 2017: added, 2 observations inserted",
            "AL022017 BRET 2017: added, 3 observations inserted",
            "changes: 1 load (2), 3 storms added, 2 revised, 8 observations inserted, 27 updated",
        ]
    );
    // --load 2 says the same.
    assert_eq!(ok(&t, &["changes", "--load", "2"]), changes);

    // The library gives the same, typed.
    let storms = t.db.load_changes(LoadSelection::Only(2)).unwrap();
    let summary: Vec<(Option<&str>, StormChange, u64, u64)> = storms
        .iter()
        .map(|s| (s.atcf_id.as_deref(), s.change, s.inserted, s.updated))
        .collect();
    assert_eq!(
        summary,
        [
            (Some("AL012005"), StormChange::Revised, 0, 26),
            (Some("AL122005"), StormChange::Revised, 0, 1),
            (Some("AL172016"), StormChange::Added, 3, 0),
            (Some("AL012017"), StormChange::Added, 2, 0),
            (Some("AL022017"), StormChange::Added, 3, 0),
        ]
    );

    // Every edit of the release names it: load 2 and app user load:FILE_NAME.
    let trail: Vec<(Option<i64>, Option<String>, String)> =
        t.db.read(|c| {
            Ok::<_, hurricane_db::Error>(
                edits::table
                    .filter(edits::load_id.eq(2))
                    .select((edits::load_id, edits::app_user, edits::action))
                    .load(c)?,
            )
        })
        .unwrap();
    assert_eq!(trail.len(), 35);
    assert!(trail
        .iter()
        .all(|(_, user, _)| user.as_deref() == Some("load:hurdat2-1851-2017-next.txt")));
    assert_eq!(trail.iter().filter(|e| e.2 == "U").count(), 27);

    // The same release again: nothing to write, nothing changed.
    let third = ok(&t, &["load", release.to_str().unwrap()]);
    assert_eq!(
        counts(&third),
        "loaded hurdat2-1851-2017-next.txt: 8626 rows, 0 inserted, 0 updated, 8626 unchanged, \
         0 rejected, 0 not in file; 293 storms: 0 added, 0 revised, 293 unchanged, \
         0 not in file; load 3"
    );
    let none = ok(&t, &["changes", "--load", "3"]);
    assert_eq!(
        none.lines().last().unwrap(),
        "changes: 1 load (3), 0 storms added, 0 revised, 0 observations inserted, 0 updated"
    );

    // `loads` lists all three; an explicit --app-user wins over the default.
    let loads = ok(&t, &["loads"]);
    assert_eq!(loads.lines().count(), 4, "{loads}");
    assert_eq!(
        loads.lines().last().unwrap(),
        "loads: 3 recorded, last 3 (hurdat2-1851-2017-next.txt, 0 inserted, 0 updated)"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(&t, &["changes", "--load", "2", "--json"])).unwrap();
    assert_eq!(
        json["storms"][1]["observations"][0]["fields"][0]["field"],
        "wind_kts"
    );
    assert_eq!(json["storms"][2]["change"], "added");

    // Each load's edits lie in the id range it recorded (migration 000013), which
    // `changes` reads by primary key: (edits_after, edits_upto], nothing of it outside.
    // Per load: id, edits_after, edits_upto, and its edits' first and last id.
    type Range = (i64, Option<i64>, Option<i64>, Option<(i64, i64)>);
    let ranges = |t: &TestDb| -> Vec<Range> {
        let mut conn = t.connect();
        let loads: Vec<(i64, Option<i64>, Option<i64>)> = loads::table
            .order(loads::id)
            .select((loads::id, loads::edits_after, loads::edits_upto))
            .load(&mut conn)
            .unwrap();
        let edits: Vec<(Option<i64>, i64)> = edits::table
            .select((edits::load_id, edits::id))
            .load(&mut conn)
            .unwrap();
        loads
            .into_iter()
            .map(|(id, after, upto)| {
                let ids = edits.iter().filter(|e| e.0 == Some(id)).map(|e| e.1);
                let span = ids.clone().min().zip(ids.max());
                (id, after, upto, span)
            })
            .collect()
    };
    let recorded = ranges(&t);
    println!("loads (id, edits_after, edits_upto, their edits' first and last id): {recorded:?}");
    for (id, after, upto, span) in &recorded {
        let (after, upto) = (after.expect("recorded"), upto.expect("recorded"));
        if let Some((first, last)) = span {
            assert!(after < *first && *last <= upto, "load {id}: {recorded:?}");
        }
    }
    assert_eq!(recorded[2].3, None, "load 3 made no edit");

    // Loads recorded before migration 000013 get the range of their edits when it
    // runs; `changes` reads the same then.
    let since_1 = ok(&t, &["changes", "--since-load", "1"]);
    let newest = t.db.revert_last_migration().unwrap();
    assert!(newest.ends_with("000013"), "{newest}");
    t.db.run_pending_migrations().unwrap();
    let backfilled = ranges(&t);
    println!("after the migration ran on them: {backfilled:?}");
    for (i, (id, after, upto, span)) in backfilled.iter().enumerate() {
        match span {
            Some((first, last)) => {
                assert_eq!((*after, *upto), (Some(first - 1), Some(*last)), "load {id}")
            }
            None => assert_eq!((*after, *upto), (None, None), "load {id}"),
        }
        assert_eq!(span, &recorded[i].3);
    }
    assert_eq!(ok(&t, &["changes", "--since-load", "1"]), since_1);
    assert_eq!(ok(&t, &["changes", "--load", "2"]), changes);
    assert_eq!(ok(&t, &["changes", "--load", "3"]), none);
}

/// A release that lacks stored observations and storms: they are reported as not in
/// the file and left alone (writers can never delete); `--app-user` names the load.
#[test]
fn observations_and_storms_missing_from_a_release_are_counted_and_kept() {
    let t = TestDb::new();
    ok(&t, &["load", atlantic().to_str().unwrap()]);
    // Only 1851's five storms (the file's first 5 headers and their lines).
    let text = atlantic_text();
    let end = text.find("AL012000,").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hurdat2-1851-only.txt");
    std::fs::write(&path, &text[..end]).unwrap();
    let out = ok(
        &t,
        &[
            "load",
            path.to_str().unwrap(),
            "--app-user",
            "reanalysis@nhc",
        ],
    );
    assert_eq!(
        counts(&out),
        "loaded hurdat2-1851-only.txt: 81 rows, 0 inserted, 0 updated, 81 unchanged, \
         0 rejected, 8537 not in file; 5 storms: 0 added, 0 revised, 5 unchanged, \
         285 not in file; load 2"
    );
    // Nothing was removed.
    let stored: i64 =
        t.db.read(|c| {
            Ok::<_, hurricane_db::Error>(
                hurricane_db::schema::hurricanes::table
                    .count()
                    .get_result(c)?,
            )
        })
        .unwrap();
    assert_eq!(stored, 8618);
    let loads = t.db.loads().unwrap();
    assert_eq!(loads[1].app_user.as_deref(), Some("reanalysis@nhc"));
    assert_eq!(loads[1].storms_not_in_file, Some(285));
    assert_eq!(
        loads[1].rows_in_file.unwrap() + loads[1].not_in_file.unwrap(),
        8618
    );
}
