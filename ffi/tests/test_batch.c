/* kycvs_verifier_verify_batch: every verdict equals the single verdict on the whole vector
 * corpus (testvectors/verify.tsv, one batch per distinct policy), per-item verdicts in a large
 * same-key batch holding bad tokens, per-item argument errors, NULL and empty arguments, and
 * one verifier shared by four threads calling the batch API at once, all with a four-thread
 * rayon pool so that batches of 128 items or more take the chunked parallel path.
 * Usage: test_batch [TESTVECTORS_DIR]. Prints "N passed, M failed"; exits non-zero on failure. */
#define _POSIX_C_SOURCE 200809L
#include "kycvs.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

#define S(text) text, strlen(text)
/* A kycvs_token_request for kycvs_issuer_issue: audience, nonce, subject (ptr, len each),
 * status, ttl. */
#define TOKEN_REQUEST(...) (&(kycvs_token_request){__VA_ARGS__})

/* name token audience issuers leeway max_lifetime now nonce expected status kid token_hex
 * (the token, when it is not UTF-8), then the verified result's iss sub aud jti nonce iat exp. */
enum { FIELD_COUNT = 19, MIN_FIELDS = 19, MAX_CASES = 1024, BIG = 300, THREADS = 4 };

static const uint64_t NOW = 1700000000u;
static const char *const ISSUER = "cowin.example";
static const char *const AUDIENCE = "irctc.example";
static const char *const NONCE = "PNR-4711";

static char *read_file(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);
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

static int split_fields(char *line, char *fields[FIELD_COUNT]) {
    static char empty[] = "";
    for (int f = 0; f < FIELD_COUNT; f++) {
        fields[f] = empty;
    }
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
    return count >= MIN_FIELDS;
}

/* Decodes a hex field in place; returns its length in bytes. */
static size_t decode_hex(char *hex) {
    size_t n = 0;
    for (const char *p = hex; p[0] != '\0' && p[1] != '\0'; p += 2) {
        char pair[3] = {p[0], p[1], '\0'};
        hex[n++] = (char)strtoul(pair, NULL, 16);
    }
    return n;
}

/* Two verified statuses are equal, accessor by accessor. */
static int str_eq(kycvs_str a, kycvs_str b) {
    return a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
}

static int same_verified(const kycvs_verified *a, const kycvs_verified *b) {
    return a != NULL && b != NULL && kycvs_verified_status(a) == kycvs_verified_status(b) &&
           kycvs_verified_iat(a) == kycvs_verified_iat(b) &&
           kycvs_verified_exp(a) == kycvs_verified_exp(b) &&
           str_eq(kycvs_verified_iss(a), kycvs_verified_iss(b)) &&
           str_eq(kycvs_verified_sub(a), kycvs_verified_sub(b)) &&
           str_eq(kycvs_verified_aud(a), kycvs_verified_aud(b)) &&
           str_eq(kycvs_verified_jti(a), kycvs_verified_jti(b)) &&
           str_eq(kycvs_verified_nonce(a), kycvs_verified_nonce(b)) &&
           str_eq(kycvs_verified_kid(a), kycvs_verified_kid(b));
}

static int str_is(kycvs_str s, const char *want) {
    return s.len == strlen(want) && memcmp(s.data, want, s.len) == 0;
}

/* The verifier for a case's policy (fields 2..5), or NULL. Its nonce check is off, so that
 * the cases that expect no nonce share a batch with the others; a nonce that is given is
 * still checked. */
static const kycvs_verifier *build_verifier(char *fields[FIELD_COUNT],
                                            const kycvs_trust_store *trust) {
    kycvs_verifier_builder *builder = NULL;
    const kycvs_verifier *verifier = NULL;
    kycvs_result r = kycvs_verifier_builder_new(S(fields[2]), &builder);
    if (r == KYCVS_RESULT_OK) {
        r = kycvs_verifier_builder_disable_nonce_check(builder);
    }
    char *issuer = fields[3];
    while (r == KYCVS_RESULT_OK && issuer[0] != '\0') {
        char *comma = strchr(issuer, ',');
        size_t len = comma != NULL ? (size_t)(comma - issuer) : strlen(issuer);
        r = kycvs_verifier_builder_add_issuer(builder, issuer, len);
        issuer = comma != NULL ? comma + 1 : issuer + len;
    }
    if (r == KYCVS_RESULT_OK) {
        r = kycvs_verifier_builder_set_leeway(builder, strtoull(fields[4], NULL, 10));
    }
    if (r == KYCVS_RESULT_OK) {
        r = kycvs_verifier_builder_set_max_lifetime(builder, strtoull(fields[5], NULL, 10));
    }
    if (r == KYCVS_RESULT_OK) {
        r = kycvs_verifier_builder_build(builder, trust, &verifier);
    }
    kycvs_verifier_builder_free(builder);
    return verifier;
}

