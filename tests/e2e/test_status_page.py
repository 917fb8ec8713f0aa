"""The status page in a real headless Chromium, and /status.json, against the whole stack in Docker,
through the published port only."""

import json
import os
from pathlib import Path

import pytest
import requests

from headless_chromium import Chromium, chromium_binary

from .stack import BASE_URL, ROOT, fresh_stack, get, wait_for
from .test_appliance import ENV, TOKEN, pytestmark as docker_mark, recorded_uploads

SCREENSHOT = ROOT / "tests" / "e2e" / "screenshots" / "status-page.png"
PHONE_SCREENSHOT = SCREENSHOT.with_name("status-page-phone.png")
if chromium_binary() is None and os.environ.get("CI") == "true":
    raise RuntimeError("the status page tests must run in CI, but chromium is not installed (tests/prepare-host)")
pytestmark = [docker_mark, pytest.mark.skipif(chromium_binary() is None,
                                              reason="chromium is not installed (tests/prepare-host installs it)")]

PICTURES = "[...document.querySelectorAll('img[data-camera]')]"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with fresh_stack(ENV, tmp_path_factory.mktemp("e2e-status")) as s:
        s.run("up", "-d")
        wait_for(lambda: get("/snapshot.jpg").status_code == 200, 90, "a first frame through nginx")
        yield s


@pytest.fixture(scope="module")
def browser(stack):
    with Chromium(1280, 900) as chromium:
        chromium.open(BASE_URL + "/")
        yield chromium


def status():
    response = get("/status.json")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    return response.json()


def text_of(browser, selector):
    return browser.evaluate(f"(document.querySelector({json.dumps(selector)}) || {{}}).textContent || ''")


def connect_mode(stack, mode):
    """Tells the Prusa Connect stand-in how to answer from now on ({} restores normal answers)."""
    result = stack.exec_python("prusa-connect", (
        "import urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:8080/_mode', "
        f"data={json.dumps(mode).encode()!r}, method='POST', headers={{'Content-Type': 'application/json'}}), "
        "timeout=3)"))
    assert result.returncode == 0, result.stderr


UPLOAD = "document.querySelector(\"[data-camera='1'] [data-field=upload]\")?.textContent"
CAUSE = "document.querySelector(\"[data-camera='1'] [data-field=cause]\")?.textContent"
CONNECT_PILL = "document.querySelector(\"[data-camera='1'] h3 .pill\")?.textContent"


def test_every_cameras_picture_renders_from_nothing_but_the_appliance(browser):
    assert [c["camera"] for c in status()["cameras"]] == [1, 2]
    widths = browser.wait_for(
        f"(p => p.length === 2 && p.every(i => i.naturalWidth > 0) && p.map(i => i.naturalWidth))({PICTURES})",
        30, "every camera's picture")
    assert widths == [int(ENV["CAMERA_WIDTH"]), int(ENV["CAMERA2_WIDTH"])]
    assert text_of(browser, "[data-camera='1'] [data-field=source]") == "test pattern (synthetic)"
    assert text_of(browser, "[data-camera='1'] [data-field=size]") == "640 × 480"
    browser.wait_for("/fps$/.test(document.querySelector(\"[data-camera='1'] [data-field=fps]\").textContent)", 10,
                     "a measured frame rate")
    outside = [url for url in browser.requests if not url.startswith((BASE_URL + "/", "data:"))]
    assert outside == [], "the page fetched something from elsewhere"
    assert browser.console == []


def test_the_upload_line_of_a_camera_with_connect_says_accepted(browser):
    line = browser.wait_for(f"/^accepted \\d+ s ago$/.test({UPLOAD}) && {UPLOAD}", 30, "an accepted upload")
    assert line.startswith("accepted ")
    assert browser.evaluate(CONNECT_PILL) == "uploading"
    assert browser.evaluate("document.querySelector(\"[data-camera='1'] [data-field=token]\").textContent") == \
        "…" + TOKEN[-4:]


def test_status_json_has_every_field_with_its_type_and_no_secret(stack):
    doc = status()
    assert set(doc) == {"version", "generated_at", "status", "cameras", "printer", "door", "unknown"}
    assert doc["version"] == (ROOT / "VERSION").read_text().strip()
    assert isinstance(doc["generated_at"], float) and doc["status"] in ("ok", "warning", "failing")
    camera = doc["cameras"][0]
    types = {"camera": int, "name": str, "status": str, "stream": str, "snapshot": str, "feed_connected": bool, "source": str,
             "width": int, "height": int, "frame_age_s": float, "frames_total": int, "frames_dropped": int,
             "reconnects": int, "reader_restarts": int, "stream_clients": int}
    assert {k: type(camera[k]) for k in types} == types
    assert camera["fps"] is None or isinstance(camera["fps"], (int, float))
    assert (camera["stream"], camera["snapshot"], camera["source"]) == ("/stream.mjpg", "/snapshot.jpg", "synthetic")
    second = doc["cameras"][1]
    assert (second["camera"], second["name"], second["stream"], second["snapshot"], second["width"]) == (
        2, ENV["CAMERA2_NAME"], "/webcam2/stream.mjpg", "/webcam2/snapshot.jpg", int(ENV["CAMERA2_WIDTH"]))
    assert doc["door"]["allowed_networks"] == ENV.get("ALLOWED_CIDRS", "127.0.0.0/8 10.0.0.0/8 172.16.0.0/12 "
                                                     "192.168.0.0/16 ::1/128 fc00::/7 fe80::/10").split()
    assert all(isinstance(reason, str) and reason for reason in doc["unknown"].values())
    for path in ("/status.json", "/"):
        assert TOKEN not in get(path).text and TOKEN[:-4] not in get(path).text


