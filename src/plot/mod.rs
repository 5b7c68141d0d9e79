//! Pictures of the data as SVG text (feature `plot`): a map of storm tracks, a map of
//! a season, a storm's wind and pressure over time, and storms per year.
//!
//! Each picture comes two ways: a function that reads what it needs from the database
//! in one round trip and draws it ([`track_map`], [`season_map`], [`intensity_chart`],
//! [`per_year_chart`]), and a pure function that draws data already loaded
//! ([`render_track_map`], [`render_intensity_chart`], [`render_per_year_chart`]), with
//! the loaders ([`load_tracks`], [`load_season`], [`load_year_counts`]) in between for
//! callers that want the data too. Every function returns a complete, standalone SVG
//! document with `width`, `height` and `viewBox`, so a browser's `<img>` scales it.
//!
//! Maps use the plate carrée projection with longitudes scaled by the cosine of the
//! middle latitude, Natural Earth's 1:50m land (embedded, see `data/world/README.md`),
//! and a graticule labelled in degrees. Tracks that cross the date line are drawn
//! continuously: longitudes are unwrapped (179.5 then -179.5 becomes 179.5 then
//! 180.5), the frame is chosen in unwrapped degrees and the land is repeated 360°
//! east and west where the frame needs it; labels are normalised back to 180°W..180°E.
//!
//! ```no_run
//! # fn main() -> hurricane_db::Result<()> {
//! let db = hurricane_db::Db::connect_from_env()?;
//! let svg = db.read(|conn| hurricane_db::plot::track_map(conn, &[104]))?;
//! assert!(svg.starts_with("<svg"));
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;

use bigdecimal::ToPrimitive;
use chrono::{DateTime, Datelike, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Int4, Nullable, Text};

use crate::codes::{Basin, Category};
use crate::error::{Error, Result};
use crate::models::Hurricane;
use crate::schema::{hurricanes, storms};

pub mod geo;
mod render;
mod world;

pub use render::{render_intensity_chart, render_per_year_chart, render_track_map};
pub use world::land_geojson;

/// Width of every picture, pixels.
pub const WIDTH: u32 = 1200;
/// Height of the maps, pixels.
pub const MAP_HEIGHT: u32 = 800;
/// Height of the intensity chart, pixels.
pub const CHART_HEIGHT: u32 = 600;
/// Height of one basin's panel in the per-year chart, pixels (plus the title).
pub const PANEL_HEIGHT: u32 = 320;

/// A season map names storms near their first position when it has at most this many.
pub const MAX_NAME_LABELS: usize = 40;

/// A storm's name as people read it: `Unnamed` for the IHW file's `NOTNAMED`.
pub fn display_name(name: &str) -> &str {
    if name.eq_ignore_ascii_case("NOTNAMED") {
        "Unnamed"
    } else {
        name
    }
}

/// One observation of a track, as the pictures need it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackPoint {
    /// Time of the observation, UTC.
    pub time: DateTime<Utc>,
    /// Latitude, degrees north.
    pub lat: f64,
    /// Longitude, degrees east (-180..180 as stored).
    pub lon: f64,
    /// Wind speed, knots.
    pub wind_kts: i16,
    /// Central pressure, millibars; `None` when not measured.
    pub pressure: Option<i16>,
    /// Category code as stored (`H1`, `TS`, ...).
    pub cat: String,
}

impl TrackPoint {
    /// The category of [`TrackPoint::cat`]; `None` for a code this crate does not know
    /// (drawn in grey, with the code in the legend).
    pub fn category(&self) -> Option<Category> {
        Category::from_code(&self.cat)
    }
}

/// A storm's track: its observations in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// Storm ID.
    pub btid: i16,
    /// Storm name (`KATRINA`).
    pub name: String,
    /// Year of the first observation.
    pub year: i32,
    /// Ocean basin.
    pub basin: String,
    /// Observations in time order.
    pub points: Vec<TrackPoint>,
}

