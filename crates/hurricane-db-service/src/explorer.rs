//! The storm explorer's data routes: what the database covers (`/coverage`), the land
//! for the map (`/land.geojson`) and downloads of what is on screen
//! (`/export.geojson`, `/export.csv`, `/export.hurdat2`), streamed from the library's
//! writers as they write.

use std::io::{self, Write};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use diesel::prelude::*;
use diesel::PgConnection;
use hurricane_db::export::{self, ExportFilter};
use hurricane_db::schema::hurricanes;
use hurricane_db::{plot, queries, Category, Db};

/// The colour of a category code this build does not know (as the pictures draw it).
const UNKNOWN_COLOUR: &str = "#FF00FF";
use serde::Serialize;
use tokio::sync::mpsc;

use super::params::{ExportParams, Params};
use super::{read, ApiError, ErrorBody};

/// The explorer's data routes, merged into the service's router.
pub fn routes() -> Router<Db> {
    Router::new()
        .route("/coverage", get(coverage))
        .route("/land.geojson", get(land))
        .route("/export.geojson", get(export_geojson))
        .route("/export.csv", get(export_csv))
        .route("/export.hurdat2", get(export_hurdat2))
}

/// What the database holds: the explorer's landing page shows it, and "no results"
/// messages say it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    /// Storms in the database.
    pub storms: i64,
    /// Observations in the database.
    pub observations: i64,
    /// Observations marked as a landfall (HURDAT2 record identifier L; 0 when the data
    /// came from the IHW CSV, which does not carry it).
    pub landfalls: i64,
    /// Each basin with data.
    pub basins: Vec<BasinCoverage>,
    /// Every category code, with its meaning and the colour maps draw it in.
    pub categories: Vec<CategoryInfo>,
}

/// One basin's data.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BasinCoverage {
    /// `North Atlantic`.
    pub name: String,
    /// `AL`.
    pub code: String,
    /// The waters it covers and who tracks them.
    pub description: String,
    /// Storms in the basin.
    pub storms: i64,
    /// Their observations.
    pub observations: i64,
    /// Years with storms, as inclusive runs `[first, last]`: `[[1851, 1851], [2000, 2016]]`.
    pub years: Vec<[i32; 2]>,
}

/// One category code.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryInfo {
    /// `H3`, `TS`, `ST`, ...
    pub code: String,
    /// What it means (the `categories` table).
    pub meaning: String,
    /// Its legend entry: `Category 3 (H3)`, `Super typhoon, 130 kt+ (ST)`.
    pub group: String,
    /// The colour maps draw it in, `#A13A00` (`Category::hex`).
    pub colour: String,
    /// Saffir-Simpson order: TD 1 .. H5 7; other codes 0.
    pub rank: u8,
}

fn load_coverage(conn: &mut PgConnection) -> hurricane_db::Result<Coverage> {
    let counts = queries::storms_per_basin(conn)?;
    let per_year = queries::storms_per_year(conn)?;
    let landfalls: i64 = hurricanes::table
        .filter(hurricanes::record_id.eq("L"))
        .count()
        .get_result(conn)?;
    let mut basins = Vec::new();
    for b in queries::basins(conn)? {
        let Some(c) = counts.iter().find(|c| c.basin == b.name) else {
            continue;
        };
        let mut years: Vec<[i32; 2]> = Vec::new();
        for y in per_year.iter().filter(|y| y.basin == b.name) {
            match years.last_mut() {
                Some(run) if run[1] + 1 == y.year => run[1] = y.year,
                _ => years.push([y.year, y.year]),
            }
        }
        basins.push(BasinCoverage {
            name: b.name,
            code: b.code,
            description: b.description,
            storms: c.storms,
            observations: c.observations,
            years,
        });
    }
    let categories = queries::categories(conn)?
        .into_iter()
        .map(|c| {
            // The library's enum gives every code its label and colour; a code a newer
            // migration added and this build does not know is drawn as the pictures
            // draw it (magenta), under its own code.
            let known = Category::from_code(&c.code);
            CategoryInfo {
                rank: known.and_then(Category::scale_rank).unwrap_or(0),
                group: known.map_or_else(|| c.code.clone(), |k| k.label().to_string()),
                colour: known.map_or(UNKNOWN_COLOUR, Category::hex).to_string(),
                code: c.code,
                meaning: c.meaning,
            }
        })
        .collect();
    Ok(Coverage {
        storms: basins.iter().map(|b| b.storms).sum(),
        observations: basins.iter().map(|b| b.observations).sum(),
        landfalls,
        basins,
        categories,
    })
}

