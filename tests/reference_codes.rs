//! Issue 17 point 3: `Category` and `Basin` are the reference tables `categories` and
//! `basins` as Rust types. On a migrated database, every code of the tables is a
//! variant and every variant a code, with the same meaning, Saffir-Simpson category,
//! wind range, HURDAT2 status and basin code; and the codes go through Diesel both
//! ways.

use diesel::prelude::*;
use diesel::sql_types::Text;
use hurricane_db::schema::{basins, hurricanes};
use hurricane_db::{queries, Basin, Category, Error};
use hurricane_db_testkit::{sample_observation, TestDb};

#[test]
fn category_is_the_categories_table_code_for_code() {
    let t = TestDb::new();
    let rows = t.db.read(queries::categories).unwrap();
    let mut table: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
    let mut ours: Vec<&str> = Category::codes().collect();
    table.sort();
    ours.sort();
    println!(
        "categories: table {} codes [{}], Category {} variants [{}]",
        table.len(),
        table.join(" "),
        ours.len(),
        ours.join(" ")
    );
    assert_eq!(table, ours, "codes");
    for row in &rows {
        let c = Category::from_code(&row.code).unwrap();
        assert_eq!(c.meaning(), row.meaning, "{c}: meaning");
        assert_eq!(
            c.saffir_simpson().map(i16::from),
            row.saffir_simpson,
            "{c}: Saffir-Simpson"
        );
        assert_eq!(c.wind_min_kts(), row.wind_min_kts, "{c}: lowest wind");
        assert_eq!(c.wind_max_kts(), row.wind_max_kts, "{c}: highest wind");
        assert_eq!(
            Some(c.hurdat2_status()),
            row.hurdat2_status.as_deref(),
            "{c}: HURDAT2 status"
        );
    }
    // Every code decodes as a Category straight from the column (FromSql); a code the
    // enum lacked would fail to decode.
    let typed: Vec<Category> =
        t.db.read(|c| {
            Ok::<_, Error>(
                diesel::sql_query("SELECT code FROM categories ORDER BY code")
                    .load::<CodeRow>(c)?
                    .into_iter()
                    .map(|r| r.code)
                    .collect(),
            )
        })
        .unwrap();
    assert_eq!(typed.len(), Category::ALL.len());
    println!(
        "categories: ranks {:?}",
        Category::SCALE.map(|c| (c.code(), c.scale_rank()))
    );
    // The database's own category-to-status function (migration 000010) agrees too.
    for c in Category::ALL {
        let status: Option<String> =
            t.db.read(|conn| {
                Ok::<_, Error>(
                    diesel::sql_query("SELECT status_of_category($1) AS code")
                        .bind::<Text, _>(c)
                        .get_result::<StatusRow>(conn)?
                        .code,
                )
            })
            .unwrap();
        assert_eq!(
            status.as_deref(),
            Some(c.hurdat2_status()),
            "{c}: status_of_category"
        );
    }
}

#[derive(QueryableByName)]
struct StatusRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    code: Option<String>,
}

#[derive(QueryableByName)]
struct CodeRow {
    #[diesel(sql_type = Text)]
    code: Category,
}

#[test]
fn basin_is_the_basins_table_name_for_name() {
    let t = TestDb::new();
    let rows = t.db.read(queries::basins).unwrap();
    let mut table: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.name.as_str(), r.code.as_str()))
        .collect();
    let mut ours: Vec<(&str, &str)> = Basin::ALL.iter().map(|b| (b.name(), b.code())).collect();
    table.sort();
    ours.sort();
    println!("basins: table {table:?}, Basin {ours:?}");
    assert_eq!(table, ours);
    let typed: Vec<Basin> =
        t.db.read(|c| Ok::<_, Error>(basins::table.select(basins::name).load::<Basin>(c)?))
            .unwrap();
    assert_eq!(typed.len(), Basin::ALL.len());
}

#[test]
fn the_enums_go_through_diesel_both_ways() {
    let t = TestDb::new();
    let mut row = sample_observation(1);
    row.cat = Category::SuperTyphoon.code().into();
    row.basin = Basin::EasternPacific.name().into();
    let stored = t.db.insert_observation("codes", &row).unwrap();
    assert_eq!(stored.category(), Some(Category::SuperTyphoon));
    assert_eq!(stored.basin(), Some(Basin::EasternPacific));
    // As bind parameters (ToSql) and as results (FromSql).
    let (cat, basin): (Category, Basin) =
        t.db.read(|c| {
            Ok::<_, Error>(
                hurricanes::table
                    .filter(hurricanes::cat.eq(Category::SuperTyphoon))
                    .filter(hurricanes::basin.eq_any([Basin::EasternPacific]))
                    .select((hurricanes::cat, hurricanes::basin))
                    .get_result::<(Category, Basin)>(c)?,
            )
        })
        .unwrap();
    assert_eq!(
        (cat, basin),
        (Category::SuperTyphoon, Basin::EasternPacific)
    );
    // A code the crate does not know fails to decode as the enum, and still reads as
    // a row (the column is text in `Hurricane`): a newer database stays readable.
    let err =
        t.db.read(|c| {
            Ok::<_, Error>(
                diesel::select(diesel::dsl::sql::<Text>("'Q9'")).get_result::<Category>(c)?,
            )
        })
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(t.db.observation(1).unwrap().cat, "ST");
}
