//! What several of the CLI's tests share.

use std::process::{Command, Output};

use hurricane_db_testkit::TestDb;

/// The built `hurricane-db` with `args`, against `t` (`DATABASE_URL`), as a user
/// runs it; its output, whatever the exit status.
pub fn cli(t: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hurricane-db"))
        .args(args)
        .env("DATABASE_URL", &t.url)
        .output()
        .unwrap()
}
