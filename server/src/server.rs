//! Wiring: builds the pub/sub, pipeline, telemetry and routes, serves them, and on shutdown
//! hands everything to the drain (`crate::shutdown`).

use crate::bus::{AckRecorder, BusConfig, ClusterLetters, RedisAcker, RedisBus, RedisProducer};
use crate::config::ServerConfig;
use crate::dead_letters::DeadLetterQueue;
use crate::demo::{Simulator, Taps};
use crate::dlq::DeadLetters;
use crate::guard::{self, AllowedHosts, Operator, Roles, Sessions};
use crate::ingest::Ingest;
use crate::live::{Reporter, Snapshots};
use crate::observe::{self, Observe};
use crate::pipeline::{AckChain, Pipeline, PubSubProducer};
use crate::pubsub::{PubSub, SubscribeConfig};
use crate::rate::PerClient;
use crate::readings::ReadingsHandler;
use crate::shutdown::{Drain, OwnedRuntime};
use crate::state::AppState;
use crate::telemetry::{Aggregates, Feed, Ledger};
use crate::{api, serve, ws};
use app::api::{SharedBackend, SharedDashboardSource};
use app::model::StatsSnapshot;
use app::{Page, shell};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, post};
use leptos::config::Env;
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes};
use leptos_router::{Method, SsrMode};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// Serves Pulse on `listener` until `shutdown` is cancelled, then drains and returns the final
/// ledger.
pub async fn run(
    config: ServerConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<StatsSnapshot> {
    let local = listener.local_addr()?;
    let ledger = Arc::new(Ledger::default());
    let aggregates = Arc::new(Aggregates::default());
    let pubsub = PubSub::new();
    // Redis mode: the pipeline reads the cluster's stream; its tasks run on this runtime. The
    // node tells the others the address it really listens on (port 0 is resolved by now).
    let bus = match &config.bus {
        Some(bus) => Some(RedisBus::connect(BusConfig { addr: local.to_string(), ..bus.clone() }).await?),
        None => None,
    };
    let producer = match &bus {
        Some(bus) => {
            let (producer, claims) = RedisProducer::start(bus, ledger.clone());
            bus.start_tasks(claims);
            Source::Redis(producer)
        }
        None => Source::Embedded(PubSubProducer::subscribe(
            &pubsub,
            &[&config.topic],
            SubscribeConfig {
                name: "pipeline".into(),
                capacity: config.buffer,
                overflow: config.overflow,
                lost: ledger.buffer_full_counter(),
            },
        )?),
    };
    let feed = Arc::new(Feed::default());
    // Every acknowledgement, in this order: successes counted in the ledger, a sample for the
    // live feed, then the failures' dead letters. Embedded: the dead-letter queue (which
    // counts them failed in the ledger once their letters are on disk). Redis mode: the
    // entry of each final event counts down to its XACK, which adds its failed events'
    // letters to the cluster's queue in Redis.
    let acknowledger = AckChain::default().then(ledger.clone()).then(feed.clone());
    let (dead_letters, acknowledger) = match &bus {
        Some(bus) => {
            let acker = RedisAcker::new(bus, ledger.clone(), &config.topic, config.dlq_capacity as u64);
            let letters = ClusterLetters::new(bus);
            let queue = DeadLetterQueue::cluster(letters).await;
            let acknowledger = acknowledger.then(Arc::new(acker));
            let acknowledger = match &bus.config().record_acks {
                Some(path) => acknowledger.then(Arc::new(AckRecorder::open(path)?)),
                None => acknowledger,
            };
            (queue, acknowledger)
        }
        None => {
            let store = DeadLetters::open(config.dlq_path(), config.dlq_capacity)?;
            let (queue, sink) = DeadLetterQueue::start(store, &config.topic, ledger.clone())?;
            (queue, acknowledger.then(Arc::new(sink)))
        }
    };
    let mut pipeline_config = config.pipeline.clone();
    pipeline_config.observers.push(ledger.clone());
    // The data plane gets its own runtime; HTTP and WebSockets stay on this one.
    let pipeline_runtime = OwnedRuntime::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.pipeline_threads)
            .thread_name("pulse-pipeline")
            .enable_time()
            .build()?,
    );
    let pipeline = {
        let _on = pipeline_runtime.handle().map(tokio::runtime::Handle::enter);
        let handler = Arc::new(ReadingsHandler::new(aggregates.clone()));
        match producer {
            Source::Embedded(p) => Pipeline::start(pipeline_config, p, handler, Arc::new(acknowledger))?,
            Source::Redis(p) => Pipeline::start(pipeline_config, p, handler, Arc::new(acknowledger))?,
        }
    };
    let background = TaskTracker::new();
    let ingest = Ingest::new(pubsub.clone(), ledger.clone(), &config.topic).with_bus(bus.clone());
    if let Some(bus) = &bus {
        bus.start_broadcast(&pubsub, &config.topic); // broadcast topics cross nodes
        // Controls for every node: applied here when another node sends one; this node's
        // controls reported in its heartbeat.
        let (apply_to, report_of) = (pipeline.clone(), pipeline.clone());
        bus.on_controls(
            Arc::new(move |command| crate::cluster::apply(&apply_to, command)),
            Arc::new(move || crate::cluster::report(&report_of)),
        );
    }
    let simulator = Simulator::new(ingest.clone(), ledger.clone(), shutdown.clone(), background.clone());
    let snapshots = Snapshots::new(
        ledger,
        aggregates,
        pipeline.clone(),
        pubsub.clone(),
        simulator.clone(),
        dead_letters.clone(),
    );
    let reporter_stop = CancellationToken::new();
    let reporter = Reporter::start(snapshots.clone(), feed, reporter_stop.clone(), &background);
    let observe = Observe::new(
        {
            let snapshots = snapshots.clone();
            Arc::new(move || snapshots.now())
        },
        config.data_dir.clone(),
    );
    observe.start_sampler(reporter_stop.clone(), &background);
    let state = AppState {
        leptos: config.leptos_options(),
        ingest,
        pipeline: pipeline.clone(),
        pubsub: pubsub.clone(),
        simulator,
        taps: Taps::new(pubsub.clone(), shutdown.clone(), background.clone()),
        dead_letters: dead_letters.clone(),
        snapshots: snapshots.clone(),
        reporter,
        shutdown: shutdown.clone(),
        observe,
        operator: Operator::new(config.admin_token.clone(), config.ingest_token.clone(), local),
        ingest_limit: PerClient::new(config.limits.ingest_rate_per_client),
        ws_max_lag: config.limits.ws_max_lag,
        bus: bus.clone(),
    };
    let hosts = AllowedHosts::new(&config.allowed_hosts, local);
    tracing::info!("listening on http://{local}, answering for hosts: {hosts}");
    tracing::info!("{}", state.operator.describe());
    if config.allowed_hosts.is_empty() && local.ip().is_unspecified() {
        tracing::warn!(
            "listening on every interface, but answering only for the hosts above: set \
             --allowed-hosts (PULSE_ALLOWED_HOSTS) to the names clients use"
        );
    }
    let sockets = state.observe.sockets().clone();
    let router = routes(state, hosts, config.limits.body_timeout);
    let http = {
        let (limits, shutdown) = (config.limits.clone(), shutdown.clone());
        tokio::spawn(async move { serve::serve(listener, router, &limits, sockets, shutdown).await })
    };
    shutdown.cancelled().await;
    let last = Drain {
        http,
        pubsub,
        pipeline,
        pipeline_runtime,
        dead_letters,
        drain_timeout: config.drain_timeout,
        reporter_stop,
        background,
        snapshots,
        bus,
    };
    Ok(last.run().await)
}

