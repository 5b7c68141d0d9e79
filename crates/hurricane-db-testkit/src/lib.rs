//! Throwaway PostgreSQL for tests and benchmarks: one cluster per process, one
//! database per test, cloned from a migrated template.
//!
//! The cluster lives in `/tmp/hurricane-db-test-<pid>` (never `./.hurricane-db`, never
//! port 5432), runs with fsync off, and is stopped and deleted when the process exits.
//! Clusters left behind by a killed run are reaped by the next one.
//!
//! [`topology`] makes a separate primary with streaming standbys, for tests of reads
//! on standbys and of failover.
//!
//! ```no_run
//! let test_db = hurricane_db_testkit::TestDb::new();
//! let n = test_db.db.transaction(|conn| {
//!     use diesel::prelude::*;
//!     Ok::<_, hurricane_db::Error>(hurricane_db::schema::hurricanes::table.count().get_result::<i64>(conn)?)
//! })?;
//! assert_eq!(n, 0);
//! # Ok::<(), hurricane_db::Error>(())
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use diesel::prelude::*;

pub mod cluster;
pub mod private;

use crate::cluster::{quote_ident, Cluster, Durability};
use hurricane_db::{Db, DbBuilder};

const PREFIX: &str = "hurricane-db-test-";
/// Folders of [`topology`] primaries: `hurricane-db-topo-<pid>-<n>`.
const TOPO_PREFIX: &str = "hurricane-db-topo-";
const TEMPLATE: &str = "hurricane_template";

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static COUNTER: AtomicUsize = AtomicUsize::new(0);
static TOPO_COUNTER: AtomicUsize = AtomicUsize::new(0);
/// Topology folders still to delete at exit (a [`Topology`]'s drop takes its own out).
static TOPOLOGIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static AT_EXIT: Once = Once::new();
static REAPED: Once = Once::new();

/// The process's throwaway cluster, started on first use with a migrated template.
///
/// Panics if PostgreSQL cannot be started: this is test support, and a test without
/// its database cannot say anything useful.
pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        REAPED.call_once(reap_stale_clusters);
        let dir = std::env::temp_dir().join(format!("{PREFIX}{}", std::process::id()));
        let cluster = Cluster::ensure(&dir, Durability::Throwaway)
            .unwrap_or_else(|e| panic!("cannot start the test cluster: {e}"));
        register_exit_cleanup();
        build_template(&cluster);
        cluster
    })
}

/// A primary and its streaming standbys, each a throwaway cluster of its own (fsync
/// off, but `synchronous_commit` on, so a commit is streamed at once), made by
/// [`topology`]. Dropping it stops every node
/// at once and deletes the folders; whatever is left at process exit (a panic, a
/// leaked value) is deleted then, and a killed run's by the next run.
///
/// The primary lives in `<temp>/hurricane-db-topo-<pid>-<n>`, standby `i` (from 1) in
/// its `standby-<i>` subfolder. Each node has its own unix socket (in its folder) and
/// TCP port; [`Cluster::url`] and [`Cluster::tcp_url`] reach it.
pub struct Topology {
    /// The writable node, with the migrated database [`Topology::database`].
    pub primary: Cluster,
    /// Read-only copies streaming from the primary, in the order made.
    pub standbys: Vec<Cluster>,
    /// The migrated database (`hurricane_db`), on every node.
    pub database: String,
    /// How long [`topology`] took to make all of it.
    pub built_in: Duration,
}

