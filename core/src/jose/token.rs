//! The wire format of a status token, version 1: parsing and encoding, no trust decisions.
//!
//! A token is a JWS compact serialization (RFC 7515) of three unpadded base64url segments:
//! `BASE64URL(header) "." BASE64URL(claims) "." BASE64URL(signature)`. See `docs/SPEC.md`.

use crate::error::{Error, ErrorCode, Result, err};
use crate::jose::json::{Json, KnownMembers, ObjectError, Scalar, truncate};
use crate::status::VaccinationStatus;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::HashMap;

/// The largest token accepted, in bytes; anything longer is rejected before decoding.
pub const MAX_TOKEN_LEN: usize = 4096;
/// The header's `typ`.
pub const TOKEN_TYPE: &str = "kycvs+jwt";
/// The most characters in `iss`, `sub` and `aud` (see [`is_valid_id`]).
pub const MAX_ID_LEN: usize = 256;
/// The most characters in `nonce`.
pub const MAX_NONCE_LEN: usize = 128;
/// The most characters in `kid`.
pub const MAX_KID_LEN: usize = 128;
/// The largest `iat` / `exp`: 2^53 − 1, the largest integer every JSON parser keeps exactly.
pub const MAX_TIME: u64 = (1 << 53) - 1;
/// A JSON number as a time (`iat`, `exp`, `nbf`, `seq`): an integer from 0 to [`MAX_TIME`].
pub(crate) fn time_from_number(n: &serde_json::Number) -> Option<u64> {
    n.as_u64().filter(|t| *t <= MAX_TIME)
}

/// The fewest characters in `jti` (22 base64url characters carry 128 bits).
pub const MIN_JTI_LEN: usize = 22;
/// The most characters in `jti`.
pub const MAX_JTI_LEN: usize = 128;

/// The signature algorithm named in the header's `alg`. Both names mean Ed25519 (RFC 8032).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// `"Ed25519"`, the fully specified name of RFC 9864. Issued by default.
    #[default]
    Ed25519,
    /// `"EdDSA"`, the older name of RFC 8037, accepted and issued for legacy JOSE libraries.
    EdDSA,
}

impl Algorithm {
    /// The `alg` string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "Ed25519",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    /// This algorithm's stable number, as the C layer names it.
    pub const fn number(self) -> u32 {
        match self {
            Algorithm::Ed25519 => 0,
            Algorithm::EdDSA => 1,
        }
    }

    /// The algorithm with this stable number, as the C layer passes it: 0 `Ed25519`,
    /// 1 `EdDSA`. Error: `invalid_argument`.
    pub fn from_number(number: u32) -> Result<Algorithm> {
        match [Algorithm::Ed25519, Algorithm::EdDSA]
            .into_iter()
            .find(|a| a.number() == number)
        {
            Some(alg) => Ok(alg),
            None => Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("algorithm {number} is not 0 (Ed25519) or 1 (EdDSA)"),
            )),
        }
    }

    /// The algorithm with this `alg` name, `Ed25519` or `EdDSA`. Error: `invalid_argument`.
    pub fn from_alg(name: &str) -> Result<Algorithm> {
        Algorithm::from_name(name).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "algorithm must be \"Ed25519\" or \"EdDSA\"",
            )
        })
    }

    fn from_name(name: &str) -> Option<Algorithm> {
        match name {
            "Ed25519" => Some(Algorithm::Ed25519),
            "EdDSA" => Some(Algorithm::EdDSA),
            _ => None,
        }
    }
}

/// A checked protected header: `alg`, `typ` = `kycvs+jwt` and `kid`, nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The algorithm name used.
    pub alg: Algorithm,
    /// The key id: the RFC 7638 thumbprint of the issuer's public key.
    pub kid: String,
}

