//! Result codes (generated into `error/codes.rs` from the core's table, with the one mapping
//! from the core's [`ErrorCode`]) and the per-thread message of the last failed call.

use crate::ffi::{try_buf, try_out};
use crate::panic::ffi_panic_boundary;
use kycvs_core::{Error, ErrorCode};
use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::sync::OnceLock;

mod codes;

pub use codes::kycvs_result;
pub(crate) use codes::map_code;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records `message` as this thread's last error.
pub(crate) fn set_last_error(message: impl Into<String>) {
    let message = message.into();
    LAST_ERROR.with(|last| *last.borrow_mut() = message);
}

/// This thread's last error message ("" when no call failed yet).
pub(crate) fn last_error() -> String {
    LAST_ERROR.with(|last| last.borrow().clone())
}

/// Records a core error (its code name and detail; the core keeps secrets out of details) and
/// returns its C result.
pub(crate) fn fail(err: &Error) -> kycvs_result {
    set_last_error(err.to_string());
    map_code(err.code())
}

/// Records a failure of the C boundary itself and returns `result`.
pub(crate) fn fail_with(result: kycvs_result, detail: &str) -> kycvs_result {
    set_last_error(format!("{}: {detail}", name_of(result as u32)));
    result
}

/// The NUL-terminated names of all results, built once from the core's names.
fn names() -> &'static [(u32, CString)] {
    static NAMES: OnceLock<Vec<(u32, CString)>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = vec![(0, c"ok".to_owned())];
        for code in ErrorCode::ALL {
            // Core names are snake_case ASCII: never an interior NUL.
            if let Ok(name) = CString::new(code.as_str()) {
                names.push((code.number(), name));
            }
        }
        names
    })
}

fn name_of(result: u32) -> &'static str {
    names()
        .iter()
        .find(|(n, _)| *n == result)
        .and_then(|(_, name)| name.to_str().ok())
        .unwrap_or("unknown")
}

/// The stable name of a result: `"ok"`, `"malformed"`, …, `"panic"`, or `"unknown"` for a
/// number that is no `kycvs_result`. The string is static and NUL-terminated; do not free it.
///
/// `result` is a `kycvs_result` value, taken as a plain integer so that any number is safe.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_result_name(result: u32) -> *const c_char {
    ffi_panic_boundary! {
        names()
            .iter()
            .find(|(n, _)| *n == result)
            .map_or(c"unknown".as_ptr(), |(_, name)| name.as_ptr())
    }
}

/// Restores this thread's last error message when dropped, so that reading the message never
/// replaces it (a caller retrying with a larger buffer still gets the original message).
struct KeepLastError(String);

impl Drop for KeepLastError {
    fn drop(&mut self) {
        set_last_error(std::mem::take(&mut self.0));
    }
}

/// Copies the message of the last failed kycvs call on this thread into `buf`,
/// NUL-terminated, and sets `*out_len` to its length without the NUL ("" when no call failed
/// yet). The message names the result and why, e.g. `"bad_claims: claim sub is missing"`; it
/// never holds key material. A successful call does not clear it.
///
/// When `buf_len` is too small (0 included) returns `KYCVS_RESULT_BUFFER_TOO_SMALL` and sets
/// `*out_len` to the buffer size needed, NUL included. `buf` may be NULL only when `buf_len`
/// is 0. This function never changes the stored message, even when it fails.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_last_error_message(
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> kycvs_result {
    ffi_panic_boundary! {
        let keep = KeepLastError(last_error());
        let out_len = try_out!(out_len);
        let buf = try_buf!(buf, buf_len);
        match buf.copy(&keep.0) {
            Ok(written) => {
                *out_len = written;
                kycvs_result::Ok
            }
            Err(needed) => {
                *out_len = needed;
                kycvs_result::BufferTooSmall
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn name(result: u32) -> &'static str {
        unsafe { CStr::from_ptr(kycvs_result_name(result)) }
            .to_str()
            .unwrap()
    }

    #[test]
    fn every_core_code_maps_to_its_number_and_name() {
        for code in ErrorCode::ALL {
            let result = map_code(code);
            assert_eq!(result as u32, code.number(), "{code}");
            assert_eq!(name(result as u32), code.as_str());
        }
        assert_eq!(name(kycvs_result::Ok as u32), "ok");
        assert_eq!(name(99), "unknown");
        assert_eq!(name(u32::MAX), "unknown");
    }

    #[test]
    fn fail_records_code_and_detail() {
        let err = Error::new(ErrorCode::BadClaims, "claim sub is missing");
        assert_eq!(fail(&err), kycvs_result::BadClaims);
        assert_eq!(last_error(), "bad_claims: claim sub is missing");
        assert_eq!(
            fail_with(kycvs_result::NullArgument, "argument `out` is NULL"),
            kycvs_result::NullArgument
        );
        assert_eq!(last_error(), "null_argument: argument `out` is NULL");
    }

    #[test]
    fn last_error_message_copies_and_guards_small_buffers() {
        set_last_error("expired: expired 5 s ago");
        let mut out_len = 99usize;
        // Zero-length buffer, NULL allowed: only the size.
        let r = kycvs_last_error_message(std::ptr::null_mut(), 0, &mut out_len);
        assert_eq!((r, out_len), (kycvs_result::BufferTooSmall, 25));
        let mut small = [0 as c_char; 10];
        let r = kycvs_last_error_message(small.as_mut_ptr(), small.len(), &mut out_len);
        assert_eq!((r, out_len), (kycvs_result::BufferTooSmall, 25));
        assert_eq!(small, [0; 10], "nothing written on failure");
        // The failures above did not replace the message.
        let mut buf = [0x55 as c_char; 25];
        let r = kycvs_last_error_message(buf.as_mut_ptr(), buf.len(), &mut out_len);
        assert_eq!((r, out_len), (kycvs_result::Ok, 24));
        let text = unsafe { CStr::from_ptr(buf.as_ptr()) };
        assert_eq!(text.to_str().unwrap(), "expired: expired 5 s ago");
        // NULL out_len.
        let r = kycvs_last_error_message(buf.as_mut_ptr(), buf.len(), std::ptr::null_mut());
        assert_eq!(r, kycvs_result::NullArgument);
        assert_eq!(last_error(), "expired: expired 5 s ago");
    }
}
