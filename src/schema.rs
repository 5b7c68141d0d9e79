// @generated automatically by Diesel CLI.

diesel::table! {
    hurricanes (fid) {
        fid -> Int4,
        timestamp -> Timestamptz,
        btid -> Int2,
        name -> Varchar,
        lat -> Numeric,
        long -> Numeric,
        wind_kts -> Int2,
        pressure -> Nullable<Int2>,
        #[max_length = 2]
        cat -> Varchar,
        #[max_length = 16]
        basin -> Varchar,
        shape_length -> Numeric,
    }
}