impl Header {
    /// Parses and checks a decoded header. Errors: `malformed` (not a JSON object, duplicate
    /// members), `unsupported_algorithm`, `bad_header`.
    pub fn from_json(bytes: &[u8]) -> Result<Header> {
        let members = parse_object(bytes, "header")?;
        let alg = match find(&members, "alg") {
            None => return Err(err!(BadHeader, "header has no alg")),
            Some(Json::String(s)) => Algorithm::from_name(s).ok_or_else(|| {
                err!(
                    UnsupportedAlgorithm,
                    "alg {:?} is not Ed25519 or EdDSA",
                    truncate(s)
                )
            })?,
            Some(other) => {
                return Err(err!(
                    BadHeader,
                    "alg is a {}, not a string",
                    other.type_name()
                ));
            }
        };
        if let Some((name, _)) = members
            .iter()
            .find(|(k, _)| !matches!(k.as_str(), "alg" | "typ" | "kid"))
        {
            return Err(err!(
                BadHeader,
                "unexpected header member {:?}",
                truncate(name)
            ));
        }
        match find(&members, "typ") {
            Some(Json::String(t)) if t == TOKEN_TYPE => {}
            Some(Json::String(t)) => {
                return Err(err!(BadHeader, "typ {:?} is not {TOKEN_TYPE}", truncate(t)));
            }
            Some(_) => return Err(err!(BadHeader, "typ is not a string")),
            None => return Err(err!(BadHeader, "header has no typ")),
        }
        let kid = match find(&members, "kid") {
            Some(Json::String(k)) if is_valid_kid(k) => k.clone(),
            Some(Json::String(_)) => {
                return Err(err!(
                    BadHeader,
                    "kid must be 1 to {MAX_KID_LEN} base64url characters"
                ));
            }
            Some(_) => return Err(err!(BadHeader, "kid is not a string")),
            None => return Err(err!(BadHeader, "header has no kid")),
        };
        Ok(Header { alg, kid })
    }

    /// The header as compact JSON, members in the order `alg`, `typ`, `kid`.
    pub fn to_json(&self) -> String {
        serde_json::json!({"alg": self.alg.as_str(), "typ": TOKEN_TYPE, "kid": self.kid})
            .to_string()
    }

    /// The header segment as issuers write it: [`Header::to_json`] in unpadded base64url.
    pub(crate) fn encode(&self) -> String {
        encode_segment(self.to_json().as_bytes())
    }
}

/// The claims of a version 1 token: exactly these eight members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    /// `iss`: the issuer id.
    pub iss: String,
    /// `sub`: a pseudonymous subject id (never a phone number or a name).
    pub sub: String,
    /// `aud`: the one verifier this token is for.
    pub aud: String,
    /// `iat`: issued at, seconds since the Unix epoch.
    pub iat: u64,
    /// `exp`: expiry, seconds since the Unix epoch; always greater than `iat`.
    pub exp: u64,
    /// `jti`: a unique token id, at least 128 random bits in base64url.
    pub jti: String,
    /// `nonce`: the verifier's transaction reference, 1 to 128 printable ASCII characters.
    pub nonce: String,
    /// `vs`: the vaccination status.
    pub vs: VaccinationStatus,
}

const CLAIM_NAMES: [&str; 8] = ["iss", "sub", "aud", "iat", "exp", "jti", "nonce", "vs"];

impl Claims {
    /// Parses and checks decoded claims against the v1 rules. Errors: `malformed` (not a JSON
    /// object, duplicate members), `bad_claims` (a missing, extra or ill-typed claim).
    pub fn from_json(bytes: &[u8]) -> Result<Claims> {
        // One pass, straight into the typed claims: no value tree, no copies. The checks and
        // their order are those of the JSON Schema `core/schemas/claims.schema.json` (the
        // contract; core/tests/schema.rs shows both agree on every vector).
        let members = match KnownMembers::parse(bytes, &CLAIM_NAMES) {
            Ok(members) => members,
            Err(ObjectError::Syntax(e)) => {
                return Err(err!(Malformed, "claims is not strict JSON: {e}"));
            }
            Err(ObjectError::NotAnObject(t)) => {
                return Err(err!(Malformed, "claims is a JSON {t}, not an object"));
            }
        };
        if let Some(name) = &members.first_unknown {
            return Err(err!(BadClaims, "unexpected claim {:?}", truncate(name)));
        }
        let [iss, sub, aud, iat, exp, jti, nonce, vs] = members.values;
        let claims = Claims {
            iss: string_member(iss, "iss")?,
            sub: string_member(sub, "sub")?,
            aud: string_member(aud, "aud")?,
            iat: time_member(iat, "iat")?,
            exp: time_member(exp, "exp")?,
            jti: string_member(jti, "jti")?,
            nonce: string_member(nonce, "nonce")?,
            vs: match vs {
                Some(Scalar::Number(n)) => n
                    .as_u64()
                    .and_then(|v| VaccinationStatus::try_from(v).ok())
                    .ok_or_else(|| err!(BadClaims, "vs must be the integer 0, 1 or 2"))?,
                Some(other) => {
                    return Err(err!(
                        BadClaims,
                        "vs is a {}, not an integer",
                        other.type_name()
                    ));
                }
                None => return Err(err!(BadClaims, "claim vs is missing")),
            },
        };
        claims.check_values(ErrorCode::BadClaims)?;
        Ok(claims)
    }

