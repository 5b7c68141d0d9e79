//! Issue 5 point 6: the JSON service (`hurricane_db_service::router`) over real HTTP.
//!
//! Each test gets its own database and its own server on a free port, on a tokio
//! runtime the test owns, and talks to it with a blocking HTTP client. No mocks.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use hurricane_db::ingest::{load_path, LoadOptions};
use hurricane_db::queries::{self, Filter, StormFilter};
use hurricane_db::roles::{self, Role};
use hurricane_db::schema::hurricanes;
use hurricane_db::{Basin, Category, Db};
use hurricane_db_testkit::{cluster, sample_observation, TestDb};
use serde_json::{json, Value};

mod common;
use common::Server;

impl Server {
    fn get(&self, path: &str) -> (u16, Value) {
        self.get_with(path, &[])
    }

    /// GET with query parameters, percent-encoded by the client.
    fn get_with(&self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let request = self
            .agent
            .get(self.url(path))
            .query_pairs(query.iter().copied());
        answer(request.call())
    }

    fn post(&self, user: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self.agent.post(self.url("/hurricanes"));
        if let Some(user) = user {
            request = request.header("X-App-User", user);
        }
        answer(request.send_json(body))
    }

    fn patch(&self, fid: i32, user: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self.agent.patch(self.url(&format!("/hurricanes/{fid}")));
        if let Some(user) = user {
            request = request.header("X-App-User", user);
        }
        answer(request.send_json(body))
    }

    fn delete(&self, fid: i32, user: &str) -> (u16, Value) {
        let request = self
            .agent
            .delete(self.url(&format!("/hurricanes/{fid}")))
            .header("X-App-User", user);
        answer(request.call())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET with query parameters and an `X-Read-Token` header.
    fn get_token(&self, path: &str, query: &[(&str, &str)], token: &str) -> (u16, Value) {
        let request = self
            .agent
            .get(self.url(path))
            .query_pairs(query.iter().copied())
            .header("X-Read-Token", token);
        answer(request.call())
    }

    /// PATCH as alice, with `token` as `X-Read-Token` if given: status, body and the
    /// answer's `X-Read-Token`.
    fn patch_token(
        &self,
        fid: i32,
        body: &Value,
        token: Option<&str>,
    ) -> (u16, Value, Option<String>) {
        let mut request = self
            .agent
            .patch(self.url(&format!("/hurricanes/{fid}")))
            .header("X-App-User", "alice");
        if let Some(token) = token {
            request = request.header("X-Read-Token", token);
        }
        answer_with_token(request.send_json(body))
    }
}

/// [`answer`] and the answer's `X-Read-Token` header, if any.
fn answer_with_token(
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> (u16, Value, Option<String>) {
    let response = response.expect("an HTTP answer");
    let token = response
        .headers()
        .get("x-read-token")
        .map(|v| v.to_str().unwrap().to_string());
    let (status, body) = answer(Ok(response));
    (status, body, token)
}

/// A write's token: 16 hex digits, as a number (to compare positions).
fn position(token: &str) -> u64 {
    assert!(
        token.len() == 16 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "token {token:?}: expected 16 hex digits"
    );
    u64::from_str_radix(token, 16).unwrap()
}

/// Status and JSON body (`Null` when empty); every body must be JSON.
fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    let mut response = response.expect("an HTTP answer");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    if text.is_empty() {
        return (status, Value::Null);
    }
    let content_type = response.headers().get("content-type").unwrap();
    assert_eq!(content_type, "application/json", "status {status}: {text}");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status} {text}: {e}"));
    (status, body)
}

/// The `error` message of an error answer.
fn error(body: &Value) -> &str {
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {body}"))
}

/// The 2005 HURDAT2 sample: rows with every HURDAT2 field (landfalls, `/export.hurdat2`).
fn with_hurdat2_sample() -> TestDb {
    let t = TestDb::new();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/hurdat2_sample_2005.txt");
    load_path(&t.db, sample, &LoadOptions::new()).unwrap();
    t
}

fn with_sample() -> TestDb {
    let t = TestDb::new();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/storm_sample.csv");
    load_path(&t.db, sample, &LoadOptions::new()).unwrap();
    t
}

fn count(db: &Db) -> i64 {
    queries::count(&mut db.conn().unwrap()).unwrap()
}

fn fids(items: &Value) -> Vec<i64> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["fid"].as_i64().unwrap())
        .collect()
}

#[test]
fn get_one_observation_as_stored() {
    let t = with_sample();
    let server = Server::start(t.db.clone());
    for fid in [1, 3000, 35486] {
        let (status, body) = server.get(&format!("/hurricanes/{fid}"));
        assert_eq!(status, 200, "{body}");
        let stored = t.db.observation(fid).unwrap();
        assert_eq!(body, serde_json::to_value(&stored).unwrap());
    }
    let (_, first) = server.get("/hurricanes/1");
    assert_eq!(first["name"], "NOTNAMED");
    assert_eq!(first["timestamp"], "1851-06-25T00:00:00Z");
    assert_eq!(first["lat"], "28.000000", "decimals as exact strings");
    assert_eq!(
        first["pressure"],
        Value::Null,
        "0 in the file: not measured"
    );
}

#[test]
fn missing_things_are_404_json() {
    let t = TestDb::new();
    let server = Server::start(t.db.clone());
    let (status, body) = server.get("/hurricanes/424242");
    assert_eq!(
        (status, error(&body)),
        (404, "not found: observation with FID 424242")
    );
    let (status, body) = server.get("/storms/77/track");
    assert_eq!(
        (status, error(&body)),
        (404, "not found: storm with BTID 77")
    );
    let (status, body) = server.get("/no/such/route");
    assert_eq!((status, error(&body)), (404, "no such route"));
    let (status, body) = server.get("/hurricanes/abc");
    assert_eq!(status, 400);
    assert_eq!(
        error(&body),
        "fid \"abc\": expected a whole number from -2147483648 to 2147483647"
    );
}

#[test]
fn search_with_repeated_basins_ordered_by_wind() {
    let t = with_sample();
    let server = Server::start(t.db.clone());
    let both = [
        ("year_from", "2005"),
        ("year_to", "2005"),
        ("basin", "North Atlantic"),
        ("basin", "Eastern Pacific"),
        ("min_wind", "64"),
        ("order", "wind_desc"),
        ("limit", "10000"),
    ];
    let (status, body) = server.get_with("/hurricanes", &both);
    assert_eq!(status, 200, "{body}");
    let items = body["items"].as_array().unwrap();
    assert_eq!(body["next_page"], Value::Null);
    let basins: HashSet<&str> = items.iter().map(|h| h["basin"].as_str().unwrap()).collect();
    assert_eq!(basins, HashSet::from(["North Atlantic", "Eastern Pacific"]));
    let winds: Vec<i64> = items
        .iter()
        .map(|h| h["wind_kts"].as_i64().unwrap())
        .collect();
    assert!(
        winds.windows(2).all(|w| w[0] >= w[1]),
        "wind_desc: {winds:?}"
    );
    assert!(winds.iter().all(|&w| w >= 64));
    assert!(items
        .iter()
        .all(|h| h["timestamp"].as_str().unwrap().starts_with("2005-")));

    // Any of the basins: exactly the two single-basin answers together.
    let one = |basin| {
        let mut query = both.to_vec();
        query.retain(|(k, _)| *k != "basin");
        query.push(("basin", basin));
        let (status, body) = server.get_with("/hurricanes", &query);
        assert_eq!(status, 200, "{body}");
        body["items"].as_array().unwrap().len()
    };
    let (atlantic, pacific) = (one("North Atlantic"), one("Eastern Pacific"));
    assert!(atlantic > 0 && pacific > 0);
    assert_eq!(items.len(), atlantic + pacific);

    // The same page as the library's own search, and a limit is honoured.
    let (_, top) = server.get_with("/hurricanes", &[("order", "wind_desc"), ("limit", "5")]);
    let direct = queries::search(
        &mut t.db.conn().unwrap(),
        &Filter {
            order: queries::Order::WindDesc,
            limit: Some(5),
            ..Filter::default()
        },
    )
    .unwrap();
    assert_eq!(top, serde_json::to_value(&direct).unwrap());
    assert_eq!(top["items"].as_array().unwrap().len(), 5);
    assert!(top["next_page"].is_string());
}