static int same_policy(char *a[FIELD_COUNT], char *b[FIELD_COUNT]) {
    for (int f = 2; f <= 6; f++) {
        if (strcmp(a[f], b[f]) != 0) {
            return 0;
        }
    }
    return 1;
}

/* For each distinct policy and time: one batch of every vector token; each verdict must equal
 * the single verdict under that policy, and, for the cases of that policy, the expected one. */
static void test_vector_corpus(const char *dir) {
    char *jwks = read_file(dir, "trust.jwks");
    char *tsv = read_file(dir, "verify.tsv");
    kycvs_trust_store *trust = NULL;
    CHECK(kycvs_trust_store_from_jwks((const uint8_t *)jwks, strlen(jwks), &trust) ==
          KYCVS_RESULT_OK);
    static char *cases[MAX_CASES][FIELD_COUNT];
    size_t n = 0;
    char *line = strchr(tsv, '\n'); /* skip the header line */
    while (line != NULL && line[1] != '\0' && n < MAX_CASES) {
        line++;
        char *newline = strchr(line, '\n');
        if (newline != NULL) {
            *newline = '\0';
        }
        if (split_fields(line, cases[n])) {
            n++;
        } else {
            CHECK(!"a verify.tsv line has 19 fields");
        }
        line = newline;
    }
    CHECK(n > 100);
    kycvs_batch_item *items = calloc(n, sizeof *items);
    kycvs_result *results = calloc(n, sizeof *results);
    kycvs_verified **statuses = calloc(n, sizeof *statuses);
    for (size_t i = 0; i < n; i++) {
        items[i].token = cases[i][1];
        items[i].token_len = strlen(cases[i][1]);
        if (cases[i][11][0] != '\0') {
            items[i].token = cases[i][11];
            items[i].token_len = decode_hex(cases[i][11]);
        }
        items[i].nonce = cases[i][7][0] != '\0' ? cases[i][7] : NULL;
        items[i].nonce_len = strlen(cases[i][7]);
    }
    size_t policies = 0;
    for (size_t p = 0; p < n; p++) {
        int seen = 0;
        for (size_t q = 0; q < p && !seen; q++) {
            seen = same_policy(cases[p], cases[q]);
        }
        if (seen) {
            continue;
        }
        policies++;
        const kycvs_verifier *verifier = build_verifier(cases[p], trust);
        CHECK(verifier != NULL);
        if (verifier == NULL) {
            continue;
        }
        uint64_t now = strtoull(cases[p][6], NULL, 10);
        CHECK(kycvs_verifier_verify_batch(verifier, items, n, now, results, statuses) ==
              KYCVS_RESULT_OK);
        for (size_t i = 0; i < n; i++) {
            kycvs_verified *single = NULL;
            kycvs_result want = kycvs_verifier_verify(verifier, items[i].token,
                                                      items[i].token_len, items[i].nonce,
                                                      items[i].nonce_len, now, &single);
            if (results[i] != want) {
                fprintf(stderr, "FAIL %s: batch %s, single %s\n", cases[i][0],
                        kycvs_result_name(results[i]), kycvs_result_name(want));
            }
            CHECK(results[i] == want);
            if (want == KYCVS_RESULT_OK) {
                CHECK(same_verified(statuses[i], single));
            } else {
                CHECK(statuses[i] == NULL);
            }
            if (same_policy(cases[i], cases[p])) {
                CHECK(strcmp(kycvs_result_name(results[i]), cases[i][8]) == 0);
                if (results[i] == KYCVS_RESULT_OK) {
                    CHECK(str_is(kycvs_verified_kid(statuses[i]), cases[i][10]));
                    CHECK(kycvs_verified_status(statuses[i]) == strtoul(cases[i][9], NULL, 10));
                }
            }
            kycvs_verified_free(single);
            kycvs_verified_free(statuses[i]);
        }
        kycvs_verifier_free(verifier);
    }
    CHECK(policies > 1);
    free(items);
    free(results);
    free(statuses);
    kycvs_trust_store_free(trust);
    free(jwks);
    free(tsv);
}

/* A verifier trusting a fresh key, and BIG tokens it issued (subject "p-<i>"). */
static const kycvs_verifier *verifier;
static char tokens[BIG][KYCVS_TOKEN_BUF_LEN];
static kycvs_batch_item big[BIG];
static char big_kid[64]; /* the kid of the key that signed them */