    /// Checks the value rules that types alone do not express; `code` is the error to report.
    pub(crate) fn check_values(&self, code: ErrorCode) -> Result<()> {
        self.view().check_values(code)
    }

    /// The claims as compact JSON, members in the order `iss sub aud iat exp jti nonce vs`.
    /// Error: `invalid_argument` if serialisation fails (it cannot for these types).
    pub fn to_json(&self) -> Result<String> {
        let json = self.view().to_json()?;
        String::from_utf8(json)
            .map_err(|_| Error::new(ErrorCode::InvalidArgument, "claims JSON is not UTF-8"))
    }

    /// The claims borrowed, for checking and serialising without copies.
    pub(crate) fn view(&self) -> ClaimsView<'_> {
        ClaimsView {
            iss: &self.iss,
            sub: &self.sub,
            aud: &self.aud,
            iat: self.iat,
            exp: self.exp,
            jti: &self.jti,
            nonce: &self.nonce,
            vs: self.vs.as_u8(),
        }
    }
}

/// [`Claims`] with borrowed strings: what the issuer checks and serialises on its hot path.
/// The field order is the member order of the JSON.
#[derive(serde::Serialize)]
pub(crate) struct ClaimsView<'a> {
    pub(crate) iss: &'a str,
    pub(crate) sub: &'a str,
    pub(crate) aud: &'a str,
    pub(crate) iat: u64,
    pub(crate) exp: u64,
    pub(crate) jti: &'a str,
    pub(crate) nonce: &'a str,
    pub(crate) vs: u8,
}

impl ClaimsView<'_> {
    /// Checks the value rules that types alone do not express; `code` is the error to report.
    pub(crate) fn check_values(&self, code: ErrorCode) -> Result<()> {
        for (name, value) in [("iss", self.iss), ("sub", self.sub), ("aud", self.aud)] {
            if !is_valid_id(value) {
                return Err(Error::new(
                    code,
                    format!("{name} must be 1 to {MAX_ID_LEN} visible ASCII characters"),
                ));
            }
        }
        if !is_valid_jti(self.jti) {
            return Err(Error::new(
                code,
                format!("jti must be {MIN_JTI_LEN} to {MAX_JTI_LEN} base64url characters"),
            ));
        }
        if !is_valid_nonce(self.nonce) {
            return Err(Error::new(
                code,
                format!("nonce must be 1 to {MAX_NONCE_LEN} printable ASCII characters"),
            ));
        }
        if self.iat > MAX_TIME || self.exp > MAX_TIME {
            return Err(Error::new(code, "iat and exp must be at most 2^53 - 1"));
        }
        if self.exp <= self.iat {
            return Err(Error::new(code, "exp must be after iat"));
        }
        Ok(())
    }

    /// Compact JSON, straight from the borrowed fields: no value tree, no copies.
    pub(crate) fn to_json(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|e| err!(InvalidArgument, "claims do not serialise: {e}"))
    }
}

/// True when `nonce` has 1 to 128 characters, each printable ASCII (0x20–0x7E).
pub fn is_valid_nonce(nonce: &str) -> bool {
    !nonce.is_empty()
        && nonce.len() <= MAX_NONCE_LEN
        && nonce.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// True when `id` (an issuer, subject or audience id) has 1 to 256 characters, each visible
/// ASCII (0x21–0x7E): no spaces, no control characters, nothing that normalises differently.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.bytes().all(|b| b.is_ascii_graphic())
}

fn is_base64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_valid_jti(jti: &str) -> bool {
    (MIN_JTI_LEN..=MAX_JTI_LEN).contains(&jti.len()) && is_base64url(jti)
}

fn is_valid_kid(kid: &str) -> bool {
    (1..=MAX_KID_LEN).contains(&kid.len()) && is_base64url(kid)
}

fn parse_object(bytes: &[u8], what: &str) -> Result<Vec<(String, Json)>> {
    match Json::parse(bytes) {
        Ok(Json::Object(members)) => Ok(members),
        Ok(other) => Err(err!(
            Malformed,
            "{what} is a JSON {}, not an object",
            other.type_name()
        )),
        Err(e) => Err(err!(Malformed, "{what} is not strict JSON: {e}")),
    }
}

