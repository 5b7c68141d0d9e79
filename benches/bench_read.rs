//! Read benchmark: single-row fid lookups through the crate against pgbench running the
//! same SELECT, in one run; plus p50/p99 latency of two report queries.
//!
//! ```text
//! cargo bench -p hurricane-db --bench bench_read [-- --seconds 10] [--runs 3] [--iters 2000]
//! ```
//!
//! On a throwaway cluster (fsync off) with the full real IHW file loaded
//! (`$HURRICANE_DB_DATA_DIR/storm_data.csv`, else the bundled gzip copy; the first line
//! printed says which):
//! - lookups/s of `db.observation(fid)` with 1 and 2 threads (pool size = threads) and
//!   pgbench tps for the same SELECT with the same client count (`-M prepared`, unix
//!   socket), interleaved and repeated `--runs` times; medians, and the ratio as the
//!   median of each run's own crate/pgbench pair (measured back to back);
//! - contrast cases in the same interleaved runs: a plain `PgConnection` per thread (no
//!   pool), one `Db` (pool of 1) per thread, and `db.read(...)` (BEGIN READ ONLY + SELECT
//!   + COMMIT); and the cost of a pool checkout;
//! - per run, the client CPU per call, the server's CPU per call (the cluster's
//!   processes; pgbench's backends counted once the postmaster has reaped them: a
//!   backend that sleeps between calls instead of finding the next one waiting costs
//!   more), and how much CPU other processes on the machine
//!   used meanwhile (`others%`, from /proc/stat minus this process, pgbench and the
//!   cluster's server processes) and the hypervisor stole (`steal%`): a run with a
//!   large others% measured the neighbours too;
//! - the protocol messages one lookup costs, counted by a byte-forwarding proxy on a
//!   private unix socket (round trips = ReadyForQuery messages from the server);
//! - p50/p99 latency of `db.track(btid)` and of `queries::strongest_storms(conn, 10)`.
//!
//! No timed assertions: it prints numbers, a person reads them.

use std::error::Error;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use hurricane_db::ingest::{load_path, LoadOptions};
use hurricane_db::queries::{by_fid, strongest_storms};
use hurricane_db::Db;
use hurricane_db_testkit::{data, TestDb};

const ROWS: i32 = 35_486;
const BTIDS: i16 = 1_362;
const SELECT: &str = "SELECT fid, \"timestamp\", btid, name, lat, long, wind_kts, pressure, \
                      cat, basin, shape_length FROM hurricanes WHERE fid = :fid";
/// Untimed calls per thread before a timed run (connections opened, statements prepared).
const WARM_UP: usize = 200;

#[path = "common/bench_args.rs"]
mod bench_args;
use bench_args::parse_args;

type AnyResult<T> = Result<T, Box<dyn Error>>;

