//! The HTTP API: routes, handlers and the middleware that times, limits, logs and counts
//! every request. Handlers extract, call the core, and answer; every error goes through
//! [`ApiError`].

use crate::app::AppState;
use crate::auth::Client;
use crate::error::{AnsweredCode, ApiError, Code, ServiceCode};
use crate::limits::RequestLimits;
use crate::page;
use crate::sms::Sms;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kycvs_core::{ConsentRequest, ErrorCode, Mobile, unix_now};
use kycvs_redis::RequestCounter;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;
use zeroize::Zeroize;

/// Every route of the API as (method, path template): the router is built from the same
/// paths, and a test checks docs/openapi.yaml against this list.
pub const ROUTES: [(&str, &str); 14] = [
    ("POST", BEGIN),
    ("POST", COMPLETE),
    ("POST", SESSIONS),
    ("POST", SESSION_CODE),
    ("POST", SESSION_VERIFY),
    ("GET", SESSION_TOKEN),
    ("GET", PAGE),
    ("GET", SCRIPT),
    ("GET", STYLE),
    ("GET", JWKS),
    ("GET", BUNDLE),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
];

const BEGIN: &str = "/v1/consents";
const COMPLETE: &str = "/v1/consents/{consent_id}/complete";
const JWKS: &str = "/.well-known/jwks.json";
const BUNDLE: &str = "/.well-known/kycvs-trust-bundle.jws";
const SESSIONS: &str = "/v1/sessions";
const SESSION_CODE: &str = "/v1/sessions/{session_id}/code";
const SESSION_VERIFY: &str = "/v1/sessions/{session_id}/verify";
const SESSION_TOKEN: &str = "/v1/sessions/{session_id}/token";
const PAGE: &str = "/consent/{session_id}";
const SCRIPT: &str = "/static/consent.js";
const STYLE: &str = "/static/consent.css";

/// The router over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let body_limit = state.max_body_bytes;
    Router::new()
        .route(BEGIN, post(begin))
        .route(COMPLETE, post(complete))
        .route(JWKS, get(jwks))
        .route(BUNDLE, get(bundle))
        .route(SESSIONS, post(page::create_session))
        .route(SESSION_CODE, post(page::session_code))
        .route(SESSION_VERIFY, post(page::session_verify))
        .route(SESSION_TOKEN, get(page::session_token))
        .route(PAGE, get(page::page))
        .route(SCRIPT, get(page::script))
        .route(STYLE, get(page::style))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// The client id that made a request, kept on the response for the request log.
#[derive(Clone, Debug)]
struct ServedClient(String);

/// Times out, counts and logs every request, and sets the headers every answer carries.
async fn observe(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| {
            ROUTES
                .iter()
                .find(|(_, r)| *r == p.as_str())
                .map(|(_, r)| *r)
        })
        .unwrap_or("unmatched");
    let method = method_label(request.method());
    let mut response = match tokio::time::timeout(state.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            ApiError::service(ServiceCode::Timeout, "the request took too long").into_response()
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let took = started.elapsed();
    let status = response.status().as_u16();
    state.metrics.request(route, method, status, took);
    let code = response
        .extensions()
        .get::<AnsweredCode>()
        .map(|c| c.0.as_str());
    let client = response
        .extensions()
        .get::<ServedClient>()
        .map(|c| c.0.as_str());
    tracing::info!(
        target: "kycvs_server::request",
        route,
        method,
        status,
        code,
        client,
        micros = took.as_micros() as u64,
        "request"
    );
    response
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The caller's address: the peer, or behind a proxy the last `X-Forwarded-For` entry (the
/// one the proxy added).
fn client_address(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if state.behind_proxy {
        // Only the last entry is the proxy's own; earlier ones are whatever the caller sent.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        if let Some(address) = forwarded {
            return address;
        }
    }
    peer.ip()
}

/// Counts a request against its address's limit.
pub(crate) async fn limit_address(
    state: &Arc<AppState>,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let address = client_address(state, peer, headers);
    count_requests(state, &[Counted::Address(address)]).await
}

/// Whose requests a limit counts.
enum Counted {
    Address(IpAddr),
    Client(String),
}

