"""A stand-in for Prusa Connect's camera API: a real HTTP server, Python standard library only.

It checks what Connect checks (PUT on /c/snapshot or /c/info, Token, a Fingerprint of at least 16
characters that stays the one first used with that token, Content-Type image/jpg or
application/json, a whole JPEG or the info JSON), records every request, and can be told how to
answer the next ones: a status, a stall, or a closed connection. It accepts one token per camera,
each bound to its own fingerprint, as Connect does for the "other cameras" of one printer.

In-process:      with PrusaConnect("token") as connect: ... connect.url, connect.set_mode(...), connect.recorded()
                 PrusaConnect(["token 1", "token 2"]): two cameras
Out of process:  python3 -m standins.prusa_connect --port 8080 --token T [--token T2 ...]   (from tests/),
                 empty tokens ignored; then over HTTP:
  GET /_recorded   the requests so far, a JSON list of {time, method, path, headers (without Token),
                   token: valid|wrong|missing, token_number (1 for the first --token, ...; null when
                   not valid), size, body_valid, sha256, json, answered, status, closed}
  POST /_mode      JSON {"status": 503, "stall": 20, "close": true, "count": 2, "path": "/c/info",
                   "token_number": 2, "code": "...", "message": "..."}: how to answer the next matching
                   requests (all keys optional; a 2xx status only sets the success status; count: that
                   many requests, then back to normal; token_number: only that camera's; {} restores
                   normal answers)
  POST /_reset     forget requests, mode and fingerprint bindings; JSON {"fingerprint": F} binds F to the
                   first token at once
"""

import argparse
import hashlib
import json
import re
import signal
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standins.loopback import ServedInBackground

ENDPOINTS = {"/c/snapshot": "image/jpg", "/c/info": "application/json"}
FINGERPRINT = re.compile(r"[A-Za-z0-9._-]{16,}")
MAX_BODY = 32 * 1024 * 1024
ERROR_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
               413: "PAYLOAD_TOO_LARGE", 429: "TOO_MANY_REQUESTS", 500: "INTERNAL_SERVER_ERROR",
               503: "SERVICE_UNAVAILABLE"}


class Mode:
    def __init__(self, status=None, stall=0.0, close=False, count=None, path=None, code=None, message=None,
                 token_number=None):
        self.status = None if status is None else int(status)
        self.stall = float(stall)
        self.close = bool(close)
        self.count = None if count is None else int(count)
        self.path = path
        self.code = code
        self.message = message
        self.token_number = None if token_number is None else int(token_number)

    def applies_to(self, path, token_number):
        return ((self.path is None or self.path == path) and (self.count is None or self.count > 0)
                and (self.token_number is None or self.token_number == token_number))