#[test]
fn next_page_covers_every_result_once() {
    let t = with_sample();
    let server = Server::start(t.db.clone());
    let since = Utc.with_ymd_and_hms(2014, 1, 1, 0, 0, 0).unwrap();
    for order in ["time_asc", "wind_desc", "pressure_asc"] {
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut query = vec![("year_from", "2014"), ("order", order), ("limit", "100")];
            if let Some(token) = &token {
                query.push(("page_token", token));
            }
            let (status, body) = server.get_with("/hurricanes", &query);
            assert_eq!(status, 200, "{body}");
            seen.extend(fids(&body["items"]));
            pages += 1;
            match body["next_page"].as_str() {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        let expected: i64 =
            t.db.read(|c| {
                Ok::<_, hurricane_db::Error>(
                    hurricanes::table
                        .filter(hurricanes::timestamp.ge(since))
                        .count()
                        .get_result(c)?,
                )
            })
            .unwrap();
        let unique: HashSet<i64> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "{order}: no duplicates");
        assert_eq!(seen.len() as i64, expected, "{order}: every row");
        assert!(pages > 20, "{order}: {pages} pages");
    }
}

#[test]
fn an_injection_attempt_is_only_a_name() {
    let t = with_sample();
    let server = Server::start(t.db.clone());
    let before = count(&t.db);
    let (status, body) = server.get_with(
        "/hurricanes",
        &[("name", "O'Brien'; DROP TABLE hurricanes; --")],
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"items": [], "next_page": null}));
    assert_eq!(count(&t.db), before, "the table is still there, untouched");
}

#[test]
fn unreadable_requests_are_400_and_refused_values_422() {
    let t = with_sample();
    let server = Server::start(t.db.clone());
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("min_wind", "abc")],
            "min_wind \"abc\": expected a whole number from -32768 to 32767",
        ),
        (&[("colour", "red")], "unknown parameter \"colour\""),
        (
            &[("order", "sideways")],
            "order \"sideways\": expected time_asc, time_desc, wind_asc, wind_desc, pressure_asc or pressure_desc",
        ),
        (&[("limit", "5"), ("limit", "6")], "limit: expected at most once"),
        (
            &[("time_from", "yesterday")],
            "time_from \"yesterday\": expected a date such as 2005-08-25 or an RFC 3339 time such as 2005-08-29T11:10:00Z",
        ),
    ];
    for (query, message) in cases {
        let (status, body) = server.get_with("/hurricanes", query);
        assert_eq!((status, error(&body)), (400, *message), "{query:?}");
    }
    let (status, body) = server.get_with("/storms/near", &[("lat", "25.77"), ("lon", "-80.19")]);
    assert_eq!((status, error(&body)), (400, "km: required"));

    // Read fine, refused by the library.
    let (status, body) = server.get_with("/hurricanes", &[("limit", "0")]);
    assert_eq!(
        (status, error(&body)),
        (422, "invalid input: limit \"0\": expected 1 to 10000")
    );
    let (status, body) =
        server.get_with("/hurricanes", &[("year_from", "2010"), ("year_to", "2000")]);
    assert_eq!(status, 422, "{body}");

    // Bodies: not JSON is 400; JSON of the wrong shape is 422.
    let not_json = server
        .agent
        .post(server.url("/hurricanes"))
        .header("X-App-User", "alice")
        .content_type("application/json")
        .send("{\"fid\": 1,");
    let (status, body) = answer(not_json);
    assert_eq!(status, 400, "{body}");
    let (status, body) = server.patch(1, Some("alice"), &json!({"wind_kts": "fast"}));
    assert_eq!(status, 422, "{body}");
    assert!(error(&body).contains("wind_kts"), "{body}");
}

#[test]
fn storms_list_matches_the_library() {
    let t = with_sample();
    let server = Server::start(t.db.clone());
    let (status, body) = server.get_with(
        "/storms",
        &[
            ("year_from", "2005"),
            ("year_to", "2005"),
            ("basin", "North Atlantic"),
            ("min_wind", "100"),
        ],
    );
    assert_eq!(status, 200, "{body}");
    let direct = queries::storms(
        &mut t.db.conn().unwrap(),
        &StormFilter {
            year_from: Some(2005),
            year_to: Some(2005),
            basins: vec!["North Atlantic".into()],
            min_wind: Some(100),
            ..StormFilter::default()
        },
    )
    .unwrap();
    assert!(!direct.is_empty());
    assert_eq!(body, serde_json::to_value(&direct).unwrap());
    let names: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"KATRINA"), "{names:?}");
}

#[test]
fn a_track_is_in_time_order() {
    let t = with_sample();
    let server = Server::start(t.db.clone());
    let katrina =
        t.db.read(|c| {
            Ok::<_, hurricane_db::Error>(
                hurricanes::table
                    .filter(hurricanes::name.eq("KATRINA"))
                    .filter(hurricanes::basin.eq("North Atlantic"))
                    .select(hurricanes::btid)
                    .first::<i16>(c)?,
            )
        })
        .unwrap();
    let (status, body) = server.get(&format!("/storms/{katrina}/track"));
    assert_eq!(status, 200, "{body}");
    let track = body.as_array().unwrap();
    assert_eq!(
        body,
        serde_json::to_value(t.db.track(katrina).unwrap()).unwrap()
    );
    assert!(track.len() > 10);
    assert!(track.iter().all(|h| h["btid"] == katrina));
    let times: Vec<DateTime<Utc>> = track
        .iter()
        .map(|h| h["timestamp"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[test]
fn storms_near_miami() {
    let t = with_sample();
    let server = Server::start(t.db.clone());
    let (status, body) = server.get_with(
        "/storms/near",
        &[("lat", "25.77"), ("lon", "-80.19"), ("km", "100")],
    );
    assert_eq!(status, 200, "{body}");
    let storms = body.as_array().unwrap();
    assert!(!storms.is_empty());
    let km: Vec<f64> = storms
        .iter()
        .map(|s| s["closest_km"].as_f64().unwrap())
        .collect();
    assert!(km.iter().all(|&d| d <= 100.0), "{km:?}");
    assert!(km.windows(2).all(|w| w[0] <= w[1]), "closest first: {km:?}");
    let (status, body) = server.get_with(
        "/storms/near",
        &[("lat", "95"), ("lon", "-80.19"), ("km", "100")],
    );
    assert_eq!(
        (status, error(&body)),
        (422, "invalid input: lat \"95\": expected -90 to 90")
    );
}

#[test]
fn post_creates_and_a_duplicate_fid_is_409() {
    let t = TestDb::new();
    let server = Server::start(t.db.clone());
    let new = serde_json::to_value(sample_observation(7)).unwrap();
    let (status, body) = server.post(Some("alice"), &new);
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body,
        serde_json::to_value(t.db.observation(7).unwrap()).unwrap()
    );
    assert_eq!(body["name"], "ANDREW");
    let (status, again) = server.get("/hurricanes/7");
    assert_eq!((status, &again), (200, &body));
    let history = t.db.history(7).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].action.as_str(), history[0].app_user.as_deref()),
        ("I", Some("alice"))
    );

    let (status, body) = server.post(Some("bob"), &new);
    assert_eq!(status, 409, "{body}");
    assert!(error(&body).contains("hurricanes_pkey"), "{body}");
    let (status, body) = server.post(None, &new);
    assert_eq!(status, 400, "{body}");
    assert_eq!(count(&t.db), 1);
}

