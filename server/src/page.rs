//! The consent page a booking site embeds, and the session API behind it.
//!
//! - `POST /v1/sessions` (client credentials): a session for a nonce and one of the client's
//!   registered origins → its page URL.
//! - `GET /consent/{session_id}`: the page, served once per session, framable only by the
//!   session's origin (CSP `frame-ancestors`), no inline script, no cookies.
//! - `POST /v1/sessions/{session_id}/code` and `/verify` (same origin, from the page): send
//!   the code to the mobile typed, then check the code typed; on success the page receives
//!   the token and passes it to the session's origin with `postMessage`.
//! - `GET /v1/sessions/{session_id}/token` (client credentials): the backend collects the
//!   token once, so it never has to trust the browser.

use crate::api::{admit, authenticate_only, internal, malformed, send_code};
use crate::app::AppState;
use crate::error::{ApiError, ServiceCode};
use crate::session::{Lang, Session, Step};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use kycvs_core::{ConsentRequest, ErrorCode, StoreAction, is_valid_nonce, unix_now};
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;
use zeroize::Zeroize;

/// The page's script.
pub const SCRIPT: &str = include_str!("../assets/consent.js");
/// The page's style sheet.
pub const STYLE: &str = include_str!("../assets/consent.css");

/// The text of the page in one language.
struct Text {
    title: &'static str,
    /// "{client} will learn …", with `{client}` and `{nonce}` replaced.
    who_learns: &'static str,
    not_shared: &'static str,
    mobile_label: &'static str,
    mobile_hint: &'static str,
    name_label: &'static str,
    name_hint: &'static str,
    send_code: &'static str,
    code_label: &'static str,
    code_hint: &'static str,
    confirm: &'static str,
    new_code: &'static str,
    done_title: &'static str,
    done_body: &'static str,
    error_title: &'static str,
    /// Messages by code for the script (`{n}` tries left, `{client}`).
    messages: &'static [(&'static str, &'static str)],
    session_gone: &'static str,
    session_used: &'static str,
}

const EN: Text = Text {
    title: "Share your vaccination status",
    who_learns: "{client} will learn only your COVID-19 vaccination status (not vaccinated, partially or fully vaccinated) for booking {nonce}. They will not see your mobile number or your name.",
    not_shared: "We send a one-time code to your mobile number to check that it is you.",
    mobile_label: "Mobile number",
    mobile_hint: "The 10-digit number you gave when you were vaccinated, for example 98765 43210.",
    name_label: "Full name",
    name_hint: "As it appears on your vaccination certificate.",
    send_code: "Send code",
    code_label: "Code from the SMS",
    code_hint: "We sent a 6-digit code by SMS. It expires in a few minutes.",
    confirm: "Confirm and share",
    new_code: "Send a new code",
    done_title: "Your status has been shared",
    done_body: "{client} has received your vaccination status for this booking. You can close this window.",
    error_title: "There is a problem",
    messages: &[
        (
            "invalid_mobile",
            "Enter a 10-digit mobile number, like 98765 43210.",
        ),
        (
            "invalid_argument",
            "Enter your full name as it appears on your vaccination certificate.",
        ),
        ("missing_mobile", "Enter your mobile number."),
        ("missing_name", "Enter your full name."),
        ("missing_code", "Enter the 6-digit code from the SMS."),
        (
            "otp_mismatch",
            "The code is wrong. You have {n} tries left.",
        ),
        ("otp_mismatch_1", "The code is wrong. You have 1 try left."),
        (
            "attempts_exhausted",
            "Too many wrong codes. Ask for a new code.",
        ),
        (
            "consent_expired",
            "The code has expired. Ask for a new code.",
        ),
        (
            "consent_not_found",
            "The code has expired. Ask for a new code.",
        ),
        (
            "rate_limited",
            "Too many codes were asked for this number. Try again later.",
        ),
        ("too_many_requests", "Too many attempts. Try again later."),
        (
            "otp_delivery_failed",
            "We could not send the SMS. Try again later.",
        ),
        (
            "unknown_product",
            "Your vaccination records cannot be checked online. Call the helpline 1075.",
        ),
        (
            "invalid_dose_records",
            "Your vaccination records cannot be checked online. Call the helpline 1075.",
        ),
        (
            "session_expired",
            "This page has expired. Go back to {client} and start again.",
        ),
        (
            "session_used",
            "This page has already been used. Go back to {client} and start again.",
        ),
        (
            "session_not_found",
            "This page has expired. Go back to {client} and start again.",
        ),
        ("other", "Something went wrong. Try again later."),
    ],
    session_gone: "This page has expired or does not exist. Go back to the booking site and start again.",
    session_used: "This page has already been used. Go back to the booking site and start again.",
};

