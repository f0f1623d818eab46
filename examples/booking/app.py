"""A sample booking site that sells a train ticket once the traveller has shared their
vaccination status through the kycvs consent page.

The site never sees the traveller's mobile number or name: it asks kycvs-server for a consent
session bound to the booking reference (the nonce), embeds the session's page in an iframe (or
opens it as a popup), and verifies the signed token with the kycvs wheel against that booking
reference. The token that matters is the one the backend collects from kycvs-server itself;
the one the browser hands over only says "it is ready".

Configuration, from the environment (never sent to the browser):

  KYCVS_URL            the issuer's base URL, e.g. http://127.0.0.1:8080
  KYCVS_CLIENT_ID      this site's client id at the issuer (the token's audience)
  KYCVS_CLIENT_SECRET  its secret
  BOOKING_ORIGIN       the origin this site is served from, as registered at the issuer
                       (default: the origin of the request)
  BOOKING_RECEIPTS     optional folder: each verified booking is written there as
                       <reference>.json for the legacy system (examples/booking/verify_receipt.c)

Run: python examples/booking/app.py --port 8000
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask, Response, abort, jsonify, redirect, render_template, request, url_for

import kycvs

HERE = Path(__file__).resolve().parent

# What each verified status means for this ticket: the train takes fully vaccinated travellers.
VERDICTS = {
    kycvs.VaccinationStatus.FULLY_VACCINATED: (True, "Fully vaccinated — ticket confirmed"),
    kycvs.VaccinationStatus.PARTIALLY_VACCINATED: (
        False,
        "Partially vaccinated — this train needs full vaccination; ticket not confirmed",
    ),
    kycvs.VaccinationStatus.NOT_VACCINATED: (
        False,
        "Not vaccinated — this train needs full vaccination; ticket not confirmed",
    ),
}


@dataclass
class Booking:
    """One booking: its reference (the consent nonce) and what the issuer said."""

    reference: str
    session_id: str
    url: str
    mode: str
    confirmed: bool = False
    result: str | None = None
    status: int | None = None
    token: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Issuer:
    """This site's calls to kycvs-server, with its client credentials."""

    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.client_id = client_id
        self.auth = (client_id, client_secret)
        self._verifier: kycvs.Verifier | None = None
        self._lock = threading.Lock()

    def new_session(self, nonce: str, origin: str, lang: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"nonce": nonce, "origin": origin}
        if lang:
            body["lang"] = lang
        answer = requests.post(
            f"{self.base_url}/v1/sessions", json=body, auth=self.auth, timeout=10
        )
        answer.raise_for_status()
        data: dict[str, Any] = answer.json()
        return data

    def collect(self, session_id: str) -> tuple[int, dict[str, Any]]:
        """The session's token straight from the issuer (once), or its error."""
        answer = requests.get(
            f"{self.base_url}/v1/sessions/{session_id}/token", auth=self.auth, timeout=10
        )
        return answer.status_code, answer.json()

    def verifier(self) -> kycvs.Verifier:
        """A verifier for this site's audience over the issuer's published keys."""
        with self._lock:
            if self._verifier is None:
                jwks = requests.get(f"{self.base_url}/.well-known/jwks.json", timeout=10)
                jwks.raise_for_status()
                trust = kycvs.TrustStore.from_jwks(jwks.content)
                self._verifier = kycvs.Verifier(trust, audience=self.client_id)
            return self._verifier


def create_app(issuer: Issuer, origin: str | None = None, receipts: Path | None = None) -> Flask:
    """The booking site over `issuer`; `origin` is the origin registered for it there."""
    app = Flask(__name__, template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"))
    bookings: dict[str, Booking] = {}
    lock = threading.Lock()

    def site_origin() -> str:
        return origin or request.host_url.rstrip("/")

    @app.after_request
    def headers(response: Response) -> Response:
        # The site's own strict policy: its own script and style only, frames only from the
        # issuer, never framed itself.
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            f"connect-src 'self'; frame-src {issuer.origin}; form-action 'self'; "
            "base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/")
    def index() -> str:
        return render_template("index.html")

    @app.post("/book")
    def book() -> Response:
        mode = "popup" if request.form.get("mode") == "popup" else "iframe"
        lang = request.form.get("lang") or None
        if lang not in (None, "en", "hi"):
            abort(400)
        reference = "PNR-" + secrets.token_hex(5).upper()
        session = issuer.new_session(reference, site_origin(), lang)
        with lock:
            bookings[reference] = Booking(reference, session["session_id"], session["url"], mode)
        return redirect(url_for("booking", reference=reference), code=303)

    def find(reference: str) -> Booking:
        with lock:
            found = bookings.get(reference)
        if found is None:
            abort(404)
        return found

    @app.get("/booking/<reference>")
    def booking(reference: str) -> str:
        return render_template("booking.html", booking=find(reference), issuer_origin=issuer.origin)

    @app.post("/booking/<reference>/token")
    def token(reference: str) -> Response:
        entry = find(reference)
        sent = request.get_json(silent=True) or {}
        if sent.get("session") != entry.session_id:
            return jsonify(error="wrong_session"), 400
        if entry.result is None:
            settle(entry, sent.get("token"))
        return jsonify(confirmed=entry.confirmed, result=entry.result, status=entry.status)

    def settle(entry: Booking, browser_token: Any) -> None:
        # The browser's word is a hint: the token verified is the one collected from the
        # issuer over this site's authenticated channel.
        code, answer = issuer.collect(entry.session_id)
        if code != 200:
            entry.result = f"Not confirmed — the issuer says {answer.get('error', code)}"
            return
        collected = answer["token"]
        if browser_token != collected:
            entry.extra["browser_token_differs"] = True
        try:
            verified = issuer.verifier().verify(collected, nonce=entry.reference)
        except kycvs.VerificationError as err:
            entry.result = f"Not confirmed — the token was refused ({err.code})"
            return
        entry.confirmed, entry.result = VERDICTS[verified.status]
        entry.status = int(verified.status)
        entry.token = collected
        if receipts is not None:
            receipts.mkdir(parents=True, exist_ok=True)
            (receipts / f"{entry.reference}.json").write_text(
                json.dumps(
                    {
                        "reference": entry.reference,
                        "audience": issuer.client_id,
                        "status": entry.status,
                        "token": collected,
                    }
                )
            )

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    issuer = Issuer(
        os.environ.get("KYCVS_URL", "http://127.0.0.1:8080"),
        os.environ["KYCVS_CLIENT_ID"],
        os.environ["KYCVS_CLIENT_SECRET"],
    )
    receipts = os.environ.get("BOOKING_RECEIPTS")
    app = create_app(
        issuer,
        origin=os.environ.get("BOOKING_ORIGIN") or None,
        receipts=Path(receipts) if receipts else None,
    )
    print(f"booking site listening on http://{args.host}:{args.port}", flush=True)
    app.run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
