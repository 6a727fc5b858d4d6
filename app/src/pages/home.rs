//! `/`: the live view of the pipeline.

use crate::api::get_stats;
use crate::components::{ConnectionBadge, Counters, FailureReasons, KindTable, PublishButtons};
use crate::format;
use crate::model::StatsSnapshot;
use crate::stream::{LiveStats, use_live_stats};
use leptos::prelude::*;

/// The live page: server-rendered with the current numbers, then kept current by the stream.
#[component]
pub fn HomePage() -> impl IntoView {
    let live = use_live_stats();
    let first = Resource::new(|| (), |_| get_stats());
    view! {
        <header class="top">
            <h1>"Pulse"</h1>
            <p class="tagline">"Events published, processed, batched and acknowledged, live."</p>
            <a href="/dashboard">"Dashboard →"</a>
            <ConnectionBadge connection=live.connection/>
        </header>
        <PublishButtons/>
        <Suspense fallback=|| view! { <p class="muted">"Loading the current numbers…"</p> }>
            {move || Suspend::new(async move {
                match first.await {
                    Ok(snapshot) => view! { <Live first=snapshot live/> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{format!("Could not load stats: {e}")}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Everything that shows numbers: the stream's newest snapshot, else the first paint's.
#[component]
fn Live(first: StatsSnapshot, live: LiveStats) -> impl IntoView {
    let stats = Signal::derive(move || live.snapshot.get().unwrap_or_else(|| first.clone()));
    view! {
        <Counters stats/>
        <div class="panels">
            <section class="panel">
                <h2>"Per kind"</h2>
                <KindTable stats/>
            </section>
            <section class="panel">
                <h2>"Failures and drops"</h2>
                <FailureReasons stats/>
            </section>
        </div>
        <footer class="foot">
            "batches " <span data-testid="batches">{move || format::count(stats.with(|s| s.batches))}</span>
            " · up " <span data-testid="uptime">{move || format::uptime(stats.with(|s| s.uptime_ms))}</span>
        </footer>
    }
    .into_any()
}
