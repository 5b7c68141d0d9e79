//! Issue 8: the crate as a least-privilege service deploys it. The release-style
//! binaries (`hurricane-db serve`, the other `hurricane-db` commands and the quickstart example) are started as separate
//! processes with writer and reader logins, against real databases; failures to
//! connect must come fast, once, masked and without colour codes.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use hurricane_db::roles::{add_user, Role};
use hurricane_db_testkit::{cluster, sample_observation, unique_name, TestDb};

const PASSWORD: &str = "Deploy-Secret-31";

fn cli_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hurricane-db"))
}

/// The library's examples: `cargo test` at the workspace root builds them next to the
/// binaries' folder.
fn example_path(name: &str) -> PathBuf {
    let bin = cli_path();
    let dir = bin.parent().expect("the binary has a folder");
    dir.join("examples").join(name)
}

/// A writer and a reader login on a migrated database with two observations.
struct Logins {
    t: TestDb,
    writer: String,
    reader: String,
}

fn logins() -> Logins {
    let t = TestDb::new();
    t.db.insert_observation("setup", &sample_observation(1))
        .unwrap();
    t.db.insert_observation("setup", &sample_observation(2))
        .unwrap();
    let (writer, reader) = (unique_name("svc_writer"), unique_name("svc_reader"));
    let mut conn = t.connect();
    add_user(&mut conn, &writer, Role::Writer, PASSWORD).unwrap();
    add_user(&mut conn, &reader, Role::Reader, PASSWORD).unwrap();
    Logins { t, writer, reader }
}

/// The login's URL with the password left out: it travels in PGPASSWORD, as a
/// service manager would pass it, never on a command line.
fn url_for(t: &TestDb, user: &str) -> String {
    cluster().tcp_url(user, &t.name)
}

/// Deletes the newest migration's row, as if this crate were one release ahead of
/// the database; returns the migration's name.
fn forget_newest_migration(t: &TestDb) -> String {
    let hurricane_db::MigrationStatus::Current = t.db.migration_status().unwrap() else {
        panic!("expected a current schema first");
    };
    #[derive(QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    let v: V = diesel::sql_query(
        "DELETE FROM __diesel_schema_migrations WHERE version = \
         (SELECT max(version) FROM __diesel_schema_migrations) RETURNING version",
    )
    .get_result(&mut t.connect())
    .unwrap();
    match t.db.migration_status().unwrap() {
        hurricane_db::MigrationStatus::Pending(names) => {
            assert_eq!(names.len(), 1);
            assert!(
                names[0].replace('-', "").starts_with(&v.version),
                "{names:?}"
            );
            names[0].clone()
        }
        other => panic!("{other:?}"),
    }
}

fn cli(url: &str, args: &[&str]) -> (Output, Duration) {
    cli_env(url, args, &[])
}

/// `hurricane-db ARGS` with DATABASE_URL, the password in PGPASSWORD, more `env`;
/// its output and how long it took.
fn cli_env(url: &str, args: &[&str], env: &[(&str, &str)]) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new(cli_path())
        .args(args)
        .env("DATABASE_URL", url)
        .env("PGPASSWORD", PASSWORD)
        .envs(env.iter().copied())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run hurricane-db");
    (out, started.elapsed())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A running service; killed on drop.