fn find<'a>(members: &'a [(String, Json)], name: &str) -> Option<&'a Json> {
    members.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn string_member(value: Option<Scalar>, name: &str) -> Result<String> {
    match value {
        Some(Scalar::String(s)) => Ok(s),
        Some(other) => Err(err!(
            BadClaims,
            "{name} is a {}, not a string",
            other.type_name()
        )),
        None => Err(err!(BadClaims, "claim {name} is missing")),
    }
}

fn time_member(value: Option<Scalar>, name: &str) -> Result<u64> {
    match value {
        Some(Scalar::Number(n)) => time_from_number(&n)
            .ok_or_else(|| err!(BadClaims, "{name} must be an integer from 0 to 2^53 - 1")),
        Some(other) => Err(err!(
            BadClaims,
            "{name} is a {}, not an integer",
            other.type_name()
        )),
        None => Err(err!(BadClaims, "claim {name} is missing")),
    }
}

/// Decodes one unpadded base64url segment, strictly (no padding, no `+` `/`, no whitespace,
/// zero trailing bits).
pub(crate) fn decode_segment(segment: &str, what: &str) -> Result<Vec<u8>> {
    if segment.is_empty() {
        return Err(err!(Malformed, "{what} segment is empty"));
    }
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| err!(Malformed, "{what} segment is not unpadded base64url"))
}

/// Decodes the signature segment on the stack: `malformed` when it is not strict base64url
/// (as [`decode_segment`]), `Ok(None)` when it decodes to other than 64 bytes — a verdict
/// that waits until the header has been judged.
fn decode_signature(segment: &str) -> Result<Option<[u8; 64]>> {
    // 64 bytes are exactly 86 characters; anything else takes the general path, which gives
    // the same verdict and detail for every other length.
    if segment.len() == 86 {
        // Room for the decoder's conservative size estimate (66 bytes for 86 characters).
        let mut buf = [0u8; 66];
        if let Ok(64) = URL_SAFE_NO_PAD.decode_slice(segment, &mut buf) {
            let mut signature = [0u8; 64];
            signature.copy_from_slice(&buf[..64]);
            return Ok(Some(signature));
        }
    }
    Ok(decode_segment(segment, "signature")?.try_into().ok())
}

/// Encodes bytes as unpadded base64url.
pub(crate) fn encode_segment(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Header segments exactly as issuers write them for a set of key ids (both `alg` names),
/// each with its parsed header: a verifier looks a token's header segment up here before
/// decoding it. Every entry went through the general path once, at construction.
#[derive(Clone, Debug, Default)]
pub(crate) struct KnownHeaders(HashMap<String, Header>);

impl KnownHeaders {
    /// The headers for `kids`.
    pub(crate) fn new<'k>(kids: impl IntoIterator<Item = &'k str>) -> KnownHeaders {
        let mut known = HashMap::new();
        for kid in kids {
            for alg in [Algorithm::Ed25519, Algorithm::EdDSA] {
                let header = Header {
                    alg,
                    kid: kid.to_owned(),
                };
                let segment = header.encode();
                // Kept only where the general path gives exactly this header, so that the
                // shortcut can never change a verdict.
                let parsed = decode_segment(&segment, "header").and_then(|j| Header::from_json(&j));
                if matches!(parsed, Ok(ref p) if *p == header) {
                    known.insert(segment, header);
                }
            }
        }
        KnownHeaders(known)
    }
}

/// A token split into its parts, its header checked, nothing trusted yet.
///
/// The claims stay undecoded JSON until a signature has been verified over
/// [`UntrustedToken::signing_input`]; only [`crate::Verifier`] turns this into claims.
#[derive(Debug)]
pub struct UntrustedToken<'a> {
    signing_input: &'a [u8],
    header: Header,
    payload: Vec<u8>,
    signature: [u8; 64],
}

