/* Signed trust bundles through the C API: every case of testvectors/bundles.tsv, then signing
 * a bundle, pinning its root, and the key window under a verifier.
 * Usage: test_bundle [TESTVECTORS_DIR]   (default: testvectors)
 * Prints "N passed, M failed" and exits non-zero on any failure. */
#include "kycvs.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FIELD_COUNT = 11 };

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

static const char *last_error(void) {
    static char buf[1024];
    size_t len = 0;
    if (kycvs_last_error_message(buf, sizeof buf, &len) != KYCVS_RESULT_OK) {
        return "(message too long)";
    }
    return buf;
}

/* Reads a whole file into a NUL-terminated heap buffer; exits on failure. */
static char *read_file(const char *dir, const char *name) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
        fprintf(stderr, "path too long: %s/%s\n", dir, name);
        exit(2);
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf != NULL && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    if (buf == NULL || ferror(f)) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* Splits `line` in place at tabs into exactly FIELD_COUNT fields. */
static int split_fields(char *line, char *fields[FIELD_COUNT]) {
    int count = 0;
    char *p = line;
    for (;;) {
        if (count == FIELD_COUNT) {
            return 0;
        }
        fields[count++] = p;
        char *tab = strchr(p, '\t');
        if (tab == NULL) {
            break;
        }
        *tab = '\0';
        p = tab + 1;
    }
    return count == FIELD_COUNT;
}

static kycvs_result load(const char *bundle, const char *root, uint64_t now, uint64_t min_sequence,
                         kycvs_trust_store **out, kycvs_bundle_info *info) {
    const kycvs_bundle_load how = {(const uint8_t *)root, strlen(root), min_sequence, now};
    return kycvs_trust_store_from_bundle((const uint8_t *)bundle, strlen(bundle), &how, out, info);
}

/* The terms of a bundle: sequence, issue and expiry times, no default key window. */
#define TERMS(sequence, issued_at, expires_at) \
    (&(kycvs_bundle_terms){(sequence), (issued_at), (expires_at), NULL})

/* Verifies `token` at `now` with a default policy for `audience` over `trust`, expecting no
 * nonce (the vectors bind none). */
static kycvs_result verify(const kycvs_trust_store *trust, const char *audience,
                           const char *token, uint64_t now) {
    kycvs_verifier_builder *builder = NULL;
    const kycvs_verifier *verifier = NULL;
    kycvs_result r = kycvs_verifier_builder_new(audience, strlen(audience), &builder);
    if (r == KYCVS_RESULT_OK) {
        r = kycvs_verifier_builder_disable_nonce_check(builder);
    }
    if (r == KYCVS_RESULT_OK) {
        r = kycvs_verifier_builder_build(builder, trust, &verifier);
    }
    kycvs_verifier_builder_free(builder);
    if (r != KYCVS_RESULT_OK) {
        return r;
    }
    kycvs_verified *out = NULL;
    r = kycvs_verifier_verify(verifier, token, strlen(token), NULL, 0, now, &out);
    kycvs_verified_free(out);
    kycvs_verifier_free(verifier);
    return r;
}

/* Runs one vector case; returns 1 when it gives exactly the expected outcome. */
static int run_case(char *f[FIELD_COUNT]) {
    const char *name = f[0], *expected = f[5], *token = f[8];
    kycvs_trust_store *trust = NULL;
    kycvs_bundle_info info = {0, 0, 0};
    kycvs_result r =
        load(f[1], f[2], strtoull(f[3], NULL, 10), strtoull(f[4], NULL, 10), &trust, &info);
    if (token[0] != '\0') {
        if (r != KYCVS_RESULT_OK) {
            fprintf(stderr, "FAIL %s: the bundle gave %s (%s)\n", name, kycvs_result_name(r),
                    last_error());
            return 0;
        }
        r = verify(trust, f[9], token, strtoull(f[10], NULL, 10));
        kycvs_trust_store_free(trust);
        if (strcmp(kycvs_result_name(r), expected) != 0) {
            fprintf(stderr, "FAIL %s: expected %s, got %s\n", name, expected,
                    kycvs_result_name(r));
            return 0;
        }
        return 1;
    }
    if (strcmp(kycvs_result_name(r), expected) != 0) {
        fprintf(stderr, "FAIL %s: expected %s, got %s (%s)\n", name, expected,
                kycvs_result_name(r), r == KYCVS_RESULT_OK ? "" : last_error());
        kycvs_trust_store_free(trust);
        return 0;
    }
    if (r != KYCVS_RESULT_OK) {
        return trust == NULL && info.sequence == 0; /* outputs untouched on failure */
    }
    int ok = info.sequence == strtoull(f[6], NULL, 10);
    /* kids: comma-joined, in order; count them against the store. */
    size_t kids = f[7][0] == '\0' ? 0 : 1;
    for (const char *p = f[7]; *p != '\0'; p++) {
        kids += *p == ',';
    }
    ok = ok && kycvs_trust_store_len(trust) == kids;
    if (!ok) {
        fprintf(stderr, "FAIL %s: sequence %llu, %zu keys\n", name,
                (unsigned long long)info.sequence, kycvs_trust_store_len(trust));
    }
    kycvs_trust_store_free(trust);
    return ok;
}

