"""GET /state of `python3 -m uploader` as the frame server reads it: each camera's uploads, the current
cause in the log line's words, the printer; no secret; and a server that raw, hostile or silent
clients cannot stop or crash."""

import json
import socket
import time

import pytest
import requests

from service_process import ServiceProcess, free_port, service_env
from standins.moonraker import MoonrakerStandin
from standins.prusa_connect import PrusaConnect

TOKEN = "abcdEFGH1234ijklMNOP"
WAIT = 30.0


def start(tmp_path, snapshots, connect_url, **more):
    port = free_port()
    settings = {"FRAME_SERVER_URL": snapshots.base_url, "PRUSA_CONNECT_URL": connect_url, "PRUSA_CONNECT_TOKEN": TOKEN,
                "STATE_DIR": tmp_path / "state", "HEALTH_FILE": tmp_path / "health", "STATE_PORT": port, **more}
    env = service_env(("common", "uploader"), {"PATH": "/usr/bin:/bin"}, **settings)
    service = ServiceProcess("uploader", env, WAIT)
    base = f"http://127.0.0.1:{port}"
    service.wait_answering(lambda: requests.get(base + "/state", timeout=5))
    return service, base


@pytest.fixture
def running():
    started = []
    yield lambda *args, **more: started.append(start(*args, **more)) or started[-1]
    for service, _ in started:
        service.kill()


def state(base):
    answer = requests.get(base + "/state", timeout=5)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    assert TOKEN not in answer.text and TOKEN[:8] not in answer.text
    return answer.json()


def test_each_camera_its_uploads_and_the_cause_in_the_log_lines_words(tmp_path, snapshots, connect, running):
    snapshots.live = True
    service, base = running(tmp_path, snapshots, connect.url, CAMERA2_SOURCE="synthetic")
    service.wait_line("first snapshot accepted")
    now = time.time()
    first, second = state(base)["cameras"]
    deadline = time.monotonic() + 5
    while first["next_try_at"] <= time.time() and time.monotonic() < deadline:
        first = state(base)["cameras"][0]  # read while the cycle still ran, it showed that cycle's own time
    fingerprint = (tmp_path / "state" / "fingerprint").read_text().strip()
    assert first["camera"] == 1 and first["enabled"] is True and first["token"] == "…MNOP"
    assert first["fingerprint"] == "…" + fingerprint[-4:] and fingerprint not in json.dumps(first)
    assert first["cause"] is None and now - 10 < first["last_accepted_at"] <= now + 0.01, first
    assert now < first["next_try_at"] <= now + 11 and first["why"] == "uploading every 10 s", first
    assert (second["camera"], second["enabled"], second["why"]) == (
        2, False, "uploads off: CAMERA2_PRUSA_CONNECT_TOKEN is empty")
    assert state(base)["printer"] == {"upload_when": "always", "source": None, "state": None, "detail": None,
                                      "cause": None, "since": None}
    connect.set_mode(status=503)
    line = service.wait_line("not uploading:", timeout=WAIT)
    cause = state(base)["cameras"][0]["cause"]
    assert cause.startswith("Prusa Connect is unavailable or overloaded (HTTP 503")
    assert line.startswith(f"uploader WARNING Printer camera: not uploading: {cause}; next try in ")


def test_the_printer_state_and_why_each_camera_uploads_or_not(tmp_path, snapshots, connect, running):
    with MoonrakerStandin() as moonraker:
        service, base = running(tmp_path, snapshots, connect.url, UPLOAD_WHEN="printing", GATE_ADDRESS=moonraker.url)
        service.wait_line("printer state: idle")
        document = state(base)
        assert document["printer"]["state"] == "idle" and document["printer"]["source"] == "moonraker"
        assert document["printer"]["detail"] == "Moonraker print_stats.state 'standby'"
        assert document["cameras"][0]["why"] == "idle: no uploads until a print starts"
        assert document["cameras"][0]["next_try_at"] is None
        moonraker.set_print_state("printing")
        service.wait_line("first snapshot accepted")
        assert state(base)["cameras"][0]["why"] == "printing: uploading every 10 s"
    service.wait_line("printer state unknown")
    printer = state(base)["printer"]
    assert printer["state"] == "unknown" and "refused the connection" in printer["cause"]


def test_without_a_token_the_state_still_answers(tmp_path, snapshots, connect, running):
    _, base = running(tmp_path, snapshots, connect.url, PRUSA_CONNECT_TOKEN="")
    [camera] = state(base)["cameras"]
    assert camera["enabled"] is False and camera["why"] == "uploads off: PRUSA_CONNECT_TOKEN is empty"


def raw(port, data, timeout=5.0):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def test_raw_hostile_and_silent_clients_get_one_line_and_never_stop_the_server(tmp_path, snapshots, connect,
                                                                              running):
    service, base = running(tmp_path, snapshots, connect.url)
    port = int(base.rsplit(":", 1)[1])
    assert raw(port, b"POST /state HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").startswith(b"HTTP/1.0 405 ")
    assert raw(port, b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.0 404 ")
    assert raw(port, b"\x16\x03\x01\x02\x00garbage\r\n\r\n").startswith(b"HTTP/1.0 400 ")
    assert raw(port, b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.0 414 ")
    silent = socket.create_connection(("127.0.0.1", port))  # says nothing: let go after its timeout
    begun = time.monotonic()
    try:
        assert state(base)["cameras"][0]["enabled"] is True
    finally:
        silent.close()
    assert time.monotonic() - begun < 4
    assert service.exited() is None and "Traceback" not in service.log()
