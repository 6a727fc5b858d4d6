//! `GET /metrics`: Prometheus text 0.0.4 or OpenMetrics text, both written by
//! `prometheus-client`'s own encoders from one registry. HTTP metrics are the crate's own
//! (updated by the middleware); pipeline, pub/sub and WebSocket figures are read at scrape time
//! by a collector, so nothing is sampled twice. Names carry their unit (`_seconds`, `_bytes`,
//! `_messages`, `_ratio`) and counters end in `_total`. Latency quantiles over the recent window
//! are gauges named after their quantile (`_p50_seconds`, ..., `_max_seconds`): the crate has no
//! summary type, and a `quantile` label belongs to summaries only. `promtool check metrics`
//! finds nothing to say about the text form (`server/tests/observability.rs`).

use super::http::HttpMetrics;
use super::socket::SocketMetrics;
use app::model::StatsSnapshot;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, prometheus_text, text};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};
use std::fmt::Error;
use std::sync::Arc;

/// Which exposition format a scrape gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Classic Prometheus text 0.0.4: the default.
    Prometheus,
    /// OpenMetrics 1.0 text: when the scraper's `Accept` asks for it.
    OpenMetrics,
}

impl Format {
    /// The format an `Accept` header asks for.
    pub fn from_accept(accept: Option<&str>) -> Self {
        if accept.is_some_and(|a| a.contains("application/openmetrics-text")) {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }

    /// The answer's `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => prometheus_text::CONTENT_TYPE,
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// Where the collector reads the current snapshot from.
pub type SnapshotFn = Arc<dyn Fn() -> StatsSnapshot + Send + Sync>;

/// The registry behind `/metrics`.
#[derive(Debug)]
pub struct Exporter {
    registry: Registry,
}

impl Exporter {
    /// Registers the HTTP metrics and the collector for everything else.
    pub fn new(http: &HttpMetrics, sockets: Arc<SocketMetrics>, snapshot: SnapshotFn) -> Self {
        let mut registry = Registry::with_prefix("pulse");
        registry.register(
            "http_requests",
            "HTTP requests answered, by method and status",
            http.requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request",
            Unit::Seconds,
            http.duration.clone(),
        );
        registry.register_collector(Box::new(Figures { sockets, snapshot }));
        Self { registry }
    }

    /// The exposition in `format`.
    pub fn render(&self, format: Format) -> Result<String, Error> {
        let mut out = String::with_capacity(8 * 1024);
        match format {
            Format::Prometheus => prometheus_text::encode(&mut out, &self.registry)?,
            Format::OpenMetrics => text::encode(&mut out, &self.registry)?,
        }
        Ok(out)
    }
}

/// Reads pipeline, pub/sub and WebSocket figures at scrape time.
struct Figures {
    sockets: Arc<SocketMetrics>,
    snapshot: SnapshotFn,
}

impl std::fmt::Debug for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Figures")
    }
}

fn messages() -> Unit {
    Unit::Other("messages".into())
}

fn counter(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    v: u64,
) -> Result<(), Error> {
    let c = ConstCounter::new(v);
    c.encode(e.encode_descriptor(name, help, unit, c.metric_type())?)
}

fn gauge(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    v: f64,
) -> Result<(), Error> {
    let g = ConstGauge::new(v);
    g.encode(e.encode_descriptor(name, help, unit, g.metric_type())?)
}

