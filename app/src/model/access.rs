//! Who may do what on this page: what the server decided for this visitor, rendered into the
//! page so a locked control says why (and how to unlock it) instead of failing on click.

use serde::{Deserialize, Serialize};

/// The form a browser posts the operator's token to; the server sets an `HttpOnly`,
/// `SameSite=Strict` cookie and sends the browser back to the page it came from.
pub const UNLOCK_PATH: &str = "/api/session";

/// The answer the server decided for one visitor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// Why the destructive controls (kill, crash, pause, concurrency, rate limit, simulator,
    /// taps, replay, purge) are refused to this visitor; `None`: they work.
    pub controls_locked: Option<String>,
    /// Why publishing from the page is refused; `None`: it works.
    pub publish_locked: Option<String>,
    /// Whether the operator's token would unlock them (the page then shows the unlock form).
    pub token_unlocks: bool,
    /// Whether this browser holds the operator's session (the page then offers to lock again).
    pub unlocked: bool,
    /// The last unlock attempt was refused: the token was wrong.
    pub refused: bool,
}

impl Access {
    /// Everything allowed, no token involved: a loopback listener without tokens.
    pub fn open() -> Self {
        Self::default()
    }
}
