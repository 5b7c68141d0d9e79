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

mod connect;
mod migrations;
mod options;
pub(crate) mod pool;
mod reads;
pub(crate) mod replicas;
pub(crate) mod session;
mod transaction;
pub(crate) mod wal;
mod writes;

use std::sync::Arc;
use std::time::Duration;

use diesel::RunQueryDsl;

use crate::error::{Error, Result};
use crate::mask::mask_secrets;
use connect::{explain_connect_failure, open_pool};
pub use migrations::{MigrationStatus, MIGRATIONS};
pub use options::{database_url_from_env, DbBuilder};
use pool::ConnPool;
pub use pool::{PoolState, PooledConn};
use replicas::{Replica, Replicas};
pub use session::Session;
pub use wal::Lsn;

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

impl Db {
    /// Connects to `url` with the default settings (see [`DbBuilder::connect`]).
    pub fn connect(url: &str) -> Result<Db> {
        Db::builder().connect(url)
    }

    /// Settings for a pool, defaults first: change them with the setters (or with
    /// [`DbBuilder::override_from_env`]), then [`DbBuilder::connect`].
    ///
    /// ```no_run
    /// # fn main() -> hurricane_db::Result<()> {
    /// let db = hurricane_db::Db::builder()
    ///     .pool_size(4)
    ///     .override_from_env()?
    ///     .connect("postgresql://reader@db.example/ihw")?;
    /// # Ok(()) }
    /// ```
    pub fn builder() -> DbBuilder {
        DbBuilder::default()
    }

    /// Connects to `DATABASE_URL` (the environment, else `./.env`) with the default
    /// settings overridden by the `HURRICANE_DB_*` variables found there
    /// ([`DbBuilder::override_from_env`]). [`Error::InvalidInput`] when `DATABASE_URL`
    /// is set in neither.
    pub fn connect_from_env() -> Result<Db> {
        let url = database_url_from_env()?.ok_or_else(|| {
            Error::InvalidInput("DATABASE_URL is set neither in the environment nor in .env".into())
        })?;
        Db::builder().override_from_env()?.connect(&url)
    }

    /// See [`DbBuilder::connect`].
    fn open(url: &str, options: &DbBuilder) -> Result<Db> {
        let server: Arc<str> = mask_secrets(url).into();
        let (pool, proved) = open_pool(url, options.pool_size, options);
        proved.map_err(|e| Error::Connection(explain_connect_failure(&server, &e, options)))?;
        // A standby that cannot be reached now is skipped for a while, not fatal: reads
        // go to the others, or to the primary.
        let list = options
            .read_urls
            .iter()
            .map(|read_url| {
                let size = options.read_pool_size.unwrap_or(options.pool_size);
                let (pool, proved) = open_pool(read_url, size, options);
                let masked = mask_secrets(read_url);
                if let Err(e) = &proved {
                    tracing::warn!("standby {}", explain_connect_failure(&masked, e, options));
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

    /// The standbys reads may go to, as masked URLs.
    pub fn read_servers(&self) -> Vec<String> {
        self.replicas.servers()
    }

    /// The server this pool connects to, as a URL with the password masked.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// One round trip to the server on a pooled connection: for health checks.
    pub fn ping(&self) -> Result<()> {
        self.read_statement(|conn| {
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

    /// Connections open and idle now.
    pub fn pool_state(&self) -> PoolState {
        self.pool.state()
    }
}
