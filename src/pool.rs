//! The connection pool: r2d2 with a connection manager that knows when a connection
//! is dead, shares its background threads, and logs each failure once, masked.
//!
//! Why not Diesel's `ConnectionManager` as it is:
//! - It opens connections with no timeout and whatever settings the URL has; ours adds
//!   `connect_timeout`, `application_name`, `statement_timeout` and the statement-cache
//!   choice to every connection.
//! - It only discards a connection whose transaction state is broken. A connection to a
//!   restarted server that fails while *preparing* a new statement keeps a clean state,
//!   goes back to the pool, and fails again for the next caller. Ours watches every
//!   query through Diesel's instrumentation: a connection-level failure marks that
//!   connection dead (r2d2 discards it on return) and makes every other idle connection
//!   suspect, so each is pinged once on its next checkout.
//! - Each r2d2 pool starts its own 3 threads; all pools of a process share one
//!   2-thread scheduler here.
//! - r2d2's default error handler prints libpq's raw message (URLs and all) on every
//!   retry; ours masks secrets and repeats a message at most every 30 s.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use diesel::connection::{
    AnsiTransactionManager, CacheSize, Instrumentation, InstrumentationEvent, SimpleConnection,
    TransactionManager,
};
use diesel::pg::PgConnection;
use diesel::r2d2::R2D2Connection;
use diesel::Connection;
use r2d2::{HandleError, ManageConnection, Pool, PooledConnection};
use scheduled_thread_pool::ScheduledThreadPool;

use crate::error::{is_connection_failure, Error, Result};
use crate::mask::mask_secrets;

/// A connection checked out of the pool. It derefs to [`PgConnection`] and is itself a
/// Diesel connection, so `query.load(&mut conn)` works as it does on a `PgConnection`.
/// Dropping it gives it back (a dead or mid-transaction connection is discarded).
pub type PooledConn = PooledConnection<Manager>;

/// The pool's health, shared by the manager and every connection's watcher.
#[derive(Debug, Default)]
struct Health {
    /// Bumped whenever any connection fails for a connection-level reason: connections
    /// verified in an older epoch are pinged before they are handed out again.
    epoch: AtomicU64,
}

/// Opens, checks and discards connections for r2d2.
#[derive(Debug)]
pub struct Manager {
    conninfo: String,
    statement_timeout: Option<Duration>,
    statement_cache: bool,
    health: Arc<Health>,
}

/// What a connection's instrumentation remembers about it.
#[derive(Debug)]
struct Watch {
    health: Arc<Health>,
    /// The pool's epoch when this connection was last known to work.
    verified: u64,
    dead: Arc<AtomicBool>,
}

impl Instrumentation for Watch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery {
            error: Some(error), ..
        } = event
        {
            if is_connection_failure(error) {
                self.dead.store(true, Ordering::Release);
                self.health.epoch.fetch_add(1, Ordering::AcqRel);
            }
        }
    }
}

fn watch(conn: &mut PgConnection) -> Option<&mut Watch> {
    conn.instrumentation().downcast_mut::<Watch>()
}

impl Manager {
    pub(crate) fn new(
        conninfo: String,
        statement_timeout: Option<Duration>,
        statement_cache: bool,
    ) -> Manager {
        Manager {
            conninfo,
            statement_timeout,
            statement_cache,
            health: Arc::default(),
        }
    }

    /// Opens one connection now, with no retry: how a pool proves its URL at start.
    pub(crate) fn connect_once(&self) -> std::result::Result<PgConnection, diesel::r2d2::Error> {
        self.connect()
    }
}

impl ManageConnection for Manager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> std::result::Result<PgConnection, Self::Error> {
        use diesel::r2d2::Error as E;
        let mut conn = PgConnection::establish(&self.conninfo).map_err(E::ConnectionError)?;
        if !self.statement_cache {
            conn.set_prepared_statement_cache_size(CacheSize::Disabled);
        }
        if let Some(timeout) = self.statement_timeout {
            conn.batch_execute(&format!(
                "SET statement_timeout = {}",
                timeout.as_millis().max(1)
            ))
            .map_err(E::QueryError)?;
        }
        conn.set_instrumentation(Watch {
            health: Arc::clone(&self.health),
            verified: self.health.epoch.load(Ordering::Acquire),
            dead: Arc::default(),
        });
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut PgConnection) -> std::result::Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        std::thread::panicking()
            || AnsiTransactionManager::is_broken_transaction_manager(conn)
            || watch(conn).is_some_and(|w| w.dead.load(Ordering::Acquire))
    }
}

