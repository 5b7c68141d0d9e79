//! The IHW storm browser and JSON API over `hurricane_db`: the library's typed queries
//! and its attributed writes behind axum. `hurricane-db serve` runs it; a Rust program
//! can mount [`router`] itself or call [`serve`].
//!
//! ```text
//! hurricane-db serve                          # DATABASE_URL, or the private ./.hurricane-db
//! curl 'http://127.0.0.1:8080/hurricanes?name=KATRINA&order=wind_desc&limit=3'
//! curl -X PATCH -H 'X-App-User: alice' -H 'Content-Type: application/json' \
//!      -d '{"wind_kts": 150}' http://127.0.0.1:8080/hurricanes/2800
//! ```
//!
//! With `DATABASE_URL` (a writer or reader login, as in production) it runs no DDL:
//! it checks that the schema is current and otherwise exits with one line saying to
//! run `hurricane-db migrate` as the database owner. Without `DATABASE_URL` it uses
//! the private `./.hurricane-db` cluster, which it owns: it applies pending
//! migrations and loads the bundled sample (`data/storm_sample.csv`) if the table is
//! empty. It listens on `HURRICANE_DB_ADDR`
//! (default `127.0.0.1:8080`; port 0 picks a free one), prints one line
//! `service: listening on http://ADDR` on stdout and logs requests on stderr
//! (`RUST_LOG`, default `info`). Ctrl-C or SIGTERM stops it after the requests in
//! flight; the private cluster keeps running (`hurricane-db db stop` stops it).
//!
//! | route | answer |
//! |---|---|
//! | `GET /hurricanes/{fid}` | one observation (takes `X-Read-Token`) |
//! | `GET /hurricanes?...` | `{"items": [...], "next_page": "..." or null}` (takes `X-Read-Token`) |
//! | `GET /storms?...` | storms, strongest first (takes `X-Read-Token`) |
//! | `GET /storms/near?lat=&lon=&km=` | storms that passed within `km`, closest first (takes `X-Read-Token`) |
//! | `GET /storms/{btid}/track` | a storm's observations in time order (takes `X-Read-Token`) |
//! | `GET /landfalls?year=&basin=&min_cat=` | storms and their landfall records, in time order (takes `X-Read-Token`) |
//! | `POST /hurricanes` | 201, `X-Read-Token` and the new observation (body: all fields) |
//! | `PATCH /hurricanes/{fid}` | 200, `X-Read-Token` and the changed observation (body: the fields to change) |
//! | `DELETE /hurricanes/{fid}` | 204 and `X-Read-Token` |
//! | `GET /storms/{btid}/track.svg` | a map of the storm's track (SVG; takes `X-Read-Token`) |
//! | `GET /storms/{btid}/intensity.svg` | wind and pressure over time (SVG; takes `X-Read-Token`) |
//! | `GET /seasons/{year}.svg?basin=` | every track of a season on one map (SVG; takes `X-Read-Token`) |
//! | `GET /` | the storm browser: an HTML page to search storms and see their pictures |
//! | `GET /openapi.json` | the OpenAPI 3.1 description of these routes |
//!
//! `/hurricanes` takes `name` (`*` and `?` are wildcards), `year_from`, `year_to`,
//! `time_from`, `time_to` (RFC 3339; write `+` as `%2B` or use `Z`), `basin` and `cat`
//! (repeat for any of several), `min_wind`, `max_wind`, `min_pressure`,
//! `max_pressure`, `lat_min`, `lat_max`, `lon_min`, `lon_max`, `btid`, `order`
//! (`time_asc` (default), `time_desc`, `wind_asc`, `wind_desc`, `pressure_asc`,
//! `pressure_desc`), `limit` (default 100, at most 10000) and either `offset` or
//! `page_token` (the previous page's `next_page`). `/storms` takes `name`,
//! `year_from`, `year_to`, `basin` (repeatable), `min_wind`, `limit`, `offset`.
//! `/landfalls` takes `year`, `basin` and `min_cat` (`TD`, `TS`, `H1`..`H5`: landfalls
//! at that category or stronger), as `hurricane-db landfalls` does.
//!
//! Decimals (`lat`, `long`, `shape_length`) come out as strings, exactly as stored;
//! send them as strings too (a JSON number goes through a binary float first).
//!
//! Writes need an `X-App-User` header: the audit trail records that name next to the
//! database login. The service does not authenticate it; run it behind something
//! that does and sets the header. What a write may do is decided by the database
//! login in `DATABASE_URL`: a writer login gets 403 on DELETE.
//!
//! Reads may go to streaming standbys (`HURRICANE_DB_READ_URLS`), which apply the
//! primary's writes a moment later: a read right after a write can miss it. So every
//! successful write answers with an `X-Read-Token` header, the position of its commit
//! as 16 hex digits (opaque: send it back as it came). A read sent with that header
//! sees that write and everything committed before it: it runs on a standby that has
//! replayed the position, waiting for one at most `HURRICANE_DB_RYW_WAIT_MS` (default
//! 200 ms), else on the primary. Without the header a read runs as before, on any
//! standby (or the primary when there are none). A write sent with a token answers
//! with the later of the two positions, so a client (one user's browser) can keep the
//! last token it got and send it with every request. A token is no credential: it
//! grants nothing, and a forged one can at most make its own read wait that bound and
//! go to the primary. A malformed token is 400. The service sends no CORS headers; a
//! page on another origin needs a proxy that allows `X-Read-Token` on requests and
//! exposes it on answers.
//!
//! Limits: a request body of at most 64 KiB (413 above); decimals of at most 32
//! characters, refused before they are parsed; name patterns of at most 64
//! characters; every statement at most 5 s on the server (`statement_timeout`, from
//! `HURRICANE_DB_STATEMENT_TIMEOUT_MS` if set). Values are checked before any
//! connection or transaction is taken. URIs over 64 KiB are refused by hyper itself
//! with an empty 414, before this code sees them.
//!
//! Errors are `{"error": "..."}`, whoever produced them. 400: the request could not be
//! read (unknown or repeated parameter, a value that is not a number or time, a missing
//! header, a malformed `X-Read-Token`, a body that is not JSON). 422: it was read, but
//! its values are refused (wrong JSON types or missing fields, a limit out of range, a
//! latitude of 95, a NUL byte, a value too long for its column, a value the server
//! finds malformed (SQLSTATE class 22), an empty change, a `cat` or `basin` that the
//! `categories` or `basins` table does not list: the message names the valid ones). 404 no such row or storm; 409
//! a duplicate FID; 403 the database login may not do this; 415 a body sent without
//! `Content-Type: application/json`; 503 the database is unreachable, went away, or no
//! pooled connection came free in time; 500 anything else.

