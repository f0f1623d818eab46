//! docs/openapi.yaml against the service it documents: the same routes as
//! `kycvs_server::api::ROUTES`, the same error codes as `Code::all()`, every error status the
//! one status mapping gives its codes; then the real binary, driven down every path a test
//! can reach, answers only documented statuses with bodies and headers that validate against
//! the documented schemas, takes exactly the request bodies the document describes, and
//! exercises every documented status except the few listed as out of a test's reach.

mod support;

use kycvs_server::api::ROUTES;
use kycvs_server::error::Code;
use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::Path;
use support::*;

const DOCUMENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml");

/// Statuses the document names that no test run can provoke on a healthy loopback service:
/// a failing random source or SQLite file, a panic, a timeout of a route that does no I/O.
/// The routes that take client credentials.
const CLIENT_ROUTES: [(&str, &str); 4] = [
    ("POST", "/v1/consents"),
    ("POST", "/v1/consents/{consent_id}/complete"),
    ("POST", "/v1/sessions"),
    ("GET", "/v1/sessions/{session_id}/token"),
];

const UNEXERCISED: &[(&str, &str, u16)] = &[
    ("POST", "/v1/sessions", 429),
    ("POST", "/v1/sessions", 500),
    ("POST", "/v1/sessions", 503),
    ("GET", "/consent/{session_id}", 500),
    ("GET", "/consent/{session_id}", 503),
    ("POST", "/v1/sessions/{session_id}/code", 500),
    ("POST", "/v1/sessions/{session_id}/code", 502),
    ("POST", "/v1/sessions/{session_id}/code", 503),
    ("POST", "/v1/sessions/{session_id}/verify", 500),
    ("POST", "/v1/sessions/{session_id}/verify", 503),
    ("POST", "/v1/sessions/{session_id}/verify", 429),
    ("GET", "/v1/sessions/{session_id}/token", 429),
    ("GET", "/v1/sessions/{session_id}/token", 500),
    ("GET", "/v1/sessions/{session_id}/token", 503),
    ("GET", "/static/consent.js", 503),
    ("GET", "/static/consent.css", 503),
    ("POST", "/v1/consents", 500),
    ("POST", "/v1/consents/{consent_id}/complete", 500),
    ("POST", "/v1/consents/{consent_id}/complete", 503),
    ("GET", "/.well-known/jwks.json", 503),
    ("GET", "/.well-known/kycvs-trust-bundle.jws", 503),
    ("GET", "/healthz", 503),
    ("GET", "/readyz", 500),
    ("GET", "/readyz", 503),
    ("GET", "/metrics", 503),
];

fn document() -> Value {
    let text = std::fs::read_to_string(DOCUMENT).unwrap();
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{DOCUMENT}: {e}"))
}

/// Follows a local `$ref` (`#/components/...`) in the document, once.
fn resolve<'a>(doc: &'a Value, item: &'a Value) -> &'a Value {
    match item.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("not a local reference: {reference}"));
            doc.pointer(pointer)
                .unwrap_or_else(|| panic!("{reference} points at nothing"))
        }
        None => item,
    }
}

/// A validator for `schema`, whose `$ref`s into `#/components/...` resolve in the document.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    });
    jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{schema}: {e}"))
}

fn errors_of(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Every operation of the document as (METHOD, path, operation object).
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            found.push((method.to_ascii_uppercase(), path.clone(), operation));
        }
    }
    found
}