#[test]
fn post_with_an_impossible_latitude_is_422() {
    let t = TestDb::new();
    let server = Server::start(t.db.clone());
    let mut new = serde_json::to_value(sample_observation(8)).unwrap();
    new["lat"] = json!("95");
    let (status, body) = server.post(Some("alice"), &new);
    assert_eq!(status, 422, "{body}");
    // Refused before it reaches the database (whose CHECK hurricanes_lat_range refuses
    // it for every other writer).
    assert!(
        error(&body).contains("lat \"95\": expected -90 to 90"),
        "{body}"
    );
    assert_eq!(count(&t.db), 0);
}

/// Issue 11 point 3: a cat or basin the reference tables do not list is the caller's
/// mistake (422), and the answer lists the valid values.
#[test]
fn an_unknown_cat_or_basin_is_422_with_the_valid_codes() {
    let t = TestDb::new();
    let server = Server::start(t.db.clone());
    let mut new = serde_json::to_value(sample_observation(8)).unwrap();
    new["cat"] = json!("Q9");
    let (status, body) = server.post(Some("alice"), &new);
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        error(&body),
        "cat \"Q9\": expected one of TD, TS, H1, H2, H3, H4, H5, ST, SD, SS, E, ET, PT, L, W, DB (the categories table)"
    );
    assert_eq!(count(&t.db), 0);
    new["cat"] = json!("H5");
    assert_eq!(server.post(Some("alice"), &new).0, 201);
    let (status, body) = server.patch(8, Some("alice"), &json!({"basin": "Atlantis"}));
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        error(&body),
        "basin \"Atlantis\": expected one of North Atlantic, Eastern Pacific (the basins table)"
    );
}

#[test]
fn patch_changes_wind_and_the_audit_trail_names_the_user() {
    let t = with_sample();
    let server = Server::start(t.db.clone());
    let before = t.db.observation(3000).unwrap();
    let (status, body) = server.patch(3000, Some("alice"), &json!({"wind_kts": 155}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["wind_kts"], 155);
    assert_eq!(body["name"], before.name.as_str(), "other fields untouched");
    assert_eq!(t.db.observation(3000).unwrap().wind_kts, 155);

    let history = t.db.history(3000).unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.app_user.as_deref()),
        ("U", Some("alice"))
    );
    let changed: Vec<String> = last.changes().into_iter().map(|c| c.field).collect();
    assert_eq!(changed, ["wind_kts"]);

    let (status, body) = server.patch(3000, Some("alice"), &json!({}));
    assert_eq!(status, 422, "{body}");
    let (status, body) = server.patch(424242, Some("alice"), &json!({"wind_kts": 1}));
    assert_eq!(status, 404, "{body}");
}

#[test]
fn a_write_without_x_app_user_is_400() {
    let t = with_sample();
    let server = Server::start(t.db.clone());
    let edits = t.db.history(3000).unwrap().len();
    let (status, body) = server.patch(3000, None, &json!({"wind_kts": 1}));
    assert_eq!(status, 400);
    assert_eq!(
        error(&body),
        "X-App-User header: expected the name of the person making the change"
    );
    let (status, _) = server.patch(3000, Some("  "), &json!({"wind_kts": 1}));
    assert_eq!(status, 400);
    assert_ne!(t.db.observation(3000).unwrap().wind_kts, 1);
    assert_eq!(t.db.history(3000).unwrap().len(), edits, "no edit recorded");
}

#[test]
fn delete_as_superuser_then_get_is_404() {
    let t = with_sample();
    let server = Server::start(t.db.clone());
    let (status, body) = server.delete(3000, "alice");
    assert_eq!((status, body), (204, Value::Null));
    let (status, _) = server.get("/hurricanes/3000");
    assert_eq!(status, 404);
    let (status, _) = server.delete(3000, "alice");
    assert_eq!(status, 404);
    let last = t.db.history(3000).unwrap().pop().unwrap();
    assert_eq!(
        (last.action.as_str(), last.app_user.as_deref()),
        ("D", Some("alice"))
    );
}

#[test]
fn a_writer_login_may_patch_but_not_delete() {
    let t = with_sample();
    // Roles are cluster-wide: the database's name makes this one unique.
    let user = format!("svc_writer_{}", t.name);
    let password = "pw";
    roles::add_user(&mut t.db.conn().unwrap(), &user, Role::Writer, password).unwrap();
    let url = format!(
        "postgresql://{user}:{password}@127.0.0.1:{}/{}",
        cluster().port(),
        t.name
    );
    let writer = Db::connect(&url).unwrap();
    let server = Server::start(writer.clone());

    let (status, body) = server.delete(3000, "alice");
    assert_eq!(status, 403, "{body}");
    assert!(error(&body).starts_with("permission denied"), "{body}");
    assert!(t.db.observation(3000).is_ok(), "still there");

    let (status, body) = server.patch(3000, Some("alice"), &json!({"wind_kts": 42}));
    assert_eq!(status, 200, "{body}");
    let last = t.db.history(3000).unwrap().pop().unwrap();
    assert_eq!(last.app_user.as_deref(), Some("alice"));
    assert_eq!(last.db_user, user, "the login is recorded too");
}

