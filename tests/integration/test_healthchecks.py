"""Docker's healthchecks, which start no Python: check-deadline on a deadline file (the gate, the
uploader) and check-http on a local port (the frame server, nginx), run as compose.yaml runs them,
against real files and servers; and the gate's health probe, which keeps its deadline."""

import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from appliance import deadlinefile
from gate_client import GateProcess, eventually
from health_files import read_deadline, run_check
from moonraker_gate.healthprobe import HealthProbe, probe
from standins.moonraker import MoonrakerStandin


def test_check_deadline_is_healthy_until_the_deadline_then_names_what_is_overdue(tmp_path):
    path = tmp_path / "health"
    deadlinefile.write(str(path), time.monotonic() + 30, "the upload loop of  A\nmust have ended")
    status, output = run_check("check-deadline", path)
    assert status == 0 and output.startswith("healthy: the upload loop of A must have ended, due within 3")
    deadlinefile.write(str(path), time.monotonic() - 30, "the upload loop of A must have ended its cycle")
    assert run_check("check-deadline", path) == (
        1, "unhealthy: the upload loop of A must have ended its cycle, 29 s overdue\n")
    deadlinefile.write(str(path), None, "every loop waits for the printer to change state")
    assert run_check("check-deadline", path) == (0, "healthy: every loop waits for the printer to change state\n")


def test_check_deadline_without_a_readable_file_is_unhealthy(tmp_path):
    assert run_check("check-deadline", tmp_path / "absent") == (
        1, f"unhealthy: no health file {tmp_path / 'absent'}: the service has not started\n")
    for text in ("", "soon the loop\n", "-5 the loop\n", "12x the loop\n"):
        (tmp_path / "damaged").write_text(text)
        assert run_check("check-deadline", tmp_path / "damaged") == (
            1, f"unhealthy: unreadable health file {tmp_path / 'damaged'}\n"), text


class _Answers(BaseHTTPRequestHandler):
    statuses = {"/healthz": 200, "/stale": 503}

    def do_GET(self):
        if self.path == "/silent":
            time.sleep(6)
            return
        self.send_response(self.statuses.get(self.path, 404))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def http_port():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_check_http_is_healthy_on_200_only(http_port):
    assert run_check("check-http", http_port, "/healthz") == (0, "healthy: GET /healthz answered 200\n")
    assert run_check("check-http", http_port, "/stale") == (1, "unhealthy: GET /stale answered 503 Service Unavailable\n")


def test_check_http_without_a_server_or_an_answer_is_unhealthy(http_port):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert run_check("check-http", port, "/healthz") == (1, f"unhealthy: nothing listens on 127.0.0.1:{port}\n")
    started = time.monotonic()
    assert run_check("check-http", http_port, "/silent") == (
        1, f"unhealthy: no answer to GET /silent on port {http_port} within 4 s\n")
    assert time.monotonic() - started < 5.5  # within compose.yaml's 5 s timeout, give or take the start


def test_the_running_gate_keeps_its_deadline_and_check_deadline_finds_it_healthy():
    with MoonrakerStandin() as moonraker:
        gate = GateProcess(moonraker.url).started()
        try:
            eventually(lambda: run_check("check-deadline", gate.health_file)[0], 0)
            deadline, what = read_deadline(gate.health_file)
            assert what == f"the gate answering on {gate.path}"
            assert 60 < deadline - time.monotonic() <= 66  # two probes of 30 s and the probe's timeout
            assert moonraker.recorded()["connections"] == 0  # the probe is answered by the gate alone
        finally:
            gate.stop()


def _unix_server(path, answer):
    """A unix socket at `path` that answers each connection with `answer` and closes it."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(4)

    def serve():
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            with client:
                client.recv(1024)
                client.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    return server


def test_the_probe_says_why_a_socket_does_not_do_and_logs_each_change_once(tmp_path, caplog):
    assert probe(str(tmp_path / "none.sock")) == f"its socket {tmp_path / 'none.sock'} does not answer: No such file or directory"
    with _unix_server(tmp_path / "busy.sock", b"HTTP/1.1 503 Service Unavailable\r\n\r\n"):
        assert probe(str(tmp_path / "busy.sock")) == f"its socket {tmp_path / 'busy.sock'} answered 503"
    with _unix_server(tmp_path / "fine.sock", b"HTTP/1.1 200 OK\r\n\r\n"):
        health = tmp_path / "health"
        checker = HealthProbe(str(tmp_path / "fine.sock"), str(health), logging.getLogger("probe-test"))
        with caplog.at_level(logging.INFO, logger="probe-test"):
            checker.check()
            assert read_deadline(health)[1] == f"the gate answering on {tmp_path / 'fine.sock'}"
            health.unlink()
            checker.socket_path = str(tmp_path / "gone.sock")
            checker.check()
            checker.check()
            assert not health.exists()
            checker.socket_path = str(tmp_path / "fine.sock")
            checker.check()
    assert [r.levelname for r in caplog.records] == ["ERROR", "INFO"]
    assert "Docker will report the gate unhealthy" in caplog.records[0].getMessage()
