//! Strict verification: the nonce is required unless the policy turns its check off, a token
//! of another algorithm is `unsupported_algorithm` whatever its signature's length, and a
//! batch with pre-judged items gives every token its single verdict.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kycvs_core::{
    BatchItem, Error, ErrorCode, Issuer, Policy, SigningKey, TokenRequest, TrustStore,
    VaccinationStatus, Verifier,
};

const NOW: u64 = 1_800_000_000;

fn setup(policy: Policy) -> (Issuer, Verifier) {
    let key = SigningKey::from_seed(&[7; 32]);
    let mut trust = TrustStore::new();
    trust
        .add(key.public_key().clone(), "cowin.example")
        .unwrap();
    let issuer = Issuer::new(key, "cowin.example").unwrap();
    (issuer, Verifier::new(trust, policy).unwrap())
}

fn token(issuer: &Issuer, nonce: &str) -> String {
    let request = TokenRequest {
        audience: "irctc.example",
        nonce,
        subject: "p-1",
        status: VaccinationStatus::FullyVaccinated,
        ttl: 300,
    };
    issuer.issue(&request, NOW).unwrap()
}

#[test]
fn without_a_nonce_is_invalid_argument_unless_the_policy_disables_the_check() {
    let (issuer, strict) = setup(Policy::new("irctc.example"));
    let t = token(&issuer, "PNR-1");
    let err = strict.verify_without_nonce(&t, NOW).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(err.detail().contains("nonce"), "{err}");
    // Before any other check: even a malformed token gets it.
    let err = strict.verify_without_nonce("x", NOW).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    let verdicts = strict.verify_batch(&[BatchItem::without_nonce(&t)], NOW);
    assert_eq!(
        verdicts[0].as_ref().unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    assert!(strict.verify(&t, "PNR-1", NOW).is_ok());

    let mut policy = Policy::new("irctc.example");
    policy.disable_nonce_check();
    let (_, lenient) = setup(policy);
    let v = lenient.verify_without_nonce(&t, NOW).unwrap();
    assert_eq!(v.nonce(), "PNR-1");
    assert_eq!(v.status(), VaccinationStatus::FullyVaccinated);
    let verdicts = lenient.verify_batch(&[BatchItem::without_nonce(t.as_bytes())], NOW);
    assert_eq!(verdicts[0], Ok(v));
    // A nonce that is given is still checked.
    assert_eq!(
        lenient.verify(&t, "PNR-2", NOW).unwrap_err().code(),
        ErrorCode::NonceMismatch
    );
}

#[test]
fn verified_status_accessors_give_the_verified_claims() {
    let (issuer, verifier) = setup(Policy::new("irctc.example"));
    let t = token(&issuer, "PNR-1");
    let v = verifier.verify(&t, "PNR-1", NOW + 1).unwrap();
    assert_eq!(
        (v.iss(), v.sub(), v.aud(), v.nonce(), v.iat(), v.exp()),
        (
            "cowin.example",
            "p-1",
            "irctc.example",
            "PNR-1",
            NOW,
            NOW + 300
        )
    );
    assert_eq!(v.kid(), issuer.signing_key().kid());
    assert!(!v.jti().is_empty());
}

/// A header of another algorithm is judged before the signature's length: an HS256 token
/// (a 32-byte MAC) is `unsupported_algorithm`, not `malformed`.
#[test]
fn hs256_is_unsupported_algorithm_not_malformed() {
    let (issuer, verifier) = setup(Policy::new("irctc.example"));
    let genuine = token(&issuer, "PNR-1");
    let claims = genuine.split('.').nth(1).unwrap();
    let kid = issuer.signing_key().kid();
    let header = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"alg":"HS256","typ":"kycvs+jwt","kid":"{kid}"}}"#
    ));
    let mac = URL_SAFE_NO_PAD.encode([0x5a; 32]);
    let hs256 = format!("{header}.{claims}.{mac}");
    let err = verifier.verify(&hs256, "PNR-1", NOW).unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnsupportedAlgorithm, "{err}");
    let batch = verifier.verify_batch(&[BatchItem::new(&hs256, "PNR-1")], NOW);
    assert_eq!(batch[0].as_ref().unwrap_err(), &err);
    // A supported header with a short signature is still malformed.
    let ed = genuine.split('.').next().unwrap();
    let short = format!("{ed}.{claims}.{mac}");
    let err = verifier.verify(&short, "PNR-1", NOW).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Malformed);
    assert!(err.detail().contains("64 bytes"), "{err}");
    // A signature segment that is not base64url is malformed before the header is read.
    let bad = format!("{header}.{claims}.!!");
    assert_eq!(
        verifier.verify(&bad, "PNR-1", NOW).unwrap_err().code(),
        ErrorCode::Malformed
    );
}

#[test]
fn a_batch_with_rejected_items_gives_every_item_its_single_verdict() {
    let (issuer, verifier) = setup(Policy::new("irctc.example"));
    let good = token(&issuer, "PNR-1");
    let other = token(&issuer, "PNR-2");
    let not_utf8 = [0xff_u8, 0xfe];
    let rejected = Error::new(ErrorCode::InvalidArgument, "nonce is not UTF-8");
    let items = [
        BatchItem::new(&good, "PNR-1"),
        BatchItem::rejected(rejected.clone()),
        BatchItem::new(&other, "PNR-1"),
        BatchItem::new(&not_utf8[..], "PNR-1"),
        BatchItem::without_nonce(&good),
        BatchItem::rejected(Error::new(ErrorCode::NullArgument, "token is NULL")),
        BatchItem::new(&other, "PNR-2"),
    ];
    let batch = verifier.verify_batch(&items, NOW);
    let single = [
        verifier.verify(&good, "PNR-1", NOW),
        Err(rejected),
        verifier.verify(&other, "PNR-1", NOW),
        verifier.verify_bytes(&not_utf8, "PNR-1", NOW),
        verifier.verify_without_nonce(&good, NOW),
        Err(Error::new(ErrorCode::NullArgument, "token is NULL")),
        verifier.verify(&other, "PNR-2", NOW),
    ];
    assert_eq!(batch, single);
    assert!(batch[0].is_ok() && batch[6].is_ok());
    // Rejected items do not break the parallel path either.
    let many: Vec<BatchItem<'_>> = (0..300)
        .map(|i| match i % 3 {
            0 => BatchItem::rejected(Error::new(ErrorCode::InvalidArgument, "x")),
            _ => BatchItem::new(&good, "PNR-1"),
        })
        .collect();
    let verdicts = verifier.verify_batch(&many, NOW);
    for (i, v) in verdicts.iter().enumerate() {
        assert_eq!(v.is_ok(), i % 3 != 0, "item {i}");
    }
}
