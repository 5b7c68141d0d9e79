//! The world's land (Natural Earth 1:50m via world-atlas, see `data/world/README.md`),
//! embedded in the crate and parsed once.

use std::sync::OnceLock;

static LAND_TEXT: &str = include_str!("../../data/world/land-50m.txt");

/// One ring of a land polygon, in degrees: longitudes continuous (a ring across the
/// date line goes past 180, e.g. Chukotka to about 190), centred on -180..180.
#[derive(Debug, Clone)]
pub struct Ring {
    /// True for a hole (a lake or inland sea) in the polygon before it.
    pub hole: bool,
    /// Points (longitude, latitude); the last joins the first.
    pub points: Vec<(f64, f64)>,
    /// Bounding box: west, east, south, north.
    pub bbox: (f64, f64, f64, f64),
}

/// The land rings, parsed on first use. Lines that do not parse are skipped (the file
/// is part of the crate and checked by a test, so that never happens in practice).
pub fn land() -> &'static [Ring] {
    static LAND: OnceLock<Vec<Ring>> = OnceLock::new();
    LAND.get_or_init(|| parse(LAND_TEXT))
}

/// The land as one GeoJSON Feature (a MultiPolygon, longitude/latitude in degrees),
/// built once: what the storm explorer's map draws. Each outer ring is a polygon with
/// the holes that follow it. Longitudes stay continuous as in the embedded rings (a few rings
/// reach about 190 east), which a web map draws as one piece.
pub fn land_geojson() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        use std::fmt::Write;
        let mut out = String::with_capacity(1 << 20);
        out.push_str(
            "{\"type\":\"Feature\",\"properties\":{\"source\":\"Natural Earth 1:50m land (public domain), via world-atlas 2.0.2 (ISC)\"},\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[",
        );
        let mut open = false;
        for ring in land() {
            if !ring.hole {
                if open {
                    out.push_str("]],");
                }
                out.push_str("[[");
                open = true;
            } else if open {
                out.push_str("],[");
            } else {
                continue;
            }
            for (i, (x, y)) in ring.points.iter().enumerate() {
                let _ = write!(out, "{}[{x},{y}]", if i == 0 { "" } else { "," });
            }
            // GeoJSON rings close on their first position.
            if let Some((x, y)) = ring.points.first() {
                let _ = write!(out, ",[{x},{y}]");
            }
        }
        if open {
            out.push_str("]]");
        }
        out.push_str("]}}");
        out
    })
}

fn parse(text: &str) -> Vec<Ring> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(parse_ring)
        .collect()
}

fn parse_ring(line: &str) -> Option<Ring> {
    let mut fields = line.split_ascii_whitespace();
    let hole = match fields.next()? {
        "O" => false,
        "H" => true,
        _ => return None,
    };
    let nums: Vec<i64> = fields.map(|f| f.parse().ok()).collect::<Option<_>>()?;
    if nums.len() < 6 || !nums.len().is_multiple_of(2) {
        return None;
    }
    let (mut x, mut y) = (0i64, 0i64);
    let mut points = Vec::with_capacity(nums.len() / 2);
    let mut bbox = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for pair in nums.chunks_exact(2) {
        x += pair[0];
        y += pair[1];
        let p = (x as f64 / 100.0, y as f64 / 100.0);
        bbox = (
            bbox.0.min(p.0),
            bbox.1.max(p.0),
            bbox.2.min(p.1),
            bbox.3.max(p.1),
        );
        points.push(p);
    }
    Some(Ring { hole, points, bbox })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_land_parses_whole() {
        let lines = LAND_TEXT
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .count();
        let rings = land();
        assert_eq!(rings.len(), lines, "every ring line parses");
        assert!(rings.len() > 1000);
        assert!(rings.iter().any(|r| r.hole));
        // Antarctica goes all the way round, closed along the pole; Chukotka crosses
        // the date line.
        assert!(rings
            .iter()
            .any(|r| r.bbox.1 - r.bbox.0 > 359.0 && r.bbox.2 == -90.0));
        assert!(rings.iter().any(|r| r.bbox.1 > 185.0 && r.bbox.3 > 60.0));
        for r in rings {
            assert!(r.bbox.0 >= -200.0 && r.bbox.1 <= 200.0, "{:?}", r.bbox);
            assert!(r.bbox.1 - r.bbox.0 <= 360.0, "{:?}", r.bbox);
            assert!(r.bbox.2 >= -90.0 && r.bbox.3 <= 90.0, "{:?}", r.bbox);
        }
        // Florida's tip is land; the Gulf of Mexico is not inside any outer ring's box
        // that is small (a rough check that coordinates are in degrees, lon first).
        assert!(rings.iter().any(|r| !r.hole
            && r.bbox.0 < -80.5
            && r.bbox.1 > -80.5
            && r.bbox.2 < 26.0
            && r.bbox.3 > 26.0));
    }

    #[test]
    fn the_land_is_valid_geojson() {
        let v: serde_json::Value = serde_json::from_str(land_geojson()).unwrap();
        let polygons = v["geometry"]["coordinates"].as_array().unwrap();
        assert_eq!(
            polygons.len(),
            land().iter().filter(|r| !r.hole).count(),
            "one polygon per outer ring"
        );
        for polygon in polygons {
            for ring in polygon.as_array().unwrap() {
                let ring = ring.as_array().unwrap();
                assert!(ring.len() >= 4);
                assert_eq!(ring.first(), ring.last(), "closed");
            }
        }
    }

    #[test]
    fn a_bad_line_is_skipped() {
        assert!(parse_ring("O 1 2 x 4 5 6").is_none());
        assert!(parse_ring("Q 1 2 3 4 5 6").is_none());
        assert!(parse_ring("O 1 2 3").is_none());
        let r = parse_ring("H 100 200 100 0 0 100").unwrap();
        assert!(r.hole);
        assert_eq!(r.points, vec![(1.0, 2.0), (2.0, 2.0), (2.0, 3.0)]);
    }
}