const HI: Text = Text {
    title: "अपनी टीकाकरण स्थिति साझा करें",
    who_learns: "{client} को बुकिंग {nonce} के लिए केवल आपकी कोविड-19 टीकाकरण स्थिति (टीका नहीं लगा, आंशिक या पूर्ण टीकाकरण) पता चलेगी। वे आपका मोबाइल नंबर या नाम नहीं देखेंगे।",
    not_shared: "यह आप ही हैं, यह जाँचने के लिए हम आपके मोबाइल नंबर पर एक बार का कोड भेजते हैं।",
    mobile_label: "मोबाइल नंबर",
    mobile_hint: "टीका लगवाते समय दिया गया 10 अंकों का नंबर, जैसे 98765 43210।",
    name_label: "पूरा नाम",
    name_hint: "जैसा आपके टीकाकरण प्रमाणपत्र पर लिखा है।",
    send_code: "कोड भेजें",
    code_label: "SMS में आया कोड",
    code_hint: "हमने SMS से 6 अंकों का कोड भेजा है। यह कुछ मिनटों में समाप्त हो जाएगा।",
    confirm: "पुष्टि करें और साझा करें",
    new_code: "नया कोड भेजें",
    done_title: "आपकी स्थिति साझा कर दी गई है",
    done_body: "{client} को इस बुकिंग के लिए आपकी टीकाकरण स्थिति मिल गई है। आप यह विंडो बंद कर सकते हैं।",
    error_title: "कोई समस्या है",
    messages: &[
        (
            "invalid_mobile",
            "10 अंकों का मोबाइल नंबर लिखें, जैसे 98765 43210।",
        ),
        (
            "invalid_argument",
            "अपना पूरा नाम वैसे ही लिखें जैसा टीकाकरण प्रमाणपत्र पर है।",
        ),
        ("missing_mobile", "अपना मोबाइल नंबर लिखें।"),
        ("missing_name", "अपना पूरा नाम लिखें।"),
        ("missing_code", "SMS में आया 6 अंकों का कोड लिखें।"),
        ("otp_mismatch", "कोड गलत है। आपके पास {n} प्रयास बचे हैं।"),
        ("otp_mismatch_1", "कोड गलत है। आपके पास 1 प्रयास बचा है।"),
        ("attempts_exhausted", "बहुत अधिक गलत कोड। नया कोड माँगें।"),
        (
            "consent_expired",
            "कोड की समय-सीमा समाप्त हो गई है। नया कोड माँगें।",
        ),
        (
            "consent_not_found",
            "कोड की समय-सीमा समाप्त हो गई है। नया कोड माँगें।",
        ),
        (
            "rate_limited",
            "इस नंबर के लिए बहुत अधिक कोड माँगे गए। बाद में फिर कोशिश करें।",
        ),
        ("too_many_requests", "बहुत अधिक प्रयास। बाद में फिर कोशिश करें।"),
        (
            "otp_delivery_failed",
            "हम SMS नहीं भेज सके। बाद में फिर कोशिश करें।",
        ),
        (
            "unknown_product",
            "आपके टीकाकरण रिकॉर्ड ऑनलाइन नहीं जाँचे जा सकते। हेल्पलाइन 1075 पर कॉल करें।",
        ),
        (
            "invalid_dose_records",
            "आपके टीकाकरण रिकॉर्ड ऑनलाइन नहीं जाँचे जा सकते। हेल्पलाइन 1075 पर कॉल करें।",
        ),
        (
            "session_expired",
            "इस पेज की समय-सीमा समाप्त हो गई है। {client} पर वापस जाकर फिर से शुरू करें।",
        ),
        (
            "session_used",
            "इस पेज का उपयोग हो चुका है। {client} पर वापस जाकर फिर से शुरू करें।",
        ),
        (
            "session_not_found",
            "इस पेज की समय-सीमा समाप्त हो गई है। {client} पर वापस जाकर फिर से शुरू करें।",
        ),
        ("other", "कुछ गलत हो गया। बाद में फिर कोशिश करें।"),
    ],
    session_gone: "इस पेज की समय-सीमा समाप्त हो गई है या यह मौजूद नहीं है। बुकिंग साइट पर वापस जाकर फिर से शुरू करें।",
    session_used: "इस पेज का उपयोग हो चुका है। बुकिंग साइट पर वापस जाकर फिर से शुरू करें।",
};

