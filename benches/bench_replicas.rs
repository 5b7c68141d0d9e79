//! Standby benchmark (issue 10, point 8): reads through one primary against reads
//! spread over two streaming standbys; the extra latency of a session read that waits
//! for its own write to be replayed; and the replay lag a writer's next read sees.
//!
//! ```text
//! cargo bench -p hurricane-db --bench bench_replicas [-- --seconds 10] [--runs 3] [--iters 1000]
//! ```
//!
//! On a new primary with two standbys (`hurricane_db_testkit::topology(2)`: fsync off,
//! `synchronous_commit` on, unix sockets) with the bundled sample loaded:
//! - (a) fid lookups/s of `db.observation(fid)` with 2 threads (pool of 2) for
//!   `--seconds` each: a `Db` on the primary only against a `Db` with both standbys as
//!   read URLs, interleaved over `--runs` (every other run starts with the other case);
//!   medians and their ratio. Primary, standbys and client share this machine's CPUs,
//!   so this measures what routing costs, not what spreading reads gains;
//! - (b) `--iters` times: write one row, then read it back, only the read timed: a
//!   `Session` read (waits until a standby has replayed the write), a plain `db.read`
//!   on the `Db` with standbys (may miss the write) and a `db.read` on the primary-only
//!   `Db`; p50/p99 of each, how many reads ran on a standby and how many missed the
//!   value just written;
//! - (c) `--iters` autocommit writes on a plain connection to the primary, each
//!   followed by `pg_current_wal_flush_lsn()` on that connection and back-to-back
//!   polls of one standby (alternating) with `pg_last_wal_replay_lsn() >= lsn`: the
//!   time from COMMIT's return until the standby shows the write, p50/p99/max.
//!
//! The last line sums it up for scripts (`ratios: ...`). No timed assertions: it prints
//! numbers, a person reads them.

use std::error::Error;
use std::path::Path;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Text};
use hurricane_db::ingest::{load_path, LoadOptions};
use hurricane_db::schema::hurricanes;
use hurricane_db::Db;
use hurricane_db_testkit::{topology, Topology};

const SAMPLE: &str = "data/storm_sample.csv";
/// Untimed calls per thread before a timed lookup run (connections opened, statements
/// prepared).
const WARM_UP: usize = 200;
/// Threads (and pool size) of the lookup runs.
const THREADS: usize = 2;
/// The app user the audit trail records for the benchmark's writes.
const APP_USER: &str = "bench_replicas";
/// A write not replayed after this long is an error, not a number.
const REPLAY_GIVE_UP: Duration = Duration::from_secs(10);

#[path = "common/bench_args.rs"]
mod bench_args;
use bench_args::{parse_args, Args};

type AnyResult<T> = Result<T, Box<dyn Error>>;

fn main() -> AnyResult<()> {
    let args = parse_args(1000)?;
    let topo = topology(2);
    let primary_url = topo.primary_url();
    let read_urls = topo.read_urls();
    let size = THREADS as u32;
    let primary_db = pool(&primary_url, size, &[])?;
    let routed_db = pool(&primary_url, size, &read_urls)?;

    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE);
    let summary = load_path(&primary_db, &sample, &LoadOptions::new())?;
    println!("{summary}");
    diesel::sql_query("VACUUM ANALYZE").execute(&mut *primary_db.conn()?)?;
    topo.wait_replayed(Duration::from_secs(30))?;
    let fids: Vec<i32> = hurricanes::table
        .select(hurricanes::fid)
        .order(hurricanes::fid)
        .load(&mut *primary_db.conn()?)?;
    let Some(&probe_fid) = fids.first() else {
        return Err(format!("{} loaded no rows", sample.display()).into());
    };
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "bench_replicas: primary + {} standbys ready in {:.1} s (fsync off, synchronous_commit \
         on, unix sockets), {} rows replayed everywhere; {} s per run, {} runs, {} iterations; \
         {cpus} CPUs, load average {}",
        topo.standbys.len(),
        topo.built_in.as_secs_f64(),
        fids.len(),
        args.seconds,
        args.runs,
        args.iters,
        load_average()
    );

    let ratio = lookups(&topo, &primary_db, &routed_db, &fids, &args, cpus)?;
    let session = session_reads(&primary_db, &routed_db, probe_fid, args.iters)?;
    let lag = replay_lag(&topo, probe_fid, args.iters)?;

    println!();
    println!("load average at the end: {}", load_average());
    println!(
        "ratios: standby reads/primary reads {ratio:.2}; session read p50 {:.2} ms p99 {:.2} ms; \
         replay lag p50 {:.2} ms p99 {:.2} ms",
        session.0, session.1, lag.0, lag.1
    );
    Ok(())
}

