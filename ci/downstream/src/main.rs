//! The smallest service built on the lean library: connect, check the schema, read.
//! Run with DATABASE_URL set; it prints one line and exits 0 when the schema is current.

use diesel::prelude::*;
use hurricane_db::schema::hurricanes;
use hurricane_db::{Db, Error};

fn main() -> Result<(), Error> {
    let db = Db::builder().override_from_env()?.pool_size(2).connect(&std::env::var("DATABASE_URL").map_err(|_| Error::InvalidInput("DATABASE_URL".into()))?)?;
    db.check_schema()?;
    // A pooled connection is a Diesel connection: no `&mut *conn` needed.
    let mut conn = db.conn()?;
    let rows: i64 = hurricanes::table.count().get_result(&mut conn)?;
    let strongest = db.read(|conn| hurricane_db::queries::strongest_storms(conn, 1))?;
    println!(
        "downstream: {rows} observations, strongest {:?}, pool {:?}",
        strongest.first().map(|s| &s.name),
        db.pool_state()
    );
    Ok(())
}