fn text(lang: Lang) -> &'static Text {
    match lang {
        Lang::En => &EN,
        Lang::Hi => &HI,
    }
}

/// Escapes text for HTML content and double-quoted attributes.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The page's Content-Security-Policy: only its own script and style, framable only by
/// `frame_ancestors` (an origin, or `'none'`).
pub fn content_security_policy(frame_ancestors: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; \
         frame-ancestors {frame_ancestors}"
    )
}

fn html_response(status: StatusCode, body: String, frame_ancestors: &str) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(frame_ancestors)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("unsafe-none"),
    );
    response
}

/// A page that says only `message`.
fn message_page(lang: Lang, status: StatusCode, message: &str, frame_ancestors: &str) -> Response {
    let t = text(lang);
    let body = format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"/static/consent.css\">\n</head>\n\
         <body>\n<main class=\"kycvs\" id=\"main\">\n<h1>{title}</h1>\n\
         <p class=\"kycvs-message\" role=\"alert\">{message}</p>\n</main>\n</body>\n</html>\n",
        lang = lang.tag(),
        title = escape(t.title),
        message = escape(message),
    );
    html_response(status, body, frame_ancestors)
}

fn render_page(session_id: &str, session: &Session, client_name: &str, lang: Lang) -> String {
    let t = text(lang);
    let client = escape(client_name);
    let who = escape(t.who_learns)
        .replace("{client}", &format!("<strong>{client}</strong>"))
        .replace(
            "{nonce}",
            &format!("<strong>{}</strong>", escape(&session.nonce)),
        );
    let messages: serde_json::Map<String, serde_json::Value> = t
        .messages
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.replace("{client}", client_name).into()))
        .collect();
    let done_body = escape(t.done_body).replace("{client}", &client);
    // The messages travel as a JSON data block: not script, so the CSP needs no exception.
    // `<` is escaped so that no text can close the block.
    let messages = serde_json::Value::Object(messages)
        .to_string()
        .replace('<', "\\u003c");
    format!(
        r##"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/static/consent.css">
<script src="/static/consent.js" defer></script>
</head>
<body>
<main class="kycvs" id="main" data-session="{session_id}" data-origin="{origin}">
<script type="application/json" id="kycvs-messages">{messages}</script>
<div class="kycvs-error-summary" id="error-summary" role="alert" aria-live="assertive" tabindex="-1" hidden>
<h2>{error_title}</h2>
<p><a href="#" id="error-link"></a></p>
</div>
<h1>{title}</h1>
<p>{who}</p>
<section id="step-details">
<p>{not_shared}</p>
<form id="details-form" novalidate>
<div class="kycvs-field">
<label for="mobile">{mobile_label}</label>
<p class="kycvs-hint" id="mobile-hint">{mobile_hint}</p>
<input id="mobile" name="mobile" type="tel" inputmode="tel" autocomplete="tel-national" aria-describedby="mobile-hint" maxlength="20" required>
</div>
<div class="kycvs-field">
<label for="name">{name_label}</label>
<p class="kycvs-hint" id="name-hint">{name_hint}</p>
<input id="name" name="name" type="text" autocomplete="name" aria-describedby="name-hint" maxlength="200" required>
</div>
<button type="submit" id="send-code">{send_code}</button>
</form>
</section>
<section id="step-code" hidden>
<form id="code-form" novalidate>
<div class="kycvs-field">
<label for="code">{code_label}</label>
<p class="kycvs-hint" id="code-hint">{code_hint}</p>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]*" maxlength="6" aria-describedby="code-hint" required>
</div>
<button type="submit" id="confirm">{confirm}</button>
<button type="button" id="new-code" class="kycvs-secondary">{new_code}</button>
</form>
</section>
<section id="step-done" hidden>
<h2 id="done-title" tabindex="-1">{done_title}</h2>
<p>{done_body}</p>
</section>
</main>
</body>
</html>
"##,
        lang = lang.tag(),
        title = escape(t.title),
        origin = escape(&session.origin),
        error_title = escape(t.error_title),
        not_shared = escape(t.not_shared),
        mobile_label = escape(t.mobile_label),
        mobile_hint = escape(t.mobile_hint),
        name_label = escape(t.name_label),
        name_hint = escape(t.name_hint),
        send_code = escape(t.send_code),
        code_label = escape(t.code_label),
        code_hint = escape(t.code_hint),
        confirm = escape(t.confirm),
        new_code = escape(t.new_code),
        done_title = escape(t.done_title),
    )
}

