//! `app`: the simulated phone app. See `app/README.md` for a walkthrough.
#![forbid(unsafe_code)]

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Result};
use app::{AppError, ConfirmOutcome, Device, PendingAction};
use clap::{Args, Parser, Subcommand};

/// The simulated phone app of the signing service: enroll, list sign actions, confirm them
/// with the icon and your personal code, or refuse them.
#[derive(Parser)]
#[command(name = "app", version)]
struct Cli {
    /// The app's data directory (holds device.json and keystore.key).
    /// Default: $ESIG_APP_DATA, else ~/.esig-app.
    #[arg(long, global = true, env = "ESIG_APP_DATA", value_name = "DIR")]
    data: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Register this phone with the service, read the SMS code, choose a personal code.
    Enroll(EnrollArgs),
    /// List the sign actions waiting for you (waits up to --wait seconds for one).
    Pending {
        /// Seconds to wait for an action to arrive (0 to 30).
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(0..=30))]
        wait: u32,
        /// Print the actions as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sign an action: pick the icon shown on the partner's page and enter your personal code.
    Confirm {
        /// The action's id, as `app pending` shows it.
        action: String,
        /// The icon shown on the partner's page.
        #[arg(long, value_name = "NAME")]
        icon: String,
        /// Your personal code.
        #[arg(long, value_name = "CODE")]
        code: String,
    },
    /// Refuse an action.
    Refuse {
        /// The action's id, as `app pending` shows it.
        action: String,
        /// You did not start this action: tell the service (possible fraud).
        #[arg(long)]
        not_mine: bool,
    },
    /// Show the enrolled phone, certificate and lock state.
    Status {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct EnrollArgs {
    /// The signing service's URL, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    service: String,
    /// Your phone number, international format (+32470000001).
    #[arg(long)]
    phone: String,
    /// The personal code you choose: 5 to 8 digits, not trivial.
    #[arg(long, value_name = "CODE")]
    personal_code: String,
    /// Read the SMS code from this file (read after the service sent it).
    #[arg(long, value_name = "PATH", conflicts_with = "sms_outbox")]
    code_file: Option<PathBuf>,
    /// Read the SMS code from the service's SMS outbox (DATA/sms-outbox.jsonl): for tests
    /// and demos. Without this or --code-file, the code is asked on the terminal.
    #[arg(long, value_name = "PATH")]
    sms_outbox: Option<PathBuf>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Our messages already carry their cause and what to do; print only the top.
            eprintln!("app: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    let data = match cli.data {
        Some(dir) => dir,
        None => default_data_dir()?,
    };
    match cli.command {
        Command::Enroll(args) => enroll(&data, args).await,
        Command::Pending { wait, json } => pending(&data, wait, json).await,
        Command::Confirm { action, icon, code } => {
            let device = Device::open(&data)?;
            match device.confirm(&action, &icon, &code).await? {
                ConfirmOutcome::Signed => {
                    println!("Signed. The partner receives the signed documents.")
                }
                ConfirmOutcome::Finalizing => {
                    println!("Confirmed. The service is finishing the signed documents.")
                }
                other => println!("Confirmed ({other:?})."),
            }
            Ok(())
        }
        Command::Refuse { action, not_mine } => {
            let device = Device::open(&data)?;
            device.refuse(&action, not_mine).await?;
            if not_mine {
                println!("Refused, and reported to the service as not started by you.");
            } else {
                println!("Refused.");
            }
            Ok(())
        }
        Command::Status { json } => status(&data, json),
    }
}

fn default_data_dir() -> Result<PathBuf> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| anyhow!("HOME is not set; pass --data DIR or set ESIG_APP_DATA"))?;
    Ok(PathBuf::from(home).join(".esig-app"))
}

async fn enroll(data: &Path, args: EnrollArgs) -> Result<()> {
    let phone = args.phone.clone();
    let sms_code = || -> Result<String, AppError> {
        if let Some(outbox) = &args.sms_outbox {
            return app::sms::code_from_outbox(outbox, &phone);
        }
        if let Some(path) = &args.code_file {
            let text = std::fs::read_to_string(path).map_err(|source| AppError::Io {
                path: path.clone(),
                source,
            })?;
            return Ok(text.trim().to_owned());
        }
        prompt_code(&phone)
    };
    let device = Device::enroll(
        data,
        &args.service,
        &args.phone,
        sms_code,
        &args.personal_code,
    )
    .await?;
    let status = app::status(device.data_dir())?;
    println!(
        "Enrolled {} as device {}.",
        device.phone(),
        device.device_id()
    );
    if let Some(subject) = status.subject {
        println!("Certificate: {subject}");
    }
    if let Some(not_after) = status.not_after {
        println!("Valid until: {not_after}");
    }
    println!("Keys stored in {}.", data.display());
    println!("Next: `app pending` to see what partners ask you to sign.");
    Ok(())
}

