"""The gate's WSGI app on its unix socket: /websocket sessions and allowlisted GETs relayed to
Moonraker once their origin, their target and the caps allow them; GET /gate/status for the status
page. Every refusal is one line naming what to change."""

import http.client
import json
import logging
import re
import time
from collections import Counter
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Tuple

import gevent
from gevent import pywsgi
from gevent.socket import create_connection

from appliance.statelog import RepeatedFailures
from appliance.textresponse import json_document, method_not_allowed, text, unavailable
from appliance.throttle import Throttle

from . import origins, targets
from .allowlist import ALLOWED_METHODS
from .config import Config
from .httprelay import relay
from .selfcheck import SelfCheck

LOG_INTERVAL = 60.0  # seconds between two lines about the same denied method, failure or error
STATUS_PATH = "/gate/status"
ALIVE_PATH = "/gate/alive"  # answered by the gate alone, for its health probe: Moonraker sees nothing of it
PROBE_TIMEOUT = 2.0  # seconds /gate/status waits for Moonraker's port to accept
MAX_DENIED_NAMES = 64  # methods counted by name in the status; a hostile client invents names without end
# The client's headers that reach Moonraker, besides Host: its Origin (checked first), the address nginx
# gave it, its own credentials, and what a GET of a thumbnail needs to be cached.
PASSED_HEADERS = ("Origin", "X-Real-IP", "X-Forwarded-For", "X-Api-Key", "Authorization", "User-Agent",
                  "Accept", "If-None-Match", "If-Modified-Since")


class Gate:
    def __init__(self, config: Config, log: logging.Logger, selfcheck: SelfCheck):
        self.config = config
        self.log = log
        self.selfcheck = selfcheck
        self.sessions: Dict[gevent.Greenlet, str] = {}  # the greenlet serving each session -> its client
        self.denied: Counter = Counter()
        self._denials = Throttle(LOG_INTERVAL)
        self._errors = Throttle(LOG_INTERVAL)
        self._moonraker = RepeatedFailures(LOG_INTERVAL)

    def __call__(self, environ: Mapping, start_response: Callable) -> Iterable[bytes]:
        try:
            return self._route(environ, start_response)
        except Exception as error:
            self.failed(f"{environ.get('REQUEST_METHOD')} {environ['gate.target'][:80]}", error)
            return text(environ, start_response, "500 Internal Server Error", "the gate failed: see its log")

    def _route(self, environ: Mapping, start_response: Callable) -> Iterable[bytes]:
        raw = environ["gate.target"]
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            return method_not_allowed(environ, start_response)
        if raw == STATUS_PATH:
            return json_document(environ, start_response, "200 OK", self.status())
        if raw == ALIVE_PATH:
            return text(environ, start_response, "200 OK", "the gate answers")
        origin = environ.get("HTTP_ORIGIN")
        if not origins.accepted(origin, environ.get("HTTP_X_FORWARDED_PROTO", "http"), environ.get("HTTP_HOST"),
                                self.config.allowed_origins):
            return text(environ, start_response, "403 Forbidden", origins.REFUSED.format(origin=_shown(origin)))
        if targets.is_websocket(raw):
            return self._websocket(environ, start_response)
        target = targets.check(raw)
        if target.status != 200:
            return text(environ, start_response, f"{target.status} {http.client.responses[target.status]}",
                        target.line)
        headers = [("Host", environ.get("HTTP_HOST") or self.config.moonraker.netloc)] + upstream_headers(environ)
        return relay(environ, start_response, self.config.moonraker, target.upstream, headers,
                     self.config.connect_timeout, self._moonraker_failed)

    def _websocket(self, environ: Mapping, start_response: Callable) -> Iterable[bytes]:
        from . import websocketio  # imported at the first websocket: an idle gate does without wsproto
        from .session import Session

        if not websocketio.valid_handshake(environ):
            return text(environ, start_response, "400 Bad Request", "websocket handshake failed")
        client = client_of(environ)
        refusal = self._over_cap(client)
        if refusal is not None:
            self.log.info("refused a websocket from %s: %s", _shown(client), refusal)
            return unavailable(environ, start_response, refusal, retry_after=5)
        me = gevent.getcurrent()
        self.sessions[me] = client
        why = "the gate is stopping"
        try:
            query = environ.get("QUERY_STRING", "")
            url = self.config.upstream_websocket + (f"?{query}" if query else "")
            try:
                upstream = websocketio.connect(url, environ.get("HTTP_HOST") or self.config.moonraker.netloc,
                                               upstream_headers(environ), self.config.connect_timeout)
            except (OSError, websocketio.HandshakeFailed) as error:
                why = "no websocket to Moonraker"
                reason = self._moonraker_failed(_describe(error))
                return text(environ, start_response, "502 Bad Gateway", f"no websocket to Moonraker: {reason}")
            self._moonraker_reached()
            websocket = websocketio.accept(environ, environ["gate.rfile"], environ["gate.socket"],
                                           self.config.max_message)
            environ["gate.taken"] = True  # the connection is the websocket's now: nothing more is written
            started = time.monotonic()
            self.log.info("session of %s opened (%d open)", _shown(client), len(self.sessions))
            try:
                why = Session(websocket, upstream, self.config.max_message,
                              lambda method: self._denied(method, client), self.failed).run()
            finally:
                self.log.info("session of %s ended after %.0f s: %s", _shown(client), time.monotonic() - started, why)
            return []
        finally:
            del self.sessions[me]

    def _over_cap(self, client: str) -> Optional[str]:
        if len(self.sessions) >= self.config.max_sessions:
            return (f"too many Moonraker websockets: {len(self.sessions)} are open, the most GATE_MAX_SESSIONS "
                    "allows; close one or raise GATE_MAX_SESSIONS")
        if sum(1 for other in self.sessions.values() if other == client) >= self.config.max_sessions_per_client:
            return (f"too many Moonraker websockets from {client}: GATE_MAX_SESSIONS_PER_CLIENT="
                    f"{self.config.max_sessions_per_client} are open; close one or raise GATE_MAX_SESSIONS_PER_CLIENT")
        return None

    def status(self) -> dict:
        """What the status page shows of the gate: Moonraker reachable, sessions, denials, the self-check."""
        reachable, detail = self._probe_moonraker()
        return {
            "moonraker_url": f"{self.config.moonraker.scheme}://{self.config.moonraker.netloc}",
            "moonraker_reachable": reachable,
            "moonraker": detail,
            "sessions_open": len(self.sessions),
            "sessions_max": self.config.max_sessions,
            "sessions_max_per_client": self.config.max_sessions_per_client,
            "methods_allowed": len(ALLOWED_METHODS),
            "denied_calls": dict(self.denied),
            "open_beside_the_door": self.selfcheck.warning(),
            "self_check": self.selfcheck.status(),
        }

    def _probe_moonraker(self) -> Tuple[bool, str]:
        """Whether Moonraker's port accepts a connection: no request, so that the status page and the
        health check, asking every few seconds, leave nothing in Moonraker's log."""
        moonraker = self.config.moonraker
        try:
            create_connection((moonraker.host, moonraker.port), timeout=PROBE_TIMEOUT).close()
        except OSError as error:
            return False, f"unreachable: {_describe(error)}"
        return True, "accepts connections"

    def end_sessions(self) -> None:
        """Ends every session, as when the gate stops: clients get 1001, Moonraker a close frame."""
        gevent.killall(list(self.sessions), timeout=10)

    def failed(self, where: str, error: BaseException) -> None:
        """An unexpected error: its traceback once a minute per kind, the request or session ended, the gate lives."""
        held = self._errors.admit((where.split(" ")[0], type(error).__name__))
        if held is not None:
            self.log.error("unexpected error in %s%s", where, _held_back(held), exc_info=error)

    def _denied(self, method: str, client: str) -> None:
        self.denied[method if method in self.denied or len(self.denied) < MAX_DENIED_NAMES else "(others)"] += 1
        held = self._denials.admit(method)
        if held is not None:
            self.log.info("denied %s from %s%s", _shown(method), _shown(client), _held_back(held))

    def _moonraker_failed(self, reason: str) -> str:
        count = self._moonraker.failed(reason)
        if count is not None:
            self.log.warning("Moonraker at %s://%s: %s", self.config.moonraker.scheme, self.config.moonraker.netloc,
                             reason)
        return reason

    def _moonraker_reached(self) -> None:
        if self._moonraker.succeeded():
            self.log.info("Moonraker at %s://%s answers again", self.config.moonraker.scheme,
                          self.config.moonraker.netloc)


