"""The OTP consent flow through Python: each status end to end, expiry with an injected
clock, attempt limit, rate limit, single use, wrong OTPs, the same answers for an unknown
mobile number or name, concurrent completes, argument errors."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import kycvs

from conftest import AUDIENCE, ISSUER, NOW, Pair

# Sample registry people: Odia (1 of 2 doses), Telugu (2 of 2), Bengali (no dose), Latin.
PARTIAL = ("+91 89062-19727", "ସୁଭାଷ ମହାନ୍ତି", "B000001")
FULL = ("9556719886", "సాయి దేవి", "B000002")
NONE = ("08439734719", "সুমিতা ঘোষ", "B000009")
LATIN = ("9917730852", "  rahul   MENON ", "B000024")
PSEUDONYM_KEY = bytes([7]) * 32


def service(pair: Pair, *, otp_ttl: int = 180, max_attempts: int = 3, rate_limit: int = 5,
            rate_window: int = 3600, token_ttl: int = 300) -> kycvs.IssuanceService:
    return kycvs.IssuanceService(
        pair.issuer, kycvs.Registry.sample(), pseudonym_key=PSEUDONYM_KEY, otp_ttl=otp_ttl,
        max_attempts=max_attempts, rate_limit=rate_limit, rate_window=rate_window,
        token_ttl=token_ttl,
    )


def begin(svc: kycvs.IssuanceService, who: tuple[str, str, str], nonce: str = "PNR-1",
          now: int = NOW) -> kycvs.ConsentChallenge:
    return svc.begin(mobile=who[0], name=who[1], audience=AUDIENCE, nonce=nonce, now=now)


def wrong(otp: str) -> str:
    return f"{(int(otp) + 1) % 1_000_000:06d}"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (PARTIAL, kycvs.VaccinationStatus.PARTIALLY_VACCINATED),
        (FULL, kycvs.VaccinationStatus.FULLY_VACCINATED),
        (NONE, kycvs.VaccinationStatus.NOT_VACCINATED),
        (LATIN, kycvs.VaccinationStatus.NOT_VACCINATED),
    ],
)
def test_each_status_end_to_end(pair: Pair, who: tuple[str, str, str],
                                status: kycvs.VaccinationStatus) -> None:
    svc = service(pair)
    c = begin(svc, who, nonce="PNR-4711")
    assert len(c.consent_id) == 22
    assert len(c.otp) == 6 and c.otp.isdigit()
    assert c.expires_at == NOW + 180
    assert c.otp not in repr(c) and c.consent_id in repr(c)
    token = svc.complete(c.consent_id, c.otp, now=NOW + 30)
    assert who[0].replace(" ", "") not in token
    v = pair.verifier.verify(token, nonce="PNR-4711", now=NOW + 31)
    assert v.status is status
    assert (v.iss, v.aud, v.iat, v.exp) == (ISSUER, AUDIENCE, NOW + 30, NOW + 330)
    assert v.sub == svc.subject(AUDIENCE, who[2])
    assert v.sub != svc.subject("airline.example", who[2])
    # Single use.
    with pytest.raises(kycvs.ConsentNotFoundError) as e:
        svc.complete(c.consent_id, c.otp, now=NOW + 32)
    assert e.value.code == "consent_not_found"
    assert isinstance(e.value, kycvs.ConsentError)


def test_expiry_with_injected_clock(pair: Pair) -> None:
    svc = service(pair, otp_ttl=60)
    c = begin(svc, FULL)
    assert c.expires_at == NOW + 60
    with pytest.raises(kycvs.ConsentExpiredError):
        svc.complete(c.consent_id, c.otp, now=NOW + 60)
    with pytest.raises(kycvs.ConsentNotFoundError):
        svc.complete(c.consent_id, c.otp, now=NOW + 60)
    c = begin(svc, FULL)
    svc.complete(c.consent_id, c.otp, now=NOW + 59)


def test_attempt_limit_and_wrong_otp(pair: Pair) -> None:
    svc = service(pair)
    c = begin(svc, FULL)
    for bad in (wrong(c.otp), "12345"):
        with pytest.raises(kycvs.OtpMismatchError):
            svc.complete(c.consent_id, bad, now=NOW + 1)
    with pytest.raises(kycvs.AttemptsExhaustedError):
        svc.complete(c.consent_id, wrong(c.otp), now=NOW + 1)
    with pytest.raises(kycvs.ConsentNotFoundError):
        svc.complete(c.consent_id, c.otp, now=NOW + 1)
    # One wrong OTP, then the right one.
    c = begin(svc, FULL)
    with pytest.raises(kycvs.OtpMismatchError):
        svc.complete(c.consent_id, wrong(c.otp), now=NOW + 1)
    svc.complete(c.consent_id, c.otp, now=NOW + 2)
    # A custom limit of one attempt.
    one = service(pair, max_attempts=1)
    c = begin(one, FULL)
    with pytest.raises(kycvs.AttemptsExhaustedError):
        one.complete(c.consent_id, wrong(c.otp), now=NOW + 1)


def test_rate_limit_per_mobile_number(pair: Pair) -> None:
    svc = service(pair)
    spellings = ["9556719886", "+91 95567 19886", "919556719886", "09556719886", "9556-719-886"]
    for i, mobile in enumerate(spellings):
        svc.begin(mobile=mobile, name=f"name {i}", audience=AUDIENCE, nonce="N", now=NOW + i)
    with pytest.raises(kycvs.RateLimitedError) as e:
        begin(svc, FULL, now=NOW + 10)
    assert e.value.code == "rate_limited"
    # Another mobile number is unaffected; the window rolls.
    begin(svc, NONE, now=NOW + 10)
    begin(svc, FULL, now=NOW + 3600)
    small = service(pair, rate_limit=1, rate_window=10)
    begin(small, FULL)
    with pytest.raises(kycvs.RateLimitedError):
        begin(small, FULL, now=NOW + 9)
    begin(small, FULL, now=NOW + 10)


def test_unknown_mobile_or_name_answered_identically(pair: Pair) -> None:
    svc = service(pair)
    codes: list[list[str]] = []
    for who, use_own_otp in [
        (("9000000001", FULL[1], ""), True),   # unknown mobile number
        ((FULL[0], "Sai Devi", ""), True),     # known number, wrong name
        (FULL, False),                         # the real person, a wrong OTP
    ]:
        c = begin(svc, who)
        assert (len(c.consent_id), len(c.otp), c.expires_at) == (22, 6, NOW + 180)
        otp = c.otp if use_own_otp else wrong(c.otp)
        seen = []
        for _ in range(4):
            with pytest.raises(kycvs.ConsentError) as e:
                svc.complete(c.consent_id, otp, now=NOW + 1)
            seen.append(e.value.code)
        codes.append(seen)
    expected = ["otp_mismatch", "otp_mismatch", "attempts_exhausted", "consent_not_found"]
    assert codes == [expected] * 3


def test_concurrent_completes_issue_exactly_one_token(pair: Pair) -> None:
    svc = service(pair, rate_limit=1000)
    for _ in range(20):
        c = begin(svc, FULL)
        barrier = threading.Barrier(4)

        def attempt() -> str | None:
            barrier.wait()
            try:
                return svc.complete(c.consent_id, c.otp, now=NOW + 1)
            except kycvs.ConsentNotFoundError:
                return None

        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: attempt(), range(4)))
        assert sum(r is not None for r in results) == 1


def test_argument_errors(pair: Pair) -> None:
    svc = service(pair)
    with pytest.raises(kycvs.InvalidMobileError):
        svc.begin(mobile="12345", name="x", audience=AUDIENCE, nonce="N", now=NOW)
    with pytest.raises(kycvs.InvalidArgumentError):
        svc.begin(mobile=FULL[0], name="   ", audience=AUDIENCE, nonce="N", now=NOW)
    with pytest.raises(kycvs.InvalidArgumentError):
        svc.begin(mobile=FULL[0], name="x", audience="", nonce="N", now=NOW)
    with pytest.raises(kycvs.InvalidArgumentError):
        svc.begin(mobile=FULL[0], name="x", audience=AUDIENCE, nonce="N", now=-1)
    with pytest.raises(TypeError):
        svc.begin(mobile=FULL[0], name="x", audience=AUDIENCE, nonce="N", now="soon")  # type: ignore[arg-type]
    with pytest.raises(kycvs.ConsentNotFoundError):
        svc.complete("nope", "123456", now=NOW)
    for config in ({"otp_ttl": 0}, {"max_attempts": 11}, {"rate_limit": 0},
                   {"rate_window": 86401}, {"token_ttl": 0}, {"max_attempts": 2**40}):
        with pytest.raises(kycvs.InvalidArgumentError):
            service(pair, **config)
    with pytest.raises(kycvs.InvalidKeyError):
        kycvs.IssuanceService(pair.issuer, kycvs.Registry.sample(), pseudonym_key=b"short")
    with pytest.raises(kycvs.InvalidKeyError):
        kycvs.IssuanceService(pair.issuer, kycvs.Registry.sample(), otp_key=b"short")
    assert svc.issuer == ISSUER
    assert "IssuanceService(issuer='cowin.example'" in repr(svc)


def test_shared_otp_key_completes_across_services(pair: Pair) -> None:
    # Consents live in each service's own store; the OTP key alone does not share them.
    a = kycvs.IssuanceService(pair.issuer, kycvs.Registry.sample(), otp_key=bytes(32))
    b = kycvs.IssuanceService(pair.issuer, kycvs.Registry.sample(), otp_key=bytes(32))
    c = begin(a, FULL)
    with pytest.raises(kycvs.ConsentNotFoundError):
        b.complete(c.consent_id, c.otp, now=NOW + 1)
    a.complete(c.consent_id, c.otp, now=NOW + 1)


def test_unknown_product_after_the_right_otp(pair: Pair) -> None:
    line = ('{"id":"X1","mobile":"9876543210","name":"Asha Rao",'
            '"doses":[{"product":"Elixir","dose":1,"date":"2021-06-25"}]}\n')
    svc = kycvs.IssuanceService(pair.issuer, kycvs.Registry.from_jsonl(line))
    c = svc.begin(mobile="9876543210", name="ASHA RAO", audience=AUDIENCE, nonce="N", now=NOW)
    with pytest.raises(kycvs.UnknownProductError):
        svc.complete(c.consent_id, c.otp, now=NOW + 1)
    with pytest.raises(kycvs.ConsentNotFoundError):
        svc.complete(c.consent_id, c.otp, now=NOW + 1)
    schedule = kycvs.VaccineSchedule.from_json(
        '{"version":1,"products":[{"name":"Elixir","primary_doses":1}]}')
    svc = kycvs.IssuanceService(pair.issuer, kycvs.Registry.from_jsonl(line.encode()),
                                schedule=schedule)
    c = svc.begin(mobile="9876543210", name="Asha Rao", audience=AUDIENCE, nonce="N", now=NOW)
    token = svc.complete(c.consent_id, c.otp, now=NOW + 1)
    assert pair.verifier.verify(token, "N", now=NOW + 2).status == 2


def test_registry() -> None:
    assert len(kycvs.Registry.sample()) == 300
    assert repr(kycvs.Registry.sample()) == "Registry(beneficiaries=300)"
    with pytest.raises(kycvs.InvalidRegistryError) as e:
        kycvs.Registry.from_jsonl('{"id":"X","mobile":"1","name":"A","doses":[]}\n')
    assert "line 1" in str(e.value)
    with pytest.raises(kycvs.InvalidRegistryError):
        kycvs.Registry.from_jsonl(b"\xff\xfe")
    with pytest.raises(TypeError):
        kycvs.Registry.from_jsonl(42)  # type: ignore[arg-type]
    assert len(kycvs.Registry.from_jsonl("")) == 0


def test_sides_alone_through_a_consent_file(pair: Pair, tmp_path: Path) -> None:
    path = tmp_path / "consents.json"
    otp_key = bytes([5]) * 32
    starter = kycvs.ConsentStarter(kycvs.Registry.sample(), pseudonym_key=PSEUDONYM_KEY,
                                   otp_key=otp_key, consent_file=path)
    # The complete side needs no registry: begin decided the status and the subject.
    completer = kycvs.ConsentCompleter(pair.issuer, otp_key=otp_key, consent_file=str(path))
    assert completer.issuer == ISSUER and ISSUER in repr(completer)
    c = starter.begin(mobile=FULL[0], name=FULL[1], audience=AUDIENCE, nonce="PNR-F", now=NOW)
    data = path.read_bytes()
    for secret in (FULL[0], FULL[1], FULL[2], c.otp, "Covishield"):
        assert secret.encode() not in data
    token = completer.complete(c.consent_id, c.otp, now=NOW + 1)
    verified = pair.verifier.verify(token, nonce="PNR-F", now=NOW + 2)
    assert verified.status == kycvs.VaccinationStatus.FULLY_VACCINATED
    assert verified.sub == starter.subject(AUDIENCE, FULL[2])
    with pytest.raises(kycvs.ConsentNotFoundError):
        completer.complete(c.consent_id, c.otp, now=NOW + 1)

    # A service over the same file and key completes what the starter began.
    svc = kycvs.IssuanceService(pair.issuer, kycvs.Registry.sample(), otp_key=otp_key,
                                consent_file=path)
    c = starter.begin(mobile=FULL[0], name=FULL[1], audience=AUDIENCE, nonce="PNR-G", now=NOW)
    assert svc.complete(c.consent_id, c.otp, now=NOW + 1)

    # Another OTP key completes nothing; a file that is not a consent store is refused.
    other = kycvs.ConsentCompleter(pair.issuer, otp_key=bytes([6]) * 32, consent_file=path)
    c = starter.begin(mobile=FULL[0], name=FULL[1], audience=AUDIENCE, nonce="PNR-H", now=NOW)
    with pytest.raises(kycvs.OtpMismatchError):
        other.complete(c.consent_id, c.otp, now=NOW + 1)
    bad = tmp_path / "bad.json"
    bad.write_text("not a consent store")
    with pytest.raises(kycvs.ConsentStoreUnavailableError):
        kycvs.ConsentCompleter(pair.issuer, consent_file=bad)
    with pytest.raises(kycvs.InvalidKeyError):
        kycvs.ConsentCompleter(pair.issuer, otp_key=b"short")
