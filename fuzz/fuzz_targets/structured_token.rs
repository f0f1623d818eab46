//! Structured tokens: a header and claims built from a small dictionary of member names and
//! values of mixed JSON types (duplicates, odd numbers, escapes, deep nesting, wrong top
//! levels), written as JSON by hand, signed with a vector key (or with a broken, reshaped or
//! misplaced signature), framed (or misframed) as a compact token and verified.
//!
//! The oracle below predicts the verifier's **exact** verdict: the error code of the first
//! failing check in the order of docs/SPEC.md §4 (codes, not detail texts), or acceptance with
//! every verified field. It is a small model of the spec written from the generator's own
//! description of the input (which members, which values, which signature), sharing no code
//! with the verifier: it never parses the token's JSON or base64. The generator makes only
//! JSON whose strict reading the model states exactly (see [`json_ok`]).

#![no_main]

use arbitrary::Arbitrary;
use kycvs_core::hazmat::sign_raw;
use kycvs_core::{ErrorCode, MAX_TOKEN_LEN, VaccinationStatus, VerifiedStatus};
use kycvs_fuzz::{AUDIENCE, LEEWAY, MAX_LIFETIME, NONCE, NOW, VectorKey, keys, verify_bytes};
use libfuzzer_sys::fuzz_target;
use std::fmt::Write as _;
use std::sync::OnceLock;

const IAT: u64 = NOW - 30;
const EXP: u64 = IAT + 300;
const MAX_TIME: i128 = (1 << 53) - 1;
const SUBJECT: &str = "psn-7Hq2xK9vLm4Rt8Ws";
const JTI: &str = "tv00000000000000000001";
/// SPEC §2.1: "nested at most 127 deep"; the object itself is level 1.
const MAX_DEPTH: usize = 127;
/// The group order ℓ of Ed25519, little-endian.
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];
/// The encoding of the neutral point (y = 1), a point of small order.
const IDENTITY: [u8; 32] = {
    let mut one = [0u8; 32];
    one[0] = 1;
    one
};
const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

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

/// What a number literal is, as SPEC §2.1 and §2.3 read it.
#[derive(Clone, Copy)]
enum Number {
    /// Not a number the strict reader accepts: not RFC 8259 grammar, or (`1e400`) outside the
    /// range of a 64-bit float.
    NotJson,
    /// A JSON number that is not an integer in SPEC §2.3's sense (a fraction, an exponent or
    /// a sign).
    NotInteger,
    /// Plain decimal digits: an integer with this value.
    Integer(i128),
}

/// Number literals a JSON writer would not produce, each with what it is.
const ODD_NUMBERS: &[(&str, Number)] = &[
    ("1e0", Number::NotInteger),
    ("1E0", Number::NotInteger),
    ("2e0", Number::NotInteger),
    ("-0", Number::NotInteger),
    ("-0.0", Number::NotInteger),
    ("0.0", Number::NotInteger),
    ("1.0", Number::NotInteger),
    ("2.0", Number::NotInteger),
    ("1e1", Number::NotInteger),
    ("0e0", Number::NotInteger),
    ("2E-0", Number::NotInteger),
    ("1.8e9", Number::NotInteger),
    ("1799999970.0", Number::NotInteger),
    ("-1", Number::NotInteger),
    ("0", Number::Integer(0)),
    ("9007199254740991", Number::Integer(MAX_TIME)),
    ("9007199254740992", Number::Integer(MAX_TIME + 1)),
    ("9007199254740993", Number::Integer(MAX_TIME + 2)),
    ("18446744073709551615", Number::Integer(u64::MAX as i128)),
    (
        "18446744073709551616",
        Number::Integer(u64::MAX as i128 + 1),
    ),
    ("1e400", Number::NotJson),
    ("01", Number::NotJson),
    ("1.", Number::NotJson),
    ("+1", Number::NotJson),
    ("NaN", Number::NotJson),
    ("Infinity", Number::NotJson),
    (".5", Number::NotJson),
    ("1e", Number::NotJson),
];

/// Integer bases, to which a small delta is added (written as plain digits, a `-` when
/// negative).
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
    /// Arrays nested 100 to 139 deep, or 5,000 (the member's object adds one level).
    Deep(u8),
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

