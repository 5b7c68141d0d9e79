//! Issue 5: typed search, storms, "near a place" and curation, against the real sample.

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;

use bigdecimal::BigDecimal;
use diesel::prelude::*;
use diesel::sql_types::Text;
use hurricane_db::ingest::{load_path, LoadOptions};
use hurricane_db::queries::{self, Filter, Order, Place, Radius, StormFilter};
use hurricane_db::schema::{edits, hurricanes, storms};
use hurricane_db::CurationError;
use hurricane_db::{Error, Hurricane, Storm};
use hurricane_db_testkit::TestDb;

fn loaded() -> TestDb {
    let t = TestDb::new();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/storm_sample.csv");
    load_path(&t.db, sample, &LoadOptions::new()).unwrap();
    diesel::sql_query("ANALYZE")
        .execute(&mut *t.db.conn().unwrap())
        .unwrap();
    t
}

fn all_rows(t: &TestDb) -> Vec<Hurricane> {
    t.db.read(|c| {
        Ok::<_, hurricane_db::Error>(
            hurricanes::table
                .order(hurricanes::fid)
                .select(Hurricane::as_select())
                .load(c)?,
        )
    })
    .unwrap()
}

fn search(t: &TestDb, f: &Filter) -> Vec<Hurricane> {
    t.db.read(|c| queries::search(c, f)).unwrap().items
}

fn fids(rows: &[Hurricane]) -> Vec<i32> {
    rows.iter().map(|h| h.fid).collect()
}

/// FIDs in FID order, to compare a search with a filter applied in Rust.
fn fid_set(rows: &[Hurricane]) -> Vec<i32> {
    let mut v = fids(rows);
    v.sort();
    v
}

fn dec(s: &str) -> BigDecimal {
    BigDecimal::from_str(s).unwrap()
}

#[test]
fn filters_combine_with_and_and_lists_with_or() {
    let t = loaded();
    let rows = all_rows(&t);
    let big = Some(10_000);

    let f = Filter {
        name: Some("kat*".into()),
        year_from: Some(2005),
        year_to: Some(2005),
        limit: big,
        ..Default::default()
    };
    let got = search(&t, &f);
    let want: Vec<i32> = rows
        .iter()
        .filter(|h| h.name.starts_with("KAT") && h.timestamp.format("%Y").to_string() == "2005")
        .map(|h| h.fid)
        .collect();
    assert!(!want.is_empty());
    assert_eq!(fid_set(&got), want);

    let f = Filter {
        basins: vec!["Eastern Pacific".into(), "North Atlantic".into()],
        cats: vec!["H4".into(), "H5".into()],
        min_wind: Some(130),
        max_wind: Some(150),
        min_pressure: Some(900),
        max_pressure: Some(940),
        limit: big,
        ..Default::default()
    };
    let want: Vec<i32> = rows
        .iter()
        .filter(|h| {
            (h.cat == "H4" || h.cat == "H5")
                && (130..=150).contains(&h.wind_kts)
                && h.pressure.is_some_and(|p| (900..=940).contains(&p))
        })
        .map(|h| h.fid)
        .collect();
    assert!(want.len() > 10);
    assert_eq!(fid_set(&search(&t, &f)), want);

    // A box across the date line (170E .. 170W) and a plain box.
    let f = Filter {
        lat_min: Some(dec("10")),
        lat_max: Some(dec("30")),
        lon_min: Some(dec("170")),
        lon_max: Some(dec("-170")),
        limit: big,
        ..Default::default()
    };
    let want: Vec<i32> = rows
        .iter()
        .filter(|h| {
            h.lat >= dec("10")
                && h.lat <= dec("30")
                && (h.long >= dec("170") || h.long <= dec("-170"))
        })
        .map(|h| h.fid)
        .collect();
    assert!(
        !want.is_empty(),
        "the sample has storms crossing the date line"
    );
    assert_eq!(fid_set(&search(&t, &f)), want);

    let btid = rows[100].btid;
    let f = Filter {
        btid: Some(btid),
        time_from: Some(rows[100].timestamp),
        limit: big,
        ..Default::default()
    };
    let want: Vec<i32> = rows
        .iter()
        .filter(|h| h.btid == btid && h.timestamp >= rows[100].timestamp)
        .map(|h| h.fid)
        .collect();
    assert_eq!(fid_set(&search(&t, &f)), want);
}

