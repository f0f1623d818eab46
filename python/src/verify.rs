//! `kycvs.Verifier`, `kycvs.VerifiedStatus` and `kycvs.inspect_unverified`.

use crate::convert::{self, repr_str};
use crate::errors::{Result, guard};
use crate::keys::TrustStore;
use kycvs_core::{DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME, ErrorCode, Policy};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyType};
use std::hash::{DefaultHasher, Hash, Hasher};

// The text signature below spells the defaults out; keep it in step with the core.
const _: () = assert!(DEFAULT_LEEWAY == 60 && DEFAULT_MAX_LIFETIME == 3600);

/// `kycvs.VaccinationStatus`, the Python `IntEnum`, imported on first use.
static VACCINATION_STATUS: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Checks tokens against a trust store and a policy. Immutable; share one across threads.
#[pyclass(frozen, module = "kycvs")]
pub(crate) struct Verifier {
    inner: kycvs_core::Verifier,
}

#[pymethods]
impl Verifier {
    /// A verifier for `audience` that trusts the keys in `trust` (copied now). `issuers`
    /// restricts the accepted issuers (default: every issuer in `trust`); `leeway` is the
    /// clock-skew allowance and `max_lifetime` the longest `exp - iat` accepted, in seconds.
    /// With a `replay_guard`, each token is accepted only the first time it is presented.
    #[new]
    #[pyo3(
        signature = (trust, *, audience, issuers = None, leeway = None, max_lifetime = None,
                     replay_guard = None),
        text_signature = "(trust, *, audience, issuers=None, leeway=60, max_lifetime=3600, \
                          replay_guard=None)"
    )]
    fn new(
        trust: &TrustStore,
        audience: &str,
        issuers: Option<Vec<String>>,
        leeway: Option<&Bound<'_, PyAny>>,
        max_lifetime: Option<&Bound<'_, PyAny>>,
        replay_guard: Option<&crate::consent::ReplayGuard>,
    ) -> Result<Verifier> {
        let mut policy = Policy::new(audience)
            .with_leeway(convert::u64_or(leeway, "leeway", DEFAULT_LEEWAY)?)
            .with_max_lifetime(convert::u64_or(
                max_lifetime,
                "max_lifetime",
                DEFAULT_MAX_LIFETIME,
            )?);
        if let Some(issuers) = issuers {
            policy = policy.with_issuers(issuers);
        }
        let store = trust.lock().clone();
        let mut inner = guard(|| kycvs_core::Verifier::new(store, policy))?;
        if let Some(replay) = replay_guard {
            inner = inner.with_replay_guard(replay.inner.clone());
        }
        Ok(Verifier { inner })
    }

    /// Verifies `token` (`str` or UTF-8 `bytes`) at `now` (seconds since the epoch; `None` =
    /// the system clock). When `nonce` is given the token must carry it. Raises a
    /// `VerificationError` subclass naming the first check that failed.
    #[pyo3(signature = (token, *, nonce = None, now = None))]
    fn verify(
        &self,
        py: Python<'_>,
        token: &Bound<'_, PyAny>,
        nonce: Option<&str>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> Result<VerifiedStatus> {
        let token = convert::bytes(token, "token", ErrorCode::Malformed)?;
        let now = convert::opt_u64(now, "now")?;
        let inner = py.detach(|| {
            guard(|| {
                let now = now.unwrap_or_else(kycvs_core::unix_now);
                self.inner.verify_bytes(&token, nonce, now)
            })
        })?;
        Ok(VerifiedStatus { inner })
    }

    /// Verifies many tokens at `now` in one call, with the GIL released: one batch
    /// equation for all the signatures, split across the cores for large batches. `nonce` is
    /// `None` (any nonce), one `str` for every token, or a sequence of `str | None`, one per
    /// token. Returns a list in input order holding, per token, its `VerifiedStatus` or the
    /// `VerificationError` that `verify` would raise for it (returned, not raised).
    #[pyo3(signature = (tokens, *, nonce = None, now = None))]
    fn verify_batch<'py>(
        &self,
        py: Python<'py>,
        tokens: &Bound<'py, PyAny>,
        nonce: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> Result<Bound<'py, PyList>> {
        // A token that is not text is a verdict of its own (`malformed`), like in `verify`.
        let mut converted: Vec<Result<Vec<u8>, kycvs_core::Error>> = Vec::new();
        for token in tokens.try_iter()? {
            converted.push(
                match convert::bytes(&token?, "token", ErrorCode::Malformed) {
                    Ok(bytes) => Ok(bytes),
                    Err(crate::errors::Error::Core(e)) => Err(e),
                    Err(other) => return Err(other),
                },
            );
        }
        let nonces = batch_nonces(nonce, converted.len())?;
        let now = convert::opt_u64(now, "now")?;
        let verdicts = py.detach(|| {
            guard(|| {
                let now = now.unwrap_or_else(kycvs_core::unix_now);
                let items: Vec<kycvs_core::BatchItem<'_>> = converted
                    .iter()
                    .enumerate()
                    .filter_map(|(i, token)| {
                        let token = token.as_ref().ok()?;
                        Some(kycvs_core::BatchItem::new(token, nonces.get(i)))
                    })
                    .collect();
                Ok(self.inner.verify_batch(&items, now))
            })
        })?;
        let mut verdicts = verdicts.into_iter();
        let out = PyList::empty(py);
        for token in converted {
            let verdict = match token {
                Err(e) => Err(e),
                Ok(_) => verdicts.next().ok_or_else(|| {
                    kycvs_core::Error::new(ErrorCode::Panic, "fewer verdicts than tokens")
                })?,
            };
            match verdict {
                Ok(inner) => out.append(Bound::new(py, VerifiedStatus { inner })?)?,
                Err(e) => out.append(PyErr::from(crate::errors::Error::Core(e)).into_value(py))?,
            }
        }
        Ok(out)
    }

    /// The audience this verifier accepts.
    #[getter]
    fn audience(&self) -> &str {
        self.inner.policy().audience()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let policy = self.inner.policy();
        format!(
            "Verifier(audience={}, keys={}, leeway={}, max_lifetime={})",
            repr_str(py, policy.audience()),
            self.inner.trust_store().len(),
            policy.leeway(),
            policy.max_lifetime()
        )
    }
}

