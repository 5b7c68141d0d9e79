//! Read-your-writes across streaming standbys.
//!
//! A [`Session`] remembers the WAL position its last commit flushed, taken on the
//! committing connection with `pg_current_wal_flush_lsn()` (the insert position can
//! sit just past a page boundary a standby never reports, so a wait for it may never
//! end). A session read goes to a standby only once that standby has replayed the
//! position (`pg_last_wal_replay_lsn() >= lsn`), waiting at most
//! [`crate::DbBuilder::ryw_wait`]; past that it reads on the primary. The position
//! travels between processes as a short opaque token ([`Session::token`]), so a web
//! client can carry it from its write to its next read.

use diesel::pg::PgConnection;

use crate::error::{Error, Result};

use super::wal::Lsn;
use super::Db;

/// A user's view of the database that always sees its own writes, also when reads go
/// to standbys. Cheap: a [`Db`] handle and one position.
#[derive(Debug, Clone)]
pub struct Session {
    db: Db,
    last_commit: Option<Lsn>,
}

impl Session {
    pub(crate) fn new(db: Db, last_commit: Option<Lsn>) -> Session {
        Session { db, last_commit }
    }

    /// Like [`Db::transaction`]; afterwards this session's reads see what it wrote.
    /// Costs one more round trip after COMMIT (the flush position).
    pub fn transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E>,
        E: From<Error>,
    {
        let (value, lsn) = self.db.run_capturing_lsn(None, f)?;
        self.remember(lsn);
        Ok(value)
    }

    /// Like [`Db::transaction_as`], remembering the commit's position.
    pub fn transaction_as<T, E, F>(&mut self, app_user: &str, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E>,
        E: From<Error>,
    {
        let (value, lsn) = self.db.run_capturing_lsn(Some(app_user), f)?;
        self.remember(lsn);
        Ok(value)
    }

    /// Like [`Db::read`], on a standby that has replayed this session's last commit
    /// (waiting at most `ryw_wait` for one), else on the primary.
    pub fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, E>,
        E: From<Error>,
    {
        self.db.read_after(self.last_commit, f)
    }

    /// The position of this session's last commit as an opaque token (`None` before
    /// its first write), for [`Db::session_from_token`] in another request or process.
    pub fn token(&self) -> Option<String> {
        self.last_commit.map(|lsn| format!("{:016x}", lsn.0))
    }

    /// The position of the last commit, if any.
    pub fn last_commit(&self) -> Option<Lsn> {
        self.last_commit
    }

    fn remember(&mut self, lsn: Option<Lsn>) {
        if let Some(lsn) = lsn {
            self.last_commit = Some(self.last_commit.map_or(lsn, |old| old.max(lsn)));
        }
    }
}

impl Db {
    /// A [`Session`]: transactions and reads that see the session's own writes, also
    /// when reads go to standbys.
    pub fn session(&self) -> Session {
        Session::new(self.clone(), None)
    }

    /// The [`Session`] a token from [`Session::token`] stands for (another request of
    /// the same user, another process). [`Error::InvalidInput`] for a malformed token.
    pub fn session_from_token(&self, token: &str) -> Result<Session> {
        Ok(Session::new(self.clone(), Some(parse_token(token)?)))
    }
}

/// Parses a token made by [`Session::token`].
pub(crate) fn parse_token(token: &str) -> Result<Lsn> {
    let t = token.trim();
    if t.len() != 16 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::InvalidInput(
            "read-your-writes token: expected 16 hex digits".into(),
        ));
    }
    u64::from_str_radix(t, 16)
        .map(Lsn)
        .map_err(|_| Error::InvalidInput("read-your-writes token: expected 16 hex digits".into()))
}

#[cfg(test)]
mod tests {
    use super::parse_token;
    use crate::db::wal::Lsn;

    #[test]
    fn lsn_text_and_token_round_trip() {
        let lsn = str::parse::<Lsn>("16/B374D848").unwrap();
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert_eq!(parse_token(&format!("{:016x}", lsn.0)).unwrap(), lsn);
        assert!(str::parse::<Lsn>("nope").is_err());
        assert!(parse_token("123").is_err());
        assert!(parse_token("+123456789abcdef").is_err());
        assert!(str::parse::<Lsn>("0/1").unwrap() < str::parse::<Lsn>("1/0").unwrap());
    }
}
