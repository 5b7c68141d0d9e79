//! Issue 10, point 7: streaming standbys on one machine, for the library's tests
//! (`testing::topology`) and for the CLI (`hurricane-db db start --standbys N`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use hurricane_db_testkit::cluster::StopMode;
use hurricane_db_testkit::topology;

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn in_recovery(conn: &mut PgConnection) -> bool {
    diesel::select(diesel::dsl::sql::<Bool>("pg_is_in_recovery()"))
        .get_result(conn)
        .unwrap()
}

fn insert(conn: &mut PgConnection, fid: i32) -> QueryResult<usize> {
    diesel::insert_into(hurricane_db::schema::hurricanes::table)
        .values(hurricane_db_testkit::sample_observation(fid))
        .execute(conn)
}

fn count_fid(conn: &mut PgConnection, fid: i32) -> i64 {
    let n: N = diesel::sql_query("SELECT count(*) AS n FROM hurricanes WHERE fid = $1")
        .bind::<diesel::sql_types::Integer, _>(fid)
        .get_result(conn)
        .unwrap();
    n.n
}

#[test]
fn a_write_on_the_primary_reaches_every_standby_and_standbys_refuse_writes() {
    let topo = topology(2);
    println!(
        "topology: primary + {} standbys ready in {:.2} s",
        topo.standbys.len(),
        topo.built_in.as_secs_f64()
    );
    assert_eq!(topo.standbys.len(), 2);
    let ports: std::collections::HashSet<u16> = std::iter::once(topo.primary.port())
        .chain(topo.standbys.iter().map(|s| s.port()))
        .collect();
    assert_eq!(ports.len(), 3, "every node has its own port");

    let mut primary = PgConnection::establish(&topo.primary_url()).unwrap();
    assert!(!in_recovery(&mut primary));
    assert!(!topo.primary.is_in_recovery().unwrap());
    insert(&mut primary, 1).unwrap();

    for (i, url) in topo.read_urls().iter().enumerate() {
        let mut standby = PgConnection::establish(url).unwrap();
        assert!(in_recovery(&mut standby), "standby {} in recovery", i + 1);
        assert!(topo.standbys[i].is_in_recovery().unwrap());
        let started = Instant::now();
        while count_fid(&mut standby, 1) == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the row reached standby {} within 5 s",
                i + 1
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        println!(
            "standby {}: row visible after {:.3} s",
            i + 1,
            started.elapsed().as_secs_f64()
        );
        let err = insert(&mut standby, 2).unwrap_err().to_string();
        assert!(
            err.contains("cannot execute INSERT in a read-only transaction"),
            "{err}"
        );
        let lag = topo.standbys[i].replay_lag_bytes(&topo.primary).unwrap();
        assert!(lag.is_some(), "a standby has a replay lag");
    }
    assert_eq!(
        topo.primary.replay_lag_bytes(&topo.primary).unwrap(),
        None,
        "a primary replays nothing"
    );

    // wait_replayed: a second write is on every standby once it returns.
    insert(&mut primary, 3).unwrap();
    topo.wait_replayed(Duration::from_secs(5)).unwrap();
    for url in topo.read_urls() {
        let mut standby = PgConnection::establish(&url).unwrap();
        assert_eq!(count_fid(&mut standby, 3), 1);
    }

    // Dropping the topology stops every node and deletes the folders.
    let dir = topo.primary.dir().to_path_buf();
    assert!(dir.join("standby-1/data/standby.signal").exists());
    drop(primary);
    drop(topo);
    assert!(!dir.exists(), "{} removed", dir.display());
}

#[test]
fn a_standby_promoted_after_the_primary_crashes_takes_writes() {
    let topo = topology(2);
    let mut primary = PgConnection::establish(&topo.primary_url()).unwrap();
    insert(&mut primary, 10).unwrap();
    topo.wait_replayed(Duration::from_secs(5)).unwrap();
    drop(primary);

    topo.primary.stop_server(StopMode::Immediate).unwrap();
    let new_primary = &topo.standbys[0];
    new_primary.promote().unwrap();
    assert!(!new_primary.is_in_recovery().unwrap());
    let mut conn = PgConnection::establish(&new_primary.url(&topo.database)).unwrap();
    assert!(!in_recovery(&mut conn));
    insert(&mut conn, 11).unwrap();
    assert_eq!(count_fid(&mut conn, 10), 1, "the replayed row survived");
    assert_eq!(count_fid(&mut conn, 11), 1);

    // The other standby still answers reads (it has lost its primary).
    let mut other = PgConnection::establish(&topo.read_urls()[1]).unwrap();
    assert!(in_recovery(&mut other));
    assert_eq!(count_fid(&mut other, 10), 1);
}

fn cli(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("HURRICANE_DB_READ_URLS")
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

/// Stops the CLI's private cluster and its standbys even when an assertion fails.
struct StopAtEnd<'a>(&'a Path);