#[test]
fn every_order_pages_through_everything_exactly_once() {
    let t = loaded();
    let filter = Filter {
        basins: vec!["North Atlantic".into()],
        year_from: Some(2005),
        year_to: Some(2005),
        ..Default::default()
    };
    for order in [
        Order::TimeAsc,
        Order::TimeDesc,
        Order::WindAsc,
        Order::WindDesc,
        Order::PressureAsc,
        Order::PressureDesc,
    ] {
        let whole = search(
            &t,
            &Filter {
                order,
                limit: Some(10_000),
                ..filter.clone()
            },
        );
        assert_eq!(whole.len(), 907, "{order:?}");
        // Sorted as asked, NULL pressures last.
        for w in whole.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            let ok = match order {
                Order::TimeAsc => (a.timestamp, a.fid) < (b.timestamp, b.fid),
                Order::TimeDesc => (a.timestamp, a.fid) > (b.timestamp, b.fid),
                Order::WindAsc => (a.wind_kts, a.fid) < (b.wind_kts, b.fid),
                Order::WindDesc => (a.wind_kts, a.fid) > (b.wind_kts, b.fid),
                Order::PressureAsc => match (a.pressure, b.pressure) {
                    (Some(x), Some(y)) => (x, a.fid) < (y, b.fid),
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => a.fid < b.fid,
                },
                Order::PressureDesc => match (a.pressure, b.pressure) {
                    (Some(x), Some(y)) => (x, a.fid) > (y, b.fid),
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => a.fid > b.fid,
                },
            };
            assert!(ok, "{order:?}: {} then {}", a.fid, b.fid);
        }
        // Keyset pages of 100 concatenate to the same list.
        let mut paged = Vec::new();
        let mut token = None;
        loop {
            let page =
                t.db.read(|c| {
                    queries::search(
                        c,
                        &Filter {
                            order,
                            limit: Some(100),
                            page_token: token.clone(),
                            ..filter.clone()
                        },
                    )
                })
                .unwrap();
            paged.extend(page.items);
            match page.next_page {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        assert_eq!(fids(&paged), fids(&whole), "{order:?} keyset paging");
        // Offset paging agrees on a middle page.
        let offset_page = search(
            &t,
            &Filter {
                order,
                limit: Some(50),
                offset: Some(300),
                ..filter.clone()
            },
        );
        assert_eq!(
            fids(&offset_page),
            fids(&whole[300..350]),
            "{order:?} offset paging"
        );
    }
}

#[test]
fn hostile_names_are_only_names() {
    let t = loaded();
    for name in [
        "O'Brien'; DROP TABLE hurricanes; --",
        "%",
        "_",
        "\\",
        "' OR '1'='1",
    ] {
        let got = search(
            &t,
            &Filter {
                name: Some(name.into()),
                ..Default::default()
            },
        );
        assert!(got.is_empty(), "{name}: {:?}", fids(&got));
    }
    assert_eq!(all_rows(&t).len(), 3931, "the table is still there");
}

#[test]
fn bad_filters_say_what_is_wrong() {
    let t = loaded();
    let cases = [
        (Filter { limit: Some(0), ..Default::default() }, "invalid input: limit \"0\": expected 1 to 10000"),
        (
            Filter { year_from: Some(2010), year_to: Some(2000), ..Default::default() },
            "invalid input: year: lower bound 2010 is above upper bound 2000",
        ),
        (
            Filter { page_token: Some("wind_desc.x.1".into()), order: Order::WindDesc, ..Default::default() },
            "invalid input: page_token \"wind_desc.x.1\": expected the next_page of a previous page with order wind_desc",
        ),
        (
            Filter { page_token: Some("time_asc.1.1".into()), order: Order::WindDesc, ..Default::default() },
            "invalid input: page_token \"time_asc.1.1\": expected the next_page of a previous page with order wind_desc",
        ),
    ];
    for (f, message) in cases {
        assert_eq!(
            t.db.read(|c| queries::search(c, &f))
                .unwrap_err()
                .to_string(),
            message
        );
    }
}

#[test]
fn track_is_in_time_order() {
    let t = loaded();
    let katrina = search(
        &t,
        &Filter {
            name: Some("katrina".into()),
            year_from: Some(2005),
            ..Default::default()
        },
    );
    let btid = katrina[0].btid;
    let track = t.db.track(btid).unwrap();
    assert_eq!(track.len(), 34);
    assert!(track.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
    assert!(matches!(t.db.track(9999), Err(Error::NotFound(_))));
    assert_eq!(t.db.observation(track[0].fid).unwrap(), track[0]);
}

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = Text)]
    problems: String,
}

/// Compares the trigger-kept summary with one computed from scratch.
fn summary_problems(t: &TestDb) -> String {
    let sql = r#"
        WITH fresh AS (
            SELECT btid, count(*)::int AS observations, max(wind_kts) AS peak, min(pressure) AS minp,
                   min("timestamp") AS first_time, max("timestamp") AS last_time
            FROM hurricanes GROUP BY btid)
        SELECT coalesce(string_agg(coalesce(f.btid, s.btid)::text, ','), '') AS problems
        FROM fresh f FULL JOIN storms s USING (btid)
        WHERE f.btid IS NULL OR s.btid IS NULL
           OR (f.observations, f.peak, f.minp, f.first_time, f.last_time)
              IS DISTINCT FROM (s.observations, s.peak_wind_kts, s.min_pressure, s.first_time, s.last_time)"#;
    diesel::sql_query(sql)
        .get_result::<Check>(&mut *t.db.conn().unwrap())
        .unwrap()
        .problems
}

