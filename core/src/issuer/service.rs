//! The issuer side end to end: a begin side (registry + schedule + pseudonym + OTP) and a
//! complete side (OTP check + signing), sharing an OTP key, limits and a consent store.

use crate::crypto::keys::os_random;
use crate::crypto::mac::prefixed_mac;
use crate::error::{Error, ErrorCode, Result};
use crate::issuer::consent::file::FileConsentStore;
use crate::issuer::consent::{
    CONSENT_ID_BYTES, ConsentChallenge, ConsentStore, DEFAULT_MAX_ATTEMPTS, DEFAULT_OTP_TTL,
    DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW, MemoryConsentStore, Otp, PendingConsent,
    PendingOutcome, Resolved, StoreAction,
};
use crate::issuer::pseudonym::PseudonymKey;
use crate::issuer::registry::{Mobile, NameKey, Registry};
use crate::issuer::signer::{DEFAULT_TTL, Issuer, MAX_TTL, TokenRequest};
use crate::jose::token::{
    MAX_ID_LEN, MAX_NONCE_LEN, MAX_TIME, encode_segment, is_valid_id, is_valid_nonce,
};
use crate::status::schedule::VaccineSchedule;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The length of the key that MACs OTPs and mobile numbers
/// ([`IssuanceBuilder::otp_key`]).
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

/// What `begin` is asked: who (as the person typed it) and for which verifier transaction.
#[derive(Clone, Copy)]
pub struct ConsentRequest<'a> {
    /// The person's mobile number as typed (see [`Mobile::parse`]); the host sends the OTP
    /// there.
    pub mobile: &'a str,
    /// The person's name as typed (matched after [`crate::normalize_name`]).
    pub name: &'a str,
    /// The verifier the token will be for (`aud`): 1 to 256 visible ASCII characters.
    pub audience: &'a str,
    /// The verifier's transaction reference (`nonce`): 1 to 128 printable ASCII characters.
    pub nonce: &'a str,
}

impl fmt::Debug for ConsentRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsentRequest")
            .field("mobile", &"<redacted>")
            .field("name", &"<redacted>")
            .field("audience", &self.audience)
            .field("nonce", &self.nonce)
            .finish()
    }
}

/// What both sides share: the OTP key, the limits and the consent store.
#[derive(Clone)]
struct Shared {
    otp_key: Arc<Zeroizing<[u8; OTP_KEY_LEN]>>,
    store: Arc<dyn ConsentStore>,
    config: ConsentConfig,
}

impl Shared {
    /// HMAC-SHA-256 under the OTP key of a label and length-prefixed parts.
    fn mac(&self, label: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        let mut input = Vec::with_capacity(parts.len() + 1);
        input.push(label);
        input.extend_from_slice(parts);
        prefixed_mac(self.otp_key.as_ref().as_ref(), &input)
    }
}

/// The begin side of the consent flow: looks the person up, decides right away what a correct
/// OTP will lead to, and stores only that (see [`PendingConsent`]). Built by
/// [`ConsentStarter::builder`]; `Send + Sync`.
pub struct ConsentStarter {
    registry: Arc<dyn Registry>,
    schedule: VaccineSchedule,
    pseudonyms: PseudonymKey,
    shared: Shared,
}

impl ConsentStarter {
    /// The keyed MAC under which a store shared by several instances counts the requests of
    /// one client id or client address (`scope` names which, e.g. `"client"`, `"ip"`), so
    /// that the store holds neither: instances with the same OTP key agree on it, and it is
    /// apart from every other MAC the issuer makes.
    pub fn limit_key(&self, scope: &str, value: &[u8]) -> [u8; 32] {
        self.shared.mac(b"limit", &[scope.as_bytes(), value])
    }

    /// A builder for a begin side over `registry` (see [`IssuanceBuilder`] for the defaults).
    pub fn builder(registry: Arc<dyn Registry>) -> IssuanceBuilder {
        let mut builder = IssuanceBuilder::new();
        builder.registry(registry);
        builder
    }

    /// The schedule table in use.
    pub fn schedule(&self) -> &VaccineSchedule {
        &self.schedule
    }

    /// The limits in use.
    pub fn config(&self) -> ConsentConfig {
        self.shared.config
    }

    /// The `sub` this side gives beneficiary `beneficiary_id` at verifier `audience`.
    pub fn subject(&self, audience: &str, beneficiary_id: &str) -> String {
        self.pseudonyms.subject(audience, beneficiary_id)
    }