/// The signature segment.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Signature {
    /// The signer's signature over the token's own header and claims.
    Valid,
    /// The signer's signature over the header and the unedited (valid) claims.
    OverDefaultClaims,
    /// The valid signature with one of its 512 bits flipped.
    FlipBit(u16),
    /// The valid signature with `S + ℓ` for `S` (SPEC §3 rule 1).
    HighS,
    /// The valid signature with the neutral point for `R` (SPEC §3 rule 2: small order).
    SmallOrderR,
    /// The first `n % 100` bytes of the valid signature, zero-padded (0: an empty segment).
    Length(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Bad {
    /// A character outside the base64url alphabet (or a `.`) in place of one.
    Char(u8),
    /// A `=` appended (padding).
    Pad,
    /// The last character's lowest bit flipped: non-zero unused bits, when the segment has
    /// any (length % 4 of 2 or 3).
    TrailingBits,
}

/// How the three segments are put together.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Frame {
    Compact,
    /// One segment's base64url spoiled.
    Spoil {
        segment: u8,
        at: u16,
        bad: Bad,
    },
    /// The signature segment and its dot left out.
    TwoSegments,
    /// A fourth segment.
    FourSegments,
    /// A byte that is not UTF-8 appended.
    NotUtf8,
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
    /// Bit `i % 8` set: member `i`'s name is written with `\u` escapes.
    escaped_names: u8,
    signature: Signature,
    frame: Frame,
    nonce: ExpectedNonce,
    now_delta: i32,
}

/// The strings a value may pick, each one the right value of some member.
fn known_strings() -> &'static [String] {
    static STRINGS: OnceLock<Vec<String>> = OnceLock::new();
    STRINGS.get_or_init(|| {
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
        out.push("k".repeat(129));
        out
    })
}

struct Ctx {
    strings: &'static [String],
    whitespace: &'static str,
    escaped_names: u8,
}

