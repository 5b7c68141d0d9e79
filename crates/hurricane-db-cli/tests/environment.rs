//! Issue 16 point 3: the read settings work from the environment, the way an operator
//! sets them, not only through `DbBuilder`. The real binary runs with the variables in
//! its own environment: bad values stop it with a line naming the variable and the
//! value; good ones route `hurricane-db serve`'s reads to two standbys (one listed in
//! a multi-host entry whose first host is down), size the standby pools, set the
//! read-your-writes wait and turn the statement cache off. Each effect is checked on
//! the servers themselves (`pg_stat_activity`, the standbys' statement logs).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use hurricane_db::roles::{add_user, Role};
use hurricane_db::Db;
use hurricane_db_testkit::cluster::Cluster;
use hurricane_db_testkit::{sample_observation, topology, unique_name, TestDb, Topology};

const PASSWORD: &str = "Env-Reader-Pw-16";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hurricane-db"));
    for (name, _) in std::env::vars() {
        if name.starts_with("HURRICANE_DB_") || name.starts_with("PG") {
            c.env_remove(name);
        }
    }
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn bad_read_settings_stop_the_binary_naming_the_variable_and_value() {
    let t = TestDb::new();
    let cases: &[(&str, &str, &str)] = &[
        (
            "HURRICANE_DB_READ_POOL_SIZE",
            "0",
            "HURRICANE_DB_READ_POOL_SIZE \"0\": expected 1 to 10000",
        ),
        (
            "HURRICANE_DB_READ_POOL_SIZE",
            "two",
            "HURRICANE_DB_READ_POOL_SIZE \"two\": expected a whole number",
        ),
        (
            "HURRICANE_DB_RYW_WAIT_MS",
            "soon",
            "HURRICANE_DB_RYW_WAIT_MS \"soon\": expected a whole number",
        ),
        (
            "HURRICANE_DB_RYW_WAIT_MS",
            "200000",
            "HURRICANE_DB_RYW_WAIT_MS \"200000\": expected 0 to 60000",
        ),
        (
            "HURRICANE_DB_STATEMENT_CACHE",
            "maybe",
            "HURRICANE_DB_STATEMENT_CACHE \"maybe\": expected on or off",
        ),
        // A comma list of URLs instead of whitespace: the second "entry" is no URL.
        (
            "HURRICANE_DB_READ_URLS",
            "postgresql://app:Secret-9@db2/h db3:5432",
            "HURRICANE_DB_READ_URLS entry 2 \"db3:5432\": expected a postgresql:// URL",
        ),
        // The password of an entry is never echoed.
        (
            "HURRICANE_DB_READ_URLS",
            "postgres://app:Secret-9@db2/h\thost=db3 user=app password=Secret-9",
            "HURRICANE_DB_READ_URLS entry 2 \"host=db3\": expected a postgresql:// URL",
        ),
    ];
    for (name, value, expected) in cases {
        for args in [&["storms"][..], &["serve"][..]] {
            let out: Output = bin()
                .args(args)
                .env("DATABASE_URL", &t.url)
                // Unusable: were the settings accepted, `serve` would fail here, not hang.
                .env("HURRICANE_DB_ADDR", "127.0.0.1:no-port")
                .env(name, value)
                .output()
                .unwrap();
            let stderr = text(&out.stderr);
            let first = stderr.lines().next().unwrap_or_default();
            println!("{name}, {}: exit {:?}: {first}", args[0], out.status.code());
            assert_eq!(
                out.status.code(),
                Some(1),
                "{args:?} {name}={value}: {stderr}"
            );
            assert!(first.contains(expected), "{args:?}: {stderr}");
            assert!(!stderr.contains("Secret-9"), "{stderr}");
            assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
        }
    }
}

