//! Signed trust bundles: load a trust store vouched for by a pinned root key, and sign one.

use crate::error::{fail, kycvs_result};
use crate::ffi::{new_box, try_buf, try_bytes, try_in, try_out, try_ref};
use crate::keys::kycvs_signing_key;
use crate::panic::ffi_panic_boundary;
use crate::trust::{key_window, kycvs_key_window, kycvs_trust_store};
use kycvs_core::{BundleLoad, BundleTerms, TrustBundle};
use std::ffi::c_char;

/// The most bytes in a signed trust bundle.
pub const KYCVS_MAX_BUNDLE_LEN: usize = 1_048_576;
/// The most bytes in a root key JWK.
pub const KYCVS_MAX_ROOT_JWK_LEN: usize = 4096;

const _: () = {
    assert!(KYCVS_MAX_BUNDLE_LEN == kycvs_core::MAX_BUNDLE_LEN);
    assert!(KYCVS_MAX_ROOT_JWK_LEN == kycvs_core::MAX_ROOT_JWK_LEN);
};

/// What a loaded trust bundle says about itself.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct kycvs_bundle_info {
    /// The bundle's sequence number (`seq`): keep the highest one accepted and pass it as
    /// `min_sequence` next time, so that an older bundle is refused.
    pub sequence: u64,
    /// When the bundle was issued (`iat`), seconds since the Unix epoch.
    pub issued_at: u64,
    /// When the bundle expires (`exp`): load a fresh one before then.
    pub expires_at: u64,
}

/// The terms of a new trust bundle, for `kycvs_trust_bundle_sign`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kycvs_bundle_terms {
    /// The sequence number (`seq`), 1 to 2^53 - 1: raise it with every new bundle.
    pub sequence: u64,
    /// When the bundle is issued (`iat`), seconds since the Unix epoch.
    pub issued_at: u64,
    /// When it expires (`exp`), after `issued_at`, at most 2^53 - 1.
    pub expires_at: u64,
    /// The window given to keys that carry none, or NULL: every key must carry its own.
    pub default_key_window: *const kycvs_key_window,
}

/// How to load a trust bundle, for `kycvs_trust_store_from_bundle`: every field is required.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kycvs_bundle_load {
    /// The pinned root key as one JWK (`{"kty":"OKP","crv":"Ed25519","x":…,"kid":…}`).
    pub root_jwk: *const u8,
    /// The root JWK's length in bytes (at most `KYCVS_MAX_ROOT_JWK_LEN`).
    pub root_jwk_len: usize,
    /// The highest sequence number accepted before: a lower one is refused (an equal one is
    /// accepted, so one bundle may be loaded again).
    pub min_sequence: u64,
    /// The time of loading, seconds since the Unix epoch (`kycvs_unix_now()`).
    pub now: u64,
}

/// Loads a trust store from a signed trust bundle (`bundle_len` bytes, a compact JWS of
/// `typ` `kycvs-trust+jwt`) as `load` says: trusting only its root key, at its time, refusing
/// a sequence number below its minimum. Every key of the store keeps its issuer and its
/// validity window: a verifier built on it accepts a token only when the token's `iat` lies
/// in its key's window (`KYCVS_RESULT_KEY_NOT_VALID` otherwise).
///
/// On success `*out` holds a new store for `kycvs_trust_store_free` and `*out_info` the
/// bundle's sequence number, issue and expiry times.
/// Errors: `KYCVS_RESULT_INVALID_KEY` (the root JWK), `KYCVS_RESULT_INVALID_BUNDLE`
/// (size, structure, header, signature, payload, keys), `KYCVS_RESULT_STALE_BUNDLE`
/// (`now` is at or past the bundle's expiry), `KYCVS_RESULT_BUNDLE_ROLLBACK`,
/// `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_trust_store_from_bundle(
    bundle: *const u8,
    bundle_len: usize,
    load: *const kycvs_bundle_load,
    out: *mut *mut kycvs_trust_store,
    out_info: *mut kycvs_bundle_info,
) -> kycvs_result {
    ffi_panic_boundary! {
        let bundle = try_bytes!(bundle, bundle_len);
        let load = try_in!(load);
        let root_jwk = load.root_jwk;
        let root_jwk_len = load.root_jwk_len;
        let root_jwk = try_bytes!(root_jwk, root_jwk_len);
        let out = try_out!(out);
        let out_info = try_out!(out_info);
        let loaded = TrustBundle::root_key_from_jwk(root_jwk).and_then(|root| {
            let how = BundleLoad { root: &root, min_sequence: load.min_sequence, now: load.now };
            TrustBundle::load(bundle, &how)
        });
        match loaded {
            Ok(loaded) => {
                *out_info = kycvs_bundle_info {
                    sequence: loaded.sequence(),
                    issued_at: loaded.issued_at(),
                    expires_at: loaded.expires_at(),
                };
                *out = new_box(loaded.into_trust_store());
                kycvs_result::Ok
            }
            Err(e) => fail(&e),
        }
    }
}

