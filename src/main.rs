//! `hurricane-db`: the IHW data team's command line. See `hurricane-db --help`.

fn main() -> std::process::ExitCode {
    hurricane_db::cli::main()
}