#[utoipa::path(get, path = "/coverage", tag = "explorer",
    responses((status = 200, description = "What the database covers: basins with their years, storm and observation counts, and every category code with its meaning and map colour", body = Coverage), (status = "default", description = "An error: 503 database unavailable", body = ErrorBody)))]
pub async fn coverage(State(db): State<Db>) -> Result<Json<Coverage>, ApiError> {
    Ok(Json(read(db, None, load_coverage).await?))
}

#[utoipa::path(get, path = "/land.geojson", tag = "explorer",
    responses((status = 200, description = "The world's land (Natural Earth 1:50m) as one GeoJSON MultiPolygon feature: what the explorer's map draws", content_type = "application/geo+json", body = serde_json::Value)))]
pub async fn land() -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    // Part of the binary: it changes only with a new release.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    (headers, plot::land_geojson()).into_response()
}

/// A download's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Geojson,
    Csv,
    Hurdat2,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Geojson => "geojson",
            Format::Csv => "csv",
            Format::Hurdat2 => "txt",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Geojson => "application/geo+json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Hurdat2 => "text/plain; charset=utf-8",
        }
    }
}

/// A file name that says what the download holds: `season-2005-north-atlantic`,
/// `storm-1303`, `storms-3`, `storms`.
fn file_stem(f: &ExportFilter) -> String {
    let slug = |s: &str| {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect::<String>()
    };
    match (f.btids.as_slice(), f.year_from, f.year_to) {
        ([one], ..) => format!("storm-{one}"),
        ([], Some(a), Some(b)) if a == b && f.name.is_none() && f.min_wind.is_none() => {
            match &f.basin {
                Some(basin) => format!("season-{a}-{}", slug(basin)),
                None => format!("season-{a}"),
            }
        }
        ([], ..) => "storms".into(),
        (many, ..) => format!("storms-{}", many.len()),
    }
}

/// `io::Write` into the response body: chunks of at least 64 KiB (or what is left at
/// the end) go over a small channel, so a slow reader slows the export instead of
/// the export filling memory.
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
    sent: bool,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.sent = true;
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 * 1024 {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

#[utoipa::path(get, path = "/export.geojson", tag = "downloads",
    params(ExportParams),
    responses((status = 200, description = "RFC 7946 GeoJSON: a Point per observation, a LineString (MultiLineString across the antimeridian) per storm", content_type = "application/geo+json", body = serde_json::Value), (status = "default", description = "An error: 400 unreadable, 422 refused value, 503 database unavailable", body = ErrorBody)))]
pub async fn export_geojson(
    db: State<Db>,
    Params(query): Params<ExportParams>,
) -> Result<Response, ApiError> {
    download(db, query, Format::Geojson).await
}

#[utoipa::path(get, path = "/export.csv", tag = "downloads",
    params(ExportParams),
    responses((status = 200, description = "The IHW CSV layout (header FID,YEAR,MONTH,DAY,AD_TIME,BTID,NAME,...)", content_type = "text/csv", body = String), (status = "default", description = "An error: 400 unreadable, 422 refused value, 503 database unavailable", body = ErrorBody)))]
pub async fn export_csv(
    db: State<Db>,
    Params(query): Params<ExportParams>,
) -> Result<Response, ApiError> {
    download(db, query, Format::Csv).await
}

#[utoipa::path(get, path = "/export.hurdat2", tag = "downloads",
    params(ExportParams),
    responses((status = 200, description = "NOAA's HURDAT2 text; storms without an ATCF id (loaded from the IHW CSV) are left out", content_type = "text/plain", body = String), (status = "default", description = "An error: 400 unreadable, 422 refused value, 503 database unavailable", body = ErrorBody)))]
pub async fn export_hurdat2(
    db: State<Db>,
    Params(query): Params<ExportParams>,
) -> Result<Response, ApiError> {
    download(db, query, Format::Hurdat2).await
}