    /// Starts a consent for `request` at time `now`.
    ///
    /// Always returns a [`ConsentChallenge`] when the request is well formed, whether or not
    /// such a person exists; the host must deliver its OTP by SMS to `request.mobile`. The
    /// person is looked up now, and what `complete` will answer after a correct OTP is
    /// decided now, with the same work for a hit and a miss: the status from their dose
    /// records through the [`VaccineSchedule`] and their pairwise subject at
    /// `request.audience`, or the schedule's error (`unknown_product`,
    /// `invalid_dose_records`), or "nobody" (the OTP then never completes).
    ///
    /// Errors (none depends on whether the person exists): `invalid_mobile`;
    /// `invalid_argument` for a bad name, audience (1 to 256 visible ASCII), nonce (1 to 128
    /// printable ASCII) or `now`; `rate_limited` after [`ConsentConfig::rate_limit`] begins
    /// for this mobile number within the window (counted whether or not anyone is
    /// registered under it); `consent_store_full`; `consent_store_unavailable`;
    /// `random_source`; an error of the registry.
    pub fn begin(&self, request: &ConsentRequest<'_>, now: u64) -> Result<ConsentChallenge> {
        let config = &self.shared.config;
        let mobile = Mobile::parse(request.mobile)?;
        let name = NameKey::new(request.name)?;
        let (audience, nonce) = (request.audience, request.nonce);
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
        if now > MAX_TIME - config.otp_ttl.max(config.rate_window) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "now is out of range",
            ));
        }
        let rate_key = self.shared.mac(b"rate", &[mobile.as_str().as_bytes()]);
        self.shared
            .store
            .count_begin(&rate_key, now, config.rate_window, config.rate_limit)?;
        // Everything from here on is the same work for a hit and a miss: one look-up, one
        // status, one subject, one OTP, one consent id, one MAC, one insert.
        let beneficiary = self.registry.find(&mobile, &name)?;
        let (id, doses) = match &beneficiary {
            Some(b) => (b.id.as_str(), b.doses.as_slice()),
            None => ("", &[][..]),
        };
        let status = self.schedule.status(doses);
        let subject = self.pseudonyms.subject(audience, id);
        let outcome = match (beneficiary.is_some(), status) {
            (false, _) => PendingOutcome::nobody(),
            (true, Ok(status)) => PendingOutcome::issue(status, subject),
            (true, Err(e)) => PendingOutcome::refuse(e.code()),
        };
        drop(beneficiary);
        let otp = Otp::generate()?;
        let mut id_bytes = [0u8; CONSENT_ID_BYTES];
        os_random(&mut id_bytes)?;
        let consent_id = encode_segment(&id_bytes);
        let otp_mac = self
            .shared
            .mac(b"otp", &[consent_id.as_bytes(), otp.expose().as_bytes()]);
        let expires_at = now + config.otp_ttl;
        self.shared.store.insert(
            &consent_id,
            PendingConsent {
                otp_mac,
                expires_at,
                attempts_left: config.max_attempts,
                audience: audience.to_owned(),
                nonce: nonce.to_owned(),
                outcome,
            },
            now,
        )?;
        Ok(ConsentChallenge {
            consent_id,
            otp,
            expires_at,
        })
    }
}

impl fmt::Debug for ConsentStarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsentStarter")
            .field("schedule", &self.schedule)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// The complete side of the consent flow: checks the OTP against the consent store and signs
/// the outcome `begin` decided. Needs no registry, schedule or pseudonym key. Built by
/// [`ConsentCompleter::builder`]; `Send + Sync`.
pub struct ConsentCompleter {
    issuer: Issuer,
    shared: Shared,
}

impl ConsentCompleter {
    /// A builder for a complete side signing with `issuer` (see [`IssuanceBuilder`] for the
    /// defaults; give it the begin side's OTP key and consent store).
    pub fn builder(issuer: Issuer) -> IssuanceBuilder {
        let mut builder = IssuanceBuilder::new();
        builder.issuer(issuer);
        builder
    }

    /// The issuer (its id and key, to publish the public key).
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// The limits in use.
    pub fn config(&self) -> ConsentConfig {
        self.shared.config
    }

