//! The command line's flags for the library's filter types. The library's types know
//! nothing of clap; each flag set here converts into one of them.

use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use hurricane_db::export::ExportFilter;
use hurricane_db::ingest::CopyFormat;
use hurricane_db::queries::{self, Filter, LandfallFilter, Order, StormFilter};
use hurricane_db::roles::Role;

fn parse_time_arg(text: &str) -> Result<DateTime<Utc>, String> {
    queries::parse_time(text).map_err(|e| e.to_string())
}

/// `hurricane-db query`'s filter flags (see [`Filter`]).
#[derive(Debug, Clone, Args)]
pub struct FilterArgs {
    /// Storm name, case-insensitive; `*` matches any run of characters, `?` one.
    #[arg(long)]
    pub name: Option<String>,
    /// Observations at or after this time: RFC 3339 (2005-08-25T06:00:00Z) or a plain
    /// date (2005-08-25, meaning 00:00 UTC).
    #[arg(long, value_parser = parse_time_arg)]
    pub time_from: Option<DateTime<Utc>>,
    /// Observations at or before this time (same forms).
    #[arg(long, value_parser = parse_time_arg)]
    pub time_to: Option<DateTime<Utc>>,
    /// First year included.
    #[arg(long)]
    pub year_from: Option<i32>,
    /// Last year included.
    #[arg(long)]
    pub year_to: Option<i32>,
    /// Any of these basins (repeat --basin for several).
    #[arg(long = "basin")]
    pub basins: Vec<String>,
    /// Any of these categories: H1..H5, TS, TD, ... (repeat --cat for several).
    #[arg(long = "cat")]
    pub cats: Vec<String>,
    /// Lowest wind speed included, knots.
    #[arg(long)]
    pub min_wind: Option<i16>,
    /// Highest wind speed included, knots.
    #[arg(long)]
    pub max_wind: Option<i16>,
    /// Lowest pressure included, millibars; excludes unmeasured observations.
    #[arg(long)]
    pub min_pressure: Option<i16>,
    /// Highest pressure included, millibars; excludes unmeasured observations.
    #[arg(long)]
    pub max_pressure: Option<i16>,
    /// Southern edge of a latitude/longitude box (inclusive), decimal degrees.
    #[arg(long, allow_hyphen_values = true)]
    pub lat_min: Option<BigDecimal>,
    /// Northern edge of the box, decimal degrees (north positive).
    #[arg(long, allow_hyphen_values = true)]
    pub lat_max: Option<BigDecimal>,
    /// Western edge of the box, decimal degrees (east positive); west > east crosses
    /// the date line.
    #[arg(long, allow_hyphen_values = true)]
    pub lon_min: Option<BigDecimal>,
    /// Eastern edge of the box, decimal degrees (east positive).
    #[arg(long, allow_hyphen_values = true)]
    pub lon_max: Option<BigDecimal>,
    /// One storm.
    #[arg(long)]
    pub btid: Option<i16>,
    /// Sort order of the results.
    #[arg(long, value_enum, default_value_t = OrderArg::TimeAsc)]
    pub order: OrderArg,
    /// Page size (default 100, at most 10,000).
    #[arg(long)]
    pub limit: Option<i64>,
    /// Rows to skip (simple paging); prefer --page-token for deep pages.
    #[arg(long)]
    pub offset: Option<i64>,
    /// Keyset paging: the `next_page` of the previous page (same filter and order).
    #[arg(long)]
    pub page_token: Option<String>,
}

impl From<FilterArgs> for Filter {
    fn from(a: FilterArgs) -> Filter {
        Filter {
            name: a.name,
            time_from: a.time_from,
            time_to: a.time_to,
            year_from: a.year_from,
            year_to: a.year_to,
            basins: a.basins,
            cats: a.cats,
            min_wind: a.min_wind,
            max_wind: a.max_wind,
            min_pressure: a.min_pressure,
            max_pressure: a.max_pressure,
            lat_min: a.lat_min,
            lat_max: a.lat_max,
            lon_min: a.lon_min,
            lon_max: a.lon_max,
            btid: a.btid,
            order: a.order.into(),
            limit: a.limit,
            offset: a.offset,
            page_token: a.page_token,
        }
    }
}

/// Sort order of `hurricane-db query` (see [`Order`]).
#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum OrderArg {
    /// Earliest first.
    TimeAsc,
    /// Latest first.
    TimeDesc,
    /// Weakest wind first.
    WindAsc,
    /// Strongest wind first.
    WindDesc,
    /// Lowest pressure first; unmeasured last.
    PressureAsc,
    /// Highest pressure first; unmeasured last.
    PressureDesc,
}

