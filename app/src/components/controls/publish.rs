//! Publish one reading, or a burst of N, through the `publish_sample` server function.

use super::outcome::{Control, Outcome, counted, whole};
use crate::api::publish_sample;
use crate::error::AppError;
use leptos::prelude::*;

/// "Publish one" and "Publish burst" with the burst size.
#[component]
pub fn PublishControls() -> impl IntoView {
    let publish = Control::new();
    let burst = RwSignal::new("1000".to_string());
    let said = publish.said();
    view! {
        <fieldset class="control">
            <legend>"Publish"</legend>
            <div class="row">
                <button type="button" data-testid="publish-one"
                    on:click=move |_| publish.run(Ok(published(1)))>"Publish one"</button>
            </div>
            <div class="row">
                <label for="burst">"Burst of"</label>
                <input id="burst" type="text" inputmode="numeric" size="7" bind:value=burst data-testid="burst-size"/>
                <button type="button" data-testid="publish-burst"
                    on:click=move |_| publish.run(whole(&burst.get(), "burst size").map(published))>
                    "Publish burst"
                </button>
            </div>
            <Outcome testid="publish-outcome" said/>
        </fieldset>
    }
}

/// Publishes `count` readings and says how many went.
async fn published(count: u32) -> Result<String, AppError> {
    publish_sample(count).await.map(|n| format!("Published {}.", counted(n, "event")))
}
