//! The C entry points, called as C would call them: pointers that are NULL or point into
//! valid buffers, with fuzz-chosen lengths (0 included), and output buffers of fuzz-chosen
//! sizes allocated to exactly that size, so that AddressSanitizer sees any read or write out
//! of bounds. Checks: no panic reaches the caller, results are the documented ones, a verdict
//! is the core's verdict, and a too-small buffer is left untouched.

#![no_main]

use arbitrary::Arbitrary;
use kycvs::{
    kycvs_last_error_message, kycvs_result, kycvs_signing_key, kycvs_signing_key_free,
    kycvs_signing_key_from_pem, kycvs_signing_key_kid, kycvs_str, kycvs_trust_store,
    kycvs_trust_store_free, kycvs_trust_store_from_jwks, kycvs_trust_store_len, kycvs_verified,
    kycvs_verified_exp, kycvs_verified_free, kycvs_verified_iat, kycvs_verified_jti,
    kycvs_verified_kid, kycvs_verified_nonce, kycvs_verified_status, kycvs_verifier,
    kycvs_verifier_builder_build, kycvs_verifier_builder_disable_nonce_check,
    kycvs_verifier_builder_free, kycvs_verifier_builder_new, kycvs_verifier_verify,
};
use kycvs_fuzz::{AUDIENCE, NOW, TRUST_JWKS, keys, vector_tokens, verify_bytes};
use libfuzzer_sys::fuzz_target;
use std::ffi::c_char;
use std::ptr;
use std::sync::OnceLock;

/// Where a `ptr, len` argument points: NULL, or a sub-slice of one of the buffers.
#[derive(Arbitrary, Debug)]
enum Span {
    Null { len: u16 },
    Slice { source: u8, start: u16, len: u16 },
}

#[derive(Arbitrary, Debug)]
enum Call {
    TrustStore {
        jwks: Span,
        out: bool,
    },
    SigningKey {
        pem: Span,
        out: bool,
        kid_buf: Option<u8>,
    },
    Verify {
        verifier: bool,
        token: Span,
        nonce: Option<Span>,
        now_delta: i32,
        out: bool,
    },
    LastError {
        buf: Option<u8>,
        out: bool,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    data: Vec<u8>,
    calls: Vec<Call>,
}

/// The PEM of vector key `a`, a valid `kycvs_signing_key_from_pem` input.
fn pem() -> &'static [u8] {
    static PEM: OnceLock<String> = OnceLock::new();
    PEM.get_or_init(|| keys()[0].key.to_pkcs8_pem().expect("pem").to_string())
        .as_bytes()
}

/// A verifier built through the C API (policy: the vectors' audience, defaults otherwise).
fn c_verifier() -> *const kycvs_verifier {
    static VERIFIER: OnceLock<usize> = OnceLock::new();
    let addr = *VERIFIER.get_or_init(|| {
        let mut trust: *mut kycvs_trust_store = ptr::null_mut();
        let r = kycvs_trust_store_from_jwks(TRUST_JWKS.as_ptr(), TRUST_JWKS.len(), &mut trust);
        assert_eq!(r, kycvs_result::Ok);
        let mut builder = ptr::null_mut();
        let r = kycvs_verifier_builder_new(AUDIENCE.as_ptr().cast(), AUDIENCE.len(), &mut builder);
        assert_eq!(r, kycvs_result::Ok);
        // The policy of kycvs_fuzz::verifier: a NULL nonce skips the check.
        let r = kycvs_verifier_builder_disable_nonce_check(builder);
        assert_eq!(r, kycvs_result::Ok);
        let mut verifier: *const kycvs_verifier = ptr::null();
        let r = kycvs_verifier_builder_build(builder, trust, &mut verifier);
        assert_eq!(r, kycvs_result::Ok);
        kycvs_verifier_builder_free(builder);
        kycvs_trust_store_free(trust);
        // Kept for the life of the process: the fuzzer never frees it.
        verifier as usize
    });
    addr as *const kycvs_verifier
}

