//! Analyst commands: `query`, `storms`, `track`, `near`.

use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use clap::Args;

use super::output::{emit, summary, Column, Format};
use crate::db::Db;
use crate::error::Result;
use crate::models::{Hurricane, Storm};
use crate::queries::{self, Filter, NearStorm, Order, StormFilter};

/// Output flags shared by the listing commands.
#[derive(Args, Debug, Clone, Copy)]
pub struct OutputArgs {
    /// Print JSON (an array) instead of a table.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV with a header instead of a table.
    #[arg(long)]
    pub csv: bool,
}

impl OutputArgs {
    fn format(self) -> Format {
        Format::from_flags(self.json, self.csv)
    }
}

/// `hurricane-db query`: the search filter as flags.
#[derive(Args, Debug, Clone)]
pub struct QueryArgs {
    /// Storm name, case-insensitive; * and ? are wildcards (e.g. 'KAT*').
    #[arg(long)]
    pub name: Option<String>,
    /// Observations at or after this time (RFC 3339, e.g. 2005-08-25T00:00:00Z).
    #[arg(long)]
    pub time_from: Option<DateTime<Utc>>,
    /// Observations at or before this time.
    #[arg(long)]
    pub time_to: Option<DateTime<Utc>>,
    #[arg(long)]
    pub year_from: Option<i32>,
    #[arg(long)]
    pub year_to: Option<i32>,
    /// Basin; repeat for several (any of them).
    #[arg(long = "basin")]
    pub basins: Vec<String>,
    /// Category (H1..H5, TS, TD, ...); repeat for several (any of them).
    #[arg(long = "cat")]
    pub cats: Vec<String>,
    #[arg(long)]
    pub min_wind: Option<i16>,
    #[arg(long)]
    pub max_wind: Option<i16>,
    #[arg(long)]
    pub min_pressure: Option<i16>,
    #[arg(long)]
    pub max_pressure: Option<i16>,
    #[arg(long, allow_hyphen_values = true)]
    pub lat_min: Option<BigDecimal>,
    #[arg(long, allow_hyphen_values = true)]
    pub lat_max: Option<BigDecimal>,
    /// West edge; above --lon-max means the box crosses the date line.
    #[arg(long, allow_hyphen_values = true)]
    pub lon_min: Option<BigDecimal>,
    #[arg(long, allow_hyphen_values = true)]
    pub lon_max: Option<BigDecimal>,
    /// One storm.
    #[arg(long)]
    pub btid: Option<i16>,
    #[arg(long, value_enum, default_value_t = Order::TimeAsc)]
    pub order: Order,
    /// Rows per page (at most 10000).
    #[arg(long, default_value_t = queries::DEFAULT_LIMIT)]
    pub limit: i64,
    #[arg(long)]
    pub offset: Option<i64>,
    /// Continue after a previous page (its "next page" token).
    #[arg(long)]
    pub page_token: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl QueryArgs {
    fn filter(&self) -> Filter {
        Filter {
            name: self.name.clone(),
            time_from: self.time_from,
            time_to: self.time_to,
            year_from: self.year_from,
            year_to: self.year_to,
            basins: self.basins.clone(),
            cats: self.cats.clone(),
            min_wind: self.min_wind,
            max_wind: self.max_wind,
            min_pressure: self.min_pressure,
            max_pressure: self.max_pressure,
            lat_min: self.lat_min.clone(),
            lat_max: self.lat_max.clone(),
            lon_min: self.lon_min.clone(),
            lon_max: self.lon_max.clone(),
            btid: self.btid,
            order: self.order,
            limit: Some(self.limit),
            offset: self.offset,
            page_token: self.page_token.clone(),
        }
    }
}

fn observation_columns() -> Vec<Column<Hurricane>> {
    vec![
        Column {
            header: "fid",
            right: true,
            value: |h| h.fid.to_string(),
        },
        Column {
            header: "time (UTC)",
            right: false,
            value: |h| h.timestamp.format("%Y-%m-%d %H:%M").to_string(),
        },
        Column {
            header: "btid",
            right: true,
            value: |h| h.btid.to_string(),
        },
        Column {
            header: "name",
            right: false,
            value: |h| h.name.clone(),
        },
        Column {
            header: "lat",
            right: true,
            value: |h| h.lat.normalized().to_string(),
        },
        Column {
            header: "long",
            right: true,
            value: |h| h.long.normalized().to_string(),
        },
        Column {
            header: "wind kts",
            right: true,
            value: |h| h.wind_kts.to_string(),
        },
        Column {
            header: "mb",
            right: true,
            value: |h| h.pressure.map_or("-".into(), |p| p.to_string()),
        },
        Column {
            header: "cat",
            right: false,
            value: |h| h.cat.clone(),
        },
        Column {
            header: "basin",
            right: false,
            value: |h| h.basin.clone(),
        },
    ]
}

fn storm_columns() -> Vec<Column<Storm>> {
    vec![
        Column {
            header: "btid",
            right: true,
            value: |s| s.btid.to_string(),
        },
        Column {
            header: "name",
            right: false,
            value: |s| s.name.clone(),
        },
        Column {
            header: "year",
            right: true,
            value: |s| s.year.to_string(),
        },
        Column {
            header: "basin",
            right: false,
            value: |s| s.basin.clone(),
        },
        Column {
            header: "first (UTC)",
            right: false,
            value: |s| s.first_time.format("%Y-%m-%d %H:%M").to_string(),
        },
        Column {
            header: "last (UTC)",
            right: false,
            value: |s| s.last_time.format("%Y-%m-%d %H:%M").to_string(),
        },
        Column {
            header: "obs",
            right: true,
            value: |s| s.observations.to_string(),
        },
        Column {
            header: "peak kts",
            right: true,
            value: |s| s.peak_wind_kts.to_string(),
        },
        Column {
            header: "min mb",
            right: true,
            value: |s| s.min_pressure.map_or("-".into(), |p| p.to_string()),
        },
        Column {
            header: "peak cat",
            right: false,
            value: |s| s.peak_cat.clone(),
        },
    ]
}

pub fn query(db: &Db, args: &QueryArgs) -> Result<()> {
    let page = db.read(|conn| queries::search(conn, &args.filter()))?;
    let format = args.output.format();
    emit(&page.items, &observation_columns(), format)?;
    summary(
        format,
        &format!(
            "query: {} rows, next page {}",
            page.items.len(),
            page.next_page.as_deref().unwrap_or("none")
        ),
    );
    Ok(())
}

/// `hurricane-db storms`: the storm summary, strongest first.
#[derive(Args, Debug, Clone)]
pub struct StormsArgs {
    /// How many storms.
    #[arg(long, default_value_t = 20)]
    pub top: i64,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub year_from: Option<i32>,
    #[arg(long)]
    pub year_to: Option<i32>,
    #[arg(long = "basin")]
    pub basins: Vec<String>,
    #[arg(long)]
    pub min_wind: Option<i16>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn storms(db: &Db, args: &StormsArgs) -> Result<()> {
    let filter = StormFilter {
        name: args.name.clone(),
        year_from: args.year_from,
        year_to: args.year_to,
        basins: args.basins.clone(),
        min_wind: args.min_wind,
        limit: Some(args.top),
        offset: None,
    };
    let rows = db.read(|conn| queries::storms(conn, &filter))?;
    let format = args.output.format();
    emit(&rows, &storm_columns(), format)?;
    summary(format, &format!("storms: {} rows", rows.len()));
    Ok(())
}

pub fn track(db: &Db, btid: i16, output: OutputArgs) -> Result<()> {
    let rows = db.read(|conn| queries::track(conn, btid))?;
    let format = output.format();
    emit(&rows, &observation_columns(), format)?;
    let (first, last) = (&rows[0], &rows[rows.len() - 1]);
    summary(
        format,
        &format!(
            "track: storm {btid} {}, {} observations from {} to {}",
            first.name,
            rows.len(),
            first.timestamp.format("%Y-%m-%d %H:%M"),
            last.timestamp.format("%Y-%m-%d %H:%M")
        ),
    );
    Ok(())
}

pub fn near(db: &Db, lat: f64, lon: f64, km: f64, output: OutputArgs) -> Result<()> {
    let rows = db.read(|conn| queries::storms_near(conn, lat, lon, km))?;
    let columns: Vec<Column<NearStorm>> = vec![
        Column {
            header: "btid",
            right: true,
            value: |s| s.btid.to_string(),
        },
        Column {
            header: "name",
            right: false,
            value: |s| s.name.clone(),
        },
        Column {
            header: "year",
            right: true,
            value: |s| s.year.to_string(),
        },
        Column {
            header: "basin",
            right: false,
            value: |s| s.basin.clone(),
        },
        Column {
            header: "closest km",
            right: true,
            value: |s| format!("{:.1}", s.closest_km),
        },
        Column {
            header: "fid",
            right: true,
            value: |s| s.fid.to_string(),
        },
        Column {
            header: "wind kts",
            right: true,
            value: |s| s.wind_kts.to_string(),
        },
    ];
    let format = output.format();
    emit(&rows, &columns, format)?;
    summary(
        format,
        &format!(
            "near: {} storms within {km} km of ({lat}, {lon})",
            rows.len()
        ),
    );
    Ok(())
}
