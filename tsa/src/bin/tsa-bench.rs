//! `tsa-bench`: drives a real `tsa serve` child process over loopback with many concurrent
//! keep-alive connections and reports tokens/s, latency percentiles and the server's peak
//! RSS, next to `openssl speed ecdsap256` measured in the same run (the signing ceiling).
//!
//! ```text
//! cargo build --release -p tsa
//! target/release/tsa-bench --connections 64 --seconds 10
//! ```
//!
//! The load generator speaks minimal HTTP/1.1 itself (one pre-encoded request per
//! connection round, Content-Length framing) so that it takes as little of the shared CPU
//! as possible; every reply is checked to be a granted TimeStampResp, and at the end the
//! token log must hold exactly as many records as tokens were granted.
#![forbid(unsafe_code)]

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use clap::Parser;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tsa::request::{encode_request, ImprintAlgorithm};

#[derive(Parser)]
#[command(name = "tsa-bench", about = "Load test of `tsa serve` over loopback")]
struct Args {
    /// The `tsa` binary (default: next to this one).
    #[arg(long)]
    tsa: Option<PathBuf>,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Warm-up seconds, not measured.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Token log durability of the server: full | normal.
    #[arg(long, default_value = "full")]
    durability: String,
    /// Client worker threads (the server gets the machine's cores; they share them).
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Skip `openssl speed`.
    #[arg(long)]
    no_openssl: bool,
    /// Drive an already running server at this address instead of starting one (no RSS
    /// or token-log figures then; for profiling).
    #[arg(long)]
    addr: Option<SocketAddr>,
    /// Seconds per `openssl speed` run.
    #[arg(long, default_value_t = 3)]
    openssl_seconds: u32,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let tsa = match &args.tsa {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("no parent directory of tsa-bench")?
            .join("tsa"),
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("machine: {cores} cores; load average {}", load_average());

    let ceiling = if args.no_openssl {
        None
    } else {
        let secs = args.openssl_seconds;
        let c = Ceiling {
            cpu_single: openssl_speed(secs, None, false)?,
            wall_single: openssl_speed(secs, None, true)?,
            wall_multi: openssl_speed(secs, Some(cores), true)?,
            cores,
        };
        println!(
            "openssl speed ecdsap256 sign/s: {:.0} per CPU-second (1 process); wall-clock {:.0} (1 process, -elapsed), {:.0} (-multi {cores} -elapsed)",
            c.cpu_single, c.wall_single, c.wall_multi
        );
        Some(c)
    };

    if let Some(addr) = args.addr {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.client_threads.max(1))
            .enable_all()
            .build()?;
        let run = runtime.block_on(load(addr, &args))?;
        let rate = run.latencies.len() as f64 / run.measured.as_secs_f64();
        println!("{addr}: {rate:.0} tokens/s, {} errors", run.errors);
        return Ok(());
    }

