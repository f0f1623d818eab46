//! Writes the shared test vectors in `testvectors/` from fixed seeds, or checks that the
//! committed files are exactly what it would write.
//!
//! The expected outcome of every case is declared here by hand, from the spec; it is never
//! computed by the verifier under test.
//!
//! Usage: `kycvs-testvectors --write DIR` or `kycvs-testvectors --check DIR`.

mod bundles;
mod order;

use kycvs_core::hazmat::sign_raw;
use kycvs_core::{Claims, Issuer, SigningKey, TrustStore, VaccinationStatus};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

/// The largest token a verifier accepts (SPEC section 4, check 1).
const MAX_TOKEN: usize = 4096;
const NOW: u64 = 1_800_000_000;
const IAT: u64 = NOW - 30;
const EXP: u64 = IAT + 300;
const AUDIENCE: &str = "irctc.verifier.example";
const NONCE: &str = "PNR-2611-4711";
const ISSUER_A: &str = "cowin.issuer-a.example";
const ISSUER_B: &str = "cowin.issuer-b.example";

struct Key {
    name: &'static str,
    seed: [u8; 32],
    issuer: &'static str,
    trusted: bool,
}

const KEYS: [Key; 3] = [
    Key {
        name: "a",
        seed: [0x0a; 32],
        issuer: ISSUER_A,
        trusted: true,
    },
    Key {
        name: "b",
        seed: [0x0b; 32],
        issuer: ISSUER_B,
        trusted: true,
    },
    Key {
        name: "untrusted",
        seed: [0x0c; 32],
        issuer: ISSUER_A,
        trusted: false,
    },
];

fn key(name: &str) -> SigningKey {
    let k = KEYS.iter().find(|k| k.name == name).expect("known key");
    SigningKey::from_seed(&k.seed)
}

/// The policy a case is verified under.
#[derive(Clone)]
struct Policy {
    audience: String,
    issuers: Option<Vec<String>>,
    leeway: u64,
    max_lifetime: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            audience: AUDIENCE.into(),
            issuers: None,
            leeway: 60,
            max_lifetime: 3600,
        }
    }
}

struct Case {
    name: String,
    description: String,
    token: String,
    policy: Policy,
    now: u64,
    nonce: Option<String>,
    expected: &'static str,
    result: Option<Value>,
    /// The token's bytes when they are not UTF-8 (`token` is then empty): such cases go to
    /// `byte_cases` with `token_hex`, and to the TSV's `token_hex` column.
    bytes: Option<Vec<u8>>,
}

#[derive(Default)]
struct Cases(Vec<Case>);

impl Cases {
    fn push(&mut self, name: &str, description: &str, token: String, expected: &'static str) {
        self.push_with(name, description, token, expected, |_| {});
    }

    fn push_with(
        &mut self,
        name: &str,
        description: &str,
        token: String,
        expected: &'static str,
        adjust: impl FnOnce(&mut Case),
    ) {
        let mut case = Case {
            name: name.into(),
            description: description.into(),
            token,
            policy: Policy::default(),
            now: NOW,
            nonce: Some(NONCE.into()),
            expected,
            result: None,
            bytes: None,
        };
        adjust(&mut case);
        self.0.push(case);
    }

    fn push_bytes(
        &mut self,
        name: &str,
        description: &str,
        token: Vec<u8>,
        expected: &'static str,
    ) {
        assert!(
            std::str::from_utf8(&token).is_err(),
            "{name} is UTF-8: use push"
        );
        self.push_with(name, description, String::new(), expected, |c| {
            c.bytes = Some(token)
        });
    }
}

fn jti(index: usize) -> String {
    format!("tv{index:020}")
}

fn claims(status: VaccinationStatus, jti: String) -> Claims {
    Claims {
        iss: ISSUER_A.into(),
        sub: "psn-7Hq2xK9vLm4Rt8Ws".into(),
        aud: AUDIENCE.into(),
        iat: IAT,
        exp: EXP,
        jti,
        nonce: NONCE.into(),
        vs: status,
    }
}

fn result_of(c: &Claims, kid: &str) -> Value {
    json!({
        "status": c.vs.as_u8(), "iss": c.iss, "sub": c.sub, "aud": c.aud, "jti": c.jti,
        "nonce": c.nonce, "iat": c.iat, "exp": c.exp, "kid": kid,
    })
}

fn header(alg: &str, kid: &str) -> Value {
    json!({"alg": alg, "typ": "kycvs+jwt", "kid": kid})
}

fn claims_json(c: &Claims) -> Value {
    serde_json::from_str(&c.to_json().expect("claims serialise")).expect("claims are JSON")
}

/// Signs JSON values as a raw compact JWS with key `signer`.
fn raw(signer: &str, header: &Value, claims: &Value) -> String {
    sign_raw(
        &key(signer),
        header.to_string().as_bytes(),
        claims.to_string().as_bytes(),
    )
}

