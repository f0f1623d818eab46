//! `kycvs-load`: the load test of kycvs-server (`make bench-service`, and part of `make bench`).
//!
//! It generates a registry, makes a server directory with `kycvs-server init` and
//! `client add`, starts the release `kycvs-server` on a loopback port with the SQLite consent
//! store and the `log` OTP sender, and drives complete consent flows — begin, the OTP read
//! from the SMS log, complete — from many concurrent clients for a fixed time after a
//! warm-up. It reports flows per second, flow and request latencies, errors by code and the
//! server's peak memory against the targets of the service, and verifies every token it
//! obtained with kycvs-core against the JWKS the server publishes.
//!
//! With `--store redis --instances N` it starts a `redis-server` of its own (a Unix socket
//! in the run's directory, AOF with `appendfsync always`, as durable as the SQLite default)
//! and N `kycvs-server` processes sharing it; each flow begins on one instance and completes
//! on the next, so every completion is served by an instance that did not begin it.
//!
//! The OTPs are read from the `log` sender's file, as a developer reads them: the file is
//! tailed incrementally and each number maps to its latest OTP. Each client owns its own
//! people, one flow at a time, so a number never has two flows in flight. The `log` sender
//! costs the server one `write` per SMS, less than a webhook's HTTP request to a gateway,
//! which is the gateway's own cost and the part a real deployment cannot avoid anyway.

use base64::Engine as _;
use clap::{Parser, ValueEnum};
use kycvs_benches::RedisServer;
use kycvs_core::{BatchItem, Policy, TrustStore, Verifier, unix_now};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, BufWriter, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The client registered for the run: the tokens' audience.
const CLIENT_ID: &str = "loadtest.example";
/// The issuer id given to `init`.
const ISSUER: &str = "cowin.example";

/// The targets of the service on a 2-core machine with the load generator beside it.
const TARGET_FLOWS_PER_S: f64 = 1_000.0;
const TARGET_P99_MS: f64 = 50.0;
const TARGET_RSS_MIB: f64 = 100.0;

/// Load test of kycvs-server: complete consent flows over loopback.
#[derive(Parser, Debug)]
#[command(name = "kycvs-load", about)]
struct Args {
    /// The kycvs-server binary. Default: `kycvs-server` beside this program (target/release).
    #[arg(long, value_name = "PATH")]
    server: Option<PathBuf>,
    /// Concurrent clients, each running one flow at a time.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds of warm-up before measuring (flows run, figures are not kept).
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Seconds measured.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// People in the generated registry (each flow takes the next of its client's people, so
    /// the per-mobile rate limit is reached only when flows outnumber people five to one).
    #[arg(long, default_value_t = 100_000)]
    people: usize,
    /// The SQLite store's `synchronous` setting.
    #[arg(long, value_enum, default_value_t = Sync::Full)]
    synchronous: Sync,
    /// Where the servers keep consents.
    #[arg(long, value_enum, default_value_t = StoreKind::Sqlite)]
    store: StoreKind,
    /// kycvs-server processes (more than one needs `--store redis`).
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// The redis-server binary for `--store redis`.
    #[arg(long, value_name = "PATH", default_value = "redis-server")]
    redis_server: PathBuf,
    /// The directory for the server's keys, configuration and state (created; must not
    /// exist). Default: a new directory in the system's temporary directory, removed after.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Also write the figures as JSON to this file (read by benches/report.py).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// SQLite's `synchronous` pragma.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Sync {
    /// Every commit reaches the disk before it is answered (the service's default).
    Full,
    /// WAL commits reach the disk at checkpoints: durable across a crash of the process,
    /// not of the machine.
    Normal,
}

/// The consent store the servers run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum StoreKind {
    /// One SQLite file (the default store).
    Sqlite,
    /// One Redis shared by every instance.
    Redis,
}

impl Args {
    /// How the store is described in the report.
    fn store_label(&self) -> String {
        match self.store {
            StoreKind::Sqlite => format!("SQLite synchronous = {}", self.synchronous.as_str()),
            StoreKind::Redis => format!(
                "{} instance(s) on one Redis (appendfsync always)",
                self.instances
            ),
        }
    }
}

impl Sync {
    fn as_str(self) -> &'static str {
        match self {
            Sync::Full => "full",
            Sync::Normal => "normal",
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("kycvs-load: {e}");
            ExitCode::from(2)
        }
    }
}

