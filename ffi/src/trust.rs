//! Trust stores: the public keys a verifier trusts, each bound to one issuer.

use crate::error::{fail, kycvs_result};
use crate::ffi::{free_box, handle, new_box, try_bytes, try_mut, try_out, try_ref, try_str};
use crate::panic::ffi_panic_boundary;
use kycvs_core::{KeyWindow, PublicKey, TrustStore};
use std::ffi::c_char;

/// A set of trusted Ed25519 public keys, each bound to one issuer, loaded from a JWKS.
/// Free with `kycvs_trust_store_free`. Safe to read from several threads at once.
pub struct kycvs_trust_store {
    _private: [u8; 0],
}

handle!(kycvs_trust_store => Box<TrustStore>);

/// Loads a trust store from a JWKS document (`{"keys":[…]}`, each key
/// `{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"iss":…}`) of `jwks_len` bytes. Every key is
/// validated here; the first bad one is named in `kycvs_last_error_message`.
///
/// On success `*out` holds a new store for `kycvs_trust_store_free`.
/// Errors: `KYCVS_RESULT_INVALID_TRUST_STORE`, `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_trust_store_from_jwks(
    jwks: *const u8,
    jwks_len: usize,
    out: *mut *mut kycvs_trust_store,
) -> kycvs_result {
    ffi_panic_boundary! {
        let jwks = try_bytes!(jwks, jwks_len);
        let out = try_out!(out);
        match TrustStore::from_jwks(jwks) {
            Ok(store) => {
                *out = new_box(store);
                kycvs_result::Ok
            }
            Err(e) => fail(&e),
        }
    }
}

/// A key's validity window: a token's `iat` must satisfy `nbf <= iat < exp` (seconds since
/// the Unix epoch, `nbf < exp <= 2^53 - 1`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct kycvs_key_window {
    /// The first second a token may be issued at (inclusive).
    pub nbf: u64,
    /// The end of the window (exclusive).
    pub exp: u64,
}

/// The core's window for a C window pointer: NULL is none.
pub(crate) fn key_window(window: *const kycvs_key_window) -> kycvs_core::Result<Option<KeyWindow>> {
    crate::ffi::in_ref(window)
        .map(|w| KeyWindow::new(w.nbf, w.exp))
        .transpose()
}

/// Makes an empty trust store, to fill with `kycvs_trust_store_add`.
///
/// On success `*out` holds a new store for `kycvs_trust_store_free`.
/// Errors: `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_trust_store_new(out: *mut *mut kycvs_trust_store) -> kycvs_result {
    ffi_panic_boundary! {
        let out = try_out!(out);
        *out = new_box(TrustStore::new());
        kycvs_result::Ok
    }
}

/// Trusts a bare Ed25519 public key (`public_key_len` = 32 bytes, its standard encoding) for
/// tokens of `issuer` (`issuer_len` bytes of UTF-8); with a `window`, only for tokens whose
/// `iat` lies in it (NULL: any `iat`). The key is validated here.
///
/// Errors: `KYCVS_RESULT_INVALID_KEY` (not 32 bytes, or not an acceptable Ed25519 key),
/// `KYCVS_RESULT_INVALID_ARGUMENT` (the window, or `issuer` not UTF-8),
/// `KYCVS_RESULT_INVALID_TRUST_STORE` (a bad issuer, a duplicate key, a full store),
/// `KYCVS_RESULT_NULL_ARGUMENT`. Nothing is added on error.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_trust_store_add(
    store: *mut kycvs_trust_store,
    public_key: *const u8,
    public_key_len: usize,
    issuer: *const c_char,
    issuer_len: usize,
    window: *const kycvs_key_window,
) -> kycvs_result {
    ffi_panic_boundary! {
        let store = try_mut!(store);
        let public_key = try_bytes!(public_key, public_key_len);
        let issuer = try_str!(issuer, issuer_len);
        let added = PublicKey::from_slice(public_key).and_then(|key| {
            store.add_with_optional_window(key, issuer, key_window(window)?)
        });
        match added {
            Ok(()) => kycvs_result::Ok,
            Err(e) => fail(&e),
        }
    }
}

/// The number of keys in the store; 0 for NULL.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_trust_store_len(store: *const kycvs_trust_store) -> usize {
    ffi_panic_boundary! {
        try_ref!(store).len()
    }
}

/// Frees a trust store. NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_trust_store_free(store: *mut kycvs_trust_store) {
    ffi_panic_boundary! {
        free_box(store);
    }
}