#[test]
fn no_free_connection_is_503() {
    let t = TestDb::with_builder(
        Db::builder()
            .pool_size(1)
            .checkout_timeout(Duration::from_secs(1)),
    );
    let server = Server::start(t.db.clone());
    let held = t.db.conn().unwrap();
    let started = Instant::now();
    let (status, body) = server.get("/hurricanes/1");
    assert_eq!(status, 503, "{body}");
    assert!(
        error(&body).starts_with("timed out waiting for a pooled connection"),
        "{body}"
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
    drop(held);
    let (status, _) = server.get("/hurricanes/1");
    assert_eq!(status, 404, "works again once the connection is back");
}

/// Issue 9 points 2 and 3: every bad value is a JSON 4xx, never a 500, and heavy
/// inputs are refused fast, concurrently, without holding a pooled connection.
#[test]
fn hostile_inputs_are_json_4xx_fast_and_leave_the_pool_free() {
    let t = TestDb::with_builder(Db::builder().pool_size(4));
    t.db.insert_observation("setup", &sample_observation(1))
        .unwrap();
    let server = Server::start(t.db.clone());

    // Values the server would refuse are refused with 422 and a message.
    let nul_name = server.get_with("/hurricanes", &[("name", "KAT\u{0}RINA")]);
    assert_eq!(nul_name.0, 422, "{nul_name:?}");
    for (body, field) in [
        (json!({"name": "KAT\u{0}RINA"}), "name"),
        (json!({"cat": "H55"}), "cat"),
        (json!({"basin": "North Atlantic Ocean"}), "basin"),
        (json!({"lat": "1e131000"}), "lat"),
        (json!({"lat": "25.1234567"}), "lat"),
    ] {
        let (status, answer) = server.patch(1, Some("mallory"), &body);
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(field),
            "{answer}"
        );
    }
    let (status, answer) = server.get_with("/hurricanes", &[("year_to", "2147483647")]);
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("2147483647"),
        "{answer}"
    );

    // axum's own rejections are JSON too.
    for path in ["/hurricanes/%FF", "/storms/%C3%28/track"] {
        let (status, answer) = server.get(path);
        assert_eq!(status, 400, "{path}: {answer}");
        assert!(answer["error"].is_string(), "{path}: {answer}");
    }

    // Heavy inputs, all at once: each answered well under a second. A body over the
    // 64 KiB limit is refused with a JSON 413 that the client reads (a connection
    // closed under it, status 0 here, would fail).
    let digits = format!("1{}", "0".repeat(60_000));
    let million = format!("1{}", "0".repeat(1_000_000));
    let long_pattern = "A*".repeat(30_000);
    let patch_raw = |body: &Value| -> (u16, Value) {
        let request = server
            .agent
            .patch(server.url("/hurricanes/1"))
            .header("X-App-User", "mallory");
        match request.send_json(body) {
            Ok(r) => self::answer(Ok(r)),
            Err(ureq::Error::Io(_)) => (0, json!({"error": "connection closed by the server"})),
            Err(e) => panic!("{e}"),
        }
    };
    type Sender<'a> = Box<dyn Fn() -> (u16, Value) + Sync + 'a>;
    let heavy: Vec<(&str, Sender<'_>)> = vec![
        (
            "PATCH lat of 60,001 digits",
            Box::new(|| server.patch(1, Some("mallory"), &json!({ "lat": digits }))),
        ),
        (
            "PATCH lat of 1,000,001 digits (1 MB body)",
            Box::new(|| patch_raw(&json!({ "lat": million }))),
        ),
        (
            "60 kB name pattern",
            Box::new(|| server.get_with("/hurricanes", &[("name", long_pattern.as_str())])),
        ),
        (
            "600 kB name in a PATCH body",
            Box::new(|| patch_raw(&json!({ "name": "X".repeat(600_000) }))),
        ),
    ];
    std::thread::scope(|s| {
        let handles: Vec<_> = heavy
            .iter()
            .flat_map(|(what, send)| {
                (0..3).map(move |_| {
                    s.spawn(move || {
                        let started = Instant::now();
                        let (status, answer) = send();
                        (*what, status, answer, started.elapsed())
                    })
                })
            })
            .collect();
        for h in handles {
            let (what, status, answer, took) = h.join().unwrap();
            println!("{what}: {status} in {:.1} ms", took.as_secs_f64() * 1e3);
            assert!((400..500).contains(&status), "{what}: {status} {answer}");
            assert!(answer["error"].is_string(), "{what}: {answer}");
            assert!(took < Duration::from_secs(1), "{what}: took {took:?}");
        }
    });
    // Nothing is left checked out or in a transaction.
    let state = t.db.pool_state();
    assert_eq!(state.connections, state.idle, "{state:?}");
    let mut observer = t.connect();
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let busy: N = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
         AND state LIKE 'idle in transaction%'",
    )
    .get_result(&mut observer)
    .unwrap();
    assert_eq!(busy.n, 0);
}

/// Issue 10 point 3: every write answers with `X-Read-Token`; every read takes it.
/// (No standbys here: the reads with a token run on the primary; the routing itself is
/// `service_reads_its_own_writes_through_standbys`.)
#[test]
fn writes_answer_with_a_read_token_and_reads_take_it() {
    let t = TestDb::new();
    t.db.insert_observation("setup", &sample_observation(1))
        .unwrap();
    let server = Server::start(t.db.clone());

    let (status, body, token) = server.patch_token(1, &json!({"wind_kts": 77}), None);
    assert_eq!(status, 200, "{body}");
    let token = token.expect("a PATCH answers with X-Read-Token");
    let first = position(&token);
    let (status, body) = server.get_token("/hurricanes/1", &[], &token);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["wind_kts"], 77);

    // Every read route takes it.
    for (path, query) in [
        ("/hurricanes", &[("btid", "1")][..]),
        ("/storms", &[][..]),
        (
            "/storms/near",
            &[("lat", "25.5"), ("lon", "-80.3"), ("km", "10")][..],
        ),
        ("/storms/1/track", &[][..]),
    ] {
        let (status, body) = server.get_token(path, query, &token);
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.to_string().contains("wind_kts\":77"), "{path}: {body}");
    }

    // A malformed token is 400 JSON, on reads and writes, and the write is not made.
    let expected = "X-Read-Token: expected the token from a write's response";
    for bad in ["nope", "", "123", "0123456789abcdef0", "+123456789abcdef"] {
        let (status, body) = server.get_token("/hurricanes/1", &[], bad);
        assert_eq!(status, 400, "{bad:?}: {body}");
        assert_eq!(error(&body), expected, "{bad:?}");
        let (status, body) = server.get_token("/hurricanes", &[("btid", "1")], bad);
        assert_eq!((status, error(&body)), (400, expected), "{bad:?}");
    }
    let edits = t.db.history(1).unwrap().len();
    let (status, body, answered) = server.patch_token(1, &json!({"wind_kts": 5}), Some("nope"));
    assert_eq!((status, error(&body), answered), (400, expected, None));
    assert_eq!(t.db.observation(1).unwrap().wind_kts, 77);
    assert_eq!(t.db.history(1).unwrap().len(), edits, "no edit recorded");
    let twice = server
        .agent
        .get(server.url("/hurricanes/1"))
        .header("X-Read-Token", &token)
        .header("X-Read-Token", &token)
        .call();
    let (status, body) = answer(twice);
    assert_eq!(
        (status, error(&body)),
        (400, "X-Read-Token: expected at most once")
    );
    // A failed write answers with no token.
    let (status, _, answered) = server.patch_token(424242, &json!({"wind_kts": 5}), None);
    assert_eq!((status, answered), (404, None));

    // A write sent with a token answers with the later position: one token to keep.
    // (Never earlier; not always later here: this test cluster commits asynchronously,
    // so the flushed position can stay put for a commit or two.)
    let (status, _, second) = server.patch_token(1, &json!({"wind_kts": 78}), Some(&token));
    assert_eq!(status, 200);
    let second = second.unwrap();
    assert!(position(&second) >= first, "{second} after {token}");
    let ahead = "7fffffffffffffff";
    let (status, _, kept) = server.patch_token(1, &json!({"wind_kts": 79}), Some(ahead));
    assert_eq!((status, kept.as_deref()), (200, Some(ahead)));

    // POST and DELETE answer with one too; a read with DELETE's token sees the delete.
    let post = server
        .agent
        .post(server.url("/hurricanes"))
        .header("X-App-User", "alice")
        .send_json(serde_json::to_value(sample_observation(2)).unwrap());
    let (status, body, created) = answer_with_token(post);
    assert_eq!(status, 201, "{body}");
    let created = created.expect("a POST answers with X-Read-Token");
    assert!(position(&created) >= position(&second));
    let (status, body) = server.get_token("/hurricanes/2", &[], &created);
    assert_eq!((status, body["name"].as_str()), (200, Some("ANDREW")));
    let delete = server
        .agent
        .delete(server.url("/hurricanes/2"))
        .header("X-App-User", "alice")
        .header("X-Read-Token", &created)
        .call();
    let (status, body, deleted) = answer_with_token(delete);
    assert_eq!((status, body), (204, Value::Null));
    let deleted = deleted.expect("a DELETE answers with X-Read-Token");
    assert!(position(&deleted) >= position(&created));
    let (status, _) = server.get_token("/hurricanes/2", &[], &deleted);
    assert_eq!(status, 404);
}

