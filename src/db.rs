//! The pooled session scope: every unit of work is a closure that commits or rolls back.
//!
//! r2d2 hands out connections; a connection returned with an open transaction would be
//! thrown away by the pool (diesel #2346), so [`Db::transaction`] always ends the
//! transaction itself, also when the closure panics, and then lets the panic go on.
//!
//! A transaction whose connection turns out dead at checkout or at `BEGIN` (a server
//! restart since it was last used) is started again on another connection: nothing
//! of the caller's ran yet, so that is always safe. A connection lost later is
//! reported, never retried here: [`Error::ConnectionLost`] before COMMIT (safe for the
//! caller to retry), [`Error::CommitOutcomeUnknown`] during it.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
use diesel::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config;
use crate::error::{is_connection_failure, Error, Result};
use crate::mask::mask_secrets;
use crate::pool::{discard, ConnPool, Manager, PoolConfig};
pub use crate::pool::{PoolState, PooledConn};
use crate::replicas::{Replica, Replicas};
use crate::session::{Lsn, Session};

/// The migrations in `migrations/`, compiled into the crate.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Pool and connection settings. Build with [`DbOptions::default`] or
/// [`DbOptions::from_env`] and the setters, so fields added later break no caller:
///
/// ```
/// use std::time::Duration;
/// let options = hurricane_db::DbOptions::default()
///     .pool_size(20)
///     .connect_timeout(Duration::from_secs(3))
///     .statement_timeout(Some(Duration::from_secs(30)));
/// assert_eq!(options.pool_size, 20);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DbOptions {
    /// Most connections the pool opens (`HURRICANE_DB_POOL_SIZE`, default 10).
    pub pool_size: u32,
    /// How long opening one connection may take, libpq's `connect_timeout`
    /// (`HURRICANE_DB_CONNECT_TIMEOUT_SECS`, default 5 s; libpq counts whole seconds,
    /// at least 2). A URL that sets `connect_timeout` itself keeps its own.
    pub connect_timeout: Duration,
    /// How long a checkout waits for a free connection before [`Error::PoolTimeout`]
    /// (`HURRICANE_DB_CHECKOUT_TIMEOUT_SECS`, default 5 s).
    pub checkout_timeout: Duration,
    /// Idle connections are closed after this long (`HURRICANE_DB_IDLE_TIMEOUT_SECS`,
    /// 0 = never; default 600 s).
    pub idle_timeout: Option<Duration>,
    /// `application_name` the server shows in `pg_stat_activity` and its logs
    /// (`HURRICANE_DB_APPLICATION_NAME`, default `hurricane-db`).
    pub application_name: String,
    /// Server-side limit for each statement (`HURRICANE_DB_STATEMENT_TIMEOUT_MS`,
    /// default none). Set once per connection when it opens.
    pub statement_timeout: Option<Duration>,
    /// Diesel's prepared-statement cache (`HURRICANE_DB_STATEMENT_CACHE=off` turns it
    /// off). Off is needed behind PgBouncer in transaction mode.
    pub statement_cache: bool,
    /// Streaming standbys for reads (`HURRICANE_DB_READ_URLS`: `postgresql://` URLs
    /// separated by whitespace; an entry may be a multi-host URL, hosts separated by
    /// commas). Empty: everything on the writer.
    pub read_urls: Vec<String>,
    /// Connections per standby pool (`HURRICANE_DB_READ_POOL_SIZE`, default: as
    /// `pool_size`).
    pub read_pool_size: Option<u32>,
    /// How long a [`Session`] read waits for a standby to replay the session's last
    /// commit before it reads on the primary (`HURRICANE_DB_RYW_WAIT_MS`, 0 to 60000,
    /// default 200).
    pub ryw_wait: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            pool_size: 10,
            connect_timeout: Duration::from_secs(5),
            checkout_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(600)),
            application_name: "hurricane-db".into(),
            statement_timeout: None,
            statement_cache: true,
            read_urls: Vec::new(),
            read_pool_size: None,
            ryw_wait: Duration::from_millis(200),
        }
    }
}

