//! Issue 4: least privilege and the audit trail, against a real PostgreSQL with real
//! login users connecting over TCP with SCRAM passwords.

use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use hurricane_db::audit::Edit;
use hurricane_db::ingest::{load_path, LoadOptions};
use hurricane_db::roles::{self, Role};
use hurricane_db::schema::{edits, hurricanes};
use hurricane_db::{Db, Error};
use hurricane_db_testkit::{sample_observation, unique_name, TestDb};

const PASSWORD: &str = "correct horse battery staple";

fn sample_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/storm_sample.csv")
}

/// Creates a login user in `role` and returns (name, pool connected as it over TCP).
fn login(t: &TestDb, prefix: &str, role: Role) -> (String, Db) {
    let name = unique_name(prefix);
    let mut conn = t.db.conn().unwrap();
    roles::add_user(&mut conn, &name, role, PASSWORD).unwrap();
    let db = Db::builder()
        .pool_size(2)
        .connect(&t.login_url(&name, PASSWORD))
        .unwrap();
    (name, db)
}

fn insert_rows(db: &Db, fids: std::ops::RangeInclusive<i32>) {
    let rows: Vec<_> = fids.map(sample_observation).collect();
    db.transaction(|c| {
        Ok::<_, hurricane_db::Error>(
            diesel::insert_into(hurricanes::table)
                .values(&rows)
                .execute(c)?,
        )
    })
    .unwrap();
}

fn all_edits(db: &Db) -> Vec<Edit> {
    db.read(|c| {
        Ok::<_, hurricane_db::Error>(
            edits::table
                .order(edits::id)
                .select(Edit::as_select())
                .load(c)?,
        )
    })
    .unwrap()
}

fn set_wind(db: &Db, app_user: Option<&str>, fid: i32, wind: i16) {
    let work = |c: &mut PgConnection| {
        Ok::<_, hurricane_db::Error>(
            diesel::update(hurricanes::table.find(fid))
                .set(hurricanes::wind_kts.eq(wind))
                .execute(c)?,
        )
    };
    match app_user {
        Some(u) => db.transaction_as(u, work),
        None => db.transaction(work),
    }
    .unwrap();
}

/// Tries one operation in a transaction that is always rolled back.
fn attempt(db: &Db, sql: &str) -> Result<(), Error> {
    let outcome = db.transaction(|c| {
        diesel::sql_query(sql).execute(c)?;
        Err::<(), _>(Error::InvalidInput("rolled back on purpose".into()))
    });
    match outcome {
        Err(Error::InvalidInput(m)) if m == "rolled back on purpose" => Ok(()),
        Err(e) => Err(e),
        Ok(()) => unreachable!(),
    }
}

#[test]
fn privilege_matrix() {
    let t = TestDb::new();
    insert_rows(&t.db, 1..=3);
    let (_, writer) = login(&t, "matrix_writer", Role::Writer);
    let (_, reader) = login(&t, "matrix_reader", Role::Reader);
    let ops = [
        ("SELECT", "SELECT count(*) FROM hurricanes"),
        ("INSERT", "INSERT INTO hurricanes SELECT fid + 100, \"timestamp\", btid, name, lat, long, wind_kts, pressure, cat, basin, shape_length FROM hurricanes WHERE fid = 1"),
        ("UPDATE", "UPDATE hurricanes SET wind_kts = wind_kts + 1 WHERE fid = 1"),
        ("DELETE", "DELETE FROM hurricanes WHERE fid = 1"),
        ("TRUNCATE", "TRUNCATE hurricanes"),
        ("ALTER TABLE", "ALTER TABLE hurricanes ADD COLUMN note text"),
        ("DROP TABLE", "DROP TABLE hurricanes CASCADE"),
        ("CREATE TABLE", "CREATE TABLE public.scratch (x int)"),
    ];
    // (operation, owner, writer, reader): true = allowed.
    let expected = [
        ("SELECT", true, true, true),
        ("INSERT", true, true, false),
        ("UPDATE", true, true, false),
        ("DELETE", true, false, false),
        ("TRUNCATE", true, false, false),
        ("ALTER TABLE", true, false, false),
        ("DROP TABLE", true, false, false),
        ("CREATE TABLE", true, false, false),
    ];
    println!(
        "{:<13} {:<8} {:<8} {:<8}",
        "operation", "owner", "writer", "reader"
    );
    for ((op, sql), (op2, owner_ok, writer_ok, reader_ok)) in ops.iter().zip(expected) {
        assert_eq!(*op, op2);
        let mut cells = Vec::new();
        for (who, db, ok) in [
            ("owner", &t.db, owner_ok),
            ("writer", &writer, writer_ok),
            ("reader", &reader, reader_ok),
        ] {
            let result = attempt(db, sql);
            match (&result, ok) {
                (Ok(()), true) => cells.push("allowed"),
                (Err(Error::PermissionDenied { .. }), false) => cells.push("refused"),
                other => panic!("{op} as {who}: expected allowed={ok}, got {other:?}"),
            }
        }
        println!("{:<13} {:<8} {:<8} {:<8}", op, cells[0], cells[1], cells[2]);
    }
    // Nothing above was committed.
    let n: i64 =
        t.db.read(|c| Ok::<_, hurricane_db::Error>(hurricanes::table.count().get_result(c)?))
            .unwrap();
    assert_eq!(n, 3);
}

