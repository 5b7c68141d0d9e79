//! Issue 10 point 4: failover. A multi-host writer URL with
//! `target_session_attrs=read-write` follows a promoted standby; every acknowledged
//! write is on the new primary exactly once with synchronous replication; with
//! asynchronous replication a crash of the primary loses acknowledged commits.
//! Promotion itself is the job of an HA manager (here the test plays that part).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Integer;
use hurricane_db::schema::hurricanes;
use hurricane_db::{Db, Error};
use hurricane_db_testkit::cluster::{Cluster, StopMode};
use hurricane_db_testkit::{sample_observation, topology, Topology};

fn encode(path: &std::path::Path) -> String {
    path.to_string_lossy()
        .replace('%', "%25")
        .replace('/', "%2F")
}

/// `postgresql://postgres@/DB?host=A,B&port=PA,PB&target_session_attrs=read-write`
fn writer_url(topo: &Topology) -> String {
    let (p, s) = (&topo.primary, &topo.standbys[0]);
    format!(
        "postgresql://postgres@/{}?host={},{}&port={},{}&target_session_attrs=read-write",
        topo.database,
        encode(p.dir()),
        encode(s.dir()),
        p.port(),
        s.port()
    )
}

fn admin(c: &Cluster, db: &str, sql: &str) {
    let mut conn = PgConnection::establish(&c.url(db)).unwrap();
    diesel::sql_query(sql).execute(&mut conn).unwrap();
}

fn synchronous(topo: &Topology, on: bool) {
    let names = if on { "*" } else { "" };
    admin(
        &topo.primary,
        &topo.database,
        &format!("ALTER SYSTEM SET synchronous_standby_names = '{names}'"),
    );
    admin(&topo.primary, &topo.database, "SELECT pg_reload_conf()");
    std::thread::sleep(Duration::from_millis(200));
}

fn fids_on(c: &Cluster, db: &str) -> BTreeSet<i32> {
    let mut conn = PgConnection::establish(&c.url(db)).unwrap();
    hurricanes::table
        .select(hurricanes::fid)
        .load::<i32>(&mut conn)
        .unwrap()
        .into_iter()
        .collect()
}

/// Median per-commit time of `n` one-row updates.
fn commit_p50(db: &Db, n: usize) -> Duration {
    let mut times: Vec<Duration> = (0..n)
        .map(|i| {
            let started = Instant::now();
            db.transaction(|c| {
                diesel::update(hurricanes::table.find(1))
                    .set(hurricanes::wind_kts.eq((i % 100) as i16))
                    .execute(c)?;
                Ok::<_, Error>(())
            })
            .unwrap();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[n / 2]
}

#[test]
fn writes_resume_on_a_promoted_standby_and_none_acknowledged_is_lost() {
    let topo = topology(1);
    let db = Db::builder()
        .pool_size(2)
        .checkout_timeout(Duration::from_secs(10))
        .connect(&writer_url(&topo))
        .unwrap();
    db.insert_observation("setup", &sample_observation(1))
        .unwrap();
    let asynchronous = commit_p50(&db, 200);
    synchronous(&topo, true);
    let sync = commit_p50(&db, 200);
    println!(
        "cost per commit: asynchronous p50 {:.2} ms, synchronous (synchronous_standby_names = '*') p50 {:.2} ms",
        asynchronous.as_secs_f64() * 1e3,
        sync.as_secs_f64() * 1e3
    );

    let next = AtomicI32::new(1_000);
    let stop = AtomicBool::new(false);
    let acked = Mutex::new(BTreeSet::new());
    let unknown = Mutex::new(BTreeSet::new());
    let failures = Mutex::new(Vec::<(Instant, String)>::new());
    let successes = Mutex::new(Vec::<Instant>::new());
    let mut crashed_at = None;
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                let fid = next.fetch_add(1, Ordering::SeqCst);
                match db.insert_observation("failover", &sample_observation(fid)) {
                    Ok(_) => {
                        acked.lock().unwrap().insert(fid);
                        successes.lock().unwrap().push(Instant::now());
                    }
                    Err(e) => {
                        if matches!(e, Error::CommitOutcomeUnknown(_)) {
                            unknown.lock().unwrap().insert(fid);
                        }
                        failures
                            .lock()
                            .unwrap()
                            .push((Instant::now(), e.to_string()));
                        std::thread::sleep(Duration::from_millis(10));
                    }
                }
            }
        });
        std::thread::sleep(Duration::from_millis(700));
        // The primary dies; the HA manager (this test) promotes the standby.
        let at = Instant::now();
        topo.primary.stop_server(StopMode::Immediate).unwrap();
        topo.standbys[0].promote().unwrap();
        crashed_at = Some(at);
        std::thread::sleep(Duration::from_millis(1_500));
        stop.store(true, Ordering::SeqCst);
    });
    let crashed_at = crashed_at.unwrap();
    let resumed = successes
        .lock()
        .unwrap()
        .iter()
        .find(|t| **t > crashed_at)
        .map(|t| t.duration_since(crashed_at));
    let acked = acked.into_inner().unwrap();
    let unknown = unknown.into_inner().unwrap();
    let present = fids_on(&topo.standbys[0], &topo.database);
    let lost: Vec<&i32> = acked.iter().filter(|f| !present.contains(f)).collect();
    let extra: Vec<&i32> = present
        .iter()
        .filter(|f| **f >= 1_000 && !acked.contains(f) && !unknown.contains(f))
        .collect();
    let failures = failures.into_inner().unwrap();
    println!(
        "failover: writes resumed {:.2} s after the primary died; {} writes acknowledged, {} on the \
         new primary, {} lost, {} present but unacknowledged, {} failed calls during the gap, {} \
         with unknown outcome",
        resumed.map_or(f64::NAN, |d| d.as_secs_f64()),
        acked.len(),
        acked.iter().filter(|f| present.contains(f)).count(),
        lost.len(),
        extra.len(),
        failures.len(),
        unknown.len()
    );
    for (_, e) in failures.iter().take(3) {
        println!("  e.g. {e}");
    }
    let resumed = resumed.expect("writes resumed on the promoted standby");
    assert!(resumed < Duration::from_secs(5), "{resumed:?}");
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(
        extra.is_empty(),
        "present but never acknowledged: {extra:?}"
    );
    // The writer pool now writes to the promoted standby.
    let on_new: i32 = db
        .transaction(|c| {
            Ok::<_, Error>(
                diesel::select(diesel::dsl::sql::<Integer>("current_setting('port')::int"))
                    .get_result(c)?,
            )
        })
        .unwrap();
    assert_eq!(on_new, i32::from(topo.standbys[0].port()));
}

