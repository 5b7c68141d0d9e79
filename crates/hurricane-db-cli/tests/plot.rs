//! Issue 11 point 1: pictures from the library and the CLI. The release binary draws
//! each picture as SVG and PNG from a loaded database; the library draws the same SVG
//! for services; a track across the date line stays one short continuous path.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hurricane_db::ingest::{load_path, LoadOptions};
use hurricane_db::plot::{self, geo};
use hurricane_db::queries::{self, StormFilter};
use hurricane_db::roles::{self, Role};
use hurricane_db::Error;
use hurricane_db_testkit::{unique_name, TestDb};

/// KATRINA 2005 in data/storm_sample.csv.
const KATRINA: i16 = 104;
/// GENEVIEVE 2014 (Eastern Pacific): crosses the date line from -179.2 to 179.8.
const GENEVIEVE: i16 = 1303;

fn loaded() -> TestDb {
    let t = TestDb::new();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/storm_sample.csv");
    load_path(&t.db, sample, &LoadOptions::new()).unwrap();
    t
}

fn cli(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .args(args)
        .env("DATABASE_URL", url)
        .env_remove("HURRICANE_DB_READ_URLS")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Every text node of an SVG that parses as XML, after checking it is a standalone
/// document with width, height and viewBox; returns (width, height, texts, doc text).
fn svg_texts(svg: &str) -> (u32, u32, Vec<String>) {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("SVG is not XML: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let w: u32 = root.attribute("width").unwrap().parse().unwrap();
    let h: u32 = root.attribute("height").unwrap().parse().unwrap();
    assert_eq!(
        root.attribute("viewBox"),
        Some(format!("0 0 {w} {h}").as_str())
    );
    let texts = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or_default().trim().to_string())
        .collect();
    for n in doc.descendants().filter(|n| n.has_tag_name("text")) {
        assert_eq!(n.attribute("font-family"), Some("sans-serif"));
    }
    (w, h, texts)
}

/// Filled land polygons (the land colour).
fn land_polygons(svg: &str) -> usize {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("polygon") && n.attribute("fill") == Some("#EFE9D8"))
        .count()
}

/// Width, height and number of distinct colours of a PNG.
fn png_facts(bytes: &[u8]) -> (u32, u32, usize) {
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "not a PNG: {:?}",
        &bytes[..8.min(bytes.len())]
    );
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples();
    let colours: HashSet<&[u8]> = buf[..info.buffer_size()].chunks(px).collect();
    (info.width, info.height, colours.len())
}

struct Picture {
    args: Vec<&'static str>,
    file: &'static str,
    texts: Vec<&'static str>,
    map: bool,
}

#[test]
fn each_plot_is_written_as_svg_and_png() {
    let t = loaded();
    let dir = tempfile::tempdir().unwrap();
    let pictures = [
        Picture {
            args: vec!["plot", "track", "104"],
            file: "katrina",
            texts: vec![
                "KATRINA 2005",
                "Category 5 (H5)",
                "Tropical storm (TS)",
                "Other / non-tropical",
                "90°W",
                "30°N",
            ],
            map: true,
        },
        Picture {
            args: vec!["plot", "season", "2005", "--basin", "north atlantic"],
            file: "season",
            texts: vec!["Category 1 (H1)", "KATRINA", "RITA", "60°W", "15°N"],
            map: true,
        },
        Picture {
            args: vec!["plot", "intensity", "104"],
            file: "intensity",
            texts: vec![
                "KATRINA 2005: wind and pressure",
                "Wind (kt)",
                "Pressure (mb)",
                "Time (UTC)",
                "H5 (137 kt)",
                "TS (34 kt)",
            ],
            map: false,
        },
        Picture {
            args: vec!["plot", "per-year"],
            file: "per-year",
            texts: vec![
                "Storms per year, 1851-2016",
                "North Atlantic",
                "Eastern Pacific",
                "Tropical storms",
                "Hurricanes (H1-H2)",
                "Major hurricanes (H3+)",
                "Year",
                "Storms",
            ],
            map: false,
        },
    ];
    let na_2005 =
        t.db.read_statement(|c| {
            queries::storms(
                c,
                &StormFilter {
                    year_from: Some(2005),
                    year_to: Some(2005),
                    basins: vec!["North Atlantic".into()],
                    ..StormFilter::default()
                },
            )
        })
        .unwrap()
        .len();
    for p in &pictures {
        // SVG (the extension in any case).
        let svg_path = dir.path().join(format!("{}.SVG", p.file));
        let mut args = p.args.clone();
        let out = svg_path.to_str().unwrap();
        args.extend(["--out", out]);
        let o = cli(&t.url, &args);
        let stdout = text(&o.stdout);
        assert!(o.status.success(), "{args:?}: {stdout}{}", text(&o.stderr));
        let svg = std::fs::read_to_string(&svg_path).unwrap();
        let summary = stdout.lines().last().unwrap_or_default();
        println!("{summary}");
        assert!(
            summary.starts_with(&format!("plot: wrote {out} (svg, {} bytes, ", svg.len())),
            "{summary}"
        );
        let (w, h, texts) = svg_texts(&svg);
        for want in &p.texts {
            assert!(
                texts.iter().any(|t| t == want),
                "{args:?}: no text {want:?} in {texts:?}"
            );
        }
        if p.map {
            let land = land_polygons(&svg);
            assert!(land >= 3, "{args:?}: {land} land polygons");
        }
        if p.file == "season" {
            let title = format!("2005 North Atlantic season ({na_2005} storms)");
            assert!(texts.contains(&title), "{title} not in {texts:?}");
            assert!(summary.contains(&format!("{na_2005} storms")), "{summary}");
        }

        // PNG: same picture, same size, not blank.
        let png_path = dir.path().join(format!("{}.png", p.file));
        let mut args = p.args.clone();
        args.extend(["--out", png_path.to_str().unwrap()]);
        let o = cli(&t.url, &args);
        assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
        assert!(text(&o.stdout).contains("(png, "), "{}", text(&o.stdout));
        let bytes = std::fs::read(&png_path).unwrap();
        let (pw, ph, colours) = png_facts(&bytes);
        println!(
            "{}: {pw}x{ph}, {colours} colours, {} bytes",
            p.file,
            bytes.len()
        );
        assert_eq!((pw, ph), (w, h), "{args:?}: PNG size is the SVG's");
        assert!(colours > 20, "{args:?}: only {colours} colours");
    }
    // Nothing else was left in the folder (no temporary files).
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 8, "{names:?}");
}

