//! The issuer side: `kycvs.Registry`, `kycvs.VaccineSchedule`, `kycvs.IssuanceService` and its
//! two sides `kycvs.ConsentStarter` / `kycvs.ConsentCompleter` (all built by the core's one
//! builder), `kycvs.ConsentChallenge` and `kycvs.ReplayGuard`.

use crate::convert::{self, repr_str};
use crate::errors::{Result, guard};
use crate::issue::Issuer;
use kycvs_core::{
    ConsentConfig, ConsentRequest, DEFAULT_LEEWAY, DEFAULT_MAX_ATTEMPTS, DEFAULT_OTP_TTL,
    DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW, DEFAULT_REPLAY_CAPACITY, DEFAULT_TTL, ErrorCode,
    IssuanceBuilder, JsonlRegistry, PseudonymKey, VaccinationStatus, dose_records_from_json,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyAny, PyType};
use std::path::PathBuf;
use std::sync::Arc;

// The text signatures below spell the defaults out; keep them in step with the core.
const _: () = assert!(
    DEFAULT_OTP_TTL == 180
        && DEFAULT_MAX_ATTEMPTS == 3
        && DEFAULT_RATE_LIMIT == 5
        && DEFAULT_RATE_WINDOW == 3600
        && DEFAULT_TTL == 300
        && DEFAULT_REPLAY_CAPACITY == 100_000
        && DEFAULT_LEEWAY == 60
);

/// `kycvs.VaccinationStatus`, the Python `IntEnum`, imported on first use.
static VACCINATION_STATUS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
/// `json.dumps`, imported on first use.
static JSON_DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn py_status(py: Python<'_>, status: VaccinationStatus) -> PyResult<Bound<'_, PyAny>> {
    VACCINATION_STATUS
        .import(py, "kycvs", "VaccinationStatus")?
        .call1((status.as_u8(),))
}

/// A registry of beneficiaries (JSON Lines), looked up by mobile number and name.
#[pyclass(frozen, module = "kycvs")]
pub(crate) struct Registry {
    inner: Arc<JsonlRegistry>,
}

#[pymethods]
impl Registry {
    /// Loads a registry from JSON Lines text (`str` or UTF-8 `bytes`): one
    /// `{"id", "mobile", "name", "doses"}` per line. Raises `InvalidRegistryError` naming the
    /// first bad line.
    #[staticmethod]
    fn from_jsonl(py: Python<'_>, jsonl: &Bound<'_, PyAny>) -> Result<Registry> {
        let bytes = convert::bytes(jsonl, "jsonl", ErrorCode::InvalidRegistry)?;
        let inner = py.detach(|| guard(|| JsonlRegistry::from_jsonl_bytes(&bytes)))?;
        Ok(Registry {
            inner: Arc::new(inner),
        })
    }

    /// The built-in sample registry: 300 made-up people, names in several Indian scripts.
    #[staticmethod]
    fn sample() -> Registry {
        Registry {
            inner: Arc::new(JsonlRegistry::sample()),
        }
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!("Registry(beneficiaries={})", self.inner.len())
    }
}

/// The status rules: how many primary doses each vaccine product needs.
#[pyclass(frozen, module = "kycvs")]
pub(crate) struct VaccineSchedule {
    inner: kycvs_core::VaccineSchedule,
}

#[pymethods]
impl VaccineSchedule {
    /// The built-in schedule (Covishield, Covaxin, Sputnik V and Light, ZyCoV-D, Corbevax,
    /// Covovax, Spikevax, Janssen).
    #[new]
    fn new() -> VaccineSchedule {
        VaccineSchedule {
            inner: kycvs_core::VaccineSchedule::default(),
        }
    }

    /// Loads a schedule from JSON (`str` or `bytes`):
    /// `{"version": 1, "products": [{"name", "primary_doses", "aliases"}]}`. Raises
    /// `InvalidScheduleError`.
    #[staticmethod]
    fn from_json(json: &Bound<'_, PyAny>) -> Result<VaccineSchedule> {
        let bytes = convert::bytes(json, "json", ErrorCode::InvalidSchedule)?;
        let inner = guard(|| kycvs_core::VaccineSchedule::from_json(&bytes))?;
        Ok(VaccineSchedule { inner })
    }

    /// The status that `doses` give: a list of dicts
    /// `{"product": str, "dose": int, "date": "YYYY-MM-DD", "kind": "primary" | "precaution"}`
    /// (`kind` optional, default primary). Raises `InvalidDoseRecordsError` or
    /// `UnknownProductError`.
    fn status<'py>(&self, py: Python<'py>, doses: &Bound<'py, PyAny>) -> Result<Bound<'py, PyAny>> {
        // The records go to the core as JSON, so that the core alone reads them.
        let json: String = JSON_DUMPS
            .import(py, "json", "dumps")?
            .call1((doses,))?
            .extract()?;
        let status =
            guard(|| dose_records_from_json(json.as_bytes()).and_then(|d| self.inner.status(&d)))?;
        Ok(py_status(py, status)?)
    }

    /// The primary doses `product` (a name or alias, matched like names) needs, or `None`
    /// when the schedule does not list it.
    fn primary_doses(&self, product: &str) -> Option<u32> {
        self.inner.primary_doses(product)
    }

    fn __repr__(&self) -> String {
        format!("VaccineSchedule(products={})", self.inner.entries().len())
    }
}

/// What `IssuanceService.begin` answers, the same whether or not the person exists. The OTP
/// is for the SMS only; it never appears in `repr`.
#[pyclass(frozen, module = "kycvs")]
pub(crate) struct ConsentChallenge {
    inner: kycvs_core::ConsentChallenge,
}

#[pymethods]
impl ConsentChallenge {
    /// The consent id, for `IssuanceService.complete`.
    #[getter]
    fn consent_id(&self) -> &str {
        &self.inner.consent_id
    }

    /// The six-digit OTP to send by SMS to the mobile number given to `begin`.
    #[getter]
    fn otp(&self) -> &str {
        self.inner.otp.expose()
    }

    /// When the OTP expires (seconds since the epoch).
    #[getter]
    fn expires_at(&self) -> u64 {
        self.inner.expires_at
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "ConsentChallenge(consent_id={}, otp=<redacted>, expires_at={})",
            repr_str(py, &self.inner.consent_id),
            self.inner.expires_at
        )
    }
}

