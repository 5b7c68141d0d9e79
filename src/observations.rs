//! Attributed single-observation writes, so every service does not rewrite them.
//!
//! The free functions run on a connection inside the caller's transaction (a
//! [`crate::Session`]'s, say); the `Db` methods wrap them in one attributed
//! transaction each. Values are checked before any connection is taken.

use diesel::pg::PgConnection;
use diesel::prelude::*;

use crate::error::{Error, Result};
use crate::models::{Hurricane, HurricaneChanges, NewHurricane};
use crate::schema::hurricanes;

/// Inserts one observation on `conn`. Call [`NewHurricane::validate`] first.
pub fn insert(conn: &mut PgConnection, new: &NewHurricane) -> Result<Hurricane> {
    Ok(diesel::insert_into(hurricanes::table)
        .values(new)
        .returning(Hurricane::as_returning())
        .get_result(conn)?)
}

/// Applies `changes` to observation `fid` on `conn`; [`Error::NotFound`] if there is
/// none. Call [`HurricaneChanges::validate`] first.
pub fn update(conn: &mut PgConnection, fid: i32, changes: &HurricaneChanges) -> Result<Hurricane> {
    diesel::update(hurricanes::table.find(fid))
        .set(changes)
        .returning(Hurricane::as_returning())
        .get_result(conn)
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("observation with FID {fid}")))
}

/// Deletes observation `fid` on `conn`; [`Error::NotFound`] if there is none.
pub fn delete(conn: &mut PgConnection, fid: i32) -> Result<()> {
    match diesel::delete(hurricanes::table.find(fid)).execute(conn)? {
        0 => Err(Error::NotFound(format!("observation with FID {fid}"))),
        _ => Ok(()),
    }
}
