//! `bundles.json` and `bundles.tsv`: signed trust bundles, and tokens verified under one.
//!
//! Bundles are written here by hand from JSON values and signed with `hazmat::sign_raw`, not
//! with the `TrustBundle::sign` under test; every expected outcome is declared from the spec.

use super::{AUDIENCE, ISSUER_A, ISSUER_B, NONCE, NOW, key, pretty};
use kycvs_core::hazmat::sign_raw;
use kycvs_core::{Claims, Issuer, SigningKey, VaccinationStatus};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const ROOT_SEED: [u8; 32] = [0x52; 32];
const OTHER_ROOT_SEED: [u8; 32] = [0x53; 32];
const SEQ: u64 = 5;
const BUNDLE_IAT: u64 = NOW - 3600;
const BUNDLE_EXP: u64 = NOW + 86_400;
/// The window of key `a` in the token cases' bundle.
const A_NBF: u64 = NOW - 1000;
const A_EXP: u64 = NOW + 1000;
/// The window of key `b` there: it takes over from `a`.
const B_NBF: u64 = NOW + 1000;
const B_EXP: u64 = NOW + 2000;

fn root() -> SigningKey {
    SigningKey::from_seed(&ROOT_SEED)
}

fn other_root() -> SigningKey {
    SigningKey::from_seed(&OTHER_ROOT_SEED)
}

/// A root key's JWK text, written by hand.
fn root_jwk(k: &SigningKey) -> String {
    let jwk = k.public_key().to_jwk("unused");
    json!({"kty": "OKP", "crv": "Ed25519", "x": jwk["x"], "kid": k.kid()}).to_string()
}

fn header(alg: &str, kid: &str) -> Value {
    json!({"alg": alg, "typ": "kycvs-trust+jwt", "kid": kid})
}

/// Bundle key `name` (of the vector keys) with its window.
fn entry(name: &str, issuer: &str, nbf: u64, exp: u64) -> Value {
    let mut jwk = key(name).public_key().to_jwk(issuer);
    jwk["nbf"] = nbf.into();
    jwk["exp"] = exp.into();
    jwk
}

fn payload(keys: Vec<Value>) -> Value {
    json!({"seq": SEQ, "iat": BUNDLE_IAT, "exp": BUNDLE_EXP, "keys": keys})
}

fn good_keys() -> Vec<Value> {
    vec![
        entry("a", ISSUER_A, NOW - 86_400, NOW + 86_400),
        entry("b", ISSUER_B, NOW - 86_400, NOW + 86_400),
    ]
}

fn sign_text(signer: &SigningKey, header: &str, payload: &str) -> String {
    sign_raw(signer, header.as_bytes(), payload.as_bytes())
}

fn sign(signer: &SigningKey, header: &Value, payload: &Value) -> String {
    sign_text(signer, &header.to_string(), &payload.to_string())
}

struct BundleCase {
    name: String,
    description: String,
    bundle: String,
    root: String,
    now: u64,
    min_sequence: u64,
    expected: &'static str,
    sequence: Option<u64>,
    kids: Option<Vec<String>>,
}

struct BundleCases {
    list: Vec<BundleCase>,
    root: String,
}

impl BundleCases {
    fn push(
        &mut self,
        name: &str,
        description: &str,
        bundle: String,
        expected: &'static str,
    ) -> &mut BundleCase {
        self.list.push(BundleCase {
            name: format!("bundle/{name}"),
            description: description.into(),
            bundle,
            root: self.root.clone(),
            now: NOW,
            min_sequence: 0,
            expected,
            sequence: None,
            kids: None,
        });
        self.list.last_mut().expect("just pushed")
    }
}

struct TokenCase {
    name: String,
    description: String,
    bundle: String,
    root: String,
    bundle_now: u64,
    token: String,
    audience: String,
    now: u64,
    expected: &'static str,
}

/// Marks an accepted case: the bundle's seq and its key ids in order.
fn ok(case: &mut BundleCase, kids: &[String]) {
    case.sequence = Some(SEQ);
    case.kids = Some(kids.to_vec());
}