/// `hurricane-db serve` in the background, killed when dropped.
struct Serve {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(env: &[(&str, String)], log: PathBuf) -> Serve {
    let port = free_port();
    let mut cmd = bin();
    cmd.arg("serve")
        .env("HURRICANE_DB_ADDR", format!("127.0.0.1:{port}"))
        .env("PGPASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&log).unwrap())
        .stderr(fs::File::create(log.with_extension("err")).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let mut serve = Serve {
        child,
        base: format!("http://127.0.0.1:{port}"),
        log,
    };
    let started = Instant::now();
    loop {
        let out = fs::read_to_string(&serve.log).unwrap_or_default()
            + &fs::read_to_string(serve.log.with_extension("err")).unwrap_or_default();
        if out.contains("listening") {
            return serve;
        }
        if let Ok(Some(status)) = serve.child.try_wait() {
            panic!("serve exited {status}: {out}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "serve did not listen: {out}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Sessions with `application_name` `app` on node `c`.
fn sessions(c: &Cluster, database: &str, app: &str) -> i64 {
    let mut conn = PgConnection::establish(&c.url(database)).unwrap();
    diesel::sql_query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1")
        .bind::<Text, _>(app)
        .get_result::<N>(&mut conn)
        .unwrap()
        .n
}

fn superuser(c: &Cluster, database: &str, sql: &str) {
    let mut conn = PgConnection::establish(&c.url(database)).unwrap();
    diesel::sql_query(sql).execute(&mut conn).unwrap();
}

/// The part of `path` written after byte `from`.
fn log_since(path: &Path, from: u64) -> String {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    String::from_utf8_lossy(&bytes[from as usize..]).into_owned()
}

fn log_len(path: &Path) -> u64 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .len()
}

/// `execute` lines of the statement log: (named `__diesel_stmt_N`, unnamed).
fn executes(log: &str) -> (usize, usize) {
    let lines = || log.lines().filter(|l| l.contains("LOG:  execute "));
    (
        lines()
            .filter(|l| l.contains("execute __diesel_stmt_"))
            .count(),
        lines().filter(|l| l.contains("execute <unnamed>")).count(),
    )
}

fn tcp_url(topo: &Topology, user: &str, hosts: &[u16]) -> String {
    let hosts: Vec<String> = hosts.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    format!("postgresql://{user}@{}/{}", hosts.join(","), topo.database)
}

#[test]
fn read_settings_from_the_environment_route_size_wait_and_uncache_reads() {
    let topo = topology(2);
    let (s1, s2) = (&topo.standbys[0], &topo.standbys[1]);
    // A writer login over TCP (password from PGPASSWORD), whose statements every node
    // logs (the role setting replicates to the standbys).
    let login = unique_name("env_writer");
    {
        let mut conn = PgConnection::establish(&topo.primary_url()).unwrap();
        add_user(&mut conn, &login, Role::Writer, PASSWORD).unwrap();
        diesel::sql_query(format!("ALTER ROLE {login} SET log_statement = 'all'"))
            .execute(&mut conn)
            .unwrap();
        diesel::insert_into(hurricane_db::schema::hurricanes::table)
            .values(&sample_observation(1))
            .execute(&mut conn)
            .unwrap();
    }
    topo.wait_replayed(Duration::from_secs(10)).unwrap();
    let logs = [s1.dir().join("server.log"), s2.dir().join("server.log")];

    // Control: the same read with Diesel's statement cache on (the default) runs as a
    // named prepared statement, which the standby's log shows.
    let before = log_len(&logs[0]);
    {
        // Test-only: the password in the URL (the service below takes PGPASSWORD).
        let url = tcp_url(&topo, &login, &[s1.port()]).replacen(
            &format!("{login}@"),
            &format!("{login}:{PASSWORD}@"),
            1,
        );
        let db = Db::builder()
            .application_name("env-control")
            .connect(&url)
            .unwrap();
        for _ in 0..3 {
            db.read_statement(|c| hurricane_db::queries::by_fid(c, 1))
                .unwrap();
        }
    }
    let (named, unnamed) = executes(&log_since(&logs[0], before));
    println!("control, statement cache on: standby 1 logged {named} named and {unnamed} unnamed executes");
    assert!(named > 0, "the cache-on control shows named statements");

    // The service, configured only through its environment.
    let dead = free_port();
    let app = unique_name("env_app");
    // Two entries, separated by a tab and a newline; the first lists a host where
    // nothing listens, then standby 1.
    let read_urls = format!(
        "{}\t\n{}",
        tcp_url(&topo, &login, &[dead, s1.port()]),
        tcp_url(&topo, &login, &[s2.port()])
    );
    let work = tempfile::tempdir().unwrap();
    let offsets = [log_len(&logs[0]), log_len(&logs[1])];
    let server = serve(
        &[
            (
                "DATABASE_URL",
                tcp_url(&topo, &login, &[topo.primary.port()]),
            ),
            ("HURRICANE_DB_READ_URLS", read_urls.clone()),
            ("HURRICANE_DB_POOL_SIZE", "4".into()),
            ("HURRICANE_DB_READ_POOL_SIZE", "1".into()),
            ("HURRICANE_DB_RYW_WAIT_MS", "1500".into()),
            ("HURRICANE_DB_STATEMENT_CACHE", "off".into()),
            ("HURRICANE_DB_APPLICATION_NAME", app.clone()),
        ],
        work.path().join("serve.log"),
    );
    println!("HURRICANE_DB_READ_URLS={read_urls:?}");

    // Eight clients read at once: the service's threads spread over both standbys.
    let agent = agent();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (agent, base) = (agent.clone(), server.base.clone());
                s.spawn(move || {
                    (0..40)
                        .map(|_| {
                            agent
                                .get(format!("{base}/hurricanes/1"))
                                .call()
                                .unwrap()
                                .status()
                                .as_u16()
                        })
                        .collect::<Vec<u16>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let (on_s1, on_s2, on_primary) = (
        sessions(s1, &topo.database, &app),
        sessions(s2, &topo.database, &app),
        sessions(&topo.primary, &topo.database, &app),
    );
    println!(
        "serve, 8 clients x 40 GET /hurricanes/1: {ok} answered 200; sessions of {app}: standby 1 \
         {on_s1}, standby 2 {on_s2}, primary {on_primary} (HURRICANE_DB_READ_POOL_SIZE=1)"
    );
    assert_eq!(ok, statuses.len(), "{statuses:?}");
    assert_eq!(
        (on_s1, on_s2),
        (1, 1),
        "each standby answered reads, through a pool of one connection"
    );

    // HURRICANE_DB_STATEMENT_CACHE=off: the standbys executed only unnamed statements.
    let (named1, unnamed1) = executes(&log_since(&logs[0], offsets[0]));
    let (named2, unnamed2) = executes(&log_since(&logs[1], offsets[1]));
    println!(
        "statement cache off: standby 1 logged {named1} named / {unnamed1} unnamed executes, \
         standby 2 {named2} / {unnamed2}"
    );
    assert!(
        unnamed1 > 0 && unnamed2 > 0,
        "the statement log sees the reads"
    );
    assert_eq!(
        (named1, named2),
        (0, 0),
        "named prepared statements with the cache off"
    );

    // With replay paused on both standbys, a read with the write's token waits
    // HURRICANE_DB_RYW_WAIT_MS (1.5 s, not the default 0.2 s), then reads on the
    // primary; a plain read still goes to a (stale) standby.
    for s in [s1, s2] {
        superuser(s, &topo.database, "SELECT pg_wal_replay_pause()");
    }
    let body = serde_json::to_string(&sample_observation(2)).unwrap();
    let created = agent
        .post(format!("{}/hurricanes", server.base))
        .header("X-App-User", "env-test")
        .header("Content-Type", "application/json")
        .send(&body)
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let token = created
        .headers()
        .get("x-read-token")
        .expect("a write answers with its token")
        .to_str()
        .unwrap()
        .to_string();
    let started = Instant::now();
    let seen = agent
        .get(format!("{}/hurricanes/2", server.base))
        .header("X-Read-Token", &token)
        .call()
        .unwrap();
    let waited = started.elapsed();
    let stale = agent
        .get(format!("{}/hurricanes/2", server.base))
        .call()
        .unwrap()
        .status()
        .as_u16();
    println!(
        "replay paused: GET /hurricanes/2 with the write's token answered {} after {:.2} s \
         (HURRICANE_DB_RYW_WAIT_MS=1500); without the token {stale}",
        seen.status().as_u16(),
        waited.as_secs_f64()
    );
    for s in [s1, s2] {
        superuser(s, &topo.database, "SELECT pg_wal_replay_resume()");
    }
    assert_eq!(seen.status().as_u16(), 200);
    assert!(
        waited >= Duration::from_millis(1_450) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    assert_eq!(stale, 404, "plain reads go to the paused standbys");

    // The service logged no standby failure: the dead first host of the multi-host
    // entry is passed over by libpq, not reported.
    drop(server);
    let log = fs::read_to_string(work.path().join("serve.log")).unwrap()
        + &fs::read_to_string(work.path().join("serve.err")).unwrap();
    assert!(
        !log.contains("standby"),
        "the service reported a standby problem: {log}"
    );
}