    /// Completes consent `consent_id` with the OTP the person typed, at time `now`, and
    /// returns the signed token: `vs` and `sub` as `begin` decided, `aud` and `nonce` as
    /// given to `begin`.
    ///
    /// Errors: `consent_not_found` (unknown, already used, dead, or expired and evicted);
    /// `consent_expired` (the consent is then gone); `otp_mismatch` for a wrong OTP while
    /// attempts remain, and `attempts_exhausted` for the last allowed wrong one (the consent
    /// is then gone); `consent_store_unavailable` (nothing is issued); after a correct OTP
    /// (the consent is then used up): `unknown_product` or `invalid_dose_records` when the
    /// person's records give no status, `invalid_argument`, `random_source`.
    ///
    /// When several calls complete one consent at once, exactly one can succeed.
    pub fn complete(&self, consent_id: &str, otp: &str, now: u64) -> Result<String> {
        self.complete_checked(None, consent_id, otp, now)
    }

    /// [`complete`](ConsentCompleter::complete) for a caller that may only complete consents
    /// begun for `audience` (a service with many verifier clients): a consent begun for
    /// another audience answers `consent_not_found` and is left as it was (no attempt is
    /// used), so one client can neither use nor spend another's consent.
    pub fn complete_for_audience(
        &self,
        audience: &str,
        consent_id: &str,
        otp: &str,
        now: u64,
    ) -> Result<String> {
        self.complete_checked(Some(audience), consent_id, otp, now)
    }

    fn complete_checked(
        &self,
        audience: Option<&str>,
        consent_id: &str,
        otp: &str,
        now: u64,
    ) -> Result<String> {
        let not_found = || Error::new(ErrorCode::ConsentNotFound, "no pending consent has this id");
        if consent_id.len() != encode_segment(&[0u8; CONSENT_ID_BYTES]).len() {
            return Err(not_found());
        }
        // Over-long input is hashed only up to a bound; it cannot match a 6-digit OTP anyway.
        let typed = &otp.as_bytes()[..otp.len().min(64)];
        let offered = self.shared.mac(b"otp", &[consent_id.as_bytes(), typed]);
        let mut step: Option<Step> = None;
        let found = self.shared.store.update(consent_id, &mut |consent| {
            if audience.is_some_and(|a| a != consent.audience) {
                step = None;
                return StoreAction::Keep;
            }
            if now >= consent.expires_at {
                step = Some(Step::Expired);
                return StoreAction::Remove;
            }
            // A consent with nobody behind it never matches, with the same constant-time
            // comparison as one that has somebody.
            let matches = offered.ct_eq(&consent.otp_mac) & consent.outcome.can_complete();
            if bool::from(matches) {
                step = Some(Step::Matched {
                    outcome: consent.outcome.take(),
                    audience: std::mem::take(&mut consent.audience),
                    nonce: std::mem::take(&mut consent.nonce),
                });
                return StoreAction::Remove;
            }
            consent.attempts_left = consent.attempts_left.saturating_sub(1);
            if consent.attempts_left == 0 {
                step = Some(Step::Exhausted);
                StoreAction::Remove
            } else {
                step = Some(Step::Mismatch);
                StoreAction::Keep
            }
        })?;
        match step.filter(|_| found) {
            None => Err(not_found()),
            Some(Step::Expired) => Err(Error::new(
                ErrorCode::ConsentExpired,
                "the OTP has expired; begin again",
            )),
            Some(Step::Mismatch) => {
                Err(Error::new(ErrorCode::OtpMismatch, "the OTP does not match"))
            }
            Some(Step::Exhausted) => Err(Error::new(
                ErrorCode::AttemptsExhausted,
                "too many wrong OTPs; the consent is closed, begin again",
            )),
            Some(Step::Matched {
                outcome,
                audience,
                nonce,
            }) => match outcome {
                Resolved::Issue(status, subject) => self.issuer.issue(
                    &TokenRequest {
                        audience: &audience,
                        nonce: &nonce,
                        subject: &subject,
                        status,
                        ttl: self.shared.config.token_ttl,
                    },
                    now,
                ),
                Resolved::Refuse(code) => Err(Error::new(
                    code,
                    "the person's dose records give no vaccination status",
                )),
                // Unreachable through `can_complete`; fail closed all the same.
                Resolved::Nobody => Err(not_found()),
            },
        }
    }
}

impl fmt::Debug for ConsentCompleter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsentCompleter")
            .field("issuer", &self.issuer.issuer())
            .field("kid", &self.issuer.signing_key().kid())
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

enum Step {
    Expired,
    Mismatch,
    Exhausted,
    Matched {
        outcome: Resolved,
        audience: String,
        nonce: String,
    },
}