impl DbOptions {
    /// Defaults, overridden by `HURRICANE_DB_*` variables from the environment or
    /// `./.env` (see each field).
    pub fn from_env() -> Result<Self> {
        let mut options = DbOptions::default();
        if let Some(n) = config::number("HURRICANE_DB_POOL_SIZE")? {
            if n == 0 || n > 10_000 {
                return Err(Error::InvalidInput(format!(
                    "HURRICANE_DB_POOL_SIZE \"{n}\": expected 1 to 10000"
                )));
            }
            options.pool_size = n as u32;
        }
        if let Some(secs) = config::number("HURRICANE_DB_CONNECT_TIMEOUT_SECS")? {
            options.connect_timeout = Duration::from_secs(secs.max(1));
        }
        if let Some(secs) = config::number("HURRICANE_DB_CHECKOUT_TIMEOUT_SECS")? {
            options.checkout_timeout = Duration::from_secs(secs.max(1));
        }
        if let Some(secs) = config::number("HURRICANE_DB_IDLE_TIMEOUT_SECS")? {
            options.idle_timeout = (secs > 0).then(|| Duration::from_secs(secs));
        }
        if let Some(name) = config::var("HURRICANE_DB_APPLICATION_NAME")? {
            options.application_name = name;
        }
        if let Some(ms) = config::number("HURRICANE_DB_STATEMENT_TIMEOUT_MS")? {
            options.statement_timeout = (ms > 0).then(|| Duration::from_millis(ms));
        }
        if let Some(urls) = config::var("HURRICANE_DB_READ_URLS")? {
            options.read_urls = read_urls(&urls)?;
        }
        if let Some(n) = config::number("HURRICANE_DB_READ_POOL_SIZE")? {
            if n == 0 || n > 10_000 {
                return Err(Error::InvalidInput(format!(
                    "HURRICANE_DB_READ_POOL_SIZE \"{n}\": expected 1 to 10000"
                )));
            }
            options.read_pool_size = Some(n as u32);
        }
        if let Some(ms) = config::number("HURRICANE_DB_RYW_WAIT_MS")? {
            // Every session read may wait this long: past a minute is a typo (seconds
            // given as milliseconds, a stray digit), not a choice.
            if ms > MAX_RYW_WAIT_MS {
                return Err(Error::InvalidInput(format!(
                    "HURRICANE_DB_RYW_WAIT_MS \"{ms}\": expected 0 to {MAX_RYW_WAIT_MS}"
                )));
            }
            options.ryw_wait = Duration::from_millis(ms);
        }
        if let Some(value) = config::var("HURRICANE_DB_STATEMENT_CACHE")? {
            options.statement_cache = match value.trim().to_ascii_lowercase().as_str() {
                "on" | "true" | "1" => true,
                "off" | "false" | "0" => false,
                _ => {
                    return Err(Error::InvalidInput(format!(
                        "HURRICANE_DB_STATEMENT_CACHE \"{value}\": expected on or off"
                    )))
                }
            };
        }
        Ok(options)
    }

    /// Sets [`DbOptions::pool_size`].
    pub fn pool_size(mut self, n: u32) -> Self {
        self.pool_size = n;
        self
    }

    /// Sets [`DbOptions::connect_timeout`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`DbOptions::checkout_timeout`].
    pub fn checkout_timeout(mut self, timeout: Duration) -> Self {
        self.checkout_timeout = timeout;
        self
    }

    /// Sets [`DbOptions::idle_timeout`].
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`DbOptions::application_name`].
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = name.into();
        self
    }

    /// Sets [`DbOptions::statement_timeout`].
    pub fn statement_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// Sets [`DbOptions::read_urls`].
    pub fn read_urls(mut self, urls: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.read_urls = urls.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`DbOptions::ryw_wait`].
    pub fn ryw_wait(mut self, wait: Duration) -> Self {
        self.ryw_wait = wait;
        self
    }

    /// Sets [`DbOptions::statement_cache`].
    pub fn statement_cache(mut self, on: bool) -> Self {
        self.statement_cache = on;
        self
    }
}

/// Longest `HURRICANE_DB_RYW_WAIT_MS` accepted (one minute).
const MAX_RYW_WAIT_MS: u64 = 60_000;

