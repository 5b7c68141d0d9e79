//! Load: an IHW CSV file into the shared table, then print the one-line summary.
//!
//! ```text
//! cargo run --example load [-- path/to/storm_data.csv]
//! ```
//! Without an argument it loads the bundled sample. Loading the same file again
//! changes nothing and says so (all rows "unchanged").

use hurricane_db::ingest::{load_path, LoadOptions};
use hurricane_db::Error;

fn main() -> hurricane_db::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/storm_sample.csv").to_string()
    });
    // DATABASE_URL: check the schema, run no DDL; else the private cluster, migrated.
    let db = hurricane_db_testkit::private::db_checked_or_private(
        hurricane_db::Db::builder().override_from_env()?,
    )?;

    let options = LoadOptions::new().app_user("load-example");
    match load_path(&db, &path, &options) {
        Ok(summary) => {
            println!("{}", summary.phases());
            println!("{summary}");
            Ok(())
        }
        // A bad file: nothing was written; every listed error names file, line, column.
        Err(Error::Rejected(rejected)) => {
            eprintln!("{rejected}");
            Err(Error::Rejected(rejected))
        }
        Err(e) => Err(e),
    }
}
