//! Issue 10: the library behind a real PgBouncer in transaction mode (Debian's
//! `pgbouncer`, started by each test on a free port in front of this binary's
//! throwaway cluster, stopped when the test ends, also when it panics).
//!
//! In transaction mode every transaction may run on another server connection, and a
//! server connection serves many clients in turn. What must hold there:
//! - the audit trail names the right application user for every write (the name is
//!   set per transaction, never per session);
//! - reads return the row asked for, without errors, when Diesel's prepared-statement
//!   cache is off (with it on, named statements prepared on one server connection are
//!   missing, or already taken, on the next: printed as the contrast);
//! - a session-level `hurricane_db.app_user` that some other client left on a shared
//!   server connection is never recorded for our writes.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use hurricane_db::audit::Edit;
use hurricane_db::roles::{add_user, Role};
use hurricane_db::schema::{edits, hurricanes};
use hurricane_db::Db;
use hurricane_db::HurricaneChanges;
use hurricane_db_testkit::{sample_observation, unique_name, TestDb};

const PASSWORD: &str = "bouncer-Secret-10";
const APP_USERS: i32 = 16;

/// A PgBouncer process in transaction mode for one database and one login; killed
/// when dropped.
struct Bouncer {
    child: Child,
    port: u16,
    /// Config, userlist, log and pid file; deleted when dropped.
    _dir: tempfile::TempDir,
}

impl Bouncer {
    /// Starts PgBouncer in front of `t`'s database, letting `user` in with
    /// `password`, with at most `server_pool` server connections.
    fn start(t: &TestDb, user: &str, password: &str, server_pool: u32) -> Bouncer {
        let exe = pgbouncer_exe();
        let dir = tempfile::Builder::new()
            .prefix("hurricane-db-pgbouncer-")
            .tempdir()
            .expect("temporary folder for PgBouncer");
        // PgBouncer refuses to run as root: then it runs as the `postgres` OS user
        // (which also runs the cluster) in a folder it owns.
        // SAFETY: geteuid has no preconditions and cannot fail.
        let run_as = if unsafe { libc::geteuid() } == 0 {
            let (uid, gid) = postgres_ids();
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .expect("give PgBouncer's folder to postgres");
            Some((uid, gid))
        } else {
            None
        };
        fs::write(
            dir.path().join("userlist.txt"),
            format!("\"{user}\" \"{}\"\n", password.replace('"', "\"\"")),
        )
        .expect("write userlist.txt");

        let mut last_log = String::new();
        for _ in 0..5 {
            let port = free_port();
            let config = dir.path().join("pgbouncer.ini");
            fs::write(&config, config_text(dir.path(), t, port, server_pool))
                .expect("write pgbouncer.ini");
            let mut cmd = Command::new(&exe);
            cmd.arg(&config)
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                // Errors before the log file is open (a bad setting) go to stderr.
                .stderr(fs::File::create(dir.path().join("stderr.log")).expect("stderr.log"));
            if let Some((uid, gid)) = run_as {
                // std drops root's supplementary groups when it changes the uid.
                cmd.uid(uid).gid(gid);
            }
            // SAFETY: prctl is async-signal-safe; it only asks the kernel to kill this
            // child if the test's thread dies without running Drop (a killed test run).
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let mut child = cmd.spawn().unwrap_or_else(|e| {
                panic!(
                    "cannot run {} ({e}): install PgBouncer (Debian/Ubuntu: \
                     `apt-get install pgbouncer`)",
                    exe.display()
                )
            });
            match wait_listening(&mut child, port, dir.path()) {
                Ok(()) => {
                    return Bouncer {
                        child,
                        port,
                        _dir: dir,
                    }
                }
                Err(log) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_log = log;
                    if !last_log.contains("in use") {
                        break;
                    }
                }
            }
        }
        panic!("PgBouncer did not start; its log:\n{last_log}");
    }

    /// URL of `database` through PgBouncer for `user` (test only: password in URL).
    fn url(&self, user: &str, password: &str, database: &str) -> String {
        format!(
            "postgresql://{user}:{password}@127.0.0.1:{}/{database}",
            self.port
        )
    }
}

