"""UPLOAD_WHEN=printing in Docker: two cameras, each with its own token and fingerprint, upload to the
Prusa Connect stand-in only while the printer prints, plus one last picture when the print ends;
first with Moonraker's state read through the gate's unix socket, then with PrusaLink's (digest)."""

import json
import os
import time

import pytest
import requests

from .stack import MOONRAKER_URL, Stack, docker_usable, get, wait_for

TOKEN = "e2eToken0123456789ab"
TOKEN2 = "e2eCamera2Token9876zy"
PASSWORD = "e2e-prusalink-password"
PROFILE = ("--profile", "prusalink")

reason = docker_usable()
if reason is not None and os.environ.get("CI") == "true":
    raise RuntimeError(f"end-to-end tests must run in CI, but Docker is not usable: {reason}")
pytestmark = pytest.mark.skipif(reason is not None, reason=f"end-to-end tests need Docker: {reason}")

ENV = {
    "FEED_SOURCE": "synthetic", "CAMERA_WIDTH": "320", "CAMERA_HEIGHT": "240", "CAMERA_FPS": "5",
    "CAMERA2_SOURCE": "synthetic", "CAMERA2_NAME": "E2E nozzle", "CAMERA2_WIDTH": "160", "CAMERA2_HEIGHT": "120",
    "CAMERA2_FPS": "5",
    "PRUSA_CONNECT_URL": "http://prusa-connect:8080", "PRUSA_CONNECT_TOKEN": TOKEN,
    "CAMERA2_PRUSA_CONNECT_TOKEN": TOKEN2,
    "UPLOAD_WHEN": "printing", "E2E_PRUSALINK_PASSWORD": PASSWORD, "BIND_ADDRESS": "127.0.0.1",
}
WITH_PRUSALINK = {**ENV, "PRINTER_STATE_SOURCE": "prusalink", "PRUSALINK_URL": "http://prusalink:8080",
                  "PRUSALINK_PASSWORD": PASSWORD}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(ENV, tmp_path_factory.mktemp("e2e-printing"))
    s.run(*PROFILE, "down", "-v", "--remove-orphans", check=False)
    s.require_free_port()
    s.run("build")
    s.run(*PROFILE, "up", "-d")
    yield s
    s.run(*PROFILE, "down", "-v", "--remove-orphans", check=False)


def exec_json(stack, service, code):
    result = stack.exec_python(service, code)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def connect_snapshots(stack):
    records = exec_json(stack, "prusa-connect", "import urllib.request; print(urllib.request.urlopen("
                                                "'http://127.0.0.1:8080/_recorded', timeout=3).read().decode())")
    return [r for r in records if r["path"] == "/c/snapshot"]


def post(stack, service, url, document):
    exec_json(stack, service, f"import json, urllib.request; urllib.request.urlopen(urllib.request.Request("
                              f"{url!r}, data=json.dumps({document!r}).encode(), method='POST'), timeout=3)")


def prusalink_state(stack, state):
    post(stack, "prusalink", "http://127.0.0.1:8080/_state", {"state": state})


def moonraker_state(state):
    requests.post(MOONRAKER_URL + "/_print_state", json={"state": state}, timeout=5).raise_for_status()


def cameras_uploaded(stack, after):
    """{token number: uploads answered 204 since `after`} of the Connect stand-in."""
    uploads = [r for r in connect_snapshots(stack) if r["time"] >= after and r["status"] == 204]
    return {number: [r for r in uploads if r["token_number"] == number] for number in (1, 2)}


