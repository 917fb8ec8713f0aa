"""appliance.unixhttp: an http.client connection to a unix socket, as the frame server and the
uploader ask the gate."""

import socket
import threading

import pytest

from appliance.unixhttp import UnixHTTPConnection

BODY = b'{"ok": true}'


def test_a_request_over_a_unix_socket(tmp_path):
    path = str(tmp_path / "gate.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    received = []

    def answer():
        conn, _ = server.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            received.append(data)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n" + BODY)

    thread = threading.Thread(target=answer)
    thread.start()
    conn = UnixHTTPConnection(path, timeout=5)
    try:
        conn.request("GET", "/gate/status")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, BODY)
    finally:
        conn.close()
        thread.join(5)
        server.close()
    assert received[0].startswith(b"GET /gate/status HTTP/1.1\r\n")
    assert b"\r\nHost: localhost\r\n" in received[0]


def test_no_socket_there_is_file_not_found(tmp_path):
    conn = UnixHTTPConnection(str(tmp_path / "absent.sock"), timeout=1)
    with pytest.raises(FileNotFoundError):
        conn.request("GET", "/")
    assert conn.sock is None