/// The keyword arguments every issuer-side class takes, copied out of Python.
struct Options<'a> {
    schedule: Option<&'a VaccineSchedule>,
    pseudonym_key: Option<&'a [u8]>,
    otp_key: Option<&'a [u8]>,
    consent_file: Option<PathBuf>,
    config: ConsentConfig,
}

impl Options<'_> {
    /// The core's builder with these options set (the core owns every default).
    fn builder(&self) -> kycvs_core::Result<IssuanceBuilder> {
        let mut builder = IssuanceBuilder::new();
        builder.config(self.config);
        if let Some(schedule) = self.schedule {
            builder.schedule(schedule.inner.clone());
        }
        if let Some(key) = self.pseudonym_key {
            builder.pseudonym_key(PseudonymKey::from_bytes(key)?);
        }
        if let Some(key) = self.otp_key {
            builder.otp_key(key);
        }
        if let Some(path) = &self.consent_file {
            builder.consent_file(path.clone());
        }
        Ok(builder)
    }
}

/// The limits from keyword arguments, each defaulting to the core's default.
fn config(
    otp_ttl: Option<&Bound<'_, PyAny>>,
    max_attempts: Option<&Bound<'_, PyAny>>,
    rate_limit: Option<&Bound<'_, PyAny>>,
    rate_window: Option<&Bound<'_, PyAny>>,
    token_ttl: Option<&Bound<'_, PyAny>>,
) -> Result<ConsentConfig> {
    let defaults = ConsentConfig::default();
    let u32_arg = |obj, name: &str, default: u32| -> Result<u32> {
        let value = convert::u64_or(obj, name, u64::from(default))?;
        // Out of u32 range is out of the core's range too: let the core say so.
        Ok(u32::try_from(value).unwrap_or(u32::MAX))
    };
    Ok(ConsentConfig {
        otp_ttl: convert::u64_or(otp_ttl, "otp_ttl", defaults.otp_ttl)?,
        max_attempts: u32_arg(max_attempts, "max_attempts", defaults.max_attempts)?,
        rate_limit: u32_arg(rate_limit, "rate_limit", defaults.rate_limit)?,
        rate_window: convert::u64_or(rate_window, "rate_window", defaults.rate_window)?,
        token_ttl: convert::u64_or(token_ttl, "token_ttl", defaults.token_ttl)?,
    })
}