/// `/openapi.json` documents the header: a request parameter of every read and write,
/// a response header of every write.
#[test]
fn openapi_documents_the_read_token() {
    let t = TestDb::new();
    let server = Server::start(t.db.clone());
    let (status, doc) = server.get("/openapi.json");
    assert_eq!(status, 200);
    let operations = [
        ("/hurricanes/{fid}", "get", None),
        ("/hurricanes", "get", None),
        ("/storms", "get", None),
        ("/storms/near", "get", None),
        ("/storms/{btid}/track", "get", None),
        ("/landfalls", "get", None),
        ("/hurricanes", "post", Some("201")),
        ("/hurricanes/{fid}", "patch", Some("200")),
        ("/hurricanes/{fid}", "delete", Some("204")),
    ];
    for (path, method, answer) in operations {
        let operation = &doc["paths"][path][method];
        let params = operation["parameters"].as_array().unwrap();
        let param = params
            .iter()
            .find(|p| p["name"] == "X-Read-Token")
            .unwrap_or_else(|| panic!("{method} {path}: no X-Read-Token in {params:?}"));
        assert_eq!(param["in"], "header", "{method} {path}");
        assert_eq!(param["required"], false, "{method} {path}");
        assert_eq!(
            param["schema"]["pattern"], "^[0-9a-fA-F]{16}$",
            "{method} {path}"
        );
        if let Some(status) = answer {
            let header = &operation["responses"][status]["headers"]["X-Read-Token"];
            assert_eq!(
                header["schema"]["type"], "string",
                "{method} {path}: {header}"
            );
        }
    }
}

/// `/openapi.json` lists the values the category and basin parameters take (as an
/// `enum`, from the library's `Category` and `Basin`), so a client or a generated test
/// knows them; and the server takes every value it lists, in its case and in lower case.
#[test]
fn openapi_lists_the_codes_category_and_basin_parameters_take() {
    // HURDAT2 rows, so that every download (`/export.hurdat2` too) has what it needs.
    let t = with_hurdat2_sample();
    let server = Server::start(t.db.clone());
    let (_, doc) = server.get("/openapi.json");
    let categories: Vec<&str> = Category::codes().collect();
    let scale: Vec<&str> = Category::SCALE.iter().map(|c| c.code()).collect();
    let basins: Vec<&str> = Basin::names().chain(Basin::prefixes()).collect();
    assert_eq!(
        basins,
        ["North Atlantic", "Eastern Pacific", "AL", "EP", "CP"]
    );
    let (mut seen, mut statuses) = (vec![], std::collections::BTreeMap::new());
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(params) = item["get"]["parameters"].as_array() else {
            continue;
        };
        for p in params {
            let name = p["name"].as_str().unwrap();
            let want = match name {
                "cat" => &categories,
                "min_cat" => &scale,
                "basin" => &basins,
                _ => continue,
            };
            let schema = &p["schema"];
            let listed = match schema["type"].as_str() {
                Some("array") => &schema["items"]["enum"],
                _ => &schema["enum"],
            };
            let listed: Vec<&str> = listed
                .as_array()
                .unwrap_or_else(|| panic!("{path} {name}: no enum in {schema}"))
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(&listed, want, "{path} {name}");
            assert_ne!(p["required"], true, "{path} {name}");
            let url = server.url(&path.replace("{year}", "2005"));
            for value in &listed {
                for v in [value.to_string(), value.to_lowercase()] {
                    let status = match server.agent.get(&url).query(name, &v).call() {
                        Ok(r) => r.status().as_u16(),
                        Err(ureq::Error::StatusCode(code)) => code,
                        Err(e) => panic!("GET {path}?{name}={v}: {e}"),
                    };
                    // Taken: answered, not refused (a season with no storm of the
                    // basin is a 404, not a refused value).
                    assert!(
                        ![400, 422].contains(&status),
                        "GET {path}?{name}={v}: {status}"
                    );
                    *statuses.entry(status).or_insert(0) += 1;
                }
            }
            seen.push(format!("{path} {name}: {} values", listed.len()));
        }
    }
    println!("{}\nstatuses: {statuses:?}", seen.join("\n"));
    assert!(seen.len() >= 6, "{seen:?}");
}

