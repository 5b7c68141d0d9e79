//! The transaction runner: every unit of work is a closure that commits or rolls back.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::Instant;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
use diesel::RunQueryDsl;

use crate::error::{is_connection_failure, Error, Result};
use crate::mask::mask_secrets;

use super::pool::{discard, PooledConn};
use super::wal::Lsn;
use super::Db;

/// BEGIN for a read-write or a read-only transaction.
#[derive(Clone, Copy)]
enum Access {
    ReadWrite,
    ReadOnly,
}

impl Db {
    /// Runs one read statement outside any transaction: no BEGIN/COMMIT, one round trip,
    /// on a standby when there are any (else the primary); if the connection turns out
    /// to have been lost since its last use (a server restart), runs it once more on a
    /// fresh one. Only for reads: running them twice is harmless. Several statements
    /// in `f` each see their own snapshot: use [`Db::read`] for a consistent view and
    /// [`Db::transaction`] for writes.
    ///
    /// ```no_run
    /// # fn main() -> hurricane_db::Result<()> {
    /// let db = hurricane_db::Db::connect_from_env()?;
    /// let n = db.read_statement(hurricane_db::queries::count)?;
    /// # Ok(()) }
    /// ```
    pub fn read_statement<T>(&self, f: impl Fn(&mut PgConnection) -> Result<T>) -> Result<T> {
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
    /// [`super::session`]).
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
            match super::wal::wait_for_replay(&mut conn, lsn, self.ryw_wait) {
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
                    super::wal::flush_lsn(&mut conn)
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

fn check_app_user(app_user: &str) -> Result<()> {
    if app_user.trim().is_empty() {
        return Err(Error::InvalidInput(
            "app user: expected a non-empty name".into(),
        ));
    }
    Ok(())
}

/// Names the application end user for the rest of the current transaction.
fn set_app_user(conn: &mut PgConnection, app_user: &str) -> Result<()> {
    check_app_user(app_user)?;
    diesel::sql_query("SELECT set_config('hurricane_db.app_user', $1, true)")
        .bind::<diesel::sql_types::Text, _>(app_user)
        .execute(conn)?;
    Ok(())
}
