//! Fixtures shared by the fuzz targets: the test-vector trust store and keys, a fixed policy
//! and clock, and the properties every verified result must have.

use kycvs_core::{
    BatchItem, Error, MAX_ID_LEN, MAX_TIME, Policy, SigningKey, TrustStore, VerifiedStatus,
    Verifier, is_valid_id, is_valid_nonce,
};
use std::sync::OnceLock;

/// `testvectors/trust.jwks`: keys `a` and `b` of the vectors.
pub const TRUST_JWKS: &[u8] = include_bytes!("../../testvectors/trust.jwks");
/// `testvectors/keys.json`: the vector keys' seeds (test keys only).
const KEYS_JSON: &[u8] = include_bytes!("../../testvectors/keys.json");
/// `testvectors/verify.json`: every vector token, a pool of near-valid inputs.
const VERIFY_JSON: &[u8] = include_bytes!("../../testvectors/verify.json");

/// The vectors' clock.
pub const NOW: u64 = 1_800_000_000;
/// The vectors' verifier audience.
pub const AUDIENCE: &str = "irctc.verifier.example";
/// The vectors' expected nonce.
pub const NONCE: &str = "PNR-2611-4711";
/// The default leeway of the fixed policy.
pub const LEEWAY: u64 = 60;
/// The default maximum lifetime of the fixed policy.
pub const MAX_LIFETIME: u64 = 3600;

/// A vector signing key with its bound issuer and whether `trust.jwks` holds it.
pub struct VectorKey {
    /// The key.
    pub key: SigningKey,
    /// The issuer bound to it.
    pub issuer: String,
    /// Whether the trust store holds it.
    pub trusted: bool,
}

/// The vector keys `a`, `b`, `untrusted`, in the order of `keys.json`.
pub fn keys() -> &'static [VectorKey] {
    static KEYS: OnceLock<Vec<VectorKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let doc: serde_json::Value = serde_json::from_slice(KEYS_JSON).expect("keys.json");
        doc["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| {
                let hex = k["seed"].as_str().expect("seed");
                let seed: Vec<u8> = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex seed"))
                    .collect();
                VectorKey {
                    key: SigningKey::from_seed(&seed.try_into().expect("32-byte seed")),
                    issuer: k["issuer"].as_str().expect("issuer").to_owned(),
                    trusted: k["trusted"].as_bool().expect("trusted"),
                }
            })
            .collect()
    })
}

/// Every token of `verify.json` (valid and invalid).
pub fn vector_tokens() -> &'static [String] {
    static TOKENS: OnceLock<Vec<String>> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let doc: serde_json::Value = serde_json::from_slice(VERIFY_JSON).expect("verify.json");
        doc["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .filter_map(|c| c["token"].as_str().map(str::to_owned))
            .collect()
    })
}

/// The trust store of the vectors.
pub fn trust() -> &'static TrustStore {
    static TRUST: OnceLock<TrustStore> = OnceLock::new();
    TRUST.get_or_init(|| TrustStore::from_jwks(TRUST_JWKS).expect("trust.jwks"))
}

/// A verifier over the vectors' trust store with the default policy for [`AUDIENCE`], except
/// that the nonce check may be skipped, so that the targets reach both kinds of call.
pub fn verifier() -> &'static Verifier {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        Verifier::new(trust().clone(), Policy::new(AUDIENCE).without_nonce_check()).expect("policy")
    })
}

/// [`verifier`]'s verdict on `token`: with the expected nonce, or explicitly without one.
pub fn verify_bytes(token: &[u8], nonce: Option<&str>, now: u64) -> Result<VerifiedStatus, Error> {
    match nonce {
        Some(nonce) => verifier().verify_bytes(token, nonce, now),
        None => verifier().verify_without_nonce(token, now),
    }
}

/// The batch item of `token`: with the expected nonce, or explicitly without one.
pub fn batch_item<'a>(token: &'a [u8], nonce: Option<&'a str>) -> BatchItem<'a> {
    match nonce {
        Some(nonce) => BatchItem::new(token, nonce),
        None => BatchItem::without_nonce(token),
    }
}

/// Asserts what any `Ok` from [`verifier`] must satisfy, whatever the input was.
pub fn assert_consistent(v: &VerifiedStatus, expected_nonce: Option<&str>, now: u64) {
    let trusted = trust().get(v.kid()).expect("verified kid is trusted");
    assert_eq!(v.iss(), trusted.issuer(), "iss is bound to the signing key");
    assert_eq!(v.aud(), AUDIENCE, "aud is the policy audience");
    if let Some(nonce) = expected_nonce {
        assert_eq!(v.nonce(), nonce, "nonce is the expected one");
    }
    assert!(is_valid_nonce(v.nonce()), "nonce rules");
    assert!(
        is_valid_id(v.sub()) && v.sub().len() <= MAX_ID_LEN,
        "sub rules"
    );
    assert!(
        (22..=128).contains(&v.jti().len())
            && v.jti()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "jti rules"
    );
    let (iat, exp) = (v.iat(), v.exp());
    assert!(iat < exp && exp <= MAX_TIME, "iat < exp <= 2^53 - 1");
    assert!(iat <= now.saturating_add(LEEWAY), "not yet valid accepted");
    assert!(now < exp.saturating_add(LEEWAY), "expired accepted");
    assert!(exp - iat <= MAX_LIFETIME, "lifetime too long accepted");
}
