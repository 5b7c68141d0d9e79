//! A private PostgreSQL cluster in a folder, for machines with no server configured.
//!
//! With no `DATABASE_URL`, the CLI and the examples use `./.hurricane-db/`: initdb on
//! first use, then start (or reuse) a server that listens on a unix socket inside that
//! folder and on 127.0.0.1 at a free port. The tests use the same code on throwaway
//! folders. Local socket connections are trusted (the folder is private to its owner);
//! TCP connections must present a SCRAM-SHA-256 password, so login users made with
//! `hurricane-db user add` are really checked.
//!
//! PostgreSQL refuses to run as root, so when we are root the server runs as the
//! `postgres` OS user and owns the folder.

use std::ffi::CString;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hurricane_db::{Error, Result};

/// Name of the database the private cluster serves.
pub const DEFAULT_DATABASE: &str = "hurricane_db";
/// The cluster's superuser; it can only log in through the private socket.
pub const SUPERUSER: &str = "postgres";
/// Folder (relative to the current directory) of the CLI's private cluster.
pub const DEFAULT_DIR: &str = ".hurricane-db";

const SETTINGS_FILE: &str = "hurricane-db.conf";

/// How durable the cluster must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync on: the data must survive a crash (the CLI's private cluster).
    Durable,
    /// fsync off: throwaway clusters for tests and benchmarks, several times faster.
    Throwaway,
}

/// A running cluster rooted at `dir`.
#[derive(Debug, Clone)]
pub struct Cluster {
    dir: PathBuf,
    port: u16,
}

/// How a server is stopped (`pg_ctl stop -m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Wait for clients to disconnect.
    Smart,
    /// Disconnect clients, roll back their transactions, shut down cleanly.
    Fast,
    /// Abort at once, like a crash: the next start runs crash recovery.
    Immediate,
}

impl StopMode {
    fn as_str(self) -> &'static str {
        match self {
            StopMode::Smart => "smart",
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        }
    }
}

/// What [`Cluster::status`] found.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClusterStatus {
    /// The cluster's folder (absolute).
    pub dir: PathBuf,
    /// Whether initdb has run there.
    pub initialized: bool,
    /// The TCP port when the server runs.
    pub port: Option<u16>,
    /// Bytes of the data folder.
    pub size_bytes: u64,
    /// Whether it is a standby (`standby.signal` in its data folder), running or not.
    pub standby: bool,
}

