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

/// The port of the server `conn` is on (unix sockets: `inet_server_port()` is NULL).
fn port(conn: &mut PgConnection) -> Result<i32, Error> {
    Ok(
        diesel::select(diesel::dsl::sql::<Integer>("current_setting('port')::int"))
            .get_result(conn)?,
    )
}

/// Observation `fid`'s wind, and the port of the server that answered.
fn wind_and_port(conn: &mut PgConnection, fid: i32) -> Result<(Option<i16>, i32), Error> {
    Ok((wind(conn, fid)?, port(conn)?))
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
    // Plain reads spread over both standbys: each thread keeps its own, and threads
    // take them in turn. Four threads, 25 reads each, every read naming its server.
    let standby_ports: Vec<i32> = topo.standbys.iter().map(|s| i32::from(s.port())).collect();
    let per_thread: Vec<Vec<i32>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    (0..25)
                        .map(|_| db.read(port).unwrap())
                        .collect::<Vec<i32>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let on = |p: i32| per_thread.iter().flatten().filter(|x| **x == p).count();
    let (first, second) = (on(standby_ports[0]), on(standby_ports[1]));
    println!(
        "plain reads, 4 threads x 25: standby 1 (port {}) answered {first}, standby 2 (port {}) \
         answered {second}, the primary {}",
        standby_ports[0],
        standby_ports[1],
        on(i32::from(topo.primary.port()))
    );
    assert_eq!(first + second, 100, "every plain read ran on a standby");
    assert!(
        first >= 25 && second >= 25,
        "both standbys answer plain reads: {first} and {second}"
    );
    for reads in &per_thread {
        assert!(
            reads.iter().all(|p| *p == reads[0]),
            "a thread keeps its standby: {reads:?}"
        );
    }

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

    let standby_ports: Vec<i32> = topo.standbys.iter().map(|s| i32::from(s.port())).collect();
    let primary_port = i32::from(topo.primary.port());
    let rounds = 500;
    let mut session = db.session();
    let mut session_misses = 0;
    let mut plain_misses = 0;
    let mut session_on_standby = 0;
    let mut session_on_primary = 0;
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
        let (seen, server) = session.read(|c| wind_and_port(c, 1)).unwrap();
        if seen != Some(w) {
            session_misses += 1;
        }
        if standby_ports.contains(&server) {
            session_on_standby += 1;
        } else if server == primary_port {
            session_on_primary += 1;
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
        "read-your-writes: session {session_misses} misses of {rounds}, its reads answered by a \
         standby {session_on_standby} times and by the primary {session_on_primary}; plain \
         db.read right after a write {plain_misses} misses of {rounds} ({:.0}%)",
        plain_misses as f64 * 100.0 / rounds as f64
    );
    assert_eq!(session_misses, 0);
    assert_eq!(session_on_standby + session_on_primary, rounds);
    // A standby replays a commit in about a millisecond and a session read waits up
    // to 200 ms for it: most session reads run there (not all on the primary).
    assert!(
        session_on_standby * 2 > rounds,
        "session reads on a standby: {session_on_standby} of {rounds}"
    );

    // With the standbys caught up before the read, every session read runs on one.
    let mut caught_up = Vec::new();
    for w in 0..20i16 {
        session
            .transaction(|c| {
                diesel::update(hurricanes::table.find(1))
                    .set(hurricanes::wind_kts.eq(w))
                    .execute(c)?;
                Ok::<_, Error>(())
            })
            .unwrap();
        topo.wait_replayed(Duration::from_secs(5)).unwrap();
        let (seen, server) = session.read(|c| wind_and_port(c, 1)).unwrap();
        assert_eq!(seen, Some(w));
        caught_up.push(server);
    }
    let mut by_port = std::collections::BTreeMap::<i32, usize>::new();
    for p in &caught_up {
        *by_port.entry(*p).or_default() += 1;
    }
    println!(
        "session reads after the standbys caught up: {} reads, by server port {by_port:?} \
         (standbys {standby_ports:?}, primary {primary_port})",
        caught_up.len()
    );
    assert!(
        caught_up.iter().all(|p| standby_ports.contains(p)),
        "a caught-up standby serves session reads: {caught_up:?} (standbys {standby_ports:?})"
    );

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
    let (seen, server) = session.read(|c| wind_and_port(c, 1)).unwrap();
    let took = started.elapsed();
    let stale = db.read(|c| wind(c, 1)).unwrap();
    println!(
        "replay paused: session read saw {seen:?} in {:.0} ms (bound 200 ms + one round trip) on \
         port {server} (the primary is {}); a plain read on a standby saw {stale:?}",
        took.as_secs_f64() * 1e3,
        topo.primary.port()
    );
    assert_eq!(seen, Some(77));
    assert_eq!(
        server,
        i32::from(topo.primary.port()),
        "fell back to the primary"
    );
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