static void run_vectors(const char *dir) {
    char *tsv = read_file(dir, "bundles.tsv");
    int line_no = 0, cases = 0;
    char *line = tsv;
    while (line != NULL && *line != '\0') {
        char *newline = strchr(line, '\n');
        if (newline != NULL) {
            *newline = '\0';
        }
        char *fields[FIELD_COUNT];
        if (++line_no > 1) {
            cases++;
            if (!split_fields(line, fields)) {
                fprintf(stderr, "FAIL line %d: not %d tab-separated fields\n", line_no,
                        FIELD_COUNT);
                failed++;
            } else if (run_case(fields)) {
                passed++;
            } else {
                failed++;
            }
        }
        line = newline != NULL ? newline + 1 : NULL;
    }
    CHECK(cases > 50);
    free(tsv);
}

static const uint64_t NOW = 1700000000u;
static const char *const ISSUER = "cowin.example";
static const char *const AUDIENCE = "irctc.example";

/* A JWKS of one key of `key` for ISSUER with the window [nbf, exp), built from the key's JWK. */
static void windowed_jwks(const kycvs_signing_key *key, uint64_t nbf, uint64_t exp, char *out,
                          size_t out_size) {
    char jwk[512];
    size_t len = 0;
    CHECK_RESULT(kycvs_signing_key_public_jwk(key, ISSUER, strlen(ISSUER), jwk, sizeof jwk, &len),
                 KYCVS_RESULT_OK);
    jwk[len - 1] = '\0'; /* drop the closing brace */
    snprintf(out, out_size, "{\"keys\":[%s,\"nbf\":%llu,\"exp\":%llu}]}", jwk,
             (unsigned long long)nbf, (unsigned long long)exp);
}

