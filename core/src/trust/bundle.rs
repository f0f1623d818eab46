//! Signed trust bundles: a pinned root key vouches for the trusted keys, each bound to its
//! issuer and to a validity window, under a sequence number and an expiry.
//!
//! A bundle is a JWS compact serialization like a token, with its own `typ` so that neither
//! can be taken for the other:
//!
//! - header, exactly `{"alg": "Ed25519" | "EdDSA", "typ": "kycvs-trust+jwt", "kid": <root kid>}`;
//! - payload, exactly `{"seq": 1…2^53−1, "iat": …, "exp": …, "keys": [<key>…]}` with
//!   `iat < exp`, each key `{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"iss":…,"nbf":…,"exp":…}`
//!   (`use` and `alg` allowed as in a JWKS) and `nbf < exp`;
//! - signature, Ed25519 under the root key with the semantics of `crate::crypto::signature`.
//!
//! Loading fails closed: a bundle past its `exp` is refused, whatever its keys say.

use crate::crypto::keys::{PublicKey, SigningKey};
use crate::crypto::signature::verify_signature;
use crate::error::{Error, ErrorCode, Result, err};
use crate::issuer::signer::hazmat::sign_raw;
use crate::jose::json::{Json, truncate};
use crate::jose::token::{
    MAX_TIME, decode_segment, encode_segment, split_compact, time_from_number,
};
use crate::trust::store::{JwkRole, KeyWindow, MAX_TRUSTED_KEYS, TrustStore, key_error, parse_jwk};

/// The header's `typ` of a trust bundle.
pub const BUNDLE_TYPE: &str = "kycvs-trust+jwt";
/// The largest trust bundle accepted, in bytes (as large as the largest JWKS).
pub const MAX_BUNDLE_LEN: usize = crate::trust::store::MAX_JWKS_LEN;
/// The largest root key document (one JWK) accepted, in bytes.
pub const MAX_ROOT_JWK_LEN: usize = 4096;

/// What a new bundle says about itself, for [`TrustBundle::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BundleTerms {
    /// The sequence number (`seq`), 1 to 2^53 − 1: raise it with every new bundle.
    pub sequence: u64,
    /// When the bundle is issued (`iat`), seconds since the epoch.
    pub issued_at: u64,
    /// When it expires (`exp`), after `issued_at` and at most 2^53 − 1; verifiers refuse it
    /// from then on.
    pub expires_at: u64,
    /// The window given to keys that carry none. `None`: every key must carry its own.
    pub default_key_window: Option<KeyWindow>,
}

/// How a verifier loads a signed bundle, for [`TrustBundle::load`]. Every field is required:
/// there is no default root, no default rollback floor and no default clock.
#[derive(Clone, Copy, Debug)]
pub struct BundleLoad<'a> {
    /// The pinned root key the bundle must be signed by.
    pub root: &'a PublicKey,
    /// The highest sequence number accepted before (an equal one is accepted, so the same
    /// bundle may be loaded again; 1 accepts any bundle, for the very first load).
    pub min_sequence: u64,
    /// The time of loading, seconds since the epoch ([`crate::unix_now`] for the system clock).
    pub now: u64,
}

