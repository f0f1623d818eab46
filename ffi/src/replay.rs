//! Replay guards: a verifier that accepts each token once.

use crate::error::{fail, kycvs_result};
use crate::ffi::{free_arc, handle, new_arc, try_arc, try_out, try_ref};
use crate::panic::ffi_panic_boundary;
use crate::verify::kycvs_verifier;
use kycvs_core::ReplayGuard;

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
