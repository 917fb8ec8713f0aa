"""A stand-in for the frame server's snapshots: a real HTTP server on 127.0.0.1 that answers as scripted.

Every path answers the same script unless `serve(..., path=P)` scripted P on its own (camera 2's
/webcam2/snapshot.jpg beside camera 1's /snapshot.jpg); with `live = True` each answer carries the
current time as its X-Timestamp, so every fetch is a new frame.
"""

import io
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image


def make_jpeg(width=64, height=48, shade=0):
    """A real JPEG of that size, its colour set by `shade`."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (shade % 256, 90, 160)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


class ScriptedSnapshots:
    """A real HTTP server answering every GET with the scripted status, body and X-Timestamp of its path."""

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
                owner.paths.append(self.path)
                owner.requested.set()
                if owner.stall:
                    owner._release.wait(owner.stall)
                status, body, timestamp = owner.scripts.get(self.path, (owner.status, owner.body, owner.timestamp))
                if owner.live:
                    timestamp = f"{time.time():.6f}"
                self.send_response(status)
                self.send_header("Content-Type", "image/jpeg" if status == 200 else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                if timestamp is not None:
                    self.send_header("X-Timestamp", timestamp)
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.handle_error = lambda request, address: None
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.url = self.base_url + "/snapshot.jpg"

    def reset(self):
        """Back to a fresh JPEG with a timestamp, no stall, no requests seen."""
        self._release.set()
        self._release = threading.Event()
        self.status = 200
        self.body = make_jpeg()
        self.timestamp = "1700000000.000001"
        self.stall = 0.0
        self.live = False
        self.scripts = {}  # path -> (status, body, timestamp), for the paths scripted on their own
        self.requests = 0
        self.paths = []  # of every request, in order
        self.requested = threading.Event()

    def serve(self, body=None, timestamp=None, status=200, path=None):
        """Answer `path` (every path not scripted on its own, when None) with this from now on."""
        body = make_jpeg() if body is None else body
        if path is None:
            self.status, self.body, self.timestamp = status, body, timestamp
        else:
            self.scripts[path] = (status, body, timestamp)

    def close(self):
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
