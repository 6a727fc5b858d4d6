//! Configuration: invalid options are refused before anything starts, naming the option; the
//! defaults and edge values are accepted; a stage that does not exist cannot be killed.

use super::*;
use crate::pipeline::testing::TestPipeline;
use crate::pipeline::{Pipeline, PipelineError, PubSubProducer};
use crate::pubsub::{PubSub, SubscribeConfig};
use std::sync::Arc;

/// Each broken config, and words its error must contain.
fn broken() -> Vec<(PipelineConfig, &'static [&'static str])> {
    let base = || config(2, 10, vec![batcher("default", 10, Duration::from_millis(50))]);
    let with = |f: &dyn Fn(&mut PipelineConfig)| {
        let mut c = base();
        f(&mut c);
        c
    };
    vec![
        (with(&|c| c.processors.concurrency = 0), &["processors.concurrency"]),
        (with(&|c| c.processors.max_demand = 0), &["processors.max_demand"]),
        (with(&|c| c.processors.min_demand = Some(10)), &["processors.min_demand", "10"]),
        (with(&|c| c.processors.min_demand = Some(11)), &["processors.min_demand", "11"]),
        (
            with(&|c| c.batchers.push(batcher("default", 5, Duration::from_millis(5)))),
            &["\"default\"", "twice"],
        ),
        (with(&|c| c.batchers[0].batch_size = 0), &["\"default\"", "batch_size"]),
        (with(&|c| c.batchers[0].batch_timeout = Duration::ZERO), &["\"default\"", "batch_timeout"]),
        (with(&|c| c.batchers[0].concurrency = 0), &["\"default\"", "concurrency"]),
    ]
}

#[tokio::test]
async fn invalid_configs_are_refused_naming_the_option_and_start_nothing() {
    let pubsub = PubSub::<u64>::new();
    for (cfg, words) in broken() {
        let described = format!("{cfg:?}");
        let producer = PubSubProducer::subscribe(&pubsub, &["events"], SubscribeConfig::blocking(10))
            .expect("valid topics");
        let result = Pipeline::start(cfg, producer, Arc::new(Script::new()), Arc::new(Recorder::default()));
        match result {
            Err(PipelineError::InvalidConfig(why)) => {
                for word in words {
                    assert!(why.contains(word), "{why:?} does not name {word:?} (config {described})");
                }
            }
            Err(other) => panic!("{described}: refused with {other:?}"),
            Ok(_) => panic!("{described} was accepted"),
        }
        assert_eq!(pubsub.subscriber_count("events"), 0, "a refused pipeline holds no subscription");
    }
}

#[tokio::test]
async fn the_defaults_and_edge_values_are_accepted() {
    let defaults = PipelineConfig::default();
    assert_eq!((defaults.processors.concurrency, defaults.processors.max_demand), (2, 10));
    assert_eq!(defaults.batchers, vec![BatcherConfig::default()]);
    let b = BatcherConfig::default();
    assert_eq!(
        (b.name, b.batch_size, b.batch_timeout, b.concurrency),
        ("default", 100, Duration::from_millis(50), 1)
    );

    let mut tightest = config(1, 1, vec![batcher("default", 1, Duration::from_nanos(1))]);
    tightest.processors.min_demand = Some(0);
    let mut widest_min = config(3, 10, vec![]);
    widest_min.processors.min_demand = Some(9);
    for cfg in [defaults, tightest, widest_min, config(1, 5, vec![])] {
        let described = format!("{cfg:?}");
        let tp = TestPipeline::start(cfg, Script::new()).unwrap_or_else(|e| panic!("{described}: {e}"));
        let acks = tp.test_batch((0..25).collect()).await;
        assert!(acks.iter().all(|a| a.is_ok()), "{described}");
        tp.pipeline.stop(WAIT).await.expect("drains");
    }
}

#[tokio::test]
async fn killing_a_stage_that_does_not_exist_is_refused() {
    let tp =
        TestPipeline::start(config(2, 10, vec![batcher("default", 10, WAIT)]), Script::new()).expect("valid");
    // The producer is no stage of its own: it runs inside the processors that pull from it.
    for stage in [
        StageId::Producer,
        StageId::Processor(2),
        StageId::Batcher(1),
        StageId::BatchProcessor { batcher: 0, index: 1 },
        StageId::BatchProcessor { batcher: 1, index: 0 },
    ] {
        match tp.pipeline.kill(stage) {
            Err(PipelineError::NoSuchStage(name)) => assert!(name.contains(&stage.to_string()), "{name}"),
            other => panic!("kill {stage}: {other:?}"),
        }
    }
    assert_eq!(tp.pipeline.restarts(), 0);
    tp.pipeline.stop(WAIT).await.expect("drains");
}

#[test]
fn errors_read_well() {
    let timeout = PipelineError::DrainTimeout { timeout: Duration::from_secs(2), abandoned: 7 };
    assert_eq!(timeout.to_string(), "pipeline did not drain within 2s; 7 messages were failed");
    assert_eq!(PipelineError::NoSuchStage("batcher 3".into()).to_string(), "no such stage: batcher 3");
    assert!(PipelineError::InvalidConfig("x".into()).to_string().contains('x'));
}

#[test]
fn controls_are_validated_with_the_rest_of_the_config() {
    use crate::pipeline::{RateLimit, RetryPolicy};
    let invalid = |f: &dyn Fn(&mut PipelineConfig)| {
        let mut cfg = config(2, 10, vec![]);
        f(&mut cfg);
        match cfg.validate() {
            Err(PipelineError::InvalidConfig(why)) => why,
            other => panic!("expected a refusal, got {other:?}"),
        }
    };
    let why = invalid(&|c| {
        c.processors.partitioned = true;
        c.processors.min_demand = Some(2);
    });
    assert!(why.contains("min_demand 0"), "{why}");
    assert!(invalid(&|c| c.processors.max_concurrency = Some(1)).contains("max_concurrency"));
    assert!(
        invalid(&|c| c.rate_limit = Some(RateLimit { allowed_messages: 0, interval: WAIT }))
            .contains("rate_limit")
    );
    let why = invalid(&|c| c.retry = Some(RetryPolicy { jitter: 1.5, ..RetryPolicy::default() }));
    assert!(why.contains("jitter"), "{why}");
    let why = invalid(&|c| c.retry = Some(RetryPolicy { max_attempts: 0, ..RetryPolicy::default() }));
    assert!(why.contains("max_attempts"), "{why}");
}

#[tokio::test]
async fn the_statistics_list_every_running_stage_by_its_id() {
    let tp =
        TestPipeline::start(config(2, 10, vec![batcher("sums", 10, WAIT)]), Script::new()).expect("valid");
    let shown: Vec<StageId> = tp.pipeline.stats().stages.into_iter().map(|s| s.id).collect();
    assert_eq!(
        shown,
        vec![
            StageId::Producer,
            StageId::Processor(0),
            StageId::Processor(1),
            StageId::Batcher(0),
            StageId::BatchProcessor { batcher: 0, index: 0 },
        ]
    );
    // The stages that run as tasks (and can be killed) are those, less the producer.
    assert_eq!(tp.pipeline.stages(), shown[1..].to_vec());
    assert_eq!(tp.pipeline.topology().batchers[0].name, "sums", "batchers are named in the topology");
    tp.pipeline.stop(WAIT).await.expect("drains");
}