/// Counts one request against each limit in turn, refusing at the first one it is beyond:
/// in this process, or in Redis for every instance (keyed by MACs of the address and client
/// id, all in one round trip). A store that does not answer refuses the request with its
/// own code.
async fn count_requests(state: &Arc<AppState>, counted: &[Counted]) -> Result<(), ApiError> {
    let allowed = match &state.limits {
        RequestLimits::Local { per_client, per_ip } => counted.iter().all(|c| match c {
            Counted::Address(address) => per_ip.allow(address, Instant::now()),
            Counted::Client(id) => per_client.allow(id, Instant::now()),
        }),
        RequestLimits::Shared { store, limits } => {
            let counters: Vec<RequestCounter> = counted
                .iter()
                .map(|c| {
                    let (scope, value, limit) = match c {
                        Counted::Address(address) => {
                            ("ip", address.to_string().into_bytes(), limits.per_ip)
                        }
                        Counted::Client(id) => {
                            ("client", id.as_bytes().to_vec(), limits.per_client)
                        }
                    };
                    RequestCounter {
                        scope,
                        key: state.starter.limit_key(scope, &value),
                        window: limit.window.as_secs(),
                        limit: limit.requests,
                    }
                })
                .collect();
            let store = store.clone();
            let refused =
                tokio::task::spawn_blocking(move || store.count_requests(&counters, unix_now()))
                    .await
                    .map_err(internal)??;
            refused.is_none()
        }
    };
    if allowed { Ok(()) } else { Err(too_many()) }
}

fn too_many() -> ApiError {
    ApiError::service(
        ServiceCode::TooManyRequests,
        "too many requests; slow down and try again later",
    )
}

/// The per-address limit, then the client's credentials.
pub(crate) async fn authenticate_only(
    state: &Arc<AppState>,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<Client, ApiError> {
    limit_address(state, peer, headers).await?;
    Ok(state.clients.authenticate(headers)?.clone())
}

/// Admits a request as the per-address limit, then the client's credentials, then the
/// per-client limit would: over its address's limit it is `too_many_requests` whatever its
/// credentials, with wrong credentials it is `unauthorized` and counts against its address
/// alone. The credentials (one SHA-256) are checked before counting, so that both counts
/// take one round trip to a shared store.
pub(crate) async fn admit(
    state: &Arc<AppState>,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<Client, ApiError> {
    let address = Counted::Address(client_address(state, peer, headers));
    match state.clients.authenticate(headers) {
        Ok(client) => {
            let client = client.clone();
            count_requests(state, &[address, Counted::Client(client.id.clone())]).await?;
            Ok(client)
        }
        Err(unauthorized) => {
            count_requests(state, &[address]).await?;
            Err(unauthorized)
        }
    }
}

pub(crate) fn malformed<T>(rejection: JsonRejection, shape: &'static str) -> Result<T, ApiError> {
    Err(match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::service(ServiceCode::PayloadTooLarge, "the request body is too long")
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::service(
            ServiceCode::UnsupportedMediaType,
            "the request body must be application/json",
        ),
        // The parser's own message may quote the body: it is not passed on.
        _ => ApiError::service(ServiceCode::MalformedRequest, shape),
    })
}

pub(crate) fn internal(_: tokio::task::JoinError) -> ApiError {
    ApiError::service(ServiceCode::Internal, "the request could not be completed")
}

fn with_client(mut response: Response, client: &Client) -> Response {
    response
        .extensions_mut()
        .insert(ServedClient(client.id.clone()));
    response
}

/// `POST /v1/consents` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BeginBody {
    mobile: String,
    name: String,
    nonce: String,
}

impl Drop for BeginBody {
    fn drop(&mut self) {
        self.mobile.zeroize();
        self.name.zeroize();
    }
}

/// `POST /v1/consents/{consent_id}/complete` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompleteBody {
    otp: String,
}

impl Drop for CompleteBody {
    fn drop(&mut self) {
        self.otp.zeroize();
    }
}

pub(crate) fn outcome_label<T>(result: &Result<T, kycvs_core::Error>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => e.code().as_str(),
    }
}

