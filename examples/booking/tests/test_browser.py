"""The sample booking site and the kycvs consent page, end to end in headless Chromium."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

import requests
from conftest import ROOT, Shots, World, chrome
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

# core/data/sample-registry.jsonl: B000002 (two doses, fully vaccinated) and B000001 (one).
FULL = ("9556719886", "సాయి దేవి")
PARTIAL = ("8906219727", "ସୁଭାଷ ମହାନ୍ତି")
CONFIRMED = "Fully vaccinated — ticket confirmed"
VERIFY_RECEIPT = ROOT / "target/booking/verify_receipt"


def until(driver: WebDriver, check: Callable[[WebDriver], Any], timeout: float = 15) -> Any:
    return WebDriverWait(driver, timeout).until(check)


def book(driver: WebDriver, url: str, mode: str = "iframe", lang: str = "") -> str:
    """Books the ticket on the site at `url`; the booking reference."""
    driver.switch_to.default_content()
    driver.get(url + "/")
    driver.find_element(By.ID, f"mode-{mode}").click()
    driver.find_element(By.CSS_SELECTOR, f"#lang option[value='{lang}']").click()
    driver.find_element(By.ID, "book").click()
    reference = until(driver, lambda d: d.find_element(By.ID, "reference")).text
    assert reference.startswith("PNR-")
    return str(reference)


def into_frame(driver: WebDriver) -> None:
    driver.switch_to.default_content()
    driver.switch_to.frame(driver.find_element(By.ID, "consent"))
    until(driver, lambda d: d.execute_script("return document.readyState") == "complete")


def visible(driver: WebDriver, element_id: str) -> bool:
    return bool(driver.find_element(By.ID, element_id).is_displayed())


def send_details(driver: WebDriver, world: World, person: tuple[str, str]) -> str:
    """Types mobile and name into the consent page and sends the code; the code sent."""
    count = world.issuer.sms_count()
    driver.find_element(By.ID, "mobile").clear()
    driver.find_element(By.ID, "mobile").send_keys(person[0])
    driver.find_element(By.ID, "name").clear()
    driver.find_element(By.ID, "name").send_keys(person[1])
    driver.find_element(By.ID, "send-code").click()
    until(driver, lambda d: visible(d, "step-code"))
    return world.issuer.otp_after(count)


def enter_code(driver: WebDriver, code: str) -> None:
    field = driver.find_element(By.ID, "code")
    field.clear()
    field.send_keys(code)
    driver.find_element(By.ID, "confirm").click()


def error_shown(driver: WebDriver) -> str:
    until(driver, lambda d: visible(d, "error-summary") and d.find_element(By.ID, "error-link").text)
    return str(driver.find_element(By.ID, "error-link").text)


def booking_status(driver: WebDriver, expected: str) -> str:
    driver.switch_to.default_content()
    until(driver, lambda d: expected in d.find_element(By.ID, "booking-status").text)
    return str(driver.find_element(By.ID, "booking-status").text)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_full_flow(browser: WebDriver, world: World, shots: Shots) -> None:
    reference = book(browser, world.site.url)
    shots("booking")
    into_frame(browser)
    body = browser.find_element(By.TAG_NAME, "main").text
    assert "IRCTC" in body and reference in body
    code = send_details(browser, world, FULL)
    shots("code-sent")
    enter_code(browser, code)
    until(browser, lambda d: visible(d, "step-done"))
    shots("shared")
    assert booking_status(browser, CONFIRMED) == CONFIRMED
    shots("confirmed")

    # The backend kept the token it collected; the legacy C check reaches the same status,
    # and refuses it for another booking.
    receipt = (world.site.receipts / f"{reference}.json").read_text()
    data = json.loads(receipt)
    assert data["status"] == 2 and data["reference"] == reference
    jwks = world.issuer.dir / "jwks.json"
    jwks.write_bytes(requests.get(world.issuer.url + "/.well-known/jwks.json").content)
    c = subprocess.run(
        [str(VERIFY_RECEIPT), str(jwks), data["audience"], reference, data["token"]],
        capture_output=True,
        text=True,
    )
    assert (c.returncode, c.stdout.strip()) == (0, "status 2"), c.stdout + c.stderr
    c = subprocess.run(
        [str(VERIFY_RECEIPT), str(jwks), data["audience"], "PNR-OTHER", data["token"]],
        capture_output=True,
        text=True,
    )
    assert c.returncode == 1 and "verify nonce_mismatch" in c.stdout, c.stdout

    # The token was collected once: the issuer does not hand it out a second time.
    session = browser.find_element(By.ID, "booking").get_attribute("data-session")
    again = requests.get(
        f"{world.issuer.url}/v1/sessions/{session}/token",
        auth=(world.issuer.client_id, world.issuer.client_secret),
    )
    assert again.status_code == 409 and again.json()["error"] == "session_used"


def test_partially_vaccinated_is_refused(browser: WebDriver, world: World, shots: Shots) -> None:
    book(browser, world.site.url)
    into_frame(browser)
    enter_code(browser, send_details(browser, world, PARTIAL))
    status = booking_status(browser, "Partially vaccinated")
    assert "not confirmed" in status
    shots("refused")


def test_wrong_code_then_right(browser: WebDriver, world: World, shots: Shots) -> None:
    book(browser, world.site.url)
    into_frame(browser)
    code = send_details(browser, world, FULL)
    enter_code(browser, wrong(code))
    assert error_shown(browser) == "The code is wrong. You have 2 tries left."
    shots("wrong-code")
    # The error is announced and the field is marked.
    summary = browser.find_element(By.ID, "error-summary")
    assert summary.get_attribute("role") == "alert"
    assert browser.find_element(By.ID, "code").get_attribute("aria-invalid") == "true"
    enter_code(browser, code)
    until(browser, lambda d: visible(d, "step-done"))
    booking_status(browser, CONFIRMED)
    shots("confirmed")


def test_too_many_tries(browser: WebDriver, world: World, shots: Shots) -> None:
    book(browser, world.site.url)
    into_frame(browser)
    code = send_details(browser, world, FULL)
    enter_code(browser, wrong(code))
    assert error_shown(browser) == "The code is wrong. You have 2 tries left."
    enter_code(browser, wrong(code))
    until(browser, lambda d: "1 try left" in d.find_element(By.ID, "error-link").text)
    enter_code(browser, wrong(code))
    until(browser, lambda d: "Too many wrong codes" in d.find_element(By.ID, "error-link").text)
    shots("too-many")
    # The right code no longer works; a new code does.
    assert visible(browser, "step-details")
    code = send_details(browser, world, FULL)
    enter_code(browser, code)
    until(browser, lambda d: visible(d, "step-done"))
    booking_status(browser, CONFIRMED)


def test_expired_code(browser: WebDriver, short_world: World, shots: Shots) -> None:
    book(browser, short_world.site.url)
    into_frame(browser)
    code = send_details(browser, short_world, FULL)
    time.sleep(3)  # the code lives 2 seconds on this issuer
    enter_code(browser, code)
    assert error_shown(browser) == "The code has expired. Ask for a new code."
    assert visible(browser, "step-details")
    shots("expired")


def test_session_replayed(browser: WebDriver, world: World, shots: Shots) -> None:
    book(browser, world.site.url)
    url = browser.find_element(By.ID, "booking").get_attribute("data-url")
    into_frame(browser)
    assert visible(browser, "mobile")
    # The page is served once: opening its URL again is refused with a clear message.
    browser.switch_to.default_content()
    browser.get(str(url))
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "This page has already been used" in text
    assert not browser.find_elements(By.ID, "mobile")
    shots("replayed")


def test_unregistered_origin(browser: WebDriver, world: World, shots: Shots) -> None:
    book(browser, world.stranger.url)
    # The session exists, but its page may be framed only by the registered origin: the
    # browser refuses to render it inside the stranger's page.
    into_frame(browser)
    assert not browser.find_elements(By.ID, "mobile")
    assert "Share your vaccination status" not in browser.page_source
    browser.switch_to.default_content()
    shots("refused-frame")


def test_popup(browser: WebDriver, world: World, shots: Shots) -> None:
    book(browser, world.site.url, mode="popup")
    home = browser.current_window_handle
    browser.find_element(By.ID, "open-consent").click()
    until(browser, lambda d: len(d.window_handles) == 2)
    popup = next(h for h in browser.window_handles if h != home)
    browser.switch_to.window(popup)
    until(browser, lambda d: d.find_elements(By.ID, "mobile"))
    enter_code(browser, send_details(browser, world, FULL))
    until(browser, lambda d: visible(d, "step-done"))
    shots("popup-shared")
    browser.switch_to.window(home)
    booking_status(browser, CONFIRMED)
    shots("confirmed")


def active_id(driver: WebDriver) -> str:
    return str(driver.execute_script("return document.activeElement && document.activeElement.id"))


def keys(driver: WebDriver, *sequence: str) -> None:
    ActionChains(driver).send_keys(*sequence).perform()


def tab_to(driver: WebDriver, element_id: str, limit: int = 12) -> None:
    for _ in range(limit):
        if active_id(driver) == element_id:
            return
        keys(driver, Keys.TAB)
    assert active_id(driver) == element_id


def test_keyboard_only(browser: WebDriver, world: World, shots: Shots) -> None:
    browser.get(world.site.url + "/")
    tab_to(browser, "book")
    keys(browser, Keys.ENTER)
    until(browser, lambda d: d.find_elements(By.ID, "reference"))
    # Tab moves from the booking page into the consent page's first field.
    keys(browser, Keys.TAB)
    into_frame(browser)
    tab_to(browser, "mobile")
    count = world.issuer.sms_count()
    keys(browser, FULL[0], Keys.TAB)
    assert active_id(browser) == "name"
    keys(browser, FULL[1], Keys.ENTER)
    until(browser, lambda d: active_id(d) == "code")
    shots("code-focused")
    code = world.issuer.otp_after(count)
    keys(browser, wrong(code), Keys.ENTER)
    # The error summary takes the focus; its link leads back to the field.
    until(browser, lambda d: active_id(d) == "error-summary")
    tab_to(browser, "error-link")
    keys(browser, Keys.ENTER)
    until(browser, lambda d: active_id(d) == "code")
    keys(browser, code, Keys.ENTER)
    until(browser, lambda d: active_id(d) == "done-title")
    booking_status(browser, CONFIRMED)
    shots("confirmed")


def test_hindi_from_browser_language(world: World) -> None:
    driver = chrome(lang="hi-IN")
    try:
        shots = Shots(driver, "hindi")
        book(driver, world.site.url)
        into_frame(driver)
        assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "hi"
        assert driver.find_element(By.CSS_SELECTOR, "label[for=mobile]").text == "मोबाइल नंबर"
        code = send_details(driver, world, FULL)
        enter_code(driver, wrong(code))
        assert error_shown(driver) == "कोड गलत है। आपके पास 2 प्रयास बचे हैं।"
        shots("wrong-code")
        enter_code(driver, code)
        until(driver, lambda d: visible(d, "step-done"))
        booking_status(driver, CONFIRMED)
    finally:
        driver.quit()


def test_hindi_chosen_by_session(browser: WebDriver, world: World, shots: Shots) -> None:
    book(browser, world.site.url, lang="hi")
    into_frame(browser)
    assert browser.find_element(By.ID, "send-code").text == "कोड भेजें"
    shots("hindi")


def test_phone_sized_screen(world: World) -> None:
    driver = chrome()
    try:
        # A window cannot be narrower than 500 px: emulate the phone's screen instead.
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": True},
        )
        shots = Shots(driver, "phone")
        book(driver, world.site.url)
        assert driver.execute_script("return document.documentElement.clientWidth") <= 375
        for document in ("booking site", "consent page"):
            if document == "consent page":
                into_frame(driver)
            # Nothing wider than the screen: no sideways scrolling.
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"the {document} scrolls sideways by {overflow}px"
        # Every field on show has a visible label.
        shown = driver.execute_script(
            "return [...document.querySelectorAll('input')].filter(i => i.offsetWidth)"
            ".map(i => [i.id, i.labels.length > 0 && i.labels[0].offsetWidth > 0])"
        )
        assert shown == [["mobile", True], ["name", True]]
        driver.switch_to.default_content()
        shots("consent")
        into_frame(driver)
        enter_code(driver, send_details(driver, world, FULL))
        until(driver, lambda d: visible(d, "step-done"))
        booking_status(driver, CONFIRMED)
        shots("confirmed")
    finally:
        driver.quit()


