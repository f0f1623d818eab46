//! Structured tokens: a header and claims built from a small dictionary of member names and
//! values of mixed JSON types (duplicates, odd numbers, escapes, wrong top levels), written as
//! JSON by hand, signed with a vector key and verified. Never a panic, and `Ok` exactly when
//! an independent oracle below says the token is a valid v1 token for the fixed policy.

#![no_main]

use arbitrary::Arbitrary;
use kycvs_core::hazmat::sign_raw;
use kycvs_core::{MAX_TOKEN_LEN, VaccinationStatus, VerifiedStatus};
use kycvs_fuzz::{AUDIENCE, LEEWAY, MAX_LIFETIME, NONCE, NOW, VectorKey, keys, verifier};
use libfuzzer_sys::fuzz_target;
use std::fmt::Write as _;

const IAT: u64 = NOW - 30;
const EXP: u64 = IAT + 300;
const MAX_TIME: i128 = (1 << 53) - 1;
const SUBJECT: &str = "psn-7Hq2xK9vLm4Rt8Ws";
const JTI: &str = "tv00000000000000000001";

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum Name {
    Alg,
    Typ,
    Kid,
    Jwk,
    Jku,
    Crit,
    Iss,
    Sub,
    Aud,
    Iat,
    Exp,
    Jti,
    Nonce,
    Vs,
    Extra,
}

impl Name {
    fn as_str(self) -> &'static str {
        match self {
            Name::Alg => "alg",
            Name::Typ => "typ",
            Name::Kid => "kid",
            Name::Jwk => "jwk",
            Name::Jku => "jku",
            Name::Crit => "crit",
            Name::Iss => "iss",
            Name::Sub => "sub",
            Name::Aud => "aud",
            Name::Iat => "iat",
            Name::Exp => "exp",
            Name::Jti => "jti",
            Name::Nonce => "nonce",
            Name::Vs => "vs",
            Name::Extra => "name",
        }
    }
}

/// Number literals a JSON writer would not produce, some of them not JSON at all.
const ODD_NUMBERS: &[&str] = &[
    "1e0",
    "1E0",
    "2e0",
    "-0",
    "-0.0",
    "0.0",
    "1.0",
    "2.0",
    "1e1",
    "0e0",
    "2E-0",
    "1.8e9",
    "1799999970.0",
    "9007199254740991",
    "9007199254740992",
    "9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "1e400",
    "-1",
    "01",
    "1.",
    "+1",
    "NaN",
    "Infinity",
];

/// Integer bases, to which a small delta is added.
const INT_BASES: &[i128] = &[
    0,
    1,
    2,
    3,
    IAT as i128,
    EXP as i128,
    NOW as i128,
    MAX_TIME,
    1 << 53,
    u64::MAX as i128,
];

#[derive(Arbitrary, Debug, Clone)]
enum Scalar {
    Null,
    Bool(bool),
    Int { base: u8, delta: i16 },
    Odd(u8),
    Known(u8),
    Escaped(u8),
    Text(String),
}

#[derive(Arbitrary, Debug, Clone)]
enum Value {
    Scalar(Scalar),
    Array(Vec<Scalar>),
    Object(Vec<(Name, Scalar)>),
    Deep(u16),
}

