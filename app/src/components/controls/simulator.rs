//! The simulated publisher: start it at a rate (10 msg/s up to the engine's limit) with a share
//! of invalid readings (failure injection), re-tune it while it runs, stop it.

use super::outcome::{Control, Outcome, whole};
use crate::api::{StartSimulator, StopSimulator};
use crate::format;
use crate::model::{SIMULATOR_MAX_RATE, SIMULATOR_MIN_RATE, StatsSnapshot};
use leptos::prelude::*;

/// Rate and invalid-share inputs, Start / Apply and Stop, and what the publisher is doing.
#[component]
pub fn SimulatorControls(stats: Signal<StatsSnapshot>) -> impl IntoView {
    let start = Control::<StartSimulator>::new();
    let stop = Control::<StopSimulator>::new();
    let rate = RwSignal::new("1000".to_string());
    let invalid = RwSignal::new("5".to_string());
    let running = move || stats.with(|s| s.simulator.running);
    // Whichever button was used last speaks.
    let stopped_last = RwSignal::new(false);
    let go = move |_| {
        stopped_last.set(false);
        let args = whole(&rate.get(), "rate").and_then(|rate_per_s| {
            Ok(StartSimulator { rate_per_s, invalid_pct: whole(&invalid.get(), "invalid %")? })
        });
        start.run(args);
    };
    let started = start.said(|_| "Simulated publisher running.".into());
    let stopped = stop.said(|_| "Simulated publisher stopped.".into());
    let said = Signal::derive(move || if stopped_last.get() { stopped.get() } else { started.get() });
    view! {
        <fieldset class="control">
            <legend>"Simulated publisher"</legend>
            <div class="row">
                <label for="sim-rate">"Rate"</label>
                <input id="sim-rate" type="text" inputmode="numeric" size="8" bind:value=rate data-testid="sim-rate"
                    aria-describedby="sim-rate-help"/>
                <span class="muted small" id="sim-rate-help">{format!("msg/s ({}–{})", SIMULATOR_MIN_RATE, format::count(SIMULATOR_MAX_RATE.into()))}</span>
            </div>
            <div class="row">
                <label for="sim-invalid">"Invalid"</label>
                <input id="sim-invalid" type="text" inputmode="numeric" size="4" bind:value=invalid data-testid="sim-invalid"/>
                <span class="muted small">"% out of range"</span>
            </div>
            <div class="row">
                <button type="button" data-testid="sim-start" on:click=go>
                    {move || if running() { "Apply" } else { "Start" }}
                </button>
                <button type="button" class="secondary" data-testid="sim-stop" disabled=move || !running()
                    on:click=move |_| {
                        stopped_last.set(true);
                        stop.run(Ok(StopSimulator {}));
                    }>"Stop"</button>
            </div>
            <p class="muted small state" data-testid="sim-state">
                {move || stats.with(|s| {
                    let sim = &s.simulator;
                    if sim.running {
                        format!("Running: {} msg/s, {} % invalid · {} published, {} dropped",
                            format::count(sim.rate_per_s.into()), sim.invalid_pct,
                            format::count(sim.published), format::count(sim.dropped))
                    } else {
                        format!("Stopped · {} published so far", format::count(sim.published))
                    }
                })}
            </p>
            <Outcome testid="sim-outcome" said/>
        </fieldset>
    }
}
