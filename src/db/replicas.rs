//! Reads on streaming standbys.
//!
//! `HURRICANE_DB_READ_URLS` (or [`crate::DbBuilder::read_urls`]) lists standbys; each
//! gets its own pool. A read goes to "its" standby (threads keep their affinity, as
//! in the pool), and a standby that fails to connect is skipped for a few seconds.
//! With none left, reads run on the primary in a READ ONLY transaction. Writes,
//! loads, user management and migrations always go to the writer (`DATABASE_URL`).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::pool::{ConnPool, PooledConn};
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
}

impl Replicas {
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
