//! The sampler: once a second it takes one stats snapshot, the process / OS figures, the last
//! second of HTTP requests and the WebSocket counters, appends a history row and replaces the
//! latest sample. It is the only place the dashboard's figures are computed; polls only read.

use super::history::row_values;
use super::system::SystemSampler;
use super::{Latest, Observe};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Time between history rows.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(1);

/// Running HTTP totals (requests, errors, seconds serving), summed from the seconds.
#[derive(Debug, Default)]
struct HttpTotals {
    requests: u64,
    errors: u64,
    seconds: f64,
}

impl Observe {
    /// Takes one sample now (the first is taken at start, so the first paint has a row).
    fn sample_with(&self, system: &mut SystemSampler, totals: &mut HttpTotals) {
        let stats = (self.0.snapshot)();
        let info = system.sample();
        let second = self.0.http.take_second();
        totals.requests += second.requests;
        totals.errors += second.errors;
        totals.seconds += second.sum_ms / 1000.0;
        let values = row_values(
            &stats,
            &second,
            (totals.requests, totals.errors, totals.seconds),
            self.0.sockets.read(),
        );
        let t_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        self.0.history.push(t_ms, values);
        self.set_latest(Latest { system: info, stats });
    }

    /// Starts the sampler on `tracker`; it stops when `stop` is cancelled.
    pub fn start_sampler(&self, stop: CancellationToken, tracker: &TaskTracker) {
        let observe = self.clone();
        let mut system = SystemSampler::new(self.0.data_dir.clone());
        let mut totals = HttpTotals::default();
        observe.sample_with(&mut system, &mut totals);
        tracker.spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => observe.sample_with(&mut system, &mut totals),
                    () = stop.cancelled() => return,
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::DashboardSource;
    use app::model::{LogLevel, StatsSnapshot};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[tokio::test(start_paused = true)]
    async fn one_row_per_second_and_polls_get_only_new_rows() {
        let n = Arc::new(AtomicU64::new(0));
        let source = n.clone();
        let observe = Observe::new(
            Arc::new(move || StatsSnapshot {
                processed: source.fetch_add(10, Ordering::Relaxed),
                ..Default::default()
            }),
            ".".into(),
        );
        let stop = CancellationToken::new();
        let tracker = TaskTracker::new();
        observe.start_sampler(stop.clone(), &tracker);
        assert_eq!(observe.update(0, 0, LogLevel::Info).rows.len(), 1, "a row at start");
        tokio::time::sleep(Duration::from_millis(3_500)).await;
        let all = observe.update(0, 0, LogLevel::Info);
        assert_eq!(all.rows.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
        assert_eq!(all.rows[3].values[0], 30.0, "processed at the fourth sample");
        assert_eq!(all.stats.processed, 30);
        assert_eq!(observe.update(3, 0, LogLevel::Info).rows.len(), 1);
        stop.cancel();
        tracker.close();
        tracker.wait().await;
    }
}
