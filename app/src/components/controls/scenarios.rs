//! "Crash a processor": a reading whose handler panics. The panic is caught, the message is
//! retried then fails with the panic's message, and the processor goes on.

use super::outcome::{Control, Outcome};
use crate::api::crash_processor;
use leptos::prelude::*;

/// The crash button and what it did.
#[component]
pub fn CrashControl() -> impl IntoView {
    let crash = Control::new();
    let said = crash.said();
    let go = move |_| {
        crash.run(Ok(async {
            crash_processor().await?;
            Ok("Sent a reading from sensor \"crash\": its handler panics; watch it fail in the feed.".into())
        }))
    };
    view! {
        <fieldset class="control">
            <legend>"Fault tolerance"</legend>
            <div class="row">
                <button type="button" class="danger" data-testid="crash" on:click=go>
                    "Crash a processor"
                </button>
            </div>
            <p class="muted small">"Kill any stage from the stage list: its supervisor restarts it, nothing is lost."</p>
            <Outcome testid="crash-outcome" said/>
        </fieldset>
    }
}
