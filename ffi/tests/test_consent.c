/* The issuer side through the C API: registries, status rules, the OTP consent flow with an
 * injected clock (expiry, attempt limit, rate limit, single use, wrong OTP, the same answers
 * for an unknown mobile number or name, two threads completing one consent), the builder's
 * sides (a starter and a completer sharing a consent file), and the replay guard. Usage: test_consent. Prints "N passed, M failed"; exits non-zero on failure. */
#define _POSIX_C_SOURCE 200809L
#include "kycvs.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#define CHECK_RESULT(call, expected)                                                    \
    do {                                                                                \
        kycvs_result r_ = (call);                                                       \
        if (r_ == (expected)) {                                                         \
            passed++;                                                                   \
        } else {                                                                        \
            failed++;                                                                   \
            char m_[512];                                                               \
            size_t l_;                                                                  \
            kycvs_last_error_message(m_, sizeof m_, &l_);                               \
            fprintf(stderr, "%s:%d: %s gave %s, want %s (%s)\n", __FILE__, __LINE__,    \
                    #call, kycvs_result_name(r_), kycvs_result_name(expected), m_);     \
        }                                                                               \
    } while (0)

#define S(text) text, strlen(text)
/* A kycvs_token_request for kycvs_issuer_issue: audience, nonce, subject (ptr, len each),
 * status, ttl. */
#define TOKEN_REQUEST(...) (&(kycvs_token_request){__VA_ARGS__})

static const uint64_t NOW = 1700000000u;
static const char *const ISSUER = "cowin.example";
static const char *const AUDIENCE = "irctc.example";
static const uint8_t PSEUDONYM_KEY[KYCVS_PSEUDONYM_KEY_LEN] = {7};

/* Sample registry people: Odia (1 of 2 doses), Telugu (2 of 2), Bengali (no dose), Latin. */
static const char *const PARTIAL_MOBILE = "+91 89062-19727", *const PARTIAL_NAME = "ସୁଭାଷ ମହାନ୍ତି";
static const char *const FULL_MOBILE = "9556719886", *const FULL_NAME = "సాయి దేవి";
static const char *const NONE_MOBILE = "08439734719", *const NONE_NAME = "সুমিতা ঘোষ";
static const char *const LATIN_MOBILE = "9917730852", *const LATIN_NAME = "  rahul   MENON ";

static kycvs_signing_key *key;
static kycvs_issuer *issuer;
static const kycvs_registry *registry;
static const kycvs_verifier *verifier;

static void setup(void) {
    if (kycvs_signing_key_generate(&key) != KYCVS_RESULT_OK ||
        kycvs_issuer_new(key, S(ISSUER), KYCVS_ALGORITHM_ED25519, &issuer) != KYCVS_RESULT_OK ||
        kycvs_registry_sample(&registry) != KYCVS_RESULT_OK) {
        fprintf(stderr, "setup failed\n");
        exit(2);
    }
    char jwk[512], jwks[600];
    size_t len;
    kycvs_trust_store *trust = NULL;
    kycvs_verifier_builder *builder = NULL;
    if (kycvs_signing_key_public_jwk(key, S(ISSUER), jwk, sizeof jwk, &len) != KYCVS_RESULT_OK) {
        exit(2);
    }
    snprintf(jwks, sizeof jwks, "{\"keys\":[%s]}", jwk);
    if (kycvs_trust_store_from_jwks((const uint8_t *)jwks, strlen(jwks), &trust) !=
            KYCVS_RESULT_OK ||
        kycvs_verifier_builder_new(S(AUDIENCE), &builder) != KYCVS_RESULT_OK ||
        kycvs_verifier_builder_build(builder, trust, &verifier) != KYCVS_RESULT_OK) {
        fprintf(stderr, "verifier setup failed\n");
        exit(2);
    }
    kycvs_verifier_builder_free(builder);
    kycvs_trust_store_free(trust);
}

/* A service over the sample registry with a fixed pseudonym key and `config` (NULL:
 * defaults). */
static const kycvs_issuance_service *service_with(const kycvs_consent_config *config) {
    kycvs_issuance_builder *b = NULL;
    const kycvs_issuance_service *svc = NULL;
    if (kycvs_issuance_builder_new(&b) != KYCVS_RESULT_OK ||
        kycvs_issuance_builder_set_issuer(b, issuer) != KYCVS_RESULT_OK ||
        kycvs_issuance_builder_set_registry(b, registry) != KYCVS_RESULT_OK ||
        kycvs_issuance_builder_set_pseudonym_key(b, PSEUDONYM_KEY, sizeof PSEUDONYM_KEY) !=
            KYCVS_RESULT_OK ||
        (config != NULL && kycvs_issuance_builder_set_config(b, config) != KYCVS_RESULT_OK) ||
        kycvs_issuance_builder_build(b, &svc) != KYCVS_RESULT_OK) {
        fprintf(stderr, "service setup failed\n");
        exit(2);
    }
    kycvs_issuance_builder_free(b);
    return svc;
}

static kycvs_consent_request request(const char *mobile, const char *name, const char *nonce) {
    kycvs_consent_request r = {S(mobile), S(name), S(AUDIENCE), S(nonce)};
    return r;
}

static kycvs_result begin(const kycvs_issuance_service *svc, const char *mobile,
                          const char *name, const char *nonce, uint64_t now,
                          kycvs_consent_challenge *out) {
    kycvs_consent_request r = request(mobile, name, nonce);
    return kycvs_issuance_service_begin(svc, &r, now, out);
}

static kycvs_result complete(const kycvs_issuance_service *svc, const char *id,
                             const char *otp, uint64_t now, char token[KYCVS_TOKEN_BUF_LEN]) {
    size_t len = 0;
    return kycvs_issuance_service_complete(svc, S(id), S(otp), now, token, KYCVS_TOKEN_BUF_LEN,
                                           &len);
}

/* An OTP that differs from `otp`. */
static void wrong_otp(const char *otp, char out[KYCVS_OTP_BUF_LEN]) {
    memcpy(out, otp, KYCVS_OTP_BUF_LEN);
    out[0] = otp[0] == '9' ? '0' : (char)(otp[0] + 1);
}

static int is_six_digits(const char *otp) {
    if (strlen(otp) != 6) {
        return 0;
    }
    for (int i = 0; i < 6; i++) {
        if (otp[i] < '0' || otp[i] > '9') {
            return 0;
        }
    }
    return 1;
}

static void test_registry_and_schedule(void) {
    CHECK(kycvs_registry_len(registry) == 300);
    CHECK(kycvs_registry_len(NULL) == 0);
    const char *jsonl = "{\"id\":\"X1\",\"mobile\":\"9876543210\",\"name\":\"Asha\",\"doses\":[]}\n";
    const kycvs_registry *r = NULL;
    CHECK_RESULT(kycvs_registry_from_jsonl((const uint8_t *)jsonl, strlen(jsonl), &r),
                 KYCVS_RESULT_OK);
    CHECK(kycvs_registry_len(r) == 1);
    kycvs_registry_free(r);
    const char *bad = "{\"id\":\"X1\",\"mobile\":\"12345\",\"name\":\"Asha\",\"doses\":[]}\n";
    r = NULL;
    CHECK_RESULT(kycvs_registry_from_jsonl((const uint8_t *)bad, strlen(bad), &r),
                 KYCVS_RESULT_INVALID_REGISTRY);
    CHECK(r == NULL);
    CHECK_RESULT(kycvs_registry_from_jsonl(NULL, 0, &r), KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_registry_sample(NULL), KYCVS_RESULT_NULL_ARGUMENT);
    kycvs_registry_free(NULL);

    kycvs_schedule *schedule = NULL;
    CHECK_RESULT(kycvs_schedule_default(&schedule), KYCVS_RESULT_OK);
    static const struct {
        const char *doses;
        kycvs_result result;
        uint8_t status;
    } cases[] = {
        {"[]", KYCVS_RESULT_OK, 0},
        {"[{\"product\":\"Covishield\",\"dose\":1,\"date\":\"2021-06-25\"}]", KYCVS_RESULT_OK, 1},
        {"[{\"product\":\"covishield\",\"dose\":1,\"date\":\"2021-06-25\"},"
         "{\"product\":\"AZD1222\",\"dose\":2,\"date\":\"2021-09-25\",\"kind\":\"primary\"}]",
         KYCVS_RESULT_OK, 2},
        {"[{\"product\":\"Janssen\",\"dose\":1,\"date\":\"2021-07-13\"}]", KYCVS_RESULT_OK, 2},
        {"[{\"product\":\"ZyCoV-D\",\"dose\":1,\"date\":\"2021-03-13\"},"
         "{\"product\":\"ZyCoV-D\",\"dose\":2,\"date\":\"2021-06-10\"}]",
         KYCVS_RESULT_OK, 1},
        {"[{\"product\":\"Covishield\",\"dose\":1,\"date\":\"2021-06-25\"},"
         "{\"product\":\"Covishield\",\"dose\":2,\"date\":\"2021-09-25\"},"
         "{\"product\":\"Covaxin\",\"dose\":3,\"date\":\"2022-01-25\",\"kind\":\"precaution\"}]",
         KYCVS_RESULT_OK, 2},
        {"[{\"product\":\"Elixir\",\"dose\":1,\"date\":\"2021-06-25\"}]",
         KYCVS_RESULT_UNKNOWN_PRODUCT, 0},
        {"[{\"product\":\"Covishield\",\"dose\":2,\"date\":\"2021-06-25\"}]",
         KYCVS_RESULT_INVALID_DOSE_RECORDS, 0},
        {"[{\"product\":\"Covishield\",\"dose\":1,\"date\":\"2021-02-30\"}]",
         KYCVS_RESULT_INVALID_DOSE_RECORDS, 0},
        {"[{\"product\":\"Covishield\",\"dose\":1,\"date\":\"2021-06-25\",\"kind\":\"precaution\"}]",
         KYCVS_RESULT_INVALID_DOSE_RECORDS, 0},
        {"{\"product\":\"Covishield\"}", KYCVS_RESULT_INVALID_DOSE_RECORDS, 0},
        {"not json", KYCVS_RESULT_INVALID_DOSE_RECORDS, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t status = 99;
        kycvs_result r = kycvs_schedule_status(schedule, S(cases[i].doses), &status);
        CHECK(r == cases[i].result);
        CHECK(status == (r == KYCVS_RESULT_OK ? cases[i].status : 99));
        if (r != cases[i].result) {
            fprintf(stderr, "  case %zu: %s gave %s\n", i, cases[i].doses, kycvs_result_name(r));
        }
    }
    uint8_t status;
    CHECK_RESULT(kycvs_schedule_status(NULL, S("[]"), &status), KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_schedule_status(schedule, S("[]"), NULL), KYCVS_RESULT_NULL_ARGUMENT);
    kycvs_schedule_free(schedule);

    const char *custom = "{\"version\":1,\"products\":[{\"name\":\"Elixir\",\"primary_doses\":1}]}";
    schedule = NULL;
    CHECK_RESULT(kycvs_schedule_from_json((const uint8_t *)custom, strlen(custom), &schedule),
                 KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_schedule_status(
                     schedule, S("[{\"product\":\"elixir\",\"dose\":1,\"date\":\"2021-06-25\"}]"),
                     &status),
                 KYCVS_RESULT_OK);
    CHECK(status == 2);
    kycvs_schedule_free(schedule);
    schedule = NULL;
    CHECK_RESULT(kycvs_schedule_from_json((const uint8_t *)"{}", 2, &schedule),
                 KYCVS_RESULT_INVALID_SCHEDULE);
    CHECK(schedule == NULL);
    kycvs_schedule_free(NULL);
}

/* One person through begin -> OTP -> complete -> verify, with the expected status. */
static void flow(const kycvs_issuance_service *svc, const char *mobile, const char *name,
                 const char *id, uint8_t status) {
    kycvs_consent_challenge c;
    CHECK_RESULT(begin(svc, mobile, name, "PNR-4711", NOW, &c), KYCVS_RESULT_OK);
    CHECK(strlen(c.consent_id) == KYCVS_CONSENT_ID_BUF_LEN - 1);
    CHECK(is_six_digits(c.otp));
    CHECK(c.expires_at == NOW + 180);
    char token[KYCVS_TOKEN_BUF_LEN];
    CHECK_RESULT(complete(svc, c.consent_id, c.otp, NOW + 30, token), KYCVS_RESULT_OK);
    CHECK(strstr(token, mobile) == NULL);
    kycvs_verified *v = NULL;
    CHECK_RESULT(kycvs_verifier_verify(verifier, S(token), S("PNR-4711"), NOW + 31, &v),
                 KYCVS_RESULT_OK);
    CHECK(kycvs_verified_status(v) == status);
    CHECK(kycvs_verified_iat(v) == NOW + 30 && kycvs_verified_exp(v) == NOW + 330);
    kycvs_str aud = kycvs_verified_aud(v), iss = kycvs_verified_iss(v);
    CHECK(aud.len == strlen(AUDIENCE) && memcmp(aud.data, AUDIENCE, aud.len) == 0);
    CHECK(iss.len == strlen(ISSUER) && memcmp(iss.data, ISSUER, iss.len) == 0);
    char sub[KYCVS_ID_BUF_LEN];
    size_t len;
    CHECK_RESULT(kycvs_issuance_service_subject(svc, S(AUDIENCE), S(id), sub, sizeof sub, &len),
                 KYCVS_RESULT_OK);
    kycvs_str got_sub = kycvs_verified_sub(v);
    CHECK(got_sub.len == len && memcmp(got_sub.data, sub, len) == 0);
    kycvs_verified_free(v);
    /* Single use. */
    CHECK_RESULT(complete(svc, c.consent_id, c.otp, NOW + 32, token),
                 KYCVS_RESULT_CONSENT_NOT_FOUND);
    kycvs_consent_challenge_clear(&c);
    CHECK(c.otp[0] == 0 && c.consent_id[0] == 0 && c.expires_at == 0);
}

static void test_flow(void) {
    const kycvs_issuance_service *svc = service_with(NULL);
    flow(svc, PARTIAL_MOBILE, PARTIAL_NAME, "B000001", 1);
    flow(svc, FULL_MOBILE, FULL_NAME, "B000002", 2);
    flow(svc, NONE_MOBILE, NONE_NAME, "B000009", 0);
    flow(svc, LATIN_MOBILE, LATIN_NAME, "B000024", 0);
    kycvs_issuance_service_free(svc);
}

static void test_limits(void) {
    kycvs_consent_config config;
    CHECK_RESULT(kycvs_consent_config_default(&config), KYCVS_RESULT_OK);
    CHECK(config.otp_ttl == 180 && config.max_attempts == 3 && config.rate_limit == 5 &&
          config.rate_window == 3600 && config.token_ttl == 300);
    const kycvs_issuance_service *svc = service_with(&config);
    kycvs_consent_challenge c;
    char token[KYCVS_TOKEN_BUF_LEN], wrong[KYCVS_OTP_BUF_LEN];

    /* Expiry with the injected clock: good until expires_at - 1, expired at expires_at. */
    CHECK_RESULT(begin(svc, FULL_MOBILE, FULL_NAME, "PNR-1", NOW, &c), KYCVS_RESULT_OK);
    CHECK_RESULT(complete(svc, c.consent_id, c.otp, c.expires_at, token),
                 KYCVS_RESULT_CONSENT_EXPIRED);
    CHECK_RESULT(complete(svc, c.consent_id, c.otp, c.expires_at, token),
                 KYCVS_RESULT_CONSENT_NOT_FOUND);
    CHECK_RESULT(begin(svc, FULL_MOBILE, FULL_NAME, "PNR-2", NOW, &c), KYCVS_RESULT_OK);
    CHECK_RESULT(complete(svc, c.consent_id, c.otp, c.expires_at - 1, token), KYCVS_RESULT_OK);

    /* Attempt limit: two wrong OTPs are mismatches, the third closes the consent. */
    CHECK_RESULT(begin(svc, FULL_MOBILE, FULL_NAME, "PNR-3", NOW, &c), KYCVS_RESULT_OK);
    wrong_otp(c.otp, wrong);
    CHECK_RESULT(complete(svc, c.consent_id, wrong, NOW + 1, token), KYCVS_RESULT_OTP_MISMATCH);
    CHECK_RESULT(complete(svc, c.consent_id, "12345", NOW + 1, token),
                 KYCVS_RESULT_OTP_MISMATCH);
    CHECK_RESULT(complete(svc, c.consent_id, wrong, NOW + 1, token),
                 KYCVS_RESULT_ATTEMPTS_EXHAUSTED);
    CHECK_RESULT(complete(svc, c.consent_id, c.otp, NOW + 1, token),
                 KYCVS_RESULT_CONSENT_NOT_FOUND);

    /* A wrong OTP then the right one still completes. */
    CHECK_RESULT(begin(svc, FULL_MOBILE, FULL_NAME, "PNR-4", NOW, &c), KYCVS_RESULT_OK);
    wrong_otp(c.otp, wrong);
    CHECK_RESULT(complete(svc, c.consent_id, wrong, NOW + 1, token), KYCVS_RESULT_OTP_MISMATCH);
    CHECK_RESULT(complete(svc, c.consent_id, c.otp, NOW + 2, token), KYCVS_RESULT_OK);

    /* Rate limit: the sixth begin for one mobile number within the hour, whatever the name
     * and however the number is written. */
    CHECK_RESULT(begin(svc, "+91 9556719886", "someone else", "PNR-5", NOW + 10, &c),
                 KYCVS_RESULT_OK);
    CHECK_RESULT(begin(svc, "919556719886", FULL_NAME, "PNR-6", NOW + 20, &c),
                 KYCVS_RESULT_RATE_LIMITED);
    CHECK_RESULT(begin(svc, FULL_MOBILE, FULL_NAME, "PNR-7", NOW + 3600, &c), KYCVS_RESULT_OK);

    /* A token buffer below KYCVS_TOKEN_BUF_LEN is refused before the consent is touched. */
    CHECK_RESULT(begin(svc, NONE_MOBILE, NONE_NAME, "PNR-8", NOW, &c), KYCVS_RESULT_OK);
    size_t len = 0;
    char small[64];
    CHECK_RESULT(kycvs_issuance_service_complete(svc, S(c.consent_id), S(c.otp), NOW + 1, small,
                                                 sizeof small, &len),
                 KYCVS_RESULT_BUFFER_TOO_SMALL);
    CHECK(len == KYCVS_TOKEN_BUF_LEN);
    CHECK_RESULT(kycvs_issuance_service_complete(svc, S(c.consent_id), S(c.otp), NOW + 1, NULL,
                                                 0, &len),
                 KYCVS_RESULT_BUFFER_TOO_SMALL);
    CHECK_RESULT(complete(svc, c.consent_id, c.otp, NOW + 1, token), KYCVS_RESULT_OK);
    kycvs_issuance_service_free(svc);

    /* Limits out of range are refused when built. */
    kycvs_issuance_builder *b = NULL;
    const kycvs_issuance_service *none = NULL;
    CHECK_RESULT(kycvs_issuance_builder_new(&b), KYCVS_RESULT_OK);
    /* A service needs an issuer and a registry. */
    CHECK_RESULT(kycvs_issuance_builder_build(b, &none), KYCVS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(kycvs_issuance_builder_set_issuer(b, issuer), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuance_builder_build(b, &none), KYCVS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(kycvs_issuance_builder_set_registry(b, NULL), KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_issuance_builder_set_registry(b, registry), KYCVS_RESULT_OK);
    config.max_attempts = 0;
    CHECK_RESULT(kycvs_issuance_builder_set_config(b, &config), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuance_builder_build(b, &none), KYCVS_RESULT_INVALID_ARGUMENT);
    CHECK(none == NULL);
    CHECK_RESULT(kycvs_consent_config_default(&config), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuance_builder_set_config(b, &config), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuance_builder_set_pseudonym_key(b, PSEUDONYM_KEY, 31),
                 KYCVS_RESULT_INVALID_KEY);
    CHECK_RESULT(kycvs_issuance_builder_set_otp_key(b, PSEUDONYM_KEY, 31), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuance_builder_build(b, &none), KYCVS_RESULT_INVALID_KEY);
    CHECK_RESULT(kycvs_issuance_builder_set_otp_key(b, PSEUDONYM_KEY, 32), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuance_builder_set_config(b, NULL), KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_issuance_builder_build(b, &none), KYCVS_RESULT_OK);
    kycvs_issuance_service_free(none);
    kycvs_issuance_builder_free(b);
    kycvs_issuance_builder_free(NULL);
    kycvs_issuance_service_free(NULL);
}

/* Sequence of answers to an unknown person: same shapes as a known one, then the same codes
 * as wrong OTPs. */
static void test_unknown_people(void) {
    const kycvs_issuance_service *svc = service_with(NULL);
    const char *const who[][2] = {
        {"9000000001", FULL_NAME},   /* unknown mobile */
        {FULL_MOBILE, "Sai Devi"},   /* known mobile, wrong name */
        {FULL_MOBILE, FULL_NAME},    /* the real person, with a wrong OTP */
    };
    for (size_t i = 0; i < 3; i++) {
        kycvs_consent_challenge c;
        CHECK_RESULT(begin(svc, who[i][0], who[i][1], "PNR-9", NOW, &c), KYCVS_RESULT_OK);
        CHECK(strlen(c.consent_id) == 22 && is_six_digits(c.otp) && c.expires_at == NOW + 180);
        char token[KYCVS_TOKEN_BUF_LEN], otp[KYCVS_OTP_BUF_LEN];
        /* Unknown people are answered with their own OTP; the real one with a wrong one. */
        if (i == 2) {
            wrong_otp(c.otp, otp);
        } else {
            memcpy(otp, c.otp, sizeof otp);
        }
        CHECK_RESULT(complete(svc, c.consent_id, otp, NOW + 1, token), KYCVS_RESULT_OTP_MISMATCH);
        CHECK_RESULT(complete(svc, c.consent_id, otp, NOW + 1, token), KYCVS_RESULT_OTP_MISMATCH);
        CHECK_RESULT(complete(svc, c.consent_id, otp, NOW + 1, token),
                     KYCVS_RESULT_ATTEMPTS_EXHAUSTED);
        CHECK_RESULT(complete(svc, c.consent_id, otp, NOW + 1, token),
                     KYCVS_RESULT_CONSENT_NOT_FOUND);
    }
    kycvs_consent_challenge c;
    memset(&c, 0x5a, sizeof c);
    CHECK_RESULT(begin(svc, "12345", FULL_NAME, "PNR-9", NOW, &c), KYCVS_RESULT_INVALID_MOBILE);
    CHECK(c.expires_at == 0x5a5a5a5a5a5a5a5aull); /* not written on failure */
    CHECK_RESULT(begin(svc, FULL_MOBILE, "   ", "PNR-9", NOW, &c), KYCVS_RESULT_INVALID_ARGUMENT);
    kycvs_consent_request r = request(FULL_MOBILE, "\xff\xfe", "PNR-9");
    CHECK_RESULT(kycvs_issuance_service_begin(svc, &r, NOW, &c), KYCVS_RESULT_INVALID_ARGUMENT);
    r = request(FULL_MOBILE, FULL_NAME, "PNR\n9");
    CHECK_RESULT(kycvs_issuance_service_begin(svc, &r, NOW, &c), KYCVS_RESULT_INVALID_ARGUMENT);
    r = request(FULL_MOBILE, FULL_NAME, "PNR-9");
    r.audience = NULL;
    CHECK_RESULT(kycvs_issuance_service_begin(svc, &r, NOW, &c), KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_issuance_service_begin(svc, NULL, NOW, &c), KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(begin(NULL, FULL_MOBILE, FULL_NAME, "PNR-9", NOW, &c),
                 KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(begin(svc, FULL_MOBILE, FULL_NAME, "PNR-9", NOW, NULL),
                 KYCVS_RESULT_NULL_ARGUMENT);
    char token[KYCVS_TOKEN_BUF_LEN];
    CHECK_RESULT(complete(svc, "no-such-consent", "123456", NOW, token),
                 KYCVS_RESULT_CONSENT_NOT_FOUND);
    kycvs_consent_challenge_clear(NULL);
    kycvs_issuance_service_free(svc);
}

struct race {
    const kycvs_issuance_service *svc;
    const kycvs_consent_challenge *challenge;
    kycvs_result result;
};

static void *race_complete(void *arg) {
    struct race *r = arg;
    char token[KYCVS_TOKEN_BUF_LEN];
    r->result = complete(r->svc, r->challenge->consent_id, r->challenge->otp, NOW + 1, token);
    return NULL;
}

static void test_concurrent_completes(void) {
    kycvs_consent_config config;
    kycvs_consent_config_default(&config);
    config.rate_limit = 1000;
    const kycvs_issuance_service *svc = service_with(&config);
    for (int round = 0; round < 50; round++) {
        kycvs_consent_challenge c;
        CHECK_RESULT(begin(svc, FULL_MOBILE, FULL_NAME, "PNR-R", NOW, &c), KYCVS_RESULT_OK);
        struct race races[2] = {{svc, &c, KYCVS_RESULT_PANIC}, {svc, &c, KYCVS_RESULT_PANIC}};
        pthread_t threads[2];
        for (int t = 0; t < 2; t++) {
            if (pthread_create(&threads[t], NULL, race_complete, &races[t]) != 0) {
                exit(2);
            }
        }
        for (int t = 0; t < 2; t++) {
            pthread_join(threads[t], NULL);
        }
        int ok = (races[0].result == KYCVS_RESULT_OK) + (races[1].result == KYCVS_RESULT_OK);
        int gone = (races[0].result == KYCVS_RESULT_CONSENT_NOT_FOUND) +
                   (races[1].result == KYCVS_RESULT_CONSENT_NOT_FOUND);
        CHECK(ok == 1 && gone == 1);
    }
    kycvs_issuance_service_free(svc);
}

/* Verifies `token` (nonce "PNR-1" unless `nonce` says otherwise) and frees the result. */
static kycvs_result verify_once(const kycvs_verifier *v, const char *token, const char *nonce,
                                uint64_t now) {
    kycvs_verified *out = NULL;
    kycvs_result r = kycvs_verifier_verify(v, S(token), S(nonce), now, &out);
    kycvs_verified_free(out);
    return r;
}

/* A starter and a completer, each built alone from its own builder, sharing an OTP key and a
 * consent file, as two processes would: the completer has no registry. */
static void test_sides_through_a_consent_file(void) {
    char dir[] = "/tmp/kycvs-c-consent-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        exit(2);
    }
    char path[128];
    snprintf(path, sizeof path, "%s/consents.json", dir);
    static const uint8_t OTP_KEY[KYCVS_OTP_KEY_LEN] = {5};

    kycvs_issuance_builder *sb = NULL, *cb = NULL;
    const kycvs_consent_starter *starter = NULL;
    const kycvs_consent_completer *completer = NULL;
    CHECK_RESULT(kycvs_issuance_builder_new(&sb), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuance_builder_build_starter(sb, &starter),
                 KYCVS_RESULT_INVALID_ARGUMENT); /* no registry yet */
    CHECK_RESULT(kycvs_issuance_builder_set_registry(sb, registry), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuance_builder_set_otp_key(sb, OTP_KEY, sizeof OTP_KEY), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuance_builder_set_consent_file(sb, S(path)), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuance_builder_build_starter(sb, &starter), KYCVS_RESULT_OK);

    CHECK_RESULT(kycvs_issuance_builder_new(&cb), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuance_builder_build_completer(cb, &completer),
                 KYCVS_RESULT_INVALID_ARGUMENT); /* no issuer yet */
    CHECK_RESULT(kycvs_issuance_builder_set_issuer(cb, issuer), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuance_builder_set_otp_key(cb, OTP_KEY, sizeof OTP_KEY), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuance_builder_set_consent_file(cb, S(path)), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuance_builder_build_completer(cb, &completer), KYCVS_RESULT_OK);

    kycvs_consent_request r = request(FULL_MOBILE, FULL_NAME, "PNR-F");
    kycvs_consent_challenge c;
    CHECK_RESULT(kycvs_consent_starter_begin(starter, &r, NOW, &c), KYCVS_RESULT_OK);
    char token[KYCVS_TOKEN_BUF_LEN];
    size_t len = 0;
    CHECK_RESULT(kycvs_consent_completer_complete(completer, S(c.consent_id), S(c.otp), NOW + 1,
                                                  token, sizeof token, &len),
                 KYCVS_RESULT_OK);
    CHECK(len == strlen(token));
    kycvs_verified *v = NULL;
    CHECK_RESULT(kycvs_verifier_verify(verifier, token, len, S("PNR-F"), NOW + 2, &v),
                 KYCVS_RESULT_OK);
    CHECK(kycvs_verified_status(v) == 2);
    kycvs_verified_free(v);
    CHECK_RESULT(kycvs_consent_completer_complete(completer, S(c.consent_id), S(c.otp), NOW + 1,
                                                  token, sizeof token, &len),
                 KYCVS_RESULT_CONSENT_NOT_FOUND);
    CHECK_RESULT(kycvs_consent_starter_begin(NULL, &r, NOW, &c), KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_consent_completer_complete(NULL, S(c.consent_id), S(c.otp), NOW + 1,
                                                  token, sizeof token, &len),
                 KYCVS_RESULT_NULL_ARGUMENT);
    kycvs_consent_challenge_clear(&c);

    /* A file that is not a consent store is refused when built. */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    FILE *f = fopen(bad, "w");
    if (f == NULL) {
        exit(2);
    }
    fputs("not a consent store", f);
    fclose(f);
    const kycvs_consent_completer *none = NULL;
    CHECK_RESULT(kycvs_issuance_builder_set_consent_file(cb, S(bad)), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuance_builder_build_completer(cb, &none),
                 KYCVS_RESULT_CONSENT_STORE_UNAVAILABLE);
    CHECK(none == NULL);
    CHECK_RESULT(kycvs_issuance_builder_set_consent_file(cb, "\xff", 1),
                 KYCVS_RESULT_INVALID_ARGUMENT);

    kycvs_consent_starter_free(starter);
    kycvs_consent_completer_free(completer);
    kycvs_consent_starter_free(NULL);
    kycvs_consent_completer_free(NULL);
    kycvs_issuance_builder_free(sb);
    kycvs_issuance_builder_free(cb);
    remove(bad);
    remove(path);
    char lock[160];
    snprintf(lock, sizeof lock, "%s.lock", path);
    remove(lock);
    rmdir(dir);
}

static void test_replay_guard(void) {
    const kycvs_replay_guard *guard = NULL;
    CHECK_RESULT(kycvs_replay_guard_new(0, &guard), KYCVS_RESULT_INVALID_ARGUMENT);
    CHECK(guard == NULL);
    CHECK_RESULT(kycvs_replay_guard_new(KYCVS_DEFAULT_REPLAY_CAPACITY, NULL),
                 KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_replay_guard_new(2, &guard), KYCVS_RESULT_OK);
    const kycvs_verifier *guarded = NULL, *guarded2 = NULL;
    CHECK_RESULT(kycvs_verifier_with_replay_guard(verifier, guard, &guarded), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_verifier_with_replay_guard(verifier, guard, &guarded2), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_verifier_with_replay_guard(verifier, NULL, &guarded2),
                 KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_verifier_with_replay_guard(NULL, guard, &guarded2),
                 KYCVS_RESULT_NULL_ARGUMENT);
    CHECK(kycvs_replay_guard_len(guard) == 0);

    char tokens[4][KYCVS_TOKEN_BUF_LEN];
    size_t len;
    for (int i = 0; i < 4; i++) {
        uint64_t at = i == 3 ? NOW + 400 : NOW;
        CHECK_RESULT(kycvs_issuer_issue(issuer, TOKEN_REQUEST(S(AUDIENCE), S("PNR-1"), S("psn-1"), 2, 300), at,
                                        tokens[i], sizeof tokens[i], &len),
                     KYCVS_RESULT_OK);
    }
    CHECK_RESULT(verify_once(guarded, tokens[0], "PNR-1", NOW + 1),
                 KYCVS_RESULT_OK);
    CHECK_RESULT(verify_once(guarded, tokens[0], "PNR-1", NOW + 2),
                 KYCVS_RESULT_REPLAYED);
    /* Shared across verifiers: one guard, one memory. */
    CHECK_RESULT(verify_once(guarded2, tokens[0], "PNR-1", NOW + 2),
                 KYCVS_RESULT_REPLAYED);
    /* The verifier it was made from has no guard. */
    CHECK_RESULT(verify_once(verifier, tokens[0], "PNR-1", NOW + 2),
                 KYCVS_RESULT_OK);
    /* A token that fails another check is not recorded. */
    CHECK_RESULT(verify_once(guarded, tokens[1], "PNR-2", NOW + 2),
                 KYCVS_RESULT_NONCE_MISMATCH);
    CHECK(kycvs_replay_guard_len(guard) == 1);
    CHECK_RESULT(verify_once(guarded, tokens[1], "PNR-1", NOW + 2),
                 KYCVS_RESULT_OK);
    /* Full of live entries: fail closed. */
    CHECK_RESULT(verify_once(guarded, tokens[2], "PNR-1", NOW + 3),
                 KYCVS_RESULT_REPLAYED);
    /* Once the entries are past their keep-until time they make room again. */
    CHECK_RESULT(verify_once(guarded, tokens[3], "PNR-1", NOW + 430),
                 KYCVS_RESULT_OK);
    CHECK(kycvs_replay_guard_len(guard) == 1);
    /* The verifiers keep the guard alive after the caller frees it. */
    kycvs_replay_guard_free(guard);
    CHECK_RESULT(verify_once(guarded2, tokens[3], "PNR-1", NOW + 431),
                 KYCVS_RESULT_REPLAYED);
    kycvs_verifier_free(guarded);
    kycvs_verifier_free(guarded2);
    kycvs_replay_guard_free(NULL);
    CHECK(kycvs_replay_guard_len(NULL) == 0);
}

/* A replay store kept by the application: a table of jti strings, a call counter, and a
 * switch that makes the callback fail, as a shared store out of reach would. */
struct app_store {
    char seen[8][129]; /* a jti is at most 128 bytes */
    int n_seen;
    int calls;
    size_t last_count;
    int fail;
    int leave_unanswered;
};

static int app_check(void *user, const kycvs_replay_entry *entries, size_t count, uint64_t now,
                     uint8_t *is_new) {
    (void)now;
    struct app_store *store = user;
    store->calls++;
    store->last_count = count;
    if (store->fail) {
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        if (store->leave_unanswered) {
            continue;
        }
        int found = 0;
        for (int j = 0; j < store->n_seen; j++) {
            found |= strlen(store->seen[j]) == entries[i].jti_len &&
                     memcmp(store->seen[j], entries[i].jti, entries[i].jti_len) == 0;
        }
        if (!found && store->n_seen < 8 && entries[i].jti[entries[i].jti_len] == '\0') {
            memcpy(store->seen[store->n_seen++], entries[i].jti, entries[i].jti_len + 1);
        }
        is_new[i] = found ? 0 : 1;
    }
    return 0;
}

static void test_replay_callback(void) {
    struct app_store store = {0};
    const kycvs_verifier *checked = NULL;
    CHECK_RESULT(kycvs_verifier_with_replay_callback(verifier, NULL, &store, &checked),
                 KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_verifier_with_replay_callback(verifier, app_check, &store, &checked),
                 KYCVS_RESULT_OK);
    char a[KYCVS_TOKEN_BUF_LEN], b[KYCVS_TOKEN_BUF_LEN];
    size_t a_len, b_len;
    CHECK_RESULT(kycvs_issuer_issue(issuer, TOKEN_REQUEST(S(AUDIENCE), S("PNR-7"), S("psn-7"), 2, 300),
                                    NOW, a, sizeof a, &a_len),
                 KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_issuer_issue(issuer, TOKEN_REQUEST(S(AUDIENCE), S("PNR-8"), S("psn-8"), 1, 300),
                                    NOW, b, sizeof b, &b_len),
                 KYCVS_RESULT_OK);
    CHECK_RESULT(verify_once(checked, a, "PNR-7", NOW + 1), KYCVS_RESULT_OK);
    CHECK_RESULT(verify_once(checked, a, "PNR-7", NOW + 2), KYCVS_RESULT_REPLAYED);
    CHECK(store.calls == 2 && store.last_count == 1);
    /* A token refused by another check never reaches the store. */
    CHECK_RESULT(verify_once(checked, b, "PNR-wrong", NOW + 2), KYCVS_RESULT_NONCE_MISMATCH);
    CHECK(store.calls == 2);
    /* A batch: one call for the tokens that passed every other check, in input order. */
    kycvs_batch_item items[4] = {
        {b, b_len, "PNR-8", 5}, {a, a_len, "PNR-7", 5}, {b, b_len, "PNR-9", 5}, {b, b_len, "PNR-8", 5}};
    kycvs_result results[4];
    CHECK_RESULT(kycvs_verifier_verify_batch(checked, items, 4, NOW + 3, results, NULL),
                 KYCVS_RESULT_OK);
    CHECK(store.calls == 3 && store.last_count == 3);
    CHECK(results[0] == KYCVS_RESULT_OK);
    CHECK(results[1] == KYCVS_RESULT_REPLAYED);
    CHECK(results[2] == KYCVS_RESULT_NONCE_MISMATCH);
    CHECK(results[3] == KYCVS_RESULT_REPLAYED);
    /* A store that fails, or leaves an answer out, refuses: never accepted unchecked. */
    char c[KYCVS_TOKEN_BUF_LEN];
    size_t c_len;
    CHECK_RESULT(kycvs_issuer_issue(issuer, TOKEN_REQUEST(S(AUDIENCE), S("PNR-10"), S("psn-9"), 2, 300),
                                    NOW, c, sizeof c, &c_len),
                 KYCVS_RESULT_OK);
    store.fail = 1;
    CHECK_RESULT(verify_once(checked, c, "PNR-10", NOW + 4), KYCVS_RESULT_REPLAY_STORE_UNAVAILABLE);
    store.fail = 0;
    store.leave_unanswered = 1;
    CHECK_RESULT(verify_once(checked, c, "PNR-10", NOW + 4), KYCVS_RESULT_REPLAY_STORE_UNAVAILABLE);
    store.leave_unanswered = 0;
    CHECK_RESULT(verify_once(checked, c, "PNR-10", NOW + 5), KYCVS_RESULT_OK);
    kycvs_verifier_free(checked);
}

int main(void) {
    setup();
    test_registry_and_schedule();
    test_flow();
    test_limits();
    test_unknown_people();
    test_concurrent_completes();
    test_sides_through_a_consent_file();
    test_replay_guard();
    test_replay_callback();
    kycvs_verifier_free(verifier);
    kycvs_registry_free(registry);
    kycvs_issuer_free(issuer);
    kycvs_signing_key_free(key);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