fn main() -> AnyResult<()> {
    let args = parse_args(2000)?;
    let cluster = hurricane_db_testkit::cluster();
    let target = TestDb::new();
    let real = data::file(data::STORM_DATA);
    let summary = load_path(&target.db, &real, &LoadOptions::new())?;
    println!("{summary}");
    diesel::sql_query("VACUUM ANALYZE").execute(&mut *target.db.conn()?)?;
    // The load's dirty pages written now, not by a checkpoint in the middle of a run.
    diesel::sql_query("CHECKPOINT").execute(&mut *target.db.conn()?)?;
    check_fids(&target.db)?;

    let pgbench = pgbench_binary()?;
    let work = tempfile::tempdir()?;
    let script = work.path().join("lookup.sql");
    std::fs::write(&script, format!("\\set fid random(1, {ROWS})\n{SELECT};\n"))?;
    let pg = PgbenchTarget {
        bin: pgbench,
        script,
        host: cluster.dir().to_path_buf(),
        port: cluster.port(),
        dbname: target.name.clone(),
    };
    println!(
        "bench_read: PostgreSQL in {} (fsync off), {} over the same unix socket, {} rows, \
         {} s per run, {} runs, medians; {} CPUs, load average {}",
        cluster.dir().display(),
        pg.bin.display(),
        ROWS,
        args.seconds,
        args.runs,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );

    let duration = Duration::from_secs_f64(args.seconds);
    let meter = Meter::new(cluster.dir());
    let shared = [pool(&target.url, 1)?, pool(&target.url, 2)?];
    let per_thread = [pool(&target.url, 1)?, pool(&target.url, 1)?];
    // Interleaved: every case once per run, in this order, except that every other run
    // measures pgbench before the crate, so neither side always goes first.
    let r2d2_shared = diesel::r2d2::Pool::builder()
        .max_size(2)
        .test_on_check_out(false)
        .build(diesel::r2d2::ConnectionManager::<PgConnection>::new(
            &target.url,
        ))?;
    let cases: [(Case, usize); 9] = [
        (Case::Crate, 1),
        (Case::Pgbench, 1),
        (Case::Crate, 2),
        (Case::Pgbench, 2),
        (Case::Plain, 1),
        (Case::Plain, 2),
        (Case::PoolPerThread, 2),
        (Case::ReadTransaction, 1),
        (Case::SharedR2d2, 2),
    ];
    let mut results: Vec<Vec<Rate>> = vec![vec![]; cases.len()];
    println!(
        "  {:<4} {:<50} {:>7} {:>10} {:>7} {:>9} {:>8} {:>7}",
        "run", "case", "clients", "per s", "CPU us", "server us", "others%", "steal%"
    );
    for run in 1..=args.runs {
        let order: [usize; 9] = if run % 2 == 0 {
            [1, 0, 3, 2, 4, 5, 6, 7, 8]
        } else {
            [0, 1, 2, 3, 4, 5, 6, 7, 8]
        };
        for k in order {
            let (case, clients) = cases[k];
            let before = meter.sample();
            let mut rate = match case {
                Case::Pgbench => {
                    let children = meter.children();
                    let rate = pg.tps(clients, args.seconds)?;
                    // pgbench's backends exit after it: their CPU belongs to this case.
                    meter.wait_for_children(children);
                    rate
                }
                Case::Crate => lookup_rate(
                    clients,
                    duration,
                    Mode::Observation(&shared[clients - 1..clients]),
                    &target.url,
                )?,
                Case::PoolPerThread => lookup_rate(
                    clients,
                    duration,
                    Mode::Observation(&per_thread),
                    &target.url,
                )?,
                Case::Plain => lookup_rate(clients, duration, Mode::Plain, &target.url)?,
                Case::ReadTransaction => lookup_rate(
                    clients,
                    duration,
                    Mode::ReadTransaction(&shared[0]),
                    &target.url,
                )?,
                Case::SharedR2d2 => {
                    lookup_rate(clients, duration, Mode::R2d2(&r2d2_shared), &target.url)?
                }
            };
            let after = meter.sample();
            (rate.others_pct, rate.steal_pct) = meter.others(before, after);
            rate.server_us = (after.server - before.server) * 1e6 / (rate.per_sec * args.seconds);
            println!(
                "  {run:<4} {:<50} {clients:>7} {:>10.0} {:>7.1} {:>9.1} {:>8.0} {:>7.0}",
                case.label(),
                rate.per_sec,
                rate.cpu_us,
                rate.server_us,
                rate.others_pct,
                rate.steal_pct
            );
            results[k].push(rate);
        }
    }
    let runs_of = |case: Case, clients: usize| {
        let k = cases
            .iter()
            .position(|&c| c == (case, clients))
            .expect("a measured case");
        &results[k]
    };
    let med = |case: Case, clients: usize| median_rate(runs_of(case, clients));

    println!();
    println!(
        "{:>7}  {:>16} {:>12} {:>6}   {:>20} {:>18}   {:>20}   {:>15}",
        "clients",
        "crate lookups/s",
        "pgbench tps",
        "ratio",
        "crate CPU us/lookup",
        "pgbench CPU us/tx",
        "server us/call (c/pg)",
        "others% (c/pg)"
    );
    // Each run's own crate/pgbench pair (measured back to back), then the median of
    // those ratios: a slow spell of the machine that hits one run hits both sides.
    let mut ratios = [0.0; 2];
    let mut spreads = [(0.0, 0.0); 2];
    for clients in [1, 2] {
        let (c, p) = (med(Case::Crate, clients), med(Case::Pgbench, clients));
        let mut paired: Vec<f64> = runs_of(Case::Crate, clients)
            .iter()
            .zip(runs_of(Case::Pgbench, clients))
            .map(|(c, p)| c.per_sec / p.per_sec)
            .collect();
        paired.sort_by(f64::total_cmp);
        ratios[clients - 1] = median(paired.clone());
        spreads[clients - 1] = (paired[0], paired[paired.len() - 1]);
        println!(
            "{clients:>7}  {:>16.0} {:>12.0} {:>6.2}   {:>20.1} {:>18.1}   {:>20}   {:>15}",
            c.per_sec,
            p.per_sec,
            ratios[clients - 1],
            c.cpu_us,
            p.cpu_us,
            format!("{:.1}/{:.1}", c.server_us, p.server_us),
            format!("{:.0}/{:.0}", c.others_pct, p.others_pct)
        );
    }
    println!(
        "ratios: 1 client {:.2}, 2 clients {:.2} (target >= 0.9; medians of each run's \
         crate/pgbench; runs ranged {:.2}-{:.2} and {:.2}-{:.2})",
        ratios[0], ratios[1], spreads[0].0, spreads[0].1, spreads[1].0, spreads[1].1
    );
    println!();
    println!("contrast (medians of the same interleaved runs; ratio to db.observation with as many clients):");
    println!(
        "  {:<58} {:>7} {:>10} {:>6} {:>8}",
        "case", "clients", "lookups/s", "ratio", "CPU us"
    );
    for &(case, clients) in &cases {
        if matches!(case, Case::Crate | Case::Pgbench) {
            continue;
        }
        let r = med(case, clients);
        println!(
            "  {:<58} {clients:>7} {:>10.0} {:>6.2} {:>8.1}",
            case.label(),
            r.per_sec,
            r.per_sec / med(Case::Crate, clients).per_sec,
            r.cpu_us
        );
    }
    println!(
        "  pool checkout + return (drop(db.conn()), 1 thread, idle pool): {:.0} ns",
        checkout_ns(&shared[0])
    );

    round_trips(cluster.dir(), cluster.port(), &target.name)?;
    latencies(&target.db, args.iters)?;
    println!("load average at the end: {}", load_average());
    Ok(())
}