fn b64(bytes: &[u8]) -> String {
    // The generator must not share the encoder under test: a tiny independent one.
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn segments(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

fn build() -> Vec<Case> {
    let a = key("a");
    let kid_a = a.kid().to_owned();
    let kid_untrusted = key("untrusted").kid().to_owned();
    let issuer_a = Issuer::new(key("a"), ISSUER_A).expect("issuer");
    let issuer_b = Issuer::new(key("b"), ISSUER_B).expect("issuer");
    let legacy_a = Issuer::new(key("a"), ISSUER_A)
        .expect("issuer")
        .with_algorithm(kycvs_core::Algorithm::EdDSA);
    let mut cases = Cases::default();
    let mut n = 0;
    let mut next_jti = || {
        n += 1;
        jti(n)
    };

    // Valid tokens: one per status, then the edges of each rule on the accepting side.
    for status in [
        VaccinationStatus::NotVaccinated,
        VaccinationStatus::PartiallyVaccinated,
        VaccinationStatus::FullyVaccinated,
    ] {
        let c = claims(status, next_jti());
        let token = issuer_a.sign_claims(&c).expect("sign");
        let result = result_of(&c, &kid_a);
        cases.push_with(
            &format!("ok/status-{}", status.as_u8()),
            &format!("a valid token attesting {status}"),
            token,
            "ok",
            |k| k.result = Some(result),
        );
    }
    let mut ok =
        |name: &str, desc: &str, issuer: &Issuer, c: Claims, adjust: &dyn Fn(&mut Case)| {
            let kid = issuer.signing_key().kid().to_owned();
            let token = issuer.sign_claims(&c).expect("sign");
            let result = result_of(&c, &kid);
            cases.push_with(name, desc, token, "ok", |k| {
                k.result = Some(result);
                adjust(k);
            });
        };
    let two = VaccinationStatus::FullyVaccinated;
    ok(
        "ok/legacy-alg-eddsa",
        "alg EdDSA (RFC 8037) is accepted",
        &legacy_a,
        claims(two, next_jti()),
        &|_| {},
    );
    ok(
        "ok/second-issuer",
        "a token from the second trusted issuer",
        &issuer_b,
        Claims {
            iss: ISSUER_B.into(),
            ..claims(two, next_jti())
        },
        &|_| {},
    );
    ok(
        "ok/no-nonce-expected",
        "the caller expects no particular nonce",
        &issuer_a,
        claims(two, next_jti()),
        &|k| k.nonce = None,
    );
    ok(
        "ok/issuer-accepted",
        "iss is in the policy's accepted issuers",
        &issuer_a,
        claims(two, next_jti()),
        &|k| k.policy.issuers = Some(vec![ISSUER_B.into(), ISSUER_A.into()]),
    );
    ok(
        "ok/iat-at-leeway",
        "iat = now + leeway is still accepted",
        &issuer_a,
        Claims {
            iat: NOW + 60,
            exp: NOW + 360,
            ..claims(two, next_jti())
        },
        &|_| {},
    );
    ok(
        "ok/exp-inside-leeway",
        "now = exp + leeway - 1 is still accepted",
        &issuer_a,
        claims(two, next_jti()),
        &|k| k.now = EXP + 59,
    );
    ok(
        "ok/lifetime-at-max",
        "exp - iat = max_lifetime is accepted",
        &issuer_a,
        Claims {
            exp: IAT + 3600,
            ..claims(two, next_jti())
        },
        &|_| {},
    );
    ok(
        "ok/nonce-with-space",
        "a nonce may hold any printable ASCII, space included",
        &issuer_a,
        Claims {
            nonce: "PNR 2611/4711 ~!".into(),
            ..claims(two, next_jti())
        },
        &|k| k.nonce = Some("PNR 2611/4711 ~!".into()),
    );

    let base = claims(two, next_jti());
    let good = issuer_a.sign_claims(&base).expect("sign");
    let [h, p, s]: [String; 3] = segments(&good).try_into().expect("three segments");
    let base_json = claims_json(&base);
    let hdr = header("Ed25519", &kid_a);

    // Size.
    let big = json!({"pad": "x".repeat(3100), "iss": ISSUER_A});
    cases.push(
        "too_large/4097-bytes",
        "a token one byte over 4096 is rejected before decoding",
        {
            let mut t = raw("a", &hdr, &big);
            t.truncate(4097);
            while t.len() < 4097 {
                t.push('A');
            }
            t
        },
        "too_large",
    );
    cases.push(
        "too_large/1mb-string",
        "a claim holding a 1 MB string",
        raw("a", &hdr, &json!({"sub": "x".repeat(1 << 20)})),
        "too_large",
    );
    cases.push(
        "too_large/10000-deep-nesting",
        "claims nested 10,000 arrays deep",
        format!(
            "{h}.{}.{s}",
            b64(("[".repeat(10_000) + &"]".repeat(10_000)).as_bytes())
        ),
        "too_large",
    );

    // Structure and encoding.
    let structure: Vec<(&str, &str, String)> = vec![
        ("one-segment", "one segment, no dots", h.clone()),
        ("two-segments", "two segments", format!("{h}.{p}")),
        ("four-segments", "four segments", format!("{h}.{p}.{s}.{s}")),
        ("empty-header", "empty header segment", format!(".{p}.{s}")),
        ("empty-claims", "empty claims segment", format!("{h}..{s}")),
        ("empty-signature", "empty signature segment", format!("{h}.{p}.")),
        ("empty-token", "the empty string", String::new()),
        ("padding", "'=' padding on the header", format!("{h}=.{p}.{s}")),
        (
            "standard-alphabet",
            "'+' and '/' from the standard alphabet",
            format!("{h}.{p}.{}", s.replace('-', "+").replace('_', "/") + "+/"),
        ),
        ("whitespace", "a space inside a segment", format!("{h}.{p} .{s}")),
        (
            "trailing-newline",
            "a trailing newline",
            format!("{h}.{p}.{s}\n"),
        ),
        (
            "nonzero-trailing-bits",
            "the signature's last character carries non-zero unused bits",
            {
                let mut sig = s.clone();
                let last = sig.pop().expect("non-empty");
                // 64 bytes encode to 86 characters, the last holding 4 unused bits.
                let idx = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                    .iter()
                    .position(|c| *c as char == last)
                    .expect("alphabet");
                let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                sig.push(alphabet.as_bytes()[idx | 1] as char);
                format!("{h}.{p}.{sig}")
            },
        ),
        (
            "json-serialization",
            "the JWS JSON serialization instead of compact",
            json!({"protected": h, "payload": p, "signature": s}).to_string(),
        ),
        (
            "json-serialization-general",
            "the general JWS JSON serialization (a signatures array)",
            json!({"payload": p, "signatures": [{"protected": h, "signature": s}]}).to_string(),
        ),
        (
            "header-duplicate-escaped-alg",
            "the header has alg twice, the second spelled \\u0061lg (none)",
            format!(
                "{}.{p}.{s}",
                b64(format!(
                    r#"{{"alg":"Ed25519","typ":"kycvs+jwt","kid":"{kid_a}","\u0061lg":"none"}}"#
                )
                .as_bytes())
            ),
        ),
        (
            "header-deep-nesting",
            "the header nested 1,000 arrays deep",
            format!(
                "{}.{p}.{s}",
                b64(("[".repeat(1000) + &"]".repeat(1000)).as_bytes())
            ),
        ),
        (
            "header-lone-surrogate",
            "the header holds a lone UTF-16 surrogate escape",
            format!(
                "{}.{p}.{s}",
                b64(format!(
                    r#"{{"alg":"Ed25519","typ":"kycvs+jwt","kid":"{kid_a}\ud800"}}"#
                )
                .as_bytes())
            ),
        ),
        (
            "short-signature",
            "a 63-byte signature",
            format!("{h}.{p}.{}", b64(&[7u8; 63])),
        ),
        (
            "header-invalid-utf8",
            "the header is not UTF-8",
            format!("{}.{p}.{s}", b64(b"{\"alg\":\"Ed25519\xff\"}")),
        ),
        (
            "header-bom",
            "the header starts with a UTF-8 BOM",
            format!(
                "{}.{p}.{s}",
                b64(&[b"\xef\xbb\xbf".as_slice(), hdr.to_string().as_bytes()].concat())
            ),
        ),
        (
            "header-not-object",
            "the header is a JSON array",
            format!("{}.{p}.{s}", b64(b"[\"Ed25519\"]")),
        ),
        (
            "header-not-json",
            "the header is not JSON",
            format!("{}.{p}.{s}", b64(b"alg=Ed25519")),
        ),
        (
            "header-duplicate-alg",
            "the header has alg twice (Ed25519 then none)",
            format!(
                "{}.{p}.{s}",
                b64(format!(
                    r#"{{"alg":"Ed25519","typ":"kycvs+jwt","kid":"{kid_a}","alg":"none"}}"#
                )
                .as_bytes())
            ),
        ),
        (
            "header-duplicate-kid",
            "the header has kid twice",
            format!(
                "{}.{p}.{s}",
                b64(format!(
                    r#"{{"alg":"Ed25519","typ":"kycvs+jwt","kid":"{kid_a}","kid":"{kid_untrusted}"}}"#
                )
                .as_bytes())
            ),
        ),
    ];
    for (name, desc, token) in structure {
        cases.push(&format!("malformed/{name}"), desc, token, "malformed");
    }
    // Malformed claims are only seen after the signature checks out: sign them properly.
    let signed_raw_claims: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "claims-duplicate-vs",
            "claims with vs twice (0 then 2)",
            format!(
                r#"{{"iss":"{ISSUER_A}","sub":"s","aud":"{AUDIENCE}","iat":{IAT},"exp":{EXP},"jti":"{}","nonce":"{NONCE}","vs":0,"vs":2}}"#,
                base.jti
            )
            .into_bytes(),
        ),
        (
            "claims-not-object",
            "claims are a JSON array",
            b"[2]".to_vec(),
        ),
        (
            "claims-invalid-utf8",
            "claims are not UTF-8",
            b"{\"iss\":\"\xc3\x28\"}".to_vec(),
        ),
        (
            "claims-trailing-data",
            "claims followed by a second object",
            format!("{base_json}{{}}").into_bytes(),
        ),
        (
            "claims-deep-nesting",
            "claims nested 1,400 arrays deep (parser depth limit)",
            ("[".repeat(1400) + &"]".repeat(1400)).into_bytes(),
        ),
        (
            "claims-bom",
            "claims start with a UTF-8 BOM",
            [b"\xef\xbb\xbf".as_slice(), base_json.to_string().as_bytes()].concat(),
        ),
        (
            "claims-duplicate-escaped-vs",
            "claims with vs twice, the second spelled \\u0076s",
            base_json
                .to_string()
                .replace("\"vs\":2", "\"vs\":2,\"\\u0076s\":0")
                .into_bytes(),
        ),
        (
            "claims-lone-surrogate",
            "sub holds a lone UTF-16 surrogate escape",
            base_json
                .to_string()
                .replace("\"sub\":\"", "\"sub\":\"\\udc00")
                .into_bytes(),
        ),
        (
            "claims-not-json-nan",
            "vs = NaN (not JSON)",
            base_json
                .to_string()
                .replace("\"vs\":2", "\"vs\":NaN")
                .into_bytes(),
        ),
    ];
    for (name, desc, bytes) in signed_raw_claims {
        cases.push(
            &format!("malformed/{name}"),
            desc,
            sign_raw(&a, hdr.to_string().as_bytes(), &bytes),
            "malformed",
        );
    }

    // Tokens that are not UTF-8 (carried as hex: testvectors/README.md).
    let not_utf8: Vec<(&str, &str, Vec<u8>, &'static str)> = vec![
        (
            "malformed/token-invalid-utf8",
            "a 0xff byte inside the claims segment of a valid token",
            [
                h.as_bytes(),
                b".",
                &p.as_bytes()[..8],
                b"\xff",
                &p.as_bytes()[8..],
                b".",
                s.as_bytes(),
            ]
            .concat(),
            "malformed",
        ),
        (
            "malformed/token-latin1",
            "an ISO-8859-1 byte (0xe9) appended to a valid token",
            [good.as_bytes(), b"\xe9"].concat(),
            "malformed",
        ),
        (
            "malformed/token-overlong-dot",
            "the first '.' written as the overlong UTF-8 sequence C0 AE",
            [h.as_bytes(), b"\xc0\xae", p.as_bytes(), b".", s.as_bytes()].concat(),
            "malformed",
        ),
        (
            "too_large/invalid-utf8-4097-bytes",
            "4097 bytes that are not UTF-8: size is checked before encoding",
            vec![0xff; 4097],
            "too_large",
        ),
    ];
    for (name, desc, bytes, expected) in not_utf8 {
        cases.push_bytes(name, desc, bytes, expected);
    }

    // Header.
    for alg in [
        "none",
        "NONE",
        "HS256",
        "RS256",
        "ES256",
        "ed25519",
        "EdDSA25519",
        "",
    ] {
        let label = if alg.is_empty() { "empty" } else { alg };
        cases.push(
            &format!("unsupported_algorithm/{label}"),
            &format!("alg {alg:?}"),
            raw("a", &header(alg, &kid_a), &base_json),
            "unsupported_algorithm",
        );
    }
    cases.push(
        "malformed/alg-none-empty-signature",
        "alg none with an empty signature segment fails on structure first",
        format!(
            "{}.{p}.",
            b64(header("none", &kid_a).to_string().as_bytes())
        ),
        "malformed",
    );
    let bad_headers: Vec<(&str, &str, Value)> = vec![
        (
            "alg-missing",
            "no alg",
            json!({"typ": "kycvs+jwt", "kid": kid_a}),
        ),
        (
            "alg-number",
            "alg is a number",
            json!({"alg": 1, "typ": "kycvs+jwt", "kid": kid_a}),
        ),
        (
            "alg-null",
            "alg is null",
            json!({"alg": null, "typ": "kycvs+jwt", "kid": kid_a}),
        ),
        (
            "alg-array",
            "alg is an array",
            json!({"alg": ["Ed25519"], "typ": "kycvs+jwt", "kid": kid_a}),
        ),
        (
            "typ-missing",
            "no typ",
            json!({"alg": "Ed25519", "kid": kid_a}),
        ),
        (
            "typ-jwt",
            "typ JWT",
            json!({"alg": "Ed25519", "typ": "JWT", "kid": kid_a}),
        ),
        (
            "typ-case",
            "typ in another case",
            json!({"alg": "Ed25519", "typ": "KYCVS+JWT", "kid": kid_a}),
        ),
        (
            "typ-number",
            "typ is a number",
            json!({"alg": "Ed25519", "typ": 1, "kid": kid_a}),
        ),
        (
            "kid-missing",
            "no kid",
            json!({"alg": "Ed25519", "typ": "kycvs+jwt"}),
        ),
        (
            "kid-empty",
            "kid is empty",
            json!({"alg": "Ed25519", "typ": "kycvs+jwt", "kid": ""}),
        ),
        (
            "kid-overlong",
            "kid of 129 characters",
            json!({"alg": "Ed25519", "typ": "kycvs+jwt", "kid": "k".repeat(129)}),
        ),
        (
            "kid-number",
            "kid is a number",
            json!({"alg": "Ed25519", "typ": "kycvs+jwt", "kid": 7}),
        ),
    ];
    let mut bad_headers = bad_headers;
    for member in ["jwk", "jku", "x5u", "x5c", "crit", "b64", "cty", "zip"] {
        let mut h = hdr.clone();
        h[member] = match member {
            "jwk" => key("untrusted").public_key().to_jwk(ISSUER_A),
            "x5c" => json!(["MIIB"]),
            "crit" => json!(["exp"]),
            "b64" => json!(false),
            _ => json!("https://attacker.example/x"),
        };
        bad_headers.push((member, "an extra header member", h));
    }
    for (name, desc, h) in bad_headers {
        let name = match name {
            "jwk" | "jku" | "x5u" | "x5c" | "crit" | "b64" | "cty" | "zip" => {
                format!("bad_header/member-{name}")
            }
            _ => format!("bad_header/{name}"),
        };
        let desc = if desc == "an extra header member" {
            format!("the header carries {}", &name["bad_header/member-".len()..])
        } else {
            desc.to_owned()
        };
        cases.push(&name, &desc, raw("a", &h, &base_json), "bad_header");
    }

    // Key lookup.
    cases.push(
        "unknown_key/untrusted-key",
        "signed by a key that is not in the trust store",
        raw("untrusted", &header("Ed25519", &kid_untrusted), &base_json),
        "unknown_key",
    );
    cases.push(
        "unknown_key/made-up-kid",
        "a kid no key has",
        raw("a", &header("Ed25519", "no-such-key"), &base_json),
        "unknown_key",
    );

    // Signature.
    let tampered = {
        let mut c = base_json.clone();
        c["vs"] = json!(1);
        b64(c.to_string().as_bytes())
    };
    let forged_by_untrusted = segments(&raw("untrusted", &hdr, &base_json))[2].clone();
    let s_bytes: Vec<u8> = {
        // Decode the signature with an independent decoder to add the group order to S.
        let vals: Vec<u32> = s
            .bytes()
            .map(|c| {
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                    .iter()
                    .position(|x| *x == c)
                    .expect("alphabet") as u32
            })
            .collect();
        let mut bytes = Vec::new();
        for chunk in vals.chunks(4) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, v)| acc | v << (18 - 6 * i));
            for i in 0..chunk.len() - 1 {
                bytes.push((n >> (16 - 8 * i)) as u8);
            }
        }
        bytes
    };
    let s_plus_l = {
        // ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian.
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut sig = s_bytes.clone();
        let mut carry = 0u16;
        for i in 0..32 {
            let v = u16::from(sig[32 + i]) + u16::from(L[i]) + carry;
            sig[32 + i] = v as u8;
            carry = v >> 8;
        }
        b64(&sig)
    };
    let sig_cases: Vec<(&str, &str, String)> = vec![
        (
            "tampered-claims",
            "vs changed from 2 to 1 after signing",
            format!("{h}.{tampered}.{s}"),
        ),
        (
            "wrong-key",
            "signed by an untrusted key under a trusted kid",
            format!("{h}.{p}.{forged_by_untrusted}"),
        ),
        (
            "zero-signature",
            "64 zero bytes",
            format!("{h}.{p}.{}", b64(&[0u8; 64])),
        ),
        (
            "reserialized-claims",
            "a valid signature over pretty-printed claims, presented with compact claims",
            {
                let pretty = serde_json::to_string_pretty(&base_json).expect("json");
                let t = sign_raw(&a, hdr.to_string().as_bytes(), pretty.as_bytes());
                let sig = segments(&t)[2].clone();
                format!("{h}.{}.{sig}", b64(base_json.to_string().as_bytes()))
            },
        ),
        (
            "alg-swapped",
            "alg rewritten from Ed25519 to EdDSA after signing",
            format!(
                "{}.{p}.{s}",
                b64(header("EdDSA", &kid_a).to_string().as_bytes())
            ),
        ),
        (
            "s-plus-order",
            "S replaced by S + ℓ (non-canonical scalar, malleated signature)",
            format!("{h}.{p}.{s_plus_l}"),
        ),
    ];
    for (name, desc, token) in sig_cases {
        cases.push(
            &format!("bad_signature/{name}"),
            desc,
            token,
            "bad_signature",
        );
    }

    // Claims.
    let mut bad_claims: Vec<(String, String, Value)> = Vec::new();
    let mut variant = |name: &str, desc: &str, f: &dyn Fn(&mut Value)| {
        let mut c = base_json.clone();
        f(&mut c);
        bad_claims.push((name.to_owned(), desc.to_owned(), c));
    };
    for (label, v) in [
        ("3", json!(3)),
        ("minus-1", json!(-1)),
        ("float-1.0", json!(1.0)),
        ("string", json!("1")),
        ("true", json!(true)),
        ("null", json!(null)),
        ("array", json!([2])),
    ] {
        variant(&format!("vs-{label}"), &format!("vs = {v}"), &|c| {
            c["vs"] = v.clone()
        });
    }
    variant("vs-missing", "no vs", &|c| {
        c.as_object_mut().expect("object").remove("vs");
    });
    for claim in ["iat", "exp"] {
        variant(
            &format!("{claim}-string"),
            &format!("{claim} as a string"),
            &|c| c[claim] = json!(c[claim].to_string()),
        );
        variant(
            &format!("{claim}-float"),
            &format!("{claim} as a float"),
            &|c| c[claim] = json!(c[claim].as_u64().expect("int") as f64 + 0.5),
        );
        variant(
            &format!("{claim}-negative"),
            &format!("{claim} negative"),
            &|c| c[claim] = json!(-1),
        );
        variant(
            &format!("{claim}-beyond-2^53"),
            &format!("{claim} = 2^53"),
            &|c| c[claim] = json!(1u64 << 53),
        );
        variant(&format!("{claim}-missing"), &format!("no {claim}"), &|c| {
            c.as_object_mut().expect("object").remove(claim);
        });
    }
    for claim in ["iss", "sub", "aud", "jti", "nonce"] {
        variant(&format!("{claim}-missing"), &format!("no {claim}"), &|c| {
            c.as_object_mut().expect("object").remove(claim);
        });
        variant(
            &format!("{claim}-number"),
            &format!("{claim} is a number"),
            &|c| c[claim] = json!(1),
        );
        variant(
            &format!("{claim}-empty"),
            &format!("{claim} is empty"),
            &|c| c[claim] = json!(""),
        );
    }
    variant("aud-array", "aud is an array holding the audience", &|c| {
        c["aud"] = json!([AUDIENCE])
    });
    variant("extra-claim-name", "an extra claim (a name)", &|c| {
        c["name"] = json!("Asha Devi")
    });
    variant(
        "extra-claim-phone",
        "an extra claim (a phone number)",
        &|c| c["phone_number"] = json!("+919876543210"),
    );
    variant("jti-short", "jti of 21 characters (< 128 bits)", &|c| {
        c["jti"] = json!("A".repeat(21))
    });
    variant("jti-not-base64url", "jti with '+' and '='", &|c| {
        c["jti"] = json!("AAAAAAAAAAAAAAAAAAAA+=")
    });
    variant("nonce-tab", "nonce holding a tab", &|c| {
        c["nonce"] = json!("PNR\t1")
    });
    variant("nonce-overlong", "nonce of 129 characters", &|c| {
        c["nonce"] = json!("n".repeat(129))
    });
    variant("sub-overlong", "sub of 257 bytes", &|c| {
        c["sub"] = json!("s".repeat(257))
    });
    variant("exp-equals-iat", "exp = iat", &|c| {
        c["exp"] = c["iat"].clone()
    });
    variant("exp-before-iat", "exp < iat", &|c| {
        c["exp"] = json!(IAT - 1)
    });
    for (name, desc, c) in bad_claims {
        cases.push(
            &format!("bad_claims/{name}"),
            &desc,
            raw("a", &hdr, &c),
            "bad_claims",
        );
    }
    // Exponent notation cannot come from serde_json's writer: write it by hand.
    cases.push(
        "bad_claims/vs-1e0",
        "vs = 1e0",
        sign_raw(
            &a,
            hdr.to_string().as_bytes(),
            base_json
                .to_string()
                .replace("\"vs\":2", "\"vs\":1e0")
                .as_bytes(),
        ),
        "bad_claims",
    );

    // More number spellings serde_json's writer cannot produce.
    let claims_text = base_json.to_string();
    for (name, desc, from, to) in [
        (
            "iat-integral-float",
            "iat written with a fraction (.0)",
            format!("\"iat\":{IAT}"),
            format!("\"iat\":{IAT}.0"),
        ),
        (
            "exp-exponent",
            "exp written with an exponent (1.80000027e9)",
            format!("\"exp\":{EXP}"),
            "\"exp\":1.80000027e9".to_owned(),
        ),
        (
            "exp-beyond-u64",
            "exp = 2^64",
            format!("\"exp\":{EXP}"),
            "\"exp\":18446744073709551616".to_owned(),
        ),
        (
            "vs-minus-0",
            "vs = -0",
            "\"vs\":2".to_owned(),
            "\"vs\":-0".to_owned(),
        ),
        (
            "vs-2.0",
            "vs = 2.0",
            "\"vs\":2".to_owned(),
            "\"vs\":2.0".to_owned(),
        ),
    ] {
        assert!(claims_text.contains(&from), "{name}");
        cases.push(
            &format!("bad_claims/{name}"),
            desc,
            sign_raw(
                &a,
                hdr.to_string().as_bytes(),
                claims_text.replace(&from, &to).as_bytes(),
            ),
            "bad_claims",
        );
    }
    // The same claims spelled differently as JSON verify: the signature covers the bytes
    // received, and the claims are read from them, never from a re-serialisation.
    let base_result = result_of(&base, &kid_a);
    for (name, desc, text) in [
        (
            "pretty-printed-claims",
            "claims signed as pretty-printed JSON (whitespace and newlines)",
            serde_json::to_string_pretty(&base_json).expect("json"),
        ),
        (
            "escaped-strings",
            "claims whose sub and nonce are written with \\u escapes",
            claims_text
                .replace("\"sub\":\"psn", "\"sub\":\"\\u0070sn")
                .replace("\"nonce\":\"PNR", "\"nonce\":\"\\u0050NR"),
        ),
    ] {
        let result = base_result.clone();
        cases.push_with(
            &format!("ok/{name}"),
            desc,
            sign_raw(&a, hdr.to_string().as_bytes(), text.as_bytes()),
            "ok",
            |k| k.result = Some(result),
        );
    }

    // Binding and policy.
    let mut with = |name: &str,
                    desc: &str,
                    f: &dyn Fn(&mut Value),
                    expected: &'static str,
                    adjust: &dyn Fn(&mut Case)| {
        let mut c = base_json.clone();
        f(&mut c);
        cases.push_with(name, desc, raw("a", &hdr, &c), expected, |k| adjust(k));
    };
    with(
        "issuer_mismatch/not-bound-to-key",
        "key A signs a token claiming issuer B",
        &|c| c["iss"] = json!(ISSUER_B),
        "issuer_mismatch",
        &|_| {},
    );
    with(
        "issuer_mismatch/substring",
        "iss is a prefix of the bound issuer",
        &|c| c["iss"] = json!(&ISSUER_A[..ISSUER_A.len() - 1]),
        "issuer_mismatch",
        &|_| {},
    );
    with(
        "issuer_mismatch/not-accepted",
        "the policy accepts only issuer B",
        &|_| {},
        "issuer_mismatch",
        &|k| k.policy.issuers = Some(vec![ISSUER_B.into()]),
    );
    with(
        "audience_mismatch/other-verifier",
        "aud names another verifier",
        &|c| c["aud"] = json!("other.verifier.example"),
        "audience_mismatch",
        &|_| {},
    );
    with(
        "audience_mismatch/case",
        "aud differs in case",
        &|c| c["aud"] = json!(AUDIENCE.to_uppercase()),
        "audience_mismatch",
        &|_| {},
    );
    with(
        "nonce_mismatch/other",
        "the verifier expected another nonce",
        &|_| {},
        "nonce_mismatch",
        &|k| k.nonce = Some("PNR-2611-4712".into()),
    );
    with(
        "nonce_mismatch/prefix",
        "the token's nonce is a prefix of the expected one",
        &|_| {},
        "nonce_mismatch",
        &|k| k.nonce = Some(format!("{NONCE}0")),
    );
    with(
        "expired/at-leeway",
        "now = exp + leeway",
        &|_| {},
        "expired",
        &|k| k.now = EXP + 60,
    );
    with(
        "expired/past-leeway",
        "now = exp + leeway + 1",
        &|_| {},
        "expired",
        &|k| k.now = EXP + 61,
    );
    with(
        "ok/exp-equals-now",
        "now = exp is still inside the 60 s leeway",
        &|_| {},
        "ok",
        &|k| {
            k.now = EXP;
            k.result = Some(result_of(&base, &kid_a));
        },
    );
    with(
        "expired/long-ago",
        "now = exp + 1 day",
        &|_| {},
        "expired",
        &|k| k.now = EXP + 86_400,
    );
    with(
        "expired/exp-equals-now-no-leeway",
        "now = exp with leeway 0",
        &|_| {},
        "expired",
        &|k| {
            k.now = EXP;
            k.policy.leeway = 0;
        },
    );
    with(
        "not_yet_valid/iat-beyond-leeway",
        "iat = now + leeway + 1",
        &|c| {
            c["iat"] = json!(NOW + 61);
            c["exp"] = json!(NOW + 361);
        },
        "not_yet_valid",
        &|_| {},
    );
    with(
        "not_yet_valid/far-future",
        "iat a year ahead",
        &|c| {
            c["iat"] = json!(NOW + 31_536_000);
            c["exp"] = json!(NOW + 31_536_300);
        },
        "not_yet_valid",
        &|_| {},
    );
    with(
        "lifetime_too_long/one-over",
        "exp - iat = max_lifetime + 1",
        &|c| c["exp"] = json!(IAT + 3601),
        "lifetime_too_long",
        &|_| {},
    );
    with(
        "lifetime_too_long/custom-policy",
        "exp - iat = 300 under a 299 s maximum",
        &|_| {},
        "lifetime_too_long",
        &|k| k.policy.max_lifetime = 299,
    );
    order::push(&mut cases, &base, &mut next_jti);
    cases.0
}

