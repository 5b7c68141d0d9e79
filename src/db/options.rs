//! Pool and connection settings, defaults overridden from the environment.

use std::time::Duration;

use crate::config;
use crate::error::{Error, Result};

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
    /// Streaming standbys for reads (`HURRICANE_DB_READ_URLS`, separated by
    /// whitespace; an entry may be a multi-host URL). Empty: everything on the writer.
    pub read_urls: Vec<String>,
    /// Connections per standby pool (`HURRICANE_DB_READ_POOL_SIZE`, default: as
    /// `pool_size`).
    pub read_pool_size: Option<u32>,
    /// How long a [`Session`] read waits for a standby to replay the session's last
    /// commit before it reads on the primary (`HURRICANE_DB_RYW_WAIT_MS`, default 200).
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
            options.read_urls = urls.split_whitespace().map(String::from).collect();
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

/// Where the database is: `DATABASE_URL` from the environment or `./.env`, or `None`.
pub fn database_url_from_env() -> Result<Option<String>> {
    config::var("DATABASE_URL")
}
