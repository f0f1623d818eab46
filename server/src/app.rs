//! The running service: its state built from a [`Config`], and the listener (plain HTTP on
//! loopback or behind a proxy, or TLS with rustls) with graceful shutdown on SIGTERM.

use crate::api;
use crate::auth::Clients;
use crate::config::{Config, ConfigError};
use crate::limits::RequestLimits;
use crate::metrics::Metrics;
use crate::sms::{self, OtpSender};
use crate::store::Store;
use kycvs_core::{
    ConsentCompleter, ConsentStarter, IssuanceBuilder, Issuer, JsonlRegistry, MAX_BUNDLE_LEN,
    OTP_KEY_LEN, PSEUDONYM_KEY_LEN, PseudonymKey, Registry, SigningKey, TrustStore,
};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// What every request handler shares.
pub struct AppState {
    /// The begin side of the consent flow.
    pub starter: ConsentStarter,
    /// The complete side of the consent flow.
    pub completer: ConsentCompleter,
    /// The consent store both sides use.
    pub store: Store,
    /// The registered verifier clients.
    pub clients: Clients,
    /// Where OTPs go.
    pub sender: Arc<dyn OtpSender>,
    /// Counters and histograms.
    pub metrics: Metrics,
    /// Requests per client id and per client address.
    pub limits: RequestLimits,
    /// The issuer's JWKS, as published.
    pub jwks: String,
    /// The trust bundle, when one is published.
    pub bundle: Option<Vec<u8>>,
    /// True when a proxy sits in front (client addresses from `X-Forwarded-For`).
    pub behind_proxy: bool,
    /// The OTP lifetime in seconds (for the SMS text).
    pub otp_ttl: u64,
    /// The most time one request may take.
    pub request_timeout: Duration,
    /// The longest request body accepted.
    pub max_body_bytes: usize,
    /// The public base URL for consent page links, when configured.
    pub public_url: Option<String>,
    /// True when the service terminates TLS itself.
    pub tls: bool,
    /// Wrong OTPs allowed per consent.
    pub max_attempts: u32,
    /// How long a consent page session lives, in seconds.
    pub session_ttl: u64,
}

/// The longest key file read.
const MAX_KEY_FILE_LEN: u64 = 64 * 1024;
/// The longest registry file read.
const MAX_REGISTRY_FILE_LEN: u64 = 1 << 30;

fn read_limited(key: &str, path: &Path, limit: u64) -> Result<Zeroizing<Vec<u8>>, ConfigError> {
    let fail = |message: String| ConfigError {
        key: key.to_owned(),
        message: format!("{}: {message}", path.display()),
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if meta.len() > limit {
        return Err(fail(format!("longer than {limit} bytes")));
    }
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|e| fail(e.to_string()))
}

/// Reads a 32-byte key written as 64 hex digits (and a line break).
pub fn read_hex_key(key: &str, path: &Path) -> Result<Zeroizing<[u8; 32]>, ConfigError> {
    let text = read_limited(key, path, MAX_KEY_FILE_LEN)?;
    let mut bytes = Zeroizing::new([0u8; 32]);
    let trimmed = text.trim_ascii();
    hex::decode_to_slice(trimmed, bytes.as_mut()).map_err(|_| ConfigError {
        key: key.to_owned(),
        message: format!("{}: must hold 64 hex digits", path.display()),
    })?;
    Ok(bytes)
}