fn bundle_cases() -> Vec<BundleCase> {
    let root = root();
    let other = other_root();
    let root_text = root_jwk(&root);
    let kid = root.kid().to_owned();
    let kids_ab = vec![key("a").kid().to_owned(), key("b").kid().to_owned()];
    let good = sign(&root, &header("Ed25519", &kid), &payload(good_keys()));
    let mut cases = BundleCases {
        list: Vec::new(),
        root: root_text.clone(),
    };
    // Accepted bundles, and the accepting edge of each rule.
    ok(
        cases.push("ok", "a valid bundle of two keys", good.clone(), "ok"),
        &kids_ab,
    );
    let c = cases.push(
        "ok/equal-sequence",
        "the sequence number equals the last one accepted: reloading is fine",
        good.clone(),
        "ok",
    );
    c.min_sequence = SEQ;
    ok(c, &kids_ab);
    let c = cases.push(
        "ok/last-second",
        "one second before the bundle's exp",
        good.clone(),
        "ok",
    );
    c.now = BUNDLE_EXP - 1;
    ok(c, &kids_ab);
    ok(
        cases.push(
            "ok/alg-eddsa",
            "alg EdDSA names Ed25519 too",
            sign(&root, &header("EdDSA", &kid), &payload(good_keys())),
            "ok",
        ),
        &kids_ab,
    );
    ok(
        cases.push(
            "ok/no-keys",
            "an empty key list trusts nothing, and is valid",
            sign(&root, &header("Ed25519", &kid), &payload(vec![])),
            "ok",
        ),
        &[],
    );
    let mut with_use = entry("a", ISSUER_A, NOW - 10, NOW + 10);
    with_use["use"] = "sig".into();
    with_use["alg"] = "EdDSA".into();
    ok(
        cases.push(
            "ok/key-use-alg",
            "a key may carry use and alg as in a JWKS",
            sign(&root, &header("Ed25519", &kid), &payload(vec![with_use])),
            "ok",
        ),
        &kids_ab[..1],
    );

    // Stale and rollback, and their order against each other and the keys.
    let c = cases.push(
        "stale/at-exp",
        "now equals the bundle's exp: stale, no leeway",
        good.clone(),
        "stale_bundle",
    );
    c.now = BUNDLE_EXP;
    let c = cases.push(
        "stale/long-after",
        "a day after the bundle's exp",
        good.clone(),
        "stale_bundle",
    );
    c.now = BUNDLE_EXP + 86_400;
    let c = cases.push(
        "rollback/lower-sequence",
        "seq 5 after seq 6 was accepted",
        good.clone(),
        "bundle_rollback",
    );
    c.min_sequence = SEQ + 1;
    let c = cases.push(
        "order/stale-before-rollback",
        "stale and rolled back: stale is checked first",
        good.clone(),
        "stale_bundle",
    );
    c.now = BUNDLE_EXP;
    c.min_sequence = SEQ + 1;
    let mut bad_kid = entry("a", ISSUER_A, NOW - 10, NOW + 10);
    bad_kid["kid"] = key("b").kid().into();
    let bad_key_bundle = sign(&root, &header("Ed25519", &kid), &payload(vec![bad_kid]));
    let c = cases.push(
        "order/stale-before-keys",
        "stale with an invalid key: stale is checked before the keys",
        bad_key_bundle.clone(),
        "stale_bundle",
    );
    c.now = BUNDLE_EXP;
    let c = cases.push(
        "order/rollback-before-keys",
        "rolled back with an invalid key: rollback is checked before the keys",
        bad_key_bundle,
        "bundle_rollback",
    );
    c.min_sequence = SEQ + 1;

    // Signature and root.
    cases.push(
        "signature/other-signer",
        "the header names the root, but another key signed",
        sign(&other, &header("Ed25519", &kid), &payload(good_keys())),
        "invalid_bundle",
    );
    let mut more = payload(good_keys());
    more["seq"] = (SEQ + 1).into();
    let forged = sign(&root, &header("Ed25519", &kid), &more);
    let (g, f): (Vec<&str>, Vec<&str>) = (good.split('.').collect(), forged.split('.').collect());
    cases.push(
        "signature/payload-swapped",
        "a payload with a higher seq under the signature of another",
        format!("{}.{}.{}", g[0], f[1], g[2]),
        "invalid_bundle",
    );
    cases.push(
        "signature/truncated",
        "the signature is cut short",
        format!("{}.{}.{}", g[0], g[1], &g[2][..g[2].len() - 4]),
        "invalid_bundle",
    );
    cases.push(
        "root/other-root",
        "signed and named by another root key",
        sign(
            &other,
            &header("Ed25519", other.kid()),
            &payload(good_keys()),
        ),
        "invalid_bundle",
    );
    cases
        .push(
            "root/pinned-other",
            "a valid bundle, but the verifier pins another root",
            good.clone(),
            "invalid_bundle",
        )
        .root = root_jwk(&other);
    let mut with_d: Value = serde_json::from_str(&root_jwk(&root)).expect("json");
    with_d["d"] = "AAAA".into();
    cases
        .push(
            "root/private-member",
            "the pinned root JWK holds a private member",
            good.clone(),
            "invalid_key",
        )
        .root = with_d.to_string();
    let mut with_iss: Value = serde_json::from_str(&root_jwk(&root)).expect("json");
    with_iss["iss"] = ISSUER_A.into();
    cases
        .push(
            "root/iss-member",
            "a root JWK binds no issuer",
            good.clone(),
            "invalid_key",
        )
        .root = with_iss.to_string();
    // The identity point: canonical, but of small order.
    let identity_x = super::b64(&{
        let mut y = [0u8; 32];
        y[0] = 1;
        y
    });
    let thumbprint = |x: &str| {
        use sha2::Digest;
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        super::b64(&sha2::Sha256::digest(canonical.as_bytes()))
    };
    cases
        .push(
            "root/x-small-order",
            "the root JWK's x is the identity point (small order), kid its thumbprint",
            good.clone(),
            "invalid_key",
        )
        .root =
        json!({"kty": "OKP", "crv": "Ed25519", "x": identity_x, "kid": thumbprint(&identity_x)})
            .to_string();
    let mut wrong_kid: Value = serde_json::from_str(&root_jwk(&root)).expect("json");
    wrong_kid["kid"] = other.kid().into();
    cases
        .push(
            "root/kid-not-thumbprint",
            "the root JWK's kid is another key's thumbprint",
            good.clone(),
            "invalid_key",
        )
        .root = wrong_kid.to_string();
    let mut padded = root_jwk(&root);
    padded.insert_str(1, &" ".repeat(4097 - padded.len()));
    assert_eq!(padded.len(), 4097);
    cases
        .push(
            "root/4097-bytes",
            "the root JWK padded with JSON whitespace to 4097 bytes (limit 4096)",
            good.clone(),
            "invalid_key",
        )
        .root = padded;

    // The header.
    for (name, description, h) in [
        (
            "header/typ-token",
            "typ kycvs+jwt: a status token is not a bundle",
            json!({"alg": "Ed25519", "typ": "kycvs+jwt", "kid": kid}),
        ),
        (
            "header/typ-jwt",
            "typ JWT",
            json!({"alg": "Ed25519", "typ": "JWT", "kid": kid}),
        ),
        (
            "header/typ-missing",
            "no typ",
            json!({"alg": "Ed25519", "kid": kid}),
        ),
        (
            "header/alg-none",
            "alg none",
            json!({"alg": "none", "typ": "kycvs-trust+jwt", "kid": kid}),
        ),
        (
            "header/kid-missing",
            "no kid",
            json!({"alg": "Ed25519", "typ": "kycvs-trust+jwt"}),
        ),
        (
            "header/extra-member",
            "an unexpected header member",
            json!({"alg": "Ed25519", "typ": "kycvs-trust+jwt", "kid": kid, "jku": "https://x"}),
        ),
    ] {
        cases.push(
            name,
            description,
            sign(&root, &h, &payload(good_keys())),
            "invalid_bundle",
        );
    }
    let payload_text = payload(good_keys()).to_string();
    cases.push(
        "duplicate/header-member",
        "typ appears twice in the header",
        sign_text(
            &root,
            &format!(
                r#"{{"alg":"Ed25519","typ":"kycvs-trust+jwt","typ":"kycvs-trust+jwt","kid":"{kid}"}}"#
            ),
            &payload_text,
        ),
        "invalid_bundle",
    );
    let header_text = header("Ed25519", &kid).to_string();
    cases.push(
        "duplicate/payload-member",
        "seq appears twice in the payload, the second time higher",
        sign_text(
            &root,
            &header_text,
            &payload_text.replacen("{\"seq\":5,", "{\"seq\":5,\"seq\":9,", 1),
        ),
        "invalid_bundle",
    );
    cases.push(
        "duplicate/key-member",
        "a key has two exp members",
        sign_text(
            &root,
            &header_text,
            &payload_text.replacen(
                &format!("\"nbf\":{},", NOW - 86_400),
                &format!("\"nbf\":{},\"exp\":{},", NOW - 86_400, NOW + 86_400 * 9),
                1,
            ),
        ),
        "invalid_bundle",
    );

    // The payload.
    let mut payloads: Vec<(&str, &str, Value)> = Vec::new();
    let mut edit = |name, description, f: &dyn Fn(&mut Value)| {
        let mut p = payload(good_keys());
        f(&mut p);
        payloads.push((name, description, p));
    };
    edit("payload/seq-zero", "seq 0", &|p| p["seq"] = 0.into());
    edit("payload/seq-negative", "seq -1", &|p| {
        p["seq"] = (-1).into()
    });
    edit("payload/seq-string", "seq as a string", &|p| {
        p["seq"] = "5".into()
    });
    edit("payload/seq-too-large", "seq 2^53", &|p| {
        p["seq"] = (1u64 << 53).into()
    });
    edit("payload/seq-missing", "no seq", &|p| {
        p.as_object_mut().expect("object").remove("seq");
    });
    edit("payload/exp-missing", "no exp", &|p| {
        p.as_object_mut().expect("object").remove("exp");
    });
    edit("payload/iat-not-before-exp", "iat equals exp", &|p| {
        p["iat"] = BUNDLE_EXP.into()
    });
    edit(
        "payload/extra-member",
        "an unexpected payload member",
        &|p| p["aud"] = "someone".into(),
    );
    edit("payload/keys-missing", "no keys", &|p| {
        p.as_object_mut().expect("object").remove("keys");
    });
    edit("payload/keys-object", "keys is a JWKS object", &|p| {
        p["keys"] = json!({"keys": []})
    });
    edit("key/nbf-missing", "a key without nbf", &|p| {
        p["keys"][0].as_object_mut().expect("key").remove("nbf");
    });
    edit("key/exp-missing", "a key without exp", &|p| {
        p["keys"][0].as_object_mut().expect("key").remove("exp");
    });
    edit(
        "key/nbf-not-before-exp",
        "a key whose nbf equals its exp",
        &|p| p["keys"][0]["nbf"] = p["keys"][0]["exp"].clone(),
    );
    edit("payload/iat-missing", "no iat", &|p| {
        p.as_object_mut().expect("object").remove("iat");
    });
    edit(
        "payload/keys-1025",
        "1025 distinct keys (at most 1024)",
        &|p| {
            p["keys"] = (0..1025u32)
                .map(|i| {
                    let mut seed = [0x70; 32];
                    seed[..4].copy_from_slice(&i.to_le_bytes());
                    let mut jwk = SigningKey::from_seed(&seed).public_key().to_jwk(ISSUER_A);
                    jwk["nbf"] = (NOW - 10).into();
                    jwk["exp"] = (NOW + 10).into();
                    jwk
                })
                .collect();
        },
    );
    edit(
        "key/x-small-order",
        "a key whose x is the identity point (small order), kid its thumbprint",
        &|p| {
            p["keys"][0]["x"] = identity_x.clone().into();
            p["keys"][0]["kid"] = thumbprint(&identity_x).into();
        },
    );
    edit("key/nbf-string", "a key whose nbf is a string", &|p| {
        p["keys"][0]["nbf"] = "0".into()
    });
    edit(
        "key/private-member",
        "a key with a private member d",
        &|p| p["keys"][0]["d"] = "AAAA".into(),
    );
    edit(
        "key/kid-not-thumbprint",
        "a key whose kid is another key's",
        &|p| p["keys"][0]["kid"] = p["keys"][1]["kid"].clone(),
    );
    edit("key/iss-missing", "a key bound to no issuer", &|p| {
        p["keys"][0].as_object_mut().expect("key").remove("iss");
    });
    edit("key/unknown-member", "a key with an x5u member", &|p| {
        p["keys"][0]["x5u"] = "https://x".into()
    });
    edit("key/duplicate-kid", "the same key twice", &|p| {
        p["keys"][1] = p["keys"][0].clone()
    });
    edit("key/not-object", "a key that is a string", &|p| {
        p["keys"][0] = "key".into()
    });
    for (name, description, p) in payloads {
        cases.push(
            name,
            description,
            sign(&root, &header("Ed25519", &kid), &p),
            "invalid_bundle",
        );
    }
    cases.push(
        "payload/not-object",
        "the payload is a JSON array",
        sign_text(&root, &header_text, "[]"),
        "invalid_bundle",
    );

    // Structure.
    cases.push(
        "structure/two-segments",
        "no signature segment",
        format!("{}.{}", g[0], g[1]),
        "invalid_bundle",
    );
    cases.push(
        "structure/padding",
        "base64 padding in the signature",
        format!("{}.{}.{}==", g[0], g[1], g[2]),
        "invalid_bundle",
    );
    cases.push(
        "structure/empty",
        "an empty bundle",
        String::new(),
        "invalid_bundle",
    );
    cases.list
}