/// The issuer side of KYC-VS, both steps in one value: a [`ConsentStarter`] and a
/// [`ConsentCompleter`] sharing one OTP key, limits and consent store. It looks people up,
/// runs the OTP consent and signs a token carrying only their status, for one verifier,
/// under a pairwise pseudonym.
///
/// 1. [`begin`](IssuanceService::begin)`(&ConsentRequest { mobile, name, audience, nonce },
///    now)` always answers a [`ConsentChallenge`]: a consent id and an OTP for the host to
///    send by SMS to `mobile`. When nobody of that name is registered under that number, the
///    OTP is made, hashed and stored in the same way but can never complete: the caller
///    cannot tell an unknown mobile number or a wrong name from a hit, neither from `begin`
///    nor from `complete` (which answers `otp_mismatch`, then `attempts_exhausted`, as for a
///    wrong OTP).
/// 2. [`complete`](IssuanceService::complete)`(consent_id, otp, now)` checks the OTP and
///    returns the signed token: `vs` from the person's dose records through the
///    [`VaccineSchedule`], `aud` and `nonce` as given to `begin`, `sub` the pairwise
///    pseudonym of (audience, beneficiary id) under the [`PseudonymKey`].
///
/// Limits ([`ConsentConfig`]): an OTP lives 180 s, allows 3 attempts and is single use; 5
/// begins per mobile number per rolling hour. The OTP is stored only as HMAC-SHA-256 under
/// the OTP key and compared in constant time. No mobile number, name or OTP appears in a
/// token, an error detail or `Debug`. `Send + Sync`: share it in an `Arc`.
///
/// ```
/// use kycvs_core::{ConsentRequest, ErrorCode, IssuanceService, Issuer, JsonlRegistry, Policy,
///                  SigningKey, TrustStore, VaccinationStatus, Verifier};
/// use std::sync::Arc;
///
/// # fn main() -> Result<(), kycvs_core::Error> {
/// let key = SigningKey::generate()?;
/// let mut trust = TrustStore::new();
/// trust.add(key.public_key().clone(), "cowin.example")?;
/// let service = IssuanceService::builder(
///     Issuer::new(key, "cowin.example")?,
///     Arc::new(JsonlRegistry::sample()),
/// )
/// .build()?;
/// let now = 1_700_000_000;
///
/// // B000002 in the sample registry: two Covishield doses.
/// let request = ConsentRequest {
///     mobile: "+91 95567-19886",
///     name: "సాయి దేవి",
///     audience: "irctc.example",
///     nonce: "PNR-4711",
/// };
/// let challenge = service.begin(&request, now)?;
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
    starter: ConsentStarter,
    completer: ConsentCompleter,
}

impl IssuanceService {
    /// A builder for a service signing with `issuer` over `registry` (see
    /// [`IssuanceBuilder`] for the defaults).
    pub fn builder(issuer: Issuer, registry: Arc<dyn Registry>) -> IssuanceBuilder {
        let mut builder = IssuanceBuilder::new();
        builder.issuer(issuer).registry(registry);
        builder
    }

    /// The begin side.
    pub fn starter(&self) -> &ConsentStarter {
        &self.starter
    }

    /// The complete side.
    pub fn completer(&self) -> &ConsentCompleter {
        &self.completer
    }

    /// The issuer (its id and key, to publish the public key).
    pub fn issuer(&self) -> &Issuer {
        self.completer.issuer()
    }

    /// The schedule table in use.
    pub fn schedule(&self) -> &VaccineSchedule {
        self.starter.schedule()
    }

    /// The limits in use.
    pub fn config(&self) -> ConsentConfig {
        self.starter.config()
    }

    /// The `sub` this service gives beneficiary `beneficiary_id` at verifier `audience`.
    pub fn subject(&self, audience: &str, beneficiary_id: &str) -> String {
        self.starter.subject(audience, beneficiary_id)
    }

    /// [`ConsentStarter::begin`].
    pub fn begin(&self, request: &ConsentRequest<'_>, now: u64) -> Result<ConsentChallenge> {
        self.starter.begin(request, now)
    }

    /// [`ConsentCompleter::complete`].
    pub fn complete(&self, consent_id: &str, otp: &str, now: u64) -> Result<String> {
        self.completer.complete(consent_id, otp, now)
    }

    /// See [`ConsentCompleter::complete_for_audience`].
    pub fn complete_for_audience(
        &self,
        audience: &str,
        consent_id: &str,
        otp: &str,
        now: u64,
    ) -> Result<String> {
        self.completer
            .complete_for_audience(audience, consent_id, otp, now)
    }
}