impl Drop for StopAtEnd<'_> {
    fn drop(&mut self) {
        let _ = cli(self.0, &["db", "stop"]);
    }
}

#[test]
fn cli_starts_lists_and_stops_standbys() {
    let work = tempfile::tempdir().unwrap();
    // The server may run as the postgres OS user: it must reach the folder.
    std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let _stop = StopAtEnd(work.path());

    assert_eq!(stdout(&cli(work.path(), &["db", "url", "--read"])), "");

    let started = stdout(&cli(work.path(), &["db", "start", "--standbys", "2"]));
    assert!(
        started.starts_with("db start: running in ") && started.contains(" and 2 standbys"),
        "{started}"
    );
    assert!(work
        .path()
        .join(".hurricane-db/standby-2/data/standby.signal")
        .exists());

    let read = stdout(&cli(work.path(), &["db", "url", "--read"]));
    let urls: Vec<&str> = read.split(' ').collect();
    assert_eq!(urls.len(), 2, "{read}");
    let primary_url = stdout(&cli(work.path(), &["db", "url"]));
    assert!(!urls.contains(&primary_url.as_str()));
    {
        let mut primary = PgConnection::establish(&primary_url).unwrap();
        stdout(&cli(work.path(), &["migrate"]));
        insert(&mut primary, 1).unwrap();
    }
    for url in &urls {
        assert!(
            url.starts_with("postgresql://postgres@/hurricane_db?host="),
            "{url}"
        );
        let mut standby = PgConnection::establish(url).unwrap();
        assert!(in_recovery(&mut standby));
        let started = Instant::now();
        while diesel::sql_query("SELECT 1 FROM hurricanes WHERE fid = 1")
            .execute(&mut standby)
            .unwrap_or(0)
            == 0
        {
            assert!(started.elapsed() < Duration::from_secs(5), "replicated");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    let status = stdout(&cli(work.path(), &["db", "status"]));
    let lines: Vec<&str> = status.lines().collect();
    assert_eq!(lines.len(), 4, "{status}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("primary ")).count(),
        1,
        "{status}"
    );
    let standby_lines: Vec<&&str> = lines.iter().filter(|l| l.starts_with("standby ")).collect();
    assert_eq!(standby_lines.len(), 2, "{status}");
    for l in &standby_lines {
        assert!(
            l.contains(" running ") && l.contains("lag "),
            "{l}\n{status}"
        );
    }
    assert!(
        lines[3].starts_with("db status: running in ") && lines[3].contains("2 of 2 standbys"),
        "{status}"
    );

    // Starting again reuses all three.
    let again = stdout(&cli(work.path(), &["db", "start"]));
    assert!(again.contains(" and 2 standbys"), "{again}");

    let stopped = stdout(&cli(work.path(), &["db", "stop"]));
    assert!(
        stopped.starts_with("db stop: stopped") && stopped.contains("2 standbys"),
        "{stopped}"
    );
    let status = stdout(&cli(work.path(), &["db", "status"]));
    assert_eq!(
        status
            .lines()
            .filter(|l| !l.starts_with("db status:") && l.contains(" stopped "))
            .count(),
        3,
        "{status}"
    );
    assert!(
        status
            .lines()
            .last()
            .unwrap()
            .starts_with("db status: stopped in "),
        "{status}"
    );
    for url in &urls {
        assert!(PgConnection::establish(url).is_err(), "standby is down");
    }

    // Started again, the primary has a new port (the old one is held here, so it
    // cannot be chosen again): the standbys follow it.
    let old_port = port_of(&primary_url);
    let _held = std::net::TcpListener::bind(("127.0.0.1", old_port)).unwrap();
    stdout(&cli(work.path(), &["db", "start"]));
    let primary_url = stdout(&cli(work.path(), &["db", "url"]));
    let new_port = port_of(&primary_url);
    println!("primary restarted: port {old_port} -> {new_port}");
    assert_ne!(new_port, old_port, "{primary_url}");
    let mut primary = PgConnection::establish(&primary_url).unwrap();
    insert(&mut primary, 2).unwrap();
    let read = stdout(&cli(work.path(), &["db", "url", "--read"]));
    for url in read.split(' ') {
        let mut standby = PgConnection::establish(url).unwrap();
        let started = Instant::now();
        while count_fid(&mut standby, 2) == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "a standby streams from the restarted primary"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Its WAL receiver is connected to the new port.
        let sender: Port = diesel::sql_query(
            "SELECT sender_port AS port FROM pg_stat_wal_receiver WHERE status = 'streaming'",
        )
        .get_result(&mut standby)
        .unwrap();
        println!(
            "standby {}: streams from port {}",
            port_of(url),
            sender.port
        );
        assert_eq!(sender.port, i32::from(new_port), "{url}");
    }
}

#[derive(QueryableByName)]
struct Port {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    port: i32,
}

/// The `port=` of a URL that `hurricane-db db url` prints.
fn port_of(url: &str) -> u16 {
    url.split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("port="))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {url}"))
}