use std::io::Write;
use std::time::Instant;

use axum::extract::rejection::JsonRejection;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bigdecimal::BigDecimal;
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use hurricane_db::observations;
use hurricane_db::queries::{
    self, Filter, Landfall, LandfallFilter, NearStorm, Order, Page, Place, Radius, StormFilter,
    StormLandfalls,
};
use hurricane_db::{
    Db, DbBuilder, Error, Hurricane, HurricaneChanges, NewHurricane, Session, Storm,
};
use serde::Deserialize;

mod browser;
mod explorer;

/// The OpenAPI description of the routes below, generated from their annotations and
/// the library's types (feature `openapi`); served at `/openapi.json`.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "hurricane-db service",
        description = "IHW hurricane track observations"
    ),
    paths(
        one,
        search,
        storms,
        near,
        track,
        landfalls,
        create,
        update,
        remove,
        browser::track_svg,
        browser::intensity_svg,
        browser::season_svg,
        explorer::coverage,
        explorer::land,
        explorer::export_geojson,
        explorer::export_csv,
        explorer::export_hurdat2
    ),
    components(schemas(
        ErrorBody,
        Hurricane,
        NewHurricane,
        HurricaneChanges,
        Storm,
        NearStorm,
        StormLandfalls,
        Landfall,
        Order,
        explorer::Coverage,
        explorer::BasinCoverage,
        explorer::CategoryInfo
    ))
)]
struct ApiDoc;

/// Every error answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct ErrorBody {
    /// What went wrong, in one line.
    error: String,
}