/// The first three fields of /proc/loadavg.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// A pool of `size` connections (r2d2 opens the first at once, the rest on demand).
fn pool(url: &str, size: u32) -> AnyResult<Db> {
    Ok(Db::builder().pool_size(size).connect(url)?)
}

/// Every fid in 1..=ROWS must exist, or a random lookup would fail.
fn check_fids(db: &Db) -> AnyResult<()> {
    use diesel::dsl::{count_star, max, min};
    use hurricane_db::schema::hurricanes::dsl as h;
    let (lo, hi, n): (Option<i32>, Option<i32>, i64) = h::hurricanes
        .select((min(h::fid), max(h::fid), count_star()))
        .get_result(&mut *db.conn()?)?;
    if (lo, hi, n) != (Some(1), Some(ROWS), i64::from(ROWS)) {
        return Err(format!("expected fids 1..={ROWS}, found {lo:?}..={hi:?} ({n} rows)").into());
    }
    Ok(())
}

/// Marsaglia's xorshift64: enough randomness to spread lookups over the table.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in 1..=n.
    fn upto(&mut self, n: u64) -> u64 {
        self.next() % n + 1
    }
}

/// What one timed run measures.
#[derive(Clone, Copy, PartialEq)]
enum Case {
    /// `db.observation(fid)`, one pool of `clients` connections shared by the threads.
    Crate,
    /// pgbench, same SELECT, `-M prepared`.
    Pgbench,
    /// `by_fid` on one plain `PgConnection` per thread (Diesel, no pool).
    Plain,
    /// `db.observation(fid)`, one `Db` (pool of 1) per thread.
    PoolPerThread,
    /// `db.read(|c| by_fid(c, fid))`: BEGIN READ ONLY, SELECT, COMMIT.
    ReadTransaction,
    /// `by_fid` through one plain r2d2 pool (Diesel's manager, no test on checkout)
    /// shared by the threads: why `Db` partitions its pool per thread.
    SharedR2d2,
}

