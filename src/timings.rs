//! Phase timings for benchmarks (`bench/eval.sh`): with `TAPAUDIT_TIMINGS=1`, each phase of a
//! scan prints one line on stderr, `timing: PHASE SECONDS s, peak rss KiB` (the process's
//! `VmHWM` from /proc/self/status so far). Off by default; never on stdout.

use std::time::Instant;

/// Whether `TAPAUDIT_TIMINGS` is set to anything but empty or `0`.
pub fn enabled() -> bool {
    std::env::var("TAPAUDIT_TIMINGS").map(|v| !v.is_empty() && v != "0").unwrap_or(false)
}

/// The peak resident set so far in KiB (`VmHWM`), when /proc says.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Run `f` as phase `name`, printing its timing line when enabled.
pub fn phase<T>(name: &str, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let t = Instant::now();
    let out = f();
    let rss = peak_rss_kib().map(|k| k.to_string()).unwrap_or_else(|| "unknown".into());
    eprintln!("timing: {name} {:.3} s, peak rss {rss} KiB", t.elapsed().as_secs_f64());
    out
}
