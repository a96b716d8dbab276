//! `signer`: the signing service (`serve`), its demonstration (`demo`), and administration
//! commands (`admin`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use signer::config::{Config, DEFAULT_MAX_UPLOAD_BYTES};
use signer::domain::person::Person;

#[derive(Parser)]
#[command(
    name = "signer",
    version,
    about = "Qualified electronic signature service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (partner API, app API, embedded CA and TSA).
    Serve(ServeArgs),
    /// Sign PDFs end to end with an in-process service and a simulated phone app.
    Demo(DemoArgs),
    /// Administration of the data directory.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on (port 0: any free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Data directory: database, documents, CA keys, TSA log, SMS outbox.
    #[arg(long)]
    data: PathBuf,
    /// Largest document upload in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_UPLOAD_BYTES)]
    max_upload_bytes: u64,
    /// Seconds a person has to answer a sign action.
    #[arg(long, default_value_t = 180)]
    action_ttl: u64,
    /// External RFC 3161 TSA URL (default: the embedded time-stamp unit).
    #[arg(long)]
    tsa_url: Option<String>,
    /// Enable /v1/test/* (clock and TSA switches). For black-box tests only.
    #[arg(long)]
    test_hooks: bool,
}

#[derive(clap::Args)]
struct DemoArgs {
    /// Where to write the signed PDFs and root.pem.
    #[arg(long, default_value = "demo-out")]
    out: PathBuf,
    /// PDFs to sign (default: samples/contract.pdf and samples/terms.pdf); an already-signed PDF gets one more signature.
    files: Vec<PathBuf>,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a partner and print its API key (shown once) as JSON.
    CreatePartner {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// The partner's display name (shown in the app).
        #[arg(long)]
        name: String,
    },
    /// Add an API key to a partner (rotation) and print it.
    AddKey {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// The partner id.
        #[arg(long)]
        partner: String,
    },
    /// Vouch for a person so that they can enroll their app.
    Vouch {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// Phone number, E.164 (+32470000001).
        #[arg(long)]
        phone: String,
        /// First name(s).
        #[arg(long)]
        given_name: String,
        /// Family name.
        #[arg(long)]
        surname: String,
        /// National register number (11 digits).
        #[arg(long)]
        national_number: String,
    },
    /// Check the hash chain of the audit log.
    AuditCheck {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
    },
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("signer: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => {
            init_logging();
            let mut config = Config::new(args.listen, args.data);
            config.max_upload_bytes = args.max_upload_bytes;
            config.action_ttl = std::time::Duration::from_secs(args.action_ttl);
            config.tsa_url = args.tsa_url;
            config.test_hooks = args.test_hooks;
            tokio::runtime::Runtime::new()?.block_on(serve(config))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => {
            if std::env::var_os("RUST_LOG").is_some() {
                init_logging();
            }
            let ok = tokio::runtime::Runtime::new()?
                .block_on(signer::demo::run(&args.out, &args.files))?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Admin(cmd) => admin(cmd),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    if config.test_hooks {
        tracing::warn!("test hooks are enabled: never do this in production");
    }
    let data = config.data_dir.clone();
    let running = signer::server::start(config)
        .await
        .context("cannot start the service")?;
    // one JSON line on stdout: tests and scripts read the bound address from it
    println!(
        "{}",
        serde_json::json!({
            "listening": running.addr.to_string(),
            "url": running.url(),
            "data": data.display().to_string(),
            "root": running.service.ca.root_path.display().to_string(),
        })
    );
    tracing::info!(url = %running.url(), "signer serving");
    signer::server::shutdown_signal().await;
    tracing::info!("shutting down");
    running.shutdown(signer::http::SHUTDOWN_DRAIN).await;
    Ok(())
}

fn admin(cmd: AdminCommand) -> anyhow::Result<ExitCode> {
    use signer::admin;
    let now = time::OffsetDateTime::now_utc();
    match cmd {
        AdminCommand::CreatePartner { data, name } => {
            let store = admin::open_store(&data)?;
            let p = admin::create_partner(&store, &name, now)?;
            println!("{}", serde_json::to_string_pretty(&p)?);
        }
        AdminCommand::AddKey { data, partner } => {
            let store = admin::open_store(&data)?;
            let key = admin::add_api_key(&store, &partner, now)?;
            println!(
                "{}",
                serde_json::json!({"partner_id": partner, "api_key": key})
            );
        }
        AdminCommand::Vouch {
            data,
            phone,
            given_name,
            surname,
            national_number,
        } => {
            let store = admin::open_store(&data)?;
            let person = Person {
                phone,
                given_name,
                surname,
                national_number,
            };
            admin::vouch(&store, &person, now)?;
            println!("{}", serde_json::json!({"vouched": person.phone}));
        }
        AdminCommand::AuditCheck { data } => {
            let store = admin::open_store(&data)?;
            let n = signer::store::Store::check_audit_chain(&store)?;
            println!(
                "{}",
                serde_json::json!({"audit_log": "intact", "entries": n})
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