def check_uploads_follow_the_print(stack, set_state, printing, finished, log_line):
    wait_for(lambda: log_line in stack.logs("uploader"), 60, f"the uploader to log {log_line!r}")
    idle_since = time.time()
    time.sleep(4)
    assert cameras_uploaded(stack, idle_since) == {1: [], 2: []}  # idle, no idle interval: nothing
    set_state(printing)
    started = time.time()
    both = wait_for(lambda: (lambda up: up if up[1] and up[2] else None)(cameras_uploaded(stack, started)), 30,
                    "both cameras to upload once printing")
    # Followed within 5 s, then uploaded at once: as soon as Connect's 10 s floor after the camera's
    # previous upload (one made while the state was still unknown, say) allows.
    for number in (1, 2):
        earlier = [r["time"] for r in connect_snapshots(stack) if r["token_number"] == number and r["time"] < started]
        allowed = max([started] + [t + 10 for t in earlier[-1:]])
        assert min(r["time"] for r in both[number]) - allowed < 8, (number, started, earlier[-1:], both[number])
    wait_for(lambda: all(len(u) >= 2 for u in cameras_uploaded(stack, started).values()), 40,
             "a second upload of each camera while printing")
    set_state(finished)
    ended = time.time()
    wait_for(lambda: all(u for u in cameras_uploaded(stack, ended).values()), 30, "each camera's last picture")
    time.sleep(14)  # longer than the interval plus the floor: anything more would have arrived
    after = cameras_uploaded(stack, ended)
    assert [len(after[1]), len(after[2])] == [1, 1], after
    return cameras_uploaded(stack, started)


def test_with_moonraker_through_the_gate_each_camera_uploads_only_while_printing_plus_the_last_picture(stack):
    moonraker_state("standby")
    uploads = check_uploads_follow_the_print(stack, moonraker_state, "printing", "complete",
                                             "printer state: idle (Moonraker print_stats.state 'standby')")
    fingerprints = {number: {r["headers"]["Fingerprint"] for r in records} for number, records in uploads.items()}
    assert len(fingerprints[1]) == len(fingerprints[2]) == 1 and fingerprints[1] != fingerprints[2]
    log = stack.logs("uploader")
    assert "UPLOAD_WHEN=printing UPLOAD_IDLE_INTERVAL=0 PRINTER_STATE_SOURCE=moonraker (through the gate at " \
           "unix:/run/gate/gate.sock)" in log
    assert "E2E nozzle: uploading: first snapshot accepted" in log and TOKEN2 not in log and TOKEN not in log


def test_the_uploaders_state_reaches_status_json_through_7126(stack):
    status = wait_for(lambda: (lambda doc: doc if doc["printer"] else None)(get("/status.json").json()), 30,
                      "the uploader's state in /status.json")
    printer = status["printer"]
    assert (printer["state"], printer["upload_when"], printer["source"], printer["cause"]) == (
        "idle", "printing", "moonraker", None)
    assert printer["detail"].startswith("Moonraker print_stats.state ") and printer["since"] > 0
    connects = [camera["connect"] for camera in status["cameras"]]
    assert [(c["enabled"], c["token"]) for c in connects] == [(True, TOKEN[-4:]), (True, TOKEN2[-4:])]
    assert all(c["last_accepted_at"] and c["cause"] is None for c in connects)


def test_with_prusalink_each_camera_uploads_only_while_printing_and_keeps_its_fingerprint(stack):
    before = {r["token_number"]: r["headers"]["Fingerprint"] for r in connect_snapshots(stack)}
    prusalink_state(stack, "IDLE")
    Stack(WITH_PRUSALINK, stack.workdir).run(*PROFILE, "up", "-d", "uploader")
    uploads = check_uploads_follow_the_print(stack, lambda state: prusalink_state(stack, state), "PRINTING",
                                             "FINISHED", "printer state: idle (PrusaLink printer.state 'IDLE')")
    assert {number: {r["headers"]["Fingerprint"] for r in records} for number, records in uploads.items()} == {
        1: {before[1]}, 2: {before[2]}}  # the uploader was recreated; the state volume kept both
    log = stack.logs("uploader")
    assert "PRUSALINK_USER=maker PRUSALINK_PASSWORD=…word" in log and PASSWORD not in log