type Failure = Box<dyn std::error::Error>;

/// A person of the generated registry.
struct Person {
    mobile: String,
    name: String,
    /// The vaccination status their doses give (`vs`).
    status: u8,
}

fn person(i: usize) -> Person {
    Person {
        // Ten digits starting with 9: distinct for every i below 10^9.
        mobile: format!("9{i:09}"),
        name: format!("Load Person {i}"),
        status: if i.is_multiple_of(2) { 2 } else { 1 },
    }
}

/// Writes `people` records in the schema of core/data/sample-registry.jsonl: even ones fully
/// vaccinated (two Covishield doses), odd ones partially (one).
fn write_registry(path: &Path, people: usize) -> Result<(), Failure> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    for i in 0..people {
        let p = person(i);
        let mut doses = vec![serde_json::json!(
            {"product": "Covishield", "dose": 1, "date": "2021-08-21", "kind": "primary"})];
        if p.status == 2 {
            doses.push(serde_json::json!(
                {"product": "Covishield", "dose": 2, "date": "2021-11-30", "kind": "primary"}));
        }
        let line = serde_json::json!(
            {"id": format!("L{i:08}"), "mobile": p.mobile, "name": p.name, "doses": doses});
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}

fn checked(command: &mut Command, what: &str) -> Result<String, Failure> {
    let out = command.output()?;
    if !out.status.success() {
        return Err(format!("{what}: {}", String::from_utf8_lossy(&out.stderr).trim()).into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// `init`, the configuration edits, `client add`: the configuration file and the client's
/// secret.
fn prepare(
    server: &Path,
    dir: &Path,
    args: &Args,
    redis_url: Option<&str>,
) -> Result<(PathBuf, String), Failure> {
    checked(
        Command::new(server).args(["init", "--dir"]).arg(dir).args([
            "--issuer",
            ISSUER,
            "--listen",
            "127.0.0.1:0",
        ]),
        "kycvs-server init",
    )?;
    let registry = dir.join("registry.jsonl");
    write_registry(&registry, args.people)?;
    let config = dir.join("kycvs-server.toml");
    let mut text = std::fs::read_to_string(&config)?;
    for (from, to) in [
        (
            "registry = \"sample\"".to_owned(),
            format!("registry = {}", toml_string(&registry)),
        ),
        (
            "kind = \"sqlite\"\npath = \"state/consents.db\"".to_owned(),
            match args.store {
                StoreKind::Sqlite => format!(
                    "kind = \"sqlite\"\npath = \"state/consents.db\"\nsynchronous = \"{}\"",
                    args.synchronous.as_str()
                ),
                StoreKind::Redis => format!(
                    "kind = \"redis\"\nurl = {}\npool_size = {}",
                    toml_string(Path::new(redis_url.ok_or("no redis-server")?)),
                    args.concurrency.clamp(8, 64)
                ),
            },
        ),
    ] {
        if !text.contains(&from) {
            return Err(format!("the configuration init wrote has no {from}").into());
        }
        text = text.replacen(&from, &to, 1);
    }
    // One client from one address: the per-client and per-address limits are for abuse,
    // not for a load test, and would otherwise be what it measures.
    text.push_str(
        "\n[limits]\n\
         per_client = { requests = 10000000, window_s = 1 }\n\
         per_ip = { requests = 10000000, window_s = 1 }\n",
    );
    std::fs::write(&config, text)?;
    let out = checked(
        Command::new(server)
            .args(["client", "add", "--config"])
            .arg(&config)
            .args(["--id", CLIENT_ID, "--name", "Load Test Rail"]),
        "kycvs-server client add",
    )?;
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("client_secret: "))
        .ok_or("client add printed no client_secret")?
        .to_owned();
    Ok((config, secret))
}

fn toml_string(path: &Path) -> String {
    serde_json::Value::String(path.display().to_string()).to_string()
}

/// Starts `kycvs-server run` and returns it with its URL (from its first stdout line).
fn start(server: &Path, config: &Path, log: &Path) -> Result<(Child, String), Failure> {
    let log = std::fs::File::create(log)?;
    let mut child = Command::new(server)
        .args(["run", "--config"])
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut line = String::new();
    stdout.read_line(&mut line)?;
    let Some(url) = line.trim().strip_prefix("kycvs-server listening on ") else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("kycvs-server did not start (first line {line:?})").into());
    };
    let url = url.to_owned();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = stdout.read_to_end(&mut sink);
    });
    Ok((child, url))
}

