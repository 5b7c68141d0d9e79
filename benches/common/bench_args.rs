//! The benchmarks' shared command line: `--seconds S --runs N --iters I`.
//! Included by `bench_read` and `bench_replicas` with `#[path]`.

/// What a benchmark run is asked to do.
pub struct Args {
    /// Seconds per timed run.
    pub seconds: f64,
    /// Interleaved runs (medians are taken over them).
    pub runs: usize,
    /// Iterations of the latency measurements.
    pub iters: usize,
}

/// Parses the process's arguments; `iters` when `--iters` is not given.
pub fn parse_args(iters: usize) -> Result<Args, Box<dyn std::error::Error>> {
    let mut parsed = Args {
        seconds: 10.0,
        runs: 3,
        iters,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--seconds" => parsed.seconds = value("--seconds")?.parse()?,
            "--runs" => parsed.runs = value("--runs")?.parse()?,
            "--iters" => parsed.iters = value("--iters")?.parse()?,
            // `cargo bench` passes `--bench` to every harness = false target.
            "--bench" => {}
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if parsed.seconds.is_nan() || parsed.seconds < 1.0 || parsed.runs == 0 || parsed.iters < 100 {
        return Err("expected --seconds >= 1, --runs >= 1, --iters >= 100".into());
    }
    Ok(parsed)
}
