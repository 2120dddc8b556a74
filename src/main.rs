use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// mimalloc: faster than glibc malloc for the many small allocations of evaluation and reports,
/// and it returns freed memory to the system.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (`c_src/mimalloc/v3/include/mimalloc.h`
/// of libmimalloc-sys 0.1.49, whose bindings do not name it); the test below checks it against
/// the option's documented default.
const MI_OPTION_PURGE_DELAY: std::os::raw::c_int = 15;

/// mimalloc 3 keeps freed memory for a second (`purge_delay`, 1000 ms) before it gives it back
/// to the system. A scan of a large snapshot is a few seconds of building and dropping large
/// values (the snapshot's bytes after parsing, the State before the reports), so that second
/// held an eighth of its peak memory (bench/evaluation.md). 0: given back when freed.
fn return_freed_memory_at_once() {
    // SAFETY: sets one of mimalloc's options, which it reads on each purge decision
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

fn main() -> ExitCode {
    return_freed_memory_at_once();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The option index is mimalloc's purge delay: its default is 1000 ms in mimalloc 3 (no other
    /// option near it has that default), and setting it reads back.
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) }, 1000);
        }
        // its neighbours are not it: the deprecated eager-commit delay and the NUMA node count
        assert_ne!(unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY - 1) }, 1000);
        assert_ne!(unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY + 1) }, 1000);
        return_freed_memory_at_once();
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) }, 0);
    }
}