/// Total size of the files under `path` (unreadable parts count as 0).
fn disk_usage(path: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => disk_usage(&e.path()),
            Ok(_) => e.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

/// Where the server binaries are and who must run them.
struct Runner {
    bin: PathBuf,
    /// `Some((uid, gid))` of the `postgres` OS user when we run as root.
    as_postgres: Option<(u32, u32)>,
}

impl Cluster {
    /// Starts the cluster in `dir` (initdb first if the folder is new), or reuses it if
    /// it is already running. Safe to call from several processes at once.
    pub fn ensure(dir: impl AsRef<Path>, durability: Durability) -> Result<Cluster> {
        let dir = absolute(dir.as_ref())?;
        check_socket_path(&dir)?;
        let runner = Runner::find()?;
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        runner.give_to_server(&dir)?;
        let _lock = FolderLock::acquire(&dir)?;

        let data = dir.join("data");
        if !data.join("PG_VERSION").exists() {
            tracing::info!(dir = %dir.display(), "initdb: creating a private PostgreSQL cluster");
            runner.initdb(&dir, durability)?;
        }
        if let Some(port) = running_port(&data) {
            if runner.status(&data)? {
                // Running already: it was given its database when it was started.
                return Ok(Cluster { dir, port });
            }
        }
        let port = runner.start(&dir)?;
        tracing::info!(dir = %dir.display(), port, "started PostgreSQL");
        let cluster = Cluster { dir, port };
        cluster.create_database(DEFAULT_DATABASE)?;
        Ok(cluster)
    }

    /// Stops the cluster in `dir` if it runs, letting sessions finish cleanly.
    /// Returns whether it was running.
    pub fn stop(dir: impl AsRef<Path>) -> Result<bool> {
        Cluster::stop_with(dir.as_ref(), "fast")
    }

    /// Stops at once, without a shutdown checkpoint: for throwaway clusters.
    pub fn stop_immediately(dir: impl AsRef<Path>) -> Result<bool> {
        Cluster::stop_with(dir.as_ref(), "immediate")
    }

    fn stop_with(dir: &Path, mode: &str) -> Result<bool> {
        let dir = absolute(dir)?;
        let data = dir.join("data");
        if !data.join("PG_VERSION").exists() {
            return Ok(false);
        }
        let runner = Runner::find()?;
        if !runner.status(&data)? {
            return Ok(false);
        }
        runner.pg_ctl(&["stop", "-D", path_str(&data)?, "-m", mode, "-w"])?;
        tracing::info!(dir = %dir.display(), mode, "stopped PostgreSQL");
        Ok(true)
    }

    /// Stops this running server the way `mode` says (`pg_ctl stop -m`), keeping its
    /// data; [`Cluster::start_again`] brings it back on the same port. For restart
    /// and failover tests.
    pub fn stop_server(&self, mode: StopMode) -> Result<()> {
        let data = self.dir.join("data");
        Runner::find()?.pg_ctl(&["stop", "-D", path_str(&data)?, "-m", mode.as_str(), "-w"])?;
        Ok(())
    }

    /// Starts this stopped server again on its old port.
    pub fn start_again(&self) -> Result<()> {
        Runner::find()?.start_on(&self.dir, self.port)?;
        Ok(())
    }

    /// Whether the cluster in `dir` exists and runs, and how much disk it takes.
    /// Starts nothing.
    pub fn status(dir: impl AsRef<Path>) -> Result<ClusterStatus> {
        let dir = absolute(dir.as_ref())?;
        let data = dir.join("data");
        let initialized = data.join("PG_VERSION").exists();
        let port = if initialized && Runner::find()?.status(&data)? {
            running_port(&data)
        } else {
            None
        };
        Ok(ClusterStatus {
            size_bytes: if initialized { disk_usage(&data) } else { 0 },
            standby: initialized && data.join("standby.signal").exists(),
            dir,
            initialized,
            port,
        })
    }

    /// The cluster's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// TCP port on 127.0.0.1 (also names the unix socket file).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Superuser URL for `database` over the private unix socket (no password involved).
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgresql://{SUPERUSER}@/{database}?host={}&port={}",
            percent_encode(&self.dir.to_string_lossy()),
            self.port
        )
    }

    /// URL for a login `user` over TCP; libpq takes the password from `PGPASSWORD`
    /// or `~/.pgpass`, never from the URL we print.
    pub fn tcp_url(&self, user: &str, database: &str) -> String {
        format!("postgresql://{user}@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates `database` unless it exists.
    pub fn create_database(&self, database: &str) -> Result<()> {
        use diesel::prelude::*;
        use diesel::sql_types::Text;

        #[derive(QueryableByName)]
        struct Exists {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            exists: bool,
        }
        let mut conn = PgConnection::establish(&self.url("postgres"))?;
        let found: Exists =
            diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind::<Text, _>(database)
                .get_result(&mut conn)?;
        if !found.exists {
            diesel::sql_query(format!("CREATE DATABASE {}", quote_ident(database)))
                .execute(&mut conn)?;
        }
        Ok(())
    }

    /// The cluster running in `dir`, if it runs; starts nothing.
    pub fn running(dir: impl AsRef<Path>) -> Result<Option<Cluster>> {
        let dir = absolute(dir.as_ref())?;
        let data = dir.join("data");
        if !data.join("PG_VERSION").exists() || !Runner::find()?.status(&data)? {
            return Ok(None);
        }
        Ok(running_port(&data).map(|port| Cluster { dir, port }))
    }

    /// A streaming standby of this running cluster in `dir`: a base backup over this
    /// cluster's unix socket (`pg_basebackup -c fast -X stream`, then `standby.signal`),
    /// started with its own unix socket (in `dir`) and its own free TCP port, and
    /// `primary_conninfo` naming this cluster's socket and current port (rewritten at
    /// each call, with a reload if it runs, since a restarted primary has a new port).
    /// Returns once it accepts connections and is in recovery.
    ///
    /// If `dir` already holds a cluster, it is started (or reused if it runs), like
    /// [`Cluster::ensure`]; it must still be a standby (one that was promoted is an
    /// error: delete its folder to make a new standby). A standby that has been stopped
    /// for long may need WAL the primary has already recycled (no replication slot
    /// holds it back); its log then says so, and deleting its folder rebuilds it.
    /// Base backups made at the same time need `wal_keep_size` on the primary: each
    /// one's checkpoint may recycle WAL that another has yet to stream.
    pub fn add_standby(&self, dir: impl AsRef<Path>, durability: Durability) -> Result<Cluster> {
        let dir = absolute(dir.as_ref())?;
        check_socket_path(&dir)?;
        if dir == self.dir {
            return Err(Error::Cluster(format!(
                "a standby cannot live in its primary's folder {}",
                dir.display()
            )));
        }
        let runner = Runner::find()?;
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        runner.give_to_server(&dir)?;
        let _lock = FolderLock::acquire(&dir)?;

        let data = dir.join("data");
        if !data.join("PG_VERSION").exists() {
            tracing::info!(dir = %dir.display(), primary = %self.dir.display(), "pg_basebackup: creating a standby");
            runner.base_backup(&self.dir, self.port, &dir, durability)?;
        } else if !data.join("standby.signal").exists() {
            return Err(Error::Cluster(format!(
                "{} holds a cluster that is not a standby (promoted?); delete the folder to \
                 make a new standby there",
                dir.display()
            )));
        }
        // The copied settings name the primary's socket folder: the standby gets its
        // own, and the primary's current port (it changes when the primary restarts).
        let changed = runner.write_settings(&dir, durability, Some((&self.dir, self.port)))?;
        let standby = match running_port(&data) {
            Some(port) if runner.status(&data)? => {
                if changed {
                    runner.pg_ctl(&["reload", "-D", path_str(&data)?])?;
                }
                Cluster { dir, port }
            }
            _ => {
                let port = runner.start(&dir)?;
                tracing::info!(dir = %dir.display(), port, "started a standby");
                Cluster { dir, port }
            }
        };
        standby.wait_for_recovery(std::time::Duration::from_secs(30))?;
        Ok(standby)
    }

    /// Waits until the server takes connections and says it is in recovery.
    fn wait_for_recovery(&self, timeout: std::time::Duration) -> Result<()> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let last = match self.is_in_recovery() {
                Ok(true) => return Ok(()),
                Ok(false) => {
                    return Err(Error::Cluster(format!(
                        "{} started, but is not in recovery (not a standby)",
                        self.dir.display()
                    )))
                }
                Err(e) => e,
            };
            if std::time::Instant::now() >= deadline {
                return Err(last);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Promotes this standby to a primary (`pg_ctl promote -w`): it leaves recovery
    /// and takes writes. Its old primary must not take writes any more.
    pub fn promote(&self) -> Result<()> {
        let data = self.dir.join("data");
        Runner::find()?.pg_ctl(&["promote", "-D", path_str(&data)?, "-w", "-t", "60"])?;
        tracing::info!(dir = %self.dir.display(), "promoted");
        Ok(())
    }

    /// Whether the server is a standby in recovery (`pg_is_in_recovery()`).
    pub fn is_in_recovery(&self) -> Result<bool> {
        use diesel::prelude::*;
        use diesel::sql_types::Bool;
        let mut conn = PgConnection::establish(&self.url("postgres"))?;
        Ok(
            diesel::select(diesel::dsl::sql::<Bool>("pg_is_in_recovery()"))
                .get_result(&mut conn)?,
        )
    }

    /// How many bytes of `primary`'s WAL this standby has not replayed yet: the
    /// primary's `pg_current_wal_lsn()` less this server's `pg_last_wal_replay_lsn()`.
    /// `None` when this server replays nothing (not a standby) or `primary` is itself
    /// in recovery; an error when either cannot be reached.
    pub fn replay_lag_bytes(&self, primary: &Cluster) -> Result<Option<i64>> {
        use diesel::prelude::*;
        use diesel::sql_types::{Nullable, Text};
        let mut conn = PgConnection::establish(&primary.url("postgres"))?;
        let current: Option<String> = diesel::select(diesel::dsl::sql::<Nullable<Text>>(
            "CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END",
        ))
        .get_result(&mut conn)?;
        drop(conn);
        let Some(current) = current else {
            return Ok(None);
        };
        let mut conn = PgConnection::establish(&self.url("postgres"))?;
        Ok(diesel::select(
            diesel::dsl::sql::<Nullable<diesel::sql_types::BigInt>>("pg_wal_lsn_diff(")
                .bind::<Text, _>(current)
                .sql("::pg_lsn, pg_last_wal_replay_lsn())::bigint"),
        )
        .get_result(&mut conn)?)
    }
}

impl Runner {
    fn find() -> Result<Runner> {
        let bin = find_bin_dir().ok_or_else(|| {
            Error::Cluster(
                "PostgreSQL server programs (initdb, pg_ctl, postgres) were not found in \
                 HURRICANE_DB_PG_BIN, on PATH or under /usr/lib/postgresql/*/bin: install the PostgreSQL server (Debian/Ubuntu: \
                 `apt-get install postgresql`), or set DATABASE_URL to an existing server"
                    .into(),
            )
        })?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let as_postgres = if unsafe { libc::geteuid() } == 0 {
            Some(postgres_user()?)
        } else {
            None
        };
        Ok(Runner { bin, as_postgres })
    }

    /// Where `program` is: in the server's bin folder; else beside the real `postgres`
    /// when that folder only links to it (e.g. /usr/local/bin with links to initdb,
    /// pg_ctl and postgres); else on PATH.
    fn program(&self, program: &str) -> PathBuf {
        let in_bin = self.bin.join(program);
        if in_bin.is_file() {
            return in_bin;
        }
        if let Some(real) = fs::canonicalize(self.bin.join("postgres"))
            .ok()
            .and_then(|p| p.parent().map(|d| d.join(program)))
            .filter(|p| p.is_file())
        {
            return real;
        }
        std::env::var_os("PATH")
            .and_then(|path| {
                std::env::split_paths(&path)
                    .map(|d| d.join(program))
                    .find(|p| p.is_file())
            })
            .unwrap_or(in_bin)
    }

    /// Runs a server program, as the `postgres` user when we are root.
    fn run(&self, program: &str, args: &[&str], cwd: &Path) -> Result<Output> {
        let exe = self.program(program);
        let mut cmd = match self.as_postgres {
            Some(_) => {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        cmd.args(args).current_dir(cwd).env("LC_ALL", "C");
        cmd.output()
            .map_err(|e| Error::Cluster(format!("could not run {}: {e}", exe.display())))
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<Output> {
        let out = self.run("pg_ctl", args, Path::new("/"))?;
        if !out.status.success() {
            return Err(Error::Cluster(format!(
                "pg_ctl {} failed: {}",
                args.first().unwrap_or(&""),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(out)
    }

    fn status(&self, data: &Path) -> Result<bool> {
        Ok(self
            .run("pg_ctl", &["status", "-D", path_str(data)?], Path::new("/"))?
            .status
            .success())
    }

    /// Makes `path` the server user's, so postgres can write there when we are root.
    fn give_to_server(&self, path: &Path) -> Result<()> {
        if let Some((uid, gid)) = self.as_postgres {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|e| Error::io(path, e))?;
            // The server user must be able to reach the folder through its parents.
            let probe = self.run("/usr/bin/test", &["-w", path_str(path)?], Path::new("/"));
            if !matches!(probe, Ok(ref o) if o.status.success()) {
                return Err(Error::Cluster(format!(
                    "{} is not reachable by the postgres OS user (a parent folder is private); \
                     run from a folder it can reach, or set DATABASE_URL",
                    path.display()
                )));
            }
        }
        fs::set_permissions(path, fs::Permissions::from_mode(0o700)).map_err(|e| Error::io(path, e))
    }

    fn initdb(&self, dir: &Path, durability: Durability) -> Result<()> {
        let data = dir.join("data");
        let mut args = vec![
            "-D",
            path_str(&data)?,
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--no-locale",
            // Also `local replication all trust`: standbys copy over the socket.
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        ];
        if durability == Durability::Throwaway {
            // initdb's fsync of every file it wrote takes about as long as the rest.
            args.push("--no-sync");
        }
        let out = self.run("initdb", &args, dir)?;
        if !out.status.success() {
            return Err(Error::Cluster(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let conf = data.join("postgresql.conf");
        let mut file = fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .map_err(|e| Error::io(&conf, e))?;
        writeln!(file, "\ninclude_if_exists = '{SETTINGS_FILE}'")
            .map_err(|e| Error::io(&conf, e))?;
        self.write_settings(dir, durability, None).map(|_| ())
    }

    /// Writes `data/hurricane-db.conf` (included by postgresql.conf): the unix socket in
    /// `dir` itself, TCP on 127.0.0.1, and the durability settings.
    /// For a standby, `primary` is its primary's socket folder and port, for
    /// `primary_conninfo` (application name: the standby's folder name). Returns whether
    /// the file changed.
    fn write_settings(
        &self,
        dir: &Path,
        durability: Durability,
        primary: Option<(&Path, u16)>,
    ) -> Result<bool> {
        let mut settings = format!(
            "listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = {}\n\
             password_encryption = 'scram-sha-256'\n\
             lc_messages = 'C'\n\
             max_connections = 200\n",
            conf_value(&dir.display().to_string())
        );
        if durability == Durability::Throwaway {
            // Speed over durability; and no checkpoint in the middle of a benchmark.
            settings.push_str(
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n\
                 max_wal_size = '8GB'\ncheckpoint_timeout = '1h'\n",
            );
        }
        if let Some((primary_dir, port)) = primary {
            let name = dir
                .file_name()
                .map_or("standby".into(), |n| n.to_string_lossy());
            let conninfo = format!(
                "host={} port={port} user={SUPERUSER} application_name={}",
                conninfo_value(&primary_dir.to_string_lossy()),
                conninfo_value(&name)
            );
            settings.push_str(&format!("primary_conninfo = {}\n", conf_value(&conninfo)));
        }
        let settings_path = dir.join("data").join(SETTINGS_FILE);
        if fs::read_to_string(&settings_path).is_ok_and(|old| old == settings) {
            return Ok(false);
        }
        fs::write(&settings_path, settings).map_err(|e| Error::io(&settings_path, e))?;
        self.give_to_server(&settings_path)?;
        fs::set_permissions(&settings_path, fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(&settings_path, e))?;
        Ok(true)
    }

    /// `pg_basebackup` of the primary listening in `primary_dir` on `port` into
    /// `dir/data`, with the WAL streamed alongside (`-X stream`), then `standby.signal`;
    /// the checkpoint is `fast` (a spread one takes minutes on an idle server). No
    /// `-R`: `primary_conninfo` goes in our settings file, rewritten at each start
    /// because the primary's port changes when it restarts.
    fn base_backup(
        &self,
        primary_dir: &Path,
        port: u16,
        dir: &Path,
        durability: Durability,
    ) -> Result<()> {
        let data = dir.join("data");
        let port = port.to_string();
        let mut args = vec![
            "-h",
            path_str(primary_dir)?,
            "-p",
            &port,
            "-U",
            SUPERUSER,
            "-D",
            path_str(&data)?,
            "-c",
            "fast",
            "-X",
            "stream",
            "-w",
        ];
        if durability == Durability::Throwaway {
            args.push("--no-sync");
        }
        let out = self.run("pg_basebackup", &args, dir)?;
        if !out.status.success() {
            // A half-made copy would be taken for a standby at the next start.
            let _ = fs::remove_dir_all(&data);
            return Err(Error::Cluster(format!(
                "pg_basebackup from {} failed: {}",
                primary_dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let signal = data.join("standby.signal");
        if let Err(e) = fs::write(&signal, "").and_then(|()| {
            self.give_to_server(&signal)
                .map_err(|e| std::io::Error::other(e.to_string()))
        }) {
            let _ = fs::remove_dir_all(&data);
            return Err(Error::io(&signal, e));
        }
        Ok(())
    }

    /// Starts the server on a free port and returns the port.
    fn start(&self, dir: &Path) -> Result<u16> {
        self.start_on(dir, free_port()?)
    }

    fn start_on(&self, dir: &Path, port: u16) -> Result<u16> {
        let data = dir.join("data");
        let log = dir.join("server.log");
        let port_opt = format!("-p {port}");
        self.pg_ctl(&[
            "start",
            "-D",
            path_str(&data)?,
            "-l",
            path_str(&log)?,
            "-o",
            &port_opt,
            "-w",
            "-t",
            "60",
        ])
        .map_err(|e| {
            let tail = fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(5).collect();
            Error::Cluster(format!(
                "{e}; last lines of {}: {}",
                log.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            ))
        })?;
        Ok(port)
    }
}

/// The socket path ("<dir>/.s.PGSQL.<port>") must fit in sun_path (107 bytes).
fn check_socket_path(dir: &Path) -> Result<()> {
    if dir.as_os_str().len() + 18 > 107 {
        return Err(Error::Cluster(format!(
            "{} is too long a path for a unix socket (over 89 bytes); run from a shorter \
             folder, or set DATABASE_URL",
            dir.display()
        )));
    }
    Ok(())
}

/// Port of a running server, from line 4 of postmaster.pid.
fn running_port(data: &Path) -> Option<u16> {
    let pid_file = fs::read_to_string(data.join("postmaster.pid")).ok()?;
    pid_file.lines().nth(3)?.trim().parse().ok()
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::Cluster(format!("no free TCP port on 127.0.0.1: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::Cluster(format!("no free TCP port on 127.0.0.1: {e}")))
}

/// `HURRICANE_DB_PG_BIN` if set (a chosen version), else PATH, else the newest
/// `/usr/lib/postgresql/*/bin` (Debian keeps server programs off PATH).
fn find_bin_dir() -> Option<PathBuf> {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|p| dir.join(p).is_file())
    };
    if let Some(dir) = std::env::var_os("HURRICANE_DB_PG_BIN") {
        let dir = PathBuf::from(dir);
        return has_all(&dir).then_some(dir);
    }
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|d| has_all(d)) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has_all(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn postgres_user() -> Result<(u32, u32)> {
    let name = CString::new("postgres").map_err(|e| Error::Cluster(e.to_string()))?;
    // SAFETY: getpwnam gets a valid C string; the returned record is read at once,
    // before any other call could reuse its static buffer.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(Error::Cluster(
            "running as root, but there is no `postgres` OS user to run the server as \
             (PostgreSQL refuses to run as root); install the postgresql package or run as \
             another user"
                .into(),
        ));
    }
    // SAFETY: pw is non-null and points to a passwd record.
    Ok(unsafe { ((*pw).pw_uid, (*pw).pw_gid) })
}

/// An exclusive `flock` on `dir/lock`, so two processes never initdb or start at once.
struct FolderLock(fs::File);

impl FolderLock {
    fn acquire(dir: &Path) -> Result<FolderLock> {
        use std::os::fd::AsRawFd;
        let path = dir.join("lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        // SAFETY: the descriptor is valid for the life of `file`.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(Error::io(&path, std::io::Error::last_os_error()));
        }
        Ok(FolderLock(file))
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: the descriptor is still open.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| Error::io(path, e))
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| Error::InvalidInput(format!("path is not UTF-8: {}", path.display())))
}

/// Single-quotes a postgresql.conf string value.
fn conf_value(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

/// Single-quotes a libpq connection-string value.
fn conninfo_value(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Double-quotes an SQL identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `s` as a URL query value: everything but RFC 3986's unreserved characters encoded.
fn percent_encode(s: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}
