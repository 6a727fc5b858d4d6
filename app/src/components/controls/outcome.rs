//! What a control's last call did: the shared plumbing of every control on the live page.
//! A [`Control`] runs a server-function call that says what it did in words, or shows the error
//! found before calling (an input that is not a number never reaches the server); its outcome
//! is shown by [`Outcome`], errors in red and announced.
//!
//! `Control` is deliberately not generic over the server function (as `ServerAction<S>` is):
//! every control shares one type, one pair of signals and one spawn path, so the browser's WASM
//! holds that machinery once rather than once per server function.

use crate::error::AppError;
use leptos::prelude::*;
use std::future::Future;
use std::pin::Pin;

/// A call in flight: a server function's result, put into words.
type Call = Pin<Box<dyn Future<Output = Result<String, AppError>>>>;

/// A control's state: how many calls are in flight, and what the last one to end said.
#[derive(Clone, Copy)]
pub struct Control {
    said: RwSignal<Said>,
    in_flight: RwSignal<u32>,
}

impl Control {
    pub fn new() -> Self {
        Self { said: RwSignal::new(None), in_flight: RwSignal::new(0) }
    }

    /// Makes `call` (a server-function call whose result is put into words), or shows why the
    /// inputs could not make one.
    pub fn run<F>(&self, call: Result<F, String>)
    where
        F: Future<Output = Result<String, AppError>> + 'static,
    {
        self.start(call.map(|f| Box::pin(f) as Call));
    }

    fn start(&self, call: Result<Call, String>) {
        let this = *self;
        match call {
            Err(e) => this.said.set(Some(Err(e))),
            Ok(call) => {
                this.in_flight.update(|n| *n += 1);
                leptos::task::spawn_local(async move {
                    let result = call.await.map_err(|e| e.to_string());
                    // The page may have gone while the call was in flight: then nobody listens.
                    this.in_flight.try_update(|n| *n = n.saturating_sub(1));
                    this.said.try_set(Some(result));
                });
            }
        }
    }

    /// Whether a call is in flight (tracked).
    pub fn pending(&self) -> bool {
        self.in_flight.get() > 0
    }

    /// Whether the last call, or the last inputs, failed (tracked).
    pub fn failed(&self) -> bool {
        self.said.with(|s| matches!(s, Some(Err(_))))
    }

    /// The outcome to show.
    pub fn said(&self) -> Signal<Said> {
        self.said.into()
    }
}

impl Default for Control {
    fn default() -> Self {
        Self::new()
    }
}

/// "1 letter", "3 letters": a count and a noun, plural when it is not one.
pub fn counted(n: u64, noun: &str) -> String {
    format!("{} {noun}{}", crate::format::count(n), if n == 1 { "" } else { "s" })
}

/// A control's outcome: nothing yet, what it did, or why it failed.
pub type Said = Option<Result<String, String>>;

/// Shows an outcome in a live region (errors as alerts, in red).
#[component]
pub fn Outcome(testid: &'static str, said: Signal<Said>) -> impl IntoView {
    let failed = move || matches!(said.get(), Some(Err(_)));
    view! {
        <p class="outcome" class:error=failed role=move || if failed() { "alert" } else { "status" } data-testid=testid>
            {move || match said.get() {
                Some(Ok(m)) => m,
                Some(Err(e)) => format!("⚠ {e}"),
                None => String::new(),
            }}
        </p>
    }
}

/// Reads a whole number from an input, or says which input is wrong.
pub fn whole<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.trim().replace([',', '_', ' '], "").parse().map_err(|_| {
        if text.trim().is_empty() {
            format!("{what}: enter a number")
        } else {
            format!("{what}: {:?} is not a whole number in range", text.trim())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_accept_separators_and_explain_refusals() {
        assert_eq!(whole::<u32>(" 1,000 ", "burst"), Ok(1_000));
        assert_eq!(whole::<u8>("50", "invalid %"), Ok(50));
        assert_eq!(whole::<u32>("", "rate"), Err("rate: enter a number".into()));
        assert!(whole::<u32>("ten", "rate").expect_err("refused").contains("\"ten\""));
        assert!(whole::<u8>("300", "invalid %").is_err(), "out of the type's range");
    }

    #[test]
    fn counts_take_a_plural_unless_one() {
        assert_eq!(counted(1, "event"), "1 event");
        assert_eq!(counted(1_000, "letter"), "1,000 letters");
        assert_eq!(counted(0, "letter"), "0 letters");
    }
}