#[derive(Arbitrary, Debug)]
enum Edit {
    Set(Name, Value),
    Remove(Name),
    Append(Name, Value),
    Swap(u8, u8),
    Clear,
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum Wrap {
    Object,
    InArray,
    TrailingData,
    Bom,
}

#[derive(Arbitrary, Debug)]
enum ExpectedNonce {
    Any,
    Right,
    Other(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    signer: u8,
    header: Vec<Edit>,
    claims: Vec<Edit>,
    header_wrap: Wrap,
    claims_wrap: Wrap,
    whitespace: u8,
    nonce: ExpectedNonce,
    now_delta: i32,
}

/// The strings a value may pick, each one the right value of some member.
fn known_strings() -> Vec<String> {
    let mut out: Vec<String> = [
        "Ed25519",
        "EdDSA",
        "none",
        "kycvs+jwt",
        "JWT",
        AUDIENCE,
        NONCE,
        SUBJECT,
        JTI,
        "",
        " ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for k in keys() {
        out.push(k.key.kid().to_owned());
        out.push(k.issuer.clone());
    }
    out.push("s".repeat(257));
    out.push("n".repeat(129));
    out
}

struct Ctx {
    strings: Vec<String>,
    whitespace: &'static str,
}

impl Scalar {
    /// The JSON literal for this value.
    fn literal(&self, ctx: &Ctx) -> String {
        match self {
            Scalar::Null => "null".into(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int { .. } => self.integer().expect("integer").to_string(),
            Scalar::Odd(i) => ODD_NUMBERS[usize::from(*i) % ODD_NUMBERS.len()].into(),
            Scalar::Known(_) | Scalar::Text(_) => {
                serde_json::to_string(&self.text(ctx).expect("text")).expect("json string")
            }
            Scalar::Escaped(_) => {
                let mut s = String::from("\"");
                for unit in self.text(ctx).expect("text").encode_utf16() {
                    let _ = write!(s, "\\u{unit:04x}");
                }
                s + "\""
            }
        }
    }

    /// The string this value decodes to, if it is a JSON string.
    fn text(&self, ctx: &Ctx) -> Option<String> {
        match self {
            Scalar::Known(i) | Scalar::Escaped(i) => {
                Some(ctx.strings[usize::from(*i) % ctx.strings.len()].clone())
            }
            Scalar::Text(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// The integer a plain integer literal denotes.
    fn integer(&self) -> Option<i128> {
        match self {
            Scalar::Int { base, delta } => {
                Some(INT_BASES[usize::from(*base) % INT_BASES.len()] + i128::from(*delta))
            }
            // Only a plain, non-negative decimal without fraction or exponent is an integer.
            Scalar::Odd(i) => {
                let lit = ODD_NUMBERS[usize::from(*i) % ODD_NUMBERS.len()];
                let plain = lit.bytes().all(|b| b.is_ascii_digit())
                    && (lit == "0" || !lit.starts_with('0'));
                if plain {
                    lit.parse::<u64>().ok().map(i128::from)
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

impl Value {
    fn literal(&self, ctx: &Ctx) -> String {
        let ws = ctx.whitespace;
        match self {
            Value::Scalar(s) => s.literal(ctx),
            Value::Array(items) => {
                let inner: Vec<String> = items.iter().map(|s| s.literal(ctx)).collect();
                format!("[{ws}{}{ws}]", inner.join(&format!(",{ws}")))
            }
            Value::Object(members) => {
                let inner: Vec<String> = members
                    .iter()
                    .map(|(n, v)| format!("\"{}\":{ws}{}", n.as_str(), v.literal(ctx)))
                    .collect();
                format!("{{{ws}{}{ws}}}", inner.join(&format!(",{ws}")))
            }
            Value::Deep(depth) => {
                let n = usize::from(*depth) % 3000 + 1;
                "[".repeat(n) + &"]".repeat(n)
            }
        }
    }

    fn scalar(&self) -> Option<&Scalar> {
        match self {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }
}

type Members = Vec<(Name, Value)>;

fn text(s: &str, ctx: &Ctx) -> Value {
    let i = ctx
        .strings
        .iter()
        .position(|k| k == s)
        .expect("known string");
    Value::Scalar(Scalar::Known(i as u8))
}

fn int(v: u64) -> Value {
    let base = INT_BASES.iter().position(|b| *b == v as i128);
    match base {
        Some(i) => Value::Scalar(Scalar::Int {
            base: i as u8,
            delta: 0,
        }),
        None => Value::Scalar(Scalar::Int {
            base: 6,
            delta: (v as i128 - NOW as i128) as i16,
        }),
    }
}

fn apply(members: &mut Members, edits: Vec<Edit>) {
    for edit in edits {
        match edit {
            Edit::Set(name, value) => match members.iter_mut().find(|(n, _)| *n == name) {
                Some(member) => member.1 = value,
                None => members.push((name, value)),
            },
            Edit::Remove(name) => members.retain(|(n, _)| *n != name),
            Edit::Append(name, value) => members.push((name, value)),
            Edit::Swap(a, b) if !members.is_empty() => {
                let len = members.len();
                members.swap(usize::from(a) % len, usize::from(b) % len);
            }
            Edit::Swap(..) => {}
            Edit::Clear => members.clear(),
        }
    }
}

fn render(members: &Members, wrap: Wrap, ctx: &Ctx) -> Vec<u8> {
    let ws = ctx.whitespace;
    let inner: Vec<String> = members
        .iter()
        .map(|(n, v)| format!("\"{}\"{ws}:{ws}{}", n.as_str(), v.literal(ctx)))
        .collect();
    let object = format!("{ws}{{{ws}{}{ws}}}{ws}", inner.join(&format!("{ws},{ws}")));
    match wrap {
        Wrap::Object => object.into_bytes(),
        Wrap::InArray => format!("[{object}]").into_bytes(),
        Wrap::TrailingData => format!("{object}{{}}").into_bytes(),
        Wrap::Bom => [b"\xef\xbb\xbf".as_slice(), object.as_bytes()].concat(),
    }
}

/// The value of `name` when it occurs exactly once among the members.
fn only(members: &Members, name: Name) -> Option<&Scalar> {
    let mut found = members.iter().filter(|(n, _)| *n == name);
    match (found.next(), found.next()) {
        (Some((_, v)), None) => v.scalar(),
        _ => None,
    }
}

fn exactly(members: &Members, names: &[Name]) -> bool {
    members.len() == names.len() && names.iter().all(|n| only(members, *n).is_some())
}

fn is_id(s: &str) -> bool {
    (1..=256).contains(&s.len()) && s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// The oracle: the verified status a valid v1 token must give, or `None` when the token
/// must be rejected. Written from the spec, sharing no code with the verifier.
fn oracle(
    signer: &VectorKey,
    header: &Members,
    claims: &Members,
    expected_nonce: Option<&str>,
    now: u64,
    ctx: &Ctx,
) -> Option<Claims> {
    use Name::*;
    if !signer.trusted || !exactly(header, &[Alg, Typ, Kid]) {
        return None;
    }
    let alg = only(header, Alg)?.text(ctx)?;
    if alg != "Ed25519" && alg != "EdDSA" {
        return None;
    }
    if only(header, Typ)?.text(ctx)? != "kycvs+jwt" {
        return None;
    }
    let kid = only(header, Kid)?.text(ctx)?;
    if kid != signer.key.kid() {
        return None;
    }
    if !exactly(claims, &[Iss, Sub, Aud, Iat, Exp, Jti, Nonce, Vs]) {
        return None;
    }
    let string = |n| only(claims, n).and_then(|v| v.text(ctx));
    let time = |n| {
        only(claims, n)
            .and_then(Scalar::integer)
            .filter(|t| (0..=MAX_TIME).contains(t))
            .map(|t| t as u64)
    };
    let (iss, sub, aud) = (string(Iss)?, string(Sub)?, string(Aud)?);
    let (jti, nonce) = (string(Jti)?, string(Nonce)?);
    let (iat, exp) = (time(Iat)?, time(Exp)?);
    let vs = only(claims, Vs)?.integer()?;
    let jti_ok = (22..=128).contains(&jti.len())
        && jti
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let nonce_ok =
        (1..=128).contains(&nonce.len()) && nonce.bytes().all(|b| (0x20..=0x7e).contains(&b));
    let valid = is_id(&iss)
        && is_id(&sub)
        && is_id(&aud)
        && jti_ok
        && nonce_ok
        && (0..=2).contains(&vs)
        && exp > iat
        && iss == signer.issuer
        && aud == AUDIENCE
        && expected_nonce.is_none_or(|n| n == nonce)
        && iat <= now + LEEWAY
        && now < exp + LEEWAY
        && exp - iat <= MAX_LIFETIME;
    valid.then(|| Claims {
        status: VaccinationStatus::try_from(vs as u64).expect("0..=2"),
        iss,
        sub,
        aud,
        jti,
        nonce,
        iat,
        exp,
        kid,
    })
}

/// What a verified token says, as the oracle predicts it and as the verifier reports it.
#[derive(Debug, PartialEq, Eq)]
struct Claims {
    status: VaccinationStatus,
    iss: String,
    sub: String,
    aud: String,
    jti: String,
    nonce: String,
    iat: u64,
    exp: u64,
    kid: String,
}

impl From<&VerifiedStatus> for Claims {
    fn from(v: &VerifiedStatus) -> Claims {
        Claims {
            status: v.status(),
            iss: v.iss().to_owned(),
            sub: v.sub().to_owned(),
            aud: v.aud().to_owned(),
            jti: v.jti().to_owned(),
            nonce: v.nonce().to_owned(),
            iat: v.iat(),
            exp: v.exp(),
            kid: v.kid().to_owned(),
        }
    }
}

fuzz_target!(|input: Input| {
    let ctx = Ctx {
        strings: known_strings(),
        whitespace: ["", " ", "\n", "\t", "\r\n  "][usize::from(input.whitespace) % 5],
    };
    let signer = &keys()[usize::from(input.signer) % keys().len()];
    let mut header: Members = vec![
        (Name::Alg, text("Ed25519", &ctx)),
        (Name::Typ, text("kycvs+jwt", &ctx)),
        (Name::Kid, text(signer.key.kid(), &ctx)),
    ];
    let mut claims: Members = vec![
        (Name::Iss, text(&signer.issuer, &ctx)),
        (Name::Sub, text(SUBJECT, &ctx)),
        (Name::Aud, text(AUDIENCE, &ctx)),
        (Name::Iat, int(IAT)),
        (Name::Exp, int(EXP)),
        (Name::Jti, text(JTI, &ctx)),
        (Name::Nonce, text(NONCE, &ctx)),
        (Name::Vs, int(2)),
    ];
    apply(&mut header, input.header);
    apply(&mut claims, input.claims);
    let header_bytes = render(&header, input.header_wrap, &ctx);
    let claims_bytes = render(&claims, input.claims_wrap, &ctx);
    let token = sign_raw(&signer.key, &header_bytes, &claims_bytes);
    let expected_nonce = match input.nonce {
        ExpectedNonce::Any => None,
        ExpectedNonce::Right => Some(NONCE.to_owned()),
        ExpectedNonce::Other(i) => Some(ctx.strings[usize::from(i) % ctx.strings.len()].clone()),
    };
    let now = NOW.saturating_add_signed(i64::from(input.now_delta));

    let verdict = match expected_nonce.as_deref() {
        Some(nonce) => verifier().verify(&token, nonce, now),
        None => verifier().verify_without_nonce(&token, now),
    };
    let wrapped = input.header_wrap != Wrap::Object || input.claims_wrap != Wrap::Object;
    let want = if wrapped || token.len() > MAX_TOKEN_LEN {
        None
    } else {
        oracle(
            signer,
            &header,
            &claims,
            expected_nonce.as_deref(),
            now,
            &ctx,
        )
    };
    match (&verdict, &want) {
        (Ok(got), Some(want)) => assert_eq!(&Claims::from(got), want, "token {token}"),
        (Err(_), None) => {}
        _ => panic!(
            "verifier and oracle disagree on {token}\nheader {}\nclaims {}\nverifier: {verdict:?}\noracle: {want:?}",
            String::from_utf8_lossy(&header_bytes),
            String::from_utf8_lossy(&claims_bytes)
        ),
    }
});