/// Waits until PgBouncer accepts TCP connections; `Err(log)` if it exits first.
fn wait_listening(child: &mut Child, port: u16, dir: &Path) -> Result<(), String> {
    let log = || {
        ["stderr.log", "pgbouncer.log"]
            .map(|f| fs::read_to_string(dir.join(f)).unwrap_or_default())
            .join("\n")
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited with {status}\n{}", log()));
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("not listening after 15 s\n{}", log()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config_text(dir: &Path, t: &TestDb, port: u16, server_pool: u32) -> String {
    let cluster_port = hurricane_db_testkit::cluster().port();
    let dir = dir.display();
    format!(
        "[databases]\n\
         {db} = host=127.0.0.1 port={cluster_port} dbname={db}\n\
         \n\
         [pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {port}\n\
         unix_socket_dir =\n\
         auth_type = scram-sha-256\n\
         auth_file = {dir}/userlist.txt\n\
         pool_mode = transaction\n\
         default_pool_size = {server_pool}\n\
         max_client_conn = 100\n\
         logfile = {dir}/pgbouncer.log\n\
         pidfile = {dir}/pgbouncer.pid\n\
         ignore_startup_parameters = extra_float_digits\n",
        db = t.name,
    )
}

fn pgbouncer_exe() -> PathBuf {
    let debian = Path::new("/usr/sbin/pgbouncer");
    if debian.exists() {
        return debian.to_path_buf();
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("pgbouncer"))
        .find(|p| p.exists())
        .unwrap_or_else(|| debian.to_path_buf())
}

/// uid and gid of the `postgres` OS user.
fn postgres_ids() -> (u32, u32) {
    let name = std::ffi::CString::new("postgres").expect("no NUL");
    // SAFETY: getpwnam with a valid C string; the fields are copied out at once.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    assert!(
        !pw.is_null(),
        "no `postgres` OS user: install the PostgreSQL server (apt-get install postgresql)"
    );
    // SAFETY: non-null result of getpwnam, read before any other getpw* call.
    unsafe { ((*pw).pw_uid, (*pw).pw_gid) }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// A test database with FIDs 1..=32 (inserted directly, not through PgBouncer), a
/// writer login, and PgBouncer in front of it.
fn setup(server_pool: u32) -> (TestDb, String, Bouncer) {
    let t = TestDb::new();
    let rows: Vec<_> = (1..=2 * APP_USERS).map(sample_observation).collect();
    let mut admin = t.connect();
    diesel::insert_into(hurricanes::table)
        .values(&rows)
        .execute(&mut admin)
        .expect("insert the rows");
    let writer = unique_name("bouncer_writer");
    add_user(&mut admin, &writer, Role::Writer, PASSWORD).expect("add the writer login");
    let bouncer = Bouncer::start(&t, &writer, PASSWORD, server_pool);
    (t, writer, bouncer)
}

fn last_edit_id(conn: &mut PgConnection) -> i64 {
    edits::table
        .select(diesel::dsl::max(edits::id))
        .first::<Option<i64>>(conn)
        .expect("read edits")
        .unwrap_or(0)
}

fn edits_after(conn: &mut PgConnection, after: i64) -> Vec<Edit> {
    edits::table
        .filter(edits::id.gt(after))
        .order(edits::id)
        .select(Edit::as_select())
        .load(conn)
        .expect("read edits")
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Server sessions of `user` on the cluster now (PgBouncer's side of the pool).
fn server_sessions(conn: &mut PgConnection, user: &str) -> i64 {
    diesel::sql_query("SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1")
        .bind::<Text, _>(user)
        .get_result::<Count>(conn)
        .expect("read pg_stat_activity")
        .n
}

#[test]
fn sixteen_app_users_through_pgbouncer_in_transaction_mode_are_attributed_exactly() {
    const UPDATES: i32 = 25;
    let (t, writer, bouncer) = setup(4);
    let db = Db::builder()
        .pool_size(8)
        .statement_cache(false)
        .connect(&bouncer.url(&writer, PASSWORD, &t.name))
        .expect("connect through PgBouncer");
    let mut admin = t.connect();
    let before = last_edit_id(&mut admin);

    let results: Vec<(i64, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..APP_USERS)
            .map(|k| {
                let db = &db;
                s.spawn(move || {
                    let user = format!("user_{k}");
                    let mut acked = 0;
                    let mut errors = Vec::new();
                    for i in 0..UPDATES {
                        // User k owns FIDs 2k+1 and 2k+2; every update sets a new wind.
                        let fid = 2 * k + 1 + (i % 2);
                        let wind = 10 + i as i16;
                        let changes = HurricaneChanges {
                            wind_kts: Some(wind),
                            ..HurricaneChanges::default()
                        };
                        match db.update_observation(&user, fid, &changes) {
                            Ok(row) => {
                                assert_eq!((row.fid, row.wind_kts), (fid, wind), "{user}");
                                acked += 1;
                            }
                            Err(e) => errors.push(format!("{user} fid {fid}: {e}")),
                        }
                    }
                    (acked, errors)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let acked: i64 = results.iter().map(|r| r.0).sum();
    let errors: Vec<&String> = results.iter().flat_map(|r| &r.1).collect();

    let updates: Vec<Edit> = edits_after(&mut admin, before)
        .into_iter()
        .filter(|e| e.action == "U")
        .collect();
    let misattributed: Vec<String> = updates
        .iter()
        .filter(|e| {
            let owner = (e.row_id.unwrap_or(0) - 1) / 2;
            e.app_user.as_deref() != Some(format!("user_{owner}").as_str()) || e.db_user != writer
        })
        .map(|e| format!("edit {} fid {:?}: {:?}", e.id, e.row_id, e.app_user))
        .collect();
    let sessions = server_sessions(&mut admin, &writer);
    println!(
        "pgbouncer transaction mode, statement cache off: {} writes by {APP_USERS} app users, \
         {} errors, {} misattributed (client pool of 8 over {sessions} server sessions)",
        updates.len(),
        errors.len(),
        misattributed.len()
    );
    assert!(errors.is_empty(), "errors: {errors:#?}");
    assert!(
        misattributed.is_empty(),
        "misattributed: {misattributed:#?}"
    );
    assert_eq!(acked, i64::from(APP_USERS * UPDATES));
    assert_eq!(
        updates.len() as i64,
        acked,
        "one edit per acknowledged update"
    );
    assert!(
        sessions <= 4,
        "PgBouncer's default_pool_size is 4; the cluster saw {sessions} sessions"
    );
    drop(db);
}

/// 16 threads x 200 reads of random FIDs through `db`: (errors, wrong rows, first error).
fn read_workload(db: &Db) -> (usize, usize, Option<String>) {
    let results: Vec<(usize, usize, Option<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..APP_USERS)
            .map(|k| {
                s.spawn(move || {
                    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ (k as u64 + 1).wrapping_mul(7919);
                    let (mut errors, mut wrong, mut first) = (0, 0, None);
                    for _ in 0..200 {
                        // xorshift64: a different sequence of FIDs per thread.
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        let fid = (state % (2 * APP_USERS) as u64) as i32 + 1;
                        match db.observation(fid) {
                            Ok(row) if row.fid == fid => {}
                            Ok(_) => wrong += 1,
                            Err(e) => {
                                errors += 1;
                                first.get_or_insert_with(|| e.to_string());
                            }
                        }
                    }
                    (errors, wrong, first)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let errors = results.iter().map(|r| r.0).sum();
    let wrong = results.iter().map(|r| r.1).sum();
    let first = results.into_iter().find_map(|r| r.2);
    (errors, wrong, first)
}

#[test]
fn diesel_statement_cache_must_be_off_behind_pgbouncer_in_transaction_mode() {
    let (t, writer, bouncer) = setup(4);
    let url = bouncer.url(&writer, PASSWORD, &t.name);
    let reads = APP_USERS * 200;

    // The contrast: Diesel's named statements (__diesel_stmt_N) are prepared on
    // whichever server connection PgBouncer lent for that statement.
    let cached = Db::builder().pool_size(8).connect(&url).unwrap();
    let (errors, wrong, first) = read_workload(&cached);
    drop(cached);
    println!(
        "pgbouncer transaction mode, statement cache on: {reads} reads, {errors} errors, \
         {wrong} wrong rows{}",
        first.map_or_else(String::new, |e| format!(" (first error: {e})"))
    );

    let uncached = Db::builder()
        .pool_size(8)
        .statement_cache(false)
        .connect(&url)
        .unwrap();
    let (errors, wrong, first) = read_workload(&uncached);
    println!(
        "pgbouncer transaction mode, statement cache off: {reads} reads, {errors} errors, \
         {wrong} wrong rows"
    );
    assert_eq!((errors, wrong), (0, 0), "first error: {first:?}");
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

#[test]
fn a_session_level_app_user_left_on_a_pgbouncer_server_connection_is_not_recorded() {
    // One server connection: every client's transaction runs on the same session.
    let (t, writer, bouncer) = setup(1);
    let url = bouncer.url(&writer, PASSWORD, &t.name);
    let options = Db::builder().pool_size(1).statement_cache(false);
    let careless = options.clone().connect(&url).unwrap();
    let db = options.connect(&url).unwrap();

    // Another client's mistake: set_config(..., false) names mallory for the whole
    // server session, which outlives its transaction and its client.
    careless
        .transaction(|c| {
            diesel::sql_query("SELECT set_config('hurricane_db.app_user', 'mallory', false)")
                .execute(c)?;
            Ok::<_, hurricane_db::Error>(())
        })
        .unwrap();
    drop(careless);
    let leaked: Setting = db
        .read_statement(|c| {
            Ok(
                diesel::sql_query("SELECT current_setting('hurricane_db.app_user', true) AS value")
                    .get_result(c)?,
            )
        })
        .unwrap();
    println!(
        "session-level app user seen by another PgBouncer client outside a transaction: {:?}",
        leaked.value
    );
    assert_eq!(
        leaked.value.as_deref(),
        Some("mallory"),
        "the setup must really leave mallory on the shared server session"
    );

    let mut admin = t.connect();
    let before = last_edit_id(&mut admin);
    let fid = 1000;
    db.insert_observation("alice", &sample_observation(fid))
        .unwrap();
    db.transaction(|c| {
        diesel::update(hurricanes::table.find(fid))
            .set(hurricanes::wind_kts.eq(99))
            .execute(c)?;
        Ok::<_, hurricane_db::Error>(())
    })
    .unwrap();
    let recorded: Vec<(String, Option<String>)> = edits_after(&mut admin, before)
        .into_iter()
        .map(|e| (e.action, e.app_user))
        .collect();
    println!(
        "after mallory's session-level set_config: transaction_as(\"alice\") insert recorded as \
         {:?}; plain transaction (no app user) update recorded as {:?}",
        recorded.first().and_then(|r| r.1.as_deref()),
        recorded.get(1).and_then(|r| r.1.as_deref()),
    );
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert_eq!(
        (recorded[0].0.as_str(), recorded[0].1.as_deref()),
        ("I", Some("alice"))
    );
    assert_eq!(recorded[1].0, "U");
    assert_ne!(
        recorded[1].1.as_deref(),
        Some("mallory"),
        "a write with no app user must not be recorded as the session-level leftover"
    );
    assert_eq!(
        recorded[1].1, None,
        "a write with no app user is recorded with none"
    );
}
