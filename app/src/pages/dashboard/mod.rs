//! `/dashboard`: LiveDashboard's tabs (home, OS, metrics) and broadway_dashboard's pipeline
//! graph, plus pub/sub and a log tail, with history kept on the server so a reload or a second
//! visitor sees the past at once.
//!
//! The first paint is rendered on the server from one `poll_dashboard(0, …)` call (every kept
//! row); once hydrated, [`poller`] asks for what is new once per refresh interval. Tabs are
//! links (`?tab=metrics`) that [`tabs`] follows in the page: switching does not reload, the
//! poller and history stay.
//!
//! In the browser the page is hydrated by [`hydrate`], a `#[lazy]` function: its code is a
//! separate WASM chunk, fetched only when `/dashboard` is opened, so a visitor of `/` never
//! downloads it. Nothing outside this module may name its items but [`DashboardRoot`] (the
//! server renders it) and [`hydrate`].

mod chart;
mod cluster;
mod home;
mod logs;
mod metrics;
mod os;
mod pipeline;
mod poller;
mod pubsub;
mod state;
mod tabs;

use crate::api::poll_dashboard;
use crate::model::{LogLevel, parse_refresh};
use leptos::prelude::*;
use state::DashState;

/// `/dashboard`, framed: what the server renders and the browser hydrates.
#[component]
pub fn DashboardRoot() -> impl IntoView {
    view! { <super::Frame><DashboardPage/></super::Frame> }
}

/// Hydrates `/dashboard` in the browser. `#[lazy]`: with `cargo leptos build --split`, this and
/// everything only it reaches (tabs, charts, the poll's wire types) is a separate WASM chunk,
/// fetched when the page is opened, so a visitor of `/` never downloads it.
#[cfg(feature = "hydrate")]
#[leptos::lazy]
pub fn hydrate() {
    leptos::mount::hydrate_body(DashboardRoot);
}

/// The value of `name` in the page's query string: the request's on the server (the first
/// paint), the address bar's in the browser; percent-decoded either way (see [`param_in`]).
fn query_param(name: &str) -> Option<String> {
    param_in(&current_query()?, name)
}

/// The `name=value` pairs of a query string (with or without its `?`), as written; `a` alone is
/// `a=`.
fn raw_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// The value of `name` in a query string, names and values percent-decoded (`?tab=pub%73ub`
/// is `pubsub`, `+` is a space).
fn param_in(query: &str, name: &str) -> Option<String> {
    raw_pairs(query).find(|(key, _)| decode(key) == name).map(|(_, value)| decode(value))
}

/// `text` percent-decoded, `+` as a space (how browsers encode a query). A `%` not followed
/// by two hex digits is kept as written; bytes that are not UTF-8 become U+FFFD.
fn decode(text: &str) -> String {
    fn hex(b: Option<&u8>) -> Option<u8> {
        char::from(*b?).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            b'+' => out.push(b' '),
            b'%' => match (hex(bytes.get(i)), hex(bytes.get(i + 1))) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            _ => out.push(b),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn current_query() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>().and_then(|parts| parts.uri.query().map(str::to_string))
    }
    #[cfg(not(feature = "ssr"))]
    {
        window().location().search().ok()
    }
}

/// The tabs: query value and accessible name.
const TABS: [(&str, &str); 7] = [
    ("home", "Home"),
    ("os", "OS"),
    ("metrics", "Metrics"),
    ("pipeline", "Pipeline"),
    ("pubsub", "Pub/sub"),
    ("cluster", "Cluster"),
    ("logs", "Logs"),
];