fn prompt_code(phone: &str) -> Result<String, AppError> {
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "Enter the 5-digit code sent by SMS to {phone}: ");
    let _ = stderr.flush();
    let mut line = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| AppError::SmsCode {
            reason: format!("cannot read the terminal: {e}"),
        })?;
    if read == 0 {
        return Err(AppError::SmsCode {
            reason: "no code entered (end of input); pass --code-file PATH or --sms-outbox PATH"
                .into(),
        });
    }
    Ok(line.trim().to_owned())
}

async fn pending(data: &Path, wait: u32, json: bool) -> Result<()> {
    let device = Device::open(data)?;
    let actions = device.pending(wait).await?;
    if json {
        /// An action as the service sent it, plus the app's verdict on its data.
        #[derive(serde::Serialize)]
        struct Shown<'a> {
            #[serde(flatten)]
            action: &'a PendingAction,
            /// `ok`, or why the app will not sign it.
            app_check: String,
        }
        let list: Vec<Shown<'_>> = actions
            .iter()
            .map(|action| Shown {
                action,
                app_check: match device.check_action(action) {
                    Ok(()) => "ok".into(),
                    Err(e) => e.to_string(),
                },
            })
            .collect();
        #[derive(serde::Serialize)]
        struct Listing<'a> {
            actions: Vec<Shown<'a>>,
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&Listing { actions: list })?
        );
        return Ok(());
    }
    if actions.is_empty() {
        println!("No pending action.");
        return Ok(());
    }
    for action in &actions {
        print_action(&device, action);
    }
    Ok(())
}

fn print_action(device: &Device, action: &PendingAction) {
    let expires = app::auth::format_time(action.expires_at);
    println!("Action {}", clean(&action.id));
    println!("  From:     {}", clean(&action.partner));
    println!("  Message:  {}", clean(&action.message));
    println!("  Expires:  {expires}");
    println!("  Documents:");
    for (n, doc) in action.documents.iter().enumerate() {
        let pages = if doc.pages == 1 { "page" } else { "pages" };
        println!(
            "    {}. {} ({} {pages}, {} bytes)",
            n + 1,
            clean(&doc.name),
            doc.pages,
            doc.size
        );
        println!("       SHA-256 of the document: {}", clean(&doc.sha256));
        println!(
            "       digest to sign:          {}",
            clean(&doc.document_digest)
        );
    }
    let icons: Vec<String> = action.icons.iter().map(|i| clean(i)).collect();
    println!("  Icons:    {}", icons.join("  "));
    match device.check_action(action) {
        Ok(()) => {
            println!("  Check:    the data to sign matches these documents and your certificate");
            println!(
                "  Confirm:  app confirm {} --icon ICON --code CODE   (the icon shown on the partner's page)",
                clean(&action.id)
            );
        }
        Err(e) => println!("  Check:    FAILED, the app will not sign: {e}"),
    }
    println!("  Refuse:   app refuse {} [--not-mine]", clean(&action.id));
    println!();
}

/// Text from the service with control characters replaced, so that it cannot move the
/// cursor or rewrite the terminal.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn status(data: &Path, json: bool) -> Result<()> {
    let status = app::status(data)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(());
    }
    println!("Phone:        {}", status.phone);
    println!("Device:       {}", status.device_id);
    println!("Service:      {}", status.service_url);
    println!(
        "Enrolled:     {}",
        app::auth::format_time(status.enrolled_at)
    );
    if let Some(subject) = &status.subject {
        println!("Certificate:  {subject}");
    }
    if let Some(not_after) = &status.not_after {
        println!("Valid until:  {not_after}");
    }
    if status.locked {
        println!("State:        LOCKED after too many wrong personal codes; enroll again with `app enroll`");
    } else {
        println!(
            "State:        ready ({} personal-code attempts left)",
            status.attempts_left
        );
    }
    Ok(())
}
