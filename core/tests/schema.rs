//! The JSON Schemas in `core/schemas/` are the contract of the header and claims; the
//! verifier's typed checks must agree with them on every decodable test vector.

use kycvs_core::{Claims, Header};
use serde_json::Value;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validator(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("schemas").join(name)).expect("schema");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn b64decode(segment: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .ok()
}

/// Decoded JSON of a segment, when it is a strict JSON document (no duplicate members: the
/// schema sees a serde_json value, in which a duplicate would silently collapse).
fn strict_json(bytes: &[u8]) -> Option<Value> {
    kycvs_core::inspect_unverified(&format!(
        "{}.{}.AA",
        base64_encode(b"{}"),
        base64_encode(bytes)
    ))
    .ok()
    .map(|i| i.claims)
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// True when the claims break one of the two rules JSON Schema cannot express: an integer
/// claim written as a float, or `exp <= iat`.
fn outside_schema(raw: &[u8], claims: &Value) -> bool {
    let reparsed: Value = serde_json::from_slice(raw).expect("already parsed");
    let lexical_float = ["iat", "exp", "vs"]
        .iter()
        .any(|k| reparsed.get(*k).is_some_and(|v| v.is_f64()));
    let relational = matches!(
        (claims["iat"].as_u64(), claims["exp"].as_u64()),
        (Some(iat), Some(exp)) if exp <= iat
    );
    lexical_float || relational
}

#[test]
fn typed_checks_agree_with_the_schemas_on_every_vector() {
    let header_schema = validator("header.schema.json");
    let claims_schema = validator("claims.schema.json");
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("../testvectors/verify.json")).expect("vectors"),
    )
    .expect("json");
    let (mut headers_checked, mut claims_checked) = (0, 0);
    for case in doc["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let token = case["token"].as_str().expect("token");
        let segments: Vec<&str> = token.split('.').collect();
        if segments.len() != 3 || token.len() > kycvs_core::MAX_TOKEN_LEN {
            continue;
        }
        if let Some(raw) = b64decode(segments[0])
            && let Some(json) = strict_json(&raw)
        {
            let typed = Header::from_json(&raw).is_ok();
            assert_eq!(
                header_schema.is_valid(&json),
                typed,
                "{name}: header schema and typed check disagree"
            );
            headers_checked += 1;
        }
        if let Some(raw) = b64decode(segments[1])
            && let Some(json) = strict_json(&raw)
        {
            let typed = Claims::from_json(&raw).is_ok();
            let schema = claims_schema.is_valid(&json);
            if typed {
                assert!(
                    schema,
                    "{name}: typed check accepts what the schema rejects"
                );
            } else if schema {
                assert!(
                    outside_schema(&raw, &json),
                    "{name}: schema accepts what the typed check rejects"
                );
            }
            claims_checked += 1;
        }
    }
    assert!(headers_checked > 100 && claims_checked > 100);
}

#[test]
fn issued_tokens_satisfy_both_schemas() {
    use kycvs_core::{Issuer, SigningKey, TokenRequest, VaccinationStatus};
    let issuer = Issuer::new(SigningKey::from_seed(&[9; 32]), "issuer.example").unwrap();
    let token = issuer
        .issue(
            &TokenRequest {
                audience: "verifier.example",
                nonce: "n 1",
                subject: "psn-1",
                status: VaccinationStatus::PartiallyVaccinated,
                ttl: 60,
            },
            1_700_000_000,
        )
        .unwrap();
    let inspected = kycvs_core::inspect_unverified(&token).unwrap();
    assert!(validator("header.schema.json").is_valid(&inspected.header));
    assert!(validator("claims.schema.json").is_valid(&inspected.claims));
}
