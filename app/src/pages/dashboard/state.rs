//! The dashboard's client-side state: the latest sample, the history rows and log lines it has
//! received (bounded like the server's), and the controls. Shared by every tab.

use crate::model::{
    DashboardUpdate, HISTORY_ROWS, LOG_LINES, LogLevel, LogLine, Row, StatsSnapshot, SystemInfo,
};
use leptos::prelude::*;
use std::collections::VecDeque;

/// Signals every tab reads; `Copy`, so tabs take it by value.
#[derive(Clone, Copy)]
pub struct DashState {
    pub system: RwSignal<SystemInfo>,
    pub stats: RwSignal<StatsSnapshot>,
    /// At most [`HISTORY_ROWS`], oldest first.
    pub rows: RwSignal<VecDeque<Row>>,
    /// At most [`LOG_LINES`], oldest first, all passing `level`.
    pub logs: RwSignal<VecDeque<LogLine>>,
    /// The newest log sequence number seen (filtered or not).
    pub log_seq: RwSignal<u64>,
    pub level: RwSignal<LogLevel>,
    /// Seconds between polls.
    pub refresh: RwSignal<u32>,
    /// The last poll's error, shown until the next success.
    pub error: RwSignal<Option<String>>,
}

impl DashState {
    /// Empty state; the first paint's answer is [`apply`](Self::apply)'d when it arrives.
    pub fn new(refresh: u32, level: LogLevel) -> Self {
        Self {
            system: RwSignal::new(SystemInfo::default()),
            stats: RwSignal::new(StatsSnapshot::default()),
            rows: RwSignal::new(VecDeque::with_capacity(HISTORY_ROWS)),
            logs: RwSignal::new(VecDeque::new()),
            log_seq: RwSignal::new(0),
            level: RwSignal::new(level),
            refresh: RwSignal::new(refresh),
            error: RwSignal::new(None),
        }
    }

    /// Merges one poll's answer. `level` is the filter the poll was made with: lines fetched
    /// under a filter changed since are dropped (the next poll fetches them again).
    pub fn apply(&self, update: DashboardUpdate, level: LogLevel) {
        self.system.set(update.system);
        self.stats.set(update.stats);
        if !update.rows.is_empty() {
            self.rows.update(|rows| merge(rows, update.rows, HISTORY_ROWS, |r| r.seq));
        }
        if level == self.level.get_untracked() {
            if update.log_seq < self.log_seq.get_untracked() {
                // The server restarted: its sequence began again.
                self.logs.update(VecDeque::clear);
            }
            if !update.logs.is_empty() {
                self.logs.update(|logs| merge(logs, update.logs, LOG_LINES, |l| l.seq));
            }
            self.log_seq.set(update.log_seq);
        }
        self.error.set(None);
    }

    /// Changes the log filter: the lines kept so far were filtered differently, so start over.
    pub fn set_level(&self, level: LogLevel) {
        self.level.set(level);
        self.logs.update(VecDeque::clear);
        self.log_seq.set(0);
    }
}

/// Appends `new` (oldest first) after what `kept` has, keeping at most `cap` items. Items not
/// newer than the last kept one mean the server restarted: the old ones are dropped.
fn merge<T>(kept: &mut VecDeque<T>, new: Vec<T>, cap: usize, seq: impl Fn(&T) -> u64) {
    let last = kept.back().map(&seq);
    if let (Some(last), Some(first)) = (last, new.first())
        && seq(first) <= last
    {
        kept.clear();
    }
    kept.extend(new);
    while kept.len() > cap {
        kept.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::merge;
    use std::collections::VecDeque;

    #[test]
    fn merge_appends_and_bounds() {
        let mut kept: VecDeque<u64> = (1..=3).collect();
        merge(&mut kept, vec![4, 5, 6], 4, |x| *x);
        assert_eq!(kept, VecDeque::from(vec![3, 4, 5, 6]));
    }

    #[test]
    fn merge_starts_over_when_the_server_restarted() {
        let mut kept: VecDeque<u64> = (10..=12).collect();
        merge(&mut kept, vec![1, 2], 10, |x| *x);
        assert_eq!(kept, VecDeque::from(vec![1, 2]));
    }
}
