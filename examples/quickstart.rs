//! Quickstart: connect, then create, read, update and delete one observation.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//! Uses DATABASE_URL (environment or .env), else the private PostgreSQL in ./.hurricane-db.

use bigdecimal::BigDecimal;
use chrono::{TimeZone, Utc};
use diesel::prelude::*;
use hurricane_db::schema::hurricanes;
use hurricane_db::{Error, HurricaneChanges, NewHurricane};

fn main() -> hurricane_db::Result<()> {
    // DATABASE_URL: check the schema, run no DDL; else the private cluster, migrated.
    let db = hurricane_db_testkit::private::db_checked_or_private(
        hurricane_db::Db::builder().override_from_env()?,
    )?;

    // Create: one observation of Hurricane Andrew (numerics are exact BigDecimals).
    let andrew = NewHurricane {
        fid: 9_000_001,
        timestamp: Utc.with_ymd_and_hms(1992, 8, 24, 9, 0, 0).unwrap(),
        btid: 9001,
        name: "ANDREW".into(),
        lat: "25.5".parse::<BigDecimal>().unwrap(),
        long: "-80.3".parse::<BigDecimal>().unwrap(),
        wind_kts: 145,
        pressure: Some(922),
        cat: "H5".into(),
        basin: "North Atlantic".into(),
        shape_length: "1.140175".parse::<BigDecimal>().unwrap(),
    };
    // Every write names the person behind it; the audit trail records the name.
    // A least-privilege login meets its limits here: a reader may not create, and a
    // writer may create and update but never delete.
    match db.insert_observation("quickstart", &andrew) {
        Ok(created) => println!(
            "created  {} {} at {} wind {} kts",
            created.fid, created.name, created.timestamp, created.wind_kts
        ),
        Err(Error::UniqueViolation { .. }) => println!("created  9000001 by an earlier run"),
        Err(Error::PermissionDenied { .. }) => {
            let n = db.read_statement(hurricane_db::queries::count)?;
            println!("create   refused: this login may only read");
            println!("quickstart: read-only login, {n} observations in the table");
            return Ok(());
        }
        Err(e) => return Err(e),
    }

    // Read: one round trip on a pooled connection.
    let read = db.observation(9_000_001)?;
    println!(
        "read     {} lat {} long {} length {}",
        read.fid, read.lat, read.long, read.shape_length
    );

    // Update: only the fields set in the changeset change.
    let changes = HurricaneChanges {
        wind_kts: Some(150),
        pressure: Some(None), // not measured after all
        ..Default::default()
    };
    let updated = db.update_observation("quickstart", 9_000_001, &changes)?;
    println!(
        "updated  {} wind {} kts, pressure {:?}",
        updated.fid, updated.wind_kts, updated.pressure
    );

    // Delete: the owner may; a writer login gets Error::PermissionDenied.
    let deleted = match db.delete_observation("quickstart", 9_000_001) {
        Ok(()) => {
            println!("deleted  9000001");
            "deleted"
        }
        Err(Error::PermissionDenied { .. }) => {
            println!(
                "delete   refused: this login may not delete (writers never do); 9000001 stays"
            );
            "kept"
        }
        Err(e) => return Err(e),
    };

    // Any Diesel query runs inside a closure; `read` makes it a READ ONLY transaction.
    let n: i64 =
        db.read(|conn| Ok::<_, hurricane_db::Error>(hurricanes::table.count().get_result(conn)?))?;
    println!("{n} observations in the table");

    // The audit trail is for the data team and analysts; application logins may not
    // read it.
    let edits = match db.history(9_000_001) {
        Ok(edits) => format!("{} audit edits", edits.len()),
        Err(Error::PermissionDenied { .. }) => "audit trail not readable by this login".into(),
        Err(e) => return Err(e),
    };
    println!("quickstart: created, read, updated and {deleted} fid 9000001; {edits}");
    Ok(())
}
