/* Exercises the whole C API: keys, PEM, issue (both algorithms), verify, argument checks,
 * buffer sizes (zero-length ones included), result names, error messages, the panic
 * boundary, and a verifier shared by eight threads at once.
 * Prints "N passed, M failed" and exits non-zero on any failure. */
#define _POSIX_C_SOURCE 200809L /* pthread barriers under -std=c11 */
#include "kycvs.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            passed++;                                                                \
        } else {                                                                     \
            failed++;                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

/* Checks a call's result by name, so a failure prints both names. */
#define CHECK_RESULT(call, want)                                                      \
    do {                                                                              \
        kycvs_result got_ = (call);                                                   \
        if (got_ == (want)) {                                                         \
            passed++;                                                                 \
        } else {                                                                      \
            failed++;                                                                 \
            fprintf(stderr, "%s:%d: %s gave %s, want %s\n", __FILE__, __LINE__, #call, \
                    kycvs_result_name(got_), kycvs_result_name(want));                \
        }                                                                             \
    } while (0)

#define S(text) text, strlen(text)
/* A kycvs_token_request for kycvs_issuer_issue: audience, nonce, subject (ptr, len each),
 * status, ttl. */
#define TOKEN_REQUEST(...) (&(kycvs_token_request){__VA_ARGS__})

static const uint64_t NOW = 1700000000u;
static const char *const ISSUER = "cowin.example";
static const char *const AUDIENCE = "irctc.example";
static const char *const NONCE = "PNR-4711";
static const char *const SUBJECT = "pseudonym-1";

static void test_version_and_clock(void) {
    const char *version = kycvs_version();
    CHECK(version != NULL && strchr(version, '.') != NULL);
    CHECK(kycvs_unix_now() > NOW);
}

/* The backend is the fastest one this CPU supports, by the compiler's own CPUID test: the
 * library is built with the AVX-512 IFMA, AVX2 and serial code all compiled in. */
static void test_backend(void) {
    const char *backend = kycvs_backend();
    const char *want = "serial";
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512ifma") && __builtin_cpu_supports("avx512vl")) {
        want = "avx512ifma";
    } else if (__builtin_cpu_supports("avx2")) {
        want = "avx2";
    }
#endif
    CHECK(backend != NULL && strcmp(backend, want) == 0);
    if (backend != NULL && strcmp(backend, want) != 0) {
        fprintf(stderr, "kycvs_backend() = %s, want %s\n", backend, want);
    }
    CHECK(backend == kycvs_backend());
}

static void test_result_names(void) {
    static const struct {
        kycvs_result result;
        uint32_t number;
        const char *name;
    } all[] = {
        {KYCVS_RESULT_OK, 0, "ok"},
        {KYCVS_RESULT_MALFORMED, 1, "malformed"},
        {KYCVS_RESULT_TOO_LARGE, 2, "too_large"},
        {KYCVS_RESULT_UNSUPPORTED_ALGORITHM, 3, "unsupported_algorithm"},
        {KYCVS_RESULT_BAD_HEADER, 4, "bad_header"},
        {KYCVS_RESULT_UNKNOWN_KEY, 5, "unknown_key"},
        {KYCVS_RESULT_BAD_SIGNATURE, 6, "bad_signature"},
        {KYCVS_RESULT_BAD_CLAIMS, 7, "bad_claims"},
        {KYCVS_RESULT_ISSUER_MISMATCH, 8, "issuer_mismatch"},
        {KYCVS_RESULT_AUDIENCE_MISMATCH, 9, "audience_mismatch"},
        {KYCVS_RESULT_NONCE_MISMATCH, 10, "nonce_mismatch"},
        {KYCVS_RESULT_EXPIRED, 11, "expired"},
        {KYCVS_RESULT_NOT_YET_VALID, 12, "not_yet_valid"},
        {KYCVS_RESULT_LIFETIME_TOO_LONG, 13, "lifetime_too_long"},
        {KYCVS_RESULT_REPLAYED, 14, "replayed"},
        {KYCVS_RESULT_KEY_NOT_VALID, 15, "key_not_valid"},
        {KYCVS_RESULT_INVALID_KEY, 100, "invalid_key"},
        {KYCVS_RESULT_INVALID_TRUST_STORE, 101, "invalid_trust_store"},
        {KYCVS_RESULT_INVALID_ARGUMENT, 102, "invalid_argument"},
        {KYCVS_RESULT_RANDOM_SOURCE, 103, "random_source"},
        {KYCVS_RESULT_INVALID_BUNDLE, 104, "invalid_bundle"},
        {KYCVS_RESULT_STALE_BUNDLE, 105, "stale_bundle"},
        {KYCVS_RESULT_BUNDLE_ROLLBACK, 106, "bundle_rollback"},
        {KYCVS_RESULT_REPLAY_STORE_UNAVAILABLE, 107, "replay_store_unavailable"},
        {KYCVS_RESULT_INVALID_REGISTRY, 150, "invalid_registry"},
        {KYCVS_RESULT_INVALID_SCHEDULE, 151, "invalid_schedule"},
        {KYCVS_RESULT_UNKNOWN_PRODUCT, 152, "unknown_product"},
        {KYCVS_RESULT_INVALID_DOSE_RECORDS, 153, "invalid_dose_records"},
        {KYCVS_RESULT_INVALID_MOBILE, 154, "invalid_mobile"},
        {KYCVS_RESULT_CONSENT_NOT_FOUND, 160, "consent_not_found"},
        {KYCVS_RESULT_CONSENT_EXPIRED, 161, "consent_expired"},
        {KYCVS_RESULT_OTP_MISMATCH, 162, "otp_mismatch"},
        {KYCVS_RESULT_ATTEMPTS_EXHAUSTED, 163, "attempts_exhausted"},
        {KYCVS_RESULT_RATE_LIMITED, 164, "rate_limited"},
        {KYCVS_RESULT_CONSENT_STORE_FULL, 165, "consent_store_full"},
        {KYCVS_RESULT_CONSENT_STORE_UNAVAILABLE, 166, "consent_store_unavailable"},
        {KYCVS_RESULT_NULL_ARGUMENT, 200, "null_argument"},
        {KYCVS_RESULT_BUFFER_TOO_SMALL, 201, "buffer_too_small"},
        {KYCVS_RESULT_PANIC, 202, "panic"},
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        CHECK((uint32_t)all[i].result == all[i].number);
        CHECK(strcmp(kycvs_result_name(all[i].result), all[i].name) == 0);
    }
    static const uint32_t unknown[] = {16, 99, 108, 149, 199, 203, UINT32_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        CHECK(strcmp(kycvs_result_name(unknown[i]), "unknown") == 0);
    }
}