/// A `/proc/PID/status` field in KiB (VmRSS, VmHWM).
fn proc_kib(pid: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// User plus system CPU time of a process, in seconds.
fn cpu_seconds(pid: &str, ticks_per_s: f64) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: the fields after it follow the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / ticks_per_s)
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The `log` sender's file, read incrementally: each number's latest OTP.
struct SmsTail {
    file: std::fs::File,
    partial: Vec<u8>,
    latest: HashMap<String, String>,
}

impl SmsTail {
    /// Reads what was appended since the last call, then takes the OTP sent to `to`.
    fn take(&mut self, to: &str) -> Result<Option<String>, String> {
        let mut chunk = Vec::new();
        self.file
            .read_to_end(&mut chunk)
            .map_err(|e| format!("the SMS log: {e}"))?;
        self.partial.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(n) = self.partial[start..].iter().position(|&b| b == b'\n') {
            let line = &self.partial[start..start + n];
            start += n + 1;
            let sms: serde_json::Value = serde_json::from_slice(line)
                .map_err(|_| "the SMS log holds a line that is not JSON".to_owned())?;
            let (Some(number), Some(text)) = (sms["to"].as_str(), sms["text"].as_str()) else {
                return Err("an SMS log line without to and text".into());
            };
            let otp: String = text.chars().take(6).collect();
            self.latest.insert(number.to_owned(), otp);
        }
        self.partial.drain(..start);
        Ok(self.latest.remove(to))
    }
}

/// What every client shares.
struct Shared {
    http: reqwest::Client,
    /// One per instance.
    urls: Vec<String>,
    authorization: String,
    sms: Mutex<SmsTail>,
    measure_from: Instant,
    end: Instant,
}

/// One client's figures.
#[derive(Default)]
struct Tally {
    /// Flow, begin and complete latencies of the flows that ended inside the measured window,
    /// in microseconds.
    flows: Vec<u32>,
    begins: Vec<u32>,
    completes: Vec<u32>,
    /// Errors by step and code over the whole run, warm-up included.
    errors: BTreeMap<String, u64>,
    /// Every token obtained (warm-up included), its nonce and the status it should carry.
    tokens: Vec<(String, String, u8)>,
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// POSTs `body` to `path`: the JSON answer, or the error code (the body's `error`, or
/// `http_<status>` / `transport`).
async fn post(
    shared: &Shared,
    instance: usize,
    path: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value, String> {
    let url = &shared.urls[instance % shared.urls.len()];
    let response = shared
        .http
        .post(format!("{url}{path}"))
        .header("authorization", &shared.authorization)
        .json(body)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "timeout".to_owned()
            } else {
                "transport".to_owned()
            }
        })?;
    let status = response.status();
    let json: serde_json::Value = response
        .json()
        .await
        .map_err(|_| format!("http_{}_not_json", status.as_u16()))?;
    if status.is_success() {
        Ok(json)
    } else {
        Err(json["error"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("http_{}", status.as_u16())))
    }
}

