//! The issuer side end to end: registry + schedule + consent + pseudonym + signing.

use crate::consent::{
    CONSENT_ID_BYTES, ConsentChallenge, ConsentStore, DEFAULT_MAX_ATTEMPTS, DEFAULT_OTP_TTL,
    DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW, MemoryConsentStore, Otp, PendingBeneficiary,
    PendingConsent, StoreAction,
};
use crate::error::{Error, ErrorCode, Result};
use crate::issue::{DEFAULT_TTL, Issuer, MAX_TTL, TokenRequest};
use crate::keys::os_random;
use crate::pseudonym::PseudonymKey;
use crate::registry::{Mobile, NameKey, Registry};
use crate::schedule::VaccineSchedule;
use crate::token::{
    MAX_ID_LEN, MAX_NONCE_LEN, MAX_TIME, encode_segment, is_valid_id, is_valid_nonce,
};
use hmac::{KeyInit, Mac};
use sha2::Sha256;
use std::fmt;
use std::sync::Arc;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

type HmacSha256 = hmac::Hmac<Sha256>;

/// The length of the key that MACs OTPs and mobile numbers
/// ([`IssuanceService::with_otp_key`]).
pub const OTP_KEY_LEN: usize = 32;

/// The limits of the consent flow. Every field has a default (see [`ConsentConfig::default`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsentConfig {
    /// OTP lifetime in seconds, 1 to 3,600. Defaults to 180.
    pub otp_ttl: u64,
    /// Wrong OTPs allowed per consent, 1 to 10; the last one kills the consent. Defaults to 3.
    pub max_attempts: u32,
    /// Consents begun per normalised mobile number per window, 1 to 1,000. Defaults to 5.
    pub rate_limit: u32,
    /// The rolling rate window in seconds, 1 to 86,400. Defaults to 3,600.
    pub rate_window: u64,
    /// Lifetime of the issued token in seconds, 1 to [`MAX_TTL`]. Defaults to
    /// [`DEFAULT_TTL`].
    pub token_ttl: u64,
}

impl Default for ConsentConfig {
    fn default() -> Self {
        ConsentConfig {
            otp_ttl: DEFAULT_OTP_TTL,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            rate_limit: DEFAULT_RATE_LIMIT,
            rate_window: DEFAULT_RATE_WINDOW,
            token_ttl: DEFAULT_TTL,
        }
    }
}

impl ConsentConfig {
    /// Checks every field's range. Error: `invalid_argument` naming the field.
    pub fn validate(&self) -> Result<()> {
        let check = |ok: bool, what: &'static str| {
            if ok {
                Ok(())
            } else {
                Err(Error::new(ErrorCode::InvalidArgument, what))
            }
        };
        check(
            (1..=3_600).contains(&self.otp_ttl),
            "otp_ttl must be 1 to 3600 s",
        )?;
        check(
            (1..=10).contains(&self.max_attempts),
            "max_attempts must be 1 to 10",
        )?;
        check(
            (1..=1_000).contains(&self.rate_limit),
            "rate_limit must be 1 to 1000",
        )?;
        check(
            (1..=86_400).contains(&self.rate_window),
            "rate_window must be 1 to 86400 s",
        )?;
        check(
            (1..=MAX_TTL).contains(&self.token_ttl),
            "token_ttl must be 1 to 86400 s",
        )
    }
}

