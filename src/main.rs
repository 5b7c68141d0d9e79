//! `hurricane-db`: the IHW data team's command line. See `hurricane-db --help`.
//!
//! Built only with the `cli` feature (on by default); it uses the library like any
//! other client and adds clap, indicatif, rpassword and tracing-subscriber.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