fn trust_jwks() -> String {
    let mut store = TrustStore::new();
    for k in KEYS.iter().filter(|k| k.trusted) {
        store
            .add(
                SigningKey::from_seed(&k.seed).public_key().clone(),
                k.issuer,
            )
            .expect("add key");
    }
    store.to_jwks() + "\n"
}

fn keys_json() -> String {
    let keys: Vec<Value> = KEYS
        .iter()
        .map(|k| {
            let sk = SigningKey::from_seed(&k.seed);
            json!({
                "name": k.name, "seed": hex::encode(k.seed), "issuer": k.issuer,
                "kid": sk.kid(), "trusted": k.trusted,
                "pem": sk.to_pkcs8_pem().expect("pem").as_str(),
            })
        })
        .collect();
    pretty(&json!({
        "description": "Signing keys of the test vectors, from fixed seeds. TEST KEYS ONLY.",
        "keys": keys,
    }))
}

fn verify_json(cases: &[Case]) -> String {
    let to_json = |c: &Case| {
        // A JSON string cannot carry bytes that are not UTF-8: `token_hex` replaces `token`.
        let (token_key, token) = match &c.bytes {
            Some(bytes) => ("token_hex", Value::from(hex::encode(bytes))),
            None => ("token", Value::from(c.token.clone())),
        };
        let mut v = json!({"name": c.name, "description": c.description});
        let object = v.as_object_mut().expect("object");
        object.insert(token_key.into(), token);
        object.extend(
            json!({
                "policy": {
                    "audience": c.policy.audience, "issuers": c.policy.issuers,
                    "leeway": c.policy.leeway, "max_lifetime": c.policy.max_lifetime,
                },
                "now": c.now, "nonce": c.nonce, "expected": c.expected, "result": c.result,
            })
            .as_object()
            .expect("object")
            .clone(),
        );
        v
    };
    let text: Vec<Value> = cases
        .iter()
        .filter(|c| c.bytes.is_none())
        .map(to_json)
        .collect();
    let bytes: Vec<Value> = cases
        .iter()
        .filter(|c| c.bytes.is_some())
        .map(to_json)
        .collect();
    pretty(&json!({
        "description": "kycvs token v1 verification vectors. Verify each token with a \
            verifier built from trust.jwks and the case's policy, at time `now`, expecting \
            `nonce` (null: none). `expected` is \"ok\" or the error code; `result` is the \
            verified status for ok cases. `byte_cases` are tokens that are not UTF-8, given \
            as `token_hex` instead of `token`: verify their bytes. Generated by \
            testvectors/generator; do not edit.",
        "jwks_file": "trust.jwks",
        "cases": text,
        "byte_cases": bytes,
    }))
}

