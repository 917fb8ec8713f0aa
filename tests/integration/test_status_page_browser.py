"""The status page in a real headless Chromium, on loopback: the rendered nginx.conf, the real frame
server and stand-ins for the uploader's /state and the gate's /gate/status, switched from state to
state, so every way the page can look is checked without Docker."""

import re
import shutil
import signal
import time

import pytest

from headless_chromium import Chromium, chromium_binary
from integration.test_nginx_gate import start_nginx
from integration.test_status_json import FrameServer
from standins.json_state import JsonState
from standins.scripted_feed import ScriptedFeed, frames_at

pytestmark = [
    pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (tests/run installs it)"),
    pytest.mark.skipif(chromium_binary() is None, reason="chromium is not installed (tests/prepare-host installs it)"),
]

CAUSE = ("Prusa Connect refused the token (HTTP 401 UNAUTHORIZED: Missing or invalid token): set PRUSA_CONNECT_TOKEN "
         "to the token Prusa Connect shows for this camera (printer > Camera > Add new other camera)")
BESIDE = ("Moonraker also answers on 192.168.1.5:7125: the door is not the only door; set host: 127.0.0.1 in "
          "moonraker.conf's [server], then restart Moonraker")
GATE = {"moonraker_url": "http://127.0.0.1:7125", "moonraker_reachable": True, "moonraker": "answers HTTP 200",
        "sessions_open": 1, "sessions_max": 10, "denied_calls": {"printer.gcode.script": 2},
        "open_beside_the_door": None}


def uploading(**changes):
    camera = {"camera": 1, "enabled": True, "token": "…Ab3d", "fingerprint": "…9xQz", "interval": 10,
              "last_accepted_at": time.time() - 12, "cause": None, "next_try_at": time.time() + 30,
              "why": "uploading every 10 s"}
    return {"cameras": [dict(camera, **changes)]}