/// A NEW primary with the migrated database `hurricane_db` and `standbys` streaming
/// standbys of it, all ready: the standbys accept connections and replay.
///
/// Panics if any node cannot be made (test support).
pub fn topology(standbys: usize) -> Topology {
    let started = Instant::now();
    REAPED.call_once(reap_stale_clusters);
    register_exit_cleanup();
    let dir = std::env::temp_dir().join(format!(
        "{TOPO_PREFIX}{}-{}",
        std::process::id(),
        TOPO_COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    TOPOLOGIES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(dir.clone());
    let primary = Cluster::ensure(&dir, Durability::Throwaway)
        .unwrap_or_else(|e| panic!("cannot start the topology's primary: {e}"));
    // A walsender only sends flushed WAL: with asynchronous commit a commit would reach
    // the standbys only at the WAL writer's next round (up to 200 ms). With fsync off,
    // a synchronous commit costs a write(), no more.
    admin_execute(&primary, "ALTER SYSTEM SET synchronous_commit = on");
    // The base backups run side by side: each one's fast checkpoint would recycle the
    // WAL the other has yet to stream (its temporary slot comes after its checkpoint).
    // Keeping some WAL also lets a standby stopped by a test catch up when restarted.
    admin_execute(&primary, "ALTER SYSTEM SET wal_keep_size = '1GB'");
    admin_execute(&primary, "SELECT pg_reload_conf()");
    let database = crate::cluster::DEFAULT_DATABASE.to_string();
    migrate(&primary.url(&database)).unwrap_or_else(|e| panic!("migrate the primary: {e}"));
    // Base backups run side by side (each is a fast checkpoint and a copy).
    let standbys = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..=standbys)
            .map(|i| {
                let primary = &primary;
                let standby_dir = dir.join(format!("standby-{i}"));
                scope.spawn(move || primary.add_standby(standby_dir, Durability::Throwaway))
            })
            .collect();
        handles
            .into_iter()
            .enumerate()
            .map(|(i, h)| match h.join() {
                Ok(Ok(standby)) => standby,
                Ok(Err(e)) => panic!("cannot make standby {}: {e}", i + 1),
                Err(_) => panic!("making standby {} panicked", i + 1),
            })
            .collect()
    });
    Topology {
        primary,
        standbys,
        database,
        built_in: started.elapsed(),
    }
}

impl Topology {
    /// Superuser URL of the migrated database on the primary (unix socket).
    pub fn primary_url(&self) -> String {
        self.primary.url(&self.database)
    }

    /// Superuser URLs of the migrated database on each standby (unix sockets), in order.
    pub fn read_urls(&self) -> Vec<String> {
        self.standbys
            .iter()
            .map(|s| s.url(&self.database))
            .collect()
    }

    /// Waits until every standby has replayed all WAL the primary has written so far
    /// (so a write committed before this call is visible on all of them). Errors
    /// after `timeout`, or when a node cannot be reached.
    pub fn wait_replayed(&self, timeout: Duration) -> hurricane_db::Result<()> {
        let deadline = Instant::now() + timeout;
        for standby in &self.standbys {
            loop {
                match standby.replay_lag_bytes(&self.primary)? {
                    Some(lag) if lag <= 0 => break,
                    lag if Instant::now() >= deadline => {
                        return Err(hurricane_db::Error::Cluster(format!(
                            "standby {} still {} behind after {timeout:?}",
                            standby.dir().display(),
                            lag.map_or("not replaying".into(), |b| format!("{b} bytes"))
                        )))
                    }
                    _ => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        }
        Ok(())
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        let dir = self.primary.dir().to_path_buf();
        destroy(&dir);
        TOPOLOGIES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|d| *d != dir);
    }
}

/// A fresh, migrated database that is dropped when this value is.
pub struct TestDb {
    /// Database name, unique within the cluster.
    pub name: String,
    /// Superuser URL over the private socket.
    pub url: String,
    /// A pool on this database (the settings of [`Db::builder`] unless given).
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
        TestDb::with_builder(Db::builder())
    }

    /// Same as [`TestDb::new`] with explicit pool settings.
    pub fn with_builder(builder: DbBuilder) -> TestDb {
        TestDb::create(Some(TEMPLATE), builder)
    }

    /// An empty database with no migrations applied.
    pub fn empty() -> TestDb {
        TestDb::create(None, Db::builder())
    }