fn verify_tsv(cases: &[Case]) -> String {
    let mut out = String::from(
        "name\ttoken\taudience\tissuers\tleeway\tmax_lifetime\tnow\tnonce\texpected\tstatus\tkid\ttoken_hex\t\
         result_iss\tresult_sub\tresult_aud\tresult_jti\tresult_nonce\tresult_iat\tresult_exp\n",
    );
    // A token holding a newline (the trailing-newline case) cannot be a TSV field.
    for c in cases.iter().filter(|c| !c.token.contains('\n')) {
        let status = c
            .result
            .as_ref()
            .map_or(String::new(), |r| r["status"].to_string());
        let kid = c
            .result
            .as_ref()
            .map_or("", |r| r["kid"].as_str().unwrap_or_default());
        let fields = [
            c.name.clone(),
            c.token.clone(),
            c.policy.audience.clone(),
            c.policy.issuers.clone().unwrap_or_default().join(","),
            c.policy.leeway.to_string(),
            c.policy.max_lifetime.to_string(),
            c.now.to_string(),
            c.nonce.clone().unwrap_or_default(),
            c.expected.to_owned(),
            status,
            kid.to_owned(),
            c.bytes.as_deref().map(hex::encode).unwrap_or_default(),
        ]
        .into_iter()
        .chain(
            ["iss", "sub", "aud", "jti", "nonce", "iat", "exp"].map(|field| {
                // The verified result of an ok case, every field of it; empty for errors.
                c.result
                    .as_ref()
                    .map_or(String::new(), |r| match &r[field] {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    })
            }),
        )
        .collect::<Vec<String>>();
        for f in &fields {
            assert!(
                !f.contains(['\t', '\n']),
                "case {} has a tab or newline in a TSV field; TSV cannot carry it",
                c.name
            );
        }
        out.push_str(&fields.join("\t"));
        out.push('\n');
    }
    out
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("json") + "\n"
}