impl From<OrderArg> for Order {
    fn from(o: OrderArg) -> Order {
        match o {
            OrderArg::TimeAsc => Order::TimeAsc,
            OrderArg::TimeDesc => Order::TimeDesc,
            OrderArg::WindAsc => Order::WindAsc,
            OrderArg::WindDesc => Order::WindDesc,
            OrderArg::PressureAsc => Order::PressureAsc,
            OrderArg::PressureDesc => Order::PressureDesc,
        }
    }
}

/// `hurricane-db storms`' filter flags (see [`StormFilter`]).
#[derive(Debug, Clone, Args)]
pub struct StormFilterArgs {
    /// Storm name, case-insensitive, `*` and `?` wildcards.
    #[arg(long)]
    pub name: Option<String>,
    /// First year included (year of the storm's first observation).
    #[arg(long)]
    pub year_from: Option<i32>,
    /// Last year included.
    #[arg(long)]
    pub year_to: Option<i32>,
    /// Any of these basins (repeat --basin for several).
    #[arg(long = "basin")]
    pub basins: Vec<String>,
    /// Storms whose peak wind reached this many knots.
    #[arg(long)]
    pub min_wind: Option<i16>,
    /// How many storms (default 100, at most 10,000).
    #[arg(long = "top")]
    pub limit: Option<i64>,
    /// Storms to skip (paging).
    #[arg(long)]
    pub offset: Option<i64>,
}

impl From<StormFilterArgs> for StormFilter {
    fn from(a: StormFilterArgs) -> StormFilter {
        StormFilter {
            name: a.name,
            year_from: a.year_from,
            year_to: a.year_to,
            basins: a.basins,
            min_wind: a.min_wind,
            limit: a.limit,
            offset: a.offset,
        }
    }
}

/// `hurricane-db landfalls`' flags (see [`LandfallFilter`]).
#[derive(Debug, Clone, Args)]
pub struct LandfallArgs {
    /// Storms of this year (year of the storm's first observation).
    #[arg(long)]
    pub year: Option<i32>,
    /// Storms of this basin (`North Atlantic`, `Eastern Pacific`; any case).
    #[arg(long)]
    pub basin: Option<String>,
    /// Landfalls at this category or stronger: TD, TS, H1..H5 (any case).
    #[arg(long)]
    pub min_cat: Option<String>,
}

impl From<LandfallArgs> for LandfallFilter {
    fn from(a: LandfallArgs) -> LandfallFilter {
        LandfallFilter {
            year: a.year,
            basin: a.basin,
            min_cat: a.min_cat,
        }
    }
}

/// `hurricane-db export`'s selection flags (see [`ExportFilter`]).
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Storms of this basin (`North Atlantic`, `Eastern Pacific`; any case).
    #[arg(long)]
    pub basin: Option<String>,
    /// First year included (year of the storm's first observation).
    #[arg(long)]
    pub year_from: Option<i32>,
    /// Last year included.
    #[arg(long)]
    pub year_to: Option<i32>,
    /// Only this storm (BTID); repeat for several.
    #[arg(long = "btid", value_name = "BTID")]
    pub btids: Vec<i16>,
    /// Storms of this name (`*` and `?` are wildcards, any case).
    #[arg(long)]
    pub name: Option<String>,
    /// Storms whose peak wind reached this many knots.
    #[arg(long)]
    pub min_wind: Option<i16>,
}

impl From<ExportArgs> for ExportFilter {
    fn from(a: ExportArgs) -> ExportFilter {
        ExportFilter {
            basin: a.basin,
            year_from: a.year_from,
            year_to: a.year_to,
            btids: a.btids,
            name: a.name,
            min_wind: a.min_wind,
        }
    }
}

/// `--role` of `hurricane-db user add` (see [`Role`]).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// SELECT, INSERT, UPDATE: loads and edits, never deletes.
    Writer,
    /// SELECT only: analysts.
    Reader,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Writer => Role::Writer,
            RoleArg::Reader => Role::Reader,
        }
    }
}

/// `--format` of `hurricane-db load` (see [`CopyFormat`]).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CopyFormatArg {
    /// PostgreSQL's binary COPY format.
    Binary,
    /// The tab-separated text format (the default: measured faster on this schema).
    Text,
}

impl From<CopyFormatArg> for CopyFormat {
    fn from(f: CopyFormatArg) -> CopyFormat {
        match f {
            CopyFormatArg::Binary => CopyFormat::Binary,
            CopyFormatArg::Text => CopyFormat::Text,
        }
    }
}