/// A trust store signed by a root key, with the bundle's sequence number and lifetime.
///
/// Made by [`TrustBundle::new`] to be signed, or by [`TrustBundle::load`] from a signed
/// bundle that passed every check.
///
/// ```
/// use kycvs_core::{BundleLoad, BundleTerms, ErrorCode, KeyWindow, SigningKey, TrustBundle,
///                  TrustStore};
///
/// # fn main() -> Result<(), kycvs_core::Error> {
/// let root = SigningKey::generate()?;
/// let issuer_key = SigningKey::generate()?;
/// let mut keys = TrustStore::new();
/// keys.add(issuer_key.public_key().clone(), "cowin.example")?;
/// let terms = BundleTerms {
///     sequence: 7,
///     issued_at: 1_700_000_000,
///     expires_at: 1_700_086_400,
///     default_key_window: Some(KeyWindow::new(1_700_000_000, 1_800_000_000)?),
/// };
/// let signed = TrustBundle::new(&keys, &terms)?.sign(&root)?;
///
/// let mut load = BundleLoad { root: root.public_key(), min_sequence: 7, now: 1_700_000_100 };
/// let loaded = TrustBundle::load(signed.as_bytes(), &load)?;
/// assert_eq!((loaded.sequence(), loaded.trust_store().len()), (7, 1));
///
/// load.min_sequence = 8;
/// let err = TrustBundle::load(signed.as_bytes(), &load);
/// assert_eq!(err.unwrap_err().code(), ErrorCode::BundleRollback);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct TrustBundle {
    sequence: u64,
    issued_at: u64,
    expires_at: u64,
    trust: TrustStore,
}

impl TrustBundle {
    /// A bundle of the keys in `trust` under `terms`: each key keeps the validity window it
    /// has (see [`TrustStore::add_with_window`]) or gets `terms.default_key_window`.
    /// Error: `invalid_argument` for terms out of range, or a key with no window when there
    /// is no default.
    pub fn new(trust: &TrustStore, terms: &BundleTerms) -> Result<TrustBundle> {
        let BundleTerms {
            sequence,
            issued_at,
            expires_at,
            default_key_window,
        } = *terms;
        if sequence == 0 || sequence > MAX_TIME {
            return Err(err!(
                InvalidArgument,
                "bundle sequence must be 1 to 2^53 - 1"
            ));
        }
        if expires_at > MAX_TIME {
            return Err(err!(
                InvalidArgument,
                "bundle expiry must be at most 2^53 - 1"
            ));
        }
        if issued_at >= expires_at {
            return Err(err!(
                InvalidArgument,
                "bundle expiry must be after its issue time"
            ));
        }
        let mut keys = TrustStore::new();
        for key in trust.iter() {
            let window = key.window().or(default_key_window).ok_or_else(|| {
                err!(
                    InvalidArgument,
                    "key {} has no validity window (nbf, exp) and the bundle gives no default",
                    key.key().kid()
                )
            })?;
            keys.add_with_window(key.key().clone(), key.issuer(), window)?;
        }
        Ok(TrustBundle {
            sequence,
            issued_at,
            expires_at,
            trust: keys,
        })
    }

    /// Signs the bundle with the root key. Error: `invalid_argument` when it would be longer
    /// than [`MAX_BUNDLE_LEN`].
    pub fn sign(&self, root: &SigningKey) -> Result<String> {
        let header = serde_json::json!({"alg": "Ed25519", "typ": BUNDLE_TYPE, "kid": root.kid()});
        let keys: Vec<serde_json::Value> = self.trust.iter().map(|k| k.to_jwk()).collect();
        let payload = serde_json::json!({
            "seq": self.sequence, "iat": self.issued_at, "exp": self.expires_at, "keys": keys,
        });
        let signed = sign_raw(
            root,
            header.to_string().as_bytes(),
            payload.to_string().as_bytes(),
        );
        if signed.len() > MAX_BUNDLE_LEN {
            return Err(err!(
                InvalidArgument,
                "the bundle would exceed {MAX_BUNDLE_LEN} bytes"
            ));
        }
        Ok(signed)
    }

