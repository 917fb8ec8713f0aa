"""GET /state on the camera network (TCP 8083): the uploader's state as JSON, for the frame server's
/status.json and the status page. One thread, one request at a time, each bounded by a short
timeout; whatever happens in it, the upload loops never notice.

The document (times are epoch seconds on the Pi's clock; the README's "Prusa Connect" section
describes it too):

    {"cameras": [{"camera": 1, "name": "Printer camera", "enabled": true, "token": "…abcd",
                  "fingerprint": "…wxyz", "interval": 10, "last_accepted_at": 1764576000.5,
                  "cause": null, "next_try_at": 1764576010.5, "why": "uploading every 10 s"}, ...],
     "printer": {"upload_when": "printing", "source": "moonraker", "state": "printing",
                 "detail": "Moonraker print_stats.state 'printing'", "cause": null, "since": 1764575000.0}}
"""

import json
import logging
import socket
import sys
import threading
import time
from socketserver import StreamRequestHandler, TCPServer
from typing import Callable, Mapping, Optional, Tuple

from appliance.cameras import Camera
from appliance.statelog import StateLog
from appliance.throttle import Throttle

from .redact import hint

REQUEST_TIMEOUT = 2.0  # seconds one client may take to send its request and read the answer
RETRY = 5.0  # seconds between tries to listen
MAX_LINE = 8192  # bytes of the request line and of each header line
MAX_HEADERS = 100
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 414: "URI Too Long",
           500: "Internal Server Error"}


def camera_state(camera: Camera, fingerprint: Optional[str], status: Optional[Mapping], to_wall) -> dict:
    """One camera's part: `status` is its loop's Uploader.status(), None when it has no token."""
    if status is None:
        return {"camera": camera.number, "name": camera.name, "enabled": False, "token": None, "fingerprint": None,
                "interval": camera.upload.interval, "last_accepted_at": None, "cause": None, "next_try_at": None,
                "why": f"uploads off: {camera.variable('token')} is empty"}
    return {"camera": camera.number, "name": camera.name, "enabled": True, "token": hint(camera.upload.token),
            "fingerprint": hint(fingerprint or ""), "interval": camera.upload.interval,
            "last_accepted_at": to_wall(status["last_accepted"]), "cause": status["cause"],
            "next_try_at": to_wall(status["next_try"]), "why": status["why"]}


def printer_state(upload_when: str, source: Optional[str], follower, to_wall) -> dict:
    """The printer as the uploader follows it; `follower` is the PrinterFollower, None with UPLOAD_WHEN=always
    or when no camera uploads."""
    reading = follower.reading if follower is not None else None
    if follower is None:
        state = None
    else:
        state = "waiting" if reading is None else reading.printer.value
    unknown = reading is not None and reading.printer.value == "unknown"
    return {"upload_when": upload_when, "source": source, "state": state,
            "detail": None if reading is None or unknown else reading.text,
            "cause": reading.text if unknown else None,
            "since": to_wall(follower.since) if follower is not None else None}


def wall_clock(clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time):
    """A function turning a time on `clock` (None too) into epoch seconds, as of now."""
    offset = wall() - clock()
    return lambda moment: None if moment is None else round(moment + offset, 3)


class StateServer:
    """Listens only on the uploader's address on the network it shares with the frame server (the
    internal camera network in the appliance), found as the local end of a route `towards` it."""

    def __init__(self, port: int, state: Callable[[], dict], log: logging.Logger, towards: Tuple[str, int]):
        self._port = port
        self._state = state
        self._log = log
        self._towards = towards
        self._errors = Throttle(60.0)
        self._server: Optional[TCPServer] = None

    def start(self) -> None:
        threading.Thread(target=self._run, name="state-server", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _run(self) -> None:
        cause = StateLog()
        while self._server is None:
            try:
                self._server = _Server((_address_towards(*self._towards), self._port), _Handler)
            except Exception as error:  # no route or name yet, the port taken: retried, never fatal
                if cause.changed((type(error).__name__, str(error))):
                    self._log.warning("GET /state is not served yet: cannot listen on TCP %d towards %s (%s); "
                                      "retrying every %g s; uploads are unaffected", self._port, self._towards[0],
                                      getattr(error, "strerror", None) or error, RETRY)
                time.sleep(RETRY)
        if cause.state is not None:
            self._log.info("GET /state is served on TCP %d", self._port)
        self._server.owner = self
        self._server.serve_forever()

    def document(self) -> bytes:
        return json.dumps(self._state(), ensure_ascii=False).encode()

    def failed(self, error: BaseException) -> None:
        """A request hit something unexpected: one line per kind at most once a minute."""
        if self._errors.admit(type(error).__name__) is not None:
            self._log.warning("GET /state failed (%s: %s); the uploads are unaffected", type(error).__name__, error)


def _address_towards(host: str, port: int) -> str:
    """This machine's address on the route to host:port (a UDP "connection" sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((host, port))
        return probe.getsockname()[0]


class _Server(TCPServer):
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        self.owner.failed(sys.exc_info()[1])


class _Handler(StreamRequestHandler):
    """HTTP/1.0, one request per connection, read within REQUEST_TIMEOUT. Written on socketserver
    rather than http.server, whose imports (email, html, mimetypes) would double an idle uploader's memory."""

    timeout = REQUEST_TIMEOUT

    def handle(self) -> None:
        try:
            line = self.rfile.readline(MAX_LINE + 1)
            for _ in range(MAX_HEADERS):  # the headers are read and ignored
                header = self.rfile.readline(MAX_LINE + 1)
                if header in (b"\r\n", b"\n", b"") or len(header) > MAX_LINE:
                    break
        except OSError:  # the client was silent too long, or went away
            return
        self._answer(line)

    def _answer(self, line: bytes) -> None:
        if len(line) > MAX_LINE:
            return self._send(414, b"request line too long\n")
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return self._send(400, b"bad request: expected GET /state HTTP/1.1\n")
        method, target, _ = parts
        if target.split("?", 1)[0] != "/state":
            return self._send(404, b"not found: the uploader serves only GET /state\n")
        if method != "GET":
            return self._send(405, b"method not allowed: the uploader serves only GET /state\n")
        try:
            body = self.server.owner.document()
        except Exception as error:
            self.server.owner.failed(error)
            return self._send(500, b"the state could not be composed\n")
        self._send(200, body, "application/json")

    def _send(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> None:
        head = (f"HTTP/1.0 {status} {REASONS[status]}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n"
                + ("Allow: GET\r\n" if status == 405 else "") + "Connection: close\r\n\r\n")
        try:
            self.wfile.write(head.encode("ascii") + body)
        except OSError:
            pass