impl Scalar {
    /// The JSON literal for this value.
    fn literal(&self, ctx: &Ctx) -> String {
        match self {
            Scalar::Null => "null".into(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int { base, delta } => {
                (INT_BASES[usize::from(*base) % INT_BASES.len()] + i128::from(*delta)).to_string()
            }
            Scalar::Odd(i) => odd(*i).0.into(),
            Scalar::Known(_) | Scalar::Text(_) => {
                serde_json::to_string(&self.text(ctx).expect("text")).expect("json string")
            }
            Scalar::Escaped(_) => escaped(&self.text(ctx).expect("text")),
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

    /// The integer this value is, if it is one in SPEC §2.3's sense.
    fn integer(&self) -> Option<i128> {
        match self {
            Scalar::Int { base, delta } => {
                Some(INT_BASES[usize::from(*base) % INT_BASES.len()] + i128::from(*delta))
            }
            Scalar::Odd(i) => match odd(*i).1 {
                Number::Integer(v) => Some(v),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether the strict reader accepts this literal.
    fn json_ok(&self) -> bool {
        !matches!(self, Scalar::Odd(i) if matches!(odd(*i).1, Number::NotJson))
    }
}

fn odd(i: u8) -> (&'static str, Number) {
    ODD_NUMBERS[usize::from(i) % ODD_NUMBERS.len()]
}

/// `s` as a JSON string of `\u` escapes, one per UTF-16 unit.
fn escaped(s: &str) -> String {
    let mut out = String::from("\"");
    for unit in s.encode_utf16() {
        let _ = write!(out, "\\u{unit:04x}");
    }
    out + "\""
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
            Value::Deep(_) => {
                let n = self.depth();
                "[".repeat(n) + &"]".repeat(n)
            }
        }
    }

    /// How deep the value nests, itself included (a scalar: 0).
    fn depth(&self) -> usize {
        match self {
            Value::Scalar(_) => 0,
            Value::Array(_) | Value::Object(_) => 1,
            // Around the limit, and now and then far beyond it.
            Value::Deep(255) => 5000,
            Value::Deep(n) => 100 + usize::from(*n) % 40,
        }
    }

    /// Whether the strict reader accepts this value as a member of an object at level 1.
    fn json_ok(&self) -> bool {
        // The member's object is one level more: 1 + depth <= MAX_DEPTH.
        self.depth() < MAX_DEPTH
            && match self {
                Value::Scalar(s) => s.json_ok(),
                Value::Array(items) => items.iter().all(Scalar::json_ok),
                Value::Object(members) => {
                    unique(members.iter().map(|(n, _)| *n))
                        && members.iter().all(|(_, s)| s.json_ok())
                }
                Value::Deep(_) => true,
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

fn unique(names: impl Iterator<Item = Name>) -> bool {
    let mut seen = Vec::new();
    for n in names {
        if seen.contains(&n) {
            return false;
        }
        seen.push(n);
    }
    true
}

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
        .enumerate()
        .map(|(i, (n, v))| {
            let name = if ctx.escaped_names & (1 << (i % 8)) != 0 {
                escaped(n.as_str())
            } else {
                format!("\"{}\"", n.as_str())
            };
            format!("{name}{ws}:{ws}{}", v.literal(ctx))
        })
        .collect();
    let object = format!("{ws}{{{ws}{}{ws}}}{ws}", inner.join(&format!("{ws},{ws}")));
    match wrap {
        Wrap::Object => object.into_bytes(),
        Wrap::InArray => format!("[{object}]").into_bytes(),
        Wrap::TrailingData => format!("{object}{{}}").into_bytes(),
        Wrap::Bom => [b"\xef\xbb\xbf".as_slice(), object.as_bytes()].concat(),
    }
}

/// SPEC §2.1 for the text [`render`] writes: a strict JSON object. The constructs generated,
/// and how the strict reader takes each: the four wraps (only `Object` is an object; an
/// array, trailing data and a byte-order mark are not); member names from [`Name`], plain or
/// `\u`-escaped (the same name either way), duplicates refused at either level; `null`,
/// booleans, strings (written by serde_json or as `\u` escapes of valid UTF-16), integers as
/// plain digits, the [`ODD_NUMBERS`] as annotated there; arrays and objects of scalars; and
/// arrays nested 100 to 139 or 5,000 deep, refused beyond [`MAX_DEPTH`] levels; JSON whitespace.
fn json_ok(members: &Members, wrap: Wrap) -> bool {
    wrap == Wrap::Object
        && unique(members.iter().map(|(n, _)| *n))
        && members.iter().all(|(_, v)| v.json_ok())
}

/// The value of `name` when it occurs exactly once among the members.
fn only(members: &Members, name: Name) -> Option<&Value> {
    let mut found = members.iter().filter(|(n, _)| *n == name);
    match (found.next(), found.next()) {
        (Some((_, v)), None) => Some(v),
        _ => None,
    }
}

/// The string value of `name`, when it is there exactly once and a string.
fn string(members: &Members, name: Name, ctx: &Ctx) -> Option<String> {
    only(members, name)?.scalar()?.text(ctx)
}

fn is_id(s: &str) -> bool {
    (1..=256).contains(&s.len()) && s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

fn is_base64url(s: &str) -> bool {
    s.bytes().all(|b| B64URL.contains(&b))
}

/// Everything the oracle knows about one input: the generator's description, not the bytes.
struct Case<'a> {
    signer: &'a VectorKey,
    header: &'a Members,
    header_wrap: Wrap,
    claims: &'a Members,
    claims_wrap: Wrap,
    /// The claims were signed as they stand (false: the signature covers other claims).
    signed_as_sent: bool,
    signature: Signature,
    frame: Frame,
    /// Whether a [`Frame::Spoil`] changed the token (trailing bits may have none to spoil).
    spoiled: bool,
    token_len: usize,
    expected_nonce: Option<&'a str>,
    now: u64,
    ctx: &'a Ctx,
}

/// The oracle: the verdict SPEC §4 gives, check by check in its order, for the token the
/// generator described. Written from the spec, sharing no code with the verifier.
fn oracle(case: &Case<'_>) -> Result<Claims, ErrorCode> {
    use ErrorCode::*;
    use Name::*;
    let ctx = case.ctx;
    let fail = |ok: bool, code| if ok { Ok(()) } else { Err(code) };
    // 1. The length, before anything else.
    fail(case.token_len <= MAX_TOKEN_LEN, TooLarge)?;
    // 2. UTF-8; 3. three non-empty segments; 4. strict base64url in each.
    fail(!matches!(case.frame, Frame::NotUtf8), Malformed)?;
    let sig_len = match case.signature {
        Signature::Length(n) => usize::from(n % 100),
        _ => 64,
    };
    fail(
        !matches!(case.frame, Frame::TwoSegments | Frame::FourSegments) && sig_len > 0,
        Malformed,
    )?;
    fail(!case.spoiled, Malformed)?;
    // 5. The header is a strict JSON object.
    fail(json_ok(case.header, case.header_wrap), Malformed)?;
    // 6. alg present and a string, and one of the two names.
    let alg = only(case.header, Alg).ok_or(BadHeader)?;
    let alg = alg.scalar().and_then(|s| s.text(ctx)).ok_or(BadHeader)?;
    fail(alg == "Ed25519" || alg == "EdDSA", UnsupportedAlgorithm)?;
    // 7. Nothing but alg, typ, kid.
    fail(
        case.header
            .iter()
            .all(|(n, _)| matches!(n, Alg | Typ | Kid)),
        BadHeader,
    )?;
    // 8. typ; 9. kid.
    fail(
        string(case.header, Typ, ctx).as_deref() == Some("kycvs+jwt"),
        BadHeader,
    )?;
    let kid = string(case.header, Kid, ctx).ok_or(BadHeader)?;
    fail(
        (1..=128).contains(&kid.len()) && is_base64url(&kid),
        BadHeader,
    )?;
    // 10. A 64-byte signature.
    fail(sig_len == 64, Malformed)?;
    // 11. A trusted key with this kid.
    let key = keys()
        .iter()
        .find(|k| k.trusted && k.key.kid() == kid)
        .ok_or(UnknownKey)?;
    // 12. The signature, before any claim is read.
    let by_this_key = key.key.kid() == case.signer.key.kid();
    let signature_ok = match case.signature {
        Signature::Valid | Signature::Length(_) => true,
        Signature::OverDefaultClaims => case.signed_as_sent,
        Signature::FlipBit(_) | Signature::HighS | Signature::SmallOrderR => false,
    };
    fail(by_this_key && signature_ok, BadSignature)?;
    // 13. The claims are a strict JSON object.
    let claims = case.claims;
    fail(json_ok(claims, case.claims_wrap), Malformed)?;
    // 14. Exactly the eight claims, each of its type and range.
    let names = [Iss, Sub, Aud, Iat, Exp, Jti, Nonce, Vs];
    fail(claims.iter().all(|(n, _)| names.contains(n)), BadClaims)?;
    let string = |n| string(claims, n, ctx).ok_or(BadClaims);
    let time = |n| {
        only(claims, n)
            .and_then(Value::scalar)
            .and_then(Scalar::integer)
            .filter(|t| (0..=MAX_TIME).contains(t))
            .map(|t| t as u64)
            .ok_or(BadClaims)
    };
    let (iss, sub, aud) = (string(Iss)?, string(Sub)?, string(Aud)?);
    let (iat, exp) = (time(Iat)?, time(Exp)?);
    let (jti, nonce) = (string(Jti)?, string(Nonce)?);
    let vs = only(claims, Vs)
        .and_then(Value::scalar)
        .and_then(Scalar::integer)
        .filter(|v| (0..=2).contains(v))
        .ok_or(BadClaims)?;
    fail(is_id(&iss) && is_id(&sub) && is_id(&aud), BadClaims)?;
    fail(
        (22..=128).contains(&jti.len()) && is_base64url(&jti),
        BadClaims,
    )?;
    fail(
        (1..=128).contains(&nonce.len()) && nonce.bytes().all(|b| (0x20..=0x7e).contains(&b)),
        BadClaims,
    )?;
    fail(exp > iat, BadClaims)?;
    // 15. iss bound to the key. (16 and 17 cannot fail here: the vector trust store has no
    // validity windows and the policy no issuer list.)
    fail(iss == key.issuer, IssuerMismatch)?;
    // 18. aud; 19. nonce, when one is expected.
    fail(aud == AUDIENCE, AudienceMismatch)?;
    fail(
        case.expected_nonce.is_none_or(|n| n == nonce),
        NonceMismatch,
    )?;
    // 20.–22. Time.
    let now = case.now;
    fail(iat <= now + LEEWAY, NotYetValid)?;
    fail(now < exp + LEEWAY, Expired)?;
    fail(exp - iat <= MAX_LIFETIME, LifetimeTooLong)?;
    Ok(Claims {
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

/// Unpadded base64url, written here so that the oracle's facts about segments do not lean
/// on the decoder under test.
fn b64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(B64URL[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// The bytes of a segment [`b64`] wrote (the signer's signature, to reshape it).
fn unb64(segment: &str) -> Vec<u8> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in segment.bytes() {
        let v = B64URL.iter().position(|b| *b == c).expect("base64url") as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

/// The signature segment of `choice`, from the valid 64-byte signature.
fn signature_segment(choice: Signature, valid: [u8; 64], over_default: &str) -> String {
    let mut sig = valid;
    match choice {
        Signature::Valid => {}
        Signature::OverDefaultClaims => return over_default.to_owned(),
        Signature::FlipBit(i) => sig[usize::from(i % 512) / 8] ^= 1 << (i % 8),
        Signature::HighS => {
            // S + ℓ < 2^254: S < ℓ < 2^253, so no carry leaves the 32 bytes.
            let mut carry = 0u16;
            for i in 0..32 {
                let sum = u16::from(sig[32 + i]) + u16::from(ELL[i]) + carry;
                sig[32 + i] = sum as u8;
                carry = sum >> 8;
            }
        }
        Signature::SmallOrderR => sig[..32].copy_from_slice(&IDENTITY),
        Signature::Length(n) => {
            let n = usize::from(n % 100);
            let mut v = valid.to_vec();
            v.resize(n, 0);
            return b64(&v);
        }
    }
    b64(&sig)
}

/// Spoils `segment` as `bad` says; false when there was nothing to spoil.
fn spoil(segment: &mut String, at: u16, bad: Bad) -> bool {
    match bad {
        Bad::Char(c) if !segment.is_empty() => {
            let c = ['+', '/', '=', ' ', '.', '%', '\n'][usize::from(c) % 7];
            let i = usize::from(at) % segment.len();
            segment.replace_range(i..=i, &c.to_string());
            true
        }
        Bad::Char(_) => false,
        Bad::Pad => {
            segment.push('=');
            true
        }
        Bad::TrailingBits if matches!(segment.len() % 4, 2 | 3) => {
            let last = segment.pop().expect("non-empty");
            let v = B64URL
                .iter()
                .position(|b| char::from(*b) == last)
                .expect("b64");
            segment.push(char::from(B64URL[v ^ 1]));
            true
        }
        Bad::TrailingBits => false,
    }
}

/// Set `KYCVS_FUZZ_SHOW=1` to print each input's verdict (to pick seeds by code).
fn show() -> bool {
    static SHOW: OnceLock<bool> = OnceLock::new();
    *SHOW.get_or_init(|| std::env::var_os("KYCVS_FUZZ_SHOW").is_some())
}

fuzz_target!(|input: Input| {
    let ctx = Ctx {
        strings: known_strings(),
        whitespace: ["", " ", "\n", "\t", "\r\n  "][usize::from(input.whitespace) % 5],
        escaped_names: input.escaped_names,
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
    let default_claims = render(&claims, Wrap::Object, &ctx);
    apply(&mut header, input.header);
    apply(&mut claims, input.claims);
    let header_bytes = render(&header, input.header_wrap, &ctx);
    let claims_bytes = render(&claims, input.claims_wrap, &ctx);

    let signed = sign_raw(&signer.key, &header_bytes, &claims_bytes);
    let (signing_input, sig) = signed.rsplit_once('.').expect("three segments");
    let valid: [u8; 64] = unb64(sig).try_into().expect("64-byte signature");
    let over_default = sign_raw(&signer.key, &header_bytes, &default_claims);
    let mut segments: Vec<String> = signing_input.split('.').map(str::to_owned).collect();
    segments.push(signature_segment(
        input.signature,
        valid,
        over_default.rsplit_once('.').expect("three segments").1,
    ));
    let spoiled = match input.frame {
        Frame::Spoil { segment, at, bad } => {
            spoil(&mut segments[usize::from(segment % 3)], at, bad)
        }
        _ => false,
    };
    let mut token = match input.frame {
        Frame::TwoSegments => segments[..2].join("."),
        Frame::FourSegments => segments.join(".") + ".AAAA",
        _ => segments.join("."),
    }
    .into_bytes();
    if let Frame::NotUtf8 = input.frame {
        token.push(0xff);
    }

    let expected_nonce = match input.nonce {
        ExpectedNonce::Any => None,
        ExpectedNonce::Right => Some(NONCE.to_owned()),
        ExpectedNonce::Other(i) => Some(ctx.strings[usize::from(i) % ctx.strings.len()].clone()),
    };
    let now = NOW.saturating_add_signed(i64::from(input.now_delta));
    let got = verify_bytes(&token, expected_nonce.as_deref(), now);
    let want = oracle(&Case {
        signer,
        header: &header,
        header_wrap: input.header_wrap,
        claims: &claims,
        claims_wrap: input.claims_wrap,
        signed_as_sent: default_claims == claims_bytes,
        signature: input.signature,
        frame: input.frame,
        spoiled,
        token_len: token.len(),
        expected_nonce: expected_nonce.as_deref(),
        now,
        ctx: &ctx,
    });
    let got = got
        .as_ref()
        .map(Claims::from)
        .map_err(|e| (e.code(), e.detail().to_owned()));
    if show() {
        eprintln!("verdict {:?}", got.as_ref().map(|_| "ok").map_err(|e| e.0));
    }
    if got.as_ref().map_err(|e| e.0) != want.as_ref().map_err(|e| *e) {
        panic!(
            "verifier and oracle disagree\ntoken {}\nheader {}\nclaims {}\nsignature {:?}, frame {:?}, nonce {expected_nonce:?}, now {now}\nverifier: {got:?}\noracle:   {want:?}",
            String::from_utf8_lossy(&token),
            String::from_utf8_lossy(&header_bytes),
            String::from_utf8_lossy(&claims_bytes),
            input.signature,
            input.frame,
        );
    }
});
