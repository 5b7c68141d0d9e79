//! What bounds the service's work, so that a hostile or unlucky client (or a database
//! that stops answering) costs a bounded number of threads, connections and file
//! descriptors, and everyone else keeps getting answers.
//!
//! - Database work runs on blocking threads, at most as many at once as the pool has
//!   connections (a semaphore); a request that finds them all busy waits for one
//!   without a thread, at most the pool's checkout timeout, then gets 503.
//! - Pictures are drawn after the connection is given back, at most one per core.
//! - A request's database work is bounded in time ([`Limits::request_timeout`]): a
//!   server that stops answering (frozen, partitioned) gives 503, not a hang. The
//!   thread stays with its connection until libpq gives up (TCP keepalives), still
//!   counted against the semaphore.
//! - Each client connection must send a request's headers within
//!   [`Limits::header_timeout`], and an idle keep-alive connection is closed after it;
//!   at most [`Limits::max_clients`] connections are open at once, below the process's
//!   open-file limit (raised to its hard limit at start), so idle sockets cannot make
//!   `accept` fail for everyone.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hurricane_db::Db;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bounds on the service's work; [`Limits::for_db`] gives the defaults,
/// [`Limits::from_env`] reads `HURRICANE_DB_*` overrides.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Limits {
    /// Database operations at once, each on one blocking thread (default: the pool's
    /// connections, standbys included).
    pub db_workers: usize,
    /// Pictures drawn at once (default: the machine's cores).
    pub render_workers: usize,
    /// How long a request waits for a free worker before 503 (default: the pool's
    /// checkout timeout).
    pub queue_wait: Duration,
    /// The longest a request's database work may take before the answer is 503
    /// (`HURRICANE_DB_REQUEST_TIMEOUT_MS`; default the statement timeout + 2 s, 7 s).
    pub request_timeout: Duration,
    /// Time a client has to send a request's headers, and the longest a keep-alive
    /// connection may sit idle (`HURRICANE_DB_HEADER_TIMEOUT_SECS`, default 10 s).
    pub header_timeout: Duration,
    /// Client connections open at once (`HURRICANE_DB_MAX_CLIENTS`; default: what the
    /// open-file limit leaves after the pool's connections and a reserve).
    pub max_clients: Option<usize>,
}

/// Default bound of a request's database work beyond the statement timeout.
const REQUEST_SLACK: Duration = Duration::from_secs(2);

impl Limits {
    /// The defaults for `db` (a 5 s statement timeout assumed).
    pub fn for_db(db: &Db) -> Limits {
        Limits {
            db_workers: db.max_connections().max(1) as usize,
            render_workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            queue_wait: db.checkout_timeout(),
            request_timeout: Duration::from_secs(5) + REQUEST_SLACK,
            header_timeout: Duration::from_secs(10),
            max_clients: None,
        }
    }

    /// [`Limits::for_db`] with the environment's (or `./.env`'s) overrides.
    pub fn from_env(db: &Db) -> hurricane_db::Result<Limits> {
        let mut limits = Limits::for_db(db);
        if let Some(ms) = number("HURRICANE_DB_STATEMENT_TIMEOUT_MS")?.filter(|ms| *ms > 0) {
            limits.request_timeout = Duration::from_millis(ms) + REQUEST_SLACK;
        }
        if let Some(ms) = number("HURRICANE_DB_REQUEST_TIMEOUT_MS")? {
            limits.request_timeout = Duration::from_millis(ms.max(1));
        }
        if let Some(secs) = number("HURRICANE_DB_HEADER_TIMEOUT_SECS")? {
            limits.header_timeout = Duration::from_secs(secs.max(1));
        }
        if let Some(n) = number("HURRICANE_DB_MAX_CLIENTS")? {
            limits.max_clients = Some(n.max(1) as usize);
        }
        Ok(limits)
    }
}

/// A whole number from the environment or `./.env` (as the library reads its own
/// settings); `None` when unset.
fn number(name: &str) -> hurricane_db::Result<Option<u64>> {
    match hurricane_db::setting_from_env(name)? {
        None => Ok(None),
        Some(value) => value.trim().parse::<u64>().map(Some).map_err(|_| {
            hurricane_db::Error::InvalidInput(format!(
                "{name} \"{value}\": expected a whole number"
            ))
        }),
    }
}

