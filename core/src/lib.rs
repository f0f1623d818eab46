//! # kycvs-core
//!
//! Signed vaccination-status attestations in the manner of India's CoWIN "Know Your Customer's
//! Vaccination Status" (KYC-VS): after a person consents, an issuer signs a short token that
//! tells one verifier `0` (not vaccinated), `1` (partially) or `2` (fully vaccinated), and
//! nothing else. The token is a JWS compact serialization with an Ed25519 signature; the full
//! format and every check are in `docs/SPEC.md`.
//!
//! - [`Issuer`] signs tokens; [`SigningKey`] holds its key.
//! - [`TrustStore`] holds trusted public keys, each bound to one issuer (a JWKS document).
//! - [`TrustBundle`] signs and loads trust stores vouched for by a pinned root key.
//! - [`Verifier`] checks a token against a trust store and a [`Policy`] and is the only way to
//!   get a [`VerifiedStatus`]; [`inspect_unverified`] decodes without trusting anything.
//! - [`IssuanceService`] is the issuer side end to end: a [`Registry`] of beneficiaries (the
//!   built-in [`JsonlRegistry`]), status rules from a [`VaccineSchedule`], OTP consent and
//!   pairwise pseudonymous subjects ([`PseudonymKey`]); its two steps are also usable alone
//!   ([`ConsentStarter`], [`ConsentCompleter`]), all built by one [`IssuanceBuilder`].
//! - [`ReplayGuard`] lets a verifier refuse a second presentation of one token.
//! - Every failure is an [`Error`] with a stable [`ErrorCode`].
//! - [`backend`] names the curve arithmetic (AVX-512 IFMA, AVX2 or serial) chosen at run time.
//!
//! ```
//! use kycvs_core::{Issuer, Policy, SigningKey, TokenRequest, TrustStore,
//!                  VaccinationStatus, Verifier, ErrorCode};
//!
//! # fn main() -> Result<(), kycvs_core::Error> {
//! // Issuer side.
//! let key = SigningKey::generate()?;
//! let mut trust = TrustStore::new();
//! trust.add(key.public_key().clone(), "cowin.example")?;
//! let issuer = Issuer::new(key, "cowin.example")?;
//! let now = 1_700_000_000;
//! let token = issuer.issue(
//!     &TokenRequest {
//!         audience: "irctc.example",
//!         nonce: "PNR-4711",
//!         subject: "pseudonym-1",
//!         status: VaccinationStatus::FullyVaccinated,
//!         ttl: 300,
//!     },
//!     now,
//! )?;
//!
//! // Verifier side.
//! let verifier = Verifier::new(trust, Policy::new("irctc.example"))?;
//! // The nonce is the verifier's own transaction (here a booking): always required.
//! let verified = verifier.verify(&token, "PNR-4711", now + 10)?;
//! assert_eq!(verified.status(), VaccinationStatus::FullyVaccinated);
//!
//! let err = verifier.verify(&token, "PNR-4712", now + 10).unwrap_err();
//! assert_eq!(err.code(), ErrorCode::NonceMismatch);
//! # Ok(())
//! # }
//! ```

mod crypto;
mod error;
mod expiry;
mod issuer;
mod jose;
mod schema;
mod status;
mod trust;
mod verify;

pub use crypto::backend::{Backend, backend};
/// Test-only switches (the `test-hooks` cargo feature, never enabled in a shipped build).
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub use crypto::keys::test_hooks;
pub use crypto::keys::{PublicKey, SigningKey, jwk_thumbprint};
pub use crypto::signature;
pub use error::{Error, ErrorCode, Result};
pub use issuer::consent::file::{FileConsentStore, MAX_CONSENT_FILE_LEN};
pub use issuer::consent::{
    CONSENT_ID_BYTES, ConsentChallenge, ConsentStore, DEFAULT_CONSENT_CAPACITY,
    DEFAULT_MAX_ATTEMPTS, DEFAULT_OTP_TTL, DEFAULT_RATE_CAPACITY, DEFAULT_RATE_LIMIT,
    DEFAULT_RATE_WINDOW, MemoryConsentStore, OTP_DIGITS, Otp, PendingConsent, StoreAction,
};
pub use issuer::pseudonym::{PSEUDONYM_KEY_LEN, PseudonymKey};
pub use issuer::registry::{
    Beneficiary, JsonlRegistry, MAX_BENEFICIARIES_PER_MOBILE, MAX_MOBILE_INPUT_LEN,
    MAX_NAME_INPUT_LEN, MAX_REGISTRY_LINE_LEN, Mobile, NameKey, REGISTRY_SCHEMA, Registry,
    SAMPLE_REGISTRY_JSONL, dose_records_from_json, names_match, normalize_name,
};
pub use issuer::service::{
    ConsentCompleter, ConsentConfig, ConsentRequest, ConsentStarter, IssuanceBuilder,
    IssuanceService, OTP_KEY_LEN,
};
pub use issuer::signer::{DEFAULT_TTL, Issuer, MAX_TTL, TokenRequest, hazmat};
pub use jose::token::{
    Algorithm, Claims, Header, MAX_ID_LEN, MAX_JTI_LEN, MAX_KID_LEN, MAX_NONCE_LEN, MAX_TIME,
    MAX_TOKEN_LEN, MIN_JTI_LEN, TOKEN_TYPE, UntrustedToken, UnverifiedInspection,
    inspect_unverified, is_valid_id, is_valid_nonce,
};
pub use status::VaccinationStatus;
pub use status::schedule::{
    DEFAULT_SCHEDULE_JSON, DoseKind, DoseRecord, MAX_DOSE_RECORDS, SCHEDULE_SCHEMA, ScheduleEntry,
    VaccineSchedule,
};
pub use trust::bundle::{
    BUNDLE_TYPE, BundleLoad, BundleTerms, MAX_BUNDLE_LEN, MAX_ROOT_JWK_LEN, TrustBundle,
};
pub use trust::store::{KeyWindow, MAX_JWKS_LEN, MAX_TRUSTED_KEYS, TrustStore, TrustedKey};
pub use verify::replay::{
    DEFAULT_REPLAY_CAPACITY, MIN_OVERLAPPED_BATCH, ReplayEntry, ReplayGuard, ReplayStore,
};
pub use verify::verifier::{
    BatchItem, DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME, MAX_LEEWAY, MAX_MAX_LIFETIME, Policy,
    VerifiedStatus, Verifier, unix_now,
};

/// The version of this library.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