impl Track {
    /// A track from one storm's observations (any order; they are sorted by time).
    /// The name is the one at peak wind, as in the storm summary. `None` without rows.
    pub fn from_observations(rows: &[Hurricane]) -> Option<Track> {
        let mut rows: Vec<&Hurricane> = rows.iter().collect();
        rows.sort_by_key(|h| (h.timestamp, h.fid));
        let first = *rows.first()?;
        let peak = rows
            .iter()
            .max_by_key(|h| (h.wind_kts, std::cmp::Reverse(h.timestamp)))
            .copied()
            .unwrap_or(first);
        Some(Track {
            btid: first.btid,
            name: peak.name.clone(),
            year: first.timestamp.year(),
            basin: first.basin.clone(),
            points: rows.iter().map(|h| point(h)).collect(),
        })
    }

    /// `KATRINA 2005`.
    pub fn title(&self) -> String {
        format!("{} {}", display_name(&self.name), self.year)
    }
}

fn point(h: &Hurricane) -> TrackPoint {
    TrackPoint {
        time: h.timestamp,
        lat: h.lat.to_f64().unwrap_or(f64::NAN),
        lon: h.long.to_f64().unwrap_or(f64::NAN),
        wind_kts: h.wind_kts,
        pressure: h.pressure,
        cat: h.cat.clone(),
    }
}

/// Storms of one year and basin, by the peak category of each storm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearCounts {
    /// Year of the storms' first observation.
    pub year: i32,
    /// Ocean basin.
    pub basin: String,
    /// All storms of that year and basin.
    pub storms: i64,
    /// Storms by the category code at their peak (`storms.peak_cat`), in the order of
    /// [`Category::ALL`], codes this crate does not know last.
    pub by_peak: Vec<(String, i64)>,
}

impl YearCounts {
    /// Storms that peaked at `cat`.
    pub fn peaked_at(&self, cat: Category) -> i64 {
        self.by_peak
            .iter()
            .filter(|(code, _)| code == cat.code())
            .map(|(_, n)| n)
            .sum()
    }
}

/// Where a stored code sorts: [`Category::ALL`] order, unknown codes after.
pub(crate) fn code_order(code: &str) -> (usize, String) {
    let i = Category::ALL
        .iter()
        .position(|c| c.code() == code)
        .unwrap_or(Category::ALL.len());
    (i, code.to_string())
}

/// Observations with their storm's summary name and year (left join: a storm missing
/// from the summary still draws, named by its observations).
fn load_observations(
    conn: &mut PgConnection,
    season: Option<(i32, Option<&str>)>,
    btids: &[i16],
) -> Result<Vec<Track>> {
    let mut q = hurricanes::table
        .left_join(storms::table.on(storms::btid.eq(hurricanes::btid)))
        .select((
            Hurricane::as_select(),
            storms::name.nullable(),
            storms::year.nullable(),
        ))
        .order((
            hurricanes::btid.asc(),
            hurricanes::timestamp.asc(),
            hurricanes::fid.asc(),
        ))
        .into_boxed();
    match season {
        Some((year, basin)) => {
            q = q.filter(storms::year.eq(year));
            if let Some(b) = basin {
                q = q.filter(storms::basin.eq(b.to_string()));
            }
        }
        None => q = q.filter(hurricanes::btid.eq_any(btids.to_vec())),
    }
    let rows: Vec<(Hurricane, Option<String>, Option<i32>)> = q.load(conn)?;
    let mut tracks: Vec<Track> = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let btid = rows[i].0.btid;
        let end = rows[i..]
            .iter()
            .position(|r| r.0.btid != btid)
            .map_or(rows.len(), |n| i + n);
        let obs: Vec<Hurricane> = rows[i..end].iter().map(|r| r.0.clone()).collect();
        if let Some(mut t) = Track::from_observations(&obs) {
            if let Some(name) = &rows[i].1 {
                t.name = name.clone();
            }
            if let Some(year) = rows[i].2 {
                t.year = year;
            }
            tracks.push(t);
        }
        i = end;
    }
    Ok(tracks)
}

