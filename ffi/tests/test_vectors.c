/* Runs every case of testvectors/verify.tsv through the C API against testvectors/trust.jwks.
 * Usage: test_vectors [TESTVECTORS_DIR]   (default: testvectors)
 * Prints "N passed, M failed" and exits non-zero on any failure. */
#include "kycvs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FIELD_COUNT = 19 };

/* Reads a whole file into a NUL-terminated heap buffer; exits on failure. */
static char *read_file(const char *dir, const char *name, size_t *len_out) {
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
    *len_out = len;
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

static const char *last_error(void) {
    static char buf[1024];
    size_t len = 0;
    if (kycvs_last_error_message(buf, sizeof buf, &len) != KYCVS_RESULT_OK) {
        return "(message too long)";
    }
    return buf;
}

/* Builds the verifier a case's policy asks for; NULL (with a message) on failure. */
static const kycvs_verifier *build_verifier(char *fields[FIELD_COUNT],
                                            const kycvs_trust_store *trust) {
    const char *audience = fields[2];
    char *issuers = fields[3];
    kycvs_verifier_builder *builder = NULL;
    const kycvs_verifier *verifier = NULL;
    kycvs_result r = kycvs_verifier_builder_new(audience, strlen(audience), &builder);
    if (r == KYCVS_RESULT_OK && issuers[0] != '\0') {
        char *issuer = issuers;
        for (;;) {
            char *comma = strchr(issuer, ',');
            size_t len = comma != NULL ? (size_t)(comma - issuer) : strlen(issuer);
            r = kycvs_verifier_builder_add_issuer(builder, issuer, len);
            if (r != KYCVS_RESULT_OK || comma == NULL) {
                break;
            }
            issuer = comma + 1;
        }
    }
    if (r == KYCVS_RESULT_OK) {
        r = kycvs_verifier_builder_set_leeway(builder, strtoull(fields[4], NULL, 10));
    }
    if (r == KYCVS_RESULT_OK) {
        r = kycvs_verifier_builder_set_max_lifetime(builder, strtoull(fields[5], NULL, 10));
    }
    /* A case that expects no nonce (an empty field) needs the check turned off. */
    if (r == KYCVS_RESULT_OK && fields[7][0] == '\0') {
        r = kycvs_verifier_builder_disable_nonce_check(builder);
    }
    if (r == KYCVS_RESULT_OK) {
        r = kycvs_verifier_builder_build(builder, trust, &verifier);
    }
    if (r != KYCVS_RESULT_OK) {
        fprintf(stderr, "FAIL %s: building the verifier: %s\n", fields[0], last_error());
    }
    kycvs_verifier_builder_free(builder);
    return verifier;
}

/* Decodes the token_hex field (a token that is not UTF-8) in place; returns its length. */
static size_t decode_hex(char *hex) {
    size_t n = 0;
    for (const char *p = hex; p[0] != '\0' && p[1] != '\0'; p += 2) {
        char pair[3] = {p[0], p[1], '\0'};
        hex[n++] = (char)strtoul(pair, NULL, 16);
    }
    return n;
}

/* Returns 1 when a verified string field equals the expected text, else reports it. */
static int same_str(const char *name, const char *field, kycvs_str got, const char *want) {
    if (got.len == strlen(want) && memcmp(got.data, want, got.len) == 0) {
        return 1;
    }
    fprintf(stderr, "FAIL %s: expected %s %s, got %.*s\n", name, field, want, (int)got.len,
            got.data);
    return 0;
}

/* Returns 1 when a verified time field equals the expected decimal number, else reports it. */
static int same_u64(const char *name, const char *field, uint64_t got, const char *want) {
    if (want[0] != '\0' && got == strtoull(want, NULL, 10)) {
        return 1;
    }
    fprintf(stderr, "FAIL %s: expected %s %s, got %llu\n", name, field, want,
            (unsigned long long)got);
    return 0;
}

/* Runs one case; returns 1 when it gives exactly the expected outcome. */
static int run_case(char *fields[FIELD_COUNT], const kycvs_trust_store *trust) {
    const char *name = fields[0], *token = fields[1], *nonce = fields[7];
    const char *expected = fields[8], *status = fields[9], *kid = fields[10];
    const kycvs_verifier *verifier = build_verifier(fields, trust);
    if (verifier == NULL) {
        return 0;
    }
    kycvs_verified *out = NULL;
    size_t token_len = strlen(token);
    if (fields[11][0] != '\0') {
        token = fields[11];
        token_len = decode_hex(fields[11]);
    }
    kycvs_result r = kycvs_verifier_verify(verifier, token, token_len,
                                           nonce[0] != '\0' ? nonce : NULL, strlen(nonce),
                                           strtoull(fields[6], NULL, 10), &out);
    kycvs_verifier_free(verifier);
    const char *got = kycvs_result_name(r);
    if (strcmp(got, expected) != 0) {
        fprintf(stderr, "FAIL %s: expected %s, got %s (%s)\n", name, expected, got,
                r == KYCVS_RESULT_OK ? "" : last_error());
        return 0;
    }
    int ok = 1;
    if (r == KYCVS_RESULT_OK) {
        /* Every field of the verified result: status, kid, then iss ... exp (fields 12-18). */
        unsigned got_status = kycvs_verified_status(out);
        if (got_status != strtoul(status, NULL, 10)) {
            fprintf(stderr, "FAIL %s: expected status %s, got %u\n", name, status, got_status);
            ok = 0;
        }
        ok &= same_str(name, "kid", kycvs_verified_kid(out), kid);
        ok &= same_str(name, "iss", kycvs_verified_iss(out), fields[12]);
        ok &= same_str(name, "sub", kycvs_verified_sub(out), fields[13]);
        ok &= same_str(name, "aud", kycvs_verified_aud(out), fields[14]);
        ok &= same_str(name, "jti", kycvs_verified_jti(out), fields[15]);
        ok &= same_str(name, "nonce", kycvs_verified_nonce(out), fields[16]);
        ok &= same_u64(name, "iat", kycvs_verified_iat(out), fields[17]);
        ok &= same_u64(name, "exp", kycvs_verified_exp(out), fields[18]);
        kycvs_verified_free(out);
    }
    return ok;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "testvectors";
    size_t jwks_len = 0, tsv_len = 0;
    char *jwks = read_file(dir, "trust.jwks", &jwks_len);
    char *tsv = read_file(dir, "verify.tsv", &tsv_len);

    kycvs_trust_store *trust = NULL;
    if (kycvs_trust_store_from_jwks((const uint8_t *)jwks, jwks_len, &trust) !=
        KYCVS_RESULT_OK) {
        fprintf(stderr, "cannot load trust.jwks: %s\n", last_error());
        return 2;
    }

    int passed = 0, failed = 0, line_no = 0;
    char *line = tsv;
    while (line != NULL && *line != '\0') {
        char *newline = strchr(line, '\n');
        if (newline != NULL) {
            *newline = '\0';
        }
        char *fields[FIELD_COUNT];
        if (++line_no > 1) {
            if (!split_fields(line, fields)) {
                fprintf(stderr, "FAIL line %d: not %d tab-separated fields\n", line_no,
                        FIELD_COUNT);
                failed++;
            } else if (run_case(fields, trust)) {
                passed++;
            } else {
                failed++;
            }
        }
        line = newline != NULL ? newline + 1 : NULL;
    }

    kycvs_trust_store_free(trust);
    free(jwks);
    free(tsv);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
