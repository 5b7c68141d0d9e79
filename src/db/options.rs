//! Pool and connection settings, defaults overridden from the environment.

use std::time::Duration;

use crate::config;
use crate::error::{Error, Result};
use crate::mask::mask_secrets;

use super::Db;

/// The settings of a pool, then [`DbBuilder::connect`]. Start from [`Db::builder`]
/// (the defaults), change what you need with the setters, so fields added later
/// break no caller; the fields are public to read the settings in force:
///
/// ```
/// use std::time::Duration;
/// let builder = hurricane_db::Db::builder()
///     .pool_size(20)
///     .connect_timeout(Duration::from_secs(3))
///     .statement_timeout(Some(Duration::from_secs(30)));
/// assert_eq!(builder.pool_size, 20);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DbBuilder {
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
    /// How long a [`crate::Session`] read waits for a standby to replay the session's last
    /// commit before it reads on the primary (`HURRICANE_DB_RYW_WAIT_MS`, 0 to 60000,
    /// default 200).
    pub ryw_wait: Duration,
}

impl Default for DbBuilder {
    fn default() -> Self {
        DbBuilder {
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

impl DbBuilder {
    /// Opens the pool for `url`. One connection is opened now, once, with no retry: a
    /// wrong password, an unknown database or host, or a refused port fail here within
    /// `connect_timeout`, as one [`Error::Connection`] that names the masked URL and
    /// what to check. That connection becomes the pool's first (if used within 10 s),
    /// so it carries the session settings in force now: an `ALTER DATABASE`/`ROLE ...
    /// SET` made afterwards reaches only connections opened later. The pool opens the
    /// rest on demand; standbys that cannot be reached now are skipped for a while,
    /// not fatal.
    pub fn connect(&self, url: &str) -> Result<Db> {
        Db::open(url, self)
    }

    /// These settings, overridden by the `HURRICANE_DB_*` variables set in the
    /// environment or `./.env` (see each field): what the caller set is the default
    /// an operator's variable replaces.
    pub fn override_from_env(self) -> Result<Self> {
        let mut options = self;
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

    /// Sets [`DbBuilder::pool_size`].
    pub fn pool_size(mut self, n: u32) -> Self {
        self.pool_size = n;
        self
    }

    /// Sets [`DbBuilder::connect_timeout`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`DbBuilder::checkout_timeout`].
    pub fn checkout_timeout(mut self, timeout: Duration) -> Self {
        self.checkout_timeout = timeout;
        self
    }

    /// Sets [`DbBuilder::idle_timeout`].
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`DbBuilder::application_name`].
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = name.into();
        self
    }

    /// Sets [`DbBuilder::statement_timeout`].
    pub fn statement_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// Sets [`DbBuilder::read_urls`].
    pub fn read_urls(mut self, urls: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.read_urls = urls.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`DbBuilder::ryw_wait`].
    pub fn ryw_wait(mut self, wait: Duration) -> Self {
        self.ryw_wait = wait;
        self
    }

    /// Sets [`DbBuilder::read_pool_size`].
    pub fn read_pool_size(mut self, n: Option<u32>) -> Self {
        self.read_pool_size = n;
        self
    }

    /// Sets [`DbBuilder::statement_cache`].
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
