//! Curation: multi-row corrections that must be all or nothing, and attributed.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::schema::hurricanes;

/// Why a curation was refused; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurationError {
    /// `from` and `to` are the same BTID.
    #[error("storm {0} cannot be reassigned to itself")]
    SameStorm(i16),
    /// No observation has this BTID.
    #[error("storm with BTID {0} does not exist")]
    StormNotFound(i16),
    /// The two storms are in different basins.
    #[error("storms {from} ({from_basin}) and {to} ({to_basin}) are in different basins")]
    BasinMismatch {
        /// BTID of the storm whose observations would move.
        from: i16,
        /// Its basin.
        from_basin: String,
        /// BTID of the storm that would receive them.
        to: i16,
        /// Its basin.
        to_basin: String,
    },
    /// The storm's observations are in more than one basin.
    #[error("storm {0} has observations in more than one basin")]
    MixedBasins(i16),
    /// The two storms' time spans (first to last observation, inclusive) overlap.
    #[error(
        "storms {from} ({from_first} .. {from_last}) and {to} ({to_first} .. {to_last}) overlap in time"
    )]
    TimesOverlap {
        /// BTID of the storm whose observations would move.
        from: i16,
        /// Its first observation, UTC.
        from_first: DateTime<Utc>,
        /// Its last observation, UTC.
        from_last: DateTime<Utc>,
        /// BTID of the storm that would receive them.
        to: i16,
        /// Its first observation, UTC.
        to_first: DateTime<Utc>,
        /// Its last observation, UTC.
        to_last: DateTime<Utc>,
    },
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

impl Db {
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

impl From<CurationError> for Error {
    fn from(e: CurationError) -> Self {
        Error::Curation(e)
    }
}
