//! The `hurricane-db` command line: a thin layer over the library.
//!
//! Every command ends with one summary line on stdout that a script can parse;
//! errors go to stderr as `error: ...` with exit status 1.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use crate::cluster::{self, Cluster, Durability};
use crate::db::{url_from_env_or_private, Db, DbOptions};
use crate::error::Result;

#[derive(Parser)]
#[command(name = "hurricane-db", version, about = "IHW hurricane track database: migrate, load, query, govern")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations (or revert with --revert).
    Migrate {
        /// Revert the most recent migration instead.
        #[arg(long)]
        revert: bool,
        /// With --revert: revert every migration.
        #[arg(long, requires = "revert")]
        all: bool,
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
    Url,
    /// Start the private cluster (initdb on first use).
    Start,
    /// Stop the private cluster; its data stays.
    Stop,
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
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn open_db() -> Result<Db> {
    Db::connect_with(&url_from_env_or_private()?, DbOptions::from_env()?)
}

fn run(cli: Cli) -> Result<()> {
    let started = Instant::now();
    match cli.command {
        Command::Migrate { revert, all } => {
            let db = open_db()?;
            if revert {
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
                    "migrate: {} applied, 0 pending in {:.2} s",
                    applied.len(),
                    started.elapsed().as_secs_f64()
                );
            }
        }
        Command::Db { action } => {
            let dir = PathBuf::from(cluster::DEFAULT_DIR);
            match action {
                DbAction::Url => {
                    println!("{}", url_from_env_or_private()?);
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
                DbAction::Stop => {
                    let was_running = Cluster::stop(&dir)?;
                    println!(
                        "db stop: {} in {:.2} s",
                        if was_running { "stopped" } else { "was not running" },
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        }
    }
    Ok(())
}
