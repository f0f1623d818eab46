"""kycvs from Python: verify a token from the issuer's service against its published JWKS.

Usage: verify_token.py JWKS_FILE AUDIENCE NONCE TOKEN
Prints "valid: status S from ISS for AUD" and exits 0, or "rejected: CODE (detail)" and
exits 1. Run by scripts/service-walkthrough.sh (`make test-service`) with the wheel
installed in .venv.
"""

import sys

import kycvs

if len(sys.argv) != 5:
    sys.exit("usage: verify_token.py JWKS_FILE AUDIENCE NONCE TOKEN")
jwks_file, audience, nonce, token = sys.argv[1:]
with open(jwks_file, "rb") as f:
    trust = kycvs.TrustStore.from_jwks(f.read())
verifier = kycvs.Verifier(trust, audience=audience)
try:
    verified = verifier.verify(token, nonce)
except kycvs.VerificationError as err:
    print(f"rejected: {err.code} ({err})")
    sys.exit(1)
print(f"valid: status {int(verified.status)} from {verified.iss} for {verified.aud}")
