//! Batch verification: many tokens in one call, one verdict each, as the core's
//! `Verifier::verify_batch` gives them (each verdict equal to the single one).

use crate::error::{kycvs_result, map_code};
use crate::ffi::{new_box, try_ref};
use crate::panic::ffi_panic_boundary;
use crate::verify::{kycvs_verified, kycvs_verifier};
use kycvs_core::{BatchItem, Error, ErrorCode};
use std::ffi::c_char;

/// One token of a batch: `token_len` bytes at `token`, and the nonce it must carry
/// (`nonce_len` bytes of UTF-8 at `nonce`). A NULL `nonce` skips the nonce check, which is
/// allowed only by a verifier built after `kycvs_verifier_builder_disable_nonce_check`
/// (otherwise the item's verdict is `KYCVS_RESULT_INVALID_ARGUMENT`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kycvs_batch_item {
    /// The token as received (need not be NUL-terminated).
    pub token: *const c_char,
    /// The token's length in bytes.
    pub token_len: usize,
    /// The expected nonce, or NULL to skip the check where the verifier allows it.
    pub nonce: *const c_char,
    /// The nonce's length in bytes (ignored when `nonce` is NULL).
    pub nonce_len: usize,
}

/// Borrows `n` elements at `ptr`; `None` for NULL with `n > 0`, an empty slice for `n == 0`.
fn slice<'a, T>(ptr: *const T, n: usize) -> Option<&'a [T]> {
    if n == 0 {
        return Some(&[]);
    }
    if ptr.is_null() {
        return None;
    }
    // SAFETY: per the caller's contract, `ptr` points at `n` readable, initialised `T`s that
    // stay unchanged during the call.
    Some(unsafe { std::slice::from_raw_parts(ptr, n) })
}

/// Borrows `n` writable elements at `ptr`; as [`slice`].
fn slice_mut<'a, T>(ptr: *mut T, n: usize) -> Option<&'a mut [T]> {
    if n == 0 {
        return Some(&mut []);
    }
    if ptr.is_null() {
        return None;
    }
    // SAFETY: per the caller's contract, `ptr` points at `n` writable `T`s that no one else
    // uses during the call; `T` is a plain C type, so any bit pattern may be overwritten.
    Some(unsafe { std::slice::from_raw_parts_mut(ptr, n) })
}

/// Converts one C item; an item whose pointers are unusable is a rejected item carrying its
/// verdict, so that the core returns it in its place.
fn item(c: &kycvs_batch_item) -> BatchItem<'_> {
    let Some(token) = crate::ffi::bytes(c.token, c.token_len) else {
        return BatchItem::rejected(Error::new(ErrorCode::NullArgument, "token is NULL"));
    };
    if c.nonce.is_null() {
        return BatchItem::without_nonce(token);
    }
    let nonce = crate::ffi::bytes(c.nonce, c.nonce_len).and_then(|b| std::str::from_utf8(b).ok());
    match nonce {
        Some(nonce) => BatchItem::new(token, nonce),
        None => BatchItem::rejected(Error::new(ErrorCode::InvalidArgument, "nonce is not UTF-8")),
    }
}

/// Verifies `n` tokens at time `now` (seconds since the Unix epoch), giving each exactly the
/// verdict `kycvs_verifier_verify` gives it alone, faster: one batch equation for all the
/// signatures, split across the cores for large batches. Safe to call from many threads
/// with one shared verifier.
///
/// On success (`KYCVS_RESULT_OK`) writes `results[i]`, the verdict of `items[i]`, for every
/// `i < n`, and, when `verified` is not NULL, `verified[i]` for every `i`: a new
/// `kycvs_verified` (free each with `kycvs_verified_free`) where the verdict is
/// `KYCVS_RESULT_OK`, NULL elsewhere. An item whose `token` is NULL gets
/// `KYCVS_RESULT_NULL_ARGUMENT`, one whose nonce is not UTF-8 (or NULL where the nonce check
/// is required) `KYCVS_RESULT_INVALID_ARGUMENT`; per-item verdicts do not set
/// `kycvs_last_error_message`. `items`, `results` and `verified` may be NULL when `n` is 0.
/// Errors (nothing written): `KYCVS_RESULT_NULL_ARGUMENT` (`verifier`, or `items` or
/// `results` with `n > 0`).
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verifier_verify_batch(
    verifier: *const kycvs_verifier,
    items: *const kycvs_batch_item,
    n: usize,
    now: u64,
    results: *mut kycvs_result,
    verified: *mut *mut kycvs_verified,
) -> kycvs_result {
    ffi_panic_boundary! {
        let verifier = try_ref!(verifier);
        let Some(items) = slice(items, n) else {
            return crate::ffi::null_argument("items");
        };
        let Some(results) = slice_mut(results, n) else {
            return crate::ffi::null_argument("results");
        };
        let mut verified = if verified.is_null() {
            None
        } else {
            slice_mut(verified, n)
        };
        let items: Vec<BatchItem<'_>> = items.iter().map(item).collect();
        let verdicts = verifier.verify_batch(&items, now);
        for (i, verdict) in verdicts.into_iter().enumerate() {
            let handle = match verdict {
                Ok(status) => {
                    results[i] = kycvs_result::Ok;
                    verified.is_some().then(|| new_box(status))
                }
                Err(e) => {
                    results[i] = map_code(e.code());
                    None
                }
            };
            if let Some(out) = verified.as_deref_mut() {
                out[i] = handle.unwrap_or(std::ptr::null_mut());
            }
        }
        kycvs_result::Ok
    }
}
