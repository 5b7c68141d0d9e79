//! Issue 18 points 3, 4 and 5 over real HTTP: the storm explorer's data routes
//! (`/coverage`, `/land.geojson`, `/export.{geojson,csv,hurdat2}`) answer what the
//! library says, and the server refuses what the page's forms refuse, with 422 and a
//! plain-language message, as JSON.

use std::path::Path;

use hurricane_db::export::{self, ExportFilter};
use hurricane_db::ingest::{load_path, LoadOptions};
use hurricane_db::queries;
use hurricane_db_testkit::TestDb;
use serde_json::Value;

mod common;
use common::Server;

/// Status, content type, Content-Disposition and body of one GET.
struct Answer {
    status: u16,
    content_type: String,
    disposition: Option<String>,
    cache: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{}: {e}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn error(&self) -> String {
        assert_eq!(self.content_type, "application/json", "errors are JSON");
        self.json()["error"].as_str().unwrap().to_string()
    }
}

impl Server {
    fn get(&self, path: &str) -> Answer {
        let mut response = self
            .agent
            .get(&format!("{}{path}", self.base))
            .call()
            .unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let (content_type, disposition, cache) = (
            header("content-type").unwrap_or_default(),
            header("content-disposition"),
            header("cache-control"),
        );
        Answer {
            status: response.status().as_u16(),
            content_type,
            disposition,
            cache,
            body: response.body_mut().read_to_vec().unwrap(),
        }
    }
}

fn loaded(files: &[&str]) -> TestDb {
    let t = TestDb::new();
    for file in files {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data")
            .join(file);
        load_path(&t.db, path, &LoadOptions::new()).unwrap();
    }
    t
}

#[test]
fn coverage_and_land_come_from_the_database_and_the_library() {
    let t = loaded(&["storm_sample.csv"]);
    let server = Server::start(t.db.clone());
    let mut conn = t.connect();

    let answer = server.get("/coverage");
    assert_eq!(answer.status, 200);
    let coverage = answer.json();
    println!(
        "coverage: {}",
        serde_json::to_string(&coverage["basins"]).unwrap()
    );
    let per_basin = queries::storms_per_basin(&mut conn).unwrap();
    let basins = coverage["basins"].as_array().unwrap();
    assert_eq!(basins.len(), per_basin.len());
    for b in &per_basin {
        let got = basins
            .iter()
            .find(|x| x["name"] == b.basin.as_str())
            .unwrap();
        assert_eq!(got["storms"], b.storms);
        assert_eq!(got["observations"], b.observations);
    }
    let total: i64 = per_basin.iter().map(|b| b.storms).sum();
    assert_eq!(coverage["storms"], total);
    // The sample holds 1851, 2005, 2014 and 2016: runs of years, not one range.
    let atlantic = basins
        .iter()
        .find(|x| x["name"] == "North Atlantic")
        .unwrap();
    let years: Vec<[i32; 2]> = serde_json::from_value(atlantic["years"].clone()).unwrap();
    let in_db: Vec<i32> = queries::storms_per_year(&mut conn)
        .unwrap()
        .into_iter()
        .filter(|y| y.basin == "North Atlantic")
        .map(|y| y.year)
        .collect();
    let expanded: Vec<i32> = years.iter().flat_map(|[a, b]| *a..=*b).collect();
    assert_eq!(expanded, in_db);
    assert!(years.len() > 1, "{years:?}");
    // Every code, its meaning and the colour the map and the pictures use.
    let categories = coverage["categories"].as_array().unwrap();
    let table = queries::categories(&mut conn).unwrap();
    assert_eq!(categories.len(), table.len());
    for c in &table {
        let got = categories
            .iter()
            .find(|x| x["code"] == c.code.as_str())
            .unwrap();
        assert_eq!(got["meaning"], c.meaning.as_str());
        let known = hurricane_db::Category::from_code(&c.code).unwrap();
        assert_eq!(got["colour"], known.hex());
        assert_eq!(got["group"], known.label());
        assert_eq!(got["rank"], known.scale_rank().unwrap_or(0));
    }
    // No landfalls in an IHW CSV load; the coverage says 0 rather than nothing.
    assert_eq!(coverage["landfalls"], 0);

    let land = server.get("/land.geojson");
    assert_eq!(
        (land.status, land.content_type.as_str()),
        (200, "application/geo+json")
    );
    assert_eq!(land.cache.as_deref(), Some("public, max-age=86400"));
    let v = land.json();
    assert_eq!(v["geometry"]["type"], "MultiPolygon");
    assert!(v["geometry"]["coordinates"].as_array().unwrap().len() > 1000);
}

