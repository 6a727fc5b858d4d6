//! Home tab: the process (version, uptime, RSS, CPU, threads, build profile) and its tokio
//! runtime (workers, alive tasks, global queue depth, blocking threads).

use super::chart::short;
use super::state::DashState;
use crate::format;
use leptos::prelude::*;

/// One labelled figure; `testid` lets specs read it, the label is its accessible name.
#[component]
pub fn Figure(label: &'static str, testid: &'static str, value: Signal<String>) -> impl IntoView {
    view! {
        <div class="stat" role="group" aria-label=label>
            <div class="stat-label">{label}</div>
            <div class="stat-value"><span data-testid=testid>{value}</span></div>
        </div>
    }
}

/// Bytes as `12.3 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = n as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit < UNITS.len() - 1 {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{x:.1} {}", UNITS[unit]) }
}

/// The home tab.
#[component]
pub fn HomeTab(state: DashState) -> impl IntoView {
    let sys = state.system;
    let text = move |f: fn(&crate::model::SystemInfo) -> String| Signal::derive(move || sys.with(f));
    view! {
        <section class="panel" aria-label="Process">
            <h2>"Process"</h2>
            <div class="grid">
                <Figure label="Version" testid="home-version" value=text(|s| s.version.clone())/>
                <Figure label="Build profile" testid="home-profile" value=text(|s| s.profile.clone())/>
                <Figure label="Uptime" testid="home-uptime" value=text(|s| format::uptime(s.uptime_ms))/>
                <Figure label="Memory (RSS)" testid="home-rss" value=text(|s| bytes(s.rss_bytes))/>
                <Figure label="CPU" testid="home-cpu" value=text(|s| format!("{:.1} %", s.cpu_pct))/>
                <Figure label="Threads" testid="home-threads" value=text(|s| s.threads.to_string())/>
            </div>
        </section>
        <section class="panel" aria-label="Tokio runtime">
            <h2>"Tokio runtime (HTTP, WebSockets)"</h2>
            <div class="grid">
                <Figure label="Workers" testid="home-workers" value=text(|s| s.tokio_workers.to_string())/>
                <Figure label="Alive tasks" testid="home-tasks" value=text(|s| s.tokio_alive_tasks.to_string())/>
                <Figure label="Global queue" testid="home-queue" value=text(|s| s.tokio_global_queue.to_string())/>
                <Figure label="Blocking threads" testid="home-blocking" value=text(|s| s.tokio_blocking_threads.to_string())/>
            </div>
        </section>
        <section class="panel" aria-label="Pipeline summary">
            <h2>"Pipeline"</h2>
            <div class="grid">
                <Figure label="Published" testid="home-published" value=Signal::derive(move || format::count(state.stats.with(|s| s.published)))/>
                <Figure label="Throughput" testid="home-throughput" value=Signal::derive(move || format!("{} msg/s", short(state.stats.with(|s| s.throughput_per_s))))/>
            </div>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::bytes;

    #[test]
    fn bytes_pick_a_unit() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(5 * 1024 * 1024), "5.0 MiB");
    }
}
