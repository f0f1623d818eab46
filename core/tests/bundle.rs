//! Signed trust bundles: every case of `testvectors/bundles.json` (the C and Python suites run
//! the same file), then signing, and the key window under the verifier.

use kycvs_core::{
    BundleLoad, BundleTerms, ErrorCode, Issuer, KeyWindow, MAX_TIME, Policy, SigningKey,
    TokenRequest, TrustBundle, TrustStore, VaccinationStatus, Verifier,
};
use serde_json::Value;
use std::path::PathBuf;

fn vectors() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testvectors/bundles.json");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_slice(&bytes).expect("bundles.json")
}

fn text<'a>(case: &'a Value, field: &str) -> &'a str {
    case[field].as_str().unwrap_or_else(|| panic!("{field}"))
}

fn number(case: &Value, field: &str) -> u64 {
    case[field].as_u64().unwrap_or_else(|| panic!("{field}"))
}

fn load(case: &Value, now_field: &str, min_sequence: u64) -> kycvs_core::Result<TrustBundle> {
    let root = TrustBundle::root_key_from_jwk(text(case, "root").as_bytes())?;
    let how = BundleLoad {
        root: &root,
        min_sequence,
        now: number(case, now_field),
    };
    TrustBundle::load(text(case, "bundle").as_bytes(), &how)
}