#[test]
fn downloads_are_the_library_exports_with_a_file_name() {
    let t = loaded(&["storm_sample.csv"]);
    let server = Server::start(t.db.clone());
    let mut conn = t.connect();
    let season = ExportFilter {
        year_from: Some(2005),
        year_to: Some(2005),
        basin: Some("North Atlantic".into()),
        ..Default::default()
    };
    let expect = |conn: &mut diesel::PgConnection, format: &str, f: &ExportFilter| {
        let mut out = Vec::new();
        match format {
            "geojson" => export::export_geojson(conn, f, &mut out),
            "csv" => export::export_ihw(conn, f, &mut out),
            _ => export::export_hurdat2(conn, f, &mut out),
        }
        .unwrap();
        out
    };
    for (format, kind, name) in [
        (
            "geojson",
            "application/geo+json",
            "season-2005-north-atlantic.geojson",
        ),
        (
            "csv",
            "text/csv; charset=utf-8",
            "season-2005-north-atlantic.csv",
        ),
    ] {
        let answer = server.get(&format!("/export.{format}?year=2005&basin=North+Atlantic"));
        println!(
            "/export.{format}?year=2005&basin=North+Atlantic: {} {} {:?} {} bytes",
            answer.status,
            answer.content_type,
            answer.disposition,
            answer.body.len()
        );
        assert_eq!(
            (answer.status, answer.content_type.as_str()),
            (200, kind),
            "{format}"
        );
        assert_eq!(
            answer.disposition.as_deref(),
            Some(format!("attachment; filename=\"{name}\"").as_str())
        );
        assert_eq!(answer.body, expect(&mut conn, format, &season), "{format}");
    }
    // HURDAT2 needs ATCF ids, which an IHW CSV load does not have: said, not an empty file.
    let answer = server.get("/export.hurdat2?year=2005&basin=North+Atlantic");
    let error = answer.error();
    println!("/export.hurdat2 of IHW CSV data: {} {error}", answer.status);
    assert_eq!(answer.status, 422);
    assert!(error.starts_with("HURDAT2 needs ATCF storm ids"), "{error}");

    // A storm, and several by BTID (what the page's search and compare send).
    let storms = queries::storms(
        &mut conn,
        &queries::StormFilter {
            year_from: Some(2005),
            year_to: Some(2005),
            limit: Some(3),
            ..Default::default()
        },
    )
    .unwrap();
    let one = server.get(&format!("/export.geojson?btid={}", storms[0].btid));
    assert_eq!(
        one.disposition.as_deref(),
        Some(format!("attachment; filename=\"storm-{}.geojson\"", storms[0].btid).as_str())
    );
    let v = one.json();
    assert_eq!(
        v["features"].as_array().unwrap().len() as i32,
        storms[0].observations + 1
    );
    let query: Vec<String> = storms.iter().map(|s| format!("btid={}", s.btid)).collect();
    let many = server.get(&format!("/export.csv?{}", query.join("&")));
    let filter = ExportFilter {
        btids: storms.iter().map(|s| s.btid).collect(),
        ..Default::default()
    };
    assert_eq!(many.body, expect(&mut conn, "csv", &filter));
    assert_eq!(
        many.disposition.as_deref(),
        Some("attachment; filename=\"storms-3.csv\"")
    );
    // A whole search: name pattern and minimum peak wind.
    let search = server.get("/export.csv?name=K*&min_wind=100");
    let filter = ExportFilter {
        name: Some("K*".into()),
        min_wind: Some(100),
        ..Default::default()
    };
    assert_eq!(search.body, expect(&mut conn, "csv", &filter));

    // Refused, as JSON: unreadable 400, refused values 422.
    for (path, status, message) in [
        (
            "/export.geojson?year=abc",
            400,
            "year \"abc\": expected a year such as 2005",
        ),
        (
            "/export.geojson?colour=red",
            400,
            "unknown parameter \"colour\"",
        ),
        (
            "/export.csv?year=3000",
            422,
            "year_from 3000: expected a year from 1800 to 2100",
        ),
        (
            "/export.csv?min_wind=-20",
            422,
            "min_wind -20: a wind speed cannot be negative",
        ),
        ("/export.hurdat2?basin=Moon", 422, "basin \"Moon\""),
    ] {
        let answer = server.get(path);
        let error = answer.error();
        println!("{path}: {} {error}", answer.status);
        assert_eq!(answer.status, status, "{path}: {error}");
        assert!(error.contains(message), "{path}: {error}");
    }

    // The OpenAPI description lists the downloads with their content types.
    let api = server.get("/openapi.json").json();
    for (path, kind) in [
        ("/export.geojson", "application/geo+json"),
        ("/export.csv", "text/csv"),
        ("/export.hurdat2", "text/plain"),
        ("/land.geojson", "application/geo+json"),
        ("/coverage", "application/json"),
    ] {
        let ok = &api["paths"][path]["get"]["responses"]["200"]["content"];
        assert!(ok.get(kind).is_some(), "{path}: {ok}");
    }
}