#[test]
fn storms_summary_is_current_and_answers_questions() {
    let t = loaded();
    assert_eq!(summary_problems(&t), "");
    let strongest = t.db.read(|c| queries::strongest_storms(c, 3)).unwrap();
    let names: Vec<(&str, i32, i16)> = strongest
        .iter()
        .map(|s| (s.name.as_str(), s.year, s.peak_wind_kts))
        .collect();
    assert_eq!(
        names,
        [
            ("WILMA", 2005, 160),
            ("RITA", 2005, 155),
            ("KATRINA", 2005, 150)
        ]
    );
    assert_eq!(strongest[0].peak_cat, "H5");
    assert_eq!(strongest[0].min_pressure, Some(882));

    let per_year = t.db.read(queries::storms_per_year).unwrap();
    let y2005: Vec<(&str, i64)> = per_year
        .iter()
        .filter(|r| r.year == 2005)
        .map(|r| (r.basin.as_str(), r.storms))
        .collect();
    assert_eq!(y2005, [("Eastern Pacific", 17), ("North Atlantic", 31)]);
    let total: i64 = per_year.iter().map(|r| r.storms).sum();
    assert_eq!(total, 123);
    let cats = t.db.read(queries::category_counts).unwrap();
    assert_eq!(cats.iter().map(|c| c.storms).sum::<i64>(), 123);

    let filtered =
        t.db.read(|c| {
            queries::storms(
                c,
                &StormFilter {
                    basins: vec!["Eastern Pacific".into()],
                    year_from: Some(2014),
                    min_wind: Some(130),
                    ..Default::default()
                },
            )
        })
        .unwrap();
    assert!(filtered
        .iter()
        .all(|s: &Storm| s.basin == "Eastern Pacific" && s.year >= 2014 && s.peak_wind_kts >= 130));
    assert!(filtered.len() >= 3);

    // Any write keeps it current: an update, an insert into a new storm, a delete.
    t.db.transaction(|c| {
        diesel::update(hurricanes::table.find(1))
            .set(hurricanes::wind_kts.eq(170))
            .execute(c)?;
        let mut new = hurricane_db_testkit::sample_observation(999_999);
        new.btid = 30_000;
        diesel::insert_into(hurricanes::table)
            .values(&new)
            .execute(c)?;
        diesel::delete(hurricanes::table.find(2)).execute(c)?;
        Ok::<_, hurricane_db::Error>(())
    })
    .unwrap();
    assert_eq!(summary_problems(&t), "");
    let top = t.db.read(|c| queries::strongest_storms(c, 1)).unwrap();
    assert_eq!((top[0].btid, top[0].peak_wind_kts), (1, 170));
}

fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0088 * a.sqrt().asin()
}

