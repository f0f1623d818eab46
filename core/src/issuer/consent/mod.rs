//! The OTP consent flow's parts: one-time passwords, pending consents and where they are
//! kept. [`crate::IssuanceService`] runs the flow.

pub(crate) mod file;

use crate::crypto::keys::os_random;
use crate::error::{Error, ErrorCode, Result};
use crate::expiry::drain_expired;
use crate::jose::token::{decode_segment, encode_segment};
use crate::status::VaccinationStatus;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// The number of digits in an OTP.
pub const OTP_DIGITS: usize = 6;
/// The default OTP lifetime, in seconds.
pub const DEFAULT_OTP_TTL: u64 = 180;
/// The default number of OTP attempts per consent.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// The default number of consents begun per mobile number per rate window.
pub const DEFAULT_RATE_LIMIT: u32 = 5;
/// The default rate window, in seconds (a rolling hour).
pub const DEFAULT_RATE_WINDOW: u64 = 3_600;
/// The default number of pending consents a [`MemoryConsentStore`] holds.
pub const DEFAULT_CONSENT_CAPACITY: usize = 65_536;
/// The default number of mobile numbers a [`MemoryConsentStore`] keeps rate counters for.
pub const DEFAULT_RATE_CAPACITY: usize = 65_536;
/// Random bytes in a consent id (128 bits; 22 base64url characters).
pub const CONSENT_ID_BYTES: usize = 16;

/// A one-time password: six decimal digits for the host to send by SMS. Zeroized on drop;
/// `Debug` never shows it and it has no `Display`; `==` compares in constant time.
#[derive(Clone)]
pub struct Otp(Zeroizing<String>);

impl Otp {
    /// Draws six uniform decimal digits from the OS random source (rejection sampling: no
    /// modulo bias). Error: `random_source`.
    pub(crate) fn generate() -> Result<Otp> {
        const RANGE: u32 = 1_000_000;
        // The largest multiple of RANGE not above 2^32: 32-bit values at or above it are
        // redrawn, so every residue is equally likely.
        const LIMIT: u64 = (1u64 << 32) / RANGE as u64 * RANGE as u64;
        loop {
            let mut bytes = Zeroizing::new([0u8; 4]);
            os_random(bytes.as_mut())?;
            let mut value = u32::from_le_bytes(*bytes);
            if u64::from(value) < LIMIT {
                let otp = Otp(Zeroizing::new(format!("{:06}", value % RANGE)));
                value.zeroize();
                return Ok(otp);
            }
        }
    }

    /// The digits, for the host to deliver.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl ConstantTimeEq for Otp {
    fn ct_eq(&self, other: &Otp) -> subtle::Choice {
        self.0.as_bytes().ct_eq(other.0.as_bytes())
    }
}

impl PartialEq for Otp {
    fn eq(&self, other: &Otp) -> bool {
        bool::from(self.ct_eq(other))
    }
}

impl Eq for Otp {}

impl fmt::Debug for Otp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Otp(<redacted>)")
    }
}

/// What `begin` answers: the same shape, and the same work behind it, whether or not the
/// person exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentChallenge {
    /// The consent id (128 random bits, base64url), to pass to `complete`.
    pub consent_id: String,
    /// The OTP the host must deliver by SMS to the mobile number it was given.
    pub otp: Otp,
    /// When the OTP expires (Unix seconds).
    pub expires_at: u64,
}

/// A consent waiting for its OTP, holding only what `complete` needs: the OTP's MAC, the
/// expiry, the attempts left, the audience, the nonce, and the outcome `begin` decided (the
/// status and pairwise subject to sign, or the schedule's error code, or nobody). Never a
/// mobile number, a name, a beneficiary id, dose records or an OTP.
///
/// The OTP's MAC and the outcome are zeroized on drop; the audience, the nonce and the expiry
/// are public and are not. `Debug` shows only the expiry. A [`ConsentStore`] keeps it as it
/// is or as the text of [`PendingConsent::to_json`] (for a store outside the process).
#[derive(Clone)]
pub struct PendingConsent {
    pub(crate) otp_mac: [u8; 32],
    pub(crate) expires_at: u64,
    pub(crate) attempts_left: u32,
    pub(crate) audience: String,
    pub(crate) nonce: String,
    pub(crate) outcome: PendingOutcome,
}

/// What a correct OTP leads to, decided by `begin`. Flat, so that zeroizing wipes all of it.
#[derive(Clone, Default, Zeroize)]
pub(crate) struct PendingOutcome {
    /// `NOBODY`, `ISSUE` or `REFUSE`.
    kind: u8,
    /// The status (`ISSUE`) or the error code's number (`REFUSE`).
    value: u32,
    /// The pairwise subject (`ISSUE`), empty otherwise.
    subject: String,
}

