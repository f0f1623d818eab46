//! Trust stores: the public keys a verifier trusts, each bound to one issuer.

use crate::error::{fail, kycvs_result};
use crate::ffi::{free_box, handle, new_box, try_bytes, try_out, try_ref};
use crate::panic::ffi_panic_boundary;
use kycvs_core::TrustStore;

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