static void setup_big(void) {
    kycvs_signing_key *key = NULL;
    kycvs_issuer *issuer = NULL;
    kycvs_trust_store *trust = NULL;
    kycvs_verifier_builder *builder = NULL;
    char jwk[512], jwks[600];
    size_t len = 0;
    CHECK(kycvs_signing_key_generate(&key) == KYCVS_RESULT_OK);
    CHECK(kycvs_signing_key_public_jwk(key, S(ISSUER), jwk, sizeof jwk, &len) ==
          KYCVS_RESULT_OK);
    snprintf(jwks, sizeof jwks, "{\"keys\":[%s]}", jwk);
    CHECK(kycvs_trust_store_from_jwks((const uint8_t *)jwks, strlen(jwks), &trust) ==
          KYCVS_RESULT_OK);
    CHECK(kycvs_issuer_new(key, S(ISSUER), KYCVS_ALGORITHM_ED25519, &issuer) == KYCVS_RESULT_OK);
    CHECK(kycvs_signing_key_kid(key, big_kid, sizeof big_kid, &len) == KYCVS_RESULT_OK);
    for (int i = 0; i < BIG; i++) {
        char subject[32];
        snprintf(subject, sizeof subject, "p-%d", i);
        CHECK(kycvs_issuer_issue(issuer, TOKEN_REQUEST(S(AUDIENCE), S(NONCE), S(subject), 2, 300), NOW,
                                 tokens[i], sizeof tokens[i], &len) == KYCVS_RESULT_OK);
        big[i].token = tokens[i];
        big[i].token_len = len;
        big[i].nonce = NONCE;
        big[i].nonce_len = strlen(NONCE);
    }
    CHECK(kycvs_verifier_builder_new(S(AUDIENCE), &builder) == KYCVS_RESULT_OK);
    CHECK(kycvs_verifier_builder_build(builder, trust, &verifier) == KYCVS_RESULT_OK);
    kycvs_verifier_builder_free(builder);
    kycvs_trust_store_free(trust);
    kycvs_issuer_free(issuer);
    kycvs_signing_key_free(key);
}

static int all_ok(const kycvs_result *results, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (results[i] != KYCVS_RESULT_OK) {
            return 0;
        }
    }
    return 1;
}

static void free_all(kycvs_verified **statuses, size_t n) {
    for (size_t i = 0; i < n; i++) {
        kycvs_verified_free(statuses[i]);
        statuses[i] = NULL;
    }
}

static void test_big_batch_with_bad_items(void) {
    static kycvs_result results[BIG];
    static kycvs_verified *statuses[BIG];
    CHECK(kycvs_verifier_verify_batch(verifier, big, BIG, NOW + 10, results, statuses) ==
          KYCVS_RESULT_OK);
    CHECK(all_ok(results, BIG));
    CHECK(str_is(kycvs_verified_sub(statuses[BIG - 1]), "p-299") &&
          kycvs_verified_status(statuses[7]) == 2);
    free_all(statuses, BIG);
    /* Statuses are optional. */
    CHECK(kycvs_verifier_verify_batch(verifier, big, BIG, NOW + 10, results, NULL) ==
          KYCVS_RESULT_OK);
    CHECK(all_ok(results, BIG));

    static kycvs_batch_item bad[BIG];
    static char forged[KYCVS_TOKEN_BUF_LEN];
    memcpy(bad, big, sizeof bad);
    /* A signature from another token: well-formed, wrong. */
    size_t dot = strrchr(tokens[5], '.') - tokens[5];
    snprintf(forged, sizeof forged, "%.*s%s", (int)dot, tokens[5], strrchr(tokens[6], '.'));
    bad[5].token = forged;
    bad[5].token_len = strlen(forged);
    bad[17].nonce = "PNR-0000";
    bad[17].nonce_len = 8;
    bad[42].token = NULL;
    bad[99].nonce = "\xff";
    bad[99].nonce_len = 1;
    bad[150].token_len = 10;
    bad[200].nonce = NULL; /* this verifier requires the nonce check */
    memset(results, 0, sizeof results);
    CHECK(kycvs_verifier_verify_batch(verifier, bad, BIG, NOW + 10, results, statuses) ==
          KYCVS_RESULT_OK);
    CHECK(results[5] == KYCVS_RESULT_BAD_SIGNATURE);
    CHECK(results[17] == KYCVS_RESULT_NONCE_MISMATCH);
    CHECK(results[42] == KYCVS_RESULT_NULL_ARGUMENT);
    CHECK(results[99] == KYCVS_RESULT_INVALID_ARGUMENT);
    CHECK(results[150] == KYCVS_RESULT_MALFORMED);
    CHECK(results[200] == KYCVS_RESULT_INVALID_ARGUMENT);
    int others_ok = 1;
    for (int i = 0; i < BIG; i++) {
        if (i != 5 && i != 17 && i != 42 && i != 99 && i != 150 && i != 200) {
            others_ok &= results[i] == KYCVS_RESULT_OK && statuses[i] != NULL;
        } else {
            others_ok &= statuses[i] == NULL;
        }
    }
    CHECK(others_ok);
    free_all(statuses, BIG);
    CHECK(kycvs_verifier_verify_batch(verifier, big, BIG, NOW + 3600, results, NULL) ==
          KYCVS_RESULT_OK);
    CHECK(results[0] == KYCVS_RESULT_EXPIRED && results[BIG - 1] == KYCVS_RESULT_EXPIRED);
}

