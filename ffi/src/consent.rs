//! The issuer side: one issuance builder for an issuance service (both consent steps), a
//! consent starter (begin only) or a consent completer (complete only), and OTP consent
//! challenges.

use crate::KYCVS_TOKEN_BUF_LEN;
use crate::error::{fail, fail_with, kycvs_result};
use crate::ffi::{
    copy_to_array, free_arc, free_box, handle, new_arc, new_box, try_arc, try_buf, try_bytes,
    try_in, try_mut, try_out, try_ref, try_str,
};
use crate::issue::kycvs_issuer;
use crate::panic::ffi_panic_boundary;
use crate::registry::{kycvs_registry, kycvs_schedule};
use kycvs_core::{
    ConsentChallenge, ConsentCompleter, ConsentConfig, ConsentRequest, ConsentStarter,
    IssuanceBuilder, IssuanceService, PseudonymKey,
};
use std::ffi::c_char;

/// The size of `consent_id` in `kycvs_consent_challenge`, NUL included (22 characters).
pub const KYCVS_CONSENT_ID_BUF_LEN: usize = 23;
/// The size of `otp` in `kycvs_consent_challenge`, NUL included (6 digits).
pub const KYCVS_OTP_BUF_LEN: usize = 7;
/// The length in bytes of an OTP key (`kycvs_issuance_builder_set_otp_key`).
pub const KYCVS_OTP_KEY_LEN: usize = 32;
/// The length in bytes of a pseudonym key (`kycvs_issuance_builder_set_pseudonym_key`).
pub const KYCVS_PSEUDONYM_KEY_LEN: usize = 32;

const _: () = {
    assert!(KYCVS_OTP_BUF_LEN == kycvs_core::OTP_DIGITS + 1);
    assert!(KYCVS_CONSENT_ID_BUF_LEN == (kycvs_core::CONSENT_ID_BYTES * 4).div_ceil(3) + 1);
    assert!(KYCVS_OTP_KEY_LEN == kycvs_core::OTP_KEY_LEN);
    assert!(KYCVS_PSEUDONYM_KEY_LEN == kycvs_core::PSEUDONYM_KEY_LEN);
};

/// What an issuance service, consent starter or consent completer will be made of (the
/// core's one builder, which owns every default); mutable, for one thread at a time. Free
/// with `kycvs_issuance_builder_free`.
pub struct kycvs_issuance_builder {
    _private: [u8; 0],
}

handle!(kycvs_issuance_builder => Box<IssuanceBuilder>);

/// Runs both steps of the OTP consent flow and signs tokens (see
/// `kycvs_issuance_service_begin`). Immutable and thread-safe: share one across threads.
/// Free with `kycvs_issuance_service_free`.
pub struct kycvs_issuance_service {
    _private: [u8; 0],
}

handle!(kycvs_issuance_service => Arc<IssuanceService>);

/// The begin side alone (registry, schedule, pseudonym key): `kycvs_consent_starter_begin`.
/// Immutable and thread-safe. Free with `kycvs_consent_starter_free`.
pub struct kycvs_consent_starter {
    _private: [u8; 0],
}

handle!(kycvs_consent_starter => Arc<ConsentStarter>);

/// The complete side alone (signer, no registry): `kycvs_consent_completer_complete`.
/// Immutable and thread-safe. Free with `kycvs_consent_completer_free`.
pub struct kycvs_consent_completer {
    _private: [u8; 0],
}

handle!(kycvs_consent_completer => Arc<ConsentCompleter>);

/// What a consent is begun for: `ptr, len` pairs of UTF-8 text.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct kycvs_consent_request {
    /// The person's mobile number as typed (10 digits, optionally after +91 or 0).
    pub mobile: *const c_char,
    /// The length of `mobile` in bytes.
    pub mobile_len: usize,
    /// The person's name as typed (any script; case and spacing are ignored).
    pub name: *const c_char,
    /// The length of `name` in bytes.
    pub name_len: usize,
    /// The verifier the token will be for (`aud`).
    pub audience: *const c_char,
    /// The length of `audience` in bytes.
    pub audience_len: usize,
    /// The verifier's transaction reference (`nonce`).
    pub nonce: *const c_char,
    /// The length of `nonce` in bytes.
    pub nonce_len: usize,
}

