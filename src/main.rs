use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// mimalloc: faster than glibc malloc for the many small allocations of evaluation and reports,
/// and it returns freed memory to the system.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = tapaudit::cli::Cli::parse();
    let default = match cli.verbose {
        // --quiet: errors only (progress and notes are off too)
        _ if cli.quiet => "error",
        0 => "warn,tapaudit=info",
        1 => "warn,tapaudit=debug",
        _ => "info,tapaudit=trace",
    };
    let filter = EnvFilter::try_from_env("TAPAUDIT_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    // log lines go through the progress display, which prints them above its live lines
    let progress = tapaudit::commands::progress_for(&cli);
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(progress.clone())
        .with_ansi(std::env::var_os("NO_COLOR").is_none() && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tapaudit: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(tapaudit::commands::run_with(cli, &progress));
    progress.finish();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            for line in e.to_string().lines() {
                eprintln!("tapaudit: error: {line}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