def test_status_json_shows_the_fingerprint_only_as_its_last_4_characters(stack, browser):
    browser.wait_for(f"/^accepted/.test({UPLOAD})", 40, "a first accepted upload")
    fingerprint = recorded_uploads(stack)[0]["headers"]["Fingerprint"]
    connect = status()["cameras"][0]["connect"]
    assert connect["fingerprint"] == fingerprint[-4:] and connect["token"] == TOKEN[-4:]
    page = browser.evaluate("document.body.innerText")
    for text in (get("/status.json").text, page):
        assert fingerprint not in text and fingerprint[:-4] not in text and TOKEN not in text


def test_a_fault_at_connect_shows_its_cause_within_20_s_and_clears_after_recovery(stack, browser):
    connect_mode(stack, {"status": 503})
    try:
        cause = browser.wait_for(CAUSE, 20, "the cause on the page")
        assert cause.startswith("not uploading: Prusa Connect is unavailable or overloaded (HTTP 503"), cause
        assert "; next try " in cause
        assert browser.evaluate(CONNECT_PILL) == "not uploading"
    finally:
        connect_mode(stack, {})
    browser.wait_for(f"{CAUSE} === undefined && {CONNECT_PILL} === 'uploading'", 90, "the cause to clear")


def test_the_page_reads_well_on_a_phone(browser):
    try:
        browser.resize(390, 844, mobile=True)
        browser.wait_for(f"{PICTURES}.every(i => i.naturalWidth > 0)", 20, "the pictures at phone width")
        assert browser.evaluate("document.documentElement.scrollWidth") <= 390
        browser.screenshot(PHONE_SCREENSHOT)
    finally:
        browser.resize(1280, 900)


def test_the_screenshot(browser):
    browser.wait_for(f"{PICTURES}.every(i => i.naturalWidth > 0) && !document.getElementById('banner').textContent"
                     " && [...document.querySelectorAll('[data-field=fps]')].every(e => e.textContent.endsWith('fps'))"
                     " && [...document.querySelectorAll('[data-field=viewers]')].every(e => e.textContent === '1')"
                     f" && /^accepted/.test({UPLOAD})",
                     30, "a settled page: every picture, its frame rate measured, only this page watching, uploading")
    assert browser.screenshot(SCREENSHOT).stat().st_size > 10000


def test_a_part_that_cannot_be_reached_shows_as_unknown(stack, browser):
    stack.run("stop", "uploader")
    try:
        reason = wait_for(lambda: status()["unknown"].get("uploader"), 20, "status.json to miss the uploader")
        assert "uploader" in reason
        browser.wait_for("document.querySelector(\"[data-camera='1']\").textContent.includes('unknown: ')", 20,
                         "the page to say the uploads are unknown")
    finally:
        stack.run("start", "uploader")


def test_the_page_stays_up_while_the_frame_server_is_down_and_recovers(stack, browser):
    stack.run("stop", "http")
    try:
        banner = browser.wait_for("document.getElementById('banner').textContent", 20, "the page to say so")
        assert "The frame server does not answer (HTTP 502" in banner
        assert get("/").status_code == 200
    finally:
        stack.run("start", "http")
    browser.wait_for("document.getElementById('banner').textContent === ''", 60, "the page to recover")
    browser.wait_for(f"{PICTURES}.every(i => i.naturalWidth > 0)", 30, "the pictures again")


def test_at_the_stream_cap_the_picture_is_a_refreshing_snapshot(stack):
    streams = []
    try:
        while True:  # fill this address's stream slots (STREAM_MAX_PER_CLIENT)
            response = requests.get(BASE_URL + "/stream.mjpg", stream=True, timeout=5)
            if response.status_code == 503:
                assert "too many streams" in response.text
                break
            streams.append(response)
            assert len(streams) <= 50
        with Chromium(800, 600) as browser:
            browser.open(BASE_URL + "/")
            note = browser.wait_for("document.querySelector(\"[data-camera='1'] .note\").textContent", 20,
                                    "the note on the picture")
            assert note == "snapshots: no stream slot free"
            first = browser.wait_for(f"{PICTURES}[0].naturalWidth > 0 && {PICTURES}[0].src", 20, "a snapshot")
            assert "/snapshot.jpg?cacheBust=" in first
            browser.wait_for(f"{PICTURES}[0].src !== {json.dumps(first)} && {PICTURES}[0].naturalWidth > 0", 10,
                             "the snapshot to refresh")
    finally:
        for response in streams:
            response.close()
