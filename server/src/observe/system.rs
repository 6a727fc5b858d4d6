//! Process and OS figures read from `/proc` (and `statvfs` for the data directory's disk) in
//! one small module, rather than a system-information crate: a handful of files, parsed once a
//! second. Off Linux every figure reads as 0.

use app::model::SystemInfo;
use std::path::PathBuf;
use std::time::Instant;

/// Reads the figures; keeps the last CPU reading so CPU % is over the interval between calls.
#[derive(Debug)]
pub struct SystemSampler {
    started: Instant,
    data_dir: PathBuf,
    last_cpu: Option<(Instant, u64)>,
    clock_ticks: f64,
    page_size: u64,
}

impl SystemSampler {
    /// A sampler for this process; `data_dir` is the directory whose disk the OS tab shows.
    pub fn new(data_dir: PathBuf) -> Self {
        let (ticks, page) = (rustix::param::clock_ticks_per_second(), rustix::param::page_size());
        Self {
            started: Instant::now(),
            data_dir,
            last_cpu: None,
            clock_ticks: if ticks > 0 { ticks as f64 } else { 100.0 },
            page_size: if page > 0 { page as u64 } else { 4096 },
        }
    }

    /// Everything the home and OS tabs show, now.
    pub fn sample(&mut self) -> SystemInfo {
        let mut s = SystemInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            profile: if cfg!(debug_assertions) { "debug" } else { "release" }.into(),
            uptime_ms: self.started.elapsed().as_millis() as u64,
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get() as u64),
            ..SystemInfo::default()
        };
        if let Some(stat) = read("/proc/self/stat").as_deref().and_then(ProcStat::parse) {
            let now = Instant::now();
            let ticks = stat.utime + stat.stime;
            if let Some((at, before)) = self.last_cpu {
                let secs = now.duration_since(at).as_secs_f64();
                if secs > 0.0 {
                    s.cpu_pct = ticks.saturating_sub(before) as f64 / self.clock_ticks / secs * 100.0;
                }
            }
            self.last_cpu = Some((now, ticks));
            s.threads = stat.threads;
            s.rss_bytes = stat.rss_pages * self.page_size;
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let m = rt.metrics();
            s.tokio_workers = m.num_workers() as u64;
            s.tokio_alive_tasks = m.num_alive_tasks() as u64;
            s.tokio_global_queue = m.global_queue_depth() as u64;
            // tokio reports its blocking pool only under `tokio_unstable`; its threads share the
            // workers' default name, so they are the named threads beyond the workers.
            s.tokio_blocking_threads = count_threads("tokio-runtime-w").saturating_sub(s.tokio_workers);
        }
        if let Some(load) = read("/proc/loadavg") {
            let mut it = load.split_whitespace().map(|x| x.parse::<f64>().unwrap_or(0.0));
            s.load = [it.next().unwrap_or(0.0), it.next().unwrap_or(0.0), it.next().unwrap_or(0.0)];
        }
        if let Some(meminfo) = read("/proc/meminfo") {
            s.mem_total_bytes = meminfo_kb(&meminfo, "MemTotal:") * 1024;
            s.mem_available_bytes = meminfo_kb(&meminfo, "MemAvailable:") * 1024;
        }
        // A data directory not created yet is measured on the nearest existing parent.
        if let Some((total, free)) =
            self.data_dir.ancestors().find_map(disk).or_else(|| disk(std::path::Path::new(".")))
        {
            (s.disk_total_bytes, s.disk_free_bytes) = (total, free);
        }
        s
    }
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The fields of `/proc/self/stat` the dashboard uses.
#[derive(Debug, PartialEq, Eq)]
struct ProcStat {
    utime: u64,
    stime: u64,
    threads: u64,
    rss_pages: u64,
}

impl ProcStat {
    /// Parses after the command name's closing parenthesis (the name may hold spaces).
    fn parse(text: &str) -> Option<Self> {
        let rest = &text[text.rfind(')')? + 1..];
        // After ')': field 3 (state) is index 0, so field n is index n - 3.
        let f: Vec<&str> = rest.split_whitespace().collect();
        let n = |field: usize| f.get(field - 3).and_then(|v| v.parse::<u64>().ok());
        Some(Self { utime: n(14)?, stime: n(15)?, threads: n(20)?, rss_pages: n(24)? })
    }
}

fn meminfo_kb(meminfo: &str, key: &str) -> u64 {
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn count_threads(name: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0 };
    tasks
        .filter_map(Result::ok)
        .filter(|t| read(&format!("{}/comm", t.path().display())).is_some_and(|c| c.trim_end() == name))
        .count() as u64
}

/// Size and free space (for unprivileged users) of the file system holding `dir`.
fn disk(dir: &std::path::Path) -> Option<(u64, u64)> {
    let st = rustix::fs::statvfs(dir).ok()?;
    let frsize = st.f_frsize;
    Some((st.f_blocks * frsize, st.f_bavail * frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_stat_with_spaces_in_the_name() {
        let line = "42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7 0 1234 10000000 812 18446744073709551615";
        assert_eq!(
            ProcStat::parse(line),
            Some(ProcStat { utime: 250, stime: 50, threads: 7, rss_pages: 812 })
        );
        assert_eq!(ProcStat::parse("garbage"), None);
    }

    #[test]
    fn reads_meminfo_lines() {
        let text = "MemTotal:        8000000 kB\nMemFree:  100 kB\nMemAvailable:    6000000 kB\n";
        assert_eq!(meminfo_kb(text, "MemTotal:"), 8_000_000);
        assert_eq!(meminfo_kb(text, "MemAvailable:"), 6_000_000);
        assert_eq!(meminfo_kb(text, "Missing:"), 0);
    }

    #[test]
    fn samples_this_process() {
        let mut sampler = SystemSampler::new(PathBuf::from("."));
        let s = sampler.sample();
        assert!(s.rss_bytes > 0 && s.threads > 0, "{s:?}");
        assert!(s.mem_total_bytes >= s.mem_available_bytes && s.mem_total_bytes > 0);
        assert!(s.disk_total_bytes >= s.disk_free_bytes && s.disk_total_bytes > 0);
        assert!(s.cpus > 0);
    }
}
