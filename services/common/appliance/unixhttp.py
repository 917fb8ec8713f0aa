"""http.client over a unix socket: how the frame server and the uploader ask the gate, whose only
listening address is a unix socket (and how the tests reach the frame server's)."""

import http.client
import socket


class UnixHTTPConnection(http.client.HTTPConnection):
    """An HTTPConnection to the unix socket at `path`; its requests say Host: localhost.

    `socket.socket` is looked up at each connect, so in a process gevent has patched (the frame
    server's worker) the connection is gevent's and waits without blocking the others.
    """

    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock
