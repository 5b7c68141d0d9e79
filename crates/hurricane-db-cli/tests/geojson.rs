//! Issue 18 point 3: `hurricane-db export --format geojson` read back by a real GIS
//! reader, GDAL's `ogrinfo` (Debian's `gdal-bin`), as QGIS and GeoPandas read it:
//! feature counts, geometry types, the CRS, and GENEVIEVE 2014 split at the
//! antimeridian with every longitude within -180..180.
//!
//! Loads the full storm_data.csv (`hurricane_db_testkit::data`: the bundled copy, or
//! the folder `HURRICANE_DB_DATA_DIR` names). Without ogrinfo the tests fail under
//! CI=true and are skipped, saying so, elsewhere.

use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::prelude::*;
use hurricane_db::ingest::{load_path, LoadOptions};
use hurricane_db::schema::storms;
use hurricane_db_testkit::{data, TestDb};

/// GENEVIEVE 2014's BTID in storm_data.csv: it crosses the date line westward.
const GENEVIEVE: i16 = 1303;

fn ogrinfo() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("ogrinfo"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must read the GeoJSON with GDAL: apt-get install gdal-bin (ogrinfo)"
        );
        eprintln!("skipped: no ogrinfo on PATH (apt-get install gdal-bin)");
    }
    found
}

/// `hurricane-db export --format geojson ARGS -o FILE` through the real binary.
fn export(t: &TestDb, args: &[&str], file: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .args(["export", "--format", "geojson"])
        .args(args)
        .arg("--output")
        .arg(file)
        .env("DATABASE_URL", &t.url)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "export {args:?}: {stderr}");
    stderr.trim().to_string()
}

/// `ogrinfo -ro -al -so [EXTRA] FILE`: the layer summary GIS users see.
fn summary(ogrinfo: &Path, file: &Path, extra: &[&str]) -> String {
    let out = Command::new(ogrinfo)
        .args(["-ro", "-al", "-so"])
        .args(extra)
        .arg(file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "ogrinfo {file:?}: {}{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in\n{text}"))
}

fn feature_count(text: &str) -> u64 {
    line(text, "Feature Count:")["Feature Count:".len()..]
        .trim()
        .parse()
        .unwrap()
}

/// `Extent: (xmin, ymin) - (xmax, ymax)` as numbers.
fn extent(text: &str) -> [f64; 4] {
    let nums: Vec<f64> = line(text, "Extent:")
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .filter_map(|s| s.parse().ok())
        .collect();
    [nums[0], nums[1], nums[2], nums[3]]
}

/// Features of each geometry type, as GDAL reads them (`OGR_GEOMETRY`).
fn count_of(ogrinfo: &Path, file: &Path, geometry: &str) -> u64 {
    feature_count(&summary(
        ogrinfo,
        file,
        &["-where", &format!("OGR_GEOMETRY = '{geometry}'")],
    ))
}

fn loaded() -> TestDb {
    let t = TestDb::new();
    load_path(&t.db, data::file(data::STORM_DATA), &LoadOptions::new()).unwrap();
    t
}

#[test]
fn gdal_reads_one_storm_and_a_season_of_the_geojson_export() {
    let Some(ogrinfo) = ogrinfo() else { return };
    let t = loaded();
    let dir = tempfile::tempdir().unwrap();
    let mut conn = t.connect();

    // One storm: GENEVIEVE 2014, born east of 180, dying west of it.
    let file = dir.path().join("genevieve-2014.geojson");
    let said = export(&t, &["--btid", &GENEVIEVE.to_string()], &file);
    println!("{said}");
    let (name, year, observations): (String, i32, i32) = storms::table
        .find(GENEVIEVE)
        .select((storms::name, storms::year, storms::observations))
        .first(&mut conn)
        .unwrap();
    assert_eq!((name.as_str(), year), ("GENEVIEVE", 2014));
    let text = summary(&ogrinfo, &file, &[]);
    println!("--- ogrinfo -ro -al -so genevieve-2014.geojson\n{text}");
    assert_eq!(feature_count(&text), observations as u64 + 1);
    assert!(text.contains("Geometry: Unknown (any)"), "{text}");
    assert!(text.contains("GEOGCRS[\"WGS 84\""), "{text}");
    assert!(line(&text, "Data axis to CRS axis mapping:").contains("2,1"));
    let [xmin, _, xmax, _] = extent(&text);
    assert!(xmin >= -180.0 && xmax <= 180.0, "{text}");
    // It does cross: positions on both sides, near 180 W and near 180 E.
    assert!(xmin < -170.0 && xmax > 170.0, "{text}");
    assert_eq!(count_of(&ogrinfo, &file, "MULTILINESTRING"), 1);
    assert_eq!(count_of(&ogrinfo, &file, "LINESTRING"), 0);
    assert_eq!(count_of(&ogrinfo, &file, "POINT"), observations as u64);
    // The track's parts meet at the antimeridian: GDAL's WKT of the track.
    let out = Command::new(&ogrinfo)
        .args(["-ro", "-al", "-q", "-where", "kind = 'track'"])
        .arg(&file)
        .output()
        .unwrap();
    let track = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("--- the track feature\n{}", track.trim());
    for want in [
        "kind (String) = track",
        "name (String) = GENEVIEVE",
        "year (Integer) = 2014",
        "basin (String) = Eastern Pacific",
        // ST: super typhoon, JTWC's status west of the date line.
        "peak_cat (String) = ST",
        "MULTILINESTRING ((",
        // The first part ends on 180 W, the second starts on 180 E, same latitude.
        ",-180 ",
        "),(180",
    ] {
        assert!(track.contains(want), "{want:?} not in\n{track}");
    }

    // A season: 2005, both basins, and the North Atlantic alone.
    for (label, args) in [
        (
            "2005-both-basins",
            vec!["--year-from", "2005", "--year-to", "2005"],
        ),
        (
            "2005-north-atlantic",
            vec![
                "--year-from",
                "2005",
                "--year-to",
                "2005",
                "--basin",
                "North Atlantic",
            ],
        ),
    ] {
        let file = dir.path().join(format!("{label}.geojson"));
        let said = export(&t, &args, &file);
        println!("{said}");
        let mut q = storms::table
            .filter(storms::year.eq(2005))
            .select((
                diesel::dsl::count_star(),
                diesel::dsl::sum(storms::observations),
            ))
            .into_boxed();
        if args.len() > 4 {
            q = q.filter(storms::basin.eq("North Atlantic"));
        }
        let (n_storms, n_obs): (i64, Option<i64>) = q.first(&mut conn).unwrap();
        let n_obs = n_obs.unwrap() as u64;
        let text = summary(&ogrinfo, &file, &[]);
        println!("--- ogrinfo -ro -al -so {label}.geojson\n{text}");
        assert_eq!(feature_count(&text), n_obs + n_storms as u64);
        assert!(text.contains("GEOGCRS[\"WGS 84\""), "{text}");
        let [xmin, ymin, xmax, ymax] = extent(&text);
        assert!(xmin >= -180.0 && xmax <= 180.0 && ymin >= -90.0 && ymax <= 90.0);
        let lines =
            count_of(&ogrinfo, &file, "LINESTRING") + count_of(&ogrinfo, &file, "MULTILINESTRING");
        let points = count_of(&ogrinfo, &file, "POINT");
        println!("{label}: {n_storms} storms, {lines} track features, {points} point features");
        // Every storm of two observations or more has a line (a LineString needs two).
        let mut q = storms::table
            .filter(storms::year.eq(2005))
            .filter(storms::observations.ge(2))
            .into_boxed();
        if args.len() > 4 {
            q = q.filter(storms::basin.eq("North Atlantic"));
        }
        let with_lines: i64 = q.count().get_result(&mut conn).unwrap();
        assert_eq!(lines, with_lines as u64);
        assert_eq!(points, n_obs);
        for field in [
            "fid: Integer",
            "time: DateTime",
            "wind_kts: Integer",
            "pressure_mb: Integer",
            "cat: String",
            "peak_wind_kts: Integer",
        ] {
            assert!(text.contains(field), "{field} not in\n{text}");
        }
    }
}

#[test]
fn geojson_export_refuses_what_it_cannot_answer() {
    let t = TestDb::new();
    for (args, want) in [
        (
            vec!["--min-wind=-20"],
            "min_wind -20: a wind speed cannot be negative",
        ),
        (
            vec!["--year-from", "3000"],
            "year_from 3000: expected a year",
        ),
        (vec!["--basin", "Moon"], "basin \"Moon\""),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
            .args(["export", "--format", "geojson"])
            .args(&args)
            .env("DATABASE_URL", &t.url)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} wrote output");
    }
}
