//! Ed25519 keys: generation, PKCS#8 PEM, validated public keys, JWK thumbprints.

use crate::error::{Error, ErrorCode, Result, err};
use crate::jose::token::encode_segment;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use sha2::{Digest, Sha256, Sha512};
use std::fmt;
use zeroize::{Zeroize, Zeroizing};

/// Fills `buf` from the operating system's random source.
pub(crate) fn os_random(buf: &mut [u8]) -> Result<()> {
    #[cfg(feature = "test-hooks")]
    if test_hooks::draw_fails() {
        return Err(err!(RandomSource, "OS random source failed: test hook"));
    }
    getrandom::fill(buf).map_err(|e| err!(RandomSource, "OS random source failed: {e}"))
}

/// Test-only control of the OS random source (`os_random`), compiled only with the
/// `test-hooks` cargo feature, which no shipped crate enables (kycvs-core turns it on for its
/// own tests through a dev-dependency on itself). It can only make a draw fail, never change
/// the bytes a draw returns, and it acts on the calling thread alone, so tests running side
/// by side do not see each other's failures.
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub mod test_hooks {
    use std::cell::Cell;

    thread_local! {
        /// `Some(n)`: `n` more draws succeed, then every draw fails. `None`: draws succeed.
        static SUCCESSES_LEFT: Cell<Option<u32>> = const { Cell::new(None) };
    }

    pub(crate) fn draw_fails() -> bool {
        SUCCESSES_LEFT.with(|left| match left.get() {
            None => false,
            Some(0) => true,
            Some(n) => {
                left.set(Some(n - 1));
                false
            }
        })
    }

    /// While the returned guard lives, the calling thread's draws from the OS random source
    /// fail (`random_source`) after `successes` more successful ones.
    ///
    /// It reaches every draw kycvs-core makes **on this thread**, and nothing else:
    /// [`SigningKey::generate`](crate::SigningKey::generate),
    /// [`PseudonymKey::generate`](crate::PseudonymKey::generate), the `jti` of
    /// [`Issuer::issue`](crate::Issuer::issue), the OTP and consent id of
    /// [`ConsentStarter::begin`](crate::ConsentStarter::begin) (and so of
    /// [`IssuanceService::begin`](crate::IssuanceService::begin)), the OTP key an
    /// [`IssuanceBuilder`](crate::IssuanceBuilder) draws when none was given, the temporary
    /// file name of a [`FileConsentStore`](crate::FileConsentStore) write
    /// (`consent_store_unavailable`), and the coefficients of
    /// [`Verifier::verify_batch`](crate::Verifier::verify_batch) (which then falls back to
    /// single verification) when the batch runs on this thread: fewer than 128 items, a
    /// one-thread rayon pool, or the `parallel` feature off. It does not reach the chunks of
    /// a parallel batch (they draw on rayon's pool threads; make the guard inside
    /// `ThreadPool::install` on a one-thread pool to cover them), other threads, the `kycvs`
    /// CLI's own draws (its consent keys and temporary files call `getrandom` directly), or
    /// the C library and the Python module, which are built without the `test-hooks` feature:
    /// it is a switch for Rust tests only.
    #[must_use = "the random source works again when the guard is dropped"]
    pub fn fail_os_random_after(successes: u32) -> FailingRandom {
        SUCCESSES_LEFT.with(|left| left.set(Some(successes)));
        FailingRandom {
            _not_send: std::marker::PhantomData,
        }
    }

    /// Restores the calling thread's random source when dropped.
    pub struct FailingRandom {
        // The switch is per thread: the guard must be dropped on the thread that made it.
        _not_send: std::marker::PhantomData<*const ()>,
    }

    impl Drop for FailingRandom {
        fn drop(&mut self) {
            SUCCESSES_LEFT.with(|left| left.set(None));
        }
    }
}

/// An Ed25519 signing key. Its secret is zeroized on drop and never printed: `Debug` shows
/// only the key id.
pub struct SigningKey {
    inner: ed25519_dalek::SigningKey,
    /// `SHA-512(seed)` split into the clamped secret scalar and the nonce prefix, derived once
    /// here rather than on every signature (ed25519-dalek's `sign` re-hashes the seed each
    /// time); zeroized on drop like the seed.
    expanded: ExpandedSecretKey,
    public: PublicKey,
}

impl Clone for SigningKey {
    fn clone(&self) -> SigningKey {
        SigningKey::from_dalek(self.inner.clone())
    }
}

