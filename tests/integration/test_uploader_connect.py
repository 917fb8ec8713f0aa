"""The Prusa Connect client against the stand-in: every answer and network failure, classified."""

import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from service_process import free_port
from standins.scripted_snapshots import make_jpeg
from uploader.transfer import Cancelled
from uploader.connect import ConnectClient, Outcome, classify

TOKEN = "abcdEFGH1234ijklMNOP"
FINGERPRINT = "0123456789abcdef-fingerprint"


def client_for(url, token=TOKEN, fingerprint=FINGERPRINT, total=5.0):
    return ConnectClient(url, token, fingerprint, connect_timeout=min(total, 2.0), total_timeout=total)


@pytest.fixture
def client(connect):
    made = client_for(connect.url)
    yield made
    made.close()


@pytest.mark.parametrize("status", [200, 204])
def test_a_snapshot_is_accepted_with_the_headers_connect_checks(connect, client, status):
    connect.set_mode(status=status)
    jpeg = make_jpeg(320, 240)
    result = client.put_snapshot(jpeg)
    assert result.ok and result.status == status and result.cause == f"HTTP {status}"
    [request] = connect.recorded()
    assert (request["method"], request["path"], request["token"]) == ("PUT", "/c/snapshot", "valid")
    assert request["headers"]["Fingerprint"] == FINGERPRINT
    assert request["headers"]["Content-Type"] == "image/jpg"
    assert request["size"] == len(jpeg) and request["body_valid"]
    assert all(TOKEN not in value for value in request["headers"].values())


def test_camera_info_carries_name_and_resolution(connect, client):
    result = client.put_info("Printer camera", 1280, 720)
    assert result.ok
    [request] = connect.recorded("/c/info")
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["json"] == {"config": {"name": "Printer camera", "resolution": {"width": 1280, "height": 720}}}


@pytest.mark.parametrize("status, outcome", [
    (400, Outcome.BAD_REQUEST), (401, Outcome.AUTH), (403, Outcome.AUTH), (413, Outcome.TOO_LARGE),
    (429, Outcome.RETRY_LATER), (500, Outcome.RETRY_LATER), (503, Outcome.RETRY_LATER),
])
def test_each_error_status_is_classified_with_connects_code(connect, client, status, outcome):
    connect.set_mode(status=status, code=f"CODE_{status}", message="something\nwent wrong")
    result = client.put_snapshot(make_jpeg())
    assert (result.outcome, result.status, result.code) == (outcome, status, f"CODE_{status}")
    assert result.cause == f"HTTP {status} CODE_{status}: something went wrong"


def test_an_unknown_path_is_not_found(connect):
    client = client_for(connect.url + "/wrong")
    try:
        result = client.put_snapshot(make_jpeg())
    finally:
        client.close()
    assert (result.outcome, result.status) == (Outcome.NOT_FOUND, 404)


def test_a_token_bound_to_another_fingerprint_is_refused_with_the_code(connect, client):
    connect.reset(fingerprint="another-camera-fingerprint")
    result = client.put_snapshot(make_jpeg())
    assert (result.outcome, result.status, result.code) == (Outcome.AUTH, 403, "FORBIDDEN_INVALID_FINGERPRINT")


def test_a_wrong_token_is_refused(connect):
    client = client_for(connect.url, token="wrongtoken0123456789")
    try:
        result = client.put_snapshot(make_jpeg())
    finally:
        client.close()
    assert (result.outcome, result.status) == (Outcome.AUTH, 401)
    assert connect.recorded()[0]["token"] == "wrong"


def test_the_token_never_appears_in_a_result_even_when_connect_echoes_it(connect, client):
    connect.set_mode(status=401, code=f"BAD_{TOKEN}", message=f"token {TOKEN} is unknown")
    result = client.put_snapshot(make_jpeg())
    assert TOKEN not in result.cause and TOKEN not in result.code and "[secret]" in result.cause


def test_a_token_cut_short_in_a_long_message_does_not_leak_either(connect, client):
    connect.set_mode(status=500, message="x" * 190 + TOKEN)
    result = client.put_snapshot(make_jpeg())
    assert TOKEN[:5] not in result.cause and result.cause.endswith("x[secret]")


