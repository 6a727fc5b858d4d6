//! Logs tab: a live tail of the server's tracing events, newest last, filtered by level.
//! Lines are text nodes (Leptos escapes them): a message holding markup shows as text.

use super::state::DashState;
use crate::model::LogLevel;
use leptos::prelude::*;

/// `HH:MM:SS.mmm` (UTC) of a unix-ms time.
pub fn clock(t_ms: u64) -> String {
    let s = t_ms / 1000;
    format!("{:02}:{:02}:{:02}.{:03}", (s / 3600) % 24, (s / 60) % 60, s % 60, t_ms % 1000)
}

/// The logs tab.
#[component]
pub fn LogsTab(state: DashState) -> impl IntoView {
    let on_level = move |ev| match LogLevel::parse(&event_target_value(&ev)) {
        Ok(level) => state.set_level(level),
        Err(e) => state.error.set(Some(e.to_string())),
    };
    let current = state.level.get_untracked();
    view! {
        <section class="panel" aria-label="Log tail">
            <h2>"Log tail"</h2>
            <label>
                "Level "
                <select aria-label="Log level" on:change=on_level>
                    {LogLevel::ALL
                        .into_iter()
                        .map(|l| view! { <option value=l.as_str() selected=l == current>{l.as_str()}</option> })
                        .collect_view()}
                </select>
            </label>
            <span class="muted" data-testid="log-count">{move || format!(" {} lines", state.logs.with(|l| l.len()))}</span>
            <ol class="log-tail" data-testid="log-tail">
                <For each=move || state.logs.get() key=|l| l.seq let:line>
                    <li class=format!("log log-{}", line.level.as_str()) data-testid="log-line">
                        <span class="log-time">{clock(line.t_ms)}</span>
                        " "<span class="log-level">{line.level.as_str()}</span>
                        " "<span class="log-target">{line.target}</span>
                        " "<span class="log-message">{line.message}</span>
                    </li>
                </For>
            </ol>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    #[test]
    fn clock_reads_utc() {
        assert_eq!(super::clock(3_723_004), "01:02:03.004");
    }
}