/// `/openapi.json` gives `/storms/near` the ranges the library keeps, and the server
/// answers each documented bound and refuses just past it.
#[test]
fn openapi_gives_the_near_ranges_the_server_keeps() {
    let t = with_sample();
    let server = Server::start(t.db.clone());
    let (_, doc) = server.get("/openapi.json");
    let params = doc["paths"]["/storms/near"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let base = [("lat", "25"), ("lon", "-80"), ("km", "100")];
    for (name, low, high, low_key) in [
        ("lat", -90.0, 90.0, "minimum"),
        ("lon", -180.0, 180.0, "minimum"),
        ("km", 0.0, 2000.0, "exclusiveMinimum"),
    ] {
        let schema = &params.iter().find(|p| p["name"] == name).unwrap()["schema"];
        assert_eq!(schema[low_key].as_f64(), Some(low), "{name}: {schema}");
        assert_eq!(schema["maximum"].as_f64(), Some(high), "{name}: {schema}");
        let exclusive = low_key == "exclusiveMinimum";
        // The low bound itself is taken unless it is exclusive (km = 0 is refused).
        for (value, taken) in [
            (low, !exclusive),
            (low + 0.5, true),
            (high, true),
            (low - 0.5, false),
            (high + 0.5, false),
        ] {
            let value = value.to_string();
            let query: Vec<(&str, &str)> = base
                .iter()
                .map(|&(k, v)| {
                    if k == name {
                        (k, value.as_str())
                    } else {
                        (k, v)
                    }
                })
                .collect();
            let (status, body) = server.get_with("/storms/near", &query);
            println!("near {name}={value}: {status}");
            assert_eq!(status == 200, taken, "{name}={value}: {status} {body}");
            if !taken {
                assert_eq!(status, 422, "{name}={value}: {body}");
            }
        }
    }
}

/// Issue 10 point 3 over HTTP: a browser that sends back the token of its write sees
/// that write, also when reads go to standbys; without it, reads right after a write
/// sometimes show the old value.
#[test]
fn service_reads_its_own_writes_through_standbys() {
    let topo = hurricane_db_testkit::topology(2);
    let db = Db::builder()
        .pool_size(4)
        .read_urls(topo.read_urls())
        .connect(&topo.primary_url())
        .unwrap();
    assert_eq!(db.read_servers().len(), 2);
    db.insert_observation("setup", &sample_observation(1))
        .unwrap();
    topo.wait_replayed(Duration::from_secs(10)).unwrap();
    let server = Server::start(db.clone());

    let rounds = 200;
    let (mut with_token, mut without) = (0, 0);
    let mut token: Option<String> = None;
    for i in 0..rounds {
        let w = (i % 150) as i64;
        let (status, body, answered) =
            server.patch_token(1, &json!({ "wind_kts": w }), token.as_deref());
        assert_eq!(status, 200, "{body}");
        token = Some(answered.expect("a PATCH answers with X-Read-Token"));
        let (status, body) = server.get_token("/hurricanes/1", &[], token.as_deref().unwrap());
        assert_eq!(status, 200, "{body}");
        if body["wind_kts"] != w {
            with_token += 1;
        }
        // Another write, then a read without the token.
        let w2 = ((i + 7) % 150) as i64;
        let (status, body) = server.patch(1, Some("alice"), &json!({ "wind_kts": w2 }));
        assert_eq!(status, 200, "{body}");
        let (status, body) = server.get("/hurricanes/1");
        assert_eq!(status, 200, "{body}");
        if body["wind_kts"] != w2 {
            without += 1;
        }
    }
    println!(
        "service read-your-writes through standbys: with token {with_token} misses of \
         {rounds}; without {without} of {rounds} ({:.0}%)",
        without as f64 * 100.0 / rounds as f64
    );
    assert_eq!(with_token, 0);

    // With replay paused on both standbys the difference is certain: a plain read is
    // served by a standby and shows the old value; one with the token waits at most
    // `ryw_wait` (200 ms) for a standby, then reads on the primary.
    let replay = |sql: &str| {
        for standby in &topo.standbys {
            let mut c = PgConnection::establish(&standby.url(&topo.database)).unwrap();
            diesel::sql_query(sql).execute(&mut c).unwrap();
        }
    };
    topo.wait_replayed(Duration::from_secs(10)).unwrap();
    replay("SELECT pg_wal_replay_pause()");
    let (_, before) = server.get("/hurricanes/1");
    let (status, _, paused_token) = server.patch_token(1, &json!({ "wind_kts": 151 }), None);
    assert_eq!(status, 200);
    let (status, stale) = server.get("/hurricanes/1");
    assert_eq!(status, 200);
    let started = Instant::now();
    let (status, fresh) = server.get_token("/hurricanes/1", &[], &paused_token.unwrap());
    let took = started.elapsed();
    replay("SELECT pg_wal_replay_resume()");
    println!(
        "replay paused: without token wind {} (a standby), with token wind {} in {:.0} ms \
         (the primary)",
        stale["wind_kts"],
        fresh["wind_kts"],
        took.as_secs_f64() * 1e3
    );
    assert_eq!(
        stale["wind_kts"], before["wind_kts"],
        "plain reads go to standbys"
    );
    assert_eq!((status, &fresh["wind_kts"]), (200, &json!(151)));
    assert!(took < Duration::from_secs(2), "{took:?}");
}

/// Issue 11 point 4 through HTTP: codes and names in any case, a plain date.
#[test]
fn filters_forgive_case_and_take_a_plain_date() {
    let t = with_sample();
    let server = Server::start(t.db.clone());
    let count = |query: &[(&str, &str)]| -> usize {
        let (status, body) = server.get_with("/hurricanes", query);
        assert_eq!(status, 200, "{body}");
        body["items"].as_array().unwrap().len()
    };
    let exact = count(&[
        ("basin", "North Atlantic"),
        ("cat", "H5"),
        ("limit", "10000"),
    ]);
    let typed = count(&[
        ("basin", "north atlantic"),
        ("cat", "h5"),
        ("limit", "10000"),
    ]);
    assert!(exact > 0);
    assert_eq!(typed, exact);
    let date = count(&[
        ("time_from", "2005-08-25"),
        ("time_to", "2005-08-31"),
        ("limit", "10000"),
    ]);
    let rfc = count(&[
        ("time_from", "2005-08-25T00:00:00Z"),
        ("time_to", "2005-08-31T00:00:00Z"),
        ("limit", "10000"),
    ]);
    assert!(date > 0);
    assert_eq!(date, rfc);
    let (status, body) = server.get_with("/hurricanes", &[("time_from", "2005-13-01")]);
    assert_eq!(status, 400, "{body}");
}

/// GET returning status, content type, Content-Security-Policy and the body as text.
fn get_text(server: &Server, path: &str) -> (u16, String, Option<String>, String) {
    let mut response = server.agent.get(server.url(path)).call().unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let (content_type, csp) = (
        header("content-type").unwrap_or_default(),
        header("content-security-policy"),
    );
    let status = response.status().as_u16();
    (
        status,
        content_type,
        csp,
        response.body_mut().read_to_string().unwrap(),
    )
}

#[test]
fn the_storm_browser_and_its_pictures_come_from_the_service() {
    let t = with_sample();
    let server = Server::start(t.db.clone());
    let katrina = queries::storms(
        &mut t.connect(),
        &StormFilter {
            name: Some("KATRINA".into()),
            year_from: Some(2005),
            year_to: Some(2005),
            ..Default::default()
        },
    )
    .unwrap();
    let btid = katrina[0].btid;

    // The page, its script and style: same-origin only, nothing inline.
    let (status, content_type, csp, html) = get_text(&server, "/");
    assert_eq!(
        (status, content_type.as_str()),
        (200, "text/html; charset=utf-8")
    );
    let csp = csp.expect("a Content-Security-Policy");
    assert!(
        csp.starts_with("default-src 'none'; script-src 'self';"),
        "{csp}"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    assert!(html.contains(r#"<script src="/assets/app.js" defer></script>"#));
    for (path, kind) in [
        ("/assets/app.js", "text/javascript; charset=utf-8"),
        ("/assets/app.css", "text/css; charset=utf-8"),
    ] {
        let (status, content_type, _, body) = get_text(&server, path);
        assert_eq!((status, content_type.as_str()), (200, kind), "{path}");
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path}"
        );
    }

    // The pictures are the library's SVG, served as images.
    let pictures = [
        (
            format!("/storms/{btid}/track.svg"),
            hurricane_db::plot::track_map(&mut t.connect(), &[btid]).unwrap(),
        ),
        (
            format!("/storms/{btid}/intensity.svg"),
            hurricane_db::plot::intensity_chart(&mut t.connect(), btid).unwrap(),
        ),
        (
            "/seasons/2005.svg?basin=north%20atlantic".to_string(),
            hurricane_db::plot::season_map(&mut t.connect(), 2005, Some("North Atlantic")).unwrap(),
        ),
    ];
    for (path, expected) in pictures {
        let (status, content_type, csp, body) = get_text(&server, &path);
        assert_eq!(
            (status, content_type.as_str()),
            (200, "image/svg+xml"),
            "{path}"
        );
        assert!(csp.is_some(), "{path}");
        assert!(body.contains("<svg"), "{path}");
        assert_eq!(body, expected, "{path}");
    }
    let (_, _, _, map) = get_text(&server, &format!("/storms/{btid}/track.svg"));
    assert!(map.contains("KATRINA 2005"), "the title names the storm");

    // Errors are JSON, as everywhere.
    let (status, body) = server.get("/storms/7777/track.svg");
    assert_eq!(
        (status, error(&body)),
        (404, "not found: storm with BTID 7777")
    );
    let (status, body) = server.get("/storms/7777/intensity.svg");
    assert_eq!(status, 404, "{body}");
    let (status, body) = server.get("/seasons/1700.svg");
    assert_eq!(status, 404, "{body}");
    let (status, body) = server.get("/seasons/20x5.svg");
    assert_eq!(status, 400, "{body}");
    assert!(error(&body).starts_with("year \"20x5\""), "{body}");
    let (status, body) = server.get("/seasons/2005.png");
    assert_eq!(status, 404, "{body}");
    let (status, body) = server.get("/seasons/2005.svg?colour=red");
    assert_eq!(
        (status, error(&body)),
        (400, "unknown parameter \"colour\"")
    );
    let (status, body) = server.get("/storms/abc/track.svg");
    assert_eq!(status, 400, "{body}");

    // The OpenAPI description lists the pictures as SVG.
    let (_, api) = server.get("/openapi.json");
    for path in [
        "/storms/{btid}/track.svg",
        "/storms/{btid}/intensity.svg",
        "/seasons/{year}.svg",
    ] {
        let ok = &api["paths"][path]["get"]["responses"]["200"]["content"];
        assert!(ok.get("image/svg+xml").is_some(), "{path}: {ok}");
    }
}

/// Issue 12 point 5: `GET /landfalls` answers what `queries::landfalls` returns, with
/// the same forgiving filters, and refuses an unknown category with 422.
#[test]
fn landfalls_match_the_library() {
    let t = with_hurdat2_sample();
    let server = Server::start(t.db.clone());
    let (status, body) = server.get_with(
        "/landfalls",
        &[
            ("year", "2005"),
            ("basin", "north atlantic"),
            ("min_cat", "h3"),
        ],
    );
    assert_eq!(status, 200, "{body}");
    let direct = queries::landfalls(
        &mut t.db.conn().unwrap(),
        &queries::LandfallFilter {
            year: Some(2005),
            basin: Some("North Atlantic".into()),
            min_cat: Some("H3".into()),
        },
    )
    .unwrap();
    assert_eq!(body, serde_json::to_value(&direct).unwrap());
    let storms: Vec<(&str, &str, usize)> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["atcf_id"].as_str().unwrap(),
                s["name"].as_str().unwrap(),
                s["landfalls"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        storms,
        [
            ("AL042005", "DENNIS", 3),
            ("AL052005", "EMILY", 2),
            ("AL122005", "KATRINA", 2),
            ("AL182005", "RITA", 1),
            ("AL252005", "WILMA", 3)
        ]
    );
    let katrina = &body[2]["landfalls"][0];
    assert_eq!(katrina["timestamp"], "2005-08-29T11:10:00Z");
    assert_eq!(
        (katrina["lat"].as_str(), katrina["long"].as_str()),
        (Some("29.300000"), Some("-89.600000"))
    );
    assert_eq!(
        (
            katrina["wind_kts"].as_i64(),
            katrina["pressure"].as_i64(),
            katrina["cat"].as_str()
        ),
        (Some(110), Some(920), Some("H3"))
    );

    let (status, body) = server.get_with("/landfalls", &[("min_cat", "E")]);
    assert_eq!(status, 422, "{body}");
    assert!(
        error(&body).contains("min_cat \"E\": expected one of TD, TS, H1"),
        "{body}"
    );
    let (status, body) = server.get_with("/landfalls", &[("year", "soon")]);
    assert_eq!(status, 400, "{body}");
    let (status, body) = server.get_with("/landfalls", &[("colour", "red")]);
    assert_eq!(status, 400, "{body}");
}

/// Issue 16 point 4: every numeric filter gets the range and scale checks writes have,
/// before any connection is taken: with the only pooled connection held elsewhere,
/// each is still refused at once (422), where it used to cost 0.54 s of server CPU
/// per filter (or a 500 for `1e-16384`).
#[test]
fn numeric_filters_are_refused_before_a_connection_is_taken() {
    let t = TestDb::with_builder(
        Db::builder()
            .pool_size(1)
            .checkout_timeout(Duration::from_secs(1)),
    );
    let server = Server::start(t.db.clone());
    let held = t.db.conn().unwrap();
    let all_four: &[(&str, &str)] = &[
        ("lat_min", "1e131000"),
        ("lat_max", "1e131000"),
        ("lon_min", "1e131000"),
        ("lon_max", "1e131000"),
    ];
    let cases: Vec<&[(&str, &str)]> = vec![
        &[("lat_min", "1e131000")],
        all_four,
        &[("lat_min", "1e-16384")],
        &[("lat_min", "-1e-16384")],
        &[("lat_min", "5e-16390")],
        &[("lon_min", "5e-16390")],
        &[("lon_max", "-1e-16384")],
        &[("lat_max", "90.0000001")],
        &[("lon_min", "-180.5")],
    ];
    for query in cases {
        let started = Instant::now();
        let (status, body) = server.get_with("/hurricanes", query);
        let took = started.elapsed();
        println!(
            "GET /hurricanes?{}: {status} in {:.1} ms: {}",
            query
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&"),
            took.as_secs_f64() * 1e3,
            error(&body)
        );
        assert_eq!(status, 422, "{query:?}: {body}");
        let (field, _) = query[0];
        let range = if field.starts_with("lat") {
            "-90 to 90"
        } else {
            "-180 to 180"
        };
        assert!(
            error(&body).contains(&format!("{field} "))
                && error(&body).contains(&format!(
                    "expected degrees from {range} with at most 6 decimals"
                )),
            "{body}"
        );
        assert!(took < Duration::from_millis(500), "{query:?}: {took:?}");
    }
    // A decimal too long to be one is not parsed at all; one given twice is refused.
    let (status, body) = server.get_with("/hurricanes", &[("lat_min", &"1".repeat(100))]);
    assert_eq!(
        (status, error(&body)),
        (
            400,
            format!(
                "lat_min \"{}...\": expected a decimal number of at most 32 characters",
                "1".repeat(40)
            )
            .as_str()
        )
    );
    let (status, body) = server.get_with("/hurricanes", &[("lat_min", "1"), ("lat_min", "2")]);
    assert_eq!(
        (status, error(&body)),
        (400, "lat_min: expected at most once")
    );
    drop(held);
    let (status, body) = server.get_with("/hurricanes", &[("lat_min", "-90"), ("lon_max", "180")]);
    assert_eq!(status, 200, "{body}");
}

/// Issue 16 point 4: one rule for a valid name: PATCH and POST refuse what the loader
/// refuses (empty, blank, control characters), with the value shown escaped.
#[test]
fn a_name_needs_a_visible_character_and_no_control_characters() {
    let t = TestDb::new();
    t.db.insert_observation("setup", &sample_observation(1))
        .unwrap();
    let server = Server::start(t.db.clone());
    for (name, shown) in [
        ("", "\"\""),
        ("   ", "\"   \""),
        ("\r", "\"\\r\""),
        ("KAT\u{1b}[2JRINA", "\"KAT\\x1b[2JRINA\""),
    ] {
        let (status, body) = server.patch(1, Some("mallory"), &json!({ "name": name }));
        println!("PATCH name {shown}: {status} {body}");
        assert_eq!(status, 422, "{body}");
        assert!(
            error(&body).starts_with(&format!("invalid input: name {shown}: expected")),
            "{body}"
        );
        let mut new = serde_json::to_value(sample_observation(2)).unwrap();
        new["name"] = json!(name);
        let (status, body) = server.post(Some("mallory"), &new);
        assert_eq!(status, 422, "{body}");
    }
    assert_eq!(t.db.observation(1).unwrap().name, "ANDREW");
    assert_eq!(count(&t.db), 1);
}

/// Issue 16 point 4: SQLSTATE class 53 (insufficient resources) is 503 "database
/// unavailable" naming no internal path, for a real server error: a sort past
/// `temp_file_limit` (53400) and, where this process may mount a small tmpfs, a write
/// into a full tablespace (53100, "could not extend file"). A statement past the
/// statement timeout is 503 naming HURRICANE_DB_STATEMENT_TIMEOUT_MS.
#[test]
fn insufficient_resources_are_503_and_name_no_path() {
    let t = with_sample();
    let mut admin = t.connect();
    diesel::sql_query(format!(
        "ALTER DATABASE \"{}\" SET temp_file_limit = '100kB'",
        t.name
    ))
    .execute(&mut admin)
    .unwrap();
    diesel::sql_query(format!(
        "ALTER DATABASE \"{}\" SET work_mem = '64kB'",
        t.name
    ))
    .execute(&mut admin)
    .unwrap();
    // New connections take the database's settings.
    let db = Db::builder().pool_size(2).connect(&t.url).unwrap();
    let server = Server::start(db);
    let started = Instant::now();
    let (status, body) =
        server.get_with("/hurricanes", &[("limit", "10000"), ("order", "wind_desc")]);
    println!(
        "temp_file_limit exceeded: {status} in {:.0} ms: {body}",
        started.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        error(&body),
        "database unavailable: the server is out of resources (temp_file_limit exceeded)"
    );
    drop(server);

    // The statement timeout, through the service, on connections opened after the
    // database's limits are reset (a pool keeps the connection that proved its URL).
    diesel::sql_query(format!("ALTER DATABASE \"{}\" RESET ALL", t.name))
        .execute(&mut admin)
        .unwrap();
    let db = Db::builder()
        .pool_size(1)
        .statement_timeout(Some(Duration::from_millis(1)))
        .connect(&t.url)
        .unwrap();
    let server = Server::start(db);
    let (status, body) = server.get_with(
        "/hurricanes",
        &[("limit", "10000"), ("order", "pressure_desc")],
    );
    println!("statement timeout: {status} {body}");
    assert_eq!(status, 503, "{body}");
    assert!(
        error(&body).contains("HURRICANE_DB_STATEMENT_TIMEOUT_MS"),
        "{body}"
    );
    drop(server);

    // Disk full: the table in a tablespace on a full 256 kB tmpfs.
    let dir = tempfile::tempdir().unwrap();
    let mount = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(dir.path())
        .output();
    if !mount.as_ref().is_ok_and(|o| o.status.success()) {
        println!("disk full: not tried (cannot mount a tmpfs here: {mount:?})");
        return;
    }
    let umount = Unmount(dir.path().to_path_buf());
    let t = TestDb::new();
    let mut admin = t.connect();
    let chown = std::process::Command::new("chown")
        .arg("postgres:postgres")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(chown.success());
    let space = format!("full_{}", t.name);
    diesel::sql_query(format!(
        "CREATE TABLESPACE {space} LOCATION '{}'",
        dir.path().display()
    ))
    .execute(&mut admin)
    .unwrap();
    diesel::sql_query(format!("ALTER TABLE hurricanes SET TABLESPACE {space}"))
        .execute(&mut admin)
        .unwrap();
    // Fill what is left.
    let filler = dir.path().join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        while f.write_all(&[0u8; 4096]).is_ok() {}
    }
    let server = Server::start(t.db.clone());
    let started = Instant::now();
    let (status, body) = server.post(
        Some("alice"),
        &serde_json::to_value(sample_observation(7)).unwrap(),
    );
    println!(
        "disk full: POST {status} in {:.0} ms: {body}",
        started.elapsed().as_secs_f64() * 1e3
    );
    drop(server);
    std::fs::remove_file(&filler).unwrap();
    diesel::sql_query("ALTER TABLE hurricanes SET TABLESPACE pg_default")
        .execute(&mut admin)
        .unwrap();
    drop(t);
    diesel::sql_query(format!("DROP TABLESPACE {space}"))
        .execute(&mut PgConnection::establish(&cluster().url("postgres")).unwrap())
        .unwrap();
    drop(umount);
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        error(&body),
        "database unavailable: the server is out of resources (disk full)"
    );
    assert!(!body.to_string().contains("pg_tblspc"), "{body}");
}

