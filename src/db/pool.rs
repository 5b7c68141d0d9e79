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

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use diesel::connection::{
    AnsiTransactionManager, CacheSize, Instrumentation, InstrumentationEvent, SimpleConnection,
    TransactionManager,
};
use diesel::pg::PgConnection;
use diesel::r2d2::R2D2Connection;
use diesel::Connection;
use r2d2::event::CheckinEvent;
use r2d2::{HandleError, HandleEvent, ManageConnection, Pool, PooledConnection};
use scheduled_thread_pool::ScheduledThreadPool;

use crate::error::{is_connection_failure, Error, Result};
use crate::mask::mask_secrets;

/// A connection checked out of the pool. It derefs to [`PgConnection`] and is itself a
/// Diesel connection, so `query.load(&mut conn)` works as it does on a `PgConnection`.
/// Dropping it gives it back (a dead or mid-transaction connection is discarded).
pub type PooledConn = PooledConnection<SharedManager>;

/// The pool's health, shared by the manager and every connection's watcher.
#[derive(Debug, Default)]
struct Health {
    /// Bumped whenever any connection fails for a connection-level reason: connections
    /// verified in an older epoch are pinged before they are handed out again.
    epoch: AtomicU64,
}

/// Opens, checks and discards connections for r2d2.
pub struct Manager {
    conninfo: String,
    statement_timeout: Option<Duration>,
    statement_cache: bool,
    health: Arc<Health>,
    /// The connection that proved the URL, kept for the pool's first connect instead
    /// of closed and opened again: one connection set-up less (authentication, TLS,
    /// a server process) for every program that opens a `Db`.
    spare: Mutex<Option<(PgConnection, Instant)>>,
}

/// A spare older than this is closed rather than handed out: the pool's own
/// connections are fresh, and so should its first one be.
const SPARE_FOR: Duration = Duration::from_secs(10);

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection string holds the password: never printed.
        f.debug_struct("Manager")
            .field("statement_timeout", &self.statement_timeout)
            .field("statement_cache", &self.statement_cache)
            .finish_non_exhaustive()
    }
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
            spare: Mutex::new(None),
        }
    }

    /// Opens one connection now, with no retry: how a pool proves its URL at start.
    /// The connection is kept for the pool's first checkout.
    pub(crate) fn connect_once(&self) -> std::result::Result<(), diesel::r2d2::Error> {
        let conn = self.open()?;
        *self.spare.lock().unwrap_or_else(|e| e.into_inner()) = Some((conn, Instant::now()));
        Ok(())
    }

    /// The kept connection if it is still young, else a new one.
    fn take_or_open(&self) -> std::result::Result<PgConnection, diesel::r2d2::Error> {
        let spare = self.spare.lock().unwrap_or_else(|e| e.into_inner()).take();
        match spare {
            Some((conn, opened)) if opened.elapsed() < SPARE_FOR => Ok(conn),
            _ => self.open(),
        }
    }

    /// A new connection with this pool's settings, watched for connection failures.
    fn open(&self) -> std::result::Result<PgConnection, diesel::r2d2::Error> {
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
}

impl ManageConnection for Manager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> std::result::Result<PgConnection, Self::Error> {
        self.take_or_open()
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

/// One [`Manager`] shared by every partition of a pool.
#[derive(Debug)]
pub struct SharedManager(Arc<Manager>);

impl ManageConnection for SharedManager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> std::result::Result<PgConnection, Self::Error> {
        self.0.connect()
    }

    fn is_valid(&self, conn: &mut PgConnection) -> std::result::Result<(), Self::Error> {
        self.0.is_valid(conn)
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        self.0.has_broken(conn)
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
    /// The connection string, so that pieces of its password are masked too.
    conninfo: String,
}

impl HandleError<diesel::r2d2::Error> for QuietErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        let message = crate::mask::mask_password_of(error.to_string().trim(), &self.conninfo);
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

/// Pool sizes and timeouts, as [`crate::DbBuilder`] gives them.
pub(crate) struct PoolConfig {
    pub size: u32,
    pub checkout_timeout: Duration,
    pub idle_timeout: Option<Duration>,
}

static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's preferred partition (before `% partitions`): threads number
    /// themselves in order of first use, so N threads spread over N partitions.
    static THREAD_SLOT: Cell<Option<usize>> = const { Cell::new(None) };
}

pub(crate) fn thread_slot() -> usize {
    THREAD_SLOT.with(|slot| {
        slot.get().unwrap_or_else(|| {
            let n = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
            slot.set(Some(n));
            n
        })
    })
}

/// "A connection is coming back": wakes threads waiting for one when all are busy.
#[derive(Debug, Default)]
struct Returns {
    waiters: AtomicUsize,
    count: Mutex<u64>,
    cond: Condvar,
}

/// r2d2 tells us of every check-in (just before the connection is idle again).
#[derive(Debug)]
struct CheckinSignal(Arc<Returns>);

impl HandleEvent for CheckinSignal {
    fn handle_checkin(&self, _event: CheckinEvent) {
        if self.0.waiters.load(Ordering::SeqCst) > 0 {
            let mut count = self.0.count.lock().unwrap_or_else(|e| e.into_inner());
            *count = count.wrapping_add(1);
            self.0.cond.notify_one();
        }
    }
}