impl Case {
    fn label(self) -> &'static str {
        match self {
            Case::Crate => "crate: db.observation, shared pool",
            Case::Pgbench => "pgbench -M prepared",
            Case::Plain => "plain PgConnection per thread + by_fid (no pool)",
            Case::PoolPerThread => "db.observation, one Db (pool of 1) per thread",
            Case::ReadTransaction => "db.read(by_fid): BEGIN READ ONLY, SELECT, COMMIT",
            Case::SharedR2d2 => "one plain r2d2 pool shared by the threads + by_fid",
        }
    }
}

#[derive(Clone, Copy)]
enum Mode<'a> {
    /// `db.observation(fid)`; thread t uses pool t % len.
    Observation(&'a [Db]),
    /// `db.read(|c| by_fid(c, fid))`: the same SELECT inside BEGIN READ ONLY ... COMMIT.
    ReadTransaction(&'a Db),
    /// `by_fid` on a plain `PgConnection` per thread: Diesel without the pool.
    Plain,
    /// `by_fid` on a connection from one plain r2d2 pool.
    R2d2(&'a R2d2Pool),
}

type R2d2Pool = diesel::r2d2::Pool<diesel::r2d2::ConnectionManager<PgConnection>>;

/// A rate, the client CPU it cost, and how busy the machine was with other work.
#[derive(Clone, Copy, Default)]
struct Rate {
    /// Calls (or pgbench transactions) per second.
    per_sec: f64,
    /// Client CPU (user + system) per call, microseconds.
    cpu_us: f64,
    /// Server CPU (the cluster's processes) per call, microseconds.
    server_us: f64,
    /// CPU used by other processes on the machine during the run, % of all CPUs.
    others_pct: f64,
    /// CPU stolen by the hypervisor during the run, % of all CPUs.
    steal_pct: f64,
}

/// Lookups per second summed over `threads` threads, each looping for `duration`, and
/// the client threads' CPU per lookup.
fn lookup_rate(threads: usize, duration: Duration, mode: Mode<'_>, url: &str) -> AnyResult<Rate> {
    let barrier = Barrier::new(threads);
    let rates = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || -> Result<(f64, f64, u64), String> {
                    let mut rng = XorShift::new(t as u64 + 1 + now_nanos());
                    let mut plain = match mode {
                        Mode::Plain => Some(
                            PgConnection::establish(url).map_err(|e| format!("connect: {e}"))?,
                        ),
                        _ => None,
                    };
                    let mut lookup = |fid: i32| -> Result<(), String> {
                        let row = match (mode, plain.as_mut()) {
                            (Mode::Observation(dbs), _) => dbs[t % dbs.len()].observation(fid),
                            (Mode::ReadTransaction(db), _) => db.read(|c| by_fid(c, fid)),
                            (Mode::Plain, Some(conn)) => by_fid(conn, fid),
                            (Mode::Plain, None) => unreachable!("plain mode has a connection"),
                            (Mode::R2d2(pool), _) => pool
                                .get()
                                .map_err(|e| hurricane_db::Error::PoolTimeout(e.to_string()))
                                .and_then(|mut c| by_fid(&mut c, fid)),
                        }
                        .map_err(|e| format!("lookup of fid {fid}: {e}"))?;
                        if row.fid != fid {
                            return Err(format!("asked for fid {fid}, got {}", row.fid));
                        }
                        Ok(())
                    };
                    for _ in 0..WARM_UP {
                        lookup(rng.upto(ROWS as u64) as i32)?;
                    }
                    barrier.wait();
                    let cpu = cpu_seconds(libc::RUSAGE_THREAD);
                    let started = Instant::now();
                    let mut n = 0u64;
                    while started.elapsed() < duration {
                        lookup(rng.upto(ROWS as u64) as i32)?;
                        n += 1;
                    }
                    let rate = n as f64 / started.elapsed().as_secs_f64();
                    Ok((rate, cpu_seconds(libc::RUSAGE_THREAD) - cpu, n))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into())))
            .collect::<Result<Vec<_>, String>>()
    })?;
    let calls: u64 = rates.iter().map(|r| r.2).sum();
    Ok(Rate {
        per_sec: rates.iter().map(|r| r.0).sum(),
        cpu_us: rates.iter().map(|r| r.1).sum::<f64>() * 1e6 / calls.max(1) as f64,
        ..Rate::default()
    })
}