#[test]
fn the_server_refuses_what_the_form_refuses() {
    let t = loaded(&["storm_sample.csv"]);
    let server = Server::start(t.db.clone());
    for (path, message) in [
        (
            "/storms?min_wind=-20",
            "min_wind -20: a wind speed cannot be negative; expected 0 to 300 kt",
        ),
        ("/storms?min_wind=400", "min_wind 400: expected 0 to 300 kt"),
        (
            "/storms?year_from=3000",
            "year_from 3000: expected a year from 1800 to 2100",
        ),
        (
            "/storms?year_to=1500",
            "year_to 1500: expected a year from 1800 to 2100",
        ),
        (
            "/hurricanes?max_wind=-1",
            "max_wind -1: a wind speed cannot be negative",
        ),
        (
            "/hurricanes?year_from=99999",
            "year_from 99999: expected a year from 1800 to 2100",
        ),
        (
            "/landfalls?year=1700",
            "year 1700: expected a year from 1800 to 2100",
        ),
    ] {
        let answer = server.get(path);
        let error = answer.error();
        println!("{path}: {} {error}", answer.status);
        assert_eq!(answer.status, 422, "{path}: {error}");
        assert!(error.contains(message), "{path}: {error}");
    }
    // The form's own bounds are accepted.
    assert_eq!(
        server
            .get("/storms?min_wind=0&year_from=1800&year_to=2100")
            .status,
        200
    );
}

#[test]
fn hurdat2_downloads_carry_landfalls_and_geojson_marks_them() {
    let t = loaded(&["hurdat2_sample_2005.txt"]);
    let server = Server::start(t.db.clone());
    let v = server.get("/export.geojson?year=2005").json();
    let features = v["features"].as_array().unwrap();
    let landfalls = features
        .iter()
        .filter(|f| f["properties"]["record_id"] == "L")
        .count();
    let in_db: usize = queries::landfalls(&mut t.connect(), &Default::default())
        .unwrap()
        .iter()
        .map(|s| s.landfalls.len())
        .sum();
    println!("landfall points in the GeoJSON: {landfalls}");
    assert!(landfalls > 0);
    assert_eq!(landfalls, in_db);
    assert!(features
        .iter()
        .filter(|f| f["properties"]["kind"] == "track")
        .all(|f| f["properties"]["atcf_id"].as_str().is_some()));
    // HURDAT2 downloads are the library's text, with a file name.
    let answer = server.get("/export.hurdat2?year=2005&basin=AL");
    let mut expected = Vec::new();
    export::export_hurdat2(
        &mut t.connect(),
        &ExportFilter {
            year_from: Some(2005),
            year_to: Some(2005),
            basin: Some("AL".into()),
            ..Default::default()
        },
        &mut expected,
    )
    .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "text/plain; charset=utf-8");
    assert_eq!(
        answer.disposition.as_deref(),
        Some("attachment; filename=\"season-2005-al.txt\"")
    );
    assert!(!expected.is_empty());
    assert_eq!(answer.body, expected);
}