/// The service's routes on `db`. Tests serve this same router.
pub fn router(db: Db) -> Router {
    Router::new()
        .route("/hurricanes", get(search).post(create))
        .route("/hurricanes/{fid}", get(one).patch(update).delete(remove))
        .route("/storms", get(storms))
        // A literal segment always wins over a `{btid}` capture (whatever the order of
        // these lines), so `/storms/near` is never read as a storm.
        .route("/storms/near", get(near))
        .route("/storms/{btid}/track", get(track))
        .merge(browser::routes())
        .merge(explorer::routes())
        .route("/landfalls", get(landfalls))
        .route(
            "/openapi.json",
            get(|| async { Json(<ApiDoc as utoipa::OpenApi>::openapi()) }),
        )
        .fallback(|| async { ApiError::Status(StatusCode::NOT_FOUND, "no such route".into()) })
        .method_not_allowed_fallback(|| async {
            ApiError::Status(StatusCode::METHOD_NOT_ALLOWED, "method not allowed".into())
        })
        .layer(middleware::from_fn(json_errors))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(log_request))
        .with_state(db)
}

/// Serves [`router`] on `addr` until Ctrl-C or SIGTERM, then finishes the requests in
/// flight. Blocking: it builds its own tokio runtime, so call it from a plain `main`
/// after the database is ready (`hurricane-db serve` does).
///
/// Prints one line on stdout, `service: listening on http://ADDR`, once the socket is
/// bound: scripts wait for it before sending requests (port 0 picks a free one).
pub fn serve(db: Db, addr: &str) -> Result<(), Box<dyn std::error::Error>> {
    tracing::info!(server = db.server(), "schema current");
    tokio::runtime::Runtime::new()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("listen on {addr}: {e}"))?;
        println!("service: listening on http://{}", listener.local_addr()?);
        std::io::stdout().flush()?;
        // No Nagle delay on the last small write of a streamed answer (a download's
        // chunked end waited ~40 ms for the client's delayed ACK).
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, router(db))
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        tracing::info!("stopped");
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}

/// The settings a service wants unless the environment says otherwise: no statement
/// runs longer than 5 s (`HURRICANE_DB_STATEMENT_TIMEOUT_MS` overrides).
pub fn options_from_env() -> hurricane_db::Result<DbBuilder> {
    Db::builder()
        .statement_timeout(Some(std::time::Duration::from_secs(5)))
        .override_from_env()
}

/// An error and its sources, each once: `outer: inner: ...`.
fn hurricane_db_chain(e: &Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// Resolves on Ctrl-C or SIGTERM (what `kill` and service managers send).
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("install the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down after the requests in flight");
}

/// Largest request body accepted (413 above): one observation is a few hundred bytes.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every error is JSON: rejections made by axum itself (an undecodable path, a body
/// over the limit, ...) come as plain text and are wrapped as `{"error": text}`.
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let text = match axum::body::to_bytes(response.into_body(), 4096).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

async fn log_request(request: Request, next: Next) -> Response {
    let (method, uri, started) = (
        request.method().clone(),
        request.uri().clone(),
        Instant::now(),
    );
    let response = next.run(request).await;
    tracing::info!(
        "{method} {uri} {} {:?}",
        response.status(),
        started.elapsed()
    );
    response
}

// ---- handlers ----------------------------------------------------------------------

#[utoipa::path(get, path = "/hurricanes/{fid}", tag = "observations",
    params(("fid" = i32, Path, description = "IHW feature ID"), ("X-Read-Token" = Option<String>, Header, pattern = "^[0-9a-fA-F]{16}$", description = "The X-Read-Token of an earlier write's answer: this read then sees that write (on a standby that has replayed it, else on the primary)")),
    responses((status = 200, description = "The observation", body = Hurricane), (status = "default", description = "An error: 400 unreadable, 403 not allowed for this login, 404 not found, 409 conflict, 413 body too large, 415 not JSON, 422 refused value, 503 database unavailable", body = ErrorBody)))]
