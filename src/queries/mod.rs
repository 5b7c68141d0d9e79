//! Typed questions analysts and services ask of the data.
//!
//! Every value reaches PostgreSQL as a bind parameter (Diesel's boxed queries), so a
//! name like `O'Brien'; DROP TABLE hurricanes; --` is only a name that matches nothing.

mod input;
mod landfalls;
mod near;
mod page;
mod reference;
mod search;
mod storms;

pub(crate) use input::like_pattern;
pub use input::{check_wind, check_year, parse_time, MAX_PATTERN_CHARS, MAX_WIND_KTS, YEARS};
pub use landfalls::{landfalls, Landfall, LandfallFilter, StormLandfalls};
pub use near::{explain_storms_near, storms_near, NearStorm, Place, Radius};
pub use page::{Order, Page, DEFAULT_LIMIT, MAX_LIMIT};
pub use reference::{basins, categories};
pub use search::{by_btid, by_fid, count, search, Filter};
pub use storms::{
    category_counts, storms, storms_per_basin, storms_per_year, strongest_storms, BasinCount,
    CategoryCount, StormFilter, YearBasinCount,
};