/// The error codes a documented error response lists: the `error` enum of the second part of
/// `allOf: [{$ref: Error}, {properties: {error: {enum}}}]`.
fn listed_codes(doc: &Value, response: &Value) -> Vec<String> {
    let schema = &resolve(doc, response)["content"]["application/json"]["schema"];
    let parts = schema["allOf"]
        .as_array()
        .unwrap_or_else(|| panic!("an error response is allOf [Error, codes]: {schema}"));
    assert_eq!(parts.len(), 2, "{schema}");
    assert_eq!(parts[0]["$ref"], "#/components/schemas/Error", "{schema}");
    parts[1]["properties"]["error"]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("no code list: {schema}"))
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_document_names_every_route_and_code_with_the_status_the_service_answers() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));

    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();
    assert_eq!(
        documented, served,
        "docs/openapi.yaml and api::ROUTES differ"
    );

    let enumerated: Vec<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let codes: Vec<&str> = Code::all().map(Code::as_str).collect();
    assert_eq!(
        enumerated, codes,
        "the ErrorCode enum is not Code::all() in order"
    );

    for (method, path, operation) in operations(&doc) {
        let responses = operation["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{method} {path} documents no success"
        );
        for (status, response) in responses {
            let status: u16 = status.parse().unwrap();
            // The consent page's refusals are pages for people, not error objects.
            let html_page = resolve(&doc, response)["content"]
                .get("application/json")
                .is_none()
                && path == "/consent/{session_id}";
            if status < 400 || html_page {
                continue;
            }
            let listed = listed_codes(&doc, response);
            assert!(!listed.is_empty(), "{method} {path} {status} lists no code");
            for name in listed {
                let code = Code::all()
                    .find(|c| c.as_str() == name)
                    .unwrap_or_else(|| panic!("{method} {path} {status}: no code {name}"));
                assert_eq!(
                    code.status().as_u16(),
                    status,
                    "{method} {path} lists {name} under {status}; the service answers it with {}",
                    code.status()
                );
            }
        }
        // The client routes take client credentials (and say 401); the page's own calls and
        // the public documents take none.
        let authenticated =
            CLIENT_ROUTES.contains(&(method.to_ascii_uppercase().as_str(), path.as_str()));
        let security = operation["security"].as_array().unwrap();
        assert_eq!(
            security.as_slice() == [json!({"clientBasic": []})],
            authenticated,
            "{method} {path} security {security:?}"
        );
        assert!(security.len() <= 1);
        assert_eq!(
            responses.contains_key("401"),
            authenticated,
            "{method} {path}"
        );
    }
}

/// What a request sends as its body.
enum Body {
    None,
    Json(Value),
    Raw(Vec<u8>, &'static str),
}

/// Sends requests to a real service and checks each answer against the document.
struct Checker {
    doc: Value,
    seen: RefCell<BTreeSet<(String, String, u16)>>,
}

impl Checker {
    fn new() -> Checker {
        Checker {
            doc: document(),
            seen: RefCell::new(BTreeSet::new()),
        }
    }

    /// Sends `method` `url_path` (an instance of the route `route`) with `body`, as `client`
    /// when given, checks the answer against the route's documentation, and returns it.
    fn call(
        &self,
        s: &Service,
        client: Option<&Credentials>,
        method: &str,
        route: &str,
        url_path: &str,
        body: Body,
    ) -> Answer {
        let url = format!("{}{url_path}", s.url);
        let sent_json = match &body {
            Body::Json(v) => Some(v.clone()),
            Body::Raw(bytes, content_type) if *content_type == "application/json" => {
                serde_json::from_slice(bytes).ok()
            }
            _ => None,
        };
        let (bytes, content_type) = match body {
            Body::None => (None, None),
            Body::Json(v) => (Some(v.to_string().into_bytes()), Some("application/json")),
            Body::Raw(bytes, content_type) => (Some(bytes), Some(content_type)),
        };
        // A body over the limit is refused before it is read; the server then closes the
        // connection and the client may lose the answer to the reset. Only such a request
        // is sent again, so that nothing is counted twice.
        let oversized = bytes.as_ref().is_some_and(|b| b.len() > 4_096);
        let mut attempts = 0;
        let answer = loop {
            let mut request = match method {
                "GET" => s.http().get(&url),
                "POST" => s.http().post(&url),
                _ => unreachable!(),
            };
            if let Some(client) = client {
                request = request.header("authorization", client.header());
            }
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            if let Some(bytes) = &bytes {
                request = request.body(bytes.clone());
            }
            attempts += 1;
            match request.send() {
                Ok(response) => break Answer::from(response),
                Err(e) if oversized && attempts < 10 => eprintln!("sent again after {e}"),
                Err(e) => panic!("{method} {url_path}: {e}"),
            }
        };
        self.check(method, route, &answer);
        self.check_request_body(method, route, sent_json.as_ref(), &answer);
        answer
    }