impl<'a> UntrustedToken<'a> {
    /// Checks the size and structure and parses the header. Errors: `too_large`, `malformed`,
    /// `unsupported_algorithm`, `bad_header`.
    pub fn parse(token: &'a str) -> Result<UntrustedToken<'a>> {
        UntrustedToken::parse_with(token, None)
    }

    /// [`UntrustedToken::parse`], taking the header from `known` when its segment is there.
    pub(crate) fn parse_with(
        token: &'a str,
        known: Option<&KnownHeaders>,
    ) -> Result<UntrustedToken<'a>> {
        let (signing_input, [h, p, s]) = split(token)?;
        let known_header = known.and_then(|known| known.0.get(h));
        // The encoding of all three segments comes before any header semantics, and the
        // header before the signature's length: a token of another algorithm (HS256's 32-byte
        // MAC) is `unsupported_algorithm`, not `malformed`. A known segment decodes and
        // parses (KnownHeaders::new checked it): skipping that work cannot change the verdict
        // or its order.
        let header_json = match known_header {
            Some(_) => Vec::new(),
            None => decode_segment(h, "header")?,
        };
        let payload = decode_segment(p, "claims")?;
        let signature = decode_signature(s)?;
        let header = match known_header {
            Some(header) => header.clone(),
            None => Header::from_json(&header_json)?,
        };
        let signature = signature.ok_or_else(|| err!(Malformed, "signature is not 64 bytes"))?;
        Ok(UntrustedToken {
            signing_input: signing_input.as_bytes(),
            header,
            payload,
            signature,
        })
    }

    /// The checked header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The exact bytes the signature covers: the first two segments as received.
    pub fn signing_input(&self) -> &'a [u8] {
        self.signing_input
    }

    /// The 64-byte Ed25519 signature.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The decoded, not yet trusted, claims JSON.
    pub(crate) fn payload(&self) -> &[u8] {
        &self.payload
    }
}

/// Checks the size and splits a token into its three segments and the signing input.
fn split(token: &str) -> Result<(&str, [&str; 3])> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(err!(
            TooLarge,
            "token is {} bytes, more than {MAX_TOKEN_LEN}",
            token.len()
        ));
    }
    split_compact(token).ok_or_else(|| {
        Error::new(
            ErrorCode::Malformed,
            "token is not three dot-separated segments",
        )
    })
}

/// Splits a JWS compact serialization (a token or a trust bundle) into its signing input
/// (`header "." payload`) and its three segments; `None` unless there are exactly three.
pub(crate) fn split_compact(jws: &str) -> Option<(&str, [&str; 3])> {
    let mut parts = jws.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    Some((&jws[..h.len() + 1 + p.len()], [h, p, s]))
}

/// What [`inspect_unverified`] shows of a token. Nothing in it is verified.
#[derive(Clone, Debug, PartialEq)]
pub struct UnverifiedInspection {
    /// The decoded header JSON, unchecked.
    pub header: serde_json::Value,
    /// The decoded claims JSON, unchecked and unverified.
    pub claims: serde_json::Value,
    /// The signature length in bytes.
    pub signature_len: usize,
}