/// The limits of the consent flow; `kycvs_consent_config_default` gives the defaults.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct kycvs_consent_config {
    /// OTP lifetime in seconds, 1 to 3600. Default 180.
    pub otp_ttl: u64,
    /// Wrong OTPs allowed per consent, 1 to 10; the last one closes it. Default 3.
    pub max_attempts: u32,
    /// Consents begun per mobile number per window, 1 to 1000. Default 5.
    pub rate_limit: u32,
    /// The rolling rate window in seconds, 1 to 86400. Default 3600.
    pub rate_window: u64,
    /// Lifetime of an issued token in seconds, 1 to 86400. Default 300.
    pub token_ttl: u64,
}

impl From<ConsentConfig> for kycvs_consent_config {
    fn from(c: ConsentConfig) -> Self {
        kycvs_consent_config {
            otp_ttl: c.otp_ttl,
            max_attempts: c.max_attempts,
            rate_limit: c.rate_limit,
            rate_window: c.rate_window,
            token_ttl: c.token_ttl,
        }
    }
}

impl From<kycvs_consent_config> for ConsentConfig {
    fn from(c: kycvs_consent_config) -> Self {
        ConsentConfig {
            otp_ttl: c.otp_ttl,
            max_attempts: c.max_attempts,
            rate_limit: c.rate_limit,
            rate_window: c.rate_window,
            token_ttl: c.token_ttl,
        }
    }
}

/// What `kycvs_issuance_service_begin` answers: the same shape whether or not the person
/// exists. `otp` is a secret for the SMS only: clear the struct with
/// `kycvs_consent_challenge_clear` once it is sent.
#[repr(C)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct kycvs_consent_challenge {
    /// The consent id (128 random bits, base64url), for `kycvs_issuance_service_complete`.
    pub consent_id: [c_char; KYCVS_CONSENT_ID_BUF_LEN],
    /// The six-digit OTP the host must send by SMS to the mobile number it was given.
    pub otp: [c_char; KYCVS_OTP_BUF_LEN],
    /// When the OTP expires, seconds since the Unix epoch.
    pub expires_at: u64,
}

/// Writes the default consent limits into `*out`.
///
/// Errors: `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_consent_config_default(out: *mut kycvs_consent_config) -> kycvs_result {
    ffi_panic_boundary! {
        let out = try_out!(out);
        *out = ConsentConfig::default().into();
        kycvs_result::Ok
    }
}

/// Starts an empty issuance builder. Defaults (owned by the core): the built-in schedule,
/// random pseudonym and OTP keys and an in-memory consent store (made at the first build and
/// shared by everything built from this builder afterwards), the default limits. An issuance
/// service needs an issuer and a registry, a consent starter a registry, a consent
/// completer an issuer.
///
/// On success `*out` holds a new builder for `kycvs_issuance_builder_free`.
/// Errors: `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuance_builder_new(
    out: *mut *mut kycvs_issuance_builder,
) -> kycvs_result {
    ffi_panic_boundary! {
        let out = try_out!(out);
        *out = new_box(IssuanceBuilder::new());
        kycvs_result::Ok
    }
}

/// Signs with a copy of `issuer` (needed by a service and a completer).
///
/// Errors: `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuance_builder_set_issuer(
    builder: *mut kycvs_issuance_builder,
    issuer: *const kycvs_issuer,
) -> kycvs_result {
    ffi_panic_boundary! {
        let builder = try_mut!(builder);
        let issuer = try_ref!(issuer);
        builder.issuer(issuer.clone());
        kycvs_result::Ok
    }
}

/// Looks people up in `registry`, which it keeps a reference to (needed by a service and a
/// starter).
///
/// Errors: `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuance_builder_set_registry(
    builder: *mut kycvs_issuance_builder,
    registry: *const kycvs_registry,
) -> kycvs_result {
    ffi_panic_boundary! {
        let builder = try_mut!(builder);
        let registry = try_arc!(registry);
        builder.registry(registry);
        kycvs_result::Ok
    }
}

/// Uses a copy of `schedule` for the status rules.
///
/// Errors: `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuance_builder_set_schedule(
    builder: *mut kycvs_issuance_builder,
    schedule: *const kycvs_schedule,
) -> kycvs_result {
    ffi_panic_boundary! {
        let builder = try_mut!(builder);
        let schedule = try_ref!(schedule);
        builder.schedule(schedule.clone());
        kycvs_result::Ok
    }
}

