//! `kycvs.TrustBundle`: signed trust bundles.

use crate::convert;
use crate::errors::{Result, guard};
use crate::keys::{SigningKey, TrustStore};
use kycvs_core::ErrorCode;
use pyo3::prelude::*;

/// A trust store signed by a pinned root key, with a sequence number and an expiry.
#[pyclass(frozen, module = "kycvs")]
pub(crate) struct TrustBundle {
    inner: kycvs_core::TrustBundle,
}

#[pymethods]
impl TrustBundle {
    /// Loads a signed bundle (`str` or `bytes`) trusting only `root`, the root key's JWK
    /// (`str` or `bytes`), at `now` (seconds since the epoch; `None` = the system clock),
    /// refusing a sequence number below `min_sequence` (required: the highest one accepted
    /// before). Raises `InvalidKeyError` (root), `InvalidBundleError`, `StaleBundleError` or
    /// `BundleRollbackError`.
    #[staticmethod]
    #[pyo3(signature = (bundle, *, root, min_sequence, now = None))]
    fn load(
        py: Python<'_>,
        bundle: &Bound<'_, PyAny>,
        root: &Bound<'_, PyAny>,
        min_sequence: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> Result<TrustBundle> {
        let bundle = convert::bytes(bundle, "bundle", ErrorCode::InvalidBundle)?;
        let root = convert::bytes(root, "root", ErrorCode::InvalidKey)?;
        let now = convert::opt_u64(now, "now")?;
        let min_sequence = convert::u64_arg(min_sequence, "min_sequence")?;
        let inner = py.detach(|| {
            guard(|| {
                let root = kycvs_core::TrustBundle::root_key_from_jwk(&root)?;
                let load = kycvs_core::BundleLoad {
                    root: &root,
                    min_sequence,
                    now: now.unwrap_or_else(kycvs_core::unix_now),
                };
                kycvs_core::TrustBundle::load(&bundle, &load)
            })
        })?;
        Ok(TrustBundle { inner })
    }

    /// Signs the keys of `trust` with `root` as bundle number `sequence`, issued at
    /// `issued_at` (`None` = the system clock), expiring at `expires_at`. Each key keeps its
    /// validity window (`TrustStore.add(..., nbf=, exp=)` or a JWKS whose keys carry `nbf` and
    /// `exp`); keys without one get `key_nbf`/`key_exp` (give both or neither).
    #[staticmethod]
    #[pyo3(signature = (root, trust, *, sequence, expires_at, issued_at = None, key_nbf = None,
                        key_exp = None))]
    #[allow(clippy::too_many_arguments)]
    fn sign(
        py: Python<'_>,
        root: &SigningKey,
        trust: &TrustStore,
        sequence: &Bound<'_, PyAny>,
        expires_at: &Bound<'_, PyAny>,
        issued_at: Option<&Bound<'_, PyAny>>,
        key_nbf: Option<&Bound<'_, PyAny>>,
        key_exp: Option<&Bound<'_, PyAny>>,
    ) -> Result<String> {
        let sequence = convert::u64_arg(sequence, "sequence")?;
        let expires_at = convert::u64_arg(expires_at, "expires_at")?;
        let issued_at = convert::opt_u64(issued_at, "issued_at")?;
        let key_nbf = convert::opt_u64(key_nbf, "key_nbf")?;
        let key_exp = convert::opt_u64(key_exp, "key_exp")?;
        let store = trust.lock().clone();
        let signed = py.detach(|| {
            guard(|| {
                let terms = kycvs_core::BundleTerms {
                    sequence,
                    issued_at: issued_at.unwrap_or_else(kycvs_core::unix_now),
                    expires_at,
                    default_key_window: kycvs_core::KeyWindow::from_bounds(key_nbf, key_exp)?,
                };
                kycvs_core::TrustBundle::new(&store, &terms)?.sign(&root.inner)
            })
        })?;
        Ok(signed)
    }

    /// The root key's public JWK, as `TrustBundle.load` pins it.
    #[staticmethod]
    fn root_jwk(root: &SigningKey) -> String {
        kycvs_core::TrustBundle::root_jwk(root.inner.public_key())
    }

    /// The sequence number (`seq`): pass it as `min_sequence` next time.
    #[getter]
    fn sequence(&self) -> u64 {
        self.inner.sequence()
    }

    /// When the bundle was issued (`iat`), seconds since the epoch.
    #[getter]
    fn issued_at(&self) -> u64 {
        self.inner.issued_at()
    }

    /// When the bundle expires (`exp`): load a fresh one before then.
    #[getter]
    fn expires_at(&self) -> u64 {
        self.inner.expires_at()
    }

    /// The bundle's keys as a new `TrustStore`, each key with its issuer and window.
    #[getter]
    fn trust_store(&self) -> TrustStore {
        TrustStore::from_core(self.inner.trust_store().clone())
    }

    fn __repr__(&self) -> String {
        format!(
            "TrustBundle(sequence={}, issued_at={}, expires_at={}, keys={})",
            self.inner.sequence(),
            self.inner.issued_at(),
            self.inner.expires_at(),
            self.inner.trust_store().len()
        )
    }
}
