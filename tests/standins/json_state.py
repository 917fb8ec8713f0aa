"""A stand-in for a service that serves its state as JSON (the uploader's GET /state, the gate's GET /gate/status).

A real HTTP server on a loopback TCP port or a unix socket, standard library only. It answers
`document` at `path`, counts the requests, and can be told to stall or to answer a status.

    with JsonState("/state", {"cameras": []}) as state:                 state.port
    with JsonState("/gate/status", {...}, unix_path=tmp / "gate.sock"):  ...
    state.document = {...}; state.stall = 5.0; state.status = 500; state.requests
"""

import json
import os
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonState:
    def __init__(self, path, document, unix_path=None):
        self.path = path
        self.document = document
        self.stall = 0.0
        self.status = 200
        self.requests = 0
        self._lock = threading.Lock()
        self._released = threading.Event()
        if unix_path is None:
            self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        else:
            self._server = _UnixServer(str(unix_path), _Handler)
        self._server.state = self
        self._server.daemon_threads = True
        self.unix_path = unix_path

    @property
    def port(self):
        return self._server.server_address[1]

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        if self.unix_path is not None and os.path.exists(self.unix_path):
            os.unlink(self.unix_path)

    def _counted(self):
        with self._lock:
            self.requests += 1


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        state = self.server.state
        state._counted()
        if state.stall:
            state._released.wait(state.stall)
        if self.path != state.path:
            status, body = 404, b'{"error": "not here"}'
        else:
            status, body = state.status, json.dumps(state.document).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up waiting: expected when the test stalls us
