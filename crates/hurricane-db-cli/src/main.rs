//! The `hurricane-db` command line: a thin layer over the library.
//!
//! Every command ends with one summary line on stdout that a script can parse;
//! errors go to stderr as `error: ...` with exit status 1.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

mod args;
mod output;
mod plot;
mod progress;
mod query;
mod releases;
mod users;

use hurricane_db::ingest::{load_path, LoadOptions, LoadSummary};
use hurricane_db::mask_secrets;
use hurricane_db::queries;
use hurricane_db::{Db, MigrationStatus};
use hurricane_db::{Error, Result};
use hurricane_db_testkit::cluster::{self, Cluster, Durability};
use hurricane_db_testkit::private::{self, url_from_env_or_private};

#[derive(Parser)]
#[command(
    name = "hurricane-db",
    version,
    about = "IHW hurricane track database: migrate, load, query, govern"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations (or revert with --revert). Only the database owner can.
    Migrate {
        /// Only compare the database with this release (needs only SELECT): exit 0 when
        /// current, 1 when migrations are pending or the database is newer.
        #[arg(long, conflicts_with = "revert")]
        check: bool,
        /// Revert the most recent migration instead.
        #[arg(long)]
        revert: bool,
        /// With --revert: revert every migration.
        #[arg(long, requires = "revert")]
        all: bool,
    },
    /// Load an IHW CSV file: new FIDs are inserted, changed rows updated, the rest untouched.
    Load {
        /// The IHW CSV file (header FID,YEAR,MONTH,DAY,AD_TIME,BTID,NAME,LAT,LONG,...).
        path: PathBuf,
        /// Load the good rows and write the bad ones, with line and reason, to FILE.
        #[arg(long, value_name = "FILE")]
        quarantine: Option<PathBuf>,
        /// List every bad row, not only the first 10.
        #[arg(long)]
        all_errors: bool,
        /// COPY wire format.
        #[arg(long, value_enum, default_value_t = args::CopyFormatArg::Text)]
        format: args::CopyFormatArg,
        /// Application end user to name in the audit trail.
        #[arg(long, value_name = "NAME")]
        app_user: Option<String>,
        /// Also print the time of each phase (parse, COPY, merge) to stderr.
        #[arg(long)]
        timings: bool,
    },
    /// Migrate, load the bundled sample and print a short analyst report.
    Demo,
    /// Search observations (filters combine with AND; repeated --basin/--cat with OR).
    Query(Box<query::QueryArgs>),
    /// The storm summary, strongest first.
    Storms(query::StormsArgs),
    /// One storm's observations in time order.
    Track {
        btid: i16,
        #[command(flatten)]
        output: query::OutputArgs,
    },
    /// Draw a picture to --out FILE (.svg or .png): track or season map, intensity or
    /// per-year chart.
    Plot {
        #[command(subcommand)]
        what: plot::PlotCommand,
    },
    /// Write storms out as NOAA's HURDAT2 text, the IHW CSV or GeoJSON (RFC 7946: a track
    /// per storm and a point per observation, for QGIS, GeoPandas or ArcGIS); streams,
    /// summary on stderr.
    Export {
        /// Output layout.
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[command(flatten)]
        filter: args::ExportArgs,
        /// Write to FILE instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Storms and their landfall records (HURDAT2 record identifier L), in time order.
    Landfalls(query::LandfallsArgs),
    /// Manage login users of the writer and reader groups.
    User {
        #[command(subcommand)]
        action: users::UserAction,
    },
    /// Print an observation's edits: when, who, and what changed.
    History { fid: i32 },
    /// List the recorded loads (releases): id, time, file, app and db user, counts.
    Loads {
        /// JSON instead of one line per load (summary on stderr).
        #[arg(long)]
        json: bool,
    },
    /// What a load (or every load after one) changed: storm by storm (added or
    /// revised), observation by observation, field by field, from the audit trail.
    Changes {
        /// Only load N (`hurricane-db loads` lists them).
        #[arg(
            long,
            value_name = "N",
            conflicts_with = "since_load",
            required_unless_present = "since_load"
        )]
        load: Option<i64>,
        /// Every load after load N (0: all).
        #[arg(long, value_name = "N")]
        since_load: Option<i64>,
        /// JSON instead of lines (summary on stderr).
        #[arg(long)]
        json: bool,
    },
    /// Storms that passed within KM kilometres of a place.
    Near {
        #[arg(long, allow_hyphen_values = true)]
        lat: f64,
        #[arg(long, allow_hyphen_values = true)]
        lon: f64,
        #[arg(long)]
        km: f64,
        #[command(flatten)]
        output: query::OutputArgs,
    },
    /// Serve the storm browser and the JSON API (see the service crate's docs) on
    /// HURRICANE_DB_ADDR (default 127.0.0.1:8080). With DATABASE_URL it runs as that
    /// login and only checks the schema; without, it migrates the private cluster and
    /// loads the bundled sample into an empty table.
    Serve,
    /// Manage the private PostgreSQL cluster in ./.hurricane-db (used when DATABASE_URL
    /// is unset), and its streaming standbys in ./.hurricane-db/standby-N.
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
}