/// What [`PendingOutcome`] resolves to after a correct OTP.
pub(crate) enum Resolved {
    /// Nobody matched: the OTP never completes.
    Nobody,
    /// Sign a token with this status and subject.
    Issue(VaccinationStatus, Zeroizing<String>),
    /// Answer this error code (the person's records give no status).
    Refuse(ErrorCode),
}

impl PendingOutcome {
    const NOBODY: u8 = 0;
    const ISSUE: u8 = 1;
    const REFUSE: u8 = 2;

    /// Nobody is registered under that mobile number and name.
    pub(crate) fn nobody() -> PendingOutcome {
        PendingOutcome::default()
    }

    /// Sign a token with `status` for `subject`.
    pub(crate) fn issue(status: VaccinationStatus, subject: String) -> PendingOutcome {
        PendingOutcome {
            kind: Self::ISSUE,
            value: u32::from(status.as_u8()),
            subject,
        }
    }

    /// Answer `code` after a correct OTP.
    pub(crate) fn refuse(code: ErrorCode) -> PendingOutcome {
        PendingOutcome {
            kind: Self::REFUSE,
            value: code.number(),
            subject: String::new(),
        }
    }

    /// True when a correct OTP may complete this consent.
    pub(crate) fn can_complete(&self) -> subtle::Choice {
        !self.kind.ct_eq(&Self::NOBODY)
    }

    /// Takes the outcome out, leaving nobody (and wiping what was there).
    pub(crate) fn take(&mut self) -> Resolved {
        let resolved = match self.kind {
            Self::ISSUE => match VaccinationStatus::try_from(u64::from(self.value)) {
                Ok(status) => Resolved::Issue(status, Zeroizing::new(self.subject.clone())),
                Err(_) => Resolved::Nobody,
            },
            Self::REFUSE => match ErrorCode::from_number(self.value) {
                Some(code) => Resolved::Refuse(code),
                None => Resolved::Nobody,
            },
            _ => Resolved::Nobody,
        };
        self.zeroize();
        resolved
    }

    /// Checks a decoded outcome's shape.
    fn is_well_formed(&self) -> bool {
        match self.kind {
            Self::NOBODY => self.value == 0 && self.subject.is_empty(),
            Self::ISSUE => {
                VaccinationStatus::try_from(u64::from(self.value)).is_ok()
                    && self.subject.len() == 43
                    && decode_segment(&self.subject, "subject").is_ok()
            }
            Self::REFUSE => {
                matches!(
                    ErrorCode::from_number(self.value),
                    Some(ErrorCode::UnknownProduct | ErrorCode::InvalidDoseRecords)
                ) && self.subject.is_empty()
            }
            _ => false,
        }
    }
}

impl Drop for PendingConsent {
    fn drop(&mut self) {
        self.otp_mac.zeroize();
        self.outcome.zeroize();
    }
}

/// The stored shape of a [`PendingConsent`] (see [`PendingConsent::to_json`]).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredConsent {
    otp_mac: String,
    expires_at: u64,
    attempts_left: u32,
    audience: String,
    nonce: String,
    outcome: u8,
    value: u32,
    subject: String,
}

impl Drop for StoredConsent {
    fn drop(&mut self) {
        self.otp_mac.zeroize();
        self.value.zeroize();
        self.subject.zeroize();
    }
}

impl PendingConsent {
    /// When the OTP expires (Unix seconds); a store may drop the consent from then on.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// The consent as one line of JSON, for a store that keeps it outside the process (a
    /// database row, a Redis value): `{"otp_mac","expires_at","attempts_left","audience",
    /// "nonce","outcome","value","subject"}`. It holds the OTP's MAC and the outcome (a status
    /// and a pairwise subject): keep it as confidential as the consent itself. Zeroized on
    /// drop.
    pub fn to_json(&self) -> Zeroizing<String> {
        Zeroizing::new(serde_json::to_string(&self.to_stored()).expect("plain structs serialize"))
    }

    /// Reads what [`PendingConsent::to_json`] wrote. Error: `consent_store_unavailable` when
    /// it is not such a consent (the detail never quotes it).
    pub fn from_json(text: &[u8]) -> Result<PendingConsent> {
        let stored: StoredConsent = serde_json::from_slice(text)
            .map_err(|_| Error::new(ErrorCode::ConsentStoreUnavailable, "not a pending consent"))?;
        PendingConsent::from_stored(stored).map_err(|what| {
            Error::new(
                ErrorCode::ConsentStoreUnavailable,
                format!("not a pending consent: {what}"),
            )
        })
    }