/// Cuts the standby off from the primary (its `primary_conninfo` points nowhere), so
/// the primary's next commits reach no standby; waits until its WAL receiver is gone.
fn cut_off_standby(topo: &Topology) {
    let standby = &topo.standbys[0];
    admin(
        standby,
        &topo.database,
        "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=1 connect_timeout=1'",
    );
    admin(standby, &topo.database, "SELECT pg_reload_conf()");
    let mut conn = PgConnection::establish(&standby.url(&topo.database)).unwrap();
    let started = Instant::now();
    loop {
        let streaming: i32 = diesel::select(diesel::dsl::sql::<Integer>(
            "(SELECT count(*)::int FROM pg_stat_wal_receiver WHERE status = 'streaming')",
        ))
        .get_result(&mut conn)
        .unwrap();
        if streaming == 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the standby still streams"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn asynchronous_replication_loses_acknowledged_commits_in_a_crash_and_synchronous_does_not() {
    for sync in [false, true] {
        let topo = topology(1);
        let db = Db::builder()
            .pool_size(2)
            .connect(&writer_url(&topo))
            .unwrap();
        db.insert_observation("setup", &sample_observation(1))
            .unwrap();
        topo.wait_replayed(Duration::from_secs(5)).unwrap();
        synchronous(&topo, sync);
        cut_off_standby(&topo);
        let acked = Mutex::new(BTreeSet::new());
        std::thread::scope(|s| {
            s.spawn(|| {
                for fid in 100..110 {
                    // Synchronous: the commit waits for the frozen standby and fails
                    // when the primary dies, so it is never acknowledged.
                    match db.insert_observation("crash", &sample_observation(fid)) {
                        Ok(_) => {
                            acked.lock().unwrap().insert(fid);
                        }
                        Err(_) => break,
                    }
                }
            });
            std::thread::sleep(Duration::from_millis(700));
            topo.primary.stop_server(StopMode::Immediate).unwrap();
        });
        topo.standbys[0].promote().unwrap();
        let acked = acked.into_inner().unwrap();
        let present = fids_on(&topo.standbys[0], &topo.database);
        let lost = acked.iter().filter(|f| !present.contains(f)).count();
        println!(
            "{} replication, primary crashed (-m immediate) while the standby lagged: {} commits \
             acknowledged, {lost} of them lost after promotion",
            if sync { "synchronous" } else { "asynchronous" },
            acked.len()
        );
        if sync {
            assert_eq!(
                lost, 0,
                "synchronous replication loses no acknowledged commit"
            );
        } else {
            assert!(
                lost > 0 && lost == acked.len(),
                "acknowledged {acked:?}, present {present:?}"
            );
        }
    }
}
