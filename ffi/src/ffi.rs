//! Pointer plumbing between C and Rust: handles, NULL checks, input text and output buffers.
//!
//! Handles given to C are `Box`es (mutable builders and single-owner objects) or `Arc`s
//! (immutable objects shared across threads). A handle pointer points at the Rust value
//! itself, so both kinds are borrowed the same way. The caller's contract, stated in the
//! header: a handle is NULL or came from this library and was not freed; `ptr, len` pairs
//! describe readable memory; output buffers are writable for their stated length.

use crate::error::{fail_with, kycvs_result};
use std::ffi::c_char;
use std::sync::Arc;

/// A C handle type (an opaque struct) and the Rust value behind it.
pub(crate) trait Handle {
    /// The Rust value a handle pointer points at.
    type Rust;
}

/// A handle given to C as a `Box`: one owner, freed once.
pub(crate) trait BoxHandle: Handle {}

/// A handle given to C as an `Arc`: immutable, shareable across threads.
pub(crate) trait ArcHandle: Handle {}

/// Ties an opaque C handle type (declared as a plain struct, so that cbindgen sees it) to the
/// Rust value behind it, given to C as a `Box` or an `Arc`.
macro_rules! handle {
    ($name:ident => Box<$rust:ty>) => {
        impl $crate::ffi::Handle for $name {
            type Rust = $rust;
        }
        impl $crate::ffi::BoxHandle for $name {}
    };
    ($name:ident => Arc<$rust:ty>) => {
        impl $crate::ffi::Handle for $name {
            type Rust = $rust;
        }
        impl $crate::ffi::ArcHandle for $name {}
    };
}
pub(crate) use handle;

/// Gives `value` to C as a new `Box` handle.
pub(crate) fn new_box<H: BoxHandle>(value: H::Rust) -> *mut H {
    Box::into_raw(Box::new(value)).cast()
}

/// Gives `value` to C as a new `Arc` handle.
pub(crate) fn new_arc<H: ArcHandle>(value: H::Rust) -> *const H {
    Arc::into_raw(Arc::new(value)).cast()
}

/// Borrows the value behind a handle of either kind; `None` for NULL.
pub(crate) fn borrow<'a, H: Handle>(ptr: *const H) -> Option<&'a H::Rust> {
    // SAFETY: per the caller's contract, a non-NULL handle points at a live `H::Rust` made by
    // `new_box` or `new_arc`.
    unsafe { ptr.cast::<H::Rust>().as_ref() }
}

/// Borrows the value behind a `Box` handle mutably; `None` for NULL.
pub(crate) fn borrow_mut<'a, H: BoxHandle>(ptr: *mut H) -> Option<&'a mut H::Rust> {
    // SAFETY: as in `borrow`; a `Box` handle has one owner, who passed it to this call.
    unsafe { ptr.cast::<H::Rust>().as_mut() }
}

/// Frees a `Box` handle; does nothing for NULL.
pub(crate) fn free_box<H: BoxHandle>(ptr: *mut H) {
    if !ptr.is_null() {
        // SAFETY: a non-NULL `Box` handle came from `new_box` and is freed once.
        drop(unsafe { Box::from_raw(ptr.cast::<H::Rust>()) });
    }
}

/// Releases one reference of an `Arc` handle; does nothing for NULL.
pub(crate) fn free_arc<H: ArcHandle>(ptr: *const H) {
    if !ptr.is_null() {
        // SAFETY: a non-NULL `Arc` handle came from `new_arc`; each is released once.
        drop(unsafe { Arc::from_raw(ptr.cast::<H::Rust>()) });
    }
}

/// Borrows a plain output location; `None` for NULL.
pub(crate) fn out_ref<'a, T>(ptr: *mut T) -> Option<&'a mut T> {
    // SAFETY: per the caller's contract, a non-NULL output pointer is writable.
    unsafe { ptr.as_mut() }
}

