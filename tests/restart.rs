//! Issue 9 point 1: a pool that heals. A real server is restarted (fast, immediate,
//! stop-wait-start) under a pool of 8 with 4 busy threads that mix warmed statements,
//! query shapes the pooled connections have never prepared, and attributed writes.
//! After the server accepts connections again, no call may fail; every acknowledged
//! write is there exactly once; no connection leaks: each thread keeps its own
//! partition of the pool, so the server sees exactly 4 sessions of the pool before
//! and after (not merely "at most the pool size", which could not fail).
//!
//! Its own test binary: it restarts the process's throwaway cluster.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use hurricane_db::queries::{self, Filter};
use hurricane_db::schema::hurricanes;
use hurricane_db::{Db, Error};
use hurricane_db_testkit::cluster::StopMode;
use hurricane_db_testkit::{cluster, sample_observation, TestDb};

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(Default)]
struct Tally {
    /// Failed calls (start time, what).
    failures: Vec<(Instant, String)>,
    calls_after_back: u64,
    acknowledged: BTreeSet<i32>,
    /// Writes whose COMMIT outcome is unknown (allowed, reported).
    unknown: BTreeSet<i32>,
}

/// One call of thread `t`, iteration `i`: a warmed lookup, a never-seen query shape,
/// or an attributed insert of a fresh FID.
fn call(
    db: &hurricane_db::Db,
    t: usize,
    i: u64,
    next_fid: &AtomicI32,
) -> (Result<(), Error>, Option<i32>) {
    match i % 4 {
        0 => (db.observation(1).map(|_| ()), None),
        1 => {
            // A filter combination (and so an SQL text) this connection has not run.
            let f = Filter {
                min_wind: Some((i % 150) as i16),
                limit: Some(1 + (i % 7) as i64),
                ..Filter::default()
            };
            (db.read(|c| queries::search(c, &f)).map(|_| ()), None)
        }
        2 => {
            let shape = format!("SELECT count(*) + {t} + {i} AS n FROM hurricanes");
            (
                db.read(|c| Ok::<_, Error>(diesel::sql_query(&shape).get_result::<N>(c)?.n))
                    .map(|_| ()),
                None,
            )
        }
        _ => {
            let fid = next_fid.fetch_add(1, Ordering::SeqCst);
            (
                db.insert_observation(&format!("restart-test-{t}"), &sample_observation(fid))
                    .map(|_| ()),
                Some(fid),
            )
        }
    }
}

/// Connections the pool may open; twice the threads, so "no more than needed" can fail.
const POOL: u32 = 8;
/// The application name of the pool under test: its server sessions are counted.
const POOL_APP: &str = "restart-test-pool";
/// Busy threads, each one call at a time.
const THREADS: usize = 4;