/// The entries of `HURRICANE_DB_READ_URLS`: URLs separated by whitespace, each
/// `postgresql://` or `postgres://` (and so free of spaces; an entry may list several
/// hosts with commas). A `key=value` conninfo cannot be told apart from the separator,
/// and a bare `host:port` would be read by libpq as a broken conninfo: both are
/// refused here, naming the variable and the entry (masked), rather than skipped as
/// an unreachable standby.
fn read_urls(value: &str) -> Result<Vec<String>> {
    value
        .split_whitespace()
        .enumerate()
        .map(|(i, entry)| {
            let lower = entry.to_ascii_lowercase();
            if lower.starts_with("postgresql://") || lower.starts_with("postgres://") {
                Ok(entry.to_string())
            } else {
                Err(Error::InvalidInput(format!(
                    "HURRICANE_DB_READ_URLS entry {} \"{}\": expected a postgresql:// URL \
                     (entries are separated by whitespace; one entry may list hosts \
                     separated by commas)",
                    i + 1,
                    mask_secrets(entry)
                )))
            }
        })
        .collect()
}

/// Where the database is: `DATABASE_URL` from the environment or `./.env`, or `None`.
pub fn database_url_from_env() -> Result<Option<String>> {
    config::var("DATABASE_URL")
}

/// Whether the schema matches this crate's migrations. See [`Db::migration_status`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationStatus {
    /// Every migration of this crate is applied, and no other.
    Current,
    /// These migrations of this crate are not applied yet (oldest first).
    Pending(Vec<String>),
    /// The database has migrations this crate does not know: it was migrated by a
    /// newer release.
    DatabaseNewer(Vec<String>),
}

impl std::fmt::Display for MigrationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MigrationStatus::Current => write!(f, "current"),
            MigrationStatus::Pending(names) => {
                write!(f, "{} pending: {}", names.len(), names.join(", "))
            }
            MigrationStatus::DatabaseNewer(versions) => write!(
                f,
                "database newer than this crate: unknown migrations {}",
                versions.join(", ")
            ),
        }
    }
}

/// The shared database behind a pool of connections. Cheap to clone; clones share
/// the pool.
#[derive(Clone)]
pub struct Db {
    pool: Arc<ConnPool>,
    /// The URL with its password masked, for messages.
    server: Arc<str>,
    /// Standbys for reads (none: reads on the writer).
    replicas: Arc<Replicas>,
    ryw_wait: Duration,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("server", &self.server)
            .field("pool", &self.pool.state())
            .finish()
    }
}

/// BEGIN for a read-write or a read-only transaction.
#[derive(Clone, Copy)]
enum Access {
    ReadWrite,
    ReadOnly,
}

impl Db {
    /// Connects with default [`DbOptions`].
    pub fn connect(url: &str) -> Result<Db> {
        Db::connect_with(url, DbOptions::default())
    }

    /// Connects with explicit settings. One connection is opened now, once, with no
    /// retry: a wrong password, an unknown database or host, or a refused port fail
    /// here within `connect_timeout`, as one [`Error::Connection`] that names the
    /// masked URL and what to check. The pool opens the rest on demand.
    pub fn connect_with(url: &str, options: DbOptions) -> Result<Db> {
        let server: Arc<str> = mask_secrets(url).into();
        let (pool, proved) = open_pool(url, options.pool_size, &options);
        proved.map_err(|e| Error::Connection(explain_connect_failure(&server, &e, &options)))?;
        // A standby that cannot be reached now is skipped for a while, not fatal: reads
        // go to the others, or to the primary.
        let list = options
            .read_urls
            .iter()
            .map(|read_url| {
                let size = options.read_pool_size.unwrap_or(options.pool_size);
                let (pool, proved) = open_pool(read_url, size, &options);
                let masked = mask_secrets(read_url);
                if let Err(e) = &proved {
                    tracing::warn!("standby {}", explain_connect_failure(&masked, e, &options));
                }
                Replica::new(pool, masked, proved.is_ok())
            })
            .collect();
        tracing::debug!(server = %server, pool_size = options.pool_size, "connected");
        Ok(Db {
            pool: Arc::new(pool),
            server,
            replicas: Arc::new(Replicas { list }),
            ryw_wait: options.ryw_wait,
        })
    }

