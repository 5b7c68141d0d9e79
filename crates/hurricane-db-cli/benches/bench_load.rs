//! Loading benchmark: `hurricane-db load` against psql's own `\copy`, in one run.
//!
//! ```text
//! cargo build --release --bin hurricane-db
//! cargo bench -p hurricane-db-cli --bench bench_load [-- --rows 35486,1000000] [--runs 7] [--rss-rows 10000000] [--against OTHER_BUILD]
//! ```
//!
//! For each size it times, on fresh databases of one throwaway cluster (each dropped
//! before the next phase, which starts once no autovacuum worker runs; every other
//! run in reverse order; every run on a freshly restarted server, after an untimed
//! warm-up load):
//! (a) `hurricane-db load` of the raw IHW file into an empty table (its default text
//!     COPY, and `--format binary` for contrast);
//! (b) psql `\copy` of the same rows, already cleaned to the table's columns, into an
//!     identical empty table: the near-limit baseline (with the loader's work_mem);
//! (c) `hurricane-db load` of the unchanged file again (a refresh that changes nothing);
//! (d) with `--against PATH`, another build of `hurricane-db` (an earlier release, say)
//!     loading the raw file as (a) does: did this build get slower?
//! and prints median times, the median of each run's own a/b and c/b (a slow spell
//! hits both sides of a ratio), the server's own time for each side's COPY (from the
//! cluster's log, `log_min_duration_statement = 0`), and the loader's phase rates. Sizes above the real
//! file's are made by repeating it with new FIDs. The real file is
//! `$HURRICANE_DB_DATA_DIR/storm_data.csv`, else the bundled `data/ihw/storm_data.csv.gz`
//! (`hurricane_db_testkit::data`; the first line printed says which). `--rss-rows N` also loads an N-row
//! file once and prints the loader's peak RSS.
//!
//! Why restart the server for every run: the two sides' COPYs take the same server
//! work, yet one server start can favour either of them by a few percent for as long
//! as it runs (by hand, 3-run invocations without restarts: each run's a/b
//! `1.08 1.08 1.08` in one, `0.94 0.95 0.97` in the next). With one start per run,
//! that draw is noise spread over the runs, which the median evens out, instead of a
//! bias shared by all of them.

use std::error::Error;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hurricane_db_testkit::cluster::StopMode;
use hurricane_db_testkit::{data, TestDb};

#[path = "common/load_runs.rs"]
mod load_runs;
use load_runs::{checkpoint, loader_binary, median, run_loader};

/// Runs per phase and size (medians); `--runs N` overrides.
const RUNS: usize = 7;

type AnyResult<T> = Result<T, Box<dyn Error>>;