/* Makes a one-key trust store for `key` bound to ISSUER. */
static kycvs_trust_store *trust_for(const kycvs_signing_key *key) {
    char jwk[512], jwks[600];
    size_t len = 0;
    CHECK_RESULT(kycvs_signing_key_public_jwk(key, S(ISSUER), jwk, sizeof jwk, &len),
                 KYCVS_RESULT_OK);
    CHECK(len == strlen(jwk));
    snprintf(jwks, sizeof jwks, "{\"keys\":[%s]}", jwk);
    kycvs_trust_store *trust = NULL;
    CHECK_RESULT(kycvs_trust_store_from_jwks((const uint8_t *)jwks, strlen(jwks), &trust),
                 KYCVS_RESULT_OK);
    CHECK(kycvs_trust_store_len(trust) == 1);
    return trust;
}

static const kycvs_verifier *verifier_for(const kycvs_trust_store *trust) {
    kycvs_verifier_builder *builder = NULL;
    const kycvs_verifier *verifier = NULL;
    CHECK_RESULT(kycvs_verifier_builder_new(S(AUDIENCE), &builder), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_verifier_builder_add_issuer(builder, S(ISSUER)), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_verifier_builder_set_leeway(builder, 30), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_verifier_builder_set_max_lifetime(builder, 600), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_verifier_builder_build(builder, trust, &verifier), KYCVS_RESULT_OK);
    kycvs_verifier_builder_free(builder);
    return verifier;
}

static kycvs_result issue(const kycvs_issuer *issuer, char *buf, size_t buf_len,
                          size_t *out_len) {
    return kycvs_issuer_issue(issuer, TOKEN_REQUEST(S(AUDIENCE), S(NONCE), S(SUBJECT), 2, 300), NOW, buf,
                              buf_len, out_len);
}

static void test_keys_and_pem(void) {
    kycvs_signing_key *key = NULL, *back = NULL;
    CHECK_RESULT(kycvs_signing_key_generate(&key), KYCVS_RESULT_OK);
    CHECK(key != NULL);

    /* kid: size query, exact fit, one byte short (untouched). */
    char kid[64], kid_back[64];
    size_t len = 0;
    CHECK_RESULT(kycvs_signing_key_kid(key, NULL, 0, &len), KYCVS_RESULT_BUFFER_TOO_SMALL);
    CHECK(len == 44);
    memset(kid, 'x', sizeof kid);
    CHECK_RESULT(kycvs_signing_key_kid(key, kid, 43, &len), KYCVS_RESULT_BUFFER_TOO_SMALL);
    CHECK(len == 44 && kid[0] == 'x' && kid[42] == 'x');
    CHECK_RESULT(kycvs_signing_key_kid(key, kid, 44, &len), KYCVS_RESULT_OK);
    CHECK(len == 43 && strlen(kid) == 43);

    /* PEM round trip through exactly the size asked for. */
    char pem[256];
    size_t needed = 0;
    CHECK_RESULT(kycvs_signing_key_to_pem(key, pem, 0, &needed), KYCVS_RESULT_BUFFER_TOO_SMALL);
    CHECK(needed > 64 && needed <= sizeof pem);
    memset(pem, 'x', sizeof pem);
    CHECK_RESULT(kycvs_signing_key_to_pem(key, pem, needed - 1, &len),
                 KYCVS_RESULT_BUFFER_TOO_SMALL);
    CHECK(len == needed && pem[0] == 'x');
    CHECK_RESULT(kycvs_signing_key_to_pem(key, pem, needed, &len), KYCVS_RESULT_OK);
    CHECK(len == needed - 1 && strncmp(pem, "-----BEGIN PRIVATE KEY-----", 27) == 0);
    CHECK_RESULT(kycvs_signing_key_from_pem(pem, len, &back), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_signing_key_kid(back, kid_back, sizeof kid_back, &len), KYCVS_RESULT_OK);
    CHECK(strcmp(kid, kid_back) == 0);
    memset(pem, 0, sizeof pem); /* the secret */

    kycvs_signing_key *bad = NULL;
    CHECK_RESULT(kycvs_signing_key_from_pem(S("not a key"), &bad), KYCVS_RESULT_INVALID_KEY);
    CHECK(bad == NULL);
    CHECK_RESULT(kycvs_signing_key_from_pem(S("\xff\xfe"), &bad), KYCVS_RESULT_INVALID_ARGUMENT);

    kycvs_trust_store *store = NULL;
    CHECK_RESULT(kycvs_trust_store_from_jwks((const uint8_t *)"{\"keys\":", 8, &store),
                 KYCVS_RESULT_INVALID_TRUST_STORE);
    CHECK(store == NULL);

    kycvs_signing_key_free(back);
    kycvs_signing_key_free(key);
}