    pub(crate) fn to_stored(&self) -> StoredConsent {
        StoredConsent {
            otp_mac: encode_segment(&self.otp_mac),
            expires_at: self.expires_at,
            attempts_left: self.attempts_left,
            audience: self.audience.clone(),
            nonce: self.nonce.clone(),
            outcome: self.outcome.kind,
            value: self.outcome.value,
            subject: self.outcome.subject.clone(),
        }
    }

    pub(crate) fn from_stored(
        stored: StoredConsent,
    ) -> std::result::Result<PendingConsent, String> {
        let mac = Zeroizing::new(decode_segment(&stored.otp_mac, "otp_mac").unwrap_or_default());
        let otp_mac: [u8; 32] = mac
            .as_slice()
            .try_into()
            .map_err(|_| "otp_mac is not 32 bytes of base64url".to_owned())?;
        let outcome = PendingOutcome {
            kind: stored.outcome,
            value: stored.value,
            subject: stored.subject.clone(),
        };
        if !outcome.is_well_formed() {
            return Err("the outcome is not nobody, a status and subject, or a refusal".into());
        }
        if !crate::jose::token::is_valid_id(&stored.audience)
            || !crate::jose::token::is_valid_nonce(&stored.nonce)
        {
            return Err("the audience or nonce is not well formed".into());
        }
        Ok(PendingConsent {
            otp_mac,
            expires_at: stored.expires_at,
            attempts_left: stored.attempts_left,
            audience: stored.audience.clone(),
            nonce: stored.nonce.clone(),
            outcome,
        })
    }
}

impl fmt::Debug for PendingConsent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingConsent")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What a [`ConsentStore::update`] callback asks the store to do with the consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreAction {
    /// Keep it (with the callback's changes).
    Keep,
    /// Remove it.
    Remove,
}

/// Where pending consents and per-mobile rate counters are kept. Implementations must be
/// safe to share across threads and must run each `update` callback atomically with respect
/// to other calls for the same id (two concurrent completes must not both see the consent).
///
/// Rate counters are keyed by a keyed hash of the normalised mobile number, never the
/// number itself.
pub trait ConsentStore: Send + Sync {
    /// Stores `consent` under `id` at time `now`. Error: `consent_store_full` when there is
    /// no room even after dropping expired consents.
    fn insert(&self, id: &str, consent: PendingConsent, now: u64) -> Result<()>;

    /// Runs `f` on the consent stored under `id`, then keeps or removes it as `f` answers,
    /// all in one atomic step (a database transaction, a Redis `WATCH`/`MULTI`, a lock);
    /// returns `Ok(false)` (without calling `f`) when there is none. Error: the store's own
    /// (`consent_store_unavailable`): `complete` then issues nothing. A store that cannot
    /// tell whether its change was saved must answer an error, never `Ok(true)`.
    fn update(
        &self,
        id: &str,
        f: &mut dyn FnMut(&mut PendingConsent) -> StoreAction,
    ) -> Result<bool>;

    /// Counts one `begin` for the mobile number whose keyed hash is `key`, at `now`.
    /// Error: `rate_limited` when `limit` begins were already counted in the rolling window
    /// `(now - window, now]` (the refused begin is not counted); `consent_store_full` when
    /// there is no room for a new counter.
    fn count_begin(&self, key: &[u8; 32], now: u64, window: u64, limit: u32) -> Result<()>;
}

/// The in-memory [`ConsentStore`]: bounded, expired consents and idle counters evicted
/// first, `O(log n)` per call, one mutex.
pub struct MemoryConsentStore {
    consent_capacity: usize,
    rate_capacity: usize,
    state: Mutex<StoreState>,
}

#[derive(Default)]
pub(crate) struct StoreState {
    pub(crate) consents: HashMap<String, PendingConsent>,
    /// (expires_at, id), oldest first
    pub(crate) consent_order: BTreeSet<(u64, String)>,
    pub(crate) rates: HashMap<[u8; 32], RateEntry>,
    /// (keep_until, key), oldest first
    pub(crate) rate_order: BTreeSet<(u64, [u8; 32])>,
}

pub(crate) struct RateEntry {
    pub(crate) times: VecDeque<u64>,
    pub(crate) keep_until: u64,
}

