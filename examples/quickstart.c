/* kycvs from C: issue a status token and verify it, as the README shows.
 * Built and run by `make test` (test-examples): cc quickstart.c -lkycvs. */
#include <kycvs.h>
#include <stdio.h>
#include <string.h>

#define ISSUER "cowin.example"
#define AUDIENCE "irctc.example"
#define NONCE "PNR-4711"

/* Prints the failed call, its result name and this thread's last error detail. */
static int fail(const char *what, kycvs_result r) {
    char why[512];
    size_t why_len;
    if (kycvs_last_error_message(why, sizeof why, &why_len) != KYCVS_RESULT_OK)
        why[0] = '\0';
    fprintf(stderr, "%s: %s (%s)\n", what, kycvs_result_name(r), why);
    return 1;
}

int main(void) {
    kycvs_signing_key *key = NULL;
    kycvs_issuer *issuer = NULL;
    kycvs_trust_store *trust = NULL;
    kycvs_verifier_builder *builder = NULL;
    const kycvs_verifier *verifier = NULL;
    kycvs_verified *verified = NULL;
    char jwk[1024], jwks[1100], token[KYCVS_TOKEN_BUF_LEN];
    size_t len;
    int status = 1;
    kycvs_result r;
    uint64_t now = kycvs_unix_now();

    /* Issuer side: a key, its public JWK bound to the issuer id, and a token. */
    if ((r = kycvs_signing_key_generate(&key)) != KYCVS_RESULT_OK) {
        fail("generate", r);
        goto done;
    }
    if ((r = kycvs_signing_key_public_jwk(key, ISSUER, strlen(ISSUER), jwk, sizeof jwk, &len)) !=
        KYCVS_RESULT_OK) {
        fail("public_jwk", r);
        goto done;
    }
    snprintf(jwks, sizeof jwks, "{\"keys\":[%s]}", jwk);
    const kycvs_token_request request = {
        .audience = AUDIENCE, .audience_len = strlen(AUDIENCE),
        .nonce = NONCE, .nonce_len = strlen(NONCE),
        .subject = "pseudonym-1", .subject_len = 11,
        .status = 2, .ttl = 300,
    };
    if ((r = kycvs_issuer_new(key, ISSUER, strlen(ISSUER), KYCVS_ALGORITHM_ED25519, &issuer)) !=
            KYCVS_RESULT_OK ||
        (r = kycvs_issuer_issue(issuer, &request, now, token, sizeof token, &len)) !=
            KYCVS_RESULT_OK) {
        fail("issue", r);
        goto done;
    }

    /* Verifier side: a trust store from the JWKS, a verifier for our audience. */
    if ((r = kycvs_trust_store_from_jwks((const uint8_t *)jwks, strlen(jwks), &trust)) !=
            KYCVS_RESULT_OK ||
        (r = kycvs_verifier_builder_new(AUDIENCE, strlen(AUDIENCE), &builder)) != KYCVS_RESULT_OK ||
        (r = kycvs_verifier_builder_build(builder, trust, &verifier)) != KYCVS_RESULT_OK) {
        fail("verifier", r);
        goto done;
    }
    /* The nonce is this verifier's transaction: always required (NULL is refused unless the
     * builder called kycvs_verifier_builder_disable_nonce_check). */
    r = kycvs_verifier_verify(verifier, token, strlen(token), NONCE, strlen(NONCE), now, &verified);
    if (r != KYCVS_RESULT_OK) {
        fail("verify", r);
        goto done;
    }
    kycvs_str iss = kycvs_verified_iss(verified), aud = kycvs_verified_aud(verified);
    printf("valid: status %u from %.*s for %.*s\n", (unsigned)kycvs_verified_status(verified),
           (int)iss.len, iss.data, (int)aud.len, aud.data);

    /* The same token for another transaction is rejected. */
    kycvs_verified *other = NULL;
    r = kycvs_verifier_verify(verifier, token, strlen(token), "PNR-9", 5, now, &other);
    printf("other nonce: %s\n", kycvs_result_name(r));
    status = r == KYCVS_RESULT_NONCE_MISMATCH && other == NULL ? 0 : 1;

done:
    kycvs_verified_free(verified);
    kycvs_verifier_free(verifier);
    kycvs_verifier_builder_free(builder);
    kycvs_trust_store_free(trust);
    kycvs_issuer_free(issuer);
    kycvs_signing_key_free(key);
    return status;
}
