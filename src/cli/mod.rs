//! The `hurricane-db` command line: a thin layer over the library.
//!
//! Every command ends with one summary line on stdout that a script can parse;
//! errors go to stderr as `error: ...` with exit status 1.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

mod output;
mod progress;
mod query;
mod users;

use hurricane_db::cluster::{self, Cluster, Durability};
use hurricane_db::db::{url_from_env_or_private, Db, MigrationStatus};
use hurricane_db::error::{Error, Result};
use hurricane_db::ingest::{load_path, CopyFormat, LoadOptions, LoadSummary};
use hurricane_db::mask::mask_secrets;
use hurricane_db::queries;

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
        #[arg(long, value_enum, default_value_t = CopyFormat::Binary)]
        format: CopyFormat,
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
    /// Manage login users of the writer and reader groups.
    User {
        #[command(subcommand)]
        action: users::UserAction,
    },
    /// Print an observation's edits: when, who, and what changed.
    History { fid: i32 },
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
    /// Manage the private PostgreSQL cluster in ./.hurricane-db (used when DATABASE_URL is unset).
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
        #[arg(long)]
        user: Option<String>,
    },
    /// Start the private cluster (initdb on first use).
    Start,
    /// Stop the private cluster; its data stays.
    Stop,
    /// Whether the private cluster runs, where, and how big it is.
    Status,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn open_db() -> Result<Db> {
    Db::from_env_or_private()
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
                    return Err(Error::SchemaNotCurrent(
                        "schema not current: run `hurricane-db migrate` as the database owner"
                            .into(),
                    ));
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
                println!(
                    "migrate: {} applied, {} pending in {:.2} s",
                    applied.len(),
                    db.pending_migrations()?.len(),
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
                .format(format);
            options.quarantine = quarantine;
            options.app_user = app_user;
            options.progress = progress::terminal();
            let summary = report_load(load_path(&db, &path, &options), started)?;
            if timings {
                eprintln!("{}", summary.phases());
            }
        }
        Command::Demo => demo(started)?,
        Command::User { action } => users::run(&open_db()?, action)?,
        Command::History { fid } => users::history(&open_db()?, fid)?,
        Command::Query(args) => query::query(&open_db()?, &args)?,
        Command::Storms(args) => query::storms(&open_db()?, &args)?,
        Command::Track { btid, output } => query::track(&open_db()?, btid, output)?,
        Command::Near {
            lat,
            lon,
            km,
            output,
        } => query::near(&open_db()?, lat, lon, km, output)?,
        Command::Db { action } => {
            let dir = PathBuf::from(cluster::DEFAULT_DIR);
            match action {
                DbAction::Url { user: None } => {
                    let url = url_from_env_or_private()?;
                    let from = match hurricane_db::db::database_url_from_env()? {
                        Some(_) => "DATABASE_URL".to_string(),
                        None => format!("the private cluster in {}", dir.display()),
                    };
                    eprintln!("server: {} (from {from})", mask_secrets(&url));
                    println!("{url}");
                }
                DbAction::Url { user: Some(user) } => {
                    if hurricane_db::db::database_url_from_env()?.is_some() {
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
                DbAction::Start => {
                    let c = Cluster::ensure(&dir, Durability::Durable)?;
                    println!(
                        "db start: running in {} on port {} in {:.2} s",
                        c.dir().display(),
                        c.port(),
                        started.elapsed().as_secs_f64()
                    );
                }
                DbAction::Status => {
                    let status = Cluster::status(&dir)?;
                    let size = status.size_bytes as f64 / (1024.0 * 1024.0);
                    match status.port {
                        Some(port) => println!(
                            "db status: running in {} on port {port}, {size:.1} MiB",
                            status.dir.display()
                        ),
                        None if status.initialized => println!(
                            "db status: stopped in {}, {size:.1} MiB",
                            status.dir.display()
                        ),
                        None => {
                            println!("db status: no private cluster in {}", status.dir.display())
                        }
                    }
                }
                DbAction::Stop => {
                    let was_running = Cluster::stop(&dir)?;
                    println!(
                        "db stop: {} in {:.2} s",
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

/// Prints a load's summary line; for a rejected file, its errors on stderr and a
/// summary saying nothing was written.
fn report_load(result: Result<LoadSummary>, started: Instant) -> Result<LoadSummary> {
    match result {
        Ok(summary) => {
            println!("{summary}");
            Ok(summary)
        }
        Err(Error::Rejected(rejected)) => {
            eprintln!("error: {rejected}");
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
const SAMPLE: &[u8] = include_bytes!("../../data/storm_sample.csv");

fn demo(started: Instant) -> Result<()> {
    let db = open_db()?;
    let applied = db.run_pending_migrations()?;
    eprintln!("migrations: {} applied", applied.len());
    let options = LoadOptions::new();
    let summary = db.transaction(|conn| {
        hurricane_db::ingest::load_reader(
            conn,
            SAMPLE,
            "storm_sample.csv",
            SAMPLE.len() as u64,
            &options,
        )
    })?;
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
            s.name,
            s.year,
            s.basin,
            s.peak_wind_kts,
            s.min_pressure.map_or("-".into(), |p: i16| p.to_string())
        );
    }
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
