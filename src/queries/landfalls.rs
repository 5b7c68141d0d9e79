//! Landfalls: HURDAT2's record identifier `L` on an observation marks a landfall
//! (the center crossing a coastline). Only rows loaded from HURDAT2 carry it; the
//! IHW CSV does not, so a database loaded only from the CSV has no landfalls.
//!
//! `min_cat` compares categories on [`Category::SCALE`], `TD < TS < H1 < H2 < H3 < H4 <
//! H5`; every other code (`E`, `L`, `W`, `SS`, `SD`, `DB`, `ET`, `PT`, `ST`) is off that
//! scale ([`Category::scale_rank`] is `None`), so it passes no `min_cat` filter. The filter applies to the category
//! *at landfall*: `--min-cat H3` lists the landfalls made at H3 or stronger, and the
//! storms that made at least one.

use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::codes::{shown, Basin, Category};
use crate::error::{Error, Result};
use crate::schema::{hurricanes, storms};

/// Which landfalls to list. Also the `hurricane-db landfalls` flags and the query
/// parameters of the service's `GET /landfalls`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LandfallFilter {
    /// Storms of this year (year of the storm's first observation).
    pub year: Option<i32>,
    /// Storms of this basin (`North Atlantic`, `Eastern Pacific`; any case).
    pub basin: Option<String>,
    /// Landfalls at this category or stronger: TD, TS, H1..H5 (any case).
    pub min_cat: Option<String>,
}

/// One landfall record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Landfall {
    /// The observation's FID.
    pub fid: i32,
    /// Time of landfall, UTC.
    pub timestamp: DateTime<Utc>,
    /// Latitude in decimal degrees, north positive.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "29.500000"))]
    pub lat: BigDecimal,
    /// Longitude in decimal degrees, east positive.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "-89.600000"))]
    pub long: BigDecimal,
    /// Wind speed in knots.
    pub wind_kts: i16,
    /// Central pressure in millibars; `None` when not measured.
    pub pressure: Option<i16>,
    /// IHW category at landfall (`H1`..`H5`, `TS`, ...).
    pub cat: String,
    /// HURDAT2 status at landfall (`HU`, `TS`, ...).
    pub status: Option<String>,
}

/// A storm and its landfalls, in time order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StormLandfalls {
    /// Storm ID.
    pub btid: i16,
    /// ATCF storm id, e.g. `AL122005`.
    pub atcf_id: Option<String>,
    /// Storm name.
    pub name: String,
    /// Year of the storm's first observation.
    pub year: i32,
    /// Ocean basin name.
    pub basin: String,
    /// The storm's landfalls that pass the filter, in time order.
    pub landfalls: Vec<Landfall>,
}

type Row = (
    (i16, Option<String>, String, i32, String),
    (
        i32,
        DateTime<Utc>,
        BigDecimal,
        BigDecimal,
        i16,
        Option<i16>,
        String,
        Option<String>,
    ),
);

/// Storms with landfalls matching `f`, in time order (storm's first observation,
/// then BTID), each with its matching landfall records in time order.
pub fn landfalls(conn: &mut PgConnection, f: &LandfallFilter) -> Result<Vec<StormLandfalls>> {
    use hurricanes::dsl as h;
    use storms::dsl as s;
    let mut q = h::hurricanes
        .inner_join(s::storms.on(s::btid.eq(h::btid)))
        .filter(h::record_id.eq("L"))
        .select((
            (s::btid, s::atcf_id, s::name, s::year, s::basin),
            (
                h::fid,
                h::timestamp,
                h::lat,
                h::long,
                h::wind_kts,
                h::pressure,
                h::cat,
                h::status,
            ),
        ))
        .into_boxed();
    crate::queries::check_year("year", f.year)?;
    if let Some(year) = f.year {
        q = q.filter(s::year.eq(year));
    }
    if let Some(basin) = &f.basin {
        q = q.filter(s::basin.eq(basin.parse::<Basin>()?));
    }
    if let Some(min) = &f.min_cat {
        let rank = min
            .parse::<Category>()
            .ok()
            .and_then(Category::scale_rank)
            .ok_or_else(|| {
                let scale: Vec<&str> = Category::SCALE.iter().map(|c| c.code()).collect();
                Error::InvalidInput(format!(
                    "min_cat \"{}\": expected one of {} (Saffir-Simpson order, weakest first)",
                    shown(min),
                    scale.join(", ")
                ))
            })?;
        q = q.filter(h::cat.eq_any(&Category::SCALE[usize::from(rank - 1)..]));
    }
    let rows: Vec<Row> = q
        .order((s::first_time, s::btid, h::timestamp, h::fid))
        .load(conn)?;
    let mut out: Vec<StormLandfalls> = Vec::new();
    for (
        (btid, atcf_id, name, year, basin),
        (fid, timestamp, lat, long, wind_kts, pressure, cat, status),
    ) in rows
    {
        if out.last().is_none_or(|s| s.btid != btid) {
            out.push(StormLandfalls {
                btid,
                atcf_id,
                name,
                year,
                basin,
                landfalls: Vec::new(),
            });
        }
        if let Some(storm) = out.last_mut() {
            storm.landfalls.push(Landfall {
                fid,
                timestamp,
                lat,
                long,
                wind_kts,
                pressure,
                cat,
                status,
            });
        }
    }
    Ok(out)
}
