//! What a control's last call did: the shared plumbing of every control on the live page.
//! A [`Control`] is a server action plus a local error (an input that is not a number never
//! reaches the server); its outcome is shown by [`Outcome`], errors in red and announced.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// A server action and the error found before calling it.
pub struct Control<S: ServerFn + 'static>
where
    S::Output: 'static,
{
    pub action: ServerAction<S>,
    local: RwSignal<Option<String>>,
}

impl<S: ServerFn + 'static> Clone for Control<S>
where
    S::Output: 'static,
{
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: ServerFn + 'static> Copy for Control<S> where S::Output: 'static {}

impl<S> Control<S>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    pub fn new() -> Self {
        Self { action: ServerAction::new(), local: RwSignal::new(None) }
    }

    /// Calls the server with `args`, or shows why the inputs could not make them.
    pub fn run(&self, args: Result<S, String>) {
        match args {
            Ok(args) => {
                self.local.set(None);
                self.action.dispatch(args);
            }
            Err(e) => self.local.set(Some(e)),
        }
    }

    /// The outcome to show: the local error, else the last call's result in words.
    pub fn said(&self, ok: impl Fn(&S::Output) -> String + Send + Sync + 'static) -> Signal<Said> {
        let (local, value) = (self.local, self.action.value());
        Signal::derive(move || match local.get() {
            Some(e) => Some(Err(e)),
            None => value.with(|v| match v {
                Some(Ok(out)) => Some(Ok(ok(out))),
                Some(Err(e)) => Some(Err(e.to_string())),
                None => None,
            }),
        })
    }
}

impl<S> Default for Control<S>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    fn default() -> Self {
        Self::new()
    }
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
}