    /// A [`Session`]: transactions and reads that see the session's own writes, also
    /// when reads go to standbys.
    pub fn session(&self) -> Session {
        Session::new(self.clone(), None)
    }

    /// The [`Session`] a token from [`Session::token`] stands for (another request of
    /// the same user, another process). [`Error::InvalidInput`] for a malformed token.
    pub fn session_from_token(&self, token: &str) -> Result<Session> {
        Ok(Session::new(
            self.clone(),
            Some(crate::session::parse_token(token)?),
        ))
    }

    /// The standbys reads may go to, as masked URLs.
    pub fn read_servers(&self) -> Vec<String> {
        self.replicas.servers()
    }

    /// Connects to `DATABASE_URL` (environment, else `./.env`) with
    /// [`DbOptions::from_env`].
    pub fn from_env() -> Result<Db> {
        let url = database_url_from_env()?.ok_or_else(|| {
            Error::InvalidInput("DATABASE_URL is set neither in the environment nor in .env".into())
        })?;
        Db::connect_with(&url, DbOptions::from_env()?)
    }

    /// The server this pool connects to, as a URL with the password masked.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// One round trip to the server on a pooled connection: for health checks.
    pub fn ping(&self) -> Result<()> {
        self.read_one(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
    }

    /// Checks a connection out of the pool, for work that needs no transaction
    /// (a single statement is atomic on its own and costs one round trip). The
    /// connection is a Diesel connection itself: `query.load(&mut conn)` works.
    pub fn conn(&self) -> Result<PooledConn> {
        self.pool.get()
    }

    /// Runs one read statement on a pooled connection, without BEGIN/COMMIT (one
    /// round trip); if the connection turns out to have been lost since its last use
    /// (a server restart), runs it once more on a fresh one. Only for reads: running
    /// them twice is harmless. For writes use [`Db::transaction`].
    ///
    /// ```no_run
    /// # fn main() -> hurricane_db::Result<()> {
    /// let db = hurricane_db::Db::from_env()?;
    /// let n = db.read_one(hurricane_db::queries::count)?;
    /// # Ok(()) }
    /// ```
    pub fn read_one<T>(&self, f: impl Fn(&mut PgConnection) -> Result<T>) -> Result<T> {
        if let Some((mut conn, replica)) = self.replicas.conn() {
            match f(&mut conn) {
                Err(Error::ConnectionLost(why)) => {
                    discard(&mut conn);
                    tracing::warn!(server = %replica.server, "standby lost: {why}");
                }
                other => return other,
            }
        }
        let mut conn = self.conn()?;
        match f(&mut conn) {
            Err(Error::ConnectionLost(_)) => {
                discard(&mut conn);
                drop(conn);
                f(&mut *self.conn()?)
            }
            other => other,
        }
    }

    /// Runs `f` in a transaction: commit on `Ok`, rollback on `Err` or panic (the
    /// panic then continues). The connection always goes back to the pool clean.
    ///
    /// Like Diesel's `Connection::transaction`, the closure may return the caller's
    /// own error type; it needs `From<hurricane_db::Error>` (for checkout and COMMIT
    /// failures) and usually `From<diesel::result::Error>` (for `?` on queries).
    ///
    /// ```no_run
    /// # fn main() -> hurricane_db::Result<()> {
    /// use diesel::prelude::*;
    /// use hurricane_db::{schema::hurricanes, Db, Error};
    /// let db = Db::from_env()?;
    /// let n: i64 = db.transaction(|conn| {
    ///     Ok::<_, Error>(hurricanes::table.count().get_result(conn)?)
    /// })?;
    /// # Ok(()) }
    /// ```
    pub fn transaction<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E>,
        E: From<Error>,
    {
        self.run(Access::ReadWrite, None, f)
    }

    /// Like [`Db::transaction`], and the audit trail names `app_user` for every change
    /// made in it. The name is set with `set_config(..., true)`: it lives only as long
    /// as this transaction, so it never leaks to the next user of the pooled
    /// connection and works behind a transaction-pooling proxy.
    pub fn transaction_as<T, E, F>(&self, app_user: &str, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E>,
        E: From<Error>,
    {
        check_app_user(app_user)?;
        self.run(Access::ReadWrite, Some(app_user), f)
    }

    /// Like [`Db::transaction`] inside a READ ONLY transaction: any write fails with
    /// [`Error::ReadOnly`].
    pub fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E>,
        E: From<Error>,
    {
        self.run(Access::ReadOnly, None, f)
    }

    fn run<T, E, F>(&self, access: Access, app_user: Option<&str>, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E>,
        E: From<Error>,
    {
        match access {
            Access::ReadWrite => {
                let conn = self.begin(access)?;
                run_in(conn, access, app_user, false, f).map(|(value, _)| value)
            }
            Access::ReadOnly => self.read_after(None, f),
        }
    }

    /// A write transaction that also returns the flush position of its commit (see
    /// [`crate::session`]).
    pub(crate) fn run_capturing_lsn<T, E, F>(
        &self,
        app_user: Option<&str>,
        f: F,
    ) -> Result<(T, Option<Lsn>), E>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E>,
        E: From<Error>,
    {
        if let Some(user) = app_user {
            check_app_user(user)?;
        }
        // The flush position taken after COMMIT covers the commit only if COMMIT
        // waited for its local flush: on a server with synchronous_commit = off, this
        // transaction raises it to `local` (never lowers a stronger setting).
        let conn = self.begin_sql(
            "BEGIN READ WRITE; SELECT set_config('hurricane_db.app_user', '', true); \
             SELECT set_config('synchronous_commit', 'local', true) \
             WHERE current_setting('synchronous_commit') = 'off'",
        )?;
        run_in(conn, Access::ReadWrite, app_user, true, f)
    }

    /// A READ ONLY transaction on a standby that has replayed `after` (any standby when
    /// `None`), else on the primary.
    pub(crate) fn read_after<T, E, F>(&self, after: Option<Lsn>, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E>,
        E: From<Error>,
    {
        if let Some(conn) = self.standby_in_transaction(after) {
            return run_in(conn, Access::ReadOnly, None, false, f).map(|(value, _)| value);
        }
        let conn = self.begin(Access::ReadOnly)?;
        run_in(conn, Access::ReadOnly, None, false, f).map(|(value, _)| value)
    }

    /// A standby connection inside BEGIN READ ONLY, caught up with `after`; `None` when
    /// there is no standby, none answers, or none catches up within `ryw_wait`.
    fn standby_in_transaction(&self, after: Option<Lsn>) -> Option<PooledConn> {
        let (mut conn, replica) = self.replicas.conn()?;
        if let Some(lsn) = after {
            match crate::session::wait_for_replay(&mut conn, lsn, self.ryw_wait) {
                Ok(true) => {}
                Ok(false) => {
                    tracing::debug!(server = %replica.server, %lsn, "standby behind: reading on the primary");
                    return None;
                }
                Err(e) => {
                    tracing::warn!(server = %replica.server, "standby failed: {e}");
                    return None;
                }
            }
        }
        match AnsiTransactionManager::begin_transaction_sql(&mut *conn, "BEGIN READ ONLY") {
            Ok(()) => Some(conn),
            Err(e) => {
                if is_connection_failure(&e) {
                    discard(&mut conn);
                }
                tracing::warn!(server = %replica.server, "standby failed at BEGIN: {e}");
                None
            }
        }
    }

    /// A connection inside a fresh transaction. A connection found dead here (at
    /// checkout or BEGIN) is discarded and the next one tried: nothing has run yet.
    fn begin(&self, access: Access) -> Result<PooledConn> {
        self.begin_sql(match access {
            // A write transaction first clears the audit trail's app user for itself:
            // behind a transaction-pooling proxy the server connection may carry a
            // value another client set at session level, which must never be recorded
            // as ours. Same round trip as BEGIN (one simple-query message).
            // READ WRITE also makes a connection that landed on a standby (a failover
            // in progress) fail here, where retrying is safe, instead of at the
            // first write.
            Access::ReadWrite => {
                "BEGIN READ WRITE; SELECT set_config('hurricane_db.app_user', '', true)"
            }
            Access::ReadOnly => "BEGIN READ ONLY",
        })
    }

    /// [`Db::begin`] with the BEGIN batch given.
    fn begin_sql(&self, sql: &str) -> Result<PooledConn> {
        let attempts = self.pool.state().max_size + 1;
        let mut last = None;
        for _ in 0..attempts {
            let mut conn = self.conn()?;
            match AnsiTransactionManager::begin_transaction_sql(&mut *conn, sql) {
                Ok(()) => return Ok(conn),
                Err(e) if is_connection_failure(&e) || is_on_standby(&e) => {
                    discard(&mut conn);
                    last = Some(e);
                }
                Err(e) => return Err(e.into()),
            }
        }
        if last.as_ref().is_some_and(is_on_standby) {
            return Err(Error::Connection(format!(
                "{}: every connection lands on a standby (in recovery), which takes no \
                 writes; list every node that may be primary in DATABASE_URL with \
                 target_session_attrs=read-write",
                self.server
            )));
        }
        Err(Error::ConnectionLost(format!(
            "every pooled connection to {} failed at BEGIN; last: {}",
            self.server,
            last.map_or_else(String::new, |e| mask_secrets(&e.to_string()))
        )))
    }

    /// Connections open and idle now.
    pub fn pool_state(&self) -> PoolState {
        self.pool.state()
    }

    /// Compares the database's applied migrations with this crate's. Needs only
    /// SELECT on `__diesel_schema_migrations` (granted to the writer and reader
    /// groups), so a least-privilege service can check before it serves.
    pub fn migration_status(&self) -> Result<MigrationStatus> {
        self.read_one(migration_status)
    }

    /// `Ok` when the schema is [`MigrationStatus::Current`]; otherwise
    /// [`Error::SchemaNotCurrent`] saying what differs and who must migrate.
    pub fn check_schema(&self) -> Result<()> {
        match self.migration_status()? {
            MigrationStatus::Current => Ok(()),
            status => Err(Error::SchemaNotCurrent(format!(
                "schema of {} is not current ({status}): run `hurricane-db migrate` as the \
                 database owner",
                self.server
            ))),
        }
    }

    /// Applies every pending migration; returns the versions applied. DDL: only the
    /// database owner can do this; anyone else gets [`Error::PermissionDenied`]
    /// saying so.
    pub fn run_pending_migrations(&self) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        run_pending_migrations(&mut conn)
    }

    /// Reverts the most recent migration; returns its version.
    pub fn revert_last_migration(&self) -> Result<String> {
        let mut conn = self.conn()?;
        let version = conn
            .revert_last_migration(MIGRATIONS)
            .map(|v| v.to_string());
        version.map_err(|e| migration_error(&mut conn, e))
    }

    /// Reverts every applied migration, newest first; returns the versions reverted.
    pub fn revert_all_migrations(&self) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        let versions = conn
            .revert_all_migrations(MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect());
        versions.map_err(|e| migration_error(&mut conn, e))
    }

    /// Names of migrations not yet applied.
    pub fn pending_migrations(&self) -> Result<Vec<String>> {
        match self.migration_status()? {
            MigrationStatus::Pending(names) => Ok(names),
            _ => Ok(Vec::new()),
        }
    }
}

/// Runs `f` inside the transaction `conn` is in: commit on `Ok` (and, if asked, take
/// the flush position on the same connection), rollback on `Err` or panic.
fn run_in<T, E, F>(
    mut conn: PooledConn,
    access: Access,
    app_user: Option<&str>,
    capture_lsn: bool,
    f: F,
) -> Result<(T, Option<Lsn>), E>
where
    F: FnOnce(&mut PgConnection) -> Result<T, E>,
    E: From<Error>,
{
    let started = Instant::now();
    let span = tracing::debug_span!(
        "transaction",
        read_only = matches!(access, Access::ReadOnly),
        app_user
    );
    let _entered = span.enter();
    if let Some(user) = app_user {
        if let Err(e) = set_app_user(&mut conn, user) {
            end_failed(&mut conn);
            return Err(e.into());
        }
    }
    match catch_unwind(AssertUnwindSafe(|| f(&mut conn))) {
        Ok(Ok(value)) => match AnsiTransactionManager::commit_transaction(&mut *conn) {
            Ok(()) => {
                tracing::debug!(elapsed_ms = ms(started), "committed");
                // Committed: a failure to read the position must not turn the
                // commit into an error; the session then just cannot route by it.
                let lsn = if capture_lsn {
                    crate::session::flush_lsn(&mut conn)
                        .map_err(|e| tracing::warn!("no flush position after COMMIT: {e}"))
                        .ok()
                } else {
                    None
                };
                Ok((value, lsn))
            }
            Err(e) if is_connection_failure(&e) => {
                discard(&mut conn);
                tracing::warn!(elapsed_ms = ms(started), "connection lost during COMMIT");
                Err(Error::CommitOutcomeUnknown(mask_secrets(&e.to_string())).into())
            }
            Err(e) => {
                end_failed(&mut conn);
                tracing::debug!(elapsed_ms = ms(started), "COMMIT refused");
                Err(Error::from(e).into())
            }
        },
        Ok(Err(e)) => {
            end_failed(&mut conn);
            tracing::debug!(elapsed_ms = ms(started), "rolled back");
            Err(e)
        }
        Err(panic) => {
            end_failed(&mut conn);
            drop(conn);
            tracing::debug!(elapsed_ms = ms(started), "rolled back on panic");
            resume_unwind(panic)
        }
    }
}

/// A pool for `url` and the result of opening its first connection, once, now.
fn open_pool(
    url: &str,
    size: u32,
    options: &DbOptions,
) -> (ConnPool, std::result::Result<(), diesel::r2d2::Error>) {
    let timeout_secs = options.connect_timeout.as_secs().max(1).to_string();
    let conninfo = config::with_param(url, "connect_timeout", &timeout_secs);
    let conninfo = config::with_param(&conninfo, "application_name", &options.application_name);
    let manager = Manager::new(conninfo, options.statement_timeout, options.statement_cache);
    let proved = manager.connect_once().map(drop);
    let pool = ConnPool::build(
        manager,
        &PoolConfig {
            size,
            checkout_timeout: options.checkout_timeout,
            idle_timeout: options.idle_timeout,
        },
    );
    (pool, proved)
}

fn ms(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

/// BEGIN READ WRITE on a server in recovery (a standby): the connection is on the
/// wrong server for writes, typically right after a failover.
fn is_on_standby(e: &diesel::result::Error) -> bool {
    e.to_string()
        .contains("cannot set transaction read-write mode during recovery")
}

/// Ends a transaction that must not commit. If even ROLLBACK fails, the connection is
/// discarded rather than handed to the next caller in an unknown state.
fn end_failed(conn: &mut PooledConn) {
    if AnsiTransactionManager::rollback_transaction(&mut **conn).is_err() {
        discard(conn);
    }
}

/// The one line that says why a connection could not be opened and what to do.
fn explain_connect_failure(server: &str, e: &diesel::r2d2::Error, options: &DbOptions) -> String {
    let raw = mask_secrets(&e.to_string());
    // libpq's message is several lines ("...failed: X\n\tIs the server running...").
    let first = raw
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("unknown error");
    let first = first.strip_prefix("Error connecting to ").unwrap_or(first);
    if raw.contains("timeout expired") {
        return format!(
            "{server}: no answer within {} s (HURRICANE_DB_CONNECT_TIMEOUT_SECS): is the host \
             reachable and the port open?",
            options.connect_timeout.as_secs().max(1)
        );
    }
    // libpq's words (any of them) and what to tell the operator, first match wins.
    const HINTS: &[(&[&str], &str)] = &[
        (
            &["password authentication failed", "no password supplied"],
            "check the user's password (in the URL, PGPASSWORD or ~/.pgpass)",
        ),
        (
            &["permission denied for database"],
            "the user lacks CONNECT on this database (GRANT CONNECT, or another user)",
        ),
        (
            &["database \""],
            "create the database or fix the database name in the URL",
        ),
        (&["role \""], "check the user name in the URL"),
        (
            &["Connection refused", "No such file or directory"],
            "is PostgreSQL running and listening on that host and port?",
        ),
        (
            &["could not translate host name", "Name or service not known"],
            "check the host name in the URL",
        ),
        (
            &["certificate verify failed"],
            "the server's certificate is not signed by the CA in sslrootcert",
        ),
        (
            &["does not match host name"],
            "connect with a host name the server's certificate names, or fix the certificate",
        ),
        (
            &["pg_hba.conf"],
            "the server does not accept this user from this host (pg_hba.conf)",
        ),
    ];
    let hint = HINTS
        .iter()
        .find(|(needles, _)| needles.iter().any(|n| raw.contains(n)))
        .map_or("check DATABASE_URL", |(_, hint)| hint);
    format!("{server}: {first}; {hint}")
}

fn check_app_user(app_user: &str) -> Result<()> {
    if app_user.trim().is_empty() {
        return Err(Error::InvalidInput(
            "app user: expected a non-empty name".into(),
        ));
    }
    Ok(())
}

/// Names the application end user for the rest of the current transaction.
pub fn set_app_user(conn: &mut PgConnection, app_user: &str) -> Result<()> {
    check_app_user(app_user)?;
    diesel::sql_query("SELECT set_config('hurricane_db.app_user', $1, true)")
        .bind::<diesel::sql_types::Text, _>(app_user)
        .execute(conn)?;
    Ok(())
}

/// Applies pending migrations on one connection; returns the versions applied.
pub fn run_pending_migrations(conn: &mut PgConnection) -> Result<Vec<String>> {
    let versions: std::result::Result<Vec<String>, _> = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|v| v.iter().map(ToString::to_string).collect());
    let versions = versions.map_err(|e| migration_error(conn, e))?;
    for v in &versions {
        tracing::info!(version = %v, "applied migration");
    }
    Ok(versions)
}

/// A migration failure; a permission failure says that the owner must migrate.
fn migration_error(conn: &mut PgConnection, e: Box<dyn std::error::Error + Send + Sync>) -> Error {
    let text = e.to_string();
    if text.contains("permission denied") || text.contains("must be owner") {
        let who = current_user(conn).unwrap_or_else(|| "this login".into());
        return Error::PermissionDenied {
            message: format!(
                "{who} may not change the schema ({text}): migrations must be run by the \
                 database owner (`hurricane-db migrate` with the owner's DATABASE_URL)"
            ),
            source: None,
        };
    }
    Error::Migration(text)
}

fn current_user(conn: &mut PgConnection) -> Option<String> {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>("current_user"))
        .get_result(conn)
        .ok()
}

/// See [`Db::migration_status`]; on one connection.
pub fn migration_status(conn: &mut PgConnection) -> Result<MigrationStatus> {
    use diesel::migration::MigrationSource;
    use diesel::pg::Pg;
    let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
        "to_regclass('__diesel_schema_migrations') IS NOT NULL",
    ))
    .get_result(conn)?;
    let applied: Vec<String> = if exists {
        let rows =
            diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
                .load::<Version>(conn)
                .map_err(Error::from);
        match rows {
            Ok(rows) => rows.into_iter().map(|v| v.version).collect(),
            // Granted by migration 000005: a login that cannot read the table is on a
            // database older than that.
            Err(Error::PermissionDenied { .. }) => {
                return Err(Error::SchemaNotCurrent(format!(
                    "{} may not read __diesel_schema_migrations: the database predates                      migration 2026-11-27-000005; run `hurricane-db migrate` as the                      database owner",
                    current_user(conn).unwrap_or_else(|| "this login".into())
                )))
            }
            Err(e) => return Err(e),
        }
    } else {
        Vec::new()
    };
    let ours = MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .map_err(|e| Error::Migration(e.to_string()))?;
    let ours: Vec<(String, String)> = ours
        .iter()
        .map(|m| {
            let name = m.name();
            (name.version().to_string(), name.to_string())
        })
        .collect();
    let unknown: Vec<String> = applied
        .iter()
        .filter(|v| !ours.iter().any(|(ov, _)| ov == *v))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Ok(MigrationStatus::DatabaseNewer(unknown));
    }
    let pending: Vec<String> = ours
        .into_iter()
        .filter(|(v, _)| !applied.contains(v))
        .map(|(_, name)| name)
        .collect();
    Ok(if pending.is_empty() {
        MigrationStatus::Current
    } else {
        MigrationStatus::Pending(pending)
    })
}

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}