impl MemoryConsentStore {
    /// A store for [`DEFAULT_CONSENT_CAPACITY`] consents and [`DEFAULT_RATE_CAPACITY`]
    /// mobile numbers' rate counters.
    pub fn new() -> MemoryConsentStore {
        MemoryConsentStore::with_capacity(DEFAULT_CONSENT_CAPACITY, DEFAULT_RATE_CAPACITY)
    }

    /// A store for at most `consents` pending consents and rate counters for at most
    /// `mobiles` mobile numbers (each at least 1).
    pub fn with_capacity(consents: usize, mobiles: usize) -> MemoryConsentStore {
        MemoryConsentStore {
            consent_capacity: consents.max(1),
            rate_capacity: mobiles.max(1),
            state: Mutex::new(StoreState::default()),
        }
    }

    /// The consents held now (live or not yet evicted).
    pub fn len(&self) -> usize {
        self.lock().consents.len()
    }

    /// True when no consent is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StoreState> {
        // Every mutation below leaves the maps consistent before anything that could panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for MemoryConsentStore {
    fn default() -> Self {
        MemoryConsentStore::new()
    }
}

impl fmt::Debug for MemoryConsentStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("MemoryConsentStore")
            .field("consents", &state.consents.len())
            .field("consent_capacity", &self.consent_capacity)
            .field("rate_counters", &state.rates.len())
            .field("rate_capacity", &self.rate_capacity)
            .finish()
    }
}

impl ConsentStore for MemoryConsentStore {
    fn insert(&self, id: &str, consent: PendingConsent, now: u64) -> Result<()> {
        self.lock().insert(id, consent, now, self.consent_capacity)
    }

    fn update(
        &self,
        id: &str,
        f: &mut dyn FnMut(&mut PendingConsent) -> StoreAction,
    ) -> Result<bool> {
        Ok(self.lock().update(id, f))
    }

    fn count_begin(&self, key: &[u8; 32], now: u64, window: u64, limit: u32) -> Result<()> {
        self.lock()
            .count_begin(key, now, window, limit, self.rate_capacity)
    }
}

// The store's rules, shared by the memory store and the file store (which loads a
// `StoreState`, runs one of these, and writes it back).
impl StoreState {
    pub(crate) fn insert(
        &mut self,
        id: &str,
        consent: PendingConsent,
        now: u64,
        capacity: usize,
    ) -> Result<()> {
        let state = self;
        if state.consents.len() >= capacity {
            let consents = &mut state.consents;
            drain_expired(&mut state.consent_order, now, |old| {
                consents.remove(&old);
            });
        }
        if state.consents.len() >= capacity {
            return Err(Error::new(
                ErrorCode::ConsentStoreFull,
                "the consent store is full of live consents",
            ));
        }
        if let Some(old) = state.consents.remove(id) {
            state.consent_order.remove(&(old.expires_at, id.to_owned()));
        }
        state
            .consent_order
            .insert((consent.expires_at, id.to_owned()));
        state.consents.insert(id.to_owned(), consent);
        Ok(())
    }

    pub(crate) fn update(
        &mut self,
        id: &str,
        f: &mut dyn FnMut(&mut PendingConsent) -> StoreAction,
    ) -> bool {
        let state = self;
        let Some(consent) = state.consents.get_mut(id) else {
            return false;
        };
        let before = consent.expires_at;
        let action = f(consent);
        let after = consent.expires_at;
        match action {
            StoreAction::Remove => {
                state.consents.remove(id);
                state.consent_order.remove(&(before, id.to_owned()));
            }
            StoreAction::Keep if before != after => {
                state.consent_order.remove(&(before, id.to_owned()));
                state.consent_order.insert((after, id.to_owned()));
            }
            StoreAction::Keep => {}
        }
        true
    }

