//! What the benches read from `/proc` about a process (`"self"` or a pid): CPU ticks, RSS, the
//! clock-tick rate. One copy for every bench (`#[path = "common/procfs.rs"] mod procfs;`).

#![allow(dead_code)] // each bench uses its own part

/// Clock ticks per second (`_SC_CLK_TCK`), the unit of `/proc/<pid>/stat`'s CPU times.
pub(crate) fn ticks_per_s() -> f64 {
    let t = rustix::param::clock_ticks_per_second();
    if t > 0 { t as f64 } else { 100.0 }
}

/// Command name and CPU ticks (utime + stime) from a `stat` file (a process's or a thread's).
pub(crate) fn stat(path: &str) -> Option<(String, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let f: Vec<&str> = text[close + 1..].split_whitespace().collect();
    let n = |i: usize| f.get(i - 3).and_then(|v| v.parse::<u64>().ok());
    Some((text[open + 1..close].to_string(), n(14)? + n(15)?))
}

/// CPU ticks of process `pid` (0 if it cannot be read).
pub(crate) fn cpu_ticks(pid: &str) -> u64 {
    stat(&format!("/proc/{pid}/stat")).map_or(0, |s| s.1)
}

/// Resident set size of process `pid`, in KiB (0 if it cannot be read).
pub(crate) fn rss_kb(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// Resident set size of process `pid`, in MiB (NaN if it cannot be read).
pub(crate) fn rss_mb(pid: &str) -> f64 {
    match rss_kb(pid) {
        0 => f64::NAN,
        kb => kb as f64 / 1024.0,
    }
}
