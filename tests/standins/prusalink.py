"""A stand-in for a Prusa printer's PrusaLink: GET /api/v1/status behind HTTP digest auth (user and
password, as current firmware) or an X-Api-Key (older firmware), its printer.state switchable.

In process:      with PrusaLink(password="pw") as link: ... link.url, link.set_state("PRINTING"),
                 link.set_mode(status=503 | nonsense=True), link.recorded()
                 PrusaLink(api_key="key"): X-Api-Key instead of digest
Out of process:  python3 -m standins.prusalink --port 80 (--password P [--user U] | --api-key K)
                 (from tests/); POST /_state {"state": "PRINTING"} and POST /_mode {"status": 503} or
                 {"nonsense": true} or {} drive it, GET /_recorded lists the requests, neither needs
                 credentials.

The record: one {"path", "authorized": bool, "auth": "digest" | "api-key" | "none", "status"} per
request to the API.
"""

import argparse
import hashlib
import json
import re
import secrets
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standins.loopback import ServedInBackground

REALM = "Printer API"
STATUS_PATH = "/api/v1/status"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _digest_fields(header: str) -> dict:
    return {key: value.strip('"') for key, value in re.findall(r'(\w+)=("[^"]*"|[^,\s]*)', header)}


class PrusaLink(ServedInBackground):
    thread_name = "prusalink"

    def __init__(self, *, user="maker", password=None, api_key=None, host="127.0.0.1", port=0):
        assert (password is None) != (api_key is None), "one of password (digest) or api_key"
        self.user = user
        self.password = password
        self.api_key = api_key
        self.state = "IDLE"
        self._lock = threading.Lock()
        self._records = []
        self._mode = {}
        self._nonces = set()
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.link = self
        self._server.handle_error = lambda request, address: None

    def set_state(self, state):
        with self._lock:
            self.state = state

    def set_mode(self, **mode):
        """status=N: answer every API request with N; nonsense=True: 200 with a body that is no status."""
        with self._lock:
            self._mode = dict(mode)

    def recorded(self):
        with self._lock:
            return [dict(r) for r in self._records]

    # The request handler's side.

    def new_nonce(self):
        nonce = secrets.token_hex(16)
        with self._lock:
            self._nonces.add(nonce)
        return nonce

    def authorize(self, handler):
        """("digest" | "api-key" | "none", whether the request may pass)."""
        if self.api_key is not None:
            key = handler.headers.get("X-Api-Key")
            return ("api-key" if key is not None else "none"), key == self.api_key
        header = handler.headers.get("Authorization", "")
        if not header.startswith("Digest "):
            return "none", False
        fields = _digest_fields(header[len("Digest "):])
        with self._lock:
            known = fields.get("nonce") in self._nonces
        ha1 = _md5(f"{fields.get('username')}:{REALM}:{self.password}")
        ha2 = _md5(f"{handler.command}:{fields.get('uri')}")
        if fields.get("qop") == "auth":
            expected = _md5(f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:{fields.get('cnonce')}:auth:{ha2}")
        else:
            expected = _md5(f"{ha1}:{fields.get('nonce')}:{ha2}")
        return "digest", (known and fields.get("username") == self.user and fields.get("response") == expected
                          and fields.get("uri") == handler.path)

    def record(self, path, auth, authorized, status):
        with self._lock:
            self._records.append({"path": path, "auth": auth, "authorized": authorized, "status": status})

    def answer(self):
        """(status, body) for an authorized status request."""
        with self._lock:
            mode, state = dict(self._mode), self.state
        if mode.get("status"):
            return int(mode["status"]), b'{"title": "Error"}'
        if mode.get("nonsense"):
            return 200, b"<html>not the API</html>"
        return 200, json.dumps({"printer": {"state": state, "temp_nozzle": 24.1, "temp_bed": 23.8}}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "prusalink-standin"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        link = self.server.link
        if self.path == "/_recorded":
            return self._send(200, json.dumps(link.recorded()).encode())
        if self.path != STATUS_PATH:
            return self._send(404, b'{"title": "Not Found"}')
        auth, authorized = link.authorize(self)
        if not authorized:
            link.record(self.path, auth, False, 401)
            challenge = None
            if link.password is not None:
                challenge = f'Digest realm="{REALM}", qop="auth", nonce="{link.new_nonce()}", algorithm=MD5'
            return self._send(401, b'{"title": "Unauthorized"}', challenge)
        status, body = link.answer()
        link.record(self.path, auth, True, status)
        self._send(status, body)

    def do_POST(self):
        link = self.server.link
        length = int(self.headers.get("Content-Length") or 0)
        try:
            options = json.loads(self.rfile.read(length) or b"{}")
            if self.path == "/_state":
                link.set_state(options["state"])
            elif self.path == "/_mode":
                link.set_mode(**options)
            else:
                return self._send(404, b'{"title": "Not Found"}')
        except (ValueError, KeyError, TypeError) as error:
            return self._send(400, json.dumps({"title": str(error)}).encode())
        self._send(204, b"")

    def _send(self, status, body, challenge=None):
        self.send_response(status)
        if challenge:
            self.send_header("WWW-Authenticate", challenge)
        if status != 204:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 204:
            self.wfile.write(body)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m standins.prusalink", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--user", default="maker")
    credentials = parser.add_mutually_exclusive_group(required=True)
    credentials.add_argument("--password", help="HTTP digest with --user and this password")
    credentials.add_argument("--api-key", help="X-Api-Key instead of digest")
    args = parser.parse_args(argv)
    link = PrusaLink(user=args.user, password=args.password, api_key=args.api_key, host=args.host, port=args.port)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    print(f"prusalink stand-in listening on {args.host}:{link.port}", flush=True)
    try:
        link._server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
