//! Issue 16 point 4 (and issue 17 point 4's service part) as a user meets them: the
//! `hurricane-db` binary, and `hurricane-db serve` as a child process, against a
//! throwaway database. Each test prints the figures the closing note quotes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use hurricane_db::ingest::{load_path, LoadOptions};
use hurricane_db_testkit::TestDb;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hurricane-db"));
    c.env_remove("DATABASE_URL")
        .env_remove("HURRICANE_DB_READ_URLS")
        .env("RUST_LOG", "warn");
    c
}

fn run(c: &mut Command) -> (Output, Duration) {
    let started = Instant::now();
    let out = c.output().unwrap();
    (out, started.elapsed())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn with_sample() -> TestDb {
    let t = TestDb::new();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/storm_sample.csv");
    load_path(&t.db, sample, &LoadOptions::new()).unwrap();
    t
}

/// `hurricane-db serve` on a free port as a child; killed when dropped.
struct Serve {
    child: Child,
    addr: SocketAddr,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Serve {
    /// Starts `hurricane-db serve` with `env`, through `sh -c "ulimit ...; exec"`
    /// when `ulimit` is given; waits for its "listening" line.
    fn start(url: &str, env: &[(&str, &str)], ulimit: Option<u32>) -> Serve {
        let exe = env!("CARGO_BIN_EXE_hurricane-db");
        let mut c = match ulimit {
            Some(n) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" serve"))
                    .arg(exe);
                c
            }
            None => {
                let mut c = Command::new(exe);
                c.arg("serve");
                c
            }
        };
        c.env("DATABASE_URL", url)
            .env_remove("HURRICANE_DB_READ_URLS")
            .env("HURRICANE_DB_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = std::sync::Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("service: listening on http://")
            .unwrap_or_else(|| panic!("no listening line: {line:?} {}", stderr.lock().unwrap()))
            .parse()
            .unwrap();
        Serve {
            child,
            addr,
            stderr,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Threads of the service process now.
    fn threads(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/task", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    fn agent(&self, timeout: Duration) -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(timeout))
            .build()
            .into()
    }

    /// GET `path`: status and body (status 0 and the error when no answer came).
    fn get(&self, agent: &ureq::Agent, path: &str) -> (u16, String) {
        match agent.get(format!("http://{}{path}", self.addr)).call() {
            Ok(mut r) => (
                r.status().as_u16(),
                r.body_mut().read_to_string().unwrap_or_default(),
            ),
            Err(e) => (0, e.to_string()),
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Issue 16 point 4: every numeric filter gets the range and scale checks writes
/// have, before any connection: `query` answers at once even with no server at all
/// (DATABASE_URL names a closed port), with a plain message.
#[test]
fn numeric_filters_are_refused_before_any_connection() {
    let nowhere = "postgresql://nobody@127.0.0.1:1/nothing";
    for (flag, value) in [
        ("--lat-min", "1e131000"),
        ("--lat-max", "1e131000"),
        ("--lon-min", "1e131000"),
        ("--lon-max", "-1e131000"),
        ("--lat-min", "1e-16384"),
        ("--lat-min", "-1e-16384"),
        ("--lat-min", "5e-16390"),
        ("--lon-max", "5e-16390"),
        ("--lat-max", "90.0000001"),
    ] {
        let (out, took) = run(bin()
            .args(["query", &format!("{flag}={value}")])
            .env("DATABASE_URL", nowhere));
        let stderr = text(&out.stderr);
        let field = flag.trim_start_matches("--").replace('-', "_");
        let range = if field.starts_with("lat") {
            "-90 to 90"
        } else {
            "-180 to 180"
        };
        println!(
            "query {flag} {value}: exit {:?} in {:.0} ms: {}",
            out.status.code(),
            took.as_secs_f64() * 1e3,
            stderr.trim()
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr.contains(&format!(
                "{field} {}",
                if value.contains('e') { "" } else { value }
            )) && stderr.contains(&format!(
                "expected degrees from {range} with at most 6 decimals"
            )),
            "{stderr}"
        );
        assert!(!stderr.contains("connection"), "{stderr}");
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
}

/// Issue 16 point 4: a NAME carrying terminal escapes is printed escaped by `track`,
/// `storms` and `query` (JSON escapes by itself).
#[test]
fn names_with_terminal_escapes_are_printed_escaped() {
    let t = with_sample();
    let evil = "\u{1b}[2J\u{1b}]0;pwned\u{7}X";
    diesel::sql_query("UPDATE hurricanes SET name = $1 WHERE btid = 1")
        .bind::<diesel::sql_types::Text, _>(evil)
        .execute(&mut t.connect())
        .unwrap();
    for args in [
        &["track", "1"][..],
        &["storms", "--top", "10000"][..],
        &["query", "--btid", "1", "--limit", "3"][..],
    ] {
        let (out, _) = run(bin().args(args).env("DATABASE_URL", &t.url));
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let raw_escapes = stdout
            .chars()
            .filter(|c| c.is_control() && *c != '\n')
            .count();
        let shown = stdout
            .lines()
            .find(|l| l.contains("pwned"))
            .unwrap_or("")
            .to_string();
        println!("{args:?}: {raw_escapes} raw control characters; line: {shown}");
        assert_eq!(raw_escapes, 0, "{args:?}: {stdout:?}");
        assert!(stdout.contains("\\x1b[2J\\x1b]0;pwned\\x07X"), "{stdout}");
    }
    let (out, _) = run(bin()
        .args(["query", "--btid", "1", "--limit", "1", "--json"])
        .env("DATABASE_URL", &t.url));
    assert!(text(&out.stdout).contains("\\u001b[2J"), "JSON escapes too");
}

/// Issue 16 point 4: one rule for a valid name (the loader's), and a file with only a
/// header is refused and recorded nowhere.
#[test]
fn the_loader_refuses_what_patch_refuses_and_a_header_only_file_records_nothing() {
    let t = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let header =
        "FID,YEAR,MONTH,DAY,AD_TIME,BTID,NAME,LAT,LONG,WIND_KTS,PRESSURE,CAT,BASIN,Shape_Leng";
    let loads = |t: &TestDb| -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query("SELECT count(*) AS n FROM loads")
            .get_result::<N>(&mut t.connect())
            .unwrap()
            .n
    };
    let before = loads(&t);
    let only_header = dir.path().join("only_header.csv");
    std::fs::write(&only_header, format!("{header}\n")).unwrap();
    let (out, took) = run(bin()
        .arg("load")
        .arg(&only_header)
        .env("DATABASE_URL", &t.url));
    let stderr = text(&out.stderr);
    println!(
        "load only_header.csv: exit {:?} in {:.0} ms: {}",
        out.status.code(),
        took.as_secs_f64() * 1e3,
        stderr.trim()
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("no observations after the header"),
        "{stderr}"
    );
    assert_eq!(loads(&t), before, "no release recorded");

    for (name, shown) in [("   ", "   "), ("KAT\u{1b}[2JRINA", "KAT\\x1b[2JRINA")] {
        let file = dir.path().join("bad_name.csv");
        std::fs::write(
            &file,
            format!(
                "{header}\n1,2005,8,23,1800Z,1,{name},23.1,-75.1,30,1008,TD,North Atlantic,1.0\n"
            ),
        )
        .unwrap();
        let (out, _) = run(bin().arg("load").arg(&file).env("DATABASE_URL", &t.url));
        let stderr = text(&out.stderr);
        println!(
            "load NAME {shown:?}: exit {:?}: {}",
            out.status.code(),
            stderr.lines().next().unwrap_or("")
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr.contains(&format!("NAME \"{shown}\"")), "{stderr}");
        assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    }
    assert_eq!(loads(&t), before);
}

/// Issue 16 point 4: libpq quotes pieces of a password that has a raw `/` or `@`;
/// neither the CLI nor `serve` shows any piece, and both say what to percent-encode.
#[test]
fn no_piece_of_a_password_reaches_the_terminal() {
    for (url, pieces, hint) in [
        (
            "postgresql://owner:TopSecretPrefix99/rest@127.0.0.1:1/db",
            &["TopSecretPrefix99", "rest@"][..],
            "'/' as %2F",
        ),
        (
            "postgresql://owner:pa@ssSecretTail@127.0.0.1/db",
            &["ssSecretTail", "pa@"][..],
            "'@' as %40",
        ),
    ] {
        for command in [&["migrate", "--check"][..], &["serve"][..]] {
            let (out, took) = run(bin()
                .args(command)
                .env("DATABASE_URL", url)
                .env("HURRICANE_DB_ADDR", "127.0.0.1:0")
                .env("HURRICANE_DB_CONNECT_TIMEOUT_SECS", "2"));
            let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
            println!(
                "{command:?} with {}: exit {:?} in {:.0} ms: {}",
                hurricane_db::mask_secrets(url),
                out.status.code(),
                took.as_secs_f64() * 1e3,
                all.trim()
            );
            assert_eq!(out.status.code(), Some(1), "{all}");
            for piece in pieces {
                assert!(!all.contains(piece), "{piece} in {all}");
            }
            assert!(all.contains(hint), "{all}");
        }
    }
}

/// Issue 16 point 3 and issue 17's closing note: the service's threads do not grow
/// with the pool (pool 10 and pool 50 under the same 8 concurrent clients), and with
/// pool 2 under 64 concurrent requests it answers all of them with at most 2 threads
/// doing database work.
#[test]
fn serve_threads_do_not_grow_with_the_pool() {
    let t = with_sample();
    let load = |pool: &str, clients: usize| -> (usize, usize, Vec<(u16, usize)>) {
        let serve = Serve::start(&t.url, &[("HURRICANE_DB_POOL_SIZE", pool)], None);
        let idle = serve.threads();
        let most = std::sync::atomic::AtomicUsize::new(idle);
        let done = std::sync::atomic::AtomicBool::new(false);
        let statuses = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
        std::thread::scope(|s| {
            s.spawn(|| {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    most.fetch_max(serve.threads(), std::sync::atomic::Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(2));
                }
            });
            let workers: Vec<_> = (0..clients)
                .map(|i| {
                    let (serve, statuses) = (&serve, &statuses);
                    s.spawn(move || {
                        let agent = serve.agent(Duration::from_secs(30));
                        for round in 0..4 {
                            let path = format!(
                                "/hurricanes?year_from={}&limit=500&order=wind_desc",
                                [1851, 2005, 2014, 2016][(i + round) % 4]
                            );
                            let (status, _) = serve.get(&agent, &path);
                            *statuses.lock().unwrap().entry(status).or_default() += 1;
                        }
                    })
                })
                .collect();
            for w in workers {
                w.join().unwrap();
            }
            done.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        let statuses = statuses.into_inner().unwrap().into_iter().collect();
        (idle, most.into_inner(), statuses)
    };
    let (idle10, most10, st10) = load("10", 8);
    let (idle50, most50, st50) = load("50", 8);
    let (idle2, most2, st2) = load("2", 64);
    println!(
        "pool 10, 8 clients x 4 requests: threads idle {idle10}, most {most10}; statuses {st10:?}"
    );
    println!(
        "pool 50, 8 clients x 4 requests: threads idle {idle50}, most {most50}; statuses {st50:?}"
    );
    println!(
        "pool 2, 64 clients x 4 requests: threads idle {idle2}, most {most2}; statuses {st2:?}"
    );
    assert_eq!(st10, vec![(200, 32)]);
    assert_eq!(st50, vec![(200, 32)]);
    assert_eq!(
        st2,
        vec![(200, 256)],
        "a full pool queues briefly, it does not fail"
    );
    assert!(
        most50 <= most10 + 2,
        "threads grew with the pool: {most10} -> {most50}"
    );
    // At most 2 blocking threads (plus tokio's blocking threads' own reuse): idle + 2.
    assert!(
        most2 <= idle2 + 3,
        "pool 2: {idle2} idle threads, {most2} under load"
    );
}

/// Issue 16 point 3: a 1 MB body is a 413 with a JSON body, read by the client (not
/// a dropped connection), well under 100 ms.
#[test]
fn a_one_megabyte_body_is_a_json_413() {
    let t = TestDb::new();
    let serve = Serve::start(&t.url, &[], None);
    let body = format!("{{\"lat\": \"1{}\"}}", "0".repeat(1_000_000));
    let mut times = Vec::new();
    for _ in 0..5 {
        let mut stream = TcpStream::connect(serve.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let started = Instant::now();
        let head = format!(
            "PATCH /hurricanes/1 HTTP/1.1\r\nHost: x\r\nX-App-User: mallory\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        // The server may answer before it has read everything: keep writing until
        // it does, as a client would.
        let _ = stream.write_all(body.as_bytes());
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let took = started.elapsed();
        times.push(took.as_secs_f64() * 1e3);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        let json = answer.split("\r\n\r\n").nth(1).unwrap();
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        assert!(
            value["error"]
                .as_str()
                .unwrap()
                .contains("expected at most 65536"),
            "{value}"
        );
    }
    println!("1 MB PATCH body: 413 JSON in {times:.1?} ms");
    times.sort_by(f64::total_cmp);
    assert!(times[2] < 1000.0, "median {} ms", times[2]);
}

/// Issue 16 point 4: 1,100 idle sockets from one client do not make the service
/// unreachable: with an open-file limit of 256 it caps its connections below it,
/// answers another client, and closes idle sockets after the header timeout.
#[test]
fn idle_sockets_do_not_lock_others_out() {
    let t = with_sample();
    let serve = Serve::start(
        &t.url,
        &[("HURRICANE_DB_HEADER_TIMEOUT_SECS", "2")],
        Some(256),
    );
    let started = Instant::now();
    let mut idle = Vec::new();
    for _ in 0..1100 {
        match TcpStream::connect_timeout(&serve.addr, Duration::from_millis(200)) {
            Ok(s) => idle.push(s),
            Err(_) => continue,
        }
    }
    let opened = idle.len();
    let fds = serve.open_files();
    let agent = serve.agent(Duration::from_secs(20));
    let asked = Instant::now();
    let (status, body) = serve.get(&agent, "/hurricanes/1");
    let answered = asked.elapsed();
    // Every idle socket is closed by the service within the header timeout (+ slack).
    let mut closed = 0;
    for s in &mut idle {
        s.set_read_timeout(Some(Duration::from_secs(6))).unwrap();
        let mut byte = [0u8; 1];
        if matches!(s.read(&mut byte), Ok(0) | Err(_)) {
            closed += 1;
        }
    }
    let stderr = serve.stderr.lock().unwrap().clone();
    println!(
        "ulimit -n 256: {opened} of 1100 idle sockets connected in {:.1} s; service fds {fds}; \
         another client's GET: {status} in {:.2} s; {closed} of {opened} idle sockets closed \
         by the service; 'Too many open files' in its log: {}",
        started.elapsed().as_secs_f64(),
        answered.as_secs_f64(),
        stderr.matches("Too many open files").count()
    );
    assert_eq!(status, 200, "{body}");
    assert!(answered < Duration::from_secs(8), "{answered:?}");
    assert_eq!(closed, opened);
    assert!(fds <= 256, "{fds}");
    // A new client after the storm (the first client's kept-alive connection has been
    // closed as idle by now, as the service promises).
    let (status, _) = serve.get(&serve.agent(Duration::from_secs(20)), "/hurricanes/2");
    assert_eq!(status, 200);
}

/// Issue 16 point 4: a database backend that stops answering (SIGSTOP) makes a
/// request 503 within a few seconds, not a wait of 20 s or forever; the service
/// recovers once it answers again.
#[test]
fn a_frozen_backend_is_a_503_within_seconds() {
    let t = with_sample();
    let app = hurricane_db_testkit::unique_name("frozen");
    let serve = Serve::start(
        &t.url,
        &[
            ("HURRICANE_DB_POOL_SIZE", "1"),
            ("HURRICANE_DB_APPLICATION_NAME", &app),
        ],
        None,
    );
    let agent = serve.agent(Duration::from_secs(60));
    assert_eq!(serve.get(&agent, "/hurricanes/1").0, 200);
    #[derive(QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let pids: Vec<Pid> =
        diesel::sql_query("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
            .bind::<diesel::sql_types::Text, _>(&app)
            .load(&mut t.connect())
            .unwrap();
    assert_eq!(pids.len(), 1, "the service's one connection");
    let signal = |sig| {
        for p in &pids {
            // SAFETY: kill(2) on a PostgreSQL backend of our own throwaway cluster.
            assert_eq!(unsafe { libc::kill(p.pid, sig) }, 0);
        }
    };
    signal(libc::SIGSTOP);
    let started = Instant::now();
    let (status, body) = serve.get(&agent, "/hurricanes/2");
    let took = started.elapsed();
    let started = Instant::now();
    let (status2, body2) = serve.get(&agent, "/hurricanes/3");
    let took2 = started.elapsed();
    signal(libc::SIGCONT);
    println!(
        "backend frozen (SIGSTOP): GET {status} in {:.2} s: {body}; the next GET {status2} \
         in {:.2} s: {body2}",
        took.as_secs_f64(),
        took2.as_secs_f64()
    );
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("database unavailable"), "{body}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(status2, 503, "{body2}");
    assert!(took2 < Duration::from_secs(10), "{took2:?}");
    let started = Instant::now();
    let (status, _) = serve.get(&agent, "/hurricanes/4");
    println!(
        "after SIGCONT: GET {status} in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(status, 200);
}