/// The tracks of these storms, in the order given (repeats dropped), in one round
/// trip. [`Error::NotFound`] names the first BTID that has no observations;
/// [`Error::InvalidInput`] when `btids` is empty.
pub fn load_tracks(conn: &mut PgConnection, btids: &[i16]) -> Result<Vec<Track>> {
    if btids.is_empty() {
        return Err(Error::InvalidInput(
            "btids: expected at least one storm".into(),
        ));
    }
    let mut by_id: HashMap<i16, Track> = load_observations(conn, None, btids)?
        .into_iter()
        .map(|t| (t.btid, t))
        .collect();
    let mut out = Vec::with_capacity(btids.len());
    for b in btids {
        if out.iter().any(|t: &Track| t.btid == *b) {
            continue;
        }
        match by_id.remove(b) {
            Some(t) => out.push(t),
            None => return Err(Error::NotFound(format!("storm with BTID {b}"))),
        }
    }
    Ok(out)
}

/// The tracks of one season (storms whose first observation is in `year`), of one
/// basin if given (any case: `north atlantic`), in one round trip, in order of first
/// observation. [`Error::NotFound`] when the season has no storms.
pub fn load_season(conn: &mut PgConnection, year: i32, basin: Option<&str>) -> Result<Vec<Track>> {
    let basin = basin.map(str::parse::<Basin>).transpose()?;
    let mut tracks = load_observations(conn, Some((year, basin.map(Basin::name))), &[])?;
    if tracks.is_empty() {
        return Err(Error::NotFound(match &basin {
            Some(b) => format!("storms of the {year} {b} season"),
            None => format!("storms of the {year} season"),
        }));
    }
    tracks.sort_by_key(|t| (t.points.first().map(|p| p.time), t.btid));
    Ok(tracks)
}

/// Storms per year and basin by peak category, in one round trip, in year order,
/// for one basin if given (any case), from and to the given years (inclusive).
/// [`Error::InvalidInput`] when `from` is after `to`.
pub fn load_year_counts(
    conn: &mut PgConnection,
    basin: Option<&str>,
    from: Option<i32>,
    to: Option<i32>,
) -> Result<Vec<YearCounts>> {
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(Error::InvalidInput(format!(
                "years: from {f} is after to {t}"
            )));
        }
    }
    let basin = basin.map(str::parse::<Basin>).transpose()?;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Int4)]
        year: i32,
        #[diesel(sql_type = Text)]
        basin: String,
        #[diesel(sql_type = Text)]
        peak_cat: String,
        #[diesel(sql_type = BigInt)]
        storms: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT year, basin::text AS basin, peak_cat::text AS peak_cat, count(*) AS storms \
         FROM storms \
         WHERE ($1::text IS NULL OR basin = $1) \
           AND ($2::int4 IS NULL OR year >= $2) \
           AND ($3::int4 IS NULL OR year <= $3) \
         GROUP BY year, basin, peak_cat ORDER BY year, basin",
    )
    .bind::<Nullable<Text>, _>(basin.map(Basin::name))
    .bind::<Nullable<Int4>, _>(from)
    .bind::<Nullable<Int4>, _>(to)
    .load(conn)?;
    let mut out: Vec<YearCounts> = Vec::new();
    for r in rows {
        if !out
            .last()
            .is_some_and(|c| c.year == r.year && c.basin == r.basin)
        {
            out.push(YearCounts {
                year: r.year,
                basin: r.basin.clone(),
                storms: 0,
                by_peak: Vec::new(),
            });
        }
        if let Some(c) = out.last_mut() {
            c.storms += r.storms;
            c.by_peak.push((r.peak_cat, r.storms));
        }
    }
    for c in &mut out {
        c.by_peak.sort_by_key(|(code, _)| code_order(code));
    }
    Ok(out)
}

