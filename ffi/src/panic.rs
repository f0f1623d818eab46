//! The panic boundary: a Rust panic never unwinds into C.
//!
//! Every exported function runs its body inside [`ffi_panic_boundary!`]. A caught panic
//! becomes `KYCVS_RESULT_PANIC` for functions that return a [`kycvs_result`], or a safe
//! default (`0`, `""`, nothing) for the few that return something else.

use crate::error::kycvs_result;

/// The value an exported function returns after it caught a panic.
pub(crate) trait PanicOrDefault {
    fn panic_value() -> Self;
}

impl PanicOrDefault for kycvs_result {
    fn panic_value() -> Self {
        kycvs_result::Panic
    }
}

impl PanicOrDefault for usize {
    fn panic_value() -> Self {
        0
    }
}

impl PanicOrDefault for u64 {
    fn panic_value() -> Self {
        0
    }
}

/// A static string function answers `""` after a panic.
impl PanicOrDefault for *const std::ffi::c_char {
    fn panic_value() -> Self {
        c"".as_ptr()
    }
}

impl PanicOrDefault for () {
    fn panic_value() -> Self {}
}

/// Runs the body under `catch_unwind`; on a panic, records a message for
/// `kycvs_last_error_message` and returns [`PanicOrDefault::panic_value`].
///
/// `AssertUnwindSafe` is sound here: after a panic the caller sees only an error code, and no
/// Rust value the panic may have left half-updated is read again by this call.
macro_rules! ffi_panic_boundary {
    ( $($body:tt)* ) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| { $($body)* })) {
            Ok(ret) => ret,
            Err(_) => {
                $crate::error::set_last_error(
                    "panic: a panic was caught at the C boundary; this is a bug in kycvs",
                );
                $crate::panic::PanicOrDefault::panic_value()
            }
        }
    };
}

pub(crate) use ffi_panic_boundary;

/// **Test hook**: always panics inside the panic boundary, so it always returns
/// `KYCVS_RESULT_PANIC` and sets the last error message. It lets C test suites check that a
/// panic never unwinds into C. It does nothing else; never call it outside tests.
#[allow(non_snake_case)]
#[unsafe(no_mangle)]
pub extern "C" fn kycvs__test_panic() -> kycvs_result {
    ffi_panic_boundary! {
        panic!("kycvs__test_panic: a deliberate panic (test hook)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::last_error;

    fn panics_with_result(panic: bool) -> kycvs_result {
        ffi_panic_boundary! {
            if panic {
                panic!("boom");
            }
            kycvs_result::Ok
        }
    }

    fn panics_with_len() -> usize {
        ffi_panic_boundary! {
            let v: Vec<usize> = Vec::new();
            v[3]
        }
    }

    fn panics_with_unit() {
        ffi_panic_boundary! {
            panic!("boom in a free function");
        }
    }

    #[test]
    fn panic_becomes_panic_result_and_message() {
        assert_eq!(panics_with_result(false), kycvs_result::Ok);
        assert_eq!(panics_with_result(true), kycvs_result::Panic);
        assert!(last_error().starts_with("panic:"), "{}", last_error());
    }

    #[test]
    fn test_hook_panics_inside_the_boundary() {
        assert_eq!(kycvs__test_panic(), kycvs_result::Panic);
        assert!(last_error().starts_with("panic:"), "{}", last_error());
    }

    #[test]
    fn panic_in_other_return_types_gives_defaults() {
        assert_eq!(panics_with_len(), 0);
        panics_with_unit();
        assert!(last_error().contains("caught at the C boundary"));
    }
}