async fn one(
    State(db): State<Db>,
    Path(fid): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Hurricane>, ApiError> {
    let fid: i32 = parse("fid", &fid)?;
    let after = read_session(&db, &headers)?;
    Ok(Json(
        read(db, after, move |c| queries::by_fid(c, fid)).await?,
    ))
}

#[utoipa::path(get, path = "/hurricanes", tag = "observations",
    params(
        ("name" = Option<String>, Query, description = "Storm name; * and ? are wildcards; case ignored; at most 64 characters"),
        ("year_from" = Option<i32>, Query), ("year_to" = Option<i32>, Query),
        ("time_from" = Option<String>, Query, description = "A date (2005-08-25, 00:00 UTC) or an RFC 3339 time"),
        ("time_to" = Option<String>, Query, description = "A date (2005-08-25, 00:00 UTC) or an RFC 3339 time"),
        ("basin" = Option<Vec<String>>, Query, description = "Repeat for any of several", explode = true),
        ("cat" = Option<Vec<String>>, Query, description = "Repeat for any of several", explode = true),
        ("min_wind" = Option<i16>, Query), ("max_wind" = Option<i16>, Query),
        ("min_pressure" = Option<i16>, Query), ("max_pressure" = Option<i16>, Query),
        ("lat_min" = Option<String>, Query), ("lat_max" = Option<String>, Query),
        ("lon_min" = Option<String>, Query), ("lon_max" = Option<String>, Query),
        ("btid" = Option<i16>, Query),
        ("order" = Option<Order>, Query),
        ("limit" = Option<i64>, Query, description = "1 to 10000, default 100"),
        ("offset" = Option<i64>, Query),
        ("page_token" = Option<String>, Query, description = "The previous page's next_page"),
        ("X-Read-Token" = Option<String>, Header, pattern = "^[0-9a-fA-F]{16}$", description = "The X-Read-Token of an earlier write's answer: this read then sees that write (on a standby that has replayed it, else on the primary)"),
    ),
    responses((status = 200, description = "One page of observations", body = Page<Hurricane>), (status = "default", description = "An error: 400 unreadable, 403 not allowed for this login, 404 not found, 409 conflict, 413 body too large, 415 not JSON, 422 refused value, 503 database unavailable", body = ErrorBody)))]
async fn search(
    State(db): State<Db>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Page<Hurricane>>, ApiError> {
    let mut f = Filter::default();
    let mut order = None;
    for (key, value) in pairs(&query) {
        let (k, v) = (key.as_str(), value.as_str());
        match k {
            "basin" => f.basins.push(value),
            "cat" => f.cats.push(value),
            "name" => set(&mut f.name, k, v)?,
            "year_from" => set(&mut f.year_from, k, v)?,
            "year_to" => set(&mut f.year_to, k, v)?,
            "time_from" => set(&mut f.time_from, k, v)?,
            "time_to" => set(&mut f.time_to, k, v)?,
            "min_wind" => set(&mut f.min_wind, k, v)?,
            "max_wind" => set(&mut f.max_wind, k, v)?,
            "min_pressure" => set(&mut f.min_pressure, k, v)?,
            "max_pressure" => set(&mut f.max_pressure, k, v)?,
            "lat_min" => set(&mut f.lat_min, k, v)?,
            "lat_max" => set(&mut f.lat_max, k, v)?,
            "lon_min" => set(&mut f.lon_min, k, v)?,
            "lon_max" => set(&mut f.lon_max, k, v)?,
            "btid" => set(&mut f.btid, k, v)?,
            "order" => set(&mut order, k, v)?,
            "limit" => set(&mut f.limit, k, v)?,
            "offset" => set(&mut f.offset, k, v)?,
            "page_token" => set(&mut f.page_token, k, v)?,
            _ => return Err(unknown(k)),
        }
    }
    f.order = order.unwrap_or_default();
    let after = read_session(&db, &headers)?;
    Ok(Json(
        read(db, after, move |c| queries::search(c, &f)).await?,
    ))
}

#[utoipa::path(get, path = "/storms", tag = "storms",
    params(
        ("name" = Option<String>, Query), ("year_from" = Option<i32>, Query),
        ("year_to" = Option<i32>, Query),
        ("basin" = Option<Vec<String>>, Query, explode = true),
        ("min_wind" = Option<i16>, Query), ("limit" = Option<i64>, Query),
        ("offset" = Option<i64>, Query),
        ("X-Read-Token" = Option<String>, Header, pattern = "^[0-9a-fA-F]{16}$", description = "The X-Read-Token of an earlier write's answer: this read then sees that write (on a standby that has replayed it, else on the primary)"),
    ),
    responses((status = 200, description = "Storms, strongest first", body = Vec<Storm>), (status = "default", description = "An error: 400 unreadable, 403 not allowed for this login, 404 not found, 409 conflict, 413 body too large, 415 not JSON, 422 refused value, 503 database unavailable", body = ErrorBody)))]