/// The issuer side of KYC-VS: looks people up, runs the OTP consent and signs a token
/// carrying only their status, for one verifier, under a pairwise pseudonym.
///
/// 1. [`begin`](IssuanceService::begin)`(mobile, name, audience, nonce, now)` always answers
///    a [`ConsentChallenge`]: a consent id and an OTP for the host to send by SMS to
///    `mobile`. When nobody of that name is registered under that number, the OTP is made,
///    hashed and stored in the same way but can never complete: the caller cannot tell an
///    unknown mobile number or a wrong name from a hit, neither from `begin` nor from
///    `complete` (which answers `otp_mismatch`, then `attempts_exhausted`, as for a wrong
///    OTP).
/// 2. [`complete`](IssuanceService::complete)`(consent_id, otp, now)` checks the OTP and
///    returns the signed token: `vs` from the person's dose records through the
///    [`VaccineSchedule`], `aud` and `nonce` as given to `begin`, `sub` the pairwise
///    pseudonym of (audience, beneficiary id) under the [`PseudonymKey`].
///
/// Limits ([`ConsentConfig`]): an OTP lives 180 s, allows 3 attempts and is single use; 5
/// begins per mobile number per rolling hour. The OTP is stored only as HMAC-SHA-256 under
/// a random per-service key and compared in constant time. No mobile number, name or OTP
/// appears in a token, an error detail or `Debug`. `Send + Sync`: share it in an `Arc`.
///
/// ```
/// use kycvs_core::{ErrorCode, IssuanceService, Issuer, JsonlRegistry, Policy, SigningKey,
///                  TrustStore, VaccinationStatus, Verifier};
/// use std::sync::Arc;
///
/// # fn main() -> Result<(), kycvs_core::Error> {
/// let key = SigningKey::generate()?;
/// let mut trust = TrustStore::new();
/// trust.add(key.public_key().clone(), "cowin.example")?;
/// let service = IssuanceService::new(
///     Issuer::new(key, "cowin.example")?,
///     Arc::new(JsonlRegistry::sample()),
/// )?;
/// let now = 1_700_000_000;
///
/// // B000002 in the sample registry: two Covishield doses.
/// let challenge = service.begin("+91 95567-19886", "సాయి దేవి", "irctc.example", "PNR-4711", now)?;
/// // ... the host sends challenge.otp.expose() by SMS; the person types it back ...
/// let token = service.complete(&challenge.consent_id, challenge.otp.expose(), now + 30)?;
///
/// let verifier = Verifier::new(trust, Policy::new("irctc.example"))?;
/// let verified = verifier.verify(&token, "PNR-4711", now + 31)?;
/// assert_eq!(verified.status(), VaccinationStatus::FullyVaccinated);
///
/// // The OTP is single use.
/// let again = service.complete(&challenge.consent_id, challenge.otp.expose(), now + 32);
/// assert_eq!(again.unwrap_err().code(), ErrorCode::ConsentNotFound);
/// # Ok(())
/// # }
/// ```
pub struct IssuanceService {
    issuer: Issuer,
    registry: Arc<dyn Registry>,
    schedule: VaccineSchedule,
    store: Box<dyn ConsentStore>,
    pseudonyms: PseudonymKey,
    otp_key: Zeroizing<[u8; OTP_KEY_LEN]>,
    config: ConsentConfig,
}

impl IssuanceService {
    /// A service signing with `issuer` over `registry`, with the default schedule, a fresh
    /// random pseudonym key and OTP key, a [`MemoryConsentStore`] and the default
    /// [`ConsentConfig`]. Error: `random_source`.
    pub fn new(issuer: Issuer, registry: Arc<dyn Registry>) -> Result<IssuanceService> {
        let mut otp_key = Zeroizing::new([0u8; OTP_KEY_LEN]);
        os_random(otp_key.as_mut())?;
        Ok(IssuanceService {
            issuer,
            registry,
            schedule: VaccineSchedule::default(),
            store: Box::new(MemoryConsentStore::new()),
            pseudonyms: PseudonymKey::generate()?,
            otp_key,
            config: ConsentConfig::default(),
        })
    }

    /// Uses `schedule` for the status rules instead of the default table.
    pub fn with_schedule(mut self, schedule: VaccineSchedule) -> IssuanceService {
        self.schedule = schedule;
        self
    }

    /// Uses `key` for pairwise subjects (keep it to keep subjects stable across restarts).
    pub fn with_pseudonym_key(mut self, key: PseudonymKey) -> IssuanceService {
        self.pseudonyms = key;
        self
    }

