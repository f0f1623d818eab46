//! Two kycvs-server processes on one real redis-server: a consent begun on one completes on
//! the other, concurrent completes across both give one token, and a Redis outage fails
//! closed with consent_store_unavailable, then recovers without a restart.

#[path = "../../redis/tests/support/mod.rs"]
mod redis_support;
mod support;

use redis_support::Redis;
use support::*;

fn redis_store(redis: &Redis) -> String {
    format!(
        "[store]\nkind = \"redis\"\nurl = \"{}\"\ntimeout_ms = 300\npool_size = 4",
        redis.url()
    )
}

const SQLITE: &str = "[store]\nkind = \"sqlite\"\npath = \"state/consents.db\"";

#[test]
fn two_instances_share_consents_and_sessions_through_redis() {
    let redis = Redis::start();
    let store = redis_store(&redis);
    let one = Service::start(&[(SQLITE, &store)]);
    let two = one.sibling();
    assert_ne!(one.url, two.url);
    let begun = one.begin(0, FULL.mobile, FULL.name, "PNR-1");
    assert_eq!(begun.status, 201, "{}", begun.text);
    let id = begun.json["consent_id"].as_str().unwrap().to_owned();
    let otp = one.last_otp();
    let done = two.complete(0, &id, &otp);
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(one.complete(0, &id, &otp).code(), "consent_not_found");

    // Concurrent completes of one consent across both processes: exactly one token.
    let begun = two.begin(0, PARTIAL.mobile, PARTIAL.name, "PNR-2");
    let id = begun.json["consent_id"].as_str().unwrap().to_owned();
    let otp = two.last_otp();
    let barrier = std::sync::Barrier::new(16);
    let codes: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let (service, barrier, id, otp) =
                    (if i % 2 == 0 { &one } else { &two }, &barrier, &id, &otp);
                scope.spawn(move || {
                    barrier.wait();
                    service.complete(0, id, otp).status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(codes.iter().filter(|&&c| c == 200).count(), 1, "{codes:?}");
    assert!(codes.iter().all(|&c| c == 200 || c == 404), "{codes:?}");
}

#[test]
fn a_redis_outage_fails_closed_and_the_service_recovers_by_itself() {
    let mut redis = Redis::start();
    let store = redis_store(&redis);
    let s = Service::start(&[(SQLITE, &store)]);
    let begun = s.begin(0, FULL.mobile, FULL.name, "PNR-3");
    let id = begun.json["consent_id"].as_str().unwrap().to_owned();
    let otp = s.last_otp();
    assert_eq!(s.get("/readyz").status, 200);
    redis.kill();
    let down = s.begin(0, PARTIAL.mobile, PARTIAL.name, "PNR-4");
    assert_eq!(
        (down.status, down.code()),
        (503, "consent_store_unavailable")
    );
    let down = s.complete(0, &id, &otp);
    assert_eq!(
        (down.status, down.code()),
        (503, "consent_store_unavailable")
    );
    assert_eq!(s.get("/readyz").code(), "consent_store_unavailable");
    redis.spawn();
    // AOF kept the pending consent; the failed complete did not use it up.
    let done = s.complete(0, &id, &otp);
    assert_eq!(done.status, 200, "{}", done.text);
    redis.pause();
    let started = std::time::Instant::now();
    let paused = s.begin(0, PARTIAL.mobile, PARTIAL.name, "PNR-5");
    assert_eq!(paused.code(), "consent_store_unavailable");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    redis.resume();
    assert_eq!(s.get("/readyz").status, 200);
}

/// Generous request limits, so that only the store can refuse a flow.
const WIDE_LIMITS: (&str, &str) = (
    "[sms]",
    "[limits]\nper_ip = { requests = 100000, window_s = 60 }\n\n[sms]",
);

/// One sample registry person per mobile number (a family may share one) as (mobile,
/// name): each has their own rate counter and their own SMS.
fn sample_people() -> Vec<(String, String)> {
    let mut seen = std::collections::HashSet::new();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/data/sample-registry.jsonl"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                v["mobile"].as_str().unwrap().to_owned(),
                v["name"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(mobile, _)| seen.insert(mobile.clone()))
        .collect()
}

/// The OTP of the last SMS to `mobile`, read from a log that other processes are appending
/// to (a line still being written is skipped).
fn otp_for(service: &Service, mobile: &str) -> String {
    let digits: String = mobile.chars().filter(char::is_ascii_digit).collect();
    let last10 = &digits[digits.len() - 10..];
    let text = std::fs::read_to_string(service.sms_path()).unwrap();
    text.lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["to"].as_str().is_some_and(|to| to.ends_with(last10)))
        .map(|v| v["text"].as_str().unwrap()[..6].to_owned())
        .expect("an SMS was sent to this number")
}

/// What happened to one flow begun under load.
#[derive(Debug, Default)]
struct Flow {
    nonce: String,
    /// Every complete answer, in order: (status, code).
    completes: Vec<(u16, String)>,
    tokens: Vec<String>,
}

#[test]
fn killing_redis_under_load_fails_closed_and_completes_no_consent_twice() {
    let mut redis = Redis::start();
    let store = redis_store(&redis);
    let one = Service::start(&[(SQLITE, &store), WIDE_LIMITS]);
    let two = one.sibling();
    let services = [&one, &two];
    let people = sample_people();
    let workers = 6;
    let per_worker = 24;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let begins_refused = std::sync::atomic::AtomicUsize::new(0);
    let flows: std::sync::Mutex<Vec<Flow>> = Default::default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    std::thread::scope(|scope| {
        for w in 0..workers {
            let (people, done, begins_refused, flows) = (&people, &done, &begins_refused, &flows);
            scope.spawn(move || {
                for (n, (mobile, name)) in people
                    .iter()
                    .skip(w)
                    .step_by(workers)
                    .take(per_worker)
                    .enumerate()
                {
                    let nonce = format!("PNR-{w}-{n}");
                    // A begin refused by the outage is asked again, as a verifier's page
                    // would, until the store is back.
                    let begun = loop {
                        let begun = services[n % 2].begin(0, mobile, name, &nonce);
                        if begun.status == 201 || std::time::Instant::now() > deadline {
                            break begun;
                        }
                        assert_eq!(
                            (begun.status, begun.code()),
                            (503, "consent_store_unavailable")
                        );
                        begins_refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(50));
                    };
                    assert_eq!(begun.status, 201, "the store never came back");
                    let id = begun.json["consent_id"].as_str().unwrap().to_owned();
                    let otp = otp_for(services[0], mobile);
                    let mut flow = Flow {
                        nonce,
                        ..Flow::default()
                    };
                    // Both instances complete the consent at once, again after every outage
                    // answer, until one of them answers for good.
                    loop {
                        let answers: Vec<_> = std::thread::scope(|race| {
                            let racers: Vec<_> = services
                                .iter()
                                .map(|s| race.spawn(|| s.complete(0, &id, &otp)))
                                .collect();
                            racers.into_iter().map(|r| r.join().unwrap()).collect()
                        });
                        for answer in &answers {
                            flow.completes
                                .push((answer.status, answer.code().to_owned()));
                            if answer.status == 200 {
                                flow.tokens
                                    .push(answer.json["token"].as_str().unwrap().to_owned());
                            }
                        }
                        if answers.iter().all(|a| a.status != 503)
                            || std::time::Instant::now() > deadline
                        {
                            break;
                        }
                        std::thread::sleep(std::time::Duration::from_millis(50));
                    }
                    done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    flows.lock().unwrap().push(flow);
                }
            });
        }
        // Kill Redis in the middle of the load, keep it down a moment, then restart it on
        // the same data (AOF with fsync always).
        while done.load(std::sync::atomic::Ordering::SeqCst) < workers * per_worker / 3 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        redis.kill();
        std::thread::sleep(std::time::Duration::from_millis(700));
        redis.spawn();
    });

    let flows = flows.into_inner().unwrap();
    let verifier = one.verifier(0);
    let mut outage_answers = begins_refused.into_inner();
    let mut jtis = std::collections::HashSet::new();
    for flow in &flows {
        // The right OTP was sent, so a consent ends once: a token (200), or the outcome
        // decided at begin for someone with no token to give (4xx, e.g. not registered);
        // every other answer says the consent is gone (404) or the store is out (503).
        let mut outcomes = 0;
        for (status, code) in &flow.completes {
            match (*status, code.as_str()) {
                (404, "consent_not_found") | (503, "consent_store_unavailable") => {}
                (200, _) => outcomes += 1,
                (400..500, code) if code != "otp_mismatch" => outcomes += 1,
                _ => panic!("{flow:?}"),
            }
        }
        outage_answers += flow.completes.iter().filter(|(s, _)| *s == 503).count();
        // Never completed twice, however the completes raced and retried.
        assert!(outcomes <= 1, "{flow:?}");
        // A consent that never ended lost its answer to the outage, never to a healthy store.
        if outcomes == 0 {
            assert!(flow.completes.iter().any(|(s, _)| *s == 503), "{flow:?}");
        }
        for token in &flow.tokens {
            let verified = verifier
                .verify(token, &flow.nonce, kycvs_core::unix_now())
                .unwrap();
            assert!(
                jtis.insert(verified.jti().to_owned()),
                "a token issued twice"
            );
        }
    }
    assert!(outage_answers > 0, "the kill happened under load");
    // Every flow was begun and answered for good once the store was back.
    assert_eq!(flows.len(), workers * per_worker);
    assert!(
        flows
            .iter()
            .all(|f| f.completes.last().is_some_and(|(s, _)| *s != 503)),
        "a flow still refused after the restart"
    );
    // Only a consent in flight at the kill can lose its answer (used up in the store, the
    // reply cut off): at most one per worker.
    let lost: Vec<_> = flows
        .iter()
        .filter(|f| f.completes.iter().all(|(s, _)| matches!(s, 404 | 503)))
        .collect();
    assert!(lost.len() <= workers, "{lost:?}");
    let issued = flows.iter().filter(|f| !f.tokens.is_empty()).count();
    assert!(
        issued > workers * per_worker / 2,
        "{issued} flows completed"
    );
    assert_eq!(one.get("/readyz").status, 200);
    assert_eq!(two.get("/readyz").status, 200);
}

