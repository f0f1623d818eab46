//! The Redis stores against a real redis-server: a replay memory shared by two verifiers, one
//! script per batch, consents shared by two issuer instances with exactly-once completion,
//! and failing closed when Redis is killed or paused, recovering when it is back.

mod support;

use kycvs_core::{
    BatchItem, ConsentRequest, ErrorCode, IssuanceService, Issuer, JsonlRegistry, Policy,
    PseudonymKey, SigningKey, TokenRequest, TrustStore, VaccinationStatus, Verifier,
};
use kycvs_redis::{RedisConfig, RedisConsentStore, RedisReplayStore};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::Redis;

const NOW: u64 = 1_800_000_000;

fn config(redis: &Redis) -> RedisConfig {
    let mut config = RedisConfig::new(redis.url());
    config.timeout = Duration::from_millis(300);
    config.pool_size = 4;
    config
}

fn key() -> SigningKey {
    SigningKey::from_seed(&[5; 32])
}

fn verifier(redis: &Redis) -> Verifier {
    verifier_with_leeway(redis, kycvs_core::DEFAULT_LEEWAY)
}

fn token(nonce: &str) -> String {
    token_at(nonce, NOW)
}

fn token_at(nonce: &str, issued: u64) -> String {
    Issuer::new(key(), "cowin.example")
        .unwrap()
        .issue(
            &TokenRequest {
                audience: "irctc.example",
                nonce,
                subject: "p-1",
                status: VaccinationStatus::FullyVaccinated,
                ttl: 300,
            },
            issued,
        )
        .unwrap()
}

#[test]
fn two_verifiers_share_one_replay_memory_and_a_batch_is_one_script() {
    let redis = Redis::start();
    let (first, second) = (verifier(&redis), verifier(&redis));
    let a = token("A");
    first.verify(&a, "A", NOW + 1).unwrap();
    let err = second.verify(&a, "A", NOW + 2).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Replayed);
    // The hour's set holds only the jti, and lives until the end of the hour of exp + leeway.
    let jti = kycvs_core::inspect_unverified(&a).unwrap().claims["jti"]
        .as_str()
        .unwrap()
        .to_owned();
    let keep_until = NOW + 300 + 60;
    let key = format!("kycvs:replay:{}", keep_until / 3600);
    let mut con = redis.connection();
    let fields: Vec<String> = redis::cmd("SMEMBERS").arg(&key).query(&mut con).unwrap();
    assert_eq!(fields, [jti]);
    let ttl: u64 = redis::cmd("TTL").arg(&key).query(&mut con).unwrap();
    let end = (keep_until / 3600 + 1) * 3600;
    assert!((end - NOW - 9..=end - NOW).contains(&ttl), "{ttl}");

    let tokens: Vec<String> = (0..64).map(|i| token(&format!("N{i}"))).collect();
    let mut items: Vec<BatchItem<'_>> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| BatchItem::new(t, if i == 5 { "wrong" } else { "" }))
        .collect();
    let nonces: Vec<String> = (0..64).map(|i| format!("N{i}")).collect();
    for (i, item) in items.iter_mut().enumerate() {
        if i != 5 {
            *item = BatchItem::new(&tokens[i], &nonces[i]);
        }
    }
    items.push(BatchItem::new(&tokens[0], &nonces[0]));
    let before = redis.script_calls();
    let verdicts = first.verify_batch(&items, NOW + 3);
    assert_eq!(
        redis.script_calls() - before,
        1,
        "one round trip for the batch"
    );
    assert!(verdicts[0].is_ok());
    assert_eq!(
        verdicts[5].as_ref().unwrap_err().code(),
        ErrorCode::NonceMismatch
    );
    assert_eq!(
        verdicts[64].as_ref().unwrap_err().code(),
        ErrorCode::Replayed
    );
    assert_eq!(verdicts.iter().filter(|v| v.is_ok()).count(), 63);
    // The other verifier sees all of them as replays.
    let again = second.verify_batch(&items[..5], NOW + 4);
    assert!(
        again
            .iter()
            .all(|v| v.as_ref().unwrap_err().code() == ErrorCode::Replayed)
    );
}

