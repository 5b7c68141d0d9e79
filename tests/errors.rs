//! Issue 8 point 5: errors a service can act on, produced by a real server.

use std::error::Error as _;
use std::sync::{Arc, Barrier};

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use hurricane_db::schema::hurricanes;
use hurricane_db::{Db, Error};
use hurricane_db_testkit::{sample_observation, TestDb};

fn backend_pid(conn: &mut PgConnection) -> i32 {
    diesel::select(diesel::dsl::sql::<Integer>("pg_backend_pid()"))
        .get_result(conn)
        .unwrap()
}

#[test]
fn a_deadlock_is_a_retryable_conflict_and_a_retry_succeeds() {
    let t = TestDb::with_builder(Db::builder().pool_size(2));
    // Two storms: the storms-summary trigger locks one row per storm, and the two
    // transactions must meet only at the two observations.
    t.db.insert_observation("setup", &sample_observation(1))
        .unwrap();
    let mut other = sample_observation(2);
    other.btid = 2;
    t.db.insert_observation("setup", &other).unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let lock_in_order = |first: i32, second: i32| {
        let (db, barrier) = (t.db.clone(), Arc::clone(&barrier));
        move || {
            db.transaction(|conn| {
                diesel::update(hurricanes::table.find(first))
                    .set(hurricanes::wind_kts.eq(100))
                    .execute(conn)?;
                barrier.wait();
                diesel::update(hurricanes::table.find(second))
                    .set(hurricanes::wind_kts.eq(101))
                    .execute(conn)?;
                Ok::<_, Error>(())
            })
        }
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(lock_in_order(1, 2));
        let b = s.spawn(lock_in_order(2, 1));
        (a.join().unwrap(), b.join().unwrap())
    });
    let failed: Vec<&Error> = [&a, &b]
        .into_iter()
        .filter_map(|r| r.as_ref().err())
        .collect();
    assert_eq!(
        failed.len(),
        1,
        "exactly one side is chosen as the victim: {a:?} {b:?}"
    );
    let err = failed[0];
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    assert!(err.is_retryable(), "{err}");
    assert!(err.source().is_some(), "the Diesel error is kept");
    // The victim's retry goes through.
    t.db.transaction(|conn| {
        diesel::update(hurricanes::table.find(1))
            .set(hurricanes::wind_kts.eq(102))
            .execute(conn)?;
        Ok::<_, Error>(())
    })
    .unwrap();
}

#[test]
fn a_connection_killed_mid_transaction_is_connection_lost_and_the_pool_heals() {
    let t = TestDb::with_builder(Db::builder().pool_size(1));
    let mut admin = t.connect();
    let result = t.db.transaction(|conn| {
        diesel::insert_into(hurricanes::table)
            .values(&sample_observation(7))
            .execute(conn)?;
        let pid = backend_pid(conn);
        diesel::sql_query("SELECT pg_terminate_backend($1)")
            .bind::<Integer, _>(pid)
            .execute(&mut admin)?;
        hurricanes::table.count().get_result::<i64>(conn)?;
        Ok::<_, Error>(())
    });
    let err = result.expect_err("the connection was killed");
    assert!(matches!(err, Error::ConnectionLost(_)), "{err:?}");
    assert!(err.is_retryable(), "lost before COMMIT: safe to retry");
    assert!(err.is_unavailable());
    // Nothing was written, and the next call (same pool of one) works at once.
    let n: i64 =
        t.db.read(|conn| Ok::<_, Error>(hurricanes::table.count().get_result(conn)?))
            .unwrap();
    assert_eq!(n, 0);
    t.db.ping().unwrap();
}