/// Signs the keys of `keys` as a trust bundle with the root key `root` under `terms`. Each
/// key keeps its validity window (a JWKS key with `nbf` and `exp`, or one added with a
/// window) or gets `terms->default_key_window`. The bundle (at most `KYCVS_MAX_BUNDLE_LEN`
/// bytes) is written to `buf` as text.
///
/// Errors: `KYCVS_RESULT_INVALID_ARGUMENT` (sequence, times or window out of range, a key
/// without a window and no default), `KYCVS_RESULT_BUFFER_TOO_SMALL`,
/// `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_trust_bundle_sign(
    root: *const kycvs_signing_key,
    keys: *const kycvs_trust_store,
    terms: *const kycvs_bundle_terms,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> kycvs_result {
    ffi_panic_boundary! {
        let root = try_ref!(root);
        let keys = try_ref!(keys);
        let terms = try_in!(terms);
        let buf = try_buf!(buf, buf_len);
        let out_len = try_out!(out_len);
        let signed = key_window(terms.default_key_window).and_then(|default_key_window| {
            let terms = BundleTerms {
                sequence: terms.sequence,
                issued_at: terms.issued_at,
                expires_at: terms.expires_at,
                default_key_window,
            };
            TrustBundle::new(keys, &terms)?.sign(root)
        });
        match signed {
            Ok(signed) => buf.write(&signed, out_len),
            Err(e) => fail(&e),
        }
    }
}

/// Writes the public JWK of the root key `root`, as `kycvs_trust_store_from_bundle` pins it
/// (`{"kty":"OKP","crv":"Ed25519","x":…,"kid":…}`), to `buf`.
///
/// Errors: `KYCVS_RESULT_BUFFER_TOO_SMALL`, `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_trust_bundle_root_jwk(
    root: *const kycvs_signing_key,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> kycvs_result {
    ffi_panic_boundary! {
        let root = try_ref!(root);
        let buf = try_buf!(buf, buf_len);
        let out_len = try_out!(out_len);
        buf.write(&TrustBundle::root_jwk(root.public_key()), out_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::{kycvs_trust_store_free, kycvs_trust_store_from_jwks};
    use kycvs_core::{KeyWindow, SigningKey, TrustStore};

    fn terms(sequence: u64, issued_at: u64, expires_at: u64) -> kycvs_bundle_terms {
        kycvs_bundle_terms {
            sequence,
            issued_at,
            expires_at,
            default_key_window: std::ptr::null(),
        }
    }

    fn signed() -> (String, String) {
        let root = SigningKey::from_seed(&[1; 32]);
        let key = SigningKey::from_seed(&[2; 32]);
        let mut trust = TrustStore::new();
        trust
            .add_with_window(
                key.public_key().clone(),
                "iss",
                KeyWindow::new(0, 10).unwrap(),
            )
            .unwrap();
        let terms = BundleTerms {
            sequence: 4,
            issued_at: 100,
            expires_at: 200,
            default_key_window: None,
        };
        let bundle = TrustBundle::new(&trust, &terms)
            .unwrap()
            .sign(&root)
            .unwrap();
        (bundle, TrustBundle::root_jwk(root.public_key()))
    }

    #[test]
    fn loads_and_maps_each_code() {
        let (bundle, root) = signed();
        let load = |now, min| {
            let mut out = std::ptr::null_mut();
            let mut info = kycvs_bundle_info {
                sequence: 0,
                issued_at: 0,
                expires_at: 0,
            };
            let how = kycvs_bundle_load {
                root_jwk: root.as_ptr(),
                root_jwk_len: root.len(),
                min_sequence: min,
                now,
            };
            let r = kycvs_trust_store_from_bundle(
                bundle.as_ptr(),
                bundle.len(),
                &how,
                &mut out,
                &mut info,
            );
            if r == kycvs_result::Ok {
                assert_eq!(crate::kycvs_trust_store_len(out), 1);
                kycvs_trust_store_free(out);
            } else {
                assert!(out.is_null(), "written on failure");
            }
            (r, info.sequence)
        };
        assert_eq!(load(150, 4), (kycvs_result::Ok, 4));
        assert_eq!(load(200, 0), (kycvs_result::StaleBundle, 0));
        assert_eq!(load(150, 5), (kycvs_result::BundleRollback, 0));
    }

    #[test]
    fn signs_into_the_callers_buffer() {
        let jwks = br#"{"keys":[]}"#;
        let mut store = std::ptr::null_mut();
        assert_eq!(
            kycvs_trust_store_from_jwks(jwks.as_ptr(), jwks.len(), &mut store),
            kycvs_result::Ok
        );
        let root = Box::into_raw(Box::new(SigningKey::from_seed(&[1; 32]))).cast();
        let mut len = 0;
        assert_eq!(
            kycvs_trust_bundle_sign(
                root,
                store,
                &terms(1, 1, 2),
                std::ptr::null_mut(),
                0,
                &mut len
            ),
            kycvs_result::BufferTooSmall
        );
        let mut buf = vec![0 as c_char; len];
        assert_eq!(
            kycvs_trust_bundle_sign(
                root,
                store,
                &terms(1, 1, 2),
                buf.as_mut_ptr(),
                len,
                &mut len
            ),
            kycvs_result::Ok
        );
        assert_eq!(
            kycvs_trust_bundle_sign(
                root,
                store,
                &terms(0, 1, 2),
                buf.as_mut_ptr(),
                buf.len(),
                &mut len
            ),
            kycvs_result::InvalidArgument
        );
        let bad_window = kycvs_key_window { nbf: 5, exp: 5 };
        let with_bad_window = kycvs_bundle_terms {
            default_key_window: &bad_window,
            ..terms(1, 1, 2)
        };
        assert_eq!(
            kycvs_trust_bundle_sign(
                root,
                store,
                &with_bad_window,
                buf.as_mut_ptr(),
                len,
                &mut len
            ),
            kycvs_result::InvalidArgument
        );
        assert_eq!(
            kycvs_trust_bundle_sign(
                root,
                store,
                std::ptr::null(),
                buf.as_mut_ptr(),
                len,
                &mut len
            ),
            kycvs_result::NullArgument
        );
        crate::keys::kycvs_signing_key_free(root);
        kycvs_trust_store_free(store);
    }
}
