"""GET /status.json from the real frame server (gunicorn + gevent), composed from a scripted feed and
stand-ins serving the uploader's /state over TCP and the gate's /gate/status over a unix socket."""

import http.client
import json
import os
import signal
import threading
import time

import pytest

from service_process import ServiceProcess, free_port, service_env
from standins.json_state import JsonState
from standins.scripted_feed import ScriptedFeed, frames_at

TOKEN = "statusJsonToken0123456789"
UPLOADER_STATE = {"cameras": [{"camera": 1, "name": "Bed", "enabled": True, "token": TOKEN[-4:],
                               "fingerprint": "WXYZ", "last_accepted_at": time.time() - 12, "cause": None,
                               "next_try_at": time.time() + 8}]}
GATE_STATUS = {"moonraker_url": "http://127.0.0.1:7125", "moonraker_reachable": True, "sessions_open": 1,
               "denied_calls": {"printer.gcode.script": 2}, "open_beside_the_door": None}


class FrameServer(ServiceProcess):
    def __init__(self, feed_port, uploader_port, gate_socket):
        self.port = free_port()
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("FEED_", "HTTP_", "UPLOADER_", "GATE_"))}
        super().__init__("frameserver", service_env(
            ("http", "common"), environ, FEED_HOST="127.0.0.1", FEED_PORT=feed_port, HTTP_PORT=self.port,
            UPLOADER_URL=f"http://127.0.0.1:{uploader_port}", GATE_SOCKET=gate_socket))
        self.wait_answering(lambda: self.get("/healthz"))

    def get(self, path, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def status(self, headers=None):
        status, response_headers, body = self.get("/status.json", headers)
        assert status == 200 and response_headers["Content-Type"] == "application/json"
        assert response_headers["Cache-Control"] == "no-store"
        return json.loads(body)


@pytest.fixture
def feed():
    with ScriptedFeed() as scripted:
        scripted.serve(lambda: frames_at(20))
        yield scripted


@pytest.fixture
def gate_socket(tmp_path):
    return str(tmp_path / "gate.sock")


@pytest.fixture
def start(feed, gate_socket):
    servers = []

    def start(uploader_port):
        server = FrameServer(feed.port, uploader_port, gate_socket)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop(signal.SIGINT)
        assert "Traceback" not in server.log(), server.log()


def test_the_document_joins_the_cameras_the_uploader_and_the_gate(start, gate_socket):
    with JsonState("/state", UPLOADER_STATE) as uploader, JsonState("/gate/status", GATE_STATUS, gate_socket):
        server = start(uploader.port)
        server.wait_answering(lambda: server.get("/snapshot.jpg")[0] == 200 or _raise())
        doc = server.status({"X-Door-Allowed-Networks": "127.0.0.0/8 192.168.0.0/16"})
        time.sleep(1.2)
        doc = server.status()
    assert doc["unknown"] == {"allowed_networks": "known only through the door on port 7126 (nginx sends it)",
                              "printer": "the uploader does not report the printer's state"}
    (camera,) = doc["cameras"]
    assert camera["status"] == "ok" and camera["name"] == "Printer camera" and (camera["width"], camera["height"]) == (64, 48)
    assert camera["stream"] == "/stream.mjpg" and camera["snapshot"] == "/snapshot.jpg"
    assert 10 <= camera["fps"] <= 25, camera["fps"]
    assert camera["connect"]["status"] == "ok" and camera["connect"]["token"] == TOKEN[-4:]
    assert doc["door"]["gate"]["denied_calls"] == {"printer.gcode.script": 2}
    assert doc["version"] == open(os.path.join(os.path.dirname(__file__), "..", "..", "VERSION")).read().strip()


def test_the_allowlist_is_what_the_door_sent(start):
    with JsonState("/state", UPLOADER_STATE) as uploader:
        doc = start(uploader.port).status({"X-Door-Allowed-Networks": "127.0.0.0/8 192.168.0.0/16"})
    assert doc["door"]["allowed_networks"] == ["127.0.0.0/8", "192.168.0.0/16"]
    assert "allowed_networks" not in doc["unknown"]


def test_parts_that_cannot_be_reached_are_null_with_a_reason(start, gate_socket):
    server = start(free_port())
    doc = server.status()
    assert doc["cameras"][0]["connect"] is None and doc["door"]["gate"] is None
    assert doc["unknown"]["uploader"].startswith("the uploader unreachable at 127.0.0.1:")
    assert doc["unknown"]["uploader"].endswith(": connection refused")
    assert doc["unknown"]["gate"] == f"the gate unreachable at {gate_socket}: no socket there (is it running?)"
    with JsonState("/state", {}) as uploader:
        uploader.status = 500
        doc = start(uploader.port).status()
    assert doc["unknown"]["uploader"] == f"the uploader at 127.0.0.1:{uploader.port} answered HTTP 500"


def test_a_hung_source_costs_a_second_is_fetched_once_and_never_stalls_the_camera(start):
    with JsonState("/state", UPLOADER_STATE) as uploader:
        server = start(uploader.port)
        uploader.stall = 30.0
        results, snapshots = [], []

        def status():
            started = time.monotonic()
            results.append((server.status(), time.monotonic() - started))

        threads = [threading.Thread(target=status) for _ in range(5)]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        for _ in range(5):  # while the fetch hangs, the camera answers as ever
            started = time.monotonic()
            snapshots.append((server.get("/healthz")[0], time.monotonic() - started))
        for thread in threads:
            thread.join()
        assert uploader.requests == 1
    assert all(doc["unknown"]["uploader"] == f"the uploader at 127.0.0.1:{uploader.port} did not answer within 1 s"
               for doc, _ in results)
    assert max(seconds for _, seconds in results) < 3.0
    assert all(seconds < 0.5 for _, seconds in snapshots), snapshots


def test_answers_within_a_second_come_from_the_cache(start):
    with JsonState("/state", UPLOADER_STATE) as uploader:
        server = start(uploader.port)
        for _ in range(3):
            server.status()
        assert uploader.requests == 1
        time.sleep(1.1)
        server.status()
        assert uploader.requests == 2


def _raise():
    raise OSError("no frame yet")