/// Begins a consent for `request` on behalf of `client` and sends its OTP by SMS; answers
/// the consent id and expiry. A failed delivery removes the consent.
pub(crate) async fn send_code(
    state: &Arc<AppState>,
    client: &Client,
    request: &ConsentRequest<'_>,
) -> Result<(String, u64), ApiError> {
    let mobile = Mobile::parse(request.mobile).inspect_err(|e| {
        state.metrics.outcome("begin", e.code().as_str());
    })?;
    let owned = (
        zeroize::Zeroizing::new(request.mobile.to_owned()),
        zeroize::Zeroizing::new(request.name.to_owned()),
        request.audience.to_owned(),
        request.nonce.to_owned(),
    );
    let work = state.clone();
    let now = unix_now();
    let challenge = tokio::task::spawn_blocking(move || {
        let request = ConsentRequest {
            mobile: &owned.0,
            name: &owned.1,
            audience: &owned.2,
            nonce: &owned.3,
        };
        work.starter.begin(&request, now)
    })
    .await
    .map_err(internal)?;
    state.metrics.outcome("begin", outcome_label(&challenge));
    let challenge = challenge?;
    // The SMS goes out whether or not anyone is registered under the number: the caller
    // cannot tell the difference by the answer, its timing or the phone.
    let sms = Sms::otp(&mobile, &challenge.otp, &client.name, state.otp_ttl);
    drop(mobile);
    if let Err(reason) = state.sender.send(&sms).await {
        state.metrics.delivery(state.sender.kind(), "failed");
        tracing::warn!(sender = state.sender.kind(), reason = %reason, "OTP delivery failed");
        // No consent outlives a failed delivery: nobody could complete it, and it must not
        // be completable by anyone who learns the OTP some other way.
        let store = state.store.as_consent_store();
        let id = challenge.consent_id.clone();
        let removed = tokio::task::spawn_blocking(move || {
            store.update(&id, &mut |_| kycvs_core::StoreAction::Remove)
        })
        .await
        .map_err(internal)?;
        removed?;
        return Err(ApiError::service(
            ServiceCode::OtpDeliveryFailed,
            "the SMS with the code could not be sent; try again later",
        ));
    }
    state.metrics.delivery(state.sender.kind(), "ok");
    Ok((challenge.consent_id.clone(), challenge.expires_at))
}

async fn begin(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<BeginBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let client = admit(&state, peer, &headers).await?;
    let Json(body) = body.or_else(|r| {
        malformed(
            r,
            "the body must be a JSON object with the strings mobile, name and nonce",
        )
    })?;
    let request = ConsentRequest {
        mobile: &body.mobile,
        name: &body.name,
        audience: &client.id,
        nonce: &body.nonce,
    };
    let (consent_id, expires_at) = send_code(&state, &client, &request).await?;
    let answer = serde_json::json!({
        "consent_id": consent_id,
        "expires_at": expires_at,
    });
    Ok(with_client(
        (StatusCode::CREATED, Json(answer)).into_response(),
        &client,
    ))
}

async fn complete(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    consent_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Json<CompleteBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let client = admit(&state, peer, &headers).await?;
    // An id that is not text after percent-decoding was never issued: the answer is the
    // core's for an unknown id, never the extractor's own (plain-text) rejection.
    let Ok(Path(consent_id)) = consent_id else {
        state
            .metrics
            .outcome("complete", ErrorCode::ConsentNotFound.as_str());
        return Err(kycvs_core::Error::new(
            ErrorCode::ConsentNotFound,
            "no pending consent has this id",
        )
        .into());
    };
    let Json(body) =
        body.or_else(|r| malformed(r, "the body must be a JSON object with the string otp"))?;
    let audience = client.id.clone();
    let work = state.clone();
    let now = unix_now();
    let token = tokio::task::spawn_blocking(move || {
        work.completer
            .complete_for_audience(&audience, &consent_id, &body.otp, now)
    })
    .await
    .map_err(internal)?;
    state.metrics.outcome("complete", outcome_label(&token));
    let token = token?;
    Ok(with_client(
        Json(serde_json::json!({"token": token})).into_response(),
        &client,
    ))
}

async fn jwks(State(state): State<Arc<AppState>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        state.jwks.clone(),
    )
        .into_response()
}

async fn bundle(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    match &state.bundle {
        Some(bundle) => Ok((
            [
                (header::CONTENT_TYPE, "application/jose"),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            bundle.clone(),
        )
            .into_response()),
        None => Err(ApiError::service(
            ServiceCode::NotFound,
            "this issuer publishes no trust bundle",
        )),
    }
}

async fn healthz() -> Response {
    Json(serde_json::json!({"status": "ok"})).into_response()
}

async fn readyz(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || store.ping())
        .await
        .map_err(internal)??;
    Ok(Json(serde_json::json!({"status": "ready"})).into_response())
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::service(ServiceCode::NotFound, "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::service(
        ServiceCode::MethodNotAllowed,
        "this route does not take this method",
    )
}

/// The status and code of every error answer, for the OpenAPI check.
pub fn error_statuses() -> impl Iterator<Item = (Code, StatusCode)> {
    Code::all().map(|c| (c, c.status()))
}