/// Marks a checked-out connection as not to be reused: r2d2 closes it on return.
pub(crate) fn discard(conn: &mut PgConnection) {
    if let Some(w) = watch(conn) {
        w.dead.store(true, Ordering::Release);
    }
    AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error();
}

/// Logs r2d2's connection errors through `tracing`, masked, each distinct message at
/// most once every 30 s (r2d2 retries a failing connect many times a second).
#[derive(Debug, Default)]
struct QuietErrors {
    last: Mutex<Option<(String, Instant)>>,
}

impl HandleError<diesel::r2d2::Error> for QuietErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        let message = mask_secrets(error.to_string().trim());
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let repeat = last
            .as_ref()
            .is_some_and(|(m, at)| *m == message && at.elapsed() < Duration::from_secs(30));
        if !repeat {
            tracing::warn!(target: "hurricane_db::pool", "opening a connection failed: {message}");
            *last = Some((message, Instant::now()));
        }
    }
}

/// The process's one scheduler for r2d2's background work (opening connections to
/// keep `min_idle`, closing idle ones): 2 threads however many pools and connections.
fn shared_scheduler() -> Arc<ScheduledThreadPool> {
    static SCHEDULER: OnceLock<Arc<ScheduledThreadPool>> = OnceLock::new();
    Arc::clone(SCHEDULER.get_or_init(|| {
        Arc::new(
            ScheduledThreadPool::builder()
                .num_threads(2)
                .thread_name_pattern("hurricane-db-pool-{}")
                .build(),
        )
    }))
}

/// Pool sizes and timeouts, as [`crate::DbOptions`] gives them.
pub(crate) struct PoolConfig {
    pub size: u32,
    pub checkout_timeout: Duration,
    pub idle_timeout: Option<Duration>,
}

/// The pool and the health record its connections share.
pub(crate) struct ConnPool {
    pool: Pool<Manager>,
    health: Arc<Health>,
}

impl ConnPool {
    /// Builds the pool without opening anything (the caller has proved the URL).
    pub(crate) fn build(manager: Manager, config: &PoolConfig) -> ConnPool {
        let health = Arc::clone(&manager.health);
        let pool = Pool::builder()
            .max_size(config.size.max(1))
            .min_idle(Some(0))
            .connection_timeout(config.checkout_timeout)
            .idle_timeout(config.idle_timeout)
            // A checkout must not cost a round trip: connections are pinged only when
            // another connection of this pool has failed since (see `Health`).
            .test_on_check_out(false)
            .error_handler(Box::new(QuietErrors::default()))
            .thread_pool(shared_scheduler())
            .build_unchecked(manager);
        ConnPool { pool, health }
    }

    /// A connection known to work as far as the pool can tell without a round trip.
    /// After any connection failure in this pool, each connection is pinged once
    /// before its next use; dead ones are discarded and replaced.
    pub(crate) fn get(&self) -> Result<PooledConn> {
        let deadline = Instant::now() + self.pool.connection_timeout();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let mut conn = self
                .pool
                .get_timeout(left.max(Duration::from_millis(1)))
                .map_err(|e| pool_error(&e, self.pool.max_size()))?;
            let epoch = self.health.epoch.load(Ordering::Acquire);
            let Some(w) = watch(&mut conn) else {
                return Ok(conn);
            };
            if w.verified >= epoch {
                return Ok(conn);
            }
            if conn.ping().is_ok() {
                if let Some(w) = watch(&mut conn) {
                    w.verified = epoch;
                }
                return Ok(conn);
            }
            discard(&mut conn);
            drop(conn);
            if Instant::now() >= deadline {
                return Err(Error::PoolTimeout(
                    "no live connection within the checkout timeout".into(),
                ));
            }
        }
    }

    /// Open and idle connections.
    pub(crate) fn state(&self) -> PoolState {
        let s = self.pool.state();
        PoolState {
            connections: s.connections,
            idle: s.idle_connections,
            max_size: self.pool.max_size(),
        }
    }
}

fn pool_error(e: &r2d2::Error, size: u32) -> Error {
    let detail = e.to_string();
    // r2d2 appends the last connect error when a new connection could not be opened.
    if detail.contains("timed out waiting for connection:") {
        Error::Connection(format!(
            "no connection could be opened: {}",
            mask_secrets(detail.trim_start_matches("timed out waiting for connection: "))
        ))
    } else {
        Error::PoolTimeout(format!("all {size} connections stayed busy"))
    }
}

/// How many connections a pool holds. See [`crate::Db::pool_state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolState {
    /// Connections open now (busy and idle).
    pub connections: u32,
    /// Open connections waiting in the pool.
    pub idle: u32,
    /// The most the pool opens.
    pub max_size: u32,
}
