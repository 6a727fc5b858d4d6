//! The settings: parsing, ranges, defaults and the conversion to `ServerConfig`.

use super::*;
use clap::CommandFactory;
use clap::error::ErrorKind;

/// The settings of a command line (no environment), as the server takes them.
fn from(args: &[&str]) -> Result<ServerConfig, clap::Error> {
    Settings::parse_args(std::iter::once("server").chain(args.iter().copied())).map(ServerConfig::from)
}

/// The message a bad command line stops the server with.
fn refused(args: &[&str]) -> String {
    from(args).expect_err("refused").to_string()
}

#[test]
fn defaults_run_embedded_on_port_3000() {
    let c = from(&[]).expect("defaults");
    assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
    assert_eq!(
        (c.site_root.as_str(), c.site_pkg_dir.as_str(), c.output_name.as_str()),
        ("target/site", "pkg", "pulse")
    );
    assert_eq!(c.env, Env::PROD);
    assert_eq!((c.buffer, c.drain_timeout, c.topic.as_str()), (65_536, Duration::from_secs(10), "events"));
}

#[test]
fn the_defaults_are_the_engines_own() {
    let c = ServerConfig::default();
    let engine = PipelineConfig::default();
    assert_eq!(c.pipeline.processors, engine.processors, "processors, demand, max concurrency");
    assert_eq!(c.pipeline.batchers, engine.batchers);
    assert_eq!(c.pipeline.retry, Some(RetryPolicy::default()), "retries are on by default");
    assert_eq!(c.pipeline.rate_limit, None);
    assert_eq!(c.pipeline.processors.max_concurrency(), 16);
}

#[test]
fn addr_wins_over_leptos_site_addr() {
    let c = from(&["--addr", "0.0.0.0:8080", "--site-addr", "127.0.0.1:1"]).expect("valid");
    assert_eq!(c.addr.to_string(), "0.0.0.0:8080");
    assert_eq!(from(&["--site-addr", "127.0.0.1:1"]).expect("valid").addr.to_string(), "127.0.0.1:1");
}

#[test]
fn bad_values_say_which_setting_flag_and_variable() {
    let why = refused(&["--addr", "localhost"]);
    assert!(why.contains("--addr") && why.contains("PULSE_ADDR"), "{why}");
    let why = refused(&["--processors", "0"]);
    assert!(why.contains("--processors") && why.contains("PULSE_PROCESSORS"), "{why}");
    assert!(refused(&["--env", "staging"]).contains("LEPTOS_ENV"));
    assert!(refused(&["--drain-timeout-ms", "soon"]).contains("PULSE_DRAIN_TIMEOUT_MS"));
    assert!(refused(&["--batch-size=-3"]).contains("--batch-size"));
    assert!(refused(&["--log", "[[["]).contains("RUST_LOG"));
    let unknown = Settings::parse_args(["server", "--processers", "3"]).expect_err("no such flag");
    assert_eq!(unknown.kind(), ErrorKind::UnknownArgument);
}

#[test]
fn pipeline_shape_comes_from_the_settings() {
    let c = from(&["--processors", "4", "--max-demand", "256", "--batch-timeout-ms", "20"]).expect("valid");
    assert_eq!((c.pipeline.processors.concurrency, c.pipeline.processors.max_demand), (4, 256));
    assert_eq!(c.pipeline.batchers[0].batch_timeout, Duration::from_millis(20));
    assert_eq!(from(&[]).expect("defaults").pipeline_threads, 1);
    assert_eq!(from(&["--pipeline-threads", "2"]).expect("valid").pipeline_threads, 2);
    assert_eq!(from(&["--processors", "20"]).expect("valid").pipeline.processors.max_concurrency(), 20);
}

#[test]
fn controls_come_from_the_settings() {
    let c = from(&[
        "--retry-attempts",
        "5",
        "--retry-backoff-ms",
        "250",
        "--max-processors",
        "8",
        "--rate-limit-per-s",
        "1000",
    ])
    .expect("valid");
    let retry = c.pipeline.retry.expect("on");
    assert_eq!((retry.max_attempts, retry.backoff), (5, Duration::from_millis(250)));
    assert_eq!(c.pipeline.processors.max_concurrency, Some(8));
    assert_eq!(c.pipeline.rate_limit.map(|r| r.allowed_messages), Some(1000));
    assert_eq!(from(&["--retry-attempts", "1"]).expect("valid").pipeline.retry, None);
    let slow = from(&["--retry-backoff-ms", "9000"]).expect("valid").pipeline.retry.expect("on");
    assert_eq!(slow.max_backoff, Duration::from_secs(9), "the cap is never below the first wait");
    assert!(from(&["--max-processors", "5000"]).is_err());
    assert!(from(&["--rate-limit-per-s", "0"]).is_err());
}

#[test]
fn data_dir_and_dlq_capacity_come_from_the_settings() {
    let c = from(&[]).expect("defaults");
    assert_eq!((c.data_dir.as_path(), c.dlq_capacity), (std::path::Path::new("data"), 10_000));
    assert_eq!(c.dlq_path(), PathBuf::from("data/dead_letters.redb"));
    let c = from(&["--data-dir", "/var/lib/pulse", "--dlq-capacity", "500"]).expect("valid");
    assert_eq!(c.dlq_path(), PathBuf::from("/var/lib/pulse/dead_letters.redb"));
    assert_eq!(c.dlq_capacity, 500);
    assert!(refused(&["--dlq-capacity", "0"]).contains("PULSE_DLQ_CAPACITY"));
    assert!(refused(&["--dlq-capacity", "lots"]).contains("PULSE_DLQ_CAPACITY"));
    assert!(refused(&["--data-dir", " "]).contains("PULSE_DATA_DIR"));
}

