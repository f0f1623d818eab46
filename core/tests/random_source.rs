//! Every caller of the OS random source when it fails (`random_source`, error 103), through
//! the test-only `test_hooks` switch (the `test-hooks` feature, on for these tests only):
//! key generation, `jti`, OTP and consent id in `begin`, the keys a builder draws, the
//! consent file's temporary name, and the batch verifier's coefficients, whose failure must
//! fall back to single verification with the same verdicts.

mod issuance_support;

use issuance_support::*;
use kycvs_core::test_hooks::fail_os_random_after;
use kycvs_core::{
    BatchItem, ConsentRequest, ErrorCode, Issuer, MemoryConsentStore, PseudonymKey, SigningKey,
    TokenRequest, VaccinationStatus, hazmat,
};
use std::sync::Arc;

fn request(nonce: &str) -> TokenRequest<'_> {
    TokenRequest {
        audience: AUDIENCE,
        nonce,
        subject: "pseudonym-1",
        status: VaccinationStatus::FullyVaccinated,
        ttl: 300,
    }
}

fn assert_random_source<T: std::fmt::Debug>(result: kycvs_core::Result<T>) {
    let err = result.expect_err("a failing random source must fail the call");
    assert_eq!(err.code(), ErrorCode::RandomSource, "{err:?}");
    assert_eq!(err.code().number(), 103);
}

#[test]
fn key_generation_fails_without_randomness() {
    {
        let _failing = fail_os_random_after(0);
        assert_random_source(SigningKey::generate());
        assert_random_source(PseudonymKey::generate());
    }
    // The switch is gone with its guard.
    assert!(SigningKey::generate().is_ok());
    assert!(PseudonymKey::generate().is_ok());
}

#[test]
fn issuing_without_a_jti_gives_no_token() {
    let issuer = Issuer::new(signing_key(), ISSUER).unwrap();
    {
        let _failing = fail_os_random_after(0);
        assert_random_source(issuer.issue(&request("PNR-1"), NOW));
    }
    let token = issuer.issue(&request("PNR-1"), NOW).unwrap();
    verifier().verify(&token, "PNR-1", NOW).unwrap();
}

/// `begin` draws the OTP first, then the consent id: failing at either stores no consent.
#[test]
fn begin_without_an_otp_or_a_consent_id_stores_nothing() {
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let consent = ConsentRequest {
        mobile: &p.mobile,
        name: &p.name,
        audience: AUDIENCE,
        nonce: "PNR-1",
    };
    let store = Arc::new(MemoryConsentStore::new());
    let service = builder().consent_store(store.clone()).build().unwrap();
    for successes in [0, 1] {
        let _failing = fail_os_random_after(successes);
        assert_random_source(service.begin(&consent, NOW));
        assert!(
            store.is_empty(),
            "after {successes} draws: {} held",
            store.len()
        );
    }
    let challenge = service.begin(&consent, NOW).unwrap();
    assert_eq!(store.len(), 1);
    service
        .complete(&challenge.consent_id, challenge.otp.expose(), NOW)
        .unwrap();
}

/// A builder without a given OTP key or pseudonym key draws them when it builds.
#[test]
fn building_without_keys_to_draw_fails() {
    let issuer = || Issuer::new(signing_key(), ISSUER).unwrap();
    let registry = Arc::new(kycvs_core::JsonlRegistry::sample());
    let _failing = fail_os_random_after(0);
    assert_random_source(kycvs_core::IssuanceService::builder(issuer(), registry.clone()).build());
    // With the pseudonym key given, the OTP key is still drawn.
    assert_random_source(builder().build());
    assert_random_source(kycvs_core::ConsentCompleter::builder(issuer()).build_completer());
}

/// The consent file is rewritten through a temporary file with a random name: no name, no
/// write, and the file keeps the consents it held.
#[test]
fn consent_file_is_not_written_without_a_temporary_name() {
    let dir = std::env::temp_dir().join(format!("kycvs-random-source-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("consents");
    let _ = std::fs::remove_file(&path);
    let service = builder().consent_file(&path).build().unwrap();
    let p = person_with(Ok(VaccinationStatus::FullyVaccinated));
    let consent = ConsentRequest {
        mobile: &p.mobile,
        name: &p.name,
        audience: AUDIENCE,
        nonce: "PNR-1",
    };
    service.begin(&consent, NOW).unwrap();
    let consents = || {
        let file: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        file["consents"].clone()
    };
    let before = consents();
    assert_eq!(before.as_array().unwrap().len(), 1);
    let result = {
        // The rate count's write, the OTP and the consent id succeed; the temporary name
        // for the consent's write does not.
        let _failing = fail_os_random_after(3);
        service.begin(&consent, NOW + 1)
    };
    let err = result.expect_err("the store cannot be written");
    assert_eq!(err.code(), ErrorCode::ConsentStoreUnavailable, "{err:?}");
    assert_eq!(consents(), before);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// SPEC §4: when the coefficients cannot be drawn the batch falls back to single
/// verification, so every verdict is still exactly the single one: valid tokens pass, a bad
/// signature among them is caught. (Fewer than 128 items: one chunk, on this thread.)
#[test]
fn batch_without_coefficients_gives_single_verdicts() {
    let issuer = Issuer::new(signing_key(), ISSUER).unwrap();
    let verifier = verifier();
    let mut tokens: Vec<String> = (0..6)
        .map(|i| issuer.issue(&request(&format!("PNR-{i}")), NOW).unwrap())
        .collect();
    // Token 2 with its last signature character changed: a bad signature.
    let mut bad = tokens[2].clone().into_bytes();
    let last = bad.len() - 2;
    bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
    tokens[2] = String::from_utf8(bad).unwrap();
    // Token 4 signed by a key the verifier does not trust under a kid it does: bad too.
    let other = SigningKey::from_seed(&[9u8; 32]);
    let header = format!(
        r#"{{"alg":"EdDSA","typ":"kycvs+jwt","kid":"{}"}}"#,
        signing_key().kid()
    );
    let claims = kycvs_core::inspect_unverified(&tokens[4]).unwrap().claims;
    tokens[4] = hazmat::sign_raw(&other, header.as_bytes(), claims.to_string().as_bytes());
    let nonces: Vec<String> = (0..6).map(|i| format!("PNR-{i}")).collect();
    let items: Vec<BatchItem<'_>> = tokens
        .iter()
        .zip(&nonces)
        .map(|(t, n)| BatchItem::new(t.as_str(), n))
        .collect();
    let single: Vec<String> = tokens
        .iter()
        .zip(&nonces)
        .map(|(t, n)| format!("{:?}", verifier.verify(t, n, NOW)))
        .collect();
    let batch: Vec<String> = {
        let _failing = fail_os_random_after(0);
        verifier.verify_batch(&items, NOW)
    }
    .iter()
    .map(|v| format!("{v:?}"))
    .collect();
    assert_eq!(batch, single);
    let valid = single.iter().filter(|v| v.starts_with("Ok")).count();
    assert_eq!(valid, 4, "{single:#?}");
    assert!(single[2].contains("BadSignature") && single[4].contains("BadSignature"));
    // All valid: the fallback passes them all.
    let good = [0, 1, 3, 5].map(|i| items[i].clone());
    let _failing = fail_os_random_after(0);
    assert!(verifier.verify_batch(&good, NOW).iter().all(|v| v.is_ok()));
}