    /// Loads a signed bundle at time `load.now`, trusting only `load.root`, refusing a sequence
    /// number below `load.min_sequence`.
    ///
    /// Checks, in order, each with its error code: size, at most [`MAX_BUNDLE_LEN`] bytes;
    /// UTF-8 and three strict base64url segments, the last one 64 bytes; the header exactly
    /// `alg` (`Ed25519` or `EdDSA`), `typ` = [`BUNDLE_TYPE`] and `kid` = the root's kid;
    /// the Ed25519 signature under `root`; the payload exactly `seq` (1 to 2^53 − 1), `iat`,
    /// `exp` (`iat < exp`) and `keys` (an array of at most [`MAX_TRUSTED_KEYS`]), no duplicate
    /// member anywhere (all `invalid_bundle`); then `now < exp` (`stale_bundle`: no leeway,
    /// a stale bundle is never used); then `seq >= min_sequence` (`bundle_rollback`); then
    /// each key, as a JWKS key with `nbf < exp` required, and no duplicate `kid`
    /// (`invalid_bundle`).
    pub fn load(bundle: &[u8], load: &BundleLoad<'_>) -> Result<TrustBundle> {
        let BundleLoad {
            root,
            min_sequence,
            now,
        } = *load;
        if bundle.len() > MAX_BUNDLE_LEN {
            return Err(invalid(format!(
                "bundle is {} bytes, more than {MAX_BUNDLE_LEN}",
                bundle.len()
            )));
        }
        let text = std::str::from_utf8(bundle).map_err(|_| invalid("bundle is not UTF-8"))?;
        let (signing_input, [h, p, s]) = split_compact(text)
            .ok_or_else(|| invalid("bundle is not three dot-separated segments"))?;
        let segment = |seg: &str, what: &str| decode_segment(seg, what).map_err(recode);
        let header = segment(h, "header")?;
        let payload = segment(p, "payload")?;
        let signature: [u8; 64] = segment(s, "signature")?
            .try_into()
            .map_err(|_| invalid("signature is not 64 bytes"))?;
        check_header(&header, root)?;
        verify_signature(root, signing_input.as_bytes(), &signature)
            .map_err(|_| invalid("signature does not verify under the root key"))?;

        let members = object(&payload, "payload")?;
        only_members(&members, &["seq", "iat", "exp", "keys"], "payload")?;
        let sequence = time(&members, "seq")?;
        if sequence == 0 {
            return Err(invalid("seq must be at least 1"));
        }
        let (issued_at, expires_at) = (time(&members, "iat")?, time(&members, "exp")?);
        if issued_at >= expires_at {
            return Err(invalid("bundle exp must be after its iat"));
        }
        let keys = match find(&members, "keys") {
            Some(Json::Array(keys)) if keys.len() <= MAX_TRUSTED_KEYS => keys,
            Some(Json::Array(_)) => {
                return Err(invalid(format!("more than {MAX_TRUSTED_KEYS} keys")));
            }
            Some(other) => {
                return Err(invalid(format!(
                    "keys must be an array, not a JSON {}",
                    other.type_name()
                )));
            }
            None => return Err(invalid("payload member keys is missing")),
        };

        if now >= expires_at {
            return Err(err!(
                StaleBundle,
                "the bundle expired at {expires_at}, {} s ago; get a fresh one",
                now - expires_at
            ));
        }
        if sequence < min_sequence {
            return Err(err!(
                BundleRollback,
                "bundle seq {sequence} is lower than {min_sequence}, the last one accepted"
            ));
        }

        let mut trust = TrustStore::new();
        for (index, jwk) in keys.iter().enumerate() {
            let parsed = parse_jwk(jwk, JwkRole::Bundle)
                .map_err(|why| invalid(key_error(index, jwk, &why)))?;
            trust
                .insert(parsed.key, parsed.issuer, parsed.window, index)
                .map_err(recode)?;
        }
        Ok(TrustBundle {
            sequence,
            issued_at,
            expires_at,
            trust,
        })
    }

