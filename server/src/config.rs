//! The service's one TOML configuration file, read and validated at start-up. Every error
//! names the key it is about; relative paths are relative to the file's directory.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"          # plain HTTP only on loopback, unless behind_proxy
//! # tls_cert = "cert.pem"            # with tls_key: HTTPS (rustls)
//! # tls_key = "key.pem"
//! # behind_proxy = false             # a TLS-terminating proxy in front: plain HTTP anywhere,
//! #                                  # client address from the last X-Forwarded-For entry
//! # request_timeout_ms = 10000
//! # max_body_bytes = 4096
//! # max_header_bytes = 16384
//! # shutdown_grace_ms = 10000
//! # public_url = "https://kycvs.example"  # the base of consent page links
//!
//! [issuer]
//! id = "cowin.example"               # the tokens' iss
//! signing_key = "keys/issuer.pem"    # PKCS#8 PEM (kycvs keygen)
//! otp_key = "keys/otp-mac.key"       # 64 hex digits
//! pseudonym_key = "keys/pseudonym.key"
//! registry = "sample"                # or a JSON Lines registry file
//! # trust_bundle = "bundle.jws"      # served at /.well-known/kycvs-trust-bundle.jws
//!
//! [consent]                          # all optional: the core's defaults
//! # otp_ttl_s = 180, max_attempts = 3, rate_limit = 5, rate_window_s = 3600, token_ttl_s = 300
//! # session_ttl_s = 900              # how long a consent page session lives
//!
//! [store]
//! kind = "sqlite"                    # or "redis" (several instances), "memory" (tests)
//! path = "state/consents.db"
//! # capacity = 65536
//! # synchronous = "full"             # or "normal"
//! # with kind = "redis": url = "redis://127.0.0.1:6379" (or unix:///path), prefix = "kycvs:",
//! #   timeout_ms = 500, pool_size = 16
//!
//! [sms]
//! sender = "log"                     # "log" (path or stderr), "command", "webhook"
//! path = "state/sms.log"
//!
//! [limits]                           # per client id and per client address
//! # per_client = { requests = 6000, window_s = 60 }
//! # per_ip = { requests = 600, window_s = 60 }
//!
//! [[clients]]
//! id = "irctc.example"               # becomes the token's aud
//! name = "IRCTC"                     # shown to the person
//! origins = ["https://www.irctc.example"]
//! secret_sha256 = "…64 hex digits…"  # kycvs-server client add
//! ```

use kycvs_core::{ConsentConfig, Error, ErrorCode, MAX_ID_LEN, is_valid_id};
use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The longest configuration file read.
pub const MAX_CONFIG_LEN: u64 = 1024 * 1024;

/// A configuration problem: the key and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key, dotted (`server.listen`, `clients[2].origins`), or the file for parse errors.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl std::error::Error for ConfigError {}

fn bad(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        message: message.into(),
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the configuration file is (relative paths were resolved against its directory).
    pub path: PathBuf,
    /// `[server]`.
    pub server: ServerConfig,
    /// `[issuer]`.
    pub issuer: IssuerConfig,
    /// `[consent]`, as the core's limits.
    pub consent: ConsentConfig,
    /// `[consent] session_ttl_s`: how long a consent page session may be used, in seconds.
    pub session_ttl: u64,
    /// `[store]`.
    pub store: StoreConfig,
    /// `[sms]`.
    pub sms: SmsConfig,
    /// `[limits]`.
    pub limits: LimitsConfig,
    /// `[[clients]]`.
    pub clients: Vec<ClientConfig>,
}

/// `[server]`: the listener.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// TLS certificate chain and private key (PEM files), when the service terminates TLS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// True when a proxy terminates TLS in front of the service.
    pub behind_proxy: bool,
    /// The most time one request may take.
    pub request_timeout: Duration,
    /// The longest request body accepted.
    pub max_body_bytes: usize,
    /// The most bytes of request line and headers accepted.
    pub max_header_bytes: usize,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// The service's public base URL (`https://host[:port]`), for the consent page links;
    /// without it, links use the request's scheme and `Host`.
    pub public_url: Option<String>,
}

