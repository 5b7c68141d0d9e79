//! Analyst commands: `query`, `storms`, `track`, `near`.

use clap::Args;

use super::output::{coord, emit, summary, Column, Format};
use hurricane_db::queries::{self, Filter, NearStorm, StormFilter};
use hurricane_db::Db;
use hurricane_db::Result;
use hurricane_db::{Hurricane, Storm};

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
    #[command(flatten)]
    pub filter: crate::args::FilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn observation_columns() -> Vec<Column<Hurricane>> {
    vec![
        Column::right("fid", |h| h.fid.to_string()),
        Column::left("time (UTC)", |h| {
            h.timestamp.format("%Y-%m-%d %H:%M").to_string()
        }),
        Column::right("btid", |h| h.btid.to_string()),
        Column::left("name", |h| h.name.clone()),
        Column::right("lat", |h| coord(&h.lat)),
        Column::right("long", |h| coord(&h.long)),
        Column::right("wind kts", |h| h.wind_kts.to_string()),
        Column::right("mb", |h| h.pressure.map_or("-".into(), |p| p.to_string())),
        Column::left("cat", |h| h.cat.clone()),
        Column::left("basin", |h| h.basin.clone()),
    ]
}

fn storm_columns() -> Vec<Column<Storm>> {
    vec![
        Column::right("btid", |s| s.btid.to_string()),
        Column::left("name", |s| s.name.clone()),
        Column::right("year", |s| s.year.to_string()),
        Column::left("basin", |s| s.basin.clone()),
        Column::left("first (UTC)", |s| {
            s.first_time.format("%Y-%m-%d %H:%M").to_string()
        }),
        Column::left("last (UTC)", |s| {
            s.last_time.format("%Y-%m-%d %H:%M").to_string()
        }),
        Column::right("obs", |s| s.observations.to_string()),
        Column::right("peak kts", |s| s.peak_wind_kts.to_string()),
        Column::right("min mb", |s| {
            s.min_pressure.map_or("-".into(), |p| p.to_string())
        }),
        Column::left("peak cat", |s| s.peak_cat.clone()),
    ]
}

pub fn query(db: &Db, args: &QueryArgs) -> Result<()> {
    let filter = Filter::from(args.filter.clone());
    let page = db.read(|conn| queries::search(conn, &filter))?;
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
    #[command(flatten)]
    pub filter: crate::args::StormFilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn storms(db: &Db, args: &StormsArgs) -> Result<()> {
    let filter = StormFilter::from(args.filter.clone());
    let rows = db.read(|conn| queries::storms(conn, &filter))?;
    let format = args.output.format();
    emit(&rows, &storm_columns(), format)?;
    summary(format, &format!("storms: {} rows", rows.len()));
    Ok(())
}

pub fn track(db: &Db, btid: i16, output: OutputArgs) -> Result<()> {
    let rows = db.read(|conn| queries::by_btid(conn, btid))?;
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
    let (place, radius) = (queries::Place::new(lat, lon)?, queries::Radius::km(km)?);
    let rows = db.read(|conn| queries::storms_near(conn, place, radius))?;
    let columns: Vec<Column<NearStorm>> = vec![
        Column::right("btid", |s| s.btid.to_string()),
        Column::left("name", |s| s.name.clone()),
        Column::right("year", |s| s.year.to_string()),
        Column::left("basin", |s| s.basin.clone()),
        Column::right("closest km", |s| format!("{:.1}", s.closest_km)),
        Column::right("fid", |s| s.fid.to_string()),
        Column::right("wind kts", |s| s.wind_kts.to_string()),
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

/// `hurricane-db landfalls`: storms and their landfall records.
#[derive(Args, Debug, Clone)]
pub struct LandfallsArgs {
    #[command(flatten)]
    pub filter: crate::args::LandfallArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// One printed line: a landfall with its storm.
#[derive(serde::Serialize)]
struct LandfallLine {
    btid: i16,
    atcf_id: Option<String>,
    name: String,
    year: i32,
    basin: String,
    #[serde(flatten)]
    landfall: queries::Landfall,
}

pub fn landfalls(db: &Db, args: &LandfallsArgs) -> Result<()> {
    let filter = queries::LandfallFilter::from(args.filter.clone());
    let storms = db.read(|conn| queries::landfalls(conn, &filter))?;
    let lines: Vec<LandfallLine> = storms
        .iter()
        .flat_map(|s| {
            s.landfalls.iter().map(|l| LandfallLine {
                btid: s.btid,
                atcf_id: s.atcf_id.clone(),
                name: s.name.clone(),
                year: s.year,
                basin: s.basin.clone(),
                landfall: l.clone(),
            })
        })
        .collect();
    let columns: Vec<Column<LandfallLine>> = vec![
        Column::right("btid", |l| l.btid.to_string()),
        Column::left("atcf id", |l| {
            l.atcf_id.clone().unwrap_or_else(|| "-".into())
        }),
        Column::left("name", |l| l.name.clone()),
        Column::left("basin", |l| l.basin.clone()),
        Column::left("landfall (UTC)", |l| {
            l.landfall.timestamp.format("%Y-%m-%d %H:%M").to_string()
        }),
        Column::right("lat", |l| coord(&l.landfall.lat)),
        Column::right("long", |l| coord(&l.landfall.long)),
        Column::right("wind kts", |l| l.landfall.wind_kts.to_string()),
        Column::right("mb", |l| {
            l.landfall.pressure.map_or("-".into(), |p| p.to_string())
        }),
        Column::left("cat", |l| l.landfall.cat.clone()),
    ];
    let format = args.output.format();
    emit(&lines, &columns, format)?;
    summary(
        format,
        &format!(
            "landfalls: {} landfall{} of {} storm{}",
            lines.len(),
            if lines.len() == 1 { "" } else { "s" },
            storms.len(),
            if storms.len() == 1 { "" } else { "s" }
        ),
    );
    Ok(())
}
