//! Audit: two application users change one row through the same pool; its history
//! names each of them, with the fields they changed.
//!
//! ```text
//! cargo run --example audit
//! ```

use bigdecimal::BigDecimal;
use chrono::{TimeZone, Utc};
use diesel::prelude::*;
use hurricane_db::schema::hurricanes;
use hurricane_db::{HurricaneChanges, NewHurricane};

fn main() -> hurricane_db::Result<()> {
    // DATABASE_URL: check the schema, run no DDL; else the private cluster, migrated.
    let db = hurricane_db_testkit::private::db_checked_or_private(
        hurricane_db::Db::builder().override_from_env()?,
    )?;

    // A new observation, entered by an ingest job.
    let row = NewHurricane {
        fid: 9_000_002,
        timestamp: Utc.with_ymd_and_hms(1992, 8, 24, 9, 0, 0).unwrap(),
        btid: 9002,
        name: "ANDREW".into(),
        lat: "25.5".parse::<BigDecimal>().unwrap(),
        long: "-80.3".parse::<BigDecimal>().unwrap(),
        wind_kts: 145,
        pressure: Some(922),
        cat: "H5".into(),
        basin: "North Atlantic".into(),
        shape_length: "1.140175".parse::<BigDecimal>().unwrap(),
    };
    db.transaction_as("ingest-bot", |conn| {
        // Start each run from the same row, so the example shows the same story.
        diesel::delete(hurricanes::table.find(row.fid)).execute(conn)?;
        diesel::insert_into(hurricanes::table)
            .values(&row)
            .execute(conn)?;
        Ok::<_, hurricane_db::Error>(())
    })?;

    // Alice corrects the wind speed; Bob marks the pressure as not measured.
    let alice = HurricaneChanges {
        wind_kts: Some(row.wind_kts + 5),
        ..Default::default()
    };
    db.transaction_as("alice", |conn| {
        Ok::<_, hurricane_db::Error>(
            diesel::update(hurricanes::table.find(row.fid))
                .set(&alice)
                .execute(conn)?,
        )
    })?;
    let bob = HurricaneChanges {
        pressure: Some(None),
        name: Some("ANDREW (REVIEWED)".into()),
        ..Default::default()
    };
    db.transaction_as("bob", |conn| {
        Ok::<_, hurricane_db::Error>(
            diesel::update(hurricanes::table.find(row.fid))
                .set(&bob)
                .execute(conn)?,
        )
    })?;

    let history = db.history(row.fid)?;
    for edit in &history {
        println!("{}", edit.describe());
    }
    println!("audit: fid {} has {} edits", row.fid, history.len());
    Ok(())
}
