//! Why the controls are locked, and the operator's unlock form. Rendered from the [`Access`]
//! the server decided for this visitor when it rendered the page; locked controls sit in a
//! `<fieldset disabled>`, so the browser itself refuses their clicks. The unlock form is a
//! plain HTML form (no WASM): posting it reloads the page, unlocked.

use crate::model::Access;
#[cfg(feature = "ssr")]
use crate::model::UNLOCK_PATH;
use leptos::prelude::*;

/// The notice above the controls: why they are locked, the unlock form, or the operator's
/// "lock again". It never changes once the page is loaded, so its markup is made only on the
/// server ([`notice_html`]) and the browser keeps it: hydration does not set `inner_html`
/// (tachys, when hydrating from server HTML), so the browser's WASM carries none of this
/// markup (about 2 KB gzip of hydration code if written as a view).
#[component]
pub fn AccessNotice(access: Access, back: &'static str) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let html = notice_html(&access, back);
    #[cfg(not(feature = "ssr"))]
    let html = {
        let _ = (access, back);
        String::new()
    };
    view! { <div class="access-slot" inner_html=html></div> }
}

/// The notice's markup for this visitor; empty when everything is allowed and nobody unlocked.
#[cfg(feature = "ssr")]
pub fn notice_html(access: &Access, back: &str) -> String {
    use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
    let why = access.controls_locked.as_deref().or(access.publish_locked.as_deref());
    if why.is_none() && !access.unlocked {
        return String::new();
    }
    let back = attr(back);
    let mut html =
        String::from(r#"<fieldset class="control access" data-testid="access"><legend>Access</legend>"#);
    if let Some(why) = why {
        html += &format!(r#"<p class="small" role="note" data-testid="locked-reason">{}</p>"#, text(why));
    }
    if access.refused {
        html += r#"<p class="error" role="alert" data-testid="unlock-refused">That is not the operator token.</p>"#;
    }
    if access.token_unlocks && !access.unlocked {
        html += &format!(
            r#"<form class="row" method="post" action="{UNLOCK_PATH}" data-testid="unlock-form"><input type="hidden" name="back" value="{back}"><label for="operator-token">Operator token</label><input id="operator-token" name="token" type="password" autocomplete="current-password" size="16" required><button type="submit" data-testid="unlock">Unlock</button></form>"#
        );
    }
    if access.unlocked {
        html += &format!(
            r#"<form class="row" method="post" action="{UNLOCK_PATH}"><input type="hidden" name="back" value="{back}"><input type="hidden" name="action" value="lock"><span class="tag tag-ok" data-testid="unlocked">operator</span><button type="submit" class="secondary" data-testid="lock">Lock the controls</button></form>"#
        );
    }
    html + "</fieldset>"
}

/// What the page being rendered may do, from the server (its request's headers and query).
/// In the browser: everything open, which hydration never writes to the page (see
/// `pages::home`), so the server's disabled controls and notice stay as rendered.
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

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn the_notice_says_why_offers_the_form_and_escapes() {
        assert_eq!(notice_html(&Access::open(), "/"), "", "nothing to say");
        let locked = Access {
            controls_locked: Some("needs <the> \"token\"".into()),
            token_unlocks: true,
            refused: true,
            ..Access::default()
        };
        let html = notice_html(&locked, "/dash\"board");
        assert!(html.contains("needs &lt;the&gt; \"token\""), "{html}");
        assert!(html.contains(r#"value="/dash&quot;board""#), "{html}");
        assert!(
            html.contains("unlock-form")
                && html.contains("unlock-refused")
                && !html.contains("data-testid=\"lock\"")
        );
        let unlocked = Access { unlocked: true, token_unlocks: true, ..Access::default() };
        let html = notice_html(&unlocked, "/");
        assert!(
            html.contains(r#"data-testid="lock""#)
                && !html.contains("unlock-form")
                && !html.contains("locked-reason")
        );
    }
}