static void test_sign_load_verify(void) {
    kycvs_signing_key *root = NULL, *key = NULL;
    CHECK_RESULT(kycvs_signing_key_generate(&root), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_signing_key_generate(&key), KYCVS_RESULT_OK);

    char jwks[1024];
    windowed_jwks(key, NOW - 100, NOW + 100, jwks, sizeof jwks);
    kycvs_trust_store *keys = NULL;
    CHECK_RESULT(kycvs_trust_store_from_jwks((const uint8_t *)jwks, strlen(jwks), &keys),
                 KYCVS_RESULT_OK);

    char root_jwk[KYCVS_MAX_ROOT_JWK_LEN];
    size_t root_len = 0, needed = 0;
    CHECK_RESULT(kycvs_trust_bundle_root_jwk(root, NULL, 0, &needed),
                 KYCVS_RESULT_BUFFER_TOO_SMALL);
    CHECK_RESULT(kycvs_trust_bundle_root_jwk(root, root_jwk, sizeof root_jwk, &root_len),
                 KYCVS_RESULT_OK);
    CHECK(needed == root_len + 1);

    /* Ask for the size, then sign into a buffer of exactly that size. */
    size_t bundle_size = 0, bundle_len = 0;
    CHECK_RESULT(kycvs_trust_bundle_sign(root, keys, TERMS(7, NOW, NOW + 3600), NULL, 0, &bundle_size),
                 KYCVS_RESULT_BUFFER_TOO_SMALL);
    char *bundle = malloc(bundle_size);
    CHECK(bundle != NULL);
    if (bundle == NULL) {
        return;
    }
    CHECK_RESULT(kycvs_trust_bundle_sign(root, keys, TERMS(7, NOW, NOW + 3600), bundle, bundle_size,
                                         &bundle_len),
                 KYCVS_RESULT_OK);
    CHECK(bundle_len + 1 == bundle_size && strlen(bundle) == bundle_len);
    CHECK_RESULT(kycvs_trust_bundle_sign(root, keys, TERMS(0, NOW, NOW + 3600), bundle, bundle_size,
                                         &bundle_len),
                 KYCVS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(kycvs_trust_bundle_sign(root, keys, TERMS(7, NOW, NOW), bundle, bundle_size,
                                         &bundle_len),
                 KYCVS_RESULT_INVALID_ARGUMENT);

    /* A plain JWKS key has no window and cannot go into a bundle. */
    kycvs_trust_store *plain = NULL;
    char plain_jwks[600], jwk[512];
    size_t jwk_len = 0;
    CHECK_RESULT(
        kycvs_signing_key_public_jwk(key, ISSUER, strlen(ISSUER), jwk, sizeof jwk, &jwk_len),
        KYCVS_RESULT_OK);
    snprintf(plain_jwks, sizeof plain_jwks, "{\"keys\":[%s]}", jwk);
    CHECK_RESULT(
        kycvs_trust_store_from_jwks((const uint8_t *)plain_jwks, strlen(plain_jwks), &plain),
        KYCVS_RESULT_OK);
    char small[64];
    CHECK_RESULT(kycvs_trust_bundle_sign(root, plain, TERMS(1, NOW, NOW + 1), small, sizeof small,
                                         &bundle_len),
                 KYCVS_RESULT_INVALID_ARGUMENT);

    /* With a default window for keys that carry none, it can; the window is the one given. */
    const kycvs_key_window window = {NOW - 5, NOW + 5};
    const kycvs_bundle_terms with_default = {1, NOW, NOW + 60, &window};
    char windowed[2048];
    size_t windowed_len = 0;
    CHECK_RESULT(kycvs_trust_bundle_sign(root, plain, &with_default, windowed, sizeof windowed,
                                         &windowed_len),
                 KYCVS_RESULT_OK);
    kycvs_trust_store *from_default = NULL;
    kycvs_bundle_info default_info = {0, 0, 0};
    CHECK_RESULT(load(windowed, root_jwk, NOW, 1, &from_default, &default_info), KYCVS_RESULT_OK);
    CHECK(default_info.sequence == 1 && kycvs_trust_store_len(from_default) == 1);
    kycvs_trust_store_free(from_default);
    const kycvs_key_window empty = {NOW, NOW};
    const kycvs_bundle_terms with_empty = {1, NOW, NOW + 60, &empty};
    CHECK_RESULT(kycvs_trust_bundle_sign(root, plain, &with_empty, windowed, sizeof windowed,
                                         &windowed_len),
                 KYCVS_RESULT_INVALID_ARGUMENT);

    /* A bare public key, added with and without a window, is what a JWKS of it gives. */
    uint8_t public_key[KYCVS_PUBLIC_KEY_LEN];
    CHECK_RESULT(kycvs_signing_key_public_key(key, public_key), KYCVS_RESULT_OK);
    kycvs_trust_store *bare = NULL;
    CHECK_RESULT(kycvs_trust_store_new(&bare), KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_trust_store_add(bare, public_key, sizeof public_key, ISSUER, strlen(ISSUER),
                                       &window),
                 KYCVS_RESULT_OK);
    CHECK_RESULT(kycvs_trust_store_add(bare, public_key, sizeof public_key, ISSUER, strlen(ISSUER),
                                       NULL),
                 KYCVS_RESULT_INVALID_TRUST_STORE);
    CHECK_RESULT(kycvs_trust_store_add(bare, public_key, 31, ISSUER, strlen(ISSUER), NULL),
                 KYCVS_RESULT_INVALID_KEY);
    uint8_t small_order[KYCVS_PUBLIC_KEY_LEN] = {1};
    CHECK_RESULT(kycvs_trust_store_add(bare, small_order, sizeof small_order, ISSUER,
                                       strlen(ISSUER), NULL),
                 KYCVS_RESULT_INVALID_KEY);
    CHECK_RESULT(kycvs_trust_store_add(bare, public_key, sizeof public_key, ISSUER, strlen(ISSUER),
                                       &empty),
                 KYCVS_RESULT_INVALID_ARGUMENT);
    CHECK_RESULT(kycvs_trust_store_add(NULL, public_key, sizeof public_key, ISSUER, strlen(ISSUER),
                                       NULL),
                 KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_signing_key_public_key(key, NULL), KYCVS_RESULT_NULL_ARGUMENT);
    CHECK(kycvs_trust_store_len(bare) == 1);
    CHECK_RESULT(verify(bare, AUDIENCE, "not.a.token", NOW), KYCVS_RESULT_MALFORMED);
    kycvs_trust_store_free(bare);

    /* Load: ok, stale, rollback, wrong root; outputs untouched on failure. */
    kycvs_trust_store *trust = NULL;
    kycvs_bundle_info info = {0, 0, 0};
    CHECK_RESULT(load(bundle, root_jwk, NOW + 10, 7, &trust, &info), KYCVS_RESULT_OK);
    CHECK(info.sequence == 7 && info.issued_at == NOW && info.expires_at == NOW + 3600);
    CHECK(kycvs_trust_store_len(trust) == 1);
    kycvs_trust_store *none = NULL;
    kycvs_bundle_info untouched = {0, 0, 0};
    CHECK_RESULT(load(bundle, root_jwk, NOW + 3600, 0, &none, &untouched),
                 KYCVS_RESULT_STALE_BUNDLE);
    CHECK_RESULT(load(bundle, root_jwk, NOW, 8, &none, &untouched),
                 KYCVS_RESULT_BUNDLE_ROLLBACK);
    char other_root[KYCVS_MAX_ROOT_JWK_LEN];
    size_t other_len = 0;
    CHECK_RESULT(kycvs_trust_bundle_root_jwk(key, other_root, sizeof other_root, &other_len),
                 KYCVS_RESULT_OK);
    CHECK_RESULT(load(bundle, other_root, NOW, 0, &none, &untouched),
                 KYCVS_RESULT_INVALID_BUNDLE);
    CHECK(strstr(last_error(), "root") != NULL);
    CHECK_RESULT(load(bundle, "{}", NOW, 0, &none, &untouched), KYCVS_RESULT_INVALID_KEY);
    bundle[bundle_len - 2] = bundle[bundle_len - 2] == 'A' ? 'B' : 'A';
    CHECK_RESULT(load(bundle, root_jwk, NOW, 0, &none, &untouched), KYCVS_RESULT_INVALID_BUNDLE);
    CHECK(none == NULL && untouched.sequence == 0);

    /* The key window under a verifier: iat inside passes, outside is key_not_valid. */
    kycvs_issuer *issuer = NULL;
    CHECK_RESULT(kycvs_issuer_new(key, ISSUER, strlen(ISSUER), KYCVS_ALGORITHM_ED25519, &issuer),
                 KYCVS_RESULT_OK);
    const uint64_t iats[] = {NOW - 100, NOW + 99, NOW - 101, NOW + 100};
    const kycvs_result want[] = {KYCVS_RESULT_OK, KYCVS_RESULT_OK, KYCVS_RESULT_KEY_NOT_VALID,
                                 KYCVS_RESULT_KEY_NOT_VALID};
    for (size_t i = 0; i < sizeof iats / sizeof iats[0]; i++) {
        char token[KYCVS_TOKEN_BUF_LEN];
        size_t token_len = 0;
        const kycvs_token_request request = {AUDIENCE, strlen(AUDIENCE), "n-1", 3, "psn-1", 5, 2,
                                             300};
        CHECK_RESULT(kycvs_issuer_issue(issuer, &request, iats[i], token, sizeof token, &token_len),
                     KYCVS_RESULT_OK);
        CHECK_RESULT(verify(trust, AUDIENCE, token, iats[i] + 1), want[i]);
        /* The same token under the plain JWKS: no window. */
        CHECK_RESULT(verify(plain, AUDIENCE, token, iats[i] + 1), KYCVS_RESULT_OK);
    }

    /* NULL arguments. */
    const kycvs_bundle_load no_root = {NULL, 0, 0, NOW};
    const kycvs_bundle_load with_root = {(const uint8_t *)root_jwk, root_len, 0, NOW};
    CHECK_RESULT(kycvs_trust_store_from_bundle(NULL, 0, &with_root, &none, &untouched),
                 KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_trust_store_from_bundle((const uint8_t *)bundle, bundle_len, &no_root, &none,
                                               &untouched),
                 KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_trust_store_from_bundle((const uint8_t *)bundle, bundle_len, NULL, &none,
                                               &untouched),
                 KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_trust_bundle_sign(root, keys, NULL, small, sizeof small, &bundle_len),
                 KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(load(bundle, root_jwk, NOW, 0, NULL, &untouched), KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(load(bundle, root_jwk, NOW, 0, &none, NULL), KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_trust_bundle_sign(NULL, keys, TERMS(1, 1, 2), small, sizeof small, &bundle_len),
                 KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_trust_bundle_sign(root, NULL, TERMS(1, 1, 2), small, sizeof small, &bundle_len),
                 KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_trust_bundle_sign(root, keys, TERMS(1, 1, 2), NULL, 5, &bundle_len),
                 KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_trust_bundle_sign(root, keys, TERMS(1, 1, 2), small, sizeof small, NULL),
                 KYCVS_RESULT_NULL_ARGUMENT);
    CHECK_RESULT(kycvs_trust_bundle_root_jwk(NULL, small, sizeof small, &bundle_len),
                 KYCVS_RESULT_NULL_ARGUMENT);

    kycvs_issuer_free(issuer);
    kycvs_trust_store_free(trust);
    kycvs_trust_store_free(plain);
    kycvs_trust_store_free(keys);
    free(bundle);
    kycvs_signing_key_free(key);
    kycvs_signing_key_free(root);
}

int main(int argc, char **argv) {
    run_vectors(argc > 1 ? argv[1] : "testvectors");
    test_sign_load_verify();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