async fn storms(
    State(db): State<Db>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Vec<Storm>>, ApiError> {
    let mut f = StormFilter::default();
    for (key, value) in pairs(&query) {
        let (k, v) = (key.as_str(), value.as_str());
        match k {
            "basin" => f.basins.push(value),
            "name" => set(&mut f.name, k, v)?,
            "year_from" => set(&mut f.year_from, k, v)?,
            "year_to" => set(&mut f.year_to, k, v)?,
            "min_wind" => set(&mut f.min_wind, k, v)?,
            "limit" => set(&mut f.limit, k, v)?,
            "offset" => set(&mut f.offset, k, v)?,
            _ => return Err(unknown(k)),
        }
    }
    let after = read_session(&db, &headers)?;
    Ok(Json(
        read(db, after, move |c| queries::storms(c, &f)).await?,
    ))
}

#[utoipa::path(get, path = "/storms/near", tag = "storms",
    params(("lat" = f64, Query), ("lon" = f64, Query), ("km" = f64, Query, description = "More than 0, at most 2000"), ("X-Read-Token" = Option<String>, Header, pattern = "^[0-9a-fA-F]{16}$", description = "The X-Read-Token of an earlier write's answer: this read then sees that write (on a standby that has replayed it, else on the primary)")),
    responses((status = 200, description = "Storms that passed within km, closest first", body = Vec<NearStorm>), (status = "default", description = "An error: 400 unreadable, 403 not allowed for this login, 404 not found, 409 conflict, 413 body too large, 415 not JSON, 422 refused value, 503 database unavailable", body = ErrorBody)))]
async fn near(
    State(db): State<Db>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Vec<NearStorm>>, ApiError> {
    let (mut lat, mut lon, mut km) = (None, None, None);
    for (key, value) in pairs(&query) {
        let (k, v) = (key.as_str(), value.as_str());
        match k {
            "lat" => set(&mut lat, k, v)?,
            "lon" => set(&mut lon, k, v)?,
            "km" => set(&mut km, k, v)?,
            _ => return Err(unknown(k)),
        }
    }
    let place = Place::new(required(lat, "lat")?, required(lon, "lon")?)?;
    let radius = Radius::km(required(km, "km")?)?;
    let after = read_session(&db, &headers)?;
    Ok(Json(
        read(db, after, move |c| queries::storms_near(c, place, radius)).await?,
    ))
}

#[utoipa::path(get, path = "/storms/{btid}/track", tag = "storms",
    params(("btid" = i16, Path), ("X-Read-Token" = Option<String>, Header, pattern = "^[0-9a-fA-F]{16}$", description = "The X-Read-Token of an earlier write's answer: this read then sees that write (on a standby that has replayed it, else on the primary)")),
    responses((status = 200, description = "The storm's observations in time order", body = Vec<Hurricane>), (status = "default", description = "An error: 400 unreadable, 403 not allowed for this login, 404 not found, 409 conflict, 413 body too large, 415 not JSON, 422 refused value, 503 database unavailable", body = ErrorBody)))]
async fn track(
    State(db): State<Db>,
    Path(btid): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Vec<Hurricane>>, ApiError> {
    let btid: i16 = parse("btid", &btid)?;
    let after = read_session(&db, &headers)?;
    Ok(Json(
        read(db, after, move |c| queries::by_btid(c, btid)).await?,
    ))
}

#[utoipa::path(get, path = "/landfalls", tag = "storms",
    params(
        ("year" = Option<i32>, Query, description = "Storms of this year (of their first observation)"),
        ("basin" = Option<String>, Query, description = "Storms of this basin, any case"),
        ("min_cat" = Option<String>, Query, description = "Landfalls at this category or stronger: TD, TS, H1..H5 (any case)"),
        ("X-Read-Token" = Option<String>, Header, pattern = "^[0-9a-fA-F]{16}$", description = "The X-Read-Token of an earlier write's answer: this read then sees that write (on a standby that has replayed it, else on the primary)"),
    ),
    responses((status = 200, description = "Storms with landfalls (HURDAT2 record identifier L), each with its landfall records, in time order", body = Vec<StormLandfalls>), (status = "default", description = "An error: 400 unreadable, 403 not allowed for this login, 404 not found, 409 conflict, 413 body too large, 415 not JSON, 422 refused value, 503 database unavailable", body = ErrorBody)))]