/// Decodes a token for display **without verifying anything** but its size and structure.
/// Never base a decision on the result; use [`crate::Verifier`].
pub fn inspect_unverified(token: &str) -> Result<UnverifiedInspection> {
    let (_, [h, p, s]) = split(token)?;
    let json = |segment: &str, what: &str| -> Result<serde_json::Value> {
        Json::parse(&decode_segment(segment, what)?)
            .map(Json::into_value)
            .map_err(|e| err!(Malformed, "{what} is not strict JSON: {e}"))
    };
    Ok(UnverifiedInspection {
        header: json(h, "header")?,
        claims: json(p, "claims")?,
        signature_len: decode_segment(s, "signature")?.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every token of the shared vectors, and each with its header segment swapped for every
    /// known one: the header shortcut gives exactly the general path's result or error.
    #[test]
    fn known_headers_never_change_a_parse() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testvectors");
        let vectors: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("verify.json")).unwrap()).unwrap();
        let jwks = std::fs::read(dir.join("trust.jwks")).unwrap();
        let trust = crate::TrustStore::from_jwks(&jwks).unwrap();
        let known = KnownHeaders::new(trust.iter().map(|t| t.key().kid()));
        assert_eq!(known.0.len(), 2 * trust.len());
        let mut tokens: Vec<String> = vectors["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["token"].as_str().unwrap().to_owned())
            .collect();
        let originals = tokens.clone();
        for segment in known.0.keys() {
            for token in &originals {
                if let Some((_, rest)) = token.split_once('.') {
                    tokens.push(format!("{segment}.{rest}"));
                }
            }
        }
        let mut shortcut_taken = 0;
        for token in &tokens {
            let general = UntrustedToken::parse(token);
            let fast = UntrustedToken::parse_with(token, Some(&known));
            match (&general, &fast) {
                (Ok(g), Ok(f)) => {
                    assert_eq!(g.header, f.header, "{token}");
                    assert_eq!(g.payload, f.payload, "{token}");
                    assert_eq!(g.signature, f.signature, "{token}");
                    assert_eq!(g.signing_input, f.signing_input, "{token}");
                }
                (Err(g), Err(f)) => {
                    assert_eq!((g.code(), g.detail()), (f.code(), f.detail()), "{token}");
                }
                _ => panic!("{token}: {general:?} vs {fast:?}"),
            }
            if token
                .split('.')
                .next()
                .is_some_and(|h| known.0.contains_key(h))
            {
                shortcut_taken += 1;
            }
        }
        assert!(
            shortcut_taken > tokens.len() / 2,
            "{shortcut_taken} of {}",
            tokens.len()
        );
    }

    fn claims() -> Claims {
        Claims {
            iss: "issuer".into(),
            sub: "subject".into(),
            aud: "verifier".into(),
            iat: 100,
            exp: 200,
            jti: "AAAAAAAAAAAAAAAAAAAAAA".into(),
            nonce: "n-1".into(),
            vs: VaccinationStatus::FullyVaccinated,
        }
    }

    #[test]
    fn claims_round_trip() {
        let c = claims();
        assert_eq!(
            Claims::from_json(c.to_json().unwrap().as_bytes()).unwrap(),
            c
        );
    }

    #[test]
    fn header_round_trip_and_order() {
        let h = Header {
            alg: Algorithm::EdDSA,
            kid: "k".into(),
        };
        assert_eq!(
            h.to_json(),
            r#"{"alg":"EdDSA","typ":"kycvs+jwt","kid":"k"}"#
        );
        assert_eq!(Header::from_json(h.to_json().as_bytes()).unwrap(), h);
    }

    #[test]
    fn strict_base64() {
        assert!(decode_segment("AA", "x").is_ok());
        for bad in ["AB", "AA==", "A+", "A/", " AA", "A", ""] {
            assert_eq!(
                decode_segment(bad, "x").unwrap_err().code(),
                ErrorCode::Malformed,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn claims_parse_is_strict_in_one_pass() {
        let code = |json: &str| Claims::from_json(json.as_bytes()).unwrap_err().code();
        let good = claims().to_json().unwrap();
        let with = |extra: &str| format!("{}{extra}}}", &good[..good.len() - 1]);
        // Duplicates anywhere are malformed, before any claim rule.
        assert_eq!(code(&with(r#","iss":"x""#)), ErrorCode::Malformed);
        assert_eq!(code(&with(r#","x":{"a":1,"a":2}"#)), ErrorCode::Malformed);
        assert_eq!(code(&with(r#","x":1,"x":1"#)), ErrorCode::Malformed);
        assert_eq!(code(&with(r#","x":1} "#)), ErrorCode::Malformed);
        assert_eq!(code("[1]"), ErrorCode::Malformed);
        assert_eq!(code(&with(r#","x":[1]"#)), ErrorCode::BadClaims);
        assert_eq!(
            code(&good.replace(r#""vs":2"#, r#""vs":[2]"#)),
            ErrorCode::BadClaims
        );
        assert_eq!(
            code(&good.replace(r#""iat":100"#, r#""iat":1e2"#)),
            ErrorCode::BadClaims
        );
        // Escaped member names are the same names.
        let escaped = good.replace(r#""iss""#, r#""\u0069ss""#);
        assert_eq!(Claims::from_json(escaped.as_bytes()).unwrap(), claims());
    }

    #[test]
    fn exp_must_follow_iat() {
        let mut c = claims();
        c.exp = c.iat;
        assert_eq!(
            Claims::from_json(c.to_json().unwrap().as_bytes())
                .unwrap_err()
                .code(),
            ErrorCode::BadClaims
        );
    }

    #[test]
    fn nonce_rules() {
        assert!(is_valid_nonce("PNR 1234/AB"));
        assert!(!is_valid_nonce(""));
        assert!(!is_valid_nonce("tab\there"));
        assert!(!is_valid_nonce("é"));
        assert!(!is_valid_nonce(&"x".repeat(129)));
        assert!(is_valid_nonce(&"x".repeat(128)));
    }
}