fn verifier_with_leeway(redis: &Redis, leeway: u64) -> Verifier {
    let mut trust = TrustStore::new();
    trust
        .add(key().public_key().clone(), "cowin.example")
        .unwrap();
    let store = Arc::new(RedisReplayStore::new(&config(redis)).unwrap());
    Verifier::new(trust, Policy::new("irctc.example").with_leeway(leeway))
        .unwrap()
        .with_replay_store(store)
}

#[test]
fn verifiers_with_other_leeways_share_one_memory_across_an_hour_boundary() {
    let redis = Redis::start();
    // exp sits just before an hour boundary: leeway 0 keeps the jti in that hour's set,
    // leeway 3600 (the largest) in the next one's, and leeway 30 just past the boundary.
    let issued = (NOW / 3600 + 1) * 3600 - 300 - 10;
    let token = |nonce: &str| token_at(nonce, issued);
    let (none, short, long) = (
        verifier_with_leeway(&redis, 0),
        verifier_with_leeway(&redis, 30),
        verifier_with_leeway(&redis, 3600),
    );
    for (first, second) in [
        (&none, &long),
        (&long, &none),
        (&short, &none),
        (&none, &short),
    ] {
        let t = token("X");
        first.verify(&t, "X", issued + 1).unwrap();
        assert_eq!(
            second.verify(&t, "X", issued + 2).unwrap_err().code(),
            ErrorCode::Replayed
        );
        // And in a batch beside a token never seen.
        let fresh = token("X");
        let verdicts = second.verify_batch(
            &[BatchItem::new(&fresh, "X"), BatchItem::new(&t, "X")],
            issued + 3,
        );
        assert!(verdicts[0].is_ok());
        assert_eq!(
            verdicts[1].as_ref().unwrap_err().code(),
            ErrorCode::Replayed
        );
    }
}

#[test]
fn a_batch_larger_than_a_script_slice_is_judged_whole() {
    let redis = Redis::start();
    let v = verifier(&redis);
    // 2,500 tokens: the script reads and writes set members 1,000 at a time.
    let tokens: Vec<String> = (0..2500).map(|_| token("B")).collect();
    let mut items: Vec<BatchItem<'_>> = tokens.iter().map(|t| BatchItem::new(t, "B")).collect();
    items.push(BatchItem::new(&tokens[1999], "B"));
    // Redis has the script once a first call loaded it (EVALSHA, then EVAL).
    v.verify(&token("W"), "W", NOW).unwrap();
    let before = redis.script_calls();
    let verdicts = v.verify_batch(&items, NOW + 1);
    // A batch this long is checked in two calls, the first overlapping verification.
    assert_eq!(redis.script_calls() - before, 2);
    assert_eq!(verdicts.iter().filter(|v| v.is_ok()).count(), 2500);
    assert_eq!(
        verdicts[2500].as_ref().unwrap_err().code(),
        ErrorCode::Replayed
    );
    let again = v.verify_batch(&items[..2500], NOW + 2);
    assert!(
        again
            .iter()
            .all(|v| v.as_ref().unwrap_err().code() == ErrorCode::Replayed)
    );
}

#[test]
fn a_killed_or_paused_redis_fails_closed_within_the_timeout_and_recovers() {
    let mut redis = Redis::start();
    let v = verifier(&redis);
    let a = token("A");
    v.verify(&a, "A", NOW).unwrap();
    redis.kill();
    let b = token("B");
    let err = v.verify(&b, "B", NOW).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ReplayStoreUnavailable);
    redis.spawn();
    v.verify(&b, "B", NOW).unwrap();
    // AOF kept what was recorded before the kill.
    assert_eq!(
        v.verify(&a, "A", NOW).unwrap_err().code(),
        ErrorCode::Replayed
    );
    redis.pause();
    let started = Instant::now();
    let c = token("C");
    let err = v.verify(&c, "C", NOW).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ReplayStoreUnavailable);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    redis.resume();
    // The timed-out script may still run when Redis wakes and read its socket: C is then
    // remembered, and presenting it again can only be refused — never accepted twice.
    match v.verify(&c, "C", NOW) {
        Ok(_) => {}
        Err(e) => assert_eq!(e.code(), ErrorCode::Replayed),
    }
    assert_eq!(
        v.verify(&c, "C", NOW).unwrap_err().code(),
        ErrorCode::Replayed
    );
    let d = token("D");
    v.verify(&d, "D", NOW).unwrap();
}