#[test]
fn wrong_password_is_refused() {
    let t = TestDb::new();
    let (name, _) = login(&t, "pw_check", Role::Reader);
    let err = Db::builder()
        .connect_timeout(std::time::Duration::from_secs(2))
        .connect(&t.login_url(&name, "Wrong-Secret-99"))
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Connection(_)), "{err:?}");
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(!text.contains("Wrong-Secret-99"), "{text}");
}

#[test]
fn the_group_roles_cannot_log_in_even_with_a_password() {
    let t = TestDb::new();
    let mut admin = t.connect();
    // With a valid password, only NOLOGIN can stop the login: the test shows that.
    diesel::sql_query(format!("ALTER ROLE hurricane_writer PASSWORD '{PASSWORD}'"))
        .execute(&mut admin)
        .unwrap();
    let err = Db::builder()
        .connect_timeout(std::time::Duration::from_secs(2))
        .connect(&t.login_url("hurricane_writer", PASSWORD))
        .unwrap_err();
    diesel::sql_query("ALTER ROLE hurricane_writer PASSWORD NULL")
        .execute(&mut admin)
        .unwrap();
    let text = err.to_string();
    assert!(
        text.contains("role \"hurricane_writer\" is not permitted to log in"),
        "{text}"
    );
}

#[test]
fn removing_a_role_outside_our_groups_is_refused_and_it_survives() {
    let t = TestDb::new();
    let outsider = unique_name("outsider");
    let mut admin = t.connect();
    diesel::sql_query(format!("CREATE ROLE {outsider} LOGIN"))
        .execute(&mut admin)
        .unwrap();
    // A valid, unreserved name: the membership guard, not the name check, refuses it.
    roles::check_user_name(&outsider).unwrap();
    let err = roles::remove_user(&mut admin, &outsider).unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let still: i64 = diesel::select(diesel::dsl::sql::<BigInt>(&format!(
        "(SELECT count(*) FROM pg_roles WHERE rolname = '{outsider}')"
    )))
    .get_result(&mut admin)
    .unwrap();
    assert_eq!(still, 1, "the outsider role is untouched");
    diesel::sql_query(format!("DROP ROLE {outsider}"))
        .execute(&mut admin)
        .unwrap();
}

#[test]
fn sixteen_app_users_through_a_pool_of_four_never_cross() {
    let t = TestDb::with_builder(Db::builder().pool_size(4));
    insert_rows(&t.db, 1..=32);
    let before = all_edits(&t.db).len();
    std::thread::scope(|s| {
        for user in 0..16 {
            let db = &t.db;
            s.spawn(move || {
                let name = format!("analyst{user}");
                for i in 0..50 {
                    // Each user owns fids 2u+1 and 2u+2.
                    let fid = 2 * user + 1 + (i % 2);
                    set_wind(db, Some(&name), fid, 10 + i as i16);
                }
            });
        }
    });
    let edits = all_edits(&t.db);
    let updates: Vec<&Edit> = edits[before..].iter().filter(|e| e.action == "U").collect();
    assert_eq!(updates.len(), 16 * 50);
    for e in updates {
        let fid = e.row_id.unwrap();
        let owner = (fid - 1) / 2;
        assert_eq!(
            e.app_user.as_deref(),
            Some(format!("analyst{owner}").as_str()),
            "edit {}",
            e.id
        );
        assert_eq!(e.db_user, "postgres");
    }
}

