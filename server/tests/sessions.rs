//! Consent sessions and the page over real HTTP: a session per booking, the page served once
//! with its security headers, the page's calls accepted only from its own origin, tries
//! left, the backend collecting the token once, expiry, and both languages.

mod support;

use kycvs_core::{VaccinationStatus, unix_now};
use support::*;

const ORIGIN: &str = "http://127.0.0.1:8000";

fn open_session(s: &Service, client: usize, nonce: &str, lang: Option<&str>) -> Answer {
    let mut body = serde_json::json!({"nonce": nonce, "origin": ORIGIN});
    if let Some(lang) = lang {
        body["lang"] = lang.into();
    }
    s.post("/v1/sessions", Some(s.client(client)), &body)
}

/// A page call as the page's own script makes it (same origin).
fn page_call(s: &Service, sid: &str, step: &str, body: serde_json::Value) -> Answer {
    s.http()
        .post(format!("{}/v1/sessions/{sid}/{step}", s.url))
        .header("origin", &s.url)
        .header("sec-fetch-site", "same-origin")
        .json(&body)
        .send()
        .unwrap()
        .into()
}

fn collect(s: &Service, client: usize, sid: &str) -> Answer {
    s.http()
        .get(format!("{}/v1/sessions/{sid}/token", s.url))
        .header("authorization", s.client(client).header())
        .send()
        .unwrap()
        .into()
}

fn get_page(s: &Service, sid: &str, accept_language: &str) -> Answer {
    s.http()
        .get(format!("{}/consent/{sid}", s.url))
        .header("accept-language", accept_language)
        .send()
        .unwrap()
        .into()
}

#[test]
fn a_session_runs_the_consent_and_the_backend_collects_the_token_once() {
    let s = Service::start(&[]);
    let opened = open_session(&s, 0, "PNR-8841", None);
    assert_eq!(opened.status, 201, "{}", opened.text);
    let sid = opened.json["session_id"].as_str().unwrap().to_owned();
    assert_eq!(opened.json["url"], format!("{}/consent/{sid}", s.url));
    assert_eq!(collect(&s, 0, &sid).code(), "consent_pending");

    let page = get_page(&s, &sid, "en-IN,en;q=0.9");
    assert_eq!(page.status, 200);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.ends_with(&format!("frame-ancestors {ORIGIN}")), "{csp}");
    assert_eq!(page.headers["cache-control"], "no-store");
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
    assert!(page.headers.get("set-cookie").is_none());
    assert!(page.text.contains("<html lang=\"en\">"));
    assert!(page.text.contains("<strong>IRCTC</strong>"));
    assert!(page.text.contains("<strong>PNR-8841</strong>"));
    assert!(page.text.contains("<label for=\"mobile\">"));
    // No inline script: the only script elements are the external one and the JSON data.
    assert_eq!(page.text.matches("<script").count(), 2);
    assert!(
        page.text
            .contains("<script src=\"/static/consent.js\" defer></script>")
    );
    assert!(
        page.text
            .contains("<script type=\"application/json\" id=\"kycvs-messages\">")
    );

    let sent = page_call(
        &s,
        &sid,
        "code",
        serde_json::json!({"mobile": FULL.mobile, "name": FULL.name}),
    );
    assert_eq!(sent.status, 200, "{}", sent.text);
    let otp = s.last_otp();
    assert!(s.sms().last().unwrap().1.contains("IRCTC"));
    let wrong = format!("{:06}", (otp.parse::<u32>().unwrap() + 1) % 1_000_000);
    let miss = page_call(&s, &sid, "verify", serde_json::json!({"otp": wrong}));
    assert_eq!((miss.status, miss.code()), (422, "otp_mismatch"));
    assert_eq!(miss.json["attempts_left"], 2);
    let miss = page_call(&s, &sid, "verify", serde_json::json!({"otp": wrong}));
    assert_eq!(miss.json["attempts_left"], 1);
    let done = page_call(&s, &sid, "verify", serde_json::json!({"otp": otp}));
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.json["origin"], ORIGIN);
    let token = done.json["token"].as_str().unwrap().to_owned();

    // Another client cannot collect it; the owner collects it exactly once.
    assert_eq!(collect(&s, 1, &sid).code(), "session_not_found");
    let collected = collect(&s, 0, &sid);
    assert_eq!(collected.status, 200);
    assert_eq!(collected.json["token"], token.as_str());
    let again = collect(&s, 0, &sid);
    assert_eq!((again.status, again.code()), (409, "session_used"));
    let v = s
        .verifier(0)
        .verify(&token, "PNR-8841", unix_now())
        .unwrap();
    assert_eq!(v.status(), VaccinationStatus::FullyVaccinated);
    // Nothing more happens in a finished session.
    let late = page_call(
        &s,
        &sid,
        "code",
        serde_json::json!({"mobile": FULL.mobile, "name": FULL.name}),
    );
    assert_eq!((late.status, late.code()), (409, "session_used"));
}