/// `begin` on either side that has one, with the GIL released.
fn begin(
    py: Python<'_>,
    starter: &kycvs_core::ConsentStarter,
    request: ConsentRequest<'_>,
    now: Option<&Bound<'_, PyAny>>,
) -> Result<ConsentChallenge> {
    let now = convert::opt_u64(now, "now")?;
    let inner =
        py.detach(|| guard(|| starter.begin(&request, now.unwrap_or_else(kycvs_core::unix_now))))?;
    Ok(ConsentChallenge { inner })
}

/// `complete` on either side that has one, with the GIL released.
fn complete(
    py: Python<'_>,
    completer: &kycvs_core::ConsentCompleter,
    consent_id: &str,
    otp: &str,
    now: Option<&Bound<'_, PyAny>>,
) -> Result<String> {
    let now = convert::opt_u64(now, "now")?;
    let token = py.detach(|| {
        guard(|| completer.complete(consent_id, otp, now.unwrap_or_else(kycvs_core::unix_now)))
    })?;
    Ok(token)
}

/// The issuer side, both steps: looks people up, runs the OTP consent, and signs a token
/// carrying only their status, for one verifier, under a pairwise pseudonym. Safe to share
/// across threads.
#[pyclass(frozen, module = "kycvs")]
pub(crate) struct IssuanceService {
    inner: kycvs_core::IssuanceService,
}

#[pymethods]
impl IssuanceService {
    /// A service signing with `issuer` over `registry`. `schedule` defaults to the built-in
    /// one; `pseudonym_key` and `otp_key` (32 bytes each) default to random keys;
    /// `consent_file` (a path) keeps pending consents in a file shared by every process that
    /// uses it with the same `otp_key`, instead of in memory. The limits are in seconds and
    /// counts.
    #[new]
    #[pyo3(
        signature = (issuer, registry, *, schedule = None, pseudonym_key = None, otp_key = None,
                     consent_file = None, otp_ttl = None, max_attempts = None,
                     rate_limit = None, rate_window = None, token_ttl = None),
        text_signature = "(issuer, registry, *, schedule=None, pseudonym_key=None, \
                          otp_key=None, consent_file=None, otp_ttl=180, max_attempts=3, \
                          rate_limit=5, rate_window=3600, token_ttl=300)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        issuer: &Issuer,
        registry: &Registry,
        schedule: Option<&VaccineSchedule>,
        pseudonym_key: Option<&[u8]>,
        otp_key: Option<&[u8]>,
        consent_file: Option<PathBuf>,
        otp_ttl: Option<&Bound<'_, PyAny>>,
        max_attempts: Option<&Bound<'_, PyAny>>,
        rate_limit: Option<&Bound<'_, PyAny>>,
        rate_window: Option<&Bound<'_, PyAny>>,
        token_ttl: Option<&Bound<'_, PyAny>>,
    ) -> Result<IssuanceService> {
        let options = Options {
            schedule,
            pseudonym_key,
            otp_key,
            consent_file,
            config: config(otp_ttl, max_attempts, rate_limit, rate_window, token_ttl)?,
        };
        let inner = guard(|| {
            options
                .builder()?
                .issuer(issuer.inner.clone())
                .registry(registry.inner.clone())
                .build()
        })?;
        Ok(IssuanceService { inner })
    }

    /// Starts a consent for the person called `name` registered under `mobile`, for a token
    /// to verifier `audience` bound to its transaction reference `nonce`, at `now` (seconds
    /// since the epoch; `None` = the system clock). Always answers a `ConsentChallenge` when
    /// the arguments are well formed, whether or not such a person exists; send its OTP by
    /// SMS to `mobile`. Raises `InvalidMobileError`, `InvalidArgumentError`,
    /// `RateLimitedError`, `ConsentStoreFullError`, `ConsentStoreUnavailableError`.
    #[pyo3(signature = (*, mobile, name, audience, nonce, now = None))]
    fn begin(
        &self,
        py: Python<'_>,
        mobile: &str,
        name: &str,
        audience: &str,
        nonce: &str,
        now: Option<&Bound<'_, PyAny>>,
    ) -> Result<ConsentChallenge> {
        let request = ConsentRequest {
            mobile,
            name,
            audience,
            nonce,
        };
        begin(py, self.inner.starter(), request, now)
    }

    /// Completes consent `consent_id` with the OTP the person typed, at `now`, and returns
    /// the signed token. Raises a `ConsentError` subclass (`ConsentNotFoundError`,
    /// `ConsentExpiredError`, `OtpMismatchError`, `AttemptsExhaustedError`), or
    /// `UnknownProductError` / `InvalidDoseRecordsError` when the person's records give no
    /// status. Of several threads completing one consent at once, exactly one gets a token.
    #[pyo3(signature = (consent_id, otp, *, now = None))]
    fn complete(
        &self,
        py: Python<'_>,
        consent_id: &str,
        otp: &str,
        now: Option<&Bound<'_, PyAny>>,
    ) -> Result<String> {
        complete(py, self.inner.completer(), consent_id, otp, now)
    }

    /// The `sub` this service gives beneficiary `beneficiary_id` at verifier `audience`.
    fn subject(&self, audience: &str, beneficiary_id: &str) -> String {
        self.inner.subject(audience, beneficiary_id)
    }

    /// The issuer id (the `iss` claim).
    #[getter]
    fn issuer(&self) -> &str {
        self.inner.issuer().issuer()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "IssuanceService(issuer={}, kid={})",
            repr_str(py, self.inner.issuer().issuer()),
            repr_str(py, self.inner.issuer().signing_key().kid())
        )
    }
}