class _Redirect(BaseHTTPRequestHandler):
    def do_PUT(self):
        self.send_response(301)
        self.send_header("Location", "https://connect.example/c/snapshot")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_redirect_means_a_wrong_address_and_names_the_target():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = client_for(f"http://127.0.0.1:{server.server_address[1]}")
    try:
        result = client.put_snapshot(make_jpeg())
    finally:
        client.close()
        server.shutdown()
        server.server_close()
    assert (result.outcome, result.cause) == (Outcome.NOT_FOUND,
                                              "HTTP 301: redirected to https://connect.example/c/snapshot")


def test_a_stall_past_the_deadline_is_retry_later(connect):
    connect.set_mode(stall=30)
    client = client_for(connect.url, total=0.5)
    try:
        started = time.monotonic()
        result = client.put_snapshot(make_jpeg())
        elapsed = time.monotonic() - started
    finally:
        client.close()
    assert result.outcome is Outcome.RETRY_LATER and "within 0.5 s" in result.cause
    assert elapsed < 30  # the stall was not waited out
    assert connect.wait_for(1)[0]["path"] == "/c/snapshot"


def test_a_closed_connection_is_retry_later(connect, client):
    connect.set_mode(close=True)
    result = client.put_snapshot(make_jpeg())
    assert result.outcome is Outcome.RETRY_LATER and "closed" in result.cause


def test_a_refused_connection_is_retry_later():
    port = free_port()
    client = client_for(f"http://127.0.0.1:{port}")
    try:
        result = client.put_snapshot(make_jpeg())
    finally:
        client.close()
    assert result.outcome is Outcome.RETRY_LATER and result.cause == f"connection refused by 127.0.0.1:{port}"


def test_a_dns_failure_is_retry_later():
    client = client_for("http://connect.invalid")
    try:
        result = client.put_snapshot(make_jpeg())
    finally:
        client.close()
    assert result.outcome is Outcome.RETRY_LATER
    assert result.cause in ("DNS lookup failed for connect.invalid",
                            "no complete answer from connect.invalid within 5 s")  # a resolver that never answers


def test_a_tls_error_is_retry_later(connect):
    client = client_for(connect.url.replace("http://", "https://"))
    try:
        result = client.put_snapshot(make_jpeg())
    finally:
        client.close()
    assert result.outcome is Outcome.RETRY_LATER and result.cause.startswith("TLS error with 127.0.0.1")


class _Trickle(socketserver.BaseRequestHandler):
    """Answers one byte every 0.1 s: each read is quick, the whole answer never is."""

    def handle(self):
        self.request.recv(65536)
        for byte in b"HTTP/1.1 204 No Content\r\nX-Padding: " + b"x" * 1000:
            if self.server.done.wait(0.1):
                return
            try:
                self.request.sendall(bytes([byte]))
            except OSError:
                return


def test_the_deadline_covers_the_whole_request_not_each_read():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    server.done = threading.Event()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = client_for(f"http://127.0.0.1:{server.server_address[1]}", total=1.0)
    try:
        result = client.put_snapshot(make_jpeg())
    finally:
        client.close()
        server.done.set()
        server.shutdown()
        server.server_close()
    assert result.outcome is Outcome.RETRY_LATER and "within 1 s" in result.cause


def test_close_ends_an_upload_in_progress_at_once(connect, client):
    connect.set_mode(stall=30)
    outcome = []

    def upload():
        try:
            outcome.append(client.put_snapshot(make_jpeg()))
        except Cancelled:
            outcome.append("cancelled")

    thread = threading.Thread(target=upload)
    thread.start()
    connect.wait_for(1)
    client.close()
    thread.join(10)
    assert outcome == ["cancelled"]


@pytest.mark.parametrize("status, outcome", [
    (200, Outcome.OK), (204, Outcome.OK), (301, Outcome.NOT_FOUND), (308, Outcome.NOT_FOUND),
    (400, Outcome.BAD_REQUEST), (401, Outcome.AUTH), (403, Outcome.AUTH), (404, Outcome.NOT_FOUND),
    (405, Outcome.BAD_REQUEST), (408, Outcome.RETRY_LATER), (413, Outcome.TOO_LARGE),
    (429, Outcome.RETRY_LATER), (500, Outcome.RETRY_LATER), (502, Outcome.RETRY_LATER),
])
def test_classify(status, outcome):
    assert classify(status) is outcome
