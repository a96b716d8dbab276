//! Shared helpers of the integration tests: the real server in-process on an ephemeral
//! loopback port (bound before serving, so no waiting), HTTP posting, tool lookup.
#![allow(dead_code, clippy::unwrap_used)] // test helpers: a failure is a test failure

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
};

use tsa::{
    authority::TimeStampAuthority,
    config::TsaConfig,
    server::{self, AppState, Limits, QUERY_MEDIA_TYPE},
};

/// A running TSA; stopped (and its log closed) by [`TestServer::stop`] or on drop.
pub struct TestServer {
    pub url: String,
    pub data: PathBuf,
    pub runtime: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Starts the real server on 127.0.0.1:0 with the data directory `data` (development chain).
pub fn start(data: &Path) -> TestServer {
    start_with(TsaConfig::new(([127, 0, 0, 1], 0).into(), data.to_owned()))
}

/// Starts the real server with `config` (its `listen` is ignored: an ephemeral port is used).
pub fn start_with(config: TsaConfig) -> TestServer {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let data = config.data_dir.clone();
    let (authority, _) = TimeStampAuthority::open(&config).unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = AppState {
        authority: Arc::new(authority),
    };
    let task = runtime.spawn(server::serve(listener, state, Limits::default(), async {
        let _ = stopped.await;
    }));
    TestServer {
        url: format!("http://{addr}/"),
        data,
        runtime,
        stop: Some(stop),
        task: Some(task),
    }
}

impl TestServer {
    /// POSTs `body` with `content_type` to `/`; returns the status and body.
    pub fn post(&self, content_type: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        let url = self.url.clone();
        let content_type = content_type.to_owned();
        self.runtime.block_on(async move {
            let response = reqwest::Client::new()
                .post(url)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.bytes().await.unwrap().to_vec())
        })
    }

    /// POSTs a DER TimeStampReq.
    pub fn query(&self, der: Vec<u8>) -> (u16, Vec<u8>) {
        self.post(QUERY_MEDIA_TYPE, der)
    }

    /// Stops the server, waiting for the drain and the log to close.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            self.runtime.block_on(task).unwrap().unwrap();
        }
    }

    pub fn root_pem(&self) -> PathBuf {
        self.data.join(tsa::dev_chain::ROOT_FILE)
    }

    pub fn tsa_pem(&self) -> PathBuf {
        self.data.join(tsa::dev_chain::TSA_CERT_FILE)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// `openssl` with an empty configuration, if it is on PATH.
pub fn openssl() -> Option<Command> {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok || std::env::var("CI").map_or(true, |v| v != "true"),
        "openssl is required under CI (run scripts/install-test-deps.sh)"
    );
    ok.then(|| {
        let mut c = Command::new("openssl");
        c.env("OPENSSL_CONF", "/dev/null");
        c
    })
}

/// Runs `cmd`, panicking with its output when it fails; returns stdout.
pub fn run(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
