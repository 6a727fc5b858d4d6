//! Topics and NATS-style wildcards: the matching table, invalid names, delivery by pattern.

use super::*;
use crate::pubsub::topic::{Pattern, validate_topic};

#[test]
fn wildcard_matching_table() {
    let table: &[(&str, &str, bool)] = &[
        ("events", "events", true),
        ("events", "events.a", false),
        ("sensors.temp", "sensors.temp", true),
        ("sensors.temp", "sensors.hum", false),
        ("sensors.*", "sensors.temp", true),
        ("sensors.*", "sensors", false),
        ("sensors.*", "sensors.a.b", false),
        ("sensors.*", "other.temp", false),
        ("*.temp", "sensors.temp", true),
        ("*.temp", "temp", false),
        ("*", "events", true),
        ("*", "a.b", false),
        ("sensors.*.max", "sensors.temp.max", true),
        ("sensors.*.max", "sensors.temp.min", false),
        ("sensors.>", "sensors.a", true),
        ("sensors.>", "sensors.a.b.c", true),
        ("sensors.>", "sensors", false),
        ("sensors.>", "sensorsx.a", false),
        (">", "a", true),
        (">", "a.b", true),
        ("*.>", "a", false),
        ("*.>", "a.b.c", true),
    ];
    for &(pattern, topic, expected) in table {
        let parsed = Pattern::parse(pattern).expect("valid pattern");
        assert_eq!(parsed.matches(topic), expected, "{pattern} vs {topic}");
    }
}

#[test]
fn invalid_patterns_are_refused_with_a_reason() {
    let table: &[(&str, &str)] = &[
        ("", "is empty"),
        (".a", "empty segment"),
        ("a.", "empty segment"),
        ("a..b", "empty segment"),
        ("a.>.b", "`>` before its last segment"),
        (">.a", "`>` before its last segment"),
        ("sen*", "inside a segment"),
        ("a.b>", "inside a segment"),
        ("a.*x", "inside a segment"),
    ];
    for &(pattern, why) in table {
        match Pattern::parse(pattern) {
            Err(PubSubError::InvalidTopic(message)) => {
                assert!(message.contains(why), "{pattern:?}: {message:?} should say {why:?}")
            }
            other => panic!("{pattern:?} should be refused, got {other:?}"),
        }
    }
}

#[test]
fn a_topic_to_publish_on_has_no_wildcard() {
    assert_eq!(validate_topic("sensors.temp"), Ok(()));
    for topic in ["sensors.*", "sensors.>", "", "a..b"] {
        assert!(matches!(validate_topic(topic), Err(PubSubError::InvalidTopic(_))), "{topic:?}");
    }
}

#[tokio::test]
async fn subscribing_or_publishing_with_an_invalid_name_fails() {
    let ps = hub();
    assert!(matches!(ps.subscribe("a..b", SubscribeConfig::blocking(1)), Err(PubSubError::InvalidTopic(_))));
    let many = ps.subscribe_many(&["ok", "sen*"], SubscribeConfig::blocking(1));
    assert!(matches!(many, Err(PubSubError::InvalidTopic(_))));
    assert!(ps.stats().subscribers.is_empty(), "a refused subscribe leaves nothing behind");
    let err = ps.broadcast("sensors.*", vec![1]).await.expect_err("a pattern is not a topic");
    assert!(err.to_string().contains("wildcards are for subscribing"), "{err}");
    assert!(matches!(ps.try_broadcast("", vec![1]), Err(PubSubError::InvalidTopic(_))));
}

#[tokio::test]
async fn wildcard_and_exact_subscribers_receive_what_matches_each_once() {
    let ps = hub();
    let mut star = sub(&ps, "sensors.*", SubscribeConfig::blocking(10));
    let mut rest = sub(&ps, "sensors.>", SubscribeConfig::blocking(10));
    let mut exact = sub(&ps, "sensors.temp", SubscribeConfig::blocking(10));
    let mut overlapping =
        ps.subscribe_many(&["sensors.*", "sensors.temp"], SubscribeConfig::blocking(10)).expect("valid");
    assert_eq!(ps.broadcast("sensors.temp", vec![1]).await.expect("open").subscribers, 4);
    assert_eq!(ps.broadcast("sensors.temp.max", vec![2]).await.expect("open").subscribers, 1);
    assert_eq!(ps.broadcast("sensors", vec![3]).await.expect("open").subscribers, 0);
    assert_eq!(ps.broadcast("sensors.hum", vec![4]).await.expect("open").subscribers, 3);
    assert_eq!(drain(&mut star), vec![1, 4]);
    assert_eq!(drain(&mut rest), vec![1, 2, 4]);
    assert_eq!(drain(&mut exact), vec![1]);
    assert_eq!(drain(&mut overlapping), vec![1, 4], "one delivery even where two patterns match");
}

#[tokio::test]
async fn a_subscribe_after_a_cached_publish_is_seen_by_the_next_publish() {
    let ps = hub();
    let _first = sub(&ps, "sensors.*", SubscribeConfig::blocking(10));
    assert_eq!(ps.broadcast("sensors.a", vec![1]).await.expect("open").subscribers, 1);
    let mut late = sub(&ps, "sensors.>", SubscribeConfig::blocking(10));
    assert_eq!(ps.broadcast("sensors.a", vec![2]).await.expect("open").subscribers, 2);
    assert_eq!(drain(&mut late), vec![2]);
}

#[tokio::test]
async fn publishing_to_many_topics_nobody_receives_keeps_no_state_per_topic() {
    let ps = hub();
    let _s = sub(&ps, "sensors.*", SubscribeConfig::with_overflow(10, Overflow::DropNewest));
    for i in 0..10_000 {
        ps.broadcast(&format!("nobody.{i}"), vec![1]).await.expect("open");
    }
    assert_eq!(ps.cached_routes(), 0, "topics nobody receives are not cached");
    for i in 0..(2 * crate::pubsub::registry::COUNTED_TOPICS) {
        ps.broadcast(&format!("sensors.{i}"), vec![1]).await.expect("open");
    }
    let stats = ps.stats();
    assert!(
        stats.topics.len() <= crate::pubsub::registry::COUNTED_TOPICS + 1,
        "{} topics",
        stats.topics.len()
    );
    let other = stats.topics.iter().find(|t| t.topic == OTHER).expect("summed under (other)");
    assert_eq!(other.published, 10_000 + crate::pubsub::registry::COUNTED_TOPICS as u64);
    let total: u64 = stats.topics.iter().map(|t| t.published).sum();
    assert_eq!(
        total,
        10_000 + 2 * crate::pubsub::registry::COUNTED_TOPICS as u64,
        "every publish counted once"
    );
}

#[tokio::test]
async fn the_route_cache_stays_bounded_and_correct_past_its_size() {
    let ps = hub();
    let mut s = sub(&ps, "sensors.>", SubscribeConfig::with_overflow(1, Overflow::DropOldest));
    let cap = crate::pubsub::registry::ROUTE_CACHE;
    for i in 0..(cap + cap / 2) {
        ps.broadcast(&format!("sensors.{i}"), vec![i as u32]).await.expect("open");
        assert!(ps.cached_routes() <= cap, "{} cached routes", ps.cached_routes());
    }
    assert!(ps.cached_routes() > 0);
    assert_eq!(drain(&mut s), vec![(cap + cap / 2 - 1) as u32], "still delivered after the cache emptied");
}