static void test_arguments(void) {
    kycvs_result results[2] = {KYCVS_RESULT_PANIC, KYCVS_RESULT_PANIC};
    CHECK(kycvs_verifier_verify_batch(verifier, NULL, 0, NOW, NULL, NULL) == KYCVS_RESULT_OK);
    CHECK(kycvs_verifier_verify_batch(NULL, big, 2, NOW, results, NULL) ==
          KYCVS_RESULT_NULL_ARGUMENT);
    CHECK(kycvs_verifier_verify_batch(verifier, NULL, 2, NOW, results, NULL) ==
          KYCVS_RESULT_NULL_ARGUMENT);
    CHECK(kycvs_verifier_verify_batch(verifier, big, 2, NOW, NULL, NULL) ==
          KYCVS_RESULT_NULL_ARGUMENT);
    /* Nothing is written when the call fails. */
    CHECK(results[0] == KYCVS_RESULT_PANIC && results[1] == KYCVS_RESULT_PANIC);
}

/* One thread's share of the big batch: the tokens i with i % THREADS == t, none shared. */
enum { SHARE = BIG / THREADS };
struct thread_share {
    int t;
    kycvs_batch_item items[SHARE];
    kycvs_result results[SHARE];
    kycvs_verified *statuses[SHARE];
    int ok; /* items whose every verified field was that token's own, summed over rounds */
};

static void *verify_in_thread(void *arg) {
    struct thread_share *share = arg;
    for (int round = 0; round < 3; round++) {
        memset(share->statuses, 0, sizeof share->statuses);
        if (kycvs_verifier_verify_batch(verifier, share->items, SHARE, NOW + 10, share->results,
                                        share->statuses) != KYCVS_RESULT_OK) {
            return (void *)1;
        }
        for (int k = 0; k < SHARE; k++) {
            const kycvs_verified *v = share->statuses[k];
            char subject[32];
            snprintf(subject, sizeof subject, "p-%d", k * THREADS + share->t);
            share->ok += share->results[k] == KYCVS_RESULT_OK && v != NULL &&
                         kycvs_verified_status(v) == 2 && kycvs_verified_iat(v) == NOW &&
                         kycvs_verified_exp(v) == NOW + 300 &&
                         str_is(kycvs_verified_sub(v), subject) &&
                         str_is(kycvs_verified_iss(v), ISSUER) &&
                         str_is(kycvs_verified_aud(v), AUDIENCE) &&
                         str_is(kycvs_verified_nonce(v), NONCE) &&
                         str_is(kycvs_verified_kid(v), big_kid) &&
                         kycvs_verified_jti(v).len > 0;
        }
        free_all(share->statuses, SHARE);
    }
    return NULL;
}

static void test_threads(void) {
    static struct thread_share shares[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        shares[t].t = t;
        shares[t].ok = 0;
        for (int k = 0; k < SHARE; k++) {
            shares[t].items[k] = big[k * THREADS + t];
        }
        CHECK(pthread_create(&threads[t], NULL, verify_in_thread, &shares[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        void *ret = (void *)1;
        CHECK(pthread_join(threads[t], &ret) == 0);
        CHECK(ret == NULL);
        CHECK(shares[t].ok == 3 * SHARE);
    }
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "testvectors";
    /* The chunked parallel path (a batch of >= 128 items split across rayon's pool) runs
     * only with more than one pool thread. The pool is built on the first batch call and
     * reads this variable then, so the BIG (300-item) batches take that path on one CPU. */
    if (setenv("RAYON_NUM_THREADS", "4", 1) != 0) {
        fprintf(stderr, "setenv failed\n");
        return 1;
    }
    test_vector_corpus(dir);
    setup_big();
    test_big_batch_with_bad_items();
    test_arguments();
    test_threads();
    kycvs_verifier_free(verifier);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
