"""The rendered nginx.conf, run by a real nginx in front of a stand-in upstream.

The stand-in answers the three paths and records what reaches it, so these tests see
exactly what the allowlist lets through. The Docker end-to-end tests repeat the essentials
against the real frame server.
"""

import http.server
import os
import shutil
import subprocess
import threading
import time

import pytest
import requests

import nginxconf
from service_process import connect_when_listening, free_port

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (tests/run installs it)")


class Upstream(http.server.ThreadingHTTPServer):
    """Serves from a thread inside a `with` block."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), UpstreamHandler)
        self.seen = []

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class UpstreamHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        if self.path.startswith("/stream.mjpg"):
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=f")
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b"--f\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx\r\n")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                return
        body = b"upstream " + self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET


@pytest.fixture
def upstream():
    with Upstream() as server:
        yield server


def start_nginx(tmp_path, upstream_port, environ, gate_socket=None):
    """Runs the rendered config with the frame server at a port on loopback and the gate at `gate_socket`."""
    port = free_port()
    config = nginxconf.load(environ)
    # The template's own paths are replaced before rendering, so that a checkout under /tmp (the
    # status page's directory is rendered in) is never rewritten.
    text = (nginxconf.TEMPLATE.read_text().replace("/tmp/", f"{tmp_path}/")
                .replace("listen 7126 ", f"listen 127.0.0.1:{port} ")
                .replace("127.0.0.1:7127", f"127.0.0.1:{free_port()}")
                .replace("unix:/run/http/frameserver.sock", f"127.0.0.1:{upstream_port}")
                .replace("unix:/run/gate/gate.sock", f"unix:{gate_socket or tmp_path / 'no-gate.sock'}"))
    text = nginxconf.render(config, text)
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    # In the image nginx and the gate are one user; started by root, nginx's workers would be
    # nobody, who may not open the gate's socket (mode 660): keep them the user that started the gate.
    # One -g only: nginx keeps just the last, and without `daemon off;` it forks away from proc, which
    # then exits at once, and terminate() at the end of a test would leave the daemon running.
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    proc = subprocess.Popen(["nginx", "-e", "stderr", "-c", str(conf), "-g", directives],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        connect_when_listening(port, within=10, timeout=1,
                               exited=lambda: None if proc.poll() is None else proc.stdout.read().decode()).close()
    except AssertionError:
        proc.kill()
        raise
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture
def gate(tmp_path, upstream):
    procs = []

    def start(**environ):
        proc, url = start_nginx(tmp_path, upstream.server_address[1], environ)
        procs.append(proc)
        return url

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(5)


def test_allowed_paths_reach_the_frame_server_with_their_query_strings(gate, upstream):
    url = gate()
    assert requests.get(url + "/snapshot.jpg?cacheBust=17", timeout=5).text == "upstream /snapshot.jpg?cacheBust=17"
    assert requests.get(url + "/healthz", timeout=5).status_code == 200
    assert requests.head(url + "/snapshot.jpg", timeout=5).status_code == 200
    assert [path for _, path, _ in upstream.seen] == ["/snapshot.jpg?cacheBust=17", "/healthz", "/snapshot.jpg"]


@pytest.mark.parametrize("path", ["/index.html", "/snapshot.jpg/", "/stream.mjpg.bak", "/healthz/x", "/%2e%2e/etc/passwd"])
def test_every_other_path_is_404_and_never_reaches_upstream(gate, upstream, path):
    url = gate()
    response = requests.get(url + path, timeout=5)
    # nginx itself refuses a path that climbs above the root with 400.
    assert response.status_code == (400 if ".." in path or "%2e" in path else 404)
    assert upstream.seen == []


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_every_other_method_is_405_with_an_allow_header(gate, upstream, method):
    url = gate()
    response = requests.request(method, url + "/snapshot.jpg", timeout=5)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert upstream.seen == []


def test_a_client_outside_the_allowlist_gets_403_for_anything(gate, upstream):
    url = gate(ALLOWED_CIDRS="192.0.2.0/24, 10.0.0.0/8")
    for method, path in (("GET", "/snapshot.jpg"), ("POST", "/snapshot.jpg"), ("GET", "/nope")):
        response = requests.request(method, url + path, timeout=5)
        assert response.status_code == 403
        assert "ALLOWED_CIDRS" in response.text
    assert upstream.seen == []


def test_the_client_cannot_choose_its_forwarded_address(gate, upstream):
    url = gate()
    requests.get(url + "/healthz", headers={"X-Forwarded-For": "10.9.9.9", "X-Real-IP": "10.9.9.9"}, timeout=5)
    headers = upstream.seen[0][2]
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Real-IP"] == "127.0.0.1"


def test_no_version_is_disclosed(gate):
    response = requests.get(gate() + "/nope", timeout=5)
    assert response.headers["Server"] == "nginx"


def test_one_address_cannot_take_every_stream_slot(gate):
    url = gate(STREAM_MAX_PER_CLIENT="2")
    streams = [requests.get(url + "/stream.mjpg", stream=True, timeout=5) for _ in range(2)]
    try:
        assert [s.status_code for s in streams] == [200, 200]
        third = requests.get(url + "/stream.mjpg", timeout=5)
        assert third.status_code == 503
        assert "STREAM_MAX_PER_CLIENT" in third.text
    finally:
        for s in streams:
            s.close()


def test_a_down_frame_server_is_a_502_with_a_hint(tmp_path):
    dead_port = free_port()
    proc, url = start_nginx(tmp_path, dead_port, {})
    try:
        response = requests.get(url + "/snapshot.jpg", timeout=5)
        assert response.status_code == 502
        assert "docker compose logs http" in response.text
    finally:
        proc.terminate()
        proc.wait(5)
