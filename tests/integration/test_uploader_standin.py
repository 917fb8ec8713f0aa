"""The Prusa Connect stand-in itself: it refuses what Connect refuses, so the uploader's tests mean something."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from standins.scripted_snapshots import make_jpeg

TOKEN = "standinToken01234567"
FINGERPRINT = "0123456789abcdef"
HEADERS = {"Token": TOKEN, "Fingerprint": FINGERPRINT, "Content-Type": "image/jpg"}
TESTS = Path(__file__).resolve().parents[1]


def put(connect, path="/c/snapshot", body=None, **headers):
    sent = dict(HEADERS, **headers)
    return requests.put(connect.url + path, data=make_jpeg() if body is None else body,
                        headers={k: v for k, v in sent.items() if v is not None}, timeout=10)


@pytest.mark.parametrize("change, status, code", [
    ({"Token": None}, 401, "UNAUTHORIZED"),
    ({"Token": "wrong"}, 401, "UNAUTHORIZED"),
    ({"Fingerprint": None}, 400, "BAD_REQUEST"),
    ({"Fingerprint": "short"}, 400, "BAD_REQUEST"),
    ({"Content-Type": "image/jpeg"}, 400, "BAD_REQUEST"),
    ({"body": make_jpeg()[:-10]}, 400, "INVALID_IMAGE"),
    ({"path": "/c/other"}, 404, "NOT_FOUND"),
])
def test_what_connect_refuses_is_refused(connect, change, status, code):
    change = dict(change)
    answer = put(connect, change.pop("path", "/c/snapshot"), change.pop("body", None), **change)
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    [record] = connect.recorded()
    assert record["status"] == status


def test_a_good_snapshot_binds_the_fingerprint_and_another_is_then_refused(connect):
    assert put(connect).status_code == 204
    assert connect.bound_fingerprint() == FINGERPRINT
    answer = put(connect, Fingerprint="another-fingerprint-0000")
    assert (answer.status_code, answer.json()["code"]) == (403, "FORBIDDEN_INVALID_FINGERPRINT")
    assert [r["body_valid"] for r in connect.recorded()] == [True, True]


def test_info_must_carry_name_and_resolution(connect):
    good = {"config": {"name": "Cam", "resolution": {"width": 640, "height": 480}}}
    bad = {"config": {"name": "Cam", "resolution": {"width": "640"}}}
    typed = {"Content-Type": "application/json"}
    assert put(connect, "/c/info", json.dumps(good).encode(), **typed).status_code == 204
    assert put(connect, "/c/info", json.dumps(bad).encode(), **typed).status_code == 400
    assert [r["body_valid"] for r in connect.recorded()] == [True, False]


def test_the_control_api_over_http(connect):
    assert requests.post(connect.url + "/_mode", json={"status": 503, "count": 1}, timeout=10).status_code == 204
    assert put(connect).status_code == 503
    assert put(connect).status_code == 204
    requests.post(connect.url + "/_mode", json={"status": 200}, timeout=10)
    assert put(connect).status_code == 200
    recorded = requests.get(connect.url + "/_recorded", timeout=10).json()
    assert [r["status"] for r in recorded] == [503, 204, 200]
    assert all("Token" not in r["headers"] and r["token"] == "valid" for r in recorded)
    requests.post(connect.url + "/_reset", json={"fingerprint": "bound-elsewhere-0000"}, timeout=10)
    assert requests.get(connect.url + "/_recorded", timeout=10).json() == []
    assert put(connect).status_code == 403


def test_close_answers_nothing(connect):
    connect.set_mode(close=True)
    with pytest.raises(requests.ConnectionError):
        put(connect)
    assert connect.wait_answered(1)[0]["closed"] is True


def test_runs_as_a_command():
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(TESTS)}
    proc = subprocess.Popen([sys.executable, "-m", "standins.prusa_connect", "--host", "127.0.0.1", "--token", TOKEN],
                            cwd=TESTS, env=env, stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline().rsplit(":", 1)[1])
        answer = requests.put(f"http://127.0.0.1:{port}/c/snapshot", data=make_jpeg(), headers=HEADERS, timeout=10)
        assert answer.status_code == 204
        assert requests.get(f"http://127.0.0.1:{port}/_recorded", timeout=10).json()[0]["body_valid"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
