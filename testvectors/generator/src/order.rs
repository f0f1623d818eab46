//! Cases with more than one fault, whose expected code is the first failing check in the order
//! of `docs/SPEC.md` section 4, and cases for the edges of sub-rules (lengths, character sets,
//! number ranges) that no single-fault case reaches. Each expectation is read off the spec's
//! table, never computed by the verifier.

use super::{
    Cases, EXP, IAT, ISSUER_A, ISSUER_B, NOW, b64, claims_json, header, key, raw, result_of,
};
use curve25519_dalek::constants::{ED25519_BASEPOINT_TABLE, EIGHT_TORSION};
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use kycvs_core::Claims;
use kycvs_core::hazmat::sign_raw;
use serde_json::{Value, json};
use sha2::{Digest, Sha512};

/// 2^53 − 1, the largest time a claim may hold.
const MAX_TIME: u64 = (1 << 53) - 1;

/// Signs like Ed25519 but with `R = [r]B + T`, `T` a point of order 8: `S = r + k·a` still
/// satisfies the cofactored equation `[8]([S]B − [k]A − R) = 0` (SPEC section 3, accepted),
/// but not the cofactorless one. Written from the equations, not with the signer under test.
fn sign_mixed_order_r(seed: &[u8; 32], header: &[u8], claims: &[u8]) -> String {
    let h: [u8; 64] = Sha512::digest(seed).into();
    let mut clamped: [u8; 32] = h[..32].try_into().expect("32 bytes");
    clamped[0] &= 248;
    clamped[31] &= 127;
    clamped[31] |= 64;
    let a = Scalar::from_bytes_mod_order(clamped);
    let public = EdwardsPoint::mul_base(&a);
    let message = format!("{}.{}", b64(header), b64(claims));
    let wide = |parts: &[&[u8]]| {
        let mut hasher = Sha512::new();
        for part in parts {
            hasher.update(part);
        }
        let digest: [u8; 64] = hasher.finalize().into();
        Scalar::from_bytes_mod_order_wide(&digest)
    };
    let r = wide(&[&h[32..], message.as_bytes()]);
    let big_r = &r * ED25519_BASEPOINT_TABLE + EIGHT_TORSION[1];
    let r_enc = big_r.compress();
    let k = wide(&[
        r_enc.as_bytes(),
        public.compress().as_bytes(),
        message.as_bytes(),
    ]);
    let s = r + k * a;
    let residue = EdwardsPoint::mul_base(&s) - public * k - big_r;
    assert!(
        !residue.is_identity() && residue.mul_by_cofactor().is_identity(),
        "R must carry a torsion component that only the cofactor absorbs"
    );
    let signature = [r_enc.as_bytes().as_slice(), s.as_bytes().as_slice()].concat();
    format!("{message}.{}", b64(&signature))
}

/// The length of `n` bytes in unpadded base64url.
fn b64_len(n: usize) -> usize {
    n / 3 * 4 + [0, 2, 3][n % 3]
}

/// Claims text padded with spaces after `{` (JSON whitespace) so that the token is exactly
/// `target` bytes long.
fn padded_to(header: &str, claims: &str, target: usize) -> (String, String) {
    for header_pad in 0..3 {
        let h = format!("{{{}{}", " ".repeat(header_pad), &header[1..]);
        for claims_pad in 0..target {
            let c = format!("{{{}{}", " ".repeat(claims_pad), &claims[1..]);
            let len = b64_len(h.len()) + 1 + b64_len(c.len()) + 1 + 86;
            if len == target {
                return (h, c);
            }
            if len > target {
                break;
            }
        }
    }
    panic!("no padding gives {target} bytes");
}

