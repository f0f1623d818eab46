/* kycvs from C: verify a token from the issuer's service against the JWKS it publishes.
 * Usage: verify_token JWKS_FILE AUDIENCE NONCE TOKEN
 * Prints "valid: status S from ISS for AUD" and exits 0, or "rejected: CODE (detail)" and
 * exits 1; 2 for a usage or setup error. Built and run by scripts/service-walkthrough.sh
 * (`make test-service`) against the installed library: cc verify_token.c -lkycvs. */
#include <kycvs.h>
#include <stdio.h>
#include <string.h>

/* The JWKS is read into this buffer; a longer file is refused. */
#define MAX_JWKS (256 * 1024)

static char jwks[MAX_JWKS];

/* Prints the failed call, its result name and this thread's last error detail. */
static void explain(const char *what, kycvs_result r) {
    char why[512];
    size_t why_len;
    if (kycvs_last_error_message(why, sizeof why, &why_len) != KYCVS_RESULT_OK)
        why[0] = '\0';
    printf("%s: %s (%s)\n", what, kycvs_result_name(r), why);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s JWKS_FILE AUDIENCE NONCE TOKEN\n", argv[0]);
        return 2;
    }
    const char *audience = argv[2], *nonce = argv[3], *token = argv[4];
    FILE *file = fopen(argv[1], "rb");
    if (file == NULL) {
        perror(argv[1]);
        return 2;
    }
    size_t jwks_len = fread(jwks, 1, sizeof jwks, file);
    int too_long = jwks_len == sizeof jwks, failed = ferror(file);
    fclose(file);
    if (too_long || failed) {
        fprintf(stderr, "%s: %s\n", argv[1], too_long ? "too long" : "cannot be read");
        return 2;
    }

    kycvs_trust_store *trust = NULL;
    kycvs_verifier_builder *builder = NULL;
    const kycvs_verifier *verifier = NULL;
    kycvs_verified *verified = NULL;
    int status = 2;
    kycvs_result r;
    if ((r = kycvs_trust_store_from_jwks((const uint8_t *)jwks, jwks_len, &trust)) !=
            KYCVS_RESULT_OK ||
        (r = kycvs_verifier_builder_new(audience, strlen(audience), &builder)) !=
            KYCVS_RESULT_OK ||
        (r = kycvs_verifier_builder_build(builder, trust, &verifier)) != KYCVS_RESULT_OK) {
        explain("setup", r);
        goto done;
    }
    r = kycvs_verifier_verify(verifier, token, strlen(token), nonce, strlen(nonce),
                              kycvs_unix_now(), &verified);
    if (r != KYCVS_RESULT_OK) {
        explain("rejected", r);
        status = 1;
        goto done;
    }
    kycvs_str iss = kycvs_verified_iss(verified), aud = kycvs_verified_aud(verified);
    printf("valid: status %u from %.*s for %.*s\n", (unsigned)kycvs_verified_status(verified),
           (int)iss.len, iss.data, (int)aud.len, aud.data);
    status = 0;

done:
    kycvs_verified_free(verified);
    kycvs_verifier_free(verifier);
    kycvs_verifier_builder_free(builder);
    kycvs_trust_store_free(trust);
    return status;
}
