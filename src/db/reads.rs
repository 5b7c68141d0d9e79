//! `Db`'s one-call reads: the conn-level queries on a pooled connection.

use crate::audit::{
    list_loads, observation_edits, storm_changes, Edit, Load, LoadSelection, StormChanges,
};
use crate::error::Result;
use crate::models::Hurricane;
use crate::queries::{by_btid, by_fid};

use super::Db;

impl Db {
    /// One observation by FID: a single round trip on a pooled connection (no
    /// BEGIN/COMMIT around one statement, no test query on checkout, and Diesel's
    /// prepared-statement cache skips the parse after the first call). A connection
    /// lost since its last use (a server restart) is replaced and the read runs again.
    pub fn observation(&self, fid: i32) -> Result<Hurricane> {
        self.read_statement(|conn| by_fid(conn, fid))
    }

    /// A storm's observations in time order (one round trip).
    pub fn track(&self, btid: i16) -> Result<Vec<Hurricane>> {
        self.read_statement(|conn| by_btid(conn, btid))
    }

    /// The edits of observation `fid`, oldest first.
    pub fn history(&self, fid: i32) -> Result<Vec<Edit>> {
        self.read(|conn| observation_edits(conn, fid))
    }

    /// Every recorded load, oldest first.
    pub fn loads(&self) -> Result<Vec<Load>> {
        self.read(list_loads)
    }

    /// What the selected loads changed, storm by storm (see [`crate::audit::storm_changes`]).
    pub fn load_changes(&self, selection: LoadSelection) -> Result<Vec<StormChanges>> {
        self.read(|conn| storm_changes(conn, selection))
    }
}
