//! The pooled session scope: every unit of work is a closure that commits or rolls back.
//!
//! r2d2 hands out connections; a connection returned with an open transaction would be
//! thrown away by Diesel's manager (diesel #2346), so [`Db::transaction`] always ends
//! the transaction itself, also when the closure panics, and then lets the panic go on.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::cluster::{Cluster, Durability};
use crate::error::{mask_secrets, Error, Result};

/// The migrations in `migrations/`, compiled into the crate.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

use crate::pool::AffinePool;
pub use crate::pool::PooledConn;

/// Pool settings. `Default` suits a CLI or a small service.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Most connections the pool opens.
    pub pool_size: u32,
    /// How long a checkout waits for a free connection before [`Error::PoolTimeout`].
    pub connection_timeout: Duration,
    /// Idle connections are closed after this long (`None`: never).
    pub idle_timeout: Option<Duration>,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            pool_size: 10,
            connection_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(600)),
        }
    }
}

impl DbOptions {
    /// Reads `HURRICANE_DB_POOL_SIZE`, `HURRICANE_DB_CONNECT_TIMEOUT_SECS` and
    /// `HURRICANE_DB_IDLE_TIMEOUT_SECS` (0 = never), keeping defaults for those unset.
    pub fn from_env() -> Result<Self> {
        let mut options = DbOptions::default();
        if let Some(n) = env_number("HURRICANE_DB_POOL_SIZE")? {
            if n == 0 {
                return Err(Error::InvalidInput(
                    "HURRICANE_DB_POOL_SIZE \"0\": expected at least 1".into(),
                ));
            }
            options.pool_size = n as u32;
        }
        if let Some(secs) = env_number("HURRICANE_DB_CONNECT_TIMEOUT_SECS")? {
            options.connection_timeout = Duration::from_secs(secs.max(1));
        }
        if let Some(secs) = env_number("HURRICANE_DB_IDLE_TIMEOUT_SECS")? {
            options.idle_timeout = (secs > 0).then(|| Duration::from_secs(secs));
        }
        Ok(options)
    }
}

fn env_number(name: &str) -> Result<Option<u64>> {
    match std::env::var(name) {
        Ok(value) => value.trim().parse::<u64>().map(Some).map_err(|_| {
            Error::InvalidInput(format!("{name} \"{value}\": expected a whole number"))
        }),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(Error::InvalidInput(format!("{name} is not valid UTF-8")))
        }
    }
}

/// Where the database is: from `DATABASE_URL` (environment or `.env`), or `None`.
pub fn database_url_from_env() -> Option<String> {
    // A missing .env is normal; a malformed one should not hide the environment.
    let _ = dotenvy::dotenv();
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// The shared database, behind r2d2 connections (see [`crate::pool`] for how threads
/// keep their own connection). Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct Db {
    pool: std::sync::Arc<AffinePool>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (connections, idle) = self.pool.state();
        f.debug_struct("Db")
            .field("connections", &connections)
            .field("idle", &idle)
            .finish()
    }
}

impl Db {
    /// Connects with default [`DbOptions`]. Fails with [`Error::Connection`] (password
    /// masked) when the server cannot be reached.
    pub fn connect(url: &str) -> Result<Db> {
        Db::connect_with(url, DbOptions::default())
    }

    /// Connects with explicit pool settings.
    pub fn connect_with(url: &str, options: DbOptions) -> Result<Db> {
        let pool = AffinePool::build(
            url,
            options.pool_size,
            options.connection_timeout,
            options.idle_timeout,
        )
        .map_err(|e| {
            Error::Connection(format!(
                "{}: {}",
                mask_secrets(url),
                mask_secrets(&e.to_string())
            ))
        })?;
        Ok(Db {
            pool: std::sync::Arc::new(pool),
        })
    }

    /// Connects to `DATABASE_URL` (environment or `.env`) with [`DbOptions::from_env`].
    pub fn from_env() -> Result<Db> {
        let url = database_url_from_env().ok_or_else(|| {
            Error::InvalidInput("DATABASE_URL is set neither in the environment nor in .env".into())
        })?;
        Db::connect_with(&url, DbOptions::from_env()?)
    }

    /// Like [`Db::from_env`], but with no `DATABASE_URL` starts (or reuses) the private
    /// cluster in `./.hurricane-db/`. What the CLI and the examples use.
    pub fn from_env_or_private() -> Result<Db> {
        Db::connect_with(&url_from_env_or_private()?, DbOptions::from_env()?)
    }

    /// Checks a connection out of the pool, for work that needs no transaction
    /// (a single statement is atomic on its own and costs one round trip).
    pub fn conn(&self) -> Result<PooledConn> {
        self.pool.get()
    }