/// `[issuer]`: who signs, with which keys, over which registry.
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    /// The tokens' `iss`.
    pub id: String,
    /// The signing key (PKCS#8 PEM).
    pub signing_key: PathBuf,
    /// The OTP MAC key (64 hex digits).
    pub otp_key: PathBuf,
    /// The pseudonym key (64 hex digits).
    pub pseudonym_key: PathBuf,
    /// The registry file (JSON Lines), or `None` for the built-in sample registry.
    pub registry: Option<PathBuf>,
    /// A signed trust bundle to publish, if any.
    pub trust_bundle: Option<PathBuf>,
}

/// `[store]`: where pending consents and rate counters live.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    /// In process memory: lost on restart (tests and demos only).
    Memory {
        /// The most pending consents held.
        capacity: usize,
    },
    /// Redis, shared by several instances of the service.
    Redis(kycvs_redis::RedisConfig),
    /// One SQLite database file in WAL mode.
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The most pending consents held.
        capacity: usize,
        /// True for `synchronous = "full"` (an answered change is on disk: group commit), false
        /// for `"normal"`.
        synchronous_full: bool,
    },
}

/// `[sms]`: how OTPs reach people.
#[derive(Debug, Clone)]
pub enum SmsConfig {
    /// Development: append each SMS to a file (0600), or write it to stderr.
    Log {
        /// The file, or `None` for stderr.
        path: Option<PathBuf>,
    },
    /// Run an operator's program per SMS, with `{"to","text"}` on its stdin.
    Command {
        /// The program.
        program: PathBuf,
        /// Its arguments.
        args: Vec<String>,
        /// How long it may run.
        timeout: Duration,
    },
    /// POST `{"to","text"}` to an SMS gateway with a bearer secret.
    Webhook {
        /// The gateway's URL (https, or http on loopback).
        url: String,
        /// The file holding the bearer secret.
        bearer_secret_file: PathBuf,
        /// How long the gateway may take.
        timeout: Duration,
    },
}

/// A request-rate limit: at most `requests` per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub requests: u32,
    /// The window.
    pub window: Duration,
}

/// `[limits]`: request rates on top of the core's per-mobile limit.
#[derive(Debug, Clone, Copy)]
pub struct LimitsConfig {
    /// Per authenticated client.
    pub per_client: RateLimit,
    /// Per client address (before authentication).
    pub per_ip: RateLimit,
}

/// One verifier client (`[[clients]]`).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The client id: the tokens' `aud`.
    pub id: String,
    /// The name shown to people.
    pub name: String,
    /// Origins allowed to embed the consent page.
    pub origins: Vec<String>,
    /// SHA-256 of the client's secret.
    pub secret_sha256: [u8; 32],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    server: RawServer,
    issuer: RawIssuer,
    #[serde(default)]
    consent: RawConsent,
    store: RawStore,
    sms: RawSms,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    clients: Vec<RawClient>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: String,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    #[serde(default)]
    behind_proxy: bool,
    #[serde(default = "default_request_timeout_ms")]
    request_timeout_ms: u64,
    #[serde(default = "default_max_body_bytes")]
    max_body_bytes: usize,
    #[serde(default = "default_max_header_bytes")]
    max_header_bytes: usize,
    #[serde(default = "default_shutdown_grace_ms")]
    shutdown_grace_ms: u64,
    public_url: Option<String>,
}

