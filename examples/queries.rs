//! Queries: the typed filter, and the same questions in plain Diesel.
//!
//! ```text
//! cargo run --example queries
//! ```

use diesel::prelude::*;
use hurricane_db::ingest::{load_path, LoadOptions};
use hurricane_db::queries::{self, Filter, Order};
use hurricane_db::schema::hurricanes::dsl::*;
use hurricane_db::Hurricane;

fn main() -> hurricane_db::Result<()> {
    // DATABASE_URL: check the schema, run no DDL; else the private cluster, migrated.
    let db = hurricane_db_testkit::private::db_checked_or_private(
        hurricane_db::Db::builder().override_from_env()?,
    )?;
    if db.read(queries::count)? == 0 {
        let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/data/storm_sample.csv");
        println!("{}", load_path(&db, sample, &LoadOptions::new())?);
    }

    // The typed filter: parts combine with AND, the lists within with OR.
    let filter = Filter {
        name: Some("kat*".into()), // case-insensitive, * and ? wildcards
        year_from: Some(2005),
        year_to: Some(2016),
        basins: vec!["North Atlantic".into(), "Eastern Pacific".into()],
        min_wind: Some(100),
        order: Order::WindDesc,
        limit: Some(5),
        ..Default::default()
    };
    let page = db.read(|conn| queries::search(conn, &filter))?;
    println!("strongest KAT* observations 2005-2016:");
    for h in &page.items {
        println!(
            "  {} {} {} kts {}",
            h.timestamp.format("%Y-%m-%d %H:%M"),
            h.name,
            h.wind_kts,
            h.cat
        );
    }
    println!("  next page token: {:?}", page.next_page);

    // The same kind of question in plain Diesel: and, or, ilike, between, order, limit.
    let rows: Vec<Hurricane> = db.read(|conn| {
        Ok::<_, hurricane_db::Error>(
            hurricanes
                .filter(name.ilike("wil%").and(wind_kts.between(130, 200)))
                .or_filter(cat.eq("H5").and(basin.eq("Eastern Pacific")))
                .order((wind_kts.desc(), timestamp.asc()))
                .limit(5)
                .select(Hurricane::as_select())
                .load(conn)?,
        )
    })?;
    println!("WIL% at 130-200 kts, or Eastern Pacific H5:");
    for h in &rows {
        println!(
            "  {} {} {} kts {} {}",
            h.timestamp.format("%Y-%m-%d %H:%M"),
            h.name,
            h.wind_kts,
            h.cat,
            h.basin
        );
    }

    // Storm-level questions use the `storms` summary the triggers keep current.
    let top = db.read(|conn| queries::strongest_storms(conn, 3))?;
    for s in &top {
        println!(
            "  storm {} {} {} peak {} kts",
            s.btid, s.name, s.year, s.peak_wind_kts
        );
    }
    println!(
        "queries: {} filtered, {} plain Diesel, {} storms",
        page.items.len(),
        rows.len(),
        top.len()
    );
    Ok(())
}