/// The per-token nonces of `verify_batch`: `None`, one `str` for all, or one `str | None`
/// per token (a sequence of another length is an `InvalidArgumentError`).
fn batch_nonces(nonce: Option<&Bound<'_, PyAny>>, n: usize) -> Result<BatchNonces> {
    let Some(nonce) = nonce.filter(|n| !n.is_none()) else {
        return Ok(BatchNonces::Any);
    };
    if let Ok(one) = nonce.cast::<PyString>() {
        return Ok(BatchNonces::Same(one.extract::<String>()?));
    }
    let mut nonces = Vec::with_capacity(n);
    for item in nonce.try_iter()? {
        let item = item?;
        nonces.push(if item.is_none() {
            None
        } else {
            Some(item.extract::<String>()?)
        });
    }
    if nonces.len() != n {
        return Err(crate::errors::invalid_argument(format!(
            "nonce has {} items for {n} tokens",
            nonces.len()
        )));
    }
    Ok(BatchNonces::Each(nonces))
}

/// The `nonce` argument of `verify_batch`: none, one for every token (held once), or one per
/// token.
enum BatchNonces {
    Any,
    Same(String),
    Each(Vec<Option<String>>),
}

impl BatchNonces {
    /// The nonce expected for token `i`.
    fn get(&self, i: usize) -> Option<&str> {
        match self {
            BatchNonces::Any => None,
            BatchNonces::Same(nonce) => Some(nonce),
            BatchNonces::Each(nonces) => nonces.get(i).and_then(|n| n.as_deref()),
        }
    }
}

/// A token that passed every check: its status and the verified claims.
#[pyclass(frozen, eq, module = "kycvs")]
#[derive(PartialEq)]
pub(crate) struct VerifiedStatus {
    inner: kycvs_core::VerifiedStatus,
}

#[pymethods]
impl VerifiedStatus {
    /// The vaccination status (`vs`), a `kycvs.VaccinationStatus`.
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        VACCINATION_STATUS
            .import(py, "kycvs", "VaccinationStatus")?
            .call1((self.inner.status.as_u8(),))
    }

    /// The issuer (`iss`), bound to the signing key.
    #[getter]
    fn iss(&self) -> &str {
        &self.inner.iss
    }

    /// The pseudonymous subject (`sub`).
    #[getter]
    fn sub(&self) -> &str {
        &self.inner.sub
    }

    /// The audience (`aud`).
    #[getter]
    fn aud(&self) -> &str {
        &self.inner.aud
    }

    /// The token id (`jti`).
    #[getter]
    fn jti(&self) -> &str {
        &self.inner.jti
    }

    /// The verifier's nonce (`nonce`).
    #[getter]
    fn nonce(&self) -> &str {
        &self.inner.nonce
    }

    /// Issued at (`iat`), seconds since the epoch.
    #[getter]
    fn iat(&self) -> u64 {
        self.inner.iat
    }

    /// Expiry (`exp`), seconds since the epoch.
    #[getter]
    fn exp(&self) -> u64 {
        self.inner.exp
    }

    /// The id of the key that signed the token.
    #[getter]
    fn kid(&self) -> &str {
        &self.inner.kid
    }

    fn __hash__(&self) -> u64 {
        let v = &self.inner;
        let mut h = DefaultHasher::new();
        (
            v.status, &v.iss, &v.sub, &v.aud, &v.jti, &v.nonce, v.iat, v.exp, &v.kid,
        )
            .hash(&mut h);
        h.finish()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let v = &self.inner;
        Ok(format!(
            "VerifiedStatus(status={}, iss={}, sub={}, aud={}, jti={}, nonce={}, iat={}, exp={}, kid={})",
            self.status(py)?.repr()?,
            repr_str(py, &v.iss),
            repr_str(py, &v.sub),
            repr_str(py, &v.aud),
            repr_str(py, &v.jti),
            repr_str(py, &v.nonce),
            v.iat,
            v.exp,
            repr_str(py, &v.kid),
        ))
    }
}

/// Decodes a token for display **without verifying anything**: `header`, `claims`,
/// `signature_len` and `verified` (always `False`). Never base a decision on it.
#[pyfunction]
pub(crate) fn inspect_unverified<'py>(
    py: Python<'py>,
    token: &Bound<'py, PyAny>,
) -> Result<Bound<'py, PyDict>> {
    let token = convert::text(token, "token", ErrorCode::Malformed)?;
    let inspection = guard(|| kycvs_core::inspect_unverified(&token))?;
    let out = PyDict::new(py);
    out.set_item("header", convert::json_to_py(py, &inspection.header)?)?;
    out.set_item("claims", convert::json_to_py(py, &inspection.claims)?)?;
    out.set_item("signature_len", inspection.signature_len)?;
    out.set_item("verified", false)?;
    Ok(out)
}
