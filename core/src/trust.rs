//! The trust store: which public keys are trusted, each bound to one issuer.

use crate::error::{Error, ErrorCode, Result};
use crate::json::{Json, truncate};
use crate::keys::{PublicKey, jwk_thumbprint};
use crate::token::{MAX_ID_LEN, decode_segment, is_valid_id};
use std::collections::HashMap;

/// The most keys a trust store holds.
pub const MAX_TRUSTED_KEYS: usize = 1024;
/// The largest JWKS document accepted, in bytes.
pub const MAX_JWKS_LEN: usize = 1 << 20;

/// A trusted public key and the one issuer it may sign for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedKey {
    key: PublicKey,
    issuer: String,
}

impl TrustedKey {
    /// The validated public key.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// The issuer bound to the key: a token's `iss` must equal it.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
}

/// A set of trusted keys, looked up by `kid`.
///
/// Loaded from a JWKS document (RFC 7517) in which every key is
/// `{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"iss":…}` (`use` = `"sig"` and `alg` =
/// `"Ed25519"` / `"EdDSA"` are also allowed). Every key is validated once, here.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    keys: HashMap<String, TrustedKey>,
    order: Vec<String>,
}

impl TrustStore {
    /// An empty store.
    pub fn new() -> TrustStore {
        TrustStore::default()
    }

    /// Loads a JWKS document. Rejects, naming the key: a `kid` that is not the key's RFC 7638
    /// thumbprint, a duplicate `kid`, a private member (`d`), a malformed, non-canonical or
    /// small-order public key, an unknown `kty` or `crv`, an unknown member, a missing `iss`.
    /// Error: `invalid_trust_store`.
    pub fn from_jwks(jwks: &[u8]) -> Result<TrustStore> {
        if jwks.len() > MAX_JWKS_LEN {
            return Err(bad(format!("JWKS is larger than {MAX_JWKS_LEN} bytes")));
        }
        let doc = Json::parse(jwks).map_err(|e| bad(format!("JWKS is not strict JSON: {e}")))?;
        let Json::Object(top) = doc else {
            return Err(bad("JWKS is not a JSON object"));
        };
        let keys = match top.as_slice() {
            [(name, Json::Array(keys))] if name == "keys" => keys,
            _ => return Err(bad("JWKS must be exactly {\"keys\": [...]}")),
        };
        let mut store = TrustStore::new();
        for (index, jwk) in keys.iter().enumerate() {
            let (key, issuer) = parse_jwk(jwk).map_err(|why| {
                let kid = match jwk {
                    Json::Object(m) => m
                        .iter()
                        .find(|(k, _)| k == "kid")
                        .and_then(|(_, v)| v.as_str()),
                    _ => None,
                };
                match kid {
                    Some(kid) => bad(format!("key #{index} (kid {:?}): {why}", truncate(kid))),
                    None => bad(format!("key #{index}: {why}")),
                }
            })?;
            store.insert(key, issuer, index)?;
        }
        Ok(store)
    }

    /// Adds a key bound to `issuer`. Error: `invalid_trust_store` for a duplicate key id, an
    /// empty or overlong issuer, or a full store.
    pub fn add(&mut self, key: PublicKey, issuer: &str) -> Result<()> {
        if !is_valid_id(issuer) {
            return Err(bad(format!(
                "issuer must be 1 to {MAX_ID_LEN} visible ASCII characters"
            )));
        }
        let index = self.order.len();
        self.insert(key, issuer.to_owned(), index)
    }

    fn insert(&mut self, key: PublicKey, issuer: String, index: usize) -> Result<()> {
        if self.keys.len() >= MAX_TRUSTED_KEYS {
            return Err(bad(format!("more than {MAX_TRUSTED_KEYS} keys")));
        }
        let kid = key.kid().to_owned();
        if self.keys.contains_key(&kid) {
            return Err(bad(format!("key #{index} (kid {kid:?}): duplicate kid")));
        }
        self.order.push(kid.clone());
        self.keys.insert(kid, TrustedKey { key, issuer });
        Ok(())
    }

    /// The key with this `kid`, if trusted.
    pub fn get(&self, kid: &str) -> Option<&TrustedKey> {
        self.keys.get(kid)
    }

    /// The number of trusted keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The trusted keys in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &TrustedKey> {
        self.order.iter().map(|kid| &self.keys[kid])
    }

    /// The store as a JWKS document that [`TrustStore::from_jwks`] loads back.
    pub fn to_jwks(&self) -> String {
        let keys: Vec<_> = self.iter().map(|t| t.key.to_jwk(&t.issuer)).collect();
        serde_json::to_string_pretty(&serde_json::json!({ "keys": keys }))
            .unwrap_or_else(|_| String::from("{\"keys\":[]}"))
    }
}

fn bad(detail: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorCode::InvalidTrustStore, detail)
}

