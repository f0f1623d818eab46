/* The C API beside libsodium's crypto_sign_verify_detached on the same bytes, in one run.
 * Prints a ratio table (markdown); with a path argument also writes the figures as JSON for
 * benches/report.py. Every figure is the best of several timed rounds. */
#define _POSIX_C_SOURCE 200809L
#include "kycvs.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { BATCH = 1024, ROUNDS = 7 };

static const char *const ISSUER = "cowin.example";
static const char *const AUDIENCE = "irctc.example";
static const char *const NONCE = "PNR-4711";
static const uint64_t NOW = 1800000000u;

#define S(text) text, strlen(text)
/* A kycvs_token_request for kycvs_issuer_issue: audience, nonce, subject (ptr, len each),
 * status, ttl. */
#define TOKEN_REQUEST(...) (&(kycvs_token_request){__VA_ARGS__})
#define MUST(call)                                                            \
    do {                                                                      \
        if ((call) != KYCVS_RESULT_OK) {                                      \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #call); \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Decodes unpadded base64url; returns the byte count, or 0 on a bad character. */
static size_t b64url_decode(const char *in, size_t len, unsigned char *out) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        const char *p = strchr(alphabet, in[i]);
        if (p == NULL || in[i] == '\0') {
            return 0;
        }
        acc = (acc << 6) | (uint32_t)(p - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return n;
}

static char tokens[BATCH][KYCVS_TOKEN_BUF_LEN];
static size_t token_lens[BATCH];
static unsigned char signatures[BATCH][64];
static kycvs_batch_item items[BATCH];
static kycvs_result results[BATCH];

int main(int argc, char **argv) {
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    kycvs_signing_key *key = NULL;
    kycvs_issuer *issuer = NULL;
    kycvs_trust_store *trust = NULL;
    kycvs_verifier_builder *builder = NULL;
    const kycvs_verifier *verifier = NULL;
    char jwk[512], jwks[600];
    size_t len = 0;
    MUST(kycvs_signing_key_generate(&key));
    MUST(kycvs_signing_key_public_jwk(key, S(ISSUER), jwk, sizeof jwk, &len));
    snprintf(jwks, sizeof jwks, "{\"keys\":[%s]}", jwk);
    MUST(kycvs_trust_store_from_jwks((const uint8_t *)jwks, strlen(jwks), &trust));
    MUST(kycvs_issuer_new(key, S(ISSUER), KYCVS_ALGORITHM_ED25519, &issuer));
    MUST(kycvs_verifier_builder_new(S(AUDIENCE), &builder));
    MUST(kycvs_verifier_builder_build(builder, trust, &verifier));

    /* The raw public key: the JWK's "x". */
    unsigned char pk[64];
    const char *x = strstr(jwk, "\"x\":\"");
    if (x == NULL || b64url_decode(x + 5, 43, pk) != 32) {
        fprintf(stderr, "cannot read the public key from %s\n", jwk);
        return 1;
    }
    for (int i = 0; i < BATCH; i++) {
        char subject[32];
        snprintf(subject, sizeof subject, "p-%d", i);
        MUST(kycvs_issuer_issue(issuer, TOKEN_REQUEST(S(AUDIENCE), S(NONCE), S(subject), 2, 300), NOW,
                                tokens[i], sizeof tokens[i], &token_lens[i]));
        const char *dot = strrchr(tokens[i], '.');
        if (b64url_decode(dot + 1, strlen(dot + 1), signatures[i]) != 64) {
            fprintf(stderr, "bad signature segment\n");
            return 1;
        }
        items[i] = (kycvs_batch_item){tokens[i], token_lens[i], NONCE, strlen(NONCE)};
    }
    size_t signed_len = (size_t)(strrchr(tokens[0], '.') - tokens[0]);
    if (crypto_sign_verify_detached(signatures[0], (const unsigned char *)tokens[0], signed_len,
                                    pk) != 0) {
        fprintf(stderr, "libsodium rejects the token's signature\n");
        return 1;
    }

    double best_kycvs = 1e9, best_sodium = 1e9, best_batch = 1e9;
    const int single = 2000;
    for (int round = 0; round < ROUNDS; round++) {
        double t = now_s();
        for (int i = 0; i < single; i++) {
            kycvs_verified *out = NULL;
            MUST(kycvs_verifier_verify(verifier, tokens[0], token_lens[0], S(NONCE), NOW + 10,
                                       &out));
            kycvs_verified_free(out);
        }
        double dt = (now_s() - t) / single;
        best_kycvs = dt < best_kycvs ? dt : best_kycvs;

        t = now_s();
        for (int i = 0; i < single; i++) {
            if (crypto_sign_verify_detached(signatures[0], (const unsigned char *)tokens[0],
                                            signed_len, pk) != 0) {
                return 1;
            }
        }
        dt = (now_s() - t) / single;
        best_sodium = dt < best_sodium ? dt : best_sodium;

        t = now_s();
        for (int rep = 0; rep < 2; rep++) {
            MUST(kycvs_verifier_verify_batch(verifier, items, BATCH, NOW + 10, results, NULL));
        }
        dt = (now_s() - t) / (2.0 * BATCH);
        best_batch = dt < best_batch ? dt : best_batch;
        for (int i = 0; i < BATCH; i++) {
            if (results[i] != KYCVS_RESULT_OK) {
                fprintf(stderr, "batch item %d: %s\n", i, kycvs_result_name(results[i]));
                return 1;
            }
        }
    }
    const char *threads = getenv("RAYON_NUM_THREADS");
    printf("libkycvs %s (curve25519 backend %s), libsodium %s, best of %d rounds%s%s\n\n",
           kycvs_version(), kycvs_backend(), sodium_version_string(), ROUNDS, threads ? ", RAYON_NUM_THREADS=" : "",
           threads ? threads : "");
    printf("| call | µs per token | kycvs speed-up | target |\n|---|---:|---:|---:|\n");
    printf("| `kycvs_verifier_verify` (full token) | %.1f | 1.00 | |\n", best_kycvs * 1e6);
    printf("| libsodium `crypto_sign_verify_detached` (raw) | %.1f | %.2f x | >= 2.0 x |\n",
           best_sodium * 1e6, best_sodium / best_kycvs);
    printf("| `kycvs_verifier_verify_batch` (%d) | %.1f | %.2f x libsodium | >= 8 x (1 thread) |\n", BATCH,
           best_batch * 1e6, best_sodium / best_batch);
    if (argc > 1) {
        FILE *f = fopen(argv[1], "w");
        if (f == NULL) {
            perror(argv[1]);
            return 1;
        }
        fprintf(f,
                "{\"libsodium\": \"%s\", \"backend\": \"%s\", \"threads\": \"%s\", \"us\": {\"kycvs_verify\": %.3f, "
                "\"sodium_verify\": %.3f, \"kycvs_verify_batch_per_token\": %.3f}, "
                "\"ratios\": {\"verify_vs_sodium\": %.3f, \"batch_vs_sodium\": %.3f}}\n",
                sodium_version_string(), kycvs_backend(), threads ? threads : "", best_kycvs * 1e6,
                best_sodium * 1e6, best_batch * 1e6, best_sodium / best_kycvs,
                best_sodium / best_batch);
        fclose(f);
    }
    kycvs_verifier_free(verifier);
    kycvs_verifier_builder_free(builder);
    kycvs_trust_store_free(trust);
    kycvs_issuer_free(issuer);
    kycvs_signing_key_free(key);
    return 0;
}