#[test]
fn attribution_is_transaction_local_on_a_pooled_connection() {
    let t = TestDb::with_builder(Db::builder().pool_size(1));
    insert_rows(&t.db, 1..=1);
    set_wind(&t.db, Some("alice"), 1, 100);
    set_wind(&t.db, None, 1, 101);
    let edits = all_edits(&t.db);
    let last_two: Vec<Option<&str>> = edits[edits.len() - 2..]
        .iter()
        .map(|e| e.app_user.as_deref())
        .collect();
    assert_eq!(last_two, vec![Some("alice"), None]);
    assert_eq!(t.db.pool_state().connections, 1, "same single connection");
}

#[test]
fn writer_login_is_recorded_and_cannot_touch_edits() {
    let t = TestDb::new();
    insert_rows(&t.db, 1..=2);
    let (name, writer) = login(&t, "editor", Role::Writer);
    set_wind(&writer, Some("bob"), 1, 77);
    let last = all_edits(&t.db).pop().unwrap();
    assert_eq!(
        (
            last.action.as_str(),
            last.app_user.as_deref(),
            last.db_user.as_str()
        ),
        ("U", Some("bob"), name.as_str())
    );
    let changes = last.changes();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].field, "wind_kts");
    assert_eq!(
        (changes[0].old.to_string(), changes[0].new.to_string()),
        ("145".into(), "77".into())
    );

    for sql in [
        "UPDATE edits SET app_user = 'mallory'",
        "DELETE FROM edits",
        "INSERT INTO edits (table_name, row_id, action, db_user, new_row) VALUES ('hurricanes', 1, 'I', 'x', '{}')",
        "TRUNCATE edits",
    ] {
        assert!(matches!(attempt(&writer, sql), Err(Error::PermissionDenied { .. })), "{sql}");
    }
    // Writers and readers may read the trail.
    let (_, reader) = login(&t, "auditor", Role::Reader);
    assert!(!all_edits(&reader).is_empty());
}

#[test]
fn rolled_back_changes_and_unchanged_reloads_leave_no_edit() {
    let t = TestDb::new();
    load_path(&t.db, sample_path(), &LoadOptions::new()).unwrap();
    let after_load = all_edits(&t.db);
    assert_eq!(after_load.len(), 3931);
    assert!(after_load
        .iter()
        .all(|e| e.action == "I" && e.app_user.as_deref() == Some("load:storm_sample.csv")));

    let undone = t.db.transaction_as("carol", |c| {
        let changed = diesel::update(hurricanes::table.find(1))
            .set(hurricanes::wind_kts.eq(5))
            .execute(c)?;
        assert_eq!(changed, 1, "the update itself ran");
        Err::<(), _>(Error::InvalidInput("undo".into()))
    });
    match undone {
        Err(Error::InvalidInput(why)) => assert_eq!(why, "undo"),
        other => panic!("the closure's own error must come back: {other:?}"),
    }
    assert_eq!(all_edits(&t.db).len(), 3931, "rolled back: no edit");

    let again = load_path(&t.db, sample_path(), &LoadOptions::new()).unwrap();
    assert_eq!(again.unchanged, 3931);
    assert_eq!(all_edits(&t.db).len(), 3931, "unchanged reload: no edit");
}