impl fmt::Debug for IssuanceService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuanceService")
            .field("issuer", &self.completer.issuer.issuer())
            .field("kid", &self.completer.issuer.signing_key().kid())
            .field("schedule", &self.starter.schedule)
            .field("config", &self.starter.shared.config)
            .finish_non_exhaustive()
    }
}

/// Where the consent store comes from.
#[derive(Clone)]
enum StoreChoice {
    Memory,
    Given(Arc<dyn ConsentStore>),
    File(PathBuf),
}

/// The parts a builder makes itself when not given them, made at its first build and shared
/// by everything it builds afterwards.
#[derive(Default)]
struct Made {
    otp_key: Option<Arc<Zeroizing<[u8; OTP_KEY_LEN]>>>,
    pseudonym_key: Option<PseudonymKey>,
    store: Option<Arc<dyn ConsentStore>>,
}

/// The one way to build the issuer side: an [`IssuanceService`] (both steps), a
/// [`ConsentStarter`] (begin only) or a [`ConsentCompleter`] (complete only).
///
/// Defaults, for every part not set: the built-in [`VaccineSchedule`]; a random
/// [`PseudonymKey`] and a random OTP key; a [`MemoryConsentStore`]; the default
/// [`ConsentConfig`]. The parts a builder makes itself are made at its first build and
/// shared by everything it builds afterwards (until the part is set), so a starter and a
/// completer built from one builder work together. For sides in different processes, give
/// each the same OTP key and one shared store (for example
/// [`consent_file`](IssuanceBuilder::consent_file)), and the begin side a kept pseudonym key.
///
/// ```
/// use kycvs_core::{ConsentCompleter, ConsentStarter, Issuer, JsonlRegistry, SigningKey};
/// use std::sync::Arc;
///
/// # fn main() -> Result<(), kycvs_core::Error> {
/// let otp_key = [7u8; 32];
/// let starter = ConsentStarter::builder(Arc::new(JsonlRegistry::sample()))
///     .otp_key(&otp_key)
///     .build_starter()?;
/// let completer = ConsentCompleter::builder(Issuer::new(SigningKey::generate()?, "cowin.example")?)
///     .otp_key(&otp_key)
///     .build_completer()?;
/// # let _ = (starter, completer);
/// # Ok(())
/// # }
/// ```
pub struct IssuanceBuilder {
    issuer: Option<Issuer>,
    registry: Option<Arc<dyn Registry>>,
    schedule: Option<VaccineSchedule>,
    pseudonym_key: Option<PseudonymKey>,
    otp_key: Option<Zeroizing<Vec<u8>>>,
    store: StoreChoice,
    config: ConsentConfig,
    made: Mutex<Made>,
}

impl Default for IssuanceBuilder {
    fn default() -> Self {
        IssuanceBuilder::new()
    }
}

impl IssuanceBuilder {
    /// A builder with nothing set (every default; no issuer, no registry).
    pub fn new() -> IssuanceBuilder {
        IssuanceBuilder {
            issuer: None,
            registry: None,
            schedule: None,
            pseudonym_key: None,
            otp_key: None,
            store: StoreChoice::Memory,
            config: ConsentConfig::default(),
            made: Mutex::new(Made::default()),
        }
    }

    /// Signs with `issuer` (needed by the complete side).
    pub fn issuer(&mut self, issuer: Issuer) -> &mut IssuanceBuilder {
        self.issuer = Some(issuer);
        self
    }

    /// Looks people up in `registry` (needed by the begin side).
    pub fn registry(&mut self, registry: Arc<dyn Registry>) -> &mut IssuanceBuilder {
        self.registry = Some(registry);
        self
    }

    /// Uses `schedule` for the status rules instead of the built-in table.
    pub fn schedule(&mut self, schedule: VaccineSchedule) -> &mut IssuanceBuilder {
        self.schedule = Some(schedule);
        self
    }

    /// Uses `key` for pairwise subjects (keep it to keep subjects stable across restarts).
    pub fn pseudonym_key(&mut self, key: PseudonymKey) -> &mut IssuanceBuilder {
        self.pseudonym_key = Some(key);
        self
    }