impl SigningKey {
    /// Generates a key from the operating system's random source.
    pub fn generate() -> Result<SigningKey> {
        let mut seed = Zeroizing::new([0u8; 32]);
        os_random(seed.as_mut())?;
        Ok(SigningKey::from_seed(&seed))
    }

    /// Makes the key whose RFC 8032 secret is `seed`. For test vectors and key import; use
    /// [`SigningKey::generate`] for new keys.
    pub fn from_seed(seed: &[u8; 32]) -> SigningKey {
        SigningKey::from_dalek(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    fn from_dalek(inner: ed25519_dalek::SigningKey) -> SigningKey {
        let public = PublicKey::from_point(inner.verifying_key().to_edwards());
        let expanded = ExpandedSecretKey::from(inner.as_bytes());
        SigningKey {
            inner,
            expanded,
            public,
        }
    }

    /// Loads a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`), as written by
    /// `openssl genpkey -algorithm ed25519` or by [`SigningKey::to_pkcs8_pem`].
    pub fn from_pkcs8_pem(pem: &str) -> Result<SigningKey> {
        let inner = ed25519_dalek::SigningKey::from_pkcs8_pem(pem.trim()).map_err(|_| {
            Error::new(
                ErrorCode::InvalidKey,
                "not a PKCS#8 PEM Ed25519 private key",
            )
        })?;
        Ok(SigningKey::from_dalek(inner))
    }

    /// Writes the key as PKCS#8 v1 PEM (RFC 8410: the seed only, no public key, as
    /// `openssl genpkey -algorithm ed25519` writes it) with LF line endings; the string is
    /// zeroized on drop.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>> {
        // ed25519-dalek's own encoder writes PKCS#8 v2 (with the public key), which some
        // readers (older OpenSSL, pyca/cryptography) refuse. KeypairBytes zeroizes on drop.
        let pair = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.inner.to_bytes(),
            public_key: None,
        };
        pair.to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| Error::new(ErrorCode::InvalidKey, "PKCS#8 encoding failed"))
    }

    /// The public half.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        self.public.kid()
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        // The RFC 8032 signature, the same bytes as `ed25519_dalek::Signer::sign` (a test below
        // checks it): `expanded` is exactly what that function would derive from the seed.
        raw_sign::<Sha512>(&self.expanded, message, &self.inner.verifying_key()).to_bytes()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

/// A validated Ed25519 public key with its key id.
///
/// Validation, done once when the key is made: the encoding is canonical (the 32 bytes are
/// what compressing the decoded point gives back), the point is not of small order, and it
/// lies in the prime-order subgroup.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    point: EdwardsPoint,
    bytes: [u8; 32],
    kid: String,
}

impl PublicKey {
    /// Validates 32 encoded bytes. Error: `invalid_key`, saying which rule failed.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey> {
        let point = CompressedEdwardsY(*bytes)
            .decompress()
            .ok_or_else(|| Error::new(ErrorCode::InvalidKey, "not a point on Ed25519"))?;
        if point.compress().as_bytes() != bytes {
            return Err(Error::new(
                ErrorCode::InvalidKey,
                "non-canonical point encoding",
            ));
        }
        if point.is_small_order() {
            return Err(Error::new(ErrorCode::InvalidKey, "point of small order"));
        }
        if !point.is_torsion_free() {
            return Err(Error::new(
                ErrorCode::InvalidKey,
                "point outside the prime-order subgroup",
            ));
        }
        Ok(PublicKey::from_point(point))
    }

    /// Validates an encoding given as a slice, as it arrives from C or Python: exactly 32
    /// bytes, then as [`PublicKey::from_bytes`]. Error: `invalid_key`.
    pub fn from_slice(bytes: &[u8]) -> Result<PublicKey> {
        let bytes: &[u8; 32] = bytes.try_into().map_err(|_| {
            Error::new(
                ErrorCode::InvalidKey,
                format!("an Ed25519 public key is 32 bytes, not {}", bytes.len()),
            )
        })?;
        PublicKey::from_bytes(bytes)
    }

    /// Wraps a point known to be valid (a signing key's `[a]B`).
    fn from_point(point: EdwardsPoint) -> PublicKey {
        let bytes = point.compress().to_bytes();
        let kid = jwk_thumbprint(&encode_segment(&bytes));
        PublicKey { point, bytes, kid }
    }

    /// The 32-byte encoding.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The key id: the RFC 7638 JWK thumbprint (base64url SHA-256).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWK of this key bound to `issuer`, as a trust store holds it:
    /// `{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"iss":…}`.
    pub fn to_jwk(&self, issuer: &str) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "x": encode_segment(self.as_bytes()),
            "kid": self.kid, "iss": issuer,
        })
    }

    /// The decoded point, decompressed once when the key was made.
    pub(crate) fn point(&self) -> &EdwardsPoint {
        &self.point
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey").field("kid", &self.kid).finish()
    }
}