#[test]
fn an_unknown_storm_is_not_found_and_writes_nothing() {
    let t = loaded();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.svg");
    for args in [
        vec!["plot", "track", "104", "9999", "9998"],
        vec!["plot", "intensity", "9999"],
    ] {
        let mut args = args;
        args.extend(["--out", out.to_str().unwrap()]);
        let o = cli(&t.url, &args);
        let err = text(&o.stderr);
        println!("{args:?}: exit {:?}: {}", o.status.code(), err.trim());
        assert_eq!(o.status.code(), Some(1));
        assert!(err.contains("not found: storm with BTID 9999"), "{err}");
    }
    let season = cli(
        &t.url,
        &["plot", "season", "1900", "--out", out.to_str().unwrap()],
    );
    assert_eq!(season.status.code(), Some(1));
    assert!(text(&season.stderr).contains("not found"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );

    // The library: the first unknown BTID in the order given.
    let e =
        t.db.read_statement(|c| plot::track_map(c, &[KATRINA, 9998, 9999]))
            .unwrap_err();
    assert!(
        matches!(&e, Error::NotFound(m) if m == "storm with BTID 9998"),
        "{e}"
    );
    assert!(matches!(
        t.db.read_statement(|c| plot::intensity_chart(c, 9999)),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        t.db.read_statement(|c| plot::season_map(c, 1900, None)),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        t.db.read_statement(|c| plot::track_map(c, &[])),
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        t.db.read_statement(|c| plot::per_year_chart(c, None, Some(2010), Some(2000))),
        Err(Error::InvalidInput(_))
    ));
}

#[test]
fn a_bad_extension_fails_before_any_database_work() {
    let dir = tempfile::tempdir().unwrap();
    // No server listens on port 1: reaching the database would fail differently.
    let url = "postgresql://nobody@127.0.0.1:1/nothing?connect_timeout=2";
    for name in ["map.jpg", "map", "map.svg.txt"] {
        let out: PathBuf = dir.path().join(name);
        let o = cli(
            url,
            &["plot", "track", "104", "--out", out.to_str().unwrap()],
        );
        let err = text(&o.stderr);
        println!("--out {name}: exit {:?}: {}", o.status.code(), err.trim());
        assert_eq!(o.status.code(), Some(1));
        assert!(err.contains(out.to_str().unwrap()), "{err}");
        assert!(err.contains(".svg or .png"), "{err}");
        assert!(!err.contains("connection"), "{err}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// The pixel length of the longest segment of the tracks (polylines 2 pixels wide).
fn longest_track_segment(svg: &str) -> (usize, f64) {
    let doc = roxmltree::Document::parse(svg).unwrap();
    let mut longest: f64 = 0.0;
    let mut n = 0;
    for p in doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke-width") == Some("2"))
    {
        let pts: Vec<(f64, f64)> = p
            .attribute("points")
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|xy| {
                let (x, y) = xy.split_once(',')?;
                Some((x.parse().ok()?, y.parse().ok()?))
            })
            .collect();
        for w in pts.windows(2) {
            n += 1;
            longest = longest.max(((w[1].0 - w[0].0).powi(2) + (w[1].1 - w[0].1).powi(2)).sqrt());
        }
    }
    (n, longest)
}

#[test]
fn a_track_across_the_date_line_is_one_short_continuous_path() {
    let t = loaded();
    let track =
        t.db.read_statement(|c| queries::by_btid(c, GENEVIEVE))
            .unwrap();
    let lons: Vec<f64> = track
        .iter()
        .map(|h| h.long.to_string().parse().unwrap())
        .collect();
    assert!(
        lons.windows(2).any(|w| (w[0] - w[1]).abs() > 300.0),
        "the sample track crosses the date line"
    );
    let unwrapped = geo::unwrap_lons(&lons);
    assert!(unwrapped.windows(2).all(|w| (w[0] - w[1]).abs() < 10.0));
    let lats: Vec<f64> = track
        .iter()
        .map(|h| h.lat.to_string().parse().unwrap())
        .collect();
    let frame = geo::fit_frame(unwrapped.iter().copied().zip(lats), 1.6).unwrap();
    println!("GENEVIEVE frame: {frame:?}");
    assert!(frame.width() < 120.0, "{frame:?}");
    let spans = |l: f64| frame.lon_min < l && l < frame.lon_max;
    assert!(spans(180.0) || spans(-180.0), "{frame:?}");

    let svg =
        t.db.read_statement(|c| plot::track_map(c, &[GENEVIEVE]))
            .unwrap();
    let (_, _, texts) = svg_texts(&svg);
    assert!(texts.iter().any(|t| t == "GENEVIEVE 2014"), "{texts:?}");
    // Graticule labels on both sides of the date line, normalised.
    assert!(texts.iter().any(|t| t == "180°"), "{texts:?}");
    assert!(texts.iter().any(|t| t == "170°E"), "{texts:?}");
    assert!(texts.iter().any(|t| t == "170°W"), "{texts:?}");
    let (segments, longest) = longest_track_segment(&svg);
    println!("GENEVIEVE: {segments} segments, longest {longest:.1} px");
    assert!(segments > 50, "{segments}");
    assert!(
        longest < 60.0,
        "a segment {longest:.1} px long crosses the map"
    );
}

#[test]
fn a_season_map_takes_the_basin_in_any_case_and_a_reader_can_draw() {
    let t = loaded();
    let exact =
        t.db.read_statement(|c| plot::season_map(c, 2005, Some("North Atlantic")))
            .unwrap();
    let lower =
        t.db.read_statement(|c| plot::season_map(c, 2005, Some("north atlantic")))
            .unwrap();
    let upper =
        t.db.read_statement(|c| plot::season_map(c, 2005, Some(" NORTH  ATLANTIC ")))
            .unwrap();
    assert_eq!(exact, lower);
    assert_eq!(exact, upper);
    let all =
        t.db.read_statement(|c| plot::season_map(c, 2005, None))
            .unwrap();
    let (_, _, texts) = svg_texts(&all);
    let both = texts
        .iter()
        .find(|t| t.starts_with("2005 season ("))
        .cloned()
        .unwrap_or_default();
    let (_, _, na) = svg_texts(&exact);
    let na_title = na
        .iter()
        .find(|t| t.starts_with("2005 North Atlantic season ("))
        .cloned()
        .unwrap_or_default();
    println!("{both} / {na_title}");
    let count = |s: &str| -> usize {
        s.split('(')
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    assert!(count(&na_title) > 0 && count(&both) > count(&na_title));
    // A basin the database does not know is refused, not drawn empty.
    assert!(matches!(
        t.db.read_statement(|c| plot::season_map(c, 2005, Some("Indian Ocean"))),
        Err(Error::InvalidInput(m)) if m.starts_with("basin \"Indian Ocean\": expected")
    ));

    // A reader login (SELECT only) draws every picture.
    let name = unique_name("plot_reader");
    let mut conn = t.db.conn().unwrap();
    roles::add_user(&mut conn, &name, Role::Reader, "reader-password-1").unwrap();
    let url = t.login_url(&name, "reader-password-1");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.svg");
    for args in [
        vec!["plot", "season", "2005", "--basin", "NORTH ATLANTIC"],
        vec![
            "plot",
            "per-year",
            "--basin",
            "eastern pacific",
            "--from",
            "2005",
            "--to",
            "2014",
        ],
        vec!["plot", "intensity", "104"],
    ] {
        let mut args = args;
        args.extend(["--out", out.to_str().unwrap()]);
        let o = cli(&url, &args);
        assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
        println!("{}", text(&o.stdout).trim());
    }
    let (_, _, texts) = svg_texts(&std::fs::read_to_string(&out).unwrap());
    assert!(texts.iter().any(|t| t == "KATRINA 2005: wind and pressure"));
}