def upstream_headers(environ: Mapping) -> List[Tuple[str, str]]:
    """PASSED_HEADERS as the client (or nginx, for the address) sent them; nothing else."""
    headers = []
    for name in PASSED_HEADERS:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
        if value:
            headers.append((name, value))
    return headers


def client_of(environ: Mapping) -> str:
    """The client's address as nginx gave it; a client of the socket itself (the uploader) is "local"."""
    return environ.get("HTTP_X_REAL_IP") or "local"


class Handler(pywsgi.WSGIHandler):
    """pywsgi's handler, handing the app the raw target and the connection a websocket takes over."""

    def get_environ(self):
        environ = super().get_environ()
        environ["gate.target"] = self.path
        environ["gate.socket"] = self.socket
        environ["gate.rfile"] = self.rfile
        return environ

    def run_application(self):
        try:
            super().run_application()
        finally:
            if self.environ.get("gate.taken") or self.environ.get("gate.cut"):
                self.close_connection = True


def _describe(error: BaseException) -> str:
    reason = " ".join(str(error).split()) or type(error).__name__
    if getattr(error, "status", None) in (401, 403):
        reason += " (Moonraker judges the client's address: see trusted_clients in the README)"
    return reason


_PLAIN = re.compile(r"[\w.:/\[\]-]{1,80}")


def _shown(value: Optional[str]) -> str:
    """A client-chosen string made safe for one log line."""
    if value is not None and _PLAIN.fullmatch(value):
        return value
    return json.dumps(value if value is None else value[:80])


def _held_back(held: int) -> str:
    return f" ({held} more held back since the last such line)" if held else ""