/// Unmounts a tmpfs when dropped.
struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// Issue 16 point 4: forged `X-Read-Token`s (a position the primary has not reached)
/// do not slow anyone else: they are read on the primary at once, never wait on a
/// standby connection, and the standby stays in use. Token-less readers keep most of
/// their throughput and a sub-second p99 while 48 clients send forged tokens.
#[test]
fn forged_read_tokens_do_not_slow_others() {
    let topo = hurricane_db_testkit::topology(1);
    let db = Db::builder()
        .pool_size(4)
        .read_urls(topo.read_urls())
        .connect(&topo.primary_url())
        .unwrap();
    db.insert_observation("setup", &sample_observation(1))
        .unwrap();
    topo.wait_replayed(Duration::from_secs(10)).unwrap();
    let server = Server::start(db.clone());
    let run = |plain: usize, forged: usize, secs: u64| {
        let stop = Instant::now() + Duration::from_secs(secs);
        std::thread::scope(|s| {
            let spawn = |token: Option<&'static str>| {
                let server = &server;
                s.spawn(move || {
                    let mut seen = Vec::new();
                    while Instant::now() < stop {
                        let started = Instant::now();
                        let (status, body) = match token {
                            Some(t) => server.get_token("/hurricanes/1", &[], t),
                            None => server.get("/hurricanes/1"),
                        };
                        seen.push((status, started.elapsed(), body));
                    }
                    seen
                })
            };
            let plain: Vec<_> = (0..plain).map(|_| spawn(None)).collect();
            let forged: Vec<_> = (0..forged)
                .map(|_| spawn(Some("ffffffffffffffff")))
                .collect();
            let collect =
                |hs: Vec<std::thread::ScopedJoinHandle<'_, Vec<(u16, Duration, Value)>>>| {
                    hs.into_iter()
                        .flat_map(|h| h.join().unwrap())
                        .collect::<Vec<_>>()
                };
            (collect(plain), collect(forged))
        })
    };
    let p99 = |seen: &[(u16, Duration, Value)]| {
        let mut times: Vec<Duration> = seen.iter().map(|(_, t, _)| *t).collect();
        times.sort();
        times
            .get(times.len() * 99 / 100)
            .copied()
            .unwrap_or_default()
    };
    let failures = |seen: &[(u16, Duration, Value)]| {
        seen.iter()
            .filter(|(s, _, _)| *s != 200)
            .map(|(s, _, b)| format!("{s} {b}"))
            .collect::<Vec<_>>()
    };
    let (alone, _) = run(8, 0, 4);
    let (plain, forged) = run(8, 48, 4);
    println!(
        "token-less reads, 8 clients, 4 s: alone {} (p99 {:.1} ms); beside 48 forged-token \
         clients {} (p99 {:.1} ms); forged-token reads {} (p99 {:.1} ms)",
        alone.len(),
        p99(&alone).as_secs_f64() * 1e3,
        plain.len(),
        p99(&plain).as_secs_f64() * 1e3,
        forged.len(),
        p99(&forged).as_secs_f64() * 1e3
    );
    assert!(failures(&alone).is_empty(), "{:?}", failures(&alone));
    assert!(
        failures(&plain).is_empty(),
        "{:?}",
        &failures(&plain)[..3.min(failures(&plain).len())]
    );
    assert!(
        failures(&forged).is_empty(),
        "{:?}",
        &failures(&forged)[..3.min(failures(&forged).len())]
    );
    assert!(p99(&plain) < Duration::from_secs(1), "{:?}", p99(&plain));
    assert!(p99(&forged) < Duration::from_secs(1), "{:?}", p99(&forged));
    // The CPU is shared with 6 times as many clients: a fair share is 1/7 of the
    // requests; the issue saw 1.5%.
    assert!(
        plain.len() * 10 >= alone.len(),
        "token-less reads fell from {} to {}",
        alone.len(),
        plain.len()
    );

    // The standby is still in use: with its replay paused, a token-less read shows
    // the old value (a standby), one with a real token the new one.
    let mut standby = PgConnection::establish(&topo.standbys[0].url(&topo.database)).unwrap();
    diesel::sql_query("SELECT pg_wal_replay_pause()")
        .execute(&mut standby)
        .unwrap();
    let (status, _, token) = server.patch_token(1, &json!({"wind_kts": 123}), None);
    assert_eq!(status, 200);
    let (_, stale) = server.get("/hurricanes/1");
    let (_, fresh) = server.get_token("/hurricanes/1", &[], &token.unwrap());
    diesel::sql_query("SELECT pg_wal_replay_resume()")
        .execute(&mut standby)
        .unwrap();
    assert_ne!(
        stale["wind_kts"], 123,
        "token-less reads still go to the standby"
    );
    assert_eq!(fresh["wind_kts"], 123);
}
