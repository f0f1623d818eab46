"""Every answer of the issuer (page, refusal pages, static assets, API) and of the booking site
carries the security headers the page relies on."""

from __future__ import annotations

import requests
from conftest import World


def check_common(answer: requests.Response, what: str) -> None:
    h = answer.headers
    assert h.get("X-Content-Type-Options") == "nosniff", what
    assert h.get("Referrer-Policy") == "no-referrer", what
    assert "Set-Cookie" not in h, what
    cache = h.get("Cache-Control", "")
    # Only public documents (the page's script and style, the issuer's keys) may be cached.
    public = what.startswith("static") or what == "jwks"
    assert "no-store" in cache or public, f"{what}: {cache!r}"
    assert cache, what


def check_page_csp(answer: requests.Response, frame_ancestors: str, what: str) -> None:
    csp = answer.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives.get("default-src") == ["'self'"], f"{what}: {csp}"
    assert directives.get("script-src") == ["'self'"], f"{what}: {csp}"
    assert directives.get("frame-ancestors") == [frame_ancestors], f"{what}: {csp}"
    assert "unsafe-inline" not in csp and "*" not in csp, f"{what}: {csp}"
    assert answer.headers["Content-Type"].startswith("text/html"), what


def test_issuer_headers(world: World) -> None:
    issuer = world.issuer
    auth = (issuer.client_id, issuer.client_secret)
    origin = world.site.url
    created = requests.post(
        issuer.url + "/v1/sessions", json={"nonce": "PNR-H1", "origin": origin}, auth=auth
    )
    assert created.status_code == 201
    check_common(created, "create session")
    session = created.json()

    page = requests.get(session["url"])
    assert page.status_code == 200
    check_common(page, "page")
    check_page_csp(page, origin, "page")
    assert "<script>" not in page.text  # only the external script and a JSON data block

    again = requests.get(session["url"])
    assert again.status_code == 409
    check_common(again, "used page")
    check_page_csp(again, origin, "used page")

    missing = requests.get(issuer.url + "/consent/nosuchsession")
    assert missing.status_code == 404
    check_common(missing, "missing page")
    check_page_csp(missing, "'none'", "missing page")

    for path, kind in (("/static/consent.js", "text/javascript"), ("/static/consent.css", "text/css")):
        asset = requests.get(issuer.url + path)
        assert asset.status_code == 200 and asset.headers["Content-Type"].startswith(kind)
        check_common(asset, f"static {path}")

    same_origin = {"Origin": issuer.url, "Sec-Fetch-Site": "same-origin"}
    base = f"{issuer.url}/v1/sessions/{session['session_id']}"
    answers = {
        "code, bad mobile": requests.post(
            base + "/code", json={"mobile": "1", "name": "x"}, headers=same_origin
        ),
        "code, cross-site": requests.post(
            base + "/code",
            json={"mobile": "9556719886", "name": "x"},
            headers={"Origin": origin, "Sec-Fetch-Site": "cross-site"},
        ),
        "verify before code": requests.post(base + "/verify", json={"otp": "1"}, headers=same_origin),
        "token pending": requests.get(base + "/token", auth=auth),
        "token, no credentials": requests.get(base + "/token"),
        "jwks": requests.get(issuer.url + "/.well-known/jwks.json"),
    }
    expected = {
        "code, bad mobile": 400,
        "code, cross-site": 403,
        "verify before code": 409,
        "token pending": 409,
        "token, no credentials": 401,
        "jwks": 200,
    }
    for what, answer in answers.items():
        assert answer.status_code == expected[what], (what, answer.status_code, answer.text)
        if what != "jwks":
            assert answer.headers["Content-Type"].startswith("application/json"), what
        check_common(answer, what)


def test_booking_site_headers(world: World) -> None:
    site = world.site.url
    for path in ("/", "/static/booking.js", "/static/booking.css"):
        answer = requests.get(site + path)
        assert answer.status_code == 200, path
        check_common(answer, path)
    csp = requests.get(site + "/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and f"frame-src {world.issuer.url}" in csp
    assert "frame-ancestors 'none'" in csp