/// `POST /v1/sessions` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSession {
    nonce: String,
    origin: String,
    #[serde(default)]
    lang: Option<String>,
}

fn new_id() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| {
        ApiError::from(kycvs_core::Error::new(
            ErrorCode::RandomSource,
            "the OS random source failed",
        ))
    })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("{}://{host}", if state.tls { "https" } else { "http" })
}

pub(crate) async fn create_session(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<NewSession>, JsonRejection>,
) -> Result<Response, ApiError> {
    let client = admit(&state, peer, &headers).await?;
    let Json(body) = body.or_else(|r| {
        malformed(
            r,
            "the body must be a JSON object with the strings nonce and origin, and optionally lang",
        )
    })?;
    if !is_valid_nonce(&body.nonce) {
        return Err(kycvs_core::Error::new(
            ErrorCode::InvalidArgument,
            "nonce must be 1 to 128 printable ASCII characters",
        )
        .into());
    }
    if !client.origins.contains(&body.origin) {
        return Err(ApiError::service(
            ServiceCode::OriginNotAllowed,
            "the origin is not one registered for this client",
        ));
    }
    let lang = match body.lang.as_deref() {
        None => None,
        Some(tag) => Some(Lang::parse(tag).ok_or_else(|| {
            ApiError::from(kycvs_core::Error::new(
                ErrorCode::InvalidArgument,
                "lang must be \"en\" or \"hi\"",
            ))
        })?),
    };
    let now = unix_now();
    let id = new_id()?;
    let session = Session {
        client_id: client.id.clone(),
        nonce: body.nonce.clone(),
        origin: body.origin.clone(),
        lang,
        expires_at: now + state.session_ttl,
        wrong_codes: 0,
        step: Step::Created,
    };
    let store = state.store.sessions();
    let sid = id.clone();
    let stored = session.clone();
    tokio::task::spawn_blocking(move || store.insert_session(&sid, &stored, now))
        .await
        .map_err(internal)??;
    let url = format!("{}/consent/{id}", base_url(&state, &headers));
    let answer = serde_json::json!({
        "session_id": id,
        "url": url,
        "expires_at": session.expires_at,
    });
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// What a step found in the session store.
enum Found {
    None,
    Expired(String),
    /// The session refused the step: its origin and the language it was opened in.
    Wrong(String, Option<Lang>),
    Ok(Session),
}

/// Runs `f` on a live session (an expired one is removed); `Found::Wrong` when `f` refuses.
async fn with_session(
    state: &Arc<AppState>,
    id: String,
    mut f: impl FnMut(&mut Session) -> Result<StoreAction, ()> + Send + 'static,
) -> Result<Found, ApiError> {
    let store = state.store.sessions();
    let now = unix_now();
    tokio::task::spawn_blocking(move || {
        let mut found = Found::None;
        store.update_session(&id, &mut |session| {
            if now >= session.expires_at {
                found = Found::Expired(session.origin.clone());
                return StoreAction::Remove;
            }
            match f(session) {
                Ok(action) => {
                    found = Found::Ok(session.clone());
                    action
                }
                Err(()) => {
                    found = Found::Wrong(session.origin.clone(), session.lang);
                    StoreAction::Keep
                }
            }
        })?;
        Ok::<Found, kycvs_core::Error>(found)
    })
    .await
    .map_err(internal)?
    .map_err(ApiError::from)
}

pub(crate) async fn page(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let browser = Lang::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    // The page is served once: a reload or a copied link is refused.
    let found = with_session(&state, id.clone(), |s| {
        if s.step == Step::Created {
            s.step = Step::Opened;
            Ok(StoreAction::Keep)
        } else {
            Err(())
        }
    })
    .await;
    match found {
        Ok(Found::Ok(session)) => {
            let lang = session.lang.unwrap_or(browser);
            let name = state
                .clients
                .get(&session.client_id)
                .map(|c| c.name.clone())
                .unwrap_or_default();
            let body = render_page(&id, &session, &name, lang);
            html_response(StatusCode::OK, body, &session.origin)
        }
        Ok(Found::Wrong(origin, lang)) => {
            // A replayed page speaks the language the session chose, as the page did.
            let lang = lang.unwrap_or(browser);
            message_page(lang, StatusCode::CONFLICT, text(lang).session_used, &origin)
        }
        Ok(Found::Expired(origin)) => message_page(
            browser,
            StatusCode::GONE,
            text(browser).session_gone,
            &origin,
        ),
        Ok(Found::None) => message_page(
            browser,
            StatusCode::NOT_FOUND,
            text(browser).session_gone,
            "'none'",
        ),
        Err(e) => e.into_response(),
    }
}

/// Refuses a page call that a browser says comes from another origin than the service's.
fn same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let refused = || {
        ApiError::service(
            ServiceCode::OriginNotAllowed,
            "this call is accepted only from the consent page",
        )
    };
    if headers
        .get("sec-fetch-site")
        .is_some_and(|site| site != "same-origin")
    {
        return Err(refused());
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
        if origin_host != host {
            return Err(refused());
        }
    }
    Ok(())
}

