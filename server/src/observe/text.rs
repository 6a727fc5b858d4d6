//! OpenMetrics text (what `prometheus-client` writes) → classic Prometheus text 0.0.4 (what
//! `/metrics` answers unless the scraper asks for OpenMetrics): a counter's family is named
//! after its `_total` sample, and the `# UNIT` / `# EOF` lines 0.0.4 lacks are dropped.

/// OpenMetrics text → Prometheus text 0.0.4: a counter's `# HELP` / `# TYPE` name the sample
/// (`x_total`), and `# UNIT` / `# EOF`, which 0.0.4 does not know, are dropped.
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let mut counters = std::collections::HashSet::new();
    for line in openmetrics.lines() {
        if let Some(name) = line.strip_prefix("# TYPE ").and_then(|l| l.strip_suffix(" counter")) {
            counters.insert(name);
        }
    }
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let comment = ["# HELP ", "# TYPE "].into_iter().find(|p| line.starts_with(p));
        match comment.and_then(|p| line[p.len()..].split_once(' ').map(|(name, rest)| (p, name, rest))) {
            Some((p, name, rest)) if counters.contains(name) => {
                out.push_str(&format!("{p}{name}_total {rest}"));
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENMETRICS_SAMPLE: &str = "# HELP pulse_pipeline_processed_messages Messages processed.
# TYPE pulse_pipeline_processed_messages counter
# UNIT pulse_pipeline_processed_messages messages
pulse_pipeline_processed_messages_total 4
# HELP pulse_http_request_duration_seconds Time to answer.
# TYPE pulse_http_request_duration_seconds histogram
# UNIT pulse_http_request_duration_seconds seconds
pulse_http_request_duration_seconds_bucket{le=\"0.001\"} 1
# HELP pulse_pipeline_in_flight_messages In flight.
# TYPE pulse_pipeline_in_flight_messages gauge
pulse_pipeline_in_flight_messages 0
# EOF
";

    #[test]
    fn prometheus_text_names_counters_by_their_samples() {
        let text = to_prometheus_text(OPENMETRICS_SAMPLE);
        assert!(text.contains("# TYPE pulse_pipeline_processed_messages_total counter\n"), "{text}");
        assert!(text.contains("# HELP pulse_pipeline_processed_messages_total Messages"), "{text}");
        assert!(text.contains("# TYPE pulse_http_request_duration_seconds histogram\n"));
        assert!(text.contains("# TYPE pulse_pipeline_in_flight_messages gauge\n"));
        assert!(!text.contains("# UNIT") && !text.contains("# EOF"));
    }
}