#[test]
fn constraint_and_decode_errors_are_not_retryable_and_keep_their_source() {
    let t = TestDb::new();
    t.db.insert_observation("setup", &sample_observation(1))
        .unwrap();
    let dup =
        t.db.insert_observation("setup", &sample_observation(1))
            .unwrap_err();
    assert!(matches!(dup, Error::UniqueViolation { .. }), "{dup:?}");
    assert!(!dup.is_retryable());
    assert!(dup.source().is_some());

    #[derive(QueryableByName, Debug)]
    struct Wrong {
        #[diesel(sql_type = Integer)]
        #[allow(dead_code)]
        name: i32,
    }
    let err =
        t.db.read(|conn| {
            Ok::<_, Error>(
                diesel::sql_query("SELECT 'ANDREW-LONGER-THAN-4-BYTES'::text AS name")
                    .get_result::<Wrong>(conn)?,
            )
        })
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(!matches!(err, Error::InvalidInput(_)));
    assert!(!err.is_retryable());

    let text: String =
        t.db.read(|conn| {
            Ok::<_, Error>(
                diesel::select(diesel::dsl::sql::<Text>(
                    "current_setting('application_name')",
                ))
                .get_result(conn)?,
            )
        })
        .unwrap();
    assert_eq!(
        text, "hurricane-db",
        "DbBuilder::application_name reaches the server"
    );
}

#[test]
fn the_callers_own_error_type_goes_through_transaction() {
    #[derive(Debug)]
    enum AppError {
        Db(Error),
        Business(&'static str),
    }
    impl From<Error> for AppError {
        fn from(e: Error) -> Self {
            AppError::Db(e)
        }
    }
    impl From<diesel::result::Error> for AppError {
        fn from(e: diesel::result::Error) -> Self {
            AppError::Db(e.into())
        }
    }
    let t = TestDb::new();
    let result: Result<(), AppError> = t.db.transaction(|conn| {
        diesel::insert_into(hurricanes::table)
            .values(&sample_observation(5))
            .execute(conn)?;
        Err(AppError::Business("refused by a business rule"))
    });
    match result {
        Err(AppError::Business(why)) => assert_eq!(why, "refused by a business rule"),
        Err(AppError::Db(e)) => panic!("{e}"),
        Ok(()) => panic!("the closure refused"),
    }
    // Rolled back; and a pooled connection is a Diesel connection as it is.
    let mut conn = t.db.conn().unwrap();
    assert_eq!(
        hurricanes::table
            .count()
            .get_result::<i64>(&mut conn)
            .unwrap(),
        0
    );
}

#[test]
fn statement_timeout_from_options_is_enforced() {
    let t = TestDb::with_builder(
        Db::builder().statement_timeout(Some(std::time::Duration::from_millis(200))),
    );
    let started = std::time::Instant::now();
    let err =
        t.db.read(|conn| Ok::<_, Error>(diesel::sql_query("SELECT pg_sleep(5)").execute(conn)?))
            .unwrap_err();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "{err}"
    );
    assert!(chain(&err).contains("statement timeout"), "{}", chain(&err));
}

/// An error and its sources as anyhow's `{:#}` prints them: `outer: inner: ...`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