/// User + system CPU seconds of `who` (`RUSAGE_THREAD`, `RUSAGE_CHILDREN`, ...).
fn cpu_seconds(who: libc::c_int) -> f64 {
    // SAFETY: a zeroed rusage is a valid out-parameter; getrusage only writes to it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut usage) } != 0 {
        return f64::NAN;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64)
}

/// Cost of checking a connection out of an idle pool and handing it back.
fn checkout_ns(db: &Db) -> f64 {
    const N: u32 = 200_000;
    let started = Instant::now();
    for _ in 0..N {
        drop(db.conn().expect("checkout"));
    }
    started.elapsed().as_nanos() as f64 / f64::from(N)
}

struct PgbenchTarget {
    bin: PathBuf,
    script: PathBuf,
    host: PathBuf,
    port: u16,
    dbname: String,
}

impl PgbenchTarget {
    /// pgbench's "tps = ... (without initial connection time)".
    /// Also pgbench's CPU per transaction (connections and start-up included).
    fn tps(&self, clients: usize, seconds: f64) -> AnyResult<Rate> {
        let n = clients.to_string();
        let seconds = (seconds.round() as u64).max(1);
        let cpu = cpu_seconds(libc::RUSAGE_CHILDREN);
        let out = Command::new(&self.bin)
            .args(["-n", "-M", "prepared", "-c", &n, "-j", &n])
            .args(["-T", &seconds.to_string()])
            .arg("-f")
            .arg(&self.script)
            .arg("-h")
            .arg(&self.host)
            .args(["-p", &self.port.to_string(), "-U", "postgres"])
            .arg(&self.dbname)
            .env("PGAPPNAME", "bench_read")
            .output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "pgbench failed: {}{}",
                stdout,
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        // Children are counted once waited for: output() has waited.
        let cpu = cpu_seconds(libc::RUSAGE_CHILDREN) - cpu;
        let tps: f64 = stdout
            .lines()
            .find(|l| l.starts_with("tps = ") && l.contains("without initial connection time"))
            .and_then(|l| l["tps = ".len()..].split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("no tps line in pgbench output:\n{stdout}"))?;
        Ok(Rate {
            per_sec: tps,
            cpu_us: cpu * 1e6 / (tps * seconds as f64),
            ..Rate::default()
        })
    }
}

/// pgbench on PATH, else the newest `/usr/lib/postgresql/*/bin/pgbench`.
fn pgbench_binary() -> AnyResult<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(found) = std::env::split_paths(&path)
            .map(|d| d.join("pgbench"))
            .find(|p| p.is_file())
        {
            return Ok(found);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin").join("pgbench");
            bin.is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| "pgbench not found on PATH or under /usr/lib/postgresql/*/bin".into())
}

/// The middle value (the upper one of an even count).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median rate, and the median CPU of the runs (each taken on its own).
fn median_rate(runs: &[Rate]) -> Rate {
    Rate {
        per_sec: median(runs.iter().map(|r| r.per_sec).collect()),
        cpu_us: median(runs.iter().map(|r| r.cpu_us).collect()),
        server_us: median(runs.iter().map(|r| r.server_us).collect()),
        others_pct: median(runs.iter().map(|r| r.others_pct).collect()),
        steal_pct: median(runs.iter().map(|r| r.steal_pct).collect()),
    }
}