/// `size` r2d2 pools of one connection each, so that each thread keeps finding the
/// same connection (and the same server process). `benches/bench_read.rs` measures
/// it: two threads doing fid lookups through one plain r2d2 pool (its contrast case
/// "one plain r2d2 pool shared by the threads") ran at 0.74x of `db.observation`
/// here, which ran at 0.81-0.91x of pgbench. A thread
/// takes its own partition if idle, else any idle one, else the first that comes back.
/// All partitions share the pool-wide health record and the process's scheduler.
pub(crate) struct ConnPool {
    parts: Vec<Pool<SharedManager>>,
    health: Arc<Health>,
    returns: Arc<Returns>,
    timeout: Duration,
}

impl ConnPool {
    /// Builds the partitions without opening anything (the caller has proved the URL).
    pub(crate) fn build(manager: Manager, config: &PoolConfig) -> ConnPool {
        let manager = Arc::new(manager);
        let returns = Arc::<Returns>::default();
        let parts = (0..config.size.max(1))
            .map(|_| {
                Pool::builder()
                    .max_size(1)
                    .min_idle(Some(0))
                    .connection_timeout(config.checkout_timeout)
                    .idle_timeout(config.idle_timeout)
                    // A checkout must not cost a round trip: connections are pinged only
                    // when another connection of this pool has failed since (`Health`).
                    .test_on_check_out(false)
                    .error_handler(Box::new(QuietErrors {
                        conninfo: manager.conninfo.clone(),
                        ..QuietErrors::default()
                    }))
                    .event_handler(Box::new(CheckinSignal(Arc::clone(&returns))))
                    .thread_pool(shared_scheduler())
                    .build_unchecked(SharedManager(Arc::clone(&manager)))
            })
            .collect();
        ConnPool {
            parts,
            health: Arc::clone(&manager.health),
            returns,
            timeout: config.checkout_timeout,
        }
    }

    /// A connection known to work as far as the pool can tell without a round trip.
    /// After any connection failure in this pool, each connection is pinged once
    /// before its next use; dead ones are discarded and replaced.
    pub(crate) fn get(&self) -> Result<PooledConn> {
        let deadline = Instant::now() + self.timeout;
        let first = thread_slot() % self.parts.len();
        loop {
            let conn = match self.scan(first, deadline) {
                Some(found) => found?,
                None => {
                    // Everything is busy: wait for a check-in. Registering before the
                    // rescan means a connection returned meanwhile is either seen by
                    // the rescan or signalled.
                    self.returns.waiters.fetch_add(1, Ordering::SeqCst);
                    let found = self.wait(first, deadline);
                    self.returns.waiters.fetch_sub(1, Ordering::SeqCst);
                    found?
                }
            };
            if let Some(conn) = self.verified(conn) {
                return Ok(conn);
            }
            if Instant::now() >= deadline {
                return Err(Error::PoolTimeout(
                    "no live connection within the checkout timeout".into(),
                ));
            }
        }
    }

    /// An idle connection that is already open, without waiting; `None` when every
    /// open connection is busy.
    pub(crate) fn try_get(&self) -> Option<PooledConn> {
        let n = self.parts.len();
        let first = thread_slot() % n;
        (0..n)
            .filter_map(|k| self.parts[(first + k) % n].try_get())
            .find_map(|conn| self.verified(conn))
    }

    /// `conn` if it is known good or answers a ping; a dead one is discarded.
    fn verified(&self, mut conn: PooledConn) -> Option<PooledConn> {
        let epoch = self.health.epoch.load(Ordering::Acquire);
        match watch(&mut conn) {
            Some(w) if w.verified < epoch => {}
            _ => return Some(conn),
        }
        if conn.ping().is_ok() {
            if let Some(w) = watch(&mut conn) {
                w.verified = epoch;
            }
            return Some(conn);
        }
        discard(&mut conn);
        None
    }

    /// An idle connection, preferring partition `first`; a never-opened partition is
    /// opened now. `None` if all are busy.
    fn scan(&self, first: usize, deadline: Instant) -> Option<Result<PooledConn>> {
        let n = self.parts.len();
        for k in 0..n {
            let part = &self.parts[(first + k) % n];
            if let Some(conn) = part.try_get() {
                return Some(Ok(conn));
            }
            if part.state().connections == 0 {
                let left = deadline.saturating_duration_since(Instant::now());
                return Some(
                    part.get_timeout(left.max(Duration::from_millis(1)))
                        .map_err(|e| pool_error(&e, n as u32)),
                );
            }
        }
        None
    }

    fn wait(&self, first: usize, deadline: Instant) -> Result<PooledConn> {
        loop {
            let seen = *self.returns.count.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(found) = self.scan(first, deadline) {
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
            // The signal comes just before the connection is idle again: a waiter that
            // woke too early rescans within 2 ms rather than waiting for the next one.
            let guard = self.returns.count.lock().unwrap_or_else(|e| e.into_inner());
            let _ = self
                .returns
                .cond
                .wait_timeout_while(guard, left.min(Duration::from_millis(2)), |c| *c == seen)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// How long [`ConnPool::get`] waits for a connection.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Open and idle connections over all partitions.
    pub(crate) fn state(&self) -> PoolState {
        let (connections, idle) = self.parts.iter().fold((0, 0), |(c, i), p| {
            let s = p.state();
            (c + s.connections, i + s.idle_connections)
        });
        PoolState {
            connections,
            idle,
            max_size: self.parts.len() as u32,
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
