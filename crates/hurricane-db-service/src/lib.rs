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
//! grants nothing, and a forged one can at most send its own read to the primary: a
//! position the primary has not reached cannot be a real write's, so such a read runs
//! on the primary at once, without waiting for a standby, and a read that does wait
//! holds no standby connection between its checks. A malformed token is 400. The service sends no CORS headers; a
//! page on another origin needs a proxy that allows `X-Read-Token` on requests and
//! exposes it on answers.
//!
//! Limits: a request body of at most 64 KiB (413 above, as JSON: a body announced
//! larger is read and dropped, up to 4 MiB, so the client gets the answer); decimals
//! of at most 32 characters, refused before they are parsed; search bounds within the
//! columns' range and decimals (`lat_min` -90 to 90, ...); name patterns of at most 64
//! characters; every statement at most 5 s on the server (`statement_timeout`, from
//! `HURRICANE_DB_STATEMENT_TIMEOUT_MS` if set) and a request's database work at most 7 s
//! (`HURRICANE_DB_REQUEST_TIMEOUT_MS`; then 503 even if the server never answers).
//! Values are checked before any connection or transaction is taken. Database work runs
//! on at most one thread per pooled connection; pictures are drawn after the
//! connection is given back. A client must send a request's headers within 10 s
//! (`HURRICANE_DB_HEADER_TIMEOUT_SECS`), which also closes idle keep-alive connections,
//! and client connections are capped below the open-file limit (raised to its hard
//! limit at start; `HURRICANE_DB_MAX_CLIENTS`). See [`Limits`]. A request head larger
//! than hyper's own limit is refused by hyper, before this code sees it.
//!
//! Errors are `{"error": "..."}`, whoever produced them. 400: the request could not be
//! read (unknown or repeated parameter, a value that is not a number or time, a missing
//! header, a malformed `X-Read-Token`, a body that is not JSON). 422: it was read, but
//! its values are refused (wrong JSON types or missing fields, a limit out of range, a
//! latitude of 95, a NUL byte, a value too long for its column, a value the server
//! finds malformed (SQLSTATE class 22), an empty change, a `cat` or `basin` that the
//! `categories` or `basins` table does not list: the message names the valid ones). 404 no such row or storm; 409
//! a duplicate FID; 403 the database login may not do this; 415 a body sent without
//! `Content-Type: application/json`; 503 the database is unreachable, went away, did
//! not answer within the request bound, ran out of resources (SQLSTATE class 53: disk
//! full, ...; the message names the resource, never a server path), cancelled a
//! statement at its timeout, or no pooled connection came free in time; 500 anything
//! else.

use std::io::Write;
use std::time::Instant;

use axum::extract::rejection::JsonRejection;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use diesel::pg::PgConnection;
use hurricane_db::observations;
use hurricane_db::queries::{
    self, Filter, Landfall, LandfallFilter, NearStorm, Order, Page, Place, Radius, StormFilter,
    StormLandfalls,
};
use hurricane_db::{
    Db, DbBuilder, Error, Hurricane, HurricaneChanges, NewHurricane, Session, Storm,
};

mod browser;
mod limits;
mod params;

pub use limits::Limits;
use params::{path as parse, One, Params};
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

/// The service's routes on `db`, with [`Limits::for_db`]. Tests serve this same router.
pub fn router(db: Db) -> Router {
    let limits = Limits::for_db(&db);
    router_with(db, &limits)
}

/// The service's routes on `db`, their blocking work bounded by `limits`.
pub fn router_with(db: Db, limits: &Limits) -> Router {
    let gate = limits::Gate::new(limits);
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
        .layer(middleware::from_fn(move |request, next| {
            limits::with_gate(gate.clone(), request, next)
        }))
        .layer(middleware::from_fn(|request, next| {
            limits::refuse_large_bodies(MAX_BODY_BYTES, request, next)
        }))
        .layer(middleware::from_fn(log_request))
        .with_state(db)
}

/// Serves [`router`] on `addr` until Ctrl-C or SIGTERM, then finishes the requests in
/// flight. Blocking: it builds its own tokio runtime, so call it from a plain `main`
/// after the database is ready (`hurricane-db serve` does). [`Limits::from_env`]
/// bounds its work and its client connections.
///
/// Prints one line on stdout, `service: listening on http://ADDR`, once the socket is
/// bound: scripts wait for it before sending requests (port 0 picks a free one).
pub fn serve(db: Db, addr: &str) -> Result<(), Box<dyn std::error::Error>> {
    let limits = Limits::from_env(&db)?;
    serve_with(db, addr, limits)
}