async fn landfalls(
    State(db): State<Db>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Vec<StormLandfalls>>, ApiError> {
    let mut f = LandfallFilter::default();
    for (key, value) in pairs(&query) {
        let (k, v) = (key.as_str(), value.as_str());
        match k {
            "year" => set(&mut f.year, k, v)?,
            "basin" => set(&mut f.basin, k, v)?,
            "min_cat" => set(&mut f.min_cat, k, v)?,
            _ => return Err(unknown(k)),
        }
    }
    let after = read_session(&db, &headers)?;
    Ok(Json(
        read(db, after, move |c| queries::landfalls(c, &f)).await?,
    ))
}

#[utoipa::path(post, path = "/hurricanes", tag = "observations",
    params(("X-App-User" = String, Header, description = "The end user the audit trail names"), ("X-Read-Token" = Option<String>, Header, pattern = "^[0-9a-fA-F]{16}$", description = "The X-Read-Token of an earlier answer: the token of this answer then covers that write too")),
    request_body = NewHurricane,
    responses((status = 201, description = "Created", body = Hurricane, headers(("Location" = String, description = "The new observation's path"), ("X-Read-Token" = String, description = "Opaque position of this write (16 hex digits): send it as the X-Read-Token header of later requests to see this write"))), (status = "default", description = "An error: 400 unreadable, 403 not allowed for this login, 404 not found, 409 conflict, 413 body too large, 415 not JSON, 422 refused value, 503 database unavailable", body = ErrorBody)))]
async fn create(
    State(db): State<Db>,
    headers: HeaderMap,
    body: Result<Json<NewHurricane>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let user = app_user(&headers)?;
    let session = write_session(&db, &headers)?;
    let Json(new) = body?;
    // Refused before a connection or a transaction is taken.
    new.validate()?;
    let (row, token) = write(session, user, move |c| observations::insert(c, &new)).await?;
    let location = format!("/hurricanes/{}", row.fid);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        token,
        Json(row),
    ))
}

#[utoipa::path(patch, path = "/hurricanes/{fid}", tag = "observations",
    params(("fid" = i32, Path), ("X-App-User" = String, Header), ("X-Read-Token" = Option<String>, Header, pattern = "^[0-9a-fA-F]{16}$", description = "The X-Read-Token of an earlier answer: the token of this answer then covers that write too")),
    request_body = HurricaneChanges,
    responses((status = 200, description = "The changed observation", body = Hurricane, headers(("X-Read-Token" = String, description = "Opaque position of this write (16 hex digits): send it as the X-Read-Token header of later requests to see this write"))), (status = "default", description = "An error: 400 unreadable, 403 not allowed for this login, 404 not found, 409 conflict, 413 body too large, 415 not JSON, 422 refused value, 503 database unavailable", body = ErrorBody)))]
async fn update(
    State(db): State<Db>,
    Path(fid): Path<String>,
    headers: HeaderMap,
    body: Result<Json<HurricaneChanges>, JsonRejection>,
) -> Result<(HeaderMap, Json<Hurricane>), ApiError> {
    let fid: i32 = parse("fid", &fid)?;
    let user = app_user(&headers)?;
    let session = write_session(&db, &headers)?;
    let Json(changes) = body?;
    changes.validate()?;
    let (row, token) = write(session, user, move |c| {
        observations::update(c, fid, &changes)
    })
    .await?;
    Ok((token, Json(row)))
}

