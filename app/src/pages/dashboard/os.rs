//! OS tab: load average, memory and the data directory's disk, as the kernel reports them.

use super::home::{Figure, bytes};
use super::state::DashState;
use crate::model::SystemInfo;
use leptos::prelude::*;

/// Used share of a total, in percent (0 for an unknown total).
fn used_pct(total: u64, free: u64) -> f64 {
    if total == 0 { 0.0 } else { total.saturating_sub(free) as f64 * 100.0 / total as f64 }
}

/// The OS tab.
#[component]
pub fn OsTab(state: DashState) -> impl IntoView {
    let sys = state.system;
    let text = move |f: fn(&SystemInfo) -> String| Signal::derive(move || sys.with(f));
    view! {
        <section class="panel" aria-label="Load">
            <h2>"Load average"</h2>
            <div class="grid">
                <Figure label="1 min" testid="os-load1" value=text(|s| format!("{:.2}", s.load[0]))/>
                <Figure label="5 min" testid="os-load5" value=text(|s| format!("{:.2}", s.load[1]))/>
                <Figure label="15 min" testid="os-load15" value=text(|s| format!("{:.2}", s.load[2]))/>
                <Figure label="CPUs" testid="os-cpus" value=text(|s| s.cpus.to_string())/>
            </div>
        </section>
        <section class="panel" aria-label="Memory">
            <h2>"Memory"</h2>
            <div class="grid">
                <Figure label="Total" testid="os-mem-total" value=text(|s| bytes(s.mem_total_bytes))/>
                <Figure label="Available" testid="os-mem-available" value=text(|s| format!("{} KiB", crate::format::count(s.mem_available_bytes / 1024)))/>
                <Figure label="Used" testid="os-mem-used" value=text(|s| format!("{:.1} %", used_pct(s.mem_total_bytes, s.mem_available_bytes)))/>
            </div>
        </section>
        <section class="panel" aria-label="Disk">
            <h2>"Disk of the data directory"</h2>
            <div class="grid">
                <Figure label="Size" testid="os-disk-total" value=text(|s| bytes(s.disk_total_bytes))/>
                <Figure label="Free" testid="os-disk-free" value=text(|s| bytes(s.disk_free_bytes))/>
                <Figure label="Used" testid="os-disk-used" value=text(|s| format!("{:.1} %", used_pct(s.disk_total_bytes, s.disk_free_bytes)))/>
            </div>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    #[test]
    fn used_pct_handles_unknown_totals() {
        assert_eq!(super::used_pct(0, 0), 0.0);
        assert_eq!(super::used_pct(200, 50), 75.0);
    }
}