fn default_request_timeout_ms() -> u64 {
    10_000
}
fn default_max_body_bytes() -> usize {
    4_096
}
fn default_max_header_bytes() -> usize {
    16_384
}
fn default_shutdown_grace_ms() -> u64 {
    10_000
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssuer {
    id: String,
    signing_key: PathBuf,
    otp_key: PathBuf,
    pseudonym_key: PathBuf,
    registry: String,
    trust_bundle: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConsent {
    otp_ttl_s: Option<u64>,
    max_attempts: Option<u32>,
    rate_limit: Option<u32>,
    rate_window_s: Option<u64>,
    token_ttl_s: Option<u64>,
    session_ttl_s: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    kind: String,
    path: Option<PathBuf>,
    #[serde(default = "default_capacity")]
    capacity: usize,
    #[serde(default = "default_synchronous")]
    synchronous: String,
    url: Option<String>,
    prefix: Option<String>,
    #[serde(default = "default_redis_timeout_ms")]
    timeout_ms: u64,
    #[serde(default = "default_pool_size")]
    pool_size: usize,
}

fn default_redis_timeout_ms() -> u64 {
    500
}
fn default_pool_size() -> usize {
    16
}

fn default_capacity() -> usize {
    kycvs_core::DEFAULT_CONSENT_CAPACITY
}
fn default_synchronous() -> String {
    "full".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSms {
    sender: String,
    path: Option<PathBuf>,
    program: Option<PathBuf>,
    #[serde(default)]
    args: Vec<String>,
    url: Option<String>,
    bearer_secret_file: Option<PathBuf>,
    #[serde(default = "default_sms_timeout_ms")]
    timeout_ms: u64,
}

fn default_sms_timeout_ms() -> u64 {
    5_000
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    per_client: Option<RawRate>,
    per_ip: Option<RawRate>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct RawRate {
    requests: u32,
    window_s: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    id: String,
    name: String,
    #[serde(default)]
    origins: Vec<String>,
    secret_sha256: String,
}

impl Config {
    /// Reads and validates the configuration file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| bad(&shown, e.to_string()))?;
        if meta.len() > MAX_CONFIG_LEN {
            return Err(bad(&shown, "longer than 1 MiB"));
        }
        let text = std::fs::read_to_string(path).map_err(|e| bad(&shown, e.to_string()))?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Config::parse(&text, path, base)
    }

    /// Validates the text of a configuration file; relative paths are resolved against
    /// `base`.
    pub fn parse(text: &str, path: &Path, base: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let key = path.display().to_string();
            bad(key, e.to_string().trim_end().replace('\n', " "))
        })?;
        let resolve = |p: &Path| -> PathBuf {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        let server = server_config(raw.server, &resolve)?;
        let issuer = issuer_config(raw.issuer, &resolve)?;
        let consent = consent_config(&raw.consent)?;
        let session_ttl = raw
            .consent
            .session_ttl_s
            .unwrap_or(crate::session::SESSION_TTL);
        if !(1..=86_400).contains(&session_ttl) {
            return Err(bad("consent.session_ttl_s", "must be 1 to 86400"));
        }
        let store = store_config(raw.store, &resolve)?;
        let sms = sms_config(raw.sms, &resolve)?;
        let limits = LimitsConfig {
            per_client: rate(raw.limits.per_client, "limits.per_client", 6_000, 60)?,
            per_ip: rate(raw.limits.per_ip, "limits.per_ip", 600, 60)?,
        };
        let clients = clients_config(raw.clients)?;
        Ok(Config {
            path: path.to_path_buf(),
            server,
            issuer,
            consent,
            session_ttl,
            store,
            sms,
            limits,
            clients,
        })
    }
}

fn server_config(
    raw: RawServer,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<ServerConfig, ConfigError> {
    let listen: SocketAddr = raw
        .listen
        .parse()
        .map_err(|_| bad("server.listen", "not an address:port (e.g. 127.0.0.1:8080)"))?;
    let tls = match (raw.tls_cert, raw.tls_key) {
        (Some(cert), Some(key)) => Some((resolve(&cert), resolve(&key))),
        (None, None) => None,
        (Some(_), None) => return Err(bad("server.tls_key", "tls_cert is set but tls_key is not")),
        (None, Some(_)) => {
            return Err(bad("server.tls_cert", "tls_key is set but tls_cert is not"));
        }
    };
    if tls.is_none() && !raw.behind_proxy && !listen.ip().is_loopback() {
        return Err(bad(
            "server.listen",
            "plain HTTP is allowed only on a loopback address; set tls_cert and tls_key, \
             or behind_proxy = true when a TLS-terminating proxy is in front",
        ));
    }
    let ranged = |value: u64, key: &str, lo: u64, hi: u64| {
        if (lo..=hi).contains(&value) {
            Ok(value)
        } else {
            Err(bad(
                format!("server.{key}"),
                format!("must be {lo} to {hi}"),
            ))
        }
    };
    if let Some(url) = &raw.public_url {
        check_origin(url).map_err(|m| bad("server.public_url", m))?;
    }
    Ok(ServerConfig {
        public_url: raw.public_url,
        listen,
        tls,
        behind_proxy: raw.behind_proxy,
        request_timeout: Duration::from_millis(ranged(
            raw.request_timeout_ms,
            "request_timeout_ms",
            100,
            120_000,
        )?),
        max_body_bytes: ranged(raw.max_body_bytes as u64, "max_body_bytes", 256, 1 << 20)? as usize,
        max_header_bytes: ranged(
            raw.max_header_bytes as u64,
            "max_header_bytes",
            8_192,
            65_536,
        )? as usize,
        shutdown_grace: Duration::from_millis(ranged(
            raw.shutdown_grace_ms,
            "shutdown_grace_ms",
            0,
            300_000,
        )?),
    })
}

fn issuer_config(
    raw: RawIssuer,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<IssuerConfig, ConfigError> {
    if !is_valid_id(&raw.id) {
        return Err(bad(
            "issuer.id",
            format!("must be 1 to {MAX_ID_LEN} visible ASCII characters"),
        ));
    }
    let registry = match raw.registry.as_str() {
        "sample" => None,
        "" => return Err(bad("issuer.registry", "must be \"sample\" or a file")),
        file => Some(resolve(Path::new(file))),
    };
    Ok(IssuerConfig {
        id: raw.id,
        signing_key: resolve(&raw.signing_key),
        otp_key: resolve(&raw.otp_key),
        pseudonym_key: resolve(&raw.pseudonym_key),
        registry,
        trust_bundle: raw.trust_bundle.as_deref().map(resolve),
    })
}

fn consent_config(raw: &RawConsent) -> Result<ConsentConfig, ConfigError> {
    let defaults = ConsentConfig::default();
    let config = ConsentConfig {
        otp_ttl: raw.otp_ttl_s.unwrap_or(defaults.otp_ttl),
        max_attempts: raw.max_attempts.unwrap_or(defaults.max_attempts),
        rate_limit: raw.rate_limit.unwrap_or(defaults.rate_limit),
        rate_window: raw.rate_window_s.unwrap_or(defaults.rate_window),
        token_ttl: raw.token_ttl_s.unwrap_or(defaults.token_ttl),
    };
    config.validate().map_err(|e: Error| {
        // The core names its field (`otp_ttl must be ...`); say which key that is.
        let detail = e.detail();
        let key = [
            "otp_ttl",
            "max_attempts",
            "rate_limit",
            "rate_window",
            "token_ttl",
        ]
        .into_iter()
        .find(|k| detail.starts_with(k))
        .map(|k| match k {
            "otp_ttl" | "rate_window" | "token_ttl" => format!("consent.{k}_s"),
            _ => format!("consent.{k}"),
        })
        .unwrap_or_else(|| "consent".into());
        bad(key, detail.to_owned())
    })?;
    Ok(config)
}

fn store_config(
    raw: RawStore,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<StoreConfig, ConfigError> {
    if !(1..=10_000_000).contains(&raw.capacity) {
        return Err(bad("store.capacity", "must be 1 to 10000000"));
    }
    match raw.kind.as_str() {
        "memory" => {
            if raw.path.is_some() {
                return Err(bad("store.path", "a memory store has no path"));
            }
            Ok(StoreConfig::Memory {
                capacity: raw.capacity,
            })
        }
        "sqlite" => {
            let path = raw
                .path
                .ok_or_else(|| bad("store.path", "a sqlite store needs a path"))?;
            let synchronous_full = match raw.synchronous.as_str() {
                "full" => true,
                "normal" => false,
                _ => return Err(bad("store.synchronous", "must be \"full\" or \"normal\"")),
            };
            Ok(StoreConfig::Sqlite {
                path: resolve(&path),
                capacity: raw.capacity,
                synchronous_full,
            })
        }
        "redis" => {
            if raw.path.is_some() {
                return Err(bad("store.path", "a redis store has a url, not a path"));
            }
            let url = raw.url.ok_or_else(|| {
                bad(
                    "store.url",
                    "a redis store needs a url (redis://… or unix://…)",
                )
            })?;
            if !(url.starts_with("redis://")
                || url.starts_with("rediss://")
                || url.starts_with("unix://"))
            {
                return Err(bad(
                    "store.url",
                    "must start with redis://, rediss:// or unix://",
                ));
            }
            let prefix = raw.prefix.unwrap_or_else(|| "kycvs:".into());
            if prefix.is_empty()
                || prefix.len() > 64
                || !prefix.bytes().all(|b| b.is_ascii_graphic())
            {
                return Err(bad(
                    "store.prefix",
                    "must be 1 to 64 visible ASCII characters",
                ));
            }
            if !(1..=60_000).contains(&raw.timeout_ms) {
                return Err(bad("store.timeout_ms", "must be 1 to 60000"));
            }
            if !(1..=1_024).contains(&raw.pool_size) {
                return Err(bad("store.pool_size", "must be 1 to 1024"));
            }
            Ok(StoreConfig::Redis(kycvs_redis::RedisConfig {
                url,
                prefix,
                timeout: Duration::from_millis(raw.timeout_ms),
                pool_size: raw.pool_size,
            }))
        }
        _ => Err(bad(
            "store.kind",
            "must be \"sqlite\", \"redis\" or \"memory\"",
        )),
    }
}

fn sms_config(raw: RawSms, resolve: &dyn Fn(&Path) -> PathBuf) -> Result<SmsConfig, ConfigError> {
    let timeout = if (1..=60_000).contains(&raw.timeout_ms) {
        Duration::from_millis(raw.timeout_ms)
    } else {
        return Err(bad("sms.timeout_ms", "must be 1 to 60000"));
    };
    let unused = |present: bool, key: &str, sender: &str| {
        if present {
            Err(bad(
                format!("sms.{key}"),
                format!("not used by sender = \"{sender}\""),
            ))
        } else {
            Ok(())
        }
    };
    match raw.sender.as_str() {
        "log" => {
            unused(raw.program.is_some(), "program", "log")?;
            unused(raw.url.is_some(), "url", "log")?;
            Ok(SmsConfig::Log {
                path: raw.path.as_deref().map(resolve),
            })
        }
        "command" => {
            unused(raw.path.is_some(), "path", "command")?;
            unused(raw.url.is_some(), "url", "command")?;
            let program = raw
                .program
                .ok_or_else(|| bad("sms.program", "sender = \"command\" needs a program"))?;
            Ok(SmsConfig::Command {
                program: resolve(&program),
                args: raw.args,
                timeout,
            })
        }
        "webhook" => {
            unused(raw.path.is_some(), "path", "webhook")?;
            unused(raw.program.is_some(), "program", "webhook")?;
            let url = raw
                .url
                .ok_or_else(|| bad("sms.url", "sender = \"webhook\" needs a url"))?;
            let parsed = reqwest::Url::parse(&url).map_err(|_| bad("sms.url", "not a URL"))?;
            let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
            if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
                return Err(bad("sms.url", "must be https (http only on loopback)"));
            }
            let secret = raw.bearer_secret_file.ok_or_else(|| {
                bad(
                    "sms.bearer_secret_file",
                    "sender = \"webhook\" needs a bearer secret file",
                )
            })?;
            Ok(SmsConfig::Webhook {
                url,
                bearer_secret_file: resolve(&secret),
                timeout,
            })
        }
        _ => Err(bad(
            "sms.sender",
            "must be \"log\", \"command\" or \"webhook\"",
        )),
    }
}

fn rate(
    raw: Option<RawRate>,
    key: &str,
    requests: u32,
    window_s: u64,
) -> Result<RateLimit, ConfigError> {
    let raw = raw.unwrap_or(RawRate { requests, window_s });
    if raw.requests == 0 || raw.requests > 10_000_000 {
        return Err(bad(format!("{key}.requests"), "must be 1 to 10000000"));
    }
    if !(1..=86_400).contains(&raw.window_s) {
        return Err(bad(format!("{key}.window_s"), "must be 1 to 86400"));
    }
    Ok(RateLimit {
        requests: raw.requests,
        window: Duration::from_secs(raw.window_s),
    })
}

fn clients_config(raw: Vec<RawClient>) -> Result<Vec<ClientConfig>, ConfigError> {
    let mut seen = HashSet::new();
    let mut clients = Vec::with_capacity(raw.len());
    for (i, client) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("clients[{i}].{field}");
        if !is_valid_id(&client.id) || client.id.contains(':') {
            return Err(bad(
                key("id"),
                format!("must be 1 to {MAX_ID_LEN} visible ASCII characters without ':'"),
            ));
        }
        if !seen.insert(client.id.clone()) {
            return Err(bad(key("id"), format!("{} is registered twice", client.id)));
        }
        let name = client.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(bad(
                key("name"),
                "must be 1 to 100 characters, no control characters",
            ));
        }
        for (j, origin) in client.origins.iter().enumerate() {
            check_origin(origin).map_err(|m| bad(format!("clients[{i}].origins[{j}]"), m))?;
        }
        let mut secret_sha256 = [0u8; 32];
        hex::decode_to_slice(&client.secret_sha256, &mut secret_sha256)
            .map_err(|_| bad(key("secret_sha256"), "must be 64 hex digits"))?;
        clients.push(ClientConfig {
            id: client.id,
            name: name.to_owned(),
            origins: client.origins,
            secret_sha256,
        });
    }
    Ok(clients)
}

/// Checks a web origin: `https://host[:port]`, or `http://` for a loopback host; no path,
/// query, user or trailing slash.
pub fn check_origin(origin: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(origin).map_err(|_| "not an origin URL".to_owned())?;
    let host = url.host_str().unwrap_or("");
    let loopback = matches!(host, "127.0.0.1" | "[::1]" | "localhost");
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err("must be https:// (http:// only for a loopback host)".into());
    }
    if url.origin().ascii_serialization() != origin {
        return Err(format!(
            "must be exactly scheme://host[:port], e.g. {}",
            url.origin().ascii_serialization()
        ));
    }
    Ok(())
}

/// The error of a key file or key that cannot be used, naming the config key.
pub fn key_error(key: &str, error: &Error) -> ConfigError {
    bad(key, error.detail().to_owned())
}

/// The core error a configuration problem becomes inside the service.
pub fn to_core(error: &ConfigError) -> Error {
    Error::new(ErrorCode::InvalidArgument, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[server]
listen = "127.0.0.1:0"
[issuer]
id = "cowin.example"
signing_key = "k.pem"
otp_key = "otp.key"
pseudonym_key = "p.key"
registry = "sample"
[store]
kind = "memory"
[sms]
sender = "log"
[[clients]]
id = "irctc.example"
name = "IRCTC"
origins = ["https://www.irctc.example", "http://127.0.0.1:8000"]
secret_sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(
            text,
            Path::new("/etc/kycvs/server.toml"),
            Path::new("/etc/kycvs"),
        )
    }

    fn key_of(text: &str) -> String {
        parse(text).unwrap_err().key
    }

    #[test]
    fn a_good_config_loads_with_paths_resolved() {
        let config = parse(GOOD).unwrap();
        assert_eq!(config.issuer.signing_key, Path::new("/etc/kycvs/k.pem"));
        assert!(config.issuer.registry.is_none());
        assert_eq!(config.clients[0].origins.len(), 2);
        assert_eq!(config.consent, ConsentConfig::default());
        assert_eq!(config.limits.per_ip.requests, 600);
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (
                "listen = \"127.0.0.1:0\"",
                "listen = \"0.0.0.0:80\"",
                "server.listen",
            ),
            (
                "listen = \"127.0.0.1:0\"",
                "listen = \"nowhere\"",
                "server.listen",
            ),
            ("kind = \"memory\"", "kind = \"postgres\"", "store.kind"),
            ("kind = \"memory\"", "kind = \"sqlite\"", "store.path"),
            ("sender = \"log\"", "sender = \"webhook\"", "sms.url"),
            (
                "sender = \"log\"",
                "sender = \"carrier-pigeon\"",
                "sms.sender",
            ),
            (
                "id = \"irctc.example\"",
                "id = \"irctc:example\"",
                "clients[0].id",
            ),
            ("name = \"IRCTC\"", "name = \"  \"", "clients[0].name"),
            (
                "\"https://www.irctc.example\",",
                "\"https://www.irctc.example/\",",
                "clients[0].origins[0]",
            ),
            (
                "\"http://127.0.0.1:8000\"",
                "\"http://irctc.example\"",
                "clients[0].origins[1]",
            ),
            (
                "secret_sha256 = \"0000",
                "secret_sha256 = \"zz00",
                "clients[0].secret_sha256",
            ),
            (
                "[sms]",
                "[consent]\notp_ttl_s = 0\n[sms]",
                "consent.otp_ttl_s",
            ),
            (
                "[sms]",
                "[consent]\nmax_attempts = 11\n[sms]",
                "consent.max_attempts",
            ),
            (
                "[sms]",
                "[limits]\nper_ip = { requests = 0, window_s = 1 }\n[sms]",
                "limits.per_ip.requests",
            ),
            ("id = \"cowin.example\"", "id = \"\"", "issuer.id"),
        ];
        for (from, to, key) in cases {
            assert!(GOOD.contains(from), "{from}");
            assert_eq!(key_of(&GOOD.replacen(from, to, 1)), key, "{to}");
        }
    }

    #[test]
    fn unknown_and_missing_keys_are_named_by_the_parser() {
        let err = parse(&GOOD.replace("[store]", "[store]\ncolour = \"blue\"")).unwrap_err();
        assert!(err.message.contains("colour"), "{err}");
        let err = parse(&GOOD.replace("registry = \"sample\"\n", "")).unwrap_err();
        assert!(err.message.contains("registry"), "{err}");
    }

    #[test]
    fn a_duplicate_client_is_refused() {
        let second = GOOD
            .split("[[clients]]")
            .nth(1)
            .map(|c| format!("[[clients]]{c}"))
            .unwrap();
        let err = parse(&format!("{GOOD}{second}")).unwrap_err();
        assert_eq!(err.key, "clients[1].id");
    }

    #[test]
    fn tls_or_a_proxy_allows_other_addresses() {
        let tls = GOOD.replace(
            "listen = \"127.0.0.1:0\"",
            "listen = \"0.0.0.0:8443\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"",
        );
        assert!(parse(&tls).is_ok());
        let proxy = GOOD.replace(
            "listen = \"127.0.0.1:0\"",
            "listen = \"10.0.0.5:8080\"\nbehind_proxy = true",
        );
        assert!(parse(&proxy).unwrap().server.behind_proxy);
        let half = GOOD.replace(
            "listen = \"127.0.0.1:0\"",
            "listen = \"127.0.0.1:0\"\ntls_cert = \"c.pem\"",
        );
        assert_eq!(parse(&half).unwrap_err().key, "server.tls_key");
    }
}