/// The semaphores and bounds every request of one router shares.
#[derive(Clone)]
pub(crate) struct Gate {
    db: Arc<Semaphore>,
    db_workers: usize,
    render: Arc<Semaphore>,
    queue_wait: Duration,
    pub(crate) request_timeout: Duration,
}

impl Gate {
    pub(crate) fn new(limits: &Limits) -> Gate {
        Gate {
            db: Arc::new(Semaphore::new(limits.db_workers.max(1))),
            db_workers: limits.db_workers.max(1),
            render: Arc::new(Semaphore::new(limits.render_workers.max(1))),
            queue_wait: limits.queue_wait,
            request_timeout: limits.request_timeout,
        }
    }

    /// A permit for database work, within `queue_wait`; else 503.
    pub(crate) async fn db(&self) -> Result<OwnedSemaphorePermit, super::ApiError> {
        acquire(&self.db, self.queue_wait).await.ok_or_else(|| {
            super::ApiError::Status(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "timed out waiting for a pooled connection: all {} stayed busy for {:.1} s",
                    self.db_workers,
                    self.queue_wait.as_secs_f64()
                ),
            )
        })
    }

    /// A permit for drawing a picture, within `queue_wait`; else 503.
    pub(crate) async fn render(&self) -> Result<OwnedSemaphorePermit, super::ApiError> {
        acquire(&self.render, self.queue_wait).await.ok_or_else(|| {
            super::ApiError::Status(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy drawing other pictures: try again".into(),
            )
        })
    }
}

async fn acquire(semaphore: &Arc<Semaphore>, wait: Duration) -> Option<OwnedSemaphorePermit> {
    tokio::time::timeout(wait, Arc::clone(semaphore).acquire_owned())
        .await
        .ok()?
        .ok()
}

tokio::task_local! {
    /// The gate of the router serving the current request: set by [`with_gate`], so
    /// that every handler's blocking work is bounded without passing it around.
    pub(crate) static GATE: Gate;
}

/// Runs the request with its router's [`Gate`] in scope.
pub(crate) async fn with_gate(gate: Gate, request: Request, next: Next) -> Response {
    GATE.scope(gate, next.run(request)).await
}

/// The most of an oversized body read (and thrown away) so that its sender gets the
/// 413 answer: a client still writing into a closed socket gets a reset instead.
const MAX_DRAIN_BYTES: u64 = 4 << 20;

/// A body whose `Content-Length` is over `limit` is refused with 413 before any
/// handler runs; up to [`MAX_DRAIN_BYTES`] of it are read and dropped first (within
/// a second), so the client reads the JSON answer rather than a reset connection.
pub(crate) async fn refuse_large_bodies(limit: usize, request: Request, next: Next) -> Response {
    let length = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let Some(length) = length.filter(|n| *n > limit as u64) else {
        return next.run(request).await;
    };
    if length <= MAX_DRAIN_BYTES {
        let drain = axum::body::to_bytes(request.into_body(), MAX_DRAIN_BYTES as usize);
        let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
    }
    let mut response = (
        StatusCode::PAYLOAD_TOO_LARGE,
        Json(serde_json::json!({
            "error": format!("request body of {length} bytes: expected at most {limit}")
        })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Raises the soft open-file limit to the hard one and returns the soft limit in force.
pub(crate) fn raise_open_file_limit() -> Option<u64> {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        let before = limit.rlim_cur;
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
        if limit.rlim_cur != before {
            tracing::info!("open-file limit raised from {before} to {}", limit.rlim_cur);
        }
        Some(limit.rlim_cur)
    }
}

/// Client connections allowed at once: what `open_files` leaves after the database's
/// connections and a reserve for the process's own files.
pub(crate) fn client_cap(open_files: Option<u64>, db: &Db) -> usize {
    const RESERVE: u64 = 64;
    let files = open_files.unwrap_or(1024).min(1 << 20);
    files
        .saturating_sub(u64::from(db.max_connections()) + RESERVE)
        .max(16) as usize
}