/// Uses `key` (`KYCVS_PSEUDONYM_KEY_LEN` bytes) for the pairwise subjects; keep it secret and
/// stable to keep each person's `sub` at each verifier stable across restarts.
///
/// Errors: `KYCVS_RESULT_INVALID_KEY` (wrong length), `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuance_builder_set_pseudonym_key(
    builder: *mut kycvs_issuance_builder,
    key: *const u8,
    key_len: usize,
) -> kycvs_result {
    ffi_panic_boundary! {
        let builder = try_mut!(builder);
        let key = try_bytes!(key, key_len);
        match PseudonymKey::from_bytes(key) {
            Ok(key) => {
                builder.pseudonym_key(key);
                kycvs_result::Ok
            }
            Err(e) => fail(&e),
        }
    }
}

/// Uses `key` (`KYCVS_OTP_KEY_LEN` bytes; checked when built) to MAC OTPs and mobile numbers,
/// instead of a random key. Give the same key to both sides of one consent store.
///
/// Errors: `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuance_builder_set_otp_key(
    builder: *mut kycvs_issuance_builder,
    key: *const u8,
    key_len: usize,
) -> kycvs_result {
    ffi_panic_boundary! {
        let builder = try_mut!(builder);
        let key = try_bytes!(key, key_len);
        builder.otp_key(key);
        kycvs_result::Ok
    }
}

/// Keeps pending consents and rate counters in the consent file at `path` (`path_len` bytes
/// of UTF-8; its directory must exist), shared by every process that uses the same path and
/// OTP key; opened when built.
///
/// Errors: `KYCVS_RESULT_INVALID_ARGUMENT` (not UTF-8), `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuance_builder_set_consent_file(
    builder: *mut kycvs_issuance_builder,
    path: *const c_char,
    path_len: usize,
) -> kycvs_result {
    ffi_panic_boundary! {
        let builder = try_mut!(builder);
        let path = try_str!(path, path_len);
        builder.consent_file(path);
        kycvs_result::Ok
    }
}

/// Uses the limits in `*config` (checked when built).
///
/// Errors: `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuance_builder_set_config(
    builder: *mut kycvs_issuance_builder,
    config: *const kycvs_consent_config,
) -> kycvs_result {
    ffi_panic_boundary! {
        let builder = try_mut!(builder);
        let config = try_in!(config);
        builder.config((*config).into());
        kycvs_result::Ok
    }
}

/// Builds an issuance service (both steps) from the builder, which is not consumed.
///
/// On success `*out` holds a new service for `kycvs_issuance_service_free`.
/// Errors: `KYCVS_RESULT_INVALID_ARGUMENT` (no issuer or registry set, a limit out of range),
/// `KYCVS_RESULT_INVALID_KEY` (OTP key of the wrong length),
/// `KYCVS_RESULT_CONSENT_STORE_UNAVAILABLE` (the consent file cannot be opened),
/// `KYCVS_RESULT_RANDOM_SOURCE`, `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuance_builder_build(
    builder: *const kycvs_issuance_builder,
    out: *mut *const kycvs_issuance_service,
) -> kycvs_result {
    ffi_panic_boundary! {
        let builder = try_ref!(builder);
        let out = try_out!(out);
        match builder.build() {
            Ok(service) => {
                *out = new_arc(service);
                kycvs_result::Ok
            }
            Err(e) => fail(&e),
        }
    }
}

/// Builds the begin side alone (needs a registry, no issuer).
///
/// On success `*out` holds a new starter for `kycvs_consent_starter_free`.
/// Errors: as for `kycvs_issuance_builder_build`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuance_builder_build_starter(
    builder: *const kycvs_issuance_builder,
    out: *mut *const kycvs_consent_starter,
) -> kycvs_result {
    ffi_panic_boundary! {
        let builder = try_ref!(builder);
        let out = try_out!(out);
        match builder.build_starter() {
            Ok(starter) => {
                *out = new_arc(starter);
                kycvs_result::Ok
            }
            Err(e) => fail(&e),
        }
    }
}

/// Builds the complete side alone (needs an issuer, no registry).
///
/// On success `*out` holds a new completer for `kycvs_consent_completer_free`.
/// Errors: as for `kycvs_issuance_builder_build`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuance_builder_build_completer(
    builder: *const kycvs_issuance_builder,
    out: *mut *const kycvs_consent_completer,
) -> kycvs_result {
    ffi_panic_boundary! {
        let builder = try_ref!(builder);
        let out = try_out!(out);
        match builder.build_completer() {
            Ok(completer) => {
                *out = new_arc(completer);
                kycvs_result::Ok
            }
            Err(e) => fail(&e),
        }
    }
}

/// Frees an issuance builder, wiping any key set on it. NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuance_builder_free(builder: *mut kycvs_issuance_builder) {
    ffi_panic_boundary! {
        free_box(builder);
    }
}

