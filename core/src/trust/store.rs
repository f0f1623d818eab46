//! The trust store: which public keys are trusted, each bound to one issuer and, when it came
//! from a signed trust bundle (`crate::trust::bundle`), to a validity window.

use crate::crypto::keys::{PublicKey, jwk_thumbprint};
use crate::error::{Error, ErrorCode, Result, err};
use crate::jose::json::{Json, truncate};
use crate::jose::token::{MAX_ID_LEN, MAX_TIME, decode_segment, is_valid_id, time_from_number};
use std::collections::HashMap;

/// The most keys a trust store holds.
pub const MAX_TRUSTED_KEYS: usize = 1024;
/// The largest JWKS document accepted, in bytes.
pub const MAX_JWKS_LEN: usize = 1 << 20;

/// When a key may sign: a token's `iat` must satisfy `nbf <= iat < exp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyWindow {
    nbf: u64,
    exp: u64,
}

impl KeyWindow {
    /// The window `[nbf, exp)`, seconds since the epoch. Error: `invalid_argument` unless
    /// `nbf < exp <= 2^53 - 1`.
    pub fn new(nbf: u64, exp: u64) -> Result<KeyWindow> {
        if exp > MAX_TIME {
            return Err(err!(InvalidArgument, "key exp must be at most 2^53 - 1"));
        }
        if nbf >= exp {
            return Err(err!(InvalidArgument, "key nbf must be before its exp"));
        }
        Ok(KeyWindow { nbf, exp })
    }

    /// A window from optional bounds, as a JWK or a caller gives them: both make a window,
    /// neither none. Error: `invalid_argument` when only one is given, or as [`KeyWindow::new`].
    pub fn from_bounds(nbf: Option<u64>, exp: Option<u64>) -> Result<Option<KeyWindow>> {
        match (nbf, exp) {
            (None, None) => Ok(None),
            (Some(nbf), Some(exp)) => KeyWindow::new(nbf, exp).map(Some),
            _ => Err(err!(
                InvalidArgument,
                "a key window needs both nbf and exp, or neither"
            )),
        }
    }

    /// The first second a token may be issued at (inclusive).
    pub fn nbf(&self) -> u64 {
        self.nbf
    }

    /// The end of the window (exclusive): a token issued at or after it is refused.
    pub fn exp(&self) -> u64 {
        self.exp
    }

    /// True when `nbf <= iat < exp`.
    pub fn contains(&self, iat: u64) -> bool {
        self.nbf <= iat && iat < self.exp
    }
}

/// A trusted public key, the one issuer it may sign for, and the window its tokens' `iat`
/// must lie in (none for a key from a plain JWKS: any `iat`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedKey {
    key: PublicKey,
    issuer: String,
    window: Option<KeyWindow>,
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

    /// The validity window, if the key has one.
    pub fn window(&self) -> Option<KeyWindow> {
        self.window
    }

    /// The one check of a token's `iat` against the key's window. Error: `key_not_valid`.
    pub(crate) fn check_issued_at(&self, iat: u64) -> Result<()> {
        match self.window {
            Some(w) if iat < w.nbf => Err(err!(
                KeyNotValid,
                "iat is {} s before the signing key's nbf",
                w.nbf - iat
            )),
            Some(w) if iat >= w.exp => Err(err!(
                KeyNotValid,
                "iat is at or after the signing key's exp (by {} s)",
                iat - w.exp
            )),
            _ => Ok(()),
        }
    }
}

/// A set of trusted keys, looked up by `kid`.
///
/// Loaded from a JWKS document (RFC 7517) in which every key is
/// `{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"iss":…}` (`use` = `"sig"` and `alg` =
/// `"Ed25519"` / `"EdDSA"` are also allowed, and `nbf` with `exp`, both or neither, give the
/// key a validity window), or from a signed trust bundle ([`crate::TrustBundle`]). Every key
/// is validated once, here.
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
    /// small-order public key, an unknown `kty` or `crv`, an unknown member, a missing `iss`,
    /// `nbf` without `exp` (or the reverse), `nbf >= exp`.
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
            let parsed =
                parse_jwk(jwk, JwkRole::Jwks).map_err(|why| bad(key_error(index, jwk, &why)))?;
            store.insert(parsed.key, parsed.issuer, parsed.window, index)?;
        }
        Ok(store)
    }

    /// Adds a key bound to `issuer`. Error: `invalid_trust_store` for a duplicate key id, an
    /// empty or overlong issuer, or a full store.
    pub fn add(&mut self, key: PublicKey, issuer: &str) -> Result<()> {
        self.add_with_optional_window(key, issuer, None)
    }

    /// Adds a key bound to `issuer` that may sign only tokens whose `iat` lies in `window`.
    /// Errors: as [`TrustStore::add`].
    pub fn add_with_window(
        &mut self,
        key: PublicKey,
        issuer: &str,
        window: KeyWindow,
    ) -> Result<()> {
        self.add_with_optional_window(key, issuer, Some(window))
    }

    /// [`TrustStore::add`] or [`TrustStore::add_with_window`], as `window` says.
    pub fn add_with_optional_window(
        &mut self,
        key: PublicKey,
        issuer: &str,
        window: Option<KeyWindow>,
    ) -> Result<()> {
        if !is_valid_id(issuer) {
            return Err(bad(format!(
                "issuer must be 1 to {MAX_ID_LEN} visible ASCII characters"
            )));
        }
        let index = self.order.len();
        self.insert(key, issuer.to_owned(), window, index)
    }

    pub(crate) fn insert(
        &mut self,
        key: PublicKey,
        issuer: String,
        window: Option<KeyWindow>,
        index: usize,
    ) -> Result<()> {
        if self.keys.len() >= MAX_TRUSTED_KEYS {
            return Err(bad(format!("more than {MAX_TRUSTED_KEYS} keys")));
        }
        let kid = key.kid().to_owned();
        if self.keys.contains_key(&kid) {
            return Err(bad(format!("key #{index} (kid {kid:?}): duplicate kid")));
        }
        self.order.push(kid.clone());
        self.keys.insert(
            kid,
            TrustedKey {
                key,
                issuer,
                window,
            },
        );
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

    /// The store as a JWKS document that [`TrustStore::from_jwks`] loads back; a key with a
    /// window carries it as `nbf` and `exp`.
    pub fn to_jwks(&self) -> String {
        let keys: Vec<_> = self.iter().map(TrustedKey::to_jwk).collect();
        serde_json::to_string_pretty(&serde_json::json!({ "keys": keys }))
            .unwrap_or_else(|_| String::from("{\"keys\":[]}"))
    }
}