/// The RFC 7638 thumbprint of an Ed25519 JWK whose `x` is `x_b64`: base64url(SHA-256 of
/// `{"crv":"Ed25519","kty":"OKP","x":"<x>"}`).
pub fn jwk_thumbprint(x_b64: &str) -> String {
    let mut canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x_b64}"}}"#);
    let digest = Sha256::digest(canonical.as_bytes());
    canonical.zeroize();
    encode_segment(&digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8037 appendix A.1/A.3: the example key and its thumbprint.
    const RFC8037_D: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const RFC8037_KID: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    fn rfc_key() -> SigningKey {
        let seed: [u8; 32] = hex::decode(RFC8037_D).unwrap().try_into().unwrap();
        SigningKey::from_seed(&seed)
    }

    #[test]
    fn signs_exactly_as_rfc8032_and_dalek() {
        // RFC 8032 section 7.1, TEST 1: this seed, the empty message.
        let expected = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155\
                        5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
        assert_eq!(hex::encode(rfc_key().sign(b"")), expected);
        // Any key, any message: the bytes of ed25519-dalek's own `sign`, also after a clone.
        use ed25519_dalek::Signer;
        let key = SigningKey::generate().unwrap();
        let copy = key.clone();
        for message in [&b""[..], b"a", &[0x5a; 1000]] {
            let theirs = key.inner.sign(message).to_bytes();
            assert_eq!(key.sign(message), theirs);
            assert_eq!(copy.sign(message), theirs);
        }
    }

    #[test]
    fn thumbprint_matches_rfc8037() {
        assert_eq!(rfc_key().kid(), RFC8037_KID);
    }

    #[test]
    fn pem_round_trip() {
        let key = SigningKey::generate().unwrap();
        let pem = key.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = SigningKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(back.public_key(), key.public_key());
    }

    #[test]
    fn writes_exactly_what_openssl_genpkey_writes() {
        // The same RFC 8037 seed as below, byte for byte the v1 document OpenSSL writes.
        let pem = rfc_key().to_pkcs8_pem().unwrap();
        assert_eq!(
            pem.as_str(),
            "-----BEGIN PRIVATE KEY-----\n\
             MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n\
             -----END PRIVATE KEY-----\n"
        );
    }

    #[test]
    fn loads_openssl_genpkey_output() {
        // `openssl genpkey -algorithm ed25519` writes a v1 PKCS#8 document without the
        // public key; this one holds the RFC 8037 seed.
        let pem = "-----BEGIN PRIVATE KEY-----\n\
                   MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n\
                   -----END PRIVATE KEY-----\n";
        assert_eq!(SigningKey::from_pkcs8_pem(pem).unwrap().kid(), RFC8037_KID);
    }

    #[test]
    fn rejects_bad_pem() {
        for bad in [
            "",
            "hello",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        ] {
            assert_eq!(
                SigningKey::from_pkcs8_pem(bad).unwrap_err().code(),
                ErrorCode::InvalidKey
            );
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = rfc_key();
        let shown = format!("{key:?}");
        assert!(shown.contains(RFC8037_KID));
        assert!(!shown.to_lowercase().contains(&RFC8037_D[..16]));
    }

    #[test]
    fn rejects_small_order_and_non_canonical_keys() {
        // The identity point (small order).
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(PublicKey::from_bytes(&identity).is_err());
        // y = p + 1, a non-canonical encoding of the identity's y.
        let mut non_canonical = [0xffu8; 32];
        non_canonical[0] = 0xee;
        non_canonical[31] = 0x7f;
        assert!(PublicKey::from_bytes(&non_canonical).is_err());
        // A valid key passes and keeps its bytes.
        let good = *rfc_key().public_key().as_bytes();
        assert_eq!(PublicKey::from_bytes(&good).unwrap().as_bytes(), &good);
    }

    #[test]
    fn rejects_mixed_order_key() {
        // A valid key plus a point of order 8 is on the curve, not of small order, but
        // outside the prime-order subgroup.
        use curve25519_dalek::constants::EIGHT_TORSION;
        let point = rfc_key().public_key().point() + EIGHT_TORSION[1];
        let err = PublicKey::from_bytes(&point.compress().to_bytes()).unwrap_err();
        assert!(err.detail().contains("subgroup"), "{err}");
    }
}