/// Reads a request's text fields, or returns the error for the first bad one.
macro_rules! try_request {
    ($request:ident) => {{
        let request = try_in!($request);
        let (mobile, mobile_len) = (request.mobile, request.mobile_len);
        let (name, name_len) = (request.name, request.name_len);
        let (audience, audience_len) = (request.audience, request.audience_len);
        let (nonce, nonce_len) = (request.nonce, request.nonce_len);
        ConsentRequest {
            mobile: try_str!(mobile, mobile_len),
            name: try_str!(name, name_len),
            audience: try_str!(audience, audience_len),
            nonce: try_str!(nonce, nonce_len),
        }
    }};
}

/// Writes a challenge into `*out`.
fn write_challenge(
    begun: kycvs_core::Result<ConsentChallenge>,
    out: &mut kycvs_consent_challenge,
) -> kycvs_result {
    match begun {
        Ok(challenge) => {
            let mut made = kycvs_consent_challenge {
                consent_id: [0; KYCVS_CONSENT_ID_BUF_LEN],
                otp: [0; KYCVS_OTP_BUF_LEN],
                expires_at: challenge.expires_at,
            };
            let fits = copy_to_array(&mut made.consent_id, &challenge.consent_id)
                && copy_to_array(&mut made.otp, challenge.otp.expose());
            if !fits {
                return fail_with(
                    kycvs_result::Panic,
                    "a consent id or OTP is longer than its kycvs_consent_challenge field",
                );
            }
            *out = made;
            kycvs_result::Ok
        }
        Err(e) => fail(&e),
    }
}

/// Starts a consent for `*request` (the person called `name` registered under `mobile`, for a
/// token to the verifier `audience` bound to its transaction reference `nonce`) at time `now`
/// (seconds since the Unix epoch).
///
/// Answers a challenge whether or not such a person exists (the caller cannot tell the two
/// apart); the host must send `out->otp` by SMS to `mobile`, then clear `*out`.
///
/// On success writes `*out`.
/// Errors (none depends on whether the person exists): `KYCVS_RESULT_INVALID_MOBILE`,
/// `KYCVS_RESULT_INVALID_ARGUMENT` (name, audience, nonce or `now` out of range, or not
/// UTF-8), `KYCVS_RESULT_RATE_LIMITED`, `KYCVS_RESULT_CONSENT_STORE_FULL`,
/// `KYCVS_RESULT_CONSENT_STORE_UNAVAILABLE`, `KYCVS_RESULT_RANDOM_SOURCE`,
/// `KYCVS_RESULT_NULL_ARGUMENT` (a handle, `request`, one of its texts, or `out`).
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuance_service_begin(
    service: *const kycvs_issuance_service,
    request: *const kycvs_consent_request,
    now: u64,
    out: *mut kycvs_consent_challenge,
) -> kycvs_result {
    ffi_panic_boundary! {
        let service = try_ref!(service);
        let request = try_request!(request);
        let out = try_out!(out);
        write_challenge(service.begin(&request, now), out)
    }
}

/// `kycvs_issuance_service_begin` on the begin side alone.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_consent_starter_begin(
    starter: *const kycvs_consent_starter,
    request: *const kycvs_consent_request,
    now: u64,
    out: *mut kycvs_consent_challenge,
) -> kycvs_result {
    ffi_panic_boundary! {
        let starter = try_ref!(starter);
        let request = try_request!(request);
        let out = try_out!(out);
        write_challenge(starter.begin(&request, now), out)
    }
}

/// Releases a consent starter, wiping its keys once no reference is left. NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_consent_starter_free(starter: *const kycvs_consent_starter) {
    ffi_panic_boundary! {
        free_arc(starter);
    }
}

/// Overwrites a challenge with zeros (its OTP included), in a way the compiler keeps. NULL
/// does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_consent_challenge_clear(challenge: *mut kycvs_consent_challenge) {
    ffi_panic_boundary! {
        if let Some(challenge) = crate::ffi::out_ref(challenge) {
            use zeroize::Zeroize;
            challenge.consent_id.zeroize();
            challenge.otp.zeroize();
            challenge.expires_at.zeroize();
        }
    }
}