    pub(crate) fn count_begin(
        &mut self,
        key: &[u8; 32],
        now: u64,
        window: u64,
        limit: u32,
        capacity: usize,
    ) -> Result<()> {
        let state = self;
        let keep_until = now.saturating_add(window);
        if let Some(entry) = state.rates.get_mut(key) {
            while entry
                .times
                .front()
                .is_some_and(|&t| t.saturating_add(window) <= now)
            {
                entry.times.pop_front();
            }
            if entry.times.len() >= limit as usize {
                return Err(Error::new(
                    ErrorCode::RateLimited,
                    "too many consents begun for this mobile number; try again later",
                ));
            }
            entry.times.push_back(now);
            state.rate_order.remove(&(entry.keep_until, *key));
            entry.keep_until = keep_until;
            state.rate_order.insert((keep_until, *key));
            return Ok(());
        }
        if limit == 0 {
            return Err(Error::new(
                ErrorCode::RateLimited,
                "too many consents begun for this mobile number; try again later",
            ));
        }
        if state.rates.len() >= capacity {
            let rates = &mut state.rates;
            drain_expired(&mut state.rate_order, now, |old| {
                rates.remove(&old);
            });
        }
        if state.rates.len() >= capacity {
            return Err(Error::new(
                ErrorCode::ConsentStoreFull,
                "the consent store has no room for another mobile number's rate counter",
            ));
        }
        state.rates.insert(
            *key,
            RateEntry {
                times: VecDeque::from([now]),
                keep_until,
            },
        );
        state.rate_order.insert((keep_until, *key));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(expires_at: u64) -> PendingConsent {
        PendingConsent {
            otp_mac: [1; 32],
            expires_at,
            attempts_left: 3,
            audience: "aud".into(),
            nonce: "n".into(),
            outcome: PendingOutcome::nobody(),
        }
    }

    #[test]
    fn pending_consent_round_trips_and_refuses_bad_text() {
        let mut c = pending(100);
        c.outcome = PendingOutcome::issue(
            VaccinationStatus::FullyVaccinated,
            encode_segment(&[3u8; 32]),
        );
        let back = PendingConsent::from_json(c.to_json().as_bytes()).unwrap();
        assert_eq!(back.to_json(), c.to_json());
        assert!(matches!(
            back.clone().outcome.take(),
            Resolved::Issue(VaccinationStatus::FullyVaccinated, _)
        ));
        for bad in [&b"{}"[..], b"[]", b"not json"] {
            let err = PendingConsent::from_json(bad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::ConsentStoreUnavailable);
        }
        let text = c.to_json().replace("\"outcome\":1", "\"outcome\":2");
        assert!(PendingConsent::from_json(text.as_bytes()).is_err());
    }

    #[test]
    fn otp_equality_is_by_value() {
        let a = Otp(Zeroizing::new("123456".into()));
        assert_eq!(a, Otp(Zeroizing::new("123456".into())));
        assert_ne!(a, Otp(Zeroizing::new("123457".into())));
        assert_ne!(a, Otp(Zeroizing::new("12345".into())));
    }

    #[test]
    fn otp_is_six_digits_and_varies() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let otp = Otp::generate().unwrap();
            assert_eq!(otp.expose().len(), OTP_DIGITS);
            assert!(otp.expose().bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(format!("{otp:?}"), "Otp(<redacted>)");
            seen.insert(otp.expose().to_owned());
        }
        assert!(seen.len() > 190);
    }

    #[test]
    fn otp_digits_are_roughly_uniform() {
        // Leading digit over 5,000 draws: each of 0..9 expected 500 times.
        let mut counts = [0u32; 10];
        for _ in 0..5_000 {
            let otp = Otp::generate().unwrap();
            counts[usize::from(otp.expose().as_bytes()[0] - b'0')] += 1;
        }
        assert!(
            counts.iter().all(|&c| (350..650).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn bounded_store_evicts_expired_then_refuses() {
        let store = MemoryConsentStore::with_capacity(2, 2);
        store.insert("a", pending(100), 0).unwrap();
        store.insert("b", pending(200), 0).unwrap();
        let err = store.insert("c", pending(300), 50).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConsentStoreFull);
        store.insert("c", pending(300), 100).unwrap();
        assert_eq!(store.len(), 2);
        assert!(!store.update("a", &mut |_| StoreAction::Keep).unwrap());
        assert!(store.update("b", &mut |_| StoreAction::Remove).unwrap());
        assert!(!store.update("b", &mut |_| StoreAction::Keep).unwrap());
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn rate_counter_is_a_rolling_window() {
        let store = MemoryConsentStore::with_capacity(10, 1);
        let k = [9u8; 32];
        for t in [0, 10, 20] {
            store.count_begin(&k, t, 100, 3).unwrap();
        }
        assert_eq!(
            store.count_begin(&k, 99, 100, 3).unwrap_err().code(),
            ErrorCode::RateLimited
        );
        // The begin at 0 leaves the window at 100.
        store.count_begin(&k, 100, 100, 3).unwrap();
        // Another mobile: the counter table (capacity 1) is full of a live counter.
        assert_eq!(
            store
                .count_begin(&[1u8; 32], 100, 100, 3)
                .unwrap_err()
                .code(),
            ErrorCode::ConsentStoreFull
        );
        // Once the first mobile's counter is idle for a whole window, its room is reused.
        store.count_begin(&[1u8; 32], 200, 100, 3).unwrap();
    }
}