    /// Uses `key` ([`OTP_KEY_LEN`] bytes) to MAC OTPs and mobile numbers instead of a fresh
    /// random key. Keep it secret, and give it to every service that shares one
    /// [`ConsentStore`] (a [`crate::FileConsentStore`] used by several processes): a consent
    /// begun under one key completes only under the same key. Error: `invalid_key` for
    /// another length.
    pub fn with_otp_key(mut self, key: &[u8]) -> Result<IssuanceService> {
        let key: &[u8; OTP_KEY_LEN] = key.try_into().map_err(|_| {
            Error::new(
                ErrorCode::InvalidKey,
                format!("an OTP key is {OTP_KEY_LEN} bytes"),
            )
        })?;
        self.otp_key = Zeroizing::new(*key);
        Ok(self)
    }

    /// Keeps pending consents and rate counters in `store` instead.
    pub fn with_consent_store(mut self, store: Box<dyn ConsentStore>) -> IssuanceService {
        self.store = store;
        self
    }

    /// Uses `config`'s limits. Error: `invalid_argument` (see [`ConsentConfig::validate`]).
    pub fn with_config(mut self, config: ConsentConfig) -> Result<IssuanceService> {
        config.validate()?;
        self.config = config;
        Ok(self)
    }

    /// The issuer (its id and key, to publish the public key).
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// The schedule table in use.
    pub fn schedule(&self) -> &VaccineSchedule {
        &self.schedule
    }

    /// The limits in use.
    pub fn config(&self) -> ConsentConfig {
        self.config
    }

    /// The `sub` this service gives beneficiary `beneficiary_id` at verifier `audience`.
    pub fn subject(&self, audience: &str, beneficiary_id: &str) -> String {
        self.pseudonyms.subject(audience, beneficiary_id)
    }

