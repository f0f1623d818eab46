//! `kycvs.Verifier`, `kycvs.VerifiedStatus` and `kycvs.inspect_unverified`.

use crate::convert::{self, repr_str};
use crate::errors::{Result, guard};
use crate::keys::TrustStore;
use kycvs_core::{BatchItem, DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME, ErrorCode, Policy};
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
    /// `check_nonce=False` is for a verifier with no transaction to bind a token to: only
    /// then may `verify` and `verify_batch` be given `None` for the nonce. With a
    /// `replay_guard` (a `ReplayGuard`, or any object with the `check_and_record_all` method of
    /// `kycvs.ReplayStore`, such as one shared by many processes), each token is accepted
    /// only the first time it is presented.
    #[new]
    #[pyo3(
        signature = (trust, *, audience, issuers = None, leeway = None, max_lifetime = None,
                     check_nonce = true, replay_guard = None),
        text_signature = "(trust, *, audience, issuers=None, leeway=60, max_lifetime=3600, \
                          check_nonce=True, replay_guard=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        trust: &TrustStore,
        audience: &str,
        issuers: Option<Vec<String>>,
        leeway: Option<&Bound<'_, PyAny>>,
        max_lifetime: Option<&Bound<'_, PyAny>>,
        check_nonce: bool,
        replay_guard: Option<&Bound<'_, PyAny>>,
    ) -> Result<Verifier> {
        let mut policy = Policy::new(audience);
        policy
            .set_leeway(convert::u64_or(leeway, "leeway", DEFAULT_LEEWAY)?)
            .set_max_lifetime(convert::u64_or(
                max_lifetime,
                "max_lifetime",
                DEFAULT_MAX_LIFETIME,
            )?);
        if let Some(issuers) = issuers {
            policy.set_issuers(issuers);
        }
        if !check_nonce {
            policy.disable_nonce_check();
        }
        let store = trust.lock().clone();
        let mut inner = guard(|| kycvs_core::Verifier::new(store, policy))?;
        if let Some(replay) = replay_guard {
            inner = match replay.cast::<crate::consent::ReplayGuard>() {
                Ok(own) => inner.with_replay_guard(own.get().inner.clone()),
                Err(_) => inner.with_replay_store(crate::replay::PyReplayStore::shared(replay)?),
            };
        }
        Ok(Verifier { inner })
    }

    /// Verifies `token` (`str` or UTF-8 `bytes`) at `now` (seconds since the epoch; `None` =
    /// the system clock). The token must carry `nonce`, the verifier's transaction; `None`
    /// skips that check and raises `InvalidArgumentError` unless the verifier was made with
    /// `check_nonce=False`. Raises a `VerificationError` subclass naming the first check that
    /// failed.
    #[pyo3(signature = (token, nonce, *, now = None))]
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
                match nonce {
                    Some(nonce) => self.inner.verify_bytes(&token, nonce, now),
                    None => self.inner.verify_without_nonce(&token, now),
                }
            })
        })?;
        Ok(VerifiedStatus { inner })
    }

    /// Verifies many tokens at `now` in one call, with the GIL released: one batch
    /// equation for all the signatures, split across the cores for large batches. `nonce` is
    /// one `str` for every token, or a sequence of `str | None`, one per token; `None` (for
    /// all, or for one token) is allowed only as in `verify`. Returns a list in input order
    /// holding, per token, its `VerifiedStatus` or the `VerificationError` that `verify`
    /// would raise for it (returned, not raised).
    #[pyo3(signature = (tokens, nonce, *, now = None))]
    fn verify_batch<'py>(
        &self,
        py: Python<'py>,
        tokens: &Bound<'py, PyAny>,
        nonce: &Bound<'py, PyAny>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> Result<Bound<'py, PyList>> {
        // A token that is not text is a verdict of its own (`malformed`), like in `verify`:
        // the core returns it in its place.
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
                let items: Vec<BatchItem<'_>> = converted
                    .iter()
                    .enumerate()
                    .map(|(i, token)| match (token, nonces.get(i)) {
                        (Err(e), _) => BatchItem::rejected(e.clone()),
                        (Ok(token), Some(nonce)) => BatchItem::new(token, nonce),
                        (Ok(token), None) => BatchItem::without_nonce(token),
                    })
                    .collect();
                Ok(self.inner.verify_batch(&items, now))
            })
        })?;
        let out = PyList::empty(py);
        for verdict in verdicts {
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
fn batch_nonces(nonce: &Bound<'_, PyAny>, n: usize) -> Result<BatchNonces> {
    if nonce.is_none() {
        return Ok(BatchNonces::Unchecked);
    }
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

/// The `nonce` argument of `verify_batch`: none (the check skipped, where the policy allows
/// it), one for every token (held once), or one per token.
enum BatchNonces {
    Unchecked,
    Same(String),
    Each(Vec<Option<String>>),
}

impl BatchNonces {
    /// The nonce expected for token `i`.
    fn get(&self, i: usize) -> Option<&str> {
        match self {
            BatchNonces::Unchecked => None,
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
            .call1((self.inner.status().as_u8(),))
    }

    /// The issuer (`iss`), bound to the signing key.
    #[getter]
    fn iss(&self) -> &str {
        self.inner.iss()
    }

    /// The pseudonymous subject (`sub`).
    #[getter]
    fn sub(&self) -> &str {
        self.inner.sub()
    }

    /// The audience (`aud`).
    #[getter]
    fn aud(&self) -> &str {
        self.inner.aud()
    }

    /// The token id (`jti`).
    #[getter]
    fn jti(&self) -> &str {
        self.inner.jti()
    }

    /// The token's nonce (`nonce`): the expected one, unless the nonce check was disabled.
    #[getter]
    fn nonce(&self) -> &str {
        self.inner.nonce()
    }

    /// Issued at (`iat`), seconds since the epoch.
    #[getter]
    fn iat(&self) -> u64 {
        self.inner.iat()
    }

    /// Expiry (`exp`), seconds since the epoch.
    #[getter]
    fn exp(&self) -> u64 {
        self.inner.exp()
    }

    /// The id of the key that signed the token.
    #[getter]
    fn kid(&self) -> &str {
        self.inner.kid()
    }

    fn __hash__(&self) -> u64 {
        let v = &self.inner;
        let mut h = DefaultHasher::new();
        (
            v.status(),
            v.iss(),
            v.sub(),
            v.aud(),
            v.jti(),
            v.nonce(),
            v.iat(),
            v.exp(),
            v.kid(),
        )
            .hash(&mut h);
        h.finish()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let v = &self.inner;
        Ok(format!(
            "VerifiedStatus(status={}, iss={}, sub={}, aud={}, jti={}, nonce={}, iat={}, exp={}, kid={})",
            self.status(py)?.repr()?,
            repr_str(py, v.iss()),
            repr_str(py, v.sub()),
            repr_str(py, v.aud()),
            repr_str(py, v.jti()),
            repr_str(py, v.nonce()),
            v.iat(),
            v.exp(),
            repr_str(py, v.kid()),
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
