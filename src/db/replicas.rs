//! Reads on streaming standbys.
//!
//! `HURRICANE_DB_READ_URLS` (or [`crate::DbBuilder::read_urls`]) lists standbys; each
//! gets its own pool. A read goes to "its" standby (threads keep their affinity, as
//! in the pool), and a standby that fails to connect is skipped for a few seconds.
//! With none left, reads run on the primary in a READ ONLY transaction. Writes,
//! loads, user management and migrations always go to the writer (`DATABASE_URL`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::pool::{ConnPool, PooledConn};
use super::wal::Lsn;
use crate::error::Error;

/// How long a standby that failed to connect is left alone.
pub const SKIP_FOR: Duration = Duration::from_secs(5);

/// One standby: its pool, its masked URL, and until when it is skipped.
pub(crate) struct Replica {
    pub(crate) pool: ConnPool,
    pub(crate) server: String,
    skip_until: Mutex<Option<Instant>>,
}

impl Replica {
    pub(crate) fn new(pool: ConnPool, server: String, healthy: bool) -> Replica {
        Replica {
            pool,
            server,
            skip_until: Mutex::new((!healthy).then(|| Instant::now() + SKIP_FOR)),
        }
    }

    fn skipped(&self) -> bool {
        let guard = self.skip_until.lock().unwrap_or_else(|e| e.into_inner());
        guard.is_some_and(|until| Instant::now() < until)
    }

    fn skip(&self, why: &Error) {
        tracing::warn!(server = %self.server, "standby skipped for {} s: {why}", SKIP_FOR.as_secs());
        *self.skip_until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + SKIP_FOR);
    }
}

/// The standbys of a [`crate::Db`] (possibly none).
#[derive(Default)]
pub(crate) struct Replicas {
    pub(crate) list: Vec<Replica>,
    /// The highest WAL position the primary is known to have flushed (this process's
    /// commits, and reads of `pg_current_wal_flush_lsn()`): a read token beyond it
    /// names a write that does not exist (forged, or lost in a failover), and no
    /// standby wait can ever satisfy it.
    primary_known: AtomicU64,
    /// When `primary_known` was last read from the primary; one reader at a time.
    refreshed: Mutex<Option<Instant>>,
}

/// How often a token ahead of `primary_known` may cost a read of the primary's
/// position: a flood of forged tokens costs one small query per interval.
pub(crate) const REFRESH_EVERY: Duration = Duration::from_millis(10);

impl Replicas {
    pub(crate) fn new(list: Vec<Replica>) -> Replicas {
        Replicas {
            list,
            ..Replicas::default()
        }
    }

    /// Remembers a position the primary has flushed (after a commit).
    pub(crate) fn primary_flushed(&self, lsn: Lsn) {
        self.primary_known.fetch_max(lsn.0, Ordering::AcqRel);
    }

    /// Whether the primary has flushed `lsn`, reading its position (`read`) at most
    /// every [`REFRESH_EVERY`] when `lsn` is beyond what is known. `false` also when
    /// another thread is reading it right now or the read fails: the caller then
    /// reads on the primary, which is always correct.
    pub(crate) fn primary_has(&self, lsn: Lsn, read: impl FnOnce() -> crate::Result<Lsn>) -> bool {
        if lsn.0 <= self.primary_known.load(Ordering::Acquire) {
            return true;
        }
        let Ok(mut last) = self.refreshed.try_lock() else {
            return false;
        };
        if last.is_some_and(|t| t.elapsed() < REFRESH_EVERY) {
            return lsn.0 <= self.primary_known.load(Ordering::Acquire);
        }
        *last = Some(Instant::now());
        match read() {
            Ok(now) => {
                self.primary_flushed(now);
                lsn <= now
            }
            Err(e) => {
                tracing::debug!("reading the primary's WAL position failed: {e}");
                false
            }
        }
    }

    /// Like [`Replicas::conn`] but never waits: an idle, already open standby
    /// connection, or `None`.
    pub(crate) fn try_conn(&self) -> Option<(PooledConn, &Replica)> {
        let n = self.list.len();
        if n == 0 {
            return None;
        }
        let first = super::pool::thread_slot() % n;
        (0..n)
            .map(|k| &self.list[(first + k) % n])
            .filter(|r| !r.skipped())
            .find_map(|r| r.pool.try_get().map(|conn| (conn, r)))
    }

    /// A connection to a standby that is not being skipped, starting with this
    /// thread's; `None` when there are no standbys or none answers.
    pub(crate) fn conn(&self) -> Option<(PooledConn, &Replica)> {
        let n = self.list.len();
        if n == 0 {
            return None;
        }
        let first = super::pool::thread_slot() % n;
        for k in 0..n {
            let replica = &self.list[(first + k) % n];
            if replica.skipped() {
                continue;
            }
            match replica.pool.get() {
                Ok(conn) => return Some((conn, replica)),
                // A standby whose connections are all busy is loaded, not broken:
                // this read goes elsewhere, and the standby stays in use.
                Err(e @ Error::PoolTimeout(_)) => {
                    tracing::debug!(server = %replica.server, "standby busy: {e}");
                }
                Err(e) if e.is_unavailable() => replica.skip(&e),
                Err(e) => {
                    tracing::warn!(server = %replica.server, "standby checkout failed: {e}");
                }
            }
        }
        None
    }

    /// The masked URLs of the standbys.
    pub(crate) fn servers(&self) -> Vec<String> {
        self.list.iter().map(|r| r.server.clone()).collect()
    }
}