#[test]
fn the_page_is_served_once_and_unknown_sessions_cannot_be_framed() {
    let s = Service::start(&[]);
    let sid = open_session(&s, 0, "PNR-1", None).json["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(get_page(&s, &sid, "en").status, 200);
    let replay = get_page(&s, &sid, "en");
    assert_eq!(replay.status, 409);
    assert!(replay.text.contains("already been used"), "{}", replay.text);
    assert!(
        replay.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .ends_with(&format!("frame-ancestors {ORIGIN}"))
    );
    let unknown = get_page(&s, "AAAAAAAAAAAAAAAAAAAAAA", "en");
    assert_eq!(unknown.status, 404);
    assert!(
        unknown.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .ends_with("frame-ancestors 'none'")
    );
}

#[test]
fn a_replayed_page_speaks_the_language_the_session_chose() {
    let s = Service::start(&[]);
    let sid = open_session(&s, 0, "PNR-HI", Some("hi")).json["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(get_page(&s, &sid, "en").status, 200);
    let replay = get_page(&s, &sid, "en");
    assert_eq!(replay.status, 409);
    assert!(
        replay.text.contains("<html lang=\"hi\">"),
        "{}",
        replay.text
    );
    assert!(
        replay.text.contains("इस पेज का उपयोग हो चुका है"),
        "{}",
        replay.text
    );
}

#[test]
fn sessions_are_only_for_registered_origins_and_valid_nonces() {
    let s = Service::start(&[]);
    let body = |origin: &str, nonce: &str| serde_json::json!({"nonce": nonce, "origin": origin});
    let none = s.post("/v1/sessions", None, &body(ORIGIN, "n"));
    assert_eq!(none.code(), "unauthorized");
    let other = s.post(
        "/v1/sessions",
        Some(s.client(0)),
        &body("https://evil.example", "n"),
    );
    assert_eq!((other.status, other.code()), (403, "origin_not_allowed"));
    let nonce = s.post("/v1/sessions", Some(s.client(0)), &body(ORIGIN, ""));
    assert_eq!((nonce.status, nonce.code()), (400, "invalid_argument"));
    let lang = open_session(&s, 0, "n", Some("fr"));
    assert_eq!((lang.status, lang.code()), (400, "invalid_argument"));
}

#[test]
fn page_calls_from_another_origin_are_refused() {
    let s = Service::start(&[]);
    let sid = open_session(&s, 0, "PNR-2", None).json["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    get_page(&s, &sid, "en");
    let body = serde_json::json!({"mobile": FULL.mobile, "name": FULL.name});
    for (origin, site) in [
        ("https://evil.example", "cross-site"),
        (s.url.as_str(), "cross-site"),
    ] {
        let answer: Answer = s
            .http()
            .post(format!("{}/v1/sessions/{sid}/code", s.url))
            .header("origin", origin)
            .header("sec-fetch-site", site)
            .json(&body)
            .send()
            .unwrap()
            .into();
        assert_eq!((answer.status, answer.code()), (403, "origin_not_allowed"));
    }
    assert!(s.sms().is_empty());
    // A code for a session whose page was never opened is refused too.
    let fresh = open_session(&s, 0, "PNR-3", None).json["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let early = page_call(&s, &fresh, "code", body);
    assert_eq!((early.status, early.code()), (409, "session_used"));
}

#[test]
fn an_expired_session_is_refused_everywhere() {
    let s = Service::start(&[("[store]", "[consent]\nsession_ttl_s = 1\n\n[store]")]);
    let opened = open_session(&s, 0, "PNR-4", None);
    let sid = opened.json["session_id"].as_str().unwrap().to_owned();
    let expires_at = opened.json["expires_at"].as_u64().unwrap();
    while unix_now() < expires_at {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let page = get_page(&s, &sid, "en");
    assert_eq!(page.status, 410);
    assert!(page.text.contains("expired"));
    assert_eq!(collect(&s, 0, &sid).code(), "session_not_found");
}

#[test]
fn the_page_speaks_hindi_when_asked_by_the_session_or_the_browser() {
    let s = Service::start(&[]);
    let by_session = open_session(&s, 0, "PNR-5", Some("hi")).json["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = get_page(&s, &by_session, "en");
    assert!(page.text.contains("<html lang=\"hi\">"));
    assert!(page.text.contains("मोबाइल नंबर"));
    let by_browser = open_session(&s, 0, "PNR-6", None).json["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = get_page(&s, &by_browser, "hi-IN,hi;q=0.9,en;q=0.5");
    assert!(page.text.contains("<html lang=\"hi\">"));
    assert!(page.text.contains("कोड भेजें"));
}

#[test]
fn the_static_assets_are_served_with_their_types() {
    let s = Service::start(&[]);
    let js = s.get("/static/consent.js");
    assert_eq!(js.status, 200);
    assert!(
        js.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(js.text.contains("postMessage(message, origin)"));
    assert!(!js.text.contains("\"*\""), "never postMessage to *");
    let css = s.get("/static/consent.css");
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}