#[utoipa::path(delete, path = "/hurricanes/{fid}", tag = "observations",
    params(("fid" = i32, Path), ("X-App-User" = String, Header), ("X-Read-Token" = Option<String>, Header, pattern = "^[0-9a-fA-F]{16}$", description = "The X-Read-Token of an earlier answer: the token of this answer then covers that write too")),
    responses((status = 204, description = "Deleted", headers(("X-Read-Token" = String, description = "Opaque position of this write (16 hex digits): send it as the X-Read-Token header of later requests to see this write"))), (status = "default", description = "An error: 400 unreadable, 403 not allowed for this login, 404 not found, 409 conflict, 413 body too large, 415 not JSON, 422 refused value, 503 database unavailable", body = ErrorBody)))]
async fn remove(
    State(db): State<Db>,
    Path(fid): Path<String>,
    headers: HeaderMap,
) -> Result<(StatusCode, HeaderMap), ApiError> {
    let fid: i32 = parse("fid", &fid)?;
    let user = app_user(&headers)?;
    let session = write_session(&db, &headers)?;
    let ((), token) = write(session, user, move |c| observations::delete(c, fid)).await?;
    Ok((StatusCode::NO_CONTENT, token))
}

// ---- plumbing ----------------------------------------------------------------------

/// Runs Diesel's blocking work on tokio's blocking threads, so a slow query or a wait
/// for a pooled connection (or for a standby to catch up) never stalls the async
/// workers serving other requests.
async fn blocking<T, F>(work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> hurricane_db::Result<T> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(ApiError::Db),
        Err(join) => {
            tracing::error!("database work failed: {join}");
            Err(ApiError::Status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error".into(),
            ))
        }
    }
}

/// Header of a write's answer, and of a read (or write) that must see that write.
const READ_TOKEN: &str = "x-read-token";
const READ_TOKEN_EXPECTED: &str = "X-Read-Token: expected the token from a write's response";

/// The session of the request's `X-Read-Token`, if it sent one: a read through it sees
/// the write that token came from. A malformed token (or one sent twice) is 400.
fn read_session(db: &Db, headers: &HeaderMap) -> Result<Option<Session>, ApiError> {
    let mut tokens = headers.get_all(READ_TOKEN).iter();
    let Some(token) = tokens.next() else {
        return Ok(None);
    };
    if tokens.next().is_some() {
        return Err(bad("X-Read-Token: expected at most once"));
    }
    // Exactly what a write hands out (the library's parser would also take a sign).
    let token = token.to_str().map_err(|_| bad(READ_TOKEN_EXPECTED))?;
    if token.len() != 16 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(READ_TOKEN_EXPECTED));
    }
    db.session_from_token(token)
        .map(Some)
        .map_err(|_| bad(READ_TOKEN_EXPECTED))
}

/// The session a write commits in: the request's (so the answer's token is the later
/// of the two positions), else a new one.
fn write_session(db: &Db, headers: &HeaderMap) -> Result<Session, ApiError> {
    Ok(read_session(db, headers)?.unwrap_or_else(|| db.session()))
}

/// Runs the read `f` off the async workers. With a session (the request sent a
/// token): a READ ONLY transaction on a standby that has replayed the session's write,
/// else on the primary. Without: one statement wherever reads go (`Db::read_one`).
async fn read<T, F>(db: Db, after: Option<Session>, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: Fn(&mut PgConnection) -> hurricane_db::Result<T> + Send + 'static,
{
    blocking(move || match after {
        Some(session) => session.read(&f),
        None => db.read_statement(&f),
    })
    .await
}

/// Runs the write `f` in a transaction of `session` that the audit trail attributes to
/// `user`, off the async workers; returns its value and the `X-Read-Token` header
/// for the answer (absent only if the commit's position could not be read).
async fn write<T, F>(mut session: Session, user: String, f: F) -> Result<(T, HeaderMap), ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut PgConnection) -> hurricane_db::Result<T> + Send + 'static,
{
    blocking(move || {
        let value = session.transaction_as(&user, f)?;
        let mut headers = HeaderMap::new();
        if let Some(token) = session.token() {
            let token = HeaderValue::from_str(&token).expect("hex digits are a header value");
            headers.insert(READ_TOKEN, token);
        }
        Ok((value, headers))
    })
    .await
}

/// The end user a write is made for, from the `X-App-User` header.
fn app_user(headers: &HeaderMap) -> Result<String, ApiError> {
    headers
        .get("x-app-user")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(String::from)
        .ok_or_else(|| bad("X-App-User header: expected the name of the person making the change"))
}

