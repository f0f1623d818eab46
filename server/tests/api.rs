//! The API over real HTTP against the real binary: the consent flow and every refusal of
//! SPEC §9, authentication, malformed requests, no enumeration, and the operating routes.

mod support;

use kycvs_core::{VaccinationStatus, unix_now};
use support::*;

#[test]
fn a_consent_gives_a_token_that_verifies_against_the_published_jwks() {
    let s = Service::start(&[]);
    let begun = s.begin(0, FULL.mobile, FULL.name, "PNR-4711");
    assert_eq!(begun.status, 201, "{}", begun.text);
    let id = begun.json["consent_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 22);
    let expires_at = begun.json["expires_at"].as_u64().unwrap();
    assert!(expires_at > unix_now() && expires_at <= unix_now() + 180);
    let sms = s.sms();
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].0, "+919556719886");
    assert!(sms[0].1.contains("IRCTC"), "{}", sms[0].1);
    let done = s.complete(0, &id, &s.last_otp());
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.headers["cache-control"], "no-store");
    let token = done.json["token"].as_str().unwrap();
    let verified = s.verifier(0).verify(token, "PNR-4711", unix_now()).unwrap();
    assert_eq!(verified.status(), VaccinationStatus::FullyVaccinated);
    assert_eq!(verified.iss(), ISSUER);
    assert_eq!(verified.aud(), "irctc.example");
    // Single use.
    let again = s.complete(0, &id, &s.last_otp());
    assert_eq!((again.status, again.code()), (404, "consent_not_found"));
}

#[test]
fn every_refusal_of_the_consent_flow_has_its_code_and_status() {
    let s = Service::start(&[(
        "[store]",
        "[consent]\nrate_limit = 2\nmax_attempts = 2\n\n[store]",
    )]);
    // Argument errors depend only on the form of the input.
    let bad_mobile = s.begin(0, "12345", FULL.name, "n");
    assert_eq!(
        (bad_mobile.status, bad_mobile.code()),
        (400, "invalid_mobile")
    );
    let bad_nonce = s.begin(0, FULL.mobile, FULL.name, "");
    assert_eq!(
        (bad_nonce.status, bad_nonce.code()),
        (400, "invalid_argument")
    );
    // A wrong OTP, then the last allowed wrong one.
    let begun = s.begin(0, PARTIAL.mobile, PARTIAL.name, "n1");
    let id = begun.json["consent_id"].as_str().unwrap().to_owned();
    let otp = s.last_otp();
    let wrong = format!("{:06}", (otp.parse::<u32>().unwrap() + 1) % 1_000_000);
    let first = s.complete(0, &id, &wrong);
    assert_eq!((first.status, first.code()), (422, "otp_mismatch"));
    let last = s.complete(0, &id, &wrong);
    assert_eq!((last.status, last.code()), (410, "attempts_exhausted"));
    let gone = s.complete(0, &id, &otp);
    assert_eq!((gone.status, gone.code()), (404, "consent_not_found"));
    // The rate limit counts begins per mobile number (two here; a third is refused).
    let second = s.begin(0, PARTIAL.mobile, PARTIAL.name, "n2");
    assert_eq!(second.status, 201);
    let third = s.begin(0, PARTIAL.mobile, PARTIAL.name, "n3");
    assert_eq!((third.status, third.code()), (429, "rate_limited"));
    // Records the schedule cannot judge: the code after the right OTP.
    let odd = s.begin(0, "7770992361", "ಮಂಜುನಾಥ ಹೆಗ್ಡೆ", "n4");
    let id = odd.json["consent_id"].as_str().unwrap().to_owned();
    let refused = s.complete(0, &id, &s.last_otp());
    assert_eq!((refused.status, refused.code()), (422, "unknown_product"));
    // An id that was never issued.
    let unknown = s.complete(0, "AAAAAAAAAAAAAAAAAAAAAA", "123456");
    assert_eq!((unknown.status, unknown.code()), (404, "consent_not_found"));
}

