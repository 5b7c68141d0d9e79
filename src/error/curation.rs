//! Why a curation (a multi-row correction) was refused.

use chrono::{DateTime, Utc};

use super::Error;

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

impl From<CurationError> for Error {
    fn from(e: CurationError) -> Self {
        Error::Curation(e)
    }
}
