//! The reference tables `categories` and `basins`.

use diesel::pg::PgConnection;
use diesel::prelude::*;

use crate::error::Result;
use crate::models::{BasinRow, CategoryRow};
use crate::schema::{basins, categories};

/// Every category code with its meaning (the `categories` table), by code. Readers
/// and writers may read it; the codes are the only values `hurricanes.cat` accepts.
pub fn categories(conn: &mut PgConnection) -> Result<Vec<CategoryRow>> {
    Ok(categories::table
        .order(categories::code)
        .select(CategoryRow::as_select())
        .load(conn)?)
}

/// Every basin (the `basins` table), by name: the only values `hurricanes.basin` accepts.
pub fn basins(conn: &mut PgConnection) -> Result<Vec<BasinRow>> {
    Ok(basins::table
        .order(basins::name)
        .select(BasinRow::as_select())
        .load(conn)?)
}
