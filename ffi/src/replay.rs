//! Replay guards: a verifier that accepts each token once.

use crate::error::{fail, kycvs_result};
use crate::ffi::{free_arc, handle, new_arc, null_argument, try_arc, try_out, try_ref};
use crate::panic::ffi_panic_boundary;
use crate::verify::kycvs_verifier;
use kycvs_core::{Error, ErrorCode, ReplayEntry, ReplayGuard, ReplayStore, Result as CoreResult};
use std::ffi::{CString, c_char, c_int, c_void};
use std::sync::Arc;

/// The default number of token ids a replay guard remembers.
pub const KYCVS_DEFAULT_REPLAY_CAPACITY: usize = 100_000;

const _: () = assert!(KYCVS_DEFAULT_REPLAY_CAPACITY == kycvs_core::DEFAULT_REPLAY_CAPACITY);

/// Remembers the `jti` of each token accepted through it until the token can no longer
/// verify (`exp` + the verifier's leeway), so that a second presentation fails with `KYCVS_RESULT_REPLAYED`.
/// Bounded; full of live entries it refuses new tokens (fail closed). Thread-safe; shared by
/// the verifiers made with `kycvs_verifier_with_replay_guard`, which keep it alive. Free with
/// `kycvs_replay_guard_free`.
pub struct kycvs_replay_guard {
    _private: [u8; 0],
}

handle!(kycvs_replay_guard => Arc<ReplayGuard>);

/// Makes a replay guard remembering at most `capacity` token ids (at least 1; use
/// `KYCVS_DEFAULT_REPLAY_CAPACITY`), each until its token stops verifying: `exp` + the leeway
/// of the verifier that accepted it.
///
/// On success `*out` holds a new guard for `kycvs_replay_guard_free`.
/// Errors: `KYCVS_RESULT_INVALID_ARGUMENT` (capacity 0), `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_replay_guard_new(
    capacity: usize,
    out: *mut *const kycvs_replay_guard,
) -> kycvs_result {
    ffi_panic_boundary! {
        let out = try_out!(out);
        match ReplayGuard::new(capacity) {
            Ok(guard) => {
                *out = new_arc(guard);
                kycvs_result::Ok
            }
            Err(e) => fail(&e),
        }
    }
}

/// The number of token ids `guard` holds now (0 for NULL).
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_replay_guard_len(guard: *const kycvs_replay_guard) -> usize {
    ffi_panic_boundary! {
        let guard = try_ref!(guard);
        guard.len()
    }
}

/// Releases a replay guard. NULL does nothing. Verifiers using it keep their own reference.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_replay_guard_free(guard: *const kycvs_replay_guard) {
    ffi_panic_boundary! {
        free_arc(guard);
    }
}

/// Makes a verifier with the trust store and policy of `verifier` that also records every
/// token it accepts in `guard`: a token that passes every other check is then accepted only
/// the first time its `jti` is presented, here or through any verifier sharing `guard`
/// (`KYCVS_RESULT_REPLAYED` after that). Neither argument is consumed.
///
/// On success `*out` holds a new verifier for `kycvs_verifier_free`.
/// Errors: `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verifier_with_replay_guard(
    verifier: *const kycvs_verifier,
    guard: *const kycvs_replay_guard,
    out: *mut *const kycvs_verifier,
) -> kycvs_result {
    ffi_panic_boundary! {
        let verifier = try_ref!(verifier);
        let guard = try_arc!(guard);
        let out = try_out!(out);
        *out = new_arc(verifier.clone().with_replay_guard(guard));
        kycvs_result::Ok
    }
}

/// One token id handed to a replay callback: `jti` is `jti_len` bytes of ASCII followed by a
/// NUL, valid only during the call; remember it while `now < keep_until`.
#[repr(C)]
pub struct kycvs_replay_entry {
    /// The token's `jti`, NUL-terminated.
    pub jti: *const c_char,
    /// Its length in bytes, without the NUL.
    pub jti_len: usize,
    /// The first moment the token can no longer verify (`exp` + leeway), exclusive.
    pub keep_until: u64,
}