/// The pipeline's source: the local pub/sub's subscription, or the cluster's stream.
enum Source {
    Embedded(PubSubProducer<app::model::SensorReading>),
    Redis(RedisProducer),
}

/// The rendered pages' paths (`app::Page::ROUTED`). There is no router in the app to list them
/// from (see `app::shell`): each is one document, and `shell` picks its root from the path.
fn pages() -> Vec<AxumRouteListing> {
    Page::ROUTED
        .into_iter()
        .filter_map(Page::path)
        .map(|path| AxumRouteListing::new(path.to_string(), SsrMode::OutOfOrder, [Method::Get], vec![]))
        .collect()
}

/// Every route: the JSON API, the WebSocket, server functions and the Leptos pages, behind the
/// guard (`crate::guard`): outermost the security headers (on every answer, refusals too),
/// then the HTTP metrics, compression, the host check, the cross-site check, the roles check
/// (operator and ingest tokens) and tower-http's request-body timeout.
fn routes(state: AppState, hosts: AllowedHosts, body_timeout: Duration) -> Router {
    let backend: SharedBackend = Arc::new(state.clone());
    let leptos_options = state.leptos.clone();
    let dashboard: SharedDashboardSource = Arc::new(state.observe.clone());
    // cargo-leptos' live-reload socket, which a DEV page's CSP must allow.
    let reload = (state.leptos.env == Env::DEV).then_some(state.leptos.reload_port);
    let roles = Roles::new(state.operator.clone());
    let sessions = Router::new()
        .route(app::model::UNLOCK_PATH, post(guard::session))
        .with_state(Sessions::new(state.operator.clone()));
    let router = Router::new()
        .route("/api/events", post(api::post_events).layer(DefaultBodyLimit::max(api::MAX_BODY)))
        .route("/api/stats", get(api::get_stats))
        .route("/api/{*rest}", any(api::not_found))
        .route("/healthz", get(api::healthz))
        .route("/api/cluster", get(crate::cluster::get_cluster))
        .route("/ws", get(ws::upgrade).layer(axum::middleware::from_fn(guard::same_origin_only)))
        .route("/metrics", get(observe::endpoint::metrics))
        .route("/api/dashboard", get(observe::endpoint::dashboard))
        .leptos_routes_with_context(
            &state,
            pages(),
            move || {
                provide_context(backend.clone());
                provide_context(dashboard.clone());
                guard::page_csp(reload);
            },
            move || shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            move || guard::page_csp(reload),
            shell,
        ))
        .merge(sessions)
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        .layer(axum::middleware::from_fn_with_state(roles, guard::authorize))
        .layer(axum::middleware::from_fn(guard::refuse_cross_site))
        .layer(axum::middleware::from_fn_with_state(hosts, guard::check_host))
        .layer(axum::middleware::from_fn_with_state(state.observe.http(), observe::http::track))
        .layer(CompressionLayer::new());
    guard::security_headers(router).with_state(state)
}
