//! Who may act: the operator's token for the destructive controls, the optional ingest token
//! for publishing.
//!
//! The rule (LiveDashboard's `allow_destructive_actions`, made safe by default):
//! - with `--admin-token`, every destructive control needs it, whatever the listener;
//! - without one, they work only when the listener is loopback (nobody else can reach it), and
//!   on any other address they are off: the page says so and how to turn them on.
//!
//! A client shows a token as `Authorization: Bearer <token>`; a browser gets the operator's
//! token into an `HttpOnly`, `SameSite=Strict` cookie by posting it to the unlock form
//! ([`app::model::UNLOCK_PATH`], `crate::guard::session`). Tokens are compared in constant time
//! (`subtle`). Which server functions are destructive is `app::api::classes`.

use super::Refusal;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The cookie holding the operator's token in a browser that unlocked the controls.
pub(crate) const SESSION_COOKIE: &str = "pulse_operator";

/// The shortest token accepted: 16 characters resist guessing over HTTP (each try costs a
/// request, and unlock attempts are rate limited).
pub const TOKEN_MIN_LEN: usize = 16;

/// A secret token. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(Arc<str>);

/// Why a token is refused at start.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("a token needs at least {TOKEN_MIN_LEN} characters, this one has {0}")]
    TooShort(usize),
    #[error("a token cannot contain whitespace or control characters")]
    Whitespace,
}

impl Token {
    /// A token as given on the command line or in a file.
    pub fn new(token: &str) -> Result<Self, TokenError> {
        if token.chars().any(|c| c.is_whitespace() || c.is_control() || c == ';') {
            return Err(TokenError::Whitespace);
        }
        let len = token.chars().count();
        if len < TOKEN_MIN_LEN {
            return Err(TokenError::TooShort(len));
        }
        Ok(Self(token.into()))
    }

    /// Whether `given` is this token, in time independent of where they differ.
    pub(crate) fn matches(&self, given: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(given.as_bytes()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// How the destructive controls are guarded on this listener.
#[derive(Clone, Debug)]
enum Mode {
    /// Loopback listener, no token: whoever can connect is on this machine.
    Open,
    /// The operator's token is required.
    Token(Token),
    /// Not loopback and no token: nobody may.
    Off { listen: SocketAddr },
}

/// The access rules of a running server. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Operator {
    mode: Arc<Mode>,
    ingest: Option<Token>,
}

impl Operator {
    /// The rules for a server listening on `listen` with these tokens.
    pub fn new(admin: Option<Token>, ingest: Option<Token>, listen: SocketAddr) -> Self {
        let mode = match admin {
            Some(token) => Mode::Token(token),
            None if listen.ip().is_loopback() => Mode::Open,
            None => Mode::Off { listen },
        };
        Self { mode: Arc::new(mode), ingest }
    }

    /// The startup log's line: which mode is on.
    pub fn describe(&self) -> String {
        let controls = match &*self.mode {
            Mode::Open => {
                "destructive controls open to local clients (loopback listener, no --admin-token)".into()
            }
            Mode::Token(_) => "destructive controls need the operator token (--admin-token)".to_string(),
            Mode::Off { listen } => {
                format!("destructive controls OFF: {listen} is not loopback and no --admin-token is set")
            }
        };
        let publish =
            if self.ingest.is_some() { "publishing needs the ingest token" } else { "publishing open" };
        format!("{controls}; {publish}")
    }

    /// Whether an operator token can unlock anything here.
    pub(crate) fn token(&self) -> Option<&Token> {
        match &*self.mode {
            Mode::Token(t) => Some(t),
            _ => None,
        }
    }

    /// Whether this request may use a destructive control; if not, the refusal saying why.
    pub(crate) fn check_operator(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        match &*self.mode {
            Mode::Open => Ok(()),
            Mode::Off { listen } => Err(Refusal::ControlsOff(*listen)),
            Mode::Token(token) => {
                if presented(headers).any(|given| token.matches(given)) {
                    Ok(())
                } else {
                    Err(Refusal::Unauthorized("this control needs the operator token".into()))
                }
            }
        }
    }

    /// Whether this request may publish: always, unless an ingest token is set; then it or the
    /// operator's token must be shown.
    pub(crate) fn check_publish(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let Some(ingest) = &self.ingest else { return Ok(()) };
        let admin = self.token();
        if presented(headers).any(|given| ingest.matches(given) || admin.is_some_and(|a| a.matches(given))) {
            Ok(())
        } else {
            Err(Refusal::Unauthorized("publishing needs the ingest token".into()))
        }
    }

    /// What the page tells this visitor (`refused`: the last unlock attempt failed).
    pub(crate) fn view(&self, headers: &HeaderMap, refused: bool) -> app::model::Access {
        let unlocked = self.token().is_some_and(|t| session(headers).is_some_and(|given| t.matches(given)));
        let locked = |r: Result<(), Refusal>| r.err().map(|e| e.to_string());
        app::model::Access {
            controls_locked: locked(self.check_operator(headers)),
            publish_locked: locked(self.check_publish(headers)),
            token_unlocks: self.token().is_some(),
            unlocked,
            refused,
        }
    }
}

/// The tokens a request shows: its bearer token, then its session cookie.
fn presented(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    let bearer = headers
        .get_all(AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.strip_prefix("Bearer ").map(str::trim));
    bearer.chain(session(headers))
}

/// The session cookie's value, if the request carries one.
fn session(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .and_then(|c| c.value_raw())
}