    /// The sequence number (`seq`).
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// When the bundle was issued (`iat`), seconds since the epoch.
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }

    /// When the bundle expires (`exp`), seconds since the epoch; from then on it is stale.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// The keys, each with its issuer and validity window.
    pub fn trust_store(&self) -> &TrustStore {
        &self.trust
    }

    /// The keys, for a [`crate::Verifier`].
    pub fn into_trust_store(self) -> TrustStore {
        self.trust
    }

    /// Reads a pinned root key: one JWK object `{"kty":"OKP","crv":"Ed25519","x":…,"kid":…}`
    /// (`use` = `"sig"` and `alg` = `"Ed25519"` / `"EdDSA"` allowed; nothing else: no `iss`,
    /// no `d`), at most [`MAX_ROOT_JWK_LEN`] bytes, its `kid` the RFC 7638 thumbprint.
    /// Error: `invalid_key`.
    pub fn root_key_from_jwk(jwk: &[u8]) -> Result<PublicKey> {
        let bad = |why: String| Error::new(ErrorCode::InvalidKey, format!("root key: {why}"));
        if jwk.len() > MAX_ROOT_JWK_LEN {
            return Err(bad(format!("more than {MAX_ROOT_JWK_LEN} bytes")));
        }
        let doc = Json::parse(jwk).map_err(|e| bad(format!("not strict JSON: {e}")))?;
        parse_jwk(&doc, JwkRole::Root)
            .map(|parsed| parsed.key)
            .map_err(bad)
    }

    /// The JWK of a root key, as [`TrustBundle::root_key_from_jwk`] reads it.
    pub fn root_jwk(root: &PublicKey) -> String {
        serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "x": encode_segment(root.as_bytes()),
            "kid": root.kid(),
        })
        .to_string()
    }
}

fn invalid(detail: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorCode::InvalidBundle, detail)
}

/// Keeps the detail of a lower-level error, under `invalid_bundle`.
fn recode(e: Error) -> Error {
    invalid(e.detail().to_owned())
}

fn object(bytes: &[u8], what: &str) -> Result<Vec<(String, Json)>> {
    match Json::parse(bytes) {
        Ok(Json::Object(members)) => Ok(members),
        Ok(other) => Err(invalid(format!(
            "{what} is a JSON {}, not an object",
            other.type_name()
        ))),
        Err(e) => Err(invalid(format!("{what} is not strict JSON: {e}"))),
    }
}

fn only_members(members: &[(String, Json)], allowed: &[&str], what: &str) -> Result<()> {
    match members.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        Some((name, _)) => Err(invalid(format!(
            "unexpected {what} member {:?}",
            truncate(name)
        ))),
        None => Ok(()),
    }
}

fn find<'a>(members: &'a [(String, Json)], name: &str) -> Option<&'a Json> {
    members.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn string<'a>(members: &'a [(String, Json)], name: &str, what: &str) -> Result<&'a str> {
    match find(members, name) {
        Some(Json::String(s)) => Ok(s),
        Some(other) => Err(invalid(format!(
            "{what} {name} is a {}, not a string",
            other.type_name()
        ))),
        None => Err(invalid(format!("{what} has no {name}"))),
    }
}

fn time(members: &[(String, Json)], name: &str) -> Result<u64> {
    match find(members, name) {
        Some(Json::Number(n)) => time_from_number(n).ok_or_else(|| {
            invalid(format!(
                "payload {name} must be an integer from 0 to 2^53 - 1"
            ))
        }),
        Some(other) => Err(invalid(format!(
            "payload {name} is a {}, not an integer",
            other.type_name()
        ))),
        None => Err(invalid(format!("payload member {name} is missing"))),
    }
}