/// [`serve`] with explicit limits.
pub fn serve_with(db: Db, addr: &str, limits: Limits) -> Result<(), Box<dyn std::error::Error>> {
    tracing::info!(server = db.server(), "schema current");
    let max_clients = limits
        .max_clients
        .unwrap_or_else(|| limits::client_cap(limits::raise_open_file_limit(), &db));
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Database work and pictures are bounded by the gate's semaphores; this
        // only bounds anything else that might spawn blocking work.
        .max_blocking_threads(limits.db_workers + limits.render_workers + 4)
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("listen on {addr}: {e}"))?;
            println!("service: listening on http://{}", listener.local_addr()?);
            std::io::stdout().flush()?;
            tracing::info!(
                max_clients,
                db_workers = limits.db_workers,
                header_timeout_s = limits.header_timeout.as_secs(),
                request_timeout_ms = limits.request_timeout.as_millis() as u64,
                "limits"
            );
            let app = router_with(db, &limits);
            accept_loop(listener, app, limits.header_timeout, max_clients).await;
            tracing::info!("stopped");
            Ok::<_, Box<dyn std::error::Error>>(())
        })
}

/// Accepts client connections until Ctrl-C or SIGTERM, at most `max_clients` open at
/// once (beyond that, new ones wait in the kernel's backlog until one closes), each
/// served by hyper's HTTP/1 with `header_timeout` for a request's headers and for an
/// idle keep-alive. Then lets the requests in flight finish.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    app: Router,
    header_timeout: std::time::Duration,
    max_clients: usize,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    let clients = std::sync::Arc::new(tokio::sync::Semaphore::new(max_clients));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let mut last_accept_error: Option<Instant> = None;
    loop {
        let permit = tokio::select! {
            permit = std::sync::Arc::clone(&clients).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors (EMFILE) or a connection reset before it
                    // was accepted: log at most once a second, back off, go on.
                    if last_accept_error.is_none_or(|t| t.elapsed().as_secs() >= 1) {
                        tracing::warn!("accept failed: {e}");
                        last_accept_error = Some(Instant::now());
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = connection.await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
    graceful.shutdown().await;
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
    params(params::SearchParams, ("X-Read-Token" = Option<String>, Header, pattern = "^[0-9a-fA-F]{16}$", description = "The X-Read-Token of an earlier write's answer: this read then sees that write (on a standby that has replayed it, else on the primary)")),
    responses((status = 200, description = "One page of observations", body = Page<Hurricane>), (status = "default", description = "An error: 400 unreadable, 403 not allowed for this login, 404 not found, 409 conflict, 413 body too large, 415 not JSON, 422 refused value, 503 database unavailable", body = ErrorBody)))]
async fn search(
    State(db): State<Db>,
    Params(query): Params<params::SearchParams>,
    headers: HeaderMap,
) -> Result<Json<Page<Hurricane>>, ApiError> {
    let f = Filter::from(query);
    // Refused before a connection is taken (a latitude of 1e131000 would otherwise
    // cost the server a comparison with a 131,000-digit number on every row).
    f.validate()?;
    let after = read_session(&db, &headers)?;
    Ok(Json(
        read(db, after, move |c| queries::search(c, &f)).await?,
    ))
}

#[utoipa::path(get, path = "/storms", tag = "storms",
    params(params::StormParams, ("X-Read-Token" = Option<String>, Header, pattern = "^[0-9a-fA-F]{16}$", description = "The X-Read-Token of an earlier write's answer: this read then sees that write (on a standby that has replayed it, else on the primary)")),
    responses((status = 200, description = "Storms, strongest first", body = Vec<Storm>), (status = "default", description = "An error: 400 unreadable, 403 not allowed for this login, 404 not found, 409 conflict, 413 body too large, 415 not JSON, 422 refused value, 503 database unavailable", body = ErrorBody)))]
async fn storms(
    State(db): State<Db>,
    Params(query): Params<params::StormParams>,
    headers: HeaderMap,
) -> Result<Json<Vec<Storm>>, ApiError> {
    let f = StormFilter::from(query);
    f.validate()?;
    let after = read_session(&db, &headers)?;
    Ok(Json(
        read(db, after, move |c| queries::storms(c, &f)).await?,
    ))
}

#[utoipa::path(get, path = "/storms/near", tag = "storms",
    params(params::NearParams, ("X-Read-Token" = Option<String>, Header, pattern = "^[0-9a-fA-F]{16}$", description = "The X-Read-Token of an earlier write's answer: this read then sees that write (on a standby that has replayed it, else on the primary)")),
    responses((status = 200, description = "Storms that passed within km, closest first", body = Vec<NearStorm>), (status = "default", description = "An error: 400 unreadable, 403 not allowed for this login, 404 not found, 409 conflict, 413 body too large, 415 not JSON, 422 refused value, 503 database unavailable", body = ErrorBody)))]