fn session_error(found: Found) -> ApiError {
    match found {
        Found::None => ApiError::service(ServiceCode::SessionNotFound, "no such session"),
        Found::Expired(_) => {
            ApiError::service(ServiceCode::SessionExpired, "the session has ended")
        }
        Found::Wrong(..) | Found::Ok(_) => ApiError::service(
            ServiceCode::SessionUsed,
            "the session cannot take this step now",
        ),
    }
}

/// `POST /v1/sessions/{id}/code` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeBody {
    mobile: String,
    name: String,
}

impl Drop for CodeBody {
    fn drop(&mut self) {
        self.mobile.zeroize();
        self.name.zeroize();
    }
}

pub(crate) async fn session_code(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<CodeBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    same_origin(&headers)?;
    crate::api::limit_address(&state, peer, &headers).await?;
    let Json(body) = body.or_else(|r| {
        malformed(
            r,
            "the body must be a JSON object with the strings mobile and name",
        )
    })?;
    let found = with_session(&state, id.clone(), |s| match s.step {
        Step::Opened | Step::CodeSent { .. } => Ok(StoreAction::Keep),
        _ => Err(()),
    })
    .await?;
    let Found::Ok(session) = found else {
        return Err(session_error(found));
    };
    let client = state
        .clients
        .get(&session.client_id)
        .cloned()
        .ok_or_else(|| ApiError::service(ServiceCode::SessionNotFound, "no such session"))?;
    let request = ConsentRequest {
        mobile: &body.mobile,
        name: &body.name,
        audience: &client.id,
        nonce: &session.nonce,
    };
    let challenge = send_code(&state, &client, &request).await?;
    let consent_id = challenge.0;
    let found = with_session(&state, id, move |s| match s.step {
        Step::Opened | Step::CodeSent { .. } => {
            s.step = Step::CodeSent {
                consent_id: consent_id.clone(),
            };
            s.wrong_codes = 0;
            Ok(StoreAction::Keep)
        }
        _ => Err(()),
    })
    .await?;
    let Found::Ok(_) = found else {
        return Err(session_error(found));
    };
    Ok(Json(serde_json::json!({"expires_at": challenge.1})).into_response())
}

/// `POST /v1/sessions/{id}/verify` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyBody {
    otp: String,
}

impl Drop for VerifyBody {
    fn drop(&mut self) {
        self.otp.zeroize();
    }
}