/// A pool of `size` connections on `url`, reading on `read_urls` (none: on `url`).
fn pool(url: &str, size: u32, read_urls: &[String]) -> AnyResult<Db> {
    Ok(Db::builder()
        .pool_size(size)
        .read_urls(read_urls.to_vec())
        .connect(url)?)
}

/// The first three fields of /proc/loadavg.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
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

    /// One of `items`, which must not be empty.
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// The `q`th percentile of `times` (sorted here) in milliseconds.
fn percentile_ms(times: &mut [Duration], q: usize) -> f64 {
    if times.is_empty() {
        return f64::NAN;
    }
    times.sort_unstable();
    times[(times.len() * q / 100).min(times.len() - 1)].as_secs_f64() * 1e3
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

// ---- (a) lookups/s ----

#[derive(Clone, Copy, PartialEq)]
enum Route {
    Primary,
    Standbys,
}

impl Route {
    fn label(self) -> &'static str {
        match self {
            Route::Primary => "Db on the primary only",
            Route::Standbys => "Db with the 2 standbys as read URLs",
        }
    }
}

/// Which node a port belongs to, for people.
fn node_name(topo: &Topology, port: i32) -> String {
    if i32::from(topo.primary.port()) == port {
        return "primary".into();
    }
    match topo
        .standbys
        .iter()
        .position(|s| i32::from(s.port()) == port)
    {
        Some(i) => format!("standby {}", i + 1),
        None => format!("port {port}"),
    }
}

/// The port of the server a read-routed statement runs on.
fn read_port(db: &Db) -> hurricane_db::Result<i32> {
    db.read_statement(|c| {
        Ok(diesel::select(sql::<Integer>("current_setting('port')::int")).get_result(c)?)
    })
}

/// `db.observation(fid)` with random loaded fids from `THREADS` threads for `duration`
/// after a warm-up: lookups/s and the port each thread read on.
fn lookup_rate(db: &Db, fids: &[i32], duration: Duration) -> AnyResult<(f64, Vec<i32>)> {
    let barrier = Barrier::new(THREADS);
    let outcomes: Vec<Result<(u64, Duration, i32), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let mut rng = XorShift::new(t as u64 + 1);
                    let warm = (|| {
                        let port = read_port(db)?;
                        for _ in 0..WARM_UP {
                            db.observation(rng.pick(fids))?;
                        }
                        Ok::<_, hurricane_db::Error>(port)
                    })();
                    // Every thread reaches the barrier, also after a failure.
                    barrier.wait();
                    let port = warm.map_err(|e| e.to_string())?;
                    let started = Instant::now();
                    let mut n = 0u64;
                    while started.elapsed() < duration {
                        db.observation(rng.pick(fids)).map_err(|e| e.to_string())?;
                        n += 1;
                    }
                    Ok((n, started.elapsed(), port))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a thread panicked".into())))
            .collect()
    });
    let mut rate = 0.0;
    let mut ports = Vec::with_capacity(THREADS);
    for outcome in outcomes {
        let (n, took, port) = outcome?;
        rate += n as f64 / took.as_secs_f64();
        ports.push(port);
    }
    Ok((rate, ports))
}

