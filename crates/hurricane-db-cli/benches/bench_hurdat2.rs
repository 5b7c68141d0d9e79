//! HURDAT2 benchmark (issue 12 point 6): loading NOAA's two HURDAT2 files against
//! loading the equivalent IHW CSV, and export speed, in one run.
//!
//! ```text
//! cargo build --release --bin hurricane-db
//! cargo bench -p hurricane-db-cli --bench bench_hurdat2 [-- --runs 5]
//! ```
//!
//! Alternating runs (odd runs load the CSV first, even runs the HURDAT2 files first;
//! the exports alternate the same way), each on fresh databases of one throwaway
//! cluster (fsync off), all with the release `hurricane-db`:
//! (csv) `hurricane-db load storm_data.csv` (35,486 rows) into an empty table;
//! (h2)  `hurricane-db load` of the Atlantic file, then of the Pacific file, into an
//!       empty table (the same 35,486 observations; the second load merges);
//! then `hurricane-db export --format hurdat2` and `--format ihw` of the loaded
//! database to a file, with the exporter's peak RSS. Prints medians and
//! `ratio hurdat2/csv X.XX (target <= 1.5)`; asserts nothing about speed.
//!
//! The files come from `HURRICANE_DB_DATA_DIR`, else the gzip copies bundled in `data/`
//! (`hurricane_db_testkit::data`; the first lines printed say which), decompressed to
//! a temporary folder first so the loads time the loader, not gunzip.

use std::error::Error;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hurricane_db_testkit::{data, TestDb};

#[path = "common/load_runs.rs"]
mod load_runs;
use load_runs::{loader_binary, median, run_loader};

const ROWS: f64 = 35_486.0;

type AnyResult<T> = Result<T, Box<dyn Error>>;

fn main() -> AnyResult<()> {
    let mut runs = 5usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().ok_or("--runs needs N")?.parse()?,
            // `cargo bench` passes `--bench` to every harness = false target.
            "--bench" => {}
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    let bin = loader_binary()?;
    let work = tempfile::tempdir()?;
    let csv = data::plain(&data::file(data::STORM_DATA), work.path())?;
    let atlantic = data::plain(&data::file(data::ATLANTIC), work.path())?;
    let pacific = data::plain(&data::file(data::PACIFIC), work.path())?;
    let cluster = hurricane_db_testkit::cluster();
    println!(
        "bench_hurdat2: PostgreSQL in {} (fsync off), {runs} alternating runs, medians",
        cluster.dir().display()
    );
    let out = work.path().join("export.out");
    let (mut t_csv, mut t_h2, mut t_atl, mut t_pac) = (vec![], vec![], vec![], vec![]);
    let (mut x_h2, mut x_ihw) = (vec![], vec![]);
    let (mut rss_h2, mut rss_ihw) = (0i64, 0i64);
    let (mut rate_h2, mut rate_ihw) = (String::new(), String::new());
    for run in 0..runs {
        // Which side goes first alternates, so neither always meets a warmer (or more
        // crowded) cluster and page cache.
        let csv_first = run % 2 == 0;
        let (mut h2_db, mut order) = (None, Vec::new());
        for side in if csv_first {
            ["csv", "h2"]
        } else {
            ["h2", "csv"]
        } {
            order.push(side);
            if side == "csv" {
                let db = TestDb::new();
                t_csv.push(run_loader(&bin, &db.url, &csv, &[])?.0);
            } else {
                let db = TestDb::new();
                let a = run_loader(&bin, &db.url, &atlantic, &[])?.0;
                let p = run_loader(&bin, &db.url, &pacific, &[])?.0;
                t_atl.push(a);
                t_pac.push(p);
                t_h2.push(a + p);
                h2_db = Some(db);
            }
        }
        let db = h2_db.ok_or("the HURDAT2 side ran")?;

        // The two exports alternate too.
        let formats = if csv_first {
            ["hurdat2", "ihw"]
        } else {
            ["ihw", "hurdat2"]
        };
        for format in formats {
            let (t, rss, rate) = export(&bin, &db.url, format, &out)?;
            if format == "hurdat2" {
                x_h2.push(t);
                rss_h2 = rss_h2.max(rss);
                rate_h2 = rate;
            } else {
                x_ihw.push(t);
                rss_ihw = rss_ihw.max(rss);
                rate_ihw = rate;
            }
        }
        println!(
            "  run {}: {} first; exports {} first",
            run + 1,
            order[0],
            formats[0]
        );
    }
    let (csv_m, h2_m) = (median(t_csv), median(t_h2));
    let line = |name: &str, rows: f64, t: Duration| {
        println!(
            "  {:<46} {:>8.3} s {:>9.0} rows/s",
            name,
            t.as_secs_f64(),
            rows / t.as_secs_f64()
        )
    };
    line("load storm_data.csv (IHW CSV)", ROWS, csv_m);
    line(
        "load Atlantic HURDAT2 (empty table)",
        8_618.0,
        median(t_atl),
    );
    line("load Pacific HURDAT2 (merged)", 26_868.0, median(t_pac));
    line("load both HURDAT2 files", ROWS, h2_m);
    let x_h2 = median(x_h2);
    let x_ihw = median(x_ihw);
    println!(
        "  export --format hurdat2: {:.3} s, {:.0} rows/s wall, peak RSS {:.1} MiB ({rate_h2})",
        x_h2.as_secs_f64(),
        ROWS / x_h2.as_secs_f64(),
        rss_h2 as f64 / 1024.0
    );
    println!(
        "  export --format ihw:     {:.3} s, {:.0} rows/s wall, peak RSS {:.1} MiB ({rate_ihw})",
        x_ihw.as_secs_f64(),
        ROWS / x_ihw.as_secs_f64(),
        rss_ihw as f64 / 1024.0
    );
    println!(
        "ratio hurdat2/csv {:.2} (target <= 1.5); export rows/s: hurdat2 {:.0}, ihw {:.0}",
        h2_m.as_secs_f64() / csv_m.as_secs_f64(),
        ROWS / x_h2.as_secs_f64(),
        ROWS / x_ihw.as_secs_f64()
    );
    Ok(())
}

/// Wall time, peak RSS (KiB) and the exporter's own summary of one export.
fn export(bin: &Path, url: &str, format: &str, out: &Path) -> AnyResult<(Duration, i64, String)> {
    let started = Instant::now();
    let child = Command::new(bin)
        .args(["export", "--format", format, "-o"])
        .arg(out)
        .env("DATABASE_URL", url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid out-parameter; pid is our own child. The pipe
    // holds the exporter's two stderr lines (far below the pipe's capacity).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr {
        use std::io::Read;
        e.read_to_string(&mut stderr)?;
    }
    if waited != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("export failed: {stderr}").into());
    }
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("exported"))
        .unwrap_or_default()
        .to_string();
    Ok((elapsed, usage.ru_maxrss, summary))
}