fn token_cases() -> Vec<TokenCase> {
    let root = root();
    let bundle = sign(
        &root,
        &header("Ed25519", root.kid()),
        &payload(vec![
            entry("a", ISSUER_A, A_NBF, A_EXP),
            entry("b", ISSUER_B, B_NBF, B_EXP),
        ]),
    );
    let mut cases = Vec::new();
    let mut n = 0;
    let mut push =
        |name: &str, description: &str, signer: &str, iss: &str, iat: u64, now: u64, expected| {
            n += 1;
            let token = Issuer::new(key(signer), iss)
                .expect("issuer")
                .sign_claims(&Claims {
                    iss: iss.into(),
                    sub: "psn-bundle-7Hq2xK9v".into(),
                    aud: AUDIENCE.into(),
                    iat,
                    exp: iat + 300,
                    jti: format!("bt{n:020}"),
                    nonce: NONCE.into(),
                    vs: VaccinationStatus::FullyVaccinated,
                })
                .expect("sign");
            cases.push(TokenCase {
                name: format!("token/{name}"),
                description: description.into(),
                bundle: bundle.clone(),
                root: root_jwk(&root),
                bundle_now: NOW,
                token,
                audience: AUDIENCE.into(),
                now,
                expected,
            });
        };
    let a = |iat: u64, expected| (iat, iat + 10, expected);
    for (name, description, (iat, now, expected)) in [
        ("inside", "iat inside the key's window", a(NOW - 30, "ok")),
        ("at-nbf", "iat equals the key's nbf", a(A_NBF, "ok")),
        (
            "before-nbf",
            "iat one second before the key's nbf",
            a(A_NBF - 1, "key_not_valid"),
        ),
        (
            "last-second",
            "iat one second before the key's exp",
            a(A_EXP - 1, "ok"),
        ),
        (
            "at-exp",
            "iat equals the key's exp",
            a(A_EXP, "key_not_valid"),
        ),
        (
            "after-exp",
            "iat long after the key's exp",
            a(A_EXP + 5000, "key_not_valid"),
        ),
        (
            "window-before-expiry",
            "iat before the key's nbf and the token long expired: the window is checked first",
            (A_NBF - 500, NOW + 5000, "key_not_valid"),
        ),
    ] {
        push(name, description, "a", ISSUER_A, iat, now, expected);
    }
    push(
        "issuer-binding-first",
        "signed by key a for issuer b, iat outside a's window: iss binding is checked first",
        "a",
        ISSUER_B,
        A_EXP + 10,
        A_EXP + 20,
        "issuer_mismatch",
    );
    push(
        "second-key-inside",
        "key b, the successor of a, inside its own window",
        "b",
        ISSUER_B,
        B_NBF + 500,
        B_NBF + 510,
        "ok",
    );
    push(
        "second-key-too-early",
        "key b before its window opens, while a is still valid",
        "b",
        ISSUER_B,
        NOW,
        NOW + 10,
        "key_not_valid",
    );
    push(
        "unknown-key",
        "a key the bundle does not hold",
        "untrusted",
        ISSUER_A,
        NOW,
        NOW + 10,
        "unknown_key",
    );
    cases
}