/// Completes consent `consent_id` with the OTP the person typed (`ptr, len` pairs), at time
/// `now`, and writes the signed token into `buf`, NUL-terminated, with `*out_len` = its
/// length. `buf_len` must be at least `KYCVS_TOKEN_BUF_LEN`: a smaller buffer is refused up
/// front (`KYCVS_RESULT_BUFFER_TOO_SMALL`, `*out_len` = `KYCVS_TOKEN_BUF_LEN`) and the consent
/// is left untouched, because a completed consent cannot be completed again.
///
/// Of several threads completing one consent at once, exactly one gets the token.
/// Errors: `KYCVS_RESULT_CONSENT_NOT_FOUND` (unknown, used, closed or evicted),
/// `KYCVS_RESULT_CONSENT_EXPIRED`, `KYCVS_RESULT_OTP_MISMATCH` (attempts remain),
/// `KYCVS_RESULT_ATTEMPTS_EXHAUSTED` (the consent is closed), after a correct OTP
/// `KYCVS_RESULT_UNKNOWN_PRODUCT` or `KYCVS_RESULT_INVALID_DOSE_RECORDS` (the person's records
/// give no status), `KYCVS_RESULT_INVALID_ARGUMENT` (not UTF-8), `KYCVS_RESULT_RANDOM_SOURCE`,
/// `KYCVS_RESULT_BUFFER_TOO_SMALL`, `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn kycvs_issuance_service_complete(
    service: *const kycvs_issuance_service,
    consent_id: *const c_char,
    consent_id_len: usize,
    otp: *const c_char,
    otp_len: usize,
    now: u64,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> kycvs_result {
    ffi_panic_boundary! {
        let service = try_ref!(service);
        kycvs_consent_completer_complete_inner(
            service.completer(), consent_id, consent_id_len, otp, otp_len, now, buf, buf_len,
            out_len,
        )
    }
}

/// `kycvs_issuance_service_complete` on the complete side alone (no registry needed).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn kycvs_consent_completer_complete(
    completer: *const kycvs_consent_completer,
    consent_id: *const c_char,
    consent_id_len: usize,
    otp: *const c_char,
    otp_len: usize,
    now: u64,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> kycvs_result {
    ffi_panic_boundary! {
        let completer = try_ref!(completer);
        kycvs_consent_completer_complete_inner(
            completer, consent_id, consent_id_len, otp, otp_len, now, buf, buf_len, out_len,
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn kycvs_consent_completer_complete_inner(
    completer: &ConsentCompleter,
    consent_id: *const c_char,
    consent_id_len: usize,
    otp: *const c_char,
    otp_len: usize,
    now: u64,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> kycvs_result {
    let consent_id = try_str!(consent_id, consent_id_len);
    let otp = try_str!(otp, otp_len);
    let buf = try_buf!(buf, buf_len);
    let out_len = try_out!(out_len);
    if buf_len < KYCVS_TOKEN_BUF_LEN {
        *out_len = KYCVS_TOKEN_BUF_LEN;
        return fail_with(
            kycvs_result::BufferTooSmall,
            &format!(
                "a buffer of {buf_len} bytes is too small: pass KYCVS_TOKEN_BUF_LEN \
                 ({KYCVS_TOKEN_BUF_LEN}); the consent is untouched"
            ),
        );
    }
    match completer.complete(consent_id, otp, now) {
        Ok(token) => buf.write(&token, out_len),
        Err(e) => fail(&e),
    }
}

/// Releases a consent completer, wiping its keys once no reference is left. NULL does
/// nothing.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_consent_completer_free(completer: *const kycvs_consent_completer) {
    ffi_panic_boundary! {
        free_arc(completer);
    }
}

/// The `sub` that `service` gives beneficiary `beneficiary_id` at verifier `audience` (its
/// pairwise pseudonym), written into `buf` like any text output.
///
/// Errors: `KYCVS_RESULT_INVALID_ARGUMENT` (not UTF-8), `KYCVS_RESULT_BUFFER_TOO_SMALL` with
/// `*out_len` = the size needed, `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuance_service_subject(
    service: *const kycvs_issuance_service,
    audience: *const c_char,
    audience_len: usize,
    beneficiary_id: *const c_char,
    beneficiary_id_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> kycvs_result {
    ffi_panic_boundary! {
        let service = try_ref!(service);
        let audience = try_str!(audience, audience_len);
        let beneficiary_id = try_str!(beneficiary_id, beneficiary_id_len);
        let buf = try_buf!(buf, buf_len);
        let out_len = try_out!(out_len);
        buf.write(&service.subject(audience, beneficiary_id), out_len)
    }
}

/// Releases an issuance service, wiping its keys once no reference is left. NULL does
/// nothing. Other threads must be done with it.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_issuance_service_free(service: *const kycvs_issuance_service) {
    ffi_panic_boundary! {
        free_arc(service);
    }
}