#[derive(Subcommand)]
enum DbAction {
    /// Print the connection URL (starting the private cluster if needed), for psql "$(...)".
    Url {
        /// The private cluster's TCP URL for this login user instead (password from
        /// PGPASSWORD or a prompt, never in the URL).
        #[arg(long, conflicts_with = "read")]
        user: Option<String>,
        /// The standbys' URLs instead, on one line separated by spaces (nothing when
        /// there are none), for HURRICANE_DB_READ_URLS; starts the private cluster's
        /// standbys. With DATABASE_URL set: HURRICANE_DB_READ_URLS as it is.
        #[arg(long)]
        read: bool,
    },
    /// Start the private cluster (initdb on first use) and the standbys it already has.
    Start {
        /// Also make sure standbys 1..=N exist and stream from it (each in
        /// ./.hurricane-db/standby-<i>, copied with pg_basebackup on first use, with
        /// its own socket there and its own port).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=8))]
        standbys: Option<u8>,
    },
    /// Stop the private cluster and its standbys (standbys first); the data stays.
    Stop,
    /// Whether the private cluster runs, where, and how big it is; with standbys, one
    /// line per node first (role, state, port, size, replay lag, folder).
    Status,
}

/// Entry point of the binary.
fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    // `serve` logs every request (RUST_LOG=info); other commands only warnings.
    init_tracing(if matches!(cli.command, Command::Serve) {
        "info"
    } else {
        "warn"
    });
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // `hurricane-db track 104 | head -5`: the reader has what it wanted.
        Err(e) if is_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // The error and its sources, each once (the library's errors say what they
            // make of a cause and leave the cause's text to the cause).
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            eprintln!("error: {}", output::safe(&text));
            ExitCode::FAILURE
        }
    }
}

/// Whether `e` (or what caused it) is a write to a pipe whose reader has gone.
fn is_closed_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return true;
            }
        }
        next = err.source();
    }
    false
}

/// As Unix tools do, end quietly with status 0 when the reader of stdout closes the
/// pipe. Rust ignores SIGPIPE, so a write then fails with EPIPE: errors we return
/// are caught in `main`; `println!` panics instead, and this hook turns that one
/// panic into a silent exit (any other panic is reported as usual).
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn init_tracing(default_level: &str) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn open_db() -> Result<Db> {
    private::db_from_env_or_private()
}

