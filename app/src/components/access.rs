//! Why the controls are locked, and the operator's unlock form. Rendered from the [`Access`]
//! the server decided for this visitor when it rendered the page; locked controls sit in a
//! `<fieldset disabled>` ([`Locked`]), so the browser itself refuses their clicks. The unlock
//! form is a plain HTML form (no WASM): posting it reloads the page, unlocked.

use crate::model::{Access, UNLOCK_PATH};
use leptos::prelude::*;

/// The notice above the controls: nothing when everything is allowed.
#[component]
pub fn AccessNotice(access: Access, back: &'static str) -> impl IntoView {
    let locked = access.controls_locked.clone().or_else(|| access.publish_locked.clone());
    let unlock = (access.token_unlocks && !access.unlocked).then(|| {
        view! {
            <form class="row" method="post" action=UNLOCK_PATH data-testid="unlock-form">
                <input type="hidden" name="back" value=back/>
                <label for="operator-token">"Operator token"</label>
                <input id="operator-token" name="token" type="password" autocomplete="current-password"
                    size="16" required data-testid="operator-token"/>
                <button type="submit" data-testid="unlock">"Unlock"</button>
            </form>
        }
    });
    let refused = access.refused.then(|| {
        view! { <p class="error" role="alert" data-testid="unlock-refused">"That is not the operator token."</p> }
    });
    let lock = access.unlocked.then(|| {
        view! {
            <form class="row" method="post" action=UNLOCK_PATH>
                <input type="hidden" name="back" value=back/>
                <input type="hidden" name="action" value="lock"/>
                <span class="tag tag-ok" data-testid="unlocked">"operator"</span>
                <button type="submit" class="secondary" data-testid="lock">"Lock the controls"</button>
            </form>
        }
    });
    (locked.is_some() || lock.is_some()).then(|| {
        view! {
            <fieldset class="control access" data-testid="access">
                <legend>"Access"</legend>
                {locked.map(|why| view! { <p class="small" role="note" data-testid="locked-reason">{why}</p> })}
                {refused}
                {unlock}
                {lock}
            </fieldset>
        }
    })
}

/// Controls the visitor may not use: the group is a disabled fieldset (no layout of its own).
#[component]
pub fn Locked(locked: bool, children: Children) -> impl IntoView {
    view! { <fieldset class="lock" disabled=locked>{children()}</fieldset> }
}

/// What the page being rendered may do, from the server (its request's headers and query);
/// read back from the page while hydrating.
pub fn page_access() -> Access {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>();
        match (crate::api::backend(), parts) {
            (Ok(backend), Some(parts)) => backend.access(&parts.headers, parts.uri.query()),
            // No request (a test rendering the page alone): nothing to guard against.
            _ => Access::open(),
        }
    }
    #[cfg(not(feature = "ssr"))]
    {
        Access::open()
    }
}
