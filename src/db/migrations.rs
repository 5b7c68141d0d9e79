//! Migrations: embedded, applied, reverted and compared with the database's.

use diesel::pg::PgConnection;
use diesel::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::{Error, Result};

use super::Db;

/// The migrations in `migrations/`, compiled into the crate.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Whether the schema matches this crate's migrations. See [`Db::migration_status`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationStatus {
    /// Every migration of this crate is applied, and no other.
    Current,
    /// These migrations of this crate are not applied yet (oldest first).
    Pending(Vec<String>),
    /// The database has migrations this crate does not know: it was migrated by a
    /// newer release.
    DatabaseNewer(Vec<String>),
}

impl std::fmt::Display for MigrationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MigrationStatus::Current => write!(f, "current"),
            MigrationStatus::Pending(names) => {
                write!(f, "{} pending: {}", names.len(), names.join(", "))
            }
            MigrationStatus::DatabaseNewer(versions) => write!(
                f,
                "database newer than this crate: unknown migrations {}",
                versions.join(", ")
            ),
        }
    }
}

impl Db {
    /// Compares the database's applied migrations with this crate's. Needs only
    /// SELECT on `__diesel_schema_migrations` (granted to the writer and reader
    /// groups), so a least-privilege service can check before it serves.
    pub fn migration_status(&self) -> Result<MigrationStatus> {
        self.read_statement(status)
    }

    /// `Ok` when the schema is [`MigrationStatus::Current`]; otherwise
    /// [`Error::SchemaNotCurrent`] saying what differs and who must migrate.
    pub fn check_schema(&self) -> Result<()> {
        match self.migration_status()? {
            MigrationStatus::Current => Ok(()),
            status => Err(Error::SchemaNotCurrent {
                message: format!(
                    "schema of {} is not current ({status}): run `hurricane-db migrate` as \
                     the database owner",
                    self.server
                ),
                source: None,
            }),
        }
    }

    /// Applies every pending migration; returns the versions applied. DDL: only the
    /// database owner can do this; anyone else gets [`Error::PermissionDenied`]
    /// saying so.
    pub fn run_pending_migrations(&self) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        apply_pending(&mut conn)
    }

    /// Reverts the most recent migration; returns its version.
    pub fn revert_last_migration(&self) -> Result<String> {
        let mut conn = self.conn()?;
        let version = conn
            .revert_last_migration(MIGRATIONS)
            .map(|v| v.to_string());
        version.map_err(|e| migration_error(&mut conn, e))
    }

    /// Reverts every applied migration, newest first; returns the versions reverted.
    pub fn revert_all_migrations(&self) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        let versions = conn
            .revert_all_migrations(MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect());
        versions.map_err(|e| migration_error(&mut conn, e))
    }

    /// Names of migrations not yet applied.
    pub fn pending_migrations(&self) -> Result<Vec<String>> {
        match self.migration_status()? {
            MigrationStatus::Pending(names) => Ok(names),
            _ => Ok(Vec::new()),
        }
    }
}

/// Applies pending migrations on one connection; returns the versions applied.
fn apply_pending(conn: &mut PgConnection) -> Result<Vec<String>> {
    let versions: std::result::Result<Vec<String>, _> = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|v| v.iter().map(ToString::to_string).collect());
    let versions = versions.map_err(|e| migration_error(conn, e))?;
    for v in &versions {
        tracing::info!(version = %v, "applied migration");
    }
    Ok(versions)
}

/// A migration failure; a permission failure says that the owner must migrate.
fn migration_error(conn: &mut PgConnection, e: Box<dyn std::error::Error + Send + Sync>) -> Error {
    let text = e.to_string();
    if text.contains("permission denied") || text.contains("must be owner") {
        let who = current_user(conn).unwrap_or_else(|| "this login".into());
        return Error::PermissionDenied {
            message: format!(
                "{who} may not change the schema ({text}): migrations must be run by the \
                 database owner (`hurricane-db migrate` with the owner's DATABASE_URL)"
            ),
            source: None,
        };
    }
    Error::Migration { source: e }
}

fn current_user(conn: &mut PgConnection) -> Option<String> {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>("current_user"))
        .get_result(conn)
        .ok()
}

/// See [`Db::migration_status`]; on one connection.
fn status(conn: &mut PgConnection) -> Result<MigrationStatus> {
    use diesel::migration::MigrationSource;
    use diesel::pg::Pg;
    let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
        "to_regclass('__diesel_schema_migrations') IS NOT NULL",
    ))
    .get_result(conn)?;
    let applied: Vec<String> = if exists {
        let rows =
            diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
                .load::<Version>(conn)
                .map_err(Error::from);
        match rows {
            Ok(rows) => rows.into_iter().map(|v| v.version).collect(),
            // Granted by migration 000005: a login that cannot read the table is on a
            // database older than that.
            Err(Error::PermissionDenied { .. }) => {
                return Err(Error::SchemaNotCurrent {
                    message: format!(
                        "{} may not read __diesel_schema_migrations: the database predates \
                         migration 2026-11-27-000005; run `hurricane-db migrate` as the \
                         database owner",
                        current_user(conn).unwrap_or_else(|| "this login".into())
                    ),
                    source: None,
                })
            }
            Err(e) => return Err(e),
        }
    } else {
        Vec::new()
    };
    let ours = MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .map_err(|source| Error::Migration { source })?;
    let ours: Vec<(String, String)> = ours
        .iter()
        .map(|m| {
            let name = m.name();
            (name.version().to_string(), name.to_string())
        })
        .collect();
    let unknown: Vec<String> = applied
        .iter()
        .filter(|v| !ours.iter().any(|(ov, _)| ov == *v))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Ok(MigrationStatus::DatabaseNewer(unknown));
    }
    let pending: Vec<String> = ours
        .into_iter()
        .filter(|(v, _)| !applied.contains(v))
        .map(|(_, name)| name)
        .collect();
    Ok(if pending.is_empty() {
        MigrationStatus::Current
    } else {
        MigrationStatus::Pending(pending)
    })
}

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}
