/* A booking server's verifier as one process: tokens in on stdin, verdicts out on stdout,
 * with the replay memory in Redis (kycvs_redis_replay.h), shared with every other verifier
 * on that Redis whatever its language.
 *
 * Usage: booking_verifier JWKS_FILE AUDIENCE REDIS_SOCKET TIMEOUT_MS
 *
 * Input, one request per line:
 *   TOKEN NONCE NOW        verifies one token at NOW (seconds since the Unix epoch)
 *   BATCH n                followed by n lines TOKEN NONCE NOW (all with the first line's
 *                          NOW), verified in one kycvs_verifier_verify_batch call
 *   THREADS n              followed by one line TOKEN NONCE NOW, verified by n threads at
 *                          once (a race on one token: at most one may accept it)
 * Output, one line per token, flushed after each request: `ok STATUS` or the result's name
 * (`replayed`, `replay_store_unavailable`, ...); `bad_input` for a line it cannot read.
 * The process outlives Redis outages: a refused token is just a verdict. */
/* POSIX.1-2008: getline, strtok_r, pthread barriers. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kycvs.h>

#include "kycvs_redis_replay.h"

/* Enough for any test of a race; each thread is a verifier call in flight. */
#define MAX_THREADS 64
/* A batch as large as a booking server would send in one call, and then some. */
#define MAX_BATCH 100000

typedef struct {
    char *token;
    char *nonce;
    uint64_t now;
} request;

static int fail(const char *what) {
    char why[512];
    size_t why_len = 0;
    if (kycvs_last_error_message(why, sizeof why, &why_len) != KYCVS_RESULT_OK) {
        why[0] = '\0';
    }
    fprintf(stderr, "booking_verifier: %s: %s\n", what, why);
    return 1;
}

/* Reads the whole file into a new buffer; NULL on failure. */
static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 4096, used = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        used += fread(buf + used, 1, cap - used, f);
        if (used < cap) {
            break;
        }
        char *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
        } else {
            buf = bigger;
            cap *= 2;
        }
    }
    if (buf != NULL && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = used;
    return buf;
}