#[allow(clippy::too_many_lines)]
pub(crate) fn push(cases: &mut Cases, base: &Claims, jti: &mut dyn FnMut() -> String) {
    let a = key("a");
    let kid_a = a.kid().to_owned();
    let hdr = header("Ed25519", &kid_a);
    let base_json = claims_json(base);
    let modified = |f: &dyn Fn(&mut Value)| {
        let mut c = base_json.clone();
        f(&mut c);
        c
    };

    // Signature before claims (checks 12 → 13, 14, 15–22): key B signs, the header names key A.
    let forged = |claims: &[u8]| sign_raw(&key("b"), hdr.to_string().as_bytes(), claims);
    cases.push(
        "bad_signature/order-claims-not-json",
        "a bad signature over claims that are not JSON: no claim is read before the signature",
        forged(b"not json at all"),
        "bad_signature",
    );
    cases.push(
        "bad_signature/order-bad-claims",
        "a bad signature over claims with an extra member",
        forged(
            modified(&|c| c["name"] = json!("Asha Devi"))
                .to_string()
                .as_bytes(),
        ),
        "bad_signature",
    );
    cases.push_with(
        "bad_signature/order-every-claim-check-fails",
        "a bad signature over claims that fail iss, aud, nonce, time and lifetime",
        forged(
            modified(&|c| {
                c["iss"] = json!(ISSUER_B);
                c["aud"] = json!("other.verifier.example");
                c["exp"] = json!(IAT + 7200);
            })
            .to_string()
            .as_bytes(),
        ),
        "bad_signature",
        |k| {
            k.nonce = Some("PNR-other".into());
            k.now = IAT + 90_000;
            k.policy.issuers = Some(vec![ISSUER_B.into()]);
        },
    );

    // Header before key lookup and signature length (checks 6–9 → 10 → 11).
    cases.push(
        "unsupported_algorithm/order-unknown-kid-bad-typ",
        "alg HS256, typ JWT, an extra member and an unknown kid: alg is judged first",
        raw(
            "a",
            &json!({"alg": "HS256", "typ": "JWT", "kid": "no-such-key", "jku": "https://x.example"}),
            &base_json,
        ),
        "unsupported_algorithm",
    );
    cases.push(
        "unsupported_algorithm/order-hs256-mac",
        "alg HS256 with a 32-byte MAC: the header before the signature length",
        format!(
            "{}.{}.{}",
            b64(header("HS256", &kid_a).to_string().as_bytes()),
            b64(base_json.to_string().as_bytes()),
            b64(&[0x5a; 32])
        ),
        "unsupported_algorithm",
    );
    cases.push(
        "bad_header/order-member-unknown-kid",
        "an extra header member (jku) and an unknown kid",
        raw(
            "a",
            &json!({"alg": "Ed25519", "typ": "kycvs+jwt", "kid": "no-such-key", "jku": "https://x.example"}),
            &base_json,
        ),
        "bad_header",
    );
    cases.push(
        "bad_header/order-typ-unknown-kid",
        "typ JWT and an unknown kid",
        raw(
            "a",
            &json!({"alg": "Ed25519", "typ": "JWT", "kid": "no-such-key"}),
            &base_json,
        ),
        "bad_header",
    );
    cases.push(
        "bad_header/order-kid-charset-short-signature",
        "a kid outside base64url and a 63-byte signature: the kid rule before the length",
        format!(
            "{}.{}.{}",
            b64(header("Ed25519", "kid+with/slash=").to_string().as_bytes()),
            b64(base_json.to_string().as_bytes()),
            b64(&[7; 63])
        ),
        "bad_header",
    );
    cases.push(
        "malformed/order-short-signature-unknown-kid",
        "a 63-byte signature and an unknown kid: the length before the key lookup",
        format!(
            "{}.{}.{}",
            b64(header("Ed25519", "no-such-key").to_string().as_bytes()),
            b64(base_json.to_string().as_bytes()),
            b64(&[7; 63])
        ),
        "malformed",
    );
    cases.push(
        "unknown_key/order-bad-signature-bad-claims",
        "an unknown kid over claims that are not JSON, with a signature by no trusted key",
        sign_raw(
            &key("untrusted"),
            header("Ed25519", "no-such-key").to_string().as_bytes(),
            b"not json at all",
        ),
        "unknown_key",
    );

    // Claim checks in order (checks 14 → 15 → 17 → 18 → 19 → 20 → 21 → 22).
    let mut ordered = |name: &str,
                       desc: &str,
                       f: &dyn Fn(&mut Value),
                       expected: &'static str,
                       adjust: &dyn Fn(&mut super::Case)| {
        cases.push_with(name, desc, raw("a", &hdr, &modified(f)), expected, |k| {
            adjust(k)
        });
    };
    ordered(
        "bad_claims/order-extra-claim-wrong-issuer",
        "an extra claim and iss bound to another key: structure before binding",
        &|c| {
            c["iss"] = json!(ISSUER_B);
            c["phone_number"] = json!("+919876543210");
        },
        "bad_claims",
        &|_| {},
    );
    ordered(
        "bad_claims/order-iss-space",
        "iss holding a space (not visible ASCII): the character rule before the binding",
        &|c| c["iss"] = json!("cowin issuer-a.example"),
        "bad_claims",
        &|_| {},
    );
    ordered(
        "issuer_mismatch/order-not-bound-then-everything",
        "iss bound to another key, wrong aud, wrong nonce, expired, too long",
        &|c| {
            c["iss"] = json!(ISSUER_B);
            c["aud"] = json!("other.verifier.example");
            c["exp"] = json!(IAT + 7200);
        },
        "issuer_mismatch",
        &|k| {
            k.nonce = Some("PNR-other".into());
            k.now = IAT + 90_000;
        },
    );
    ordered(
        "issuer_mismatch/order-policy-before-audience",
        "iss not accepted by the policy, wrong aud and wrong nonce",
        &|c| c["aud"] = json!("other.verifier.example"),
        "issuer_mismatch",
        &|k| {
            k.policy.issuers = Some(vec![ISSUER_B.into()]);
            k.nonce = Some("PNR-other".into());
        },
    );
    ordered(
        "audience_mismatch/order-wrong-nonce-expired",
        "wrong aud, wrong nonce, expired and too long: aud first",
        &|c| {
            c["aud"] = json!("other.verifier.example");
            c["exp"] = json!(IAT + 7200);
        },
        "audience_mismatch",
        &|k| {
            k.nonce = Some("PNR-other".into());
            k.now = IAT + 90_000;
        },
    );
    ordered(
        "nonce_mismatch/order-expired",
        "wrong nonce and expired: the nonce before the time",
        &|_| {},
        "nonce_mismatch",
        &|k| {
            k.nonce = Some("PNR-other".into());
            k.now = EXP + 86_400;
        },
    );
    ordered(
        "nonce_mismatch/order-not-yet-valid",
        "wrong nonce and iat far ahead",
        &|c| {
            c["iat"] = json!(NOW + 31_536_000);
            c["exp"] = json!(NOW + 31_536_300);
        },
        "nonce_mismatch",
        &|k| k.nonce = Some("PNR-other".into()),
    );
    ordered(
        "not_yet_valid/order-lifetime",
        "iat beyond the leeway and a lifetime over the maximum: iat first",
        &|c| {
            c["iat"] = json!(NOW + 61);
            c["exp"] = json!(NOW + 61 + 3601);
        },
        "not_yet_valid",
        &|_| {},
    );
    ordered(
        "expired/order-lifetime",
        "expired and a lifetime over the maximum: expiry first",
        &|c| c["exp"] = json!(IAT + 3601),
        "expired",
        &|k| k.now = IAT + 3601 + 60,
    );

    // Sub-rules: lengths and character sets (2.2, 2.3).
    for (name, desc, f) in [
        (
            "iss-overlong",
            "iss of 257 characters",
            &(|c: &mut Value| c["iss"] = json!("i".repeat(257))) as &dyn Fn(&mut Value),
        ),
        ("iss-non-ascii", "iss holding a non-ASCII letter", &|c| {
            c["iss"] = json!("cöwin.issuer-a.example")
        }),
        ("aud-overlong", "aud of 257 characters", &|c| {
            c["aud"] = json!("a".repeat(257))
        }),
        ("aud-space", "aud holding a space", &|c| {
            c["aud"] = json!("irctc verifier.example")
        }),
        ("aud-control", "aud holding a DEL (0x7f)", &|c| {
            c["aud"] = json!("irctc.verifier.example\u{7f}")
        }),
        ("sub-space", "sub holding a space", &|c| {
            c["sub"] = json!("psn 7Hq2xK9vLm4Rt8Ws")
        }),
        ("jti-overlong", "jti of 129 base64url characters", &|c| {
            c["jti"] = json!("J".repeat(129))
        }),
        (
            "exp-beyond-2^53-with-iat-max",
            "iat = 2^53 - 1 needs exp = 2^53",
            &|c| {
                c["iat"] = json!(MAX_TIME);
                c["exp"] = json!(MAX_TIME + 1);
            },
        ),
    ] {
        cases.push(
            &format!("bad_claims/{name}"),
            desc,
            raw("a", &hdr, &modified(f)),
            "bad_claims",
        );
    }
    for (name, desc, kid) in [
        ("kid-plus", "kid holding '+' (standard base64)", "abc+def"),
        ("kid-padding", "kid ending in '='", "abcdef=="),
        ("kid-dot", "kid holding '.'", "abc.def"),
    ] {
        cases.push(
            &format!("bad_header/{name}"),
            desc,
            raw("a", &header("Ed25519", kid), &base_json),
            "bad_header",
        );
    }

    // Accepted edges.
    let issuer = kycvs_core::Issuer::new(key("a"), ISSUER_A).expect("issuer");
    let mut ok = |name: &str, desc: &str, c: Claims, now: u64| {
        let token = issuer.sign_claims(&c).expect("sign");
        let result = result_of(&c, &kid_a);
        cases.push_with(name, desc, token, "ok", |k| {
            k.now = now;
            k.result = Some(result);
        });
    };
    ok(
        "ok/exp-2^53-1",
        "exp = 2^53 - 1, the largest time",
        Claims {
            iat: MAX_TIME - 300,
            exp: MAX_TIME,
            jti: jti(),
            ..base.clone()
        },
        MAX_TIME - 200,
    );
    ok(
        "ok/iat-2^53-2",
        "iat = 2^53 - 2, the largest iat a valid exp allows",
        Claims {
            iat: MAX_TIME - 1,
            exp: MAX_TIME,
            jti: jti(),
            ..base.clone()
        },
        MAX_TIME - 1,
    );
    ok(
        "ok/jti-128",
        "jti of 128 base64url characters",
        Claims {
            jti: "J".repeat(128),
            ..base.clone()
        },
        NOW,
    );
    ok(
        "ok/sub-256",
        "sub of 256 characters, the longest allowed",
        Claims {
            sub: "s".repeat(256),
            jti: jti(),
            ..base.clone()
        },
        NOW,
    );

    // Exactly 4096 bytes (check 1 is `<=`): claims padded with JSON whitespace.
    let exact = Claims {
        jti: jti(),
        ..base.clone()
    };
    let (h, c) = padded_to(
        &hdr.to_string(),
        &claims_json(&exact).to_string(),
        super::MAX_TOKEN,
    );
    let token = sign_raw(&a, h.as_bytes(), c.as_bytes());
    assert_eq!(token.len(), super::MAX_TOKEN);
    let result = result_of(&exact, &kid_a);
    cases.push_with(
        "ok/token-4096-bytes",
        "a valid token of exactly 4096 bytes (claims padded with JSON whitespace)",
        token,
        "ok",
        |k| k.result = Some(result),
    );

    // A signature whose R has a torsion component (SPEC section 3: accepted).
    let mixed = Claims {
        jti: jti(),
        ..base.clone()
    };
    let seed = super::KEYS[0].seed;
    let token = sign_mixed_order_r(
        &seed,
        hdr.to_string().as_bytes(),
        claims_json(&mixed).to_string().as_bytes(),
    );
    let result = result_of(&mixed, &kid_a);
    cases.push_with(
        "ok/signature-mixed-order-r",
        "R = [r]B + T with T of order 8: the cofactored equation accepts it",
        token,
        "ok",
        |k| k.result = Some(result),
    );
}