fn run_mode(mode: &str) -> Tally {
    let t = TestDb::new();
    // The throwaway cluster runs with synchronous_commit off, which an immediate
    // shutdown is allowed to punish; an acknowledged write here must be durable. A
    // database setting applies to sessions opened after it, so the pool under test is
    // opened after it (a pool keeps the connection that proved its URL).
    diesel::sql_query(format!(
        "ALTER DATABASE {} SET synchronous_commit = on",
        t.name
    ))
    .execute(&mut t.connect())
    .unwrap();
    let db = Db::builder()
        .pool_size(POOL)
        .checkout_timeout(Duration::from_secs(2))
        .application_name(POOL_APP)
        .connect(&t.url)
        .unwrap();
    // Outside the pool: only the 4 threads below take connections from it.
    diesel::insert_into(hurricanes::table)
        .values(&sample_observation(1))
        .execute(&mut t.connect())
        .unwrap();
    let next_fid = AtomicI32::new(1_000);
    let stop = AtomicBool::new(false);
    let back: Mutex<Option<Instant>> = Mutex::new(None);
    let tally = Mutex::new(Tally::default());
    let mut before = None;
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let (db, next_fid, stop, back, tally) = (&db, &next_fid, &stop, &back, &tally);
            s.spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    // A call counts as "after recovery" if it started after the server
                    // was back (one that began while it was down may still fail).
                    let now = Instant::now();
                    let (result, fid) = call(db, thread, i, next_fid);
                    let was_back = back.lock().unwrap().is_some_and(|b| now > b);
                    let mut tally = tally.lock().unwrap();
                    if was_back {
                        tally.calls_after_back += 1;
                    }
                    match (result, fid) {
                        (Ok(()), Some(fid)) => {
                            tally.acknowledged.insert(fid);
                        }
                        (Ok(()), None) => {}
                        (Err(e), fid) => {
                            if let (Error::CommitOutcomeUnknown(_), Some(fid)) = (&e, fid) {
                                tally.unknown.insert(fid);
                            }
                            tally.failures.push((now, e.to_string()));
                            drop(tally);
                            // While the server is down, do not spin.
                            std::thread::sleep(Duration::from_millis(5));
                        }
                    }
                    i += 1;
                }
            });
        }
        // Warm every connection with every warmed shape, then restart.
        std::thread::sleep(Duration::from_millis(500));
        before = Some((pool_sessions(&t), db.pool_state()));
        let c = cluster();
        match mode {
            "fast" => c.stop_server(StopMode::Fast).unwrap(),
            "immediate" => c.stop_server(StopMode::Immediate).unwrap(),
            _ => {
                c.stop_server(StopMode::Fast).unwrap();
                std::thread::sleep(Duration::from_secs(3));
            }
        }
        c.start_again().unwrap();
        *back.lock().unwrap() = Some(Instant::now());
        // At least 1,000 calls after the server is back.
        let deadline = Instant::now() + Duration::from_secs(30);
        while tally.lock().unwrap().calls_after_back < 1_000 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        stop.store(true, Ordering::SeqCst);
    });
    let back = back.into_inner().unwrap().expect("restarted");
    let mut tally = tally.into_inner().unwrap();
    let after: Vec<&(Instant, String)> =
        tally.failures.iter().filter(|(at, _)| *at > back).collect();
    println!(
        "{mode}: {} failed calls while the server was down or restarting, {} failed of {} calls \
         after it was back; {} writes acknowledged, {} with unknown outcome",
        tally.failures.len() - after.len(),
        after.len(),
        tally.calls_after_back,
        tally.acknowledged.len(),
        tally.unknown.len()
    );
    assert!(
        tally.calls_after_back >= 1_000,
        "{mode}: only {} calls",
        tally.calls_after_back
    );
    assert!(
        after.is_empty(),
        "{mode}: failures after recovery: {:?}",
        &after[..after.len().min(5)]
    );

    // Every acknowledged write is there once, with one audit row; nothing else is,
    // except writes whose COMMIT outcome was reported unknown.
    let mut conn = t.connect();
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Integer)]
        fid: i32,
        #[diesel(sql_type = BigInt)]
        audits: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT h.fid, (SELECT count(*) FROM edits e WHERE e.table_name = 'hurricanes' \
         AND e.row_id = h.fid AND e.action = 'I') AS audits \
         FROM hurricanes h WHERE h.fid >= 1000 ORDER BY h.fid",
    )
    .load(&mut conn)
    .unwrap();
    let present: BTreeSet<i32> = rows.iter().map(|r| r.fid).collect();
    let lost: Vec<&i32> = tally.acknowledged.difference(&present).collect();
    let extra: Vec<&i32> = present
        .difference(&tally.acknowledged)
        .filter(|f| !tally.unknown.contains(f))
        .collect();
    let doubled: Vec<i32> = rows
        .iter()
        .filter(|r| r.audits != 1)
        .map(|r| r.fid)
        .collect();
    println!(
        "{mode}: {} present, {} lost, {} unacknowledged present, {} with other than one audit row",
        present.len(),
        lost.len(),
        extra.len(),
        doubled.len()
    );
    assert!(
        lost.is_empty(),
        "{mode}: acknowledged but missing: {lost:?}"
    );
    assert!(
        extra.is_empty(),
        "{mode}: present but never acknowledged: {extra:?}"
    );
    assert!(
        doubled.is_empty(),
        "{mode}: audit rows not exactly one: {doubled:?}"
    );

    // No leaked connections: the server has exactly one session per busy thread (the
    // pool of 8 opened no more), each idle, and the pool counts the same ones.
    let (sessions_before, state_before) = before.unwrap();
    let sessions = pool_sessions(&t);
    let state = db.pool_state();
    println!(
        "{mode}: before the restart {} server sessions, pool {} open; after: pool {} open / {} \
         idle of {}, server sessions {:?}",
        sessions_before.len(),
        state_before.connections,
        state.connections,
        state.idle,
        state.max_size,
        sessions
    );
    assert_eq!(state.max_size, POOL);
    assert_eq!(
        (sessions_before.len(), state_before.connections),
        (THREADS, THREADS as u32),
        "{mode}: before the restart, one connection per thread: {sessions_before:?}"
    );
    assert_eq!(
        sessions.len(),
        THREADS,
        "{mode}: server sessions after recovery: {sessions:?}"
    );
    assert!(sessions.iter().all(|s| s == "idle"), "{mode}: {sessions:?}");
    assert_eq!(
        state.connections, THREADS as u32,
        "{mode}: the pool counts exactly the live sessions"
    );
    tally.failures.clear();
    tally
}

/// States of the pool's sessions on the server (`application_name` hurricane-db, this
/// test's database); the test's own connections have another name.
fn pool_sessions(t: &TestDb) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Session {
        #[diesel(sql_type = Text)]
        state: String,
    }
    diesel::sql_query(
        "SELECT coalesce(state, '') AS state FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = $1",
    )
    .bind::<Text, _>(POOL_APP)
    .load::<Session>(&mut t.connect())
    .unwrap()
    .into_iter()
    .map(|s| s.state)
    .collect()
}

#[test]
fn the_pool_heals_after_every_kind_of_restart() {
    for mode in ["fast", "immediate", "stop-wait-start"] {
        run_mode(mode);
    }
}