#[test]
fn an_expired_consent_is_refused_and_gone() {
    let s = Service::start(&[("[store]", "[consent]\notp_ttl_s = 1\n\n[store]")]);
    let begun = s.begin(0, FULL.mobile, FULL.name, "n");
    let id = begun.json["consent_id"].as_str().unwrap().to_owned();
    let expires_at = begun.json["expires_at"].as_u64().unwrap();
    while unix_now() < expires_at {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let late = s.complete(0, &id, &s.last_otp());
    assert_eq!((late.status, late.code()), (410, "consent_expired"));
    let again = s.complete(0, &id, &s.last_otp());
    assert_eq!((again.status, again.code()), (404, "consent_not_found"));
}

#[test]
fn callers_must_authenticate_and_get_tokens_only_for_their_own_audience() {
    let s = Service::start(&[]);
    let body = serde_json::json!({"mobile": FULL.mobile, "name": FULL.name, "nonce": "n"});
    let none = s.post("/v1/consents", None, &body);
    assert_eq!((none.status, none.code()), (401, "unauthorized"));
    assert_eq!(none.headers["www-authenticate"], "Basic realm=\"kycvs\"");
    let mut wrong = s.client(0).clone();
    wrong.secret.push('x');
    let bad = s.post("/v1/consents", Some(&wrong), &body);
    assert_eq!((bad.status, bad.code()), (401, "unauthorized"));
    let stranger = Credentials {
        id: "stranger.example".into(),
        secret: s.client(0).secret.clone(),
    };
    let unknown = s.post("/v1/consents", Some(&stranger), &body);
    assert_eq!(
        (unknown.status, unknown.text),
        (bad.status, bad.text.clone())
    );
    assert!(s.sms().is_empty(), "no SMS for an unauthenticated caller");

    // Client 1 cannot complete (or spend attempts of) client 0's consent, even with the OTP.
    let begun = s.begin(0, FULL.mobile, FULL.name, "PNR-1");
    let id = begun.json["consent_id"].as_str().unwrap().to_owned();
    let otp = s.last_otp();
    for _ in 0..4 {
        let theirs = s.complete(1, &id, &otp);
        assert_eq!((theirs.status, theirs.code()), (404, "consent_not_found"));
    }
    let mine = s.complete(0, &id, &otp);
    assert_eq!(mine.status, 200, "{}", mine.text);
    let token = mine.json["token"].as_str().unwrap();
    assert!(s.verifier(1).verify(token, "PNR-1", unix_now()).is_err());
}

#[test]
fn malformed_and_oversized_requests_are_refused_with_their_codes() {
    let s = Service::start(&[]);
    let auth = s.client(0).header();
    let url = format!("{}/v1/consents", s.url);
    let send = |body: Vec<u8>, content_type: &str| -> Answer {
        s.http()
            .post(&url)
            .header("authorization", &auth)
            .header("content-type", content_type)
            .body(body)
            .send()
            .unwrap()
            .into()
    };
    let cases: [(Vec<u8>, &str, u16, &str); 6] = [
        (b"{".to_vec(), "application/json", 400, "malformed_request"),
        (b"[]".to_vec(), "application/json", 400, "malformed_request"),
        (
            br#"{"mobile":"9556719886","name":"x"}"#.to_vec(),
            "application/json",
            400,
            "malformed_request",
        ),
        (
            br#"{"mobile":"9556719886","name":"x","nonce":"n","extra":1}"#.to_vec(),
            "application/json",
            400,
            "malformed_request",
        ),
        (
            br#"{"mobile":"9556719886"}"#.to_vec(),
            "text/plain",
            415,
            "unsupported_media_type",
        ),
        (
            vec![b' '; 64 * 1024],
            "application/json",
            413,
            "payload_too_large",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let answer = send(body, content_type);
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{}",
            answer.text
        );
        assert!(
            !answer.text.contains("9556719886"),
            "an error quotes the body"
        );
        if status == 413 {
            assert_eq!(
                answer.headers["connection"], "close",
                "the body was not read"
            );
        }
    }
    let missing = s.get("/v1/nothing");
    assert_eq!((missing.status, missing.code()), (404, "not_found"));
    let method = s.get("/v1/consents");
    assert_eq!((method.status, method.code()), (405, "method_not_allowed"));
    // Header limits: a request line and headers beyond the limit never reach a handler.
    let huge = s
        .http()
        .get(format!("{}/healthz", s.url))
        .header("x-padding", "a".repeat(64 * 1024))
        .send();
    // Either a 431 answer or a closed connection; never a handler's answer.
    if let Ok(r) = huge {
        assert_eq!(r.status().as_u16(), 431);
    }
    assert_eq!(
        s.get("/healthz").status,
        200,
        "the server survives all of it"
    );
}

#[test]
fn unknown_mobile_wrong_name_and_a_real_person_look_the_same() {
    let s = Service::start(&[]);
    let cases = [
        (FULL.mobile, FULL.name),
        (FULL.mobile, "Somebody Else"),
        ("9000000001", FULL.name),
    ];
    let mut begins = Vec::new();
    for (i, (mobile, name)) in cases.iter().enumerate() {
        let answer = s.begin(0, mobile, name, &format!("n{i}"));
        let otp = s.last_otp();
        begins.push((answer, otp));
    }
    // Every begin: 201, the same fields, an SMS to the number given.
    for (answer, _) in &begins {
        assert_eq!(answer.status, 201);
        let keys: Vec<&String> = answer.json.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["consent_id", "expires_at"]);
    }
    assert_eq!(s.sms().len(), 3);
    // The delivered OTP completes only for the real person; the others answer exactly as a
    // wrong OTP would, then run out of attempts the same way.
    let ids: Vec<String> = begins
        .iter()
        .map(|(a, _)| a.json["consent_id"].as_str().unwrap().to_owned())
        .collect();
    let wrong_name = s.complete(0, &ids[1], &begins[1].1);
    let unknown = s.complete(0, &ids[2], &begins[2].1);
    assert_eq!(
        (wrong_name.status, wrong_name.code()),
        (422, "otp_mismatch")
    );
    assert_eq!(
        (unknown.status, &unknown.text),
        (wrong_name.status, &wrong_name.text)
    );
    let real = s.complete(0, &ids[0], &begins[0].1);
    assert_eq!(real.status, 200);
}