struct Service {
    child: Child,
    base: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_service(url: &str) -> Result<Service, String> {
    let mut child = Command::new(cli_path())
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("PGPASSWORD", PASSWORD)
        .env("HURRICANE_DB_ADDR", "127.0.0.1:0")
        .env("HURRICANE_DB_POOL_SIZE", "4")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the service example (built by cargo test)");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    // A read error leaves `line` empty: reported below with the exit status.
    let _ = BufReader::new(stdout).read_line(&mut line);
    match line.trim().strip_prefix("service: listening on ") {
        Some(base) => Ok(Service {
            base: base.to_string(),
            child,
        }),
        None => {
            let out = child.wait_with_output().map_err(|e| e.to_string())?;
            Err(format!(
                "exit {:?}, stderr: {}",
                out.status.code(),
                text(&out.stderr)
            ))
        }
    }
}

fn status(agent: &ureq::Agent, method: &str, url: &str, body: Option<&str>) -> u16 {
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("X-App-User", "deploy-test")
        .header("Content-Type", "application/json");
    let response = match body {
        Some(b) => agent.run(request.body(b.to_string()).unwrap()),
        None => agent.run(request.body(()).unwrap()),
    };
    match response {
        Ok(r) => r.status().as_u16(),
        Err(e) => panic!("{method} {url}: {e}"),
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

#[test]
fn the_service_starts_and_serves_as_a_writer_login_and_as_a_reader_login() {
    let l = logins();
    let agent = agent();

    let writer = start_service(&url_for(&l.t, &l.writer)).expect("starts as a writer");
    let one = format!("{}/hurricanes/1", writer.base);
    assert_eq!(status(&agent, "GET", &one, None), 200);
    assert_eq!(
        status(&agent, "PATCH", &one, Some(r#"{"wind_kts": 140}"#)),
        200
    );
    assert_eq!(
        status(&agent, "DELETE", &one, None),
        403,
        "writers never delete"
    );
    drop(writer);

    let reader = start_service(&url_for(&l.t, &l.reader)).expect("starts as a reader");
    let two = format!("{}/hurricanes/2", reader.base);
    assert_eq!(status(&agent, "GET", &two, None), 200);
    assert_eq!(
        status(&agent, "PATCH", &two, Some(r#"{"wind_kts": 140}"#)),
        403
    );
    assert_eq!(status(&agent, "DELETE", &two, None), 403);
    let new = serde_json::to_string(&serde_json::json!({
        "fid": 3, "timestamp": "1992-08-24T09:00:00Z", "btid": 1, "name": "ANDREW",
        "lat": "25.5", "long": "-80.3", "wind_kts": 145, "pressure": 922, "cat": "H5",
        "basin": "North Atlantic", "shape_length": "1.14"
    }))
    .unwrap();
    assert_eq!(
        status(
            &agent,
            "POST",
            &format!("{}/hurricanes", reader.base),
            Some(&new)
        ),
        403
    );
}

#[test]
fn the_service_refuses_a_schema_that_is_not_current_in_one_line() {
    let l = logins();
    // The database lacks this release's newest migration.
    let reverted = forget_newest_migration(&l.t);
    let started = Instant::now();
    let err = start_service(&url_for(&l.t, &l.writer))
        .err()
        .expect("must refuse");
    let elapsed = started.elapsed();
    let lines: Vec<&str> = err.lines().collect();
    println!("refused in {:.2} s: {err}", elapsed.as_secs_f64());
    assert!(err.contains("exit Some(1)"), "{err}");
    assert!(err.contains("hurricane-db migrate"), "{err}");
    assert!(err.contains("database owner"), "{err}");
    assert!(
        err.contains(&reverted),
        "names the pending migration: {err}"
    );
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

/// A database nobody migrated yet (a new private cluster, a new shared database):
/// each command says so and what to run, in one line, instead of a bare `relation
/// "hurricanes" does not exist`; the load writes nothing; `migrate` then makes the
/// same load work.
#[test]
fn commands_on_an_unmigrated_database_say_to_migrate() {
    let t = TestDb::empty();
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/storm_sample.csv");
    for args in [
        vec!["load", sample],
        vec!["query", "--limit", "1"],
        vec!["storms"],
        vec!["loads"],
    ] {
        let (out, _) = cli(&t.url, &args);
        let err = text(&out.stderr);
        println!(
            "hurricane-db {}: {:?} {}",
            args[0],
            out.status.code(),
            err.trim()
        );
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("does not exist"), "{args:?}: {err}");
        assert!(
            err.contains("run `hurricane-db migrate`"),
            "{args:?}: {err}"
        );
        let error_lines = err.lines().filter(|l| l.starts_with("error")).count();
        assert_eq!(error_lines, 1, "{args:?}: one error line: {err}");
    }
    let tables: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM pg_tables WHERE schemaname = 'public')",
    ))
    .get_result(&mut t.connect())
    .unwrap();
    assert_eq!(tables, 0, "the refused load created nothing");
    let (out, _) = cli(&t.url, &["migrate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (out, _) = cli(&t.url, &["load", sample]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    println!("after migrate: {}", text(&out.stdout).trim());
}

#[test]
fn migrate_check_needs_only_select_and_tells_current_pending_and_newer() {
    let l = logins();
    let url = url_for(&l.t, &l.reader);

    let (out, _) = cli(&url, &["migrate", "--check"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", text(&out.stderr));
    assert!(
        stdout.starts_with("migrate --check: current in "),
        "{stdout}"
    );

    let reverted = forget_newest_migration(&l.t);
    let (out, _) = cli(&url, &["migrate", "--check"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.starts_with(&format!("migrate --check: 1 pending: {reverted}")),
        "{stdout}"
    );

    // Put the forgotten row back (its schema is still applied), then go back to
    // before the migration-table grant (000005): every later migration is reverted.
    diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ($1)")
        .bind::<diesel::sql_types::Text, _>(reverted.replace('-', "").split('_').next().unwrap())
        .execute(&mut l.t.connect())
        .unwrap();
    assert_eq!(
        l.t.db.migration_status().unwrap(),
        hurricane_db::MigrationStatus::Current
    );
    while !l.t.db.revert_last_migration().unwrap().contains("000005") {}
    // A non-owner cannot migrate, and is told who can.
    let (out, _) = cli(&url_for(&l.t, &l.writer), &["migrate"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("database owner"), "{stderr}");
    assert!(stderr.contains(&l.writer), "names the login: {stderr}");
    // On a database older than the migration-table grant, --check says so too.
    let (out, _) = cli(&url, &["migrate", "--check"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("database owner"), "{stderr}");

    l.t.db.run_pending_migrations().unwrap();
    diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ('29991231000000')")
        .execute(&mut l.t.connect())
        .unwrap();
    let (out, _) = cli(&url, &["migrate", "--check"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.starts_with("migrate --check: database newer than this crate"),
        "{stdout}"
    );
    // The owner's plain `migrate` has nothing to apply, and says why it left the
    // unknown version alone.
    let (out, _) = cli(&l.t.url, &["migrate"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    println!("migrate on a newer database: {stdout}{stderr}");
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.starts_with("migrate: 0 applied, 0 pending"),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "warning: the database has migrations this hurricane-db does not know \
                         (29991231000000): a newer release migrated it"
        ),
        "{stderr}"
    );
}

/// Each way a connection can fail: within 5 s, one `error:` line naming the masked
/// server and what to do, no colour codes in a pipe, the password nowhere.
#[test]
fn connection_failures_fail_fast_once_and_clearly() {
    let l = logins();
    let port = cluster().port();
    let refused_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    // Accepts TCP connections (the kernel does) but never answers: only the connect
    // timeout ends the wait. Set to 2 s here to show it is configurable.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let cases = [
        (
            "wrong password",
            format!(
                "postgresql://{}:Wrong-Secret-99@127.0.0.1:{port}/{}",
                l.writer, l.t.name
            ),
            "check the user's password",
        ),
        (
            "missing database",
            format!("postgresql://{}@127.0.0.1:{port}/no_such_db", l.writer),
            "create the database",
        ),
        (
            "refused port",
            format!(
                "postgresql://{}@127.0.0.1:{refused_port}/{}",
                l.writer, l.t.name
            ),
            "is PostgreSQL running",
        ),
        (
            "unknown host",
            format!("postgresql://{}@no-such-host.invalid:5432/x", l.writer),
            "check the host name",
        ),
        (
            "silent server, HURRICANE_DB_CONNECT_TIMEOUT_SECS=2",
            format!("postgresql://{}@127.0.0.1:{silent_port}/x", l.writer),
            "no answer within 2 s",
        ),
    ];
    for (kind, url, hint) in cases {
        let (out, elapsed) = cli_env(
            &url,
            &["migrate", "--check"],
            &[("HURRICANE_DB_CONNECT_TIMEOUT_SECS", "2")],
        );
        let stderr = text(&out.stderr);
        println!(
            "{kind}: exit {:?} in {:.2} s: {}",
            out.status.code(),
            elapsed.as_secs_f64(),
            stderr.trim()
        );
        assert_eq!(out.status.code(), Some(1), "{kind}: {stderr}");
        assert!(elapsed < Duration::from_secs(5), "{kind}: took {elapsed:?}");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{kind}: one error line: {stderr}");
        assert!(errors[0].contains(hint), "{kind}: {stderr}");
        assert!(
            !stderr.contains('\x1b'),
            "{kind}: colour codes in a pipe: {stderr:?}"
        );
        assert!(!stderr.contains("Secret"), "{kind}: {stderr}");
        assert!(
            stderr.lines().count() <= 2,
            "{kind}: the server line and one error, nothing repeated: {stderr}"
        );
    }
}

/// Issue 9 point 4, as an operator meets it: odd passwords in DATABASE_URL (raw
/// special characters, key/value form, a malformed URL) never reach the terminal.
#[test]
fn passwords_in_odd_urls_never_reach_the_output() {
    let port = cluster().port();
    let forms = [
        format!("postgresql://u:Sl/ash-Secret5@127.0.0.1:{port}/x"),
        format!("postgresql://u:Que?ry-Secret6@127.0.0.1:{port}/x"),
        format!("postgresql://u:Sp ace-Secret7@127.0.0.1:{port}/x"),
        format!("host=127.0.0.1 port={port} user=u password='Kv Secret8' dbname=x"),
        format!("host=127.0.0.1 port={port} user=u password = KvSecret9 dbname=x"),
        "postgres://u:GarbagePw-Secret11@[::1".to_string(),
        format!("postgresql://127.0.0.1:{port}/x?user=u&password=Param-Secret12"),
    ];
    for url in &forms {
        let out = Command::new(cli_path())
            .args(["migrate", "--check"])
            .env("DATABASE_URL", url)
            .env_remove("PGPASSWORD")
            .env("RUST_LOG", "trace")
            .stdin(Stdio::null())
            .output()
            .expect("run hurricane-db");
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        println!("{}", all.trim());
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(!all.contains("Secret"), "leaked: {all}");
    }
}

/// The quickstart example, run as a writer and as a reader login, meets each
/// login's limits with a sentence, not a crash, and runs no DDL.
#[test]
fn quickstart_runs_as_a_writer_and_as_a_reader_login() {
    let l = logins();
    let quickstart = example_path("quickstart");
    let run = |user: &str| {
        let out = Command::new(&quickstart)
            .env("DATABASE_URL", url_for(&l.t, user))
            .env("PGPASSWORD", PASSWORD)
            .stdin(Stdio::null())
            .output()
            .expect("run the quickstart example");
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        println!("--- as {user}:\n{}", all.trim());
        assert!(out.status.success(), "{all}");
        text(&out.stdout)
    };
    let writer = run(&l.writer);
    assert!(writer.contains("created  9000001 ANDREW"), "{writer}");
    assert!(writer.contains("delete   refused"), "{writer}");
    assert!(writer.contains("and kept fid 9000001"), "{writer}");
    let reader = run(&l.reader);
    assert!(
        reader.contains("create   refused: this login may only read"),
        "{reader}"
    );
    assert!(
        reader.contains("quickstart: read-only login, 3 observations"),
        "{reader}"
    );
}
