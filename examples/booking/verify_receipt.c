/* The booking site's verification step for a legacy C back office: the same check the Python
 * site makes, through libkycvs. Usage: verify_receipt JWKS_FILE AUDIENCE NONCE TOKEN
 * Prints "status N" (0 not, 1 partially, 2 fully vaccinated) and exits 0 when the token is
 * valid for this audience and booking reference; otherwise prints the refusal and exits 1.
 * Built and run by examples/booking/tests/run.sh against the installed libkycvs. */
#include <kycvs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, kycvs_result r) {
    char why[512];
    size_t why_len;
    if (kycvs_last_error_message(why, sizeof why, &why_len) != KYCVS_RESULT_OK)
        why[0] = '\0';
    printf("refused: %s %s (%s)\n", what, kycvs_result_name(r), why);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s JWKS_FILE AUDIENCE NONCE TOKEN\n", argv[0]);
        return 2;
    }
    const char *audience = argv[2], *nonce = argv[3], *token = argv[4];
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    static char jwks[1 << 16];
    size_t jwks_len = fread(jwks, 1, sizeof jwks, f);
    fclose(f);

    kycvs_trust_store *trust = NULL;
    kycvs_verifier_builder *builder = NULL;
    const kycvs_verifier *verifier = NULL;
    kycvs_verified *verified = NULL;
    int status = 1;
    kycvs_result r;
    if ((r = kycvs_trust_store_from_jwks((const uint8_t *)jwks, jwks_len, &trust)) !=
        KYCVS_RESULT_OK) {
        status = fail("jwks", r);
        goto done;
    }
    if ((r = kycvs_verifier_builder_new(audience, strlen(audience), &builder)) !=
            KYCVS_RESULT_OK ||
        (r = kycvs_verifier_builder_build(builder, trust, &verifier)) != KYCVS_RESULT_OK) {
        status = fail("verifier", r);
        goto done;
    }
    r = kycvs_verifier_verify(verifier, token, strlen(token), nonce, strlen(nonce),
                              kycvs_unix_now(), &verified);
    if (r != KYCVS_RESULT_OK) {
        status = fail("verify", r);
        goto done;
    }
    printf("status %u\n", (unsigned)kycvs_verified_status(verified));
    status = 0;

done:
    kycvs_verified_free(verified);
    kycvs_verifier_free(verifier);
    kycvs_verifier_builder_free(builder);
    kycvs_trust_store_free(trust);
    return status;
}