/// Streams the export: the first chunk (or the error, when the filter is refused
/// before anything is written) decides the status; a failure after that cuts the
/// body short, as a broken download.
async fn download(
    State(db): State<Db>,
    query: ExportParams,
    format: Format,
) -> Result<Response, ApiError> {
    let f = ExportFilter::try_from(query)?;
    let file = format!("{}.{}", file_stem(&f), format.extension());
    let (tx, mut rx) = mpsc::channel::<io::Result<Bytes>>(4);
    let what = file.clone();
    let task = tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            tx,
            buf: Vec::with_capacity(64 * 1024),
            sent: false,
        };
        let result = db.read(|conn| match format {
            Format::Geojson => export::export_geojson(conn, &f, &mut out),
            Format::Csv => export::export_ihw(conn, &f, &mut out),
            Format::Hurdat2 => export::export_hurdat2(conn, &f, &mut out),
        });
        if let Err(e) = &result {
            if out.sent {
                tracing::error!("download {what} cut short: {e}");
                let _ = out.tx.blocking_send(Err(io::Error::other(e.to_string())));
            }
        }
        result
    });
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let first = match rx.recv().await {
        Some(chunk) => chunk,
        None => {
            return match task.await {
                Ok(Err(e)) => Err(ApiError::Db(e)),
                // HURDAT2 of storms loaded from the IHW CSV: nothing to write.
                Ok(Ok(summary)) if summary.storms == 0 && summary.skipped_storms > 0 => {
                    Err(ApiError::Status(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!(
                            "HURDAT2 needs ATCF storm ids, and these {} storms have none (they were loaded from the IHW CSV): download CSV or GeoJSON instead",
                            summary.skipped_storms
                        ),
                    ))
                }
                Ok(Ok(_)) => Ok((headers, Body::empty()).into_response()),
                Err(join) => {
                    tracing::error!("export failed: {join}");
                    Err(ApiError::Status(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal error".into(),
                    ))
                }
            };
        }
    };
    // Most downloads (a storm, a season) fit in one chunk: answered whole, with a
    // Content-Length, rather than as a chunked stream.
    let second = match &first {
        Ok(_) => rx.recv().await,
        Err(_) => None,
    };
    let body = match (first, second) {
        (Ok(whole), None) => Body::from(whole),
        (first, second) => {
            let queued = [Some(first), second];
            let stream = futures_util::stream::unfold(
                (queued, 0, rx),
                |(mut queued, i, mut rx)| async move {
                    if i < queued.len() {
                        if let Some(chunk) = queued[i].take() {
                            return Some((chunk, (queued, i + 1, rx)));
                        }
                    }
                    rx.recv().await.map(|chunk| (chunk, (queued, 2, rx)))
                },
            );
            Body::from_stream(stream)
        }
    };
    Ok((headers, body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query string as the routes read it.
    fn filter(q: &str) -> Result<ExportFilter, String> {
        let message = |e: ApiError| match e {
            ApiError::Status(_, m) => m,
            _ => "other".into(),
        };
        let p: ExportParams = crate::params::parse(q).map_err(message)?;
        ExportFilter::try_from(p).map_err(message)
    }

    #[test]
    fn download_filters_and_names() {
        let f = filter("year=2005&basin=North+Atlantic").unwrap();
        assert_eq!((f.year_from, f.year_to), (Some(2005), Some(2005)));
        assert_eq!(file_stem(&f), "season-2005-north-atlantic");
        let f = filter("btid=1303").unwrap();
        assert_eq!(file_stem(&f), "storm-1303");
        assert_eq!(file_stem(&filter("btid=1&btid=2").unwrap()), "storms-2");
        assert_eq!(file_stem(&filter("name=KAT*").unwrap()), "storms");
        assert_eq!(
            filter("year=abc").unwrap_err(),
            "year \"abc\": expected a year such as 2005"
        );
        assert!(filter("year=2005&year_from=2004").is_err());
        assert!(filter("colour=red")
            .unwrap_err()
            .contains("unknown parameter"));
        assert_eq!(
            filter("year=2005&year=2006").unwrap_err(),
            "year: expected at most once"
        );
        let bad_btid = filter("btid=1&btid=x").unwrap_err();
        assert!(
            bad_btid.contains("\"x\": expected a whole number"),
            "{bad_btid}"
        );
        let many = (0..=1000).map(|b| format!("btid={b}")).collect::<Vec<_>>();
        assert_eq!(
            filter(&many.join("&")).unwrap_err(),
            "btid: expected at most 1000 storms"
        );
    }
}