/* A kycvs_str equals a C string. */
static int str_is(kycvs_str s, const char *want) {
    return s.data != NULL && s.len == strlen(want) && memcmp(s.data, want, s.len) == 0;
}

static void check_verified(const kycvs_verified *out, const char *kid) {
    CHECK(kycvs_verified_status(out) == 2);
    CHECK(kycvs_verified_iat(out) == NOW && kycvs_verified_exp(out) == NOW + 300);
    CHECK(str_is(kycvs_verified_iss(out), ISSUER));
    CHECK(str_is(kycvs_verified_sub(out), SUBJECT));
    CHECK(str_is(kycvs_verified_aud(out), AUDIENCE));
    CHECK(str_is(kycvs_verified_nonce(out), NONCE));
    CHECK(str_is(kycvs_verified_kid(out), kid));
    CHECK(kycvs_verified_jti(out).len >= 22);
}

static void test_issue_and_verify(void) {
    kycvs_signing_key *key = NULL;
    CHECK_RESULT(kycvs_signing_key_generate(&key), KYCVS_RESULT_OK);
    char kid[64];
    size_t len = 0;
    CHECK_RESULT(kycvs_signing_key_kid(key, kid, sizeof kid, &len), KYCVS_RESULT_OK);
    kycvs_trust_store *trust = trust_for(key);
    const kycvs_verifier *verifier = verifier_for(trust);

    for (int legacy = 0; legacy <= 1; legacy++) {
        kycvs_issuer *issuer = NULL;
        CHECK_RESULT(kycvs_issuer_new(key, S(ISSUER), legacy ? KYCVS_ALGORITHM_ED_DSA : KYCVS_ALGORITHM_ED25519, &issuer), KYCVS_RESULT_OK);
        char token[KYCVS_TOKEN_BUF_LEN];
        CHECK_RESULT(issue(issuer, token, sizeof token, &len), KYCVS_RESULT_OK);
        CHECK(len == strlen(token));
        /* The header's first member: {"alg":"Ed25519" or {"alg":"EdDSA". */
        const char *alg_prefix = legacy ? "eyJhbGciOiJFZERTQSIs" : "eyJhbGciOiJFZDI1NTE5Iiw";
        CHECK(strncmp(token, alg_prefix, strlen(alg_prefix)) == 0);

        kycvs_verified *out = NULL;
        CHECK_RESULT(kycvs_verifier_verify(verifier, token, len, S(NONCE), NOW + 10, &out),
                     KYCVS_RESULT_OK);
        check_verified(out, kid);
        kycvs_verified_free(out);

        /* Failures leave *out as it was. */
        kycvs_verified *const untouched = (kycvs_verified *)&len;
        out = untouched;
        /* No expected nonce: refused, since this verifier requires the nonce check. */
        CHECK_RESULT(kycvs_verifier_verify(verifier, token, len, NULL, 99, NOW + 10, &out),
                     KYCVS_RESULT_INVALID_ARGUMENT);
        CHECK_RESULT(kycvs_verifier_verify(verifier, token, len, S("PNR-4712"), NOW + 10, &out),
                     KYCVS_RESULT_NONCE_MISMATCH);
        CHECK_RESULT(kycvs_verifier_verify(verifier, token, len, S(NONCE), NOW + 330, &out),
                     KYCVS_RESULT_EXPIRED);
        CHECK_RESULT(kycvs_verifier_verify(verifier, token, len, S(NONCE), NOW - 31, &out),
                     KYCVS_RESULT_NOT_YET_VALID);
        token[len - 2] = token[len - 2] == 'A' ? 'B' : 'A';
        CHECK_RESULT(kycvs_verifier_verify(verifier, token, len, S(NONCE), NOW + 10, &out),
                     KYCVS_RESULT_BAD_SIGNATURE);
        CHECK(out == untouched);

        /* Too-small buffers give the size needed; a token always fits KYCVS_TOKEN_BUF_LEN. */
        char small[16];
        memset(small, 'x', sizeof small);
        CHECK_RESULT(issue(issuer, small, sizeof small, &len), KYCVS_RESULT_BUFFER_TOO_SMALL);
        CHECK(len > sizeof small && len <= KYCVS_TOKEN_BUF_LEN && small[0] == 'x');
        CHECK_RESULT(issue(issuer, NULL, 0, &len), KYCVS_RESULT_BUFFER_TOO_SMALL);

        /* Values out of range are the core's to reject. */
        CHECK_RESULT(kycvs_issuer_issue(issuer, TOKEN_REQUEST(S(AUDIENCE), S(NONCE), S(SUBJECT), 3, 300), NOW,
                                        token, sizeof token, &len),
                     KYCVS_RESULT_INVALID_ARGUMENT);
        CHECK_RESULT(kycvs_issuer_issue(issuer, TOKEN_REQUEST(S(AUDIENCE), S(NONCE), S(SUBJECT), 1, 0), NOW,
                                        token, sizeof token, &len),
                     KYCVS_RESULT_INVALID_ARGUMENT);
        CHECK_RESULT(kycvs_issuer_issue(issuer, TOKEN_REQUEST(S(AUDIENCE), S(""), S(SUBJECT), 1, 300), NOW,
                                        token, sizeof token, &len),
                     KYCVS_RESULT_INVALID_ARGUMENT);
        kycvs_issuer_free(issuer);
    }

    /* A builder stays usable after build; a bad policy fails at build. */
    kycvs_verifier_builder *builder = NULL;
    const kycvs_verifier *v1 = NULL, *v2 = NULL;
    CHECK_RESULT(kycvs_verifier_builder_new(S(AUDIENCE), &builder), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_verifier_builder_build(builder, trust, &v1), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_verifier_builder_build(builder, trust, &v2), KYCVS_RESULT_OK);
    CHECK(v1 != NULL && v2 != NULL && v1 != v2);
    CHECK_RESULT(kycvs_verifier_builder_set_max_lifetime(builder, 0), KYCVS_RESULT_OK);
    const kycvs_verifier *v3 = NULL;
    CHECK_RESULT(kycvs_verifier_builder_build(builder, trust, &v3),
                 KYCVS_RESULT_INVALID_ARGUMENT);
    CHECK(v3 == NULL);
    kycvs_verifier_builder_free(builder);
    kycvs_verifier_free(v1);
    kycvs_verifier_free(v2);

    /* The trust store was copied into the verifier: freeing it first is fine. */
    kycvs_trust_store_free(trust);
    kycvs_issuer *issuer = NULL;
    char token[KYCVS_TOKEN_BUF_LEN];
    CHECK_RESULT(kycvs_issuer_new(key, S(ISSUER), KYCVS_ALGORITHM_ED25519, &issuer), KYCVS_RESULT_OK);
    kycvs_signing_key_free(key); /* the issuer holds its own copy */
    CHECK_RESULT(issue(issuer, token, sizeof token, &len), KYCVS_RESULT_OK);
    kycvs_verified *out = NULL;
    CHECK_RESULT(kycvs_verifier_verify(verifier, token, len, S(NONCE), NOW, &out),
                 KYCVS_RESULT_OK);
    kycvs_verifier_free(verifier);
    /* The result outlives its verifier. */
    CHECK(kycvs_verified_status(out) == 2 && str_is(kycvs_verified_nonce(out), NONCE));
    kycvs_verified_free(out);
    kycvs_issuer_free(issuer);
}

