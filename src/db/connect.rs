//! Opening pools, and the one line that says why a connection failed.

use crate::config;
use crate::mask::{mask_password_of, password_encoding_hint};

use super::pool::{ConnPool, Manager, PoolConfig};
use super::DbBuilder;

/// A pool for `url` and the result of opening its first connection, once, now.
pub(super) fn open_pool(
    url: &str,
    size: u32,
    options: &DbBuilder,
) -> (ConnPool, std::result::Result<(), diesel::r2d2::Error>) {
    let timeout_secs = options.connect_timeout.as_secs().max(1).to_string();
    let conninfo = config::with_param(url, "connect_timeout", &timeout_secs);
    let conninfo = config::with_param(&conninfo, "application_name", &options.application_name);
    // A server that stops answering (a partition, a dead host) must not hold a
    // connection and its thread forever: TCP keepalives find a silent peer, and
    // tcp_user_timeout drops a connection whose sent data goes unacknowledged. A URL
    // that sets any of these keeps its own.
    let conninfo = KEEPALIVES.iter().fold(conninfo, |c, (key, value)| {
        config::with_param(&c, key, value)
    });
    let manager = Manager::new(conninfo, options.statement_timeout, options.statement_cache);
    let proved = manager.connect_once();
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

/// libpq's keepalive settings added to every connection unless the URL has them:
/// probes after 5 s of silence, every 2 s, 3 unanswered probes (or 10 s of
/// unacknowledged data) close the connection, so a vanished server is noticed within
/// about 11 s instead of the kernel's two hours.
const KEEPALIVES: [(&str, &str); 5] = [
    ("keepalives", "1"),
    ("keepalives_idle", "5"),
    ("keepalives_interval", "2"),
    ("keepalives_count", "3"),
    ("tcp_user_timeout", "10000"),
];

/// The one line that says why a connection could not be opened and what to do.
pub(super) fn explain_connect_failure(
    server: &str,
    url: &str,
    e: &diesel::r2d2::Error,
    options: &DbBuilder,
) -> String {
    // libpq may quote a piece of the password on its own (a raw `/` or `@` in it
    // makes it read the URL differently): mask every piece, not only whole URLs.
    let raw = mask_password_of(&e.to_string(), url);
    if let Some(hint) = password_encoding_hint(url) {
        let first = raw.lines().map(str::trim).find(|l| !l.is_empty());
        return format!(
            "{server}: {}; {hint}",
            first.map_or("could not connect", |l| {
                l.strip_prefix("Error connecting to ").unwrap_or(l)
            })
        );
    }
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
