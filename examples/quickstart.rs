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
use hurricane_db::{Db, HurricaneChanges, NewHurricane};

fn main() -> hurricane_db::Result<()> {
    // DATABASE_URL: check the schema, run no DDL; else the private cluster, migrated.
    let db = Db::from_env_checked_or_private()?;

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
    let created = db.insert_observation("quickstart", &andrew)?;
    println!(
        "created  {} {} at {} wind {} kts",
        created.fid, created.name, created.timestamp, created.wind_kts
    );

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

    // Delete (the owner may; a writer login would get Error::PermissionDenied).
    db.delete_observation("quickstart", 9_000_001)?;
    println!("deleted  9000001");

    // Any Diesel query runs inside a closure; `read` makes it a READ ONLY transaction.
    let n: i64 =
        db.read(|conn| Ok::<_, hurricane_db::Error>(hurricanes::table.count().get_result(conn)?))?;
    println!("{n} observations in the table");

    let edits = db.history(9_000_001)?;
    println!(
        "quickstart: created, read, updated and deleted fid 9000001; {} audit edits",
        edits.len()
    );
    Ok(())
}