pub(crate) async fn session_verify(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<VerifyBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    same_origin(&headers)?;
    crate::api::limit_address(&state, peer, &headers).await?;
    let Json(body) =
        body.or_else(|r| malformed(r, "the body must be a JSON object with the string otp"))?;
    let found = with_session(&state, id.clone(), |s| match s.step {
        Step::CodeSent { .. } => Ok(StoreAction::Keep),
        _ => Err(()),
    })
    .await?;
    let Found::Ok(session) = found else {
        return Err(session_error(found));
    };
    let Step::CodeSent { consent_id } = session.step.clone() else {
        return Err(session_error(Found::Ok(session)));
    };
    let work = state.clone();
    let audience = session.client_id.clone();
    let cid = consent_id.clone();
    let now = unix_now();
    let result = tokio::task::spawn_blocking(move || {
        work.completer
            .complete_for_audience(&audience, &cid, &body.otp, now)
    })
    .await
    .map_err(internal)?;
    state
        .metrics
        .outcome("complete", crate::api::outcome_label(&result));
    let max_attempts = state.max_attempts;
    match result {
        Ok(token) => {
            let stored = token.clone();
            let found = with_session(&state, id, move |s| match &s.step {
                Step::CodeSent { consent_id: c } if *c == consent_id => {
                    s.step = Step::Done {
                        token: stored.clone(),
                    };
                    Ok(StoreAction::Keep)
                }
                _ => Err(()),
            })
            .await?;
            let Found::Ok(session) = found else {
                return Err(session_error(found));
            };
            Ok(Json(serde_json::json!({"token": token, "origin": session.origin})).into_response())
        }
        Err(e) if e.code() == ErrorCode::OtpMismatch => {
            let found = with_session(&state, id, |s| {
                s.wrong_codes = s.wrong_codes.saturating_add(1);
                Ok(StoreAction::Keep)
            })
            .await?;
            let left = match found {
                Found::Ok(s) => max_attempts.saturating_sub(s.wrong_codes),
                _ => 0,
            };
            Err(ApiError::from(e).with_attempts_left(left))
        }
        Err(e) => {
            if matches!(
                e.code(),
                ErrorCode::AttemptsExhausted
                    | ErrorCode::ConsentExpired
                    | ErrorCode::ConsentNotFound
            ) {
                // The consent is gone; the person may ask for a new code.
                with_session(&state, id, |s| {
                    s.step = Step::Opened;
                    s.wrong_codes = 0;
                    Ok(StoreAction::Keep)
                })
                .await?;
            }
            Err(e.into())
        }
    }
}

pub(crate) async fn session_token(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let client = authenticate_only(&state, peer, &headers).await?;
    let mut taken: Option<Result<String, ServiceCode>> = None;
    let client_id = client.id.clone();
    let store = state.store.sessions();
    let now = unix_now();
    let found = tokio::task::spawn_blocking(move || {
        let found = store.update_session(&id, &mut |s| {
            if s.client_id != client_id {
                taken = Some(Err(ServiceCode::SessionNotFound));
                return StoreAction::Keep;
            }
            if now >= s.expires_at {
                taken = Some(Err(ServiceCode::SessionExpired));
                return StoreAction::Remove;
            }
            match std::mem::replace(&mut s.step, Step::Collected) {
                Step::Done { token } => {
                    taken = Some(Ok(token.clone()));
                    StoreAction::Keep
                }
                Step::Collected => {
                    taken = Some(Err(ServiceCode::SessionUsed));
                    StoreAction::Keep
                }
                other => {
                    s.step = other;
                    taken = Some(Err(ServiceCode::ConsentPending));
                    StoreAction::Keep
                }
            }
        })?;
        Ok::<_, kycvs_core::Error>((found, taken))
    })
    .await
    .map_err(internal)??;
    match found {
        (false, _) | (true, None) => Err(ApiError::service(
            ServiceCode::SessionNotFound,
            "no such session",
        )),
        (true, Some(Ok(token))) => Ok(Json(serde_json::json!({"token": token})).into_response()),
        (true, Some(Err(code))) => Err(ApiError::service(
            code,
            match code {
                ServiceCode::ConsentPending => "the person has not consented yet; ask again later",
                ServiceCode::SessionUsed => "the token of this session was already collected",
                ServiceCode::SessionExpired => "the session has ended",
                _ => "no such session",
            },
        )),
    }
}

pub(crate) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
        .into_response()
}

pub(crate) async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        STYLE,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_what_it_shows() {
        let session = Session {
            client_id: "c".into(),
            nonce: "PNR\"<b>".into(),
            origin: "https://a.example".into(),
            lang: None,
            expires_at: 1,
            wrong_codes: 0,
            step: Step::Opened,
        };
        let html = render_page("sid", &session, "<script>alert(1)</script>", Lang::En);
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("PNR&quot;&lt;b&gt;"));
        // The one <script> element with content is the JSON data block.
        assert_eq!(html.matches("<script").count(), 2);
        assert!(!html.contains("</script>alert"));
    }

    #[test]
    fn both_languages_have_every_message() {
        let keys = |t: &Text| t.messages.iter().map(|(k, _)| *k).collect::<Vec<_>>();
        assert_eq!(keys(&EN), keys(&HI));
    }
}
