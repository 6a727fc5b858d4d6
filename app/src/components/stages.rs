//! The running stages with their rate, queue and restart counts, each with a "Kill" button:
//! the stage's task dies, its supervisor restarts it (restarts +1) and nothing is lost.

use super::Stats;
use super::controls::{Control, Outcome};
use crate::api::kill_stage;
use crate::format;
use crate::model::{StageKey, StageRole};
use leptos::prelude::*;

/// One row per stage task; the producer runs inside the processors and cannot be killed.
#[component]
pub fn StageList(stats: Stats) -> impl IntoView {
    let kill = Control::new();
    let said = kill.said();
    // Rows are keyed by the stage's key only, so a row (and its Kill button) stays the same
    // element while its figures change ten times a second: a click is never lost to a redraw.
    let keys = move || {
        stats.with(|s| {
            let running = s.pipeline.controls.concurrency;
            s.pipeline
                .stages
                .iter()
                .filter(|st| st.role() != StageRole::Processor || st.stage.index < running)
                .map(|st| st.stage.clone())
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="panel" aria-labelledby="stages-title">
            <div class="panel-head">
                <h2 id="stages-title">"Stages"</h2>
                <span class="muted small">"restarts "<strong data-testid="restarts">{move || format::count(stats.with(|s| s.pipeline.restarts))}</strong></span>
            </div>
            <table class="kinds stages" data-testid="stages">
                <thead><tr><th scope="col">"stage"</th><th scope="col">"msg/s"</th><th scope="col" class="col-queue">"queue"</th>
                    <th scope="col">"restarts"</th><th scope="col"><span class="visually-hidden">"action"</span></th></tr></thead>
                <tbody>
                    <For each=keys key=StageKey::clone let(stage)>
                        <StageRow stage stats kill/>
                    </For>
                </tbody>
            </table>
            <Outcome testid="kill-outcome" said/>
        </section>
    }
    .into_any()
}

/// One stage's figures, read from the stats by its key.
#[component]
fn StageRow(stage: StageKey, stats: Stats, kill: Control) -> impl IntoView {
    let name = stage.label();
    let figure = {
        let stage = stage.clone();
        move |f: fn(&crate::model::StageStats) -> String| {
            let stage = stage.clone();
            move || {
                stats.with(|s| {
                    s.pipeline.stages.iter().find(|st| st.stage == stage).map(f).unwrap_or_default()
                })
            }
        }
    };
    let button = (stage.role != StageRole::Producer).then(|| {
        let (target, label) = (stage.clone(), name.clone());
        view! {
            <button type="button" class="small-button danger" aria-label=format!("Kill {name}")
                on:click=move |_| {
                    let (target, label) = (target.clone(), label.clone());
                    kill.run(Ok(async move {
                        kill_stage(target).await?;
                        Ok(format!("Killed {label}: its supervisor restarted it."))
                    }));
                }>"Kill"</button>
        }
    });
    view! {
        <tr data-stage=name.clone()>
            <th scope="row">{name.clone()}</th>
            <td>{figure(|st| format::rate(st.per_s))}</td>
            <td class="col-queue">{figure(|st| format::count(st.queue))}</td>
            <td data-testid="stage-restarts">{figure(|st| format::count(st.restarts))}</td>
            <td>{button}</td>
        </tr>
    }
    .into_any()
}
