//! `kycvs.Issuer`.

use crate::convert::{self, repr_str};
use crate::errors::{Result, guard};
use crate::keys::SigningKey;
use kycvs_core::{Algorithm, DEFAULT_TTL, TokenRequest, VaccinationStatus};
use pyo3::prelude::*;

// The text signatures below spell the defaults out; keep them in step with the core.
const _: () = assert!(DEFAULT_TTL == 300);

/// Signs status tokens with one key as one issuer id.
#[pyclass(frozen, module = "kycvs")]
pub(crate) struct Issuer {
    pub(crate) inner: kycvs_core::Issuer,
}

#[pymethods]
impl Issuer {
    /// An issuer signing as `issuer` with `key`, naming `algorithm` in its headers:
    /// `"Ed25519"` (RFC 9864), or `"EdDSA"` for JOSE libraries that predate it.
    #[new]
    #[pyo3(signature = (key, *, issuer, algorithm = "Ed25519"))]
    fn new(key: &SigningKey, issuer: &str, algorithm: &str) -> Result<Issuer> {
        let inner = guard(|| {
            let algorithm = Algorithm::from_alg(algorithm)?;
            Ok(kycvs_core::Issuer::new(key.inner.clone(), issuer)?.with_algorithm(algorithm))
        })?;
        Ok(Issuer { inner })
    }

    /// Issues a token for `audience` carrying `status`, valid for `ttl` seconds from `now`
    /// (seconds since the epoch; `None` = the system clock).
    #[pyo3(
        signature = (*, audience, nonce, status, subject, ttl = None, now = None),
        text_signature = "($self, *, audience, nonce, status, subject, ttl=300, now=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn issue(
        &self,
        py: Python<'_>,
        audience: &str,
        nonce: &str,
        status: &Bound<'_, PyAny>,
        subject: &str,
        ttl: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> Result<String> {
        let status = VaccinationStatus::try_from(convert::u64_arg(status, "status")?)?;
        let ttl = convert::u64_or(ttl, "ttl", DEFAULT_TTL)?;
        let now = convert::opt_u64(now, "now")?;
        let request = TokenRequest {
            audience,
            nonce,
            subject,
            status,
            ttl,
        };
        let token = py.detach(|| {
            guard(|| {
                let now = now.unwrap_or_else(kycvs_core::unix_now);
                self.inner.issue(&request, now)
            })
        })?;
        Ok(token)
    }

    /// The issuer id (the `iss` claim).
    #[getter]
    fn issuer(&self) -> &str {
        self.inner.issuer()
    }

    /// The id of the signing key.
    #[getter]
    fn kid(&self) -> &str {
        self.inner.signing_key().kid()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Issuer(issuer={}, kid={})",
            repr_str(py, self.inner.issuer()),
            repr_str(py, self.inner.signing_key().kid())
        )
    }
}