/// Borrows `len` input bytes at `ptr`; `None` for NULL.
pub(crate) fn bytes<'a, T>(ptr: *const T, len: usize) -> Option<&'a [u8]> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: per the caller's contract, `ptr` is readable for `len` bytes that stay
    // unchanged during the call. `T` is `c_char` or `u8`, both one byte.
    Some(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

/// What an exported function returns when a required pointer is NULL.
pub(crate) trait NullOrDefault {
    fn null_value() -> Self;
}

impl NullOrDefault for kycvs_result {
    fn null_value() -> Self {
        kycvs_result::NullArgument
    }
}

impl NullOrDefault for usize {
    fn null_value() -> Self {
        0
    }
}

impl NullOrDefault for u64 {
    fn null_value() -> Self {
        0
    }
}

/// Records that argument `name` was NULL and returns the function's NULL value.
pub(crate) fn null_argument<T: NullOrDefault>(name: &str) -> T {
    fail_with(
        kycvs_result::NullArgument,
        &format!("argument `{name}` is NULL"),
    );
    T::null_value()
}

/// Borrows the value behind a handle, or returns `KYCVS_RESULT_NULL_ARGUMENT`.
macro_rules! try_ref {
    ($ptr:ident) => {
        match $crate::ffi::borrow($ptr) {
            Some(value) => value,
            None => return $crate::ffi::null_argument(stringify!($ptr)),
        }
    };
}
pub(crate) use try_ref;

/// Borrows the value behind a `Box` handle mutably, or returns `KYCVS_RESULT_NULL_ARGUMENT`.
macro_rules! try_mut {
    ($ptr:ident) => {
        match $crate::ffi::borrow_mut($ptr) {
            Some(value) => value,
            None => return $crate::ffi::null_argument(stringify!($ptr)),
        }
    };
}
pub(crate) use try_mut;

/// Borrows an output location, or returns `KYCVS_RESULT_NULL_ARGUMENT`.
macro_rules! try_out {
    ($ptr:ident) => {
        match $crate::ffi::out_ref($ptr) {
            Some(value) => value,
            None => return $crate::ffi::null_argument(stringify!($ptr)),
        }
    };
}
pub(crate) use try_out;

/// Borrows `ptr, len` input bytes, or returns `KYCVS_RESULT_NULL_ARGUMENT`.
macro_rules! try_bytes {
    ($ptr:ident, $len:ident) => {
        match $crate::ffi::bytes($ptr, $len) {
            Some(value) => value,
            None => return $crate::ffi::null_argument(stringify!($ptr)),
        }
    };
}
pub(crate) use try_bytes;

/// Borrows `ptr, len` input text, or returns `KYCVS_RESULT_NULL_ARGUMENT` (NULL) or
/// `KYCVS_RESULT_INVALID_ARGUMENT` (not UTF-8).
macro_rules! try_str {
    ($ptr:ident, $len:ident) => {
        match std::str::from_utf8($crate::ffi::try_bytes!($ptr, $len)) {
            Ok(text) => text,
            Err(_) => {
                return $crate::error::fail_with(
                    $crate::error::kycvs_result::InvalidArgument,
                    concat!("argument `", stringify!($ptr), "` is not UTF-8"),
                );
            }
        }
    };
}
pub(crate) use try_str;

/// A caller's output buffer for text: `buf_len` writable bytes, or NULL with length 0 to ask
/// only for the size.
pub(crate) struct OutBuf {
    ptr: *mut c_char,
    len: usize,
}

impl OutBuf {
    /// Checks an output buffer: NULL is allowed only with length 0.
    pub(crate) fn new(ptr: *mut c_char, len: usize) -> Option<OutBuf> {
        (!ptr.is_null() || len == 0).then_some(OutBuf { ptr, len })
    }

    /// Copies `text` and a NUL when they fit: `Ok(text.len())`; otherwise writes nothing and
    /// gives `Err(size needed, NUL included)`.
    pub(crate) fn copy(&self, text: &str) -> Result<usize, usize> {
        let needed = text.len() + 1;
        if self.len < needed {
            return Err(needed);
        }
        // SAFETY: `ptr` is non-NULL (len >= 1) and writable for `len >= needed` bytes per the
        // caller's contract; `text` is Rust memory, so the two do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), self.ptr.cast::<u8>(), text.len());
            self.ptr.add(text.len()).write(0);
        }
        Ok(text.len())
    }

    /// Copies `text` and sets `*out_len` to its length, or records and returns
    /// `KYCVS_RESULT_BUFFER_TOO_SMALL` with `*out_len` set to the size needed.
    pub(crate) fn write(&self, text: &str, out_len: &mut usize) -> kycvs_result {
        match self.copy(text) {
            Ok(written) => {
                *out_len = written;
                kycvs_result::Ok
            }
            Err(needed) => {
                *out_len = needed;
                fail_with(
                    kycvs_result::BufferTooSmall,
                    &format!(
                        "a buffer of {} bytes is too small: {needed} needed",
                        self.len
                    ),
                )
            }
        }
    }
}

/// Checks an output text buffer, or returns `KYCVS_RESULT_NULL_ARGUMENT` when it is NULL with a
/// non-zero length.
macro_rules! try_buf {
    ($ptr:ident, $len:ident) => {
        match $crate::ffi::OutBuf::new($ptr, $len) {
            Some(buf) => buf,
            None => return $crate::ffi::null_argument(stringify!($ptr)),
        }
    };
}
pub(crate) use try_buf;

/// Copies `text` into a fixed C array with a NUL; false when it does not fit.
pub(crate) fn copy_to_array(dst: &mut [c_char], text: &str) -> bool {
    if text.len() >= dst.len() {
        return false;
    }
    for (d, s) in dst.iter_mut().zip(text.bytes()) {
        *d = s as c_char;
    }
    dst[text.len()] = 0;
    true
}

/// Takes a new reference to the value behind an `Arc` handle; `None` for NULL.
pub(crate) fn clone_arc<H: ArcHandle>(ptr: *const H) -> Option<Arc<H::Rust>> {
    if ptr.is_null() {
        return None;
    }
    let ptr = ptr.cast::<H::Rust>();
    // SAFETY: a non-NULL `Arc` handle came from `new_arc` and is live; the count is raised
    // before `from_raw` so the caller's reference stays owned by the caller.
    unsafe {
        Arc::increment_strong_count(ptr);
        Some(Arc::from_raw(ptr))
    }
}

/// Borrows a plain input struct; `None` for NULL.
pub(crate) fn in_ref<'a, T>(ptr: *const T) -> Option<&'a T> {
    // SAFETY: per the caller's contract, a non-NULL input pointer is readable.
    unsafe { ptr.as_ref() }
}

/// Borrows a plain input struct, or returns `KYCVS_RESULT_NULL_ARGUMENT`.
macro_rules! try_in {
    ($ptr:ident) => {
        match $crate::ffi::in_ref($ptr) {
            Some(value) => value,
            None => return $crate::ffi::null_argument(stringify!($ptr)),
        }
    };
}
pub(crate) use try_in;

/// Takes a new reference to the value behind an `Arc` handle, or returns
/// `KYCVS_RESULT_NULL_ARGUMENT`.
macro_rules! try_arc {
    ($ptr:ident) => {
        match $crate::ffi::clone_arc($ptr) {
            Some(value) => value,
            None => return $crate::ffi::null_argument(stringify!($ptr)),
        }
    };
}
pub(crate) use try_arc;
