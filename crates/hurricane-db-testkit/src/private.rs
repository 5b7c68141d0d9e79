//! The private cluster in `./.hurricane-db/` of the current directory: what
//! `hurricane-db demo`, `hurricane-db db start` and the examples use when no
//! `DATABASE_URL` names a server.
//!
//! Unlike the throwaway clusters of tests it is durable and survives a stop. It lives
//! here, not in `hurricane-db`, so that a service depending on the library compiles
//! none of the initdb/pg_ctl/`libc` machinery it never runs.

use hurricane_db::{database_url_from_env, Db, DbBuilder, Result};

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

/// A pool for `DATABASE_URL`, else for the private cluster, with the settings of
/// [`DbBuilder::override_from_env`]. Runs no migration.
pub fn db_from_env_or_private() -> Result<Db> {
    Db::builder()
        .override_from_env()?
        .connect(&url_from_env_or_private()?)
}

/// What tools that serve or query use. With `DATABASE_URL`: a pool for that login
/// that runs no DDL and insists on a current schema ([`Db::check_schema`]). Without
/// it: the private cluster, which belongs to the caller and so is migrated.
pub fn db_checked_or_private(builder: DbBuilder) -> Result<Db> {
    match database_url_from_env()? {
        Some(url) => {
            let db = builder.connect(&url)?;
            db.check_schema()?;
            Ok(db)
        }
        None => {
            let db = builder.connect(&url_from_env_or_private()?)?;
            db.run_pending_migrations()?;
            Ok(db)
        }
    }
}