/// The begin side alone: looks people up and starts consents (no signing key). Give the
/// complete side the same `otp_key` and `consent_file`.
#[pyclass(frozen, module = "kycvs")]
pub(crate) struct ConsentStarter {
    inner: kycvs_core::ConsentStarter,
}

#[pymethods]
impl ConsentStarter {
    /// A begin side over `registry`; the options and limits are those of `IssuanceService`
    /// (`token_ttl` aside).
    #[new]
    #[pyo3(
        signature = (registry, *, schedule = None, pseudonym_key = None, otp_key = None,
                     consent_file = None, otp_ttl = None, max_attempts = None,
                     rate_limit = None, rate_window = None),
        text_signature = "(registry, *, schedule=None, pseudonym_key=None, otp_key=None, \
                          consent_file=None, otp_ttl=180, max_attempts=3, rate_limit=5, \
                          rate_window=3600)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        registry: &Registry,
        schedule: Option<&VaccineSchedule>,
        pseudonym_key: Option<&[u8]>,
        otp_key: Option<&[u8]>,
        consent_file: Option<PathBuf>,
        otp_ttl: Option<&Bound<'_, PyAny>>,
        max_attempts: Option<&Bound<'_, PyAny>>,
        rate_limit: Option<&Bound<'_, PyAny>>,
        rate_window: Option<&Bound<'_, PyAny>>,
    ) -> Result<ConsentStarter> {
        let options = Options {
            schedule,
            pseudonym_key,
            otp_key,
            consent_file,
            config: config(otp_ttl, max_attempts, rate_limit, rate_window, None)?,
        };
        let inner = guard(|| {
            options
                .builder()?
                .registry(registry.inner.clone())
                .build_starter()
        })?;
        Ok(ConsentStarter { inner })
    }

    /// As `IssuanceService.begin`.
    #[pyo3(signature = (*, mobile, name, audience, nonce, now = None))]
    fn begin(
        &self,
        py: Python<'_>,
        mobile: &str,
        name: &str,
        audience: &str,
        nonce: &str,
        now: Option<&Bound<'_, PyAny>>,
    ) -> Result<ConsentChallenge> {
        let request = ConsentRequest {
            mobile,
            name,
            audience,
            nonce,
        };
        begin(py, &self.inner, request, now)
    }

    /// The `sub` this side gives beneficiary `beneficiary_id` at verifier `audience`.
    fn subject(&self, audience: &str, beneficiary_id: &str) -> String {
        self.inner.subject(audience, beneficiary_id)
    }

    fn __repr__(&self) -> String {
        "ConsentStarter()".to_owned()
    }
}

