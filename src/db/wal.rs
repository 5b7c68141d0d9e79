//! WAL positions: what a commit flushed and whether a standby has replayed it.

use std::time::{Duration, Instant};

use diesel::pg::PgConnection;
use diesel::RunQueryDsl;

use crate::error::{Error, Result};

/// A WAL position (PostgreSQL's `pg_lsn`): where a [`crate::Session`]'s last commit
/// ends. Ordered; shown and parsed in PostgreSQL's text form, `16/B374D848`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lsn(pub(crate) u64);

impl std::str::FromStr for Lsn {
    type Err = Error;

    /// PostgreSQL's text form, `16/B374D848`; [`Error::InvalidInput`] otherwise.
    fn from_str(text: &str) -> Result<Lsn> {
        let bad = || Error::InvalidInput(format!("WAL position \"{text}\": expected X/Y in hex"));
        let (hi, lo) = text.trim().split_once('/').ok_or_else(bad)?;
        let hi = u32::from_str_radix(hi, 16).map_err(|_| bad())?;
        let lo = u32::from_str_radix(lo, 16).map_err(|_| bad())?;
        Ok(Lsn((u64::from(hi) << 32) | u64::from(lo)))
    }
}

impl std::fmt::Display for Lsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// The flush position of the server `conn` is on, right after a commit on it.
pub(crate) fn flush_lsn(conn: &mut PgConnection) -> Result<Lsn> {
    let text: String = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
        "pg_current_wal_flush_lsn()::text",
    ))
    .get_result(conn)?;
    text.parse()
}

/// Waits until the standby `conn` is on has replayed `lsn`, polling; false when
/// `wait` passed first.
pub(crate) fn wait_for_replay(conn: &mut PgConnection, lsn: Lsn, wait: Duration) -> Result<bool> {
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_micros(200);
    loop {
        let replayed: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "coalesce(pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn, true)"
        )))
        .get_result(conn)?;
        if replayed {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}