#[test]
fn callers_of_a_paused_redis_fail_within_the_timeout_without_queueing() {
    let redis = Redis::start();
    let store = "[store]\nkind = \"redis\"\nurl = \"URL\"\ntimeout_ms = 250\npool_size = 2"
        .replace("URL", &redis.url());
    let s = Service::start(&[(SQLITE, &store), WIDE_LIMITS]);
    let people = sample_people();
    assert_eq!(s.begin(0, &people[0].0, &people[0].1, "PNR-0").status, 201);
    redis.pause();
    // 32 callers on 2 connections: each waits at most one timeout for a connection, one to
    // connect and one on the wire, never behind every caller before it (16 × 250 ms).
    let barrier = std::sync::Barrier::new(32);
    let answers: Vec<(u16, String, std::time::Duration)> = std::thread::scope(|scope| {
        let callers: Vec<_> = people[1..33]
            .iter()
            .enumerate()
            .map(|(i, (mobile, name))| {
                let (s, barrier) = (&s, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let started = std::time::Instant::now();
                    let a = s.begin(0, mobile, name, &format!("PNR-P{i}"));
                    (a.status, a.code().to_owned(), started.elapsed())
                })
            })
            .collect();
        callers.into_iter().map(|c| c.join().unwrap()).collect()
    });
    for (status, code, took) in &answers {
        assert_eq!((*status, code.as_str()), (503, "consent_store_unavailable"));
        assert!(
            *took < std::time::Duration::from_millis(2000),
            "{answers:?}"
        );
    }
    redis.resume();
    let started = std::time::Instant::now();
    let again = s.begin(0, &people[40].0, &people[40].1, "PNR-R");
    assert_eq!(again.status, 201, "{}", again.text);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