/// A family: one value per label set.
fn family<M: EncodeMetric>(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    rows: Vec<(Vec<(&'static str, String)>, M)>,
) -> Result<(), Error> {
    let Some(first) = rows.first() else { return Ok(()) };
    let mut m = e.encode_descriptor(name, help, unit, first.1.metric_type())?;
    for (labels, metric) in &rows {
        metric.encode(m.encode_family(labels)?)?;
    }
    Ok(())
}

impl Collector for Figures {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), Error> {
        let s = (self.snapshot)();
        let msg = messages();
        let m = Some(&msg);
        counter(&mut e, "pipeline_published", "Messages published on the events topic", m, s.published)?;
        counter(&mut e, "pipeline_processed", "Messages processed and acknowledged", m, s.processed)?;
        counter(&mut e, "pipeline_failed", "Messages acknowledged as failed", m, s.failed)?;
        counter(&mut e, "pipeline_dropped", "Messages that never entered the pipeline", m, s.dropped)?;
        gauge(
            &mut e,
            "pipeline_in_flight",
            "Messages published but not yet acknowledged",
            m,
            s.in_flight as f64,
        )?;
        counter(&mut e, "pipeline_batches", "Batches handled", None, s.batches)?;
        let p = &s.pipeline;
        let ratio = Unit::Other("ratio".into());
        let stage = |name: &str| vec![("stage", name.to_string())];
        family(
            &mut e,
            "pipeline_stage_received",
            "Messages a stage took in",
            m,
            p.stages.iter().map(|st| (stage(&st.name), ConstCounter::new(st.received))).collect(),
        )?;
        family(
            &mut e,
            "pipeline_stage_failed",
            "Messages that failed in a stage",
            m,
            p.stages.iter().map(|st| (stage(&st.name), ConstCounter::new(st.failed))).collect(),
        )?;
        family(
            &mut e,
            "pipeline_stage_restarts",
            "Times a stage's task was restarted",
            None,
            p.stages.iter().map(|st| (stage(&st.name), ConstCounter::new(st.restarts))).collect(),
        )?;
        family(
            &mut e,
            "pipeline_stage_busy",
            "Share of the last second a stage spent working",
            Some(&ratio),
            p.stages.iter().map(|st| (stage(&st.name), ConstGauge::new(st.busy_pct / 100.0))).collect(),
        )?;
        family(
            &mut e,
            "pipeline_stage_queue",
            "Messages waiting for a stage",
            m,
            p.stages.iter().map(|st| (stage(&st.name), ConstGauge::new(st.queue as f64))).collect(),
        )?;
        family(
            &mut e,
            "pipeline_stage_run_p99",
            "p99 time a stage took per chunk or batch (recent window)",
            Some(&Unit::Seconds),
            p.stages.iter().map(|st| (stage(&st.name), ConstGauge::new(st.run_p99_us / 1e6))).collect(),
        )?;
        let a = &p.ack_latency;
        for (quantile, what, us) in [
            ("p50", "Median", a.p50_us),
            ("p90", "90th percentile", a.p90_us),
            ("p99", "99th percentile", a.p99_us),
            ("max", "Maximum", a.max_us),
        ] {
            gauge(
                &mut e,
                &format!("pipeline_ack_latency_{quantile}"),
                &format!("{what} of the publish to acknowledgement latency (recent window)"),
                Some(&Unit::Seconds),
                us / 1e6,
            )?;
        }
        let topic = |t: &str| vec![("topic", t.to_string())];
        family(
            &mut e,
            "pubsub_topic_subscribers",
            "Subscribers of a topic",
            None,
            s.pubsub
                .topics
                .iter()
                .map(|t| (topic(&t.topic), ConstGauge::new(f64::from(t.subscribers))))
                .collect(),
        )?;
        family(
            &mut e,
            "pubsub_topic_published",
            "Messages published on a topic",
            m,
            s.pubsub.topics.iter().map(|t| (topic(&t.topic), ConstCounter::new(t.published))).collect(),
        )?;
        let sub = |n: &str| vec![("subscriber", n.to_string())];
        let subs = &s.pubsub.subscribers;
        family(
            &mut e,
            "pubsub_subscriber_buffered",
            "Messages waiting in a subscriber's buffer",
            m,
            subs.iter().map(|x| (sub(&x.name), ConstGauge::new(x.buffered as f64))).collect(),
        )?;
        family(
            &mut e,
            "pubsub_subscriber_capacity",
            "Size of a subscriber's buffer",
            m,
            subs.iter().map(|x| (sub(&x.name), ConstGauge::new(x.capacity as f64))).collect(),
        )?;
        family(
            &mut e,
            "pubsub_subscriber_delivered",
            "Messages handed to a subscriber",
            m,
            subs.iter().map(|x| (sub(&x.name), ConstCounter::new(x.delivered))).collect(),
        )?;
        family(
            &mut e,
            "pubsub_subscriber_lost",
            "Messages a subscriber lost",
            m,
            subs.iter().map(|x| (sub(&x.name), ConstCounter::new(x.lost))).collect(),
        )?;
        let (open, sent, bytes) = self.sockets.read();
        gauge(&mut e, "websocket_connections", "WebSockets open on /ws", None, open as f64)?;
        counter(&mut e, "websocket_sent", "Messages sent on /ws", m, sent)?;
        counter(&mut e, "websocket_sent", "Bytes sent on /ws", Some(&Unit::Bytes), bytes)?;
        let (connections, refused, dropped) = self.sockets.limits();
        gauge(
            &mut e,
            "http_connections",
            "HTTP connections open, WebSockets included",
            None,
            connections as f64,
        )?;
        counter(
            &mut e,
            "http_connections_refused",
            "Connections refused past --max-connections",
            None,
            refused,
        )?;
        counter(
            &mut e,
            "websocket_dropped_slow",
            "Live-stream clients dropped for not reading",
            None,
            dropped,
        )?;
        gauge(
            &mut e,
            "uptime",
            "Time since the server started",
            Some(&Unit::Seconds),
            s.uptime_ms as f64 / 1000.0,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{StageKey, StageRole, StageStats};

    fn render(format: Format) -> String {
        let mut s = StatsSnapshot { published: 5, processed: 4, failed: 1, ..Default::default() };
        s.pipeline.stages.push(StageStats {
            name: "processor 0".into(),
            stage: StageKey { role: StageRole::Processor, index: 0, batcher: None },
            received: 5,
            busy_pct: 50.0,
            ..Default::default()
        });
        s.pipeline.ack_latency.p50_us = 1_500.0;
        s.pipeline.ack_latency.max_us = 2_000_000.0;
        let http = HttpMetrics::default();
        http.record("GET", 200, 0.002);
        let exporter = Exporter::new(&http, Arc::default(), Arc::new(move || s.clone()));
        exporter.render(format).expect("renders")
    }

    /// (name, rest) of every `# {kind} name rest` line.
    fn comments<'a>(text: &'a str, kind: &str) -> Vec<(&'a str, &'a str)> {
        let prefix = format!("# {kind} ");
        text.lines()
            .filter_map(|l| l.strip_prefix(prefix.as_str()))
            .map(|l| l.split_once(' ').unwrap_or((l, "")))
            .collect()
    }

    #[test]
    fn prometheus_text_names_carry_units_and_every_family_has_help() {
        let text = render(Format::Prometheus);
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap_or_default();
            assert!(name.starts_with("pulse_"), "{line}");
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
            assert!(!line.contains("quantile="), "a quantile label outside a summary: {line}");
        }
        let types = comments(&text, "TYPE");
        let helps = comments(&text, "HELP");
        assert_eq!(types.len(), helps.len(), "{text}");
        for ((typed, kind), (helped, help)) in types.iter().zip(&helps) {
            assert_eq!(typed, helped, "HELP and TYPE name the same family");
            assert!(!help.trim().is_empty(), "{typed} has an empty HELP");
            if *kind == "counter" {
                assert!(typed.ends_with("_total"), "{typed}: a counter's family is its sample");
            }
        }
        assert!(text.contains("# HELP pulse_pipeline_failed_messages_total Messages"), "{text}");
        assert!(text.contains("pulse_pipeline_processed_messages_total 4\n"), "{text}");
        assert!(text.contains("pulse_pipeline_stage_busy_ratio{stage=\"processor 0\"} 0.5"), "{text}");
        assert!(text.contains("pulse_http_request_duration_seconds_bucket{le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("pulse_http_requests_total{method=\"GET\",status=\"200\"} 1"), "{text}");
        assert!(text.contains("pulse_websocket_sent_bytes_total 0"), "{text}");
        assert!(text.contains("# TYPE pulse_pipeline_ack_latency_p50_seconds gauge\n"), "{text}");
        assert!(text.contains("pulse_pipeline_ack_latency_p50_seconds 0.0015\n"), "{text}");
        assert!(text.contains("pulse_pipeline_ack_latency_max_seconds 2.0\n"), "{text}");
        assert!(!text.contains("# UNIT") && !text.contains("# EOF"), "not in text 0.0.4: {text}");
    }

    #[test]
    fn openmetrics_families_name_their_unit_and_end_with_eof() {
        let text = render(Format::OpenMetrics);
        let types = comments(&text, "TYPE");
        assert_eq!(types.len(), comments(&text, "HELP").len(), "{text}");
        for (family, kind) in &types {
            if *kind == "counter" {
                assert!(!family.ends_with("_total"), "{family}: OpenMetrics names the family without _total");
                assert!(text.contains(&format!("\n{family}_total")), "{family} has no _total sample");
            }
        }
        for (family, unit) in comments(&text, "UNIT") {
            assert!(family.ends_with(&format!("_{unit}")), "{family} does not end in its unit {unit}");
        }
        assert!(text.contains("# UNIT pulse_pipeline_ack_latency_p99_seconds seconds\n"), "{text}");
        assert!(text.contains("pulse_pipeline_processed_messages_total 4\n"), "{text}");
        assert!(text.trim_end().ends_with("# EOF"));
    }

    #[test]
    fn the_accept_header_picks_the_format() {
        assert_eq!(Format::from_accept(None), Format::Prometheus);
        assert_eq!(Format::from_accept(Some("text/plain")), Format::Prometheus);
        let om = Format::from_accept(Some("application/openmetrics-text; version=1.0.0,*/*;q=0.1"));
        assert_eq!(om, Format::OpenMetrics);
        assert!(om.content_type().starts_with("application/openmetrics-text"));
        assert!(Format::Prometheus.content_type().starts_with("text/plain; version=0.0.4"));
    }

    #[test]
    fn empty_families_are_left_out() {
        for format in [Format::Prometheus, Format::OpenMetrics] {
            assert!(!render(format).contains("pubsub_subscriber_lost"));
        }
    }
}