#[test]
fn storms_near_a_place_match_brute_force_and_use_the_index() {
    let t = loaded();
    let rows = all_rows(&t);
    // Miami; Honolulu; a point on the date line; Acapulco with a wide radius.
    for (lat, lon, km) in [
        (25.77, -80.19, 150.0),
        (21.31, -157.86, 400.0),
        (20.0, 179.9, 500.0),
        (16.85, -99.88, 300.0),
    ] {
        let got =
            t.db.read(|c| queries::storms_near(c, place(lat, lon), Radius::km(km).unwrap()))
                .unwrap();
        let mut want: HashSet<i16> = HashSet::new();
        for h in &rows {
            let d = haversine_km(
                lat,
                lon,
                h.lat.to_string().parse().unwrap(),
                h.long.to_string().parse().unwrap(),
            );
            if d <= km {
                want.insert(h.btid);
            }
        }
        let got_set: HashSet<i16> = got.iter().map(|s| s.btid).collect();
        assert_eq!(got_set, want, "({lat}, {lon}) within {km} km");
        assert!(got.iter().all(|s| s.closest_km <= km));
        assert!(got.windows(2).all(|w| w[0].closest_km <= w[1].closest_km));
    }
    let date_line =
        t.db.read(|c| queries::storms_near(c, place(20.0, 179.9), Radius::km(500.0).unwrap()))
            .unwrap();
    assert!(
        !date_line.is_empty(),
        "storms crossing the date line are found from both sides"
    );

    for (lat, lon, km) in [(25.77, -80.19, 100.0), (20.0, 179.9, 500.0)] {
        let plan = t
            .db
            .read(|c| queries::explain_storms_near(c, place(lat, lon), Radius::km(km).unwrap()))
            .unwrap();
        println!(
            "EXPLAIN storms_near({lat}, {lon}, {km}):\n{}",
            plan.join("\n")
        );
        assert!(
            plan.iter()
                .any(|l| l.contains("Index Scan on hurricanes_position_idx")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|l| l.contains("Seq Scan on hurricanes")),
            "{plan:?}"
        );
    }

    assert!(matches!(Place::new(95.0, 0.0), Err(Error::InvalidInput(_))));
    assert!(matches!(
        Place::new(0.0, 180.5),
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(Radius::km(-1.0), Err(Error::InvalidInput(_))));
    assert!(matches!(Radius::km(f64::NAN), Err(Error::InvalidInput(_))));
}

fn place(lat: f64, lon: f64) -> Place {
    Place::new(lat, lon).unwrap()
}

fn storm(t: &TestDb, btid: i16) -> Option<Storm> {
    t.db.read(|c| {
        Ok::<_, hurricane_db::Error>(
            storms::table
                .find(btid)
                .select(Storm::as_select())
                .first(c)
                .optional()?,
        )
    })
    .unwrap()
}

#[derive(QueryableByName)]
struct Sum {
    #[diesel(sql_type = Text)]
    sum: String,
}

fn checksum(t: &TestDb) -> String {
    diesel::sql_query("SELECT md5(string_agg(h::text, '|' ORDER BY fid)) AS sum FROM hurricanes h")
        .get_result::<Sum>(&mut *t.db.conn().unwrap())
        .unwrap()
        .sum
}

#[test]
fn reassigning_observations_checks_everything_first() {
    let t = loaded();
    let all =
        t.db.read(|c| {
            queries::storms(
                c,
                &StormFilter {
                    limit: Some(1000),
                    ..Default::default()
                },
            )
        })
        .unwrap();
    let by_name = |name: &str, year: i32| {
        all.iter()
            .find(|s| s.name == name && s.year == year)
            .unwrap()
            .clone()
    };
    let (katrina, rita) = (by_name("KATRINA", 2005), by_name("RITA", 2005));
    let genevieve = by_name("GENEVIEVE", 2014);
    let wilma = by_name("WILMA", 2005);
    let before = checksum(&t);

    let refused = [
        (
            t.db.reassign_observations("curator", katrina.btid, katrina.btid),
            CurationError::SameStorm(katrina.btid),
        ),
        (
            t.db.reassign_observations("curator", katrina.btid, 31_000),
            CurationError::StormNotFound(31_000),
        ),
        (
            t.db.reassign_observations("curator", katrina.btid, genevieve.btid),
            CurationError::BasinMismatch {
                from: katrina.btid,
                from_basin: "North Atlantic".into(),
                to: genevieve.btid,
                to_basin: "Eastern Pacific".into(),
            },
        ),
    ];
    for (result, expected) in refused {
        match result {
            Err(Error::Curation(e)) => assert_eq!(e, expected),
            other => panic!("expected {expected:?}, got {other:?}"),
        }
    }
    // Katrina (Aug 23-31) and Rita (Sep 18-26) do not overlap; Rita and Wilma (Oct) neither,
    // but Katrina and a storm alive at the same time do.
    let overlapping = all
        .iter()
        .find(|s| {
            s.basin == katrina.basin
                && s.btid != katrina.btid
                && s.first_time <= katrina.last_time
                && katrina.first_time <= s.last_time
        })
        .unwrap();
    match t
        .db
        .reassign_observations("curator", katrina.btid, overlapping.btid)
    {
        Err(Error::Curation(CurationError::TimesOverlap { from, to, .. })) => {
            assert_eq!((from, to), (katrina.btid, overlapping.btid))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(checksum(&t), before, "refusals change nothing");

    let moved =
        t.db.reassign_observations("curator_dana", rita.btid, wilma.btid)
            .unwrap();
    assert_eq!(moved, rita.observations as usize);
    assert!(
        storm(&t, rita.btid).is_none(),
        "the emptied storm leaves the summary"
    );
    let merged = storm(&t, wilma.btid).unwrap();
    assert_eq!(merged.observations, wilma.observations + rita.observations);
    assert_eq!(merged.first_time, rita.first_time);
    let audit: Vec<(Option<String>, String)> =
        t.db.read(|c| {
            Ok::<_, hurricane_db::Error>(
                edits::table
                    .filter(edits::action.eq("U"))
                    .select((edits::app_user, edits::action))
                    .load(c)?,
            )
        })
        .unwrap();
    assert_eq!(audit.len(), moved);
    assert!(audit
        .iter()
        .all(|(u, _)| u.as_deref() == Some("curator_dana")));
}
