//! Verifier clients and their credentials: HTTP Basic with the client id and a random 256-bit
//! secret, of which the service keeps only the SHA-256, compared in constant time.

use crate::config::ClientConfig;
use crate::error::{ApiError, ServiceCode};
use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Bytes of randomness in a client secret.
pub const SECRET_BYTES: usize = 32;

/// A registered verifier client.
#[derive(Clone)]
pub struct Client {
    /// The client id, which is the `aud` of every token it obtains.
    pub id: String,
    /// The name shown to people.
    pub name: String,
    /// The origins allowed to embed the consent page.
    pub origins: Vec<String>,
    secret_sha256: [u8; 32],
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The registered clients, by id.
#[derive(Debug, Clone)]
pub struct Clients {
    by_id: HashMap<String, Client>,
}

impl Clients {
    /// The clients of the configuration.
    pub fn new(config: &[ClientConfig]) -> Clients {
        let by_id = config
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    Client {
                        id: c.id.clone(),
                        name: c.name.clone(),
                        origins: c.origins.clone(),
                        secret_sha256: c.secret_sha256,
                    },
                )
            })
            .collect();
        Clients { by_id }
    }

    /// The client with this id.
    pub fn get(&self, id: &str) -> Option<&Client> {
        self.by_id.get(id)
    }

    /// The client whose credentials are in the `Authorization` header. An unknown id costs
    /// the same hash and comparison as a known one. Error: `unauthorized`, with one detail
    /// for every failure.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<&Client, ApiError> {
        let unauthorized = || {
            ApiError::service(
                ServiceCode::Unauthorized,
                "valid client credentials are required",
            )
        };
        let value = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthorized)?;
        let (scheme, encoded) = value.split_once(' ').ok_or_else(unauthorized)?;
        if !scheme.eq_ignore_ascii_case("basic") || encoded.len() > 1_024 {
            return Err(unauthorized());
        }
        let decoded = Zeroizing::new(
            STANDARD
                .decode(encoded.trim())
                .map_err(|_| unauthorized())?,
        );
        let text = std::str::from_utf8(&decoded).map_err(|_| unauthorized())?;
        let (id, secret) = text.split_once(':').ok_or_else(unauthorized)?;
        let offered: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let (expected, client) = match self.by_id.get(id) {
            Some(client) => (client.secret_sha256, Some(client)),
            None => ([0u8; 32], None),
        };
        let matches = offered.ct_eq(&expected);
        match client {
            Some(client) if bool::from(matches) => Ok(client),
            _ => Err(unauthorized()),
        }
    }
}

/// A new client secret (base64url of 32 random bytes) and its SHA-256 in hex, for
/// `kycvs-server client add`. The secret is shown once and never stored.
pub fn new_secret() -> Result<(Zeroizing<String>, String), getrandom::Error> {
    let mut bytes = Zeroizing::new([0u8; SECRET_BYTES]);
    getrandom::fill(bytes.as_mut())?;
    let secret = Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()));
    let hash = hex::encode(Sha256::digest(secret.as_bytes()));
    Ok((secret, hash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn clients(secret: &str) -> Clients {
        Clients::new(&[ClientConfig {
            id: "irctc.example".into(),
            name: "IRCTC".into(),
            origins: vec![],
            secret_sha256: Sha256::digest(secret.as_bytes()).into(),
        }])
    }

    fn basic(user_pass: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!("Basic {}", STANDARD.encode(user_pass));
        headers.insert("authorization", HeaderValue::from_str(&value).unwrap());
        headers
    }

    #[test]
    fn only_the_right_secret_for_the_right_id_authenticates() {
        let (secret, hash) = new_secret().unwrap();
        assert_eq!(secret.len(), 43);
        assert_eq!(hash, hex::encode(Sha256::digest(secret.as_bytes())));
        let clients = clients(&secret);
        let ok = clients.authenticate(&basic(&format!("irctc.example:{}", *secret)));
        assert_eq!(ok.unwrap().id, "irctc.example");
        for bad in [
            format!("irctc.example:{}x", *secret),
            format!("other.example:{}", *secret),
            "irctc.example:".to_owned(),
            "irctc.example".to_owned(),
        ] {
            let err = clients.authenticate(&basic(&bad)).unwrap_err();
            assert_eq!(err.code().as_str(), "unauthorized");
        }
        let mut bearer = HeaderMap::new();
        bearer.insert("authorization", HeaderValue::from_static("Bearer abc"));
        assert!(clients.authenticate(&bearer).is_err());
        assert!(clients.authenticate(&HeaderMap::new()).is_err());
    }
}
