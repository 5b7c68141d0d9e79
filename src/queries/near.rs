//! Geometry: storms that passed within a radius of a place.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Double, Int2, Int4, Text};
use serde::Serialize;

use crate::error::{Error, Result};

/// A storm that passed near a place, with its closest observation.
#[derive(Debug, Clone, PartialEq, QueryableByName, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NearStorm {
    /// Storm ID.
    #[diesel(sql_type = Int2)]
    pub btid: i16,
    /// Storm name at its peak observation.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Year of the storm's first observation.
    #[diesel(sql_type = Int4)]
    pub year: i32,
    /// Ocean basin name.
    #[diesel(sql_type = Text)]
    pub basin: String,
    /// Great-circle distance of the closest observation, km.
    #[diesel(sql_type = Double)]
    pub closest_km: f64,
    /// FID of that observation.
    #[diesel(sql_type = Int4)]
    pub fid: i32,
    /// Time of that observation (the closest approach), UTC.
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub time: chrono::DateTime<chrono::Utc>,
    /// Wind speed at that observation, knots.
    #[diesel(sql_type = Int2)]
    pub wind_kts: i16,
}

const EARTH_RADIUS_KM: f64 = 6371.0088;
const KM_PER_DEGREE: f64 = std::f64::consts::PI * EARTH_RADIUS_KM / 180.0;

/// Storms with an observation within `km` of (`lat`, `lon`), closest first.
///
/// A bounding box around the place (two boxes across the date line) is matched by the
/// GiST index on the observation's position; the haversine distance then keeps only
/// the observations truly within `km`.
pub fn storms_near(
    conn: &mut PgConnection,
    place: Place,
    radius: Radius,
) -> Result<Vec<NearStorm>> {
    Ok(near_query("", place, radius).load(conn)?)
}

/// A point on the globe, checked: latitude -90..=90, longitude -180..=180 (east
/// positive), in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    lat: f64,
    lon: f64,
}

impl Place {
    /// The place at `lat`, `lon`; [`Error::InvalidInput`] outside the globe.
    pub fn new(lat: f64, lon: f64) -> Result<Place> {
        if !(-90.0..=90.0).contains(&lat) {
            return Err(Error::InvalidInput(format!(
                "lat \"{lat}\": expected -90 to 90"
            )));
        }
        if !(-180.0..=180.0).contains(&lon) {
            return Err(Error::InvalidInput(format!(
                "lon \"{lon}\": expected -180 to 180"
            )));
        }
        Ok(Place { lat, lon })
    }

    /// Latitude, degrees north.
    pub fn lat(self) -> f64 {
        self.lat
    }

    /// Longitude, degrees east.
    pub fn lon(self) -> f64 {
        self.lon
    }
}

/// A search radius, checked: more than 0 and at most 2000 km.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Radius(f64);

impl Radius {
    /// `km` kilometres; [`Error::InvalidInput`] outside (0, 2000].
    pub fn km(km: f64) -> Result<Radius> {
        if !(km > 0.0 && km <= 2000.0) {
            return Err(Error::InvalidInput(format!(
                "km \"{km}\": expected more than 0 and at most 2000"
            )));
        }
        Ok(Radius(km))
    }

    /// The radius in kilometres.
    pub fn as_km(self) -> f64 {
        self.0
    }
}

/// PostgreSQL's plan for [`storms_near`] with these arguments, one line per row:
/// shows whether the position index serves the box prefilter.
pub fn explain_storms_near(
    conn: &mut PgConnection,
    place: Place,
    radius: Radius,
) -> Result<Vec<String>> {
    #[derive(QueryableByName)]
    struct Plan {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }
    let plan: Vec<Plan> = near_query("EXPLAIN ", place, radius).load(conn)?;
    Ok(plan.into_iter().map(|p| p.line).collect())
}

fn near_query(
    prefix: &str,
    place: Place,
    radius: Radius,
) -> diesel::query_builder::BoxedSqlQuery<'static, diesel::pg::Pg, diesel::query_builder::SqlQuery>
{
    let (lat, lon, km) = (place.lat, place.lon, radius.0);
    let dlat = km / KM_PER_DEGREE;
    let (lat_lo, lat_hi) = ((lat - dlat).max(-90.0), (lat + dlat).min(90.0));
    let widest = lat_lo.abs().max(lat_hi.abs());
    let dlon = if widest >= 89.9 {
        180.0
    } else {
        (km / (KM_PER_DEGREE * widest.to_radians().cos())).min(180.0)
    };
    // Up to two boxes: (lon_lo, lon_hi) and, across the date line, its wrapped part.
    let (mut a, mut b) = ((lon - dlon, lon + dlon), (1.0, -1.0));
    if dlon >= 180.0 {
        a = (-180.0, 180.0);
    } else if a.0 < -180.0 {
        b = (a.0 + 360.0, 180.0);
        a.0 = -180.0;
    } else if a.1 > 180.0 {
        b = (-180.0, a.1 - 360.0);
        a.1 = 180.0;
    }
    diesel::sql_query(format!("{prefix}{NEAR_SQL}"))
        .into_boxed()
        .bind::<Double, _>(lat)
        .bind::<Double, _>(lon)
        .bind::<Double, _>(km)
        .bind::<Double, _>(lat_lo)
        .bind::<Double, _>(lat_hi)
        .bind::<Double, _>(a.0)
        .bind::<Double, _>(a.1)
        .bind::<Double, _>(b.0)
        .bind::<Double, _>(b.1)
}

/// $1 lat, $2 lon, $3 km, $4/$5 latitude band, $6/$7 first box, $8/$9 second box
/// (empty when $8 > $9).
const NEAR_SQL: &str = r#"
WITH candidates AS (
    SELECT h.fid, h.btid, h.wind_kts, h.timestamp,
           2 * 6371.0088 * asin(sqrt(
               sin(radians(h.lat::float8 - $1) / 2) ^ 2
             + cos(radians($1)) * cos(radians(h.lat::float8))
             * sin(radians(h.long::float8 - $2) / 2) ^ 2)) AS km
    FROM hurricanes h
    WHERE point(h.long::float8, h.lat::float8) <@ box(point($6, $4), point($7, $5))
       OR ($8 <= $9 AND point(h.long::float8, h.lat::float8) <@ box(point($8, $4), point($9, $5)))
), closest AS (
    SELECT DISTINCT ON (btid) btid, fid, wind_kts, timestamp, km
    FROM candidates WHERE km <= $3
    ORDER BY btid, km, fid
)
SELECT c.btid, s.name::text AS name, s.year, s.basin::text AS basin, c.km AS closest_km,
       c.fid, c.timestamp AS time, c.wind_kts
FROM closest c JOIN storms s USING (btid)
ORDER BY c.km, c.btid
"#;