/// Prints (a); returns the ratio of the medians, standbys / primary.
fn lookups(
    topo: &Topology,
    primary_db: &Db,
    routed_db: &Db,
    fids: &[i32],
    args: &Args,
    cpus: usize,
) -> AnyResult<f64> {
    let duration = Duration::from_secs_f64(args.seconds);
    let mut rates: [Vec<f64>; 2] = [vec![], vec![]];
    println!();
    println!(
        "(a) fid lookups (db.observation), {THREADS} threads, pool of {THREADS}, {} s per run, \
         after {WARM_UP} warm-up calls per thread:",
        args.seconds
    );
    println!(
        "  {:<4} {:<38} {:>10}   threads read on",
        "run", "case", "lookups/s"
    );
    for run in 1..=args.runs {
        let order = if run % 2 == 1 {
            [Route::Primary, Route::Standbys]
        } else {
            [Route::Standbys, Route::Primary]
        };
        for route in order {
            let db = match route {
                Route::Primary => primary_db,
                Route::Standbys => routed_db,
            };
            let (rate, ports) = lookup_rate(db, fids, duration)?;
            let nodes: Vec<String> = ports.iter().map(|&p| node_name(topo, p)).collect();
            println!(
                "  {run:<4} {:<38} {rate:>10.0}   {}",
                route.label(),
                nodes.join(", ")
            );
            rates[route as usize].push(rate);
        }
    }
    let (primary, standbys) = (median(&rates[0]), median(&rates[1]));
    let ratio = standbys / primary;
    println!(
        "  medians: primary only {primary:.0}/s, standbys {standbys:.0}/s, ratio standbys/primary \
         {ratio:.2}"
    );
    println!(
        "  {cpus} CPUs: primary and both standbys share them, so this measures routing overhead, \
         not a speed-up"
    );
    Ok(ratio)
}

// ---- (b) session read after a write ----

/// The row's wind and whether the statement ran on a standby, in one round trip.
fn probe(c: &mut PgConnection, fid: i32) -> hurricane_db::Result<(i16, bool)> {
    Ok(hurricanes::table
        .find(fid)
        .select((hurricanes::wind_kts, sql::<Bool>("pg_is_in_recovery()")))
        .get_result(c)?)
}

fn set_wind(c: &mut PgConnection, fid: i32, wind: i16) -> hurricane_db::Result<()> {
    let n = diesel::update(hurricanes::table.find(fid))
        .set(hurricanes::wind_kts.eq(wind))
        .execute(c)?;
    if n != 1 {
        return Err(hurricane_db::Error::NotFound(format!(
            "observation with FID {fid}"
        )));
    }
    Ok(())
}

/// Timed reads of one case of (b).
#[derive(Default)]
struct Reads {
    times: Vec<Duration>,
    on_standby: usize,
    missed: usize,
}

impl Reads {
    fn record(&mut self, took: Duration, (seen, on_standby): (i16, bool), wrote: i16) {
        self.times.push(took);
        self.on_standby += usize::from(on_standby);
        self.missed += usize::from(seen != wrote);
    }
}

/// How long `read` took, and what it saw.
fn timed<T>(read: impl FnOnce() -> hurricane_db::Result<T>) -> hurricane_db::Result<(Duration, T)> {
    let started = Instant::now();
    let seen = read()?;
    Ok((started.elapsed(), seen))
}

/// Prints (b); returns the session read's p50 and p99 in ms.
fn session_reads(primary_db: &Db, routed_db: &Db, fid: i32, iters: usize) -> AnyResult<(f64, f64)> {
    let warm = iters / 10;
    let mut session = routed_db.session();
    let (mut in_session, mut plain, mut primary) =
        (Reads::default(), Reads::default(), Reads::default());
    for i in 0..warm + iters {
        // Three writes per iteration, each a value the row did not hold just before.
        let wind = |k: usize| ((3 * i + k) % 150) as i16;
        let w = wind(0);
        session.transaction_as(APP_USER, |c| set_wind(c, fid, w))?;
        let (took, seen) = timed(|| session.read(|c| probe(c, fid)))?;
        if i >= warm {
            in_session.record(took, seen, w);
        }
        let w = wind(1);
        routed_db.transaction_as(APP_USER, |c| set_wind(c, fid, w))?;
        let (took, seen) = timed(|| routed_db.read(|c| probe(c, fid)))?;
        if i >= warm {
            plain.record(took, seen, w);
        }
        let w = wind(2);
        primary_db.transaction_as(APP_USER, |c| set_wind(c, fid, w))?;
        let (took, seen) = timed(|| primary_db.read(|c| probe(c, fid)))?;
        if i >= warm {
            primary.record(took, seen, w);
        }
    }
    println!();
    println!(
        "(b) read after a write, 1 client, {iters} iterations after {warm} warm-up: each case \
         writes one row (transaction_as) and reads it back (one SELECT in a READ ONLY \
         transaction); only the read is timed"
    );
    println!(
        "  {:<52} {:>8} {:>8} {:>13} {:>10}",
        "read", "p50 ms", "p99 ms", "on a standby", "missed"
    );
    let line = |label: &str, reads: &mut Reads| {
        let (p50, p99) = (
            percentile_ms(&mut reads.times, 50),
            percentile_ms(&mut reads.times, 99),
        );
        println!(
            "  {label:<52} {p50:>8.3} {p99:>8.3} {:>13} {:>10}",
            format!("{}/{iters}", reads.on_standby),
            format!("{}/{iters}", reads.missed)
        );
        (p50, p99)
    };
    let s = line(
        "session.read (waits for replay, ryw_wait 200 ms)",
        &mut in_session,
    );
    line("db.read, Db with standbys (no wait)", &mut plain);
    let p = line("db.read, Db on the primary only", &mut primary);
    println!(
        "  a session read costs {:+.3} ms at p50 and {:+.3} ms at p99 over a read on the primary; \
         {} of {iters} plain standby reads missed the write just made",
        s.0 - p.0,
        s.1 - p.1,
        plain.missed
    );
    Ok(s)
}

