//! Runs every case of the shared test vectors (`testvectors/verify.json`) through the
//! verifier; the C and Python suites run the same file.

mod backend_support;

use kycvs_core::{BatchItem, ErrorCode, Policy, TrustStore, VerifiedStatus, Verifier};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testvectors")
}

fn load(name: &str) -> Vec<u8> {
    std::fs::read(vectors_dir().join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

fn cases() -> Vec<Value> {
    let doc: Value = serde_json::from_slice(&load("verify.json")).expect("verify.json");
    doc["cases"].as_array().expect("cases").clone()
}

/// The cases whose token is not UTF-8, given as `token_hex` (see `testvectors/README.md`).
fn byte_cases() -> Vec<(Value, Vec<u8>)> {
    let doc: Value = serde_json::from_slice(&load("verify.json")).expect("verify.json");
    doc["byte_cases"]
        .as_array()
        .expect("byte_cases")
        .iter()
        .map(|c| {
            let hex = c["token_hex"].as_str().expect("token_hex");
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            (c.clone(), bytes)
        })
        .collect()
}

/// The case's verifier; a case whose `nonce` is null ("expect none") gets a policy with the
/// nonce check turned off, as does every verifier when `check_nonce` is false.
fn verifier_with(case: &Value, trust: &TrustStore, check_nonce: bool) -> Verifier {
    let p = &case["policy"];
    let mut policy = Policy::new(p["audience"].as_str().expect("audience"));
    policy
        .set_leeway(p["leeway"].as_u64().expect("leeway"))
        .set_max_lifetime(p["max_lifetime"].as_u64().expect("max_lifetime"));
    if let Some(issuers) = p["issuers"].as_array() {
        policy.set_issuers(issuers.iter().map(|i| i.as_str().expect("issuer")));
    }
    if !check_nonce || case["nonce"].is_null() {
        policy.disable_nonce_check();
    }
    Verifier::new(trust.clone(), policy).expect("policy")
}

fn verifier_for(case: &Value, trust: &TrustStore) -> Verifier {
    verifier_with(case, trust, true)
}

/// Verifies `token` as the case says: with its nonce, or explicitly without one.
fn verify_case(
    verifier: &Verifier,
    case: &Value,
    token: &[u8],
    now: u64,
) -> Result<VerifiedStatus, kycvs_core::Error> {
    match case["nonce"].as_str() {
        Some(nonce) => verifier.verify_bytes(token, nonce, now),
        None => verifier.verify_without_nonce(token, now),
    }
}

/// The case's batch item.
fn item<'a>(case: &'a Value, token: &'a [u8]) -> BatchItem<'a> {
    match case["nonce"].as_str() {
        Some(nonce) => BatchItem::new(token, nonce),
        None => BatchItem::without_nonce(token),
    }
}

fn as_json(v: &VerifiedStatus) -> Value {
    serde_json::json!({
        "status": v.status().as_u8(), "iss": v.iss(), "sub": v.sub(), "aud": v.aud(),
        "jti": v.jti(), "nonce": v.nonce(), "iat": v.iat(), "exp": v.exp(), "kid": v.kid(),
    })
}

#[test]
fn every_vector_gives_its_expected_outcome() {
    let trust = TrustStore::from_jwks(&load("trust.jwks")).expect("trust.jwks");
    let mut failures = Vec::new();
    let all = cases();
    for case in &all {
        let name = case["name"].as_str().expect("name");
        let token = case["token"].as_str().expect("token");
        let now = case["now"].as_u64().expect("now");
        let verdict = match case["nonce"].as_str() {
            Some(nonce) => verifier_for(case, &trust).verify(token, nonce, now),
            None => verifier_for(case, &trust).verify_without_nonce(token, now),
        };
        let expected = case["expected"].as_str().expect("expected");
        match (&verdict, expected) {
            (Ok(v), "ok") if as_json(v) == case["result"] => {}
            (Err(e), code) if e.code().as_str() == code => {}
            _ => failures.push(format!("{name}: expected {expected}, got {verdict:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(all.len() > 100);
}

#[test]
fn every_byte_vector_gives_its_expected_outcome() {
    let trust = TrustStore::from_jwks(&load("trust.jwks")).expect("trust.jwks");
    let all = byte_cases();
    assert!(!all.is_empty());
    for (case, bytes) in &all {
        let name = case["name"].as_str().expect("name");
        assert!(std::str::from_utf8(bytes).is_err(), "{name} is UTF-8");
        let verifier = verifier_for(case, &trust);
        let now = case["now"].as_u64().expect("now");
        let verdict = verify_case(&verifier, case, bytes, now);
        let batch = verifier.verify_batch(&[item(case, bytes)], now);
        for v in [&verdict, &batch[0]] {
            assert_eq!(
                v.as_ref().map_err(|e| e.code().as_str()).unwrap_err(),
                case["expected"].as_str().expect("expected"),
                "{name}"
            );
        }
    }
}

/// A small deterministic generator, so that a failing composition can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// A verdict as JSON: the verified result, or the error's code and detail (SPEC 4.1: a batch
/// verdict is the single verdict, "the same error code (and detail)").
fn verdict_json(verdict: &Result<VerifiedStatus, kycvs_core::Error>) -> Value {
    match verdict {
        Ok(v) => as_json(v),
        Err(e) => serde_json::json!({"code": e.code().as_str(), "detail": e.detail()}),
    }
}

/// The verdict the case declares, in the shape of [`verdict_json`] without the detail.
fn expected_json(case: &Value) -> Value {
    match case["expected"].as_str() {
        Some("ok") => case["result"].clone(),
        other => Value::from(other.expect("expected")),
    }
}

/// [`verdict_json`] without the detail, to compare with [`expected_json`].
fn outcome_json(verdict: &Result<VerifiedStatus, kycvs_core::Error>) -> Value {
    match verdict {
        Ok(v) => as_json(v),
        Err(e) => Value::from(e.code().as_str()),
    }
}

/// Batch verification gives every token exactly its single verdict, whatever else is in the
/// batch: for each (policy, time) of the vectors, 64 random compositions of its own cases
/// (each must give its expected outcome) mixed with tokens from all other cases
/// (`backend_support::batch_rounds`).
#[test]
fn batch_verdicts_equal_single_verdicts_on_every_vector() {
    let trust = TrustStore::from_jwks(&load("trust.jwks")).expect("trust.jwks");
    let all = cases();
    let mut groups: Vec<(Value, u64, Vec<&Value>)> = Vec::new();
    for case in &all {
        let key = (case["policy"].clone(), case["now"].as_u64().expect("now"));
        match groups.iter_mut().find(|g| g.0 == key.0 && g.1 == key.1) {
            Some(group) => group.2.push(case),
            None => groups.push((key.0, key.1, vec![case])),
        }
    }
    let mut rng = Rng(0x6b79_6376_7300_0001);
    let mut checked = 0;
    let rounds = backend_support::batch_rounds();
    for (_, now, members) in &groups {
        // Nonces that are given are checked whatever the policy; turning the check off lets
        // the cases that expect none share a batch with the others.
        let verifier = verifier_with(members[0], &trust, false);
        for round in 0..rounds {
            // Every 32nd batch is long enough (64 to 95) for kycvs-ifma's batch equation on a
            // CPU with AVX-512 IFMA.
            let size = if round % 32 == 31 {
                64 + rng.below(32)
            } else {
                1 + rng.below(24)
            };
            let picked: Vec<(&Value, bool)> = (0..size)
                .map(|_| {
                    if rng.below(3) == 0 {
                        (&all[rng.below(all.len())], false)
                    } else {
                        (members[rng.below(members.len())], true)
                    }
                })
                .collect();
            let items: Vec<BatchItem<'_>> = picked
                .iter()
                .map(|(c, _)| item(c, c["token"].as_str().expect("token").as_bytes()))
                .collect();
            let batch = verifier.verify_batch(&items, *now);
            assert_eq!(batch.len(), items.len());
            for ((case, member), verdict) in picked.iter().zip(&batch) {
                let name = case["name"].as_str().expect("name");
                let token = case["token"].as_str().expect("token");
                let single = verify_case(&verifier, case, token.as_bytes(), *now);
                assert_eq!(
                    verdict_json(verdict),
                    verdict_json(&single),
                    "{name} in a batch"
                );
                if *member {
                    assert_eq!(
                        outcome_json(verdict),
                        expected_json(case),
                        "{name} in a batch"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(
        checked > 1000 * rounds / 64,
        "{checked} verdicts in {rounds} rounds"
    );
}

/// The chunked parallel path runs only when rayon's pool has more than one thread and the
/// batch holds at least 128 items; a forced pool of 4 threads makes it run on any machine.
/// Every case of one group of the vectors is repeated to 512 items (the mixed-order-R token
/// among them), and each verdict, code and detail, must equal its single verdict and the
/// declared outcome.
#[cfg(feature = "parallel")]
#[test]
fn chunked_parallel_batch_gives_single_verdicts() {
    let trust = TrustStore::from_jwks(&load("trust.jwks")).expect("trust.jwks");
    let all = cases();
    let first = all
        .iter()
        .find(|c| c["name"] == "ok/signature-mixed-order-r")
        .expect("mixed-order-R vector");
    let group: Vec<&Value> = all
        .iter()
        .filter(|c| c["policy"] == first["policy"] && c["now"] == first["now"])
        .collect();
    assert!(group.len() > 100, "{}", group.len());
    let picked: Vec<&Value> = group.iter().copied().cycle().take(512).collect();
    let verifier = verifier_with(first, &trust, false);
    let now = first["now"].as_u64().expect("now");
    let items: Vec<BatchItem<'_>> = picked
        .iter()
        .map(|c| item(c, c["token"].as_str().expect("token").as_bytes()))
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .expect("pool");
    let batch = pool.install(|| {
        assert_eq!(rayon::current_num_threads(), 4);
        verifier.verify_batch(&items, now)
    });
    assert_eq!(batch.len(), picked.len());
    for (case, verdict) in picked.iter().zip(&batch) {
        let name = case["name"].as_str().expect("name");
        let token = case["token"].as_str().expect("token");
        let single = verify_case(&verifier, case, token.as_bytes(), now);
        assert_eq!(verdict_json(verdict), verdict_json(&single), "{name}");
        assert_eq!(outcome_json(verdict), expected_json(case), "{name}");
    }
}

#[test]
fn verify_bytes_checks_size_before_utf8() {
    let trust = TrustStore::from_jwks(&load("trust.jwks")).expect("trust.jwks");
    let verifier = Verifier::new(trust, Policy::new("irctc.example")).expect("verifier");
    let invalid_utf8 = [0xffu8; 16];
    let err = verifier.verify_bytes(&invalid_utf8, "n", 0).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Malformed);
    let long_invalid = vec![0xffu8; kycvs_core::MAX_TOKEN_LEN + 1];
    let err = verifier.verify_bytes(&long_invalid, "n", 0).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
    // The same from a batch.
    let batch = verifier.verify_batch(
        &[
            BatchItem::new(&invalid_utf8[..], "n"),
            BatchItem::new(&long_invalid[..], "n"),
        ],
        0,
    );
    assert_eq!(batch[0].as_ref().unwrap_err().code(), ErrorCode::Malformed);
    assert_eq!(batch[1].as_ref().unwrap_err().code(), ErrorCode::TooLarge);
    assert!(verifier.verify_batch(&[], 0).is_empty());
}

#[test]
fn vectors_cover_every_status_and_verification_code() {
    let all = cases();
    let expected: BTreeSet<&str> = all.iter().filter_map(|c| c["expected"].as_str()).collect();
    // A replay needs a second presentation and a key window needs a trust bundle: those two
    // have their own suites (replay guard, trust bundles), not single-token vectors.
    let stateful = [ErrorCode::Replayed, ErrorCode::KeyNotValid];
    for code in ErrorCode::ALL
        .iter()
        .filter(|c| c.is_verification_failure() && !stateful.contains(c))
    {
        assert!(expected.contains(code.as_str()), "no vector for {code}");
    }
    let statuses: BTreeSet<u64> = all
        .iter()
        .filter_map(|c| c["result"]["status"].as_u64())
        .collect();
    assert_eq!(statuses, BTreeSet::from([0, 1, 2]));
}

#[test]
fn tsv_carries_the_same_cases_as_json() {
    let tsv = String::from_utf8(load("verify.tsv")).expect("utf-8");
    let json_cases = cases();
    let bytes = byte_cases();
    let mut lines = tsv.lines();
    assert!(lines.next().expect("header").starts_with("name\ttoken\t"));
    let mut n = 0;
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 19, "{line}");
        let case = json_cases
            .iter()
            .chain(bytes.iter().map(|(c, _)| c))
            .find(|c| c["name"] == fields[0])
            .expect("case in JSON");
        if fields[11].is_empty() {
            assert_eq!(case["token"], fields[1]);
        } else {
            assert_eq!(
                (case["token_hex"].as_str(), fields[1]),
                (Some(fields[11]), "")
            );
        }
        assert_eq!(case["expected"], fields[8]);
        // Columns 9, 10 and 12..=18: every field of an ok case's verified result.
        let result = &case["result"];
        for (column, field) in [
            (9, "status"),
            (10, "kid"),
            (12, "iss"),
            (13, "sub"),
            (14, "aud"),
            (15, "jti"),
            (16, "nonce"),
            (17, "iat"),
            (18, "exp"),
        ] {
            let want = match &result[field] {
                Value::Null => String::new(),
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            assert_eq!(fields[column], want, "{} {field}", fields[0]);
        }
        n += 1;
    }
    // Only the trailing-newline case cannot be carried by TSV.
    assert_eq!(n + 1, json_cases.len() + bytes.len());
}
