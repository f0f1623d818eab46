//! Calls through the exported functions, as C would, for what the C tests cannot reach
//! cheaply: exact NULL-argument messages and the no-write-on-failure rule.

use super::*;
use crate::error::last_error;
use std::ffi::CStr;
use std::ptr::{null, null_mut};

const NOW: u64 = 1_700_000_000;

fn text(buf: &[c_char]) -> &str {
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap()
}

fn view(s: kycvs_str) -> String {
    let bytes = unsafe { std::slice::from_raw_parts(s.data.cast::<u8>(), s.len) };
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn s(t: &str) -> (*const c_char, usize) {
    (t.as_ptr().cast(), t.len())
}

struct Fixture {
    key: *mut kycvs_signing_key,
    issuer: *mut kycvs_issuer,
    trust: *mut kycvs_trust_store,
    verifier: *const kycvs_verifier,
}

impl Fixture {
    fn new(legacy: bool) -> Fixture {
        Fixture::with_nonce_check(legacy, true)
    }

    fn with_nonce_check(legacy: bool, check_nonce: bool) -> Fixture {
        let mut key = null_mut();
        assert_eq!(kycvs_signing_key_generate(&mut key), kycvs_result::Ok);
        let (iss, iss_len) = s("cowin.example");
        let mut issuer = null_mut();
        let alg = if legacy {
            kycvs_algorithm::EdDSA
        } else {
            kycvs_algorithm::Ed25519
        };
        let r = kycvs_issuer_new(key, iss, iss_len, alg as u32, &mut issuer);
        assert_eq!(r, kycvs_result::Ok);
        let mut jwk = vec![0 as c_char; 512];
        let mut len = 0;
        let r = kycvs_signing_key_public_jwk(key, iss, iss_len, jwk.as_mut_ptr(), 512, &mut len);
        assert_eq!(r, kycvs_result::Ok);
        let jwks = format!("{{\"keys\":[{}]}}", text(&jwk));
        let mut trust = null_mut();
        let r = kycvs_trust_store_from_jwks(jwks.as_ptr(), jwks.len(), &mut trust);
        assert_eq!(r, kycvs_result::Ok);
        assert_eq!(kycvs_trust_store_len(trust), 1);
        let (aud, aud_len) = s("irctc.example");
        let mut builder = null_mut();
        assert_eq!(
            kycvs_verifier_builder_new(aud, aud_len, &mut builder),
            kycvs_result::Ok
        );
        assert_eq!(
            kycvs_verifier_builder_add_issuer(builder, iss, iss_len),
            kycvs_result::Ok
        );
        if !check_nonce {
            assert_eq!(
                kycvs_verifier_builder_disable_nonce_check(builder),
                kycvs_result::Ok
            );
        }
        let mut verifier = null();
        let r = kycvs_verifier_builder_build(builder, trust, &mut verifier);
        assert_eq!(r, kycvs_result::Ok);
        kycvs_verifier_builder_free(builder);
        Fixture {
            key,
            issuer,
            trust,
            verifier,
        }
    }

    fn issue(&self, nonce: &str) -> String {
        let mut buf = vec![0 as c_char; KYCVS_TOKEN_BUF_LEN];
        let mut len = 0;
        let r = self.issue_into(nonce, &mut buf, &mut len);
        assert_eq!(r, kycvs_result::Ok, "{}", last_error());
        assert_eq!(text(&buf).len(), len);
        text(&buf).to_owned()
    }

    fn issue_into(&self, nonce: &str, buf: &mut [c_char], len: &mut usize) -> kycvs_result {
        let (aud, aud_len) = s("irctc.example");
        let (n, n_len) = s(nonce);
        let (sub, sub_len) = s("pseudonym-1");
        let request = kycvs_token_request {
            audience: aud,
            audience_len: aud_len,
            nonce: n,
            nonce_len: n_len,
            subject: sub,
            subject_len: sub_len,
            status: 2,
            ttl: 300,
        };
        kycvs_issuer_issue(self.issuer, &request, NOW, buf.as_mut_ptr(), buf.len(), len)
    }

    fn verify(
        &self,
        token: &str,
        nonce: Option<&str>,
        out: &mut *mut kycvs_verified,
    ) -> kycvs_result {
        let (n, n_len) = nonce.map_or((null(), 0), s);
        kycvs_verifier_verify(
            self.verifier,
            token.as_ptr().cast(),
            token.len(),
            n,
            n_len,
            NOW + 10,
            out,
        )
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        kycvs_verifier_free(self.verifier);
        kycvs_trust_store_free(self.trust);
        kycvs_issuer_free(self.issuer);
        kycvs_signing_key_free(self.key);
    }
}

/// A recognisable pointer that must never be overwritten by a failing call.
fn blank_status() -> *mut kycvs_verified {
    std::ptr::dangling_mut()
}

#[test]
fn issues_and_verifies_both_algorithms() {
    for legacy in [false, true] {
        let f = Fixture::new(legacy);
        let token = f.issue("PNR-4711");
        let mut out = blank_status();
        assert_eq!(
            f.verify(&token, Some("PNR-4711"), &mut out),
            kycvs_result::Ok
        );
        let v = out;
        assert_eq!(
            (
                kycvs_verified_status(v),
                kycvs_verified_iat(v),
                kycvs_verified_exp(v)
            ),
            (2, NOW, NOW + 300)
        );
        assert_eq!(view(kycvs_verified_iss(v)), "cowin.example");
        assert_eq!(view(kycvs_verified_sub(v)), "pseudonym-1");
        assert_eq!(view(kycvs_verified_aud(v)), "irctc.example");
        assert_eq!(view(kycvs_verified_nonce(v)), "PNR-4711");
        assert_eq!(view(kycvs_verified_jti(v)).len(), 22);
        let mut kid = [0 as c_char; 64];
        let mut len = 0;
        let r = kycvs_signing_key_kid(f.key, kid.as_mut_ptr(), kid.len(), &mut len);
        assert_eq!((r, len), (kycvs_result::Ok, 43));
        assert_eq!(view(kycvs_verified_kid(v)), text(&kid));
        kycvs_verified_free(v);
        // No nonce: refused unless the builder disabled the check.
        let mut out = blank_status();
        assert_eq!(
            f.verify(&token, None, &mut out),
            kycvs_result::InvalidArgument
        );
        assert_eq!(out, blank_status());
        assert!(last_error().contains("nonce"), "{}", last_error());
        let lenient = Fixture::with_nonce_check(legacy, false);
        let token = lenient.issue("PNR-4711");
        assert_eq!(lenient.verify(&token, None, &mut out), kycvs_result::Ok);
        assert_eq!(view(kycvs_verified_nonce(out)), "PNR-4711");
        kycvs_verified_free(out);
    }
}

#[test]
fn accessors_of_null_give_empty_values() {
    assert_eq!(kycvs_verified_status(null()), KYCVS_VERIFIED_STATUS_NONE);
    assert_eq!(
        (kycvs_verified_iat(null()), kycvs_verified_exp(null())),
        (0, 0)
    );
    let empty = kycvs_verified_iss(null());
    assert!(!empty.data.is_null());
    assert_eq!(empty.len, 0);
    kycvs_verified_free(null_mut());
}

#[test]
fn failures_leave_the_output_untouched() {
    let f = Fixture::new(false);
    let token = f.issue("PNR-4711");
    let mut out = blank_status();
    assert_eq!(
        f.verify(&token, Some("PNR-4712"), &mut out),
        kycvs_result::NonceMismatch
    );
    assert_eq!(out, blank_status());
    assert!(
        last_error().starts_with("nonce_mismatch: "),
        "{}",
        last_error()
    );
    let not_utf8 = [b'e', 0xff, b'.'];
    let (n, n_len) = s("PNR-4711");
    let r = kycvs_verifier_verify(
        f.verifier,
        not_utf8.as_ptr().cast(),
        3,
        n,
        n_len,
        NOW,
        &mut out,
    );
    assert_eq!(r, kycvs_result::Malformed);
    assert_eq!(out, blank_status());
}

#[test]
fn null_arguments_name_the_argument() {
    let f = Fixture::new(false);
    let mut out = blank_status();
    let r = kycvs_verifier_verify(null(), c"x".as_ptr(), 1, null(), 0, NOW, &mut out);
    assert_eq!(r, kycvs_result::NullArgument);
    assert_eq!(last_error(), "null_argument: argument `verifier` is NULL");
    let r = kycvs_verifier_verify(f.verifier, c"x".as_ptr(), 1, null(), 0, NOW, null_mut());
    assert_eq!(r, kycvs_result::NullArgument);
    assert_eq!(last_error(), "null_argument: argument `out` is NULL");
    let mut len = 7;
    let r = kycvs_signing_key_kid(f.key, null_mut(), 10, &mut len);
    assert_eq!((r, len), (kycvs_result::NullArgument, 7));
    assert_eq!(kycvs_trust_store_len(null()), 0);
    kycvs_signing_key_free(null_mut());
    kycvs_verifier_free(null());
}

#[test]
fn small_buffers_report_the_size_needed() {
    let f = Fixture::new(false);
    let mut len = 0;
    let r = kycvs_signing_key_to_pem(f.key, null_mut(), 0, &mut len);
    assert_eq!(r, kycvs_result::BufferTooSmall);
    let needed = len;
    let mut pem = vec![0x11 as c_char; needed - 1];
    let r = kycvs_signing_key_to_pem(f.key, pem.as_mut_ptr(), pem.len(), &mut len);
    assert_eq!((r, len), (kycvs_result::BufferTooSmall, needed));
    assert!(pem.iter().all(|&b| b == 0x11), "nothing written on failure");
    let mut pem = vec![0 as c_char; needed];
    let r = kycvs_signing_key_to_pem(f.key, pem.as_mut_ptr(), pem.len(), &mut len);
    assert_eq!((r, len), (kycvs_result::Ok, needed - 1));
    let mut back = null_mut();
    let r = kycvs_signing_key_from_pem(pem.as_ptr(), len, &mut back);
    assert_eq!(r, kycvs_result::Ok);
    kycvs_signing_key_free(back);
    let mut tiny = [0 as c_char; 8];
    let r = f.issue_into("n", &mut tiny, &mut len);
    assert_eq!(r, kycvs_result::BufferTooSmall);
    assert!(len > 8 && len <= KYCVS_TOKEN_BUF_LEN);
}

#[test]
fn policy_is_checked_by_the_core_at_build() {
    let (aud, aud_len) = s("irctc.example");
    let mut builder = null_mut();
    assert_eq!(
        kycvs_verifier_builder_new(aud, aud_len, &mut builder),
        kycvs_result::Ok
    );
    let mut trust = null_mut();
    let jwks = br#"{"keys":[]}"#;
    assert_eq!(
        kycvs_trust_store_from_jwks(jwks.as_ptr(), jwks.len(), &mut trust),
        kycvs_result::Ok
    );
    let mut verifier = null();
    assert_eq!(
        kycvs_verifier_builder_set_leeway(builder, 3601),
        kycvs_result::Ok
    );
    let r = kycvs_verifier_builder_build(builder, trust, &mut verifier);
    assert_eq!(r, kycvs_result::InvalidArgument);
    assert!(verifier.is_null());
    assert_eq!(
        kycvs_verifier_builder_set_leeway(builder, 0),
        kycvs_result::Ok
    );
    let r = kycvs_verifier_builder_build(builder, trust, &mut verifier);
    assert_eq!(r, kycvs_result::Ok);
    kycvs_verifier_free(verifier);
    kycvs_trust_store_free(trust);
    kycvs_verifier_builder_free(builder);
}

#[test]
fn version_matches_the_core() {
    let v = unsafe { CStr::from_ptr(kycvs_version()) };
    assert_eq!(v.to_str().unwrap(), kycvs_core::VERSION);
    assert!(kycvs_unix_now() > NOW);
}

#[test]
fn backend_is_the_cores_choice() {
    let b = unsafe { CStr::from_ptr(kycvs_backend()) };
    assert_eq!(b.to_str().unwrap(), kycvs_core::backend().as_str());
}