#[derive(QueryableByName)]
struct Digest {
    #[diesel(sql_type = Text)]
    digest: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn digest(conn: &mut PgConnection) -> Digest {
    // The IHW columns only: migration 000007 adds HURDAT2 columns (NULL for these rows).
    diesel::sql_query(
        "SELECT md5(string_agg(concat_ws(',', fid, \"timestamp\", btid, name, lat, long, wind_kts, \
         pressure, cat, basin, shape_length), '|' ORDER BY fid)) AS digest, count(*) AS n FROM hurricanes",
    )
    .get_result(conn)
    .unwrap()
}

#[test]
fn later_migrations_keep_a_loaded_table_intact() {
    // Today's loader writes today's columns: load, then go back to migration 000001
    // (create_hurricanes only), a table loaded before any later migration existed.
    let t = TestDb::new();
    load_path(&t.db, sample_path(), &LoadOptions::new()).unwrap();
    loop {
        let v = t.db.revert_last_migration().unwrap();
        if v.contains("000002") {
            break;
        }
    }
    let before = digest(&mut t.db.conn().unwrap());
    assert_eq!(before.n, 3931);
    let applied = t.db.run_pending_migrations().unwrap();
    assert!(applied.len() >= 3, "{applied:?}");
    let after = digest(&mut t.db.conn().unwrap());
    assert_eq!((after.digest, after.n), (before.digest, before.n));
    let storms: i64 =
        t.db.read(|c| {
            Ok::<_, hurricane_db::Error>(hurricane_db::schema::storms::table.count().get_result(c)?)
        })
        .unwrap();
    assert_eq!(
        storms, 123,
        "the summary is built for the rows already there"
    );
}

#[test]
fn a_writer_login_loads_and_refreshes_with_the_cli() {
    let t = TestDb::new();
    let name = unique_name("data_prod_user");
    roles::add_user(&mut t.db.conn().unwrap(), &name, Role::Writer, PASSWORD).unwrap();
    // As a service would: the password in PGPASSWORD, not in the URL.
    let url = t
        .login_url(&name, PASSWORD)
        .replace(&format!(":{PASSWORD}@"), "@");
    let cli = |file: &Path| {
        Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
            .arg("load")
            .arg(file)
            .env("DATABASE_URL", &url)
            .env("PGPASSWORD", PASSWORD)
            .output()
            .unwrap()
    };
    let first = cli(&sample_path());
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        out.starts_with("loaded storm_sample.csv: 3931 rows, 3931 inserted"),
        "{out}"
    );

    // A newer file: one changed wind speed.
    let text = std::fs::read_to_string(sample_path()).unwrap();
    let (head, rest) = text.split_once('\n').unwrap();
    let (row1, others) = rest.split_once('\n').unwrap();
    let mut fields: Vec<&str> = row1.split(',').collect();
    fields[9] = "85";
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("storm_sample.csv");
    std::fs::write(&newer, format!("{head}\n{}\n{others}", fields.join(","))).unwrap();
    let second = cli(&newer);
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(
        out.starts_with(
            "loaded storm_sample.csv: 3931 rows, 0 inserted, 1 updated, 3930 unchanged"
        ),
        "{out}"
    );

    let edits = all_edits(&t.db);
    assert_eq!(edits.len(), 3932);
    assert!(
        edits.iter().all(|e| e.db_user == name),
        "every edit names the writer login"
    );
    // The storm summary followed the writer's load, though the writer owns nothing.
    let peak: i16 =
        t.db.read(|c| {
            use hurricane_db::schema::storms::dsl::*;
            Ok::<_, hurricane_db::Error>(storms.filter(btid.eq(1)).select(peak_wind_kts).first(c)?)
        })
        .unwrap();
    assert_eq!(peak, 85);

    // Both loads are recorded under the writer login, and its edits name them.
    let loads = t.db.loads().unwrap();
    assert_eq!(loads.len(), 2);
    assert!(loads
        .iter()
        .all(|l| l.db_user == name && l.app_user.as_deref() == Some("load:storm_sample.csv")));
    assert_eq!(loads[1].updated, Some(1));
    assert_eq!(
        edits.last().unwrap().app_user.as_deref(),
        Some("load:storm_sample.csv")
    );
    // The writer can neither change a recorded load nor finish one that is not its own.
    let writer = Db::builder()
        .pool_size(1)
        .connect(&t.login_url(&name, PASSWORD))
        .unwrap();
    for sql in [
        "UPDATE loads SET app_user = 'mallory'",
        "DELETE FROM loads",
        "INSERT INTO loads (file_name, format) VALUES ('x', 'ihw')",
        "SELECT loads_finish(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)",
    ] {
        assert!(attempt(&writer, sql).is_err(), "{sql}");
    }
}