/// The title of a map of these tracks: `KATRINA 2005`, `KATRINA 2005, RITA 2005`, or
/// `7 storms` for more than four.
pub fn tracks_title(tracks: &[Track]) -> String {
    if tracks.len() > 4 {
        format!("{} storms", tracks.len())
    } else {
        tracks
            .iter()
            .map(Track::title)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The title of a season map: `2005 North Atlantic season (28 storms)`.
pub fn season_title(year: i32, basin: Option<&str>, storms: usize) -> String {
    let s = if storms == 1 { "storm" } else { "storms" };
    match basin {
        Some(b) => format!("{year} {} season ({storms} {s})", shown_basin(b)),
        None => format!("{year} season ({storms} {s})"),
    }
}

/// The title of the per-year chart: `Storms per year, 1851-2016` (with the basin when
/// there is one).
pub fn per_year_title(basin: Option<&str>, rows: &[YearCounts]) -> String {
    let (lo, hi) = (
        rows.iter().map(|r| r.year).min().unwrap_or(0),
        rows.iter().map(|r| r.year).max().unwrap_or(0),
    );
    match basin {
        Some(b) => format!("{} storms per year, {lo}-{hi}", shown_basin(b)),
        None => format!("Storms per year, {lo}-{hi}"),
    }
}

/// A map of these storms' tracks (see [`render_track_map`]), read in one round trip.
/// [`Error::NotFound`] names the first unknown BTID.
pub fn track_map(conn: &mut PgConnection, btids: &[i16]) -> Result<String> {
    let tracks = load_tracks(conn, btids)?;
    render_track_map(&tracks_title(&tracks), &tracks)
}

/// A map of every track of a season, of one basin if given (any case), read in one
/// round trip. [`Error::NotFound`] when the season has no storms.
pub fn season_map(conn: &mut PgConnection, year: i32, basin: Option<&str>) -> Result<String> {
    let tracks = load_season(conn, year, basin)?;
    render_track_map(&season_title(year, basin, tracks.len()), &tracks)
}

/// A storm's wind (knots) and pressure (millibars) over time with the Saffir-Simpson
/// bands (see [`render_intensity_chart`]), read in one round trip.
/// [`Error::NotFound`] for an unknown BTID.
pub fn intensity_chart(conn: &mut PgConnection, btid: i16) -> Result<String> {
    let rows = crate::queries::by_btid(conn, btid)?;
    let track = load_tracks_from(&rows, btid)?;
    render_intensity_chart(&track)
}

fn load_tracks_from(rows: &[Hurricane], btid: i16) -> Result<Track> {
    Track::from_observations(rows).ok_or_else(|| Error::NotFound(format!("storm with BTID {btid}")))
}

/// Storms per year, one panel per basin, each bar split by peak category (see
/// [`render_per_year_chart`]), read in one round trip. [`Error::NotFound`] when no
/// storm matches.
pub fn per_year_chart(
    conn: &mut PgConnection,
    basin: Option<&str>,
    from: Option<i32>,
    to: Option<i32>,
) -> Result<String> {
    let rows = load_year_counts(conn, basin, from, to)?;
    if rows.is_empty() {
        return Err(Error::NotFound(no_storms_message(basin, from, to)));
    }
    render_per_year_chart(&per_year_title(basin, &rows), &rows)
}

/// A basin as a title shows it: the stored name for a name or prefix in any case
/// (`ep` is `Eastern Pacific`), else the text as given.
fn shown_basin(text: &str) -> String {
    text.parse::<Basin>()
        .map_or_else(|_| text.to_string(), |b| b.name().to_string())
}

/// What a per-year chart with no storms looked for, for [`Error::NotFound`].
pub fn no_storms_message(basin: Option<&str>, from: Option<i32>, to: Option<i32>) -> String {
    let mut m = String::from("storms");
    if let Some(b) = basin {
        m.push_str(&format!(" in {}", shown_basin(b)));
    }
    if let Some(f) = from {
        m.push_str(&format!(" from {f}"));
    }
    if let Some(t) = to {
        m.push_str(&format!(" to {t}"));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn track(name: &str, points: &[(f64, f64, i16, Option<i16>, &str)]) -> Track {
        let t0 = Utc.with_ymd_and_hms(2005, 8, 24, 0, 0, 0).unwrap();
        Track {
            btid: 1,
            name: name.into(),
            year: 2005,
            basin: "North Atlantic".into(),
            points: points
                .iter()
                .enumerate()
                .map(|(i, &(lat, lon, wind_kts, pressure, cat))| TrackPoint {
                    time: t0 + chrono::Duration::hours(6 * i as i64),
                    lat,
                    lon,
                    wind_kts,
                    pressure,
                    cat: cat.into(),
                })
                .collect(),
        }
    }

    fn texts(svg: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(svg).unwrap();
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .map(|n| n.text().unwrap_or_default().trim().to_string())
            .collect()
    }

    #[test]
    fn points_know_their_category() {
        let t = track(
            "X",
            &[
                (25.0, -80.0, 140, None, "ST"),
                (25.0, -80.0, 20, None, "Q9"),
            ],
        );
        assert_eq!(t.points[0].category(), Some(Category::SuperTyphoon));
        assert_eq!(t.points[1].category(), None);
        assert!(code_order("ST") < code_order("SS"));
        assert!(code_order("DB") < code_order("Q9"));
    }

    #[test]
    fn names_from_the_database_are_escaped_and_cleaned() {
        let t = track(
            "A<&>\"'\u{1}B",
            &[
                (25.0, -80.0, 70, Some(980), "H1"),
                (26.0, -81.0, 40, None, "TS"),
            ],
        );
        let svg = render_track_map(&t.title(), &[t.clone(), t.clone()]).unwrap();
        let texts = texts(&svg);
        assert!(texts.contains(&"A<&>\"'?B 2005".to_string()), "{texts:?}");
        let chart = render_intensity_chart(&t).unwrap();
        assert!(roxmltree::Document::parse(&chart).is_ok());
        assert!(svg.starts_with("<svg width=\"1200\" height=\"800\" viewBox=\"0 0 1200 800\""));
    }

    #[test]
    fn a_map_frames_its_track_and_draws_land_graticule_and_legend() {
        let t = track(
            "KATRINA",
            &[
                (23.1, -75.1, 30, Some(1008), "TD"),
                (25.9, -80.3, 70, Some(984), "H1"),
                (28.2, -89.6, 150, Some(902), "H5"),
                (31.1, -89.6, 65, Some(960), "H1"),
            ],
        );
        let svg = render_track_map("KATRINA 2005", &[t]).unwrap();
        let texts = texts(&svg);
        for want in [
            "KATRINA 2005",
            "80°W",
            "25°N",
            "Tropical depression (TD)",
            "Category 1 (H1)",
            "Category 5 (H5)",
        ] {
            assert!(texts.iter().any(|t| t == want), "{want} not in {texts:?}");
        }
        // The legend lists the codes drawn, and only those.
        assert!(!texts.iter().any(|t| t == "Category 3 (H3)"), "{texts:?}");
        // Florida and Cuba are land; far-away labels are not on this map.
        assert!(svg.matches("fill=\"#EFE9D8\"").count() >= 2);
        assert!(
            !texts.iter().any(|t| t == "180°" || t == "60°N"),
            "{texts:?}"
        );
        // One track segment per pair of observations, coloured by its start.
        assert_eq!(svg.matches("stroke-width=\"2\"").count(), 3);
        assert_eq!(
            svg.matches("stroke=\"#56B4E9\" stroke-width=\"2\"").count(),
            1
        );
        assert!(render_track_map("nothing", &[]).is_err());
    }

    #[test]
    fn the_intensity_chart_skips_unmeasured_pressure() {
        let t = track(
            "X",
            &[
                (20.0, -60.0, 30, Some(1005), "TD"),
                (21.0, -61.0, 40, Some(1000), "TS"),
                (22.0, -62.0, 50, None, "TS"),
                (23.0, -63.0, 70, Some(985), "H1"),
                (24.0, -64.0, 90, Some(970), "H2"),
            ],
        );
        let svg = render_intensity_chart(&t).unwrap();
        // Two runs of pressure: two pressure lines, and the legend's swatch.
        assert_eq!(
            svg.matches("stroke=\"#1E46AA\" stroke-width=\"2\" points")
                .count(),
            3,
            "{svg}"
        );
        let texts = texts(&svg);
        for want in [
            "X 2005: wind and pressure",
            "Wind (kt)",
            "Pressure (mb)",
            "H2 (83 kt)",
        ] {
            assert!(texts.iter().any(|t| t == want), "{want} not in {texts:?}");
        }
    }

    #[test]
    fn the_per_year_chart_has_a_panel_per_basin() {
        let row = |year, basin: &str| YearCounts {
            year,
            basin: basin.into(),
            storms: 10,
            by_peak: vec![
                ("TS".into(), 4),
                ("H1".into(), 2),
                ("H2".into(), 1),
                ("H4".into(), 2),
                ("ST".into(), 1),
            ],
        };
        let rows = [
            row(2004, "North Atlantic"),
            row(2004, "Eastern Pacific"),
            row(2005, "North Atlantic"),
        ];
        assert_eq!(rows[0].peaked_at(Category::SuperTyphoon), 1);
        let svg = render_per_year_chart(&per_year_title(None, &rows), &rows).unwrap();
        let texts = texts(&svg);
        for want in [
            "Storms per year, 2004-2005",
            "North Atlantic",
            "Eastern Pacific",
            "Category 4 (H4)",
            "Super typhoon, 130 kt+ (ST)",
            "2005",
        ] {
            assert!(texts.iter().any(|t| t == want), "{want} not in {texts:?}");
        }
        assert!(svg.starts_with("<svg width=\"1200\" height=\"700\""));
        assert!(render_per_year_chart("x", &[]).is_err());
        assert_eq!(
            season_title(2005, Some("north atlantic"), 28),
            "2005 North Atlantic season (28 storms)"
        );
    }

    /// sRGB (0..255) to linear light.
    fn linear(c: u8) -> f64 {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    }

    /// CIELAB (D65) of linear RGB, after the simulation matrix `m` (Machado, Oliveira
    /// and Fernandes 2009, severity 1.0), or as seen with normal vision (`None`).
    fn lab(rgb: (u8, u8, u8), m: Option<[[f64; 3]; 3]>) -> (f64, f64, f64) {
        let l = [linear(rgb.0), linear(rgb.1), linear(rgb.2)];
        let l = match m {
            Some(m) => {
                let mut o = [0.0; 3];
                for i in 0..3 {
                    o[i] = (m[i][0] * l[0] + m[i][1] * l[1] + m[i][2] * l[2]).clamp(0.0, 1.0);
                }
                o
            }
            None => l,
        };
        let x = 0.4124564 * l[0] + 0.3575761 * l[1] + 0.1804375 * l[2];
        let y = 0.2126729 * l[0] + 0.7151522 * l[1] + 0.0721750 * l[2];
        let z = 0.0193339 * l[0] + 0.1191920 * l[1] + 0.9503041 * l[2];
        let f = |t: f64| {
            if t > 216.0 / 24389.0 {
                t.cbrt()
            } else {
                (24389.0 / 27.0 * t + 16.0) / 116.0
            }
        };
        let (fx, fy, fz) = (f(x / 0.95047), f(y), f(z / 1.08883));
        (116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz))
    }

    /// CIEDE2000 colour difference (Sharma, Wu and Dalal 2005).
    fn de2000(a: (f64, f64, f64), b: (f64, f64, f64)) -> f64 {
        let (l1, a1, b1) = a;
        let (l2, a2, b2) = b;
        let c7 = |c: f64| (c.powi(7) / (c.powi(7) + 25f64.powi(7))).sqrt();
        let cb = (a1.hypot(b1) + a2.hypot(b2)) / 2.0;
        let g = 0.5 * (1.0 - c7(cb));
        let (a1p, a2p) = ((1.0 + g) * a1, (1.0 + g) * a2);
        let (c1p, c2p) = (a1p.hypot(b1), a2p.hypot(b2));
        let hue = |b: f64, a: f64| b.atan2(a).to_degrees().rem_euclid(360.0);
        let (h1p, h2p) = (hue(b1, a1p), hue(b2, a2p));
        let dh = if c1p * c2p == 0.0 {
            0.0
        } else if (h2p - h1p).abs() <= 180.0 {
            h2p - h1p
        } else if h2p - h1p > 180.0 {
            h2p - h1p - 360.0
        } else {
            h2p - h1p + 360.0
        };
        let dhp = 2.0 * (c1p * c2p).sqrt() * (dh / 2.0).to_radians().sin();
        let (lbp, cbp) = ((l1 + l2) / 2.0, (c1p + c2p) / 2.0);
        let hbp = if c1p * c2p == 0.0 {
            h1p + h2p
        } else if (h1p - h2p).abs() <= 180.0 {
            (h1p + h2p) / 2.0
        } else if h1p + h2p < 360.0 {
            (h1p + h2p + 360.0) / 2.0
        } else {
            (h1p + h2p - 360.0) / 2.0
        };
        let cos = |d: f64| d.to_radians().cos();
        let t = 1.0 - 0.17 * cos(hbp - 30.0) + 0.24 * cos(2.0 * hbp) + 0.32 * cos(3.0 * hbp + 6.0)
            - 0.20 * cos(4.0 * hbp - 63.0);
        let dth = 30.0 * (-((hbp - 275.0) / 25.0).powi(2)).exp();
        let rt = -(2.0 * dth).to_radians().sin() * 2.0 * c7(cbp);
        let sl = 1.0 + 0.015 * (lbp - 50.0).powi(2) / (20.0 + (lbp - 50.0).powi(2)).sqrt();
        let sc = 1.0 + 0.045 * cbp;
        let sh = 1.0 + 0.015 * cbp * t;
        let (x, y, z) = ((l2 - l1) / sl, (c2p - c1p) / sc, dhp / sh);
        (x * x + y * y + z * z + rt * y * z).sqrt()
    }

    #[test]
    fn the_palette_survives_colour_blindness() {
        const DEUTERANOPIA: [[f64; 3]; 3] = [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ];
        const PROTANOPIA: [[f64; 3]; 3] = [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ];
        // The reference pair of CIEDE2000's published test data (Sharma et al., pair 1).
        let d = de2000((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485));
        assert!((d - 2.0425).abs() < 1e-3, "{d}");
        // The Saffir-Simpson scale (TD, TS, H1..H5) must stay apart; the rare other
        // codes are reported (their legend entries name them).
        for (vision, m, floor) in [
            ("normal vision", None, 12.0),
            ("deuteranopia", Some(DEUTERANOPIA), 12.0),
            ("protanopia", Some(PROTANOPIA), 11.0),
        ] {
            for (set, codes, floor) in [
                ("the scale", &Category::SCALE[..], Some(floor)),
                ("every code", &Category::ALL[..], None),
            ] {
                let mut worst = (f64::MAX, String::new());
                for (i, a) in codes.iter().enumerate() {
                    for b in &codes[i + 1..] {
                        let d = de2000(lab(a.rgb(), m), lab(b.rgb(), m));
                        if d < worst.0 {
                            worst = (d, format!("{} / {}", a.code(), b.code()));
                        }
                    }
                }
                println!(
                    "palette, {vision}, {set}: closest pair CIEDE2000 {:.1} ({})",
                    worst.0, worst.1
                );
                if let Some(floor) = floor {
                    assert!(
                        worst.0 >= floor,
                        "{vision}: {} only {:.1} apart",
                        worst.1,
                        worst.0
                    );
                }
            }
        }
    }
}
