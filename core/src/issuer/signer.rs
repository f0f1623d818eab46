//! The issuer: claims in, signed status token out.

use crate::crypto::keys::{SigningKey, os_random};
use crate::error::{Error, ErrorCode, Result};
use crate::jose::token::{
    Algorithm, Claims, ClaimsView, Header, MAX_ID_LEN, MAX_TIME, MAX_TOKEN_LEN, encode_segment,
    is_valid_id,
};
use crate::status::VaccinationStatus;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The default token lifetime, in seconds.
pub const DEFAULT_TTL: u64 = 300;
/// The largest token lifetime an issuer grants, in seconds (one day).
pub const MAX_TTL: u64 = 86_400;

/// What to attest, and to whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenRequest<'a> {
    /// The verifier the token is for (`aud`).
    pub audience: &'a str,
    /// The verifier's transaction reference (`nonce`), 1 to 128 printable ASCII characters.
    pub nonce: &'a str,
    /// The pseudonymous subject id (`sub`); never a phone number or a name.
    pub subject: &'a str,
    /// The status to attest (`vs`).
    pub status: VaccinationStatus,
    /// Lifetime in seconds, 1 to [`MAX_TTL`]; `exp = now + ttl`.
    pub ttl: u64,
}

/// Signs status tokens with one key for one issuer id.
#[derive(Clone, Debug)]
pub struct Issuer {
    key: SigningKey,
    issuer: String,
    encoded_header: String,
}

impl Issuer {
    /// An issuer that signs as `issuer` (the `iss` claim) with `key`, using `alg` = `Ed25519`.
    /// Error: `invalid_argument` for an empty or overlong issuer id.
    pub fn new(key: SigningKey, issuer: impl Into<String>) -> Result<Issuer> {
        let issuer = issuer.into();
        if !is_valid_id(&issuer) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("issuer must be 1 to {MAX_ID_LEN} visible ASCII characters"),
            ));
        }
        let encoded_header = encode_header(Algorithm::Ed25519, key.kid());
        Ok(Issuer {
            key,
            issuer,
            encoded_header,
        })
    }

    /// Emits `alg` = `alg` instead; [`Algorithm::EdDSA`] suits older JOSE libraries.
    pub fn with_algorithm(mut self, alg: Algorithm) -> Issuer {
        self.encoded_header = encode_header(alg, self.key.kid());
        self
    }

    /// The issuer id.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Issues a token at time `now` with a fresh `jti` of 128 bits from the OS random source.
    /// Error: `invalid_argument` when a field is out of range, `random_source`.
    pub fn issue(&self, request: &TokenRequest<'_>, now: u64) -> Result<String> {
        if request.ttl == 0 || request.ttl > MAX_TTL {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("ttl must be 1 to {MAX_TTL} s"),
            ));
        }
        if now > MAX_TIME - request.ttl {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "now is out of range",
            ));
        }
        let mut random = [0u8; 16];
        os_random(&mut random)?;
        let jti = encode_segment(&random);
        self.sign_view(&ClaimsView {
            iss: &self.issuer,
            sub: request.subject,
            aud: request.audience,
            iat: now,
            exp: now + request.ttl,
            jti: &jti,
            nonce: request.nonce,
            vs: request.status.as_u8(),
        })
    }

    /// Signs fully specified claims (for reproducible test vectors). The claims must satisfy
    /// every v1 rule and name this issuer. Error: `invalid_argument`.
    pub fn sign_claims(&self, claims: &Claims) -> Result<String> {
        self.sign_view(&claims.view())
    }

    fn sign_view(&self, claims: &ClaimsView<'_>) -> Result<String> {
        claims.check_values(ErrorCode::InvalidArgument)?;
        if claims.iss != self.issuer {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "iss is not this issuer's id",
            ));
        }
        let token = sign_compact(&self.key, &self.encoded_header, &claims.to_json()?);
        if token.len() > MAX_TOKEN_LEN {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("token would exceed {MAX_TOKEN_LEN} bytes"),
            ));
        }
        Ok(token)
    }
}

fn encode_header(alg: Algorithm, kid: &str) -> String {
    Header {
        alg,
        kid: kid.to_owned(),
    }
    .encode()
}

fn sign_compact(key: &SigningKey, encoded_header: &str, payload: &[u8]) -> String {
    let mut token = String::with_capacity(encoded_header.len() + payload.len() * 4 / 3 + 90);
    token.push_str(encoded_header);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let signature = key.sign(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    token
}

pub mod hazmat {
    //! Signing of arbitrary bytes, **bypassing every v1 rule**. For test vectors and interop
    //! tests that need malformed-but-signed tokens; never for issuing real tokens.

    use super::*;

    /// Signs `header` and `payload` (raw bytes, base64url-encoded here) as a compact JWS.
    pub fn sign_raw(key: &SigningKey, header: &[u8], payload: &[u8]) -> String {
        sign_compact(key, &encode_segment(header), payload)
    }
}