#[test]
fn every_bundle_vector_gives_its_expected_outcome() {
    let doc = vectors();
    let cases = doc["cases"].as_array().expect("cases");
    let mut failures = Vec::new();
    for case in cases {
        let name = text(case, "name");
        let expected = text(case, "expected");
        match (load(case, "now", number(case, "min_sequence")), expected) {
            (Ok(bundle), "ok") => {
                let kids: Vec<&str> = bundle.trust_store().iter().map(|k| k.key().kid()).collect();
                let want: Vec<&str> = case["kids"]
                    .as_array()
                    .expect("kids")
                    .iter()
                    .map(|k| k.as_str().expect("kid"))
                    .collect();
                if kids != want || Some(bundle.sequence()) != case["sequence"].as_u64() {
                    failures.push(format!(
                        "{name}: got seq {} kids {kids:?}",
                        bundle.sequence()
                    ));
                }
            }
            (Err(e), code) if e.code().as_str() == code => {}
            (got, _) => failures.push(format!("{name}: expected {expected}, got {got:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every rejection the issue names has at least one case.
    for code in [
        "invalid_bundle",
        "stale_bundle",
        "bundle_rollback",
        "invalid_key",
        "ok",
    ] {
        assert!(
            cases.iter().any(|c| c["expected"] == code),
            "no case expects {code}"
        );
    }
    assert!(cases.len() >= 40);
}

#[test]
fn every_token_vector_gives_its_expected_outcome() {
    let doc = vectors();
    let cases = doc["token_cases"].as_array().expect("token_cases");
    let mut failures = Vec::new();
    for case in cases {
        let name = text(case, "name");
        let bundle = load(case, "bundle_now", 0).unwrap_or_else(|e| panic!("{name}: {e}"));
        let verifier = Verifier::new(
            bundle.into_trust_store(),
            Policy::new(text(case, "audience")).without_nonce_check(),
        )
        .expect("verifier");
        let verdict = verifier.verify_without_nonce(text(case, "token"), number(case, "now"));
        let expected = text(case, "expected");
        match (&verdict, expected) {
            (Ok(_), "ok") => {}
            (Err(e), code) if e.code().as_str() == code => {}
            _ => failures.push(format!("{name}: expected {expected}, got {verdict:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(cases.iter().any(|c| c["expected"] == "key_not_valid"));
    assert!(cases.iter().any(|c| c["expected"] == "ok"));
}

#[test]
fn signing_reproduces_the_vector_bundle() {
    // The vector was written by hand in the generator; TrustBundle::sign must give the same
    // bytes for the same content (Ed25519 signatures are deterministic).
    let doc = vectors();
    let case = doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["name"] == "bundle/ok")
        .expect("bundle/ok");
    let loaded = load(case, "now", 0).expect("loads");
    let root = SigningKey::from_seed(&[0x52; 32]);
    let terms = BundleTerms {
        sequence: loaded.sequence(),
        issued_at: loaded.issued_at(),
        expires_at: loaded.expires_at(),
        default_key_window: None,
    };
    let again = TrustBundle::new(loaded.trust_store(), &terms)
        .and_then(|b| b.sign(&root))
        .expect("sign");
    assert_eq!(again, text(case, "bundle"));
}

fn fresh_bundle(key: &SigningKey, window: (u64, u64)) -> TrustBundle {
    let mut trust = TrustStore::new();
    trust
        .add_with_window(
            key.public_key().clone(),
            "cowin.example",
            KeyWindow::new(window.0, window.1).expect("window"),
        )
        .expect("add");
    let terms = BundleTerms {
        sequence: 3,
        issued_at: 1_000,
        expires_at: 1_000_000,
        default_key_window: None,
    };
    TrustBundle::new(&trust, &terms).expect("bundle")
}

#[test]
fn rejects_each_bad_bundle_with_its_code() {
    let root = SigningKey::from_seed(&[1; 32]);
    let key = SigningKey::from_seed(&[2; 32]);
    let signed = fresh_bundle(&key, (0, 10)).sign(&root).expect("sign");
    let load = |bundle: &str, root: &SigningKey, now, min_sequence| {
        let how = BundleLoad {
            root: root.public_key(),
            min_sequence,
            now,
        };
        TrustBundle::load(bundle.as_bytes(), &how).map(|b| b.sequence())
    };
    assert_eq!(load(&signed, &root, 999_999, 3), Ok(3));
    let code = |r: kycvs_core::Result<u64>| r.unwrap_err().code();
    // Wrong root.
    assert_eq!(
        code(load(&signed, &key, 5_000, 0)),
        ErrorCode::InvalidBundle
    );
    // Bad signature: the last signature character changed.
    let mut tampered = signed.clone();
    let last = tampered.pop().expect("char");
    tampered.push(if last == 'A' { 'Q' } else { 'A' });
    assert_eq!(
        code(load(&tampered, &root, 5_000, 0)),
        ErrorCode::InvalidBundle
    );
    // Stale, exactly at exp (fail closed, no leeway).
    assert_eq!(
        code(load(&signed, &root, 1_000_000, 0)),
        ErrorCode::StaleBundle
    );
    // Rollback.
    assert_eq!(
        code(load(&signed, &root, 5_000, 4)),
        ErrorCode::BundleRollback
    );
    // Not UTF-8.
    assert_eq!(
        TrustBundle::load(
            b"\xff.\xff.\xff",
            &BundleLoad {
                root: root.public_key(),
                min_sequence: 0,
                now: 0
            }
        )
        .unwrap_err()
        .code(),
        ErrorCode::InvalidBundle
    );
    // A status token is not a bundle, even when the root key signed it.
    let token = Issuer::new(SigningKey::from_seed(&[1; 32]), "cowin.example")
        .expect("issuer")
        .issue(&request(), 5_000)
        .expect("issue");
    assert_eq!(
        code(load(&token, &root, 5_000, 0)),
        ErrorCode::InvalidBundle
    );
}

fn request() -> TokenRequest<'static> {
    TokenRequest {
        audience: "irctc.example",
        nonce: "PNR-1",
        subject: "psn-1",
        status: VaccinationStatus::FullyVaccinated,
        ttl: 300,
    }
}

#[test]
fn the_verifier_applies_the_key_window_to_iat() {
    let root = SigningKey::from_seed(&[1; 32]);
    let key = SigningKey::from_seed(&[2; 32]);
    let signed = fresh_bundle(&key, (10_000, 20_000))
        .sign(&root)
        .expect("sign");
    let how = BundleLoad {
        root: root.public_key(),
        min_sequence: 0,
        now: 5_000,
    };
    let trust = TrustBundle::load(signed.as_bytes(), &how)
        .expect("load")
        .into_trust_store();
    let verifier = Verifier::new(trust, Policy::new("irctc.example")).expect("verifier");
    let issuer = Issuer::new(key, "cowin.example").expect("issuer");
    let verdict = |iat: u64| {
        let token = issuer.issue(&request(), iat).expect("issue");
        verifier.verify(&token, "PNR-1", iat + 1).map(|v| v.iat())
    };
    assert_eq!(verdict(10_000), Ok(10_000));
    assert_eq!(verdict(19_999), Ok(19_999));
    for outside in [9_999, 20_000, 30_000] {
        assert_eq!(
            verdict(outside).unwrap_err().code(),
            ErrorCode::KeyNotValid,
            "iat {outside}"
        );
    }
    // The same key from a plain JWKS has no window: any iat.
    let mut plain = TrustStore::new();
    plain
        .add(issuer.signing_key().public_key().clone(), "cowin.example")
        .expect("add");
    let plain = Verifier::new(plain, Policy::new("irctc.example")).expect("verifier");
    let token = issuer.issue(&request(), 30_000).expect("issue");
    assert!(plain.verify(&token, "PNR-1", 30_001).is_ok());
}

#[test]
fn windows_round_trip_through_jwks() {
    let key = SigningKey::from_seed(&[2; 32]);
    let mut trust = TrustStore::new();
    trust
        .add_with_window(
            key.public_key().clone(),
            "cowin.example",
            KeyWindow::new(5, 6).expect("window"),
        )
        .expect("add");
    let back = TrustStore::from_jwks(trust.to_jwks().as_bytes()).expect("jwks");
    let window = back
        .get(key.kid())
        .and_then(|k| k.window())
        .expect("window");
    assert_eq!((window.nbf(), window.exp()), (5, 6));
    // Half a window, or an empty one, is refused.
    for extra in [r#","nbf":5"#, r#","exp":5"#, r#","nbf":5,"exp":5"#] {
        let jwk = key.public_key().to_jwk("cowin.example").to_string();
        let doc = format!(r#"{{"keys":[{}{extra}}}]}}"#, &jwk[..jwk.len() - 1]);
        assert_eq!(
            TrustStore::from_jwks(doc.as_bytes()).unwrap_err().code(),
            ErrorCode::InvalidTrustStore,
            "{doc}"
        );
    }
    assert_eq!(
        KeyWindow::new(1, MAX_TIME + 1).unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
}
