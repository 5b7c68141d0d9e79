// @generated automatically by Diesel CLI.

diesel::table! {
    basins (name) {
        #[max_length = 16]
        name -> Varchar,
        #[max_length = 2]
        code -> Varchar,
        description -> Text,
    }
}

diesel::table! {
    categories (code) {
        #[max_length = 2]
        code -> Varchar,
        meaning -> Text,
        saffir_simpson -> Nullable<Int2>,
        wind_min_kts -> Nullable<Int2>,
        wind_max_kts -> Nullable<Int2>,
        #[max_length = 2]
        hurdat2_status -> Nullable<Varchar>,
    }
}

diesel::table! {
    edits (id) {
        id -> Int8,
        table_name -> Text,
        row_id -> Nullable<Int4>,
        #[max_length = 1]
        action -> Bpchar,
        app_user -> Nullable<Text>,
        db_user -> Text,
        old_row -> Nullable<Jsonb>,
        new_row -> Nullable<Jsonb>,
        query -> Nullable<Text>,
        recorded_at -> Timestamptz,
        load_id -> Nullable<Int8>,
    }
}

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
        #[max_length = 8]
        atcf_id -> Nullable<Varchar>,
        #[max_length = 1]
        record_id -> Nullable<Bpchar>,
        #[max_length = 2]
        status -> Nullable<Varchar>,
        r34_ne -> Nullable<Int2>,
        r34_se -> Nullable<Int2>,
        r34_sw -> Nullable<Int2>,
        r34_nw -> Nullable<Int2>,
        r50_ne -> Nullable<Int2>,
        r50_se -> Nullable<Int2>,
        r50_sw -> Nullable<Int2>,
        r50_nw -> Nullable<Int2>,
        r64_ne -> Nullable<Int2>,
        r64_se -> Nullable<Int2>,
        r64_sw -> Nullable<Int2>,
        r64_nw -> Nullable<Int2>,
        rmw -> Nullable<Int2>,
    }
}

diesel::table! {
    loads (id) {
        id -> Int8,
        file_name -> Text,
        format -> Text,
        size_bytes -> Nullable<Int8>,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        db_user -> Text,
        app_user -> Nullable<Text>,
        txid -> Int8,
        rows_in_file -> Nullable<Int8>,
        inserted -> Nullable<Int8>,
        updated -> Nullable<Int8>,
        unchanged -> Nullable<Int8>,
        rejected -> Nullable<Int8>,
        not_in_file -> Nullable<Int8>,
        storms_in_file -> Nullable<Int8>,
        storms_added -> Nullable<Int8>,
        storms_revised -> Nullable<Int8>,
        storms_unchanged -> Nullable<Int8>,
        storms_not_in_file -> Nullable<Int8>,
        edits_after -> Nullable<Int8>,
        edits_upto -> Nullable<Int8>,
    }
}

diesel::table! {
    storms (btid) {
        btid -> Int2,
        name -> Varchar,
        #[max_length = 16]
        basin -> Varchar,
        year -> Int4,
        first_time -> Timestamptz,
        last_time -> Timestamptz,
        observations -> Int4,
        peak_wind_kts -> Int2,
        min_pressure -> Nullable<Int2>,
        #[max_length = 2]
        peak_cat -> Varchar,
        #[max_length = 8]
        atcf_id -> Nullable<Varchar>,
    }
}

diesel::joinable!(hurricanes -> basins (basin));
diesel::joinable!(hurricanes -> categories (cat));
diesel::joinable!(storms -> basins (basin));
diesel::joinable!(storms -> categories (peak_cat));

diesel::allow_tables_to_appear_in_same_query!(basins, categories, edits, hurricanes, loads, storms,);