/// Two issuer instances (two stores, two services) sharing one Redis, keys and registry.
fn issuers(redis: &Redis) -> (IssuanceService, IssuanceService) {
    let make = || {
        let store = Arc::new(RedisConsentStore::new(&config(redis)).unwrap());
        IssuanceService::builder(
            Issuer::new(key(), "cowin.example").unwrap(),
            Arc::new(JsonlRegistry::sample()),
        )
        .pseudonym_key(PseudonymKey::from_bytes(&[7; 32]).unwrap())
        .otp_key(&[8; 32])
        .consent_store(store)
        .build()
        .unwrap()
    };
    (make(), make())
}

const FULL: ConsentRequest<'static> = ConsentRequest {
    mobile: "9556719886",
    name: "సాయి దేవి",
    audience: "irctc.example",
    nonce: "PNR-1",
};

#[test]
fn a_consent_begun_on_one_instance_completes_once_on_another() {
    let redis = Redis::start();
    let (a, b) = issuers(&redis);
    let challenge = a.begin(&FULL, NOW).unwrap();
    let token = b
        .complete(&challenge.consent_id, challenge.otp.expose(), NOW + 5)
        .unwrap();
    let mut trust = TrustStore::new();
    trust
        .add(key().public_key().clone(), "cowin.example")
        .unwrap();
    let v = Verifier::new(trust, Policy::new("irctc.example")).unwrap();
    assert_eq!(
        v.verify(&token, "PNR-1", NOW + 6).unwrap().status(),
        VaccinationStatus::FullyVaccinated
    );
    assert_eq!(
        a.complete(&challenge.consent_id, challenge.otp.expose(), NOW + 7)
            .unwrap_err()
            .code(),
        ErrorCode::ConsentNotFound
    );
    // Nothing personal in Redis: only ids, MACs and the stored consent form.
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query(&mut redis.connection())
        .unwrap();
    for k in &keys {
        assert!(!k.contains("9556719886"), "{k}");
    }
}

#[test]
fn concurrent_completes_across_instances_give_exactly_one_token() {
    let redis = Redis::start();
    let (a, b) = issuers(&redis);
    for round in 0..5 {
        let request = ConsentRequest {
            nonce: &format!("PNR-{round}"),
            ..FULL
        };
        let challenge = a.begin(&request, NOW).unwrap();
        let barrier = std::sync::Barrier::new(16);
        let tokens: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..16)
                .map(|i| {
                    let (service, barrier, challenge) =
                        (if i % 2 == 0 { &a } else { &b }, &barrier, &challenge);
                    scope.spawn(move || {
                        barrier.wait();
                        service
                            .complete(&challenge.consent_id, challenge.otp.expose(), NOW + 1)
                            .map_err(|e| e.code())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|r| match r {
                    Ok(_) => true,
                    Err(code) => {
                        assert_eq!(*code, ErrorCode::ConsentNotFound);
                        false
                    }
                })
                .count()
        });
        assert_eq!(tokens, 1, "round {round}");
    }
}

#[test]
fn the_rate_limit_is_shared_and_a_pending_consent_survives_a_redis_restart() {
    let mut redis = Redis::start();
    let (a, b) = issuers(&redis);
    let challenge = a.begin(&FULL, NOW).unwrap();
    for _ in 0..4 {
        b.begin(&FULL, NOW + 1).unwrap();
    }
    assert_eq!(
        a.begin(&FULL, NOW + 2).unwrap_err().code(),
        ErrorCode::RateLimited
    );
    redis.kill();
    assert_eq!(
        b.complete(&challenge.consent_id, challenge.otp.expose(), NOW + 3)
            .unwrap_err()
            .code(),
        ErrorCode::ConsentStoreUnavailable
    );
    assert_eq!(
        a.begin(&FULL, NOW + 3).unwrap_err().code(),
        ErrorCode::ConsentStoreUnavailable
    );
    redis.spawn();
    // AOF: the consent is still there, and the failed complete did not use it up.
    b.complete(&challenge.consent_id, challenge.otp.expose(), NOW + 4)
        .unwrap();
}
