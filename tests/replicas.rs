//! Issue 10: reads on streaming standbys, read-your-writes, failover. A real primary
//! with two real standbys (`pg_basebackup -c fast -R`) per test.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer};
use hurricane_db::schema::hurricanes;
use hurricane_db::{Db, Error};
use hurricane_db_testkit::cluster::StopMode;
use hurricane_db_testkit::{sample_observation, topology, Topology};

fn in_recovery(conn: &mut PgConnection) -> Result<bool, Error> {
    Ok(diesel::select(diesel::dsl::sql::<Bool>("pg_is_in_recovery()")).get_result(conn)?)
}

fn routed_db(topo: &Topology) -> Db {
    Db::builder()
        .pool_size(4)
        .read_urls(topo.read_urls())
        .connect(&topo.primary_url())
        .unwrap()
}

fn wind(conn: &mut PgConnection, fid: i32) -> Result<Option<i16>, Error> {
    Ok(hurricanes::table
        .find(fid)
        .select(hurricanes::wind_kts)
        .first(conn)
        .optional()?)
}

#[test]
fn reads_go_to_standbys_and_writes_to_the_primary() {
    let topo = topology(2);
    println!(
        "primary + 2 standbys ready in {:.2} s",
        topo.built_in.as_secs_f64()
    );
    let db = routed_db(&topo);
    assert_eq!(db.read_servers().len(), 2);
    let read = db.read(in_recovery).unwrap();
    let one = db.read_statement(in_recovery).unwrap();
    let write = db.transaction(in_recovery).unwrap();
    println!("db.read on a standby: {read}; db.read_one on a standby: {one}; db.transaction on a standby: {write}");
    assert!(read && one, "reads ran where pg_is_in_recovery() is true");
    assert!(!write, "writes ran on the primary");
    // Two threads find two different standbys (thread affinity spreads them).
    let ports: Vec<i32> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    db.read(|c| {
                        Ok::<_, Error>(
                            diesel::select(diesel::dsl::sql::<Integer>(
                                "current_setting('port')::int",
                            ))
                            .get_result(c)?,
                        )
                    })
                    .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    println!("two threads read on ports {ports:?}");

    // With every standby gone, reads fall back to the primary, READ ONLY.
    for s in &topo.standbys {
        s.stop_server(StopMode::Immediate).unwrap();
    }
    let started = Instant::now();
    let fallback = db.read(in_recovery).unwrap();
    println!(
        "standbys stopped: db.read on the primary (in recovery: {fallback}) after {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    assert!(!fallback);
    let refused = db.read(|c| {
        Ok::<_, Error>(
            diesel::insert_into(hurricanes::table)
                .values(&sample_observation(1))
                .execute(c)?,
        )
    });
    assert!(
        matches!(refused, Err(Error::ReadOnly { .. })),
        "{refused:?}"
    );
}

#[test]
fn a_session_reads_its_own_writes_and_plain_reads_miss_some() {
    let topo = topology(2);
    let db = routed_db(&topo);
    db.insert_observation("setup", &sample_observation(1))
        .unwrap();
    topo.wait_replayed(Duration::from_secs(5)).unwrap();

    let rounds = 500;
    let mut session = db.session();
    let mut session_misses = 0;
    let mut plain_misses = 0;
    for i in 0..rounds {
        let w = (i % 150) as i16;
        session
            .transaction_as("ryw", |c| {
                diesel::update(hurricanes::table.find(1))
                    .set(hurricanes::wind_kts.eq(w))
                    .execute(c)?;
                Ok::<_, Error>(())
            })
            .unwrap();
        if session.read(|c| wind(c, 1)).unwrap() != Some(w) {
            session_misses += 1;
        }
        let w2 = ((i + 7) % 150) as i16;
        db.transaction(|c| {
            diesel::update(hurricanes::table.find(1))
                .set(hurricanes::wind_kts.eq(w2))
                .execute(c)?;
            Ok::<_, Error>(())
        })
        .unwrap();
        if db.read(|c| wind(c, 1)).unwrap() != Some(w2) {
            plain_misses += 1;
        }
    }
    println!(
        "read-your-writes: session {session_misses} misses of {rounds}; plain db.read right after a \
         write {plain_misses} misses of {rounds} ({:.0}%)",
        plain_misses as f64 * 100.0 / rounds as f64
    );
    assert_eq!(session_misses, 0);

    // The token carries the position to another request.
    let token = session.token().expect("the session wrote");
    let other = db.session_from_token(&token).unwrap();
    assert_eq!(other.last_commit(), session.last_commit());
    assert!(db.session_from_token("not-a-token").is_err());
}

#[test]
fn with_replay_paused_a_session_read_falls_back_to_the_primary_within_the_bound() {
    let topo = topology(2);
    let db = routed_db(&topo);
    db.insert_observation("setup", &sample_observation(1))
        .unwrap();
    topo.wait_replayed(Duration::from_secs(5)).unwrap();
    for s in &topo.standbys {
        let mut c = PgConnection::establish(&s.url(&topo.database)).unwrap();
        diesel::sql_query("SELECT pg_wal_replay_pause()")
            .execute(&mut c)
            .unwrap();
    }
    let mut session = db.session();
    session
        .transaction_as("paused", |c| {
            diesel::update(hurricanes::table.find(1))
                .set(hurricanes::wind_kts.eq(77))
                .execute(c)?;
            Ok::<_, Error>(())
        })
        .unwrap();
    let started = Instant::now();
    let seen = session.read(|c| wind(c, 1)).unwrap();
    let took = started.elapsed();
    let stale = db.read(|c| wind(c, 1)).unwrap();
    println!(
        "replay paused: session read saw {seen:?} in {:.0} ms (bound 200 ms + one round trip); a plain \
         read on a standby saw {stale:?}",
        took.as_secs_f64() * 1e3
    );
    assert_eq!(seen, Some(77));
    assert_eq!(stale, Some(145), "the standbys really are behind");
    assert!(took < Duration::from_millis(1_000), "{took:?}");
    for s in &topo.standbys {
        let mut c = PgConnection::establish(&s.url(&topo.database)).unwrap();
        diesel::sql_query("SELECT pg_wal_replay_resume()")
            .execute(&mut c)
            .unwrap();
    }
}

/// On a server that commits asynchronously (the throwaway test cluster runs with
/// synchronous_commit off), a session's commits still each get a position past the
/// previous one: the session raises synchronous_commit to `local` for itself.
#[test]
fn session_positions_advance_with_every_commit_even_with_asynchronous_commit() {
    let t = hurricane_db_testkit::TestDb::new();
    t.db.insert_observation("setup", &sample_observation(1))
        .unwrap();
    let mut session = t.db.session();
    let mut last = None;
    for w in 0..20 {
        session
            .transaction_as("positions", |c| {
                diesel::update(hurricanes::table.find(1))
                    .set(hurricanes::wind_kts.eq(w))
                    .execute(c)?;
                Ok::<_, Error>(())
            })
            .unwrap();
        let now = session.last_commit().expect("a position after a commit");
        assert!(last.is_none_or(|l| now > l), "{last:?} then {now:?}");
        last = Some(now);
    }
}

/// A writer pool whose connections land on a standby fails at BEGIN, before any of
/// the caller's code runs, with a message that says what to configure.
#[test]
fn a_writer_on_a_standby_fails_at_begin_and_says_why() {
    let topo = topology(1);
    let db = Db::builder()
        .pool_size(2)
        .connect(&topo.standbys[0].url(&topo.database))
        .unwrap();
    let mut ran = false;
    let started = Instant::now();
    let err = db
        .transaction(|_| {
            ran = true;
            Ok::<_, Error>(())
        })
        .unwrap_err();
    println!(
        "writer on a standby: {err} ({:.0} ms)",
        started.elapsed().as_secs_f64() * 1e3
    );
    assert!(!ran, "the closure never ran");
    assert!(matches!(err, Error::Connection(_)), "{err:?}");
    assert!(
        err.to_string().contains("target_session_attrs=read-write"),
        "{err}"
    );
    // Reads work there.
    assert!(db.read(in_recovery).unwrap());
}