    fn check(&self, method: &str, route: &str, answer: &Answer) {
        let doc = &self.doc;
        let operation = &doc["paths"][route][method.to_ascii_lowercase()];
        assert!(operation.is_object(), "{method} {route} is not documented");
        let status = answer.status;
        let response = operation["responses"]
            .get(status.to_string())
            .map(|r| resolve(doc, r))
            .unwrap_or_else(|| {
                panic!(
                    "{method} {route} answered {status}, which docs/openapi.yaml does not \
                     document for it: {}",
                    answer.text
                )
            });
        let media_type = answer
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap().trim().to_owned())
            .unwrap_or_default();
        let content = &response["content"];
        assert!(
            content.get(&media_type).is_some(),
            "{method} {route} {status} answered {media_type:?}; documented: {content}"
        );
        if media_type == "application/json" {
            let schema = &content[&media_type]["schema"];
            let problems = errors_of(&validator(doc, schema), &answer.json);
            assert!(
                problems.is_empty(),
                "{method} {route} {status} body {} does not validate: {problems:?}",
                answer.text
            );
        }
        if let Some(headers) = response["headers"].as_object() {
            for (name, header) in headers {
                let value = answer
                    .headers
                    .get(name.as_str())
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_else(|| panic!("{method} {route} {status}: no {name} header"));
                let problems = errors_of(&validator(doc, &header["schema"]), &json!(value));
                assert!(
                    problems.is_empty(),
                    "{method} {route} {status} {name}: {value}: {problems:?}"
                );
            }
        }
        self.seen
            .borrow_mut()
            .insert((method.to_owned(), route.to_owned(), status));
    }

    /// A JSON body the service parsed must match the documented request schema, and one it
    /// refused as `malformed_request` must not.
    fn check_request_body(&self, method: &str, route: &str, sent: Option<&Value>, answer: &Answer) {
        let doc = &self.doc;
        let operation = &doc["paths"][route][method.to_ascii_lowercase()];
        let Some(body) = operation.get("requestBody") else {
            return;
        };
        let Some(sent) = sent else { return };
        let schema = &body["content"]["application/json"]["schema"];
        let valid = errors_of(&validator(doc, schema), sent).is_empty();
        match answer.code() {
            "malformed_request" => assert!(
                !valid,
                "{method} {route}: the service refused {sent} as malformed, the document takes it"
            ),
            // Refused before the body was read.
            "unauthorized" | "too_many_requests" | "payload_too_large" => {}
            _ => assert!(
                valid,
                "{method} {route}: the service took {sent} ({}), the document refuses it",
                answer.status
            ),
        }
    }

    /// Any answer outside the documented routes: an error body with `code`.
    fn check_unrouted(&self, answer: &Answer, status: u16, code: &str) {
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{}",
            answer.text
        );
        let schema = json!({"$ref": "#/components/schemas/Error"});
        let problems = errors_of(&validator(&self.doc, &schema), &answer.json);
        assert!(problems.is_empty(), "{}: {problems:?}", answer.text);
    }
}

const BEGIN: &str = "/v1/consents";
const COMPLETE: &str = "/v1/consents/{consent_id}/complete";

fn complete_path(id: &str) -> String {
    format!("/v1/consents/{id}/complete")
}

fn begin_body(mobile: &str, name: &str, nonce: &str) -> Body {
    Body::Json(json!({"mobile": mobile, "name": name, "nonce": nonce}))
}

fn otp_body(otp: &str) -> Body {
    Body::Json(json!({"otp": otp}))
}

fn expect(answer: &Answer, status: u16, code: &str) {
    assert_eq!(
        (answer.status, answer.code()),
        (status, code),
        "{}",
        answer.text
    );
}

fn begin_ok(c: &Checker, s: &Service, client: usize, mobile: &str, name: &str) -> String {
    let answer = c.call(
        s,
        Some(s.client(client)),
        "POST",
        BEGIN,
        BEGIN,
        begin_body(mobile, name, "PNR-doc"),
    );
    assert_eq!(answer.status, 201, "{}", answer.text);
    answer.json["consent_id"].as_str().unwrap().to_owned()
}

