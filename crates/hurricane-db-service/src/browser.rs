//! The storm explorer: one HTML page, its script and style sheet, the vendored map
//! library (Leaflet, `assets/vendor/`, see its NOTICE.md), and the pictures it shows
//! (SVG drawn by `hurricane_db::plot`). Everything the page needs comes from
//! this service: the answers carry a Content-Security-Policy that allows nothing from
//! any other origin, so the page works on a machine with no network and cannot be
//! made to load anything foreign.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hurricane_db::{plot, Db};

use super::params::{self, path as parse, Params};
use super::{cpu, read, read_session, ApiError, ErrorBody};

const INDEX_HTML: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");
const FAVICON_SVG: &str = include_str!("../assets/favicon.svg");
const LEAFLET_JS: &str = include_str!("../assets/vendor/leaflet/leaflet.js");
const LEAFLET_CSS: &str = include_str!("../assets/vendor/leaflet/leaflet.css");
const LEAFLET_LICENSE: &str = include_str!("../assets/vendor/leaflet/LICENSE");
const NOTICE: &str = include_str!("../assets/vendor/NOTICE.md");

/// Same origin only; no inline script or style (the page has none), no frames, no
/// plugins. `img-src 'self'` covers the SVG pictures.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The embedded files the page loads: path, content, content type.
const ASSETS: [(&str, &str, &str); 8] = [
    ("/", INDEX_HTML, "text/html; charset=utf-8"),
    ("/assets/app.js", APP_JS, "text/javascript; charset=utf-8"),
    ("/assets/app.css", APP_CSS, "text/css; charset=utf-8"),
    ("/assets/favicon.svg", FAVICON_SVG, "image/svg+xml"),
    (
        "/assets/vendor/leaflet/leaflet.js",
        LEAFLET_JS,
        "text/javascript; charset=utf-8",
    ),
    (
        "/assets/vendor/leaflet/leaflet.css",
        LEAFLET_CSS,
        "text/css; charset=utf-8",
    ),
    (
        "/assets/vendor/leaflet/LICENSE",
        LEAFLET_LICENSE,
        "text/plain; charset=utf-8",
    ),
    (
        "/assets/vendor/NOTICE.md",
        NOTICE,
        "text/plain; charset=utf-8",
    ),
];

/// The browser's routes, merged into the service's router.
pub fn routes() -> Router<Db> {
    ASSETS
        .into_iter()
        .fold(Router::new(), |router, (path, body, content_type)| {
            router.route(path, get(move || async move { asset(body, content_type) }))
        })
        .route("/storms/{btid}/track.svg", get(track_svg))
        .route("/storms/{btid}/intensity.svg", get(intensity_svg))
        .route("/seasons/{file}", get(season_svg))
}

/// A bundled file, with the headers every page answer carries.
fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut headers = page_headers();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    (headers, body).into_response()
}

fn page_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // The data changes with every load or edit: revalidate rather than cache.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers
}

/// An SVG answer. SVG can carry script: served as an image with a policy that runs
/// none, even when opened on its own in a tab.
fn svg(body: String) -> Response {
    let mut headers = page_headers();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    (StatusCode::OK, headers, body).into_response()
}

#[utoipa::path(get, path = "/storms/{btid}/track.svg", tag = "pictures",
    params(("btid" = i16, Path), ("X-Read-Token" = Option<String>, Header, pattern = "^[0-9a-fA-F]{16}$", description = "The X-Read-Token of an earlier write's answer: this read then sees that write")),
    responses((status = 200, description = "A map of the storm's track, coloured by category", content_type = "image/svg+xml", body = String), (status = "default", description = "An error: 400 unreadable, 404 no such storm, 503 database unavailable", body = ErrorBody)))]
pub async fn track_svg(
    State(db): State<Db>,
    Path(btid): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let btid: i16 = parse("btid", &btid)?;
    let after = read_session(&db, &headers)?;
    // Read with a connection, draw without one.
    let tracks = read(db, after, move |c| plot::load_tracks(c, &[btid])).await?;
    Ok(svg(cpu(move || {
        plot::render_track_map(&plot::tracks_title(&tracks), &tracks)
    })
    .await?))
}

#[utoipa::path(get, path = "/storms/{btid}/intensity.svg", tag = "pictures",
    params(("btid" = i16, Path), ("X-Read-Token" = Option<String>, Header, pattern = "^[0-9a-fA-F]{16}$", description = "The X-Read-Token of an earlier write's answer: this read then sees that write")),
    responses((status = 200, description = "Wind and pressure over time, with Saffir-Simpson bands", content_type = "image/svg+xml", body = String), (status = "default", description = "An error: 400 unreadable, 404 no such storm, 503 database unavailable", body = ErrorBody)))]
pub async fn intensity_svg(
    State(db): State<Db>,
    Path(btid): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let btid: i16 = parse("btid", &btid)?;
    let after = read_session(&db, &headers)?;
    let tracks = read(db, after, move |c| plot::load_tracks(c, &[btid])).await?;
    Ok(svg(cpu(move || match tracks.first() {
        Some(track) => plot::render_intensity_chart(track),
        None => Err(hurricane_db::Error::NotFound(format!(
            "storm with BTID {btid}"
        ))),
    })
    .await?))
}

#[utoipa::path(get, path = "/seasons/{year}.svg", tag = "pictures",
    params(("year" = i32, Path), params::SeasonParams, ("X-Read-Token" = Option<String>, Header, pattern = "^[0-9a-fA-F]{16}$", description = "The X-Read-Token of an earlier write's answer: this read then sees that write")),
    responses((status = 200, description = "Every track of the season on one map", content_type = "image/svg+xml", body = String), (status = "default", description = "An error: 400 unreadable, 404 no storm that season, 422 refused value, 503 database unavailable", body = ErrorBody)))]
pub async fn season_svg(
    State(db): State<Db>,
    Path(file): Path<String>,
    Params(query): Params<params::SeasonParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // The router cannot split `{year}.svg` itself: take the segment and its suffix.
    let Some(year) = file.strip_suffix(".svg") else {
        return Err(ApiError::Status(
            StatusCode::NOT_FOUND,
            "no such route (seasons are /seasons/YEAR.svg)".into(),
        ));
    };
    let year: i32 = parse("year", year)?;
    let basin = query.basin();
    let after = read_session(&db, &headers)?;
    let (tracks, basin) = read(db, after, move |c| {
        Ok((plot::load_season(c, year, basin.as_deref())?, basin.clone()))
    })
    .await?;
    Ok(svg(cpu(move || {
        let title = plot::season_title(year, basin.as_deref(), tracks.len());
        plot::render_track_map(&title, &tracks)
    })
    .await?))
}
