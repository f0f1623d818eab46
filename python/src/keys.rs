//! `kycvs.SigningKey` and `kycvs.TrustStore`.

use crate::convert::{self, repr_str};
use crate::errors::{Result, guard};
use kycvs_core::ErrorCode;
use pyo3::prelude::*;
use pyo3::types::PyString;
use std::sync::{Mutex, MutexGuard};

/// An Ed25519 signing key. Its secret never appears in `repr` and is zeroized when dropped.
#[pyclass(frozen, module = "kycvs")]
pub(crate) struct SigningKey {
    pub(crate) inner: kycvs_core::SigningKey,
}

#[pymethods]
impl SigningKey {
    /// The public key's 32-byte encoding (RFC 8032), as `TrustStore.add` takes a bare key.
    #[getter]
    fn public_key<'py>(&self, py: Python<'py>) -> Bound<'py, pyo3::types::PyBytes> {
        pyo3::types::PyBytes::new(py, self.inner.public_key().as_bytes())
    }

    /// Generates a key from the operating system's random source.
    #[staticmethod]
    fn generate() -> Result<SigningKey> {
        let inner = guard(kycvs_core::SigningKey::generate)?;
        Ok(SigningKey { inner })
    }

    /// Loads a PKCS#8 PEM Ed25519 private key (`str` or `bytes`).
    #[staticmethod]
    fn from_pem(pem: &Bound<'_, PyAny>) -> Result<SigningKey> {
        let pem = convert::text(pem, "pem", ErrorCode::InvalidKey)?;
        let inner = guard(|| kycvs_core::SigningKey::from_pkcs8_pem(&pem))?;
        Ok(SigningKey { inner })
    }

    /// The key as PKCS#8 PEM. This is the secret: store it like a password.
    fn to_pem<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyString>> {
        let pem = guard(|| self.inner.to_pkcs8_pem())?;
        Ok(PyString::new(py, &pem))
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    #[getter]
    fn kid(&self) -> &str {
        self.inner.kid()
    }

    /// The public JWK of this key bound to `issuer`, as a trust store (JWKS) holds it.
    #[pyo3(signature = (*, issuer))]
    fn public_jwk<'py>(&self, py: Python<'py>, issuer: &str) -> PyResult<Bound<'py, PyAny>> {
        convert::json_to_py(py, &self.inner.public_key().to_jwk(issuer))
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!("SigningKey(kid={})", repr_str(py, self.inner.kid()))
    }
}

/// Trusted public keys, each bound to one issuer: a JWKS document.
///
/// A `Verifier` takes a snapshot; keys added later do not change an existing verifier.
#[pyclass(frozen, module = "kycvs")]
pub(crate) struct TrustStore {
    // Frozen classes are shared between threads; `add` is the only mutation.
    inner: Mutex<kycvs_core::TrustStore>,
}

impl TrustStore {
    /// Wraps a store the core made (from a trust bundle).
    pub(crate) fn from_core(store: kycvs_core::TrustStore) -> TrustStore {
        TrustStore {
            inner: Mutex::new(store),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, kycvs_core::TrustStore> {
        // A panic is caught by `guard` before it could leave the store half-written.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[pymethods]
impl TrustStore {
    /// An empty trust store.
    #[new]
    fn new() -> TrustStore {
        TrustStore {
            inner: Mutex::new(kycvs_core::TrustStore::new()),
        }
    }

    /// Loads a JWKS document (`str` or `bytes`).
    #[staticmethod]
    fn from_jwks(py: Python<'_>, jwks: &Bound<'_, PyAny>) -> Result<TrustStore> {
        let jwks = convert::bytes(jwks, "jwks", ErrorCode::InvalidTrustStore)?;
        let store = py.detach(|| guard(|| kycvs_core::TrustStore::from_jwks(&jwks)))?;
        Ok(TrustStore {
            inner: Mutex::new(store),
        })
    }

    /// Trusts `key` for tokens of `issuer`: a `SigningKey` (its public half) or a bare
    /// Ed25519 public key (32 `bytes`). With `nbf` and `exp` (both or neither), only for
    /// tokens whose `iat` satisfies `nbf <= iat < exp` (the key's validity window).
    #[pyo3(signature = (key, *, issuer, nbf = None, exp = None))]
    fn add(
        &self,
        key: &Bound<'_, PyAny>,
        issuer: &str,
        nbf: Option<&Bound<'_, PyAny>>,
        exp: Option<&Bound<'_, PyAny>>,
    ) -> Result<()> {
        let public = public_key(key)?;
        let (nbf, exp) = (convert::opt_u64(nbf, "nbf")?, convert::opt_u64(exp, "exp")?);
        guard(|| {
            let window = kycvs_core::KeyWindow::from_bounds(nbf, exp)?;
            self.lock().add_with_optional_window(public, issuer, window)
        })?;
        Ok(())
    }

    /// The trust store as a JWKS document.
    fn to_jwks(&self) -> String {
        self.lock().to_jwks()
    }

    fn __len__(&self) -> usize {
        self.lock().len()
    }

    fn __repr__(&self) -> String {
        format!("TrustStore(keys={})", self.lock().len())
    }
}

/// The public key of a `SigningKey`, or a bare one given as 32 bytes.
fn public_key(key: &Bound<'_, PyAny>) -> Result<kycvs_core::PublicKey> {
    if let Ok(signing) = key.cast::<SigningKey>() {
        return Ok(signing.get().inner.public_key().clone());
    }
    let bytes = convert::bytes(key, "key", ErrorCode::InvalidKey)?;
    Ok(kycvs_core::PublicKey::from_slice(&bytes)?)
}