// ---- what else ran on the machine ----

/// Compares the machine's CPU time (/proc/stat) with this benchmark's own: this
/// process, its waited-for children (pgbench) and the cluster's server processes.
struct Meter {
    postmaster: Option<u32>,
    ticks_per_sec: f64,
}

#[derive(Clone, Copy)]
struct Sample {
    at: Instant,
    cpus: f64,
    busy: f64,
    steal: f64,
    ours: f64,
    /// The cluster's server processes' CPU seconds.
    server: f64,
}

impl Meter {
    fn new(cluster_dir: &Path) -> Meter {
        let postmaster = std::fs::read_to_string(cluster_dir.join("data/postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next()?.trim().parse().ok());
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        Meter {
            postmaster,
            ticks_per_sec: if ticks > 0 { ticks as f64 } else { 100.0 },
        }
    }

    fn sample(&self) -> Sample {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let cpus = stat
            .lines()
            .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
            .count()
            .max(1) as f64;
        // cpu user nice system idle iowait irq softirq steal ...
        let f: Vec<f64> = stat
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        let field = |i: usize| f.get(i).copied().unwrap_or(0.0) / self.ticks_per_sec;
        let busy = field(0) + field(1) + field(2) + field(5) + field(6);
        let server = self.postmaster.map_or(0.0, |pm| self.server_cpu(pm));
        let ours = cpu_seconds(libc::RUSAGE_SELF) + cpu_seconds(libc::RUSAGE_CHILDREN) + server;
        Sample {
            at: Instant::now(),
            cpus,
            busy,
            steal: field(7),
            ours,
            server,
        }
    }

    /// The postmaster's child processes (live or not yet reaped).
    fn children(&self) -> usize {
        self.postmaster.map_or(0, |pm| children_of(pm).len())
    }

    /// Waits (up to 2 s) until the postmaster is back to `n` children: an exited
    /// backend's CPU is counted once the postmaster has reaped it.
    fn wait_for_children(&self, n: usize) {
        let started = Instant::now();
        while self.children() > n && started.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The postmaster's CPU with its reaped children's, plus its live children's.
    fn server_cpu(&self, postmaster: u32) -> f64 {
        let own = proc_stat(postmaster).map_or(0.0, |(_, t)| t.iter().sum());
        let children: f64 = children_of(postmaster).iter().map(|t| t[0] + t[1]).sum();
        (own + children) / self.ticks_per_sec
    }

    /// (other processes' CPU, stolen CPU) between two samples, in % of all CPUs.
    fn others(&self, a: Sample, b: Sample) -> (f64, f64) {
        let capacity = b.at.duration_since(a.at).as_secs_f64() * b.cpus / 100.0;
        let others = ((b.busy - a.busy) - (b.ours - a.ours)).max(0.0);
        (others / capacity, (b.steal - a.steal) / capacity)
    }
}

/// The parent pid and the utime, stime, cutime and cstime ticks of process `pid`.
fn proc_stat(pid: u32) -> Option<(u32, [f64; 4])> {
    // Fields after "(comm) ": state ppid ... utime(11) stime(12) cutime(13) cstime(14).
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
    let num = |i: usize| rest.get(i).and_then(|v| v.parse::<f64>().ok());
    Some((
        rest.get(1)?.parse().ok()?,
        [num(11)?, num(12)?, num(13)?, num(14)?],
    ))
}

/// The CPU ticks (as [`proc_stat`]) of every child of `parent`, live or not yet reaped.
fn children_of(parent: u32) -> Vec<[f64; 4]> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(proc_stat)
        .filter(|&(ppid, _)| ppid == parent)
        .map(|(_, ticks)| ticks)
        .collect()
}

// ---- round trips, counted on the wire ----

/// Protocol messages seen by the proxy, over all its connections.
#[derive(Default)]
struct Wire {
    /// ReadyForQuery from the server: one per round trip of a non-pipelined client.
    ready: AtomicU64,
    /// Parse (extended protocol: a statement prepared).
    parse: AtomicU64,
    /// Bind (a prepared statement executed).
    bind: AtomicU64,
    /// Query (simple protocol: BEGIN, COMMIT, SET ...).
    query: AtomicU64,
}

#[derive(Clone, Copy, PartialEq)]
struct WireCounts {
    ready: u64,
    parse: u64,
    bind: u64,
    query: u64,
}

impl Wire {
    fn snapshot(&self) -> WireCounts {
        WireCounts {
            ready: self.ready.load(Ordering::SeqCst),
            parse: self.parse.load(Ordering::SeqCst),
            bind: self.bind.load(Ordering::SeqCst),
            query: self.query.load(Ordering::SeqCst),
        }
    }
}

/// Splits a byte stream into protocol messages (type byte + big-endian length that
/// counts itself); the client's first message (startup) has no type byte.
struct Framer {
    untyped_first: bool,
    header: Vec<u8>,
    skip: usize,
}

impl Framer {
    fn feed(&mut self, mut data: &[u8], mut on_message: impl FnMut(u8)) {
        while !data.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(data.len());
                self.skip -= n;
                data = &data[n..];
                continue;
            }
            let want = if self.untyped_first { 4 } else { 5 };
            let n = (want - self.header.len()).min(data.len());
            self.header.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.header.len() == want {
                let (kind, len) = match self.untyped_first {
                    true => (0, &self.header[..4]),
                    false => (self.header[0], &self.header[1..5]),
                };
                let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
                on_message(kind);
                self.skip = len.saturating_sub(4);
                self.header.clear();
                self.untyped_first = false;
            }
        }
    }
}