fn bundles_json(bundles: &[BundleCase], tokens: &[TokenCase]) -> String {
    let bundles: Vec<Value> = bundles
        .iter()
        .map(|c| {
            json!({
                "name": c.name, "description": c.description, "bundle": c.bundle,
                "root": c.root, "now": c.now, "min_sequence": c.min_sequence,
                "expected": c.expected, "sequence": c.sequence, "kids": c.kids,
            })
        })
        .collect();
    let tokens: Vec<Value> = tokens
        .iter()
        .map(|c| {
            json!({
                "name": c.name, "description": c.description, "bundle": c.bundle,
                "root": c.root, "bundle_now": c.bundle_now, "token": c.token,
                "audience": c.audience, "now": c.now, "expected": c.expected,
            })
        })
        .collect();
    pretty(&json!({
        "description": "kycvs signed trust bundle vectors. `cases`: load `bundle` trusting only \
            the root JWK `root`, at time `now`, with `min_sequence` the last sequence number \
            accepted; `expected` is \"ok\" or the error code (loading the root JWK itself may \
            fail: invalid_key); for ok cases `sequence` is the bundle's seq and `kids` its key \
            ids in order. `token_cases`: load `bundle` at `bundle_now` (min_sequence 0; it \
            loads), then verify `token` under a verifier of `audience` with the default \
            policy and no expected nonce at time `now`; `expected` is \"ok\" or the error \
            code. Generated by testvectors/generator; do not edit.",
        "cases": bundles,
        "token_cases": tokens,
    }))
}

