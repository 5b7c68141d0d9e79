//! Issue 18 point 7: how fast the storm explorer answers, per view, download and
//! picture, for the 2005 season (both basins). Loads NOAA's two HURDAT2 files (the
//! observations of storm_data.csv, with ATCF ids and landfall records, so the HURDAT2
//! downloads and landfalls are real) into a throwaway database, serves the router on
//! 127.0.0.1 as `hurricane-db serve` does (pool of 8), and times each request over
//! HTTP from a client on the same machine, one at a time. Prints p50 and p95 per
//! route, and each p95 against the 200 ms target and against a one-row read
//! (`GET /hurricanes/{fid}`) measured in the same run. Asserts nothing about speed.
//!
//! `cargo bench -p hurricane-db-service --bench bench_views -- [--runs N]` (default 20
//! requests per route; per-storm routes cycle through the season's 48 storms).

use std::time::{Duration, Instant};

use hurricane_db::ingest::{load_path, LoadOptions};
use hurricane_db::queries::{self, StormFilter};
use hurricane_db::Db;
use hurricane_db_testkit::{data, TestDb};

#[path = "../tests/common/mod.rs"]
mod common;

const TARGET_MS: f64 = 200.0;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    let mut runs = 20usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).expect("--runs N"),
            "--bench" => {}
            other => panic!("unknown argument {other} (takes --runs N)"),
        }
    }

    let t = TestDb::new();
    let started = Instant::now();
    for file in [data::ATLANTIC, data::PACIFIC] {
        load_path(&t.db, data::file(file), &LoadOptions::new()).unwrap();
    }
    let db = Db::builder().pool_size(8).connect(&t.url).unwrap();
    let mut conn = t.connect();
    let season = queries::storms(
        &mut conn,
        &StormFilter {
            year_from: Some(2005),
            year_to: Some(2005),
            limit: Some(1000),
            ..Default::default()
        },
    )
    .unwrap();
    let btids: Vec<i16> = season.iter().map(|s| s.btid).collect();
    let fid = queries::by_btid(&mut conn, btids[0]).unwrap()[0].fid;
    let observations: i32 = season.iter().map(|s| s.observations).sum();
    println!(
        "bench_views: loaded in {:.1} s; 2005 season, both basins: {} storms, {observations} observations; {runs} requests per route",
        started.elapsed().as_secs_f64(),
        season.len()
    );
    let pair = {
        let btids = btids.clone();
        move |i: usize| {
            let a = btids[i % btids.len()];
            let b = btids[(i + 1) % btids.len()];
            format!("/export.geojson?btid={a}&btid={b}")
        }
    };

    let server = common::Server::start(db);
    let (base, agent) = (&server.base, &server.agent);

    type PathOf = Box<dyn Fn(usize) -> String>;
    let each = |f: fn(i16) -> String| -> PathOf {
        let btids = btids.clone();
        Box::new(move |i| f(btids[i % btids.len()]))
    };
    let fixed = |p: &str| -> PathOf {
        let p = p.to_string();
        Box::new(move |_| p.clone())
    };
    let routes: Vec<(&str, PathOf)> = vec![
        (
            "baseline: one observation",
            fixed(&format!("/hurricanes/{fid}")),
        ),
        ("page: /", fixed("/")),
        ("page: app.js", fixed("/assets/app.js")),
        (
            "page: leaflet.js",
            fixed("/assets/vendor/leaflet/leaflet.js"),
        ),
        ("map: land.geojson", fixed("/land.geojson")),
        ("overview: /coverage", fixed("/coverage")),
        (
            "storms: search 2005",
            fixed("/storms?year_from=2005&year_to=2005&limit=200"),
        ),
        (
            "storm: track GeoJSON",
            each(|b| format!("/export.geojson?btid={b}")),
        ),
        ("storm: track JSON", each(|b| format!("/storms/{b}/track"))),
        (
            "storm: intensity.svg",
            each(|b| format!("/storms/{b}/intensity.svg")),
        ),
        (
            "storm: track.svg",
            each(|b| format!("/storms/{b}/track.svg")),
        ),
        (
            "storm: download CSV",
            each(|b| format!("/export.csv?btid={b}")),
        ),
        (
            "storm: download HURDAT2",
            each(|b| format!("/export.hurdat2?btid={b}")),
        ),
        ("season: GeoJSON (both)", fixed("/export.geojson?year=2005")),
        ("season: download CSV", fixed("/export.csv?year=2005")),
        (
            "season: download HURDAT2",
            fixed("/export.hurdat2?year=2005"),
        ),
        ("season: picture (both)", fixed("/seasons/2005.svg")),
        (
            "season: picture (AL)",
            fixed("/seasons/2005.svg?basin=North%20Atlantic"),
        ),
        (
            "place: near New Orleans",
            fixed("/storms/near?lat=29.95&lon=-90.07&km=200"),
        ),
        ("landfalls: 2005", fixed("/landfalls?year=2005")),
        ("compare: two storms", Box::new(pair)),
    ];

    let mut baseline_p95 = None;
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>10} {:>8}",
        "route", "p50 ms", "p95 ms", "bytes", "p95/base", "< 200ms"
    );
    let mut over = 0;
    for (label, path) in &routes {
        // One warm-up request (first-use caches: prepared statements, the land).
        let _ = agent.get(&format!("{base}{}", path(0))).call();
        let mut times = Vec::with_capacity(runs);
        let mut bytes = 0usize;
        for i in 0..runs {
            let url = format!("{base}{}", path(i));
            let started = Instant::now();
            let mut response = agent
                .get(&url)
                .call()
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(response.status(), 200, "{url}");
            let body = response.body_mut().read_to_vec().unwrap();
            times.push(started.elapsed());
            bytes = bytes.max(body.len());
        }
        times.sort();
        let (p50, p95) = (percentile(&times, 0.5), percentile(&times, 0.95));
        let base_p95 = *baseline_p95.get_or_insert(p95);
        let ok = p95 < TARGET_MS;
        if !ok {
            over += 1;
        }
        println!(
            "{label:<28} {p50:>9.2} {p95:>9.2} {bytes:>9} {:>10.1} {:>8}",
            p95 / base_p95,
            if ok { "yes" } else { "NO" }
        );
    }
    println!(
        "bench_views: {} routes, {} with p95 at or over {TARGET_MS} ms",
        routes.len(),
        over
    );
}