#[test]
fn concurrent_completes_of_one_consent_issue_one_token() {
    let s = Service::start(&[]);
    let begun = s.begin(0, FULL.mobile, FULL.name, "PNR-race");
    let id = begun.json["consent_id"].as_str().unwrap().to_owned();
    let otp = s.last_otp();
    let barrier = std::sync::Barrier::new(16);
    let answers: Vec<(u16, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let a = s.complete(0, &id, &otp);
                    (a.status, a.code().to_owned())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let tokens = answers.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(tokens, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(status, code)| *status == 200 || code == "consent_not_found"),
        "{answers:?}"
    );
}

#[test]
fn per_client_and_per_address_limits_answer_too_many_requests() {
    let s = Service::start(&[(
        "[store]",
        "[limits]\nper_client = { requests = 3, window_s = 3600 }\nper_ip = { requests = 5, window_s = 3600 }\n\n[store]",
    )]);
    let codes: Vec<u16> = (0..4)
        .map(|i| {
            s.complete(0, "AAAAAAAAAAAAAAAAAAAAAA", &format!("{i:06}"))
                .status
        })
        .collect();
    assert_eq!(codes, [404, 404, 404, 429]);
    // The other client has its own allowance, until the address runs out of its own.
    assert_eq!(
        s.complete(1, "AAAAAAAAAAAAAAAAAAAAAA", "000000").status,
        404
    );
    let limited = s.complete(1, "AAAAAAAAAAAAAAAAAAAAAA", "000000");
    assert_eq!((limited.status, limited.code()), (429, "too_many_requests"));
}

#[test]
fn operating_routes_answer_and_carry_the_security_headers() {
    let s = Service::start(&[]);
    let health = s.get("/healthz");
    assert_eq!(
        (health.status, health.json["status"].as_str()),
        (200, Some("ok"))
    );
    let ready = s.get("/readyz");
    assert_eq!(
        (ready.status, ready.json["status"].as_str()),
        (200, Some("ready"))
    );
    let jwks = s.get("/.well-known/jwks.json");
    assert_eq!(jwks.status, 200);
    let keys = jwks.json["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["iss"], ISSUER);
    assert!(keys[0].get("d").is_none(), "no private part");
    let bundle = s.get("/.well-known/kycvs-trust-bundle.jws");
    assert_eq!((bundle.status, bundle.code()), (404, "not_found"));
    for answer in [&health, &ready, &jwks, &bundle] {
        assert_eq!(answer.headers["x-content-type-options"], "nosniff");
        assert_eq!(answer.headers["referrer-policy"], "no-referrer");
        assert!(answer.headers.contains_key("cache-control"));
    }
    let metrics = s.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .text
            .contains("# TYPE kycvs_http_requests_total counter")
    );
    assert!(
        metrics
            .text
            .contains("route=\"/healthz\",method=\"GET\",status=\"200\"} 1")
    );
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let mut s = Service::start(&[]);
    assert_eq!(s.get("/healthz").status, 200);
    let status = s.terminate();
    assert!(status.success(), "{status:?}");
    assert!(s.log_text().contains("shutting down"));
}

#[test]
fn a_consent_id_that_is_not_text_is_an_unknown_consent() {
    let s = Service::start(&[]);
    // %FF decodes to a byte that is not UTF-8: the path parameter cannot be read as text.
    for id in ["%FF%FE", "%C3%28"] {
        let path = format!("/v1/consents/{id}/complete");
        let answer = s.post(
            &path,
            Some(s.client(0)),
            &serde_json::json!({"otp": "123456"}),
        );
        assert_eq!(
            (answer.status, answer.code()),
            (404, "consent_not_found"),
            "{}",
            answer.text
        );
        let unknown = s.complete(0, "AAAAAAAAAAAAAAAAAAAAAA", "123456");
        assert_eq!(
            answer.text, unknown.text,
            "the same answer as an unknown id"
        );
        let anonymous = s.post(&path, None, &serde_json::json!({"otp": "123456"}));
        assert_eq!((anonymous.status, anonymous.code()), (401, "unauthorized"));
    }
}
