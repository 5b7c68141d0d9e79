//! Issue 2: migrations, CHECK constraints, the session scope and its error mapping,
//! all against a real throwaway PostgreSQL.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use hurricane_db::schema::hurricanes;
use hurricane_db::{Db, Error, Hurricane, HurricaneChanges, NewHurricane};
use hurricane_db_testkit::{sample_observation, TestDb};

/// Marks the panics these tests cause, so the hook below keeps them out of the log.
const ON_PURPOSE: &str = "(a panic on purpose)";

/// Silences intended panics (dozens of backtraces otherwise); any other panic is
/// reported as usual.
fn quiet_intended_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let intended = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|m| m.ends_with(ON_PURPOSE));
            if !intended {
                default(info);
            }
        }));
    });
}

fn insert(db: &Db, row: &NewHurricane) -> hurricane_db::Result<usize> {
    db.transaction(|conn| {
        Ok(diesel::insert_into(hurricanes::table)
            .values(row)
            .execute(conn)?)
    })
}

fn count(db: &Db) -> i64 {
    db.read(|conn| Ok::<_, hurricane_db::Error>(hurricanes::table.count().get_result(conn)?))
        .expect("count")
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn table_exists(conn: &mut PgConnection) -> bool {
    diesel::sql_query("SELECT count(*) AS n FROM pg_tables WHERE tablename = 'hurricanes'")
        .get_result::<Count>(conn)
        .expect("catalog query")
        .n
        == 1
}

#[test]
fn migrations_go_up_down_and_up_again() {
    let t = TestDb::empty();
    let mut probe = t.connect();
    assert!(!table_exists(&mut probe));

    let applied = t.db.run_pending_migrations().expect("up");
    assert!(!applied.is_empty());
    assert!(table_exists(&mut probe));
    assert!(t.db.pending_migrations().expect("pending").is_empty());

    let reverted = t.db.revert_all_migrations().expect("down");
    assert_eq!(reverted.len(), applied.len());
    assert!(!table_exists(&mut probe));

    let again = t.db.run_pending_migrations().expect("up again");
    assert_eq!(again, applied);
    assert!(table_exists(&mut probe));
    insert(&t.db, &sample_observation(1)).expect("insert after up-down-up");
}

#[test]
fn each_check_constraint_rejects_impossible_rows() {
    let t = TestDb::new();
    let dec = |s: &str| s.parse::<bigdecimal::BigDecimal>().unwrap();
    type Spoil = fn(&mut NewHurricane, &dyn Fn(&str) -> bigdecimal::BigDecimal);
    let cases: Vec<(&str, Spoil)> = vec![
        ("hurricanes_lat_range", |r, d| r.lat = d("90.000001")),
        ("hurricanes_lat_range", |r, d| r.lat = d("-90.5")),
        ("hurricanes_long_range", |r, d| r.long = d("180.000001")),
        ("hurricanes_long_range", |r, d| r.long = d("-181")),
        ("hurricanes_wind_kts_nonnegative", |r, _| r.wind_kts = -1),
        ("hurricanes_pressure_range", |r, _| r.pressure = Some(799)),
        ("hurricanes_pressure_range", |r, _| r.pressure = Some(1101)),
        ("hurricanes_shape_length_nonnegative", |r, d| {
            r.shape_length = d("-0.000001")
        }),
    ];
    for (i, (expected, spoil)) in cases.iter().enumerate() {
        let mut row = sample_observation(100 + i as i32);
        spoil(&mut row, &dec);
        match insert(&t.db, &row) {
            Err(Error::CheckViolation { constraint, .. }) => assert_eq!(&constraint, expected),
            other => panic!("case {i} ({expected}): expected CheckViolation, got {other:?}"),
        }
    }
    // Edges are allowed: exactly 90, -180, 0 wind, 800 and 1100 mb, 0 length, NULL pressure.
    let mut edge = sample_observation(1);
    edge.lat = dec("90");
    edge.long = dec("-180");
    edge.wind_kts = 0;
    edge.pressure = Some(800);
    edge.shape_length = dec("0");
    insert(&t.db, &edge).expect("edge values");
    let mut edge2 = sample_observation(2);
    edge2.pressure = Some(1100);
    insert(&t.db, &edge2).expect("1100 mb");
    let mut edge3 = sample_observation(3);
    edge3.pressure = None;
    insert(&t.db, &edge3).expect("NULL pressure");
    assert_eq!(count(&t.db), 3);
}

#[test]
fn errors_map_to_variants() {
    let t = TestDb::new();
    insert(&t.db, &sample_observation(7)).unwrap();
    match insert(&t.db, &sample_observation(7)) {
        Err(Error::UniqueViolation { constraint, .. }) => assert_eq!(constraint, "hurricanes_pkey"),
        other => panic!("expected UniqueViolation, got {other:?}"),
    }
    let missing = t.db.read(|conn| {
        Ok(hurricanes::table
            .find(999)
            .select(Hurricane::as_select())
            .first(conn)?)
    });
    assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");
}

#[test]
fn numerics_and_times_stay_exact() {
    let t = TestDb::new();
    let row = sample_observation(11);
    insert(&t.db, &row).unwrap();
    let back: Hurricane =
        t.db.read(|conn| {
            Ok::<_, hurricane_db::Error>(
                hurricanes::table
                    .find(11)
                    .select(Hurricane::as_select())
                    .first(conn)?,
            )
        })
        .unwrap();
    assert_eq!(back.shape_length.to_string(), "1.140175");
    assert_eq!(back.lat.to_string(), "25.500000");
    assert_eq!(back.timestamp.to_rfc3339(), "1992-08-24T09:00:00+00:00");
    assert_eq!(NewHurricane::from(back), row);

    let changes = HurricaneChanges {
        pressure: Some(None),
        name: Some("O'BRIEN".into()),
        ..Default::default()
    };
    let updated: Hurricane =
        t.db.transaction(|conn| {
            Ok::<_, hurricane_db::Error>(
                diesel::update(hurricanes::table.find(11))
                    .set(&changes)
                    .returning(Hurricane::as_returning())
                    .get_result(conn)?,
            )
        })
        .unwrap();
    assert_eq!(updated.pressure, None);
    assert_eq!(updated.name, "O'BRIEN");
    assert_eq!(updated.wind_kts, 145, "untouched columns stay");
}

#[test]
fn committed_writes_are_visible_rolled_back_ones_are_not() {
    let t = TestDb::new();
    insert(&t.db, &sample_observation(1)).unwrap();
    let failed: hurricane_db::Result<()> = t.db.transaction(|conn| {
        diesel::insert_into(hurricanes::table)
            .values(&sample_observation(2))
            .execute(conn)?;
        Err(Error::InvalidInput("changed my mind".into()))
    });
    assert!(matches!(failed, Err(Error::InvalidInput(_))));
    let ids: Vec<i32> =
        t.db.read(|conn| {
            Ok::<_, hurricane_db::Error>(hurricanes::table.select(hurricanes::fid).load(conn)?)
        })
        .unwrap();
    assert_eq!(ids, vec![1]);
}

#[test]
fn read_only_transaction_refuses_writes() {
    let t = TestDb::new();
    let result = t.db.read(|conn| {
        Ok(diesel::insert_into(hurricanes::table)
            .values(&sample_observation(1))
            .execute(conn)?)
    });
    assert!(matches!(result, Err(Error::ReadOnly { .. })), "{result:?}");
    assert_eq!(count(&t.db), 0);
}

#[test]
fn a_panicking_closure_rolls_back_and_the_panic_continues() {
    quiet_intended_panics();
    let t = TestDb::with_builder(Db::builder().pool_size(1));
    let pid_before = backend_pid(&t.db);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let _: hurricane_db::Result<()> = t.db.transaction(|conn| {
            diesel::insert_into(hurricanes::table)
                .values(&sample_observation(1))
                .execute(conn)?;
            panic!("boom {}", ON_PURPOSE);
        });
    }));
    let payload = caught.expect_err("the panic must reach the caller");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("boom (a panic on purpose)")
    );
    // The only connection is back (the same server process, not a replacement),
    // idle and outside any transaction, and the insert is gone.
    assert_eq!(count(&t.db), 0);
    assert_eq!(
        backend_pid(&t.db),
        pid_before,
        "the same connection came back"
    );
    assert_eq!(states(&t.db), (1, 1));
    let mut observer = t.connect();
    let state: Activity = diesel::sql_query(
        "SELECT coalesce(state, '') AS state FROM pg_stat_activity WHERE pid = $1",
    )
    .bind::<diesel::sql_types::Integer, _>(pid_before)
    .get_result(&mut observer)
    .unwrap();
    assert_eq!(state.state, "idle", "not idle in transaction");
}