    /// Runs `f` in a transaction: commit on `Ok`, rollback on `Err` or panic (the
    /// panic then continues). The connection always goes back to the pool clean.
    ///
    /// ```no_run
    /// # fn main() -> hurricane_db::Result<()> {
    /// use diesel::prelude::*;
    /// use hurricane_db::{schema::hurricanes, Db};
    /// let db = Db::from_env()?;
    /// let n: i64 = db.transaction(|conn| Ok(hurricanes::table.count().get_result(conn)?))?;
    /// # Ok(()) }
    /// ```
    pub fn transaction<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut PgConnection) -> Result<T>,
    {
        scoped(self.conn()?, |c| c.transaction(f))
    }

    /// Like [`Db::transaction`], and the audit trail names `app_user` for every change
    /// made in it. The name is set with `set_config(..., true)`: it lives only as long
    /// as this transaction, so it never leaks to the next user of the pooled
    /// connection and works behind a transaction-pooling proxy.
    pub fn transaction_as<T, F>(&self, app_user: &str, f: F) -> Result<T>
    where
        F: FnOnce(&mut PgConnection) -> Result<T>,
    {
        self.transaction(|conn| {
            set_app_user(conn, app_user)?;
            f(conn)
        })
    }

    /// Like [`Db::transaction`] inside a READ ONLY transaction: any write fails with
    /// [`Error::ReadOnly`].
    pub fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut PgConnection) -> Result<T>,
    {
        scoped(self.conn()?, |c| c.build_transaction().read_only().run(f))
    }

    /// Pool statistics: (open connections, idle connections).
    pub fn pool_state(&self) -> (u32, u32) {
        self.pool.state()
    }

    /// Applies every pending migration; returns the versions applied.
    pub fn run_pending_migrations(&self) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        run_pending_migrations(&mut conn)
    }

    /// Reverts the most recent migration; returns its version.
    pub fn revert_last_migration(&self) -> Result<String> {
        let mut conn = self.conn()?;
        let version = conn
            .revert_last_migration(MIGRATIONS)
            .map_err(|e| Error::Migration(e.to_string()))?;
        Ok(version.to_string())
    }

    /// Reverts every applied migration, newest first; returns the versions reverted.
    pub fn revert_all_migrations(&self) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        let versions = conn
            .revert_all_migrations(MIGRATIONS)
            .map_err(|e| Error::Migration(e.to_string()))?;
        Ok(versions.iter().map(ToString::to_string).collect())
    }

    /// Versions of migrations not yet applied.
    pub fn pending_migrations(&self) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        let pending = conn
            .pending_migrations(MIGRATIONS)
            .map_err(|e| Error::Migration(e.to_string()))?;
        Ok(pending.iter().map(|m| m.name().to_string()).collect())
    }
}

/// Names the application end user for the rest of the current transaction.
pub fn set_app_user(conn: &mut PgConnection, app_user: &str) -> Result<()> {
    use diesel::RunQueryDsl;
    if app_user.trim().is_empty() {
        return Err(Error::InvalidInput(
            "app user: expected a non-empty name".into(),
        ));
    }
    diesel::sql_query("SELECT set_config('hurricane_db.app_user', $1, true)")
        .bind::<diesel::sql_types::Text, _>(app_user)
        .execute(conn)?;
    Ok(())
}

/// Applies pending migrations on one connection; returns the versions applied.
pub fn run_pending_migrations(conn: &mut PgConnection) -> Result<Vec<String>> {
    let versions = conn
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| Error::Migration(e.to_string()))?;
    for v in &versions {
        tracing::info!(version = %v, "applied migration");
    }
    Ok(versions.iter().map(ToString::to_string).collect())
}

/// `DATABASE_URL` if set, else the URL of the private cluster (started if needed).
pub fn url_from_env_or_private() -> Result<String> {
    match database_url_from_env() {
        Some(url) => Ok(url),
        None => {
            let cluster = Cluster::ensure(crate::cluster::DEFAULT_DIR, Durability::Durable)?;
            Ok(cluster.url(crate::cluster::DEFAULT_DATABASE))
        }
    }
}

/// Runs a transaction body so that a panic still ends the transaction: roll back, give
/// the connection back to the pool, then resume the panic. (Diesel's r2d2 manager
/// discards any connection dropped while the thread is panicking, so the connection
/// must be returned before the panic resumes.)
pub(crate) fn scoped<T>(
    mut conn: PooledConn,
    body: impl FnOnce(&mut PgConnection) -> Result<T>,
) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(|| body(&mut conn))) {
        Ok(result) => result,
        Err(panic) => {
            // Diesel's depth is still 1: roll back so the pool gets a clean connection.
            // If that fails the connection is marked broken and r2d2 discards it.
            let _ = AnsiTransactionManager::rollback_transaction(&mut *conn);
            drop(conn);
            resume_unwind(panic)
        }
    }
}
