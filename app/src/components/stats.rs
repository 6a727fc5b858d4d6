//! [`Stats`]: how the live page's components read the current stats.

use crate::model::{LiveModel, StatsSnapshot};
use leptos::prelude::*;

/// The current stats, read in place from the page's model. Not a `Memo<StatsSnapshot>`: that
/// would copy the snapshot and compare it with the last one on every frame, for nothing (the
/// stats change on every frame, if only the uptime), and put a deep `Clone` and `PartialEq` of
/// every stats type into the browser's WASM.
#[derive(Clone, Copy)]
pub struct Stats(RwSignal<LiveModel>);

impl Stats {
    pub fn new(model: RwSignal<LiveModel>) -> Self {
        Self(model)
    }

    /// Reads the stats, tracked: the calling effect re-runs on the next frame.
    pub fn with<R>(&self, f: impl FnOnce(&StatsSnapshot) -> R) -> R {
        self.0.with(|m| f(&m.stats))
    }
}
