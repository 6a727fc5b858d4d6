//! Flow controls: pause / resume intake, processor concurrency − / +, and the rate limit.

use super::outcome::{Control, Outcome, whole};
use crate::api::{set_concurrency, set_paused, set_rate_limit};
use crate::components::Stats;
use crate::format;
use leptos::prelude::*;

/// Pause / resume, concurrency stepper and rate limit, each saying what it did.
#[component]
pub fn FlowControls(stats: Stats) -> impl IntoView {
    let pause = Control::new();
    let concurrency = Control::new();
    let limit = Control::new();
    let controls = move || stats.with(|s| s.pipeline.controls.clone());
    let paused = move || controls().paused;
    let current = move || controls().concurrency;
    let asked_paused = asked(pause, paused);
    let asked_concurrency = asked(concurrency, current);
    let per_s = RwSignal::new("500".to_string());
    let toggle = move |_| {
        let to = !asked_paused.get_untracked().unwrap_or_else(|| untrack(paused));
        asked_paused.set(Some(to));
        pause.run(Ok(async move {
            set_paused(to).await?;
            Ok("Done.".into())
        }));
    };
    let step = move |by: i64| {
        let from = asked_concurrency.get_untracked().unwrap_or_else(|| untrack(current));
        let to = i64::from(from) + by;
        if let Ok(n @ 1..) = u32::try_from(to) {
            asked_concurrency.set(Some(n));
        }
        // Below 1 still goes to the server, which says why it cannot be.
        let call = u32::try_from(to).map_err(|_| {
            format!("concurrency must be between 1 and {}, got {to}", untrack(controls).max_concurrency)
        });
        concurrency.run(call.map(|n| async move {
            let previous = set_concurrency(n).await?;
            Ok(format!("Concurrency changed (was {previous})."))
        }));
    };
    let limit_to = move |allowed: Option<u64>| async move {
        set_rate_limit(allowed, allowed.map(|_| 1_000)).await?;
        Ok("Rate limit updated.".into())
    };
    let paused_said = pause.said();
    let concurrency_said = concurrency.said();
    let limit_said = limit.said();
    view! {
        <fieldset class="control">
            <legend>"Flow"</legend>
            <div class="row">
                <button type="button" data-testid="pause-toggle" aria-pressed=move || paused().to_string()
                    disabled=move || pause.pending() on:click=toggle>
                    {move || if paused() { "Resume intake" } else { "Pause intake" }}
                </button>
                <span class=move || if paused() { "tag tag-dropped" } else { "tag tag-ok" } data-testid="flow-state">
                    {move || if paused() { "paused" } else { "flowing" }}
                </span>
            </div>
            <Outcome testid="pause-outcome" said=paused_said/>
            <div class="row" role="group" aria-label="Processor concurrency">
                <span>"Processors"</span>
                <button type="button" class="square" aria-label="One processor fewer" data-testid="concurrency-down"
                    disabled=move || concurrency.pending() on:click=move |_| step(-1)>"−"</button>
                <output class="num stepper" data-testid="concurrency" aria-live="polite">{current}</output>
                <button type="button" class="square" aria-label="One processor more" data-testid="concurrency-up"
                    disabled=move || concurrency.pending() on:click=move |_| step(1)>"+"</button>
                <span class="muted small">{move || format!("of {}", controls().max_concurrency)}</span>
            </div>
            <Outcome testid="concurrency-outcome" said=concurrency_said/>
            <div class="row">
                <label for="rate-limit">"Rate limit"</label>
                <input id="rate-limit" type="text" inputmode="numeric" size="8" bind:value=per_s data-testid="rate-limit"/>
                <span class="muted small">"msg/s"</span>
                <button type="button" data-testid="rate-limit-apply"
                    on:click=move |_| limit.run(whole(&per_s.get(), "rate limit").map(|n| limit_to(Some(n))))>"Apply"</button>
                <button type="button" class="secondary" data-testid="rate-limit-lift"
                    on:click=move |_| limit.run(Ok(limit_to(None)))>"Lift"</button>
            </div>
            <p class="muted small state" data-testid="rate-limit-state">
                {move || match controls().rate_limit {
                    Some(l) => format!("Limited to {} per {} ms", format::count(l.allowed_messages), format::count(l.interval_ms)),
                    None => "No rate limit".into(),
                }}
            </p>
            <Outcome testid="rate-limit-outcome" said=limit_said/>
        </fieldset>
    }
}

/// The value asked for last, until the stream shows it. A quick second click builds on what was
/// asked, not on a figure the next frame (up to 100 ms away) has not brought yet; the buttons
/// are disabled while a call is in flight, so calls reach the server in order. Forgotten once
/// the shown value matches, or when the call failed.
fn asked<T>(control: Control, shown: impl Fn() -> T + Send + Sync + 'static) -> RwSignal<Option<T>>
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    let asked = RwSignal::new(None::<T>);
    Effect::new(move |_| {
        let now = shown();
        if asked.get_untracked().is_some_and(|a| a == now) {
            asked.set(None);
        }
    });
    Effect::new(move |_| {
        if control.failed() {
            asked.set(None);
        }
    });
    asked
}
