//! The wire format: strict JSON, base64url segments and the token's JWS compact
//! serialization (header, claims, untrusted parsing).

pub(crate) mod json;
pub(crate) mod token;