#[test]
fn history_shows_two_app_users_and_the_fields_they_changed() {
    let t = TestDb::new();
    load_path(&t.db, sample_path(), &LoadOptions::new()).unwrap();
    set_wind(&t.db, Some("alice"), 1, 90);
    t.db.transaction_as("bob", |c| {
        Ok::<_, hurricane_db::Error>(
            diesel::update(hurricanes::table.find(1))
                .set((
                    hurricanes::pressure.eq(Some(990)),
                    hurricanes::name.eq("UNNAMED"),
                ))
                .execute(c)?,
        )
    })
    .unwrap();
    let history = t.db.history(1).unwrap();
    assert_eq!(
        history
            .iter()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        ["I", "U", "U"]
    );
    assert_eq!(history[1].app_user.as_deref(), Some("alice"));
    assert_eq!(history[2].app_user.as_deref(), Some("bob"));

    let out = Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .args(["history", "1"])
        .env("DATABASE_URL", &t.url)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0].contains("  I  load:storm_sample.csv (db: postgres)  inserted"),
        "{text}"
    );
    assert!(
        lines[1].ends_with("  U  alice (db: postgres)  wind_kts: 80 -> 90"),
        "{text}"
    );
    assert!(
        lines[2].ends_with(
            "  U  bob (db: postgres)  name: \"NOTNAMED\" -> \"UNNAMED\"; pressure: null -> 990"
        ),
        "{text}"
    );
    assert_eq!(
        lines[3],
        "history: fid 1, 3 edits, app users: alice, bob, load:storm_sample.csv"
    );
}

#[test]
fn user_commands_add_list_and_remove() {
    let t = TestDb::new();
    let name = unique_name("analyst");
    let run = |args: &[&str], password: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hurricane-db"));
        cmd.args(args)
            .env("DATABASE_URL", &t.url)
            .env_remove("HURRICANE_DB_PASSWORD");
        if let Some(p) = password {
            cmd.env("HURRICANE_DB_PASSWORD", p);
        }
        cmd.output().unwrap()
    };
    let no_password = run(&["user", "add", &name, "--role", "reader"], None);
    assert!(!no_password.status.success());
    assert!(String::from_utf8_lossy(&no_password.stderr).contains("set HURRICANE_DB_PASSWORD"));

    let added = run(&["user", "add", &name, "--role", "reader"], Some(PASSWORD));
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&added.stdout).trim(),
        format!("user add: {name} in hurricane_reader")
    );
    let again = run(&["user", "add", &name, "--role", "reader"], Some(PASSWORD));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let list = String::from_utf8_lossy(&run(&["user", "list"], None).stdout).to_string();
    assert!(
        list.lines().any(
            |l| l.split_whitespace().collect::<Vec<_>>() == [name.as_str(), "hurricane_reader"]
        ),
        "{list}"
    );

    // The new login works over TCP with its password, read-only.
    let reader = Db::connect(&t.login_url(&name, PASSWORD)).unwrap();
    assert!(matches!(
        attempt(&reader, "DELETE FROM hurricanes"),
        Err(Error::PermissionDenied { .. })
    ));
    drop(reader);

    let removed = run(&["user", "remove", &name], None);
    assert!(
        removed.status.success(),
        "{}",
        String::from_utf8_lossy(&removed.stderr)
    );
    let not_ours = run(&["user", "remove", "postgres"], None);
    assert!(
        !not_ours.status.success(),
        "never drops roles outside our groups"
    );

    // The password is stored as a SCRAM verifier, never in clear.
    let mut conn = t.db.conn().unwrap();
    let other = unique_name("scram");
    roles::add_user(&mut conn, &other, Role::Writer, PASSWORD).unwrap();
    #[derive(QueryableByName)]
    struct Secret {
        #[diesel(sql_type = Text)]
        rolpassword: String,
    }
    let stored: Secret = diesel::sql_query("SELECT rolpassword FROM pg_authid WHERE rolname = $1")
        .bind::<Text, _>(&other)
        .get_result(&mut *conn)
        .unwrap();
    assert!(
        stored.rolpassword.starts_with("SCRAM-SHA-256$4096:"),
        "{}",
        stored.rolpassword
    );
}