/// One client: flows back to back over its own people until the end of the run.
async fn client(shared: Arc<Shared>, index: usize, stride: usize, people: usize) -> Tally {
    let mut tally = Tally::default();
    let mut next = index;
    let mut serial = 0u64;
    while Instant::now() < shared.end {
        let p = person(next);
        next += stride;
        if next >= people {
            next = index;
        }
        serial += 1;
        let nonce = format!("PNR-{index}-{serial}");
        let started = Instant::now();
        let begun = post(
            &shared,
            index,
            "/v1/consents",
            &serde_json::json!({"mobile": p.mobile, "name": p.name, "nonce": nonce}),
        )
        .await;
        let begun_at = Instant::now();
        let failed = match begun {
            Err(code) => Some(format!("begin: {code}")),
            Ok(answer) => match answer["consent_id"].as_str() {
                None => Some("begin: no consent_id".into()),
                Some(id) => {
                    let otp = shared
                        .sms
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .take(&format!("+91{}", p.mobile));
                    match otp {
                        Err(e) => Some(format!("sms: {e}")),
                        Ok(None) => Some("sms: no OTP in the log after begin".into()),
                        Ok(Some(otp)) => {
                            let completing = Instant::now();
                            // The next instance: with several, never the one that began it.
                            let completed = post(
                                &shared,
                                index + 1,
                                &format!("/v1/consents/{id}/complete"),
                                &serde_json::json!({"otp": otp}),
                            )
                            .await;
                            let ended = Instant::now();
                            match completed {
                                Err(code) => Some(format!("complete: {code}")),
                                Ok(answer) => match answer["token"].as_str() {
                                    None => Some("complete: no token".into()),
                                    Some(token) => {
                                        if ended >= shared.measure_from && ended < shared.end {
                                            tally.flows.push(micros(ended - started));
                                            tally.begins.push(micros(begun_at - started));
                                            tally.completes.push(micros(ended - completing));
                                        }
                                        tally.tokens.push((token.to_owned(), nonce, p.status));
                                        None
                                    }
                                },
                            }
                        }
                    }
                }
            },
        };
        if let Some(code) = failed {
            *tally.errors.entry(code).or_default() += 1;
            // A failing server answers fast: do not spin on it.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    tally
}

/// The p-th percentile (0 < p <= 1) of sorted microseconds, in milliseconds.
fn percentile_ms(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1]) / 1000.0
}

fn run(args: &Args) -> Result<bool, Failure> {
    if args.concurrency == 0 || args.duration == 0 {
        return Err("--concurrency and --duration must be at least 1".into());
    }
    if args.instances == 0 || (args.instances > 1 && args.store != StoreKind::Redis) {
        return Err("--instances must be 1, or more with --store redis".into());
    }
    if args.people < args.concurrency {
        return Err("--people must be at least --concurrency".into());
    }
    let server = match &args.server {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .ok_or("this program has no directory")?
            .join("kycvs-server"),
    };
    if !server.is_file() {
        return Err(format!(
            "{} not found (cargo build --release -p kycvs-server)",
            server.display()
        )
        .into());
    }
    let (dir, remove_dir) = match &args.dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("kycvs-load-{}", std::process::id())),
            true,
        ),
    };
    if dir.exists() {
        return Err(format!("{} exists", dir.display()).into());
    }
    std::fs::create_dir_all(&dir)?;
    let outcome = measure(args, &server, &dir);
    if remove_dir {
        let _ = std::fs::remove_dir_all(&dir);
    }
    outcome
}

fn measure(args: &Args, server: &Path, dir: &Path) -> Result<bool, Failure> {
    eprintln!(
        "kycvs-load: {} people, {} clients, {} s warm-up + {} s, {}, in {}",
        args.people,
        args.concurrency,
        args.warmup,
        args.duration,
        args.store_label(),
        dir.display()
    );
    let redis = match args.store {
        StoreKind::Redis => Some(RedisServer::start(&args.redis_server, dir, "always")?),
        StoreKind::Sqlite => None,
    };
    let (config, secret) = prepare(
        server,
        dir,
        args,
        redis.as_ref().map(|r| r.url()).as_deref(),
    )?;
    let mut children = Vec::new();
    let mut urls = Vec::new();
    let mut pids = Vec::new();
    let mut started = Ok(());
    for i in 0..args.instances {
        match start(server, &config, &dir.join(format!("server-{i}.log"))) {
            Ok((child, url)) => {
                pids.push(child.id().to_string());
                children.push(child);
                urls.push(url);
            }
            Err(e) => {
                started = Err(e);
                break;
            }
        }
    }
    let result = started.and_then(|()| drive(args, dir, &urls, &secret, &pids));
    // The servers first, then Redis.
    for child in &mut children {
        let _ = child.kill();
        let _ = child.wait();
    }
    drop(redis);
    let (figures, ok) = result?;
    print!("{}", figures.text);
    if let Some(path) = &args.json {
        std::fs::write(path, format!("{:#}\n", figures.json))?;
    }
    Ok(ok)
}

struct Figures {
    text: String,
    json: serde_json::Value,
}

/// Summed over the server processes (for memory: the largest one's).
fn sum_over(pids: &[String], f: impl Fn(&str) -> Option<f64>) -> Option<f64> {
    pids.iter().map(|pid| f(pid)).sum()
}