    /// Starts a consent for the person called `name` registered under `mobile`, for a token
    /// to verifier `audience` bound to its transaction reference `nonce`, at time `now`.
    ///
    /// Always returns a [`ConsentChallenge`] when the arguments are well formed, whether or
    /// not such a person exists; the host must deliver its OTP by SMS to `mobile`.
    ///
    /// Errors (none depends on whether the person exists): `invalid_mobile`;
    /// `invalid_argument` for a bad name, audience (1 to 256 visible ASCII), nonce (1 to 128
    /// printable ASCII) or `now`; `rate_limited` after [`ConsentConfig::rate_limit`] begins
    /// for this mobile number within the window (counted whether or not anyone is
    /// registered under it); `consent_store_full`; `random_source`; an error of the
    /// registry.
    pub fn begin(
        &self,
        mobile: &str,
        name: &str,
        audience: &str,
        nonce: &str,
        now: u64,
    ) -> Result<ConsentChallenge> {
        let mobile = Mobile::parse(mobile)?;
        let name = NameKey::new(name)?;
        if !is_valid_id(audience) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("audience must be 1 to {MAX_ID_LEN} visible ASCII characters"),
            ));
        }
        if !is_valid_nonce(nonce) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("nonce must be 1 to {MAX_NONCE_LEN} printable ASCII characters"),
            ));
        }
        if now > MAX_TIME - self.config.otp_ttl.max(self.config.rate_window) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "now is out of range",
            ));
        }
        let rate_key = self.mac(b"rate", &[mobile.as_str().as_bytes()]);
        self.store.count_begin(
            &rate_key,
            now,
            self.config.rate_window,
            self.config.rate_limit,
        )?;
        // Everything from here on is the same work for a hit and a miss: one look-up, one
        // OTP, one consent id, one MAC, one insert.
        let beneficiary = self.registry.find(&mobile, &name)?;
        let otp = Otp::generate()?;
        let mut id_bytes = [0u8; CONSENT_ID_BYTES];
        os_random(&mut id_bytes)?;
        let consent_id = encode_segment(&id_bytes);
        let otp_mac = self.otp_mac(&consent_id, otp.expose());
        let expires_at = now + self.config.otp_ttl;
        self.store.insert(
            &consent_id,
            PendingConsent {
                otp_mac,
                expires_at,
                attempts_left: self.config.max_attempts,
                beneficiary: beneficiary.map(|b| PendingBeneficiary {
                    id: b.id,
                    doses: b.doses,
                }),
                audience: audience.to_owned(),
                nonce: nonce.to_owned(),
            },
            now,
        )?;
        Ok(ConsentChallenge {
            consent_id,
            otp,
            expires_at,
        })
    }

    /// Completes consent `consent_id` with the OTP the person typed, at time `now`, and
    /// returns the signed token.
    ///
    /// Errors: `consent_not_found` (unknown, already used, dead, or expired and evicted);
    /// `consent_expired` (the consent is then gone); `otp_mismatch` for a wrong OTP while
    /// attempts remain, and `attempts_exhausted` for the last allowed wrong one (the consent
    /// is then gone); after a correct OTP (the consent is then used up): `unknown_product`
    /// or `invalid_dose_records` when the person's records give no status,
    /// `invalid_argument`, `random_source`.
    ///
    /// When several calls complete one consent at once, exactly one can succeed.
    pub fn complete(&self, consent_id: &str, otp: &str, now: u64) -> Result<String> {
        let not_found = || Error::new(ErrorCode::ConsentNotFound, "no pending consent has this id");
        if consent_id.len() != encode_segment(&[0u8; CONSENT_ID_BYTES]).len() {
            return Err(not_found());
        }
        // Over-long input is hashed only up to a bound; it cannot match a 6-digit OTP anyway.
        let typed = &otp.as_bytes()[..otp.len().min(64)];
        let offered = self.mac(b"otp", &[consent_id.as_bytes(), typed]);
        let mut outcome: Option<Outcome> = None;
        let found = self.store.update(consent_id, &mut |consent| {
            if now >= consent.expires_at {
                outcome = Some(Outcome::Expired);
                return StoreAction::Remove;
            }
            // A consent with no beneficiary behind it never matches, with the same
            // constant-time comparison as one that has.
            let matches = offered.ct_eq(&consent.otp_mac)
                & subtle::Choice::from(u8::from(consent.beneficiary.is_some()));
            if bool::from(matches) {
                outcome = Some(Outcome::Matched {
                    beneficiary: consent.beneficiary.take().expect("checked above"),
                    audience: std::mem::take(&mut consent.audience),
                    nonce: std::mem::take(&mut consent.nonce),
                });
                return StoreAction::Remove;
            }
            consent.attempts_left = consent.attempts_left.saturating_sub(1);
            if consent.attempts_left == 0 {
                outcome = Some(Outcome::Exhausted);
                StoreAction::Remove
            } else {
                outcome = Some(Outcome::Mismatch);
                StoreAction::Keep
            }
        });
        match outcome.filter(|_| found) {
            None => Err(not_found()),
            Some(Outcome::Expired) => Err(Error::new(
                ErrorCode::ConsentExpired,
                "the OTP has expired; begin again",
            )),
            Some(Outcome::Mismatch) => {
                Err(Error::new(ErrorCode::OtpMismatch, "the OTP does not match"))
            }
            Some(Outcome::Exhausted) => Err(Error::new(
                ErrorCode::AttemptsExhausted,
                "too many wrong OTPs; the consent is closed, begin again",
            )),
            Some(Outcome::Matched {
                beneficiary,
                audience,
                nonce,
            }) => {
                let status = self.schedule.status(&beneficiary.doses)?;
                let subject = self.pseudonyms.subject(&audience, &beneficiary.id);
                self.issuer.issue(
                    &TokenRequest {
                        audience: &audience,
                        nonce: &nonce,
                        subject: &subject,
                        status,
                        ttl: self.config.token_ttl,
                    },
                    now,
                )
            }
        }
    }

    fn otp_mac(&self, consent_id: &str, otp: &str) -> [u8; 32] {
        self.mac(b"otp", &[consent_id.as_bytes(), otp.as_bytes()])
    }

    /// HMAC-SHA-256 under the OTP key of a label and length-prefixed parts.
    fn mac(&self, label: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(self.otp_key.as_ref())
            .expect("HMAC takes a key of any length");
        for part in std::iter::once(label).chain(parts.iter().copied()) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

enum Outcome {
    Expired,
    Mismatch,
    Exhausted,
    Matched {
        beneficiary: PendingBeneficiary,
        audience: String,
        nonce: String,
    },
}

impl fmt::Debug for IssuanceService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuanceService")
            .field("issuer", &self.issuer.issuer())
            .field("kid", &self.issuer.signing_key().kid())
            .field("schedule", &self.schedule)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
