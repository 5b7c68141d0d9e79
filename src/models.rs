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
    pub fid: i32,
    pub timestamp: DateTime<Utc>,
    pub btid: i16,
    pub name: String,
    pub lat: BigDecimal,
    pub long: BigDecimal,
    pub wind_kts: i16,
    pub pressure: Option<i16>,
    pub cat: String,
    pub basin: String,
    pub shape_length: BigDecimal,
}

/// A new observation. `pressure: None` is written as NULL (not measured).
#[derive(Debug, Clone, PartialEq, Insertable, Deserialize, Serialize)]
#[diesel(table_name = hurricanes, treat_none_as_default_value = false)]
#[serde(deny_unknown_fields)]
pub struct NewHurricane {
    pub fid: i32,
    pub timestamp: DateTime<Utc>,
    pub btid: i16,
    pub name: String,
    pub lat: BigDecimal,
    pub long: BigDecimal,
    pub wind_kts: i16,
    pub pressure: Option<i16>,
    pub cat: String,
    pub basin: String,
    pub shape_length: BigDecimal,
}

/// A partial update: `None` leaves a column alone. For `pressure`, `Some(None)` sets
/// it to NULL (not measured).
#[derive(Debug, Clone, Default, PartialEq, AsChangeset, Deserialize)]
#[diesel(table_name = hurricanes)]
#[serde(deny_unknown_fields)]
pub struct HurricaneChanges {
    pub timestamp: Option<DateTime<Utc>>,
    pub btid: Option<i16>,
    pub name: Option<String>,
    pub lat: Option<BigDecimal>,
    pub long: Option<BigDecimal>,
    pub wind_kts: Option<i16>,
    #[serde(default, deserialize_with = "double_option")]
    pub pressure: Option<Option<i16>>,
    pub cat: Option<String>,
    pub basin: Option<String>,
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
    pub btid: i16,
    /// Name at the peak observation.
    pub name: String,
    pub basin: String,
    /// Year of the first observation.
    pub year: i32,
    pub first_time: DateTime<Utc>,
    pub last_time: DateTime<Utc>,
    pub observations: i32,
    pub peak_wind_kts: i16,
    /// Lowest measured pressure, `None` if never measured.
    pub min_pressure: Option<i16>,
    /// Category at peak wind.
    pub peak_cat: String,
}
