//! The simulated publisher: start it at a rate (10 msg/s up to the engine's limit) with a share
//! of invalid readings (failure injection), re-tune it while it runs, stop it.

use super::outcome::{Control, Outcome, whole};
use crate::api::{start_simulator, stop_simulator};
use crate::components::Stats;
use crate::format;
use crate::model::{SIMULATOR_MAX_RATE, SIMULATOR_MIN_RATE};
use leptos::prelude::*;

/// Rate and invalid-share inputs, Start / Apply and Stop, and what the publisher is doing.
#[component]
pub fn SimulatorControls(stats: Stats) -> impl IntoView {
    // Start and Stop share one control: whichever was used last speaks.
    let control = Control::new();
    let rate = RwSignal::new("1000".to_string());
    let invalid = RwSignal::new("5".to_string());
    let running = move || stats.with(|s| s.simulator.running);
    let go = move |_| {
        let args = whole(&rate.get(), "rate")
            .and_then(|rate_per_s| Ok((rate_per_s, whole(&invalid.get(), "invalid %")?)));
        control.run(args.map(|(rate_per_s, invalid_pct)| async move {
            start_simulator(rate_per_s, invalid_pct).await?;
            Ok("Simulated publisher running.".into())
        }));
    };
    let said = control.said();
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
                    on:click=move |_| control.run(Ok(async {
                        stop_simulator().await?;
                        Ok("Simulated publisher stopped.".into())
                    }))>"Stop"</button>
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