/// Forwards `from` to `to`, counting messages before passing them on (so a count is
/// final by the time the other side sees the bytes).
fn pump(mut from: UnixStream, mut to: UnixStream, wire: Arc<Wire>, client_side: bool) {
    let mut framer = Framer {
        untyped_first: client_side,
        header: Vec::with_capacity(5),
        skip: 0,
    };
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        framer.feed(&buf[..n], |kind| {
            let counter = match (client_side, kind) {
                (false, b'Z') => &wire.ready,
                (true, b'P') => &wire.parse,
                (true, b'B') => &wire.bind,
                (true, b'Q') => &wire.query,
                _ => return,
            };
            counter.fetch_add(1, Ordering::SeqCst);
        });
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
}

/// A counting proxy on a private unix socket in front of the cluster's socket.
fn start_proxy(dir: &Path, server: PathBuf, port: u16) -> AnyResult<Arc<Wire>> {
    let listener = UnixListener::bind(dir.join(format!(".s.PGSQL.{port}")))?;
    let wire = Arc::new(Wire::default());
    let counts = Arc::clone(&wire);
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(upstream) = UnixStream::connect(&server) else {
                continue;
            };
            let (Ok(client2), Ok(upstream2)) = (client.try_clone(), upstream.try_clone()) else {
                continue;
            };
            let (a, b) = (Arc::clone(&counts), Arc::clone(&counts));
            std::thread::spawn(move || pump(client, upstream, a, true));
            std::thread::spawn(move || pump(upstream2, client2, b, false));
        }
    });
    Ok(wire)
}

