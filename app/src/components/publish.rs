//! The publish buttons and what their last call did.

use crate::api::PublishSample;
use crate::format;
use leptos::prelude::*;

/// "Publish 1" and "Publish 1,000": each calls the `publish_sample` server function; the result
/// (or the error) is announced next to the buttons.
#[component]
pub fn PublishButtons() -> impl IntoView {
    let publish = ServerAction::<PublishSample>::new();
    let outcome = move || match publish.value().get() {
        None => String::new(),
        Some(Ok(n)) => format!("Published {} event{}.", format::count(n), if n == 1 { "" } else { "s" }),
        Some(Err(e)) => format!("Could not publish: {e}"),
    };
    let is_error = move || matches!(publish.value().get(), Some(Err(_)));
    view! {
        <div class="publish">
            <button type="button" on:click=move |_| { publish.dispatch(PublishSample { count: 1 }); }>
                "Publish 1"
            </button>
            <button type="button" on:click=move |_| { publish.dispatch(PublishSample { count: 1_000 }); }>
                "Publish 1,000"
            </button>
            <span class="publish-outcome" class:error=is_error role="status" data-testid="publish-outcome">
                {outcome}
            </span>
        </div>
    }
}