    fn create(template: Option<&str>, builder: DbBuilder) -> TestDb {
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
        let db = builder
            .connect(&url)
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
    migrate(&cluster.url(TEMPLATE)).unwrap_or_else(|e| panic!("migrate template: {e}"));
}

/// Applies the library's migrations to the database at `url`, on one connection.
fn migrate(url: &str) -> hurricane_db::Result<Vec<String>> {
    Db::builder()
        .pool_size(1)
        .connect(url)?
        .run_pending_migrations()
}

fn register_exit_cleanup() {
    AT_EXIT.call_once(|| {
        // SAFETY: registering a plain extern "C" fn with no captured state.
        unsafe { libc::atexit(destroy_at_exit) };
    });
}

extern "C" fn destroy_at_exit() {
    let topologies = std::mem::take(&mut *TOPOLOGIES.lock().unwrap_or_else(|e| e.into_inner()));
    for dir in topologies {
        destroy(&dir);
    }
    if let Some(cluster) = CLUSTER.get() {
        destroy(cluster.dir());
    }
}

/// Stops a throwaway cluster at once and deletes its folder, with the standbys in
/// its `standby-*` subfolders (stopped first).
pub fn destroy(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with("standby-") {
                let _ = Cluster::stop_immediately(entry.path());
            }
        }
    }
    let _ = Cluster::stop_immediately(dir);
    let _ = std::fs::remove_dir_all(dir);
}

/// The pid in a test cluster's (`hurricane-db-test-<pid>`) or topology's
/// (`hurricane-db-topo-<pid>-<n>`) folder name.
fn owner_pid(name: &str) -> Option<i32> {
    if let Some(pid) = name.strip_prefix(PREFIX) {
        return pid.parse().ok();
    }
    let (pid, n) = name.strip_prefix(TOPO_PREFIX)?.split_once('-')?;
    n.parse::<usize>().ok()?;
    pid.parse().ok()
}