/// Prints what one lookup costs on the wire, through a fresh 1-connection pool.
fn round_trips(cluster_dir: &Path, port: u16, dbname: &str) -> AnyResult<()> {
    const N: u64 = 1000;
    let proxy_dir = tempfile::tempdir()?;
    let server = cluster_dir.join(format!(".s.PGSQL.{port}"));
    let wire = start_proxy(proxy_dir.path(), server, port)?;
    let conninfo = format!(
        "host='{}' port={port} user=postgres dbname='{dbname}'",
        proxy_dir.path().display()
    );
    let db = pool(&conninfo, 1)?;
    let per_call = |label: &str, calls: u64, before: WireCounts, after: WireCounts| {
        let d = |a: u64, b: u64| (a - b) as f64 / calls as f64;
        println!(
            "  {label:<44} {:>6.2} {:>6.2} {:>6.2} {:>6.2}",
            d(after.ready, before.ready),
            d(after.query, before.query),
            d(after.parse, before.parse),
            d(after.bind, before.bind)
        );
    };
    let mut rng = XorShift::new(7);
    println!();
    println!(
        "round trips per call, counted on the wire by a proxy (ReadyForQuery = one round trip):"
    );
    println!(
        "  {:<44} {:>6} {:>6} {:>6} {:>6}",
        "call", "trips", "Query", "Parse", "Bind"
    );
    let s0 = wire.snapshot();
    db.observation(rng.upto(ROWS as u64) as i32)?;
    let s1 = wire.snapshot();
    per_call("db.observation, first call on the connection", 1, s0, s1);
    for _ in 0..N {
        db.observation(rng.upto(ROWS as u64) as i32)?;
    }
    let s2 = wire.snapshot();
    per_call(&format!("db.observation, next {N} calls"), N, s1, s2);
    for _ in 0..N {
        let fid = rng.upto(ROWS as u64) as i32;
        db.read(|c| by_fid(c, fid))?;
    }
    let s3 = wire.snapshot();
    per_call(&format!("db.read(by_fid), {N} calls"), N, s2, s3);
    for _ in 0..N {
        db.track(rng.upto(BTIDS as u64) as i16)?;
    }
    let s4 = wire.snapshot();
    per_call(&format!("db.track, {N} calls"), N, s3, s4);
    for _ in 0..N {
        strongest_storms(&mut *db.conn()?, 10)?;
    }
    let s5 = wire.snapshot();
    per_call(
        &format!("strongest_storms on db.conn(), {N} calls"),
        N,
        s4,
        s5,
    );
    let one = (s2.ready - s1.ready) as f64 / N as f64;
    println!(
        "one round trip per db.observation: {}",
        if (one - 1.0).abs() < 1e-9 {
            "yes"
        } else {
            "NO"
        }
    );
    Ok(())
}

// ---- latency ----

/// p50 and p99 of `iters` calls after a warm-up, in microseconds.
fn percentiles(iters: usize, mut call: impl FnMut(u64) -> AnyResult<()>) -> AnyResult<(f64, f64)> {
    let mut rng = XorShift::new(42);
    for _ in 0..iters / 10 {
        call(rng.next())?;
    }
    let mut times = Vec::with_capacity(iters);
    for _ in 0..iters {
        let r = rng.next();
        let started = Instant::now();
        call(r)?;
        times.push(started.elapsed());
    }
    times.sort();
    let us = |q: usize| times[(times.len() * q / 100).min(times.len() - 1)].as_secs_f64() * 1e6;
    Ok((us(50), us(99)))
}

fn latencies(db: &Db, iters: usize) -> AnyResult<()> {
    let btid = |r: u64| (r % BTIDS as u64 + 1) as i16;
    let mut rows = 0usize;
    let track = percentiles(iters, |r| {
        rows += db.track(btid(r))?.len();
        Ok(())
    })?;
    let avg_rows = rows as f64 / (iters + iters / 10) as f64;
    let storms_conn = percentiles(iters, |_| {
        strongest_storms(&mut *db.conn()?, 10)?;
        Ok(())
    })?;
    let storms_read = percentiles(iters, |_| {
        db.read(|c| strongest_storms(c, 10))?;
        Ok(())
    })?;
    println!();
    println!(
        "latency, 1 client, {iters} calls each after {} warm-up calls:",
        iters / 10
    );
    println!("  {:<58} {:>9} {:>9}", "call", "p50 us", "p99 us");
    let line = |name: &str, (p50, p99): (f64, f64)| println!("  {name:<58} {p50:>9.1} {p99:>9.1}");
    line(
        &format!("db.track(btid), random btid 1..={BTIDS}, {avg_rows:.1} rows avg"),
        track,
    );
    line(
        "strongest_storms(conn, 10) on a pooled conn (db.conn())",
        storms_conn,
    );
    line(
        "strongest_storms(conn, 10) in db.read (BEGIN READ ONLY..)",
        storms_read,
    );
    Ok(())
}