fn main() -> AnyResult<()> {
    let mut sizes = vec![35_486usize, 1_000_000];
    let mut rss_rows = None;
    let mut runs = RUNS;
    let mut against = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rows" => {
                sizes = args
                    .next()
                    .ok_or("--rows needs a list")?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?
            }
            "--rss-rows" => rss_rows = Some(args.next().ok_or("--rss-rows needs N")?.parse()?),
            "--runs" => runs = args.next().ok_or("--runs needs N")?.parse()?,
            "--against" => {
                let other = std::path::PathBuf::from(args.next().ok_or("--against needs a path")?);
                if !other.is_file() {
                    return Err(format!("--against {}: no such file", other.display()).into());
                }
                against = Some(other);
            }
            // `cargo bench` passes `--bench` to every harness = false target.
            "--bench" => {}
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let bin = loader_binary()?;
    let real = data::file(data::STORM_DATA);
    let work = tempfile::tempdir()?;
    let cluster = hurricane_db_testkit::cluster();
    // Every statement's duration in the server log: the COPY's own time on the
    // server, beside the wall time of each side (process, connection and all).
    hurricane_db_testkit::admin_execute(cluster, "ALTER SYSTEM SET log_min_duration_statement = 0");
    hurricane_db_testkit::admin_execute(cluster, "SELECT pg_reload_conf()");
    let log = ServerLog(cluster.dir().join("server.log"));
    println!(
        "bench_load: PostgreSQL in {} (fsync off for both sides), {runs} runs each, medians",
        cluster.dir().display()
    );
    println!(
        "{:>9}  {:<38} {:>8} {:>11} {:>7}",
        "rows", "phase", "median s", "rows/s", "ratio"
    );
    for &rows in &sizes {
        let raw = work.path().join(format!("raw_{rows}.csv"));
        let clean = work.path().join(format!("clean_{rows}.csv"));
        repeat_raw(&real, &raw, rows)?;
        clean_copy(&raw, &clean)?;

        let (mut a, mut a_binary, mut b, mut c, mut d) = (vec![], vec![], vec![], vec![], vec![]);
        // The server's own time for each side's COPY into hurricanes, in ms.
        let (mut sa, mut sa_binary, mut sb, mut sd) = (vec![], vec![], vec![], vec![]);
        let (mut a_phases, mut c_phases) = (String::new(), String::new());
        for run in 0..runs {
            // A fresh server start for every run (see the top of this file), warmed up
            // by one untimed load so that whichever phase comes first is not the one
            // that meets cold shared buffers.
            cluster.stop_server(StopMode::Fast)?;
            cluster.start_again()?;
            {
                let warm_up = TestDb::new();
                run_psql_copy(&warm_up.url, &clean)?;
            }
            // Every other run in reverse order, so neither side always goes first.
            let mut order = vec![Phase::Default, Phase::Binary, Phase::Psql];
            if against.is_some() {
                order.insert(1, Phase::Against);
            }
            if run % 2 == 1 {
                order.reverse();
            }
            for phase in order {
                // Each phase on a fresh database, dropped before the next one starts
                // (with the background work its load set off), so no phase shares
                // the machine with what another left behind.
                let target = TestDb::new();
                quiesce();
                match phase {
                    Phase::Default => {
                        let ((t, out), ms) =
                            log.around(|| run_loader(&bin, &target.url, &raw, &["--timings"]))?;
                        a.push(t);
                        sa.extend(ms);
                        a_phases = out;
                        let (t, out) = run_loader(&bin, &target.url, &raw, &["--timings"])?;
                        c.push(t);
                        c_phases = out;
                    }
                    Phase::Binary => {
                        let ((t, _), ms) = log.around(|| {
                            run_loader(&bin, &target.url, &raw, &["--format", "binary"])
                        })?;
                        a_binary.push(t);
                        sa_binary.extend(ms);
                    }
                    Phase::Psql => {
                        let (t, ms) = log.around(|| run_psql_copy(&target.url, &clean))?;
                        b.push(t);
                        sb.extend(ms);
                    }
                    Phase::Against => {
                        let other = against.as_deref().ok_or("no --against build")?;
                        let ((t, _), ms) =
                            log.around(|| run_loader(other, &target.url, &raw, &[]))?;
                        d.push(t);
                        sd.extend(ms);
                    }
                }
            }
        }
        // Ratios of the same run's pairs, then their median: a slow spell of the
        // machine that hits one run hits both sides of its ratio.
        let each = |x: &[Duration], y: &[Duration]| -> Vec<f64> {
            let mut r: Vec<f64> = x.iter().zip(y).map(|(x, y)| ratio(*x, *y)).collect();
            r.sort_by(f64::total_cmp);
            r
        };
        let paired = |x: &[Duration], y: &[Duration]| median(each(x, y));
        let ab_runs = each(&a, &b);
        let ad_runs = each(&a, &d);
        let (ab, cb, binary_b, binary_a) = (
            median(ab_runs.clone()),
            paired(&c, &b),
            paired(&a_binary, &b),
            paired(&a_binary, &a),
        );
        let (a, a_binary, b, c) = (median(a), median(a_binary), median(b), median(c));
        let against_line = (!d.is_empty()).then(|| (median(d.clone()), median(ad_runs.clone())));
        let line = |name: &str, t: Duration, ratio: Option<f64>| {
            println!(
                "{:>9}  {:<38} {:>8.3} {:>11.0} {:>7}",
                rows,
                name,
                t.as_secs_f64(),
                rows as f64 / t.as_secs_f64(),
                ratio.map_or(String::new(), |r| format!("{r:.2}"))
            )
        };
        line("(b) psql \\copy, cleaned CSV", b, None);
        line("(a) hurricane-db load (text COPY)", a, Some(ab));
        line(
            "(a) hurricane-db load --format binary",
            a_binary,
            Some(binary_b),
        );
        line("(c) refresh, unchanged file", c, Some(cb));
        if let Some((t, _)) = against_line {
            line("(d) --against build, same file", t, None);
        }
        let ms = |v: &[f64]| match v.is_empty() {
            true => f64::NAN,
            false => median(v.to_vec()),
        };
        println!(
            "{:>9}  server's own COPY time (log_min_duration_statement), medians: (b) {:.0} ms, \
             (a) {:.0} ms ({:.2}), --format binary {:.0} ms ({:.2})",
            "",
            ms(&sb),
            ms(&sa),
            ms(&sa) / ms(&sb),
            ms(&sa_binary),
            ms(&sa_binary) / ms(&sb)
        );
        if !sd.is_empty() {
            println!(
                "{:>9}  server's own COPY time of (d) the --against build: {:.0} ms; (a)/(d) {:.2}",
                "",
                ms(&sd),
                ms(&sa) / ms(&sd)
            );
        }
        println!("{:>9}  (a) {a_phases}", "");
        println!("{:>9}  (c) {c_phases}", "");
        println!(
            "ratios rows={rows}: a/b {ab:.2} (target <= 1.0), c/b {cb:.2} (target <= 2.0), \
             binary/text {binary_a:.2}; each run's a/b: {}",
            listed(&ab_runs)
        );
        if let Some((_, ad)) = against_line {
            println!(
                "ratios rows={rows}: this build / --against build a/d {ad:.2} (target <= 1.0: \
                 nothing got slower); each run's a/d: {}",
                listed(&ad_runs)
            );
        }
    }
    if let Some(rows) = rss_rows {
        let raw = work.path().join(format!("raw_{rows}.csv"));
        repeat_raw(&real, &raw, rows)?;
        let target = TestDb::new();
        let started = Instant::now();
        let rss_kib = max_rss_of(
            Command::new(&bin)
                .arg("load")
                .arg(&raw)
                .env("DATABASE_URL", &target.url)
                .stdout(Stdio::null()),
        )?;
        println!(
            "rss rows={rows}: peak RSS {:.1} MiB (target < 64 MiB), load {:.1} s",
            rss_kib as f64 / 1024.0,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The throwaway cluster's log, where every statement's duration is written.
struct ServerLog(std::path::PathBuf);

impl ServerLog {
    /// Runs `phase`, and the server's time for the COPY into `hurricanes` it made.
    fn around<T>(&self, phase: impl FnOnce() -> AnyResult<T>) -> AnyResult<(T, Option<f64>)> {
        let from = self.len();
        let out = phase()?;
        Ok((out, self.copy_ms(from)))
    }

    /// Bytes written so far: where the next phase's lines start.
    fn len(&self) -> u64 {
        std::fs::metadata(&self.0).map_or(0, |m| m.len())
    }

    /// The duration of the COPY into `hurricanes` executed after byte `from`, if any.
    fn copy_ms(&self, from: u64) -> Option<f64> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = File::open(&self.0).ok()?;
        file.seek(SeekFrom::Start(from)).ok()?;
        let mut text = String::new();
        file.read_to_string(&mut text).ok()?;
        text.lines()
            .filter(|l| l.contains("COPY") && !l.contains("hurricanes_staging"))
            .filter(|l| l.contains("hurricanes"))
            // Not the parse and bind steps of the extended protocol: the execution.
            .filter(|l| l.contains("  execute ") || l.contains("  statement: "))
            .find_map(|l| {
                let rest = l.split("duration: ").nth(1)?;
                rest.split(" ms").next()?.trim().parse().ok()
            })
    }
}

/// What one timed phase of a run loads, each into a database of its own.
#[derive(Clone, Copy)]
enum Phase {
    /// (a) `hurricane-db load` (its default format), then (c) the same file again.
    Default,
    /// (a) `hurricane-db load --format binary`.
    Binary,
    /// (b) psql `\copy` of the cleaned rows.
    Psql,
    /// (d) the `--against` build of `hurricane-db` (its default format).
    Against,
}

/// Waits (up to 30 s) until no autovacuum worker runs in the cluster: a worker
/// still busy with an earlier phase's tables would run beside the next timing.
fn quiesce() {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Busy {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let cluster = hurricane_db_testkit::cluster();
    let Ok(mut conn) = diesel::PgConnection::establish(&cluster.url("postgres")) else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let busy: Result<Busy, _> = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'",
        )
        .get_result(&mut conn);
        if busy.map_or(true, |b| b.n == 0) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Each run's ratio, as printed: `0.97 0.99 1.02`.
fn listed(ratios: &[f64]) -> String {
    ratios
        .iter()
        .map(|r| format!("{r:.2}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn ratio(x: Duration, base: Duration) -> f64 {
    x.as_secs_f64() / base.as_secs_f64()
}

fn run_psql_copy(url: &str, clean: &Path) -> AnyResult<Duration> {
    checkpoint();
    let started = Instant::now();
    // The loader's transaction runs with work_mem = 256MB (src/ingest/merge.rs): the
    // baseline gets the same, so the ratio compares the loaders, not the settings.
    // The IHW columns only: the HURDAT2 ones (migration 000007) stay NULL, as the
    // loader leaves them for a CSV.
    let status = Command::new("psql")
        .env("PGOPTIONS", "-c work_mem=256MB")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c"])
        .arg(format!(
            "\\copy hurricanes (fid, \"timestamp\", btid, name, lat, long, wind_kts, pressure, \
             cat, basin, shape_length) FROM '{}' WITH (FORMAT csv)",
            clean.display()
        ))
        .status()?;
    if !status.success() {
        return Err("psql \\copy failed".into());
    }
    Ok(started.elapsed())
}

/// Runs `cmd` and returns the child's peak resident set in KiB (wait4's rusage).
fn max_rss_of(cmd: &mut Command) -> AnyResult<i64> {
    let child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid out-parameter; pid is our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if waited != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err("load for the RSS measurement failed".into());
    }
    Ok(usage.ru_maxrss)
}

/// Writes `rows` IHW rows: the real file repeated, FIDs renumbered to stay unique.
fn repeat_raw(real: &Path, out: &Path, rows: usize) -> AnyResult<()> {
    let text = data::read_to_string(real)?;
    let mut lines = text.lines();
    let header = lines.next().ok_or("empty real file")?;
    let body: Vec<&str> = lines.collect();
    let mut w = BufWriter::new(File::create(out)?);
    writeln!(w, "{header}")?;
    for i in 0..rows {
        let line = body[i % body.len()];
        let rest = line.split_once(',').ok_or("bad line")?.1;
        writeln!(w, "{},{rest}", i + 1)?;
    }
    w.flush()?;
    Ok(())
}

/// The same rows cleaned to the table's columns, as psql's `\copy` wants them.
fn clean_copy(raw: &Path, out: &Path) -> AnyResult<()> {
    let mut w = BufWriter::new(File::create(out)?);
    for line in BufReader::new(File::open(raw)?).lines().skip(1) {
        let line = line?;
        let f: Vec<&str> = line.split(',').collect();
        let pressure = if f[10] == "0" { "" } else { f[10] };
        writeln!(
            w,
            "{},{:0>4}-{:0>2}-{:0>2} {}:{}:00+00,{},{},{},{},{},{},{},{},{}",
            f[0],
            f[1],
            f[2],
            f[3],
            &f[4][..2],
            &f[4][2..4],
            f[5],
            f[6],
            f[7],
            f[8],
            f[9],
            pressure,
            f[11],
            f[12],
            f[13]
        )?;
    }
    w.flush()?;
    Ok(())
}
