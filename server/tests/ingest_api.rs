//! `POST /api/events` and `GET /api/stats` against a real server: status codes, JSON errors, and
//! a ledger that balances once the pipeline is idle.

mod common;

use common::{TestServer, reading};
use serde_json::json;

#[tokio::test]
async fn health_answers_200() {
    let s = TestServer::start().await;
    let res = s.http.get(s.url("/healthz")).send().await.expect("request");
    assert_eq!(res.status(), 200);
    s.stop().await;
}

#[tokio::test]
async fn one_event_or_an_array_is_accepted() {
    let s = TestServer::start().await;
    let (status, body) = s.post_events(reading("s-17", "temperature", 21.5).to_string()).await;
    assert_eq!((status, body), (202, json!({ "accepted": 1 })));
    let many = json!([reading("a", "humidity", 40.0), reading("b", "pressure", 1013.0), {"sensor": "c", "kind": "temperature", "value": 3, "at": 1_700_000_000_000u64}]);
    let (status, body) = s.post_events(many.to_string()).await;
    assert_eq!((status, body), (202, json!({ "accepted": 3 })));
    let stats = s.idle_stats().await;
    assert_eq!((stats.published, stats.processed, stats.failed), (4, 4, 0));
    s.stop().await;
}

#[tokio::test]
async fn out_of_range_is_accepted_then_fails_in_the_pipeline_with_its_reason() {
    let s = TestServer::start().await;
    let (status, _) = s
        .post_events(json!([reading("a", "temperature", 180.0), reading("b", "humidity", 50.0)]).to_string())
        .await;
    assert_eq!(status, 202);
    let stats = s.idle_stats().await;
    assert_eq!((stats.processed, stats.failed), (1, 1));
    assert_eq!(stats.failure_reasons[0].reason, "temperature out of range");
    assert_eq!(stats.failure_reasons[0].count, 1);
    s.stop().await;
}

#[tokio::test]
async fn malformed_json_is_400_with_a_json_error() {
    let s = TestServer::start().await;
    let (status, body) = s.post_events("{\"sensor\": ").await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().expect("error text").contains("malformed JSON"), "{body}");
    let (status, _) = s.post_events("").await;
    assert_eq!(status, 400);
    s.stop().await;
}

#[tokio::test]
async fn missing_or_mistyped_fields_are_422_naming_the_field() {
    let s = TestServer::start().await;
    let cases = [
        (json!({"kind": "humidity", "value": 1}), "sensor"),
        (json!({"sensor": "a", "value": 1}), "kind"),
        (json!({"sensor": "a", "kind": "humidity"}), "value"),
        (json!({"sensor": "a", "kind": "wind", "value": 1}), "kind"),
        (json!({"sensor": "a", "kind": "humidity", "value": "wet"}), "value"),
        (json!({"sensor": 5, "kind": "humidity", "value": 1}), "sensor"),
        (
            json!([reading("ok", "humidity", 1.0), {"sensor": "a", "kind": "humidity", "value": 1, "at": "noon"}]),
            "[1].at",
        ),
        (json!({"sensor": "", "kind": "humidity", "value": 1}), "sensor"),
    ];
    for (body, field) in cases {
        let (status, answer) = s.post_events(body.to_string()).await;
        assert_eq!(status, 422, "{body} → {answer}");
        let text = answer["error"].as_str().expect("error text");
        assert!(text.contains(field), "error for {body} should name {field}: {text}");
    }
    assert_eq!(s.stats().await.published, 0, "nothing from a refused request is published");
    s.stop().await;
}

#[tokio::test]
async fn a_body_over_1_mib_is_413() {
    let s = TestServer::start().await;
    let one = reading("s-1", "humidity", 50.0).to_string();
    let body = format!("[{}]", vec![one; 30_000].join(","));
    assert!(body.len() > 1024 * 1024);
    let (status, answer) = s.post_events(body).await;
    assert_eq!(status, 413);
    assert!(answer["error"].as_str().expect("error text").contains("larger than"));
    s.stop().await;
}

#[tokio::test]
async fn unknown_api_paths_are_json_404s() {
    let s = TestServer::start().await;
    let res = s.http.get(s.url("/api/nope")).send().await.expect("request");
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.expect("JSON");
    assert!(body["error"].as_str().expect("text").contains("/api/nope"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_balances_exactly_once_idle() {
    let s = TestServer::start().await;
    let kinds = [("temperature", 20.0, 400.0), ("humidity", 50.0, -5.0), ("pressure", 1000.0, 10.0)];
    let mut expected_failed = 0;
    let mut sent = 0;
    for round in 0..20 {
        let batch: Vec<_> = (0..250)
            .map(|i| {
                let (kind, good, bad) = kinds[i % 3];
                let invalid = (i + round) % 7 == 0;
                expected_failed += u64::from(invalid);
                reading(&format!("s-{i}"), kind, if invalid { bad } else { good })
            })
            .collect();
        sent += batch.len() as u64;
        let (status, _) = s.post_events(serde_json::Value::Array(batch).to_string()).await;
        assert_eq!(status, 202);
    }
    let stats = s.idle_stats().await;
    assert_eq!(stats.published, sent);
    assert_eq!(stats.failed, expected_failed);
    assert_eq!(stats.processed, sent - expected_failed);
    assert_eq!(stats.dropped, 0);
    assert!(stats.balances(), "{stats:?}");
    let agg_total: u64 = stats.kinds.iter().map(|k| k.count).sum();
    assert_eq!(agg_total, stats.processed, "the batcher saw every processed reading");
    s.stop().await;
}
