//! What the load benchmarks share: the release `hurricane-db` they time, a checkpoint
//! between runs, one timed `hurricane-db load`, and medians. Included by `bench_load`
//! and `bench_hurdat2` with `#[path]`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The middle of the timings (the upper one of an even count).
pub fn median<T: PartialOrd + Copy>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}

/// The release `hurricane-db` beside this example's binary.
pub fn loader_binary() -> AnyResult<PathBuf> {
    let exe = std::env::current_exe()?;
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("hurricane-db"))
        .ok_or("cannot locate target dir")?;
    if !bin.exists() {
        return Err(format!(
            "{} not found: run `cargo build --release --bin hurricane-db` first",
            bin.display()
        )
        .into());
    }
    Ok(bin)
}

/// Flushes dirty pages first, so no phase pays for the previous one's writes.
pub fn checkpoint() {
    hurricane_db_testkit::admin_execute(hurricane_db_testkit::cluster(), "CHECKPOINT");
}

/// Wall time of `hurricane-db load FILE EXTRA...` after a checkpoint, and what it
/// printed on stderr.
pub fn run_loader(
    bin: &Path,
    url: &str,
    file: &Path,
    extra: &[&str],
) -> AnyResult<(Duration, String)> {
    checkpoint();
    let started = Instant::now();
    let out = Command::new(bin)
        .arg("load")
        .arg(file)
        .args(extra)
        .env("DATABASE_URL", url)
        .output()?;
    let elapsed = started.elapsed();
    if !out.status.success() {
        return Err(format!("load failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok((
        elapsed,
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    ))
}
