"""The frame server's unix socket (HTTP_SOCKET), nginx's way in: served beside TCP, and taken back
after a crash left the old socket file behind."""

import http.client
import signal
import socket

from standins.scripted_feed import ScriptedFeed

from .test_frameserver_server import Server


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=20)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def healthz_over(path):
    conn = UnixConnection(str(path))
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_it_serves_on_the_socket_too_and_takes_it_back_after_a_crash(tmp_path):
    path = tmp_path / "frameserver.sock"
    with ScriptedFeed() as feed:
        first = Server(feed.port, HTTP_SOCKET=path)
        try:
            assert first.wait_line("serving http on port").count(f" and {path};") == 1
            status, body = first.wait_answering(lambda: healthz_over(path))
            assert status in (200, 503) and b"feed_connected" in body
            first.proc.send_signal(signal.SIGKILL)  # the master too: nothing removes the socket file
            first.exit_status()
        finally:
            first.kill()
        assert path.is_socket()
        second = Server(feed.port, HTTP_SOCKET=path)
        try:
            assert b"feed_connected" in second.wait_answering(lambda: healthz_over(path))[1]
        finally:
            second.stop(signal.SIGINT)