// ---- (c) replay lag ----

/// Prints (c); returns p50 and p99 in ms.
fn replay_lag(topo: &Topology, fid: i32, iters: usize) -> AnyResult<(f64, f64)> {
    let warm = iters / 10;
    let mut writer = PgConnection::establish(&topo.primary_url())?;
    let mut standbys = topo
        .read_urls()
        .iter()
        .map(|url| PgConnection::establish(url))
        .collect::<Result<Vec<_>, _>>()?;
    let mut lags: Vec<Vec<Duration>> = vec![vec![]; standbys.len()];
    let mut first_poll = 0usize;
    let mut polls_total = 0usize;
    for i in 0..warm + iters {
        let target = i % standbys.len();
        let wind = (i % 150) as i16 + 150;
        set_wind(&mut writer, fid, wind)?;
        let committed = Instant::now();
        let lsn: String = diesel::select(sql::<Text>("pg_current_wal_flush_lsn()::text"))
            .get_result(&mut writer)?;
        let mut polls = 0usize;
        loop {
            polls += 1;
            let replayed: bool = diesel::select(
                sql::<Bool>("coalesce(pg_last_wal_replay_lsn() >= ")
                    .bind::<Text, _>(lsn.as_str())
                    .sql("::pg_lsn, false)"),
            )
            .get_result(&mut standbys[target])?;
            if replayed {
                break;
            }
            if committed.elapsed() > REPLAY_GIVE_UP {
                return Err(format!(
                    "standby {} has not replayed {lsn} after {REPLAY_GIVE_UP:?}",
                    target + 1
                )
                .into());
            }
        }
        let lag = committed.elapsed();
        if i >= warm {
            lags[target].push(lag);
            first_poll += usize::from(polls == 1);
            polls_total += polls;
        }
    }
    let mut all: Vec<Duration> = lags.iter().flatten().copied().collect();
    let (p50, p99) = (percentile_ms(&mut all, 50), percentile_ms(&mut all, 99));
    let max = all.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
    println!();
    println!(
        "(c) replay lag seen by a writer's next read, {iters} autocommit UPDATEs after {warm} \
         warm-up, each checked on one standby (alternating): from COMMIT's return, through \
         pg_current_wal_flush_lsn() on the writer, to the first back-to-back poll that sees \
         pg_last_wal_replay_lsn() >= it"
    );
    println!("  all standbys: p50 {p50:.3} ms, p99 {p99:.3} ms, max {max:.3} ms");
    for (k, times) in lags.iter_mut().enumerate() {
        println!(
            "  standby {}: p50 {:.3} ms, p99 {:.3} ms ({} writes)",
            k + 1,
            percentile_ms(times, 50),
            percentile_ms(times, 99),
            times.len()
        );
    }
    println!(
        "  already replayed at the first poll: {first_poll} of {iters}; {:.2} polls per write",
        polls_total as f64 / iters as f64
    );
    Ok((p50, p99))
}