/* Without a nonce a verification is refused unless the builder disabled the check; then a
 * NULL nonce passes any nonce, and a given one is still checked. */
static void test_nonce_check(void) {
    kycvs_signing_key *key = NULL;
    CHECK_RESULT(kycvs_signing_key_generate(&key), KYCVS_RESULT_OK);
    kycvs_trust_store *trust = trust_for(key);
    kycvs_issuer *issuer = NULL;
    CHECK_RESULT(kycvs_issuer_new(key, S(ISSUER), false, &issuer), KYCVS_RESULT_OK);
    char token[KYCVS_TOKEN_BUF_LEN];
    size_t len = 0;
    CHECK_RESULT(issue(issuer, token, sizeof token, &len), KYCVS_RESULT_OK);

    const kycvs_verifier *strict = verifier_for(trust);
    kycvs_verified *out = NULL;
    CHECK_RESULT(kycvs_verifier_verify(strict, token, len, NULL, 0, NOW, &out),
                 KYCVS_RESULT_INVALID_ARGUMENT);
    CHECK(out == NULL);
    char message[256];
    CHECK_RESULT(kycvs_last_error_message(message, sizeof message, &len), KYCVS_RESULT_OK);
    CHECK(strstr(message, "nonce") != NULL);
    len = strlen(token);

    kycvs_verifier_builder *builder = NULL;
    const kycvs_verifier *lenient = NULL;
    CHECK_RESULT(kycvs_verifier_builder_new(S(AUDIENCE), &builder), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_verifier_builder_disable_nonce_check(builder), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_verifier_builder_build(builder, trust, &lenient), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_verifier_verify(lenient, token, len, NULL, 0, NOW, &out),
                 KYCVS_RESULT_OK);
    CHECK(str_is(kycvs_verified_nonce(out), NONCE));
    kycvs_verified_free(out);
    out = NULL;
    CHECK_RESULT(kycvs_verifier_verify(lenient, token, len, S("PNR-0"), NOW, &out),
                 KYCVS_RESULT_NONCE_MISMATCH);
    CHECK(out == NULL);
    CHECK_RESULT(kycvs_verifier_builder_disable_nonce_check(NULL), KYCVS_RESULT_NULL_ARGUMENT);

    /* Accessors of NULL answer empty values. */
    CHECK(kycvs_verified_status(NULL) == KYCVS_VERIFIED_STATUS_NONE);
    CHECK(kycvs_verified_iat(NULL) == 0 && kycvs_verified_exp(NULL) == 0);
    CHECK(str_is(kycvs_verified_iss(NULL), "") && str_is(kycvs_verified_kid(NULL), ""));
    kycvs_verified_free(NULL);

    kycvs_verifier_free(lenient);
    kycvs_verifier_builder_free(builder);
    kycvs_verifier_free(strict);
    kycvs_issuer_free(issuer);
    kycvs_trust_store_free(trust);
    kycvs_signing_key_free(key);
}

