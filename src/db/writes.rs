//! `Db`'s attributed writes: one transaction each, values checked first.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::error::CurationError;
use crate::error::Result;
use crate::models::{Hurricane, HurricaneChanges, NewHurricane};
use crate::observations::{delete, insert, update};
use crate::schema::hurricanes;

use super::Db;

impl Db {
    /// Inserts one observation; the audit trail names `app_user`.
    /// A taken FID is [`crate::Error::UniqueViolation`], an impossible value
    /// [`crate::Error::InvalidInput`] (checked here) or [`crate::Error::CheckViolation`], a `cat`
    /// or `basin` the reference tables do not list [`crate::Error::UnknownCode`] with the
    /// valid codes.
    pub fn insert_observation(&self, app_user: &str, new: &NewHurricane) -> Result<Hurricane> {
        // Refuse a bad value before a connection or a transaction is taken.
        new.validate()?;
        self.transaction_as(app_user, |conn| insert(conn, new))
    }

    /// Applies `changes` to observation `fid`; the audit trail names `app_user` (and
    /// records nothing if the values were already those).
    pub fn update_observation(
        &self,
        app_user: &str,
        fid: i32,
        changes: &HurricaneChanges,
    ) -> Result<Hurricane> {
        changes.validate()?;
        self.transaction_as(app_user, |conn| update(conn, fid, changes))
    }

    /// Deletes observation `fid`; the audit trail keeps its last values and names
    /// `app_user`. A writer login gets [`crate::Error::PermissionDenied`].
    pub fn delete_observation(&self, app_user: &str, fid: i32) -> Result<()> {
        self.transaction_as(app_user, |conn| delete(conn, fid))
    }

    /// Moves every observation of storm `from` to storm `to`, in one transaction whose
    /// audit rows name `app_user`. Refused (nothing changes) unless both storms exist,
    /// share a basin and do not overlap in time. Returns the number of rows moved.
    pub fn reassign_observations(&self, app_user: &str, from: i16, to: i16) -> Result<usize> {
        if from == to {
            return Err(CurationError::SameStorm(from).into());
        }
        self.transaction_as(app_user, |conn| {
            // Lock in BTID order so two opposite reassignments cannot deadlock.
            let (a, b) = (from.min(to), from.max(to));
            let (span_a, span_b) = (span(conn, a)?, span(conn, b)?);
            let (f, t) = if a == from {
                (span_a, span_b)
            } else {
                (span_b, span_a)
            };
            if f.basin != t.basin {
                return Err(CurationError::BasinMismatch {
                    from,
                    from_basin: f.basin,
                    to,
                    to_basin: t.basin,
                }
                .into());
            }
            if f.first <= t.last && t.first <= f.last {
                return Err(CurationError::TimesOverlap {
                    from,
                    from_first: f.first,
                    from_last: f.last,
                    to,
                    to_first: t.first,
                    to_last: t.last,
                }
                .into());
            }
            Ok(
                diesel::update(hurricanes::table.filter(hurricanes::btid.eq(from)))
                    .set(hurricanes::btid.eq(to))
                    .execute(conn)?,
            )
        })
    }
}

struct Span {
    basin: String,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
}

/// Locks a storm's rows and returns its basin and time span.
fn span(conn: &mut PgConnection, btid: i16) -> Result<Span> {
    let rows: Vec<(String, DateTime<Utc>)> = hurricanes::table
        .filter(hurricanes::btid.eq(btid))
        .select((hurricanes::basin, hurricanes::timestamp))
        .for_update()
        .load(conn)?;
    let (Some(first), Some(last)) = (
        rows.iter().map(|r| r.1).min(),
        rows.iter().map(|r| r.1).max(),
    ) else {
        return Err(CurationError::StormNotFound(btid).into());
    };
    let basin = rows[0].0.clone();
    if rows.iter().any(|r| r.0 != basin) {
        return Err(CurationError::MixedBasins(btid).into());
    }
    Ok(Span { basin, first, last })
}
