//! r2d2, partitioned so that each thread keeps finding the same connection.
//!
//! One r2d2 pool hands out whichever connection came back last, so two threads keep
//! swapping connections (and the server processes behind them). Measured with
//! `examples/bench_read.rs` on a 2-core machine, two threads doing fid lookups ran at
//! 21k/s through one shared pool and at 35k/s with a connection each (pgbench: 39k/s).
//! So the pool is `pool_size` r2d2 pools of one connection each: a thread first tries
//! "its" partition, then any idle one, and only then waits for the first to come back.
//! r2d2 still opens, checks and recycles every connection.

use std::cell::Cell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};

use crate::error::{mask_secrets, Error, Result};

type Manager = ConnectionManager<PgConnection>;

static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's preferred partition (before `% partitions`): threads number
    /// themselves in order of first use, so N threads spread over N partitions.
    static THREAD_SLOT: Cell<Option<usize>> = const { Cell::new(None) };
}

fn thread_slot() -> usize {
    THREAD_SLOT.with(|slot| {
        slot.get().unwrap_or_else(|| {
            let n = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
            slot.set(Some(n));
            n
        })
    })
}

/// The partitions and a signal for "a connection came back".
pub(crate) struct AffinePool {
    parts: Vec<Pool<Manager>>,
    timeout: Duration,
    /// Threads waiting for a connection; returns skip the signal when there are none.
    waiters: AtomicUsize,
    returned: Mutex<u64>,
    wake: Condvar,
}

impl AffinePool {
    /// Builds `size` single-connection partitions. The first connection is opened now,
    /// so a wrong URL fails here; the others open on first demand.
    pub(crate) fn build(
        url: &str,
        size: u32,
        timeout: Duration,
        idle_timeout: Option<Duration>,
    ) -> std::result::Result<AffinePool, r2d2::Error> {
        let parts = (0..size.max(1))
            .map(|i| {
                Pool::builder()
                    .max_size(1)
                    .min_idle(Some(u32::from(i == 0)))
                    .connection_timeout(timeout)
                    .idle_timeout(idle_timeout)
                    // A checkout must not cost a round trip; a broken connection shows
                    // up as an error on first use and Diesel's manager then drops it.
                    .test_on_check_out(false)
                    .build(Manager::new(url))
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(AffinePool {
            parts,
            timeout,
            waiters: AtomicUsize::new(0),
            returned: Mutex::new(0),
            wake: Condvar::new(),
        })
    }

    /// (open connections, idle connections) over all partitions.
    pub(crate) fn state(&self) -> (u32, u32) {
        self.parts.iter().fold((0, 0), |(c, i), p| {
            let s = p.state();
            (c + s.connections, i + s.idle_connections)
        })
    }

    /// A connection: this thread's own if idle, else any idle one, else the first to
    /// come back within the timeout.
    pub(crate) fn get(self: &Arc<Self>) -> Result<PooledConn> {
        let first = thread_slot() % self.parts.len();
        if let Some(found) = self.scan(first) {
            return found;
        }
        // Everything is busy: wait for a return. Registering as a waiter before the
        // rescan means a connection returned meanwhile is either seen by the rescan or
        // signalled.
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let result = self.wait(first);
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        result
    }

    /// An idle connection, preferring partition `first`; `None` if all are busy.
    fn scan(self: &Arc<Self>, first: usize) -> Option<Result<PooledConn>> {
        let n = self.parts.len();
        for k in 0..n {
            let part = &self.parts[(first + k) % n];
            if let Some(conn) = part.try_get() {
                return Some(Ok(self.wrap(conn)));
            }
            if part.state().connections == 0 {
                // Never opened (or closed while idle): open it now, within the timeout.
                return Some(
                    part.get()
                        .map(|conn| self.wrap(conn))
                        .map_err(|e| Error::PoolTimeout(mask_secrets(&e.to_string()))),
                );
            }
        }
        None
    }

    fn wait(self: &Arc<Self>, first: usize) -> Result<PooledConn> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let seen = *self.returned.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(found) = self.scan(first) {
                return found;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::PoolTimeout(format!(
                    "all {} connections stayed busy for {:.1} s",
                    self.parts.len(),
                    self.timeout.as_secs_f64()
                )));
            }
            let guard = self.returned.lock().unwrap_or_else(|e| e.into_inner());
            let _ = self
                .wake
                .wait_timeout_while(guard, left, |count| *count == seen)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    fn wrap(self: &Arc<Self>, conn: PooledConnection<Manager>) -> PooledConn {
        PooledConn {
            conn: Some(conn),
            pool: Arc::clone(self),
        }
    }
}

/// A connection checked out of the pool; derefs to [`PgConnection`]. Dropping it gives
/// the connection back (r2d2 discards it instead if it is broken or mid-transaction).
pub struct PooledConn {
    conn: Option<PooledConnection<Manager>>,
    pool: Arc<AffinePool>,
}

impl Deref for PooledConn {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        // `conn` is only None inside drop.
        self.conn
            .as_deref()
            .unwrap_or_else(|| unreachable!("used after drop"))
    }
}

impl DerefMut for PooledConn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.conn
            .as_deref_mut()
            .unwrap_or_else(|| unreachable!("used after drop"))
    }
}

impl Drop for PooledConn {
    fn drop(&mut self) {
        drop(self.conn.take());
        if self.pool.waiters.load(Ordering::SeqCst) > 0 {
            let mut count = self.pool.returned.lock().unwrap_or_else(|e| e.into_inner());
            *count = count.wrapping_add(1);
            self.pool.wake.notify_one();
        }
    }
}
