//! `/`: the live view of the pipeline. Server-rendered with the current numbers (a full live
//! frame), then kept current by one WebSocket merging 10 frames a second into the page's
//! [`LiveModel`].
//!
//! The first frame is a [`SharedValue`]: taken synchronously from the backend on the server,
//! serialized into the page (postcard, as the stream's frames: one decoder in the WASM, see
//! [`crate::model::wire`]), read back while hydrating. No resource, no `<Suspense>`: their
//! asynchronous machinery is WASM this page does not need.

use crate::components::controls::{CrashControl, FlowControls, PublishControls, SimulatorControls};
use crate::components::{
    AccessNotice, ConnectionBadge, Counters, DeadLetterPanel, FailureReasons, KindTable, LiveCharts,
    MessageFeed, StageList, Stats, page_access,
};
use crate::format;
use crate::model::wire::Postcard;
use crate::model::{Access, LiveFrame, LiveModel};
use crate::stream::{self, Connection};
use leptos::prelude::*;

/// The live page.
#[component]
pub fn HomePage() -> impl IntoView {
    let (connection, set_connection) = signal(Connection::Connecting);
    let first = SharedValue::<_, Postcard>::new_with_encoding(first_frame).into_inner();
    // What this visitor may do is decided by the server and rendered into the page: locked
    // controls are `<fieldset disabled>` and the notice is server-made markup. Neither changes
    // after the load, and hydration keeps both as the server wrote them (tachys sets neither a
    // static attribute nor `inner_html` when hydrating server HTML), so the browser needs no
    // copy of the decision (it would cost the page's WASM ~0.8 KB gzip; see
    // docs/decisions/0046). The server still refuses any call the visitor may not make.
    let access = page_access();
    view! {
        <header class="top">
            <h1>"Pulse"</h1>
            <p class="tagline">"Events published, processed, batched and acknowledged, live."</p>
            <nav><a href="/dashboard">"Dashboard →"</a></nav>
            <ConnectionBadge connection/>
        </header>
        {match first {
            Ok(frame) => view! { <Live first=frame access set_connection/> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{format!("Could not load the pipeline's state: {e}")}</p> }.into_any(),
        }}
    }
}

/// The first paint's frame: the backend's on the server (or why there is none, in words: the
/// page only shows it). In the browser the value is always read from the page (the page is
/// only ever hydrated), so this side is never called there.
fn first_frame() -> Result<LiveFrame, String> {
    #[cfg(feature = "ssr")]
    {
        crate::api::backend().map(|b| b.live()).map_err(|e| e.to_string())
    }
    #[cfg(not(feature = "ssr"))]
    {
        Err("the first frame is rendered by the server".into())
    }
}

/// Everything live: the model starts from the first paint's frame and follows the stream.
#[component]
fn Live(first: LiveFrame, access: Access, set_connection: WriteSignal<Connection>) -> impl IntoView {
    let model = RwSignal::new(LiveModel::from_frame(first));
    stream::connect(set_connection, move |frame| {
        model.try_update(|m| m.merge(frame));
    });
    let stats = Stats::new(model);
    let letters: Signal<_> = Memo::new(move |_| model.with(|m| m.dead_letters.clone())).into();
    let locked = access.controls_locked.is_some();
    let publish_locked = access.publish_locked.is_some();
    view! {
        <Counters stats/>
        <div class="layout">
            <aside class="controls" aria-label="Controls">
                <AccessNotice access back="/"/>
                <fieldset class="lock" disabled=publish_locked><PublishControls/></fieldset>
                <fieldset class="lock" disabled=locked>
                    <SimulatorControls stats/>
                    <FlowControls stats/>
                    <CrashControl/>
                </fieldset>
            </aside>
            <div class="views">
                <LiveCharts model/>
                <MessageFeed model/>
                <div class="panels">
                    <section class="panel" aria-labelledby="kinds-title">
                        <h2 id="kinds-title">"Per kind (from the batcher)"</h2>
                        <KindTable stats/>
                    </section>
                    <section class="panel" aria-labelledby="reasons-title">
                        <h2 id="reasons-title">"Failures and drops"</h2>
                        <FailureReasons stats/>
                    </section>
                    <fieldset class="lock" disabled=locked>
                        <StageList stats/>
                        <DeadLetterPanel stats letters/>
                    </fieldset>
                </div>
            </div>
        </div>
        <footer class="foot">
            "batches " <span data-testid="batches">{move || format::count(stats.with(|s| s.batches))}</span>
            " · retried " <span data-testid="retried">{move || format::count(stats.with(|s| s.pipeline.retried))}</span>
            " · up " <span data-testid="uptime">{move || format::uptime(stats.with(|s| s.uptime_ms))}</span>
        </footer>
    }
    .into_any()
}