@pytest.fixture(scope="module")
def appliance(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("status-page")
    with ScriptedFeed() as feed, JsonState("/state", uploading()) as uploader, \
            JsonState("/gate/status", GATE, unix_path=tmp / "gate.sock") as gate:
        feed.serve(lambda: frames_at(10))
        server = FrameServer(feed.port, uploader.port, str(tmp / "gate.sock"))
        nginx, url = start_nginx(tmp, server.port, {})
        try:
            with Chromium(1000, 800) as browser:
                browser.open(url + "/")
                browser.wait_for("document.querySelector('img[data-camera]')?.naturalWidth > 0", 20, "the picture")
                yield browser, uploader, gate
        finally:
            nginx.terminate()
            nginx.wait(5)
            server.stop(signal.SIGINT)


def text(browser, selector):
    return browser.evaluate(f"document.querySelector({selector!r})?.textContent ?? null")


def shows(browser, selector, pattern, what):
    """The text of `selector` once it matches the regular expression `pattern` (within a few refreshes)."""
    return browser.wait_for(f"(t => t !== null && new RegExp({pattern!r}).test(t) && t)"
                            f"(document.querySelector({selector!r})?.textContent ?? null)", 10, what)


def test_an_uploading_camera_says_when_it_was_accepted_and_its_hints(appliance):
    browser, uploader, _ = appliance
    uploader.document = uploading()
    shows(browser, "[data-camera='1'] [data-field=upload]", r"^accepted 1\d s ago$", "the last upload")
    assert text(browser, "[data-camera='1'] [data-field=token]") == "…Ab3d"
    assert text(browser, "[data-camera='1'] [data-field=fingerprint]") == "…9xQz"
    assert re.fullmatch(r"in (2\d|30) s", text(browser, "[data-camera='1'] [data-field=next]"))
    assert text(browser, "[data-camera='1'] h3 .pill") == "uploading"
    assert text(browser, "[data-camera='1'] [data-field=why]") == "uploading every 10 s"
    assert browser.evaluate("document.querySelector(\"[data-camera='1'] [data-field=cause]\")") is None
    assert browser.evaluate("document.querySelector(\"article[data-camera='1']\").className") == "card ok"


def test_a_camera_that_does_not_upload_shows_the_log_lines_words_and_its_fix(appliance):
    browser, uploader, _ = appliance
    uploader.document = uploading(cause=CAUSE, next_try_at=time.time() + 299)
    line = shows(browser, "[data-camera='1'] [data-field=cause]", "^not uploading: ", "the cause")
    assert re.fullmatch(re.escape(f"not uploading: {CAUSE}; next try in 4 min ") + r"5\d s", line), line
    assert text(browser, "[data-camera='1'] h3 .pill") == "not uploading"
    assert browser.evaluate("document.querySelector(\"article[data-camera='1']\").className") == "card failing"
    assert text(browser, "#overall") == "problem"
    uploader.document = uploading()
    browser.wait_for("document.querySelector(\"[data-camera='1'] [data-field=cause]\") === null", 10, "it to clear")


def test_uploads_that_are_off_say_how_to_turn_them_on(appliance):
    browser, uploader, _ = appliance
    uploader.document = {"cameras": [{"camera": 1, "enabled": False, "why": "uploads off: PRUSA_CONNECT_TOKEN is empty"}]}
    shows(browser, "[data-camera='1'] .why", "^uploads off: PRUSA_CONNECT_TOKEN is empty$", "uploads off")
    assert text(browser, "[data-camera='1'] h3 .pill") == "off"


def test_the_door_warns_when_moonraker_is_open_beside_it(appliance):
    browser, _, gate = appliance
    gate.document = dict(GATE, open_beside_the_door=BESIDE)
    try:
        assert shows(browser, "#door [data-field=door-warning]", "^Moonraker also answers", "the warning") == BESIDE
        assert text(browser, "#door h2 .pill") == "open beside"
        assert browser.evaluate("document.getElementById('door').className") == "card failing"
    finally:
        gate.document = GATE
    shows(browser, "#door h2 .pill", "^ok$", "the door to be fine again")
    assert text(browser, "#door [data-field=moonraker]") == "answers HTTP 200 · http://127.0.0.1:7125"
    assert text(browser, "#door [data-field=sessions]") == "1 open of 10"
    assert text(browser, "#door [data-field=denied]") == "printer.gcode.script × 2"
    assert text(browser, "#door [data-field=allowed]").startswith("127.0.0.0/8")


def test_the_printer_shows_when_the_uploader_reports_it(appliance):
    browser, uploader, _ = appliance
    printer = {"upload_when": "printing", "source": "moonraker", "state": "printing",
               "detail": "Moonraker print_stats.state 'printing'", "cause": None, "since": time.time() - 125}
    uploader.document = dict(uploading(), printer=printer)
    shows(browser, "#printer [data-field=printer-state]", r"^printing · since 2 min \d s ago$", "the printer's state")
    assert text(browser, "#printer [data-field=upload-when]") == "while printing"
    assert text(browser, "#printer [data-field=printer-source]") == "Moonraker print_stats.state 'printing'"
    uploader.document = dict(uploading(), printer=dict(printer, state="unknown", detail=None,
                                                       cause="Moonraker unreachable: connection refused"))
    shows(browser, "#printer [data-field=printer-cause]", "^printer state unknown: Moonraker unreachable",
          "why the state is unknown")
    assert browser.evaluate("document.getElementById('printer').className") == "card warning"
    uploader.document = uploading()
    browser.wait_for("document.getElementById('printer') === null", 10, "the printer card to go")


def test_a_source_that_fails_is_unknown_with_its_reason_and_comes_back(appliance):
    browser, uploader, _ = appliance
    uploader.status = 500
    try:
        line = shows(browser, "[data-camera='1'] .why", "^unknown: ", "the uploads to be unknown")
        assert line == f"unknown: the uploader at 127.0.0.1:{uploader.port} answered HTTP 500"
        assert text(browser, "[data-camera='1'] h3 .pill") == "unknown"
    finally:
        uploader.status = 200
    shows(browser, "[data-camera='1'] h3 .pill", "^uploading$", "the uploads to come back")
    assert browser.console == []
