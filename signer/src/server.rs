//! Running the service: bind, serve, background loops (expiry sweep, finalization retries,
//! webhook deliveries), graceful shutdown with a bounded drain.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::service::{Service, StartError, State};

/// A running service.
#[derive(Debug)]
pub struct Running {
    /// The bound address (useful with port 0).
    pub addr: SocketAddr,
    /// The shared state (tests and the demo reach the store through it).
    pub service: State,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    loops: Vec<JoinHandle<()>>,
}

/// Opens the data directory, binds `config.listen` and starts serving and the background
/// loops. Must run inside a Tokio runtime.
///
/// # Errors
/// [`StartError`].
pub async fn start(config: Config) -> Result<Running, StartError> {
    let addr = config.listen;
    let service = Service::open(config)?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError::Listen { addr, source })?;
    let (stop, stopped) = watch::channel(false);
    let app = crate::http::app(service.clone());
    let mut server_stop = stopped.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_stop.changed().await;
            })
            .await
    });
    let loops = vec![
        tokio::spawn(crate::finalize::retry_loop(
            service.clone(),
            stopped.clone(),
        )),
        tokio::spawn(crate::webhook::delivery_loop(
            service.clone(),
            stopped.clone(),
        )),
        tokio::spawn(expiry_loop(service.clone(), stopped)),
    ];
    Ok(Running {
        addr,
        service,
        stop,
        server,
        loops,
    })
}

impl Running {
    /// The service's base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests, waits up to `drain` for open ones, stops the loops and
    /// flushes the TSA log.
    pub async fn shutdown(self, drain: Duration) {
        let _ = self.stop.send(true);
        // long polls end early when the server stops accepting; bounded either way
        let server = self.server;
        if tokio::time::timeout(drain, server).await.is_err() {
            tracing::warn!("open requests did not finish within {drain:?}; closing anyway");
        }
        for l in self.loops {
            let _ = tokio::time::timeout(Duration::from_secs(2), l).await;
        }
        self.service.close();
    }
}

/// Ends pending actions past their expiry, every second, until `stop` fires.
async fn expiry_loop(svc: Arc<Service>, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = crate::actions::sweep_expired(&svc).await {
            tracing::error!(error = %e, "expiry sweep failed");
        }
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Waits for Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
