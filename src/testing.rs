//! Throwaway PostgreSQL for tests and benchmarks: one cluster per process, one
//! database per test, cloned from a migrated template.
//!
//! The cluster lives in `/tmp/hurricane-db-test-<pid>` (never `./.hurricane-db`, never
//! port 5432), runs with fsync off, and is stopped and deleted when the process exits.
//! Clusters left behind by a killed run are reaped by the next one.
//!
//! ```no_run
//! let test_db = hurricane_db::testing::TestDb::new();
//! let n = test_db.db.transaction(|conn| {
//!     use diesel::prelude::*;
//!     Ok::<_, hurricane_db::Error>(hurricane_db::schema::hurricanes::table.count().get_result::<i64>(conn)?)
//! })?;
//! assert_eq!(n, 0);
//! # Ok::<(), hurricane_db::Error>(())
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use diesel::prelude::*;

use crate::cluster::{quote_ident, Cluster, Durability};
use crate::db::{run_pending_migrations, Db, DbOptions};

const PREFIX: &str = "hurricane-db-test-";
const TEMPLATE: &str = "hurricane_template";

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The process's throwaway cluster, started on first use with a migrated template.
///
/// Panics if PostgreSQL cannot be started: this is test support, and a test without
/// its database cannot say anything useful.
pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        reap_stale_clusters();
        let dir = std::env::temp_dir().join(format!("{PREFIX}{}", std::process::id()));
        let cluster = Cluster::ensure(&dir, Durability::Throwaway)
            .unwrap_or_else(|e| panic!("cannot start the test cluster: {e}"));
        // SAFETY: registering a plain extern "C" fn with no captured state.
        unsafe { libc::atexit(destroy_at_exit) };
        build_template(&cluster);
        cluster
    })
}

/// A fresh, migrated database that is dropped when this value is.
pub struct TestDb {
    /// Database name, unique within the cluster.
    pub name: String,
    /// Superuser URL over the private socket.
    pub url: String,
    /// A pool on this database (size from [`DbOptions::default`]).
    pub db: Db,
    // Declared last: fields drop in order, so the pool closes before the drop.
    _drop: DropDatabase,
}

struct DropDatabase(String);

impl Default for TestDb {
    fn default() -> Self {
        TestDb::new()
    }
}

impl TestDb {
    /// A migrated database cloned from the template.
    pub fn new() -> TestDb {
        TestDb::with_options(DbOptions::default())
    }

    /// Same as [`TestDb::new`] with explicit pool settings.
    pub fn with_options(options: DbOptions) -> TestDb {
        TestDb::create(Some(TEMPLATE), options)
    }

    /// An empty database with no migrations applied.
    pub fn empty() -> TestDb {
        TestDb::create(None, DbOptions::default())
    }

    fn create(template: Option<&str>, options: DbOptions) -> TestDb {
        let cluster = cluster();
        let name = format!(
            "test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let sql = match template {
            Some(t) => format!(
                "CREATE DATABASE {} TEMPLATE {}",
                quote_ident(&name),
                quote_ident(t)
            ),
            None => format!("CREATE DATABASE {}", quote_ident(&name)),
        };
        admin_execute(cluster, &sql);
        let url = cluster.url(&name);
        let db = Db::connect_with(&url, options)
            .unwrap_or_else(|e| panic!("cannot connect to {name}: {e}"));
        TestDb {
            _drop: DropDatabase(name.clone()),
            name,
            url,
            db,
        }
    }

    /// URL for a login user over TCP, where the cluster checks passwords (SCRAM).
    /// Test-only: real services should keep passwords out of URLs (use PGPASSWORD).
    pub fn login_url(&self, user: &str, password: &str) -> String {
        cluster().tcp_url(user, &self.name).replacen(
            &format!("{user}@"),
            &format!("{user}:{password}@"),
            1,
        )
    }

    /// A plain connection outside the pool (e.g. to observe the pool's sessions).
    pub fn connect(&self) -> PgConnection {
        PgConnection::establish(&self.url).unwrap_or_else(|e| panic!("connect {}: {e}", self.name))
    }
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        if let Some(cluster) = CLUSTER.get() {
            let sql = format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&self.0)
            );
            if let Ok(mut conn) = PgConnection::establish(&cluster.url("postgres")) {
                let _ = diesel::sql_query(sql).execute(&mut conn);
            }
        }
    }
}

/// A name unique in this cluster (roles are cluster-wide), e.g. for login users.
pub fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// Runs one statement as superuser on the `postgres` maintenance database.
pub fn admin_execute(cluster: &Cluster, sql: &str) {
    let mut conn = PgConnection::establish(&cluster.url("postgres"))
        .unwrap_or_else(|e| panic!("connect to test cluster: {e}"));
    diesel::sql_query(sql)
        .execute(&mut conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn build_template(cluster: &Cluster) {
    admin_execute(
        cluster,
        &format!("CREATE DATABASE {}", quote_ident(TEMPLATE)),
    );
    let mut conn = PgConnection::establish(&cluster.url(TEMPLATE))
        .unwrap_or_else(|e| panic!("connect to template: {e}"));
    run_pending_migrations(&mut conn).unwrap_or_else(|e| panic!("migrate template: {e}"));
}

extern "C" fn destroy_at_exit() {
    if let Some(cluster) = CLUSTER.get() {
        destroy(cluster.dir());
    }
}

/// Stops a throwaway cluster at once and deletes its folder.
pub fn destroy(dir: &Path) {
    let _ = Cluster::stop_immediately(dir);
    let _ = std::fs::remove_dir_all(dir);
}

/// Removes clusters of test processes that no longer exist (killed runs).
fn reap_stale_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: kill with signal 0 only checks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !alive {
            let dir: PathBuf = entry.path();
            destroy(&dir);
        }
    }
}

/// A valid observation with the given FID (HURRICANE ANDREW's landfall, 1992-08-24).
pub fn sample_observation(fid: i32) -> crate::models::NewHurricane {
    use chrono::TimeZone;
    let dec = |s: &str| {
        s.parse::<bigdecimal::BigDecimal>()
            .expect("literal decimal")
    };
    crate::models::NewHurricane {
        fid,
        timestamp: chrono::Utc
            .with_ymd_and_hms(1992, 8, 24, 9, 0, 0)
            .single()
            .expect("valid literal time"),
        btid: 1,
        name: "ANDREW".into(),
        lat: dec("25.500000"),
        long: dec("-80.300000"),
        wind_kts: 145,
        pressure: Some(922),
        cat: "H5".into(),
        basin: "North Atlantic".into(),
        shape_length: dec("1.140175"),
    }
}
