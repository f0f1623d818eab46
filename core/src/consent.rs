//! The OTP consent flow's parts: one-time passwords, pending consents and where they are
//! kept. [`crate::IssuanceService`] runs the flow.

use crate::error::{Error, ErrorCode, Result};
use crate::keys::os_random;
use crate::schedule::DoseRecord;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

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
/// `Debug` never shows it and it has no `Display`.
#[derive(Clone, PartialEq, Eq)]
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

/// A consent waiting for its OTP. Opaque: a [`ConsentStore`] keeps it and hands it back, and
/// only the service reads it. Holds no mobile number, no name and no OTP (only a keyed hash
/// of it); zeroized on drop; `Debug` shows only the expiry.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PendingConsent {
    pub(crate) otp_mac: [u8; 32],
    #[zeroize(skip)]
    pub(crate) expires_at: u64,
    pub(crate) attempts_left: u32,
    /// `None` when no beneficiary matched: the OTP then never completes.
    #[zeroize(skip)]
    pub(crate) beneficiary: Option<PendingBeneficiary>,
    pub(crate) audience: String,
    pub(crate) nonce: String,
}

#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PendingBeneficiary {
    pub(crate) id: String,
    pub(crate) doses: Vec<DoseRecord>,
}

impl PendingConsent {
    /// When the OTP expires (Unix seconds); a store may drop the consent from then on.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
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

    /// Runs `f` on the consent stored under `id`, then keeps or removes it as `f` answers;
    /// returns false (without calling `f`) when there is none.
    fn update(&self, id: &str, f: &mut dyn FnMut(&mut PendingConsent) -> StoreAction) -> bool;

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

    fn update(&self, id: &str, f: &mut dyn FnMut(&mut PendingConsent) -> StoreAction) -> bool {
        self.lock().update(id, f)
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
            while let Some((expires, _)) = state.consent_order.first() {
                if *expires > now {
                    break;
                }
                let (_, old) = state.consent_order.pop_first().expect("first exists");
                state.consents.remove(&old);
            }
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
            while let Some((until, _)) = state.rate_order.first() {
                if *until > now {
                    break;
                }
                let (_, old) = state.rate_order.pop_first().expect("first exists");
                state.rates.remove(&old);
            }
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
            beneficiary: None,
            audience: "a".into(),
            nonce: "n".into(),
        }
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
        assert!(!store.update("a", &mut |_| StoreAction::Keep));
        assert!(store.update("b", &mut |_| StoreAction::Remove));
        assert!(!store.update("b", &mut |_| StoreAction::Keep));
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