#[test]
fn catalog_invariants() {
    let t = TestDb::new();
    #[derive(QueryableByName)]
    struct Flags {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        writer_delete: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        writer_truncate: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        reader_insert: bool,
        #[diesel(sql_type = BigInt)]
        audit_triggers: i64,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        definer: bool,
    }
    let f: Flags = diesel::sql_query(
        "SELECT has_table_privilege('hurricane_writer', 'hurricanes', 'DELETE') AS writer_delete, \
                has_table_privilege('hurricane_writer', 'hurricanes', 'TRUNCATE') AS writer_truncate, \
                has_table_privilege('hurricane_reader', 'hurricanes', 'INSERT') AS reader_insert, \
                (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'hurricanes_audit_%') AS audit_triggers, \
                (SELECT prosecdef FROM pg_proc WHERE proname = 'hurricanes_audit') AS definer",
    )
    .get_result(&mut *t.db.conn().unwrap())
    .unwrap();
    assert!(!f.writer_delete && !f.writer_truncate && !f.reader_insert);
    assert_eq!(f.audit_triggers, 4);
    assert!(f.definer);

    // The reference tables (migration 000006): SELECT for both groups, nothing else,
    // nothing for PUBLIC.
    #[derive(QueryableByName)]
    struct Grants {
        #[diesel(sql_type = Text)]
        grants: String,
    }
    let g: Grants = diesel::sql_query(
        "SELECT string_agg(format('%s %s %s', r, t, p), '; ' ORDER BY r, t, p) AS grants \
         FROM (VALUES ('hurricane_writer'), ('hurricane_reader'), ('public')) AS roles(r) \
         CROSS JOIN (VALUES ('categories'), ('basins')) AS tables(t) \
         CROSS JOIN (VALUES ('SELECT'), ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE'), \
                            ('REFERENCES'), ('TRIGGER')) AS privs(p) \
         WHERE has_table_privilege(r, t, p)",
    )
    .get_result(&mut *t.db.conn().unwrap())
    .unwrap();
    assert_eq!(
        g.grants,
        "hurricane_reader basins SELECT; hurricane_reader categories SELECT; \
         hurricane_writer basins SELECT; hurricane_writer categories SELECT"
    );

    // loads (migration 000008): SELECT for both groups, written only through the
    // SECURITY DEFINER loads_begin / loads_finish, which only writers may execute.
    let loads: String = diesel::sql_query(
        "SELECT string_agg(format('%s %s', r, p), '; ' ORDER BY r, p) AS grants \
         FROM (VALUES ('hurricane_writer'), ('hurricane_reader'), ('public')) AS roles(r) \
         CROSS JOIN (VALUES ('SELECT'), ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE'), \
                            ('REFERENCES'), ('TRIGGER')) AS privs(p) \
         WHERE has_table_privilege(r, 'loads', p) \
         UNION ALL SELECT string_agg(format('%s EXECUTE %s', r, f), '; ' ORDER BY r, f) \
         FROM (VALUES ('hurricane_writer'), ('hurricane_reader'), ('public')) AS roles(r) \
         CROSS JOIN (SELECT p.oid, p.proname::text AS f FROM pg_proc p \
                     WHERE p.proname IN ('loads_begin', 'loads_finish') AND p.prosecdef) fs \
         WHERE has_function_privilege(r, fs.oid, 'EXECUTE')",
    )
    .load::<Grants>(&mut *t.db.conn().unwrap())
    .unwrap()
    .into_iter()
    .map(|g| g.grants)
    .collect::<Vec<_>>()
    .join(" | ");
    assert_eq!(
        loads,
        "hurricane_reader SELECT; hurricane_writer SELECT | \
         hurricane_writer EXECUTE loads_begin; hurricane_writer EXECUTE loads_finish"
    );
}

/// Issue 10 point 5: a value left at session level on a shared server connection (as
/// another client of a transaction-pooling proxy could leave it) is never recorded
/// as the app user of a later write transaction that names none.
#[test]
fn a_session_level_app_user_left_behind_is_never_recorded() {
    let t = TestDb::with_builder(Db::builder().pool_size(1));
    insert_rows(&t.db, 1..=1);
    // The mistake, on the pool's only connection: a session-level set_config.
    t.db.read_statement(|c| {
        diesel::sql_query("SELECT set_config('hurricane_db.app_user', 'mallory', false)")
            .execute(c)?;
        Ok(())
    })
    .unwrap();
    set_wind(&t.db, None, 1, 99);
    let last = all_edits(&t.db).pop().unwrap();
    assert_eq!(last.action, "U");
    assert_eq!(last.app_user, None, "{last:?}");
    set_wind(&t.db, Some("alice"), 1, 98);
    let last = all_edits(&t.db).pop().unwrap();
    assert_eq!(last.app_user.as_deref(), Some("alice"));
}
