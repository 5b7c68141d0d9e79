//! Issue 2, point 6: with no DATABASE_URL the CLI runs its own PostgreSQL in
//! ./.hurricane-db of the current directory; data survives `db stop`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use diesel::prelude::*;
use diesel::sql_types::BigInt;

fn cli(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run hurricane-db")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[test]
fn private_cluster_starts_serves_stops_and_keeps_data() {
    let work = tempfile::tempdir().unwrap();
    // The server may run as the postgres OS user: it must reach the folder.
    std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o755)).unwrap();

    let summary = stdout(&cli(work.path(), &["migrate"]));
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations"))
        .unwrap()
        .count();
    assert!(
        summary.starts_with(&format!("migrate: {migrations} applied, 0 pending")),
        "{summary}"
    );
    assert!(work.path().join(".hurricane-db/data/PG_VERSION").exists());

    let url = stdout(&cli(work.path(), &["db", "url"]));
    assert!(
        url.starts_with("postgresql://postgres@/hurricane_db?host="),
        "{url}"
    );
    {
        let mut conn = PgConnection::establish(&url).expect("connect with the printed URL");
        diesel::sql_query(
            "INSERT INTO hurricanes VALUES (1, '1992-08-24 09:00Z', 1, 'ANDREW', 25.5, -80.3, \
             145, 922, 'H5', 'North Atlantic', 1.140175)",
        )
        .execute(&mut conn)
        .unwrap();
    }

    // A reader login connects over TCP with its password (and only with it).
    let added = Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .args(["user", "add", "analyst1", "--role", "reader"])
        .current_dir(work.path())
        .env_remove("DATABASE_URL")
        .env("HURRICANE_DB_PASSWORD", "s3cret-Analyst")
        .output()
        .unwrap();
    assert_eq!(stdout(&added), "user add: analyst1 in hurricane_reader");
    let tcp = stdout(&cli(work.path(), &["db", "url", "--user", "analyst1"]));
    assert!(tcp.starts_with("postgresql://analyst1@127.0.0.1:"), "{tcp}");
    let with_password = tcp.replace("analyst1@", "analyst1:s3cret-Analyst@");
    let mut analyst = PgConnection::establish(&with_password).expect("reader over TCP");
    let n: N = diesel::sql_query("SELECT count(*) AS n FROM hurricanes")
        .get_result(&mut analyst)
        .unwrap();
    assert_eq!(n.n, 1);
    drop(analyst);
    let wrong = tcp.replace("analyst1@", "analyst1:wrong@");
    assert!(
        PgConnection::establish(&wrong).is_err(),
        "wrong password refused"
    );

    // Running it again reuses the running server and applies nothing.
    let again = stdout(&cli(work.path(), &["migrate"]));
    assert!(again.starts_with("migrate: 0 applied"), "{again}");

    let stopped = stdout(&cli(work.path(), &["db", "stop"]));
    assert!(stopped.starts_with("db stop: stopped"), "{stopped}");
    assert!(PgConnection::establish(&url).is_err(), "server is down");
    let stopped_twice = stdout(&cli(work.path(), &["db", "stop"]));
    assert!(
        stopped_twice.starts_with("db stop: was not running"),
        "{stopped_twice}"
    );

    // A later start finds the data where it was.
    let url2 = stdout(&cli(work.path(), &["db", "url"]));
    let mut conn = PgConnection::establish(&url2).expect("reconnect");
    let n: N = diesel::sql_query("SELECT count(*) AS n FROM hurricanes")
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(n.n, 1);
    drop(conn);
    stdout(&cli(work.path(), &["db", "stop"]));
}

#[test]
fn missing_postgresql_is_one_clear_sentence() {
    let work = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .args(["db", "url"])
        .current_dir(work.path())
        .env_remove("DATABASE_URL")
        .env("HURRICANE_DB_PG_BIN", work.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("PostgreSQL server programs (initdb, pg_ctl, postgres) were not found")
            && err.contains("apt-get install postgresql"),
        "{err}"
    );
    assert!(
        !work.path().join(".hurricane-db").exists(),
        "nothing half-made"
    );
}

#[test]
fn a_bad_database_url_is_reported_without_its_password() {
    let work = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .arg("migrate")
        .current_dir(work.path())
        .env(
            "DATABASE_URL",
            "postgresql://ihw:Hunter2Secret@127.0.0.1:1/ihw",
        )
        .env("HURRICANE_DB_CONNECT_TIMEOUT_SECS", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("connection failed"), "{err}");
    assert!(!err.contains("Hunter2Secret"), "{err}");
}

/// Issue 16 point 2: the README's first command, in a fresh folder, ends by saying
/// where the database is, that its server keeps running, how to stop it and what to
/// try next; its last line is the summary. The suggestion it prints works as written.
#[test]
fn demo_says_where_the_database_is_how_to_stop_it_and_what_to_try_next() {
    let work = tempfile::tempdir().unwrap();
    std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = stdout(&cli(work.path(), &["demo"]));
    let lines: Vec<&str> = out.lines().collect();
    let tail = &lines[lines.len().saturating_sub(9)..];
    println!("{}", tail.join("\n"));
    let dir = work.path().join(".hurricane-db");
    assert!(out.contains(&dir.display().to_string()), "{out}");
    assert!(out.contains("keeps running"), "{out}");
    assert!(out.contains("hurricane-db db stop"), "{out}");
    let tries: Vec<&str> = lines
        .iter()
        .skip_while(|l| !l.starts_with("Try next:"))
        .skip(1)
        .take_while(|l| l.starts_with("  hurricane-db "))
        .copied()
        .collect();
    assert_eq!(tries.len(), 2, "{out}");
    let last = lines.last().copied().unwrap_or_default();
    assert!(
        last.starts_with("demo: ") && last.contains(" observations, "),
        "{last}"
    );
    // The first suggestion, as printed (without its comment).
    let first: Vec<&str> = tries[0]
        .split('#')
        .next()
        .unwrap()
        .split_whitespace()
        .skip(1)
        .collect();
    let track = stdout(&cli(work.path(), &first));
    assert!(track.lines().count() > 30, "{track}");
    stdout(&cli(work.path(), &["db", "stop"]));
}