fn program(dir: &Path, name: &str, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

const LOG_SMS: &str = "sender = \"log\"\npath = \"state/sms.log\"";

#[test]
fn the_real_service_answers_only_what_the_document_says() {
    let c = Checker::new();
    let tools = tempfile::tempdir().unwrap();

    // A service with small per-mobile limits and a trust bundle.
    let root = kycvs_core::SigningKey::generate().unwrap();
    let issuer_key = kycvs_core::SigningKey::generate().unwrap();
    let mut keys = kycvs_core::TrustStore::new();
    keys.add(issuer_key.public_key().clone(), ISSUER).unwrap();
    let now = kycvs_core::unix_now();
    let terms = kycvs_core::BundleTerms {
        sequence: 1,
        issued_at: now,
        expires_at: now + 86_400,
        default_key_window: Some(kycvs_core::KeyWindow::new(now, now + 86_400).unwrap()),
    };
    let bundle = kycvs_core::TrustBundle::new(&keys, &terms)
        .unwrap()
        .sign(&root)
        .unwrap();
    let bundle_path = tools.path().join("bundle.jws");
    std::fs::write(&bundle_path, &bundle).unwrap();
    let with_bundle = format!(
        "registry = \"sample\"\ntrust_bundle = \"{}\"",
        bundle_path.display()
    );
    let s = Service::start(&[
        ("registry = \"sample\"", with_bundle.as_str()),
        (
            "[store]",
            "[consent]\nrate_limit = 2\nmax_attempts = 2\n\n[store]",
        ),
    ]);
    let me = Some(s.client(0));

    // The flow, and each refusal of complete.
    let id = begin_ok(&c, &s, 0, FULL.mobile, FULL.name);
    let otp = s.last_otp();
    let wrong = format!("{:06}", (otp.parse::<u32>().unwrap() + 1) % 1_000_000);
    let theirs = c.call(
        &s,
        Some(s.client(1)),
        "POST",
        COMPLETE,
        &complete_path(&id),
        otp_body(&otp),
    );
    expect(&theirs, 404, "consent_not_found");
    let mismatch = c.call(
        &s,
        me,
        "POST",
        COMPLETE,
        &complete_path(&id),
        otp_body(&wrong),
    );
    expect(&mismatch, 422, "otp_mismatch");
    let done = c.call(
        &s,
        me,
        "POST",
        COMPLETE,
        &complete_path(&id),
        otp_body(&otp),
    );
    assert_eq!(done.status, 200, "{}", done.text);
    let used = c.call(
        &s,
        me,
        "POST",
        COMPLETE,
        &complete_path(&id),
        otp_body(&otp),
    );
    expect(&used, 404, "consent_not_found");

    let id = begin_ok(&c, &s, 0, FULL.mobile, FULL.name);
    c.call(
        &s,
        me,
        "POST",
        COMPLETE,
        &complete_path(&id),
        otp_body("000000x"),
    );
    let exhausted = c.call(&s, me, "POST", COMPLETE, &complete_path(&id), otp_body("x"));
    expect(&exhausted, 410, "attempts_exhausted");

    let id = begin_ok(&c, &s, 0, "7770992361", "ಮಂಜುನಾಥ ಹೆಗ್ಡೆ");
    let refused = c.call(
        &s,
        me,
        "POST",
        COMPLETE,
        &complete_path(&id),
        otp_body(&s.last_otp()),
    );
    expect(&refused, 422, "unknown_product");

    // Consent ids that cannot be one, as path segments.
    for path in [
        complete_path("AAAAAAAAAAAAAAAAAAAAAA"),
        complete_path(&"A".repeat(300)),
        complete_path("%FF%FE"),
        complete_path("a%2Fb"),
    ] {
        let answer = c.call(&s, me, "POST", COMPLETE, &path, otp_body("123456"));
        expect(&answer, 404, "consent_not_found");
    }

    // Begin's refusals: argument forms, then the per-mobile rate limit (2 here).
    let bad_mobile = c.call(&s, me, "POST", BEGIN, BEGIN, begin_body("12345", "x", "n"));
    expect(&bad_mobile, 400, "invalid_mobile");
    let bad_nonce = c.call(
        &s,
        me,
        "POST",
        BEGIN,
        BEGIN,
        begin_body(FULL.mobile, "x", ""),
    );
    expect(&bad_nonce, 400, "invalid_argument");
    begin_ok(&c, &s, 0, PARTIAL.mobile, PARTIAL.name);
    begin_ok(&c, &s, 0, PARTIAL.mobile, PARTIAL.name);
    let limited = c.call(
        &s,
        me,
        "POST",
        BEGIN,
        BEGIN,
        begin_body(PARTIAL.mobile, PARTIAL.name, "n"),
    );
    expect(&limited, 429, "rate_limited");

    // Bodies and credentials, on both consent routes.
    let some_id = complete_path("AAAAAAAAAAAAAAAAAAAAAA");
    for (route, path) in [(BEGIN, BEGIN), (COMPLETE, some_id.as_str())] {
        let malformed: [Body; 7] = [
            Body::Raw(b"{".to_vec(), "application/json"),
            Body::Raw(b"[]".to_vec(), "application/json"),
            Body::Json(json!({})),
            Body::Json(json!({"mobile": 9556719886u64, "name": "x", "nonce": "n", "otp": 1})),
            Body::Json(json!({"mobile": "9556719886", "name": "x", "nonce": "n", "extra": 1})),
            Body::Json(json!({"otp": "123456", "extra": true})),
            Body::Json(json!({"otp": null})),
        ];
        for body in malformed {
            let answer = c.call(&s, me, "POST", route, path, body);
            expect(&answer, 400, "malformed_request");
        }
        let text = c.call(
            &s,
            me,
            "POST",
            route,
            path,
            Body::Raw(b"{}".to_vec(), "text/plain"),
        );
        expect(&text, 415, "unsupported_media_type");
        let missing = c.call(&s, me, "POST", route, path, Body::None);
        expect(&missing, 415, "unsupported_media_type");
        let large = c.call(
            &s,
            me,
            "POST",
            route,
            path,
            Body::Raw(vec![b' '; 64 * 1024], "application/json"),
        );
        expect(&large, 413, "payload_too_large");
        let mut wrong = s.client(0).clone();
        wrong.secret.push('x');
        let stranger = Credentials {
            id: "stranger.example".into(),
            secret: s.client(0).secret.clone(),
        };
        for client in [None, Some(&wrong), Some(&stranger)] {
            let body = begin_body(FULL.mobile, FULL.name, "n");
            let answer = c.call(&s, client, "POST", route, path, body);
            expect(&answer, 401, "unauthorized");
        }
    }

    // The operating routes.
    for route in ["/.well-known/jwks.json", "/healthz", "/readyz", "/metrics"] {
        let answer = c.call(&s, None, "GET", route, route, Body::None);
        assert_eq!(answer.status, 200, "{route}: {}", answer.text);
    }
    let served = c.call(
        &s,
        None,
        "GET",
        "/.well-known/kycvs-trust-bundle.jws",
        "/.well-known/kycvs-trust-bundle.jws",
        Body::None,
    );
    assert_eq!(served.status, 200);
    assert_eq!(served.text, bundle);

    // Outside the routes: the same error body.
    c.check_unrouted(&s.get("/v1/nothing"), 404, "not_found");
    c.check_unrouted(&s.get(BEGIN), 405, "method_not_allowed");
    drop(s);

    // No trust bundle; a consent that expires (1 s).
    let s = Service::start(&[("[store]", "[consent]\notp_ttl_s = 1\n\n[store]")]);
    let bundle = "/.well-known/kycvs-trust-bundle.jws";
    let none = c.call(&s, None, "GET", bundle, bundle, Body::None);
    expect(&none, 404, "not_found");
    let begun = c.call(
        &s,
        Some(s.client(0)),
        "POST",
        BEGIN,
        BEGIN,
        begin_body(FULL.mobile, FULL.name, "n"),
    );
    let id = begun.json["consent_id"].as_str().unwrap().to_owned();
    let expires_at = begun.json["expires_at"].as_u64().unwrap();
    while kycvs_core::unix_now() < expires_at {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let late = c.call(
        &s,
        Some(s.client(0)),
        "POST",
        COMPLETE,
        &complete_path(&id),
        otp_body(&s.last_otp()),
    );
    expect(&late, 410, "consent_expired");
    drop(s);

    // A store for one consent, and a client allowed four requests.
    let s = Service::start(&[
        (
            "path = \"state/consents.db\"",
            "path = \"state/consents.db\"\ncapacity = 1",
        ),
        (
            "[store]",
            "[limits]\nper_client = { requests = 4, window_s = 3600 }\n\n[store]",
        ),
    ]);
    let me = Some(s.client(0));
    begin_ok(&c, &s, 0, FULL.mobile, FULL.name);
    let full = c.call(
        &s,
        me,
        "POST",
        BEGIN,
        BEGIN,
        begin_body(PARTIAL.mobile, PARTIAL.name, "n"),
    );
    expect(&full, 503, "consent_store_full");
    c.call(&s, me, "POST", COMPLETE, &some_id, otp_body("123456"));
    c.call(&s, me, "POST", COMPLETE, &some_id, otp_body("123456"));
    for (route, path) in [(BEGIN, BEGIN), (COMPLETE, some_id.as_str())] {
        let answer = c.call(
            &s,
            me,
            "POST",
            route,
            path,
            begin_body(FULL.mobile, FULL.name, "n"),
        );
        expect(&answer, 429, "too_many_requests");
    }
    drop(s);

    // An SMS command that fails, then one slower than the request timeout.
    let fail = program(tools.path(), "fail.sh", "cat > /dev/null; exit 3");
    let s = Service::start(&[(
        LOG_SMS,
        &format!("sender = \"command\"\nprogram = \"{fail}\""),
    )]);
    let failed = c.call(
        &s,
        Some(s.client(0)),
        "POST",
        BEGIN,
        BEGIN,
        begin_body(FULL.mobile, FULL.name, "n"),
    );
    expect(&failed, 502, "otp_delivery_failed");
    drop(s);
    let slow = program(tools.path(), "slow.sh", "cat > /dev/null; sleep 2");
    let s = Service::start(&[
        (
            LOG_SMS,
            &format!("sender = \"command\"\nprogram = \"{slow}\""),
        ),
        (
            "listen = \"127.0.0.1:0\"",
            "listen = \"127.0.0.1:0\"\nrequest_timeout_ms = 200",
        ),
    ]);
    let slow = c.call(
        &s,
        Some(s.client(0)),
        "POST",
        BEGIN,
        BEGIN,
        begin_body(FULL.mobile, FULL.name, "n"),
    );
    expect(&slow, 503, "timeout");
    drop(s);

    sessions(&c);

    // Every documented status was seen, but for those no test can provoke.
    let doc = &c.doc;
    let documented: BTreeSet<(String, String, u16)> = operations(doc)
        .into_iter()
        .flat_map(|(method, path, operation)| {
            operation["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(|status| (method.clone(), path.clone(), status.parse().unwrap()))
                .collect::<Vec<_>>()
        })
        .collect();
    let unexercised: BTreeSet<(String, String, u16)> = UNEXERCISED
        .iter()
        .map(|(m, p, s)| (m.to_string(), p.to_string(), *s))
        .collect();
    let seen = c.seen.borrow();
    let missed: Vec<_> = documented
        .difference(&seen)
        .filter(|k| !unexercised.contains(*k))
        .collect();
    assert!(missed.is_empty(), "documented, never answered: {missed:?}");
    let stale: Vec<_> = unexercised.intersection(&seen).collect();
    assert!(
        stale.is_empty(),
        "answered, yet listed as out of reach: {stale:?}"
    );
    assert!(unexercised.is_subset(&documented));
}

/// docs/SPEC.md §12.4's table, `| status | `code`, … |`, gives every code exactly once, with
/// the status the service answers it with.
#[test]
fn the_specification_table_gives_each_code_its_status() {
    let spec =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/SPEC.md")).unwrap();
    let section = spec
        .split("\n### 12.4 ")
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .expect("docs/SPEC.md has a section 12.4");
    let mut listed = Vec::new();
    for row in section.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let Ok(status) = cells[1].parse::<u16>() else {
            continue;
        };
        let names = cells[2].split('`').skip(1).step_by(2);
        for name in names {
            let code = Code::all()
                .find(|c| c.as_str() == name)
                .unwrap_or_else(|| panic!("SPEC §12.4 names no code {name}"));
            assert_eq!(
                code.status().as_u16(),
                status,
                "SPEC §12.4 puts {name} under {status}; the service answers it with {}",
                code.status()
            );
            listed.push(name.to_owned());
        }
    }
    let mut sorted = listed.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        listed.len(),
        "a code is listed twice: {listed:?}"
    );
    let mut all: Vec<String> = Code::all().map(|c| c.as_str().to_owned()).collect();
    all.sort();
    assert_eq!(sorted, all, "SPEC §12.4 does not list every code once");
}

/// The consent page's routes, driven down their reachable paths.
fn sessions(c: &Checker) {
    const SESSIONS: &str = "/v1/sessions";
    const PAGE: &str = "/consent/{session_id}";
    const CODE: &str = "/v1/sessions/{session_id}/code";
    const VERIFY: &str = "/v1/sessions/{session_id}/verify";
    const TOKEN: &str = "/v1/sessions/{session_id}/token";
    let s = Service::start(&[(
        "[store]",
        "[consent]\nmax_attempts = 2\nrate_limit = 3\nsession_ttl_s = 2\n\n[store]",
    )]);
    let me = Some(s.client(0));
    let origin = "http://127.0.0.1:8000";
    let open = |nonce: &str| -> String {
        let answer = c.call(
            &s,
            me,
            "POST",
            SESSIONS,
            SESSIONS,
            Body::Json(json!({"nonce": nonce, "origin": origin})),
        );
        expect(&answer, 201, "");
        answer.json["session_id"].as_str().unwrap().to_owned()
    };
    let at = |id: &str, step: &str| format!("/v1/sessions/{id}/{step}");
    let page = |id: &str| format!("/consent/{id}");
    // Opening sessions: refusals.
    expect(
        &c.call(
            &s,
            None,
            "POST",
            SESSIONS,
            SESSIONS,
            Body::Json(json!({"nonce": "n", "origin": origin})),
        ),
        401,
        "unauthorized",
    );
    expect(
        &c.call(
            &s,
            me,
            "POST",
            SESSIONS,
            SESSIONS,
            Body::Json(json!({"nonce": "n", "origin": "https://evil.example"})),
        ),
        403,
        "origin_not_allowed",
    );
    expect(
        &c.call(
            &s,
            me,
            "POST",
            SESSIONS,
            SESSIONS,
            Body::Json(json!({"nonce": "", "origin": origin})),
        ),
        400,
        "invalid_argument",
    );
    expect(
        &c.call(
            &s,
            me,
            "POST",
            SESSIONS,
            SESSIONS,
            Body::Json(json!({"nonce": "n"})),
        ),
        400,
        "malformed_request",
    );
    expect(
        &c.call(
            &s,
            me,
            "POST",
            SESSIONS,
            SESSIONS,
            Body::Raw(b"{}".to_vec(), "text/plain"),
        ),
        415,
        "unsupported_media_type",
    );
    expect(
        &c.call(
            &s,
            me,
            "POST",
            SESSIONS,
            SESSIONS,
            Body::Raw(vec![b' '; 8192], "application/json"),
        ),
        413,
        "payload_too_large",
    );
    // One session through the page, with every refusal on the way.
    let id = open("PNR-1");
    expect(
        &c.call(&s, me, "GET", TOKEN, &at(&id, "token"), Body::None),
        409,
        "consent_pending",
    );
    expect(
        &c.call(&s, None, "GET", TOKEN, &at(&id, "token"), Body::None),
        401,
        "unauthorized",
    );
    expect(
        &c.call(
            &s,
            Some(s.client(1)),
            "GET",
            TOKEN,
            &at(&id, "token"),
            Body::None,
        ),
        404,
        "session_not_found",
    );
    let code = |id: &str, mobile: &str, name: &str| {
        c.call(
            &s,
            None,
            "POST",
            CODE,
            &at(id, "code"),
            Body::Json(json!({"mobile": mobile, "name": name})),
        )
    };
    expect(&code(&id, FULL.mobile, FULL.name), 409, "session_used");
    assert_eq!(
        c.call(&s, None, "GET", PAGE, &page(&id), Body::None).status,
        200
    );
    assert_eq!(
        c.call(&s, None, "GET", PAGE, &page(&id), Body::None).status,
        409
    );
    assert_eq!(
        c.call(
            &s,
            None,
            "GET",
            PAGE,
            &page("AAAAAAAAAAAAAAAAAAAAAA"),
            Body::None
        )
        .status,
        404
    );
    expect(
        &code("AAAAAAAAAAAAAAAAAAAAAA", FULL.mobile, FULL.name),
        404,
        "session_not_found",
    );
    expect(&code(&id, "123", FULL.name), 400, "invalid_mobile");
    expect(
        &c.call(
            &s,
            None,
            "POST",
            CODE,
            &at(&id, "code"),
            Body::Json(json!({"mobile": FULL.mobile})),
        ),
        400,
        "malformed_request",
    );
    expect(
        &c.call(
            &s,
            None,
            "POST",
            CODE,
            &at(&id, "code"),
            Body::Raw(b"{}".to_vec(), "text/plain"),
        ),
        415,
        "unsupported_media_type",
    );
    expect(
        &c.call(
            &s,
            None,
            "POST",
            CODE,
            &at(&id, "code"),
            Body::Raw(vec![b' '; 8192], "application/json"),
        ),
        413,
        "payload_too_large",
    );
    let verify = |id: &str, otp: &str| {
        c.call(
            &s,
            None,
            "POST",
            VERIFY,
            &at(id, "verify"),
            Body::Json(json!({"otp": otp})),
        )
    };
    expect(&verify(&id, "123456"), 409, "session_used");
    expect(&code(&id, FULL.mobile, FULL.name), 200, "");
    let otp = s.last_otp();
    let wrong = format!("{:06}", (otp.parse::<u32>().unwrap() + 1) % 1_000_000);
    let miss = verify(&id, &wrong);
    expect(&miss, 422, "otp_mismatch");
    assert_eq!(miss.json["attempts_left"], 1);
    expect(&verify(&id, &wrong), 410, "attempts_exhausted");
    expect(&code(&id, FULL.mobile, FULL.name), 200, "");
    expect(
        &c.call(
            &s,
            None,
            "POST",
            VERIFY,
            &at(&id, "verify"),
            Body::Json(json!({})),
        ),
        400,
        "malformed_request",
    );
    expect(
        &c.call(
            &s,
            None,
            "POST",
            VERIFY,
            &at(&id, "verify"),
            Body::Raw(b"{}".to_vec(), "text/plain"),
        ),
        415,
        "unsupported_media_type",
    );
    expect(
        &c.call(
            &s,
            None,
            "POST",
            VERIFY,
            &at(&id, "verify"),
            Body::Raw(vec![b' '; 8192], "application/json"),
        ),
        413,
        "payload_too_large",
    );
    expect(
        &verify("AAAAAAAAAAAAAAAAAAAAAA", "123456"),
        404,
        "session_not_found",
    );
    expect(&verify(&id, &s.last_otp()), 200, "");
    expect(
        &c.call(&s, me, "GET", TOKEN, &at(&id, "token"), Body::None),
        200,
        "",
    );
    expect(
        &c.call(&s, me, "GET", TOKEN, &at(&id, "token"), Body::None),
        409,
        "session_used",
    );
    // Another origin's browser call; a third code for the number (rate limit 3).
    let other: Answer = s
        .http()
        .post(format!("{}{}", s.url, at(&open("PNR-2"), "code")))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"mobile": FULL.mobile, "name": FULL.name}))
        .send()
        .unwrap()
        .into();
    c.check("POST", CODE, &other);
    expect(&other, 403, "origin_not_allowed");
    let other: Answer = s
        .http()
        .post(format!("{}{}", s.url, at(&open("PNR-9"), "verify")))
        .header("origin", "https://evil.example")
        .json(&json!({"otp": "123456"}))
        .send()
        .unwrap()
        .into();
    c.check("POST", VERIFY, &other);
    expect(&other, 403, "origin_not_allowed");
    let id = open("PNR-3");
    c.call(&s, None, "GET", PAGE, &page(&id), Body::None);
    expect(&code(&id, FULL.mobile, FULL.name), 200, "");
    expect(&code(&id, FULL.mobile, FULL.name), 429, "rate_limited");
    // Records that give no status; an expired code; an ended session.
    let id = open("PNR-4");
    c.call(&s, None, "GET", PAGE, &page(&id), Body::None);
    expect(&code(&id, "7770992361", "ಮಂಜುನಾಥ ಹೆಗ್ಡೆ"), 200, "");
    expect(&verify(&id, &s.last_otp()), 422, "unknown_product");
    let late = open("PNR-5");
    let ended = open("PNR-6");
    c.call(&s, None, "GET", PAGE, &page(&ended), Body::None);
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    assert_eq!(
        c.call(&s, None, "GET", PAGE, &page(&late), Body::None)
            .status,
        410
    );
    expect(
        &code(&ended, FULL.mobile, FULL.name),
        410,
        "session_expired",
    );
    let gone = open("PNR-7");
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    expect(&verify(&gone, "123456"), 410, "session_expired");
    let gone = open("PNR-8");
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    expect(
        &c.call(&s, me, "GET", TOKEN, &at(&gone, "token"), Body::None),
        410,
        "session_expired",
    );
    for asset in ["/static/consent.js", "/static/consent.css"] {
        assert_eq!(
            c.call(&s, None, "GET", asset, asset, Body::None).status,
            200
        );
    }
}
