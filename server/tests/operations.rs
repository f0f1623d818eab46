//! The service as an operator runs it: OTP delivery failures (a command that fails, a
//! webhook that fails or hangs), a webhook that works, restart persistence after SIGKILL,
//! TLS, and no personal data in the logs or metrics of a full run.

mod support;

use kycvs_core::{VaccinationStatus, unix_now};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use support::*;

/// Consents held in the service's SQLite file, read with SQLite itself.
fn consents_in(db: &std::path::Path) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("SELECT count(*) FROM consents", [], |r| r.get(0))
        .unwrap()
}

fn program(dir: &std::path::Path, name: &str, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

const LOG_SMS: &str = "sender = \"log\"\npath = \"state/sms.log\"";

#[test]
fn a_failing_sms_command_answers_its_code_and_keeps_no_consent() {
    let tools = tempfile::tempdir().unwrap();
    let fail = program(tools.path(), "fail.sh", "cat > /dev/null; exit 3");
    let sms = format!("sender = \"command\"\nprogram = \"{}\"", fail.display());
    let s = Service::start(&[(LOG_SMS, &sms)]);
    let answer = s.begin(0, FULL.mobile, FULL.name, "n");
    assert_eq!((answer.status, answer.code()), (502, "otp_delivery_failed"));
    assert!(answer.json.get("consent_id").is_none());
    assert_eq!(
        consents_in(&s.db_path()),
        0,
        "no consent outlives a failed delivery"
    );
    let metrics = s.get("/metrics").text;
    assert!(metrics.contains("kycvs_otp_deliveries_total{sender=\"command\",result=\"failed\"} 1"));
}

#[test]
fn an_sms_command_gets_the_number_and_text_on_stdin() {
    let tools = tempfile::tempdir().unwrap();
    let out = tools.path().join("out");
    let ok = program(
        tools.path(),
        "ok.sh",
        &format!("cat >> '{}'", out.display()),
    );
    let sms = format!("sender = \"command\"\nprogram = \"{}\"", ok.display());
    let s = Service::start(&[(LOG_SMS, &sms)]);
    let answer = s.begin(0, FULL.mobile, FULL.name, "n");
    assert_eq!(answer.status, 201, "{}", answer.text);
    let line = std::fs::read_to_string(&out).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(v["to"], "+919556719886");
    let otp = &v["text"].as_str().unwrap()[..6];
    let id = answer.json["consent_id"].as_str().unwrap();
    assert_eq!(s.complete(0, id, otp).status, 200);
}

/// A one-thread HTTP server on loopback that records each request and answers with
/// `status` after `delay`.
struct Gateway {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

fn gateway(status: u16, delay: std::time::Duration) -> Gateway {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            seen.lock()
                .unwrap()
                .push(format!("{head}{}", String::from_utf8_lossy(&body)));
            std::thread::sleep(delay);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    Gateway { url, requests }
}

fn webhook_config(dir: &std::path::Path, url: &str, timeout_ms: u64) -> String {
    let secret = dir.join("gateway.secret");
    std::fs::write(&secret, "gw-secret-123\n").unwrap();
    format!(
        "sender = \"webhook\"\nurl = \"{url}\"\nbearer_secret_file = \"{}\"\ntimeout_ms = {timeout_ms}",
        secret.display()
    )
}

#[test]
fn a_webhook_gateway_gets_the_sms_with_its_bearer_secret() {
    let tools = tempfile::tempdir().unwrap();
    let gw = gateway(202, std::time::Duration::ZERO);
    let s = Service::start(&[(LOG_SMS, &webhook_config(tools.path(), &gw.url, 2_000))]);
    let answer = s.begin(0, FULL.mobile, FULL.name, "n");
    assert_eq!(answer.status, 201, "{}", answer.text);
    let request = gw.requests.lock().unwrap()[0].clone();
    assert!(request.starts_with("POST /sms "), "{request}");
    assert!(
        request
            .to_ascii_lowercase()
            .contains("authorization: bearer gw-secret-123")
    );
    let body: serde_json::Value =
        serde_json::from_str(request.rsplit("\r\n\r\n").next().unwrap()).unwrap();
    assert_eq!(body["to"], "+919556719886");
    let otp = &body["text"].as_str().unwrap()[..6];
    let id = answer.json["consent_id"].as_str().unwrap();
    assert_eq!(s.complete(0, id, otp).status, 200);
}

#[test]
fn a_failing_or_hanging_webhook_answers_its_code_and_keeps_no_consent() {
    let tools = tempfile::tempdir().unwrap();
    for (status, delay) in [
        (500, std::time::Duration::ZERO),
        (200, std::time::Duration::from_secs(5)),
    ] {
        let gw = gateway(status, delay);
        let s = Service::start(&[(LOG_SMS, &webhook_config(tools.path(), &gw.url, 500))]);
        let started = std::time::Instant::now();
        let answer = s.begin(0, FULL.mobile, FULL.name, "n");
        assert_eq!((answer.status, answer.code()), (502, "otp_delivery_failed"));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(4),
            "the timeout holds"
        );
        assert_eq!(gw.requests.lock().unwrap().len(), 1);
        assert_eq!(consents_in(&s.db_path()), 0);
    }
}

#[test]
fn a_consent_survives_a_killed_server_and_completes_once() {
    let mut s = Service::start(&[]);
    let begun = s.begin(0, FULL.mobile, FULL.name, "PNR-restart");
    let id = begun.json["consent_id"].as_str().unwrap().to_owned();
    let otp = s.last_otp();
    let used = s.begin(0, PARTIAL.mobile, PARTIAL.name, "PNR-used");
    let used_id = used.json["consent_id"].as_str().unwrap().to_owned();
    assert_eq!(s.complete(0, &used_id, &s.last_otp()).status, 200);
    s.kill_hard();
    s.spawn();
    let done = s.complete(0, &id, &otp);
    assert_eq!(done.status, 200, "{}", done.text);
    let token = done.json["token"].as_str().unwrap();
    let v = s
        .verifier(0)
        .verify(token, "PNR-restart", unix_now())
        .unwrap();
    assert_eq!(v.status(), VaccinationStatus::FullyVaccinated);
    s.kill_hard();
    s.spawn();
    assert_eq!(s.complete(0, &id, &otp).code(), "consent_not_found");
    assert_eq!(
        s.complete(0, &used_id, "000000").code(),
        "consent_not_found"
    );
}

#[test]
fn logs_metrics_and_the_database_hold_no_personal_data() {
    let mut s = Service::start(&[]);
    let registry = kycvs_core::SAMPLE_REGISTRY_JSONL;
    let people: Vec<(String, String)> = registry
        .lines()
        .take(12)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["mobile"].as_str().unwrap().into(),
                v["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut secrets: Vec<String> = Vec::new();
    for (i, (mobile, name)) in people.iter().enumerate() {
        let begun = s.begin(0, mobile, name, &format!("PNR-{i}"));
        assert_eq!(begun.status, 201);
        let id = begun.json["consent_id"].as_str().unwrap().to_owned();
        let otp = s.last_otp();
        if i % 3 == 0 {
            s.complete(0, &id, "000000");
        }
        let done = s.complete(0, &id, &otp);
        if let Some(token) = done.json["token"].as_str() {
            secrets.push(token.to_owned());
            secrets.push(token.split('.').nth(1).unwrap().to_owned());
        }
        secrets.push(otp);
        secrets.push(mobile.clone());
        secrets.push(name.clone());
    }
    // Malformed input with a mobile number in it, and a wrong mobile.
    s.begin(0, "+91 12345 67890", "Nobody", "x");
    s.post(
        "/v1/consents",
        Some(s.client(0)),
        &serde_json::json!({"mobile": 9556719886u64}),
    );
    let metrics = s.get("/metrics").text;
    assert!(
        metrics.contains("kycvs_consent_outcomes_total{operation=\"complete\",outcome=\"ok\"}")
    );
    s.terminate();
    let log = s.log_text();
    assert!(log.contains("\"route\":\"/v1/consents\""), "{log}");
    let database: Vec<u8> = ["state/consents.db", "state/consents.db-wal"]
        .iter()
        .flat_map(|f| std::fs::read(s.dir.path().join(f)).unwrap_or_default())
        .collect();
    let database = String::from_utf8_lossy(&database);
    for secret in secrets
        .iter()
        .chain([&"9556719886".to_owned(), &"1234567890".to_owned()])
    {
        assert!(!log.contains(secret.as_str()), "the log holds {secret:?}");
        assert!(
            !metrics.contains(secret.as_str()),
            "the metrics hold {secret:?}"
        );
        if secret.len() >= 6 && !secret.chars().all(|c| c.is_ascii_digit()) || secret.len() == 10 {
            assert!(
                !database.contains(secret.as_str()),
                "the database holds {secret:?}"
            );
        }
    }
}

#[test]
fn tls_from_cert_and_key_files() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tools = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert_path = tools.path().join("cert.pem");
    let key_path = tools.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let listen = format!(
        "listen = \"0.0.0.0:0\"\ntls_cert = \"{}\"\ntls_key = \"{}\"",
        cert_path.display(),
        key_path.display()
    );
    let s = Service::start(&[("listen = \"127.0.0.1:0\"", &listen)]);
    assert!(s.url.starts_with("https://"), "{}", s.url);
    let port = s.url.rsplit(':').next().unwrap();
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", ([127, 0, 0, 1], port.parse().unwrap()).into())
        .build()
        .unwrap();
    let answer = client
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::blocking::get(format!("http://127.0.0.1:{port}/healthz"));
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
}