static void test_last_error_message(void) {
    kycvs_verifier_builder *builder = NULL;
    CHECK_RESULT(kycvs_verifier_builder_new(S(AUDIENCE), &builder), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_verifier_builder_set_leeway(builder, 999999), KYCVS_RESULT_OK);
    kycvs_trust_store *trust = NULL;
    CHECK_RESULT(kycvs_trust_store_from_jwks((const uint8_t *)"{\"keys\":[]}", 11, &trust),
                 KYCVS_RESULT_OK);
    const kycvs_verifier *verifier = NULL;
    CHECK_RESULT(kycvs_verifier_builder_build(builder, trust, &verifier),
                 KYCVS_RESULT_INVALID_ARGUMENT);

    size_t needed = 0, len = 0;
    CHECK_RESULT(kycvs_last_error_message(NULL, 0, &needed), KYCVS_RESULT_BUFFER_TOO_SMALL);
    char tiny[4] = {'x', 'x', 'x', 'x'};
    CHECK_RESULT(kycvs_last_error_message(tiny, sizeof tiny, &len),
                 KYCVS_RESULT_BUFFER_TOO_SMALL);
    CHECK(len == needed && tiny[0] == 'x');
    char message[256];
    /* The failed reads above did not replace the message. */
    CHECK_RESULT(kycvs_last_error_message(message, sizeof message, &len), KYCVS_RESULT_OK);
    CHECK(len + 1 == needed && strlen(message) == len);
    CHECK(strncmp(message, "invalid_argument: ", 18) == 0 && strstr(message, "leeway") != NULL);

    /* A successful call does not clear it. */
    CHECK(kycvs_trust_store_len(trust) == 0);
    CHECK_RESULT(kycvs_last_error_message(message, sizeof message, &len), KYCVS_RESULT_OK);
    CHECK(strstr(message, "leeway") != NULL);

    /* NULL arguments are named. */
    CHECK_RESULT(kycvs_verifier_builder_set_leeway(NULL, 1), KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_last_error_message(message, sizeof message, &len), KYCVS_RESULT_OK);
    CHECK(strcmp(message, "null_argument: argument `builder` is NULL") == 0);

    kycvs_trust_store_free(trust);
    kycvs_verifier_builder_free(builder);
}