/// The same cases flat for C: bundle cases leave the last three fields empty; token cases
/// hold the bundle's load time in `now` and the token's verdict in `expected`.
fn bundles_tsv(bundles: &[BundleCase], tokens: &[TokenCase]) -> String {
    let mut out = String::from(
        "name\tbundle\troot\tnow\tmin_sequence\texpected\tsequence\tkids\ttoken\taudience\ttoken_now\n",
    );
    let mut rows: Vec<[String; 11]> = bundles
        .iter()
        .map(|c| {
            [
                c.name.clone(),
                c.bundle.clone(),
                c.root.clone(),
                c.now.to_string(),
                c.min_sequence.to_string(),
                c.expected.to_owned(),
                c.sequence.map_or(String::new(), |s| s.to_string()),
                c.kids.as_ref().map_or(String::new(), |k| k.join(",")),
                String::new(),
                String::new(),
                String::new(),
            ]
        })
        .collect();
    rows.extend(tokens.iter().map(|c| {
        [
            c.name.clone(),
            c.bundle.clone(),
            c.root.clone(),
            c.bundle_now.to_string(),
            "0".into(),
            c.expected.to_owned(),
            String::new(),
            String::new(),
            c.token.clone(),
            c.audience.clone(),
            c.now.to_string(),
        ]
    }));
    for row in rows {
        for f in &row {
            assert!(
                !f.contains(['\t', '\n']),
                "case {} has a tab or newline in a TSV field",
                row[0]
            );
        }
        out.push_str(&row.join("\t"));
        out.push('\n');
    }
    out
}

/// The files this module writes.
pub(crate) fn files() -> Vec<(&'static str, String)> {
    let mut bundles = bundle_cases();
    let mut tokens = token_cases();
    let mut names = BTreeSet::new();
    for name in bundles
        .iter()
        .map(|c| &c.name)
        .chain(tokens.iter().map(|c| &c.name))
    {
        assert!(names.insert(name.clone()), "duplicate case {name}");
    }
    bundles.sort_by(|a, b| a.name.cmp(&b.name));
    tokens.sort_by(|a, b| a.name.cmp(&b.name));
    vec![
        ("bundles.json", bundles_json(&bundles, &tokens)),
        ("bundles.tsv", bundles_tsv(&bundles, &tokens)),
    ]
}
