//! `tsa`: the RFC 3161 time-stamp authority server.
//!
//! ```text
//! tsa serve --listen 127.0.0.1:3180 --data ./tsa-data
//! tsa serve --listen 127.0.0.1:3180 --data ./tsa-data --key tsa-key.pem --cert tsa.pem [--chain ca.pem] [--policy OID]
//! ```
#![forbid(unsafe_code)]

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use const_oid::ObjectIdentifier;
use tracing_subscriber::EnvFilter;
use tsa::{
    authority::TimeStampAuthority,
    config::{IdentitySource, TsaConfig, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_POLICY},
    dev_chain,
    server::{self, AppState, Limits},
    store::Durability,
};

#[derive(Parser)]
#[command(name = "tsa", version, about = "RFC 3161 time-stamp authority")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve RFC 3161 over HTTP: POST / (application/timestamp-query), GET /health.
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3180")]
    listen: SocketAddr,
    /// Data directory: token log (tokens.sqlite) and, without --key, the development chain
    /// (root.pem, tsa.pem, tsa-key.pem).
    #[arg(long)]
    data: PathBuf,
    /// TSA private key, PKCS#8 (PEM or DER): ECDSA P-256/P-384 or RSA.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// TSA certificate (PEM), with extendedKeyUsage timeStamping (critical).
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Intermediate certificates to include in tokens when certReq is set (PEM).
    #[arg(long)]
    chain: Option<PathBuf>,
    /// TSA policy OID of every token (default: the placeholder 1.3.6.1.4.1.99999.1.1).
    #[arg(long, default_value_t = DEFAULT_POLICY)]
    policy: ObjectIdentifier,
    /// Largest accepted request body in bytes (413 beyond).
    #[arg(long, default_value_t = DEFAULT_MAX_REQUEST_BYTES)]
    max_request_bytes: usize,
    /// Token log commit mode: `full` fsyncs every batch before replying; `normal` survives a
    /// process crash but may lose the last records on power loss (serials stay unique).
    #[arg(long, value_enum, default_value_t = DurabilityArg::Full)]
    durability: DurabilityArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum DurabilityArg {
    Full,
    Normal,
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tsa: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = TsaConfig::new(args.listen, args.data);
    config.key = args.key;
    config.cert = args.cert;
    config.chain = args.chain;
    config.policy = args.policy;
    config.max_request_bytes = args.max_request_bytes;
    config.store.durability = match args.durability {
        DurabilityArg::Full => Durability::Full,
        DurabilityArg::Normal => Durability::Normal,
    };
    let (authority, source) = TimeStampAuthority::open(&config).with_context(|| {
        format!(
            "cannot start the TSA with data directory {}",
            config.data_dir.display()
        )
    })?;
    let subject = authority
        .issuer()
        .certificate()
        .tbs_certificate
        .subject
        .to_string();
    match source {
        IdentitySource::Configured => tracing::info!(%subject, "TSA certificate loaded"),
        IdentitySource::DevChainCreated => tracing::warn!(
            %subject,
            trust_anchor = %config.data_dir.join(dev_chain::ROOT_FILE).display(),
            tsa_certificate = %config.data_dir.join(dev_chain::TSA_CERT_FILE).display(),
            "no --key/--cert given: created a DEVELOPMENT chain (not for production)"
        ),
        IdentitySource::DevChainLoaded => tracing::warn!(
            %subject,
            trust_anchor = %config.data_dir.join(dev_chain::ROOT_FILE).display(),
            "no --key/--cert given: using the DEVELOPMENT chain of the data directory"
        ),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let local = listener.local_addr().context("listener address")?;
        tracing::info!(
            listen = %local,
            policy = %config.policy,
            store = %config.store_path().display(),
            "TSA serving: POST / (application/timestamp-query), GET /health"
        );
        let state = AppState {
            authority: Arc::new(authority),
        };
        let limits = Limits {
            max_request_bytes: config.max_request_bytes,
            ..Limits::default()
        };
        server::serve(listener, state, limits, server::shutdown_signal())
            .await
            .context("server failed")?;
        tracing::info!("stopped; token log closed");
        Ok(())
    })
}
