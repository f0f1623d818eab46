//! Runs every case of the shared test vectors (`testvectors/verify.json`) through the
//! verifier; the C and Python suites run the same file.

use kycvs_core::{Policy, TrustStore, VerifiedStatus, Verifier};
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

fn verifier_for(case: &Value, trust: &TrustStore) -> Verifier {
    let p = &case["policy"];
    let mut policy = Policy::new(p["audience"].as_str().expect("audience"))
        .with_leeway(p["leeway"].as_u64().expect("leeway"))
        .with_max_lifetime(p["max_lifetime"].as_u64().expect("max_lifetime"));
    if let Some(issuers) = p["issuers"].as_array() {
        policy = policy.with_issuers(issuers.iter().map(|i| i.as_str().expect("issuer")));
    }
    Verifier::new(trust.clone(), policy).expect("policy")
}

fn as_json(v: &VerifiedStatus) -> Value {
    serde_json::json!({
        "status": v.status.as_u8(), "iss": v.iss, "sub": v.sub, "aud": v.aud, "jti": v.jti,
        "nonce": v.nonce, "iat": v.iat, "exp": v.exp, "kid": v.kid,
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
        let verdict = verifier_for(case, &trust).verify(
            token,
            case["nonce"].as_str(),
            case["now"].as_u64().expect("now"),
        );
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
fn vectors_cover_every_status_and_verification_code() {
    let all = cases();
    let expected: BTreeSet<&str> = all.iter().filter_map(|c| c["expected"].as_str()).collect();
    for code in kycvs_core::ErrorCode::ALL
        .iter()
        .filter(|c| c.is_verification_failure())
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
    let mut lines = tsv.lines();
    assert!(lines.next().expect("header").starts_with("name\ttoken\t"));
    let mut n = 0;
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 11, "{line}");
        let case = json_cases
            .iter()
            .find(|c| c["name"] == fields[0])
            .expect("case in JSON");
        assert_eq!(case["token"], fields[1]);
        assert_eq!(case["expected"], fields[8]);
        n += 1;
    }
    // Only the trailing-newline case cannot be carried by TSV.
    assert_eq!(n + 1, json_cases.len());
}