fn bad(detail: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorCode::InvalidTrustStore, detail)
}

impl TrustedKey {
    /// The key's JWK with its issuer and, if it has one, its window.
    pub(crate) fn to_jwk(&self) -> serde_json::Value {
        let mut jwk = self.key.to_jwk(&self.issuer);
        if let (Some(w), Some(members)) = (self.window, jwk.as_object_mut()) {
            members.insert("nbf".into(), w.nbf.into());
            members.insert("exp".into(), w.exp.into());
        }
        jwk
    }
}

/// Where a JWK is read, which decides the members it may or must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JwkRole {
    /// A key of a JWKS trust store: `iss` required, `nbf` and `exp` optional (both or neither).
    Jwks,
    /// A key of a signed trust bundle: `iss`, `nbf` and `exp` required.
    Bundle,
    /// A pinned bundle root key: no `iss`, no window.
    Root,
}

/// A JWK that passed every check of its role.
pub(crate) struct ParsedJwk {
    pub(crate) key: PublicKey,
    pub(crate) issuer: String,
    pub(crate) window: Option<KeyWindow>,
}

/// Names key `index` (and its `kid`, when it has a string one) in front of `why`.
pub(crate) fn key_error(index: usize, jwk: &Json, why: &str) -> String {
    let kid = match jwk {
        Json::Object(m) => m
            .iter()
            .find(|(k, _)| k == "kid")
            .and_then(|(_, v)| v.as_str()),
        _ => None,
    };
    match kid {
        Some(kid) => format!("key #{index} (kid {:?}): {why}", truncate(kid)),
        None => format!("key #{index}: {why}"),
    }
}

/// Checks one JWK for `role`; the error text is completed with the key's index by the caller.
pub(crate) fn parse_jwk(jwk: &Json, role: JwkRole) -> std::result::Result<ParsedJwk, String> {
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
    let time = |name: &str| -> std::result::Result<u64, String> {
        match get(name) {
            Some(Json::Number(n)) => time_from_number(n)
                .ok_or_else(|| format!("{name} must be an integer from 0 to 2^53 - 1")),
            Some(other) => Err(format!("{name} is a {}, not an integer", other.type_name())),
            None => Err(format!("{name} is missing")),
        }
    };
    if get("d").is_some() {
        return Err("holds a private key member \"d\"; only public keys are accepted".into());
    }
    if let Some((name, _)) = members.iter().find(|(k, _)| {
        let common = matches!(k.as_str(), "kty" | "crv" | "x" | "kid" | "use" | "alg");
        let bound = matches!(k.as_str(), "iss" | "nbf" | "exp") && role != JwkRole::Root;
        !(common || bound)
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
    if role == JwkRole::Root {
        return Ok(ParsedJwk {
            key,
            issuer: String::new(),
            window: None,
        });
    }
    let issuer = string("iss")?;
    if !is_valid_id(issuer) {
        return Err(format!(
            "iss must be 1 to {MAX_ID_LEN} visible ASCII characters"
        ));
    }
    let window = match (role, get("nbf").is_some() || get("exp").is_some()) {
        (JwkRole::Jwks, false) => None,
        _ => {
            let (nbf, exp) = (time("nbf")?, time("exp")?);
            if nbf >= exp {
                return Err("nbf must be before exp".into());
            }
            Some(KeyWindow { nbf, exp })
        }
    };
    Ok(ParsedJwk {
        key,
        issuer: issuer.to_owned(),
        window,
    })
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
        let x = crate::jose::token::encode_segment(&identity);
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