    let data = tempdir()?;
    let _cleanup = RemoveOnDrop(data.clone());
    let mut server = Command::new(&tsa)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .args(["--durability", &args.durability])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", tsa.display()))?;
    let pid = server.id();
    let stderr = server.stderr.take().context("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let addr: SocketAddr = loop {
        let line = lines
            .next()
            .context("tsa exited before listening")?
            .context("reading tsa's log")?;
        if let Some(rest) = line.split("listen=").nth(1) {
            let addr = rest.split_whitespace().next().unwrap_or_default();
            break addr
                .parse()
                .with_context(|| format!("listen address in {line:?}"))?;
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .enable_all()
        .build()?;
    let server_cpu_before = cpu_seconds(&format!("/proc/{pid}/stat"));
    let client_cpu_before = cpu_seconds("/proc/self/stat");
    let result = runtime.block_on(load(addr, &args));
    let server_cpu = cpu_seconds(&format!("/proc/{pid}/stat")) - server_cpu_before;
    let client_cpu = cpu_seconds("/proc/self/stat") - client_cpu_before;
    let rss = peak_rss_kib(pid);
    // SIGTERM: graceful shutdown flushes the log.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
    let status = server.wait()?;
    let run = result?;

    let logged = count_logged(&data.join(tsa::config::STORE_FILE))?;

    let secs = run.measured.as_secs_f64();
    let rate = run.latencies.len() as f64 / secs;
    let mut lat = run.latencies;
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
        f64::from(lat.get(i).copied().unwrap_or(0)) / 1000.0
    };
    println!(
        "tsa serve ({} durability), {} connections, {:.1} s measured:",
        args.durability, args.connections, secs
    );
    println!("  tokens/s      {rate:.0}");
    println!(
        "  latency ms    p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "  peak RSS      {:.1} MiB (VmHWM of the server)",
        rss as f64 / 1024.0
    );
    // CPU time over the whole load (warm-up included) per granted token.
    let per_token = |cpu: f64| cpu * 1e6 / run.total_granted.max(1) as f64;
    println!(
        "  CPU/token     server {:.1} us, load generator {:.1} us ({:.1} s + {:.1} s of CPU in {:.1} s)",
        per_token(server_cpu),
        per_token(client_cpu),
        server_cpu,
        client_cpu,
        (run.measured + Duration::from_secs(args.warmup)).as_secs_f64()
    );
    println!(
        "  tokens        {} granted in total (warm-up included), {} logged, {} errors",
        run.total_granted, logged, run.errors
    );
    if let Some(c) = &ceiling {
        let server_rate = run.total_granted as f64 / server_cpu.max(1e-9);
        let total_rate = run.total_granted as f64 / (server_cpu + client_cpu).max(1e-9);
        println!(
            "  ratio (wall)  {:.2} of openssl -multi {} sign/s, {:.2} of 1-process sign/s (both -elapsed, same run, same machine load)",
            rate / c.wall_multi,
            c.cores,
            rate / c.wall_single
        );
        println!(
            "  ratio (CPU)   {server_rate:.0} tokens per server CPU-second = {:.2} of openssl's {:.0} signatures per CPU-second ({:.2} counting the load generator's CPU)",
            server_rate / c.cpu_single,
            c.cpu_single,
            total_rate / c.cpu_single
        );
    }
    println!("  server exit   {status}");
    if run.errors > 0 {
        bail!("{} requests failed", run.errors);
    }
    if logged != run.total_granted {
        bail!(
            "the token log holds {logged} records but {} tokens were granted",
            run.total_granted
        );
    }
    Ok(())
}

struct Run {
    latencies: Vec<u32>,
    measured: Duration,
    total_granted: u64,
    errors: u64,
}

async fn load(addr: SocketAddr, args: &Args) -> anyhow::Result<Run> {
    let warmup = Duration::from_secs(args.warmup);
    let measure = Duration::from_secs(args.seconds);
    let start = Instant::now();
    let measure_from = start + warmup;
    let stop_at = measure_from + measure;
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        tasks.push(tokio::spawn(async move {
            connection(addr, c, measure_from, stop_at).await
        }));
    }
    let mut run = Run {
        latencies: Vec::new(),
        measured: measure,
        total_granted: 0,
        errors: 0,
    };
    for t in tasks {
        let (lat, granted, errors) = t.await??;
        run.latencies.extend(lat);
        run.total_granted += granted;
        run.errors += errors;
    }
    Ok(run)
}

/// Replies decoded in full (the others are checked structurally).
const FULL_CHECK_EVERY: usize = 64;

/// One keep-alive connection: send, read the reply, check it, repeat until `stop_at`.
async fn connection(
    addr: SocketAddr,
    index: usize,
    measure_from: Instant,
    stop_at: Instant,
) -> anyhow::Result<(Vec<u32>, u64, u64)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    // Distinct imprints per connection, with a nonce, asking for the certificate.
    let mut requests = Vec::new();
    for i in 0..16u32 {
        let imprint = ImprintAlgorithm::Sha256.digest(format!("{index}/{i}").as_bytes());
        let nonce = der::asn1::Int::new(&(0x0100_0000_u32 + i).to_be_bytes())?;
        let body = encode_request(ImprintAlgorithm::Sha256, &imprint, Some(nonce), None, true)?;
        let mut req = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/timestamp-query\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(&body);
        requests.push(req);
    }
    let mut latencies = Vec::with_capacity(65_536);
    let (mut granted, mut errors) = (0u64, 0u64);
    let mut buf = vec![0u8; 16 * 1024];
    let mut i = 0usize;
    loop {
        let now = Instant::now();
        if now >= stop_at {
            break;
        }
        let req = &requests[i % requests.len()];
        i += 1;
        stream.write_all(req).await?;
        let (status, body) = read_response(&mut stream, &mut buf).await?;
        let elapsed = now.elapsed();
        // Granted TimeStampResp: SEQUENCE { SEQUENCE { INTEGER 0 } ... }.
        let ok = status == 200 && granted_reply(&body, i % FULL_CHECK_EVERY == 1);
        if ok {
            granted += 1;
        } else {
            errors += 1;
            if errors == 1 {
                eprintln!("connection {index}: HTTP {status}, {} bytes", body.len());
            }
        }
        if now >= measure_from && ok {
            latencies.push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
        }
    }
    Ok((latencies, granted, errors))
}