static void test_bad_text(void) {
    const char *bad = "\xc3\x28"; /* an invalid UTF-8 sequence */
    kycvs_verifier_builder *builder = NULL;
    CHECK_RESULT(kycvs_verifier_builder_new(S(bad), &builder), KYCVS_RESULT_INVALID_ARGUMENT);
    CHECK(builder == NULL);
    CHECK_RESULT(kycvs_verifier_builder_new(S(AUDIENCE), &builder), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_verifier_builder_add_issuer(builder, S(bad)),
                 KYCVS_RESULT_INVALID_ARGUMENT);

    kycvs_signing_key *key = NULL;
    CHECK_RESULT(kycvs_signing_key_generate(&key), KYCVS_RESULT_OK);
    kycvs_issuer *issuer = NULL;
    CHECK_RESULT(kycvs_issuer_new(key, S(bad), KYCVS_ALGORITHM_ED25519, &issuer), KYCVS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(kycvs_issuer_new(key, S(""), KYCVS_ALGORITHM_ED25519, &issuer), KYCVS_RESULT_INVALID_ARGUMENT);
    CHECK(issuer == NULL);
    CHECK_RESULT(kycvs_issuer_new(key, S(ISSUER), KYCVS_ALGORITHM_ED25519, &issuer), KYCVS_RESULT_OK);
    char token[KYCVS_TOKEN_BUF_LEN], jwk[512];
    size_t len = 0;
    CHECK_RESULT(kycvs_issuer_issue(issuer, TOKEN_REQUEST(S(AUDIENCE), S(NONCE), S(bad), 1, 300), NOW, token,
                                    sizeof token, &len),
                 KYCVS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(kycvs_signing_key_public_jwk(key, S(bad), jwk, sizeof jwk, &len),
                 KYCVS_RESULT_INVALID_ARGUMENT);

    kycvs_trust_store *trust = trust_for(key);
    const kycvs_verifier *verifier = NULL;
    CHECK_RESULT(kycvs_verifier_builder_build(builder, trust, &verifier), KYCVS_RESULT_OK);
    kycvs_verified *out = NULL;
    CHECK_RESULT(issue(issuer, token, sizeof token, &len), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_verifier_verify(verifier, token, len, S(bad), NOW, &out),
                 KYCVS_RESULT_INVALID_ARGUMENT);
    token[5] = (char)0xff;
    CHECK_RESULT(kycvs_verifier_verify(verifier, token, len, S(NONCE), NOW, &out),
                 KYCVS_RESULT_MALFORMED);
    CHECK_RESULT(kycvs_verifier_verify(verifier, "", 0, S(NONCE), NOW, &out),
                 KYCVS_RESULT_MALFORMED);

    /* A 5000-byte token is refused before anything is parsed. */
    static char huge[5000];
    memset(huge, 'A', sizeof huge);
    huge[100] = '.';
    huge[200] = '.';
    CHECK_RESULT(kycvs_verifier_verify(verifier, huge, sizeof huge, S(NONCE), NOW, &out),
                 KYCVS_RESULT_TOO_LARGE);
    CHECK(out == NULL);

    kycvs_verifier_free(verifier);
    kycvs_trust_store_free(trust);
    kycvs_issuer_free(issuer);
    kycvs_signing_key_free(key);
    kycvs_verifier_builder_free(builder);
}

static void test_null_arguments(void) {
    const kycvs_result NUL = KYCVS_RESULT_NULL_ARGUMENT;
    kycvs_signing_key *key = NULL;
    CHECK_RESULT(kycvs_signing_key_generate(&key), KYCVS_RESULT_OK);
    kycvs_trust_store *trust = trust_for(key);
    kycvs_verifier_builder *builder = NULL;
    CHECK_RESULT(kycvs_verifier_builder_new(S(AUDIENCE), &builder), KYCVS_RESULT_OK);
    const kycvs_verifier *verifier = verifier_for(trust);
    kycvs_issuer *issuer = NULL;
    CHECK_RESULT(kycvs_issuer_new(key, S(ISSUER), KYCVS_ALGORITHM_ED25519, &issuer), KYCVS_RESULT_OK);

    char buf[KYCVS_TOKEN_BUF_LEN];
    size_t len = 12345;
    const char *jwks = "{\"keys\":[]}";
    kycvs_verified *out = (kycvs_verified *)&len;

    /* Output handles stay as they were when a call fails. */
    kycvs_signing_key *key_out = (kycvs_signing_key *)&len;
    kycvs_trust_store *trust_out = (kycvs_trust_store *)&len;
    kycvs_verifier_builder *builder_out = (kycvs_verifier_builder *)&len;
    const kycvs_verifier *verifier_out = (const kycvs_verifier *)&len;
    kycvs_issuer *issuer_out = (kycvs_issuer *)&len;

    CHECK_RESULT(kycvs_last_error_message(buf, sizeof buf, NULL), NUL);
    CHECK_RESULT(kycvs_last_error_message(NULL, 10, &len), NUL);

    CHECK_RESULT(kycvs_signing_key_generate(NULL), NUL);
    CHECK_RESULT(kycvs_signing_key_from_pem(NULL, 10, &key_out), NUL);
    CHECK_RESULT(kycvs_signing_key_from_pem(S("x"), NULL), NUL);
    CHECK_RESULT(kycvs_signing_key_to_pem(NULL, buf, sizeof buf, &len), NUL);
    CHECK_RESULT(kycvs_signing_key_to_pem(key, NULL, sizeof buf, &len), NUL);
    CHECK_RESULT(kycvs_signing_key_to_pem(key, buf, sizeof buf, NULL), NUL);
    CHECK_RESULT(kycvs_signing_key_kid(NULL, buf, sizeof buf, &len), NUL);
    CHECK_RESULT(kycvs_signing_key_kid(key, NULL, sizeof buf, &len), NUL);
    CHECK_RESULT(kycvs_signing_key_kid(key, buf, sizeof buf, NULL), NUL);
    CHECK_RESULT(kycvs_signing_key_public_jwk(NULL, S(ISSUER), buf, sizeof buf, &len), NUL);
    CHECK_RESULT(kycvs_signing_key_public_jwk(key, NULL, 3, buf, sizeof buf, &len), NUL);
    CHECK_RESULT(kycvs_signing_key_public_jwk(key, S(ISSUER), NULL, sizeof buf, &len), NUL);
    CHECK_RESULT(kycvs_signing_key_public_jwk(key, S(ISSUER), buf, sizeof buf, NULL), NUL);

    CHECK_RESULT(kycvs_trust_store_from_jwks(NULL, 11, &trust_out), NUL);
    CHECK_RESULT(kycvs_trust_store_from_jwks((const uint8_t *)jwks, 11, NULL), NUL);
    CHECK(kycvs_trust_store_len(NULL) == 0);

    CHECK_RESULT(kycvs_verifier_builder_new(NULL, 3, &builder_out), NUL);
    CHECK_RESULT(kycvs_verifier_builder_new(S(AUDIENCE), NULL), NUL);
    CHECK_RESULT(kycvs_verifier_builder_add_issuer(NULL, S(ISSUER)), NUL);
    CHECK_RESULT(kycvs_verifier_builder_add_issuer(builder, NULL, 3), NUL);
    CHECK_RESULT(kycvs_verifier_builder_set_leeway(NULL, 1), NUL);
    CHECK_RESULT(kycvs_verifier_builder_set_max_lifetime(NULL, 1), NUL);
    CHECK_RESULT(kycvs_verifier_builder_build(NULL, trust, &verifier_out), NUL);
    CHECK_RESULT(kycvs_verifier_builder_build(builder, NULL, &verifier_out), NUL);
    CHECK_RESULT(kycvs_verifier_builder_build(builder, trust, NULL), NUL);

    CHECK_RESULT(kycvs_verifier_verify(NULL, S("a.b.c"), S(NONCE), NOW, &out), NUL);
    CHECK_RESULT(kycvs_verifier_verify(verifier, NULL, 5, S(NONCE), NOW, &out), NUL);
    CHECK_RESULT(kycvs_verifier_verify(verifier, S("a.b.c"), S(NONCE), NOW, NULL), NUL);

    CHECK_RESULT(kycvs_issuer_new(NULL, S(ISSUER), KYCVS_ALGORITHM_ED25519, &issuer_out), NUL);
    CHECK_RESULT(kycvs_issuer_new(key, NULL, 3, KYCVS_ALGORITHM_ED25519, &issuer_out), NUL);
    CHECK_RESULT(kycvs_issuer_new(key, S(ISSUER), KYCVS_ALGORITHM_ED25519, NULL), NUL);
    CHECK_RESULT(kycvs_issuer_issue(NULL, TOKEN_REQUEST(S(AUDIENCE), S(NONCE), S(SUBJECT), 2, 300), NOW, buf,
                                    sizeof buf, &len),
                 NUL);
    CHECK_RESULT(kycvs_issuer_issue(issuer, TOKEN_REQUEST(NULL, 3, S(NONCE), S(SUBJECT), 2, 300), NOW, buf,
                                    sizeof buf, &len),
                 NUL);
    CHECK_RESULT(kycvs_issuer_issue(issuer, TOKEN_REQUEST(S(AUDIENCE), NULL, 3, S(SUBJECT), 2, 300), NOW, buf,
                                    sizeof buf, &len),
                 NUL);
    CHECK_RESULT(kycvs_issuer_issue(issuer, TOKEN_REQUEST(S(AUDIENCE), S(NONCE), NULL, 3, 2, 300), NOW, buf,
                                    sizeof buf, &len),
                 NUL);
    CHECK_RESULT(kycvs_issuer_issue(issuer, TOKEN_REQUEST(S(AUDIENCE), S(NONCE), S(SUBJECT), 2, 300), NOW,
                                    NULL, sizeof buf, &len),
                 NUL);
    CHECK_RESULT(kycvs_issuer_issue(issuer, TOKEN_REQUEST(S(AUDIENCE), S(NONCE), S(SUBJECT), 2, 300), NOW, buf,
                                    sizeof buf, NULL),
                 NUL);

    CHECK(len == 12345);
    CHECK(key_out == (kycvs_signing_key *)&len && trust_out == (kycvs_trust_store *)&len);
    CHECK(builder_out == (kycvs_verifier_builder *)&len);
    CHECK(verifier_out == (const kycvs_verifier *)&len && issuer_out == (kycvs_issuer *)&len);
    CHECK(out == (kycvs_verified *)&len);

    /* _free(NULL) does nothing. */
    kycvs_signing_key_free(NULL);
    kycvs_trust_store_free(NULL);
    kycvs_verifier_builder_free(NULL);
    kycvs_verifier_free(NULL);
    kycvs_verified_free(NULL);
    kycvs_issuer_free(NULL);

    kycvs_issuer_free(issuer);
    kycvs_verifier_free(verifier);
    kycvs_verifier_builder_free(builder);
    kycvs_trust_store_free(trust);
    kycvs_signing_key_free(key);
}

enum { THREADS = 8, ROUNDS = 100 };

static pthread_barrier_t start_together;

struct thread_job {
    const kycvs_verifier *verifier;
    const char *kid;     /* the signing key's kid */
    char nonce[32];      /* this thread's own transaction */
    char subject[32];    /* this thread's own subject */
    uint8_t status;      /* this thread's own status */
    uint64_t ttl;        /* this thread's own lifetime */
    char token[KYCVS_TOKEN_BUF_LEN];
    size_t token_len;
    char forged[KYCVS_TOKEN_BUF_LEN]; /* the token with its signature changed */
    char jti[64];        /* the jti last read back */
    int ok;              /* verifications whose every field was this thread's own */
    int rejected;        /* forged tokens rejected as bad_signature, with their own message */
    int own_message;     /* this thread's last error is its own */
};

/* Every field of `out` is what `job` issued. */
static int fields_are_own(const kycvs_verified *out, struct thread_job *job) {
    kycvs_str jti = kycvs_verified_jti(out);
    if (jti.len == 0 || jti.len >= sizeof job->jti) {
        return 0;
    }
    memcpy(job->jti, jti.data, jti.len);
    job->jti[jti.len] = '\0';
    return kycvs_verified_status(out) == job->status && kycvs_verified_iat(out) == NOW &&
           kycvs_verified_exp(out) == NOW + job->ttl && str_is(kycvs_verified_iss(out), ISSUER) &&
           str_is(kycvs_verified_aud(out), AUDIENCE) &&
           str_is(kycvs_verified_sub(out), job->subject) &&
           str_is(kycvs_verified_nonce(out), job->nonce) && str_is(kycvs_verified_kid(out), job->kid);
}

static void *verify_many(void *arg) {
    struct thread_job *job = arg;
    pthread_barrier_wait(&start_together);
    for (int i = 0; i < ROUNDS; i++) {
        kycvs_verified *out = NULL;
        if (kycvs_verifier_verify(job->verifier, job->token, job->token_len, S(job->nonce), NOW + 1,
                                  &out) == KYCVS_RESULT_OK &&
            fields_are_own(out, job)) {
            job->ok++;
        }
        kycvs_verified_free(out);
        char message[256];
        size_t len = 0;
        out = NULL;
        if (kycvs_verifier_verify(job->verifier, job->forged, job->token_len, S(job->nonce),
                                  NOW + 1, &out) == KYCVS_RESULT_BAD_SIGNATURE &&
            out == NULL &&
            kycvs_last_error_message(message, sizeof message, &len) == KYCVS_RESULT_OK &&
            strncmp(message, "bad_signature", 13) == 0) {
            job->rejected++;
        }
    }
    kycvs_verified *out = NULL;
    char message[256];
    size_t len = 0;
    if (kycvs_verifier_verify(job->verifier, job->token, job->token_len, S("other"), NOW + 1,
                              &out) == KYCVS_RESULT_NONCE_MISMATCH &&
        kycvs_last_error_message(message, sizeof message, &len) == KYCVS_RESULT_OK) {
        job->own_message = strncmp(message, "nonce_mismatch", 14) == 0;
    }
    return NULL;
}

static void test_shared_verifier(void) {
    kycvs_signing_key *key = NULL;
    CHECK_RESULT(kycvs_signing_key_generate(&key), KYCVS_RESULT_OK);
    kycvs_trust_store *trust = trust_for(key);
    const kycvs_verifier *verifier = verifier_for(trust);
    kycvs_issuer *issuer = NULL;
    CHECK_RESULT(kycvs_issuer_new(key, S(ISSUER), KYCVS_ALGORITHM_ED25519, &issuer), KYCVS_RESULT_OK);
    char kid[64];
    size_t len = 0;
    CHECK_RESULT(kycvs_signing_key_kid(key, kid, sizeof kid, &len), KYCVS_RESULT_OK);

    /* This thread's message must survive the other threads' failures. */
    CHECK_RESULT(kycvs_verifier_builder_set_leeway(NULL, 1), KYCVS_RESULT_NULL_ARGUMENT);

    /* Each thread its own token: its own nonce, subject, status and lifetime. */
    static struct thread_job jobs[THREADS];
    pthread_t threads[THREADS];
    CHECK(pthread_barrier_init(&start_together, NULL, THREADS) == 0);
    for (int i = 0; i < THREADS; i++) {
        struct thread_job *job = &jobs[i];
        memset(job, 0, sizeof *job);
        job->verifier = verifier;
        job->kid = kid;
        snprintf(job->nonce, sizeof job->nonce, "PNR-%d", 1000 + i);
        snprintf(job->subject, sizeof job->subject, "pseudonym-thread-%d", i);
        job->status = (uint8_t)(i % 3);
        job->ttl = 300 + (uint64_t)i;
        CHECK_RESULT(kycvs_issuer_issue(issuer,
                                        TOKEN_REQUEST(S(AUDIENCE), S(job->nonce), S(job->subject),
                                                      job->status, job->ttl),
                                        NOW, job->token, sizeof job->token, &job->token_len),
                     KYCVS_RESULT_OK);
        memcpy(job->forged, job->token, job->token_len + 1);
        size_t at = job->token_len - 2;
        job->forged[at] = job->forged[at] == 'A' ? 'B' : 'A';
        CHECK(pthread_create(&threads[i], NULL, verify_many, job) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK(jobs[i].ok == ROUNDS);
        CHECK(jobs[i].rejected == ROUNDS);
        CHECK(jobs[i].own_message);
    }
    /* Each token carried its own jti. */
    for (int i = 0; i < THREADS; i++) {
        for (int j = i + 1; j < THREADS; j++) {
            CHECK(strcmp(jobs[i].jti, jobs[j].jti) != 0);
        }
    }
    CHECK(pthread_barrier_destroy(&start_together) == 0);
    char message[256];
    CHECK_RESULT(kycvs_last_error_message(message, sizeof message, &len), KYCVS_RESULT_OK);
    CHECK(strncmp(message, "null_argument", 13) == 0);

    kycvs_issuer_free(issuer);
    kycvs_verifier_free(verifier);
    kycvs_trust_store_free(trust);
    kycvs_signing_key_free(key);
}

/* A panic inside the library comes back as KYCVS_RESULT_PANIC, never as an unwind into C. */
static void test_panic_boundary(void) {
    CHECK_RESULT(kycvs__test_panic(), KYCVS_RESULT_PANIC);
    char message[256];
    size_t len = 0;
    CHECK_RESULT(kycvs_last_error_message(message, sizeof message, &len), KYCVS_RESULT_OK);
    CHECK(strncmp(message, "panic: ", 7) == 0);
    /* The library keeps working after a caught panic. */
    kycvs_signing_key *key = NULL;
    CHECK_RESULT(kycvs_signing_key_generate(&key), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_signing_key_kid(key, message, sizeof message, &len), KYCVS_RESULT_OK);
    kycvs_signing_key_free(key);
}

/* Checks one text output function given a zero-length buffer: a real pointer with length 0
 * is never written (not even a NUL), and NULL with length 0 asks for the size. */
#define CHECK_ZERO_LENGTH(call_with_buf_len)                                           \
    do {                                                                                \
        char guard_[2] = {'x', 'x'};                                                    \
        size_t needed_ = 0, again_ = 0;                                                 \
        char *buf_ = guard_;                                                            \
        CHECK_RESULT(call_with_buf_len(buf_, 0, &needed_), KYCVS_RESULT_BUFFER_TOO_SMALL); \
        CHECK(needed_ > 1 && guard_[0] == 'x' && guard_[1] == 'x');                     \
        buf_ = NULL;                                                                    \
        CHECK_RESULT(call_with_buf_len(buf_, 0, &again_), KYCVS_RESULT_BUFFER_TOO_SMALL); \
        CHECK(again_ == needed_);                                                       \
        CHECK_RESULT(call_with_buf_len(buf_, 1, &again_), KYCVS_RESULT_NULL_ARGUMENT);  \
    } while (0)

static const kycvs_signing_key *zl_key;
static const kycvs_issuer *zl_issuer;

static kycvs_result zl_kid(char *buf, size_t buf_len, size_t *out_len) {
    return kycvs_signing_key_kid(zl_key, buf, buf_len, out_len);
}
static kycvs_result zl_pem(char *buf, size_t buf_len, size_t *out_len) {
    return kycvs_signing_key_to_pem(zl_key, buf, buf_len, out_len);
}
static kycvs_result zl_jwk(char *buf, size_t buf_len, size_t *out_len) {
    return kycvs_signing_key_public_jwk(zl_key, S(ISSUER), buf, buf_len, out_len);
}
static kycvs_result zl_issue(char *buf, size_t buf_len, size_t *out_len) {
    return issue(zl_issuer, buf, buf_len, out_len);
}

static void test_zero_length_buffers(void) {
    kycvs_signing_key *key = NULL;
    kycvs_issuer *issuer = NULL;
    CHECK_RESULT(kycvs_signing_key_generate(&key), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuer_new(key, S(ISSUER), KYCVS_ALGORITHM_ED25519, &issuer), KYCVS_RESULT_OK);
    zl_key = key;
    zl_issuer = issuer;
    CHECK_ZERO_LENGTH(zl_kid);
    CHECK_ZERO_LENGTH(zl_pem);
    CHECK_ZERO_LENGTH(zl_jwk);
    CHECK_ZERO_LENGTH(zl_issue);
    /* The last error message: make one, then read it through zero-length buffers. */
    CHECK_RESULT(kycvs_verifier_builder_set_leeway(NULL, 1), KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_ZERO_LENGTH(kycvs_last_error_message);
    kycvs_issuer_free(issuer);
    kycvs_signing_key_free(key);
}

int main(void) {
    test_version_and_clock();
    test_backend();
    test_result_names();
    test_keys_and_pem();
    test_issue_and_verify();
    test_nonce_check();
    test_last_error_message();
    test_bad_text();
    test_null_arguments();
    test_shared_verifier();
    test_panic_boundary();
    test_zero_length_buffers();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