/// The dashboard page.
#[component]
fn DashboardPage() -> impl IntoView {
    let tab = RwSignal::new(query_param("tab").unwrap_or_else(|| "home".into()));
    tabs::follow_history(tab);
    // Inputs from the address bar are validated; a bad one is shown, the default used.
    let (refresh, refresh_error) = match query_param("refresh") {
        None => (1, None),
        Some(s) => match parse_refresh(&s) {
            Ok(n) => (n, None),
            Err(e) => (1, Some(e.to_string())),
        },
    };
    let (level, level_error) = match query_param("level") {
        None => (LogLevel::Info, None),
        Some(s) => match LogLevel::parse(&s) {
            Ok(l) => (l, None),
            Err(e) => (LogLevel::Info, Some(e.to_string())),
        },
    };
    let first = Resource::new(|| (), move |_| poll_dashboard(0, 0, level.as_str().to_string()));
    // The state lives with the page, not inside the Suspense: views rendered (and dry-resolved
    // on the server) from the first paint never read a signal a re-run disposed.
    let state = DashState::new(refresh, level);
    poller::start(state);
    let input_errors = [refresh_error, level_error].into_iter().flatten().collect::<Vec<_>>();
    view! {
        <header class="top">
            <h1>"Pulse dashboard"</h1>
            <p class="tagline"><a href="/">"← live page"</a></p>
        </header>
        <nav class="dash-tabs" aria-label="Dashboard tabs">
            {TABS
                .into_iter()
                .map(|(key, name)| {
                    let current = move || (tab.get() == key).then_some("page");
                    view! {
                        <a href=format!("/dashboard?tab={key}") aria-current=current on:click=move |ev| tabs::switch(ev, tab, key)>
                            {name}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
        {input_errors
            .into_iter()
            .map(|e| view! { <p class="error" role="alert">{e}</p> })
            .collect_view()}
        <Suspense fallback=|| view! { <p class="muted">"Loading the dashboard…"</p> }>
            {move || Suspend::new(async move {
                match first.await {
                    Ok(update) => {
                        state.apply(update, level);
                        view! { <Dashboard state tab/> }.into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{format!("Could not load the dashboard: {e}")}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// The live part: the refresh control and the current tab, over the page's state.
#[component]
fn Dashboard(state: DashState, tab: RwSignal<String>) -> impl IntoView {
    let refresh = state.refresh.get_untracked();
    let on_refresh = move |ev| match parse_refresh(&event_target_value(&ev)) {
        Ok(n) => {
            state.error.set(None);
            state.refresh.set(n);
        }
        Err(e) => state.error.set(Some(e.to_string())),
    };
    view! {
        <div class="dash-bar">
            <label>
                "Refresh "
                <select aria-label="Refresh interval" on:change=on_refresh prop:value=move || state.refresh.get().to_string()>
                    {crate::model::REFRESH_CHOICES
                        .into_iter()
                        .map(|n| view! { <option value=n.to_string() selected=n == refresh>{format!("{n} s")}</option> })
                        .collect_view()}
                </select>
            </label>
            <span class="muted" data-testid="dash-updated">
                {move || format!("sample #{}", state.rows.with(|r| r.back().map_or(0, |r| r.seq)))}
            </span>
            {move || state.error.get().map(|e| view! { <span class="error" role="alert">{e}</span> })}
        </div>
        {move || match tab.get().as_str() {
            "os" => view! { <os::OsTab state/> }.into_any(),
            "metrics" => view! { <metrics::MetricsTab state/> }.into_any(),
            "pipeline" => view! { <pipeline::PipelineTab state/> }.into_any(),
            "pubsub" => view! { <pubsub::PubSubTab state/> }.into_any(),
            "cluster" => view! { <cluster::ClusterTab state/> }.into_any(),
            "logs" => view! { <logs::LogsTab state/> }.into_any(),
            "home" => view! { <home::HomeTab state/> }.into_any(),
            other => view! { <p class="error" role="alert">{format!("No tab named {other:?}.")}</p> }.into_any(),
        }}
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::{decode, param_in};

    #[test]
    fn query_parameters_are_found_by_name() {
        assert_eq!(param_in("?tab=os&refresh=5", "refresh").as_deref(), Some("5"));
        assert_eq!(param_in("tab=os", "tab").as_deref(), Some("os"));
        assert_eq!(param_in("?level", "level").as_deref(), Some(""));
        assert_eq!(param_in("?tabs=x", "tab"), None);
        assert_eq!(param_in("", "tab"), None);
    }

    #[test]
    fn query_values_are_percent_decoded() {
        assert_eq!(param_in("?tab=pub%73ub", "tab").as_deref(), Some("pubsub"));
        assert_eq!(param_in("?t%61b=os", "tab").as_deref(), Some("os"), "names too");
        assert_eq!(param_in("?level=a+b%20c", "level").as_deref(), Some("a b c"));
        assert_eq!(param_in("?x=1&tab=%6F%73&tab=home", "tab").as_deref(), Some("os"));
        assert_eq!(param_in("?refresh=%35", "refresh").as_deref(), Some("5"));
    }

    #[test]
    fn bad_escapes_are_kept_as_written() {
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%+1"), "% 1", "a sign is not a hex digit");
        assert_eq!(decode("%25%32%35"), "%25", "decoded once, not twice");
        assert_eq!(decode("caf%C3%A9"), "café");
        assert_eq!(decode("%FF"), "\u{FFFD}");
    }
}