fn files() -> Vec<(&'static str, String)> {
    let mut cases = build();
    let mut names = BTreeSet::new();
    for c in &cases {
        assert!(names.insert(c.name.clone()), "duplicate case {}", c.name);
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    let mut files = vec![
        ("trust.jwks", trust_jwks()),
        ("keys.json", keys_json()),
        ("verify.json", verify_json(&cases)),
        ("verify.tsv", verify_tsv(&cases)),
    ];
    files.extend(bundles::files());
    files
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, dir) = match args.as_slice() {
        [mode, dir] if mode == "--write" || mode == "--check" => (mode.as_str(), Path::new(dir)),
        _ => {
            eprintln!("usage: kycvs-testvectors --write DIR | --check DIR");
            return ExitCode::from(2);
        }
    };
    let mut stale = Vec::new();
    for (name, content) in files() {
        let path = dir.join(name);
        if mode == "--write" {
            if let Err(e) = std::fs::write(&path, &content) {
                eprintln!("cannot write {}: {e}", path.display());
                return ExitCode::from(2);
            }
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(content.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    if stale.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "test vectors are stale (differ from the generator): {}\nrun: cargo run -p kycvs-testvectors -- --write testvectors",
            stale.join(", ")
        );
        ExitCode::FAILURE
    }
}
