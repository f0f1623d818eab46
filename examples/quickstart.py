"""kycvs from Python: issue a status token and verify it, as the README shows.

Run by `make test` (test-examples) with the wheel installed in .venv.
"""

import kycvs

key = kycvs.SigningKey.generate()
trust = kycvs.TrustStore()
trust.add(key, issuer="cowin.example")
token = kycvs.Issuer(key, issuer="cowin.example").issue(
    audience="irctc.example",
    nonce="PNR-4711",
    status=kycvs.VaccinationStatus.FULLY_VACCINATED,
    subject="pseudonym-1",
)

verifier = kycvs.Verifier(trust, audience="irctc.example")
# The nonce is this verifier's transaction: required (None is refused unless the verifier
# was made with check_nonce=False).
verified = verifier.verify(token, "PNR-4711")
print("valid:", verified.status.name, "from", verified.iss)

try:
    verifier.verify(token, "PNR-9")
    raise SystemExit("a token for another transaction was accepted")
except kycvs.VerificationError as err:
    print("other nonce:", err.code, err.number)
    assert isinstance(err, kycvs.NonceMismatchError)