fn backend_pid(db: &Db) -> i32 {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>(
        "pg_backend_pid()",
    ))
    .get_result(&mut db.conn().unwrap())
    .unwrap()
}

/// (open, idle) connections of the pool.
fn states(db: &Db) -> (u32, u32) {
    let s = db.pool_state();
    (s.connections, s.idle)
}

#[derive(QueryableByName, Debug)]
struct Pid {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
}

/// Opening a `Db` proves its URL with one connection, and the first query uses that
/// same connection (the same server process): one connection set-up, not two.
#[test]
fn the_connection_that_proves_the_url_serves_the_first_query() {
    let t = TestDb::new();
    let app = hurricane_db_testkit::unique_name("proving");
    let db = Db::builder()
        .pool_size(2)
        .application_name(app.clone())
        .connect(&t.url)
        .unwrap();
    let mut watcher = t.connect();
    let mut sessions_of_db = || -> Vec<Pid> {
        diesel::sql_query("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
            .bind::<Text, _>(&app)
            .load(&mut watcher)
            .unwrap()
    };
    let sessions = sessions_of_db();
    let first = backend_pid(&db);
    let after = sessions_of_db();
    println!(
        "sessions after opening: {:?}; first query on pid {first}; sessions after it: {:?}",
        sessions.iter().map(|s| s.pid).collect::<Vec<_>>(),
        after.iter().map(|s| s.pid).collect::<Vec<_>>()
    );
    assert_eq!(sessions.len(), 1, "one connection open after connect()");
    assert_eq!(first, sessions[0].pid, "the first query used it");
    assert_eq!(after.len(), 1, "and no second one was opened");
}

#[derive(QueryableByName, Debug)]
struct Activity {
    #[diesel(sql_type = Text)]
    state: String,
}

#[test]
fn hundred_closures_leave_the_pool_clean() {
    quiet_intended_panics();
    let t = TestDb::with_builder(Db::builder().pool_size(2));
    let db = Arc::new(t.db.clone());
    {
        // Open both connections up front, so the test sees what happens to each.
        let _a = db.conn().unwrap();
        let _b = db.conn().unwrap();
    }
    assert_eq!(states(&db), (2, 2));
    let next = Arc::new(AtomicUsize::new(0));
    let (ok, err, panicked) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    std::thread::scope(|s| {
        for _ in 0..4 {
            let (db, next, ok, err, panicked) = (&db, &next, &ok, &err, &panicked);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= 100 {
                    break;
                }
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    db.transaction(|conn| {
                        diesel::insert_into(hurricanes::table)
                            .values(&sample_observation(i as i32 + 1))
                            .execute(conn)?;
                        match i % 3 {
                            0 => Ok(()),
                            1 => Err(Error::InvalidInput(format!("closure {i} says no"))),
                            _ => panic!("closure {i} {ON_PURPOSE}"),
                        }
                    })
                }));
                match outcome {
                    Ok(Ok(())) => ok.fetch_add(1, Ordering::SeqCst),
                    Ok(Err(_)) => err.fetch_add(1, Ordering::SeqCst),
                    Err(_) => panicked.fetch_add(1, Ordering::SeqCst),
                };
            });
        }
    });
    assert_eq!(ok.load(Ordering::SeqCst), 34);
    assert_eq!(err.load(Ordering::SeqCst), 33);
    assert_eq!(panicked.load(Ordering::SeqCst), 33);

    // Only the committed third is there.
    assert_eq!(count(&db), 34);
    assert_eq!(states(&db), (2, 2), "both connections back and idle");

    let mut observer = t.connect();
    let sessions: Vec<Activity> = diesel::sql_query(
        "SELECT coalesce(state, '') AS state FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() \
         AND backend_type = 'client backend'",
    )
    .load(&mut observer)
    .unwrap();
    let states: Vec<&str> = sessions.iter().map(|a| a.state.as_str()).collect();
    assert_eq!(
        states,
        vec!["idle", "idle"],
        "no session left idle in transaction"
    );
}

#[test]
fn connection_errors_never_show_the_password() {
    let err = Db::builder()
        .connect_timeout(std::time::Duration::from_secs(2))
        .connect("postgresql://writer:TopSecret42@127.0.0.1:1/ihw?connect_timeout=2")
        .expect_err("nothing listens on port 1");
    let text = err.to_string();
    assert!(matches!(err, Error::Connection(_)), "{err:?}");
    assert!(!text.contains("TopSecret42"), "{text}");
    assert!(text.contains("writer:***@127.0.0.1:1"), "{text}");
}
