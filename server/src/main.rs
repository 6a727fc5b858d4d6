//! `server`: reads its settings (`server --help` lists them: flags and environment variables,
//! see `config::Settings`), sets up logging, serves until SIGTERM / Ctrl-C, then drains; a
//! second signal during the drain exits at once (status 130).

use anyhow::Context;
use pulse_server::ServerConfig;
use pulse_server::config::Settings;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_process();
    pulse_server::observe::logging::init(settings.json_logs(), &settings.log, &settings.log_tail)?;
    let config = ServerConfig::from(settings);
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let shutdown = CancellationToken::new();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            wait_for_signal().await;
            tracing::info!("shutting down: draining (a second signal exits at once)");
            shutdown.cancel();
            wait_for_signal().await;
            tracing::warn!("second signal: exiting without finishing the drain");
            std::process::exit(130);
        }
    });
    pulse_server::run(config, listener, shutdown).await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn wait_for_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
