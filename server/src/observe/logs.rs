//! The log tail: a `tracing` layer that keeps the newest events as text in a bounded ring
//! ([`LOG_LINES`]), for the dashboard's Logs tab. Messages are cut at 1 KiB; the page renders
//! them as text. Logging is process-wide, so the tail is too ([`LogTail::global`]).

use super::ring::Ring;
use app::model::{LOG_LINES, LogLevel, LogLine};
use std::fmt::Write;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;

/// Longest message kept, in bytes.
pub const MAX_MESSAGE: usize = 1024;

/// The newest log lines.
#[derive(Debug)]
pub struct LogTail {
    ring: Mutex<Ring<LogLine>>,
}

impl LogTail {
    /// A tail keeping at most `capacity` lines.
    pub fn new(capacity: usize) -> Self {
        Self { ring: Mutex::new(Ring::new(capacity)) }
    }

    /// The process's tail, which `logging::init` feeds.
    pub fn global() -> &'static LogTail {
        static TAIL: OnceLock<LogTail> = OnceLock::new();
        TAIL.get_or_init(|| LogTail::new(LOG_LINES))
    }

    /// Appends a line (its `seq` is assigned here).
    pub fn push(&self, mut line: LogLine) {
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        line.seq = ring.last_seq() + 1;
        ring.push(line);
    }

    /// Up to `max` of the newest lines after `since` passing `level`, oldest first, and the
    /// newest sequence number kept.
    pub fn after(&self, since: u64, level: LogLevel, max: usize) -> (Vec<LogLine>, u64) {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let mut lines: Vec<LogLine> = ring
            .after(since)
            .rev()
            .filter(|(_, l)| l.level.passes(level))
            .take(max)
            .map(|(_, l)| l.clone())
            .collect();
        lines.reverse();
        (lines, ring.last_seq())
    }

    /// Lines kept now and the most it keeps.
    pub fn len_and_capacity(&self) -> (usize, usize) {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        (ring.len(), ring.capacity())
    }
}

/// The layer feeding a [`LogTail`].
pub struct TailLayer(&'static LogTail);

impl TailLayer {
    /// A layer writing into `tail`.
    pub fn new(tail: &'static LogTail) -> Self {
        Self(tail)
    }
}

fn level(l: &Level) -> LogLevel {
    match *l {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        Level::DEBUG => LogLevel::Debug,
        Level::TRACE => LogLevel::Trace,
    }
}

/// Writes `message` first, then `key=value` for the other fields.
#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if self.0.len() >= MAX_MESSAGE {
            return;
        }
        let _ = if field.name() == "message" {
            write!(self.0, "{value:?} ")
        } else {
            write!(self.0, "{}={value:?} ", field.name())
        };
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
            self.0.push(' ');
        } else {
            self.record_debug(field, &value);
        }
    }
}

/// Cuts `s` to at most `max` bytes on a character boundary.
fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

impl<S: Subscriber> Layer<S> for TailLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut text = Text::default();
        event.record(&mut text);
        let meta = event.metadata();
        let t_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        self.0.push(LogLine {
            seq: 0,
            t_ms,
            level: level(meta.level()),
            target: meta.target().to_string(),
            message: truncate(text.0.trim_end().to_string(), MAX_MESSAGE),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    fn capture(tail: &'static LogTail, f: impl FnOnce()) {
        let subscriber = tracing_subscriber::registry().with(TailLayer::new(tail));
        tracing::subscriber::with_default(subscriber, f);
    }

    fn leaked(capacity: usize) -> &'static LogTail {
        Box::leak(Box::new(LogTail::new(capacity)))
    }

    #[test]
    fn keeps_the_newest_lines_up_to_its_bound() {
        let tail = leaked(5);
        capture(tail, || {
            for i in 0..12 {
                tracing::info!(i, "line");
            }
        });
        let (lines, last) = tail.after(0, LogLevel::Trace, 100);
        assert_eq!(last, 12);
        assert_eq!(lines.len(), 5);
        assert_eq!(lines.first().map(|l| l.seq), Some(8));
        assert_eq!(lines[0].message, "line i=7");
        assert_eq!(tail.len_and_capacity(), (5, 5));
    }

    #[test]
    fn filters_by_level_and_limits_to_the_newest() {
        let tail = leaked(100);
        capture(tail, || {
            tracing::error!("e1");
            tracing::info!("i1");
            tracing::warn!("w1");
            tracing::debug!("d1");
            tracing::error!("e2");
        });
        let (warn, last) = tail.after(0, LogLevel::Warn, 100);
        assert_eq!(warn.iter().map(|l| l.message.as_str()).collect::<Vec<_>>(), ["e1", "w1", "e2"]);
        assert_eq!(last, 5);
        let (newest, _) = tail.after(0, LogLevel::Trace, 2);
        assert_eq!(newest.iter().map(|l| l.message.as_str()).collect::<Vec<_>>(), ["d1", "e2"]);
        let (after, _) = tail.after(3, LogLevel::Trace, 100);
        assert_eq!(after.len(), 2);
    }

    #[test]
    fn long_messages_are_cut_and_markup_is_kept_as_text() {
        let tail = leaked(4);
        capture(tail, || {
            tracing::warn!("{}", "é".repeat(2000));
            tracing::warn!("<script>alert(1)</script>");
        });
        let (lines, _) = tail.after(0, LogLevel::Trace, 10);
        assert!(lines[0].message.len() <= MAX_MESSAGE + '…'.len_utf8());
        assert!(lines[0].message.ends_with('…'));
        assert_eq!(lines[1].message, "<script>alert(1)</script>");
    }
}
