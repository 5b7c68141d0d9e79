//! `hurricane-db plot`: pictures written to a file, SVG or PNG by its extension.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Subcommand;

use hurricane_db::plot;
use hurricane_db::Db;
use hurricane_db::{Error, Result};

/// The pictures.
#[derive(Subcommand, Debug, Clone)]
pub enum PlotCommand {
    /// A map of storm tracks coloured by Saffir-Simpson category.
    Track {
        /// Storm IDs (BTID); several storms share one map.
        #[arg(required = true, value_name = "BTID")]
        btids: Vec<i16>,
        #[command(flatten)]
        out: OutArg,
    },
    /// Every track of a season (storms whose first observation is in YEAR) on one map.
    Season {
        year: i32,
        /// Only this basin (any case: "north atlantic").
        #[arg(long)]
        basin: Option<String>,
        #[command(flatten)]
        out: OutArg,
    },
    /// A storm's wind (kt) and pressure (mb) over time, on the category bands.
    Intensity {
        btid: i16,
        #[command(flatten)]
        out: OutArg,
    },
    /// Storms per year by basin: tropical storms, hurricanes and major hurricanes.
    PerYear {
        /// Only this basin (any case).
        #[arg(long)]
        basin: Option<String>,
        /// First year.
        #[arg(long)]
        from: Option<i32>,
        /// Last year.
        #[arg(long)]
        to: Option<i32>,
        #[command(flatten)]
        out: OutArg,
    },
}

/// Where the picture goes.
#[derive(clap::Args, Debug, Clone)]
pub struct OutArg {
    /// The file to write: .svg or .png (any case). Written whole or not at all.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Svg,
    Png,
}

impl Kind {
    fn of(path: &Path) -> Result<Kind> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("svg") => Ok(Kind::Svg),
            Some("png") => Ok(Kind::Png),
            _ => Err(Error::InvalidInput(format!(
                "--out {}: expected a file name ending in .svg or .png",
                path.display()
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Svg => "svg",
            Kind::Png => "png",
        }
    }
}

pub fn run(db: impl FnOnce() -> Result<Db>, command: PlotCommand) -> Result<()> {
    let out = match &command {
        PlotCommand::Track { out, .. }
        | PlotCommand::Season { out, .. }
        | PlotCommand::Intensity { out, .. }
        | PlotCommand::PerYear { out, .. } => out.out.clone(),
    };
    // Everything that can be checked without the database first.
    let kind = Kind::of(&out)?;
    let png = match kind {
        Kind::Png => Some(PngRenderer::new()?),
        Kind::Svg => None,
    };
    let db = db()?;
    let (svg, what) = match command {
        PlotCommand::Track { btids, .. } => {
            let tracks = db.read(|conn| plot::load_tracks(conn, &btids))?;
            let svg = plot::render_track_map(&plot::tracks_title(&tracks), &tracks)?;
            (svg, storms_and_observations(&tracks))
        }
        PlotCommand::Season { year, basin, .. } => {
            let tracks = db.read(|conn| plot::load_season(conn, year, basin.as_deref()))?;
            let title = plot::season_title(year, basin.as_deref(), tracks.len());
            let svg = plot::render_track_map(&title, &tracks)?;
            (svg, storms_and_observations(&tracks))
        }
        PlotCommand::Intensity { btid, .. } => {
            let tracks = db.read(|conn| plot::load_tracks(conn, &[btid]))?;
            let track = tracks
                .first()
                .ok_or_else(|| Error::NotFound(format!("storm with BTID {btid}")))?;
            let svg = plot::render_intensity_chart(track)?;
            (svg, storms_and_observations(&tracks))
        }
        PlotCommand::PerYear {
            basin, from, to, ..
        } => {
            let rows = db.read(|conn| plot::load_year_counts(conn, basin.as_deref(), from, to))?;
            if rows.is_empty() {
                return Err(Error::NotFound(plot::no_storms_message(
                    basin.as_deref(),
                    from,
                    to,
                )));
            }
            let svg =
                plot::render_per_year_chart(&plot::per_year_title(basin.as_deref(), &rows), &rows)?;
            let mut years: Vec<i32> = rows.iter().map(|r| r.year).collect();
            years.dedup();
            let storms: i64 = rows.iter().map(|r| r.storms).sum();
            (svg, format!("{} years, {storms} storms", years.len()))
        }
    };
    let bytes = match &png {
        Some(r) => r.render(&svg)?,
        None => svg.into_bytes(),
    };
    write_atomically(&out, &bytes)?;
    println!(
        "plot: wrote {} ({}, {} bytes, {what})",
        out.display(),
        kind.name(),
        bytes.len()
    );
    Ok(())
}

fn storms_and_observations(tracks: &[plot::Track]) -> String {
    let obs: usize = tracks.iter().map(|t| t.points.len()).sum();
    format!(
        "{} storm{}, {obs} observations",
        tracks.len(),
        if tracks.len() == 1 { "" } else { "s" }
    )
}

/// Writes `bytes` to a temporary file next to `path`, then renames it over `path`: a
/// failure leaves no half-written picture.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plot".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// SVG to PNG with resvg, text in the system's fonts.
struct PngRenderer {
    options: resvg::usvg::Options<'static>,
}

impl PngRenderer {
    /// Loads the system fonts; fails when there are none (the PNG would have no text).
    fn new() -> Result<PngRenderer> {
        let mut fonts = resvg::usvg::fontdb::Database::new();
        fonts.load_system_fonts();
        let has = |family: &str| {
            fonts
                .faces()
                .any(|f| f.families.iter().any(|(n, _)| n == family))
        };
        let preferred = [
            "DejaVu Sans",
            "Liberation Sans",
            "Noto Sans",
            "Arial",
            "FreeSans",
        ]
        .into_iter()
        .find(|f| has(f))
        .map(str::to_string)
        .or_else(|| {
            fonts
                .faces()
                .find_map(|f| f.families.first().map(|(n, _)| n.clone()))
        })
        .ok_or_else(|| {
            Error::Render(
                "PNG output needs a font and none was found (on Debian: apt-get install \
                     fonts-dejavu-core); .svg output needs none"
                    .into(),
            )
        })?;
        fonts.set_sans_serif_family(preferred.clone());
        let mut options = resvg::usvg::Options {
            font_family: preferred,
            ..Default::default()
        };
        options.fontdb = std::sync::Arc::new(fonts);
        Ok(PngRenderer { options })
    }

    fn render(&self, svg: &str) -> Result<Vec<u8>> {
        let tree = resvg::usvg::Tree::from_str(svg, &self.options)
            .map_err(|e| Error::Render(format!("reading the SVG: {e}")))?;
        let size = tree.size().to_int_size();
        let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
            .ok_or_else(|| Error::Render(format!("a {size:?} image")))?;
        resvg::render(
            &tree,
            resvg::tiny_skia::Transform::default(),
            &mut pixmap.as_mut(),
        );
        pixmap
            .encode_png()
            .map_err(|e| Error::Render(format!("encoding the PNG: {e}")))
    }
}