/// A granted `TimeStampResp` with a token: `SEQUENCE { SEQUENCE { INTEGER 0 }, SEQUENCE
/// {...} }`, checked structurally (every `FULL_CHECK_EVERY`-th reply is decoded in full).
fn granted_reply(body: &[u8], full: bool) -> bool {
    if full {
        return tsa::response::TimeStampResp::from_der_bytes(body)
            .is_ok_and(|r| r.status.status().is_granted() && r.time_stamp_token.is_some());
    }
    // 30 82 LL LL | 30 03 02 01 00 | 30 82 ...
    let header = match body.get(1) {
        Some(0x82) => 4,
        Some(0x81) => 3,
        _ => return false,
    };
    body.first() == Some(&0x30)
        && body.get(header..header + 5) == Some(&[0x30, 0x03, 0x02, 0x01, 0x00][..])
        && body.get(header + 5) == Some(&0x30)
}

/// Reads one HTTP/1.1 response with Content-Length framing.
async fn read_response(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> anyhow::Result<(u16, Vec<u8>)> {
    let mut filled = 0usize;
    let header_end = loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            bail!("server closed the connection");
        }
        filled += n;
        if let Some(pos) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = std::str::from_utf8(&buf[..header_end])?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .context("no status")?
        .parse()?;
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
        .context("no content-length")?;
    let mut body = Vec::with_capacity(length);
    body.extend_from_slice(&buf[header_end..filled.min(header_end + length)]);
    while body.len() < length {
        let n = stream.read(&mut buf[..]).await?;
        if n == 0 {
            bail!("server closed the connection mid-body");
        }
        body.extend_from_slice(&buf[..n]);
    }
    Ok((status, body))
}

/// The signing ceiling: `openssl speed ecdsap256` sign/s. Without `-elapsed` openssl divides
/// by its user CPU time (independent of machine load); with it, by wall-clock time.
struct Ceiling {
    cpu_single: f64,
    wall_single: f64,
    wall_multi: f64,
    cores: usize,
}

/// `openssl speed -seconds S [-elapsed] [-multi N] ecdsap256` → sign/s.
fn openssl_speed(seconds: u32, multi: Option<usize>, elapsed: bool) -> anyhow::Result<f64> {
    let mut cmd = Command::new("openssl");
    cmd.env("OPENSSL_CONF", "/dev/null")
        .arg("speed")
        .arg("-seconds")
        .arg(seconds.to_string());
    if elapsed {
        cmd.arg("-elapsed");
    }
    if let Some(n) = multi {
        cmd.arg("-multi").arg(n.to_string());
    }
    let out = cmd
        .arg("ecdsap256")
        .stderr(Stdio::null())
        .output()
        .context("cannot run openssl speed (use --no-openssl)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    // " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  46201.1  15465.6"
    let line = text
        .lines()
        .rev()
        .find(|l| l.contains("nistp256") && l.contains("bits"))
        .context("no nistp256 line in openssl speed output")?;
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    // 256, sign/s, verify/s (the "0.0000s" columns do not parse).
    numbers
        .get(1)
        .copied()
        .context("no sign/s figure in openssl speed output")
}

/// utime + stime of a process, in seconds, from a `/proc/PID/stat` file (USER_HZ = 100).
fn cpu_seconds(stat_path: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(stat_path) else {
        return 0.0;
    };
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn count_logged(path: &std::path::Path) -> anyhow::Result<u64> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM tokens", [], |r| r.get(0))?;
    Ok(n.unsigned_abs())
}

/// Removes the benchmark's data directory however `main` ends.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir() -> anyhow::Result<PathBuf> {
    let base = std::env::temp_dir().join(format!("tsa-bench-{}", std::process::id()));
    std::fs::create_dir_all(&base)?;
    Ok(base)
}