/// Resolves a span to `(ptr, len)` and the bytes it denotes (`None` for NULL).
fn resolve<'a>(span: &Span, data: &'a [u8]) -> (*const u8, usize, Option<&'a [u8]>) {
    match span {
        Span::Null { len } => (ptr::null(), usize::from(*len), None),
        Span::Slice { source, start, len } => {
            let tokens = vector_tokens();
            let buf: &[u8] = match source % 4 {
                0 => data,
                1 => TRUST_JWKS,
                2 => pem(),
                _ => tokens[usize::from(*source) % tokens.len()].as_bytes(),
            };
            let start = usize::from(*start) % (buf.len() + 1);
            let rest = &buf[start..];
            let slice = &rest[..usize::from(*len) % (rest.len() + 1)];
            (slice.as_ptr(), slice.len(), Some(slice))
        }
    }
}

/// A buffer of exactly `len` bytes filled with a sentinel, or NULL for `None`.
fn out_buf(len: Option<u8>) -> Option<Vec<u8>> {
    len.map(|n| vec![0xa5; usize::from(n)])
}

fn buf_ptr(buf: &mut Option<Vec<u8>>) -> (*mut c_char, usize) {
    match buf {
        Some(b) => (b.as_mut_ptr().cast(), b.len()),
        None => (ptr::null_mut(), 0),
    }
}

/// Checks the text-output contract: on success the text and its NUL fit and `out_len` is its
/// length; when too small, the buffer is untouched and `out_len` is the size needed.
fn check_text_out(r: kycvs_result, buf: &Option<Vec<u8>>, out_len: usize, expected: &[u8]) {
    let len = buf.as_ref().map_or(0, Vec::len);
    match r {
        kycvs_result::Ok => {
            let b = buf.as_ref().expect("success needs a buffer");
            assert_eq!(&b[..out_len], expected);
            assert_eq!(b[out_len], 0);
        }
        kycvs_result::BufferTooSmall => {
            assert!(len <= expected.len());
            assert_eq!(out_len, expected.len() + 1);
            if let Some(b) = buf {
                assert!(
                    b.iter().all(|&x| x == 0xa5),
                    "a too-small buffer was written"
                );
            }
        }
        other => panic!("unexpected result {other:?}"),
    }
}

/// `slot` as an out-pointer, or NULL when the call should get none.
fn out_slot<T>(slot: &mut T, pass: bool) -> *mut T {
    if pass {
        slot as *mut T
    } else {
        ptr::null_mut()
    }
}