/// The complete side alone: checks OTPs and signs (no registry). Give it the begin side's
/// `otp_key` and `consent_file`.
#[pyclass(frozen, module = "kycvs")]
pub(crate) struct ConsentCompleter {
    inner: kycvs_core::ConsentCompleter,
}

#[pymethods]
impl ConsentCompleter {
    /// A complete side signing with `issuer`; `otp_key`, `consent_file` and the limits are
    /// those of `IssuanceService`.
    #[new]
    #[pyo3(
        signature = (issuer, *, otp_key = None, consent_file = None, otp_ttl = None,
                     max_attempts = None, rate_limit = None, rate_window = None,
                     token_ttl = None),
        text_signature = "(issuer, *, otp_key=None, consent_file=None, otp_ttl=180, \
                          max_attempts=3, rate_limit=5, rate_window=3600, token_ttl=300)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        issuer: &Issuer,
        otp_key: Option<&[u8]>,
        consent_file: Option<PathBuf>,
        otp_ttl: Option<&Bound<'_, PyAny>>,
        max_attempts: Option<&Bound<'_, PyAny>>,
        rate_limit: Option<&Bound<'_, PyAny>>,
        rate_window: Option<&Bound<'_, PyAny>>,
        token_ttl: Option<&Bound<'_, PyAny>>,
    ) -> Result<ConsentCompleter> {
        let options = Options {
            schedule: None,
            pseudonym_key: None,
            otp_key,
            consent_file,
            config: config(otp_ttl, max_attempts, rate_limit, rate_window, token_ttl)?,
        };
        let inner = guard(|| {
            options
                .builder()?
                .issuer(issuer.inner.clone())
                .build_completer()
        })?;
        Ok(ConsentCompleter { inner })
    }

    /// As `IssuanceService.complete`.
    #[pyo3(signature = (consent_id, otp, *, now = None))]
    fn complete(
        &self,
        py: Python<'_>,
        consent_id: &str,
        otp: &str,
        now: Option<&Bound<'_, PyAny>>,
    ) -> Result<String> {
        complete(py, &self.inner, consent_id, otp, now)
    }

    /// The issuer id (the `iss` claim).
    #[getter]
    fn issuer(&self) -> &str {
        self.inner.issuer().issuer()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "ConsentCompleter(issuer={})",
            repr_str(py, self.inner.issuer().issuer())
        )
    }
}

/// Remembers the `jti` of each token a verifier accepts, so that a second presentation
/// raises `ReplayedError`. Bounded; full of live entries it refuses (fail closed). Share one
/// between verifiers to share the memory.
#[pyclass(frozen, module = "kycvs")]
pub(crate) struct ReplayGuard {
    pub(crate) inner: Arc<kycvs_core::ReplayGuard>,
}

#[pymethods]
impl ReplayGuard {
    /// A guard remembering at most `capacity` token ids, each until its token stops
    /// verifying: `exp` plus the leeway of the verifier that accepted it.
    #[new]
    #[pyo3(signature = (capacity = None), text_signature = "(capacity=100000)")]
    fn new(capacity: Option<&Bound<'_, PyAny>>) -> Result<ReplayGuard> {
        let capacity = convert::u64_or(capacity, "capacity", DEFAULT_REPLAY_CAPACITY as u64)?;
        let capacity = usize::try_from(capacity).unwrap_or(usize::MAX);
        let inner = guard(|| kycvs_core::ReplayGuard::new(capacity))?;
        Ok(ReplayGuard {
            inner: Arc::new(inner),
        })
    }

    /// The most token ids it holds.
    #[getter]
    fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "ReplayGuard(capacity={}, len={})",
            self.inner.capacity(),
            self.inner.len()
        )
    }
}