fn run(cli: Cli) -> Result<()> {
    let started = Instant::now();
    match cli.command {
        Command::Migrate { check, revert, all } => {
            let db = open_db()?;
            eprintln!("server: {}", db.server());
            if check {
                let status = db.migration_status()?;
                println!(
                    "migrate --check: {status} in {:.2} s",
                    started.elapsed().as_secs_f64()
                );
                if status != MigrationStatus::Current {
                    return Err(Error::SchemaNotCurrent {
                        message: "schema not current: run `hurricane-db migrate` as the \
                                  database owner"
                            .into(),
                        source: None,
                    });
                }
            } else if revert {
                let reverted = if all {
                    db.revert_all_migrations()?
                } else {
                    vec![db.revert_last_migration()?]
                };
                for v in &reverted {
                    eprintln!("reverted {v}");
                }
                println!(
                    "migrate: {} reverted, {} pending in {:.2} s",
                    reverted.len(),
                    db.pending_migrations()?.len(),
                    started.elapsed().as_secs_f64()
                );
            } else {
                let applied = db.run_pending_migrations()?;
                for v in &applied {
                    eprintln!("applied {v}");
                }
                // One look at the migration table gives what is still pending and
                // whether a newer release migrated this database (Diesel skips
                // versions it does not know; the data team should hear of them).
                let pending = match db.migration_status()? {
                    MigrationStatus::Pending(names) => names.len(),
                    MigrationStatus::DatabaseNewer(unknown) => {
                        eprintln!(
                            "warning: the database has migrations this hurricane-db does not \
                             know ({}): a newer release migrated it",
                            unknown.join(", ")
                        );
                        0
                    }
                    _ => 0,
                };
                println!(
                    "migrate: {} applied, {pending} pending in {:.2} s",
                    applied.len(),
                    started.elapsed().as_secs_f64()
                );
            }
        }
        Command::Load {
            path,
            quarantine,
            all_errors,
            format,
            app_user,
            timings,
        } => {
            let db = open_db()?;
            eprintln!("server: {}", db.server());
            let mut options = LoadOptions::new()
                .max_errors((!all_errors).then_some(10))
                .format(format.into());
            options.quarantine = quarantine;
            options.app_user = app_user;
            options.progress = progress::terminal();
            let summary = report_load(load_path(&db, &path, &options), started)?;
            if timings {
                eprintln!("{}", summary.phases());
            }
        }
        Command::Demo => demo(started)?,
        Command::Serve => serve()?,
        Command::User { action } => users::run(&open_db()?, action)?,
        Command::History { fid } => users::history(&open_db()?, fid)?,
        Command::Loads { json } => releases::loads(&open_db()?, json)?,
        Command::Changes {
            load,
            since_load,
            json,
        } => releases::changes(&open_db()?, load, since_load, json)?,
        Command::Query(args) => query::query(open_db, &args)?,
        Command::Storms(args) => query::storms(open_db, &args)?,
        Command::Track { btid, output } => query::track(&open_db()?, btid, output)?,
        Command::Plot { what } => plot::run(open_db, what)?,
        Command::Landfalls(args) => query::landfalls(&open_db()?, &args)?,
        Command::Export {
            format,
            filter,
            output,
        } => export(&open_db()?, format, &filter.into(), output.as_deref())?,
        Command::Near {
            lat,
            lon,
            km,
            output,
        } => query::near(&open_db()?, lat, lon, km, output)?,
        Command::Db { action } => {
            let dir = PathBuf::from(cluster::DEFAULT_DIR);
            match action {
                DbAction::Url {
                    user: None,
                    read: false,
                } => {
                    let url = url_from_env_or_private()?;
                    let from = match hurricane_db::database_url_from_env()? {
                        Some(_) => "DATABASE_URL".to_string(),
                        None => format!("the private cluster in {}", dir.display()),
                    };
                    eprintln!("server: {} (from {from})", mask_secrets(&url));
                    println!("{url}");
                }
                DbAction::Url { read: true, .. } => {
                    let urls: Vec<String> = if hurricane_db::database_url_from_env()?.is_some() {
                        let builder = hurricane_db::Db::builder().override_from_env()?;
                        eprintln!("standbys: from HURRICANE_DB_READ_URLS (DATABASE_URL is set)");
                        builder.read_urls
                    } else {
                        start_standbys(&dir, None)?
                            .1
                            .iter()
                            .map(|(_, s)| s.url(cluster::DEFAULT_DATABASE))
                            .collect()
                    };
                    if urls.is_empty() {
                        eprintln!(
                            "no standbys (make some with `hurricane-db db start --standbys N`)"
                        );
                    } else {
                        println!("{}", urls.join(" "));
                    }
                }
                DbAction::Url {
                    user: Some(user), ..
                } => {
                    if hurricane_db::database_url_from_env()?.is_some() {
                        return Err(Error::InvalidInput(
                            "--user: only for the private cluster (DATABASE_URL is set)".into(),
                        ));
                    }
                    hurricane_db::roles::check_user_name(&user)?;
                    let c = Cluster::ensure(&dir, Durability::Durable)?;
                    let url = c.tcp_url(&user, cluster::DEFAULT_DATABASE);
                    eprintln!("server: {url} (the private cluster in {})", dir.display());
                    println!("{url}");
                }
                DbAction::Start { standbys } => {
                    let (c, standbys) = start_standbys(&dir, standbys.map(usize::from))?;
                    for (i, s) in &standbys {
                        eprintln!(
                            "standby {i}: running in {} on port {}",
                            s.dir().display(),
                            s.port()
                        );
                    }
                    let with = match standbys.len() {
                        0 => String::new(),
                        n => format!(" and {n} standby{}", plural(n)),
                    };
                    println!(
                        "db start: running in {} on port {}{with} in {:.2} s",
                        c.dir().display(),
                        c.port(),
                        started.elapsed().as_secs_f64()
                    );
                }
                DbAction::Status => db_status(&dir)?,
                DbAction::Stop => {
                    let mut standbys_stopped = 0;
                    for (_, standby) in standby_dirs(&dir) {
                        if Cluster::stop(&standby)? {
                            standbys_stopped += 1;
                        }
                    }
                    let was_running = Cluster::stop(&dir)?;
                    let with = match standbys_stopped {
                        0 => String::new(),
                        n if was_running => format!(" (and {n} standby{})", plural(n)),
                        n => format!(" (stopped {n} standby{})", plural(n)),
                    };
                    println!(
                        "db stop: {}{with} in {:.2} s",
                        if was_running {
                            "stopped"
                        } else {
                            "was not running"
                        },
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        }
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The private cluster's standby folders (`<dir>/standby-<i>`), by `i`.
fn standby_dirs(dir: &Path) -> Vec<(usize, PathBuf)> {
    let mut found: Vec<(usize, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let i = name.to_str()?.strip_prefix("standby-")?.parse().ok()?;
            Some((i, e.path()))
        })
        .collect();
    found.sort();
    found
}

/// Starts the private cluster in `dir` and every standby it has; with `Some(n)`, makes
/// standbys 1..=n first where missing. Without any standby (and no `n`), starts nothing.
fn start_standbys(dir: &Path, n: Option<usize>) -> Result<(Cluster, Vec<(usize, Cluster)>)> {
    let mut wanted: std::collections::BTreeSet<usize> = standby_dirs(dir)
        .into_iter()
        .filter(|(_, d)| d.join("data/PG_VERSION").exists())
        .map(|(i, _)| i)
        .collect();
    wanted.extend(1..=n.unwrap_or(0));
    let primary = Cluster::ensure(dir, Durability::Durable)?;
    let standbys = wanted
        .into_iter()
        .map(|i| {
            let standby_dir = dir.join(format!("standby-{i}"));
            Ok((i, primary.add_standby(standby_dir, Durability::Durable)?))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((primary, standbys))
}

/// `db status`: with standbys, one line per node, then the summary line.
fn db_status(dir: &Path) -> Result<()> {
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let status = Cluster::status(dir)?;
    let standbys = standby_dirs(dir);
    let primary = Cluster::running(dir)?;
    let node_line = |role: &str, s: &cluster::ClusterStatus, lag: &str| {
        println!(
            "{role:<8} {:<8} port {:<6} {:>9.1} MiB  lag {lag:<12} {}",
            if s.port.is_some() {
                "running"
            } else if s.initialized {
                "stopped"
            } else {
                "missing"
            },
            s.port.map_or("-".to_string(), |p| p.to_string()),
            mib(s.size_bytes),
            s.dir.display()
        );
    };
    let mut running = 0;
    if !standbys.is_empty() {
        node_line("primary", &status, "-");
        for (_, standby_dir) in &standbys {
            let s = Cluster::status(standby_dir)?;
            let lag = match (Cluster::running(standby_dir)?, &primary) {
                (Some(standby), Some(primary)) => {
                    running += 1;
                    match standby.replay_lag_bytes(primary) {
                        Ok(Some(bytes)) => format!("{bytes} B"),
                        _ => "?".to_string(),
                    }
                }
                (Some(_), None) => {
                    running += 1;
                    "?".to_string()
                }
                (None, _) => "-".to_string(),
            };
            node_line(if s.standby { "standby" } else { "promoted" }, &s, &lag);
        }
    }
    let nodes = match standbys.len() {
        0 => String::new(),
        n => format!("; {running} of {n} standby{} running", plural(n)),
    };
    let size = mib(status.size_bytes);
    match status.port {
        Some(port) => println!(
            "db status: running in {} on port {port}, {size:.1} MiB{nodes}",
            status.dir.display()
        ),
        None if status.initialized => println!(
            "db status: stopped in {}, {size:.1} MiB{nodes}",
            status.dir.display()
        ),
        None => println!(
            "db status: no private cluster in {}{nodes}",
            status.dir.display()
        ),
    }
    Ok(())
}

/// `hurricane-db export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ExportFormat {
    /// NOAA's HURDAT2 text (CRLF, NOAA's column layout).
    Hurdat2,
    /// The IHW CSV layout.
    Ihw,
    /// GeoJSON (RFC 7946): one FeatureCollection, WGS 84 longitude/latitude.
    Geojson,
}

fn export(
    db: &Db,
    format: ExportFormat,
    filter: &hurricane_db::export::ExportFilter,
    output: Option<&Path>,
) -> Result<()> {
    use hurricane_db::export::{export_geojson, export_hurdat2, export_ihw};
    let mut out: Box<dyn std::io::Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| Error::io(path, e))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let summary = db.read(|conn| match format {
        ExportFormat::Hurdat2 => export_hurdat2(conn, filter, &mut out),
        ExportFormat::Ihw => export_ihw(conn, filter, &mut out),
        ExportFormat::Geojson => export_geojson(conn, filter, &mut out),
    })?;
    eprintln!("{summary}");
    Ok(())
}

/// Prints a load's summary line; for a rejected file, its errors on stderr and a
/// summary saying nothing was written.
fn report_load(result: Result<LoadSummary>, started: Instant) -> Result<LoadSummary> {
    match result {
        Ok(summary) => {
            println!("{summary}");
            Ok(summary)
        }
        Err(Error::Rejected(rejected)) => {
            eprintln!("error: {}", output::safe(&rejected.to_string()));
            let name = &rejected.source;
            println!(
                "rejected {name}: {} rows, 0 inserted, 0 updated, 0 unchanged, {} rejected, nothing written in {:.2} s",
                rejected.good_rows + rejected.total,
                rejected.total,
                started.elapsed().as_secs_f64()
            );
            Err(Error::InvalidInput(format!("{name}: load refused")))
        }
        Err(e) => Err(e),
    }
}

/// The bundled sample: complete tracks of 1851, 2005, 2014 and 2016 from the IHW layout.
const SAMPLE: &[u8] = include_bytes!("../../../data/storm_sample.csv");

/// `hurricane-db serve`: prepares the database (blocking, before any async runtime
/// exists), then hands it to the service crate.
fn serve() -> Result<()> {
    let is_private = hurricane_db::database_url_from_env()?.is_none();
    let db = private::db_checked_or_private(hurricane_db_service::options_from_env()?)?;
    if is_private && db.read_statement(queries::count)? == 0 {
        let summary = load_sample(&db)?;
        tracing::info!("empty table: {summary}");
    }
    let addr = std::env::var("HURRICANE_DB_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());
    hurricane_db_service::serve(db, &addr).map_err(|e| Error::InvalidInput(format!("serve: {e}")))
}

/// Loads the bundled sample in one transaction, named `load:storm_sample.csv`.
fn load_sample(db: &Db) -> Result<LoadSummary> {
    let options = LoadOptions::new();
    let app_user = hurricane_db::ingest::default_app_user("storm_sample.csv");
    db.transaction_as(&app_user, |conn| {
        hurricane_db::ingest::load_reader(
            conn,
            SAMPLE,
            "storm_sample.csv",
            SAMPLE.len() as u64,
            &options,
        )
    })
}

fn demo(started: Instant) -> Result<()> {
    let db = open_db()?;
    let applied = db.run_pending_migrations()?;
    eprintln!("migrations: {} applied", applied.len());
    let summary = load_sample(&db)?;
    eprintln!("{summary}");
    let (total, basins, strongest) = db.read(|conn| {
        Ok::<_, hurricane_db::Error>((
            queries::count(conn)?,
            queries::storms_per_basin(conn)?,
            queries::strongest_storms(conn, 10)?,
        ))
    })?;
    println!("observations: {total}");
    println!();
    println!("{:<16} {:>7} {:>13}", "basin", "storms", "observations");
    for b in &basins {
        println!("{:<16} {:>7} {:>13}", b.basin, b.storms, b.observations);
    }
    println!();
    println!("ten strongest storms by peak wind");
    println!(
        "{:>3}  {:<10} {:>4}  {:<16} {:>9} {:>8}",
        "#", "name", "year", "basin", "peak kts", "min mb"
    );
    for (i, s) in strongest.iter().enumerate() {
        println!(
            "{:>3}  {:<10} {:>4}  {:<16} {:>9} {:>8}",
            i + 1,
            output::safe(&s.name),
            s.year,
            s.basin,
            s.peak_wind_kts,
            s.min_pressure.map_or("-".into(), |p: i16| p.to_string())
        );
    }
    println!();
    if hurricane_db::database_url_from_env()?.is_none() {
        let dir = std::env::current_dir()
            .map(|d| d.join(hurricane_db_testkit::cluster::DEFAULT_DIR))
            .unwrap_or_else(|_| PathBuf::from(hurricane_db_testkit::cluster::DEFAULT_DIR));
        println!(
            "The database is a private PostgreSQL cluster in {}",
            dir.display()
        );
        println!("(connect with: psql \"$(hurricane-db db url)\"). Its server keeps running;");
        println!("stop it with `hurricane-db db stop` (the data stays; any command restarts it).");
    } else {
        println!("The database is {} (DATABASE_URL).", db.server());
    }
    println!("Try next:");
    println!("  hurricane-db track 104 --csv        # KATRINA 2005, every observation");
    println!(
        "  hurricane-db serve                  # the storm explorer on http://127.0.0.1:8080/"
    );
    println!();
    println!(
        "demo: {total} observations, {} storms, {} inserted, {} updated, {} unchanged in {:.2} s",
        basins.iter().map(|b| b.storms).sum::<i64>(),
        summary.inserted,
        summary.updated,
        summary.unchanged,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