#[test]
fn logging_settings() {
    let s = |args: &[&str]| Settings::parse_args(std::iter::once("server").chain(args.iter().copied()));
    assert!(!s(&[]).expect("defaults").json_logs());
    assert!(s(&["--json-logs"]).expect("valid").json_logs());
    assert!(s(&["--log-format", "json"]).expect("valid").json_logs());
    assert!(s(&["--log-format", "JSON"]).expect("valid").json_logs(), "any case");
    assert!(!s(&["--log-format", "text"]).expect("valid").json_logs());
    assert!(s(&["--log-format", "yaml"]).is_err());
    let custom = s(&["--log", "warn,pulse_server=debug", "--log-tail", "error"]).expect("valid");
    assert_eq!((custom.log.as_str(), custom.log_tail.as_str()), ("warn,pulse_server=debug", "error"));
    assert_eq!(from(&["--env", "dev"]).expect("any case").env, Env::DEV);
    assert_eq!(from(&["--env", "production"]).expect("alias").env, Env::PROD);
}

/// The `[range: A..=B]` (or `A..`) tag of each setting's help, as (flag, low, high).
fn help_ranges() -> Vec<(String, u64, Option<u64>)> {
    Settings::command()
        .get_arguments()
        .filter_map(|a| {
            let help = a.get_help()?.to_string();
            let tag = help.split("[range: ").nth(1)?.split(']').next()?.to_owned();
            let (low, high) = tag.split_once("..").expect("A..B");
            let low = low.parse().expect("a number");
            let high = high.strip_prefix('=').map(|h| h.parse().expect("a number"));
            Some((format!("--{}", a.get_long().expect("a flag")), low, high))
        })
        .collect()
}

#[test]
fn help_ranges_are_the_parsers_ranges() {
    let ranges = help_ranges();
    assert!(ranges.len() >= 12, "every numeric setting states its range: {ranges:?}");
    let parses = |flag: &str, v: u64| Settings::parse_args(["server", flag, &v.to_string()]).is_ok();
    for (flag, low, high) in ranges {
        assert!(parses(&flag, low), "{flag} {low}: the low end is in range");
        assert!(low == 0 || !parses(&flag, low - 1), "{flag} {}: below the range", low - 1);
        if let Some(high) = high {
            assert!(parses(&flag, high), "{flag} {high}: the high end is in range");
            assert!(!parses(&flag, high + 1), "{flag} {}: above the range", high + 1);
        }
    }
}

#[test]
fn every_setting_has_a_variable() {
    for a in Settings::command().get_arguments() {
        let flag = a.get_long().unwrap_or_default();
        let shorthand = matches!(flag, "json-logs" | "help" | "version");
        assert!(shorthand || a.get_env().is_some(), "--{flag} has no environment variable");
    }
}

#[test]
fn the_schema_is_consistent() {
    Settings::command().debug_assert();
}

#[test]
fn allowed_hosts_are_a_comma_separated_list_checked_entry_by_entry() {
    assert!(from(&[]).expect("defaults").allowed_hosts.is_empty(), "empty: the listen address and loopback");
    let c = from(&["--allowed-hosts", "Pulse.example, 10.0.0.5:3000,[::1]:8080"]).expect("valid");
    let hosts: Vec<String> = c.allowed_hosts.iter().map(ToString::to_string).collect();
    assert_eq!(hosts, ["pulse.example (any port)", "10.0.0.5:3000", "[::1]:8080"]);
    let why = refused(&["--allowed-hosts", "ok.example,http://evil.example/"]);
    assert!(why.contains("--allowed-hosts") && why.contains("PULSE_ALLOWED_HOSTS"), "{why}");
    assert!(refused(&["--allowed-hosts", "::1"]).contains("brackets"));
}

#[test]
fn the_bus_is_embedded_unless_a_redis_url_is_given() {
    assert!(from(&[]).expect("defaults").bus.is_none(), "embedded by default");
    let c = from(&["--bus", "redis://127.0.0.1:6379", "--node-name", "n-1", "--heartbeat-ttl-ms", "900"])
        .expect("valid");
    let bus = c.bus.expect("redis mode");
    assert_eq!((bus.url.as_str(), bus.node.as_str()), ("redis://127.0.0.1:6379", "n-1"));
    assert_eq!((bus.backlog_bound, bus.read_ahead, bus.max_deliveries), (1_000_000, 4, 5));
    assert_eq!(bus.heartbeat_ttl, Duration::from_millis(900));
    let unnamed = from(&["--bus", "redis://127.0.0.1:6379"]).expect("valid").bus.expect("redis mode");
    assert!(unnamed.node.ends_with(&format!("-{}", std::process::id())), "{}", unnamed.node);
    assert!(refused(&["--bus", "kafka://x"]).contains("PULSE_BUS"));
    assert!(refused(&["--bus", "redis://127.0.0.1:6379", "--node-name", "a b"]).contains("PULSE_NODE_NAME"));
}