    /// Uses `key` ([`OTP_KEY_LEN`] bytes, checked when built) to MAC OTPs and mobile numbers
    /// instead of a random key. Keep it secret, and give it to both sides of one
    /// [`ConsentStore`]: a consent begun under one key completes only under the same key.
    pub fn otp_key(&mut self, key: &[u8]) -> &mut IssuanceBuilder {
        self.otp_key = Some(Zeroizing::new(key.to_vec()));
        self
    }

    /// Keeps pending consents and rate counters in `store` instead of a memory store.
    pub fn consent_store(&mut self, store: Arc<dyn ConsentStore>) -> &mut IssuanceBuilder {
        self.store = StoreChoice::Given(store);
        self.lock_made().store = None;
        self
    }

    /// Keeps pending consents and rate counters in a [`FileConsentStore`] at `path`, opened
    /// when built.
    pub fn consent_file(&mut self, path: impl Into<PathBuf>) -> &mut IssuanceBuilder {
        self.store = StoreChoice::File(path.into());
        self.lock_made().store = None;
        self
    }

    /// Uses `config`'s limits (checked when built).
    pub fn config(&mut self, config: ConsentConfig) -> &mut IssuanceBuilder {
        self.config = config;
        self
    }

    /// Builds both sides in one [`IssuanceService`]. Errors: `invalid_argument` without an
    /// issuer or a registry, or for a limit out of range (see [`ConsentConfig::validate`]);
    /// `invalid_key` for an OTP key of another length; `consent_store_unavailable` when the
    /// consent file cannot be opened; `random_source`.
    pub fn build(&self) -> Result<IssuanceService> {
        Ok(IssuanceService {
            starter: self.build_starter()?,
            completer: self.build_completer()?,
        })
    }

    /// Builds the begin side. Errors: as for [`build`](IssuanceBuilder::build), needing a
    /// registry but no issuer.
    pub fn build_starter(&self) -> Result<ConsentStarter> {
        let registry = self.registry.clone().ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "the begin side needs a registry",
            )
        })?;
        let shared = self.shared()?;
        let pseudonyms = match &self.pseudonym_key {
            Some(key) => key.clone(),
            None => {
                let mut made = self.lock_made();
                match &made.pseudonym_key {
                    Some(key) => key.clone(),
                    None => made.pseudonym_key.insert(PseudonymKey::generate()?).clone(),
                }
            }
        };
        Ok(ConsentStarter {
            registry,
            schedule: self.schedule.clone().unwrap_or_default(),
            pseudonyms,
            shared,
        })
    }

    /// Builds the complete side. Errors: as for [`build`](IssuanceBuilder::build), needing
    /// an issuer but no registry.
    pub fn build_completer(&self) -> Result<ConsentCompleter> {
        let issuer = self.issuer.clone().ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "the complete side needs an issuer",
            )
        })?;
        Ok(ConsentCompleter {
            issuer,
            shared: self.shared()?,
        })
    }

    fn lock_made(&self) -> std::sync::MutexGuard<'_, Made> {
        // Each field is set in one step, so a panic elsewhere leaves nothing half-made.
        self.made.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn shared(&self) -> Result<Shared> {
        self.config.validate()?;
        let mut made = self.lock_made();
        let otp_key = match &self.otp_key {
            Some(key) => {
                let key: &[u8; OTP_KEY_LEN] = key.as_slice().try_into().map_err(|_| {
                    Error::new(
                        ErrorCode::InvalidKey,
                        format!("an OTP key is {OTP_KEY_LEN} bytes"),
                    )
                })?;
                Arc::new(Zeroizing::new(*key))
            }
            None => match &made.otp_key {
                Some(key) => key.clone(),
                None => {
                    let mut key = Zeroizing::new([0u8; OTP_KEY_LEN]);
                    os_random(key.as_mut())?;
                    made.otp_key.insert(Arc::new(key)).clone()
                }
            },
        };
        let store = match (&self.store, &made.store) {
            (StoreChoice::Given(store), _) => store.clone(),
            (_, Some(store)) => store.clone(),
            (StoreChoice::Memory, None) => made
                .store
                .insert(Arc::new(MemoryConsentStore::new()))
                .clone(),
            (StoreChoice::File(path), None) => made
                .store
                .insert(Arc::new(FileConsentStore::open(path.clone())?))
                .clone(),
        };
        Ok(Shared {
            otp_key,
            store,
            config: self.config,
        })
    }
}

impl fmt::Debug for IssuanceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuanceBuilder")
            .field("issuer", &self.issuer.as_ref().map(|i| i.issuer()))
            .field("registry", &self.registry.is_some())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