async fn near(
    State(db): State<Db>,
    Params(query): Params<params::NearParams>,
    headers: HeaderMap,
) -> Result<Json<Vec<NearStorm>>, ApiError> {
    let (One(lat), One(lon), One(km)) = (query.lat, query.lon, query.km);
    let place = Place::new(lat, lon)?;
    let radius = Radius::km(km)?;
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
    params(params::LandfallParams, ("X-Read-Token" = Option<String>, Header, pattern = "^[0-9a-fA-F]{16}$", description = "The X-Read-Token of an earlier write's answer: this read then sees that write (on a standby that has replayed it, else on the primary)")),
    responses((status = 200, description = "Storms with landfalls (HURDAT2 record identifier L), each with its landfall records, in time order", body = Vec<StormLandfalls>), (status = "default", description = "An error: 400 unreadable, 403 not allowed for this login, 404 not found, 409 conflict, 413 body too large, 415 not JSON, 422 refused value, 503 database unavailable", body = ErrorBody)))]
async fn landfalls(
    State(db): State<Db>,
    Params(query): Params<params::LandfallParams>,
    headers: HeaderMap,
) -> Result<Json<Vec<StormLandfalls>>, ApiError> {
    let f = LandfallFilter::from(query);
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
/// workers serving other requests. At most one thread per pooled connection: a
/// request waits (without a thread) for a permit of the router's gate, 503 after the
/// pool's checkout timeout. The work is bounded by [`Limits::request_timeout`]: past
/// it the answer is 503 while the thread, still holding its permit, waits for libpq.
async fn blocking<T, F>(work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> hurricane_db::Result<T> + Send + 'static,
{
    let gate = limits::GATE.try_with(Clone::clone).ok();
    let permit = match &gate {
        Some(gate) => Some(gate.db().await?),
        None => None,
    };
    let mut task = tokio::task::spawn_blocking(work);
    let bound = gate.map_or(std::time::Duration::MAX, |g| g.request_timeout);
    let finished = tokio::time::timeout(bound, &mut task).await;
    if finished.is_ok() {
        // Given back once the thread is done (and free for the next task), so the
        // next holder reuses it rather than starting another.
        drop(permit);
    } else {
        // The thread is still inside libpq: its permit stays taken until it returns.
        tokio::spawn(async move {
            let _ = task.await;
            drop(permit);
        });
    }
    match finished {
        Ok(Ok(result)) => result.map_err(ApiError::Db),
        Ok(Err(join)) => {
            tracing::error!("database work failed: {join}");
            Err(ApiError::Status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error".into(),
            ))
        }
        Err(_) => {
            tracing::error!(
                "database work still unanswered after {:.1} s",
                bound.as_secs_f64()
            );
            Err(ApiError::Status(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "database unavailable: no answer within {:.1} s (a write may or may not \
                     have been made)",
                    bound.as_secs_f64()
                ),
            ))
        }
    }
}

/// Runs CPU work (drawing a picture) on a blocking thread, at most one per core,
/// after any database connection has been given back.
async fn cpu<T, F>(work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> hurricane_db::Result<T> + Send + 'static,
{
    let permit = match limits::GATE.try_with(Clone::clone) {
        Ok(gate) => Some(gate.render().await?),
        Err(_) => None,
    };
    let done = tokio::task::spawn_blocking(work).await;
    drop(permit);
    match done {
        Ok(result) => result.map_err(ApiError::Db),
        Err(join) => {
            tracing::error!("drawing failed: {join}");
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
/// else on the primary. Without: one statement wherever reads go (`Db::read_statement`).
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

pub(crate) fn bad(message: impl Into<String>) -> ApiError {
    ApiError::Status(StatusCode::BAD_REQUEST, message.into())
}

/// Why a request failed, answered as `{"error": "..."}` by the one `IntoResponse`
/// below, which also decides the status of every library error.
pub(crate) enum ApiError {
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
                    // The server's limit for a statement: the request was too heavy
                    // for now, not malformed.
                    Error::StatementTimeout { .. } => StatusCode::SERVICE_UNAVAILABLE,
                    e if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
                    // Migration, Cluster, Database, Io, and variants added later.
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                if status.is_server_error() {
                    // The server's own words (file paths and all) go to the log only.
                    match &e {
                        Error::InsufficientResources { server_error, .. } => {
                            tracing::error!("{e} ({server_error})")
                        }
                        e => tracing::error!("{}", hurricane_db_chain(e)),
                    }
                }
                // The message and its sources (passwords in them are already masked;
                // a class 53 error's server text, which names paths, is no source),
                // never Debug. An unknown code's message already lists the valid
                // ones; the foreign key behind it is no news to the caller.
                let message = match &e {
                    Error::UnknownCode { .. } => e.to_string(),
                    e => hurricane_db_chain(e),
                };
                (status, message)
            }
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}