impl AppState {
    /// Builds the service's state from `config`: keys, registry, store, sender, clients.
    pub fn from_config(config: &Config) -> Result<AppState, ConfigError> {
        let issuer_cfg = &config.issuer;
        let pem = read_limited(
            "issuer.signing_key",
            &issuer_cfg.signing_key,
            MAX_KEY_FILE_LEN,
        )?;
        let key_error = |key: &str, e: kycvs_core::Error| ConfigError {
            key: key.to_owned(),
            message: e.detail().to_owned(),
        };
        let pem_text = std::str::from_utf8(&pem).map_err(|_| ConfigError {
            key: "issuer.signing_key".into(),
            message: "not a PEM file".into(),
        })?;
        let signing_key =
            SigningKey::from_pkcs8_pem(pem_text).map_err(|e| key_error("issuer.signing_key", e))?;
        let mut trust = TrustStore::new();
        trust
            .add(signing_key.public_key().clone(), &issuer_cfg.id)
            .map_err(|e| key_error("issuer.signing_key", e))?;
        let jwks = trust.to_jwks();
        let issuer = Issuer::new(signing_key, issuer_cfg.id.clone())
            .map_err(|e| key_error("issuer.id", e))?;
        let otp_key = read_hex_key("issuer.otp_key", &issuer_cfg.otp_key)?;
        let pseudonym_bytes = read_hex_key("issuer.pseudonym_key", &issuer_cfg.pseudonym_key)?;
        const _: () = assert!(OTP_KEY_LEN == 32 && PSEUDONYM_KEY_LEN == 32);
        let pseudonym_key = PseudonymKey::from_bytes(pseudonym_bytes.as_ref())
            .map_err(|e| key_error("issuer.pseudonym_key", e))?;
        let registry: Arc<dyn Registry> = match &issuer_cfg.registry {
            None => Arc::new(JsonlRegistry::sample()),
            Some(path) => {
                let bytes = read_limited("issuer.registry", path, MAX_REGISTRY_FILE_LEN)?;
                Arc::new(
                    JsonlRegistry::from_jsonl_bytes(&bytes)
                        .map_err(|e| key_error("issuer.registry", e))?,
                )
            }
        };
        let bundle = match &issuer_cfg.trust_bundle {
            None => None,
            Some(path) => {
                Some(read_limited("issuer.trust_bundle", path, MAX_BUNDLE_LEN as u64)?.to_vec())
            }
        };
        let store = Store::open(&config.store).map_err(|e| key_error("store", e))?;
        let mut builder = IssuanceBuilder::new();
        builder
            .issuer(issuer)
            .registry(registry)
            .pseudonym_key(pseudonym_key)
            .otp_key(otp_key.as_ref())
            .consent_store(store.as_consent_store())
            .config(config.consent);
        let starter = builder
            .build_starter()
            .map_err(|e| key_error("consent", e))?;
        let completer = builder
            .build_completer()
            .map_err(|e| key_error("consent", e))?;
        let sender = sms::from_config(&config.sms).map_err(|e| ConfigError {
            key: "sms".into(),
            message: e.to_string(),
        })?;
        let limits = RequestLimits::new(config.limits, store.redis());
        Ok(AppState {
            starter,
            completer,
            store,
            clients: Clients::new(&config.clients),
            sender,
            metrics: Metrics::default(),
            limits,
            jwks,
            bundle,
            behind_proxy: config.server.behind_proxy,
            otp_ttl: config.consent.otp_ttl,
            request_timeout: config.server.request_timeout,
            max_body_bytes: config.server.max_body_bytes,
            public_url: config.server.public_url.clone(),
            tls: config.server.tls.is_some(),
            max_attempts: config.consent.max_attempts,
            session_ttl: config.session_ttl,
        })
    }
}

/// Runs the service described by `config` until SIGTERM or SIGINT, then lets in-flight
/// requests finish within the grace period. Prints `kycvs-server listening on URL` on stdout
/// once the socket is bound.
pub async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let state = Arc::new(AppState::from_config(&config)?);
    tracing::info!(
        store = state.store.kind(),
        sender = state.sender.kind(),
        clients = config.clients.len(),
        "kycvs-server starting"
    );
    let app = api::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let shutdown = handle.clone();
    let grace = config.server.shutdown_grace;
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        shutdown.graceful_shutdown(Some(grace));
    });
    let announce = handle.clone();
    let scheme = if config.server.tls.is_some() {
        "https"
    } else {
        "http"
    };
    tokio::spawn(async move {
        if let Some(address) = announce.listening().await {
            tracing::info!(%address, "listening");
            println!("kycvs-server listening on {scheme}://{address}");
        }
    });
    let max_header_bytes = config.server.max_header_bytes;
    match &config.server.tls {
        Some((cert, key)) => {
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|e| ConfigError {
                    key: "server.tls_cert".into(),
                    message: e.to_string(),
                })?;
            let mut server = axum_server::bind_rustls(config.server.listen, tls).handle(handle);
            server.http_builder().http1().max_buf_size(max_header_bytes);
            server.serve(app).await?;
        }
        None => {
            let mut server = axum_server::bind(config.server.listen).handle(handle);
            server.http_builder().http1().max_buf_size(max_header_bytes);
            server.serve(app).await?;
        }
    }
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
