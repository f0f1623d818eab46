//! Signing keys: generate, PEM in and out, key id, public JWK.

use crate::error::{fail, kycvs_result};
use crate::ffi::{free_box, handle, new_box, try_buf, try_out, try_ref, try_str};
use crate::panic::ffi_panic_boundary;
use kycvs_core::SigningKey;
use std::ffi::c_char;

/// An Ed25519 signing key. Its secret is zeroized when freed and never printed.
/// Free with `kycvs_signing_key_free`. Safe to read from several threads at once.
pub struct kycvs_signing_key {
    _private: [u8; 0],
}

handle!(kycvs_signing_key => Box<SigningKey>);

/// Generates a signing key from the operating system's random source.
///
/// On success `*out` holds a new key for `kycvs_signing_key_free`.
/// Errors: `KYCVS_RESULT_RANDOM_SOURCE`, `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_signing_key_generate(out: *mut *mut kycvs_signing_key) -> kycvs_result {
    ffi_panic_boundary! {
        let out = try_out!(out);
        match SigningKey::generate() {
            Ok(key) => {
                *out = new_box(key);
                kycvs_result::Ok
            }
            Err(e) => fail(&e),
        }
    }
}

/// Loads a PKCS#8 PEM Ed25519 private key (`-----BEGIN PRIVATE KEY-----`), as written by
/// `openssl genpkey -algorithm ed25519` or `kycvs_signing_key_to_pem`. `pem` is `pem_len`
/// bytes, not NUL-terminated.
///
/// On success `*out` holds a new key for `kycvs_signing_key_free`.
/// Errors: `KYCVS_RESULT_INVALID_KEY`, `KYCVS_RESULT_INVALID_ARGUMENT` (not UTF-8),
/// `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_signing_key_from_pem(
    pem: *const c_char,
    pem_len: usize,
    out: *mut *mut kycvs_signing_key,
) -> kycvs_result {
    ffi_panic_boundary! {
        let pem = try_str!(pem, pem_len);
        let out = try_out!(out);
        match SigningKey::from_pkcs8_pem(pem) {
            Ok(key) => {
                *out = new_box(key);
                kycvs_result::Ok
            }
            Err(e) => fail(&e),
        }
    }
}

/// Writes the key as PKCS#8 PEM (LF line endings) into `buf`, NUL-terminated, and sets
/// `*out_len` to its length without the NUL. This is the secret key: keep it secret. The
/// library zeroizes its own copies; zeroize `buf` when done.
///
/// Errors: `KYCVS_RESULT_BUFFER_TOO_SMALL` with `*out_len` = the size needed, NUL included
/// (`buf` may be NULL when `buf_len` is 0); `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_signing_key_to_pem(
    key: *const kycvs_signing_key,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> kycvs_result {
    ffi_panic_boundary! {
        let key = try_ref!(key);
        let buf = try_buf!(buf, buf_len);
        let out_len = try_out!(out_len);
        match key.to_pkcs8_pem() {
            // The Zeroizing string is wiped when it goes out of scope here.
            Ok(pem) => buf.write(&pem, out_len),
            Err(e) => fail(&e),
        }
    }
}

/// Writes the key id (the RFC 7638 JWK thumbprint, 43 characters) into `buf`,
/// NUL-terminated, and sets `*out_len` to its length without the NUL.
///
/// Errors: `KYCVS_RESULT_BUFFER_TOO_SMALL` with `*out_len` = the size needed, NUL included
/// (`buf` may be NULL when `buf_len` is 0); `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_signing_key_kid(
    key: *const kycvs_signing_key,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> kycvs_result {
    ffi_panic_boundary! {
        let key = try_ref!(key);
        let buf = try_buf!(buf, buf_len);
        let out_len = try_out!(out_len);
        buf.write(key.kid(), out_len)
    }
}

/// Writes the public key as a JWK bound to `issuer` (`{"kty":"OKP","crv":"Ed25519","x":…,
/// "kid":…,"iss":…}`, the form a trust store holds) into `buf`, NUL-terminated, and sets
/// `*out_len` to its length without the NUL. `issuer` is `issuer_len` bytes of UTF-8.
///
/// Errors: `KYCVS_RESULT_INVALID_ARGUMENT` (issuer not UTF-8),
/// `KYCVS_RESULT_BUFFER_TOO_SMALL` with `*out_len` = the size needed, NUL included
/// (`buf` may be NULL when `buf_len` is 0); `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_signing_key_public_jwk(
    key: *const kycvs_signing_key,
    issuer: *const c_char,
    issuer_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> kycvs_result {
    ffi_panic_boundary! {
        let key = try_ref!(key);
        let issuer = try_str!(issuer, issuer_len);
        let buf = try_buf!(buf, buf_len);
        let out_len = try_out!(out_len);
        buf.write(&key.public_key().to_jwk(issuer).to_string(), out_len)
    }
}

/// The length of an Ed25519 public key's encoding, in bytes.
pub const KYCVS_PUBLIC_KEY_LEN: usize = 32;

/// Writes the public key's 32-byte encoding (RFC 8032) to `out`, which must hold
/// `KYCVS_PUBLIC_KEY_LEN` writable bytes: the bare key `kycvs_trust_store_add` takes.
///
/// Errors: `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_signing_key_public_key(
    key: *const kycvs_signing_key,
    out: *mut u8,
) -> kycvs_result {
    ffi_panic_boundary! {
        let key = try_ref!(key);
        // `[u8; N]` has the alignment of `u8`: the caller's N bytes are exactly this array.
        let out = out.cast::<[u8; KYCVS_PUBLIC_KEY_LEN]>();
        let out = try_out!(out);
        *out = *key.public_key().as_bytes();
        kycvs_result::Ok
    }
}

/// Frees a signing key and zeroizes its secret. NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_signing_key_free(key: *mut kycvs_signing_key) {
    ffi_panic_boundary! {
        free_box(key);
    }
}