fn call(c: &Call, data: &[u8]) {
    match c {
        Call::TrustStore { jwks, out } => {
            let (p, len, bytes) = resolve(jwks, data);
            let mut store: *mut kycvs_trust_store = ptr::null_mut();
            let out_ptr = out_slot(&mut store, *out);
            let r = kycvs_trust_store_from_jwks(p, len, out_ptr);
            let core = bytes.map(kycvs_core::TrustStore::from_jwks);
            let want = match (&core, out) {
                (None, _) | (_, false) => kycvs_result::NullArgument,
                (Some(Ok(_)), true) => kycvs_result::Ok,
                (Some(Err(_)), true) => kycvs_result::InvalidTrustStore,
            };
            assert_eq!(r, want);
            if let Some(Ok(core)) = &core
                && r == kycvs_result::Ok
            {
                assert_eq!(kycvs_trust_store_len(store), core.len());
            } else {
                assert!(store.is_null(), "output written on failure");
            }
            kycvs_trust_store_free(store);
        }
        Call::SigningKey { pem, out, kid_buf } => {
            let (p, len, bytes) = resolve(pem, data);
            let mut key: *mut kycvs_signing_key = ptr::null_mut();
            let out_ptr = out_slot(&mut key, *out);
            let r = kycvs_signing_key_from_pem(p.cast(), len, out_ptr);
            let want = match (bytes, out) {
                (None, _) => kycvs_result::NullArgument,
                (Some(b), out) => match std::str::from_utf8(b) {
                    Err(_) => kycvs_result::InvalidArgument,
                    Ok(_) if !out => kycvs_result::NullArgument,
                    Ok(text) => match kycvs_core::SigningKey::from_pkcs8_pem(text) {
                        Ok(_) => kycvs_result::Ok,
                        Err(_) => kycvs_result::InvalidKey,
                    },
                },
            };
            assert_eq!(r, want);
            if r != kycvs_result::Ok {
                assert!(key.is_null(), "output written on failure");
                return;
            }
            let text = std::str::from_utf8(bytes.expect("ok")).expect("utf-8");
            let kid = kycvs_core::SigningKey::from_pkcs8_pem(text)
                .expect("ok")
                .kid()
                .to_owned();
            let mut buf = out_buf(*kid_buf);
            let (bp, bl) = buf_ptr(&mut buf);
            let mut out_len = usize::MAX;
            let r = kycvs_signing_key_kid(key, bp, bl, &mut out_len);
            check_text_out(r, &buf, out_len, kid.as_bytes());
            kycvs_signing_key_free(key);
        }
        Call::Verify {
            verifier: with_verifier,
            token,
            nonce,
            now_delta,
            out,
        } => {
            let (tp, tl, token_bytes) = resolve(token, data);
            let (np, nl, nonce_bytes) = match nonce {
                Some(span) => resolve(span, data),
                None => (ptr::null(), 0, None),
            };
            let now = NOW.saturating_add_signed(i64::from(*now_delta));
            let v = if *with_verifier {
                c_verifier()
            } else {
                ptr::null()
            };
            let mut status: *mut kycvs_verified = ptr::null_mut();
            let out_ptr = if *out {
                &mut status as *mut *mut kycvs_verified
            } else {
                ptr::null_mut()
            };
            let r = kycvs_verifier_verify(v, tp.cast(), tl, np.cast(), nl, now, out_ptr);
            let nonce_text = nonce_bytes.map(std::str::from_utf8);
            let want = match (with_verifier, token_bytes, nonce_text, out) {
                (false, ..) | (_, None, ..) => Err(kycvs_result::NullArgument),
                (_, _, Some(Err(_)), _) => Err(kycvs_result::InvalidArgument),
                (_, _, _, false) => Err(kycvs_result::NullArgument),
                (true, Some(token), nonce, true) => {
                    let nonce = nonce.map(|n| n.expect("utf-8"));
                    Ok(verify_bytes(token, nonce, now))
                }
            };
            match want {
                Err(code) => {
                    assert_eq!(r, code);
                    assert!(status.is_null(), "output written on failure");
                }
                Ok(Err(e)) => {
                    assert_eq!(r as u32, e.code().number(), "{e}");
                    assert!(status.is_null(), "output written on failure");
                }
                Ok(Ok(v)) => {
                    assert_eq!(r, kycvs_result::Ok);
                    let got = status;
                    assert_eq!(kycvs_verified_status(got), v.status().as_u8());
                    assert_eq!(
                        (kycvs_verified_iat(got), kycvs_verified_exp(got)),
                        (v.iat(), v.exp())
                    );
                    let field = |s: kycvs_str| -> Vec<u8> {
                        // SAFETY: an accessor's text is `len` readable bytes while `got` lives.
                        unsafe { std::slice::from_raw_parts(s.data.cast::<u8>(), s.len) }.to_vec()
                    };
                    assert_eq!(field(kycvs_verified_kid(got)), v.kid().as_bytes());
                    assert_eq!(field(kycvs_verified_nonce(got)), v.nonce().as_bytes());
                    assert_eq!(field(kycvs_verified_jti(got)), v.jti().as_bytes());
                    kycvs_verified_free(got);
                }
            }
        }
        Call::LastError { buf, out } => {
            // The message as it is now, read through a buffer large enough for any message.
            let mut full = vec![0u8; 1 << 16];
            let mut full_len = 0;
            let r = kycvs_last_error_message(full.as_mut_ptr().cast(), full.len(), &mut full_len);
            assert_eq!(r, kycvs_result::Ok);
            let message = full[..full_len].to_vec();
            let mut buf = out_buf(*buf);
            let (bp, bl) = buf_ptr(&mut buf);
            let mut out_len = usize::MAX;
            let out_ptr = out_slot(&mut out_len, *out);
            let r = kycvs_last_error_message(bp, bl, out_ptr);
            if *out {
                check_text_out(r, &buf, out_len, &message);
            } else {
                assert_eq!(r, kycvs_result::NullArgument);
            }
        }
    }
}

fuzz_target!(|input: Input| {
    for c in input.calls.iter().take(8) {
        call(c, &input.data);
    }
});