/// The query string as decoded pairs, in order. axum's `Query` cannot collect a
/// repeated key (`basin=A&basin=B`) into a list, so the handlers read these.
fn pairs(query: &Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// Parses a single-valued parameter into `slot`; given twice it is refused, not
/// silently overwritten.
fn set<T: Param>(slot: &mut Option<T>, key: &str, value: &str) -> Result<(), ApiError> {
    if slot.is_some() {
        return Err(bad(format!("{key}: expected at most once")));
    }
    *slot = Some(parse(key, value)?);
    Ok(())
}

fn parse<T: Param>(key: &str, value: &str) -> Result<T, ApiError> {
    T::parse(value).ok_or_else(|| bad(format!("{key} \"{value}\": {}", T::EXPECTED)))
}

fn required<T>(value: Option<T>, key: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| bad(format!("{key}: required")))
}

fn unknown(key: &str) -> ApiError {
    bad(format!("unknown parameter \"{key}\""))
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::Status(StatusCode::BAD_REQUEST, message.into())
}

/// A type a query or path parameter is read as, and what its text must look like.
trait Param: Sized {
    const EXPECTED: &'static str;
    fn parse(text: &str) -> Option<Self>;
}

macro_rules! from_str_params {
    ($($t:ty => $expected:literal,)*) => {$(
        impl Param for $t {
            const EXPECTED: &'static str = $expected;
            fn parse(text: &str) -> Option<Self> {
                text.parse().ok()
            }
        }
    )*};
}

from_str_params! {
    String => "expected text",
    i16 => "expected a whole number from -32768 to 32767",
    i32 => "expected a whole number from -2147483648 to 2147483647",
    i64 => "expected a whole number",
    f64 => "expected a number",
    BigDecimal => "expected a decimal number",
}

impl Param for DateTime<Utc> {
    const EXPECTED: &'static str =
        "expected a date such as 2005-08-25 or an RFC 3339 time such as 2005-08-29T11:10:00Z";
    fn parse(text: &str) -> Option<Self> {
        queries::parse_time(text).ok()
    }
}

impl Param for Order {
    const EXPECTED: &'static str =
        "expected time_asc, time_desc, wind_asc, wind_desc, pressure_asc or pressure_desc";
    /// By the library's own serde names, which page tokens use too.
    fn parse(text: &str) -> Option<Self> {
        let text = serde::de::value::StrDeserializer::<serde::de::value::Error>::new(text);
        Order::deserialize(text).ok()
    }
}

/// Why a request failed, answered as `{"error": "..."}` by the one `IntoResponse`
/// below, which also decides the status of every library error.
enum ApiError {
    /// Decided here: an unreadable query, path or header (400), no such route, ...
    Status(StatusCode, String),
    /// The body, with axum's status: 400 not JSON, 415 not sent as JSON, 422 JSON of
    /// the wrong shape (a string for a number, a missing field).
    Body(JsonRejection),
    /// From the library.
    Db(Error),
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Db(e)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        ApiError::Body(rejection)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            ApiError::Status(status, message) => (status, message),
            ApiError::Body(rejection) => (rejection.status(), rejection.body_text()),
            ApiError::Db(e) => {
                let status = match &e {
                    Error::NotFound(_) => StatusCode::NOT_FOUND,
                    Error::InvalidInput(_)
                    | Error::InvalidValue { .. }
                    | Error::CheckViolation { .. }
                    | Error::NotNullViolation { .. }
                    | Error::UnknownCode { .. }
                    | Error::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    Error::AlreadyExists(_)
                    | Error::UniqueViolation { .. }
                    | Error::ForeignKeyViolation { .. }
                    | Error::Curation(_) => StatusCode::CONFLICT,
                    Error::PermissionDenied { .. } | Error::ReadOnly { .. } => {
                        StatusCode::FORBIDDEN
                    }
                    Error::Conflict { .. } => StatusCode::CONFLICT,
                    e if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
                    // Migration, Cluster, Database, Io, and variants added later.
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                if status.is_server_error() {
                    tracing::error!("{e}");
                }
                // The message and its sources (passwords in them are already masked),
                // never Debug.
                (status, hurricane_db_chain(&e))
            }
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}