/// The header: exactly `alg`, `typ` and `kid`, naming the pinned root.
fn check_header(bytes: &[u8], root: &PublicKey) -> Result<()> {
    let members = object(bytes, "header")?;
    only_members(&members, &["alg", "typ", "kid"], "header")?;
    let alg = string(&members, "alg", "header")?;
    if !matches!(alg, "Ed25519" | "EdDSA") {
        return Err(invalid(format!(
            "alg {:?} is not Ed25519 or EdDSA",
            truncate(alg)
        )));
    }
    let typ = string(&members, "typ", "header")?;
    if typ != BUNDLE_TYPE {
        return Err(invalid(format!(
            "typ {:?} is not {BUNDLE_TYPE}",
            truncate(typ)
        )));
    }
    if string(&members, "kid", "header")? != root.kid() {
        return Err(invalid("kid is not the pinned root key's kid"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(sequence: u64, issued_at: u64, expires_at: u64) -> BundleTerms {
        BundleTerms {
            sequence,
            issued_at,
            expires_at,
            default_key_window: None,
        }
    }

    fn load(bundle: &[u8], now: u64, min_sequence: u64) -> Result<TrustBundle> {
        let root = key(9);
        let how = BundleLoad {
            root: root.public_key(),
            min_sequence,
            now,
        };
        TrustBundle::load(bundle, &how)
    }

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_seed(&[seed; 32])
    }

    fn signed(sequence: u64) -> String {
        let mut trust = TrustStore::new();
        let window = KeyWindow::new(100, 200).unwrap();
        trust
            .add_with_window(key(1).public_key().clone(), "iss-a", window)
            .unwrap();
        TrustBundle::new(&trust, &terms(sequence, 1000, 2000))
            .unwrap()
            .sign(&key(9))
            .unwrap()
    }

    #[test]
    fn round_trips_with_windows() {
        let loaded = load(signed(3).as_bytes(), 1999, 3).unwrap();
        assert_eq!(
            (loaded.sequence(), loaded.issued_at(), loaded.expires_at()),
            (3, 1000, 2000)
        );
        let k = loaded.trust_store().get(key(1).kid()).unwrap();
        assert_eq!(
            (k.issuer(), k.window().map(|w| (w.nbf(), w.exp()))),
            ("iss-a", Some((100, 200)))
        );
    }

    #[test]
    fn refuses_oversized_bundles_before_anything_else() {
        let huge = vec![b'.'; MAX_BUNDLE_LEN + 1];
        let e = load(&huge, 0, 0).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidBundle);
        assert!(e.detail().contains("more than"), "{e}");
    }

    #[test]
    fn new_checks_its_arguments() {
        let mut plain = TrustStore::new();
        plain.add(key(1).public_key().clone(), "iss").unwrap();
        for (trust, seq, iat, exp) in [
            (TrustStore::new(), 0, 1, 2),
            (TrustStore::new(), MAX_TIME + 1, 1, 2),
            (TrustStore::new(), 1, 2, 2),
            (TrustStore::new(), 1, 1, MAX_TIME + 1),
            (plain, 1, 1, 2),
        ] {
            let e = TrustBundle::new(&trust, &terms(seq, iat, exp)).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidArgument, "{e}");
        }
    }

    #[test]
    fn keys_without_a_window_take_the_default_and_keep_their_own() {
        let mut trust = TrustStore::new();
        trust.add(key(1).public_key().clone(), "iss-a").unwrap();
        let own = KeyWindow::new(5, 6).unwrap();
        trust
            .add_with_window(key(2).public_key().clone(), "iss-b", own)
            .unwrap();
        let default = KeyWindow::new(100, 200).unwrap();
        let bundle = TrustBundle::new(
            &trust,
            &BundleTerms {
                default_key_window: Some(default),
                ..terms(1, 1, 2)
            },
        )
        .unwrap();
        let window = |seed: u8| bundle.trust_store().get(key(seed).kid()).unwrap().window();
        assert_eq!((window(1), window(2)), (Some(default), Some(own)));
        let e = TrustBundle::new(&trust, &terms(1, 1, 2)).unwrap_err();
        assert!(e.detail().contains(key(1).kid()), "{e}");
    }

    #[test]
    fn root_jwk_round_trips_and_refuses_extras() {
        let root = key(9);
        let text = TrustBundle::root_jwk(root.public_key());
        assert_eq!(
            TrustBundle::root_key_from_jwk(text.as_bytes()).unwrap(),
            *root.public_key()
        );
        let with_iss = root.public_key().to_jwk("someone").to_string();
        let e = TrustBundle::root_key_from_jwk(with_iss.as_bytes()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidKey);
        assert!(e.detail().contains("unexpected member"), "{e}");
    }
}