/// Removes clusters and topologies of test processes that no longer exist (killed runs).
fn reap_stale_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(owner_pid) else {
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
pub fn sample_observation(fid: i32) -> hurricane_db::NewHurricane {
    use chrono::TimeZone;
    let dec = |s: &str| {
        s.parse::<bigdecimal::BigDecimal>()
            .expect("literal decimal")
    };
    hurricane_db::NewHurricane {
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

/// The data files tests and benchmarks read: from the folder named by
/// `HURRICANE_DB_DATA_DIR` when it is set (laid out as the team's `shared/data/`:
/// `storm_data.csv`, `hurdat2/...`), else the gzip copies bundled in the repository's
/// `data/` (see `data/README.md`). The loader reads either as it is.
///
/// ```no_run
/// use hurricane_db_testkit::data;
/// let csv = data::file(data::STORM_DATA); // prints `data: bundled data/ihw/storm_data.csv.gz [...]`
/// let text = data::read_to_string(&csv)?; // decompressed if it is gzip
/// # Ok::<(), std::io::Error>(())
/// ```
pub mod data {
    use std::collections::HashSet;
    use std::io::{self, Read, Write};
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    /// The environment variable naming a folder of full data files to use instead
    /// of the bundled copies (CI names the full files shipped beside its clone).
    pub const DIR_VAR: &str = "HURRICANE_DB_DATA_DIR";
    /// The IHW file: 35,486 observations of 1,362 storms.
    pub const STORM_DATA: &str = "storm_data.csv";
    /// NOAA HURDAT2, Atlantic: 1851's first five storms, then 2000-2016 (290 storms).
    pub const ATLANTIC: &str = "hurdat2/hurdat2-1851-2016-041117-SHORT.txt";
    /// NOAA HURDAT2, Northeast and North Central Pacific 1949-2016 (1,072 storms).
    pub const PACIFIC: &str = "hurdat2/hurdat2-nepac-1949-2016-041317.txt";

    /// Each file's name in a data folder and its bundled copy (from the workspace root).
    const BUNDLED: [(&str, &str); 3] = [
        (STORM_DATA, "data/ihw/storm_data.csv.gz"),
        (ATLANTIC, "data/noaa/hurdat2-1851-2016-041117-SHORT.txt.gz"),
        (PACIFIC, "data/noaa/hurdat2-nepac-1949-2016-041317.txt.gz"),
    ];

    /// (thread, line) already printed: each test says once which data it ran on.
    static TOLD: Mutex<Option<HashSet<(String, String)>>> = Mutex::new(None);

    /// The path of data file `name` ([`STORM_DATA`], [`ATLANTIC`] or [`PACIFIC`]):
    /// `$HURRICANE_DB_DATA_DIR/name` when the variable is set and not empty, else
    /// the bundled `.gz` copy. Prints which (once per test) on stderr, past the test
    /// harness's capture, so `cargo test`'s output shows what each test ran on:
    /// `data: bundled data/noaa/....txt.gz [test_name]` or
    /// `data: $HURRICANE_DB_DATA_DIR/hurdat2/....txt (DIR) [test_name]`.
    ///
    /// Panics if `name` is not one of the three, or if the variable names a folder
    /// without the file: a test told to use the full files must not quietly use
    /// something else.
    pub fn file(name: &str) -> PathBuf {
        let bundled = BUNDLED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
            .unwrap_or_else(|| panic!("no data file {name:?}: expected one of {BUNDLED:?}"));
        let (path, line) = match std::env::var_os(DIR_VAR).filter(|d| !d.is_empty()) {
            Some(dir) => {
                let path = Path::new(&dir).join(name);
                assert!(
                    path.is_file(),
                    "{DIR_VAR}={}: no {name} there (expected a folder laid out as shared/data)",
                    Path::new(&dir).display()
                );
                let line = format!("data: ${DIR_VAR}/{name} ({})", Path::new(&dir).display());
                (path, line)
            }
            None => (
                // The workspace root, two folders above this crate.
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../..")
                    .join(bundled),
                format!("data: bundled {bundled}"),
            ),
        };
        tell(line);
        path
    }

    /// Writes `data: ... [test]` to stderr once per thread (libtest runs each test
    /// on a thread named after it) and line. Written to the handle itself, not with
    /// `eprintln!`, which the harness would capture and hide.
    fn tell(line: String) {
        let thread = std::thread::current().name().unwrap_or("?").to_string();
        let mut told = TOLD.lock().unwrap_or_else(|p| p.into_inner());
        if told
            .get_or_insert_with(HashSet::new)
            .insert((thread.clone(), line.clone()))
        {
            let _ = io::stderr()
                .lock()
                .write_all(format!("{line} [{thread}]\n").as_bytes());
        }
    }

    /// The content of `path`, decompressed if it is gzip (by its magic bytes).
    pub fn read(path: &Path) -> io::Result<Vec<u8>> {
        let raw = std::fs::read(path).map_err(|e| at(path, e))?;
        if !raw.starts_with(&[0x1f, 0x8b]) {
            return Ok(raw);
        }
        let mut text = Vec::with_capacity(raw.len() * 6);
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .read_to_end(&mut text)
            .map_err(|e| at(path, e))?;
        Ok(text)
    }

    /// [`read`] as UTF-8 text.
    pub fn read_to_string(path: &Path) -> io::Result<String> {
        String::from_utf8(read(path)?)
            .map_err(|e| at(path, io::Error::new(io::ErrorKind::InvalidData, e)))
    }

    /// `path` itself if it is not gzip, else its decompressed content written to
    /// `dir` under its name without `.gz` (for a benchmark that times the loader on
    /// the plain file, as it would with `HURRICANE_DB_DATA_DIR`).
    pub fn plain(path: &Path, dir: &Path) -> io::Result<PathBuf> {
        let mut head = [0u8; 2];
        let n = std::fs::File::open(path)
            .and_then(|mut f| f.read(&mut head))
            .map_err(|e| at(path, e))?;
        if head[..n] != [0x1f, 0x8b] {
            return Ok(path.to_path_buf());
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().trim_end_matches(".gz").to_string())
            .unwrap_or_else(|| "data".into());
        let out = dir.join(name);
        std::fs::write(&out, read(path)?).map_err(|e| at(&out, e))?;
        Ok(out)
    }

    fn at(path: &Path, e: io::Error) -> io::Error {
        io::Error::new(e.kind(), format!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::owner_pid;

    #[test]
    fn the_reaper_reads_the_pid_of_test_and_topology_folders() {
        assert_eq!(owner_pid("hurricane-db-test-123"), Some(123));
        assert_eq!(owner_pid("hurricane-db-topo-123-0"), Some(123));
        assert_eq!(owner_pid("hurricane-db-topo-123-17"), Some(123));
        assert_eq!(owner_pid("hurricane-db-topo-123"), None);
        assert_eq!(owner_pid("hurricane-db-topo-123-x"), None);
        assert_eq!(owner_pid("hurricane-db-ci-test.log"), None);
        assert_eq!(owner_pid("hurricane-db-test-12a"), None);
    }
}
