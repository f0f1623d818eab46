//! Replay protection for verifiers: the [`ReplayStore`] trait (where accepted `jti`s are
//! remembered) and its in-memory implementation, [`ReplayGuard`].

use crate::error::{Error, ErrorCode, Result};
use crate::expiry::drain_expired;
use crate::jose::token::MAX_JTI_LEN;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Mutex;

/// One token id for a [`ReplayStore`] to remember while `now < keep_until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayEntry<'a> {
    /// The token's `jti` (1 to 128 bytes).
    pub jti: &'a str,
    /// The first moment the token can no longer verify (`exp` + leeway), exclusive.
    pub keep_until: u64,
}

/// Where a [`crate::Verifier`] remembers the `jti`s it accepted: the in-process
/// [`ReplayGuard`], or a store shared by many verifier processes (Redis, a database) that
/// the host provides.
///
/// The verifier calls it last, only for tokens that passed every other check, with all of a
/// batch's tokens in one call (one round trip for a remote store), in input order — except
/// that a store that [answers from another process](ReplayStore::is_remote) gets a batch of
/// at least [`MIN_OVERLAPPED_BATCH`] tokens in two calls, so that its round trip overlaps
/// verification.
pub trait ReplayStore: Send + Sync + fmt::Debug {
    /// Records each entry, in order, and answers one verdict per entry: `Ok(())` when its
    /// `jti` was not remembered (it is now), `Err` with code `replayed` when it was — also
    /// for the second of two equal `jti`s in one call. A store that cannot answer for an
    /// entry answers `replay_store_unavailable` for it, never `Ok`. An answer of another
    /// length than `entries` makes the verifier refuse every entry with
    /// `replay_store_unavailable`.
    fn check_and_record_all(&self, entries: &[ReplayEntry<'_>], now: u64) -> Vec<Result<()>>;

    /// True for a store that answers from another process, such as Redis over the network,
    /// whose time is mostly waiting. The verifier then splits a batch of at least
    /// [`MIN_OVERLAPPED_BATCH`] tokens after its first three quarters and checks that part
    /// (on a thread of its own) while it verifies the rest, then checks the rest: two calls,
    /// the first finished before the second begins, so input order still decides which of
    /// two equal `jti`s wins. Defaults to false: one call per batch.
    fn is_remote(&self) -> bool {
        false
    }
}

/// The shortest batch whose replay check a [remote](ReplayStore::is_remote) store gets in
/// two overlapped calls.
pub const MIN_OVERLAPPED_BATCH: usize = 512;

impl ReplayStore for ReplayGuard {
    fn check_and_record_all(&self, entries: &[ReplayEntry<'_>], now: u64) -> Vec<Result<()>> {
        entries
            .iter()
            .map(|e| self.check_and_record(e.jti, e.keep_until, now))
            .collect()
    }
}

/// The default number of `jti`s a [`ReplayGuard`] remembers.
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

/// Remembers each accepted `jti` until a keep-until time its caller computes (a
/// [`crate::Verifier`] passes `exp` + its policy's leeway: the moment the token stops
/// verifying), and refuses a second presentation with `replayed`.
///
/// Bounded: it holds at most `capacity` entries. Entries whose keep-until time has passed
/// are dropped as room is needed. When it is full of entries that are still live it **fails
/// closed**: the new token is refused (code `replayed`, detail "replay cache is full"),
/// because forgetting a live `jti` would let that token be replayed. Size the capacity for
/// the peak number of tokens accepted within one token lifetime plus leeway.
///
/// Safe to share across threads (`&self` methods behind one mutex; each call is
/// `O(log n)`): of N threads presenting the same `jti` at once exactly one succeeds.
#[derive(Debug)]
pub struct ReplayGuard {
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// jti -> keep-until
    seen: HashMap<String, u64>,
    /// (keep-until, jti), oldest first, for eviction
    order: BTreeSet<(u64, String)>,
}

impl ReplayGuard {
    /// A guard remembering at most `capacity` `jti`s, each until the keep-until time it is
    /// recorded with. Error: `invalid_argument` for a capacity of 0.
    pub fn new(capacity: usize) -> Result<ReplayGuard> {
        if capacity == 0 {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "replay guard capacity must be at least 1",
            ));
        }
        Ok(ReplayGuard {
            capacity,
            state: Mutex::new(State::default()),
        })
    }

    /// The most entries it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The entries it holds now (live or not yet evicted).
    pub fn len(&self) -> usize {
        self.lock().seen.len()
    }

    /// True when it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records `jti` as seen at `now` and remembers it while `now < keep_until` (the guard
    /// adds nothing to `keep_until`: pass the last moment the token can verify, exclusive).
    ///
    /// Errors: `replayed` when `jti` was recorded before and is still remembered, or when
    /// the guard is full of live entries (fail closed); `expired` when `now >= keep_until`
    /// (the token can no longer verify, and the guard would not remember it);
    /// `invalid_argument` for an empty `jti` or one longer than [`MAX_JTI_LEN`].
    pub fn check_and_record(&self, jti: &str, keep_until: u64, now: u64) -> Result<()> {
        if jti.is_empty() || jti.len() > MAX_JTI_LEN {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("jti must be 1 to {MAX_JTI_LEN} bytes"),
            ));
        }
        if now >= keep_until {
            return Err(Error::new(
                ErrorCode::Expired,
                "the token is past its keep-until time (exp + leeway)",
            ));
        }
        let mut state = self.lock();
        if let Some(&until) = state.seen.get(jti) {
            if now < until {
                return Err(Error::new(
                    ErrorCode::Replayed,
                    "this jti was already presented",
                ));
            }
            state.seen.remove(jti);
            state.order.remove(&(until, jti.to_owned()));
        }
        if state.seen.len() >= self.capacity {
            state.evict_expired(now);
        }
        if state.seen.len() >= self.capacity {
            return Err(Error::new(
                ErrorCode::Replayed,
                "replay cache is full of unexpired entries; refusing (fail closed)",
            ));
        }
        state.seen.insert(jti.to_owned(), keep_until);
        state.order.insert((keep_until, jti.to_owned()));
        Ok(())
    }

    /// Drops every entry whose keep-until time is `<= now`; returns how many.
    pub fn purge_expired(&self, now: u64) -> usize {
        self.lock().evict_expired(now)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is consistent after every statement that can panic (none should): a
        // poisoned lock is still safe to use.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn evict_expired(&mut self, now: u64) -> usize {
        let seen = &mut self.seen;
        drain_expired(&mut self.order, now, |jti| {
            seen.remove(&jti);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn second_presentation_is_replayed() {
        let guard = ReplayGuard::new(10).unwrap();
        guard.check_and_record("jti-1", 1_060, 900).unwrap();
        let err = guard.check_and_record("jti-1", 1_060, 901).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Replayed);
        // Still remembered up to the last second before keep-until.
        let err = guard.check_and_record("jti-1", 1_060, 1_059).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Replayed);
        // At keep-until the token cannot verify anyway.
        let err = guard.check_and_record("jti-1", 1_060, 1_060).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Expired);
        // And the entry is gone at exactly keep-until, not later.
        assert_eq!(guard.purge_expired(1_059), 0);
        assert_eq!(guard.purge_expired(1_060), 1);
        guard.check_and_record("jti-2", 1_060, 900).unwrap();
        assert_eq!(guard.len(), 1);
    }

    #[test]
    fn full_of_live_entries_fails_closed_then_frees_expired_room() {
        let guard = ReplayGuard::new(2).unwrap();
        guard.check_and_record("a", 100, 10).unwrap();
        guard.check_and_record("b", 200, 10).unwrap();
        let err = guard.check_and_record("c", 300, 10).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Replayed);
        assert!(err.detail().contains("full"));
        // "a" and "b" are both still remembered: nothing was forgotten.
        assert_eq!(
            guard.check_and_record("a", 100, 11).unwrap_err().code(),
            ErrorCode::Replayed
        );
        // Once "a" has expired its slot is reused.
        guard.check_and_record("c", 300, 100).unwrap();
        assert_eq!(guard.len(), 2);
        assert_eq!(
            guard.check_and_record("b", 200, 150).unwrap_err().code(),
            ErrorCode::Replayed
        );
        assert_eq!(guard.purge_expired(200), 1);
        assert_eq!(guard.len(), 1);
    }

    #[test]
    fn arguments_are_checked() {
        assert_eq!(
            ReplayGuard::new(0).unwrap_err().code(),
            ErrorCode::InvalidArgument
        );
        let guard = ReplayGuard::new(1).unwrap();
        assert_eq!(
            guard.check_and_record("", 10, 1).unwrap_err().code(),
            ErrorCode::InvalidArgument
        );
        let long = "x".repeat(MAX_JTI_LEN + 1);
        assert_eq!(
            guard.check_and_record(&long, 10, 1).unwrap_err().code(),
            ErrorCode::InvalidArgument
        );
        // exp near u64::MAX does not overflow.
        guard.check_and_record("y", u64::MAX, 1).unwrap();
    }

    #[test]
    fn concurrent_presentations_of_one_jti_give_exactly_one_ok() {
        for round in 0..20 {
            let guard = Arc::new(ReplayGuard::new(1_000).unwrap());
            let barrier = Arc::new(std::sync::Barrier::new(8));
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let guard = Arc::clone(&guard);
                    let barrier = Arc::clone(&barrier);
                    std::thread::spawn(move || {
                        barrier.wait();
                        guard.check_and_record(&format!("jti-{round}"), 1_000, 500)
                    })
                })
                .collect();
            let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
            assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
            assert!(
                results
                    .iter()
                    .filter_map(|r| r.as_ref().err())
                    .all(|e| e.code() == ErrorCode::Replayed)
            );
        }
    }

    #[test]
    fn guard_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<ReplayGuard>();
    }
}