/// Issue 17 point 5: walking `source()` prints every text once. No link of a chain
/// repeats the text of the link it is made from (a constraint's server message, an
/// I/O error's reason, a curation's check, a migration's failure).
#[test]
fn error_chains_print_each_text_once() {
    let t = TestDb::new();
    t.db.insert_observation("setup", &sample_observation(1))
        .unwrap();
    let mut errors: Vec<Error> = vec![
        t.db.insert_observation("setup", &sample_observation(1))
            .unwrap_err(),
        t.db.insert_observation("setup", &{
            let mut bad = sample_observation(2);
            bad.pressure = Some(5);
            bad
        })
        .unwrap_err(),
        t.db.read(|c| Ok::<_, Error>(diesel::sql_query("SELECT 'x'::int").execute(c)?))
            .unwrap_err(),
        // A schema the crate does not know (SchemaNotCurrent, with the server's error).
        t.db.read(|c| {
            Ok::<_, Error>(diesel::sql_query("SELECT no_such_column FROM hurricanes").execute(c)?)
        })
        .unwrap_err(),
        // Any other server error (Database).
        t.db.read(|c| Ok::<_, Error>(diesel::sql_query("SELECT FROM WHERE").execute(c)?))
            .unwrap_err(),
        t.db.reassign_observations("setup", 1, 99).unwrap_err(),
        hurricane_db::ingest::load_path(
            &t.db,
            "/nonexistent/storm_data.csv",
            &hurricane_db::ingest::LoadOptions::new(),
        )
        .unwrap_err(),
    ];
    // A migration failure keeps diesel_migrations' error as its source.
    errors.push(
        hurricane_db_testkit::TestDb::empty()
            .db
            .revert_last_migration()
            .unwrap_err(),
    );
    for e in &errors {
        let mut links = vec![e.to_string()];
        let mut source = e.source();
        while let Some(s) = source {
            links.push(s.to_string());
            source = s.source();
        }
        println!("chain: {}", links.join(": "));
        assert!(links.len() >= 2, "{e:?} keeps its source");
        for pair in links.windows(2) {
            assert!(
                !pair[0].contains(&pair[1]) && !pair[1].contains(&pair[0]),
                "printed twice: {pair:?}"
            );
        }
    }
    let migration = errors.last().unwrap();
    assert!(
        matches!(migration, Error::Migration { .. }),
        "{migration:?}"
    );
    println!(
        "size_of::<Error>() = {} bytes",
        std::mem::size_of::<Error>()
    );
    assert!(std::mem::size_of::<Error>() <= 64);
}

/// SQLSTATE class 22 from a real server: values that pass every client-side check
/// and that the server refuses. Diesel 2.3 passes no SQLSTATE for these, so the
/// mapping reads the server's (English) message; this shows it does, end to end.
#[test]
fn values_the_server_refuses_as_data_exceptions_are_invalid_value() {
    use chrono::TimeZone;
    let t = TestDb::new();
    // Year 5000 BC: chrono and `NewHurricane::validate` accept it; PostgreSQL's
    // timestamptz starts at 4713 BC (22008 datetime_field_overflow).
    let mut ancient = sample_observation(1);
    ancient.timestamp = chrono::Utc
        .with_ymd_and_hms(-5000, 8, 24, 9, 0, 0)
        .single()
        .unwrap();
    ancient.validate().expect("passes the client-side checks");
    let err = t.db.insert_observation("class22", &ancient).unwrap_err();
    println!("insert of a 5000 BC observation: {err:?}: {}", chain(&err));
    assert!(matches!(err, Error::InvalidValue { .. }), "{err:?}");
    assert!(
        chain(&err).contains("timestamp out of range"),
        "{}",
        chain(&err)
    );
    assert!(!err.is_retryable() && !err.is_unavailable());
    assert!(err.source().is_some(), "the Diesel error is kept");

    // 22P02 invalid_text_representation and 22003 numeric_value_out_of_range, from
    // values the server parses itself.
    for (sql, words) in [
        (
            "SELECT 'twelve'::int AS n",
            "invalid input syntax for type integer",
        ),
        (
            "SELECT (2147483647 + n)::int AS n FROM (SELECT 1 AS n) s",
            "integer out of range",
        ),
    ] {
        let err =
            t.db.read(|conn| Ok::<_, Error>(diesel::sql_query(sql).execute(conn)?))
                .unwrap_err();
        println!("{sql}: {}", chain(&err));
        assert!(matches!(err, Error::InvalidValue { .. }), "{sql}: {err:?}");
        assert!(chain(&err).contains(words), "{}", chain(&err));
    }
    // Nothing was written.
    let n: i64 =
        t.db.read(|conn| Ok::<_, Error>(hurricanes::table.count().get_result(conn)?))
            .unwrap();
    assert_eq!(n, 0);
}
