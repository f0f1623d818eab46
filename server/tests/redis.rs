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
