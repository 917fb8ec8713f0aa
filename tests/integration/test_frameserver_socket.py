"""The frame server's unix socket (HTTP_SOCKET), nginx's way in: served beside TCP, and taken back
after a crash left the old socket file behind."""

import signal

from appliance.unixhttp import UnixHTTPConnection
from standins.scripted_feed import ScriptedFeed

from .test_frameserver_server import Server


def healthz_over(path):
    conn = UnixHTTPConnection(str(path), 20)
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