fn max_kib(pids: &[String], field: &str) -> u64 {
    (pids.iter().filter_map(|pid| proc_kib(pid, field)).max()).unwrap_or(0)
}

fn drive(
    args: &Args,
    dir: &Path,
    urls: &[String],
    secret: &str,
    pids: &[String],
) -> Result<(Figures, bool), Failure> {
    let url = &urls[0];
    let rss_started_kib = max_kib(pids, "VmRSS");
    let ticks = clock_ticks();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let jwks = runtime.block_on(async {
        http.get(format!("{url}/.well-known/jwks.json"))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await
    })?;
    let verifier = Verifier::new(
        TrustStore::from_jwks(jwks.as_bytes())?,
        Policy::new(CLIENT_ID),
    )?;
    let authorization = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{secret}"))
    );
    let sms = SmsTail {
        file: std::fs::File::open(dir.join("state/sms.log"))?,
        partial: Vec::new(),
        latest: HashMap::new(),
    };
    let load_started = loadavg();
    let begin = Instant::now();
    let measure_from = begin + Duration::from_secs(args.warmup);
    let end = measure_from + Duration::from_secs(args.duration);
    let shared = Arc::new(Shared {
        http,
        urls: urls.to_vec(),
        authorization,
        sms: Mutex::new(sms),
        measure_from,
        end,
    });
    let (tallies, cpu) = runtime.block_on(async {
        let clients: Vec<_> = (0..args.concurrency)
            .map(|i| tokio::spawn(client(shared.clone(), i, args.concurrency, args.people)))
            .collect();
        tokio::time::sleep_until(measure_from.into()).await;
        let servers_cpu = || sum_over(pids, |pid| cpu_seconds(pid, ticks));
        let cpu_from = (servers_cpu(), cpu_seconds("self", ticks));
        tokio::time::sleep_until(end.into()).await;
        let cpu_to = (servers_cpu(), cpu_seconds("self", ticks));
        let mut tallies = Vec::new();
        for c in clients {
            tallies.push(c.await);
        }
        (tallies, (cpu_from, cpu_to))
    });
    let load_ended = loadavg();
    let rss_ended_kib = max_kib(pids, "VmRSS");
    let hwm_kib = max_kib(pids, "VmHWM");
    let mut all = Tally::default();
    for tally in tallies {
        let tally = tally?;
        all.flows.extend(tally.flows);
        all.begins.extend(tally.begins);
        all.completes.extend(tally.completes);
        for (code, n) in tally.errors {
            *all.errors.entry(code).or_default() += n;
        }
        all.tokens.extend(tally.tokens);
    }
    // Every token, after the measured window so that checking costs the server nothing.
    let now = unix_now();
    let mut bad_tokens: BTreeMap<String, u64> = BTreeMap::new();
    for chunk in all.tokens.chunks(4096) {
        let items: Vec<BatchItem<'_>> = chunk
            .iter()
            .map(|(token, nonce, _)| BatchItem::new(token, nonce))
            .collect();
        for (verdict, (_, _, status)) in verifier.verify_batch(&items, now).iter().zip(chunk) {
            match verdict {
                Ok(v) if v.status().as_u8() == *status => {}
                Ok(_) => *bad_tokens.entry("wrong_status".into()).or_default() += 1,
                Err(e) => *bad_tokens.entry(e.code().as_str().into()).or_default() += 1,
            }
        }
    }
    all.flows.sort_unstable();
    all.begins.sort_unstable();
    all.completes.sort_unstable();
    let flows = all.flows.len();
    let flows_per_s = flows as f64 / args.duration as f64;
    let flow_p50 = percentile_ms(&all.flows, 0.50);
    let flow_p99 = percentile_ms(&all.flows, 0.99);
    let errors: u64 = all.errors.values().sum();
    let hwm_mib = hwm_kib as f64 / 1024.0;
    let cpu_pct = |from: Option<f64>, to: Option<f64>| match (from, to) {
        (Some(a), Some(b)) => (b - a) / args.duration as f64 * 100.0,
        _ => f64::NAN,
    };
    let server_cpu = cpu_pct(cpu.0.0, cpu.1.0);
    let load_cpu = cpu_pct(cpu.0.1, cpu.1.1);
    let mark = |met: bool| if met { "met" } else { "MISSED" };
    let targets = [
        (
            "flows/s",
            format!(">= {TARGET_FLOWS_PER_S}"),
            format!("{flows_per_s:.0}"),
            flows_per_s >= TARGET_FLOWS_PER_S,
        ),
        (
            "p99 flow latency",
            format!("<= {TARGET_P99_MS} ms"),
            format!("{flow_p99:.1} ms"),
            flow_p99 <= TARGET_P99_MS,
        ),
        (
            "errors",
            "0".to_owned(),
            errors.to_string(),
            errors == 0 && bad_tokens.is_empty(),
        ),
        (
            "server peak RSS",
            format!("<= {TARGET_RSS_MIB} MiB"),
            format!("{hwm_mib:.1} MiB"),
            hwm_mib <= TARGET_RSS_MIB,
        ),
    ];
    let mut text = String::new();
    let w = &mut text;
    writeln!(
        w,
        "kycvs-server under load: {} concurrent flows, {} s measured after {} s warm-up, \
         {}, {} people",
        args.concurrency,
        args.duration,
        args.warmup,
        args.store_label(),
        args.people
    )?;
    writeln!(
        w,
        "load average: {load_started} at the start, {load_ended} at the end"
    )?;
    writeln!(
        w,
        "flows:     {flows} in {} s = {flows_per_s:.1} flows/s",
        args.duration
    )?;
    writeln!(w, "flow:      p50 {flow_p50:.2} ms, p99 {flow_p99:.2} ms")?;
    writeln!(
        w,
        "begin:     p50 {:.2} ms, p99 {:.2} ms",
        percentile_ms(&all.begins, 0.5),
        percentile_ms(&all.begins, 0.99)
    )?;
    writeln!(
        w,
        "complete:  p50 {:.2} ms, p99 {:.2} ms",
        percentile_ms(&all.completes, 0.5),
        percentile_ms(&all.completes, 0.99)
    )?;
    writeln!(w, "errors:    {errors} (whole run, warm-up included)")?;
    for (code, n) in &all.errors {
        writeln!(w, "           {code}: {n}")?;
    }
    writeln!(
        w,
        "tokens:    {} obtained, {} verified with kycvs-core (audience, nonce, status)",
        all.tokens.len(),
        all.tokens.len() as u64 - bad_tokens.values().sum::<u64>()
    )?;
    for (code, n) in &bad_tokens {
        writeln!(w, "           failed {code}: {n}")?;
    }
    writeln!(
        w,
        "server:    RSS {:.1} MiB after start-up, {:.1} MiB at the end, peak (VmHWM) {hwm_mib:.1} MiB \
         (the largest instance); CPU {server_cpu:.0}% of one core (all instances)",
        rss_started_kib as f64 / 1024.0,
        rss_ended_kib as f64 / 1024.0
    )?;
    writeln!(w, "generator: CPU {load_cpu:.0}% of one core")?;
    writeln!(w, "targets:")?;
    for (what, target, value, met) in &targets {
        writeln!(
            w,
            "  {what:<22} {value:>10}  (target {target}): {}",
            mark(*met)
        )?;
    }
    let json = serde_json::json!({
        "concurrency": args.concurrency,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "people": args.people,
        "synchronous": args.synchronous.as_str(),
        "store": format!("{:?}", args.store).to_lowercase(),
        "instances": args.instances,
        "loadavg_start": load_started,
        "loadavg_end": load_ended,
        "flows": flows,
        "flows_per_s": flows_per_s,
        "flow_p50_ms": flow_p50,
        "flow_p99_ms": flow_p99,
        "begin_p50_ms": percentile_ms(&all.begins, 0.5),
        "begin_p99_ms": percentile_ms(&all.begins, 0.99),
        "complete_p50_ms": percentile_ms(&all.completes, 0.5),
        "complete_p99_ms": percentile_ms(&all.completes, 0.99),
        "errors": all.errors,
        "tokens": all.tokens.len(),
        "bad_tokens": bad_tokens,
        "rss_started_kib": rss_started_kib,
        "rss_ended_kib": rss_ended_kib,
        "hwm_kib": hwm_kib,
        "server_cpu_pct": server_cpu,
        "generator_cpu_pct": load_cpu,
    });
    Ok((Figures { text, json }, bad_tokens.is_empty()))
}