/// A replay check supplied by the application — for example over a store shared by many
/// verifier processes. Called with every token of one verification (all of a batch's
/// accepted tokens in one call, in input order): it must record each entry and set
/// `is_new[i]` to 1 when `entries[i].jti` was not remembered (it is now) or to 0 when it
/// was (a replay; also the second of two equal `jti`s in one call). It returns 0 on success
/// and anything else when it cannot answer: every token of the call is then refused with
/// `KYCVS_RESULT_REPLAY_STORE_UNAVAILABLE`, as is an entry left at neither 0 nor 1. It may
/// be called from several threads at once, with the `user` pointer given at registration.
pub type kycvs_replay_check = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        entries: *const kycvs_replay_entry,
        count: usize,
        now: u64,
        is_new: *mut u8,
    ) -> c_int,
>;

/// A [`ReplayStore`] that asks the application's callback.
struct CallbackStore {
    check:
        unsafe extern "C" fn(*mut c_void, *const kycvs_replay_entry, usize, u64, *mut u8) -> c_int,
    user: *mut c_void,
}

// The application promises (kycvs.h) that its callback and `user` may be used from any
// thread for as long as a verifier holding them lives.
unsafe impl Send for CallbackStore {}
unsafe impl Sync for CallbackStore {}

impl std::fmt::Debug for CallbackStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallbackStore")
    }
}

impl ReplayStore for CallbackStore {
    fn check_and_record_all(&self, entries: &[ReplayEntry<'_>], now: u64) -> Vec<CoreResult<()>> {
        let unavailable =
            |detail: &'static str| Error::new(ErrorCode::ReplayStoreUnavailable, detail);
        // A jti is ASCII without NUL (the token format says so): a C string copy always exists.
        let owned: Vec<CString> = entries
            .iter()
            .map(|e| CString::new(e.jti).unwrap_or_default())
            .collect();
        let raw: Vec<kycvs_replay_entry> = entries
            .iter()
            .zip(&owned)
            .map(|(e, jti)| kycvs_replay_entry {
                jti: jti.as_ptr(),
                jti_len: jti.as_bytes().len(),
                keep_until: e.keep_until,
            })
            .collect();
        let mut is_new = vec![0xFFu8; entries.len()];
        // SAFETY: the pointers are valid for `entries.len()` elements during the call; the
        // callback's contract is in kycvs.h.
        let status =
            unsafe { (self.check)(self.user, raw.as_ptr(), raw.len(), now, is_new.as_mut_ptr()) };
        if status != 0 {
            return entries
                .iter()
                .map(|_| Err(unavailable("the replay callback failed")))
                .collect();
        }
        is_new
            .into_iter()
            .map(|answer| match answer {
                1 => Ok(()),
                0 => Err(Error::new(
                    ErrorCode::Replayed,
                    "this jti was already presented",
                )),
                _ => Err(unavailable(
                    "the replay callback gave no answer for this token",
                )),
            })
            .collect()
    }
}

/// Makes a verifier with the trust store and policy of `verifier` that checks every token it
/// accepts with the application's `check` callback (see `kycvs_replay_check`) instead of an
/// in-process guard. `user` is passed to every call; it and the callback must stay valid
/// and thread-safe until the new verifier (and every copy made from it) is freed.
///
/// On success `*out` holds a new verifier for `kycvs_verifier_free`.
/// Errors: `KYCVS_RESULT_NULL_ARGUMENT` (a NULL verifier, callback or `out`).
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verifier_with_replay_callback(
    verifier: *const kycvs_verifier,
    check: kycvs_replay_check,
    user: *mut c_void,
    out: *mut *const kycvs_verifier,
) -> kycvs_result {
    ffi_panic_boundary! {
        let verifier = try_ref!(verifier);
        let out = try_out!(out);
        let Some(check) = check else {
            return null_argument("check");
        };
        let store = Arc::new(CallbackStore { check, user });
        *out = new_arc(verifier.clone().with_replay_store(store));
        kycvs_result::Ok
    }
}
