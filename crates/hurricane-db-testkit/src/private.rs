//! The private cluster in `./.hurricane-db/` of the current directory: what
//! `hurricane-db demo`, `hurricane-db db start` and the examples use when no
//! `DATABASE_URL` names a server.
//!
//! Unlike the throwaway clusters of tests it is durable and survives a stop. It lives
//! here, not in `hurricane-db`, so that a service depending on the library compiles
//! none of the initdb/pg_ctl/`libc` machinery it never runs.

use hurricane_db::db::database_url_from_env;
use hurricane_db::{Db, DbOptions, Result};

use crate::cluster::{Cluster, Durability, DEFAULT_DATABASE, DEFAULT_DIR};

/// `DATABASE_URL` if set (environment, else `.env`), else the URL of the private
/// cluster, started (and created on first use) if needed.
pub fn url_from_env_or_private() -> Result<String> {
    match database_url_from_env()? {
        Some(url) => Ok(url),
        None => {
            let cluster = Cluster::ensure(DEFAULT_DIR, Durability::Durable)?;
            Ok(cluster.url(DEFAULT_DATABASE))
        }
    }
}

/// A pool for `DATABASE_URL`, else for the private cluster, with
/// [`DbOptions::from_env`]. Runs no migration.
pub fn db_from_env_or_private() -> Result<Db> {
    Db::connect_with(&url_from_env_or_private()?, DbOptions::from_env()?)
}

/// What tools that serve or query use. With `DATABASE_URL`: a pool for that login
/// that runs no DDL and insists on a current schema ([`Db::check_schema`]). Without
/// it: the private cluster, which belongs to the caller and so is migrated.
pub fn db_checked_or_private(options: DbOptions) -> Result<Db> {
    match database_url_from_env()? {
        Some(url) => {
            let db = Db::connect_with(&url, options)?;
            db.check_schema()?;
            Ok(db)
        }
        None => {
            let db = Db::connect_with(&url_from_env_or_private()?, options)?;
            db.run_pending_migrations()?;
            Ok(db)
        }
    }
}
