//! Rust types for rows of `hurricanes`: read, insert and partial update.

use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::schema::{hurricanes, storms};

/// One observation as stored. Numerics stay exact `BigDecimal`s (1.140175 stays
/// 1.140175); `pressure` is `None` when it was not measured.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = hurricanes, primary_key(fid), check_for_backend(diesel::pg::Pg))]
pub struct Hurricane {
    /// IHW feature ID (`FID`), the primary key; it cannot be changed once stored.
    pub fid: i32,
    /// Time of the observation, UTC (the file's YEAR, MONTH, DAY and AD_TIME).
    pub timestamp: DateTime<Utc>,
    /// Storm ID (`BTID`): every observation of one storm shares it.
    pub btid: i16,
    /// Storm name, e.g. `KATRINA` (`NOTNAMED` in the IHW file when it has none).
    pub name: String,
    /// Latitude in decimal degrees, north positive (-90 to 90, up to 6 decimals).
    pub lat: BigDecimal,
    /// Longitude in decimal degrees, east positive (-180 to 180, up to 6 decimals).
    pub long: BigDecimal,
    /// Wind speed in knots (0 or more).
    pub wind_kts: i16,
    /// Central pressure in millibars (800 to 1100); `None` when not measured.
    pub pressure: Option<i16>,
    /// Category code, at most 2 characters: `H1`..`H5`, `TS`, `TD`, `E`, `L`, ...
    pub cat: String,
    /// Ocean basin name, e.g. `North Atlantic`, at most 16 characters.
    pub basin: String,
    /// Degrees to the storm's next observation (0 at its last; `Shape_Leng`).
    pub shape_length: BigDecimal,
}

/// A new observation. `pressure: None` is written as NULL (not measured).
#[derive(Debug, Clone, PartialEq, Insertable, Deserialize, Serialize)]
#[diesel(table_name = hurricanes, treat_none_as_default_value = false)]
#[serde(deny_unknown_fields)]
pub struct NewHurricane {
    /// IHW feature ID (`FID`), the primary key; it cannot be changed once stored.
    pub fid: i32,
    /// Time of the observation, UTC (the file's YEAR, MONTH, DAY and AD_TIME).
    pub timestamp: DateTime<Utc>,
    /// Storm ID (`BTID`): every observation of one storm shares it.
    pub btid: i16,
    /// Storm name, e.g. `KATRINA` (`NOTNAMED` in the IHW file when it has none).
    pub name: String,
    /// Latitude in decimal degrees, north positive (-90 to 90, up to 6 decimals).
    pub lat: BigDecimal,
    /// Longitude in decimal degrees, east positive (-180 to 180, up to 6 decimals).
    pub long: BigDecimal,
    /// Wind speed in knots (0 or more).
    pub wind_kts: i16,
    /// Central pressure in millibars (800 to 1100); `None` when not measured.
    pub pressure: Option<i16>,
    /// Category code, at most 2 characters: `H1`..`H5`, `TS`, `TD`, `E`, `L`, ...
    pub cat: String,
    /// Ocean basin name, e.g. `North Atlantic`, at most 16 characters.
    pub basin: String,
    /// Degrees to the storm's next observation (0 at its last; `Shape_Leng`).
    pub shape_length: BigDecimal,
}

/// A partial update: `None` leaves a column alone. For `pressure`, `Some(None)` sets
/// it to NULL (not measured).
#[derive(Debug, Clone, Default, PartialEq, AsChangeset, Deserialize)]
#[diesel(table_name = hurricanes)]
#[serde(deny_unknown_fields)]
pub struct HurricaneChanges {
    /// New time of the observation, UTC.
    pub timestamp: Option<DateTime<Utc>>,
    /// New storm ID (moves the observation to another storm).
    pub btid: Option<i16>,
    /// New storm name.
    pub name: Option<String>,
    /// New latitude in decimal degrees, north positive.
    pub lat: Option<BigDecimal>,
    /// New longitude in decimal degrees, east positive.
    pub long: Option<BigDecimal>,
    /// New wind speed in knots.
    pub wind_kts: Option<i16>,
    /// New central pressure in millibars; `Some(None)` for not measured.
    #[serde(default, deserialize_with = "double_option")]
    pub pressure: Option<Option<i16>>,
    /// New category code (`H1`..`H5`, `TS`, ...).
    pub cat: Option<String>,
    /// New ocean basin name.
    pub basin: Option<String>,
    /// New degrees to the storm's next observation.
    pub shape_length: Option<BigDecimal>,
}

impl HurricaneChanges {
    /// True when the changeset would change nothing (Diesel refuses an empty SET).
    pub fn is_empty(&self) -> bool {
        *self == HurricaneChanges::default()
    }
}

/// Distinguishes an absent field (`None`) from an explicit JSON `null` (`Some(None)`).
fn double_option<'de, D>(de: D) -> Result<Option<Option<i16>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<i16>::deserialize(de).map(Some)
}

impl From<Hurricane> for NewHurricane {
    fn from(h: Hurricane) -> Self {
        NewHurricane {
            fid: h.fid,
            timestamp: h.timestamp,
            btid: h.btid,
            name: h.name,
            lat: h.lat,
            long: h.long,
            wind_kts: h.wind_kts,
            pressure: h.pressure,
            cat: h.cat,
            basin: h.basin,
            shape_length: h.shape_length,
        }
    }
}

/// One storm (all observations with one BTID), summarised. Kept current by triggers
/// on `hurricanes`, so it is right after every write.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable, Serialize)]
#[diesel(table_name = storms, primary_key(btid), check_for_backend(diesel::pg::Pg))]
pub struct Storm {
    /// Storm ID, as in [`Hurricane::btid`].
    pub btid: i16,
    /// Name at the peak observation.
    pub name: String,
    /// Ocean basin name.
    pub basin: String,
    /// Year of the first observation.
    pub year: i32,
    /// Time of the first observation, UTC.
    pub first_time: DateTime<Utc>,
    /// Time of the last observation, UTC.
    pub last_time: DateTime<Utc>,
    /// Number of observations (rows in `hurricanes`).
    pub observations: i32,
    /// Highest wind speed of any observation, in knots.
    pub peak_wind_kts: i16,
    /// Lowest measured pressure, `None` if never measured.
    pub min_pressure: Option<i16>,
    /// Category at peak wind.
    pub peak_cat: String,
}
