//! Batch verification: many tokens in one call, one verdict each, as the core's
//! `Verifier::verify_batch` gives them (each verdict equal to the single one).

use crate::error::{fail_with, kycvs_result, map_code};
use crate::ffi::try_ref;
use crate::panic::ffi_panic_boundary;
use crate::verify::{kycvs_verified_status, kycvs_verifier};
use kycvs_core::BatchItem;
use std::ffi::c_char;

/// One token of a batch: `token_len` bytes at `token`, and the nonce it must carry
/// (`nonce_len` bytes of UTF-8 at `nonce`), or `nonce` NULL for any nonce.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kycvs_batch_item {
    /// The token as received (need not be NUL-terminated).
    pub token: *const c_char,
    /// The token's length in bytes.
    pub token_len: usize,
    /// The expected nonce, or NULL for any nonce.
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

/// Converts one C item; `Err` is the item's verdict when its pointers are unusable.
fn item(c: &kycvs_batch_item) -> Result<BatchItem<'_>, kycvs_result> {
    let token = crate::ffi::bytes(c.token, c.token_len).ok_or(kycvs_result::NullArgument)?;
    let nonce = if c.nonce.is_null() {
        None
    } else {
        let bytes = crate::ffi::bytes(c.nonce, c.nonce_len).ok_or(kycvs_result::NullArgument)?;
        Some(std::str::from_utf8(bytes).map_err(|_| kycvs_result::InvalidArgument)?)
    };
    Ok(BatchItem { token, nonce })
}

/// Verifies `n` tokens at time `now` (seconds since the Unix epoch), giving each exactly the
/// verdict `kycvs_verifier_verify` gives it alone, faster: one batch equation for all the
/// signatures, split across the cores for large batches. Safe to call from many threads
/// with one shared verifier.
///
/// On success (`KYCVS_RESULT_OK`) writes `results[i]`, the verdict of `items[i]`, for every
/// `i < n`, and, when `statuses` is not NULL, `statuses[i]` for every `i` whose verdict is
/// `KYCVS_RESULT_OK` (the others are left as they were). An item whose `token` is NULL gets
/// `KYCVS_RESULT_NULL_ARGUMENT`, one whose nonce is not UTF-8 `KYCVS_RESULT_INVALID_ARGUMENT`;
/// per-item verdicts do not set `kycvs_last_error_message`. `items` and `results` may be NULL
/// when `n` is 0.
/// Errors (nothing written): `KYCVS_RESULT_NULL_ARGUMENT` (`verifier`, or `items` or
/// `results` with `n > 0`).
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_verifier_verify_batch(
    verifier: *const kycvs_verifier,
    items: *const kycvs_batch_item,
    n: usize,
    now: u64,
    results: *mut kycvs_result,
    statuses: *mut kycvs_verified_status,
) -> kycvs_result {
    ffi_panic_boundary! {
        let verifier = try_ref!(verifier);
        let Some(items) = slice(items, n) else {
            return crate::ffi::null_argument("items");
        };
        let Some(results) = slice_mut(results, n) else {
            return crate::ffi::null_argument("results");
        };
        let mut statuses = if statuses.is_null() {
            None
        } else {
            slice_mut(statuses, n)
        };
        let converted: Vec<Result<BatchItem<'_>, kycvs_result>> = items.iter().map(item).collect();
        let valid: Vec<BatchItem<'_>> = converted.iter().filter_map(|c| c.ok()).collect();
        let mut verdicts = verifier.verify_batch(&valid, now).into_iter();
        for (i, c) in converted.iter().enumerate() {
            results[i] = match c {
                Err(code) => *code,
                Ok(_) => match verdicts.next() {
                    Some(Ok(verified)) => match kycvs_verified_status::from_core(&verified) {
                        Some(status) => {
                            if let Some(out) = statuses.as_deref_mut() {
                                out[i] = status;
                            }
                            kycvs_result::Ok
                        }
                        None => kycvs_result::Panic,
                    },
                    Some(Err(e)) => map_code(e.code()),
                    None => {
                        return fail_with(
                            kycvs_result::Panic,
                            "the core gave fewer verdicts than tokens",
                        );
                    }
                },
            };
        }
        kycvs_result::Ok
    }
}