/* Splits `line` (changed in place) into TOKEN NONCE NOW; 0 on success. */
static int parse_request(char *line, request *out) {
    char *save = NULL;
    char *token = strtok_r(line, " \t\r\n", &save);
    char *nonce = strtok_r(NULL, " \t\r\n", &save);
    char *now = strtok_r(NULL, " \t\r\n", &save);
    if (token == NULL || nonce == NULL || now == NULL || strtok_r(NULL, " \t\r\n", &save)) {
        return -1;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(now, &end, 10);
    if (errno != 0 || *end != '\0' || now[0] == '-') {
        return -1;
    }
    out->token = token;
    out->nonce = nonce;
    out->now = (uint64_t)value;
    return 0;
}

/* Parses "WORD n" with 1 <= n <= max; 0 when `line` is not that command. */
static size_t parse_count(const char *line, const char *word, size_t max) {
    size_t len = strlen(word);
    if (strncmp(line, word, len) != 0 || line[len] != ' ') {
        return 0;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(line + len + 1, &end, 10);
    if (errno != 0 || (*end != '\n' && *end != '\0') || n < 1 || n > max ||
        line[len + 1] == '-') {
        return 0;
    }
    return (size_t)n;
}

static void print_verdict(kycvs_result r, const kycvs_verified *verified) {
    if (r == KYCVS_RESULT_OK) {
        printf("ok %u\n", (unsigned)kycvs_verified_status(verified));
    } else {
        printf("%s\n", kycvs_result_name(r));
    }
}

static void verify_one(const kycvs_verifier *verifier, const request *req) {
    kycvs_verified *verified = NULL;
    kycvs_result r = kycvs_verifier_verify(verifier, req->token, strlen(req->token), req->nonce,
                                           strlen(req->nonce), req->now, &verified);
    print_verdict(r, verified);
    kycvs_verified_free(verified);
}

/* Reads `n` lines and verifies them in one batch call (so with one replay check). */
static int verify_batch(const kycvs_verifier *verifier, size_t n) {
    char **lines = calloc(n, sizeof *lines);
    kycvs_batch_item *items = calloc(n, sizeof *items);
    kycvs_result *results = calloc(n, sizeof *results);
    kycvs_verified **verified = calloc(n, sizeof *verified);
    int ok = lines != NULL && items != NULL && results != NULL && verified != NULL;
    int bad = 0;
    uint64_t now = 0;
    for (size_t i = 0; ok && i < n; i++) {
        size_t cap = 0;
        request req;
        if (getline(&lines[i], &cap, stdin) < 0) {
            ok = 0;
        } else if (parse_request(lines[i], &req) != 0) {
            bad = 1;
        } else {
            if (i == 0) {
                now = req.now;
            }
            items[i] = (kycvs_batch_item){req.token, strlen(req.token), req.nonce,
                                          strlen(req.nonce)};
        }
    }
    if (ok && !bad &&
        kycvs_verifier_verify_batch(verifier, items, n, now, results, verified) != KYCVS_RESULT_OK) {
        ok = 0;
    }
    for (size_t i = 0; ok && i < n; i++) {
        if (bad) {
            printf("bad_input\n");
        } else {
            print_verdict(results[i], verified[i]);
        }
    }
    for (size_t i = 0; i < n && verified != NULL; i++) {
        kycvs_verified_free(verified[i]);
    }
    for (size_t i = 0; i < n && lines != NULL; i++) {
        free(lines[i]);
    }
    free(verified);
    free(results);
    free(items);
    free(lines);
    return ok ? 0 : -1;
}

typedef struct {
    const kycvs_verifier *verifier;
    const request *req;
    pthread_barrier_t *start;
    kycvs_result result;
    uint8_t status;
} racer;

static void *race(void *arg) {
    racer *r = arg;
    kycvs_verified *verified = NULL;
    pthread_barrier_wait(r->start);
    r->result = kycvs_verifier_verify(r->verifier, r->req->token, strlen(r->req->token),
                                      r->req->nonce, strlen(r->req->nonce), r->req->now,
                                      &verified);
    if (r->result == KYCVS_RESULT_OK) {
        r->status = kycvs_verified_status(verified);
    }
    kycvs_verified_free(verified);
    return NULL;
}

/* Verifies one token from `n` threads released at once by a barrier. */
static int verify_race(const kycvs_verifier *verifier, size_t n) {
    char *line = NULL;
    size_t cap = 0;
    request req;
    if (getline(&line, &cap, stdin) < 0) {
        free(line);
        return -1;
    }
    if (parse_request(line, &req) != 0) {
        for (size_t i = 0; i < n; i++) {
            printf("bad_input\n");
        }
        free(line);
        return 0;
    }
    pthread_t threads[MAX_THREADS];
    racer racers[MAX_THREADS];
    pthread_barrier_t start;
    if (pthread_barrier_init(&start, NULL, (unsigned)n) != 0) {
        free(line);
        return -1;
    }
    size_t started = 0;
    for (; started < n; started++) {
        racers[started] = (racer){verifier, &req, &start, KYCVS_RESULT_PANIC, 0};
        if (pthread_create(&threads[started], NULL, race, &racers[started]) != 0) {
            break;
        }
    }
    if (started < n) {
        /* The barrier waits for n threads; without all of them none can run. */
        fprintf(stderr, "booking_verifier: cannot start %zu threads\n", n);
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_barrier_destroy(&start);
    for (size_t i = 0; i < n; i++) {
        if (racers[i].result == KYCVS_RESULT_OK) {
            printf("ok %u\n", (unsigned)racers[i].status);
        } else {
            printf("%s\n", kycvs_result_name(racers[i].result));
        }
    }
    free(line);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: booking_verifier JWKS_FILE AUDIENCE REDIS_SOCKET TIMEOUT_MS\n");
        return 2;
    }
    char *end = NULL;
    long timeout_ms = strtol(argv[4], &end, 10);
    if (*end != '\0' || timeout_ms < 1 || timeout_ms > 600000) {
        fprintf(stderr, "booking_verifier: TIMEOUT_MS must be 1 to 600000\n");
        return 2;
    }
    size_t jwks_len = 0;
    char *jwks = read_file(argv[1], &jwks_len);
    if (jwks == NULL) {
        fprintf(stderr, "booking_verifier: cannot read %s\n", argv[1]);
        return 1;
    }
    kycvs_trust_store *trust = NULL;
    kycvs_verifier_builder *builder = NULL;
    const kycvs_verifier *plain = NULL;
    const kycvs_verifier *verifier = NULL;
    kycvs_redis_replay *store = kycvs_redis_replay_open(argv[3], 0, NULL, (int)timeout_ms);
    int rc = 0;
    if (store == NULL) {
        fprintf(stderr, "booking_verifier: bad Redis socket path or out of memory\n");
        rc = 1;
    } else if (kycvs_trust_store_from_jwks((const uint8_t *)jwks, jwks_len, &trust) !=
               KYCVS_RESULT_OK) {
        rc = fail("trust store");
    } else if (kycvs_verifier_builder_new(argv[2], strlen(argv[2]), &builder) !=
                   KYCVS_RESULT_OK ||
               kycvs_verifier_builder_build(builder, trust, &plain) != KYCVS_RESULT_OK ||
               kycvs_verifier_with_replay_callback(plain, kycvs_redis_replay_check, store,
                                                   &verifier) != KYCVS_RESULT_OK) {
        rc = fail("verifier");
    }

    char *line = NULL;
    size_t cap = 0;
    while (rc == 0 && getline(&line, &cap, stdin) >= 0) {
        size_t n;
        request req;
        if ((n = parse_count(line, "BATCH", MAX_BATCH)) > 0) {
            if (verify_batch(verifier, n) != 0) {
                fprintf(stderr, "booking_verifier: batch of %zu failed\n", n);
                rc = 1;
            }
        } else if ((n = parse_count(line, "THREADS", MAX_THREADS)) > 0) {
            if (verify_race(verifier, n) != 0) {
                fprintf(stderr, "booking_verifier: race of %zu failed\n", n);
                rc = 1;
            }
        } else if (parse_request(line, &req) == 0) {
            verify_one(verifier, &req);
        } else {
            printf("bad_input\n");
        }
        /* Each answer is flushed: the other end waits for it before sending the next line. */
        if (fflush(stdout) != 0) {
            rc = 1;
        }
    }
    free(line);
    kycvs_verifier_free(verifier);
    kycvs_verifier_free(plain);
    kycvs_verifier_builder_free(builder);
    kycvs_trust_store_free(trust);
    kycvs_redis_replay_close(store);
    free(jwks);
    return rc;
}