/// Checks one JWK; the error text is completed with the key's index by the caller.
fn parse_jwk(jwk: &Json) -> std::result::Result<(PublicKey, String), String> {
    let Json::Object(members) = jwk else {
        return Err(format!("is a JSON {}, not an object", jwk.type_name()));
    };
    let get = |name: &str| members.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let string = |name: &str| -> std::result::Result<&str, String> {
        match get(name) {
            Some(Json::String(s)) => Ok(s),
            Some(_) => Err(format!("{name} is not a string")),
            None => Err(format!("{name} is missing")),
        }
    };
    if get("d").is_some() {
        return Err(
            "holds a private key member \"d\"; a trust store holds public keys only".into(),
        );
    }
    if let Some((name, _)) = members.iter().find(|(k, _)| {
        !matches!(
            k.as_str(),
            "kty" | "crv" | "x" | "kid" | "iss" | "use" | "alg"
        )
    }) {
        return Err(format!("unexpected member {:?}", truncate(name)));
    }
    match string("kty")? {
        "OKP" => {}
        other => return Err(format!("kty {:?} is not OKP", truncate(other))),
    }
    match string("crv")? {
        "Ed25519" => {}
        other => return Err(format!("crv {:?} is not Ed25519", truncate(other))),
    }
    if get("use").is_some() && string("use")? != "sig" {
        return Err("use must be \"sig\"".into());
    }
    if get("alg").is_some() && !matches!(string("alg")?, "Ed25519" | "EdDSA") {
        return Err("alg must be \"Ed25519\" or \"EdDSA\"".into());
    }
    let x = string("x")?;
    let bytes: [u8; 32] = decode_segment(x, "x")
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("x is not 32 bytes of unpadded base64url")?;
    let key = PublicKey::from_bytes(&bytes).map_err(|e| format!("x: {}", e.detail()))?;
    let kid = string("kid")?;
    if kid != jwk_thumbprint(x) {
        return Err("kid is not the RFC 7638 thumbprint of the key".into());
    }
    let issuer = string("iss")?;
    if !is_valid_id(issuer) {
        return Err(format!(
            "iss must be 1 to {MAX_ID_LEN} visible ASCII characters"
        ));
    }
    Ok((key, issuer.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SigningKey;

    fn key(seed: u8) -> PublicKey {
        SigningKey::from_seed(&[seed; 32]).public_key().clone()
    }

    fn jwks_with(mutate: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut jwk = key(1).to_jwk("issuer-a");
        mutate(&mut jwk);
        serde_json::to_vec(&serde_json::json!({ "keys": [jwk] })).unwrap()
    }

    fn load_err(jwks: &[u8]) -> String {
        let e = TrustStore::from_jwks(jwks).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidTrustStore);
        e.detail().to_owned()
    }

    #[test]
    fn round_trips() {
        let mut store = TrustStore::new();
        store.add(key(1), "issuer-a").unwrap();
        store.add(key(2), "issuer-b").unwrap();
        let back = TrustStore::from_jwks(store.to_jwks().as_bytes()).unwrap();
        assert_eq!(back.len(), 2);
        let k2 = key(2);
        assert_eq!(back.get(k2.kid()).unwrap().issuer(), "issuer-b");
    }

    #[test]
    fn rejects_each_bad_key_naming_it() {
        let kid = key(1).kid().to_owned();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (jwks_with(|j| j["kid"] = "other".into()), "thumbprint"),
            (jwks_with(|j| j["d"] = "AAAA".into()), "private"),
            (jwks_with(|j| j["kty"] = "EC".into()), "kty"),
            (jwks_with(|j| j["crv"] = "X25519".into()), "crv"),
            (jwks_with(|j| j["x"] = "AAAA".into()), "32 bytes"),
            (jwks_with(|j| j["x5u"] = "https://x".into()), "unexpected"),
            (jwks_with(|j| j["use"] = "enc".into()), "use"),
            (
                jwks_with(|j| {
                    j.as_object_mut().unwrap().remove("iss");
                }),
                "iss",
            ),
        ];
        for (jwks, why) in cases {
            let detail = load_err(&jwks);
            assert!(detail.contains(why), "{detail} lacks {why}");
            assert!(detail.contains("key #0"), "{detail}");
        }
        // Small-order x whose kid is its own thumbprint still fails on the point check.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let x = crate::token::encode_segment(&identity);
        let kid_small = jwk_thumbprint(&x);
        let doc = serde_json::json!({"keys":[{"kty":"OKP","crv":"Ed25519","x":x,"kid":kid_small,"iss":"i"}]});
        assert!(load_err(doc.to_string().as_bytes()).contains("small order"));
        // The key with the good kid is named in the message.
        assert!(load_err(&jwks_with(|j| j["kty"] = "EC".into())).contains(&kid));
    }

    #[test]
    fn rejects_duplicates_and_bad_documents() {
        let jwk = key(1).to_jwk("a");
        let doc = serde_json::json!({ "keys": [jwk.clone(), jwk] });
        assert!(load_err(doc.to_string().as_bytes()).contains("duplicate kid"));
        assert!(load_err(br#"{"keys":[],"keys":[]}"#).contains("duplicate member"));
        assert!(load_err(b"[]").contains("not a JSON object"));
        assert!(load_err(br#"{"keys":[],"extra":1}"#).contains("exactly"));
        assert!(load_err(b"{").contains("strict JSON"));
    }
}
