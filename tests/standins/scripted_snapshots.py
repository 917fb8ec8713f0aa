"""A stand-in for the frame server's /snapshot.jpg: a real HTTP server on 127.0.0.1 that answers as scripted."""

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image


def make_jpeg(width=64, height=48, shade=0):
    """A real JPEG of that size, its colour set by `shade`."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (shade % 256, 90, 160)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


class ScriptedSnapshots:
    """A real HTTP server answering every GET with the scripted status, body and X-Timestamp."""

    def __init__(self):
        self._release = threading.Event()
        self.reset()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                owner.requests += 1
                owner.requested.set()
                if owner.stall:
                    owner._release.wait(owner.stall)
                self.send_response(owner.status)
                self.send_header("Content-Type", "image/jpeg" if owner.status == 200 else "text/plain")
                self.send_header("Content-Length", str(len(owner.body)))
                if owner.timestamp is not None:
                    self.send_header("X-Timestamp", owner.timestamp)
                self.end_headers()
                self.wfile.write(owner.body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.handle_error = lambda request, address: None
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/snapshot.jpg"

    def reset(self):
        """Back to a fresh JPEG with a timestamp, no stall, no requests seen."""
        self._release.set()
        self._release = threading.Event()
        self.status = 200
        self.body = make_jpeg()
        self.timestamp = "1700000000.000001"
        self.stall = 0.0
        self.requests = 0
        self.requested = threading.Event()

    def serve(self, body=None, timestamp=None, status=200):
        self.status = status
        self.body = make_jpeg() if body is None else body
        self.timestamp = timestamp

    def close(self):
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