class PrusaConnect(ServedInBackground):
    thread_name = "prusa-connect"

    def __init__(self, token, *, host="127.0.0.1", port=0, fingerprint=None):
        self.tokens = [token] if isinstance(token, str) else [t for t in token if t]
        self._lock = threading.Condition()
        self._records = []
        self._mode = Mode()
        self._bound = self._bindings(fingerprint)
        self._release = threading.Event()
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.connect = self
        self._server.handle_error = lambda request, address: None  # clients that hang up are normal here

    def serve(self):
        """Serve in this thread until SIGTERM (see main) or Ctrl-C."""
        try:
            self._server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self._release.set()
            self._server.server_close()

    def stop(self):
        self._release.set()
        super().stop()

    def recorded(self, path=None):
        """Copies of the recorded requests, oldest first; only those to `path` when given."""
        with self._lock:
            return [dict(r) for r in self._matching(path)]

    def wait_for(self, count, path=None, timeout=10.0):
        """The recorded requests (to `path`) once `count` have arrived, or after `timeout` s."""
        with self._lock:
            self._lock.wait_for(lambda: len(self._matching(path)) >= count, timeout)
            return [dict(r) for r in self._matching(path)]

    def wait_answered(self, count, path=None, timeout=10.0):
        """Like wait_for, but until that many have also been answered (or closed)."""
        with self._lock:
            self._lock.wait_for(
                lambda: len([r for r in self._matching(path) if r["answered"]]) >= count, timeout)
            return [dict(r) for r in self._matching(path)]

    def set_mode(self, **mode):
        with self._lock:
            self._mode = Mode(**mode)

    def reset(self, fingerprint=None):
        """Forget requests, mode and bindings; bind `fingerprint` to the first token at once when given."""
        with self._lock:
            self._release.set()
            self._release = threading.Event()
            self._records.clear()
            self._mode = Mode()
            self._bound = self._bindings(fingerprint)

    def bound_fingerprint(self, number=1):
        """The fingerprint the `number`-th token is bound to, None before its first good request."""
        with self._lock:
            return self._bound.get(self.tokens[number - 1])

    def _bindings(self, fingerprint):
        return {} if fingerprint is None else {self.tokens[0]: fingerprint}

    def _matching(self, path):
        return [r for r in self._records if path is None or r["path"] == path]

    # The request handler's side.

    def _record(self, handler, body):
        headers = {k: v for k, v in handler.headers.items() if k.lower() != "token"}
        token = handler.headers.get("Token")
        record = {
            "time": time.time(), "method": handler.command, "path": handler.path, "headers": headers,
            "token": "missing" if token is None else "valid" if token in self.tokens else "wrong",
            "token_number": self.tokens.index(token) + 1 if token in self.tokens else None,
            "size": len(body), "body_valid": _body_valid(handler.path, body),
            "sha256": hashlib.sha256(body).hexdigest(), "json": _json_or_none(body),
            "answered": False, "status": None, "closed": False,
        }
        with self._lock:
            self._records.append(record)
            self._lock.notify_all()
            mode = self._mode
            applied = mode.applies_to(handler.path, record["token_number"])
            if applied and mode.count is not None:
                mode.count -= 1
            return record, (mode if applied else Mode()), self._release

    def _answered(self, record, status):
        """`status` was sent, or None: the connection was closed without an answer."""
        with self._lock:
            record.update(answered=True, status=status, closed=status is None)
            self._lock.notify_all()

    def _check(self, handler, body, mode):
        """(status, error code, message) for a Connect request answered normally."""
        token = handler.headers.get("Token")
        if not token or token not in self.tokens:
            return 401, "UNAUTHORIZED", "Missing or invalid token"
        fingerprint = handler.headers.get("Fingerprint") or ""
        if not FINGERPRINT.fullmatch(fingerprint):
            return 400, "BAD_REQUEST", "Fingerprint must be at least 16 characters of A-Z a-z 0-9 . _ -"
        with self._lock:
            bound = self._bound.setdefault(token, fingerprint)
        if fingerprint != bound:
            return 403, "FORBIDDEN_INVALID_FINGERPRINT", "Token is bound to another fingerprint"
        if handler.headers.get("Content-Type") != ENDPOINTS[handler.path]:
            return 400, "BAD_REQUEST", f"Content-Type must be {ENDPOINTS[handler.path]}"
        if not _body_valid(handler.path, body):
            if handler.path == "/c/snapshot":
                return 400, "INVALID_IMAGE", "Not a complete JPEG"
            return 400, "BAD_REQUEST", "Invalid camera info"
        success = mode.status if mode.status is not None and 200 <= mode.status < 300 else 204
        return success, None, None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "prusa-connect-standin"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        connect = self.server.connect
        if self.path == "/_recorded":
            self._send(200, json.dumps(connect.recorded()).encode(), "application/json")
        else:
            self._error(404 if self.path not in ENDPOINTS else 405, None, "Not here")

    def do_POST(self):
        connect = self.server.connect
        body = self._body()
        if body is None:
            return
        try:
            options = json.loads(body or b"{}")
            if self.path == "/_mode":
                connect.set_mode(**options)
            elif self.path == "/_reset":
                connect.reset(options.get("fingerprint"))
            else:
                self._error(404 if self.path not in ENDPOINTS else 405, None, "Not here")
                return
        except (ValueError, TypeError, AttributeError) as error:
            self._error(400, None, f"bad control request: {error}")
            return
        self._send(204, b"", None)

    def do_PUT(self):
        connect = self.server.connect
        body = self._body()
        if body is None:
            return
        record, mode, release = connect._record(self, body)
        if self.path not in ENDPOINTS:
            connect._answered(record, 404)
            self._error(404, None, "Not found")
            return
        if mode.stall:
            release.wait(mode.stall)
        if mode.close:
            self.close_connection = True
            connect._answered(record, None)
            return
        if mode.status is not None and mode.status >= 300:
            status, code, message = mode.status, mode.code, mode.message
        else:
            status, code, message = connect._check(self, body, mode)
        connect._answered(record, status)
        if status < 300:
            self._send(status, b"" if status == 204 else b"{}", None if status == 204 else "application/json")
        else:
            self._error(status, code, message)

    def _body(self):
        """The request body, or None after answering a request without a usable length."""
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._error(411, None, "Content-Length required")
            self.close_connection = True
            return None
        if int(length) > MAX_BODY:
            self._error(413, None, "Too large")
            self.close_connection = True
            return None
        return self.rfile.read(int(length))

    def _error(self, status, code, message):
        body = {"code": code or ERROR_CODES.get(status, HTTPStatus(status).phrase.upper().replace(" ", "_")),
                "message": message or HTTPStatus(status).phrase}
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status, body, content_type):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if status != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 204:
            self.wfile.write(body)


def _body_valid(path, body):
    """A whole JPEG (SOI..EOI) for a snapshot, the info JSON for /c/info."""
    if path == "/c/snapshot":
        return len(body) >= 4 and body.startswith(b"\xff\xd8") and body.endswith(b"\xff\xd9")
    return path == "/c/info" and _valid_info(_json_or_none(body))


def _json_or_none(body):
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _valid_info(info):
    try:
        config = info["config"]
        resolution = config["resolution"]
        return (isinstance(config["name"], str) and config["name"] != ""
                and all(isinstance(resolution[k], int) and resolution[k] > 0 for k in ("width", "height")))
    except (KeyError, TypeError):
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m standins.prusa_connect", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all, for a container)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--token", required=True, action="append",
                        help="a camera token to accept (once per camera; empty ones are ignored)")
    parser.add_argument("--fingerprint", help="bind this fingerprint to the first token from the start")
    args = parser.parse_args(argv)
    connect = PrusaConnect(args.token, host=args.host, port=args.port, fingerprint=args.fingerprint)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    print(f"prusa-connect stand-in listening on {args.host}:{connect.port}", flush=True)
    connect.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
