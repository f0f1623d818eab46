"""Fixtures for the browser test: real kycvs-server processes, the sample booking site on a
registered and on an unregistered origin, and headless Chromium driven through chromedriver.

Everything the processes write lands under target/browser-test/; screenshots under
target/screenshots/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parents[3]
SERVER = os.environ.get("KYCVS_SERVER_BIN", str(ROOT / "target/debug/kycvs-server"))
WORK = ROOT / "target/browser-test"
SHOTS = ROOT / "target/screenshots"
APP = ROOT / "examples/booking/app.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_http(url: str) -> None:
    for _ in range(200):
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


@dataclass
class Issuer:
    """A running kycvs-server: its URL, its directory and the booking client's credentials."""

    url: str
    dir: Path
    client_id: str
    client_secret: str
    process: subprocess.Popen[bytes]

    @property
    def sms_log(self) -> Path:
        return self.dir / "state/sms.log"

    def sms_count(self) -> int:
        if not self.sms_log.exists():
            return 0
        return len(self.sms_log.read_text(encoding="utf-8").splitlines())

    def otp_after(self, count: int) -> str:
        """The code of the first SMS sent after `count` SMS, once it is there."""
        for _ in range(200):
            lines = (
                self.sms_log.read_text(encoding="utf-8").splitlines()
                if self.sms_log.exists()
                else []
            )
            if len(lines) > count:
                text: str = json.loads(lines[count])["text"]
                return text[:6]
            time.sleep(0.05)
        raise AssertionError("no SMS was sent")


@dataclass
class Site:
    """A running booking site."""

    url: str
    receipts: Path
    process: subprocess.Popen[bytes]


def start_issuer(name: str, origins: list[str], consent: str) -> Issuer:
    directory = WORK / name
    shutil.rmtree(directory, ignore_errors=True)
    port = free_port()
    subprocess.run(
        [SERVER, "init", "--dir", str(directory), "--listen", f"127.0.0.1:{port}"],
        check=True,
        capture_output=True,
    )
    config = directory / "kycvs-server.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[store]", f"[consent]\n{consent}\n\n[store]", 1))
    add = [SERVER, "client", "add", "--config", str(config), "--id", "irctc.example"]
    add += ["--name", "IRCTC"]
    for origin in origins:
        add += ["--origin", origin]
    out = subprocess.run(add, check=True, capture_output=True, text=True).stdout
    secret = next(
        line.removeprefix("client_secret: ")
        for line in out.splitlines()
        if line.startswith("client_secret: ")
    )
    with open(directory / "server.log", "ab") as log:
        process = subprocess.Popen(
            [SERVER, "run", "--config", str(config)], stdout=subprocess.PIPE, stderr=log
        )
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    assert line.startswith("kycvs-server listening on "), line
    url = line.removeprefix("kycvs-server listening on ")
    return Issuer(url, directory, "irctc.example", secret, process)


def start_site(issuer: Issuer, port: int, origin: str) -> Site:
    receipts = issuer.dir / f"receipts-{port}"
    env = dict(
        os.environ,
        KYCVS_URL=issuer.url,
        KYCVS_CLIENT_ID=issuer.client_id,
        KYCVS_CLIENT_SECRET=issuer.client_secret,
        BOOKING_ORIGIN=origin,
        BOOKING_RECEIPTS=str(receipts),
    )
    with open(issuer.dir / f"site-{port}.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, str(APP), "--port", str(port)], env=env, stdout=log, stderr=log
        )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/")
    return Site(url, receipts, process)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


@dataclass
class World:
    """The issuer, the booking site on its registered origin, and a copy of the site on an
    origin the issuer does not know."""

    issuer: Issuer
    site: Site
    stranger: Site


def make_world(name: str, consent: str) -> Iterator[World]:
    port, stranger_port = free_port(), free_port()
    origin = f"http://127.0.0.1:{port}"
    issuer = start_issuer(name, [origin], consent)
    site = start_site(issuer, port, origin)
    # The stranger serves the same site but claims the registered origin: the issuer creates
    # the session, and the browser must still refuse to show the page inside the stranger.
    stranger = start_site(issuer, stranger_port, origin)
    try:
        yield World(issuer, site, stranger)
    finally:
        for process in (stranger.process, site.process, issuer.process):
            stop(process)


@pytest.fixture(scope="session")
def world() -> Iterator[World]:
    yield from make_world("main", "max_attempts = 3\nrate_limit = 100")


@pytest.fixture(scope="session")
def short_world() -> Iterator[World]:
    """An issuer whose codes live 2 seconds."""
    yield from make_world("short", "otp_ttl_s = 2\nrate_limit = 100")


def chrome(lang: str = "en-GB", width: int = 1000, height: int = 1100) -> webdriver.Chrome:
    options = Options()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--lang={lang}")
    options.add_experimental_option("prefs", {"intl.accept_languages": lang})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.implicitly_wait(0)
    return driver


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    driver = chrome()
    try:
        yield driver
    finally:
        driver.quit()


class Shots:
    """Saves numbered screenshots of one test's steps."""

    def __init__(self, driver: webdriver.Chrome, test: str) -> None:
        self.driver = driver
        self.test = test
        self.n = 0
        SHOTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, step: str) -> Path:
        self.n += 1
        path = SHOTS / f"{self.test}-{self.n:02d}-{step}.png"
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture
def shots(browser: webdriver.Chrome, request: pytest.FixtureRequest) -> Shots:
    return Shots(browser, request.node.name.removeprefix("test_"))
