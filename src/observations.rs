//! Attributed single-observation writes, so every service does not rewrite them.

use diesel::prelude::*;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::models::{Hurricane, HurricaneChanges, NewHurricane};
use crate::schema::hurricanes;

impl Db {
    /// Inserts one observation; the audit trail names `app_user`.
    /// A taken FID is [`Error::UniqueViolation`], an impossible value
    /// [`Error::CheckViolation`].
    pub fn insert_observation(&self, app_user: &str, new: &NewHurricane) -> Result<Hurricane> {
        // Refuse a bad value before a connection or a transaction is taken.
        new.validate()?;
        self.transaction_as(app_user, |conn| {
            Ok(diesel::insert_into(hurricanes::table)
                .values(new)
                .returning(Hurricane::as_returning())
                .get_result(conn)?)
        })
    }

    /// Applies `changes` to observation `fid`; the audit trail names `app_user` (and
    /// records nothing if the values were already those).
    pub fn update_observation(
        &self,
        app_user: &str,
        fid: i32,
        changes: &HurricaneChanges,
    ) -> Result<Hurricane> {
        if changes.is_empty() {
            return Err(Error::InvalidInput(
                "changes: expected at least one field to change".into(),
            ));
        }
        changes.validate()?;
        self.transaction_as(app_user, |conn| {
            diesel::update(hurricanes::table.find(fid))
                .set(changes)
                .returning(Hurricane::as_returning())
                .get_result(conn)
                .optional()?
                .ok_or_else(|| Error::NotFound(format!("observation with FID {fid}")))
        })
    }

    /// Deletes observation `fid`; the audit trail keeps its last values and names
    /// `app_user`. A writer login gets [`Error::PermissionDenied`].
    pub fn delete_observation(&self, app_user: &str, fid: i32) -> Result<()> {
        self.transaction_as(app_user, |conn| {
            match diesel::delete(hurricanes::table.find(fid)).execute(conn)? {
                0 => Err(Error::NotFound(format!("observation with FID {fid}"))),
                _ => Ok(()),
            }
        })
    }
}