/// The `[limits]` section with `per_ip` and `per_client` requests per minute.
fn limits(per_ip: u32, per_client: u32) -> String {
    format!(
        "[limits]\nper_ip = {{ requests = {per_ip}, window_s = 60 }}\n\
         per_client = {{ requests = {per_client}, window_s = 60 }}\n\n[sms]"
    )
}

#[test]
fn request_limits_are_counted_once_across_instances_by_mac_only() {
    let redis = Redis::start();
    let store = redis_store(&redis);
    let unknown = "c_AAAAAAAAAAAAAAAAAAAAAA";
    // Per address: 6 a minute from 127.0.0.1, whichever instance answers.
    let by_ip = limits(6, 1000);
    let one = Service::start(&[(SQLITE, &store), ("[sms]", &by_ip)]);
    let two = one.sibling();
    for i in 0..5 {
        let a = [&one, &two][i % 2].complete(i % 2, unknown, "123456");
        assert_ne!(a.status, 429, "request {i}: {}", a.text);
    }
    // Wrong credentials are refused as such, and count against the address.
    let wrong = Credentials {
        id: "irctc.example".into(),
        secret: "not-the-secret".into(),
    };
    let a = two.post(
        &format!("/v1/consents/{unknown}/complete"),
        Some(&wrong),
        &serde_json::json!({"otp": "123456"}),
    );
    assert_eq!((a.status, a.code()), (401, "unauthorized"));
    for s in [&one, &two] {
        let a = s.complete(0, unknown, "123456");
        assert_eq!((a.status, a.code()), (429, "too_many_requests"));
    }
    drop((one, two));

    // Per client: 4 a minute for irctc.example across both; other.example is counted apart.
    let by_client = limits(1000, 4);
    let redis_two = Redis::start();
    let store_two = redis_store(&redis_two);
    let one = Service::start(&[(SQLITE, &store_two), ("[sms]", &by_client)]);
    let two = one.sibling();
    for i in 0..4 {
        assert_ne!(
            [&one, &two][i % 2].complete(0, unknown, "123456").status,
            429
        );
    }
    for s in [&one, &two] {
        assert_eq!(s.complete(0, unknown, "123456").code(), "too_many_requests");
    }
    assert_ne!(two.complete(1, unknown, "123456").status, 429);

    // Redis holds MACs, never the address or the client id.
    for redis in [&redis, &redis_two] {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("*")
            .query(&mut redis.connection())
            .unwrap();
        let limit_keys: Vec<&String> = keys.iter().filter(|k| k.contains(":limit:")).collect();
        assert!(!limit_keys.is_empty(), "{keys:?}");
        for key in &keys {
            assert!(
                !key.contains("127.0.0.1") && !key.contains(".example"),
                "{key}"
            );
        }
    }

    // A store that does not answer refuses the request instead of letting it through.
    let mut redis_two = redis_two;
    redis_two.kill();
    let down = one.complete(1, unknown, "123456");
    assert_eq!(
        (down.status, down.code()),
        (503, "consent_store_unavailable")
    );
}
